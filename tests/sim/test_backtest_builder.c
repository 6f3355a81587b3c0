/*
 * The backtest builder's slots (sim/backtest.h): a venue that is not the
 * simulated one, a clock, sources, sinks and components, all set from outside.
 *
 * The venue here is a stub written in this file (it fills every order at once
 * at the quote in force: the ask for buys, the bid for sells, 25 cents of
 * commission per fill), so the run cannot lean on sim/venue: the strategy's
 * trade, the account, the result's fill and commission totals must all come
 * through the venue port alone. The clock is a stub too: while the source is
 * idle (as a live feed is), a timer due by that clock must run, which it
 * cannot in simulated time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/order.h"
#include "sim/backtest.h"

#define T0 ((tt_ts)1700000000 * TT_NS_PER_SEC)
#define SEC TT_NS_PER_SEC

/* ---- a scripted source: quotes, with idle spells in between ---- */

typedef struct step {
    tt_ts ts; /* 0: the source answers IDLE once */
} step;

typedef struct script_src {
    const step *steps;
    int n, i;
    uint32_t symbol;
    uint16_t source_id;
    int idle; /* 1 while the last answer was IDLE */
} script_src;

static int script_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    script_src *s = self;
    if (s->i == s->n)
        return TT_SRC_END;
    const step *st = &s->steps[s->i++];
    if (!st->ts) {
        s->idle = 1;
        return TT_SRC_IDLE;
    }
    s->idle = 0;
    memset(ev, 0, sizeof *ev);
    ev->ts = ev->ts_init = st->ts;
    ev->kind = TT_EV_QUOTE;
    ev->cls = TT_CLS_MARKET;
    ev->source = s->source_id;
    ev->seq = (uint64_t)s->i;
    ev->symbol = s->symbol;
    ev->u.quote.bid = 114000 + (st->ts - T0) / SEC;
    ev->u.quote.ask = ev->u.quote.bid + 10;
    ev->u.quote.bid_vol = ev->u.quote.ask_vol = 1;
    return TT_SRC_EVENT;
}

/* ---- the stub venue ---- */

typedef struct stub_venue {
    tt_engine *e;
    tt_quote last;
    tt_ts last_ts;
    uint64_t commands, fills, arrivals;
    tt_money commissions;
} stub_venue;

static void sv_attach(void *self, tt_engine *e) { ((stub_venue *)self)->e = e; }

static void sv_market(void *self, const tt_event *ev)
{
    stub_venue *v = self;
    if (ev->kind == TT_EV_QUOTE) {
        v->last = ev->u.quote;
        v->last_ts = ev->ts;
    }
}

static void sv_arrival(void *self, const tt_event *ev)
{
    (void)ev;
    ((stub_venue *)self)->arrivals++;
}

static int sv_answer(stub_venue *v, const tt_event *cmd, int status, int64_t fill, tt_err *err)
{
    const tt_order_cmd *c = &cmd->u.order_cmd;
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = tt_engine_now(v->e);
    ev.kind = TT_EV_ORDER_EVENT;
    ev.cls = TT_CLS_VENUE;
    ev.source = 0x5100;
    ev.symbol = cmd->symbol;
    ev.u.order_ev.client_id = c->client_id;
    ev.u.order_ev.venue_id = 1000 + c->client_id;
    ev.u.order_ev.status = (uint8_t)status;
    ev.u.order_ev.side = c->side;
    ev.u.order_ev.type = c->type;
    ev.u.order_ev.leaves_qty = fill ? 0 : c->qty;
    if (fill) {
        ev.u.order_ev.fill_qty = fill;
        ev.u.order_ev.fill_price = c->side > 0 ? v->last.ask : v->last.bid;
        ev.u.order_ev.commission = 25;
        ev.u.order_ev.reason = TT_REASON_FILL;
    } else {
        ev.u.order_ev.reason = TT_REASON_ACCEPTED;
    }
    return tt_engine_schedule(v->e, &ev, err);
}

static int sv_command(void *self, const tt_event *cmd, tt_err *err)
{
    stub_venue *v = self;
    v->commands++;
    if (cmd->u.order_cmd.cmd != TT_CMD_SUBMIT)
        return TT_OK;
    int rc = sv_answer(v, cmd, TT_OS_ACCEPTED, 0, err);
    if (!rc && !(rc = sv_answer(v, cmd, TT_OS_FILLED, cmd->u.order_cmd.qty, err))) {
        v->fills++;
        v->commissions += 25;
    }
    return rc;
}

static void sv_totals(void *self, tt_venue_totals *out)
{
    stub_venue *v = self;
    out->commissions = v->commissions;
    out->fills = v->fills;
}

static tt_venue stub_port(stub_venue *v)
{
    tt_venue p;
    memset(&p, 0, sizeof p);
    p.self = v;
    p.attach = sv_attach;
    p.command = sv_command;
    p.on_market = sv_market;
    p.on_arrival = sv_arrival;
    p.totals = sv_totals;
    return p;
}

/* ---- the stub clock ---- */

typedef struct stub_clock {
    tt_ts now;
    int calls;
} stub_clock;

static tt_ts sc_now(void *self)
{
    stub_clock *c = self;
    c->calls++;
    return c->now;
}

/* ---- a strategy: buy on the 3rd quote, sell on the 7th, a timer at T0+150s ---- */

typedef struct probe {
    int quotes;
    int venue_saw_quote_first; /* every quote reached the venue before the strategy */
    int timer_fired, timer_while_idle;
    tt_ts last_ts;
    int in_order;
    const script_src *src;
    const stub_venue *venue;
    void *user; /* what tt_ctx_user said in create */
} probe;

static probe g_probe;

static int pr_create(tt_strategy_ctx *c, void **state)
{
    g_probe.user = tt_ctx_user(c);
    *state = &g_probe;
    return 0;
}

static int pr_start(void *st, tt_strategy_ctx *c)
{
    (void)st;
    tt_ctx_timer_set(c, T0 + 150 * SEC, 7);
    return 0;
}

static void pr_quote(void *st, tt_strategy_ctx *c, const tt_event *q)
{
    probe *p = st;
    p->venue_saw_quote_first &= p->venue->last_ts == q->ts;
    p->in_order &= q->ts > p->last_ts;
    p->last_ts = q->ts;
    p->quotes++;
    if (p->quotes == 3)
        tt_ctx_market(c, q->symbol, 10, 0, 0);
    else if (p->quotes == 7)
        tt_ctx_market(c, q->symbol, -10, 0, 0);
}

static void pr_timer(void *st, tt_strategy_ctx *c, uint64_t id, uint64_t user)
{
    (void)c;
    (void)id;
    probe *p = st;
    if (user != 7)
        return;
    p->timer_fired++;
    p->timer_while_idle = p->src && p->src->idle;
}

static const tt_strategy_vtable PROBE = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "builder_probe", "test", "",
    pr_create, NULL, pr_start, pr_quote, NULL, NULL, pr_timer, NULL, NULL,
};

/* ---- a counting sink and component ---- */

static int count_write(void *self, const tt_event *ev, tt_err *err)
{
    (void)ev;
    (void)err;
    (*(uint64_t *)self)++;
    return TT_OK;
}

static void count_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e;
    (void)ev;
    (*(uint64_t *)self)++;
}

static void config(tt_backtest_config *c, const tt_instruments *ins)
{
    tt_backtest_config_default(c);
    c->instruments = ins;
    c->symbols[0] = "EURUSD";
    c->strategy_vtable = &PROBE;
    c->strategy = "builder_probe";
}

/* 120 quotes a second apart, two idle answers, 11 more quotes from T0+300s. */
static int make_script(step *v)
{
    int n = 0;
    for (int k = 0; k < 120; k++)
        v[n++].ts = T0 + k * SEC;
    v[n++].ts = 0;
    v[n++].ts = 0;
    for (int k = 300; k <= 310; k++)
        v[n++].ts = T0 + k * SEC;
    return n;
}

/* The script, the stub venue and the probe, and a builder on them with the
 * stub venue and the script as its source. */
typedef struct stage {
    tt_instruments *ins;
    step steps[200];
    script_src src;
    stub_venue v;
    tt_backtest_config c;
    tt_backtest *bt;
} stage;

static void stage_open(stage *st)
{
    memset(st, 0, sizeof *st);
    st->ins = tt_instruments_new();
    uint32_t eu = tt_instruments_find(st->ins, "EURUSD")->id;
    st->src = (script_src){st->steps, make_script(st->steps), 0, eu, 3, 0};
    memset(&g_probe, 0, sizeof g_probe);
    g_probe.venue_saw_quote_first = g_probe.in_order = 1;
    g_probe.src = &st->src;
    g_probe.venue = &st->v;
    config(&st->c, st->ins);
    st->c.venue.latency_ns = 5 * SEC; /* the simulated venue's: must not matter here */
    tt_err err;
    assert_int_equal(tt_backtest_open(&st->bt, &st->c, &err), TT_OK);
    assert_int_equal(tt_backtest_set_venue(st->bt, stub_port(&st->v), &err), TT_OK);
    tt_source src = {&st->src, script_next, NULL, NULL};
    assert_int_equal(tt_backtest_add_source(st->bt, src, &err), TT_OK);
}

static void stage_close(stage *st)
{
    tt_backtest_close(st->bt);
    tt_instruments_free(st->ins);
}

static void test_custom_venue_and_clock(void **state)
{
    (void)state;
    stage st;
    stage_open(&st);
    stub_venue *vp = &st.v;
    tt_backtest *bt = st.bt;
    stub_clock clk = {T0 + 200 * SEC, 0};
    uint64_t outputs = 0, seen = 0;
    tt_err err;
    assert_int_equal(tt_backtest_set_clock(bt, (tt_clock){&clk, sc_now}, &err), TT_OK);
    assert_int_equal(tt_backtest_add_sink(bt, (tt_sink){&outputs, count_write, NULL, NULL}, &err),
                     TT_OK);
    tt_component comp = {&seen, "count", NULL, count_event, NULL, 0};
    assert_int_equal(tt_backtest_add_component(bt, comp, &err), TT_OK);
    tt_backtest_result r;
    int rc = tt_backtest_exec(bt, &r, &err);
    if (rc)
        fail_msg("exec: %s", err.msg);

    /* the data came from the source added, and the venue saw each quote first */
    assert_int_equal(r.events, 131);
    assert_int_equal(g_probe.quotes, 131);
    assert_true(g_probe.venue_saw_quote_first);
    assert_true(g_probe.in_order);
    /* two orders, both through the stub: filled at once at the quote in force */
    assert_int_equal(vp->commands, 2);
    assert_int_equal(r.orders_sent, 2);
    assert_int_equal(r.fills, 2);          /* from the port's totals() */
    assert_int_equal(r.commissions, 50);
    assert_int_equal(r.swaps, 0);
    assert_int_equal(r.stop_outs, 0);
    assert_int_equal(r.ntrades, 1);
    const tt_trade_record *t = &r.trades[0];
    assert_int_equal(t->side, TT_BUY);
    assert_int_equal(t->qty, 10);
    assert_int_equal(t->open_ts, T0 + 2 * SEC);
    assert_int_equal(t->open_price, 114002 + 10); /* the ask of the 3rd quote */
    assert_int_equal(t->close_ts, T0 + 6 * SEC);
    assert_int_equal(t->close_price, 114006);     /* the bid of the 7th quote */
    assert_int_equal(t->commission, 50);
    assert_true(t->pnl < 0);
    assert_int_equal(r.final_balance, r.initial_balance + t->net);
    assert_int_equal(r.metrics.trades, 1);
    /* the order events reached the result list: pending, submitted (the
     * runner's), accepted and filled (the stub's), for each order */
    assert_int_equal(r.norders, 8);
    assert_int_equal(r.orders[2].status, TT_OS_ACCEPTED);
    assert_int_equal(r.orders[3].status, TT_OS_FILLED);
    assert_int_equal(r.orders[3].price, 114012);
    assert_int_equal(r.orders[7].status, TT_OS_FILLED);
    assert_int_equal(r.orders[7].price, 114006);
    /* the venue's other hook saw the non-market events (the timer, its answers) */
    assert_true(vp->arrivals >= 5);
    /* the clock: asked while the source was idle, and the timer due by it ran then */
    assert_true(clk.calls > 0);
    assert_int_equal(g_probe.timer_fired, 1);
    assert_true(g_probe.timer_while_idle);
    /* the sink and the component added took part */
    assert_int_equal(outputs, r.outputs);
    assert_true(seen >= r.events);

    /* a builder runs once, and takes no more slots afterwards */
    tt_backtest_result r2;
    assert_int_equal(tt_backtest_exec(bt, &r2, &err), TT_ESTATE);
    assert_int_equal(tt_backtest_set_clock(bt, (tt_clock){NULL, NULL}, &err), TT_ESTATE);
    tt_backtest_result_free(&r2);
    tt_backtest_result_free(&r);
    stage_close(&st);
}

/* The same script in simulated time: no clock, so the timer waits for the
 * next input after the idle spell and fires when the source has answered. */
static void test_simulated_time_by_default(void **state)
{
    (void)state;
    stage st;
    stage_open(&st);
    tt_backtest_result r;
    tt_err err;
    assert_int_equal(tt_backtest_exec(st.bt, &r, &err), TT_OK);
    assert_int_equal(g_probe.timer_fired, 1);
    assert_false(g_probe.timer_while_idle);
    assert_int_equal(r.fills, 2);
    tt_backtest_result_free(&r);
    stage_close(&st);
}

/* Without a venue set, the simulated venue is built from cfg->venue: its
 * latency shows in the fill times, and the totals come from it. Two sources
 * added are read merged, in time order. */
static void test_default_venue_and_two_sources(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    step a[80], b[80];
    int na = 0, nb = 0;
    for (int k = 0; k < 120; k++) {
        if (k % 3)
            a[na++].ts = T0 + k * SEC;
        else
            b[nb++].ts = T0 + k * SEC;
    }
    script_src sa = {a, na, 0, eu, 3, 0}, sb = {b, nb, 0, eu, 4, 0};
    stub_venue none;
    memset(&none, 0, sizeof none);
    memset(&g_probe, 0, sizeof g_probe);
    g_probe.in_order = 1;
    g_probe.venue = &none;
    tt_backtest_config c;
    config(&c, ins);
    c.venue.latency_ns = 500 * TT_NS_PER_MS;
    tt_backtest *bt;
    tt_err err;
    assert_int_equal(tt_backtest_open(&bt, &c, &err), TT_OK);
    assert_int_equal(tt_backtest_add_source(bt, (tt_source){&sa, script_next, NULL, NULL}, &err),
                     TT_OK);
    assert_int_equal(tt_backtest_add_source(bt, (tt_source){&sb, script_next, NULL, NULL}, &err),
                     TT_OK);
    tt_backtest_result r;
    int rc = tt_backtest_exec(bt, &r, &err);
    if (rc)
        fail_msg("exec: %s", err.msg);
    assert_int_equal(r.events, 120);
    assert_int_equal(g_probe.quotes, 120);
    assert_true(g_probe.in_order);
    assert_int_equal(r.fills, 2);
    assert_int_equal(r.ntrades, 1);
    /* sent at T0+2s, filled on arrival half a second later */
    assert_int_equal(r.trades[0].open_ts, T0 + 2 * SEC + 500 * TT_NS_PER_MS);
    assert_int_equal(r.trades[0].open_price, 114012);
    tt_backtest_close(bt);
    tt_backtest_result_free(&r);
    tt_instruments_free(ins);
}

/* ---- stepping: start, advance until paused, finish ---- */

typedef struct stepper {
    tt_backtest *bt;
    uint64_t seen;
} stepper;

static void stepper_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e, (void)ev;
    stepper *s = self;
    if (++s->seen % 7 == 0)
        tt_backtest_pause(s->bt);
}

/* One run of the default-venue scenario above, whole (exec) or stepped. */
static void stepped_run(int stepped, tt_backtest_result *r, int *pauses)
{
    tt_instruments *ins = tt_instruments_new();
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    step a[120];
    for (int k = 0; k < 120; k++)
        a[k].ts = T0 + k * SEC;
    script_src sa = {a, 120, 0, eu, 3, 0};
    stub_venue none;
    memset(&none, 0, sizeof none);
    memset(&g_probe, 0, sizeof g_probe);
    g_probe.in_order = 1;
    g_probe.venue = &none;
    tt_backtest_config c;
    config(&c, ins);
    c.venue.latency_ns = 500 * TT_NS_PER_MS;
    c.strategy_user = stepped ? &sa : NULL;
    tt_backtest *bt;
    tt_err err;
    assert_int_equal(tt_backtest_open(&bt, &c, &err), TT_OK);
    assert_int_equal(tt_backtest_add_source(bt, (tt_source){&sa, script_next, NULL, NULL}, &err),
                     TT_OK);
    stepper sp = {bt, 0};
    tt_component comp = {&sp, "stepper", NULL, stepper_event, NULL};
    assert_int_equal(tt_backtest_add_component(bt, comp, &err), TT_OK);
    *pauses = 0;
    if (!stepped) {
        assert_int_equal(tt_backtest_exec(bt, r, &err), TT_OK);
        assert_null(g_probe.user); /* none given */
    } else {
        assert_int_equal(tt_backtest_advance(bt, &err), TT_ESTATE);
        assert_int_equal(tt_backtest_start(bt, &err), TT_OK);
        assert_ptr_equal(g_probe.user, &sa);
        assert_int_equal(tt_backtest_start(bt, &err), TT_ESTATE);
        int rc;
        while ((rc = tt_backtest_advance(bt, &err)) == TT_ENGINE_PAUSED) {
            (*pauses)++;
            assert_int_equal(sp.seen % 7, 0);
        }
        assert_int_equal(rc, TT_OK);
        assert_int_equal(tt_backtest_advance(bt, &err), TT_ESTATE);
        assert_int_equal(tt_backtest_finish(bt, r, &err), TT_OK);
        tt_backtest_result again;
        assert_int_equal(tt_backtest_finish(bt, &again, &err), TT_ESTATE);
    }
    tt_backtest_close(bt);
    tt_instruments_free(ins);
}

/* A stepped run is the whole run: same events, trades and fingerprint; a
 * builder closed in the middle of a run ends it and frees everything. */
static void test_stepping(void **state)
{
    (void)state;
    tt_backtest_result whole, stepped;
    int p0, p1;
    stepped_run(0, &whole, &p0);
    stepped_run(1, &stepped, &p1);
    assert_int_equal(p0, 0);
    assert_true(p1 >= 120 / 7);
    assert_int_equal(whole.events, 120);
    assert_int_equal(stepped.events, whole.events);
    assert_int_equal(stepped.ntrades, whole.ntrades);
    assert_int_equal(stepped.norders, whole.norders);
    assert_true(whole.ntrades >= 1);
    assert_memory_equal(stepped.trades, whole.trades, whole.ntrades * sizeof *whole.trades);
    assert_true(stepped.fingerprint.hi == whole.fingerprint.hi &&
                stepped.fingerprint.lo == whole.fingerprint.lo);
    tt_backtest_result_free(&whole);
    tt_backtest_result_free(&stepped);

    /* closed while paused */
    tt_instruments *ins = tt_instruments_new();
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    step a[30];
    for (int k = 0; k < 30; k++)
        a[k].ts = T0 + k * SEC;
    script_src sa = {a, 30, 0, eu, 3, 0};
    stub_venue none;
    memset(&none, 0, sizeof none);
    memset(&g_probe, 0, sizeof g_probe);
    g_probe.venue = &none;
    tt_backtest_config c;
    config(&c, ins);
    tt_backtest *bt;
    tt_err err;
    assert_int_equal(tt_backtest_open(&bt, &c, &err), TT_OK);
    assert_int_equal(tt_backtest_add_source(bt, (tt_source){&sa, script_next, NULL, NULL}, &err),
                     TT_OK);
    stepper sp = {bt, 0};
    tt_component comp = {&sp, "stepper", NULL, stepper_event, NULL};
    assert_int_equal(tt_backtest_add_component(bt, comp, &err), TT_OK);
    assert_int_equal(tt_backtest_start(bt, &err), TT_OK);
    assert_int_equal(tt_backtest_advance(bt, &err), TT_ENGINE_PAUSED);
    assert_int_equal(sp.seen, 7);
    tt_backtest_close(bt);
    assert_true(sa.i <= 7); /* nothing read past the pause */
    tt_instruments_free(ins);
}

static void test_slot_errors(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    tt_backtest_config c;
    config(&c, ins);
    tt_backtest *bt;
    tt_err err;
    assert_int_equal(tt_backtest_open(&bt, &c, &err), TT_OK);
    tt_venue nothing;
    memset(&nothing, 0, sizeof nothing);
    assert_int_equal(tt_backtest_set_venue(bt, nothing, &err), TT_EINVAL);
    assert_int_equal(tt_backtest_add_source(bt, (tt_source){NULL, NULL, NULL, NULL}, &err),
                     TT_EINVAL);
    assert_int_equal(tt_backtest_add_sink(bt, (tt_sink){NULL, NULL, NULL, NULL}, &err), TT_EINVAL);
    step s[1] = {{T0}};
    script_src src = {s, 1, 0, 1, 3, 0};
    for (int i = 0; i < TT_BACKTEST_MAX_SOURCES; i++)
        assert_int_equal(
            tt_backtest_add_source(bt, (tt_source){&src, script_next, NULL, NULL}, &err), TT_OK);
    assert_int_equal(tt_backtest_add_source(bt, (tt_source){&src, script_next, NULL, NULL}, &err),
                     TT_EINVAL);
    tt_backtest_close(bt);
    /* no data at all: named */
    tt_backtest_result r;
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "data"));
    tt_backtest_result_free(&r);
    tt_backtest_close(NULL);
    tt_instruments_free(ins);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_custom_venue_and_clock),
        cmocka_unit_test(test_simulated_time_by_default),
        cmocka_unit_test(test_default_venue_and_two_sources),
        cmocka_unit_test(test_slot_errors),
        cmocka_unit_test(test_stepping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
