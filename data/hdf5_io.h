/*
 * ticktape: HDF5 export and import of ticks and bars.
 *
 * One group per stream, /<SYMBOL>/<stream>, where <stream> is "quotes",
 * "trades" or "bars_<TF>_<side>" (e.g. /EURUSD/bars_M1_bid). Each group holds
 * one 1-D dataset per column, so h5py reads columns by name
 * (f["EURUSD/quotes/bid"][:]), and is at the same time a pandas "fixed"
 * frame (every column is its own block, hard-linked as block<i>_values), so
 * pandas.read_hdf(path, "EURUSD/quotes") loads the whole table. The columns:
 *
 *   quotes: ts, bid, ask, bid_volume, ask_volume, bid_points, ask_points
 *   trades: ts, price, size, aggressor, price_points
 *   bars:   ts, open, high, low, close, volume, ticks,
 *           open_points, high_points, low_points, close_points
 *
 * ts is int64 UTC nanoseconds (pandas shows it as datetime64[ns]); prices are
 * float64 in price units for reading convenience AND int64 points (exact,
 * what `import hdf5` reads back); quote volumes are float32 as on the tape.
 * Group attributes name the stream (ticktape_symbol, ticktape_stream,
 * ticktape_points, ticktape_digits, ticktape_timeframe, ticktape_side).
 * Datasets are chunked, shuffled and deflate-compressed. The full layout is
 * documented in docs/hdf5-layout.md.
 */
#ifndef TT_HDF5_IO_H
#define TT_HDF5_IO_H

#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"
#include "tape.h"
#include "text_import.h"

#define TT_HDF5_LAYOUT "ticktape-hdf5 1"

/* ---- writing ---- */

typedef struct tt_hdf5_writer tt_hdf5_writer;

/* Create (truncate) an HDF5 file. TT_OK, or TT_EIO naming the path, TT_ENOMEM;
 * *w is then NULL. */
int tt_hdf5_writer_open(tt_hdf5_writer **w, const char *path, tt_err *err);

/* Append one event (QUOTE, TRADE or BAR; other kinds are ignored and counted
 * in *ignored of tt_hdf5_writer_close) to the group of `ins`'s stream; events
 * of one stream must come in time order. Buffers rows and writes them in
 * chunks. TT_OK, or TT_EIO naming the file and group when HDF5 fails, TT_ENOMEM
 * (a new stream's buffers). */
int tt_hdf5_writer_append(tt_hdf5_writer *w, const tt_instrument *ins, const tt_event *ev,
                          tt_err *err);

/* Write the remaining rows and the pandas metadata, close the file and free
 * w (also on error). *rows (may be NULL) gets the rows written, *ignored
 * (may be NULL) the events of other kinds. TT_OK, or the first TT_EIO (naming
 * what HDF5 failed to write) or TT_ENOMEM; *rows and *ignored are filled anyway. */
int tt_hdf5_writer_close(tt_hdf5_writer *w, uint64_t *rows, uint64_t *ignored, tt_err *err);

/* Export what `q` selects from the tape at `tape_dir` to out_path (created or
 * truncated). Symbols are named through `ins` (required: TT_EINVAL). TT_OK;
 * errors from the tape reader are passed on (they name the file and block);
 * TT_ENOTFOUND for an event whose symbol `ins` does not know; the writer's
 * errors (TT_EIO when the HDF5 file cannot be written, TT_ENOMEM). The file
 * is closed in every case (a failed export leaves a partial file). */
int tt_hdf5_export(const char *tape_dir, const tt_tape_query *q, const tt_instruments *ins,
                   const char *out_path, tt_err *err);

/* ---- reading ---- */

/* Called once per stream before its events, then once per event (in the
 * stream's stored order). `symbol` is the group's symbol. Return a negative
 * TT_E* (err filled) to stop: tt_hdf5_read returns it. */
typedef struct tt_hdf5_visitor {
    int (*stream)(void *ctx, const char *symbol, const tt_stream_desc *desc, int64_t points,
                  uint64_t rows, tt_err *err);
    int (*event)(void *ctx, const char *symbol, const tt_event *ev, uint64_t row, tt_err *err);
    void *ctx;
} tt_hdf5_visitor;

/* Read every stream of a file in ticktape's layout. TT_OK; TT_EIO when it cannot
 * be opened or a dataset read fails; TT_EFORMAT naming the group and dataset
 * when something is missing or has the wrong type or length; TT_ENOMEM; or the
 * first error a visitor returned. */
int tt_hdf5_read(const char *path, const tt_hdf5_visitor *v, tt_err *err);

typedef struct tt_hdf5_import_opts {
    const char *const *symbols; /* NULL-terminated filter; NULL = every symbol */
} tt_hdf5_import_opts;

/* Import a file through the pipeline `im` (ticks through the quality
 * filter). A symbol unknown to the pipeline's instruments is an error saying
 * how to declare it; a symbol whose points per unit differ from the file's is
 * an error (prices would be scaled wrong). A row whose time goes backwards in
 * a bar stream is a bad row, reported as "FILE:GROUP row N". TT_OK, or
 * tt_hdf5_read's errors: TT_ENOTFOUND (unknown symbol), TT_EINVAL (points
 * differ), and the pipeline's (tt_import_tick, tt_import_bar). */
int tt_hdf5_import(tt_import *im, const char *path, const tt_hdf5_import_opts *o, tt_err *err);

#endif
