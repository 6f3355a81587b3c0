/*
 * Scenario files: flattening, schema checks with file/line/key in every
 * message, --set overrides, cross-key checks, path resolution.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "sim/scenario.h"

static const char FULL[] =
    "# a full scenario\n"                                    /* 1 */
    "name: sma-cross-eurusd\n"                               /* 2 */
    "seed: 42\n"                                             /* 3 */
    "data:\n"                                                /* 4 */
    "  tape: data/eurusd\n"                                  /* 5 */
    "  symbols: [EURUSD, GBPUSD]\n"                          /* 6 */
    "  from: 2019-02-04\n"                                   /* 7 */
    "  to: 2019-02-06\n"                                     /* 8 */
    "account: {currency: USD, balance: 10000.50, leverage: 100}\n" /* 9 */
    "venue:\n"                                               /* 10 */
    "  latency_ms: 5\n"                                      /* 11 */
    "  slippage: {model: fixed, points: 2}\n"                /* 12 */
    "  commission: {per_lot: 7}\n"                           /* 13 */
    "risk: {max_position_lots: 5, daily_loss_pct: 5, max_drawdown_pct: 20}\n" /* 14 */
    "strategy:\n"                                            /* 15 */
    "  name: sma_cross\n"                                    /* 16 */
    "  params: {fast: 10, slow: 30, timeframe: M1, lots: 0.1}\n" /* 17 */
    "outputs: {dir: out, html: true, json: yes, csv: off}\n" /* 18 */
    "sweep:\n"                                               /* 19 */
    "  fast: [5, 10, 20]\n"                                  /* 20 */
    "gates:\n"                                               /* 21 */
    "  - {metric: sharpe, min: 0.5}\n"                       /* 22 */
    "  - {metric: max_drawdown_pct, max: 15}\n";             /* 23 */

static tt_scenario *parse(const char *text, tt_err *err)
{
    tt_scenario *s = NULL;
    int rc = tt_scenario_parse(&s, text, strlen(text), "t.yaml", "/base", err);
    if (rc != TT_OK)
        return NULL;
    return s;
}

static void expect_error(const char *text, int code, const char *needle)
{
    tt_err err;
    tt_scenario *s = NULL;
    int rc = tt_scenario_parse(&s, text, strlen(text), "t.yaml", NULL, &err);
    if (rc == TT_OK)
        rc = tt_scenario_check(s, &err);
    tt_scenario_free(s);
    if (rc != code || !strstr(err.msg, needle))
        fail_msg("rc %d (want %d), message '%s' lacks '%s'", rc, code, err.msg, needle);
}

static void test_full_example(void **state)
{
    (void)state;
    tt_err err;
    tt_scenario *s = parse(FULL, &err);
    if (!s)
        fail_msg("%s", err.msg);
    assert_int_equal(tt_scenario_check(s, &err), TT_OK);
    assert_string_equal(tt_scenario_name(s), "sma-cross-eurusd");
    assert_int_equal(tt_scenario_seed(s), 42);
    assert_string_equal(tt_scenario_get(s, "data.symbols", ""), "EURUSD,GBPUSD");
    assert_true(tt_scenario_find(s, "data.symbols")->is_list);
    assert_string_equal(tt_scenario_get(s, "venue.slippage.model", ""), "fixed");
    assert_int_equal(tt_scenario_find(s, "venue.slippage.points")->line, 12);
    assert_string_equal(tt_scenario_get(s, "sweep.fast", ""), "5,10,20");
    assert_string_equal(tt_scenario_get(s, "gates.1.metric", ""), "max_drawdown_pct");
    assert_int_equal(tt_scenario_find(s, "gates.1.max")->line, 23);

    tt_money bal;
    assert_int_equal(tt_scenario_money(s, "account.balance", 0, 100, &bal, &err), TT_OK);
    assert_int_equal(bal, 1000050);
    {
        tt_scenario *z = parse("account: {currency: USD, balance: 500.2500000000000000000000}\n", &err);
        assert_non_null(z);
        assert_int_equal(tt_scenario_money(z, "account.balance", 0, 100, &bal, &err), TT_OK);
        assert_int_equal(bal, 50025); /* trailing zeros past int64's reach are still exact */
        tt_scenario_free(z);
    }
    int b;
    assert_int_equal(tt_scenario_bool(s, "outputs.json", 0, &b, &err), TT_OK);
    assert_int_equal(b, 1);
    assert_int_equal(tt_scenario_bool(s, "outputs.csv", 1, &b, &err), TT_OK);
    assert_int_equal(b, 0);
    assert_int_equal(tt_scenario_bool(s, "outputs.hdf5", 1, &b, &err), TT_OK);
    assert_int_equal(b, 1); /* absent: default */
    tt_ts from;
    assert_int_equal(tt_scenario_ts(s, "data.from", 0, &from, &err), TT_OK);
    assert_int_equal(from, tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0));
    double lat;
    assert_int_equal(tt_scenario_double(s, "venue.latency_ms", 0, &lat, &err), TT_OK);
    assert_true(lat == 5.0);
    char path[256];
    assert_int_equal(tt_scenario_path(s, "data.tape", path, sizeof path, &err), TT_OK);
    assert_string_equal(path, "/base/data/eurusd");

    /* strategy params in file order */
    size_t pos = 0;
    const tt_scenario_entry *e;
    const char *want[] = {"strategy.params.fast", "strategy.params.slow",
                          "strategy.params.timeframe", "strategy.params.lots"};
    int k = 0;
    while ((e = tt_scenario_next(s, "strategy.params", &pos)) != NULL)
        assert_string_equal(e->key, want[k++]);
    assert_int_equal(k, 4);

    /* canonical dump is stable and lists overrides in place */
    assert_int_equal(tt_scenario_set(s, "venue.latency_ms=10", &err), TT_OK);
    assert_int_equal(tt_scenario_set(s, "metrics.risk_free=0.02", &err), TT_OK);
    assert_int_equal(tt_scenario_set(s, "data.tape=rel/tape", &err), TT_OK);
    assert_int_equal(tt_scenario_path(s, "data.tape", path, sizeof path, &err), TT_OK);
    assert_string_equal(path, "rel/tape"); /* --set paths: current directory */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tt_scenario_write(s, f);
    fclose(f);
    assert_non_null(strstr(buf, "venue.latency_ms: 10\nvenue.slippage.model: fixed\n"));
    assert_non_null(strstr(buf, "data.symbols: [EURUSD,GBPUSD]\n"));
    assert_non_null(strstr(buf, "metrics.risk_free: 0.02\n"));
    free(buf);
    assert_string_equal(tt_scenario_find(s, "venue.latency_ms")->file, "--set");
    tt_scenario_free(s);
}

static void test_errors_name_file_line_key(void **state)
{
    (void)state;
    /* unknown key: file, line, key and what the section takes */
    expect_error("name: x\nvenue:\n  latncy_ms: 5\n", TT_EINVAL,
                 "t.yaml:3: venue.latncy_ms: unknown key (known here: latency_ms");
    expect_error("nme: x\n", TT_EINVAL, "t.yaml:1: nme: unknown key (known here: name, description, seed, data");
    /* bad values */
    expect_error("venue: {latency_ms: fast}\n", TT_EINVAL,
                 "t.yaml:1: venue.latency_ms: expected a number in [0, 3.6e+06], got 'fast'");
    expect_error("a: 1\n", TT_EINVAL, "t.yaml:1: a: unknown key");
    expect_error("\n\nseed: -3\n", TT_EINVAL, "t.yaml:3: seed: expected a whole number >= 0, got '-3'");
    expect_error("account:\n  currency: usd\n", TT_EINVAL,
                 "t.yaml:2: account.currency: expected a 3-letter currency code");
    expect_error("account:\n  balance: 10.001\n", TT_EINVAL,
                 "t.yaml:2: account.balance: expected a positive amount with at most 2 decimals");
    /* many decimals (a fuzzer's find: once an int64 overflow): refused, not wrapped */
    expect_error("account: {currency: USD, balance: 500.99999999999999999}\n", TT_EINVAL,
                 "t.yaml:1: account.balance: expected a positive amount with at most 2 decimals");
    expect_error("outputs:\n  html: maybe\n", TT_EINVAL, "t.yaml:2: outputs.html: expected true or false, got 'maybe'");
    expect_error("data:\n  from: yesterday\n", TT_EINVAL, "t.yaml:2: data.from: expected a UTC time");
    /* beyond int64 nanoseconds (1678..2261): refused, not wrapped around */
    expect_error("data:\n  from: 9999-01-01\n", TT_EINVAL, "t.yaml:2: data.from: expected a UTC time");
    expect_error("data:\n  to: 99999999999s\n", TT_EINVAL, "t.yaml:2: data.to: expected a UTC time");
    expect_error("venue:\n  slippage: {model: gaussian}\n", TT_EINVAL,
                 "t.yaml:2: venue.slippage.model: expected one of none|fixed|random, got 'gaussian'");
    expect_error("account: 5\n", TT_EINVAL, "t.yaml:1: account: expected a mapping");
    expect_error("seed: 1\nseed: 2\n", TT_EFORMAT, "t.yaml:2: seed: duplicate key (first at line 1)");
    /* YAML syntax */
    expect_error("name: x\nvenue: {latency_ms: 5\nrisk: 1\n", TT_EFORMAT, "t.yaml:");
    expect_error("", TT_EFORMAT, "t.yaml: empty scenario");
    expect_error("- a\n- b\n", TT_EFORMAT, "a scenario is a mapping");
    expect_error("name: x\n---\nname: y\n", TT_EFORMAT, "only one YAML document");
    /* a second document that does not even parse is refused too, not ignored */
    expect_error("name: x\n---\nname: [y\n", TT_EFORMAT, "t.yaml:4: YAML:");
    /* cross-key checks */
    expect_error("strategy: {name: s}\n", TT_EINVAL, "no market data");
    expect_error("data:\n  tape: t\n  symbols: [EURUSD]\n  synthetic: {model: gbm}\nstrategy: {name: s}\n",
                 TT_EINVAL, "t.yaml:4: data.synthetic: give either data.tape or data.synthetic");
    expect_error("data:\n  tape: t\nstrategy: {name: s}\n", TT_EINVAL, "t.yaml:2: data.symbols: a tape needs");
    expect_error("data:\n  tape: t\n  symbols: [EURUSD]\n  from: 2019-02-05\n  to: 2019-02-04\n"
                 "strategy: {name: s}\n",
                 TT_EINVAL, "t.yaml:5: data.to: must be after data.from");
    expect_error("data:\n  synthetic: {model: gbm}\n", TT_EINVAL, "strategy.name: missing");
    /* bar models: a tape's, with a spread of one kind */
    expect_error("data:\n  tape: t\n  symbols: [EURUSD]\n  model: ohlc\n", TT_EINVAL,
                 "t.yaml:4: data.model: expected one of real_ticks|every_tick|ohlc_m1|open_prices");
    expect_error("data:\n  synthetic: {model: gbm}\n  model: ohlc_m1\nstrategy: {name: s}\n",
                 TT_EINVAL, "t.yaml:3: data.model: a bar model generates prices from a tape's bars");
    expect_error("data:\n  tape: t\n  symbols: [EURUSD]\n  spread_points: 5\nstrategy: {name: s}\n",
                 TT_EINVAL, "t.yaml:4: data.spread_points: only with a bar model");
    expect_error("data:\n  tape: t\n  symbols: [EURUSD]\n  model: real_ticks\n  spread: from_bars\n"
                 "strategy: {name: s}\n",
                 TT_EINVAL, "t.yaml:5: data.spread: only with a bar model");
    expect_error("data:\n  tape: t\n  symbols: [EURUSD]\n  model: every_tick\n  spread: from_bars\n"
                 "  spread_points: 2\nstrategy: {name: s}\n",
                 TT_EINVAL, "t.yaml:6: data.spread_points: give spread_points or spread: from_bars");
    expect_error("data:\n  spread_points: -1\n", TT_EINVAL,
                 "t.yaml:2: data.spread_points: expected an integer in [0, 1e+09], got '-1'");
}

static void test_set_overrides(void **state)
{
    (void)state;
    tt_err err;
    tt_scenario *s = parse(FULL, &err);
    assert_non_null(s);
    assert_int_equal(tt_scenario_set(s, "venue.latency_ms", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "expected key=value"));
    assert_int_equal(tt_scenario_set(s, "venue.latency=3", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "--set venue.latency: unknown key"));
    assert_int_equal(tt_scenario_set(s, "risk.daily_loss_pct=150", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "--set risk.daily_loss_pct: expected a number in [0, 100]"));
    /* free-form sections take anything; lists may be written a,b */
    assert_int_equal(tt_scenario_set(s, "strategy.params.fast=12", &err), TT_OK);
    assert_string_equal(tt_scenario_get(s, "strategy.params.fast", ""), "12");
    assert_int_equal(tt_scenario_set(s, "data.symbols=EURUSD", &err), TT_OK);
    assert_true(tt_scenario_find(s, "data.symbols")->is_list);
    assert_int_equal(tt_scenario_set(s, "seed=7", &err), TT_OK);
    assert_int_equal(tt_scenario_seed(s), 7);
    tt_scenario_free(s);
}

typedef struct collect {
    char buf[512];
    int fail_on;
    int n;
} collect;

static int collect_fn(void *ctx, const char *key, const char *value, tt_err *err)
{
    collect *c = ctx;
    if (++c->n == c->fail_on)
        return tt_err_set(err, TT_EINVAL, "bad value '%s'", value);
    size_t used = strlen(c->buf);
    snprintf(c->buf + used, sizeof c->buf - used, "%s=%s;", key, value);
    return TT_OK;
}

static void test_synthetic_section(void **state)
{
    (void)state;
    const char *text = "data:\n"
                       "  synthetic:\n"
                       "    model: heston\n"
                       "    symbols: [EURUSD, GBPUSD]\n"
                       "    corr: [[1, 0.5], [0.5, 1]]\n"
                       "    sigma: 0.1\n"
                       "strategy: {name: sma_cross}\n";
    tt_err err;
    tt_scenario *s = parse(text, &err);
    if (!s)
        fail_msg("%s", err.msg);
    assert_int_equal(tt_scenario_check(s, &err), TT_OK);
    collect c = {.fail_on = 0};
    assert_int_equal(tt_scenario_each(s, "data.synthetic", collect_fn, &c, &err), TT_OK);
    assert_string_equal(c.buf, "model=heston;symbols=EURUSD,GBPUSD;corr=1,0.5;0.5,1;sigma=0.1;");
    collect d = {.fail_on = 4};
    assert_int_equal(tt_scenario_each(s, "data.synthetic", collect_fn, &d, &err), TT_EINVAL);
    assert_string_equal(err.msg, "t.yaml:6: data.synthetic.sigma: bad value '0.1'");
    tt_scenario_free(s);
}

static void test_load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/tt_scen_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/run.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs(FULL, f);
    fclose(f);
    tt_scenario *s;
    tt_err err;
    assert_int_equal(tt_scenario_load(&s, path, &err), TT_OK);
    char tape[400], want[400];
    assert_int_equal(tt_scenario_path(s, "data.tape", tape, sizeof tape, &err), TT_OK);
    snprintf(want, sizeof want, "%s/data/eurusd", dir);
    assert_string_equal(tape, want);
    assert_string_equal(tt_scenario_file(s), path);
    tt_scenario_free(s);
    /* the name defaults to the file name */
    f = fopen(path, "w");
    fputs("seed: 1\n", f);
    fclose(f);
    assert_int_equal(tt_scenario_load(&s, path, &err), TT_OK);
    assert_string_equal(tt_scenario_name(s), "run");
    tt_scenario_free(s);
    unlink(path);
    rmdir(dir);
    assert_int_equal(tt_scenario_load(&s, path, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "run.yaml: cannot open scenario"));
}

static void test_schema_listing(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tt_scenario_schema_write(f);
    fclose(f);
    assert_non_null(strstr(buf, "venue.latency_ms"));
    assert_non_null(strstr(buf, "strategy.params.*"));
    free(buf);
}

/* YAML aliases cannot blow a small file up into millions of keys. */
static void test_alias_bomb(void **state)
{
    (void)state;
    const char *text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "gates: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    expect_error(text, TT_EINVAL, "t.yaml:1: a: unknown key");
    const char *text2 = "gates:\n  a: &a [[x, x], [x, x], [x, x], [x, x], [x, x], [x, x]]\n"
                        "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                        "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                        "  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                        "  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    expect_error(text2, TT_EFORMAT, "more than 10000 keys");
}

/* Random byte edits of a valid scenario: every outcome is either a scenario or
 * an error whose message starts with the file name (never a crash; ASan runs
 * this too). */
static void test_mutations(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 2024, 7);
    size_t n = strlen(FULL);
    char *buf = malloc(n + 1);
    static const char alphabet[] = "{}[]:,-&*!|>'\"#\n x1.";
    int ok = 0, bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, FULL, n + 1);
        int edits = 1 + (int)tt_rng_bounded(&r, 4);
        for (int k = 0; k < edits; k++)
            buf[tt_rng_bounded(&r, (uint32_t)n)] = alphabet[tt_rng_bounded(&r, sizeof alphabet - 1)];
        size_t len = tt_rng_bounded(&r, 8) == 0 ? tt_rng_bounded(&r, (uint32_t)n) : n;
        tt_scenario *s = NULL;
        tt_err err;
        tt_err_clear(&err);
        int rc = tt_scenario_parse(&s, buf, len, "m.yaml", NULL, &err);
        if (rc == TT_OK) {
            ok++;
            tt_scenario_check(s, &err);
            tt_scenario_free(s);
        } else {
            bad++;
            if (strncmp(err.msg, "m.yaml", 6) != 0)
                fail_msg("error without the file name: '%s'", err.msg);
        }
    }
    free(buf);
    assert_true(ok > 100 && bad > 100); /* both paths were exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_example),     cmocka_unit_test(test_errors_name_file_line_key),
        cmocka_unit_test(test_set_overrides),    cmocka_unit_test(test_synthetic_section),
        cmocka_unit_test(test_load_file),        cmocka_unit_test(test_schema_listing),
        cmocka_unit_test(test_alias_bomb),       cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
