/*
 * ticktape ml: training an XGBoost model on a dataset, through XGBoost's C API.
 *
 * Rows: those with a label (the last `horizon` rows have none: their label
 * would need bars past the data, which is the purge), minus the last
 * `embargo` labelled rows (the walk-forward sets it; plain `ticktape train`
 * uses 0). Targets by objective:
 *   binary:logistic, binary:logitraw, reg:logistic: 1 when the label is > 0,
 *     0 when it is < 0; rows labelled exactly 0 (the sign's dead zone, a
 *     triple barrier's time-out, a flat forward return) are left out;
 *   reg:*: the label itself.
 * Features go in as float32 (NaN = missing), with their names.
 *
 * Determinism: nthread=1 always, the seed given (the scenario's seed unless
 * ml.xgboost.seed is set), and the model written from
 * XGBoosterSaveModelToBuffer in JSON; the same rows, parameters and seed give
 * the same bytes (tests/ml/train_test.py trains twice and compares). The
 * sidecar (model.h) carries no clock either, so it is stable too.
 */
#ifndef TT_ML_TRAIN_H
#define TT_ML_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/fingerprint.h"
#include "dataset.h"
#include "spec.h"

typedef struct tt_ml_train_opts {
    uint64_t seed;        /* used when the spec has no xgboost.seed */
    int embargo;          /* labelled rows dropped at the end (>= 0) */
    const char *symbol;   /* for the sidecar */
    const char *scenario; /* for the sidecar (may be NULL) */
    /* after every boosting round: round 1..rounds and XGBoost's evaluation
     * line on the training rows ("[9]\ttrain-logloss:0.6821"); may be NULL */
    void (*on_round)(void *ctx, int round, int rounds, const char *eval);
    void *ctx;
} tt_ml_train_opts;

typedef struct tt_ml_train_info {
    size_t rows_total, rows_used;
    tt_ts from, to;        /* first used row's open, last used row's close */
    tt_ts labels_to;       /* close of the last bar any used label looked at */
    tt_fingerprint data_fp; /* tt_ml_dataset_fingerprint of the used rows */
    char eval[160];        /* the last evaluation line */
    double positive_share; /* binary targets: share of 1s; NAN otherwise */
} tt_ml_train_info;

/* Train and write model_path (XGBoost JSON) and model_path.meta. The dataset
 * must be labelled. TT_EINVAL (too few rows, one class only), TT_EFORMAT
 * (XGBoost refused a parameter: its message), TT_EIO naming the file. */
int tt_ml_train(const tt_ml_dataset *d, const tt_ml_spec *spec, const tt_ml_train_opts *o,
                const char *model_path, tt_ml_train_info *info, tt_err *err);

/* XGBoost's version as "1.7.4". */
void tt_ml_xgboost_version(char *buf, size_t n);

#endif
