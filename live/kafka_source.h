/*
 * ticktape live: the Kafka source (librdkafka).
 *
 * Consumes the seed's `tick_archive` topic (TickData protobuf, keyed by
 * symbol) as a member of a consumer group, for replaying an archive or filling
 * a gap in the live feed, and pushes each tick into an inbox (live/inbox.h),
 * which stamps and journals it like any live input. A TickData without a
 * symbol takes it from the message key. A poll thread of its own calls
 * rd_kafka_consumer_poll. A message that fails to decode is counted and
 * logged with topic, partition and offset, and the run goes on; consumer
 * errors are logged and counted.
 *
 * At least once, and once per journal (docs/live.md, "Kafka"):
 *
 *  - Ticks are pushed with TT_INBOX_NO_DROP: a full inbox makes the poll
 *    thread wait (Kafka keeps the rest), never drops a tick whose offset
 *    would then be committed.
 *  - Offsets are committed only for ticks whose journal block is on disk
 *    (tt_kafka_source_durable, called by the journal after each block), never
 *    by librdkafka on its own (enable.auto.commit and auto offset store off).
 *    Each commit carries the journal's directory as metadata.
 *  - Each journal block ends with a note of the offsets its ticks came from
 *    (tt_kafka_source_note), written atomically with them. When partitions
 *    are assigned, the source reads the committed offsets, follows their
 *    metadata to the journal(s) that consumed them, and resumes after the
 *    last note there if that is further on: a tick journaled by a session
 *    that died before its commit reached the broker is not journaled again.
 *    It then commits the resume points with its own journal as metadata, so
 *    the chain holds whenever this session dies.
 *  - Within a session, a message at or below the last offset taken from its
 *    partition (a redelivery after a rebalance or a retry) is recognised by
 *    (topic, partition, offset), counted as a duplicate and skipped.
 *
 * Without a journal there is nothing to be durable in: offsets are then
 * committed as ticks enter the inbox (a crash loses what was queued).
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
    /* The session's journal directory: offsets are committed when the
     * journal says their ticks are durable, with this as metadata. NULL: no
     * journal, commit on push. */
    const char *journal_dir;
    int64_t max_tick_age; /* refuse ticks older than this at arrival (0 = no limit) */
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
    uint64_t received;   /* messages consumed */
    uint64_t ticks;      /* decoded and pushed */
    uint64_t rejected;   /* failed to decode */
    uint64_t errors;     /* consumer errors reported by librdkafka */
    uint64_t duplicates; /* redelivered (topic, partition, offset) already taken: skipped */
    uint64_t committed;  /* ticks whose offsets were committed */
    uint64_t resumed;    /* partitions resumed past their committed offset from a journal note */
} tt_kafka_source_stats;

/* Create the consumer, subscribe, start the poll thread. TT_EINVAL naming a
 * refused setting (by key only: a value may be a secret); TT_ENET when the
 * subscription fails. */
int tt_kafka_source_open(tt_kafka_source **s, const tt_kafka_source_opts *opts, tt_err *err);

void tt_kafka_source_stats_get(tt_kafka_source *s, tt_kafka_source_stats *out);

/* Journal hooks (tt_journal_opts.note / .durable, ctx = the source). */
void tt_kafka_source_note(void *s, uint64_t seq, uint8_t **note, uint32_t *len);
void tt_kafka_source_durable(void *s, uint64_t seq);

/* Stop the poll thread, leave the group, free. Offsets not yet durable are
 * not committed (they come back to the group). */
void tt_kafka_source_close(tt_kafka_source *s);

#endif
