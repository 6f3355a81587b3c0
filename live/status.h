/*
 * ticktape live: what a running session shows its operators, as snapshots.
 *
 * The status server (live/status_http.h) must never touch engine state and
 * must add no time to the decision path. So the engine thread keeps its own
 * view here, built from the events it already handles, and publishes it:
 *
 *   recorder   a component (inputs: quotes for the last prices, control
 *              events for the kill switch) and a sink (outputs: order
 *              commands, order events, risk decisions, equity points) added
 *              to the run. It keeps positions (net per symbol, from fills),
 *              open orders (from commands and order events), the account
 *              (from equity points), risk state (rejections, alerts, halt,
 *              kill) and tick-to-trade latency (the arrival stamp of the last
 *              tick to the emission of an order command, wall clock);
 *   hot        per-event counters and last quotes are relaxed atomics that
 *              only the engine thread writes (plain stores, no locked
 *              instruction): a tick costs a few stores;
 *   cold       everything else is a fixed-size struct (tt_status_snapshot,
 *              bounded arrays) copied under a mutex after each output that
 *              changed it (outputs are rare next to ticks); a reader holds
 *              the mutex only for one memcpy of it;
 *   events     fills, alerts, kill switch and equity points are also put as
 *              JSON lines in a bounded ring with sequence numbers, the
 *              source of /api/events (Server-Sent Events). Each client keeps
 *              its own cursor; one whose cursor falls behind the ring (a slow
 *              reader) is dropped and counted, never waited for.
 *
 * Nothing here is fingerprinted or read back by the engine: adding the
 * recorder to a run changes no output (a test compares fingerprints).
 *
 * Invariants: sizes are fixed at creation (TT_STATUS_* below); only the
 * engine thread calls the component and sink; any thread may call the
 * readers (tt_status_snapshot_get, tt_status_events_read, tt_status_hot_get).
 */
#ifndef TT_STATUS_H
#define TT_STATUS_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"

#define TT_STATUS_SYMBOLS 32    /* symbols shown (positions, last quotes) */
#define TT_STATUS_ORDERS 64     /* open orders listed (more are counted) */
#define TT_STATUS_EQUITY 240    /* equity points kept for the curve (thinned by 2 when full) */
#define TT_STATUS_ALERTS 16     /* last alerts kept */
#define TT_STATUS_LAT_BUCKETS 14 /* tick-to-trade histogram buckets (+Inf aside) */
#define TT_STATUS_EVENT_MAX 384 /* one SSE event's JSON, bytes */

/* The histogram's upper bounds, seconds (Prometheus le labels). */
extern const double tt_status_lat_bounds[TT_STATUS_LAT_BUCKETS];

typedef struct tt_status_position {
    char symbol[16];
    int digits;
    int64_t points;       /* points per price unit */
    double volume_step;   /* lots per volume unit */
    int64_t qty;          /* net, volume units (> 0 long) */
    double avg_price;     /* of the open quantity, price units */
} tt_status_position;

typedef struct tt_status_order {
    uint64_t client_id;
    char symbol[16];
    int digits;
    int64_t points;
    double volume_step;
    int8_t side;
    uint8_t type, status;
    int64_t qty, leaves;
    tt_price price;       /* limit or stop price, points; 0 = market */
    tt_ts ts;
} tt_status_order;

typedef struct tt_status_equity_pt {
    tt_ts ts;
    tt_money balance, equity;
} tt_status_equity_pt;

typedef struct tt_status_alert {
    tt_ts ts;
    char subject[48];     /* risk.alert.daily_loss, risk.alert.kill_switch, ... */
    double value, limit;
} tt_status_alert;

/* The cold part: a plain copy, safe to keep and read at leisure. */
typedef struct tt_status_snapshot {
    uint64_t version;                  /* publications so far */
    uint64_t order_cmds;               /* submit commands emitted */
    uint64_t cancels;                  /* cancel/modify commands emitted */
    uint64_t by_status[16];            /* order events by enum tt_order_status */
    uint64_t fills;
    int64_t fill_volume;               /* volume units, both sides */
    uint64_t risk_rejects;             /* rejected risk decisions */
    uint64_t rejects_by_rule[16];      /* by core/risk.h rule */
    uint64_t alerts_total;
    uint64_t signals, bars, outputs;
    int have_equity;
    tt_money balance, equity, margin, free_margin, initial_balance;
    int killed, halted;
    uint64_t lat_buckets[TT_STATUS_LAT_BUCKETS + 1]; /* not cumulative; last = +Inf */
    uint64_t lat_count;
    double lat_sum;                    /* seconds */
    int npos;
    tt_status_position pos[TT_STATUS_SYMBOLS];
    int norders;                       /* listed */
    uint32_t open_orders;              /* all open (may exceed the list) */
    tt_status_order orders[TT_STATUS_ORDERS];
    int neq;
    tt_status_equity_pt eq[TT_STATUS_EQUITY];
    int nalerts;                       /* newest last */
    tt_status_alert alerts[TT_STATUS_ALERTS];
    int64_t minor_per_unit;
    char currency[8];
} tt_status_snapshot;

/* The hot part, read as one consistent-enough set of counters (each exact). */
enum tt_status_input { TT_SI_QUOTE, TT_SI_TRADE, TT_SI_BAR, TT_SI_EXTERNAL, TT_SI_CONTROL,
                       TT_SI_VENUE, TT_SI_TIMER, TT_SI_OTHER, TT_SI_N };

typedef struct tt_status_quote {
    char symbol[16];
    int digits;
    int64_t points;
    tt_price bid, ask;
    tt_ts ts;
} tt_status_quote;

typedef struct tt_status_hot {
    uint64_t inputs[TT_SI_N];          /* by enum tt_status_input */
    tt_ts engine_now;                  /* ts of the last event the engine dispatched */
    int nquotes;
    tt_status_quote quotes[TT_STATUS_SYMBOLS];
} tt_status_hot;

typedef struct tt_status_rec tt_status_rec;

typedef struct tt_status_opts {
    const tt_instruments *ins;   /* borrowed; required for the component and sink (NULL:
                                    the event ring alone, for a command without an engine) */
    uint32_t ring;               /* events kept for /api/events; 0 = 1024 */
    int64_t minor_per_unit;      /* account currency minor units per unit (100 for USD) */
    const char *currency;        /* "USD" */
    /* Every event also written to the ring, as its subject and JSON, on the
     * engine thread (the notifier's queue: must not block). May be NULL. */
    void (*on_event)(void *ctx, const char *subject, const char *json);
    void *on_event_ctx;
} tt_status_opts;

/* A new recorder. TT_EINVAL without options, TT_ENOMEM. */
int tt_status_new(tt_status_rec **s, const tt_status_opts *o, tt_err *err);
/* Frees it (NULL is a no-op). The server reading it is stopped first. */
void tt_status_free(tt_status_rec *s);

/* The engine side: add both to the run (tt_backtest_add_component/_sink). */
tt_component tt_status_component(tt_status_rec *s);
tt_sink tt_status_sink(tt_status_rec *s);

/* The reader side (any thread). Cannot fail. */
void tt_status_snapshot_get(tt_status_rec *s, tt_status_snapshot *out);
void tt_status_hot_get(tt_status_rec *s, tt_status_hot *out);

/* Put an event in the ring from outside the engine (a disconnect, a kill
 * requested over HTTP): subject and JSON object text. Any thread. Cannot fail
 * (a JSON longer than TT_STATUS_EVENT_MAX is replaced by a stub). */
void tt_status_event_put(tt_status_rec *s, const char *subject, const char *json);

/* Read events after *cursor into buf (each "id: N\nevent: SUBJECT\ndata: JSON\n\n",
 * whole events only, at most cap bytes); *cursor advances past them. Returns
 * the bytes written (0: nothing new), or TT_ESTATE when the cursor fell
 * behind the ring (the client is too slow: drop it). A new client starts with
 * tt_status_events_tail. wait_ms > 0 waits that long for a new event. */
long tt_status_events_read(tt_status_rec *s, uint64_t *cursor, char *buf, size_t cap, int wait_ms);
uint64_t tt_status_events_tail(tt_status_rec *s);
/* The cursor of a client that saw event id (Last-Event-ID; 0: none yet): the
 * next one, or the oldest the ring still holds. Cannot fail. */
uint64_t tt_status_events_after(tt_status_rec *s, uint64_t id);
/* Wake every waiting reader (shutting down). Cannot fail. */
void tt_status_events_wake(tt_status_rec *s);

#endif
