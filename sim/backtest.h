/*
 * ticktape: a backtest, assembled.
 *
 * A backtest is built like NautilusTrader's BacktestEngine: open a builder on
 * a configuration, fill the slots that differ from the defaults, execute it,
 * close it:
 *
 *     tt_backtest *bt;
 *     tt_backtest_open(&bt, &cfg, &err);
 *     tt_backtest_set_venue(bt, my_venue_port, &err);   default: the simulated venue
 *     tt_backtest_set_clock(bt, wall_clock, &err);      default: simulated time
 *     tt_backtest_add_source(bt, feed, &err);           default: cfg's tape or source
 *     tt_backtest_add_sink(bt, publisher, &err);        after cfg's sinks
 *     tt_backtest_add_component(bt, observer, &err);    after cfg's components
 *     tt_backtest_exec(bt, &result, &err);
 *     tt_backtest_close(bt);
 *
 * tt_backtest_run(cfg, ...) is that with no slot filled. Execution builds one
 * engine and wires, in this order:
 *
 *     source (a tape query, the caller's tt_source, or the sources added,
 *             merged by the total order)
 *       └► engine ─► venue (the port's hooks see every event first: the
 *                    simulated venue, sim/venue.h, unless one was set)
 *                 ─► bar builder (core/bars.h; the strategy's subscriptions
 *                    plus the config's)
 *                 ─► strategy runner (core/strategy.h): portfolio, order
 *                    manager, risk gate, the strategy
 *                 ─► extra components and sinks (the config's, then those
 *                    added)
 *
 * runs it to the end, and returns what happened: the fingerprint, the input
 * event count, the closed trades, the sampled equity series, commission and
 * swap totals, and the order-event list.
 *
 * The venue. A run learns from its venue only through the port (the venue
 * contract in core/engine.h): fills reach the strategy's portfolio as order
 * events, margin calls and stop-outs as risk outputs and venue deals, and
 * the result's commissions, swaps, fills and stop_outs from the port's
 * totals() (zero without one). A venue set with tt_backtest_set_venue takes
 * the simulated venue's place entirely; cfg->venue.account still defines the
 * strategy's account (currency, balance, mode, leverage), the rest of
 * cfg->venue is the simulated venue's and is then unused.
 *
 * Memory. Constant in the span replayed, except for what the result keeps:
 * the closed trades (one per closed trade, in a file past trades_keep_max:
 * sim/trade_log.h), the order-event list (one per order transition;
 * skip_order_events = 1 drops it) and the equity series (sim/equity_series.h).
 * The runner samples equity once per `equity_interval` (default one minute of
 * event time, at the first event of each new interval, plus the final
 * point). Every sampled point and every trade goes into a metrics
 * accumulator during the run, so `result.metrics` is exact whatever is kept.
 * The kept series holds every sampled point unless `equity_keep_max` is set:
 * then it is thinned (every other point dropped, the sampling stride
 * doubled), except the last point of each UTC day and the final point, which
 * are always kept (daily and monthly returns stay exact). The series then
 * stays under equity_keep_max points plus one per day.
 *
 * The closed trades are kept in memory up to `trades_keep_max` (default
 * TT_BACKTEST_TRADES_KEEP, 0 = no limit). Past it, the list moves to an
 * unlinked temporary file in $TMPDIR (else /tmp), and at the end of the run
 * the file is mapped read-only: result.trades is then every trade in close
 * order as before, in clean file-backed pages (trades_map_len > 0) rather
 * than the heap. The trades, the figures and the fingerprint are the same
 * either way. If the file cannot be created or written (no such directory,
 * disk full), the run fails with an error naming the directory or file, and
 * result.trades is empty.
 *
 * Bar models. With cfg.model set (every_tick, ohlc_m1, open_prices) the data
 * is the tape's M1 bid bars of each symbol (bar-M1-bid, and bar-M1-ask for
 * spread_from_bars), or M1 bars built from its quotes when it has no such
 * stream, turned into price points by sim/bar_model.h: the venue, the
 * portfolio and on_quote see those points as quotes; the bar component is
 * fed the bars themselves (tt_bars_opts.from_bars, no timers), so the
 * strategy's bars (M1 and longer) are the input bars, each delivered when the
 * first point of a later bar arrives, before the venue takes an order sent
 * then: a market order with no latency fills at that next open point, as in
 * MetaTrader 5's tester and Backtrader. A bar model needs a tape (not
 * cfg.source nor added sources). `events` counts the generated events.
 *
 * External events. cfg.external names blob streams of the tape (an imported
 * economic calendar, data/calendar.h): their events in [from, to) are merged
 * with the quotes by the total order (at one time stamp after the market
 * data) and reach the strategy's on_external. When cfg.risk has a news
 * blackout, every timed calendar event of those streams is put in the gate's
 * schedule before the run starts (release times are known ahead; the figures
 * are not part of it), whatever the data source: a paper session's gate knows
 * the calendar of the scenario's tape too.
 *
 * When reading from a tape, the symbols needed to convert P&L into the
 * account currency (e.g. USDJPY for a USD account trading EURJPY) are added to
 * the query when the tape has them; a conversion that finds no quote rejects
 * the order with TT_REASON_NO_RATE.
 */
#ifndef TT_SIM_BACKTEST_H
#define TT_SIM_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "../core/bars.h"
#include "../core/engine.h"
#include "../core/error.h"
#include "../core/fingerprint.h"
#include "../core/metrics.h"
#include "../core/risk.h"
#include "../core/strategy.h"
#include "price_path.h"
#include "venue.h"

#define TT_BACKTEST_MAX_SYMBOLS 32
#define TT_BACKTEST_MAX_SINKS 8
#define TT_BACKTEST_MAX_BARS 16
#define TT_BACKTEST_TRADES_KEEP 16384 /* default trades_keep_max: 1.9 MiB of trades */
#define TT_BACKTEST_MAX_SOURCES 8     /* tt_backtest_add_source */
#define TT_BACKTEST_MAX_EXTERNAL 8    /* external streams of the tape (cfg.external) */

/* One order event, as kept for replay parity checks. */
typedef struct tt_order_record {
    tt_ts ts;
    uint64_t client_id;
    uint64_t venue_id;
    uint32_t symbol;
    uint8_t status;   /* enum tt_order_status */
    uint16_t reason;  /* enum tt_order_reason */
    int8_t side;
    tt_price price;   /* fill price (fills), else 0 */
    int64_t qty;      /* fill qty (fills), else leaves qty */
} tt_order_record;

typedef struct tt_backtest_config {
    /* data */
    const char *instruments_file;   /* extra instruments (may be NULL) */
    const tt_instruments *instruments; /* or a table given by the caller (then the file is ignored) */
    const char *symbols[TT_BACKTEST_MAX_SYMBOLS]; /* traded symbols, NULL-terminated */
    const char *tape_dir;           /* data source A: a tape and a time range */
    tt_ts from, to;                 /* [from, to); 0 = open */
    const tt_source *source;        /* data source B: the caller's source (not closed) */
    /* a bar model over the tape (sim/bar_model.h; 0 = real ticks, the tape's quotes) */
    int model;                      /* enum tt_bar_model */
    tt_price spread_points;         /* bar models: the spread added to the BID bars */
    int spread_from_bars;           /* bar models: each point's spread from the ask bars */
    const char *external[TT_BACKTEST_MAX_EXTERNAL + 1]; /* blob streams of the tape replayed
                                     * with its quotes (an imported calendar), NULL-ended; with
                                     * a news blackout their calendar also fills its schedule */
    /* account and venue (venue.account.currency/initial_balance are the account) */
    tt_venue_config venue;
    tt_risk_config risk;
    /* strategy: a built-in name or a plugin path (".so" or containing '/') */
    const char *strategy;
    const tt_strategy_vtable *strategy_vtable; /* or a vtable given directly (embedding,
                                                * tests); used when set, `strategy` is then a label */
    void *strategy_user;            /* what the strategy's tt_ctx_user returns (may be NULL) */
    const char *params;             /* "key=value ..." */
    tt_param_origin_fn param_origin; /* where each parameter came from, for its errors
                                      * (see tt_runner_config); may be NULL */
    void *param_origin_ctx;
    uint64_t seed;
    tt_bar_sub bars[TT_BACKTEST_MAX_BARS]; /* extra bar subscriptions */
    int nbars;
    tt_ts equity_interval;          /* 0 = one minute */
    size_t equity_keep_max;         /* cap on the kept equity series (see Memory); 0 = keep all */
    size_t trades_keep_max;         /* closed trades kept in memory before the list moves
                                     * to a temporary file (see Memory); 0 = no limit */
    tt_metrics_opts metrics;        /* annualization and risk-free rate of result.metrics */
    int flatten_on_halt;            /* see tt_runner_config */
    int skip_order_events;          /* 1: do not keep the order-event list */
    /* extras */
    tt_sink sinks[TT_BACKTEST_MAX_SINKS];
    int nsinks;
    tt_component components[TT_BACKTEST_MAX_SINKS]; /* added after the runner */
    int ncomponents;
    /* progress: called every progress_every input events (0 = 1,000,000) with the
     * count so far and the event time */
    void (*progress)(void *ctx, uint64_t events, tt_ts now);
    void *progress_ctx;
    uint64_t progress_every;
    tt_log_fn log;                  /* run log (not fingerprinted); may be NULL */
    void *log_ctx;
} tt_backtest_config;

typedef struct tt_backtest_result {
    tt_fingerprint fingerprint;
    uint64_t events;         /* input events read from the data source */
    uint64_t outputs;        /* outputs emitted (fingerprinted) */
    tt_trade_record *trades; /* closed trades, close order (read-only when mapped) */
    size_t ntrades;
    size_t trades_map_len;   /* > 0: trades is a read-only mapping of this many bytes of
                              * an unlinked temporary file (see Memory); 0: heap */
    tt_equity_point *equity; /* kept equity series, time order (see Memory) */
    size_t nequity;
    uint64_t equity_sampled; /* equity points sampled (all fed to metrics) */
    tt_metrics metrics;      /* figures over every sampled point and every trade */
    tt_order_record *orders; /* every order event, in order */
    size_t norders;
    tt_price_bucket *prices; /* each traded symbol's bid at the equity samples, in at most
                              * 4096 OHLC buckets a symbol (sim/price_path.h), symbol after
                              * symbol, for the report's price chart */
    size_t nprices;
    tt_money initial_balance;
    tt_money final_balance;
    tt_money final_equity;
    tt_money commissions;    /* charged by the venue (>= 0) */
    tt_money swaps;          /* credited by the venue (negative = paid) */
    uint64_t orders_sent;    /* commands sent to the venue */
    uint64_t risk_rejects;
    tt_reject_counts rejects; /* orders rejected, by risk rule and by reason */
    uint64_t fills;
    uint64_t stop_outs;
    tt_ts first_ts, last_ts; /* of the input events */
} tt_backtest_result;

/* Defaults: USD 10,000.00 netting account (tt_venue_config_default), no risk
 * limits, equity every minute, order events kept, flatten on halt. Cannot
 * fail. */
void tt_backtest_config_default(tt_backtest_config *cfg);

/* ---- the builder ---- */

typedef struct tt_backtest tt_backtest;

/* A builder over cfg (copied; what its pointers point to is borrowed and must
 * outlive the builder). Nothing is built or opened yet. Returns 0 with *bt
 * set, TT_EINVAL when cfg->nsinks or cfg->ncomponents is out of range, or
 * TT_ENOMEM; *bt is then NULL. */
int tt_backtest_open(tt_backtest **bt, const tt_backtest_config *cfg, tt_err *err);

/* The venue (borrowed, not closed): replaces the simulated venue the run
 * would build from cfg->venue. A second call replaces the first. Returns 0,
 * TT_EINVAL when the port has no command(), TT_ESTATE after exec. */
int tt_backtest_set_venue(tt_backtest *bt, tt_venue venue, tt_err *err);

/* The clock: a clock with now() runs timers and the venue's latency in its
 * time (paper trading's watermark clock); now NULL is simulated time, the
 * default. Returns 0, or TT_ESTATE after exec. */
int tt_backtest_set_clock(tt_backtest *bt, tt_clock clock, tt_err *err);

/* A data source (borrowed, not closed). The run reads the sources added,
 * merged by the total order when there are several (core/merge.h), instead
 * of the configuration's (cfg->source, else cfg->tape_dir over [from, to)).
 * Returns 0, TT_EINVAL for a source without next() or next_batch() or past
 * TT_BACKTEST_MAX_SOURCES, TT_ESTATE after exec. */
int tt_backtest_add_source(tt_backtest *bt, tt_source src, tt_err *err);

/* A sink (borrowed, not closed), after the configuration's. Returns 0,
 * TT_EINVAL for a sink without write() or past 16 sinks, TT_ESTATE after
 * exec. */
int tt_backtest_add_sink(tt_backtest *bt, tt_sink sink, tt_err *err);

/* A component, after the runner and the configuration's components. Returns
 * 0, TT_EINVAL past 24 components, TT_ESTATE after exec. */
int tt_backtest_add_component(tt_backtest *bt, tt_component c, tt_err *err);

/* Build, run, collect; once per builder. *out is filled even on failure with
 * what was collected (free it with tt_backtest_result_free). Returns 0, or
 * the error of whichever piece failed, the message prefixed with the piece:
 * an unknown symbol or strategy, a bad parameter, a tape error, a plugin ABI
 * mismatch, the venue's or a collector's failure during the run (TT_ENOMEM,
 * TT_EIO for the trades' temporary file), ...; TT_ESTATE when called twice. */
int tt_backtest_exec(tt_backtest *bt, tt_backtest_result *out, tt_err *err);

/* Stepping (core/engine.h): exec is start, advance until it stops returning
 * TT_ENGINE_PAUSED, then finish. A caller that takes control between events
 * (the reinforcement-learning environment of api/) calls them itself, and a
 * strategy or component it owns calls tt_backtest_pause during the run.
 *
 * start builds every piece and begins the engine (the components' on_start);
 * it returns 0 or the error exec would return (then call finish for what was
 * collected), TT_ESTATE after start or exec. advance runs until the run is
 * over (0) or paused (TT_ENGINE_PAUSED), or returns the source's error;
 * TT_ESTATE without a started run or once it is over. pause asks the running
 * engine to return from advance after the current event (no effect outside a
 * started run). finish ends the run (on_stop, flush: a run finished while
 * paused ends there, the rest of its data unread) and fills *out as exec does,
 * returning the run's result; TT_ESTATE without a started run. */
int tt_backtest_start(tt_backtest *bt, tt_err *err);
int tt_backtest_advance(tt_backtest *bt, tt_err *err);
void tt_backtest_pause(tt_backtest *bt);
int tt_backtest_finish(tt_backtest *bt, tt_backtest_result *out, tt_err *err);

/* Frees the builder (not the ports given to it); a run started and not
 * finished is finished first and its result dropped. NULL is a no-op. */
void tt_backtest_close(tt_backtest *bt);

/* The one-call form: open on cfg, exec, close. Returns what those return. */
int tt_backtest_run(const tt_backtest_config *cfg, tt_backtest_result *out, tt_err *err);

/* ---- groups: several backtests over one pass of the same data ----
 *
 * The runs of a sweep differ in their parameters, not in their data. A group
 * reads and decodes the data once (the first configuration's tape query or
 * source, opened as tt_backtest_exec opens it) and hands each batch of 64
 * events to every run's engine in turn (tt_engine_feed): a run sees exactly
 * the events, in the order, it would see alone, so out[i] and its
 * fingerprint are what tt_backtest_run(cfgs[i]) gives (tests/sim/
 * test_backtest_group.c). The configurations must read the same data: the
 * same tape, source, range, symbols, instruments, bar model and account
 * currency (which picks the conversion pairs); they may differ in anything
 * else. Memory: each run's own, plus one batch. Sources and sinks added to a
 * builder are not available here.
 *
 * Returns TT_OK when the data could be opened and read to its end; each run's
 * result is then out[i] (free each with tt_backtest_result_free) with
 * rcs[i] and errs[i] as tt_backtest_run would return them (a run that fails
 * to build or fails while running does not disturb the others; a data error
 * met while reading ends every run still going with it). TT_EINVAL when the
 * runs do not read the same data or read external streams (cfg.external: each
 * run then goes alone), or the data's error (TT_ENOTFOUND, ...)
 * when it cannot be opened: then no run ran and out[] is zeroed. */
int tt_backtest_group_run(const tt_backtest_config *const *cfgs, size_t n,
                          tt_backtest_result *out, int *rcs, tt_err *errs, tt_err *err);

/* Frees what a result holds (unmaps a mapped trade list) and zeroes it. NULL
 * is a no-op. */
void tt_backtest_result_free(tt_backtest_result *r);

/* Take the trades out of a result as a malloc'd array the caller frees: the
 * array itself, or a copy of a mapped list (then unmapped). The result is
 * left without trades. Returns 0, or TT_ENOMEM (result unchanged) if the copy
 * fails. */
int tt_backtest_result_take_trades(tt_backtest_result *r, tt_trade_record **trades, size_t *n);

#endif
