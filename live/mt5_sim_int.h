/*
 * Inside the mt5-sim broker model: the state shared by mt5_sim.c (books,
 * deals, ticks, snapshots, faults) and mt5_sim_req.c (the trade requests).
 * Installed with the other headers, but not part of the API: nothing outside
 * those two files includes it.
 */
#ifndef TT_MT5_SIM_INT_H
#define TT_MT5_SIM_INT_H

#include "../core/portfolio.h"
#include "mt5_sim.h"

typedef struct tt_mt5s_fault {
    uint8_t kind;           /* see mt5_sim.c */
    uint64_t every, at, order; /* selectors (order: drop/restart on the Nth request) */
    int64_t ms, down;
    double ratio;
} tt_mt5s_fault;

#define TT_MT5S_MAX_FAULTS 32

typedef struct tt_mt5s_sym {
    int ok;                /* offered (points = 10^digits) */
    tt_mt5_spec spec;
    int have;
    tt_price bid, ask;
    float bv, av;
    int64_t t;
} tt_mt5s_sym;

typedef struct tt_mt5s_order {
    uint64_t ticket, magic;
    uint32_t sym;
    uint8_t type, filling, time;
    int64_t qty;
    tt_price price, stoplimit, sl, tp;
    int64_t exp, t;
    char comment[TT_MT5_COMMENT_MAX];
} tt_mt5s_order;

typedef struct tt_mt5s_horder {
    uint64_t ticket, magic;
    int own;              /* the order a request placed (not the broker's own for SL/TP/SO) */
    uint8_t state;
    int64_t qty, qty_cur; /* steps */
    uint32_t sym;
    int64_t t;
} tt_mt5s_horder;

typedef struct tt_mt5s_meta {
    uint64_t ticket, magic;
    char comment[TT_MT5_COMMENT_MAX];
} tt_mt5s_meta;

struct tt_mt5_sim {
    tt_mt5_sim_config cfg;
    tt_instruments *ins;
    tt_portfolio *books;
    tt_mt5s_sym *sym;
    uint32_t nsym;
    tt_mt5s_order *ord;
    size_t nord, capord;
    tt_mt5s_horder *hist;
    size_t nhist, caphist;
    tt_mt5s_meta *meta;
    size_t nmeta, capmeta;
    tt_mt5_deal *deals;
    size_t ndeals, capdeals;
    uint64_t next_order, next_deal;
    int64_t now;
    tt_mt5s_fault faults[TT_MT5S_MAX_FAULTS];
    int nfaults;
    uint64_t nreq, nticks;
    tt_mt5_deal_fn on_deal;
    tt_mt5_state_fn on_state;
    void *ctx;
    tt_money cap_pnl, cap_swap; /* of the deal being made (trade callback) */
};

/* A deal to make: qty steps at px for order `order` (close_ticket: a hedging
 * position to reduce). */
typedef struct tt_mt5s_dreq {
    uint32_t sym;
    int side;
    int64_t qty;
    tt_price px, sl, tp;
    uint64_t order, magic, close_ticket;
    int reason;
    const char *comment;
} tt_mt5s_dreq;

/* The deal (recorded, reported) or NULL when the books refused it. */
const tt_mt5_deal *tt_mt5s_deal(tt_mt5_sim *s, const tt_mt5s_dreq *r);
/* An order left the book (or a market order was done): record, report. */
void tt_mt5s_hist(tt_mt5_sim *s, uint64_t ticket, uint64_t magic, uint32_t sym, int state,
                  int64_t qty, int64_t qty_cur);
/* Steps of qty that open exposure; 1 when the free margin covers them. */
int64_t tt_mt5s_opening(const tt_mt5_sim *s, uint32_t sym, int side, int64_t qty,
                        uint64_t close_ticket);
int tt_mt5s_money_ok(const tt_mt5_sim *s, uint32_t sym, int64_t qty);
/* The symbol's position in a netting account (NULL when flat). */
const tt_position *tt_mt5s_net_position(const tt_mt5_sim *s, uint32_t sym);
/* A wire price in points (0 when off the symbol's grid or negative: *ok = 0). */
tt_price tt_mt5s_points(const tt_mt5_sim *s, uint32_t sym, tt_mt5_dec v, int *ok);
int tt_mt5s_grow(void **v, size_t *cap, size_t n, size_t size);
/* A pending order that triggered at px: margin check, deal, history. */
void tt_mt5s_fill_pending(tt_mt5_sim *s, size_t i, tt_price px);

#endif
