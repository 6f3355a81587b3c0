/*
 * The mt5-sim broker model (live/mt5_sim.h): each MT5 rule with numbers
 * worked out by hand in the comments (EURUSD, 5 digits, contract 100,000,
 * step 0.01 lot; a point is 0.00001 and 1 lot x 1 point = 1.00 USD), every
 * retcode the model and its faults give, the deals' entries, profits,
 * commissions and swaps, the order states, QUERY and HISTORY, and the deal
 * log read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/instrument.h"
#include "live/mt5_sim.h"

#define DEC(x) ((tt_mt5_dec)((x) * 1e8 + ((x) < 0 ? -0.5 : 0.5)))
#define T0 1549332000000LL /* Tue 5 Feb 2019 02:00 server (00:00 UTC) */

typedef struct rec {
    tt_mt5_deal deals[64];
    int ndeals;
    tt_mt5_state states[64];
    int nstates;
} rec;

static void on_deal(void *ctx, const tt_mt5_deal *d)
{
    rec *r = ctx;
    if (r->ndeals < 64)
        r->deals[r->ndeals++] = *d;
}

static void on_state(void *ctx, const tt_mt5_state *st)
{
    rec *r = ctx;
    if (r->nstates < 64)
        r->states[r->nstates++] = *st;
}

typedef struct env {
    tt_instruments *ins;
    tt_mt5_sim *s;
    uint32_t eur;
    rec r;
    int64_t t;
} env;

static env *env_new(const tt_mt5_sim_config *c)
{
    env *e = calloc(1, sizeof *e);
    e->ins = tt_instruments_new();
    const tt_instrument *in = tt_instruments_find(e->ins, "EURUSD");
    tt_instrument x = *in;
    x.swap_long = -6.2;
    x.swap_short = 1.1;
    tt_instruments_put(e->ins, &x, NULL);
    tt_mt5_sim_config d;
    if (!c) {
        tt_mt5_sim_config_default(&d);
        c = &d;
    }
    tt_err err;
    if (tt_mt5_sim_new(&e->s, e->ins, c, &err))
        fail_msg("%s", err.msg);
    tt_mt5_sim_callbacks(e->s, on_deal, on_state, &e->r);
    e->eur = tt_mt5_sim_symbol(e->s, "EURUSD");
    assert_true(e->eur > 0);
    e->t = T0;
    return e;
}

static void env_free(env *e)
{
    tt_mt5_sim_free(e->s);
    tt_instruments_free(e->ins);
    free(e);
}

static void quote(env *e, tt_price bid, tt_price ask)
{
    e->t += 1000;
    tt_mt5_sim_quote(e->s, e->eur, e->t, bid, ask, 1.0f, 1.0f);
}

static tt_mt5_order req(int action, int type, double vol)
{
    tt_mt5_order q;
    memset(&q, 0, sizeof q);
    static uint64_t id;
    q.id = ++id;
    q.action = (uint8_t)action;
    snprintf(q.sym, sizeof q.sym, "EURUSD");
    q.type = (uint8_t)type;
    q.vol = DEC(vol);
    q.filling = action == TT_MT5_ACT_PENDING ? TT_MT5_FILL_RETURN : TT_MT5_FILL_FOK;
    q.magic = 7000 + q.id;
    snprintf(q.comment, sizeof q.comment, "tt:%llu", (unsigned long long)q.id);
    return q;
}

static tt_mt5_result send(env *e, const tt_mt5_order *q)
{
    tt_mt5_sim_plan plan;
    tt_mt5_result res;
    tt_mt5_sim_admit(e->s, q, &plan);
    tt_mt5_sim_execute(e->s, q, &plan, &res);
    return res;
}

static uint32_t rc_of(env *e, const tt_mt5_order *q)
{
    return send(e, q).retcode;
}

static void test_volume_and_filling(void **state)
{
    (void)state;
    env *e = env_new(NULL);
    tt_mt5_order q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.005);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_MARKET_CLOSED); /* no quote yet */
    quote(e, 114427, 114430);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_VOLUME); /* below vmin 0.01 */
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.015);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_VOLUME); /* not a whole step */
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 501);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_VOLUME); /* above vmax 500 */
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.1);
    q.filling = TT_MT5_FILL_RETURN;
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_FILL); /* market execution: no RETURN */
    q.filling = TT_MT5_FILL_IOC;
    tt_mt5_result r = send(e, &q);
    assert_int_equal(r.retcode, TT_MT5_RC_DONE);
    assert_int_equal(r.price, DEC(1.1443)); /* a buy takes the ask */
    assert_int_equal(r.vol, DEC(0.1));
    assert_int_equal(r.bid, DEC(1.14427));
    assert_int_equal(e->r.ndeals, 1);
    assert_int_equal(e->r.deals[0].deal, r.deal);
    assert_int_equal(e->r.deals[0].order, r.order);
    assert_int_equal(e->r.deals[0].position, r.order); /* the position's ticket is its order's */
    assert_int_equal(e->r.deals[0].entry, TT_MT5_ENTRY_IN);
    assert_int_equal(e->r.deals[0].magic, q.magic);
    assert_string_equal(e->r.deals[0].comment, q.comment);
    assert_int_equal(e->r.nstates, 1); /* the market order went to history, filled */
    assert_int_equal(e->r.states[0].state, TT_MT5_OS_FILLED);
    env_free(e);

    /* a symbol that allows IOC only refuses FOK */
    tt_mt5_sim_config c;
    tt_mt5_sim_config_default(&c);
    c.filling = TT_MT5_FILLING_IOC_FLAG;
    e = env_new(&c);
    quote(e, 114427, 114430);
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.1);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_FILL);
    tt_mt5_spec sp;
    assert_int_equal(tt_mt5_sim_spec(e->s, e->eur, &sp), 0);
    assert_int_equal(sp.filling, TT_MT5_FILLING_IOC_FLAG);
    assert_int_equal(sp.vstep, DEC(0.01));
    assert_int_equal(sp.swap_long, DEC(-6.2));
    env_free(e);
}

static void test_stops_level(void **state)
{
    (void)state;
    tt_mt5_sim_config c;
    tt_mt5_sim_config_default(&c);
    c.stops = 10;
    env *e = env_new(&c);
    quote(e, 114427, 114430);
    /* a long closes at the bid 1.14427: SL 1.14420 is 7 points away (< 10) */
    tt_mt5_order q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.1);
    q.sl = DEC(1.1442);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_STOPS);
    q.sl = DEC(1.14417); /* 10 points: allowed */
    q.tp = DEC(1.14436); /* 9 points above the bid */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_STOPS);
    q.tp = DEC(1.14437);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_DONE);
    /* a stop-loss on the wrong side */
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.1);
    q.sl = DEC(1.144);
    q.position = 0;
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_DONE); /* netting: a close ignores SL/TP */
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.1);
    q.sl = DEC(1.144); /* a short closes at the ask 1.14430: SL below it */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_STOPS);
    q.sl = DEC(1.1444); /* 10 points above the ask */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_DONE);
    /* pending prices: a buy limit at least 10 points under the ask */
    q = req(TT_MT5_ACT_PENDING, TT_MT5_OT_BUY_LIMIT, 0.1);
    q.price = DEC(1.14425);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_PRICE);
    q.price = DEC(1.1442);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_PLACED);
    q = req(TT_MT5_ACT_PENDING, TT_MT5_OT_SELL_STOP, 0.1);
    q.price = DEC(1.1443); /* a sell stop above the bid */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_PRICE);
    q.price = DEC(1.14417);
    q.sl = DEC(1.14425); /* the short from 1.14417: SL 8 points above */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_STOPS);
    q.sl = DEC(1.14427);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_PLACED);
    q = req(TT_MT5_ACT_PENDING, TT_MT5_OT_BUY_STOP, 0.1);
    q.price = DEC(1.144305); /* off the 5-digit grid */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_PRICE);
    assert_int_equal(tt_mt5_sim_orders(e->s), 2);
    env_free(e);
}

static void test_pending_triggers_and_freeze(void **state)
{
    (void)state;
    tt_mt5_sim_config c;
    tt_mt5_sim_config_default(&c);
    c.freeze = 5;
    env *e = env_new(&c);
    quote(e, 114427, 114430);
    tt_mt5_order lim = req(TT_MT5_ACT_PENDING, TT_MT5_OT_BUY_LIMIT, 0.2);
    lim.price = DEC(1.1442);
    tt_mt5_result r = send(e, &lim);
    assert_int_equal(r.retcode, TT_MT5_RC_PLACED);
    uint64_t ticket = r.order;
    tt_mt5_ord o;
    tt_mt5_sim_order(e->s, 0, &o);
    assert_int_equal(o.ticket, ticket);
    assert_int_equal(o.type, TT_MT5_OT_BUY_LIMIT);
    assert_int_equal(o.price, DEC(1.1442));
    /* the ask comes to 1.14424: 4 points from the limit, inside the freeze level 5 */
    quote(e, 114421, 114424);
    tt_mt5_order mod = req(TT_MT5_ACT_MODIFY, TT_MT5_OT_BUY_LIMIT, 0);
    mod.order = ticket;
    mod.price = DEC(1.1441);
    assert_int_equal(rc_of(e, &mod), TT_MT5_RC_FROZEN);
    tt_mt5_order rm = req(TT_MT5_ACT_REMOVE, TT_MT5_OT_BUY_LIMIT, 0);
    rm.order = ticket;
    assert_int_equal(rc_of(e, &rm), TT_MT5_RC_FROZEN);
    quote(e, 114437, 114440); /* 20 points away: free again */
    mod.price = DEC(1.1442);
    assert_int_equal(rc_of(e, &mod), TT_MT5_RC_NO_CHANGES);
    mod.price = DEC(1.1441);
    assert_int_equal(rc_of(e, &mod), TT_MT5_RC_DONE);
    /* the ask gaps through the limit: filled at the better ask 1.14405 */
    assert_int_equal(e->r.ndeals, 0);
    quote(e, 114402, 114405);
    assert_int_equal(e->r.ndeals, 1);
    assert_int_equal(e->r.deals[0].order, ticket);
    assert_int_equal(e->r.deals[0].price, DEC(1.14405));
    assert_int_equal(e->r.deals[0].vol, DEC(0.2));
    assert_int_equal(e->r.states[e->r.nstates - 1].state, TT_MT5_OS_FILLED);
    assert_int_equal(tt_mt5_sim_orders(e->s), 0);
    /* a sell stop 1.14390 gapped through to a bid of 1.14380: filled at 1.14380 */
    tt_mt5_order st = req(TT_MT5_ACT_PENDING, TT_MT5_OT_SELL_STOP, 0.2);
    st.price = DEC(1.1439);
    assert_int_equal(rc_of(e, &st), TT_MT5_RC_PLACED);
    quote(e, 114380, 114383);
    assert_int_equal(e->r.ndeals, 2);
    assert_int_equal(e->r.deals[1].price, DEC(1.1438));
    assert_int_equal(e->r.deals[1].entry, TT_MT5_ENTRY_OUT); /* netting: closes the long */
    /* bought 0.2 at 1.14405, sold at 1.14380: -25 points x 0.2 lot = -5.00 USD */
    assert_int_equal(e->r.deals[1].profit, DEC(-5));
    assert_int_equal(tt_mt5_sim_positions(e->s), 0);
    /* a stop-limit: triggers at 1.14400, rests as a buy limit at 1.14395 */
    tt_mt5_order sl = req(TT_MT5_ACT_PENDING, TT_MT5_OT_BUY_STOP_LIMIT, 0.1);
    sl.price = DEC(1.144);
    sl.stoplimit = DEC(1.14395);
    assert_int_equal(rc_of(e, &sl), TT_MT5_RC_PLACED);
    quote(e, 114397, 114400);
    tt_mt5_sim_order(e->s, 0, &o);
    assert_int_equal(o.type, TT_MT5_OT_BUY_LIMIT);
    assert_int_equal(o.price, DEC(1.14395));
    quote(e, 114392, 114395);
    assert_int_equal(e->r.ndeals, 3);
    assert_int_equal(e->r.deals[2].price, DEC(1.14395));
    /* expiry: a GTD order expires at the first tick at or after its time */
    tt_mt5_order gtd = req(TT_MT5_ACT_PENDING, TT_MT5_OT_SELL_LIMIT, 0.1);
    gtd.price = DEC(1.145);
    gtd.time = TT_MT5_TIME_SPECIFIED;
    gtd.exp = e->t + 1500;
    assert_int_equal(rc_of(e, &gtd), TT_MT5_RC_PLACED);
    gtd.exp = e->t - 1;
    assert_int_equal(rc_of(e, &gtd), TT_MT5_RC_INVALID_EXPIRATION);
    quote(e, 114392, 114395);
    assert_int_equal(tt_mt5_sim_orders(e->s), 1);
    quote(e, 114392, 114395);
    assert_int_equal(tt_mt5_sim_orders(e->s), 0);
    assert_int_equal(e->r.states[e->r.nstates - 1].state, TT_MT5_OS_EXPIRED);
    env_free(e);
}

static void test_netting(void **state)
{
    (void)state;
    tt_mt5_sim_config c;
    tt_mt5_sim_config_default(&c);
    c.comm = DEC(3.5);
    env *e = env_new(&c);
    quote(e, 114427, 114430);
    tt_mt5_order q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.1);
    tt_mt5_result r = send(e, &q);
    uint64_t pos = r.order;
    assert_int_equal(e->r.deals[0].comm, DEC(-0.35)); /* 3.50 per lot per side x 0.1 */
    quote(e, 114450, 114453);
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.04);
    send(e, &q);
    /* 0.04 lot closed at the bid 1.14450 against 1.14430: 20 points x 0.04 = 0.80 */
    assert_int_equal(e->r.deals[1].entry, TT_MT5_ENTRY_OUT);
    assert_int_equal(e->r.deals[1].position, pos);
    assert_int_equal(e->r.deals[1].profit, DEC(0.8));
    assert_int_equal(e->r.deals[1].comm, DEC(-0.14));
    /* sell 0.10 more: closes the 0.06 left, opens 0.04 short under the same id */
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.1);
    send(e, &q);
    assert_int_equal(e->r.deals[2].entry, TT_MT5_ENTRY_INOUT);
    assert_int_equal(e->r.deals[2].position, pos);
    assert_int_equal(e->r.deals[2].profit, DEC(1.2)); /* 20 points x 0.06 */
    assert_int_equal(tt_mt5_sim_positions(e->s), 1);
    tt_mt5_pos p;
    tt_mt5_sim_position(e->s, 0, &p);
    assert_int_equal(p.ticket, pos);
    assert_int_equal(p.side, TT_MT5_SELL);
    assert_int_equal(p.vol, DEC(0.04));
    assert_int_equal(p.price, DEC(1.1445));
    /* balance: 10,000 + 0.80 + 1.20 - 0.35 - 0.14 - 0.35 = 10,001.16 */
    tt_mt5_account a;
    tt_mt5_sim_account(e->s, &a);
    assert_int_equal(a.balance, DEC(10001.16));
    /* naming a position that is not the symbol's */
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.04);
    q.position = pos + 1;
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_POSITION_CLOSED);
    env_free(e);
}

static void test_hedging(void **state)
{
    (void)state;
    tt_mt5_sim_config c;
    tt_mt5_sim_config_default(&c);
    c.mode = TT_MT5_HEDGING;
    env *e = env_new(&c);
    quote(e, 114427, 114430);
    tt_mt5_order q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.1);
    uint64_t p1 = send(e, &q).order;
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.2);
    uint64_t p2 = send(e, &q).order;
    assert_int_equal(tt_mt5_sim_positions(e->s), 2); /* side by side */
    assert_int_equal(e->r.deals[1].entry, TT_MT5_ENTRY_IN);
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.1);
    q.position = 999;
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_POSITION_CLOSED);
    q.position = p2; /* a sell cannot close a short */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID);
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.2);
    q.position = p1; /* more than the 0.1 held */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_INVALID_CLOSE_VOLUME);
    quote(e, 114437, 114440);
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.1);
    q.position = p1;
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_DONE);
    assert_int_equal(e->r.deals[2].entry, TT_MT5_ENTRY_OUT);
    assert_int_equal(e->r.deals[2].position, p1);
    assert_int_equal(e->r.deals[2].profit, DEC(0.7)); /* 1.14437 - 1.14430 = 7 points x 0.1 */
    assert_int_equal(tt_mt5_sim_positions(e->s), 1);
    /* SL/TP of a position: modify, then hit */
    tt_mt5_order m = req(TT_MT5_ACT_SLTP, TT_MT5_OT_BUY, 0);
    m.position = p2;
    m.sl = DEC(1.1445); /* the short closes at the ask 1.14440 */
    assert_int_equal(rc_of(e, &m), TT_MT5_RC_DONE);
    assert_int_equal(rc_of(e, &m), TT_MT5_RC_NO_CHANGES);
    quote(e, 114452, 114455); /* the ask jumps over the stop: closed at 1.14455 */
    assert_int_equal(e->r.ndeals, 4);
    assert_int_equal(e->r.deals[3].reason, TT_MT5_DR_SL);
    assert_int_equal(e->r.deals[3].price, DEC(1.14455));
    assert_string_equal(e->r.deals[3].comment, "[sl 1.1445]");
    assert_int_equal(e->r.deals[3].magic, e->r.deals[1].magic); /* the position's */
    assert_int_equal(tt_mt5_sim_positions(e->s), 0);
    env_free(e);
}

static void test_swaps_and_stop_out(void **state)
{
    (void)state;
    env *e = env_new(NULL);
    /* Wed 6 Feb 2019 21:59 UTC (23:59 server): long 1 lot, held past 22:00 UTC
     * (17:00 New York, winter): Wednesday's triple swap, -6.2 x 3 = -18.60 */
    e->t = 1549490340000LL + 7200000LL - 1000;
    quote(e, 114427, 114430);
    tt_mt5_order q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 1);
    send(e, &q);
    e->t += 120000;
    quote(e, 114427, 114430);
    tt_mt5_pos p;
    tt_mt5_sim_position(e->s, 0, &p);
    assert_int_equal(p.swap, DEC(-18.6));
    tt_mt5_account a;
    tt_mt5_sim_account(e->s, &a);
    assert_int_equal(a.balance, DEC(10000)); /* MT5: swaps stay on the position */
    assert_int_equal(a.equity, DEC(10000 - 3 - 18.6));
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 1);
    send(e, &q);
    assert_int_equal(e->r.deals[1].swap, DEC(-18.6));
    assert_int_equal(e->r.deals[1].profit, DEC(-3));
    env_free(e);

    /* stop-out: 1,200 USD at leverage 1000, 10 lots long at 1.14430: margin
     * 10 x 100,000 x mid / 1000, 1,144.29 at the mid 1.144285 */
    tt_mt5_sim_config c;
    tt_mt5_sim_config_default(&c);
    c.balance = 120000; /* cents */
    c.leverage = 1000;
    e = env_new(&c);
    quote(e, 114427, 114430);
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 10);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_DONE);
    q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 10); /* margin 1,144.25 more: not there */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_NO_MONEY);
    quote(e, 114370, 114373);
    assert_int_equal(e->r.ndeals, 1); /* bid -60 points: equity 600 / margin 1,143.72 = 52% */
    quote(e, 114360, 114363);
    assert_int_equal(e->r.ndeals, 2); /* -70 points: 500 / 1,143.62 = 44%: stopped out */
    assert_int_equal(e->r.deals[1].reason, TT_MT5_DR_SO);
    assert_int_equal(e->r.deals[1].price, DEC(1.1436));
    assert_int_equal(tt_mt5_sim_positions(e->s), 0);
    env_free(e);
}

static void test_faults(void **state)
{
    (void)state;
    env *e = env_new(NULL);
    tt_err err;
    assert_int_equal(tt_mt5_sim_fault(e->s, "requote:every=2", &err), 0);
    assert_int_equal(tt_mt5_sim_fault(e->s, "reject:at=3", &err), 0);
    assert_int_equal(tt_mt5_sim_fault(e->s, "nomoney:at=5", &err), 0);
    assert_int_equal(tt_mt5_sim_fault(e->s, "closed:at=7", &err), 0);
    assert_int_equal(tt_mt5_sim_fault(e->s, "stops:at=9", &err), 0);
    assert_int_equal(tt_mt5_sim_fault(e->s, "partial:at=11,ratio=0.3", &err), 0);
    assert_int_equal(tt_mt5_sim_fault(e->s, "latency:ms=20,at=13", &err), 0);
    assert_int_equal(tt_mt5_sim_fault(e->s, "noreply:at=13", &err), 0);
    assert_int_equal(tt_mt5_sim_fault(e->s, "drop:order=15,down=50", &err), 0);
    assert_int_equal(tt_mt5_sim_fault(e->s, "restart:at=3", &err), 0);
    quote(e, 114427, 114430);
    /* every even request is requoted; the others get their fault */
    static const uint32_t want[] = {
        TT_MT5_RC_DONE,          TT_MT5_RC_REQUOTE, TT_MT5_RC_REJECT,        TT_MT5_RC_REQUOTE,
        TT_MT5_RC_NO_MONEY,      TT_MT5_RC_REQUOTE, TT_MT5_RC_MARKET_CLOSED, TT_MT5_RC_REQUOTE,
        TT_MT5_RC_INVALID_STOPS, TT_MT5_RC_REQUOTE, TT_MT5_RC_DONE_PARTIAL,  TT_MT5_RC_REQUOTE,
        TT_MT5_RC_DONE,          TT_MT5_RC_REQUOTE, TT_MT5_RC_DONE};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        tt_mt5_order q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.1);
        q.filling = TT_MT5_FILL_IOC;
        tt_mt5_sim_plan plan;
        tt_mt5_result res;
        tt_mt5_sim_admit(e->s, &q, &plan);
        assert_int_equal(plan.latency_ms, i + 1 == 13 ? 20 : 0);
        assert_int_equal(plan.noreply, i + 1 == 13);
        assert_int_equal(plan.drop, i + 1 == 15);
        if (plan.drop)
            assert_int_equal(plan.down_ms, 50);
        tt_mt5_sim_execute(e->s, &q, &plan, &res);
        if (res.retcode != want[i])
            fail_msg("request %zu: retcode %u, expected %u (%s)", i + 1, res.retcode, want[i],
                     res.comment);
        if (want[i] == TT_MT5_RC_REQUOTE) {
            assert_int_equal(res.bid, DEC(1.14427)); /* a requote carries the prices */
            assert_int_equal(res.ask, DEC(1.1443));
        }
        if (want[i] == TT_MT5_RC_DONE_PARTIAL) /* 30% of 10 steps: 0.03 lot, the rest cancelled */
            assert_int_equal(res.vol, DEC(0.03));
    }
    /* a pending request is never requoted; the FOK partial is a reject */
    tt_mt5_sim_fault(e->s, "partial:every=1", &err);
    tt_mt5_order q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.1);
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_REQUOTE); /* 16th: even */
    assert_int_equal(rc_of(e, &q), TT_MT5_RC_REJECT);  /* 17th: FOK, half available */
    int64_t down;
    int restart;
    assert_int_equal(tt_mt5_sim_tick_sent(e->s, &down, &restart), 0);
    assert_int_equal(tt_mt5_sim_tick_sent(e->s, &down, &restart), 0);
    assert_int_equal(tt_mt5_sim_tick_sent(e->s, &down, &restart), 1);
    assert_int_equal(restart, 1);
    assert_int_equal(down, 2000);
    /* the grammar's errors name what was wrong */
    assert_int_equal(tt_mt5_sim_fault(e->s, "requote:evry=7", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "requote does not take 'evry=7'"));
    assert_int_equal(tt_mt5_sim_fault(e->s, "bogus", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "unknown kind 'bogus'"));
    assert_int_equal(tt_mt5_sim_fault(e->s, "drop", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "drop needs at=TICK or order=N"));
    assert_int_equal(tt_mt5_sim_fault(e->s, "latency", &err), TT_EINVAL);
    assert_int_equal(tt_mt5_sim_fault(e->s, "reject:every=0", &err), TT_EINVAL);
    assert_int_equal(tt_mt5_sim_fault(e->s, "partial:ratio=1.5", &err), TT_EINVAL);
    assert_int_equal(tt_mt5_sim_fault(e->s, "reject:at", &err), TT_EINVAL);
    env_free(e);
}

static void test_query_history_and_log(void **state)
{
    (void)state;
    env *e = env_new(NULL);
    quote(e, 114427, 114430);
    tt_mt5_order q = req(TT_MT5_ACT_DEAL, TT_MT5_OT_BUY, 0.1);
    tt_mt5_result r = send(e, &q);
    int64_t t1 = e->t;
    quote(e, 114437, 114440);
    tt_mt5_order p = req(TT_MT5_ACT_PENDING, TT_MT5_OT_SELL_LIMIT, 0.1);
    p.price = DEC(1.145);
    uint64_t pend = send(e, &p).order;
    tt_mt5_order s2 = req(TT_MT5_ACT_DEAL, TT_MT5_OT_SELL, 0.1);
    send(e, &s2);
    /* QUERY by magic: its deals first, then the state */
    tt_mt5_query qq = {.id = 77, .magic = q.magic};
    tt_mt5_state st;
    e->r.ndeals = 0;
    tt_mt5_sim_query(e->s, &qq, &st);
    assert_int_equal(st.id, 77);
    assert_int_equal(st.order, r.order);
    assert_int_equal(st.state, TT_MT5_OS_FILLED);
    assert_int_equal(st.vol, DEC(0.1));
    assert_int_equal(st.vol_cur, 0);
    assert_int_equal(e->r.ndeals, 1);
    assert_int_equal(e->r.deals[0].deal, r.deal);
    qq.magic = p.magic; /* a working order */
    tt_mt5_sim_query(e->s, &qq, &st);
    assert_int_equal(st.state, TT_MT5_OS_PLACED);
    assert_int_equal(st.order, pend);
    qq.magic = 123456; /* never seen */
    tt_mt5_sim_query(e->s, &qq, &st);
    assert_int_equal(st.state, TT_MT5_OS_NONE);
    assert_int_equal(st.order, 0);
    /* HISTORY: the deals at or after a time */
    e->r.ndeals = 0;
    assert_int_equal(tt_mt5_sim_history(e->s, t1 + 1), 1);
    assert_int_equal(e->r.ndeals, 1);
    assert_int_equal(tt_mt5_sim_history(e->s, 0), 2);
    /* the deal log */
    char path[] = "/tmp/tt-mt5-deals-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    tt_err err;
    assert_int_equal(tt_mt5_sim_write_deals(e->s, path, &err), 0);
    FILE *f = fopen(path, "r");
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "deal,order,position,time,symbol,side,entry,reason,volume,price,"
                              "commission,swap,profit,magic,comment\n");
    assert_non_null(fgets(line, sizeof line, f));
    char want[256];
    snprintf(want, sizeof want, "%llu,%llu,%llu,%lld,EURUSD,buy,in,expert,0.1,1.1443,0,0,0,%llu,%s\n",
             (unsigned long long)r.deal, (unsigned long long)r.order,
             (unsigned long long)r.order, (long long)t1, (unsigned long long)q.magic, q.comment);
    assert_string_equal(line, want);
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",EURUSD,sell,out,expert,0.1,1.14437,0,0,0.7,"));
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    unlink(path);
    assert_int_equal(tt_mt5_sim_write_deals(e->s, "/nonexistent/dir/deals.csv", &err), TT_EIO);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volume_and_filling),
        cmocka_unit_test(test_stops_level),
        cmocka_unit_test(test_pending_triggers_and_freeze),
        cmocka_unit_test(test_netting),
        cmocka_unit_test(test_hedging),
        cmocka_unit_test(test_swaps_and_stop_out),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_query_history_and_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
