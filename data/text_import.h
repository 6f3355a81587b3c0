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
    const tt_tape_writer_opts *tape_opts; /* NULL = defaults (merge, replace, report are set here) */
    const char *command;  /* who writes, for the tape's lock ("import csv") */
    int wait;             /* another process writes the tape: wait (else fail at once) */
    int replace;          /* events that conflict with the tape's replace them */
    size_t sort_rows;     /* rows each stream may hold to sort them; 0 = TT_IMPORT_SORT_ROWS */
    FILE *log;          /* where bad rows are logged ("FILE:LINE: why"); NULL = nowhere */
    uint32_t max_logged; /* log at most this many bad rows (all are counted); 0 = 20 */
    /* Called now and then with the bytes of the current input file read so far
     * (compressed bytes for gzip input); may be NULL. */
    void (*progress)(void *ctx, uint64_t file_bytes);
    void *progress_ctx;
} tt_import_opts;

/* Rows a stream sorts by default: 1,048,576 rows (about 117 MB at most,
 * 112 bytes a row, allocated as they come). */
#define TT_IMPORT_SORT_ROWS ((size_t)1 << 20)

typedef struct tt_import tt_import;

typedef struct tt_import_stats {
    uint64_t rows;          /* data rows seen (good and bad; headers excluded) */
    uint64_t bad_rows;      /* rows that could not be read, or bars that were rejected */
    uint64_t skipped_rows;  /* rows of symbols not selected (--symbol) */
    uint64_t ticks_written; /* quotes/trades new on the tape (after tt_import_close) */
    uint64_t bars_written;  /* bars new on the tape (after tt_import_close) */
    uint64_t present;       /* ticks and bars the tape held already: not written twice */
    uint64_t conflicts;     /* ticks and bars at a time the tape holds other values for */
    uint64_t quarantined;   /* dropped or repaired ticks written to the quarantine streams */
    tt_quality_counts quality; /* over all tick streams */
} tt_import_stats;

/* A new pipeline; with a tape, the tape is opened for writing now (its lock:
 * another writer makes this fail at once with TT_ESTATE, or wait with
 * o->wait). Writers merge: what the tape holds is counted, not written
 * twice; earlier data is merged in time order; conflicts are reported on
 * o->log. TT_OK, or TT_EINVAL without instruments, TT_ENOMEM, or the errors
 * of tt_tape_open; *im is then NULL. A bad quality config is refused by the
 * first tick (tt_quality_new's error from tt_import_tick). */
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
 * ts_init and seq are filled here). The row joins the stream's sort buffer;
 * rows leave it in time order through the quality filter to the tape.
 * Returns TT_OK (also when the tick was dropped by a rule), TT_EORDER when
 * the row is earlier than rows already sent on (out of order by more than the
 * sort buffer holds: the message names the file and line), or an error that
 * stops the import: the stream's first tick cannot open its filter
 * (TT_EINVAL, TT_EIO: tt_quality_new) or its tape writer
 * (tt_tape_writer_open_in's errors), a quarantine record cannot be written,
 * the tape append fails (tt_tape_writer_append's errors, prefixed with the
 * stream), TT_ENOMEM, or TT_ESTATE after tt_import_close. */
int tt_import_tick(tt_import *im, const tt_instrument *ins, tt_event *ev, long line,
                   tt_err *err);

/* One bar of `ins` (ev->kind BAR, u.bar.tf and side set), sorted like ticks.
 * A bar with low > high, open or close outside [low, high], a non-positive
 * price, or the time of the previous bar of its stream is a bad row (counted
 * and logged, not written). Errors as for tt_import_tick (no quality filter
 * on bars). */
int tt_import_bar(tt_import *im, const tt_instrument *ins, tt_event *ev, long line,
                  tt_err *err);

/* The end of an input file: every stream's sort buffer goes on to the tape
 * and its writer commits. The next file's rows may be earlier (the tape
 * merges them). The readers of each format call it at the end of a file or
 * buffer. TT_OK or the errors of tt_import_tick. */
int tt_import_end_file(tt_import *im, tt_err *err);

/* The end of the last file (tt_import_end_file), then flush and close every
 * stream and the tape. Safe to call once; tt_import_free after. TT_OK, or the
 * first error of the end of the file, of a stream's tt_tape_writer_close (every
 * stream is closed) or of tt_tape_close. */
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
