/*
 * The backtest assembly on real data: 48 hours of Dukascopy EURUSD ticks
 * (4-5 February 2019, tests/data/dukascopy) imported into a fresh tape, then
 * replayed through venue, bars, risk gate, portfolio and a built-in strategy.
 *
 * What is checked: every tick reaches the engine; the accounting identities
 * hold (final equity = initial balance + the sum of closed trades' net, every
 * position being closed at the end; commissions add up); the equity series
 * has one point per minute with events; the same scenario twice gives the
 * same fingerprint and a different slippage seed a different one; a risk
 * limit shows up as rejections; bad configurations fail with clear messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/order.h"
#include "data/dukascopy.h"
#include "sim/backtest.h"
#include "../support/sample_tape.h"

typedef struct fixture {
    char dir[64];
    uint64_t ticks;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tt_backtest_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    long n = tt_test_sample_tape(f->dir, 0, 0, 0);
    if (n < 0)
        return -1;
    f->ticks = (uint64_t)n;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (tt_test_remove_tree(f->dir))
        return -1;
    free(f);
    return 0;
}

static void base(tt_backtest_config *c, const fixture *f)
{
    tt_backtest_config_default(c);
    c->symbols[0] = "EURUSD";
    c->tape_dir = f->dir;
    c->strategy = "sma_cross";
    c->params = "tf=M1 fast=10 slow=30 qty=10";
    c->seed = 7;
}

static void progress(void *ctx, uint64_t events, tt_ts now)
{
    uint64_t *calls = ctx;
    (*calls)++;
    assert_true(events > 0 && now > 0);
}

static void test_sma_cross_real_data(void **state)
{
    fixture *f = *state;
    assert_true(f->ticks > 200000);
    tt_backtest_config c;
    base(&c, f);
    c.venue.commission = TT_COMM_PER_LOT;
    c.venue.commission_per_lot = 700;
    uint64_t calls = 0;
    c.progress = progress;
    c.progress_ctx = &calls;
    c.progress_every = 50000;
    tt_backtest_result r;
    tt_err err;
    int rc = tt_backtest_run(&c, &r, &err);
    if (rc)
        fail_msg("backtest: %s", err.msg);
    print_message(
        "sma_cross on %llu ticks: %llu events, %zu trades, %llu fills, equity %lld -> %lld, "
        "%zu equity points, %zu order events\n",
        (unsigned long long)f->ticks, (unsigned long long)r.events, r.ntrades,
        (unsigned long long)r.fills, (long long)r.initial_balance, (long long)r.final_equity,
        r.nequity, r.norders);
    /* inputs: every tick of the tape */
    assert_int_equal(r.events, f->ticks);
    assert_int_equal(calls, r.events / 50000);
    assert_true(r.ntrades > 10);
    assert_true(r.orders_sent >= r.ntrades);
    /* every position is closed at the end: equity = balance = initial + sum(net) */
    tt_money net = 0, comm = 0;
    for (size_t i = 0; i < r.ntrades; i++) {
        const tt_trade_record *t = &r.trades[i];
        assert_int_equal(t->net, t->pnl - t->commission + t->swap);
        assert_true(t->qty > 0 && t->open_ts <= t->close_ts);
        assert_int_equal(t->id, i + 1);
        net += t->net;
        comm += t->commission;
    }
    assert_int_equal(r.final_equity, r.final_balance);
    assert_int_equal(r.final_balance, r.initial_balance + net);
    /* 7.00 USD per lot per side on 0.1 lot = 70 cents per fill; the venue's
     * total counts fills, the trades count each entry and exit */
    assert_int_equal(r.commissions, (tt_money)r.fills * 70);
    assert_true(comm <= r.commissions);
    /* one equity point per minute with events, in time order */
    assert_true(r.nequity > 2000 && r.nequity < 2 * 24 * 60 + 2);
    for (size_t i = 1; i < r.nequity; i++)
        assert_true(r.equity[i].ts > r.equity[i - 1].ts);
    assert_int_equal(r.equity[r.nequity - 1].equity, r.final_equity);
    /* order events: each filled order has a pending, submitted, accepted and filled */
    size_t filled = 0;
    for (size_t i = 0; i < r.norders; i++)
        filled += r.orders[i].status == TT_OS_FILLED;
    assert_int_equal(filled, r.fills);
    /* every order ends in a terminal state, its last event */
    uint8_t *last = calloc(r.orders_sent + r.risk_rejects + 2, 1);
    for (size_t i = 0; i < r.norders; i++) {
        assert_true(r.orders[i].client_id <= r.orders_sent + r.risk_rejects);
        last[r.orders[i].client_id] = r.orders[i].status;
    }
    for (uint64_t id = 1; id <= r.orders_sent + r.risk_rejects; id++)
        assert_true(tt_order_status_terminal(last[id]));
    free(last);
    tt_backtest_result_free(&r);
}

/* Trade by trade against an independent oracle: tests/sim/oracle_sma_cross.py
 * read the same Dukascopy files with Python's lzma, built M1 bid bars with
 * pandas and replayed the sma_cross and venue rules with exact integers
 * (tests/data/trade/sma_cross_eurusd.csv). */
static void test_sma_cross_matches_pandas_oracle(void **state)
{
    fixture *f = *state;
    FILE *in = fopen(TT_TESTDATA "/trade/sma_cross_eurusd.csv", "r");
    assert_non_null(in);
    char line[256];
    assert_non_null(fgets(line, sizeof line, in)); /* header */
    tt_backtest_config c;
    base(&c, f);
    tt_backtest_result r;
    tt_err err;
    assert_int_equal(tt_backtest_run(&c, &r, &err), 0);
    size_t n = 0;
    long long ots, ots2, cts, opx, cpx, pnl;
    int side;
    while (fgets(line, sizeof line, in)) {
        assert_int_equal(
            sscanf(line, "%lld,%d,%lld,%lld,%lld,%lld", &ots, &side, &opx, &cts, &cpx, &pnl), 6);
        assert_true(n < r.ntrades);
        const tt_trade_record *t = &r.trades[n];
        ots2 = t->open_ts;
        assert_int_equal(ots2, ots);
        assert_int_equal(t->side, side);
        assert_int_equal(t->open_price, opx);
        assert_int_equal(t->close_ts, cts);
        assert_int_equal(t->close_price, cpx);
        assert_int_equal(t->pnl, pnl);
        assert_int_equal(t->qty, 10);
        n++;
    }
    fclose(in);
    assert_int_equal(n, r.ntrades);
    assert_true(n > 100);
    tt_backtest_result_free(&r);
}

/* The other built-ins on the real data, with attached exits: they trade,
 * their exits fire, and the books balance. */
static void test_builtins_real_data(void **state)
{
    fixture *f = *state;
    const char *runs[][2] = {
        {"breakout", "tf=M5 n=20 qty=10 sl_pips=10 tp_pips=20"},
        {"rsi_reversion", "tf=M1 n=14 lower=25 upper=75 qty=10 sl_pips=4"},
        {"breakout", "tf=M5 n=10 exit_mid=1 short=0 qty=10"},
    };
    for (int k = 0; k < 3; k++) {
        tt_backtest_config c;
        base(&c, f);
        c.strategy = runs[k][0];
        c.params = runs[k][1];
        tt_backtest_result r;
        tt_err err;
        int rc = tt_backtest_run(&c, &r, &err);
        if (rc)
            fail_msg("%s: %s", runs[k][0], err.msg);
        assert_true(r.ntrades >= 5);
        tt_money net = 0;
        int sl = 0, tp = 0, shorts = 0;
        for (size_t i = 0; i < r.ntrades; i++) {
            net += r.trades[i].net;
            sl += r.trades[i].close_reason == TT_CLOSE_STOP_LOSS;
            tp += r.trades[i].close_reason == TT_CLOSE_TAKE_PROFIT;
            shorts += r.trades[i].side == TT_SELL;
            if (r.trades[i].close_reason == TT_CLOSE_TAKE_PROFIT) /* 20 pips from the touch */
                assert_int_equal(
                    r.trades[i].side * (r.trades[i].close_price - r.trades[i].open_price), 200);
        }
        assert_int_equal(r.final_balance, r.initial_balance + net);
        print_message("%s %s: %zu trades, %d stop-loss, %d take-profit, net %lld\n", runs[k][0],
                      runs[k][1], r.ntrades, sl, tp, (long long)net);
        if (k == 0)
            assert_true(sl > 0 && tp > 0);
        if (k == 1)
            assert_true(sl > 0);
        if (k == 2)
            assert_int_equal(shorts, 0);
        tt_backtest_result_free(&r);
    }
}

static void test_determinism(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    base(&c, f);
    c.venue.slippage = TT_SLIP_RANDOM;
    c.venue.slippage_points = 3;
    c.venue.seed = 1;
    tt_backtest_result a, b, d;
    tt_err err;
    assert_int_equal(tt_backtest_run(&c, &a, &err), 0);
    assert_int_equal(tt_backtest_run(&c, &b, &err), 0);
    assert_memory_equal(&a.fingerprint, &b.fingerprint, sizeof a.fingerprint);
    assert_int_equal(a.final_equity, b.final_equity);
    assert_int_equal(a.ntrades, b.ntrades);
    c.venue.seed = 2;
    assert_int_equal(tt_backtest_run(&c, &d, &err), 0);
    assert_memory_not_equal(&a.fingerprint, &d.fingerprint, sizeof a.fingerprint);
    tt_backtest_result_free(&a);
    tt_backtest_result_free(&b);
    tt_backtest_result_free(&d);
}

static void test_risk_rejections(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    base(&c, f);
    c.risk.max_order_qty = 5; /* the strategy sends qty 10 */
    tt_backtest_result r;
    tt_err err;
    assert_int_equal(tt_backtest_run(&c, &r, &err), 0);
    assert_true(r.risk_rejects > 0);
    assert_int_equal(r.fills, 0);
    assert_int_equal(r.ntrades, 0);
    assert_int_equal(r.final_equity, r.initial_balance);
    int rejected = 0;
    for (size_t i = 0; i < r.norders; i++)
        if (r.orders[i].status == TT_OS_REJECTED && r.orders[i].reason == TT_REASON_RISK)
            rejected++;
    assert_int_equal(rejected, (int)r.risk_rejects);
    tt_backtest_result_free(&r);
}

static void test_time_range_and_buy_and_hold(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    base(&c, f);
    c.strategy = "buy_and_hold";
    c.params = "qty=100";
    c.from = tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0);
    c.to = tt_ts_from_civil(2019, 2, 5, 0, 0, 0, 0);
    tt_backtest_result r;
    tt_err err;
    assert_int_equal(tt_backtest_run(&c, &r, &err), 0);
    assert_true(r.first_ts >= c.from && r.last_ts < c.to);
    assert_int_equal(r.ntrades, 1);
    const tt_trade_record *t = &r.trades[0];
    assert_int_equal(t->close_reason, TT_CLOSE_END);
    assert_int_equal(t->qty, 100);
    /* 1 lot: one point is one dollar */
    assert_int_equal(t->pnl, (t->close_price - t->open_price) * 100);
    tt_backtest_result_free(&r);
}

/* The same strategy in hedging mode holds one position at a time and closes
 * it by ticket: the trades must be the same as in netting mode. */
static void test_hedging_same_trades(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    base(&c, f);
    tt_backtest_result n, h;
    tt_err err;
    assert_int_equal(tt_backtest_run(&c, &n, &err), 0);
    c.venue.account.mode = TT_MODE_HEDGING;
    assert_int_equal(tt_backtest_run(&c, &h, &err), 0);
    assert_int_equal(n.ntrades, h.ntrades);
    for (size_t i = 0; i < n.ntrades; i++) {
        assert_int_equal(n.trades[i].open_ts, h.trades[i].open_ts);
        assert_int_equal(n.trades[i].close_price, h.trades[i].close_price);
        assert_int_equal(n.trades[i].pnl, h.trades[i].pnl);
    }
    assert_int_equal(n.final_equity, h.final_equity);
    tt_backtest_result_free(&n);
    tt_backtest_result_free(&h);
}

typedef struct halts {
    tt_event v[64];
    int n;
} halts;

static int halt_sink(void *self, const tt_event *ev, tt_err *err)
{
    halts *h = self;
    (void)err;
    if (ev->kind == TT_EV_RISK && ev->u.risk.client_id == 0 && !ev->u.risk.approved &&
        ev->u.risk.rule == TT_RULE_DAILY_LOSS && h->n < 64)
        h->v[h->n++] = *ev;
    return 0;
}

/* A daily loss limit of 20.00 USD on 1-lot trades: trading halts for the rest
 * of the trading day (the position is flattened) and resumes after 17:00 New
 * York (22:00 UTC in February). */
static void test_daily_loss_halts_until_next_day(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    base(&c, f);
    c.params = "tf=M1 fast=10 slow=30 qty=100";
    c.risk.daily_loss_limit = 2000;
    halts h = {.n = 0};
    c.sinks[0] = (tt_sink){&h, halt_sink, NULL, NULL};
    c.nsinks = 1;
    tt_backtest_result r;
    tt_err err;
    assert_int_equal(tt_backtest_run(&c, &r, &err), 0);
    assert_true(h.n >= 1);
    assert_true(h.v[0].u.risk.value >= 2000 && h.v[0].u.risk.limit == 2000);
    for (int k = 0; k < h.n; k++) {
        /* the next trading day starts 24 h after this one (22:00 UTC in February) */
        tt_ts halt = h.v[k].ts, resume = tt_trading_day_start(halt) + TT_NS_PER_DAY;
        int after = 0;
        for (size_t i = 0; i < r.ntrades; i++) {
            const tt_trade_record *t = &r.trades[i];
            /* nothing opens between the halt and the next trading day */
            assert_false(t->open_ts > halt && t->open_ts < resume);
            if (t->open_ts >= resume)
                after = 1;
            /* the position open at the halt is closed by the risk gate */
            if (t->open_ts <= halt && t->close_ts >= halt && t->close_ts < resume)
                assert_int_equal(t->close_reason, TT_CLOSE_RISK);
        }
        print_message("daily loss halt at %lld, trading again from %lld: %s\n", (long long)halt,
                      (long long)resume, after ? "yes" : "no");
        if (resume < r.last_ts - TT_NS_PER_HOUR)
            assert_true(after); /* it trades again */
    }
    tt_backtest_result_free(&r);
}

/* Runner and venue together: a cancel that arrives after its order filled is
 * answered (REJECTED, unknown_order) without failing the run; a resting limit
 * is cancelled; a GTD order expires; a stop-limit with an attached stop-loss
 * fills and the stop-loss closes it. The strategy sees each answer. */
typedef struct orders_probe {
    int quotes;
    uint64_t ids[4];
    int seen[4][16]; /* per order: count of each status */
    int deals;       /* venue deals (client 0) */
} orders_probe;

static orders_probe g_probe; /* test-only: the vtable below has no state pointer to return */

static int op_create(tt_strategy_ctx *c, void **state)
{
    (void)c;
    memset(&g_probe, 0, sizeof g_probe);
    *state = &g_probe;
    return 0;
}

static void op_quote(void *st, tt_strategy_ctx *c, const tt_event *q)
{
    orders_probe *p = st;
    if (p->quotes++ != 100)
        return;
    tt_price bid = q->u.quote.bid, ask = q->u.quote.ask;
    p->ids[0] = tt_ctx_market(c, q->symbol, 10, 0, 0);
    tt_ctx_cancel(c, p->ids[0]); /* too late: it fills on arrival */
    tt_order_req r = {0};
    r.symbol = q->symbol;
    r.side = TT_BUY;
    r.type = TT_ORD_LIMIT;
    r.qty = 10;
    r.price = bid - 500; /* 50 pips below: rests */
    p->ids[1] = tt_ctx_submit(c, &r);
    r.tif = TT_TIF_GTD;
    r.expire_ts = q->ts + 60 * TT_NS_PER_SEC;
    p->ids[2] = tt_ctx_submit(c, &r);
    r.tif = TT_TIF_GTC;
    r.type = TT_ORD_STOP_LIMIT;
    r.stop_price = ask + 1; /* triggers on the first uptick */
    r.price = ask + 1000;   /* far limit: fills at the quote */
    r.stop_loss = bid - 30; /* then a 3-pip stop-loss */
    p->ids[3] = tt_ctx_submit(c, &r);
}

static void op_order(void *st, tt_strategy_ctx *c, const tt_event *ev)
{
    orders_probe *p = st;
    const tt_order_event *o = &ev->u.order_ev;
    if (!o->client_id) {
        p->deals += o->reason == TT_REASON_STOP_LOSS;
        return;
    }
    for (int i = 0; i < 4; i++)
        if (p->ids[i] == o->client_id)
            p->seen[i][o->status]++;
    if (o->client_id == p->ids[1] && o->status == TT_OS_ACCEPTED)
        tt_ctx_cancel(c, p->ids[1]);
}

static void op_destroy(void *st) { (void)st; }

static const tt_strategy_vtable ORDERS_PROBE = {
    TT_STRATEGY_ABI_VERSION,
    sizeof(tt_strategy_vtable),
    "orders_probe",
    "test",
    "",
    op_create,
    op_destroy,
    NULL,
    op_quote,
    NULL,
    op_order,
    NULL,
    NULL,
    NULL,
};

static void test_runner_and_venue_orders(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    base(&c, f);
    c.strategy_vtable = &ORDERS_PROBE;
    c.params = NULL;
    c.venue.latency_ns = 20 * TT_NS_PER_MS;
    tt_backtest_result r;
    tt_err err;
    int rc = tt_backtest_run(&c, &r, &err);
    if (rc)
        fail_msg("backtest: %s", err.msg);
    orders_probe *p = &g_probe;
    assert_int_equal(p->seen[0][TT_OS_FILLED], 1);
    assert_int_equal(p->seen[0][TT_OS_REJECTED], 1); /* the late cancel's answer */
    assert_int_equal(p->seen[1][TT_OS_CANCELLED], 1);
    assert_int_equal(p->seen[2][TT_OS_EXPIRED], 1);
    assert_int_equal(p->seen[3][TT_OS_FILLED], 1);
    assert_int_equal(p->deals, 1); /* the stop-loss of order 4's position */
    /* every order event reached the result list, in time order */
    for (size_t i = 1; i < r.norders; i++)
        assert_true(r.orders[i].ts >= r.orders[i - 1].ts);
    tt_backtest_result_free(&r);
}

static void test_config_errors(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    tt_backtest_result r;
    tt_err err;
    base(&c, f);
    c.strategy = "no_such_strategy";
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no_such_strategy"));
    assert_non_null(strstr(err.msg, "sma_cross"));
    tt_backtest_result_free(&r);
    base(&c, f);
    c.params = "fast=10 slwo=30";
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "slwo"));
    tt_backtest_result_free(&r);
    base(&c, f);
    c.params = "fast=ten";
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "fast=ten"));
    tt_backtest_result_free(&r);
    base(&c, f);
    c.symbols[0] = "NOPE";
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "symbols[0]"));
    tt_backtest_result_free(&r);
    base(&c, f);
    c.strategy = "/nonexistent/plugin.so";
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/plugin.so"));
    tt_backtest_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sma_cross_real_data),
        cmocka_unit_test(test_sma_cross_matches_pandas_oracle),
        cmocka_unit_test(test_builtins_real_data),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_risk_rejections),
        cmocka_unit_test(test_time_range_and_buy_and_hold),
        cmocka_unit_test(test_hedging_same_trades),
        cmocka_unit_test(test_daily_loss_halts_until_next_day),
        cmocka_unit_test(test_runner_and_venue_orders),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
