/* HDF5 writer and reader: events written come back identical (prices in points,
 * float32 volumes bit for bit, bar fields), across several write batches and streams;
 * files in other layouts are refused with a clear message. (pandas and h5py reading
 * the same files is checked by tests/data/textimport_test.py, case hdf5.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/hdf5_io.h"

#define N_QUOTES 150000 /* more than two write batches of 65536 rows */

typedef struct check {
    const tt_instruments *ins;
    uint64_t quotes, bars, streams;
    int bad;
} check;

static tt_event quote_at(uint64_t i)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_QUOTE;
    ev.ts = 1549274400000000000LL + (int64_t)i * 7919;
    ev.u.quote.bid = 114000 + (int64_t)(i % 97);
    ev.u.quote.ask = ev.u.quote.bid + 3;
    ev.u.quote.bid_vol = (float)(i % 13) * 0.37f; /* not exact in decimal: bits must survive */
    ev.u.quote.ask_vol = 1.0f / (float)(1 + i % 7);
    return ev;
}

static int on_stream(void *ctx, const char *symbol, const tt_stream_desc *d, int64_t points,
                     uint64_t rows, tt_err *err)
{
    (void)err;
    check *c = ctx;
    c->streams++;
    if (!strcmp(symbol, "EURUSD")) {
        if (d->kind == TT_STREAM_QUOTE && (rows != N_QUOTES || points != 100000))
            c->bad++;
        if (d->kind == TT_STREAM_BAR && (rows != 2 || d->tf != TT_TF_H1 || d->side != TT_SIDE_ASK))
            c->bad++;
    } else if (strcmp(symbol, "USDJPY") || points != 1000) {
        c->bad++;
    }
    return 0;
}

static int on_event(void *ctx, const char *symbol, const tt_event *ev, uint64_t row, tt_err *err)
{
    (void)err;
    check *c = ctx;
    if (ev->kind == TT_EV_QUOTE && !strcmp(symbol, "EURUSD")) {
        tt_event want = quote_at(row);
        if (ev->ts != want.ts || ev->u.quote.bid != want.u.quote.bid ||
            ev->u.quote.ask != want.u.quote.ask ||
            memcmp(&ev->u.quote.bid_vol, &want.u.quote.bid_vol, sizeof(float)) ||
            memcmp(&ev->u.quote.ask_vol, &want.u.quote.ask_vol, sizeof(float)))
            c->bad++;
        c->quotes++;
    } else if (ev->kind == TT_EV_BAR) {
        const tt_bar *b = &ev->u.bar;
        if (b->open != 114000 + (int64_t)row || b->high != 114100 || b->low != 113900 ||
            b->close != 114050 || b->volume != 12.5 * (double)(row + 1) || b->ticks != 40 + row)
            c->bad++;
        c->bars++;
    } else if (ev->kind == TT_EV_QUOTE) {
        if (ev->u.quote.bid != 109870)
            c->bad++;
    }
    return 0;
}

static void test_roundtrip(void **state)
{
    (void)state;
    char path[] = "/tmp/tt_test_hdf5_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    tt_instruments *ins = tt_instruments_new();
    const tt_instrument *eur = tt_instruments_find(ins, "EURUSD");
    const tt_instrument *jpy = tt_instruments_find(ins, "USDJPY");
    tt_hdf5_writer *w;
    tt_err err;
    assert_int_equal(tt_hdf5_writer_open(&w, path, &err), 0);
    for (uint64_t i = 0; i < N_QUOTES; i++) {
        tt_event ev = quote_at(i);
        assert_int_equal(tt_hdf5_writer_append(w, eur, &ev, &err), 0);
        if (i == 1000) { /* streams interleave, as in a merged tape */
            tt_event j = ev;
            j.u.quote.bid = 109870;
            j.u.quote.ask = 109875;
            assert_int_equal(tt_hdf5_writer_append(w, jpy, &j, &err), 0);
            for (int k = 0; k < 2; k++) {
                tt_event b;
                memset(&b, 0, sizeof b);
                b.kind = TT_EV_BAR;
                b.ts = ev.ts + k * TT_NS_PER_HOUR;
                b.u.bar = (tt_bar){114000 + k, 114100, 113900, 114050, 12.5 * (k + 1),
                                   (uint32_t)(40 + k), TT_TF_H1, TT_SIDE_ASK};
                assert_int_equal(tt_hdf5_writer_append(w, eur, &b, &err), 0);
            }
            tt_event t;
            memset(&t, 0, sizeof t);
            t.kind = TT_EV_TIMER; /* not exported: counted as ignored */
            assert_int_equal(tt_hdf5_writer_append(w, eur, &t, &err), 0);
        }
    }
    uint64_t rows, ignored;
    assert_int_equal(tt_hdf5_writer_close(w, &rows, &ignored, &err), 0);
    assert_true(rows == N_QUOTES + 3);
    assert_true(ignored == 1);

    check c = {ins, 0, 0, 0, 0};
    tt_hdf5_visitor v = {on_stream, on_event, &c};
    assert_int_equal(tt_hdf5_read(path, &v, &err), 0);
    assert_int_equal(c.bad, 0);
    assert_true(c.streams == 3 && c.quotes == N_QUOTES && c.bars == 2);

    /* through the import pipeline (dry run): every row counted, the bars checked */
    tt_import_opts io = {0};
    io.instruments = ins;
    tt_import *im;
    assert_int_equal(tt_import_new(&im, &io, &err), 0);
    const char *only[] = {"USDJPY", NULL};
    tt_hdf5_import_opts ho = {only};
    assert_int_equal(tt_hdf5_import(im, path, &ho, &err), 0);
    tt_import_stats st;
    tt_import_get_stats(im, &st);
    assert_true(st.ticks_written == 1 && st.skipped_rows == N_QUOTES + 2 && st.bad_rows == 0);
    tt_import_free(im);

    /* an instrument table that disagrees on points is an error, not silent rescaling */
    tt_instrument odd = *jpy;
    odd.points = 100000;
    assert_int_equal(tt_instruments_put(ins, &odd, &err), 0);
    assert_int_equal(tt_import_new(&im, &io, &err), 0);
    assert_int_equal(tt_hdf5_import(im, path, &ho, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "points"));
    tt_import_free(im);
    tt_instruments_free(ins);
    unlink(path);
}

static void test_refused(void **state)
{
    (void)state;
    tt_err err;
    tt_hdf5_visitor v = {NULL, NULL, NULL};
    assert_int_equal(tt_hdf5_read("/nonexistent/x.h5", &v, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.h5"));
    /* a text file is not HDF5 */
    char path[] = "/tmp/tt_test_hdf5_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    close(fd);
    assert_int_equal(tt_hdf5_read(path, &v, &err), TT_EIO);
    /* an HDF5 file without ticktape's layout attribute */
    tt_hdf5_writer *w;
    assert_int_equal(tt_hdf5_writer_open(&w, path, &err), 0);
    assert_int_equal(tt_hdf5_writer_close(w, NULL, NULL, &err), 0);
    assert_int_equal(tt_hdf5_read(path, &v, &err), 0); /* empty but valid */
    unlink(path);
    assert_int_equal(tt_hdf5_writer_open(&w, "/nonexistent/dir/x.h5", &err), TT_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
