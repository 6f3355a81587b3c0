/* Polygon quotes and aggregates through the import pipeline into a real tape, read
 * back with the tape reader. Values are the first real EURUSD ticks of 2019-02-04
 * 10:00 UTC (tests/data/text/oracle_ticks.csv): 10:00:00.043, bid 1.14452, ask 1.14457. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/polygon.h"
#include "data/tape.h"

#define T0 1549274400043000000LL

static char *make_tape_dir(void)
{
    char *d = strdup("/tmp/tt_test_polygon_XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void remove_dir(const char *d)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
}

/* Read every event of one kind back from the tape (at most max). */
static int read_back(const char *dir, uint32_t kinds, const tt_instruments *ins, tt_event *out,
                     int max)
{
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.kinds = kinds;
    tt_tape_reader *r;
    tt_err err;
    if (tt_tape_reader_open(&r, dir, &q, ins, &err))
        fail_msg("reader: %s", err.msg);
    int n = 0;
    tt_event ev;
    while (tt_tape_reader_next(r, &ev, &err) == 1)
        if (n < max)
            out[n++] = ev;
    tt_tape_reader_close(r);
    return n;
}

static tt_import *pipeline(tt_instruments *ins, const char *dir)
{
    tt_import_opts o;
    memset(&o, 0, sizeof o);
    o.tape = dir;
    o.instruments = ins;
    tt_import *im;
    tt_err err;
    assert_int_equal(tt_import_new(&im, &o, &err), 0);
    return im;
}

static void test_quotes(void **state)
{
    (void)state;
    /* columns in another order than Polygon's, a row of another ticker (USDJPY, 3 digits),
     * a bad price (line 5), a bad timestamp (line 6), a short row (line 7) */
    const char *csv =
        "participant_timestamp,bid_price,ask_price,ticker,ask_exchange,bid_exchange\n"
        "1549274400043000000,1.14452,1.14457,C:EUR-USD,48,48\n"
        "1549274400209000000,1.14454,1.14455,C:EUR-USD,48,48\n"
        "1549274400300000000,109.870,109.875,C:USD-JPY,48,48\n"
        "1549274400400000000,1.14x,1.14455,C:EUR-USD,48,48\n"
        "soon,1.14454,1.14455,C:EUR-USD,48,48\n"
        "1549274400500000000,1.14454\n"
        "1549274400600000000,1.1445,1.1446,C:EUR-USD,48,48";
    char *dir = make_tape_dir();
    tt_instruments *ins = tt_instruments_new();
    tt_import *im = pipeline(ins, dir);
    tt_err err;
    assert_int_equal(tt_polygon_quotes_mem(im, "q.csv", csv, strlen(csv), NULL, &err), 0);
    assert_int_equal(tt_import_close(im, &err), 0);
    tt_import_stats st;
    tt_import_get_stats(im, &st);
    assert_int_equal(st.rows, 7);
    assert_int_equal(st.bad_rows, 3);
    assert_int_equal(st.ticks_written, 4);
    tt_import_free(im);

    tt_event ev[8];
    int n = read_back(dir, 1u << TT_STREAM_QUOTE, ins, ev, 8);
    assert_int_equal(n, 4);
    const tt_instrument *eur = tt_instruments_find(ins, "EURUSD");
    const tt_instrument *jpy = tt_instruments_find(ins, "USDJPY");
    assert_true(ev[0].ts == T0 && ev[0].symbol == eur->id);
    assert_true(ev[0].u.quote.bid == 114452 && ev[0].u.quote.ask == 114457);
    assert_true(ev[1].u.quote.bid == 114454 && ev[1].u.quote.ask == 114455);
    /* USDJPY has 1000 points per unit: 109.870 is 109870 */
    assert_true(ev[2].symbol == jpy->id && ev[2].u.quote.bid == 109870);
    /* "1.1445" has fewer decimals than the instrument: 114450, not 11445 */
    assert_true(ev[3].u.quote.bid == 114450 && ev[3].u.quote.ask == 114460);

    /* a symbol filter skips (and counts) the other ticker; an unknown ticker without
     * a filter stops the import with a message naming the file and line */
    remove_dir(dir);
    im = pipeline(ins, dir);
    const char *only[] = {"USDJPY", NULL};
    tt_polygon_opts o;
    memset(&o, 0, sizeof o);
    o.symbols = only;
    assert_int_equal(tt_polygon_quotes_mem(im, "q.csv", csv, strlen(csv), &o, &err), 0);
    tt_import_get_stats(im, &st);
    assert_int_equal(st.ticks_written, 1);
    assert_int_equal(st.skipped_rows, 5);
    tt_import_free(im);

    const char *unknown = "ticker,bid_price,ask_price,participant_timestamp\nC:ABC-XYZ,1,2,3\n";
    im = pipeline(ins, dir);
    assert_int_equal(tt_polygon_quotes_mem(im, "u.csv", unknown, strlen(unknown), NULL, &err),
                     TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "u.csv:2"));
    assert_non_null(strstr(err.msg, "declare"));
    tt_import_free(im);

    const char *noheader = "C:EUR-USD,48,1.1,48,1.0,1549274400043000000\n";
    im = pipeline(ins, dir);
    assert_int_equal(tt_polygon_quotes_mem(im, "h.csv", noheader, strlen(noheader), NULL, &err),
                     TT_EFORMAT);
    assert_non_null(strstr(err.msg, "header"));
    tt_import_free(im);
    tt_instruments_free(ins);
    remove_dir(dir);
    free(dir);
}

static void test_aggs(void **state)
{
    (void)state;
    /* the first real M1 BID candle of 10:00 (oracle_bars.csv: 114452 114455 114430 114436),
     * a result with high < low (bad), one with a missing close (bad), one with an exponent
     * price that is a whole number of points (1.1444e0 = 114440). */
    const char *json =
        "{\"ticker\":\"C:EURUSD\",\"status\":\"OK\",\"results\":[\n"
        "{\"v\":6481,\"vw\":1.14444,\"o\":1.14452,\"c\":1.14436,\"h\":1.14455,\"l\":1.1443,"
        "\"t\":1549274400000,\"n\":6481},\n"
        "{\"o\":1.1,\"c\":1.1,\"h\":1.0,\"l\":1.2,\"t\":1549274460000},\n"
        "{\"o\":1.1,\"h\":1.2,\"l\":1.0,\"t\":1549274520000},\n"
        "{\"o\":1.1444e0,\"c\":1.1444,\"h\":1.1444,\"l\":1.1444,\"t\":1549274580000,\"v\":1}\n"
        "]}";
    char *dir = make_tape_dir();
    tt_instruments *ins = tt_instruments_new();
    tt_import *im = pipeline(ins, dir);
    tt_polygon_opts o;
    memset(&o, 0, sizeof o);
    o.tf = TT_TF_M1;
    o.side = TT_SIDE_BID;
    tt_err err;
    assert_int_equal(tt_polygon_aggs_mem(im, "a.json", json, strlen(json), &o, &err), 0);
    assert_int_equal(tt_import_close(im, &err), 0);
    tt_import_stats st;
    tt_import_get_stats(im, &st);
    assert_int_equal(st.rows, 4);
    assert_int_equal(st.bad_rows, 2);
    assert_int_equal(st.bars_written, 2);
    tt_import_free(im);
    tt_event ev[4];
    int n = read_back(dir, 1u << TT_STREAM_BAR, ins, ev, 4);
    assert_int_equal(n, 2);
    const tt_bar *b = &ev[0].u.bar;
    assert_true(ev[0].ts == 1549274400000LL * TT_NS_PER_MS);
    assert_true(b->open == 114452 && b->high == 114455 && b->low == 114430 && b->close == 114436);
    assert_true(b->volume == 6481.0 && b->ticks == 6481 && b->tf == TT_TF_M1);
    assert_true(ev[1].u.bar.open == 114440);

    /* an error response, a non-JSON body, no timeframe */
    const char *errjson = "{\"status\":\"ERROR\",\"error\":\"Unknown API Key\"}";
    im = pipeline(ins, dir);
    assert_int_equal(tt_polygon_aggs_mem(im, "e.json", errjson, strlen(errjson), &o, &err),
                     TT_EFORMAT);
    assert_non_null(strstr(err.msg, "Unknown API Key"));
    assert_int_equal(tt_polygon_aggs_mem(im, "x.json", "{\"results\":[}", 13, &o, &err),
                     TT_EFORMAT);
    assert_non_null(strstr(err.msg, "x.json: line 1, column 13"));
    o.tf = TT_TF_NONE;
    assert_int_equal(tt_polygon_aggs_mem(im, "a.json", json, strlen(json), &o, &err), TT_EINVAL);
    tt_import_free(im);
    tt_instruments_free(ins);
    remove_dir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_aggs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
