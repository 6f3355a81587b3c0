/*
 * Command-line options as tables (after git's parse-options).
 *
 * Each command describes its arguments once, as an array of tt_opt rows in a
 * tt_cmd, and that one description drives the parsing, the validation (type,
 * range, required options, options that exclude each other), the --help text
 * (cli/help.c) and docs/cli.md (`ticktape help --markdown`, compared with the
 * committed file by a test), so the three can never disagree.
 *
 * A row names a long option and its one-letter alias if any, its kind, where
 * its value goes (an offset into the command's options struct, or a callback
 * for the rare custom value), the value's placeholder and one line of help;
 * the help adds the range, "repeatable" and the default from the row itself.
 * Positional arguments are rows too (TT_OPT_ARG, TT_OPT_ARGS). A table may
 * include another at an offset (TT_OPT_INCLUDE): options shared by several
 * commands (import settings, live reports, gates, research runs) are one table
 * over a struct embedded in each command's own.
 *
 * Syntax, as before the tables: --name VALUE, --name=VALUE, -name VALUE, and
 * -x VALUE for a one-letter alias. A value is taken verbatim, even when it
 * starts with '-'. An argument that starts with '-' and a digit is positional
 * (a negative number), and so is "-". -h or --help prints the help where it
 * is met. Errors are usage errors: "ticktape <cmd>: ..." on stderr and
 * TT_EXIT_USAGE (cli.h), naming the option and what it expects.
 */
#ifndef TT_OPTS_H
#define TT_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "core/error.h"

enum tt_opt_kind {
    TT_OPT_END = 0,  /* ends a table */
    TT_OPT_FLAG,     /* no value: the int at off = 1 (TT_OPT_NEGATE: 0) */
    TT_OPT_STRING,   /* const char * */
    TT_OPT_INT,      /* int: a whole number, k/M/G suffixes (tt_parse_u64) */
    TT_OPT_UINT,     /* uint64_t, the same syntax */
    TT_OPT_DOUBLE,   /* double */
    TT_OPT_DURATION, /* tt_ts: 45s, 90m, 12h, 30d, 2w (tt_duration_parse) */
    TT_OPT_TIME,     /* tt_ts: ISO 8601 or an integer with a unit (tt_ts_parse) */
    TT_OPT_TIMEFRAME, /* int: a bar timeframe, S1 .. MN1 or 1m, 1h ... (tt_timeframe_parse) */
    TT_OPT_ENUM,     /* int: one of values (stored: its index, or ivals[index]) */
    TT_OPT_LIST,     /* repeatable: const char *[max_count] at off, int count at count_off */
    TT_OPT_CUSTOM,   /* a value handed to set() */
    TT_OPT_ARG,      /* a positional argument: const char * */
    TT_OPT_ARGS,     /* positional arguments: as TT_OPT_LIST */
    TT_OPT_INCLUDE,  /* the rows of include, their offsets relative to off */
};

enum tt_opt_flag {
    TT_OPT_REQUIRED = 1u << 0, /* must be given */
    TT_OPT_NONEMPTY = 1u << 1, /* an empty value is an error */
    TT_OPT_NEGATE = 1u << 2,   /* FLAG: store 0 */
    TT_OPT_KEYVAL = 1u << 3,   /* the value must be KEY=VALUE */
    TT_OPT_DAY_END = 1u << 4,  /* TIME: a date alone (2019-02-04) means the end of that day */
    TT_OPT_MIN_OPEN = 1u << 5, /* DOUBLE: min itself is out of range */
    TT_OPT_NOCASE = 1u << 6,   /* ENUM: any letter case */
};

typedef struct tt_opt tt_opt;

/* A custom value: store it in opts (the struct the row's offsets are relative
 * to; tt_opt_field gives the row's field). 0, or a TT_E* code with err->msg
 * the usage error (without the "ticktape <cmd>: " prefix). */
typedef int (*tt_opt_set_fn)(void *opts, const tt_opt *o, const char *value, tt_err *err);

struct tt_opt {
    int kind;
    const char *name;           /* long name without dashes; NULL for positionals */
    char alias;                 /* one-letter alias (-o), 0 = none */
    size_t off;                 /* where the value goes in the options struct */
    const char *arg;            /* placeholder (DIR, N); NULL: one derived from the kind */
    const char *help;           /* one line (wrapped by the help) */
    const char *def;            /* default: parsed into the field before argv, and shown */
    const char *def_text;       /* default shown only (the library's, or a rule) */
    unsigned flags;             /* tt_opt_flag */
    double min, max;            /* INT, UINT, DOUBLE: the range, when min < max */
    const char *const *values;  /* ENUM: the allowed values, NULL-ended */
    const int *ivals;           /* ENUM: the number stored for each value (NULL: index) */
    size_t count_off;           /* LIST, ARGS: where the int count is */
    int max_count;              /* LIST, ARGS: capacity of the array */
    tt_opt_set_fn set;          /* CUSTOM */
    const tt_opt *include;      /* INCLUDE */
};

enum tt_opt_rule_kind {
    TT_RULE_END = 0,
    TT_RULE_ONE_OF,   /* exactly one of the options */
    TT_RULE_ANY_OF,   /* at least one */
    TT_RULE_EXCLUSIVE /* at most one */
};

/* A constraint between options, checked after parsing. */
typedef struct tt_opt_rule {
    int kind;
    const char *names[4]; /* long names, NULL-ended */
    const char *msg;      /* the usage error; NULL: a generated one */
} tt_opt_rule;

/* A command: its options and help; or a group of subcommands; or both
 * (`synth` runs itself unless the first word names a subcommand). */
typedef struct tt_cmd tt_cmd;
struct tt_cmd {
    const char *name;              /* full path as typed: "tape export" */
    const char *summary;           /* one line, for the parent's list */
    int (*run)(int argc, char **argv); /* argv[0] is the last word of name; NULL: a group */
    const tt_opt *opts;            /* NULL: none (a group) */
    size_t size;                   /* sizeof the options struct (table checks) */
    const tt_opt_rule *rules;      /* NULL or ended by TT_RULE_END */
    const char *about;             /* paragraphs after the usage line */
    const char *epilog;            /* notes after the options: exit codes */
    const char *(*more)(void);     /* help computed at run time (quality rules), or NULL */
    const tt_cmd *const *subs;     /* subcommands, NULL-ended; NULL: none */
};

/* tt_opts_parse's "parsed: run the command". */
enum { TT_OPTS_RUN = -1 };

#define TT_OPTS_MAX_SEEN 64

/* Which options were given (rows, at most TT_OPTS_MAX_SEEN distinct). */
typedef struct tt_opts_seen {
    const tt_opt *rows[TT_OPTS_MAX_SEEN];
    int n;
} tt_opts_seen;

/* Parse argv[1..argc) into opts (argv[0] is the command's word) after
 * applying the rows' defaults. Returns TT_OPTS_RUN when the command should
 * run; TT_EXIT_OK when it printed the help; TT_EXIT_USAGE after a usage
 * error on stderr. seen (may be NULL) receives the options given. */
int tt_opts_parse(const tt_cmd *cmd, void *opts, int argc, char **argv, tt_opts_seen *seen);

/* The row of a long option (or one-letter alias), NULL when none; base
 * receives its struct's offset (may be NULL). */
const tt_opt *tt_cmd_find(const tt_cmd *cmd, const char *name, size_t *base);

/* 1 when the option (long name) or positional (placeholder) was given. */
int tt_opts_given(const tt_opts_seen *seen, const char *name);

/* Every row of a table, included tables flattened: base receives the
 * offset of the struct the row's off is relative to. */
typedef struct tt_opt_iter {
    const tt_opt *at[4];
    size_t base[4];
    int depth;
} tt_opt_iter;
void tt_opt_iter_init(tt_opt_iter *it, const tt_opt *table);
const tt_opt *tt_opt_iter_next(tt_opt_iter *it, size_t *base);

/* The row's field in opts. */
static inline void *tt_opt_field(void *opts, const tt_opt *o)
{
    return (char *)opts + o->off;
}

/* Run a command with argv (argv[0] its word): a subcommand when argv[1]
 * names one, else its own run; a group without run prints its help (on
 * stdout for help, -h, --help; on stderr with TT_EXIT_USAGE when nothing or
 * an unknown word follows). Returns the exit code. */
int tt_cmd_run(const tt_cmd *cmd, int argc, char **argv);
/* The last word of cmd->name: what selects it in its group. */
const char *tt_cmd_word(const tt_cmd *cmd);

/* Table sanity: unique names and aliases, every default parses, offsets
 * inside size, each kind's fields present, rules name known options.
 * Recurses into subcommands. 0 or TT_EINVAL naming the row. */
int tt_cmd_check(const tt_cmd *cmd, tt_err *err);

/* ---- help (cli/help.c) ---- */

/* The whole --help text: usage line, description, arguments, options,
 * subcommands, notes. */
void tt_cmd_help(FILE *f, const tt_cmd *cmd);
/* One line: "ticktape <name> <positionals> <required options> [options]". */
void tt_cmd_synopsis(FILE *f, const tt_cmd *cmd);
/* The command (and its subcommands) as a docs/cli.md section; level is the
 * Markdown heading level of the command's title. */
void tt_cmd_markdown(FILE *f, const tt_cmd *cmd, int level);
/* docs/cli.md: a title, the list of commands, then each command. */
void tt_cmds_markdown(FILE *f, const tt_cmd *const *cmds);
/* The top-level list: "  name  summary" per command. */
void tt_cmds_list(FILE *f, const tt_cmd *const *cmds);

/* Shared with help.c: the placeholder of a row's value ("DIR", "csv|jsonl"). */
void tt_opt_placeholder(const tt_opt *o, char *buf, size_t n);
/* The range of a number: "1 to 64", "> 0", ">= 0.1"; "" without one. */
void tt_opt_range(const tt_opt *o, char *buf, size_t n);
/* The help line's tail: "(1 to 64; default: 4)", "" when there is nothing. */
void tt_opt_notes(const tt_opt *o, char *buf, size_t n);

#endif
