/*
 * ticktape live: paper trading, the wiring.
 *
 * A paper session is a backtest (sim/backtest.h) whose source is the live
 * feed and whose clock is the wall clock; nothing else changes, which is the
 * design's promise. tt_paper_attach takes a backtest builder (tt_backtest_open
 * on a prepared configuration) and fills its slots:
 *
 *   source     an inbox (live/inbox.h) fed by the NATS source (ticks.*,
 *              bars.>, market.external.>) or, without NATS, by the Kafka
 *              source (tick_archive); it replaces the configuration's data;
 *   journal    every input, written before the engine sees it (live/journal.h);
 *   clock      the inbox's watermark clock (tt_backtest_set_clock), so timers
 *              and the simulated venue's latency fire in wall time while
 *              replay parity holds;
 *   sinks      the NATS sink (outputs on the seed's subjects) and/or the
 *              Kafka sink (archive topics; the external events received go
 *              to external_data_archive as they came);
 *   component  "live": lets the inbox watch the engine's progress and counts
 *              order events for the status line;
 *   control    with NATS, a message on control.kill_switch engages the kill
 *              switch (tt_paper_kill).
 *
 * Then the caller executes the builder (tt_backtest_exec). tt_paper_stop (signal-safe)
 * ends the session cleanly: arrivals stop, the queue drains, a STOP event is
 * journaled, the engine finishes and flushes its sinks; tt_paper_close then
 * closes the feeds and the journal.
 *
 * Replaying: `ticktape replay` runs the same scenario with the journal
 * (tt_journal_reader_source) as the source and the simulated clock; the
 * orders, fills and fingerprint are those of the paper session.
 */
#ifndef TT_PAPER_H
#define TT_PAPER_H

#include <stdint.h>

#include "../core/error.h"
#include "../core/instrument.h"
#include "../sim/backtest.h"
#include "inbox.h"

typedef struct tt_paper tt_paper;
struct tt_nats_opts;

typedef struct tt_paper_opts {
    const char *nats_url;          /* feed from NATS and publish outputs there */
    const struct tt_nats_opts *nats_auth; /* authentication and TLS (nats_conn.h); may be NULL */
    int64_t max_tick_age;          /* refuse ticks older than this at arrival (0 = no limit) */
    const char *kafka_brokers;     /* archive outputs to Kafka; the feed when no NATS */
    const char *const *kafka_conf; /* extra librdkafka settings for both (may be NULL) */
    const char *kafka_group;       /* consumer group (NULL = "ticktape-paper") */
    int kafka_from_beginning;      /* a new group starts at the oldest tick_archive offset */
    const char *journal_dir;       /* NULL = no journal (then no replay) */
    int journal_fsync;             /* fsync each journal block */
    int json_ticks;                /* accept JSON ticks on NATS too */
    int no_publish;                /* do not publish outputs on NATS */
    int publish_json;              /* publish outputs on NATS as JSON instead of protobuf */
    uint32_t queue_capacity;       /* inbox slots; 0 = 65536 */
    /* Bytes of memory the session's queues may hold (--queue-bytes): the
     * inbox's payloads get a sixteenth, the journal's queue a thirty-second,
     * nats.c's queue of each of the three subscriptions a sixty-fourth (at
     * least 4 MiB, so that an oversize message reaches our check); the rest is
     * left for what the budget cannot count exactly (the journal's block and
     * compressor buffers, copies in flight, the allocator's arenas), so that
     * the process grows by less than the budget under a flood. 0 = 256 MiB. */
    uint64_t queue_bytes;
    int64_t spin_ns;               /* inbox: poll before sleeping (see inbox.h); 0 = off */
    int64_t backpressure_ns;       /* inbox: wait on a full queue (see inbox.h); 0 = 250 ms,
                                      < 0 = drop at once */
    void (*log)(void *ctx, const char *line); /* feed problems and events; may be NULL */
    void *log_ctx;
    struct tt_features_pub *features; /* feature rows on the sinks (live/features_pub.h;
                                         borrowed, may be NULL): its component joins
                                         the run, signals carry their rows */
} tt_paper_opts;

typedef struct tt_paper_status {
    tt_inbox_stats inbox;    /* arrivals, drops, rejects, gaps */
    uint32_t queued;         /* events waiting for the engine now */
    uint64_t feed_dropped;   /* dropped before the inbox by nats.c (slow consumer) */
    uint64_t order_events;   /* order events seen by the engine so far */
    uint64_t fills;
    uint64_t journaled;      /* = inbox.delivered when a journal is kept */
    int connected;           /* feed connection up (NATS), or 1 (Kafka) */
} tt_paper_status;

/* Open the feed(s), the journal and the sinks and put them in bt's slots
 * (source, clock, sinks, one component; see above). ins (borrowed) is the
 * run's instrument table. Returns 0 with *p set, or the feed's, journal's,
 * sink's or builder's error (TT_EINVAL without a feed or for a journal dir
 * already used, TT_ENET naming the URL, TT_ENOMEM, ...) with *p NULL, having
 * released whatever it had opened (bt may then hold some of the slots: close
 * it rather than execute it). */
int tt_paper_attach(tt_paper **p, tt_backtest *bt, const tt_instruments *ins,
                    const tt_paper_opts *opts, tt_err *err);

/* End the session (see above). Async-signal-safe; idempotent; cannot fail. */
void tt_paper_stop(tt_paper *p);

/* Engage the kill switch: a CONTROL KILL event goes into the inbox, so it is
 * journaled like every input and a replay of the journal halts at the same
 * place (the strategy runner's risk gate refuses new orders from then on).
 * Also done by a message on NATS control.kill_switch. Thread-safe (not from a
 * signal handler); idempotent. 0, or the inbox's error (TT_ENOMEM). */
int tt_paper_kill(tt_paper *p);

/* A snapshot for the status line; callable from any thread during the run.
 * Cannot fail. */
void tt_paper_status_get(tt_paper *p, tt_paper_status *out);

/* Counters of the outputs side, valid after tt_backtest_exec returned.
 * Cannot fail. */
typedef struct tt_paper_outputs {
    uint64_t nats_published, nats_failed;
    uint64_t kafka_produced, kafka_delivered, kafka_failed, kafka_undelivered;
} tt_paper_outputs;
void tt_paper_outputs_get(tt_paper *p, tt_paper_outputs *out);

/* After tt_backtest_exec returned: close the feeds, the sinks and the
 * journal, free p. Returns 0, or the journal's close error (TT_EIO: its last
 * block could not be written or synced). NULL is a no-op returning 0. */
int tt_paper_close(tt_paper *p, tt_err *err);

#endif
