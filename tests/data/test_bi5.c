/*
 * bi5 decoding: real Dukascopy files against values read independently with
 * Python's lzma + struct (numbers in the comments), and hand-built LZMA-alone
 * streams (liblzma's encoder) for the defects: truncated records, truncated
 * streams, bad headers, offsets past the hour, inverted candles.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dukascopy.h"

static uint8_t *slurp(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/dukascopy/%s", TT_TESTDATA, rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* LZMA-alone encode `raw` (what Dukascopy's files are). Caller frees. */
static uint8_t *lzma_alone(const uint8_t *raw, size_t n, size_t *out_len)
{
    lzma_options_lzma opt;
    assert_false(lzma_lzma_preset(&opt, 6));
    lzma_stream s = LZMA_STREAM_INIT;
    assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
    size_t cap = n * 2 + 1024;
    uint8_t *out = malloc(cap);
    s.next_in = raw;
    s.avail_in = n;
    s.next_out = out;
    s.avail_out = cap;
    assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
    *out_len = (size_t)s.total_out;
    lzma_end(&s);
    return out;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_tick(uint8_t *p, uint32_t ms, uint32_t ask, uint32_t bid, uint32_t askv_bits,
                     uint32_t bidv_bits)
{
    put_be32(p, ms);
    put_be32(p + 4, ask);
    put_be32(p + 8, bid);
    put_be32(p + 12, askv_bits);
    put_be32(p + 16, bidv_bits);
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* 2019-02-04 00h: Python says 3733 ticks; first (994 ms, ask 114545, bid 114543,
 * askvol 1.0, bidvol bits 1073993482 = 2.06f); last (3599808, 114559, 114555,
 * bits 1082382090 = 4.12f, 1.0). */
static void test_real_hour(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = slurp("EURUSD/2019/01/04/00h_ticks.bi5", &len);
    assert_int_equal(len, 20343);
    tt_bi5_buf buf = {0};
    tt_err err;
    tt_ts hour = tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0);
    assert_int_equal(tt_bi5_decode_ticks(b, len, hour, 7, 100, &buf, &err), TT_OK);
    assert_int_equal(buf.ev_len, 3733);
    const tt_event *e = &buf.ev[0];
    assert_int_equal(e->kind, TT_EV_QUOTE);
    assert_int_equal(e->symbol, 7);
    assert_int_equal(e->seq, 100);
    assert_int_equal(e->ts, hour + 994 * TT_NS_PER_MS);
    assert_int_equal(e->ts_init, e->ts);
    assert_int_equal(e->u.quote.ask, 114545);
    assert_int_equal(e->u.quote.bid, 114543);
    assert_int_equal(fbits(e->u.quote.ask_vol), 1065353216u);
    assert_int_equal(fbits(e->u.quote.bid_vol), 1073993482u);
    e = &buf.ev[3732];
    assert_int_equal(e->ts, hour + 3599808 * TT_NS_PER_MS);
    assert_int_equal(e->u.quote.ask, 114559);
    assert_int_equal(e->u.quote.bid, 114555);
    assert_int_equal(fbits(e->u.quote.ask_vol), 1082382090u);
    assert_int_equal(fbits(e->u.quote.bid_vol), 1065353216u);
    /* The scratch is reused: a second, bigger file decodes into the same buffers.
     * 10h: 8438 ticks, last (3599879, 114469, 114465, 5.25, 1.0). */
    size_t len2;
    uint8_t *b2 = slurp("EURUSD/2019/01/04/10h_ticks.bi5", &len2);
    tt_ts h10 = tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0);
    assert_int_equal(tt_bi5_decode_ticks(b2, len2, h10, 1, 0, &buf, &err), TT_OK);
    assert_int_equal(buf.ev_len, 8438);
    assert_int_equal(buf.ev[8437].ts, h10 + 3599879 * TT_NS_PER_MS);
    assert_true(buf.ev[8437].u.quote.ask_vol == 5.25f);
    /* Truncated file: every proper prefix is an error, never a short success. */
    size_t cuts[] = {1, 12, 13, 100, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        int rc = tt_bi5_decode_ticks(b, cuts[i], hour, 1, 0, &buf, &err);
        assert_int_equal(rc, TT_EFORMAT);
        assert_non_null(strstr(err.msg, "truncated"));
    }
    tt_bi5_buf_free(&buf);
    free(b);
    free(b2);
}

/* 2019-02-04 M1 BID candles: Python says 1440 records; the first is (0 s, O 114543,
 * C 114569, L 114542, H 114570, vol 293.76f); the last at 86340 s. */
static void test_real_candles(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = slurp("EURUSD/2019/01/04/BID_candles_min_1.bi5", &len);
    tt_bi5_buf buf = {0};
    tt_err err;
    tt_ts day = tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0);
    assert_int_equal(tt_bi5_decode_candles(b, len, day, TT_TF_M1, TT_SIDE_BID, 3, 0, &buf, &err),
                     TT_OK);
    assert_int_equal(buf.ev_len, 1440);
    const tt_bar *bar = &buf.ev[0].u.bar;
    assert_int_equal(buf.ev[0].kind, TT_EV_BAR);
    assert_int_equal(buf.ev[0].ts, day);
    assert_int_equal(bar->open, 114543);
    assert_int_equal(bar->close, 114569);
    assert_int_equal(bar->low, 114542);
    assert_int_equal(bar->high, 114570);
    assert_true(bar->volume == (double)293.76f);
    assert_int_equal(bar->tf, TT_TF_M1);
    assert_int_equal(bar->side, TT_SIDE_BID);
    assert_int_equal(buf.ev[1439].ts, day + 86340 * TT_NS_PER_SEC);
    /* Yearly D1 file of 2018: 365 candles, the first (0, O 120102, C 120106, L 120007, H 120166). */
    size_t l2;
    uint8_t *b2 = slurp("EURUSD/2018/BID_candles_day_1.bi5", &l2);
    tt_ts y = tt_ts_from_civil(2018, 1, 1, 0, 0, 0, 0);
    assert_int_equal(tt_bi5_decode_candles(b2, l2, y, TT_TF_D1, TT_SIDE_BID, 3, 0, &buf, &err), TT_OK);
    assert_int_equal(buf.ev_len, 365);
    assert_int_equal(buf.ev[0].u.bar.close, 120106);
    assert_int_equal(buf.ev[0].u.bar.high, 120166);
    assert_int_equal(buf.ev[364].ts, y + 364 * TT_NS_PER_DAY);
    tt_bi5_buf_free(&buf);
    free(b);
    free(b2);
}

static void test_empty_and_garbage(void **state)
{
    (void)state;
    tt_bi5_buf buf = {0};
    tt_err err;
    size_t len;
    uint8_t *e = slurp("empty.bi5", &len);
    assert_int_equal(len, 0);
    assert_int_equal(tt_bi5_decode_ticks(e, 0, 0, 1, 0, &buf, &err), TT_OK);
    assert_int_equal(buf.ev_len, 0);
    free(e);
    /* Not LZMA at all. */
    uint8_t junk[64];
    for (int i = 0; i < 64; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    junk[0] = 0xFF; /* invalid properties byte */
    assert_int_equal(tt_bi5_decode_ticks(junk, sizeof junk, 0, 1, 0, &buf, &err), TT_EFORMAT);
    /* A header that claims 2^40 bytes is refused before any allocation. */
    uint8_t hdr[13] = {0x5d, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 1, 0, 0};
    assert_int_equal(tt_bi5_decode_ticks(hdr, sizeof hdr, 0, 1, 0, &buf, &err), TT_EFORMAT);
    tt_bi5_buf_free(&buf);
}

static void test_synthetic_records(void **state)
{
    (void)state;
    uint8_t raw[3 * 20 + 1];
    /* Two ticks in the same ms, then one at the last ms of the hour. A NaN payload
     * and a negative zero volume must come back bit for bit. */
    put_tick(raw, 0, 150000, 149990, fbits(0.75f), 0x7fc00123u);
    put_tick(raw + 20, 0, 150001, 149991, 0x80000000u, fbits(1e-3f));
    put_tick(raw + 40, 3599999, 10, 9, fbits(3.5f), fbits(2.25f));
    size_t zl;
    uint8_t *z = lzma_alone(raw, 60, &zl);
    tt_bi5_buf buf = {0};
    tt_err err;
    tt_ts h = tt_ts_from_civil(2020, 3, 1, 23, 0, 0, 0);
    assert_int_equal(tt_bi5_decode_ticks(z, zl, h, 2, 0, &buf, &err), TT_OK);
    assert_int_equal(buf.ev_len, 3);
    assert_int_equal(buf.ev[0].ts, h);
    assert_int_equal(buf.ev[1].ts, h);
    assert_int_equal(buf.ev[2].ts, h + 3599999 * TT_NS_PER_MS);
    assert_int_equal(fbits(buf.ev[0].u.quote.bid_vol), 0x7fc00123u);
    assert_int_equal(fbits(buf.ev[1].u.quote.ask_vol), 0x80000000u);
    assert_int_equal(buf.ev[1].u.quote.bid, 149991);
    assert_int_equal(buf.ev[2].u.quote.ask, 10);
    /* Trailing bytes after the stream. */
    uint8_t *z2 = malloc(zl + 3);
    memcpy(z2, z, zl);
    memset(z2 + zl, 0, 3);
    assert_int_equal(tt_bi5_decode_ticks(z2, zl + 3, h, 2, 0, &buf, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "trailing"));
    free(z2);
    free(z);
    /* A partial record (61 bytes). */
    z = lzma_alone(raw, 61, &zl);
    assert_int_equal(tt_bi5_decode_ticks(z, zl, h, 2, 0, &buf, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "20-byte"));
    free(z);
    /* An offset past the hour (3600000 ms), record 1. */
    put_tick(raw + 20, 3600000, 1, 1, 0, 0);
    z = lzma_alone(raw, 60, &zl);
    assert_int_equal(tt_bi5_decode_ticks(z, zl, h, 2, 0, &buf, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "record 1"));
    free(z);
    tt_bi5_buf_free(&buf);
}

static void test_synthetic_candles(void **state)
{
    (void)state;
    uint8_t raw[48];
    /* t=60 s, O=105, C=102, L=100, H=110, vol 12.5: mapped to O/H/L/C = 105/110/100/102. */
    put_be32(raw, 60);
    put_be32(raw + 4, 105);
    put_be32(raw + 8, 102);
    put_be32(raw + 12, 100);
    put_be32(raw + 16, 110);
    put_be32(raw + 20, fbits(12.5f));
    /* An inverted candle: low 120 above high 110. */
    put_be32(raw + 24, 120);
    put_be32(raw + 28, 115);
    put_be32(raw + 32, 115);
    put_be32(raw + 36, 120);
    put_be32(raw + 40, 110);
    put_be32(raw + 44, 0);
    size_t zl;
    uint8_t *z = lzma_alone(raw, 24, &zl);
    tt_bi5_buf buf = {0};
    tt_err err;
    assert_int_equal(tt_bi5_decode_candles(z, zl, 0, TT_TF_M1, TT_SIDE_ASK, 1, 0, &buf, &err), TT_OK);
    assert_int_equal(buf.ev_len, 1);
    assert_int_equal(buf.ev[0].ts, 60 * TT_NS_PER_SEC);
    assert_int_equal(buf.ev[0].u.bar.open, 105);
    assert_int_equal(buf.ev[0].u.bar.high, 110);
    assert_int_equal(buf.ev[0].u.bar.low, 100);
    assert_int_equal(buf.ev[0].u.bar.close, 102);
    assert_true(buf.ev[0].u.bar.volume == 12.5);
    assert_int_equal(buf.ev[0].u.bar.side, TT_SIDE_ASK);
    free(z);
    z = lzma_alone(raw, 48, &zl);
    assert_int_equal(tt_bi5_decode_candles(z, zl, 0, TT_TF_M1, TT_SIDE_ASK, 1, 0, &buf, &err),
                     TT_EFORMAT);
    assert_non_null(strstr(err.msg, "record 1"));
    free(z);
    tt_bi5_buf_free(&buf);
}

static void test_paths(void **state)
{
    (void)state;
    char p[256];
    tt_ts t = tt_ts_from_civil(2019, 2, 4, 10, 30, 0, 0);
    tt_duka_tick_path(p, sizeof p, "EURUSD", t);
    assert_string_equal(p, "EURUSD/2019/01/04/10h_ticks.bi5"); /* month 00-based */
    tt_duka_tick_path(p, sizeof p, "USDJPY", tt_ts_from_civil(2020, 1, 9, 0, 0, 0, 0));
    assert_string_equal(p, "USDJPY/2020/00/09/00h_ticks.bi5");
    tt_ts start;
    assert_int_equal(tt_duka_candle_path(p, sizeof p, "EURUSD", TT_TF_M1, TT_SIDE_BID, t, &start), 0);
    assert_string_equal(p, "EURUSD/2019/01/04/BID_candles_min_1.bi5");
    assert_int_equal(start, tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0));
    assert_int_equal(tt_duka_candle_path(p, sizeof p, "EURUSD", TT_TF_H1, TT_SIDE_ASK, t, &start), 0);
    assert_string_equal(p, "EURUSD/2019/01/ASK_candles_hour_1.bi5");
    assert_int_equal(start, tt_ts_from_civil(2019, 2, 1, 0, 0, 0, 0));
    assert_int_equal(tt_duka_candle_path(p, sizeof p, "EURUSD", TT_TF_D1, TT_SIDE_BID, t, &start), 0);
    assert_string_equal(p, "EURUSD/2019/BID_candles_day_1.bi5");
    assert_int_equal(start, tt_ts_from_civil(2019, 1, 1, 0, 0, 0, 0));
    assert_int_equal(tt_duka_candle_path(p, sizeof p, "EURUSD", TT_TF_M5, TT_SIDE_BID, t, &start),
                     TT_EINVAL);
}

/* Mutations of a real file (seeded bit flips, byte overwrites, cuts): each
 * decode either fails with TT_EFORMAT or yields whole records inside the hour;
 * never a crash (this runs under ASan/UBSan in the sanitizer build). LZMA
 * alone has no checksum, so some mutations decode "successfully" to other
 * numbers: that is why a corrupt file is only caught when it breaks the
 * stream or the record layout. */
static void test_mutations(void **state)
{
    (void)state;
    size_t len;
    uint8_t *orig = slurp("EURUSD/2019/01/05/22h_ticks.bi5", &len); /* the smallest, 7468 bytes */
    uint8_t *b = malloc(len);
    tt_bi5_buf buf = {0};
    tt_err err;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int ok = 0, bad = 0;
    for (int iter = 0; iter < 400; iter++) {
        memcpy(b, orig, len);
        size_t n = len;
        for (int k = 0; k < 1 + iter % 4; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            size_t at = (size_t)(x % len);
            switch ((x >> 32) % 3) {
            case 0: b[at] ^= (uint8_t)(1u << ((x >> 40) % 8)); break;
            case 1: b[at] = (uint8_t)(x >> 48); break;
            default: if (at > 0) n = at; break;
            }
        }
        tt_ts h = 1000 * TT_NS_PER_HOUR;
        int rc = tt_bi5_decode_ticks(b, n, h, 1, 0, &buf, &err);
        if (rc == TT_OK) {
            ok++;
            for (size_t i = 0; i < buf.ev_len; i++)
                assert_true(buf.ev[i].ts >= h && buf.ev[i].ts < h + TT_NS_PER_HOUR);
        } else {
            bad++;
            assert_true(rc == TT_EFORMAT || rc == TT_ENOMEM);
            assert_true(err.msg[0] != '\0');
        }
    }
    assert_int_equal(ok + bad, 400);
    assert_true(bad > 0);
    tt_bi5_buf_free(&buf);
    free(b);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_hour),         cmocka_unit_test(test_real_candles),
        cmocka_unit_test(test_empty_and_garbage), cmocka_unit_test(test_synthetic_records),
        cmocka_unit_test(test_synthetic_candles), cmocka_unit_test(test_paths),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
