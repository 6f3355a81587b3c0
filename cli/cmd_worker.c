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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "live/jetstream.h"
#include "live/job_runner.h"
#include "net_opts.h"
#include "sim/pool.h"
#include "sim/research.h"
#include "sim/scenario.h"
#include "sim/sweep.h"

static const char *const FLAGS[] = {"quiet", "help", "h", NULL};

static void usage(FILE *f)
{
    fputs("usage: ticktape worker --nats URL [options]\n\n"
          "Run sweep jobs published by `ticktape sweep SCENARIO --nats URL` (a JetStream\n"
          "work queue; docs/research.md). Start as many workers as you like, on as many\n"
          "machines; each needs copies of the scenario files (in --scenarios DIR) and\n"
          "their data.\n\n"
          "options:\n"
          "  --nats URL        the NATS server (nats://host:port), JetStream enabled\n"
          "  --max-jobs N      stop after N runs (default: no limit); a job message of\n"
          "                    several runs left unfinished is given back to the queue\n"
          "  --idle-exit DUR   stop after this long without a job (e.g. 30s; default never)\n"
          "  --ack-wait DUR    ack wait if this worker creates the queue (default 30s)\n"
          "  --runs-per-process N\n"
          "                    replace the runner process after N runs (default 0: keep\n"
          "                    it until a run crashes it; 1: a fresh process per run)\n"
          "  --quiet           no line per run\n"
          "  --help            this text\n\n"
          "Stops after the current run on SIGINT or SIGTERM (giving back the rest of its\n"
          "job message, if any).\n"
          "exit codes: 0 stopped, 1 NATS failure, 2 usage error\n",
          f);
    tt_net_usage(f, "worker");
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

/* One line per job event, flushed at once: scripts and tests follow them. */
static void on_start(void *ctx, const char *run_id, uint64_t delivery)
{
    if (!*(int *)ctx) {
        printf("started %s delivery=%llu\n", run_id, (unsigned long long)delivery);
        fflush(stdout);
    }
}

static void on_job(void *ctx, const char *run_id, int status, uint64_t delivery)
{
    if (!*(int *)ctx) {
        printf("done %s %s delivery=%llu\n", run_id, tt_run_status_name(status),
               (unsigned long long)delivery);
        fflush(stdout);
    }
}

/* Always logged, even with --quiet: somebody is publishing jobs they should not. */
static void on_refused(void *ctx, const char *what, const char *why)
{
    (void)ctx;
    fprintf(stderr, "ticktape worker: refused job message %s: %s\n", what, why);
}

int tt_cmd_worker(int argc, char **argv)
{
    const char *url = NULL;
    uint64_t max_jobs = 0;
    unsigned per_process = 0;
    tt_ts idle = 0, ack_wait = 0;
    int quiet = 0, bad;
    tt_net_opts net;
    tt_net_opts_init(&net);
    tt_opt op;
    tt_opt_init(&op, argc, argv);
    tt_err err;
    while (tt_opt_next(&op, FLAGS)) {
        if ((bad = tt_net_opt(&net, "worker", &op)) >= 0) {
            if (bad)
                return bad;
        } else if (tt_opt_is(&op, "help") || tt_opt_is(&op, "h")) {
            usage(stdout);
            return TT_EXIT_OK;
        } else if (tt_opt_is(&op, "nats")) {
            if (!op.value || !*op.value)
                return tt_usage_error("worker", "--nats needs a URL");
            url = op.value;
        } else if (tt_opt_is(&op, "max-jobs")) {
            if (!op.value || tt_parse_u64(op.value, &max_jobs))
                return tt_usage_error("worker", "--max-jobs needs a number");
        } else if (tt_opt_is(&op, "runs-per-process")) {
            int bad = tt_parse_runs_per_process("worker", op.value, &per_process);
            if (bad)
                return bad;
        } else if (tt_opt_is(&op, "idle-exit") || tt_opt_is(&op, "ack-wait")) {
            tt_ts *dst = tt_opt_is(&op, "idle-exit") ? &idle : &ack_wait;
            if (tt_duration_parse(op.value, dst, tt_opt_is(&op, "idle-exit") ? "--idle-exit"
                                                                             : "--ack-wait", &err))
                return tt_usage_error("worker", "%s", err.msg);
        } else if (tt_opt_is(&op, "quiet")) {
            quiet = 1;
        } else if (!op.name) {
            return tt_usage_error("worker", "unexpected argument '%s'", op.value);
        } else {
            return tt_usage_error("worker", "unknown option --%s", op.name);
        }
    }
    if (!url)
        return tt_usage_error("worker", "--nats URL is required");
    if ((bad = tt_net_opts_finish(&net, "worker")) != 0)
        return bad;
    const char *const *dirs;
    int ndirs = tt_net_scenario_dirs(&net, &dirs);
    tt_job_runner *runner;
    if (tt_job_runner_new(&runner, dirs, (size_t)ndirs, &err))
        return tt_usage_error("worker", "%s", err.msg);
    if (!quiet)
        fprintf(stderr, "ticktape worker: %zu scenario file(s) in %d director%s\n",
                tt_job_runner_count(runner), ndirs, ndirs == 1 ? "y" : "ies");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    tt_js *js;
    tt_js_opts jo = {url, ack_wait / TT_NS_PER_MS, 0, "ticktape-worker", &net.job_key,
                     tt_net_nats(&net)};
    if (tt_js_connect(&js, &jo, &err)) {
        tt_job_runner_free(runner);
        return tt_report_error(&err);
    }
    tt_js_worker_opts wo = {.max_jobs = max_jobs, .idle_exit_ms = idle / TT_NS_PER_MS,
                            .stop = &stop_flag, .on_start = on_start, .on_job = on_job,
                            .runs_per_process = per_process == TT_POOL_KEEP ? 0 : per_process,
                            .on_refused = on_refused,
                            .run_timeout_ms = tt_net_run_timeout_ms(&net), .ctx = &quiet};
    uint64_t done = 0;
    int rc = tt_js_worker(js, work, runner, &wo, &done, &err);
    tt_js_close(js);
    tt_job_runner_free(runner);
    if (rc)
        return tt_report_error(&err);
    if (!quiet)
        fprintf(stderr, "ticktape worker: %llu run(s) done\n", (unsigned long long)done);
    return TT_EXIT_OK;
}
