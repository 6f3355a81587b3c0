/*
 * The engine loop.
 *
 * Inputs arrive from one source; everything the engine or its components
 * schedule (timers, venue responses) waits in a heap. Each step takes the
 * earlier of the source's head and the heap's top under the total order
 * (ts, cls, source, seq). Market data never enters the heap: on the replay hot
 * path an event costs one source call, one comparison against the heap top and
 * the dispatch, which is why the loop adds only nanoseconds over decoding.
 *
 * Invariant: nothing may be scheduled before the current time, so once the
 * source has produced an event at T the heap can never later receive one that
 * should have come before it. This is what makes the merge a total order and
 * the run deterministic.
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
    tt_queue queue;
    uint64_t *cancelled; /* cancelled timer ids still in the heap */
    size_t ncancelled, capcancelled;
    uint64_t next_seq;   /* for scheduled events */
    uint64_t next_timer;
    uint64_t events, outputs;
    tt_ts now;
    tt_fp_state *fp;
    volatile int stop;
    int sink_error;
    tt_err sink_err;
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
void tt_engine_set_venue(tt_engine *e, tt_venue venue)
{
    e->venue = venue;
    if (venue.attach)
        venue.attach(venue.self, e);
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
    return TT_OK;
}

void tt_engine_stop(tt_engine *e) { e->stop = 1; }
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
    if (tt_engine_schedule(e, &ev, NULL))
        return 0;
    return ev.u.timer.timer_id;
}

void tt_engine_timer_cancel(tt_engine *e, uint64_t timer_id)
{
    if (e->ncancelled == e->capcancelled) {
        size_t cap = e->capcancelled ? e->capcancelled * 2 : 16;
        uint64_t *v = realloc(e->cancelled, cap * sizeof *v);
        if (!v)
            return;
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
    tt_event out = *ev;
    if (!out.ts)
        out.ts = tt_engine_now(e);
    if (!out.ts_init)
        out.ts_init = out.ts;
    if (!out.cls)
        out.cls = TT_CLS_OUTPUT;
    out.seq = ++e->outputs;
    tt_fp_update_event(e->fp, &out);
    for (int i = 0; i < e->nsinks; i++) {
        if (e->sinks[i].write(e->sinks[i].self, &out, &e->sink_err) < 0 && !e->sink_error) {
            e->sink_error = 1;
            e->stop = 1;
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

static inline void dispatch(tt_engine *e, const tt_event *ev)
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
    for (int i = 0; i < e->nhot; i++)
        e->hot[i].on_event(e->hot[i].self, e, ev);
}

int tt_engine_run(tt_engine *e, tt_err *err)
{
    int rc = TT_OK;
    for (int i = 0; i < e->ncomps; i++) {
        if (e->comps[i].on_start && (rc = e->comps[i].on_start(e->comps[i].self, e, err)) < 0) {
            tt_err_prefix(err, "%s: ", e->comps[i].name ? e->comps[i].name : "component");
            return rc;
        }
    }
    tt_event head, ev;
    tt_event batch[TT_BATCH];
    int nbatch = 0, ibatch = 0;
    int have = 0, src_done = (e->source.next == NULL && e->source.next_batch == NULL);
    while (!e->stop) {
        if (!have && !src_done && ibatch < nbatch) {
            head = batch[ibatch++];
            have = 1;
        }
        /* Replay fast path: a batch in hand and nothing queued before its next
         * event (a backtest nearly always holds a timer, the next bar close,
         * further on). The queue can only gain events through dispatch, so its
         * top is looked at again before each event; batch events are
         * dispatched in place. */
        if (have) {
            const tt_event *top = tt_queue_top(&e->queue);
            if (!top || tt_event_cmp(&head, top) < 0) {
                dispatch(e, &head);
                have = 0;
                while (ibatch < nbatch && !e->stop) {
                    top = tt_queue_top(&e->queue);
                    if (top && batch[ibatch].ts >= top->ts &&
                        tt_event_cmp(&batch[ibatch], top) >= 0)
                        break;
                    dispatch(e, &batch[ibatch++]);
                }
                continue;
            }
        }
        if (!have && !src_done) {
            int s;
            if (e->source.next_batch) {
                nbatch = 0;
                s = e->source.next_batch(e->source.self, batch, TT_BATCH, &nbatch, err);
                ibatch = 0;
                if (s != TT_SRC_EVENT)
                    nbatch = 0; /* only an EVENT batch holds events, whatever count says */
                if (s == TT_SRC_EVENT) {
                    if (nbatch <= 0) {
                        rc = tt_err_set(err, TT_ESTATE, "source returned an empty batch");
                        break;
                    }
                    head = batch[ibatch++];
                }
            } else {
                s = e->source.next(e->source.self, &head, err);
            }
            if (s < 0) {
                rc = s;
                break;
            }
            if (s == TT_SRC_EVENT)
                have = 1;
            else if (s == TT_SRC_END)
                src_done = 1;
            else if (s == TT_SRC_IDLE) {
                /* Live: release due timers by the wall clock, then ask again. */
                const tt_event *top = tt_queue_top(&e->queue);
                if (top && e->clock.now && top->ts <= e->clock.now(e->clock.self)) {
                    tt_queue_pop(&e->queue, &ev);
                    if (ev.kind == TT_EV_TIMER && timer_cancelled(e, ev.u.timer.timer_id))
                        continue;
                    dispatch(e, &ev);
                }
                continue;
            }
        }
        const tt_event *top = tt_queue_top(&e->queue);
        if (have && (!top || tt_event_cmp(&head, top) < 0)) {
            have = 0;
            dispatch(e, &head);
        } else if (top) {
            tt_queue_pop(&e->queue, &ev);
            if (ev.kind == TT_EV_TIMER && timer_cancelled(e, ev.u.timer.timer_id))
                continue;
            /* After the source ends, only what is due by the last input time runs:
             * timers set far in the future do not stretch a replay. */
            if (src_done && !have && ev.kind == TT_EV_TIMER && ev.ts > e->now)
                continue;
            dispatch(e, &ev);
        } else if (src_done) {
            break;
        }
    }
    if (rc == TT_OK && e->sink_error) {
        *err = e->sink_err;
        rc = e->sink_err.code ? e->sink_err.code : TT_EIO;
    }
    for (int i = 0; i < e->ncomps; i++) {
        tt_err cerr;
        tt_err_clear(&cerr);
        if (e->comps[i].on_stop && e->comps[i].on_stop(e->comps[i].self, e, &cerr) < 0 &&
            rc == TT_OK) {
            *err = cerr;
            rc = cerr.code;
        }
    }
    for (int i = 0; i < e->nsinks; i++) {
        tt_err serr;
        tt_err_clear(&serr);
        if (e->sinks[i].flush && e->sinks[i].flush(e->sinks[i].self, &serr) < 0 && rc == TT_OK) {
            *err = serr;
            rc = serr.code;
        }
    }
    return rc;
}
