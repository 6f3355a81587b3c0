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
 * sizes and an XXH64 checksum of header and payload. Commit records follow
 * the blocks they commit; TAPE/MANIFEST lists every segment with its last
 * commit. See docs/tape-format.md.
 *
 * Integrity: a writer appends a block, then a commit record, then replaces
 * the manifest (write, fsync, rename, fsync the folder). Readers check every
 * segment their range touches against the manifest before returning a single
 * event: a missing segment, a cut at any offset (block boundaries included),
 * a corrupt record or another file in a segment's place is an error naming
 * the file, the blocks and the events missing (with allow_partial: a warning,
 * and what is left is read). Bytes after a segment's last commit are never
 * read. One process writes a tape at a time (TAPE/.lock); a writer that did
 * not finish is recovered from by the next one, or by tt_tape_repair.
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

#define TT_TAPE_FORMAT_VERSION 2

enum tt_stream_kind {
    TT_STREAM_QUOTE = 1, /* tt_event kind QUOTE */
    TT_STREAM_BAR = 2,   /* tt_event kind BAR; one timeframe and side per stream */
    TT_STREAM_BLOB = 3,  /* tt_event kinds BLOB/EXTERNAL and any event kind, canonically encoded */
    TT_STREAM_TRADE = 4, /* tt_event kind TRADE */
    TT_STREAM_QUARANTINE = 5 /* ticks an import set aside (data/quality.h): blob records */
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

/* ---- a tape open for writing ---- */

/* A tape open for writing: it holds the writers' lock (one writer process at
 * a time; TAPE/.lock, an advisory flock) and the manifest that writers'
 * commits update. Open one per process and tape, and its streams with
 * tt_tape_writer_open_in; tt_tape_writer_open opens a private one. */
typedef struct tt_tape tt_tape;

typedef struct tt_tape_open_opts {
    const char *command; /* who writes ("import dukascopy"): named to a second writer */
    int wait;            /* another process writes the tape: wait for it instead of failing */
    int fsync;           /* every commit fsyncs the segment, the manifest and the folders */
    /* Told what recovery dropped when the previous writer did not finish. May be NULL. */
    void (*report)(void *ctx, const char *line);
    void *ctx;
} tt_tape_open_opts;

/* Open (create if needed) the tape at dir for writing. When the previous
 * writer did not finish (killed, or failed), its uncommitted bytes and files
 * are removed first and reported. A format 1 tape (no manifest) must be
 * upgraded first. On failure *t is NULL and the result is TT_ESTATE (another
 * process writes the tape: the message names its pid and command), TT_EIO,
 * TT_ENOMEM, TT_EVERSION (a format 1 tape), or the manifest's error
 * (TT_EFORMAT, TT_ECHECKSUM). */
int tt_tape_open(tt_tape **t, const char *dir, const tt_tape_open_opts *o, tt_err *err);

/* Release the lock and free (NULL allowed: TT_OK). Every writer opened in it
 * must be closed first (TT_ESTATE otherwise, and the tape is not freed). */
int tt_tape_close(tt_tape *t, tt_err *err);

/* ---- writing ---- */

typedef struct tt_tape_writer tt_tape_writer;

typedef struct tt_tape_writer_opts {
    uint32_t block_events;  /* events per block; 0 = default 8192 */
    int zstd_level;         /* 0 = default (see docs/tape-format.md) */
    int fsync;              /* every commit fsyncs (journals; the tape's own fsync also does) */
    uint32_t commit_blocks; /* commit after this many blocks; 0 = after every block */
    int merge;   /* an event not after the stream's end is merged into its month (imports);
                  * 0 = refused with TT_EORDER (journals) */
    int replace; /* merge: events at a time the tape holds other values for replace them */
    /* Told about conflicts (merge) and dropped uncommitted bytes. May be NULL. */
    void (*report)(void *ctx, const char *line);
    void *report_ctx;
} tt_tape_writer_opts;

/* Importers commit every this many blocks (and at the end): what a kill -9
 * can cost an import (docs/tape-format.md, "Durability"). */
#define TT_IMPORT_COMMIT_BLOCKS 8

/* What a writer did, so far. */
typedef struct tt_tape_writer_stats {
    uint64_t added;      /* events that are new on the tape */
    uint64_t duplicates; /* events equal to ones the tape holds: not written twice */
    uint64_t conflicts;  /* events at a time the tape holds other values for */
    uint64_t replaced;   /* events of the tape replaced by conflicting ones (replace) */
    uint64_t rewritten;  /* month segments rewritten by a merge */
} tt_tape_writer_stats;

/* Open one stream of an open tape for appending. Events go into blocks;
 * after every commit_blocks blocks, and at a flush, a new month or the end,
 * the segment gets a commit record and the manifest is replaced: only then
 * do readers see the events. An event at or before what the stream holds in
 * its month is refused (TT_EORDER) unless opts->merge, which rewrites the
 * month beside the old file (duplicates counted, conflicts reported and kept
 * or replaced) and swaps it in with the manifest. Events given to one writer
 * must come in time order either way. On failure *w is NULL and the result is
 * TT_EINVAL (bad description or symbol, too long a path), TT_ENOMEM or
 * TT_EIO (folders). */
int tt_tape_writer_open_in(tt_tape_writer **w, tt_tape *t, const tt_stream_desc *desc,
                           const tt_tape_writer_opts *opts, tt_err *err);

/* tt_tape_writer_open_in on a private tt_tape opened for dir (no wait, no
 * command name; closed with the writer): one stream written alone. Fails
 * like both. */
int tt_tape_writer_open(tt_tape_writer **w, const char *dir, const tt_stream_desc *desc,
                        const tt_tape_writer_opts *opts, tt_err *err);

/* Append one event. Its kind must fit the stream; its ts must not be earlier
 * than the previous event given (TT_EORDER), nor, without merge, than the
 * stream's last. The symbol field is ignored. For blob streams, any event
 * kind is stored in canonical encoding (blob bytes included) and comes back
 * equal. TT_OK, or TT_EINVAL (the kind does not fit; nothing appended),
 * TT_EORDER (nothing appended), TT_ENOMEM, TT_ESTATE (an earlier write
 * failed: the writer can only be closed), or the error of writing a block,
 * committing, or opening a month's segment: TT_EIO naming the file, or a
 * segment's TT_EFORMAT / TT_ECHECKSUM / TT_EVERSION. */
int tt_tape_writer_append(tt_tape_writer *w, const tt_event *ev, tt_err *err);

/* Write the pending events as a (possibly short) block and commit; a merge in
 * progress is finished and swapped in. A merging writer then starts a new
 * run: its next event may be earlier than the last (it is merged in). TT_OK
 * (also with nothing pending), or the errors of tt_tape_writer_append. A block
 * that fails to land whole is cut off again, so a segment keeps only whole
 * blocks. */
int tt_tape_writer_flush(tt_tape_writer *w, tt_err *err);

/* Flush and close. w is freed even on error (NULL is allowed: TT_OK). TT_OK,
 * or the flush's error, or TT_EIO when close fails. */
int tt_tape_writer_close(tt_tape_writer *w, tt_err *err);

/* Bytes of uncommitted tail dropped when segments were reopened. Cannot fail. */
uint64_t tt_tape_writer_repaired(const tt_tape_writer *w);
/* Events given to tt_tape_writer_append and accepted. Cannot fail. */
uint64_t tt_tape_writer_count(const tt_tape_writer *w);
/* What the writer did so far (added, duplicates, conflicts ...). Cannot fail. */
void tt_tape_writer_stats_get(const tt_tape_writer *w, tt_tape_writer_stats *out);

/* ---- reading ---- */

typedef struct tt_tape_reader tt_tape_reader;

typedef struct tt_tape_query {
    const char *const *symbols; /* NULL-terminated list; NULL = every symbol */
    uint32_t kinds;             /* bit mask of (1u << tt_stream_kind); 0 = quotes only */
    uint8_t tf;                 /* BAR streams: timeframe filter; 0 = any */
    uint8_t side;               /* BAR streams: side filter (used when tf != 0) */
    tt_ts from;                 /* inclusive; 0 = beginning */
    tt_ts to;                   /* exclusive; 0 = end */
    int allow_partial;          /* read what a damaged tape still has (else: an error) */
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

/* Events known to be missing from what was read: 0, except with
 * allow_partial on a damaged tape (the events of the segments and blocks that
 * could not be read, as the manifest counts them). Cannot fail. */
uint64_t tt_tape_reader_missing(const tt_tape_reader *r);

/* Non-fatal problems met so far (a format 1 tape, a writer that did not
 * finish, uncommitted bytes, with allow_partial what could not be read;
 * torn tails of format 1): count, and a message for each (NULL when i is
 * out of range). Cannot fail. */
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
    uint64_t events, bytes;  /* committed */
    tt_ts first, last;
    int torn;                /* segments with bytes after their last commit (format 1: torn) */
    int damaged;             /* segments missing or shorter than committed */
    int legacy;              /* a format 1 tape (no manifest) */
    int writer;              /* 1 a writer is at work, 2 a writer did not finish */
} tt_tape_info;

/* What is on the tape at dir: from its manifest (a format 1 tape: from the
 * block indexes; no payload is read). TT_OK, or TT_ENOTFOUND (no such
 * directory, or not a tape), the manifest's error, or for a format 1 tape
 * the first segment that cannot be opened or walked (TT_EIO, TT_EFORMAT,
 * TT_EVERSION, TT_ECHECKSUM, naming the file and block); *out is then
 * empty. Damage is counted in out->damaged, not an error. */
int tt_tape_info_read(const char *dir, tt_tape_info *out, tt_err *err);
/* Free what tt_tape_info_read filled (and zero it). Cannot fail. */
void tt_tape_info_free(tt_tape_info *info);

/* Check the tape against its manifest and read and check every committed
 * block of every segment. TT_OK when sound; otherwise the first problem,
 * naming the file and block: TT_ENOTFOUND (not a tape, no events, a missing
 * segment), TT_EIO, TT_ECHECKSUM, TT_EFORMAT (cannot decompress, a payload
 * that does not match its header, a file in a segment's place that holds
 * something else, a segment file the manifest does not name, no manifest),
 * TT_EVERSION (a format 1 tape: run upgrade), TT_ETORN (a cut segment, bytes
 * after the last commit), TT_ESTATE (a writer did not finish), TT_ENOMEM.
 * `report` (may be NULL) is called with a line for each problem found, and
 * verification continues. *events_out (may be NULL) gets the events of the
 * sound blocks. */
int tt_tape_verify(const char *dir, void (*report)(void *ctx, const char *line), void *ctx,
                   uint64_t *events_out, tt_err *err);

/* ---- repair and upgrade ---- */

typedef struct tt_tape_repair_stats {
    uint64_t events_dropped; /* committed events that could not be kept */
    uint64_t bytes_dropped;  /* bytes cut off or removed */
    uint32_t segments_cut;   /* segments cut back to their last sound commit */
    uint32_t segments_lost;  /* segments dropped from the manifest (missing, unusable) */
    uint32_t files_removed;  /* files the manifest does not name */
    uint32_t segments_upgraded; /* upgrade: format 1 segments rewritten in format 2 */
} tt_tape_repair_stats;

/* Bring a tape back to a sound state, as the writers' lock holder (fails
 * like tt_tape_open when another process writes it): every segment is cut
 * back to its last commit that checks (bytes after it, a cut or corrupt tail
 * dropped), segments that are missing or hold something else are dropped
 * from the manifest, files the manifest does not name are removed, and the
 * manifest is rewritten. A tape whose manifest was lost gets one rebuilt
 * from its segments' commit records. Every change is reported with what it
 * dropped (report may be NULL; st may be NULL). TT_OK (also when there was
 * nothing to do), or TT_ENOTFOUND (not a tape), TT_EVERSION (a format 1
 * tape: upgrade it), TT_ESTATE, TT_EIO, TT_ENOMEM. */
int tt_tape_repair(const char *dir, void (*report)(void *ctx, const char *line), void *ctx,
                   tt_tape_repair_stats *st, tt_err *err);

/* Write a format 1 tape in format 2: each segment is rewritten with a
 * format 2 header, its complete blocks copied byte for byte and a commit
 * record (a torn tail is dropped and reported), then the manifest is
 * written. A format 2 tape is left as it is. TT_OK, or TT_ENOTFOUND (not a
 * tape), TT_ESTATE (being written), TT_EIO, TT_EFORMAT / TT_ECHECKSUM (a
 * segment that cannot be walked, named), TT_ENOMEM. */
int tt_tape_upgrade(const char *dir, void (*report)(void *ctx, const char *line), void *ctx,
                    tt_tape_repair_stats *st, tt_err *err);

#endif
