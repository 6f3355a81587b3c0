/*
 * ticktape: parameter sweeps (grid and seeded random search).
 *
 * A sweep is read from the `sweep:` section of a scenario:
 *
 *     sweep:
 *       mode: grid              # or random
 *       samples: 50             # random: number of draws
 *       seed: 7                 # random: default is the scenario's seed
 *       params:
 *         strategy.params.fast: [5, 10, 20]                   # a list
 *         strategy.params.slow: {from: 20, to: 60, step: 10}  # a range, both ends included
 *       heatmap: [strategy.params.fast, strategy.params.slow]
 *
 * Parameter keys are dotted scenario keys. They may also be written nested,
 * which is the form the scenario loader accepts (it refuses dots in keys):
 *
 *       params:
 *         strategy:
 *           params:
 *             fast: [5, 10, 20]
 *             slow: {from: 20, to: 60, step: 10}
 *
 * Expansion turns the section into a plan: a list of jobs, each a full
 * assignment of every swept parameter. The grid is the cartesian product in
 * the order the parameters are written, the first one varying slowest. A
 * random search draws each parameter of each sample independently from the
 * sweep's own PCG stream (tt_rng_derive(seed, "sweep/random")): a list value
 * uniformly, a range's grid point uniformly (from + k*step), or, for a range
 * without step, a uniform number in [from, to]. The plan is a pure function
 * of the section and the seed: the same on every machine.
 *
 * Running a plan (tt_sweep_run) hands every job to a tt_research_runner in a
 * bounded pool of processes (sim/pool.h); the result list is in job order.
 * The runs a process gets (runs_per_process) advance together, in one pass
 * over their data, which is read and decoded once for all of them
 * (tt_backtest_group_run); each run's result and fingerprint are the ones
 * it gives alone.
 */
#ifndef TT_SWEEP_H
#define TT_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/metrics.h"
#include "research.h"

enum tt_sweep_mode { TT_SWEEP_GRID = 0, TT_SWEEP_RANDOM = 1 };

/* Most jobs a plan may hold (a typo in a step should not fork a million runs). */
#define TT_SWEEP_MAX_JOBS 100000

/* One swept parameter. */
typedef struct tt_sweep_axis {
    char key[TT_PARAM_KEY_MAX];
    int is_range;                    /* 1: {from, to, step}; 0: a list */
    double from, to, step;           /* range (step 0: continuous, random mode only) */
    int integer;                     /* range: from, to and step are whole numbers */
    char (*values)[TT_PARAM_VALUE_MAX]; /* the list, or the grid points of a stepped range */
    size_t nvalues;
    int line;                        /* where it was written (for messages) */
} tt_sweep_axis;

typedef struct tt_sweep_spec {
    int mode;                        /* enum tt_sweep_mode */
    uint64_t samples;                /* random mode */
    uint64_t seed;
    tt_sweep_axis *axes;
    size_t naxes;
    char heatmap[2][TT_PARAM_KEY_MAX]; /* "" when not set: the first two axes */
    char file[256];
} tt_sweep_spec;

/* Read the sweep: section of doc. default_seed is used when the section has
 * no seed. TT_ENOTFOUND when the scenario has no sweep: section; TT_EINVAL
 * naming file, line and key for an unknown key, an empty list, a bad range
 * (to < from, step <= 0, more than TT_SWEEP_MAX_JOBS points), a heatmap key
 * that is not swept; TT_ENOMEM. TT_OK otherwise. */
int tt_sweep_spec_read(tt_sweep_spec *spec, const tt_research_doc *doc, uint64_t default_seed,
                       tt_err *err);
void tt_sweep_spec_free(tt_sweep_spec *spec); /* cannot fail */

/* The jobs of a sweep. Job i's assignment is params[i * nparams .. + nparams). */
typedef struct tt_sweep_plan {
    size_t njobs;
    size_t nparams;
    tt_param *params;
    char id_prefix[40]; /* run ids are "<id_prefix>-<index>" */
} tt_sweep_plan;

/* Expand spec into a plan. id_prefix names the sweep in run ids (sanitized).
 * TT_EINVAL when there is no parameter, the grid would exceed
 * TT_SWEEP_MAX_JOBS or random mode asks for 0 samples or too many; TT_ENOMEM.
 * TT_OK otherwise. */
int tt_sweep_expand(const tt_sweep_spec *spec, const char *id_prefix, tt_sweep_plan *plan,
                    tt_err *err);
void tt_sweep_plan_free(tt_sweep_plan *plan); /* cannot fail */

/* Job i's parameters. */
static inline const tt_param *tt_sweep_job_params(const tt_sweep_plan *p, size_t i)
{
    return p->params + i * p->nparams;
}

/* ---- running ---- */

/* What a run may hand back besides its summary (walk-forward stitches these). */
typedef struct tt_run_series {
    tt_equity_point *equity; /* malloc'd, time order */
    size_t nequity;
    tt_trade_record *trades; /* malloc'd, close order */
    size_t ntrades;
    tt_money initial_balance;
} tt_run_series;

void tt_run_series_free(tt_run_series *s); /* cannot fail */

/* Something that runs one backtest of a scenario with parameter overrides.
 * run() is called in a pool child: it may allocate freely and may crash
 * without harming the sweep. from/to (0 = the scenario's own range) restrict
 * the data the run may read: [from, to). series may be NULL when not wanted.
 * run() returns TT_OK with *out (and *series) filled, or a negative TT_E* with
 * err filled (*out then says nothing). */
typedef struct tt_research_runner {
    void *self;
    int (*run)(void *self, const tt_param *params, size_t nparams, tt_ts from, tt_ts to,
               tt_run_summary *out, tt_run_series *series, tt_err *err);
    /* Optional: n runs over the same [from, to) at once, params[i * nparams ..]
     * each, as one pass over their data (the data read and decoded once).
     * For each run: rcs[i] and errs[i] as run() would return them, and on
     * success out[i] as run() would fill it. Returns 0, or TT_EINVAL when the
     * runs cannot share a pass (different data, a synthetic market): the
     * caller then runs them one by one. */
    int (*run_group)(void *self, const tt_param *params, size_t nparams, size_t n, tt_ts from,
                     tt_ts to, tt_run_summary *out, int *rcs, tt_err *errs, tt_err *err);
} tt_research_runner;

/* Runs first .. first+n-1 of plan over [from, to) in this process, one pass
 * when runner.run_group can (else one by one with run()): for each, rcs[i]
 * and errs[i], and on success outs[i] the tt_run_summary as bytes (what a
 * sweep's pool job sends back). The group function of the sweeps' and
 * walk-forwards' process pools (tt_pool_opts.group). Returns 0 (each run's
 * own result in rcs), or TT_ENOMEM. */
int tt_research_run_group(const tt_research_runner *runner, const tt_sweep_plan *plan,
                          size_t first, size_t n, tt_ts from, tt_ts to, tt_buf *outs, int *rcs,
                          tt_err *errs, tt_err *err);

/* The runs per process of --runs-per-process N for `jobs` processes and
 * njobs runs: 1 stays 1 (a fresh process per run), 0 (or TT_POOL_KEEP) is all
 * of a process's share (njobs / jobs, rounded up), N is N. Cannot fail. */
size_t tt_research_group_size(unsigned runs_per_process, unsigned jobs, size_t njobs);

struct tt_scenario;

/* A source cut to [from, to): it passes on the events of `inner` in the range
 * and ends at the first event at or past `to` (0 = open), so the engine can
 * never see later data. Used for synthetic markets, which cannot be queried by
 * time; w holds the state and must outlive the source. */
typedef struct tt_window_src {
    tt_source inner;
    tt_ts from, to;
} tt_window_src;
tt_source tt_window_source(tt_window_src *w, tt_source inner, tt_ts from, tt_ts to);

/* The runner of a loaded scenario (sim/scenario.h), the one the commands use.
 * For each run it clones the scenario, applies the parameters with
 * tt_scenario_set ("key=value", checked like --set), prepares the backtest
 * (tt_scenario_prepare) and runs it (tt_backtest_run). A data range [from,
 * to) is enforced by the data source itself: a tape is queried for that
 * range only (the reader never yields a later event), a synthetic source is
 * wrapped so that the engine never receives an event at or past `to`. The
 * summary's first_ts/last_ts record the input the run actually read. The
 * figures are tt_metrics_compute over the run's trades and equity series with
 * the scenario's metrics settings. The scenario must outlive the runner.
 * Cannot fail; its run() fails with TT_ENOMEM, tt_scenario_set's error for a
 * parameter, tt_scenario_prepare's or tt_backtest_run's. */
tt_research_runner tt_scenario_runner(struct tt_scenario *s);

typedef struct tt_sweep_opts {
    unsigned jobs;          /* processes at a time; 0 = 1 */
    unsigned runs_per_process; /* runs per process, advanced together in one pass over the
                             * data (tt_research_group_size): 1 = a fresh process per
                             * run, 0 = a process's whole share */
    tt_ts from, to;         /* data range for every run; 0 = the scenario's */
    /* In job order, as each completes (may be NULL). */
    void (*on_result)(void *ctx, const tt_run_summary *r, const tt_param *params, size_t nparams);
    void (*on_tick)(void *ctx, size_t done, size_t total); /* about once a second (may be NULL) */
    void *ctx;
} tt_sweep_opts;

/* Run every job of plan; results[i] (njobs entries, filled here) is job i's
 * summary, whatever happened: a run that failed or crashed has that status
 * and a message naming its parameters, and the sweep goes on. Returns 0 when
 * every run completed, TT_EPARTIAL when some did not (err says how many),
 * TT_EIO when the pool itself failed (tt_pool_run), TT_ENOMEM, TT_EINVAL
 * without a runner. */
int tt_sweep_run(const tt_sweep_plan *plan, tt_research_runner runner, const tt_sweep_opts *opts,
                 tt_run_summary *results, tt_err *err);

/* ---- a job on the wire (distributed sweeps) ---- */

/* A job message is untrusted input: anyone who can publish on the jobs
 * subject can write one. So a job names no file and sets nothing but the
 * sweep's own parameters: its scenario is the SHA-256 of the scenario file's
 * bytes (the worker looks it up among the files in its own directories), and
 * each parameter must be one the scenario's sweep: section declares, with a
 * value on its grid or list, or inside its range (tt_sweep_job_check). */
#define TT_SWEEP_JOB_VERSION 2
#define TT_SWEEP_JOB_MAX_PARAMS 64

typedef struct tt_sweep_job {
    uint32_t index;
    char run_id[TT_RUN_ID_MAX];
    char scenario[65];   /* the scenario file's SHA-256, 64 lower-case hex digits */
    tt_param *params;
    size_t nparams;
    tt_ts from, to;      /* data range; 0 = the scenario's */
} tt_sweep_job;

/* A job as one JSON object:
 * {"v":2,"run_id":..,"index":..,"scenario":"<sha256>","from":..,"to":..,
 *  "params":{"key":"value",..}}. index is the job's parameter set in its
 * plan; from/to the data range (0 = the scenario's). TT_ENOMEM. */
int tt_sweep_job_encode(tt_buf *b, const char *run_id, uint32_t index, const tt_param *params,
                        size_t nparams, const char *scenario_id, tt_ts from, tt_ts to);
/* Parse a job, strictly: every field must be one of the above with a value
 * of its type (a run id of NATS-token characters, a whole index below
 * TT_SWEEP_MAX_JOBS, whole non-negative times with from < to, string
 * parameter values, no key twice). TT_EPERM "unknown scenario" when the
 * scenario is not a hash (a path, as in the first job format), TT_EPERM
 * "parameter not allowed" for a field that would set anything else (the
 * first format's "sets"), TT_EFORMAT "bad job message: field F" otherwise.
 * Messages never quote the job's values. */
int tt_sweep_job_decode(tt_sweep_job *job, const char *data, size_t len, tt_err *err);
void tt_sweep_job_free(tt_sweep_job *job);

/* Is every parameter of the job one that spec sweeps, with an allowed value:
 * one of a list's values or a stepped range's grid points (as the sweep
 * writes them), or, for a range without step (random search), a finite
 * number within [from, to] (give or take the %.6g rounding of a draw)?
 * TT_EPERM "parameter not allowed: KEY" otherwise (KEY with anything but
 * printable ASCII replaced). spec may be NULL (a scenario without a sweep:
 * section): then no parameter is allowed. */
int tt_sweep_job_check(const tt_sweep_job *job, const tt_sweep_spec *spec, tt_err *err);

/* "key=value key=value" of a job's parameters into buf (for messages). */
void tt_params_format(const tt_param *params, size_t n, char *buf, size_t bufsize);

#endif
