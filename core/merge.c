/*
 * Several sources as one (see merge.h).
 *
 * State per member: a buffer of events it handed over (one, or a batch when
 * it has next_batch, so a tape member keeps its fast decoding path) and
 * whether it has ended. next() makes sure every member that has not ended has
 * an event in hand, then hands out the least by tt_event_cmp. Members are
 * few (a handful), so a linear scan beats a heap here.
 */
#include "merge.h"

#include <stdlib.h>
#include <string.h>

#define MERGE_BATCH 64

typedef struct member {
    tt_source src;
    tt_event buf[MERGE_BATCH];
    int i, n;  /* buf[i .. n) not handed out yet */
    int ended;
} member;

struct tt_merge {
    member *m;
    int n;
};

int tt_merge_new(tt_merge **out, const tt_source *sources, int n, tt_err *err)
{
    *out = NULL;
    if (n < 1 || n > TT_MERGE_MAX)
        return tt_err_set(err, TT_EINVAL, "merge: %d sources (1..%d)", n, TT_MERGE_MAX);
    for (int k = 0; k < n; k++)
        if (!sources[k].next && !sources[k].next_batch)
            return tt_err_set(err, TT_EINVAL, "merge: source %d has no next()", k);
    tt_merge *g = calloc(1, sizeof *g);
    if (!g || !(g->m = calloc((size_t)n, sizeof *g->m))) {
        free(g);
        return tt_err_set(err, TT_ENOMEM, "merge: out of memory");
    }
    g->n = n;
    for (int k = 0; k < n; k++)
        g->m[k].src = sources[k];
    *out = g;
    return TT_OK;
}

void tt_merge_free(tt_merge *g)
{
    if (!g)
        return;
    free(g->m);
    free(g);
}

/* Member k has an event in hand or has ended: TT_SRC_EVENT / TT_SRC_END,
 * TT_SRC_IDLE, or its error. */
static int member_fill(member *m, tt_err *err)
{
    if (m->i < m->n)
        return TT_SRC_EVENT;
    if (m->ended)
        return TT_SRC_END;
    int s, got = 1;
    m->i = m->n = 0;
    if (m->src.next_batch) {
        got = 0;
        s = m->src.next_batch(m->src.self, m->buf, MERGE_BATCH, &got, err);
        if (s == TT_SRC_EVENT && (got <= 0 || got > MERGE_BATCH))
            return tt_err_set(err, TT_ESTATE, "merge: a source returned a batch of %d events",
                              got);
    } else {
        s = m->src.next(m->src.self, m->buf, err);
    }
    if (s == TT_SRC_EVENT)
        m->n = got;
    else if (s == TT_SRC_END)
        m->ended = 1;
    return s;
}

static int merge_next(void *self, tt_event *ev, tt_err *err)
{
    tt_merge *g = self;
    member *best = NULL;
    for (int k = 0; k < g->n; k++) {
        member *m = &g->m[k];
        int s = member_fill(m, err);
        if (s == TT_SRC_END)
            continue;
        if (s != TT_SRC_EVENT)
            return s; /* idle or an error: the order cannot be decided yet */
        if (!best || tt_event_cmp(&m->buf[m->i], &best->buf[best->i]) < 0)
            best = m;
    }
    if (!best)
        return TT_SRC_END;
    *ev = best->buf[best->i++];
    return TT_SRC_EVENT;
}

tt_source tt_merge_source(tt_merge *g)
{
    tt_source s;
    memset(&s, 0, sizeof s);
    s.self = g;
    s.next = merge_next;
    return s;
}
