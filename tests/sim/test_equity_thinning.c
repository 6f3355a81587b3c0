/*
 * A capped equity series (equity_keep_max) keeps memory flat over long runs
 * without changing a single figure: the metrics come from every sampled point
 * during the run. The kept series stays under the cap plus one point per day,
 * and every day's close and the final point survive the thinning, so daily
 * and monthly returns computed from it are the same as from the full series.
 * The series itself (sim/equity_series.h) is also driven directly: with a cap
 * smaller than the number of days every kept point ends up pinned, and each
 * later day's close must still be kept, and kept right.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/backtest.h"
#include "sim/equity_series.h"
#include "sim/scenario.h"

static const char *SCENARIO =
    "name: thinning\n"
    "seed: 11\n"
    "data:\n"
    "  synthetic: {model: gbm, symbols: [EURUSD], from: 2024-01-01, to: 2024-07-01,\n"
    "              sigma: 0.1, tick_rate: 0.5}\n"
    "account: {currency: USD, balance: 10000, leverage: 100}\n"
    "strategy: {name: sma_cross, params: {tf: M15, fast: 8, slow: 21, qty: 10}}\n";

static void run_with_cap(const char *cap, tt_backtest_result *r)
{
    tt_scenario *s;
    tt_err err;
    assert_int_equal(tt_scenario_parse(&s, SCENARIO, strlen(SCENARIO), "thinning.yaml", NULL, &err), TT_OK);
    char set[64];
    snprintf(set, sizeof set, "metrics.equity_points=%s", cap);
    assert_int_equal(tt_scenario_set(s, set, &err), TT_OK);
    tt_scenario_run *run = calloc(1, sizeof *run);
    assert_int_equal(tt_scenario_prepare(s, run, &err), TT_OK);
    memset(r, 0, sizeof *r);
    assert_int_equal(tt_backtest_run(&run->cfg, r, &err), TT_OK);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
}

/* Same value, or both NaN. */
static void same(double a, double b)
{
    if (isnan(a) && isnan(b))
        return;
    assert_true(a == b);
}

static void test_thinning_keeps_figures_and_closes(void **state)
{
    (void)state;
    tt_backtest_result all, capped;
    run_with_cap("0", &all);
    run_with_cap("2000", &capped);
    /* half a year of minute samples on weekdays: far more than the cap */
    assert_true(all.nequity > 100000);
    assert_int_equal(all.equity_sampled, capped.equity_sampled);
    size_t days = 183;
    assert_true(capped.nequity <= 2000 + days + 1);
    assert_true(capped.nequity < all.nequity / 20);
    /* the run itself is the same */
    assert_true(all.fingerprint.hi == capped.fingerprint.hi && all.fingerprint.lo == capped.fingerprint.lo);
    /* every figure, to the bit */
    const tt_metrics *a = &all.metrics, *b = &capped.metrics;
    assert_int_equal(a->net_pnl, b->net_pnl);
    assert_int_equal(a->max_drawdown, b->max_drawdown);
    assert_int_equal(a->max_dd_duration, b->max_dd_duration);
    assert_int_equal(a->days, b->days);
    assert_int_equal(a->trades, b->trades);
    same(a->sharpe, b->sharpe);
    same(a->sortino, b->sortino);
    same(a->max_drawdown_frac, b->max_drawdown_frac);
    same(a->time_in_market, b->time_in_market);
    same(a->ann_volatility, b->ann_volatility);
    assert_true(a->trades > 10);
    /* daily closes: the last point of each UTC day is in both series, equal */
    size_t j = 0, checked = 0;
    for (size_t i = 0; i < all.nequity; i++) {
        int last_of_day = i + 1 == all.nequity ||
                          all.equity[i + 1].ts / TT_NS_PER_DAY != all.equity[i].ts / TT_NS_PER_DAY;
        if (!last_of_day)
            continue;
        while (j < capped.nequity && capped.equity[j].ts < all.equity[i].ts)
            j++;
        assert_true(j < capped.nequity);
        assert_int_equal(capped.equity[j].ts, all.equity[i].ts);
        assert_int_equal(capped.equity[j].equity, all.equity[i].equity);
        checked++;
    }
    assert_true(checked > 100);
    /* the kept series is in time order and ends on the final point */
    for (size_t i = 1; i < capped.nequity; i++)
        assert_true(capped.equity[i].ts > capped.equity[i - 1].ts);
    assert_int_equal(capped.equity[capped.nequity - 1].ts, all.equity[all.nequity - 1].ts);
    tt_backtest_result_free(&all);
    tt_backtest_result_free(&capped);
}

static tt_equity_point pt(tt_ts ts, tt_money equity)
{
    tt_equity_point p;
    memset(&p, 0, sizeof p);
    p.ts = ts;
    p.balance = p.equity = equity;
    return p;
}

/* Ten days of three samples, a cap of 2: soon everything kept is a day's
 * close, so the samples in between are dropped; every close must still be
 * kept with its own value (a dropped sample once passed for kept, and the
 * third day's close went missing), and the end-of-run point (same ts as the
 * last sample) replaces that sample only. */
static void test_series_more_days_than_cap(void **state)
{
    (void)state;
    tt_equity_series *s;
    tt_err err;
    assert_int_equal(tt_equity_series_new(&s, 2, NULL, &err), TT_OK);
    for (int d = 0; d < 10; d++)
        for (int h = 1; h <= 3; h++) {
            tt_equity_point p = pt(d * TT_NS_PER_DAY + h * TT_NS_PER_HOUR, d * 100 + h);
            assert_int_equal(tt_equity_series_add(s, &p, &err), TT_OK);
        }
    tt_equity_point last = pt(9 * TT_NS_PER_DAY + 3 * TT_NS_PER_HOUR, 99999);
    assert_int_equal(tt_equity_series_add(s, &last, &err), TT_OK);
    assert_int_equal(tt_equity_series_sampled(s), 30);
    tt_equity_point *v;
    size_t n;
    assert_int_equal(tt_equity_series_finish(s, &v, &n, &err), TT_OK);
    tt_equity_series_free(s);
    for (size_t i = 1; i < n; i++)
        assert_true(v[i].ts > v[i - 1].ts);
    for (int d = 0; d < 10; d++) {
        tt_ts close = d * TT_NS_PER_DAY + 3 * TT_NS_PER_HOUR;
        size_t i = 0;
        while (i < n && v[i].ts != close)
            i++;
        assert_true(i < n); /* every day's close is kept ... */
        assert_int_equal(v[i].equity, d == 9 ? 99999 : d * 100 + 3); /* ... with its value */
    }
    assert_true(n <= 2 + 10 + 1);
    free(v);
}

/* A point earlier than the one before fails the accumulator (TT_EORDER);
 * the series then takes nothing more and says so on every call. */
static void test_series_out_of_order(void **state)
{
    (void)state;
    tt_metrics_acc *acc = tt_metrics_acc_new(1000000, NULL);
    tt_equity_series *s;
    tt_err err;
    assert_int_equal(tt_equity_series_new(&s, 0, acc, &err), TT_OK);
    tt_equity_point a = pt(10 * TT_NS_PER_HOUR, 1000000), b = pt(5 * TT_NS_PER_HOUR, 1000000),
                    c = pt(20 * TT_NS_PER_HOUR, 1000000);
    assert_int_equal(tt_equity_series_add(s, &a, &err), TT_OK);
    assert_int_equal(tt_equity_series_add(s, &b, &err), TT_OK); /* a is final: fed */
    assert_int_equal(tt_equity_series_add(s, &c, &err), TT_EORDER); /* b is final: refused */
    assert_int_equal(tt_equity_series_add(s, &c, &err), TT_EORDER);
    tt_equity_point *v;
    size_t n;
    assert_int_equal(tt_equity_series_finish(s, &v, &n, &err), TT_EORDER);
    assert_int_equal(n, 2); /* what was kept is handed over */
    free(v);
    tt_equity_series_free(s);
    tt_metrics_acc_free(acc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thinning_keeps_figures_and_closes),
        cmocka_unit_test(test_series_more_days_than_cap),
        cmocka_unit_test(test_series_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
