/*
 * Gap detection outside the FX weekend close.
 *
 * How this works: each event time is reduced to its slot number (floor of
 * ts / slot). When the next event's slot is more than one past the last, the
 * slots in between are missing. That interval is cut by the weekly close
 * windows: starting at the interval's start, the window of the most recent
 * Friday is found by calendar arithmetic; the part before the window's close
 * is reported, then the cursor jumps to the window's open and the next week's
 * window is taken. Constant memory; the weekend rule is pure arithmetic on
 * UTC days (no time zone database).
 */
#include "gaps.h"

#include <string.h>

int tt_weekend_parse(const char *s)
{
    if (!strcmp(s, "ny") || !strcmp(s, "newyork"))
        return TT_WEEKEND_NEWYORK;
    if (!strcmp(s, "utc22"))
        return TT_WEEKEND_UTC22;
    if (!strcmp(s, "none"))
        return TT_WEEKEND_NONE;
    return -1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Day number (days since 1970-01-01) of the n-th (1-based) Sunday of a month,
 * or the last one when n == 0. */
static int64_t nth_sunday(int year, int month, int n)
{
    if (n == 0) {
        int ny = month == 12 ? year + 1 : year, nm = month == 12 ? 1 : month + 1;
        int64_t next1 = tt_ts_from_civil(ny, nm, 1, 0, 0, 0, 0) / TT_NS_PER_DAY;
        int64_t last = next1 - 1;
        int wd = (int)(((last + 4) % 7 + 7) % 7); /* 0 = Sunday; 1970-01-01 was a Thursday */
        return last - wd;
    }
    int64_t first = tt_ts_from_civil(year, month, 1, 0, 0, 0, 0) / TT_NS_PER_DAY;
    int wd = (int)(((first + 4) % 7 + 7) % 7);
    return first + (7 - wd) % 7 + 7 * (n - 1);
}

/* Is US daylight saving time in force at 17:00 local on UTC day `day`? The
 * switches happen at 02:00 local on Sundays, so at 17:00 on the switch day
 * the new rule already holds. */
static int us_dst(int64_t day)
{
    int y, m, d;
    tt_ts_to_civil(day * TT_NS_PER_DAY, &y, &m, &d, NULL, NULL, NULL, NULL);
    int64_t start, end;
    if (y >= 2007) {
        start = nth_sunday(y, 3, 2);
        end = nth_sunday(y, 11, 1);
    } else {
        start = nth_sunday(y, 4, 1);
        end = nth_sunday(y, 10, 0);
    }
    return day >= start && day < end;
}

void tt_weekend_window(int weekend, tt_ts t, tt_ts *close, tt_ts *open)
{
    if (weekend == TT_WEEKEND_NONE) {
        *close = *open = 0;
        return;
    }
    int64_t day = floor_div(t, TT_NS_PER_DAY);
    int wd = (int)(((day + 4) % 7 + 7) % 7);
    int64_t friday = day - (wd + 2) % 7; /* Friday is wd 5 */
    int64_t sunday = friday + 2;
    if (weekend == TT_WEEKEND_UTC22) {
        *close = friday * TT_NS_PER_DAY + 22 * TT_NS_PER_HOUR;
        *open = sunday * TT_NS_PER_DAY + 22 * TT_NS_PER_HOUR;
        return;
    }
    /* 17:00 New York = 21:00 UTC under daylight saving time, 22:00 otherwise. */
    *close = friday * TT_NS_PER_DAY + (us_dst(friday) ? 21 : 22) * TT_NS_PER_HOUR;
    *open = sunday * TT_NS_PER_DAY + (us_dst(sunday) ? 21 : 22) * TT_NS_PER_HOUR;
}

int tt_weekend_contains(int weekend, tt_ts t)
{
    tt_ts c, o;
    tt_weekend_window(weekend, t, &c, &o);
    return weekend != TT_WEEKEND_NONE && t >= c && t < o;
}

void tt_gaps_init(tt_gaps *g, int64_t slot_ns, tt_ts min_gap, int weekend, tt_ts from, tt_ts to,
                  tt_gap_fn fn, void *ctx)
{
    memset(g, 0, sizeof *g);
    g->slot_ns = slot_ns > 0 ? slot_ns : TT_NS_PER_MIN;
    g->min_gap = min_gap;
    g->weekend = weekend;
    g->from = from;
    g->to = to;
    g->fn = fn;
    g->ctx = ctx;
}

static void report(tt_gaps *g, tt_ts from, tt_ts to)
{
    if (to <= from || to - from < g->min_gap)
        return;
    tt_gap gap = {from, to};
    g->count++;
    g->total += to - from;
    if (g->fn)
        g->fn(g->ctx, &gap);
}

void tt_gaps_emit_interval(tt_gaps *g, tt_ts from, tt_ts to)
{
    if (g->weekend == TT_WEEKEND_NONE) {
        report(g, from, to);
        return;
    }
    tt_ts a = from;
    while (a < to) {
        tt_ts c, o;
        tt_weekend_window(g->weekend, a, &c, &o);
        if (a >= o) {
            /* past this week's reopening: the next window is a week later */
            tt_weekend_window(g->weekend, o + 6 * TT_NS_PER_DAY, &c, &o);
        }
        if (a < c) {
            report(g, a, to < c ? to : c);
        }
        a = a > o ? a : o;
    }
}

void tt_gaps_add(tt_gaps *g, tt_ts ts)
{
    int64_t slot = floor_div(ts, g->slot_ns);
    if (!g->started) {
        g->started = 1;
        if (g->from && ts > g->from) {
            int64_t first = floor_div(g->from + g->slot_ns - 1, g->slot_ns);
            if (slot > first)
                tt_gaps_emit_interval(g, first * g->slot_ns, slot * g->slot_ns);
        }
        g->last_slot = slot;
        return;
    }
    if (slot <= g->last_slot)
        return;
    if (slot > g->last_slot + 1)
        tt_gaps_emit_interval(g, (g->last_slot + 1) * g->slot_ns, slot * g->slot_ns);
    g->last_slot = slot;
}

void tt_gaps_finish(tt_gaps *g)
{
    if (!g->to)
        return;
    int64_t end = floor_div(g->to + g->slot_ns - 1, g->slot_ns); /* first slot at or after to */
    if (!g->started) {
        if (g->from && g->to > g->from)
            tt_gaps_emit_interval(g, g->from, g->to);
        return;
    }
    if (end > g->last_slot + 1)
        tt_gaps_emit_interval(g, (g->last_slot + 1) * g->slot_ns, g->to);
}
