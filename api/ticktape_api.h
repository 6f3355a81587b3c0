/*
 * ticktape: the flat C API of libticktape, for Python (ctypes) and other FFIs.
 *
 * Why. A foreign-function caller cannot use inline helpers, unions, or
 * structs whose layout changes with the engine's; it wants opaque handles,
 * plain records of fixed layout, and arrays it owns. This header is that
 * surface over the library (python/ticktape/ is its one client in the tree):
 *
 *   tape       open a tape, copy a symbol's quotes or bars into the caller's
 *              arrays (tt_api_quote, tt_api_bar: fixed 32 / 64-byte records);
 *   run        a backtest of a scenario (a file, or YAML/JSON text) with
 *              "key=value" overrides, optionally with the caller's strategy
 *              (callbacks); its summary JSON (the `--json` line), its
 *              fingerprint, and its trades, orders and equity as record arrays;
 *   research   a sweep's and a walk-forward's tables as JSON text;
 *   ctx        the order API of a strategy context (what tt_ctx_* do in C);
 *   env        stepping a scenario bar by bar for reinforcement learning.
 *
 * Errors. Every call that can fail returns 0 (or a count) or a negative TT_E*
 * code and fills the caller's tt_err (core/error.h: an int and a 1,024-byte
 * message) naming what failed; no call exits or prints. Handles are freed by
 * their *_free / *_close call (NULL is a no-op); strings and arrays a handle
 * returns live as long as the handle.
 *
 * Layouts. tt_api_struct_size(name) gives sizeof of every record passed by
 * pointer, so a binding checks its mirror of the layout once at load.
 */
#ifndef TT_API_H
#define TT_API_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/metrics.h"
#include "../core/strategy.h"
#include "../sim/backtest.h"

#define TT_API_VERSION 1

/* The API's version (TT_API_VERSION) and the library's ("0.1.0"). Cannot fail. */
int tt_api_version(void);
const char *tt_api_library_version(void);

/* sizeof of a record named "quote", "bar", "trade", "order", "equity",
 * "err", "account", "callbacks"; 0 for an unknown name. Cannot fail. */
size_t tt_api_struct_size(const char *name);

/* ---- tape ---- */

typedef struct tt_api_quote {
    int64_t ts;  /* UTC ns */
    int64_t bid; /* points */
    int64_t ask;
    float bid_vol;
    float ask_vol;
} tt_api_quote; /* 32 bytes */

typedef struct tt_api_bar {
    int64_t ts;       /* open time, UTC ns */
    int64_t close_ts; /* nominal close time */
    int64_t open, high, low, close; /* points */
    double volume;
    uint32_t ticks;
    uint8_t tf, side;
    uint16_t reserved;
} tt_api_bar; /* 64 bytes */

typedef struct tt_api_tape tt_api_tape;
typedef struct tt_api_cursor tt_api_cursor;

/* Open the tape at dir (its block indexes are read; no payload). TT_OK, or
 * tt_tape_info_read's error (TT_ENOTFOUND, TT_EIO, TT_EFORMAT, ...), TT_ENOMEM. */
int tt_api_tape_open(tt_api_tape **t, const char *dir, tt_err *err);
void tt_api_tape_close(tt_api_tape *t);

/* The tape's streams: count, and stream i's symbol, kind name ("quote",
 * "bar-M1-bid", ...), event count, first and last time. TT_ENOTFOUND past the
 * end. */
int tt_api_tape_streams(const tt_api_tape *t);
int tt_api_tape_stream(const tt_api_tape *t, int i, const char **symbol, const char **kind,
                       uint64_t *events, int64_t *first, int64_t *last, tt_err *err);

/* An instrument's points per price unit and display digits (the built-in
 * table). TT_ENOTFOUND for an unknown symbol. */
int tt_api_instrument(const char *symbol, int64_t *points, int *digits, tt_err *err);

/* A cursor over one symbol's quotes in [from, to) (0 = open). *bound gets an
 * upper bound of the count (the stream's events), so a caller can size its
 * array once. TT_OK, or the tape reader's errors. */
int tt_api_quotes_open(tt_api_cursor **c, tt_api_tape *t, const char *symbol, int64_t from,
                       int64_t to, uint64_t *bound, tt_err *err);

/* A cursor over one symbol's bars of timeframe tf ("M1", "H1", ...) and side
 * ("bid", "ask", "mid") whose open time is in [from, to): the tape's bar
 * stream when it has one, else bars built from its quotes (core/bars.h; the
 * last, partial bar included). TT_EINVAL for a bad tf or side. */
int tt_api_bars_open(tt_api_cursor **c, tt_api_tape *t, const char *symbol, const char *tf,
                     const char *side, int64_t from, int64_t to, uint64_t *bound, tt_err *err);

/* Copy up to cap records; returns the count copied (0 at the end) or a
 * negative TT_E* (a block that fails its checksum, ...). TT_EINVAL when the
 * cursor is of the other kind. */
int64_t tt_api_quotes_read(tt_api_cursor *c, tt_api_quote *out, size_t cap, tt_err *err);
int64_t tt_api_bars_read(tt_api_cursor *c, tt_api_bar *out, size_t cap, tt_err *err);
void tt_api_cursor_close(tt_api_cursor *c);

/* ---- strategies given as callbacks ---- */

/* The caller's strategy: every pointer may be NULL. Events arrive flattened
 * (no unions): times in UTC ns, prices in points, money in minor units.
 * create may read parameters (tt_api_ctx_param_*) and subscribe to bars; it
 * returns 0 or a negative code after tt_api_ctx_fail. on_fill gets every
 * order event with fill_qty > 0; on_order every order event (fills too);
 * on_external an external event's type (core/external.h), headline value and
 * payload (an economic calendar's is tt_calendar_decode's input). */
typedef struct tt_api_callbacks {
    void *user;
    int (*create)(void *user, tt_strategy_ctx *c);
    int (*on_start)(void *user, tt_strategy_ctx *c);
    void (*on_quote)(void *user, tt_strategy_ctx *c, int64_t ts, uint32_t symbol, int64_t bid,
                     int64_t ask);
    void (*on_bar)(void *user, tt_strategy_ctx *c, const tt_api_bar *bar, uint32_t symbol);
    void (*on_fill)(void *user, tt_strategy_ctx *c, int64_t ts, uint32_t symbol,
                    uint64_t client_id, int side, int64_t price, int64_t qty,
                    int64_t commission);
    void (*on_order)(void *user, tt_strategy_ctx *c, int64_t ts, uint32_t symbol,
                     uint64_t client_id, int status, int reason, int side, int64_t leaves_qty);
    void (*on_timer)(void *user, tt_strategy_ctx *c, uint64_t timer_id, uint64_t value);
    void (*on_external)(void *user, tt_strategy_ctx *c, int64_t ts, uint32_t symbol,
                        uint32_t type, double value, const uint8_t *data, uint32_t len);
    void (*on_stop)(void *user, tt_strategy_ctx *c);
} tt_api_callbacks;

/* ---- runs ---- */

typedef struct tt_api_run tt_api_run;

/* A backtest of a scenario: `scenario` is a file path, or with is_text the
 * scenario itself (YAML; JSON is YAML), relative paths then resolving against
 * base_dir (NULL: the current directory). overrides: n "key=value" strings
 * applied as --set does. cb (may be NULL) replaces the scenario's strategy by
 * the caller's, its name staying the label. The run happens here; *run then
 * holds its results. TT_OK, or the scenario's, the strategy's or the run's
 * error (as `ticktape backtest` reports it); *run is NULL then. */
int tt_api_backtest(tt_api_run **run, const char *scenario, int is_text, const char *base_dir,
                    const char *const *overrides, int n, const tt_api_callbacks *cb, tt_err *err);
void tt_api_run_free(tt_api_run *run);

/* The summary object `ticktape backtest --json` prints (one line), and the
 * fingerprint as 32 hex digits. Cannot fail. */
const char *tt_api_run_summary(const tt_api_run *run);
const char *tt_api_run_fingerprint(const tt_api_run *run);
/* The account's minor units per currency unit (100) and currency. */
int64_t tt_api_run_minor(const tt_api_run *run);
/* The records: closed trades (tt_trade_record), order events (tt_order_record),
 * the kept equity series (tt_equity_point); *n gets the count. */
const tt_trade_record *tt_api_run_trades(const tt_api_run *run, size_t *n);
const tt_order_record *tt_api_run_orders(const tt_api_run *run, size_t *n);
const tt_equity_point *tt_api_run_equity(const tt_api_run *run, size_t *n);
/* The name, digits, points and volume step of a symbol id of the run; NULL
 * for an unknown id. */
const char *tt_api_run_symbol(const tt_api_run *run, uint32_t id, int *digits, int64_t *points,
                              double *volume_step);
/* Write the run's reports (report.html, summary.json, trades.csv, series.h5,
 * as the scenario's outputs say) into dir, as `ticktape backtest --out`
 * does. TT_OK or tt_report_write_all's error. */
int tt_api_run_reports(const tt_api_run *run, const char *dir, tt_err *err);

/* Names of codes in records: an order status, an order reason, a trade's
 * close reason ("?"/"unknown" when out of range). Cannot fail. */
const char *tt_api_order_status(int status);
const char *tt_api_order_reason(int reason);
const char *tt_api_close_reason(int reason);

/* ---- research ---- */

/* The sweep of a scenario file's sweep: section (overrides as in
 * tt_api_backtest), run in `jobs` processes: *json gets the table
 * (reports/sweep_report.h's sweep.json, one line; free() it). TT_OK, or
 * TT_EPARTIAL (some runs failed: the table says which), or the error that
 * stopped it. */
int tt_api_sweep(const char *path, const char *const *overrides, int n, unsigned jobs,
                 char **json, tt_err *err);

/* The walk-forward of a scenario file (walkforward: and sweep: sections):
 * *json gets `ticktape walkforward --json`'s object (free() it). Errors as
 * tt_api_sweep. */
int tt_api_walkforward(const char *path, const char *const *overrides, int n, unsigned jobs,
                       char **json, tt_err *err);

/* ---- the strategy context (callable from the callbacks only) ---- */

typedef struct tt_api_account {
    int64_t balance, equity, unrealized, margin, free_margin, exposure, realized, commissions,
        swaps, net_qty;
    double margin_level;
} tt_api_account;

int64_t tt_api_ctx_now(tt_strategy_ctx *c);
uint32_t tt_api_ctx_symbol_id(tt_strategy_ctx *c, const char *name); /* 0 = unknown */
const char *tt_api_ctx_symbol_name(tt_strategy_ctx *c, uint32_t symbol); /* NULL = unknown */
uint32_t tt_api_ctx_symbol_count(tt_strategy_ctx *c);
uint32_t tt_api_ctx_symbol_at(tt_strategy_ctx *c, uint32_t i);
int tt_api_ctx_quote(tt_strategy_ctx *c, uint32_t symbol, int64_t *bid, int64_t *ask);
int64_t tt_api_ctx_position(tt_strategy_ctx *c, uint32_t symbol);
void tt_api_ctx_account(tt_strategy_ctx *c, tt_api_account *out);
/* tt_ctx_submit with the fields of tt_order_req; the client id, 0 = not sent. */
uint64_t tt_api_ctx_submit(tt_strategy_ctx *c, uint32_t symbol, int side, int type, int tif,
                           int64_t qty, int64_t price, int64_t stop_price, int64_t take_profit,
                           int64_t stop_loss, int64_t expire_ts, uint32_t position);
int tt_api_ctx_cancel(tt_strategy_ctx *c, uint64_t client_id);
int tt_api_ctx_modify(tt_strategy_ctx *c, uint64_t client_id, int64_t price, int64_t stop_price,
                      int64_t stop_loss, int64_t take_profit);
int tt_api_ctx_close(tt_strategy_ctx *c, uint32_t symbol);
uint64_t tt_api_ctx_timer_set(tt_strategy_ctx *c, int64_t at, uint64_t value);
void tt_api_ctx_timer_cancel(tt_strategy_ctx *c, uint64_t timer_id);
void tt_api_ctx_log(tt_strategy_ctx *c, int level, const char *msg);
double tt_api_ctx_random(tt_strategy_ctx *c); /* the strategy's seeded stream, [0, 1) */
/* create only: parameters (as tt_ctx_param_*), bar subscriptions (tf and side
 * by name), an error that fails create. */
int tt_api_ctx_param_int(tt_strategy_ctx *c, const char *key, int64_t def, int64_t *out);
int tt_api_ctx_param_double(tt_strategy_ctx *c, const char *key, double def, double *out);
int tt_api_ctx_param_str(tt_strategy_ctx *c, const char *key, const char *def, const char **out);
int tt_api_ctx_subscribe_bars(tt_strategy_ctx *c, uint32_t symbol, const char *tf,
                              const char *side);
int tt_api_ctx_fail(tt_strategy_ctx *c, int code, const char *msg);

/* ---- the reinforcement-learning environment ---- */

typedef struct tt_api_env tt_api_env;

/* An environment over a scenario (path or text, overrides as above): the
 * scenario's data, venue, costs and risk; its first symbol traded. Each step
 * is one closed bar of timeframe tf (the ml: section's when the scenario has
 * one and tf is NULL; else "M1") on the given side; the observation is the
 * feature engine's row for that bar (core/features.h; `features` a comma
 * list of names, NULL = the ml: section's or the default set), NaN as 0,
 * followed by the position in lots. Nothing runs until reset. TT_OK, or the
 * scenario's errors, TT_EINVAL for a bad tf, side or feature name. */
int tt_api_env_open(tt_api_env **env, const char *scenario, int is_text, const char *base_dir,
                    const char *const *overrides, int n, const char *tf, const char *side,
                    const char *features, tt_err *err);
void tt_api_env_free(tt_api_env *env);
/* Values per observation. Cannot fail. */
int tt_api_env_width(const tt_api_env *env);
/* Feature name of column i (the last column is "position"). */
const char *tt_api_env_column(const tt_api_env *env, int i);
/* Start an episode with the scenario's seed replaced by seed (seed_given 1)
 * and run to the first closed bar: obs (width values) filled. TT_OK, or the
 * run's error; TT_ENOTFOUND when the data has no bar at all. */
int tt_api_env_reset(tt_api_env *env, int seed_given, uint64_t seed, double *obs, tt_err *err);
/* Set the target position (lots, signed; rounded to the volume step; the
 * orders go at the next tick) and run to the next closed bar. *reward is
 * the change of the account's equity in currency units, *done 1 when the
 * data has ended (the episode is then over: reset again). TT_OK, or the
 * run's error; TT_ESTATE without an episode. */
int tt_api_env_step(tt_api_env *env, double target_lots, double *obs, double *reward, int *done,
                    tt_err *err);
/* The episode so far: bar time, equity (currency units), position (lots),
 * and, once done, the run's fingerprint (else ""). Cannot fail. */
void tt_api_env_info(const tt_api_env *env, int64_t *ts, double *equity, double *position,
                     const char **fingerprint);

#endif
