/*
 * The simulated venue.
 *
 * Commands travel: tt_venue.command() does not act at once but schedules the
 * command back onto the engine queue at now + latency, from the venue's own
 * source id and in the venue ordering class (so at equal timestamps an
 * arriving order is handled before market data of that instant: it sees the
 * quote in force just before). Those arrivals come back through the port's
 * on_arrival hook, which sees every input that is not market data before any
 * component; market data comes through on_market, also first.
 *
 * State: the last quote per symbol, the working orders (a small array, in
 * arrival order, which is also the order they are matched in), and the
 * broker's books, a tt_portfolio fed every fill the venue makes. The books
 * value margin and decide margin calls and stop-outs; the strategy side keeps
 * its own portfolio fed by the same fills through order events.
 *
 * Prices: market orders and triggered stops (including stop-losses) fill at
 * the quote, moved against the trader by the slippage model; limits and
 * take-profits fill at their price once the quote reaches it, except that an
 * order already marketable when it arrives fills at the (better) quote.
 *
 * Every response is an order event scheduled at the current time in the venue
 * class; the venue's books change at the moment of the decision, the client's
 * when the event is dispatched, which is before any later input. A response
 * that cannot be scheduled (the engine's queue cannot grow) fails the run
 * (tt_engine_fail) rather than let the two sets of books part silently; so
 * does an order the venue has no memory for (answered FAILED), since a run
 * whose result depends on the memory at hand has no result.
 */
#include "venue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/order.h"
#include "../core/risk.h"
#include "../core/rng.h"

/* Per symbol: the quotes (bid_lo <= bid <= bid_hi, ask_lo <= ask <= ask_hi)
 * that need nothing from the venue, valid while gen equals the venue's (see
 * venue_on_market). */
typedef struct vbox {
    tt_price bid_lo, bid_hi, ask_lo, ask_hi;
    uint64_t gen;
} vbox;

typedef struct vorder {
    tt_order_cmd cmd;
    uint32_t symbol;
    int64_t leaves;
    int triggered; /* stop-limit: the stop was hit; now a limit */
} vorder;

struct tt_sim_venue {
    /* read on every quote: together, first */
    tt_ts next_roll; /* the books' next rollover (checked without a call) */
    uint32_t nsym;
    tt_quote *last;
    uint8_t *have;   /* per symbol: bit 0 a quote seen, bit 1 the books have not had it yet */
    size_t nw;       /* working orders */
    int exits;       /* some open position has a stop-loss or take-profit */
    int margin_call;
    size_t open;     /* positions open on the books (changes only in deal()) */
    vbox *box;       /* per symbol: the quotes that need nothing (a box of gen) */
    uint64_t gen;    /* the generation of the boxes in force */
    uint64_t books_gen; /* the books' screen generation the margin boxes come from */
    double level_hi; /* the higher of the margin call and stop-out levels */
    const tt_instruments *ins;
    tt_venue_config cfg;
    tt_engine *e;
    tt_portfolio *books;
    vorder *w; /* working orders */
    size_t capw;
    tt_rng slip;
    tt_money commissions;
    uint64_t fills, stop_outs;
};

void tt_venue_config_default(tt_venue_config *c)
{
    memset(c, 0, sizeof *c);
    memcpy(c->account.currency, "USD", 4);
    c->account.initial_balance = 1000000; /* 10,000.00 */
    c->account.minor_per_unit = 100;
    c->account.mode = TT_MODE_NETTING;
    c->account.leverage = 100;
    c->account.swaps = 1;
    c->margin_call_level = 100;
    c->stop_out_level = 50;
}

const tt_enum_value tt_slippage_models[] = {
    {"none", TT_SLIP_NONE, 0}, {"fixed", TT_SLIP_FIXED, 0}, {"random", TT_SLIP_RANDOM, 0},
    {NULL, 0, 0}};
const tt_enum_value tt_commission_models[] = {{"none", TT_COMM_NONE, 0},
                                              {"per_lot", TT_COMM_PER_LOT, 0},
                                              {"per_notional", TT_COMM_PER_NOTIONAL, 0},
                                              {NULL, 0, 0}};
const tt_enum_value tt_position_modes[] = {
    {"netting", TT_MODE_NETTING, 0}, {"hedging", TT_MODE_HEDGING, 0}, {NULL, 0, 0}};

static int word(const char *s, const tt_enum_value *values)
{
    int v;
    return tt_parse_enum(s, values, &v, NULL) == TT_OK ? v : -1;
}

int tt_slippage_model_parse(const char *s) { return word(s, tt_slippage_models); }
int tt_commission_model_parse(const char *s) { return word(s, tt_commission_models); }
int tt_position_mode_parse(const char *s) { return word(s, tt_position_modes); }

/* The books take quotes lazily: the quote path stores the quote in `last`
 * and marks the symbol; every path that reads or changes the books first
 * hands them the latest quote of each marked symbol (the only quote state
 * the books' figures depend on; their own excursion tracking, which the
 * books never report, sees the quotes it is given). */
static void books_sync(tt_sim_venue *v)
{
    for (uint32_t s = 1; s < v->nsym; s++) {
        if (v->have[s] & 2) {
            tt_portfolio_quote(v->books, s, v->last[s].bid, v->last[s].ask);
            v->have[s] = 1;
        }
    }
}

/* Something the boxes rest on changed (orders, positions, the balance, the
 * margin call state): no box holds any more. */
static void boxes_void(tt_sim_venue *v)
{
    v->gen++;
    v->books_gen = 0;
}

static void box_keep(tt_sim_venue *v, uint32_t symbol, tt_price bid_lo, tt_price bid_hi,
                     tt_price ask_lo, tt_price ask_hi)
{
    vbox *x = &v->box[symbol];
    x->bid_lo = bid_lo;
    x->bid_hi = bid_hi;
    x->ask_lo = ask_lo;
    x->ask_hi = ask_hi;
    x->gen = v->gen;
}

/* ---- responses ---- */

/* Put a response on the engine's queue; if it cannot be, the run stops with
 * the error (the venue's books may already have moved). */
static void send(tt_sim_venue *v, const tt_event *ev)
{
    tt_err err;
    if (tt_engine_schedule(v->e, ev, &err) < 0) {
        tt_err_prefix(&err, "simulated venue: the %s event of order %llu (%s) is lost: ",
                      ev->u.order_ev.fill_qty ? "fill" : "order",
                      (unsigned long long)ev->u.order_ev.client_id,
                      tt_order_status_name(ev->u.order_ev.status));
        tt_engine_fail(v->e, &err);
    }
}

/* The venue had no memory for an order (its book, or the position a fill
 * opens): the caller answers it FAILED, and the run stops with TT_ENOMEM, as
 * a result that depends on the memory at hand is no result. */
static void venue_nomem(tt_sim_venue *v, const tt_order_cmd *c, const char *what)
{
    tt_err err;
    tt_err_set(&err, TT_ENOMEM, "simulated venue: out of memory for %s of order %llu", what,
               (unsigned long long)c->client_id);
    tt_engine_fail(v->e, &err);
}

static void respond(tt_sim_venue *v, uint32_t symbol, const tt_order_cmd *c, int status, int reason,
                    int64_t leaves)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = tt_engine_now(v->e);
    ev.kind = TT_EV_ORDER_EVENT;
    ev.cls = TT_CLS_VENUE;
    ev.source = TT_VENUE_SOURCE;
    ev.symbol = symbol;
    ev.u.order_ev.client_id = c->client_id;
    ev.u.order_ev.leaves_qty = leaves;
    ev.u.order_ev.reason = (uint16_t)reason;
    ev.u.order_ev.status = (uint8_t)status;
    ev.u.order_ev.side = c->side;
    ev.u.order_ev.type = c->type;
    send(v, &ev);
}

static tt_money commission_for(tt_sim_venue *v, uint32_t symbol, int64_t qty, tt_price price)
{
    const tt_instrument *ins = tt_instruments_get(v->ins, symbol);
    switch (v->cfg.commission) {
    case TT_COMM_PER_LOT:
        return (tt_money)llround((double)v->cfg.commission_per_lot * (double)qty * ins->volume_step);
    case TT_COMM_PER_NOTIONAL: {
        double notional = (double)qty * ins->volume_step * ins->contract_size * (double)price /
                          (double)ins->points;
        tt_money m = 0;
        if (tt_portfolio_convert(v->books, ins->quote, notional * v->cfg.commission_rate, &m, NULL))
            return 0;
        return m;
    }
    default:
        return 0;
    }
}

static tt_price slipped(tt_sim_venue *v, tt_price px, int side)
{
    int64_t s = 0;
    if (v->cfg.slippage == TT_SLIP_FIXED)
        s = v->cfg.slippage_points;
    else if (v->cfg.slippage == TT_SLIP_RANDOM && v->cfg.slippage_points > 0)
        s = tt_rng_bounded(&v->slip, (uint32_t)v->cfg.slippage_points + 1);
    return px + side * s;
}

/* Fill qty of an order (client_id 0: a venue deal closing `ticket`). Returns 0
 * or the books' error (then nothing happened). */
static int deal(tt_sim_venue *v, uint32_t symbol, const tt_order_cmd *c, int64_t qty, tt_price px,
                int64_t leaves_after, int status, int reason, uint64_t ticket)
{
    tt_money comm = commission_for(v, symbol, qty, px);
    /* the ticket the fill opens or reduces, for the client's books */
    uint64_t vid = ticket ? ticket : c->position;
    if (!vid) {
        vid = c->client_id;
        if (tt_portfolio_config_of(v->books)->mode == TT_MODE_NETTING) {
            for (size_t i = 0; i < tt_portfolio_count(v->books); i++) {
                const tt_position *x = tt_portfolio_position(v->books, i);
                if (x->symbol == symbol) {
                    vid = x->ticket;
                    break;
                }
            }
        }
    }
    tt_fill f;
    memset(&f, 0, sizeof f);
    f.symbol = symbol;
    f.side = c->side;
    f.qty = qty;
    f.price = px;
    f.commission = comm;
    f.order_id = c->client_id;
    f.position = c->client_id ? c->position : ticket;
    f.stop_loss = c->stop_loss;
    f.take_profit = c->take_profit;
    f.ts = tt_engine_now(v->e);
    int rc = tt_portfolio_fill(v->books, &f, NULL);
    if (rc)
        return rc;
    v->open = tt_portfolio_count(v->books);
    boxes_void(v); /* the account changed */
    v->exits = 0; /* positions changed: rescan for attached exits (once per fill) */
    for (size_t i = 0; i < tt_portfolio_count(v->books); i++) {
        const tt_position *x = tt_portfolio_position(v->books, i);
        v->exits |= x->stop_loss != 0 || x->take_profit != 0;
    }
    v->commissions += comm;
    v->fills++;
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = f.ts;
    ev.kind = TT_EV_ORDER_EVENT;
    ev.cls = TT_CLS_VENUE;
    ev.source = TT_VENUE_SOURCE;
    ev.symbol = symbol;
    ev.u.order_ev.client_id = c->client_id;
    ev.u.order_ev.venue_id = vid;
    ev.u.order_ev.fill_qty = qty;
    ev.u.order_ev.fill_price = px;
    ev.u.order_ev.leaves_qty = leaves_after;
    ev.u.order_ev.commission = comm;
    ev.u.order_ev.reason = (uint16_t)reason;
    ev.u.order_ev.status = (uint8_t)status;
    ev.u.order_ev.side = c->side;
    ev.u.order_ev.type = c->type;
    send(v, &ev); /* the books have moved: a lost fill fails the run */
    return TT_OK;
}

/* ---- margin ---- */

/* The part of an order that adds exposure (netting: beyond the opposite net). */
static int64_t opening_qty(const tt_sim_venue *v, uint32_t symbol, const tt_order_cmd *c,
                           int64_t qty)
{
    if (c->position)
        return 0;
    if (tt_portfolio_config_of(v->books)->mode == TT_MODE_HEDGING)
        return qty;
    int64_t net = tt_portfolio_net_qty(v->books, symbol);
    int64_t against = (c->side > 0 && net < 0) ? -net : (c->side < 0 && net > 0) ? net : 0;
    return qty > against ? qty - against : 0;
}

/* 0 when qty may be filled, else the rejection reason. */
static int margin_check(tt_sim_venue *v, uint32_t symbol, const tt_order_cmd *c, int64_t qty)
{
    int64_t open = opening_qty(v, symbol, c, qty);
    if (!open)
        return 0;
    if (v->margin_call)
        return TT_REASON_MARGIN_CALL;
    tt_money need;
    if (tt_portfolio_margin_for(v->books, symbol, open, &need, NULL))
        return TT_REASON_NO_RATE;
    tt_account a;
    tt_portfolio_account(v->books, &a);
    if (a.margin + need > a.equity)
        return TT_REASON_NO_MONEY;
    return 0;
}

/* ---- working orders ---- */

static int add_working(tt_sim_venue *v, uint32_t symbol, const tt_order_cmd *c, int64_t leaves)
{
    if (v->nw == v->capw) {
        size_t cap = v->capw ? v->capw * 2 : 16;
        vorder *w = realloc(v->w, cap * sizeof *w);
        if (!w)
            return TT_ENOMEM;
        v->w = w;
        v->capw = cap;
    }
    vorder *o = &v->w[v->nw++];
    boxes_void(v);
    memset(o, 0, sizeof *o);
    o->cmd = *c;
    o->symbol = symbol;
    o->leaves = leaves;
    return TT_OK;
}

static void drop_working(tt_sim_venue *v, size_t i)
{
    memmove(&v->w[i], &v->w[i + 1], (v->nw - i - 1) * sizeof *v->w);
    v->nw--;
    boxes_void(v);
}

static vorder *find_working(tt_sim_venue *v, uint64_t id, size_t *idx)
{
    for (size_t i = 0; i < v->nw; i++)
        if (v->w[i].cmd.client_id == id) {
            *idx = i;
            return &v->w[i];
        }
    return NULL;
}

/* Where an order would fill on quote q now, or 0 when it does not trade.
 * `fresh`: the order just arrived (a marketable limit takes the quote). */
static tt_price match_price(tt_sim_venue *v, vorder *o, const tt_quote *q, int fresh)
{
    const tt_order_cmd *c = &o->cmd;
    tt_price touch = c->side > 0 ? q->ask : q->bid;
    int type = c->type;
    if (type == TT_ORD_STOP_LIMIT && !o->triggered) {
        int hit = c->side > 0 ? q->ask >= c->stop_price : q->bid <= c->stop_price;
        if (!hit)
            return 0;
        o->triggered = 1;
        fresh = 1; /* placed as a limit now */
    }
    if (type == TT_ORD_STOP_LIMIT)
        type = TT_ORD_LIMIT;
    switch (type) {
    case TT_ORD_MARKET:
        return slipped(v, touch, c->side);
    case TT_ORD_LIMIT: {
        int ok = c->side > 0 ? touch <= c->price : touch >= c->price;
        if (!ok)
            return 0;
        return fresh ? touch : c->price;
    }
    case TT_ORD_STOP: {
        int hit = c->side > 0 ? touch >= c->stop_price : touch <= c->stop_price;
        return hit ? slipped(v, touch, c->side) : 0;
    }
    default:
        return 0;
    }
}

/* Try to fill working order i on quote q. Returns 1 when the order left the book. */
static int try_fill(tt_sim_venue *v, size_t i, const tt_quote *q, int fresh)
{
    vorder *o = &v->w[i];
    tt_price px = match_price(v, o, q, fresh);
    if (!px)
        return 0;
    int64_t qty = o->leaves;
    if (v->cfg.max_fill_qty > 0 && qty > v->cfg.max_fill_qty)
        qty = v->cfg.max_fill_qty;
    int why = margin_check(v, o->symbol, &o->cmd, qty);
    if (why) {
        respond(v, o->symbol, &o->cmd, TT_OS_CANCELLED, why, o->leaves);
        drop_working(v, i);
        return 1;
    }
    int64_t left = o->leaves - qty;
    int rc = deal(v, o->symbol, &o->cmd, qty, px, left,
                  left ? TT_OS_PARTIALLY_FILLED : TT_OS_FILLED, TT_REASON_FILL, 0);
    if (rc == TT_ENOMEM) {
        venue_nomem(v, &o->cmd, "the position its fill opens");
        respond(v, o->symbol, &o->cmd, TT_OS_FAILED, TT_REASON_NONE, o->leaves);
        drop_working(v, i);
        return 1;
    }
    if (rc) {
        respond(v, o->symbol, &o->cmd, TT_OS_CANCELLED, TT_REASON_NO_POSITION, o->leaves);
        drop_working(v, i);
        return 1;
    }
    o = &v->w[i];
    o->leaves = left;
    if (!left) {
        drop_working(v, i);
        return 1;
    }
    if (o->cmd.tif == TT_TIF_IOC) {
        respond(v, o->symbol, &o->cmd, TT_OS_CANCELLED, TT_REASON_IOC, left);
        drop_working(v, i);
        return 1;
    }
    return 0;
}

/* ---- arrivals ---- */

static void arrive_submit(tt_sim_venue *v, uint32_t symbol, const tt_order_cmd *c)
{
    if (!tt_instruments_get(v->ins, symbol)) {
        respond(v, symbol, c, TT_OS_REJECTED, TT_REASON_INVALID, c->qty);
        return;
    }
    if (symbol >= v->nsym || !v->have[symbol]) {
        respond(v, symbol, c, TT_OS_REJECTED, TT_REASON_NO_QUOTE, c->qty);
        return;
    }
    tt_money probe;
    if (tt_portfolio_margin_for(v->books, symbol, 1, &probe, NULL)) {
        respond(v, symbol, c, TT_OS_REJECTED, TT_REASON_NO_RATE, c->qty);
        return;
    }
    if (c->position) {
        const tt_position *x = tt_portfolio_find(v->books, c->position);
        if (!x || x->symbol != symbol || x->side == c->side || x->qty < c->qty) {
            respond(v, symbol, c, TT_OS_REJECTED, TT_REASON_NO_POSITION, c->qty);
            return;
        }
    }
    const tt_quote *q = &v->last[symbol];
    if (c->type == TT_ORD_MARKET) {
        int why = margin_check(v, symbol, c, c->qty);
        if (why) {
            respond(v, symbol, c, TT_OS_REJECTED, why, c->qty);
            return;
        }
    }
    if (c->tif == TT_TIF_FOK) {
        /* all at once or nothing: must trade now, in full */
        vorder probe_o;
        memset(&probe_o, 0, sizeof probe_o);
        probe_o.cmd = *c;
        tt_rng saved = v->slip; /* a probe must not consume slippage draws */
        tt_price px = match_price(v, &probe_o, q, 1);
        v->slip = saved;
        if (!px || (v->cfg.max_fill_qty > 0 && c->qty > v->cfg.max_fill_qty)) {
            respond(v, symbol, c, TT_OS_REJECTED, TT_REASON_FOK, c->qty);
            return;
        }
    }
    if (add_working(v, symbol, c, c->qty)) { /* out of memory: the venue failed */
        venue_nomem(v, c, "the book");
        respond(v, symbol, c, TT_OS_FAILED, TT_REASON_NONE, c->qty);
        return;
    }
    respond(v, symbol, c, TT_OS_ACCEPTED, TT_REASON_ACCEPTED, c->qty);
    size_t i = v->nw - 1;
    if (!try_fill(v, i, q, 1) && (c->tif == TT_TIF_IOC || c->tif == TT_TIF_FOK)) {
        respond(v, symbol, c, TT_OS_CANCELLED, c->tif == TT_TIF_IOC ? TT_REASON_IOC : TT_REASON_FOK,
                v->w[i].leaves);
        drop_working(v, i);
    }
}

static void arrive(tt_sim_venue *v, const tt_event *ev)
{
    const tt_order_cmd *c = &ev->u.order_cmd;
    size_t i;
    vorder *o;
    switch (c->cmd) {
    case TT_CMD_SUBMIT:
        arrive_submit(v, ev->symbol, c);
        break;
    case TT_CMD_CANCEL:
        if (!(o = find_working(v, c->client_id, &i))) {
            respond(v, ev->symbol, c, TT_OS_REJECTED, TT_REASON_UNKNOWN_ORDER, 0);
            return;
        }
        respond(v, o->symbol, &o->cmd, TT_OS_CANCELLED, TT_REASON_CANCEL_REQUEST, o->leaves);
        drop_working(v, i);
        break;
    case TT_CMD_MODIFY:
        if (!(o = find_working(v, c->client_id, &i))) {
            respond(v, ev->symbol, c, TT_OS_REJECTED, TT_REASON_UNKNOWN_ORDER, 0);
            return;
        }
        o->cmd.price = c->price;
        o->cmd.stop_price = c->stop_price;
        o->cmd.stop_loss = c->stop_loss;
        o->cmd.take_profit = c->take_profit;
        respond(v, o->symbol, &o->cmd, TT_OS_MODIFIED, TT_REASON_MODIFIED, o->leaves);
        if (o->symbol < v->nsym && v->have[o->symbol])
            try_fill(v, i, &v->last[o->symbol], 1);
        break;
    default:
        respond(v, ev->symbol, c, TT_OS_REJECTED, TT_REASON_INVALID, 0);
    }
}

/* ---- the quote path ---- */

static int venue_deal(tt_sim_venue *v, const tt_position *x, tt_price px, int reason)
{
    tt_order_cmd c;
    memset(&c, 0, sizeof c);
    c.side = (int8_t)-x->side;
    c.type = TT_ORD_MARKET;
    uint32_t sym = x->symbol;
    int64_t qty = x->qty;
    uint64_t ticket = x->ticket;
    return deal(v, sym, &c, qty, px, 0, TT_OS_FILLED, reason, ticket);
}

/* Attached stop-loss / take-profit of the positions in `symbol`. */
static void check_exits(tt_sim_venue *v, uint32_t symbol, const tt_quote *q)
{
    for (size_t i = 0; i < tt_portfolio_count(v->books);) {
        const tt_position *x = tt_portfolio_position(v->books, i);
        if (x->symbol != symbol || (!x->stop_loss && !x->take_profit)) {
            i++;
            continue;
        }
        tt_price touch = x->side > 0 ? q->bid : q->ask; /* where it closes */
        int sl = x->stop_loss && (x->side > 0 ? touch <= x->stop_loss : touch >= x->stop_loss);
        int tp = x->take_profit &&
                 (x->side > 0 ? touch >= x->take_profit : touch <= x->take_profit);
        int rc = 1;
        if (sl)
            rc = venue_deal(v, x, slipped(v, touch, -x->side), TT_REASON_STOP_LOSS);
        else if (tp)
            rc = venue_deal(v, x, x->take_profit, TT_REASON_TAKE_PROFIT);
        if (rc) /* still open (not hit, or could not be valued): next one */
            i++;
    }
}

static void emit_level(tt_sim_venue *v, int rule, double level, double limit)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_RISK;
    ev.u.risk.rule = (uint16_t)rule;
    ev.u.risk.value = level;
    ev.u.risk.limit = limit;
    tt_engine_emit(v->e, &ev);
}

static void margin_full(tt_sim_venue *v);

/* Margin call and stop-out, on the books (synced). `symbol` is the symbol
 * just quoted. The books' screen decides whether the account is valued in
 * full. With no working order and no attached exit, the quotes of the
 * symbol that would get the same answer are kept as its box: the screen's
 * box (all boxes kept come from one generation of the screen). */
static void check_margin(tt_sim_venue *v, uint32_t symbol)
{
    if (!v->open)
        return;
    int keep = !v->nw && !v->exits;
    double hi = v->level_hi;
    if (hi <= 0) {
        v->margin_call = 0;
        if (keep)
            box_keep(v, symbol, INT64_MIN, INT64_MAX, INT64_MIN, INT64_MAX);
        return;
    }
    if (!tt_portfolio_margin_screen(v->books, symbol, hi)) {
        v->margin_call = 0;
        tt_price b[4];
        uint64_t gen = tt_portfolio_margin_box(v->books, symbol, hi, b);
        if (gen && keep) {
            if (gen != v->books_gen) { /* boxes of an earlier screen are void */
                v->gen++;
                v->books_gen = gen;
            }
            box_keep(v, symbol, b[0], b[1], b[2], b[3]);
        }
        return;
    }
    margin_full(v);
}

/* The screen could not clear the account: value it, stop out, margin call. */
static void margin_full(tt_sim_venue *v)
{
    boxes_void(v); /* the margin call state may change */
    tt_account a;
    tt_portfolio_account(v->books, &a);
    while (v->cfg.stop_out_level > 0 && a.margin > 0 && a.margin_level <= v->cfg.stop_out_level &&
           tt_portfolio_count(v->books)) {
        emit_level(v, TT_RULE_STOP_OUT, a.margin_level, v->cfg.stop_out_level);
        const tt_position *worst = NULL;
        tt_money wp = 0;
        for (size_t i = 0; i < tt_portfolio_count(v->books); i++) {
            const tt_position *x = tt_portfolio_position(v->books, i);
            tt_money p = tt_portfolio_position_pnl(v->books, x);
            if (!worst || p < wp) {
                worst = x;
                wp = p;
            }
        }
        tt_quote q = v->last[worst->symbol];
        if (venue_deal(v, worst, worst->side > 0 ? q.bid : q.ask, TT_REASON_STOP_OUT))
            break; /* cannot be valued: leave it rather than spin */
        v->stop_outs++;
        tt_portfolio_account(v->books, &a);
    }
    int below = v->cfg.margin_call_level > 0 && a.margin > 0 &&
                a.margin_level <= v->cfg.margin_call_level;
    if (below && !v->margin_call)
        emit_level(v, TT_RULE_MARGIN_CALL, a.margin_level, v->cfg.margin_call_level);
    v->margin_call = below;
}

/* The rollover, for every input event: market data (venue_on_market) and
 * everything else (venue_on_arrival). */
static __attribute__((noinline)) void market_roll(tt_sim_venue *v, tt_ts ts)
{
    books_sync(v);
    tt_portfolio_advance(v->books, ts);
    v->next_roll = tt_portfolio_next_rollover(v->books);
    boxes_void(v); /* swaps may have moved the balance */
}

/* A quote (already in `last`) outside its symbol's box: match the working
 * orders, check the attached exits and the margin; keep a box when one
 * holds. */
static __attribute__((noinline)) void market_quote(tt_sim_venue *v, const tt_event *ev)
{
    const tt_quote *q = &ev->u.quote;
    books_sync(v);
    if (!v->nw && !v->exits && !v->open) { /* nothing open: no quote needs anything */
        box_keep(v, ev->symbol, INT64_MIN, INT64_MAX, INT64_MIN, INT64_MAX);
        return;
    }
    for (size_t i = 0; i < v->nw;) {
        vorder *o = &v->w[i];
        if (o->cmd.tif == TT_TIF_GTD && ev->ts >= o->cmd.expire_ts) {
            respond(v, o->symbol, &o->cmd, TT_OS_EXPIRED, TT_REASON_GTD, o->leaves);
            drop_working(v, i);
            continue;
        }
        if (o->symbol != ev->symbol || !try_fill(v, i, q, 0))
            i++;
    }
    if (v->exits)
        check_exits(v, ev->symbol, q);
    check_margin(v, ev->symbol);
}

static void venue_on_market(void *self, const tt_event *ev)
{
    tt_sim_venue *v = self;
    if (__builtin_expect(ev->ts >= v->next_roll, 0))
        market_roll(v, ev->ts);
    uint32_t sym = ev->symbol;
    if (ev->kind != TT_EV_QUOTE || sym == 0 || sym >= v->nsym)
        return;
    const tt_quote *q = &ev->u.quote;
    if (q->bid <= 0 || q->ask <= 0)
        return;
    v->last[sym] = *q;
    v->have[sym] = 3; /* seen, and for the books to take */
    /* The common tick: inside the symbol's box, the quote needs nothing
     * else. A box is kept only with no working order and no attached exit:
     * everything when nothing is open (what the venue would do: store the
     * quote), else the books' margin screen box (inside it the screen
     * answers "above the levels" and the margin call state stays clear).
     * Whatever those rest on voids every box (boxes_void). */
    const vbox *b = &v->box[sym];
    if (b->gen == v->gen && q->bid >= b->bid_lo && q->bid <= b->bid_hi && q->ask >= b->ask_lo &&
        q->ask <= b->ask_hi)
        return;
    market_quote(v, ev);
}

/* The quiet path (tt_venue.market_quiet): the quotes in a row that only
 * land in the quote table (inside their symbol's box, no rollover due). */
static int venue_market_quiet(void *self, const tt_market_view *v, int n)
{
    const tt_sim_venue *ve = self;
    uint32_t sym = v->symbol;
    if (sym >= ve->nsym || ve->box[sym].gen != ve->gen)
        return 0;
    const vbox b = ve->box[sym];
    n = tt_market_view_until(v, n, ve->next_roll);
    for (int i = 0; i < n; i++)
        if (v->bid[i] < b.bid_lo || v->bid[i] > b.bid_hi || v->ask[i] < b.ask_lo ||
            v->ask[i] > b.ask_hi)
            return i;
    return n;
}

/* What venue_on_market does to each of them: the quote table, where the
 * last one stays. */
static void venue_market_take(void *self, const tt_market_view *v, int n)
{
    tt_sim_venue *ve = self;
    tt_quote *q = &ve->last[v->symbol];
    q->bid = v->bid[n - 1];
    q->ask = v->ask[n - 1];
    q->bid_vol = v->bid_vol[n - 1];
    q->ask_vol = v->ask_vol[n - 1];
    ve->have[v->symbol] = 3;
}

static int venue_command(void *self, const tt_event *cmd, tt_err *err)
{
    tt_sim_venue *v = self;
    if (!v->e)
        return tt_err_set(err, TT_ESTATE, "simulated venue: not attached to an engine");
    tt_event a = *cmd;
    a.ts = tt_engine_now(v->e) + v->cfg.latency_ns;
    a.ts_init = 0;
    a.seq = 0;
    a.source = TT_VENUE_SOURCE;
    a.cls = TT_CLS_VENUE;
    return tt_engine_schedule(v->e, &a, err);
}

/* Every input but market data, before the components: keeps the rollover on
 * time and takes the venue's own arrivals (commands after their latency). */
static void venue_on_arrival(void *self, const tt_event *ev)
{
    tt_sim_venue *v = self;
    if (ev->ts >= v->next_roll)
        market_roll(v, ev->ts);
    if (ev->kind == TT_EV_ORDER_CMD && ev->source == TT_VENUE_SOURCE) {
        books_sync(v);
        arrive(v, ev);
    }
}

static void venue_attach(void *self, tt_engine *e) { ((tt_sim_venue *)self)->e = e; }

static void venue_totals(void *self, tt_venue_totals *out)
{
    tt_sim_venue *v = self;
    out->commissions = tt_sim_venue_commissions(v);
    out->swaps = tt_sim_venue_swaps(v);
    out->fills = tt_sim_venue_fills(v);
    out->stop_outs = tt_sim_venue_stop_outs(v);
}

int tt_sim_venue_new(tt_sim_venue **out, const tt_instruments *instruments,
                     const tt_venue_config *cfg, tt_err *err)
{
    *out = NULL;
    if (cfg->latency_ns < 0)
        return tt_err_set(err, TT_EINVAL, "venue.latency: %lld ns is negative",
                          (long long)cfg->latency_ns);
    if (cfg->slippage > TT_SLIP_RANDOM)
        return tt_err_set(err, TT_EINVAL, "venue.slippage: unknown model %d", cfg->slippage);
    if (cfg->slippage_points < 0 || cfg->slippage_points > UINT32_MAX - 1)
        return tt_err_set(err, TT_EINVAL, "venue.slippage_points: %lld is out of range",
                          (long long)cfg->slippage_points);
    if (cfg->commission > TT_COMM_PER_NOTIONAL)
        return tt_err_set(err, TT_EINVAL, "venue.commission: unknown model %d", cfg->commission);
    if (cfg->commission_per_lot < 0 || cfg->commission_rate < 0 || isnan(cfg->commission_rate))
        return tt_err_set(err, TT_EINVAL, "venue.commission: negative rate");
    if (cfg->margin_call_level < 0 || cfg->stop_out_level < 0)
        return tt_err_set(err, TT_EINVAL, "venue.margin_call / stop_out: negative level");
    if (cfg->margin_call_level > 0 && cfg->stop_out_level > cfg->margin_call_level)
        return tt_err_set(err, TT_EINVAL,
                          "venue.stop_out: %g%% is above the margin call level %g%%",
                          cfg->stop_out_level, cfg->margin_call_level);
    if (cfg->max_fill_qty < 0)
        return tt_err_set(err, TT_EINVAL, "venue.max_fill_qty: negative");
    tt_sim_venue *v = calloc(1, sizeof *v);
    if (!v)
        return tt_err_set(err, TT_ENOMEM, "out of memory (venue)");
    v->ins = instruments;
    v->cfg = *cfg;
    int rc = tt_portfolio_new(&v->books, instruments, &cfg->account, err);
    if (rc) {
        free(v);
        return rc;
    }
    v->nsym = tt_instruments_count(instruments) + 1;
    v->last = calloc(v->nsym, sizeof *v->last);
    v->have = calloc(v->nsym, 1);
    v->box = calloc(v->nsym, sizeof *v->box);
    if (!v->last || !v->have || !v->box) {
        tt_sim_venue_free(v);
        return tt_err_set(err, TT_ENOMEM, "out of memory (venue)");
    }
    v->gen = 1; /* the boxes start void (gen 0, calloc'd) */
    v->level_hi = cfg->margin_call_level > cfg->stop_out_level ? cfg->margin_call_level
                                                                : cfg->stop_out_level;
    tt_rng_seed_named(&v->slip, cfg->seed, "venue/slippage");
    *out = v;
    return TT_OK;
}

void tt_sim_venue_free(tt_sim_venue *v)
{
    if (!v)
        return;
    tt_portfolio_free(v->books);
    free(v->last);
    free(v->have);
    free(v->box);
    free(v->w);
    free(v);
}

tt_venue tt_sim_venue_port(tt_sim_venue *v)
{
    tt_venue p;
    memset(&p, 0, sizeof p);
    p.self = v;
    p.attach = venue_attach;
    p.command = venue_command;
    p.on_market = venue_on_market;
    p.on_arrival = venue_on_arrival;
    p.totals = venue_totals;
    p.market_quiet = venue_market_quiet;
    p.market_take = venue_market_take;
    return p;
}

const tt_portfolio *tt_sim_venue_books(const tt_sim_venue *v)
{
    books_sync((tt_sim_venue *)v); /* the venue itself is never const: the books see the last quotes */
    return v->books;
}
tt_money tt_sim_venue_commissions(const tt_sim_venue *v) { return v->commissions; }
tt_money tt_sim_venue_swaps(const tt_sim_venue *v)
{
    tt_account a;
    tt_portfolio_account(v->books, &a);
    return a.swaps;
}
uint64_t tt_sim_venue_fills(const tt_sim_venue *v) { return v->fills; }
uint64_t tt_sim_venue_stop_outs(const tt_sim_venue *v) { return v->stop_outs; }
