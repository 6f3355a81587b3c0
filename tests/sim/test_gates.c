/*
 * Gates: reading the section, thresholds (an undefined figure fails), change
 * against a baseline in the bad direction only, skipped min_wfe on a plain
 * backtest, and JUnit XML that Python's own XML parser reads back with the
 * right counts.
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
#include <sys/stat.h>
#include <unistd.h>

#include "sim/gates.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tt_gates_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    return system(cmd);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static int read_gates(const char *yaml, tt_gates *g, tt_err *err)
{
    char path[300];
    snprintf(path, sizeof path, "%s/scenario.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs(yaml, f);
    fclose(f);
    tt_research_doc *d;
    int rc = tt_research_doc_load(&d, path, err);
    if (rc)
        return rc;
    rc = tt_gates_read(g, d, err);
    tt_research_doc_free(d);
    return rc;
}

static tt_metrics figures(void)
{
    tt_metrics m;
    memset(&m, 0, sizeof m);
    m.sharpe = 0.8;
    m.max_drawdown_pct = 12.5;
    m.trades = 40;
    m.net_pnl = 90000; /* 900.00 */
    m.profit_factor = 1.3;
    return m;
}

static void test_thresholds(void **state)
{
    (void)state;
    tt_gates g;
    tt_err err;
    assert_int_equal(read_gates("gates:\n  min_sharpe: 0.5\n  max_drawdown_pct: 10\n"
                                "  min_trades: 10\n  min_wfe: 0.5\n",
                                &g, &err),
                     0);
    assert_int_equal(g.n, 4);
    tt_metrics m = figures();
    tt_gate_result *r;
    size_t nfail;
    assert_int_equal(tt_gates_eval(&g, &m, NULL, &r, &nfail, &err), 0);
    /* 0.8 >= 0.5 pass; 12.5 > 10 fail; 40 >= 10 pass; no wfe: skipped. */
    assert_int_equal(nfail, 1);
    assert_int_equal(r[0].verdict, TT_GATE_PASS);
    assert_int_equal(r[1].verdict, TT_GATE_FAIL);
    assert_string_equal(r[1].name, "max_drawdown_pct");
    assert_string_equal(r[1].detail, "max_drawdown_pct 12.5 > 10");
    assert_int_equal(r[2].verdict, TT_GATE_PASS);
    assert_int_equal(r[3].verdict, TT_GATE_SKIP);
    free(r);
    /* With a walk-forward efficiency of 0.4 the wfe gate applies and fails. */
    double wfe = 0.4;
    assert_int_equal(tt_gates_eval(&g, &m, &wfe, &r, &nfail, &err), 0);
    assert_int_equal(nfail, 2);
    assert_int_equal(r[3].verdict, TT_GATE_FAIL);
    free(r);
    /* An undefined Sharpe (NaN) fails min_sharpe. */
    m.sharpe = NAN;
    m.max_drawdown_pct = 10; /* equal to the limit: passes */
    wfe = 0.6;
    assert_int_equal(tt_gates_eval(&g, &m, &wfe, &r, &nfail, &err), 0);
    assert_int_equal(nfail, 1);
    assert_int_equal(r[0].verdict, TT_GATE_FAIL);
    assert_string_equal(r[0].detail, "sharpe n/a < 0.5");
    free(r);
    /* A walk-forward whose efficiency is undefined fails min_wfe. */
    m.sharpe = 1;
    wfe = NAN;
    assert_int_equal(tt_gates_eval(&g, &m, &wfe, &r, &nfail, &err), 0);
    assert_int_equal(nfail, 1);
    assert_int_equal(r[3].verdict, TT_GATE_FAIL);
    free(r);
    tt_gates_free(&g);

    /* Money in currency units: net_pnl 90000 minor = 900.00 USD. */
    assert_int_equal(read_gates("gates:\n  min_net_pnl: 1000\n  max_max_drawdown: 50\n", &g, &err),
                     0);
    m = figures();
    m.max_drawdown = 4999; /* 49.99 */
    assert_int_equal(tt_gates_eval(&g, &m, NULL, &r, &nfail, &err), 0);
    assert_int_equal(nfail, 1);
    assert_string_equal(r[0].detail, "net_pnl 900 < 1000");
    assert_int_equal(r[1].verdict, TT_GATE_PASS);
    free(r);
    tt_gates_free(&g);
}

static void test_baseline(void **state)
{
    (void)state;
    tt_gates g;
    tt_err err;
    assert_int_equal(
        read_gates("gates:\n  baseline: base.json\n"
                   "  max_change_pct: {sharpe: 20, net_pnl: 25, max_drawdown_pct: 10}\n",
                   &g, &err),
        0);
    char want[400];
    snprintf(want, sizeof want, "%s/base.json", dir);
    assert_string_equal(g.baseline, want);
    tt_metrics m = figures();
    tt_gate_result *r;
    size_t nfail;
    /* No baseline file yet: an error, not a pass. */
    assert_int_equal(tt_gates_eval(&g, &m, NULL, &r, &nfail, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "base.json: cannot open the gates baseline"));
    /* One that opens but cannot be read (a directory): an error too, not a
     * verdict on what was read before the error. */
    assert_int_equal(mkdir(want, 0700), 0);
    assert_int_equal(tt_gates_eval(&g, &m, NULL, &r, &nfail, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "base.json: cannot read the gates baseline"));
    assert_int_equal(rmdir(want), 0);
    /* Baseline: sharpe 1.0, net_pnl 100000, max_drawdown_pct 12.0. */
    tt_metrics b = figures();
    b.sharpe = 1.0;
    b.net_pnl = 100000;
    b.max_drawdown_pct = 12.0;
    assert_int_equal(tt_baseline_write(want, &b, NULL, 100, &err), 0);
    assert_int_equal(tt_gates_eval(&g, &m, NULL, &r, &nfail, &err), 0);
    /* sharpe 0.8 vs 1.0: 20% worse, limit 20: pass (not more than the limit).
     * net_pnl 90000 vs 100000: 10% worse, limit 25: pass.
     * max_drawdown_pct 12.5 vs 12 (lower is better): 4.1667% worse, limit 10: pass. */
    assert_int_equal(nfail, 0);
    assert_true(fabs(r[0].change_pct - 20.0) < 1e-9);
    assert_true(fabs(r[1].change_pct - 10.0) < 1e-12);
    assert_true(fabs(r[2].change_pct - 0.5 / 12.0 * 100.0) < 1e-12);
    free(r);
    /* sharpe 0.7: 30% worse: fails; a better net_pnl always passes. */
    m.sharpe = 0.7;
    m.net_pnl = 500000;
    assert_int_equal(tt_gates_eval(&g, &m, NULL, &r, &nfail, &err), 0);
    assert_int_equal(nfail, 1);
    assert_int_equal(r[0].verdict, TT_GATE_FAIL);
    assert_string_equal(r[0].name, "max_change_pct.sharpe");
    assert_true(r[1].change_pct < 0);
    assert_int_equal(r[1].verdict, TT_GATE_PASS);

    /* JUnit XML, checked by Python's XML parser (an oracle we did not write). */
    char xml[400], cmd[1200];
    snprintf(xml, sizeof xml, "%s/gates.xml", dir);
    assert_int_equal(tt_gates_junit(xml, "eurusd <sma> & co", r, g.n, &err), 0);
    snprintf(
        cmd, sizeof cmd,
        "/usr/bin/python3 -c \"import xml.etree.ElementTree as E,sys;"
        "s=E.parse('%s').getroot().find('testsuite');"
        "c=s.findall('testcase');"
        "ok=(s.get('name')=='eurusd <sma> & co' and s.get('tests')=='3' and s.get('failures')=='1'"
        " and len(c)==3 and c[0].find('failure') is not None and c[1].find('failure') is None"
        " and 'sharpe 0.7' in c[0].find('failure').get('message'));"
        "sys.exit(0 if ok else 1)\"",
        xml);
    assert_int_equal(system(cmd), 0);
    free(r);
    tt_gates_free(&g);
}

static void expect_error(const char *yaml, const char *needle)
{
    tt_gates g;
    tt_err err;
    tt_err_clear(&err);
    int rc = read_gates(yaml, &g, &err);
    if (!rc || !strstr(err.msg, needle))
        fprintf(stderr, "want '%s' got %d '%s'\n", needle, rc, err.msg);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err.msg, needle));
    tt_gates_free(&g);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("a: 1\n", "no gates: section");
    expect_error("gates:\n  min_sharp: 1\n", "scenario.yaml:2: gates: unknown gate 'min_sharp'");
    expect_error("gates:\n  min_sharpe: high\n",
                 "scenario.yaml:2: gates.min_sharpe: expected a number, got 'high'");
    expect_error("gates:\n  max_change_pct: {sharpe: 5}\n", "needs gates.baseline");
    expect_error("gates:\n  baseline: b.json\n  max_change_pct: {sharpy: 5}\n",
                 "scenario.yaml:3: gates.max_change_pct: unknown figure 'sharpy'");
    /* a figure that became percent is refused with its new name, never compared in
     * the old unit */
    expect_error("gates:\n  min_win_rate: 0.5\n",
                 "scenario.yaml:2: gates: 'min_win_rate' is now 'min_win_rate_pct'");
    expect_error("gates:\n  baseline: b.json\n  max_change_pct: {cagr: 5}\n",
                 "scenario.yaml:3: gates.max_change_pct: 'cagr' is now 'cagr_pct' (percent)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
