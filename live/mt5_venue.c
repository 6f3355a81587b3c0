/*
 * The MT5 venue (see mt5_venue.h): commands out, frames in, order events to
 * the inbox. mt5_recon.c keeps the positions mirror and reconciles.
 *
 * State changes in one place, apply(): the venue's own events go through it
 * as they are emitted (live), the engine's dispatched events from the
 * journal go through it in replay mode (the component), so the state at the
 * moment the venue goes live is what the journal says, and after that what
 * the venue said. Broker-side facts (tickets, request ids, deal tickets,
 * broker volumes) live only in this process: after a restart they are asked
 * again (HISTORY, QUERY, SNAPSHOT).
 */
#include "mt5_venue.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/order.h"
#include "../core/portfolio.h"
#include "mt5_venue_int.h"
#include "wallclock.h"

int tt_mt5_policy_parse(const char *s)
{
    return !strcmp(s, "halt") ? TT_MT5_POLICY_HALT : !strcmp(s, "adopt") ? TT_MT5_POLICY_ADOPT
           : !strcmp(s, "close") ? TT_MT5_POLICY_CLOSE : -1;
}

void tt_mt5v_log(tt_mt5_venue *v, const char *fmt, ...)
{
    if (!v->o.log)
        return;
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    v->o.log(v->o.ctx, line);
}

void tt_mt5v_report(tt_mt5_venue *v, const char *symbol, uint64_t cid, uint32_t retcode,
                    const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tt_mt5v_log(v, "%s%s%s", symbol ? symbol : "", symbol ? ": " : "", text);
    if (!v->o.on_report)
        return;
    tt_mt5_report r = {0, symbol, cid, NULL, retcode, text};
    v->o.on_report(v->o.ctx, &r);
}

/* ---- identity and units ---- */

static uint64_t magic_of(const tt_mt5_venue *v, uint64_t cid) { return v->tag << 32 | cid; }

uint64_t tt_mt5v_cid_of(const tt_mt5_venue *v, uint64_t magic)
{
    return v->tag && magic >> 32 == v->tag ? magic & 0xffffffffu : 0;
}

static int ours(const tt_mt5_venue *v, uint64_t magic) { return v->tag && magic >> 32 == v->tag; }

uint32_t tt_mt5v_sym_of(const tt_mt5_venue *v, const char *name)
{
    const tt_instrument *in = tt_instruments_find(v->o.ins, name);
    if (!in || strcmp(in->symbol, name) || in->id >= v->nsym || !v->sym[in->id].in_session)
        return 0;
    return in->id;
}

static const tt_instrument *ins_of(const tt_mt5_venue *v, uint32_t sym)
{
    return tt_instruments_get(v->o.ins, sym);
}

static tt_mt5_dec px_dec(const tt_mt5_venue *v, uint32_t sym, tt_price p)
{
    return p ? tt_mt5_dec_from_scaled(p, ins_of(v, sym)->digits) : 0;
}

/* A wire price in points; a price finer than a point is rounded (logged once per call). */
static tt_price dec_px(tt_mt5_venue *v, uint32_t sym, tt_mt5_dec d)
{
    int64_t p;
    const tt_instrument *in = ins_of(v, sym);
    if (tt_mt5_dec_to_scaled(d, in->digits, &p) == TT_OK)
        return p;
    int64_t unit = TT_MT5_DEC_ONE / in->points;
    tt_mt5v_log(v, "%s: price finer than the instrument's %d digits, rounded", in->symbol,
                in->digits);
    return (tt_price)((d + (d >= 0 ? unit / 2 : -unit / 2)) / unit);
}

static tt_money money_minor(const tt_mt5_venue *v, tt_mt5_dec d)
{
    int64_t unit = TT_MT5_DEC_ONE / v->o.minor_per_unit;
    return (tt_money)((d + (d >= 0 ? unit / 2 : -unit / 2)) / unit);
}

/* ---- orders ---- */

tt_mt5v_order *tt_mt5v_find(tt_mt5_venue *v, uint64_t cid)
{
    for (size_t i = 0; i < v->nord; i++)
        if (v->ord[i].cid == cid)
            return &v->ord[i];
    return NULL;
}

static tt_mt5v_order *find_req(tt_mt5_venue *v, uint64_t req)
{
    for (size_t i = 0; req && i < v->nord; i++)
        if (v->ord[i].req == req)
            return &v->ord[i];
    return NULL;
}

static tt_mt5v_order *find_query(tt_mt5_venue *v, uint64_t qid)
{
    for (size_t i = 0; qid && i < v->nord; i++)
        if (v->ord[i].qid == qid)
            return &v->ord[i];
    return NULL;
}

static tt_mt5v_order *find_ticket(tt_mt5_venue *v, uint64_t ticket)
{
    for (size_t i = 0; ticket && i < v->nord; i++)
        if (v->ord[i].ticket == ticket)
            return &v->ord[i];
    return NULL;
}

static void drop_order(tt_mt5_venue *v, tt_mt5v_order *x)
{
    size_t i = (size_t)(x - v->ord);
    memmove(&v->ord[i], &v->ord[i + 1], (v->nord - i - 1) * sizeof *v->ord);
    v->nord--;
}

static int is_lost(const tt_mt5_venue *v, uint64_t cid)
{
    for (size_t i = 0; i < v->nlost; i++)
        if (v->lost[i] == cid)
            return 1;
    return 0;
}

static void add_lost(tt_mt5_venue *v, uint64_t cid)
{
    if (v->nlost == v->caplost) {
        size_t cap = v->caplost ? 2 * v->caplost : 16;
        uint64_t *p = realloc(v->lost, cap * sizeof *p);
        if (!p)
            return;
        v->lost = p;
        v->caplost = cap;
    }
    v->lost[v->nlost++] = cid;
}

/* The state change of an order event (emitted by the venue, or dispatched
 * from the journal in replay mode). */
static void apply(tt_mt5_venue *v, const tt_event *ev)
{
    const tt_order_event *o = &ev->u.order_ev;
    if (!o->client_id) {
        if (o->fill_qty > 0)
            tt_mt5v_mirror_fill(v, ev->symbol, o->side, o->fill_qty, 0, o->venue_id);
        return;
    }
    tt_mt5v_order *x = tt_mt5v_find(v, o->client_id);
    if (!x || o->reason == TT_REASON_UNKNOWN_ORDER)
        return;
    if (o->fill_qty > 0) {
        x->eqty += o->fill_qty;
        tt_mt5v_mirror_fill(v, ev->symbol, o->side, o->fill_qty, x->cid, x->cmd.position);
    }
    if (o->status == TT_OS_ACCEPTED)
        x->accepted = 1;
    if (o->status == TT_OS_MODIFIED) {
        x->cmd.price = x->mod.price;
        x->cmd.stop_price = x->mod.stop_price;
        x->cmd.stop_loss = x->mod.stop_loss;
        x->cmd.take_profit = x->mod.take_profit;
    }
    if (tt_order_status_terminal(o->status)) {
        if (o->reason == TT_REASON_NO_ANSWER || o->status == TT_OS_FAILED)
            add_lost(v, x->cid);
        drop_order(v, x);
    }
}

void tt_mt5v_emit(tt_mt5_venue *v, tt_event *ev)
{
    ev->kind = TT_EV_ORDER_EVENT;
    apply(v, ev);
    if (tt_inbox_push(v->o.inbox, ev, NULL, 0) < 0)
        tt_mt5v_log(v, "inbox: out of memory for an order event");
}

static void order_event(tt_mt5_venue *v, const tt_mt5v_order *x, int status, int reason,
                        int64_t fill, tt_price px, tt_money comm, uint64_t venue_id)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.symbol = x->sym;
    tt_order_event *o = &ev.u.order_ev;
    o->client_id = x->cid;
    o->venue_id = venue_id ? venue_id : x->ticket;
    o->fill_qty = fill;
    o->fill_price = px;
    o->leaves_qty = x->cmd.qty - x->eqty - fill;
    o->commission = comm;
    o->reason = (uint16_t)reason;
    o->status = (uint8_t)status;
    o->side = x->cmd.side;
    o->type = x->cmd.type;
    tt_mt5v_emit(v, &ev);
}

static void reject(tt_mt5_venue *v, tt_mt5v_order *x, int reason, const char *why)
{
    v->st.local_rejects++;
    tt_mt5v_report(v, ins_of(v, x->sym)->symbol, x->cid, 0, "order %llu rejected before it left: %s",
                   (unsigned long long)x->cid, why);
    order_event(v, x, TT_OS_REJECTED, reason, 0, 0, 0, 0);
}

void tt_mt5v_venue_deal(tt_mt5_venue *v, uint32_t sym, int side, int64_t qty, tt_price px,
                        tt_money comm, uint64_t ticket, int reason)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.symbol = sym;
    tt_order_event *o = &ev.u.order_ev;
    o->venue_id = ticket;
    o->fill_qty = qty;
    o->fill_price = px;
    o->commission = comm;
    o->reason = (uint16_t)reason;
    o->status = TT_OS_FILLED;
    o->side = (int8_t)side;
    o->type = TT_ORD_MARKET;
    tt_mt5v_emit(v, &ev);
}

/* ---- requests ---- */

static int send_frame(tt_mt5_venue *v, const tt_mt5_frame *f, tt_err *err)
{
    if (!v->link || !v->connected)
        return tt_err_set(err, TT_ESTATE, "not connected");
    return tt_mt5_link_send(v->link, f, err);
}

static void query(tt_mt5_venue *v, tt_mt5v_order *x)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_QUERY;
    f.u.query.id = ++v->id_seq;
    f.u.query.magic = magic_of(v, x->cid);
    f.u.query.order = x->ticket;
    if (send_frame(v, &f, NULL))
        return;
    x->qid = f.u.query.id;
    x->q_ns = tt_mono_ns();
    v->st.queries++;
}

static int send_request(tt_mt5_venue *v, tt_mt5v_order *x, tt_mt5_frame *f, int kind, int engine)
{
    f->type = TT_MT5_ORDER;
    f->u.order.id = ++v->req_seq;
    f->u.order.magic = magic_of(v, x->cid);
    snprintf(f->u.order.comment, sizeof f->u.order.comment, "tt:%llu",
             (unsigned long long)x->cid);
    if (engine && v->o.before_send)
        v->o.before_send(v->o.ctx);
    tt_err err;
    int rc = send_frame(v, f, &err);
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
    f->u.order.magic = magic_of(v, 0);
    snprintf(f->u.order.comment, sizeof f->u.order.comment, "tt:reconcile");
    v->st.requests++;
    return send_frame(v, f, NULL);
}

static void send_remove(tt_mt5_venue *v, tt_mt5v_order *x)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.u.order.action = TT_MT5_ACT_REMOVE;
    snprintf(f.u.order.sym, sizeof f.u.order.sym, "%s", ins_of(v, x->sym)->symbol);
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

/* Fill f (an ORDER) from the command; 0, or the reason it cannot leave (why
 * says what). */
static int build_submit(tt_mt5_venue *v, const tt_mt5v_order *x, tt_mt5_frame *f, char *why,
                        size_t cap)
{
    const tt_order_cmd *c = &x->cmd;
    const tt_mt5v_sym *y = &v->sym[x->sym];
    const tt_mt5_spec *sp = &y->spec;
    tt_mt5_order *q = &f->u.order;
    if (v->killed)
        return snprintf(why, cap, "the kill switch is engaged"), TT_REASON_HALTED;
    if (!v->ready)
        return snprintf(why, cap, "%s", v->connected ? "the terminal is not in sync yet"
                                                     : "the terminal is not connected"),
               TT_REASON_DISCONNECTED;
    if (!y->ok)
        return snprintf(why, cap, "the terminal offers no usable %s", sp->sym[0] ? sp->sym
                        : ins_of(v, x->sym)->symbol), TT_REASON_TRADE_DISABLED;
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
    q->sl = px_dec(v, x->sym, c->stop_loss);
    q->tp = px_dec(v, x->sym, c->take_profit);
    int buy = c->side > 0;
    if (c->type == TT_ORD_MARKET) {
        q->action = TT_MT5_ACT_DEAL;
        q->type = buy ? TT_MT5_OT_BUY : TT_MT5_OT_SELL;
        q->price = px_dec(v, x->sym, buy ? y->ask : y->bid);
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
            return snprintf(why, cap, "SL/TP within %u points (stops level) of the market",
                            sp->stops), TT_REASON_STOPS_LEVEL;
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
    q->price = px_dec(v, x->sym, price);
    if (c->type == TT_ORD_STOP_LIMIT)
        q->stoplimit = px_dec(v, x->sym, c->price);
    if (!pending_ok(y, q->type, price) ||
        !stops_ok(y, c->side, c->type == TT_ORD_STOP_LIMIT ? c->price : price, c->stop_loss,
                  c->take_profit))
        return snprintf(why, cap, "price or SL/TP within %u points (stops level) of the market",
                        sp->stops), TT_REASON_STOPS_LEVEL;
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
    const char *sym = ins_of(v, x->sym)->symbol;
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
    q->price = px_dec(v, x->sym, x->cmd.type == TT_ORD_LIMIT ? c->price : c->stop_price);
    if (x->cmd.type == TT_ORD_STOP_LIMIT)
        q->stoplimit = px_dec(v, x->sym, c->price);
    q->sl = px_dec(v, x->sym, c->stop_loss);
    q->tp = px_dec(v, x->sym, c->take_profit);
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

static int venue_command(void *self, const tt_event *cmd, tt_err *err)
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
            order_event(v, &gone, TT_OS_REJECTED, TT_REASON_UNKNOWN_ORDER, 0, 0, 0, 0);
        }
    } else if (c->cmd == TT_CMD_CANCEL) {
        if (v->live) {
            if (x->req || !x->ticket)
                x->want_cancel = 1;
            else if (!v->ready)
                tt_mt5v_report(v, ins_of(v, x->sym)->symbol, x->cid, 0,
                               "cancel of order %llu not sent: not connected",
                               (unsigned long long)x->cid);
            else
                send_remove(v, x);
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

/* ---- answers ---- */

/* The engine's reason for an MT5 refusal. */
static int reason_of(uint32_t rc)
{
    switch (rc) {
    case TT_MT5_RC_REQUOTE:
    case TT_MT5_RC_PRICE_CHANGED:
        return TT_REASON_REQUOTE;
    case TT_MT5_RC_INVALID_VOLUME:
    case TT_MT5_RC_LIMIT_VOLUME:
        return TT_REASON_VOLUME;
    case TT_MT5_RC_INVALID_STOPS:
        return TT_REASON_STOPS_LEVEL;
    case TT_MT5_RC_INVALID_FILL:
        return TT_REASON_FILLING;
    case TT_MT5_RC_TRADE_DISABLED:
    case TT_MT5_RC_SERVER_DISABLES_AT:
    case TT_MT5_RC_CLIENT_DISABLES_AT:
    case TT_MT5_RC_LONG_ONLY:
    case TT_MT5_RC_SHORT_ONLY:
    case TT_MT5_RC_CLOSE_ONLY:
    case TT_MT5_RC_ONLY_REAL:
        return TT_REASON_TRADE_DISABLED;
    case TT_MT5_RC_MARKET_CLOSED:
        return TT_REASON_MARKET_CLOSED;
    case TT_MT5_RC_NO_MONEY:
        return TT_REASON_NO_MONEY;
    case TT_MT5_RC_PRICE_OFF:
        return TT_REASON_NO_QUOTE;
    case TT_MT5_RC_INVALID:
    case TT_MT5_RC_INVALID_PRICE:
    case TT_MT5_RC_INVALID_EXPIRATION:
    case TT_MT5_RC_INVALID_ORDER:
        return TT_REASON_INVALID;
    case TT_MT5_RC_POSITION_CLOSED:
    case TT_MT5_RC_INVALID_CLOSE_VOLUME:
        return TT_REASON_NO_POSITION;
    case TT_MT5_RC_CONNECTION:
        return TT_REASON_DISCONNECTED;
    default:
        return TT_REASON_BROKER;
    }
}

/* The order's end is known and all its deals are in: emit it. */
static void try_finish(tt_mt5_venue *v, tt_mt5v_order *x)
{
    if (!x->end_known || x->end_filled < 0 || x->bfilled < x->end_filled)
        return;
    if (x->eqty >= x->cmd.qty)
        return; /* filled in full: already terminal */
    int status = x->end_status, reason = x->end_reason;
    if (status == TT_OS_FILLED) { /* the broker filled less than asked */
        status = TT_OS_CANCELLED;
        reason = TT_REASON_BROKER;
    }
    if (status == TT_OS_REJECTED && (x->accepted || x->eqty))
        status = TT_OS_CANCELLED; /* a working order cannot be rejected any more */
    order_event(v, x, status, reason, 0, 0, 0, 0);
}

static void end_order(tt_mt5_venue *v, tt_mt5v_order *x, int status, int reason,
                      tt_mt5_dec filled)
{
    x->end_known = 1;
    x->end_status = status;
    x->end_reason = reason;
    x->end_filled = filled;
    x->end_ns = tt_mono_ns();
    try_finish(v, x);
}

static void on_result(tt_mt5_venue *v, const tt_mt5_result *r)
{
    v->st.results++;
    tt_mt5v_order *x = find_req(v, r->id);
    if (!x)
        return; /* a request of the venue's own, or already settled by a QUERY */
    int kind = x->req_kind;
    x->req = 0;
    x->qid = 0;
    x->unknown = 0;
    if (r->order && kind == TT_CMD_SUBMIT)
        x->ticket = r->order;
    const char *sym = ins_of(v, x->sym)->symbol;
    uint32_t rc = r->retcode;
    if (rc == TT_MT5_RC_TIMEOUT || rc == TT_MT5_RC_ERROR) { /* its fate is not known: ask */
        x->unknown = 1;
        query(v, x);
        return;
    }
    int ok = rc == TT_MT5_RC_DONE || rc == TT_MT5_RC_DONE_PARTIAL || rc == TT_MT5_RC_PLACED ||
             (kind == TT_CMD_MODIFY && rc == TT_MT5_RC_NO_CHANGES);
    if (!ok) {
        v->st.broker_rejects++;
        const char *name = tt_mt5_retcode_name(rc);
        tt_mt5v_report(v, sym, x->cid, rc, "%s of order %llu refused: %u %s (%s)",
                       kind == TT_CMD_SUBMIT ? "order" : kind == TT_CMD_CANCEL ? "cancel" : "modify",
                       (unsigned long long)x->cid, rc, name ? name : "?", r->comment);
        if (kind == TT_CMD_SUBMIT)
            order_event(v, x, TT_OS_REJECTED, reason_of(rc), 0, 0, 0, 0);
        return;
    }
    if (kind == TT_CMD_MODIFY) {
        order_event(v, x, TT_OS_MODIFIED, TT_REASON_MODIFIED, 0, 0, 0, 0);
        return;
    }
    if (kind == TT_CMD_CANCEL) { /* the final volume comes with the order's STATE */
        end_order(v, x, TT_OS_CANCELLED, TT_REASON_CANCEL_REQUEST, -1);
        return;
    }
    if (rc == TT_MT5_RC_PLACED) {
        if (!x->accepted)
            order_event(v, x, TT_OS_ACCEPTED, TT_REASON_ACCEPTED, 0, 0, 0, 0);
        if (x->want_cancel && (x = tt_mt5v_find(v, x->cid)))
            send_remove(v, x);
        return;
    }
    end_order(v, x, rc == TT_MT5_RC_DONE ? TT_OS_FILLED : TT_OS_CANCELLED,
              x->cmd.tif == TT_TIF_FOK ? TT_REASON_FOK : TT_REASON_IOC, r->vol);
}

static int seen_deal(tt_mt5_venue *v, uint64_t deal)
{
    if (2 * (v->nseen + 1) > v->capseen) {
        size_t cap = v->capseen ? 2 * v->capseen : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t)
            return 0;
        for (size_t i = 0; i < v->capseen; i++)
            if (v->seen[i])
                for (size_t k = v->seen[i] * 0x9E3779B97F4A7C15ull & (cap - 1);;
                     k = (k + 1) & (cap - 1))
                    if (!t[k]) {
                        t[k] = v->seen[i];
                        break;
                    }
        free(v->seen);
        v->seen = t;
        v->capseen = cap;
    }
    for (size_t k = deal * 0x9E3779B97F4A7C15ull & (v->capseen - 1);; k = (k + 1) & (v->capseen - 1)) {
        if (v->seen[k] == deal)
            return 1;
        if (!v->seen[k]) {
            v->seen[k] = deal;
            v->nseen++;
            return 0;
        }
    }
}

/* The engine ticket a client order's fill belongs to (the portfolio's rule). */
static uint64_t fill_ticket(tt_mt5_venue *v, const tt_mt5v_order *x)
{
    if (x->cmd.position)
        return x->cmd.position;
    if (v->o.mode == TT_MODE_NETTING) {
        tt_mt5v_pos *p = tt_mt5v_mirror_net(v, x->sym);
        if (p)
            return p->ticket;
    }
    return x->cid;
}

static void order_fill(tt_mt5_venue *v, tt_mt5v_order *x, const tt_mt5_deal *d)
{
    const tt_mt5v_sym *y = &v->sym[x->sym];
    x->bfilled += d->vol;
    x->pcomm += money_minor(v, -d->comm);
    int64_t q = x->bfilled / y->step - x->eqty;
    if (q > x->cmd.qty - x->eqty)
        q = x->cmd.qty - x->eqty;
    if (q > 0) {
        uint64_t ticket = fill_ticket(v, x);
        uint64_t cid = x->cid;
        tt_money comm = x->pcomm;
        x->pcomm = 0;
        int full = x->eqty + q >= x->cmd.qty;
        int opens = d->entry == TT_MT5_ENTRY_IN || d->entry == TT_MT5_ENTRY_INOUT;
        order_event(v, x, full ? TT_OS_FILLED : TT_OS_PARTIALLY_FILLED, TT_REASON_FILL, q,
                    dec_px(v, x->sym, d->price), comm, ticket);
        if (opens) { /* the broker's id of the position this fill opened or grew */
            tt_mt5v_pos *p = v->o.mode == TT_MODE_NETTING ? tt_mt5v_mirror_net(v, x->sym)
                                                           : tt_mt5v_mirror_by_ticket(v, cid);
            if (p)
                p->bpos = d->position;
        }
        if (full)
            return;
        x = tt_mt5v_find(v, cid);
    }
    if (x)
        try_finish(v, x);
}

static void on_deal(tt_mt5_venue *v, const tt_mt5_deal *d)
{
    if (seen_deal(v, d->deal))
        return;
    v->st.deals++;
    if (d->t > v->last_deal_ms)
        v->last_deal_ms = d->t;
    uint32_t sym = tt_mt5v_sym_of(v, d->sym);
    uint64_t cid = tt_mt5v_cid_of(v, d->magic);
    if (v->o.on_report) {
        tt_mt5_report r = {1, d->sym, cid, d, 0, NULL};
        v->o.on_report(v->o.ctx, &r);
    }
    if (!sym || !v->sym[sym].ok)
        return;
    tt_mt5v_order *x = cid ? tt_mt5v_find(v, cid) : find_ticket(v, d->order);
    int exit = d->reason == TT_MT5_DR_SL || d->reason == TT_MT5_DR_TP || d->reason == TT_MT5_DR_SO;
    if (x && !exit) {
        order_fill(v, x, d);
        return;
    }
    tt_mt5v_pos *p = tt_mt5v_mirror_by_bpos(v, d->position);
    if (exit || (cid && is_lost(v, cid))) { /* the broker moved a position of ours */
        int side = d->side == TT_MT5_BUY ? 1 : -1;
        int64_t q = d->vol / v->sym[sym].step;
        if (!p || p->side == side || q <= 0) {
            tt_mt5v_report(v, d->sym, cid, 0, "deal %llu (%s) on a position the engine does not "
                           "hold: left to reconciliation", (unsigned long long)d->deal,
                           d->reason == TT_MT5_DR_SL ? "stop-loss" : d->reason == TT_MT5_DR_TP
                           ? "take-profit" : d->reason == TT_MT5_DR_SO ? "stop-out" : "late fill");
            return;
        }
        if (q > p->qty)
            q = p->qty;
        int reason = d->reason == TT_MT5_DR_SL ? TT_REASON_STOP_LOSS
                     : d->reason == TT_MT5_DR_TP ? TT_REASON_TAKE_PROFIT
                     : d->reason == TT_MT5_DR_SO ? TT_REASON_STOP_OUT : TT_REASON_RECONCILE;
        tt_mt5v_venue_deal(v, sym, side, q, dec_px(v, sym, d->price), money_minor(v, -d->comm),
                           p->ticket, reason);
        return;
    }
    if (ours(v, d->magic) && (!cid || cid <= v->last_cid))
        return; /* ours and already counted (an ended order, or the venue's own request) */
    tt_mt5v_report(v, d->sym, 0, 0, "deal %llu by another program or by hand (magic %llu): not "
                   "the engine's", (unsigned long long)d->deal, (unsigned long long)d->magic);
}

static void on_state(tt_mt5_venue *v, const tt_mt5_state *s)
{
    tt_mt5v_order *x = s->id ? find_query(v, s->id) : NULL;
    if (!x)
        x = find_ticket(v, s->order);
    if (!x && !s->id)
        x = tt_mt5v_find(v, tt_mt5v_cid_of(v, s->magic));
    if (!x)
        return;
    if (s->id == x->qid) {
        x->qid = 0;
        x->req = 0; /* the question answers the request */
        x->unknown = 0;
    }
    if (s->order)
        x->ticket = s->order;
    tt_mt5_dec filled = s->vol - s->vol_cur;
    switch (s->state) {
    case TT_MT5_OS_NONE:
        if (!x->accepted && !x->eqty && !x->ticket) {
            tt_mt5v_report(v, ins_of(v, x->sym)->symbol, x->cid, 0, "order %llu: no answer, "
                           "and the broker does not know it: rejected", (unsigned long long)x->cid);
            order_event(v, x, TT_OS_REJECTED, TT_REASON_NO_ANSWER, 0, 0, 0, 0);
        } else {
            order_event(v, x, TT_OS_FAILED, TT_REASON_NO_ANSWER, 0, 0, 0, 0);
        }
        return;
    case TT_MT5_OS_STARTED:
    case TT_MT5_OS_PLACED:
    case TT_MT5_OS_PARTIAL:
        if (!x->accepted && x->cmd.type != TT_ORD_MARKET)
            order_event(v, x, TT_OS_ACCEPTED, TT_REASON_ACCEPTED, 0, 0, 0, 0);
        if ((x = tt_mt5v_find(v, x->cid)) && x->want_cancel && x->ticket && !x->req)
            send_remove(v, x);
        return;
    case TT_MT5_OS_FILLED:
        end_order(v, x, TT_OS_FILLED, TT_REASON_FILL, filled);
        return;
    case TT_MT5_OS_CANCELED:
        end_order(v, x, TT_OS_CANCELLED,
                  x->end_known ? x->end_reason : x->cmd.tif == TT_TIF_IOC ? TT_REASON_IOC
                  : x->cmd.tif == TT_TIF_FOK ? TT_REASON_FOK : TT_REASON_BROKER, filled);
        return;
    case TT_MT5_OS_EXPIRED:
        end_order(v, x, TT_OS_EXPIRED, TT_REASON_GTD, filled);
        return;
    default: /* rejected: a pending order refused at its trigger */
        end_order(v, x, TT_OS_REJECTED, TT_REASON_NO_MONEY, filled);
    }
}

/* ---- the session ---- */

static void on_tick(tt_mt5_venue *v, const tt_mt5_tick *t)
{
    uint32_t sym = tt_mt5v_sym_of(v, t->sym);
    if (!sym)
        return;
    tt_mt5v_sym *y = &v->sym[sym];
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_QUOTE;
    ev.symbol = sym;
    ev.u.quote.bid = dec_px(v, sym, t->bid);
    ev.u.quote.ask = dec_px(v, sym, t->ask);
    if (ev.u.quote.bid <= 0 || ev.u.quote.ask <= 0)
        return;
    ev.u.quote.bid_vol = (float)((double)t->bv / TT_MT5_DEC_ONE);
    ev.u.quote.ask_vol = (float)((double)t->av / TT_MT5_DEC_ONE);
    ev.ts_init = tt_mt5_ms_to_utc_ns(t->t, v->tz);
    y->have_quote = 1;
    y->bid = ev.u.quote.bid;
    y->ask = ev.u.quote.ask;
    y->quote_ns = tt_mono_ns();
    v->st.ticks++;
    tt_inbox_push(v->o.inbox, &ev, NULL, 0);
}

static void on_spec(tt_mt5_venue *v, const tt_mt5_spec *s)
{
    uint32_t sym = tt_mt5v_sym_of(v, s->sym);
    if (!sym)
        return;
    tt_mt5v_sym *y = &v->sym[sym];
    const tt_instrument *in = ins_of(v, sym);
    y->spec = *s;
    y->step = (tt_mt5_dec)(in->volume_step * TT_MT5_DEC_ONE + 0.5);
    y->ok = 0;
    if ((int)s->digits != in->digits || s->point != tt_mt5_dec_from_scaled(1, in->digits))
        tt_mt5v_report(v, s->sym, 0, 0, "the terminal quotes %u digits, the instrument table %d: "
                       "not traded (fix the instrument file)", s->digits, in->digits);
    else if (s->vstep <= 0 || y->step <= 0 || y->step % s->vstep)
        tt_mt5v_report(v, s->sym, 0, 0, "the engine's volume step is not a whole number of the "
                       "broker's: not traded");
    else
        y->ok = 1;
}

static void start_sync(tt_mt5_venue *v)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_HISTORY;
    f.u.history.id = v->hist_id = ++v->id_seq;
    int64_t start = tt_mt5_utc_ns_to_ms(v->first_ts, v->tz);
    f.u.history.from = v->last_deal_ms ? v->last_deal_ms - 60000 : start;
    send_frame(v, &f, NULL);
}

static void after_history(tt_mt5_venue *v)
{
    for (size_t i = 0; i < v->nord; i++) {
        tt_mt5v_order *x = &v->ord[i];
        if (x->unknown || x->req || (!x->ticket && (x->accepted || !x->end_known)))
            query(v, x);
    }
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_SNAPSHOT;
    f.u.snap.id = v->snap_id = ++v->id_seq;
    v->nspos = v->nsord = 0;
    send_frame(v, &f, NULL);
}

static void *grow_copy(void *arr, size_t *n, size_t *cap, const void *item, size_t size)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        void *p = realloc(arr, c * size);
        if (!p)
            return arr;
        arr = p;
        *cap = c;
    }
    memcpy((char *)arr + *n * size, item, size);
    (*n)++;
    return arr;
}

static void link_frame(void *ctx, const tt_mt5_frame *f)
{
    tt_mt5_venue *v = ctx;
    pthread_mutex_lock(&v->mu);
    switch (f->type) {
    case TT_MT5_TICK:
        on_tick(v, &f->u.tick);
        break;
    case TT_MT5_SPEC:
        on_spec(v, &f->u.spec);
        break;
    case TT_MT5_RESULT:
        on_result(v, &f->u.result);
        break;
    case TT_MT5_DEAL:
        on_deal(v, &f->u.deal);
        break;
    case TT_MT5_STATE:
        on_state(v, &f->u.state);
        break;
    case TT_MT5_HISTEND:
        if (f->u.snap.id == v->hist_id)
            after_history(v);
        break;
    case TT_MT5_POS:
        v->spos = grow_copy(v->spos, &v->nspos, &v->capspos, &f->u.pos, sizeof f->u.pos);
        break;
    case TT_MT5_ORD:
        v->sord = grow_copy(v->sord, &v->nsord, &v->capsord, &f->u.ord, sizeof f->u.ord);
        break;
    case TT_MT5_SNAPEND:
        if (f->u.snap.id == v->snap_id) {
            tt_mt5v_reconcile(v);
            v->ready = 1;
            if (v->gap_open) {
                tt_inbox_push_control(v->o.inbox, TT_CTL_GAP_END, (uint32_t)v->st.sessions);
                v->gap_open = 0;
            }
            tt_mt5v_log(v, "terminal in sync: trading");
        }
        break;
    case TT_MT5_ERROR:
        tt_mt5v_log(v, "the terminal reports: %s", f->u.text.reason);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&v->mu);
}

static void link_up(void *ctx, const tt_mt5_hello *h)
{
    tt_mt5_venue *v = ctx;
    pthread_mutex_lock(&v->mu);
    int mode = h->mode == TT_MT5_HEDGING ? TT_MODE_HEDGING : TT_MODE_NETTING;
    if (mode != v->o.mode) {
        tt_mt5v_report(v, NULL, 0, 0, "the terminal's account %llu is %s, the scenario's %s: "
                       "refused", (unsigned long long)h->login,
                       mode == TT_MODE_HEDGING ? "hedging" : "netting",
                       v->o.mode == TT_MODE_HEDGING ? "hedging" : "netting");
        pthread_mutex_unlock(&v->mu);
        tt_mt5_link_kick(v->link, "account mode does not match the scenario");
        return;
    }
    v->connected = 1;
    v->ready = 0;
    v->tz = h->tz;
    v->st.sessions++;
    v->nseen = 0;
    if (v->seen)
        memset(v->seen, 0, v->capseen * sizeof *v->seen);
    if (v->first_ts)
        start_sync(v);
    else /* the session's first input decides its tag and where history starts */
        v->sync_pending = 1;
    pthread_mutex_unlock(&v->mu);
}

static void link_down(void *ctx, const char *why)
{
    tt_mt5_venue *v = ctx;
    pthread_mutex_lock(&v->mu);
    if (v->connected) {
        v->connected = v->ready = 0;
        for (size_t i = 0; i < v->nord; i++)
            if (v->ord[i].req || v->ord[i].qid) {
                v->ord[i].unknown = 1;
                v->ord[i].qid = 0;
            }
        if (!v->gap_open) {
            tt_inbox_push_control(v->o.inbox, TT_CTL_GAP_BEGIN, (uint32_t)v->st.sessions);
            v->gap_open = 1;
        }
        tt_mt5v_log(v, "terminal disconnected (%s): no new orders until it is back", why);
    }
    pthread_mutex_unlock(&v->mu);
}

/* Requests past their deadline are asked about; so are ends without a volume. */
static void link_idle(void *ctx)
{
    tt_mt5_venue *v = ctx;
    pthread_mutex_lock(&v->mu);
    int64_t now = tt_mono_ns(), dl = v->o.answer_ms * 1000000;
    for (size_t i = 0; v->ready && i < v->nord; i++) {
        tt_mt5v_order *x = &v->ord[i];
        int late = (x->req && !x->qid && now - x->req_ns > dl) ||
                   (x->qid && now - x->q_ns > 2 * dl) ||
                   (x->end_known && x->end_filled < 0 && !x->qid && now - x->end_ns > dl);
        if (!late)
            continue;
        if (x->req && !x->qid)
            v->st.unanswered++;
        query(v, x);
    }
    pthread_mutex_unlock(&v->mu);
}

static void link_wire(void *ctx, int dir, const char *line, size_t len)
{
    tt_mt5_venue *v = ctx;
    if (v->o.on_wire)
        v->o.on_wire(v->o.ctx, dir, line, len);
}

static void link_log(void *ctx, const char *line)
{
    tt_mt5_venue *v = ctx;
    if (v->o.log)
        v->o.log(v->o.ctx, line);
}

/* ---- the component: what the engine dispatched ---- */

static void venue_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e;
    tt_mt5_venue *v = self;
    pthread_mutex_lock(&v->mu);
    if (!v->first_ts) {
        v->first_ts = ev->ts;
        v->tag = (uint64_t)(ev->ts / TT_NS_PER_SEC) & 0x7fffffffu;
        if (v->sync_pending && v->connected) {
            v->sync_pending = 0;
            start_sync(v);
        }
    }
    if (!v->live && ev->kind == TT_EV_ORDER_EVENT)
        apply(v, ev);
    else if (!v->live && ev->kind == TT_EV_QUOTE && ev->symbol < v->nsym) {
        v->sym[ev->symbol].bid = ev->u.quote.bid; /* a price for reconciling; not fresh */
        v->sym[ev->symbol].ask = ev->u.quote.ask;
    }
    pthread_mutex_unlock(&v->mu);
}

static int venue_start_component(void *self, tt_engine *e, tt_err *err)
{
    (void)self;
    (void)e;
    (void)err;
    return TT_OK;
}

tt_component tt_mt5_venue_component(tt_mt5_venue *v)
{
    tt_component c;
    memset(&c, 0, sizeof c);
    c.self = v;
    c.name = "mt5";
    c.on_start = venue_start_component;
    c.on_event = venue_event;
    return c;
}

tt_venue tt_mt5_venue_port(tt_mt5_venue *v)
{
    tt_venue p;
    memset(&p, 0, sizeof p);
    p.self = v;
    p.command = venue_command;
    return p;
}

static int null_command(void *self, const tt_event *cmd, tt_err *err)
{
    (void)self;
    (void)cmd;
    (void)err;
    return TT_OK;
}

tt_venue tt_mt5_replay_port(void)
{
    tt_venue p;
    memset(&p, 0, sizeof p);
    p.command = null_command;
    return p;
}

/* ---- life ---- */

int tt_mt5_venue_new(tt_mt5_venue **out, const tt_mt5_venue_opts *o, tt_err *err)
{
    *out = NULL;
    if (!o->ins || !o->inbox || !o->symbols || !o->symbols[0])
        return tt_err_set(err, TT_EINVAL, "mt5 venue: instruments, inbox and symbols are needed");
    tt_mt5_venue *v = calloc(1, sizeof *v);
    if (!v)
        return tt_err_set(err, TT_ENOMEM, "mt5 venue: out of memory");
    v->o = *o;
    if (!v->o.minor_per_unit)
        v->o.minor_per_unit = 100;
    if (!v->o.answer_ms)
        v->o.answer_ms = 2000;
    if (!v->o.stale_ms)
        v->o.stale_ms = 10000;
    if (!v->o.deviation)
        v->o.deviation = 10;
    if (v->o.mode != TT_MODE_HEDGING)
        v->o.mode = TT_MODE_NETTING;
    pthread_mutex_init(&v->mu, NULL);
    v->nsym = tt_instruments_count(o->ins) + 1;
    v->sym = calloc(v->nsym, sizeof *v->sym);
    if (!v->sym) {
        tt_mt5_venue_free(v);
        return tt_err_set(err, TT_ENOMEM, "mt5 venue: out of memory");
    }
    for (int i = 0; o->symbols[i]; i++) {
        const tt_instrument *in;
        int rc = tt_instruments_require(o->ins, o->symbols[i], &in, err);
        if (rc) {
            tt_mt5_venue_free(v);
            return rc;
        }
        if (in->digits > 8) {
            tt_mt5_venue_free(v);
            return tt_err_set(err, TT_EINVAL, "mt5 venue: %s has %d digits (at most 8)",
                              in->symbol, in->digits);
        }
        v->sym[in->id].in_session = 1;
    }
    *out = v;
    return TT_OK;
}

int tt_mt5_venue_start(tt_mt5_venue *v, tt_err *err)
{
    int n = 0;
    for (uint32_t i = 1; i < v->nsym && n < TT_MT5_SYM_MAX; i++)
        if (v->sym[i].in_session)
            v->subs[n++] = ins_of(v, i)->symbol;
    v->subs[n] = NULL;
    tt_mt5_link_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.host = v->o.host;
    lo.port = v->o.port;
    lo.secret = v->o.secret;
    lo.hb_ms = v->o.hb_ms;
    lo.symbols = v->subs;
    lo.on_up = link_up;
    lo.on_frame = link_frame;
    lo.on_down = link_down;
    lo.on_wire = link_wire;
    lo.on_idle = link_idle;
    lo.log = link_log;
    lo.ctx = v;
    pthread_mutex_lock(&v->mu);
    v->live = 1;
    pthread_mutex_unlock(&v->mu);
    return tt_mt5_link_open(&v->link, &lo, err);
}

int tt_mt5_venue_listen_port(tt_mt5_venue *v) { return v->link ? tt_mt5_link_port(v->link) : 0; }

void tt_mt5_venue_kill(tt_mt5_venue *v)
{
    pthread_mutex_lock(&v->mu);
    if (!v->killed) {
        v->killed = 1;
        tt_mt5v_log(v, "kill switch: no new orders; cancelling the working orders");
        for (size_t i = 0; i < v->nord; i++) {
            tt_mt5v_order *x = &v->ord[i];
            if (x->req || !x->ticket)
                x->want_cancel = 1;
            else if (v->ready)
                send_remove(v, x);
        }
    }
    pthread_mutex_unlock(&v->mu);
}

void tt_mt5_venue_stats_get(tt_mt5_venue *v, tt_mt5_venue_stats *out)
{
    pthread_mutex_lock(&v->mu);
    *out = v->st;
    out->connected = v->connected;
    out->ready = v->ready;
    out->killed = v->killed;
    pthread_mutex_unlock(&v->mu);
}

void tt_mt5_venue_free(tt_mt5_venue *v)
{
    if (!v)
        return;
    if (v->link)
        tt_mt5_link_close(v->link, "ticktape session ended");
    pthread_mutex_destroy(&v->mu);
    free(v->sym);
    free(v->ord);
    free(v->pos);
    free(v->lost);
    free(v->seen);
    free(v->spos);
    free(v->sord);
    free(v);
}
