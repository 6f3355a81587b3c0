/*
 * ticktape live: the Kafka sink (librdkafka).
 *
 * Produces the engine's outputs to the seed's archive topics, keyed by symbol
 * so that one symbol's messages stay in one partition and in order
 * (live/wire.h has the table): trading_signals_archive, order_execution_archive,
 * risk_events_archive, aggregate_archive, broker_communication_log. The
 * payload is the same protobuf message the NATS sink publishes; a header
 * `tt-type` names it ("ticktape.OrderEvent", ...), and the Kafka timestamp is
 * the event's time in ms.
 *
 * The producer is idempotent (enable.idempotence: no duplicates, no
 * reordering on retries) and every message gets a delivery report, counted
 * (delivered / failed, the first failures logged). When librdkafka's local
 * queue is full the sink serves delivery reports and retries instead of
 * dropping: order events are never dropped here. flush() waits up to
 * flush_timeout_ms for every message to be acknowledged and fails with
 * TT_ENET naming how many were not ("3 messages undelivered ...").
 */
#ifndef TT_KAFKA_SINK_H
#define TT_KAFKA_SINK_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/instrument.h"

typedef struct tt_kafka_sink tt_kafka_sink;

typedef struct tt_kafka_sink_opts {
    const char *brokers;       /* bootstrap.servers; required */
    const tt_instruments *ins; /* borrowed; required */
    const char *const *conf;   /* extra "key=value" librdkafka settings, NULL-terminated; may be NULL */
    int64_t flush_timeout_ms;  /* 0 = 10000 */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    /* the feature row behind a model's signal, for its ModelPrediction.features
     * (live/features_pub.h); NULL: sent empty */
    const double *(*signal_row)(void *ctx, const tt_event *ev, int *n);
    void *signal_row_ctx;
} tt_kafka_sink_opts;

typedef struct tt_kafka_sink_stats {
    uint64_t produced;  /* messages handed to librdkafka */
    uint64_t delivered; /* acknowledged by the brokers */
    uint64_t failed;    /* delivery reports with an error */
    uint64_t retries;   /* local queue full: waited and retried */
    uint64_t undelivered; /* still queued after the last flush */
} tt_kafka_sink_stats;

/* Create the producer. TT_OK, or TT_EINVAL (no brokers or instruments, or the
 * setting librdkafka refused, named), TT_ENOMEM; *s is then NULL. */
int tt_kafka_sink_open(tt_kafka_sink **s, const tt_kafka_sink_opts *opts, tt_err *err);

/* The engine sink (s borrowed). Cannot fail. Its write is tt_kafka_sink_produce:
 * TT_OK, or TT_ENET naming the topic when librdkafka refuses a message (a full
 * local queue is waited on, not an error); its flush tt_kafka_sink_flush. */
tt_sink tt_kafka_sink_sink(tt_kafka_sink *s);

/* Produce one output event (what the sink's write does). */
int tt_kafka_sink_produce(tt_kafka_sink *s, const tt_event *ev, tt_err *err);

/* Produce one message of the caller's (the MT5 bridge's frames to
 * broker_communication_log), with the same key, header and retry rules. */
int tt_kafka_sink_produce_raw(tt_kafka_sink *s, const char *topic, const char *key,
                              const void *data, size_t len, tt_ts ts, const char *type,
                              tt_err *err);

/* Wait for every message (bounded by flush_timeout_ms); TT_ENET with the count
 * of undelivered or failed messages. */
int tt_kafka_sink_flush(tt_kafka_sink *s, tt_err *err);

/* Cannot fail. */
void tt_kafka_sink_stats_get(tt_kafka_sink *s, tt_kafka_sink_stats *out);

/* Flush (bounded), destroy the producer, free (NULL is allowed). Cannot fail and
 * reports nothing: call tt_kafka_sink_flush first to learn of undelivered
 * messages. */
void tt_kafka_sink_close(tt_kafka_sink *s);

#endif
