/*
 * The feature engine and the labels on hand-made bars: the catalog (at least
 * 100 unique names), argument and order errors, hand-worked values (returns,
 * candle shape, sessions and cyclic time, spread statistics carried over a bar
 * without quotes), higher-timeframe context that only ever uses closed higher
 * bars, selections equal to the full row's columns, reset, and every label kind
 * with its edge cases. The pandas oracle on real data is tests/ml/features_oracle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/external.h"
#include "core/features.h"

#define T(y, mo, d, h, mi) tt_ts_from_civil(y, mo, d, h, mi, 0, 0)

static tt_event bar_ev(int tf, tt_ts open, tt_price o, tt_price h, tt_price l, tt_price c,
                       uint32_t ticks)
{
    tt_event e;
    memset(&e, 0, sizeof e);
    e.kind = TT_EV_BAR;
    e.ts = open;
    e.ts_init = open + tt_timeframe_ns(tf);
    e.u.bar.open = o;
    e.u.bar.high = h;
    e.u.bar.low = l;
    e.u.bar.close = c;
    e.u.bar.ticks = ticks;
    e.u.bar.tf = (uint8_t)tf;
    return e;
}

static int col(const char *name)
{
    int i = tt_feature_find(name);
    assert_true(i >= 0);
    return i;
}

static void test_catalog(void **state)
{
    (void)state;
    int n = tt_feature_count();
    assert_true(n >= 100);
    for (int i = 0; i < n; i++) {
        assert_non_null(tt_feature_name(i));
        assert_true(strlen(tt_feature_help(i)) > 5);
        assert_int_equal(tt_feature_find(tt_feature_name(i)), i);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(tt_feature_name(i), tt_feature_name(j));
    }
    assert_null(tt_feature_name(n));
    assert_int_equal(tt_feature_find("no_such_feature"), -1);
}

static void test_errors(void **state)
{
    (void)state;
    tt_features *f;
    tt_err err;
    assert_int_equal(tt_features_new(&f, TT_TF_MN1, NULL, 0, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "fixed-length"));
    int dup[2] = {3, 3};
    assert_int_equal(tt_features_new(&f, TT_TF_M5, dup, 2, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "listed twice"));
    int bad[1] = {9999};
    assert_int_equal(tt_features_new(&f, TT_TF_M5, bad, 1, &err), TT_EINVAL);

    assert_int_equal(tt_features_new(&f, TT_TF_M5, NULL, 0, &err), 0);
    double row[256], row2[256];
    tt_event b = bar_ev(TT_TF_M1, T(2019, 2, 4, 10, 0), 100, 110, 90, 105, 3);
    assert_int_equal(tt_features_bar(f, &b, row, &err), TT_EINVAL); /* an M1 bar */
    b = bar_ev(TT_TF_M5, T(2019, 2, 4, 10, 0), 100000, 100010, 99990, 100005, 3);
    assert_int_equal(tt_features_bar(f, &b, row, &err), 0);
    /* a bar opening before the previous close is refused and changes nothing */
    tt_event early = bar_ev(TT_TF_M5, T(2019, 2, 4, 10, 2), 1, 2, 1, 2, 1);
    assert_int_equal(tt_features_bar(f, &early, row, &err), TT_EORDER);
    tt_event next = bar_ev(TT_TF_M5, T(2019, 2, 4, 10, 5), 100005, 100020, 100000, 100010, 4);
    assert_int_equal(tt_features_bar(f, &next, row, &err), 0);
    tt_features_reset(f);
    assert_int_equal(tt_features_bar(f, &b, row2, &err), 0);
    assert_int_equal(tt_features_bar(f, &next, row2, &err), 0);
    for (int i = 0; i < tt_features_width(f); i++) {
        if (isnan(row[i]))
            assert_true(isnan(row2[i]));
        else
            assert_true(row[i] == row2[i]);
    }
    tt_features_free(f);
}

static void test_hand_values(void **state)
{
    (void)state;
    tt_features *f;
    tt_err err;
    assert_int_equal(tt_features_new(&f, TT_TF_M5, NULL, 0, &err), 0);
    double r[256];
    /* Monday 2019-02-04 06:00 UTC: a quarter of the day (hour_sin = 1) */
    tt_quote q = {100000, 100002, 0, 0};
    tt_features_quote(f, &q);
    q.ask = 100006; /* spread 6 */
    tt_features_quote(f, &q);
    q.ask = 0; /* one-sided: ignored */
    tt_features_quote(f, &q);
    tt_event b0 = bar_ev(TT_TF_M5, T(2019, 2, 4, 6, 0), 100000, 100010, 99990, 100000, 3);
    assert_int_equal(tt_features_bar(f, &b0, r, &err), 0);
    assert_true(isnan(r[col("ret_1")]) && isnan(r[col("gap_rel")]));
    assert_true(fabs(r[col("hour_sin")] - 1.0) < 1e-15);
    assert_true(fabs(r[col("hour_cos")]) < 1e-15);
    assert_true(r[col("dow_sin")] == 0.0 && r[col("dow_cos")] == 1.0); /* Monday */
    assert_true(r[col("session_sydney")] == 0 && r[col("session_tokyo")] == 1 &&
                r[col("session_london")] == 0 && r[col("session_newyork")] == 0);
    assert_true(r[col("spread_rel")] == 4.0 / 100000); /* mean of 2 and 6 */
    assert_true(r[col("spread_max_rel")] == 6.0 / 100000);
    assert_true(r[col("ticks")] == 3);
    assert_true(r[col("body_ratio")] == 0 && r[col("close_pos")] == 0.5);
    assert_true(r[col("upper_wick_ratio")] == 0.5 && r[col("lower_wick_ratio")] == 0.5);
    assert_true(isnan(r[col("rsi_14")]) && isnan(r[col("h1_ret_1")]));

    /* 13:00: London and New York; no quotes: the spread is carried over */
    tt_event b1 = bar_ev(TT_TF_M5, T(2019, 2, 4, 13, 0), 100010, 100030, 100000, 100020, 5);
    assert_int_equal(tt_features_bar(f, &b1, r, &err), 0);
    assert_true(r[col("ret_1")] == 100020.0 / 100000.0 - 1);
    assert_true(r[col("logret_1")] == log(100020.0 / 100000.0));
    assert_true(r[col("gap_rel")] == 100010.0 / 100000.0 - 1);
    assert_true(r[col("body_ratio")] == 10.0 / 30.0);
    assert_true(r[col("upper_wick_ratio")] == 10.0 / 30.0);
    assert_true(r[col("lower_wick_ratio")] == 10.0 / 30.0);
    assert_true(r[col("close_pos")] == 20.0 / 30.0);
    assert_true(r[col("spread_rel")] == 4.0 / 100020);
    assert_true(r[col("session_london_newyork")] == 1 && r[col("session_tokyo")] == 0);
    /* a flat bar: shape ratios 0, position 0.5 */
    tt_event b2 = bar_ev(TT_TF_M5, T(2019, 2, 4, 13, 5), 100020, 100020, 100020, 100020, 1);
    assert_int_equal(tt_features_bar(f, &b2, r, &err), 0);
    assert_true(r[col("body_ratio")] == 0 && r[col("upper_wick_ratio")] == 0 &&
                r[col("close_pos")] == 0.5 && r[col("range_rel")] == 0);
    /* 22:00 Sunday-evening style hour: Sydney only */
    tt_event b3 = bar_ev(TT_TF_M5, T(2019, 2, 4, 22, 0), 100020, 100020, 100020, 100020, 1);
    assert_int_equal(tt_features_bar(f, &b3, r, &err), 0);
    assert_true(r[col("session_sydney")] == 1 && r[col("session_newyork")] == 0);
    tt_features_free(f);
}

/* Higher timeframes: the H1 context changes only when an hour has closed, and
 * the bar in progress (with an extreme high) is never seen. */
static void test_higher_timeframes(void **state)
{
    (void)state;
    tt_features *f;
    tt_err err;
    int sel[3] = {col("h1_range_pos"), col("h1_ret_1"), col("m15_range_pos")};
    assert_int_equal(tt_features_new(&f, TT_TF_M5, sel, 3, &err), 0);
    double r[3];
    /* hour 10: twelve bars, lows 1000, highs 1100, closes 1050 */
    for (int i = 0; i < 12; i++) {
        tt_event b = bar_ev(TT_TF_M5, T(2019, 2, 4, 10, 5 * i), 1050, 1100, 1000, 1050, 1);
        assert_int_equal(tt_features_bar(f, &b, r, &err), 0);
        if (i < 11)
            assert_true(isnan(r[0])); /* no hour closed yet */
    }
    /* the 10:55 bar closes at 11:00 = the hour's close: the hour is in */
    assert_true(r[0] == 0.5 && isnan(r[1]));
    /* hour 11: a huge high in the first bar; the H1 context still shows hour 10 */
    tt_event b = bar_ev(TT_TF_M5, T(2019, 2, 4, 11, 0), 1050, 9000, 1000, 1075, 1);
    assert_int_equal(tt_features_bar(f, &b, r, &err), 0);
    assert_true(r[0] == (1075.0 - 1000) / 100.0);
    /* M15 context: the quarter 10:45-11:00 (high 1100, low 1000) */
    assert_true(r[2] == (1075.0 - 1000) / 100.0);
    /* a gap: the next bar is at 13:00; hour 11 (only its 11:00 bar) closes first */
    b = bar_ev(TT_TF_M5, T(2019, 2, 4, 13, 0), 1100, 1100, 1100, 1100, 1);
    assert_int_equal(tt_features_bar(f, &b, r, &err), 0);
    assert_true(r[0] == (1100.0 - 1000) / 8000.0);
    assert_true(r[1] == 1075.0 / 1050.0 - 1);
    tt_features_free(f);

    /* a base timeframe at or above a context timeframe gives NaN for it */
    int sel2[2] = {col("m15_ret_1"), col("d1_range_pos")};
    assert_int_equal(tt_features_new(&f, TT_TF_H1, sel2, 2, &err), 0);
    for (int i = 0; i < 30; i++) {
        b = bar_ev(TT_TF_H1, T(2019, 2, 4, 0, 0) + i * TT_NS_PER_HOUR, 1000, 1010, 990, 1000, 1);
        assert_int_equal(tt_features_bar(f, &b, r, &err), 0);
        assert_true(isnan(r[0]));
    }
    assert_true(r[1] == 0.5); /* the day of 4 February closed */
    tt_features_free(f);
}

/* A selection is exactly those columns of the full row, in the order asked. */
static void test_selection(void **state)
{
    (void)state;
    tt_features *all, *some;
    tt_err err;
    int sel[4] = {col("rsi_14"), col("ret_5"), col("h4_adx_14"), col("vol_20")};
    assert_int_equal(tt_features_new(&all, TT_TF_M15, NULL, 0, &err), 0);
    assert_int_equal(tt_features_new(&some, TT_TF_M15, sel, 4, &err), 0);
    assert_int_equal(tt_features_width(some), 4);
    assert_int_equal(tt_features_index(some, 2), sel[2]);
    double ra[256], rs[4];
    uint64_t x = 12345;
    tt_price c = 110000;
    for (int i = 0; i < 600; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        tt_price o = c;
        c += (tt_price)((x >> 33) % 41) - 20;
        tt_price h = (o > c ? o : c) + (tt_price)((x >> 20) % 7);
        tt_price l = (o < c ? o : c) - (tt_price)((x >> 12) % 7);
        tt_event b = bar_ev(TT_TF_M15, T(2019, 2, 4, 0, 0) + i * 15 * TT_NS_PER_MIN, o, h, l, c,
                            1 + (uint32_t)(x % 9));
        assert_int_equal(tt_features_bar(all, &b, ra, &err), 0);
        assert_int_equal(tt_features_bar(some, &b, rs, &err), 0);
        for (int k = 0; k < 4; k++)
            assert_true((isnan(rs[k]) && isnan(ra[sel[k]])) || rs[k] == ra[sel[k]]);
    }
    for (int k = 0; k < 4; k++)
        assert_false(isnan(rs[k])); /* warmed up after 600 bars (150 hours) */
    tt_features_free(all);
    tt_features_free(some);
}

/* The news group: NaN without a schedule; minutes to the next and since the
 * last release of the symbol's currencies (ALL counts for every one), at
 * most a week ahead; an event at the close counts as past; other currencies
 * and lower impacts do not count. */
static void test_news(void **state)
{
    (void)state;
    assert_int_equal(tt_feature_default_count(), 120);
    assert_int_equal(tt_feature_count(), 124);
    assert_string_equal(tt_feature_group(119), "default");
    assert_string_equal(tt_feature_group(120), "news");
    assert_string_equal(tt_feature_name(120), "news_high_next_min");
    tt_err err;
    tt_features *f;
    int sel[4] = {120, 121, 122, 123};
    assert_int_equal(tt_features_new(&f, TT_TF_M15, sel, 4, &err), 0);
    double row[4];
    tt_ts t0 = tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0); /* the bar 10:00-10:15 */
    tt_event b = bar_ev(TT_TF_M15, t0, 100, 110, 90, 105, 4);
    assert_int_equal(tt_features_bar(f, &b, row, &err), 0);
    for (int i = 0; i < 4; i++)
        assert_true(isnan(row[i]));
    tt_news *n;
    assert_int_equal(tt_news_new(&n, &err), 0);
    uint32_t usd = tt_currency_code("USD"), eur = tt_currency_code("EUR");
    tt_ts close = t0 + 30 * TT_NS_PER_MIN; /* of the next bar */
    tt_news_add(n, close - 45 * TT_NS_PER_MIN, usd, TT_IMPACT_HIGH);
    tt_news_add(n, close, eur, TT_IMPACT_MEDIUM);                  /* at the close: past */
    tt_news_add(n, close + 90 * TT_NS_PER_MIN, tt_currency_code("JPY"), TT_IMPACT_HIGH);
    tt_news_add(n, close + 120 * TT_NS_PER_MIN, usd, TT_IMPACT_LOW);
    tt_news_add(n, close + 8 * TT_NS_PER_DAY, usd, TT_IMPACT_HIGH); /* beyond the week */
    tt_news_add(n, close + 200 * TT_NS_PER_MIN, tt_currency_code("ALL"), TT_IMPACT_MEDIUM);
    tt_features_set_news(f, n, eur, usd);
    b = bar_ev(TT_TF_M15, t0 + 15 * TT_NS_PER_MIN, 105, 110, 100, 104, 4);
    assert_int_equal(tt_features_bar(f, &b, row, &err), 0);
    assert_true(isnan(row[0]));          /* the next high one is 8 days away */
    assert_true(row[1] == 45.0);         /* USD high, 45 minutes before */
    assert_true(row[2] == 200.0);        /* ALL medium */
    assert_true(row[3] == 0.0);          /* EUR medium at the close */
    tt_features_reset(f);                /* keeps the schedule */
    b = bar_ev(TT_TF_M15, t0 + 15 * TT_NS_PER_MIN, 105, 110, 100, 104, 4);
    assert_int_equal(tt_features_bar(f, &b, row, &err), 0);
    assert_true(row[1] == 45.0);
    tt_features_free(f);
    tt_news_free(n);
}

static void test_labels(void **state)
{
    (void)state;
    double c[6] = {100, 101, 99, 103, 100, 100};
    double h[6] = {100, 102, 100, 104, 101, 100};
    double l[6] = {100, 100, 97, 99, 99, 100};
    double out[6];
    tt_err err;
    tt_label_spec s = {TT_LABEL_FORWARD_RETURN, 2, 0, 0, 0};
    assert_int_equal(tt_labels_compute(&s, c, h, l, 6, out, &err), 0);
    assert_true(out[0] == 99.0 / 100 - 1 && out[3] == 100.0 / 103 - 1);
    assert_true(isnan(out[4]) && isnan(out[5]));
    s.kind = TT_LABEL_SIGN;
    s.dead_zone = 0.015;
    assert_int_equal(tt_labels_compute(&s, c, h, l, 6, out, &err), 0);
    /* 99/100-1 = -0.01 (dead zone), 103/101-1 = +0.0198, 100/99-1 = +0.0101, 100/103-1 */
    assert_true(out[0] == 0 && out[1] == 1 && out[2] == 0 && out[3] == -1);
    s.kind = TT_LABEL_TRIPLE_BARRIER;
    s.horizon = 2;
    s.tp = 0.015;
    s.sl = 0.025;
    assert_int_equal(tt_labels_compute(&s, c, h, l, 6, out, &err), 0);
    /* t=0: bar 1 high 102 >= 101.5 -> +1 */
    assert_true(out[0] == 1);
    /* t=1 (101): bar 2 low 97 <= 98.475 -> -1 */
    assert_true(out[1] == -1);
    /* t=2 (99): bar 3 high 104 >= 100.485 and low 99 > 96.525 -> +1 */
    assert_true(out[2] == 1);
    /* t=3 (103): bars 4, 5: lows 99 > 100.425? no: 99 <= 100.425 -> -1 */
    assert_true(out[3] == -1);
    s.sl = 0.001;
    s.tp = 0.001;
    /* t=1: bar 2 has both (high 100 < 101.101: no tp; low 97: sl) ... t=0: bar 1 high 102
     * >= 100.1 and low 100 <= 99.9? no -> +1; with sl 0.0 at t=0: both -> -1 */
    assert_int_equal(tt_labels_compute(&s, c, h, l, 6, out, &err), 0);
    assert_true(out[0] == 1);
    double l2[6] = {100, 99, 97, 99, 99, 100};
    assert_int_equal(tt_labels_compute(&s, c, h, l2, 6, out, &err), 0);
    assert_true(out[0] == -1); /* both barriers in bar 1: the stop loss */
    s.tp = s.sl = 0.5;
    assert_int_equal(tt_labels_compute(&s, c, h, l, 6, out, &err), 0);
    assert_true(out[0] == 0 && out[3] == 0 && isnan(out[4])); /* time out */
    s.horizon = 0;
    assert_int_equal(tt_labels_compute(&s, c, h, l, 6, out, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "horizon"));
    assert_int_equal(tt_label_kind_parse("triple_barrier"), TT_LABEL_TRIPLE_BARRIER);
    assert_int_equal(tt_label_kind_parse("nope"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog),        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_hand_values),    cmocka_unit_test(test_higher_timeframes),
        cmocka_unit_test(test_selection),      cmocka_unit_test(test_labels),
        cmocka_unit_test(test_news),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
