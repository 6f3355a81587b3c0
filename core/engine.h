/*
 * ticktape: the engine loop and its four ports.
 *
 * One engine processes one time-ordered stream of events. Inputs come from a
 * single source port (a tape reader already merges its streams; several
 * sources can be combined with tt_source_merge). Timers and venue responses
 * re-enter through the engine's own queue. On every step the engine takes the
 * earlier of (source head, queue head) by the total order (ts, cls, source,
 * seq), so two runs see the same sequence.
 *
 * Dispatch of one input event:
 *   1. the clock advances to ev->ts (simulated), the event counter increments;
 *   2. market data (quote, trade, bar) goes to the venue first (so resting
 *      orders match against this tick before the strategy reacts to it);
 *   3. every component, in the order they were added (bar builder, portfolio,
 *      strategy runner, ...), sees the event.
 *
 * Outputs (order commands, signals, risk decisions, bars, equity points) are
 * passed to tt_engine_emit(): they are folded into the run fingerprint and
 * written to every sink, in emission order.
 *
 * No global state: everything lives in the tt_engine, so several engines can
 * run side by side in one process.
 */
#ifndef TT_ENGINE_H
#define TT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"
#include "fingerprint.h"
#include "instrument.h"

typedef struct tt_engine tt_engine;

/* ---- ports ---- */

enum tt_source_status {
    TT_SRC_END = 0,   /* no more events (replay finished, live stopped) */
    TT_SRC_EVENT = 1, /* *ev was filled */
    TT_SRC_IDLE = 2   /* live: nothing yet; ask again (the source may block briefly) */
};

/* Yields input events in time order. next() returns a tt_source_status or a
 * negative TT_E* code (err filled). Events keep their own source id and seq.
 *
 * next_batch (optional, may be NULL) is the replay fast path: it fills up to
 * `cap` events into buf, sets *count and returns TT_SRC_EVENT (count > 0),
 * TT_SRC_END, TT_SRC_IDLE or a negative code. The engine still compares its
 * queue against each buffered event in turn, so batching never changes the
 * order in which events are dispatched. */
typedef struct tt_source {
    void *self;
    int (*next)(void *self, tt_event *ev, tt_err *err);
    void (*close)(void *self); /* may be NULL */
    int (*next_batch)(void *self, tt_event *buf, int cap, int *count, tt_err *err);
} tt_source;

/* Sees every output of the core in order. */
typedef struct tt_sink {
    void *self;
    int (*write)(void *self, const tt_event *ev, tt_err *err);
    int (*flush)(void *self, tt_err *err); /* may be NULL; called at the end of a run */
    void (*close)(void *self);             /* may be NULL */
} tt_sink;

/* Takes order commands; returns order events later through tt_engine_schedule(). */
typedef struct tt_venue {
    void *self;
    void (*attach)(void *self, tt_engine *e);                            /* may be NULL */
    int (*command)(void *self, const tt_event *cmd, tt_err *err);         /* TT_EV_ORDER_CMD */
    void (*on_market)(void *self, const tt_event *ev);                    /* may be NULL */
    void (*close)(void *self);                                            /* may be NULL */
} tt_venue;

/* Time. A NULL now() means simulated time: the clock follows the events. */
typedef struct tt_clock {
    void *self;
    tt_ts (*now)(void *self);
} tt_clock;

/* A component inside the core (bar builder, portfolio, risk gate, strategy runner). */
typedef struct tt_component {
    void *self;
    const char *name;
    int (*on_start)(void *self, tt_engine *e, tt_err *err);          /* may be NULL */
    void (*on_event)(void *self, tt_engine *e, const tt_event *ev);  /* may be NULL */
    int (*on_stop)(void *self, tt_engine *e, tt_err *err);           /* may be NULL */
    /* 1: on_event is not called for market data (cls TT_CLS_MARKET), e.g. the
     * simulated venue, which sees those through its port's on_market. */
    int skip_market;
} tt_component;

/* ---- engine ---- */

/* A new engine over an instrument table (borrowed; must outlive the engine).
 * NULL on out of memory. */
tt_engine *tt_engine_new(const tt_instruments *instruments);
void tt_engine_free(tt_engine *e);

void tt_engine_set_source(tt_engine *e, tt_source src);
void tt_engine_set_venue(tt_engine *e, tt_venue venue);
void tt_engine_set_clock(tt_engine *e, tt_clock clock);
int tt_engine_add_sink(tt_engine *e, tt_sink sink);
int tt_engine_add_component(tt_engine *e, tt_component c);

/* Runs until the source ends (and the queue holds nothing at or before the last
 * input), tt_engine_stop() is called, or an error occurs. Calls on_start and
 * on_stop of every component and flushes every sink. */
int tt_engine_run(tt_engine *e, tt_err *err);

/* Ask a running engine to stop after the current event. Safe from a signal
 * handler (sets a volatile flag). */
void tt_engine_stop(tt_engine *e);

/* ---- services for components, venues and strategies ---- */

tt_ts tt_engine_now(const tt_engine *e);
const tt_instruments *tt_engine_instruments(const tt_engine *e);
uint64_t tt_engine_events(const tt_engine *e);  /* inputs processed so far */
uint64_t tt_engine_outputs(const tt_engine *e); /* outputs emitted so far */

/* Put an event on the engine's queue (venue responses, timers, commands from
 * components). The engine assigns seq when ev->seq is 0 and cls from the kind
 * when cls is 0 and kind is not CONTROL. The event's ts must not be earlier
 * than the current time. */
int tt_engine_schedule(tt_engine *e, const tt_event *ev, tt_err *err);

/* A timer: returns its id (> 0); the TIMER event arrives at `at` with u.timer.user. */
uint64_t tt_engine_timer_set(tt_engine *e, tt_ts at, uint64_t user);
void tt_engine_timer_cancel(tt_engine *e, uint64_t timer_id);

/* Send an order command: emitted as an output, then handed to the venue.
 * Returns the venue's result. */
int tt_engine_submit(tt_engine *e, const tt_event *cmd, tt_err *err);

/* An output: folded into the fingerprint and written to every sink. ts is set to
 * the current time when 0. Sink errors are remembered and end the run. */
void tt_engine_emit(tt_engine *e, const tt_event *ev);

/* The fingerprint of the outputs so far. */
tt_fingerprint tt_engine_fingerprint(const tt_engine *e);

#endif
