/*
 * ticktape: the portfolio, an account model.
 *
 * A tt_portfolio holds one trading account: its balance, its open positions,
 * and the last quote of every symbol (to mark positions to market and to
 * convert money between currencies). It is fed fills, quotes and the daily
 * rollover, and answers: positions, realized and unrealized P&L, equity,
 * margin, free margin, margin level, exposure, all in integer minor units of
 * the account currency.
 *
 * The same code serves two places: the strategy side's view of its account
 * (fed by the venue's order events) and the simulated venue's books (the
 * broker's side, which decides margin calls and stop-outs). Fed the same
 * fills, quotes and rollovers, both give the same numbers.
 *
 * Units.
 *   qty    an integer count of the instrument's volume_step lots (with the
 *          default step 0.01, qty 100 is one lot). Base units per qty =
 *          volume_step * contract_size (1000 EUR for EURUSD).
 *   price  integer points of the instrument.
 *   money  integer minor units of the account currency (cents for USD); the
 *          number of minor units per unit is in the config (default 100).
 *
 * P&L of a move of d points on q qty, in the quote currency:
 *     d / points * q * volume_step * contract_size
 * converted to the account currency (see "conversion") and rounded to the
 * nearest minor unit (half away from zero) once per fill or mark.
 *
 * Conversion. An amount in currency C becomes account currency A through the
 * last quote of a symbol that pairs them: CA (multiply by its mid) or AC
 * (divide by its mid); failing both, through USD (C->USD->A). mid is
 * (bid + ask) / 2 as a double. No quote yet: the conversion fails and the
 * caller decides (the venue rejects the order with TT_REASON_NO_RATE).
 *
 * Positions. Netting mode: one position per symbol; a fill in the other
 * direction reduces it, closes it, or reverses it (the excess opens a new
 * position). Hedging mode (as MetaTrader 5): every fill that does not name a
 * position opens a new one; a fill that names a position (its ticket) reduces
 * that one. A position's ticket is the client id of the order that opened it.
 * Entry price of a netting position grown by several fills is the
 * qty-weighted average (kept exactly as a sum of price * qty).
 *
 * Margin (MT5 "Forex" mode, current price): for each position,
 *     qty * volume_step * contract_size * mid / points / leverage * margin_rate
 * in the quote currency, converted. Hedged positions are margined each in
 * full (no hedged-margin discount).
 *
 * Swaps at the daily rollover: 17:00 New York time (21:00 UTC during US
 * daylight saving time, 22:00 UTC otherwise, from the US rules since 2007:
 * second Sunday of March to first Sunday of November), Monday to Friday, and
 * triple on Wednesday (covering the weekend). A position open at the rollover
 * is credited swap_long / swap_short points per lot (instrument table) per
 * night: points / points_per_unit * lots * contract_size in the quote
 * currency, converted.
 *
 * No allocation on the per-tick path; positions live in an array that grows
 * only when more positions are open at once than ever before.
 */
#ifndef TT_PORTFOLIO_H
#define TT_PORTFOLIO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"
#include "instrument.h"
#include "metrics.h"

enum tt_position_mode { TT_MODE_NETTING = 1, TT_MODE_HEDGING = 2 };

typedef struct tt_portfolio_config {
    char currency[8];        /* account currency, "USD" */
    tt_money initial_balance;/* minor units */
    int64_t minor_per_unit;  /* minor units per currency unit; 0 = 100 */
    uint8_t mode;            /* enum tt_position_mode; 0 = netting */
    double leverage;         /* 0 = 100 */
    int swaps;               /* 1: charge swaps at the rollover */
} tt_portfolio_config;

/* One open position (plain data, read-only for users). */
typedef struct tt_position {
    uint64_t ticket;      /* client id of the order that opened it */
    uint32_t symbol;
    int8_t side;          /* TT_BUY (+1) or TT_SELL (-1) */
    int64_t qty;          /* > 0 */
    int64_t cost;         /* sum of price * qty over the entry fills (points * qty) */
    tt_ts open_ts;
    tt_price stop_loss;   /* 0 = none */
    tt_price take_profit; /* 0 = none */
    tt_money commission;  /* entry commission not yet assigned to a closed trade */
    tt_money swap;        /* swap credited (negative = paid) not yet assigned */
    /* most adverse / favourable excursion, points x qty (<= 0 / >= 0): kept
     * exact as of the last fill of the symbol; quotes since then are folded
     * in when a fill or close_all needs them (closed trades are exact) */
    int64_t worst_move;
    int64_t best_move;
} tt_position;

/* A fill to apply (from an order event). */
typedef struct tt_fill {
    uint32_t symbol;
    int8_t side;          /* direction of the deal: TT_BUY or TT_SELL */
    int64_t qty;          /* > 0 */
    tt_price price;
    tt_money commission;  /* paid for this fill (>= 0) */
    uint64_t order_id;    /* client id of the order (0 for venue-initiated deals) */
    uint64_t position;    /* hedging: ticket of the position to reduce; 0 = open new */
    tt_price stop_loss, take_profit; /* attached to a newly opened position */
    uint8_t close_reason; /* enum tt_trade_close_reason for what this fill closes */
    tt_ts ts;
} tt_fill;

/* Receives each closed trade (a position closed in full or in part). */
typedef void (*tt_trade_fn)(void *ctx, const tt_trade_record *t);

/* A snapshot of the account. */
typedef struct tt_account {
    tt_money balance;      /* initial + realized - commissions + swaps */
    tt_money equity;       /* balance + unrealized */
    tt_money unrealized;
    tt_money margin;
    tt_money free_margin;  /* equity - margin */
    double margin_level;   /* equity / margin * 100; +inf with no margin */
    tt_money exposure;     /* gross notional of open positions (>= 0) */
    tt_money realized;     /* sum of gross realized P&L */
    tt_money commissions;  /* paid so far (>= 0) */
    tt_money swaps;        /* credited so far (negative = paid) */
    int64_t net_qty;       /* net signed qty summed over symbols */
} tt_account;

typedef struct tt_portfolio tt_portfolio;

/* A new account over an instrument table (borrowed). TT_OK, or TT_EINVAL
 * naming the field (currency not 3 letters, leverage <= 0, negative balance,
 * unknown mode) or TT_ENOMEM. */
int tt_portfolio_new(tt_portfolio **out, const tt_instruments *instruments,
                     const tt_portfolio_config *cfg, tt_err *err);
void tt_portfolio_free(tt_portfolio *p); /* NULL is fine */

/* Closed trades go to fn (may be NULL). Cannot fail. */
void tt_portfolio_on_trade(tt_portfolio *p, tt_trade_fn fn, void *ctx);

/* The last quote of a symbol: O(1), no allocation, whatever is open. Also
 * tracks the symbol's price extremes, from which the excursions of its open
 * positions are brought up to date at the next fill. Cannot fail. */
void tt_portfolio_quote(tt_portfolio *p, uint32_t symbol, tt_price bid, tt_price ask);
/* tt_portfolio_quote of n quotes of one symbol (bid and ask > 0), in order
 * (the engine's quiet path, core/engine.h). Cannot fail. */
void tt_portfolio_quotes(tt_portfolio *p, uint32_t symbol, const tt_price *bid,
                         const tt_price *ask, int n);

/* The last quote seen for a symbol: 1, or 0 when none yet or the id is out of
 * range (then *q is zeroed). */
int tt_portfolio_last_quote(const tt_portfolio *p, uint32_t symbol, tt_quote *q);

/* Apply a fill. Realized P&L of what it closes goes to the balance and to the
 * trade callback. TT_OK, or (nothing changed) TT_EINVAL for a bad symbol,
 * side or qty, TT_ENOTFOUND for an unknown hedging ticket or a qty above that
 * position's, TT_ESTATE when a needed conversion rate is missing, TT_ENOMEM
 * when a position the fill opens finds no room. */
int tt_portfolio_fill(tt_portfolio *p, const tt_fill *f, tt_err *err);

/* Set the attached stop-loss / take-profit of a position (0 = none). TT_OK, or
 * TT_ENOTFOUND (no tt_err) for a ticket that is not open. */
int tt_portfolio_set_exits(tt_portfolio *p, uint64_t ticket, tt_price sl, tt_price tp);

/* Time has reached ts: apply every rollover at or before ts not applied yet
 * (swaps, when enabled). Cheap when no rollover is due (one comparison).
 * Returns the swap money credited (negative = paid) by this call. Cannot fail:
 * a position whose swap cannot be converted (no rate yet) is not charged. */
tt_money tt_portfolio_advance(tt_portfolio *p, tt_ts ts);

/* Equity and margin (account minor units, unrounded doubles) in one cheap
 * pass without exposure: the venue's per-tick margin screen before the exact
 * figures of tt_portfolio_account. Cannot fail. */
void tt_portfolio_margin_state(const tt_portfolio *p, double *equity, double *margin);

/* Per-quote margin screen, called after the quote of `symbol` was applied:
 * 0 when the margin level is certainly above `level` percent (by at least
 * 0.01), 1 when it may be at or below it (then compute tt_portfolio_account).
 * After one full check it keeps, per symbol, a box of bid/ask prices inside
 * which the level cannot fall that far; a quote inside costs four
 * comparisons. Fills and swaps reset the box. Cannot fail. */
int tt_portfolio_margin_screen(tt_portfolio *p, uint32_t symbol, double level);

/* The screen's box for `symbol` (box = bid_lo, bid_hi, ask_lo, ask_hi, in
 * points) when its bounds for `level` are in force, with the generation of
 * those bounds (> 0; a new one each time the screen sets them); 0 when none
 * are in force (then *box is untouched). A caller that screens quotes before
 * handing them on (the venue) may keep the boxes of one generation: while
 * every quote of every symbol since lies inside its symbol's box and no fill
 * or swap touched the account, the screen would answer 0. */
uint64_t tt_portfolio_margin_box(const tt_portfolio *p, uint32_t symbol, double level,
                                 tt_price box[4]);

/* The time of the next rollover tt_portfolio_advance will apply (TT_TS_MIN
 * before the first advance): callers on the tick path compare against it
 * instead of calling advance on every event. Cannot fail. */
tt_ts tt_portfolio_next_rollover(const tt_portfolio *p);

/* The account now (unrealized marked at the last quotes: longs at the bid,
 * shorts at the ask). O(open positions). These valuations cannot fail: a
 * position of a symbol with no quote yet counts 0. */
void tt_portfolio_account(const tt_portfolio *p, tt_account *out);
/* The balance alone (O(1)); the equity alone (O(open positions)). */
tt_money tt_portfolio_balance(const tt_portfolio *p);
tt_money tt_portfolio_equity(const tt_portfolio *p);

/* Unrealized P&L of one position at the last quote, account minor units (0
 * with no quote yet). */
tt_money tt_portfolio_position_pnl(const tt_portfolio *p, const tt_position *pos);

/* Margin that qty of a symbol would need at the last quote (account minor
 * units). TT_OK, or TT_ESTATE when the quote or a rate is missing (*out
 * untouched). */
int tt_portfolio_margin_for(const tt_portfolio *p, uint32_t symbol, int64_t qty, tt_money *out,
                            tt_err *err);

/* Notional of qty of a symbol at the last mid, account minor units. TT_OK, or
 * TT_ESTATE as tt_portfolio_margin_for. */
int tt_portfolio_notional(const tt_portfolio *p, uint32_t symbol, int64_t qty, tt_money *out,
                          tt_err *err);

/* Convert `amount` units of `currency` (a double, e.g. 12.5 JPY) to account
 * minor units, rounded half away from zero. TT_OK, or TT_ESTATE (*out
 * untouched) when no instrument converts it or no rate is known yet. */
int tt_portfolio_convert(const tt_portfolio *p, const char *currency, double amount,
                         tt_money *out, tt_err *err);

/* Net signed qty of a symbol (longs minus shorts, over all its positions); 0
 * for an unknown id. Cannot fail. */
int64_t tt_portfolio_net_qty(const tt_portfolio *p, uint32_t symbol);

/* Open positions, in opening order: count and the i-th (NULL out of range).
 * Pointers are valid until the next fill. find: NULL when the ticket is not open. */
size_t tt_portfolio_count(const tt_portfolio *p);
const tt_position *tt_portfolio_position(const tt_portfolio *p, size_t i);
const tt_position *tt_portfolio_find(const tt_portfolio *p, uint64_t ticket);

/* Close every open position at the last quote as TT_CLOSE_END trades (end of a
 * run): the trade callback sees them; the balance takes the P&L. Cannot fail:
 * a position that cannot be valued (no quote, no rate) is dropped unvalued. */
void tt_portfolio_close_all(tt_portfolio *p, tt_ts ts, uint8_t reason);

/* The configuration in force (defaults filled in) and the instrument table.
 * Cannot fail. */
const tt_portfolio_config *tt_portfolio_config_of(const tt_portfolio *p);
const tt_instruments *tt_portfolio_instruments(const tt_portfolio *p);

/* ---- the New York rollover (17:00 America/New_York, no TZ database) ----
 * Pure functions of the time: none of them can fail. */

/* 1 when US daylight saving time is in force at UTC instant ts (rules since
 * 2007: from 2:00 local on the second Sunday of March to 2:00 local on the
 * first Sunday of November). */
int tt_ny_dst(tt_ts ts);

/* The first rollover (17:00 New York on a Monday..Friday) strictly after ts.
 * *multiplier receives 3 for Wednesday, else 1 (may be NULL). */
tt_ts tt_rollover_next(tt_ts ts, int *multiplier);

/* The start of the trading day containing ts: the latest 17:00 New York at or
 * before ts (any weekday). Used for "daily" limits. */
tt_ts tt_trading_day_start(tt_ts ts);

#endif
