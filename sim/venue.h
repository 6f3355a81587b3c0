/*
 * ticktape: the simulated venue (a broker in a box).
 *
 * Implements the tt_venue port: takes order commands, matches them against the
 * quote stream, and answers with TT_EV_ORDER_EVENT events through
 * tt_engine_schedule. It keeps its own books (a tt_portfolio: the broker's
 * side of the account) to decide margin, margin calls and stop-outs. The rules
 * with their formulas are in docs/venue.md; in short:
 *
 *   latency    a command sent at t reaches the venue at t + latency_ns; there
 *              it is accepted (or rejected) and a market order fills at the
 *              quote in force then: the ask for buys, the bid for sells.
 *              Responses are stamped with that arrival time.
 *   triggers   resting orders are checked on every quote of their symbol:
 *              buy limit when ask <= price, sell limit when bid >= price, fill
 *              at the limit price (at the quote if it was already better on
 *              arrival); buy stop when ask >= stop, sell stop when bid <= stop,
 *              fill at the quote, so a gap through the stop fills at the worse
 *              price; a stop-limit becomes a limit at `price` when triggered.
 *              Attached stop-loss / take-profit close their position: a
 *              stop-loss at the quote (worse on a gap), a take-profit at its
 *              price.
 *   slippage   market orders and triggered stops move against the trader by
 *              a fixed number of points or by a uniform draw in [0, points]
 *              from the seeded stream "venue/slippage".
 *   commission per lot (minor units per lot per side) or per notional (a
 *              fraction of the deal's notional per side), converted to the
 *              account currency; reported in each fill's order event.
 *   swaps      at the daily rollover (core/portfolio.h: 17:00 New York,
 *              Mon..Fri, triple on Wednesday) from the instrument's rates.
 *   margin     leverage; an order that would leave free margin negative is
 *              rejected (TT_REASON_NO_MONEY); at or below margin_call_level
 *              (percent) only orders that reduce exposure are taken and a
 *              TT_EV_RISK (TT_RULE_MARGIN_CALL) is emitted once per crossing;
 *              at or below stop_out_level the most losing position is closed
 *              (TT_REASON_STOP_OUT), again until the level recovers.
 *   modes      netting or hedging, as core/portfolio.h describes.
 *   partial    with max_fill_qty > 0 at most that qty fills per quote, so
 *              larger orders fill in parts across quotes (IOC cancels the
 *              rest, FOK is rejected when it cannot fill whole at once).
 *   GTD        a resting order expires at the first event at or after expire_ts.
 *
 * Venue-initiated deals (stop-loss, take-profit, stop-out) are order events
 * with client_id 0, venue_id = the position ticket, status FILLED.
 * Fills always carry venue_id = the ticket of the position they opened or
 * reduced. It keeps the venue contract of core/engine.h (tt_venue): that is
 * all a run takes from it, so another venue can stand in its place
 * (tt_backtest_set_venue). A response the engine's queue has no room for
 * fails the run (tt_engine_fail) instead of being dropped.
 *
 * Per tick the venue stores the quote (the books take it lazily, before
 * anything reads or changes them) and compares it with the symbol's box of
 * quotes that need nothing else (four comparisons): with no resting order
 * and no attached exit, every quote when nothing is open, else the books'
 * margin screen box. Outside it the venue matches orders and checks exits
 * and margin: O(open orders + positions), no allocation.
 */
#ifndef TT_SIM_VENUE_H
#define TT_SIM_VENUE_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/parse.h"
#include "../core/portfolio.h"

enum tt_slippage_model { TT_SLIP_NONE = 0, TT_SLIP_FIXED = 1, TT_SLIP_RANDOM = 2 };
enum tt_commission_model { TT_COMM_NONE = 0, TT_COMM_PER_LOT = 1, TT_COMM_PER_NOTIONAL = 2 };

/* Source id of the venue's own events (responses and internal arrivals). */
#define TT_VENUE_SOURCE 0xFF00u

typedef struct tt_venue_config {
    tt_portfolio_config account; /* currency, initial balance, mode, leverage, swaps */
    int64_t latency_ns;          /* command travel time; default 0 */
    uint8_t slippage;            /* enum tt_slippage_model */
    int64_t slippage_points;     /* FIXED: points against; RANDOM: max points */
    uint8_t commission;          /* enum tt_commission_model */
    tt_money commission_per_lot; /* PER_LOT: minor units per lot per side */
    double commission_rate;      /* PER_NOTIONAL: fraction of notional per side */
    double margin_call_level;    /* percent (100 = equity equals margin); 0 = off */
    double stop_out_level;       /* percent; 0 = off */
    int64_t max_fill_qty;        /* per quote; 0 = unlimited */
    uint64_t seed;               /* scenario seed (slippage stream) */
} tt_venue_config;

/* Defaults: USD account, 10,000.00 balance, netting, leverage 100, swaps on,
 * no latency, no slippage, no commission, margin call 100%, stop-out 50%.
 * Cannot fail. */
void tt_venue_config_default(tt_venue_config *cfg);

typedef struct tt_sim_venue tt_sim_venue;

/* A venue over an instrument table (borrowed). Returns 0 with *out set, or
 * TT_EINVAL naming the field (negative latency, bad model, stop-out above
 * margin call, ...) or TT_ENOMEM, with *out NULL. */
int tt_sim_venue_new(tt_sim_venue **out, const tt_instruments *instruments,
                     const tt_venue_config *cfg, tt_err *err);
/* NULL is a no-op. */
void tt_sim_venue_free(tt_sim_venue *v);

/* The port to pass to tt_engine_set_venue (or tt_backtest_set_venue); cannot
 * fail. Its on_market and on_arrival hooks take market data and the venue's
 * own arrivals before any component; totals() gives the figures below. The
 * port's command() returns 0, TT_ESTATE before attach, or the engine's
 * schedule error (TT_ENOMEM). */
tt_venue tt_sim_venue_port(tt_sim_venue *v);

/* The broker's books (read-only), given the last quotes first. Never NULL. */
const tt_portfolio *tt_sim_venue_books(const tt_sim_venue *v);

/* Totals so far (account minor units): commissions charged, swaps credited;
 * fills made and positions stopped out. These cannot fail. */
tt_money tt_sim_venue_commissions(const tt_sim_venue *v);
tt_money tt_sim_venue_swaps(const tt_sim_venue *v);
uint64_t tt_sim_venue_fills(const tt_sim_venue *v);
uint64_t tt_sim_venue_stop_outs(const tt_sim_venue *v);

/* The words of the models and modes (tt_parse_enum tables; the scenario key
 * table uses them too), and parsers of one word (any letter case). The
 * parsers return -1 when the word is unknown. */
extern const tt_enum_value tt_slippage_models[];   /* none|fixed|random */
extern const tt_enum_value tt_commission_models[]; /* none|per_lot|per_notional */
extern const tt_enum_value tt_position_modes[];    /* netting|hedging */
int tt_slippage_model_parse(const char *s);
int tt_commission_model_parse(const char *s);
int tt_position_mode_parse(const char *s);

#endif
