/*
 * ticktape reports: what the sweep table's writers share (not public).
 */
#ifndef TT_SWEEP_REPORT_INTERNAL_H
#define TT_SWEEP_REPORT_INTERNAL_H

#include "sweep_report.h"

/* Minor units per currency unit, defaulted. */
int64_t tt_sweep_mpu(const tt_sweep_table *t);
/* Write b to path through "<path>.tmp". TT_EIO naming path. */
int tt_sweep_write_file(const char *path, const tt_buf *b, tt_err *err);
/* A figure of a run as text: money in currency units, counts whole, ratios
 * with `digits` significant digits; "" when not finite. */
void tt_sweep_fig_text(const tt_sweep_table *t, const tt_figure *f, const tt_run_summary *r,
                       char *buf, size_t n, int digits);
/* a better than b for f (higher or lower). */
int tt_sweep_better(const tt_figure *f, double a, double b);

#endif
