/*
 * The tape's segment format: the bytes of a segment file around the payloads.
 *
 * How it works
 * ------------
 *   segment = header (64 bytes) · record · record · ...
 *   record  = block (block header, 48 bytes · compressed payload)
 *           | commit record (64 bytes; format 2)
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
 * A commit record (format 2) follows the blocks it commits and says what the
 * segment holds up to there: blocks, events, first and last time, its own
 * offset, and a chain (XXH64 over every block header so far, each seeded
 * with the chain before it; a block header holds its payload's XXH64). It is
 * cumulative, so the last one describes the whole segment; the tape's
 * manifest (data/tape/manifest.c) repeats it, and a segment that does not
 * end exactly at the manifest's commit record has lost or gained bytes.
 *
 * Crash safety: a block goes to disk with one writev() of header and payload,
 * then its commit record; nothing else ever points into a segment. A file
 * that ends inside a record is torn (tt_tape_seg_scan reports where the good
 * part ends); a checksum mismatch is never a tear but an error naming the
 * file and block. Format 1 segments (no commit records) are still scanned
 * when the caller asks (TT_SCAN_V1), for reading old tapes and upgrading them.
 *
 * This file knows no event fields (the codec turns payloads into events) and
 * no directory layout. Every field offset below is the table of
 * docs/tape-format.md, checked field by field at compile time; the
 * serialisers write through these names only.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
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

/* ---- commit record (docs/tape-format.md, "Commit record"; format 2) ---- */

#define CMT_MAGIC 0x4d435454u /* "TTCM" little-endian */
enum {
    CMT_OFF_MAGIC = 0,    /* 4: "TTCM" */
    CMT_OFF_BLOCKS = 4,   /* 4: blocks before this record in the segment */
    CMT_OFF_EVENTS = 8,   /* 8: events in those blocks */
    CMT_OFF_FIRST = 16,   /* 8: first event's time (0 with no block) */
    CMT_OFF_LAST = 24,    /* 8: last event's time (0 with no block) */
    CMT_OFF_OFFSET = 32,  /* 8: this record's offset in the file */
    CMT_OFF_CHAIN = 40,   /* 8: chain of the block headers (tt_tape_chain) */
    CMT_OFF_RESERVED = 48, /* 8: 0 */
    CMT_OFF_SUM = 56      /* 8: XXH64 (seed 0) of bytes 0..55 */
};
_Static_assert(CMT_OFF_BLOCKS == CMT_OFF_MAGIC + 4 && CMT_OFF_EVENTS == CMT_OFF_BLOCKS + 4,
               "commit record: u32 magic, u32 blocks");
_Static_assert(CMT_OFF_FIRST == CMT_OFF_EVENTS + 8 && CMT_OFF_LAST == CMT_OFF_FIRST + 8 &&
                   CMT_OFF_OFFSET == CMT_OFF_LAST + 8 && CMT_OFF_CHAIN == CMT_OFF_OFFSET + 8,
               "commit record: u64 events, i64 first, i64 last, u64 offset");
_Static_assert(CMT_OFF_RESERVED == CMT_OFF_CHAIN + 8 && CMT_OFF_SUM == CMT_OFF_RESERVED + 8,
               "commit record: u64 chain, 8 reserved bytes");
_Static_assert(CMT_SIZE == 64 && CMT_SIZE == CMT_OFF_SUM + 8,
               "commit record: 64 bytes, ending with its XXH64");
_Static_assert(CMT_SIZE >= BLK_HDR_SIZE, "a record is recognised from its first 48 bytes");

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

static void seg_header_build(uint8_t h[SEG_HDR_SIZE], const tt_stream_desc *d, uint16_t version)
{
    memset(h, 0, SEG_HDR_SIZE);
    memcpy(h + SEG_OFF_MAGIC, SEG_MAGIC, 8);
    put16(h + SEG_OFF_VERSION, version);
    put16(h + SEG_OFF_HDR_SIZE, SEG_HDR_SIZE);
    h[SEG_OFF_KIND] = d->kind;
    h[SEG_OFF_TF] = d->tf;
    h[SEG_OFF_SIDE] = d->side;
    memcpy(h + SEG_OFF_SYMBOL, d->symbol, strnlen(d->symbol, TT_SYMBOL_MAX));
    put64(h + SEG_OFF_SUM, XXH64(h, SEG_OFF_SUM, 0));
}

static int seg_header_check(const uint8_t h[SEG_HDR_SIZE], const char *path, unsigned flags,
                            tt_stream_desc *d, uint16_t *version, tt_err *err)
{
    if (memcmp(h + SEG_OFF_MAGIC, SEG_MAGIC, 8))
        return tt_err_set(err, TT_EFORMAT, "%s: not a ticktape segment (bad magic)", path);
    uint16_t ver = get16(h + SEG_OFF_VERSION);
    *version = ver;
    if (ver == 1 && !(flags & TT_SCAN_V1) && get64(h + SEG_OFF_SUM) == XXH64(h, SEG_OFF_SUM, 0))
        return tt_err_set(err, TT_EVERSION,
                          "%s: a format 1 segment in a format %d tape (run 'ticktape tape "
                          "upgrade')", path, TT_TAPE_FORMAT_VERSION);
    if (ver != TT_TAPE_FORMAT_VERSION && !(ver == 1 && (flags & TT_SCAN_V1)))
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
    seg_header_build(h, d, TT_TAPE_FORMAT_VERSION);
    if (ftruncate(fd, 0) || pwrite(fd, h, SEG_HDR_SIZE, 0) != SEG_HDR_SIZE)
        return tt_err_set(err, TT_EIO, "%s: cannot write header: %s", path, strerror(errno));
    if (lseek(fd, SEG_HDR_SIZE, SEEK_SET) < 0)
        return tt_err_set(err, TT_EIO, "%s: seek: %s", path, strerror(errno));
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
/* commit records                                                             */

uint64_t tt_tape_chain(uint64_t chain, const tt_tape_blk *b)
{
    uint8_t h[BLK_HDR_SIZE];
    blk_header_build(h, b);
    return XXH64(h, BLK_HDR_SIZE, chain);
}

static void cmt_build(uint8_t r[CMT_SIZE], const tt_tape_commit *c, uint64_t offset)
{
    memset(r, 0, CMT_SIZE);
    put32(r + CMT_OFF_MAGIC, CMT_MAGIC);
    put32(r + CMT_OFF_BLOCKS, c->blocks);
    put64(r + CMT_OFF_EVENTS, c->events);
    put64(r + CMT_OFF_FIRST, (uint64_t)c->first);
    put64(r + CMT_OFF_LAST, (uint64_t)c->last);
    put64(r + CMT_OFF_OFFSET, offset);
    put64(r + CMT_OFF_CHAIN, c->chain);
    put64(r + CMT_OFF_SUM, XXH64(r, CMT_OFF_SUM, 0));
}

/* 0, or -1 when the record is corrupt or does not say what the blocks before
 * it (state *c, ending at offset) say. */
static int cmt_check(const uint8_t r[CMT_SIZE], const tt_tape_commit *c, uint64_t offset)
{
    uint8_t want[CMT_SIZE];
    cmt_build(want, c, offset);
    return memcmp(r, want, CMT_SIZE) ? -1 : 0;
}

int tt_tape_commit_append(int fd, const char *path, tt_tape_commit *c, tt_err *err)
{
    uint8_t r[CMT_SIZE];
    uint64_t offset = c->length;
    cmt_build(r, c, offset);
    ssize_t got = pwrite(fd, r, CMT_SIZE, (off_t)offset);
    if (got != CMT_SIZE) {
        int e = errno;
        if (ftruncate(fd, (off_t)offset) == 0)
            lseek(fd, (off_t)offset, SEEK_SET);
        return tt_err_set(err, TT_EIO, "%s: cannot write the commit record: %s", path,
                          got < 0 ? strerror(e) : "short write");
    }
    c->length = offset + CMT_SIZE;
    if (lseek(fd, (off_t)c->length, SEEK_SET) < 0)
        return tt_err_set(err, TT_EIO, "%s: seek: %s", path, strerror(errno));
    return TT_OK;
}

void tt_tape_commit_add(tt_tape_commit *c, const tt_tape_blk *b)
{
    if (c->blocks == 0)
        c->first = b->first;
    c->last = b->last;
    c->blocks++;
    c->events += b->count;
    c->chain = tt_tape_chain(c->chain, b);
    c->length = b->offset + BLK_HDR_SIZE + b->comp_len;
}

/* ------------------------------------------------------------------------ */
/* the block index                                                            */

void tt_tape_scan_free(tt_tape_scan *s)
{
    free(s->idx);
    s->idx = NULL;
    s->nidx = 0;
}

/* A problem at offset off of a scan: an error, or in lenient mode the end of
 * what is usable (s->bad keeps the message). */
static int scan_stop(tt_tape_scan *s, unsigned flags, tt_err *err, int code, const char *fmt,
                     const char *path, uint32_t blk, uint64_t off)
{
    char msg[sizeof s->bad_msg];
    snprintf(msg, sizeof msg, fmt, path, blk, (unsigned long long)off);
    if (flags & TT_SCAN_LENIENT) {
        s->bad = code;
        snprintf(s->bad_msg, sizeof s->bad_msg, "%s", msg);
        return TT_OK;
    }
    return tt_err_set(err, code, "%s", msg);
}

/* Walk the records from the header to `end`: blocks into the index, commit
 * records checked against the blocks before them. */
static int scan_records(int fd, const char *path, uint64_t end, unsigned flags, tt_tape_scan *s,
                        tt_err *err)
{
    uint64_t off = SEG_HDR_SIZE;
    uint32_t cap = 0;
    tt_tape_commit run = {0};
    run.length = SEG_HDR_SIZE;
    s->good_end = off;
    while (off < end) {
        uint8_t r[CMT_SIZE];
        uint64_t left = end - off;
        size_t want = left < CMT_SIZE ? (size_t)left : CMT_SIZE;
        if (want < BLK_HDR_SIZE) {
            s->torn = 1;
            break;
        }
        if (pread(fd, r, want, (off_t)off) != (ssize_t)want)
            return tt_err_set(err, TT_EIO, "%s: block %u: read failed: %s", path, s->nidx,
                              strerror(errno));
        if (get32(r) == CMT_MAGIC && s->version >= 2) {
            if (want < CMT_SIZE) {
                s->torn = 1;
                break;
            }
            if (cmt_check(r, &run, off))
                return scan_stop(s, flags, err, TT_ECHECKSUM,
                                 "%s: commit record after block %u (offset %llu) is corrupt or "
                                 "does not match the blocks before it",
                                 path, s->nidx, off);
            off += CMT_SIZE;
            run.length = off;
            s->commit = run;
            s->good_end = off;
            continue;
        }
        tt_tape_blk b;
        if (blk_header_parse(r, &b))
            return scan_stop(s, flags, err, TT_ECHECKSUM,
                             "%s: block %u (offset %llu): corrupt block header", path, s->nidx,
                             off);
        if (left - BLK_HDR_SIZE < b.comp_len) {
            s->torn = 1;
            break;
        }
        b.offset = off;
        if (s->nidx == cap) {
            cap = cap ? cap * 2 : 64;
            tt_tape_blk *nv = realloc(s->idx, cap * sizeof *nv);
            if (!nv)
                return tt_err_set(err, TT_ENOMEM, "out of memory");
            s->idx = nv;
        }
        s->idx[s->nidx++] = b;
        run.chain = XXH64(r, BLK_HDR_SIZE, run.chain);
        if (run.blocks == 0)
            run.first = b.first;
        run.last = b.last;
        run.blocks++;
        run.events += b.count;
        off += BLK_HDR_SIZE + b.comp_len;
        s->good_end = off;
    }
    s->blocks_end = run;
    s->blocks_end.length = s->good_end;
    return TT_OK;
}

int tt_tape_seg_scan(int fd, const char *path, const tt_stream_desc *want, uint64_t limit,
                     unsigned flags, tt_tape_scan *s, tt_err *err)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    if (fstat(fd, &st))
        return tt_err_set(err, TT_EIO, "%s: %s", path, strerror(errno));
    s->size = (uint64_t)st.st_size;
    uint64_t end = limit && limit < s->size ? limit : s->size;
    uint8_t h[SEG_HDR_SIZE];
    if (end < SEG_HDR_SIZE) {
        s->torn = end > 0;
        return TT_OK; /* an empty or torn header: nothing readable */
    }
    if (pread(fd, h, SEG_HDR_SIZE, 0) != SEG_HDR_SIZE)
        return tt_err_set(err, TT_EIO, "%s: cannot read header: %s", path, strerror(errno));
    tt_stream_desc d;
    int rc = seg_header_check(h, path, flags, &d, &s->version, err);
    if (rc)
        return rc;
    if (want && (d.kind != want->kind || d.tf != want->tf || d.side != want->side ||
                 strcmp(d.symbol, want->symbol)))
        return tt_err_set(err, TT_EFORMAT, "%s: segment describes another stream (%s)", path,
                          d.symbol);
    s->header_ok = 1;
    rc = scan_records(fd, path, end, flags, s, err);
    if (rc)
        tt_tape_scan_free(s);
    return rc;
}

int tt_tape_seg_scan_path(const char *path, const tt_stream_desc *want, uint64_t limit,
                          unsigned flags, tt_tape_scan *s, tt_err *err)
{
    memset(s, 0, sizeof *s);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
    int rc = tt_tape_seg_scan(fd, path, want, limit, flags, s, err);
    close(fd);
    return rc;
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
    b->offset = (uint64_t)lseek(fd, 0, SEEK_CUR);
    ssize_t got = writev(fd, iov, 2);
    if (got != want) {
        /* leave the stream as it was: cut off whatever part of the block landed */
        int e = errno;
        if (ftruncate(fd, (off_t)b->offset) == 0)
            lseek(fd, (off_t)b->offset, SEEK_SET);
        return tt_err_set(err, TT_EIO, "%s: block write failed: %s", path,
                          got < 0 ? strerror(e) : "short write");
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
