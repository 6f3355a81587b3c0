/*
 * Merging imported events into a month the tape already holds (a back-fill,
 * an overlap, or an interrupted import run again).
 *
 * How it works
 * ------------
 * The writer (data/tape/writer.c) has started the month's next generation
 * file; the old file stays in place and in the manifest. A cursor walks the
 * old file's committed blocks; the imported events come in time order. The
 * merge holds the imported events of one timestamp (a group) until a later
 * one arrives, then writes, through the writer, every old event before that
 * time and resolves the group against the old events at the same time:
 *
 *   - no old event at that time: the imported group is new, written whole;
 *   - one group a prefix of the other, event for event: the common events are
 *     duplicates (the tape holds them already: counted, written once), the
 *     longer group is written. This is what running an interrupted import
 *     again looks like: the tape holds the first part of a millisecond's
 *     ticks, the import all of them;
 *   - otherwise a conflict: imported events equal to an old one at that time
 *     are duplicates, the others conflicts. The old group stays (the rule
 *     without replace) or the imported group replaces it whole (replace).
 *     The first conflicts are reported with both sides' values.
 *
 * At the end of the month every old event after the last imported one is
 * written, and the writer commits the new file, which replaces the old one
 * in the manifest. Nothing of the old file changes until then: a merge
 * killed halfway leaves the old month as it was, and a leftover new file
 * that no manifest names (removed by the next writer, or `tape repair`).
 *
 * Equality is of what the tape stores: the time and the payload (quotes:
 * bid, ask and the volumes' bits; bars: OHLC, volume bits and ticks; trades:
 * price, size bits, aggressor; blob records: their bytes). Memory: one
 * decoded block of the old file and the two groups of one timestamp.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_REPORTS 10

/* Events at one time; blob kinds keep their records (u32 length and the
 * canonical encoding) in arena, at off[i]. */
typedef struct grp {
    tt_event *v;
    size_t *off;
    uint32_t n, cap;
    tt_tape_buf arena;
} grp;

struct tt_tape_rewrite {
    tt_tape_writer *w;
    tt_tape_rewrite_opts o;
    int blob;
    /* the old segment */
    int fd;
    char path[4400];
    tt_tape_scan scan;
    uint32_t blk, n, pos;
    ZSTD_DCtx *dctx;
    tt_tape_cols c;
    tt_tape_buf raw, comp;
    tt_tape_in bin;
    tt_event head;
    int have_head;
    /* the groups at gts */
    grp in, old;
    tt_ts gts;
    uint32_t reported;
};

static int grp_push(grp *g, const tt_event *ev, int blob)
{
    if (g->n == g->cap) {
        uint32_t cap = g->cap ? g->cap * 2 : 16;
        tt_event *nv = realloc(g->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        g->v = nv;
        size_t *no = realloc(g->off, cap * sizeof *no);
        if (!no)
            return -1;
        g->off = no;
        g->cap = cap;
    }
    g->v[g->n] = *ev;
    if (blob) {
        g->off[g->n] = g->arena.n;
        if (tt_tape_blob_put(&g->arena, ev))
            return -1;
    }
    g->n++;
    return 0;
}

/* Event i of a group, blob bytes pointing into its arena. */
static void grp_at(grp *g, uint32_t i, int blob, tt_event *ev)
{
    if (blob) {
        tt_tape_in in = {g->arena.p + g->off[i], g->arena.p + g->arena.n};
        tt_tape_blob_get(&in, ev); /* encoded by grp_push: cannot fail */
    } else {
        *ev = g->v[i];
    }
}

static void grp_clear(grp *g)
{
    g->n = 0;
    g->arena.n = 0;
}

static void grp_free(grp *g)
{
    free(g->v);
    free(g->off);
    free(g->arena.p);
}

/* Do event a of group ga and event b of group gb hold the same values? */
static int same(const tt_tape_rewrite *m, const grp *ga, uint32_t a, const grp *gb, uint32_t b)
{
    if (m->blob) {
        const uint8_t *pa = ga->arena.p + ga->off[a], *pb = gb->arena.p + gb->off[b];
        uint32_t la = get32(pa), lb = get32(pb);
        return la == lb && !memcmp(pa, pb, BLOB_LEN_SIZE + la);
    }
    const tt_event *x = &ga->v[a], *y = &gb->v[b];
    if (x->ts != y->ts)
        return 0;
    switch (m->o.desc->kind) {
    case TT_STREAM_QUOTE:
        return x->u.quote.bid == y->u.quote.bid && x->u.quote.ask == y->u.quote.ask &&
               !memcmp(&x->u.quote.bid_vol, &y->u.quote.bid_vol, 4) &&
               !memcmp(&x->u.quote.ask_vol, &y->u.quote.ask_vol, 4);
    case TT_STREAM_BAR:
        return x->u.bar.open == y->u.bar.open && x->u.bar.high == y->u.bar.high &&
               x->u.bar.low == y->u.bar.low && x->u.bar.close == y->u.bar.close &&
               !memcmp(&x->u.bar.volume, &y->u.bar.volume, 8) && x->u.bar.ticks == y->u.bar.ticks;
    default:
        return x->u.trade.price == y->u.trade.price &&
               !memcmp(&x->u.trade.size, &y->u.trade.size, 8) &&
               x->u.trade.aggressor == y->u.trade.aggressor;
    }
}

/* ---- the old segment's events ---- */

/* The next old event into m->head (have_head 0 at the end). */
static int old_advance(tt_tape_rewrite *m, tt_err *err)
{
    for (;;) {
        if (m->pos < m->n) {
            if (m->blob) {
                if (tt_tape_blob_get(&m->bin, &m->head))
                    return tt_err_set(err, TT_EFORMAT, "%s: block %u: malformed event %u",
                                      m->path, m->blk - 1, m->pos);
            } else {
                tt_tape_event_at(m->o.desc, &m->c, m->pos, &m->head);
            }
            m->pos++;
            m->have_head = 1;
            return TT_OK;
        }
        m->have_head = 0;
        if (m->blk >= m->scan.nidx)
            return TT_OK;
        const tt_tape_blk *b = &m->scan.idx[m->blk];
        int rc = tt_tape_block_load(m->fd, m->path, m->blk, b, m->dctx, &m->comp, &m->raw, err);
        if (rc)
            return rc;
        if (m->blob) {
            m->bin.p = m->raw.p;
            m->bin.end = m->raw.p + m->raw.n;
        } else if (tt_tape_cols_reserve(&m->c, b->count)) {
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        } else if (tt_tape_payload_decode(m->o.desc->kind, m->raw.p, m->raw.n, &m->c, b->count)) {
            return tt_err_set(err, TT_EFORMAT, "%s: block %u: malformed payload", m->path, m->blk);
        }
        m->n = b->count;
        m->pos = 0;
        m->blk++;
    }
}

/* Write the old events before time t. */
static int old_emit_before(tt_tape_rewrite *m, tt_ts t, tt_err *err)
{
    while (m->have_head && m->head.ts < t) {
        int rc = tt_tape_writer_put(m->w, &m->head, err);
        if (!rc)
            rc = old_advance(m, err);
        if (rc)
            return rc;
    }
    return TT_OK;
}

int tt_tape_rewrite_open(tt_tape_rewrite **out, tt_tape_writer *w, const char *old_path,
                         const tt_tape_commit *c, const tt_tape_rewrite_opts *o, tt_err *err)
{
    *out = NULL;
    tt_tape_rewrite *m = calloc(1, sizeof *m);
    if (!m)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    m->w = w;
    m->o = *o;
    m->blob = tt_tape_kind_is_blob(o->desc->kind);
    snprintf(m->path, sizeof m->path, "%s", old_path);
    m->fd = open(old_path, O_RDONLY | O_CLOEXEC);
    int rc = TT_OK;
    if (m->fd < 0)
        rc = tt_err_set(err, TT_EIO, "%s: cannot open: %s", old_path, strerror(errno));
    else if (!(m->dctx = ZSTD_createDCtx()))
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
    else if (!(rc = tt_tape_seg_scan(m->fd, old_path, o->desc, c->length, 0, &m->scan, err)) &&
             (m->scan.commit.length != c->length || m->scan.commit.chain != c->chain))
        rc = tt_err_set(err, TT_EFORMAT,
                        "%s: does not end with the commit the manifest names (run 'ticktape tape "
                        "verify')", old_path);
    if (!rc)
        rc = old_advance(m, err);
    if (rc) {
        tt_tape_rewrite_free(m);
        return rc;
    }
    *out = m;
    return TT_OK;
}

/* ---- groups ---- */

static void report_conflict(tt_tape_rewrite *m)
{
    if (!m->o.report || m->reported > MAX_REPORTS)
        return;
    char t[48], line[700], a[120] = "", b[120] = "";
    if (m->reported++ == MAX_REPORTS) {
        snprintf(line, sizeof line, "%s %s: more conflicts follow (all are counted)",
                 m->o.desc->symbol, m->o.sname);
        m->o.report(m->o.ctx, line);
        return;
    }
    tt_ts_format(m->gts, t, sizeof t, m->gts % TT_NS_PER_MS != 0);
    const tt_event *x = &m->old.v[0], *y = &m->in.v[0];
    if (m->o.desc->kind == TT_STREAM_QUOTE) {
        snprintf(a, sizeof a, " (first: bid %lld ask %lld", (long long)x->u.quote.bid,
                 (long long)x->u.quote.ask);
        snprintf(b, sizeof b, " against bid %lld ask %lld)", (long long)y->u.quote.bid,
                 (long long)y->u.quote.ask);
    } else if (m->o.desc->kind == TT_STREAM_BAR) {
        snprintf(a, sizeof a, " (first: close %lld", (long long)x->u.bar.close);
        snprintf(b, sizeof b, " against close %lld)", (long long)y->u.bar.close);
    }
    snprintf(line, sizeof line,
             "conflict: %s %s at %s: the tape holds %u event(s), the import %u that differ%s%s; "
             "%s", m->o.desc->symbol, m->o.sname, t, m->old.n, m->in.n, a, b,
             m->o.replace ? "replaced by the import's (--replace)"
                          : "the tape's are kept (--replace replaces them)");
    m->o.report(m->o.ctx, line);
}

static int emit_group(tt_tape_rewrite *m, grp *g, tt_err *err)
{
    for (uint32_t i = 0; i < g->n; i++) {
        tt_event ev;
        grp_at(g, i, m->blob, &ev);
        int rc = tt_tape_writer_put(m->w, &ev, err);
        if (rc)
            return rc;
    }
    return TT_OK;
}

/* Settle the imported group at m->gts against the tape's events then. */
static int resolve(tt_tape_rewrite *m, tt_err *err)
{
    int rc = old_emit_before(m, m->gts, err);
    grp_clear(&m->old);
    while (!rc && m->have_head && m->head.ts == m->gts) {
        if (grp_push(&m->old, &m->head, m->blob))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        rc = old_advance(m, err);
    }
    if (rc)
        return rc;
    tt_tape_writer_stats *st = m->o.st;
    uint32_t no = m->old.n, ni = m->in.n, k = no < ni ? no : ni, p = 0;
    while (p < k && same(m, &m->old, p, &m->in, p))
        p++;
    grp *out;
    if (p == k) {
        st->duplicates += k;
        st->added += ni - k;
        out = ni > no ? &m->in : &m->old;
    } else {
        /* a conflict: match imported events to old ones, each old one once */
        uint8_t *used = calloc(no, 1);
        if (!used)
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        uint32_t matched = 0;
        for (uint32_t i = 0; i < ni; i++)
            for (uint32_t j = 0; j < no; j++)
                if (!used[j] && same(m, &m->old, j, &m->in, i)) {
                    used[j] = 1;
                    matched++;
                    break;
                }
        free(used);
        st->duplicates += matched;
        st->conflicts += ni - matched;
        if (m->o.replace) {
            st->replaced += no - matched;
            st->added += ni - matched;
        }
        report_conflict(m);
        out = m->o.replace ? &m->in : &m->old;
    }
    rc = emit_group(m, out, err);
    grp_clear(&m->in);
    return rc;
}

int tt_tape_rewrite_push(tt_tape_rewrite *m, const tt_event *ev, tt_err *err)
{
    if (m->in.n && ev->ts != m->gts) {
        int rc = resolve(m, err);
        if (rc)
            return rc;
    }
    m->gts = ev->ts;
    if (grp_push(&m->in, ev, m->blob))
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    return TT_OK;
}

int tt_tape_rewrite_finish(tt_tape_rewrite *m, tt_err *err)
{
    int rc = m->in.n ? resolve(m, err) : TT_OK;
    while (!rc && m->have_head) {
        rc = tt_tape_writer_put(m->w, &m->head, err);
        if (!rc)
            rc = old_advance(m, err);
    }
    return rc;
}

void tt_tape_rewrite_free(tt_tape_rewrite *m)
{
    if (!m)
        return;
    if (m->fd >= 0)
        close(m->fd);
    tt_tape_scan_free(&m->scan);
    ZSTD_freeDCtx(m->dctx);
    tt_tape_cols_free(&m->c);
    free(m->raw.p);
    free(m->comp.p);
    grp_free(&m->in);
    grp_free(&m->old);
    free(m);
}
