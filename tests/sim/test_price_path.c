/*
 * The price path (sim/price_path.h): buckets stay under the cap, keep the
 * extremes, and each bucket is exactly the OHLC of the samples it covers
 * (checked against a brute force over the samples); same-time samples fold;
 * slots come out one after the other.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "sim/price_path.h"

#define MIN TT_NS_PER_MIN

static tt_price sample(int i)
{
    if (i == 37)
        return 1000; /* a spike */
    if (i == 71)
        return -5; /* a dip */
    return (tt_price)((i * 7919) % 101);
}

static void test_bounded_exact(void **state)
{
    (void)state;
    tt_price_path *p;
    assert_int_equal(tt_price_path_new(&p, 1, 8, NULL), TT_OK);
    tt_ts t0 = 1000 * MIN;
    for (int i = 0; i < 100; i++)
        tt_price_path_add(p, 0, 7, t0 + i * MIN, sample(i));
    tt_price_bucket *b;
    size_t n;
    assert_int_equal(tt_price_path_collect(p, &b, &n, NULL), TT_OK);
    assert_true(n >= 2 && n <= 8);
    uint32_t total = 0;
    tt_price hi = b[0].high, lo = b[0].low;
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(b[k].symbol, 7);
        if (k)
            assert_true(b[k].ts > b[k - 1].ts);
        /* the samples in [b[k].ts, b[k+1].ts) */
        int first = (int)((b[k].ts - t0) / MIN);
        int end = k + 1 < n ? (int)((b[k + 1].ts - t0) / MIN) : 100;
        tt_price h = sample(first), l = sample(first);
        for (int i = first; i < end; i++) {
            h = sample(i) > h ? sample(i) : h;
            l = sample(i) < l ? sample(i) : l;
        }
        assert_int_equal(b[k].open, sample(first));
        assert_int_equal(b[k].close, sample(end - 1));
        assert_int_equal(b[k].high, h);
        assert_int_equal(b[k].low, l);
        assert_int_equal(b[k].samples, (uint32_t)(end - first));
        total += b[k].samples;
        hi = b[k].high > hi ? b[k].high : hi;
        lo = b[k].low < lo ? b[k].low : lo;
    }
    assert_int_equal(total, 100);
    assert_int_equal(hi, 1000);
    assert_int_equal(lo, -5);
    free(b);
    tt_price_path_free(p);
}

static void test_fold_and_slots(void **state)
{
    (void)state;
    tt_price_path *p;
    assert_int_equal(tt_price_path_new(&p, 2, 0, NULL), TT_OK);
    tt_price_path_add(p, 1, 9, 5 * MIN, 50);
    tt_price_path_add(p, 0, 3, 5 * MIN, 10);
    tt_price_path_add(p, 0, 3, 5 * MIN, 12); /* the same time: folded */
    tt_price_path_add(p, 0, 3, 6 * MIN, 11);
    tt_price_path_add(p, 2, 4, 6 * MIN, 11); /* no such slot: ignored */
    tt_price_bucket *b;
    size_t n;
    assert_int_equal(tt_price_path_collect(p, &b, &n, NULL), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(b[0].symbol, 3);
    assert_int_equal(b[0].open, 10);
    assert_int_equal(b[0].close, 12);
    assert_int_equal(b[0].high, 12);
    assert_int_equal(b[0].samples, 2);
    assert_int_equal(b[1].symbol, 3);
    assert_int_equal(b[1].open, 11);
    assert_int_equal(b[2].symbol, 9);
    free(b);
    tt_price_path_free(p);
    /* an empty path collects nothing */
    assert_int_equal(tt_price_path_new(&p, 1, 0, NULL), TT_OK);
    assert_int_equal(tt_price_path_collect(p, &b, &n, NULL), TT_OK);
    assert_int_equal(n, 0);
    assert_null(b);
    tt_price_path_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_exact),
        cmocka_unit_test(test_fold_and_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
