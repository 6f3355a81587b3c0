/*
 * Bars against pandas' resample, for every timeframe and side.
 *
 * 30,000 random quotes over 2019-12-20 .. ~2020-03 (dense bursts, quiet
 * stretches, multi-day gaps; ticks placed exactly on and 1 ns before month,
 * week, day and hour edges, the leap day included; odd bid+ask sums) go through
 * tt_bar_builder for S1 .. MN1 x bid/ask/mid. tests/core/bars_ref.py builds the
 * same bars with pandas (DataFrame.resample, left-closed and left-labelled bins,
 * origin "epoch", "W-MON" weeks, "MS" months, numpy half-to-even mid) through
 * /usr/bin/python3 (or $TT_PYTHON). Every bar must match: open time, OHLC and
 * tick count exactly, volume to 1e-12 relative (pandas may sum in another
 * order).
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

#include "core/bars.h"

#define NRANDOM 30000
#define NMAX (NRANDOM + 64)

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp_ts(const void *a, const void *b)
{
    tt_ts x = *(const tt_ts *)a, y = *(const tt_ts *)b;
    return x < y ? -1 : x > y;
}

static tt_ts ts[NMAX];
static tt_event q[NMAX];

static int make_ticks(void)
{
    uint64_t st = 4;
    tt_ts t = tt_ts_from_civil(2019, 12, 20, 9, 0, 0, 0);
    int n = 0;
    for (int i = 0; i < NRANDOM; i++) {
        uint64_t r = rng_next(&st), k = r % 1000;
        if (k < 700)
            t += (tt_ts)(1 + (r >> 10) % 3000) * TT_NS_PER_MS; /* burst: up to 3 s */
        else if (k < 998)
            t += (tt_ts)(1 + (r >> 10) % 600) * TT_NS_PER_SEC; /* quiet: up to 10 min */
        else
            t += (tt_ts)(1 + (r >> 10) % 60) * TT_NS_PER_HOUR; /* gap: up to 60 h */
        ts[n++] = t;
    }
    /* edges: each exactly on, and 1 ns before */
    const tt_ts edges[] = {
        tt_ts_from_civil(2020, 1, 1, 0, 0, 0, 0),  /* year, month, week? (Wednesday) */
        tt_ts_from_civil(2020, 1, 6, 0, 0, 0, 0),  /* Monday: W1 */
        tt_ts_from_civil(2020, 1, 13, 0, 0, 0, 0), /* Monday */
        tt_ts_from_civil(2020, 2, 1, 0, 0, 0, 0),  /* month */
        tt_ts_from_civil(2020, 2, 29, 0, 0, 0, 0), /* leap day */
        tt_ts_from_civil(2020, 2, 29, 23, 59, 59, 999999999),
        tt_ts_from_civil(2020, 1, 20, 4, 0, 0, 0),  /* H4 */
        tt_ts_from_civil(2020, 1, 20, 13, 30, 0, 0), /* M30 */
        tt_ts_from_civil(2020, 1, 21, 13, 45, 0, 0), /* M15 */
        tt_ts_from_civil(2020, 1, 22, 13, 55, 0, 0), /* M5 */
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        if (edges[i] >= t)
            continue;
        ts[n++] = edges[i];
        ts[n++] = edges[i] - 1;
    }
    qsort(ts, (size_t)n, sizeof ts[0], cmp_ts);
    tt_price bid = 109000;
    for (int i = 0; i < n; i++) {
        uint64_t r = rng_next(&st);
        bid += (tt_price)(r % 7) - 3;
        memset(&q[i], 0, sizeof q[i]);
        q[i].ts = q[i].ts_init = ts[i];
        q[i].kind = TT_EV_QUOTE;
        q[i].symbol = 1;
        q[i].u.quote.bid = bid;
        q[i].u.quote.ask = bid + (tt_price)((r >> 8) % 6); /* spreads 0..5: odd sums too */
        q[i].u.quote.bid_vol = (float)((r >> 16) % 1000) / 7.0f;
        q[i].u.quote.ask_vol = (float)((r >> 32) % 1000) / 3.0f;
    }
    return n;
}

static void test_against_pandas(void **state)
{
    (void)state;
    int n = make_ticks();
    char dir[] = "/tmp/tt_bars_pandas_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char in[128], out[128], cmd[1024];
    snprintf(in, sizeof in, "%s/ticks.csv", dir);
    snprintf(out, sizeof out, "%s/ref.csv", dir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    fprintf(f, "ts,bid,ask,bid_vol,ask_vol\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "%lld,%lld,%lld,%.9g,%.9g\n", (long long)q[i].ts, (long long)q[i].u.quote.bid,
                (long long)q[i].u.quote.ask, (double)q[i].u.quote.bid_vol,
                (double)q[i].u.quote.ask_vol);
    fclose(f);
    const char *py = getenv("TT_PYTHON");
    snprintf(cmd, sizeof cmd, "%s %s/tests/core/bars_ref.py %s %s",
             py && *py ? py : "/usr/bin/python3", TT_SOURCE_DIR, in, out);
    assert_int_equal(system(cmd), 0);

    f = fopen(out, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    /* The reference lists bars grouped by (tf, side) in the order S1..MN1 x bid, ask,
     * mid; replay the ticks through a builder for each group as its rows come. */
    char cur[32] = "";
    tt_bar_builder b;
    int i = 0;
    long rows = 0, per_tf[TT_TF_COUNT] = {0};
    tt_event bar;
    while (fgets(line, sizeof line, f)) {
        char tfs[8], sides[8];
        long long t, o, h, l, c;
        double v;
        unsigned ticks;
        assert_int_equal(sscanf(line, "%7[^,],%7[^,],%lld,%lld,%lld,%lld,%lld,%lf,%u", tfs,
                                sides, &t, &o, &h, &l, &c, &v, &ticks),
                         9);
        char key[32];
        snprintf(key, sizeof key, "%s/%s", tfs, sides);
        if (strcmp(key, cur)) {
            /* the previous group must have no bars left */
            if (cur[0]) {
                for (; i < n; i++)
                    assert_int_equal(tt_bar_builder_update(&b, &q[i], &bar, NULL), 0);
                assert_int_equal(tt_bar_builder_flush(&b, &bar), 0);
            }
            snprintf(cur, sizeof cur, "%s", key);
            assert_int_equal(tt_bar_builder_init(&b, 1, tt_timeframe_parse(tfs),
                                                 tt_price_side_parse(sides), NULL),
                             0);
            i = 0;
        }
        /* the next bar out of the builder */
        int got = 0;
        while (!got && i < n)
            got = tt_bar_builder_update(&b, &q[i++], &bar, NULL);
        if (!got)
            got = tt_bar_builder_flush(&b, &bar);
        if (!got)
            fail_msg("%s: pandas has a bar at %lld, we have no more", key, t);
        if (bar.ts != t || bar.u.bar.open != o || bar.u.bar.high != h || bar.u.bar.low != l ||
            bar.u.bar.close != c || bar.u.bar.ticks != ticks ||
            fabs(bar.u.bar.volume - v) > 1e-12 * (fabs(v) > 1 ? fabs(v) : 1))
            fail_msg("%s: ours %lld %lld %lld %lld %lld %.17g %u, pandas %s", key,
                     (long long)bar.ts, (long long)bar.u.bar.open, (long long)bar.u.bar.high,
                     (long long)bar.u.bar.low, (long long)bar.u.bar.close, bar.u.bar.volume,
                     bar.u.bar.ticks, line);
        rows++;
        per_tf[b.tf]++;
    }
    fclose(f);
    for (; i < n; i++)
        assert_int_equal(tt_bar_builder_update(&b, &q[i], &bar, NULL), 0);
    assert_int_equal(tt_bar_builder_flush(&b, &bar), 0);
    /* every timeframe was compared, and the calendar ones have the expected counts:
     * months Dec 2019 .. Mar 2020 or so, x 3 sides */
    for (int tf = TT_TF_S1; tf < TT_TF_COUNT; tf++)
        assert_true(per_tf[tf] >= 3);
    assert_true(per_tf[TT_TF_MN1] >= 3 * 3);
    assert_true(per_tf[TT_TF_W1] >= 3 * 9);
    printf("pandas resample: %d ticks, %ld bars equal (S1 %ld, M1 %ld, W1 %ld, MN1 %ld)\n", n,
           rows, per_tf[TT_TF_S1], per_tf[TT_TF_M1], per_tf[TT_TF_W1], per_tf[TT_TF_MN1]);
    unlink(in);
    unlink(out);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_pandas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
