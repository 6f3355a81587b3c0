/*
 * ticktape: the walk-forward's result as one JSON object.
 *
 * Why here. `ticktape walkforward --json` prints it and writes it as
 * walkforward.json, and the Python API (api/) returns it: one writer keeps
 * the three identical. Layout (docs/research.md): name, mode, objective,
 * min_trades, folds (each with its windows, the parameters or model chosen,
 * the in-sample and out-of-sample summaries, or null params when no run
 * qualified), the stitched out-of-sample figures, wfe, the per-day rates and
 * the fingerprint. Money is in currency units (minor / mpu); non-finite
 * figures are null.
 */
#ifndef TT_WF_REPORT_H
#define TT_WF_REPORT_H

#include <stdint.h>

#include "../sim/ml_walkforward.h"
#include "../sim/research.h"
#include "../sim/sweep.h"
#include "../sim/walkforward.h"

/* Append the object (no newline) to b; mw is NULL without an ml: section.
 * The appends' failures are not reported: out of memory leaves the object
 * cut short (a caller that must know compares with a parse). */
void tt_wf_json(tt_buf *b, const char *name, const tt_wf_result *r, const tt_sweep_plan *plan,
                const tt_wf_spec *spec, const tt_ml_wf *mw, int64_t mpu);

#endif
