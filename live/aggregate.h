/*
 * ticktape live: the aggregator, several feeds of the same symbols merged
 * into one live feed (`ticktape aggregate`).
 *
 *   NATS ticks.{SOURCE}.{SYMBOL} ─┬► inbox (arrival stamps, bounded) ─► journal
 *   Kafka tick_archive (TickData ─┘
 *     with its source field)
 *                                      │
 *                                      ▼ consumer thread
 *                        consolidator (core/consolidate.h: policy, health)
 *                                      │
 *     ticks.{SYMBOL} (TickData, source = "ic+pepper")    merged quotes
 *     sources.{failover|failback|cross}.{SYMBOL}, sources.state.{SOURCE}  (JSON)
 *     quality.{SOURCE}.{SYMBOL} (QualityMetrics, every quality_every)
 *
 * Sources are the subject's middle word, or on Kafka the TickData's `source`
 * field (ticktape's field 8; letters, digits, '_', '-'). With
 * `sources` given they are those, in priority order, and a tick of any other
 * is rejected (counted); without, a source is taken on in order of first
 * appearance (priority in that order). Up to TT_CONSOL_MAX_SOURCES.
 *
 * Deterministic and replayable. Time is the arrival stamp (the inbox's,
 * strictly increasing), so the consolidator's health rules (staleness,
 * hysteresis) run on the journaled clock. The journal (live/journal.h) holds,
 * in order: the configuration (a JSON record: policy, health settings,
 * sources), each source's name when it is first seen, every tick as it
 * arrived (before the consolidator saw it), every health, failover and
 * fail-back event the consolidator produced (JSON, after the tick that caused
 * it), gap marks of the NATS connection and the STOP. tt_aggregator_replay
 * feeds the journaled ticks to a fresh consolidator with the journaled
 * configuration and writes the same output lines, and checks the events it
 * recomputes against the journaled ones.
 *
 * The output lines (on_output, `--out FILE`): one JSON object per merged tick
 * and per event, in order:
 *   {"tick":1,"time":"2026-...Z","symbol":"EURUSD","bid":1.14420,"ask":1.14430,
 *    "bid_from":"ic","ask_from":"ic+pepper","crossed":false}
 *   {"event":"failover","time":...}       (tt_consol_event_json)
 * They do not depend on anything but the journaled inputs: a replay writes
 * the same bytes.
 *
 * Health: tt_aggregator_health_json writes the ingestion gateway's health
 * object for the status API: per source its status, symbols (with their
 * states), ticks per second, latency (arrival - the tick's own timestamp, ms)
 * and spread; callable from any thread while the aggregator runs.
 */
#ifndef TT_AGGREGATE_H
#define TT_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/consolidate.h"
#include "../core/error.h"
#include "../core/instrument.h"

#define TT_AGG_CONFIG 0x41474346u /* journal: the configuration ("AGCF") */
#define TT_AGG_SOURCE 0x41475352u /* journal: a source's index and name ("AGSR") */
#define TT_AGG_EVENT 0x41474556u  /* journal: a consolidator event, JSON ("AGEV") */

typedef struct tt_aggregator tt_aggregator;

struct tt_nats_opts;

typedef struct tt_aggregator_opts {
    const char *nats_url;          /* required: ticks in, the merged feed out */
    const struct tt_nats_opts *nats_auth; /* authentication and TLS (nats_conn.h); may be NULL */
    const char *kafka_brokers;     /* also consume tick_archive: TickData whose field
                                      `source` names the source; NULL = no Kafka */
    const char *kafka_group;       /* consumer group; NULL = "ticktape" */
    int kafka_from_beginning;      /* a new group starts at the oldest offset */
    const char *const *kafka_conf; /* extra librdkafka settings; may be NULL */
    const char *const *sources;    /* names in priority order, NULL-ended; NULL: any */
    tt_consol_config cfg;          /* policy and health rules (nsources is set here) */
    const tt_instruments *ins;     /* borrowed; required */
    const char *journal_dir;       /* NULL: no journal (then no replay) */
    int journal_fsync;
    int no_publish;                /* merge and journal, publish nothing */
    int64_t quality_every_ns;      /* QualityMetrics period (arrival time); 0 = 1 s */
    uint32_t queue_capacity;       /* inbox slots; 0 = 65536 */
    int64_t spin_ns;               /* inbox: poll this long before sleeping; 0 = off */
    /* Each output line (see above), on the consumer thread; may be NULL. */
    void (*on_output)(void *ctx, const char *line, size_t len);
    void *out_ctx;
    /* Connection events, rejected messages; may be NULL. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} tt_aggregator_opts;

typedef struct tt_aggregator_stats {
    uint64_t received;   /* messages delivered by nats.c */
    uint64_t ticks;      /* ticks consolidated */
    uint64_t rejected;   /* messages that could not be used (bad TickData, unknown source) */
    uint64_t dropped;    /* dropped by the inbox's policy or by nats.c */
    uint64_t merged;     /* merged ticks out */
    uint64_t events;     /* consolidator events (state, failover, fail-back, cross) */
    uint64_t published, publish_failed;
    uint64_t journaled;
    uint32_t sources;
    double proc_ns_avg;  /* consolidator + publish per tick, mean */
} tt_aggregator_stats;

/* Connect, subscribe ticks.*.*, open the journal (it must be a new one).
 * TT_EINVAL (options, a journal dir already used), TT_ENET naming the URL,
 * TT_EIO, TT_ENOMEM; *a NULL then. */
int tt_aggregator_open(tt_aggregator **a, const tt_aggregator_opts *o, tt_err *err);

/* Run on the calling thread until tt_aggregator_stop: take the ticks in
 * arrival order, consolidate, publish, journal. Returns TT_OK, or the
 * journal's or the consolidator's error (the run stops). */
int tt_aggregator_run(tt_aggregator *a, tt_err *err);

/* Ask run() to finish: arrivals stop, the queue drains, a STOP is journaled.
 * Async-signal-safe, idempotent. */
void tt_aggregator_stop(tt_aggregator *a);

/* A snapshot of the counters (any thread). */
void tt_aggregator_stats_get(tt_aggregator *a, tt_aggregator_stats *out);

/* The health object (see above) into buf; returns its length (0 when cap is
 * too small). Any thread, while open. */
size_t tt_aggregator_health_json(tt_aggregator *a, char *buf, size_t cap);

/* After run() returned: close the feed and the journal, free. Returns the
 * journal's close error, or TT_OK. NULL is a no-op. */
int tt_aggregator_close(tt_aggregator *a, tt_err *err);

/* ---- replay ---- */

typedef struct tt_aggregator_replay_stats {
    uint64_t ticks, merged, events;
    uint64_t journaled_events; /* events the live run journaled */
    uint64_t mismatches;       /* recomputed events that differ from the journaled ones */
    uint32_t sources;
} tt_aggregator_replay_stats;

/* Replay a journal: the same output lines (on_output) from the journaled
 * ticks, configuration and sources. cfg (may be NULL) replaces the journaled
 * configuration (what-if runs; the check of events is then skipped). TT_OK;
 * TT_EFORMAT (no configuration record: not an aggregator's journal), the
 * journal's errors; TT_ESTATE when recomputed events differ from the
 * journaled ones (the count is in *st). */
int tt_aggregator_replay(const char *journal_dir, const tt_instruments *ins,
                         const tt_consol_config *cfg,
                         void (*on_output)(void *ctx, const char *line, size_t len), void *ctx,
                         tt_aggregator_replay_stats *st, tt_err *err);

#endif
