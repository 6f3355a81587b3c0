/*
 * ticktape: the result table of a sweep, and its summary page.
 *
 * One row per run, in job order: index, run id, status, every swept
 * parameter, the fingerprint, the input event count, every figure of the
 * research figure table (sim/research.h), and the error for runs that did
 * not complete. Written as
 *
 *   sweep.csv    header line, then one line per run;
 *   sweep.json   {"name":..,"params":[keys],"runs":[{row},...]};
 *   sweep.h5     HDF5: /runs/<column> datasets, one element per run
 *                (strings fixed-length, figures float64, counts int64);
 *   sweep.html   self-contained page (sweep_html.c): heatmaps (inline SVG)
 *                of the main figures over two chosen parameters, one shown
 *                at a time (a choice without scripts), each with a colour
 *                legend and the stability of its best cell's neighbourhood;
 *                and the runs ranked by the ranking figure.
 *
 * Money figures are in currency units (minor units / minor_per_unit), as in
 * the backtest reports. Non-finite figures are empty (CSV), null (JSON) or NaN
 * (HDF5). Every file is a pure function of the table: the same sweep gives
 * the same bytes at any --jobs.
 */
#ifndef TT_SWEEP_REPORT_H
#define TT_SWEEP_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/error.h"
#include "../sim/research.h"
#include "../sim/sweep.h"

typedef struct tt_sweep_table {
    const char *name;              /* scenario name */
    const tt_sweep_plan *plan;     /* the jobs' parameters */
    const tt_run_summary *runs;    /* plan->njobs results, job order */
    const char *heatmap[2];        /* parameter keys (NULL: the first two swept) */
    const char *figure;            /* ranking figure (NULL: tt_sweep_default_figure) */
    int64_t minor_per_unit;        /* 0 = 100 */
} tt_sweep_table;

/* The ranking figure: t->figure when set; else "sharpe" when at least one
 * completed run has a Sharpe ratio (the runs met the minimum-data rule of
 * docs/metrics.md), else "net_pnl" with *fallback (may be NULL) set to 1.
 * Cannot fail. */
const char *tt_sweep_default_figure(const tt_sweep_table *t, int *fallback);

/* Each writer returns TT_OK, or TT_EIO naming the path (and the HDF5 call),
 * TT_ENOMEM; a file that fails is not left under its name. */
int tt_sweep_csv(const tt_sweep_table *t, const char *path, tt_err *err);
/* One line, no newline. TT_OK, or TT_ENOMEM (no tt_err; nothing written); a
 * write error stays in f's error flag. */
int tt_sweep_json_write(const tt_sweep_table *t, FILE *f);
int tt_sweep_json(const tt_sweep_table *t, const char *path, tt_err *err);
int tt_sweep_hdf5(const tt_sweep_table *t, const char *path, tt_err *err);
int tt_sweep_html(const tt_sweep_table *t, const char *path, tt_err *err);

/* All four into dir (created with its parents when missing). TT_OK, or the
 * first error: TT_EIO naming the directory or the file, TT_ENOMEM. */
int tt_sweep_report_write_all(const tt_sweep_table *t, const char *dir, tt_err *err);

/* The job index with the best value of the figure (NULL: the default
 * ranking figure) among completed runs (ties: lowest index); -1 when none is
 * defined or the figure is unknown. Cannot fail otherwise. */
long tt_sweep_best(const tt_sweep_table *t, const char *figure);

#endif
