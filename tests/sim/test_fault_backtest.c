/*
 * Fault injection through a backtest (issue 11, item 7): the shipped EURUSD
 * scenario (scenarios/eurusd-sma-cross.yaml) on a short window, loaded,
 * prepared, run and reported (report.html, summary.json, trades.csv) as the
 * backtest command does, with the k-th allocation (or write: the trade log
 * spills to its file after 2 trades here) failing, for every k of the
 * schedule (tests/support/fault_wrap.h; every k under --full, label `slow`).
 * For each k the run either fails with the named error (TT_ENOMEM saying
 * "memory", TT_EIO carrying the errno's text) and leaves no report under its
 * final name, or succeeds with the clean run's fingerprint and report bytes
 * (a failure it could absorb, which must change nothing). Nothing may leak
 * (ASan's leak checker, at exit, under make asan-test).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support/fault_tape.h"
#include "../support/fault_wrap.h"
#include "reports/report.h"
#include "sim/backtest.h"
#include "sim/scenario.h"

static int g_full;
static char g_root[256];

#define SCENARIO TT_SOURCE_DIR "/scenarios/eurusd-sma-cross.yaml"
static const char *const SETS[] = {
    "data.from=2019-02-04T08:00:00Z", /* six hours of the shipped tape */
    "data.to=2019-02-04T14:00:00Z",
    "metrics.trades_in_memory=2", /* the trade log spills to its file: writes */
    NULL,
};

typedef struct outcome {
    tt_fingerprint fp;
    uint64_t events, trades;
} outcome;

/* Load, override, prepare, run, report into dir: what `ticktape backtest` does. */
static int backtest(const char *dir, outcome *out, tt_err *err)
{
    tt_err_clear(err);
    memset(out, 0, sizeof *out);
    tt_scenario *s;
    int rc = tt_scenario_load(&s, SCENARIO, err);
    if (rc)
        return rc;
    for (int i = 0; SETS[i] && !rc; i++)
        rc = tt_scenario_set(s, SETS[i], err);
    tt_scenario_run *run = rc ? NULL : calloc(1, sizeof *run);
    if (!rc && !run)
        rc = tt_err_set(err, TT_ENOMEM, "out of memory (test)");
    if (!rc)
        rc = tt_scenario_prepare(s, run, err);
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    if (!rc)
        rc = tt_backtest_run(&run->cfg, &r, err);
    char *text = rc ? NULL : tt_scenario_text(s);
    if (!rc && !text)
        rc = tt_err_set(err, TT_ENOMEM, "out of memory (the scenario's text)");
    if (!rc) {
        out->fp = r.fingerprint;
        out->events = r.events;
        out->trades = r.ntrades;
        tt_metrics m = r.metrics;
        tt_report_input in = {.name = tt_scenario_name(s),
                              .scenario_text = text,
                              .strategy = run->cfg.strategy,
                              .params = run->cfg.params,
                              .fingerprint = r.fingerprint,
                              .events = r.events,
                              .trades = r.trades,
                              .ntrades = r.ntrades,
                              .equity = r.equity,
                              .nequity = r.nequity,
                              .metrics = &m,
                              .instruments = run->instruments,
                              .currency = "USD",
                              .minor_per_unit = run->minor_per_unit,
                              .from = run->data_from,
                              .to = run->data_to,
                              .orders_sent = r.orders_sent,
                              .fills = r.fills};
        tt_report_outputs which = {.html = 1, .json = 1, .csv = 1};
        rc = tt_report_write_all(&in, dir, &which, err);
    }
    free(text);
    tt_backtest_result_free(&r);
    if (run)
        tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    return rc;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

/* The reports in dir are byte for byte those in ref (0), or one differs (1). */
static int reports_differ(const char *dir, const char *ref)
{
    static const char *const FILES[] = {"report.html", "summary.json", "trades.csv"};
    for (int i = 0; i < 3; i++) {
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/%s", dir, FILES[i]);
        snprintf(b, sizeof b, "%s/%s", ref, FILES[i]);
        size_t na = 0, nb = 0;
        char *x = slurp(a, &na), *y = slurp(b, &nb);
        int same = x && y && na == nb && !memcmp(x, y, na);
        free(x);
        free(y);
        if (!same)
            return 1;
    }
    return 0;
}

/* No report left under a final name after a failure (the temporary files are
 * gone too); the directory itself may be there. */
static int reports_left(const char *dir)
{
    static const char *const FILES[] = {"report.html", "summary.json", "trades.csv",
                                        "report.html.tmp", "summary.json.tmp", "trades.csv.tmp"};
    int n = 0;
    for (int i = 0; i < 6; i++) {
        char p[600];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, FILES[i]);
        n += stat(p, &st) == 0;
    }
    return n;
}

typedef struct backtest_case {
    outcome base, got; /* the clean run's, the last run's */
} backtest_case;

static int run_backtest(void *ctx, uint64_t k, tt_err *err)
{
    backtest_case *c = ctx;
    char dir[512];
    tt_ft_dir(g_root, k, dir, sizeof dir);
    return backtest(dir, k ? &c->got : &c->base, err);
}

/* A run that succeeded is the clean one, reports byte for byte; one that
 * failed left no report under a final name. */
static int check_backtest(void *ctx, uint64_t k, int rc, const tt_err *e)
{
    (void)e;
    backtest_case *c = ctx;
    char dir[512], ref[512];
    tt_ft_dir(g_root, k, dir, sizeof dir);
    tt_ft_dir(g_root, 0, ref, sizeof ref);
    if (k == 0)
        return c->base.events > 10000 && c->base.trades > 2 ? 0 : -1;
    int bad;
    if (rc == TT_OK) {
        bad = c->got.fp.hi != c->base.fp.hi || c->got.fp.lo != c->base.fp.lo ||
              c->got.events != c->base.events || reports_differ(dir, ref);
        if (bad)
            fprintf(stderr, "k=%llu: absorbed, but the run is not the clean one\n",
                    (unsigned long long)k);
    } else {
        bad = reports_left(dir) != 0;
        if (bad)
            fprintf(stderr, "k=%llu: %d report file(s) left after a failure\n",
                    (unsigned long long)k, reports_left(dir));
    }
    tt_ft_remove(dir);
    return bad ? -1 : 0;
}

static void run_kind(const char *name, unsigned kind, int errnum, int want_rc,
                     const char *want_text)
{
    backtest_case bc;
    memset(&bc, 0, sizeof bc);
    tt_fw_case c = {name, kind, errnum, want_rc, want_text, run_backtest, check_backtest, &bc};
    tt_fw_tally t;
    assert_int_equal(tt_fw_every_k(&c, g_full, &t), 0);
    assert_true(t.failed > 0);
    char ref[512];
    tt_ft_dir(g_root, 0, ref, sizeof ref);
    tt_ft_remove(ref);
}

static void test_alloc(void **state)
{
    (void)state;
    run_kind("backtest alloc", TT_FW_ALLOC, ENOMEM, TT_ENOMEM, "memory");
}

static void test_write(void **state)
{
    (void)state;
    run_kind("backtest write", TT_FW_WRITE, ENOSPC, TT_EIO, strerror(ENOSPC));
}

int main(int argc, char **argv)
{
    g_full = tt_fw_full(argc, argv);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof g_root, "%s/tt_fault_backtest_XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(g_root))
        return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_write),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tt_ft_remove(g_root);
    return rc;
}
