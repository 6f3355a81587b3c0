/*
 * ticktape: walk-forward with a model trained per fold (an `ml:` section).
 *
 * The folds, the pool, the stitching and the efficiency are those of
 * sim/walkforward.h; what changes is the run behind each window, given to
 * tt_walkforward_run as a one-job plan with this runner:
 *
 *   train window [a, b): the rows of the scenario's data in [a, b) (built
 *     cold from a, like any run of the window), labelled within the window,
 *     so the last `horizon` rows have no label (purge: no label looks at a
 *     bar at or after b); the last `embargo` labelled rows (ml.embargo,
 *     default the horizon) are dropped too; a model is trained on the rest
 *     and written to DIR/fold-NN.json (+ .meta), then the xgb strategy
 *     trades [a, b) with it: the in-sample figures;
 *   test window [b, c): the xgb strategy trades [b, c) with fold NN's model:
 *     the out-of-sample figures, stitched.
 * The runner refuses a model whose last label reached b (it cannot happen by
 * construction; the check keeps it so).
 *
 * The scenario's strategy must be xgb (its parameters other than `model` are
 * used: thresholds, qty, stops); its name is set when absent. Every fold is
 * "won" by its model: the walk-forward's objective is net P&L and its
 * min_trades 0, there being nothing to choose.
 */
#ifndef TT_SIM_ML_WALKFORWARD_H
#define TT_SIM_ML_WALKFORWARD_H

#include <stddef.h>

#include "../core/error.h"
#include "../ml/spec.h"
#include "sweep.h"
#include "walkforward.h"

struct tt_scenario;

typedef struct tt_ml_wf {
    struct tt_scenario *s;   /* the loaded scenario (borrowed; outlives the runner) */
    tt_ml_spec spec;
    tt_wf_window *w;         /* the folds (owned) */
    size_t nfolds;
    char dir[3800];          /* where the fold models go */
} tt_ml_wf;

/* Read the ml: section, compute the folds of spec over [from, to) and create
 * dir. TT_ENOTFOUND without an ml: section; TT_EINVAL, TT_EIO. */
int tt_ml_wf_init(tt_ml_wf *m, struct tt_scenario *s, const tt_wf_spec *spec, tt_ts from,
                  tt_ts to, const char *dir, tt_err *err);
void tt_ml_wf_free(tt_ml_wf *m);

/* The runner to give tt_walkforward_run with tt_ml_wf_plan's plan. */
tt_research_runner tt_ml_wf_runner(tt_ml_wf *m);

/* The one-job plan without parameters (free with tt_sweep_plan_free). */
int tt_ml_wf_plan(tt_sweep_plan *plan, tt_err *err);

/* Fold f's model path (f from 0): DIR/fold-01.json, ... */
void tt_ml_wf_model_path(const tt_ml_wf *m, size_t f, char *buf, size_t n);

/* What fold f's sidecar says: rows used, the end of the labels, the data's
 * fingerprint (hex). TT_EIO/TT_EFORMAT when it cannot be read. */
typedef struct tt_ml_fold_info {
    long long rows_used, rows_total, embargo;
    char labels_to[40];
    char data_fingerprint[40];
} tt_ml_fold_info;
int tt_ml_wf_fold_info(const tt_ml_wf *m, size_t f, tt_ml_fold_info *out, tt_err *err);

#endif
