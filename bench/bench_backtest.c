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
 *   bench_backtest bars [--bars N] [--tape DIR | --save DIR] [--repeat R] [--model M]
 *       Writes N synthetic EURUSD M1 bid bars (a seeded random walk, one bar a
 *       minute, weekends closed) into a temporary tape (or uses DIR; --save
 *       keeps it in DIR and writes DIR.yaml, a scenario over it for timing
 *       the whole `ticktape backtest DIR.yaml --no-reports` process), then
 *       times, median of R passes each:
 *         read      the bar stream alone (tape reader, decoding);
 *         model     the bar model's source alone (reading + the price points);
 *         engine    the same through an engine with a no-op component;
 *         sma_cross backtest, SMA 10/30 on M1 under the model (default
 *                   ohlc_m1), no spread, no latency, equity every minute (at
 *                   most 200,000 kept, as the CLI), fingerprint on: what
 *                   `ticktape backtest` does with reports off;
 *       and prints bars/s.
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
#include "core/parse.h"
#include "sim/backtest.h"
#include "sim/bar_model.h"
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

/* The options of the throughput and bars commands, and the tape they run on:
 * the one given (--tape), a kept one to write (--save), or a temporary one. */
typedef struct tape_args {
    uint64_t want;       /* --ticks / --bars */
    const char *tape, *save, *model;
    int repeat;
    char tmp[32];
    int own;             /* tmp is ours to remove */
} tape_args;

static void tape_args_parse(tape_args *a, int argc, char **argv, const char *count)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], count) && i + 1 < argc)
            a->want = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--tape") && i + 1 < argc)
            a->tape = argv[++i];
        else if (!strcmp(argv[i], "--save") && i + 1 < argc)
            a->save = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            a->repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            a->model = argv[++i];
    }
    if (a->repeat < 1 || a->repeat > 50)
        a->repeat = 3;
}

/* 1 when a new tape must be written at a->tape, 0 when one was given. */
static int tape_args_place(tape_args *a)
{
    if (a->tape)
        return 0;
    if (a->save) {
        a->tape = a->save;
        return 1;
    }
    snprintf(a->tmp, sizeof a->tmp, "/tmp/tt_bench_bt_XXXXXX");
    if (!mkdtemp(a->tmp)) {
        perror("bench_backtest: mkdtemp");
        exit(1);
    }
    a->tape = a->tmp;
    a->own = 1;
    return 1;
}

static void tape_args_done(const tape_args *a)
{
    if (!a->own)
        return;
    if (tt_rmtree(a->tmp) != 0) /* no shell */
        fprintf(stderr, "could not remove %s\n", a->tmp);
}

static int cmd_throughput(int argc, char **argv)
{
    tape_args a = {.want = 5000000};
    tape_args_parse(&a, argc, argv, "--ticks");
    int repeat = a.repeat;
    tt_instruments *ins = tt_instruments_new();
    if (tape_args_place(&a)) {
        double t0 = now_s();
        uint64_t n = write_synth_tape(a.tape, a.want, ins);
        printf("tape: %llu synthetic EURUSD ticks written in %.2f s\n", (unsigned long long)n,
               now_s() - t0);
    }
    const char *tape = a.tape;
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
    tape_args_done(&a);
    tt_instruments_free(ins);
    return 0;
}

/* ---- bar models ---- */

/* N synthetic M1 bid bars into dir: a random walk of 1-point steps, 60 a
 * minute (so bars have ranges like real EURUSD minutes), open = the previous
 * close, Monday to Friday only. Deterministic (a fixed LCG). */
static uint64_t write_bar_tape(const char *dir, uint64_t want)
{
    tt_err err;
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "EURUSD");
    d.kind = TT_STREAM_BAR;
    d.tf = TT_TF_M1;
    d.side = TT_SIDE_BID;
    tt_tape_writer_opts wo = {.zstd_level = 3};
    tt_tape_writer *w;
    if (tt_tape_writer_open(&w, dir, &d, &wo, &err))
        die("tape writer", &err);
    uint64_t s = 1, n = 0;
    tt_price px = 114000;
    tt_ts t = tt_ts_from_civil(2000, 1, 3, 0, 0, 0, 0); /* a Monday */
    for (; n < want; t += TT_NS_PER_MIN) {
        int dow = (int)((t / TT_NS_PER_DAY + 3) % 7); /* 0 = Monday */
        if (dow >= 5)
            continue;
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.ts = t;
        ev.kind = TT_EV_BAR;
        tt_bar *b = &ev.u.bar;
        b->open = b->high = b->low = px;
        for (int k = 0; k < 60; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            px += (tt_price)((s >> 40) % 3) - 1;
            if (px < 100000) /* keep it near 1.14 over decades of minutes */
                px += 2;
            if (px > 130000)
                px -= 2;
            b->high = px > b->high ? px : b->high;
            b->low = px < b->low ? px : b->low;
        }
        b->close = px;
        b->ticks = 60;
        b->volume = 60;
        b->tf = TT_TF_M1;
        if (tt_tape_writer_append(w, &ev, &err))
            die("append", &err);
        n++;
    }
    if (tt_tape_writer_close(w, &err))
        die("close", &err);
    return n;
}

static uint64_t read_bars(const char *tape, const tt_instruments *ins)
{
    tt_err err;
    tt_tape_query q = {.kinds = 1u << TT_STREAM_BAR, .tf = TT_TF_M1, .side = TT_SIDE_BID};
    tt_tape_reader *r;
    if (tt_tape_reader_open(&r, tape, &q, ins, &err))
        die("tape", &err);
    tt_source src = tt_tape_reader_source(r);
    tt_event buf[64];
    uint64_t n = 0;
    int got, s;
    while ((s = src.next_batch(src.self, buf, 64, &got, &err)) == TT_SRC_EVENT)
        n += (uint64_t)got;
    if (s < 0)
        die("read", &err);
    tt_tape_reader_close(r);
    return n;
}

/* The model's events through an engine with a no-op component (engine != 0)
 * or drained by hand: what the source and the loop cost before any trading. */
static uint64_t model_points(const char *tape, const tt_instruments *ins, int model, int engine)
{
    tt_err err;
    tt_tape_query q = {.kinds = 1u << TT_STREAM_BAR, .tf = TT_TF_M1, .side = TT_SIDE_BID};
    tt_tape_reader *r;
    if (tt_tape_reader_open(&r, tape, &q, ins, &err))
        die("tape", &err);
    tt_bar_model_opts o = {.model = model, .seed = 1, .symbol = 1, .symbol_name = "EURUSD",
                           .source = 1};
    tt_bar_model_src *m;
    if (tt_bar_model_src_new_bars(&m, tt_tape_reader_source(r), (tt_source){0}, &o, &err))
        die("model", &err);
    tt_source src = tt_bar_model_src_source(m);
    if (engine) {
        tt_engine *e = tt_engine_new(ins);
        noop nop = {0};
        tt_engine_set_source(e, src);
        tt_component comp = {.self = &nop, .name = "noop", .on_event = noop_event};
        tt_engine_add_component(e, comp);
        if (tt_engine_run(e, &err))
            die("engine", &err);
        tt_engine_free(e);
    } else {
        tt_event buf[64];
        int got, s;
        while ((s = src.next_batch(src.self, buf, 64, &got, &err)) == TT_SRC_EVENT)
            ;
        if (s < 0)
            die("model", &err);
    }
    uint64_t bars = tt_bar_model_src_bars(m);
    tt_bar_model_src_free(m);
    tt_tape_reader_close(r);
    return bars;
}

static uint64_t bar_backtest(const char *tape, const tt_instruments *ins, int model,
                             uint64_t *trades, tt_fingerprint *fp)
{
    tt_backtest_config cfg;
    tt_backtest_config_default(&cfg);
    cfg.instruments = ins;
    cfg.symbols[0] = "EURUSD";
    cfg.tape_dir = tape;
    cfg.model = model;
    cfg.strategy = "sma_cross";
    cfg.params = "tf=M1 fast=10 slow=30 qty=10";
    cfg.seed = 1;
    cfg.equity_keep_max = 200000;
    cfg.skip_order_events = 1;
    /* 1,000,000.00 USD: trades to the end */
    cfg.venue.account.initial_balance = 100000000;
    tt_backtest_result r;
    tt_err err;
    if (tt_backtest_run(&cfg, &r, &err))
        die("backtest", &err);
    *trades = r.ntrades;
    *fp = r.fingerprint;
    uint64_t events = r.events;
    tt_backtest_result_free(&r);
    return events;
}

static void write_bar_scenario(const char *tape, const char *model)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.yaml", tape);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_backtest: cannot write %s\n", path);
        exit(1);
    }
    /* the tape path is written as given: run it from this directory */
    fprintf(f, "# written by bench_backtest bars: sma_cross 10/30 on M1 under %s\n"
               "name: bench-bars\nseed: 1\n"
               "data: {tape: %s, symbols: [EURUSD], model: %s}\n"
               "account: {currency: USD, balance: 1000000, leverage: 100}\n"
               "strategy: {name: sma_cross, params: {tf: M1, fast: 10, slow: 30, qty: 10}}\n",
            model, tape[0] == '/' ? tape : strrchr(tape, '/') ? strrchr(tape, '/') + 1 : tape,
            model);
    fclose(f);
    printf("scenario: %s (ticktape backtest %s --no-reports)\n", path, path);
}

static int cmd_bars(int argc, char **argv)
{
    tape_args a = {.want = 5000000, .model = "ohlc_m1"};
    tape_args_parse(&a, argc, argv, "--bars");
    const char *mname = a.model;
    int repeat = a.repeat, model;
    tt_err err;
    if (tt_parse_enum(mname, tt_bar_models, &model, &err) || model == TT_MODEL_REAL_TICKS) {
        fprintf(stderr, "bench_backtest: --model: every_tick, ohlc_m1 or open_prices\n");
        return 2;
    }
    tt_instruments *ins = tt_instruments_new();
    if (tape_args_place(&a)) {
        double t0 = now_s();
        uint64_t n = write_bar_tape(a.tape, a.want);
        printf("tape: %llu synthetic EURUSD M1 bars written in %.2f s\n", (unsigned long long)n,
               now_s() - t0);
        if (a.save)
            write_bar_scenario(a.save, mname);
    }
    const char *tape = a.tape;
    const char *names[] = {"read bars", "model points", "engine, no-op", "sma_cross"};
    double median[4];
    uint64_t bars = 0, trades = 0;
    tt_fingerprint fp = {0, 0};
    for (int which = 0; which < 4; which++) {
        double t[50];
        for (int k = 0; k < repeat; k++) {
            double t0 = now_s();
            if (which == 0)
                bars = read_bars(tape, ins);
            else if (which == 1 || which == 2)
                model_points(tape, ins, model, which == 2);
            else
                bar_backtest(tape, ins, model, &trades, &fp);
            t[k] = now_s() - t0;
        }
        qsort(t, (size_t)repeat, sizeof t[0], cmp_double);
        median[which] = t[repeat / 2];
    }
    char hex[33];
    tt_fingerprint_hex(fp, hex);
    printf("model %s, %llu bars, sma_cross: %llu trades, fingerprint %s\n", mname,
           (unsigned long long)bars, (unsigned long long)trades, hex);
    printf("%-16s %10s %14s\n", "run", "seconds", "bars/s");
    for (int i = 0; i < 4; i++)
        printf("%-16s %10.3f %14.0f\n", names[i], median[i], (double)bars / median[i]);
    tape_args_done(&a);
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
    if (argc >= 2 && !strcmp(argv[1], "bars"))
        return cmd_bars(argc - 2, argv + 2);
    fprintf(stderr, "usage: bench_backtest throughput [--ticks N] [--tape DIR | --save DIR] [--repeat R]\n"
                    "       bench_backtest bars [--bars N] [--tape DIR | --save DIR] [--repeat R] "
                    "[--model M]\n"
                    "       bench_backtest rss YEARS [--interval TF] [--rate R] [--keep N] "
                    "[--trades-keep N]\n");
    return 2;
}
