/*
 * ticktape: the pre-trade risk gate.
 *
 * Every order a strategy sends passes through the gate before it reaches the
 * venue. The gate checks, in this order, and the first rule that fails
 * rejects the order:
 *
 *   kill switch      set by tt_risk_gate_kill (or a TT_CTL_KILL control event):
 *                    stops trading for good;
 *   max drawdown     equity fell by max_drawdown (fraction) or more below its
 *                    running peak: stops trading for good;
 *   daily loss       equity fell by daily_loss_limit (minor units) or more below
 *                    its value at the start of the trading day (17:00 New York,
 *                    tt_trading_day_start): stops trading until the next day;
 *   max order size   |qty| above max_order_qty;
 *   max orders/sec   more than max_orders_per_sec orders sent in the one-second
 *                    window (ts - 1 s, ts];
 *   max position     the symbol's |net qty| after the order (assuming it fills
 *                    in full) above max_position;
 *   max exposure     gross notional of all positions after the order above
 *                    max_exposure (account minor units);
 *   news blackout    a scheduled release of impact news_impact or higher (high
 *                    by default) for the symbol's base or quote currency (or
 *                    for every currency) is at most news_before ahead or
 *                    news_after behind (core/external.h, docs/risk.md). Checked
 *                    right after the halts: no new position in the window.
 *
 * While halted (daily loss, drawdown, kill switch), orders that only reduce an
 * open position (a netting order against the net position no larger than it,
 * or a hedging close naming a position) still pass, so a strategy can get
 * flat. Cancels always pass.
 *
 * Each decision is a TT_EV_RISK event (tt_risk: client id, the rule, the
 * measured value and the limit, approved or not); the strategy runner emits
 * them. A limit of 0 switches its rule off.
 *
 * The equity-based rules are updated by tt_risk_gate_update (the runner calls
 * it on fills and once per equity sample) and checked again at each order.
 */
#ifndef TT_RISK_H
#define TT_RISK_H

#include <stdint.h>

#include "error.h"
#include "event.h"
#include "external.h"
#include "portfolio.h"

enum tt_risk_rule {
    TT_RULE_NONE = 0,
    TT_RULE_MAX_POSITION = 1,
    TT_RULE_MAX_EXPOSURE = 2,
    TT_RULE_MAX_ORDER_SIZE = 3,
    TT_RULE_MAX_ORDER_RATE = 4,
    TT_RULE_DAILY_LOSS = 5,
    TT_RULE_MAX_DRAWDOWN = 6,
    TT_RULE_KILL_SWITCH = 7,
    TT_RULE_MARGIN_CALL = 8, /* venue: margin level at or below the margin-call level */
    TT_RULE_STOP_OUT = 9,    /* venue: margin level at or below the stop-out level */
    TT_RULE_NEWS_BLACKOUT = 10, /* a high-impact release of the symbol's currencies is near */
    TT_RULE_COUNT
};

/* "max_position", "daily_loss", "kill_switch", ... ("?" when unknown). Cannot fail. */
const char *tt_risk_rule_name(int rule);

typedef struct tt_risk_config {
    int64_t max_position;        /* |net qty| per symbol; 0 = off */
    tt_money max_exposure;       /* gross notional, account minor units; 0 = off */
    int64_t max_order_qty;       /* per order; 0 = off */
    uint32_t max_orders_per_sec; /* 0 = off */
    tt_money daily_loss_limit;   /* minor units (> 0); 0 = off */
    double max_drawdown;         /* fraction of peak equity (0.2 = 20%); 0 = off */
    tt_ts news_before;           /* news blackout: starts this long before a release (ns) */
    tt_ts news_after;            /* ... and ends this long after it; both 0 = off */
    int news_impact;             /* lowest impact that starts one (enum tt_impact: low,
                                  * medium, high); 0 = high (non-economic never does) */
} tt_risk_config;

typedef struct tt_risk_gate tt_risk_gate;

/* A new gate. TT_EINVAL naming the field for a negative limit or a drawdown
 * outside [0, 1); TT_ENOMEM; *out is then NULL. TT_OK otherwise. */
int tt_risk_gate_new(tt_risk_gate **out, const tt_risk_config *cfg, tt_err *err);
void tt_risk_gate_free(tt_risk_gate *g); /* NULL is allowed; cannot fail */

/* Check an order command (TT_CMD_SUBMIT; other commands are approved) for a
 * symbol against the account in `p` at time ts. Fills *decision (client id,
 * rule, value, limit, approved) and returns 1 when approved, 0 when rejected.
 * An approved order counts toward the order rate. Cannot fail otherwise (a
 * rejection is a decision, not an error). */
int tt_risk_gate_check(tt_risk_gate *g, const tt_portfolio *p, uint32_t symbol,
                       const tt_order_cmd *cmd, tt_ts ts, tt_risk *decision);

/* Feed the equity now (after fills, at samples). Returns the rule that halted
 * trading by this update (TT_RULE_DAILY_LOSS, TT_RULE_MAX_DRAWDOWN) or
 * TT_RULE_NONE; *decision (may be NULL) then names the numbers. Cannot fail. */
int tt_risk_gate_update(tt_risk_gate *g, const tt_portfolio *p, tt_ts ts, tt_risk *decision);

/* Engage the kill switch: trading stops for good. Cannot fail. */
void tt_risk_gate_kill(tt_risk_gate *g);

/* The rule that currently halts trading at ts (a daily halt ends with its
 * trading day), or TT_RULE_NONE. Cannot fail. */
int tt_risk_gate_halted(const tt_risk_gate *g, tt_ts ts);

/* The news blackout's schedule (NULL when the rule is off): the releases the
 * gate knows of. The run loads it from its external streams before it starts
 * (what a trader reads off the week's calendar), and tt_risk_gate_on_external
 * adds each calendar event received while it runs. */
tt_news *tt_risk_gate_news(tt_risk_gate *g);

/* Add a calendar event (an EXTERNAL event of type economic_calendar, timed) to
 * the schedule. Returns 1 added, 0 not (rule off, not a calendar event,
 * untimed, already known), TT_ENOMEM. */
int tt_risk_gate_on_external(tt_risk_gate *g, const tt_event *ev);

#endif
