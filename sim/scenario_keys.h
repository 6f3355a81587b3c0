/*
 * ticktape: the scenario key table (internal to sim/: the scenario reader in
 * scenario.c, the table in scenario_keys.c, prepare in scenario_run.c).
 *
 * One row per key, as Redis binds each option in config.c's static_configs[]:
 * the dotted key, its type, bounds or allowed words, the field of
 * tt_scenario_run it fills (offsetof, or a setter for the keys that need
 * more than a parse and a store), its default and a one-line meaning. The
 * same rows check every value as it is read (file or --set), apply the
 * scenario in tt_scenario_prepare, print `ticktape backtest --keys`, and are
 * compared with docs/scenarios.md by tests/sim/test_scenario_docs.c.
 *
 * A key ending in ".*" is a section: its entries are free-form (read by the
 * research tools or the strategy), or checked by the row's `check_sub`
 * (data.synthetic.*: the synthetic market's own key table).
 *
 * Rows are applied in table order, so a row may rely on the rows above it
 * (the data rows come before the lot sizes that need the first symbol's
 * volume step). Rules that tie several keys together stay code:
 * tt_scenario_check.
 */
#ifndef TT_SCENARIO_KEYS_H
#define TT_SCENARIO_KEYS_H

#include <stddef.h>

#include "../core/error.h"
#include "../core/parse.h"
#include "scenario.h"

enum tt_scenario_key_type {
    TT_SK_STR = 1, /* any non-empty text */
    TT_SK_CURRENCY, /* three capital letters */
    TT_SK_UINT,    /* whole number >= min */
    TT_SK_INT,     /* integer within the bounds */
    TT_SK_DOUBLE,  /* number within the bounds */
    TT_SK_BOOL,    /* tt_parse_bool */
    TT_SK_TS,      /* tt_parse_ts */
    TT_SK_PATH,    /* a path, resolved against the scenario's directory */
    TT_SK_LIST,    /* a list of words */
    TT_SK_ENUM,    /* one of `values` */
    TT_SK_MONEY,   /* a positive amount with at most 2 decimals */
    TT_SK_TF,      /* a timeframe (M1, H1, ...) */
    TT_SK_SECTION  /* "prefix.*": entries under it */
};

/* The state of one tt_scenario_prepare, for the setters. */
typedef struct tt_scenario_prep {
    const tt_scenario *s;
    tt_scenario_run *run;
    double step; /* volume step of the first traded symbol (set by the data rows) */
} tt_scenario_prep;

typedef struct tt_scenario_key tt_scenario_key;

/* A setter: fill the row's field from value (the entry's, or the row's
 * default when e is NULL). Returns 0 or a negative TT_E* with an error
 * naming e's file, line and key. */
typedef int (*tt_scenario_setter)(tt_scenario_prep *p, const tt_scenario_key *k,
                                    const tt_scenario_entry *e, const char *value, tt_err *err);

struct tt_scenario_key {
    const char *key;
    int type;                    /* enum tt_scenario_key_type */
    double min, max;             /* numbers: inclusive bounds (has_max 0: no upper bound) */
    int has_max, min_open;       /* min_open: min itself is excluded */
    const tt_enum_value *values; /* TT_SK_ENUM */
    size_t off, size;            /* the field of tt_scenario_run (size 0: none) */
    tt_scenario_setter set;      /* NULL: parse by type and store at off */
    /* TT_SK_SECTION: check one entry (key without the prefix); NULL = free-form */
    int (*check_sub)(const char *key, const char *value, tt_err *err);
    const char *def;             /* default applied when the key is absent (NULL: none) */
    const char *defdoc;          /* the documented default when def is NULL */
    const char *help;
};

/* The rows, in table order; NULL past the end. The three lookups below cannot
 * fail. */
const tt_scenario_key *tt_scenario_key_at(size_t i);

/* The row of a key: an exact match, or the section it falls in. NULL when
 * none. */
const tt_scenario_key *tt_scenario_key_find(const char *key);

/* 1 when some key of the table starts with "prefix." (a YAML value there
 * should have been a mapping), else 0. */
int tt_scenario_key_is_section(const char *prefix);

/* Check one value of key as read from file:line (line 0: a --set override).
 * Returns 0, or TT_EINVAL with "file:line: key: <what is wrong>" (an unknown
 * key lists the keys known at that level). */
int tt_scenario_key_check(const char *key, const char *value, const char *file, int line,
                          tt_err *err);

/* Parse value by the row's type and store it in run at the row's field.
 * Returns 0 or TT_EINVAL naming the key (the value was checked when read, so
 * only a bad default in the table could fail, or a row of a type that has no
 * field to store). */
int tt_scenario_key_store(const tt_scenario_key *k, tt_scenario_run *run, const char *value,
                          tt_err *err);

/* An exact decimal amount ("123.45") times scale (100: cents) into *out.
 * Returns TT_EINVAL when it is not a number, finer than 1/scale, or too
 * large for int64 (*out untouched). */
int tt_scenario_money_parse(const char *text, int64_t scale, int64_t *out);

/* Fill err with "file:line: key: msg" (line 0: "file key: msg") and return
 * code. Cannot fail. */
int tt_scenario_err_at(tt_err *err, int code, const char *file, int line, const char *key,
                       const char *msg);

/* The same for an entry, or "key: msg" for a row's default (e NULL). */
int tt_scenario_err_entry(tt_err *err, int code, const tt_scenario_entry *e, const char *key,
                          const char *msg);

/* The data rows' setters (scenario_run.c): a tape with its symbols and range,
 * or a synthetic market. TT_OK, or TT_EINVAL naming the entry (a bad symbol
 * list or range, a bad synthetic key), TT_ENOTFOUND for a symbol unknown to the
 * instruments, or tt_synth_source_open's error prefixed with the section. */
int tt_scenario_data_tape(tt_scenario_prep *p, const tt_scenario_key *k,
                          const tt_scenario_entry *e, const char *value, tt_err *err);
int tt_scenario_data_synthetic(tt_scenario_prep *p, const tt_scenario_key *k,
                               const tt_scenario_entry *e, const char *value, tt_err *err);

#endif
