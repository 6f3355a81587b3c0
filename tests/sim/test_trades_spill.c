/*
 * A long run's closed trades move to an unlinked temporary file past
 * trades_keep_max (sim/backtest.h, Memory) and come back mapped: the same
 * trades to the byte, the same figures and fingerprint, no file left in
 * TMPDIR, no descriptor or mapping left after tt_backtest_result_free. A
 * temporary directory that does not exist, or a file that cannot be written,
 * fails the run with an error naming it, and no partial list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sim/backtest.h"
#include "sim/scenario.h"

/* Six weeks of M1 crossovers: some 1,700 trades, several spill buffers. */
static const char *SCENARIO =
    "name: spill\n"
    "seed: 5\n"
    "data:\n"
    "  synthetic: {model: gbm, symbols: [EURUSD], from: 2024-01-01, to: 2024-02-12,\n"
    "              sigma: 0.1, tick_rate: 0.5}\n"
    "account: {currency: USD, balance: 10000, leverage: 100}\n"
    "strategy: {name: sma_cross, params: {tf: M1, fast: 10, slow: 30, qty: 10}}\n";

typedef struct fixture {
    char dir[64];        /* the private TMPDIR */
    char *old_tmpdir;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tt_spill_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    const char *t = getenv("TMPDIR");
    f->old_tmpdir = t ? strdup(t) : NULL;
    setenv("TMPDIR", f->dir, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->old_tmpdir)
        setenv("TMPDIR", f->old_tmpdir, 1);
    else
        unsetenv("TMPDIR");
    free(f->old_tmpdir);
    int rc = rmdir(f->dir); /* fails if a file was left */
    free(f);
    return rc;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static int count_fds(void)
{
    return count_entries("/proc/self/fd");
}

/* Mappings of a spill file in this process (-1 without /proc). */
static int count_spill_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "ticktape-trades-"))
            n++;
    fclose(f);
    return n;
}

static int run_keep(size_t keep, tt_backtest_result *r, tt_err *err)
{
    tt_scenario *s;
    assert_int_equal(tt_scenario_parse(&s, SCENARIO, strlen(SCENARIO), "spill.yaml", NULL, err), TT_OK);
    tt_scenario_run *run = calloc(1, sizeof *run);
    assert_int_equal(tt_scenario_prepare(s, run, err), TT_OK);
    /* the scenario's default is the backtest's */
    assert_int_equal(run->cfg.trades_keep_max, TT_BACKTEST_TRADES_KEEP);
    run->cfg.trades_keep_max = keep;
    memset(r, 0, sizeof *r);
    int rc = tt_backtest_run(&run->cfg, r, err);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    return rc;
}

static void same_run(const tt_backtest_result *a, const tt_backtest_result *b)
{
    assert_int_equal(a->ntrades, b->ntrades);
    assert_memory_equal(a->trades, b->trades, a->ntrades * sizeof *a->trades);
    assert_memory_equal(&a->metrics, &b->metrics, sizeof a->metrics);
    assert_true(a->fingerprint.hi == b->fingerprint.hi && a->fingerprint.lo == b->fingerprint.lo);
    assert_int_equal(a->events, b->events);
    assert_int_equal(a->outputs, b->outputs);
    assert_int_equal(a->final_equity, b->final_equity);
    assert_int_equal(a->nequity, b->nequity);
    assert_memory_equal(a->equity, b->equity, a->nequity * sizeof *a->equity);
}

static void test_spilled_list_is_the_same(void **state)
{
    fixture *f = *state;
    tt_err err;
    int fds = count_fds();
    tt_backtest_result all, spilled;
    assert_int_equal(run_keep(0, &all, &err), TT_OK);
    assert_true(all.ntrades > 3 * 512); /* more than one spill buffer */
    assert_int_equal(all.trades_map_len, 0);
    assert_int_equal(all.metrics.trades, all.ntrades);
    for (size_t i = 0; i < all.ntrades; i++)
        assert_int_equal(all.trades[i].id, i + 1);

    assert_int_equal(run_keep(5, &spilled, &err), TT_OK);
    assert_int_equal(spilled.trades_map_len, spilled.ntrades * sizeof *spilled.trades);
    same_run(&all, &spilled);
    /* unlinked at once: nothing in TMPDIR while the list is mapped */
    assert_int_equal(count_entries(f->dir), 0);
    if (count_spill_maps() >= 0)
        assert_int_equal(count_spill_maps(), 1);
    if (fds >= 0)
        assert_int_equal(count_fds(), fds); /* the mapping holds the file, not a descriptor */
    tt_backtest_result_free(&spilled);
    if (count_spill_maps() >= 0)
        assert_int_equal(count_spill_maps(), 0);

    /* at the limit exactly: all in memory; one past it: spilled */
    tt_backtest_result at, past;
    assert_int_equal(run_keep(all.ntrades, &at, &err), TT_OK);
    assert_int_equal(at.trades_map_len, 0);
    same_run(&all, &at);
    assert_int_equal(run_keep(all.ntrades - 1, &past, &err), TT_OK);
    assert_true(past.trades_map_len > 0);
    same_run(&all, &past);
    /* a buffer boundary: keep + k * 512 trades == ntrades */
    tt_backtest_result edge;
    assert_int_equal(run_keep(all.ntrades - 2 * 512, &edge, &err), TT_OK);
    assert_true(edge.trades_map_len > 0);
    same_run(&all, &edge);

    tt_backtest_result_free(&all);
    tt_backtest_result_free(&at);
    tt_backtest_result_free(&past);
    tt_backtest_result_free(&edge);
    assert_int_equal(count_entries(f->dir), 0);
    if (fds >= 0)
        assert_int_equal(count_fds(), fds);
    if (count_spill_maps() >= 0)
        assert_int_equal(count_spill_maps(), 0);
}

/* What the sweep does with a walk-forward window's trades: a malloc'd array
 * either way, and the result left without a list. */
static void test_take_trades(void **state)
{
    (void)state;
    tt_err err;
    tt_backtest_result heap, mapped;
    assert_int_equal(run_keep(0, &heap, &err), TT_OK);
    assert_int_equal(run_keep(7, &mapped, &err), TT_OK);
    assert_true(mapped.trades_map_len > 0);
    tt_trade_record *a, *b;
    size_t na, nb;
    tt_trade_record *heap_list = heap.trades;
    assert_int_equal(tt_backtest_result_take_trades(&heap, &a, &na), TT_OK);
    assert_ptr_equal(a, heap_list); /* handed over, not copied */
    assert_int_equal(tt_backtest_result_take_trades(&mapped, &b, &nb), TT_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof *a);
    assert_null(heap.trades);
    assert_null(mapped.trades);
    assert_int_equal(mapped.ntrades, 0);
    assert_int_equal(mapped.trades_map_len, 0);
    if (count_spill_maps() >= 0)
        assert_int_equal(count_spill_maps(), 0);
    b[0].net += 1; /* writable: a copy */
    free(a);
    free(b);
    tt_backtest_result_free(&heap);
    tt_backtest_result_free(&mapped);
}

static void test_no_temp_dir(void **state)
{
    fixture *f = *state;
    const char *bad = "/nonexistent/tt-spill-dir";
    tt_err err, err2;
    tt_backtest_result r, r2;
    int fds = count_fds();
    setenv("TMPDIR", bad, 1);
    int rc = run_keep(5, &r, &err);
    /* a run that stays under its limit needs no temporary directory */
    int rc2 = run_keep(0, &r2, &err2);
    setenv("TMPDIR", f->dir, 1);
    assert_int_equal(rc2, TT_OK);
    assert_true(r2.ntrades > 5);
    tt_backtest_result_free(&r2);
    assert_int_equal(rc, TT_EIO);
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "temporary file"));
    assert_int_equal(r.ntrades, 0); /* no partial list */
    assert_null(r.trades);
    tt_backtest_result_free(&r);
    if (fds >= 0)
        assert_int_equal(count_fds(), fds);
}

/* A full disk, by the file-size limit: the write fails (EFBIG with SIGXFSZ
 * ignored), the run fails naming the file, nothing is left behind. */
static void test_write_fails(void **state)
{
    fixture *f = *state;
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 4096; /* the first trades fit, the first full buffer does not */
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    tt_err err;
    tt_backtest_result r;
    int fds = count_fds();
    int rc = run_keep(5, &r, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, oldsig);
    if (rc != TT_EIO || !strstr(err.msg, "cannot write the temporary file"))
        print_error("rc %d: %s\n", rc, err.msg);
    assert_int_equal(rc, TT_EIO);
    assert_non_null(strstr(err.msg, "cannot write the temporary file"));
    assert_non_null(strstr(err.msg, f->dir));
    assert_non_null(strstr(err.msg, "ticktape-trades-"));
    assert_int_equal(r.ntrades, 0);
    assert_null(r.trades);
    tt_backtest_result_free(&r);
    assert_int_equal(count_entries(f->dir), 0);
    if (fds >= 0)
        assert_int_equal(count_fds(), fds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spilled_list_is_the_same),
        cmocka_unit_test(test_take_trades),
        cmocka_unit_test(test_no_temp_dir),
        cmocka_unit_test(test_write_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
