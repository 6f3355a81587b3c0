/*
 * The simulated venue, rule by rule, against hand-computed numbers.
 *
 * A small harness drives the real engine: an array source of hand-made
 * quotes, the venue under test, and a driver component that sends scripted
 * order commands when it sees the n-th quote and records every order event.
 *
 * Conventions used in the comments: EURUSD has 100000 points per unit,
 * volume_step 0.01 and contract 100000, so qty 1 = 0.01 lot = 1000 EUR and one
 * point on qty 100 (1 lot) is 1.00 USD = 100 cents. The account is USD with
 * 10,000.00 (1,000,000 cents) and leverage 100 unless a test says otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/order.h"
#include "core/risk.h"
#include "core/rng.h"
#include "sim/venue.h"

#define MS TT_NS_PER_MS
#define SEC TT_NS_PER_SEC

typedef struct act {
    int at; /* send when the driver sees quote number `at` (0-based) */
    tt_event cmd;
} act;

typedef struct harness {
    tt_instruments *ins;
    tt_engine *e;
    tt_sim_venue *v;
    tt_event q[64];
    int nq, qi;
    act acts[32];
    int nacts, seen;
    tt_event ev[256]; /* order events, in dispatch order */
    int nev;
    tt_event risk[32]; /* TT_EV_RISK outputs */
    int nrisk;
    tt_money swaps_after[64]; /* venue swap total after each quote */
    tt_money balance_after[64];
} harness;

static int src_next(void *self, tt_event *ev, tt_err *err)
{
    harness *h = self;
    (void)err;
    if (h->qi == h->nq)
        return TT_SRC_END;
    *ev = h->q[h->qi++];
    return TT_SRC_EVENT;
}

static void driver(void *self, tt_engine *e, const tt_event *ev)
{
    harness *h = self;
    if (ev->kind == TT_EV_ORDER_EVENT && h->nev < 256)
        h->ev[h->nev++] = *ev;
    if (ev->kind != TT_EV_QUOTE)
        return;
    h->swaps_after[h->seen] = tt_sim_venue_swaps(h->v);
    h->balance_after[h->seen] = tt_portfolio_balance(tt_sim_venue_books(h->v));
    for (int i = 0; i < h->nacts; i++)
        if (h->acts[i].at == h->seen)
            assert_int_equal(tt_engine_submit(e, &h->acts[i].cmd, NULL), 0);
    h->seen++;
}

static int sink_write(void *self, const tt_event *ev, tt_err *err)
{
    harness *h = self;
    (void)err;
    if (ev->kind == TT_EV_RISK && h->nrisk < 32)
        h->risk[h->nrisk++] = *ev;
    return 0;
}

static uint32_t sym(harness *h, const char *s)
{
    const tt_instrument *i = tt_instruments_find(h->ins, s);
    assert_non_null(i);
    return i->id;
}

static void h_init(harness *h, const tt_venue_config *cfg)
{
    memset(h, 0, sizeof *h);
    h->ins = tt_instruments_new();
    assert_non_null(h->ins);
    (void)cfg;
}

static void h_quote(harness *h, tt_ts ts, const char *s, tt_price bid, tt_price ask)
{
    tt_event *e = &h->q[h->nq];
    memset(e, 0, sizeof *e);
    e->ts = e->ts_init = ts;
    e->kind = TT_EV_QUOTE;
    e->cls = TT_CLS_MARKET;
    e->source = 1;
    e->seq = (uint64_t)++h->nq;
    e->symbol = sym(h, s);
    e->u.quote.bid = bid;
    e->u.quote.ask = ask;
}

static tt_event *h_order(harness *h, int at, uint64_t id, const char *s, int side, int type,
                         int64_t qty, tt_price price, tt_price stop, int tif)
{
    act *a = &h->acts[h->nacts++];
    a->at = at;
    memset(&a->cmd, 0, sizeof a->cmd);
    a->cmd.kind = TT_EV_ORDER_CMD;
    a->cmd.symbol = sym(h, s);
    tt_order_cmd *c = &a->cmd.u.order_cmd;
    c->cmd = TT_CMD_SUBMIT;
    c->client_id = id;
    c->side = (int8_t)side;
    c->type = (uint8_t)type;
    c->qty = qty;
    c->price = price;
    c->stop_price = stop;
    c->tif = (uint8_t)tif;
    return &a->cmd;
}

static void h_cmd(harness *h, int at, uint64_t id, const char *s, int kind, tt_price price)
{
    act *a = &h->acts[h->nacts++];
    a->at = at;
    memset(&a->cmd, 0, sizeof a->cmd);
    a->cmd.kind = TT_EV_ORDER_CMD;
    a->cmd.symbol = sym(h, s);
    a->cmd.u.order_cmd.cmd = (uint8_t)kind;
    a->cmd.u.order_cmd.client_id = id;
    a->cmd.u.order_cmd.price = price;
}

static void h_run(harness *h, const tt_venue_config *cfg)
{
    tt_err err;
    assert_int_equal(tt_sim_venue_new(&h->v, h->ins, cfg, &err), 0);
    h->e = tt_engine_new(h->ins);
    assert_non_null(h->e);
    tt_source src = {h, src_next, NULL};
    tt_engine_set_source(h->e, src);
    tt_engine_set_venue(h->e, tt_sim_venue_port(h->v));
    tt_component c = {h, "driver", NULL, driver, NULL};
    tt_engine_add_component(h->e, c);
    tt_sink s = {h, sink_write, NULL, NULL};
    tt_engine_add_sink(h->e, s);
    int rc = tt_engine_run(h->e, &err);
    if (rc)
        fail_msg("run: %s", err.msg);
}

static void h_free(harness *h)
{
    tt_engine_free(h->e);
    tt_sim_venue_free(h->v);
    tt_instruments_free(h->ins);
}

/* The k-th (0-based) order event of a client id (0: venue deals) with a status. */
static const tt_order_event *find_ev(harness *h, uint64_t id, int status, int k, tt_ts *ts)
{
    for (int i = 0; i < h->nev; i++) {
        const tt_order_event *o = &h->ev[i].u.order_ev;
        if (o->client_id == id && o->status == status && k-- == 0) {
            if (ts)
                *ts = h->ev[i].ts;
            return o;
        }
    }
    return NULL;
}

static tt_venue_config base_cfg(void)
{
    tt_venue_config c;
    tt_venue_config_default(&c);
    return c;
}

/* Monday 4 February 2019, 10:00 UTC. */
static tt_ts t0(void) { return tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0); }

/* ---- market orders and latency ---- */

static void test_market_fill_at_ask_after_latency(void **state)
{
    (void)state;
    /* latency 100 ms. Buy sent at t0 arrives at t0+100ms; the quote in force
     * then is the t0+50ms one (bid 1.14440 / ask 1.14450): fill at the ask,
     * 114450, stamped t0+100ms. Sell sent at t0+200ms arrives at t0+300ms
     * (after the last quote): fill at that quote's bid 114460.
     * Realized: (114460 - 114450) = 10 points on 1 lot = 10.00 USD = 1000 cents. */
    harness h;
    tt_venue_config cfg = base_cfg();
    cfg.latency_ns = 100 * MS;
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + 50 * MS, "EURUSD", 114440, 114450);
    h_quote(&h, t + 200 * MS, "EURUSD", 114460, 114470);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 2, 2, "EURUSD", TT_SELL, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    tt_ts ts;
    assert_non_null(find_ev(&h, 1, TT_OS_ACCEPTED, 0, &ts));
    assert_int_equal(ts, t + 100 * MS);
    const tt_order_event *f = find_ev(&h, 1, TT_OS_FILLED, 0, &ts);
    assert_non_null(f);
    assert_int_equal(f->fill_price, 114450);
    assert_int_equal(f->fill_qty, 100);
    assert_int_equal(ts, t + 100 * MS);
    f = find_ev(&h, 2, TT_OS_FILLED, 0, &ts);
    assert_non_null(f);
    assert_int_equal(f->fill_price, 114460);
    assert_int_equal(ts, t + 300 * MS);
    assert_int_equal(tt_portfolio_balance(tt_sim_venue_books(h.v)), 1000000 + 1000);
    assert_int_equal(tt_portfolio_count(tt_sim_venue_books(h.v)), 0);
    h_free(&h);
}

/* ---- limit orders ---- */

static void test_limit_trigger(void **state)
{
    (void)state;
    /* order 1: buy limit 1.14400 rests (ask 114430 above it); q1 ask 114415 still
     * above; q2 ask 114400 reaches it: fills at the limit price 114400 at t0+2s.
     * order 2: buy limit 1.14500 is marketable on arrival (ask 114430): fills at
     * the better quote 114430 at once.
     * order 3: buy limit 1.14350 sent at q1 rests; q3 gaps through it (ask
     * 114310): a resting limit fills at its own price, 114350. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + 1 * SEC, "EURUSD", 114405, 114415);
    h_quote(&h, t + 2 * SEC, "EURUSD", 114395, 114400);
    h_quote(&h, t + 3 * SEC, "EURUSD", 114300, 114310);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_LIMIT, 10, 114400, 0, TT_TIF_GTC);
    h_order(&h, 0, 2, "EURUSD", TT_BUY, TT_ORD_LIMIT, 10, 114500, 0, TT_TIF_GTC);
    h_order(&h, 1, 3, "EURUSD", TT_BUY, TT_ORD_LIMIT, 10, 114350, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    tt_ts ts;
    const tt_order_event *f = find_ev(&h, 1, TT_OS_FILLED, 0, &ts);
    assert_non_null(f);
    assert_int_equal(f->fill_price, 114400);
    assert_int_equal(ts, t + 2 * SEC);
    f = find_ev(&h, 2, TT_OS_FILLED, 0, &ts);
    assert_non_null(f);
    assert_int_equal(f->fill_price, 114430);
    assert_int_equal(ts, t);
    f = find_ev(&h, 3, TT_OS_FILLED, 0, &ts);
    assert_non_null(f);
    assert_int_equal(f->fill_price, 114350);
    assert_int_equal(ts, t + 3 * SEC);
    h_free(&h);
}

/* ---- stops and gaps ---- */

static void test_stop_gap_fills_worse(void **state)
{
    (void)state;
    /* order 1: buy stop 1.14500. q1 ask 114480 is below; q2 gaps to ask 114560:
     * fills at the quote 114560, 60 points worse than the stop.
     * order 2: sell stop 1.14400 sent at q2; q3 gaps to bid 114300: fills at
     * 114300, 100 points worse. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + 1 * SEC, "EURUSD", 114470, 114480);
    h_quote(&h, t + 2 * SEC, "EURUSD", 114550, 114560);
    h_quote(&h, t + 3 * SEC, "EURUSD", 114300, 114310);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_STOP, 10, 0, 114500, TT_TIF_GTC);
    h_order(&h, 2, 2, "EURUSD", TT_SELL, TT_ORD_STOP, 10, 0, 114400, TT_TIF_GTC);
    h_run(&h, &cfg);
    tt_ts ts;
    const tt_order_event *f = find_ev(&h, 1, TT_OS_FILLED, 0, &ts);
    assert_non_null(f);
    assert_int_equal(f->fill_price, 114560);
    assert_int_equal(ts, t + 2 * SEC);
    f = find_ev(&h, 2, TT_OS_FILLED, 0, &ts);
    assert_non_null(f);
    assert_int_equal(f->fill_price, 114300);
    assert_int_equal(ts, t + 3 * SEC);
    h_free(&h);
}

static void test_stop_limit(void **state)
{
    (void)state;
    /* buy stop-limit: stop 1.14450, limit 1.14460. q1 ask 114455 triggers it and
     * is within the limit: fills at the quote 114455 (placed as a limit now,
     * marketable). A second one, stop 1.14450 limit 1.14452, triggers at q1 but
     * 114455 > 114452: it rests as a limit and fills at 114452 when q2 has
     * ask 114440. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + 1 * SEC, "EURUSD", 114445, 114455);
    h_quote(&h, t + 2 * SEC, "EURUSD", 114430, 114440);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_STOP_LIMIT, 10, 114460, 114450, TT_TIF_GTC);
    h_order(&h, 0, 2, "EURUSD", TT_BUY, TT_ORD_STOP_LIMIT, 10, 114452, 114450, TT_TIF_GTC);
    h_run(&h, &cfg);
    tt_ts ts;
    const tt_order_event *f = find_ev(&h, 1, TT_OS_FILLED, 0, &ts);
    assert_non_null(f);
    assert_int_equal(f->fill_price, 114455);
    assert_int_equal(ts, t + 1 * SEC);
    f = find_ev(&h, 2, TT_OS_FILLED, 0, &ts);
    assert_non_null(f);
    assert_int_equal(f->fill_price, 114452);
    assert_int_equal(ts, t + 2 * SEC);
    h_free(&h);
}

static void test_attached_sl_tp(void **state)
{
    (void)state;
    /* long 1 lot at ask 114430 with stop-loss 1.14300 (order 1). q1 bid 114350
     * is above; q2 gaps to bid 114250: the stop-loss closes at the quote 114250,
     * a venue deal (client 0, venue_id = ticket 1). Loss 180 points on 1 lot
     * = -180.00 USD = -18000 cents.
     * Then long 1 lot (order 2) at q2's ask 114260 with take-profit 1.14300:
     * q3 bid 114320 passes it: closes at the take-profit price 114300:
     * +40 points = +4000 cents. Balance 1,000,000 - 18000 + 4000 = 986000. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + 1 * SEC, "EURUSD", 114350, 114360);
    h_quote(&h, t + 2 * SEC, "EURUSD", 114250, 114260);
    h_quote(&h, t + 3 * SEC, "EURUSD", 114320, 114330);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC)
        ->u.order_cmd.stop_loss = 114300;
    h_order(&h, 2, 2, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC)
        ->u.order_cmd.take_profit = 114300;
    h_run(&h, &cfg);
    tt_ts ts;
    const tt_order_event *sl = find_ev(&h, 0, TT_OS_FILLED, 0, &ts);
    assert_non_null(sl);
    assert_int_equal(sl->reason, TT_REASON_STOP_LOSS);
    assert_int_equal(sl->venue_id, 1);
    assert_int_equal(sl->fill_price, 114250);
    assert_int_equal(sl->side, TT_SELL);
    assert_int_equal(ts, t + 2 * SEC);
    const tt_order_event *tp = find_ev(&h, 0, TT_OS_FILLED, 1, &ts);
    assert_non_null(tp);
    assert_int_equal(tp->reason, TT_REASON_TAKE_PROFIT);
    assert_int_equal(tp->venue_id, 2);
    assert_int_equal(tp->fill_price, 114300);
    assert_int_equal(tt_portfolio_balance(tt_sim_venue_books(h.v)), 986000);
    h_free(&h);
}

/* ---- slippage ---- */

static void test_slippage_fixed(void **state)
{
    (void)state;
    /* 3 points against the trader: buy at ask 114430 + 3 = 114433; sell at
     * bid 114440 - 3 = 114437. P&L 4 points on 1 lot = 400 cents. */
    harness h;
    tt_venue_config cfg = base_cfg();
    cfg.slippage = TT_SLIP_FIXED;
    cfg.slippage_points = 3;
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + SEC, "EURUSD", 114440, 114450);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 1, 2, "EURUSD", TT_SELL, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    assert_int_equal(find_ev(&h, 1, TT_OS_FILLED, 0, NULL)->fill_price, 114433);
    assert_int_equal(find_ev(&h, 2, TT_OS_FILLED, 0, NULL)->fill_price, 114437);
    assert_int_equal(tt_portfolio_balance(tt_sim_venue_books(h.v)), 1000000 + 400);
    h_free(&h);
}

static void test_slippage_random(void **state)
{
    (void)state;
    /* uniform in [0, 5] points from the stream "venue/slippage" of seed 42:
     * the k-th draw is tt_rng_bounded(stream, 6). Ten buys at ask 114430. */
    harness h;
    tt_venue_config cfg = base_cfg();
    cfg.slippage = TT_SLIP_RANDOM;
    cfg.slippage_points = 5;
    cfg.seed = 42;
    h_init(&h, &cfg);
    tt_ts t = t0();
    for (int i = 0; i < 10; i++) {
        h_quote(&h, t + i * SEC, "EURUSD", 114420, 114430);
        h_order(&h, i, (uint64_t)i + 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 1, 0, 0, TT_TIF_GTC);
    }
    h_run(&h, &cfg);
    tt_rng r;
    tt_rng_seed_named(&r, 42, "venue/slippage");
    int distinct = 0;
    tt_price first = 0;
    for (int i = 0; i < 10; i++) {
        tt_price px = find_ev(&h, (uint64_t)i + 1, TT_OS_FILLED, 0, NULL)->fill_price;
        assert_int_equal(px, 114430 + (tt_price)tt_rng_bounded(&r, 6));
        assert_true(px >= 114430 && px <= 114435);
        if (i == 0)
            first = px;
        else if (px != first)
            distinct = 1;
    }
    assert_true(distinct);
    h_free(&h);
}

/* ---- commission ---- */

static void test_commission_per_lot(void **state)
{
    (void)state;
    /* 7.00 USD per lot per side. 0.5 lot in and out: 2 x 350 = 700 cents.
     * Price result: bought at 114430, sold at 114420: -10 points on 0.5 lot
     * = -5.00 USD = -500. Balance 1,000,000 - 500 - 700 = 998800. */
    harness h;
    tt_venue_config cfg = base_cfg();
    cfg.commission = TT_COMM_PER_LOT;
    cfg.commission_per_lot = 700;
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + SEC, "EURUSD", 114420, 114430);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 50, 0, 0, TT_TIF_GTC);
    h_order(&h, 1, 2, "EURUSD", TT_SELL, TT_ORD_MARKET, 50, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    assert_int_equal(find_ev(&h, 1, TT_OS_FILLED, 0, NULL)->commission, 350);
    assert_int_equal(find_ev(&h, 2, TT_OS_FILLED, 0, NULL)->commission, 350);
    assert_int_equal(tt_sim_venue_commissions(h.v), 700);
    assert_int_equal(tt_portfolio_balance(tt_sim_venue_books(h.v)), 998800);
    h_free(&h);
}

static void test_commission_per_notional(void **state)
{
    (void)state;
    /* 0.002% of notional per side (20 USD per million).
     * EURUSD 1 lot at 1.14430: notional 114,430 USD -> 2.2886 USD -> 229 cents.
     * USDJPY 1 lot at 110.010: notional 11,001,000 JPY -> 220.02 JPY, at the
     * USDJPY mid 110.005 -> 2.000091 USD -> 200 cents. */
    harness h;
    tt_venue_config cfg = base_cfg();
    cfg.commission = TT_COMM_PER_NOTIONAL;
    cfg.commission_rate = 0.00002;
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + SEC, "USDJPY", 110000, 110010);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 1, 2, "USDJPY", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    assert_int_equal(find_ev(&h, 1, TT_OS_FILLED, 0, NULL)->commission, 229);
    assert_int_equal(find_ev(&h, 2, TT_OS_FILLED, 0, NULL)->commission, 200);
    h_free(&h);
}

/* ---- swaps ---- */

static void set_swaps(harness *h, const char *s, double lng, double sht)
{
    tt_instrument x = *tt_instruments_find(h->ins, s);
    x.swap_long = lng;
    x.swap_short = sht;
    assert_int_equal(tt_instruments_put(h->ins, &x, NULL), 0);
}

static void test_swap_wednesday_triple_winter(void **state)
{
    (void)state;
    /* EURUSD swap_long -6.2 points per lot per night. 6 February 2019 is a
     * Wednesday; New York is on EST (UTC-5), so 17:00 New York = 22:00 UTC.
     * Long 1 lot opened 20:00 UTC. At 21:59:59 no swap yet. At 22:00:00 the
     * Wednesday rollover charges 3 nights: -6.2 x 3 = -18.6 points x 1 lot
     * = -18.60 USD = -1860 cents. Thursday 22:00 UTC: -6.20 USD = -620.
     * Total -2480. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    set_swaps(&h, "EURUSD", -6.2, 1.1);
    h_quote(&h, tt_ts_from_civil(2019, 2, 6, 20, 0, 0, 0), "EURUSD", 114420, 114430);
    h_quote(&h, tt_ts_from_civil(2019, 2, 6, 21, 59, 59, 0), "EURUSD", 114420, 114430);
    h_quote(&h, tt_ts_from_civil(2019, 2, 6, 22, 0, 0, 0), "EURUSD", 114420, 114430);
    h_quote(&h, tt_ts_from_civil(2019, 2, 7, 21, 0, 0, 0), "EURUSD", 114420, 114430);
    h_quote(&h, tt_ts_from_civil(2019, 2, 7, 22, 0, 0, 0), "EURUSD", 114420, 114430);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    assert_int_equal(h.swaps_after[1], 0);
    assert_int_equal(h.swaps_after[2], -1860);
    assert_int_equal(h.swaps_after[3], -1860);
    assert_int_equal(h.swaps_after[4], -2480);
    assert_int_equal(tt_portfolio_balance(tt_sim_venue_books(h.v)), 1000000 - 2480);
    h_free(&h);
}

static void test_swap_summer_dst_short(void **state)
{
    (void)state;
    /* 3 July 2019 is a Wednesday under EDT (UTC-4): rollover at 21:00 UTC.
     * Short 1 lot with swap_short +1.1: at 20:59:59 nothing, at 21:00:00
     * +1.1 x 3 = +3.30 USD = +330 cents. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    set_swaps(&h, "EURUSD", -6.2, 1.1);
    h_quote(&h, tt_ts_from_civil(2019, 7, 3, 12, 0, 0, 0), "EURUSD", 112820, 112830);
    h_quote(&h, tt_ts_from_civil(2019, 7, 3, 20, 59, 59, 0), "EURUSD", 112820, 112830);
    h_quote(&h, tt_ts_from_civil(2019, 7, 3, 21, 0, 0, 0), "EURUSD", 112820, 112830);
    h_order(&h, 0, 1, "EURUSD", TT_SELL, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    assert_int_equal(h.swaps_after[1], 0);
    assert_int_equal(h.swaps_after[2], 330);
    h_free(&h);
}

/* ---- conversion ---- */

static void test_conversion_usdjpy_and_eurgbp(void **state)
{
    (void)state;
    /* USDJPY (P&L in JPY): bought 1 lot at ask 110.010, sold at bid 110.500:
     * 490 points / 1000 = 0.490 JPY per USD x 100,000 = 49,000 JPY. Converted
     * through USDJPY's mid at the close, (110.500 + 110.510) / 2 = 110.505:
     * 49000 / 110.505 = 443.4188 USD -> 44342 cents.
     * EURGBP (P&L in GBP, converted through GBPUSD): bought at ask 0.86010,
     * sold at bid 0.86110: 100 points = 0.00100 x 100,000 = 100 GBP; GBPUSD mid
     * (1.29995 + 1.30005) / 2 = 1.30000: 130.00 USD = 13000 cents.
     * An EURCHF order with no USDCHF quote cannot be valued: REJECTED, no_rate. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "USDJPY", 110000, 110010);
    h_quote(&h, t + 1 * SEC, "USDJPY", 110500, 110510);
    h_quote(&h, t + 2 * SEC, "GBPUSD", 129995, 130005);
    h_quote(&h, t + 3 * SEC, "EURGBP", 86000, 86010);
    h_quote(&h, t + 4 * SEC, "EURGBP", 86110, 86120);
    h_quote(&h, t + 5 * SEC, "EURCHF", 113000, 113010);
    h_order(&h, 0, 1, "USDJPY", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 1, 2, "USDJPY", TT_SELL, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 3, 3, "EURGBP", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 4, 4, "EURGBP", TT_SELL, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 5, 5, "EURCHF", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    assert_int_equal(h.balance_after[2], 1000000 + 44342);
    assert_int_equal(tt_portfolio_balance(tt_sim_venue_books(h.v)), 1000000 + 44342 + 13000);
    const tt_order_event *r = find_ev(&h, 5, TT_OS_REJECTED, 0, NULL);
    assert_non_null(r);
    assert_int_equal(r->reason, TT_REASON_NO_RATE);
    h_free(&h);
}

/* ---- margin ---- */

static void test_margin_and_no_money(void **state)
{
    (void)state;
    /* 1 lot EURUSD at leverage 100, mid 1.14425: 100,000 x 1.14425 / 100
     * = 1,144.25 USD = 114425 cents of margin.
     * With a 1,000.00 USD account (100000 cents) the same order needs more
     * margin than the equity: REJECTED, no_money. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    h_quote(&h, t0(), "EURUSD", 114420, 114430);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    tt_account a;
    tt_portfolio_account(tt_sim_venue_books(h.v), &a);
    assert_int_equal(a.margin, 114425);
    /* equity: bid 114420 against 114430 = -10 points = -1000 cents */
    assert_int_equal(a.equity, 1000000 - 1000);
    h_free(&h);

    cfg.account.initial_balance = 100000;
    h_init(&h, &cfg);
    h_quote(&h, t0(), "EURUSD", 114420, 114430);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    const tt_order_event *r = find_ev(&h, 1, TT_OS_REJECTED, 0, NULL);
    assert_non_null(r);
    assert_int_equal(r->reason, TT_REASON_NO_MONEY);
    h_free(&h);
}

/* The margin-call tests' account story: risk event 0 is the margin call
 * (level call_pct, at call_ts), order 2 (sent under it) is rejected for it,
 * risk event 1 is the stop-out (level so_pct, at so_ts), which closes order
 * 1's position at so_price and leaves balance. */
static void check_call_then_stop_out(harness *h, tt_ts call_ts, double call_pct, tt_ts so_ts,
                                     double so_pct, int64_t so_price, int64_t balance)
{
    assert_int_equal(h->risk[0].u.risk.rule, TT_RULE_MARGIN_CALL);
    assert_true(fabs(h->risk[0].u.risk.value - call_pct) < 1e-9);
    assert_int_equal(h->risk[0].ts, call_ts);
    const tt_order_event *r = find_ev(h, 2, TT_OS_REJECTED, 0, NULL);
    assert_non_null(r);
    assert_int_equal(r->reason, TT_REASON_MARGIN_CALL);
    assert_int_equal(h->risk[1].u.risk.rule, TT_RULE_STOP_OUT);
    assert_true(fabs(h->risk[1].u.risk.value - so_pct) < 1e-9);
    assert_int_equal(h->risk[1].ts, so_ts);
    tt_ts ts;
    const tt_order_event *so = find_ev(h, 0, TT_OS_FILLED, 0, &ts);
    assert_non_null(so);
    assert_int_equal(so->reason, TT_REASON_STOP_OUT);
    assert_int_equal(so->fill_price, so_price);
    assert_int_equal(ts, so_ts);
    assert_int_equal(tt_portfolio_balance(tt_sim_venue_books(h->v)), balance);
    assert_int_equal(tt_sim_venue_stop_outs(h->v), 1);
}

static void test_margin_call_and_stop_out(void **state)
{
    (void)state;
    /* 1,200.00 USD account (120000 cents), margin call 100%, stop-out 50%.
     * q0: buy 1 lot at ask 114430.
     * q1 bid 114360 / ask 114370: unrealized -70 points = -7000 -> equity
     *    113000; margin at mid 1.14365 = 114365; level 113000 / 114365
     *    = 98.806% <= 100: margin call (risk event). An order sent now to add
     *    0.1 lot is REJECTED with margin_call.
     * q2 bid 113860 / ask 113870: equity 120000 - 57000 = 63000, margin 113865,
     *    level 55.33%: above the stop-out, nothing happens.
     * q3 bid 113760 / ask 113770: equity 53000, margin 113765, level 46.587%
     *    <= 50: stop-out closes the position at the bid 113760 (venue deal,
     *    reason stop_out). Balance 120000 - 67000 = 53000. */
    harness h;
    tt_venue_config cfg = base_cfg();
    cfg.account.initial_balance = 120000;
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + 1 * SEC, "EURUSD", 114360, 114370);
    h_quote(&h, t + 2 * SEC, "EURUSD", 113860, 113870);
    h_quote(&h, t + 3 * SEC, "EURUSD", 113760, 113770);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 1, 2, "EURUSD", TT_BUY, TT_ORD_MARKET, 10, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    assert_true(h.nrisk >= 2);
    check_call_then_stop_out(&h, t + 1 * SEC, 113000.0 / 114365.0 * 100.0, t + 3 * SEC,
                             53000.0 / 113765.0 * 100.0, 113760, 53000);
    assert_int_equal(h.balance_after[2], 120000); /* nothing closed at q2 */
    h_free(&h);
}

/* The per-quote margin screen keeps the books' box between quotes and hands
 * the books their quotes lazily: a slow slide through many quotes, with
 * another symbol's quotes in between, must still raise the margin call and
 * the stop-out on exactly the quote that crosses each level. */
static void test_stop_out_through_many_quotes(void **state)
{
    (void)state;
    /* 1,200.00 USD, buy 1 lot at ask 114430 on q0. EURUSD quote k has bid
     * 114420 - 30 k, ask bid + 10; a GBPUSD quote follows each. Equity
     * 120000 + 100 (bid - 114430), margin bid + 5 (the mid in cents):
     * margin call (<= 100%) first at k = 2 (bid 114360: 113000 / 114365),
     * stop-out (<= 50%) first at k = 21 (bid 113790: 56000 / 113795; k = 20
     * gives 59000 / 113825 = 51.8%). An order adding 0.1 lot sent at k = 4
     * is rejected (margin call in force). */
    harness h;
    tt_venue_config cfg = base_cfg();
    cfg.account.initial_balance = 120000;
    h_init(&h, &cfg);
    tt_ts t = t0();
    for (int k = 0; k <= 21; k++) {
        h_quote(&h, t + (2 * k) * SEC, "EURUSD", 114420 - 30 * k, 114430 - 30 * k);
        if (k < 21)
            h_quote(&h, t + (2 * k + 1) * SEC, "GBPUSD", 130500 + (k % 3), 130510 + (k % 3));
    }
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 8, 2, "EURUSD", TT_BUY, TT_ORD_MARKET, 10, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    assert_int_equal(h.nrisk, 2);
    check_call_then_stop_out(&h, t + 4 * SEC, 113000.0 / 114365.0 * 100.0, t + 42 * SEC,
                             56000.0 / 113795.0 * 100.0, 113790, 56000);
    assert_int_equal(h.balance_after[41], 120000); /* nothing closed before */
    h_free(&h);
}

/* Quotes that need nothing from the venue are skipped against a per-symbol
 * box; an order arriving, resting and triggering must void those boxes: a
 * resting limit still fills on exactly the quote that reaches it, and once
 * flat the account needs nothing again. */
static void test_resting_order_while_quotes_go_by(void **state)
{
    (void)state;
    /* EURUSD quote k: bid 114420 + 5 k, ask bid + 10; a GBPUSD quote after
     * each. q0 (k = 0): buy 10 at market, filled at the ask 114430. At k = 3
     * (bid 114435) a sell limit 10 at 114460 arrives and rests; it fills at
     * k = 8 (bid 114460 >= 114460) at its price, which closes the position:
     * P&L (114460 - 114430) x 10 = 300 cents. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    tt_ts t = t0();
    for (int k = 0; k <= 12; k++) {
        h_quote(&h, t + (2 * k) * SEC, "EURUSD", 114420 + 5 * k, 114430 + 5 * k);
        h_quote(&h, t + (2 * k + 1) * SEC, "GBPUSD", 130500 - k, 130510 - k);
    }
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 10, 0, 0, TT_TIF_GTC);
    h_order(&h, 6, 2, "EURUSD", TT_SELL, TT_ORD_LIMIT, 10, 114460, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    tt_ts ts;
    const tt_order_event *f1 = find_ev(&h, 1, TT_OS_FILLED, 0, &ts);
    assert_non_null(f1);
    assert_int_equal(f1->fill_price, 114430);
    assert_int_equal(ts, t);
    assert_non_null(find_ev(&h, 2, TT_OS_ACCEPTED, 0, NULL));
    const tt_order_event *f2 = find_ev(&h, 2, TT_OS_FILLED, 0, &ts);
    assert_non_null(f2);
    assert_int_equal(f2->fill_price, 114460);
    assert_int_equal(ts, t + 16 * SEC);
    assert_int_equal(h.balance_after[14], 1000000); /* k = 7: still open */
    assert_int_equal(h.balance_after[16], 1000300); /* k = 8: the venue acts before the driver */
    assert_int_equal(tt_portfolio_count(tt_sim_venue_books(h.v)), 0);
    assert_int_equal(tt_portfolio_balance(tt_sim_venue_books(h.v)), 1000000 + 300);
    assert_int_equal(h.nrisk, 0);
    h_free(&h);
}

/* ---- netting and hedging ---- */

static void test_netting(void **state)
{
    (void)state;
    /* q0 buy 1 lot at 114430. q1 sell 0.4 lot at bid 114440: closes 0.4,
     * +10 points x 0.4 lot = +4.00 USD = 400. q2 sell 1 lot at bid 114460:
     * closes the remaining 0.6 (+30 points x 0.6 = +18.00 = 1800) and reverses:
     * one short position of 0.4 lot at 114460. Balance 1,002,200. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + 1 * SEC, "EURUSD", 114440, 114450);
    h_quote(&h, t + 2 * SEC, "EURUSD", 114460, 114470);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 1, 2, "EURUSD", TT_SELL, TT_ORD_MARKET, 40, 0, 0, TT_TIF_GTC);
    h_order(&h, 2, 3, "EURUSD", TT_SELL, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_run(&h, &cfg);
    const tt_portfolio *b = tt_sim_venue_books(h.v);
    assert_int_equal(tt_portfolio_count(b), 1);
    const tt_position *x = tt_portfolio_position(b, 0);
    assert_int_equal(x->side, TT_SELL);
    assert_int_equal(x->qty, 40);
    assert_int_equal(x->cost, 114460 * 40);
    assert_int_equal(x->ticket, 3);
    assert_int_equal(tt_portfolio_balance(b), 1002200);
    h_free(&h);
}

static void test_hedging(void **state)
{
    (void)state;
    /* Same orders in hedging mode: the sell of 0.4 lot opens a second (short)
     * position; a sell of 1 lot naming position 1 closes the long at 114460:
     * +30 points x 1 lot = +3000. Left: the short 0.4 lot (ticket 2).
     * A close naming a ticket that is not open is REJECTED, no_position. */
    harness h;
    tt_venue_config cfg = base_cfg();
    cfg.account.mode = TT_MODE_HEDGING;
    h_init(&h, &cfg);
    tt_ts t = t0();
    h_quote(&h, t, "EURUSD", 114420, 114430);
    h_quote(&h, t + 1 * SEC, "EURUSD", 114440, 114450);
    h_quote(&h, t + 2 * SEC, "EURUSD", 114460, 114470);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 1, 2, "EURUSD", TT_SELL, TT_ORD_MARKET, 40, 0, 0, TT_TIF_GTC);
    h_order(&h, 2, 3, "EURUSD", TT_SELL, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC)
        ->u.order_cmd.position = 1;
    h_order(&h, 2, 4, "EURUSD", TT_BUY, TT_ORD_MARKET, 10, 0, 0, TT_TIF_GTC)
        ->u.order_cmd.position = 99;
    h_run(&h, &cfg);
    const tt_portfolio *b = tt_sim_venue_books(h.v);
    assert_int_equal(tt_portfolio_count(b), 1);
    const tt_position *x = tt_portfolio_position(b, 0);
    assert_int_equal(x->ticket, 2);
    assert_int_equal(x->side, TT_SELL);
    assert_int_equal(x->qty, 40);
    assert_int_equal(tt_portfolio_balance(b), 1003000);
    assert_int_equal(find_ev(&h, 3, TT_OS_FILLED, 0, NULL)->venue_id, 1);
    const tt_order_event *r = find_ev(&h, 4, TT_OS_REJECTED, 0, NULL);
    assert_non_null(r);
    assert_int_equal(r->reason, TT_REASON_NO_POSITION);
    h_free(&h);
}

/* ---- partial fills, IOC, FOK, GTD, cancel, modify ---- */

static void test_partial_fills_ioc_fok(void **state)
{
    (void)state;
    /* at most 30 qty per quote. Order 1 (GTC, 100): 30 at arrival on q0, then 30
     * on q1, 30 on q2, 10 on q3: three PARTIALLY_FILLED (leaves 70, 40, 10) and
     * a FILLED. Order 2 (IOC, 100) at q3: 30 filled, the 70 left cancelled (ioc).
     * Order 3 (FOK, 100): cannot fill whole: REJECTED (fok). Order 4 (FOK, 20):
     * FILLED in one go. */
    harness h;
    tt_venue_config cfg = base_cfg();
    cfg.max_fill_qty = 30;
    h_init(&h, &cfg);
    tt_ts t = t0();
    for (int i = 0; i < 4; i++)
        h_quote(&h, t + i * SEC, "EURUSD", 114420, 114430);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_GTC);
    h_order(&h, 3, 2, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_IOC);
    h_order(&h, 3, 3, "EURUSD", TT_BUY, TT_ORD_MARKET, 100, 0, 0, TT_TIF_FOK);
    h_order(&h, 3, 4, "EURUSD", TT_BUY, TT_ORD_MARKET, 20, 0, 0, TT_TIF_FOK);
    h_run(&h, &cfg);
    int64_t leaves[3] = {70, 40, 10};
    for (int k = 0; k < 3; k++) {
        tt_ts ts;
        const tt_order_event *p = find_ev(&h, 1, TT_OS_PARTIALLY_FILLED, k, &ts);
        assert_non_null(p);
        assert_int_equal(p->fill_qty, 30);
        assert_int_equal(p->leaves_qty, leaves[k]);
        assert_int_equal(ts, t + k * SEC);
    }
    const tt_order_event *f = find_ev(&h, 1, TT_OS_FILLED, 0, NULL);
    assert_int_equal(f->fill_qty, 10);
    assert_int_equal(f->leaves_qty, 0);
    assert_int_equal(find_ev(&h, 2, TT_OS_PARTIALLY_FILLED, 0, NULL)->fill_qty, 30);
    const tt_order_event *c = find_ev(&h, 2, TT_OS_CANCELLED, 0, NULL);
    assert_non_null(c);
    assert_int_equal(c->reason, TT_REASON_IOC);
    assert_int_equal(c->leaves_qty, 70);
    const tt_order_event *r = find_ev(&h, 3, TT_OS_REJECTED, 0, NULL);
    assert_non_null(r);
    assert_int_equal(r->reason, TT_REASON_FOK);
    assert_int_equal(find_ev(&h, 4, TT_OS_FILLED, 0, NULL)->fill_qty, 20);
    assert_int_equal(tt_portfolio_net_qty(tt_sim_venue_books(h.v), 1), 100 + 30 + 20);
    h_free(&h);
}

static void test_gtd_cancel_modify(void **state)
{
    (void)state;
    /* order 1: buy limit 1.14000 GTD until t0+2s: EXPIRED (gtd) on the q2 at t0+2s.
     * order 2: buy limit 1.14000 GTC, cancelled at q1: CANCELLED (cancel).
     * order 3: buy limit 1.14000 GTC, modified at q1 to 1.14500 (marketable):
     * MODIFIED, then FILLED at the ask 114430 at t0+1s. */
    harness h;
    tt_venue_config cfg = base_cfg();
    h_init(&h, &cfg);
    tt_ts t = t0();
    for (int i = 0; i < 3; i++)
        h_quote(&h, t + i * SEC, "EURUSD", 114420, 114430);
    h_order(&h, 0, 1, "EURUSD", TT_BUY, TT_ORD_LIMIT, 10, 114000, 0, TT_TIF_GTD)
        ->u.order_cmd.expire_ts = t + 2 * SEC;
    h_order(&h, 0, 2, "EURUSD", TT_BUY, TT_ORD_LIMIT, 10, 114000, 0, TT_TIF_GTC);
    h_order(&h, 0, 3, "EURUSD", TT_BUY, TT_ORD_LIMIT, 10, 114000, 0, TT_TIF_GTC);
    h_cmd(&h, 1, 2, "EURUSD", TT_CMD_CANCEL, 0);
    h_cmd(&h, 1, 3, "EURUSD", TT_CMD_MODIFY, 114500);
    h_cmd(&h, 2, 77, "EURUSD", TT_CMD_CANCEL, 0);
    h_run(&h, &cfg);
    tt_ts ts;
    const tt_order_event *x = find_ev(&h, 1, TT_OS_EXPIRED, 0, &ts);
    assert_non_null(x);
    assert_int_equal(x->reason, TT_REASON_GTD);
    assert_int_equal(ts, t + 2 * SEC);
    x = find_ev(&h, 2, TT_OS_CANCELLED, 0, &ts);
    assert_non_null(x);
    assert_int_equal(x->reason, TT_REASON_CANCEL_REQUEST);
    assert_int_equal(ts, t + 1 * SEC);
    assert_non_null(find_ev(&h, 3, TT_OS_MODIFIED, 0, NULL));
    x = find_ev(&h, 3, TT_OS_FILLED, 0, &ts);
    assert_non_null(x);
    assert_int_equal(x->fill_price, 114430);
    assert_int_equal(ts, t + 1 * SEC);
    x = find_ev(&h, 77, TT_OS_REJECTED, 0, NULL);
    assert_non_null(x);
    assert_int_equal(x->reason, TT_REASON_UNKNOWN_ORDER);
    h_free(&h);
}

static void test_config_errors(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    tt_venue_config cfg = base_cfg();
    tt_sim_venue *v;
    tt_err err;
    cfg.latency_ns = -1;
    assert_int_equal(tt_sim_venue_new(&v, ins, &cfg, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "latency"));
    cfg = base_cfg();
    cfg.stop_out_level = 120;
    assert_int_equal(tt_sim_venue_new(&v, ins, &cfg, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "stop_out"));
    cfg = base_cfg();
    memcpy(cfg.account.currency, "US", 3);
    assert_int_equal(tt_sim_venue_new(&v, ins, &cfg, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "currency"));
    assert_int_equal(tt_slippage_model_parse("random"), TT_SLIP_RANDOM);
    assert_int_equal(tt_commission_model_parse("per_lot"), TT_COMM_PER_LOT);
    assert_int_equal(tt_position_mode_parse("hedging"), TT_MODE_HEDGING);
    assert_int_equal(tt_position_mode_parse("both"), -1);
    tt_instruments_free(ins);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market_fill_at_ask_after_latency),
        cmocka_unit_test(test_limit_trigger),
        cmocka_unit_test(test_stop_gap_fills_worse),
        cmocka_unit_test(test_stop_limit),
        cmocka_unit_test(test_attached_sl_tp),
        cmocka_unit_test(test_slippage_fixed),
        cmocka_unit_test(test_slippage_random),
        cmocka_unit_test(test_commission_per_lot),
        cmocka_unit_test(test_commission_per_notional),
        cmocka_unit_test(test_swap_wednesday_triple_winter),
        cmocka_unit_test(test_swap_summer_dst_short),
        cmocka_unit_test(test_conversion_usdjpy_and_eurgbp),
        cmocka_unit_test(test_margin_and_no_money),
        cmocka_unit_test(test_margin_call_and_stop_out),
        cmocka_unit_test(test_stop_out_through_many_quotes),
        cmocka_unit_test(test_resting_order_while_quotes_go_by),
        cmocka_unit_test(test_netting),
        cmocka_unit_test(test_hedging),
        cmocka_unit_test(test_partial_fills_ioc_fok),
        cmocka_unit_test(test_gtd_cancel_modify),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
