/*
 * ticktape live: the NATS sink.
 *
 * An engine sink that publishes each output on the seed's subjects, protobuf
 * encoded (the table is in live/wire.h): signals.{SYMBOL},
 * signals.approved|rejected.{SYMBOL}, orders.{status}.{SYMBOL},
 * bars.{SYMBOL}.{tf}, risk.alert.{rule}, performance.alert.{kind}. With the
 * json option the payload is the JSON form of the same message instead.
 *
 * Publishing never stops the run: while the connection is down nats.c
 * buffers outgoing messages (reconnect buffer, 8 MiB by default) and sends
 * them after reconnecting; a publish that fails anyway is counted and logged,
 * and the run goes on (a paper session should not die because a dashboard
 * cannot hear it). flush() waits up to two seconds for the server to have
 * everything and fails with TT_ENET when it does not, naming the count.
 */
#ifndef TT_NATS_SINK_H
#define TT_NATS_SINK_H

#include <stdint.h>

#include <nats/nats.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/instrument.h"

typedef struct tt_nats_sink tt_nats_sink;

struct tt_nats_opts;

typedef struct tt_nats_sink_opts {
    const char *url;           /* connect here, unless conn is given */
    const struct tt_nats_opts *auth; /* authentication and TLS (nats_conn.h); may be NULL */
    natsConnection *conn;      /* borrowed connection (e.g. the source's); may be NULL */
    const tt_instruments *ins; /* borrowed; required */
    int send_asap;             /* own connection: write each message at once (latency);
                                  default buffered (throughput) */
    int json;                  /* publish the JSON form (wire.h) instead of protobuf */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    /* the feature row behind a model's signal, for its ModelPrediction.features
     * (live/features_pub.h); NULL: sent empty */
    const double *(*signal_row)(void *ctx, const tt_event *ev, int *n);
    void *signal_row_ctx;
} tt_nats_sink_opts;

typedef struct tt_nats_sink_stats {
    uint64_t published; /* messages handed to nats.c */
    uint64_t failed;    /* publishes nats.c refused */
    uint64_t skipped;   /* outputs with no subject (equity points, ...) */
} tt_nats_sink_stats;

/* Open (connecting when no conn is given). TT_OK, or TT_ENET naming the URL when
 * the connection fails, TT_EINVAL without instruments or a url or connection,
 * TT_ENOMEM. */
int tt_nats_sink_open(tt_nats_sink **s, const tt_nats_sink_opts *opts, tt_err *err);

/* The engine sink (s borrowed). Cannot fail; its write never fails (see
 * tt_nats_sink_publish), its flush fails with TT_ENET as said above. */
tt_sink tt_nats_sink_sink(tt_nats_sink *s);

/* Publish one output event now (what the sink's write does). Returns TT_OK;
 * failures are counted, not returned. */
int tt_nats_sink_publish(tt_nats_sink *s, const tt_event *ev);

/* Publish a message of the caller's (a feature row) on subject, counted and
 * logged like the outputs. Returns TT_OK; failures are counted, not returned. */
int tt_nats_sink_publish_raw(tt_nats_sink *s, const char *subject, const void *data, size_t len);

/* Cannot fail. */
void tt_nats_sink_stats_get(const tt_nats_sink *s, tt_nats_sink_stats *out);

/* Flush (bounded wait) and close the connection when the sink owns it, free
 * (NULL is allowed). Cannot fail and reports nothing: flush the sink first. */
void tt_nats_sink_close(tt_nats_sink *s);

#endif
