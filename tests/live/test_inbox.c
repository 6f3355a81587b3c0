/*
 * The inbox: arrival stamps, the drop policy, backpressure (no loss while the
 * engine takes events, the drop policy when it stalls, stop releases a held
 * producer), never-dropped controls, the
 * stop sequence, the journal tap, many producers at once, and the property the
 * whole live design rests on: an engine fed live through the inbox (its
 * timers and delayed venue responses released by the watermark clock while
 * inputs arrive at random moments) produces exactly the outputs of a replay of
 * the journal the inbox wrote.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live/inbox.h"

static tt_wallclock clk;
static int64_t g_spin; /* spin_ns of the inboxes mk() makes */

static tt_event quote(tt_price bid)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_QUOTE;
    ev.symbol = 1;
    ev.u.quote.bid = bid;
    ev.u.quote.ask = bid + 3;
    return ev;
}

static int64_t g_backpressure = -1; /* backpressure_ns of mk()'s inboxes: the drop policy */

static tt_inbox *mk(uint32_t cap, uint32_t reserve, tt_sink tap)
{
    tt_inbox_opts o;
    memset(&o, 0, sizeof o);
    o.capacity = cap;
    o.reserve = reserve;
    o.clock = &clk;
    o.tap = tap;
    o.idle_wait_ns = 100000;
    o.spin_ns = g_spin;
    o.backpressure_ns = g_backpressure;
    tt_inbox *q;
    tt_err err;
    assert_int_equal(tt_inbox_new(&q, &o, &err), TT_OK);
    return q;
}

static void test_stamps_and_watermark(void **state)
{
    (void)state;
    tt_sink none = {0};
    tt_inbox *q = mk(64, 4, none);
    tt_source src = tt_inbox_source(q);
    tt_clock c = tt_inbox_clock(q);
    tt_event ev, a = quote(100);
    a.ts_init = 12345; /* the exchange's own time is kept */
    tt_inbox_push(q, &a, NULL, 0);
    tt_event b = quote(101);
    tt_inbox_push(q, &b, NULL, 0);
    tt_err err;
    assert_int_equal(src.next(q, &ev, &err), TT_SRC_EVENT);
    assert_int_equal(ev.ts_init, 12345);
    tt_ts t1 = ev.ts;
    assert_true(t1 > 1500000000LL * TT_NS_PER_SEC); /* a UTC wall time */
    assert_int_equal(src.next(q, &ev, &err), TT_SRC_EVENT);
    assert_true(ev.ts > t1);
    assert_int_equal(ev.ts_init, ev.ts); /* no exchange time: the stamp */
    assert_int_equal(ev.seq, 2);
    assert_int_equal(src.next(q, &ev, &err), TT_SRC_IDLE);
    tt_ts w = c.now(c.self);
    assert_true(w >= ev.ts);
    tt_inbox_push(q, &b, NULL, 0);
    assert_int_equal(src.next(q, &ev, &err), TT_SRC_EVENT);
    assert_true(ev.ts > w); /* every arrival after an idle answer comes after its watermark */
    tt_inbox_free(q);
}

static void test_drop_oldest_market(void **state)
{
    (void)state;
    tt_sink none = {0};
    tt_inbox *q = mk(8, 2, none); /* market data may use 6 slots */
    for (int i = 1; i <= 10; i++) {
        tt_event e = quote(i);
        tt_inbox_push(q, &e, NULL, 0);
    }
    tt_inbox_push_control(q, TT_CTL_GAP_BEGIN, 1);
    tt_inbox_push_control(q, TT_CTL_GAP_END, 1);
    tt_inbox_stats st;
    tt_inbox_stats_get(q, &st);
    assert_int_equal(st.dropped, 4);
    assert_int_equal(st.pushed, 12);
    assert_int_equal(st.gaps, 1);
    /* Full (8): one more control evicts the oldest quote, never a control. */
    tt_inbox_push_control(q, TT_CTL_GAP_BEGIN, 2);
    tt_inbox_stats_get(q, &st);
    assert_int_equal(st.dropped, 5);
    tt_source src = tt_inbox_source(q);
    tt_event ev;
    tt_err err;
    for (int i = 6; i <= 10; i++) { /* the newest prices survive, in order */
        assert_int_equal(src.next(q, &ev, &err), TT_SRC_EVENT);
        assert_int_equal(ev.kind, TT_EV_QUOTE);
        assert_int_equal(ev.u.quote.bid, i);
    }
    uint32_t ops[3] = {TT_CTL_GAP_BEGIN, TT_CTL_GAP_END, TT_CTL_GAP_BEGIN};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(src.next(q, &ev, &err), TT_SRC_EVENT);
        assert_int_equal(ev.kind, TT_EV_CONTROL);
        assert_int_equal(ev.cls, TT_CLS_CONTROL);
        assert_int_equal(ev.u.control.op, ops[i]);
    }
    tt_inbox_free(q);
}

/* The byte budget: payloads beyond it push out the oldest market data (the
 * count stays under the budget), a payload over the limit is refused whole,
 * never cut; a Kafka-style push without drops waits instead. */
static void test_byte_budget(void **state)
{
    (void)state;
    tt_inbox_opts o;
    memset(&o, 0, sizeof o);
    o.capacity = 1024;
    o.bytes_max = 3 * 1000;
    o.clock = &clk;
    o.idle_wait_ns = 100000;
    tt_inbox *q;
    tt_err err;
    assert_int_equal(tt_inbox_new(&q, &o, &err), TT_OK);
    static uint8_t pay[TT_INBOX_MAX_PAYLOAD + 1];
    tt_event x;
    memset(&x, 0, sizeof x);
    x.kind = TT_EV_EXTERNAL;
    for (int i = 0; i < 10; i++) {
        x.u.blob.value = i;
        assert_int_equal(tt_inbox_push(q, &x, pay, 1000), 1);
        tt_inbox_stats st;
        tt_inbox_stats_get(q, &st);
        assert_true(st.bytes <= 3000);
    }
    tt_inbox_stats st;
    tt_inbox_stats_get(q, &st);
    assert_int_equal(st.dropped, 7);
    assert_int_equal(st.max_bytes, 3000);
    /* over the limit, or over the whole budget: refused, nothing queued */
    assert_int_equal(tt_inbox_push(q, &x, pay, 3001), TT_EINVAL);
    assert_int_equal(tt_inbox_push(q, &x, pay, TT_INBOX_MAX_PAYLOAD + 1), TT_EINVAL);
    tt_inbox_stats_get(q, &st);
    assert_int_equal(st.dropped, 7);
    tt_source src = tt_inbox_source(q);
    tt_event ev;
    for (int i = 7; i < 10; i++) { /* the newest survive, whole */
        assert_int_equal(src.next(q, &ev, &err), TT_SRC_EVENT);
        assert_int_equal(ev.u.blob.value, i);
        assert_int_equal(ev.u.blob.len, 1000);
    }
    tt_inbox_free(q);
}

typedef struct tap_log {
    tt_event ev[64];
    int n;
    int fail_at;
} tap_log;

static int tap_write(void *self, const tt_event *ev, tt_err *err)
{
    tap_log *t = self;
    if (t->n == t->fail_at)
        return tt_err_set(err, TT_EIO, "disk full");
    t->ev[t->n++] = *ev;
    return TT_OK;
}

static void test_stop_and_tap(void **state)
{
    (void)state;
    tap_log log = {.n = 0, .fail_at = -1};
    tt_sink tap = {.self = &log, .write = tap_write};
    tt_inbox *q = mk(64, 4, tap);
    tt_source src = tt_inbox_source(q);
    for (int i = 1; i <= 3; i++) {
        tt_event e = quote(i);
        tt_inbox_push(q, &e, NULL, 0);
    }
    static const char payload[] = "{\"value\": 2.5}";
    tt_event x;
    memset(&x, 0, sizeof x);
    x.kind = TT_EV_EXTERNAL;
    tt_inbox_push(q, &x, payload, sizeof payload);
    tt_inbox_stop(q);
    tt_event e = quote(9);
    assert_int_equal(tt_inbox_push(q, &e, NULL, 0), 1); /* not yet noticed by the engine side */
    tt_event ev;
    tt_err err;
    tt_ts last = 0;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(src.next(q, &ev, &err), TT_SRC_EVENT);
        assert_true(ev.ts > last);
        last = ev.ts;
        assert_memory_equal(&log.ev[log.n - 1], &ev, sizeof ev); /* journaled first */
        if (ev.kind == TT_EV_EXTERNAL)
            assert_memory_equal(ev.u.blob.data, payload, sizeof payload);
    }
    assert_int_equal(tt_inbox_push(q, &e, NULL, 0), 0); /* refused after stop */
    assert_int_equal(src.next(q, &ev, &err), TT_SRC_EVENT);
    assert_int_equal(ev.kind, TT_EV_CONTROL);
    assert_int_equal(ev.u.control.op, TT_CTL_STOP);
    assert_true(ev.ts > last);
    assert_int_equal(log.n, 6);
    assert_int_equal(src.next(q, &ev, &err), TT_SRC_END);
    assert_int_equal(src.next(q, &ev, &err), TT_SRC_END);
    tt_inbox_stats st;
    tt_inbox_stats_get(q, &st);
    assert_int_equal(st.delivered, 6);
    assert_int_equal(st.after_stop, 1);
    tt_inbox_free(q);

    /* A failing journal write ends the run with the journal's error. */
    tap_log bad = {.n = 0, .fail_at = 1};
    tt_sink tap2 = {.self = &bad, .write = tap_write};
    q = mk(64, 4, tap2);
    src = tt_inbox_source(q);
    tt_inbox_push(q, &e, NULL, 0);
    tt_inbox_push(q, &e, NULL, 0);
    assert_int_equal(src.next(q, &ev, &err), TT_SRC_EVENT);
    assert_int_equal(src.next(q, &ev, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "journal: disk full"));
    tt_inbox_free(q);
}

static void test_batches(void **state)
{
    (void)state;
    tap_log log = {.n = 0, .fail_at = -1};
    tt_sink tap = {.self = &log, .write = tap_write};
    tt_inbox *q = mk(64, 4, tap);
    tt_source src = tt_inbox_source(q);
    for (int i = 1; i <= 10; i++) {
        tt_event e = quote(i);
        tt_inbox_push(q, &e, NULL, 0);
    }
    tt_event x;
    memset(&x, 0, sizeof x);
    x.kind = TT_EV_EXTERNAL;
    tt_inbox_push(q, &x, "abc", 3);
    for (int i = 11; i <= 13; i++) {
        tt_event e = quote(i);
        tt_inbox_push(q, &e, NULL, 0);
    }
    tt_event buf[64];
    int n;
    tt_err err;
    /* A batch ends after an event with a payload, which stays valid until the next call. */
    assert_int_equal(src.next_batch(q, buf, 64, &n, &err), TT_SRC_EVENT);
    assert_int_equal(n, 11);
    assert_int_equal(buf[9].u.quote.bid, 10);
    assert_int_equal(buf[10].kind, TT_EV_EXTERNAL);
    assert_memory_equal(buf[10].u.blob.data, "abc", 3);
    assert_int_equal(log.n, 11); /* all journaled before the engine sees any */
    assert_int_equal(src.next_batch(q, buf, 2, &n, &err), TT_SRC_EVENT);
    assert_int_equal(n, 2);
    assert_int_equal(buf[1].u.quote.bid, 12);
    assert_int_equal(src.next_batch(q, buf, 64, &n, &err), TT_SRC_EVENT);
    assert_int_equal(n, 1);
    assert_int_equal(src.next_batch(q, buf, 64, &n, &err), TT_SRC_IDLE);
    assert_int_equal(n, 0);
    tt_inbox_stop(q);
    assert_int_equal(src.next_batch(q, buf, 64, &n, &err), TT_SRC_EVENT);
    assert_int_equal(n, 1);
    assert_int_equal(buf[0].u.control.op, TT_CTL_STOP);
    assert_int_equal(src.next_batch(q, buf, 64, &n, &err), TT_SRC_END);
    tt_inbox_free(q);
}

typedef struct producer {
    tt_inbox *q;
    int id, n;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int i = 0; i < p->n; i++) {
        tt_event e = quote(p->id * 1000000 + i);
        tt_inbox_push(p->q, &e, NULL, 0);
    }
    return NULL;
}

static void test_many_producers(void **state)
{
    (void)state;
    tt_sink none = {0};
    tt_inbox *q = mk(1024, 16, none);
    tt_source src = tt_inbox_source(q);
    producer p[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (producer){q, i + 1, 100000};
        pthread_create(&th[i], NULL, produce, &p[i]);
    }
    uint64_t got = 0;
    tt_ts last = 0;
    uint64_t lastseq = 0;
    int last_of[5] = {-1, -1, -1, -1, -1};
    int done = 0;
    tt_event ev;
    tt_err err;
    while (!done) {
        int s = src.next(q, &ev, &err);
        if (s == TT_SRC_EVENT) {
            got++;
            assert_true(ev.ts > last);
            assert_true(ev.seq > lastseq);
            last = ev.ts;
            lastseq = ev.seq;
            int who = (int)(ev.u.quote.bid / 1000000), i = (int)(ev.u.quote.bid % 1000000);
            assert_true(i > last_of[who]); /* each producer's order is kept */
            last_of[who] = i;
        } else if (s == TT_SRC_IDLE) {
            tt_inbox_stats st;
            tt_inbox_stats_get(q, &st);
            if (st.pushed == 400000 && st.delivered + st.dropped == st.pushed)
                done = 1;
        }
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    tt_inbox_stats st;
    tt_inbox_stats_get(q, &st);
    assert_int_equal(got, st.delivered);
    assert_int_equal(st.delivered + st.dropped, 400000);
    assert_true(st.max_depth <= 1024);
    tt_inbox_free(q);
}

/* ---- replay parity through the engine ---- */

/* A component that behaves like a venue and a strategy with timers: each
 * quote schedules a response 300 us later, every third quote sets a 700 us
 * timer, and each response and timer emits an output stamped with the engine
 * time. Any difference in interleaving changes the fingerprint. */
typedef struct toy {
    uint64_t quotes;
} toy;

static void toy_on_event(void *self, tt_engine *e, const tt_event *ev)
{
    toy *t = self;
    tt_event out;
    memset(&out, 0, sizeof out);
    if (ev->kind == TT_EV_QUOTE) {
        t->quotes++;
        tt_event r;
        memset(&r, 0, sizeof r);
        r.kind = TT_EV_ORDER_EVENT;
        r.ts = ev->ts + 300 * TT_NS_PER_US;
        r.symbol = ev->symbol;
        r.u.order_ev.client_id = t->quotes;
        r.u.order_ev.status = TT_OS_FILLED;
        r.u.order_ev.fill_price = ev->u.quote.ask;
        tt_engine_schedule(e, &r, NULL);
        if (t->quotes % 3 == 0)
            tt_engine_timer_set(e, ev->ts + 700 * TT_NS_PER_US, t->quotes);
        out.kind = TT_EV_SIGNAL;
        out.u.signal.direction = 1;
        out.u.signal.target_price = ev->u.quote.bid;
    } else if (ev->kind == TT_EV_ORDER_EVENT) {
        out.kind = TT_EV_ORDER_EVENT;
        out.u.order_ev = ev->u.order_ev;
    } else if (ev->kind == TT_EV_TIMER) {
        out.kind = TT_EV_RISK;
        out.u.risk.client_id = ev->u.timer.user;
    } else {
        out.kind = TT_EV_EQUITY;
        out.u.equity.balance = (tt_money)ev->u.control.op;
    }
    tt_engine_emit(e, &out);
}

typedef struct recorded {
    tt_event *ev;
    size_t n, cap;
} recorded;

static int rec_write(void *self, const tt_event *ev, tt_err *err)
{
    (void)err;
    recorded *r = self;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
    }
    r->ev[r->n++] = *ev;
    return TT_OK;
}

static int replay_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    recorded *r = self;
    if (r->cap >= r->n) /* cap reused as the read position */
        return TT_SRC_END;
    *ev = r->ev[r->cap++];
    return TT_SRC_EVENT;
}

typedef struct feeder {
    tt_inbox *q;
    int n;
    uint64_t seed;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    uint64_t x = f->seed;
    for (int i = 0; i < f->n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int gap_us = (int)((x >> 33) % 1200); /* 0..1.2 ms: around the latencies */
        if (gap_us > 100) {
            struct timespec ts = {0, gap_us * 1000L};
            nanosleep(&ts, NULL);
        }
        tt_event e = quote(110000 + i);
        tt_inbox_push(f->q, &e, NULL, 0);
        if (i == f->n / 2)
            tt_inbox_push_control(f->q, TT_CTL_GAP_BEGIN, 1);
    }
    struct timespec ts = {0, 3000000L}; /* let the last timers come due live */
    nanosleep(&ts, NULL);
    tt_inbox_stop(f->q);
    return NULL;
}

static void test_replay_parity(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    for (int round = 0; round < 3; round++) {
        recorded journal = {0}, live_out = {0}, replay_out = {0};
        tt_sink tap = {.self = &journal, .write = rec_write};
        g_spin = round == 2 ? 30000 : 0; /* the last round polls before sleeping */
        tt_inbox *q = mk(4096, 16, tap);
        g_spin = 0;
        tt_engine *e = tt_engine_new(ins);
        toy t1 = {0};
        tt_component c1 = {.self = &t1, .name = "toy", .on_event = toy_on_event};
        tt_engine_add_component(e, c1);
        tt_engine_add_sink(e, (tt_sink){.self = &live_out, .write = rec_write});
        tt_engine_set_source(e, tt_inbox_source(q));
        tt_engine_set_clock(e, tt_inbox_clock(q));
        tt_inbox_watch(q, e);
        feeder f = {q, 400, 42 + (uint64_t)round};
        pthread_t th;
        pthread_create(&th, NULL, feed, &f);
        tt_err err;
        assert_int_equal(tt_engine_run(e, &err), TT_OK);
        pthread_join(th, NULL);
        tt_fingerprint live_fp = tt_engine_fingerprint(e);
        uint64_t live_events = tt_engine_events(e);
        tt_engine_free(e);
        tt_inbox_free(q);
        assert_int_equal(journal.n, 402); /* 400 quotes, a gap mark, STOP */

        journal.cap = 0;
        e = tt_engine_new(ins);
        toy t2 = {0};
        tt_component c2 = {.self = &t2, .name = "toy", .on_event = toy_on_event};
        tt_engine_add_component(e, c2);
        tt_engine_add_sink(e, (tt_sink){.self = &replay_out, .write = rec_write});
        tt_engine_set_source(e, (tt_source){.self = &journal, .next = replay_next});
        assert_int_equal(tt_engine_run(e, &err), TT_OK);
        tt_fingerprint rp_fp = tt_engine_fingerprint(e);
        assert_int_equal(tt_engine_events(e), live_events);
        tt_engine_free(e);
        assert_int_equal(live_out.n, replay_out.n);
        for (size_t i = 0; i < live_out.n; i++)
            if (memcmp(&live_out.ev[i], &replay_out.ev[i], sizeof(tt_event)))
                fail_msg("round %d: output %zu differs (kind %d vs %d, ts %lld vs %lld)", round,
                         i, live_out.ev[i].kind, replay_out.ev[i].kind,
                         (long long)live_out.ev[i].ts, (long long)replay_out.ev[i].ts);
        assert_true(live_fp.hi == rp_fp.hi && live_fp.lo == rp_fp.lo);
        /* Every response and the due timers came out during the live run. */
        size_t fills = 0;
        for (size_t i = 0; i < live_out.n; i++)
            fills += live_out.ev[i].kind == TT_EV_ORDER_EVENT;
        assert_int_equal(fills, 400);
        free(journal.ev);
        free(live_out.ev);
        free(replay_out.ev);
    }
    tt_instruments_free(ins);
}

/* ---- backpressure ---- */

typedef struct slow_consumer {
    tt_inbox *q;
    int want;
    int got;
    tt_price last;
    int in_order;
} slow_consumer;

/* Takes an event every 200 us until it has `want`. */
static void *consume_slowly(void *arg)
{
    slow_consumer *c = arg;
    tt_source src = tt_inbox_source(c->q);
    tt_err err;
    c->in_order = 1;
    while (c->got < c->want) {
        tt_event ev;
        if (src.next(c->q, &ev, &err) != TT_SRC_EVENT)
            continue;
        c->in_order &= ev.u.quote.bid == c->last + 1;
        c->last = ev.u.quote.bid;
        c->got++;
        struct timespec ts = {0, 200000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* A full queue holds the producer back while the engine takes events: 500
 * quotes through 6 slots, none dropped, all in order. */
static void test_backpressure_no_loss(void **state)
{
    (void)state;
    tt_sink none = {0};
    g_backpressure = 0; /* the default: 250 ms without progress */
    tt_inbox *q = mk(8, 2, none);
    g_backpressure = -1;
    slow_consumer c = {q, 500, 0, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, consume_slowly, &c);
    for (int i = 1; i <= 500; i++) {
        tt_event e = quote(i);
        assert_int_equal(tt_inbox_push(q, &e, NULL, 0), 1);
    }
    pthread_join(th, NULL);
    tt_inbox_stats st;
    tt_inbox_stats_get(q, &st);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(c.got, 500);
    assert_true(c.in_order);
    assert_true(st.max_depth <= 6);
    tt_inbox_free(q);
}

/* An engine that takes nothing: after backpressure_ns the drop policy applies
 * (each overflowing push waits that long once, then drops the oldest). */
static void test_backpressure_stalled(void **state)
{
    (void)state;
    tt_sink none = {0};
    g_backpressure = 20 * TT_NS_PER_MS;
    tt_inbox *q = mk(8, 2, none);
    g_backpressure = -1;
    int64_t t0 = tt_mono_ns();
    for (int i = 1; i <= 10; i++) {
        tt_event e = quote(i);
        tt_inbox_push(q, &e, NULL, 0);
    }
    int64_t took = tt_mono_ns() - t0;
    tt_inbox_stats st;
    tt_inbox_stats_get(q, &st);
    assert_int_equal(st.dropped, 4);
    assert_true(took >= 4 * 20 * TT_NS_PER_MS);
    assert_true(took < 2 * TT_NS_PER_SEC);
    tt_inbox_free(q);
}

typedef struct blocked {
    tt_inbox *q;
    int rc;
    int64_t took;
} blocked;

static void *push_one(void *arg)
{
    blocked *b = arg;
    tt_event e = quote(99);
    int64_t t0 = tt_mono_ns();
    b->rc = tt_inbox_push(b->q, &e, NULL, 0);
    b->took = tt_mono_ns() - t0;
    return NULL;
}

/* Stopping releases a producer held back on a full queue at once. */
static void test_backpressure_stop(void **state)
{
    (void)state;
    tt_sink none = {0};
    g_backpressure = 10 * TT_NS_PER_SEC;
    tt_inbox *q = mk(8, 2, none);
    g_backpressure = -1;
    for (int i = 1; i <= 6; i++) {
        tt_event e = quote(i);
        assert_int_equal(tt_inbox_push(q, &e, NULL, 0), 1);
    }
    blocked b = {q, -9, 0};
    pthread_t th;
    pthread_create(&th, NULL, push_one, &b);
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    tt_inbox_stop(q);
    pthread_join(th, NULL);
    assert_true(b.took < 2 * TT_NS_PER_SEC);
    assert_true(b.rc == 0 || b.rc == 1); /* refused after stop, or queued before it */
    tt_inbox_free(q);
}

int main(void)
{
    tt_wallclock_init(&clk);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamps_and_watermark),
        cmocka_unit_test(test_drop_oldest_market),
        cmocka_unit_test(test_byte_budget),
        cmocka_unit_test(test_stop_and_tap),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_many_producers),
        cmocka_unit_test(test_replay_parity),
        cmocka_unit_test(test_backpressure_no_loss),
        cmocka_unit_test(test_backpressure_stalled),
        cmocka_unit_test(test_backpressure_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
