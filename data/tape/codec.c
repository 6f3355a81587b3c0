/*
 * The tape's column codec (format version 1): the events of one block become
 * the block's raw payload, column by column, and come back bit for bit.
 *
 * How it works
 * ------------
 * Every integer column is stored "byte-planed": the column's width w (0..8
 * bytes, the fewest that hold every value) and then w planes, plane k holding
 * byte k of every value. Small deltas therefore cost one plane, constant
 * columns cost nothing, and zstd (applied by the segment layer, one frame per
 * plane: the encoder marks plane boundaries in the buffer) sees long runs of
 * similar bytes. Decoding a plane-packed column is a tight, branch-free loop,
 * which is what makes replay fast; the decoders of the common one- and
 * two-byte widths read the planes in place and fuse the gather with their
 * own pass (col_peek).
 *
 * Column kinds: timestamps (the first, then deltas divided by their greatest
 * common divisor: Dukascopy's millisecond ticks store 1 per ms, not 1e6),
 * deltas of signed values (zigzag, wrapping arithmetic so any int64 pair
 * round-trips), float32 bit patterns (decimal, dictionary or XOR planes) and
 * float64 bit patterns (XOR planes). Everything is integer or raw bits, so a
 * round trip is exact; docs/tape-format.md has the bytes.
 *
 * Invariants: decoders never read at or past the end of their input and
 * return -1 on anything malformed; a payload decodes only if it is used to
 * the last byte. The codec knows nothing of files, headers or zstd, so a new
 * codec can sit beside this one behind tt_tape_codec (data/tape_internal.h)
 * and pass tests/data/test_tape_codec.c unchanged. This file is built at -O3
 * (CMakeLists.txt): the decoders are the replay's hot path.
 */
#include "../tape_internal.h"

#include <pthread.h>

#include "../../core/fingerprint.h"

/* The timestamp column's header: u64 first, u64 g (then the integer column). */
#define TS_OFF_FIRST 0
#define TS_OFF_GCD 8
#define TS_HDR_SIZE 16
_Static_assert(TS_OFF_GCD == TS_OFF_FIRST + 8 && TS_HDR_SIZE == TS_OFF_GCD + 8,
               "timestamp column: u64 first, u64 g (docs/tape-format.md)");
/* The float32 column's dictionary mode: u16 nd (1..256), nd u32 patterns,
 * then one-byte indices in the common case. */
#define DICT_MAX 256
_Static_assert(DICT_MAX <= UINT16_MAX, "the dictionary size is stored as a u16");
_Static_assert(DICT_MAX <= 256, "one-byte indices must cover the dictionary");

/* Byte-planed unsigned column: width byte, then `width` planes of n bytes. */
static int col_put(tt_tape_buf *b, const uint64_t *v, uint32_t n)
{
    uint64_t any = 0;
    for (uint32_t i = 0; i < n; i++)
        any |= v[i];
    int w = 0;
    while (w < 8 && (any >> (8 * w)) != 0)
        w++;
    if (tt_tape_buf_reserve(b, 1 + (size_t)w * n))
        return -1;
    b->p[b->n++] = (uint8_t)w;
    for (int k = 0; k < w; k++) {
        tt_tape_buf_mark(b);
        uint8_t *out = b->p + b->n;
        for (uint32_t i = 0; i < n; i++)
            out[i] = (uint8_t)(v[i] >> (8 * k));
        b->n += n;
        tt_tape_buf_mark(b);
    }
    return 0;
}

static int col_get(tt_tape_in *r, uint64_t *v, uint32_t n)
{
    if (r->p >= r->end)
        return -1;
    int w = *r->p++;
    if (w > 8 || (size_t)(r->end - r->p) < (size_t)w * n)
        return -1;
    if (w == 0) {
        memset(v, 0, n * sizeof *v);
        return 0;
    }
    const uint8_t *p0 = r->p;
    for (uint32_t i = 0; i < n; i++)
        v[i] = p0[i];
    for (int k = 1; k < w; k++) {
        const uint8_t *pk = r->p + (size_t)k * n;
        int sh = 8 * k;
        for (uint32_t i = 0; i < n; i++)
            v[i] |= (uint64_t)pk[i] << sh;
    }
    r->p += (size_t)w * n;
    return 0;
}

static int rd_u64(tt_tape_in *r, uint64_t *v)
{
    if (r->end - r->p < 8)
        return -1;
    *v = get64(r->p);
    r->p += 8;
    return 0;
}

/* Timestamps: first absolute, then deltas / gcd. */
static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int ts_put_head(tt_tape_buf *b, uint64_t first, uint64_t g)
{
    if (tt_tape_buf_reserve(b, TS_HDR_SIZE))
        return -1;
    put64(b->p + b->n + TS_OFF_FIRST, first);
    put64(b->p + b->n + TS_OFF_GCD, g);
    b->n += TS_HDR_SIZE;
    return 0;
}

static int ts_put(tt_tape_buf *b, const tt_ts *ts, uint32_t n, uint64_t *tmp)
{
    uint64_t g = 0;
    if (n == 0) /* an empty column (never in a block): first = 0, g = 1, width 0 */
        return ts_put_head(b, 0, 1) ? -1 : col_put(b, tmp, 0);
    tmp[0] = 0;
    for (uint32_t i = 1; i < n; i++) {
        tmp[i] = (uint64_t)ts[i] - (uint64_t)ts[i - 1];
        g = gcd64(g, tmp[i]);
    }
    if (g == 0)
        g = 1;
    for (uint32_t i = 1; i < n; i++)
        tmp[i] /= g;
    if (ts_put_head(b, (uint64_t)ts[0], g))
        return -1;
    return col_put(b, tmp, n);
}

/* Read a column's width byte and plane pointer without gathering the planes,
 * so that callers can fuse the gather with their own pass for the common
 * one- and two-byte widths. Returns the width, or -1. */
static int col_peek(tt_tape_in *r, uint32_t n, const uint8_t **planes)
{
    if (r->p >= r->end)
        return -1;
    int w = *r->p;
    if (w > 8 || (size_t)(r->end - r->p - 1) < (size_t)w * n)
        return -1;
    *planes = r->p + 1;
    return w;
}

static int ts_get(tt_tape_in *r, tt_ts *ts, uint32_t n, uint64_t *tmp)
{
    uint64_t first, g;
    if (rd_u64(r, &first) || rd_u64(r, &g))
        return -1;
    const uint8_t *p;
    int w = col_peek(r, n, &p);
    uint64_t t = first;
    if (w == 1) {
        for (uint32_t i = 0; i < n; i++) {
            t += p[i] * g;
            ts[i] = (tt_ts)t;
        }
        r->p += 1 + (size_t)n;
        return 0;
    }
    if (w == 2) {
        for (uint32_t i = 0; i < n; i++) {
            t += (uint64_t)(p[i] | (uint32_t)p[n + i] << 8) * g;
            ts[i] = (tt_ts)t;
        }
        r->p += 1 + 2 * (size_t)n;
        return 0;
    }
    if (col_get(r, tmp, n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        t += tmp[i] * g;
        ts[i] = (tt_ts)t;
    }
    return 0;
}

/* Signed values as zigzag deltas from the previous one (the first from 0). */
static int delta_put(tt_tape_buf *b, const int64_t *v, uint32_t n, uint64_t *tmp)
{
    int64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        tmp[i] = zigzag((int64_t)((uint64_t)v[i] - (uint64_t)prev));
        prev = v[i];
    }
    return col_put(b, tmp, n);
}

static int delta_get(tt_tape_in *r, int64_t *v, uint32_t n, uint64_t *tmp)
{
    const uint8_t *p;
    int w = col_peek(r, n, &p);
    uint64_t prev = 0;
    if (w == 0) {
        r->p += 1;
        memset(v, 0, n * sizeof *v);
        return 0;
    }
    if (w == 1) {
        for (uint32_t i = 0; i < n; i++) {
            prev += (uint64_t)unzigzag(p[i]);
            v[i] = (int64_t)prev;
        }
        r->p += 1 + (size_t)n;
        return 0;
    }
    if (w == 2) {
        for (uint32_t i = 0; i < n; i++) {
            prev += (uint64_t)unzigzag((uint64_t)(p[i] | (uint32_t)p[n + i] << 8));
            v[i] = (int64_t)prev;
        }
        r->p += 1 + 2 * (size_t)n;
        return 0;
    }
    if (col_get(r, tmp, n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        prev += (uint64_t)unzigzag(tmp[i]);
        v[i] = (int64_t)prev;
    }
    return 0;
}

/* 32-bit patterns (float volumes). Three encodings, tried in this order:
 *  - DECIMAL: every value is exactly (float)(k / 10^e) for a whole k >= 0 and
 *    one e in 0..6 (Dukascopy's volumes are lots with two decimals): store e
 *    and the column of k. The check is done on encode with the very
 *    expression the decoder uses, so the round trip is exact by construction.
 *  - DICT: at most 256 distinct bit patterns: a dictionary and byte indices.
 *  - XOR: XOR-with-previous bit planes (anything else: NaN, -0, noise). */
enum { BITS_DICT = 1, BITS_XOR = 2, BITS_DECIMAL = 3 }; /* the mode byte (docs/tape-format.md) */

#define DEC_EMAX 6 /* decimal scales e = 0..6 */
static const double POW10[DEC_EMAX + 1] = {1, 10, 100, 1000, 10000, 100000, 1000000};

static inline float decimal_value(uint64_t k, int e) { return (float)((double)k / POW10[e]); }

/* Decoding decimal volumes: k / 10^e for the small k that real volumes are
 * (a few hundred distinct values, nearly all under DEC_TAB) read from a table
 * filled once per process with decimal_value itself, so the bits are the
 * same; a division per value was a tenth of the replay's time. */
#define DEC_TAB 4096
_Static_assert(DEC_TAB >= 256, "one-byte decimal columns index the table unchecked");
static float dec_tab[DEC_EMAX + 1][DEC_TAB];
static pthread_once_t dec_once = PTHREAD_ONCE_INIT;

static void dec_tab_fill(void)
{
    for (int e = 0; e <= DEC_EMAX; e++)
        for (uint32_t k = 0; k < DEC_TAB; k++)
            dec_tab[e][k] = decimal_value(k, e);
}

static inline float decimal_lookup(const float *tab, uint64_t k, int e)
{
    return k < DEC_TAB ? tab[k] : decimal_value(k, e);
}

/* Smallest e making every value decimal, with k in tmp; -1 when none does. */
static int decimal_scale(const uint32_t *v, uint32_t n, uint64_t *tmp)
{
    int e = 0;
    for (uint32_t i = 0; i < n; i++) {
        float f;
        memcpy(&f, &v[i], 4);
        for (;;) {
            double x = (double)f * POW10[e];
            if (x >= 0 && x < 1e15) {
                uint64_t k = (uint64_t)(x + 0.5);
                float back = decimal_value(k, e);
                if (memcmp(&back, &v[i], 4) == 0) {
                    tmp[i] = k;
                    break;
                }
            }
            if (++e > DEC_EMAX)
                return -1;
            i = (uint32_t)-1; /* a finer scale: redo the block from the start */
            break;
        }
    }
    return e;
}

static int bits32_put(tt_tape_buf *b, const uint32_t *v, uint32_t n, uint64_t *tmp)
{
    int e = decimal_scale(v, n, tmp);
    if (e >= 0) {
        if (tt_tape_buf_reserve(b, 2))
            return -1;
        b->p[b->n++] = BITS_DECIMAL;
        b->p[b->n++] = (uint8_t)e;
        return col_put(b, tmp, n);
    }
    uint32_t dict[DICT_MAX];
    uint32_t nd = 0;
    /* small open-addressing table: 512 slots of (value, index+1) */
    uint32_t hv[512];
    uint16_t hi[512];
    memset(hi, 0, sizeof hi);
    int ok = 1;
    for (uint32_t i = 0; i < n && ok; i++) {
        uint32_t h = (v[i] * 2654435761u) >> 23;
        for (;;) {
            if (!hi[h]) {
                if (nd == DICT_MAX) {
                    ok = 0;
                    break;
                }
                hv[h] = v[i];
                hi[h] = (uint16_t)(nd + 1);
                dict[nd++] = v[i];
                tmp[i] = nd - 1;
                break;
            }
            if (hv[h] == v[i]) {
                tmp[i] = hi[h] - 1u;
                break;
            }
            h = (h + 1) & 511;
        }
    }
    if (ok) {
        if (tt_tape_buf_reserve(b, 3 + 4 * (size_t)nd))
            return -1;
        b->p[b->n++] = BITS_DICT;
        put16(b->p + b->n, (uint16_t)nd);
        b->n += 2;
        for (uint32_t k = 0; k < nd; k++, b->n += 4)
            put32(b->p + b->n, dict[k]);
        return col_put(b, tmp, n);
    }
    uint32_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        tmp[i] = v[i] ^ prev;
        prev = v[i];
    }
    if (tt_tape_buf_reserve(b, 1))
        return -1;
    b->p[b->n++] = BITS_XOR;
    return col_put(b, tmp, n);
}

static int bits32_get(tt_tape_in *r, uint32_t *v, uint32_t n, uint64_t *tmp)
{
    if (r->p >= r->end)
        return -1;
    int mode = *r->p++;
    if (mode == BITS_DECIMAL) {
        if (r->p >= r->end || *r->p > DEC_EMAX)
            return -1;
        int e = *r->p++;
        pthread_once(&dec_once, dec_tab_fill);
        const float *tab = dec_tab[e];
        const uint8_t *p;
        int w = col_peek(r, n, &p);
        if (w == 1) { /* the planes read in place */
            for (uint32_t i = 0; i < n; i++) {
                float f = tab[p[i]]; /* < 256 <= DEC_TAB */
                memcpy(&v[i], &f, 4);
            }
            r->p += 1 + (size_t)n;
            return 0;
        }
        if (w == 2) {
            for (uint32_t i = 0; i < n; i++) {
                float f = decimal_lookup(tab, (uint32_t)(p[i] | (uint32_t)p[n + i] << 8), e);
                memcpy(&v[i], &f, 4);
            }
            r->p += 1 + 2 * (size_t)n;
            return 0;
        }
        if (col_get(r, tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            float f = decimal_lookup(tab, tmp[i], e);
            memcpy(&v[i], &f, 4);
        }
        return 0;
    }
    if (mode == BITS_DICT) {
        if (r->end - r->p < 2)
            return -1;
        uint32_t nd = get16(r->p);
        r->p += 2;
        if (nd == 0 || nd > DICT_MAX || (size_t)(r->end - r->p) < 4 * (size_t)nd)
            return -1;
        uint32_t dict[DICT_MAX];
        for (uint32_t k = 0; k < nd; k++, r->p += 4)
            dict[k] = get32(r->p);
        const uint8_t *p;
        int w = col_peek(r, n, &p);
        if (w == 1) {
            /* indices are bytes: every one is < 256, but the dictionary may be shorter */
            uint8_t any = 0;
            for (uint32_t i = 0; i < n; i++)
                any |= (uint8_t)(p[i] >= nd);
            if (any)
                return -1;
            for (uint32_t i = 0; i < n; i++)
                v[i] = dict[p[i]];
            r->p += 1 + (size_t)n;
            return 0;
        }
        if (col_get(r, tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            if (tmp[i] >= nd)
                return -1;
            v[i] = dict[tmp[i]];
        }
        return 0;
    }
    if (mode != BITS_XOR || col_get(r, tmp, n))
        return -1;
    uint32_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (tmp[i] > 0xffffffffu)
            return -1;
        prev ^= (uint32_t)tmp[i];
        v[i] = prev;
    }
    return 0;
}

/* 64-bit patterns (double volumes, sizes): XOR-with-previous planes. */
static int bits64_put(tt_tape_buf *b, const uint64_t *v, uint32_t n, uint64_t *tmp)
{
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        tmp[i] = v[i] ^ prev;
        prev = v[i];
    }
    return col_put(b, tmp, n);
}

static int bits64_get(tt_tape_in *r, uint64_t *v, uint32_t n)
{
    if (col_get(r, v, n))
        return -1;
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        prev ^= v[i];
        v[i] = prev;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* decoded blocks and whole payloads                                          */

/* Differences of prices wrap (64-bit two's complement), as in delta columns,
 * so that any pair of values round-trips without signed overflow. */
static inline int64_t wsub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static inline int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

void tt_tape_cols_free(tt_tape_cols *c)
{
    free(c->ts);
    free(c->a);
    free(c->b2);
    free(c->c);
    free(c->d);
    free(c->f1);
    free(c->f2);
    free(c->u1);
    free(c->u2);
    free(c->tmp);
    memset(c, 0, sizeof *c);
}

int tt_tape_cols_reserve(tt_tape_cols *c, uint32_t n)
{
    if (n <= c->cap)
        return 0;
    tt_tape_cols nc = {0};
    nc.cap = n;
    nc.ts = malloc(n * sizeof *nc.ts);
    nc.a = malloc(n * sizeof *nc.a);
    nc.b2 = malloc(n * sizeof *nc.b2);
    nc.c = malloc(n * sizeof *nc.c);
    nc.d = malloc(n * sizeof *nc.d);
    nc.f1 = malloc(n * sizeof *nc.f1);
    nc.f2 = malloc(n * sizeof *nc.f2);
    nc.u1 = malloc(n * sizeof *nc.u1);
    nc.u2 = malloc(n * sizeof *nc.u2);
    nc.tmp = malloc(n * sizeof *nc.tmp);
    if (!nc.ts || !nc.a || !nc.b2 || !nc.c || !nc.d || !nc.f1 || !nc.f2 || !nc.u1 || !nc.u2 ||
        !nc.tmp) {
        tt_tape_cols_free(&nc);
        return -1;
    }
    tt_tape_cols_free(c);
    *c = nc;
    return 0;
}

/* Encode n events held in `c` for a stream kind into b (raw payload). */
int tt_tape_payload_encode(int kind, tt_tape_cols *c, uint32_t n, tt_tape_buf *b)
{
    switch (kind) {
    case TT_STREAM_QUOTE:
        /* spread = ask - bid, stored as deltas: quotes mostly keep their spread */
        for (uint32_t i = 0; i < n; i++)
            c->c[i] = wsub(c->b2[i], c->a[i]);
        if (ts_put(b, c->ts, n, c->tmp) || delta_put(b, c->a, n, c->tmp) ||
            delta_put(b, c->c, n, c->tmp) || bits32_put(b, c->f1, n, c->tmp) ||
            bits32_put(b, c->f2, n, c->tmp))
            return -1;
        return 0;
    case TT_STREAM_BAR: {
        /* open as deltas; high-open, open-low, close-low as plain magnitudes */
        int64_t *o = c->a, *h = c->b2, *l = c->c, *cl = c->d;
        if (ts_put(b, c->ts, n, c->tmp) || delta_put(b, o, n, c->tmp))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            c->tmp[i] = zigzag(wsub(h[i], o[i]));
        if (col_put(b, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            c->tmp[i] = zigzag(wsub(o[i], l[i]));
        if (col_put(b, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            c->tmp[i] = zigzag(wsub(cl[i], l[i]));
        if (col_put(b, c->tmp, n) || bits64_put(b, c->u1, n, c->tmp) || col_put(b, c->u2, n))
            return -1;
        return 0;
    }
    case TT_STREAM_TRADE:
        if (ts_put(b, c->ts, n, c->tmp) || delta_put(b, c->a, n, c->tmp) ||
            bits64_put(b, c->u1, n, c->tmp) || col_put(b, c->u2, n))
            return -1;
        return 0;
    default:
        return -1;
    }
}

int tt_tape_payload_decode(int kind, const uint8_t *p, size_t len, tt_tape_cols *c,
                           uint32_t n)
{
    tt_tape_in r = {p, p + len};
    switch (kind) {
    case TT_STREAM_QUOTE:
        if (ts_get(&r, c->ts, n, c->tmp) || delta_get(&r, c->a, n, c->tmp) ||
            delta_get(&r, c->c, n, c->tmp) || bits32_get(&r, c->f1, n, c->tmp) ||
            bits32_get(&r, c->f2, n, c->tmp))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            c->b2[i] = wadd(c->a[i], c->c[i]);
        break;
    case TT_STREAM_BAR: {
        int64_t *o = c->a, *h = c->b2, *l = c->c, *cl = c->d;
        if (ts_get(&r, c->ts, n, c->tmp) || delta_get(&r, o, n, c->tmp) || col_get(&r, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            h[i] = wadd(o[i], unzigzag(c->tmp[i]));
        if (col_get(&r, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            l[i] = wsub(o[i], unzigzag(c->tmp[i]));
        if (col_get(&r, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            cl[i] = wadd(l[i], unzigzag(c->tmp[i]));
        if (bits64_get(&r, c->u1, n) || col_get(&r, c->u2, n))
            return -1;
        break;
    }
    case TT_STREAM_TRADE:
        if (ts_get(&r, c->ts, n, c->tmp) || delta_get(&r, c->a, n, c->tmp) ||
            bits64_get(&r, c->u1, n) || col_get(&r, c->u2, n))
            return -1;
        break;
    default:
        return -1;
    }
    return r.p == r.end ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* blob payloads: records of u32 length and the canonical encoding             */

int tt_tape_blob_put(tt_tape_buf *b, const tt_event *ev)
{
    size_t need = TT_EVENT_ENCODED_MAX + BLOB_LEN_SIZE +
                  ((ev->kind == TT_EV_BLOB || ev->kind == TT_EV_EXTERNAL) ? ev->u.blob.len : 0);
    if (tt_tape_buf_reserve(b, need))
        return -1;
    size_t n = tt_event_encode(ev, b->p + b->n + BLOB_LEN_SIZE, 1);
    put32(b->p + b->n, (uint32_t)n);
    b->n += BLOB_LEN_SIZE + n;
    return 0;
}

int tt_tape_blob_get(tt_tape_in *in, tt_event *ev)
{
    if (in->end - in->p < BLOB_LEN_SIZE)
        return -1;
    uint32_t len = get32(in->p);
    if ((size_t)(in->end - in->p - BLOB_LEN_SIZE) < len ||
        !tt_event_decode(in->p + BLOB_LEN_SIZE, len, ev))
        return -2;
    in->p += BLOB_LEN_SIZE + len;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the codec's interface (tt_tape_codec)                                      */

/* The internal functions above keep their narrower signatures (no scratch
 * where none is needed) so the payload functions call them directly and the
 * compiler inlines as it likes; the interface adapts them. */
static int uint_put(tt_tape_buf *b, const uint64_t *v, uint32_t n, uint64_t *tmp)
{
    (void)tmp;
    return col_put(b, v, n);
}

static int uint_get(tt_tape_in *in, uint64_t *v, uint32_t n, uint64_t *tmp)
{
    (void)tmp;
    return col_get(in, v, n);
}

static int f64_get(tt_tape_in *in, uint64_t *v, uint32_t n, uint64_t *tmp)
{
    (void)tmp;
    return bits64_get(in, v, n);
}

const tt_tape_codec tt_tape_codec_planes = {
    .name = "planes",
    .uint_put = uint_put,
    .uint_get = uint_get,
    .ts_put = ts_put,
    .ts_get = ts_get,
    .delta_put = delta_put,
    .delta_get = delta_get,
    .f32_put = bits32_put,
    .f32_get = bits32_get,
    .f64_put = bits64_put,
    .f64_get = f64_get,
    .payload_encode = tt_tape_payload_encode,
    .payload_decode = tt_tape_payload_decode,
};
