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

static void run_kind(unsigned kind, int errnum, int want_rc, const char *want_text)
{
    char tape[512], why[1024];
    tt_err err;
    /* the clean tape, and how many calls of this kind a clean import makes */
    snprintf(tape, sizeof tape, "%s/clean", g_root);
    tt_ft_remove(tape);
    tt_fw_arm(kind, 0, 0);
    int base_rc = import(tape, &err);
    uint64_t total = tt_fw_calls();
    tt_fw_disarm();
    assert_int_equal(base_rc, TT_OK);
    tt_ft_tape clean;
    assert_int_equal(tt_ft_read(tape, &clean, &err), TT_OK);
    assert_true(clean.n >= 3); /* quotes and candle streams */
    uint64_t *ks = malloc((total + 3000) * sizeof *ks);
    assert_non_null(ks);
    size_t nk = tt_fw_schedule(total, g_full, ks, total + 3000);
    size_t failed = 0, absorbed = 0;
    const char *only = getenv("TT_FW_ONLY"); /* one k, to look at a failure */
    if (only) {
        ks[0] = strtoull(only, NULL, 10);
        nk = 1;
    }
    for (size_t i = 0; i < nk; i++) {
        uint64_t k = ks[i];
        snprintf(tape, sizeof tape, "%s/k%llu", g_root, (unsigned long long)k);
        tt_ft_remove(tape);
        tt_fw_arm(kind, k, errnum);
        int rc = import(tape, &err);
        uint64_t fired = tt_fw_fired();
        tt_fw_disarm();
        if (!fired) { /* past the last call (another thread's timing): a clean run */
            assert_int_equal(rc, TT_OK);
            tt_ft_remove(tape);
            continue;
        }
        int ok = rc == TT_OK || (rc == want_rc && strstr(err.msg, want_text));
        if (!ok)
            fprintf(stderr, "k=%llu of %llu: rc %d (%s), want %d naming '%s'\n",
                    (unsigned long long)k, (unsigned long long)total, rc, err.msg, want_rc,
                    want_text);
        assert_true(ok);
        tt_ft_tape got;
        why[0] = '\0';
        int vrc = tt_ft_verify(tape, why, sizeof why);
        if (vrc)
            fprintf(stderr, "k=%llu: the tape does not verify: %s\n", (unsigned long long)k, why);
        assert_int_equal(vrc, TT_OK);
        assert_int_equal(tt_ft_read(tape, &got, &err), TT_OK);
        int pre = tt_ft_prefix(&got, &clean, rc == TT_OK, why, sizeof why);
        if (!pre)
            fprintf(stderr, "k=%llu (rc %d: %s): %s\n", (unsigned long long)k, rc, err.msg, why);
        assert_true(pre);
        tt_ft_free(&got);
        if (only)
            fprintf(stderr, "k=%llu: rc %d: %s\n", (unsigned long long)k, rc, err.msg);
        if (rc == TT_OK) {
            absorbed++;
            if (getenv("TT_FW_TRACE"))
                fprintf(stderr, "k=%llu absorbed (trace above)\n", (unsigned long long)k);
        } else {
            failed++;
            /* resume: the import run again completes the tape */
            assert_int_equal(import(tape, &err), TT_OK);
            assert_int_equal(tt_ft_read(tape, &got, &err), TT_OK);
            pre = tt_ft_prefix(&got, &clean, 1, why, sizeof why);
            if (!pre)
                fprintf(stderr, "k=%llu resumed: %s\n", (unsigned long long)k, why);
            assert_true(pre);
            tt_ft_free(&got);
        }
        tt_ft_remove(tape);
    }
    printf("fault import %s: %llu calls, %zu values of k tried: %zu failed as named, "
           "%zu absorbed\n",
           kind == TT_FW_ALLOC ? "alloc" : kind == TT_FW_WRITE ? "write" : "fsync",
           (unsigned long long)total, nk, failed, absorbed);
    assert_true(failed > 0);
    free(ks);
    tt_ft_free(&clean);
    snprintf(tape, sizeof tape, "%s/clean", g_root);
    tt_ft_remove(tape);
}

static void test_alloc(void **state)
{
    (void)state;
    run_kind(TT_FW_ALLOC, ENOMEM, TT_ENOMEM, "memory");
}

static void test_write(void **state)
{
    (void)state;
    run_kind(TT_FW_WRITE, ENOSPC, TT_EIO, strerror(ENOSPC));
}

static void test_fsync(void **state)
{
    (void)state;
    g_fsync = 1;
    run_kind(TT_FW_FSYNC, EIO, TT_EIO, strerror(EIO));
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
