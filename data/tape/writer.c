/*
 * The tape writer: one stream, appended event by event, committed block by
 * block.
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
 * Commit: after every commit_blocks blocks, and when a segment is left (a
 * flush, a new month, the end), the writer appends a commit record, fsyncs
 * the segment when durable, and the tape replaces its manifest with the
 * segment's new commit (data/tape/handle.c). Readers see a block only once
 * it is committed, so a writer killed at any moment leaves the tape as of its
 * last commit; the bytes after it are cut away when the tape is next opened
 * for writing, or by `tape repair`.
 *
 * A month the tape already holds: an event after the month's last committed
 * one continues the segment (its uncommitted tail, if any, is cut first). An
 * event at or before it is refused (TT_EORDER) unless the writer merges
 * (imports): then the month is rewritten into a new file of the next
 * generation (2019-02.1.tts), the old events and the new merged in time order
 * by data/tape/rewrite.c, and swapped in by the commit that ends the month;
 * the old file is removed after the manifest names the new one.
 *
 * Invariants: events given to a writer never go back in time (TT_EORDER), so
 * a merge of streams needs no look-ahead; a block either lands whole or is cut
 * off again; after any failed write or commit the writer refuses further
 * events (TT_ESTATE) and the tape's lock keeps the writer's name, so that the
 * next writer recovers.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>


struct tt_tape_writer {
    tt_tape *tape;
    int own_tape;           /* opened by tt_tape_writer_open: closed with the writer */
    tt_stream_desc desc;
    char sname[32];         /* the stream's folder name */
    char sdir[4200];        /* stream directory */
    /* the open segment (fd < 0: none) */
    int fd;
    char month[8];
    tt_ts month_lo, month_hi; /* [lo, hi) of the open segment's month */
    char file[TT_TAPE_FILE_MAX];
    char path[4400];
    char replaced[4400];    /* merge: the file the new one replaces */
    int new_file;           /* created by this writer: its folders are fsync'd at commit */
    tt_tape_commit cur;     /* the segment so far: blocks, events, chain, end */
    uint32_t since_commit;  /* blocks written since the last commit */
    tt_tape_rewrite *rw;    /* merging into the month (else NULL) */
    /* settings */
    uint32_t block_events, commit_blocks;
    int level, do_fsync, merge, replace;
    void (*report)(void *, const char *);
    void *report_ctx;
    /* pending events */
    tt_tape_cols c;
    uint32_t n;
    tt_ts pfirst, plast;    /* times of the first and last pending event */
    tt_tape_buf blob;       /* pending blob events, canonical encoding, length-prefixed */
    tt_tape_buf raw, comp;
    ZSTD_CCtx *cctx;
    tt_ts last_ts;          /* the last event given */
    int have_last;
    tt_ts stream_last;      /* the stream's last committed event when opened */
    int have_stream_last;
    int failed;
    uint64_t repaired, count;
    tt_tape_writer_stats st;
};

static void writer_report(tt_tape_writer *w, const char *fmt, const char *a, unsigned long long b)
{
    if (!w->report)
        return;
    char line[4600];
    snprintf(line, sizeof line, fmt, a, b);
    w->report(w->report_ctx, line);
}

/* ------------------------------------------------------------------------ */
/* blocks and commits                                                         */

static int writer_write_block(tt_tape_writer *w, tt_err *err)
{
    if (w->n == 0)
        return TT_OK;
    w->raw.n = 0;
    w->raw.nmarks = 0;
    tt_ts first = w->pfirst, last = w->plast;
    if (tt_tape_kind_is_blob(w->desc.kind)) {
        if (tt_tape_buf_reserve(&w->raw, w->blob.n))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        memcpy(w->raw.p, w->blob.p, w->blob.n);
        w->raw.n = w->blob.n;
    } else if (tt_tape_payload_encode(w->desc.kind, &w->c, w->n, &w->raw)) {
        return tt_err_set(err, TT_ENOMEM, "out of memory encoding a block");
    }
    int rc = tt_tape_frames_compress(w->cctx, w->level, &w->raw, &w->comp, w->path, err);
    tt_tape_blk blk = {.count = w->n, .raw_len = (uint32_t)w->raw.n, .first = first, .last = last};
    if (rc || (rc = tt_tape_block_append(w->fd, w->path, &blk, &w->comp, err)))
        return rc;
    tt_tape_commit_add(&w->cur, &blk);
    w->since_commit++;
    w->n = 0;
    w->blob.n = 0;
    return TT_OK;
}

/* fsync the stream's folder and the two above it (a new file, new folders). */
static int writer_sync_dirs(tt_tape_writer *w, tt_err *err)
{
    char d[4200];
    snprintf(d, sizeof d, "%s", w->sdir);
    for (int i = 0; i < 3; i++) {
        int rc = tt_tape_fsync_dir(d, err);
        if (rc)
            return rc;
        char *slash = strrchr(d, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
    return TT_OK;
}

/* Append a commit record and hand the segment's new commit to the manifest. */
static int writer_commit(tt_tape_writer *w, tt_err *err)
{
    int durable = w->do_fsync || w->tape->durable;
    int rc = tt_tape_commit_append(w->fd, w->path, &w->cur, err);
    if (!rc && durable && fsync(w->fd))
        rc = tt_err_set(err, TT_EIO, "%s: fsync: %s", w->path, strerror(errno));
    if (!rc && durable && w->new_file)
        rc = writer_sync_dirs(w, err);
    if (rc)
        return rc;
    w->new_file = 0;
    tt_tape_mseg s;
    memset(&s, 0, sizeof s);
    snprintf(s.symbol, sizeof s.symbol, "%s", w->desc.symbol);
    snprintf(s.stream, sizeof s.stream, "%s", w->sname);
    snprintf(s.file, sizeof s.file, "%s", w->file);
    s.c = w->cur;
    rc = tt_tape_commit_segment(w->tape, &s, durable, w->replaced[0] ? w->replaced : NULL, err);
    w->replaced[0] = '\0';
    w->since_commit = 0;
    return rc;
}

int tt_tape_writer_put(tt_tape_writer *w, const tt_event *ev, tt_err *err)
{
    uint32_t i = w->n;
    int k = w->desc.kind, blob = tt_tape_kind_is_blob(k);
    if (blob) {
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
    if (i == 0)
        w->pfirst = ev->ts;
    w->plast = ev->ts;
    w->n++;
    if (w->n < w->block_events && !(blob && w->blob.n >= (4u << 20)))
        return TT_OK;
    int rc = writer_write_block(w, err);
    if (!rc && !w->rw && w->since_commit >= w->commit_blocks)
        rc = writer_commit(w, err);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* month segments                                                             */

/* Leave the open segment: write what is pending, finish a merge, commit. */
static int writer_end_segment(tt_tape_writer *w, tt_err *err)
{
    if (w->fd < 0)
        return TT_OK;
    int rc = TT_OK;
    if (w->rw) {
        rc = tt_tape_rewrite_finish(w->rw, err);
        tt_tape_rewrite_free(w->rw);
        w->rw = NULL;
        if (!rc)
            w->st.rewritten++;
        w->since_commit = 1; /* the new file is committed even if it came out the same */
    }
    if (!rc)
        rc = writer_write_block(w, err);
    if (!rc && w->since_commit)
        rc = writer_commit(w, err);
    if (close(w->fd) && !rc)
        rc = tt_err_set(err, TT_EIO, "%s: close: %s", w->path, strerror(errno));
    w->fd = -1;
    return rc;
}

/* The generation of a segment's file name: 0 for YYYY-MM.tts, G for YYYY-MM.G.tts. */
static unsigned long file_generation(const char *file)
{
    return file[7] == '.' && file[8] != 't' ? strtoul(file + 8, NULL, 10) : 0;
}

/* Continue a committed segment: check it against the manifest, cut what
 * follows its commit, and position after it. */
static int writer_continue(tt_tape_writer *w, const tt_tape_mseg *m, tt_err *err)
{
    tt_tape_scan s;
    int rc = tt_tape_seg_scan(w->fd, w->path, &w->desc, m->c.length, 0, &s, err);
    if (rc)
        return rc;
    int same = s.commit.length == m->c.length && s.commit.chain == m->c.chain &&
               s.commit.blocks == m->c.blocks && s.commit.events == m->c.events;
    uint64_t size = s.size;
    tt_tape_scan_free(&s);
    if (size < m->c.length || !same)
        return tt_err_set(err, TT_EFORMAT,
                          "%s: %llu bytes, but the manifest says %llu bytes were committed: the "
                          "segment is damaged (run 'ticktape tape verify')",
                          w->path, (unsigned long long)size, (unsigned long long)m->c.length);
    if (size > m->c.length) {
        if (ftruncate(w->fd, (off_t)m->c.length))
            return tt_err_set(err, TT_EIO, "%s: cannot cut the uncommitted tail: %s", w->path,
                              strerror(errno));
        w->repaired += size - m->c.length;
        writer_report(w, "%s: %llu uncommitted byte(s) after the last commit were dropped",
                      w->path, (unsigned long long)(size - m->c.length));
    }
    if (lseek(w->fd, (off_t)m->c.length, SEEK_SET) < 0)
        return tt_err_set(err, TT_EIO, "%s: seek: %s", w->path, strerror(errno));
    w->cur = m->c;
    return TT_OK;
}

/* Open the segment of the month of ts: continue it, start it, or (merge)
 * start its next generation and merge the old one into it. */
static int writer_begin_segment(tt_tape_writer *w, tt_ts ts, tt_err *err)
{
    char month[8];
    tt_tape_month_key(ts, month);
    int i = tt_tape_manifest_find(&w->tape->man, w->desc.symbol, w->sname, month);
    const tt_tape_mseg *m = i >= 0 ? &w->tape->man.v[i] : NULL;
    int merging = m && w->merge && m->c.blocks && ts <= m->c.last;
    if (merging) {
        snprintf(w->replaced, sizeof w->replaced, "%s/%s", w->sdir, m->file);
        snprintf(w->file, sizeof w->file, "%s.%lu" SEG_EXT, month, file_generation(m->file) + 1);
    } else {
        w->replaced[0] = '\0';
        snprintf(w->file, sizeof w->file, "%s", m ? m->file : month);
        if (!m)
            strcat(w->file, SEG_EXT);
    }
    snprintf(w->path, sizeof w->path, "%s/%s", w->sdir, w->file);
    int fresh = !m || merging;
    w->fd = open(w->path, O_RDWR | O_CREAT | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0666);
    if (w->fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", w->path, strerror(errno));
    memcpy(w->month, month, 8);
    tt_tape_month_range(month, &w->month_lo, &w->month_hi);
    w->since_commit = 0;
    memset(&w->cur, 0, sizeof w->cur);
    int rc;
    if (!fresh)
        return writer_continue(w, m, err);
    w->new_file = 1;
    w->cur.length = SEG_HDR_SIZE;
    if ((rc = tt_tape_seg_start(w->fd, w->path, &w->desc, err)))
        return rc;
    if (!merging)
        return TT_OK;
    tt_tape_rewrite_opts ro = {&w->desc, w->sname, w->replace, &w->st, w->report, w->report_ctx};
    return tt_tape_rewrite_open(&w->rw, w, w->replaced, &m->c, &ro, err);
}

/* ------------------------------------------------------------------------ */
/* the writer                                                                 */

static int desc_check(const tt_stream_desc *d, tt_err *err)
{
    size_t n = strnlen(d->symbol, TT_SYMBOL_MAX);
    int bad = n == 0 || n >= TT_SYMBOL_MAX || d->symbol[0] == '.';
    for (size_t i = 0; i < n && !bad; i++)
        bad = d->symbol[i] == '/' || d->symbol[i] <= ' ' || d->symbol[i] == 0x7f;
    if (bad)
        return tt_err_set(err, TT_EINVAL, "invalid stream symbol '%.*s'", (int)n, d->symbol);
    if (d->kind < TT_STREAM_QUOTE || d->kind > TT_STREAM_QUARANTINE ||
        (d->kind == TT_STREAM_BAR && (d->tf == 0 || d->tf >= TT_TF_COUNT || d->side > 2)))
        return tt_err_set(err, TT_EINVAL, "invalid stream description for '%s'", d->symbol);
    return TT_OK;
}

int tt_tape_writer_open_in(tt_tape_writer **out, tt_tape *t, const tt_stream_desc *desc,
                           const tt_tape_writer_opts *opts, tt_err *err)
{
    *out = NULL;
    int rc = desc_check(desc, err);
    if (rc)
        return rc;
    tt_tape_writer *w = calloc(1, sizeof *w);
    if (!w)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    w->tape = t;
    w->fd = -1;
    w->desc = *desc;
    w->block_events = opts && opts->block_events ? opts->block_events : DEFAULT_BLOCK_EVENTS;
    if (w->block_events > MAX_BLOCK_EVENTS)
        w->block_events = MAX_BLOCK_EVENTS;
    w->commit_blocks = opts && opts->commit_blocks ? opts->commit_blocks : 1;
    w->level = opts && opts->zstd_level ? opts->zstd_level : DEFAULT_ZSTD_LEVEL;
    w->do_fsync = opts ? opts->fsync : 0;
    w->merge = opts ? opts->merge : 0;
    w->replace = opts ? opts->replace : 0;
    w->report = opts ? opts->report : NULL;
    w->report_ctx = opts ? opts->report_ctx : NULL;
    tt_stream_desc_name(desc, w->sname, sizeof w->sname);
    snprintf(w->sdir, sizeof w->sdir, "%s/%s/%s", t->dir, desc->symbol, w->sname);
    t->writers++; /* from here on, tt_tape_writer_close undoes it */
    if ((rc = tt_tape_mkdirs(w->sdir, err)))
        goto fail;
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx ||
        (!tt_tape_kind_is_blob(desc->kind) && tt_tape_cols_reserve(&w->c, w->block_events))) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < t->man.n; i++) {
        const tt_tape_mseg *m = &t->man.v[i];
        if (!strcmp(m->symbol, desc->symbol) && !strcmp(m->stream, w->sname) && m->c.blocks &&
            (!w->have_stream_last || m->c.last > w->stream_last)) {
            w->stream_last = m->c.last;
            w->have_stream_last = 1;
        }
    }
    *out = w;
    return TT_OK;
fail:
    tt_tape_writer_close(w, NULL);
    return rc;
}

int tt_tape_writer_open(tt_tape_writer **out, const char *dir, const tt_stream_desc *desc,
                        const tt_tape_writer_opts *opts, tt_err *err)
{
    *out = NULL;
    int rc = desc_check(desc, err);
    if (rc)
        return rc;
    tt_tape *t;
    tt_tape_open_opts to = {0};
    to.report = opts ? opts->report : NULL;
    to.ctx = opts ? opts->report_ctx : NULL;
    if ((rc = tt_tape_open(&t, dir, &to, err)))
        return rc;
    if ((rc = tt_tape_writer_open_in(out, t, desc, opts, err))) {
        tt_tape_close(t, NULL);
        return rc;
    }
    (*out)->own_tape = 1;
    return TT_OK;
}

/* A failure that wrote or may have written: the writer stops. */
static int writer_fail(tt_tape_writer *w, int rc)
{
    if (rc && rc != TT_EINVAL && rc != TT_EORDER) {
        w->failed = 1;
        w->tape->failed = 1;
    }
    return rc;
}

int tt_tape_writer_append(tt_tape_writer *w, const tt_event *ev, tt_err *err)
{
    int k = w->desc.kind;
    if (w->failed)
        return tt_err_set(err, TT_ESTATE, "stream %s %s: an earlier write failed", w->desc.symbol,
                          w->sname);
    if ((k == TT_STREAM_QUOTE && ev->kind != TT_EV_QUOTE) ||
        (k == TT_STREAM_BAR && ev->kind != TT_EV_BAR) ||
        (k == TT_STREAM_TRADE && ev->kind != TT_EV_TRADE))
        return tt_err_set(err, TT_EINVAL, "stream %s: cannot append a %s event", w->desc.symbol,
                          tt_event_kind_name(ev->kind));
    tt_ts floor = w->have_last ? w->last_ts : TT_TS_MIN;
    if (!w->merge && w->have_stream_last && w->stream_last > floor)
        floor = w->stream_last;
    if ((w->have_last || (!w->merge && w->have_stream_last)) && ev->ts < floor) {
        char a[48], b[48];
        tt_ts_format(ev->ts, a, sizeof a, 1);
        tt_ts_format(floor, b, sizeof b, 1);
        return tt_err_set(err, TT_EORDER, "stream %s: event at %s is earlier than the last one (%s)",
                          w->desc.symbol, a, b);
    }
    int rc = TT_OK;
    if (w->fd < 0 || ev->ts < w->month_lo || ev->ts >= w->month_hi) {
        if (!(rc = writer_end_segment(w, err)))
            rc = writer_begin_segment(w, ev->ts, err);
        if (rc)
            return writer_fail(w, rc);
    }
    if (w->rw) {
        rc = tt_tape_rewrite_push(w->rw, ev, err);
    } else {
        rc = tt_tape_writer_put(w, ev, err);
        w->st.added++;
    }
    if (rc)
        return writer_fail(w, rc);
    w->count++;
    w->last_ts = ev->ts;
    w->have_last = 1;
    return TT_OK;
}

int tt_tape_writer_flush(tt_tape_writer *w, tt_err *err)
{
    if (w->failed)
        return tt_err_set(err, TT_ESTATE, "stream %s %s: an earlier write failed", w->desc.symbol,
                          w->sname);
    if (w->fd < 0)
        return TT_OK;
    int rc = TT_OK;
    if (w->merge) {
        /* everything committed and the segment left: the next event starts a
         * new run, which may go back in time (it is merged) */
        rc = writer_end_segment(w, err);
        w->have_last = 0;
    } else {
        rc = writer_write_block(w, err);
        if (!rc && w->since_commit)
            rc = writer_commit(w, err);
    }
    return writer_fail(w, rc);
}

int tt_tape_writer_close(tt_tape_writer *w, tt_err *err)
{
    if (!w)
        return TT_OK;
    int rc = TT_OK;
    if (w->failed) {
        rc = tt_err_set(err, TT_ESTATE, "stream %s %s: an earlier write failed", w->desc.symbol,
                        w->sname);
        if (w->fd >= 0)
            close(w->fd);
        tt_tape_rewrite_free(w->rw);
    } else {
        rc = writer_fail(w, writer_end_segment(w, err));
    }
    w->tape->writers--;
    if (w->own_tape) {
        tt_err e2;
        int rc2 = tt_tape_close(w->tape, &e2);
        if (!rc && rc2) {
            rc = rc2;
            if (err)
                *err = e2;
        }
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
void tt_tape_writer_stats_get(const tt_tape_writer *w, tt_tape_writer_stats *out)
{
    *out = w->st;
}
