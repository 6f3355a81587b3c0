/*
 * ticktape: the walk-forward's folds as the command, the report and the
 * Python API show them, and its result as one JSON object.
 *
 * Why here. `ticktape walkforward` prints the folds and writes
 * walkforward.json and the out-of-sample report; the Python API (api/)
 * returns the same JSON. One view and one writer keep them identical. The
 * JSON (docs/research.md): name, mode, objective, min_trades, folds (each with
 * its windows, runs, efficiency, why none was chosen, the parameters or model
 * chosen, the in-sample and out-of-sample summaries), the stitched
 * out-of-sample figures, wfe, the per-day rates and the fingerprint. Money is
 * in currency units (minor / mpu); non-finite figures are null.
 */
#ifndef TT_WF_REPORT_H
#define TT_WF_REPORT_H

#include <stdint.h>

#include "../sim/ml_walkforward.h"
#include "../sim/research.h"
#include "../sim/sweep.h"
#include "../sim/walkforward.h"
#include "report.h"

/* What the text, walkforward.json and the report say of each fold,
 * computed once so that they agree. */
typedef struct tt_wf_view {
    tt_report_fold *rows;
    char (*chosen)[256];
    char (*why)[160];
    uint64_t events; /* the test runs' input events, summed */
} tt_wf_view;

/* Build the view of r (mw NULL without an ml: section; mpu the account's
 * minor units per unit). TT_OK or TT_ENOMEM (*v then empty). */
int tt_wf_view_build(tt_wf_view *v, const tt_wf_result *r, const tt_sweep_plan *plan,
                     const tt_wf_spec *spec, const tt_ml_wf *mw, int64_t mpu);
/* Free and zero the view. Cannot fail. */
void tt_wf_view_free(tt_wf_view *v);

/* Append the object (no newline) to b. The appends' failures are not
 * reported: out of memory leaves the object cut short. */
void tt_wf_json(tt_buf *b, const char *name, const tt_wf_result *r, const tt_sweep_plan *plan,
                const tt_wf_spec *spec, const tt_ml_wf *mw, const tt_wf_view *v, int64_t mpu);

#endif
