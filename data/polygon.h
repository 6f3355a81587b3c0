/*
 * ticktape: Polygon.io historical data import.
 *
 * Two inputs:
 *
 * 1. Flat files of forex quotes (CSV, or .csv.gz as Polygon serves them):
 *        ticker,ask_exchange,ask_price,bid_exchange,bid_price,participant_timestamp
 *        C:EUR-USD,48,1.14430,48,1.14427,1549238400123000000
 *    Columns are found by their header names, in any order; ticker, bid_price,
 *    ask_price and participant_timestamp (UTC nanoseconds) are required, the
 *    exchange columns are ignored. Tickers such as "C:EUR-USD" map to the
 *    instrument EURUSD. Each row becomes a quote tick (volumes 0: Polygon's
 *    forex quotes carry none).
 *
 * 2. The JSON of the v2 aggregates endpoint
 *    (/v2/aggs/ticker/C:EURUSD/range/1/minute/FROM/TO):
 *        {"ticker":"C:EURUSD","status":"OK","results":[
 *          {"t":1549238400000,"o":1.14427,"h":1.1443,"l":1.14425,"c":1.1443,
 *           "v":45,"vw":1.1443,"n":45}, ...]}
 *    Each result becomes a bar: t (epoch ms, the bar's start), o h l c parsed
 *    exactly from their decimal text, v as volume, n as the tick count (vw is
 *    not kept). The timeframe and price side are not in the JSON: the caller
 *    states them (the request's range; Polygon builds forex bars from bid
 *    quotes, so bid is the usual side).
 *
 * Bad rows and bad results are reported through the tt_import pipeline with
 * file and line; an unknown ticker is an error saying how to declare it,
 * unless a symbol filter is set, in which case other tickers are skipped and
 * counted.
 */
#ifndef TT_POLYGON_H
#define TT_POLYGON_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/instrument.h"
#include "text_import.h"

typedef struct tt_polygon_opts {
    /* Quotes: import only these instruments (NULL-terminated; NULL = all tickers,
     * each must be known). */
    const char *const *symbols;
    /* Aggregates: timeframe and side of the bars (tf required). */
    uint8_t tf, side;
    /* Aggregates: the instrument when the JSON has no "ticker" (may be NULL). */
    const tt_instrument *instrument;
} tt_polygon_opts;

/* Import a quotes flat file (plain or gzip) through `im`. TT_OK unless the
 * import cannot go on: file unreadable (TT_EIO), header missing a required
 * column (TT_EFORMAT), unknown ticker (TT_ENOTFOUND), TT_ENOMEM, or the
 * pipeline's error (tt_import_tick: the tape write...). A damaged or cut
 * compressed stream is a bad row where it ends, not an error. */
int tt_polygon_quotes_file(tt_import *im, const char *path, const tt_polygon_opts *o,
                           tt_err *err);
/* The same over a buffer (`name` is used in messages). */
int tt_polygon_quotes_mem(tt_import *im, const char *name, const char *buf, size_t len,
                          const tt_polygon_opts *o, tt_err *err);

/* Import an aggregates JSON file (plain or gzip). TT_EFORMAT when the text is
 * not JSON or has no results array (the message names line and column), or
 * when the response's status is "ERROR"; TT_EINVAL without a timeframe, or
 * when the ticker is missing or not the instrument given; tt_read_whole_file's
 * errors; errors as above otherwise. Individual bad results are bad rows. */
int tt_polygon_aggs_file(tt_import *im, const char *path, const tt_polygon_opts *o,
                         tt_err *err);
int tt_polygon_aggs_mem(tt_import *im, const char *name, const char *buf, size_t len,
                        const tt_polygon_opts *o, tt_err *err);

/* Read a whole file (plain or gzip) into a malloc'd buffer (NUL-terminated),
 * refusing more than `max` bytes. Shared by the importers that need the whole
 * text at once. TT_OK; TT_EIO (cannot open), TT_EINVAL (over max), TT_EFORMAT
 * (a damaged or cut compressed stream, or a read error), TT_ENOMEM; *out is
 * untouched then. */
int tt_read_whole_file(const char *path, size_t max, char **out, size_t *len, tt_err *err);

#endif
