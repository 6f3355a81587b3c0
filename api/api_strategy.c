/*
 * ticktape API: strategies given as callbacks, and the strategy context as
 * plain functions (api/ticktape_api.h).
 *
 * How this works: one vtable ("callbacks") serves every caller strategy; the
 * run's strategy_user is the caller's tt_api_callbacks (tt_ctx_user), which
 * becomes the strategy's state. Each engine callback flattens its event into
 * scalars and calls the caller's function. The tt_api_ctx_* functions are
 * the inline tt_ctx_* helpers of core/strategy.h made callable through an
 * FFI; they do nothing else, so a strategy in Python has exactly the order
 * API of one in C (the same checks, the same risk gate, the same events).
 */
#include <string.h>

#include "api_internal.h"

static int cb_create(tt_strategy_ctx *c, void **state)
{
    const tt_api_callbacks *cb = tt_ctx_user(c);
    if (!cb)
        return tt_ctx_fail(c, TT_EINVAL, "callbacks strategy: no callbacks given");
    *state = (void *)cb;
    return cb->create ? cb->create(cb->user, c) : TT_OK;
}

static int cb_on_start(void *state, tt_strategy_ctx *c)
{
    const tt_api_callbacks *cb = state;
    return cb->on_start ? cb->on_start(cb->user, c) : TT_OK;
}

static void cb_on_quote(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    const tt_api_callbacks *cb = state;
    if (cb->on_quote)
        cb->on_quote(cb->user, c, ev->ts, ev->symbol, ev->u.quote.bid, ev->u.quote.ask);
}

static void cb_on_bar(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    const tt_api_callbacks *cb = state;
    if (!cb->on_bar)
        return;
    tt_api_bar b = {ev->ts, ev->ts_init, ev->u.bar.open, ev->u.bar.high, ev->u.bar.low,
                    ev->u.bar.close, ev->u.bar.volume, ev->u.bar.ticks, ev->u.bar.tf,
                    ev->u.bar.side, 0};
    cb->on_bar(cb->user, c, &b, ev->symbol);
}

static void cb_on_order_event(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    const tt_api_callbacks *cb = state;
    const tt_order_event *o = &ev->u.order_ev;
    if (o->fill_qty > 0 && cb->on_fill)
        cb->on_fill(cb->user, c, ev->ts, ev->symbol, o->client_id, o->side, o->fill_price,
                    o->fill_qty, o->commission);
    if (cb->on_order)
        cb->on_order(cb->user, c, ev->ts, ev->symbol, o->client_id, o->status, o->reason,
                     o->side, o->leaves_qty);
}

static void cb_on_timer(void *state, tt_strategy_ctx *c, uint64_t id, uint64_t value)
{
    const tt_api_callbacks *cb = state;
    if (cb->on_timer)
        cb->on_timer(cb->user, c, id, value);
}

static void cb_on_external(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    const tt_api_callbacks *cb = state;
    if (cb->on_external)
        cb->on_external(cb->user, c, ev->ts, ev->symbol, ev->u.blob.type, ev->u.blob.value,
                        ev->u.blob.data, ev->u.blob.len);
}

static void cb_on_stop(void *state, tt_strategy_ctx *c)
{
    const tt_api_callbacks *cb = state;
    if (cb->on_stop)
        cb->on_stop(cb->user, c);
}

static const tt_strategy_vtable CALLBACKS = {
    .abi_version = TT_STRATEGY_ABI_VERSION,
    .struct_size = sizeof(tt_strategy_vtable),
    .name = "callbacks",
    .summary = "a strategy given as callbacks through the C API (Python classes)",
    .params = "",
    .create = cb_create,
    .on_start = cb_on_start,
    .on_quote = cb_on_quote,
    .on_bar = cb_on_bar,
    .on_order_event = cb_on_order_event,
    .on_timer = cb_on_timer,
    .on_external = cb_on_external,
    .on_stop = cb_on_stop,
};

const tt_strategy_vtable *tt_api_callbacks_vtable(void) { return &CALLBACKS; }

/* ---- the context ---- */

int64_t tt_api_ctx_now(tt_strategy_ctx *c) { return tt_ctx_now(c); }
uint32_t tt_api_ctx_symbol_id(tt_strategy_ctx *c, const char *name)
{
    return tt_ctx_symbol_id(c, name);
}
const char *tt_api_ctx_symbol_name(tt_strategy_ctx *c, uint32_t symbol)
{
    const tt_instrument *i = tt_ctx_instrument(c, symbol);
    return i ? i->symbol : NULL;
}
uint32_t tt_api_ctx_symbol_count(tt_strategy_ctx *c) { return tt_ctx_symbol_count(c); }
uint32_t tt_api_ctx_symbol_at(tt_strategy_ctx *c, uint32_t i) { return tt_ctx_symbol_at(c, i); }

int tt_api_ctx_quote(tt_strategy_ctx *c, uint32_t symbol, int64_t *bid, int64_t *ask)
{
    tt_quote q;
    if (!tt_ctx_quote(c, symbol, &q))
        return 0;
    *bid = q.bid;
    *ask = q.ask;
    return 1;
}

int64_t tt_api_ctx_position(tt_strategy_ctx *c, uint32_t symbol)
{
    return tt_ctx_position(c, symbol);
}

void tt_api_ctx_account(tt_strategy_ctx *c, tt_api_account *out)
{
    tt_account a;
    tt_ctx_account(c, &a);
    out->balance = a.balance;
    out->equity = a.equity;
    out->unrealized = a.unrealized;
    out->margin = a.margin;
    out->free_margin = a.free_margin;
    out->exposure = a.exposure;
    out->realized = a.realized;
    out->commissions = a.commissions;
    out->swaps = a.swaps;
    out->net_qty = a.net_qty;
    out->margin_level = a.margin_level;
}

uint64_t tt_api_ctx_submit(tt_strategy_ctx *c, uint32_t symbol, int side, int type, int tif,
                           int64_t qty, int64_t price, int64_t stop_price, int64_t take_profit,
                           int64_t stop_loss, int64_t expire_ts, uint32_t position)
{
    tt_order_req r = {
        .symbol = symbol,
        .side = (int8_t)side,
        .type = (uint8_t)type,
        .tif = (uint8_t)tif,
        .qty = qty,
        .price = price,
        .stop_price = stop_price,
        .take_profit = take_profit,
        .stop_loss = stop_loss,
        .expire_ts = expire_ts,
        .position = position,
    };
    return tt_ctx_submit(c, &r);
}

int tt_api_ctx_cancel(tt_strategy_ctx *c, uint64_t id) { return tt_ctx_cancel(c, id); }
int tt_api_ctx_modify(tt_strategy_ctx *c, uint64_t id, int64_t price, int64_t stop_price,
                      int64_t stop_loss, int64_t take_profit)
{
    return tt_ctx_modify(c, id, price, stop_price, stop_loss, take_profit);
}
int tt_api_ctx_close(tt_strategy_ctx *c, uint32_t symbol) { return tt_ctx_close(c, symbol); }
uint64_t tt_api_ctx_timer_set(tt_strategy_ctx *c, int64_t at, uint64_t value)
{
    return tt_ctx_timer_set(c, at, value);
}
void tt_api_ctx_timer_cancel(tt_strategy_ctx *c, uint64_t id) { tt_ctx_timer_cancel(c, id); }
void tt_api_ctx_log(tt_strategy_ctx *c, int level, const char *msg)
{
    c->host->log(c, level, msg);
}
double tt_api_ctx_random(tt_strategy_ctx *c) { return tt_rng_uniform(tt_ctx_rng(c)); }

int tt_api_ctx_param_int(tt_strategy_ctx *c, const char *key, int64_t def, int64_t *out)
{
    return tt_ctx_param_int(c, key, def, INT64_MIN, INT64_MAX, out);
}
int tt_api_ctx_param_double(tt_strategy_ctx *c, const char *key, double def, double *out)
{
    return tt_ctx_param_double(c, key, def, -1e300, 1e300, out);
}
int tt_api_ctx_param_str(tt_strategy_ctx *c, const char *key, const char *def, const char **out)
{
    return tt_ctx_param_str(c, key, def, out);
}

int tt_api_ctx_subscribe_bars(tt_strategy_ctx *c, uint32_t symbol, const char *tf,
                              const char *side)
{
    int itf = tt_timeframe_parse(tf ? tf : "");
    int iside = tt_price_side_parse(side ? side : "bid");
    if (itf <= TT_TF_NONE || itf >= TT_TF_COUNT || iside < 0)
        return TT_EINVAL;
    return tt_ctx_subscribe_bars(c, symbol, itf, iside);
}

int tt_api_ctx_fail(tt_strategy_ctx *c, int code, const char *msg)
{
    return tt_ctx_fail(c, code, msg);
}
