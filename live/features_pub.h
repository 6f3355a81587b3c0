/*
 * ticktape live: the feature rows of a session, published as its bars close.
 *
 * In a paper or live session with an `ml:` section, or an xgb strategy, each
 * closed bar's feature row goes out on NATS `features.{SYMBOL}.{tf}` and on
 * Kafka `ml_features_archive` (keyed by symbol), as ticktape.FeatureRow
 * (live/wire.h; JSON with the sink's json option). And a model's signal
 * carries the row its prediction was made from in ModelPrediction.features:
 * the sinks ask tt_features_pub_signal_row for it while encoding the signal.
 *
 * Why a component of its own, and not engine outputs: a row is up to 256
 * doubles, far more than a tt_event carries, and the rows are a pure function
 * of the inputs (quotes, and the release schedule), so a replay of the
 * journal computes them again; they are not part of the run's fingerprint.
 *
 * The same numbers as everywhere else. Each stream (symbol, timeframe, side,
 * features) runs its own bar builder (core/bars.h) and feature engine
 * (core/features.h), fed exactly as the xgb strategy and the exporter feed
 * theirs: a bar closes on the first event at or after its close time (the
 * bar component's close timer is such an event when a strategy subscribes
 * the same bars), before that event's quote joins the next bar; every quote
 * of the symbol feeds the spread statistics. The news features read a
 * schedule loaded from the scenario's external streams, to which every
 * calendar event received is added, as the strategy's.
 *
 * Timing. The component sees an event after the strategy runner, but a
 * strategy's signal is written to the sinks while the runner handles that
 * event; so signal_row first brings the streams up to the engine's time (the
 * bar that event closes is closed here too: closing depends on timestamps
 * only), and the row is the one of the bar the strategy just saw. The row of
 * a bar is therefore published before the signal made from it.
 *
 * Runs on the engine thread; nothing here is shared with other threads.
 */
#ifndef TT_FEATURES_PUB_H
#define TT_FEATURES_PUB_H

#include <stdatomic.h>
#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/instrument.h"
#include "kafka_sink.h"
#include "nats_sink.h"

typedef struct tt_features_pub tt_features_pub;

typedef struct tt_features_stream {
    uint32_t symbol;     /* instrument id */
    int tf, side;        /* the bars (enum tt_timeframe, enum tt_price_side) */
    const int *cols;     /* catalog indices, column order (copied) */
    int ncols;           /* 1 .. TT_WIRE_FEATURES_MAX */
    int publish;         /* 1: on features.{SYMBOL}.{tf} and ml_features_archive */
    uint64_t model_id;   /* != 0: the model (XXH3-64 of its file) whose signals carry this row */
} tt_features_stream;

#define TT_FEATURES_PUB_MAX 4 /* streams */

typedef struct tt_features_pub_opts {
    const tt_instruments *ins;          /* borrowed; required */
    const tt_features_stream *streams;  /* 1 .. TT_FEATURES_PUB_MAX (copied) */
    int nstreams;
    const char *tape_dir;               /* the schedule at the start: these external */
    const char *const *external;        /* streams of the tape (may be NULL) */
    int json;                           /* NATS payload: the JSON form */
} tt_features_pub_opts;

typedef struct tt_features_pub_stats {
    uint64_t rows;      /* rows computed */
    uint64_t published; /* rows handed to the NATS sink */
    uint64_t produced;  /* rows produced to Kafka */
    uint64_t attached;  /* signals that got their row */
} tt_features_pub_stats;

/* TT_OK, or TT_EINVAL (no stream, too many, a bad timeframe or feature: named),
 * the schedule's errors (TT_ENOTFOUND naming a missing stream), TT_ENOMEM. */
int tt_features_pub_new(tt_features_pub **out, const tt_features_pub_opts *opts, tt_err *err);

/* Where rows go (both borrowed, either may be NULL), and only while *gate !=
 * 0 when gate is given (a live session replaying its journal publishes
 * nothing). Cannot fail. */
void tt_features_pub_set_outputs(tt_features_pub *p, tt_nats_sink *nk, tt_kafka_sink *kk,
                                 atomic_int *gate);

/* The component (add it to the run; it sees every event, market data too).
 * Cannot fail; a Kafka produce refused stops the run (tt_engine_fail). */
tt_component tt_features_pub_component(tt_features_pub *p);

/* For the sinks (signal_row in their options, ctx = the publisher): the row
 * behind a model's signal, *n values; NULL when ev is not a model's signal or
 * no stream serves its model. */
const double *tt_features_pub_signal_row(void *p, const tt_event *ev, int *n);

/* Cannot fail. */
void tt_features_pub_stats_get(const tt_features_pub *p, tt_features_pub_stats *out);

/* NULL is a no-op. */
void tt_features_pub_free(tt_features_pub *p);

#endif
