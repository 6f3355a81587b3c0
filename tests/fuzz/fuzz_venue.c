/* libFuzzer target: the trading core end to end. The input is a script of
 * 12-byte steps: a quote (symbol, bid move, spread, time step) or an order
 * command (market/limit/stop/stop-limit, side, qty, prices relative to the
 * touch, time in force, attached exits, hedging close) or a cancel / modify of
 * an earlier order. Commands go through the order manager's validation (as a
 * strategy's would), then to the simulated venue through the engine; the
 * strategy-side portfolio is fed the venue's order events. Invariants checked:
 * the run ends without error (a lifecycle violation or a fill the portfolio
 * cannot apply is an error), and both books agree on the balance and on the
 * open positions. The first byte picks netting or hedging, latency, partial
 * fills and slippage. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/order.h"
#include "core/portfolio.h"
#include "sim/venue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STEP 12
#define MAXSTEPS 512

typedef struct fz {
    const uint8_t *p;
    size_t n, i;
    tt_ts t;
    tt_price mid[3];
    tt_engine *e;
    tt_orders *orders;
    tt_portfolio *pf;
    uint32_t syms[3];
    tt_event pending; /* a command waiting for the next dispatch */
    int have_pending;
    int bad;
} fz;

static int src_next(void *self, tt_event *ev, tt_err *err)
{
    fz *f = self;
    (void)err;
    while (f->i + STEP <= f->n) {
        const uint8_t *s = f->p + f->i;
        f->i += STEP;
        if ((s[0] & 3) != 0)
            continue; /* not a quote: a command, sent by the driver */
        int k = s[1] % 3;
        f->t += (tt_ts)(s[2] + 1) * TT_NS_PER_MS * 37;
        f->mid[k] += (int8_t)s[3];
        if (f->mid[k] < 1000)
            f->mid[k] = 1000;
        memset(ev, 0, sizeof *ev);
        ev->ts = ev->ts_init = f->t;
        ev->kind = TT_EV_QUOTE;
        ev->cls = TT_CLS_MARKET;
        ev->source = 1;
        ev->seq = f->i;
        ev->symbol = f->syms[k];
        ev->u.quote.bid = f->mid[k];
        ev->u.quote.ask = f->mid[k] + 1 + s[4] % 20;
        return TT_SRC_EVENT;
    }
    return TT_SRC_END;
}

static void send(fz *f, const uint8_t *s, tt_engine *e, const tt_event *q)
{
    tt_order_cmd c;
    memset(&c, 0, sizeof c);
    tt_price touch = q->u.quote.bid;
    int op = s[0] & 3;
    if (op == 3) { /* cancel or modify an order still live */
        size_t n = tt_orders_count(f->orders);
        if (!n)
            return;
        const tt_order *o = tt_orders_at(f->orders, s[1] % n);
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = TT_EV_ORDER_CMD;
        ev.symbol = o->symbol;
        ev.u.order_cmd = o->cmd;
        ev.u.order_cmd.cmd = (s[2] & 1) ? TT_CMD_CANCEL : TT_CMD_MODIFY;
        if (ev.u.order_cmd.cmd == TT_CMD_MODIFY) {
            ev.u.order_cmd.price = touch + (int8_t)s[3];
            ev.u.order_cmd.stop_price = touch + (int8_t)s[4];
        }
        tt_engine_submit(e, &ev, NULL);
        return;
    }
    c.side = (s[1] & 1) ? TT_BUY : TT_SELL;
    c.type = (uint8_t)(1 + s[2] % 4);
    c.tif = (uint8_t)(1 + s[3] % 4);
    c.qty = s[4] % 64; /* 0 is invalid on purpose */
    c.price = touch + (int8_t)s[5];
    c.stop_price = touch + (int8_t)s[6];
    c.expire_ts = q->ts + (tt_ts)s[7] * TT_NS_PER_MS * 50;
    c.stop_loss = (s[8] & 1) ? touch - c.side * (1 + s[9] % 50) : 0;
    c.take_profit = (s[8] & 2) ? touch + c.side * (1 + s[10] % 50) : 0;
    if ((s[8] & 4) && tt_portfolio_count(f->pf)) {
        const tt_position *x = tt_portfolio_position(f->pf, s[11] % tt_portfolio_count(f->pf));
        c.position = (uint32_t)x->ticket;
        c.side = (int8_t)-x->side;
        c.type = TT_ORD_MARKET;
        if (c.qty > x->qty)
            c.qty = x->qty;
    }
    tt_event ev;
    uint32_t sym = f->syms[s[11] % 3];
    if (c.position)
        sym = tt_portfolio_find(f->pf, c.position)->symbol;
    if (tt_orders_create(f->orders, sym, &c, q->ts, &ev, NULL))
        return; /* invalid: rejected before the venue, as the runner does */
    tt_orders_transition(f->orders, c.client_id, TT_OS_SUBMITTED, TT_REASON_RISK_OK, q->ts, &ev,
                         NULL);
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_ORDER_CMD;
    ev.symbol = sym;
    ev.u.order_cmd = c;
    tt_engine_submit(e, &ev, NULL);
}

static void driver(void *self, tt_engine *e, const tt_event *ev)
{
    fz *f = self;
    tt_portfolio_advance(f->pf, ev->ts);
    if (ev->kind == TT_EV_QUOTE) {
        tt_portfolio_quote(f->pf, ev->symbol, ev->u.quote.bid, ev->u.quote.ask);
        /* the commands that follow this quote in the script */
        size_t j = f->i;
        while (j + STEP <= f->n && (f->p[j] & 3) != 0) {
            send(f, f->p + j, e, ev);
            j += STEP;
        }
    } else if (ev->kind == TT_EV_ORDER_EVENT) {
        const tt_order_event *o = &ev->u.order_ev;
        tt_order_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        const tt_order *live = o->client_id ? tt_orders_get(f->orders, o->client_id) : NULL;
        if (live)
            cmd = live->cmd;
        if (o->reason != TT_REASON_UNKNOWN_ORDER && tt_orders_apply(f->orders, ev, NULL) < 0)
            f->bad = 1;
        if (o->fill_qty > 0) {
            tt_fill x;
            memset(&x, 0, sizeof x);
            x.symbol = ev->symbol;
            x.side = o->side;
            x.qty = o->fill_qty;
            x.price = o->fill_price;
            x.commission = o->commission;
            x.order_id = o->client_id;
            x.position = !o->client_id ? o->venue_id : cmd.position;
            x.stop_loss = cmd.stop_loss;
            x.take_profit = cmd.take_profit;
            x.ts = ev->ts;
            if (tt_portfolio_fill(f->pf, &x, NULL))
                f->bad = 1;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 + STEP || size > 1 + STEP * MAXSTEPS)
        return 0;
    fz f;
    memset(&f, 0, sizeof f);
    f.p = data + 1;
    f.n = size - 1;
    f.t = tt_ts_from_civil(2019, 2, 6, 20, 0, 0, 0);
    f.mid[0] = 114420;
    f.mid[1] = 129990;
    f.mid[2] = 86000;
    tt_instruments *ins = tt_instruments_new();
    const char *names[3] = {"EURUSD", "GBPUSD", "EURGBP"};
    for (int k = 0; k < 3; k++)
        f.syms[k] = tt_instruments_find(ins, names[k])->id;
    tt_venue_config vc;
    tt_venue_config_default(&vc);
    vc.account.mode = (data[0] & 1) ? TT_MODE_HEDGING : TT_MODE_NETTING;
    vc.latency_ns = (data[0] & 2) ? 20 * TT_NS_PER_MS : 0;
    vc.max_fill_qty = (data[0] & 4) ? 7 : 0;
    vc.slippage = (data[0] >> 3) % 3;
    vc.slippage_points = 3;
    vc.commission = (data[0] >> 5) % 3;
    vc.commission_per_lot = 700;
    vc.commission_rate = 0.00002;
    tt_sim_venue *v = NULL;
    f.orders = tt_orders_new();
    if (tt_sim_venue_new(&v, ins, &vc, NULL) || tt_portfolio_new(&f.pf, ins, &vc.account, NULL))
        abort();
    f.e = tt_engine_new(ins);
    tt_source src = {&f, src_next, NULL};
    tt_engine_set_source(f.e, src);
    tt_engine_set_venue(f.e, tt_sim_venue_port(v));
    tt_component c = {&f, "driver", NULL, driver, NULL};
    tt_engine_add_component(f.e, c);
    tt_err err;
    if (tt_engine_run(f.e, &err))
        abort();
    if (f.bad)
        abort(); /* the lifecycle or the client's books disagree with the venue */
    const tt_portfolio *b = tt_sim_venue_books(v);
    if (tt_portfolio_balance(b) != tt_portfolio_balance(f.pf) ||
        tt_portfolio_count(b) != tt_portfolio_count(f.pf))
        abort(); /* both sides fed the same fills must agree */
    for (size_t i = 0; i < tt_portfolio_count(b); i++) {
        const tt_position *x = tt_portfolio_position(b, i), *y = tt_portfolio_position(f.pf, i);
        if (x->ticket != y->ticket || x->qty != y->qty || x->side != y->side || x->cost != y->cost)
            abort();
    }
    tt_engine_free(f.e);
    tt_sim_venue_free(v);
    tt_portfolio_free(f.pf);
    tt_orders_free(f.orders);
    tt_instruments_free(ins);
    return 0;
}
