/*
 * The pre-trade risk gate.
 *
 * State is a handful of numbers: the running equity peak (drawdown), the
 * equity at the start of the current trading day (daily loss), which halts
 * are in force, and a ring of the send times of the last max_orders_per_sec
 * approved orders (rate limit: the order is refused when the ring is full and
 * its oldest entry is still inside the one-second window).
 *
 * The trading day starts at 17:00 New York (tt_trading_day_start), the FX
 * convention, so the daily loss limit and the swap rollover agree on what a
 * day is. The start-of-day equity is the equity at the first update of the
 * day; the runner updates on every fill and every equity sample, so that is
 * at most one sample interval after the boundary.
 *
 * Every check first refreshes the equity-based rules, so a limit breached
 * between samples still stops the next order.
 *
 * The news blackout looks ahead as well as back, so it needs the schedule of
 * releases before they happen: a tt_news the gate owns (external.h), filled
 * by the run from its calendar streams and by every calendar event received.
 * Only (time, currency, impact) are kept, never the released figures. The
 * symbol's currencies are its instrument's base and quote.
 */
#include "risk.h"

#include <stdlib.h>
#include <string.h>

struct tt_risk_gate {
    tt_risk_config cfg;
    int killed;
    int dd_halt;
    tt_ts day_start;     /* trading day of day_equity; 0 before the first update */
    tt_money day_equity;
    tt_ts daily_halt;    /* trading day start the daily halt applies to; 0 = none */
    tt_money peak;
    int have_peak;
    double last_dd;      /* drawdown fraction at the last update */
    tt_money last_loss;  /* daily loss at the last update */
    tt_ts *ring;         /* send times of recent approved orders */
    uint32_t ring_n, ring_head;
    tt_news *news;       /* the blackout's schedule; NULL when the rule is off */
    int news_impact;
};

static const char *const RULES[TT_RULE_COUNT] = {
    "none",         "max_position", "max_exposure", "max_order_size", "max_order_rate",
    "daily_loss",   "max_drawdown", "kill_switch",  "margin_call",    "stop_out",
    "news_blackout",
};

const char *tt_risk_rule_name(int rule)
{
    return rule >= 0 && rule < TT_RULE_COUNT ? RULES[rule] : "?";
}

int tt_risk_gate_new(tt_risk_gate **out, const tt_risk_config *cfg, tt_err *err)
{
    *out = NULL;
    if (cfg->max_position < 0)
        return tt_err_set(err, TT_EINVAL, "risk.max_position: %lld is negative",
                          (long long)cfg->max_position);
    if (cfg->max_exposure < 0)
        return tt_err_set(err, TT_EINVAL, "risk.max_exposure: %lld is negative",
                          (long long)cfg->max_exposure);
    if (cfg->max_order_qty < 0)
        return tt_err_set(err, TT_EINVAL, "risk.max_order_size: %lld is negative",
                          (long long)cfg->max_order_qty);
    if (cfg->daily_loss_limit < 0)
        return tt_err_set(err, TT_EINVAL, "risk.daily_loss_limit: %lld is negative",
                          (long long)cfg->daily_loss_limit);
    if (!(cfg->max_drawdown >= 0 && cfg->max_drawdown < 1))
        return tt_err_set(err, TT_EINVAL, "risk.max_drawdown: %g is outside [0, 1)",
                          cfg->max_drawdown);
    if (cfg->news_before < 0 || cfg->news_after < 0)
        return tt_err_set(err, TT_EINVAL, "risk.news_blackout: a negative window");
    if (cfg->news_impact < 0 || cfg->news_impact > TT_IMPACT_HIGH)
        return tt_err_set(err, TT_EINVAL, "risk.news_blackout.impact: %d is not an impact",
                          cfg->news_impact);
    tt_risk_gate *g = calloc(1, sizeof *g);
    if (!g)
        return tt_err_set(err, TT_ENOMEM, "out of memory (risk gate)");
    g->cfg = *cfg;
    g->news_impact = cfg->news_impact > 0 ? cfg->news_impact : TT_IMPACT_HIGH;
    if ((cfg->news_before > 0 || cfg->news_after > 0) && tt_news_new(&g->news, err)) {
        free(g);
        return TT_ENOMEM;
    }
    if (cfg->max_orders_per_sec) {
        g->ring = calloc(cfg->max_orders_per_sec, sizeof *g->ring);
        if (!g->ring) {
            tt_news_free(g->news);
            free(g);
            return tt_err_set(err, TT_ENOMEM, "out of memory (risk gate)");
        }
    }
    *out = g;
    return TT_OK;
}

void tt_risk_gate_free(tt_risk_gate *g)
{
    if (g) {
        free(g->ring);
        tt_news_free(g->news);
        free(g);
    }
}

tt_news *tt_risk_gate_news(tt_risk_gate *g) { return g->news; }

int tt_risk_gate_on_external(tt_risk_gate *g, const tt_event *ev)
{
    return g->news ? tt_news_add_event(g->news, ev) : 0;
}

void tt_risk_gate_kill(tt_risk_gate *g) { g->killed = 1; }

int tt_risk_gate_halted(const tt_risk_gate *g, tt_ts ts)
{
    if (g->killed)
        return TT_RULE_KILL_SWITCH;
    if (g->dd_halt)
        return TT_RULE_MAX_DRAWDOWN;
    if (g->daily_halt && tt_trading_day_start(ts) == g->daily_halt)
        return TT_RULE_DAILY_LOSS;
    return TT_RULE_NONE;
}

static void decide(tt_risk *d, uint64_t id, int rule, double value, double limit, int ok)
{
    if (!d)
        return;
    memset(d, 0, sizeof *d);
    d->client_id = id;
    d->rule = (uint16_t)rule;
    d->value = value;
    d->limit = limit;
    d->approved = (uint8_t)ok;
}

/* 1 (and the decision) when a release near ts concerns the symbol. */
static int news_blackout(const tt_risk_gate *g, const tt_portfolio *p, uint32_t symbol, tt_ts ts,
                         uint64_t id, tt_risk *d)
{
    const tt_instrument *in = tt_instruments_get(tt_portfolio_instruments(p), symbol);
    tt_ts at;
    if (!in || !tt_news_window(g->news, ts, g->cfg.news_before, g->cfg.news_after,
                               tt_currency_code(in->base), tt_currency_code(in->quote),
                               g->news_impact, &at))
        return 0;
    double minutes = (double)(ts - at) / (double)TT_NS_PER_MIN;
    double limit = (double)(ts < at ? g->cfg.news_before : g->cfg.news_after) / TT_NS_PER_MIN;
    decide(d, id, TT_RULE_NEWS_BLACKOUT, minutes, limit, 0);
    return 1;
}

int tt_risk_gate_update(tt_risk_gate *g, const tt_portfolio *p, tt_ts ts, tt_risk *d)
{
    if (!g->cfg.daily_loss_limit && g->cfg.max_drawdown <= 0)
        return TT_RULE_NONE;
    tt_money eq = tt_portfolio_equity(p);
    int fired = TT_RULE_NONE;
    if (g->cfg.daily_loss_limit) {
        tt_ts day = tt_trading_day_start(ts);
        if (day != g->day_start) {
            g->day_start = day;
            g->day_equity = eq;
        }
        g->last_loss = g->day_equity - eq;
        if (g->last_loss >= g->cfg.daily_loss_limit && g->daily_halt != day) {
            g->daily_halt = day;
            fired = TT_RULE_DAILY_LOSS;
            decide(d, 0, fired, (double)g->last_loss, (double)g->cfg.daily_loss_limit, 0);
        }
    }
    if (g->cfg.max_drawdown > 0) {
        if (!g->have_peak || eq > g->peak) {
            g->peak = eq;
            g->have_peak = 1;
        }
        g->last_dd = g->peak > 0 ? (double)(g->peak - eq) / (double)g->peak : 0.0;
        if (!g->dd_halt && g->last_dd >= g->cfg.max_drawdown) {
            g->dd_halt = 1;
            fired = TT_RULE_MAX_DRAWDOWN;
            decide(d, 0, fired, g->last_dd, g->cfg.max_drawdown, 0);
        }
    }
    return fired;
}

/* 1 when the order can only shrink what is open. */
static int reduces(const tt_portfolio *p, uint32_t symbol, const tt_order_cmd *c)
{
    if (c->position)
        return 1;
    int64_t net = tt_portfolio_net_qty(p, symbol);
    if (tt_portfolio_config_of(p)->mode == TT_MODE_HEDGING)
        return 0; /* a hedging order without a position opens a new one */
    return (net > 0 && c->side == TT_SELL && c->qty <= net) ||
           (net < 0 && c->side == TT_BUY && c->qty <= -net);
}

int tt_risk_gate_check(tt_risk_gate *g, const tt_portfolio *p, uint32_t symbol,
                       const tt_order_cmd *c, tt_ts ts, tt_risk *d)
{
    uint64_t id = c->client_id;
    if (c->cmd != TT_CMD_SUBMIT) {
        decide(d, id, TT_RULE_NONE, 0, 0, 1);
        return 1;
    }
    tt_risk_gate_update(g, p, ts, NULL);
    int red = reduces(p, symbol, c);
    int halt = tt_risk_gate_halted(g, ts);
    if (halt && !red) {
        if (halt == TT_RULE_KILL_SWITCH)
            decide(d, id, halt, 1, 0, 0);
        else if (halt == TT_RULE_MAX_DRAWDOWN)
            decide(d, id, halt, g->last_dd, g->cfg.max_drawdown, 0);
        else
            decide(d, id, halt, (double)g->last_loss, (double)g->cfg.daily_loss_limit, 0);
        return 0;
    }
    if (g->news && !red && news_blackout(g, p, symbol, ts, id, d))
        return 0;
    if (g->cfg.max_order_qty && c->qty > g->cfg.max_order_qty) {
        decide(d, id, TT_RULE_MAX_ORDER_SIZE, (double)c->qty, (double)g->cfg.max_order_qty, 0);
        return 0;
    }
    uint32_t rn = g->cfg.max_orders_per_sec;
    if (rn && g->ring_n == rn && g->ring[g->ring_head] > ts - TT_NS_PER_SEC) {
        decide(d, id, TT_RULE_MAX_ORDER_RATE, (double)rn + 1, (double)rn, 0);
        return 0;
    }
    if (!red && g->cfg.max_position) {
        int64_t net = tt_portfolio_net_qty(p, symbol);
        int64_t after = net + c->side * c->qty;
        int64_t a = after < 0 ? -after : after;
        if (a > g->cfg.max_position) {
            decide(d, id, TT_RULE_MAX_POSITION, (double)a, (double)g->cfg.max_position, 0);
            return 0;
        }
    }
    if (!red && g->cfg.max_exposure) {
        tt_account acc;
        tt_portfolio_account(p, &acc);
        tt_money add = 0;
        if (tt_portfolio_notional(p, symbol, c->qty, &add, NULL))
            add = 0; /* no quote yet: the venue will refuse it anyway */
        tt_money after = acc.exposure + add;
        if (after > g->cfg.max_exposure) {
            decide(d, id, TT_RULE_MAX_EXPOSURE, (double)after, (double)g->cfg.max_exposure, 0);
            return 0;
        }
    }
    if (rn) {
        if (g->ring_n < rn) {
            g->ring[(g->ring_head + g->ring_n) % rn] = ts;
            g->ring_n++;
        } else {
            g->ring[g->ring_head] = ts;
            g->ring_head = (g->ring_head + 1) % rn;
        }
    }
    decide(d, id, TT_RULE_NONE, 0, 0, 1);
    return 1;
}
