/*
 * Fault injection through an import (issue 11, item 7): tt_duka_import of the
 * shipped EURUSD sample (tests/data/dukascopy: a day of tick files and the
 * candle files) into a fresh tape, with the k-th allocation, write or fsync
 * failing, for every k of the schedule (tests/support/fault_wrap.h: the
 * first 16 and 48 spread over the rest here; every k under --full, the ctest
 * label `slow`). For each k:
 *   - the import fails with the named error (TT_ENOMEM saying "memory";
 *     TT_EIO carrying the errno's text), or succeeds with the very tape a
 *     clean import writes (a failure it could absorb);
 *   - the tape verifies (tt_tape_verify; a torn tail would have to be one a
 *     reopen repairs) and every stream holds a prefix of the clean tape's
 *     (whole blocks only, none twice);
 *   - importing again with nothing failing resumes and gives the clean tape;
 *   - nothing leaks (ASan's leak checker, at exit, under make asan-test).
 * Four hours (2019-02-04 06:00 to 10:00 UTC) keep a run short; the tape
 * writes blocks of 512 events (4096 with an fsync after each for the fsync
 * faults, fsyncs being slow on a disk), so every kind of call happens many
 * times.
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
#include <unistd.h>

#include "../support/fault_tape.h"
#include "../support/fault_wrap.h"
#include "data/dukascopy.h"

static int g_full;
static char g_root[256];
static tt_instruments *g_ins;

static int g_fsync; /* fsync after each block: for the fsync faults (slow on a disk) */

static int import(const char *tape, tt_err *err)
{
    tt_tape_writer_opts wo = {.block_events = g_fsync ? 4096 : 512, .fsync = g_fsync};
    tt_duka_import_opts o = {0};
    o.dir = TT_TESTDATA "/dukascopy";
    o.tape = tape;
    o.from = tt_ts_from_civil(2019, 2, 4, 6, 0, 0, 0); /* four hours, and their candles */
    o.to = tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0);
    o.ticks = 1;
    o.candles = 1;
    o.threads = 1;
    o.tape_opts = &wo;
    tt_duka_import_stats st;
    tt_err_clear(err);
    return tt_duka_import(&o, tt_instruments_find(g_ins, "EURUSD"), &st, err);
}

typedef struct import_case {
    tt_ft_tape clean; /* what the clean import writes */
} import_case;

static int run_import(void *ctx, uint64_t k, tt_err *err)
{
    (void)ctx;
    char tape[512];
    tt_ft_dir(g_root, k, tape, sizeof tape);
    tt_ft_remove(tape);
    return import(tape, err);
}

/* The tape verifies and holds a prefix of the clean one (all of it when the
 * import succeeded); a failed import, run again, completes it. */
static int check_import(void *ctx, uint64_t k, int rc, const tt_err *e)
{
    import_case *c = ctx;
    char tape[512], why[1024] = "";
    tt_err err;
    tt_ft_dir(g_root, k, tape, sizeof tape);
    if (k == 0) {
        int r = tt_ft_read(tape, &c->clean, &err);
        return r || c->clean.n < 3 ? -1 : 0; /* quotes and candle streams */
    }
    int bad = tt_ft_verify(tape, why, sizeof why) != TT_OK;
    if (bad)
        fprintf(stderr, "k=%llu: the tape does not verify: %s\n", (unsigned long long)k, why);
    tt_ft_tape got;
    if (!bad && (bad = tt_ft_read(tape, &got, &err) != TT_OK) == 0) {
        bad = !tt_ft_prefix(&got, &c->clean, rc == TT_OK, why, sizeof why);
        if (bad)
            fprintf(stderr, "k=%llu (rc %d: %s): %s\n", (unsigned long long)k, rc, e->msg, why);
        tt_ft_free(&got);
    }
    if (!bad && rc != TT_OK) { /* resume: the import run again completes the tape */
        bad = import(tape, &err) != TT_OK || tt_ft_read(tape, &got, &err) != TT_OK;
        if (!bad) {
            bad = !tt_ft_prefix(&got, &c->clean, 1, why, sizeof why);
            tt_ft_free(&got);
        }
        if (bad)
            fprintf(stderr, "k=%llu resumed: %s%s\n", (unsigned long long)k, err.msg, why);
    }
    tt_ft_remove(tape);
    return bad ? -1 : 0;
}

static void run_kind(const char *name, unsigned kind, int errnum, int want_rc,
                     const char *want_text)
{
    import_case ic = {0};
    tt_fw_case c = {name, kind, errnum, want_rc, want_text, run_import, check_import, &ic};
    tt_fw_tally t;
    assert_int_equal(tt_fw_every_k(&c, g_full, &t), 0);
    assert_true(t.failed > 0);
    tt_ft_free(&ic.clean);
    char tape[512];
    tt_ft_dir(g_root, 0, tape, sizeof tape);
    tt_ft_remove(tape);
}

static void test_alloc(void **state)
{
    (void)state;
    run_kind("import alloc", TT_FW_ALLOC, ENOMEM, TT_ENOMEM, "memory");
}

static void test_write(void **state)
{
    (void)state;
    run_kind("import write", TT_FW_WRITE, ENOSPC, TT_EIO, strerror(ENOSPC));
}

static void test_fsync(void **state)
{
    (void)state;
    g_fsync = 1;
    run_kind("import fsync", TT_FW_FSYNC, EIO, TT_EIO, strerror(EIO));
    g_fsync = 0;
}

int main(int argc, char **argv)
{
    g_full = tt_fw_full(argc, argv);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof g_root, "%s/tt_fault_import_XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(g_root))
        return 2;
    g_ins = tt_instruments_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_fsync),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tt_instruments_free(g_ins);
    tt_ft_remove(g_root);
    return rc;
}
