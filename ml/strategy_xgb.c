/*
 * The xgb strategy (strategy_xgb.h): features per closed bar, a prediction,
 * a signal, a position target. Orders follow the built-ins' rule: to change
 * side the position is closed first (tt_ctx_close, netting or hedging), then
 * a market order opens the new side; while an order is in flight nothing new
 * is decided, so a slow venue never doubles an order.
 */
#include "strategy_xgb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/external.h"
#include "../core/features.h"
#include "model.h"

typedef struct xgb {
    tt_ml_model *m;
    tt_features *f;
    double *row;
    uint32_t sym;
    int tf, side;
    double long_above, short_below;
    int64_t qty, sl_pips, tp_pips;
    int allow_short, hold;
    int inflight;
    uint64_t model_id;
} xgb;

static void xgb_destroy(void *s)
{
    xgb *x = s;
    if (!x)
        return;
    tt_ml_model_free(x->m);
    tt_features_free(x->f);
    free(x->row);
    free(x);
}

static int fail(tt_strategy_ctx *c, int code, const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));
static int fail(tt_strategy_ctx *c, int code, const char *fmt, const char *arg)
{
    char msg[1100];
    snprintf(msg, sizeof msg, fmt, arg);
    return tt_ctx_fail(c, code, msg);
}

/* Symbol, timeframe and side: the parameters, else what the model's sidecar
 * says, else the run's first symbol and bid. */
static int where(tt_strategy_ctx *c, xgb *x)
{
    const char *sym, *tf, *side;
    int rc;
    if ((rc = tt_ctx_param_str(c, "symbol", NULL, &sym)) ||
        (rc = tt_ctx_param_str(c, "tf", NULL, &tf)) ||
        (rc = tt_ctx_param_str(c, "side", NULL, &side)))
        return rc;
    x->sym = sym ? tt_ctx_symbol_id(c, sym) : 0;
    if (!sym && x->m->symbol[0])
        x->sym = tt_ctx_symbol_id(c, x->m->symbol);
    if (!sym && !x->sym)
        x->sym = tt_ctx_symbol_at(c, 0);
    if (!x->sym)
        return fail(c, TT_EINVAL, "parameter symbol: '%s' is not a symbol of the run",
                    sym ? sym : "?");
    x->tf = tf ? tt_timeframe_parse(tf) : x->m->tf;
    if (x->tf == TT_TF_NONE || tt_timeframe_ns(x->tf) <= 0)
        return tt_ctx_fail(c, TT_EINVAL,
                           "parameter tf: needed (S1 .. W1): the model has no sidecar naming "
                           "its timeframe");
    if (x->m->tf != TT_TF_NONE && x->tf != x->m->tf)
        return fail(c, TT_EINVAL, "parameter tf: the model was trained on %s bars",
                    tt_timeframe_name(x->m->tf));
    x->side = side ? tt_price_side_parse(side) : x->m->has_meta ? x->m->side : TT_SIDE_BID;
    if (x->side < 0)
        return tt_ctx_fail(c, TT_EINVAL, "parameter side: bid, ask or mid");
    return TT_OK;
}

static int xgb_create(tt_strategy_ctx *c, void **state)
{
    xgb *x = calloc(1, sizeof *x);
    if (!x)
        return tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    const char *model;
    int64_t v, hold;
    tt_err err;
    int rc = tt_ctx_param_str(c, "model", NULL, &model);
    if (!rc && !model)
        rc = tt_ctx_fail(c, TT_EINVAL, "parameter model: the model file (XGBoost JSON) is needed");
    if (!rc && (rc = tt_ml_model_load(&x->m, model, &err)))
        rc = tt_ctx_fail(c, rc, err.msg);
    if (!rc)
        rc = where(c, x);
    int logistic = !rc && x->m->forest.transform == TT_FOREST_SIGMOID;
    if (!rc)
        rc = tt_ctx_param_double(c, "long_above", logistic ? 0.55 : 0.0, -1e9, 1e9,
                                 &x->long_above);
    if (!rc)
        rc = tt_ctx_param_double(c, "short_below", logistic ? 0.45 : 0.0, -1e9, 1e9,
                                 &x->short_below);
    if (!rc && x->short_below > x->long_above)
        rc = tt_ctx_fail(c, TT_EINVAL, "parameters short_below and long_above: short_below must "
                                       "not be above long_above");
    if (!rc)
        rc = tt_ctx_param_int(c, "qty", 10, 1, INT64_C(1) << 40, &x->qty);
    if (!rc)
        rc = tt_ctx_param_int(c, "sl_pips", 0, 0, 100000, &x->sl_pips);
    if (!rc)
        rc = tt_ctx_param_int(c, "tp_pips", 0, 0, 100000, &x->tp_pips);
    if (!rc)
        rc = tt_ctx_param_int(c, "short", 1, 0, 1, &v);
    if (!rc)
        rc = tt_ctx_param_int(c, "hold", 0, 0, 1, &hold);
    if (!rc) {
        x->allow_short = (int)v;
        x->hold = (int)hold;
        x->model_id = strtoull(x->m->id, NULL, 16);
        if ((rc = tt_features_new(&x->f, x->tf, x->m->cols, x->m->ncols, &err)))
            rc = tt_ctx_fail(c, rc, err.msg);
    }
    if (!rc) { /* the news features read the run's schedule (NaN without one) */
        const tt_instrument *in = tt_ctx_instrument(c, x->sym);
        tt_features_set_news(x->f, tt_ctx_news(c), in ? tt_currency_code(in->base) : 0,
                             in ? tt_currency_code(in->quote) : 0);
    }
    if (!rc && !(x->row = malloc((size_t)x->m->ncols * sizeof *x->row)))
        rc = tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    if (!rc)
        rc = tt_ctx_subscribe_bars(c, x->sym, x->tf, x->side);
    if (rc) {
        xgb_destroy(x);
        return rc;
    }
    *state = x;
    return TT_OK;
}

/* Move the position toward dir (+1, -1, 0). */
static void target(tt_strategy_ctx *c, xgb *x, int dir)
{
    if (x->inflight)
        return;
    int64_t net = tt_ctx_position(c, x->sym);
    int cur = net > 0 ? 1 : net < 0 ? -1 : 0;
    if (cur == dir)
        return;
    if (cur != 0)
        x->inflight += tt_ctx_close(c, x->sym);
    if (dir == 0)
        return;
    tt_quote q;
    const tt_instrument *ins = tt_ctx_instrument(c, x->sym);
    tt_price sl = 0, tp = 0;
    if (tt_ctx_quote(c, x->sym, &q) && ins) {
        tt_price px = dir > 0 ? q.ask : q.bid;
        sl = x->sl_pips ? px - dir * x->sl_pips * ins->pip : 0;
        tp = x->tp_pips ? px + dir * x->tp_pips * ins->pip : 0;
    }
    if (tt_ctx_market(c, x->sym, dir * x->qty, sl, tp))
        x->inflight++;
}

static void xgb_quote(void *s, tt_strategy_ctx *c, const tt_event *q)
{
    (void)c;
    xgb *x = s;
    if (q->symbol == x->sym)
        tt_features_quote(x->f, &q->u.quote);
}

static void xgb_bar(void *s, tt_strategy_ctx *c, const tt_event *bar)
{
    xgb *x = s;
    if (bar->symbol != x->sym || bar->u.bar.tf != x->tf || bar->u.bar.side != x->side)
        return;
    if (tt_features_bar(x->f, bar, x->row, NULL))
        return; /* a bar out of order cannot happen from the bar component */
    float p = tt_ml_model_predict(x->m, x->row);
    int dir = p > x->long_above ? 1 : p < x->short_below ? -1 : 0;
    if (dir < 0 && !x->allow_short)
        dir = 0;
    tt_signal sig;
    memset(&sig, 0, sizeof sig);
    double strength = x->m->forest.transform == TT_FOREST_SIGMOID ? 2.0 * p - 1.0 : (double)p;
    sig.strength = strength > 1 ? 1 : strength < -1 ? -1 : strength;
    sig.direction = (int8_t)dir;
    sig.has_model = 1;
    sig.prediction = p;
    sig.model_id = x->model_id;
    tt_ctx_signal(c, x->sym, &sig);
    if (dir == 0 && x->hold)
        return;
    target(c, x, dir);
}

static void xgb_order_event(void *s, tt_strategy_ctx *c, const tt_event *ev)
{
    (void)c;
    xgb *x = s;
    const tt_order_event *o = &ev->u.order_ev;
    if (o->client_id && tt_order_status_terminal(o->status) && x->inflight > 0)
        x->inflight--;
}

const tt_strategy_vtable tt_strategy_xgb = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "xgb",
    "an XGBoost model on the feature engine: long above long_above, short below short_below",
    "model=FILE symbol=<sidecar|first> tf=<sidecar> side=<sidecar|bid> long_above=0.55 "
    "short_below=0.45 (0 and 0 for regression) qty=10 sl_pips=0 tp_pips=0 short=1 hold=0",
    xgb_create, xgb_destroy, NULL, xgb_quote, xgb_bar, xgb_order_event, NULL, NULL, NULL,
};

const tt_strategy_vtable *tt_ml_strategy(const char *name)
{
    return name && !strcmp(name, tt_strategy_xgb.name) ? &tt_strategy_xgb : NULL;
}
