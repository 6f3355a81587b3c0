/*
 * ticktape: economic calendars imported into a tape as EXTERNAL events.
 *
 * Input: the Forex Factory calendar as CSV (the layout of the public
 * forex-factory-scraper: a header `Date,Time,Currency,Event,Impact,Actual,
 * Forecast,Previous[,Combined DateTime]`, columns found by name). Output: one
 * blob stream (default `calendar`) of TT_EV_EXTERNAL events of type
 * TT_EXT_ECONOMIC_CALENDAR whose payload is the calendar message of
 * core/external.h, in time order, so a backtest can replay them next to its
 * quotes and a strategy reads them with tt_calendar_from_event.
 *
 * The rules (docs/external.md):
 *   - Date is YYYY-MM-DD, Time h:mmam / h:mmpm, both in the file's zone: a
 *     fixed offset from UTC (Forex Factory's scrape: UTC+08:00 all year, so
 *     `2019-01-04,9:30pm` is 13:30 UTC), subtracted to get UTC.
 *   - A Time that is no time of day (All Day, Tentative, Day 1..Day 9,
 *     "Feb Data"...) makes an untimed event: dated 00:00 UTC of its Date (the
 *     date names a day, not an instant; shifting it by the zone would move a
 *     whole-day event into the previous day), timed = false. Rules that need
 *     an instant (the news blackout, the distance features) skip them.
 *   - Currency: three letters, or All (every currency: ALL).
 *   - Impact: High, Medium, Low, Non-economic.
 *   - Actual, Forecast, Previous: tt_calendar_value_parse (numbers with K, M,
 *     B, T, %; votes, Pass/Reject and auction yield|cover kept as text).
 *   - Rows are sorted by time (a stable sort: rows of the same time keep file
 *     order); the scrape has rows out of order.
 *   - A row that breaks a rule is counted and reported as "FILE:LINE: why",
 *     and left out; the import goes on and ends with TT_EPARTIAL.
 *   - Importing into a tape that already holds the stream: an event equal to
 *     one on the tape (same time, same payload) is counted as present and not
 *     written again, so importing a file twice changes nothing; a new event
 *     older than the stream's last one cannot be appended (TT_EORDER, nothing
 *     written).
 */
#ifndef TT_CALENDAR_H
#define TT_CALENDAR_H

#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/external.h"

#define TT_CALENDAR_STREAM "calendar"
#define TT_CALENDAR_FF_OFFSET_MIN 480 /* Forex Factory scrape: UTC+08:00 */

typedef struct tt_calendar_import_opts {
    const char *file;    /* the CSV (required) */
    const char *tape;    /* tape directory; NULL = parse and check only */
    const char *stream;  /* blob stream name; NULL = TT_CALENDAR_STREAM */
    int utc_offset_min;  /* the file's zone, minutes east of UTC (+480 for UTC+08:00) */
    const char *source;  /* the events' `source`; NULL = "forexfactory" */
    /* Each bad row as "FILE:LINE: why" (all are counted); may be NULL. */
    void (*report)(void *ctx, const char *line);
    void *ctx;
} tt_calendar_import_opts;

typedef struct tt_calendar_import_stats {
    uint64_t rows;          /* data rows read (header excluded) */
    uint64_t events;        /* rows that became events */
    uint64_t written;       /* events appended to the tape */
    uint64_t present;       /* events already on the tape (not written again) */
    uint64_t bad;           /* rows left out (reported) */
    uint64_t untimed;       /* events without a time of day */
    uint64_t by_impact[4];  /* events per enum tt_impact */
    uint64_t text_figures;  /* figures kept as text only (votes, Pass, ...) */
    tt_ts first, last;      /* time range of the events */
} tt_calendar_import_stats;

/* Read one data row (fields in the header's order given by cols: indexes of
 * Date, Time, Currency, Event, Impact, Actual, Forecast, Previous; -1 for an
 * absent optional column) into *out. TT_OK, or TT_EINVAL naming the field. */
int tt_calendar_row_parse(const char *const *fields, int nfields, const int cols[8],
                          int utc_offset_min, tt_calendar_event *out, tt_err *err);

/* Import the file (see above). Returns TT_OK; TT_EPARTIAL when rows were bad
 * (the good ones are written; err names the count and the first bad row);
 * TT_EIO (cannot read the file), TT_EFORMAT (no header, a column missing),
 * TT_EORDER (events older than the stream's end), TT_ENOMEM, or the tape's
 * errors. *st is filled in every case. */
int tt_calendar_import(const tt_calendar_import_opts *o, tt_calendar_import_stats *st,
                       tt_err *err);

/* ---- external streams of a tape, for runs ---- */

struct tt_tape_reader;

/* A reader over the named blob streams of the tape (NULL-ended list), their
 * events in [from, to) (0 = open) in time order: what a backtest replays next
 * to its quotes (a scenario's data.external). TT_ENOTFOUND naming a stream
 * the tape does not have (or not as a blob stream), or the tape's errors. */
int tt_external_reader_open(struct tt_tape_reader **r, const char *tape,
                            const char *const *streams, tt_ts from, tt_ts to, tt_err *err);

/* Add every timed calendar event of those streams, whatever its time, to the
 * schedule (the release times a calendar publishes ahead; the figures are not
 * kept). TT_OK, or the errors of tt_external_reader_open and of reading,
 * TT_ENOMEM. */
int tt_external_schedule_load(tt_news *news, const char *tape, const char *const *streams,
                              tt_err *err);

#endif
