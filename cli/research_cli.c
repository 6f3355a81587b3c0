/*
 * The options of the research runs, shared by sweep and walkforward: the
 * scenario and its overrides, where the runs go (a local pool of processes,
 * or `ticktape worker` processes through NATS JetStream), and the outputs.
 *
 * Both commands embed a tt_research_cli and include tt_research_opts in
 * their tables, so the two parse, check and document these options alike;
 * --runs-per-process is also the worker's (tt_opt_runs_per_process).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "live/jetstream.h"
#include "net_opts.h"
#include "sim/pool.h"

int tt_opt_runs_per_process(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    uint64_t n = 0;
    if (tt_parse_u64(value, &n) || n > 1000000000)
        return tt_err_set(err, TT_EINVAL, "--%s: expected a number (1 = a fresh process per "
                          "run, 0 = keep the process), got '%s'", o->name, value);
    *(unsigned *)tt_opt_field(opts, o) = n ? (unsigned)n : TT_POOL_KEEP;
    return TT_OK;
}

/* --runs-per-job K|auto: K, or UINT64_MAX for auto. */
static int opt_runs_per_job(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    uint64_t *out = tt_opt_field(opts, o);
    if (!strcmp(value, "auto")) {
        *out = UINT64_MAX;
        return TT_OK;
    }
    if (tt_parse_u64(value, out) || *out == 0 || *out > TT_JS_BATCH_MAX)
        return tt_err_set(err, TT_EINVAL, "--%s: expected a number from 1 to %d, or auto, "
                          "got '%s'", o->name, TT_JS_BATCH_MAX, value);
    return TT_OK;
}

size_t tt_runs_per_job(uint64_t chosen, size_t nruns)
{
    return chosen == UINT64_MAX ? tt_js_runs_per_job_auto(nruns) : chosen ? (size_t)chosen : 1;
}

#define F(field) offsetof(tt_research_cli, field)

const tt_opt tt_research_opts[] = {
    {TT_OPT_ARG, .arg = "SCENARIO", .off = F(scenario), .flags = TT_OPT_REQUIRED,
     .help = "the scenario file, with a sweep: section (docs/research.md)"},
    {TT_OPT_UINT, "jobs", .off = F(jobs), .arg = "N", .min = 1, .max = 4096, .def = "1",
     .help = "local runs at a time, each in its own process"},
    {TT_OPT_CUSTOM, "runs-per-process", .off = F(runs_per_process), .arg = "N",
     .set = tt_opt_runs_per_process, .def_text = "0",
     .help = "local runs: N runs per process, advanced together in one pass over the data, "
             "which is read and decoded once for them (0: each process's whole share; 1: a "
             "fresh process per run, the strongest isolation); a process that crashes has "
             "its runs run again one per process"},
    {TT_OPT_LIST, "set", .off = F(sets), .count_off = F(nsets),
     .max_count = TT_RESEARCH_MAX_SETS, .arg = "KEY=VALUE", .flags = TT_OPT_KEYVAL,
     .help = "override a scenario key before the runs (local runs only: a job sent to "
             "workers sets only the sweep's parameters, docs/security.md)"},
    {TT_OPT_STRING, "out", .off = F(out), .arg = "DIR", .flags = TT_OPT_NONEMPTY,
     .def_text = "out/<scenario name>-<command>", .help = "where the table and reports go"},
    {TT_OPT_STRING, "nats", .off = F(nats), .arg = "URL", .flags = TT_OPT_NONEMPTY,
     .help = "run on `ticktape worker` processes through NATS JetStream instead of locally "
             "(nats://host:port)"},
    {TT_OPT_DURATION, "ack-wait", .off = F(ack_wait), .arg = "DUR", .def_text = "30s",
     .help = "with --nats: redeliver a job whose worker went silent for this long (s, m, h)"},
    {TT_OPT_DURATION, "timeout", .off = F(timeout), .arg = "DUR", .def_text = "10m",
     .help = "with --nats: give up after this long without a new result"},
    {TT_OPT_CUSTOM, "runs-per-job", .off = F(runs_per_job), .arg = "K|auto",
     .set = opt_runs_per_job, .def_text = "1",
     .help = "with --nats: K runs per job message, run one after the other by one worker "
             "(auto: runs/16, from 1 to 8)"},
    {TT_OPT_FLAG, "json", .off = F(json),
     .help = "print the result as one JSON object on the last line of stdout"},
    {TT_OPT_FLAG, "quiet", .off = F(quiet),
     .help = "print nothing but errors (and the JSON line with --json)"},
    {TT_OPT_FLAG, "no-reports", .off = F(no_reports), .help = "write no files"},
    {TT_OPT_INCLUDE, .include = tt_net_nats_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_net_job_opts, .off = F(net)},
    {TT_OPT_END},
};

int tt_research_check(tt_research_cli *o, const char *cmd)
{
    if (o->nats && o->nsets) /* a job sets only the sweep's parameters (docs/security.md) */
        return tt_usage_error(cmd, "--set does not travel to workers: with --nats, put it in "
                                   "the scenario file");
    return tt_net_check(&o->net, cmd);
}
