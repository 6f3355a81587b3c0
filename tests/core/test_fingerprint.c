/*
 * The run fingerprint (core/fingerprint.h): XXH3-128 over the canonical
 * encodings of the outputs, in order.
 *
 * The state buffers the encodings and hashes them a few kilobytes at a time.
 * What is checked, against libxxhash's one-shot XXH3_128bits over the same
 * bytes (an outside oracle for the hash, and the definition of the
 * fingerprint): events of every kind, blobs of every size, raw updates
 * small and larger than the buffer interleaved with them, digests taken
 * midway (which must not disturb what follows), reset, and the stamped
 * update that tt_engine_emit uses (equal to the update of a stamped copy).
 * The encoding itself is checked field by field for one event of each kind:
 * little-endian, at the offsets the decoder reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/fingerprint.h"

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s;
}

static uint8_t blob_bytes[9000];

/* A random event of a random kind; blobs point into blob_bytes. */
static void random_event(uint64_t *s, tt_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = (uint8_t)(1 + lcg(s) % (TT_EV_KIND_COUNT - 1));
    ev->ts = (tt_ts)lcg(s);
    ev->ts_init = (tt_ts)lcg(s);
    ev->seq = lcg(s);
    ev->symbol = (uint32_t)lcg(s);
    ev->source = (uint16_t)lcg(s);
    ev->cls = (uint8_t)lcg(s);
    for (size_t i = 0; i < sizeof ev->u.raw; i++)
        ev->u.raw[i] = (uint8_t)(lcg(s) >> 56);
    if (ev->kind == TT_EV_BLOB || ev->kind == TT_EV_EXTERNAL) {
        uint64_t r = lcg(s) % 4;
        ev->u.blob.len = (uint32_t)(r == 0 ? 0 : r == 1 ? lcg(s) % 40 : lcg(s) % 9000);
        ev->u.blob.data = blob_bytes + lcg(s) % 8;
        if (ev->u.blob.len > sizeof blob_bytes - 8)
            ev->u.blob.len = sizeof blob_bytes - 8;
    }
}

typedef struct ref {
    uint8_t *p;
    size_t n, cap;
} ref;

static void ref_add(ref *r, const void *p, size_t n)
{
    if (r->n + n > r->cap) {
        r->cap = (r->n + n) * 2;
        r->p = realloc(r->p, r->cap);
        assert_non_null(r->p);
    }
    memcpy(r->p + r->n, p, n);
    r->n += n;
}

static void ref_event(ref *r, const tt_event *ev)
{
    uint8_t buf[TT_EVENT_ENCODED_MAX + 9000];
    size_t n = tt_event_encode(ev, buf, 1);
    ref_add(r, buf, n);
}

static void expect_hash(const tt_fp_state *s, const ref *r)
{
    XXH128_hash_t h = XXH3_128bits(r->p, r->n);
    tt_fingerprint fp = tt_fp_digest(s);
    assert_true(fp.hi == h.high64 && fp.lo == h.low64);
}

static void test_stream_equals_one_shot(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof blob_bytes; i++)
        blob_bytes[i] = (uint8_t)(i * 131 + 7);
    uint64_t s = 2024;
    tt_fp_state *fp = tt_fp_new();
    ref r = {0};
    expect_hash(fp, &r); /* the empty stream */
    for (int i = 0; i < 20000; i++) {
        tt_event ev;
        random_event(&s, &ev);
        uint64_t what = lcg(&s) % 16;
        if (what == 0) { /* raw bytes: small, or more than the buffer holds */
            size_t n = lcg(&s) % 3 == 0 ? 3000 + lcg(&s) % 6000 : lcg(&s) % 100;
            tt_fp_update(fp, blob_bytes, n);
            ref_add(&r, blob_bytes, n);
        } else if (what == 1) { /* stamped as an output */
            tt_ts ts = (tt_ts)lcg(&s), ts_init = (tt_ts)lcg(&s);
            uint64_t seq = lcg(&s);
            uint8_t cls = (uint8_t)lcg(&s);
            tt_fp_update_stamped(fp, &ev, ts, ts_init, seq, cls);
            ev.ts = ts;
            ev.ts_init = ts_init;
            ev.seq = seq;
            ev.cls = cls;
            ref_event(&r, &ev);
        } else {
            tt_fp_update_event(fp, &ev);
            ref_event(&r, &ev);
        }
        if (lcg(&s) % 500 == 0)
            expect_hash(fp, &r); /* a digest midway changes nothing after it */
    }
    expect_hash(fp, &r);
    expect_hash(fp, &r);
    tt_fp_reset(fp);
    r.n = 0;
    expect_hash(fp, &r);
    tt_event ev;
    random_event(&s, &ev);
    tt_fp_update_event(fp, &ev);
    ref_event(&r, &ev);
    expect_hash(fp, &r);
    free(r.p);
    tt_fp_free(fp);
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The header and a quote's and an equity point's payload, byte by byte. */
static void test_encoding_is_little_endian(void **state)
{
    (void)state;
    tt_event ev;
    memset(&ev, 0xAB, sizeof ev);
    ev.ts = 0x0102030405060708LL;
    ev.ts_init = -2;
    ev.seq = 0x1122334455667788ULL;
    ev.symbol = 0xA1B2C3D4u;
    ev.source = 0xBEEF;
    ev.kind = TT_EV_QUOTE;
    ev.cls = 3;
    ev.u.quote.bid = 114427;
    ev.u.quote.ask = -114430;
    ev.u.quote.bid_vol = 1.5f;
    ev.u.quote.ask_vol = -0.25f;
    uint8_t b[TT_EVENT_ENCODED_MAX];
    assert_int_equal(tt_event_encode(&ev, b, 0), 8 + 8 + 8 + 4 + 2 + 1 + 1 + 8 + 8 + 4 + 4);
    assert_true(le(b, 8) == 0x0102030405060708ULL && b[0] == 0x08);
    assert_true(le(b + 8, 8) == (uint64_t)-2);
    assert_true(le(b + 16, 8) == 0x1122334455667788ULL);
    assert_true(le(b + 24, 4) == 0xA1B2C3D4u && le(b + 28, 2) == 0xBEEF);
    assert_true(b[30] == TT_EV_QUOTE && b[31] == 3);
    assert_true(le(b + 32, 8) == 114427 && le(b + 40, 8) == (uint64_t)-114430);
    assert_true(le(b + 48, 4) == 0x3FC00000u && le(b + 52, 4) == 0xBE800000u);
    tt_event back;
    assert_int_equal(tt_event_decode(b, 56, &back), 56);
    assert_true(back.ts == ev.ts && back.u.quote.ask == ev.u.quote.ask &&
                back.u.quote.ask_vol == ev.u.quote.ask_vol);
    ev.kind = TT_EV_EQUITY;
    ev.u.equity.balance = 1;
    ev.u.equity.equity = -1;
    ev.u.equity.margin = 0x7FFFFFFFFFFFFFFFLL;
    ev.u.equity.free_margin = 256;
    assert_int_equal(tt_event_encode(&ev, b, 0), 32 + 32);
    assert_true(le(b + 32, 8) == 1 && le(b + 40, 8) == UINT64_MAX);
    assert_true(le(b + 48, 8) == 0x7FFFFFFFFFFFFFFFULL && le(b + 56, 8) == 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_equals_one_shot),
        cmocka_unit_test(test_encoding_is_little_endian),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
