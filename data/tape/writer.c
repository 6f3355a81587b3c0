/*
 * The tape writer: one stream, appended event by event.
 *
 * How it works
 * ------------
 * Events wait in column arrays (blob events: canonically encoded, each after
 * its u32 length) until a block is full (block_events, or 4 MiB of blobs), a
 * flush, a close, or an event of another calendar month; then the codec turns
 * them into a raw payload (data/tape/codec.c) and the segment layer
 * compresses it and appends the block with one writev (data/tape/segment.c).
 * Each month is its own segment file (data/tape/layout.c names it).
 *
 * Invariants: events of a stream never go back in time (TT_EORDER), so a
 * merge of streams needs no look-ahead; a block either lands whole or is cut
 * off again, so a failed append leaves the stream as it was. Reopening a
 * stream continues its latest segment after the last complete block: a torn
 * tail (or a torn header) is truncated away first and its size reported by
 * tt_tape_writer_repaired. Appending a commit record after each block, or
 * registering segments in a manifest, would hook into writer_write_block and
 * writer_open_segment; the byte formats stay in segment.c.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct tt_tape_writer {
    tt_stream_desc desc;
    char sdir[4096];    /* stream directory */
    char month[8];      /* current segment's month key ("" = none open) */
    tt_ts month_lo, month_hi; /* [lo, hi) of the open segment's month */
    char path[4200];
    int fd;
    uint32_t block_events;
    int level, do_fsync;
    tt_tape_cols c;
    uint32_t n;         /* pending events */
    tt_tape_buf blob;   /* pending blob events, canonical encoding, length-prefixed */
    tt_tape_buf raw, comp;
    ZSTD_CCtx *cctx;
    tt_ts last_ts;
    int have_last;
    uint64_t repaired, count;
};

static int writer_open_segment(tt_tape_writer *w, const char *month, tt_err *err)
{
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    snprintf(w->path, sizeof w->path, "%s/%s" SEG_EXT, w->sdir, month);
    int fd = open(w->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", w->path, strerror(errno));
    tt_tape_blk *idx;
    uint32_t nidx;
    uint64_t good;
    int torn;
    int rc = tt_tape_seg_scan(fd, w->path, &w->desc, &idx, &nidx, &good, &torn, err);
    if (rc) {
        close(fd);
        return rc;
    }
    if (nidx) {
        tt_ts last = idx[nidx - 1].last;
        if (!w->have_last || last > w->last_ts)
            w->last_ts = last;
        w->have_last = 1;
    }
    free(idx);
    struct stat st;
    fstat(fd, &st);
    if (good < SEG_HDR_SIZE) {
        /* new file, or a header that was torn before any block: start over */
        if (st.st_size > 0)
            w->repaired += (uint64_t)st.st_size;
        if ((rc = tt_tape_seg_start(fd, w->path, &w->desc, err))) {
            close(fd);
            return rc;
        }
        good = SEG_HDR_SIZE;
    } else if (torn || (uint64_t)st.st_size > good) {
        w->repaired += (uint64_t)st.st_size - good;
        if (ftruncate(fd, (off_t)good)) {
            close(fd);
            return tt_err_set(err, TT_EIO, "%s: cannot truncate torn tail: %s", w->path,
                              strerror(errno));
        }
    }
    if (lseek(fd, (off_t)good, SEEK_SET) < 0) {
        close(fd);
        return tt_err_set(err, TT_EIO, "%s: seek: %s", w->path, strerror(errno));
    }
    w->fd = fd;
    memcpy(w->month, month, 8);
    tt_tape_month_range(month, &w->month_lo, &w->month_hi);
    return TT_OK;
}

int tt_tape_writer_open(tt_tape_writer **out, const char *dir, const tt_stream_desc *desc,
                        const tt_tape_writer_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!desc->symbol[0] || strchr(desc->symbol, '/') || desc->symbol[0] == '.')
        return tt_err_set(err, TT_EINVAL, "invalid stream symbol '%s'", desc->symbol);
    if (desc->kind < TT_STREAM_QUOTE || desc->kind > TT_STREAM_TRADE ||
        (desc->kind == TT_STREAM_BAR && (desc->tf == 0 || desc->tf >= TT_TF_COUNT || desc->side > 2)))
        return tt_err_set(err, TT_EINVAL, "invalid stream description for '%s'", desc->symbol);
    tt_tape_writer *w = calloc(1, sizeof *w);
    if (!w)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    w->fd = -1;
    w->desc = *desc;
    w->block_events = opts && opts->block_events ? opts->block_events : DEFAULT_BLOCK_EVENTS;
    if (w->block_events > MAX_BLOCK_EVENTS)
        w->block_events = MAX_BLOCK_EVENTS;
    w->level = opts && opts->zstd_level ? opts->zstd_level : DEFAULT_ZSTD_LEVEL;
    w->do_fsync = opts ? opts->fsync : 0;
    char name[64];
    tt_stream_desc_name(desc, name, sizeof name);
    snprintf(w->sdir, sizeof w->sdir, "%s/%s/%s", dir, desc->symbol, name);
    int rc = tt_tape_mkdirs(w->sdir, err);
    if (rc)
        goto fail;
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx ||
        (desc->kind != TT_STREAM_BLOB && tt_tape_cols_reserve(&w->c, w->block_events))) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        goto fail;
    }
    /* Continue after the last segment (the latest month). */
    char **segs;
    int ns = tt_tape_list_dir(w->sdir, SEG_EXT, &segs);
    if (ns > 0) {
        char month[8];
        snprintf(month, sizeof month, "%.7s", segs[ns - 1]);
        tt_tape_list_free(segs, ns);
        if ((rc = writer_open_segment(w, month, err)))
            goto fail;
    } else if (ns == 0) {
        free(segs);
    } else { /* not a new stream: one we cannot list, and so cannot continue */
        rc = errno == ENOMEM ? tt_err_set(err, TT_ENOMEM, "%s: out of memory", w->sdir)
                             : tt_err_set(err, TT_EIO, "%s: cannot list its segments: %s",
                                          w->sdir, strerror(errno));
        goto fail;
    }
    *out = w;
    return TT_OK;
fail:
    tt_tape_writer_close(w, NULL);
    return rc;
}

static int writer_write_block(tt_tape_writer *w, tt_err *err)
{
    if (w->n == 0)
        return TT_OK;
    w->raw.n = 0;
    w->raw.nmarks = 0;
    tt_ts first, last;
    if (w->desc.kind == TT_STREAM_BLOB) {
        if (tt_tape_buf_reserve(&w->raw, w->blob.n))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        memcpy(w->raw.p, w->blob.p, w->blob.n);
        w->raw.n = w->blob.n;
        last = w->last_ts;
        /* the block's first time: that of its first record */
        tt_event ev;
        tt_tape_in in = {w->blob.p, w->blob.p + w->blob.n};
        if (tt_tape_blob_get(&in, &ev))
            return tt_err_set(err, TT_EFORMAT, "internal: cannot decode pending journal event");
        first = ev.ts;
    } else {
        if (tt_tape_payload_encode(w->desc.kind, &w->c, w->n, &w->raw))
            return tt_err_set(err, TT_ENOMEM, "out of memory encoding a block");
        first = w->c.ts[0];
        last = w->c.ts[w->n - 1];
    }
    int rc = tt_tape_frames_compress(w->cctx, w->level, &w->raw, &w->comp, w->path, err);
    tt_tape_blk blk = {.count = w->n, .raw_len = (uint32_t)w->raw.n, .first = first, .last = last};
    if (rc || (rc = tt_tape_block_append(w->fd, w->path, &blk, &w->comp, err)))
        return rc;
    if (w->do_fsync && fsync(w->fd)) {
        /* Not known to be on disk: cut the block off again, as a failed write
         * is, so that it stays pending and is never written twice (if it
         * cannot be cut, it stays and counts as written). */
        int e = errno;
        off_t end = lseek(w->fd, 0, SEEK_CUR);
        off_t start = end - (off_t)(BLK_HDR_SIZE + w->comp.n);
        if (end < 0 || start < SEG_HDR_SIZE || ftruncate(w->fd, start) ||
            lseek(w->fd, start, SEEK_SET) < 0) {
            w->n = 0;
            w->blob.n = 0;
        }
        return tt_err_set(err, TT_EIO, "%s: fsync: %s", w->path, strerror(e));
    }
    w->n = 0;
    w->blob.n = 0;
    return TT_OK;
}

int tt_tape_writer_append(tt_tape_writer *w, const tt_event *ev, tt_err *err)
{
    int k = w->desc.kind;
    if ((k == TT_STREAM_QUOTE && ev->kind != TT_EV_QUOTE) ||
        (k == TT_STREAM_BAR && ev->kind != TT_EV_BAR) ||
        (k == TT_STREAM_TRADE && ev->kind != TT_EV_TRADE))
        return tt_err_set(err, TT_EINVAL, "stream %s: cannot append a %s event", w->desc.symbol,
                          tt_event_kind_name(ev->kind));
    if (w->have_last && ev->ts < w->last_ts) {
        char a[48], b[48];
        tt_ts_format(ev->ts, a, sizeof a, 1);
        tt_ts_format(w->last_ts, b, sizeof b, 1);
        return tt_err_set(err, TT_EORDER, "stream %s: event at %s is earlier than the last one (%s)",
                          w->desc.symbol, a, b);
    }
    if (w->fd < 0 || ev->ts < w->month_lo || ev->ts >= w->month_hi) {
        char month[8];
        tt_tape_month_key(ev->ts, month);
        int rc = writer_write_block(w, err);
        if (!rc)
            rc = writer_open_segment(w, month, err);
        if (rc)
            return rc;
        if (w->have_last && ev->ts < w->last_ts)
            return tt_err_set(err, TT_EORDER, "stream %s: event earlier than the stream's last",
                              w->desc.symbol);
    }
    uint32_t i = w->n;
    if (k == TT_STREAM_BLOB) {
        if (tt_tape_blob_put(&w->blob, ev))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
    } else {
        w->c.ts[i] = ev->ts;
        if (k == TT_STREAM_QUOTE) {
            w->c.a[i] = ev->u.quote.bid;
            w->c.b2[i] = ev->u.quote.ask;
            memcpy(&w->c.f1[i], &ev->u.quote.bid_vol, 4);
            memcpy(&w->c.f2[i], &ev->u.quote.ask_vol, 4);
        } else if (k == TT_STREAM_BAR) {
            w->c.a[i] = ev->u.bar.open;
            w->c.b2[i] = ev->u.bar.high;
            w->c.c[i] = ev->u.bar.low;
            w->c.d[i] = ev->u.bar.close;
            memcpy(&w->c.u1[i], &ev->u.bar.volume, 8);
            w->c.u2[i] = ev->u.bar.ticks;
        } else {
            w->c.a[i] = ev->u.trade.price;
            memcpy(&w->c.u1[i], &ev->u.trade.size, 8);
            w->c.u2[i] = (uint8_t)ev->u.trade.aggressor;
        }
    }
    w->n++;
    w->count++;
    w->last_ts = ev->ts;
    w->have_last = 1;
    if (w->n >= w->block_events || (k == TT_STREAM_BLOB && w->blob.n >= (4u << 20)))
        return writer_write_block(w, err);
    return TT_OK;
}

int tt_tape_writer_flush(tt_tape_writer *w, tt_err *err)
{
    return writer_write_block(w, err);
}

int tt_tape_writer_close(tt_tape_writer *w, tt_err *err)
{
    if (!w)
        return TT_OK;
    int rc = TT_OK;
    if (w->fd >= 0) {
        rc = writer_write_block(w, err);
        if (close(w->fd) && !rc)
            rc = tt_err_set(err, TT_EIO, "%s: close: %s", w->path, strerror(errno));
    }
    tt_tape_cols_free(&w->c);
    free(w->blob.p);
    free(w->raw.p);
    free(w->comp.p);
    ZSTD_freeCCtx(w->cctx);
    free(w);
    return rc;
}

uint64_t tt_tape_writer_repaired(const tt_tape_writer *w) { return w->repaired; }
uint64_t tt_tape_writer_count(const tt_tape_writer *w) { return w->count; }
