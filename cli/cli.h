/*
 * ticktape command line: shared helpers for subcommands.
 *
 * Each subcommand lives in cli/cmd_<name>.c and exports
 *     int tt_cmd_<name>(int argc, char **argv);
 * (argv[0] is the subcommand name). It is registered in the table in
 * cli/main.c. Exit codes: 0 success, 1 failure, 2 usage error, 3 partial
 * success (e.g. an import that completed with errors), 4 gate failed.
 */
#ifndef TT_CLI_H
#define TT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/event.h"

enum { TT_EXIT_OK = 0, TT_EXIT_FAIL = 1, TT_EXIT_USAGE = 2, TT_EXIT_PARTIAL = 3,
       TT_EXIT_GATE = 4 };

/* Minimal long-option scanner: tt_opt_init, then tt_opt_next until it returns 0.
 * Options look like --name VALUE, --name=VALUE or --flag; anything else is a
 * positional argument, returned with name == NULL. */
typedef struct tt_opt {
    int argc, i;
    char **argv;
    const char *name;  /* option name without dashes, or NULL for a positional */
    const char *value; /* value (NULL for a flag) */
    char buf[128];
} tt_opt;

void tt_opt_init(tt_opt *o, int argc, char **argv);
/* flags: NULL-terminated list of option names that take no value. */
int tt_opt_next(tt_opt *o, const char *const *flags);
int tt_opt_is(const tt_opt *o, const char *name);
/* Print "ticktape <cmd>: <msg>" to stderr and return TT_EXIT_USAGE. */
int tt_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "ticktape: error: <err->msg>" to stderr; returns TT_EXIT_FAIL. */
int tt_report_error(const tt_err *err);
/* Parse a whole number (with optional k/M/G suffix) or fail with a usage error. */
int tt_parse_u64(const char *s, uint64_t *out);
int tt_is_help(const char *arg);
/* --runs-per-process N of sweep, walkforward and worker: N runs per runner
 * process, 0 = keep it until a run crashes it (*out = TT_POOL_KEEP, see
 * sim/pool.h). 0 or a usage error for cmd. */
int tt_parse_runs_per_process(const char *cmd, const char *value, unsigned *out);
/* --runs-per-job K|auto of sweep and walkforward (with --nats): *out = K, or
 * UINT64_MAX for auto. 0 or a usage error for cmd. */
int tt_parse_runs_per_job(const char *cmd, const char *value, uint64_t *out);
/* Runs per job message for nruns runs: what --runs-per-job chose (0 = not
 * given: 1; UINT64_MAX = auto, tt_js_runs_per_job_auto). */
size_t tt_runs_per_job(uint64_t chosen, size_t nruns);

/* Progress bar on stderr, shown only when stderr is a terminal. */
typedef struct tt_progress {
    int enabled;
    const char *label;
    uint64_t total, done;
    double start, last;
} tt_progress;
void tt_progress_start(tt_progress *p, const char *label, uint64_t total);
void tt_progress_update(tt_progress *p, uint64_t done);
void tt_progress_finish(tt_progress *p);
double tt_wall_seconds(void); /* monotonic seconds (CLI only: the core never reads clocks) */

/* Time format options shared by export commands. */
enum tt_time_format { TT_TIME_ISO = 0, TT_TIME_EPOCH_MS = 1, TT_TIME_EPOCH_NS = 2 };
int tt_time_format_parse(const char *s); /* -1 when unknown */
void tt_time_format_write(FILE *f, tt_ts ts, int fmt);

#endif
