/*
 * Determinism of a whole run, in one process: the same scenario run twice
 * gives the same fingerprint and the same report bytes (HTML, JSON, CSV,
 * HDF5); changing one tick of the input tape changes the fingerprint.
 * (tests/cli/backtest.cmake checks the same across two processes.)
 *
 * Data: scenarios/eurusd-sma-cross.yaml on real Dukascopy EURUSD ticks of
 * 4-5 February 2019, imported here from tests/data/dukascopy into a fresh
 * tape (so the test follows the current tape format), and the synthetic
 * example scenario.
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

#include "core/metrics.h"
#include "data/dukascopy.h"
#include "data/tape.h"
#include "reports/report.h"
#include "sim/backtest.h"
#include "sim/scenario.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* Load, override, run, compute, write the reports into outdir (when not NULL). */
static tt_fingerprint run_scenario(const char *path, const char *const *sets, const char *outdir,
                                   uint64_t *trades)
{
    tt_err err;
    tt_scenario *s;
    if (tt_scenario_load(&s, path, &err) != TT_OK)
        fail_msg("%s", err.msg);
    for (const char *const *p = sets; p && *p; p++)
        if (tt_scenario_set(s, *p, &err) != TT_OK)
            fail_msg("%s", err.msg);
    tt_scenario_run *run = calloc(1, sizeof *run);
    if (tt_scenario_prepare(s, run, &err) != TT_OK)
        fail_msg("%s", err.msg);
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    if (tt_backtest_run(&run->cfg, &r, &err) != TT_OK)
        fail_msg("%s", err.msg);
    tt_metrics m;
    assert_int_equal(tt_metrics_compute(r.trades, r.ntrades, r.equity, r.nequity,
                                        r.initial_balance, &run->metrics, &m, &err),
                     TT_OK);
    if (outdir) {
        char *text = NULL;
        size_t len = 0;
        FILE *mf = open_memstream(&text, &len);
        tt_scenario_write(s, mf);
        fclose(mf);
        tt_report_input in = {
            .name = tt_scenario_name(s), .scenario_text = text, .strategy = run->cfg.strategy,
            .params = run->cfg.params, .fingerprint = r.fingerprint, .events = r.events,
            .trades = r.trades, .ntrades = r.ntrades, .equity = r.equity, .nequity = r.nequity,
            .metrics = &m, .instruments = run->instruments, .currency = "USD",
            .minor_per_unit = run->minor_per_unit, .from = run->data_from, .to = run->data_to};
        if (tt_report_write_all(&in, outdir, NULL, &err) != TT_OK)
            fail_msg("%s", err.msg);
        free(text);
    }
    tt_fingerprint fp = r.fingerprint;
    if (trades)
        *trades = r.ntrades;
    tt_backtest_result_free(&r);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    return fp;
}

/* The EURUSD tape imported once for the whole group. */
static char g_dir[] = "/tmp/tt_det_XXXXXX";
static char g_tape[128], g_set_tape[160];

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(g_tape, sizeof g_tape, "%s/eurusd", g_dir);
    snprintf(g_set_tape, sizeof g_set_tape, "data.tape=%s", g_tape);
    tt_instruments *ins = tt_instruments_new();
    tt_duka_import_opts o = {.dir = TT_TESTDATA "/dukascopy", .tape = g_tape,
                             .from = tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0),
                             .to = tt_ts_from_civil(2019, 2, 6, 0, 0, 0, 0), .ticks = 1,
                             .threads = 2};
    tt_duka_import_stats st;
    tt_err err;
    int rc = tt_duka_import(&o, tt_instruments_find(ins, "EURUSD"), &st, &err);
    tt_instruments_free(ins);
    if (rc != TT_OK) {
        fprintf(stderr, "import: %s\n", err.msg);
        return -1;
    }
    if (st.ticks_written != 266219) {
        fprintf(stderr, "import: %llu ticks, expected 266219\n", (unsigned long long)st.ticks_written);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void same_files(const char *a, const char *b)
{
    const char *files[] = {"report.html", "summary.json", "trades.csv", "series.h5"};
    for (int i = 0; i < 4; i++) {
        char pa[512], pb[512];
        size_t la, lb;
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        char *x = slurp(pa, &la), *y = slurp(pb, &lb);
        assert_non_null(x);
        assert_non_null(y);
        if (la != lb || memcmp(x, y, la))
            fail_msg("%s differs between two runs of the same scenario", files[i]);
        free(x);
        free(y);
    }
}

static void test_twice_same_bytes(void **state)
{
    (void)state;
    char dir[] = "/tmp/tt_det_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[64], b[64], c[64], d[64];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    snprintf(d, sizeof d, "%s/d", dir);
    const char *tape = TT_SOURCE_DIR "/scenarios/eurusd-sma-cross.yaml";
    uint64_t n1, n2;
    const char *tset[] = {g_set_tape, NULL};
    tt_fingerprint f1 = run_scenario(tape, tset, a, &n1);
    tt_fingerprint f2 = run_scenario(tape, tset, b, &n2);
    assert_true(f1.hi == f2.hi && f1.lo == f2.lo);
    assert_true(n1 > 10); /* the run trades: the reports have content */
    assert_int_equal(n1, n2);
    same_files(a, b);

    /* synthetic data, shortened to two days */
    const char *syn = TT_SOURCE_DIR "/scenarios/synthetic-sma-cross.yaml";
    const char *sets[] = {"data.synthetic.to=2024-01-03", NULL};
    tt_fingerprint g1 = run_scenario(syn, sets, c, NULL);
    tt_fingerprint g2 = run_scenario(syn, sets, d, NULL);
    assert_true(g1.hi == g2.hi && g1.lo == g2.lo);
    same_files(c, d);
    /* another seed: another market, another fingerprint */
    const char *sets2[] = {"data.synthetic.to=2024-01-03", "seed=8", NULL};
    tt_fingerprint g3 = run_scenario(syn, sets2, NULL, NULL);
    assert_false(g1.hi == g3.hi && g1.lo == g3.lo);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Copy the EURUSD tape, moving the bid of the first tick at or after 10:00 on
 * 4 February (the open of that M1 bar) by one point. */
static void copy_tape_one_tick_changed(const char *src, const char *dst, int change)
{
    tt_err err;
    const char *syms[] = {"EURUSD", NULL};
    tt_tape_query q = {.symbols = syms};
    tt_tape_reader *r;
    if (tt_tape_reader_open(&r, src, &q, NULL, &err) != TT_OK)
        fail_msg("%s", err.msg);
    tt_stream_desc desc;
    memset(&desc, 0, sizeof desc);
    snprintf(desc.symbol, sizeof desc.symbol, "EURUSD");
    desc.kind = TT_STREAM_QUOTE;
    tt_tape_writer *w;
    if (tt_tape_writer_open(&w, dst, &desc, NULL, &err) != TT_OK)
        fail_msg("%s", err.msg);
    tt_ts at = tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0);
    int changed = 0;
    tt_event ev;
    int rc;
    while ((rc = tt_tape_reader_next(r, &ev, &err)) == 1) {
        if (change && !changed && ev.ts >= at) {
            ev.u.quote.bid += 1;
            changed = 1;
        }
        if (tt_tape_writer_append(w, &ev, &err) != TT_OK)
            fail_msg("%s", err.msg);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(changed, change);
    if (tt_tape_writer_close(w, &err) != TT_OK)
        fail_msg("%s", err.msg);
    tt_tape_reader_close(r);
}

static void test_one_tick_changes_fingerprint(void **state)
{
    (void)state;
    char dir[] = "/tmp/tt_tick_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char same[128], changed[128], set_same[160], set_changed[160];
    snprintf(same, sizeof same, "%s/same", dir);
    snprintf(changed, sizeof changed, "%s/changed", dir);
    const char *src = g_tape;
    copy_tape_one_tick_changed(src, same, 0);
    copy_tape_one_tick_changed(src, changed, 1);
    snprintf(set_same, sizeof set_same, "data.tape=%s", same);
    snprintf(set_changed, sizeof set_changed, "data.tape=%s", changed);
    const char *scen = TT_SOURCE_DIR "/scenarios/eurusd-sma-cross.yaml";
    const char *s0[] = {g_set_tape, NULL};
    const char *s1[] = {set_same, NULL};
    const char *s2[] = {set_changed, NULL};
    tt_fingerprint f0 = run_scenario(scen, s0, NULL, NULL);
    tt_fingerprint f1 = run_scenario(scen, s1, NULL, NULL);
    tt_fingerprint f2 = run_scenario(scen, s2, NULL, NULL);
    /* a faithful copy replays identically; one point on one tick does not */
    assert_true(f0.hi == f1.hi && f0.lo == f1.lo);
    assert_false(f1.hi == f2.hi && f1.lo == f2.lo);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twice_same_bytes),
        cmocka_unit_test(test_one_tick_changes_fingerprint),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
