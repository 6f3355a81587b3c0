/*
 * The wall clock: one realtime reading at init, then monotonic deltas on top
 * of it (see wallclock.h for why). Reading it is two additions and one
 * clock_gettime(CLOCK_MONOTONIC), which is a vDSO call on Linux (~20 ns).
 */
#include "wallclock.h"

#include <time.h>

static tt_ts read_clock(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (tt_ts)t.tv_sec * TT_NS_PER_SEC + t.tv_nsec;
}

int64_t tt_mono_ns(void) { return read_clock(CLOCK_MONOTONIC); }

void tt_wallclock_init(tt_wallclock *c)
{
    c->base_mono = read_clock(CLOCK_MONOTONIC);
    c->base_real = read_clock(CLOCK_REALTIME);
}

tt_ts tt_wallclock_now(const tt_wallclock *c)
{
    return c->base_real + (read_clock(CLOCK_MONOTONIC) - c->base_mono);
}

static tt_ts clock_now(void *self) { return tt_wallclock_now(self); }

tt_clock tt_wallclock_clock(tt_wallclock *c)
{
    tt_clock k = {.self = c, .now = clock_now};
    return k;
}
