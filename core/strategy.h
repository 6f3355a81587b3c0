/*
 * ticktape: the strategy API and the strategy runner.
 *
 * A strategy is a table of callbacks (tt_strategy_vtable) and a private state.
 * It sees the run only through its context (tt_strategy_ctx), a table of
 * functions the host provides: time, instruments, quotes, positions, account,
 * timers, a seeded random stream, a run log, parameters, and order commands.
 * It cannot reach the wall clock or the venue: the same strategy code runs in
 * backtest, paper and live.
 *
 * Callbacks, in the order the runner calls them:
 *   create        parse parameters (tt_ctx_param_*), declare bar subscriptions
 *                 (tt_ctx_subscribe_bars, only here), allocate the state;
 *   on_start      the run begins (timers may be set);
 *   on_quote      a quote tick of any symbol (after the venue matched resting
 *                 orders against it and the portfolio marked it);
 *   on_bar        a closed bar of a subscription (before the tick that closed it);
 *   on_order_event every transition of the strategy's orders, and venue deals
 *                 (stop-loss, take-profit, stop-out: client id 0, venue_id = ticket);
 *   on_timer      a timer the strategy set;
 *   on_external   an external / news event;
 *   on_stop       the run ends (orders may no longer be sent);
 *   destroy       free the state.
 * Any callback may be NULL.
 *
 * Orders. tt_ctx_submit takes a tt_order_req (market, limit, stop, stop-limit;
 * GTC, IOC, FOK, GTD; optional take-profit and stop-loss attached to the
 * position it opens; in hedging mode `position` names the position to close)
 * and returns the client id the order manager assigned (1, 2, ... unique in
 * the run). The order then goes through the risk gate and to the venue; its
 * fate arrives as order events. Quantities are in the instrument's
 * volume_step lots (qty 100 = 1 lot with the default step 0.01).
 *
 * Parameters come as "key=value" words ("fast=10 slow=30"); a strategy reads
 * them with tt_ctx_param_int / _double / _str in create. A key the strategy
 * never read is an error after create ("unknown parameter 'x' for strategy
 * sma_cross"), so a typo in a scenario never passes silently. The host puts
 * where a parameter was written before its errors ("s.yaml:14:
 * strategy.params.fast: "); an error a strategy raises with tt_ctx_fail in
 * create is placed at the last parameter it read, so check each parameter
 * right after reading it.
 *
 * Plugins. A shared object exports a function named TT_STRATEGY_ENTRY
 * ("tt_strategy_entry") returning its vtable; the loader (core/plugin.h)
 * checks abi_version == TT_STRATEGY_ABI_VERSION and struct_size, and refuses
 * a mismatch with TT_EABI and a message naming both versions. The context is
 * a table of function pointers (tt_strategy_host) so a plugin needs no symbol
 * from the host binary; the inline tt_ctx_* helpers below call through it.
 */
#ifndef TT_STRATEGY_H
#define TT_STRATEGY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bars.h"
#include "engine.h"
#include "error.h"
#include "event.h"
#include "instrument.h"
#include "order.h"
#include "portfolio.h"
#include "risk.h"
#include "rng.h"

/* Bump on any change to tt_strategy_vtable, tt_strategy_host, tt_order_req or
 * the plain structs they pass (tt_event, tt_position, tt_account, tt_order). */
#define TT_STRATEGY_ABI_VERSION 3u /* 2: tt_signal carries a model's prediction; 3: host->user */
#define TT_STRATEGY_ENTRY "tt_strategy_entry"

typedef struct tt_strategy_ctx tt_strategy_ctx;

/* An order request from a strategy. */
typedef struct tt_order_req {
    uint32_t symbol;      /* instrument id */
    int8_t side;          /* TT_BUY or TT_SELL */
    uint8_t type;         /* enum tt_order_type; 0 = market */
    uint8_t tif;          /* enum tt_tif; 0 = GTC */
    int64_t qty;          /* volume_step lots, > 0 */
    tt_price price;       /* LIMIT, STOP_LIMIT: the limit price */
    tt_price stop_price;  /* STOP, STOP_LIMIT: the trigger */
    tt_price take_profit; /* 0 = none */
    tt_price stop_loss;   /* 0 = none */
    tt_ts expire_ts;      /* GTD */
    uint32_t position;    /* hedging: ticket of the position to close; 0 = open */
} tt_order_req;

enum tt_log_level { TT_LOG_DEBUG = 0, TT_LOG_INFO = 1, TT_LOG_WARN = 2, TT_LOG_ERROR = 3 };

/* The host side of the context. Every function takes the context first.
 * What each returns on failure is said at it; a failure the strategy cannot
 * see at the call (an order command the venue refuses, a fill that cannot be
 * applied, no memory for a timer) becomes the runner's error and fails the run
 * (tt_runner_error). The reads cannot fail. */
typedef struct tt_strategy_host {
    uint32_t abi_version; /* TT_STRATEGY_ABI_VERSION */
    uint32_t struct_size; /* sizeof(tt_strategy_host) */
    /* time and instruments */
    tt_ts (*now)(tt_strategy_ctx *c);
    const tt_instrument *(*instrument)(tt_strategy_ctx *c, uint32_t symbol); /* NULL: unknown */
    uint32_t (*symbol_id)(tt_strategy_ctx *c, const char *name); /* 0 = unknown */
    uint32_t (*symbol_count)(tt_strategy_ctx *c);                 /* the run's symbols */
    uint32_t (*symbol_at)(tt_strategy_ctx *c, uint32_t i);        /* i-th run symbol id */
    int (*quote)(tt_strategy_ctx *c, uint32_t symbol, tt_quote *out); /* 1, or 0 none yet */
    /* account */
    int64_t (*position)(tt_strategy_ctx *c, uint32_t symbol); /* net signed qty */
    size_t (*position_count)(tt_strategy_ctx *c);
    const tt_position *(*position_at)(tt_strategy_ctx *c, size_t i); /* NULL out of range */
    void (*account)(tt_strategy_ctx *c, tt_account *out);
    const tt_order *(*order)(tt_strategy_ctx *c, uint64_t client_id); /* live; else NULL */
    size_t (*order_count)(tt_strategy_ctx *c);
    const tt_order *(*order_at)(tt_strategy_ctx *c, size_t i); /* NULL out of range */
    /* setup (create only). param_int and param_double: TT_OK (*out = the value, or
     * def when the key is absent), or TT_EINVAL when the value is not a number or
     * is outside [lo, hi] (the message, naming strategy, key and value, becomes
     * the runner's error if create returns it); param_str cannot fail.
     * subscribe_bars: TT_OK (also for a repeat), TT_ESTATE outside create, or
     * TT_EINVAL (unknown symbol, bad timeframe or side, more than the maximum).
     * set_error records msg and returns code (TT_EINVAL for a code that is not
     * negative). */
    int (*param_int)(tt_strategy_ctx *c, const char *key, int64_t def, int64_t lo, int64_t hi,
                     int64_t *out);
    int (*param_double)(tt_strategy_ctx *c, const char *key, double def, double lo, double hi,
                        double *out);
    int (*param_str)(tt_strategy_ctx *c, const char *key, const char *def, const char **out);
    int (*subscribe_bars)(tt_strategy_ctx *c, uint32_t symbol, int tf, int side);
    int (*set_error)(tt_strategy_ctx *c, int code, const char *msg); /* record an error, return code */
    /* services. timer_set: the timer's id, or 0 when none was set: before
     * on_start or while stopping, or out of memory (the run then fails with
     * TT_ENOMEM). timer_cancel of an unknown or spent id has no effect. */
    uint64_t (*timer_set)(tt_strategy_ctx *c, tt_ts at, uint64_t user);
    void (*timer_cancel)(tt_strategy_ctx *c, uint64_t timer_id);
    tt_rng *(*rng)(tt_strategy_ctx *c);
    void (*log)(tt_strategy_ctx *c, int level, const char *msg);
    void (*signal)(tt_strategy_ctx *c, uint32_t symbol, const tt_signal *s);
    /* orders. submit: the client id (an invalid or risk-rejected order gets
     * one too, and its REJECTED event), or 0 when nothing was sent: before
     * on_start or while stopping, or no memory for the order (the run then
     * fails with TT_ENOMEM). cancel and modify: 0, TT_ENOTFOUND when the
     * order is not live, or the venue's negative code (also the run's error).
     * close: the number of market orders it sent (0 symbol = every symbol). */
    uint64_t (*submit)(tt_strategy_ctx *c, const tt_order_req *req);
    int (*cancel)(tt_strategy_ctx *c, uint64_t client_id);
    int (*modify)(tt_strategy_ctx *c, uint64_t client_id, tt_price price, tt_price stop_price,
                  tt_price stop_loss, tt_price take_profit);
    int (*close)(tt_strategy_ctx *c, uint32_t symbol); /* flatten a symbol: market orders */
    /* the embedding program's pointer for this run (tt_runner_config.user:
     * how one vtable serves several instances, e.g. the Python strategies of
     * api/); NULL when none was given */
    void *(*user)(tt_strategy_ctx *c);
    /* the run's release schedule (core/external.h: the timed calendar events of the
     * scenario's external streams, and every calendar event received so far), for
     * the news features; NULL when the run has none. Appended: read it through
     * tt_ctx_news, which checks struct_size. */
    const struct tt_news *(*news)(tt_strategy_ctx *c);
} tt_strategy_host;

/* The context: the host table, then host-private state (never touch). */
struct tt_strategy_ctx {
    const tt_strategy_host *host;
};

typedef struct tt_strategy_vtable {
    uint32_t abi_version;  /* TT_STRATEGY_ABI_VERSION */
    uint32_t struct_size;  /* sizeof(tt_strategy_vtable) */
    const char *name;      /* "sma_cross" */
    const char *summary;   /* one line */
    const char *params;    /* "fast=10 slow=30 qty=100 ..." with defaults, for --help */
    int (*create)(tt_strategy_ctx *c, void **state); /* 0 or a negative TT_E* (tt_ctx_fail) */
    void (*destroy)(void *state);
    int (*on_start)(void *state, tt_strategy_ctx *c);
    void (*on_quote)(void *state, tt_strategy_ctx *c, const tt_event *quote);
    void (*on_bar)(void *state, tt_strategy_ctx *c, const tt_event *bar);
    void (*on_order_event)(void *state, tt_strategy_ctx *c, const tt_event *ev);
    void (*on_timer)(void *state, tt_strategy_ctx *c, uint64_t timer_id, uint64_t user);
    void (*on_external)(void *state, tt_strategy_ctx *c, const tt_event *ev);
    void (*on_stop)(void *state, tt_strategy_ctx *c);
} tt_strategy_vtable;

/* The plugin entry point: given the host's ABI version, return the vtable
 * (or NULL when the plugin cannot serve that host). */
typedef const tt_strategy_vtable *(*tt_strategy_entry_fn)(uint32_t host_abi_version);

/* ---- context helpers (inline: plugins call through the host table) ----
 * Each returns what its host function above returns. */

static inline tt_ts tt_ctx_now(tt_strategy_ctx *c) { return c->host->now(c); }
static inline const tt_instrument *tt_ctx_instrument(tt_strategy_ctx *c, uint32_t s)
{
    return c->host->instrument(c, s);
}
static inline uint32_t tt_ctx_symbol_id(tt_strategy_ctx *c, const char *name)
{
    return c->host->symbol_id(c, name);
}
static inline uint32_t tt_ctx_symbol_count(tt_strategy_ctx *c) { return c->host->symbol_count(c); }
static inline uint32_t tt_ctx_symbol_at(tt_strategy_ctx *c, uint32_t i)
{
    return c->host->symbol_at(c, i);
}
static inline int tt_ctx_quote(tt_strategy_ctx *c, uint32_t s, tt_quote *q)
{
    return c->host->quote(c, s, q);
}
static inline int64_t tt_ctx_position(tt_strategy_ctx *c, uint32_t s)
{
    return c->host->position(c, s);
}
static inline void tt_ctx_account(tt_strategy_ctx *c, tt_account *a) { c->host->account(c, a); }
static inline int tt_ctx_param_int(tt_strategy_ctx *c, const char *k, int64_t def, int64_t lo,
                                   int64_t hi, int64_t *out)
{
    return c->host->param_int(c, k, def, lo, hi, out);
}
static inline int tt_ctx_param_double(tt_strategy_ctx *c, const char *k, double def, double lo,
                                      double hi, double *out)
{
    return c->host->param_double(c, k, def, lo, hi, out);
}
static inline int tt_ctx_param_str(tt_strategy_ctx *c, const char *k, const char *def,
                                   const char **out)
{
    return c->host->param_str(c, k, def, out);
}
static inline int tt_ctx_subscribe_bars(tt_strategy_ctx *c, uint32_t s, int tf, int side)
{
    return c->host->subscribe_bars(c, s, tf, side);
}
static inline int tt_ctx_fail(tt_strategy_ctx *c, int code, const char *msg)
{
    return c->host->set_error(c, code, msg);
}
static inline uint64_t tt_ctx_timer_set(tt_strategy_ctx *c, tt_ts at, uint64_t user)
{
    return c->host->timer_set(c, at, user);
}
static inline void tt_ctx_timer_cancel(tt_strategy_ctx *c, uint64_t id) { c->host->timer_cancel(c, id); }
static inline tt_rng *tt_ctx_rng(tt_strategy_ctx *c) { return c->host->rng(c); }
static inline void tt_ctx_signal(tt_strategy_ctx *c, uint32_t s, const tt_signal *sig)
{
    c->host->signal(c, s, sig);
}
static inline uint64_t tt_ctx_submit(tt_strategy_ctx *c, const tt_order_req *r)
{
    return c->host->submit(c, r);
}
static inline int tt_ctx_cancel(tt_strategy_ctx *c, uint64_t id) { return c->host->cancel(c, id); }
static inline int tt_ctx_modify(tt_strategy_ctx *c, uint64_t id, tt_price price, tt_price stop,
                                tt_price sl, tt_price tp)
{
    return c->host->modify(c, id, price, stop, sl, tp);
}
static inline int tt_ctx_close(tt_strategy_ctx *c, uint32_t s) { return c->host->close(c, s); }
static inline void *tt_ctx_user(tt_strategy_ctx *c) { return c->host->user(c); }
static inline const struct tt_news *tt_ctx_news(tt_strategy_ctx *c)
{
    return c->host->struct_size > offsetof(tt_strategy_host, news) ? c->host->news(c) : NULL;
}

/* A market order of qty (> 0 buys, < 0 sells); returns the client id. */
static inline uint64_t tt_ctx_market(tt_strategy_ctx *c, uint32_t s, int64_t signed_qty,
                                     tt_price sl, tt_price tp)
{
    tt_order_req r = {0};
    r.symbol = s;
    r.side = signed_qty >= 0 ? TT_BUY : TT_SELL;
    r.type = TT_ORD_MARKET;
    r.tif = TT_TIF_GTC;
    r.qty = signed_qty >= 0 ? signed_qty : -signed_qty;
    r.stop_loss = sl;
    r.take_profit = tp;
    return c->host->submit(c, &r);
}

/* printf-style line into the run log (not part of the fingerprint). */
static inline void tt_ctx_log(tt_strategy_ctx *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void tt_ctx_log(tt_strategy_ctx *c, int level, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    c->host->log(c, level, buf);
}

/* ---- the registry of built-in strategies ---- */

/* The built-in strategy of that name ("sma_cross", "breakout", "rsi_reversion",
 * "buy_and_hold"); NULL when unknown or NULL. */
const tt_strategy_vtable *tt_strategy_builtin(const char *name);
/* The i-th built-in (0..), NULL past the end: for listings. */
const tt_strategy_vtable *tt_strategy_builtin_at(int i);

/* Check a vtable's ABI fields: TT_OK, or TT_EABI (no vtable, or a version or
 * size mismatch, the message naming `where` and both), TT_EINVAL without a name. */
int tt_strategy_check(const tt_strategy_vtable *vt, const char *where, tt_err *err);

/* ---- the runner: the strategy as an engine component ---- */

/* Run log callback: one line from the strategy or the runner. */
typedef void (*tt_log_fn)(void *ctx, tt_ts ts, int level, const char *who, const char *msg);

/* Where the parameters came from, for their error messages. Called when
 * building the runner fails because of a parameter, with its key (a bad
 * value or form, an unknown or repeated key; for an error the strategy
 * raises in create, the last parameter it read), or with NULL for the
 * parameters as a whole (too many, a word that is not key=value, create
 * failing); writes into buf the prefix to put before the message, such as
 * "s.yaml:14: strategy.params.fast: " (buf[0] = '\0': none). The core knows
 * no files: the scenario layer (sim/scenario_run.c) provides this. */
typedef void (*tt_param_origin_fn)(void *ctx, const char *key, char *buf, size_t bufsize);

typedef struct tt_runner_config {
    const tt_strategy_vtable *strategy; /* required */
    const char *params;                 /* "key=value ..." (may be NULL) */
    tt_param_origin_fn param_origin;    /* may be NULL: messages name no origin */
    void *param_origin_ctx;
    uint64_t seed;                      /* scenario seed: the strategy's stream is "strategy" */
    const uint32_t *symbols;            /* the run's symbols (ids), for symbol_at */
    uint32_t nsymbols;
    tt_portfolio *portfolio;            /* the strategy side's account (required, borrowed) */
    tt_risk_gate *risk;                 /* may be NULL: no gate */
    struct tt_news *news;               /* the run's release schedule (borrowed; may be
                                         * NULL): every calendar event received joins it
                                         * before on_external; tt_ctx_news reads it */
    tt_ts equity_interval;              /* one equity point per interval (ns); 0 = 1 minute */
    int flatten_on_halt;                /* 1: cancel orders and close positions when a
                                         * daily loss / drawdown / kill halts trading */
    int skip_input_bars;                /* 1: TT_EV_BAR input events (a bar model's
                                         * carriers, sim/bar_model.h) do not reach the
                                         * strategy: its bars come from the bar
                                         * component, once closed */
    /* observers (may be NULL) */
    void (*on_equity)(void *ctx, const tt_equity_point *p);
    void (*on_trade)(void *ctx, const tt_trade_record *t);
    void (*on_order_event)(void *ctx, const tt_event *ev); /* every order event emitted */
    void *observer_ctx;
    tt_log_fn log;
    void *log_ctx;
    void *user;                         /* what tt_ctx_user returns (may be NULL) */
} tt_runner_config;

typedef struct tt_runner tt_runner;

/* Build the runner and call the strategy's create with the parameters.
 * TT_OK, or TT_EINVAL naming the parameter (bad value, unknown key; prefixed
 * with cfg->param_origin's text), the strategy's own error, tt_strategy_check's
 * error, TT_EINVAL without a portfolio, or TT_ENOMEM; *out is then NULL and
 * the strategy's state destroyed. */
int tt_runner_new(tt_runner **out, const tt_instruments *instruments, const tt_runner_config *cfg,
                  tt_err *err);
/* Calls the strategy's destroy (NULL is allowed). Cannot fail. */
void tt_runner_free(tt_runner *r);

/* Bar subscriptions the strategy declared in create (to build the tt_bars
 * component): their count, *subs pointing at them. Cannot fail. Then register
 * tt_runner_bar_listener with tt_bars_listen. */
int tt_runner_bar_subs(const tt_runner *r, const tt_bar_sub **subs);
void tt_runner_bar_listener(void *runner, tt_engine *e, const tt_event *bar);

/* The component (add it after the bars component). It marks the portfolio on
 * quotes, applies the rollover, routes order events through the order manager
 * into the portfolio and the strategy, emits order events, risk decisions and
 * equity points as outputs, and calls the strategy. At on_stop it calls the
 * strategy's on_stop, marks the orders still working CANCELLED (reason end)
 * and closes open positions at the last quote as TT_CLOSE_END trades
 * (accounting only: no command goes to the venue). Cannot fail; the
 * component's on_stop returns the runner's error (tt_runner_error), its
 * on_start the strategy's on_start failure. */
tt_component tt_runner_component(tt_runner *r);

/* Engage the risk gate's kill switch now (also done by a TT_CTL_KILL event).
 * Cannot fail; no effect without a risk gate. */
void tt_runner_kill(tt_runner *r);

/* The runner's order manager (live orders). Cannot fail. */
const tt_orders *tt_runner_orders(const tt_runner *r);
/* The count of order commands sent to the venue and of risk rejections. Cannot fail. */
uint64_t tt_runner_orders_sent(const tt_runner *r);
uint64_t tt_runner_risk_rejects(const tt_runner *r);

/* Orders rejected, by why: rule[] the risk gate's rule that refused an order
 * before it left (enum tt_risk_rule; their sum is tt_runner_risk_rejects),
 * reason[] the reason of every other REJECTED order event (enum
 * tt_order_reason: the venue's no_money, margin_call, no_quote, ..., and the
 * runner's own invalid). */
typedef struct tt_reject_counts {
    uint64_t rule[TT_RULE_COUNT];
    uint64_t reason[TT_REASON_COUNT];
} tt_reject_counts;

/* The rejections so far. Cannot fail. */
void tt_runner_rejects(const tt_runner *r, tt_reject_counts *out);
/* Their total (rules and reasons). */
uint64_t tt_reject_total(const tt_reject_counts *c);
/* The first error met while running (a forbidden transition from the venue,
 * a failing fill, no memory for an order or a timer): its code with *err (may
 * be NULL) filled; TT_OK when none. */
int tt_runner_error(const tt_runner *r, tt_err *err);

#endif
