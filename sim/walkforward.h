/*
 * ticktape: walk-forward analysis.
 *
 * The data range is cut into folds. Each fold has a train window and the test
 * window that follows it:
 *
 *     rolling:   [from + k*step, + train) then [.., + test)
 *     anchored:  [from, from + train + k*step) then [.., + test)
 *
 * A fold exists while its whole test window fits in the data range. On each
 * train window every parameter set of the sweep: section is run, the winner
 * is the best by the objective among the runs with at least min_trades
 * trades (ties go to the earlier job), and the winner alone runs on the test
 * window. The out-of-sample equity curves of the folds are stitched by
 * chaining P&L: each fold continues from where the previous fold's test
 * equity ended.
 *
 * No look-ahead: a train run's data source is limited to its train window
 * (see tt_scenario_runner), so the choice of a fold cannot depend on later
 * data. Each summary records the last input time it read, and
 * tt_walkforward_run checks it against the window (TT_EORDER otherwise).
 *
 * Walk-forward efficiency (WFE) compares the rate of out-of-sample profit to
 * the rate of in-sample profit of the chosen parameters:
 *
 *     WFE = (sum of OOS net P&L / total test days)
 *         / (sum of winners' IS net P&L / total train days)
 *
 * undefined (NaN) when the in-sample rate is not positive.
 *
 *     walkforward:
 *       mode: rolling       # or anchored
 *       train: 30d          # s, m, h, d, w
 *       test: 10d
 *       step: 10d           # default: test
 *       objective: sharpe   # return | profit_factor | net_pnl
 *       min_trades: 5
 *       from: 2019-02-04T00:00:00Z   # optional, default the scenario's data range
 *       to: 2019-02-06T00:00:00Z
 */
#ifndef TT_WALKFORWARD_H
#define TT_WALKFORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/metrics.h"
#include "research.h"
#include "sweep.h"

enum tt_wf_objective { TT_WF_SHARPE = 0, TT_WF_RETURN = 1, TT_WF_PROFIT_FACTOR = 2,
                       TT_WF_NET_PNL = 3 };

typedef struct tt_wf_spec {
    int anchored;        /* 0 rolling, 1 anchored */
    tt_ts train, test, step;
    int objective;       /* enum tt_wf_objective */
    uint64_t min_trades;
    tt_ts from, to;      /* 0 = the scenario's data range */
} tt_wf_spec;

/* Read the walkforward: section. TT_ENOTFOUND without one; TT_EINVAL naming
 * file, line and key for unknown keys and bad values, or missing train/test.
 * TT_OK otherwise. */
int tt_wf_spec_read(tt_wf_spec *spec, const tt_research_doc *doc, tt_err *err);

/* "sharpe", "return", "profit_factor", "net_pnl" ("sharpe" for an unknown
 * value). Cannot fail. */
const char *tt_wf_objective_name(int objective);

typedef struct tt_wf_window {
    tt_ts train_from, train_to; /* [train_from, train_to) */
    tt_ts test_from, test_to;   /* [test_from, test_to), test_from == train_to */
} tt_wf_window;

/* The folds over [from, to). *w is malloc'd (free()). TT_OK; TT_EINVAL for bad
 * lengths or range, more than 100000 folds, or when not even one fold fits
 * (the message gives the sizes); TT_ENOMEM; *w is NULL and *n 0 on failure. */
int tt_wf_windows(const tt_wf_spec *spec, tt_ts from, tt_ts to, tt_wf_window **w, size_t *n,
                  tt_err *err);

typedef struct tt_wf_fold {
    tt_wf_window w;
    int has_winner;        /* 0 when no train run qualified (the fold is flat) */
    size_t winner;         /* job index in the plan */
    size_t qualified;      /* train runs with >= min_trades trades */
    double objective;      /* the winner's objective value */
    tt_run_summary is;     /* the winner on the train window */
    tt_run_summary oos;    /* the winner on the test window */
} tt_wf_fold;

typedef struct tt_wf_result {
    tt_wf_fold *folds;
    size_t nfolds;
    tt_run_summary *train; /* every train run: nfolds * njobs, fold-major */
    size_t njobs;
    tt_metrics oos;            /* figures of the stitched out-of-sample run */
    tt_equity_point *equity;   /* stitched out-of-sample equity */
    size_t nequity;
    tt_trade_record *trades;   /* out-of-sample trades, ids renumbered */
    size_t ntrades;
    tt_money initial_balance;
    double wfe;                /* NaN when undefined */
    double is_rate, oos_rate;  /* net P&L per day in and out of sample, minor units */
    tt_fingerprint fp;         /* XXH3-128 over the folds' winners and OOS fingerprints, in order */
} tt_wf_result;

typedef struct tt_wf_opts {
    unsigned jobs; /* processes at a time */
    void (*on_tick)(void *ctx, size_t done, size_t total); /* may be NULL */
    void *ctx;
    const tt_metrics_opts *metrics; /* for the stitched figures; NULL = defaults */
    /* Run the train runs elsewhere (NATS workers) instead of the local pool:
     * fill out[i] for i < nfolds * plan->njobs, run i being parameter set
     * i % njobs on the train window of fold i / njobs. A run that did not
     * complete keeps its status and message. Return 0 or an error (TT_EPARTIAL
     * is tolerated: the missing runs are reported, the folds go on). NULL =
     * the local pool. The test runs, which carry equity series, run locally. */
    int (*train_batch)(void *ctx, const tt_wf_window *w, size_t nfolds,
                       const tt_sweep_plan *plan, tt_run_summary *out, tt_err *err);
    void *train_ctx;
    unsigned runs_per_process; /* train runs per local process, a fold's sharing a pass over
                                * its window (tt_research_group_size: 1 = a fresh process per
                                * run, 0 = a process's whole share); test runs per runner */
} tt_wf_opts;

/* Run the walk-forward: every (fold, parameter set) train run, then each
 * fold's winner on its test window, all in the process pool. from/to is the
 * data range (spec->from/to win when set). A train or test run that fails or
 * crashes is reported in its summary; a failed test run makes the result
 * TT_EPARTIAL. TT_EORDER if a run read data outside its window (a broken
 * data source). Also tt_wf_windows' errors, the pool's (TT_EIO), a
 * train_batch error other than TT_EPARTIAL, TT_EFORMAT for a malformed test
 * series, tt_metrics_compute's, TT_ENOMEM. On any error out holds what was
 * filled so far: free it with tt_wf_result_free either way. */
int tt_walkforward_run(const tt_wf_spec *spec, const tt_sweep_plan *plan,
                       tt_research_runner runner, tt_ts from, tt_ts to, const tt_wf_opts *opts,
                       tt_wf_result *out, tt_err *err);

void tt_wf_result_free(tt_wf_result *r); /* cannot fail; r is zeroed */

#endif
