/*
 * mt5-sim: the trade requests (MqlTradeRequest -> MqlTradeResult), checked
 * in the order an MT5 trade server checks them (docs/mt5-protocol.md, "The
 * broker model"): the symbol, the quote, the request's own fields (type,
 * volume, filling, prices), the position it names, the symbol's trade mode,
 * the stops level, the freeze level, the money. The first rule broken gives
 * the answer; a request that passes them all is carried out at the current
 * tick. A fault decided by tt_mt5_sim_admit answers first.
 *
 * The limits, as MT5 states them (distances in points, stops level S,
 * freeze level F; a position closes at the bid when long, the ask when short):
 *   buy limit   ask - price >= S      sell limit  price - bid >= S
 *   buy stop    price - ask >= S      sell stop   bid - price >= S
 *   long  SL/TP ref - sl >= S, tp - ref >= S   (ref: the closing price, or
 *   short SL/TP sl - ref >= S, ref - tp >= S    a pending order's own price)
 * and each strictly on its side even when S is 0; a working order or a
 * position's SL/TP may change only while its distance from the market is
 * above F.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt5_sim_int.h"

static void answer(tt_mt5_result *res, uint32_t rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void answer(tt_mt5_result *res, uint32_t rc, const char *fmt, ...)
{
    res->retcode = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->comment, sizeof res->comment, fmt, ap);
    va_end(ap);
}

static int is_pending_type(int t)
{
    return t >= TT_MT5_OT_BUY_LIMIT && t <= TT_MT5_OT_SELL_STOP_LIMIT;
}

static int side_of(int type)
{
    return type == TT_MT5_OT_BUY || type == TT_MT5_OT_BUY_LIMIT || type == TT_MT5_OT_BUY_STOP ||
                   type == TT_MT5_OT_BUY_STOP_LIMIT
               ? 1
               : -1;
}

/* Volume in whole steps within [vmin, vmax]: 0, or the answer is set. */
static int check_volume(const tt_mt5_sim *s, uint32_t sym, tt_mt5_dec vol, int64_t *qty,
                        tt_mt5_result *res)
{
    const tt_mt5_spec *sp = &s->sym[sym].spec;
    if (vol < sp->vmin || vol > sp->vmax || vol % sp->vstep) {
        char v[32], lo[32], hi[32], st[32];
        tt_mt5_dec_format(vol, v);
        tt_mt5_dec_format(sp->vmin, lo);
        tt_mt5_dec_format(sp->vmax, hi);
        tt_mt5_dec_format(sp->vstep, st);
        answer(res, TT_MT5_RC_INVALID_VOLUME, "Invalid volume %s (%s..%s, step %s)", v, lo, hi,
               st);
        return -1;
    }
    *qty = vol / sp->vstep;
    return 0;
}

static int check_filling(const tt_mt5_sim *s, uint32_t sym, int filling, int pending,
                         tt_mt5_result *res)
{
    uint32_t flags = s->sym[sym].spec.filling;
    int ok = filling == TT_MT5_FILL_FOK    ? (flags & TT_MT5_FILLING_FOK_FLAG) != 0
             : filling == TT_MT5_FILL_IOC  ? (flags & TT_MT5_FILLING_IOC_FLAG) != 0
             : filling == TT_MT5_FILL_RETURN ? pending
                                             : 0;
    if (!ok)
        answer(res, TT_MT5_RC_INVALID_FILL, "Unsupported filling mode");
    return ok ? 0 : -1;
}

/* SL/TP of a position of `side` that closes at ref. */
static int check_stops(const tt_mt5_sim *s, uint32_t sym, int side, tt_price ref, tt_price sl,
                       tt_price tp, tt_mt5_result *res)
{
    int64_t S = s->sym[sym].spec.stops;
    int bad = 0;
    if (sl)
        bad |= side > 0 ? !(sl < ref && ref - sl >= S) : !(sl > ref && sl - ref >= S);
    if (tp)
        bad |= side > 0 ? !(tp > ref && tp - ref >= S) : !(tp < ref && ref - tp >= S);
    if (bad)
        answer(res, TT_MT5_RC_INVALID_STOPS, "Invalid stops (stops level %lld points)",
               (long long)S);
    return bad ? -1 : 0;
}

/* A pending order's price against the market. */
static int check_pending_price(const tt_mt5_sim *s, uint32_t sym, int type, tt_price price,
                               tt_mt5_result *res)
{
    const tt_mt5s_sym *y = &s->sym[sym];
    int64_t S = y->spec.stops;
    int ok;
    switch (type) {
    case TT_MT5_OT_BUY_LIMIT:
        ok = price < y->ask && y->ask - price >= S;
        break;
    case TT_MT5_OT_SELL_LIMIT:
        ok = price > y->bid && price - y->bid >= S;
        break;
    case TT_MT5_OT_BUY_STOP:
    case TT_MT5_OT_BUY_STOP_LIMIT:
        ok = price > y->ask && price - y->ask >= S;
        break;
    default: /* sell stop, sell stop limit */
        ok = price < y->bid && y->bid - price >= S;
    }
    if (!ok)
        answer(res, TT_MT5_RC_INVALID_PRICE, "Invalid price (stops level %lld points)",
               (long long)S);
    return ok ? 0 : -1;
}

/* Distance of a working order from its trigger, points. */
static int64_t order_distance(const tt_mt5_sim *s, const tt_mt5s_order *o)
{
    const tt_mt5s_sym *y = &s->sym[o->sym];
    switch (o->type) {
    case TT_MT5_OT_BUY_LIMIT:
        return y->ask - o->price;
    case TT_MT5_OT_SELL_LIMIT:
        return o->price - y->bid;
    case TT_MT5_OT_BUY_STOP:
    case TT_MT5_OT_BUY_STOP_LIMIT:
        return o->price - y->ask;
    default:
        return y->bid - o->price;
    }
}

static int check_trade_mode(const tt_mt5_sim *s, uint32_t sym, int side, int64_t opening,
                            tt_mt5_result *res)
{
    switch (s->sym[sym].spec.trade) {
    case TT_MT5_TM_DISABLED:
        answer(res, TT_MT5_RC_TRADE_DISABLED, "Trade is disabled");
        return -1;
    case TT_MT5_TM_CLOSE_ONLY:
        if (opening) {
            answer(res, TT_MT5_RC_CLOSE_ONLY, "Only position closing is allowed");
            return -1;
        }
        return 0;
    case TT_MT5_TM_LONG_ONLY:
        if (opening && side < 0) {
            answer(res, TT_MT5_RC_LONG_ONLY, "Only long positions are allowed");
            return -1;
        }
        return 0;
    case TT_MT5_TM_SHORT_ONLY:
        if (opening && side > 0) {
            answer(res, TT_MT5_RC_SHORT_ONLY, "Only short positions are allowed");
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

/* The request's prices in points: 0, or the answer is set. */
typedef struct rpx {
    tt_price price, stoplimit, sl, tp;
} rpx;

static int request_prices(const tt_mt5_sim *s, uint32_t sym, const tt_mt5_order *q, rpx *p,
                          tt_mt5_result *res)
{
    int a, b, c, d;
    p->price = tt_mt5s_points(s, sym, q->price, &a);
    p->stoplimit = tt_mt5s_points(s, sym, q->stoplimit, &b);
    p->sl = tt_mt5s_points(s, sym, q->sl, &c);
    p->tp = tt_mt5s_points(s, sym, q->tp, &d);
    if (!a || !b) {
        answer(res, TT_MT5_RC_INVALID_PRICE, "Invalid price (not on the %u-digit grid)",
               s->sym[sym].spec.digits);
        return -1;
    }
    if (!c || !d) {
        answer(res, TT_MT5_RC_INVALID_STOPS, "Invalid stops (not on the %u-digit grid)",
               s->sym[sym].spec.digits);
        return -1;
    }
    return 0;
}

/* The position a deal names: hedging by ticket, netting the symbol's own. */
static const tt_position *named_position(const tt_mt5_sim *s, uint32_t sym, uint64_t ticket)
{
    if (s->cfg.mode == TT_MT5_NETTING) {
        const tt_position *x = tt_mt5s_net_position(s, sym);
        return x && x->ticket == ticket ? x : NULL;
    }
    const tt_position *x = tt_portfolio_find(s->books, ticket);
    return x && x->symbol == sym ? x : NULL;
}

static void exec_deal(tt_mt5_sim *s, const tt_mt5_order *q, const tt_mt5_sim_plan *plan,
                      uint32_t sym, tt_mt5_result *res)
{
    const tt_mt5s_sym *y = &s->sym[sym];
    if (q->type != TT_MT5_OT_BUY && q->type != TT_MT5_OT_SELL) {
        answer(res, TT_MT5_RC_INVALID, "Invalid request: a deal is a buy or a sell");
        return;
    }
    int side = side_of(q->type);
    int64_t qty;
    rpx p;
    if (check_volume(s, sym, q->vol, &qty, res) || check_filling(s, sym, q->filling, 0, res) ||
        request_prices(s, sym, q, &p, res))
        return;
    uint64_t close = 0;
    if (q->position) {
        const tt_position *x = named_position(s, sym, q->position);
        if (!x) {
            answer(res, TT_MT5_RC_POSITION_CLOSED, "Position #%llu is not open",
                   (unsigned long long)q->position);
            return;
        }
        if (x->side == side) {
            answer(res, TT_MT5_RC_INVALID, "Invalid request: position #%llu is on the same side",
                   (unsigned long long)q->position);
            return;
        }
        if (qty > x->qty) {
            answer(res, TT_MT5_RC_INVALID_CLOSE_VOLUME, "Close volume exceeds the position");
            return;
        }
        close = s->cfg.mode == TT_MT5_HEDGING ? x->ticket : 0;
    }
    int64_t open = tt_mt5s_opening(s, sym, side, qty, close);
    if (check_trade_mode(s, sym, side, open, res))
        return;
    if (open && check_stops(s, sym, side, side > 0 ? y->bid : y->ask, p.sl, p.tp, res))
        return;
    if (!tt_mt5s_money_ok(s, sym, open)) {
        answer(res, TT_MT5_RC_NO_MONEY, "No money");
        return;
    }
    int64_t fill = qty;
    if (plan->partial > 0) {
        int64_t avail = (int64_t)((double)qty * plan->partial);
        fill = avail < 1 ? 1 : avail < qty ? avail : qty;
        if (fill < qty && q->filling == TT_MT5_FILL_FOK) {
            answer(res, TT_MT5_RC_REJECT, "Request rejected: FOK, %lld of %lld steps available",
                   (long long)fill, (long long)qty);
            return;
        }
    }
    uint64_t order = s->next_order++;
    tt_mt5s_dreq r = {sym, side, fill, side > 0 ? y->ask : y->bid, open ? p.sl : 0,
                      open ? p.tp : 0, order, q->magic, close, TT_MT5_DR_EXPERT, q->comment};
    const tt_mt5_deal *d = tt_mt5s_deal(s, &r);
    if (!d) {
        answer(res, TT_MT5_RC_ERROR, "Common error: the books refused the deal");
        return;
    }
    res->deal = d->deal;
    res->order = order;
    res->vol = d->vol;
    res->price = d->price;
    tt_mt5s_hist(s, order, q->magic, sym, fill < qty ? TT_MT5_OS_CANCELED : TT_MT5_OS_FILLED, qty,
                 qty - fill);
    if (fill < qty)
        answer(res, TT_MT5_RC_DONE_PARTIAL, "Request executed partially");
    else
        answer(res, TT_MT5_RC_DONE, "Request executed");
}

static void exec_pending(tt_mt5_sim *s, const tt_mt5_order *q, uint32_t sym, tt_mt5_result *res)
{
    if (!is_pending_type(q->type)) {
        answer(res, TT_MT5_RC_INVALID, "Invalid request: not a pending order type");
        return;
    }
    int side = side_of(q->type);
    int stop_limit = q->type >= TT_MT5_OT_BUY_STOP_LIMIT;
    int64_t qty;
    rpx p;
    if (check_volume(s, sym, q->vol, &qty, res) || request_prices(s, sym, q, &p, res) ||
        check_filling(s, sym, q->filling, 1, res))
        return;
    if (p.price <= 0 || (stop_limit && p.stoplimit <= 0)) {
        answer(res, TT_MT5_RC_INVALID_PRICE, "Invalid price");
        return;
    }
    if (check_pending_price(s, sym, q->type, p.price, res) ||
        check_stops(s, sym, side, stop_limit ? p.stoplimit : p.price, p.sl, p.tp, res) ||
        check_trade_mode(s, sym, side, tt_mt5s_opening(s, sym, side, qty, 0), res))
        return;
    if ((q->time == TT_MT5_TIME_SPECIFIED || q->time == TT_MT5_TIME_SPECIFIED_DAY) &&
        q->exp <= s->now) {
        answer(res, TT_MT5_RC_INVALID_EXPIRATION, "Invalid expiration");
        return;
    }
    if (tt_mt5s_grow((void **)&s->ord, &s->capord, s->nord, sizeof *s->ord)) {
        answer(res, TT_MT5_RC_ERROR, "Common error: out of memory");
        return;
    }
    tt_mt5s_order *o = &s->ord[s->nord++];
    memset(o, 0, sizeof *o);
    o->ticket = s->next_order++;
    o->magic = q->magic;
    o->sym = sym;
    o->type = q->type;
    o->filling = q->filling;
    o->time = q->time;
    o->qty = qty;
    o->price = p.price;
    o->stoplimit = stop_limit ? p.stoplimit : 0;
    o->sl = p.sl;
    o->tp = p.tp;
    o->exp = q->exp;
    o->t = s->now;
    snprintf(o->comment, sizeof o->comment, "%s", q->comment);
    res->order = o->ticket;
    res->vol = q->vol;
    res->price = q->price;
    answer(res, TT_MT5_RC_PLACED, "Order placed");
}

static tt_mt5s_order *find_order(tt_mt5_sim *s, uint64_t ticket, size_t *idx)
{
    for (size_t i = 0; i < s->nord; i++)
        if (s->ord[i].ticket == ticket) {
            *idx = i;
            return &s->ord[i];
        }
    return NULL;
}

static tt_mt5s_order *working(tt_mt5_sim *s, const tt_mt5_order *q, size_t *idx,
                              tt_mt5_result *res)
{
    tt_mt5s_order *o = find_order(s, q->order, idx);
    if (!o) {
        answer(res, TT_MT5_RC_INVALID, "Invalid request: order #%llu not found",
               (unsigned long long)q->order);
        return NULL;
    }
    int64_t F = s->sym[o->sym].spec.freeze;
    if (F > 0 && order_distance(s, o) <= F) {
        answer(res, TT_MT5_RC_FROZEN, "Order is frozen (freeze level %lld points)", (long long)F);
        return NULL;
    }
    res->order = o->ticket;
    return o;
}

static void exec_modify(tt_mt5_sim *s, const tt_mt5_order *q, tt_mt5_result *res)
{
    size_t i;
    tt_mt5s_order *o = working(s, q, &i, res);
    rpx p;
    if (!o || request_prices(s, o->sym, q, &p, res))
        return;
    int stop_limit = o->type >= TT_MT5_OT_BUY_STOP_LIMIT;
    if (p.price <= 0 || (stop_limit && p.stoplimit <= 0)) {
        answer(res, TT_MT5_RC_INVALID_PRICE, "Invalid price");
        return;
    }
    if (check_pending_price(s, o->sym, o->type, p.price, res) ||
        check_stops(s, o->sym, side_of(o->type), stop_limit ? p.stoplimit : p.price, p.sl, p.tp,
                    res))
        return;
    int timed = q->time == TT_MT5_TIME_SPECIFIED || q->time == TT_MT5_TIME_SPECIFIED_DAY;
    if (timed && q->exp <= s->now) {
        answer(res, TT_MT5_RC_INVALID_EXPIRATION, "Invalid expiration");
        return;
    }
    if (p.price == o->price && (!stop_limit || p.stoplimit == o->stoplimit) && p.sl == o->sl &&
        p.tp == o->tp && q->time == o->time && (!timed || q->exp == o->exp)) {
        answer(res, TT_MT5_RC_NO_CHANGES, "No changes");
        return;
    }
    o->price = p.price;
    o->stoplimit = stop_limit ? p.stoplimit : 0;
    o->sl = p.sl;
    o->tp = p.tp;
    o->time = q->time;
    o->exp = timed ? q->exp : 0;
    answer(res, TT_MT5_RC_DONE, "Request executed");
}

static void exec_remove(tt_mt5_sim *s, const tt_mt5_order *q, tt_mt5_result *res)
{
    size_t i;
    tt_mt5s_order *o = working(s, q, &i, res);
    if (!o)
        return;
    tt_mt5s_order c = *o;
    memmove(&s->ord[i], &s->ord[i + 1], (s->nord - i - 1) * sizeof *s->ord);
    s->nord--;
    tt_mt5s_hist(s, c.ticket, c.magic, c.sym, TT_MT5_OS_CANCELED, c.qty, c.qty);
    answer(res, TT_MT5_RC_DONE, "Request executed");
}

static void exec_sltp(tt_mt5_sim *s, const tt_mt5_order *q, uint32_t sym, tt_mt5_result *res)
{
    const tt_position *x = q->position ? named_position(s, sym, q->position)
                           : s->cfg.mode == TT_MT5_NETTING ? tt_mt5s_net_position(s, sym)
                                                           : NULL;
    rpx p;
    if (!x) {
        answer(res, TT_MT5_RC_POSITION_CLOSED, "Position #%llu is not open",
               (unsigned long long)q->position);
        return;
    }
    if (request_prices(s, sym, q, &p, res))
        return;
    const tt_mt5s_sym *y = &s->sym[sym];
    tt_price ref = x->side > 0 ? y->bid : y->ask;
    int64_t F = y->spec.freeze;
    if (F > 0 && ((x->stop_loss && llabs(ref - x->stop_loss) <= F) ||
                  (x->take_profit && llabs(ref - x->take_profit) <= F))) {
        answer(res, TT_MT5_RC_FROZEN, "Position is frozen (freeze level %lld points)",
               (long long)F);
        return;
    }
    if (check_stops(s, sym, x->side, ref, p.sl, p.tp, res))
        return;
    if (p.sl == x->stop_loss && p.tp == x->take_profit) {
        answer(res, TT_MT5_RC_NO_CHANGES, "No changes");
        return;
    }
    tt_portfolio_set_exits(s->books, x->ticket, p.sl, p.tp);
    answer(res, TT_MT5_RC_DONE, "Request executed");
}

void tt_mt5_sim_execute(tt_mt5_sim *s, const tt_mt5_order *q, const tt_mt5_sim_plan *plan,
                        tt_mt5_result *res)
{
    memset(res, 0, sizeof *res);
    res->id = q->id;
    uint32_t sym = tt_mt5_sim_symbol(s, q->sym);
    if (!sym) {
        answer(res, TT_MT5_RC_INVALID, "Invalid request: unknown symbol %s", q->sym);
        return;
    }
    const tt_mt5s_sym *y = &s->sym[sym];
    if (y->have) {
        res->bid = tt_mt5_dec_from_scaled(y->bid, (int)y->spec.digits);
        res->ask = tt_mt5_dec_from_scaled(y->ask, (int)y->spec.digits);
    }
    static const char *const forced[] = {"Requote", "Request rejected", "No money",
                                         "Market is closed", "Invalid stops"};
    switch (plan->retcode) {
    case 0:
        break;
    case TT_MT5_RC_REQUOTE:
        answer(res, plan->retcode, "%s", forced[0]);
        return;
    case TT_MT5_RC_REJECT:
        answer(res, plan->retcode, "%s", forced[1]);
        return;
    case TT_MT5_RC_NO_MONEY:
        answer(res, plan->retcode, "%s", forced[2]);
        return;
    case TT_MT5_RC_MARKET_CLOSED:
        answer(res, plan->retcode, "%s", forced[3]);
        return;
    default:
        answer(res, plan->retcode, "%s", forced[4]);
        return;
    }
    if (!y->have && q->action != TT_MT5_ACT_REMOVE) {
        answer(res, TT_MT5_RC_MARKET_CLOSED, "Market is closed (no quotes)");
        return;
    }
    switch (q->action) {
    case TT_MT5_ACT_DEAL:
        exec_deal(s, q, plan, sym, res);
        break;
    case TT_MT5_ACT_PENDING:
        exec_pending(s, q, sym, res);
        break;
    case TT_MT5_ACT_MODIFY:
        exec_modify(s, q, res);
        break;
    case TT_MT5_ACT_REMOVE:
        exec_remove(s, q, res);
        break;
    default:
        exec_sltp(s, q, sym, res);
    }
}
