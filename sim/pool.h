/*
 * ticktape: a bounded pool of processes for independent runs.
 *
 * tt_pool_run() runs njobs jobs, at most `workers` at a time, each in a
 * forked child process: by default a fresh one per job (see runs_per_process).
 * The child calls the job function, which fills a byte buffer (the result, in
 * whatever encoding the caller chose), and sends it back over a pipe. A child
 * that dies (a signal, an exit without a complete result) is reported as
 * TT_RUN_CRASHED for that job only: the others go on.
 *
 * Outcomes are stored by job index and the in-order callback sees them in job
 * order, whatever order they completed in, so the output of a sweep does not
 * depend on the number of workers. With a process per job (the default), a
 * run cannot disturb another through shared state.
 *
 * The parent reads no clock except to pace the optional tick callback (used
 * by workers to send "in progress" acknowledgements while a job runs).
 */
#ifndef TT_POOL_H
#define TT_POOL_H

#include <stddef.h>

#include "../core/error.h"
#include "research.h"

/* Runs job `index` in the child. Fill `out` with the result bytes and return
 * 0, or return a negative TT_E* with err filled (the message reaches the
 * parent). ctx is the caller's, as it was when the job's process was forked
 * (with runs_per_process > 1, possibly before earlier jobs ran in it). */
typedef int (*tt_pool_job_fn)(void *ctx, size_t index, tt_buf *out, tt_err *err);

typedef struct tt_pool_outcome {
    int status;      /* TT_RUN_OK, TT_RUN_FAILED (the job returned an error), TT_RUN_CRASHED */
    int code;        /* TT_RUN_FAILED: the job's TT_E* code */
    int signal;      /* TT_RUN_CRASHED: the signal that killed the child (0 = it exited) */
    int exit_status; /* TT_RUN_CRASHED without a signal: the child's exit status */
    char error[512]; /* FAILED/CRASHED: a message */
    tt_buf data;     /* TT_RUN_OK: the bytes the job produced */
} tt_pool_outcome;

#define TT_POOL_KEEP 0xffffffffu

typedef struct tt_pool_opts {
    unsigned workers; /* processes at a time; 0 = 1 */
    /* Called in job order (index 0, 1, ...) as soon as a job and all before it
     * are done. May be NULL. */
    void (*on_done)(void *cb_ctx, size_t index, const tt_pool_outcome *o);
    /* Called about every tick_ms milliseconds while jobs run (may be NULL). */
    void (*on_tick)(void *cb_ctx, size_t done, size_t total);
    unsigned tick_ms; /* 0 = 1000 */
    /* Jobs per runner process: 0 or 1 = a fresh process per job (the
     * default: full isolation); N = a runner answers up to N jobs one after
     * the other; TT_POOL_KEEP = no limit (a runner is replaced only when a job
     * crashes it). Reusing a runner saves a fork and a fresh heap per job;
     * a job then shares its process with the jobs before it. */
    unsigned runs_per_process;
    void *cb_ctx;
} tt_pool_opts;

/* Run jobs 0..njobs-1. out must hold njobs outcomes (filled here; free with
 * tt_pool_outcomes_free). Returns 0 when the pool itself worked, even if some
 * jobs failed or crashed (see each outcome); TT_EIO when fork or pipe fails
 * (jobs not yet started are marked failed with that message), TT_EINVAL on
 * bad arguments. Standard streams are flushed before forking. */
int tt_pool_run(size_t njobs, tt_pool_job_fn fn, void *ctx, const tt_pool_opts *opts,
                tt_pool_outcome *out, tt_err *err);

/* Release the data buffers of n outcomes. */
void tt_pool_outcomes_free(tt_pool_outcome *out, size_t n);

#endif
