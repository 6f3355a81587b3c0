/*
 * The broker model of mt5-sim (see mt5_sim.h for the rules).
 *
 * The account is a tt_portfolio (core/portfolio.h): it already values
 * positions, margin and swaps exactly as the simulated venue and the
 * strategy side do, netting and hedging alike. Around it this file keeps
 * what MT5 adds: tickets (orders and deals numbered from 10001 and 20001;
 * a position's ticket is its opening order's, which is the portfolio's own
 * rule), the working pending orders in placement order, the orders that
 * left the book (for QUERY), every deal (for HISTORY and the deal log), and
 * each open position's magic and comment.
 *
 * Volumes inside are whole steps of the symbol's vstep (the instrument copy
 * the portfolio uses has volume_step = vstep), prices are points; the wire's
 * decimals are converted at the edges. A netting reversal is two portfolio
 * fills (close, then open the rest under the old position ticket), one MT5
 * deal with entry INOUT. The portfolio's trade callback gives each deal's
 * profit and swap.
 */
#include "mt5_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/portfolio.h"
#include "mt5_sim_int.h"

enum fkind { F_LATENCY, F_REQUOTE, F_REJECT, F_NOMONEY, F_CLOSED, F_STOPS, F_PARTIAL, F_DROP,
             F_RESTART, F_NOREPLY, F_KINDS };
static const char *const fault_names[F_KINDS] = {"latency", "requote", "reject", "nomoney",
                                                 "closed", "stops", "partial", "drop",
                                                 "restart", "noreply"};

void tt_mt5_sim_config_default(tt_mt5_sim_config *c)
{
    memset(c, 0, sizeof *c);
    c->mode = TT_MT5_NETTING;
    memcpy(c->currency, "USD", 4);
    c->balance = 1000000;
    c->leverage = 100;
    c->stop_out = 50;
    c->tz = 7200;
    c->login = 5012345;
    c->filling = TT_MT5_FILLING_FOK_FLAG | TT_MT5_FILLING_IOC_FLAG;
    c->vmin = TT_MT5_DEC_ONE / 100;
    c->vmax = 500 * TT_MT5_DEC_ONE;
}

int tt_mt5s_grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return TT_OK;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*v, c * size);
    if (!p)
        return TT_ENOMEM;
    *v = p;
    *cap = c;
    return TT_OK;
}

static void on_trade(void *ctx, const tt_trade_record *t)
{
    tt_mt5_sim *s = ctx;
    s->cap_pnl += t->pnl;
    s->cap_swap += t->swap;
}

/* ---- units ---- */

static tt_mt5_dec px_dec(const tt_mt5_sim *s, uint32_t sym, tt_price p)
{
    return tt_mt5_dec_from_scaled(p, (int)s->sym[sym].spec.digits);
}

static tt_mt5_dec vol_dec(const tt_mt5_sim *s, uint32_t sym, int64_t qty)
{
    return qty * s->sym[sym].spec.vstep;
}

static tt_mt5_dec money_dec(const tt_mt5_sim *s, tt_money m)
{
    int64_t mpu = tt_portfolio_config_of(s->books)->minor_per_unit;
    return m * (TT_MT5_DEC_ONE / mpu);
}

tt_price tt_mt5s_points(const tt_mt5_sim *s, uint32_t sym, tt_mt5_dec v, int *ok)
{
    int64_t p = 0;
    *ok = v >= 0 && tt_mt5_dec_to_scaled(v, (int)s->sym[sym].spec.digits, &p) == TT_OK;
    return p;
}

static int64_t utc_ns(const tt_mt5_sim *s, int64_t ms)
{
    return tt_mt5_ms_to_utc_ns(ms, s->cfg.tz);
}

/* ---- setup ---- */

static int spec_build(tt_mt5_sim *s, const tt_instrument *in, tt_mt5_spec *sp)
{
    memset(sp, 0, sizeof *sp);
    int64_t p10 = 1;
    for (int d = 0; d < in->digits; d++)
        p10 *= 10;
    if (in->digits > 8 || p10 != in->points)
        return 0;
    snprintf(sp->sym, sizeof sp->sym, "%s", in->symbol);
    sp->digits = (uint32_t)in->digits;
    sp->point = tt_mt5_dec_from_scaled(1, in->digits);
    sp->contract = (tt_mt5_dec)llround(in->contract_size * TT_MT5_DEC_ONE);
    sp->vstep = (tt_mt5_dec)llround(in->volume_step * TT_MT5_DEC_ONE);
    sp->vmin = s->cfg.vmin > sp->vstep ? s->cfg.vmin : sp->vstep;
    sp->vmax = s->cfg.vmax;
    sp->stops = s->cfg.stops;
    sp->freeze = s->cfg.freeze;
    sp->filling = s->cfg.filling;
    sp->exec = TT_MT5_EXEC_MARKET;
    sp->trade = TT_MT5_TM_FULL;
    sp->swap_mode = TT_MT5_SWAP_POINTS;
    sp->swap_long = (tt_mt5_dec)llround(in->swap_long * TT_MT5_DEC_ONE);
    sp->swap_short = (tt_mt5_dec)llround(in->swap_short * TT_MT5_DEC_ONE);
    sp->swap3 = 3;
    sp->margin_rate = (tt_mt5_dec)llround((in->margin_rate > 0 ? in->margin_rate : 1) *
                                          TT_MT5_DEC_ONE);
    snprintf(sp->base, sizeof sp->base, "%s", in->base);
    snprintf(sp->profit, sizeof sp->profit, "%s", in->quote);
    sp->comm = s->cfg.comm;
    return sp->vstep > 0 && sp->contract > 0 && sp->vmax >= sp->vmin;
}

int tt_mt5_sim_new(tt_mt5_sim **out, const tt_instruments *ins, const tt_mt5_sim_config *cfg,
                   tt_err *err)
{
    *out = NULL;
    if (cfg->mode > TT_MT5_HEDGING)
        return tt_err_set(err, TT_EINVAL, "mt5-sim: account mode %d is neither netting nor "
                          "hedging", cfg->mode);
    if (cfg->vmin <= 0 || cfg->vmax < cfg->vmin)
        return tt_err_set(err, TT_EINVAL, "mt5-sim: volume limits: need 0 < vmin <= vmax");
    if (cfg->comm < 0 || cfg->stop_out < 0)
        return tt_err_set(err, TT_EINVAL, "mt5-sim: commission and stop-out must be >= 0");
    tt_mt5_sim *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "mt5-sim: out of memory");
    s->cfg = *cfg;
    s->next_order = 10001;
    s->next_deal = 20001;
    s->ins = tt_instruments_new();
    uint32_t n = tt_instruments_count(ins);
    s->sym = calloc(n + 1, sizeof *s->sym);
    if (!s->ins || !s->sym) {
        tt_mt5_sim_free(s);
        return tt_err_set(err, TT_ENOMEM, "mt5-sim: out of memory");
    }
    for (uint32_t i = 1; i <= n; i++) {
        tt_instrument in = *tt_instruments_get(ins, i);
        int rc = tt_instruments_put(s->ins, &in, err);
        if (rc) {
            tt_mt5_sim_free(s);
            return rc;
        }
    }
    s->nsym = tt_instruments_count(s->ins) + 1;
    tt_mt5s_sym *more = realloc(s->sym, s->nsym * sizeof *s->sym);
    if (!more) {
        tt_mt5_sim_free(s);
        return tt_err_set(err, TT_ENOMEM, "mt5-sim: out of memory");
    }
    s->sym = more;
    memset(s->sym, 0, s->nsym * sizeof *s->sym);
    for (uint32_t i = 1; i < s->nsym; i++)
        s->sym[i].ok = spec_build(s, tt_instruments_get(s->ins, i), &s->sym[i].spec);
    tt_portfolio_config pc;
    memset(&pc, 0, sizeof pc);
    memcpy(pc.currency, cfg->currency, sizeof pc.currency);
    pc.initial_balance = cfg->balance;
    pc.mode = cfg->mode == TT_MT5_HEDGING ? TT_MODE_HEDGING : TT_MODE_NETTING;
    pc.leverage = cfg->leverage;
    pc.swaps = 1;
    int rc = tt_portfolio_new(&s->books, s->ins, &pc, err);
    if (rc) {
        tt_mt5_sim_free(s);
        return rc;
    }
    tt_portfolio_on_trade(s->books, on_trade, s);
    *out = s;
    return TT_OK;
}

void tt_mt5_sim_free(tt_mt5_sim *s)
{
    if (!s)
        return;
    tt_portfolio_free(s->books);
    tt_instruments_free(s->ins);
    free(s->sym);
    free(s->ord);
    free(s->hist);
    free(s->meta);
    free(s->deals);
    free(s);
}

void tt_mt5_sim_callbacks(tt_mt5_sim *s, tt_mt5_deal_fn deal, tt_mt5_state_fn state, void *ctx)
{
    s->on_deal = deal;
    s->on_state = state;
    s->ctx = ctx;
}

uint32_t tt_mt5_sim_symbol(const tt_mt5_sim *s, const char *name)
{
    const tt_instrument *in = tt_instruments_find(s->ins, name);
    return in && s->sym[in->id].ok && !strcmp(in->symbol, name) ? in->id : 0;
}

int tt_mt5_sim_spec(const tt_mt5_sim *s, uint32_t sym, tt_mt5_spec *out)
{
    if (!sym || sym >= s->nsym || !s->sym[sym].ok)
        return TT_ENOTFOUND;
    *out = s->sym[sym].spec;
    return TT_OK;
}

/* ---- faults ---- */

static int fault_key(tt_mt5s_fault *f, const char *key, const char *val, const char *spec, tt_err *err)
{
    char *end;
    double d = strtod(val, &end);
    if (!*val || *end || !(d >= 0) || d > 1e15)
        return tt_err_set(err, TT_EINVAL, "--fault '%s': %s=%s: expected a number >= 0", spec,
                          key, val);
    int sel = !strcmp(key, "every") || !strcmp(key, "at") || !strcmp(key, "order");
    if (sel && (d < 1 || d != floor(d)))
        return tt_err_set(err, TT_EINVAL, "--fault '%s': %s=%s: expected a whole number >= 1",
                          spec, key, val);
    int conn = f->kind == F_DROP || f->kind == F_RESTART;
    if (!strcmp(key, "every") && !conn)
        f->every = (uint64_t)d;
    else if (!strcmp(key, "at"))
        f->at = (uint64_t)d;
    else if (!strcmp(key, "order") && conn)
        f->order = (uint64_t)d;
    else if (!strcmp(key, "ms") && f->kind == F_LATENCY)
        f->ms = (int64_t)d;
    else if (!strcmp(key, "down") && conn)
        f->down = (int64_t)d;
    else if (!strcmp(key, "ratio") && f->kind == F_PARTIAL && d > 0 && d < 1)
        f->ratio = d;
    else
        return tt_err_set(err, TT_EINVAL,
                          "--fault '%s': %s does not take '%s=%s' (see docs/mt5-protocol.md, "
                          "Faults)", spec, fault_names[f->kind], key, val);
    return TT_OK;
}

int tt_mt5_sim_fault(tt_mt5_sim *s, const char *spec, tt_err *err)
{
    if (s->nfaults == TT_MT5S_MAX_FAULTS)
        return tt_err_set(err, TT_EINVAL, "--fault: at most %d faults", TT_MT5S_MAX_FAULTS);
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return tt_err_set(err, TT_EINVAL, "--fault: spec too long");
    strcpy(buf, spec);
    char *args = strchr(buf, ':');
    if (args)
        *args++ = 0;
    tt_mt5s_fault f;
    memset(&f, 0, sizeof f);
    int k = 0;
    while (k < F_KINDS && strcmp(fault_names[k], buf))
        k++;
    if (k == F_KINDS)
        return tt_err_set(err, TT_EINVAL,
                          "--fault '%s': unknown kind '%s' (latency, requote, reject, nomoney, "
                          "closed, stops, partial, drop, restart, noreply)", spec, buf);
    f.kind = (uint8_t)k;
    f.ratio = 0.5;
    f.down = k == F_RESTART ? 2000 : 200;
    for (char *kv = args ? strtok(args, ",") : NULL; kv; kv = strtok(NULL, ",")) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return tt_err_set(err, TT_EINVAL, "--fault '%s': '%s' is not key=value", spec, kv);
        *eq = 0;
        int rc = fault_key(&f, kv, eq + 1, spec, err);
        if (rc)
            return rc;
    }
    if (k == F_LATENCY && !f.ms)
        return tt_err_set(err, TT_EINVAL, "--fault '%s': latency needs ms=N", spec);
    if ((k == F_DROP || k == F_RESTART) && !f.at && !f.order)
        return tt_err_set(err, TT_EINVAL, "--fault '%s': %s needs at=TICK or order=N", spec,
                          buf);
    s->faults[s->nfaults++] = f;
    return TT_OK;
}

static int selected(const tt_mt5s_fault *f, uint64_t n)
{
    if (f->at)
        return n == f->at;
    if (f->every)
        return n % f->every == 0;
    return 1;
}

void tt_mt5_sim_admit(tt_mt5_sim *s, const tt_mt5_order *req, tt_mt5_sim_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    int counted = req->action == TT_MT5_ACT_DEAL || req->action == TT_MT5_ACT_PENDING;
    uint64_t n = counted ? ++s->nreq : 0;
    for (int i = 0; i < s->nfaults; i++) {
        const tt_mt5s_fault *f = &s->faults[i];
        int conn = f->kind == F_DROP || f->kind == F_RESTART;
        if (conn) {
            if (f->order && f->order == n) {
                plan->drop = 1;
                plan->down_ms = f->down;
            }
            continue;
        }
        if (!(counted ? selected(f, n) : !f->at && !f->every))
            continue;
        switch (f->kind) {
        case F_LATENCY:
            plan->latency_ms += f->ms;
            break;
        case F_PARTIAL:
            if (counted && !plan->partial)
                plan->partial = f->ratio;
            break;
        case F_NOREPLY:
            plan->noreply = counted;
            break;
        default: {
            static const uint32_t rc[F_KINDS] = {
                [F_REQUOTE] = TT_MT5_RC_REQUOTE, [F_REJECT] = TT_MT5_RC_REJECT,
                [F_NOMONEY] = TT_MT5_RC_NO_MONEY, [F_CLOSED] = TT_MT5_RC_MARKET_CLOSED,
                [F_STOPS] = TT_MT5_RC_INVALID_STOPS};
            if (!counted || plan->retcode)
                break;
            if (f->kind == F_REQUOTE && req->action != TT_MT5_ACT_DEAL)
                break;
            plan->retcode = rc[f->kind];
        }
        }
    }
}

int tt_mt5_sim_tick_sent(tt_mt5_sim *s, int64_t *down_ms, int *restart)
{
    uint64_t n = ++s->nticks;
    for (int i = 0; i < s->nfaults; i++) {
        const tt_mt5s_fault *f = &s->faults[i];
        if ((f->kind == F_DROP || f->kind == F_RESTART) && f->at && f->at == n) {
            *down_ms = f->down;
            *restart = f->kind == F_RESTART;
            return 1;
        }
    }
    return 0;
}

/* ---- books ---- */

static tt_mt5s_meta *meta_find(tt_mt5_sim *s, uint64_t ticket)
{
    for (size_t i = 0; i < s->nmeta; i++)
        if (s->meta[i].ticket == ticket)
            return &s->meta[i];
    return NULL;
}

static void meta_sync(tt_mt5_sim *s)
{
    /* drop the meta of positions that are gone */
    for (size_t i = 0; i < s->nmeta;) {
        if (!tt_portfolio_find(s->books, s->meta[i].ticket)) {
            s->meta[i] = s->meta[--s->nmeta];
            continue;
        }
        i++;
    }
}

const tt_position *tt_mt5s_net_position(const tt_mt5_sim *s, uint32_t sym)
{
    for (size_t i = 0; i < tt_portfolio_count(s->books); i++) {
        const tt_position *x = tt_portfolio_position(s->books, i);
        if (x->symbol == sym)
            return x;
    }
    return NULL;
}

void tt_mt5s_hist(tt_mt5_sim *s, uint64_t ticket, uint64_t magic, uint32_t sym, int state,
                     int64_t qty, int64_t qty_cur)
{
    if (tt_mt5s_grow((void **)&s->hist, &s->caphist, s->nhist, sizeof *s->hist))
        return; /* out of memory: QUERY will not find it (reported as none) */
    tt_mt5s_horder *h = &s->hist[s->nhist++];
    h->ticket = ticket;
    h->magic = magic;
    h->own = 1;
    h->sym = sym;
    h->state = (uint8_t)state;
    h->qty = qty;
    h->qty_cur = qty_cur;
    h->t = s->now;
    if (s->on_state) {
        tt_mt5_state st;
        memset(&st, 0, sizeof st);
        st.order = ticket;
        st.magic = magic;
        st.state = (uint8_t)state;
        st.vol = vol_dec(s, sym, qty);
        st.vol_cur = vol_dec(s, sym, qty_cur);
        st.t = s->now;
        s->on_state(s->ctx, &st);
    }
}

static tt_money commission(const tt_mt5_sim *s, uint32_t sym, int64_t qty)
{
    double lots = (double)qty * (double)s->sym[sym].spec.vstep / TT_MT5_DEC_ONE;
    double per = (double)s->sym[sym].spec.comm / TT_MT5_DEC_ONE;
    return (tt_money)llround(per * lots * (double)tt_portfolio_config_of(s->books)->minor_per_unit);
}


static int books_fill(tt_mt5_sim *s, const tt_mt5s_dreq *r, int64_t qty, uint64_t order_id,
                      uint64_t position, tt_money comm)
{
    tt_fill f;
    memset(&f, 0, sizeof f);
    f.symbol = r->sym;
    f.side = (int8_t)r->side;
    f.qty = qty;
    f.price = r->px;
    f.commission = comm;
    f.order_id = order_id;
    f.position = position;
    f.stop_loss = r->sl;
    f.take_profit = r->tp;
    f.ts = utc_ns(s, s->now);
    return tt_portfolio_fill(s->books, &f, NULL);
}

const tt_mt5_deal *tt_mt5s_deal(tt_mt5_sim *s, const tt_mt5s_dreq *r)
{
    if (tt_mt5s_grow((void **)&s->deals, &s->capdeals, s->ndeals, sizeof *s->deals) ||
        tt_mt5s_grow((void **)&s->meta, &s->capmeta, s->nmeta, sizeof *s->meta))
        return NULL;
    tt_money comm = commission(s, r->sym, r->qty);
    uint64_t pos_id = r->order;
    int entry = TT_MT5_ENTRY_IN, rc = 0;
    s->cap_pnl = s->cap_swap = 0;
    if (r->close_ticket) { /* hedging close of a named position */
        pos_id = r->close_ticket;
        entry = TT_MT5_ENTRY_OUT;
        rc = books_fill(s, r, r->qty, r->order, r->close_ticket, comm);
    } else if (s->cfg.mode == TT_MT5_NETTING && tt_mt5s_net_position(s, r->sym)) {
        const tt_position *x = tt_mt5s_net_position(s, r->sym);
        pos_id = x->ticket;
        int64_t held = x->qty;
        if (x->side == r->side) {
            rc = books_fill(s, r, r->qty, r->order, 0, comm);
        } else if (r->qty <= held) {
            entry = TT_MT5_ENTRY_OUT;
            rc = books_fill(s, r, r->qty, r->order, 0, comm);
        } else { /* reversal: close, then open the rest under the same position id */
            entry = TT_MT5_ENTRY_INOUT;
            tt_money c1 = (tt_money)((__int128)comm * held / r->qty);
            rc = books_fill(s, r, held, r->order, 0, c1);
            if (!rc)
                rc = books_fill(s, r, r->qty - held, pos_id, 0, comm - c1);
        }
        if (!rc && entry == TT_MT5_ENTRY_IN && (r->sl || r->tp))
            tt_portfolio_set_exits(s->books, pos_id, r->sl, r->tp);
    } else {
        rc = books_fill(s, r, r->qty, r->order, 0, comm);
    }
    if (rc)
        return NULL;
    if (entry == TT_MT5_ENTRY_IN && !meta_find(s, pos_id)) {
        tt_mt5s_meta *m = &s->meta[s->nmeta++];
        m->ticket = pos_id;
        m->magic = r->magic;
        snprintf(m->comment, sizeof m->comment, "%s", r->comment ? r->comment : "");
    }
    meta_sync(s);
    tt_mt5_deal *d = &s->deals[s->ndeals++];
    memset(d, 0, sizeof *d);
    d->deal = s->next_deal++;
    d->order = r->order;
    d->position = pos_id;
    snprintf(d->sym, sizeof d->sym, "%s", s->sym[r->sym].spec.sym);
    d->side = r->side > 0 ? TT_MT5_BUY : TT_MT5_SELL;
    d->entry = (uint8_t)entry;
    d->reason = (uint8_t)r->reason;
    d->vol = vol_dec(s, r->sym, r->qty);
    d->price = px_dec(s, r->sym, r->px);
    d->comm = -money_dec(s, comm);
    d->swap = money_dec(s, s->cap_swap);
    d->profit = money_dec(s, s->cap_pnl);
    d->t = s->now;
    d->magic = r->magic;
    snprintf(d->comment, sizeof d->comment, "%s", r->comment ? r->comment : "");
    if (s->on_deal)
        s->on_deal(s->ctx, d);
    return d;
}

/* Steps of qty that open new exposure (netting: beyond the opposite position). */
int64_t tt_mt5s_opening(const tt_mt5_sim *s, uint32_t sym, int side, int64_t qty,
                       uint64_t close_ticket)
{
    if (close_ticket)
        return 0;
    if (s->cfg.mode == TT_MT5_HEDGING)
        return qty;
    const tt_position *x = tt_mt5s_net_position(s, sym);
    if (!x || x->side == side)
        return qty;
    return qty > x->qty ? qty - x->qty : 0;
}

int tt_mt5s_money_ok(const tt_mt5_sim *s, uint32_t sym, int64_t qty)
{
    if (!qty)
        return 1;
    tt_money need;
    if (tt_portfolio_margin_for(s->books, sym, qty, &need, NULL))
        return 0;
    tt_account a;
    tt_portfolio_account(s->books, &a);
    return need <= a.free_margin;
}

/* ---- ticks ---- */

static int64_t day_of(int64_t ms)
{
    return ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
}

static int expired(const tt_mt5_sim *s, const tt_mt5s_order *o)
{
    switch (o->time) {
    case TT_MT5_TIME_DAY:
        return day_of(s->now) != day_of(o->t);
    case TT_MT5_TIME_SPECIFIED:
        return s->now >= o->exp;
    case TT_MT5_TIME_SPECIFIED_DAY:
        return day_of(s->now) > day_of(o->exp);
    default:
        return 0;
    }
}

/* Where a working order fills on the symbol's tick, or 0. A triggered
 * stop-limit becomes a limit at its stoplimit price (same ticket) and is
 * checked as one at once. */
static tt_price trigger(tt_mt5_sim *s, tt_mt5s_order *o)
{
    const tt_mt5s_sym *y = &s->sym[o->sym];
    switch (o->type) {
    case TT_MT5_OT_BUY_LIMIT:
        return y->ask <= o->price ? y->ask : 0; /* at the price or better */
    case TT_MT5_OT_SELL_LIMIT:
        return y->bid >= o->price ? y->bid : 0;
    case TT_MT5_OT_BUY_STOP:
        return y->ask >= o->price ? y->ask : 0; /* at the market: worse on a gap */
    case TT_MT5_OT_SELL_STOP:
        return y->bid <= o->price ? y->bid : 0;
    case TT_MT5_OT_BUY_STOP_LIMIT:
    case TT_MT5_OT_SELL_STOP_LIMIT: {
        int buy = o->type == TT_MT5_OT_BUY_STOP_LIMIT;
        if (buy ? y->ask < o->price : y->bid > o->price)
            return 0;
        o->type = buy ? TT_MT5_OT_BUY_LIMIT : TT_MT5_OT_SELL_LIMIT;
        o->price = o->stoplimit;
        o->stoplimit = 0;
        return trigger(s, o);
    }
    default:
        return 0;
    }
}

void tt_mt5s_fill_pending(tt_mt5_sim *s, size_t i, tt_price px)
{
    tt_mt5s_order o = s->ord[i];
    memmove(&s->ord[i], &s->ord[i + 1], (s->nord - i - 1) * sizeof *s->ord);
    s->nord--;
    int side = o.type == TT_MT5_OT_BUY_LIMIT || o.type == TT_MT5_OT_BUY_STOP ? 1 : -1;
    if (!tt_mt5s_money_ok(s, o.sym, tt_mt5s_opening(s, o.sym, side, o.qty, 0))) {
        tt_mt5s_hist(s, o.ticket, o.magic, o.sym, TT_MT5_OS_REJECTED, o.qty, o.qty);
        return;
    }
    tt_mt5s_dreq r = {o.sym, side, o.qty, px, o.sl, o.tp, o.ticket, o.magic, 0,
                      TT_MT5_DR_EXPERT, o.comment};
    if (!tt_mt5s_deal(s, &r))
        tt_mt5s_hist(s, o.ticket, o.magic, o.sym, TT_MT5_OS_REJECTED, o.qty, o.qty);
    else
        tt_mt5s_hist(s, o.ticket, o.magic, o.sym, TT_MT5_OS_FILLED, o.qty, 0);
}

static void match_orders(tt_mt5_sim *s, uint32_t sym)
{
    for (size_t i = 0; i < s->nord;) {
        tt_mt5s_order *o = &s->ord[i];
        if (o->sym != sym) {
            i++;
            continue;
        }
        if (expired(s, o)) {
            tt_mt5s_hist(s, o->ticket, o->magic, o->sym, TT_MT5_OS_EXPIRED, o->qty, o->qty);
            memmove(&s->ord[i], &s->ord[i + 1], (s->nord - i - 1) * sizeof *s->ord);
            s->nord--;
            continue;
        }
        tt_price px = trigger(s, o);
        if (px)
            tt_mt5s_fill_pending(s, i, px);
        else
            i++;
    }
}

/* Close position x at the market (SL, TP, stop-out). 0 when done. */
static int close_at_market(tt_mt5_sim *s, const tt_position *x, int reason, const char *comment)
{
    const tt_mt5s_sym *y = &s->sym[x->symbol];
    tt_mt5s_meta *m = meta_find(s, x->ticket);
    tt_mt5s_dreq r = {x->symbol, -x->side, x->qty, x->side > 0 ? y->bid : y->ask, 0, 0,
                      s->next_order++, m ? m->magic : 0,
                      s->cfg.mode == TT_MT5_HEDGING ? x->ticket : 0, reason, comment};
    uint32_t sym = x->symbol;
    int64_t qty = x->qty;
    if (!tt_mt5s_deal(s, &r))
        return TT_ESTATE;
    tt_mt5s_hist(s, r.order, r.magic, sym, TT_MT5_OS_FILLED, qty, 0);
    if (s->nhist && s->hist[s->nhist - 1].ticket == r.order)
        s->hist[s->nhist - 1].own = 0; /* the broker's own order: QUERY does not find it */
    return TT_OK;
}

static void check_exits(tt_mt5_sim *s, uint32_t sym)
{
    const tt_mt5s_sym *y = &s->sym[sym];
    for (size_t i = 0; i < tt_portfolio_count(s->books);) {
        const tt_position *x = tt_portfolio_position(s->books, i);
        if (x->symbol != sym || (!x->stop_loss && !x->take_profit)) {
            i++;
            continue;
        }
        tt_price touch = x->side > 0 ? y->bid : y->ask;
        int sl = x->stop_loss && (x->side > 0 ? touch <= x->stop_loss : touch >= x->stop_loss);
        int tp = x->take_profit &&
                 (x->side > 0 ? touch >= x->take_profit : touch <= x->take_profit);
        if (!sl && !tp) {
            i++;
            continue;
        }
        char c[TT_MT5_COMMENT_MAX], num[32];
        tt_mt5_dec_format(px_dec(s, sym, sl ? x->stop_loss : x->take_profit), num);
        snprintf(c, sizeof c, "[%s %s]", sl ? "sl" : "tp", num);
        if (close_at_market(s, x, sl ? TT_MT5_DR_SL : TT_MT5_DR_TP, c))
            i++;
    }
}

static void stop_out(tt_mt5_sim *s)
{
    if (s->cfg.stop_out <= 0)
        return;
    for (size_t guard = 0; guard < 100000 && tt_portfolio_count(s->books); guard++) {
        tt_account a;
        tt_portfolio_account(s->books, &a);
        if (a.margin <= 0 || a.margin_level > s->cfg.stop_out)
            return;
        const tt_position *worst = NULL;
        tt_money wp = 0;
        for (size_t i = 0; i < tt_portfolio_count(s->books); i++) {
            const tt_position *x = tt_portfolio_position(s->books, i);
            tt_money p = tt_portfolio_position_pnl(s->books, x);
            if (!worst || p < wp) {
                worst = x;
                wp = p;
            }
        }
        char c[TT_MT5_COMMENT_MAX];
        snprintf(c, sizeof c, "[so %.2f%%]", a.margin_level);
        if (close_at_market(s, worst, TT_MT5_DR_SO, c))
            return;
    }
}

void tt_mt5_sim_quote(tt_mt5_sim *s, uint32_t sym, int64_t t_ms, tt_price bid, tt_price ask,
                      float bid_vol, float ask_vol)
{
    if (!sym || sym >= s->nsym || !s->sym[sym].ok || bid <= 0 || ask <= 0)
        return;
    if (t_ms > s->now)
        s->now = t_ms;
    tt_mt5s_sym *y = &s->sym[sym];
    y->have = 1;
    y->bid = bid;
    y->ask = ask;
    y->bv = bid_vol;
    y->av = ask_vol;
    y->t = t_ms;
    tt_portfolio_quote(s->books, sym, bid, ask);
    tt_portfolio_advance(s->books, utc_ns(s, s->now));
    if (s->nord)
        match_orders(s, sym);
    if (tt_portfolio_count(s->books)) {
        check_exits(s, sym);
        stop_out(s);
    }
}

int tt_mt5_sim_tick(const tt_mt5_sim *s, uint32_t sym, tt_mt5_tick *out)
{
    if (!sym || sym >= s->nsym || !s->sym[sym].have)
        return TT_ENOTFOUND;
    const tt_mt5s_sym *y = &s->sym[sym];
    memset(out, 0, sizeof *out);
    snprintf(out->sym, sizeof out->sym, "%s", y->spec.sym);
    out->t = y->t;
    out->bid = px_dec(s, sym, y->bid);
    out->ask = px_dec(s, sym, y->ask);
    /* the float volumes as exact decimals: at most 8 decimals (a float below
     * 1e-8 or with more digits is rounded; the same rounding every time) */
    out->bv = (tt_mt5_dec)llround((double)y->bv * TT_MT5_DEC_ONE);
    out->av = (tt_mt5_dec)llround((double)y->av * TT_MT5_DEC_ONE);
    return TT_OK;
}

int64_t tt_mt5_sim_now(const tt_mt5_sim *s) { return s->now; }

/* ---- state ---- */

void tt_mt5_sim_query(tt_mt5_sim *s, const tt_mt5_query *q, tt_mt5_state *out)
{
    memset(out, 0, sizeof *out);
    out->id = q->id;
    out->t = s->now;
    for (size_t i = 0; i < s->nord; i++) {
        const tt_mt5s_order *o = &s->ord[i];
        if (q->order ? o->ticket != q->order : !q->magic || o->magic != q->magic)
            continue;
        out->order = o->ticket;
        out->magic = o->magic;
        out->state = TT_MT5_OS_PLACED;
        out->vol = out->vol_cur = vol_dec(s, o->sym, o->qty);
        out->t = o->t;
        return;
    }
    for (size_t i = s->nhist; i-- > 0;) {
        const tt_mt5s_horder *h = &s->hist[i];
        if (q->order ? h->ticket != q->order : !q->magic || h->magic != q->magic || !h->own)
            continue;
        for (size_t k = 0; k < s->ndeals && s->on_deal; k++)
            if (s->deals[k].order == h->ticket)
                s->on_deal(s->ctx, &s->deals[k]);
        out->order = h->ticket;
        out->magic = h->magic;
        out->state = h->state;
        out->vol = vol_dec(s, h->sym, h->qty);
        out->vol_cur = vol_dec(s, h->sym, h->qty_cur);
        out->t = h->t;
        return;
    }
    out->state = TT_MT5_OS_NONE;
}

uint32_t tt_mt5_sim_history(tt_mt5_sim *s, int64_t from_ms)
{
    uint32_t n = 0;
    for (size_t k = 0; k < s->ndeals; k++)
        if (s->deals[k].t >= from_ms) {
            if (s->on_deal)
                s->on_deal(s->ctx, &s->deals[k]);
            n++;
        }
    return n;
}

size_t tt_mt5_sim_positions(const tt_mt5_sim *s) { return tt_portfolio_count(s->books); }

void tt_mt5_sim_position(const tt_mt5_sim *s, size_t i, tt_mt5_pos *out)
{
    memset(out, 0, sizeof *out);
    const tt_position *x = tt_portfolio_position(s->books, i);
    if (!x)
        return;
    const tt_mt5s_sym *y = &s->sym[x->symbol];
    out->ticket = x->ticket;
    snprintf(out->sym, sizeof out->sym, "%s", y->spec.sym);
    out->side = x->side > 0 ? TT_MT5_BUY : TT_MT5_SELL;
    out->vol = vol_dec(s, x->symbol, x->qty);
    /* the average entry, in decimals (finer than a point when fills differ) */
    int64_t unit = TT_MT5_DEC_ONE / tt_instruments_get(s->ins, x->symbol)->points;
    out->price = (tt_mt5_dec)((__int128)x->cost * unit / x->qty);
    out->sl = x->stop_loss ? px_dec(s, x->symbol, x->stop_loss) : 0;
    out->tp = x->take_profit ? px_dec(s, x->symbol, x->take_profit) : 0;
    out->swap = money_dec(s, x->swap);
    out->profit = money_dec(s, tt_portfolio_position_pnl(s->books, x));
    out->t = tt_mt5_utc_ns_to_ms(x->open_ts, s->cfg.tz);
    const tt_mt5s_meta *m = meta_find((tt_mt5_sim *)s, x->ticket);
    if (m) {
        out->magic = m->magic;
        snprintf(out->comment, sizeof out->comment, "%s", m->comment);
    }
}

size_t tt_mt5_sim_orders(const tt_mt5_sim *s) { return s->nord; }

void tt_mt5_sim_order(const tt_mt5_sim *s, size_t i, tt_mt5_ord *out)
{
    memset(out, 0, sizeof *out);
    if (i >= s->nord)
        return;
    const tt_mt5s_order *o = &s->ord[i];
    out->ticket = o->ticket;
    snprintf(out->sym, sizeof out->sym, "%s", s->sym[o->sym].spec.sym);
    out->type = o->type;
    out->vol = out->vol_cur = vol_dec(s, o->sym, o->qty);
    out->price = px_dec(s, o->sym, o->price);
    out->stoplimit = o->stoplimit ? px_dec(s, o->sym, o->stoplimit) : 0;
    out->sl = o->sl ? px_dec(s, o->sym, o->sl) : 0;
    out->tp = o->tp ? px_dec(s, o->sym, o->tp) : 0;
    out->filling = o->filling;
    out->time = o->time;
    out->exp = o->exp;
    out->t = o->t;
    out->magic = o->magic;
    snprintf(out->comment, sizeof out->comment, "%s", o->comment);
}

void tt_mt5_sim_account(const tt_mt5_sim *s, tt_mt5_account *out)
{
    memset(out, 0, sizeof *out);
    tt_account a;
    tt_portfolio_account(s->books, &a);
    /* MT5 keeps a position's swaps out of the balance until it closes */
    tt_money open_swaps = 0;
    for (size_t i = 0; i < tt_portfolio_count(s->books); i++)
        open_swaps += tt_portfolio_position(s->books, i)->swap;
    out->t = s->now;
    out->balance = money_dec(s, a.balance - open_swaps);
    out->equity = money_dec(s, a.equity);
    out->margin = money_dec(s, a.margin);
    out->free = money_dec(s, a.free_margin);
}

size_t tt_mt5_sim_deals(const tt_mt5_sim *s) { return s->ndeals; }
const tt_mt5_deal *tt_mt5_sim_deal(const tt_mt5_sim *s, size_t i)
{
    return i < s->ndeals ? &s->deals[i] : NULL;
}

int tt_mt5_sim_write_deals(const tt_mt5_sim *s, const char *path, tt_err *err)
{
    static const char *const side[] = {"buy", "sell"};
    static const char *const entry[] = {"in", "out", "inout", "out_by"};
    static const char *const reason[] = {"client", "mobile", "web", "expert", "sl",
                                         "tp", "so", "rollover", "vmargin", "split"};
    FILE *f = fopen(path, "w");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot write the deal log", path);
    fprintf(f, "deal,order,position,time,symbol,side,entry,reason,volume,price,commission,swap,"
               "profit,magic,comment\n");
    for (size_t i = 0; i < s->ndeals; i++) {
        const tt_mt5_deal *d = &s->deals[i];
        char v[32], p[32], c[32], w[32], r[32];
        tt_mt5_dec_format(d->vol, v);
        tt_mt5_dec_format(d->price, p);
        tt_mt5_dec_format(d->comm, c);
        tt_mt5_dec_format(d->swap, w);
        tt_mt5_dec_format(d->profit, r);
        fprintf(f, "%llu,%llu,%llu,%lld,%s,%s,%s,%s,%s,%s,%s,%s,%s,%llu,",
                (unsigned long long)d->deal, (unsigned long long)d->order,
                (unsigned long long)d->position, (long long)d->t, d->sym, side[d->side & 1],
                entry[d->entry & 3], reason[d->reason % 10], v, p, c, w, r,
                (unsigned long long)d->magic);
        if (strpbrk(d->comment, ",\"\r\n")) { /* RFC 4180 quoting */
            fputc('"', f);
            for (const char *q = d->comment; *q; q++) {
                if (*q == '"')
                    fputc('"', f);
                fputc(*q, f);
            }
            fputc('"', f);
        } else {
            fputs(d->comment, f);
        }
        fputc('\n', f);
    }
    if (fclose(f))
        return tt_err_set(err, TT_EIO, "%s: writing the deal log failed", path);
    return TT_OK;
}
