/*
 * ticktape worker --nats URL [--max-jobs N] [--idle-exit DUR]
 *
 * How this works: the worker binds to the JetStream work queue of
 * distributed sweeps (live/jetstream.h) and runs one job at a time, holding
 * at most one more that it fetched while the current one ran. Each job
 * names its scenario by the SHA-256 of the file's bytes and carries the run's
 * parameters (sim/sweep.h); the worker runs only scenario files found in its
 * --scenarios directories and only the parameters their sweep: sections
 * declare (live/job_runner.h, docs/security.md). The job
 * runs in a runner process (so a crash loses one run, not the worker) through
 * the same scenario runner as a local sweep, and its summary is published on
 * backtest.completed.{run_id}; the worker publishes backtest.started and
 * backtest.progress too, and keeps the job alive with "in progress" acks
 * while it runs. A worker killed mid-job never acks: JetStream hands the job
 * to another worker after the ack wait. A job message may carry several runs
 * (sweep --runs-per-job): they run one after the other, each with its own
 * started/completed messages, and the message is
 * acked after the last.
 *
 * Workers need a copy of the scenario file (any path, same bytes) and the
 * data it names; a job whose scenario is not among them fails with "unknown
 * scenario". A run past --run-timeout is killed and its job terminated.
 *
 * Stops on SIGINT/SIGTERM (after the current run), after --max-jobs runs, or
 * after --idle-exit without a job. Exit codes: 0 stopped cleanly, 1 NATS
 * failure, 2 usage error.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "live/jetstream.h"
#include "live/status_http.h"
#include "live/job_runner.h"
#include "sim/pool.h"
#include "sim/research.h"
#include "sim/scenario.h"
#include "sim/sweep.h"

typedef struct worker_opts {
    const char *url;
    uint64_t max_jobs;
    tt_ts idle, ack_wait;
    unsigned per_process; /* 0 = not given: keep */
    int quiet;
    const char *scenario_dirs[16]; /* --scenarios DIR; none: the current directory */
    int nscenario_dirs;
    tt_ts run_timeout;
    tt_net_cli net; /* NATS authentication and TLS, --job-key (net_opts.c) */
    tt_ops_cli ops; /* --http, --notify ... (cli/ops_cli.c) */
} worker_opts;

#define F(field) offsetof(worker_opts, field)

static const tt_opt WORKER_OPTS[] = {
    {TT_OPT_STRING, "nats", .off = F(url), .arg = "URL", .flags = TT_OPT_REQUIRED | TT_OPT_NONEMPTY,
     .help = "the NATS server (nats://host:port), JetStream enabled"},
    {TT_OPT_UINT, "max-jobs", .off = F(max_jobs), .arg = "N", .def_text = "no limit",
     .help = "stop after N runs; a job message of several runs left unfinished is given back "
             "to the queue"},
    {TT_OPT_DURATION, "idle-exit", .off = F(idle), .arg = "DUR", .def_text = "never",
     .help = "stop after this long without a job (e.g. 30s)"},
    {TT_OPT_DURATION, "ack-wait", .off = F(ack_wait), .arg = "DUR", .def_text = "30s",
     .help = "ack wait if this worker creates the queue"},
    {TT_OPT_CUSTOM, "runs-per-process", .off = F(per_process), .arg = "N",
     .set = tt_opt_runs_per_process, .def_text = "0",
     .help = "replace the runner process after N runs (0: keep it until a run crashes it; "
             "1: a fresh process per run)"},
    {TT_OPT_FLAG, "quiet", .off = F(quiet), .help = "no line per run"},
    {TT_OPT_LIST, "scenarios", .off = F(scenario_dirs), .count_off = F(nscenario_dirs),
     .max_count = 16, .arg = "DIR", .flags = TT_OPT_NONEMPTY, .def_text = "the current directory",
     .help = "run only scenario files (*.yaml, *.yml) found in DIR, by content hash; "
             "repeatable. A job names no file and sets only the parameters its scenario's "
             "sweep: section declares (docs/security.md)"},
    {TT_OPT_DURATION, "run-timeout", .off = F(run_timeout), .arg = "DUR",
     .def = TT_NET_RUN_TIMEOUT_TEXT,
     .help = "kill a run still running after DUR and terminate its job"},
    {TT_OPT_INCLUDE, .include = tt_net_job_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_net_nats_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_ops_opts, .off = F(ops)},
    {TT_OPT_END},
};

static int run_worker(int argc, char **argv);

const tt_cmd tt_command_worker = {
    .name = "worker",
    .summary = "run sweep jobs from a NATS JetStream work queue",
    .run = run_worker,
    .opts = WORKER_OPTS,
    .size = sizeof(worker_opts),
    .about = "Run sweep jobs published by `ticktape sweep SCENARIO --nats URL` (a JetStream\n"
             "work queue; docs/research.md). Start as many workers as you like, on as many\n"
             "machines; each needs copies of the scenario files (in --scenarios DIR) and\n"
             "their data.\n",
    .epilog = "Stops after the current run on SIGINT or SIGTERM (giving back the rest of its\n"
              "job message, if any).\n\n"
              "exit codes: 0 stopped, 1 NATS failure, 2 usage error\n",
};

static void log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ticktape worker: %s\n", line);
}

/* Set by the signal handler; read by the worker loop between fetches. */
static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Runs in the worker's runner process (live/jetstream.c): the job runner
 * keeps the scenario it loaded for the next job of the same sweep. */
static int work(void *ctx, const char *run_id, const char *data, size_t len, tt_buf *result,
                tt_err *err)
{
    return tt_job_runner_run(ctx, run_id, data, len, result, err);
}

/* What the job callbacks and the status server share: counters written on
 * the worker's thread, read on the server's. */
typedef struct worker_ctx {
    int quiet;
    tt_ops *ops;
    atomic_ullong started, ok, failed, crashed;
    atomic_int busy;
} worker_ctx;

/* One line per job event, flushed at once: scripts and tests follow them. */
static void on_start(void *ctx, const char *run_id, uint64_t delivery)
{
    worker_ctx *w = ctx;
    atomic_fetch_add(&w->started, 1);
    atomic_store(&w->busy, 1);
    if (!w->quiet) {
        printf("started %s delivery=%llu\n", run_id, (unsigned long long)delivery);
        fflush(stdout);
    }
}

static void on_job(void *ctx, const char *run_id, int status, uint64_t delivery)
{
    worker_ctx *w = ctx;
    atomic_fetch_add(status == TT_RUN_OK ? &w->ok : status == TT_RUN_CRASHED ? &w->crashed
                                                                             : &w->failed, 1);
    atomic_store(&w->busy, 0);
    char json[160];
    snprintf(json, sizeof json, "{\"run_id\":\"%s\",\"status\":\"%s\"}", run_id,
             tt_run_status_name(status));
    tt_ops_event(w->ops, status == TT_RUN_OK ? "backtest.completed" : "backtest.failed", json);
    if (!w->quiet) {
        printf("done %s %s delivery=%llu\n", run_id, tt_run_status_name(status),
               (unsigned long long)delivery);
        fflush(stdout);
    }
}

static void worker_info(void *ctx, tt_status_info *in)
{
    worker_ctx *w = ctx;
    static const tt_ops_metric M[] = {
        {"ticktape_worker_runs_started_total", "Runs this worker started.", 1},
        {"ticktape_worker_runs_ok_total", "Runs that completed.", 1},
        {"ticktape_worker_runs_failed_total", "Runs that returned an error.", 1},
        {"ticktape_worker_runs_crashed_total", "Runs whose runner process died.", 1},
        {"ticktape_worker_busy", "1 while a run is in progress.", 0}};
    double v[] = {(double)atomic_load(&w->started), (double)atomic_load(&w->ok),
                  (double)atomic_load(&w->failed), (double)atomic_load(&w->crashed),
                  (double)atomic_load(&w->busy)};
    tt_ops_info_metrics(in, M, v, 5);
}

/* Always logged, even with --quiet: somebody is publishing jobs they should not. */
static void on_refused(void *ctx, const char *what, const char *why)
{
    (void)ctx;
    fprintf(stderr, "ticktape worker: refused job message %s: %s\n", what, why);
}

static int run_worker(int argc, char **argv)
{
    worker_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&tt_command_worker, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    if ((rc = tt_net_check(&o.net, "worker")) != 0)
        return rc;
    tt_err err;
    if ((rc = tt_ops_check(&o.ops, "worker")) != TT_EXIT_OK)
        return rc;
    static const char *const here[] = {"."};
    const char *const *dirs = o.nscenario_dirs ? o.scenario_dirs : here;
    size_t ndirs = o.nscenario_dirs ? (size_t)o.nscenario_dirs : 1;
    tt_job_runner *runner;
    if (tt_job_runner_new(&runner, dirs, ndirs, &err))
        return tt_usage_error("worker", "%s", err.msg);
    if (!o.quiet)
        fprintf(stderr, "ticktape worker: %zu scenario file(s) in %zu director%s\n",
                tt_job_runner_count(runner), ndirs, ndirs == 1 ? "y" : "ies");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    static worker_ctx wc; /* the server's threads read it until tt_ops_close */
    wc.quiet = o.quiet;
    tt_ops_hooks hooks = {.info = worker_info, .log = log_stderr, .ctx = &wc};
    if (tt_ops_open(&wc.ops, &o.ops, "worker", NULL, log_stderr, &err) ||
        tt_ops_serve(wc.ops, &hooks, &err)) {
        tt_ops_close(wc.ops);
        tt_job_runner_free(runner);
        return tt_report_error(&err);
    }
    tt_js *js;
    tt_js_opts jo = {o.url, o.ack_wait / TT_NS_PER_MS, 0, "ticktape-worker", &o.net.job_key,
                     tt_net_nats(&o.net)};
    if (tt_js_connect(&js, &jo, &err)) {
        tt_job_runner_free(runner);
        tt_ops_close(wc.ops);
        return tt_report_error(&err);
    }
    tt_js_worker_opts wo = {.max_jobs = o.max_jobs, .idle_exit_ms = o.idle / TT_NS_PER_MS,
                            .stop = &stop_flag, .on_start = on_start, .on_job = on_job,
                            .runs_per_process =
                                o.per_process == TT_POOL_KEEP ? 0 : o.per_process,
                            .on_refused = on_refused,
                            .run_timeout_ms = o.run_timeout / TT_NS_PER_MS, .ctx = &wc};
    uint64_t done = 0;
    rc = tt_js_worker(js, work, runner, &wo, &done, &err);
    tt_js_close(js);
    tt_job_runner_free(runner);
    tt_ops_close(wc.ops);
    if (rc)
        return tt_report_error(&err);
    if (!o.quiet)
        fprintf(stderr, "ticktape worker: %llu run(s) done\n", (unsigned long long)done);
    return TT_EXIT_OK;
}
