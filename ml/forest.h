/*
 * ticktape ml: an XGBoost tree ensemble as flat arrays, evaluated in-process.
 *
 * Why not the C API for every bar: XGBoosterPredictFromDense costs about
 * 12 microseconds per call before it walks a single tree (it parses two JSON
 * strings and sets up its thread pool), which alone nearly spends the 20 us
 * budget of a bar. Walking 200 depth-6 trees from flat arrays costs 1-2 us.
 *
 * Bit-exactness with XGBoost 1.7 (what python3-xgboost predicts):
 *   - features are float32 (a double row is rounded to float, as XGBoost
 *     does when it reads a float64 matrix); NaN is missing;
 *   - a split sends a row left when `x < split_condition` (float compare), a
 *     missing value to the default child;
 *   - the margin starts at the base score (for logistic objectives
 *     -logf(1/base_score - 1), XGBoost's ProbToMargin) and adds each tree's
 *     leaf in tree order, in float;
 *   - logistic objectives then take XGBoost's float sigmoid:
 *     1 / (expf(min(-m, 88.7)) + 1 + 1e-16f).
 * ml/model.c does not take this on trust: every model it loads is also loaded
 * through the C API and both predict a set of probe rows; any bit that
 * differs refuses the model (tests/ml/parity_test.py also compares every
 * exported row with python3-xgboost).
 *
 * Supported: gbtree boosters with numerical splits and one output (the
 * objectives of ml/spec.c), up to 512 features and 4 million nodes a tree.
 * Categorical splits, dart, multi-class: refused.
 */
#ifndef TT_ML_FOREST_H
#define TT_ML_FOREST_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"

/* 8 bytes a node, so that a 200-tree model of depth 6 (about 17,700 nodes)
 * takes 140 KB: the walk is bound by loads. XGBoost allocates the two children
 * of a node together after it (right = left + 1, left > the node), which the
 * parser checks; `meta` packs the split feature (bits 0-8), the default
 * direction of a missing value (bit 9: left) and the distance from the node to
 * its left child (bits 10-31; 0 for a leaf). */
typedef struct tt_forest_node {
    float value;   /* split condition, or the leaf value */
    uint32_t meta;
} tt_forest_node;

#define TT_FOREST_MAX_FEATURES 512

enum tt_forest_transform { TT_FOREST_IDENTITY = 0, TT_FOREST_SIGMOID = 1 };

typedef struct tt_forest {
    tt_forest_node *nodes;
    uint32_t *roots;      /* ntrees entries */
    size_t nnodes;
    uint32_t ntrees;
    uint32_t nfeatures;   /* the model's num_feature */
    float base_margin;    /* the margin every row starts from */
    int transform;        /* enum tt_forest_transform */
    char objective[48];
    char *names;          /* the model's feature_names joined by '\n', or NULL */
    uint32_t nnames;
} tt_forest;

/* Parse an XGBoost JSON model (len bytes). TT_EFORMAT naming what is missing
 * or unsupported (the path `what` is used in messages), TT_ENOMEM. */
int tt_forest_parse(tt_forest *f, const char *json, size_t len, const char *what, tt_err *err);
void tt_forest_free(tt_forest *f);

/* The i-th feature name stored in the model, NULL when it has none. */
const char *tt_forest_name(const tt_forest *f, uint32_t i);

/* The margin (sum of the base margin and the leaves) and the prediction of
 * one row of nfeatures float32 values (NaN = missing). */
float tt_forest_margin(const tt_forest *f, const float *x);
float tt_forest_predict(const tt_forest *f, const float *x);

#endif
