/*
 * ticktape ml: writing a dataset (`ticktape features --out`).
 *
 * CSV: header `time,<feature names in column order>,label[,prediction]`; one
 * row per closed bar; time is the bar's open time in ISO 8601 UTC (as in
 * `ticktape bars`); features and labels with 17 significant digits (they read
 * back as the same doubles), "nan" where undefined; the prediction with 9
 * significant digits (reads back as the same float32).
 *
 * HDF5 (h5py / pandas readable): /time and /close_time (int64 ns, the bar's
 * open and close), /features (float64, rows x columns) with the attribute
 * `names` (the column names joined by ','), /label (float64) and, with a
 * model, /prediction (float32). Root attributes: symbol, timeframe, label (its
 * description). Datasets carry no times of creation, so the bytes are stable.
 *
 * Both files are written to PATH.tmp and renamed into place.
 */
#ifndef TT_ML_EXPORT_H
#define TT_ML_EXPORT_H

#include "../core/error.h"
#include "dataset.h"

typedef struct tt_ml_export_opts {
    const float *prediction; /* n predictions (NaN for none), or NULL: no column */
    const char *symbol;      /* for the HDF5 attributes */
    const char *label_text;  /* the label's description (tt_ml_label_text) */
} tt_ml_export_opts;

/* Write d by the file's extension: .csv or .h5 / .hdf5. TT_EINVAL for
 * another extension, TT_EIO naming the path. */
int tt_ml_export(const tt_ml_dataset *d, const char *path, const tt_ml_export_opts *o,
                 tt_err *err);

#endif
