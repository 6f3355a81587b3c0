/*
 * ticktape: the tape, the on-disk event log.
 *
 * A tape is a directory. It holds streams; a stream is one symbol and one kind
 * (quotes; bars of one timeframe and side; generic blobs such as a run's
 * journal). Each stream is a sequence of append-only segment files cut by
 * calendar month:
 *
 *     TAPE/EURUSD/quote/2019-02.tts
 *     TAPE/EURUSD/bar-M1-bid/2019-02.tts
 *     TAPE/_journal/blob/2026-11.tts
 *
 * A segment starts with a versioned header (magic "TTAPESEG", format version,
 * stream description) followed by blocks. A block holds up to a few thousand
 * events encoded column by column (timestamp deltas scaled by their common
 * divisor, price deltas as zigzag varints, volumes byte-shuffled), compressed
 * with zstd, and is framed by a header carrying its event count, time range,
 * sizes and an XXH64 checksum of header and payload. See docs/tape-format.md.
 *
 * Crash safety: a block is written whole with one write() and only then counts;
 * nothing points into a segment from outside. On open, a reader walks the block
 * headers (the block index, kept in memory, allows seeking by time without
 * decoding what comes before). A tail that ends inside a block is a torn tail:
 * the reader keeps every complete block and reports the tear (TT_ETORN through
 * tt_tape_reader_warnings); a writer reopening the stream truncates it away
 * first. A checksum mismatch is always an error naming the file and block.
 *
 * This is the tape's one public header; the code is in data/tape/ (its module
 * map heads the private data/tape_internal.h). Every function says below what
 * it returns on failure; failures fill the tt_err (NULL allowed) with a
 * message naming the file and block.
 */
#ifndef TT_TAPE_H
#define TT_TAPE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"

#define TT_TAPE_FORMAT_VERSION 1

enum tt_stream_kind {
    TT_STREAM_QUOTE = 1, /* tt_event kind QUOTE */
    TT_STREAM_BAR = 2,   /* tt_event kind BAR; one timeframe and side per stream */
    TT_STREAM_BLOB = 3,  /* tt_event kinds BLOB/EXTERNAL and any event kind, canonically encoded */
    TT_STREAM_TRADE = 4  /* tt_event kind TRADE */
};

/* Identity of a stream. symbol may be "_journal" or any name for blob streams. */
typedef struct tt_stream_desc {
    char symbol[TT_SYMBOL_MAX];
    uint8_t kind; /* enum tt_stream_kind */
    uint8_t tf;   /* BAR: enum tt_timeframe */
    uint8_t side; /* BAR: enum tt_price_side */
} tt_stream_desc;

/* The stream's folder name: "quote", "bar-M1-bid", "blob", "trade" (cut to
 * bufsize). Cannot fail: an unknown kind is named "unknown". */
void tt_stream_desc_name(const tt_stream_desc *d, char *buf, size_t bufsize);

/* The inverse: a stream from its symbol and folder name. TT_OK, or TT_EINVAL
 * (no tt_err) when the symbol is empty or too long or the name is no stream's. */
int tt_stream_desc_parse(const char *symbol, const char *name, tt_stream_desc *out);

/* ---- writing ---- */

typedef struct tt_tape_writer tt_tape_writer;

typedef struct tt_tape_writer_opts {
    uint32_t block_events; /* events per block; 0 = default 8192 */
    int zstd_level;        /* 0 = default (see docs/tape-format.md) */
    int fsync;             /* fsync after each block (journals); default off */
} tt_tape_writer_opts;

/* Open (create if needed) one stream of the tape at `dir` for appending. An
 * existing stream continues after its last event; a torn tail is truncated
 * away and reported in err->msg with TT_OK returned (check tt_tape_writer_repaired).
 * On failure *w is NULL and the result is TT_EINVAL (bad description or
 * symbol, too long a path), TT_ENOMEM, TT_EIO (folders, open, truncate), or
 * the error of the latest segment (TT_EFORMAT, TT_EVERSION, TT_ECHECKSUM),
 * naming the file. */
int tt_tape_writer_open(tt_tape_writer **w, const char *dir, const tt_stream_desc *desc,
                        const tt_tape_writer_opts *opts, tt_err *err);

/* Append one event. Its kind must fit the stream; its ts must not be earlier than
 * the stream's last event (TT_EORDER otherwise). The symbol field is ignored.
 * For blob streams, any event kind is stored in canonical encoding (blob bytes
 * included) and comes back equal. TT_OK, or TT_EINVAL (the kind does not fit;
 * nothing appended), TT_EORDER (nothing appended), TT_ENOMEM, or the error of
 * writing a full block or of opening the next month's segment (as
 * tt_tape_writer_flush and tt_tape_writer_open). */
int tt_tape_writer_append(tt_tape_writer *w, const tt_event *ev, tt_err *err);

/* Write the pending events as a (possibly short) block. TT_OK (also with
 * nothing pending), or TT_ENOMEM or TT_EIO naming the file (TT_EFORMAT only
 * for an internal inconsistency); a block that fails to land whole is cut off
 * again, so the segment keeps only whole blocks. */
int tt_tape_writer_flush(tt_tape_writer *w, tt_err *err);

/* Flush and close. w is freed even on error (NULL is allowed: TT_OK). TT_OK,
 * or the flush's error, or TT_EIO when close fails. */
int tt_tape_writer_close(tt_tape_writer *w, tt_err *err);

/* Bytes of torn tail dropped on open (0 when clean). Cannot fail. */
uint64_t tt_tape_writer_repaired(const tt_tape_writer *w);
/* Events appended through this handle. Cannot fail. */
uint64_t tt_tape_writer_count(const tt_tape_writer *w);

/* ---- reading ---- */

typedef struct tt_tape_reader tt_tape_reader;

typedef struct tt_tape_query {
    const char *const *symbols; /* NULL-terminated list; NULL = every symbol */
    uint32_t kinds;             /* bit mask of (1u << tt_stream_kind); 0 = quotes only */
    uint8_t tf;                 /* BAR streams: timeframe filter; 0 = any */
    uint8_t side;               /* BAR streams: side filter (used when tf != 0) */
    tt_ts from;                 /* inclusive; 0 = beginning */
    tt_ts to;                   /* exclusive; 0 = end */
} tt_tape_query;

/* Open a merged, time-ordered view of the matching streams. Symbols are mapped to
 * ids through `instruments` (NULL: ids are assigned 1.. in stream order and
 * tt_tape_reader_symbol() names them). Each stream is a source id (1..), events
 * are ordered by (ts, cls, source, seq) where seq is the position in the stream.
 * No stream matching is not an error (the reader is empty). On failure *r is
 * NULL and the result is TT_ENOTFOUND (no such directory, or a symbol unknown
 * to `instruments`), TT_EIO, TT_ENOMEM, or the error of a segment's header or
 * block index (TT_EFORMAT, TT_EVERSION, TT_ECHECKSUM) naming the file. */
int tt_tape_reader_open(tt_tape_reader **r, const char *dir, const tt_tape_query *q,
                        const tt_instruments *instruments, tt_err *err);

/* 1 = *ev filled, 0 = end, < 0 = error (names the file and block): TT_EIO,
 * TT_ECHECKSUM (payload checksum), TT_EFORMAT (cannot decompress or decode),
 * TT_EVERSION, TT_ENOMEM. Blob payloads point into the reader and are valid
 * until the next call. */
int tt_tape_reader_next(tt_tape_reader *r, tt_event *ev, tt_err *err);

/* Non-fatal problems met so far (torn tails): count, and a message for each
 * (NULL when i is out of range). Cannot fail. */
int tt_tape_reader_warning_count(const tt_tape_reader *r);
const char *tt_tape_reader_warning(const tt_tape_reader *r, int i);

/* The symbol name of an id used by this reader; NULL for an unknown id. */
const char *tt_tape_reader_symbol(const tt_tape_reader *r, uint32_t id);

/* An engine source over the reader (the reader stays owned by the caller).
 * Cannot fail; its next/batch calls fail as tt_tape_reader_next. */
tt_source tt_tape_reader_source(tt_tape_reader *r);

/* Close and free (NULL is allowed). Cannot fail. */
void tt_tape_reader_close(tt_tape_reader *r);

/* ---- inspection ---- */

typedef struct tt_stream_info {
    tt_stream_desc desc;
    uint64_t events;
    uint64_t blocks;
    uint64_t bytes; /* on disk, all segments */
    uint32_t segments;
    tt_ts first, last;
} tt_stream_info;

typedef struct tt_tape_info {
    uint32_t nstreams;
    tt_stream_info *streams; /* sorted by symbol, then kind name */
    uint64_t events, bytes;
    tt_ts first, last;
    int torn;                /* number of torn tails seen */
} tt_tape_info;

/* What is on the tape at dir, from the block indexes alone (no payload is
 * read). TT_OK, or TT_ENOTFOUND (no such directory) or the first segment
 * that cannot be opened or walked (TT_EIO, TT_EFORMAT, TT_EVERSION,
 * TT_ECHECKSUM, naming the file and block); *out is then empty. Torn tails
 * are counted in out->torn, not errors. */
int tt_tape_info_read(const char *dir, tt_tape_info *out, tt_err *err);
/* Free what tt_tape_info_read filled (and zero it). Cannot fail. */
void tt_tape_info_free(tt_tape_info *info);

/* Read and check every block of every segment. TT_OK when sound; otherwise the
 * first problem, naming the file and block: TT_ENOTFOUND, TT_EIO, TT_ECHECKSUM,
 * TT_EFORMAT (cannot decompress, or a payload that does not match its header),
 * TT_EVERSION, TT_ETORN (a torn tail), TT_ENOMEM; `report` (may be NULL) is
 * called with a line for each problem found, and verification continues.
 * *events_out (may be NULL) gets the events of the sound blocks. */
int tt_tape_verify(const char *dir, void (*report)(void *ctx, const char *line), void *ctx,
                   uint64_t *events_out, tt_err *err);

#endif
