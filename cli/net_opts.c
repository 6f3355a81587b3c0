/*
 * The shared options of the networked commands (see net_opts.h): which
 * command takes which group, the parsing, the checks, the help text.
 */
#include "net_opts.h"

#include <stdlib.h>
#include <string.h>

#include "sim/research.h"

enum { G_JOBS = 1, G_WORKER = 2 };

/* Which groups each command takes. */
static unsigned groups_of(const char *cmd)
{
    if (!strcmp(cmd, "worker"))
        return G_JOBS | G_WORKER;
    if (!strcmp(cmd, "sweep") || !strcmp(cmd, "walkforward"))
        return G_JOBS;
    return 0;
}

void tt_net_opts_init(tt_net_opts *o)
{
    memset(o, 0, sizeof *o);
}

/* A file argument: present and not empty. */
static int file_arg(const char *cmd, const tt_opt *op, const char **dst)
{
    if (!op->value || !*op->value)
        return tt_usage_error(cmd, "--%s needs a file", op->name);
    *dst = op->value;
    return 0;
}

int tt_net_opt(tt_net_opts *o, const char *cmd, const tt_opt *op)
{
    unsigned g = groups_of(cmd);
    if (!op->name)
        return -1;
    if ((g & G_JOBS) && tt_opt_is(op, "job-key"))
        return file_arg(cmd, op, &o->job_key_file);
    if ((g & G_WORKER) && tt_opt_is(op, "scenarios")) {
        if (!op->value || !*op->value)
            return tt_usage_error(cmd, "--scenarios needs a directory");
        if (o->nscenario_dirs == TT_NET_MAX_DIRS)
            return tt_usage_error(cmd, "at most %d --scenarios directories", TT_NET_MAX_DIRS);
        o->scenario_dirs[o->nscenario_dirs++] = op->value;
        return 0;
    }
    if ((g & G_WORKER) && tt_opt_is(op, "run-timeout")) {
        tt_err err;
        if (tt_duration_parse(op->value, &o->run_timeout, "--run-timeout", &err))
            return tt_usage_error(cmd, "%s", err.msg);
        return 0;
    }
    return -1;
}

int tt_net_opts_finish(tt_net_opts *o, const char *cmd)
{
    if (o->job_key_file) {
        tt_err err;
        if (tt_hmac_key_load(&o->job_key, o->job_key_file, &err))
            return tt_usage_error(cmd, "--job-key: %s", err.msg);
    }
    return 0;
}

void tt_net_usage(FILE *f, const char *cmd)
{
    unsigned g = groups_of(cmd);
    if (g & G_JOBS)
        fputs("\njob signing (docs/security.md):\n"
              "  --job-key F       sign jobs and check completions (sweep), check jobs and\n"
              "                    sign completions (worker) with the HMAC-SHA256 key in F\n"
              "                    (16+ bytes, mode 600); a worker with a key refuses\n"
              "                    unsigned jobs\n",
              f);
    if (g & G_WORKER)
        fputs("\nwhat a worker runs (docs/security.md):\n"
              "  --scenarios DIR   run only scenario files (*.yaml, *.yml) found in DIR,\n"
              "                    by content hash; repeatable (default: the current\n"
              "                    directory). A job names no file and sets only the\n"
              "                    parameters its scenario's sweep: section declares\n"
              "  --run-timeout DUR kill a run still running after DUR and terminate its job\n"
              "                    (default 10m)\n",
              f);
}

int tt_net_scenario_dirs(const tt_net_opts *o, const char *const **dirs)
{
    static const char *const here[] = {"."};
    if (o->nscenario_dirs == 0) {
        *dirs = here;
        return 1;
    }
    *dirs = o->scenario_dirs;
    return o->nscenario_dirs;
}

int64_t tt_net_run_timeout_ms(const tt_net_opts *o)
{
    return (o->run_timeout ? o->run_timeout : TT_NET_RUN_TIMEOUT) / TT_NS_PER_MS;
}
