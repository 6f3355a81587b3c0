/*
 * bench_bars: the cost per tick of the bar builder and per update of each
 * streaming indicator, measured in isolation (no tape decoding).
 *
 * Input: a block of 8192 synthetic EURUSD-like quotes (a seeded random walk
 * in points, 1 to 400 ms apart, so an M1 bar holds ~300 ticks as on a busy
 * Dukascopy hour), replayed N/8192 times with its timestamps shifted by the
 * block's span each pass. The block stays in cache, as a decoded tape block
 * does during a replay, so the figures are the code's own cost rather than
 * the memory bandwidth of streaming gigabytes of events. Measured:
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

#define BLOCK 8192

/* Shift the block to the next pass: timestamps move on by the block's span. */
static void shift_block(tt_event *q, tt_ts span)
{
    for (int i = 0; i < BLOCK; i++) {
        q[i].ts += span;
        q[i].ts_init = q[i].ts;
        q[i].seq += BLOCK;
    }
}

static double run_builders(tt_event *q, tt_ts span, long n, const int *tfs, int ntf, int side)
{
    tt_bar_builder b[TT_TF_COUNT];
    for (int i = 0; i < ntf; i++)
        tt_bar_builder_init(&b[i], 0, tfs[i], side, NULL);
    tt_event out;
    uint64_t bars = 0;
    double t = 0;
    long passes = n / BLOCK;
    for (long p = 0; p < passes; p++) {
        double t0 = now_s();
        for (int i = 0; i < BLOCK; i++)
            for (int k = 0; k < ntf; k++)
                bars += (uint64_t)tt_bar_builder_update(&b[k], &q[i], &out, NULL);
        t += now_s() - t0;
        shift_block(q, span);
    }
    shift_block(q, -span * passes);
    g_sink += (double)bars;
    return t * 1e9 / (double)(passes * BLOCK);
}

/* ---- engine ---- */

/* Replays the block `passes` times, shifting time as it goes. */
typedef struct block_source {
    const tt_event *ev;
    tt_ts span, offset;
    long passes, pass;
    int i;
} block_source;

static int block_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    block_source *s = self;
    if (s->i == BLOCK) {
        s->i = 0;
        s->offset += s->span;
        s->pass++;
    }
    if (s->pass == s->passes)
        return TT_SRC_END;
    *ev = s->ev[s->i];
    ev->ts += s->offset;
    ev->ts_init = ev->ts;
    ev->seq += (uint64_t)(s->pass * BLOCK);
    s->i++;
    return TT_SRC_EVENT;
}

static void count_bar(void *ctx, tt_engine *e, const tt_event *bar)
{
    (void)e;
    *(uint64_t *)ctx += bar->u.bar.ticks;
}

static double run_engine(const tt_event *q, tt_ts span, long n, int with_bars)
{
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    block_source src = {.ev = q, .span = span, .passes = n / BLOCK};
    n = src.passes * BLOCK;
    tt_engine_set_source(e, (tt_source){.self = &src, .next = block_next});
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

/* Inputs cycle through a block of BLOCK values (kept in cache); VWAP's time
 * moves on one minute per update so its daily anchor resets as in real use. */
#define X(i) x[(i) & (BLOCK - 1)]
#define H(i) h[(i) & (BLOCK - 1)]
#define L(i) l[(i) & (BLOCK - 1)]
static double run_indicator(int which, const double *x, const double *h, const double *l,
                            tt_ts t0s, long n)
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
        LOOP(tt_sma_init(&s, 20, NULL), tt_sma_update(&s, X(i)), tt_sma_free(&s));
        break;
    }
    case I_EMA: {
        tt_ema s;
        LOOP(tt_ema_init(&s, 20, NULL), tt_ema_update(&s, X(i)), (void)0);
        break;
    }
    case I_WMA: {
        tt_wma s;
        LOOP(tt_wma_init(&s, 20, NULL), tt_wma_update(&s, X(i)), tt_wma_free(&s));
        break;
    }
    case I_STD: {
        tt_rstd s;
        LOOP(tt_rstd_init(&s, 20, 1, NULL), tt_rstd_update(&s, X(i)), tt_rstd_free(&s));
        break;
    }
    case I_Z: {
        tt_zscore s;
        LOOP(tt_zscore_init(&s, 20, 1, NULL), tt_zscore_update(&s, X(i)), tt_zscore_free(&s));
        break;
    }
    case I_BB: {
        tt_bbands s;
        LOOP(tt_bbands_init(&s, 20, 2, NULL),
             tt_bbands_update(&s, X(i)) + tt_bbands_upper(&s) + tt_bbands_lower(&s),
             tt_bbands_free(&s));
        break;
    }
    case I_RSI: {
        tt_rsi s;
        LOOP(tt_rsi_init(&s, 14, NULL), tt_rsi_update(&s, X(i)), (void)0);
        break;
    }
    case I_ATR: {
        tt_atr s;
        LOOP(tt_atr_init(&s, 14, NULL), tt_atr_update(&s, H(i), L(i), X(i)), (void)0);
        break;
    }
    case I_MACD: {
        tt_macd s;
        LOOP(tt_macd_init(&s, 12, 26, 9, NULL), tt_macd_update(&s, X(i)) + tt_macd_signal(&s),
             (void)0);
        break;
    }
    case I_STOCH: {
        tt_stoch s;
        LOOP(tt_stoch_init(&s, 14, 3, 3, NULL),
             tt_stoch_update(&s, H(i), L(i), X(i)) + tt_stoch_d(&s), tt_stoch_free(&s));
        break;
    }
    case I_ADX: {
        tt_adx s;
        LOOP(tt_adx_init(&s, 14, NULL), tt_adx_update(&s, H(i), L(i), X(i)), (void)0);
        break;
    }
    case I_DON: {
        tt_donchian s;
        LOOP(tt_donchian_init(&s, 20, NULL), tt_donchian_update(&s, H(i), L(i)),
             tt_donchian_free(&s));
        break;
    }
    default: {
        tt_vwap s;
        LOOP(tt_vwap_init(&s, TT_TF_D1, NULL), tt_vwap_update(&s, t0s + i * TT_NS_PER_MIN, X(i), H(i) - L(i) + 1),
             (void)0);
        break;
    }
    }
#undef LOOP
#undef X
#undef H
#undef L
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
    if (n < BLOCK || repeat < 1) {
        fprintf(stderr, "bench_bars: --ticks must be >= 8192 and --repeat >= 1\n");
        return 2;
    }
    static tt_event q[BLOCK];
    static double x[BLOCK], h[BLOCK], l[BLOCK];
    uint64_t st = 42;
    tt_ts t0 = tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0), t = t0;
    tt_price bid = 114427;
    for (long i = 0; i < BLOCK; i++) {
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
    }
    tt_ts span = t + TT_NS_PER_MS - t0; /* the next pass starts 1 ms after this one ends */

    static const int m1[] = {TT_TF_M1}, mn1[] = {TT_TF_MN1};
    static const int all[] = {TT_TF_S1, TT_TF_M1, TT_TF_M5, TT_TF_M15, TT_TF_M30,
                              TT_TF_H1, TT_TF_H4, TT_TF_D1, TT_TF_W1, TT_TF_MN1};
    double b1 = 1e300, b2 = 1e300, b3 = 1e300, b10 = 1e300, e0 = 1e300, e7 = 1e300;
    double ind[I_COUNT];
    for (int k = 0; k < I_COUNT; k++)
        ind[k] = 1e300;
    for (int r = 0; r < repeat; r++) {
        b1 = best(b1, run_builders(q, span, n, m1, 1, TT_SIDE_BID));
        b2 = best(b2, run_builders(q, span, n, m1, 1, TT_SIDE_MID));
        b3 = best(b3, run_builders(q, span, n, mn1, 1, TT_SIDE_BID));
        b10 = best(b10, run_builders(q, span, n, all, 10, TT_SIDE_BID));
        e0 = best(e0, run_engine(q, span, n, 0));
        e7 = best(e7, run_engine(q, span, n, 1));
        for (int k = 0; k < I_COUNT; k++)
            ind[k] = best(ind[k], run_indicator(k, x, h, l, t0, n));
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
    return g_sink == 12345.678 ? 1 : 0;
}
