/*
 * ticktape: the engine loop and its four ports.
 *
 * One engine processes one time-ordered stream of events. Inputs come from a
 * single source port (several sources become one with tt_merge, core/merge.h).
 * Timers and venue responses re-enter through the engine's own queue. The
 * loop runs in named phases, as libuv's uv_run does:
 *
 *     while (!stop) { refill; ev = pick; if (!ev) break; dispatch(ev); }
 *
 *   refill    the source's next event is in hand (a batch of up to 64 on the
 *             replay path), unless the source has ended;
 *   pick      the earlier of (source head, queue top) by the total order
 *             (ts, cls, source, seq): the one place events are compared, so
 *             two runs see the same sequence;
 *   dispatch  the clock advances to ev->ts (simulated), the event counter
 *             increments, the venue sees the event first (market data
 *             through on_market, so resting orders match against this tick
 *             before the strategy reacts to it; everything else through
 *             on_arrival, which is how the venue's own scheduled arrivals
 *             reach it), then every component, in the order they were added
 *             (bar builder, strategy runner, ...).
 *
 * Outputs (order commands, signals, risk decisions, bars, equity points) are
 * passed to tt_engine_emit(): they are folded into the run fingerprint and
 * written to every sink, in emission order.
 *
 * Failures. Functions returning int return 0 (TT_OK) or a negative TT_E* code
 * with err filled. Hooks that return nothing (a venue's on_market, a
 * component's on_event) report a failure with tt_engine_fail(): the run stops
 * after the current event and tt_engine_run returns that error.
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

/* Yields input events in time order. next() returns a tt_source_status, or a
 * negative TT_E* code with err filled (the run then stops with it). Events keep
 * their own source id and seq. Any other status is a broken source: the run
 * stops with TT_ESTATE.
 *
 * next_batch (optional, may be NULL) is the replay fast path: it fills 1 to
 * `cap` events into buf, sets *count and returns TT_SRC_EVENT, or returns
 * TT_SRC_END, TT_SRC_IDLE (count then ignored) or a negative code. An EVENT
 * batch with a count outside 1..cap stops the run with TT_ESTATE. The engine
 * still picks between its queue and each buffered event in turn, so batching
 * never changes the order in which events are dispatched. */
typedef struct tt_source {
    void *self;
    int (*next)(void *self, tt_event *ev, tt_err *err);
    void (*close)(void *self); /* may be NULL */
    int (*next_batch)(void *self, tt_event *buf, int cap, int *count, tt_err *err);
} tt_source;

/* Sees every output of the core in order. write() and flush() return 0 or a
 * negative TT_E* code with err filled: a failed write stops the run with that
 * error (TT_EIO when the code is not negative); a failed flush is the run's
 * error unless an earlier one was recorded. */
typedef struct tt_sink {
    void *self;
    int (*write)(void *self, const tt_event *ev, tt_err *err);
    int (*flush)(void *self, tt_err *err); /* may be NULL; called at the end of a run */
    void (*close)(void *self);             /* may be NULL */
} tt_sink;

/* What a venue has done over a run, for the run's result (sim/backtest.h). */
typedef struct tt_venue_totals {
    tt_money commissions; /* charged, account minor units (>= 0) */
    tt_money swaps;       /* credited, account minor units (negative = paid) */
    uint64_t fills;       /* fills made, venue deals (stop-loss, stop-out, ...) included */
    uint64_t stop_outs;   /* positions closed by stop-out */
} tt_venue_totals;

/* A run of quotes as dense columns, for the quiet path (tt_component's
 * market_quiet): every event of it a quote of `symbol` with bid and ask
 * > 0, in time order. The arrays start at the run's first event. */
typedef struct tt_market_view {
    uint32_t symbol;
    const tt_ts *ts;
    const tt_price *bid, *ask;
    const float *bid_vol, *ask_vol;
} tt_market_view;

/* Takes order commands and answers with order events. The contract a venue
 * keeps (the simulated venue, sim/venue.h, and a live connector alike), which
 * is everything the rest of a run learns from it:
 *
 *   - command() takes a TT_EV_ORDER_CMD and returns 0, or a negative TT_E*
 *     code with err filled when it cannot take it at all (the strategy runner
 *     then rejects the order itself);
 *   - every answer is a TT_EV_ORDER_EVENT put on the engine's queue with
 *     tt_engine_schedule (cls TT_CLS_VENUE, the venue's own source id, ts not
 *     before now): the strategy's order manager and portfolio are fed from
 *     these alone. A fill carries fill_qty, fill_price, commission (account
 *     minor units) and venue_id, the ticket of the position it opened or
 *     reduced; a deal the venue makes itself (stop-loss, take-profit,
 *     stop-out) has client_id 0, venue_id the ticket, status FILLED and the
 *     reason;
 *   - a margin call or stop-out is also told as a TT_EV_RISK output
 *     (tt_engine_emit, rule TT_RULE_MARGIN_CALL / TT_RULE_STOP_OUT);
 *   - an answer that cannot be scheduled (tt_engine_schedule failed) is not
 *     dropped: the venue calls tt_engine_fail with the error, so its books
 *     never move without the strategy hearing of it;
 *   - totals() gives the run's figures (may be NULL: all zero).
 *
 * on_market sees market data (cls TT_CLS_MARKET) and on_arrival every other
 * input event, each before any component: this is how a venue matches resting
 * orders against a tick before the strategy reacts to it, receives what it
 * scheduled for itself (an order command reaching it after its latency) and
 * keeps its own time. Both may be NULL. Neither returns anything: a failure
 * there goes to tt_engine_fail. */
typedef struct tt_venue {
    void *self;
    void (*attach)(void *self, tt_engine *e);                            /* may be NULL */
    int (*command)(void *self, const tt_event *cmd, tt_err *err);         /* TT_EV_ORDER_CMD */
    void (*on_market)(void *self, const tt_event *ev);                    /* may be NULL */
    void (*close)(void *self);                                            /* may be NULL */
    void (*on_arrival)(void *self, const tt_event *ev);                   /* may be NULL */
    void (*totals)(void *self, tt_venue_totals *out);                     /* may be NULL */
    /* The quiet path (optional, both or neither; see tt_component) */
    int (*market_quiet)(void *self, const tt_market_view *v, int n);
    void (*market_take)(void *self, const tt_market_view *v, int n);
} tt_venue;

/* Time. A NULL now() means simulated time: the clock follows the events. A
 * clock's now() cannot fail. */
typedef struct tt_clock {
    void *self;
    tt_ts (*now)(void *self);
} tt_clock;

/* A component inside the core (bar builder, portfolio, risk gate, strategy
 * runner). on_start and on_stop return 0 or a negative TT_E* code with err
 * filled: a failed on_start ends the run before any event (the message
 * prefixed with the component's name), a failed on_stop is the run's error
 * unless an earlier one was recorded. on_event reports failures through
 * tt_engine_fail. */
typedef struct tt_component {
    void *self;
    const char *name;
    int (*on_start)(void *self, tt_engine *e, tt_err *err);          /* may be NULL */
    void (*on_event)(void *self, tt_engine *e, const tt_event *ev);  /* may be NULL */
    int (*on_stop)(void *self, tt_engine *e, tt_err *err);           /* may be NULL */
    /* 1: on_event is not called for market data (cls TT_CLS_MARKET): a
     * component that only follows orders, timers or signals (the paper
     * session's counter) then costs nothing per tick. */
    int skip_market;
    /* The quiet path (optional, both or neither). market_quiet(v, n): how
     * many of the first n quotes of v on_event would take in a row without
     * doing anything but update the component's own state: no output, no
     * schedule, no strategy call, no failure. It looks and changes nothing.
     * market_take(v, k), k at most that many: the state after on_event of
     * each of them, in order. When the venue and every component that takes
     * market data have them, the engine hands a run of quotes of one symbol
     * that nothing in its queue comes between to each as one call (the run's
     * length the least any of them says) instead of one dispatch per quote:
     * the same states, outputs and fingerprint, without a call per component
     * per tick, over columns the loops read densely. */
    int (*market_quiet)(void *self, const tt_market_view *v, int n);
    void (*market_take)(void *self, const tt_market_view *v, int n);
} tt_component;

/* ---- engine ---- */

/* A new engine over an instrument table (borrowed; must outlive the engine).
 * NULL on out of memory. */
tt_engine *tt_engine_new(const tt_instruments *instruments);
/* Frees the engine (NULL is a no-op); the ports and components are the
 * caller's and are not closed. */
void tt_engine_free(tt_engine *e);

/* Wiring, before tt_engine_run. These cannot fail. set_venue calls the port's
 * attach() at once. */
void tt_engine_set_source(tt_engine *e, tt_source src);
void tt_engine_set_venue(tt_engine *e, tt_venue venue);
void tt_engine_set_clock(tt_engine *e, tt_clock clock);
/* 0, or TT_EINVAL when the engine already holds 16 sinks / 32 components. */
int tt_engine_add_sink(tt_engine *e, tt_sink sink);
int tt_engine_add_component(tt_engine *e, tt_component c);

/* Runs until the source ends (and the queue holds nothing at or before the last
 * input), tt_engine_stop() is called, or an error occurs. Calls on_start and
 * on_stop of every component and flushes every sink. Returns 0, or the first
 * error: a component's on_start, the source's, one given to tt_engine_fail
 * (sinks' write errors included), then a component's on_stop or a sink's
 * flush; err (may be NULL) is filled with it. */
int tt_engine_run(tt_engine *e, tt_err *err);

/* An engine fed from outside instead of from its source (several engines in
 * one pass over one stream: sim/backtest.h's groups): tt_engine_begin calls
 * every component's on_start (0, or its error, prefixed with its name; the
 * run is then over: no on_stop; TT_ESTATE when called twice);
 * tt_engine_feed dispatches n input events in order, each preceded by what
 * the queue holds before it under the total order, exactly as tt_engine_run
 * dispatches the same events from a source, and returns 1 once the engine
 * has stopped (tt_engine_stop or a failure: feed no more), else 0;
 * tt_engine_end runs what the queue holds as at the end of a source (timers
 * later than the last input dropped), then every on_stop and flush, and
 * returns as tt_engine_run does (the first failure recorded, then on_stop's
 * and flush's errors). The source set, if any, is not read. */
int tt_engine_begin(tt_engine *e, tt_err *err);
int tt_engine_feed(tt_engine *e, const tt_event *ev, int n);
int tt_engine_end(tt_engine *e, tt_err *err);

/* The first of the n times of a view at or after t (n when none): a binary
 * search, a view being in time order. Cannot fail. */
static inline int tt_market_view_until(const tt_market_view *v, int n, tt_ts t)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (v->ts[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The columns of n (at most 64) events for the quiet path: 1 with *v filled
 * from the arrays given (64 each) when they are quotes of one symbol with
 * bid and ask > 0 in time order, else 0. Several engines fed the same events
 * can share one view (tt_engine_feed_view). Cannot fail. */
int tt_market_view_build(const tt_event *ev, int n, tt_market_view *v, tt_ts *ts, tt_price *bid,
                         tt_price *ask, float *bid_vol, float *ask_vol);

/* tt_engine_feed with the view of ev[0..n) (n at most 64): NULL, the engine
 * builds it when needed; a view with symbol 0, the events are not a run of
 * one symbol's quotes (nothing quiet among them). */
int tt_engine_feed_view(tt_engine *e, const tt_event *ev, int n, const tt_market_view *v);

/* Ask a running engine to stop after the current event. Safe from a signal
 * handler (sets a volatile flag); cannot fail. */
void tt_engine_stop(tt_engine *e);

/* ---- stepping: a run its caller takes control of between events ----
 *
 * tt_engine_run is tt_engine_begin, tt_engine_advance until it stops
 * returning TT_ENGINE_PAUSED, then tt_engine_finish. A caller that wants control
 * back in the middle of a run (the reinforcement-learning environment, which
 * hands every bar close to its agent) calls the three itself, and a
 * component or strategy calls tt_engine_pause during dispatch: the loop
 * returns after the current event, with the source's events still in hand
 * kept in the engine, and the next advance goes on from the very next event.
 * Between two advances the engine is between events: now() is the last
 * event's time, and what a component does then (schedule, submit, emit) is
 * ordered as if it had been done at the end of that event's dispatch. A run
 * stepped this way dispatches the same events in the same order as
 * tt_engine_run. */

#define TT_ENGINE_PAUSED 1 /* tt_engine_advance: paused; call it again to go on */

/* Run the loop until the run is over (0: the source ended and the queue is
 * drained, tt_engine_stop, or a failure recorded by tt_engine_fail, which
 * tt_engine_finish returns) or tt_engine_pause was called (TT_ENGINE_PAUSED).
 * A negative code is the source's error with err filled (the run is over).
 * TT_ESTATE before tt_engine_begin or after finish. */
int tt_engine_advance(tt_engine *e, tt_err *err);

/* Ask a running engine to return from tt_engine_advance after the current
 * event; the run goes on at the next advance (in tt_engine_run: at once).
 * Cannot fail. */
void tt_engine_pause(tt_engine *e);

/* End a stepped run: every component's on_stop and every sink's flush,
 * whatever happened (a run ended while paused ends there: what is left is
 * not dispatched, unlike tt_engine_end of a fed engine, which drains the
 * queue). rc is the run's result so far (advance's last result, 0 when it
 * was over or paused); returns the run's result as tt_engine_run does. Once
 * only: TT_ESTATE (or rc) after that. */
int tt_engine_finish(tt_engine *e, int rc, tt_err *err);

/* Stop the run with an error, from code that cannot return one (a venue's
 * hooks, a component's on_event): the engine stops after the current event
 * and tt_engine_run returns why->code (TT_ESTATE when it is not negative) with
 * why's message. Only the first failure is kept. Cannot fail itself. */
void tt_engine_fail(tt_engine *e, const tt_err *why);

/* ---- services for components, venues and strategies ---- */

/* None of these can fail. now() is 0 before the first event. */
tt_ts tt_engine_now(const tt_engine *e);
const tt_instruments *tt_engine_instruments(const tt_engine *e);
uint64_t tt_engine_events(const tt_engine *e);  /* inputs processed so far */
uint64_t tt_engine_outputs(const tt_engine *e); /* outputs emitted so far */

/* Put an event on the engine's queue (venue responses, timers, commands from
 * components). The engine assigns seq when ev->seq is 0 and cls from the kind
 * when cls is 0 and kind is not CONTROL. Returns 0, TT_EORDER when ev->ts is
 * earlier than the current time, or TT_ENOMEM when the queue cannot grow
 * (err filled; the event is not queued). */
int tt_engine_schedule(tt_engine *e, const tt_event *ev, tt_err *err);

/* A timer: the TIMER event arrives at `at` (now, if `at` is earlier) with
 * u.timer.user. Returns its id (> 0), or 0 when the queue cannot grow: then
 * the engine has also failed with TT_ENOMEM (tt_engine_fail), so a lost timer
 * always ends the run. */
uint64_t tt_engine_timer_set(tt_engine *e, tt_ts at, uint64_t user);

/* Cancel a pending timer: its event is dropped when it comes up. Cancelling
 * 0 or an id that already fired or was cancelled has no effect. If the
 * cancellation cannot be recorded (out of memory) the engine fails with
 * TT_ENOMEM (tt_engine_fail) rather than let the timer fire. */
void tt_engine_timer_cancel(tt_engine *e, uint64_t timer_id);

/* Send an order command: emitted as an output, then handed to the venue.
 * Returns the venue's result: 0, or its negative code with err filled;
 * TT_ESTATE when no venue is set. */
int tt_engine_submit(tt_engine *e, const tt_event *cmd, tt_err *err);

/* An output: folded into the fingerprint and written to every sink. ts is set to
 * the current time when 0. Cannot fail itself: a sink's write error goes to
 * tt_engine_fail and ends the run. */
void tt_engine_emit(tt_engine *e, const tt_event *ev);

/* The fingerprint of the outputs so far. Cannot fail. */
tt_fingerprint tt_engine_fingerprint(const tt_engine *e);

#endif
