/*
 * Live-path latency benchmarks (docs/benchmarks.md, section "Live feeds").
 *
 *   bench_live t2t --nats URL [--rates 1000,10000,100000] [--seconds S] [--spin-us US]
 *                  [--baseline] [--journal DIR]
 *       Tick-to-trade on loopback: a publisher thread sends TickData on
 *       ticks.EURUSD at a fixed rate; the paper pipeline (NATS source ->
 *       inbox -> engine with the watermark clock -> NATS sink, SendAsap) runs
 *       a minimal strategy component that answers every 10th tick with a
 *       LIMIT order at that tick's bid; a subscriber on orders.pending.> in
 *       this process decodes the order and measures from the moment the tick
 *       was handed to nats.c to the moment the order arrived: the whole wire
 *       round trip through nats-server twice, the decode, the queue, the
 *       engine and the sink. The bid carries the tick number, which is how
 *       an order is matched to its tick.
 *
 *       With --journal DIR every input is journaled first, as in a paper
 *       session (the tape writer compresses a block every 4096 ticks on the
 *       engine thread). With --baseline, the same is measured without ticktape: a plain nats.c
 *       subscriber answers each 10th tick with the same order message from its
 *       callback ("nats-rt": the wire's own share of the figure).
 *
 *   bench_live engine TAPE
 *       The engine's own per-tick latency with the full backtest assembly
 *       (simulated venue, bar builder, strategy runner with portfolio, order
 *       manager and risk gate, strategy sma_cross M1 10/30) over a tape: the
 *       time from the source handing an event to the engine until the engine
 *       asks for the next one, i.e. everything the engine does for that tick.
 *
 * Percentiles are exact (sorted samples). Prints a table and, with --json,
 * one JSON object per line.
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/tape.h"
#include "live/inbox.h"
#include "live/journal.h"
#include "live/nats_sink.h"
#include "live/nats_source.h"
#include "live/wallclock.h"
#include "live/wire.h"
#include "sim/backtest.h"

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
    if (i > 0)
        i--;
    if (i >= n)
        i = n - 1;
    return (double)v[i] / 1000.0; /* us */
}

static void report(const char *what, double rate, int64_t *v, size_t n, size_t expected, int json)
{
    qsort(v, n, sizeof *v, cmp_i64);
    if (json)
        printf("{\"bench\":\"%s\",\"rate\":%.0f,\"samples\":%zu,\"expected\":%zu,\"p50_us\":%.2f,"
               "\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f}\n",
               what, rate, n, expected, pct(v, n, 50), pct(v, n, 99), pct(v, n, 99.9),
               n ? (double)v[n - 1] / 1000.0 : NAN);
    else
        printf("%-8s %8.0f/s  samples %7zu/%-7zu  p50 %8.2f us  p99 %8.2f us  p99.9 %8.2f us  "
               "max %9.2f us\n",
               what, rate, n, expected, pct(v, n, 50), pct(v, n, 99), pct(v, n, 99.9),
               n ? (double)v[n - 1] / 1000.0 : NAN);
}

/* ---- tick to trade ---- */

#define BASE_BID 100000

typedef struct t2t {
    const tt_instruments *ins;
    uint32_t sym;
    int64_t *sent;           /* mono ns at publish, by tick number */
    int64_t *lat;            /* samples */
    atomic_size_t nlat;
    size_t ticks;
    double rate;
    const char *url;
    atomic_int pub_done;
    tt_inbox *q;
    tt_source inner;         /* the inbox source, wrapped to time the engine */
    int64_t delivered_at;    /* mono ns when the current input left the inbox */
    int64_t *eng;            /* in-engine samples: input handed out -> order at the sink */
    size_t neng;
    tt_sink nats;            /* the NATS sink, wrapped */
} t2t;

static int timed_inbox_next(void *self, tt_event *ev, tt_err *err)
{
    t2t *b = self;
    int rc = b->inner.next(b->inner.self, ev, err);
    if (rc == TT_SRC_EVENT)
        b->delivered_at = tt_mono_ns();
    return rc;
}

static int timed_sink_write(void *self, const tt_event *ev, tt_err *err)
{
    t2t *b = self;
    if (ev->kind == TT_EV_ORDER_CMD && b->neng < b->ticks)
        b->eng[b->neng++] = tt_mono_ns() - b->delivered_at;
    return b->nats.write(b->nats.self, ev, err);
}

static int timed_sink_flush(void *self, tt_err *err)
{
    t2t *b = self;
    return b->nats.flush(b->nats.self, err);
}

/* The minimal strategy: every 10th tick, a LIMIT buy at its bid. */
static void strat_on_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)self;
    if (ev->kind != TT_EV_QUOTE || (ev->u.quote.bid - BASE_BID) % 10)
        return;
    tt_event c;
    memset(&c, 0, sizeof c);
    c.kind = TT_EV_ORDER_CMD;
    c.symbol = ev->symbol;
    c.u.order_cmd.client_id = (uint64_t)(ev->u.quote.bid - BASE_BID) + 1;
    c.u.order_cmd.cmd = TT_CMD_SUBMIT;
    c.u.order_cmd.type = TT_ORD_LIMIT;
    c.u.order_cmd.side = TT_BUY;
    c.u.order_cmd.qty = 1000;
    c.u.order_cmd.price = ev->u.quote.bid;
    tt_engine_emit(e, &c);
}

/* Baseline without ticktape's pipeline: a plain subscriber that answers every
 * 10th tick with the same order message, straight from nats.c's callback. */
typedef struct relay {
    t2t *b;
    natsConnection *out;
} relay;

static void on_relay(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    relay *r = closure;
    tt_event ev;
    tt_err err;
    if (!tt_wire_tick_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), r->b->ins,
                             &ev, &err) &&
        (ev.u.quote.bid - BASE_BID) % 10 == 0) {
        tt_event c;
        memset(&c, 0, sizeof c);
        c.kind = TT_EV_ORDER_CMD;
        c.symbol = ev.symbol;
        c.u.order_cmd.price = ev.u.quote.bid;
        uint8_t buf[TT_WIRE_MSG_MAX];
        size_t len = tt_wire_output_encode(r->b->ins, &c, buf, sizeof buf);
        natsConnection_Publish(r->out, "orders.pending.EURUSD", buf, (int)len);
    }
    natsMsg_Destroy(m);
}

static void on_order(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    int64_t now = tt_mono_ns();
    t2t *b = closure;
    tt_event ev;
    tt_err err;
    if (!tt_wire_order_cmd_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &ev,
                                  &err)) {
        int64_t i = ev.u.order_cmd.price - BASE_BID;
        if (i >= 0 && (size_t)i < b->ticks && b->sent[i]) {
            size_t k = atomic_fetch_add(&b->nlat, 1);
            if (k < b->ticks)
                b->lat[k] = now - b->sent[i];
        }
    }
    natsMsg_Destroy(m);
}

/* Sleep while far from t (so the publisher does not take a core from the
 * pipeline on a small machine), spin the last 150 us for an even pace. */
static void wait_until(int64_t t)
{
    for (;;) {
        int64_t d = t - tt_mono_ns();
        if (d <= 0)
            return;
        if (d > 200 * TT_NS_PER_US) {
            struct timespec ts = {0, (long)(d - 150 * TT_NS_PER_US)};
            nanosleep(&ts, NULL);
        }
    }
}

static void *publisher(void *arg)
{
    t2t *b = arg;
    natsOptions *o;
    natsConnection *nc;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, b->url);
    natsOptions_SetSendAsap(o, true); /* one tick, one write: what a collector does */
    if (natsConnection_Connect(&nc, o) != NATS_OK) {
        fprintf(stderr, "bench_live: publisher cannot connect to %s\n", b->url);
        atomic_store(&b->pub_done, 1);
        return NULL;
    }
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_QUOTE;
    ev.symbol = b->sym;
    int64_t start = tt_mono_ns() + 10 * TT_NS_PER_MS;
    for (size_t i = 0; i < b->ticks; i++) {
        wait_until(start + (int64_t)((double)i * 1e9 / b->rate));
        ev.ts = (1549267200000LL + (int64_t)i) * TT_NS_PER_MS;
        ev.u.quote.bid = BASE_BID + (tt_price)i;
        ev.u.quote.ask = ev.u.quote.bid + 2;
        uint8_t buf[128];
        size_t len = tt_wire_tick_encode(b->ins, &ev, buf, sizeof buf);
        b->sent[i] = tt_mono_ns();
        natsConnection_Publish(nc, "ticks.EURUSD", buf, (int)len);
    }
    natsConnection_FlushTimeout(nc, 10000);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    atomic_store(&b->pub_done, 1);
    return NULL;
}

static void *stopper(void *arg)
{
    t2t *b = arg;
    while (!atomic_load(&b->pub_done)) {
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    struct timespec ts = {0, 300000000L}; /* the last orders cross the loopback */
    nanosleep(&ts, NULL);
    tt_inbox_stop(b->q);
    return NULL;
}

static int run_relay(const char *url, double rate, double seconds, int json)
{
    tt_instruments *ins = tt_instruments_new();
    t2t b;
    memset(&b, 0, sizeof b);
    b.ins = ins;
    b.sym = tt_instruments_find(ins, "EURUSD")->id;
    b.rate = rate;
    b.url = url;
    b.ticks = (size_t)(rate * seconds);
    b.sent = calloc(b.ticks, sizeof *b.sent);
    b.lat = calloc(b.ticks, sizeof *b.lat);
    natsOptions *o;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, url);
    natsOptions_SetSendAsap(o, true);
    natsConnection *in_nc = NULL, *out_nc = NULL, *sub_nc = NULL;
    natsSubscription *in_sub = NULL, *sub = NULL;
    relay r = {&b, NULL};
    int rc = 1;
    if (natsConnection_Connect(&out_nc, o) != NATS_OK ||
        natsConnection_ConnectTo(&in_nc, url) != NATS_OK ||
        natsConnection_ConnectTo(&sub_nc, url) != NATS_OK)
        goto out;
    r.out = out_nc;
    if (natsConnection_Subscribe(&in_sub, in_nc, "ticks.>", on_relay, &r) != NATS_OK ||
        natsConnection_Subscribe(&sub, sub_nc, "orders.pending.>", on_order, &b) != NATS_OK ||
        natsConnection_Flush(in_nc) != NATS_OK || natsConnection_Flush(sub_nc) != NATS_OK)
        goto out;
    pthread_t pt;
    pthread_create(&pt, NULL, publisher, &b);
    pthread_join(pt, NULL);
    struct timespec ts = {0, 300000000L};
    nanosleep(&ts, NULL);
    size_t n = atomic_load(&b.nlat);
    report("nats-rt", rate, b.lat, n > b.ticks ? b.ticks : n, (b.ticks + 9) / 10, json);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "bench_live: relay: cannot connect to %s\n", url);
    if (in_sub)
        natsSubscription_Destroy(in_sub);
    if (sub)
        natsSubscription_Destroy(sub);
    natsConnection *all[3] = {in_nc, out_nc, sub_nc};
    for (int i = 0; i < 3; i++)
        if (all[i]) {
            natsConnection_Close(all[i]);
            natsConnection_Destroy(all[i]);
        }
    natsOptions_Destroy(o);
    free(b.sent);
    free(b.lat);
    tt_instruments_free(ins);
    return rc;
}

static int run_t2t(const char *url, double rate, double seconds, int64_t spin_ns,
                   const char *journal_dir, int json)
{
    tt_instruments *ins = tt_instruments_new();
    t2t b;
    memset(&b, 0, sizeof b);
    b.ins = ins;
    b.sym = tt_instruments_find(ins, "EURUSD")->id;
    b.rate = rate;
    b.url = url;
    b.ticks = (size_t)(rate * seconds);
    b.sent = calloc(b.ticks, sizeof *b.sent);
    b.lat = calloc(b.ticks, sizeof *b.lat);
    b.eng = calloc(b.ticks, sizeof *b.eng);
    tt_wallclock clk;
    tt_wallclock_init(&clk);
    tt_err err;
    tt_inbox_opts io = {.clock = &clk, .spin_ns = spin_ns};
    tt_journal *jn = NULL;
    if (journal_dir) { /* as in a paper session: every input journaled first */
        char jd[4096];
        snprintf(jd, sizeof jd, "%s/t2t-%.0f-%lld", journal_dir, rate, (long long)tt_mono_ns());
        tt_journal_opts jo = {.background = 1};
        if (tt_journal_open(&jn, jd, ins, &jo, &err)) {
            fprintf(stderr, "bench_live: %s\n", err.msg);
            return 1;
        }
        io.tap = tt_journal_sink(jn);
    }
    tt_nats_source *src = NULL;
    tt_nats_sink *sink = NULL;
    natsConnection *sub_nc = NULL;
    natsSubscription *sub = NULL;
    int rc = 1;
    if (tt_inbox_new(&b.q, &io, &err))
        goto out;
    const char *subjects[] = {"ticks.>", NULL};
    tt_nats_source_opts so = {.url = url, .subjects = subjects, .ins = ins, .inbox = b.q};
    if (tt_nats_source_open(&src, &so, &err))
        goto out;
    tt_nats_sink_opts ko = {.url = url, .ins = ins, .send_asap = 1};
    if (tt_nats_sink_open(&sink, &ko, &err))
        goto out;
    if (natsConnection_ConnectTo(&sub_nc, url) != NATS_OK ||
        natsConnection_Subscribe(&sub, sub_nc, "orders.pending.>", on_order, &b) != NATS_OK ||
        natsConnection_Flush(sub_nc) != NATS_OK) {
        tt_err_set(&err, TT_ENET, "subscriber: cannot connect to %s", url);
        goto out;
    }
    tt_engine *e = tt_engine_new(ins);
    b.inner = tt_inbox_source(b.q);
    tt_engine_set_source(e, (tt_source){.self = &b, .next = timed_inbox_next});
    tt_engine_set_clock(e, tt_inbox_clock(b.q));
    tt_inbox_watch(b.q, e);
    tt_engine_add_component(e, (tt_component){.name = "strategy", .on_event = strat_on_event});
    b.nats = tt_nats_sink_sink(sink);
    tt_engine_add_sink(e, (tt_sink){.self = &b, .write = timed_sink_write,
                                    .flush = timed_sink_flush});
    pthread_t pt, st;
    pthread_create(&pt, NULL, publisher, &b);
    pthread_create(&st, NULL, stopper, &b);
    rc = tt_engine_run(e, &err) ? 1 : 0;
    pthread_join(pt, NULL);
    pthread_join(st, NULL);
    tt_engine_free(e);
    size_t n = atomic_load(&b.nlat);
    if (n > b.ticks)
        n = b.ticks;
    tt_inbox_stats is;
    tt_inbox_stats_get(b.q, &is);
    if (is.dropped)
        fprintf(stderr, "bench_live: %llu ticks dropped by the inbox\n",
                (unsigned long long)is.dropped);
    report("t2t", rate, b.lat, n, (b.ticks + 9) / 10, json);
    report("in-eng", rate, b.eng, b.neng, (b.ticks + 9) / 10, json);
out:
    if (rc)
        fprintf(stderr, "bench_live: %s\n", err.msg);
    if (sub)
        natsSubscription_Destroy(sub);
    if (sub_nc) {
        natsConnection_Close(sub_nc);
        natsConnection_Destroy(sub_nc);
    }
    tt_nats_sink_close(sink);
    tt_nats_source_close(src);
    tt_inbox_free(b.q);
    if (jn)
        tt_journal_close(jn, NULL);
    free(b.sent);
    free(b.lat);
    free(b.eng);
    tt_instruments_free(ins);
    return rc;
}

/* ---- the engine's own per-tick latency ---- */

typedef struct timed_src {
    tt_source inner;
    int64_t last;      /* mono ns when the previous event was handed out */
    int last_quote;
    int64_t *lat;
    size_t n, cap;
} timed_src;

static int timed_next(void *self, tt_event *ev, tt_err *err)
{
    timed_src *t = self;
    int64_t now = tt_mono_ns();
    if (t->last && t->last_quote && t->n < t->cap)
        t->lat[t->n++] = now - t->last;
    int rc = t->inner.next(t->inner.self, ev, err);
    t->last_quote = rc == TT_SRC_EVENT && ev->kind == TT_EV_QUOTE;
    t->last = tt_mono_ns();
    return rc;
}

static int run_engine(const char *tape, int json)
{
    tt_instruments *ins = tt_instruments_new();
    tt_err err;
    tt_tape_reader *r = NULL;
    const char *syms[] = {"EURUSD", NULL};
    tt_tape_query q = {.symbols = syms};
    if (tt_tape_reader_open(&r, tape, &q, ins, &err)) {
        fprintf(stderr, "bench_live: %s\n", err.msg);
        tt_instruments_free(ins);
        return 1;
    }
    timed_src t = {.inner = tt_tape_reader_source(r), .cap = 1u << 22};
    t.inner.next_batch = NULL; /* one event at a time, as in live mode */
    t.lat = calloc(t.cap, sizeof *t.lat);
    tt_source src = {.self = &t, .next = timed_next};
    tt_backtest_config cfg;
    tt_backtest_config_default(&cfg);
    cfg.instruments = ins;
    cfg.symbols[0] = "EURUSD";
    cfg.source = &src;
    cfg.strategy = "sma_cross";
    cfg.params = "tf=M1 fast=10 slow=30 qty=10";
    tt_backtest_result res;
    memset(&res, 0, sizeof res);
    int rc = tt_backtest_run(&cfg, &res, &err);
    if (rc)
        fprintf(stderr, "bench_live: %s\n", err.msg);
    else {
        report("engine", 0, t.lat, t.n, t.n, json);
        if (!json)
            printf("         (%llu events, %zu orders events, the full backtest assembly, "
                   "sma_cross M1 10/30)\n",
                   (unsigned long long)res.events, res.norders);
    }
    tt_backtest_result_free(&res);
    tt_tape_reader_close(r);
    free(t.lat);
    tt_instruments_free(ins);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_live t2t --nats URL [--rates 1000,10000,100000] "
                        "[--seconds S] [--spin-us US] [--baseline] [--journal DIR] [--json]\n       bench_live engine TAPE [--json]\n");
        return 2;
    }
    int json = 0;
    const char *url = NULL, *rates = "1000,10000,100000";
    double seconds = 5;
    int64_t spin_ns = 0;
    int baseline = 0;
    const char *journal_dir = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--nats") && i + 1 < argc)
            url = argv[++i];
        else if (!strcmp(argv[i], "--rates") && i + 1 < argc)
            rates = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--journal") && i + 1 < argc)
            journal_dir = argv[++i];
        else if (!strcmp(argv[i], "--baseline"))
            baseline = 1;
        else if (!strcmp(argv[i], "--spin-us") && i + 1 < argc)
            spin_ns = (int64_t)(atof(argv[++i]) * 1000.0);
    }
    if (!strcmp(argv[1], "engine"))
        return argc > 2 ? run_engine(argv[2], json) : 2;
    if (strcmp(argv[1], "t2t") || !url) {
        fprintf(stderr, "bench_live: t2t needs --nats URL\n");
        return 2;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", rates);
    int rc = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        rc |= run_t2t(url, atof(t), seconds, spin_ns, journal_dir, json) |
              (baseline ? run_relay(url, atof(t), seconds, json) : 0);
    return rc;
}
