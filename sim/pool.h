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
 * run cannot disturb another through shared state. With groups (group,
 * group_size) a process runs several consecutive jobs in one call, and
 * isolation is per group; a crashed group is re-run one job per process, so
 * crashes are still reported job by job.
 *
 * The parent reads no clock except to pace the optional tick callback (used
 * by workers to send "in progress" acknowledgements while a job runs).
 */
#ifndef TT_POOL_H
#define TT_POOL_H

#include <stddef.h>
#include <sys/types.h>

#include "../core/error.h"
#include "research.h"

/* Runs job `index` in the child. Fill `out` with the result bytes and return
 * 0, or return a negative TT_E* with err filled (the message reaches the
 * parent). ctx is the caller's, as it was when the job's process was forked
 * (with runs_per_process > 1, possibly before earlier jobs ran in it). */
typedef int (*tt_pool_job_fn)(void *ctx, size_t index, tt_buf *out, tt_err *err);

/* Runs jobs first .. first+n-1 in one call, in one process (sweeps advance
 * such a group in one pass over their data, sim/backtest.h). For each job i
 * of the group: rcs[i] and, on failure, errs[i] as the job function would
 * return them, outs[i] (empty on entry) its result bytes. Returns 0, or a
 * negative TT_E* (err) when the group could not run at all: then every job
 * of it fails with that error. */
typedef int (*tt_pool_group_fn)(void *ctx, size_t first, size_t n, tt_buf *outs, int *rcs,
                                tt_err *errs, tt_err *err);

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
    /* Groups (optional): with group set and group_size > 1, a runner process
     * gets up to group_size consecutive jobs at once and runs them through
     * group() (and then exits: runs_per_process is not used). Outcomes are
     * still per job, in job order. A group whose process crashes is run
     * again job by job, each in a fresh process (the job function), so a
     * crash is reported for the job that crashed, and only for it, as
     * without groups; the others' results are those they give alone. */
    tt_pool_group_fn group;
    size_t group_size;
    void *cb_ctx;
} tt_pool_opts;

/* Run jobs 0..njobs-1. out must hold njobs outcomes (filled here; free with
 * tt_pool_outcomes_free). Returns 0 when the pool itself worked, even if some
 * jobs failed or crashed (see each outcome; a result the parent has no memory
 * to hold is reported as a crash: its process is killed); TT_EIO when fork or
 * pipe fails (jobs not yet started are marked failed with that message) or
 * poll fails (the outcomes so far are kept: free them as usual); TT_ENOMEM
 * (nothing ran); TT_EINVAL on bad arguments. Standard streams are flushed
 * before forking. */
int tt_pool_run(size_t njobs, tt_pool_job_fn fn, void *ctx, const tt_pool_opts *opts,
                tt_pool_outcome *out, tt_err *err);

/* Release the data buffers of n outcomes (out may be NULL). Cannot fail. */
void tt_pool_outcomes_free(tt_pool_outcome *out, size_t n);

/* ---- one runner process, for a caller that drives it (the NATS worker) ----
 *
 * The pool's jobs run through these too. A runner is a forked child that
 * reads requests (bytes) on one pipe and answers each on another, calling fn
 * in between; it exits when its request pipe closes, after `budget` requests
 * (0 = no limit), or when fn crashes it. The caller poll()s r->from while a
 * request is out and calls tt_jobproc_read when it is readable. */
typedef int (*tt_jobproc_fn)(void *ctx, const void *req, size_t len, tt_buf *out, tt_err *err);

typedef struct tt_jobproc {
    pid_t pid;         /* 0: no process */
    int to, from;      /* request pipe (write end; -1 once closed), answer pipe (read end) */
    int busy;          /* a request is out */
    unsigned runs;     /* requests handed to this process */
    int ignore_sigint; /* set before the first send: the process ignores SIGINT */
    tt_buf in;
} tt_jobproc;

/* An empty runner (no process yet). Cannot fail. */
void tt_jobproc_init(tt_jobproc *r);
/* Hand a request to r, forking its process first when it has none (or one
 * that has done its budget or died idle, which is reaped). The new process
 * runs fn(ctx, ...) for each request and closes the pipes of the `nothers`
 * runners in `others` that it inherited. After the budget-th request the
 * request pipe is closed, so the process exits once it has answered. 0, or
 * TT_EIO (pipe, fork, or a process that cannot be written to). */
int tt_jobproc_send(tt_jobproc *r, tt_jobproc_fn fn, void *ctx, unsigned budget, const void *req,
                   size_t len, const tt_jobproc *others, unsigned nothers, tt_err *err);
/* Read what r's answer pipe holds (blocks only if nothing is there). 1 when
 * the request out is finished: *o filled, its status TT_RUN_OK (o->data the
 * answer's bytes) or TT_RUN_FAILED (fn's error), or TT_RUN_CRASHED when the
 * process ended without answering (then reaped; the next send forks anew).
 * 0 otherwise (an idle process that ended is reaped, nothing to report; and
 * when the answer cannot be held for lack of memory or is garbage: the process
 * is killed, so a later read reports the request as crashed). */
int tt_jobproc_read(tt_jobproc *r, tt_pool_outcome *o);
/* Stop r's process at once (a request out is lost) and reap it. Cannot fail. */
void tt_jobproc_kill(tt_jobproc *r);
/* Let r's process go (it sees its request pipe close), reap it, free r's
 * buffer. Cannot fail. */
void tt_jobproc_close(tt_jobproc *r);

#endif
