/*
 * Unit tests of the tape's column codec through its interface (tt_tape_codec,
 * data/tape_internal.h), without files: every column kind round-trips bit for
 * bit on edge values (empty, one value, all equal, alternating extremes,
 * INT64_MIN/MAX deltas, NaN payloads, -0.0, denormals, infinities, the largest
 * block), a decoder stops at its column's end, and malformed input (every
 * truncation, a wrong length or event count, bad mode and width bytes,
 * garbage) is an error, never a crash: decoders get exactly-sized heap copies,
 * so the ASan build catches any read past the end.
 *
 * Every test runs for each codec in CODECS: a new codec is added to that list
 * and must pass the same tests. The layout_* tests check the bytes that
 * docs/tape-format.md documents, so they are format version 1's codec only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fingerprint.h"
#include "data/tape_internal.h"

static const tt_tape_codec *const CODECS[] = {&tt_tape_codec_planes};
#define NCODECS (sizeof CODECS / sizeof CODECS[0])

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
    /* splitmix64: test data only */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* ------------------------------------------------------------------------ */
/* column kinds through the interface; values are compared as bits            */

typedef struct colkind {
    const char *name;
    size_t size; /* bytes per value */
    int (*put)(const tt_tape_codec *cd, tt_tape_buf *b, const void *v, uint32_t n, uint64_t *tmp);
    int (*get)(const tt_tape_codec *cd, tt_tape_in *in, void *v, uint32_t n, uint64_t *tmp);
} colkind;

static int put_uint(const tt_tape_codec *cd, tt_tape_buf *b, const void *v, uint32_t n,
                    uint64_t *tmp)
{
    return cd->uint_put(b, v, n, tmp);
}
static int get_uint(const tt_tape_codec *cd, tt_tape_in *in, void *v, uint32_t n, uint64_t *tmp)
{
    return cd->uint_get(in, v, n, tmp);
}
static int put_ts(const tt_tape_codec *cd, tt_tape_buf *b, const void *v, uint32_t n,
                  uint64_t *tmp)
{
    return cd->ts_put(b, v, n, tmp);
}
static int get_ts(const tt_tape_codec *cd, tt_tape_in *in, void *v, uint32_t n, uint64_t *tmp)
{
    return cd->ts_get(in, v, n, tmp);
}
static int put_delta(const tt_tape_codec *cd, tt_tape_buf *b, const void *v, uint32_t n,
                     uint64_t *tmp)
{
    return cd->delta_put(b, v, n, tmp);
}
static int get_delta(const tt_tape_codec *cd, tt_tape_in *in, void *v, uint32_t n, uint64_t *tmp)
{
    return cd->delta_get(in, v, n, tmp);
}
static int put_f32(const tt_tape_codec *cd, tt_tape_buf *b, const void *v, uint32_t n,
                   uint64_t *tmp)
{
    return cd->f32_put(b, v, n, tmp);
}
static int get_f32(const tt_tape_codec *cd, tt_tape_in *in, void *v, uint32_t n, uint64_t *tmp)
{
    return cd->f32_get(in, v, n, tmp);
}
static int put_f64(const tt_tape_codec *cd, tt_tape_buf *b, const void *v, uint32_t n,
                   uint64_t *tmp)
{
    return cd->f64_put(b, v, n, tmp);
}
static int get_f64(const tt_tape_codec *cd, tt_tape_in *in, void *v, uint32_t n, uint64_t *tmp)
{
    return cd->f64_get(in, v, n, tmp);
}

static const colkind K_UINT = {"uint", 8, put_uint, get_uint};
static const colkind K_TS = {"ts", 8, put_ts, get_ts};
static const colkind K_DELTA = {"delta", 8, put_delta, get_delta};
static const colkind K_F32 = {"f32", 4, put_f32, get_f32};
static const colkind K_F64 = {"f64", 8, put_f64, get_f64};
static const colkind *const KINDS[] = {&K_UINT, &K_TS, &K_DELTA, &K_F32, &K_F64};

/* Encode n values into a fresh buffer (the caller frees b.p). */
static tt_tape_buf encode(const tt_tape_codec *cd, const colkind *k, const void *v, uint32_t n)
{
    tt_tape_buf b;
    memset(&b, 0, sizeof b);
    uint64_t *tmp = xmalloc((size_t)n * sizeof *tmp);
    assert_int_equal(k->put(cd, &b, v, n, tmp), 0);
    free(tmp);
    return b;
}

/* Decode n values from an exactly-sized heap copy of p[0..len). Returns the
 * decoder's result; *used gets the bytes it consumed. */
static int decode_copy(const tt_tape_codec *cd, const colkind *k, const uint8_t *p, size_t len,
                       void *out, uint32_t n, size_t *used)
{
    uint8_t *copy = xmalloc(len);
    if (len)
        memcpy(copy, p, len);
    uint64_t *tmp = xmalloc((size_t)n * sizeof *tmp);
    tt_tape_in in = {copy, copy + len};
    int rc = k->get(cd, &in, out, n, tmp);
    if (used)
        *used = (size_t)(in.p - copy);
    free(tmp);
    free(copy);
    return rc;
}

/* Which proper prefixes to try: every one of a short column; the first and
 * last 256 and a sample of the middle of a longer one; five of a huge one
 * (`few`). A decoder uses its bytes exactly, so every proper prefix fails. */
static int cut_wanted(size_t cut, size_t len, int few)
{
    if (few)
        return cut == 0 || cut == 1 || cut == len / 3 || cut == len / 2 || cut == len - 1;
    if (len <= 600 || cut < 256 || cut + 256 >= len)
        return 1;
    return rnd() % 256 == 0;
}

static void check_truncations(const tt_tape_codec *cd, const colkind *k, const uint8_t *p,
                              size_t len, uint32_t n, int few)
{
    void *out = xmalloc((size_t)n * k->size);
    for (size_t cut = 0; cut < len; cut++)
        if (cut_wanted(cut, len, few) && decode_copy(cd, k, p, cut, out, n, NULL) != -1)
            fail_msg("codec %s, column %s, n %u: %zu of %zu bytes decoded", cd->name, k->name, n,
                     cut, len);
    free(out);
}

/* The round trip of v[0..n) through every codec: exact bits back, the decoder
 * stops at its own end (another column follows), every truncation fails.
 * `few` samples fewer truncations (large columns). */
static void roundtrip(const colkind *k, const void *v, uint32_t n, int few)
{
    for (size_t c = 0; c < NCODECS; c++) {
        const tt_tape_codec *cd = CODECS[c];
        tt_tape_buf b = encode(cd, k, v, n);
        assert_int_equal(tt_tape_buf_reserve(&b, 1), 0);
        b.p[b.n] = 0xee; /* the next column's first byte */
        void *back = xmalloc((size_t)n * k->size);
        memset(back, 0xa5, (size_t)n * k->size);
        size_t used;
        if (decode_copy(cd, k, b.p, b.n + 1, back, n, &used) != 0)
            fail_msg("codec %s, column %s, n %u: decoding failed", cd->name, k->name, n);
        assert_int_equal(used, b.n);
        if (n)
            assert_memory_equal(back, v, (size_t)n * k->size);
        check_truncations(cd, k, b.p, b.n, n, few);
        free(back);
        free(b.p);
    }
}

/* ------------------------------------------------------------------------ */
/* round trips, column by column                                              */

static void test_uint_edges(void **state)
{
    (void)state;
    enum { N = 8192 };
    uint64_t *v = xmalloc(N * sizeof *v);
    roundtrip(&K_UINT, v, 0, 0); /* an empty column */
    static const uint64_t one[] = {0, 1, 255, 256, UINT64_MAX};
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
        roundtrip(&K_UINT, &one[i], 1, 0);
    for (uint32_t i = 0; i < 1000; i++)
        v[i] = 0x0123456789abcdefull; /* all equal */
    roundtrip(&K_UINT, v, 1000, 0);
    for (uint32_t i = 0; i < 1001; i++)
        v[i] = i % 2 ? UINT64_MAX : 0; /* alternating extremes */
    roundtrip(&K_UINT, v, 1001, 0);
    for (int w = 1; w <= 8; w++) { /* every width, its top byte used */
        uint64_t mask = w == 8 ? UINT64_MAX : (1ull << (8 * w)) - 1;
        for (uint32_t i = 0; i < 777; i++)
            v[i] = rnd() & mask;
        v[5] = mask;
        roundtrip(&K_UINT, v, 777, 0);
    }
    for (uint32_t i = 0; i < N; i++)
        v[i] = rnd() >> (rnd() % 64);
    roundtrip(&K_UINT, v, N, 0);
    free(v);
}

static void test_ts_edges(void **state)
{
    (void)state;
    enum { N = 8192 };
    tt_ts *v = xmalloc(N * sizeof *v);
    roundtrip(&K_TS, v, 0, 0);
    static const tt_ts one[] = {INT64_MIN, INT64_MAX, 0, -1, 1549238400000000000ll};
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
        roundtrip(&K_TS, &one[i], 1, 0);
    for (uint32_t i = 0; i < 1000; i++)
        v[i] = 1549238400000000000ll; /* all equal: every delta 0 */
    roundtrip(&K_TS, v, 1000, 0);
    tt_ts ext[] = {INT64_MIN, INT64_MAX}; /* a delta of 2^64 - 1 */
    roundtrip(&K_TS, ext, 2, 0);
    for (uint32_t i = 0; i < 1001; i++)
        v[i] = i % 2 ? INT64_MAX : INT64_MIN; /* alternating: deltas wrap both ways */
    roundtrip(&K_TS, v, 1001, 0);
    /* steps of one, two and eight bytes (the decoder's three paths) */
    static const uint64_t limits[] = {200, 60000, UINT64_MAX / N};
    for (int s = 0; s < 3; s++) {
        uint64_t u = (uint64_t)(INT64_MIN / 2); /* wrapping, through INT64_MAX */
        for (uint32_t i = 0; i < N; i++) {
            u += rnd() % (limits[s] + 1);
            v[i] = (tt_ts)u;
        }
        roundtrip(&K_TS, v, N, 0);
    }
    tt_ts t = 1549238400000000000ll; /* milliseconds with a common divisor */
    for (uint32_t i = 0; i < N; i++) {
        t += (tt_ts)(rnd() % 5) * TT_NS_PER_MS;
        v[i] = t;
    }
    roundtrip(&K_TS, v, N, 0);
    for (uint32_t i = 0; i < N; i++)
        v[i] = (tt_ts)rnd(); /* any sequence at all round-trips */
    roundtrip(&K_TS, v, N, 0);
    free(v);
}

static void test_delta_edges(void **state)
{
    (void)state;
    enum { N = 8192 };
    int64_t *v = xmalloc(N * sizeof *v);
    roundtrip(&K_DELTA, v, 0, 0);
    static const int64_t one[] = {INT64_MIN, INT64_MAX, 0, -1, 114427};
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
        roundtrip(&K_DELTA, &one[i], 1, 0);
    for (uint32_t i = 0; i < 1000; i++)
        v[i] = INT64_MIN; /* all equal, after one huge first delta */
    roundtrip(&K_DELTA, v, 1000, 0);
    for (uint32_t i = 0; i < 1001; i++)
        v[i] = i % 2 ? INT64_MAX : INT64_MIN; /* deltas of +-(2^64 - 1), wrapping */
    roundtrip(&K_DELTA, v, 1001, 0);
    static const int64_t spans[] = {63, 16000, INT64_MAX};
    for (int s = 0; s < 3; s++) { /* one, two and eight byte zigzag deltas */
        int64_t x = 114427;
        for (uint32_t i = 0; i < N; i++) {
            int64_t d = (int64_t)(rnd() % ((uint64_t)spans[s] + 1));
            x = (int64_t)((uint64_t)x + (uint64_t)(rnd() % 2 ? d : -d));
            v[i] = x;
        }
        roundtrip(&K_DELTA, v, N, 0);
    }
    for (uint32_t i = 0; i < N; i++)
        v[i] = (int64_t)rnd();
    roundtrip(&K_DELTA, v, N, 0);
    free(v);
}

/* float32 patterns no decimal scale can express: NaN payloads, -0.0,
 * denormals, infinities, the extremes. */
static const uint32_t F32_SPECIAL[] = {
    0x7fc00000u, 0x7fc00001u, 0x7f800001u, 0xffc00000u, 0xffffffffu, 0x7fffffffu, /* NaNs */
    0x80000000u,                                                                  /* -0.0 */
    0x00000001u, 0x007fffffu, 0x80000001u, 0x00400000u, /* denormals */
    0x7f800000u, 0xff800000u,                           /* +-inf */
    0x7f7fffffu, 0xff7fffffu, 0x00800000u,              /* +-FLT_MAX, FLT_MIN */
};
#define NF32_SPECIAL (sizeof F32_SPECIAL / sizeof F32_SPECIAL[0])

static void test_f32_edges(void **state)
{
    (void)state;
    enum { N = 8192 };
    uint32_t *v = xmalloc(N * sizeof *v);
    roundtrip(&K_F32, v, 0, 0);
    for (size_t i = 0; i < NF32_SPECIAL; i++)
        roundtrip(&K_F32, &F32_SPECIAL[i], 1, 0);
    roundtrip(&K_F32, F32_SPECIAL, NF32_SPECIAL, 0);
    for (uint32_t i = 0; i < 5000; i++) /* specials, repeated: a dictionary */
        v[i] = F32_SPECIAL[rnd() % NF32_SPECIAL];
    roundtrip(&K_F32, v, 5000, 0);
    for (uint32_t i = 0; i < 1000; i++) /* all equal */
        v[i] = f32_bits(1.0f);
    roundtrip(&K_F32, v, 1000, 0);
    for (uint32_t i = 0; i < 1001; i++) /* alternating extremes */
        v[i] = i % 2 ? 0xffffffffu : 0;
    roundtrip(&K_F32, v, 1001, 0);
    /* decimals: lots with two decimals; k past one byte, two bytes and the table */
    static const uint32_t kmax[] = {250, 60000, 5000000};
    for (int s = 0; s < 3; s++) {
        for (uint32_t i = 0; i < N; i++)
            v[i] = f32_bits((float)((double)(rnd() % kmax[s]) / 100));
        roundtrip(&K_F32, v, N, 0);
    }
    for (uint32_t i = 0; i < N; i++) /* a few decimals and one NaN: a dictionary */
        v[i] = i == 4000 ? F32_SPECIAL[1] : f32_bits((float)(rnd() % 9) / 4);
    roundtrip(&K_F32, v, N, 0);
    for (uint32_t i = 0; i < N; i++) /* decimals with specials sprinkled: XOR planes */
        v[i] = i % 97 == 0 ? F32_SPECIAL[i % NF32_SPECIAL] : (uint32_t)rnd();
    roundtrip(&K_F32, v, N, 0);
    free(v);
}

static void test_f64_edges(void **state)
{
    (void)state;
    enum { N = 8192 };
    static const uint64_t special[] = {
        0x7ff8000000000000ull, 0x7ff8000000000001ull, 0x7ff0000000000001ull, /* NaNs */
        0xffffffffffffffffull, 0x8000000000000000ull,                       /* NaN, -0.0 */
        0x0000000000000001ull, 0x000fffffffffffffull,                       /* denormals */
        0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7fefffffffffffffull, /* inf, max */
    };
    uint64_t *v = xmalloc(N * sizeof *v);
    roundtrip(&K_F64, v, 0, 0);
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        roundtrip(&K_F64, &special[i], 1, 0);
    roundtrip(&K_F64, special, sizeof special / sizeof special[0], 0);
    for (uint32_t i = 0; i < 1000; i++) {
        double d = 1.5;
        memcpy(&v[i], &d, 8); /* all equal */
    }
    roundtrip(&K_F64, v, 1000, 0);
    for (uint32_t i = 0; i < 1001; i++)
        v[i] = i % 2 ? UINT64_MAX : 0;
    roundtrip(&K_F64, v, 1001, 0);
    for (uint32_t i = 0; i < N; i++)
        v[i] = i % 5 ? rnd() : special[i % 10];
    roundtrip(&K_F64, v, N, 0);
    free(v);
}

/* The largest block a tape holds, for every column kind. */
static void test_max_block(void **state)
{
    (void)state;
    const uint32_t n = MAX_BLOCK_EVENTS;
    uint64_t *v = xmalloc((size_t)n * sizeof *v);
    tt_ts t = 1549238400000000000ll;
    for (uint32_t i = 0; i < n; i++) {
        t += (tt_ts)(rnd() % 3000) * TT_NS_PER_MS;
        v[i] = (uint64_t)t;
    }
    roundtrip(&K_TS, v, n, 1);
    roundtrip(&K_UINT, v, n, 1);
    int64_t x = 114427;
    for (uint32_t i = 0; i < n; i++) {
        x += (int64_t)(rnd() % 21) - 10;
        v[i] = (uint64_t)x;
    }
    roundtrip(&K_DELTA, v, n, 1);
    for (uint32_t i = 0; i < n; i++)
        v[i] = rnd();
    roundtrip(&K_F64, v, n, 1);
    uint32_t *f = xmalloc((size_t)n * sizeof *f);
    for (uint32_t i = 0; i < n; i++)
        f[i] = f32_bits((float)(rnd() % 1000) / 100);
    roundtrip(&K_F32, f, n, 1);
    for (uint32_t i = 0; i < n; i++)
        f[i] = (uint32_t)rnd();
    roundtrip(&K_F32, f, n, 1);
    free(f);
    free(v);
}

/* ------------------------------------------------------------------------ */
/* the documented bytes (format version 1)                                    */

static void test_layout_v1(void **state)
{
    (void)state;
    const tt_tape_codec *cd = &tt_tape_codec_planes;
    enum { N = 300 };
    uint64_t v[N];
    /* integer column: width byte, then plane k = byte k of every value */
    for (uint32_t i = 0; i < N; i++)
        v[i] = rnd() & 0xffffff;
    v[7] = 0xff0000;
    tt_tape_buf b = encode(cd, &K_UINT, v, N);
    assert_int_equal(b.n, 1 + 3 * N);
    assert_int_equal(b.p[0], 3);
    for (uint32_t i = 0; i < N; i++)
        for (int k = 0; k < 3; k++)
            assert_int_equal(b.p[1 + (size_t)k * N + i], (uint8_t)(v[i] >> (8 * k)));
    free(b.p);
    b = encode(cd, &K_UINT, (uint64_t[4]){0, 0, 0, 0}, 4); /* constant zero: one byte */
    assert_int_equal(b.n, 1);
    free(b.p);
    /* timestamps: first, the gcd of the deltas (1 ms), then one byte per tick */
    tt_ts ts[N];
    ts[0] = 1549238400000000000ll;
    for (uint32_t i = 1; i < N; i++)
        ts[i] = ts[i - 1] + (tt_ts)(1 + rnd() % 200) * TT_NS_PER_MS;
    b = encode(cd, &K_TS, ts, N);
    assert_int_equal(get64(b.p), (uint64_t)ts[0]);
    assert_int_equal(get64(b.p + 8), TT_NS_PER_MS);
    assert_int_equal(b.p[16], 1);
    assert_int_equal(b.n, 16 + 1 + N);
    free(b.p);
    /* delta column: zigzag(v[i] - v[i-1]), v[-1] = 0 */
    int64_t d[3] = {-1, 0, 2};
    b = encode(cd, &K_DELTA, d, 3);
    assert_int_equal(b.n, 4);
    assert_memory_equal(b.p, ((uint8_t[]){1, 1, 2, 4}), 4);
    free(b.p);
    /* float32 volumes: lots with two decimals are mode 3 (decimal), e = 2 */
    uint32_t f[N];
    for (uint32_t i = 0; i < N; i++)
        f[i] = f32_bits((float)((double)(rnd() % 200) / 100));
    f[0] = f32_bits(0.01f);
    b = encode(cd, &K_F32, f, N);
    assert_int_equal(b.p[0], 3);
    assert_int_equal(b.p[1], 2);
    free(b.p);
    /* 256 distinct patterns no scale fits: mode 1, a dictionary of 256 */
    for (uint32_t i = 0; i < N; i++)
        f[i] = 0x7fc00000u + (i % 256);
    b = encode(cd, &K_F32, f, N);
    assert_int_equal(b.p[0], 1);
    assert_int_equal(get16(b.p + 1), 256);
    free(b.p);
    f[N - 1] = 0x7fc00000u + 256; /* 257: mode 2, XOR planes */
    b = encode(cd, &K_F32, f, N);
    assert_int_equal(b.p[0], 2);
    free(b.p);
}

/* ------------------------------------------------------------------------ */
/* malformed input                                                            */

/* Decode hand-made bytes as one column of n values; returns the decoder's result. */
static int decode_bytes(const colkind *k, const uint8_t *p, size_t len, uint32_t n)
{
    void *out = xmalloc((size_t)n * k->size);
    int rc = decode_copy(&tt_tape_codec_planes, k, p, len, out, n, NULL);
    free(out);
    return rc;
}

static void test_malformed_v1(void **state)
{
    (void)state;
    /* a width over 8 bytes */
    assert_int_equal(decode_bytes(&K_UINT, (uint8_t[]){9, 1, 2}, 3, 0), -1);
    assert_int_equal(decode_bytes(&K_DELTA, (uint8_t[]){9, 1, 2}, 3, 0), -1);
    /* float32: unknown modes */
    for (int mode = 0; mode < 256; mode++)
        if (mode < 1 || mode > 3)
            assert_int_equal(decode_bytes(&K_F32, (uint8_t[]){(uint8_t)mode, 0}, 2, 1), -1);
    /* decimal scale past 10^6 */
    assert_int_equal(decode_bytes(&K_F32, (uint8_t[]){3, 7, 0}, 3, 1), -1);
    assert_int_equal(decode_bytes(&K_F32, (uint8_t[]){3, 6, 0}, 3, 1), 0);
    /* dictionaries of 0 and 257 entries */
    assert_int_equal(decode_bytes(&K_F32, (uint8_t[]){1, 0, 0, 0}, 4, 1), -1);
    uint8_t big[3 + 4 * 257 + 2] = {1, 0x01, 0x01};
    assert_int_equal(decode_bytes(&K_F32, big, sizeof big, 1), -1);
    /* a dictionary of 2 (patterns 1 and 2): indices 0 and 1 decode, index 2
     * does not, with one-byte and with two-byte indices */
    static const uint8_t ok1[] = {1, 2, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1};
    static const uint8_t bad1[] = {1, 2, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2};
    static const uint8_t ok2[] = {1, 2, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0, 0};
    static const uint8_t bad2[] = {1, 2, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0, 1};
    uint32_t got[2];
    tt_tape_in in = {ok1, ok1 + sizeof ok1};
    assert_int_equal(tt_tape_codec_planes.f32_get(&in, got, 2, (uint64_t[2]){0}), 0);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 2);
    assert_int_equal(decode_bytes(&K_F32, bad1, sizeof bad1, 2), -1);
    in = (tt_tape_in){ok2, ok2 + sizeof ok2};
    assert_int_equal(tt_tape_codec_planes.f32_get(&in, got, 2, (uint64_t[2]){0}), 0);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 2);
    assert_int_equal(decode_bytes(&K_F32, bad2, sizeof bad2, 2), -1);
    /* XOR planes wider than 32 bits */
    uint8_t x5[] = {2, 5, 1, 1, 1, 1, 1};
    assert_int_equal(decode_bytes(&K_F32, x5, sizeof x5, 1), -1);
    x5[6] = 0;
    assert_int_equal(decode_bytes(&K_F32, x5, sizeof x5, 1), 0);
}

/* Random bytes to every decoder: 0 or -1, never a crash (ASan). */
static void test_garbage(void **state)
{
    (void)state;
    uint8_t buf[400];
    for (size_t c = 0; c < NCODECS; c++) {
        const tt_tape_codec *cd = CODECS[c];
        tt_tape_cols cols;
        memset(&cols, 0, sizeof cols);
        assert_int_equal(tt_tape_cols_reserve(&cols, 64), 0);
        for (int iter = 0; iter < 20000; iter++) {
            size_t len = rnd() % sizeof buf;
            for (size_t i = 0; i < len; i++) /* bias to small bytes: plausible widths and modes */
                buf[i] = (uint8_t)(rnd() % 4 ? rnd() % 12 : rnd());
            uint32_t n = (uint32_t)(rnd() % 64);
            const colkind *k = KINDS[iter % 5];
            void *out = xmalloc(64 * 8);
            int rc = decode_copy(cd, k, buf, len, out, n, NULL);
            assert_true(rc == 0 || rc == -1);
            free(out);
            uint8_t *copy = xmalloc(len);
            memcpy(copy, buf, len);
            static const int kinds[] = {TT_STREAM_QUOTE, TT_STREAM_BAR, TT_STREAM_TRADE};
            rc = cd->payload_decode(kinds[iter % 3], copy, len, &cols, n ? n : 1);
            assert_true(rc == 0 || rc == -1);
            free(copy);
        }
        tt_tape_cols_free(&cols);
    }
}

/* ------------------------------------------------------------------------ */
/* whole payloads                                                             */

static void fill_block(int kind, tt_tape_cols *c, uint32_t n, int extreme)
{
    tt_ts t = 1549238400000000000ll;
    int64_t p = 114427;
    for (uint32_t i = 0; i < n; i++) {
        t += (tt_ts)(rnd() % 1000) * TT_NS_PER_MS;
        p += (int64_t)(rnd() % 21) - 10;
        c->ts[i] = t;
        c->a[i] = p;
        c->b2[i] = p + (int64_t)(rnd() % 30);
        c->c[i] = p - (int64_t)(rnd() % 30);
        c->d[i] = c->c[i] + (int64_t)(rnd() % 40);
        c->f1[i] = f32_bits((float)(rnd() % 500) / 100);
        c->f2[i] = i % 50 ? f32_bits((float)(rnd() % 500) / 100) : F32_SPECIAL[i % NF32_SPECIAL];
        c->u1[i] = rnd();
        c->u2[i] = kind == TT_STREAM_TRADE ? (uint8_t)(int8_t)((int)(rnd() % 3) - 1) : rnd() % 9000;
        if (extreme && i % 2) { /* every difference the payload stores overflows */
            c->a[i] = INT64_MIN;
            c->b2[i] = INT64_MAX;
            c->c[i] = INT64_MAX;
            c->d[i] = INT64_MIN;
        }
    }
    if (extreme) {
        c->ts[0] = INT64_MIN;
        c->ts[n - 1] = INT64_MAX;
    }
}

static void assert_block_equal(int kind, const tt_tape_cols *a, const tt_tape_cols *b, uint32_t n)
{
    assert_memory_equal(a->ts, b->ts, n * sizeof *a->ts);
    assert_memory_equal(a->a, b->a, n * sizeof *a->a);
    if (kind == TT_STREAM_QUOTE) {
        assert_memory_equal(a->b2, b->b2, n * sizeof *a->b2);
        assert_memory_equal(a->f1, b->f1, n * sizeof *a->f1);
        assert_memory_equal(a->f2, b->f2, n * sizeof *a->f2);
        return;
    }
    if (kind == TT_STREAM_BAR) {
        assert_memory_equal(a->b2, b->b2, n * sizeof *a->b2);
        assert_memory_equal(a->c, b->c, n * sizeof *a->c);
        assert_memory_equal(a->d, b->d, n * sizeof *a->d);
    }
    assert_memory_equal(a->u1, b->u1, n * sizeof *a->u1);
    assert_memory_equal(a->u2, b->u2, n * sizeof *a->u2);
}

static int payload_copy(const tt_tape_codec *cd, int kind, const uint8_t *p, size_t len,
                        tt_tape_cols *c, uint32_t n)
{
    uint8_t *copy = xmalloc(len);
    if (len)
        memcpy(copy, p, len);
    int rc = cd->payload_decode(kind, copy, len, c, n);
    free(copy);
    return rc;
}

static void check_payload(const tt_tape_codec *cd, int kind, uint32_t n, int extreme)
{
    tt_tape_cols in, out;
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    assert_int_equal(tt_tape_cols_reserve(&in, n), 0);
    assert_int_equal(tt_tape_cols_reserve(&out, n + 1), 0);
    fill_block(kind, &in, n, extreme);
    tt_tape_buf b;
    memset(&b, 0, sizeof b);
    assert_int_equal(cd->payload_encode(kind, &in, n, &b), 0);
    if (payload_copy(cd, kind, b.p, b.n, &out, n))
        fail_msg("codec %s, kind %d, n %u: payload does not decode", cd->name, kind, n);
    assert_block_equal(kind, &in, &out, n);
    /* a byte too many, a wrong event count, every (sampled) truncation */
    assert_int_equal(tt_tape_buf_reserve(&b, 1), 0);
    b.p[b.n] = 0;
    assert_int_equal(payload_copy(cd, kind, b.p, b.n + 1, &out, n), -1);
    assert_int_equal(payload_copy(cd, kind, b.p, b.n, &out, n + 1), -1);
    if (n > 1)
        assert_int_equal(payload_copy(cd, kind, b.p, b.n, &out, n - 1), -1);
    size_t step = b.n > 4000 ? b.n / 997 : 1;
    for (size_t cut = 0; cut < b.n; cut += step)
        assert_int_equal(payload_copy(cd, kind, b.p, cut, &out, n), -1);
    assert_int_equal(payload_copy(cd, kind, b.p, b.n - 1, &out, n), -1);
    free(b.p);
    tt_tape_cols_free(&in);
    tt_tape_cols_free(&out);
}

static void test_payloads(void **state)
{
    (void)state;
    static const int kinds[] = {TT_STREAM_QUOTE, TT_STREAM_BAR, TT_STREAM_TRADE};
    for (size_t c = 0; c < NCODECS; c++) {
        for (int k = 0; k < 3; k++) {
            check_payload(CODECS[c], kinds[k], 1, 0);
            check_payload(CODECS[c], kinds[k], 2, 1);
            check_payload(CODECS[c], kinds[k], 8192, 0);
            check_payload(CODECS[c], kinds[k], 1000, 1);
        }
        /* blobs and unknown kinds are not column payloads */
        tt_tape_cols cols;
        memset(&cols, 0, sizeof cols);
        assert_int_equal(tt_tape_cols_reserve(&cols, 4), 0);
        fill_block(TT_STREAM_QUOTE, &cols, 4, 0);
        tt_tape_buf b;
        memset(&b, 0, sizeof b);
        assert_int_equal(CODECS[c]->payload_encode(TT_STREAM_BLOB, &cols, 4, &b), -1);
        assert_int_equal(CODECS[c]->payload_encode(99, &cols, 4, &b), -1);
        assert_int_equal(CODECS[c]->payload_encode(TT_STREAM_QUOTE, &cols, 4, &b), 0);
        assert_int_equal(payload_copy(CODECS[c], TT_STREAM_BLOB, b.p, b.n, &cols, 4), -1);
        assert_int_equal(payload_copy(CODECS[c], 0, b.p, b.n, &cols, 4), -1);
        free(b.p);
        tt_tape_cols_free(&cols);
    }
}

/* Blob payload records: u32 length and the canonical encoding. */
static void test_blob_records(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {0x0a, 0x06, 'E', 'U', 'R', 'U', 'S', 'D', 0x11};
    tt_event ev[3];
    memset(ev, 0, sizeof ev);
    ev[0].kind = TT_EV_QUOTE;
    ev[0].ts = ev[0].ts_init = 1549238400000000000ll;
    ev[0].u.quote.bid = 114427;
    ev[0].u.quote.ask_vol = NAN;
    ev[1].kind = TT_EV_BLOB;
    ev[1].ts = ev[1].ts_init = INT64_MAX;
    ev[1].u.blob.type = 42;
    ev[1].u.blob.len = sizeof bytes;
    ev[1].u.blob.data = bytes;
    ev[2].kind = TT_EV_CONTROL;
    ev[2].ts = INT64_MIN;
    tt_tape_buf b;
    memset(&b, 0, sizeof b);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tt_tape_blob_put(&b, &ev[i]), 0);
    tt_tape_in in = {b.p, b.p + b.n};
    for (int i = 0; i < 3; i++) {
        tt_event back;
        assert_int_equal(tt_tape_blob_get(&in, &back), 0);
        uint8_t x[256], y[256];
        size_t nx = tt_event_encode(&ev[i], x, 1), ny = tt_event_encode(&back, y, 1);
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, nx);
        assert_int_equal(get32(in.p - ny - BLOB_LEN_SIZE), ny);
    }
    assert_ptr_equal(in.p, b.p + b.n);
    tt_event back;
    for (size_t cut = 0; cut < b.n; cut++) { /* the first record, cut anywhere */
        uint8_t *copy = xmalloc(cut);
        memcpy(copy, b.p, cut);
        tt_tape_in t = {copy, copy + cut};
        int rc = tt_tape_blob_get(&t, &back);
        size_t first = BLOB_LEN_SIZE + get32(b.p);
        if (cut < BLOB_LEN_SIZE)
            assert_int_equal(rc, -1);
        else if (cut < first)
            assert_int_equal(rc, -2);
        else
            assert_int_equal(rc, 0);
        free(copy);
    }
    put32(b.p, 3); /* a record too short for its event */
    in = (tt_tape_in){b.p, b.p + b.n};
    assert_int_equal(tt_tape_blob_get(&in, &back), -2);
    free(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint_edges),
        cmocka_unit_test(test_ts_edges),
        cmocka_unit_test(test_delta_edges),
        cmocka_unit_test(test_f32_edges),
        cmocka_unit_test(test_f64_edges),
        cmocka_unit_test(test_max_block),
        cmocka_unit_test(test_layout_v1),
        cmocka_unit_test(test_malformed_v1),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_payloads),
        cmocka_unit_test(test_blob_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
