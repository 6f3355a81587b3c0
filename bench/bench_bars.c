/*
 * bench_bars: the cost per tick of the bar builder and per update of each
 * streaming indicator, measured in isolation (no tape decoding).
 *
 * Input: N synthetic EURUSD-like quotes in memory (a seeded random walk in
 * points, 1 to 400 ms apart, so an M1 bar holds ~300 ticks as on a busy
 * Dukascopy hour). Measured:
 *   - one tt_bar_builder (M1 bid; M1 mid; MN1 bid) fed every quote;
 *   - ten builders (S1 .. MN1, bid) fed every quote;
 *   - the engine with the tt_bars component (7 subscriptions M1..D1, timers on)
 *     against the same engine without it: the difference is the component's cost;
 *   - each indicator updated once per quote (bars' indicators get high/low/close).
 * Each figure is the best of --repeat runs (default 3), in ns per tick/update.
 *
 * usage: bench_bars [--ticks N] [--repeat R] [--json]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bars.h"
#include "core/engine.h"
#include "core/indicators.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static volatile double g_sink; /* keeps results alive */

typedef struct result {
    const char *name;
    double ns;
} result;

static result results[64];
static int nresults;

static void record(const char *name, double ns)
{
    results[nresults].name = name;
    results[nresults].ns = ns;
    nresults++;
}

/* ---- builders ---- */

static double run_builders(const tt_event *q, long n, const int *tfs, int ntf, int side)
{
    tt_bar_builder b[TT_TF_COUNT];
    for (int i = 0; i < ntf; i++)
        tt_bar_builder_init(&b[i], 0, tfs[i], side, NULL);
    tt_event out;
    uint64_t bars = 0;
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        for (int k = 0; k < ntf; k++)
            bars += (uint64_t)tt_bar_builder_update(&b[k], &q[i], &out, NULL);
    double t = now_s() - t0;
    g_sink += (double)bars;
    return t * 1e9 / (double)n;
}

/* ---- engine ---- */

typedef struct array_source {
    const tt_event *ev;
    long n, i;
} array_source;

static int array_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    array_source *s = self;
    if (s->i == s->n)
        return TT_SRC_END;
    *ev = s->ev[s->i++];
    return TT_SRC_EVENT;
}

static void count_bar(void *ctx, tt_engine *e, const tt_event *bar)
{
    (void)e;
    *(uint64_t *)ctx += bar->u.bar.ticks;
}

static double run_engine(const tt_event *q, long n, int with_bars)
{
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    array_source src = {q, n, 0};
    tt_engine_set_source(e, (tt_source){.self = &src, .next = array_next});
    tt_bars *bars = NULL;
    uint64_t ticks = 0;
    if (with_bars) {
        tt_bar_sub subs[7];
        for (int i = 0; i < 7; i++) {
            subs[i].symbol = 1;
            subs[i].tf = (uint8_t)(TT_TF_M1 + i); /* M1 M5 M15 M30 H1 H4 D1 */
            subs[i].side = TT_SIDE_BID;
        }
        tt_bars_new(&bars, subs, 7, NULL, NULL);
        tt_bars_listen(bars, count_bar, &ticks);
        tt_engine_add_component(e, tt_bars_component(bars));
    }
    tt_err err;
    double t0 = now_s();
    tt_engine_run(e, &err);
    double t = now_s() - t0;
    g_sink += (double)ticks + (double)tt_engine_outputs(e);
    tt_bars_free(bars);
    tt_engine_free(e);
    tt_instruments_free(ins);
    return t * 1e9 / (double)n;
}

/* ---- indicators ---- */

enum { I_SMA, I_EMA, I_WMA, I_STD, I_Z, I_BB, I_RSI, I_ATR, I_MACD, I_STOCH, I_ADX, I_DON,
       I_VWAP, I_COUNT };
static const char *ind_names[I_COUNT] = {
    "SMA(20)", "EMA(20)", "WMA(20)", "rolling std(20)", "z-score(20)", "Bollinger(20,2)",
    "RSI(14)", "ATR(14)", "MACD(12,26,9)", "Stochastic(14,3,3)", "ADX(14)", "Donchian(20)",
    "VWAP(D1)"};

static double run_indicator(int which, const double *x, const double *h, const double *l,
                            const tt_ts *ts, long n)
{
    double acc = 0, t0 = 0, t = 0;
#define LOOP(init, upd, fin)                                                                   \
    do {                                                                                       \
        init;                                                                                  \
        t0 = now_s();                                                                          \
        for (long i = 0; i < n; i++)                                                           \
            acc += upd;                                                                        \
        t = now_s() - t0;                                                                      \
        fin;                                                                                   \
    } while (0)
    switch (which) {
    case I_SMA: {
        tt_sma s;
        LOOP(tt_sma_init(&s, 20, NULL), tt_sma_update(&s, x[i]), tt_sma_free(&s));
        break;
    }
    case I_EMA: {
        tt_ema s;
        LOOP(tt_ema_init(&s, 20, NULL), tt_ema_update(&s, x[i]), (void)0);
        break;
    }
    case I_WMA: {
        tt_wma s;
        LOOP(tt_wma_init(&s, 20, NULL), tt_wma_update(&s, x[i]), tt_wma_free(&s));
        break;
    }
    case I_STD: {
        tt_rstd s;
        LOOP(tt_rstd_init(&s, 20, 1, NULL), tt_rstd_update(&s, x[i]), tt_rstd_free(&s));
        break;
    }
    case I_Z: {
        tt_zscore s;
        LOOP(tt_zscore_init(&s, 20, 1, NULL), tt_zscore_update(&s, x[i]), tt_zscore_free(&s));
        break;
    }
    case I_BB: {
        tt_bbands s;
        LOOP(tt_bbands_init(&s, 20, 2, NULL),
             tt_bbands_update(&s, x[i]) + tt_bbands_upper(&s) + tt_bbands_lower(&s),
             tt_bbands_free(&s));
        break;
    }
    case I_RSI: {
        tt_rsi s;
        LOOP(tt_rsi_init(&s, 14, NULL), tt_rsi_update(&s, x[i]), (void)0);
        break;
    }
    case I_ATR: {
        tt_atr s;
        LOOP(tt_atr_init(&s, 14, NULL), tt_atr_update(&s, h[i], l[i], x[i]), (void)0);
        break;
    }
    case I_MACD: {
        tt_macd s;
        LOOP(tt_macd_init(&s, 12, 26, 9, NULL), tt_macd_update(&s, x[i]) + tt_macd_signal(&s),
             (void)0);
        break;
    }
    case I_STOCH: {
        tt_stoch s;
        LOOP(tt_stoch_init(&s, 14, 3, 3, NULL),
             tt_stoch_update(&s, h[i], l[i], x[i]) + tt_stoch_d(&s), tt_stoch_free(&s));
        break;
    }
    case I_ADX: {
        tt_adx s;
        LOOP(tt_adx_init(&s, 14, NULL), tt_adx_update(&s, h[i], l[i], x[i]), (void)0);
        break;
    }
    case I_DON: {
        tt_donchian s;
        LOOP(tt_donchian_init(&s, 20, NULL), tt_donchian_update(&s, h[i], l[i]),
             tt_donchian_free(&s));
        break;
    }
    default: {
        tt_vwap s;
        LOOP(tt_vwap_init(&s, TT_TF_D1, NULL), tt_vwap_update(&s, ts[i], x[i], h[i] - l[i] + 1),
             (void)0);
        break;
    }
    }
#undef LOOP
    g_sink += acc;
    return t * 1e9 / (double)n;
}

static double best(double a, double b) { return a < b ? a : b; }

int main(int argc, char **argv)
{
    long n = 20000000;
    int repeat = 3, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ticks") && i + 1 < argc)
            n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "usage: bench_bars [--ticks N] [--repeat R] [--json]\n");
            return 2;
        }
    }
    if (n < 1000 || repeat < 1) {
        fprintf(stderr, "bench_bars: --ticks must be >= 1000 and --repeat >= 1\n");
        return 2;
    }
    tt_event *q = calloc((size_t)n, sizeof *q);
    double *x = malloc((size_t)n * sizeof *x), *h = malloc((size_t)n * sizeof *h),
           *l = malloc((size_t)n * sizeof *l);
    tt_ts *ts = malloc((size_t)n * sizeof *ts);
    if (!q || !x || !h || !l || !ts) {
        fprintf(stderr, "bench_bars: out of memory for %ld ticks\n", n);
        return 1;
    }
    uint64_t st = 42;
    tt_ts t = tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0);
    tt_price bid = 114427;
    for (long i = 0; i < n; i++) {
        uint64_t r = rng(&st);
        t += (tt_ts)(1 + r % 400) * TT_NS_PER_MS;
        bid += (tt_price)((r >> 16) % 5) - 2;
        tt_price spread = 1 + (tt_price)((r >> 24) % 3);
        q[i].ts = q[i].ts_init = t;
        q[i].seq = (uint64_t)i + 1;
        q[i].symbol = 1;
        q[i].source = 1;
        q[i].kind = TT_EV_QUOTE;
        q[i].cls = TT_CLS_MARKET;
        q[i].u.quote.bid = bid;
        q[i].u.quote.ask = bid + spread;
        q[i].u.quote.bid_vol = 1.0f + (float)((r >> 32) % 8) * 0.25f;
        q[i].u.quote.ask_vol = 1.0f;
        x[i] = (double)bid;
        h[i] = (double)(bid + spread);
        l[i] = (double)(bid - spread);
        ts[i] = t;
    }

    static const int m1[] = {TT_TF_M1}, mn1[] = {TT_TF_MN1};
    static const int all[] = {TT_TF_S1, TT_TF_M1, TT_TF_M5, TT_TF_M15, TT_TF_M30,
                              TT_TF_H1, TT_TF_H4, TT_TF_D1, TT_TF_W1, TT_TF_MN1};
    double b1 = 1e300, b2 = 1e300, b3 = 1e300, b10 = 1e300, e0 = 1e300, e7 = 1e300;
    double ind[I_COUNT];
    for (int k = 0; k < I_COUNT; k++)
        ind[k] = 1e300;
    for (int r = 0; r < repeat; r++) {
        b1 = best(b1, run_builders(q, n, m1, 1, TT_SIDE_BID));
        b2 = best(b2, run_builders(q, n, m1, 1, TT_SIDE_MID));
        b3 = best(b3, run_builders(q, n, mn1, 1, TT_SIDE_BID));
        b10 = best(b10, run_builders(q, n, all, 10, TT_SIDE_BID));
        e0 = best(e0, run_engine(q, n, 0));
        e7 = best(e7, run_engine(q, n, 1));
        for (int k = 0; k < I_COUNT; k++)
            ind[k] = best(ind[k], run_indicator(k, x, h, l, ts, n));
    }
    record("builder M1 bid", b1);
    record("builder M1 mid", b2);
    record("builder MN1 bid", b3);
    record("10 builders S1..MN1 bid", b10);
    record("engine loop alone", e0);
    record("engine + bars component (M1..D1)", e7);
    record("bars component (difference)", e7 - e0);
    for (int k = 0; k < I_COUNT; k++)
        record(ind_names[k], ind[k]);

    if (json) {
        printf("{\"ticks\":%ld,\"repeat\":%d,\"ns_per_tick\":{", n, repeat);
        for (int i = 0; i < nresults; i++)
            printf("%s\"%s\":%.2f", i ? "," : "", results[i].name, results[i].ns);
        printf("}}\n");
    } else {
        printf("bench_bars: %ld synthetic quotes, best of %d\n", n, repeat);
        printf("%-36s %10s %14s\n", "what", "ns/tick", "M ticks/s");
        for (int i = 0; i < nresults; i++)
            printf("%-36s %10.2f %14.1f\n", results[i].name, results[i].ns,
                   results[i].ns > 0 ? 1e3 / results[i].ns : 0.0);
    }
    free(q);
    free(x);
    free(h);
    free(l);
    free(ts);
    return g_sink == 12345.678 ? 1 : 0;
}
