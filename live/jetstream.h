/*
 * ticktape: distributed sweeps over NATS JetStream.
 *
 * Jobs go through a JetStream work-queue stream; results come back through a
 * second stream. Nothing here is home-made queueing: delivery, ack wait and
 * redelivery are JetStream's.
 *
 *   stream TT_JOBS     subjects backtest.jobs.>       retention: work queue
 *       durable pull consumer "ticktape-workers": explicit ack, AckWait set
 *       by the sweep, MaxDeliver bounded; a worker that dies mid-job never
 *       acks, so the server redelivers the job after the ack wait. Each
 *       worker has at most three job messages unacked (the running one, the
 *       one whose last run's completion is being stored, and one held
 *       ahead), well within the server's default MaxAckPending (1000).
 *   stream TT_RESULTS  subjects backtest.completed.>  retention: limits (1 day)
 *       results are published with Nats-Msg-Id = run id, so a duplicate
 *       completion inside the dedupe window is dropped by the server; the
 *       collector also counts each run id once, whatever arrives.
 *
 * Plain NATS subjects (the seed's contract) carry status, not data:
 *   backtest.started.{run_id}   {"run_id","worker","delivery"}
 *   backtest.progress.{run_id}  {"run_id","worker","elapsed_s"}   (while running)
 *   backtest.completed.{run_id} the run's summary JSON (sim/research.h), also
 *                               stored in TT_RESULTS.
 *
 * A job is an opaque payload (the sweep's JSON job description); this module
 * moves it, the caller's functions interpret it. A worker runs each job in a
 * child process (its runner, kept from run to run), and while it runs marks the message "in
 * progress" so that a long job is not redelivered while its worker is alive.
 *
 * No global state: a tt_js holds one connection and its JetStream context.
 */
#ifndef TT_JETSTREAM_H
#define TT_JETSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../sim/research.h"
#include "crypto.h"

#define TT_JS_JOBS_STREAM "TT_JOBS"
#define TT_JS_RESULTS_STREAM "TT_RESULTS"
#define TT_JS_CONSUMER "ticktape-workers"

typedef struct tt_js tt_js;
struct tt_nats_opts;

typedef struct tt_js_opts {
    const char *url;       /* nats://127.0.0.1:4222 */
    int64_t ack_wait_ms;   /* consumer AckWait; 0 = 30000 */
    int max_deliver;       /* deliveries before a job is given up; 0 = 5 */
    const char *name;      /* connection name (worker id); may be NULL */
    /* The shared job key (sweep --job-key, worker --job-key); NULL or empty:
     * nothing is signed or checked. With a key, the sweep signs every job
     * message and the worker every completion (header Tt-Sig, HMAC-SHA256
     * over subject and payload, live/crypto.h); a worker refuses a job whose
     * signature is missing or wrong (no run, no completion: the message is
     * terminated and the refusal logged), and a sweep ignores such
     * completions (counted as forged). */
    const tt_hmac_key *job_key;
    const struct tt_nats_opts *auth; /* authentication and TLS (nats_conn.h); may be NULL */
} tt_js_opts;

/* Connect and get a JetStream context. TT_OK, or TT_ENET naming the URL when
 * the server cannot be reached or has no JetStream, TT_EINVAL without a URL,
 * TT_ENOMEM; *js is then NULL. */
int tt_js_connect(tt_js **js, const tt_js_opts *opts, tt_err *err);
void tt_js_close(tt_js *js); /* NULL is allowed; cannot fail */

/* Create the two streams and the workers' consumer if they are missing, and
 * set the consumer's ack wait / max deliver to the options' (an existing
 * consumer is updated). The sweep side calls it; workers only create what is
 * missing and never change an existing consumer. TT_OK, or TT_ENET naming what
 * the server refused. */
int tt_js_setup(tt_js *js, tt_err *err);

/* Plain NATS publish (status subjects). TT_OK, or TT_ENET naming the subject. */
int tt_js_publish(tt_js *js, const char *subject, const void *data, size_t len, tt_err *err);

/* ---- the sweep side ---- */

/* The result of one job, as the collector hands it over. */
typedef void (*tt_js_result_fn)(void *ctx, size_t index, const char *payload, size_t len);

typedef struct tt_js_sweep_opts {
    int64_t timeout_ms;         /* give up when no new result arrives for this long; 0 = 10 min */
    tt_js_result_fn on_result;  /* called once per job, in arrival order */
    void (*on_tick)(void *ctx, size_t done, size_t total); /* may be NULL */
    void *ctx;
    volatile int *stop; /* give up (as on a timeout) when *stop becomes non-zero; may be NULL */
    size_t runs_per_job; /* runs per job message (a batch, see below); 0 = 1 */
    size_t *forged; /* completions ignored for a missing or bad signature (may be NULL) */
} tt_js_sweep_opts;

/* A job message of several runs (a batch), self-describing and versioned:
 *
 *     "ticktape-jobs 1 <count>\n"                 magic, framing version, runs
 *     "<run_id> <payload length>\n<payload>\n"    count times
 *
 * A message that does not start with the magic is one run (the payload
 * itself, its run id the subject's). A worker refuses a batch of another
 * version or a malformed one: it completes the subject's run as failed with
 * an error that says so, and terminates the message (no redelivery). */
#define TT_JS_BATCH_MAGIC "ticktape-jobs "
#define TT_JS_BATCH_VERSION 1
#define TT_JS_BATCH_MAX 4096 /* runs in one message */

/* Read a job message as the worker does: the number of runs it holds (1 for
 * a message that is not a batch), or 0 when the batch is refused, with why.
 * (The worker's own parser; exposed for the fuzz target.) */
size_t tt_js_batch_runs(const char *data, size_t len, char *why, size_t whylen);

/* The default runs per job message for a sweep of njobs runs, like the chunk
 * size of Python's Pool.map: njobs / 16, at least 1 and at most 8 (enough to
 * spread a message's round trips on a short sweep, few enough runs per
 * message that the workers share the end of the sweep). */
size_t tt_js_runs_per_job_auto(size_t njobs);

/* Append the batch of runs run_ids[0..n) / payloads[0..n) to out. TT_OK, or
 * TT_ENOMEM (out may hold a part), TT_EINVAL for 0 or more than
 * TT_JS_BATCH_MAX runs. */
int tt_js_batch_encode(tt_buf *out, size_t n, const char *const *run_ids, const tt_buf *payloads,
                       tt_err *err);

/* Publish njobs jobs (run_ids[i] and payloads[i]) to backtest.jobs.{run_id},
 * runs_per_job consecutive runs per message (a batch on the subject of its
 * first run id; a message of one run is its payload as is), then collect
 * completions from TT_RESULTS until every run id has one.
 * Each run id is counted once; later duplicates are ignored (and counted in
 * *duplicates, may be NULL). TT_ENET on connection trouble, TT_EPARTIAL when
 * the timeout passes with results missing (err names how many and the
 * first missing run id); the messages with unfinished runs are then purged
 * from the queue. Also TT_ENOMEM; TT_OK when every run has its result. */
int tt_js_sweep(tt_js *js, size_t njobs, const char *const *run_ids, const tt_buf *payloads,
                const tt_js_sweep_opts *opts, size_t *duplicates, tt_err *err);

/* ---- the worker side ---- */

/* Runs one job in the worker's runner process: fill result with the
 * completion payload (the run's summary JSON). A returned error is turned
 * into a "failed" summary by the worker. The runner is one child process
 * that runs job after job (forked again only after a run crashed it), so fn
 * may keep what it loaded in ctx for the next job: ctx is the runner's copy
 * of the caller's object, as it was when the runner was forked. */
typedef int (*tt_js_work_fn)(void *ctx, const char *run_id, const char *job, size_t len,
                             tt_buf *result, tt_err *err);

typedef struct tt_js_worker_opts {
    const char *worker_id;      /* in status messages; NULL = "host:pid" */
    uint64_t max_jobs;          /* stop after this many jobs; 0 = no limit */
    int64_t idle_exit_ms;       /* stop after this long without a job; 0 = never */
    volatile int *stop;         /* stop when *stop becomes non-zero (may be NULL) */
    unsigned progress_ms;       /* in-progress ack + progress message period; 0 = ack_wait/3 */
    /* A runner process is replaced after this many runs; 0 = kept until a
     * run crashes it (the default), 1 = a fresh process per run. */
    unsigned runs_per_process;
    /* When a job starts (delivery = how many times the server has handed it
     * out, 2+ after a redelivery) and after it is done (may be NULL). */
    void (*on_start)(void *ctx, const char *run_id, uint64_t delivery);
    void (*on_job)(void *ctx, const char *run_id, int status, uint64_t delivery);
    /* A job message refused without a run (may be NULL): what names it (its
     * subject's run id, escaped for a log) and why ("unsigned job", "bad
     * signature", "a subject that is not a run id"). */
    void (*on_refused)(void *ctx, const char *what, const char *why);
    /* A run still running after this long is killed: the run is reported
     * failed ("run timeout") and its message terminated, never redelivered.
     * 0 = no deadline. */
    int64_t run_timeout_ms;
    void *ctx;
} tt_js_worker_opts;

/* Pull job messages from the workers' consumer and run their runs one at a
 * time (a batch's runs one after the other, in order), each through fn in a
 * child process, the runner (one for many runs), so that a run that crashes
 * takes no other run with it: publish backtest.started.{run_id}, mark the
 * message in progress periodically while it runs (with
 * backtest.progress.{run_id}), publish the completion to
 * backtest.completed.{run_id} and wait for it to be stored; after the
 * message's last run, ack the message. The
 * round trips overlap the runs: a job's completion and ack are done while the
 * next job runs, and while a job runs the worker fetches the next one (when
 * the server said more were queued) and holds it, in progress, at most one
 * ahead; so "started" of job k+1 comes before "done" of job k. A held job is
 * given back (nak) when the worker stops, and redelivered after the ack wait
 * when it dies. A job whose run crashes is completed as "crashed" (a
 * deterministic crash would crash again on any worker). Returns when a stop
 * condition is met: 0, or TT_ENET when the connection is lost. A run that
 * fn refuses (TT_EPERM: not allowed; TT_EFORMAT: a job that does not
 * decode) or that passes run_timeout_ms is reported failed and its message
 * terminated (JetStream "term"): it would fail the same way anywhere, so it
 * never comes back. A worker that
 * stops in the middle of a batch gives the message back (nak) after the run
 * in progress; the runs it completed run again wherever the message goes, and
 * their results are duplicates. max_jobs and *done (may be NULL) count runs. */
int tt_js_worker(tt_js *js, tt_js_work_fn fn, void *fn_ctx, const tt_js_worker_opts *opts,
                 uint64_t *done, tt_err *err);

/* The run id of a subject "backtest.<x>.<run_id>" (points into subject; the
 * whole subject when it has no dot). Cannot fail. */
const char *tt_js_subject_run_id(const char *subject);

#endif
