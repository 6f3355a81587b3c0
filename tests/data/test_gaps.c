/* The gap finder and the FX weekend close. Calendar facts used (checked against a
 * calendar): 2019-02-01 and 2019-06-07 are Fridays; US daylight saving time in 2019
 * ran from Sunday 10 March to Sunday 3 November; in 2006 from Sunday 2 April to
 * Sunday 29 October. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "data/gaps.h"

#define UTC(y, mo, d, h, mi) tt_ts_from_civil(y, mo, d, h, mi, 0, 0)

static void test_weekend_windows(void **state)
{
    (void)state;
    tt_ts c, o;
    /* winter: Friday 22:00 UTC to Sunday 22:00 UTC, from any day of that weekend */
    tt_ts probes[] = {UTC(2019, 2, 1, 23, 0), UTC(2019, 2, 2, 12, 0), UTC(2019, 2, 3, 21, 59),
                      UTC(2019, 2, 4, 9, 0), UTC(2019, 2, 7, 9, 0)};
    for (int i = 0; i < 5; i++) {
        tt_weekend_window(TT_WEEKEND_NEWYORK, probes[i], &c, &o);
        assert_true(c == UTC(2019, 2, 1, 22, 0));
        assert_true(o == UTC(2019, 2, 3, 22, 0));
    }
    assert_true(tt_weekend_contains(TT_WEEKEND_NEWYORK, UTC(2019, 2, 1, 22, 0)));
    assert_false(tt_weekend_contains(TT_WEEKEND_NEWYORK, UTC(2019, 2, 1, 21, 59)));
    assert_false(tt_weekend_contains(TT_WEEKEND_NEWYORK, UTC(2019, 2, 3, 22, 0)));
    /* summer: 17:00 New York is 21:00 UTC */
    tt_weekend_window(TT_WEEKEND_NEWYORK, UTC(2019, 6, 8, 0, 0), &c, &o);
    assert_true(c == UTC(2019, 6, 7, 21, 0) && o == UTC(2019, 6, 9, 21, 0));
    /* DST starts on Sunday 10 March 2019: the Friday before closes at 22:00, that Sunday
     * reopens at 21:00 UTC; DST ends Sunday 3 November: close 21:00, reopen 22:00 */
    tt_weekend_window(TT_WEEKEND_NEWYORK, UTC(2019, 3, 9, 0, 0), &c, &o);
    assert_true(c == UTC(2019, 3, 8, 22, 0) && o == UTC(2019, 3, 10, 21, 0));
    tt_weekend_window(TT_WEEKEND_NEWYORK, UTC(2019, 11, 2, 0, 0), &c, &o);
    assert_true(c == UTC(2019, 11, 1, 21, 0) && o == UTC(2019, 11, 3, 22, 0));
    /* the rule before 2007: first Sunday of April (2 April 2006) */
    tt_weekend_window(TT_WEEKEND_NEWYORK, UTC(2006, 4, 1, 0, 0), &c, &o);
    assert_true(c == UTC(2006, 3, 31, 22, 0) && o == UTC(2006, 4, 2, 21, 0));
    tt_weekend_window(TT_WEEKEND_NEWYORK, UTC(2006, 10, 28, 0, 0), &c, &o);
    assert_true(c == UTC(2006, 10, 27, 21, 0) && o == UTC(2006, 10, 29, 22, 0));
    /* the fixed rule ignores DST */
    tt_weekend_window(TT_WEEKEND_UTC22, UTC(2019, 6, 8, 0, 0), &c, &o);
    assert_true(c == UTC(2019, 6, 7, 22, 0) && o == UTC(2019, 6, 9, 22, 0));
    assert_false(tt_weekend_contains(TT_WEEKEND_NONE, UTC(2019, 2, 2, 12, 0)));
    assert_int_equal(tt_weekend_parse("ny"), TT_WEEKEND_NEWYORK);
    assert_int_equal(tt_weekend_parse("bogus"), -1);
}

typedef struct got {
    int n;
    tt_gap g[8];
} got;

static void collect(void *ctx, const tt_gap *gap)
{
    got *x = ctx;
    if (x->n < 8)
        x->g[x->n] = *gap;
    x->n++;
}

static void test_finder(void **state)
{
    (void)state;
    got x;
    memset(&x, 0, sizeof x);
    tt_gaps g;
    tt_gaps_init(&g, TT_NS_PER_MIN, 0, TT_WEEKEND_NEWYORK, 0, 0, collect, &x);
    /* a tick every minute Friday 21:00-21:59, then from Sunday 22:00, a hole at
     * Monday 00:30-01:14 (ticks at 00:29 and 01:15), several ticks in one minute */
    for (tt_ts t = UTC(2019, 2, 1, 21, 0); t < UTC(2019, 2, 1, 22, 0); t += TT_NS_PER_MIN)
        tt_gaps_add(&g, t + 5 * TT_NS_PER_SEC);
    for (tt_ts t = UTC(2019, 2, 3, 22, 0); t < UTC(2019, 2, 4, 2, 0); t += TT_NS_PER_MIN) {
        if (t >= UTC(2019, 2, 4, 0, 30) && t < UTC(2019, 2, 4, 1, 15))
            continue;
        tt_gaps_add(&g, t);
        tt_gaps_add(&g, t + 30 * TT_NS_PER_SEC);
    }
    tt_gaps_finish(&g);
    assert_int_equal(x.n, 1);
    assert_true(x.g[0].from == UTC(2019, 2, 4, 0, 30) && x.g[0].to == UTC(2019, 2, 4, 1, 15));
    assert_true(g.total == 45 * TT_NS_PER_MIN);

    /* an interval spanning two weekends keeps only the weekdays, and min_gap drops the
     * 30-minute Friday piece */
    memset(&x, 0, sizeof x);
    tt_gaps_init(&g, TT_NS_PER_MIN, TT_NS_PER_HOUR, TT_WEEKEND_NEWYORK, 0, 0, collect, &x);
    tt_gaps_emit_interval(&g, UTC(2019, 2, 1, 21, 30), UTC(2019, 2, 12, 0, 0));
    assert_int_equal(x.n, 2);
    assert_true(x.g[0].from == UTC(2019, 2, 3, 22, 0) && x.g[0].to == UTC(2019, 2, 8, 22, 0));
    assert_true(x.g[1].from == UTC(2019, 2, 10, 22, 0) && x.g[1].to == UTC(2019, 2, 12, 0, 0));

    /* range bounds: nothing before the first event at 10:07 and after the last at 10:10
     * within [10:00, 10:20), M5 slots: gaps [10:00,10:05) and [10:15,10:20) */
    memset(&x, 0, sizeof x);
    tt_gaps_init(&g, 5 * TT_NS_PER_MIN, 0, TT_WEEKEND_NEWYORK, UTC(2019, 2, 4, 10, 0),
                 UTC(2019, 2, 4, 10, 20), collect, &x);
    tt_gaps_add(&g, UTC(2019, 2, 4, 10, 7));
    tt_gaps_add(&g, UTC(2019, 2, 4, 10, 10));
    tt_gaps_finish(&g);
    assert_int_equal(x.n, 2);
    assert_true(x.g[0].from == UTC(2019, 2, 4, 10, 0) && x.g[0].to == UTC(2019, 2, 4, 10, 5));
    assert_true(x.g[1].from == UTC(2019, 2, 4, 10, 15) && x.g[1].to == UTC(2019, 2, 4, 10, 20));

    /* no events at all: the whole range minus the weekend */
    memset(&x, 0, sizeof x);
    tt_gaps_init(&g, TT_NS_PER_MIN, 0, TT_WEEKEND_UTC22, UTC(2019, 2, 1, 0, 0),
                 UTC(2019, 2, 4, 0, 0), collect, &x);
    tt_gaps_finish(&g);
    assert_int_equal(x.n, 2);
    assert_true(x.g[0].to == UTC(2019, 2, 1, 22, 0) && x.g[1].from == UTC(2019, 2, 3, 22, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weekend_windows),
        cmocka_unit_test(test_finder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
