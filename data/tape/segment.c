/*
 * The tape's segment format: the bytes of a segment file around the payloads.
 *
 * How it works
 * ------------
 *   segment = header (64 bytes) · block · block · ...
 *   block   = block header (48 bytes) · compressed payload
 *
 * The segment header carries the magic "TTAPESEG", the format version, the
 * stream description and its own XXH64. A block header carries a magic, the
 * event count, the first and last timestamps, the raw and compressed sizes,
 * an XXH32 of the header itself and an XXH64 of the compressed payload. The
 * header checksum lets a reader walk the blocks (the block index) without
 * decompressing anything and still notice a flipped bit in a length field.
 * The compressed payload is a byte nframes and, per frame, u32 raw length,
 * u32 compressed length and a zstd frame: the codec marks a boundary at each
 * byte plane, so each plane gets its own entropy tables.
 *
 * Crash safety: a block goes to disk with one writev() of header and payload,
 * and nothing else ever points at it. A file that ends inside a block is a
 * torn tail (tt_tape_seg_scan reports it and where the good part ends); a
 * checksum mismatch is never a tear but an error naming the file and block.
 *
 * This file knows no event fields (the codec turns payloads into events) and
 * no directory layout. Every field offset below is the table of
 * docs/tape-format.md, checked field by field at compile time; the
 * serialisers write through these names only. A later record kind (a commit
 * record after a block) belongs here, beside the block header.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- segment header (docs/tape-format.md, "Segment file") ---- */

#define SEG_MAGIC "TTAPESEG"
enum {
    SEG_OFF_MAGIC = 0,     /* 8: "TTAPESEG" */
    SEG_OFF_VERSION = 8,   /* 2: TT_TAPE_FORMAT_VERSION */
    SEG_OFF_HDR_SIZE = 10, /* 2: SEG_HDR_SIZE */
    SEG_OFF_KIND = 12,     /* 1: enum tt_stream_kind */
    SEG_OFF_TF = 13,       /* 1: bars: enum tt_timeframe */
    SEG_OFF_SIDE = 14,     /* 1: bars: enum tt_price_side */
    SEG_OFF_RESERVED0 = 15, /* 1: 0 */
    SEG_OFF_SYMBOL = 16,   /* 16: NUL-padded */
    SEG_OFF_RESERVED1 = 32, /* 24: 0 */
    SEG_OFF_SUM = 56       /* 8: XXH64 (seed 0) of bytes 0..55 */
};
_Static_assert(sizeof SEG_MAGIC - 1 == 8, "segment magic: 8 bytes");
_Static_assert(SEG_OFF_VERSION == SEG_OFF_MAGIC + 8, "segment header: version after magic");
_Static_assert(SEG_OFF_HDR_SIZE == SEG_OFF_VERSION + 2, "segment header: u16 version");
_Static_assert(SEG_OFF_KIND == SEG_OFF_HDR_SIZE + 2, "segment header: u16 header size");
_Static_assert(SEG_OFF_TF == SEG_OFF_KIND + 1 && SEG_OFF_SIDE == SEG_OFF_TF + 1 &&
                   SEG_OFF_RESERVED0 == SEG_OFF_SIDE + 1 && SEG_OFF_SYMBOL == SEG_OFF_RESERVED0 + 1,
               "segment header: kind, tf, side, reserved are one byte each");
_Static_assert(TT_SYMBOL_MAX == 16 && SEG_OFF_RESERVED1 == SEG_OFF_SYMBOL + TT_SYMBOL_MAX,
               "segment header: the symbol field is 16 bytes (TT_SYMBOL_MAX)");
_Static_assert(SEG_OFF_SUM == SEG_OFF_RESERVED1 + 24, "segment header: 24 reserved bytes");
_Static_assert(SEG_HDR_SIZE == 64 && SEG_HDR_SIZE == SEG_OFF_SUM + 8,
               "segment header: 64 bytes, ending with its XXH64");
_Static_assert(SEG_HDR_SIZE <= UINT16_MAX, "the header size is stored as a u16");

/* ---- block header (docs/tape-format.md, "Block") ---- */

#define BLK_MAGIC 0x4b425454u /* "TTBK" little-endian */
#define BLK_CODEC_PLANES 1    /* zstd frames, one per byte plane; columns: tt_tape_codec_planes */
enum {
    BLK_OFF_MAGIC = 0,     /* 4: "TTBK" */
    BLK_OFF_COUNT = 4,     /* 4: events, 1 .. MAX_BLOCK_EVENTS */
    BLK_OFF_FIRST = 8,     /* 8: timestamp of the first event */
    BLK_OFF_LAST = 16,     /* 8: timestamp of the last event */
    BLK_OFF_RAW_LEN = 24,  /* 4: raw payload length */
    BLK_OFF_COMP_LEN = 28, /* 4: compressed payload length */
    BLK_OFF_CODEC = 32,    /* 1: BLK_CODEC_PLANES */
    BLK_OFF_RESERVED = 33, /* 3: 0 */
    BLK_OFF_HSUM = 36,     /* 4: XXH32 (seed 0) of bytes 0..35 */
    BLK_OFF_SUM = 40       /* 8: XXH64 (seed 0) of the compressed payload */
};
_Static_assert(BLK_OFF_COUNT == BLK_OFF_MAGIC + 4 && BLK_OFF_FIRST == BLK_OFF_COUNT + 4,
               "block header: u32 magic, u32 count");
_Static_assert(BLK_OFF_LAST == BLK_OFF_FIRST + 8 && BLK_OFF_RAW_LEN == BLK_OFF_LAST + 8,
               "block header: i64 first, i64 last");
_Static_assert(BLK_OFF_COMP_LEN == BLK_OFF_RAW_LEN + 4 && BLK_OFF_CODEC == BLK_OFF_COMP_LEN + 4,
               "block header: u32 raw length, u32 compressed length");
_Static_assert(BLK_OFF_RESERVED == BLK_OFF_CODEC + 1 && BLK_OFF_HSUM == BLK_OFF_RESERVED + 3,
               "block header: codec byte, 3 reserved bytes");
_Static_assert(BLK_OFF_SUM == BLK_OFF_HSUM + 4, "block header: XXH32 of bytes 0..35");
_Static_assert(BLK_HDR_SIZE == 48 && BLK_HDR_SIZE == BLK_OFF_SUM + 8,
               "block header: 48 bytes, ending with the payload's XXH64");
_Static_assert(MAX_BLOCK_EVENTS == 1048576 && MAX_BLOCK_BYTES <= UINT32_MAX,
               "block header: count 1 .. 1,048,576; lengths fit a u32");
_Static_assert(sizeof(tt_ts) == 8, "block header: timestamps are 8 bytes");

/* ---- compressed payload (docs/tape-format.md, "Compressed payload") ---- */

enum {
    FRM_OFF_RAW_LEN = 0,  /* 4 */
    FRM_OFF_COMP_LEN = 4, /* 4, then the zstd frame */
    FRM_HDR_SIZE = 8
};
_Static_assert(FRM_OFF_COMP_LEN == FRM_OFF_RAW_LEN + 4 && FRM_HDR_SIZE == FRM_OFF_COMP_LEN + 4,
               "frame: u32 raw length, u32 compressed length");
_Static_assert(BUF_MARKS <= 255, "the frame count is stored in one byte");

/* ------------------------------------------------------------------------ */
/* headers                                                                    */

static void seg_header_build(uint8_t h[SEG_HDR_SIZE], const tt_stream_desc *d)
{
    memset(h, 0, SEG_HDR_SIZE);
    memcpy(h + SEG_OFF_MAGIC, SEG_MAGIC, 8);
    put16(h + SEG_OFF_VERSION, TT_TAPE_FORMAT_VERSION);
    put16(h + SEG_OFF_HDR_SIZE, SEG_HDR_SIZE);
    h[SEG_OFF_KIND] = d->kind;
    h[SEG_OFF_TF] = d->tf;
    h[SEG_OFF_SIDE] = d->side;
    memcpy(h + SEG_OFF_SYMBOL, d->symbol, strnlen(d->symbol, TT_SYMBOL_MAX));
    put64(h + SEG_OFF_SUM, XXH64(h, SEG_OFF_SUM, 0));
}

static int seg_header_check(const uint8_t h[SEG_HDR_SIZE], const char *path, tt_stream_desc *d,
                            tt_err *err)
{
    if (memcmp(h + SEG_OFF_MAGIC, SEG_MAGIC, 8))
        return tt_err_set(err, TT_EFORMAT, "%s: not a ticktape segment (bad magic)", path);
    uint16_t ver = get16(h + SEG_OFF_VERSION);
    if (ver != TT_TAPE_FORMAT_VERSION)
        return tt_err_set(err, TT_EVERSION,
                          "%s: tape format version %u is not supported (this ticktape reads "
                          "version %d); use a ticktape release that knows version %u",
                          path, ver, TT_TAPE_FORMAT_VERSION, ver);
    if (get64(h + SEG_OFF_SUM) != XXH64(h, SEG_OFF_SUM, 0))
        return tt_err_set(err, TT_ECHECKSUM, "%s: segment header checksum mismatch", path);
    if (get16(h + SEG_OFF_HDR_SIZE) != SEG_HDR_SIZE)
        return tt_err_set(err, TT_EFORMAT, "%s: unexpected segment header size %u", path,
                          get16(h + SEG_OFF_HDR_SIZE));
    memset(d, 0, sizeof *d);
    d->kind = h[SEG_OFF_KIND];
    d->tf = h[SEG_OFF_TF];
    d->side = h[SEG_OFF_SIDE];
    memcpy(d->symbol, h + SEG_OFF_SYMBOL, TT_SYMBOL_MAX - 1);
    return TT_OK;
}

int tt_tape_seg_start(int fd, const char *path, const tt_stream_desc *d, tt_err *err)
{
    uint8_t h[SEG_HDR_SIZE];
    seg_header_build(h, d);
    if (ftruncate(fd, 0) || pwrite(fd, h, SEG_HDR_SIZE, 0) != SEG_HDR_SIZE)
        return tt_err_set(err, TT_EIO, "%s: cannot write header: %s", path, strerror(errno));
    return TT_OK;
}

static void blk_header_build(uint8_t h[BLK_HDR_SIZE], const tt_tape_blk *b)
{
    memset(h, 0, BLK_HDR_SIZE);
    put32(h + BLK_OFF_MAGIC, BLK_MAGIC);
    put32(h + BLK_OFF_COUNT, b->count);
    put64(h + BLK_OFF_FIRST, (uint64_t)b->first);
    put64(h + BLK_OFF_LAST, (uint64_t)b->last);
    put32(h + BLK_OFF_RAW_LEN, b->raw_len);
    put32(h + BLK_OFF_COMP_LEN, b->comp_len);
    h[BLK_OFF_CODEC] = BLK_CODEC_PLANES;
    put32(h + BLK_OFF_HSUM, XXH32(h, BLK_OFF_HSUM, 0));
    put64(h + BLK_OFF_SUM, b->sum);
}

/* 0 ok, -1 bad header (corruption). */
static int blk_header_parse(const uint8_t h[BLK_HDR_SIZE], tt_tape_blk *b)
{
    if (get32(h + BLK_OFF_MAGIC) != BLK_MAGIC || h[BLK_OFF_CODEC] != BLK_CODEC_PLANES ||
        get32(h + BLK_OFF_HSUM) != XXH32(h, BLK_OFF_HSUM, 0))
        return -1;
    b->count = get32(h + BLK_OFF_COUNT);
    b->first = (tt_ts)get64(h + BLK_OFF_FIRST);
    b->last = (tt_ts)get64(h + BLK_OFF_LAST);
    b->raw_len = get32(h + BLK_OFF_RAW_LEN);
    b->comp_len = get32(h + BLK_OFF_COMP_LEN);
    b->sum = get64(h + BLK_OFF_SUM);
    if (b->count == 0 || b->count > MAX_BLOCK_EVENTS || b->raw_len > MAX_BLOCK_BYTES ||
        b->comp_len > MAX_BLOCK_BYTES || b->first > b->last)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the block index                                                            */

int tt_tape_seg_scan(int fd, const char *path, const tt_stream_desc *want, tt_tape_blk **idx,
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
    tt_tape_blk *v = NULL;
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
        tt_tape_blk b;
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
            tt_tape_blk *nv = realloc(v, cap * sizeof *v);
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
/* payload frames                                                             */

/* Each byte plane is its own zstd frame, so each gets its own entropy tables
 * (one table shared by all planes costs ~0.5 byte/tick on real FX data).
 * Blob payloads are one frame. */
int tt_tape_frames_compress(ZSTD_CCtx *cctx, int level, tt_tape_buf *raw, tt_tape_buf *comp,
                            const char *path, tt_err *err)
{
    tt_tape_buf_mark(raw);
    int nf = raw->nmarks;
    size_t bound = 1 + (size_t)nf * FRM_HDR_SIZE;
    for (int i = 0; i < nf; i++)
        bound += ZSTD_compressBound(raw->marks[i] - (i ? raw->marks[i - 1] : 0));
    comp->n = 0;
    if (tt_tape_buf_reserve(comp, bound))
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    comp->p[0] = (uint8_t)nf;
    size_t cn = 1;
    for (int i = 0; i < nf; i++) {
        size_t lo = i ? raw->marks[i - 1] : 0, len = raw->marks[i] - lo;
        size_t z = ZSTD_compressCCtx(cctx, comp->p + cn + FRM_HDR_SIZE, bound - cn - FRM_HDR_SIZE,
                                     raw->p + lo, len, level);
        if (ZSTD_isError(z))
            return tt_err_set(err, TT_EIO, "%s: zstd: %s", path, ZSTD_getErrorName(z));
        put32(comp->p + cn + FRM_OFF_RAW_LEN, (uint32_t)len);
        put32(comp->p + cn + FRM_OFF_COMP_LEN, (uint32_t)z);
        cn += FRM_HDR_SIZE + z;
    }
    comp->n = cn;
    return TT_OK;
}

int tt_tape_frames_decompress(ZSTD_DCtx *dctx, const uint8_t *p, size_t len, uint8_t *out,
                              size_t out_len, size_t *got)
{
    if (len < 1)
        return -1;
    int nf = p[0];
    size_t off = 1, at = 0;
    for (int i = 0; i < nf; i++) {
        if (len - off < FRM_HDR_SIZE)
            return -1;
        size_t rl = get32(p + off + FRM_OFF_RAW_LEN), cl = get32(p + off + FRM_OFF_COMP_LEN);
        off += FRM_HDR_SIZE;
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
/* one block                                                                  */

int tt_tape_block_append(int fd, const char *path, tt_tape_blk *b, const tt_tape_buf *comp,
                         tt_err *err)
{
    b->comp_len = (uint32_t)comp->n;
    b->sum = XXH64(comp->p, comp->n, 0);
    uint8_t h[BLK_HDR_SIZE];
    blk_header_build(h, b);
    struct iovec iov[2] = {{h, BLK_HDR_SIZE}, {comp->p, comp->n}};
    ssize_t want = (ssize_t)(BLK_HDR_SIZE + comp->n);
    ssize_t got = writev(fd, iov, 2);
    if (got != want) {
        /* leave the stream as it was: cut off whatever part of the block landed */
        off_t end = lseek(fd, 0, SEEK_CUR);
        if (got > 0 && end >= got && ftruncate(fd, end - got) == 0)
            lseek(fd, end - got, SEEK_SET);
        return tt_err_set(err, TT_EIO, "%s: block write failed: %s", path,
                          got < 0 ? strerror(errno) : "short write");
    }
    return TT_OK;
}

int tt_tape_block_load(int fd, const char *path, uint32_t blkno, const tt_tape_blk *b,
                       ZSTD_DCtx *dctx, tt_tape_buf *comp, tt_tape_buf *raw, tt_err *err)
{
    comp->n = raw->n = 0;
    if (tt_tape_buf_reserve(comp, b->comp_len) || tt_tape_buf_reserve(raw, b->raw_len + 1))
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    if (pread(fd, comp->p, b->comp_len, (off_t)(b->offset + BLK_HDR_SIZE)) != (ssize_t)b->comp_len)
        return tt_err_set(err, TT_EIO, "%s: block %u: read failed", path, blkno);
    if (XXH64(comp->p, b->comp_len, 0) != b->sum)
        return tt_err_set(err, TT_ECHECKSUM, "%s: block %u (offset %llu): checksum mismatch", path,
                          blkno, (unsigned long long)b->offset);
    size_t dn;
    if (tt_tape_frames_decompress(dctx, comp->p, b->comp_len, raw->p, b->raw_len, &dn))
        return tt_err_set(err, TT_EFORMAT, "%s: block %u: cannot decompress", path, blkno);
    raw->n = dn;
    return TT_OK;
}
