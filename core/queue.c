/* Binary heap of events; see queue.h. */
#include "queue.h"

#include <stdlib.h>

#include "error.h"

void tt_queue_init(tt_queue *q)
{
    q->v = NULL;
    q->n = q->cap = 0;
}

void tt_queue_free(tt_queue *q)
{
    free(q->v);
    tt_queue_init(q);
}

int tt_queue_push(tt_queue *q, const tt_event *ev)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        tt_event *v = realloc(q->v, cap * sizeof *v);
        if (!v)
            return TT_ENOMEM;
        q->v = v;
        q->cap = cap;
    }
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (tt_event_cmp(&q->v[parent], ev) <= 0)
            break;
        q->v[i] = q->v[parent];
        i = parent;
    }
    q->v[i] = *ev;
    return TT_OK;
}

int tt_queue_pop(tt_queue *q, tt_event *out)
{
    if (!q->n)
        return 0;
    *out = q->v[0];
    tt_event last = q->v[--q->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const tt_event *best = &last;
        if (l < q->n && tt_event_cmp(&q->v[l], best) < 0) {
            m = l;
            best = &q->v[l];
        }
        if (r < q->n && tt_event_cmp(&q->v[r], best) < 0)
            m = r;
        if (m == i)
            break;
        q->v[i] = q->v[m];
        i = m;
    }
    if (q->n)
        q->v[i] = last;
    return 1;
}
