/*
 * ticktape: the event model.
 *
 * Every input and every output of the engine is a tt_event: plain data, fixed
 * size (96 bytes), no pointers except the borrowed payload of blob events.
 *
 * Time is UTC nanoseconds since the Unix epoch (tt_ts). Prices are integers in
 * the instrument's points (EURUSD 1.14427 is 114427 with 100000 points per
 * unit). Money is an integer in minor units of the account currency.
 *
 * The engine orders events by (ts, cls, source, seq): a total order, so two
 * runs see the same sequence. `cls` is derived from the kind (tt_event_class_of)
 * so that, at equal timestamps, control comes first, then venue responses,
 * then timers, then market data, then external data.
 */
#ifndef TT_EVENT_H
#define TT_EVENT_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t tt_ts;    /* UTC ns since epoch */
typedef int64_t tt_price; /* instrument points */
typedef int64_t tt_money; /* minor units of the account currency */

#define TT_NS_PER_US 1000LL
#define TT_NS_PER_MS 1000000LL
#define TT_NS_PER_SEC 1000000000LL
#define TT_NS_PER_MIN (60LL * TT_NS_PER_SEC)
#define TT_NS_PER_HOUR (60LL * TT_NS_PER_MIN)
#define TT_NS_PER_DAY (24LL * TT_NS_PER_HOUR)
#define TT_TS_MIN INT64_MIN
#define TT_TS_MAX INT64_MAX

enum tt_event_kind {
    TT_EV_NONE = 0,
    TT_EV_QUOTE = 1,       /* bid/ask quote tick (input) */
    TT_EV_TRADE = 2,       /* trade tick (input) */
    TT_EV_BAR = 3,         /* OHLCV bar (input from tape, or output of the bar builder) */
    TT_EV_EXTERNAL = 4,    /* external / news / economic event (input) */
    TT_EV_TIMER = 5,       /* a timer set by a component fired */
    TT_EV_ORDER_CMD = 6,   /* submit / modify / cancel, from a strategy (output + venue input) */
    TT_EV_ORDER_EVENT = 7, /* accepted / rejected / filled / ... from a venue */
    TT_EV_SIGNAL = 8,      /* a strategy's signal (output) */
    TT_EV_RISK = 9,        /* risk gate decision (output) */
    TT_EV_CONTROL = 10,    /* start / stop / kill switch / gap marker */
    TT_EV_EQUITY = 11,     /* equity / balance point (output) */
    TT_EV_BLOB = 12,       /* generic protobuf-encoded event (tape, journal) */
    TT_EV_KIND_COUNT
};

/* Ordering class at equal timestamps (lower first). */
enum tt_event_class {
    TT_CLS_CONTROL = 0,
    TT_CLS_VENUE = 1,
    TT_CLS_TIMER = 2,
    TT_CLS_MARKET = 3,
    TT_CLS_EXTERNAL = 4,
    TT_CLS_OUTPUT = 5
};

enum tt_timeframe {
    TT_TF_NONE = 0,
    TT_TF_S1, TT_TF_M1, TT_TF_M5, TT_TF_M15, TT_TF_M30,
    TT_TF_H1, TT_TF_H4, TT_TF_D1, TT_TF_W1, TT_TF_MN1,
    TT_TF_COUNT
};

enum tt_price_side { TT_SIDE_BID = 0, TT_SIDE_ASK = 1, TT_SIDE_MID = 2 };

typedef struct tt_quote {
    tt_price bid;
    tt_price ask;
    float bid_vol; /* as the source gave it (Dukascopy: millions), bit-exact */
    float ask_vol;
} tt_quote;

typedef struct tt_trade {
    tt_price price;
    double size;
    int8_t aggressor; /* +1 buyer, -1 seller, 0 unknown */
} tt_trade;

typedef struct tt_bar {
    tt_price open, high, low, close;
    double volume;
    uint32_t ticks;
    uint8_t tf;   /* enum tt_timeframe */
    uint8_t side; /* enum tt_price_side */
} tt_bar;

typedef struct tt_timer {
    uint64_t timer_id;
    uint64_t user; /* opaque value given when the timer was set */
} tt_timer;

/* Borrowed bytes: valid until the producer's next call. Used for BLOB and EXTERNAL. */
typedef struct tt_blob {
    uint32_t type; /* message type id (see proto/) or external-event type */
    uint32_t len;
    const uint8_t *data;
    double value; /* EXTERNAL: the headline numeric value, if any */
} tt_blob;

/* ---- orders (owned by core/order.h; plain data here so events stay flat) ---- */

enum tt_order_cmd_kind { TT_CMD_SUBMIT = 1, TT_CMD_CANCEL = 2, TT_CMD_MODIFY = 3 };
enum tt_order_type { TT_ORD_MARKET = 1, TT_ORD_LIMIT = 2, TT_ORD_STOP = 3, TT_ORD_STOP_LIMIT = 4 };
enum tt_tif { TT_TIF_GTC = 1, TT_TIF_IOC = 2, TT_TIF_FOK = 3, TT_TIF_GTD = 4 };
enum tt_order_side { TT_BUY = 1, TT_SELL = -1 };

typedef struct tt_order_cmd {
    uint64_t client_id;   /* unique within a run */
    int64_t qty;          /* volume in the instrument's volume units (see instrument.h) */
    tt_price price;       /* limit price (LIMIT, STOP_LIMIT) */
    tt_price stop_price;  /* trigger (STOP, STOP_LIMIT) */
    tt_price take_profit; /* 0 = none */
    tt_price stop_loss;   /* 0 = none */
    tt_ts expire_ts;      /* GTD */
    uint8_t cmd;          /* enum tt_order_cmd_kind */
    uint8_t type;         /* enum tt_order_type */
    uint8_t tif;          /* enum tt_tif */
    int8_t side;          /* enum tt_order_side */
    uint32_t position;    /* hedging: ticket of the position this order closes (0 = open new) */
} tt_order_cmd;

enum tt_order_status {
    TT_OS_PENDING = 1, TT_OS_SUBMITTED, TT_OS_ACCEPTED, TT_OS_PARTIALLY_FILLED,
    TT_OS_FILLED, TT_OS_CANCELLED, TT_OS_REJECTED, TT_OS_EXPIRED, TT_OS_MODIFIED,
    TT_OS_FAILED
};

typedef struct tt_order_event {
    uint64_t client_id;
    uint64_t venue_id;
    int64_t fill_qty;     /* this fill (0 when not a fill) */
    tt_price fill_price;
    int64_t leaves_qty;
    tt_money commission;
    uint16_t reason;      /* reason code (core/order.h) */
    uint8_t status;       /* enum tt_order_status */
    int8_t side;
    uint8_t type;
} tt_order_event;

typedef struct tt_signal {
    double strength;      /* -1 .. +1 */
    tt_price target_price;
    tt_price stop_loss;
    tt_price take_profit;
    int8_t direction;     /* +1 buy, -1 sell, 0 hold/close */
    uint8_t has_model;    /* 1: a model's prediction (below) made this signal */
    float prediction;     /* the model's output for the bar (has_model) */
    uint64_t model_id;    /* the model's identity: XXH3-64 of its file (has_model) */
} tt_signal;

typedef struct tt_risk {
    uint64_t client_id;
    double value;         /* the measured number */
    double limit;         /* the configured limit */
    uint16_t rule;        /* enum in core/risk.h */
    uint8_t approved;     /* 1 approved, 0 rejected */
} tt_risk;

enum tt_control_op {
    TT_CTL_START = 1, TT_CTL_STOP = 2, TT_CTL_KILL = 3,
    TT_CTL_GAP_BEGIN = 4, TT_CTL_GAP_END = 5
};

typedef struct tt_control {
    uint32_t op;
    uint32_t arg;
} tt_control;

typedef struct tt_equity {
    tt_money balance;
    tt_money equity;
    tt_money margin;
    tt_money free_margin;
} tt_equity;

typedef struct tt_event {
    tt_ts ts;         /* ts_event: when it happened */
    tt_ts ts_init;    /* when the engine received it (== ts in replay) */
    uint64_t seq;     /* per-source sequence number */
    uint32_t symbol;  /* instrument id (index in the run's tt_instruments); 0 = none */
    uint16_t source;  /* source id */
    uint8_t kind;     /* enum tt_event_kind */
    uint8_t cls;      /* enum tt_event_class */
    union {
        tt_quote quote;
        tt_trade trade;
        tt_bar bar;
        tt_timer timer;
        tt_blob blob;
        tt_order_cmd order_cmd;
        tt_order_event order_ev;
        tt_signal signal;
        tt_risk risk;
        tt_control control;
        tt_equity equity;
        uint8_t raw[64];
    } u;
} tt_event;

/* The documented size (docs/architecture.md): a 32-byte header, then a 64-byte
 * payload union that every kind's payload must fit. */
_Static_assert(sizeof(tt_event) == 96, "tt_event is 96 bytes (docs/architecture.md)");
_Static_assert(offsetof(tt_event, u) == 32, "tt_event: the header is 32 bytes");
_Static_assert(sizeof(((tt_event *)0)->u) == 64, "tt_event: the payload union is 64 bytes");
_Static_assert(sizeof(tt_quote) <= 64 && sizeof(tt_trade) <= 64 && sizeof(tt_bar) <= 64,
               "tt_event: a market-data payload outgrew the 64-byte union");
_Static_assert(sizeof(tt_timer) <= 64 && sizeof(tt_blob) <= 64 && sizeof(tt_control) <= 64,
               "tt_event: a timer, blob or control payload outgrew the 64-byte union");
_Static_assert(sizeof(tt_order_cmd) <= 64 && sizeof(tt_order_event) <= 64,
               "tt_event: an order payload outgrew the 64-byte union");
_Static_assert(sizeof(tt_signal) <= 64 && sizeof(tt_risk) <= 64 && sizeof(tt_equity) <= 64,
               "tt_event: a signal, risk or equity payload outgrew the 64-byte union");

/* The default ordering class of a kind. */
static inline uint8_t tt_event_class_of(uint8_t kind)
{
    switch (kind) {
    case TT_EV_CONTROL: return TT_CLS_CONTROL;
    case TT_EV_ORDER_EVENT: return TT_CLS_VENUE;
    case TT_EV_TIMER: return TT_CLS_TIMER;
    case TT_EV_QUOTE: case TT_EV_TRADE: case TT_EV_BAR: return TT_CLS_MARKET;
    case TT_EV_EXTERNAL: case TT_EV_BLOB: return TT_CLS_EXTERNAL;
    default: return TT_CLS_OUTPUT;
    }
}

/* Total order: negative if a comes before b. */
static inline int tt_event_cmp(const tt_event *a, const tt_event *b)
{
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
    if (a->source != b->source) return a->source < b->source ? -1 : 1;
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    return 0;
}

/* Names: "quote", "bar", ...; "M1", "H4", ...; "pending", "filled", .... A name
 * function cannot fail: an unknown value is named "?". tt_timeframe_parse returns
 * TT_TF_NONE for an unknown or NULL name. */
const char *tt_event_kind_name(int kind);
const char *tt_timeframe_name(int tf);
int tt_timeframe_parse(const char *s);      /* accepts "M1" and the seed's "1m" forms */
const char *tt_timeframe_seed_name(int tf); /* "1m","5m","15m","30m","1h","4h","1d" (NATS subjects) */
int64_t tt_timeframe_ns(int tf);            /* fixed length; 0 for MN1 (calendar) and unknown */
const char *tt_order_status_name(int status);

/* Time helpers (UTC, proleptic Gregorian, no locale, no TZ env). from_civil and
 * to_civil cannot fail (no range check: the caller keeps to years 1678..2261);
 * to_civil's outputs after day may be NULL. */
tt_ts tt_ts_from_civil(int year, int month, int day, int hour, int min, int sec, int64_t nsec);
void tt_ts_to_civil(tt_ts ts, int *year, int *month, int *day, int *hour, int *min, int *sec,
                    int64_t *nsec);
/* Parse ISO 8601 ("2019-02-04", "2019-02-04T10:00:00", "...Z", fractional seconds up to ns),
 * or an integer with a suffix: "1549238400000ms", "...ns", "...us", "...s". Returns 0, or
 * TT_EINVAL (no tt_err; *out untouched) for bad text or a time outside years 1678..2261
 * (the int64 nanosecond range). */
int tt_ts_parse(const char *s, tt_ts *out);
/* ISO 8601 with milliseconds ("2019-02-04T00:00:00.123Z") or nanoseconds when ns_digits.
 * Cannot fail: cut to bufsize (25 bytes hold the millisecond form, 31 the other). */
void tt_ts_format(tt_ts ts, char *buf, int bufsize, int ns_digits);

#endif
