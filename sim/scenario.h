/*
 * ticktape: scenarios, one YAML file per run.
 *
 * A scenario says everything a run needs: the data (a tape and a time range,
 * or a synthetic market), the account, the venue model, the risk limits, the
 * strategy and its parameters, the metrics settings and the outputs; and, for
 * the research tools, sweep, walk-forward and gate settings. The full format,
 * with an example, is in docs/scenarios.md.
 *
 * Model. The YAML document is flattened into an ordered list of entries, one
 * per scalar, each named by its dotted path:
 *
 *     account: {currency: USD, balance: 10000}   ->  account.currency = USD
 *                                                    account.balance  = 10000
 *     data: {symbols: [EURUSD, GBPUSD]}          ->  data.symbols = EURUSD,GBPUSD
 *     synthetic: {corr: [[1, 0.5], [0.5, 1]]}    ->  ...corr = 1,0.5;0.5,1
 *     gates: [{metric: sharpe, min: 0.5}]        ->  gates.0.metric = sharpe
 *                                                    gates.0.min = 0.5
 *
 * (a list of scalars joins with ',', a list of such lists with ';', any other
 * list is numbered from 0). Every entry remembers the file and line it came
 * from. Each key is checked against the key table (sim/scenario_keys.c: one
 * row per key with its type, bounds or allowed words, default and meaning)
 * when it is read: an unknown key or a value of the wrong type is an error
 * that names the file, the line and the key ("eurusd.yaml:14:
 * venue.latency_ms: expected a number in [0, 3.6e+06], got 'fast'").
 * data.synthetic.* entries are checked by the synthetic market's key table
 * (sim/synth_config.h). Free-form sections are stored without checking their
 * keys: strategy.params.* (checked by the strategy when the run builds it;
 * its errors still name the file, line and key), sweep.*, walkforward.*,
 * gates.* and research.* (read by the research tools through
 * tt_scenario_find / tt_scenario_next).
 *
 * Overrides. tt_scenario_set("venue.latency_ms=10") replaces an entry (or adds
 * one), with the same checks; its errors name "--set" instead of a file line.
 *
 * Paths in a scenario file resolve against the file's directory; paths given
 * through tt_scenario_set resolve against the current directory.
 *
 * No global state; a tt_scenario owns copies of everything it holds.
 */
#ifndef TT_SCENARIO_H
#define TT_SCENARIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"
#include "../core/metrics.h"
#include "../core/parse.h"
#include "backtest.h"

typedef struct tt_scenario tt_scenario;

/* One flattened scalar. Strings are owned by the scenario. */
typedef struct tt_scenario_entry {
    const char *key;   /* dotted path: "venue.slippage.points" */
    const char *value; /* the scalar as written (lists joined, see above) */
    const char *file;  /* scenario file, or "--set" for an override */
    int line;          /* 1-based line in file; 0 for an override */
    int is_list;       /* 1 when the value came from a YAML list */
} tt_scenario_entry;

/* Read and check a scenario file into *out (free with tt_scenario_free).
 * On failure *out is NULL and the error names the file and line: YAML syntax,
 * a duplicate key or too many keys (TT_EFORMAT), an unknown key or a bad
 * value (TT_EINVAL), a file that cannot be read (TT_EIO), TT_ENOMEM. */
int tt_scenario_load(tt_scenario **out, const char *path, tt_err *err);

/* The same from text in memory; `name` is used in messages and as the file of
 * every entry, base_dir for relative paths (NULL = current directory).
 * Fails as tt_scenario_load does (but never TT_EIO), *out NULL. */
int tt_scenario_parse(tt_scenario **out, const char *text, size_t len, const char *name,
                      const char *base_dir, tt_err *err);

/* Free a scenario (NULL is allowed). */
void tt_scenario_free(tt_scenario *s);

/* Apply an override "key=value" (dotted key). The value is checked like one
 * from a file (a list may be written "a,b"). Returns TT_EINVAL naming "--set"
 * and the key on an unknown key, a bad value or a missing '=' (the scenario
 * is then unchanged), TT_ENOMEM. */
int tt_scenario_set(tt_scenario *s, const char *assignment, tt_err *err);

/* Check the scenario as a whole: the rules that tie keys together (exactly
 * one of data.tape and data.synthetic; a tape needs data.symbols; data.from
 * before data.to; a strategy name; at most one of venue.commission.per_lot
 * and .per_million, of risk.daily_loss and .daily_loss_pct). Returns
 * TT_EINVAL naming the file, line and key concerned. */
int tt_scenario_check(const tt_scenario *s, tt_err *err);

/* ---- reading entries ---- */

/* The number of entries; the i-th (NULL out of range); the entry of a key
 * (NULL if absent). */
size_t tt_scenario_count(const tt_scenario *s);
const tt_scenario_entry *tt_scenario_at(const tt_scenario *s, size_t i);
const tt_scenario_entry *tt_scenario_find(const tt_scenario *s, const char *key);

/* The value of key, or def when absent (cannot fail). */
const char *tt_scenario_get(const tt_scenario *s, const char *key, const char *def);

/* Iterate the entries under a section prefix ("strategy.params", "sweep"): start
 * with *pos = 0; returns the next entry whose key starts with "prefix." (in
 * file order), or NULL at the end. */
const tt_scenario_entry *tt_scenario_next(const tt_scenario *s, const char *prefix, size_t *pos);

/* Typed reads of entries, with the shared parsers of core/parse.h (values
 * were checked against the key table when read, so these fail only for a key
 * of another type). When the key is absent *out gets def and TT_OK is
 * returned; on a bad value *out holds def and TT_EINVAL names the file, line
 * and key. */
int tt_scenario_double(const tt_scenario *s, const char *key, double def, double *out, tt_err *err);
int tt_scenario_int(const tt_scenario *s, const char *key, int64_t def, int64_t *out, tt_err *err);
int tt_scenario_bool(const tt_scenario *s, const char *key, int def, int *out, tt_err *err);
int tt_scenario_ts(const tt_scenario *s, const char *key, tt_ts def, tt_ts *out, tt_err *err);
/* Money in minor units: a decimal ("10000", "10000.50") times minor_per_unit
 * (100 for cents), exact. TT_EINVAL naming file, line and key (*out holds
 * def) when it is not a number or finer than a minor unit. */
int tt_scenario_money(const tt_scenario *s, const char *key, tt_money def, int64_t minor_per_unit,
                      tt_money *out, tt_err *err);
/* A path value resolved as described above into buf; *buf = '\0' and TT_OK
 * when absent. TT_EINVAL naming file, line and key when it does not fit. */
int tt_scenario_path(const tt_scenario *s, const char *key, char *buf, size_t bufsize, tt_err *err);

/* The scenario's name (key `name`, else the file name without .yaml). Cannot
 * fail. */
const char *tt_scenario_name(const tt_scenario *s);
/* The file it was loaded from (or the name given to tt_scenario_parse).
 * Cannot fail. */
const char *tt_scenario_file(const tt_scenario *s);
/* Key `seed`, default 1 (cannot fail: the value was checked when read). */
uint64_t tt_scenario_seed(const tt_scenario *s);

/* Write the entries as "key: value" lines in file order (overrides in place
 * of what they replaced, new keys last). Stable bytes: used in reports.
 * Write errors are left to the caller (ferror(f)). */
void tt_scenario_write(const tt_scenario *s, FILE *f);

/* The same text in a malloc'd string (free() it); NULL on out of memory. */
char *tt_scenario_text(const tt_scenario *s);

/* Pass every entry under prefix ("data.synthetic") to fn, its key without
 * the prefix, in file order. Returns TT_OK, or fn's first failure with the
 * entry's file, line and key prefixed to err. */
int tt_scenario_each(const tt_scenario *s, const char *prefix,
                     int (*fn)(void *ctx, const char *key, const char *value, tt_err *err),
                     void *ctx, tt_err *err);

/* A deep copy (for runs that apply their own overrides); NULL on out of
 * memory. */
tt_scenario *tt_scenario_clone(const tt_scenario *s);

/* ---- from scenario to backtest ---- */

/* Where a run's outputs go and which ones (outputs.*; every kind on by default). */
typedef struct tt_scenario_outputs {
    char dir[4096]; /* outputs.dir resolved; "" when not given */
    int html, json, csv, hdf5;
} tt_scenario_outputs;

/* Everything one backtest of a scenario needs, ready for tt_backtest_run.
 * cfg points into this struct (strings, the synthetic source), so do not move
 * or copy it after tt_scenario_prepare. Single use: a synthetic source is
 * consumed by the run; prepare again for another run. */
typedef struct tt_scenario_run {
    tt_backtest_config cfg;       /* the backtest configuration */
    tt_metrics_opts metrics;      /* metrics.* */
    tt_scenario_outputs outputs;  /* outputs.* */
    tt_instruments *instruments;  /* owned: built-ins plus data.instruments */
    int64_t minor_per_unit;       /* of the account currency (100) */
    int synthetic;                /* 1 when the data is data.synthetic */
    tt_ts data_from, data_to;     /* the data range ([from, to); synthetic: its range) */
    /* storage cfg points into */
    char tape[4096];
    char strategy[512];
    char params[4096];
    char symbols[TT_BACKTEST_MAX_SYMBOLS][TT_SYMBOL_MAX];
    char external[TT_BACKTEST_MAX_EXTERNAL][TT_SYMBOL_MAX]; /* data.external */
    tt_source synth_source;
    void *synth;
    void *origins; /* owned: where each strategy parameter was written (cfg.param_origin) */
} tt_scenario_run;

/* Check the scenario (tt_scenario_check) and translate it into *run by the
 * key table (docs/scenarios.md says how each key maps): account, venue and
 * risk settings, the strategy and its parameters ("key=value" joined by
 * spaces, file order), the data (a tape query, or a synthetic source opened
 * here with the scenario seed unless data.synthetic.seed is given). Lots
 * become qty with the first traded symbol's volume step. cfg.param_origin
 * makes the strategy's parameter errors name the file, line and key
 * strategy.params.X. Returns TT_OK; or TT_EINVAL (a rule of
 * tt_scenario_check, a lot size that is not whole steps, an unknown symbol,
 * a bad synthetic configuration), TT_EIO or TT_EFORMAT (data.instruments),
 * TT_ENOMEM; every error names the file, line and key. On failure *run holds
 * nothing to release. */
int tt_scenario_prepare(const tt_scenario *s, tt_scenario_run *run, tt_err *err);

/* Release what prepare opened (instruments, an unused synthetic source, the
 * parameter origins). Cannot fail; releasing twice is harmless. */
void tt_scenario_release(tt_scenario_run *run);

/* Describe the known keys to f, one per line, "key  type  meaning (default)",
 * in table order, the synthetic market's keys under data.synthetic.*: the
 * `ticktape backtest --keys` listing. Write errors are left to the caller. */
void tt_scenario_schema_write(FILE *f);

/* The i-th key of the table (0, 1, ...) as documented (docs/scenarios.md is
 * checked against it by a test). Returns TT_OK, or TT_ENOTFOUND past the last
 * key (out untouched). */
int tt_scenario_key_describe(size_t i, tt_keydoc *out);

#endif
