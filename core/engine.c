/*
 * The engine loop.
 *
 * Inputs arrive from one source; everything the engine or its components
 * schedule (timers, venue responses) waits in a heap. The loop runs in three
 * named phases (uv_run's shape): refill puts the source's next event in hand,
 * pick takes the earlier of that head and the heap's top under the total
 * order (ts, cls, source, seq), dispatch hands it to the venue and the
 * components. pick is the only place events are compared. Market data never
 * enters the heap: on the replay hot path an event costs a share of one
 * next_batch call, one comparison against the heap top in pick and the
 * dispatch, which is why the loop adds only nanoseconds over decoding. The
 * phases are inlined into run_loop, across which only the engine is live, so
 * the batch cursor and the event stay in registers (the batch itself, the
 * event taken off the queue and the source's error live in the engine).
 *
 * Invariant: nothing may be scheduled before the current time, so once the
 * source has produced an event at T the heap can never later receive one that
 * should have come before it. This is what makes the merge a total order and
 * the run deterministic.
 *
 * Failures that cannot be returned where they happen (a sink's write, a
 * venue's lost response, a timer the queue has no room for) are recorded by
 * tt_engine_fail: the first one stops the loop and is the run's error.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "queue.h"

#define TT_MAX_SINKS 16
#define TT_MAX_COMPONENTS 32
#define TT_ENGINE_SOURCE 0 /* source id of events the engine itself schedules */
#define TT_BATCH 64        /* events pulled per next_batch call */

struct tt_engine {
    const tt_instruments *instruments;
    tt_source source;
    tt_venue venue;
    tt_clock clock;
    tt_sink sinks[TT_MAX_SINKS];
    int nsinks;
    tt_component comps[TT_MAX_COMPONENTS];
    int ncomps;
    /* the components with an on_event, in order: all of them (for every
     * event but market data) and those that also take market data */
    tt_component hot[TT_MAX_COMPONENTS], hot_market[TT_MAX_COMPONENTS];
    int nhot, nhot_market;
    int quiet_ok; /* the venue and every hot_market component have the quiet path */
    tt_queue queue;
    uint64_t *cancelled; /* cancelled timer ids still in the heap */
    size_t ncancelled, capcancelled;
    uint64_t next_seq;   /* for scheduled events */
    uint64_t next_timer;
    uint64_t events, outputs;
    tt_ts now;
    tt_fp_state *fp;
    volatile int stop;   /* the loop returns after the current event: any of the three below */
    volatile int halt;   /* tt_engine_stop was called: the run is over */
    int pausing;         /* tt_engine_pause was called: the run goes on at the next advance */
    int failed;          /* tt_engine_fail was called: fail_err is the run's error */
    tt_err fail_err;
    /* run_loop's: the source's last batch, the event taken off the queue,
     * the source's error */
    tt_event batch[TT_BATCH];
    int pulled;
    tt_event top;
    tt_err src_err;
    /* the loop's cursor between two advances (see struct loop) */
    const tt_event *cur_next, *cur_end;
    int cur_src;
    int begun, ended;
    /* the quiet path's view: the columns of view_n events from view_base
     * (view_ok: they are quotes of one symbol), built when first needed in a
     * batch, or handed in by tt_engine_feed_view */
    const tt_event *view_base;
    int view_n, view_ok;
    int quiet_skip; /* market events to dispatch before the next quiet attempt */
    tt_market_view view;
    tt_ts vts[TT_BATCH];
    tt_price vbid[TT_BATCH], vask[TT_BATCH];
    float vbv[TT_BATCH], vav[TT_BATCH];
};

tt_engine *tt_engine_new(const tt_instruments *instruments)
{
    tt_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->instruments = instruments;
    e->fp = tt_fp_new();
    if (!e->fp) {
        free(e);
        return NULL;
    }
    tt_queue_init(&e->queue);
    e->now = TT_TS_MIN;
    e->quiet_ok = 1;
    e->cur_next = e->cur_end = e->batch;
    return e;
}

void tt_engine_free(tt_engine *e)
{
    if (!e)
        return;
    tt_queue_free(&e->queue);
    tt_fp_free(e->fp);
    free(e->cancelled);
    free(e);
}

void tt_engine_set_source(tt_engine *e, tt_source src) { e->source = src; }

/* Whether runs of market events may take the quiet path. */
static void quiet_update(tt_engine *e)
{
    int ok = !e->venue.on_market || (e->venue.market_quiet && e->venue.market_take);
    for (int i = 0; ok && i < e->nhot_market; i++)
        ok = e->hot_market[i].market_quiet && e->hot_market[i].market_take;
    e->quiet_ok = ok;
}

void tt_engine_set_venue(tt_engine *e, tt_venue venue)
{
    e->venue = venue;
    if (venue.attach)
        venue.attach(venue.self, e);
    quiet_update(e);
}
void tt_engine_set_clock(tt_engine *e, tt_clock clock) { e->clock = clock; }

int tt_engine_add_sink(tt_engine *e, tt_sink sink)
{
    if (e->nsinks == TT_MAX_SINKS)
        return TT_EINVAL;
    e->sinks[e->nsinks++] = sink;
    return TT_OK;
}

int tt_engine_add_component(tt_engine *e, tt_component c)
{
    if (e->ncomps == TT_MAX_COMPONENTS)
        return TT_EINVAL;
    e->comps[e->ncomps++] = c;
    if (c.on_event) {
        e->hot[e->nhot++] = c;
        if (!c.skip_market)
            e->hot_market[e->nhot_market++] = c;
    }
    quiet_update(e);
    return TT_OK;
}

void tt_engine_stop(tt_engine *e)
{
    e->halt = 1;
    e->stop = 1;
}

void tt_engine_pause(tt_engine *e)
{
    e->pausing = 1;
    e->stop = 1;
}
tt_ts tt_engine_now(const tt_engine *e) { return e->now == TT_TS_MIN ? 0 : e->now; }
const tt_instruments *tt_engine_instruments(const tt_engine *e) { return e->instruments; }
uint64_t tt_engine_events(const tt_engine *e) { return e->events; }
uint64_t tt_engine_outputs(const tt_engine *e) { return e->outputs; }
tt_fingerprint tt_engine_fingerprint(const tt_engine *e) { return tt_fp_digest(e->fp); }

int tt_engine_schedule(tt_engine *e, const tt_event *ev, tt_err *err)
{
    if (e->now != TT_TS_MIN && ev->ts < e->now)
        return tt_err_set(err, TT_EORDER,
                          "cannot schedule a %s event at %lld ns: earlier than now (%lld ns)",
                          tt_event_kind_name(ev->kind), (long long)ev->ts, (long long)e->now);
    tt_event copy = *ev;
    if (!copy.cls && copy.kind != TT_EV_CONTROL)
        copy.cls = tt_event_class_of(copy.kind);
    if (!copy.seq)
        copy.seq = ++e->next_seq;
    if (!copy.ts_init)
        copy.ts_init = copy.ts;
    if (tt_queue_push(&e->queue, &copy))
        return tt_err_set(err, TT_ENOMEM, "out of memory growing the event queue");
    return TT_OK;
}

void tt_engine_fail(tt_engine *e, const tt_err *why)
{
    if (!e->failed) {
        e->failed = 1;
        e->fail_err = *why;
        if (e->fail_err.code >= 0)
            e->fail_err.code = TT_ESTATE;
    }
    e->stop = 1;
}

uint64_t tt_engine_timer_set(tt_engine *e, tt_ts at, uint64_t user)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = at < tt_engine_now(e) ? tt_engine_now(e) : at;
    ev.kind = TT_EV_TIMER;
    ev.cls = TT_CLS_TIMER;
    ev.source = TT_ENGINE_SOURCE;
    ev.u.timer.timer_id = ++e->next_timer;
    ev.u.timer.user = user;
    tt_err err;
    if (tt_engine_schedule(e, &ev, &err)) {
        tt_err_prefix(&err, "timer at %lld ns: ", (long long)ev.ts);
        tt_engine_fail(e, &err);
        return 0;
    }
    return ev.u.timer.timer_id;
}

void tt_engine_timer_cancel(tt_engine *e, uint64_t timer_id)
{
    if (!timer_id || timer_id > e->next_timer)
        return; /* never set */
    if (e->ncancelled == e->capcancelled) {
        size_t cap = e->capcancelled ? e->capcancelled * 2 : 16;
        uint64_t *v = realloc(e->cancelled, cap * sizeof *v);
        if (!v) {
            tt_err err;
            tt_err_set(&err, TT_ENOMEM, "out of memory cancelling timer %llu",
                       (unsigned long long)timer_id);
            tt_engine_fail(e, &err);
            return;
        }
        e->cancelled = v;
        e->capcancelled = cap;
    }
    e->cancelled[e->ncancelled++] = timer_id;
}

/* A popped timer that was cancelled is dropped (and forgotten). */
static int timer_cancelled(tt_engine *e, uint64_t id)
{
    for (size_t i = 0; i < e->ncancelled; i++) {
        if (e->cancelled[i] == id) {
            e->cancelled[i] = e->cancelled[--e->ncancelled];
            return 1;
        }
    }
    return 0;
}

void tt_engine_emit(tt_engine *e, const tt_event *ev)
{
    /* The stamps, then the fingerprint straight from ev: a copy of an event
     * its caller has just built is slow to read back (store forwarding), and
     * only sinks need one. */
    tt_ts ts = ev->ts ? ev->ts : tt_engine_now(e);
    tt_ts ts_init = ev->ts_init ? ev->ts_init : ts;
    uint8_t cls = ev->cls ? ev->cls : TT_CLS_OUTPUT;
    uint64_t seq = ++e->outputs;
    tt_fp_update_stamped(e->fp, ev, ts, ts_init, seq, cls);
    if (!e->nsinks)
        return;
    tt_event out = *ev;
    out.ts = ts;
    out.ts_init = ts_init;
    out.cls = cls;
    out.seq = seq;
    for (int i = 0; i < e->nsinks; i++) {
        tt_err err;
        if (e->sinks[i].write(e->sinks[i].self, &out, &err) < 0) {
            if (err.code >= 0)
                err.code = TT_EIO;
            tt_engine_fail(e, &err);
        }
    }
}

int tt_engine_submit(tt_engine *e, const tt_event *cmd, tt_err *err)
{
    tt_engine_emit(e, cmd);
    if (!e->venue.command)
        return tt_err_set(err, TT_ESTATE, "no venue attached: cannot send order %llu",
                          (unsigned long long)cmd->u.order_cmd.client_id);
    tt_event c = *cmd;
    if (!c.ts)
        c.ts = tt_engine_now(e);
    return e->venue.command(e->venue.self, &c, err);
}

/* ---- the loop ---- */

enum { SRC_OPEN, SRC_IDLE, SRC_DONE };

/* The loop's cursor: the source's events in hand, [next, end) of e->batch,
 * and what the source said last. A local of run_loop whose address only the
 * inlined phases see, so it lives in registers; everything else the loop
 * touches is at a fixed offset from e (the batch, the popped event, the
 * source's error), which leaves the registers to the hot path. */
typedef struct loop {
    const tt_event *next, *end;
    int src; /* SRC_OPEN, SRC_IDLE (live: nothing yet), SRC_DONE */
} loop;

/* Ask the source for more, into e->batch: a batch (replay) or one event.
 * Returns the source's status with e->pulled events, or a negative code with
 * e->src_err filled. Out of line: once per 64 events on the replay path. */
static __attribute__((noinline)) int source_pull(tt_engine *e)
{
    tt_err *err = &e->src_err;
    int s, got = 1;
    e->view_n = 0; /* the batch is about to change under the view */
    tt_err_clear(err);
    if (e->source.next_batch) {
        got = 0;
        s = e->source.next_batch(e->source.self, e->batch, TT_BATCH, &got, err);
        if (s == TT_SRC_EVENT && (got <= 0 || got > TT_BATCH))
            return tt_err_set(err, TT_ESTATE, "source returned a batch of %d events (1..%d)", got,
                              TT_BATCH);
    } else {
        s = e->source.next(e->source.self, e->batch, err);
    }
    if (s < 0)
        return s;
    if (s != TT_SRC_EVENT && s != TT_SRC_IDLE && s != TT_SRC_END)
        return tt_err_set(err, TT_ESTATE, "source returned unknown status %d", s);
    e->pulled = s == TT_SRC_EVENT ? got : 0;
    return s;
}

/* Phase 1: the source's next event is in hand, unless the source has ended
 * (or is idle: then it has just been asked again). Returns 0 or the source's
 * error (in e->src_err). */
static inline __attribute__((always_inline)) int refill(tt_engine *e, loop *l)
{
    if (l->next < l->end || l->src == SRC_DONE)
        return TT_OK;
    int s = source_pull(e);
    if (s < 0)
        return s;
    l->next = e->batch;
    l->end = e->batch + e->pulled;
    l->src = s == TT_SRC_END ? SRC_DONE : s == TT_SRC_IDLE ? SRC_IDLE : SRC_OPEN;
    return TT_OK;
}

/* Pop the queue's top into e->top. NULL when it must not run: a cancelled
 * timer (dropped), or with drop_late (the source has ended and nothing is in
 * hand) a timer later than the last input, so timers set far ahead do not
 * stretch a replay. */
static __attribute__((noinline)) const tt_event *take_top(tt_engine *e, int drop_late)
{
    tt_event *out = &e->top;
    tt_queue_pop(&e->queue, out);
    if (out->kind == TT_EV_TIMER) {
        if (timer_cancelled(e, out->u.timer.timer_id))
            return NULL;
        if (drop_late && out->ts > e->now)
            return NULL;
    }
    return out;
}

/* Phase 2: the next event to dispatch, the earlier of the source's head and
 * the queue's top by the total order; the only place events are compared.
 * NULL when nothing runs now: the source is idle and no timer is due by the
 * wall clock, or the source has ended and the queue is drained. On the replay
 * path the head nearly always wins (a backtest's queue holds a timer further
 * on: the next bar close), which is the first test. */
static inline __attribute__((always_inline)) const tt_event *pick(tt_engine *e, loop *l)
{
    for (;;) {
        const tt_event *top = tt_queue_top(&e->queue), *ev;
        if (l->next < l->end) {
            const tt_event *head = l->next;
            if (!head)
                __builtin_unreachable(); /* it points into the batch: spares a test per event */
            if (!top || head->ts < top->ts || tt_event_cmp(head, top) < 0) {
                l->next = head + 1;
                return head;
            }
            if ((ev = take_top(e, 0)))
                return ev;
            continue;
        }
        if (!top)
            return NULL;
        if (l->src == SRC_IDLE) {
            /* live: release a timer that is due by the wall clock, then ask
             * the source again */
            if (!e->clock.now || top->ts > e->clock.now(e->clock.self))
                return NULL;
            return take_top(e, 0);
        }
        if ((ev = take_top(e, 1)))
            return ev;
    }
}

/* Phase 3: the clock, the venue, the components. */
static inline __attribute__((always_inline)) void dispatch(tt_engine *e, const tt_event *ev)
{
    if (ev->ts > e->now)
        e->now = ev->ts;
    e->events++;
    if (ev->cls == TT_CLS_MARKET) {
        if (e->venue.on_market)
            e->venue.on_market(e->venue.self, ev);
        for (int i = 0; i < e->nhot_market; i++)
            e->hot_market[i].on_event(e->hot_market[i].self, e, ev);
        return;
    }
    if (e->venue.on_arrival)
        e->venue.on_arrival(e->venue.self, ev);
    for (int i = 0; i < e->nhot; i++)
        e->hot[i].on_event(e->hot[i].self, e, ev);
}

int tt_market_view_build(const tt_event *ev, int n, tt_market_view *v, tt_ts *ts, tt_price *bid,
                         tt_price *ask, float *bid_vol, float *ask_vol)
{
    if (n < 1 || n > TT_BATCH)
        return 0;
    uint32_t sym = ev[0].symbol;
    int ok = sym != 0;
    for (int i = 0; i < n; i++) {
        const tt_event *x = &ev[i];
        ok &= x->kind == TT_EV_QUOTE && x->symbol == sym && x->u.quote.bid > 0 &&
              x->u.quote.ask > 0 && (!i || x->ts >= ev[i - 1].ts);
        ts[i] = x->ts;
        bid[i] = x->u.quote.bid;
        ask[i] = x->u.quote.ask;
        bid_vol[i] = x->u.quote.bid_vol;
        ask_vol[i] = x->u.quote.ask_vol;
    }
    v->symbol = sym;
    v->ts = ts;
    v->bid = bid;
    v->ask = ask;
    v->bid_vol = bid_vol;
    v->ask_vol = ask_vol;
    return ok;
}

/* The quiet path: ev is the source's event just picked, end the end of the
 * events in hand. The run of quotes from ev that all come before the queue's
 * top (nothing runs between them: the queue changes only through what they
 * would do) goes to the venue and the components as one call each, if they
 * all say they would only update their own state for each; the shortest
 * answer is taken. It works on the view of the events in hand (built here
 * once a batch, or handed in): quotes of one symbol, else nothing is quiet.
 * Returns how many events it took; 0 when a component had nothing quiet, -1
 * when the run before the queue's next event was too short (either way ev
 * is dispatched as usual). Out of line: it
 * runs once per run of quiet events, and only e is live across the loop. */
#define QUIET_MIN 4 /* fewer in a row: the per-event dispatch is as cheap */

static __attribute__((noinline)) int quiet_run(tt_engine *e, const tt_event *ev,
                                               const tt_event *end)
{
    if (!(ev >= e->view_base && ev < e->view_base + e->view_n)) { /* a new batch */
        int n = (int)(end - ev) < TT_BATCH ? (int)(end - ev) : TT_BATCH;
        e->view_ok = tt_market_view_build(ev, n, &e->view, e->vts, e->vbid, e->vask, e->vbv,
                                          e->vav);
        e->view_base = ev;
        e->view_n = n;
    }
    if (!e->view_ok)
        return 0;
    int off = (int)(ev - e->view_base), most = e->view_n - off;
    tt_market_view v = {e->view.symbol, e->view.ts + off, e->view.bid + off,
                        e->view.ask + off, e->view.bid_vol + off, e->view.ask_vol + off};
    const tt_event *top = tt_queue_top(&e->queue);
    int n = most;
    if (top) { /* the quotes before the top: earlier, or at its time and before it */
        n = tt_market_view_until(&v, most, top->ts);
        while (n < most && v.ts[n] == top->ts && tt_event_cmp(&ev[n], top) < 0)
            n++;
    }
    if (n < QUIET_MIN)
        return -1; /* a short run before the queue's next event: no back-off */
    /* the components first (their horizons are times: a search), the venue's
     * box last, over what is left */
    for (int i = 0; n >= QUIET_MIN && i < e->nhot_market; i++) {
        int k = e->hot_market[i].market_quiet(e->hot_market[i].self, &v, n);
        n = k < n ? k : n;
    }
    if (n >= QUIET_MIN && e->venue.on_market)
        n = e->venue.market_quiet(e->venue.self, &v, n);
    if (n < QUIET_MIN)
        return 0;
    if (e->venue.on_market)
        e->venue.market_take(e->venue.self, &v, n);
    for (int i = 0; i < e->nhot_market; i++)
        e->hot_market[i].market_take(e->hot_market[i].self, &v, n);
    if (v.ts[n - 1] > e->now) /* the clock as dispatch moves it (in time order) */
        e->now = v.ts[n - 1];
    e->events += (uint64_t)n;
    return n;
}

/* quiet_run, except for a few events after a component found nothing quiet
 * (a venue with orders working says no to every quote: the attempts then
 * cost a counter); a run cut short by the queue (-1) is no reason to wait. */
#define QUIET_BACKOFF 8

static inline __attribute__((always_inline)) int quiet_try(tt_engine *e, const tt_event *ev,
                                                           const tt_event *end)
{
    if (e->quiet_skip) {
        e->quiet_skip--;
        return 0;
    }
    int k = quiet_run(e, ev, end);
    if (!k)
        e->quiet_skip = QUIET_BACKOFF;
    return k > 0 ? k : 0;
}

/* The first failure recorded by tt_engine_fail becomes the run's error,
 * unless rc already holds one. */
static int take_failure(tt_engine *e, int rc, tt_err *err)
{
    if (rc == TT_OK && e->failed) {
        if (err)
            *err = e->fail_err;
        rc = e->fail_err.code;
    }
    return rc;
}

/* Every component's on_stop and every sink's flush, whatever happened. A
 * component may still emit outputs or close trades in on_stop, so failures
 * recorded then count too; the first error is kept unless rc holds one. */
static int finish(tt_engine *e, int rc, tt_err *err)
{
    for (int i = 0; i < e->ncomps; i++) {
        tt_err cerr;
        tt_err_clear(&cerr);
        int crc = e->comps[i].on_stop ? e->comps[i].on_stop(e->comps[i].self, e, &cerr) : 0;
        rc = take_failure(e, rc, err);
        if (crc < 0 && rc == TT_OK) {
            if (err)
                *err = cerr;
            rc = cerr.code;
        }
    }
    for (int i = 0; i < e->nsinks; i++) {
        tt_err serr;
        tt_err_clear(&serr);
        if (e->sinks[i].flush && e->sinks[i].flush(e->sinks[i].self, &serr) < 0 && rc == TT_OK) {
            if (err)
                *err = serr;
            rc = serr.code;
        }
    }
    return rc;
}

/* The loop itself, in uv_run's shape. Returns 0 when the source has ended
 * and the queue is drained or the engine was stopped (or failed: the caller
 * looks at e->failed), TT_ENGINE_PAUSED when tt_engine_pause asked for it,
 * else the source's error (in e->src_err). Only e is live across it, which
 * leaves the registers to the cursor and the event; the cursor is taken from
 * the engine on entry and put back on return, so a paused run goes on with
 * the events still in hand. Made twice from one body: with the quiet path,
 * and without it (the plain loop stays what it was, not even a test per
 * event more). */
static inline __attribute__((always_inline)) int loop_body(tt_engine *e, const int quiet)
{
    loop l = {e->cur_next, e->cur_end, e->cur_src};
    if (!e->source.next && !e->source.next_batch)
        l.src = SRC_DONE;
    int rc = TT_OK;
    while (!e->stop) {
        if ((rc = refill(e, &l)) < 0)
            break;
        const tt_event *ev = pick(e, &l);
        if (!ev) {
            if (l.src == SRC_DONE)
                break;
            continue; /* idle: ask the source again */
        }
        if (quiet && ev != &e->top && ev->cls == TT_CLS_MARKET) {
            int k = quiet_try(e, ev, l.end);
            if (k) {
                l.next = ev + k;
                continue;
            }
        }
        dispatch(e, ev);
    }
    e->cur_next = l.next;
    e->cur_end = l.end;
    e->cur_src = l.src;
    if (rc == TT_OK && e->stop && e->pausing && !e->halt && !e->failed)
        rc = TT_ENGINE_PAUSED;
    return rc;
}

static __attribute__((noinline)) int run_loop_plain(tt_engine *e) { return loop_body(e, 0); }
static __attribute__((noinline)) int run_loop_quiet(tt_engine *e) { return loop_body(e, 1); }

static int run_loop(tt_engine *e)
{
    return e->quiet_ok ? run_loop_quiet(e) : run_loop_plain(e);
}

int tt_engine_begin(tt_engine *e, tt_err *err)
{
    if (e->begun)
        return tt_err_set(err, TT_ESTATE, "engine: the run has begun already");
    e->begun = 1;
    for (int i = 0; i < e->ncomps; i++) {
        int rc;
        if (e->comps[i].on_start && (rc = e->comps[i].on_start(e->comps[i].self, e, err)) < 0) {
            tt_err_prefix(err, "%s: ", e->comps[i].name ? e->comps[i].name : "component");
            e->ended = 1; /* a run that failed to begin is over: no on_stop */
            return rc;
        }
    }
    return TT_OK;
}

int tt_engine_advance(tt_engine *e, tt_err *err)
{
    if (!e->begun || e->ended)
        return tt_err_set(err, TT_ESTATE, "engine: advance %s", e->ended ? "after the end of "
                          "the run" : "before tt_engine_begin");
    if (e->pausing && !e->halt && !e->failed) {
        e->pausing = 0;
        e->stop = 0;
    }
    int rc = run_loop(e);
    if (rc < 0 && err)
        *err = e->src_err;
    return rc;
}

int tt_engine_finish(tt_engine *e, int rc, tt_err *err)
{
    if (e->ended)
        return rc ? rc : tt_err_set(err, TT_ESTATE, "engine: the run has ended already");
    e->ended = 1;
    if (rc > 0)
        rc = TT_OK; /* ended while paused: what is left is not dispatched */
    return finish(e, take_failure(e, rc, err), err);
}

int tt_engine_run(tt_engine *e, tt_err *err)
{
    int rc = tt_engine_begin(e, err);
    if (rc < 0)
        return rc;
    while ((rc = tt_engine_advance(e, err)) == TT_ENGINE_PAUSED)
        ; /* a pause asked for during a whole run changes nothing */
    return tt_engine_finish(e, rc, err);
}

/* The loop of run_loop over events handed in: each input in turn, with what
 * the queue holds before it (pick), until the inputs are used up. The queue
 * keeps what comes after the last input for the next call (or for end). */
int tt_engine_feed_view(tt_engine *e, const tt_event *ev, int n, const tt_market_view *v)
{
    loop l = {ev, ev + (n > 0 ? n : 0), SRC_OPEN};
    e->view_base = ev; /* the view handed in, or none yet (built when needed) */
    e->view_n = v && n <= TT_BATCH ? n : 0;
    e->view_ok = e->view_n > 0 && v->symbol;
    if (e->view_ok)
        e->view = *v;
    while (!e->stop && l.next < l.end) {
        const tt_event *x = pick(e, &l);
        if (!x)
            continue;
        if (e->quiet_ok && x != &e->top && x->cls == TT_CLS_MARKET) {
            int k = quiet_try(e, x, l.end);
            if (k) {
                l.next = x + k;
                continue;
            }
        }
        dispatch(e, x);
    }
    e->view_n = 0;
    return e->stop ? 1 : 0;
}

int tt_engine_feed(tt_engine *e, const tt_event *ev, int n)
{
    return tt_engine_feed_view(e, ev, n, NULL);
}

int tt_engine_end(tt_engine *e, tt_err *err)
{
    /* with no source the loop drains the queue as after a source's end */
    tt_source none = e->source;
    memset(&e->source, 0, sizeof e->source);
    int rc = run_loop(e);
    e->source = none;
    return finish(e, take_failure(e, rc, err), err);
}
