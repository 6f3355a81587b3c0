/*
 * ticktape: the import pipeline shared by the text and HDF5 importers
 * (Polygon, generic CSV, MetaTrader 5, HDF5).
 *
 * A parser turns its input into events and hands each one here:
 *
 *     parser ──► tt_import_tick ──► quality filter (per stream) ──► tape writer (per stream)
 *            ──► tt_import_bar  ──► bar checks (OHLC consistent, in time order) ──► tape writer
 *            ──► tt_import_bad  ──► counted, logged as "FILE:LINE: why"
 *
 * Streams (one symbol and one kind, or one bar timeframe and side) are opened
 * on first use. Nothing is dropped silently: a row that cannot be read is
 * counted and logged with its file and line; a tick the quality rules drop or
 * repair is counted by rule (and written to the quarantine file when one is
 * configured); a bar that is inconsistent or out of order is counted and
 * logged like a bad row. With no tape directory the pipeline parses and checks
 * but writes nothing (a dry run, also what the fuzz targets use).
 */
#ifndef TT_TEXT_IMPORT_H
#define TT_TEXT_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"
#include "quality.h"
#include "tape.h"

typedef struct tt_import_opts {
    const char *tape;                     /* tape directory; NULL = dry run */
    const tt_instruments *instruments;    /* symbol table (required) */
    const tt_quality_config *quality;     /* NULL = defaults */
    const tt_tape_writer_opts *tape_opts; /* NULL = defaults */
    FILE *log;          /* where bad rows are logged ("FILE:LINE: why"); NULL = nowhere */
    uint32_t max_logged; /* log at most this many bad rows (all are counted); 0 = 20 */
    /* Called now and then with the bytes of the current input file read so far
     * (compressed bytes for gzip input); may be NULL. */
    void (*progress)(void *ctx, uint64_t file_bytes);
    void *progress_ctx;
} tt_import_opts;

typedef struct tt_import tt_import;

typedef struct tt_import_stats {
    uint64_t rows;          /* data rows seen (good and bad; headers excluded) */
    uint64_t bad_rows;      /* rows that could not be read, or bars that were rejected */
    uint64_t skipped_rows;  /* rows of symbols not selected (--symbol) */
    uint64_t ticks_written; /* quotes/trades appended */
    uint64_t bars_written;  /* bars appended */
    tt_quality_counts quality; /* over all tick streams */
} tt_import_stats;

/* A new pipeline. TT_OK, or TT_EINVAL without instruments, TT_ENOMEM; *im is then
 * NULL. A bad quality config is refused by the first tick (tt_quality_new's
 * error from tt_import_tick). */
int tt_import_new(tt_import **im, const tt_import_opts *o, tt_err *err);

/* The calls from here to tt_import_bad cannot fail. */

/* The instrument table given at creation. */
const tt_instruments *tt_import_instruments(const tt_import *im);

/* Name the input file for messages and quarantine lines (copied, cut to its buffer). */
void tt_import_set_file(tt_import *im, const char *file);

/* Count one data row (called by parsers for every row they read, good or bad). */
void tt_import_count_row(tt_import *im);
/* Count one row skipped because its symbol was not selected. */
void tt_import_count_skipped(tt_import *im);

/* Report progress through the current file (forwarded to opts.progress). */
void tt_import_progress(tt_import *im, uint64_t file_bytes);

/* Record a bad row: counted, logged as "FILE:LINE: <message>" (the first
 * max_logged; a failed log write is not an error of the import). */
void tt_import_bad(tt_import *im, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One quote or trade of `ins` (ev->kind QUOTE or TRADE, ts set; symbol, cls,
 * ts_init and seq are filled here). Runs the quality filter of the stream,
 * then appends what it keeps. Returns TT_OK (also when the tick was dropped by
 * a rule), or an error that stops the import: the stream's first tick cannot
 * open its filter (TT_EINVAL, TT_EIO: tt_quality_new) or its tape writer
 * (tt_tape_writer_open's errors), a quarantine line cannot be written (TT_EIO),
 * the tape append fails (tt_tape_writer_append's errors, prefixed with the
 * stream), TT_ENOMEM, or TT_ESTATE after tt_import_close. */
int tt_import_tick(tt_import *im, const tt_instrument *ins, tt_event *ev, long line,
                   tt_err *err);

/* One bar of `ins` (ev->kind BAR, u.bar.tf and side set). A bar with
 * low > high, open or close outside [low, high], a non-positive price, or a
 * time not after the stream's last bar is a bad row (counted and logged, not
 * written). Errors as for tt_import_tick (no quality filter on bars). */
int tt_import_bar(tt_import *im, const tt_instrument *ins, tt_event *ev, long line,
                  tt_err *err);

/* Flush and close every stream. Safe to call once; tt_import_free after. TT_OK,
 * or the first stream's tt_tape_writer_close error (every stream is closed). */
int tt_import_close(tt_import *im, tt_err *err);

/* Totals so far. Cannot fail. */
void tt_import_get_stats(const tt_import *im, tt_import_stats *out);

/* Print the end-of-import report: one quality table per tick stream, then a
 * line per bar stream, then the row totals. A write error stays in f's error
 * flag. */
void tt_import_print(const tt_import *im, FILE *f);

/* Same as JSON (one object, no newline): {"rows":N,"bad_rows":N,...,"quality":{...}}. */
void tt_import_print_json(const tt_import *im, FILE *f);

/* Free everything (NULL is allowed; closes streams not yet closed, ignoring
 * errors: call tt_import_close first to see them). Cannot fail. */
void tt_import_free(tt_import *im);

#endif
