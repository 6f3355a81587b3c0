/*
 * Streaming indicators against two oracles:
 *   - hand-worked values (the arithmetic is in the comments);
 *   - pandas: a deterministic 6,000-bar series is written to a temp CSV,
 *     tests/core/indicators_ref.py computes every indicator with pandas through
 *     /usr/bin/python3 (or $TT_PYTHON), and each value must agree to 1e-9
 *     (relative to max(1, |reference|)), with the same warm-up (NaN) pattern.
 * Plus a drift check: 3 million updates on FX-scale prices, then the rolling
 * mean and std must still match a long-double two-pass recomputation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/indicators.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

/* ---- hand-worked values ---- */

static void test_sma_ema_wma(void **state)
{
    (void)state;
    tt_sma s;
    tt_ema e;
    tt_wma w;
    assert_int_equal(tt_sma_init(&s, 3, NULL), 0);
    assert_int_equal(tt_ema_init(&e, 3, NULL), 0); /* alpha = 2/4 = 0.5 */
    assert_int_equal(tt_wma_init(&w, 3, NULL), 0);
    const double x[] = {1, 2, 3, 4, 5};
    /* SMA(3): -, -, 2, 3, 4 */
    const double sma[] = {NAN, NAN, 2, 3, 4};
    /* EMA: 1, 1.5, 2.25, 3.125, 4.0625 */
    const double ema[] = {1, 1.5, 2.25, 3.125, 4.0625};
    /* WMA(3): (1+4+9)/6 = 14/6, (2+6+12)/6 = 20/6, (3+8+15)/6 = 26/6 */
    const double wma[] = {NAN, NAN, 14.0 / 6, 20.0 / 6, 26.0 / 6};
    for (int i = 0; i < 5; i++) {
        double a = tt_sma_update(&s, x[i]), b = tt_ema_update(&e, x[i]),
               c = tt_wma_update(&w, x[i]);
        if (isnan(sma[i])) {
            assert_true(isnan(a) && !tt_sma_ready(&s));
            assert_true(isnan(c) && !tt_wma_ready(&w));
        } else {
            NEAR(a, sma[i]);
            NEAR(c, wma[i]);
        }
        NEAR(b, ema[i]);
        assert_int_equal(tt_ema_ready(&e), i >= 2);
    }
    tt_sma_free(&s);
    tt_wma_free(&w);
    tt_ema_free(&e);
}

static void test_std_zscore_bbands(void **state)
{
    (void)state;
    tt_rstd ss, sp;
    tt_zscore z;
    tt_bbands bb;
    assert_int_equal(tt_rstd_init(&ss, 3, 1, NULL), 0);
    assert_int_equal(tt_rstd_init(&sp, 3, 0, NULL), 0);
    assert_int_equal(tt_zscore_init(&z, 3, 1, NULL), 0);
    assert_int_equal(tt_bbands_init(&bb, 3, 2.0, NULL), 0);
    const double x[] = {1, 2, 3, 3, 3, 3};
    for (int i = 0; i < 6; i++) {
        tt_rstd_update(&ss, x[i]);
        tt_rstd_update(&sp, x[i]);
        tt_zscore_update(&z, x[i]);
        tt_bbands_update(&bb, x[i]);
        if (i == 2) {
            /* 1,2,3: mean 2, squared deviations 1+0+1 = 2; sample var 1, population 2/3;
             * z = (3 - 2)/1 = 1; bands 2 +- 2 sqrt(2/3) */
            NEAR(tt_rstd_value(&ss), 1.0);
            NEAR(tt_rstd_value(&sp), sqrt(2.0 / 3));
            NEAR(tt_zscore_value(&z), 1.0);
            NEAR(tt_bbands_middle(&bb), 2.0);
            NEAR(tt_bbands_upper(&bb), 2.0 + 2 * sqrt(2.0 / 3));
            NEAR(tt_bbands_lower(&bb), 2.0 - 2 * sqrt(2.0 / 3));
        }
        if (i == 3) {
            /* 2,3,3: mean 8/3, deviations -2/3, 1/3, 1/3: sum of squares 6/9; sample var 1/3 */
            NEAR(tt_rstd_value(&ss), sqrt(1.0 / 3));
            NEAR(tt_rstd_mean(&ss), 8.0 / 3);
        }
    }
    /* 3,3,3: exactly flat, so std is exactly 0 and the z-score is 0 by definition */
    assert_true(tt_rstd_value(&ss) == 0.0);
    assert_true(tt_zscore_value(&z) == 0.0);
    assert_true(tt_bbands_upper(&bb) == 3.0);
    /* A jump after a flat stretch: 19 values c and one c + d in a window of 20.
     * mean = c + d/20; squared deviations 19 (d/20)^2 + (19d/20)^2 = 0.95 d^2;
     * sample var = 0.05 d^2; z = (19d/20) / (d sqrt(0.05)) = 19/sqrt(20), for any d. */
    tt_zscore z20;
    assert_int_equal(tt_zscore_init(&z20, 20, 1, NULL), 0);
    for (int i = 0; i < 200; i++)
        tt_zscore_update(&z20, 1.14427 + (i < 100 ? i * 1e-5 : 0)); /* moving, then flat */
    assert_true(tt_zscore_value(&z20) == 0.0);
    assert_true(fabs(tt_zscore_update(&z20, 1.14427 + 99e-5 + 3e-5) - 19 / sqrt(20.0)) < 1e-9);
    tt_zscore_free(&z20);
    tt_rstd_free(&ss);
    tt_rstd_free(&sp);
    tt_zscore_free(&z);
    tt_bbands_free(&bb);
}

static void test_rsi_atr(void **state)
{
    (void)state;
    tt_rsi r;
    assert_int_equal(tt_rsi_init(&r, 2, NULL), 0);
    /* 1, 2, 1, 3: deltas +1, -1, +2. Seed after two deltas: G = L = 0.5 -> RSI 50.
     * Then G = 0.5 + (2 - 0.5)/2 = 1.25, L = 0.5 + (0 - 0.5)/2 = 0.25, RS = 5,
     * RSI = 100 - 100/6. */
    assert_true(isnan(tt_rsi_update(&r, 1)));
    assert_true(isnan(tt_rsi_update(&r, 2)));
    assert_false(tt_rsi_ready(&r));
    NEAR(tt_rsi_update(&r, 1), 50.0);
    assert_true(tt_rsi_ready(&r));
    NEAR(tt_rsi_update(&r, 3), 100.0 - 100.0 / 6);

    tt_atr a;
    assert_int_equal(tt_atr_init(&a, 2, NULL), 0);
    /* bars (h, l, c): (10,8,9) (11,9,10) (12,9,9) (10,7,8)
     * TR: -, max(2, |11-9|, |9-9|) = 2, max(3, |12-10|, |9-10|) = 3, max(3, |10-9|, |7-9|) = 3
     * ATR(2): seed (2+3)/2 = 2.5 at the third bar, then 2.5 + (3 - 2.5)/2 = 2.75 */
    assert_true(isnan(tt_atr_update(&a, 10, 8, 9)));
    assert_true(isnan(tt_atr_update(&a, 11, 9, 10)));
    NEAR(tt_atr_update(&a, 12, 9, 9), 2.5);
    NEAR(tt_atr_update(&a, 10, 7, 8), 2.75);
}

static void test_stoch_donchian_vwap(void **state)
{
    (void)state;
    tt_stoch s;
    tt_donchian d;
    assert_int_equal(tt_stoch_init(&s, 3, 1, 1, NULL), 0);
    assert_int_equal(tt_donchian_init(&d, 2, NULL), 0);
    /* highs 3,5,4 lows 1,2,0 closes 2,4,1 */
    tt_stoch_update(&s, 3, 1, 2);
    tt_donchian_update(&d, 3, 1);
    assert_true(isnan(tt_donchian_upper(&d)));
    tt_stoch_update(&s, 5, 2, 4);
    tt_donchian_update(&d, 5, 2);
    /* Donchian(2) after two bars: upper 5, lower 1, middle 3 */
    NEAR(tt_donchian_upper(&d), 5);
    NEAR(tt_donchian_lower(&d), 1);
    NEAR(tt_donchian_middle(&d), 3);
    /* %K(3) at the third bar: HH 5, LL 0, close 1 -> 100 * 1/5 = 20 */
    NEAR(tt_stoch_update(&s, 4, 0, 1), 20);
    NEAR(tt_stoch_d(&s), 20);
    tt_donchian_update(&d, 4, 0);
    /* the 3 has left the window: upper 5 (second bar), lower 0 */
    NEAR(tt_donchian_upper(&d), 5);
    NEAR(tt_donchian_lower(&d), 0);
    tt_donchian_update(&d, 1, 1);
    NEAR(tt_donchian_upper(&d), 4); /* the 5 has left */
    tt_stoch_free(&s);
    tt_donchian_free(&d);

    tt_vwap v;
    assert_int_equal(tt_vwap_init(&v, TT_TF_D1, NULL), 0);
    tt_ts day = 86400LL * TT_NS_PER_SEC;
    /* day 1: (10 x 1) + (20 x 3) = 70 over 4 -> 17.5; day 2 starts over: 5 */
    NEAR(tt_vwap_update(&v, 10 * day + 5, 10, 1), 10);
    NEAR(tt_vwap_update(&v, 10 * day + 7, 20, 3), 17.5);
    NEAR(tt_vwap_update(&v, 11 * day, 5, 2), 5);
    tt_vwap c;
    assert_int_equal(tt_vwap_init(&c, TT_TF_NONE, NULL), 0);
    tt_vwap_update(&c, 10 * day, 10, 1);
    NEAR(tt_vwap_update(&c, 11 * day, 20, 3), 17.5); /* cumulative: no reset */
    assert_false(tt_vwap_init(&c, 99, NULL) == 0);
}

static void test_bad_params(void **state)
{
    (void)state;
    tt_err err;
    tt_sma s;
    assert_int_equal(tt_sma_init(&s, 0, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "SMA"));
    tt_rstd r;
    assert_int_equal(tt_rstd_init(&r, 1, 1, &err), TT_EINVAL);
    assert_int_equal(tt_rstd_init(&r, 5, 2, &err), TT_EINVAL);
    tt_macd m;
    assert_int_equal(tt_macd_init(&m, 26, 12, 9, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "fast"));
    tt_bbands b;
    assert_int_equal(tt_bbands_init(&b, 20, -1, &err), TT_EINVAL);
    tt_ema e;
    assert_int_equal(tt_ema_init_alpha(&e, 1.5, 1, &err), TT_EINVAL);
    tt_stoch st;
    assert_int_equal(tt_stoch_init(&st, 14, 0, 3, &err), TT_EINVAL);
    tt_stoch_free(&st); /* safe after a failed init */
}

/* ---- pandas ---- */

/* splitmix64: a fixed, documented generator so the series is the same everywhere. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

#define NBARS 6000

typedef struct series {
    tt_ts ts[NBARS];
    double o[NBARS], h[NBARS], l[NBARS], c[NBARS], v[NBARS];
} series;

/* A random walk of 1-minute bars with a flat start (the first 20 bars all equal:
 * zero std, RSI with no moves, HH == LL) and a flat stretch in the middle. */
static void make_series(series *s)
{
    uint64_t st = 20261121;
    double px = 1000.0;
    for (int i = 0; i < NBARS; i++) {
        s->ts[i] = 1549238400LL * TT_NS_PER_SEC + (tt_ts)i * 60 * TT_NS_PER_SEC; /* 2019-02-04 */
        int flat = i < 20 || (i >= 3000 && i < 3060);
        double o = px, c = flat ? px : px + (rng_unit(&st) - 0.5) * 4.0;
        double hi = (o > c ? o : c) + (flat ? 0 : rng_unit(&st) * 1.5);
        double lo = (o < c ? o : c) - (flat ? 0 : rng_unit(&st) * 1.5);
        s->o[i] = o;
        s->h[i] = hi;
        s->l[i] = lo;
        s->c[i] = c;
        s->v[i] = 0.5 + rng_unit(&st) * 10;
        px = c;
    }
}

#define NCOLS 27
static const char *col_names[NCOLS] = {
    "sma20", "ema20", "wma10", "std20s", "std20p", "z20", "bb_mid", "bb_up", "bb_lo",
    "rsi14", "atr14", "macd", "macd_sig", "macd_hist", "stoch_k", "stoch_d", "adx14",
    "pdi14", "mdi14", "don_up", "don_lo", "don_mid", "vwap", NULL, NULL, NULL, NULL};

static void compute(const series *s, double (*out)[NCOLS])
{
    tt_sma sma;
    tt_ema ema;
    tt_wma wma;
    tt_rstd ss, sp;
    tt_zscore z;
    tt_bbands bb;
    tt_rsi rsi;
    tt_atr atr;
    tt_macd macd;
    tt_stoch st;
    tt_adx adx;
    tt_donchian don;
    tt_vwap vw;
    assert_int_equal(tt_sma_init(&sma, 20, NULL), 0);
    assert_int_equal(tt_ema_init(&ema, 20, NULL), 0);
    assert_int_equal(tt_wma_init(&wma, 10, NULL), 0);
    assert_int_equal(tt_rstd_init(&ss, 20, 1, NULL), 0);
    assert_int_equal(tt_rstd_init(&sp, 20, 0, NULL), 0);
    assert_int_equal(tt_zscore_init(&z, 20, 1, NULL), 0);
    assert_int_equal(tt_bbands_init(&bb, 20, 2.0, NULL), 0);
    assert_int_equal(tt_rsi_init(&rsi, 14, NULL), 0);
    assert_int_equal(tt_atr_init(&atr, 14, NULL), 0);
    assert_int_equal(tt_macd_init(&macd, 12, 26, 9, NULL), 0);
    assert_int_equal(tt_stoch_init(&st, 14, 3, 3, NULL), 0);
    assert_int_equal(tt_adx_init(&adx, 14, NULL), 0);
    assert_int_equal(tt_donchian_init(&don, 20, NULL), 0);
    assert_int_equal(tt_vwap_init(&vw, TT_TF_D1, NULL), 0);
    for (int i = 0; i < NBARS; i++) {
        double h = s->h[i], l = s->l[i], c = s->c[i];
        double *r = out[i];
        r[0] = tt_sma_update(&sma, c);
        r[1] = tt_ema_update(&ema, c);
        r[2] = tt_wma_update(&wma, c);
        r[3] = tt_rstd_update(&ss, c);
        r[4] = tt_rstd_update(&sp, c);
        r[5] = tt_zscore_update(&z, c);
        tt_bbands_update(&bb, c);
        r[6] = tt_bbands_middle(&bb);
        r[7] = tt_bbands_upper(&bb);
        r[8] = tt_bbands_lower(&bb);
        r[9] = tt_rsi_update(&rsi, c);
        r[10] = tt_atr_update(&atr, h, l, c);
        r[11] = tt_macd_update(&macd, c);
        r[12] = tt_macd_signal(&macd);
        r[13] = tt_macd_hist(&macd);
        tt_stoch_update(&st, h, l, c);
        r[14] = tt_stoch_k(&st);
        r[15] = tt_stoch_d(&st);
        r[16] = tt_adx_update(&adx, h, l, c);
        r[17] = tt_adx_plus_di(&adx);
        r[18] = tt_adx_minus_di(&adx);
        tt_donchian_update(&don, h, l);
        r[19] = tt_donchian_upper(&don);
        r[20] = tt_donchian_lower(&don);
        r[21] = tt_donchian_middle(&don);
        r[22] = tt_vwap_update(&vw, s->ts[i], (h + l + c) / 3.0, s->v[i]);
        /* ready flags agree with the NaN pattern of the values */
        assert_int_equal(tt_sma_ready(&sma), !isnan(r[0]));
        assert_int_equal(tt_rsi_ready(&rsi), !isnan(r[9]));
        assert_int_equal(tt_atr_ready(&atr), !isnan(r[10]));
        assert_int_equal(tt_stoch_ready(&st), !isnan(r[15]));
        assert_int_equal(tt_adx_ready(&adx), !isnan(r[16]));
        assert_int_equal(tt_donchian_ready(&don), !isnan(r[19]));
    }
    tt_sma_free(&sma);
    tt_wma_free(&wma);
    tt_rstd_free(&ss);
    tt_rstd_free(&sp);
    tt_zscore_free(&z);
    tt_bbands_free(&bb);
    tt_stoch_free(&st);
    tt_donchian_free(&don);
}

static void test_against_pandas(void **state)
{
    (void)state;
    static series s;
    static double mine[NBARS][NCOLS];
    make_series(&s);
    compute(&s, mine);

    char dir[] = "/tmp/tt_indicators_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char in[128], out[128], cmd[1024];
    snprintf(in, sizeof in, "%s/in.csv", dir);
    snprintf(out, sizeof out, "%s/ref.csv", dir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    fprintf(f, "ts,open,high,low,close,volume\n");
    for (int i = 0; i < NBARS; i++)
        fprintf(f, "%lld,%.17g,%.17g,%.17g,%.17g,%.17g\n", (long long)s.ts[i], s.o[i], s.h[i],
                s.l[i], s.c[i], s.v[i]);
    fclose(f);
    const char *py = getenv("TT_PYTHON");
    if (!py || !*py)
        py = "/usr/bin/python3";
    snprintf(cmd, sizeof cmd, "%s %s/tests/core/indicators_ref.py %s %s", py, TT_SOURCE_DIR, in,
             out);
    assert_int_equal(system(cmd), 0);

    f = fopen(out, "r");
    assert_non_null(f);
    static char line[1 << 16];
    assert_non_null(fgets(line, sizeof line, f));
    /* map the reference's columns to ours by name */
    int map[64], ncols = 0;
    for (char *tok = strtok(line, ",\n"); tok; tok = strtok(NULL, ",\n")) {
        int k = -1;
        for (int j = 0; j < NCOLS && col_names[j]; j++)
            if (!strcmp(col_names[j], tok))
                k = j;
        if (k < 0)
            fail_msg("unknown reference column %s", tok);
        map[ncols++] = k;
    }
    assert_int_equal(ncols, 23);
    int row = 0;
    long compared = 0;
    double worst = 0;
    while (fgets(line, sizeof line, f)) {
        assert_true(row < NBARS);
        char *p = line;
        for (int j = 0; j < ncols; j++) {
            char *end;
            double ref = strtod(p, &end);
            p = end + 1;
            double got = mine[row][map[j]];
            if (isnan(ref) || isnan(got)) {
                if (isnan(ref) != isnan(got))
                    fail_msg("%s row %d: warm-up differs: ours %.17g, pandas %.17g",
                             col_names[map[j]], row, got, ref);
                continue;
            }
            double tol = 1e-9 * (fabs(ref) > 1 ? fabs(ref) : 1);
            double e = fabs(got - ref) / (fabs(ref) > 1 ? fabs(ref) : 1);
            if (e > worst)
                worst = e;
            if (fabs(got - ref) > tol)
                fail_msg("%s row %d: ours %.17g, pandas %.17g", col_names[map[j]], row, got, ref);
            compared++;
        }
        row++;
    }
    fclose(f);
    assert_int_equal(row, NBARS);
    assert_true(compared > 20L * NBARS);
    printf("pandas: %ld values compared, worst relative difference %.3g\n", compared, worst);
    unlink(in);
    unlink(out);
    rmdir(dir);
}

/* ---- rolling extremes against brute force ---- */

static void test_donchian_brute_force(void **state)
{
    (void)state;
    /* every window length from 1 to 40 over 2000 values with many ties (small
     * integers), against max/min recomputed over the last n values */
    static double hi[2000], lo[2000];
    uint64_t st = 99;
    for (int i = 0; i < 2000; i++) {
        hi[i] = (double)(rng_next(&st) % 9);
        lo[i] = hi[i] - (double)(rng_next(&st) % 4);
    }
    for (int n = 1; n <= 40; n++) {
        tt_donchian d;
        assert_int_equal(tt_donchian_init(&d, n, NULL), 0);
        for (int i = 0; i < 2000; i++) {
            tt_donchian_update(&d, hi[i], lo[i]);
            assert_int_equal(tt_donchian_ready(&d), i >= n - 1);
            if (i < n - 1)
                continue;
            double mx = hi[i], mn = lo[i];
            for (int k = i - n + 1; k <= i; k++) {
                mx = hi[k] > mx ? hi[k] : mx;
                mn = lo[k] < mn ? lo[k] : mn;
            }
            if (tt_donchian_upper(&d) != mx || tt_donchian_lower(&d) != mn)
                fail_msg("n %d at %d: %g %g, brute force %g %g", n, i, tt_donchian_upper(&d),
                         tt_donchian_lower(&d), mx, mn);
        }
        tt_donchian_free(&d);
    }
}

/* ---- drift over a long run ---- */

static void test_no_drift(void **state)
{
    (void)state;
    enum { N = 50, STEPS = 3000000 };
    tt_sma sma;
    tt_rstd sd;
    tt_wma wma;
    assert_int_equal(tt_sma_init(&sma, N, NULL), 0);
    assert_int_equal(tt_rstd_init(&sd, N, 1, NULL), 0);
    assert_int_equal(tt_wma_init(&wma, N, NULL), 0);
    static double last[N];
    uint64_t st = 7;
    double px = 1.14427;
    for (int i = 0; i < STEPS; i++) {
        /* FX-like: 1e-5 ticks, occasional jumps of 0.01 to stress the sums */
        px += (double)((int)(rng_next(&st) % 7) - 3) * 1e-5;
        if (i % 100000 == 99999)
            px += 0.01;
        tt_sma_update(&sma, px);
        tt_rstd_update(&sd, px);
        tt_wma_update(&wma, px);
        last[i % N] = px;
    }
    long double m = 0, ss = 0, ws = 0;
    for (int k = 0; k < N; k++) {
        double x = last[(STEPS + k) % N]; /* oldest first */
        m += x;
        ws += (long double)(k + 1) * x;
    }
    m /= N;
    for (int k = 0; k < N; k++)
        ss += (last[k] - m) * (last[k] - m);
    double sdv = (double)sqrtl(ss / (N - 1));
    assert_true(fabs(tt_sma_value(&sma) - (double)m) < 1e-14);
    assert_true(fabs(tt_wma_value(&wma) - (double)(ws / (N * (N + 1) / 2))) < 1e-14);
    assert_true(fabs(tt_rstd_value(&sd) - sdv) < 1e-10 * sdv);
    tt_sma_free(&sma);
    tt_rstd_free(&sd);
    tt_wma_free(&wma);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sma_ema_wma),     cmocka_unit_test(test_std_zscore_bbands),
        cmocka_unit_test(test_rsi_atr),         cmocka_unit_test(test_stoch_donchian_vwap),
        cmocka_unit_test(test_bad_params),      cmocka_unit_test(test_against_pandas),
        cmocka_unit_test(test_donchian_brute_force), cmocka_unit_test(test_no_drift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
