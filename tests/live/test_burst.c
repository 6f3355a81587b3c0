/*
 * A burst of a million ticks on NATS into a consumer slower than the feed.
 *
 * Checks the stated policy under pressure: the inbox (65,536 slots) holds the
 * feed back while the engine takes events (backpressure), so it drops
 * nothing; the overflow of a burst twice the consumer's speed is nats.c's
 * (its pending limit, slow-consumer drops, counted); every message is
 * accounted for (received by nats.c = decoded = delivered, plus whatever
 * nats.c dropped); events that must never be dropped (venue responses and
 * control events, pushed by another thread during the burst) all arrive, in
 * order; and the process's peak memory stays bounded (well under what a
 * million queued ticks would take), because neither queue can grow past its
 * limit. The inbox's own drop policy (a stalled engine) is in test_inbox.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "live/inbox.h"
#include "live/nats_source.h"
#include "live/wire.h"
#include "live_helpers.h"

#define BURST 1000000

static tt_instruments *ins;
static tt_wallclock clk;

static long vm_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)))
            v = atol(line + strlen(key) + 1);
    if (f)
        fclose(f);
    return v;
}

typedef struct pub_ctx {
    const char *url;
    int done;
} pub_ctx;

static void *publisher(void *arg)
{
    pub_ctx *c = arg;
    natsConnection *nc = NULL;
    if (natsConnection_ConnectTo(&nc, c->url) != NATS_OK)
        return NULL;
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_QUOTE;
    ev.symbol = tt_instruments_find(ins, "EURUSD")->id;
    for (int i = 0; i < BURST; i++) {
        ev.ts = (1549267200000LL + i) * TT_NS_PER_MS;
        ev.u.quote.bid = 110000 + i % 1000;
        ev.u.quote.ask = ev.u.quote.bid + 2;
        uint8_t buf[128];
        size_t len = tt_wire_tick_encode(ins, &ev, buf, sizeof buf);
        while (natsConnection_Publish(nc, "ticks.EURUSD", buf, (int)len) != NATS_OK)
            tt_test_sleep_ms(1);
    }
    natsConnection_FlushTimeout(nc, 30000);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    c->done = 1;
    return NULL;
}

typedef struct venue_ctx {
    tt_inbox *q;
    int n;
} venue_ctx;

static void *venue_responses(void *arg)
{
    venue_ctx *v = arg;
    for (int i = 1; i <= v->n; i++) {
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = TT_EV_ORDER_EVENT;
        ev.u.order_ev.client_id = (uint64_t)i;
        ev.u.order_ev.status = TT_OS_FILLED;
        tt_inbox_push(v->q, &ev, NULL, 0);
        if (i % 100 == 0)
            tt_inbox_push_control(v->q, TT_CTL_GAP_END, (uint32_t)i);
        struct timespec ts = {0, 500000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void test_million_tick_burst(void **state)
{
    tt_test_nats *srv = *state;
    long rss0 = vm_kb("VmRSS:");
    tt_inbox *q;
    tt_err err;
    tt_inbox_opts io = {.capacity = 65536, .clock = &clk};
    assert_int_equal(tt_inbox_new(&q, &io, &err), TT_OK);
    tt_nats_source *s;
    tt_nats_source_opts so = {.url = srv->url, .ins = ins, .inbox = q};
    assert_int_equal(tt_nats_source_open(&s, &so, &err), TT_OK);
    pub_ctx pc = {srv->url, 0};
    venue_ctx vc = {q, 1000};
    pthread_t pt, vt;
    pthread_create(&pt, NULL, publisher, &pc);
    pthread_create(&vt, NULL, venue_responses, &vc);
    tt_source src = tt_inbox_source(q);
    uint64_t ticks = 0, fills = 0, controls = 0, next_fill = 1;
    int64_t t0 = tt_mono_ns(), quiet_since = 0;
    for (;;) {
        tt_event ev;
        int r = src.next(q, &ev, &err);
        assert_true(r >= 0);
        if (r == TT_SRC_EVENT) {
            quiet_since = 0;
            if (ev.kind == TT_EV_QUOTE) {
                ticks++;
                /* a slow engine: ~2 us of work per tick */
                int64_t until = tt_mono_ns() + 2000;
                while (tt_mono_ns() < until)
                    ;
            } else if (ev.kind == TT_EV_ORDER_EVENT) {
                assert_int_equal(ev.u.order_ev.client_id, next_fill); /* all, in order */
                next_fill++;
                fills++;
            } else {
                controls++;
            }
        } else if (r == TT_SRC_IDLE && pc.done) {
            if (!quiet_since)
                quiet_since = tt_mono_ns();
            else if (tt_mono_ns() - quiet_since > 300 * TT_NS_PER_MS)
                break;
        }
        if (tt_mono_ns() - t0 > 60 * TT_NS_PER_SEC)
            fail_msg("burst did not finish in 60 s");
    }
    pthread_join(pt, NULL);
    pthread_join(vt, NULL);
    /* the last venue responses may still be queued */
    tt_event ev;
    while (src.next(q, &ev, &err) == TT_SRC_EVENT) {
        if (ev.kind == TT_EV_ORDER_EVENT)
            fills++;
        else if (ev.kind == TT_EV_CONTROL)
            controls++;
        else
            ticks++;
    }
    long hwm = vm_kb("VmHWM:");
    tt_nats_source_stats ns;
    tt_nats_source_stats_get(s, &ns);
    tt_inbox_stats st;
    tt_inbox_stats_get(q, &st);
    print_message("burst: %d published, nats received %llu (nats dropped %llu), inbox dropped "
                  "%llu, ticks delivered %llu, max depth %llu, RSS %ld -> peak %ld kB, %.2f s\n",
                  BURST, (unsigned long long)ns.received, (unsigned long long)ns.nats_dropped,
                  (unsigned long long)st.dropped, (unsigned long long)ticks,
                  (unsigned long long)st.max_depth, rss0, hwm,
                  (double)(tt_mono_ns() - t0) / 1e9);
    assert_int_equal(ns.received + ns.nats_dropped, BURST);
    assert_int_equal(ns.ticks, ns.received);
    assert_int_equal(ticks + st.dropped, ns.ticks); /* every tick delivered or counted dropped */
    assert_int_equal(st.dropped, 0);   /* backpressure: the engine kept taking events */
    assert_true(ns.nats_dropped > 0);  /* the burst's overflow, upstream, counted */
    assert_int_equal(fills, 1000);
    assert_int_equal(controls, 10);
    assert_true(st.max_depth <= 65536);
    /* Bounded: the ring (65,536 x 112 B = 7 MiB) plus nats.c's bounded pending
     * queue; a million queued ticks would need > 100 MiB. */
    assert_true(hwm - rss0 < 96 * 1024);
    tt_nats_source_close(s);
    tt_inbox_free(q);
}

static int setup(void **state)
{
    static tt_test_nats srv;
    memset(&srv, 0, sizeof srv);
    if (tt_test_nats_start(&srv))
        return -1;
    *state = &srv;
    return 0;
}

static int teardown(void **state)
{
    tt_test_nats_stop(*state);
    return 0;
}

int main(void)
{
    ins = tt_instruments_new();
    tt_wallclock_init(&clk);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_million_tick_burst)};
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tt_instruments_free(ins);
    return rc;
}
