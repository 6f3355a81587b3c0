/*
 * ticktape: MetaTrader 5 history export import.
 *
 * MT5's terminal exports ticks and bars (Symbols → Ticks/Bars → Export) as
 * tab-separated text with a header of bracketed names:
 *
 *   ticks: <DATE> <TIME> <BID> <ASK> <LAST> <VOLUME> <FLAGS>
 *          2019.02.04  00:00:00.123  1.14427  1.14430  (empty)  (empty)  6
 *   bars:  <DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE> <TICKVOL> <VOL> <SPREAD>
 *          2019.02.04  00:01:00  1.14427  1.14431  1.14425  1.14430  45  0  3
 *
 * The kind is taken from the header. Columns are found by name, in any
 * order; <TIME> may be absent (daily bars). Files may be UTF-16LE with a byte
 * order mark (as the terminal writes them), UTF-8 or ASCII, plain or gzip.
 *
 * Ticks: an empty <BID> or <ASK> means "unchanged": the previous tick's value
 * is carried forward (the tick's <FLAGS> say which side changed); a tick
 * before any bid and ask is known is a bad row. A row with only <LAST>
 * (exchange instruments) becomes a trade tick with <VOLUME> as size.
 * Bars: <TICKVOL> goes to ticks, <VOL> to volume. For bid bars (the default
 * side) a non-empty <SPREAD> makes a second, ask bar of the same minute (the
 * bar-<TF>-ask stream: each price plus the spread), which is what a bar
 * model's `data.spread: from_bars` reads (sim/bar_model.h). <SPREAD> is in
 * MT5 points, 10^-d with d the decimals the prices are written with; it is
 * converted to the instrument's points (a fraction of one is a bad row).
 *
 * Times are the trade server's clock, which is usually not UTC (often
 * UTC+2/UTC+3): give the server's offset so the tape holds UTC.
 */
#ifndef TT_MT5_H
#define TT_MT5_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/instrument.h"
#include "text_import.h"

typedef struct tt_mt5_opts {
    const tt_instrument *instrument; /* the file's symbol (required: exports do not name it) */
    tt_ts utc_offset;                /* server time = UTC + utc_offset */
    uint8_t tf, side;                /* bars: timeframe (required for bar files) and side */
} tt_mt5_opts;

/* Import one export file through `im`. TT_OK unless the import cannot go on:
 * unreadable file (TT_EIO), no MT5 header (TT_EFORMAT), no instrument or bars
 * without a timeframe (TT_EINVAL), TT_ENOMEM, or the pipeline's error
 * (tt_import_tick / tt_import_bar: the tape write...). Bad rows are reported
 * through the pipeline with file and line. */
int tt_mt5_import_file(tt_import *im, const char *path, const tt_mt5_opts *o, tt_err *err);

/* The same over a buffer (`name` is used in messages); the same results but TT_EIO. */
int tt_mt5_import_mem(tt_import *im, const char *name, const char *buf, size_t len,
                      const tt_mt5_opts *o, tt_err *err);

#endif
