/*
 * The MT5 venue's requests (see mt5_venue.h): an engine command checked
 * against the symbol's specification and turned into an ORDER frame, or
 * refused before it leaves with the reason named; cancels that wait for the
 * order's ticket; modifies; the QUERY that asks what became of a request.
 * Everything here runs under the venue's mutex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/order.h"
#include "../core/portfolio.h"
#include "mt5_venue_int.h"
#include "wallclock.h"

static void reject(tt_mt5_venue *v, tt_mt5v_order *x, int reason, const char *why)
{
    v->st.local_rejects++;
    tt_mt5v_report(v, tt_mt5v_ins(v, x->sym)->symbol, x->cid, 0, "order %llu rejected before it left: %s",
                   (unsigned long long)x->cid, why);
    tt_mt5v_order_event(v, x, TT_OS_REJECTED, reason, 0, 0, 0, 0);
}

/* ---- requests ---- */

int tt_mt5v_send_frame(tt_mt5_venue *v, const tt_mt5_frame *f, tt_err *err)
{
    if (!v->link || !v->connected)
        return tt_err_set(err, TT_ESTATE, "not connected");
    return tt_mt5_link_send(v->link, f, err);
}

void tt_mt5v_query(tt_mt5_venue *v, tt_mt5v_order *x)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_QUERY;
    f.u.query.id = ++v->id_seq;
    f.u.query.magic = tt_mt5v_magic(v, x->cid);
    f.u.query.order = x->ticket;
    if (tt_mt5v_send_frame(v, &f, NULL))
        return;
    x->qid = f.u.query.id;
    x->q_ns = tt_mono_ns();
    v->st.queries++;
}

static int send_request(tt_mt5_venue *v, tt_mt5v_order *x, tt_mt5_frame *f, int kind, int engine)
{
    f->type = TT_MT5_ORDER;
    f->u.order.id = ++v->req_seq;
    f->u.order.magic = tt_mt5v_magic(v, x->cid);
    snprintf(f->u.order.comment, sizeof f->u.order.comment, "tt:%llu",
             (unsigned long long)x->cid);
    if (engine && v->o.before_send)
        v->o.before_send(v->o.ctx);
    tt_err err;
    int rc = tt_mt5v_send_frame(v, f, &err);
    if (rc) {
        tt_mt5v_log(v, "order %llu: the request could not leave: %s", (unsigned long long)x->cid,
                    err.msg);
        return rc;
    }
    x->req = f->u.order.id;
    x->req_kind = (uint8_t)kind;
    x->req_ns = tt_mono_ns();
    x->qid = 0;
    v->st.requests++;
    return TT_OK;
}

int tt_mt5v_send_own(tt_mt5_venue *v, tt_mt5_frame *f)
{
    f->type = TT_MT5_ORDER;
    f->u.order.id = ++v->req_seq;
    f->u.order.magic = tt_mt5v_magic(v, 0);
    snprintf(f->u.order.comment, sizeof f->u.order.comment, "tt:reconcile");
    v->st.requests++;
    return tt_mt5v_send_frame(v, f, NULL);
}

void tt_mt5v_send_remove(tt_mt5_venue *v, tt_mt5v_order *x)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.u.order.action = TT_MT5_ACT_REMOVE;
    snprintf(f.u.order.sym, sizeof f.u.order.sym, "%s", tt_mt5v_ins(v, x->sym)->symbol);
    f.u.order.order = x->ticket;
    x->want_cancel = 0;
    send_request(v, x, &f, TT_CMD_CANCEL, 0);
}

/* The symbol's SL/TP and pending-price rules (docs/mt5-protocol.md). */
static int stops_ok(const tt_mt5v_sym *y, int side, tt_price ref, tt_price sl, tt_price tp)
{
    int64_t S = y->spec.stops;
    if (sl && (side > 0 ? !(sl < ref && ref - sl >= S) : !(sl > ref && sl - ref >= S)))
        return 0;
    if (tp && (side > 0 ? !(tp > ref && tp - ref >= S) : !(tp < ref && ref - tp >= S)))
        return 0;
    return 1;
}

static int pending_ok(const tt_mt5v_sym *y, int type, tt_price price)
{
    int64_t S = y->spec.stops;
    switch (type) {
    case TT_MT5_OT_BUY_LIMIT:
        return price < y->ask && y->ask - price >= S;
    case TT_MT5_OT_SELL_LIMIT:
        return price > y->bid && price - y->bid >= S;
    case TT_MT5_OT_BUY_STOP:
    case TT_MT5_OT_BUY_STOP_LIMIT:
        return price > y->ask && price - y->ask >= S;
    default:
        return price < y->bid && y->bid - price >= S;
    }
}

/* 1 when the order can only reduce a position the engine holds (a hedging
 * close, or a netting market order against the position, no larger). */
static int reduces(tt_mt5_venue *v, const tt_mt5v_order *x)
{
    const tt_order_cmd *c = &x->cmd;
    if (c->type != TT_ORD_MARKET)
        return 0;
    if (c->position)
        return tt_mt5v_mirror_by_ticket(v, c->position) != NULL;
    const tt_mt5v_pos *p = v->o.mode == TT_MODE_NETTING ? tt_mt5v_mirror_net(v, x->sym) : NULL;
    return p && p->side != c->side && c->qty <= p->qty;
}

/* Fill f (an ORDER) from the command; 0, or the reason it cannot leave (why
 * says what). */
static int build_submit(tt_mt5_venue *v, tt_mt5v_order *x, tt_mt5_frame *f, char *why,
                        size_t cap)
{
    const tt_order_cmd *c = &x->cmd;
    const tt_mt5v_sym *y = &v->sym[x->sym];
    const tt_mt5_spec *sp = &y->spec;
    tt_mt5_order *q = &f->u.order;
    if (v->halted)
        return snprintf(why, cap, "halted by reconciliation: a human must look"),
               TT_REASON_HALTED;
    if (v->killed && !reduces(v, x))
        return snprintf(why, cap, "the kill switch is engaged: only orders that reduce a "
                        "position"), TT_REASON_HALTED;
    if (!v->ready)
        return snprintf(why, cap, "%s", v->connected ? "the terminal is not in sync yet"
                                                     : "the terminal is not connected"),
               TT_REASON_DISCONNECTED;
    if (!y->ok)
        return snprintf(why, cap, "the terminal offers no usable %s", sp->sym[0] ? sp->sym
                        : tt_mt5v_ins(v, x->sym)->symbol), TT_REASON_TRADE_DISABLED;
    int64_t stale = v->o.stale_ms;
    if (!y->have_quote || (stale > 0 && tt_mono_ns() - y->quote_ns > stale * 1000000))
        return snprintf(why, cap, "no quote of %s for %lld ms", sp->sym, (long long)stale),
               TT_REASON_STALE;
    tt_mt5_dec lots = c->qty * y->step;
    if (lots < sp->vmin || lots > sp->vmax || lots % sp->vstep) {
        char l[32], lo[32], hi[32], st[32];
        tt_mt5_dec_format(lots, l);
        tt_mt5_dec_format(sp->vmin, lo);
        tt_mt5_dec_format(sp->vmax, hi);
        tt_mt5_dec_format(sp->vstep, st);
        return snprintf(why, cap, "volume %s lots: %s takes %s to %s in steps of %s", l, sp->sym,
                        lo, hi, st), TT_REASON_VOLUME;
    }
    if (sp->trade == TT_MT5_TM_DISABLED || (sp->trade == TT_MT5_TM_LONG_ONLY && c->side < 0) ||
        (sp->trade == TT_MT5_TM_SHORT_ONLY && c->side > 0) ||
        (sp->trade == TT_MT5_TM_CLOSE_ONLY && !c->position))
        return snprintf(why, cap, "%s: trade mode forbids it", sp->sym), TT_REASON_TRADE_DISABLED;
    snprintf(q->sym, sizeof q->sym, "%s", sp->sym);
    q->vol = lots;
    q->sl = tt_mt5v_px_dec(v, x->sym, c->stop_loss);
    q->tp = tt_mt5v_px_dec(v, x->sym, c->take_profit);
    int buy = c->side > 0;
    if (c->type == TT_ORD_MARKET) {
        q->action = TT_MT5_ACT_DEAL;
        q->type = buy ? TT_MT5_OT_BUY : TT_MT5_OT_SELL;
        q->price = tt_mt5v_px_dec(v, x->sym, buy ? y->ask : y->bid);
        q->dev = v->o.deviation;
        int fok = (sp->filling & TT_MT5_FILLING_FOK_FLAG) != 0;
        int ioc = (sp->filling & TT_MT5_FILLING_IOC_FLAG) != 0;
        if (c->tif == TT_TIF_FOK ? !fok : c->tif == TT_TIF_IOC ? !ioc : !fok && !ioc &&
                                                                         sp->exec != TT_MT5_EXEC_EXCHANGE)
            return snprintf(why, cap, "%s takes no such filling (flags %u)", sp->sym, sp->filling),
                   TT_REASON_FILLING;
        q->filling = c->tif == TT_TIF_IOC ? TT_MT5_FILL_IOC : c->tif == TT_TIF_FOK ? TT_MT5_FILL_FOK
                     : fok ? TT_MT5_FILL_FOK : ioc ? TT_MT5_FILL_IOC : TT_MT5_FILL_RETURN;
        if (!c->position && !stops_ok(y, c->side, buy ? y->bid : y->ask, c->stop_loss,
                                      c->take_profit))
            return snprintf(why, cap, "SL/TP on the wrong side of the market or within %u "
                            "points of it (stops level)", sp->stops), TT_REASON_STOPS_LEVEL;
        if (c->position) {
            tt_mt5v_pos *p = tt_mt5v_mirror_by_ticket((tt_mt5_venue *)v, c->position);
            if (!p || !p->bpos)
                return snprintf(why, cap, "position %u is not known at the broker", c->position),
                       TT_REASON_NO_POSITION;
            q->position = p->bpos;
            q->sl = q->tp = 0;
        }
        return 0;
    }
    if (c->tif == TT_TIF_IOC || c->tif == TT_TIF_FOK)
        return snprintf(why, cap, "an MT5 pending order rests: no IOC or FOK"), TT_REASON_FILLING;
    q->action = TT_MT5_ACT_PENDING;
    q->filling = TT_MT5_FILL_RETURN;
    tt_price price = c->type == TT_ORD_LIMIT ? c->price : c->stop_price;
    q->type = c->type == TT_ORD_LIMIT     ? (buy ? TT_MT5_OT_BUY_LIMIT : TT_MT5_OT_SELL_LIMIT)
              : c->type == TT_ORD_STOP    ? (buy ? TT_MT5_OT_BUY_STOP : TT_MT5_OT_SELL_STOP)
                                          : (buy ? TT_MT5_OT_BUY_STOP_LIMIT : TT_MT5_OT_SELL_STOP_LIMIT);
    q->price = tt_mt5v_px_dec(v, x->sym, price);
    if (c->type == TT_ORD_STOP_LIMIT)
        q->stoplimit = tt_mt5v_px_dec(v, x->sym, c->price);
    if (!pending_ok(y, q->type, price) ||
        !stops_ok(y, c->side, c->type == TT_ORD_STOP_LIMIT ? c->price : price, c->stop_loss,
                  c->take_profit))
        return snprintf(why, cap, "price or SL/TP on the wrong side of the market or within %u "
                        "points of it (stops level)", sp->stops), TT_REASON_STOPS_LEVEL;
    if (c->tif == TT_TIF_GTD) {
        q->time = TT_MT5_TIME_SPECIFIED;
        int64_t ms = tt_mt5_utc_ns_to_ms(c->expire_ts + 999999999, v->tz); /* whole seconds, later */
        q->exp = ms - ms % 1000;
    }
    return 0;
}

static void do_submit(tt_mt5_venue *v, tt_mt5v_order *x)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    char why[256];
    int reason = build_submit(v, x, &f, why, sizeof why);
    if (reason) {
        reject(v, x, reason, why);
        return;
    }
    if (send_request(v, x, &f, TT_CMD_SUBMIT, 1))
        reject(v, x, TT_REASON_DISCONNECTED, "the request could not be sent");
}

static void do_modify(tt_mt5_venue *v, tt_mt5v_order *x, const tt_order_cmd *c)
{
    const char *sym = tt_mt5v_ins(v, x->sym)->symbol;
    if (x->req || !x->ticket || !v->ready) {
        tt_mt5v_report(v, sym, x->cid, 0, "modify of order %llu not sent: %s",
                       (unsigned long long)x->cid, !v->ready ? "not connected"
                       : "its last request is not answered yet");
        return;
    }
    x->mod = *c;
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    tt_mt5_order *q = &f.u.order;
    q->action = TT_MT5_ACT_MODIFY;
    snprintf(q->sym, sizeof q->sym, "%s", sym);
    q->order = x->ticket;
    q->price = tt_mt5v_px_dec(v, x->sym, x->cmd.type == TT_ORD_LIMIT ? c->price : c->stop_price);
    if (x->cmd.type == TT_ORD_STOP_LIMIT)
        q->stoplimit = tt_mt5v_px_dec(v, x->sym, c->price);
    q->sl = tt_mt5v_px_dec(v, x->sym, c->stop_loss);
    q->tp = tt_mt5v_px_dec(v, x->sym, c->take_profit);
    if (x->cmd.tif == TT_TIF_GTD) {
        q->time = TT_MT5_TIME_SPECIFIED;
        int64_t ms = tt_mt5_utc_ns_to_ms(x->cmd.expire_ts + 999999999, v->tz);
        q->exp = ms - ms % 1000;
    }
    send_request(v, x, &f, TT_CMD_MODIFY, 1);
}

static tt_mt5v_order *add_order(tt_mt5_venue *v, const tt_event *cmd)
{
    if (v->nord == v->capord) {
        size_t cap = v->capord ? 2 * v->capord : 32;
        tt_mt5v_order *p = realloc(v->ord, cap * sizeof *p);
        if (!p)
            return NULL;
        v->ord = p;
        v->capord = cap;
    }
    tt_mt5v_order *x = &v->ord[v->nord++];
    memset(x, 0, sizeof *x);
    x->cid = cmd->u.order_cmd.client_id;
    x->sym = cmd->symbol;
    x->cmd = cmd->u.order_cmd;
    x->end_filled = -1;
    if (x->cid > v->last_cid)
        v->last_cid = x->cid;
    return x;
}

int tt_mt5v_command(void *self, const tt_event *cmd, tt_err *err)
{
    tt_mt5_venue *v = self;
    const tt_order_cmd *c = &cmd->u.order_cmd;
    pthread_mutex_lock(&v->mu);
    tt_mt5v_order *x = tt_mt5v_find(v, c->client_id);
    int rc = TT_OK;
    if (c->cmd == TT_CMD_SUBMIT) {
        if (cmd->symbol >= v->nsym || !v->sym[cmd->symbol].in_session || x) {
            rc = tt_err_set(err, TT_EINVAL, "mt5 venue: order %llu: symbol %u is not a session "
                            "symbol, or the id is in use", (unsigned long long)c->client_id,
                            cmd->symbol);
        } else if (!(x = add_order(v, cmd))) {
            rc = tt_err_set(err, TT_ENOMEM, "mt5 venue: out of memory");
        } else if (v->live) {
            do_submit(v, x);
        }
    } else if (!x) {
        if (v->live) { /* already done at the broker: an answer, not a transition */
            tt_mt5v_order gone;
            memset(&gone, 0, sizeof gone);
            gone.cid = c->client_id;
            gone.sym = cmd->symbol;
            gone.cmd = *c;
            tt_mt5v_order_event(v, &gone, TT_OS_REJECTED, TT_REASON_UNKNOWN_ORDER, 0, 0, 0, 0);
        }
    } else if (c->cmd == TT_CMD_CANCEL) {
        if (v->live) {
            if (x->req || !x->ticket)
                x->want_cancel = 1;
            else if (!v->ready)
                tt_mt5v_report(v, tt_mt5v_ins(v, x->sym)->symbol, x->cid, 0,
                               "cancel of order %llu not sent: not connected",
                               (unsigned long long)x->cid);
            else
                tt_mt5v_send_remove(v, x);
        }
    } else if (c->cmd == TT_CMD_MODIFY) {
        if (v->live)
            do_modify(v, x, c);
        else
            x->mod = *c;
    }
    pthread_mutex_unlock(&v->mu);
    return rc;
}
