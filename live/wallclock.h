/*
 * ticktape live: the wall clock.
 *
 * Live inputs are stamped on arrival with UTC nanoseconds. The system's
 * realtime clock can step (NTP, an operator), which would make arrival stamps
 * go backwards and break the engine's time order, so the wall clock reads the
 * realtime clock once, at init, and from then on advances by the monotonic
 * clock: stamp = realtime_at_init + (monotonic_now - monotonic_at_init). The
 * result is UTC to within the drift since init and never decreases.
 *
 * After tt_wallclock_init the struct is read-only, so one wall clock may be
 * read from any number of threads at once.
 */
#ifndef TT_WALLCLOCK_H
#define TT_WALLCLOCK_H

#include "../core/engine.h"
#include "../core/event.h"

typedef struct tt_wallclock {
    tt_ts base_real; /* CLOCK_REALTIME at init, UTC ns */
    tt_ts base_mono; /* CLOCK_MONOTONIC at init, ns */
} tt_wallclock;

/* Take the two reference readings. Cannot fail on POSIX systems. */
void tt_wallclock_init(tt_wallclock *c);

/* Monotonic-corrected UTC nanoseconds since the epoch; never decreases. None of
 * the functions below can fail. */
tt_ts tt_wallclock_now(const tt_wallclock *c);

/* The engine clock port reading this wall clock (c is borrowed). Paper runs use
 * the inbox's watermark clock instead (live/inbox.h), which is built on this. */
tt_clock tt_wallclock_clock(tt_wallclock *c);

/* Monotonic nanoseconds (for measuring durations, e.g. latency benchmarks). */
int64_t tt_mono_ns(void);

#endif
