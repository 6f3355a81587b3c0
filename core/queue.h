/*
 * ticktape: the event queue.
 *
 * A binary min-heap of tt_event ordered by the total order (ts, cls, source,
 * seq). Used by the engine for timers, venue responses and anything components
 * schedule; market data normally flows straight from the source and never
 * touches the heap. Equal keys cannot happen when every producer numbers its
 * events, so the pop order is fully determined.
 */
#ifndef TT_QUEUE_H
#define TT_QUEUE_H

#include <stddef.h>

#include "event.h"

typedef struct tt_queue {
    tt_event *v;
    size_t n, cap;
} tt_queue;

/* init, free (the queue is empty again after it), top and size cannot fail. */
void tt_queue_init(tt_queue *q);
void tt_queue_free(tt_queue *q);
int tt_queue_push(tt_queue *q, const tt_event *ev); /* 0, or TT_ENOMEM (no tt_err; not queued) */
int tt_queue_pop(tt_queue *q, tt_event *out);      /* 1 popped, 0 empty */
static inline const tt_event *tt_queue_top(const tt_queue *q) { return q->n ? &q->v[0] : NULL; }
static inline size_t tt_queue_size(const tt_queue *q) { return q->n; }

#endif
