/*
 * The journal: every event kind comes back field for field (blob payloads
 * included), the header maps symbol ids by name into a replay table that
 * numbers them differently, a used directory is refused, a directory without
 * a journal and a symbol the replay does not know are errors that say so, and
 * a torn tail (a crash mid-block) loses only the unwritten block.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "live/journal.h"
#include "live_helpers.h"

#define T0 1795000000000000000LL

/* The one segment file of a journal (no shell: dirent). */
static int segment_of(const char *dir, char *out, size_t cap)
{
    char blob[8200];
    snprintf(blob, sizeof blob, "%s/_journal/blob", dir);
    DIR *d = opendir(blob);
    if (!d)
        return -1;
    struct dirent *de;
    int rc = -1;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 4 && !strcmp(de->d_name + n - 4, ".tts")) {
            snprintf(out, cap, "%s/%s", blob, de->d_name);
            rc = 0;
        }
    }
    closedir(d);
    return rc;
}

static tt_event mk(int i, uint32_t sym)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = T0 + i * 1000;
    ev.ts_init = T0 - 5000000 + i; /* the exchange's time, different from the stamp */
    ev.seq = (uint64_t)i + 1;
    ev.source = 1;
    ev.symbol = sym;
    switch (i % 4) {
    case 0:
        ev.kind = TT_EV_QUOTE;
        ev.u.quote.bid = 114000 + i;
        ev.u.quote.ask = 114003 + i;
        ev.u.quote.bid_vol = 1.25f;
        ev.u.quote.ask_vol = 0.75f;
        break;
    case 1:
        ev.kind = TT_EV_CONTROL;
        ev.symbol = 0;
        ev.u.control.op = TT_CTL_GAP_BEGIN;
        ev.u.control.arg = (uint32_t)i;
        break;
    case 2:
        ev.kind = TT_EV_BAR;
        ev.u.bar.open = 1;
        ev.u.bar.high = 5;
        ev.u.bar.low = 1;
        ev.u.bar.close = 4;
        ev.u.bar.volume = 2.5;
        ev.u.bar.tf = TT_TF_M1;
        break;
    default:
        ev.kind = TT_EV_EXTERNAL;
        ev.symbol = 0;
        ev.u.blob.type = 1;
        ev.u.blob.value = 304;
        ev.u.blob.data = (const uint8_t *)"{\"value\":304}";
        ev.u.blob.len = 13;
        break;
    }
    ev.cls = tt_event_class_of(ev.kind);
    return ev;
}

static void roundtrip(int background)
{
    char dir[4096];
    tt_test_tmpdir(dir, sizeof dir, background ? "journal-bg" : "journal");
    tt_instruments *a = tt_instruments_new();
    /* The session's table gains an instrument at the end... */
    tt_instrument extra;
    memset(&extra, 0, sizeof extra);
    snprintf(extra.symbol, sizeof extra.symbol, "ZZZUSD");
    extra.points = 100000;
    extra.digits = 5;
    extra.pip = 10;
    extra.contract_size = 100000;
    tt_err err;
    assert_int_equal(tt_instruments_put(a, &extra, &err), TT_OK);
    uint32_t zid = tt_instruments_find(a, "ZZZUSD")->id;
    tt_journal *j;
    tt_journal_opts jo = {.block_events = 7, .fsync = 1, .background = background};
    assert_int_equal(tt_journal_open(&j, dir, a, &jo, &err), TT_OK);
    tt_sink sk = tt_journal_sink(j);
    for (int i = 0; i < 100; i++) {
        tt_event ev = mk(i, zid);
        assert_int_equal(sk.write(sk.self, &ev, &err), TT_OK);
    }
    assert_int_equal(tt_journal_count(j), 100);
    assert_int_equal(tt_journal_flush(j, &err), TT_OK);
    if (!background) {
        tt_event back = mk(0, zid);
        back.ts = T0 - 1; /* earlier than the last: refused */
        assert_int_equal(tt_journal_append(j, &back, &err), TT_EORDER);
    }
    assert_int_equal(tt_journal_close(j, &err), TT_OK);
    /* ...which a replay table declares first: another id, same name. */
    tt_instruments *b = tt_instruments_new();
    tt_instrument other = extra;
    snprintf(other.symbol, sizeof other.symbol, "AAAUSD");
    assert_int_equal(tt_instruments_put(b, &other, &err), TT_OK);
    assert_int_equal(tt_instruments_put(b, &extra, &err), TT_OK);
    uint32_t zid_b = tt_instruments_find(b, "ZZZUSD")->id;
    assert_int_not_equal(zid_b, zid);
    tt_journal_reader *r;
    assert_int_equal(tt_journal_reader_open(&r, dir, b, &err), TT_OK);
    tt_source src = tt_journal_reader_source(r);
    for (int i = 0; i < 100; i++) {
        tt_event ev, want = mk(i, zid_b);
        assert_int_equal(src.next(src.self, &ev, &err), TT_SRC_EVENT);
        if (want.kind == TT_EV_EXTERNAL) {
            assert_int_equal(ev.u.blob.len, want.u.blob.len);
            assert_memory_equal(ev.u.blob.data, want.u.blob.data, want.u.blob.len);
            ev.u.blob.data = want.u.blob.data = NULL;
        }
        if (want.symbol)
            assert_int_equal(ev.symbol, zid_b);
        uint8_t x[TT_EVENT_ENCODED_MAX], y[TT_EVENT_ENCODED_MAX];
        size_t nx = tt_event_encode(&ev, x, 0), ny = tt_event_encode(&want, y, 0);
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, nx);
    }
    tt_event ev;
    assert_int_equal(src.next(src.self, &ev, &err), TT_SRC_END);
    tt_journal_reader_close(r);

    /* A replay table without the symbol: an error naming the problem on use. */
    tt_instruments *c = tt_instruments_new();
    assert_int_equal(tt_journal_reader_open(&r, dir, c, &err), TT_OK);
    assert_int_equal(tt_journal_reader_next(r, &ev, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "not in the replay's instrument table"));
    tt_journal_reader_close(r);

    /* A used directory is refused; a directory without a journal is named. */
    assert_int_equal(tt_journal_open(&j, dir, a, NULL, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "already holds a journal"));
    assert_int_equal(tt_journal_reader_open(&r, TT_TESTDATA, b, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no journal here"));

    /* A crash mid-block: cut the segment file; complete blocks survive. */
    char seg[8400];
    assert_int_equal(segment_of(dir, seg, sizeof seg), 0);
    struct stat sst;
    assert_int_equal(stat(seg, &sst), 0);
    assert_int_equal(truncate(seg, sst.st_size - 5), 0);
    assert_int_equal(tt_journal_reader_open(&r, dir, b, &err), TT_OK);
    int n = 0, rc;
    while ((rc = tt_journal_reader_next(r, &ev, &err)) == 1)
        n++;
    assert_int_equal(rc, 0);
    assert_true(n >= 90 && n < 100); /* the last block (7 events, header first) is torn */
    assert_true(tt_journal_reader_warning_count(r) >= 1);
    tt_journal_reader_close(r);
    tt_instruments_free(a);
    tt_instruments_free(b);
    tt_instruments_free(c);
    tt_test_rmdir(dir);
}

static void test_roundtrip_and_symbol_map(void **state)
{
    (void)state;
    roundtrip(0);
}

static void test_background_writer(void **state)
{
    (void)state;
    roundtrip(1);
    /* A writer error surfaces at the next call, with the tape's message. */
    char dir[4096];
    tt_test_tmpdir(dir, sizeof dir, "journal-bg-err");
    tt_instruments *a = tt_instruments_new();
    tt_journal *j;
    tt_err err;
    tt_journal_opts jo = {.background = 1};
    assert_int_equal(tt_journal_open(&j, dir, a, &jo, &err), TT_OK);
    tt_event e1 = mk(4, 1), e0 = mk(0, 1);
    assert_int_equal(tt_journal_append(j, &e1, &err), TT_OK);
    assert_int_equal(tt_journal_append(j, &e0, &err), TT_OK); /* out of order: queued */
    assert_int_equal(tt_journal_flush(j, &err), TT_EORDER);
    assert_int_equal(tt_journal_append(j, &e1, &err), TT_EORDER);
    assert_int_equal(tt_journal_close(j, &err), TT_EORDER);
    tt_instruments_free(a);
    tt_test_rmdir(dir);
}

/* Notes and durability (at-least-once feeds): every block ends with the
 * feed's note, the feed hears of each block once it is written, readers
 * skip notes, and tt_journal_last_note finds the last complete block's. */
typedef struct hooks {
    uint64_t durable[64];
    int ndurable, nnotes;
} hooks;

static void note_hook(void *ctx, uint64_t seq, uint8_t **note, uint32_t *len)
{
    hooks *h = ctx;
    char *t = malloc(32);
    *len = (uint32_t)snprintf(t, 32, "upto %llu", (unsigned long long)seq);
    *note = (uint8_t *)t;
    h->nnotes++;
}

static void durable_hook(void *ctx, uint64_t seq)
{
    hooks *h = ctx;
    if (h->ndurable < 64)
        h->durable[h->ndurable++] = seq;
}

static void test_notes(void **state)
{
    (void)state;
    for (int background = 0; background < 2; background++) {
        char dir[4096];
        tt_test_tmpdir(dir, sizeof dir, "journal-notes");
        tt_instruments *a = tt_instruments_new();
        tt_journal *j;
        tt_err err;
        hooks h;
        memset(&h, 0, sizeof h);
        tt_journal_opts jo = {.block_events = 10, .background = background, .note = note_hook,
                              .durable = durable_hook, .hook_ctx = &h};
        assert_int_equal(tt_journal_open(&j, dir, a, &jo, &err), TT_OK);
        for (int i = 0; i < 25; i++) {
            tt_event e = mk(4 * i, 1); /* quotes, seq 4i+1 */
            assert_int_equal(tt_journal_append(j, &e, &err), TT_OK);
        }
        assert_int_equal(tt_journal_close(j, &err), TT_OK);
        /* blocks of 9 events and a note: durable after 9, 18 and (close) 25 */
        assert_int_equal(h.ndurable, 3);
        assert_int_equal(h.durable[0], mk(4 * 8, 1).seq);
        assert_int_equal(h.durable[1], mk(4 * 17, 1).seq);
        assert_int_equal(h.durable[2], mk(4 * 24, 1).seq);
        assert_int_equal(h.nnotes, 3);
        tt_journal_reader *r;
        assert_int_equal(tt_journal_reader_open(&r, dir, a, &err), TT_OK);
        tt_event ev;
        int n = 0;
        while (tt_journal_reader_next(r, &ev, &err) == 1) {
            assert_int_equal(ev.kind, TT_EV_QUOTE); /* no note reaches the engine */
            n++;
        }
        assert_int_equal(n, 25);
        tt_journal_reader_close(r);
        char *note;
        size_t len;
        assert_int_equal(tt_journal_last_note(dir, &note, &len, &err), TT_OK);
        assert_non_null(note);
        char want[32];
        snprintf(want, sizeof want, "upto %llu", (unsigned long long)mk(4 * 24, 1).seq);
        assert_string_equal(note, want);
        free(note);
        tt_instruments_free(a);
        tt_test_rmdir(dir);
    }
}

/* A live session's journal: the sync view has a control event on disk when
 * write returns; a session restarted after a crash continues the journal
 * after its last whole block (the torn tail cut), with no second header. */
static void test_sync_and_resume(void **state)
{
    (void)state;
    char dir[4096], seg[4300];
    tt_test_tmpdir(dir, sizeof dir, "journal-resume");
    tt_instruments *a = tt_instruments_new();
    tt_journal *j;
    tt_err err;
    tt_journal_opts jo = {.background = 1, .flush_interval = -1};
    assert_int_equal(tt_journal_open(&j, dir, a, &jo, &err), TT_OK);
    tt_sink sk = tt_journal_sink_sync(j);
    for (int i = 0; i < 6; i++) { /* 0, 4: quotes and the rest; 1, 5: control events */
        tt_event e = mk(i, 1);
        assert_int_equal(sk.write(sk.self, &e, &err), TT_OK);
    }
    /* the control event 5 is on disk: a reader sees events 0..5 already */
    tt_journal_reader *r;
    assert_int_equal(tt_journal_reader_open(&r, dir, a, &err), TT_OK);
    tt_event ev;
    int n = 0;
    while (tt_journal_reader_next(r, &ev, &err) == 1)
        n++;
    assert_int_equal(n, 6);
    tt_journal_reader_close(r);
    assert_int_equal(tt_journal_close(j, &err), TT_OK);
    /* a crash mid-block: half a block's bytes at the end of the segment */
    snprintf(seg, sizeof seg, "%s/_journal/blob/2026-11.tts" /* T0 is in November 2026 */, dir);
    FILE *f = fopen(seg, "ab");
    assert_non_null(f);
    fwrite("TTBLK\0\0\x07garbage", 1, 16, f);
    fclose(f);
    jo.resume = 1;
    assert_int_equal(tt_journal_open(&j, dir, a, &jo, &err), TT_OK);
    for (int i = 6; i < 12; i++) {
        tt_event e = mk(i, 1);
        assert_int_equal(tt_journal_append(j, &e, &err), TT_OK);
    }
    assert_int_equal(tt_journal_close(j, &err), TT_OK);
    assert_int_equal(tt_journal_reader_open(&r, dir, a, &err), TT_OK);
    n = 0;
    while (tt_journal_reader_next(r, &ev, &err) == 1) {
        tt_event want = mk(n, 1);
        assert_int_equal(ev.ts, want.ts);
        assert_int_equal(ev.kind, want.kind);
        n++;
    }
    assert_int_equal(n, 12);
    assert_int_equal(tt_journal_reader_warning_count(r), 0);
    tt_journal_reader_close(r);
    /* nothing to continue */
    char empty[4096];
    tt_test_tmpdir(empty, sizeof empty, "journal-resume-none");
    assert_int_equal(tt_journal_open(&j, empty, a, &jo, &err), TT_ENOTFOUND);
    tt_instruments_free(a);
    tt_test_rmdir(dir);
    tt_test_rmdir(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_roundtrip_and_symbol_map),
                                       cmocka_unit_test(test_background_writer),
                                       cmocka_unit_test(test_notes),
                                       cmocka_unit_test(test_sync_and_resume)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
