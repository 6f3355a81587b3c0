/*
 * The tape reader: one stream's cursor, and the reader over a query's streams.
 *
 * How it works
 * ------------
 * A cursor reads one stream: its segment list (by month), the current
 * segment's block index (walked by data/tape/segment.c without decompressing
 * anything), and one decoded block in column arrays (data/tape/codec.c).
 * Seeking skips whole segments by month name and whole blocks by the time
 * range in the index (binary search), never decoding what comes before.
 * Memory is one decoded block per stream, whatever the span read.
 *
 * The replay hot path: a quote block wholly inside [from, to) is marked
 * "fast" (fast_end), and its events are copied out without range checks,
 * one at a time by tt_tape_cursor_next (data/tape_internal.h, inlined here
 * and in merge.c) or 64 at a time by reader_source_batch below. A reader of
 * one stream never touches the merge; several streams go through
 * data/tape/merge.c. This file is built at -O3 (CMakeLists.txt).
 *
 * Torn tails are warnings (tt_tape_reader_warning): every complete block
 * before the tear is read. Checksum and format errors name the file and block.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* one stream's cursor                                                        */

static void reader_warn(tt_tape_reader *r, const char *fmt, const char *a, uint32_t b)
{
    char buf[4400];
    snprintf(buf, sizeof buf, fmt, a, b);
    char **nv = realloc(r->warnings, (size_t)(r->nwarn + 1) * sizeof *nv);
    if (!nv)
        return;
    r->warnings = nv;
    r->warnings[r->nwarn] = strdup(buf);
    if (r->warnings[r->nwarn])
        r->nwarn++;
}

static void cursor_close_segment(tt_tape_cursor *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->idx);
    c->idx = NULL;
    c->nidx = c->blk = 0;
    c->blk_base = 0;
}

/* Open segment `s` of the cursor and walk its block index. */
static int cursor_open_segment(tt_tape_reader *r, tt_tape_cursor *c, int s, tt_err *err)
{
    cursor_close_segment(c);
    c->seg = s;
    snprintf(c->path, sizeof c->path, "%s/%s", c->sdir, c->segs[s]);
    c->fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", c->path, strerror(errno));
    uint64_t good;
    int torn;
    int rc = tt_tape_seg_scan(c->fd, c->path, &c->desc, &c->idx, &c->nidx, &good, &torn, err);
    if (rc)
        return rc;
    if (torn)
        reader_warn(r, "%s: torn tail after block %u (incomplete write); the complete blocks "
                       "before it were read",
                    c->path, c->nidx);
    return TT_OK;
}

/* Load block c->blk of the current segment into the decoded columns. */
static int cursor_load_block(tt_tape_reader *r, tt_tape_cursor *c, tt_err *err)
{
    const tt_tape_blk *b = &c->idx[c->blk];
    int rc = tt_tape_block_load(c->fd, c->path, c->blk, b, r->dctx, &c->comp, &c->raw, err);
    if (rc)
        return rc;
    size_t dn = c->raw.n;
    if (c->desc.kind == TT_STREAM_BLOB) {
        c->bp = c->raw.p;
        c->bend = c->raw.p + dn;
    } else {
        if (tt_tape_cols_reserve(&c->c, b->count))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        if (tt_tape_payload_decode(c->desc.kind, c->raw.p, dn, &c->c, b->count))
            return tt_err_set(err, TT_EFORMAT, "%s: block %u: malformed payload", c->path, c->blk);
    }
    c->n = b->count;
    c->pos = 0;
    c->blk++;
    /* a quote block wholly inside [from, to) takes the fast path in tt_tape_cursor_next */
    c->fast_end = (c->desc.kind == TT_STREAM_QUOTE && b->first >= r->from &&
                   (!r->to || b->last < r->to)) ? b->count : 0;
    return TT_OK;
}

/* Advance to the next event of the cursor into *ev. 1 = event, 0 = end. */
int tt_tape_cursor_advance(tt_tape_reader *r, tt_tape_cursor *c, tt_event *ev, tt_err *err)
{
    for (;;) {
        if (c->pos < c->n) {
            uint32_t i = c->pos++;
            if (c->desc.kind == TT_STREAM_BLOB) {
                tt_tape_in in = {c->bp, c->bend};
                int brc = tt_tape_blob_get(&in, ev);
                if (brc == -1)
                    return tt_err_set(err, TT_EFORMAT, "%s: block %u: truncated event", c->path,
                                      c->blk - 1);
                if (brc)
                    return tt_err_set(err, TT_EFORMAT, "%s: block %u: malformed event %u", c->path,
                                      c->blk - 1, i);
                c->bp = in.p;
            } else {
                ev->ts = ev->ts_init = c->c.ts[i];
                ev->seq = ((uint64_t)c->seg << 40) + c->blk_base + i + 1;
                ev->symbol = c->symbol_id;
                ev->source = c->source;
                switch (c->desc.kind) {
                case TT_STREAM_QUOTE:
                    tt_tape_quote_at(c, i, ev);
                    break;
                case TT_STREAM_BAR:
                    memset(&ev->u, 0, sizeof ev->u);
                    ev->kind = TT_EV_BAR;
                    ev->cls = TT_CLS_MARKET;
                    ev->u.bar.open = c->c.a[i];
                    ev->u.bar.high = c->c.b2[i];
                    ev->u.bar.low = c->c.c[i];
                    ev->u.bar.close = c->c.d[i];
                    memcpy(&ev->u.bar.volume, &c->c.u1[i], 8);
                    ev->u.bar.ticks = (uint32_t)c->c.u2[i];
                    ev->u.bar.tf = c->desc.tf;
                    ev->u.bar.side = c->desc.side;
                    break;
                default:
                    memset(&ev->u, 0, sizeof ev->u);
                    ev->kind = TT_EV_TRADE;
                    ev->cls = TT_CLS_MARKET;
                    ev->u.trade.price = c->c.a[i];
                    memcpy(&ev->u.trade.size, &c->c.u1[i], 8);
                    ev->u.trade.aggressor = (int8_t)c->c.u2[i];
                    break;
                }
            }
            if (ev->ts < r->from)
                continue;
            if (r->to && ev->ts >= r->to) {
                c->done = 1;
                return 0;
            }
            return 1;
        }
        if (c->done)
            return 0;
        /* next block: in this segment, else the next segment */
        if (c->blk > 0 && c->blk <= c->nidx)
            c->blk_base += c->idx[c->blk - 1].count;
        while (c->blk >= c->nidx) {
            if (c->seg + 1 >= c->nsegs) {
                c->done = 1;
                return 0;
            }
            int rc = cursor_open_segment(r, c, c->seg + 1, err);
            if (rc)
                return rc;
        }
        if (r->to && c->idx[c->blk].first >= r->to) {
            c->done = 1;
            return 0;
        }
        int rc = cursor_load_block(r, c, err);
        if (rc)
            return rc;
    }
}

/* Position a cursor at the first event >= from: skip whole segments by month
 * name and whole blocks by their time range (the block index), never decoding
 * what comes before. */
static int cursor_seek(tt_tape_reader *r, tt_tape_cursor *c, tt_ts from, tt_err *err)
{
    int s = 0;
    if (from > 0) {
        char m[8];
        tt_tape_month_key(from, m);
        while (s + 1 < c->nsegs && strncmp(c->segs[s], m, 7) < 0)
            s++;
    }
    if (c->nsegs == 0) {
        c->done = 1;
        return TT_OK;
    }
    int rc = cursor_open_segment(r, c, s, err);
    if (rc)
        return rc;
    if (from > 0) {
        uint32_t lo = 0, hi = c->nidx;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (c->idx[mid].last < from)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (uint32_t k = 0; k < lo; k++)
            c->blk_base += c->idx[k].count;
        c->blk = lo;
        /* blk_base is advanced by tt_tape_cursor_advance before loading; compensate */
        if (lo > 0)
            c->blk_base -= c->idx[lo - 1].count;
    }
    return TT_OK;
}

/* ------------------------------------------------------------------------ */
/* the reader                                                                 */

static int query_wants(const tt_tape_query *q, const tt_stream_desc *d)
{
    uint32_t kinds = q && q->kinds ? q->kinds : (1u << TT_STREAM_QUOTE);
    if (!(kinds & (1u << d->kind)))
        return 0;
    if (d->kind == TT_STREAM_BAR && q && q->tf && (d->tf != q->tf || d->side != q->side))
        return 0;
    if (q && q->symbols) {
        for (const char *const *s = q->symbols; *s; s++) {
            char a[TT_SYMBOL_MAX + 8];
            snprintf(a, sizeof a, "%s", *s);
            if (!strcasecmp(a, d->symbol))
                return 1;
            /* allow "EUR/USD" style names for the same stream */
            char ca[32], cb[32];
            size_t ka = 0, kb = 0;
            for (const char *p = *s; *p && ka < 31; p++)
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                    ca[ka++] = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
            for (const char *p = d->symbol; *p && kb < 31; p++)
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                    cb[kb++] = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
            ca[ka] = cb[kb] = '\0';
            if (!strcmp(ca, cb))
                return 1;
        }
        return 0;
    }
    return 1;
}

static uint32_t reader_symbol_id(tt_tape_reader *r, const char *sym, tt_err *err, int *rc)
{
    *rc = TT_OK;
    if (r->ins) {
        const tt_instrument *ins;
        if ((*rc = tt_instruments_require(r->ins, sym, &ins, err)))
            return 0;
        return ins->id;
    }
    for (uint32_t i = 0; i < r->nnames; i++)
        if (!strcmp(r->names[i], sym))
            return i + 1;
    char(*nv)[TT_SYMBOL_MAX] = realloc(r->names, (r->nnames + 1) * sizeof *nv);
    if (!nv) {
        *rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        return 0;
    }
    r->names = nv;
    snprintf(r->names[r->nnames], TT_SYMBOL_MAX, "%s", sym);
    return ++r->nnames;
}

/* A cursor for one stream; its source id is its position (1..). */
static int reader_add_stream(tt_tape_reader *r, const tt_tape_stream *s, tt_err *err)
{
    tt_tape_cursor *nc = realloc(r->cur, (size_t)(r->ncur + 1) * sizeof *nc);
    if (!nc)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    r->cur = nc;
    tt_tape_cursor *c = &r->cur[r->ncur++];
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->desc = s->desc;
    snprintf(c->sdir, sizeof c->sdir, "%s", s->dir);
    c->nsegs = tt_tape_list_dir(c->sdir, SEG_EXT, &c->segs);
    if (c->nsegs < 0) { /* its segments would go missing from the merge */
        c->nsegs = 0;
        return errno == ENOMEM ? tt_err_set(err, TT_ENOMEM, "%s: out of memory", c->sdir)
                               : tt_err_set(err, TT_EIO, "%s: cannot list its segments: %s",
                                            c->sdir, strerror(errno));
    }
    c->source = (uint16_t)r->ncur;
    int rc = TT_OK;
    if (c->desc.kind != TT_STREAM_BLOB)
        c->symbol_id = reader_symbol_id(r, c->desc.symbol, err, &rc);
    return rc;
}

int tt_tape_reader_open(tt_tape_reader **out, const char *dir, const tt_tape_query *q,
                        const tt_instruments *instruments, tt_err *err)
{
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return tt_err_set(err, TT_ENOTFOUND, "%s: no such tape directory", dir);
    tt_tape_reader *r = calloc(1, sizeof *r);
    if (!r)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    r->ins = instruments;
    r->from = q ? q->from : 0;
    r->to = q ? q->to : 0;
    r->dctx = ZSTD_createDCtx();
    int rc = TT_OK;
    if (!r->dctx) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        goto fail;
    }
    tt_tape_stream *streams;
    int nst = tt_tape_streams_list(dir, &streams);
    if (nst < 0) {
        rc = nst == TT_ENOMEM ? tt_err_set(err, TT_ENOMEM, "out of memory")
                              : tt_err_set(err, TT_EIO, "%s: cannot read directory", dir);
        goto fail;
    }
    for (int i = 0; i < nst && !rc; i++)
        if (query_wants(q, &streams[i].desc))
            rc = reader_add_stream(r, &streams[i], err);
    tt_tape_streams_free(streams, nst);
    if (rc)
        goto fail;
    r->heap = malloc((size_t)(r->ncur ? r->ncur : 1) * sizeof *r->heap);
    if (!r->heap) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < r->ncur; i++) {
        if ((rc = cursor_seek(r, &r->cur[i], r->from, err)))
            goto fail;
    }
    *out = r;
    return TT_OK;
fail:
    tt_tape_reader_close(r);
    return rc;
}

int tt_tape_reader_next(tt_tape_reader *r, tt_event *ev, tt_err *err)
{
    if (r->ncur == 1)
        return tt_tape_cursor_next(r, &r->cur[0], ev, err); /* one stream: no merge */
    return tt_tape_merge_next(r, ev, err);
}

int tt_tape_reader_warning_count(const tt_tape_reader *r) { return r->nwarn; }
const char *tt_tape_reader_warning(const tt_tape_reader *r, int i)
{
    return i >= 0 && i < r->nwarn ? r->warnings[i] : NULL;
}

const char *tt_tape_reader_symbol(const tt_tape_reader *r, uint32_t id)
{
    if (r->ins) {
        const tt_instrument *ins = tt_instruments_get(r->ins, id);
        return ins ? ins->symbol : NULL;
    }
    return id > 0 && id <= r->nnames ? r->names[id - 1] : NULL;
}

static int reader_source_next(void *self, tt_event *ev, tt_err *err)
{
    int rc = tt_tape_reader_next(self, ev, err);
    return rc < 0 ? rc : rc ? TT_SRC_EVENT : TT_SRC_END;
}

/* Fill a batch: one stream copies quotes in a tight loop (the replay hot
 * path); several streams go through the merge one event at a time. */
static int reader_source_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    tt_tape_reader *r = self;
    int n = 0;
    if (r->ncur == 1) {
        tt_tape_cursor *c = &r->cur[0];
        while (n < cap) {
            uint32_t avail = c->fast_end > c->pos ? c->fast_end - c->pos : 0;
            if (avail) {
                uint32_t k = avail < (uint32_t)(cap - n) ? avail : (uint32_t)(cap - n);
                /* tt_tape_quote_at by hand, with the column pointers in
                 * locals: the build uses -fno-strict-aliasing, so calling it
                 * here reloads them after every store (53 -> 42 M events/s). */
                const tt_ts *ts = c->c.ts + c->pos;
                const int64_t *bid = c->c.a + c->pos, *ask = c->c.b2 + c->pos;
                const uint32_t *bv = c->c.f1 + c->pos, *av = c->c.f2 + c->pos;
                uint64_t seq = ((uint64_t)c->seg << 40) + c->blk_base + c->pos + 1;
                uint32_t sym = c->symbol_id;
                uint16_t src = c->source;
                for (uint32_t i = 0; i < k; i++) {
                    tt_event *ev = &buf[n + (int)i];
                    ev->ts = ev->ts_init = ts[i];
                    ev->seq = seq + i;
                    ev->symbol = sym;
                    ev->source = src;
                    ev->kind = TT_EV_QUOTE;
                    ev->cls = TT_CLS_MARKET;
                    ev->u.quote.bid = bid[i];
                    ev->u.quote.ask = ask[i];
                    memcpy(&ev->u.quote.bid_vol, &bv[i], 4);
                    memcpy(&ev->u.quote.ask_vol, &av[i], 4);
                }
                c->pos += k;
                n += (int)k;
                continue;
            }
            int rc = tt_tape_cursor_advance(r, c, &buf[n], err);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            n++;
        }
    } else {
        while (n < cap) {
            int rc = tt_tape_reader_next(r, &buf[n], err);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            n++;
        }
    }
    *count = n;
    return n ? TT_SRC_EVENT : TT_SRC_END;
}

tt_source tt_tape_reader_source(tt_tape_reader *r)
{
    tt_source s = {r, reader_source_next, NULL, reader_source_batch};
    return s;
}

void tt_tape_reader_close(tt_tape_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->ncur; i++) {
        tt_tape_cursor *c = &r->cur[i];
        cursor_close_segment(c);
        tt_tape_list_free(c->segs, c->nsegs);
        tt_tape_cols_free(&c->c);
        free(c->raw.p);
        free(c->comp.p);
    }
    free(r->cur);
    free(r->heap);
    for (int i = 0; i < r->nwarn; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r->names);
    ZSTD_freeDCtx(r->dctx);
    free(r);
}

