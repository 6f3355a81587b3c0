/*
 * ticktape: a run's sampled equity series, thinned to a bound.
 *
 * The strategy runner samples the account once per equity interval. Every
 * sampled point goes, once final, into a metrics accumulator (when one is
 * given), so the figures are exact whatever is kept. The kept series holds
 * every sampled point unless keep_max is set: then, whenever it is full,
 * every other point is dropped and the sampling stride doubles, except the
 * last point of each UTC day and the final point, which are always kept
 * (pinned), so daily and monthly returns stay exact. The series then stays
 * under keep_max points plus one per day.
 *
 * A point is final when a point with a later ts arrives (one with the same ts
 * replaces it: the end-of-run point may share the last sample's ts and carries
 * the later state) or when the series is finished.
 */
#ifndef TT_SIM_EQUITY_SERIES_H
#define TT_SIM_EQUITY_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/metrics.h"

typedef struct tt_equity_series tt_equity_series;

/* An empty series keeping at most about keep_max points (0 = every point),
 * feeding acc (borrowed, may be NULL). Returns 0 with *out set, or TT_ENOMEM
 * with *out NULL. */
int tt_equity_series_new(tt_equity_series **out, size_t keep_max, tt_metrics_acc *acc,
                         tt_err *err);

/* A sampled point, in non-decreasing ts order. Returns 0, TT_ENOMEM, or the
 * accumulator's error (TT_EORDER for a point earlier than the last). After a
 * failure every add returns that same error and takes nothing. */
int tt_equity_series_add(tt_equity_series *s, const tt_equity_point *p, tt_err *err);

/* Points sampled so far (every add taken, kept or not). Cannot fail. */
uint64_t tt_equity_series_sampled(const tt_equity_series *s);

/* End of the run: the last point is made final (fed and kept), then the kept
 * series is handed over: *points (time order, a heap array to free, or NULL)
 * and *n. The series is empty afterwards. Returns 0, or the series' failure
 * (an earlier add's, or the final point's); what was kept is handed over
 * either way. */
int tt_equity_series_finish(tt_equity_series *s, tt_equity_point **points, size_t *n,
                            tt_err *err);

/* Frees the series and whatever it still holds. NULL is a no-op. */
void tt_equity_series_free(tt_equity_series *s);

#endif
