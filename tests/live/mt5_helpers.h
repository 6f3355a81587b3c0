/*
 * Shared by the MT5 session tests (test_mt5_venue.c, test_mt5_bus.c): a small
 * strategy component that sends market orders every N quotes (and buy limits
 * in between when asked), with an order manager (core/order.h) that applies
 * every order event the engine dispatches and counts any that breaks the
 * lifecycle; and the check that every engine fill is one deal of the
 * stand-in. Header-only: each test program includes it once.
 */
#ifndef TT_TEST_MT5_HELPERS_H
#define TT_TEST_MT5_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "core/order.h"
#include "live/mt5_sim.h"

typedef struct fill {
    uint64_t cid;
    int64_t qty;
    tt_price px;
    tt_money comm;
    int side;
    uint16_t reason;
} fill;

typedef struct strat {
    tt_orders *orders;
    uint32_t eur;
    uint64_t quotes;
    int every, max, sent, limits;
    int one_side; /* every order a buy (a position that grows) */
    int sell_from; /* > 0: the orders from this one (1-based) are sells */
    int far_limit_first; /* the first order: a buy limit 500 points under the bid */
    int kill_at;  /* > 0: call kill(kill_ctx) when this many fills are in */
    int serial;   /* a market order waits until the previous one has ended */
    uint64_t awaiting; /* serial: the market order not ended yet */
    int mind_gaps;     /* no order between GAP_BEGIN and GAP_END (terminal away, or syncing) */
    int in_gap;
    void (*kill)(void *ctx);
    void *kill_ctx;
    int side;
    fill fills[512];
    int nfills;
    int reasons[TT_REASON_COUNT];
    int lifecycle_errors;
    char first_error[512];
} strat;

static void submit(strat *s, tt_engine *e, int type, tt_price price)
{
    tt_order_cmd c;
    memset(&c, 0, sizeof c);
    c.cmd = TT_CMD_SUBMIT;
    c.qty = 10; /* 0.1 lot */
    c.type = (uint8_t)type;
    c.tif = TT_TIF_GTC;
    c.side = (int8_t)(s->one_side ? TT_BUY : (s->side = -s->side));
    if (s->sell_from && s->sent + 1 >= s->sell_from)
        c.side = TT_SELL;
    c.price = price;
    tt_event ev;
    tt_err err;
    tt_ts now = tt_engine_now(e);
    if (tt_orders_create(s->orders, s->eur, &c, now, &ev, &err))
        fail_msg("create: %s", err.msg);
    tt_orders_transition(s->orders, c.client_id, TT_OS_SUBMITTED, TT_REASON_RISK_OK, now, &ev,
                         NULL);
    tt_event cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = TT_EV_ORDER_CMD;
    cmd.symbol = s->eur;
    cmd.u.order_cmd = c;
    if (s->serial && type == TT_ORD_MARKET)
        s->awaiting = c.client_id;
    if (tt_engine_submit(e, &cmd, &err))
        fail_msg("submit: %s", err.msg);
    s->sent++;
}

static void strat_event(void *self, tt_engine *e, const tt_event *ev)
{
    strat *s = self;
    if (ev->kind == TT_EV_CONTROL && (ev->u.control.op == TT_CTL_GAP_BEGIN ||
                                      ev->u.control.op == TT_CTL_GAP_END)) {
        s->in_gap = ev->u.control.op == TT_CTL_GAP_BEGIN;
        return;
    }
    if (ev->kind == TT_EV_QUOTE && ev->symbol == s->eur) {
        if (++s->quotes % (uint64_t)s->every == 0 && s->sent < s->max && !s->awaiting &&
            !(s->mind_gaps && s->in_gap)) {
            if (s->far_limit_first && !s->sent)
                submit(s, e, TT_ORD_LIMIT, ev->u.quote.bid - 500);
            else if (s->limits && s->sent % 2) /* a buy limit 20 points under the bid */
                submit(s, e, TT_ORD_LIMIT, ev->u.quote.bid - 20);
            else
                submit(s, e, TT_ORD_MARKET, 0);
        }
        return;
    }
    if (ev->kind != TT_EV_ORDER_EVENT)
        return;
    const tt_order_event *o = &ev->u.order_ev;
    tt_err err;
    int rc = o->reason == TT_REASON_UNKNOWN_ORDER ? 0 : tt_orders_apply(s->orders, ev, &err);
    if (rc < 0) {
        if (!s->lifecycle_errors++)
            snprintf(s->first_error, sizeof s->first_error, "%s", err.msg);
    }
    if (o->reason < TT_REASON_COUNT)
        s->reasons[o->reason]++;
    if (o->client_id == s->awaiting && tt_order_status_terminal(o->status))
        s->awaiting = 0;
    if (o->fill_qty > 0 && s->nfills < 512)
        s->fills[s->nfills++] = (fill){o->client_id, o->fill_qty, o->fill_price, o->commission,
                                       o->side, o->reason};
    if (o->fill_qty > 0 && s->kill && s->nfills == s->kill_at)
        s->kill(s->kill_ctx);
}

/* Every engine fill is one stand-in deal (matched by the client id in the
 * deal's magic number): price, volume, commission, side; none missing, none
 * twice. Without faults they also come in the same order. */
static void check_fills_are_deals(const tt_mt5_sim *sim, const strat *st, const char *log,
                                  int in_order)
{
    size_t n = tt_mt5_sim_deals(sim);
    if ((size_t)st->nfills != n) {
        fprintf(stderr, "%s", log);
        fail_msg("%d engine fills, %zu deals at the broker", st->nfills, n);
    }
    int used[512] = {0};
    for (size_t i = 0; i < n; i++) {
        const tt_mt5_deal *d = tt_mt5_sim_deal(sim, i);
        uint64_t cid = d->magic & 0xffffffffu;
        int k = -1;
        for (int j = 0; j < st->nfills && k < 0; j++)
            if (!used[j] && st->fills[j].cid == cid)
                k = j;
        if (k < 0)
            fail_msg("deal %llu of order %llu has no engine fill", (unsigned long long)d->deal,
                     (unsigned long long)cid);
        if (in_order)
            assert_int_equal(k, (int)i);
        used[k] = 1;
        const fill *f = &st->fills[k];
        assert_int_equal(f->px * 1000, d->price); /* points -> 1e-8 */
        assert_int_equal(f->qty * 1000000, d->vol);
        assert_int_equal(f->comm * 1000000, -d->comm);
        assert_int_equal(f->side, d->side == TT_MT5_BUY ? 1 : -1);
    }
}

#endif
