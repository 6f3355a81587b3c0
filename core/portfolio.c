/*
 * The portfolio: one account's money and positions.
 *
 * Money is integer minor units; every amount is computed once from integers
 * (points, qty) through doubles and rounded half away from zero to a minor
 * unit, at the moment it enters the balance (a fill, a rollover) or a
 * snapshot (unrealized P&L). Nothing accumulates in floating point, so a run
 * gives the same cents on every machine.
 *
 * Positions keep their entry as `cost` = sum of price * qty (exact); a
 * partial close takes the proportional share floor(cost * q / qty) out of it,
 * so the sub-point remainder stays with the part still open.
 *
 * Conversion routes (quote currency -> account currency) are worked out once
 * per instrument at construction from the instrument table, so marking to
 * market never looks up symbols by name: a route is at most two steps
 * (multiply or divide by the mid of a symbol), through USD when no direct
 * pair exists.
 *
 * The rollover clock is a single timestamp (the next 17:00 New York): the
 * check on every event is one comparison.
 *
 * The margin guard (tt_portfolio_margin_screen) exists for the venue's
 * per-quote margin check: rather than valuing the account on every quote, it
 * keeps a price box per symbol inside which the margin level cannot fall to
 * the threshold; the derivation is at the function.
 */
#include "portfolio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct route {
    int ok;          /* 1 when a route exists */
    int8_t op[2];    /* 0 none, +1 multiply by mid, -1 divide by mid */
    uint32_t sym[2];
} route;

typedef struct symstate {
    tt_quote q;
    int have;
    /* the lowest and highest bid and ask since the last fold into the
     * positions' excursions (see fold_excursions); empty: min > max. Next
     * to the quote: both are written on every quote */
    tt_price bid_min, bid_max, ask_min, ask_max;
    double upq;      /* base units per qty: volume_step * contract_size */
    route conv;      /* quote currency -> account currency */
    double k;        /* minor units of quote currency per (point x qty) */
    double mk;       /* k * margin_rate / leverage / 2: margin per (qty x (bid + ask)) */
    /* margin guard: quotes inside these bounds cannot bring the level down to
     * the guarded threshold (see tt_portfolio_margin_screen) */
    tt_price bid_lo, bid_hi, ask_lo, ask_hi;
    int64_t net;     /* net signed qty of the symbol's open positions (kept where qty changes) */
} symstate;

struct tt_portfolio {
    const tt_instruments *ins;
    tt_portfolio_config cfg;
    symstate *sym;   /* indexed by instrument id */
    uint32_t nsym;   /* highest id + 1 */
    tt_position *pos;
    size_t npos, cap;
    tt_money balance, realized, commissions, swaps;
    tt_ts next_roll;
    int roll_mult;
    int roll_started;
    tt_trade_fn trade_fn;
    void *trade_ctx;
    uint64_t trade_seq;
    int guard_valid;    /* the per-symbol bounds hold for guard_level */
    double guard_level;
    uint64_t guard_gen; /* counts the times the bounds were set (> 0 once set) */
};

/* ---- conversion ---- */

static uint32_t find_pair(const tt_instruments *ins, const char *base, const char *quote)
{
    uint32_t n = tt_instruments_count(ins);
    for (uint32_t i = 1; i <= n; i++) {
        const tt_instrument *x = tt_instruments_get(ins, i);
        if (x && !strcasecmp(x->base, base) && !strcasecmp(x->quote, quote))
            return i;
    }
    return 0;
}

/* One step from currency `from` to `to`: a pair from+to (multiply) or to+from (divide). */
static int step(const tt_instruments *ins, const char *from, const char *to, int8_t *op,
                uint32_t *sym)
{
    uint32_t s;
    if ((s = find_pair(ins, from, to))) {
        *op = 1;
        *sym = s;
        return 1;
    }
    if ((s = find_pair(ins, to, from))) {
        *op = -1;
        *sym = s;
        return 1;
    }
    return 0;
}

static route route_for(const tt_instruments *ins, const char *from, const char *to)
{
    route r;
    memset(&r, 0, sizeof r);
    if (!strcasecmp(from, to)) {
        r.ok = 1;
        return r;
    }
    if (step(ins, from, to, &r.op[0], &r.sym[0])) {
        r.ok = 1;
        return r;
    }
    if (strcasecmp(from, "USD") && strcasecmp(to, "USD") &&
        step(ins, from, "USD", &r.op[0], &r.sym[0]) && step(ins, "USD", to, &r.op[1], &r.sym[1])) {
        r.ok = 1;
        return r;
    }
    memset(&r, 0, sizeof r);
    return r;
}

static double mid_of(const tt_portfolio *p, uint32_t s)
{
    const symstate *x = &p->sym[s];
    if (!x->have)
        return 0.0;
    const tt_instrument *ins = tt_instruments_get(p->ins, s);
    return ((double)x->q.bid + (double)x->q.ask) / 2.0 / (double)ins->points;
}

/* The rate of a route, 0.0 when a quote is missing. */
static double route_rate(const tt_portfolio *p, const route *r)
{
    if (!r->ok)
        return 0.0;
    double rate = 1.0;
    for (int i = 0; i < 2; i++) {
        if (!r->op[i])
            continue;
        double m = mid_of(p, r->sym[i]);
        if (m <= 0.0)
            return 0.0;
        rate = r->op[i] > 0 ? rate * m : rate / m;
    }
    return rate;
}

/* llround's rounding (half away from zero) without the call: below 2^52 the
 * fraction x - trunc(x) is exact, so this is llround exactly; beyond that
 * (and for NaN) llround itself. On the equity sample of every interval. */
static inline int64_t round_away(double x)
{
    if (!(x > -4.5e15 && x < 4.5e15))
        return (int64_t)llround(x);
    int64_t i = (int64_t)x;
    double f = x - (double)i;
    if (f >= 0.5)
        i++;
    else if (f <= -0.5)
        i--;
    return i;
}

static tt_money to_minor(const tt_portfolio *p, double amount_ccy, double rate)
{
    return round_away(amount_ccy * rate * (double)p->cfg.minor_per_unit);
}

int tt_portfolio_convert(const tt_portfolio *p, const char *currency, double amount,
                         tt_money *out, tt_err *err)
{
    route r = route_for(p->ins, currency, p->cfg.currency);
    if (!r.ok)
        return tt_err_set(err, TT_ESTATE, "no instrument converts %s to the account currency %s",
                          currency, p->cfg.currency);
    double rate = route_rate(p, &r);
    if (rate <= 0.0)
        return tt_err_set(err, TT_ESTATE, "no quote yet to convert %s to %s", currency,
                          p->cfg.currency);
    *out = to_minor(p, amount, rate);
    return TT_OK;
}

/* An amount in a symbol's quote currency to account minor units. */
static int sym_money(const tt_portfolio *p, uint32_t s, double amount, tt_money *out, tt_err *err)
{
    double rate = route_rate(p, &p->sym[s].conv);
    if (rate <= 0.0) {
        const tt_instrument *ins = tt_instruments_get(p->ins, s);
        return tt_err_set(err, TT_ESTATE, "no quote yet to convert %s (%s) to %s",
                          ins->quote, ins->symbol, p->cfg.currency);
    }
    *out = to_minor(p, amount, rate);
    return TT_OK;
}

/* ---- lifecycle ---- */

static void extremes_clear(symstate *s)
{
    s->bid_min = s->ask_min = INT64_MAX;
    s->bid_max = s->ask_max = INT64_MIN;
}

int tt_portfolio_new(tt_portfolio **out, const tt_instruments *instruments,
                     const tt_portfolio_config *cfg, tt_err *err)
{
    *out = NULL;
    if (strlen(cfg->currency) != 3)
        return tt_err_set(err, TT_EINVAL, "account.currency: '%s' is not a 3-letter code",
                          cfg->currency);
    if (cfg->initial_balance < 0)
        return tt_err_set(err, TT_EINVAL, "account.initial_balance: %lld is negative",
                          (long long)cfg->initial_balance);
    if (cfg->leverage < 0 || isnan(cfg->leverage))
        return tt_err_set(err, TT_EINVAL, "venue.leverage: %g must be > 0", cfg->leverage);
    if (cfg->mode != 0 && cfg->mode != TT_MODE_NETTING && cfg->mode != TT_MODE_HEDGING)
        return tt_err_set(err, TT_EINVAL, "venue.mode: %d is neither netting nor hedging",
                          cfg->mode);
    tt_portfolio *p = calloc(1, sizeof *p);
    if (!p)
        return tt_err_set(err, TT_ENOMEM, "out of memory (portfolio)");
    p->ins = instruments;
    p->cfg = *cfg;
    if (!p->cfg.minor_per_unit)
        p->cfg.minor_per_unit = 100;
    if (!p->cfg.mode)
        p->cfg.mode = TT_MODE_NETTING;
    if (p->cfg.leverage == 0)
        p->cfg.leverage = 100;
    p->nsym = tt_instruments_count(instruments) + 1;
    p->sym = calloc(p->nsym, sizeof *p->sym);
    if (!p->sym) {
        free(p);
        return tt_err_set(err, TT_ENOMEM, "out of memory (portfolio)");
    }
    for (uint32_t i = 0; i < p->nsym; i++)
        extremes_clear(&p->sym[i]);
    for (uint32_t i = 1; i < p->nsym; i++) {
        const tt_instrument *ins = tt_instruments_get(instruments, i);
        if (!ins)
            continue;
        p->sym[i].upq = ins->volume_step * ins->contract_size;
        p->sym[i].conv = route_for(instruments, ins->quote, p->cfg.currency);
        p->sym[i].k = p->sym[i].upq / (double)ins->points * (double)p->cfg.minor_per_unit;
        p->sym[i].mk = p->sym[i].k * (ins->margin_rate > 0 ? ins->margin_rate : 1.0) /
                       p->cfg.leverage / 2.0;
    }
    p->balance = cfg->initial_balance;
    *out = p;
    return TT_OK;
}

void tt_portfolio_free(tt_portfolio *p)
{
    if (!p)
        return;
    free(p->sym);
    free(p->pos);
    free(p);
}

void tt_portfolio_on_trade(tt_portfolio *p, tt_trade_fn fn, void *ctx)
{
    p->trade_fn = fn;
    p->trade_ctx = ctx;
}

const tt_portfolio_config *tt_portfolio_config_of(const tt_portfolio *p) { return &p->cfg; }
const tt_instruments *tt_portfolio_instruments(const tt_portfolio *p) { return p->ins; }

/* ---- quotes ---- */

/* Excursions, lazily. A position's excursion on a quote is, in points x qty,
 * bid * qty - cost (long) or cost - ask * qty (short): monotonic in the
 * price while qty and cost stay put, which they do between fills. So the
 * quote path only keeps the symbol's lowest and highest bid and ask, and
 * the extremes are folded into each open position of the symbol (exactly the
 * values the per-quote updates would have reached) before anything changes
 * a position of that symbol or reads its excursions: a fill, close_all. */
static void fold_excursions(tt_portfolio *p, uint32_t symbol)
{
    symstate *s = &p->sym[symbol];
    if (s->bid_min > s->bid_max)
        return; /* no quote since the last fold */
    for (size_t i = 0; i < p->npos; i++) {
        tt_position *x = &p->pos[i];
        if (x->symbol != symbol)
            continue;
        int64_t worst = x->side > 0 ? s->bid_min * x->qty - x->cost : x->cost - s->ask_max * x->qty;
        int64_t best = x->side > 0 ? s->bid_max * x->qty - x->cost : x->cost - s->ask_min * x->qty;
        if (worst < x->worst_move)
            x->worst_move = worst;
        if (best > x->best_move)
            x->best_move = best;
    }
    extremes_clear(s);
}

static inline void quote_apply(tt_portfolio *p, uint32_t symbol, tt_price bid, tt_price ask)
{
    symstate *s = &p->sym[symbol];
    s->q.bid = bid;
    s->q.ask = ask;
    s->have = 1;
    s->bid_min = bid < s->bid_min ? bid : s->bid_min;
    s->bid_max = bid > s->bid_max ? bid : s->bid_max;
    s->ask_min = ask < s->ask_min ? ask : s->ask_min;
    s->ask_max = ask > s->ask_max ? ask : s->ask_max;
}

void tt_portfolio_quote(tt_portfolio *p, uint32_t symbol, tt_price bid, tt_price ask)
{
    if (symbol == 0 || symbol >= p->nsym || bid <= 0 || ask <= 0)
        return;
    quote_apply(p, symbol, bid, ask);
}

void tt_portfolio_quotes(tt_portfolio *p, uint32_t symbol, const tt_price *bid,
                         const tt_price *ask, int n)
{
    if (symbol == 0 || symbol >= p->nsym || n < 1)
        return;
    symstate *s = &p->sym[symbol];
    tt_price bmin = s->bid_min, bmax = s->bid_max, amin = s->ask_min, amax = s->ask_max;
    for (int i = 0; i < n; i++) { /* the extremes of quote_apply, over all of them */
        bmin = bid[i] < bmin ? bid[i] : bmin;
        bmax = bid[i] > bmax ? bid[i] : bmax;
        amin = ask[i] < amin ? ask[i] : amin;
        amax = ask[i] > amax ? ask[i] : amax;
    }
    s->bid_min = bmin;
    s->bid_max = bmax;
    s->ask_min = amin;
    s->ask_max = amax;
    s->q.bid = bid[n - 1];
    s->q.ask = ask[n - 1];
    s->have = 1;
}

int tt_portfolio_last_quote(const tt_portfolio *p, uint32_t symbol, tt_quote *q)
{
    if (symbol == 0 || symbol >= p->nsym || !p->sym[symbol].have) {
        memset(q, 0, sizeof *q);
        return 0;
    }
    *q = p->sym[symbol].q;
    return 1;
}

/* ---- positions ---- */

static tt_position *find_ticket(tt_portfolio *p, uint64_t ticket)
{
    for (size_t i = 0; i < p->npos; i++)
        if (p->pos[i].ticket == ticket)
            return &p->pos[i];
    return NULL;
}

static tt_position *find_netting(tt_portfolio *p, uint32_t symbol)
{
    for (size_t i = 0; i < p->npos; i++)
        if (p->pos[i].symbol == symbol)
            return &p->pos[i];
    return NULL;
}

/* Drop a position (what is left of it leaves the symbol's net quantity). */
static void remove_pos(tt_portfolio *p, tt_position *x)
{
    p->sym[x->symbol].net -= x->side * x->qty;
    size_t i = (size_t)(x - p->pos);
    memmove(&p->pos[i], &p->pos[i + 1], (p->npos - i - 1) * sizeof *p->pos);
    p->npos--;
}

/* Room for one more position. */
static int reserve_pos(tt_portfolio *p, tt_err *err)
{
    if (p->npos == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        tt_position *v = realloc(p->pos, cap * sizeof *v);
        if (!v)
            return tt_err_set(err, TT_ENOMEM, "out of memory (positions)");
        p->pos = v;
        p->cap = cap;
    }
    return TT_OK;
}

/* A new position (reserve_pos has made room). */
static void open_pos(tt_portfolio *p, const tt_fill *f, int64_t qty, tt_money commission)
{
    tt_position *x = &p->pos[p->npos++];
    memset(x, 0, sizeof *x);
    x->ticket = f->order_id;
    x->symbol = f->symbol;
    x->side = f->side;
    x->qty = qty;
    p->sym[x->symbol].net += x->side * qty;
    x->cost = f->price * qty;
    x->open_ts = f->ts;
    x->stop_loss = f->stop_loss;
    x->take_profit = f->take_profit;
    x->commission = commission;
}

/* Share of an integer amount for q out of n, rounded toward zero. */
static int64_t share(int64_t amount, int64_t q, int64_t n)
{
    __extension__ __int128 t = (__int128)amount * q;
    return (int64_t)(t / n);
}

/* Close q of position x at price; the exit commission share is exit_comm. */
static int close_part(tt_portfolio *p, tt_position *x, int64_t q, const tt_fill *f,
                      tt_money exit_comm, tt_err *err)
{
    const tt_instrument *ins = tt_instruments_get(p->ins, x->symbol);
    int64_t cost_share = q == x->qty ? x->cost : share(x->cost, q, x->qty);
    /* P&L against the exact average entry, not the floored cost share */
    double pts_exact = (double)x->side *
                       ((double)f->price * (double)q - (double)x->cost * (double)q / (double)x->qty);
    tt_money pnl;
    int rc = sym_money(p, x->symbol, pts_exact * p->sym[x->symbol].upq / (double)ins->points, &pnl,
                       err);
    if (rc)
        return rc;
    tt_money entry_comm = q == x->qty ? x->commission : share(x->commission, q, x->qty);
    tt_money swap = q == x->qty ? x->swap : share(x->swap, q, x->qty);
    tt_trade_record t;
    memset(&t, 0, sizeof t);
    t.id = ++p->trade_seq;
    t.symbol = x->symbol;
    t.side = x->side;
    t.close_reason = f->close_reason;
    t.qty = q;
    t.open_ts = x->open_ts;
    t.open_price = (tt_price)llround((double)x->cost / (double)x->qty);
    t.close_ts = f->ts;
    t.close_price = f->price;
    t.pnl = pnl;
    t.commission = entry_comm + exit_comm;
    t.swap = swap;
    t.net = pnl - t.commission + swap;
    t.open_order = x->ticket;
    t.close_order = f->order_id;
    t.mae_points = -x->worst_move / x->qty;
    t.mfe_points = x->best_move / x->qty;
    p->balance += pnl;
    p->realized += pnl;
    if (q < x->qty) { /* the part left keeps its share of the excursions */
        x->worst_move = share(x->worst_move, x->qty - q, x->qty);
        x->best_move = share(x->best_move, x->qty - q, x->qty);
    }
    x->cost -= cost_share;
    x->commission -= entry_comm;
    x->swap -= swap;
    x->qty -= q;
    p->sym[x->symbol].net -= x->side * q;
    if (p->trade_fn)
        p->trade_fn(p->trade_ctx, &t);
    if (x->qty == 0)
        remove_pos(p, x);
    return TT_OK;
}

int tt_portfolio_fill(tt_portfolio *p, const tt_fill *f, tt_err *err)
{
    if (f->symbol == 0 || f->symbol >= p->nsym || !tt_instruments_get(p->ins, f->symbol))
        return tt_err_set(err, TT_EINVAL, "fill: unknown symbol id %u", f->symbol);
    if (f->side != TT_BUY && f->side != TT_SELL)
        return tt_err_set(err, TT_EINVAL, "fill: side %d is neither buy nor sell", f->side);
    if (f->qty <= 0 || f->price <= 0)
        return tt_err_set(err, TT_EINVAL, "fill: qty %lld and price %lld must be > 0",
                          (long long)f->qty, (long long)f->price);
    /* Check a conversion rate exists before changing anything. */
    if (route_rate(p, &p->sym[f->symbol].conv) <= 0.0) {
        const tt_instrument *ins = tt_instruments_get(p->ins, f->symbol);
        return tt_err_set(err, TT_ESTATE, "fill of %s: no quote yet to convert %s to %s",
                          ins->symbol, ins->quote, p->cfg.currency);
    }
    fold_excursions(p, f->symbol); /* before any position of the symbol changes */
    tt_position *x = NULL;
    if (f->position) {
        x = find_ticket(p, f->position);
        if (!x || x->symbol != f->symbol)
            return tt_err_set(err, TT_ENOTFOUND, "fill: no open position with ticket %llu",
                              (unsigned long long)f->position);
        if (x->side == f->side || f->qty > x->qty)
            return tt_err_set(err, TT_ENOTFOUND,
                              "fill: position %llu cannot be reduced by %s %lld (it holds %lld)",
                              (unsigned long long)f->position, f->side > 0 ? "buy" : "sell",
                              (long long)f->qty, (long long)x->qty);
    } else if (p->cfg.mode == TT_MODE_NETTING) {
        x = find_netting(p, f->symbol);
    }
    /* Room for a position the fill opens (an open, or a netting reversal's
     * excess) before anything changes, so a failure changes nothing. */
    int opens = !x || (x->side != f->side && f->qty > x->qty);
    if (opens && reserve_pos(p, err))
        return TT_ENOMEM;
    p->guard_valid = 0; /* positions and balance change */
    p->balance -= f->commission;
    p->commissions += f->commission;
    if (!x) { /* hedging open, or netting with nothing open */
        open_pos(p, f, f->qty, f->commission);
        return TT_OK;
    }
    if (x->side == f->side) { /* netting: grow; excursions restart from the new entry */
        x->worst_move = x->best_move = 0;
        x->qty += f->qty;
        p->sym[x->symbol].net += x->side * f->qty;
        x->cost += f->price * f->qty;
        x->commission += f->commission;
        if (f->stop_loss)
            x->stop_loss = f->stop_loss;
        if (f->take_profit)
            x->take_profit = f->take_profit;
        return TT_OK;
    }
    int64_t q = f->qty < x->qty ? f->qty : x->qty;
    int64_t rest = f->qty - q;
    tt_money exit_comm = rest ? share(f->commission, q, f->qty) : f->commission;
    int rc = close_part(p, x, q, f, exit_comm, err);
    if (rc || rest == 0)
        return rc;
    /* netting reversal: the excess opens a position the other way */
    open_pos(p, f, rest, f->commission - exit_comm);
    return TT_OK;
}

int tt_portfolio_set_exits(tt_portfolio *p, uint64_t ticket, tt_price sl, tt_price tp)
{
    tt_position *x = find_ticket(p, ticket);
    if (!x)
        return TT_ENOTFOUND;
    x->stop_loss = sl;
    x->take_profit = tp;
    return TT_OK;
}

/* ---- valuation ---- */

tt_money tt_portfolio_position_pnl(const tt_portfolio *p, const tt_position *x)
{
    const symstate *s = &p->sym[x->symbol];
    if (!s->have)
        return 0;
    const tt_instrument *ins = tt_instruments_get(p->ins, x->symbol);
    double px = x->side > 0 ? (double)s->q.bid : (double)s->q.ask;
    double pts = (double)x->side * (px * (double)x->qty - (double)x->cost);
    double rate = route_rate(p, &s->conv);
    return to_minor(p, pts * s->upq / (double)ins->points, rate);
}

/* Notional and margin of qty at the mid, in the quote currency (units). */
static double notional_ccy(const tt_portfolio *p, uint32_t s, int64_t qty)
{
    return (double)qty * p->sym[s].upq * mid_of(p, s);
}

static double margin_ccy(const tt_portfolio *p, uint32_t s, int64_t qty)
{
    const tt_instrument *ins = tt_instruments_get(p->ins, s);
    double rate = ins->margin_rate > 0 ? ins->margin_rate : 1.0;
    return notional_ccy(p, s, qty) / p->cfg.leverage * rate;
}

int tt_portfolio_margin_for(const tt_portfolio *p, uint32_t symbol, int64_t qty, tt_money *out,
                            tt_err *err)
{
    if (symbol == 0 || symbol >= p->nsym || !p->sym[symbol].have)
        return tt_err_set(err, TT_ESTATE, "no quote yet for symbol id %u", symbol);
    return sym_money(p, symbol, margin_ccy(p, symbol, qty < 0 ? -qty : qty), out, err);
}

int tt_portfolio_notional(const tt_portfolio *p, uint32_t symbol, int64_t qty, tt_money *out,
                          tt_err *err)
{
    if (symbol == 0 || symbol >= p->nsym || !p->sym[symbol].have)
        return tt_err_set(err, TT_ESTATE, "no quote yet for symbol id %u", symbol);
    return sym_money(p, symbol, notional_ccy(p, symbol, qty < 0 ? -qty : qty), out, err);
}

void tt_portfolio_account(const tt_portfolio *p, tt_account *a)
{
    memset(a, 0, sizeof *a);
    a->balance = p->balance;
    a->realized = p->realized;
    a->commissions = p->commissions;
    a->swaps = p->swaps;
    /* per position what tt_portfolio_position_pnl, margin_ccy and
     * notional_ccy with sym_money compute, the symbol's rate and mid taken
     * once: the same operations in the same order, so the same numbers */
    for (size_t i = 0; i < p->npos; i++) {
        const tt_position *x = &p->pos[i];
        const symstate *s = &p->sym[x->symbol];
        const tt_instrument *ins = tt_instruments_get(p->ins, x->symbol);
        double rate = route_rate(p, &s->conv);
        if (s->have) {
            double px = x->side > 0 ? (double)s->q.bid : (double)s->q.ask;
            double pts = (double)x->side * (px * (double)x->qty - (double)x->cost);
            a->unrealized += to_minor(p, pts * s->upq / (double)ins->points, rate);
        }
        if (rate > 0.0) {
            double mid = s->have ? ((double)s->q.bid + (double)s->q.ask) / 2.0 /
                                       (double)ins->points
                                 : 0.0;
            double notional = (double)x->qty * s->upq * mid;
            double mrate = ins->margin_rate > 0 ? ins->margin_rate : 1.0;
            a->margin += to_minor(p, notional / p->cfg.leverage * mrate, rate);
            a->exposure += to_minor(p, notional, rate);
        }
        a->net_qty += x->side * x->qty;
    }
    a->equity = a->balance + a->unrealized;
    a->free_margin = a->equity - a->margin;
    a->margin_level = a->margin > 0 ? (double)a->equity / (double)a->margin * 100.0 : INFINITY;
}

void tt_portfolio_margin_state(const tt_portfolio *p, double *equity, double *margin)
{
    double eq = (double)p->balance, m = 0.0;
    for (size_t i = 0; i < p->npos; i++) {
        const tt_position *x = &p->pos[i];
        const symstate *s = &p->sym[x->symbol];
        double rate = s->conv.op[0] ? route_rate(p, &s->conv) : 1.0;
        int64_t px = x->side > 0 ? s->q.bid : s->q.ask;
        eq += (double)(x->side * (px * x->qty - x->cost)) * s->k * rate;
        m += (double)(x->qty * (s->q.bid + s->q.ask)) * s->mk * rate;
    }
    *equity = eq;
    *margin = m;
}

/* The guard. The slack S = 100 x equity - (level + 0.01) x margin is linear
 * in every bid and ask as long as each position's P&L needs no conversion
 * (quote currency = account currency): dS/dbid = 100 L k - c (L + S) mk and
 * dS/dask = -100 S k - c (L + S) mk per symbol (L, S: long and short qty,
 * c = level + 0.01). With n symbols holding positions, if no bid or ask moves
 * by more than D_s = S0 / (n (|dS/dbid| + |dS/dask|)) from where it was at the
 * full check, S stays >= 0. Those bounds are stored per symbol; a quote inside
 * them costs four comparisons. Positions needing a conversion rate (whose
 * value moves with other symbols' quotes) disable the shortcut. */
static int screen_full(tt_portfolio *p, double level);

/* The screen's fast path: inside the box, four comparisons. */
static inline int screen(tt_portfolio *p, uint32_t symbol, double level)
{
    if (!p->npos)
        return 0;
    if (p->guard_valid && p->guard_level == level && symbol < p->nsym) {
        const symstate *s = &p->sym[symbol];
        if (s->q.bid >= s->bid_lo && s->q.bid <= s->bid_hi && s->q.ask >= s->ask_lo &&
            s->q.ask <= s->ask_hi)
            return 0;
    }
    return screen_full(p, level);
}

int tt_portfolio_margin_screen(tt_portfolio *p, uint32_t symbol, double level)
{
    return screen(p, symbol, level);
}

uint64_t tt_portfolio_margin_box(const tt_portfolio *p, uint32_t symbol, double level,
                                 tt_price box[4])
{
    if (!p->guard_valid || p->guard_level != level || symbol == 0 || symbol >= p->nsym)
        return 0;
    const symstate *s = &p->sym[symbol];
    box[0] = s->bid_lo;
    box[1] = s->bid_hi;
    box[2] = s->ask_lo;
    box[3] = s->ask_hi;
    return p->guard_gen;
}

/* The full check behind the screen: values the account, sets the box. */
static __attribute__((noinline)) int screen_full(tt_portfolio *p, double level)
{
    double eq, margin;
    tt_portfolio_margin_state(p, &eq, &margin);
    double c = level + 0.01;
    double slack = eq * 100.0 - c * margin;
    p->guard_valid = 0;
    if (margin <= 0)
        return 0;
    if (slack <= 0)
        return 1;
    /* bounds; any converted position: no shortcut (every quote checks) */
    int nsyms = 0;
    for (uint32_t i = 1; i < p->nsym; i++) {
        symstate *s = &p->sym[i];
        s->bid_lo = s->ask_lo = INT64_MIN; /* no position: any quote is harmless */
        s->bid_hi = s->ask_hi = INT64_MAX;
    }
    double dbid[64] = {0}, dask[64] = {0};
    uint32_t syms[64];
    for (size_t i = 0; i < p->npos; i++) {
        const tt_position *x = &p->pos[i];
        const symstate *s = &p->sym[x->symbol];
        if (s->conv.op[0])
            return 0;
        int j = 0;
        while (j < nsyms && syms[j] != x->symbol)
            j++;
        if (j == nsyms) {
            if (nsyms == 64)
                return 0;
            syms[nsyms++] = x->symbol;
        }
        double q = (double)x->qty;
        if (x->side > 0)
            dbid[j] += 100.0 * q * s->k;
        else
            dask[j] -= 100.0 * q * s->k;
        dbid[j] -= c * q * s->mk;
        dask[j] -= c * q * s->mk;
    }
    for (int j = 0; j < nsyms; j++) {
        symstate *s = &p->sym[syms[j]];
        double sens = fabs(dbid[j]) + fabs(dask[j]);
        double d = sens > 0 ? floor(slack / ((double)nsyms * sens)) : 9e15;
        tt_price dp = d > 9e15 ? (tt_price)9e15 : (tt_price)d;
        s->bid_lo = s->q.bid - dp;
        s->bid_hi = s->q.bid + dp;
        s->ask_lo = s->q.ask - dp;
        s->ask_hi = s->q.ask + dp;
    }
    p->guard_valid = 1;
    p->guard_level = level;
    p->guard_gen++;
    return 0;
}

tt_money tt_portfolio_balance(const tt_portfolio *p) { return p->balance; }

tt_money tt_portfolio_equity(const tt_portfolio *p)
{
    tt_money e = p->balance;
    for (size_t i = 0; i < p->npos; i++)
        e += tt_portfolio_position_pnl(p, &p->pos[i]);
    return e;
}

int64_t tt_portfolio_net_qty(const tt_portfolio *p, uint32_t symbol)
{
    /* positions exist only for valid symbols (tt_portfolio_fill checks) */
    return symbol < p->nsym ? p->sym[symbol].net : 0;
}

size_t tt_portfolio_count(const tt_portfolio *p) { return p->npos; }

const tt_position *tt_portfolio_position(const tt_portfolio *p, size_t i)
{
    return i < p->npos ? &p->pos[i] : NULL;
}

const tt_position *tt_portfolio_find(const tt_portfolio *p, uint64_t ticket)
{
    return find_ticket((tt_portfolio *)p, ticket);
}

void tt_portfolio_close_all(tt_portfolio *p, tt_ts ts, uint8_t reason)
{
    for (uint32_t i = 1; i < p->nsym; i++)
        fold_excursions(p, i);
    while (p->npos) {
        tt_position *x = &p->pos[p->npos - 1];
        const symstate *s = &p->sym[x->symbol];
        tt_fill f;
        memset(&f, 0, sizeof f);
        f.symbol = x->symbol;
        f.side = (int8_t)-x->side;
        f.qty = x->qty;
        f.price = x->side > 0 ? s->q.bid : s->q.ask;
        f.position = x->ticket;
        f.close_reason = reason;
        f.ts = ts;
        if (f.price <= 0 || close_part(p, x, x->qty, &f, 0, NULL))
            remove_pos(p, x); /* no quote or no rate: nothing to value it with */
    }
}

/* ---- rollover ---- */

static int64_t days_from_civil(int y, int m, int d)
{
    return tt_ts_from_civil(y, m, d, 0, 0, 0, 0) / TT_NS_PER_DAY;
}

/* 0 = Sunday .. 6 = Saturday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
    int64_t w = (days + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* Day of month of the n-th Sunday (n >= 1) of a month. */
static int nth_sunday(int y, int m, int n)
{
    int w = weekday(days_from_civil(y, m, 1));
    int first = 1 + (7 - w) % 7;
    return first + 7 * (n - 1);
}

int tt_ny_dst(tt_ts ts)
{
    int y, mo, d, h, mi, s;
    int64_t ns;
    tt_ts_to_civil(ts, &y, &mo, &d, &h, &mi, &s, &ns);
    /* 2:00 EST = 07:00 UTC; 2:00 EDT = 06:00 UTC */
    tt_ts start = tt_ts_from_civil(y, 3, nth_sunday(y, 3, 2), 7, 0, 0, 0);
    tt_ts end = tt_ts_from_civil(y, 11, nth_sunday(y, 11, 1), 6, 0, 0, 0);
    return ts >= start && ts < end;
}

/* 17:00 New York on the UTC calendar day `days` (days since the epoch). */
static tt_ts ny_five_pm(int64_t days)
{
    tt_ts edt = days * TT_NS_PER_DAY + 21 * TT_NS_PER_HOUR;
    return tt_ny_dst(edt) ? edt : edt + TT_NS_PER_HOUR;
}

static int64_t floor_days(tt_ts ts)
{
    int64_t d = ts / TT_NS_PER_DAY;
    if (ts % TT_NS_PER_DAY < 0)
        d--;
    return d;
}

tt_ts tt_rollover_next(tt_ts ts, int *multiplier)
{
    for (int64_t d = floor_days(ts) - 1;; d++) {
        int w = weekday(d);
        if (w == 0 || w == 6)
            continue;
        tt_ts r = ny_five_pm(d);
        if (r > ts) {
            if (multiplier)
                *multiplier = w == 3 ? 3 : 1;
            return r;
        }
    }
}

tt_ts tt_trading_day_start(tt_ts ts)
{
    for (int64_t d = floor_days(ts) + 1;; d--) {
        tt_ts r = ny_five_pm(d);
        if (r <= ts)
            return r;
    }
}

static void apply_swaps(tt_portfolio *p, tt_ts roll, int mult)
{
    for (size_t i = 0; i < p->npos; i++) {
        tt_position *x = &p->pos[i];
        if (x->open_ts >= roll)
            continue;
        const tt_instrument *ins = tt_instruments_get(p->ins, x->symbol);
        double rate_pts = x->side > 0 ? ins->swap_long : ins->swap_short;
        if (rate_pts == 0)
            continue;
        double amount = rate_pts * mult * (double)x->qty * p->sym[x->symbol].upq / (double)ins->points;
        tt_money m;
        if (sym_money(p, x->symbol, amount, &m, NULL))
            continue; /* no rate: cannot value it; positions exist only with a rate */
        x->swap += m;
        p->swaps += m;
        p->balance += m;
        p->guard_valid = 0;
    }
}

tt_ts tt_portfolio_next_rollover(const tt_portfolio *p)
{
    return p->roll_started ? p->next_roll : TT_TS_MIN;
}

tt_money tt_portfolio_advance(tt_portfolio *p, tt_ts ts)
{
    if (!p->roll_started) {
        p->next_roll = tt_rollover_next(ts - 1, &p->roll_mult);
        p->roll_started = 1;
    }
    if (ts < p->next_roll)
        return 0;
    tt_money before = p->swaps;
    while (ts >= p->next_roll) {
        if (p->cfg.swaps)
            apply_swaps(p, p->next_roll, p->roll_mult);
        p->next_roll = tt_rollover_next(p->next_roll, &p->roll_mult);
    }
    return p->swaps - before;
}
