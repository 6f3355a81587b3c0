/*
 * ticktape live: the NATS source.
 *
 * Connects to a NATS server with nats.c, subscribes the market-data subjects
 * and pushes every decoded message into an inbox (live/inbox.h), which stamps
 * it on arrival and hands it to the engine. Subjects and payloads
 * (live/wire.h):
 *
 *   ticks.*             the seed's TickData protobuf on ticks.{SYMBOL} (not an
 *                       aggregator's raw feeds, ticks.{SOURCE}.{SYMBOL}); with
 *                       json_ticks, a payload starting with '{' is read as the
 *                       JSON tick form instead
 *   bars.>              ticktape.Bar
 *   market.external.>   any payload, kept as an EXTERNAL event
 *
 * A message that fails to decode (bad protobuf, unknown symbol, bad price,
 * unexpected subject) is counted and logged with its subject and the reason
 * (tt_inbox_reject) and the run goes on.
 *
 * Reconnects: the client reconnects forever by default. On a disconnect the
 * source queues CONTROL GAP_BEGIN, on reconnection GAP_END (arg = the number
 * of the disconnect, from 1), so the journal marks the hole in the feed.
 *
 * Messages are decoded on nats.c's delivery thread (one per subscription);
 * nats.c's own per-subscription queue is bounded by pending_msgs and 64 MiB,
 * beyond which nats.c drops messages and reports a slow consumer (counted in
 * nats_dropped). While the inbox applies backpressure (inbox.h), this queue
 * holds the burst.
 */
#ifndef TT_NATS_SOURCE_H
#define TT_NATS_SOURCE_H

#include <stdint.h>

#include <nats/nats.h>

#include "../core/error.h"
#include "../core/instrument.h"
#include "inbox.h"

struct tt_nats_opts;

typedef struct tt_nats_source tt_nats_source;

typedef struct tt_nats_source_opts {
    const char *url;              /* "nats://127.0.0.1:4222"; required */
    const struct tt_nats_opts *auth; /* authentication and TLS (nats_conn.h); may be NULL */
    /* A tick whose exchange time is further from its arrival than this is
     * refused: max_tick_ahead ahead (0 = TT_WIRE_TICK_AHEAD, one minute),
     * max_tick_age behind (0 = no limit: recorded data may be replayed). */
    int64_t max_tick_ahead, max_tick_age;
    int64_t pending_bytes; /* nats.c's per-subscription queue, in bytes; 0 = 64 MiB */
    int64_t tick_pending_bytes; /* the same for the ticks.* subscription, which must hold a
                                   publisher's burst (see nats_source.c); 0 = pending_bytes */
    const char *const *subjects;  /* NULL-terminated; NULL = ticks.*, bars.>, market.external.> */
    int json_ticks;               /* also accept the JSON tick form on ticks.* */
    const tt_instruments *ins;    /* borrowed; required */
    tt_inbox *inbox;              /* borrowed; required */
    int max_reconnect;            /* 0 = forever */
    int64_t reconnect_wait_ms;    /* 0 = 100 ms */
    int pending_msgs;             /* nats.c pending limit per subscription; 0 = 262144 (and
                                     64 MiB): beyond it nats.c drops and reports a slow consumer.
                                     A tick is ~200 bytes there: about 50 MiB at the limit */
    int64_t connect_timeout_ms;   /* 0 = 2000 */
    void (*log)(void *ctx, const char *line); /* connection events; may be NULL */
    void *log_ctx;
    /* Several feeds into one inbox (the aggregator, with the inbox's
     * keep_source): the source id of a decoded message from its subject, 0 to
     * refuse it (counted as rejected). NULL: every message gets the inbox's. */
    uint16_t (*source_of)(void *ctx, const char *subject);
    void *source_ctx;
} tt_nats_source_opts;

typedef struct tt_nats_source_stats {
    uint64_t received;     /* messages delivered by nats.c */
    uint64_t ticks, bars, externals;
    uint64_t rejected;     /* failed to decode (also in the inbox's count) */
    uint64_t nats_dropped; /* dropped by nats.c (slow consumer) */
    uint64_t disconnects, reconnects;
} tt_nats_source_stats;

/* Connect and subscribe. TT_OK, or TT_ENET naming the URL and nats.c's reason
 * (the server is not there, a bad subject), TT_EINVAL for missing options or
 * too many subjects, TT_ENOMEM; *s is then NULL. */
int tt_nats_source_open(tt_nats_source **s, const tt_nats_source_opts *opts, tt_err *err);

/* The connection, for a sink that shares it (nats_sink.h): it has no-echo set,
 * so what the sink publishes (bars.*) never comes back to this source, and
 * send-asap, so each published message is written at once. Cannot fail. */
natsConnection *tt_nats_source_connection(tt_nats_source *s);

/* Cannot fail. */
void tt_nats_source_stats_get(tt_nats_source *s, tt_nats_source_stats *out);

/* Unsubscribe, close the connection, free (NULL is allowed). No callback runs
 * after it returns. Cannot fail. */
void tt_nats_source_close(tt_nats_source *s);

#endif
