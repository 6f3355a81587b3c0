/*
 * bench_backtest: what a backtest costs over replay alone, and how its memory
 * behaves with the span replayed. Figures and commands: docs/benchmarks.md
 * (section "run"); scripts/bench_backtest.sh runs the whole set.
 *
 *   bench_backtest throughput [--ticks N] [--tape DIR | --save DIR] [--repeat R]
 *       Writes N synthetic EURUSD ticks (GBM, sim/synth.h, seed 1) into a
 *       temporary tape (or uses DIR), then times, median of R passes each:
 *         replay    the tape through the engine with a no-op component;
 *         sma_cross backtest, SMA 10/30 crossover on M1 bid bars built from
 *                   the ticks (bars, indicators, venue, portfolio, risk, orders);
 *         tick      backtest, a tick-level strategy (below) that reads every
 *                   quote: an EMA of the mid and a band around it;
 *       and prints ticks/s and the cost relative to replay. --save DIR writes
 *       the synthetic tape into DIR (a new directory) and keeps it, so that
 *       later runs and profiles can replay the same ticks with --tape DIR.
 *
 *   bench_backtest rss YEARS [--interval TF] [--rate R] [--keep N] [--trades-keep N]
 *       One backtest of sma_cross over YEARS synthetic years (weekends closed,
 *       R ticks/s, default 0.5) straight from the generator (no tape), on a
 *       1,000,000 USD account so that it trades to the end, equity
 *       sampled every TF (default M1, at most N points kept, default 200000),
 *       order-event list off, trades kept in memory up to --trades-keep
 *       (default TT_BACKTEST_TRADES_KEEP; 0 = all) and past that in a
 *       temporary file mapped at the end. Prints the input events, the equity
 *       points kept, the trades and where they are (heap or mapped file), the
 *       peak RSS (getrusage) after the run and the time; then reads every
 *       trade, as a report writer would, and prints the peak RSS again
 *       (mapped trade pages count in RSS once touched, as clean page cache).
 *       Run it once per span, in a fresh process: peak RSS is per process.
 *
 * Times are CPU seconds of this process (clock_gettime(CLOCK_PROCESS_CPUTIME_ID)),
 * the benchmark's own business (the engine never reads a clock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/io.h"
#include "core/strategy.h"
#include "data/tape.h"
#include "sim/backtest.h"
#include "sim/synth.h"

/* CPU time of this process: the runs are single-threaded, and on a shared
 * machine CPU time is what the run cost, where wall time is also what the
 * neighbours did. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, const tt_err *err)
{
    fprintf(stderr, "bench_backtest: %s: %s\n", what, err->msg);
    exit(1);
}

/* ---- a tick-level strategy: EMA of the mid with a band, reads every quote ---- */

typedef struct tick_strat {
    uint32_t sym;
    double ema, alpha, band;
    int warm;
    int64_t qty;
} tick_strat;

static int tick_create(tt_strategy_ctx *c, void **state)
{
    tick_strat *s = calloc(1, sizeof *s);
    if (!s)
        return tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    int64_t n;
    double band_pips;
    int rc = tt_ctx_param_int(c, "n", 2000, 2, 10000000, &n);
    if (!rc)
        rc = tt_ctx_param_double(c, "band_pips", 3.0, 0.0, 1000.0, &band_pips);
    if (!rc)
        rc = tt_ctx_param_int(c, "qty", 10, 1, 1000000, &s->qty);
    if (rc) {
        free(s);
        return rc;
    }
    s->sym = tt_ctx_symbol_at(c, 0);
    const tt_instrument *ins = tt_ctx_instrument(c, s->sym);
    s->alpha = 2.0 / ((double)n + 1.0);
    s->band = band_pips * (double)(ins ? ins->pip : 10);
    *state = s;
    return 0;
}

static void tick_destroy(void *state) { free(state); }

static void tick_quote(void *state, tt_strategy_ctx *c, const tt_event *q)
{
    tick_strat *s = state;
    if (q->symbol != s->sym)
        return;
    double mid = (double)(q->u.quote.bid + q->u.quote.ask) * 0.5;
    if (!s->warm) {
        s->ema = mid;
        s->warm = 1;
        return;
    }
    s->ema += s->alpha * (mid - s->ema);
    int64_t pos = tt_ctx_position(c, s->sym);
    if (mid > s->ema + s->band && pos <= 0)
        tt_ctx_market(c, s->sym, s->qty - pos, 0, 0);
    else if (mid < s->ema - s->band && pos >= 0)
        tt_ctx_market(c, s->sym, -s->qty - pos, 0, 0);
}

static const tt_strategy_vtable TICK_STRATEGY = {
    .abi_version = TT_STRATEGY_ABI_VERSION,
    .struct_size = sizeof(tt_strategy_vtable),
    .name = "bench_tick",
    .summary = "EMA band on every quote (benchmark)",
    .params = "n=2000 band_pips=3 qty=10",
    .create = tick_create,
    .destroy = tick_destroy,
    .on_quote = tick_quote,
};

/* ---- replay alone ---- */

typedef struct noop {
    uint64_t n;
} noop;

static void noop_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e;
    (void)ev;
    ((noop *)self)->n++;
}

static uint64_t replay(const char *tape, const tt_instruments *ins)
{
    tt_err err;
    const char *syms[] = {"EURUSD", NULL};
    tt_tape_query q = {.symbols = syms};
    tt_tape_reader *r;
    if (tt_tape_reader_open(&r, tape, &q, ins, &err))
        die("tape", &err);
    tt_engine *e = tt_engine_new(ins);
    noop n = {0};
    tt_engine_set_source(e, tt_tape_reader_source(r));
    tt_component comp = {.self = &n, .name = "noop", .on_event = noop_event};
    tt_engine_add_component(e, comp);
    if (tt_engine_run(e, &err))
        die("replay", &err);
    uint64_t events = tt_engine_events(e);
    tt_engine_free(e);
    tt_tape_reader_close(r);
    return events;
}

static uint64_t backtest(const char *tape, const tt_instruments *ins, const char *strategy,
                         const tt_strategy_vtable *vt, const char *params, uint64_t *trades)
{
    tt_backtest_config cfg;
    tt_backtest_config_default(&cfg);
    cfg.instruments = ins;
    cfg.symbols[0] = "EURUSD";
    cfg.tape_dir = tape;
    cfg.strategy = strategy;
    cfg.strategy_vtable = vt;
    cfg.params = params;
    cfg.seed = 1;
    cfg.skip_order_events = 1;
    cfg.venue.commission = TT_COMM_PER_LOT;
    cfg.venue.commission_per_lot = 700;
    cfg.venue.latency_ns = 5 * TT_NS_PER_MS;
    tt_backtest_result r;
    tt_err err;
    if (tt_backtest_run(&cfg, &r, &err))
        die(strategy, &err);
    uint64_t ev = r.events;
    *trades = r.ntrades;
    tt_backtest_result_free(&r);
    return ev;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t write_synth_tape(const char *dir, uint64_t want, const tt_instruments *ins)
{
    tt_err err;
    tt_synth_config sc;
    tt_synth_config_init(&sc);
    /* ~2 ticks/s over open hours: pick the span that yields about `want` ticks */
    double days = (double)want / (2.0 * 86400.0 * 5.0 / 7.0);
    char to[64];
    tt_ts from = tt_ts_from_civil(2023, 1, 2, 0, 0, 0, 0);
    tt_ts end = from + (tt_ts)(days * (double)TT_NS_PER_DAY) + TT_NS_PER_DAY;
    snprintf(to, sizeof to, "%lldns", (long long)end);
    if (tt_synth_config_set(&sc, "from", "2023-01-02", &err) ||
        tt_synth_config_set(&sc, "to", to, &err))
        die("synth config", &err);
    tt_synth *s;
    if (tt_synth_open(&s, &sc, ins, &err))
        die("synth", &err);
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "EURUSD");
    d.kind = TT_STREAM_QUOTE;
    tt_tape_writer *w;
    if (tt_tape_writer_open(&w, dir, &d, NULL, &err))
        die("tape writer", &err);
    tt_event buf[1024];
    uint64_t n = 0;
    size_t k;
    while (n < want && (k = tt_synth_generate(s, buf, 1024)) > 0) {
        for (size_t i = 0; i < k && n < want; i++, n++)
            if (tt_tape_writer_append(w, &buf[i], &err))
                die("append", &err);
    }
    if (tt_tape_writer_close(w, &err))
        die("close", &err);
    tt_synth_close(s);
    return n;
}

static int cmd_throughput(int argc, char **argv)
{
    uint64_t want = 5000000;
    const char *tape = NULL, *save = NULL;
    int repeat = 3;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--ticks") && i + 1 < argc)
            want = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--tape") && i + 1 < argc)
            tape = argv[++i];
        else if (!strcmp(argv[i], "--save") && i + 1 < argc)
            save = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
    }
    if (repeat < 1 || repeat > 50)
        repeat = 3;
    tt_instruments *ins = tt_instruments_new();
    char tmp[] = "/tmp/tt_bench_bt_XXXXXX";
    int own = 0;
    if (!tape) {
        if (save) {
            tape = save;
        } else {
            if (!mkdtemp(tmp))
                return 1;
            tape = tmp;
            own = 1;
        }
        double t0 = now_s();
        uint64_t n = write_synth_tape(tape, want, ins);
        printf("tape: %llu synthetic EURUSD ticks written in %.2f s\n", (unsigned long long)n,
               now_s() - t0);
    }
    const char *names[] = {"replay alone", "sma_cross M1", "tick EMA band"};
    double median[3];
    uint64_t events[3] = {0}, trades[3] = {0};
    for (int which = 0; which < 3; which++) {
        double t[50];
        for (int k = 0; k < repeat; k++) {
            double t0 = now_s();
            if (which == 0)
                events[0] = replay(tape, ins);
            else if (which == 1)
                events[1] = backtest(tape, ins, "sma_cross", NULL, "tf=M1 fast=10 slow=30 qty=10",
                                     &trades[1]);
            else
                events[2] = backtest(tape, ins, "bench_tick", &TICK_STRATEGY,
                                     "n=2000 band_pips=3 qty=10", &trades[2]);
            t[k] = now_s() - t0;
        }
        qsort(t, (size_t)repeat, sizeof t[0], cmp_double);
        median[which] = t[repeat / 2];
    }
    printf("%-16s %12s %10s %14s %8s %8s\n", "run", "events", "seconds", "ticks/s", "x replay",
           "trades");
    for (int i = 0; i < 3; i++)
        printf("%-16s %12llu %10.3f %14.0f %8.2f %8llu\n", names[i],
               (unsigned long long)events[i], median[i], (double)events[0] / median[i],
               median[i] / median[0], (unsigned long long)trades[i]);
    if (own) {
        if (tt_rmtree(tmp) != 0) /* no shell */
            fprintf(stderr, "could not remove %s\n", tmp);
    }
    tt_instruments_free(ins);
    return 0;
}

static int cmd_rss(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: bench_backtest rss YEARS [--interval TF] [--rate R] [--keep N] "
                        "[--trades-keep N]\n");
        return 2;
    }
    int years = atoi(argv[0]);
    const char *interval = "M1";
    const char *rate = "0.5";
    size_t keep = 200000; /* the CLI's default (metrics.equity_points); 0 = keep all */
    size_t trades_keep = TT_BACKTEST_TRADES_KEEP; /* 0 = all in memory */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--interval") && i + 1 < argc)
            interval = argv[++i];
        else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
            keep = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--trades-keep") && i + 1 < argc)
            trades_keep = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = argv[++i];
    }
    tt_err err;
    tt_instruments *ins = tt_instruments_new();
    tt_synth_config sc;
    tt_synth_config_init(&sc);
    char to[32];
    snprintf(to, sizeof to, "%d-01-01", 2010 + years);
    if (tt_synth_config_set(&sc, "from", "2010-01-01", &err) ||
        tt_synth_config_set(&sc, "to", to, &err) ||
        tt_synth_config_set(&sc, "tick_rate", rate, &err))
        die("synth config", &err);
    tt_source src;
    void *handle;
    if (tt_synth_source_open(&sc, ins, &src, &handle, &err))
        die("synth", &err);
    tt_backtest_config cfg;
    tt_backtest_config_default(&cfg);
    cfg.instruments = ins;
    cfg.symbols[0] = "EURUSD";
    cfg.source = &src;
    cfg.strategy = "sma_cross";
    cfg.params = "tf=M1 fast=10 slow=30 qty=10";
    cfg.seed = 1;
    cfg.skip_order_events = 1;
    cfg.equity_interval = tt_timeframe_ns(tt_timeframe_parse(interval));
    cfg.equity_keep_max = keep;
    cfg.trades_keep_max = trades_keep;
    /* 1,000,000.00 USD: a losing random-walk crossover must not go broke and
     * stop trading halfway, or the later years would cost less than the first */
    cfg.venue.account.initial_balance = 100000000;
    tt_backtest_result r;
    double t0 = now_s();
    if (tt_backtest_run(&cfg, &r, &err))
        die("backtest", &err);
    double secs = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* then read every trade, as the report writers do */
    tt_money net = 0;
    for (size_t i = 0; i < r.ntrades; i++)
        net += r.trades[i].net;
    struct rusage ru2;
    getrusage(RUSAGE_SELF, &ru2);
    printf("years %d  interval %s  events %llu  equity_points %zu  trades %zu (%s)  "
           "peak_rss_mib %.1f  seconds %.1f  ticks/s %.0f  "
           "peak_rss_mib_after_reading_trades %.1f  (net %lld)\n",
           years, interval, (unsigned long long)r.events, r.nequity, r.ntrades,
           r.trades_map_len ? "mapped file" : "heap", (double)ru.ru_maxrss / 1024.0, secs,
           (double)r.events / secs, (double)ru2.ru_maxrss / 1024.0, (long long)net);
    tt_backtest_result_free(&r);
    tt_synth_source_close(handle);
    tt_instruments_free(ins);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "throughput"))
        return cmd_throughput(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "rss"))
        return cmd_rss(argc - 2, argv + 2);
    fprintf(stderr, "usage: bench_backtest throughput [--ticks N] [--tape DIR | --save DIR] [--repeat R]\n"
                    "       bench_backtest rss YEARS [--interval TF] [--rate R] [--keep N] "
                    "[--trades-keep N]\n");
    return 2;
}
