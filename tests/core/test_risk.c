/*
 * The risk gate: each rule rejects with its name and its numbers; the daily
 * loss limit stops trading until the next trading day (17:00 New York);
 * the drawdown limit and the kill switch stop it for good; reducing orders
 * still pass while halted; the news blackout refuses new positions around a
 * scheduled release of the symbol's currencies.
 *
 * Account: USD 10,000.00 (1,000,000 cents). EURUSD qty 1 = 1000 EUR, so one
 * point on qty q is q cents.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/risk.h"

typedef struct fx {
    tt_instruments *ins;
    tt_portfolio *p;
    uint32_t eu;
} fx;

static void fx_init(fx *f)
{
    f->ins = tt_instruments_new();
    tt_portfolio_config c;
    memset(&c, 0, sizeof c);
    memcpy(c.currency, "USD", 4);
    c.initial_balance = 1000000;
    tt_err err;
    assert_int_equal(tt_portfolio_new(&f->p, f->ins, &c, &err), 0);
    f->eu = tt_instruments_find(f->ins, "EURUSD")->id;
    tt_portfolio_quote(f->p, f->eu, 114420, 114430);
}

static void fx_free(fx *f)
{
    tt_portfolio_free(f->p);
    tt_instruments_free(f->ins);
}

static void fx_fill(fx *f, int side, int64_t qty, tt_price px)
{
    tt_fill x;
    memset(&x, 0, sizeof x);
    x.symbol = f->eu;
    x.side = (int8_t)side;
    x.qty = qty;
    x.price = px;
    x.order_id = 1000;
    assert_int_equal(tt_portfolio_fill(f->p, &x, NULL), 0);
}

static tt_order_cmd order(int side, int64_t qty)
{
    static uint64_t id;
    tt_order_cmd c;
    memset(&c, 0, sizeof c);
    c.cmd = TT_CMD_SUBMIT;
    c.client_id = ++id;
    c.side = (int8_t)side;
    c.qty = qty;
    c.type = TT_ORD_MARKET;
    c.tif = TT_TIF_GTC;
    return c;
}

static tt_risk_gate *gate(const tt_risk_config *c)
{
    tt_risk_gate *g;
    tt_err err;
    assert_int_equal(tt_risk_gate_new(&g, c, &err), 0);
    return g;
}

static tt_ts T(int day, int h, int m, int s) { return tt_ts_from_civil(2019, 2, day, h, m, s, 0); }

static void test_order_size_position_exposure(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    tt_risk_config c = {0};
    c.max_order_qty = 50;
    c.max_position = 100;
    c.max_exposure = 1000000; /* 10,000.00 USD of notional */
    tt_risk_gate *g = gate(&c);
    tt_risk d;
    tt_order_cmd o = order(TT_BUY, 60);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 10, 0, 0), &d), 0);
    assert_int_equal(d.rule, TT_RULE_MAX_ORDER_SIZE);
    assert_true(d.value == 60 && d.limit == 50);
    assert_int_equal(d.client_id, o.client_id);
    assert_int_equal(d.approved, 0);
    /* 0.08 lot = 8,000 EUR at the mid 1.14425 = 9,154.00 USD: under 10,000 */
    o = order(TT_BUY, 8);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 10, 0, 1), &d), 1);
    assert_int_equal(d.approved, 1);
    fx_fill(&f, TT_BUY, 8, 114430);
    /* another 0.01 lot: exposure 9 x 1,144.25 = 10,298.25 USD = 1029825 cents */
    o = order(TT_BUY, 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 10, 0, 2), &d), 0);
    assert_int_equal(d.rule, TT_RULE_MAX_EXPOSURE);
    assert_true(d.value == 1029825 && d.limit == 1000000);
    tt_risk_gate_free(g);

    /* position: long 80, buying 30 would make 110 > 100; selling 30 reduces */
    c.max_exposure = 0;
    g = gate(&c);
    fx_fill(&f, TT_BUY, 72, 114430);
    assert_int_equal(tt_portfolio_net_qty(f.p, f.eu), 80);
    o = order(TT_BUY, 30);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 10, 0, 3), &d), 0);
    assert_int_equal(d.rule, TT_RULE_MAX_POSITION);
    assert_true(d.value == 110 && d.limit == 100);
    o = order(TT_SELL, 30);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 10, 0, 4), &d), 1);
    /* selling 50 of the 80 only reduces the position: passes */
    o = order(TT_SELL, 50);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 10, 0, 5), &d), 1);
    tt_risk_gate_free(g);
    fx_free(&f);
}

static void test_order_rate(void **state)
{
    (void)state;
    /* 2 per second: orders at t and t+0.1s pass, t+0.5s is the third inside
     * (t-1s, t+0.5s]: rejected; at t+1.0s the order at t has left the window
     * (t+1s-1s = t is not inside): passes. */
    fx f;
    fx_init(&f);
    tt_risk_config c = {0};
    c.max_orders_per_sec = 2;
    tt_risk_gate *g = gate(&c);
    tt_risk d;
    tt_ts t = T(4, 10, 0, 0);
    tt_order_cmd o = order(TT_BUY, 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, t, &d), 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, t + 100 * TT_NS_PER_MS, &d), 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, t + 500 * TT_NS_PER_MS, &d), 0);
    assert_int_equal(d.rule, TT_RULE_MAX_ORDER_RATE);
    assert_true(d.value == 3 && d.limit == 2);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, t + TT_NS_PER_SEC, &d), 1);
    tt_risk_gate_free(g);
    fx_free(&f);
}

static void test_daily_loss_resumes_next_day(void **state)
{
    (void)state;
    /* limit 50.00 USD. Monday 4 Feb 10:00 UTC: long 1 lot at 114430; the day's
     * first update sees equity 1,000,000 - 1,000 (bid 114420) = 999,000.
     * Bid falls to 114360: equity 993,000, loss 6,000 >= 5,000: halted.
     * A new buy is rejected (daily_loss, 6000 vs 5000); a sell of the 1 lot
     * (reducing) passes. The trading day ends at 17:00 New York = 22:00 UTC:
     * at 22:00:01 a buy passes again. */
    fx f;
    fx_init(&f);
    tt_risk_config c = {0};
    c.daily_loss_limit = 5000;
    tt_risk_gate *g = gate(&c);
    tt_risk d;
    fx_fill(&f, TT_BUY, 100, 114430);
    assert_int_equal(tt_risk_gate_update(g, f.p, T(4, 10, 0, 0), &d), TT_RULE_NONE);
    tt_portfolio_quote(f.p, f.eu, 114360, 114370);
    assert_int_equal(tt_risk_gate_update(g, f.p, T(4, 11, 0, 0), &d), TT_RULE_DAILY_LOSS);
    assert_true(d.value == 6000 && d.limit == 5000);
    assert_int_equal(tt_risk_gate_halted(g, T(4, 11, 0, 0)), TT_RULE_DAILY_LOSS);
    tt_order_cmd o = order(TT_BUY, 10);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 11, 0, 1), &d), 0);
    assert_int_equal(d.rule, TT_RULE_DAILY_LOSS);
    assert_true(d.value == 6000 && d.limit == 5000);
    o = order(TT_SELL, 100);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 11, 0, 2), &d), 1);
    o = order(TT_BUY, 10);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 21, 59, 59), &d), 0);
    assert_int_equal(tt_risk_gate_halted(g, T(4, 22, 0, 1)), TT_RULE_NONE);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(4, 22, 0, 1), &d), 1);
    tt_risk_gate_free(g);
    fx_free(&f);
}

static void test_drawdown_and_kill_stop_for_good(void **state)
{
    (void)state;
    /* max drawdown 10%. Peak 1,000,000 (flat). Long 10 lots at 114430; bid
     * 114320: unrealized -110 points x 10 lots = -1,100.00 USD -> equity 890,000:
     * drawdown 11% >= 10%: halted, and still halted days later. */
    fx f;
    fx_init(&f);
    tt_risk_config c = {0};
    c.max_drawdown = 0.10;
    tt_risk_gate *g = gate(&c);
    tt_risk d;
    assert_int_equal(tt_risk_gate_update(g, f.p, T(4, 10, 0, 0), &d), TT_RULE_NONE);
    fx_fill(&f, TT_BUY, 1000, 114430);
    tt_portfolio_quote(f.p, f.eu, 114320, 114330);
    assert_int_equal(tt_risk_gate_update(g, f.p, T(4, 10, 5, 0), &d), TT_RULE_MAX_DRAWDOWN);
    assert_true(d.value > 0.10999 && d.value < 0.11001);
    assert_true(d.limit == 0.10);
    tt_order_cmd o = order(TT_BUY, 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(7, 10, 0, 0), &d), 0);
    assert_int_equal(d.rule, TT_RULE_MAX_DRAWDOWN);
    assert_int_equal(tt_risk_gate_halted(g, T(20, 0, 0, 0)), TT_RULE_MAX_DRAWDOWN);
    tt_risk_gate_free(g);

    /* kill switch: everything but reductions refused, forever */
    c.max_drawdown = 0;
    g = gate(&c);
    o = order(TT_BUY, 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(7, 10, 0, 0), &d), 1);
    tt_risk_gate_kill(g);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(7, 10, 0, 1), &d), 0);
    assert_int_equal(d.rule, TT_RULE_KILL_SWITCH);
    assert_int_equal(tt_risk_gate_halted(g, T(27, 0, 0, 0)), TT_RULE_KILL_SWITCH);
    o = order(TT_SELL, 1000);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(7, 10, 0, 2), &d), 1);
    tt_order_cmd cancel = order(TT_BUY, 1);
    cancel.cmd = TT_CMD_CANCEL;
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &cancel, T(7, 10, 0, 3), &d), 1);
    assert_string_equal(tt_risk_rule_name(TT_RULE_KILL_SWITCH), "kill_switch");
    assert_string_equal(tt_risk_rule_name(TT_RULE_DAILY_LOSS), "daily_loss");
    tt_risk_gate_free(g);
    fx_free(&f);
}

static void test_bad_limits(void **state)
{
    (void)state;
    tt_risk_gate *g;
    tt_err err;
    tt_risk_config c = {0};
    c.max_drawdown = 1.5;
    assert_int_equal(tt_risk_gate_new(&g, &c, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "max_drawdown"));
    c.max_drawdown = 0;
    c.daily_loss_limit = -1;
    assert_int_equal(tt_risk_gate_new(&g, &c, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "daily_loss"));
}

/* An external calendar event (the calendar message) at `at`. */
static tt_event calendar_event(tt_ts at, const char *ccy, int impact, int timed, char *buf,
                               size_t cap)
{
    tt_calendar_event c;
    memset(&c, 0, sizeof c);
    c.time = at;
    c.timed = timed;
    memcpy(c.currency, ccy, 4);
    c.impact = impact;
    snprintf(c.event, sizeof c.event, "ISM Services PMI");
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_EXTERNAL;
    ev.cls = TT_CLS_EXTERNAL;
    ev.ts = at;
    ev.u.blob.type = TT_EXT_ECONOMIC_CALENDAR;
    ev.u.blob.data = (const uint8_t *)buf;
    ev.u.blob.len = (uint32_t)tt_calendar_encode(&c, buf, cap);
    return ev;
}

/* News blackout 30 minutes before to 15 after a high-impact USD release at
 * 15:00 (ISM services, 5 Feb 2019): EURUSD orders refused from 14:30 to
 * 15:15 inclusive, accepted at 14:29:59 and 15:15:01; a closing order passes
 * inside; medium and JPY releases start none; an untimed one neither. */
static void test_news_blackout(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    tt_risk_config c;
    memset(&c, 0, sizeof c);
    c.news_before = 30 * TT_NS_PER_MIN;
    c.news_after = 15 * TT_NS_PER_MIN;
    tt_risk_gate *g = gate(&c);
    assert_non_null(tt_risk_gate_news(g));
    char b1[512], b2[512], b3[512], b4[512];
    tt_event usd = calendar_event(T(5, 15, 0, 0), "USD", TT_IMPACT_HIGH, 1, b1, sizeof b1);
    tt_event med = calendar_event(T(5, 10, 0, 0), "EUR", TT_IMPACT_MEDIUM, 1, b2, sizeof b2);
    tt_event jpy = calendar_event(T(5, 12, 0, 0), "JPY", TT_IMPACT_HIGH, 1, b3, sizeof b3);
    tt_event day = calendar_event(T(5, 0, 0, 0), "EUR", TT_IMPACT_HIGH, 0, b4, sizeof b4);
    assert_int_equal(tt_risk_gate_on_external(g, &usd), 1);
    assert_int_equal(tt_risk_gate_on_external(g, &usd), 0); /* known */
    assert_int_equal(tt_risk_gate_on_external(g, &med), 1);
    assert_int_equal(tt_risk_gate_on_external(g, &jpy), 1);
    assert_int_equal(tt_risk_gate_on_external(g, &day), 0); /* untimed */
    tt_risk d;
    tt_order_cmd o = order(TT_BUY, 10);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 14, 29, 59), &d), 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 14, 30, 0), &d), 0);
    assert_int_equal(d.rule, TT_RULE_NEWS_BLACKOUT);
    assert_true(d.value == -30.0 && d.limit == 30.0); /* 30 minutes before, limit 30 */
    assert_string_equal(tt_risk_rule_name(d.rule), "news_blackout");
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 15, 0, 0), &d), 0);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 15, 15, 0), &d), 0);
    assert_true(d.value == 15.0 && d.limit == 15.0);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 15, 15, 1), &d), 1);
    /* medium EUR at 10:00, JPY at 12:00: nothing for EURUSD at high */
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 10, 0, 0), &d), 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 12, 0, 0), &d), 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 0, 0, 0), &d), 1);
    /* USDJPY is concerned by the JPY release */
    uint32_t uj = tt_instruments_find(f.ins, "USDJPY")->id;
    assert_int_equal(tt_risk_gate_check(g, f.p, uj, &o, T(5, 12, 0, 0), &d), 0);
    /* a long position may be closed inside the window; a bigger sell opens a short */
    fx_fill(&f, TT_BUY, 10, 114430);
    tt_order_cmd close = order(TT_SELL, 10), flip = order(TT_SELL, 20);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &close, T(5, 15, 1, 0), &d), 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &flip, T(5, 15, 1, 0), &d), 0);
    tt_risk_gate_free(g);
    /* impact medium: the 10:00 EUR release counts */
    c.news_impact = TT_IMPACT_MEDIUM;
    g = gate(&c);
    assert_int_equal(tt_risk_gate_on_external(g, &med), 1);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 10, 5, 0), &d), 0);
    tt_risk_gate_free(g);
    /* off: no schedule, events ignored */
    memset(&c, 0, sizeof c);
    g = gate(&c);
    assert_null(tt_risk_gate_news(g));
    assert_int_equal(tt_risk_gate_on_external(g, &usd), 0);
    assert_int_equal(tt_risk_gate_check(g, f.p, f.eu, &o, T(5, 15, 0, 0), &d), 1);
    tt_risk_gate_free(g);
    /* refused settings */
    tt_err err;
    c.news_before = -1;
    assert_int_equal(tt_risk_gate_new(&g, &c, &err), TT_EINVAL);
    c.news_before = 0;
    c.news_impact = 7;
    assert_int_equal(tt_risk_gate_new(&g, &c, &err), TT_EINVAL);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_size_position_exposure),
        cmocka_unit_test(test_order_rate),
        cmocka_unit_test(test_daily_loss_resumes_next_day),
        cmocka_unit_test(test_drawdown_and_kill_stop_for_good),
        cmocka_unit_test(test_bad_limits),
        cmocka_unit_test(test_news_blackout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
