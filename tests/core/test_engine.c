/*
 * Core tests: the queue's total order, the engine's merge of source and queue,
 * timers, the fingerprint, two engines in one process not disturbing each
 * other, the venue port's hooks, failures (tt_engine_fail, broken sources),
 * several sources merged (core/merge.h), error prefixes, and stepping a run
 * (begin, advance until paused, end).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/merge.h"
#include "core/queue.h"

static tt_event ev_at(tt_ts ts, uint8_t kind, uint16_t source, uint64_t seq)
{
    tt_event e;
    memset(&e, 0, sizeof e);
    e.ts = e.ts_init = ts;
    e.kind = kind;
    e.cls = tt_event_class_of(kind);
    e.source = source;
    e.seq = seq;
    return e;
}

/* Push a shuffled set; pops come out in (ts, cls, source, seq) order. */
static void test_queue_total_order(void **state)
{
    (void)state;
    tt_queue q;
    tt_queue_init(&q);
    enum { N = 4000 };
    tt_event *v = malloc(N * sizeof *v);
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint8_t kinds[] = {TT_EV_QUOTE, TT_EV_TIMER, TT_EV_ORDER_EVENT, TT_EV_CONTROL, TT_EV_EXTERNAL};
        v[i] = ev_at((tt_ts)((x >> 33) % 50), kinds[(x >> 20) % 5], (uint16_t)((x >> 40) % 4),
                     (uint64_t)i);
        assert_int_equal(tt_queue_push(&q, &v[i]), TT_OK);
    }
    tt_event prev, cur;
    assert_int_equal(tt_queue_pop(&q, &prev), 1);
    int n = 1;
    while (tt_queue_pop(&q, &cur)) {
        assert_true(tt_event_cmp(&prev, &cur) < 0);
        if (prev.ts == cur.ts && prev.cls != cur.cls)
            assert_true(prev.cls < cur.cls);
        prev = cur;
        n++;
    }
    assert_int_equal(n, N);
    /* at equal ts: control, then venue responses, then timers, then market data */
    assert_true(tt_event_class_of(TT_EV_CONTROL) < tt_event_class_of(TT_EV_ORDER_EVENT));
    assert_true(tt_event_class_of(TT_EV_ORDER_EVENT) < tt_event_class_of(TT_EV_TIMER));
    assert_true(tt_event_class_of(TT_EV_TIMER) < tt_event_class_of(TT_EV_QUOTE));
    tt_queue_free(&q);
    free(v);
}

/* ---- a tiny array source and a recording component ---- */

typedef struct arr_src {
    const tt_event *v;
    size_t n, i;
} arr_src;

static int arr_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    arr_src *s = self;
    if (s->i == s->n)
        return TT_SRC_END;
    *ev = s->v[s->i++];
    return TT_SRC_EVENT;
}

typedef struct recorder {
    tt_event seen[64];
    int n;
    int timer_every; /* set a timer 5 ns after each quote when nonzero */
    int emit;        /* emit a signal per quote */
} recorder;

static void rec_on_event(void *self, tt_engine *e, const tt_event *ev)
{
    recorder *r = self;
    if (r->n < 64)
        r->seen[r->n++] = *ev;
    if (ev->kind == TT_EV_QUOTE) {
        if (r->timer_every)
            tt_engine_timer_set(e, ev->ts + 5, (uint64_t)ev->ts);
        if (r->emit) {
            tt_event s;
            memset(&s, 0, sizeof s);
            s.kind = TT_EV_SIGNAL;
            s.symbol = ev->symbol;
            s.u.signal.direction = ev->u.quote.bid & 1 ? 1 : -1;
            s.u.signal.strength = (double)ev->u.quote.bid / 1e5;
            tt_engine_emit(e, &s);
        }
    }
}

static tt_event quotes[6];

static void make_quotes(void)
{
    for (int i = 0; i < 6; i++) {
        quotes[i] = ev_at(10 * (i + 1), TT_EV_QUOTE, 1, (uint64_t)i + 1);
        quotes[i].u.quote.bid = 114000 + i * 7;
        quotes[i].u.quote.ask = 114010 + i * 7;
    }
}

/* Run e over source s with rec (as set up by the caller) as its component. */
static void run_recorded(tt_engine *e, recorder *rec, tt_source s)
{
    tt_engine_set_source(e, s);
    tt_component c = {rec, "recorder", NULL, rec_on_event, NULL};
    assert_int_equal(tt_engine_add_component(e, c), TT_OK);
    tt_err err;
    assert_int_equal(tt_engine_run(e, &err), TT_OK);
}

static tt_engine *run_engine(tt_instruments *ins, recorder *rec, arr_src *src)
{
    tt_engine *e = tt_engine_new(ins);
    assert_non_null(e);
    run_recorded(e, rec, (tt_source){src, arr_next, NULL});
    return e;
}

/* Timers interleave with source events by time: quote@10, timer@15, quote@20, ... */
static void test_engine_merges_timers(void **state)
{
    (void)state;
    make_quotes();
    tt_instruments *ins = tt_instruments_new();
    recorder rec;
    memset(&rec, 0, sizeof rec);
    rec.timer_every = 1;
    arr_src src = {quotes, 6, 0};
    tt_engine *e = run_engine(ins, &rec, &src);
    /* 6 quotes + 5 timers (the last timer, at 65, is past the end of the data) */
    assert_int_equal(rec.n, 11);
    for (int i = 0; i < 11; i++) {
        assert_int_equal(rec.seen[i].kind, i % 2 == 0 ? TT_EV_QUOTE : TT_EV_TIMER);
        assert_int_equal(rec.seen[i].ts, i % 2 == 0 ? 10 * (i / 2 + 1) : 10 * (i / 2 + 1) + 5);
    }
    assert_int_equal(tt_engine_events(e), 11);
    tt_engine_free(e);
    tt_instruments_free(ins);
}

static void test_timer_cancel_and_schedule_past(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    uint64_t a = tt_engine_timer_set(e, 100, 1);
    uint64_t b = tt_engine_timer_set(e, 200, 2);
    assert_true(a > 0 && b > a);
    tt_engine_timer_cancel(e, a);
    make_quotes();
    quotes[5].ts = 300;
    arr_src src = {quotes, 6, 0};
    recorder rec;
    memset(&rec, 0, sizeof rec);
    run_recorded(e, &rec, (tt_source){&src, arr_next, NULL});
    int timers = 0;
    for (int i = 0; i < rec.n; i++)
        if (rec.seen[i].kind == TT_EV_TIMER) {
            timers++;
            assert_int_equal(rec.seen[i].u.timer.user, 2);
        }
    assert_int_equal(timers, 1);
    /* scheduling before now is refused with a message */
    tt_event late = ev_at(5, TT_EV_ORDER_EVENT, 0, 0);
    tt_err err;
    assert_int_equal(tt_engine_schedule(e, &late, &err), TT_EORDER);
    assert_non_null(strstr(err.msg, "earlier than now"));
    tt_engine_free(e);
    tt_instruments_free(ins);
}

/* Same inputs → same fingerprint; a changed input → another; and two engines
 * interleaved in one process give the same results as each alone. */
static void test_fingerprint_and_two_engines(void **state)
{
    (void)state;
    make_quotes();
    tt_instruments *ins = tt_instruments_new();
    recorder r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    r1.emit = r2.emit = 1;
    arr_src s1 = {quotes, 6, 0}, s2 = {quotes, 6, 0};
    tt_engine *e1 = run_engine(ins, &r1, &s1);
    tt_engine *e2 = run_engine(ins, &r2, &s2);
    tt_fingerprint f1 = tt_engine_fingerprint(e1), f2 = tt_engine_fingerprint(e2);
    assert_true(f1.hi == f2.hi && f1.lo == f2.lo);
    assert_int_equal(tt_engine_outputs(e1), 6);
    char hex[33];
    tt_fingerprint_hex(f1, hex);
    assert_int_equal(strlen(hex), 32);

    /* one changed tick changes the fingerprint */
    tt_event changed[6];
    memcpy(changed, quotes, sizeof changed);
    changed[3].u.quote.bid += 1;
    recorder r3;
    memset(&r3, 0, sizeof r3);
    r3.emit = 1;
    arr_src s3 = {changed, 6, 0};
    tt_engine *e3 = run_engine(ins, &r3, &s3);
    tt_fingerprint f3 = tt_engine_fingerprint(e3);
    assert_false(f1.hi == f3.hi && f1.lo == f3.lo);

    /* two engines stepped alternately: each sees only its own events */
    tt_engine *a = tt_engine_new(ins), *b = tt_engine_new(ins);
    tt_engine_timer_set(a, 1000, 11);
    tt_engine_timer_set(b, 2000, 22);
    assert_int_equal(tt_engine_now(a), 0);
    recorder ra, rb;
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    ra.emit = rb.emit = 1;
    arr_src sa = {quotes, 6, 0}, sb = {changed, 6, 0};
    tt_source xa = {&sa, arr_next, NULL}, xb = {&sb, arr_next, NULL};
    tt_engine_set_source(a, xa);
    tt_engine_set_source(b, xb);
    tt_component ca = {&ra, "a", NULL, rec_on_event, NULL}, cb = {&rb, "b", NULL, rec_on_event, NULL};
    tt_engine_add_component(a, ca);
    tt_engine_add_component(b, cb);
    tt_err err;
    assert_int_equal(tt_engine_run(a, &err), TT_OK);
    assert_int_equal(tt_engine_run(b, &err), TT_OK);
    tt_fingerprint fa = tt_engine_fingerprint(a), fb = tt_engine_fingerprint(b);
    assert_true(fa.hi == f1.hi && fa.lo == f1.lo);
    assert_true(fb.hi == f3.hi && fb.lo == f3.lo);
    /* a's timer at 1000 and b's at 2000 lie past the end of their data: never fired */
    for (int i = 0; i < ra.n; i++)
        assert_int_not_equal(ra.seen[i].kind, TT_EV_TIMER);
    for (int i = 0; i < rb.n; i++)
        assert_int_not_equal(rb.seen[i].kind, TT_EV_TIMER);
    assert_int_equal(ra.n, 6);
    tt_engine_free(a);
    tt_engine_free(b);
    tt_engine_free(e1);
    tt_engine_free(e2);
    tt_engine_free(e3);
    tt_instruments_free(ins);
}

/* A batch source that, after one batch, answers IDLE and END without
 * touching *count: the engine must not replay the old batch. */
typedef struct lazy_batch {
    int calls;
} lazy_batch;

static int lazy_next_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    (void)err;
    (void)cap;
    lazy_batch *b = self;
    switch (b->calls++) {
    case 0:
        for (int i = 0; i < 3; i++)
            buf[i] = ev_at(10 * (i + 1), TT_EV_QUOTE, 1, (uint64_t)i + 1);
        *count = 3;
        return TT_SRC_EVENT;
    case 1: return TT_SRC_IDLE;
    default: return TT_SRC_END;
    }
}

static void test_batch_source_status_without_count(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    lazy_batch lb = {0};
    recorder rec;
    memset(&rec, 0, sizeof rec);
    run_recorded(e, &rec, (tt_source){&lb, NULL, NULL, lazy_next_batch});
    assert_int_equal(rec.n, 3);
    assert_int_equal(tt_engine_events(e), 3);
    assert_int_equal(lb.calls, 3);
    tt_engine_free(e);
    tt_instruments_free(ins);
}

/* ---- the venue port's hooks ---- */

/* A venue that logs what reaches it, and schedules each command back to
 * itself 3 ns later (as the simulated venue's latency does). */
typedef struct hook_venue {
    tt_engine *e;
    char log[64];
    int n;
    int arrivals_of_own; /* its own commands back through on_arrival */
} hook_venue;

static void hv_attach(void *self, tt_engine *e) { ((hook_venue *)self)->e = e; }
static void hv_market(void *self, const tt_event *ev)
{
    hook_venue *v = self;
    (void)ev;
    if (v->n < 63)
        v->log[v->n++] = 'M';
}
static void hv_arrival(void *self, const tt_event *ev)
{
    hook_venue *v = self;
    if (v->n < 63)
        v->log[v->n++] = ev->kind == TT_EV_TIMER ? 'T' : 'A';
    if (ev->kind == TT_EV_ORDER_CMD && ev->source == 0x5200)
        v->arrivals_of_own++;
}
static int hv_command(void *self, const tt_event *cmd, tt_err *err)
{
    hook_venue *v = self;
    tt_event a = *cmd;
    a.ts = tt_engine_now(v->e) + 3;
    a.seq = 0;
    a.source = 0x5200;
    a.cls = TT_CLS_VENUE;
    return tt_engine_schedule(v->e, &a, err);
}

typedef struct hook_comp {
    hook_venue *v;
    int sent;
} hook_comp;

static void hc_event(void *self, tt_engine *e, const tt_event *ev)
{
    hook_comp *c = self;
    if (c->v->n < 63)
        c->v->log[c->v->n++] = ev->kind == TT_EV_QUOTE ? 'q' : ev->kind == TT_EV_TIMER ? 't' : 'a';
    if (ev->kind == TT_EV_QUOTE && !c->sent++) {
        tt_event cmd = ev_at(0, TT_EV_ORDER_CMD, 0, 0);
        cmd.u.order_cmd.cmd = TT_CMD_SUBMIT;
        cmd.u.order_cmd.client_id = 1;
        tt_err err;
        assert_int_equal(tt_engine_submit(e, &cmd, &err), TT_OK);
    }
}

/* Market data reaches the venue's on_market, everything else its
 * on_arrival, each before any component: quote@10 (M q), its command
 * arriving at 13 (A a), timer@15 (T t), quote@20 (M q). */
static void test_venue_hooks_come_first(void **state)
{
    (void)state;
    make_quotes();
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    hook_venue v;
    memset(&v, 0, sizeof v);
    tt_engine_set_venue(e, (tt_venue){&v, hv_attach, hv_command, hv_market, NULL, hv_arrival,
                                      NULL});
    hook_comp hc = {&v, 0};
    tt_engine_add_component(e, (tt_component){&hc, "probe", NULL, hc_event, NULL, 0});
    tt_engine_timer_set(e, 15, 0);
    arr_src src = {quotes, 2, 0};
    tt_engine_set_source(e, (tt_source){&src, arr_next, NULL, NULL});
    tt_err err;
    assert_int_equal(tt_engine_run(e, &err), TT_OK);
    assert_string_equal(v.log, "MqAaTtMq");
    assert_int_equal(v.arrivals_of_own, 1);
    tt_engine_free(e);
    tt_instruments_free(ins);
}

/* ---- failures ---- */

typedef struct failer {
    int at;        /* fail on this input (1-based) */
    int seen;
    int stopped;
    int emit_in_stop;
} failer;

static void failer_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)ev;
    failer *f = self;
    if (++f->seen == f->at) {
        tt_err why;
        tt_err_set(&why, TT_ENOMEM, "out of memory in the probe");
        tt_engine_fail(e, &why);
        tt_err_set(&why, TT_EIO, "a second failure");
        tt_engine_fail(e, &why); /* the first one is kept */
    }
}

static int failer_stop(void *self, tt_engine *e, tt_err *err)
{
    (void)err;
    failer *f = self;
    f->stopped = 1;
    if (f->emit_in_stop) {
        tt_event s = ev_at(0, TT_EV_SIGNAL, 0, 0);
        tt_engine_emit(e, &s);
    }
    return TT_OK;
}

static int bad_write(void *self, const tt_event *ev, tt_err *err)
{
    (void)ev;
    (void)self;
    return tt_err_set(err, TT_ENET, "sink: broker gone");
}

/* tt_engine_fail stops the run after the current event with its error
 * (the first one given); on_stop still runs. A sink that fails while a
 * component stops is the run's error too. */
static void test_fail_stops_the_run(void **state)
{
    (void)state;
    make_quotes();
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    failer f = {3, 0, 0, 0};
    tt_engine_add_component(e, (tt_component){&f, "failer", NULL, failer_event, failer_stop, 0});
    arr_src src = {quotes, 6, 0};
    tt_engine_set_source(e, (tt_source){&src, arr_next, NULL, NULL});
    tt_err err;
    assert_int_equal(tt_engine_run(e, &err), TT_ENOMEM);
    assert_string_equal(err.msg, "out of memory in the probe");
    assert_int_equal(tt_engine_events(e), 3);
    assert_int_equal(f.stopped, 1);
    tt_engine_free(e);

    e = tt_engine_new(ins);
    failer g = {0, 0, 0, 1};
    tt_engine_add_component(e, (tt_component){&g, "stopper", NULL, failer_event, failer_stop, 0});
    tt_engine_add_sink(e, (tt_sink){NULL, bad_write, NULL, NULL});
    arr_src src2 = {quotes, 6, 0};
    tt_engine_set_source(e, (tt_source){&src2, arr_next, NULL, NULL});
    assert_int_equal(tt_engine_run(e, NULL), TT_ENET); /* a NULL err is allowed */
    assert_int_equal(tt_engine_events(e), 6);
    tt_engine_free(e);
    tt_instruments_free(ins);
}

static int status7_next(void *self, tt_event *ev, tt_err *err)
{
    (void)self;
    (void)ev;
    (void)err;
    return 7;
}

static int oversize_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    (void)self;
    (void)err;
    buf[0] = ev_at(10, TT_EV_QUOTE, 1, 1);
    *count = cap + 1;
    return TT_SRC_EVENT;
}

/* A source that answers something else than its statuses stops the run
 * with TT_ESTATE rather than loop or read past the batch. */
static void test_broken_sources(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    tt_err err;
    tt_engine *e = tt_engine_new(ins);
    tt_engine_set_source(e, (tt_source){NULL, status7_next, NULL, NULL});
    assert_int_equal(tt_engine_run(e, &err), TT_ESTATE);
    assert_non_null(strstr(err.msg, "unknown status 7"));
    tt_engine_free(e);
    e = tt_engine_new(ins);
    tt_engine_set_source(e, (tt_source){NULL, NULL, NULL, oversize_batch});
    assert_int_equal(tt_engine_run(e, &err), TT_ESTATE);
    assert_non_null(strstr(err.msg, "batch of 65"));
    assert_int_equal(tt_engine_events(e), 0);
    tt_engine_free(e);
    tt_instruments_free(ins);
}

/* Cancelling 0 or an id never set does nothing (the set timers still fire). */
static void test_timer_cancel_unknown(void **state)
{
    (void)state;
    make_quotes();
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    uint64_t a = tt_engine_timer_set(e, 15, 1);
    tt_engine_timer_cancel(e, 0);
    tt_engine_timer_cancel(e, a + 100);
    recorder rec;
    memset(&rec, 0, sizeof rec);
    arr_src src = {quotes, 3, 0};
    run_recorded(e, &rec, (tt_source){&src, arr_next, NULL});
    assert_int_equal(rec.n, 4);
    assert_int_equal(rec.seen[1].kind, TT_EV_TIMER);
    tt_engine_free(e);
    tt_instruments_free(ins);
}

/* ---- several sources as one ---- */

static int arr_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    (void)err;
    arr_src *s = self;
    int n = 0;
    while (n < cap && n < 2 && s->i < s->n)
        buf[n++] = s->v[s->i++];
    if (!n)
        return TT_SRC_END;
    *count = n;
    return TT_SRC_EVENT;
}

static int idle_once(void *self, tt_event *ev, tt_err *err)
{
    int *calls = self;
    (void)err;
    if ((*calls)++ == 0)
        return TT_SRC_IDLE;
    *ev = ev_at(25, TT_EV_EXTERNAL, 9, 1);
    return *calls == 2 ? TT_SRC_EVENT : TT_SRC_END;
}

/* Three members (one-at-a-time, batched, and one idle at first) come out as
 * one stream in the total order; an idle member makes the merge idle. */
static void test_merge(void **state)
{
    (void)state;
    tt_event a[4] = {ev_at(10, TT_EV_QUOTE, 1, 1), ev_at(20, TT_EV_QUOTE, 1, 2),
                     ev_at(20, TT_EV_TRADE, 1, 3), ev_at(40, TT_EV_QUOTE, 1, 4)};
    tt_event b[3] = {ev_at(5, TT_EV_QUOTE, 2, 1), ev_at(20, TT_EV_QUOTE, 2, 2),
                     ev_at(30, TT_EV_QUOTE, 2, 3)};
    arr_src sa = {a, 4, 0}, sb = {b, 3, 0};
    int calls = 0;
    tt_source members[3] = {{&sa, arr_next, NULL, NULL},
                            {&sb, NULL, NULL, arr_batch},
                            {&calls, idle_once, NULL, NULL}};
    tt_merge *m;
    tt_err err;
    assert_int_equal(tt_merge_new(&m, members, 0, &err), TT_EINVAL);
    assert_null(m);
    assert_int_equal(tt_merge_new(&m, members, 3, &err), TT_OK);
    tt_source src = tt_merge_source(m);
    tt_event ev;
    assert_int_equal(src.next(src.self, &ev, &err), TT_SRC_IDLE);
    tt_ts want_ts[] = {5, 10, 20, 20, 20, 25, 30, 40};
    uint16_t want_src[] = {2, 1, 1, 1, 2, 9, 2, 1};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(src.next(src.self, &ev, &err), TT_SRC_EVENT);
        assert_int_equal(ev.ts, want_ts[i]);
        assert_int_equal(ev.source, want_src[i]);
    }
    assert_int_equal(src.next(src.self, &ev, &err), TT_SRC_END);
    assert_int_equal(src.next(src.self, &ev, &err), TT_SRC_END);
    tt_merge_free(m);
    tt_merge_free(NULL);
}

/* ---- stepping: begin, advance until paused, end ---- */

typedef struct pauser {
    recorder rec;
    int stops;      /* on_stop calls */
    int pause_at;   /* pause after the quotes whose bid is odd when nonzero */
} pauser;

static void pauser_event(void *self, tt_engine *e, const tt_event *ev)
{
    pauser *p = self;
    rec_on_event(&p->rec, e, ev);
    if (p->pause_at && ev->kind == TT_EV_QUOTE && (ev->u.quote.bid & 1))
        tt_engine_pause(e);
}

static int pauser_stop(void *self, tt_engine *e, tt_err *err)
{
    (void)e, (void)err;
    ((pauser *)self)->stops++;
    return TT_OK;
}

static tt_engine *pauser_engine(tt_instruments *ins, pauser *p, arr_src *src)
{
    tt_engine *e = tt_engine_new(ins);
    tt_source s = {src, arr_next, NULL, arr_batch};
    tt_engine_set_source(e, s);
    tt_component c = {p, "pauser", NULL, pauser_event, pauser_stop};
    assert_int_equal(tt_engine_add_component(e, c), TT_OK);
    return e;
}

/* A run stepped pause by pause dispatches what tt_engine_run dispatches, in
 * the same order (batches in hand survive a pause), with the same
 * fingerprint; a pause inside tt_engine_run changes nothing; a timer set
 * between two advances is ordered as if set by the last event; ending while
 * paused runs on_stop once and leaves the rest; misuse is TT_ESTATE. */
static void test_engine_stepping(void **state)
{
    (void)state;
    make_quotes();
    tt_instruments *ins = tt_instruments_new();
    pauser whole, stepped;
    memset(&whole, 0, sizeof whole);
    memset(&stepped, 0, sizeof stepped);
    whole.rec.emit = stepped.rec.emit = 1;
    whole.rec.timer_every = stepped.rec.timer_every = 1;
    whole.pause_at = stepped.pause_at = 1;
    arr_src s1 = {quotes, 6, 0}, s2 = {quotes, 6, 0};
    tt_engine *a = pauser_engine(ins, &whole, &s1), *b = pauser_engine(ins, &stepped, &s2);
    tt_err err;
    assert_int_equal(tt_engine_run(a, &err), TT_OK);
    assert_int_equal(tt_engine_advance(b, &err), TT_ESTATE); /* before begin */
    assert_int_equal(tt_engine_begin(b, &err), TT_OK);
    int pauses = 0, rc;
    while ((rc = tt_engine_advance(b, &err)) == TT_ENGINE_PAUSED) {
        pauses++;
        const tt_event *last = &stepped.rec.seen[stepped.rec.n - 1];
        assert_int_equal(last->kind, TT_EV_QUOTE);
        assert_true(last->u.quote.bid & 1);
        assert_int_equal(tt_engine_now(b), last->ts);
    }
    assert_int_equal(rc, TT_OK);
    assert_int_equal(pauses, 3); /* bids 114007, 114021, 114035 */
    assert_int_equal(tt_engine_finish(b, rc, &err), TT_OK);
    assert_int_equal(tt_engine_advance(b, &err), TT_ESTATE); /* after the end */
    assert_int_equal(stepped.stops, 1);
    assert_int_equal(whole.rec.n, stepped.rec.n);
    assert_int_equal(whole.rec.n, 11); /* 6 quotes, the timers of the first 5 */
    for (int i = 0; i < whole.rec.n; i++) {
        assert_int_equal(tt_event_cmp(&whole.rec.seen[i], &stepped.rec.seen[i]), 0);
        assert_int_equal(whole.rec.seen[i].kind, stepped.rec.seen[i].kind);
    }
    tt_fingerprint fa = tt_engine_fingerprint(a), fb = tt_engine_fingerprint(b);
    assert_true(fa.hi == fb.hi && fa.lo == fb.lo);

    /* a timer set between two advances, at the paused time: before the next quote */
    pauser mid;
    memset(&mid, 0, sizeof mid);
    mid.pause_at = 1;
    arr_src s3 = {quotes, 6, 0};
    tt_engine *c = pauser_engine(ins, &mid, &s3);
    assert_int_equal(tt_engine_begin(c, &err), TT_OK);
    assert_int_equal(tt_engine_begin(c, &err), TT_ESTATE);
    assert_int_equal(tt_engine_advance(c, &err), TT_ENGINE_PAUSED); /* after the quote at 20 */
    assert_int_equal(mid.rec.n, 2);
    assert_true(tt_engine_timer_set(c, tt_engine_now(c), 77) > 0);
    assert_int_equal(tt_engine_advance(c, &err), TT_ENGINE_PAUSED); /* after the quote at 40 */
    assert_int_equal(mid.rec.seen[2].kind, TT_EV_TIMER);
    assert_int_equal(mid.rec.seen[2].ts, 20);
    assert_int_equal(mid.rec.seen[2].u.timer.user, 77);
    assert_int_equal(mid.rec.seen[3].ts, 30);
    /* end while paused: on_stop once, the quotes at 50 and 60 never seen */
    assert_int_equal(tt_engine_finish(c, TT_ENGINE_PAUSED, &err), TT_OK);
    assert_int_equal(mid.stops, 1);
    assert_int_equal(mid.rec.n, 5);
    assert_int_equal(tt_engine_finish(c, TT_OK, &err), TT_ESTATE);

    /* tt_engine_stop while stepping: the run is over, not paused */
    pauser st;
    memset(&st, 0, sizeof st);
    st.pause_at = 1;
    arr_src s4 = {quotes, 6, 0};
    tt_engine *d = pauser_engine(ins, &st, &s4);
    assert_int_equal(tt_engine_begin(d, &err), TT_OK);
    assert_int_equal(tt_engine_advance(d, &err), TT_ENGINE_PAUSED);
    tt_engine_stop(d);
    assert_int_equal(tt_engine_advance(d, &err), TT_OK);
    assert_int_equal(st.rec.n, 2);
    assert_int_equal(tt_engine_finish(d, TT_OK, &err), TT_OK);
    tt_engine_free(a);
    tt_engine_free(b);
    tt_engine_free(c);
    tt_engine_free(d);
    tt_instruments_free(ins);
}

/* A prefix keeps the code; without a record there is nothing to prefix. */
/* ---- fed from outside (tt_engine_begin, _feed, _end) ---- */

/* On every quote: a timer 0..36 ns ahead (some at the next quote's time,
 * some past the last input: dropped at the end) and an output; on every
 * timer an output too. */
static void timers_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)self;
    tt_event s;
    memset(&s, 0, sizeof s);
    s.kind = TT_EV_SIGNAL;
    if (ev->kind == TT_EV_QUOTE) {
        tt_engine_timer_set(e, ev->ts + ev->u.quote.bid % 37, (uint64_t)ev->ts);
        s.u.signal.strength = (double)ev->u.quote.bid;
    } else if (ev->kind == TT_EV_TIMER) {
        s.u.signal.strength = -(double)ev->u.timer.user;
        s.u.signal.direction = 1;
    }
    tt_engine_emit(e, &s);
}

static tt_engine *timers_engine(tt_instruments *ins)
{
    tt_engine *e = tt_engine_new(ins);
    tt_component c = {NULL, "timers", NULL, timers_event, NULL};
    assert_int_equal(tt_engine_add_component(e, c), TT_OK);
    return e;
}

/* Batches of any size handed in give what the source gives: the same
 * dispatch order (the fingerprint of the outputs), timers between and after
 * the inputs included. */
static void test_feed_equals_run(void **state)
{
    (void)state;
    enum { N = 500 };
    tt_event *v = calloc(N, sizeof *v);
    for (int i = 0; i < N; i++) {
        v[i] = ev_at(10 * (i + 1) - (i % 3 == 0 ? 5 : 0), TT_EV_QUOTE, 1, (uint64_t)i + 1);
        v[i].u.quote.bid = 114000 + (i * 7919) % 1000;
        v[i].u.quote.ask = v[i].u.quote.bid + 3;
    }
    tt_instruments *ins = tt_instruments_new();
    tt_engine *a = timers_engine(ins);
    arr_src src = {v, N, 0};
    tt_engine_set_source(a, (tt_source){&src, arr_next, NULL});
    tt_err err;
    assert_int_equal(tt_engine_run(a, &err), TT_OK);
    const int sizes[] = {1, 2, 3, 7, 64, 100, N};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        tt_engine *b = timers_engine(ins);
        assert_int_equal(tt_engine_begin(b, &err), TT_OK);
        for (int i = 0; i < N; i += sizes[k])
            assert_int_equal(tt_engine_feed(b, v + i, N - i < sizes[k] ? N - i : sizes[k]), 0);
        assert_int_equal(tt_engine_end(b, &err), TT_OK);
        tt_fingerprint fa = tt_engine_fingerprint(a), fb = tt_engine_fingerprint(b);
        assert_true(fa.hi == fb.hi && fa.lo == fb.lo);
        assert_int_equal(tt_engine_outputs(a), tt_engine_outputs(b));
        assert_int_equal(tt_engine_events(a), tt_engine_events(b));
        tt_engine_free(b);
    }
    /* a stopped engine says so and takes no more */
    tt_engine *c = timers_engine(ins);
    assert_int_equal(tt_engine_begin(c, &err), TT_OK);
    assert_int_equal(tt_engine_feed(c, v, 10), 0);
    tt_engine_stop(c);
    assert_int_equal(tt_engine_feed(c, v + 10, 10), 1);
    assert_int_equal(tt_engine_events(c) < 25, 1);
    assert_int_equal(tt_engine_end(c, &err), TT_OK);
    tt_engine_free(c);
    tt_engine_free(a);
    tt_instruments_free(ins);
    free(v);
}

/* ---- the quiet path ---- */

/* Counts quotes one by one (on_event) or in runs (market_take); at every
 * timer it emits the count so far and sets the next timer 7 ns on; it is
 * quiet until a horizon every 40 ns (a bar's close, say). */
typedef struct counter {
    uint64_t quotes, taken_runs;
    int quiet;
} counter;

static void counter_event(void *self, tt_engine *e, const tt_event *ev)
{
    counter *c = self;
    if (ev->kind == TT_EV_QUOTE) {
        c->quotes++;
        return;
    }
    if (ev->kind != TT_EV_TIMER)
        return;
    tt_event s;
    memset(&s, 0, sizeof s);
    s.kind = TT_EV_SIGNAL;
    s.u.signal.strength = (double)c->quotes;
    tt_engine_emit(e, &s);
    if (ev->ts < 5000)
        tt_engine_timer_set(e, ev->ts + 7, 0);
}

static int counter_quiet(void *self, const tt_market_view *v, int n)
{
    (void)self;
    return tt_market_view_until(v, n, (v->ts[0] / 40 + 1) * 40);
}

static void counter_take(void *self, const tt_market_view *v, int n)
{
    counter *c = self;
    (void)v;
    c->quotes += (uint64_t)n;
    c->taken_runs++;
}

static int full_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    (void)err;
    arr_src *s = self;
    int n = 0;
    while (n < cap && s->i < s->n)
        buf[n++] = s->v[s->i++];
    *count = n;
    return n ? TT_SRC_EVENT : TT_SRC_END;
}

static int counter_start(void *self, tt_engine *e, tt_err *err)
{
    (void)self;
    (void)err;
    tt_engine_timer_set(e, 3, 0);
    return TT_OK;
}

/* The same events with and without the quiet path: the same outputs (the
 * count at every timer: quotes taken in runs never pass a timer), and runs
 * taken only of one symbol's quotes. */
static void test_quiet_path(void **state)
{
    (void)state;
    enum { N = 3000 };
    tt_event *v = calloc(N, sizeof *v);
    for (int i = 0; i < N; i++) {
        v[i] = ev_at(i + 1 + (i / 100) * 3, TT_EV_QUOTE, 1, (uint64_t)i + 1);
        v[i].symbol = i >= 2000 && i % 2 ? 2 : 1; /* the last third: two symbols interleaved */
        v[i].u.quote.bid = 100 + i % 7;
        v[i].u.quote.ask = 103 + i % 7;
    }
    tt_instruments *ins = tt_instruments_new();
    tt_fingerprint fp[2];
    counter cs[2];
    for (int quiet = 0; quiet < 2; quiet++) {
        counter *c = &cs[quiet];
        memset(c, 0, sizeof *c);
        tt_engine *e = tt_engine_new(ins);
        tt_component comp = {c, "counter", counter_start, counter_event, NULL, 0,
                             quiet ? counter_quiet : NULL, quiet ? counter_take : NULL};
        assert_int_equal(tt_engine_add_component(e, comp), TT_OK);
        arr_src src = {v, N, 0};
        tt_engine_set_source(e, (tt_source){&src, arr_next, NULL, full_batch});
        tt_err err;
        assert_int_equal(tt_engine_run(e, &err), TT_OK);
        fp[quiet] = tt_engine_fingerprint(e);
        assert_int_equal(c->quotes, N);
        assert_int_equal(tt_engine_events(e) >= N, 1);
        tt_engine_free(e);
    }
    assert_true(fp[0].hi == fp[1].hi && fp[0].lo == fp[1].lo);
    assert_int_equal(cs[0].taken_runs, 0);
    assert_true(cs[1].taken_runs > 20); /* the quiet path ran, in the one-symbol part */
    /* a view: one symbol's quotes, bid and ask > 0, in time order */
    tt_market_view mv;
    tt_ts ts[64];
    tt_price b[64], a[64];
    float bv[64], av[64];
    assert_int_equal(tt_market_view_build(v, 64, &mv, ts, b, a, bv, av), 1);
    assert_true(mv.symbol == 1 && ts[63] == v[63].ts && b[5] == v[5].u.quote.bid);
    assert_int_equal(tt_market_view_until(&mv, 64, v[10].ts), 10);
    assert_int_equal(tt_market_view_build(v + 1990, 20, &mv, ts, b, a, bv, av), 0);
    v[3].u.quote.ask = 0;
    assert_int_equal(tt_market_view_build(v, 10, &mv, ts, b, a, bv, av), 0);
    tt_instruments_free(ins);
    free(v);
}

static void test_err_prefix(void **state)
{
    (void)state;
    tt_err err;
    tt_err_set(&err, TT_ENOTFOUND, "no such symbol");
    tt_err_prefix(&err, "line %d: ", 3);
    assert_int_equal(err.code, TT_ENOTFOUND);
    assert_string_equal(err.msg, "line 3: no such symbol");
    tt_err_prefix(NULL, "ignored: ");
    assert_int_equal(tt_err_set(NULL, TT_EIO, "x"), TT_EIO);
    assert_string_equal(tt_status_name(TT_ESTATE), "ESTATE");
    assert_string_equal(tt_status_name(42), "E?");
}

static void test_instruments_and_prices(void **state)
{
    (void)state;
    tt_instruments *t = tt_instruments_new();
    const tt_instrument *eu = tt_instruments_find(t, "EURUSD");
    assert_non_null(eu);
    assert_int_equal(eu->points, 100000);
    assert_ptr_equal(tt_instruments_find(t, "C:EUR-USD"), eu);
    assert_ptr_equal(tt_instruments_find(t, "eur/usd"), eu);
    assert_int_equal(tt_instruments_find(t, "USDJPY")->points, 1000);
    assert_int_equal(tt_instruments_find(t, "XAUUSD")->points, 1000);
    assert_int_equal(tt_instruments_find(t, "BTCUSD")->points, 10);
    assert_non_null(tt_instruments_find(t, "XAGUSD"));
    char buf[64];
    tt_price_format(eu, 114427, buf, sizeof buf);
    assert_string_equal(buf, "1.14427");
    tt_price_format(eu, 5, buf, sizeof buf);
    assert_string_equal(buf, "0.00005");
    tt_price p;
    tt_err err;
    assert_int_equal(tt_price_parse(eu, "1.14427", &p, &err), TT_OK);
    assert_int_equal(p, 114427);
    assert_int_equal(tt_price_parse(eu, "1.1", &p, &err), TT_OK);
    assert_int_equal(p, 110000);
    assert_int_equal(tt_price_parse(eu, "1.144271", &p, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "finer than one point"));
    /* beyond int64 points: refused, not wrapped */
    assert_int_equal(tt_price_parse(eu, "99999999999999999999", &p, &err), TT_EFORMAT);
    assert_int_equal(tt_price_parse(eu, "92233720368547.75808", &p, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "too large"));
    assert_int_equal(tt_price_parse(eu, "92233720368547.75807", &p, &err), TT_OK);
    assert_int_equal(p, INT64_MAX);
    const tt_instrument *x;
    assert_int_equal(tt_instruments_require(t, "FOOBAR", &x, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "declare it"));
    /* a file adds instruments and reports bad lines by file:line */
    char path[] = "/tmp/tt_ins_XXXXXX";
    int fd = mkstemp(path);
    const char *text = "# comment\nFOOBAR 1000 3 10 1000 FOO BAR swap_long=-1.5\nBAD 10\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(tt_instruments_load(t, path, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, ":3:"));
    const tt_instrument *fb = tt_instruments_find(t, "FOOBAR");
    assert_non_null(fb);
    assert_int_equal(fb->points, 1000);
    assert_true(fb->swap_long == -1.5);
    unlink(path);
    /* a read error is not the end of the file: a directory opens but cannot be read */
    char dir[] = "/tmp/tt_ins_dir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(tt_instruments_load(t, dir, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "cannot read"));
    assert_non_null(strstr(err.msg, dir));
    rmdir(dir);
    /* time parsing */
    tt_ts ts;
    assert_int_equal(tt_ts_parse("2019-02-04T10:00:00.123Z", &ts), TT_OK);
    assert_int_equal(ts, 1549274400123000000ll);
    assert_int_equal(tt_ts_parse("1549274400123ms", &ts), TT_OK);
    assert_int_equal(ts, 1549274400123000000ll);
    assert_int_equal(tt_ts_parse("2019-13-04", &ts), TT_EINVAL);
    /* outside int64 nanoseconds: refused, not wrapped */
    assert_int_equal(tt_ts_parse("2262-05-01", &ts), TT_EINVAL);
    assert_int_equal(tt_ts_parse("9999999999999s", &ts), TT_EINVAL);
    assert_int_equal(tt_ts_parse("99999999999999999999ms", &ts), TT_EINVAL);
    assert_int_equal(tt_ts_parse("2261-12-31T23:59:59Z", &ts), TT_OK);
    assert_true(ts > 0);
    tt_ts_format(1549274400123000000ll, buf, sizeof buf, 0);
    assert_string_equal(buf, "2019-02-04T10:00:00.123Z");
    tt_instruments_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_total_order),
        cmocka_unit_test(test_engine_merges_timers),
        cmocka_unit_test(test_timer_cancel_and_schedule_past),
        cmocka_unit_test(test_fingerprint_and_two_engines),
        cmocka_unit_test(test_batch_source_status_without_count),
        cmocka_unit_test(test_venue_hooks_come_first),
        cmocka_unit_test(test_fail_stops_the_run),
        cmocka_unit_test(test_broken_sources),
        cmocka_unit_test(test_timer_cancel_unknown),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_engine_stepping),
        cmocka_unit_test(test_feed_equals_run),
        cmocka_unit_test(test_quiet_path),
        cmocka_unit_test(test_err_prefix),
        cmocka_unit_test(test_instruments_and_prices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
