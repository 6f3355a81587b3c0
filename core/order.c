/*
 * The order manager.
 *
 * A small array of live orders, in creation order. Ids are handed out
 * sequentially, so the array is sorted by id and a lookup could bisect; it
 * scans instead, because a strategy rarely has more than a handful of live
 * orders and the scan touches one cache line per order.
 *
 * The lifecycle is a table of allowed (from, to) pairs; every transition,
 * ours or the venue's, is checked against it. MODIFIED is a transition that
 * leaves the order working: the order's status stays what it was (accepted
 * or partially filled) and only its reason records the modification.
 */
#include "order.h"

#include <stdlib.h>
#include <string.h>

struct tt_orders {
    tt_order *v;
    size_t n, cap;
    uint64_t last_id;
};

static const char *const REASONS[TT_REASON_COUNT] = {
    "none",        "new",          "risk_ok",    "risk",        "accepted",      "fill",
    "cancel",      "ioc",          "fok",        "gtd",         "no_money",      "margin_call",
    "invalid",     "no_quote",     "no_rate",    "unknown_order", "stop_loss",   "take_profit",
    "stop_out",    "modified",     "no_position", "halted",     "flatten",       "end",
    "volume",      "stops_level",  "filling",    "trade_disabled", "disconnected", "stale_quotes",
    "requote",     "market_closed", "broker",    "no_answer",   "reconcile",
};

const char *tt_order_reason_name(int reason)
{
    return reason >= 0 && reason < TT_REASON_COUNT ? REASONS[reason] : "?";
}

int tt_order_status_terminal(int s)
{
    return s == TT_OS_FILLED || s == TT_OS_CANCELLED || s == TT_OS_REJECTED ||
           s == TT_OS_EXPIRED || s == TT_OS_FAILED;
}

int tt_order_transition_ok(int from, int to)
{
    switch (from) {
    case TT_OS_PENDING:
        return to == TT_OS_SUBMITTED || to == TT_OS_REJECTED || to == TT_OS_FAILED;
    case TT_OS_SUBMITTED:
        return to == TT_OS_ACCEPTED || to == TT_OS_REJECTED || to == TT_OS_FILLED ||
               to == TT_OS_PARTIALLY_FILLED || to == TT_OS_CANCELLED || to == TT_OS_EXPIRED ||
               to == TT_OS_FAILED;
    case TT_OS_ACCEPTED:
    case TT_OS_PARTIALLY_FILLED:
        return to == TT_OS_PARTIALLY_FILLED || to == TT_OS_FILLED || to == TT_OS_CANCELLED ||
               to == TT_OS_EXPIRED || to == TT_OS_MODIFIED || to == TT_OS_FAILED;
    default:
        return 0;
    }
}

tt_orders *tt_orders_new(void) { return calloc(1, sizeof(tt_orders)); }

void tt_orders_free(tt_orders *o)
{
    if (o) {
        free(o->v);
        free(o);
    }
}

static tt_order *find(const tt_orders *o, uint64_t id)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].cmd.client_id == id)
            return &o->v[i];
    return NULL;
}

static void forget(tt_orders *o, tt_order *x)
{
    size_t i = (size_t)(x - o->v);
    memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof *o->v);
    o->n--;
}

static void fill_event(const tt_order *x, int status, int reason, tt_ts ts, tt_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->ts = ts;
    ev->kind = TT_EV_ORDER_EVENT;
    ev->symbol = x->symbol;
    ev->u.order_ev.client_id = x->cmd.client_id;
    ev->u.order_ev.leaves_qty = x->cmd.qty - x->filled_qty;
    ev->u.order_ev.reason = (uint16_t)reason;
    ev->u.order_ev.status = (uint8_t)status;
    ev->u.order_ev.side = x->cmd.side;
    ev->u.order_ev.type = x->cmd.type;
}

/* Why a command is malformed, or NULL when it is fine. */
static const char *invalid(const tt_order_cmd *c, tt_ts ts)
{
    if (c->qty <= 0)
        return "qty must be > 0";
    if (c->side != TT_BUY && c->side != TT_SELL)
        return "side must be buy (+1) or sell (-1)";
    if (c->type < TT_ORD_MARKET || c->type > TT_ORD_STOP_LIMIT)
        return "type must be market, limit, stop or stop_limit";
    if (c->tif < TT_TIF_GTC || c->tif > TT_TIF_GTD)
        return "tif must be GTC, IOC, FOK or GTD";
    if ((c->type == TT_ORD_LIMIT || c->type == TT_ORD_STOP_LIMIT) && c->price <= 0)
        return "price must be > 0 for a limit order";
    if ((c->type == TT_ORD_STOP || c->type == TT_ORD_STOP_LIMIT) && c->stop_price <= 0)
        return "stop_price must be > 0 for a stop order";
    if (c->tif == TT_TIF_GTD && c->expire_ts <= ts)
        return "expire_ts must be after now for GTD";
    if (c->stop_loss < 0 || c->take_profit < 0)
        return "stop_loss and take_profit must be >= 0";
    return NULL;
}

int tt_orders_create(tt_orders *o, uint32_t symbol, tt_order_cmd *cmd, tt_ts ts, tt_event *ev,
                     tt_err *err)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        tt_order *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return tt_err_set(err, TT_ENOMEM, "out of memory (orders)");
        o->v = v;
        o->cap = cap;
    }
    cmd->client_id = ++o->last_id;
    cmd->cmd = TT_CMD_SUBMIT;
    tt_order *x = &o->v[o->n++];
    memset(x, 0, sizeof *x);
    x->cmd = *cmd;
    x->symbol = symbol;
    x->created = x->updated = ts;
    const char *why = invalid(cmd, ts);
    if (why) {
        x->status = TT_OS_REJECTED;
        x->reason = TT_REASON_INVALID;
        fill_event(x, TT_OS_REJECTED, TT_REASON_INVALID, ts, ev);
        forget(o, x);
        return tt_err_set(err, TT_EINVAL, "order %llu: %s", (unsigned long long)cmd->client_id,
                          why);
    }
    x->status = TT_OS_PENDING;
    x->reason = TT_REASON_NEW;
    fill_event(x, TT_OS_PENDING, TT_REASON_NEW, ts, ev);
    return TT_OK;
}

int tt_orders_transition(tt_orders *o, uint64_t id, int status, int reason, tt_ts ts,
                         tt_event *ev, tt_err *err)
{
    tt_order *x = find(o, id);
    if (!x)
        return tt_err_set(err, TT_ENOTFOUND, "order %llu is not live", (unsigned long long)id);
    if (!tt_order_transition_ok(x->status, status))
        return tt_err_set(err, TT_ESTATE, "order %llu: %s -> %s is not a lifecycle transition",
                          (unsigned long long)id, tt_order_status_name(x->status),
                          tt_order_status_name(status));
    fill_event(x, status, reason, ts, ev);
    if (status != TT_OS_MODIFIED)
        x->status = (uint8_t)status;
    x->reason = (uint16_t)reason;
    x->updated = ts;
    if (tt_order_status_terminal(status))
        forget(o, x);
    return TT_OK;
}

int tt_orders_apply(tt_orders *o, const tt_event *ev, tt_err *err)
{
    const tt_order_event *e = &ev->u.order_ev;
    if (e->client_id == 0)
        return 0;
    tt_order *x = find(o, e->client_id);
    if (!x)
        return tt_err_set(err, TT_ENOTFOUND, "venue event %s for order %llu, which is not live",
                          tt_order_status_name(e->status), (unsigned long long)e->client_id);
    if (!tt_order_transition_ok(x->status, e->status))
        return tt_err_set(err, TT_ESTATE,
                          "order %llu: venue sent %s (%s) while it is %s: not a lifecycle "
                          "transition",
                          (unsigned long long)e->client_id, tt_order_status_name(e->status),
                          tt_order_reason_name(e->reason), tt_order_status_name(x->status));
    if (e->fill_qty > 0) {
        x->filled_qty += e->fill_qty;
        x->fill_cost += e->fill_qty * e->fill_price;
    }
    if (e->status != TT_OS_MODIFIED) /* a modify leaves the order working as it was */
        x->status = e->status;
    x->reason = e->reason;
    x->updated = ev->ts;
    if (tt_order_status_terminal(e->status))
        forget(o, x);
    return 1;
}

int tt_orders_set_prices(tt_orders *o, uint64_t id, tt_price price, tt_price stop_price,
                         tt_price stop_loss, tt_price take_profit)
{
    tt_order *x = find(o, id);
    if (!x)
        return TT_ENOTFOUND;
    x->cmd.price = price;
    x->cmd.stop_price = stop_price;
    x->cmd.stop_loss = stop_loss;
    x->cmd.take_profit = take_profit;
    return TT_OK;
}

const tt_order *tt_orders_get(const tt_orders *o, uint64_t id) { return find(o, id); }
size_t tt_orders_count(const tt_orders *o) { return o->n; }
const tt_order *tt_orders_at(const tt_orders *o, size_t i) { return i < o->n ? &o->v[i] : NULL; }
uint64_t tt_orders_last_id(const tt_orders *o) { return o->last_id; }
