/*
 * MT5 bridge latency (docs/benchmarks.md, section "Live trading through MT5").
 *
 *   bench_mt5 [--tape DIR] [--rates 100,1000,10000] [--seconds S] [--every K]
 *             [--journal DIR] [--spin US] [--json]
 *
 * Quote at the terminal to order request at the terminal, over loopback:
 * the terminal stand-in (live/mt5_term.h) streams the EURUSD sample at a
 * fixed rate of quotes per second; ticktape's side is the live session's
 * path (link thread decodes the TICK, the MT5 venue pushes the quote into
 * the inbox, the engine dispatches it, a strategy component answers every
 * K-th quote with a market order, the venue checks it against the symbol's
 * spec and writes the ORDER frame); the stand-in notes when each TICK was
 * written and each ORDER read. The n-th order answers the (K x n)-th quote
 * (checked: no quote may be dropped on the way), so each order is measured
 * from the very quote that caused it, not from the latest one sent.
 *
 * With --journal DIR every input is journaled as in `ticktape live`:
 * venue responses on disk before the engine acts on them, and the journal
 * flushed before each order leaves (so a crash can never lose the input
 * behind an order that reached the broker).
 *
 * Percentiles are exact (sorted samples).
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/io.h"
#include "core/order.h"
#include "core/portfolio.h"
#include "live/journal.h"
#include "live/mt5_term.h"
#include "live/mt5_venue.h"
#include "live/wallclock.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, size_t n, double p)
{
    if (!n)
        return NAN;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    return (double)v[i ? i - 1 : 0] / 1000.0;
}

typedef struct strat {
    uint32_t eur;
    uint64_t quotes, next_id;
    int every, side;
} strat;

static void strat_event(void *self, tt_engine *e, const tt_event *ev)
{
    strat *s = self;
    if (ev->kind != TT_EV_QUOTE || ev->symbol != s->eur || ++s->quotes % (uint64_t)s->every)
        return;
    tt_event cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = TT_EV_ORDER_CMD;
    cmd.symbol = s->eur;
    tt_order_cmd *c = &cmd.u.order_cmd;
    c->client_id = ++s->next_id;
    c->cmd = TT_CMD_SUBMIT;
    c->qty = 10;
    c->type = TT_ORD_MARKET;
    c->tif = TT_TIF_IOC;
    c->side = (int8_t)(s->side = -s->side);
    tt_engine_submit(e, &cmd, NULL);
}

typedef struct run_ctx {
    tt_engine *e;
    tt_mt5_term *t;
    tt_journal *j;
    int rc;
} run_ctx;

static void *engine_main(void *arg)
{
    run_ctx *r = arg;
    tt_err err;
    r->rc = tt_engine_run(r->e, &err);
    if (r->rc)
        fprintf(stderr, "bench_mt5: engine: %s\n", err.msg);
    return NULL;
}

static void *term_main(void *arg)
{
    run_ctx *r = arg;
    tt_err err;
    if (tt_mt5_term_run(r->t, &err))
        fprintf(stderr, "bench_mt5: terminal: %s\n", err.msg);
    return NULL;
}

static void before_send(void *ctx)
{
    run_ctx *r = ctx;
    if (r->j)
        tt_journal_flush(r->j, NULL);
}

static int bench_rate(const char *tape, double rate, double seconds, int every,
                      const char *journal, int64_t spin_ns, int json)
{
    tt_instruments *ins = tt_instruments_new();
    tt_wallclock clk;
    tt_wallclock_init(&clk);
    run_ctx r;
    memset(&r, 0, sizeof r);
    tt_err err;
    char jdir[4200] = "";
    if (journal) {
        snprintf(jdir, sizeof jdir, "%s/rate-%.0f-%d", journal, rate, (int)getpid());
        tt_journal_opts jo = {.background = 1};
        if (tt_journal_open(&r.j, jdir, ins, &jo, &err)) {
            fprintf(stderr, "bench_mt5: %s\n", err.msg);
            return 1;
        }
    }
    tt_inbox_opts io;
    memset(&io, 0, sizeof io);
    io.clock = &clk;
    io.spin_ns = spin_ns;
    if (r.j)
        io.tap = tt_journal_sink_sync(r.j);
    tt_inbox *q;
    tt_inbox_new(&q, &io, &err);
    static const char *const syms[] = {"EURUSD", NULL};
    tt_mt5_venue_opts vo;
    memset(&vo, 0, sizeof vo);
    vo.ins = ins;
    vo.inbox = q;
    vo.host = "127.0.0.1";
    vo.secret = "bench-secret";
    vo.symbols = syms;
    vo.mode = TT_MODE_NETTING;
    vo.before_send = before_send;
    vo.ctx = &r;
    tt_mt5_venue *v;
    if (tt_mt5_venue_new(&v, &vo, &err) || tt_mt5_venue_start(v, &err)) {
        fprintf(stderr, "bench_mt5: %s\n", err.msg);
        return 1;
    }
    strat s = {tt_instruments_find(ins, "EURUSD")->id, 0, 0, every, 1};
    r.e = tt_engine_new(ins);
    tt_engine_set_source(r.e, tt_inbox_source(q));
    tt_engine_set_clock(r.e, tt_inbox_clock(q));
    tt_engine_set_venue(r.e, tt_mt5_venue_port(v));
    tt_component c;
    memset(&c, 0, sizeof c);
    c.self = &s;
    c.name = "bench";
    c.on_event = strat_event;
    tt_engine_add_component(r.e, c);
    tt_inbox_watch(q, r.e);
    tt_inbox_push_control(q, TT_CTL_START, 0);
    tt_mt5_term_opts to;
    memset(&to, 0, sizeof to);
    to.host = "127.0.0.1";
    to.port = tt_mt5_venue_listen_port(v);
    to.secret = "bench-secret";
    to.tape_dir = tape;
    to.rate = rate;
    to.record_times = 1;
    tt_mt5_sim_config_default(&to.account);
    to.account.balance = 100000000; /* 1,000,000.00: never short of margin */
    if (tt_mt5_term_new(&r.t, &to, &err)) {
        fprintf(stderr, "bench_mt5: %s\n", err.msg);
        return 1;
    }
    pthread_t eth, tth;
    pthread_create(&eth, NULL, engine_main, &r);
    pthread_create(&tth, NULL, term_main, &r);
    struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
    nanosleep(&ts, NULL);
    tt_mt5_term_stop(r.t);
    pthread_join(tth, NULL);
    struct timespec settle = {0, 200000000};
    nanosleep(&settle, NULL);
    tt_inbox_stop(q);
    pthread_join(eth, NULL);

    const tt_mt5_term_stats *st = tt_mt5_term_stats_get(r.t);
    tt_inbox_stats is;
    tt_inbox_stats_get(q, &is);
    size_t n = st->norder_ns;
    int64_t *lat = calloc(n + 1, sizeof *lat);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t tick = (i + 1) * (size_t)every; /* the order's quote, 1-based */
        if (tick <= st->ntick_ns)
            lat[k++] = st->order_ns[i] - st->tick_ns[tick - 1];
    }
    qsort(lat, k, sizeof *lat, cmp_i64);
    int exact = is.dropped == 0;
    if (json)
        printf("{\"bench\":\"mt5\",\"rate\":%.0f,\"every\":%d,\"journal\":%s,\"quotes\":%" PRIu64
               ",\"orders\":%zu,\"dropped\":%" PRIu64 ",\"p50_us\":%.1f,\"p99_us\":%.1f,"
               "\"p999_us\":%.1f,\"max_us\":%.1f}\n",
               rate, every, journal ? "true" : "false", st->ticks_sent, k, is.dropped,
               pct(lat, k, 50), pct(lat, k, 99), pct(lat, k, 99.9), pct(lat, k, 100));
    else
        printf("%9.0f/s %s  quotes %8" PRIu64 "  orders %6zu  dropped %" PRIu64
               "  p50 %7.1f us  p99 %7.1f us  p99.9 %8.1f us  max %8.1f us%s\n",
               rate, journal ? "journal" : "       ", st->ticks_sent, k, is.dropped,
               pct(lat, k, 50), pct(lat, k, 99), pct(lat, k, 99.9), pct(lat, k, 100),
               exact ? "" : "  (quotes dropped: matching inexact)");
    free(lat);
    tt_mt5_term_free(r.t);
    tt_engine_free(r.e);
    tt_mt5_venue_free(v);
    tt_inbox_free(q);
    if (r.j)
        tt_journal_close(r.j, NULL);
    if (jdir[0] && tt_rmtree(jdir)) {
        /* left behind: harmless (no shell: the path comes from TMPDIR) */
    }
    tt_instruments_free(ins);
    return 0;
}

int main(int argc, char **argv)
{
    const char *tape = "scenarios/data/eurusd-2019-02", *rates = "100,1000,10000";
    const char *journal = NULL;
    double seconds = 10, spin_us = 0;
    int every = 10, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if (val && !strcmp(a, "--tape")) {
            tape = val, i++;
        } else if (val && !strcmp(a, "--rates")) {
            rates = val, i++;
        } else if (val && !strcmp(a, "--seconds")) {
            seconds = atof(val), i++;
        } else if (val && !strcmp(a, "--every")) {
            every = atoi(val), i++;
        } else if (val && !strcmp(a, "--journal")) {
            journal = val, i++;
        } else if (val && !strcmp(a, "--spin")) {
            spin_us = atof(val), i++;
        } else {
            fprintf(stderr, "usage: bench_mt5 [--tape DIR] [--rates 100,1000,10000] [--seconds S] "
                            "[--every K] [--journal DIR] [--spin US] [--json]\n");
            return 2;
        }
    }
    if (every < 1 || seconds <= 0)
        return 2;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", rates);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (bench_rate(tape, atof(t), seconds, every, journal, (int64_t)(spin_us * 1000), json))
            return 1;
    return 0;
}
