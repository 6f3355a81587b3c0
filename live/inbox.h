/*
 * ticktape live: the inbox, a bounded queue between network threads and the
 * engine, and the engine source that drains it.
 *
 * Network adapters (NATS, Kafka) decode a message on their own thread and
 * push the resulting tt_event here. The inbox stamps it on arrival (under its
 * lock, so stamps follow queue order), and the engine thread takes events out
 * through tt_inbox_source(). Before an event is handed to the engine it is
 * written to the tap sink (the journal), so the journal holds exactly the
 * events, stamps and order the engine saw.
 *
 * Time in live mode (docs/live.md): ts is the arrival stamp, read from the
 * wall clock and forced strictly increasing; the engine orders by it. ts_init
 * keeps the exchange's own timestamp when the message carries one (TickData
 * .timestamp), else the arrival stamp.
 *
 * The watermark clock (tt_inbox_clock): when the inbox is empty it records a
 * watermark W, a wall-clock reading, and every later arrival is stamped
 * after W. The engine releases its queued events (timers, venue responses)
 * only up to the clock it is given, so handing it W instead of the raw wall
 * clock guarantees that a queued event released while idle comes before every
 * later input in (ts, cls, source, seq) order: exactly where a replay of the
 * journal, which merges by that order, puts it. That is the whole of replay
 * parity for the timing of timers and simulated fills.
 *
 * Backpressure, then the drop policy: when the queue is full, a producer of
 * market data (quotes, trades, bars, external events) waits for room as long
 * as the engine keeps taking events (backpressure: a burst is absorbed by the
 * network client's own buffer upstream, nats.c's pending queue, instead of
 * being lost). Only when the engine has taken nothing for backpressure_ns does
 * the drop policy apply: the oldest queued market event goes (the newest
 * price is the useful one), and every drop is counted. Control events (gap
 * markers, stop) and venue responses are never dropped: they have a reserve
 * of slots, and if even that is full their producer waits.
 *
 * "Full" is counted in events (capacity) and in bytes: the payloads queued
 * (external events) may not exceed bytes_max, so that a flood of large
 * messages costs at most that much memory. A payload over
 * TT_INBOX_MAX_PAYLOAD is refused whole (TT_EINVAL: the caller rejects and
 * counts it), never cut.
 *
 * Stopping: tt_inbox_stop() is async-signal-safe. The source then refuses new
 * arrivals, drains what is queued, yields one CONTROL STOP event (journaled
 * like any input, so a replay ends at the same time) and then TT_SRC_END.
 */
#ifndef TT_INBOX_H
#define TT_INBOX_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/event.h"
#include "wallclock.h"

typedef struct tt_inbox tt_inbox;

#define TT_INBOX_MAX_PAYLOAD (1u << 20)              /* largest payload taken: 1 MiB */
#define TT_INBOX_BYTES_DEFAULT (64ull << 20)         /* payload bytes queued at most */

typedef struct tt_inbox_opts {
    uint32_t capacity;      /* slots; 0 = 65536 */
    uint64_t bytes_max;     /* payload bytes queued at most; 0 = TT_INBOX_BYTES_DEFAULT */
    uint32_t reserve;       /* of which kept for never-dropped events; 0 = 64 */
    uint16_t source_id;     /* source id of the events; 0 = 1 */
    int keep_source;        /* 1: an event pushed with a source id keeps it (several feeds
                               in one inbox: the aggregator); the rest get source_id */
    int64_t idle_wait_ns;   /* longest wait for input in next(); 0 = 1 ms */
    int64_t spin_ns;        /* before sleeping on an empty queue, poll this long (trades
                               a CPU for wake-up latency); 0 = sleep at once */
    int64_t backpressure_ns; /* a full queue: wait for room while the engine takes events,
                               dropping only after this long without progress;
                               0 = 250 ms, < 0 = no wait (drop at once) */
    tt_sink tap;            /* sees each event before the engine (journal); write NULL = none */
    const tt_wallclock *clock; /* required, borrowed */
    /* Problem lines (parse errors, drops): first 20, then every 10000th. May be NULL. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} tt_inbox_opts;

typedef struct tt_inbox_stats {
    uint64_t pushed;         /* arrivals offered before stop (pushed = delivered + dropped
                                + queued, the final STOP event aside) */
    uint64_t delivered;      /* handed to the engine (and journaled), STOP included */
    uint64_t dropped;        /* market events dropped by the drop policy */
    uint64_t rejected;       /* messages that failed to parse (tt_inbox_reject) */
    uint64_t after_stop;     /* arrivals refused after stop */
    uint64_t gaps;           /* GAP_BEGIN markers pushed */
    uint64_t max_depth;      /* most events queued at once */
    uint64_t bytes, max_bytes; /* payload bytes queued now, and at most */
    uint32_t capacity;
} tt_inbox_stats;

/* A new inbox. Fails with TT_EINVAL (no clock, reserve >= capacity) or TT_ENOMEM. */
int tt_inbox_new(tt_inbox **q, const tt_inbox_opts *opts, tt_err *err);
/* Frees queued payloads and the inbox. The caller stops its producers first. */
void tt_inbox_free(tt_inbox *q);

/* ---- producer side (any thread) ---- */

/* Stamp and queue a copy of *ev (ts, seq, cls and, unless keep_source, source
 * are set here; ts_init is kept when non-zero, else set to the stamp). For
 * EXTERNAL/BLOB events the payload bytes are copied. Returns 1 queued, 0
 * refused (after stop, or dropped by the policy when the event itself is the
 * oldest droppable one; counted), TT_EINVAL for a payload over
 * TT_INBOX_MAX_PAYLOAD or over the whole byte budget (nothing queued, nothing
 * cut), or TT_ENOMEM. */
int tt_inbox_push(tt_inbox *q, const tt_event *ev, const void *payload, uint32_t len);

/* tt_inbox_push with flags: TT_INBOX_NO_DROP makes a market event wait for
 * room instead of being subject to the drop policy (a replayable feed such
 * as Kafka, whose offsets are committed only once the event is journaled:
 * losing it here would lose it for good). *seq (may be NULL) gets the seq
 * the event was queued with (0 when refused). */
#define TT_INBOX_NO_DROP 1
int tt_inbox_push_ex(tt_inbox *q, const tt_event *ev, const void *payload, uint32_t len,
                     int flags, uint64_t *seq);

/* Queue a CONTROL event (TT_CTL_GAP_BEGIN/END, ...): never dropped. */
int tt_inbox_push_control(tt_inbox *q, uint32_t op, uint32_t arg);

/* Count a message that could not be used and log "origin: reason". */
void tt_inbox_reject(tt_inbox *q, const char *origin, const char *reason);

/* Ask the source to finish (see above). Async-signal-safe; idempotent. Neither
 * stop nor stopping (1 once stopped, else 0) can fail. */
void tt_inbox_stop(tt_inbox *q);
int tt_inbox_stopping(const tt_inbox *q);

/* ---- engine side ---- */

/* The engine source (q borrowed). next() returns TT_SRC_EVENT, TT_SRC_IDLE after
 * waiting at most idle_wait_ns, TT_SRC_END after the STOP event, or the tap's
 * error. next_batch() hands over everything already queued at once (up to cap;
 * a batch ends after an event with a payload), each event journaled first.
 * Blob payloads stay valid until the next call. */
tt_source tt_inbox_source(tt_inbox *q);

/* The watermark clock for tt_engine_set_clock (see above). Cannot fail. */
tt_clock tt_inbox_clock(tt_inbox *q);

/* Optional: the engine being fed. The source then skips its idle wait while the
 * engine is still working through its own queue, which keeps simulated fills
 * prompt. Cannot fail. */
void tt_inbox_watch(tt_inbox *q, const tt_engine *e);

/* A consistent snapshot of the counters. Cannot fail. */
void tt_inbox_stats_get(tt_inbox *q, tt_inbox_stats *out);

/* Current number of queued events. Cannot fail. */
uint32_t tt_inbox_depth(tt_inbox *q);

#endif
