/*
 * ticktape live: a live trading session, the wiring.
 *
 * Live trading is paper trading (live/paper.h) with a real venue: the same
 * engine, strategy runner, risk gate and portfolio, with
 *
 *   venue    the MT5 venue (live/mt5_venue.h: ticktape listens, the
 *            TicktapeBridge EA or mt5-sim connects), or the NATS venue
 *            (live/mt5_bus.h: orders to whichever mt5-connector serves the
 *            bus);
 *   source   the inbox: the terminal's quotes (or ticks.> from NATS with the
 *            NATS venue) and every venue response, each journaled before the
 *            engine sees it, venue responses on disk first;
 *   journal  continued when the directory already holds one: the session
 *            was stopped or killed, and the engine first replays the journal
 *            (the recorded responses playing the venue's part, nothing sent,
 *            nothing published) to rebuild its state, then goes live, and
 *            the venue reconciles with the terminal's snapshot;
 *   clock    the inbox's watermark clock (replay parity, docs/live.md);
 *   sinks    outputs on NATS (the seed's subjects) and Kafka (the archive
 *            topics, and every bridge frame on broker_communication_log),
 *            held back while the journal is replayed;
 *   safety   the kill switch (tt_trading_kill: from a signal, a file, or NATS
 *            control.kill_switch) cancels the working orders at the broker,
 *            refuses new ones and halts the strategy (which flattens when the
 *            scenario says flatten_on_halt); the order rate limit is the risk
 *            section's max_orders_per_sec.
 *
 * The caller builds the engine run (sim/backtest.h) with tt_trading_source,
 * tt_trading_venue, tt_trading_clock, the components of tt_trading_components and the
 * sinks of tt_trading_sinks, runs it, and closes the session.
 */
#ifndef TT_TRADING_H
#define TT_TRADING_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/instrument.h"
#include "inbox.h"
#include "mt5_venue.h"

typedef struct tt_trading tt_trading;

/* The CONTROL START a live session journals as its first live input (arg):
 * a replay knows a live journal by it, and the recorded venue responses then
 * play the venue's part (tt_mt5_replay_port). */
#define TT_TRADING_START 0x4C495645u   /* "LIVE": a session starts */
#define TT_TRADING_RESTART 0x4C495652u /* "LIVR": it continues after a stop or a crash */

/* 1 in *live when the journal in dir is a live session's (its first event is
 * TT_TRADING_START), 0 for a paper session's. Errors as tt_journal_reader_open. */
int tt_trading_journal_is_live(const char *dir, const tt_instruments *ins, int *live,
                               tt_err *err);

enum tt_trading_venue_kind { TT_TRADING_MT5 = 0, TT_TRADING_NATS = 1 };

struct tt_nats_opts;

typedef struct tt_trading_opts {
    int venue;                   /* enum tt_trading_venue_kind */
    const char *mt5_host;        /* MT5: listen on HOST:PORT */
    int mt5_port;
    const char *secret;          /* MT5: shared with the EA */
    const char *tls_cert, *tls_key; /* MT5: TLS on the listener (PEM); NULL = plain TCP */
    uint32_t hb_ms;
    const char *nats_url;        /* outputs on NATS; the NATS venue's bus and feed */
    const struct tt_nats_opts *nats_auth; /* authentication and TLS (nats_conn.h); may be NULL */
    const char *kafka_brokers;   /* archive topics and broker_communication_log */
    const char *const *kafka_conf;
    const char *journal_dir;     /* NULL = no journal (no replay, no recovery) */
    int journal_fsync;
    const char *const *symbols;  /* the scenario's symbols, NULL-terminated */
    uint8_t mode;                /* the scenario's account mode (TT_MODE_*) */
    int64_t minor_per_unit;
    int policy;                  /* reconciliation (enum tt_mt5_policy) */
    int64_t answer_ms, stale_ms;
    uint32_t deviation;
    int64_t spin_ns;             /* inbox polling before sleeping */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    struct tt_features_pub *features; /* feature rows (live/features_pub.h; borrowed, may
                                         be NULL): among the components, published while
                                         the outputs flow, signals carry their rows */
} tt_trading_opts;

typedef struct tt_trading_status {
    tt_inbox_stats inbox;
    uint32_t queued;
    uint64_t replayed;           /* journal events replayed before going live */
    int replaying;               /* still replaying the journal */
    uint64_t order_events, fills;
    tt_mt5_venue_stats venue;    /* MT5 venue (zero for the NATS venue) */
    uint64_t wire_frames;        /* bridge frames sent to Kafka */
} tt_trading_status;

/* Open the journal (continued when dir holds one), the inbox, the venue (in
 * replay mode), the NATS and Kafka connections. ins (borrowed) is the run's
 * instrument table. Errors name what failed (TT_ENET with the URL or
 * address, TT_EINVAL for bad options), having released what was opened. */
int tt_trading_open(tt_trading **l, const tt_instruments *ins, const tt_trading_opts *o, tt_err *err);

/* 1 when the session continues a journal (a restart). */
int tt_trading_resuming(const tt_trading *l);

/* The pieces for the run. The source yields the journal's events, then
 * (switching the venue to live) the inbox's. */
tt_source tt_trading_source(tt_trading *l);
tt_venue tt_trading_venue(tt_trading *l);
tt_clock tt_trading_clock(tt_trading *l);
/* Components to add after the strategy runner: writes up to max, returns how many. */
int tt_trading_components(tt_trading *l, tt_component *out, int max);
int tt_trading_sinks(tt_trading *l, tt_sink *out, int max);

/* The kill switch (see above). Thread-safe, not from a signal handler. */
void tt_trading_kill(tt_trading *l);

/* End the session: the inbox drains, STOP is journaled, the engine finishes.
 * Async-signal-safe. */
void tt_trading_stop(tt_trading *l);

void tt_trading_status_get(tt_trading *l, tt_trading_status *out);

/* After the run: close the venue (BYE to the terminal), the feeds, the sinks
 * and the journal. Returns the journal's close error, if any. */
int tt_trading_close(tt_trading *l, tt_err *err);

#endif
