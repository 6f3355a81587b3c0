/*
 * The scenario key table at work: every kind of key refuses a bad value with
 * the file, line and key (bounds, words listing the allowed ones, booleans,
 * unknown keys, the synthetic section's own keys); the accepted spellings;
 * the rules between keys; prepare storing each key where it belongs, with
 * the defaults of the backtest; and strategy parameter errors, raised by the
 * strategy when the backtest builds it, naming the scenario line and key
 * strategy.params.X.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/backtest.h"
#include "sim/bar_model.h"
#include "sim/scenario.h"

/* A valid base: a short synthetic market and a strategy (lines 1-6). */
#define BASE                                                                                    \
    "data:\n"                                                    /* 1 */                        \
    "  synthetic:\n"                                             /* 2 */                        \
    "    model: gbm\n"                                           /* 3 */                        \
    "    from: 2024-01-02\n"                                     /* 4 */                        \
    "    to: 2024-01-02T02:00:00\n"                              /* 5 */                        \
    "strategy: {name: sma_cross}\n"                              /* 6 */

static tt_scenario *load(const char *text, tt_err *err)
{
    tt_scenario *s = NULL;
    if (tt_scenario_parse(&s, text, strlen(text), "t.yaml", NULL, err) != TT_OK)
        return NULL;
    return s;
}

/* The load (and the cross-key check) fails with exactly this message start. */
static void expect(const char *text, const char *want)
{
    tt_err err;
    tt_scenario *s = load(text, &err);
    int rc = s ? tt_scenario_check(s, &err) : TT_EINVAL;
    tt_scenario_free(s);
    if (rc != TT_EINVAL || strncmp(err.msg, want, strlen(want)))
        fail_msg("rc %d, message\n  '%s'\nwant\n  '%s...'", rc, err.msg, want);
}

static void test_every_kind_refused_with_file_line_key(void **state)
{
    (void)state;
    /* numbers: bounds, open bounds, integers, whole numbers */
    expect("venue:\n  latency_ms: 3600001\n",
           "t.yaml:2: venue.latency_ms: expected a number in [0, 3.6e+06], got '3600001'");
    expect("account: {leverage: 0}\n",
           "t.yaml:1: account.leverage: expected a number > 0, got '0'");
    expect("venue:\n  slippage: {points: 2.5}\n",
           "t.yaml:2: venue.slippage.points: expected an integer in [0, 1e+09], got '2.5'");
    expect("metrics:\n  periods_per_year: 0\n",
           "t.yaml:2: metrics.periods_per_year: expected a whole number in [1, 100000], got '0'");
    expect("risk:\n  max_drawdown_pct: inf\n",
           "t.yaml:2: risk.max_drawdown_pct: expected a number in [0, 99.999], got 'inf'");
    /* words list the allowed ones */
    expect("account:\n  mode: both\n",
           "t.yaml:2: account.mode: expected one of netting|hedging, got 'both'");
    expect("venue:\n  slippage:\n    model: gauss\n",
           "t.yaml:3: venue.slippage.model: expected one of none|fixed|random, got 'gauss'");
    /* booleans, timeframes, times, strings */
    expect("risk:\n  flatten_on_halt: sometimes\n",
           "t.yaml:2: risk.flatten_on_halt: expected true or false, got 'sometimes'");
    expect("metrics: {equity_interval: M7}\n",
           "t.yaml:1: metrics.equity_interval: expected a timeframe (M1, H1, ...), got 'M7'");
    expect("data: {from: 2019-13-01}\n", "t.yaml:1: data.from: expected a UTC time");
    expect("strategy: {name: ''}\n", "t.yaml:1: strategy.name: expected a value, got nothing");
    /* unknown keys list the keys known at that level */
    expect("venue:\n  latency_ms: 5\n  slipage: 3\n",
           "t.yaml:3: venue.slipage: unknown key (known here: latency_ms, slippage.model, "
           "slippage.points, commission.per_lot");
    expect("risk: {max_lots: 1}\n", "t.yaml:1: risk.max_lots: unknown key (known here: "
                                    "max_position_lots");
    /* the synthetic section: the synthetic market's table, at load time */
    expect("data:\n  synthetic:\n    model: gbm\n    sigma: lots\n",
           "t.yaml:4: data.synthetic.sigma: expected a number, got 'lots'");
    expect("data:\n  synthetic: {weekend: sometimes}\n",
           "t.yaml:2: data.synthetic.weekend: expected one of closed|open, got 'sometimes'");
    expect("data:\n  synthetic:\n    model: garch\n",
           "t.yaml:3: data.synthetic.model: expected one of gbm|merton|heston|regime|ou, got "
           "'garch'");
    expect("data:\n  synthetic:\n    sigmaa: 1\n",
           "t.yaml:3: data.synthetic.sigmaa: unknown key (known here: model, seed, symbols");
    /* rules between keys */
    expect(BASE "venue:\n  commission: {per_lot: 7, per_million: 30}\n",
           "t.yaml:8: venue.commission.per_million: give per_lot or per_million, not both");
    expect(BASE "risk:\n  daily_loss_pct: 5\n  daily_loss: 100\n",
           "t.yaml:9: risk.daily_loss: give daily_loss_pct or daily_loss, not both");
}

/* --set goes through the same table: the same checks, naming --set. */
static void test_set_uses_the_table(void **state)
{
    (void)state;
    tt_err err;
    tt_scenario *s = load(BASE, &err);
    assert_non_null(s);
    assert_int_equal(tt_scenario_set(s, "account.mode=both", &err), TT_EINVAL);
    assert_string_equal(err.msg, "--set account.mode: expected one of netting|hedging, got 'both'");
    assert_int_equal(tt_scenario_set(s, "data.synthetic.sigma=x", &err), TT_EINVAL);
    assert_string_equal(err.msg, "--set data.synthetic.sigma: expected a number, got 'x'");
    assert_int_equal(tt_scenario_set(s, "outputs.csv=maybe", &err), TT_EINVAL);
    assert_string_equal(err.msg, "--set outputs.csv: expected true or false, got 'maybe'");
    assert_int_equal(tt_scenario_set(s, "venue.latency_ms= 5 ", &err), TT_OK); /* blanks */
    tt_scenario_free(s);
}

/* One set of spellings for every boolean, enum words in any case. */
static void test_accepted_spellings(void **state)
{
    (void)state;
    tt_err err;
    tt_scenario *s = load(BASE "account: {mode: HEDGING, swaps: Off}\n"
                               "outputs: {html: YES, json: no, csv: 1, hdf5: FALSE}\n"
                               "risk: {flatten_on_halt: on}\n",
                          &err);
    if (!s)
        fail_msg("%s", err.msg);
    tt_scenario_run *run = calloc(1, sizeof *run);
    if (tt_scenario_prepare(s, run, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(run->cfg.venue.account.mode, TT_MODE_HEDGING);
    assert_int_equal(run->cfg.venue.account.swaps, 0);
    assert_int_equal(run->outputs.html, 1);
    assert_int_equal(run->outputs.json, 0);
    assert_int_equal(run->outputs.csv, 1);
    assert_int_equal(run->outputs.hdf5, 0);
    assert_int_equal(run->cfg.flatten_on_halt, 1);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
}

/* Keys absent: the table's defaults, which are the backtest's. */
static void test_prepare_defaults(void **state)
{
    (void)state;
    tt_err err;
    tt_scenario *s = load(BASE, &err);
    tt_scenario_run *run = calloc(1, sizeof *run);
    if (tt_scenario_prepare(s, run, &err))
        fail_msg("%s", err.msg);
    tt_backtest_config d;
    tt_backtest_config_default(&d);
    const tt_backtest_config *c = &run->cfg;
    assert_string_equal(c->venue.account.currency, d.venue.account.currency);
    assert_true(c->venue.account.initial_balance == d.venue.account.initial_balance);
    assert_true(c->venue.account.leverage == d.venue.account.leverage);
    assert_int_equal(c->venue.account.swaps, d.venue.account.swaps);
    assert_int_equal(c->venue.account.mode, d.venue.account.mode);
    assert_true(c->venue.margin_call_level == d.venue.margin_call_level);
    assert_true(c->venue.stop_out_level == d.venue.stop_out_level);
    assert_int_equal(c->venue.commission, TT_COMM_NONE);
    assert_int_equal(c->venue.slippage, TT_SLIP_NONE);
    assert_int_equal(c->flatten_on_halt, d.flatten_on_halt);
    assert_true(c->equity_interval == d.equity_interval);
    assert_true(c->trades_keep_max == d.trades_keep_max);
    assert_true(c->equity_keep_max == 200000);
    assert_true(c->risk.daily_loss_limit == 0 && c->risk.max_drawdown == 0);
    assert_true(c->seed == 1 && c->venue.seed == 1);
    assert_int_equal(run->metrics.periods_per_year, 252);
    assert_true(c->metrics.periods_per_year == 252 && c->metrics.risk_free == 0);
    assert_true(run->outputs.html && run->outputs.json && run->outputs.csv && run->outputs.hdf5);
    assert_string_equal(run->outputs.dir, "");
    assert_string_equal(c->strategy, "sma_cross");
    assert_string_equal(c->params, "");
    assert_string_equal(c->symbols[0], "EURUSD");
    assert_null(c->symbols[1]);
    assert_int_equal(run->synthetic, 1);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
}

/* Each key where it belongs, converted as documented. */
static void test_prepare_maps_every_key(void **state)
{
    (void)state;
    const char *text = BASE
        "seed: 9\n"
        "account: {currency: EUR, balance: 10000.50, leverage: 30}\n"
        "venue:\n"
        "  latency_ms: 5.5\n"
        "  slippage: {model: random, points: 3}\n"
        "  commission: {per_million: 25}\n"
        "  margin_call_pct: 80\n"
        "  stop_out_pct: 40\n"
        "  max_fill_lots: 2\n"
        "risk: {max_position_lots: 5, max_order_lots: 0.5, max_exposure: 1e6,\n"
        "       max_orders_per_sec: 7, daily_loss_pct: 5, max_drawdown_pct: 20,\n"
        "       flatten_on_halt: false}\n"
        "metrics: {periods_per_year: 365, risk_free: 0.02, equity_interval: H1,\n"
        "          equity_points: 1000, trades_in_memory: 0}\n";
    tt_err err;
    tt_scenario *s = load(text, &err);
    if (!s)
        fail_msg("%s", err.msg);
    assert_int_equal(tt_scenario_set(s, "strategy.params.fast=12", &err), TT_OK);
    tt_scenario_run *run = calloc(1, sizeof *run);
    if (tt_scenario_prepare(s, run, &err))
        fail_msg("%s", err.msg);
    const tt_backtest_config *c = &run->cfg;
    assert_true(c->seed == 9 && c->venue.seed == 9);
    assert_string_equal(c->venue.account.currency, "EUR");
    assert_true(c->venue.account.initial_balance == 1000050);
    assert_true(c->venue.account.leverage == 30);
    assert_true(c->venue.latency_ns == 5500000);
    assert_int_equal(c->venue.slippage, TT_SLIP_RANDOM);
    assert_true(c->venue.slippage_points == 3);
    assert_int_equal(c->venue.commission, TT_COMM_PER_NOTIONAL);
    assert_true(c->venue.commission_rate == 25 / 1e6);
    assert_true(c->venue.margin_call_level == 80 && c->venue.stop_out_level == 40);
    assert_true(c->venue.max_fill_qty == 200); /* lots in 0.01 steps */
    assert_true(c->risk.max_position == 500 && c->risk.max_order_qty == 50);
    assert_true(c->risk.max_exposure == 100000000);
    assert_true(c->risk.max_orders_per_sec == 7);
    assert_true(c->risk.daily_loss_limit == 50003); /* 5% of 10000.50, rounded */
    assert_true(c->risk.max_drawdown == 20 / 100.0);
    assert_int_equal(c->flatten_on_halt, 0);
    assert_true(c->metrics.periods_per_year == 365 && c->metrics.risk_free == 0.02);
    assert_true(c->equity_interval == TT_NS_PER_HOUR);
    assert_true(c->equity_keep_max == 1000 && c->trades_keep_max == 0);
    assert_string_equal(c->params, "fast=12");
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
}

/* Errors found while preparing still name the line and key. */
static void expect_prepare(const char *text, const char *set, const char *want)
{
    tt_err err;
    tt_scenario *s = load(text, &err);
    if (!s)
        fail_msg("%s", err.msg);
    if (set && tt_scenario_set(s, set, &err))
        fail_msg("%s", err.msg);
    tt_scenario_run *run = calloc(1, sizeof *run);
    int rc = tt_scenario_prepare(s, run, &err);
    free(run);
    tt_scenario_free(s);
    if (rc != TT_EINVAL || strncmp(err.msg, want, strlen(want)))
        fail_msg("rc %d, message\n  '%s'\nwant\n  '%s...'", rc, err.msg, want);
}

/* The bar model keys: their defaults (real ticks, no spread), then each given. */
static void test_prepare_bar_model_keys(void **state)
{
    (void)state;
    const char *tape = "data: {tape: t, symbols: [EURUSD]}\nstrategy: {name: sma_cross}\n";
    const char *sets[3][3] = {{NULL, NULL, NULL},
                              {"data.model=OHLC_M1", "data.spread_points=7", NULL},
                              {"data.model=every_tick", "data.spread=from_bars", NULL}};
    int want[3][3] = {{TT_MODEL_REAL_TICKS, 0, 0},
                      {TT_MODEL_OHLC_M1, 7, 0},
                      {TT_MODEL_EVERY_TICK, 0, 1}};
    for (int k = 0; k < 3; k++) {
        tt_err err;
        tt_scenario *s = load(tape, &err);
        if (!s)
            fail_msg("%s", err.msg);
        for (int i = 0; sets[k][i]; i++)
            assert_int_equal(tt_scenario_set(s, sets[k][i], &err), TT_OK);
        tt_scenario_run *run = calloc(1, sizeof *run);
        if (tt_scenario_prepare(s, run, &err))
            fail_msg("%s", err.msg);
        assert_int_equal(run->cfg.model, want[k][0]);
        assert_true(run->cfg.spread_points == want[k][1]);
        assert_int_equal(run->cfg.spread_from_bars, want[k][2]);
        tt_scenario_release(run);
        free(run);
        tt_scenario_free(s);
    }
}

static void test_prepare_errors_name_line_and_key(void **state)
{
    (void)state;
    expect_prepare(BASE "risk:\n  max_order_lots: 0.015\n", NULL,
                   "t.yaml:8: risk.max_order_lots: 0.015 lots is not a whole number of volume "
                   "steps (0.01)");
    expect_prepare(BASE "metrics: {equity_interval: MN1}\n", NULL,
                   "t.yaml:7: metrics.equity_interval: needs a fixed-length timeframe");
    /* the synthetic market's bounds and rules: the line of the key at fault */
    expect_prepare("data:\n  synthetic:\n    model: gbm\n    sigma: 11\nstrategy: {name: s}\n",
                   NULL, "t.yaml:4: data.synthetic.sigma: 11 is outside [0, 10]");
    expect_prepare("data:\n  synthetic:\n    from: 2024-02-01\n    to: 2024-01-01\n"
                   "strategy: {name: s}\n",
                   NULL, "t.yaml:4: data.synthetic.to: must be later than from");
    expect_prepare(BASE, "data.synthetic.tick_rate=0",
                   "--set data.synthetic.tick_rate: 0 is outside (0, 1e+07]");
    /* a bound of the chosen model only */
    expect_prepare("data:\n  synthetic:\n    model: merton\n    lambda: -1\nstrategy: {name: s}\n",
                   NULL, "t.yaml:4: data.synthetic.lambda: -1 is outside [0, 1e6]");
}

/* The strategy checks its parameters when the backtest builds it; the
 * message names where each was written. */
static void expect_run(const char *params, const char *set, const char *want)
{
    char text[1024];
    snprintf(text, sizeof text,
             "data:\n"                              /* 1 */
             "  synthetic: {from: 2024-01-02, to: 2024-01-02T01:00:00}\n" /* 2 */
             "strategy:\n"                          /* 3 */
             "  name: sma_cross\n"                  /* 4 */
             "  params:\n"                          /* 5 */
             "%s",                                  /* 6.. */
             params);
    tt_err err;
    tt_scenario *s = load(text, &err);
    if (!s)
        fail_msg("%s", err.msg);
    if (set && tt_scenario_set(s, set, &err))
        fail_msg("%s", err.msg);
    tt_scenario_run *run = calloc(1, sizeof *run);
    if (tt_scenario_prepare(s, run, &err))
        fail_msg("%s", err.msg);
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    int rc = tt_backtest_run(&run->cfg, &r, &err);
    tt_backtest_result_free(&r);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    if (rc != TT_EINVAL || strncmp(err.msg, want, strlen(want)))
        fail_msg("rc %d, message\n  '%s'\nwant\n  '%s...'", rc, err.msg, want);
}

static void test_strategy_param_errors_name_file_line_key(void **state)
{
    (void)state;
    expect_run("    fast: 0\n", NULL,
               "t.yaml:6: strategy.params.fast: strategy sma_cross: parameter fast=0: outside "
               "[1, 100000]");
    expect_run("    tf: M5\n    fast: ten\n", NULL,
               "t.yaml:7: strategy.params.fast: strategy sma_cross: parameter fast=ten: not an "
               "integer");
    expect_run("    tf: M5\n    fastt: 3\n", NULL,
               "t.yaml:7: strategy.params.fastt: strategy sma_cross: unknown parameter 'fastt'");
    /* a rule of the strategy's own: the last parameter it read */
    expect_run("    fast: 40\n    slow: 30\n", NULL,
               "t.yaml:7: strategy.params.slow: strategy sma_cross: parameters fast and slow");
    expect_run("    fast: 5\n", "strategy.params.tf=Q9",
               "--set strategy.params.tf: strategy sma_cross: parameter tf: not a timeframe");
    expect_run("    fast: 5\n", "strategy.params.slow=3",
               "--set strategy.params.slow: strategy sma_cross: parameters fast and slow");
    expect_run("    fast: 5\n", "strategy.params.side=up",
               "--set strategy.params.side: strategy sma_cross: parameter side: bid, ask or mid");
}

/* Where the callback places a parameter that was not written (a strategy's
 * rule about a default), and the parameters as a whole. */
static void test_param_origin_fallbacks(void **state)
{
    (void)state;
    tt_err err;
    tt_scenario *s = load(BASE "strategy:\n  params: {fast: 3}\n", &err);
    if (!s)
        fail_msg("%s", err.msg);
    assert_int_equal(tt_scenario_set(s, "strategy.name=rsi_reversion", &err), TT_OK);
    tt_scenario_run *run = calloc(1, sizeof *run);
    if (tt_scenario_prepare(s, run, &err))
        fail_msg("%s", err.msg);
    char buf[200];
    run->cfg.param_origin(run->cfg.param_origin_ctx, "fast", buf, sizeof buf);
    assert_string_equal(buf, "t.yaml:8: strategy.params.fast: ");
    run->cfg.param_origin(run->cfg.param_origin_ctx, "lower", buf, sizeof buf);
    assert_string_equal(buf, "--set strategy.params.lower: ");
    run->cfg.param_origin(run->cfg.param_origin_ctx, NULL, buf, sizeof buf);
    assert_string_equal(buf, "--set strategy.name: ");
    tt_scenario_release(run);
    assert_null(run->cfg.param_origin);
    free(run);
    tt_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_refused_with_file_line_key),
        cmocka_unit_test(test_set_uses_the_table),
        cmocka_unit_test(test_accepted_spellings),
        cmocka_unit_test(test_prepare_defaults),
        cmocka_unit_test(test_prepare_maps_every_key),
        cmocka_unit_test(test_prepare_bar_model_keys),
        cmocka_unit_test(test_prepare_errors_name_line_and_key),
        cmocka_unit_test(test_strategy_param_errors_name_file_line_key),
        cmocka_unit_test(test_param_origin_fallbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
