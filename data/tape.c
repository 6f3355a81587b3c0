/*
 * The tape: segment files of checksummed, column-encoded, zstd-compressed blocks.
 *
 * How it works
 * ------------
 * On disk (docs/tape-format.md has the byte layout):
 *
 *   segment = header (64 bytes) · block · block · ...
 *   block   = block header (48 bytes) · zstd frame of the block payload
 *
 * The segment header carries the magic "TTAPESEG", the format version, the
 * stream description and its own XXH64. A block header carries a magic, the
 * event count, the first and last timestamps, the raw and compressed sizes,
 * an XXH32 of the header itself and an XXH64 of the compressed payload. The
 * header checksum lets a reader walk the blocks (the block index) without
 * decompressing anything and still notice a flipped bit in a length field.
 *
 * Payloads are columns. Every integer column is stored "byte-planed": the
 * column's width w (0..8 bytes, the fewest that hold every value) and then w
 * planes, plane k holding byte k of every value. Small deltas therefore cost
 * one plane, constant columns cost nothing, and zstd sees long runs of similar
 * bytes. Decoding a plane-packed column is a tight, branch-free loop, which is
 * what makes replay fast. Quote columns: timestamp deltas divided by their
 * greatest common divisor (Dukascopy's millisecond ticks store 1 per ms, not
 * 1e6), bid deltas (zigzag), spread deltas (zigzag), and the two float32 volume
 * columns, each either as a per-block dictionary of distinct bit patterns with
 * one-byte indices (real FX volumes repeat a lot) or as XOR-with-previous bit
 * planes. Everything is integer or raw bits, so a round trip is exact.
 *
 * Crash safety: a block goes to disk with one write() of header and payload,
 * and nothing else ever points at it. A reader walking block headers treats a
 * file that ends inside a block as a torn tail: every complete block before it
 * is kept and the tear is reported as a warning; a writer reopening the stream
 * truncates the tear away. A checksum mismatch is never a tear: it is an error
 * naming the file and the block.
 *
 * Reading many streams: each stream cursor holds one decoded block and the
 * index of the segment it is in; a k-way merge over the cursors' heads (a small
 * binary heap keyed by the engine's total order) yields events in time order in
 * memory that does not grow with the span read.
 */
#include "tape.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "../core/fingerprint.h"

#define SEG_MAGIC "TTAPESEG"
#define SEG_HDR_SIZE 64
#define BLK_MAGIC 0x4b425454u /* "TTBK" little-endian */
#define BLK_HDR_SIZE 48
#define DEFAULT_BLOCK_EVENTS 8192
#define MAX_BLOCK_EVENTS (1u << 20)
#define MAX_BLOCK_BYTES (256u << 20)
#define DEFAULT_ZSTD_LEVEL 12
#define SEG_EXT ".tts"

/* ------------------------------------------------------------------------ */
/* little-endian helpers                                                      */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static inline uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* ------------------------------------------------------------------------ */
/* growable byte buffer                                                       */

typedef struct bbuf {
    uint8_t *p;
    size_t n, cap;
    size_t marks[64]; /* plane ends (see col_put): each plane is compressed alone */
    int nmarks;
} bbuf;

static void bbuf_mark(bbuf *b)
{
    if (b->nmarks < 64 && (b->nmarks == 0 || b->marks[b->nmarks - 1] != b->n))
        b->marks[b->nmarks++] = b->n;
}

static int bbuf_reserve(bbuf *b, size_t extra)
{
    if (b->n + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* column codec                                                               */

/* Byte-planed unsigned column: width byte, then `width` planes of n bytes. */
static int col_put(bbuf *b, const uint64_t *v, uint32_t n)
{
    uint64_t any = 0;
    for (uint32_t i = 0; i < n; i++)
        any |= v[i];
    int w = 0;
    while (w < 8 && (any >> (8 * w)) != 0)
        w++;
    if (bbuf_reserve(b, 1 + (size_t)w * n))
        return -1;
    b->p[b->n++] = (uint8_t)w;
    for (int k = 0; k < w; k++) {
        bbuf_mark(b);
        uint8_t *out = b->p + b->n;
        for (uint32_t i = 0; i < n; i++)
            out[i] = (uint8_t)(v[i] >> (8 * k));
        b->n += n;
        bbuf_mark(b);
    }
    return 0;
}

typedef struct rd {
    const uint8_t *p, *end;
} rd;

static int col_get(rd *r, uint64_t *v, uint32_t n)
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

static int rd_u64(rd *r, uint64_t *v)
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

static int ts_put(bbuf *b, const tt_ts *ts, uint32_t n, uint64_t *tmp)
{
    uint64_t g = 0;
    tmp[0] = 0;
    for (uint32_t i = 1; i < n; i++) {
        tmp[i] = (uint64_t)(ts[i] - ts[i - 1]);
        g = gcd64(g, tmp[i]);
    }
    if (g == 0)
        g = 1;
    for (uint32_t i = 1; i < n; i++)
        tmp[i] /= g;
    if (bbuf_reserve(b, 16))
        return -1;
    put64(b->p + b->n, (uint64_t)ts[0]);
    put64(b->p + b->n + 8, g);
    b->n += 16;
    return col_put(b, tmp, n);
}

/* Read a column's width byte and plane pointer without gathering the planes,
 * so that callers can fuse the gather with their own pass for the common
 * one- and two-byte widths. Returns the width, or -1. */
static int col_peek(rd *r, uint32_t n, const uint8_t **planes)
{
    if (r->p >= r->end)
        return -1;
    int w = *r->p;
    if (w > 8 || (size_t)(r->end - r->p - 1) < (size_t)w * n)
        return -1;
    *planes = r->p + 1;
    return w;
}

static int ts_get(rd *r, tt_ts *ts, uint32_t n, uint64_t *tmp)
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
static int delta_put(bbuf *b, const int64_t *v, uint32_t n, uint64_t *tmp)
{
    int64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        tmp[i] = zigzag((int64_t)((uint64_t)v[i] - (uint64_t)prev));
        prev = v[i];
    }
    return col_put(b, tmp, n);
}

static int delta_get(rd *r, int64_t *v, uint32_t n, uint64_t *tmp)
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
enum { BITS_DICT = 1, BITS_XOR = 2, BITS_DECIMAL = 3 };

static const double POW10[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};

static inline float decimal_value(uint64_t k, int e) { return (float)((double)k / POW10[e]); }

/* Decoding decimal volumes: k / 10^e for the small k that real volumes are
 * (a few hundred distinct values, nearly all under DEC_TAB) read from a table
 * filled once per process with decimal_value itself, so the bits are the
 * same; a division per value was a tenth of the replay's time. */
#define DEC_TAB 4096
static float dec_tab[7][DEC_TAB];
static pthread_once_t dec_once = PTHREAD_ONCE_INIT;

static void dec_tab_fill(void)
{
    for (int e = 0; e < 7; e++)
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
            if (++e > 6)
                return -1;
            i = (uint32_t)-1; /* a finer scale: redo the block from the start */
            break;
        }
    }
    return e;
}

static int bits32_put(bbuf *b, const uint32_t *v, uint32_t n, uint64_t *tmp)
{
    int e = decimal_scale(v, n, tmp);
    if (e >= 0) {
        if (bbuf_reserve(b, 2))
            return -1;
        b->p[b->n++] = BITS_DECIMAL;
        b->p[b->n++] = (uint8_t)e;
        return col_put(b, tmp, n);
    }
    uint32_t dict[256];
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
                if (nd == 256) {
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
        if (bbuf_reserve(b, 3 + 4 * (size_t)nd))
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
    if (bbuf_reserve(b, 1))
        return -1;
    b->p[b->n++] = BITS_XOR;
    return col_put(b, tmp, n);
}

static int bits32_get(rd *r, uint32_t *v, uint32_t n, uint64_t *tmp)
{
    if (r->p >= r->end)
        return -1;
    int mode = *r->p++;
    if (mode == BITS_DECIMAL) {
        if (r->p >= r->end || *r->p > 6)
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
        if (nd == 0 || nd > 256 || (size_t)(r->end - r->p) < 4 * (size_t)nd)
            return -1;
        uint32_t dict[256];
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
static int bits64_put(bbuf *b, const uint64_t *v, uint32_t n, uint64_t *tmp)
{
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        tmp[i] = v[i] ^ prev;
        prev = v[i];
    }
    return col_put(b, tmp, n);
}

static int bits64_get(rd *r, uint64_t *v, uint32_t n)
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
/* decoded block (structure of arrays)                                        */

typedef struct cols {
    uint32_t cap;
    tt_ts *ts;
    int64_t *a, *b2, *c, *d;   /* quote: bid, ask; bar: o h l c; trade: price */
    uint32_t *f1, *f2;         /* quote volumes (float bits) */
    uint64_t *u1, *u2;         /* bar volume bits + ticks/tf/side; trade size bits, aggressor */
    uint64_t *tmp;
} cols;

static void cols_free(cols *c)
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

static int cols_reserve(cols *c, uint32_t n)
{
    if (n <= c->cap)
        return 0;
    cols nc = {0};
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
        cols_free(&nc);
        return -1;
    }
    cols_free(c);
    *c = nc;
    return 0;
}

/* Encode n events held in `c` for a stream kind into b (raw payload). */
static int payload_encode(int kind, cols *c, uint32_t n, bbuf *b)
{
    switch (kind) {
    case TT_STREAM_QUOTE:
        /* spread = ask - bid, stored as deltas: quotes mostly keep their spread */
        for (uint32_t i = 0; i < n; i++)
            c->c[i] = c->b2[i] - c->a[i];
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
            c->tmp[i] = zigzag(h[i] - o[i]);
        if (col_put(b, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            c->tmp[i] = zigzag(o[i] - l[i]);
        if (col_put(b, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            c->tmp[i] = zigzag(cl[i] - l[i]);
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

static int payload_decode(int kind, const uint8_t *p, size_t len, cols *c, uint32_t n)
{
    rd r = {p, p + len};
    switch (kind) {
    case TT_STREAM_QUOTE:
        if (ts_get(&r, c->ts, n, c->tmp) || delta_get(&r, c->a, n, c->tmp) ||
            delta_get(&r, c->c, n, c->tmp) || bits32_get(&r, c->f1, n, c->tmp) ||
            bits32_get(&r, c->f2, n, c->tmp))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            c->b2[i] = c->a[i] + c->c[i];
        break;
    case TT_STREAM_BAR: {
        int64_t *o = c->a, *h = c->b2, *l = c->c, *cl = c->d;
        if (ts_get(&r, c->ts, n, c->tmp) || delta_get(&r, o, n, c->tmp) || col_get(&r, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            h[i] = o[i] + unzigzag(c->tmp[i]);
        if (col_get(&r, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            l[i] = o[i] - unzigzag(c->tmp[i]);
        if (col_get(&r, c->tmp, n))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            cl[i] = l[i] + unzigzag(c->tmp[i]);
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
/* stream descriptions and paths                                              */

void tt_stream_desc_name(const tt_stream_desc *d, char *buf, size_t bufsize)
{
    static const char *sides[] = {"bid", "ask", "mid"};
    switch (d->kind) {
    case TT_STREAM_QUOTE: snprintf(buf, bufsize, "quote"); break;
    case TT_STREAM_TRADE: snprintf(buf, bufsize, "trade"); break;
    case TT_STREAM_BLOB: snprintf(buf, bufsize, "blob"); break;
    case TT_STREAM_BAR:
        snprintf(buf, bufsize, "bar-%s-%s", tt_timeframe_name(d->tf), d->side < 3 ? sides[d->side] : "?");
        break;
    default: snprintf(buf, bufsize, "unknown"); break;
    }
}

int tt_stream_desc_parse(const char *symbol, const char *name, tt_stream_desc *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(symbol) >= sizeof out->symbol || !symbol[0])
        return TT_EINVAL;
    memcpy(out->symbol, symbol, strlen(symbol) + 1);
    if (!strcmp(name, "quote")) out->kind = TT_STREAM_QUOTE;
    else if (!strcmp(name, "trade")) out->kind = TT_STREAM_TRADE;
    else if (!strcmp(name, "blob")) out->kind = TT_STREAM_BLOB;
    else if (!strncmp(name, "bar-", 4)) {
        char tf[8];
        const char *dash = strchr(name + 4, '-');
        if (!dash || (size_t)(dash - (name + 4)) >= sizeof tf)
            return TT_EINVAL;
        memcpy(tf, name + 4, (size_t)(dash - (name + 4)));
        tf[dash - (name + 4)] = '\0';
        out->kind = TT_STREAM_BAR;
        out->tf = (uint8_t)tt_timeframe_parse(tf);
        if (!out->tf)
            return TT_EINVAL;
        if (!strcmp(dash + 1, "bid")) out->side = TT_SIDE_BID;
        else if (!strcmp(dash + 1, "ask")) out->side = TT_SIDE_ASK;
        else if (!strcmp(dash + 1, "mid")) out->side = TT_SIDE_MID;
        else return TT_EINVAL;
    } else
        return TT_EINVAL;
    return TT_OK;
}

static int mkdirs(const char *path, tt_err *err)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof tmp)
        return tt_err_set(err, TT_EINVAL, "%s: path too long", path);
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0777) && errno != EEXIST)
                return tt_err_set(err, TT_EIO, "%s: cannot create directory: %s", tmp, strerror(errno));
            tmp[i] = c;
        }
    }
    return TT_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of a directory (files ending in `suffix`, or subdirectories when
 * suffix is NULL). Returns count, or -1 when the directory cannot be read. */
static int list_dir(const char *dir, const char *suffix, char ***out)
{
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d)
        return -1;
    char **v = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(e->d_name);
        if (suffix) {
            size_t sl = strlen(suffix);
            if (len <= sl || strcmp(e->d_name + len - sl, suffix))
                continue;
        } else {
            char p[4096];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (stat(p, &st) || !S_ISDIR(st.st_mode))
                continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        v[n] = strdup(e->d_name);
        if (v[n])
            n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, name_cmp);
    *out = v;
    return n;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void month_key(tt_ts ts, char out[8])
{
    int y, m, d;
    tt_ts_to_civil(ts, &y, &m, &d, NULL, NULL, NULL, NULL);
    snprintf(out, 8, "%04d-%02d", y % 10000, m);
}

/* ------------------------------------------------------------------------ */
/* segment header and block walking                                           */

static void seg_header_build(uint8_t h[SEG_HDR_SIZE], const tt_stream_desc *d)
{
    memset(h, 0, SEG_HDR_SIZE);
    memcpy(h, SEG_MAGIC, 8);
    put16(h + 8, TT_TAPE_FORMAT_VERSION);
    put16(h + 10, SEG_HDR_SIZE);
    h[12] = d->kind;
    h[13] = d->tf;
    h[14] = d->side;
    memcpy(h + 16, d->symbol, strnlen(d->symbol, TT_SYMBOL_MAX));
    put64(h + 56, XXH64(h, 56, 0));
}

static int seg_header_check(const uint8_t h[SEG_HDR_SIZE], const char *path, tt_stream_desc *d,
                            tt_err *err)
{
    if (memcmp(h, SEG_MAGIC, 8))
        return tt_err_set(err, TT_EFORMAT, "%s: not a ticktape segment (bad magic)", path);
    uint16_t ver = get16(h + 8);
    if (ver != TT_TAPE_FORMAT_VERSION)
        return tt_err_set(err, TT_EVERSION,
                          "%s: tape format version %u is not supported (this ticktape reads "
                          "version %d); use a ticktape release that knows version %u",
                          path, ver, TT_TAPE_FORMAT_VERSION, ver);
    if (get64(h + 56) != XXH64(h, 56, 0))
        return tt_err_set(err, TT_ECHECKSUM, "%s: segment header checksum mismatch", path);
    if (get16(h + 10) != SEG_HDR_SIZE)
        return tt_err_set(err, TT_EFORMAT, "%s: unexpected segment header size %u", path,
                          get16(h + 10));
    memset(d, 0, sizeof *d);
    d->kind = h[12];
    d->tf = h[13];
    d->side = h[14];
    memcpy(d->symbol, h + 16, TT_SYMBOL_MAX - 1);
    return TT_OK;
}

typedef struct blk_hdr {
    uint32_t count, raw_len, comp_len;
    tt_ts first, last;
    uint64_t sum;
    uint64_t offset; /* of the block header in the file */
} blk_hdr;

static void blk_header_build(uint8_t h[BLK_HDR_SIZE], const blk_hdr *b)
{
    memset(h, 0, BLK_HDR_SIZE);
    put32(h, BLK_MAGIC);
    put32(h + 4, b->count);
    put64(h + 8, (uint64_t)b->first);
    put64(h + 16, (uint64_t)b->last);
    put32(h + 24, b->raw_len);
    put32(h + 28, b->comp_len);
    h[32] = 1; /* codec: zstd frames, one per byte plane */
    put32(h + 36, XXH32(h, 36, 0));
    put64(h + 40, b->sum);
}

/* 0 ok, -1 bad header (corruption). */
static int blk_header_parse(const uint8_t h[BLK_HDR_SIZE], blk_hdr *b)
{
    if (get32(h) != BLK_MAGIC || get32(h + 36) != XXH32(h, 36, 0) || h[32] != 1)
        return -1;
    b->count = get32(h + 4);
    b->first = (tt_ts)get64(h + 8);
    b->last = (tt_ts)get64(h + 16);
    b->raw_len = get32(h + 24);
    b->comp_len = get32(h + 28);
    b->sum = get64(h + 40);
    if (b->count == 0 || b->count > MAX_BLOCK_EVENTS || b->raw_len > MAX_BLOCK_BYTES ||
        b->comp_len > MAX_BLOCK_BYTES || b->first > b->last)
        return -1;
    return 0;
}

/* Walk a segment's blocks. Fills *idx (malloc'd), *nidx, *good_end (offset after
 * the last complete block) and *torn (1 when the file ends inside a block).
 * Errors name the file and the block. */
static int seg_scan(int fd, const char *path, const tt_stream_desc *want, blk_hdr **idx,
                    uint32_t *nidx, uint64_t *good_end, int *torn, tt_err *err)
{
    struct stat st;
    *idx = NULL;
    *nidx = 0;
    *torn = 0;
    *good_end = 0;
    if (fstat(fd, &st))
        return tt_err_set(err, TT_EIO, "%s: %s", path, strerror(errno));
    uint64_t size = (uint64_t)st.st_size;
    uint8_t h[SEG_HDR_SIZE];
    if (size < SEG_HDR_SIZE) {
        *torn = size > 0;
        return TT_OK; /* an empty or torn header: nothing readable */
    }
    if (pread(fd, h, SEG_HDR_SIZE, 0) != SEG_HDR_SIZE)
        return tt_err_set(err, TT_EIO, "%s: cannot read header: %s", path, strerror(errno));
    tt_stream_desc d;
    int rc = seg_header_check(h, path, &d, err);
    if (rc)
        return rc;
    if (want && (d.kind != want->kind || d.tf != want->tf || d.side != want->side ||
                 strcmp(d.symbol, want->symbol)))
        return tt_err_set(err, TT_EFORMAT, "%s: segment describes another stream (%s)", path,
                          d.symbol);
    uint64_t off = SEG_HDR_SIZE;
    uint32_t cap = 0;
    blk_hdr *v = NULL;
    *good_end = off;
    while (off < size) {
        if (size - off < BLK_HDR_SIZE) {
            *torn = 1;
            break;
        }
        uint8_t bh[BLK_HDR_SIZE];
        if (pread(fd, bh, BLK_HDR_SIZE, (off_t)off) != BLK_HDR_SIZE) {
            free(v);
            return tt_err_set(err, TT_EIO, "%s: block %u: read failed: %s", path, *nidx,
                              strerror(errno));
        }
        blk_hdr b;
        if (blk_header_parse(bh, &b)) {
            free(v);
            return tt_err_set(err, TT_ECHECKSUM,
                              "%s: block %u (offset %llu): corrupt block header", path, *nidx,
                              (unsigned long long)off);
        }
        if (size - off - BLK_HDR_SIZE < b.comp_len) {
            *torn = 1;
            break;
        }
        b.offset = off;
        if (*nidx == cap) {
            cap = cap ? cap * 2 : 64;
            blk_hdr *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                return tt_err_set(err, TT_ENOMEM, "out of memory");
            }
            v = nv;
        }
        v[(*nidx)++] = b;
        off += BLK_HDR_SIZE + b.comp_len;
        *good_end = off;
    }
    *idx = v;
    return TT_OK;
}

/* ------------------------------------------------------------------------ */
/* writer                                                                     */

struct tt_tape_writer {
    tt_stream_desc desc;
    char sdir[4096];    /* stream directory */
    char month[8];      /* current segment's month key ("" = none open) */
    tt_ts month_lo, month_hi; /* [lo, hi) of the open segment's month */
    char path[4200];
    int fd;
    uint32_t block_events;
    int level, do_fsync;
    cols c;
    uint32_t n;         /* pending events */
    bbuf blob;          /* pending blob events, canonical encoding, length-prefixed */
    bbuf raw, comp;
    ZSTD_CCtx *cctx;
    tt_ts last_ts;
    int have_last;
    uint64_t repaired, count;
};

static int writer_open_segment(tt_tape_writer *w, const char *month, tt_err *err)
{
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    snprintf(w->path, sizeof w->path, "%s/%s" SEG_EXT, w->sdir, month);
    int fd = open(w->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", w->path, strerror(errno));
    blk_hdr *idx;
    uint32_t nidx;
    uint64_t good;
    int torn;
    int rc = seg_scan(fd, w->path, &w->desc, &idx, &nidx, &good, &torn, err);
    if (rc) {
        close(fd);
        return rc;
    }
    if (nidx) {
        tt_ts last = idx[nidx - 1].last;
        if (!w->have_last || last > w->last_ts)
            w->last_ts = last;
        w->have_last = 1;
    }
    free(idx);
    struct stat st;
    fstat(fd, &st);
    if (good < SEG_HDR_SIZE) {
        /* new file, or a header that was torn before any block: start over */
        uint8_t h[SEG_HDR_SIZE];
        seg_header_build(h, &w->desc);
        if (st.st_size > 0)
            w->repaired += (uint64_t)st.st_size;
        if (ftruncate(fd, 0) || pwrite(fd, h, SEG_HDR_SIZE, 0) != SEG_HDR_SIZE) {
            close(fd);
            return tt_err_set(err, TT_EIO, "%s: cannot write header: %s", w->path, strerror(errno));
        }
        good = SEG_HDR_SIZE;
    } else if (torn || (uint64_t)st.st_size > good) {
        w->repaired += (uint64_t)st.st_size - good;
        if (ftruncate(fd, (off_t)good)) {
            close(fd);
            return tt_err_set(err, TT_EIO, "%s: cannot truncate torn tail: %s", w->path,
                              strerror(errno));
        }
    }
    if (lseek(fd, (off_t)good, SEEK_SET) < 0) {
        close(fd);
        return tt_err_set(err, TT_EIO, "%s: seek: %s", w->path, strerror(errno));
    }
    w->fd = fd;
    memcpy(w->month, month, 8);
    int y = atoi(month), m = atoi(month + 5);
    w->month_lo = tt_ts_from_civil(y, m, 1, 0, 0, 0, 0);
    w->month_hi = m == 12 ? tt_ts_from_civil(y + 1, 1, 1, 0, 0, 0, 0)
                          : tt_ts_from_civil(y, m + 1, 1, 0, 0, 0, 0);
    return TT_OK;
}

int tt_tape_writer_open(tt_tape_writer **out, const char *dir, const tt_stream_desc *desc,
                        const tt_tape_writer_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!desc->symbol[0] || strchr(desc->symbol, '/') || desc->symbol[0] == '.')
        return tt_err_set(err, TT_EINVAL, "invalid stream symbol '%s'", desc->symbol);
    if (desc->kind < TT_STREAM_QUOTE || desc->kind > TT_STREAM_TRADE ||
        (desc->kind == TT_STREAM_BAR && (desc->tf == 0 || desc->tf >= TT_TF_COUNT || desc->side > 2)))
        return tt_err_set(err, TT_EINVAL, "invalid stream description for '%s'", desc->symbol);
    tt_tape_writer *w = calloc(1, sizeof *w);
    if (!w)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    w->fd = -1;
    w->desc = *desc;
    w->block_events = opts && opts->block_events ? opts->block_events : DEFAULT_BLOCK_EVENTS;
    if (w->block_events > MAX_BLOCK_EVENTS)
        w->block_events = MAX_BLOCK_EVENTS;
    w->level = opts && opts->zstd_level ? opts->zstd_level : DEFAULT_ZSTD_LEVEL;
    w->do_fsync = opts ? opts->fsync : 0;
    char name[64];
    tt_stream_desc_name(desc, name, sizeof name);
    snprintf(w->sdir, sizeof w->sdir, "%s/%s/%s", dir, desc->symbol, name);
    int rc = mkdirs(w->sdir, err);
    if (rc)
        goto fail;
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx || (desc->kind != TT_STREAM_BLOB && cols_reserve(&w->c, w->block_events))) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        goto fail;
    }
    /* Continue after the last segment (the latest month). */
    char **segs;
    int ns = list_dir(w->sdir, SEG_EXT, &segs);
    if (ns > 0) {
        char month[8];
        snprintf(month, sizeof month, "%.7s", segs[ns - 1]);
        free_list(segs, ns);
        if ((rc = writer_open_segment(w, month, err)))
            goto fail;
    } else if (ns == 0) {
        free(segs);
    }
    *out = w;
    return TT_OK;
fail:
    tt_tape_writer_close(w, NULL);
    return rc;
}

static int writer_write_block(tt_tape_writer *w, tt_err *err)
{
    if (w->n == 0)
        return TT_OK;
    w->raw.n = 0;
    w->raw.nmarks = 0;
    tt_ts first, last;
    if (w->desc.kind == TT_STREAM_BLOB) {
        if (bbuf_reserve(&w->raw, w->blob.n))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        memcpy(w->raw.p, w->blob.p, w->blob.n);
        w->raw.n = w->blob.n;
        last = w->last_ts;
        /* the block's first time: that of its first record */
        tt_event ev;
        uint32_t len = get32(w->blob.p);
        if (!tt_event_decode(w->blob.p + 4, len, &ev))
            return tt_err_set(err, TT_EFORMAT, "internal: cannot decode pending journal event");
        first = ev.ts;
    } else {
        if (payload_encode(w->desc.kind, &w->c, w->n, &w->raw))
            return tt_err_set(err, TT_ENOMEM, "out of memory encoding a block");
        first = w->c.ts[0];
        last = w->c.ts[w->n - 1];
    }
    /* Each byte plane is its own zstd frame, so each gets its own entropy
     * tables (one table shared by all planes costs ~0.5 byte/tick on real
     * FX data). Layout: u8 nframes, then per frame u32 raw_len, u32 comp_len,
     * and the frame. Blob payloads are one frame. */
    bbuf_mark(&w->raw);
    int nf = w->raw.nmarks;
    size_t bound = 1 + (size_t)nf * 8;
    for (int i = 0; i < nf; i++)
        bound += ZSTD_compressBound(w->raw.marks[i] - (i ? w->raw.marks[i - 1] : 0));
    w->comp.n = 0;
    if (bbuf_reserve(&w->comp, bound))
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    w->comp.p[0] = (uint8_t)nf;
    size_t cn = 1;
    for (int i = 0; i < nf; i++) {
        size_t lo = i ? w->raw.marks[i - 1] : 0, len = w->raw.marks[i] - lo;
        size_t z = ZSTD_compressCCtx(w->cctx, w->comp.p + cn + 8, bound - cn - 8, w->raw.p + lo,
                                     len, w->level);
        if (ZSTD_isError(z))
            return tt_err_set(err, TT_EIO, "%s: zstd: %s", w->path, ZSTD_getErrorName(z));
        put32(w->comp.p + cn, (uint32_t)len);
        put32(w->comp.p + cn + 4, (uint32_t)z);
        cn += 8 + z;
    }
    blk_hdr b = {.count = w->n, .raw_len = (uint32_t)w->raw.n, .comp_len = (uint32_t)cn,
                 .first = first, .last = last, .sum = XXH64(w->comp.p, cn, 0)};
    uint8_t h[BLK_HDR_SIZE];
    blk_header_build(h, &b);
    struct iovec iov[2] = {{h, BLK_HDR_SIZE}, {w->comp.p, cn}};
    ssize_t want = (ssize_t)(BLK_HDR_SIZE + cn);
    ssize_t got = writev(w->fd, iov, 2);
    if (got != want) {
        /* leave the stream as it was: cut off whatever part of the block landed */
        off_t end = lseek(w->fd, 0, SEEK_CUR);
        if (got > 0 && end >= got && ftruncate(w->fd, end - got) == 0)
            lseek(w->fd, end - got, SEEK_SET);
        return tt_err_set(err, TT_EIO, "%s: block write failed: %s", w->path,
                          got < 0 ? strerror(errno) : "short write");
    }
    if (w->do_fsync && fsync(w->fd))
        return tt_err_set(err, TT_EIO, "%s: fsync: %s", w->path, strerror(errno));
    w->n = 0;
    w->blob.n = 0;
    return TT_OK;
}

int tt_tape_writer_append(tt_tape_writer *w, const tt_event *ev, tt_err *err)
{
    int k = w->desc.kind;
    if ((k == TT_STREAM_QUOTE && ev->kind != TT_EV_QUOTE) ||
        (k == TT_STREAM_BAR && ev->kind != TT_EV_BAR) ||
        (k == TT_STREAM_TRADE && ev->kind != TT_EV_TRADE))
        return tt_err_set(err, TT_EINVAL, "stream %s: cannot append a %s event", w->desc.symbol,
                          tt_event_kind_name(ev->kind));
    if (w->have_last && ev->ts < w->last_ts) {
        char a[48], b[48];
        tt_ts_format(ev->ts, a, sizeof a, 1);
        tt_ts_format(w->last_ts, b, sizeof b, 1);
        return tt_err_set(err, TT_EORDER, "stream %s: event at %s is earlier than the last one (%s)",
                          w->desc.symbol, a, b);
    }
    if (w->fd < 0 || ev->ts < w->month_lo || ev->ts >= w->month_hi) {
        char month[8];
        month_key(ev->ts, month);
        int rc = writer_write_block(w, err);
        if (!rc)
            rc = writer_open_segment(w, month, err);
        if (rc)
            return rc;
        if (w->have_last && ev->ts < w->last_ts)
            return tt_err_set(err, TT_EORDER, "stream %s: event earlier than the stream's last",
                              w->desc.symbol);
    }
    uint32_t i = w->n;
    if (k == TT_STREAM_BLOB) {
        size_t need = TT_EVENT_ENCODED_MAX + 4 +
                      ((ev->kind == TT_EV_BLOB || ev->kind == TT_EV_EXTERNAL) ? ev->u.blob.len : 0);
        if (bbuf_reserve(&w->blob, need))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        size_t n = tt_event_encode(ev, w->blob.p + w->blob.n + 4, 1);
        put32(w->blob.p + w->blob.n, (uint32_t)n);
        w->blob.n += 4 + n;
    } else {
        w->c.ts[i] = ev->ts;
        if (k == TT_STREAM_QUOTE) {
            w->c.a[i] = ev->u.quote.bid;
            w->c.b2[i] = ev->u.quote.ask;
            memcpy(&w->c.f1[i], &ev->u.quote.bid_vol, 4);
            memcpy(&w->c.f2[i], &ev->u.quote.ask_vol, 4);
        } else if (k == TT_STREAM_BAR) {
            w->c.a[i] = ev->u.bar.open;
            w->c.b2[i] = ev->u.bar.high;
            w->c.c[i] = ev->u.bar.low;
            w->c.d[i] = ev->u.bar.close;
            memcpy(&w->c.u1[i], &ev->u.bar.volume, 8);
            w->c.u2[i] = ev->u.bar.ticks;
        } else {
            w->c.a[i] = ev->u.trade.price;
            memcpy(&w->c.u1[i], &ev->u.trade.size, 8);
            w->c.u2[i] = (uint8_t)ev->u.trade.aggressor;
        }
    }
    w->n++;
    w->count++;
    w->last_ts = ev->ts;
    w->have_last = 1;
    if (w->n >= w->block_events || (k == TT_STREAM_BLOB && w->blob.n >= (4u << 20)))
        return writer_write_block(w, err);
    return TT_OK;
}

int tt_tape_writer_flush(tt_tape_writer *w, tt_err *err)
{
    return writer_write_block(w, err);
}

int tt_tape_writer_close(tt_tape_writer *w, tt_err *err)
{
    if (!w)
        return TT_OK;
    int rc = TT_OK;
    if (w->fd >= 0) {
        rc = writer_write_block(w, err);
        if (close(w->fd) && !rc)
            rc = tt_err_set(err, TT_EIO, "%s: close: %s", w->path, strerror(errno));
    }
    cols_free(&w->c);
    free(w->blob.p);
    free(w->raw.p);
    free(w->comp.p);
    ZSTD_freeCCtx(w->cctx);
    free(w);
    return rc;
}

uint64_t tt_tape_writer_repaired(const tt_tape_writer *w) { return w->repaired; }
uint64_t tt_tape_writer_count(const tt_tape_writer *w) { return w->count; }

/* Decompress a block's frames back into the raw payload; 0 or -1. */
static int frames_decompress(ZSTD_DCtx *dctx, const uint8_t *p, size_t len, uint8_t *out,
                             size_t out_len, size_t *got)
{
    if (len < 1)
        return -1;
    int nf = p[0];
    size_t off = 1, at = 0;
    for (int i = 0; i < nf; i++) {
        if (len - off < 8)
            return -1;
        size_t rl = get32(p + off), cl = get32(p + off + 4);
        off += 8;
        if (len - off < cl || out_len - at < rl)
            return -1;
        size_t d = ZSTD_decompressDCtx(dctx, out + at, rl, p + off, cl);
        if (ZSTD_isError(d) || d != rl)
            return -1;
        off += cl;
        at += rl;
    }
    if (off != len || at != out_len)
        return -1;
    *got = at;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* reading one stream                                                         */

typedef struct cursor {
    tt_stream_desc desc;
    char sdir[4096];
    char **segs;
    int nsegs, seg;     /* segment list, current segment ordinal */
    int fd;
    char path[4200];
    blk_hdr *idx;
    uint32_t nidx, blk; /* current segment's block index, next block to load */
    uint64_t blk_base;  /* events in this segment's blocks before the loaded one */
    cols c;
    uint32_t n, pos;    /* events in the loaded block, next to yield */
    bbuf raw, comp;
    const uint8_t *bp, *bend; /* blob cursor in raw */
    uint32_t symbol_id;
    uint16_t source;
    tt_event head;      /* current head (merge of several streams) */
    uint32_t fast_end;  /* events before this index need no range check (quotes only) */
    int done;
} cursor;

struct tt_tape_reader {
    cursor *cur;
    int ncur;
    int *heap; /* indices of cursors with a head, ordered by their head */
    int nheap;
    tt_ts from, to;
    ZSTD_DCtx *dctx;
    char **warnings;
    int nwarn;
    char (*names)[TT_SYMBOL_MAX]; /* id -> symbol (when no instrument table) */
    uint32_t nnames;
    const tt_instruments *ins;
    int started;
};

static void reader_warn(tt_tape_reader *r, const char *fmt, const char *a, uint32_t b)
{
    char buf[4400];
    snprintf(buf, sizeof buf, fmt, a, b);
    char **nv = realloc(r->warnings, (size_t)(r->nwarn + 1) * sizeof *nv);
    if (!nv)
        return;
    r->warnings = nv;
    r->warnings[r->nwarn] = strdup(buf);
    if (r->warnings[r->nwarn])
        r->nwarn++;
}

static void cursor_close_segment(cursor *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->idx);
    c->idx = NULL;
    c->nidx = c->blk = 0;
    c->blk_base = 0;
}

/* Open segment `s` of the cursor and walk its block index. */
static int cursor_open_segment(tt_tape_reader *r, cursor *c, int s, tt_err *err)
{
    cursor_close_segment(c);
    c->seg = s;
    snprintf(c->path, sizeof c->path, "%s/%s", c->sdir, c->segs[s]);
    c->fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", c->path, strerror(errno));
    uint64_t good;
    int torn;
    int rc = seg_scan(c->fd, c->path, &c->desc, &c->idx, &c->nidx, &good, &torn, err);
    if (rc)
        return rc;
    if (torn)
        reader_warn(r, "%s: torn tail after block %u (incomplete write); the complete blocks "
                       "before it were read",
                    c->path, c->nidx);
    return TT_OK;
}

/* Load block c->blk of the current segment into the decoded columns. */
static int cursor_load_block(tt_tape_reader *r, cursor *c, tt_err *err)
{
    blk_hdr *b = &c->idx[c->blk];
    c->comp.n = c->raw.n = 0;
    if (bbuf_reserve(&c->comp, b->comp_len) || bbuf_reserve(&c->raw, b->raw_len + 1))
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    if (pread(c->fd, c->comp.p, b->comp_len, (off_t)(b->offset + BLK_HDR_SIZE)) !=
        (ssize_t)b->comp_len)
        return tt_err_set(err, TT_EIO, "%s: block %u: read failed", c->path, c->blk);
    if (XXH64(c->comp.p, b->comp_len, 0) != b->sum)
        return tt_err_set(err, TT_ECHECKSUM, "%s: block %u (offset %llu): checksum mismatch",
                          c->path, c->blk, (unsigned long long)b->offset);
    size_t dn;
    if (frames_decompress(r->dctx, c->comp.p, b->comp_len, c->raw.p, b->raw_len, &dn))
        return tt_err_set(err, TT_EFORMAT, "%s: block %u: cannot decompress", c->path, c->blk);
    c->raw.n = dn;
    if (c->desc.kind == TT_STREAM_BLOB) {
        c->bp = c->raw.p;
        c->bend = c->raw.p + dn;
    } else {
        if (cols_reserve(&c->c, b->count))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        if (payload_decode(c->desc.kind, c->raw.p, dn, &c->c, b->count))
            return tt_err_set(err, TT_EFORMAT, "%s: block %u: malformed payload", c->path, c->blk);
    }
    c->n = b->count;
    c->pos = 0;
    c->blk++;
    /* a quote block wholly inside [from, to) takes the fast path in cursor_next */
    c->fast_end = (c->desc.kind == TT_STREAM_QUOTE && b->first >= r->from &&
                   (!r->to || b->last < r->to)) ? b->count : 0;
    return TT_OK;
}

/* Event i of the cursor's decoded quote block, written field by field (only
 * the fields of a quote event). reader_source_batch writes the same fields
 * by hand, with the column pointers in locals (see there). */
static inline void quote_at(const cursor *c, uint32_t i, tt_event *ev)
{
    ev->ts = ev->ts_init = c->c.ts[i];
    ev->seq = ((uint64_t)c->seg << 40) + c->blk_base + i + 1;
    ev->symbol = c->symbol_id;
    ev->source = c->source;
    ev->kind = TT_EV_QUOTE;
    ev->cls = TT_CLS_MARKET;
    ev->u.quote.bid = c->c.a[i];
    ev->u.quote.ask = c->c.b2[i];
    memcpy(&ev->u.quote.bid_vol, &c->c.f1[i], 4);
    memcpy(&ev->u.quote.ask_vol, &c->c.f2[i], 4);
}

/* Advance to the next event of the cursor into *ev. 1 = event, 0 = end. */
static int cursor_advance(tt_tape_reader *r, cursor *c, tt_event *ev, tt_err *err)
{
    for (;;) {
        if (c->pos < c->n) {
            uint32_t i = c->pos++;
            if (c->desc.kind == TT_STREAM_BLOB) {
                if (c->bend - c->bp < 4)
                    return tt_err_set(err, TT_EFORMAT, "%s: block %u: truncated event", c->path,
                                      c->blk - 1);
                uint32_t len = get32(c->bp);
                if ((size_t)(c->bend - c->bp - 4) < len || !tt_event_decode(c->bp + 4, len, ev))
                    return tt_err_set(err, TT_EFORMAT, "%s: block %u: malformed event %u", c->path,
                                      c->blk - 1, i);
                c->bp += 4 + len;
            } else {
                ev->ts = ev->ts_init = c->c.ts[i];
                ev->seq = ((uint64_t)c->seg << 40) + c->blk_base + i + 1;
                ev->symbol = c->symbol_id;
                ev->source = c->source;
                switch (c->desc.kind) {
                case TT_STREAM_QUOTE:
                    quote_at(c, i, ev);
                    break;
                case TT_STREAM_BAR:
                    memset(&ev->u, 0, sizeof ev->u);
                    ev->kind = TT_EV_BAR;
                    ev->cls = TT_CLS_MARKET;
                    ev->u.bar.open = c->c.a[i];
                    ev->u.bar.high = c->c.b2[i];
                    ev->u.bar.low = c->c.c[i];
                    ev->u.bar.close = c->c.d[i];
                    memcpy(&ev->u.bar.volume, &c->c.u1[i], 8);
                    ev->u.bar.ticks = (uint32_t)c->c.u2[i];
                    ev->u.bar.tf = c->desc.tf;
                    ev->u.bar.side = c->desc.side;
                    break;
                default:
                    memset(&ev->u, 0, sizeof ev->u);
                    ev->kind = TT_EV_TRADE;
                    ev->cls = TT_CLS_MARKET;
                    ev->u.trade.price = c->c.a[i];
                    memcpy(&ev->u.trade.size, &c->c.u1[i], 8);
                    ev->u.trade.aggressor = (int8_t)c->c.u2[i];
                    break;
                }
            }
            if (ev->ts < r->from)
                continue;
            if (r->to && ev->ts >= r->to) {
                c->done = 1;
                return 0;
            }
            return 1;
        }
        if (c->done)
            return 0;
        /* next block: in this segment, else the next segment */
        if (c->blk > 0 && c->blk <= c->nidx)
            c->blk_base += c->idx[c->blk - 1].count;
        while (c->blk >= c->nidx) {
            if (c->seg + 1 >= c->nsegs) {
                c->done = 1;
                return 0;
            }
            int rc = cursor_open_segment(r, c, c->seg + 1, err);
            if (rc)
                return rc;
        }
        if (r->to && c->idx[c->blk].first >= r->to) {
            c->done = 1;
            return 0;
        }
        int rc = cursor_load_block(r, c, err);
        if (rc)
            return rc;
    }
}

/* The replay hot path: a quote from a block that needs no range checks is
 * written straight into the caller's event; anything else takes the general
 * path. Only the fields of a quote event are written. */
static inline int cursor_next(tt_tape_reader *r, cursor *c, tt_event *ev, tt_err *err)
{
    if (c->pos < c->fast_end) {
        quote_at(c, c->pos++, ev);
        return 1;
    }
    return cursor_advance(r, c, ev, err);
}

/* Position a cursor at the first event >= from: skip whole segments by month
 * name and whole blocks by their time range (the block index), never decoding
 * what comes before. */
static int cursor_seek(tt_tape_reader *r, cursor *c, tt_ts from, tt_err *err)
{
    int s = 0;
    if (from > 0) {
        char m[8];
        month_key(from, m);
        while (s + 1 < c->nsegs && strncmp(c->segs[s], m, 7) < 0)
            s++;
    }
    if (c->nsegs == 0) {
        c->done = 1;
        return TT_OK;
    }
    int rc = cursor_open_segment(r, c, s, err);
    if (rc)
        return rc;
    if (from > 0) {
        uint32_t lo = 0, hi = c->nidx;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (c->idx[mid].last < from)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (uint32_t k = 0; k < lo; k++)
            c->blk_base += c->idx[k].count;
        c->blk = lo;
        /* blk_base is advanced by cursor_advance before loading; compensate */
        if (lo > 0)
            c->blk_base -= c->idx[lo - 1].count;
    }
    return TT_OK;
}

static inline int head_less(const tt_tape_reader *r, int a, int b)
{
    return tt_event_cmp(&r->cur[a].head, &r->cur[b].head) < 0;
}

static void heap_down(tt_tape_reader *r, int i)
{
    for (;;) {
        int l = 2 * i + 1, rr = l + 1, m = i;
        if (l < r->nheap && head_less(r, r->heap[l], r->heap[m]))
            m = l;
        if (rr < r->nheap && head_less(r, r->heap[rr], r->heap[m]))
            m = rr;
        if (m == i)
            return;
        int t = r->heap[i];
        r->heap[i] = r->heap[m];
        r->heap[m] = t;
        i = m;
    }
}

static int query_wants(const tt_tape_query *q, const tt_stream_desc *d)
{
    uint32_t kinds = q && q->kinds ? q->kinds : (1u << TT_STREAM_QUOTE);
    if (!(kinds & (1u << d->kind)))
        return 0;
    if (d->kind == TT_STREAM_BAR && q && q->tf && (d->tf != q->tf || d->side != q->side))
        return 0;
    if (q && q->symbols) {
        for (const char *const *s = q->symbols; *s; s++) {
            char a[TT_SYMBOL_MAX + 8];
            snprintf(a, sizeof a, "%s", *s);
            if (!strcasecmp(a, d->symbol))
                return 1;
            /* allow "EUR/USD" style names for the same stream */
            char ca[32], cb[32];
            size_t ka = 0, kb = 0;
            for (const char *p = *s; *p && ka < 31; p++)
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                    ca[ka++] = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
            for (const char *p = d->symbol; *p && kb < 31; p++)
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                    cb[kb++] = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
            ca[ka] = cb[kb] = '\0';
            if (!strcmp(ca, cb))
                return 1;
        }
        return 0;
    }
    return 1;
}

static uint32_t reader_symbol_id(tt_tape_reader *r, const char *sym, tt_err *err, int *rc)
{
    *rc = TT_OK;
    if (r->ins) {
        const tt_instrument *ins;
        if ((*rc = tt_instruments_require(r->ins, sym, &ins, err)))
            return 0;
        return ins->id;
    }
    for (uint32_t i = 0; i < r->nnames; i++)
        if (!strcmp(r->names[i], sym))
            return i + 1;
    char(*nv)[TT_SYMBOL_MAX] = realloc(r->names, (r->nnames + 1) * sizeof *nv);
    if (!nv) {
        *rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        return 0;
    }
    r->names = nv;
    snprintf(r->names[r->nnames], TT_SYMBOL_MAX, "%s", sym);
    return ++r->nnames;
}

int tt_tape_reader_open(tt_tape_reader **out, const char *dir, const tt_tape_query *q,
                        const tt_instruments *instruments, tt_err *err)
{
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return tt_err_set(err, TT_ENOTFOUND, "%s: no such tape directory", dir);
    tt_tape_reader *r = calloc(1, sizeof *r);
    if (!r)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    r->ins = instruments;
    r->from = q ? q->from : 0;
    r->to = q ? q->to : 0;
    r->dctx = ZSTD_createDCtx();
    int rc = TT_OK;
    if (!r->dctx) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        goto fail;
    }
    char **syms;
    int nsym = list_dir(dir, NULL, &syms);
    if (nsym < 0) {
        rc = tt_err_set(err, TT_EIO, "%s: cannot read directory", dir);
        goto fail;
    }
    for (int i = 0; i < nsym && !rc; i++) {
        char sdir[4096];
        snprintf(sdir, sizeof sdir, "%s/%s", dir, syms[i]);
        char **streams;
        int nst = list_dir(sdir, NULL, &streams);
        for (int j = 0; j < nst && !rc; j++) {
            tt_stream_desc d;
            if (tt_stream_desc_parse(syms[i], streams[j], &d) || !query_wants(q, &d))
                continue;
            cursor *nc = realloc(r->cur, (size_t)(r->ncur + 1) * sizeof *nc);
            if (!nc) {
                rc = tt_err_set(err, TT_ENOMEM, "out of memory");
                break;
            }
            r->cur = nc;
            cursor *c = &r->cur[r->ncur++];
            memset(c, 0, sizeof *c);
            c->fd = -1;
            c->desc = d;
            snprintf(c->sdir, sizeof c->sdir, "%s/%s", sdir, streams[j]);
            c->nsegs = list_dir(c->sdir, SEG_EXT, &c->segs);
            if (c->nsegs < 0)
                c->nsegs = 0;
            c->source = (uint16_t)r->ncur;
            if (d.kind != TT_STREAM_BLOB)
                c->symbol_id = reader_symbol_id(r, d.symbol, err, &rc);
        }
        free_list(streams, nst > 0 ? nst : 0);
    }
    free_list(syms, nsym);
    if (rc)
        goto fail;
    r->heap = malloc((size_t)(r->ncur ? r->ncur : 1) * sizeof *r->heap);
    if (!r->heap) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < r->ncur; i++) {
        if ((rc = cursor_seek(r, &r->cur[i], r->from, err)))
            goto fail;
    }
    *out = r;
    return TT_OK;
fail:
    tt_tape_reader_close(r);
    return rc;
}

static int reader_start(tt_tape_reader *r, tt_err *err)
{
    r->started = 1;
    r->nheap = 0;
    if (r->ncur == 1)
        return TT_OK; /* one stream: no merge, tt_tape_reader_next reads it directly */
    for (int i = 0; i < r->ncur; i++) {
        int rc = cursor_advance(r, &r->cur[i], &r->cur[i].head, err);
        if (rc < 0)
            return rc;
        if (rc == 1)
            r->heap[r->nheap++] = i;
    }
    for (int i = r->nheap / 2 - 1; i >= 0; i--)
        heap_down(r, i);
    return TT_OK;
}

int tt_tape_reader_next(tt_tape_reader *r, tt_event *ev, tt_err *err)
{
    if (r->ncur == 1)
        return cursor_next(r, &r->cur[0], ev, err);
    if (!r->started) {
        int rc = reader_start(r, err);
        if (rc)
            return rc;
    }
    if (r->nheap == 0)
        return 0;
    int top = r->heap[0];
    cursor *c = &r->cur[top];
    *ev = c->head;
    int rc = cursor_next(r, c, &c->head, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        r->heap[0] = r->heap[--r->nheap];
    if (r->nheap > 1)
        heap_down(r, 0);
    return 1;
}

int tt_tape_reader_warning_count(const tt_tape_reader *r) { return r->nwarn; }
const char *tt_tape_reader_warning(const tt_tape_reader *r, int i)
{
    return i >= 0 && i < r->nwarn ? r->warnings[i] : NULL;
}

const char *tt_tape_reader_symbol(const tt_tape_reader *r, uint32_t id)
{
    if (r->ins) {
        const tt_instrument *ins = tt_instruments_get(r->ins, id);
        return ins ? ins->symbol : NULL;
    }
    return id > 0 && id <= r->nnames ? r->names[id - 1] : NULL;
}

static int reader_source_next(void *self, tt_event *ev, tt_err *err)
{
    int rc = tt_tape_reader_next(self, ev, err);
    return rc < 0 ? rc : rc ? TT_SRC_EVENT : TT_SRC_END;
}

/* Fill a batch: one stream copies quotes in a tight loop (the replay hot
 * path); several streams go through the merge one event at a time. */
static int reader_source_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    tt_tape_reader *r = self;
    int n = 0;
    if (r->ncur == 1) {
        cursor *c = &r->cur[0];
        while (n < cap) {
            uint32_t avail = c->fast_end > c->pos ? c->fast_end - c->pos : 0;
            if (avail) {
                uint32_t k = avail < (uint32_t)(cap - n) ? avail : (uint32_t)(cap - n);
                /* quote_at by hand, with the column pointers in locals: the
                 * build uses -fno-strict-aliasing, so calling quote_at here
                 * reloads them after every store (53 -> 42 M events/s). */
                const tt_ts *ts = c->c.ts + c->pos;
                const int64_t *bid = c->c.a + c->pos, *ask = c->c.b2 + c->pos;
                const uint32_t *bv = c->c.f1 + c->pos, *av = c->c.f2 + c->pos;
                uint64_t seq = ((uint64_t)c->seg << 40) + c->blk_base + c->pos + 1;
                uint32_t sym = c->symbol_id;
                uint16_t src = c->source;
                for (uint32_t i = 0; i < k; i++) {
                    tt_event *ev = &buf[n + (int)i];
                    ev->ts = ev->ts_init = ts[i];
                    ev->seq = seq + i;
                    ev->symbol = sym;
                    ev->source = src;
                    ev->kind = TT_EV_QUOTE;
                    ev->cls = TT_CLS_MARKET;
                    ev->u.quote.bid = bid[i];
                    ev->u.quote.ask = ask[i];
                    memcpy(&ev->u.quote.bid_vol, &bv[i], 4);
                    memcpy(&ev->u.quote.ask_vol, &av[i], 4);
                }
                c->pos += k;
                n += (int)k;
                continue;
            }
            int rc = cursor_advance(r, c, &buf[n], err);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            n++;
        }
    } else {
        while (n < cap) {
            int rc = tt_tape_reader_next(r, &buf[n], err);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            n++;
        }
    }
    *count = n;
    return n ? TT_SRC_EVENT : TT_SRC_END;
}

tt_source tt_tape_reader_source(tt_tape_reader *r)
{
    tt_source s = {r, reader_source_next, NULL, reader_source_batch};
    return s;
}

void tt_tape_reader_close(tt_tape_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->ncur; i++) {
        cursor *c = &r->cur[i];
        cursor_close_segment(c);
        free_list(c->segs, c->nsegs);
        cols_free(&c->c);
        free(c->raw.p);
        free(c->comp.p);
    }
    free(r->cur);
    free(r->heap);
    for (int i = 0; i < r->nwarn; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r->names);
    ZSTD_freeDCtx(r->dctx);
    free(r);
}

/* ------------------------------------------------------------------------ */
/* info and verify                                                            */

typedef void (*seg_visit)(void *ctx, const tt_stream_desc *d, const char *path, int fd,
                          const blk_hdr *idx, uint32_t n, uint64_t size, int torn);

/* Visit every segment of every stream, in sorted order. */
static int walk_segments(const char *dir, seg_visit visit, void *ctx,
                         void (*report)(void *, const char *), void *rctx, tt_err *err)
{
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return tt_err_set(err, TT_ENOTFOUND, "%s: no such tape directory", dir);
    char **syms;
    int nsym = list_dir(dir, NULL, &syms);
    int first_rc = TT_OK;
    for (int i = 0; i < nsym; i++) {
        char sdir[4096];
        snprintf(sdir, sizeof sdir, "%s/%s", dir, syms[i]);
        char **streams;
        int nst = list_dir(sdir, NULL, &streams);
        for (int j = 0; j < nst; j++) {
            tt_stream_desc d;
            if (tt_stream_desc_parse(syms[i], streams[j], &d))
                continue;
            char stdir[4200];
            snprintf(stdir, sizeof stdir, "%s/%s", sdir, streams[j]);
            char **segs;
            int ns = list_dir(stdir, SEG_EXT, &segs);
            for (int k = 0; k < ns; k++) {
                char path[4400];
                snprintf(path, sizeof path, "%s/%s", stdir, segs[k]);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                tt_err e;
                tt_err_clear(&e);
                int rc;
                blk_hdr *idx = NULL;
                uint32_t n = 0;
                uint64_t good = 0;
                int torn = 0;
                if (fd < 0)
                    rc = tt_err_set(&e, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
                else
                    rc = seg_scan(fd, path, &d, &idx, &n, &good, &torn, &e);
                if (rc) {
                    if (report)
                        report(rctx, e.msg);
                    if (!first_rc) {
                        first_rc = rc;
                        if (err)
                            *err = e;
                    }
                } else {
                    struct stat fs;
                    fstat(fd, &fs);
                    visit(ctx, &d, path, fd, idx, n, (uint64_t)fs.st_size, torn);
                }
                free(idx);
                if (fd >= 0)
                    close(fd);
            }
            free_list(segs, ns > 0 ? ns : 0);
        }
        free_list(streams, nst > 0 ? nst : 0);
    }
    free_list(syms, nsym > 0 ? nsym : 0);
    return first_rc;
}

static void info_visit(void *ctx, const tt_stream_desc *d, const char *path, int fd,
                       const blk_hdr *idx, uint32_t n, uint64_t size, int torn)
{
    (void)path;
    (void)fd;
    tt_tape_info *info = ctx;
    tt_stream_info *s = NULL;
    for (uint32_t i = 0; i < info->nstreams; i++) {
        tt_stream_info *x = &info->streams[i];
        if (!strcmp(x->desc.symbol, d->symbol) && x->desc.kind == d->kind && x->desc.tf == d->tf &&
            x->desc.side == d->side)
            s = x;
    }
    if (!s) {
        tt_stream_info *nv = realloc(info->streams, (info->nstreams + 1) * sizeof *nv);
        if (!nv)
            return;
        info->streams = nv;
        s = &info->streams[info->nstreams++];
        memset(s, 0, sizeof *s);
        s->desc = *d;
        s->first = TT_TS_MAX;
        s->last = TT_TS_MIN;
    }
    s->segments++;
    s->bytes += size;
    s->blocks += n;
    for (uint32_t i = 0; i < n; i++) {
        s->events += idx[i].count;
        if (idx[i].first < s->first)
            s->first = idx[i].first;
        if (idx[i].last > s->last)
            s->last = idx[i].last;
    }
    info->torn += torn;
}

int tt_tape_info_read(const char *dir, tt_tape_info *info, tt_err *err)
{
    memset(info, 0, sizeof *info);
    int rc = walk_segments(dir, info_visit, info, NULL, NULL, err);
    if (rc) {
        tt_tape_info_free(info);
        return rc;
    }
    info->first = TT_TS_MAX;
    info->last = TT_TS_MIN;
    for (uint32_t i = 0; i < info->nstreams; i++) {
        tt_stream_info *s = &info->streams[i];
        if (!s->events)
            s->first = s->last = 0;
        info->events += s->events;
        info->bytes += s->bytes;
        if (s->events && s->first < info->first)
            info->first = s->first;
        if (s->events && s->last > info->last)
            info->last = s->last;
    }
    if (!info->events)
        info->first = info->last = 0;
    return TT_OK;
}

void tt_tape_info_free(tt_tape_info *info)
{
    free(info->streams);
    memset(info, 0, sizeof *info);
}

typedef struct verify_ctx {
    void (*report)(void *, const char *);
    void *rctx;
    int rc;
    tt_err *err;
    uint64_t events;
    ZSTD_DCtx *dctx;
    cols c;
    bbuf comp, raw;
} verify_ctx;

static void verify_fail(verify_ctx *v, int code, const char *msg)
{
    if (v->report)
        v->report(v->rctx, msg);
    if (!v->rc) {
        v->rc = code;
        tt_err_set(v->err, code, "%s", msg);
    }
}

static void verify_visit(void *ctx, const tt_stream_desc *d, const char *path, int fd,
                         const blk_hdr *idx, uint32_t n, uint64_t size, int torn)
{
    (void)size;
    verify_ctx *v = ctx;
    char msg[4600];
    for (uint32_t i = 0; i < n; i++) {
        const blk_hdr *b = &idx[i];
        v->comp.n = v->raw.n = 0;
        if (bbuf_reserve(&v->comp, b->comp_len) || bbuf_reserve(&v->raw, b->raw_len + 1)) {
            verify_fail(v, TT_ENOMEM, "out of memory");
            return;
        }
        if (pread(fd, v->comp.p, b->comp_len, (off_t)(b->offset + BLK_HDR_SIZE)) !=
            (ssize_t)b->comp_len) {
            snprintf(msg, sizeof msg, "%s: block %u: read failed", path, i);
            verify_fail(v, TT_EIO, msg);
            continue;
        }
        if (XXH64(v->comp.p, b->comp_len, 0) != b->sum) {
            snprintf(msg, sizeof msg, "%s: block %u (offset %llu): checksum mismatch", path, i,
                     (unsigned long long)b->offset);
            verify_fail(v, TT_ECHECKSUM, msg);
            continue;
        }
        size_t dn;
        if (frames_decompress(v->dctx, v->comp.p, b->comp_len, v->raw.p, b->raw_len, &dn)) {
            snprintf(msg, sizeof msg, "%s: block %u: cannot decompress", path, i);
            verify_fail(v, TT_EFORMAT, msg);
            continue;
        }
        int bad = 0;
        tt_ts first = 0, last = 0;
        if (d->kind == TT_STREAM_BLOB) {
            const uint8_t *p = v->raw.p, *end = v->raw.p + dn;
            uint32_t k = 0;
            tt_ts prev = TT_TS_MIN;
            for (; p < end; k++) {
                tt_event ev;
                uint32_t len = end - p >= 4 ? get32(p) : 0;
                if (end - p < 4 || (size_t)(end - p - 4) < len || !tt_event_decode(p + 4, len, &ev) ||
                    ev.ts < prev) {
                    bad = 1;
                    break;
                }
                if (k == 0)
                    first = ev.ts;
                last = prev = ev.ts;
                p += 4 + len;
            }
            bad = bad || k != b->count;
        } else {
            if (cols_reserve(&v->c, b->count) || payload_decode(d->kind, v->raw.p, dn, &v->c, b->count))
                bad = 1;
            else {
                first = v->c.ts[0];
                last = v->c.ts[b->count - 1];
                for (uint32_t k = 1; k < b->count && !bad; k++)
                    bad = v->c.ts[k] < v->c.ts[k - 1];
            }
        }
        if (bad || first != b->first || last != b->last) {
            snprintf(msg, sizeof msg, "%s: block %u: payload does not match its header", path, i);
            verify_fail(v, TT_EFORMAT, msg);
            continue;
        }
        v->events += b->count;
    }
    if (torn) {
        snprintf(msg, sizeof msg, "%s: torn tail after block %u (incomplete write)", path, n);
        verify_fail(v, TT_ETORN, msg);
    }
}

int tt_tape_verify(const char *dir, void (*report)(void *ctx, const char *line), void *ctx,
                   uint64_t *events_out, tt_err *err)
{
    verify_ctx v = {report, ctx, TT_OK, err, 0, ZSTD_createDCtx(), {0}, {0}, {0}};
    if (!v.dctx)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    int rc = walk_segments(dir, verify_visit, &v, report, ctx, err);
    if (!rc)
        rc = v.rc;
    if (events_out)
        *events_out = v.events;
    ZSTD_freeDCtx(v.dctx);
    cols_free(&v.c);
    free(v.comp.p);
    free(v.raw.p);
    return rc;
}
