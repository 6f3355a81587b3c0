/*
 * ticktape ml: the `ml:` section of a scenario, as plain data.
 *
 *     ml:
 *       timeframe: M5              # the bars the rows are built on (required)
 *       symbol: EURUSD             # default: the first data symbol
 *       side: bid                  # bid | ask | mid (bid)
 *       features: default          # or a list of catalog names, in column order
 *       label: {kind: sign, horizon: 12, dead_zone: 0.0002}   # or tp, sl (triple_barrier)
 *       embargo: 12                # walk-forward: labelled rows dropped before a train
 *                                  # window's end, in bars (default: the horizon)
 *       xgboost: {objective: binary:logistic, max_depth: 4, eta: 0.1, rounds: 200,
 *                 subsample: 0.8, seed: 7}
 *
 * The layer below the scenario (sim/scenario.h) cannot be read from here, so
 * the section arrives one flattened entry at a time through tt_ml_spec_set
 * (key without the "ml." prefix, value as text; lists joined with ','), the way
 * data.synthetic.* reaches the synthetic market; the caller prefixes errors
 * with the file, line and key. Unknown keys are errors.
 *
 * XGBoost parameters are kept as text in file order and passed to the booster
 * as given, except `rounds` (boosting rounds). Only the keys listed in
 * tt_ml_xgb_keys are accepted, so a typo is an error here rather than a
 * warning printed by XGBoost; nthread is not among them: training always runs
 * with nthread=1 (deterministic models, see docs/ml.md).
 */
#ifndef TT_ML_SPEC_H
#define TT_ML_SPEC_H

#include <stdint.h>

#include "../core/error.h"
#include "../core/features.h"

#define TT_ML_MAX_FEATURES 256
#define TT_ML_MAX_XGB 32

typedef struct tt_ml_param {
    char key[32];
    char value[64];
} tt_ml_param;

typedef struct tt_ml_spec {
    int tf;                       /* enum tt_timeframe; TT_TF_NONE until set */
    int side;                     /* enum tt_price_side (bid) */
    char symbol[32];              /* "" = the first data symbol */
    int features[TT_ML_MAX_FEATURES]; /* catalog indices, column order */
    int nfeatures;                /* 0 = the default set */
    tt_label_spec label;          /* kind 0 until set */
    int embargo;                  /* bars; -1 = the label's horizon */
    tt_ml_param xgb[TT_ML_MAX_XGB]; /* booster parameters, file order */
    int nxgb;
    int rounds;                   /* boosting rounds (100) */
    int has_seed;                 /* xgboost.seed given (else the scenario seed) */
} tt_ml_spec;

/* Defaults: no timeframe, bid, default features, no label, 100 rounds. */
void tt_ml_spec_init(tt_ml_spec *s);

/* One entry of the section: key without "ml." ("timeframe", "label.horizon",
 * "xgboost.max_depth"). TT_EINVAL with a message naming the key and what was
 * expected (the caller adds file and line). */
int tt_ml_spec_set(tt_ml_spec *s, const char *key, const char *value, tt_err *err);

/* The section as a whole: a timeframe, a label. TT_EINVAL naming the key. */
int tt_ml_spec_check(const tt_ml_spec *s, tt_err *err);

/* The feature selection as catalog indices (the default set when none was
 * listed) into idx (TT_ML_MAX_FEATURES entries); returns the count. */
int tt_ml_spec_feature_list(const tt_ml_spec *s, int *idx);

/* The embargo in bars (the horizon when not given). */
int tt_ml_spec_embargo(const tt_ml_spec *s);

/* XGBoost keys accepted under ml.xgboost (besides `rounds`), NULL-terminated. */
extern const char *const tt_ml_xgb_keys[];

/* The label's description for file headers and sidecars:
 * "sign(horizon=12, dead_zone=0.0002)". */
void tt_ml_label_text(const tt_label_spec *l, char *buf, size_t n);

#endif
