/*
 * ticktape live: the MT5 bridge on the seed's NATS bus.
 *
 * `ticktape mt5-connector` is the seed's service 14: it holds the terminal
 * connection (an MT5 venue, live/mt5_venue.h, with no engine of its own)
 * and serves orders from the bus; `ticktape live --venue nats` sends its
 * orders that way (the NATS venue below), so any connector on the bus can
 * be the venue. Subjects, with NATS headers `Tt-Type` (the payload's
 * message) and `Tt-Session` (the engine session's tag, which is also the
 * high half of every magic number at the broker):
 *
 *   orders.submitted.{SYMBOL}  ticktape.OrderCommand  engine -> connector
 *   broker.fill.{SYMBOL}       ticktape.OrderEvent    fills (filled, partially filled)
 *   broker.error.{SYMBOL}      ticktape.OrderEvent    rejected, failed; and
 *                              application/json       other problems: {"symbol",
 *                                                     "client_id","retcode","text"}
 *   broker.order.{SYMBOL}      ticktape.OrderEvent    accepted, cancelled, expired, modified
 *   ticks.{SYMBOL}             TickData               the terminal's quotes (--publish-ticks)
 *
 * A command is a message on orders.submitted.* whose Tt-Type is
 * ticktape.OrderCommand: the order events a session's NATS sink publishes on
 * the same subjects (orders.submitted.* is also the seed's name for "this
 * order went to the venue") carry no such header and are not orders. A
 * connector serves one engine session (the first Tt-Session it hears);
 * commands of another session are answered with a rejection.
 *
 * Core NATS delivers at most once: on a local bus that is what it does in
 * practice, but a command or an answer lost in between is not recovered by
 * the bus (the connector still never sends a request twice to the terminal,
 * and reconciles nothing on the engine's behalf). Direct mode (`live --mt5`)
 * has no such gap.
 */
#ifndef TT_MT5_BUS_H
#define TT_MT5_BUS_H

#include <stdint.h>

#include <nats/nats.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/instrument.h"
#include "inbox.h"
#include "mt5_venue.h"

#define TT_MT5_HDR_TYPE "Tt-Type"
#define TT_MT5_HDR_SESSION "Tt-Session"

/* Publish an order event of session `tag` on broker.fill/error/order.{SYMBOL}. */
int tt_mt5_bus_publish_event(natsConnection *nc, const tt_instruments *ins, uint64_t tag,
                             const tt_event *ev, tt_err *err);
/* Publish a report (not an order event) on broker.fill.* (a deal, as JSON) or broker.error.*. */
int tt_mt5_bus_publish_report(natsConnection *nc, uint64_t tag, const tt_mt5_report *r,
                              tt_err *err);

/* ---- the NATS venue (the engine's side) ---- */

typedef struct tt_nats_venue tt_nats_venue;

typedef struct tt_nats_venue_opts {
    natsConnection *nc;         /* borrowed (the session's feed connection) */
    const tt_instruments *ins;  /* borrowed */
    tt_inbox *inbox;            /* the answers go here, journaled (borrowed) */
    void (*log)(void *ctx, const char *line);
    void *ctx;
} tt_nats_venue_opts;

/* Subscribe broker.fill.>, broker.error.>, broker.order.>. TT_ENET naming nats.c's reason. */
int tt_nats_venue_new(tt_nats_venue **v, const tt_nats_venue_opts *o, tt_err *err);
/* The port; its hooks see the dispatched events: the session's first input
 * gives its tag, the order events tell which orders are working (for the
 * kill switch). */
tt_venue tt_nats_venue_port(tt_nats_venue *v);
/* Kill switch: cancel every working order (commands on the bus). */
void tt_nats_venue_kill(tt_nats_venue *v);
void tt_nats_venue_free(tt_nats_venue *v);

/* ---- the connector (service 14) ---- */

typedef struct tt_mt5_connector tt_mt5_connector;

struct tt_nats_opts;

typedef struct tt_mt5_connector_opts {
    const char *nats_url;
    const struct tt_nats_opts *nats_auth; /* authentication and TLS (nats_conn.h); may be NULL */
    const char *host;            /* listen for the terminal on HOST:PORT */
    int port;
    const char *secret;
    const char *tls_cert, *tls_key; /* TLS on the listener (PEM); NULL = plain TCP */
    uint32_t hb_ms;
    const char *const *symbols;  /* the symbols served, NULL-terminated */
    uint8_t mode;                /* the account mode the orders expect (TT_MODE_*) */
    int64_t answer_ms, stale_ms;
    int publish_ticks;           /* the terminal's quotes on ticks.{SYMBOL} */
    void (*on_wire)(void *ctx, int dir, const char *line, size_t len);
    void (*log)(void *ctx, const char *line);
    void *ctx;
} tt_mt5_connector_opts;

/* Connect to NATS, listen for the terminal, subscribe orders.submitted.>.
 * TT_ENET naming the URL or the address. */
int tt_mt5_connector_open(tt_mt5_connector **c, const tt_mt5_connector_opts *o, tt_err *err);
int tt_mt5_connector_port(tt_mt5_connector *c); /* the port it listens on */
void tt_mt5_connector_stats(tt_mt5_connector *c, tt_mt5_venue_stats *out, uint64_t *published);
/* Stop serving, close everything. */
void tt_mt5_connector_close(tt_mt5_connector *c);

#endif
