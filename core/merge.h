/*
 * ticktape: several sources read as one, in the total order.
 *
 * The engine reads one source (core/engine.h). A run fed by more than one (a
 * tape and a stream of external data, two tapes) reads them through a merge:
 * each member's next event is held, and the earliest by (ts, cls, source,
 * seq) goes out first. Members must each be in time order and number their
 * own events, as every source does, so the merged order is fully determined.
 *
 * The merge has no batch path (next_batch is NULL): a run with one source
 * should give the engine that source itself. A member that is idle (a live
 * feed with nothing yet) makes the merge idle, since the next event cannot be
 * known without it. Members are borrowed: the merge never closes them.
 */
#ifndef TT_MERGE_H
#define TT_MERGE_H

#include "engine.h"

#define TT_MERGE_MAX 16 /* members of one merge */

typedef struct tt_merge tt_merge;

/* A merge of n sources (copied; their selves are borrowed). Returns 0 with
 * *out set, TT_EINVAL when n is outside 1..TT_MERGE_MAX or a member has
 * neither next nor next_batch, or TT_ENOMEM; *out is then NULL. */
int tt_merge_new(tt_merge **out, const tt_source *sources, int n, tt_err *err);

/* The merged source. Its next() returns TT_SRC_EVENT, TT_SRC_IDLE when a
 * member is idle, TT_SRC_END when every member has ended, or the first
 * member error (a member that failed is asked again on the next call).
 * Cannot fail itself. */
tt_source tt_merge_source(tt_merge *m);

/* Frees the merge, not the members. NULL is a no-op. */
void tt_merge_free(tt_merge *m);

#endif
