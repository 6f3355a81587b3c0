/*
 * Repairing and upgrading a tape, and the recovery a writer runs after one
 * that did not finish.
 *
 * How it works
 * ------------
 * Recovery (tt_tape_recover) trusts the manifest: every segment is cut back
 * to its committed length and every segment file the manifest does not name
 * is removed (a month a killed merge had started to rewrite, a segment
 * created but never committed, the old file of a month whose swap was
 * committed but not yet cleaned). It is what the next writer does when the
 * lock says the previous one did not finish, and the first step of repair.
 *
 * Repair (tt_tape_repair) also distrusts the files: each segment is checked
 * against the manifest (data/tape/check.c). A cut or a corrupt record sends
 * the segment back to the last commit record before the damage (the walk
 * checked that record against the blocks before it), or out of the manifest
 * when no commit survives; a missing segment, or one with another file in
 * its place, leaves the manifest. Then the files the manifest does not name
 * are removed and the manifest is written. Every change is reported with the
 * events and the time range it drops. A tape whose manifest is lost or
 * unreadable gets one rebuilt from each segment's last commit record.
 *
 * Upgrade (tt_tape_upgrade) turns a format 1 tape into format 2: each
 * segment is written to a new file (a format 2 header, its complete blocks
 * copied byte for byte, each followed by a commit record, as a writer commits
 * them), fsync'd and renamed over the old
 * one; then the manifest is written. An upgrade killed halfway leaves format
 * 1 and format 2 segments and no manifest; running it again finishes.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>


typedef struct fixer {
    const char *dir;
    void (*report)(void *, const char *);
    void *ctx;
    tt_tape_repair_stats st;
    int rc;
    tt_err *err;
} fixer;

static void say(fixer *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(fixer *f, const char *fmt, ...)
{
    if (!f->report)
        return;
    char line[4800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    f->report(f->ctx, line);
}

static void range_text(tt_ts a, tt_ts b, char *out, size_t n)
{
    char x[48], y[48];
    tt_ts_format(a, x, sizeof x, a % TT_NS_PER_MS != 0);
    tt_ts_format(b, y, sizeof y, b % TT_NS_PER_MS != 0);
    snprintf(out, n, "%s .. %s", x, y);
}

static void remove_extra(void *ctx, const char *path, uint64_t bytes)
{
    fixer *f = ctx;
    if (unlink(path) && errno != ENOENT) {
        if (!f->rc)
            f->rc = tt_err_set(f->err, TT_EIO, "%s: cannot remove: %s", path, strerror(errno));
        return;
    }
    f->st.files_removed++;
    f->st.bytes_dropped += bytes;
    say(f, "%s: removed (%llu bytes; no manifest entry names it)", path,
        (unsigned long long)bytes);
}

/* Cut the file at path to `length` bytes if it is longer. */
static int cut_to(fixer *f, const char *path, uint64_t length)
{
    struct stat st;
    if (stat(path, &st) || (uint64_t)st.st_size <= length)
        return TT_OK;
    if (truncate(path, (off_t)length))
        return tt_err_set(f->err, TT_EIO, "%s: cannot cut: %s", path, strerror(errno));
    f->st.bytes_dropped += (uint64_t)st.st_size - length;
    say(f, "%s: %llu uncommitted byte(s) after the last commit dropped", path,
        (unsigned long long)((uint64_t)st.st_size - length));
    return TT_OK;
}

int tt_tape_recover(const char *dir, const tt_tape_manifest *m,
                    void (*report)(void *, const char *), void *ctx, uint64_t *dropped,
                    tt_err *err)
{
    fixer f = {dir, report, ctx, {0}, TT_OK, err};
    for (int i = 0; i < m->n && !f.rc; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s/%s/%s", dir, m->v[i].symbol, m->v[i].stream,
                 m->v[i].file);
        f.rc = cut_to(&f, path, m->v[i].c.length);
    }
    if (!f.rc)
        tt_tape_extra_files(dir, m, remove_extra, &f);
    if (dropped)
        *dropped = f.st.bytes_dropped;
    return f.rc;
}

/* ------------------------------------------------------------------------ */
/* repair                                                                     */

/* One damaged segment: back to its last sound commit, or out of the manifest
 * (*gone). */
static int repair_segment(fixer *f, tt_tape_mseg *m, tt_tape_seg_check *k, int *gone)
{
    char range[120];
    *gone = 0;
    if (k->record_only) {
        /* every block is there: write the commit record again */
        tt_tape_commit c = k->scan.blocks_end;
        int fd = open(k->path, O_RDWR | O_CLOEXEC);
        int rc = fd < 0 ? tt_err_set(f->err, TT_EIO, "%s: cannot open: %s", k->path,
                                     strerror(errno))
                 : ftruncate(fd, (off_t)c.length)
                     ? tt_err_set(f->err, TT_EIO, "%s: cannot cut: %s", k->path, strerror(errno))
                     : tt_tape_commit_append(fd, k->path, &c, f->err);
        if (!rc && fsync(fd))
            rc = tt_err_set(f->err, TT_EIO, "%s: fsync: %s", k->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (!rc)
            say(f, "%s: its last commit record was cut: written again (no event lost)", k->path);
        return rc;
    }
    const tt_tape_commit *c = &k->scan.commit;
    if (k->problem != TT_ENOTFOUND && k->scan.idx && c->blocks) {
        if (truncate(k->path, (off_t)c->length))
            return tt_err_set(f->err, TT_EIO, "%s: cannot cut: %s", k->path, strerror(errno));
        uint64_t lost = m->c.events - c->events;
        range_text(c->last, m->c.last, range, sizeof range);
        say(f, "%s: cut back to its last sound commit (block %u): %llu of %llu events dropped "
            "(%s)", k->path, c->blocks - 1, (unsigned long long)lost,
            (unsigned long long)m->c.events, range);
        f->st.segments_cut++;
        f->st.events_dropped += lost;
        f->st.bytes_dropped += k->size > c->length ? k->size - c->length : 0;
        m->c = *c;
        return TT_OK;
    }
    range_text(m->c.first, m->c.last, range, sizeof range);
    say(f, "%s: dropped from the manifest: %llu events lost (%s) [%s]", k->path,
        (unsigned long long)m->c.events, range, k->msg);
    f->st.segments_lost++;
    f->st.events_dropped += m->c.events;
    *gone = 1;
    return TT_OK;
}

static int repair_manifest(fixer *f, tt_tape_manifest *m)
{
    for (int i = 0; i < m->n;) {
        tt_stream_desc d;
        tt_stream_desc_parse(m->v[i].symbol, m->v[i].stream, &d);
        tt_tape_seg_check k;
        int rc = tt_tape_check_segment(f->dir, &d, &m->v[i], &k, f->err), gone = 0;
        if (!rc && k.problem)
            rc = repair_segment(f, &m->v[i], &k, &gone);
        else if (!rc)
            rc = cut_to(f, k.path, m->v[i].c.length);
        tt_tape_seg_check_free(&k);
        if (rc)
            return rc;
        if (gone)
            tt_tape_manifest_remove(m, i);
        else
            i++;
    }
    return TT_OK;
}

/* Every segment file named like one, by stream: visit(f, stream, file, path, arg). */
typedef struct each_ctx {
    fixer *f;
    int (*visit)(fixer *, const tt_tape_stream *, const char *, const char *, void *);
    void *arg;
} each_ctx;

static int each_visit(void *ctx, const tt_tape_stream *s, const char *file, const char *path)
{
    each_ctx *c = ctx;
    return tt_tape_segment_name_ok(file) ? c->visit(c->f, s, file, path, c->arg) : TT_OK;
}

static int each_segment_file(fixer *f,
                             int (*visit)(fixer *, const tt_tape_stream *, const char *,
                                          const char *, void *),
                             void *arg)
{
    each_ctx c = {f, visit, arg};
    return tt_tape_each_file(f->dir, each_visit, &c, f->err);
}

/* Put a segment into the manifest as of commit c; of two files for one
 * month, the later generation wins. */
static int manifest_add(fixer *f, tt_tape_manifest *m, const tt_tape_stream *s, const char *file,
                        const tt_tape_commit *c)
{
    tt_tape_mseg e;
    memset(&e, 0, sizeof e);
    snprintf(e.symbol, sizeof e.symbol, "%s", s->desc.symbol);
    tt_stream_desc_name(&s->desc, e.stream, sizeof e.stream);
    snprintf(e.file, sizeof e.file, "%s", file);
    e.c = *c;
    int at = tt_tape_manifest_find(m, e.symbol, e.stream, file);
    if (at >= 0 && strlen(m->v[at].file) > strlen(file))
        return TT_OK;
    if (tt_tape_manifest_put(m, &e))
        return tt_err_set(f->err, TT_ENOMEM, "out of memory");
    return TT_OK;
}

/* A lost manifest: each format 2 segment as of its last commit record. */
static int rebuild_visit(fixer *f, const tt_tape_stream *s, const char *file, const char *path,
                         void *arg)
{
    tt_tape_scan sc;
    tt_err e;
    int rc = tt_tape_seg_scan_path(path, &s->desc, 0, TT_SCAN_LENIENT, &sc, &e);
    if (rc == TT_EIO || rc == TT_ENOMEM) {
        if (f->err)
            *f->err = e;
        return rc;
    }
    if (rc || !sc.commit.blocks) {
        say(f, "%s: no sound commit record (%s): not in the rebuilt manifest", path,
            rc ? e.msg : "nothing committed");
        tt_tape_scan_free(&sc);
        return TT_OK;
    }
    rc = manifest_add(f, arg, s, file, &sc.commit);
    tt_tape_scan_free(&sc);
    return rc;
}

/* Repair and upgrade hold the writers' lock and need no manifest. */
static int fix_open(const char *dir, const char *command, tt_tape **t, tt_err *err)
{
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
        return tt_err_set(err, TT_ENOTFOUND, "%s: no such tape directory", dir);
    tt_tape_open_opts o = {.command = command, .fsync = 1};
    return tt_tape_open_flags(t, dir, &o, TT_TAPE_OPEN_RAW, err);
}

int tt_tape_repair(const char *dir, void (*report)(void *ctx, const char *line), void *ctx,
                   tt_tape_repair_stats *st, tt_err *err)
{
    fixer f = {dir, report, ctx, {0}, TT_OK, err};
    tt_tape *t;
    int rc = fix_open(dir, "tape repair", &t, err);
    if (rc)
        return rc;
    if (t->prev[0])
        say(&f, "%s: the previous writer, %s, did not finish", dir, t->prev);
    if (t->no_manifest) {
        int kind = tt_tape_unlisted_kind(dir);
        if (kind == 1)
            rc = tt_err_set(err, TT_EVERSION, "tape %s is in format 1: 'ticktape tape upgrade %s' "
                            "writes its manifest", dir, dir);
        else if (kind == 0)
            rc = tt_err_set(err, TT_ENOTFOUND, "%s: not a tape (no manifest, no segment)", dir);
        else if (t->prev[0])
            say(&f, "%s: nothing was committed; what the writer left is removed", dir);
        else {
            say(&f, "%s: %s; rebuilding it from the segments' commit records (a segment cut at a "
                "commit, or one that is missing, cannot be seen this way)", dir, t->man_msg);
            rc = each_segment_file(&f, rebuild_visit, &t->man);
        }
    }
    if (!rc)
        rc = repair_manifest(&f, &t->man);
    if (!rc)
        tt_tape_extra_files(dir, &t->man, remove_extra, &f);
    if (!rc && f.rc)
        rc = f.rc;
    if (!rc)
        rc = tt_tape_manifest_write(dir, &t->man, 1, err);
    if (rc)
        t->failed = 1;
    tt_tape_close(t, NULL);
    if (st)
        *st = f.st;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* upgrade                                                                    */

/* Copy n bytes at offset `from` of fd_in to the end of fd_out. */
static int copy_bytes(int in, int out, uint64_t from, uint64_t n, const char *path, tt_err *err)
{
    uint8_t buf[1 << 16];
    while (n) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        if (pread(in, buf, k, (off_t)from) != (ssize_t)k)
            return tt_err_set(err, TT_EIO, "%s: read failed: %s", path, strerror(errno));
        if (write(out, buf, k) != (ssize_t)k)
            return tt_err_set(err, TT_EIO, "%s: write failed: %s", path, strerror(errno));
        from += k;
        n -= k;
    }
    return TT_OK;
}

/* A format 1 segment in format 2, at tmp: header, its blocks as they are, a
 * commit record. *c gets the commit. */
static int upgrade_copy(const tt_tape_stream *s, int in, const tt_tape_scan *sc, const char *path,
                        const char *tmp, tt_tape_commit *c, tt_err *err)
{
    int out = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (out < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    memset(c, 0, sizeof *c);
    c->length = SEG_HDR_SIZE;
    int rc = tt_tape_seg_start(out, tmp, &s->desc, err);
    for (uint32_t i = 0; !rc && i < sc->nidx; i++) {
        tt_tape_blk b = sc->idx[i];
        uint8_t h[BLK_HDR_SIZE];
        if (pread(in, h, BLK_HDR_SIZE, (off_t)b.offset) != BLK_HDR_SIZE) {
            rc = tt_err_set(err, TT_EIO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        rc = copy_bytes(in, out, b.offset, BLK_HDR_SIZE + (uint64_t)b.comp_len, path, err);
        b.offset = c->length;
        uint64_t chain = XXH64(h, BLK_HDR_SIZE, c->chain);
        tt_tape_commit_add(c, &b);
        c->chain = chain; /* of the bytes as they are */
        if (!rc) /* a commit after every block, as a writer makes them */
            rc = tt_tape_commit_append(out, tmp, c, err);
    }
    if (!rc && fsync(out))
        rc = tt_err_set(err, TT_EIO, "%s: fsync: %s", tmp, strerror(errno));
    close(out);
    if (!rc && rename(tmp, path))
        rc = tt_err_set(err, TT_EIO, "%s: cannot rename into place: %s", tmp, strerror(errno));
    if (rc)
        unlink(tmp);
    return rc;
}

static int upgrade_visit(fixer *f, const tt_tape_stream *s, const char *file, const char *path,
                         void *arg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tt_err_set(f->err, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
    tt_tape_scan sc;
    int rc = tt_tape_seg_scan(fd, path, &s->desc, 0, TT_SCAN_V1, &sc, f->err);
    if (rc) {
        close(fd);
        return rc;
    }
    tt_tape_commit c = sc.commit;
    if (sc.version == 1) {
        char tmp[4500];
        snprintf(tmp, sizeof tmp, "%s.upgrade", path);
        rc = upgrade_copy(s, fd, &sc, path, tmp, &c, f->err);
        if (!rc)
            rc = tt_tape_fsync_dir(s->dir, f->err);
        if (!rc) {
            f->st.segments_upgraded++;
            say(f, "%s: format 1 -> 2: %u blocks, %llu events%s", path, c.blocks,
                (unsigned long long)c.events, sc.torn ? " (its torn tail was dropped)" : "");
            if (sc.torn)
                f->st.bytes_dropped += sc.size - sc.good_end;
        }
    } else if (c.blocks && sc.size > c.length) {
        rc = cut_to(f, path, c.length);
    }
    close(fd);
    tt_tape_scan_free(&sc);
    if (!rc && c.blocks)
        rc = manifest_add(f, arg, s, file, &c);
    return rc;
}

int tt_tape_upgrade(const char *dir, void (*report)(void *ctx, const char *line), void *ctx,
                    tt_tape_repair_stats *st, tt_err *err)
{
    fixer f = {dir, report, ctx, {0}, TT_OK, err};
    tt_tape *t;
    int rc = fix_open(dir, "tape upgrade", &t, err);
    if (rc)
        return rc;
    if (!t->no_manifest) {
        say(&f, "%s: already in format %d (it has a manifest): nothing to do", dir,
            TT_TAPE_FORMAT_VERSION);
    } else if (!tt_tape_unlisted_kind(dir)) {
        rc = tt_err_set(err, TT_ENOTFOUND, "%s: not a tape (no manifest, no segment)", dir);
    } else {
        tt_tape_manifest_free(&t->man);
        rc = each_segment_file(&f, upgrade_visit, &t->man);
        if (!rc)
            rc = tt_tape_manifest_write(dir, &t->man, 1, err);
        if (!rc)
            say(&f, "%s: manifest written: %d segment(s)", dir, t->man.n);
    }
    if (rc)
        t->failed = 1;
    tt_tape_close(t, NULL);
    if (st)
        *st = f.st;
    return rc;
}
