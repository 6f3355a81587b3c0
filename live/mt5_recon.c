/*
 * The MT5 venue's positions mirror and its reconciliation with the broker.
 *
 * The mirror is the engine's positions as the venue's fills made them (the
 * portfolio's rules: netting, one position per symbol whose ticket is the
 * opening client id, a reversal opens a new ticket; hedging, one position per
 * opening fill), with the broker's position id beside each. It answers "which
 * engine position is this broker position" for stop-loss, take-profit and
 * stop-out deals and for closes the strategy names.
 *
 * Reconciliation runs when a snapshot is complete (after every connection):
 * the broker's orders and positions on the session's symbols against the
 * engine's (docs/live.md, "Reconciliation"). Every difference is reported;
 * then the policy:
 *
 *   halt   nothing is touched, and no order leaves any more (each is refused,
 *          reason halted) until a human decides;
 *   adopt  the broker is right: the engine's books are moved to the broker's
 *          with venue deals (client id 0, reason reconcile) at the broker's
 *          entry price (or the quote, for what is reduced); stale orders of
 *          this session at the broker are cancelled. (Hedging: a position the
 *          engine does not hold cannot be booked into it; that halts.)
 *   close  the engine is right for what it holds: what the broker holds
 *          beyond it is closed at the broker, what the engine holds beyond
 *          the broker is taken out of the engine's books; stale orders of
 *          this session are cancelled.
 *
 * Orders and positions of other programs (another magic number) are
 * reported and never touched, except that `close` closes positions on the
 * session's symbols whatever their magic (the engine does not hold them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/order.h"
#include "../core/portfolio.h"
#include "mt5_venue_int.h"

/* ---- the mirror ---- */

tt_mt5v_pos *tt_mt5v_mirror_by_ticket(tt_mt5_venue *v, uint64_t ticket)
{
    for (size_t i = 0; i < v->npos; i++)
        if (v->pos[i].ticket == ticket)
            return &v->pos[i];
    return NULL;
}

tt_mt5v_pos *tt_mt5v_mirror_by_bpos(tt_mt5_venue *v, uint64_t bpos)
{
    for (size_t i = 0; bpos && i < v->npos; i++)
        if (v->pos[i].bpos == bpos)
            return &v->pos[i];
    return NULL;
}

tt_mt5v_pos *tt_mt5v_mirror_net(tt_mt5_venue *v, uint32_t sym)
{
    for (size_t i = 0; i < v->npos; i++)
        if (v->pos[i].sym == sym)
            return &v->pos[i];
    return NULL;
}

static void pos_add(tt_mt5_venue *v, uint64_t ticket, uint32_t sym, int side, int64_t qty,
                    uint64_t bpos)
{
    if (v->npos == v->cappos) {
        size_t cap = v->cappos ? 2 * v->cappos : 16;
        tt_mt5v_pos *p = realloc(v->pos, cap * sizeof *p);
        if (!p)
            return;
        v->pos = p;
        v->cappos = cap;
    }
    v->pos[v->npos++] = (tt_mt5v_pos){ticket, bpos, sym, (int8_t)side, qty};
}

static void pos_drop(tt_mt5_venue *v, tt_mt5v_pos *p)
{
    size_t i = (size_t)(p - v->pos);
    memmove(&v->pos[i], &v->pos[i + 1], (v->npos - i - 1) * sizeof *v->pos);
    v->npos--;
}

void tt_mt5v_mirror_fill(tt_mt5_venue *v, uint32_t sym, int side, int64_t qty, uint64_t cid,
                         uint64_t ticket)
{
    tt_mt5v_pos *p;
    if (ticket && (p = tt_mt5v_mirror_by_ticket(v, ticket)) && p->side != side) {
        p->qty -= qty < p->qty ? qty : p->qty; /* a named position is reduced, never reversed */
        if (!p->qty)
            pos_drop(v, p);
        return;
    }
    if (v->o.mode == TT_MODE_HEDGING) {
        pos_add(v, cid, sym, side, qty, 0);
        return;
    }
    p = tt_mt5v_mirror_net(v, sym);
    if (!p) {
        pos_add(v, cid, sym, side, qty, 0);
    } else if (p->side == side) {
        p->qty += qty;
    } else if (qty <= p->qty) {
        p->qty -= qty;
        if (!p->qty)
            pos_drop(v, p);
    } else { /* reversal: the rest opens under the order's id; the broker keeps its id */
        int64_t rest = qty - p->qty;
        uint64_t bpos = p->bpos;
        pos_drop(v, p);
        pos_add(v, cid, sym, side, rest, bpos);
    }
}

/* ---- reconciliation ---- */

typedef struct recon {
    tt_mt5_venue *v;
    int halt;
    const char *why;
} recon;

static const char *sym_name(tt_mt5_venue *v, uint32_t sym)
{
    return tt_instruments_get(v->o.ins, sym)->symbol;
}

/* A price for a venue deal: the broker's entry when one is given, else the
 * side's quote; 0 when there is none (then the difference halts). */
static tt_price deal_price(tt_mt5_venue *v, uint32_t sym, int side, tt_mt5_dec entry)
{
    int64_t p;
    const tt_instrument *in = tt_instruments_get(v->o.ins, sym);
    if (entry > 0) {
        int64_t unit = TT_MT5_DEC_ONE / in->points;
        return (tt_price)((entry + unit / 2) / unit);
    }
    const tt_mt5v_sym *y = &v->sym[sym];
    if (!y->bid || !y->ask)
        return 0;
    p = side > 0 ? y->ask : y->bid;
    return p;
}

static void book(recon *r, uint32_t sym, int side, int64_t qty, tt_mt5_dec entry, uint64_t ticket)
{
    tt_price px = deal_price(r->v, sym, side, entry);
    if (!px || qty <= 0) {
        r->halt = 1;
        r->why = "no price to book the difference at";
        return;
    }
    tt_mt5v_venue_deal(r->v, sym, side, qty, px, 0, ticket, TT_REASON_RECONCILE);
}

static void broker_trade(recon *r, uint32_t sym, int side, tt_mt5_dec lots, uint64_t position)
{
    tt_mt5_venue *v = r->v;
    const tt_mt5v_sym *y = &v->sym[sym];
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    tt_mt5_order *q = &f.u.order;
    q->action = TT_MT5_ACT_DEAL;
    snprintf(q->sym, sizeof q->sym, "%s", y->spec.sym);
    q->type = side > 0 ? TT_MT5_OT_BUY : TT_MT5_OT_SELL;
    q->vol = lots;
    q->price = tt_mt5_dec_from_scaled(side > 0 ? y->ask : y->bid,
                                      tt_instruments_get(v->o.ins, sym)->digits);
    q->dev = v->o.deviation;
    q->filling = y->spec.filling & TT_MT5_FILLING_FOK_FLAG ? TT_MT5_FILL_FOK
                 : y->spec.filling & TT_MT5_FILLING_IOC_FLAG ? TT_MT5_FILL_IOC : TT_MT5_FILL_RETURN;
    q->position = position;
    if (tt_mt5v_send_own(v, &f)) {
        r->halt = 1;
        r->why = "a close at the broker could not be sent";
    }
}

static void broker_remove(tt_mt5_venue *v, const tt_mt5_ord *o)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.u.order.action = TT_MT5_ACT_REMOVE;
    snprintf(f.u.order.sym, sizeof f.u.order.sym, "%s", o->sym);
    f.u.order.order = o->ticket;
    tt_mt5v_send_own(v, &f);
}

static int64_t sgn(int64_t x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }
static int64_t mag(int64_t x) { return x < 0 ? -x : x; }

static void orders(recon *r)
{
    tt_mt5_venue *v = r->v;
    for (size_t i = 0; i < v->nsord; i++) {
        const tt_mt5_ord *o = &v->sord[i];
        uint32_t sym = tt_mt5v_sym_of(v, o->sym);
        if (!sym)
            continue;
        uint64_t cid = tt_mt5v_cid_of(v, o->magic);
        tt_mt5v_order *x = cid ? tt_mt5v_find(v, cid) : NULL;
        if (x) {
            x->ticket = o->ticket;
            continue;
        }
        int mine = v->tag && o->magic >> 32 == v->tag;
        v->st.differences++;
        tt_mt5v_report(v, o->sym, cid, 0, "reconcile: order #%llu (magic %llu) is at the broker, "
                       "not in the engine%s", (unsigned long long)o->ticket,
                       (unsigned long long)o->magic, mine ? "" : " (another program's)");
        if (!mine)
            continue;
        if (v->o.policy == TT_MT5_POLICY_HALT) {
            r->halt = 1;
            r->why = "an order of this session is at the broker and not in the engine";
        } else {
            broker_remove(v, o);
        }
    }
    for (size_t i = 0; i < v->nord; i++) {
        tt_mt5v_order *x = &v->ord[i];
        int at_broker = 0;
        for (size_t k = 0; k < v->nsord && !at_broker; k++)
            at_broker = v->sord[k].ticket == x->ticket && x->ticket;
        if (!x->accepted || at_broker || x->end_known || x->req || x->qid)
            continue;
        v->st.differences++;
        tt_mt5v_report(v, sym_name(v, x->sym), x->cid, 0, "reconcile: order %llu is working in "
                       "the engine, not at the broker", (unsigned long long)x->cid);
        if (v->o.policy == TT_MT5_POLICY_HALT) {
            r->halt = 1;
            r->why = "an order of the engine is not at the broker";
            continue;
        }
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.symbol = x->sym;
        ev.u.order_ev.client_id = x->cid;
        ev.u.order_ev.venue_id = x->ticket;
        ev.u.order_ev.leaves_qty = x->cmd.qty - x->eqty;
        ev.u.order_ev.reason = TT_REASON_RECONCILE;
        ev.u.order_ev.status = TT_OS_CANCELLED;
        ev.u.order_ev.side = x->cmd.side;
        ev.u.order_ev.type = x->cmd.type;
        tt_mt5v_emit(v, &ev); /* drops x */
        i--;
    }
}

/* Netting: one comparison per symbol, signed lots. */
static void netting(recon *r, uint32_t sym)
{
    tt_mt5_venue *v = r->v;
    const tt_mt5v_sym *y = &v->sym[sym];
    tt_mt5_dec B = 0, entry = 0;
    uint64_t bpos = 0;
    for (size_t i = 0; i < v->nspos; i++)
        if (tt_mt5v_sym_of(v, v->spos[i].sym) == sym) {
            B += v->spos[i].side == TT_MT5_BUY ? v->spos[i].vol : -v->spos[i].vol;
            entry = v->spos[i].price;
            bpos = v->spos[i].ticket;
        }
    tt_mt5v_pos *p = tt_mt5v_mirror_net(v, sym);
    tt_mt5_dec E = p ? p->side * p->qty * y->step : 0;
    if (p && bpos)
        p->bpos = bpos;
    if (B == E)
        return;
    v->st.differences++;
    char b[32], e[32];
    tt_mt5_dec_format(B, b);
    tt_mt5_dec_format(E, e);
    tt_mt5v_report(v, sym_name(v, sym), 0, 0, "reconcile: the broker holds %s lots, the engine %s",
                   b, e);
    if (v->o.policy == TT_MT5_POLICY_HALT) {
        r->halt = 1;
        r->why = "positions differ";
        return;
    }
    tt_mt5_dec target = v->o.policy == TT_MT5_POLICY_ADOPT ? B
                        : sgn(B) == sgn(E) ? sgn(B) * (mag(B) < mag(E) ? mag(B) : mag(E)) : 0;
    tt_mt5_dec de = target - E, db = target - B;
    if (de % y->step) {
        r->halt = 1;
        r->why = "the broker's position is not a whole number of the engine's volume steps";
        return;
    }
    if (de) /* grows the engine's position: at the broker's entry; else at the quote */
        book(r, sym, (int)sgn(de), mag(de) / y->step,
             mag(target) > mag(E) && sgn(target) == sgn(de) ? entry : 0, 0);
    if (db)
        broker_trade(r, sym, (int)sgn(db), mag(db), 0);
    p = tt_mt5v_mirror_net(v, sym);
    if (p && bpos && target)
        p->bpos = bpos;
}

static int listed(const uint64_t *t, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (t[i] == x)
            return 1;
    return 0;
}

/* Hedging: position by position. Booking changes the mirror, so positions
 * are looked up afresh by ticket, never kept by pointer across a booking. */
static void hedging(recon *r)
{
    tt_mt5_venue *v = r->v;
    uint64_t *seen = calloc(v->npos + v->nspos + 1, sizeof *seen);
    size_t nseen = 0;
    if (!seen) {
        r->halt = 1;
        r->why = "out of memory";
        return;
    }
    for (size_t i = 0; i < v->nspos; i++) {
        const tt_mt5_pos *b = &v->spos[i];
        uint32_t sym = tt_mt5v_sym_of(v, b->sym);
        if (!sym || !v->sym[sym].ok)
            continue;
        tt_mt5_dec step = v->sym[sym].step;
        uint64_t cid = tt_mt5v_cid_of(v, b->magic);
        tt_mt5v_pos *p = tt_mt5v_mirror_by_bpos(v, b->ticket);
        if (!p && cid)
            p = tt_mt5v_mirror_by_ticket(v, cid);
        int side = b->side == TT_MT5_BUY ? 1 : -1;
        int64_t bq = b->vol / step;
        if (p) {
            seen[nseen++] = p->ticket;
            p->bpos = b->ticket;
        }
        if (p && p->side == side && p->qty == bq && !(b->vol % step))
            continue;
        v->st.differences++;
        char bv[32];
        tt_mt5_dec_format(b->vol, bv);
        tt_mt5v_report(v, b->sym, cid, 0, "reconcile: broker position #%llu (%s %s lots) %s",
                       (unsigned long long)b->ticket, side > 0 ? "long" : "short", bv,
                       p ? "differs from the engine's" : "is not in the engine");
        if (v->o.policy == TT_MT5_POLICY_HALT || (!p && v->o.policy == TT_MT5_POLICY_ADOPT) ||
            (p && p->side != side)) {
            r->halt = 1;
            r->why = !p ? "a hedging position cannot be booked into the engine"
                        : "positions differ";
        } else if (!p) { /* close: the engine does not hold it */
            broker_trade(r, sym, -side, b->vol, b->ticket);
        } else if (p->qty > bq) { /* the engine holds more: out of its books */
            book(r, sym, -side, p->qty - bq, 0, p->ticket);
        } else if (v->o.policy == TT_MT5_POLICY_CLOSE) {
            broker_trade(r, sym, -side, b->vol - p->qty * step, b->ticket);
        } else {
            r->halt = 1;
            r->why = "a hedging position cannot grow in the engine";
        }
    }
    size_t n = 0;
    uint64_t *left = calloc(v->npos + 1, sizeof *left);
    for (size_t i = 0; left && i < v->npos; i++)
        if (!listed(seen, nseen, v->pos[i].ticket))
            left[n++] = v->pos[i].ticket;
    for (size_t i = 0; i < n; i++) {
        tt_mt5v_pos *p = tt_mt5v_mirror_by_ticket(v, left[i]);
        if (!p)
            continue;
        v->st.differences++;
        tt_mt5v_report(v, sym_name(v, p->sym), p->ticket, 0, "reconcile: engine position %llu "
                       "is not at the broker", (unsigned long long)p->ticket);
        if (v->o.policy == TT_MT5_POLICY_HALT) {
            r->halt = 1;
            r->why = "positions differ";
        } else {
            book(r, p->sym, -p->side, p->qty, 0, p->ticket);
        }
    }
    free(left);
    free(seen);
}

void tt_mt5v_reconcile(tt_mt5_venue *v)
{
    recon r = {v, 0, NULL};
    orders(&r);
    if (v->o.mode == TT_MODE_HEDGING) {
        hedging(&r);
    } else {
        for (uint32_t s = 1; s < v->nsym; s++)
            if (v->sym[s].in_session && v->sym[s].ok)
                netting(&r, s);
    }
    if (r.halt && !v->halted) { /* nothing leaves, not even a flattening order */
        v->halted = 1;
        tt_mt5v_report(v, NULL, 0, 0, "reconcile: %s; orders halted for a human (restart with "
                       "--reconcile adopt or close to let ticktape settle it)", r.why);
    }
}
