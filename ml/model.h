/*
 * ticktape ml: a trained model as the engine uses it, and its sidecar.
 *
 * A model is XGBoost's JSON file (OUT.json) plus ticktape's sidecar
 * (OUT.json.meta, JSON), written by `ticktape train`:
 *
 *   {"format": "ticktape-model-meta", "version": 1,
 *    "ticktape": "0.1.0", "xgboost": "1.7.4",
 *    "model_xxh3": "<16 hex: XXH3-64 of the model file's bytes>",
 *    "symbol": "EURUSD", "timeframe": "M5", "side": "bid",
 *    "features": ["ret_1", ...],                 column order
 *    "label": {"kind": "sign", "horizon": 12, "dead_zone": 0.0003, "tp": 0, "sl": 0},
 *    "target": "...", "objective": "binary:logistic", "rounds": 200,
 *    "params": {"max_depth": "4", ...},
 *    "rows": {"total": N, "used": M, "embargo": E},
 *    "window": {"from": ISO, "to": ISO, "labels_to": ISO},
 *    "data_fingerprint": "<32 hex>", "scenario": "..."}
 *
 * Loading (tt_ml_model_load) reads both. The feature list comes from the
 * sidecar, or, for a model trained elsewhere (Python) without one, from the
 * feature_names XGBoost stores in the model; either way every name must be a
 * ticktape feature, and when both exist they must agree. A sidecar whose
 * model_xxh3 is not the model's bytes belongs to another model and is
 * refused. The model is then parsed into ticktape's predictor (ml/forest.h)
 * and, as a guard, also loaded through XGBoost's C API: both predict a set of
 * probe rows built from the model's own split values (both sides of each, and
 * missing values), and a single differing bit refuses the model.
 *
 * tt_ml_model_check_columns refuses a model whose features are not exactly
 * the columns a caller computes (names and order), naming the first
 * difference: a model never sees numbers in the wrong places.
 */
#ifndef TT_ML_MODEL_H
#define TT_ML_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "forest.h"
#include "spec.h"

typedef struct tt_ml_model {
    tt_forest forest;
    int ncols;
    int cols[TT_ML_MAX_FEATURES]; /* catalog index of each model column */
    int has_meta;                 /* a sidecar was read */
    int tf, side;                 /* from the sidecar (TT_TF_NONE when unknown) */
    char symbol[32];              /* from the sidecar ("" when unknown) */
    tt_label_spec label;          /* from the sidecar (kind 0 when unknown) */
    char id[17];                  /* XXH3-64 of the model file, hex: the model's identity */
    char path[1024];
} tt_ml_model;

/* Load path (and path.meta when it exists). TT_EIO, TT_EFORMAT, TT_EINVAL
 * (features), each naming the file. */
int tt_ml_model_load(tt_ml_model **out, const char *path, tt_err *err);
void tt_ml_model_free(tt_ml_model *m);

/* TT_EINVAL unless the model's columns are exactly cols[0..n) and, when the
 * sidecar names one, its timeframe is tf. */
int tt_ml_model_check_columns(const tt_ml_model *m, const int *cols, int n, int tf, tt_err *err);

/* The prediction for one row of ncols doubles in the model's column order
 * (rounded to float32, NaN = missing). Allocates nothing. */
float tt_ml_model_predict(const tt_ml_model *m, const double *row);

/* The sidecar path of a model path ("OUT.json" -> "OUT.json.meta"). */
void tt_ml_meta_path(const char *model, char *buf, size_t n);

/* Read a whole file (malloc'd, NUL-terminated). TT_EIO naming it. */
int tt_ml_read_file(const char *path, char **data, size_t *len, tt_err *err);

#endif
