/*
 * ticktape live: publishing a tape onto NATS, as the seed's
 * polygon-live-collector would (ticks.{SYMBOL}, TickData protobuf), or onto
 * Kafka's tick_archive topic (TickData keyed by symbol), as it archives.
 *
 * Quotes are read from any engine source (normally a tape reader) and
 * published in order. Pacing:
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
    volatile int *stop;          /* set to non-zero to stop early (signal handler); may be NULL */
    /* Called every 4096 ticks with the count so far; may be NULL. */
    void (*progress)(void *ctx, uint64_t published);
    void *ctx;
    /* Called right after each publish with the tick and the monotonic ns at
     * which it was handed to nats.c (latency benchmarks); may be NULL. */
    void (*on_publish)(void *ctx, const tt_event *ev, int64_t mono_ns);
} tt_publish_opts;

typedef struct tt_publish_stats {
    uint64_t published;   /* handed to nats.c / librdkafka */
    uint64_t skipped;     /* non-quote events, or symbols not in the table */
    uint64_t delivered;   /* Kafka: acknowledged by the brokers (delivery reports) */
    uint64_t undelivered; /* Kafka: published - delivered, after the final flush */
    int kafka;            /* the target was Kafka (delivered/undelivered apply) */
    double seconds;
} tt_publish_stats;

/* The run's figures as one human line ("published N ticks in S s (R ticks/s);
 * ...delivered/undelivered, disconnects, at risk when they apply") and as
 * one JSON object {"published","skipped","seconds","stopped","delivered",
 * "undelivered","disconnects","at_risk","error"} (null where a figure does
 * not apply). rc is tt_publish_run's result. Return buf. */
const char *tt_publish_stats_text(const tt_publish_stats *s, int stopped, char *buf, size_t cap);
const char *tt_publish_stats_json(const tt_publish_stats *s, int stopped, int rc, char *buf,
                                  size_t cap);

/* A producer for tick_archive (idempotent, linger 5 ms, then the caller's
 * settings, e.g. SASL/SSL from --kafka-set) with a delivery report for every
 * message: tt_publish_run counts a tick delivered only when its report says
 * so. TT_EINVAL naming a refused setting (never its value). Close with
 * tt_publish_kafka_close. */
int tt_publish_kafka_open(rd_kafka_t **rk, const char *brokers, const char *const *conf,
                          tt_err *err);
void tt_publish_kafka_close(rd_kafka_t *rk);

/* Publish the source's quotes. Returns TT_OK, the source's error, or TT_ENET
 * when nats.c or librdkafka refuses a message or the final flush times out.
 * Kafka (through tt_publish_kafka_open): after the final flush (30 s), any
 * tick without a successful delivery report is an error naming the count,
 * "N of M ticks were not delivered to tick_archive (first failure: ...)". */
int tt_publish_run(tt_source src, const tt_publish_opts *opts, tt_publish_stats *stats,
                   tt_err *err);

#endif
