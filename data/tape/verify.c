/*
 * Inspecting a tape: tt_tape_info_read (what is there) and tt_tape_verify
 * (everything checked).
 *
 * How it works
 * ------------
 * info reads the manifest: per segment its committed blocks, events, bytes
 * and time range, and a stat of the file (missing or short: damaged; longer:
 * bytes after the last commit). No block is read. A format 1 tape has no
 * manifest: its segments' block indexes are walked instead.
 *
 * verify checks every segment against the manifest (data/tape/check.c: a
 * missing segment, a cut at any offset, another file in a segment's place, a
 * corrupt record), then loads every usable block, checks its payload
 * checksum, decodes it (data/tape/codec.c) and checks the events against the
 * header: count, first and last time, time order. Bytes after a segment's
 * last commit, segment files the manifest does not name, a writer that did
 * not finish, a tape with no events, a directory that is not a tape and a
 * format 1 tape (which cannot be checked this far) are problems too, unless a
 * writer is at work (then its uncommitted bytes are expected). Every problem
 * is reported through the callback and verification carries on; the first
 * is returned. Memory is one block at a time.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* info                                                                       */

static tt_stream_info *info_stream(tt_tape_info *info, const tt_stream_desc *d)
{
    for (uint32_t i = 0; i < info->nstreams; i++) {
        tt_stream_info *x = &info->streams[i];
        if (!strcmp(x->desc.symbol, d->symbol) && x->desc.kind == d->kind && x->desc.tf == d->tf &&
            x->desc.side == d->side)
            return x;
    }
    tt_stream_info *nv = realloc(info->streams, (info->nstreams + 1) * sizeof *nv);
    if (!nv)
        return NULL;
    info->streams = nv;
    tt_stream_info *s = &info->streams[info->nstreams++];
    memset(s, 0, sizeof *s);
    s->desc = *d;
    s->first = TT_TS_MAX;
    s->last = TT_TS_MIN;
    return s;
}

static void info_add(tt_stream_info *s, uint64_t blocks, uint64_t events, uint64_t bytes,
                     tt_ts first, tt_ts last)
{
    s->segments++;
    s->blocks += blocks;
    s->events += events;
    s->bytes += bytes;
    if (events && first < s->first)
        s->first = first;
    if (events && last > s->last)
        s->last = last;
}

/* A format 1 tape: every segment's block index. */
typedef struct legacy_info {
    tt_tape_info *info;
    tt_err *err;
} legacy_info;

static int info_file(void *ctx, const tt_tape_stream *st, const char *file, const char *path)
{
    (void)file;
    legacy_info *li = ctx;
    tt_tape_scan s;
    int rc = tt_tape_seg_scan_path(path, &st->desc, 0, TT_SCAN_V1, &s, li->err);
    if (rc)
        return rc;
    tt_stream_info *si = info_stream(li->info, &st->desc);
    if (!si)
        rc = tt_err_set(li->err, TT_ENOMEM, "out of memory");
    else
        info_add(si, s.nidx, s.blocks_end.events, s.size, s.blocks_end.first, s.blocks_end.last);
    li->info->torn += s.torn;
    tt_tape_scan_free(&s);
    return rc;
}

static int info_legacy(const char *dir, tt_tape_info *info, tt_err *err)
{
    legacy_info li = {info, err};
    return tt_tape_each_file(dir, info_file, &li, err);
}

int tt_tape_info_read(const char *dir, tt_tape_info *info, tt_err *err)
{
    memset(info, 0, sizeof *info);
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return tt_err_set(err, TT_ENOTFOUND, "%s: no such tape directory", dir);
    tt_tape_manifest m;
    int rc = tt_tape_manifest_read(dir, &m, err);
    if (rc == TT_ENOTFOUND && (rc = tt_tape_no_manifest(dir, err)) == 1) {
        info->legacy = 1;
        rc = info_legacy(dir, info, err);
    }
    for (int i = 0; !rc && i < m.n; i++) {
        const tt_tape_mseg *s = &m.v[i];
        tt_stream_desc d;
        tt_stream_desc_parse(s->symbol, s->stream, &d);
        tt_stream_info *si = info_stream(info, &d);
        if (!si) {
            rc = tt_err_set(err, TT_ENOMEM, "out of memory");
            break;
        }
        info_add(si, s->c.blocks, s->c.events, s->c.length, s->c.first, s->c.last);
        char path[4400];
        struct stat fs;
        snprintf(path, sizeof path, "%s/%s/%s/%s", dir, s->symbol, s->stream, s->file);
        if (stat(path, &fs) || (uint64_t)fs.st_size < s->c.length)
            info->damaged++;
        else if ((uint64_t)fs.st_size > s->c.length)
            info->torn++;
    }
    tt_tape_manifest_free(&m);
    if (rc) {
        tt_tape_info_free(info);
        return rc;
    }
    char who[400];
    info->writer = tt_tape_lock_status(dir, who, sizeof who);
    info->first = TT_TS_MAX;
    info->last = TT_TS_MIN;
    for (uint32_t i = 0; i < info->nstreams; i++) {
        tt_stream_info *s = &info->streams[i];
        if (!s->events)
            s->first = s->last = 0;
        info->events += s->events;
        info->bytes += s->bytes;
        if (s->events && s->first < info->first)
            info->first = s->first;
        if (s->events && s->last > info->last)
            info->last = s->last;
    }
    if (!info->events)
        info->first = info->last = 0;
    return TT_OK;
}

void tt_tape_info_free(tt_tape_info *info)
{
    free(info->streams);
    memset(info, 0, sizeof *info);
}

/* ------------------------------------------------------------------------ */
/* verify                                                                     */

typedef struct verify_ctx {
    void (*report)(void *, const char *);
    void *rctx;
    int rc;
    tt_err *err;
    uint64_t events;
    ZSTD_DCtx *dctx;
    tt_tape_cols c;
    tt_tape_buf comp, raw;
} verify_ctx;

static void verify_fail(verify_ctx *v, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void verify_fail(verify_ctx *v, int code, const char *fmt, ...)
{
    char msg[4600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (v->report)
        v->report(v->rctx, msg);
    if (!v->rc) {
        v->rc = code;
        tt_err_set(v->err, code, "%s", msg);
    }
}

/* Decode block b's payload and compare it with its header: 0, -1 when they
 * differ, or TT_ENOMEM (not the block's fault). */
static int block_matches(verify_ctx *v, const tt_stream_desc *d, const tt_tape_blk *b)
{
    tt_ts first = 0, last = 0;
    if (tt_tape_kind_is_blob(d->kind)) {
        tt_tape_in in = {v->raw.p, v->raw.p + v->raw.n};
        uint32_t k = 0;
        tt_ts prev = TT_TS_MIN;
        for (; in.p < in.end; k++) {
            tt_event ev;
            if (tt_tape_blob_get(&in, &ev) || ev.ts < prev)
                return -1;
            if (k == 0)
                first = ev.ts;
            last = prev = ev.ts;
        }
        if (k != b->count)
            return -1;
    } else {
        if (tt_tape_cols_reserve(&v->c, b->count))
            return TT_ENOMEM;
        if (tt_tape_payload_decode(d->kind, v->raw.p, v->raw.n, &v->c, b->count))
            return -1;
        first = v->c.ts[0];
        last = v->c.ts[b->count - 1];
        for (uint32_t k = 1; k < b->count; k++)
            if (v->c.ts[k] < v->c.ts[k - 1])
                return -1;
    }
    return first == b->first && last == b->last ? 0 : -1;
}

/* Load, check and decode every block of an index. */
static void verify_blocks(verify_ctx *v, const tt_stream_desc *d, const char *path,
                          const tt_tape_blk *idx, uint32_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (n)
            verify_fail(v, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        tt_err e;
        int rc = tt_tape_block_load(fd, path, i, &idx[i], v->dctx, &v->comp, &v->raw, &e);
        if (rc == TT_ENOMEM) {
            verify_fail(v, TT_ENOMEM, "out of memory");
            break;
        }
        if (rc) {
            verify_fail(v, rc, "%s", e.msg);
            continue;
        }
        if ((rc = block_matches(v, d, &idx[i])) == TT_ENOMEM) {
            verify_fail(v, TT_ENOMEM, "%s: block %u: out of memory to decode it", path, i);
            break;
        }
        if (rc) {
            verify_fail(v, TT_EFORMAT, "%s: block %u: payload does not match its header", path, i);
            continue;
        }
        v->events += idx[i].count;
    }
    close(fd);
}

/* A format 1 tape: every block, then the problem that it cannot be checked further. */
static int verify_file(void *ctx, const tt_tape_stream *st, const char *file, const char *path)
{
    (void)file;
    verify_ctx *v = ctx;
    tt_tape_scan s;
    tt_err e;
    int rc = tt_tape_seg_scan_path(path, &st->desc, 0, TT_SCAN_V1, &s, &e);
    if (rc) {
        verify_fail(v, rc, "%s", e.msg);
        return 0;
    }
    verify_blocks(v, &st->desc, path, s.idx, s.nidx);
    if (s.torn)
        verify_fail(v, TT_ETORN, "%s: torn tail after block %u (incomplete write)", path, s.nidx);
    tt_tape_scan_free(&s);
    return 0;
}

static void verify_legacy(verify_ctx *v, const char *dir)
{
    tt_err e;
    int rc = tt_tape_each_file(dir, verify_file, v, &e);
    if (rc < 0)
        verify_fail(v, rc, "%s", e.msg);
    verify_fail(v, TT_EVERSION, "%s: a format 1 tape (no manifest): a segment cut at a block "
                "boundary or a missing segment cannot be detected; 'ticktape tape upgrade %s' "
                "writes the manifest", dir, dir);
}

static void report_extra(void *ctx, const char *path, uint64_t bytes)
{
    verify_fail(ctx, TT_EFORMAT, "%s (%llu bytes): a segment file the manifest does not name "
                "('ticktape tape repair' removes it)", path, (unsigned long long)bytes);
}

static void verify_manifest(verify_ctx *v, const char *dir, const tt_tape_manifest *m,
                            int writer)
{
    for (int i = 0; i < m->n; i++) {
        tt_stream_desc d;
        tt_stream_desc_parse(m->v[i].symbol, m->v[i].stream, &d);
        tt_tape_seg_check k;
        tt_err e;
        if (tt_tape_check_segment(dir, &d, &m->v[i], &k, &e)) {
            verify_fail(v, e.code, "%s", e.msg);
            continue;
        }
        if (k.problem)
            verify_fail(v, k.problem, "%s", k.msg);
        verify_blocks(v, &d, k.path, k.scan.idx, k.scan.nidx);
        if (k.tail && writer != 1)
            verify_fail(v, TT_ETORN, "%s: %llu byte(s) after the last commit are not part of the "
                        "tape ('ticktape tape repair' removes them)", k.path,
                        (unsigned long long)k.tail);
        tt_tape_seg_check_free(&k);
    }
    if (writer != 1)
        tt_tape_extra_files(dir, m, report_extra, v);
}

int tt_tape_verify(const char *dir, void (*report)(void *ctx, const char *line), void *ctx,
                   uint64_t *events_out, tt_err *err)
{
    verify_ctx v = {report, ctx, TT_OK, err, 0, ZSTD_createDCtx(), {0}, {0}, {0}};
    if (events_out)
        *events_out = 0;
    if (!v.dctx)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    struct stat st;
    tt_tape_manifest m;
    int rc = TT_OK;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        verify_fail(&v, TT_ENOTFOUND, "%s: no such tape directory", dir);
    } else if ((rc = tt_tape_manifest_read(dir, &m, err)) == TT_ENOTFOUND) {
        tt_err e;
        if ((rc = tt_tape_no_manifest(dir, &e)) == 1)
            verify_legacy(&v, dir);
        else
            verify_fail(&v, rc, "%s", e.msg);
    } else if (rc) {
        verify_fail(&v, rc, "%s", err ? err->msg : "unreadable manifest");
    } else {
        char who[400];
        int writer = tt_tape_lock_status(dir, who, sizeof who);
        if (writer == 2)
            verify_fail(&v, TT_ESTATE, "%s: a writer did not finish (%s): the tape holds what it "
                        "committed ('ticktape tape repair' cleans up; running the import again "
                        "completes it)", dir, who);
        verify_manifest(&v, dir, &m, writer);
        if (!m.n)
            verify_fail(&v, TT_ENOTFOUND, "%s: the tape holds no events", dir);
        tt_tape_manifest_free(&m);
    }
    if (events_out)
        *events_out = v.events;
    ZSTD_freeDCtx(v.dctx);
    tt_tape_cols_free(&v.c);
    free(v.comp.p);
    free(v.raw.p);
    return v.rc;
}
