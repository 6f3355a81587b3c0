/*
 * ticktape: Dukascopy historical data (bi5 files): decoding and import.
 *
 * Layout of a Dukascopy tree (the same below the datafeed URL and on disk),
 * with MONTHS COUNTED FROM 00 = January:
 *
 *     SYMBOL/YYYY/MM/DD/HHh_ticks.bi5          one hour of ticks
 *     SYMBOL/YYYY/MM/DD/{BID,ASK}_candles_min_1.bi5   one day of M1 candles
 *     SYMBOL/YYYY/MM/{BID,ASK}_candles_hour_1.bi5     one month of H1 candles
 *     SYMBOL/YYYY/{BID,ASK}_candles_day_1.bi5         one year of D1 candles
 *
 * A .bi5 file is LZMA in the legacy "LZMA alone" container; a 0-byte file
 * means "no data" (weekend hours). Decompressed, a tick file is a run of
 * 20-byte big-endian records (uint32 ms since the hour, uint32 ask, uint32
 * bid in points, float32 ask volume, float32 bid volume in millions); a candle
 * file a run of 24-byte records (uint32 seconds since the file's period start,
 * uint32 open, CLOSE, LOW, HIGH in points, float32 volume).
 *
 * The decoders are pure functions over a buffer (no files, no globals), so
 * fuzzers can drive them with arbitrary bytes. They reuse a caller-owned
 * scratch (tt_bi5_buf) so that importing thousands of files allocates only
 * while the largest file seen so far grows.
 */
#ifndef TT_DUKASCOPY_H
#define TT_DUKASCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"
#include "quality.h"
#include "tape.h"

#define TT_BI5_TICK_BYTES 20
#define TT_BI5_CANDLE_BYTES 24
/* Upper bound on one file's decompressed size: an hour of ticks is far below
 * (a busy hour is ~100k ticks = 2 MB); the bound stops a hostile header. */
#define TT_BI5_MAX_RAW ((size_t)256 << 20)

/* Reusable scratch for the decoders: decompressed bytes and decoded events. */
typedef struct tt_bi5_buf {
    uint8_t *raw;
    size_t raw_len, raw_cap;
    tt_event *ev;
    size_t ev_len, ev_cap;
} tt_bi5_buf;

/* Free the scratch's memory (the struct itself is the caller's); it may be reused after.
 * Cannot fail. */
void tt_bi5_buf_free(tt_bi5_buf *b);

/* Decompress an LZMA-alone buffer into b->raw / b->raw_len. len 0 gives 0
 * bytes (no data). TT_OK; TT_EFORMAT for a corrupt or truncated stream (the
 * message says which, and the byte offset reached) and for one that claims or
 * inflates past TT_BI5_MAX_RAW or asks for a dictionary over 64 MiB (a bad
 * file); TT_ENOMEM only when an allocation failed (the file may be sound). */
int tt_bi5_decompress(const uint8_t *data, size_t len, tt_bi5_buf *b, tt_err *err);

/* Decode a tick file's bytes (compressed, as on disk) into quote events in
 * b->ev / b->ev_len. hour_start is the UTC time of the file's hour; every
 * event gets ts = ts_init = hour_start + ms, kind QUOTE, the given symbol id,
 * source and seq numbers from seq0 upward, bid/ask in points and the volumes
 * bit for bit. Records are decoded in file order (not re-sorted: ordering is
 * the quality filter's job). TT_EFORMAT when the stream is corrupt, when its
 * length is not a multiple of 20 (truncated record) or a time offset is past
 * the hour (the message names the record); TT_ENOMEM as for tt_bi5_decompress.
 * b keeps its memory either way. */
int tt_bi5_decode_ticks(const uint8_t *data, size_t len, tt_ts hour_start, uint32_t symbol,
                        uint64_t seq0, tt_bi5_buf *b, tt_err *err);

/* Decode a candle file's bytes into bar events (b->ev): period_start is the
 * start of the file's day (M1), month (H1) or year (D1); tf and side go into
 * every bar; the time offset is in seconds; the O,C,L,H order of the file is
 * mapped to open/high/low/close; volume is the float32 widened to double;
 * ticks = 0 (Dukascopy does not say). Flat candles (minutes without ticks,
 * volume 0, O=H=L=C = previous close) are decoded like any other.
 * TT_EFORMAT as for ticks (24-byte records), and for a candle with
 * low > high or open/close outside [low, high] (the message names the record);
 * TT_ENOMEM as for tt_bi5_decompress. */
int tt_bi5_decode_candles(const uint8_t *data, size_t len, tt_ts period_start, uint8_t tf,
                          uint8_t side, uint32_t symbol, uint64_t seq0, tt_bi5_buf *b,
                          tt_err *err);

/* ---- paths ---- */

/* Relative path of the tick file of the hour containing `hour`, e.g.
 * "EURUSD/2019/01/04/10h_ticks.bi5" (month 00-based). Returns snprintf's count
 * (>= n: the path was cut). */
int tt_duka_tick_path(char *buf, size_t n, const char *symbol, tt_ts hour);

/* Relative path of a candle file: tf M1 (day file), H1 (month file) or D1
 * (year file) of the period containing `t`, side BID or ASK. TT_EINVAL for
 * other timeframes or sides (no tt_err; buf untouched). TT_OK and
 * *period_start, the period's start time, otherwise. */
int tt_duka_candle_path(char *buf, size_t n, const char *symbol, int tf, int side, tt_ts t,
                        tt_ts *period_start);

/* ---- import ---- */

typedef struct tt_duka_import_opts {
    const char *dir;    /* root of the Dukascopy tree (holds SYMBOL/) */
    const char *tape;   /* tape directory */
    tt_ts from, to;     /* [from, to); 0,0 = every day found in the tree; one of
                         * them 0 = that end of the tree */
    int ticks;          /* import tick files (quote stream) */
    int candles;        /* import the candle files found (bar streams) */
    int threads;        /* decoder threads; 0 = online CPUs - 1 (at least 1) */
    const tt_quality_config *quality; /* NULL = defaults */
    const tt_tape_writer_opts *tape_opts; /* NULL = defaults */
    /* Called for every problem (a bad file, a gap) with one line of text,
     * and for progress (files done of total). Either may be NULL. */
    void (*report)(void *ctx, const char *line);
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *ctx;
} tt_duka_import_opts;

typedef struct tt_duka_import_stats {
    uint64_t hours;          /* hours in the range */
    uint64_t files;          /* tick files found */
    uint64_t files_empty;    /* 0-byte tick files (no ticks; not a gap) */
    uint64_t files_bad;      /* corrupt or truncated files (tick or candle), reported */
    uint64_t hours_missing;  /* hours with no file: gaps */
    uint64_t gaps;           /* runs of consecutive missing hours */
    uint64_t bytes_in;       /* bytes of bi5 read */
    uint64_t ticks_read;     /* ticks decoded */
    uint64_t ticks_written;  /* ticks appended to the tape */
    uint64_t ticks_present;  /* ticks skipped: at or before the end of the tape's stream */
    uint64_t bars_present;   /* bars skipped for the same reason */
    uint64_t candle_files;   /* candle files imported */
    uint64_t bars_written;   /* bars appended (all timeframes) */
    double decode_seconds;   /* summed over threads: time in LZMA decoding */
    tt_quality_counts quality;
} tt_duka_import_stats;

/* Import `ins`'s Dukascopy files under opts->dir into the tape: ticks into
 * the symbol's quote stream (every tick through a tt_quality filter, in time
 * order), candles into bar-<TF>-<side> streams. Files are read and decoded by
 * a pool of threads while the calling thread appends in time order, so the
 * tape is the same at any thread count. Importing into a tape that already
 * holds the stream continues after it: ticks earlier than the stream's last
 * tick, and as many ticks at that last time as the tape holds, are skipped and
 * counted (ticks_present; a line is reported), so re-running an import, or
 * resuming one that was interrupted, appends only what is new. Ticks earlier
 * than a stream's end that the tape does NOT hold cannot be appended either
 * (streams are append-only): they are counted the same way; import history
 * oldest first. Bars at or before a bar stream's last bar likewise
 * (bars_present). Missing hours are reported as gaps
 * (one line per run of missing hours); a corrupt or truncated file is
 * reported by name and skipped while the rest is imported. Returns TT_OK,
 * TT_EPARTIAL when some files were bad (err says how many and names the
 * first), or an error that stopped the import: TT_EINVAL (no dir, tape or
 * instrument; an empty range), TT_ENOTFOUND (the tree or its symbol directory
 * is missing), TT_ENOMEM (naming the file being decoded, or what was being
 * allocated: the file is not skipped, since ticks before the tape's end could
 * not be added later), the quality filter's error, or the tape's (opening,
 * appending, closing: TT_EIO, TT_EFORMAT, ... naming the file). What was
 * appended before such an error is on the tape, whole blocks only; running
 * the import again resumes after it. */
int tt_duka_import(const tt_duka_import_opts *opts, const tt_instrument *ins,
                   tt_duka_import_stats *stats, tt_err *err);

#endif
