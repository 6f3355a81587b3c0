/*
 * ticktape: delimited-text import: the record reader every text importer uses
 * (generic CSV, Polygon flat files, MetaTrader 5 exports), time and number
 * parsing, and the generic CSV importer with a column mapping.
 *
 * The record reader wraps libcsv (strict mode) and adds what libcsv does not
 * track: line numbers, and recovery after a malformed line (the line is
 * reported as bad and reading resumes at the next line). Input may be plain
 * or gzip-compressed (zlib's gzread reads both).
 *
 * Generic CSV: `columns` names what each column holds, in order:
 *
 *     time      the timestamp (format: time_format)
 *     date,clock  a date column and a time-of-day column instead of `time`
 *     symbol    the instrument (otherwise every row is opts.instrument)
 *     bid,ask[,bid_volume,ask_volume]        -> quote ticks
 *     price[,size]                            -> trade ticks
 *     open,high,low,close[,volume][,ticks]    -> bars of opts.tf / opts.side
 *     skip (or an empty name)                 -> ignored
 *
 * Time formats: ISO 8601 and relatives ("2019-02-04T10:00:00.123Z",
 * "2019.02.04 10:00:00.123", "20190204 100000123" as HistData writes),
 * epoch-s, epoch-ms, epoch-us, epoch-ns, or auto (decided per row from the
 * text's shape: 10 digits = s, 13 = ms, 16 = us, 19 = ns, else a date).
 * Prices are parsed exactly from their decimal text (tt_price_parse).
 */
#ifndef TT_CSV_IMPORT_H
#define TT_CSV_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"
#include "text_import.h"

/* ---- record reader ---- */

#define TT_CSV_MAX_FIELDS 64

typedef struct tt_csv_row {
    int nfields;
    const char *field[TT_CSV_MAX_FIELDS]; /* NUL-terminated; valid during the callback */
    size_t len[TT_CSV_MAX_FIELDS];
    long line;   /* line where the record starts (1-based) */
    int too_many; /* the record had more than TT_CSV_MAX_FIELDS fields (the rest dropped) */
} tt_csv_row;

/* Called once per record. Return 0 to go on, a negative TT_E* to stop the read. */
typedef int (*tt_csv_row_fn)(void *ctx, const tt_csv_row *row, tt_err *err);
/* Called for a line libcsv cannot parse (strict mode); the reader goes on. */
typedef void (*tt_csv_bad_fn)(void *ctx, long line, const char *why);

typedef struct tt_csv_reader tt_csv_reader;

/* A reader splitting on `delim` (',' ';' '\t' ...). TT_OK, or TT_ENOMEM (*r NULL). */
int tt_csv_reader_new(tt_csv_reader **r, unsigned char delim, tt_csv_row_fn row,
                      tt_csv_bad_fn bad, void *ctx, tt_err *err);
/* Feed bytes (any split; records may span calls). Returns the first error a
 * row callback returned, TT_ENOMEM, or 0. */
int tt_csv_reader_feed(tt_csv_reader *r, const char *buf, size_t len, tt_err *err);
/* End of input: deliver a last record without a line end. TT_OK, the error a row
 * callback returned, or TT_ENOMEM. */
int tt_csv_reader_finish(tt_csv_reader *r, tt_err *err);
/* While tt_csv_reader_feed_file reads, call fn(ctx, bytes of the file read so far)
 * after each chunk. Cannot fail. */
void tt_csv_reader_set_progress(tt_csv_reader *r, void (*fn)(void *ctx, uint64_t bytes),
                                void *ctx);
/* Feed a whole file (plain or gzip) then finish. TT_OK; TT_EIO when it cannot be
 * opened; TT_EPARTIAL with zlib's reason when a compressed stream is damaged or
 * cut short, or the file cannot be read on (what came before was fed); or
 * tt_csv_reader_feed's error (TT_ENOMEM, a row callback's). */
int tt_csv_reader_feed_file(tt_csv_reader *r, const char *path, tt_err *err);
void tt_csv_reader_free(tt_csv_reader *r); /* NULL is allowed; cannot fail */
/* The line being read (1-based): after an error, where reading stopped. Cannot fail. */
long tt_csv_reader_line(const tt_csv_reader *r);

/* ---- fields ---- */

enum tt_csv_time_format {
    TT_CSVT_AUTO = 0,
    TT_CSVT_ISO,      /* a calendar date and time of day, see above */
    TT_CSVT_EPOCH_S,
    TT_CSVT_EPOCH_MS,
    TT_CSVT_EPOCH_US,
    TT_CSVT_EPOCH_NS,
    TT_CSVT_HISTDATA  /* "YYYYMMDD HHMMSS[mmm]", in EST without DST unless an offset is given */
};

/* "auto", "iso", "epoch-s", "epoch-ms", "epoch-us", "epoch-ns", "histdata"; -1 when unknown.
 * The field parsers below fill no tt_err (but tt_csv_price_parse) and leave *out
 * untouched when they fail: the importer writes the row's message itself. */
int tt_csv_time_format_parse(const char *s);

/* Parse a timestamp (no time zone beyond a trailing "Z" or "+00:00").
 * TT_OK; TT_EFORMAT when the text does not have the format or is out of range;
 * TT_EINVAL for an unknown format. */
int tt_csv_time_parse(const char *s, int format, tt_ts *out);

/* A calendar date ("2019-02-04", "2019.02.04", "20190204") and a time of day
 * ("10:00", "10:00:00.123", "100000123") joined; either may be NULL/empty
 * (date required). TT_OK, or TT_EFORMAT. */
int tt_csv_datetime_parse(const char *date, const char *clock, tt_ts *out);

/* A whole non-negative or negative decimal integer with overflow check. TT_OK, or
 * TT_EFORMAT (not an integer, or beyond int64). */
int tt_csv_int64_parse(const char *s, int64_t *out);

/* A price field: tt_price_parse after checking that the text is short
 * enough (at most 15 integer digits) to be exact in int64 points. TT_OK, or
 * TT_EFORMAT with err naming the text. */
int tt_csv_price_parse(const tt_instrument *ins, const char *s, tt_price *out, tt_err *err);

/* A finite, non-negative decimal number (volumes). TT_OK, or TT_EFORMAT. */
int tt_csv_volume_parse(const char *s, double *out);

/* A UTC offset "+02:00", "-05:00", "+0200", "2", "-5" -> nanoseconds. TT_OK, or
 * TT_EINVAL (not an offset, or more than 14 hours). */
int tt_csv_offset_parse(const char *s, tt_ts *out);

/* ---- generic CSV importer ---- */

typedef struct tt_csv_opts {
    const char *columns;            /* the mapping, comma-separated (required) */
    unsigned char delim;            /* 0 = ',' */
    int header;                     /* 1 = first record is a header, 0 = none, -1 = auto:
                                     * a header when no field starts like a number */
    int time_format;                /* enum tt_csv_time_format */
    tt_ts utc_offset;               /* the file's times are UTC + this (subtracted) */
    int has_offset;                 /* utc_offset was given (else HistData gets -05:00) */
    const tt_instrument *instrument; /* when there is no symbol column */
    uint8_t tf, side;               /* bars: timeframe and price side */
} tt_csv_opts;

typedef struct tt_csv_import tt_csv_import;

/* Prepare an import into `im`. TT_EINVAL for an unknown column name, a
 * mapping that is neither quotes nor trades nor bars, or no instrument (naming
 * the column or what is missing); TT_ENOMEM; *ci is then NULL. */
int tt_csv_import_new(tt_csv_import **ci, tt_import *im, const tt_csv_opts *o, tt_err *err);
/* Read one file (plain or gzip). Bad rows go to the pipeline (a damaged or cut
 * compressed stream counts as one, where it ends); returns TT_OK unless the
 * import cannot go on: TT_EIO (cannot open), TT_ENOMEM, or the pipeline's
 * error (tt_import_tick / tt_import_bar: the tape write, an abort policy). */
int tt_csv_import_file(tt_csv_import *ci, const char *path, tt_err *err);
/* The same over a buffer (tests, fuzzing). The same results but TT_EIO. */
int tt_csv_import_mem(tt_csv_import *ci, const char *buf, size_t len, tt_err *err);
void tt_csv_import_free(tt_csv_import *ci); /* NULL is allowed; cannot fail */

#endif
