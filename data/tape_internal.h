/*
 * ticktape: the tape's private header, shared by the parts in data/tape/ and
 * by their unit tests. Callers use data/tape.h; this header is not installed.
 *
 * Module map (docs/tape-format.md has the bytes):
 *
 *   data/tape/codec.c    the column codec: one block's events <-> raw payload.
 *                        Knows no files, no zstd, no headers.
 *   data/tape/segment.c  the segment format: segment and block headers, the
 *                        block index walk (torn tails), zstd frames, appending
 *                        and loading one block. Knows no event fields.
 *   data/tape/layout.c   the directory layout: stream names, folders, month keys.
 *   data/tape/writer.c   tt_tape_writer: pending events, month segments, repair.
 *   data/tape/reader.c   one stream's cursor and tt_tape_reader (open, next,
 *                        the engine source and its batch path).
 *   data/tape/merge.c    the k-way merge of several cursors.
 *   data/tape/verify.c   tt_tape_info_read and tt_tape_verify (every segment).
 *
 * Dependencies point down: writer, reader and verify use segment, codec and
 * layout; merge uses the reader's cursors; codec and segment use nothing else
 * of the tape. A new column codec plugs in as another tt_tape_codec (its own
 * file) and is tested by tests/data/test_tape_codec.c unchanged.
 *
 * Everything declared here is hidden (TT_TAPE_HIDDEN): libticktape.so exports
 * only data/tape.h, and calls between the parts are direct (no PLT, and the
 * compiler may inline within a part, as it did when the tape was one file).
 */
#ifndef TT_TAPE_INTERNAL_H
#define TT_TAPE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "tape.h"

#define TT_TAPE_HIDDEN __attribute__((visibility("hidden")))

#define DEFAULT_BLOCK_EVENTS 8192
#define MAX_BLOCK_EVENTS (1u << 20) /* block header: event count 1 .. 1,048,576 */
#define MAX_BLOCK_BYTES (256u << 20)
#define DEFAULT_ZSTD_LEVEL 12
#define SEG_EXT ".tts"
#define SEG_HDR_SIZE 64 /* field offsets and asserts: data/tape/segment.c */
#define BLK_HDR_SIZE 48
#define BLOB_LEN_SIZE 4 /* a blob payload record: u32 length, then the canonical encoding */
#define BUF_MARKS 64    /* plane boundaries kept per payload (zstd frames per block) */

/* ------------------------------------------------------------------------ */
/* little-endian helpers and zigzag                                           */

static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static inline void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static inline uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static inline uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* ------------------------------------------------------------------------ */
/* byte buffers                                                               */

/* A growable byte buffer. `marks` are plane boundaries set by the encoder:
 * the segment layer compresses each stretch between two marks as its own
 * zstd frame (docs/tape-format.md, "Compressed payload"). */
typedef struct tt_tape_buf {
    uint8_t *p;
    size_t n, cap;
    size_t marks[BUF_MARKS];
    int nmarks;
} tt_tape_buf;

static inline void tt_tape_buf_mark(tt_tape_buf *b)
{
    if (b->nmarks < BUF_MARKS && (b->nmarks == 0 || b->marks[b->nmarks - 1] != b->n))
        b->marks[b->nmarks++] = b->n;
}

/* Room for `extra` more bytes: 0, or -1 when out of memory (b unchanged). */
static inline int tt_tape_buf_reserve(tt_tape_buf *b, size_t extra)
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

/* Bytes being decoded: the decoder advances p and never reads at or past end. */
typedef struct tt_tape_in {
    const uint8_t *p, *end;
} tt_tape_in;

/* ------------------------------------------------------------------------ */
/* the column codec (data/tape/codec.c)                                       */

/* A decoded block, structure of arrays; every array holds `cap` values.
 * quote: ts, a = bid, b2 = ask, c = spread (scratch), f1/f2 = volume bits;
 * bar:   ts, a b2 c d = open high low close, u1 = volume bits, u2 = ticks;
 * trade: ts, a = price, u1 = size bits, u2 = aggressor. tmp is scratch. */
typedef struct tt_tape_cols {
    uint32_t cap;
    tt_ts *ts;
    int64_t *a, *b2, *c, *d;
    uint32_t *f1, *f2;
    uint64_t *u1, *u2;
    uint64_t *tmp;
} tt_tape_cols;

/* Room for n events in every array: 0, or -1 when out of memory (c unchanged). */
TT_TAPE_HIDDEN int tt_tape_cols_reserve(tt_tape_cols *c, uint32_t n);
TT_TAPE_HIDDEN void tt_tape_cols_free(tt_tape_cols *c);

/* One column codec: for each column kind, an encoder appending n values to a
 * buffer and a decoder reading them back. Every function returns 0, or -1:
 * out of memory (put) or malformed, truncated input (get; never reads past
 * in->end). `tmp` is scratch for n values. Decoders leave in->p after the
 * column, so columns are read back to back.
 *
 *   uint   unsigned 64-bit values (counts, ticks, aggressor)
 *   ts     timestamps (a tape's never decrease, but any sequence round-trips:
 *          deltas wrap)
 *   delta  signed values (prices), any int64 pair round-trips
 *   f32    32-bit patterns (float volumes): every bit pattern round-trips
 *   f64    64-bit patterns (double volumes and sizes): every pattern round-trips
 *
 * payload_encode/payload_decode are a whole block of one stream kind
 * (TT_STREAM_QUOTE, _BAR, _TRADE): encode reads c (and may overwrite c->c and
 * c->tmp); decode fills c for n events and fails unless it used exactly len
 * bytes. n >= 1 in payloads; the column functions also take n = 0. */
typedef struct tt_tape_codec {
    const char *name;
    int (*uint_put)(tt_tape_buf *b, const uint64_t *v, uint32_t n, uint64_t *tmp);
    int (*uint_get)(tt_tape_in *in, uint64_t *v, uint32_t n, uint64_t *tmp);
    int (*ts_put)(tt_tape_buf *b, const tt_ts *v, uint32_t n, uint64_t *tmp);
    int (*ts_get)(tt_tape_in *in, tt_ts *v, uint32_t n, uint64_t *tmp);
    int (*delta_put)(tt_tape_buf *b, const int64_t *v, uint32_t n, uint64_t *tmp);
    int (*delta_get)(tt_tape_in *in, int64_t *v, uint32_t n, uint64_t *tmp);
    int (*f32_put)(tt_tape_buf *b, const uint32_t *v, uint32_t n, uint64_t *tmp);
    int (*f32_get)(tt_tape_in *in, uint32_t *v, uint32_t n, uint64_t *tmp);
    int (*f64_put)(tt_tape_buf *b, const uint64_t *v, uint32_t n, uint64_t *tmp);
    int (*f64_get)(tt_tape_in *in, uint64_t *v, uint32_t n, uint64_t *tmp);
    int (*payload_encode)(int kind, tt_tape_cols *c, uint32_t n, tt_tape_buf *b);
    int (*payload_decode)(int kind, const uint8_t *p, size_t len, tt_tape_cols *c, uint32_t n);
} tt_tape_codec;

/* Format version 1's codec: byte planes (block header codec byte 1). */
TT_TAPE_HIDDEN extern const tt_tape_codec tt_tape_codec_planes;

/* The writer and the reader call version 1's payload functions directly
 * (the same functions as tt_tape_codec_planes.payload_encode/decode). */
TT_TAPE_HIDDEN int tt_tape_payload_encode(int kind, tt_tape_cols *c, uint32_t n, tt_tape_buf *b);
TT_TAPE_HIDDEN int tt_tape_payload_decode(int kind, const uint8_t *p, size_t len, tt_tape_cols *c,
                                          uint32_t n);

/* Blob payloads (TT_STREAM_BLOB) are records of u32 length and the canonical
 * encoding (tt_event_encode with blob bytes). put: 0, or -1 when out of
 * memory. get: 0 (*ev filled, in->p advanced; blob bytes point into the
 * input), -1 when fewer than 4 bytes are left, -2 for a malformed record. */
TT_TAPE_HIDDEN int tt_tape_blob_put(tt_tape_buf *b, const tt_event *ev);
TT_TAPE_HIDDEN int tt_tape_blob_get(tt_tape_in *in, tt_event *ev);

/* ------------------------------------------------------------------------ */
/* the segment format (data/tape/segment.c)                                   */

/* A block header's fields, and where the block starts in its file. */
typedef struct tt_tape_blk {
    uint32_t count, raw_len, comp_len;
    tt_ts first, last;
    uint64_t sum;    /* XXH64 of the compressed payload */
    uint64_t offset; /* of the block header in the file */
} tt_tape_blk;

/* Start a segment file over: truncate it and write the header of stream d.
 * TT_OK, or TT_EIO naming path. */
TT_TAPE_HIDDEN int tt_tape_seg_start(int fd, const char *path, const tt_stream_desc *d,
                                     tt_err *err);

/* Walk a segment's blocks. Fills *idx (malloc'd, the block index), *nidx,
 * *good_end (offset after the last complete block; 0 when the header itself is
 * missing or torn) and *torn (1 when the file ends inside the header or a
 * block). A segment of another stream than `want` (NULL: any) is an error.
 * TT_OK, or TT_EIO / TT_EFORMAT / TT_EVERSION / TT_ECHECKSUM / TT_ENOMEM naming
 * the file and block (*idx is then NULL). */
TT_TAPE_HIDDEN int tt_tape_seg_scan(int fd, const char *path, const tt_stream_desc *want,
                                    tt_tape_blk **idx, uint32_t *nidx, uint64_t *good_end,
                                    int *torn, tt_err *err);

/* Compress raw (cut into frames at raw->marks) into comp, replacing comp's
 * bytes. TT_OK, TT_ENOMEM, or TT_EIO for a zstd error (naming path). */
TT_TAPE_HIDDEN int tt_tape_frames_compress(ZSTD_CCtx *cctx, int level, tt_tape_buf *raw,
                                           tt_tape_buf *comp, const char *path, tt_err *err);

/* Decompress a block's frames into out, which must come out exactly out_len
 * bytes long. 0 (*got = out_len), or -1 when the frames are malformed. */
TT_TAPE_HIDDEN int tt_tape_frames_decompress(ZSTD_DCtx *dctx, const uint8_t *p, size_t len,
                                             uint8_t *out, size_t out_len, size_t *got);

/* Append one block (header built from b's count, first, last and raw_len; the
 * compressed payload is comp) with one writev at the file position. On failure
 * any part that landed is cut off again. TT_OK, or TT_EIO naming path. */
TT_TAPE_HIDDEN int tt_tape_block_append(int fd, const char *path, tt_tape_blk *b,
                                        const tt_tape_buf *comp, tt_err *err);

/* Read block number `blkno` (header b, from the index) of the segment open on
 * fd, check its payload checksum and decompress it into raw (raw->n set).
 * TT_OK, or TT_ENOMEM / TT_EIO / TT_ECHECKSUM / TT_EFORMAT naming the file and
 * block. */
TT_TAPE_HIDDEN int tt_tape_block_load(int fd, const char *path, uint32_t blkno,
                                      const tt_tape_blk *b, ZSTD_DCtx *dctx, tt_tape_buf *comp,
                                      tt_tape_buf *raw, tt_err *err);

/* ------------------------------------------------------------------------ */
/* the directory layout (data/tape/layout.c)                                  */

/* Create a directory and its parents. TT_OK, or TT_EINVAL / TT_EIO. */
TT_TAPE_HIDDEN int tt_tape_mkdirs(const char *path, tt_err *err);

/* Sorted entries of a directory: files ending in `suffix`, or subdirectories
 * when suffix is NULL. Returns the count (*out malloc'd, free with
 * tt_tape_list_free), or -1 with errno set when the directory cannot be read
 * or the list cannot be held (ENOMEM): never a part of it. */
TT_TAPE_HIDDEN int tt_tape_list_dir(const char *dir, const char *suffix, char ***out);
TT_TAPE_HIDDEN void tt_tape_list_free(char **v, int n); /* n < 0 allowed */

/* A stream of a tape directory: its description and its folder (malloc'd). */
typedef struct tt_tape_stream {
    tt_stream_desc desc;
    char *dir;
} tt_tape_stream;

/* Every stream of the tape at dir, sorted by symbol, then stream name (the
 * order that fixes source ids). Folders that do not name a stream are
 * skipped. Returns the count (*out malloc'd, free with tt_tape_streams_free),
 * TT_EIO when dir or a symbol folder cannot be read, or TT_ENOMEM. */
TT_TAPE_HIDDEN int tt_tape_streams_list(const char *dir, tt_tape_stream **out);
TT_TAPE_HIDDEN void tt_tape_streams_free(tt_tape_stream *v, int n);

/* "YYYY-MM" of a time (a segment's name), and the [lo, hi) range of a key. */
TT_TAPE_HIDDEN void tt_tape_month_key(tt_ts ts, char out[8]);
TT_TAPE_HIDDEN void tt_tape_month_range(const char *month, tt_ts *lo, tt_ts *hi);

/* ------------------------------------------------------------------------ */
/* reading (data/tape/reader.c, data/tape/merge.c)                            */

/* One stream being read: its segments, the current segment's block index,
 * and one decoded block. */
typedef struct tt_tape_cursor {
    tt_stream_desc desc;
    char sdir[4096];
    char **segs;
    int nsegs, seg;     /* segment list, current segment ordinal */
    int fd;
    char path[4200];
    tt_tape_blk *idx;
    uint32_t nidx, blk; /* current segment's block index, next block to load */
    uint64_t blk_base;  /* events in this segment's blocks before the loaded one */
    tt_tape_cols c;
    uint32_t n, pos;    /* events in the loaded block, next to yield */
    tt_tape_buf raw, comp;
    const uint8_t *bp, *bend; /* blob cursor in raw */
    uint32_t symbol_id;
    uint16_t source;
    tt_event head;      /* current head (merge of several streams) */
    uint32_t fast_end;  /* events before this index need no range check (quotes only) */
    int done;
} tt_tape_cursor;

struct tt_tape_reader {
    tt_tape_cursor *cur;
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

/* Advance a cursor to its next event in [from, to) into *ev: 1 = event,
 * 0 = end, < 0 = error naming the file and block. */
TT_TAPE_HIDDEN int tt_tape_cursor_advance(tt_tape_reader *r, tt_tape_cursor *c, tt_event *ev,
                                          tt_err *err);

/* Event i of the cursor's decoded quote block, written field by field (only
 * the fields of a quote event). The batch path in reader.c writes the same
 * fields by hand, with the column pointers in locals (see there). */
static inline void tt_tape_quote_at(const tt_tape_cursor *c, uint32_t i, tt_event *ev)
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

/* The replay hot path: a quote from a block that needs no range checks is
 * written straight into the caller's event; anything else takes the general
 * path. Only the fields of a quote event are written. */
static inline int tt_tape_cursor_next(tt_tape_reader *r, tt_tape_cursor *c, tt_event *ev,
                                      tt_err *err)
{
    if (c->pos < c->fast_end) {
        tt_tape_quote_at(c, c->pos++, ev);
        return 1;
    }
    return tt_tape_cursor_advance(r, c, ev, err);
}

/* The merge of several cursors (r->ncur > 1) by the engine's total order:
 * 1 = *ev filled, 0 = end, < 0 = error naming the file and block. */
TT_TAPE_HIDDEN int tt_tape_merge_next(tt_tape_reader *r, tt_event *ev, tt_err *err);

#endif
