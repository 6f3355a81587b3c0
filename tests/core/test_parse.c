/*
 * The shared value parsers (core/parse.h): the documented forms are accepted,
 * everything else is refused with a message quoting the text, and a refused
 * value leaves *out as it was. Expected values come from the C library's own
 * parsers (strtod, strtoll) and from hand-written cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"

static void test_bool(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "yes", "on", "1", "True", "TRUE", "Yes", "ON",
                                      " on ", "tRuE"};
    static const char *const no[] = {"false", "no", "off", "0", "False", "OFF", "No", "\tno"};
    tt_err err;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        int b = 7;
        assert_int_equal(tt_parse_bool(yes[i], &b, &err), TT_OK);
        assert_int_equal(b, 1);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        int b = 7;
        assert_int_equal(tt_parse_bool(no[i], &b, &err), TT_OK);
        assert_int_equal(b, 0);
    }
    static const char *const bad[] = {"", " ", "y", "n", "2", "truee", "on off", "enabled"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int b = 7;
        assert_int_equal(tt_parse_bool(bad[i], &b, &err), TT_EINVAL);
        assert_int_equal(b, 7);
    }
    tt_parse_bool("maybe", &(int){0}, &err);
    assert_string_equal(err.msg, "expected true or false, got 'maybe'");
    assert_int_equal(tt_parse_bool("maybe", &(int){0}, NULL), TT_EINVAL); /* err may be NULL */
}

static void test_double(void **state)
{
    (void)state;
    static const char *const good[] = {"0", "-0", "1.5", "+2", "1e3", "-1.25e-2", ".5",
                                       "5.", "0x1p3", "1e-300", " 42", "42 ", "\t3.5\t"};
    tt_err err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double d = -99;
        assert_int_equal(tt_parse_double(good[i], &d, &err), TT_OK);
        assert_true(d == strtod(good[i], NULL));
    }
    static const char *const bad[] = {"", " ", "x", "1x", "1.5.2", "inf", "-inf", "nan",
                                      "1e400", "1e-400", "1,5", "0.1 2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double d = -99;
        if (tt_parse_double(bad[i], &d, &err) != TT_EINVAL)
            fail_msg("'%s' accepted as %g", bad[i], d);
        assert_true(d == -99);
    }
    tt_parse_double("fast", &(double){0}, &err);
    assert_string_equal(err.msg, "expected a number, got 'fast'");
}

static void test_int(void **state)
{
    (void)state;
    tt_err err;
    int64_t v = 0;
    assert_int_equal(tt_parse_int("9223372036854775807", &v, &err), TT_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(tt_parse_int("-9223372036854775808", &v, &err), TT_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(tt_parse_int(" -17 ", &v, &err), TT_OK);
    assert_true(v == -17);
    assert_int_equal(tt_parse_int("010", &v, &err), TT_OK); /* decimal, not octal */
    assert_true(v == 10);
    static const char *const bad[] = {"", "9223372036854775808", "1.0", "1e3", "0x10", "12a",
                                      "- 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 5;
        if (tt_parse_int(bad[i], &v, &err) != TT_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_true(v == 5);
    }
    assert_string_equal(err.msg, "expected an integer, got '- 1'");
}

static void test_ts(void **state)
{
    (void)state;
    tt_err err;
    tt_ts t = 0;
    assert_int_equal(tt_parse_ts("2019-02-04", &t, &err), TT_OK);
    assert_true(t == tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0));
    assert_int_equal(tt_parse_ts(" 2019-02-04T10:00:00Z ", &t, &err), TT_OK);
    assert_true(t == tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0));
    assert_int_equal(tt_parse_ts("1549238400000ms", &t, &err), TT_OK);
    assert_true(t == tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0));
    t = 3;
    assert_int_equal(tt_parse_ts("9999-01-01", &t, &err), TT_EINVAL); /* beyond int64 ns */
    assert_int_equal(tt_parse_ts("99999999999s", &t, &err), TT_EINVAL);
    assert_int_equal(tt_parse_ts("yesterday", &t, &err), TT_EINVAL);
    assert_true(t == 3);
    assert_non_null(strstr(err.msg, "expected a UTC time"));
    assert_non_null(strstr(err.msg, "got 'yesterday'"));
}

static const tt_enum_value COLOURS[] = {
    {"red", 1, 0}, {"green", 2, 0}, {"verde", 2, 1}, {"blue", 3, 0}, {NULL, 0, 0}};

static void test_enum(void **state)
{
    (void)state;
    tt_err err;
    int v = 0;
    assert_int_equal(tt_parse_enum("green", COLOURS, &v, &err), TT_OK);
    assert_int_equal(v, 2);
    assert_int_equal(tt_parse_enum("BLUE", COLOURS, &v, &err), TT_OK); /* any case */
    assert_int_equal(v, 3);
    assert_int_equal(tt_parse_enum(" verde ", COLOURS, &v, &err), TT_OK); /* an alias */
    assert_int_equal(v, 2);
    v = 9;
    assert_int_equal(tt_parse_enum("gren", COLOURS, &v, &err), TT_EINVAL);
    assert_int_equal(v, 9);
    assert_string_equal(err.msg, "expected one of red|green|blue, got 'gren'"); /* no alias */
    assert_int_equal(tt_parse_enum("", COLOURS, &v, &err), TT_EINVAL);
    assert_int_equal(tt_parse_enum("re", COLOURS, &v, &err), TT_EINVAL); /* no prefixes */

    char buf[64];
    assert_int_equal(tt_enum_list(COLOURS, ", ", buf, sizeof buf), strlen("red, green, blue"));
    assert_string_equal(buf, "red, green, blue");
    char small[6];
    assert_int_equal(tt_enum_list(COLOURS, "|", small, sizeof small), strlen("red|green|blue"));
    assert_string_equal(small, "red|g"); /* truncated, terminated */
    assert_string_equal(tt_enum_name(COLOURS, 2), "green");
    assert_null(tt_enum_name(COLOURS, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bool), cmocka_unit_test(test_double), cmocka_unit_test(test_int),
        cmocka_unit_test(test_ts),   cmocka_unit_test(test_enum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
