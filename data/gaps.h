/*
 * ticktape: gap detection in a time series, outside the FX weekend close.
 *
 * Time is cut into slots of one timeframe (M1: minutes). A slot with no event
 * is missing; a run of missing slots is a gap, reported as the half-open
 * interval [from, to) of UTC nanoseconds, minus the parts that fall in the
 * weekend close. Gaps shorter than a minimum are not reported.
 *
 * The FX weekend close follows the New York 17:00 convention: the market
 * closes on Friday at 17:00 America/New_York and reopens on Sunday at 17:00
 * America/New_York, i.e. Friday 22:00 UTC to Sunday 22:00 UTC in winter and
 * 21:00 to 21:00 UTC while US daylight saving time is in force (from 2007:
 * second Sunday of March to first Sunday of November; before: first Sunday
 * of April to last Sunday of October). TT_WEEKEND_UTC22 uses a fixed Friday
 * 22:00 UTC to Sunday 22:00 UTC all year; TT_WEEKEND_NONE excludes nothing
 * (markets that trade through the weekend, such as crypto).
 *
 * Holidays (25 December, 1 January) are not excluded: they show as gaps,
 * which is true of the data.
 *
 * Nothing here allocates or can fail but tt_weekend_parse (-1).
 */
#ifndef TT_GAPS_H
#define TT_GAPS_H

#include <stdint.h>

#include "../core/event.h"

enum tt_weekend { TT_WEEKEND_NEWYORK = 0, TT_WEEKEND_UTC22 = 1, TT_WEEKEND_NONE = 2 };

/* "ny", "utc22", "none" -> enum tt_weekend; -1 when unknown. */
int tt_weekend_parse(const char *s);

/* The weekend close [*close, *open) of the most recent Friday on or before
 * the UTC day of t. For TT_WEEKEND_NONE both are 0. */
void tt_weekend_window(int weekend, tt_ts t, tt_ts *close, tt_ts *open);

/* 1 when t falls in a weekend close. */
int tt_weekend_contains(int weekend, tt_ts t);

typedef struct tt_gap {
    tt_ts from, to; /* missing: [from, to) */
} tt_gap;

typedef void (*tt_gap_fn)(void *ctx, const tt_gap *gap);

/* A streaming gap finder: feed event times in non-decreasing order. */
typedef struct tt_gaps {
    int64_t slot_ns; /* timeframe length (> 0) */
    tt_ts min_gap;   /* report gaps at least this long (after removing weekends) */
    int weekend;
    tt_ts from, to;  /* range to check; 0 = from the first / to the last event */
    int64_t last_slot;
    int started;
    uint64_t count;
    tt_ts total;     /* summed length of the gaps reported */
    tt_gap_fn fn;
    void *ctx;
} tt_gaps;

/* Prepare a finder. slot_ns must be > 0; min_gap <= slot_ns means every
 * missing slot counts. `fn` gets each gap as it is found. */
void tt_gaps_init(tt_gaps *g, int64_t slot_ns, tt_ts min_gap, int weekend, tt_ts from, tt_ts to,
                  tt_gap_fn fn, void *ctx);

/* One event time. Times before the previous one are ignored (the tape is in
 * order; this only guards against misuse). */
void tt_gaps_add(tt_gaps *g, tt_ts ts);

/* End of input: with a `to` bound, the tail after the last event is checked
 * too (and with no event at all, the whole [from, to) range). */
void tt_gaps_finish(tt_gaps *g);

/* Report the missing interval [from, to) minus weekend closes (used by the
 * finder; exposed for tests). */
void tt_gaps_emit_interval(tt_gaps *g, tt_ts from, tt_ts to);

#endif
