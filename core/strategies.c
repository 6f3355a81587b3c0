/*
 * The built-in strategies: sma_cross, breakout, rsi_reversion, buy_and_hold,
 * tick_momentum.
 *
 * They are written exactly as a plugin would be: only through the context
 * (tt_ctx_*), so they double as examples of the API. The three signal
 * strategies share one skeleton (a symbol, a bar subscription, a target
 * direction, optional stop-loss / take-profit in pips) and differ only in how
 * they turn a closed bar into a target: +1 long, -1 short, 0 flat.
 * tick_momentum uses the same targets on every quote instead of on bars: it
 * is the one that trades in a paper session fed faster than real time, where
 * bars are built on arrival time and hours of ticks make a few bars.
 *
 * Reaching a target: when the position points the other way it is closed
 * first (tt_ctx_close: works in netting and hedging mode), then a market order
 * opens the new side. While any order sent is still in flight the strategy
 * does not decide again, so a slow venue (latency) never makes it send the
 * same order twice.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "indicators.h"
#include "strategy.h"

/* ---- shared skeleton ---- */

typedef struct base {
    uint32_t sym;
    int tf, side;
    int64_t qty;
    int64_t sl_pips, tp_pips;
    int allow_short;
    int inflight; /* orders sent and not yet in a terminal state */
} base;

static int base_create(tt_strategy_ctx *c, base *b, const char *def_tf)
{
    const char *sym, *tf, *side;
    int64_t v;
    int rc;
    if ((rc = tt_ctx_param_str(c, "symbol", NULL, &sym)))
        return rc;
    b->sym = sym ? tt_ctx_symbol_id(c, sym) : tt_ctx_symbol_at(c, 0);
    if (!b->sym)
        return tt_ctx_fail(c, TT_EINVAL, sym ? "parameter symbol: unknown symbol"
                                             : "no symbol: set symbol=... or give the run a symbol");
    if ((rc = tt_ctx_param_str(c, "tf", def_tf, &tf)))
        return rc;
    b->tf = tf ? tt_timeframe_parse(tf) : TT_TF_NONE;
    if (b->tf == TT_TF_NONE)
        return tt_ctx_fail(c, TT_EINVAL, "parameter tf: not a timeframe (S1, M1, M5, ... MN1)");
    if ((rc = tt_ctx_param_str(c, "side", "bid", &side)))
        return rc;
    b->side = !strcmp(side, "bid") ? TT_SIDE_BID : !strcmp(side, "ask") ? TT_SIDE_ASK
              : !strcmp(side, "mid") ? TT_SIDE_MID : -1;
    if (b->side < 0)
        return tt_ctx_fail(c, TT_EINVAL, "parameter side: bid, ask or mid");
    if ((rc = tt_ctx_param_int(c, "qty", 10, 1, INT64_C(1) << 40, &b->qty)) ||
        (rc = tt_ctx_param_int(c, "sl_pips", 0, 0, 100000, &b->sl_pips)) ||
        (rc = tt_ctx_param_int(c, "tp_pips", 0, 0, 100000, &b->tp_pips)) ||
        (rc = tt_ctx_param_int(c, "short", 1, 0, 1, &v)))
        return rc;
    b->allow_short = (int)v;
    return tt_ctx_subscribe_bars(c, b->sym, b->tf, b->side);
}

static void base_order_event(base *b, const tt_event *ev)
{
    const tt_order_event *o = &ev->u.order_ev;
    if (o->client_id && tt_order_status_terminal(o->status) && b->inflight > 0)
        b->inflight--;
}

/* Move the position of b->sym toward dir (+1, -1, 0). */
static void base_target(tt_strategy_ctx *c, base *b, int dir)
{
    if (b->inflight)
        return;
    if (dir < 0 && !b->allow_short)
        dir = 0;
    int64_t net = tt_ctx_position(c, b->sym);
    int cur = net > 0 ? 1 : net < 0 ? -1 : 0;
    if (cur == dir)
        return;
    if (cur != 0)
        b->inflight += tt_ctx_close(c, b->sym);
    if (dir == 0)
        return;
    tt_quote q;
    const tt_instrument *ins = tt_ctx_instrument(c, b->sym);
    tt_price sl = 0, tp = 0;
    if (tt_ctx_quote(c, b->sym, &q) && ins) {
        tt_price px = dir > 0 ? q.ask : q.bid;
        if (b->sl_pips)
            sl = px - dir * b->sl_pips * ins->pip;
        if (b->tp_pips)
            tp = px + dir * b->tp_pips * ins->pip;
    }
    if (tt_ctx_market(c, b->sym, dir * b->qty, sl, tp))
        b->inflight++;
}

static int is_mine(const base *b, const tt_event *bar)
{
    return bar->symbol == b->sym && bar->u.bar.tf == b->tf && bar->u.bar.side == b->side;
}

static void on_order_event_base(void *s, tt_strategy_ctx *c, const tt_event *ev)
{
    (void)c;
    base_order_event((base *)s, ev);
}

/* ---- sma_cross: long when the fast SMA crosses above the slow one, short below ---- */

typedef struct sma_cross {
    base b;
    tt_sma fast, slow;
    int last; /* sign of fast - slow at the last bar */
} sma_cross;

static void sma_destroy(void *s)
{
    sma_cross *x = s;
    tt_sma_free(&x->fast);
    tt_sma_free(&x->slow);
    free(x);
}

static int sma_create(tt_strategy_ctx *c, void **state)
{
    sma_cross *x = calloc(1, sizeof *x);
    if (!x)
        return tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    int64_t fast, slow;
    int rc = base_create(c, &x->b, "M1");
    if (!rc)
        rc = tt_ctx_param_int(c, "fast", 10, 1, 100000, &fast);
    if (!rc)
        rc = tt_ctx_param_int(c, "slow", 30, 2, 100000, &slow);
    if (!rc && fast >= slow)
        rc = tt_ctx_fail(c, TT_EINVAL, "parameters fast and slow: fast must be < slow");
    tt_err err;
    int irc = TT_OK; /* the window's own code: TT_ENOMEM is not a bad parameter */
    if (!rc && ((irc = tt_sma_init(&x->fast, (int)fast, &err)) ||
                (irc = tt_sma_init(&x->slow, (int)slow, &err))))
        rc = tt_ctx_fail(c, irc, err.msg);
    if (rc) {
        sma_destroy(x);
        return rc;
    }
    *state = x;
    return TT_OK;
}

static void sma_bar(void *s, tt_strategy_ctx *c, const tt_event *bar)
{
    sma_cross *x = s;
    if (!is_mine(&x->b, bar))
        return;
    double close = (double)bar->u.bar.close;
    double f = tt_sma_update(&x->fast, close), sl = tt_sma_update(&x->slow, close);
    if (!tt_sma_ready(&x->slow))
        return;
    int dir = f > sl ? 1 : f < sl ? -1 : 0;
    if (dir && x->last && dir != x->last)
        base_target(c, &x->b, dir);
    if (dir)
        x->last = dir;
}

const tt_strategy_vtable tt_strategy_sma_cross = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "sma_cross",
    "long when the fast SMA of bar closes crosses above the slow one, short when below",
    "symbol=<first> tf=M1 side=bid fast=10 slow=30 qty=10 sl_pips=0 tp_pips=0 short=1",
    sma_create, sma_destroy, NULL, NULL, sma_bar, on_order_event_base, NULL, NULL, NULL,
};

/* ---- breakout: Donchian channel of the previous n bars ---- */

typedef struct breakout {
    base b;
    tt_donchian ch;
    int exit_mid; /* 1: go flat when the close crosses the channel middle */
} breakout;

static void brk_destroy(void *s)
{
    breakout *x = s;
    tt_donchian_free(&x->ch);
    free(x);
}

static int brk_create(tt_strategy_ctx *c, void **state)
{
    breakout *x = calloc(1, sizeof *x);
    if (!x)
        return tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    int64_t n, em;
    int rc = base_create(c, &x->b, "M15");
    if (!rc)
        rc = tt_ctx_param_int(c, "n", 20, 1, 100000, &n);
    if (!rc)
        rc = tt_ctx_param_int(c, "exit_mid", 0, 0, 1, &em);
    tt_err err;
    int irc = TT_OK;
    if (!rc && (irc = tt_donchian_init(&x->ch, (int)n, &err)))
        rc = tt_ctx_fail(c, irc, err.msg);
    if (rc) {
        brk_destroy(x);
        return rc;
    }
    x->exit_mid = (int)em;
    *state = x;
    return TT_OK;
}

static void brk_bar(void *s, tt_strategy_ctx *c, const tt_event *bar)
{
    breakout *x = s;
    if (!is_mine(&x->b, bar))
        return;
    double close = (double)bar->u.bar.close;
    if (tt_donchian_ready(&x->ch)) { /* the channel of the bars before this one */
        double up = tt_donchian_upper(&x->ch), lo = tt_donchian_lower(&x->ch);
        double mid = tt_donchian_middle(&x->ch);
        int64_t net = tt_ctx_position(c, x->b.sym);
        if (close > up)
            base_target(c, &x->b, 1);
        else if (close < lo)
            base_target(c, &x->b, -1);
        else if (x->exit_mid && ((net > 0 && close < mid) || (net < 0 && close > mid)))
            base_target(c, &x->b, 0);
    }
    tt_donchian_update(&x->ch, (double)bar->u.bar.high, (double)bar->u.bar.low);
}

const tt_strategy_vtable tt_strategy_breakout = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "breakout",
    "Donchian breakout: long above the highest high of the previous n bars, short below the "
    "lowest low",
    "symbol=<first> tf=M15 side=bid n=20 exit_mid=0 qty=10 sl_pips=0 tp_pips=0 short=1",
    brk_create, brk_destroy, NULL, NULL, brk_bar, on_order_event_base, NULL, NULL, NULL,
};

/* ---- rsi_reversion: buy oversold, sell overbought, exit at 50 ---- */

typedef struct rsi_rev {
    base b;
    tt_rsi rsi;
    double lower, upper;
} rsi_rev;

static void rsi_destroy(void *s)
{
    rsi_rev *x = s;
    tt_rsi_free(&x->rsi);
    free(x);
}

static int rsi_create(tt_strategy_ctx *c, void **state)
{
    rsi_rev *x = calloc(1, sizeof *x);
    if (!x)
        return tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    int64_t n;
    int rc = base_create(c, &x->b, "M5");
    if (!rc)
        rc = tt_ctx_param_int(c, "n", 14, 2, 100000, &n);
    if (!rc)
        rc = tt_ctx_param_double(c, "lower", 30, 0, 100, &x->lower);
    if (!rc)
        rc = tt_ctx_param_double(c, "upper", 70, 0, 100, &x->upper);
    if (!rc && !(x->lower < 50 && x->upper > 50))
        rc = tt_ctx_fail(c, TT_EINVAL, "parameters lower and upper: need lower < 50 < upper");
    tt_err err;
    int irc = TT_OK;
    if (!rc && (irc = tt_rsi_init(&x->rsi, (int)n, &err)))
        rc = tt_ctx_fail(c, irc, err.msg);
    if (rc) {
        rsi_destroy(x);
        return rc;
    }
    *state = x;
    return TT_OK;
}

static void rsi_bar(void *s, tt_strategy_ctx *c, const tt_event *bar)
{
    rsi_rev *x = s;
    if (!is_mine(&x->b, bar))
        return;
    double v = tt_rsi_update(&x->rsi, (double)bar->u.bar.close);
    if (!tt_rsi_ready(&x->rsi) || isnan(v))
        return;
    int64_t net = tt_ctx_position(c, x->b.sym);
    if (v < x->lower)
        base_target(c, &x->b, 1);
    else if (v > x->upper)
        base_target(c, &x->b, -1);
    else if ((net > 0 && v >= 50) || (net < 0 && v <= 50))
        base_target(c, &x->b, 0);
}

const tt_strategy_vtable tt_strategy_rsi_reversion = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "rsi_reversion",
    "mean reversion on Wilder's RSI: long below `lower`, short above `upper`, flat at 50",
    "symbol=<first> tf=M5 side=bid n=14 lower=30 upper=70 qty=10 sl_pips=0 tp_pips=0 short=1",
    rsi_create, rsi_destroy, NULL, NULL, rsi_bar, on_order_event_base, NULL, NULL, NULL,
};

/* ---- buy_and_hold: one market buy on the first quote ---- */

typedef struct hold {
    uint32_t sym;
    int64_t qty;
    int done;
} hold;

static int hold_create(tt_strategy_ctx *c, void **state)
{
    const char *sym;
    hold *x = calloc(1, sizeof *x);
    if (!x)
        return tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    /* each parameter is checked right after it is read: the host names the
     * last parameter read as the one an error concerns */
    int rc = tt_ctx_param_str(c, "symbol", NULL, &sym);
    if (!rc) {
        x->sym = sym ? tt_ctx_symbol_id(c, sym) : tt_ctx_symbol_at(c, 0);
        if (!x->sym)
            rc = tt_ctx_fail(c, TT_EINVAL, "parameter symbol: unknown or missing symbol");
    }
    if (!rc)
        rc = tt_ctx_param_int(c, "qty", 10, 1, INT64_C(1) << 40, &x->qty);
    if (rc) {
        free(x);
        return rc;
    }
    *state = x;
    return TT_OK;
}

static void hold_quote(void *s, tt_strategy_ctx *c, const tt_event *q)
{
    hold *x = s;
    if (x->done || q->symbol != x->sym)
        return;
    x->done = 1;
    tt_ctx_market(c, x->sym, x->qty, 0, 0);
}

const tt_strategy_vtable tt_strategy_buy_and_hold = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "buy_and_hold",
    "buy qty at the first quote and hold to the end",
    "symbol=<first> qty=10",
    hold_create, free, NULL, hold_quote, NULL, NULL, NULL, NULL, NULL,
};

/* ---- tick_momentum: the bid against the SMA of the last n bids ---- */

typedef struct tick_mom {
    base b;
    tt_sma sma;
    int64_t move; /* points */
} tick_mom;

static void tmom_destroy(void *s)
{
    tick_mom *x = s;
    tt_sma_free(&x->sma);
    free(x);
}

static int tmom_create(tt_strategy_ctx *c, void **state)
{
    tick_mom *x = calloc(1, sizeof *x);
    if (!x)
        return tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    const char *sym;
    int64_t n, v;
    int rc = tt_ctx_param_str(c, "symbol", NULL, &sym);
    if (!rc) {
        x->b.sym = sym ? tt_ctx_symbol_id(c, sym) : tt_ctx_symbol_at(c, 0);
        if (!x->b.sym)
            rc = tt_ctx_fail(c, TT_EINVAL, "parameter symbol: unknown or missing symbol");
    }
    /* each parameter checked right after it is read (the host names the last one read) */
    if (!rc)
        rc = tt_ctx_param_int(c, "n", 200, 2, 1000000, &n);
    if (!rc)
        rc = tt_ctx_param_int(c, "move", 15, 1, 1000000, &x->move);
    if (!rc)
        rc = tt_ctx_param_int(c, "qty", 10, 1, INT64_C(1) << 40, &x->b.qty);
    if (!rc)
        rc = tt_ctx_param_int(c, "sl_pips", 0, 0, 100000, &x->b.sl_pips);
    if (!rc)
        rc = tt_ctx_param_int(c, "tp_pips", 0, 0, 100000, &x->b.tp_pips);
    if (!rc)
        rc = tt_ctx_param_int(c, "short", 1, 0, 1, &v);
    x->b.allow_short = rc ? 0 : (int)v;
    tt_err err;
    int irc;
    if (!rc && (irc = tt_sma_init(&x->sma, (int)n, &err)))
        rc = tt_ctx_fail(c, irc, err.msg); /* TT_ENOMEM stays TT_ENOMEM */
    if (rc) {
        tmom_destroy(x);
        return rc;
    }
    *state = x;
    return TT_OK;
}

/* Above the average by more than `move`: long; below by more: short; back
 * through the average against the position: flat. */
static void tmom_quote(void *s, tt_strategy_ctx *c, const tt_event *q)
{
    tick_mom *x = s;
    if (q->symbol != x->b.sym || q->u.quote.bid <= 0)
        return;
    double bid = (double)q->u.quote.bid;
    double avg = tt_sma_update(&x->sma, bid);
    if (!tt_sma_ready(&x->sma))
        return;
    double gap = bid - avg;
    int64_t net = tt_ctx_position(c, x->b.sym);
    if (gap > (double)x->move)
        base_target(c, &x->b, 1);
    else if (gap < -(double)x->move)
        base_target(c, &x->b, -1);
    else if ((net > 0 && gap < 0) || (net < 0 && gap > 0))
        base_target(c, &x->b, 0);
}

const tt_strategy_vtable tt_strategy_tick_momentum = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "tick_momentum",
    "on every quote: long when the bid is more than `move` points above the SMA of the last n "
    "bids, short when below, flat when it crosses back",
    "symbol=<first> n=200 move=15 qty=10 sl_pips=0 tp_pips=0 short=1",
    tmom_create, tmom_destroy, NULL, tmom_quote, NULL, on_order_event_base, NULL, NULL, NULL,
};
