/*
 * ticktape: order management.
 *
 * The order manager (tt_orders) owns the lifecycle of a run's orders:
 *
 *     pending ──► submitted ──► accepted ──► partially filled ──► filled
 *        │            │            │  ▲            │
 *        ▼            ▼            │  └ modified   ├──► cancelled
 *     rejected     rejected        ├──► filled     └──► expired
 *     (risk)       (venue)         ├──► cancelled
 *                                  └──► expired
 *
 * (a venue may also go straight from submitted to filled, cancelled or
 * expired: IOC/FOK orders.) Every transition is a TT_EV_ORDER_EVENT with a
 * reason code; the manager checks each against the lifecycle, so an event that
 * would move an order backwards (a fill after a cancel) is refused with an
 * error rather than silently applied.
 *
 * Client order ids are assigned by the manager: 1, 2, 3, ... in submission
 * order, so they are unique within a run and the same in every run.
 *
 * Memory: only live orders (not yet in a terminal state) are kept, in a small
 * array searched linearly (O(open orders)); a terminal order is forgotten.
 */
#ifndef TT_ORDER_H
#define TT_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"

/* Why an order event happened (tt_order_event.reason). */
enum tt_order_reason {
    TT_REASON_NONE = 0,
    TT_REASON_NEW = 1,            /* pending: created by the strategy */
    TT_REASON_RISK_OK = 2,        /* submitted: passed the risk gate */
    TT_REASON_RISK = 3,           /* rejected by the risk gate (a TT_EV_RISK names the rule) */
    TT_REASON_ACCEPTED = 4,       /* the venue took it */
    TT_REASON_FILL = 5,           /* (partial) fill */
    TT_REASON_CANCEL_REQUEST = 6, /* cancelled on the strategy's request */
    TT_REASON_IOC = 7,            /* IOC remainder cancelled */
    TT_REASON_FOK = 8,            /* FOK could not fill in full */
    TT_REASON_GTD = 9,            /* GTD expiry time reached */
    TT_REASON_NO_MONEY = 10,      /* not enough free margin */
    TT_REASON_MARGIN_CALL = 11,   /* account below the margin-call level: no new exposure */
    TT_REASON_INVALID = 12,       /* malformed order (qty, prices, type, tif) */
    TT_REASON_NO_QUOTE = 13,      /* no quote for the symbol yet */
    TT_REASON_NO_RATE = 14,       /* no quote to convert to the account currency */
    TT_REASON_UNKNOWN_ORDER = 15, /* cancel/modify of an order the venue does not hold */
    TT_REASON_STOP_LOSS = 16,     /* venue deal: attached stop-loss hit */
    TT_REASON_TAKE_PROFIT = 17,   /* venue deal: attached take-profit hit */
    TT_REASON_STOP_OUT = 18,      /* venue deal: margin stop-out */
    TT_REASON_MODIFIED = 19,      /* modify applied */
    TT_REASON_NO_POSITION = 20,   /* hedging close of a position that is not open */
    TT_REASON_HALTED = 21,        /* trading halted (daily loss, drawdown, kill switch) */
    TT_REASON_FLATTEN = 22,       /* closed or cancelled by the risk gate's flatten */
    TT_REASON_END = 23,           /* run ended */
    /* a live venue (live/mt5_venue.h) */
    TT_REASON_VOLUME = 24,        /* volume outside the symbol's min/max or off its step */
    TT_REASON_STOPS_LEVEL = 25,   /* a price or SL/TP too close to the market (stops level) */
    TT_REASON_FILLING = 26,       /* the symbol takes no such time in force / filling */
    TT_REASON_TRADE_DISABLED = 27,/* trading the symbol is disabled or restricted */
    TT_REASON_DISCONNECTED = 28,  /* the venue is not connected (or not in sync yet) */
    TT_REASON_STALE = 29,         /* the venue's last quote of the symbol is too old */
    TT_REASON_REQUOTE = 30,       /* the broker requoted: nothing was done */
    TT_REASON_MARKET_CLOSED = 31, /* the market is closed */
    TT_REASON_BROKER = 32,        /* refused by the broker (the return code is logged) */
    TT_REASON_NO_ANSWER = 33,     /* unanswered, and the broker does not know the order */
    TT_REASON_RECONCILE = 34,     /* venue deal: the books brought in line with the broker's */
    TT_REASON_COUNT
};

/* "new", "risk", "fill", "ioc", ... ("?" when unknown). Cannot fail. */
const char *tt_order_reason_name(int reason);

/* A live order (plain data, read-only for users). */
typedef struct tt_order {
    tt_order_cmd cmd;     /* as submitted (cmd.client_id is the id) */
    uint32_t symbol;
    uint8_t status;       /* enum tt_order_status */
    uint16_t reason;      /* of the last transition */
    int64_t filled_qty;
    int64_t fill_cost;    /* sum of price * qty over fills (average = cost / filled) */
    tt_ts created;
    tt_ts updated;
} tt_order;

typedef struct tt_orders tt_orders;

tt_orders *tt_orders_new(void); /* NULL on out of memory */
void tt_orders_free(tt_orders *o); /* NULL is allowed; cannot fail */

/* Register a new order: assigns the next client id (written to cmd->client_id),
 * checks the command (qty > 0, side, type, tif, prices the type needs, GTD
 * expiry) and fills *ev with its PENDING event (symbol, ts set). An invalid
 * command still gets an id and is registered then rejected: *ev is its
 * REJECTED event with TT_REASON_INVALID and the function returns TT_EINVAL
 * with the field named in err. TT_ENOMEM when the table cannot grow (nothing
 * registered, no id used, *ev untouched). TT_OK otherwise. */
int tt_orders_create(tt_orders *o, uint32_t symbol, tt_order_cmd *cmd, tt_ts ts, tt_event *ev,
                     tt_err *err);

/* Move an order to `status` on our own side (SUBMITTED after the risk gate,
 * REJECTED by it) and fill *ev with the event. TT_ENOTFOUND for an unknown
 * id, TT_ESTATE for a transition the lifecycle forbids (err names both states);
 * the order and *ev are then unchanged. TT_OK otherwise. */
int tt_orders_transition(tt_orders *o, uint64_t client_id, int status, int reason, tt_ts ts,
                         tt_event *ev, tt_err *err);

/* Apply an order event from the venue. Returns 1 when it is a transition of a
 * live order (the order is updated; when terminal it is forgotten), 0 when it
 * concerns no order of ours (client id 0: a venue-initiated deal such as a
 * stop-loss, take-profit or stop-out), TT_ENOTFOUND for an unknown id,
 * TT_ESTATE for a forbidden transition (the order is unchanged). */
int tt_orders_apply(tt_orders *o, const tt_event *ev, tt_err *err);

/* Record new prices of a live order (sent as a modify). TT_OK, or TT_ENOTFOUND
 * (no tt_err) when it is not live. */
int tt_orders_set_prices(tt_orders *o, uint64_t client_id, tt_price price, tt_price stop_price,
                         tt_price stop_loss, tt_price take_profit);

/* 1 when `to` may follow `from` in the lifecycle, else 0 (unknown states too). */
int tt_order_transition_ok(int from, int to);
/* 1 for FILLED, CANCELLED, REJECTED, EXPIRED, FAILED, else 0. */
int tt_order_status_terminal(int status);

/* A live order by id; NULL when unknown or already terminal. */
const tt_order *tt_orders_get(const tt_orders *o, uint64_t client_id);

/* Live orders in creation order: count and the i-th (NULL when out of range). */
size_t tt_orders_count(const tt_orders *o);
const tt_order *tt_orders_at(const tt_orders *o, size_t i);

uint64_t tt_orders_last_id(const tt_orders *o); /* the last id handed out; 0 before any */

#endif
