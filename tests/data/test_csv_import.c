/* The libcsv record reader (line numbers, recovery) and the field parsers of
 * data/csv_import.h. Expected times are worked by hand: 2019-02-04 00:00 UTC is
 * 1549238400 s since the epoch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "data/csv_import.h"

#define FEB4 (1549238400LL * TT_NS_PER_SEC)

typedef struct seen {
    int rows;
    long lines[16];
    char first[16][32];
    int nf[16];
    int bad;
    long bad_lines[8];
} seen;

static int on_row(void *ctx, const tt_csv_row *row, tt_err *err)
{
    (void)err;
    seen *s = ctx;
    if (s->rows < 16) {
        s->lines[s->rows] = row->line;
        s->nf[s->rows] = row->nfields;
        snprintf(s->first[s->rows], sizeof s->first[0], "%s", row->field[0]);
    }
    s->rows++;
    return 0;
}

static void on_bad(void *ctx, long line, const char *why)
{
    (void)why;
    seen *s = ctx;
    if (s->bad < 8)
        s->bad_lines[s->bad] = line;
    s->bad++;
}

static void feed_in_pieces(const char *text, size_t piece, unsigned char delim, seen *s)
{
    memset(s, 0, sizeof *s);
    tt_csv_reader *r;
    tt_err err;
    assert_int_equal(tt_csv_reader_new(&r, delim, on_row, on_bad, s, &err), 0);
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += piece)
        assert_int_equal(tt_csv_reader_feed(r, text + i, n - i < piece ? n - i : piece, &err), 0);
    assert_int_equal(tt_csv_reader_finish(r, &err), 0);
    tt_csv_reader_free(r);
}

static void test_reader_lines_and_recovery(void **state)
{
    (void)state;
    /* line 3 has a stray quote inside an unquoted field (strict mode refuses it), line 5
     * opens a quote it never closes; both are reported and every other line is read. */
    const char *text = "a,b\r\n\"q,1\",2\nx\"y,3\nlast,4\n\"open,5\nafter,6\n\nend,7";
    for (size_t piece = 1; piece <= 64; piece *= 2) {
        seen s;
        feed_in_pieces(text, piece, ',', &s);
        assert_int_equal(s.rows, 5);
        assert_int_equal(s.bad, 2);
        assert_int_equal(s.bad_lines[0], 3);
        assert_int_equal(s.bad_lines[1], 5);
        long want_lines[] = {1, 2, 4, 6, 8};
        const char *want_first[] = {"a", "q,1", "last", "after", "end"};
        for (int i = 0; i < 5; i++) {
            assert_int_equal(s.lines[i], want_lines[i]);
            assert_string_equal(s.first[i], want_first[i]);
            assert_int_equal(s.nf[i], 2);
        }
    }
}

static void test_reader_tabs_keep_empty_fields(void **state)
{
    (void)state;
    /* MT5 leaves unchanged sides empty: four fields, two of them empty */
    seen s;
    feed_in_pieces("d\t\t\tf\n", 3, '\t', &s);
    assert_int_equal(s.rows, 1);
    assert_int_equal(s.nf[0], 4);
}

static void test_times(void **state)
{
    (void)state;
    tt_ts t;
    assert_int_equal(tt_csv_time_parse("2019-02-04T10:00:00.123Z", TT_CSVT_ISO, &t), 0);
    assert_true(t == FEB4 + 10 * TT_NS_PER_HOUR + 123 * TT_NS_PER_MS);
    assert_int_equal(tt_csv_time_parse("2019.02.04 10:00:00.123456789", TT_CSVT_AUTO, &t), 0);
    assert_true(t == FEB4 + 10 * TT_NS_PER_HOUR + 123456789);
    /* HistData: compact date and time, milliseconds without a dot */
    assert_int_equal(tt_csv_time_parse("20190204 050000043", TT_CSVT_HISTDATA, &t), 0);
    assert_true(t == FEB4 + 5 * TT_NS_PER_HOUR + 43 * TT_NS_PER_MS);
    assert_int_equal(tt_csv_time_parse("20190204 050000", TT_CSVT_HISTDATA, &t), 0);
    assert_true(t == FEB4 + 5 * TT_NS_PER_HOUR);
    assert_int_equal(tt_csv_time_parse("2019-02-04", TT_CSVT_AUTO, &t), 0);
    assert_true(t == FEB4);
    assert_int_equal(tt_csv_time_parse("2019-02-04 10:30", TT_CSVT_AUTO, &t), 0);
    assert_true(t == FEB4 + 10 * TT_NS_PER_HOUR + 30 * TT_NS_PER_MIN);
    /* epochs by explicit format and by digit count */
    assert_int_equal(tt_csv_time_parse("1549238400123", TT_CSVT_EPOCH_MS, &t), 0);
    assert_true(t == FEB4 + 123 * TT_NS_PER_MS);
    assert_int_equal(tt_csv_time_parse("1549238400123", TT_CSVT_AUTO, &t), 0);
    assert_true(t == FEB4 + 123 * TT_NS_PER_MS);
    assert_int_equal(tt_csv_time_parse("1549238400", TT_CSVT_AUTO, &t), 0);
    assert_true(t == FEB4);
    assert_int_equal(tt_csv_time_parse("1549238400000000007", TT_CSVT_AUTO, &t), 0);
    assert_true(t == FEB4 + 7);
    assert_int_equal(tt_csv_time_parse("1549238400000007", TT_CSVT_EPOCH_US, &t), 0);
    assert_true(t == FEB4 + 7000);
    /* refused: out of range, overflow, calendar errors, trailing junk */
    static const char *const bad[] = {
        "2019-02-29", "2019-13-01", "2019-02-04T24:00", "2019-02-04T10:60",
        "2019-02-04 10:00:00.1234567890", "2019-02-04T10:00:00+02:00", "2019-02-04x",
        "20190204 0500", "99999999999999999999", "-5", "", "12:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tt_csv_time_parse(bad[i], TT_CSVT_AUTO, &t) == 0)
            fail_msg("accepted time '%s'", bad[i]);
    assert_int_not_equal(tt_csv_time_parse("9223372036854775807", TT_CSVT_EPOCH_MS, &t), 0);
    assert_int_equal(tt_csv_time_parse("2020-02-29", TT_CSVT_ISO, &t), 0); /* leap year */
    /* a date column and a clock column */
    assert_int_equal(tt_csv_datetime_parse("2019.02.04", "12:00:00.043", &t), 0);
    assert_true(t == FEB4 + 12 * TT_NS_PER_HOUR + 43 * TT_NS_PER_MS);
    assert_int_equal(tt_csv_datetime_parse("2019.02.04", "", &t), 0);
    assert_true(t == FEB4);
}

static void test_numbers(void **state)
{
    (void)state;
    tt_ts off;
    assert_int_equal(tt_csv_offset_parse("+02:00", &off), 0);
    assert_true(off == 2 * TT_NS_PER_HOUR);
    assert_int_equal(tt_csv_offset_parse("-0530", &off), 0);
    assert_true(off == -(5 * TT_NS_PER_HOUR + 30 * TT_NS_PER_MIN));
    assert_int_equal(tt_csv_offset_parse("-5", &off), 0);
    assert_true(off == -5 * TT_NS_PER_HOUR);
    assert_int_not_equal(tt_csv_offset_parse("+25:00", &off), 0);
    assert_int_not_equal(tt_csv_offset_parse("2h", &off), 0);

    int64_t v;
    assert_int_equal(tt_csv_int64_parse("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_not_equal(tt_csv_int64_parse("9223372036854775808", &v), 0);
    assert_int_not_equal(tt_csv_int64_parse("12a", &v), 0);

    double d;
    assert_int_equal(tt_csv_volume_parse("1.75", &d), 0);
    assert_true(d == 1.75);
    assert_int_not_equal(tt_csv_volume_parse("-1", &d), 0);
    assert_int_not_equal(tt_csv_volume_parse("nan", &d), 0);
    assert_int_not_equal(tt_csv_volume_parse("1e999", &d), 0);

    tt_instruments *t = tt_instruments_new();
    const tt_instrument *eur = tt_instruments_find(t, "EURUSD");
    tt_price p;
    tt_err err;
    assert_int_equal(tt_csv_price_parse(eur, "1.14452", &p, &err), 0);
    assert_true(p == 114452);
    assert_int_equal(tt_csv_price_parse(eur, "1.1445", &p, &err), 0);
    assert_true(p == 114450);
    /* finer than a point, and too many digits for int64 points: errors, never wrapped */
    assert_int_not_equal(tt_csv_price_parse(eur, "1.144521", &p, &err), 0);
    assert_int_not_equal(tt_csv_price_parse(eur, "123456789012345678901234", &p, &err), 0);
    assert_non_null(strstr(err.msg, "out of range"));
    tt_instruments_free(t);
}

static void test_mapping_errors(void **state)
{
    (void)state;
    tt_instruments *t = tt_instruments_new();
    tt_import_opts io = {0};
    io.instruments = t;
    tt_import *im;
    tt_err err;
    assert_int_equal(tt_import_new(&im, &io, &err), 0);
    tt_csv_opts o = {0};
    o.instrument = tt_instruments_find(t, "EURUSD");
    tt_csv_import *ci;
    static const char *const bad[] = {"time,bid", "time,bid,ask,bid", "bid,ask",
                                      "time,date,bid,ask", "time,foo"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.columns = bad[i];
        if (tt_csv_import_new(&ci, im, &o, &err) == 0)
            fail_msg("accepted mapping %s", bad[i]);
    }
    o.columns = "time,open,high,low,close"; /* bars need a timeframe */
    assert_int_equal(tt_csv_import_new(&ci, im, &o, &err), TT_EINVAL);
    o.tf = TT_TF_M1;
    assert_int_equal(tt_csv_import_new(&ci, im, &o, &err), 0);
    /* one good bar, one with low > high, one with a wrong field count: two bad rows */
    const char *text = "2019-02-04T10:00:00Z,1.1,1.2,1.0,1.1\n"
                       "2019-02-04T10:01:00Z,1.1,1.0,1.2,1.1\n"
                       "2019-02-04T10:02:00Z,1.1\n";
    assert_int_equal(tt_csv_import_mem(ci, text, strlen(text), &err), 0);
    tt_import_stats st;
    tt_import_get_stats(im, &st);
    assert_int_equal(st.rows, 3);
    assert_int_equal(st.bad_rows, 2);
    assert_int_equal(st.bars_written, 1);
    tt_csv_import_free(ci);
    tt_import_free(im);
    tt_instruments_free(t);
}

static void test_header_detection(void **state)
{
    (void)state;
    tt_instruments *t = tt_instruments_new();
    tt_import_opts io = {0};
    io.instruments = t;
    tt_csv_opts o = {0};
    o.instrument = tt_instruments_find(t, "EURUSD");
    o.columns = "time,bid,ask";
    o.header = -1;
    /* a header line is skipped (not a row); a malformed first data line is a bad row,
     * never taken for a header */
    static const struct {
        const char *text;
        uint64_t rows, bad, written;
    } cases[] = {
        {"time,bid,ask\n2019-02-04T10:00:00Z,1.1,1.2\n", 1, 0, 1},
        {"2019-02-04T10:00:00Z,1.1\n2019-02-04T10:00:01Z,1.1,1.2\n", 2, 1, 1},
        {"2019-02-04T10:00:00Z,1.1,1.2\n", 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tt_import *im;
        tt_csv_import *ci;
        tt_err err;
        assert_int_equal(tt_import_new(&im, &io, &err), 0);
        assert_int_equal(tt_csv_import_new(&ci, im, &o, &err), 0);
        assert_int_equal(tt_csv_import_mem(ci, cases[i].text, strlen(cases[i].text), &err), 0);
        tt_import_stats st;
        tt_import_get_stats(im, &st);
        assert_true(st.rows == cases[i].rows && st.bad_rows == cases[i].bad &&
                    st.ticks_written == cases[i].written);
        tt_csv_import_free(ci);
        tt_import_free(im);
    }
    tt_instruments_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_lines_and_recovery),
        cmocka_unit_test(test_reader_tabs_keep_empty_fields),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_mapping_errors),
        cmocka_unit_test(test_header_detection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
