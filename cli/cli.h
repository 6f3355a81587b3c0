/*
 * ticktape command line: shared helpers for subcommands.
 *
 * Each command lives in cli/cmd_<name>.c and exports its description,
 * tt_command_<name> (cli/commands.h): the option table that parses its
 * arguments and writes its --help and docs/cli.md (cli/opts.h), and the
 * function that runs it. cli/main.c lists the commands. Exit codes are the TT_EXIT_* names below, never numbers:
 * 0 success, 1 failure, 2 usage error, 3 partial success (e.g. an import
 * that completed with errors), 4 a gate failed.
 */
#ifndef TT_CLI_H
#define TT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/event.h"

enum { TT_EXIT_OK = 0, TT_EXIT_FAIL = 1, TT_EXIT_USAGE = 2, TT_EXIT_PARTIAL = 3,
       TT_EXIT_GATE = 4 };

/* Options are parsed from tables: cli/opts.h. */

/* Print "ticktape <cmd>: <msg>" to stderr and return TT_EXIT_USAGE. */
int tt_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "ticktape: error: <err->msg>" to stderr; returns TT_EXIT_FAIL. */
int tt_report_error(const tt_err *err);
/* Parse a whole number (with optional k/M/G suffix); -1 when s is not one. */
int tt_parse_u64(const char *s, uint64_t *out);
/* "help", "-h" or "--help". */
int tt_is_help(const char *arg);

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

/* Time format options shared by export commands: --time-format takes one of
 * tt_time_format_names (NULL-ended), whose index is the tt_time_format. */
enum tt_time_format { TT_TIME_ISO = 0, TT_TIME_EPOCH_MS = 1, TT_TIME_EPOCH_NS = 2 };
extern const char *const tt_time_format_names[];
void tt_time_format_write(FILE *f, tt_ts ts, int fmt);

#endif
