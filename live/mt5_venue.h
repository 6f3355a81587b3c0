/*
 * ticktape live: the MetaTrader 5 venue, the second implementation of the
 * venue port (core/engine.h) beside the simulated one (sim/venue.h).
 *
 * The engine's order commands become trade requests to a terminal over the
 * bridge (live/mt5_link.h, docs/mt5-protocol.md); the terminal's answers,
 * deals and order states become the engine's order events; its quotes become
 * the engine's quotes. Nothing the terminal says reaches the engine directly:
 * every quote and every venue response is pushed into the session's inbox
 * (live/inbox.h), which journals it before the engine sees it, so a replay of
 * the journal, with the recorded responses playing the venue's part, gives
 * the same orders, fills and fingerprint (docs/live.md).
 *
 * Units. Engine qty is a count of the instrument's volume_step lots; the
 * broker's volumes are lots; a qty goes out as qty x volume_step and a fill
 * comes back as lots / volume_step (a broker volume off the engine's grid is
 * carried until it completes a step). Prices are the instrument's points
 * both ways; commissions come from the deals (MT5 reports them negative),
 * in the account's minor units.
 *
 * Before an order leaves (the venue answers at once, through the inbox, with
 * the reason named): not connected or not yet in sync, the symbol's last
 * quote older than stale_ms, no SPEC for the symbol, a volume outside its
 * min/max or off its step, a time in force the symbol's filling modes cannot
 * carry, a price or SL/TP inside the stops level, trading disabled, the kill
 * switch engaged.
 *
 * A request is never sent twice. One with no RESULT within answer_ms is
 * asked about (QUERY by its magic number): the terminal tells whether it
 * became an order, and with which deals; "none" means it never did (the
 * order is then rejected, reason no_answer, and the strategy may send a new
 * one). Deals are recognised by ticket within a session and counted by
 * volume per order, so a deal reported twice (RESULT then HISTORY, a QUERY
 * answer) is applied once.
 *
 * Identity. Each order carries magic = (session tag << 32) | client id and
 * comment "tt:<client id>"; the tag comes from the session's first input
 * time, so it is the same when the session is restarted from its journal.
 * A position's engine ticket is its opening order's client id (the
 * portfolio's rule); the venue maps MT5 position ids to it.
 *
 * Sessions. On each (re)connection: HISTORY since the last deal seen (deals
 * that happened while nobody listened), QUERY for every order whose fate is
 * unknown, then SNAPSHOT; the terminal's positions and orders are compared
 * with the engine's (the venue keeps a mirror of the positions its fills
 * made) and the policy applies (docs/live.md, "Reconciliation"): `halt`
 * (default) reports and refuses new orders, `adopt` books the broker's
 * positions into the engine as venue deals (reason reconcile), `close`
 * closes at the broker what the engine does not hold. Orders are refused
 * until that is done; a GAP_BEGIN / GAP_END control pair marks the outage
 * for the strategy.
 *
 * Replay and recovery. The venue starts in replay mode: commands are only
 * recorded, order events dispatched by the engine (from the journal) update
 * its state (the port's on_arrival hook sees them). tt_mt5_venue_start switches to live:
 * the listener opens and from then on the venue's own events update its
 * state as they are emitted.
 *
 * Threads: command() runs on the engine thread, the frames on the link's
 * thread; one mutex guards the state, and events are pushed under it, so the
 * journal's order is the order in which the venue decided.
 */
#ifndef TT_MT5_VENUE_H
#define TT_MT5_VENUE_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/instrument.h"
#include "inbox.h"
#include "mt5_proto.h"

enum tt_mt5_policy { TT_MT5_POLICY_HALT = 0, TT_MT5_POLICY_ADOPT = 1, TT_MT5_POLICY_CLOSE = 2 };

/* "halt" | "adopt" | "close" -> the policy, -1 when unknown. */
int tt_mt5_policy_parse(const char *s);

/* What happened at the broker, for the NATS broker.fill.* / broker.error.*
 * subjects (live/mt5_bus.h). */
typedef struct tt_mt5_report {
    int fill;                 /* 1: a deal (broker.fill); 0: a refusal or fault (broker.error) */
    const char *symbol;
    uint64_t client_id;       /* 0: not an order of this session */
    const tt_mt5_deal *deal;  /* fill */
    uint32_t retcode;         /* error: MT5's return code (0: a ticktape-side refusal) */
    const char *text;         /* error: what happened */
    uint64_t tag;             /* the session's tag (the NATS header Tt-Session) */
} tt_mt5_report;

typedef struct tt_mt5_venue_opts {
    const tt_instruments *ins;  /* the run's instruments (borrowed) */
    tt_inbox *inbox;            /* quotes and responses go here (borrowed) */
    const char *host;           /* listen on HOST:PORT */
    int port;
    const char *secret;         /* shared with the EA */
    const char *tls_cert, *tls_key; /* TLS on the listener (PEM files); NULL = plain TCP */
    uint32_t hb_ms;             /* heartbeat; 0 = 1000 */
    const char *const *symbols; /* the session's symbols, NULL-terminated */
    uint8_t mode;               /* TT_MODE_NETTING or TT_MODE_HEDGING: the account must match */
    int64_t minor_per_unit;     /* of the account currency; 0 = 100 */
    int64_t answer_ms;          /* query a request unanswered this long; 0 = 2000 */
    int64_t stale_ms;           /* refuse orders on older quotes; 0 = 10000, < 0 = never */
    uint32_t deviation;         /* points a market order may slip (instant execution); 0 = 10 */
    int policy;                 /* enum tt_mt5_policy */
    int no_reconcile;           /* skip the reconciliation (mt5-connector: the engine is
                                   elsewhere, on the bus) */
    /* called on the engine thread before an ORDER frame leaves (the session
     * flushes its journal there, so every input that led to it is on disk) */
    void (*before_send)(void *ctx);
    void (*on_wire)(void *ctx, int dir, const char *line, size_t len); /* every frame */
    void (*on_report)(void *ctx, const tt_mt5_report *r);
    /* every order event as the venue emits it, with the session's tag */
    void (*on_emit)(void *ctx, uint64_t tag, const tt_event *ev);
    void (*log)(void *ctx, const char *line);
    void *ctx;
} tt_mt5_venue_opts;

typedef struct tt_mt5_venue_stats {
    uint64_t sessions, requests, results, deals, queries, local_rejects, broker_rejects;
    uint64_t unanswered;        /* requests that needed a QUERY */
    uint64_t differences;       /* found by reconciliation */
    uint64_t ticks;
    int connected, ready, killed, halted;
} tt_mt5_venue_stats;

typedef struct tt_mt5_venue tt_mt5_venue;

/* A venue in replay mode (nothing is sent, nothing listens yet). */
int tt_mt5_venue_new(tt_mt5_venue **v, const tt_mt5_venue_opts *o, tt_err *err);

/* The port for the engine's venue slot (its hooks see the dispatched events:
 * the session's first input, and in replay mode the journal's order events;
 * totals() sums the fills the venue made). */
tt_venue tt_mt5_venue_port(tt_mt5_venue *v);

/* Go live: listen for the terminal. TT_ENET naming the address. */
int tt_mt5_venue_start(tt_mt5_venue *v, tt_err *err);

/* The session: its tag (the high half of every magic number) and its start
 * (where HISTORY begins). Normally both come from the first input the engine
 * dispatches; mt5-connector, which has no engine, sets its start when it
 * starts and the tag from the orders it serves. Each is set once (0 = leave
 * it as it is). */
void tt_mt5_venue_set_session(tt_mt5_venue *v, uint64_t tag, tt_ts first_ts);

/* The port it listens on (after start; for a port 0 given). */
int tt_mt5_venue_listen_port(tt_mt5_venue *v);

/* The kill switch: every working order at the broker is cancelled, and from
 * now on no order that opens exposure leaves (orders that only reduce a
 * position still do, so the strategy can flatten). Thread-safe (not from a
 * signal handler). */
void tt_mt5_venue_kill(tt_mt5_venue *v);

void tt_mt5_venue_stats_get(tt_mt5_venue *v, tt_mt5_venue_stats *out);

/* Close the link (BYE) and free. */
void tt_mt5_venue_free(tt_mt5_venue *v);

/* A venue that takes commands and does nothing: a live journal's replay,
 * where the recorded responses play the venue's part. */
tt_venue tt_mt5_replay_port(void);

#endif
