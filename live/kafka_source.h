/*
 * ticktape live: the Kafka source (librdkafka).
 *
 * Consumes the seed's `tick_archive` topic (TickData protobuf, keyed by
 * symbol) as a member of a consumer group, for replaying an archive or filling
 * a gap in the live feed, and pushes each tick into an inbox (live/inbox.h),
 * which stamps and journals it like any live input. A TickData without a
 * symbol takes it from the message key. A poll thread of its own
 * calls rd_kafka_consumer_poll; offsets are committed by librdkafka
 * (enable.auto.commit) after the message was pushed. A message that fails to
 * decode is counted and logged with topic, partition and offset, and the run
 * goes on; consumer errors are logged and counted.
 */
#ifndef TT_KAFKA_SOURCE_H
#define TT_KAFKA_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/instrument.h"
#include "inbox.h"

typedef struct tt_kafka_source tt_kafka_source;

typedef struct tt_kafka_source_opts {
    const char *brokers;       /* bootstrap.servers; required */
    const char *topic;         /* NULL = "tick_archive" */
    const char *group;         /* group.id; NULL = "ticktape" */
    int from_beginning;        /* auto.offset.reset=earliest (else latest) */
    const char *const *conf;   /* extra "key=value" settings, NULL-terminated; may be NULL */
    const tt_instruments *ins; /* borrowed; required */
    tt_inbox *inbox;           /* borrowed; required */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    /* Several feeds into one inbox (the aggregator, with the inbox's
     * keep_source): the source id of a decoded message from its bytes (the
     * TickData's source field), 0 to refuse it (counted as rejected). NULL:
     * every message gets the inbox's. */
    uint16_t (*source_of)(void *ctx, const void *data, size_t len);
    void *source_ctx;
} tt_kafka_source_opts;

typedef struct tt_kafka_source_stats {
    uint64_t received; /* messages consumed */
    uint64_t ticks;    /* decoded and pushed */
    uint64_t rejected; /* failed to decode */
    uint64_t errors;   /* consumer errors reported by librdkafka */
} tt_kafka_source_stats;

/* Create the consumer, subscribe, start the poll thread. TT_EINVAL naming a
 * refused setting; TT_ENET when the subscription fails. */
int tt_kafka_source_open(tt_kafka_source **s, const tt_kafka_source_opts *opts, tt_err *err);

void tt_kafka_source_stats_get(tt_kafka_source *s, tt_kafka_source_stats *out);

/* Stop the poll thread, leave the group (commits offsets), free. */
void tt_kafka_source_close(tt_kafka_source *s);

#endif
