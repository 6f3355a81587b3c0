/*
 * Metrics: hand-worked small examples (the arithmetic is in the comments),
 * and a larger random run checked against pandas/numpy
 * (tests/core/test_metrics_oracle.py through /usr/bin/python3).
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

#include "core/metrics.h"
#include "core/rng.h"

#define H TT_NS_PER_HOUR
#define D TT_NS_PER_DAY

static tt_ts day0(void) { return tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0); }

static tt_equity_point pt(tt_ts ts, tt_money eq, int64_t pos)
{
    tt_equity_point p = {.ts = ts, .balance = eq, .equity = eq, .position = pos};
    return p;
}

static void assert_near(double got, double want, double rel)
{
    double tol = rel * (fabs(want) > 1 ? fabs(want) : 1);
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g want %.17g (tol %.3g)", got, want, tol);
}

/* Three daily closes, initial 1,000,000 (10,000.00):
 *   1,100,000 (+10%), 990,000 (-10%), 1,089,000 (+10%)
 * returns r = [0.1, -0.1, 0.1], mean = 1/30 = 0.0333...
 * deviations 0.0667, -0.1333, 0.0667; squares sum 0.0266667; /(n-1)=2 -> 0.0133333;
 * sd = 0.11547005; sqrt(252) = 15.8745079
 * Sharpe = 0.0333333 / 0.11547005 * 15.8745079 = 4.58257569
 * downside: only -0.1 -> 0.01 / 3 = 0.00333; dd = 0.05773503
 * Sortino = 0.0333333 / 0.05773503 * 15.8745079 = 9.16515139
 * ann vol = 0.11547005 * 15.8745079 = 1.83303028
 * total return = 1,089,000 / 1,000,000 - 1 = 0.089
 * max drawdown: peak 1,100,000 -> 990,000 = 110,000, 10%. */
static void test_daily_hand(void **state)
{
    (void)state;
    tt_equity_point e[3] = {pt(day0() + 12 * H, 1100000, 0), pt(day0() + D + 12 * H, 990000, 0),
                            pt(day0() + 2 * D + 12 * H, 1089000, 0)};
    tt_metrics m;
    tt_err err;
    /* three days are far below the minimum-data rule: switch it off to check
     * the formulas (test_min_data_rule checks the rule) */
    tt_metrics_opts none = {.min_days = -1, .min_returns = -1};
    assert_int_equal(tt_metrics_compute(NULL, 0, e, 3, 1000000, &none, &m, &err), TT_OK);
    assert_int_equal(m.annualized, 1);
    assert_int_equal(m.days, 3);
    assert_int_equal(m.periods_per_year, 252);
    assert_near(m.total_return, 0.089, 1e-12);
    assert_near(m.return_pct, 8.9, 1e-12);
    assert_int_equal(m.net_pnl, 89000);
    assert_near(m.sharpe, 4.58257569495584, 1e-9);
    assert_near(m.sortino, 9.16515138991168, 1e-9);
    assert_near(m.ann_volatility, 1.83303027798234, 1e-9);
    assert_int_equal(m.max_drawdown, 110000);
    assert_near(m.max_drawdown_frac, 0.1, 1e-12);
    assert_near(m.max_drawdown_pct, 10.0, 1e-12);
    /* years = 2 days / 365.25; cagr = 1.089^(365.25/2) - 1 */
    assert_near(m.years, 2.0 / 365.25, 1e-12);
    assert_near(m.cagr, pow(1.089, 365.25 / 2.0) - 1.0, 1e-9);
    assert_near(m.calmar, m.cagr / 0.1, 1e-12);
    assert_true(m.cagr_pct == m.cagr * 100.0);
    assert_true(m.ann_volatility_pct == m.ann_volatility * 100.0);

    /* with the default rule the same three days give no annualised figure */
    assert_int_equal(tt_metrics_compute(NULL, 0, e, 3, 1000000, NULL, &m, &err), TT_OK);
    assert_int_equal(m.annualized, 0);
    assert_true(isnan(m.sharpe) && isnan(m.sortino) && isnan(m.cagr) && isnan(m.calmar) &&
                isnan(m.ann_volatility) && isnan(m.cagr_pct) && isnan(m.ann_volatility_pct));
    assert_near(m.return_pct, 8.9, 1e-12); /* the rest stays */
    assert_near(m.max_drawdown_pct, 10.0, 1e-12);

    /* 365 periods and 3.65% a year risk-free (0.0001 a day):
     * Sharpe = (0.0333333 - 0.0001) / 0.11547005 * sqrt(365) = 5.5006...;
     * downside of e = r - 0.0001: only -0.1001 -> sqrt(0.1001^2 / 3) = 0.05779277 */
    tt_metrics_opts o = {.periods_per_year = 365, .risk_free = 0.0365, .min_days = -1,
                         .min_returns = -1};
    assert_int_equal(tt_metrics_compute(NULL, 0, e, 3, 1000000, &o, &m, &err), TT_OK);
    assert_near(m.sharpe, (1.0 / 30 - 0.0001) / 0.115470053837925 * sqrt(365.0), 1e-9);
    assert_near(m.sortino, (1.0 / 30 - 0.0001) / sqrt(0.1001 * 0.1001 / 3) * sqrt(365.0), 1e-9);
}

/* Intraday drawdown and time in market, initial 1,000,000:
 *   0h 1,000,000 flat | 1h 1,050,000 long (new peak) | 2h 945,000 long (dd 105,000 = 10%)
 *   3h 1,000,000 flat | 5h 1,060,000 flat (recovered: 4h under water, peak at 1h)
 *   6h 1,040,000 flat (20,000 below 1,060,000; 1h under water at the end)
 * In market from 1h to 3h: 2h of a 6h span = 1/3. */
static void test_drawdown_hand(void **state)
{
    (void)state;
    tt_ts t = day0();
    tt_equity_point e[6] = {pt(t, 1000000, 0),         pt(t + H, 1050000, 10),
                            pt(t + 2 * H, 945000, 10), pt(t + 3 * H, 1000000, 0),
                            pt(t + 5 * H, 1060000, 0), pt(t + 6 * H, 1040000, 0)};
    tt_metrics m;
    assert_int_equal(tt_metrics_compute(NULL, 0, e, 6, 1000000, NULL, &m, NULL), TT_OK);
    assert_int_equal(m.max_drawdown, 105000);
    assert_near(m.max_drawdown_frac, 0.1, 1e-12);
    assert_int_equal(m.max_dd_peak_ts, t + H);
    assert_int_equal(m.max_dd_trough_ts, t + 2 * H);
    assert_int_equal(m.max_dd_duration, 4 * H);
    assert_int_equal(m.peak_equity, 1060000);
    assert_near(m.time_in_market, 1.0 / 3.0, 1e-12);
    assert_int_equal(m.days, 1);
    assert_true(isnan(m.sharpe)); /* one day: undefined */
    assert_true(isnan(m.ann_volatility));

    /* Never recovered: the duration runs to the last point. Losing from the first
     * point counts against the initial balance. */
    tt_equity_point f[2] = {pt(t, 990000, 0), pt(t + 10 * H, 980000, 0)};
    assert_int_equal(tt_metrics_compute(NULL, 0, f, 2, 1000000, NULL, &m, NULL), TT_OK);
    assert_int_equal(m.max_drawdown, 20000);
    assert_int_equal(m.max_dd_duration, 10 * H);
    assert_int_equal(m.max_dd_peak_ts, t);
}

/* Trades with net +300, -100, +200, -200, 0 (commission 7 each, swap -2 on two):
 * 5 trades, 2 wins, 2 losses, win rate 0.4, gross profit 500, gross loss -300,
 * profit factor 5/3, expectancy 200/5 = 40, avg win 250, avg loss -150. */
static void test_trades_hand(void **state)
{
    (void)state;
    tt_trade_record tr[5];
    memset(tr, 0, sizeof tr);
    tt_money nets[5] = {300, -100, 200, -200, 0};
    for (int i = 0; i < 5; i++) {
        tr[i].id = (uint64_t)i + 1;
        tr[i].side = (i % 2) ? TT_SELL : TT_BUY;
        tr[i].net = nets[i];
        tr[i].commission = 7;
        tr[i].swap = i < 2 ? -2 : 0;
        tr[i].open_ts = day0() + i * D;
        tr[i].close_ts = tr[i].open_ts + (i + 1) * H; /* held 1..5 hours: mean 3 */
    }
    tt_metrics m;
    assert_int_equal(tt_metrics_compute(tr, 5, NULL, 0, 100000, NULL, &m, NULL), TT_OK);
    /* per trade: deviations from 40 are 260, -140, 160, -240, -40; squares sum
     * 172,000; / 4 = 43,000; stdev 207.3644135; per-trade Sharpe 40 / 207.36 =
     * 0.19289761; SQN sqrt(5) * 0.19289761 = 0.43132983 */
    assert_near(m.trade_stdev, sqrt(43000.0), 1e-12);
    assert_near(m.trade_sharpe, 40.0 / sqrt(43000.0), 1e-12);
    assert_near(m.sqn, sqrt(5.0) * 40.0 / sqrt(43000.0), 1e-12);
    assert_int_equal(m.avg_hold, 3 * H);
    assert_near(m.win_rate_pct, 40.0, 1e-12);
    assert_int_equal(m.trades, 5);
    assert_int_equal(m.wins, 2);
    assert_int_equal(m.losses, 2);
    assert_int_equal(m.long_trades, 3);
    assert_int_equal(m.short_trades, 2);
    assert_near(m.win_rate, 0.4, 1e-15);
    assert_int_equal(m.gross_profit, 500);
    assert_int_equal(m.gross_loss, -300);
    assert_near(m.profit_factor, 5.0 / 3.0, 1e-15);
    assert_near(m.expectancy, 40.0, 1e-15);
    assert_near(m.avg_win, 250.0, 1e-15);
    assert_near(m.avg_loss, -150.0, 1e-15);
    assert_int_equal(m.largest_win, 300);
    assert_int_equal(m.largest_loss, -200);
    assert_int_equal(m.commissions, 35);
    assert_int_equal(m.swaps, -4);
    /* no equity curve: the account is initial + sum of nets */
    assert_int_equal(m.final_equity, 100200);
    assert_int_equal(m.net_pnl, 200);
    assert_near(m.total_return, 0.002, 1e-12);

    /* only winners: profit factor +inf; no trades at all: NaN everywhere */
    assert_int_equal(tt_metrics_compute(tr, 1, NULL, 0, 100000, NULL, &m, NULL), TT_OK);
    assert_true(isinf(m.profit_factor) && m.profit_factor > 0);
    assert_true(isnan(m.avg_loss));
    assert_true(isnan(m.trade_stdev) && isnan(m.trade_sharpe) && isnan(m.sqn)); /* one trade */
    assert_int_equal(tt_metrics_compute(NULL, 0, NULL, 0, 100000, NULL, &m, NULL), TT_OK);
    assert_true(isnan(m.win_rate) && isnan(m.profit_factor) && isnan(m.expectancy));
    assert_int_equal(m.trades, 0);
}

/* The minimum-data rule: annualised figures need a span of min_days days
 * (30) and min_returns daily returns (20). One point a day at noon:
 *   days 0..30: span 30 days, 31 daily returns -> defined (the bound is >=);
 *   days 0..29: span 29 days -> n/a;
 *   every fifth day over 50 days: span 50 days but 11 returns -> n/a;
 *   the same with min_returns 10 -> defined; min_days 60 -> n/a again. */
static void test_min_data_rule(void **state)
{
    (void)state;
    tt_equity_point e[40];
    for (int i = 0; i < 40; i++)
        e[i] = pt(day0() + i * D + 12 * H, 1000000 + (i % 3) * 1000 + i * 100, 0);
    tt_metrics m;
    assert_int_equal(tt_metrics_compute(NULL, 0, e, 31, 1000000, NULL, &m, NULL), TT_OK);
    assert_int_equal(m.annualized, 1);
    assert_int_equal(m.min_days, TT_METRICS_MIN_DAYS);
    assert_int_equal(m.min_returns, TT_METRICS_MIN_RETURNS);
    assert_true(isfinite(m.sharpe) && isfinite(m.cagr) && isfinite(m.ann_volatility));
    assert_int_equal(tt_metrics_compute(NULL, 0, e, 30, 1000000, NULL, &m, NULL), TT_OK);
    assert_int_equal(m.annualized, 0);
    assert_true(isnan(m.sharpe) && isnan(m.cagr));

    tt_equity_point f[11];
    for (int i = 0; i < 11; i++)
        f[i] = pt(day0() + 5 * i * D + 12 * H, 1000000 + (i % 2) * 5000 + i * 100, 0);
    assert_int_equal(tt_metrics_compute(NULL, 0, f, 11, 1000000, NULL, &m, NULL), TT_OK);
    assert_int_equal(m.days, 11);
    assert_int_equal(m.annualized, 0);
    tt_metrics_opts o = {.min_returns = 10};
    assert_int_equal(tt_metrics_compute(NULL, 0, f, 11, 1000000, &o, &m, NULL), TT_OK);
    assert_int_equal(m.annualized, 1);
    assert_int_equal(m.min_days, 30);
    assert_true(isfinite(m.sharpe));
    o.min_days = 60;
    assert_int_equal(tt_metrics_compute(NULL, 0, f, 11, 1000000, &o, &m, NULL), TT_OK);
    assert_int_equal(m.annualized, 0);
    /* -1 switches a minimum off, and the figures state it as 0 */
    o.min_days = o.min_returns = -1;
    assert_int_equal(tt_metrics_compute(NULL, 0, f, 2, 1000000, &o, &m, NULL), TT_OK);
    assert_int_equal(m.annualized, 1);
    assert_int_equal(m.min_days, 0);
    assert_int_equal(m.min_returns, 0);
}

static void test_errors(void **state)
{
    (void)state;
    tt_err err;
    tt_metrics m;
    tt_equity_point e[2] = {pt(day0() + H, 1, 0), pt(day0(), 1, 0)};
    assert_int_equal(tt_metrics_compute(NULL, 0, e, 2, 100, NULL, &m, &err), TT_EORDER);
    assert_non_null(strstr(err.msg, "2019-02-04T00:00:00"));
    assert_int_equal(tt_metrics_compute(NULL, 0, NULL, 0, 0, NULL, &m, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "initial balance"));
}

/* Month closes 1,100,000 (Jan), 1,210,000 (Feb, after 1,000,000 mid-month),
 * 1,089,000 (Mar): +10%, +10%, -10%. */
static void test_monthly_hand(void **state)
{
    (void)state;
    tt_equity_point e[4] = {pt(tt_ts_from_civil(2019, 1, 31, 23, 0, 0, 0), 1100000, 0),
                            pt(tt_ts_from_civil(2019, 2, 15, 0, 0, 0, 0), 1000000, 0),
                            pt(tt_ts_from_civil(2019, 2, 28, 23, 59, 59, 0), 1210000, 0),
                            pt(tt_ts_from_civil(2019, 3, 1, 0, 0, 0, 0), 1089000, 0)};
    tt_month_return *mr;
    size_t n;
    assert_int_equal(tt_metrics_monthly(e, 4, 1000000, &mr, &n, NULL), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(mr[0].year, 2019);
    assert_int_equal(mr[0].month, 1);
    assert_int_equal(mr[2].month, 3);
    assert_near(mr[0].ret, 0.1, 1e-12);
    assert_near(mr[1].ret, 0.1, 1e-12);
    assert_near(mr[2].ret, -0.1, 1e-12);
    free(mr);
    assert_int_equal(tt_metrics_monthly(NULL, 0, 1000000, &mr, &n, NULL), TT_OK);
    assert_int_equal(n, 0);
}

/* The accumulator and the array form agree bit for bit; daily closes are kept. */
static void test_acc_equals_compute(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 7, 1);
    enum { N = 5000 };
    tt_equity_point *e = calloc(N, sizeof *e);
    tt_money eq = 1000000;
    tt_ts t = day0();
    for (int i = 0; i < N; i++) {
        t += (tt_ts)(tt_rng_bounded(&r, 120) + 1) * TT_NS_PER_MIN;
        eq += (tt_money)tt_rng_bounded(&r, 2001) - 1000;
        e[i] = pt(t, eq, tt_rng_bounded(&r, 3) - 1);
    }
    tt_metrics a, b;
    assert_int_equal(tt_metrics_compute(NULL, 0, e, N, 1000000, NULL, &a, NULL), TT_OK);
    tt_metrics_acc *acc = tt_metrics_acc_new(1000000, NULL);
    for (int i = 0; i < N; i++)
        assert_int_equal(tt_metrics_acc_equity(acc, &e[i], NULL), TT_OK);
    tt_metrics_acc_result(acc, &b);
    assert_memory_equal(&a, &b, sizeof a);
    const tt_ts *days;
    const tt_money *closes;
    size_t nd;
    tt_metrics_acc_daily(acc, &days, &closes, &nd);
    assert_int_equal(nd, a.days);
    assert_int_equal(days[0], day0());
    assert_int_equal(closes[nd - 1], e[N - 1].equity);
    tt_metrics_acc_free(acc);
    free(e);
}

/* A year and a half of random equity (with weekend gaps) and 300 random trades,
 * written as CSV; pandas computes the same figures from the definitions in
 * docs/metrics.md (resample to daily last, pct_change, std(ddof=1), cummax). */
static void test_against_pandas(void **state)
{
    (void)state;
    const char *py = "/usr/bin/python3";
    if (access(py, X_OK) != 0) {
        fprintf(stderr, "skip: %s not found\n", py);
        skip();
    }
    char dir[] = "/tmp/tt_metrics_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path_e[256], path_t[256], cmd[1024];
    snprintf(path_e, sizeof path_e, "%s/equity.csv", dir);
    snprintf(path_t, sizeof path_t, "%s/trades.csv", dir);

    tt_rng r;
    tt_rng_seed(&r, 42, 54);
    enum { N = 20000, NT = 300 };
    tt_equity_point *e = calloc(N, sizeof *e);
    tt_trade_record *tr = calloc(NT, sizeof *tr);
    tt_money eq = 5000000;
    tt_ts t = tt_ts_from_civil(2018, 1, 1, 0, 0, 0, 0);
    FILE *f = fopen(path_e, "w");
    assert_non_null(f);
    fprintf(f, "ts,equity,position\n");
    for (int i = 0; i < N; i++) {
        t += (tt_ts)(tt_rng_bounded(&r, 50) + 1) * TT_NS_PER_MIN;
        int64_t dow = ((t / TT_NS_PER_DAY) + 4) % 7; /* 0 = Sunday */
        if (dow == 6)
            t += TT_NS_PER_DAY; /* no points on Saturdays */
        eq += (tt_money)tt_rng_bounded(&r, 4001) - 1990;
        e[i] = pt(t, eq, tt_rng_bounded(&r, 4) == 0 ? 0 : 1);
        fprintf(f, "%lld,%lld,%lld\n", (long long)t, (long long)eq, (long long)e[i].position);
    }
    fclose(f);
    f = fopen(path_t, "w");
    assert_non_null(f);
    fprintf(f, "net,commission,swap,side\n");
    for (int i = 0; i < NT; i++) {
        tr[i].net = (tt_money)tt_rng_bounded(&r, 20001) - 9000;
        if (i % 17 == 0)
            tr[i].net = 0;
        tr[i].commission = tt_rng_bounded(&r, 1000);
        tr[i].swap = -(tt_money)tt_rng_bounded(&r, 300);
        tr[i].side = tt_rng_bounded(&r, 2) ? TT_BUY : TT_SELL;
        fprintf(f, "%lld,%lld,%lld,%d\n", (long long)tr[i].net, (long long)tr[i].commission,
                (long long)tr[i].swap, tr[i].side);
    }
    fclose(f);

    tt_metrics_opts o = {.periods_per_year = 252, .risk_free = 0.01};
    tt_metrics m;
    assert_int_equal(tt_metrics_compute(tr, NT, e, N, 5000000, &o, &m, NULL), TT_OK);

    snprintf(cmd, sizeof cmd, "%s %s/tests/core/test_metrics_oracle.py %s %s 5000000 252 0.01",
             py, TT_SOURCE_DIR, path_e, path_t);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256];
    int checked = 0, missing_pandas = 0;
    while (fgets(line, sizeof line, p)) {
        char key[64];
        double v;
        if (!strncmp(line, "SKIP", 4)) {
            missing_pandas = 1;
            continue;
        }
        if (sscanf(line, "%63s %lf", key, &v) != 2)
            continue;
        double got = NAN;
        if (!strcmp(key, "total_return")) got = m.total_return;
        else if (!strcmp(key, "cagr")) got = m.cagr;
        else if (!strcmp(key, "ann_volatility")) got = m.ann_volatility;
        else if (!strcmp(key, "sharpe")) got = m.sharpe;
        else if (!strcmp(key, "sortino")) got = m.sortino;
        else if (!strcmp(key, "calmar")) got = m.calmar;
        else if (!strcmp(key, "max_drawdown")) got = (double)m.max_drawdown;
        else if (!strcmp(key, "max_drawdown_frac")) got = m.max_drawdown_frac;
        else if (!strcmp(key, "max_dd_duration")) got = (double)m.max_dd_duration;
        else if (!strcmp(key, "time_in_market")) got = m.time_in_market;
        else if (!strcmp(key, "days")) got = m.days;
        else if (!strcmp(key, "win_rate")) got = m.win_rate;
        else if (!strcmp(key, "profit_factor")) got = m.profit_factor;
        else if (!strcmp(key, "expectancy")) got = m.expectancy;
        else if (!strcmp(key, "avg_win")) got = m.avg_win;
        else if (!strcmp(key, "avg_loss")) got = m.avg_loss;
        else if (!strcmp(key, "commissions")) got = (double)m.commissions;
        else if (!strcmp(key, "swaps")) got = (double)m.swaps;
        else if (!strcmp(key, "trade_stdev")) got = m.trade_stdev;
        else if (!strcmp(key, "sqn")) got = m.sqn;
        else if (!strcmp(key, "months")) continue;
        else fail_msg("unknown oracle key %s", key);
        fprintf(stderr, "%-18s c=%.15g pandas=%.15g\n", key, got, v);
        assert_near(got, v, 1e-9);
        checked++;
    }
    int rc = pclose(p);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(e);
    free(tr);
    if (missing_pandas) {
        fprintf(stderr, "skip: pandas not available in %s\n", py);
        skip();
    }
    assert_int_equal(rc, 0);
    assert_int_equal(checked, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily_hand),       cmocka_unit_test(test_drawdown_hand),
        cmocka_unit_test(test_trades_hand),      cmocka_unit_test(test_min_data_rule),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_monthly_hand),     cmocka_unit_test(test_acc_equals_compute),
        cmocka_unit_test(test_against_pandas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
