/*
 * ticktape live: the broker model of `ticktape mt5-sim`, a MetaTrader 5
 * trade server in a box. It speaks the terminal's side of live/mt5_proto.h
 * in structs: trade requests in (tt_mt5_order), MqlTradeResult-like results
 * out (tt_mt5_result), deals as OnTradeTransaction reports them (tt_mt5_deal,
 * through a callback), order states, positions and orders for snapshots, the
 * account. The network side (live/mt5_term.h) streams a tape through it.
 *
 * MT5's rules it applies (docs/mt5-protocol.md, "mt5-sim"):
 *   volume     vmin <= vol <= vmax and a whole number of vstep, else 10014;
 *   filling    FOK and IOC only when the symbol's filling flags allow them,
 *              RETURN only for pending orders (market execution), else 10030;
 *   stops      SL/TP at least `stops` points away from the price the
 *              position closes at (bid for longs, ask for shorts; the order
 *              price for pending orders), on the right side, else 10016; a
 *              pending price at least `stops` points from the market, on the
 *              right side, else 10015;
 *   freeze     an order or position within `freeze` points of its trigger
 *              cannot be modified or removed: 10029;
 *   trade mode disabled 10017, long/short/close only 10042/10043/10044;
 *   money      an order whose margin exceeds the free margin: 10019 (checked
 *              again when a pending order triggers: then it is rejected);
 *   accounts   netting (one position per symbol; an opposite deal reduces,
 *              closes or reverses it, keeping its position id) or hedging
 *              (every deal in opens a position, ticket = its order's; a close
 *              names the position: unknown 10036, too large 10038);
 *   costs      commission per lot per side on every deal (the spec's `comm`,
 *              reported negative as MT5 does), swaps at the rollover
 *              (core/portfolio.h) reported on the closing deal;
 *   triggers   on every tick, in placement order: expiry, limits (at the
 *              order price or better), stops (at the market, worse on a
 *              gap), stop-limits (become limits); then SL/TP of positions
 *              (at the market), then the stop-out (the most losing position
 *              first, while the margin level is at or below stop_out).
 *
 * Faults (tt_mt5_sim_fault, the --fault SPEC grammar in the docs) are
 * decided per trade request in tt_mt5_sim_admit and applied by
 * tt_mt5_sim_execute; the connection faults (drop, restart, noreply) are
 * the network side's to carry out.
 *
 * Everything is deterministic given the ticks and the requests: no clock,
 * no randomness.
 */
#ifndef TT_MT5_SIM_H
#define TT_MT5_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"
#include "mt5_proto.h"

typedef struct tt_mt5_sim_config {
    uint8_t mode;           /* TT_MT5_NETTING or TT_MT5_HEDGING */
    char currency[8];       /* "USD" */
    tt_money balance;       /* initial, minor units (cents) */
    double leverage;        /* 100 */
    double stop_out;        /* margin level percent; 0 = off */
    int32_t tz;             /* trade-server time minus UTC, seconds */
    uint64_t login;
    /* every symbol's specification (the instrument table gives digits,
     * contract size, vstep, swaps, margin rate and currencies) */
    uint32_t stops, freeze; /* points */
    uint32_t filling;       /* TT_MT5_FILLING_*_FLAG */
    tt_mt5_dec vmin, vmax;
    tt_mt5_dec comm;        /* per lot per side, account currency */
} tt_mt5_sim_config;

/* USD 10,000.00 netting, leverage 100, stop-out 50%, server time UTC+2,
 * login 5012345, stops 0, freeze 0, FOK|IOC, vmin 0.01, vmax 500, no commission. */
void tt_mt5_sim_config_default(tt_mt5_sim_config *c);

typedef struct tt_mt5_sim tt_mt5_sim;

/* A broker over the instruments of ins (copied). TT_EINVAL naming the field,
 * TT_ENOMEM. */
int tt_mt5_sim_new(tt_mt5_sim **out, const tt_instruments *ins, const tt_mt5_sim_config *cfg,
                   tt_err *err);
void tt_mt5_sim_free(tt_mt5_sim *s);

/* Add a fault: "KIND[:key=value[,key=value]...]". TT_EINVAL naming the kind
 * or key (docs/mt5-protocol.md, "Faults"). */
int tt_mt5_sim_fault(tt_mt5_sim *s, const char *spec, tt_err *err);

/* Deals and order states as they happen (OnTradeTransaction). */
typedef void (*tt_mt5_deal_fn)(void *ctx, const tt_mt5_deal *d);
typedef void (*tt_mt5_state_fn)(void *ctx, const tt_mt5_state *st);
void tt_mt5_sim_callbacks(tt_mt5_sim *s, tt_mt5_deal_fn deal, tt_mt5_state_fn state, void *ctx);

/* Symbols: the id of a name (0 when unknown) and its SPEC. */
uint32_t tt_mt5_sim_symbol(const tt_mt5_sim *s, const char *name);
int tt_mt5_sim_spec(const tt_mt5_sim *s, uint32_t sym, tt_mt5_spec *out);

/* A tick of symbol sym at server time t_ms (points of the instrument):
 * matching, SL/TP, stop-out; deals and states go to the callbacks. The rollover
 * (swaps) is applied first. Ticks must not go back in time. */
void tt_mt5_sim_quote(tt_mt5_sim *s, uint32_t sym, int64_t t_ms, tt_price bid, tt_price ask,
                      float bid_vol, float ask_vol);
/* The last tick of a symbol as a TICK frame; 0, or TT_ENOTFOUND before the first. */
int tt_mt5_sim_tick(const tt_mt5_sim *s, uint32_t sym, tt_mt5_tick *out);
int64_t tt_mt5_sim_now(const tt_mt5_sim *s); /* server ms of the last tick */

/* ---- requests ---- */

/* What the faults decided for one request. */
typedef struct tt_mt5_sim_plan {
    int64_t latency_ms;  /* execute this much later */
    uint32_t retcode;    /* forced answer (requote, reject, no money, market closed,
                            invalid stops); 0 = none */
    double partial;      /* > 0: only this share of the volume is available */
    int drop;            /* drop the connection after executing, before answering */
    int64_t down_ms;     /* ... and stay away this long */
    int noreply;         /* execute, but send neither the result nor its deals */
} tt_mt5_sim_plan;

/* Count the request and decide its faults (deal and pending requests are
 * counted: 1, 2, ...; the others only see faults without a selector). */
void tt_mt5_sim_admit(tt_mt5_sim *s, const tt_mt5_order *req, tt_mt5_sim_plan *plan);
/* Carry it out at the current tick; deals go to the callback before this returns. */
void tt_mt5_sim_execute(tt_mt5_sim *s, const tt_mt5_order *req, const tt_mt5_sim_plan *plan,
                        tt_mt5_result *res);

/* A tick was sent to the terminal's client (1, 2, ...): 1 when a drop or a
 * restart fault says the connection goes now (*down_ms: how long it stays
 * away; *restart: 1 for a restart), else 0. */
int tt_mt5_sim_tick_sent(tt_mt5_sim *s, int64_t *down_ms, int *restart);

/* ---- state ---- */

/* QUERY: the order by ticket (q->order) or else by magic, the deals of it
 * through the callback first (so the state comes after them), then *out
 * (state none when not found). */
void tt_mt5_sim_query(tt_mt5_sim *s, const tt_mt5_query *q, tt_mt5_state *out);
/* HISTORY: every deal at or after from_ms, through the callback; returns the count. */
uint32_t tt_mt5_sim_history(tt_mt5_sim *s, int64_t from_ms);

size_t tt_mt5_sim_positions(const tt_mt5_sim *s);
void tt_mt5_sim_position(const tt_mt5_sim *s, size_t i, tt_mt5_pos *out);
size_t tt_mt5_sim_orders(const tt_mt5_sim *s);
void tt_mt5_sim_order(const tt_mt5_sim *s, size_t i, tt_mt5_ord *out);
void tt_mt5_sim_account(const tt_mt5_sim *s, tt_mt5_account *out);

size_t tt_mt5_sim_deals(const tt_mt5_sim *s);
const tt_mt5_deal *tt_mt5_sim_deal(const tt_mt5_sim *s, size_t i);
/* The deal log, one CSV row per deal (header in docs/mt5-protocol.md). */
int tt_mt5_sim_write_deals(const tt_mt5_sim *s, const char *path, tt_err *err);

#endif
