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
 * Each figure is in ns per tick (or update): "best" is the fastest pass of 8192
 * over all --repeat runs (default 3), the code's own cost when nothing else
 * competes for the core; "mean" is the average over every pass, which includes
 * whatever else the machine was doing.
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

#define BLOCK 8192

/* A measurement: the fastest pass of BLOCK ticks (the code's own cost, what is
 * left when nothing else competes for the core) and the mean over all passes. */
typedef struct timing {
    double best, total;
    long passes;
} timing;

static void timing_add(timing *t, double seconds)
{
    if (t->passes == 0 || seconds < t->best)
        t->best = seconds;
    t->total += seconds;
    t->passes++;
}

static double ns_best(const timing *t) { return t->best * 1e9 / BLOCK; }
static double ns_mean(const timing *t) { return t->total * 1e9 / ((double)t->passes * BLOCK); }

/* ---- builders ---- */

/* Shift the block to the next pass: timestamps move on by the block's span. */
static void shift_block(tt_event *q, tt_ts span)
{
    for (int i = 0; i < BLOCK; i++) {
        q[i].ts += span;
        q[i].ts_init = q[i].ts;
        q[i].seq += BLOCK;
    }
}

static void run_builders(timing *tm, tt_event *q, tt_ts span, long passes, const int *tfs,
                         int ntf, int side)
{
    tt_bar_builder b[TT_TF_COUNT];
    for (int i = 0; i < ntf; i++)
        tt_bar_builder_init(&b[i], 0, tfs[i], side, NULL);
    tt_event out;
    uint64_t bars = 0;
    for (long p = 0; p < passes; p++) {
        double t0 = now_s();
        for (int i = 0; i < BLOCK; i++)
            for (int k = 0; k < ntf; k++)
                bars += (uint64_t)tt_bar_builder_update(&b[k], &q[i], &out, NULL);
        timing_add(tm, now_s() - t0);
        shift_block(q, span);
    }
    shift_block(q, -span * passes);
    g_sink += (double)bars;
}

/* ---- engine ---- */

/* Replays the block `passes` times, shifting time as it goes, and times each
 * pass (the engine and its components run between two calls). */
typedef struct block_source {
    const tt_event *ev;
    tt_ts span, offset;
    long passes, pass;
    int i;
    double t0;
    timing *tm;
} block_source;

static int block_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    block_source *s = self;
    if (s->i == BLOCK) {
        double t = now_s();
        timing_add(s->tm, t - s->t0);
        s->t0 = t;
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

static void run_engine(timing *tm, const tt_event *q, tt_ts span, long passes, int with_bars)
{
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    block_source src = {.ev = q, .span = span, .passes = passes, .tm = tm};
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
    src.t0 = now_s();
    tt_engine_run(e, &err);
    g_sink += (double)ticks + (double)tt_engine_outputs(e);
    tt_bars_free(bars);
    tt_engine_free(e);
    tt_instruments_free(ins);
}

/* ---- indicators ---- */

enum { I_SMA, I_EMA, I_WMA, I_STD, I_Z, I_BB, I_RSI, I_ATR, I_MACD, I_STOCH, I_ADX, I_DON,
       I_VWAP, I_COUNT };
static const char *ind_names[I_COUNT] = {
    "SMA(20)", "EMA(20)", "WMA(20)", "rolling std(20)", "z-score(20)", "Bollinger(20,2)",
    "RSI(14)", "ATR(14)", "MACD(12,26,9)", "Stochastic(14,3,3)", "ADX(14)", "Donchian(20)",
    "VWAP(D1)"};

/* Each pass feeds the BLOCK values (kept in cache) once; VWAP's time moves on one
 * minute per update so its daily anchor resets as in real use. */
static void run_indicator(timing *tm, int which, const double *x, const double *h,
                          const double *l, tt_ts t0s, long passes)
{
    double acc = 0;
    tt_ts ts = t0s;
#define LOOP(init, upd, fin)                                                                   \
    do {                                                                                       \
        init;                                                                                  \
        for (long p = 0; p < passes; p++) {                                                    \
            double t0 = now_s();                                                               \
            for (int i = 0; i < BLOCK; i++)                                                    \
                acc += upd;                                                                    \
            timing_add(tm, now_s() - t0);                                                      \
        }                                                                                      \
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
        LOOP(tt_vwap_init(&s, TT_TF_D1, NULL),
             tt_vwap_update(&s, ts += TT_NS_PER_MIN, x[i], h[i] - l[i] + 1), (void)0);
        break;
    }
    }
#undef LOOP
    g_sink += acc;
}

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
    long passes = n / BLOCK;
    enum { B_M1, B_MID, B_MN1, B_ALL, E_NONE, E_BARS, NFIX };
    timing fix[NFIX], ind[I_COUNT];
    memset(fix, 0, sizeof fix);
    memset(ind, 0, sizeof ind);
    for (int r = 0; r < repeat; r++) {
        run_builders(&fix[B_M1], q, span, passes, m1, 1, TT_SIDE_BID);
        run_builders(&fix[B_MID], q, span, passes, m1, 1, TT_SIDE_MID);
        run_builders(&fix[B_MN1], q, span, passes, mn1, 1, TT_SIDE_BID);
        run_builders(&fix[B_ALL], q, span, passes, all, 10, TT_SIDE_BID);
        run_engine(&fix[E_NONE], q, span, passes, 0);
        run_engine(&fix[E_BARS], q, span, passes, 1);
        for (int k = 0; k < I_COUNT; k++)
            run_indicator(&ind[k], k, x, h, l, t0, passes);
    }
    static const char *fix_names[NFIX] = {
        "builder M1 bid", "builder M1 mid", "builder MN1 bid", "10 builders S1..MN1 bid",
        "engine loop alone", "engine + bars component (M1..D1)"};
    const char *names[NFIX + I_COUNT + 1];
    double best[NFIX + I_COUNT + 1], mean[NFIX + I_COUNT + 1];
    int nr = 0;
    for (int k = 0; k < NFIX; k++, nr++) {
        names[nr] = fix_names[k];
        best[nr] = ns_best(&fix[k]);
        mean[nr] = ns_mean(&fix[k]);
        if (k == E_BARS) {
            nr++;
            names[nr] = "bars component alone (difference)";
            best[nr] = best[nr - 1] - best[nr - 2];
            mean[nr] = mean[nr - 1] - mean[nr - 2];
        }
    }
    for (int k = 0; k < I_COUNT; k++, nr++) {
        names[nr] = ind_names[k];
        best[nr] = ns_best(&ind[k]);
        mean[nr] = ns_mean(&ind[k]);
    }
    if (json) {
        printf("{\"ticks\":%ld,\"repeat\":%d,\"block\":%d,\"ns_best\":{", passes * BLOCK, repeat,
               BLOCK);
        for (int i = 0; i < nr; i++)
            printf("%s\"%s\":%.2f", i ? "," : "", names[i], best[i]);
        printf("},\"ns_mean\":{");
        for (int i = 0; i < nr; i++)
            printf("%s\"%s\":%.2f", i ? "," : "", names[i], mean[i]);
        printf("}}\n");
    } else {
        printf("bench_bars: %ld synthetic quotes x %d runs, passes of %d\n", passes * BLOCK,
               repeat, BLOCK);
        printf("%-36s %10s %12s %10s\n", "what", "best ns", "M ticks/s", "mean ns");
        for (int i = 0; i < nr; i++)
            printf("%-36s %10.2f %12.1f %10.2f\n", names[i], best[i],
                   best[i] > 0 ? 1e3 / best[i] : 0.0, mean[i]);
    }
    return g_sink == 12345.678 ? 1 : 0;
}
