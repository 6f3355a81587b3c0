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
 * Opening checks before a single event is returned: the manifest names every
 * segment and its last commit, and every segment the query's range touches
 * is checked against it (data/tape/check.c): a missing segment, a cut at any
 * offset, block boundaries included, or another file in a segment's place is
 * an error naming the file, the blocks and the events missing; with
 * allow_partial it is a warning, the usable blocks are read and the missing
 * events counted (tt_tape_reader_missing). Bytes after a segment's last
 * commit are not read (a writer may be appending them). Nothing is checked
 * per event: payload checksums are checked per block, as they always were.
 *
 * A format 1 tape (no manifest) is still read, with a warning that cuts at a
 * block boundary and missing segments cannot be seen; its torn tails are
 * warnings (every complete block before the tear is read).
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* one stream's cursor                                                        */

static void reader_warn(tt_tape_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reader_warn(tt_tape_reader *r, const char *fmt, ...)
{
    char buf[4400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
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
    c->idx = NULL; /* owned by its tt_tape_rseg */
    c->nidx = c->blk = 0;
    c->blk_base = 0;
}

/* A format 1 segment: walk it whole; a torn tail is a warning. */
static int rseg_check_legacy(tt_tape_reader *r, tt_tape_cursor *c, tt_tape_rseg *rs,
                             const char *path, tt_err *err)
{
    tt_tape_scan s;
    int rc = tt_tape_seg_scan_path(path, &c->desc, 0, TT_SCAN_V1, &s, err);
    if (rc)
        return rc;
    if (s.torn)
        reader_warn(r, "%s: torn tail after block %u (incomplete write); the complete blocks "
                       "before it were read", path, s.nidx);
    rs->idx = s.idx;
    rs->nidx = s.nidx;
    return TT_OK;
}

/* Check a segment once: against the manifest (a problem is an error, or with
 * allow_partial a warning and the missing events counted). */
static int rseg_check(tt_tape_reader *r, tt_tape_cursor *c, tt_tape_rseg *rs, tt_err *err)
{
    if (rs->checked)
        return TT_OK;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", c->sdir, rs->file);
    int rc;
    if (r->legacy) {
        if ((rc = rseg_check_legacy(r, c, rs, path, err)))
            return rc;
        rs->checked = 1;
        return TT_OK;
    }
    tt_tape_seg_check k;
    if ((rc = tt_tape_check_segment(r->dir, &c->desc, &r->man.v[rs->entry], &k, err)))
        return rc;
    if (k.problem && !r->partial && !k.record_only) {
        rc = tt_err_set(err, k.problem, "%s (--allow-partial reads what is left)", k.msg);
        tt_tape_seg_check_free(&k);
        return rc;
    }
    if (k.problem) {
        reader_warn(r, "%s; %s", k.msg, k.record_only ? "read whole ('ticktape tape repair' "
                                                      "writes the record again)"
                                                    : "reading what is left");
        r->missing += k.missing;
    }
    if (k.tail && r->writer != 1)
        reader_warn(r, "%s: %llu byte(s) after the last commit are not part of the tape and were "
                       "not read", path, (unsigned long long)k.tail);
    rs->idx = k.scan.idx;
    rs->nidx = k.scan.nidx;
    k.scan.idx = NULL;
    rs->dev = k.dev;
    rs->ino = k.ino;
    rs->checked = 1;
    tt_tape_seg_check_free(&k);
    return TT_OK;
}

/* Open segment `s` of the cursor (checking it first if need be). */
static int cursor_open_segment(tt_tape_reader *r, tt_tape_cursor *c, int s, tt_err *err)
{
    cursor_close_segment(c);
    c->seg = s;
    tt_tape_rseg *rs = &c->segs[s];
    int rc = rseg_check(r, c, rs, err);
    if (rc)
        return rc;
    c->idx = rs->idx;
    c->nidx = rs->nidx;
    if (!rs->nidx)
        return TT_OK; /* nothing usable: not opened */
    snprintf(c->path, sizeof c->path, "%s/%s", c->sdir, rs->file);
    c->fd = open(c->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (c->fd < 0 || (!r->legacy && (fstat(c->fd, &st) || st.st_ino != rs->ino ||
                                     st.st_dev != rs->dev)))
        return tt_err_set(err, TT_ESTATE,
                          "%s: the segment was replaced or removed by a writer while this "
                          "reader ran (a back-fill?); read again", c->path);
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
    if (tt_tape_kind_is_blob(c->desc.kind)) {
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
            if (tt_tape_kind_is_blob(c->desc.kind)) {
                tt_tape_in in = {c->bp, c->bend};
                int brc = tt_tape_blob_get(&in, ev);
                if (brc == -1)
                    return tt_err_set(err, TT_EFORMAT, "%s: block %u: truncated event", c->path,
                                      c->blk - 1);
                if (brc)
                    return tt_err_set(err, TT_EFORMAT, "%s: block %u: malformed event %u", c->path,
                                      c->blk - 1, i);
                c->bp = in.p;
            } else if (c->desc.kind == TT_STREAM_QUOTE) {
                tt_tape_quote_at(c, i, ev);
            } else {
                tt_tape_event_at(&c->desc, &c->c, i, ev);
                ev->seq = ((uint64_t)c->seg << 40) + c->blk_base + i + 1;
                ev->symbol = c->symbol_id;
                ev->source = c->source;
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
        if (rc && r->partial && (rc == TT_ECHECKSUM || rc == TT_EFORMAT)) {
            /* allow_partial: a damaged block is skipped, warned about and counted */
            reader_warn(r, "%s; its %u events were skipped", err ? err->msg : "a damaged block",
                        c->idx[c->blk].count);
            r->missing += c->idx[c->blk].count;
            c->blk++;
            c->n = c->pos = 0;
            continue;
        }
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
        while (s + 1 < c->nsegs && strncmp(c->segs[s].file, m, 7) < 0)
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

/* Letters and digits, upper case: "EUR/USD" and "eurusd" name EURUSD. */
static void symbol_key(const char *s, char out[32])
{
    size_t k = 0;
    for (const char *p = s; *p && k < 31; p++)
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            out[k++] = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
    out[k] = '\0';
}

static int symbol_matches(const char *asked, const char *stream_symbol)
{
    if (!strcasecmp(asked, stream_symbol))
        return 1;
    char a[32], b[32];
    symbol_key(asked, a);
    symbol_key(stream_symbol, b);
    return a[0] && !strcmp(a, b);
}

/* Does the query want the stream's kind (and bar timeframe and side)? */
static int query_kind(const tt_tape_query *q, const tt_stream_desc *d)
{
    uint32_t kinds = q && q->kinds ? q->kinds : (1u << TT_STREAM_QUOTE);
    if (!(kinds & (1u << d->kind)))
        return 0;
    return !(d->kind == TT_STREAM_BAR && q && q->tf && (d->tf != q->tf || d->side != q->side));
}

static int query_wants(const tt_tape_query *q, const tt_stream_desc *d)
{
    if (!query_kind(q, d))
        return 0;
    if (!q || !q->symbols)
        return 1;
    for (const char *const *s = q->symbols; *s; s++)
        if (symbol_matches(*s, d->symbol))
            return 1;
    return 0;
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

/* A cursor for one stream; its source id is its position (1..). Its
 * segments: manifest entries [e0, e1), or (e0 < 0) the files of its folder. */
static int reader_add_stream(tt_tape_reader *r, const tt_tape_stream *s, int e0, int e1,
                             tt_err *err)
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
    c->source = (uint16_t)r->ncur;
    char **files = NULL;
    int n = e0 >= 0 ? e1 - e0 : tt_tape_list_dir(c->sdir, SEG_EXT, &files);
    if (n < 0) /* its segments would go missing from the merge */
        return errno == ENOMEM ? tt_err_set(err, TT_ENOMEM, "%s: out of memory", c->sdir)
                               : tt_err_set(err, TT_EIO, "%s: cannot list its segments: %s",
                                            c->sdir, strerror(errno));
    if (n > 0 && !(c->segs = calloc((size_t)n, sizeof *c->segs))) {
        tt_tape_list_free(files, files ? n : 0);
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        tt_tape_rseg *rs = &c->segs[c->nsegs++];
        rs->entry = e0 >= 0 ? e0 + i : -1;
        snprintf(rs->file, sizeof rs->file, "%s", e0 >= 0 ? r->man.v[e0 + i].file : files[i]);
    }
    tt_tape_list_free(files, files ? n : 0);
    int rc = TT_OK;
    if (!tt_tape_kind_is_blob(c->desc.kind))
        c->symbol_id = reader_symbol_id(r, c->desc.symbol, err, &rc);
    return rc;
}

/* Every symbol the query names must be on the tape, in a stream of a kind it
 * wants: otherwise an error listing the symbols that are. */
static int reader_check_symbols(tt_tape_reader *r, const tt_tape_query *q,
                                const tt_tape_stream *st, int nst, tt_err *err)
{
    if (!q || !q->symbols)
        return TT_OK;
    for (const char *const *s = q->symbols; *s; s++) {
        int found = 0;
        for (int i = 0; i < r->ncur && !found; i++)
            found = symbol_matches(*s, r->cur[i].desc.symbol);
        if (found)
            continue;
        char list[600] = "", other[300] = "";
        for (int i = 0; i < nst; i++) {
            char name[32];
            tt_stream_desc_name(&st[i].desc, name, sizeof name);
            char *dst = query_kind(q, &st[i].desc) ? list : symbol_matches(*s, st[i].desc.symbol)
                                                             ? other : NULL;
            size_t cap = dst == list ? sizeof list : sizeof other;
            if (!dst || tt_tape_kind_is_blob(st[i].desc.kind) ||
                (dst == list && strstr(list, st[i].desc.symbol)))
                continue;
            snprintf(dst + strlen(dst), cap - strlen(dst), "%s%s", dst[0] ? ", " : "",
                     dst == list ? st[i].desc.symbol : name);
        }
        if (other[0])
            return tt_err_set(err, TT_ENOTFOUND, "%s: tape %s holds no such stream of %s (it has: "
                              "%s)", *s, r->dir, *s, other);
        if (!list[0])
            return tt_err_set(err, TT_ENOTFOUND, "%s is not on tape %s (it holds no stream of "
                              "that kind)", *s, r->dir);
        return tt_err_set(err, TT_ENOTFOUND, "%s is not on tape %s (it holds: %s)", *s, r->dir,
                          list);
    }
    return TT_OK;
}

static void warn_extra(void *ctx, const char *path, uint64_t bytes)
{
    tt_tape_reader *r = ctx;
    reader_warn(r, "%s (%llu bytes): not in the manifest, not read", path,
                (unsigned long long)bytes);
}

/* The tape's streams: from its manifest, or for a format 1 tape its folders. */
static int reader_load(tt_tape_reader *r, const tt_tape_query *q, tt_err *err)
{
    int rc = tt_tape_manifest_read(r->dir, &r->man, err);
    if (rc == TT_ENOTFOUND) {
        if ((rc = tt_tape_no_manifest(r->dir, err)) != 1)
            return rc;
        r->legacy = 1;
        reader_warn(r, "%s: a format 1 tape (no manifest): a segment cut at a block boundary or "
                       "a missing segment cannot be detected; 'ticktape tape upgrade %s' writes "
                       "the manifest", r->dir, r->dir);
    } else if (rc) {
        return rc;
    }
    char who[400];
    r->writer = tt_tape_lock_status(r->dir, who, sizeof who);
    if (r->writer == 2)
        reader_warn(r, "%s: a writer did not finish (%s); the tape is read as of its last "
                       "commit ('ticktape tape repair' cleans up; running the import again "
                       "completes it)", r->dir, who);
    tt_tape_stream *st;
    int *first = NULL;
    int nst = r->legacy ? tt_tape_streams_list(r->dir, &st)
                        : tt_tape_manifest_streams(r->dir, &r->man, &st, &first);
    if (nst < 0)
        return nst == TT_ENOMEM ? tt_err_set(err, TT_ENOMEM, "out of memory")
                                : tt_err_set(err, TT_EIO, "%s: cannot read directory", r->dir);
    rc = TT_OK;
    for (int i = 0; i < nst && !rc; i++)
        if (query_wants(q, &st[i].desc))
            rc = reader_add_stream(r, &st[i], first ? first[i] : -1, first ? first[i + 1] : 0,
                                   err);
    if (!rc)
        rc = reader_check_symbols(r, q, st, nst, err);
    tt_tape_streams_free(st, nst);
    free(first);
    if (!rc && !r->legacy && r->writer != 1)
        tt_tape_extra_files(r->dir, &r->man, warn_extra, r);
    return rc;
}

/* Check every segment the range touches, before a single event is read. */
static int reader_check_range(tt_tape_reader *r, tt_err *err)
{
    for (int i = 0; i < r->ncur; i++) {
        tt_tape_cursor *c = &r->cur[i];
        for (int s = 0; s < c->nsegs; s++) {
            tt_ts lo, hi;
            tt_tape_month_range(c->segs[s].file, &lo, &hi);
            if (hi <= r->from || (r->to && lo >= r->to))
                continue;
            int rc = rseg_check(r, c, &c->segs[s], err);
            if (rc)
                return rc;
        }
    }
    return TT_OK;
}

int tt_tape_reader_open(tt_tape_reader **out, const char *dir, const tt_tape_query *q,
                        const tt_instruments *instruments, tt_err *err)
{
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return tt_err_set(err, TT_ENOTFOUND, "%s: no such tape directory", dir);
    if (strlen(dir) >= sizeof((tt_tape_reader *)0)->dir - 256)
        return tt_err_set(err, TT_EINVAL, "%s: path too long", dir);
    tt_tape_reader *r = calloc(1, sizeof *r);
    if (!r)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    r->ins = instruments;
    r->from = q ? q->from : 0;
    r->to = q ? q->to : 0;
    r->partial = q ? q->allow_partial : 0;
    r->dctx = ZSTD_createDCtx();
    int rc = TT_OK;
    if (!r->dctx) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = reader_load(r, q, err)) || (rc = reader_check_range(r, err)))
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

uint64_t tt_tape_reader_missing(const tt_tape_reader *r) { return r->missing; }

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
        for (int s = 0; s < c->nsegs; s++)
            free(c->segs[s].idx);
        free(c->segs);
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
    tt_tape_manifest_free(&r->man);
    ZSTD_freeDCtx(r->dctx);
    free(r);
}

