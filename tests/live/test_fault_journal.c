/*
 * Fault injection through a paper session's journal (issue 11, item 7): the
 * journal writer (live/journal.c) over the tape writer records 6000 input
 * events as a session's inbox hands them over (quotes, external events with
 * their payload, gap marks, a bar), one millisecond apart (a block each
 * second of event time and every 256 events), with the k-th allocation,
 * write or fsync failing, for every k of the schedule (tests/support/
 * fault_wrap.h; every k under --full, label `slow`); both the direct mode
 * and the background writer thread a paper session uses. For each k the
 * session's calls (append..., flush, close) either fail with the named
 * error (TT_ENOMEM saying "memory", TT_EIO carrying the errno's text), or
 * succeed with the whole session recorded; either way the journal verifies
 * (tt_tape_verify; a torn tail would have to be one a reopen repairs) and a
 * replay reads a prefix of the session's events, each once, field for field
 * (a session that failed before its first event may hold a header alone,
 * stamped at close). Nothing may leak (ASan's leak checker, at exit, under
 * make asan-test).
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
#include "live/journal.h"

#define NEV 6000
#define T0 1549274400000000000LL /* 2019-02-04 10:00 UTC */

static int g_full;
static char g_root[256];
static tt_instruments *g_ins;
static tt_event g_ev[NEV];
static const char PAYLOAD[] = "{\"event\":\"NFP\",\"actual\":304,\"forecast\":165}";

static void make_events(void)
{
    uint32_t eu = tt_instruments_find(g_ins, "EURUSD")->id;
    for (int i = 0; i < NEV; i++) {
        tt_event *ev = &g_ev[i];
        memset(ev, 0, sizeof *ev);
        ev->ts = T0 + (tt_ts)i * TT_NS_PER_MS;
        ev->ts_init = ev->ts - 250000;
        ev->seq = (uint64_t)i + 1;
        ev->source = 1;
        if (i % 97 == 5) {
            ev->kind = TT_EV_EXTERNAL;
            ev->u.blob.type = 1;
            ev->u.blob.value = 304;
            ev->u.blob.data = (const uint8_t *)PAYLOAD;
            ev->u.blob.len = (uint32_t)strlen(PAYLOAD);
        } else if (i == 3000 || i == 3001) {
            ev->kind = TT_EV_CONTROL;
            ev->u.control.op = i == 3000 ? TT_CTL_GAP_BEGIN : TT_CTL_GAP_END;
            ev->u.control.arg = 1;
        } else if (i == 4500) {
            ev->kind = TT_EV_BAR;
            ev->symbol = eu;
            ev->u.bar.open = ev->u.bar.low = 114400;
            ev->u.bar.high = 114460;
            ev->u.bar.close = 114450;
            ev->u.bar.tf = TT_TF_M1;
        } else {
            ev->kind = TT_EV_QUOTE;
            ev->symbol = eu;
            ev->u.quote.bid = 114400 + i % 50;
            ev->u.quote.ask = ev->u.quote.bid + 3;
            ev->u.quote.bid_vol = 1.5f;
            ev->u.quote.ask_vol = 2.25f;
        }
        ev->cls = tt_event_class_of(ev->kind);
    }
}

/* A session's journal: open, an append per input, a flush at the end, close.
 * The first error is returned (close is always called). */
static int session(const char *dir, int background, int fsync, tt_err *err)
{
    tt_err_clear(err);
    tt_journal_opts o = {.fsync = fsync, .block_events = 256, .background = background};
    tt_journal *j;
    int rc = tt_journal_open(&j, dir, g_ins, &o, err);
    if (rc)
        return rc;
    for (int i = 0; i < NEV && !rc; i++)
        rc = tt_journal_append(j, &g_ev[i], err);
    if (!rc)
        rc = tt_journal_flush(j, err);
    tt_err e2;
    int rc2 = tt_journal_close(j, rc ? &e2 : err);
    return rc ? rc : rc2;
}

/* What a replay of the journal in dir reads: the first n events of the
 * session, each field for field (blob bytes too), for some n (returned); -1
 * when it reads anything else or cannot be opened. A journal holding only
 * its header replays nothing; one without even a header (the session failed
 * before its first record) is not opened. */
static long replayed(const char *dir, uint64_t k)
{
    tt_ft_tape t;
    tt_err err;
    assert_int_equal(tt_ft_read(dir, &t, &err), TT_OK);
    int empty = t.n == 0 || t.s[0].events == 0;
    tt_ft_free(&t);
    if (empty)
        return 0;
    tt_journal_reader *r;
    int rc = tt_journal_reader_open(&r, dir, g_ins, &err);
    if (rc) {
        fprintf(stderr, "k=%llu: the journal does not open for replay: %s\n",
                (unsigned long long)k, err.msg);
        return -1;
    }
    tt_event ev;
    long n = 0;
    while ((rc = tt_journal_reader_next(r, &ev, &err)) == 1) {
        uint8_t a[TT_EVENT_ENCODED_MAX + sizeof PAYLOAD], b[TT_EVENT_ENCODED_MAX + sizeof PAYLOAD];
        size_t na = tt_event_encode(&ev, a, 1), nb = n < NEV ? tt_event_encode(&g_ev[n], b, 1) : 0;
        if (n >= NEV || na != nb || memcmp(a, b, na)) {
            fprintf(stderr, "k=%llu: replayed event %ld is not the session's\n",
                    (unsigned long long)k, n);
            n = -1;
            break;
        }
        n++;
    }
    if (rc < 0) {
        fprintf(stderr, "k=%llu: replay: %s\n", (unsigned long long)k, err.msg);
        n = -1;
    }
    tt_journal_reader_close(r);
    return n;
}

typedef struct journal_case {
    int background, fsync;
} journal_case;

static int run_session(void *ctx, uint64_t k, tt_err *err)
{
    journal_case *c = ctx;
    char dir[512];
    tt_ft_dir(g_root, k, dir, sizeof dir);
    return session(dir, c->background, c->fsync, err);
}

/* The journal verifies and replays a prefix of the session (all of it when
 * the session succeeded). */
static int check_session(void *ctx, uint64_t k, int rc, const tt_err *e)
{
    (void)ctx, (void)e;
    char dir[512], why[1024] = "";
    tt_ft_dir(g_root, k, dir, sizeof dir);
    int bad = tt_ft_verify(dir, why, sizeof why) != TT_OK;
    if (bad)
        fprintf(stderr, "k=%llu: the journal does not verify: %s\n", (unsigned long long)k, why);
    long n = bad ? -1 : replayed(dir, k);
    if (n < 0 || (rc == TT_OK && n != NEV))
        bad = 1;
    tt_ft_remove(dir);
    return bad ? -1 : 0;
}

static void run_kind(const char *name, unsigned kind, int errnum, int want_rc,
                     const char *want_text, int background)
{
    journal_case jc = {background, kind == TT_FW_FSYNC};
    tt_fw_case c = {name, kind, errnum, want_rc, want_text, run_session, check_session, &jc};
    tt_fw_tally t;
    assert_int_equal(tt_fw_every_k(&c, g_full, &t), 0);
    assert_true(t.failed > 0);
}

static void test_alloc(void **state)
{
    (void)state;
    run_kind("journal alloc", TT_FW_ALLOC, ENOMEM, TT_ENOMEM, "memory", 0);
    run_kind("journal alloc (background)", TT_FW_ALLOC, ENOMEM, TT_ENOMEM, "memory", 1);
}

static void test_write(void **state)
{
    (void)state;
    run_kind("journal write", TT_FW_WRITE, ENOSPC, TT_EIO, strerror(ENOSPC), 0);
    run_kind("journal write (background)", TT_FW_WRITE, ENOSPC, TT_EIO, strerror(ENOSPC), 1);
}

static void test_fsync(void **state)
{
    (void)state;
    run_kind("journal fsync", TT_FW_FSYNC, EIO, TT_EIO, strerror(EIO), 0);
    run_kind("journal fsync (background)", TT_FW_FSYNC, EIO, TT_EIO, strerror(EIO), 1);
}

int main(int argc, char **argv)
{
    g_full = tt_fw_full(argc, argv);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof g_root, "%s/tt_fault_journal_XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(g_root))
        return 2;
    g_ins = tt_instruments_new();
    make_events();
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
