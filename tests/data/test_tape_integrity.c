/*
 * The tape never answers with less than was written (issue 12).
 *
 * Each case damages a tape or its writing and checks that it ends with all the
 * data, or with a named error; never a quiet short answer:
 *
 *   - a segment cut at every block and commit boundary and at random offsets:
 *     readers fail naming the file and what is missing (allow_partial reads
 *     exactly the complete blocks and counts the rest), verify fails, repair
 *     cuts back to the last sound commit and says what it dropped;
 *   - segments deleted, copied over another, swapped, and extra files;
 *   - a format 1 tape: read with a warning, refused by writers, upgraded;
 *   - write, fsync and rename failures at every k-th call (ENOSPC, EIO, short
 *     writes): the writer names the error, the tape reads as a prefix of what
 *     was given (exactly what was committed), and writing it all again
 *     completes it;
 *   - two writers: the second fails at once naming the first, or waits;
 *     readers see only committed data while a writer runs, and are told when
 *     one was killed;
 *   - back-fills, overlaps, conflicts kept or replaced, an interrupted
 *     millisecond completed;
 *   - a journal killed with kill -9 at random moments keeps every event it
 *     had committed (docs/tape-format.md, "Durability").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "../support/fault_wrap.h"
#include "data/tape.h"

/* ---- helpers ---- */

static char *make_tmpdir(void)
{
    char *t = strdup("/tmp/tt_integrity_XXXXXX");
    assert_non_null(mkdtemp(t));
    return t;
}

static void sh(const char *fmt, ...)
{
    char cmd[9000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static tt_stream_desc quote_desc(void)
{
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "EURUSD");
    d.kind = TT_STREAM_QUOTE;
    return d;
}

static tt_event quote(tt_ts ts, tt_price bid)
{
    tt_event e;
    memset(&e, 0, sizeof e);
    e.ts = e.ts_init = ts;
    e.kind = TT_EV_QUOTE;
    e.cls = TT_CLS_MARKET;
    e.u.quote.bid = bid;
    e.u.quote.ask = bid + 20;
    e.u.quote.bid_vol = 1.5f;
    e.u.quote.ask_vol = 2.0f;
    return e;
}

/* n quotes from t0, one every `step`, bids a walk. */
static tt_event *quotes(size_t n, tt_ts t0, tt_ts step)
{
    tt_event *v = calloc(n, sizeof *v);
    tt_price bid = 114000;
    for (size_t i = 0; i < n; i++) {
        bid += (tt_price)(rnd() % 7) - 3;
        v[i] = quote(t0 + (tt_ts)i * step, bid);
    }
    return v;
}

/* Write events with a writer of block_events, merging or not. The first
 * error's code (TT_OK when none), with its message in *err. */
static int write_events(const char *dir, const tt_event *v, size_t n, uint32_t block_events,
                        int merge, int replace, tt_tape_writer_stats *st, tt_err *err)
{
    tt_stream_desc d = quote_desc();
    tt_tape_writer_opts o = {.block_events = block_events, .merge = merge, .replace = replace};
    tt_tape_writer *w;
    int rc = tt_tape_writer_open(&w, dir, &d, &o, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++)
        rc = tt_tape_writer_append(w, &v[i], err);
    if (!rc)
        rc = tt_tape_writer_flush(w, err);
    if (st)
        tt_tape_writer_stats_get(w, st);
    tt_err e2;
    int rc2 = tt_tape_writer_close(w, &e2);
    if (!rc && rc2) {
        rc = rc2;
        *err = e2;
    }
    return rc;
}

typedef struct got {
    tt_event *v;
    size_t n;
    int rc;        /* of open, else of the last next */
    uint64_t missing;
    int warnings;
    char warning[2000];
    tt_err err;
} got;

static got read_tape(const char *dir, tt_ts from, tt_ts to, int partial, size_t cap)
{
    got g;
    memset(&g, 0, sizeof g);
    g.v = calloc(cap ? cap : 1, sizeof *g.v);
    tt_tape_query q = {.from = from, .to = to, .allow_partial = partial};
    tt_tape_reader *r;
    g.rc = tt_tape_reader_open(&r, dir, &q, NULL, &g.err);
    if (g.rc)
        return g;
    tt_event ev;
    while ((g.rc = tt_tape_reader_next(r, &ev, &g.err)) == 1) {
        if (g.n < cap)
            g.v[g.n] = ev;
        g.n++;
    }
    g.missing = tt_tape_reader_missing(r);
    g.warnings = tt_tape_reader_warning_count(r);
    for (int i = 0; i < g.warnings; i++)
        snprintf(g.warning + strlen(g.warning), sizeof g.warning - strlen(g.warning), "%s\n",
                 tt_tape_reader_warning(r, i));
    tt_tape_reader_close(r);
    return g;
}

static void assert_same(const tt_event *a, const tt_event *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].ts, b[i].ts);
        assert_int_equal(a[i].u.quote.bid, b[i].u.quote.bid);
        assert_int_equal(a[i].u.quote.ask, b[i].u.quote.ask);
    }
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static int verify(const char *dir, tt_err *err)
{
    return tt_tape_verify(dir, NULL, NULL, NULL, err);
}

static void collect(void *ctx, const char *line)
{
    char *buf = ctx;
    snprintf(buf + strlen(buf), 8000 - strlen(buf), "%s\n", line);
}

/* The offsets in a segment where each record (block or commit record) starts. */
static size_t record_offsets(const char *path, off_t *out, size_t cap, int *is_commit)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    off_t size = file_size(path), off = 64;
    size_t n = 0;
    while (off < size && n < cap) {
        uint8_t h[48];
        assert_int_equal(pread(fd, h, 48, off), 48);
        out[n] = off;
        is_commit[n] = !memcmp(h, "TTCM", 4);
        n++;
        if (!memcmp(h, "TTCM", 4))
            off += 64;
        else
            off += 48 + (h[28] | h[29] << 8 | h[30] << 16 | (off_t)h[31] << 24);
    }
    close(fd);
    return n;
}

#define T0 1549238400000000000ll /* 2019-02-04T00:00:00Z */

/* ---- cuts ---- */

/* One cut at `cut`: strict readers fail naming the file; allow_partial reads
 * exactly the complete blocks before the cut; verify fails; repair leaves
 * exactly the blocks of the last commit before the cut, and says so. */
static void check_cut(const char *dir, const char *seg, const char *copy, off_t cut,
                      const tt_event *v, size_t n, const off_t *rec, const int *is_commit,
                      size_t nrec)
{
    sh("cp '%s' '%s' && truncate -s %lld '%s'", copy, seg, (long long)cut, seg);
    off_t full = file_size(copy);
    /* events in complete blocks before the cut, and in committed blocks */
    size_t whole = 0, committed = 0, count = 0;
    for (size_t i = 0; i < nrec; i++) {
        off_t end = i + 1 < nrec ? rec[i + 1] : full;
        if (end > cut)
            break;
        if (is_commit[i])
            committed = count;
        else
            count += 100;
        whole = count;
    }
    got s = read_tape(dir, 0, 0, 0, n);
    if (cut >= full - 64) { /* only the last commit record was cut */
        assert_int_equal(s.rc, 0);
        assert_int_equal(s.n, n);
        assert_non_null(strstr(s.warning, "commit record"));
    } else {
        assert_true(s.rc < 0);
        assert_non_null(strstr(s.err.msg, "2019-02.tts"));
        assert_non_null(strstr(s.err.msg, "missing"));
        assert_int_equal(s.n, 0);
    }
    free(s.v);
    got p = read_tape(dir, 0, 0, 1, n);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.n, whole);
    assert_int_equal(p.n + p.missing, n);
    assert_same(p.v, v, p.n);
    free(p.v);
    tt_err err;
    assert_int_not_equal(verify(dir, &err), TT_OK);
    char report[8000] = "";
    assert_int_equal(tt_tape_repair(dir, collect, report, NULL, &err), TT_OK);
    got r = read_tape(dir, 0, 0, 0, n);
    if (cut >= full - 64) {
        assert_int_equal(r.n, n);
        assert_non_null(strstr(report, "written again"));
    } else if (committed) {
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.n, committed);
        assert_same(r.v, v, committed);
        assert_non_null(strstr(report, "events dropped"));
        assert_int_equal(verify(dir, &err), TT_OK);
    } else {
        assert_int_equal(r.rc, 0); /* nothing was left: the tape says it holds nothing */
        assert_int_equal(r.n, 0);
        assert_non_null(strstr(report, "dropped from the manifest"));
    }
    free(r.v);
}

static void test_cut_everywhere(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    enum { N = 1000 };
    tt_event *v = quotes(N, T0, TT_NS_PER_SEC);
    tt_err err;
    assert_int_equal(write_events(dir, v, N, 100, 0, 0, NULL, &err), TT_OK);
    char seg[4200], copy[4200], man[4200], mcopy[4200];
    snprintf(seg, sizeof seg, "%s/EURUSD/quote/2019-02.tts", dir);
    snprintf(copy, sizeof copy, "%s.orig", dir);
    snprintf(man, sizeof man, "%s/MANIFEST", dir);
    snprintf(mcopy, sizeof mcopy, "%s.manifest", dir);
    sh("cp '%s' '%s' && cp '%s' '%s'", seg, copy, man, mcopy);
    off_t rec[64];
    int is_commit[64];
    size_t nrec = record_offsets(copy, rec, 64, is_commit);
    assert_int_equal(nrec, 20); /* ten blocks, each committed */
    off_t full = file_size(copy);
    /* every record boundary: blocks and commit records */
    for (size_t i = 0; i < nrec; i++) {
        sh("cp '%s' '%s'", mcopy, man);
        check_cut(dir, seg, copy, rec[i], v, N, rec, is_commit, nrec);
    }
    /* and random offsets anywhere past the header */
    for (int t = 0; t < 60; t++) {
        sh("cp '%s' '%s'", mcopy, man);
        off_t cut = 64 + (off_t)(rnd() % (uint64_t)(full - 64));
        check_cut(dir, seg, copy, cut, v, N, rec, is_commit, nrec);
    }
    unlink(copy);
    unlink(mcopy);
    sh("rm -rf '%s'", dir);
    free(v);
    free(dir);
}

/* ---- missing, copied, swapped and extra segments ---- */

static void test_segments_missing_copied_swapped(void **state)
{
    (void)state;
    char *dir = make_tmpdir(), *keep = make_tmpdir();
    enum { N = 3000 };
    tt_ts jan = tt_ts_from_civil(2019, 1, 31, 0, 0, 0, 0);
    tt_event *v = quotes(N, jan, 100 * TT_NS_PER_SEC); /* Jan 31 .. Feb 3, then March? */
    for (size_t i = 2000; i < N; i++)
        v[i].ts = v[i].ts_init = tt_ts_from_civil(2019, 3, 1, 0, 0, 0, 0) + (tt_ts)i * TT_NS_PER_SEC;
    tt_err err;
    assert_int_equal(write_events(dir, v, N, 256, 0, 0, NULL, &err), TT_OK);
    sh("rm -rf '%s' && cp -a '%s' '%s'", keep, dir, keep);
    char q[4200];
    snprintf(q, sizeof q, "%s/EURUSD/quote", dir);
    tt_tape_info info;
    assert_int_equal(tt_tape_info_read(dir, &info, &err), TT_OK);
    assert_int_equal(info.streams[0].segments, 3);
    tt_tape_info_free(&info);
    size_t in_jan = 0, in_feb = 0;
    for (size_t i = 0; i < N; i++) {
        in_jan += v[i].ts < tt_ts_from_civil(2019, 2, 1, 0, 0, 0, 0);
        in_feb += v[i].ts >= tt_ts_from_civil(2019, 2, 1, 0, 0, 0, 0) && i < 2000;
    }

    /* a month deleted */
    sh("rm '%s/2019-02.tts'", q);
    got g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.rc, TT_ENOTFOUND);
    assert_non_null(strstr(g.err.msg, "missing segment"));
    free(g.v);
    g = read_tape(dir, 0, 0, 1, N);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, N - in_feb);
    assert_int_equal(g.missing, in_feb);
    free(g.v);
    /* a range that does not touch February is answered whole */
    g = read_tape(dir, tt_ts_from_civil(2019, 3, 1, 0, 0, 0, 0), 0, 0, N);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, N - 2000);
    free(g.v);
    assert_int_equal(verify(dir, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "2019-02.tts"));
    info.damaged = 0;
    assert_int_equal(tt_tape_info_read(dir, &info, &err), TT_OK);
    assert_int_equal(info.damaged, 1);
    tt_tape_info_free(&info);
    char report[8000] = "";
    tt_tape_repair_stats rs;
    assert_int_equal(tt_tape_repair(dir, collect, report, &rs, &err), TT_OK);
    assert_int_equal(rs.segments_lost, 1);
    assert_int_equal(rs.events_dropped, in_feb);
    assert_non_null(strstr(report, "2019-02.tts: dropped from the manifest"));
    assert_int_equal(verify(dir, &err), TT_OK);

    /* January copied over February: another file in its place */
    sh("rm -rf '%s' && cp -a '%s' '%s'", dir, keep, dir);
    sh("cp '%s/2019-01.tts' '%s/2019-02.tts'", q, q);
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.rc, TT_EFORMAT);
    assert_non_null(strstr(g.err.msg, "another file in its place"));
    free(g.v);
    g = read_tape(dir, 0, 0, 1, N);
    assert_int_equal(g.n, N - in_feb); /* nothing of the impostor is read */
    assert_int_equal(g.missing, in_feb);
    free(g.v);
    assert_int_equal(verify(dir, &err), TT_EFORMAT);

    /* two months swapped */
    sh("rm -rf '%s' && cp -a '%s' '%s'", dir, keep, dir);
    sh("cd '%s' && mv 2019-01.tts x && mv 2019-02.tts 2019-01.tts && mv x 2019-02.tts", q);
    g = read_tape(dir, 0, 0, 0, N);
    assert_true(g.rc < 0);
    assert_non_null(strstr(g.err.msg, "2019-01.tts"));
    free(g.v);
    assert_int_not_equal(verify(dir, &err), TT_OK);

    /* an extra copy under a name the manifest does not list */
    sh("rm -rf '%s' && cp -a '%s' '%s'", dir, keep, dir);
    sh("cp '%s/2019-01.tts' '%s/2019-01.1.tts'", q, q);
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, N); /* read once, not twice */
    assert_non_null(strstr(g.warning, "2019-01.1.tts"));
    free(g.v);
    char lines[8000] = "";
    assert_int_equal(tt_tape_verify(dir, collect, lines, NULL, &err), TT_EFORMAT);
    assert_non_null(strstr(lines, "the manifest does not name"));
    report[0] = '\0';
    assert_int_equal(tt_tape_repair(dir, collect, report, &rs, &err), TT_OK);
    assert_int_equal(rs.files_removed, 1);
    assert_int_equal(verify(dir, &err), TT_OK);

    /* the manifest itself damaged, or gone */
    sh("rm -rf '%s' && cp -a '%s' '%s'", dir, keep, dir);
    sh("sed -i '2s/segment /segment  /' '%s/MANIFEST'", dir); /* parses, sum differs */
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.rc, TT_ECHECKSUM);
    free(g.v);
    sh("rm '%s/MANIFEST'", dir);
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.rc, TT_EFORMAT);
    assert_non_null(strstr(g.err.msg, "no manifest"));
    free(g.v);
    assert_int_equal(tt_tape_repair(dir, NULL, NULL, NULL, &err), TT_OK);
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.n, N);
    free(g.v);

    /* not a tape at all */
    char *empty = make_tmpdir();
    assert_int_equal(verify(empty, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "not a tape"));
    g = read_tape(empty, 0, 0, 0, 1);
    assert_int_equal(g.rc, TT_ENOTFOUND);
    free(g.v);
    sh("rm -rf '%s' '%s' '%s'", dir, keep, empty);
    free(v);
    free(dir);
    free(keep);
    free(empty);
}

/* ---- a format 1 tape ---- */

/* Rewrite a format 2 segment as format 1: version 1 in the header, no commit records. */
static void to_format1(const char *path)
{
    int fd = open(path, O_RDONLY);
    off_t size = file_size(path);
    uint8_t *b = malloc((size_t)size), *out = malloc((size_t)size);
    assert_int_equal(pread(fd, b, (size_t)size, 0), size);
    close(fd);
    memcpy(out, b, 64);
    out[8] = 1;
    out[9] = 0;
    uint64_t sum = XXH64(out, 56, 0);
    for (int i = 0; i < 8; i++)
        out[56 + i] = (uint8_t)(sum >> (8 * i));
    size_t n = 64;
    for (off_t off = 64; off < size;) {
        if (!memcmp(b + off, "TTCM", 4)) {
            off += 64;
            continue;
        }
        size_t len = 48 + (size_t)(b[off + 28] | b[off + 29] << 8 | b[off + 30] << 16 |
                                   (uint32_t)b[off + 31] << 24);
        memcpy(out + n, b + off, len);
        n += len;
        off += (off_t)len;
    }
    FILE *f = fopen(path, "wb");
    assert_int_equal(fwrite(out, 1, n, f), n);
    fclose(f);
    free(b);
    free(out);
}

static void test_format1_upgrade(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    enum { N = 2000 };
    tt_event *v = quotes(N, T0, TT_NS_PER_SEC);
    tt_err err;
    assert_int_equal(write_events(dir, v, N, 300, 0, 0, NULL, &err), TT_OK);
    char seg[4200];
    snprintf(seg, sizeof seg, "%s/EURUSD/quote/2019-02.tts", dir);
    to_format1(seg);
    sh("rm '%s/MANIFEST'", dir);
    got g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, N);
    assert_same(g.v, v, N);
    assert_non_null(strstr(g.warning, "format 1"));
    free(g.v);
    assert_int_equal(verify(dir, &err), TT_EVERSION);
    assert_non_null(strstr(err.msg, "tape upgrade"));
    tt_tape_writer *w;
    tt_stream_desc d = quote_desc();
    assert_int_equal(tt_tape_writer_open(&w, dir, &d, NULL, &err), TT_EVERSION);
    assert_non_null(strstr(err.msg, "tape upgrade"));
    char report[8000] = "";
    tt_tape_repair_stats rs;
    assert_int_equal(tt_tape_upgrade(dir, collect, report, &rs, &err), TT_OK);
    assert_int_equal(rs.segments_upgraded, 1);
    assert_int_equal(verify(dir, &err), TT_OK);
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.n, N);
    assert_int_equal(g.warnings, 0);
    assert_same(g.v, v, N);
    free(g.v);
    /* a second run has nothing to do; writing continues */
    report[0] = '\0';
    assert_int_equal(tt_tape_upgrade(dir, collect, report, &rs, &err), TT_OK);
    assert_non_null(strstr(report, "nothing to do"));
    tt_event more = quote(v[N - 1].ts + 1, 1);
    assert_int_equal(write_events(dir, &more, 1, 0, 0, 0, NULL, &err), TT_OK);
    assert_int_equal(verify(dir, &err), TT_OK);
    sh("rm -rf '%s'", dir);
    free(v);
    free(dir);
}

/* ---- write faults ---- */

/* One run with the k-th call of `kinds` failing: the writer names its error;
 * the tape then reads as exactly a prefix of v (what was committed), never
 * more; writing all of v again with merge completes it. */
static void fault_run(const char *dir, const tt_event *v, size_t n, unsigned kinds, uint64_t k,
                      int errnum, int *failures)
{
    sh("rm -rf '%s' && mkdir -p '%s'", dir, dir);
    tt_stream_desc d = quote_desc();
    tt_tape_writer_opts o = {.block_events = 100, .fsync = 1};
    tt_err err;
    tt_err_clear(&err);
    tt_fw_arm(kinds, k, errnum);
    tt_tape_writer *w;
    int rc = tt_tape_writer_open(&w, dir, &d, &o, &err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = tt_tape_writer_append(w, &v[i], &err);
    if (rc == TT_OK || w) {
        tt_err e2;
        int rc2 = rc == TT_OK ? tt_tape_writer_close(w, &e2) : (tt_tape_writer_close(w, NULL), 0);
        if (!rc && rc2) {
            rc = rc2;
            err = e2;
        }
    }
    uint64_t fired = tt_fw_fired();
    tt_fw_disarm();
    if (rc) {
        (*failures)++;
        assert_true(fired > 0);
        assert_true(err.msg[0] != '\0');
    }
    got g = read_tape(dir, 0, 0, 0, n);
    if (g.rc == TT_ENOTFOUND) {
        assert_int_not_equal(rc, TT_OK); /* nothing committed: nothing claimed */
    } else {
        assert_int_equal(g.rc, 0);
        assert_true(g.n <= n);
        assert_same(g.v, v, g.n);
        if (rc == TT_OK)
            assert_int_equal(g.n, n);
    }
    free(g.v);
    /* writing it all again completes the tape: no gap, no duplicate */
    tt_tape_writer_stats st;
    assert_int_equal(write_events(dir, v, n, 100, 1, 0, &st, &err), TT_OK);
    assert_int_equal(st.added + st.duplicates, n);
    assert_int_equal(st.conflicts, 0);
    g = read_tape(dir, 0, 0, 0, n);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, n);
    assert_same(g.v, v, n);
    assert_int_equal(g.warnings, 0);
    free(g.v);
    assert_int_equal(verify(dir, &err), TT_OK);
}

static void test_write_faults(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    enum { N = 1000 };
    tt_event *v = quotes(N, T0, TT_NS_PER_SEC);
    /* how many calls of each kind a clean run makes */
    int failures = 0;
    tt_fw_arm(TT_FW_WRITE | TT_FW_FSYNC | TT_FW_RENAME, UINT64_MAX, EIO);
    fault_run(dir, v, N, TT_FW_WRITE | TT_FW_FSYNC | TT_FW_RENAME, UINT64_MAX, EIO,
              &failures);
    assert_int_equal(failures, 0);
    static const struct {
        unsigned kinds;
        int errnum;
    } cases[] = {
        {TT_FW_WRITE, ENOSPC},
        {TT_FW_WRITE, EIO},
        {TT_FW_WRITE | TT_FW_STICKY, ENOSPC},
        {TT_FW_WRITE | TT_FW_SHORT, EIO},
        {TT_FW_FSYNC, EIO},
        {TT_FW_RENAME, EIO},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        /* count the calls of this kind in a clean run, then fail each k-th */
        tt_fw_arm(cases[c].kinds & TT_FW_KINDS, UINT64_MAX, EIO);
        tt_stream_desc d = quote_desc();
        tt_tape_writer_opts o = {.block_events = 100, .fsync = 1};
        tt_tape_writer *w;
        tt_err err;
        sh("rm -rf '%s' && mkdir -p '%s'", dir, dir);
        assert_int_equal(tt_tape_writer_open(&w, dir, &d, &o, &err), TT_OK);
        for (size_t i = 0; i < N; i++)
            assert_int_equal(tt_tape_writer_append(w, &v[i], &err), TT_OK);
        assert_int_equal(tt_tape_writer_close(w, &err), TT_OK);
        uint64_t calls = tt_fw_calls();
        tt_fw_disarm();
        assert_true(calls >= 10);
        failures = 0;
        for (uint64_t k = 1; k <= calls; k++)
            fault_run(dir, v, N, cases[c].kinds, k, cases[c].errnum, &failures);
        /* a fault of any call either surfaced as an error, or (a short write
         * retried by a loop) did not lose anything: fault_run checked which */
        assert_true(failures > 0);
    }
    sh("rm -rf '%s'", dir);
    free(v);
    free(dir);
}

/* ---- two writers ---- */

static void test_two_writers(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    tt_err err;
    tt_tape *a, *b;
    tt_tape_open_opts o = {.command = "import test"};
    assert_int_equal(tt_tape_open(&a, dir, &o, &err), TT_OK);
    assert_int_equal(tt_tape_open(&b, dir, &o, &err), TT_ESTATE);
    assert_non_null(strstr(err.msg, "already open for writing in this process"));
    assert_int_equal(tt_tape_close(a, &err), TT_OK);

    /* another process holds it: fail at once naming it, or wait for it */
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    enum { N = 600 };
    tt_event *v = quotes(N, T0, TT_NS_PER_SEC);
    pid_t child = fork();
    if (child == 0) {
        tt_tape *t;
        tt_tape_writer *w;
        tt_stream_desc d = quote_desc();
        tt_tape_writer_opts wo = {.block_events = 100};
        tt_tape_open_opts co = {.command = "import child"};
        char c;
        if (tt_tape_open(&t, dir, &co, &err) || tt_tape_writer_open_in(&w, t, &d, &wo, &err))
            _exit(1);
        for (int i = 0; i < 250; i++) /* two blocks committed, 50 events pending */
            if (tt_tape_writer_append(w, &v[i], &err))
                _exit(1);
        if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(1);
        tt_tape_writer_close(w, NULL);
        tt_tape_close(t, NULL);
        _exit(0);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(tt_tape_open(&b, dir, &o, &err), TT_ESTATE);
    char want[64];
    snprintf(want, sizeof want, "being written by pid %ld (import child)", (long)child);
    assert_non_null(strstr(err.msg, want));
    /* readers see only what is committed while the writer runs, and no warning */
    got g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 200);
    assert_int_equal(g.warnings, 0);
    free(g.v);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t releaser = fork();
    if (releaser == 0) {
        usleep(200000);
        _exit(write(go[1], "g", 1) == 1 ? 0 : 1);
    }
    o.wait = 1;
    assert_int_equal(tt_tape_open(&b, dir, &o, &err), TT_OK); /* waits for the child */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) > 100000000L);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    waitpid(releaser, &status, 0);
    assert_int_equal(tt_tape_close(b, &err), TT_OK);
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.n, 250);
    free(g.v);

    /* a writer killed with kill -9: readers read its last commit and say so */
    sh("rm -rf '%s' && mkdir -p '%s'", dir, dir);
    child = fork();
    if (child == 0) {
        tt_tape_writer *w;
        tt_stream_desc d = quote_desc();
        tt_tape_writer_opts wo = {.block_events = 100};
        if (tt_tape_writer_open(&w, dir, &d, &wo, &err))
            _exit(1);
        for (int i = 0; i < 350; i++)
            if (tt_tape_writer_append(w, &v[i], &err))
                _exit(1);
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    assert_int_equal(read(ready[0], &c, 1), 1);
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 300);
    assert_non_null(strstr(g.warning, "did not finish"));
    free(g.v);
    assert_int_equal(verify(dir, &err), TT_ESTATE);
    assert_non_null(strstr(err.msg, "did not finish"));
    /* the next writer recovers, and writing it all again completes it */
    tt_tape_writer_stats st;
    assert_int_equal(write_events(dir, v, N, 100, 1, 0, &st, &err), TT_OK);
    assert_int_equal(st.duplicates, 300);
    assert_int_equal(st.added, N - 300);
    assert_int_equal(verify(dir, &err), TT_OK);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    sh("rm -rf '%s'", dir);
    free(v);
    free(dir);
}

/* ---- back-fill, overlap, conflicts ---- */

static void test_backfill_and_overlap(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    enum { N = 2000 };
    tt_event *v = quotes(N, T0, 60 * TT_NS_PER_SEC); /* 4 Feb .. 5 Feb */
    size_t half = N / 2;
    tt_err err;
    tt_tape_writer_stats st;
    /* the later day first, then the earlier one: merged in time order */
    assert_int_equal(write_events(dir, v + half, N - half, 128, 1, 0, &st, &err), TT_OK);
    assert_int_equal(write_events(dir, v, half, 128, 1, 0, &st, &err), TT_OK);
    assert_int_equal(st.added, half);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(st.rewritten, 1);
    got g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.n, N);
    assert_same(g.v, v, N);
    free(g.v);
    char seg[4200];
    snprintf(seg, sizeof seg, "%s/EURUSD/quote/2019-02.1.tts", dir);
    assert_true(file_size(seg) > 0); /* the month's next generation, swapped in */
    snprintf(seg, sizeof seg, "%s/EURUSD/quote/2019-02.tts", dir);
    assert_int_equal(access(seg, F_OK), -1); /* the old file is gone */
    assert_int_equal(verify(dir, &err), TT_OK);
    /* an overlap: the middle again and more; only what is new is added */
    assert_int_equal(write_events(dir, v + half / 2, half, 128, 1, 0, &st, &err), TT_OK);
    assert_int_equal(st.duplicates, half);
    assert_int_equal(st.added, 0);
    /* conflicts: other values at the same times; kept, then replaced */
    tt_event *w = calloc(10, sizeof *w);
    for (int i = 0; i < 10; i++) {
        w[i] = v[100 + i];
        if (i % 2)
            w[i].u.quote.bid += 1;
    }
    char lines[8000] = "";
    tt_stream_desc d = quote_desc();
    tt_tape_writer_opts o = {.merge = 1, .report = collect, .report_ctx = lines};
    tt_tape_writer *wr;
    assert_int_equal(tt_tape_writer_open(&wr, dir, &d, &o, &err), TT_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(tt_tape_writer_append(wr, &w[i], &err), TT_OK);
    assert_int_equal(tt_tape_writer_flush(wr, &err), TT_OK);
    tt_tape_writer_stats_get(wr, &st);
    assert_int_equal(tt_tape_writer_close(wr, &err), TT_OK);
    assert_int_equal(st.conflicts, 5);
    assert_int_equal(st.duplicates, 5);
    assert_non_null(strstr(lines, "conflict: EURUSD quote at 2019-02-04T01:41:00.000Z"));
    assert_non_null(strstr(lines, "the tape's are kept"));
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.n, N);
    assert_same(g.v, v, N); /* unchanged */
    free(g.v);
    assert_int_equal(write_events(dir, w, 10, 128, 1, 1, &st, &err), TT_OK);
    assert_int_equal(st.conflicts, 5);
    assert_int_equal(st.replaced, 5);
    g = read_tape(dir, 0, 0, 0, N);
    assert_int_equal(g.n, N);
    assert_same(g.v + 100, w, 10); /* replaced */
    assert_same(g.v, v, 100);
    free(g.v);
    free(w);
    assert_int_equal(verify(dir, &err), TT_OK);

    /* an interrupted millisecond: the tape holds 2 of the 5 ticks at T */
    sh("rm -rf '%s' && mkdir -p '%s'", dir, dir);
    tt_event ms[8];
    for (int i = 0; i < 8; i++)
        ms[i] = quote(T0 + (i < 5 ? 0 : i), 114000 + i);
    assert_int_equal(write_events(dir, ms, 2, 0, 1, 0, &st, &err), TT_OK);
    assert_int_equal(write_events(dir, ms, 8, 0, 1, 0, &st, &err), TT_OK);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(st.added, 6);
    assert_int_equal(st.conflicts, 0);
    g = read_tape(dir, 0, 0, 0, 8);
    assert_int_equal(g.n, 8);
    assert_same(g.v, ms, 8);
    free(g.v);
    /* without merge, an earlier event is refused, not dropped */
    tt_event early = quote(T0 - 1, 1);
    assert_int_equal(write_events(dir, &early, 1, 0, 0, 0, NULL, &err), TT_EORDER);
    sh("rm -rf '%s'", dir);
    free(v);
    free(dir);
}

/* ---- a journal killed ---- */

/* A journal (a blob stream, flushed every 50 events, fsync on) killed with
 * kill -9 at random moments: every event it had flushed (committed) is on the
 * tape, in order, and nothing else but a prefix of what it was given. */
static void test_killed_journal(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    for (int round = 0; round < 12; round++) {
        sh("rm -rf '%s' && mkdir -p '%s'", dir, dir);
        int acks[2];
        assert_int_equal(pipe(acks), 0);
        pid_t child = fork();
        if (child == 0) {
            close(acks[0]);
            tt_stream_desc d;
            memset(&d, 0, sizeof d);
            snprintf(d.symbol, sizeof d.symbol, "_journal");
            d.kind = TT_STREAM_BLOB;
            tt_tape_writer_opts o = {.fsync = 1};
            tt_tape_writer *w;
            tt_err err;
            if (tt_tape_writer_open(&w, dir, &d, &o, &err))
                _exit(1);
            for (uint32_t i = 0;; i++) {
                tt_event e = quote(T0 + (tt_ts)i * TT_NS_PER_MS, (tt_price)i);
                if (tt_tape_writer_append(w, &e, &err))
                    _exit(1);
                if (i % 50 == 49) {
                    uint32_t done = i + 1;
                    if (tt_tape_writer_flush(w, &err) || write(acks[1], &done, 4) != 4)
                        _exit(1);
                }
            }
        }
        close(acks[1]);
        uint32_t acked = 0, v;
        int want = 2 + (int)(rnd() % 6);
        for (int k = 0; k < want && read(acks[0], &v, 4) == 4; k++)
            acked = v;
        usleep((useconds_t)(rnd() % 20000));
        kill(child, SIGKILL);
        int status;
        waitpid(child, &status, 0);
        while (read(acks[0], &v, 4) == 4) /* acknowledged before the kill landed */
            acked = v;
        close(acks[0]);
        tt_tape_query q = {.kinds = 1u << TT_STREAM_BLOB};
        tt_tape_reader *r;
        tt_err err;
        assert_int_equal(tt_tape_reader_open(&r, dir, &q, NULL, &err), TT_OK);
        uint32_t n = 0;
        tt_event ev;
        int rc;
        while ((rc = tt_tape_reader_next(r, &ev, &err)) == 1) {
            assert_int_equal(ev.u.quote.bid, (tt_price)n); /* in order, none missing */
            n++;
        }
        assert_int_equal(rc, 0);
        assert_true(n >= acked);   /* every committed event survived the kill */
        assert_true(n % 50 == 0);  /* and only whole commits are read */
        assert_non_null(strstr(tt_tape_reader_warning(r, 0), "did not finish"));
        tt_tape_reader_close(r);
    }
    sh("rm -rf '%s'", dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_everywhere),
        cmocka_unit_test(test_segments_missing_copied_swapped),
        cmocka_unit_test(test_format1_upgrade),
        cmocka_unit_test(test_write_faults),
        cmocka_unit_test(test_two_writers),
        cmocka_unit_test(test_backfill_and_overlap),
        cmocka_unit_test(test_killed_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
