/*
 * ticktape live: publishing a tape onto NATS, as the seed's
 * polygon-live-collector would (ticks.{SYMBOL}, TickData protobuf), or onto
 * Kafka's tick_archive topic (TickData keyed by symbol), as it archives.
 *
 * Quotes are read from any engine source (normally a tape reader) and
 * published in order; with a source name, on ticks.{SOURCE}.{SYMBOL} (one
 * feed of several, for `ticktape aggregate`). External events in the source
 * (an imported calendar) go out too, as the external-data collector would
 * send them: their bytes on market.external.{type}, or on Kafka's
 * external_data_archive keyed by the type. Pacing:
 *   speed 0      as fast as the connection takes them;
 *   speed k > 0  k times real time: a tick whose ts is d after the first one
 *                goes out d / k after the start;
 *   rate r > 0   r ticks per second, evenly spaced (benchmarks), overrides speed.
 * Waits longer than 200 us sleep; shorter ones spin on the monotonic clock,
 * which keeps 10-100k ticks/s evenly spaced.
 */
#ifndef TT_PUBLISH_H
#define TT_PUBLISH_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <nats/nats.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/instrument.h"

typedef struct tt_publish_opts {
    natsConnection *nc;          /* borrowed; NATS target (or rk) */
    rd_kafka_t *rk;              /* borrowed producer; Kafka target, topic tick_archive */
    const tt_instruments *ins;   /* borrowed; names the symbols */
    double speed;                /* 0 = max */
    double rate;                 /* ticks/s; 0 = off */
    uint64_t limit;              /* stop after this many ticks; 0 = all */
    int json;                    /* publish the JSON tick form instead of protobuf */
    const char *source;          /* NATS: ticks.{source}.{SYMBOL}; NULL = ticks.{SYMBOL} */
    volatile int *stop;          /* set to non-zero to stop early (signal handler); may be NULL */
    /* Called every 4096 ticks with the count so far; may be NULL. */
    void (*progress)(void *ctx, uint64_t published);
    void *ctx;
    /* Called right after each publish with the tick and the monotonic ns at
     * which it was handed to nats.c (latency benchmarks); may be NULL. */
    void (*on_publish)(void *ctx, const tt_event *ev, int64_t mono_ns);
} tt_publish_opts;

typedef struct tt_publish_stats {
    uint64_t published;
    uint64_t externals; /* external events published */
    uint64_t skipped; /* other events, or symbols not in the table */
    double seconds;
} tt_publish_stats;

/* Publish the source's quotes. Returns TT_OK, the source's error, or TT_ENET
 * when nats.c or librdkafka refuses a message or the final flush times out
 * (Kafka: naming how many messages were left undelivered). */
int tt_publish_run(tt_source src, const tt_publish_opts *opts, tt_publish_stats *stats,
                   tt_err *err);

#endif
