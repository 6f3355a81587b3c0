/*
 * ticktape: CI gates over the figures of a run.
 *
 * The `gates:` section of a scenario lists thresholds:
 *
 *     gates:
 *       min_sharpe: 0.5            # min_<figure> / max_<figure> for any figure
 *       max_drawdown_pct: 20       #   of the research figure table (sim/research.h)
 *       min_trades: 10
 *       min_wfe: 0.5               # walk-forward efficiency (walkforward only)
 *       baseline: baseline.json    # relative to the scenario file
 *       max_change_pct: {sharpe: 20, net_pnl: 25}
 *
 * max_change_pct limits how much worse than the baseline a figure may get,
 * in percent of the baseline's magnitude: for a figure where higher is better
 * (sharpe, net_pnl) a drop of more than the limit fails; for one where lower
 * is better (max_drawdown_pct) a rise does. Improvements always pass. A
 * baseline is a flat JSON object of figures (tt_baseline_write writes one).
 *
 * Evaluation never stops at the first failure: every gate gets a row (pass,
 * fail, or skipped when it does not apply, e.g. min_wfe on a plain backtest),
 * printed as a table or written as JUnit XML for CI.
 */
#ifndef TT_GATES_H
#define TT_GATES_H

#include <stddef.h>
#include <stdio.h>

#include "../core/error.h"
#include "../core/metrics.h"
#include "research.h"

enum tt_gate_kind { TT_GATE_MIN = 0, TT_GATE_MAX = 1, TT_GATE_CHANGE = 2 };

typedef struct tt_gate {
    int kind;        /* enum tt_gate_kind */
    char figure[40]; /* a figure name, or "wfe" */
    double limit;    /* MIN/MAX: the threshold; CHANGE: the allowed worsening in percent */
    int line;        /* where the gate was written */
} tt_gate;

typedef struct tt_gates {
    tt_gate *gates;
    size_t n;
    char baseline[1024]; /* resolved path, "" when none */
    char file[256];      /* the scenario file */
    int64_t minor_per_unit; /* money figures are compared in currency units: minor
                             * units / this (100 after tt_gates_read; set it for
                             * other currencies) */
} tt_gates;

/* Read the gates: section of doc; relative baseline paths resolve against
 * the directory of the scenario file. TT_ENOTFOUND when there is no section;
 * TT_EINVAL naming file, line and key for an unknown gate or figure, a bad
 * number, or max_change_pct without a baseline; TT_ENOMEM. TT_OK otherwise. On
 * failure g holds nothing to free (tt_gates_free is still safe). */
int tt_gates_read(tt_gates *g, const tt_research_doc *doc, tt_err *err);
void tt_gates_free(tt_gates *g); /* cannot fail; g is zeroed */

enum tt_gate_verdict { TT_GATE_PASS = 0, TT_GATE_FAIL = 1, TT_GATE_SKIP = 2 };

typedef struct tt_gate_result {
    tt_gate gate;
    int verdict;        /* enum tt_gate_verdict */
    double value;       /* the run's figure (NaN when undefined) */
    double baseline;    /* CHANGE: the baseline's figure */
    double change_pct;  /* CHANGE: worsening in percent (negative = better) */
    char name[64];      /* "min_sharpe", "max_change_pct.sharpe" */
    char detail[192];   /* a human sentence: "sharpe 0.31 < 0.5" */
} tt_gate_result;

/* Evaluate every gate against figures m. wfe points to the walk-forward
 * efficiency, or is NULL for a run that is not a walk-forward (min_wfe is
 * then skipped); an undefined efficiency (NaN) fails min_wfe. Money figures
 * (net_pnl, max_drawdown, ...) are compared in currency units. The baseline, when
 * the section names one, is read here (TT_EIO / TT_EFORMAT naming the file if
 * it is missing, unreadable or bad, or lacks a figure: a missing baseline is an
 * error, not a pass). *res receives g->n results (malloc'd; free()), *nfail the
 * number of failures. An undefined figure (NaN) fails a min/max gate. TT_OK
 * (whatever the verdicts), or those errors or TT_ENOMEM with *res NULL. */
int tt_gates_eval(const tt_gates *g, const tt_metrics *m, const double *wfe,
                  tt_gate_result **res, size_t *nfail, tt_err *err);

/* Print the results as an aligned table ("gate  value  limit  verdict"). A write
 * error stays in f's error flag. */
void tt_gates_table(FILE *f, const tt_gate_result *res, size_t n);

/* Write JUnit XML: one <testsuite name=suite> with a <testcase> per gate,
 * <failure> for failed gates, <skipped/> for skipped ones. TT_OK, or TT_EIO
 * naming path when it cannot be created or written. */
int tt_gates_junit(const char *path, const char *suite, const tt_gate_result *res, size_t n,
                   tt_err *err);

/* Write the figures (money in currency units: minor / minor_per_unit) and wfe
 * (when not NULL) as a baseline JSON file. TT_OK, or TT_EIO naming path, or
 * TT_ENOMEM. */
int tt_baseline_write(const char *path, const tt_metrics *m, const double *wfe,
                      int64_t minor_per_unit, tt_err *err);

#endif
