/*
 * The calendar row rules (data/calendar.h), worked by hand: the clock in the
 * file's zone (noon and midnight of the 12-hour clock, offsets east and west,
 * the day boundary), the non-times that make untimed events at 00:00 UTC of
 * their date, and the refusals naming the field. The whole files are checked
 * against pandas by tests/data/calendar_test.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "data/calendar.h"

static const int COLS[8] = {0, 1, 2, 3, 4, 5, 6, 7};

static int row(const char *date, const char *time, const char *ccy, const char *impact,
               const char *actual, int offset, tt_calendar_event *out, tt_err *err)
{
    const char *f[8] = {date, time, ccy, "Some event", impact, actual, "", ""};
    return tt_calendar_row_parse(f, 8, COLS, offset, out, err);
}

static void test_clock(void **state)
{
    (void)state;
    static const struct { const char *date, *time; int off; int y, mo, d, h, mi; } cases[] = {
        {"2019-01-04", "9:30pm", 480, 2019, 1, 4, 13, 30},   /* the NFP of the README */
        {"2019-01-04", "12:00am", 480, 2019, 1, 3, 16, 0},   /* midnight: the day before in UTC */
        {"2019-01-04", "12:30pm", 480, 2019, 1, 4, 4, 30},   /* noon is 12pm */
        {"2019-01-01", "7:59am", 480, 2018, 12, 31, 23, 59}, /* over the year boundary */
        {"2019-01-04", "11:59pm", 0, 2019, 1, 4, 23, 59},
        {"2019-01-04", "10:00PM", -300, 2019, 1, 5, 3, 0},   /* a zone west of UTC */
        {"2020-02-29", "1:05am", 480, 2020, 2, 28, 17, 5},   /* leap day */
    };
    tt_err err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tt_calendar_event e;
        assert_int_equal(row(cases[i].date, cases[i].time, "USD", "High", "", cases[i].off, &e,
                             &err),
                         TT_OK);
        assert_int_equal(e.timed, 1);
        tt_ts want = tt_ts_from_civil(cases[i].y, cases[i].mo, cases[i].d, cases[i].h,
                                      cases[i].mi, 0, 0);
        if (e.time != want)
            fail_msg("case %zu: %s %s", i, cases[i].date, cases[i].time);
        assert_string_equal(e.time_text, cases[i].time);
    }
}

static void test_untimed(void **state)
{
    (void)state;
    static const char *const words[] = {"All Day", "Tentative", "Day 1", "Day 4", "Feb Data",
                                        "Dec Data", "all day"};
    tt_err err;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        tt_calendar_event e;
        assert_int_equal(row("2019-01-04", words[i], "All", "Low", "", 480, &e, &err), TT_OK);
        assert_int_equal(e.timed, 0);
        assert_true(e.time == tt_ts_from_civil(2019, 1, 4, 0, 0, 0, 0));
        assert_string_equal(e.currency, "ALL");
    }
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct { const char *date, *time, *ccy, *impact, *actual, *says; } bad[] = {
        {"2019-01-04", "13:00pm", "USD", "High", "", "Time"},
        {"2019-01-04", "9:3pm", "USD", "High", "", "Time"},
        {"2019-01-04", "0:30am", "USD", "High", "", "Time"},
        {"2019-01-04", "9:60pm", "USD", "High", "", "Time"},
        {"2019-01-04", "", "USD", "High", "", "Time"},
        {"2019-01-04", "Day 10", "USD", "High", "", "Time"},
        {"2019-01-04", "Foo Data", "USD", "High", "", "Time"},
        {"2019-02-30", "9:30pm", "USD", "High", "", "Date"},
        {"2019-02-29", "9:30pm", "USD", "High", "", "Date"},
        {"04/01/2019", "9:30pm", "USD", "High", "", "Date"},
        {"2019-01-04", "9:30pm", "USD1", "High", "", "Currency"},
        {"2019-01-04", "9:30pm", "", "High", "", "Currency"},
        {"2019-01-04", "9:30pm", "USD", "Very high", "", "Impact"},
        {"2019-01-04", "9:30pm", "USD", "High", "12Q", "Actual"},
    };
    tt_err err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tt_calendar_event e;
        assert_int_equal(row(bad[i].date, bad[i].time, bad[i].ccy, bad[i].impact, bad[i].actual,
                             480, &e, &err),
                         TT_EINVAL);
        if (strncmp(err.msg, bad[i].says, strlen(bad[i].says)))
            fail_msg("case %zu: '%s' does not start with '%s'", i, err.msg, bad[i].says);
    }
    /* a missing optional column (-1) is no figure */
    const char *f[5] = {"2019-01-04", "9:30pm", "USD", "x", "High"};
    const int cols[8] = {0, 1, 2, 3, 4, -1, -1, -1};
    tt_calendar_event e;
    assert_int_equal(tt_calendar_row_parse(f, 5, cols, 480, &e, &err), TT_OK);
    assert_int_equal(e.actual.has, 0);
    /* a missing file */
    tt_calendar_import_opts o;
    memset(&o, 0, sizeof o);
    o.file = "/nonexistent/calendar.csv";
    tt_calendar_import_stats st;
    assert_int_equal(tt_calendar_import(&o, &st, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/calendar.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_untimed),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
