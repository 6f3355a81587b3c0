/*
 * A venue response the engine cannot take must not vanish: the simulated
 * venue's books would have moved while the strategy never hears of the fill.
 * The engine's queue is made to fail on the one growth that the fill's
 * response needs (this binary links with -Wl,--wrap=realloc, see
 * venue_lost.cmake): the run must stop with TT_ENOMEM and a message naming
 * the venue and the lost fill. The same run with the allocator left alone
 * delivers the fill.
 *
 * Arithmetic of the setup: the queue starts with room for 256 events. 255
 * far-off timers, then the order's arrival, fill it; the arrival is taken
 * off (255), the ACCEPTED answer goes on (256), and the fill's answer needs
 * the queue to grow to 512 events: that realloc fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/order.h"
#include "sim/venue.h"

void *__real_realloc(void *p, size_t n);
static size_t g_fail_size; /* a realloc of exactly this many bytes fails; 0 = none */
static int g_failed;

void *__wrap_realloc(void *p, size_t n)
{
    if (g_fail_size && n == g_fail_size) {
        g_failed++;
        return NULL;
    }
    return __real_realloc(p, n);
}

typedef struct drive {
    tt_event q[4];
    int nq, qi;
    uint32_t eu;
    int quotes, fills, accepted;
    size_t arm;
} drive;

static int src_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    drive *d = self;
    if (d->qi == d->nq)
        return TT_SRC_END;
    *ev = d->q[d->qi++];
    return TT_SRC_EVENT;
}

static int drv_start(void *self, tt_engine *e, tt_err *err)
{
    (void)self;
    (void)err;
    for (int i = 0; i < 255; i++)
        tt_engine_timer_set(e, (tt_ts)4000000000 * TT_NS_PER_SEC + i, 0);
    return TT_OK;
}

static void drv_event(void *self, tt_engine *e, const tt_event *ev)
{
    drive *d = self;
    if (ev->kind == TT_EV_ORDER_EVENT) {
        d->fills += ev->u.order_ev.fill_qty > 0;
        d->accepted += ev->u.order_ev.status == TT_OS_ACCEPTED;
    }
    if (ev->kind != TT_EV_QUOTE || d->quotes++)
        return;
    tt_event c;
    memset(&c, 0, sizeof c);
    c.kind = TT_EV_ORDER_CMD;
    c.symbol = d->eu;
    c.u.order_cmd.cmd = TT_CMD_SUBMIT;
    c.u.order_cmd.client_id = 1;
    c.u.order_cmd.side = TT_BUY;
    c.u.order_cmd.type = TT_ORD_MARKET;
    c.u.order_cmd.qty = 10;
    assert_int_equal(tt_engine_submit(e, &c, NULL), TT_OK);
    g_fail_size = d->arm; /* from here on: the fill's growth */
}

static int run(size_t arm, drive *d, tt_sim_venue **venue, tt_err *err)
{
    tt_instruments *ins = tt_instruments_new();
    memset(d, 0, sizeof *d);
    d->eu = tt_instruments_find(ins, "EURUSD")->id;
    d->arm = arm;
    for (int i = 0; i < 3; i++) {
        tt_event *q = &d->q[d->nq++];
        memset(q, 0, sizeof *q);
        q->ts = q->ts_init = (tt_ts)1700000000 * TT_NS_PER_SEC + i * TT_NS_PER_SEC;
        q->kind = TT_EV_QUOTE;
        q->cls = TT_CLS_MARKET;
        q->source = 1;
        q->seq = (uint64_t)i + 1;
        q->symbol = d->eu;
        q->u.quote.bid = 114000;
        q->u.quote.ask = 114010;
    }
    tt_venue_config vc;
    tt_venue_config_default(&vc);
    assert_int_equal(tt_sim_venue_new(venue, ins, &vc, err), TT_OK);
    tt_engine *e = tt_engine_new(ins);
    tt_engine_set_source(e, (tt_source){d, src_next, NULL, NULL});
    tt_engine_set_venue(e, tt_sim_venue_port(*venue));
    tt_engine_add_component(e, (tt_component){d, "driver", drv_start, drv_event, NULL, 0});
    int rc = tt_engine_run(e, err);
    g_fail_size = 0;
    tt_engine_free(e);
    tt_instruments_free(ins);
    return rc;
}

static void test_lost_fill_fails_the_run(void **state)
{
    (void)state;
    drive d;
    tt_sim_venue *v;
    tt_err err;
    g_failed = 0;
    int rc = run(512 * sizeof(tt_event), &d, &v, &err);
    assert_int_equal(g_failed, 1);
    assert_int_equal(rc, TT_ENOMEM);
    assert_non_null(strstr(err.msg, "simulated venue"));
    assert_non_null(strstr(err.msg, "fill event of order 1"));
    assert_int_equal(tt_sim_venue_fills(v), 1); /* the venue's books moved ... */
    assert_int_equal(d.fills, 0);  /* ... the strategy side never had the fill ... */
    assert_int_equal(d.accepted, 0); /* ... the run stopped after that arrival ... */
    assert_int_equal(d.quotes, 1);   /* ... and no later input was dispatched */
    tt_sim_venue_free(v);

    /* the same run with nothing failing: the fill arrives */
    rc = run(0, &d, &v, &err);
    assert_int_equal(rc, TT_OK);
    assert_int_equal(d.fills, 1);
    assert_int_equal(d.quotes, 3);
    tt_sim_venue_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_fill_fails_the_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
