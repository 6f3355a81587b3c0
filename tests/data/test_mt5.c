/* MetaTrader 5 exports: UTF-16LE decoding, empty sides carried forward, server time
 * offset, bar exports, and what is refused. Server time is UTC+2: 12:00:00.043 on the
 * server is 10:00:00.043 UTC = 1549274400043 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/mt5.h"
#include "data/tape.h"

static char *make_tape_dir(void)
{
    char *d = strdup("/tmp/tt_test_mt5_XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void remove_dir(const char *d)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
}

/* ASCII -> UTF-16LE with a byte order mark. */
static size_t utf16(const char *s, char *out)
{
    size_t o = 0;
    out[o++] = (char)0xFF;
    out[o++] = (char)0xFE;
    for (; *s; s++) {
        out[o++] = *s;
        out[o++] = 0;
    }
    return o;
}

static int import(tt_instruments *ins, const char *dir, const char *buf, size_t len, int tf,
                  tt_import_stats *st, tt_err *err)
{
    tt_import_opts io;
    memset(&io, 0, sizeof io);
    io.tape = dir;
    io.instruments = ins;
    tt_import *im;
    assert_int_equal(tt_import_new(&im, &io, err), 0);
    tt_mt5_opts o;
    memset(&o, 0, sizeof o);
    o.instrument = tt_instruments_find(ins, "EURUSD");
    o.utc_offset = 2 * TT_NS_PER_HOUR;
    o.tf = (uint8_t)tf;
    int rc = tt_mt5_import_mem(im, "mt5.csv", buf, len, &o, err);
    if (!rc)
        rc = tt_import_close(im, err);
    tt_import_get_stats(im, st);
    tt_import_free(im);
    return rc;
}

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

static void test_ticks_utf16(void **state)
{
    (void)state;
    /* row 3 has only a new bid (ask carried), row 4 only a new ask (bid carried),
     * row 5 a bad date, row 6 the wrong number of fields */
    const char *text = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\r\n"
                       "2019.02.04\t12:00:00.043\t1.14452\t1.14457\t\t\t6\r\n"
                       "2019.02.04\t12:00:00.261\t1.14450\t\t\t\t2\r\n"
                       "2019.02.04\t12:00:00.313\t\t1.14456\t\t\t4\r\n"
                       "2019.02.31\t12:00:00.400\t1.1\t1.2\t\t\t6\r\n"
                       "2019.02.04\t12:00:00.500\t1.1\r\n";
    char buf[2048];
    size_t len = utf16(text, buf);
    char *dir = make_tape_dir();
    tt_instruments *ins = tt_instruments_new();
    tt_import_stats st;
    tt_err err;
    assert_int_equal(import(ins, dir, buf, len, TT_TF_NONE, &st, &err), 0);
    assert_int_equal(st.rows, 5);
    assert_int_equal(st.bad_rows, 2);
    tt_event ev[8];
    int n = read_back(dir, 1u << TT_STREAM_QUOTE, ins, ev, 8);
    assert_int_equal(n, 3);
    assert_true(ev[0].ts == 1549274400043LL * TT_NS_PER_MS);
    assert_true(ev[0].u.quote.bid == 114452 && ev[0].u.quote.ask == 114457);
    assert_true(ev[1].u.quote.bid == 114450 && ev[1].u.quote.ask == 114457);
    assert_true(ev[2].u.quote.bid == 114450 && ev[2].u.quote.ask == 114456);
    tt_instruments_free(ins);
    remove_dir(dir);
    free(dir);
}

static void test_first_tick_needs_both_sides(void **state)
{
    (void)state;
    /* UTF-8 with a BOM this time; the first tick has no ask and nothing to carry */
    const char *text = "\xEF\xBB\xBF<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n"
                       "2019.02.04\t12:00:00.043\t1.14452\t\t\t\t2\n"
                       "2019.02.04\t12:00:00.050\t1.14452\t1.14457\t\t\t6\n";
    char *dir = make_tape_dir();
    tt_instruments *ins = tt_instruments_new();
    tt_import_stats st;
    tt_err err;
    assert_int_equal(import(ins, dir, text, strlen(text), TT_TF_NONE, &st, &err), 0);
    assert_int_equal(st.bad_rows, 1);
    assert_int_equal(st.ticks_written, 1);
    tt_instruments_free(ins);
    remove_dir(dir);
    free(dir);
}

static void test_bars(void **state)
{
    (void)state;
    /* the first real M1 candle of 10:00 UTC (12:00 server time) and one out of order */
    const char *text = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
                       "2019.02.04\t12:00:00\t1.14452\t1.14455\t1.14430\t1.14436\t648\t0\t3\n"
                       "2019.02.04\t11:59:00\t1.14452\t1.14455\t1.14430\t1.14436\t648\t0\t3\n";
    char buf[2048];
    size_t len = utf16(text, buf);
    char *dir = make_tape_dir();
    tt_instruments *ins = tt_instruments_new();
    tt_import_stats st;
    tt_err err;
    /* a bar export without a timeframe is refused before anything is written */
    assert_int_equal(import(ins, dir, buf, len, TT_TF_NONE, &st, &err), TT_EINVAL);
    assert_int_equal(import(ins, dir, buf, len, TT_TF_M1, &st, &err), 0);
    /* the bid bar and, from <SPREAD> (3 points), its ask bar; the late row makes neither */
    assert_int_equal(st.bars_written, 2);
    assert_int_equal(st.bad_rows, 1);
    tt_event ev[4];
    assert_int_equal(read_back(dir, 1u << TT_STREAM_BAR, ins, ev, 4), 2);
    for (int i = 0; i < 2; i++) {
        const tt_bar *b = &ev[i].u.bar;
        tt_price d = b->side == TT_SIDE_ASK ? 3 : 0;
        assert_true(ev[i].ts == 1549274400LL * TT_NS_PER_SEC);
        assert_true(b->open == 114452 + d && b->high == 114455 + d && b->low == 114430 + d &&
                    b->close == 114436 + d);
        assert_true(b->ticks == 648 && b->volume == 0.0);
    }
    assert_int_not_equal(ev[0].u.bar.side, ev[1].u.bar.side);
    /* a spread finer than the instrument's points (4 decimals written, 0.5 point
     * of ours) keeps the bid bar and reports the row; an empty one makes no ask bar */
    const char *fine = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<SPREAD>\n"
                       "2019.02.05\t12:00:00\t1.144520\t1.144550\t1.144300\t1.144360\t5\n"
                       "2019.02.05\t12:01:00\t1.14452\t1.14455\t1.14430\t1.14436\t\n";
    char *dir2 = make_tape_dir();
    assert_int_equal(import(ins, dir2, fine, strlen(fine), TT_TF_M1, &st, &err), 0);
    assert_int_equal(st.bars_written, 2);
    assert_int_equal(st.bad_rows, 1);
    assert_int_equal(read_back(dir2, 1u << TT_STREAM_BAR, ins, ev, 4), 2);
    assert_int_equal(ev[0].u.bar.side, TT_SIDE_BID);
    assert_int_equal(ev[1].u.bar.side, TT_SIDE_BID);
    remove_dir(dir2);
    free(dir2);
    /* not an MT5 export */
    const char *other = "time,bid,ask\n1,2,3\n";
    assert_int_equal(import(ins, dir, other, strlen(other), TT_TF_M1, &st, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "mt5.csv:1: not a MetaTrader 5 export"));
    tt_instruments_free(ins);
    remove_dir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks_utf16),
        cmocka_unit_test(test_first_tick_needs_both_sides),
        cmocka_unit_test(test_bars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
