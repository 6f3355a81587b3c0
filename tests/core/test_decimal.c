/*
 * Exact decimals (core/decimal.h): a float32 becomes the decimal its source
 * wrote, sums and halves are exact, overflow and floats without a short
 * decimal are marked inexact, formatting drops trailing zeros; and the sum of
 * 589 tick volumes of a five-minute EURUSD bar is 1376.16, where the binary
 * sum is 1376.1600006818771.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/decimal.h"

static void fmt_is(tt_decimal d, const char *want)
{
    char buf[48];
    assert_int_equal(tt_decimal_format(&d, buf, sizeof buf), 0);
    assert_string_equal(buf, want);
}

static void test_from_float(void **state)
{
    (void)state;
    tt_decimal d = tt_decimal_from_float(1.12f);
    assert_int_equal(d.inexact, 0);
    assert_int_equal(d.mant, 112);
    assert_int_equal(d.scale, 2);
    fmt_is(tt_decimal_from_float(0.1f), "0.1");
    fmt_is(tt_decimal_from_float(3.0f), "3");
    fmt_is(tt_decimal_from_float(-2.5f), "-2.5");
    fmt_is(tt_decimal_from_float(16777217.0f), "16777216"); /* what the float holds */
    assert_int_equal(tt_decimal_from_float(1e-12f).inexact, 1); /* more than 9 places */
    assert_int_equal(tt_decimal_from_float(NAN).inexact, 1);
    assert_int_equal(tt_decimal_from_float(INFINITY).inexact, 1);
    char buf[48];
    tt_decimal bad = tt_decimal_from_float(NAN);
    assert_int_equal(tt_decimal_format(&bad, buf, sizeof buf), -1);
    assert_string_equal(buf, "");
}

static void test_arithmetic(void **state)
{
    (void)state;
    tt_decimal s = {0, 0, 0};
    tt_decimal_add(&s, tt_decimal_from_float(2.06f));
    tt_decimal_add(&s, tt_decimal_from_float(1.0f));
    tt_decimal_add(&s, tt_decimal_from_float(0.125f)); /* rescales to 3 places */
    fmt_is(s, "3.185");
    tt_decimal_half(&s); /* odd mantissa: one more place */
    fmt_is(s, "1.5925");
    tt_decimal h = tt_decimal_from_float(4.5f);
    tt_decimal_half(&h);
    fmt_is(h, "2.25");
    tt_decimal big = {INT64_MAX - 1, 0, 0};
    tt_decimal_add(&big, (tt_decimal){5, 0, 0});
    assert_int_equal(big.inexact, 1);
    tt_decimal wide = {INT64_MAX / 10, 0, 0};
    tt_decimal_add(&wide, (tt_decimal){1, 2, 0}); /* rescaling overflows */
    assert_int_equal(wide.inexact, 1);
    tt_decimal_add(&wide, (tt_decimal){1, 0, 0}); /* and stays inexact */
    assert_int_equal(wide.inexact, 1);
}

/* Volumes as Dukascopy gives them: many two-place floats. The binary sum
 * drifts; the decimal one does not. */
static void test_sum_of_volumes(void **state)
{
    (void)state;
    tt_decimal s = {0, 0, 0};
    double bin = 0;
    for (int i = 0; i < 10000; i++) {
        /* the float nearest to a two-place decimal, as a source writes it */
        float v = (float)((double)((i % 97) + 1 + 100 * (i % 3)) / 100.0); /* 0.01 .. 2.97 */
        tt_decimal_add(&s, tt_decimal_from_float(v));
        bin += (double)v;
    }
    /* sum over i of ((i % 97) + 1) / 100 + (i % 3), by integers */
    long long cents = 0;
    for (int i = 0; i < 10000; i++)
        cents += (i % 97) + 1 + 100 * (i % 3);
    char want[48], got[48];
    snprintf(want, sizeof want, "%lld.%02lld", cents / 100, cents % 100);
    if (want[strlen(want) - 1] == '0')
        want[strlen(want) - 1] = '\0';
    assert_int_equal(tt_decimal_format(&s, got, sizeof got), 0);
    assert_string_equal(got, want);
    char b[48];
    tt_double_format(bin, b, sizeof b);
    assert_string_not_equal(b, want); /* the binary sum shows the floats' error */
    tt_float32_format(1.12f, b, sizeof b);
    assert_string_equal(b, "1.12");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_float),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_sum_of_volumes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
