/*
 * Inspecting a tape: tt_tape_info_read (what is there, from the block
 * indexes alone) and tt_tape_verify (every block read and checked).
 *
 * How it works
 * ------------
 * Both walk every segment of every stream in sorted order (walk_segments):
 * the segment layer walks the block headers (data/tape/segment.c), and a
 * visitor sums the index (info) or loads each block, checks its payload
 * checksum, decodes it (data/tape/codec.c) and checks the events against
 * the header: count, first and last time, time order (verify).
 *
 * verify reports every problem through its callback and carries on; it
 * returns the first. A torn tail is a problem here (TT_ETORN), though a
 * reader reads past it with a warning. Memory is one block at a time.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* A visitor returns TT_OK, or an error (e filled) that ends the walk of the
 * tape: no memory to record what it saw. */
typedef int (*seg_visit)(void *ctx, const tt_stream_desc *d, const char *path, int fd,
                         const tt_tape_blk *idx, uint32_t n, uint64_t size, int torn, tt_err *e);

/* Open and walk one segment, then visit it. */
static int walk_segment(const char *path, const tt_stream_desc *d, seg_visit visit, void *ctx,
                        tt_err *e)
{
    tt_err_clear(e);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tt_err_set(e, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
    tt_tape_blk *idx = NULL;
    uint32_t n = 0;
    uint64_t good = 0;
    int torn = 0;
    int rc = tt_tape_seg_scan(fd, path, d, &idx, &n, &good, &torn, e);
    if (!rc) {
        struct stat fs;
        fstat(fd, &fs);
        rc = visit(ctx, d, path, fd, idx, n, (uint64_t)fs.st_size, torn, e);
    }
    free(idx);
    close(fd);
    return rc;
}

/* Visit every segment of every stream, in sorted order. A segment that cannot
 * be opened or walked is reported (and the first such error returned), and
 * the walk goes on. */
static int walk_segments(const char *dir, seg_visit visit, void *ctx,
                         void (*report)(void *, const char *), void *rctx, tt_err *err)
{
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return tt_err_set(err, TT_ENOTFOUND, "%s: no such tape directory", dir);
    tt_tape_stream *streams;
    int nst = tt_tape_streams_list(dir, &streams);
    if (nst < 0) /* not an empty tape: one we cannot list */
        return nst == TT_ENOMEM ? tt_err_set(err, TT_ENOMEM, "%s: out of memory listing it", dir)
                                : tt_err_set(err, TT_EIO, "%s: cannot list its streams", dir);
    int first_rc = TT_OK;
    for (int j = 0; j < nst && first_rc != TT_ENOMEM; j++) {
        char **segs;
        int ns = tt_tape_list_dir(streams[j].dir, SEG_EXT, &segs);
        if (ns < 0) {
            tt_err e;
            int rc = errno == ENOMEM ? TT_ENOMEM : TT_EIO;
            tt_err_set(&e, rc, "%s: cannot list its segments: %s", streams[j].dir,
                       strerror(errno));
            if (report)
                report(rctx, e.msg);
            if (!first_rc) {
                first_rc = rc;
                if (err)
                    *err = e;
            }
        }
        for (int k = 0; k < ns && first_rc != TT_ENOMEM; k++) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", streams[j].dir, segs[k]);
            tt_err e;
            int rc = walk_segment(path, &streams[j].desc, visit, ctx, &e);
            if (rc) {
                if (report)
                    report(rctx, e.msg);
                if (!first_rc) {
                    first_rc = rc;
                    if (err)
                        *err = e;
                }
            }
        }
        tt_tape_list_free(segs, ns);
    }
    tt_tape_streams_free(streams, nst > 0 ? nst : 0);
    return first_rc;
}

static int info_visit(void *ctx, const tt_stream_desc *d, const char *path, int fd,
                      const tt_tape_blk *idx, uint32_t n, uint64_t size, int torn, tt_err *e)
{
    (void)path;
    (void)fd;
    tt_tape_info *info = ctx;
    tt_stream_info *s = NULL;
    for (uint32_t i = 0; i < info->nstreams; i++) {
        tt_stream_info *x = &info->streams[i];
        if (!strcmp(x->desc.symbol, d->symbol) && x->desc.kind == d->kind && x->desc.tf == d->tf &&
            x->desc.side == d->side)
            s = x;
    }
    if (!s) {
        tt_stream_info *nv = realloc(info->streams, (info->nstreams + 1) * sizeof *nv);
        if (!nv) /* a tape without this stream is not what is there */
            return tt_err_set(e, TT_ENOMEM, "%s: out of memory", path);
        info->streams = nv;
        s = &info->streams[info->nstreams++];
        memset(s, 0, sizeof *s);
        s->desc = *d;
        s->first = TT_TS_MAX;
        s->last = TT_TS_MIN;
    }
    s->segments++;
    s->bytes += size;
    s->blocks += n;
    for (uint32_t i = 0; i < n; i++) {
        s->events += idx[i].count;
        if (idx[i].first < s->first)
            s->first = idx[i].first;
        if (idx[i].last > s->last)
            s->last = idx[i].last;
    }
    info->torn += torn;
    return TT_OK;
}

int tt_tape_info_read(const char *dir, tt_tape_info *info, tt_err *err)
{
    memset(info, 0, sizeof *info);
    int rc = walk_segments(dir, info_visit, info, NULL, NULL, err);
    if (rc) {
        tt_tape_info_free(info);
        return rc;
    }
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

static void verify_fail(verify_ctx *v, int code, const char *msg)
{
    if (v->report)
        v->report(v->rctx, msg);
    if (!v->rc) {
        v->rc = code;
        tt_err_set(v->err, code, "%s", msg);
    }
}

static int verify_visit(void *ctx, const tt_stream_desc *d, const char *path, int fd,
                        const tt_tape_blk *idx, uint32_t n, uint64_t size, int torn, tt_err *e0)
{
    (void)size;
    (void)e0; /* problems go to v (reported, and the walk goes on) */
    verify_ctx *v = ctx;
    char msg[4600];
    for (uint32_t i = 0; i < n; i++) {
        const tt_tape_blk *b = &idx[i];
        tt_err e;
        int rc = tt_tape_block_load(fd, path, i, b, v->dctx, &v->comp, &v->raw, &e);
        if (rc == TT_ENOMEM) {
            verify_fail(v, TT_ENOMEM, "out of memory");
            return TT_OK;
        }
        if (rc) {
            verify_fail(v, rc, e.msg);
            continue;
        }
        size_t dn = v->raw.n;
        int bad = 0;
        tt_ts first = 0, last = 0;
        if (d->kind == TT_STREAM_BLOB) {
            tt_tape_in in = {v->raw.p, v->raw.p + dn};
            uint32_t k = 0;
            tt_ts prev = TT_TS_MIN;
            for (; in.p < in.end; k++) {
                tt_event ev;
                if (tt_tape_blob_get(&in, &ev) || ev.ts < prev) {
                    bad = 1;
                    break;
                }
                if (k == 0)
                    first = ev.ts;
                last = prev = ev.ts;
            }
            bad = bad || k != b->count;
        } else {
            if (tt_tape_cols_reserve(&v->c, b->count)) { /* not the block's fault */
                verify_fail(v, TT_ENOMEM, "out of memory");
                return TT_OK;
            }
            if (tt_tape_payload_decode(d->kind, v->raw.p, dn, &v->c, b->count))
                bad = 1;
            else {
                first = v->c.ts[0];
                last = v->c.ts[b->count - 1];
                for (uint32_t k = 1; k < b->count && !bad; k++)
                    bad = v->c.ts[k] < v->c.ts[k - 1];
            }
        }
        if (bad || first != b->first || last != b->last) {
            snprintf(msg, sizeof msg, "%s: block %u: payload does not match its header", path, i);
            verify_fail(v, TT_EFORMAT, msg);
            continue;
        }
        v->events += b->count;
    }
    if (torn) {
        snprintf(msg, sizeof msg, "%s: torn tail after block %u (incomplete write)", path, n);
        verify_fail(v, TT_ETORN, msg);
    }
    return TT_OK;
}

int tt_tape_verify(const char *dir, void (*report)(void *ctx, const char *line), void *ctx,
                   uint64_t *events_out, tt_err *err)
{
    verify_ctx v = {report, ctx, TT_OK, err, 0, ZSTD_createDCtx(), {0}, {0}, {0}};
    if (!v.dctx)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    int rc = walk_segments(dir, verify_visit, &v, report, ctx, err);
    if (!rc)
        rc = v.rc;
    if (events_out)
        *events_out = v.events;
    ZSTD_freeDCtx(v.dctx);
    tt_tape_cols_free(&v.c);
    free(v.comp.p);
    free(v.raw.p);
    return rc;
}
