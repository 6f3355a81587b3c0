/*
 * The MT5 venue (see mt5_venue.h): commands out, frames in, order events to
 * the inbox. mt5_recon.c keeps the positions mirror and reconciles.
 *
 * State changes in one place, apply(): the venue's own events go through it
 * as they are emitted (live), the engine's dispatched events from the
 * journal go through it in replay mode (the port's hooks), so the state at the
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

#include "logline.h"
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
    va_list ap;
    va_start(ap, fmt);
    tt_logline_v(v->o.log, v->o.ctx, fmt, ap);
    va_end(ap);
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
    tt_mt5_report r = {0, symbol, cid, NULL, retcode, text, v->tag};
    v->o.on_report(v->o.ctx, &r);
}

/* ---- identity and units ---- */

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

/* A wire price in points; a price finer than a point is rounded (logged once per call). */
static tt_price dec_px(tt_mt5_venue *v, uint32_t sym, tt_mt5_dec d)
{
    int64_t p;
    const tt_instrument *in = tt_mt5v_ins(v, sym);
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

/* A deal's key: the broker's time of it (UTC ns, from its ms) plus its ticket
 * modulo 10^6 in the sub-millisecond digits. It is what a fill's ts_init
 * carries into the journal, so a restarted session knows which deals it has
 * counted (a HISTORY answer repeats deals of the last minute). Two deals of
 * one millisecond with tickets equal modulo 10^6 do not happen. */
static uint64_t deal_key(const tt_mt5_venue *v, const tt_mt5_deal *d)
{
    return (uint64_t)(tt_mt5_ms_to_utc_ns(d->t, v->tz) + (int64_t)(d->deal % 1000000));
}

/* Record a key; 1 when it was there already. */
static int seen_key(tt_mt5_venue *v, uint64_t deal)
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

/* The state change of an order event (emitted by the venue, or dispatched
 * from the journal in replay mode). */
static void apply(tt_mt5_venue *v, const tt_event *ev)
{
    const tt_order_event *o = &ev->u.order_ev;
    if (o->fill_qty > 0 && ev->ts_init) { /* the deal's key (see deal_key): known, counted */
        seen_key(v, (uint64_t)ev->ts_init);
        if (ev->ts_init > v->last_deal)
            v->last_deal = ev->ts_init;
    }
    if (o->fill_qty > 0) {
        v->totals.fills++;
        v->totals.commissions += o->commission;
        v->totals.stop_outs += o->reason == TT_REASON_STOP_OUT;
    }
    if (!o->client_id) {
        if (o->fill_qty > 0)
            tt_mt5v_mirror_fill(v, ev->symbol, o->side, o->fill_qty, 0, o->venue_id);
        return;
    }
    tt_mt5v_order *x = tt_mt5v_find(v, o->client_id);
    if (!x || o->reason == TT_REASON_UNKNOWN_ORDER)
        return;
    if (o->fill_qty > 0) {
        if (!v->live) /* the broker's volume, for fills still to come after a restart */
            x->bfilled += o->fill_qty * (tt_mt5_dec)(tt_mt5v_ins(v, x->sym)->volume_step *
                                                     TT_MT5_DEC_ONE + 0.5);
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
    if (ev->u.order_ev.fill_qty > 0 && v->deal_at)
        ev->ts_init = v->deal_at; /* kept by the inbox: the journal has the broker's time */
    apply(v, ev);
    if (v->o.on_emit)
        v->o.on_emit(v->o.ctx, v->tag, ev);
    if (tt_inbox_push(v->o.inbox, ev, NULL, 0) < 0)
        tt_mt5v_log(v, "inbox: out of memory for an order event");
}

void tt_mt5v_order_event(tt_mt5_venue *v, const tt_mt5v_order *x, int status, int reason,
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
    tt_mt5v_order_event(v, x, status, reason, 0, 0, 0, 0);
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
    const char *sym = tt_mt5v_ins(v, x->sym)->symbol;
    uint32_t rc = r->retcode;
    if (rc == TT_MT5_RC_TIMEOUT || rc == TT_MT5_RC_ERROR) { /* its fate is not known: ask */
        x->unknown = 1;
        tt_mt5v_query(v, x);
        return;
    }
    int ok = rc == TT_MT5_RC_DONE || rc == TT_MT5_RC_DONE_PARTIAL || rc == TT_MT5_RC_PLACED ||
             (kind == TT_CMD_MODIFY && rc == TT_MT5_RC_NO_CHANGES);
    if (!ok) {
        v->st.broker_rejects++;
        const char *name = tt_mt5_retcode_name(rc);
        tt_mt5v_report(v, sym, x->cid, rc, "%sorder %llu refused by the broker: %u %s (%s)",
                       kind == TT_CMD_SUBMIT ? "" : kind == TT_CMD_CANCEL ? "cancel of "
                                                                          : "modify of ",
                       (unsigned long long)x->cid, rc, name ? name : "?", r->comment);
        if (kind == TT_CMD_SUBMIT)
            tt_mt5v_order_event(v, x, TT_OS_REJECTED, reason_of(rc), 0, 0, 0, 0);
        return;
    }
    if (kind == TT_CMD_MODIFY) {
        tt_mt5v_order_event(v, x, TT_OS_MODIFIED, TT_REASON_MODIFIED, 0, 0, 0, 0);
        return;
    }
    if (kind == TT_CMD_CANCEL) { /* the final volume comes with the order's STATE */
        end_order(v, x, TT_OS_CANCELLED, TT_REASON_CANCEL_REQUEST, -1);
        return;
    }
    if (rc == TT_MT5_RC_PLACED) {
        if (!x->accepted)
            tt_mt5v_order_event(v, x, TT_OS_ACCEPTED, TT_REASON_ACCEPTED, 0, 0, 0, 0);
        if (x->want_cancel && (x = tt_mt5v_find(v, x->cid)))
            tt_mt5v_send_remove(v, x);
        return;
    }
    end_order(v, x, rc == TT_MT5_RC_DONE ? TT_OS_FILLED : TT_OS_CANCELLED,
              x->cmd.tif == TT_TIF_FOK ? TT_REASON_FOK : TT_REASON_IOC, r->vol);
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
        tt_mt5v_order_event(v, x, full ? TT_OS_FILLED : TT_OS_PARTIALLY_FILLED, TT_REASON_FILL, q,
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

static void flush_stash(tt_mt5_venue *v);

/* A deal the broker made on a position of ours (stop-loss, take-profit,
 * stop-out, or a late fill of an order given up on); 0 when the position is
 * not known (yet). */
static int exit_deal(tt_mt5_venue *v, const tt_mt5_deal *d, uint32_t sym, int report)
{
    uint64_t cid = tt_mt5v_cid_of(v, d->magic);
    int side = d->side == TT_MT5_BUY ? 1 : -1;
    tt_mt5v_pos *p = tt_mt5v_mirror_by_bpos(v, d->position);
    if (!p) { /* the broker's id not learnt yet (a restart): by the opener's magic */
        p = v->o.mode == TT_MODE_NETTING ? tt_mt5v_mirror_net(v, sym)
            : tt_mt5v_mirror_by_ticket(v, cid);
        if (p && p->side != side)
            p->bpos = d->position;
        else
            p = NULL;
    }
    int64_t q = d->vol / v->sym[sym].step;
    if (!p || p->side == side || q <= 0) {
        if (report)
            tt_mt5v_report(v, d->sym, cid, 0, "deal %llu (%s) on a position the engine does not "
                           "hold: left to reconciliation", (unsigned long long)d->deal,
                           d->reason == TT_MT5_DR_SL ? "stop-loss" : d->reason == TT_MT5_DR_TP
                           ? "take-profit" : d->reason == TT_MT5_DR_SO ? "stop-out" : "late fill");
        return 0;
    }
    if (q > p->qty)
        q = p->qty;
    int reason = d->reason == TT_MT5_DR_SL ? TT_REASON_STOP_LOSS
                 : d->reason == TT_MT5_DR_TP ? TT_REASON_TAKE_PROFIT
                 : d->reason == TT_MT5_DR_SO ? TT_REASON_STOP_OUT : TT_REASON_RECONCILE;
    tt_mt5v_venue_deal(v, sym, side, q, dec_px(v, sym, d->price), money_minor(v, -d->comm),
                       p->ticket, reason);
    return 1;
}

static void on_deal(tt_mt5_venue *v, const tt_mt5_deal *d)
{
    uint64_t key = deal_key(v, d);
    if (seen_key(v, key))
        return;
    v->st.deals++;
    v->deal_at = (tt_ts)key;
    if (v->deal_at > v->last_deal)
        v->last_deal = v->deal_at;
    uint32_t sym = tt_mt5v_sym_of(v, d->sym);
    uint64_t cid = tt_mt5v_cid_of(v, d->magic);
    if (v->o.on_report) {
        tt_mt5_report r = {1, d->sym, cid, d, 0, NULL, v->tag};
        v->o.on_report(v->o.ctx, &r);
    }
    if (!sym || !v->sym[sym].ok)
        return;
    tt_mt5v_order *x = cid ? tt_mt5v_find(v, cid) : find_ticket(v, d->order);
    int exit = d->reason == TT_MT5_DR_SL || d->reason == TT_MT5_DR_TP || d->reason == TT_MT5_DR_SO;
    if (x && !exit) {
        order_fill(v, x, d);
        flush_stash(v);
        return;
    }
    if (exit || (cid && is_lost(v, cid))) { /* the broker moved a position of ours */
        if (exit_deal(v, d, sym, !x))
            return;
        if (x) { /* the order that opened it is still being asked about: its deal comes */
            v->stash = grow_copy(v->stash, &v->nstash, &v->capstash, d, sizeof *d);
            tt_mt5v_log(v, "%s: deal %llu closes a position whose opening deal has not come yet: "
                        "held until it does", d->sym, (unsigned long long)d->deal);
        }
        return;
    }
    if (ours(v, d->magic) && (!cid || cid <= v->last_cid))
        return; /* ours and already counted (an ended order, or the venue's own request) */
    tt_mt5v_report(v, d->sym, 0, 0, "deal %llu by another program or by hand (magic %llu): not "
                   "the engine's", (unsigned long long)d->deal, (unsigned long long)d->magic);
}

/* The held exit deals whose position is now known, or whose opening order
 * has ended (then reported as on a position not held). */
static void flush_stash(tt_mt5_venue *v)
{
    tt_ts at = v->deal_at;
    for (size_t i = 0; i < v->nstash;) {
        tt_mt5_deal d = v->stash[i];
        uint32_t sym = tt_mt5v_sym_of(v, d.sym);
        int known = tt_mt5v_mirror_by_bpos(v, d.position) != NULL;
        if (!known && tt_mt5v_find(v, tt_mt5v_cid_of(v, d.magic))) {
            i++;
            continue;
        }
        memmove(v->stash + i, v->stash + i + 1, (--v->nstash - i) * sizeof *v->stash);
        v->deal_at = deal_key(v, &d);
        exit_deal(v, &d, sym, 1);
    }
    v->deal_at = at;
}

static void on_state(tt_mt5_venue *v, const tt_mt5_state *s)
{
    /* an answer to a QUERY, or an order of known ticket leaving the book (by
     * magic alone it could be the broker's own order for a stop-loss on the
     * position an order opened: those carry the position's magic) */
    tt_mt5v_order *x = s->id ? find_query(v, s->id) : find_ticket(v, s->order);
    if (!x)
        return;
    if (s->id && s->id == x->qid) {
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
            tt_mt5v_report(v, tt_mt5v_ins(v, x->sym)->symbol, x->cid, 0, "order %llu: no answer, "
                           "and the broker does not know it: rejected", (unsigned long long)x->cid);
            tt_mt5v_order_event(v, x, TT_OS_REJECTED, TT_REASON_NO_ANSWER, 0, 0, 0, 0);
        } else {
            tt_mt5v_order_event(v, x, TT_OS_FAILED, TT_REASON_NO_ANSWER, 0, 0, 0, 0);
        }
        return;
    case TT_MT5_OS_STARTED:
    case TT_MT5_OS_PLACED:
    case TT_MT5_OS_PARTIAL:
        if (!x->accepted && x->cmd.type != TT_ORD_MARKET)
            tt_mt5v_order_event(v, x, TT_OS_ACCEPTED, TT_REASON_ACCEPTED, 0, 0, 0, 0);
        if ((x = tt_mt5v_find(v, x->cid)) && x->want_cancel && x->ticket && !x->req)
            tt_mt5v_send_remove(v, x);
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
    const tt_instrument *in = tt_mt5v_ins(v, sym);
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

static void after_history(tt_mt5_venue *v);

/* Deals that happened while nobody listened: those since the latest one
 * known (the broker's clock), when one is; a session that has had no deal
 * cannot have missed one (its orders in flight are asked about next). */
static void start_sync(tt_mt5_venue *v)
{
    if (!v->last_deal) {
        v->hist_id = 0;
        after_history(v);
        return;
    }
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_HISTORY;
    f.u.history.id = v->hist_id = ++v->id_seq;
    f.u.history.from = tt_mt5_utc_ns_to_ms(v->last_deal, v->tz) - 60000;
    tt_mt5v_send_frame(v, &f, NULL);
}

static void after_history(tt_mt5_venue *v)
{
    for (size_t i = 0; i < v->nord; i++) {
        tt_mt5v_order *x = &v->ord[i];
        if (x->unknown || x->req || (!x->ticket && (x->accepted || !x->end_known)))
            tt_mt5v_query(v, x);
    }
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_SNAPSHOT;
    f.u.snap.id = v->snap_id = ++v->id_seq;
    v->nspos = v->nsord = 0;
    tt_mt5v_send_frame(v, &f, NULL);
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
        v->deal_at = 0;
        break;
    case TT_MT5_STATE:
        on_state(v, &f->u.state);
        if (v->nstash) /* an order ended: exit deals held for it */
            flush_stash(v);
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
            if (!v->o.no_reconcile)
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
        tt_mt5v_query(v, x);
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

/* ---- the port's hooks: what the engine dispatched ---- */

static void set_session(tt_mt5_venue *v, uint64_t tag, tt_ts first_ts)
{
    if (!v->tag && tag)
        v->tag = tag & 0x7fffffffu;
    if (v->first_ts || !first_ts)
        return;
    v->first_ts = first_ts;
    if (v->sync_pending && v->connected) {
        v->sync_pending = 0;
        start_sync(v);
    }
}

void tt_mt5_venue_set_session(tt_mt5_venue *v, uint64_t tag, tt_ts first_ts)
{
    pthread_mutex_lock(&v->mu);
    set_session(v, tag, first_ts);
    pthread_mutex_unlock(&v->mu);
}

/* What the engine dispatched (the port's hooks see every event first): the
 * session's first input decides its tag; in replay mode the journal's order
 * events rebuild the state, and its quotes give reconciliation a price. */
static void venue_seen(tt_mt5_venue *v, const tt_event *ev)
{
    pthread_mutex_lock(&v->mu);
    if (!v->first_ts)
        set_session(v, (uint64_t)(ev->ts / TT_NS_PER_SEC), ev->ts);
    if (!v->live && ev->kind == TT_EV_ORDER_EVENT)
        apply(v, ev);
    else if (!v->live && ev->kind == TT_EV_QUOTE && ev->symbol < v->nsym) {
        v->sym[ev->symbol].bid = ev->u.quote.bid; /* a price for reconciling; not fresh */
        v->sym[ev->symbol].ask = ev->u.quote.ask;
    }
    pthread_mutex_unlock(&v->mu);
}

static void venue_market(void *self, const tt_event *ev)
{
    tt_mt5_venue *v = self;
    if (!v->live || !v->first_ts) /* live, a quote needs nothing here */
        venue_seen(v, ev);
}

static void venue_arrival(void *self, const tt_event *ev) { venue_seen(self, ev); }

static void venue_totals(void *self, tt_venue_totals *out)
{
    tt_mt5_venue *v = self;
    pthread_mutex_lock(&v->mu);
    *out = v->totals;
    pthread_mutex_unlock(&v->mu);
}

tt_venue tt_mt5_venue_port(tt_mt5_venue *v)
{
    tt_venue p;
    memset(&p, 0, sizeof p);
    p.self = v;
    p.command = tt_mt5v_command;
    p.on_market = venue_market;
    p.on_arrival = venue_arrival;
    p.totals = venue_totals;
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
            v->subs[n++] = tt_mt5v_ins(v, i)->symbol;
    v->subs[n] = NULL;
    tt_mt5_link_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.host = v->o.host;
    lo.port = v->o.port;
    lo.secret = v->o.secret;
    lo.tls_cert = v->o.tls_cert;
    lo.tls_key = v->o.tls_key;
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
                tt_mt5v_send_remove(v, x);
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
    out->halted = v->halted;
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
    free(v->stash);
    free(v->spos);
    free(v->sord);
    free(v);
}
