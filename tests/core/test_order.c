/*
 * The order manager: ids, validation, the lifecycle table, venue events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/order.h"

static tt_order_cmd market(int side, int64_t qty)
{
    tt_order_cmd c;
    memset(&c, 0, sizeof c);
    c.side = (int8_t)side;
    c.qty = qty;
    c.type = TT_ORD_MARKET;
    c.tif = TT_TIF_GTC;
    return c;
}

static tt_event venue_ev(uint64_t id, int status, int reason, int64_t fill_qty, tt_price px)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_ORDER_EVENT;
    ev.ts = 50;
    ev.u.order_ev.client_id = id;
    ev.u.order_ev.status = (uint8_t)status;
    ev.u.order_ev.reason = (uint16_t)reason;
    ev.u.order_ev.fill_qty = fill_qty;
    ev.u.order_ev.fill_price = px;
    return ev;
}

static void test_ids_and_full_lifecycle(void **state)
{
    (void)state;
    tt_orders *o = tt_orders_new();
    tt_event ev;
    tt_err err;
    tt_order_cmd c = market(TT_BUY, 100);
    assert_int_equal(tt_orders_create(o, 1, &c, 10, &ev, &err), 0);
    assert_int_equal(c.client_id, 1);
    assert_int_equal(ev.u.order_ev.status, TT_OS_PENDING);
    assert_int_equal(ev.u.order_ev.reason, TT_REASON_NEW);
    assert_int_equal(ev.u.order_ev.leaves_qty, 100);
    assert_int_equal(ev.symbol, 1);
    assert_int_equal(ev.ts, 10);
    tt_order_cmd c2 = market(TT_SELL, 5);
    assert_int_equal(tt_orders_create(o, 1, &c2, 11, &ev, &err), 0);
    assert_int_equal(c2.client_id, 2);
    assert_int_equal(tt_orders_transition(o, 1, TT_OS_SUBMITTED, TT_REASON_RISK_OK, 12, &ev, &err), 0);
    tt_event v = venue_ev(1, TT_OS_ACCEPTED, TT_REASON_ACCEPTED, 0, 0);
    assert_int_equal(tt_orders_apply(o, &v, &err), 1);
    v = venue_ev(1, TT_OS_PARTIALLY_FILLED, TT_REASON_FILL, 30, 114430);
    assert_int_equal(tt_orders_apply(o, &v, &err), 1);
    const tt_order *x = tt_orders_get(o, 1);
    assert_non_null(x);
    assert_int_equal(x->status, TT_OS_PARTIALLY_FILLED);
    assert_int_equal(x->filled_qty, 30);
    v = venue_ev(1, TT_OS_MODIFIED, TT_REASON_MODIFIED, 0, 0);
    assert_int_equal(tt_orders_apply(o, &v, &err), 1);
    assert_int_equal(tt_orders_get(o, 1)->status, TT_OS_PARTIALLY_FILLED); /* still working */
    assert_int_equal(tt_orders_get(o, 1)->reason, TT_REASON_MODIFIED);
    v = venue_ev(1, TT_OS_FILLED, TT_REASON_FILL, 70, 114440);
    assert_int_equal(tt_orders_apply(o, &v, &err), 1);
    assert_null(tt_orders_get(o, 1)); /* terminal: forgotten */
    /* a fill after the order is done is refused, naming the order */
    assert_int_equal(tt_orders_apply(o, &v, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "order 1"));
    /* venue deals (client 0) are not order transitions */
    v = venue_ev(0, TT_OS_FILLED, TT_REASON_STOP_LOSS, 10, 114000);
    assert_int_equal(tt_orders_apply(o, &v, &err), 0);
    assert_int_equal(tt_orders_count(o), 1);
    assert_int_equal(tt_orders_at(o, 0)->cmd.client_id, 2);
    tt_orders_free(o);
}

static void test_forbidden_transitions(void **state)
{
    (void)state;
    tt_orders *o = tt_orders_new();
    tt_event ev;
    tt_err err;
    tt_order_cmd c = market(TT_BUY, 1);
    assert_int_equal(tt_orders_create(o, 1, &c, 0, &ev, &err), 0);
    /* pending cannot be filled: it has not been sent */
    tt_event v = venue_ev(1, TT_OS_FILLED, TT_REASON_FILL, 1, 100);
    assert_int_equal(tt_orders_apply(o, &v, &err), TT_ESTATE);
    assert_non_null(strstr(err.msg, "pending"));
    assert_int_equal(tt_orders_get(o, 1)->status, TT_OS_PENDING);
    assert_int_equal(tt_orders_transition(o, 1, TT_OS_ACCEPTED, 0, 0, &ev, &err), TT_ESTATE);
    assert_int_equal(tt_orders_transition(o, 7, TT_OS_SUBMITTED, 0, 0, &ev, &err), TT_ENOTFOUND);
    /* the table */
    assert_true(tt_order_transition_ok(TT_OS_PENDING, TT_OS_REJECTED));
    assert_true(tt_order_transition_ok(TT_OS_SUBMITTED, TT_OS_FILLED)); /* IOC straight fill */
    assert_true(tt_order_transition_ok(TT_OS_ACCEPTED, TT_OS_EXPIRED));
    assert_false(tt_order_transition_ok(TT_OS_FILLED, TT_OS_CANCELLED));
    assert_false(tt_order_transition_ok(TT_OS_CANCELLED, TT_OS_FILLED));
    assert_false(tt_order_transition_ok(TT_OS_ACCEPTED, TT_OS_SUBMITTED));
    assert_false(tt_order_transition_ok(TT_OS_PARTIALLY_FILLED, TT_OS_REJECTED));
    assert_true(tt_order_status_terminal(TT_OS_EXPIRED));
    assert_false(tt_order_status_terminal(TT_OS_PARTIALLY_FILLED));
    assert_string_equal(tt_order_reason_name(TT_REASON_GTD), "gtd");
    assert_string_equal(tt_order_reason_name(TT_REASON_STOP_OUT), "stop_out");
    assert_string_equal(tt_order_reason_name(999), "?");
    tt_orders_free(o);
}

static void test_invalid_commands(void **state)
{
    (void)state;
    tt_orders *o = tt_orders_new();
    tt_event ev;
    tt_err err;
    struct {
        tt_order_cmd c;
        const char *field;
    } bad[5];
    bad[0].c = market(TT_BUY, 0);
    bad[0].field = "qty";
    bad[1].c = market(0, 1);
    bad[1].field = "side";
    bad[2].c = market(TT_BUY, 1);
    bad[2].c.type = TT_ORD_LIMIT;
    bad[2].field = "price";
    bad[3].c = market(TT_BUY, 1);
    bad[3].c.type = TT_ORD_STOP_LIMIT;
    bad[3].c.price = 5;
    bad[3].field = "stop_price";
    bad[4].c = market(TT_BUY, 1);
    bad[4].c.tif = TT_TIF_GTD;
    bad[4].c.expire_ts = 100; /* not after now (100) */
    bad[4].field = "expire_ts";
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tt_orders_create(o, 1, &bad[i].c, 100, &ev, &err), TT_EINVAL);
        assert_non_null(strstr(err.msg, bad[i].field));
        /* the id is used and the order is rejected, not silently dropped */
        assert_int_equal(bad[i].c.client_id, (uint64_t)i + 1);
        assert_int_equal(ev.u.order_ev.status, TT_OS_REJECTED);
        assert_int_equal(ev.u.order_ev.reason, TT_REASON_INVALID);
    }
    assert_int_equal(tt_orders_count(o), 0);
    assert_int_equal(tt_orders_last_id(o), 5);
    tt_orders_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_and_full_lifecycle),
        cmocka_unit_test(test_forbidden_transitions),
        cmocka_unit_test(test_invalid_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
