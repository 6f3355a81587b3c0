/*
 * The tape reader's merge: several streams' cursors in one time order.
 *
 * How it works
 * ------------
 * Each cursor holds its next event (its head). A binary heap of cursor
 * indices, keyed by the heads in the engine's total order (tt_event_cmp:
 * ts, cls, source, seq), yields the least head; that cursor then advances
 * and sifts down. Streams are sorted by the writer (TT_EORDER), so the merge
 * needs no look-ahead, and the source ids (1.. in stream order, fixed by the
 * sorted directory layout) break ties the same way on every machine.
 *
 * The heap is filled lazily on the first call, so that opening a reader reads
 * no payload. A reader of a single stream never comes here
 * (tt_tape_reader_next reads its cursor directly). Built at -O3 like the
 * rest of the read path.
 */
#include "../tape_internal.h"

static inline int head_less(const tt_tape_reader *r, int a, int b)
{
    return tt_event_cmp(&r->cur[a].head, &r->cur[b].head) < 0;
}

static void heap_down(tt_tape_reader *r, int i)
{
    for (;;) {
        int l = 2 * i + 1, rr = l + 1, m = i;
        if (l < r->nheap && head_less(r, r->heap[l], r->heap[m]))
            m = l;
        if (rr < r->nheap && head_less(r, r->heap[rr], r->heap[m]))
            m = rr;
        if (m == i)
            return;
        int t = r->heap[i];
        r->heap[i] = r->heap[m];
        r->heap[m] = t;
        i = m;
    }
}

/* Load every cursor's head and heapify. */
static int merge_start(tt_tape_reader *r, tt_err *err)
{
    r->started = 1;
    r->nheap = 0;
    for (int i = 0; i < r->ncur; i++) {
        int rc = tt_tape_cursor_advance(r, &r->cur[i], &r->cur[i].head, err);
        if (rc < 0)
            return rc;
        if (rc == 1)
            r->heap[r->nheap++] = i;
    }
    for (int i = r->nheap / 2 - 1; i >= 0; i--)
        heap_down(r, i);
    return TT_OK;
}

int tt_tape_merge_next(tt_tape_reader *r, tt_event *ev, tt_err *err)
{
    if (!r->started) {
        int rc = merge_start(r, err);
        if (rc)
            return rc;
    }
    if (r->nheap == 0)
        return 0;
    int top = r->heap[0];
    tt_tape_cursor *c = &r->cur[top];
    *ev = c->head;
    int rc = tt_tape_cursor_next(r, c, &c->head, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        r->heap[0] = r->heap[--r->nheap];
    if (r->nheap > 1)
        heap_down(r, 0);
    return 1;
}
