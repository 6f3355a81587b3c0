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

/* A NATS target that accounts for what it published (tt_publish_nats_open):
 * core NATS with the disconnects and what they may have cost, or a
 * JetStream stream with an acknowledgement for every tick. */
typedef struct tt_publish_nats tt_publish_nats;
struct tt_nats_opts;

typedef struct tt_publish_opts {
    natsConnection *nc;          /* borrowed; NATS target (or rk, or pn) */
    tt_publish_nats *pn;         /* borrowed; an accounted NATS target (replaces nc) */
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
    uint64_t published;   /* handed to nats.c / librdkafka */
    uint64_t externals;   /* external events published */
    uint64_t skipped;     /* non-quote events, or symbols not in the table */
    uint64_t delivered;   /* Kafka: acknowledged by the brokers (delivery reports) */
    uint64_t undelivered; /* Kafka: published - delivered, after the final flush */
    int kafka;            /* the target was Kafka (delivered/undelivered apply) */
    /* accounted NATS (tt_publish_nats): */
    int jetstream;        /* delivered = acknowledged by the stream, undelivered = not */
    uint64_t disconnects; /* connection losses while publishing */
    uint64_t at_risk;     /* core NATS: published before a disconnect without the server's
                             confirmation (a flush round trip): may have been lost */
    uint64_t refused;     /* core NATS: refused by nats.c (its reconnect buffer full): lost */
    double seconds;
} tt_publish_stats;

/* Connect for publishing ticks (authentication and TLS: nats_conn.h). With
 * stream (NULL = core NATS), ticks go to that JetStream stream (created on
 * ticks.> with file storage if missing), each with a message id, and each
 * acknowledgement is counted; a publish that times out (a server restart) is
 * sent again with the same id (the stream drops duplicates), so the final
 * counts are exact. Without, the connection counts disconnects, and the
 * publisher confirms the server's receipt with a flush every 4096 ticks:
 * what was published after the last confirmation when the connection
 * dropped is reported as at risk. log (may be NULL) gets a line per
 * disconnect and reconnect (the URL redacted). TT_ENET. */
int tt_publish_nats_open(tt_publish_nats **pn, const char *url, const struct tt_nats_opts *auth,
                         const char *stream, void (*log)(void *ctx, const char *line),
                         void *log_ctx, tt_err *err);
void tt_publish_nats_close(tt_publish_nats *pn);

/* The run's figures as one human line ("published N ticks and E external
 * events in S s (R ticks/s); ...delivered/undelivered, disconnects, at risk
 * when they apply") and as one JSON object {"published","externals",
 * "skipped","seconds","stopped","delivered","undelivered","disconnects",
 * "at_risk","error"} (null where a figure does
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
