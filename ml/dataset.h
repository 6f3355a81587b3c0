/*
 * ticktape ml: feature rows of a data range, the table `ticktape features`
 * exports and `ticktape train` learns from.
 *
 * A dataset is built by running an engine over the data (a tape range or any
 * tt_source) with the same pieces a strategy gets in a run: the bar component
 * (core/bars.h, timers on) closes bars of (symbol, timeframe, side), a
 * component after it hands each quote of the symbol to the feature engine, and
 * every closed bar becomes one row (core/features.h). So the rows equal what
 * the xgb strategy computes bar by bar in a backtest, paper or live run over
 * the same quotes (tests check it through the prediction column).
 *
 * Memory: n rows * (width + 6) doubles (a half-year of M5 bars with the 120
 * default features: 37,000 rows, 37 MB).
 *
 * Labels are computed afterwards over the whole table (they look forward, by
 * definition) and are never part of a run.
 */
#ifndef TT_ML_DATASET_H
#define TT_ML_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/features.h"
#include "../core/fingerprint.h"
#include "../core/instrument.h"

typedef struct tt_ml_dataset {
    size_t n, cap;
    int width;           /* features per row */
    int *cols;           /* catalog index of each column (width entries) */
    int tf, side;
    uint32_t symbol;     /* instrument id */
    tt_ts *open_ts;      /* per row: the bar's open and close time */
    tt_ts *close_ts;
    double *open, *high, *low, *close; /* the bar, in points */
    double *x;           /* n * width features, row-major */
    double *label;       /* n labels (NaN where none); NULL until tt_ml_dataset_label */
    uint64_t quotes;     /* quotes of the symbol seen */
    uint64_t events;     /* input events read */
    tt_ts first_ts, last_ts; /* of the input events (0 when none) */
} tt_ml_dataset;

typedef struct tt_ml_data_cfg {
    const tt_instruments *instruments; /* required */
    const char *tape_dir;              /* data A: quotes of `symbol` from a tape, */
    tt_ts from, to;                    /*   in [from, to) (0 = open) */
    const tt_source *source;           /* data B: any source (not closed here) */
    const char *symbol;                /* required */
    int tf, side;                      /* bars the rows are built on */
    const int *features;               /* catalog indices; NULL = the default set */
    int nfeatures;
    const struct tt_news *news;        /* the release schedule of the news features
                                          (borrowed; NULL: they are NaN) */
} tt_ml_data_cfg;

/* Build the rows. *out is emptied first and holds what was built even on
 * failure (free it). Errors: unknown symbol, tape errors (prefixed "data: "),
 * TT_ENOMEM. */
int tt_ml_dataset_build(const tt_ml_data_cfg *cfg, tt_ml_dataset *out, tt_err *err);

/* Compute (or recompute) the labels of every row. */
int tt_ml_dataset_label(tt_ml_dataset *d, const tt_label_spec *spec, tt_err *err);

/* Row i's features. */
static inline const double *tt_ml_dataset_row(const tt_ml_dataset *d, size_t i)
{
    return d->x + i * (size_t)d->width;
}

/* XXH3-128 over rows [from, to) in canonical little-endian form: each row's
 * open time (int64), features and label (float64 bits; label NaN when none):
 * "the data's fingerprint" recorded with a model. */
tt_fingerprint tt_ml_dataset_fingerprint(const tt_ml_dataset *d, const size_t *rows,
                                         size_t nrows);

void tt_ml_dataset_free(tt_ml_dataset *d);

#endif
