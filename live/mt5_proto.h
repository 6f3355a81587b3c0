/*
 * ticktape live: the wire protocol between ticktape and a MetaTrader 5
 * terminal (the TicktapeBridge Expert Advisor, or `ticktape mt5-sim`).
 * docs/mt5-protocol.md is the specification; this header is its codec.
 *
 * Why text lines. The other end is MQL5, which has client sockets, string
 * splitting and number conversion, and nothing like protobuf. A frame is one
 * line of printable ASCII ending in '\n':
 *
 *     TICK sym=EURUSD t=1549238400123 bid=1.14427 ask=1.1443 bv=0.75 av=1.5
 *
 * a type word, then `key=value` fields separated by single spaces, every
 * field of the type present, in the order of its table (frame_fields in
 * mt5_proto.c). MQL5 splits on ' ' and '=' and reads fields by position; a
 * human reads the logs (Kafka broker_communication_log carries the lines).
 * Fields appended after the known ones are ignored (a later minor version
 * may add fields at the end); anything else out of place is an error naming
 * the frame type, the field's position and key, and what was wrong.
 *
 * Values: decimal numbers are exact fixed point with at most 8 decimals
 * (tt_mt5_dec, an int64 in units of 1e-8), so a price or a volume crosses
 * the wire without binary rounding; integers are plain digits; enumerations
 * are lower-case words; strings are percent-encoded (every byte outside
 * 0x21..0x7E, and '%' and '=', as %XX), so a value never holds a space.
 * Times are milliseconds since the epoch in the terminal's trade-server
 * time (what MT5 reports: MqlTick.time_msc, DEAL_TIME_MSC); HELLO gives that
 * clock's offset from UTC.
 *
 * A frame is at most TT_MT5_FRAME_MAX bytes with its '\n'; the reader
 * refuses a longer one (TT_EFORMAT) and the connection is then closed: the
 * peer is broken or hostile, and nothing after it can be trusted.
 *
 * The handshake (HELLO, CHALLENGE, AUTH, WELCOME) proves on both sides that
 * the peer knows the shared secret without sending it: HMAC-SHA256 over both
 * nonces and the account login (tt_mt5_auth_mac).
 *
 * Invariant (tested by the fuzzer): whatever tt_mt5_frame_decode accepts,
 * tt_mt5_frame_encode writes back as a frame that decodes to the same
 * struct.
 */
#ifndef TT_MT5_PROTO_H
#define TT_MT5_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"

#define TT_MT5_PROTO_VERSION 1
#define TT_MT5_FRAME_MAX 2048 /* bytes, '\n' included */

/* Exact decimal: value x 1e8 (1.14427 = 114427000). |value| < 92,233,720,368. */
typedef int64_t tt_mt5_dec;
#define TT_MT5_DEC_ONE 100000000LL

enum tt_mt5_frame_type {
    TT_MT5_NONE = 0,
    TT_MT5_HELLO,     /* T->K  terminal introduces itself */
    TT_MT5_CHALLENGE, /* K->T  ticktape's nonce */
    TT_MT5_AUTH,      /* T->K  the terminal's proof */
    TT_MT5_WELCOME,   /* K->T  ticktape's proof; the session starts */
    TT_MT5_BYE,       /* both  closing, with the reason */
    TT_MT5_ERROR,     /* both  a frame could not be used (reason names it) */
    TT_MT5_HB,        /* both  heartbeat */
    TT_MT5_SUB,       /* K->T  stream this symbol; answer with its SPEC */
    TT_MT5_SPEC,      /* T->K  symbol specification */
    TT_MT5_TICK,      /* T->K  a quote */
    TT_MT5_ACCOUNT,   /* T->K  account figures */
    TT_MT5_SNAPSHOT,  /* K->T  send the positions and orders */
    TT_MT5_SNAP,      /* T->K  a snapshot follows: its counts */
    TT_MT5_POS,       /* T->K  one open position */
    TT_MT5_ORD,       /* T->K  one working order */
    TT_MT5_SNAPEND,   /* T->K  end of the snapshot */
    TT_MT5_ORDER,     /* K->T  a trade request (MqlTradeRequest) */
    TT_MT5_RESULT,    /* T->K  its result (MqlTradeResult) */
    TT_MT5_DEAL,      /* T->K  a deal (OnTradeTransaction, history) */
    TT_MT5_QUERY,     /* K->T  what became of an order (by magic or ticket) */
    TT_MT5_STATE,     /* T->K  an order's state (answer, or unsolicited when it leaves the book) */
    TT_MT5_HISTORY,   /* K->T  send the deals since a time */
    TT_MT5_HISTEND,   /* T->K  end of the history */
    TT_MT5_FRAME_TYPES
};

/* ---- enumerations (words on the wire, MT5's meaning) ---- */

enum tt_mt5_mode { TT_MT5_NETTING = 0, TT_MT5_HEDGING = 1 };
enum tt_mt5_side { TT_MT5_BUY = 0, TT_MT5_SELL = 1 };
enum tt_mt5_action { /* ENUM_TRADE_REQUEST_ACTIONS */
    TT_MT5_ACT_DEAL = 0, TT_MT5_ACT_PENDING, TT_MT5_ACT_MODIFY, TT_MT5_ACT_REMOVE,
    TT_MT5_ACT_SLTP
};
enum tt_mt5_order_type { /* ENUM_ORDER_TYPE, same order */
    TT_MT5_OT_BUY = 0, TT_MT5_OT_SELL, TT_MT5_OT_BUY_LIMIT, TT_MT5_OT_SELL_LIMIT,
    TT_MT5_OT_BUY_STOP, TT_MT5_OT_SELL_STOP, TT_MT5_OT_BUY_STOP_LIMIT, TT_MT5_OT_SELL_STOP_LIMIT
};
enum tt_mt5_filling { TT_MT5_FILL_FOK = 0, TT_MT5_FILL_IOC, TT_MT5_FILL_RETURN };
/* SYMBOL_FILLING_MODE flags (the SPEC's `filling`) */
#define TT_MT5_FILLING_FOK_FLAG 1u
#define TT_MT5_FILLING_IOC_FLAG 2u
enum tt_mt5_time { TT_MT5_TIME_GTC = 0, TT_MT5_TIME_DAY, TT_MT5_TIME_SPECIFIED,
                   TT_MT5_TIME_SPECIFIED_DAY };
enum tt_mt5_entry { TT_MT5_ENTRY_IN = 0, TT_MT5_ENTRY_OUT, TT_MT5_ENTRY_INOUT,
                    TT_MT5_ENTRY_OUT_BY };
enum tt_mt5_deal_reason { /* ENUM_DEAL_REASON */
    TT_MT5_DR_CLIENT = 0, TT_MT5_DR_MOBILE, TT_MT5_DR_WEB, TT_MT5_DR_EXPERT, TT_MT5_DR_SL,
    TT_MT5_DR_TP, TT_MT5_DR_SO, TT_MT5_DR_ROLLOVER, TT_MT5_DR_VMARGIN, TT_MT5_DR_SPLIT
};
enum tt_mt5_order_state { /* ENUM_ORDER_STATE, plus none = not found */
    TT_MT5_OS_NONE = 0, TT_MT5_OS_STARTED, TT_MT5_OS_PLACED, TT_MT5_OS_CANCELED,
    TT_MT5_OS_PARTIAL, TT_MT5_OS_FILLED, TT_MT5_OS_REJECTED, TT_MT5_OS_EXPIRED
};
enum tt_mt5_exec { TT_MT5_EXEC_REQUEST = 0, TT_MT5_EXEC_INSTANT, TT_MT5_EXEC_MARKET,
                   TT_MT5_EXEC_EXCHANGE };
enum tt_mt5_trade_mode { TT_MT5_TM_DISABLED = 0, TT_MT5_TM_LONG_ONLY, TT_MT5_TM_SHORT_ONLY,
                         TT_MT5_TM_CLOSE_ONLY, TT_MT5_TM_FULL };
enum tt_mt5_swap_mode { TT_MT5_SWAP_DISABLED = 0, TT_MT5_SWAP_POINTS, TT_MT5_SWAP_OTHER };

/* MqlTradeResult.retcode values ticktape names (docs/mt5-protocol.md has all). */
enum tt_mt5_retcode {
    TT_MT5_RC_REQUOTE = 10004,
    TT_MT5_RC_REJECT = 10006,
    TT_MT5_RC_CANCEL = 10007,
    TT_MT5_RC_PLACED = 10008,
    TT_MT5_RC_DONE = 10009,
    TT_MT5_RC_DONE_PARTIAL = 10010,
    TT_MT5_RC_ERROR = 10011,
    TT_MT5_RC_TIMEOUT = 10012,
    TT_MT5_RC_INVALID = 10013,
    TT_MT5_RC_INVALID_VOLUME = 10014,
    TT_MT5_RC_INVALID_PRICE = 10015,
    TT_MT5_RC_INVALID_STOPS = 10016,
    TT_MT5_RC_TRADE_DISABLED = 10017,
    TT_MT5_RC_MARKET_CLOSED = 10018,
    TT_MT5_RC_NO_MONEY = 10019,
    TT_MT5_RC_PRICE_CHANGED = 10020,
    TT_MT5_RC_PRICE_OFF = 10021,
    TT_MT5_RC_INVALID_EXPIRATION = 10022,
    TT_MT5_RC_ORDER_CHANGED = 10023,
    TT_MT5_RC_TOO_MANY_REQUESTS = 10024,
    TT_MT5_RC_NO_CHANGES = 10025,
    TT_MT5_RC_SERVER_DISABLES_AT = 10026,
    TT_MT5_RC_CLIENT_DISABLES_AT = 10027,
    TT_MT5_RC_LOCKED = 10028,
    TT_MT5_RC_FROZEN = 10029,
    TT_MT5_RC_INVALID_FILL = 10030,
    TT_MT5_RC_CONNECTION = 10031,
    TT_MT5_RC_ONLY_REAL = 10032,
    TT_MT5_RC_LIMIT_ORDERS = 10033,
    TT_MT5_RC_LIMIT_VOLUME = 10034,
    TT_MT5_RC_INVALID_ORDER = 10035,
    TT_MT5_RC_POSITION_CLOSED = 10036,
    TT_MT5_RC_INVALID_CLOSE_VOLUME = 10038,
    TT_MT5_RC_CLOSE_ORDER_EXIST = 10039,
    TT_MT5_RC_LIMIT_POSITIONS = 10040,
    TT_MT5_RC_REJECT_CANCEL = 10041,
    TT_MT5_RC_LONG_ONLY = 10042,
    TT_MT5_RC_SHORT_ONLY = 10043,
    TT_MT5_RC_CLOSE_ONLY = 10044,
    TT_MT5_RC_FIFO_CLOSE = 10045,
    TT_MT5_RC_HEDGE_PROHIBITED = 10046
};

/* "TRADE_RETCODE_REQUOTE" ...; NULL for a code MT5 does not define. */
const char *tt_mt5_retcode_name(uint32_t retcode);

/* ---- frames ---- */

#define TT_MT5_SYM_MAX 32   /* symbol: 31 bytes */
#define TT_MT5_CCY_MAX 8
#define TT_MT5_HEX_MAX 65   /* nonce / mac: 64 hex digits */
#define TT_MT5_NAME_MAX 64  /* server, company */
#define TT_MT5_COMMENT_MAX 64
#define TT_MT5_REASON_MAX 256

typedef struct tt_mt5_hello {
    uint32_t version, build;
    uint64_t login;
    char server[TT_MT5_NAME_MAX], company[TT_MT5_NAME_MAX], currency[TT_MT5_CCY_MAX];
    uint32_t leverage;
    uint8_t mode;         /* enum tt_mt5_mode */
    int32_t tz;           /* trade-server time minus UTC, seconds */
    char cnonce[TT_MT5_HEX_MAX];
} tt_mt5_hello;

typedef struct tt_mt5_challenge {
    uint32_t version;
    char nonce[TT_MT5_HEX_MAX];
} tt_mt5_challenge;

typedef struct tt_mt5_auth {
    char mac[TT_MT5_HEX_MAX];
} tt_mt5_auth;

typedef struct tt_mt5_welcome {
    char mac[TT_MT5_HEX_MAX];
    uint32_t hb;          /* heartbeat interval, ms */
} tt_mt5_welcome;

typedef struct tt_mt5_text {  /* BYE, ERROR */
    char reason[TT_MT5_REASON_MAX];
} tt_mt5_text;

typedef struct tt_mt5_hb {
    int64_t t;
} tt_mt5_hb;

typedef struct tt_mt5_sub {
    char sym[TT_MT5_SYM_MAX];
} tt_mt5_sub;

typedef struct tt_mt5_spec {
    char sym[TT_MT5_SYM_MAX];
    uint32_t digits;
    tt_mt5_dec point, contract, vmin, vmax, vstep;
    uint32_t stops, freeze; /* SYMBOL_TRADE_STOPS_LEVEL / _FREEZE_LEVEL, points */
    uint32_t filling;       /* TT_MT5_FILLING_*_FLAG */
    uint8_t exec;           /* enum tt_mt5_exec */
    uint8_t trade;          /* enum tt_mt5_trade_mode */
    uint8_t swap_mode;      /* enum tt_mt5_swap_mode */
    tt_mt5_dec swap_long, swap_short;
    uint32_t swap3;         /* day of the triple swap, 0 = Sunday */
    tt_mt5_dec margin_rate; /* initial margin rate of a buy */
    char base[TT_MT5_CCY_MAX], profit[TT_MT5_CCY_MAX];
    tt_mt5_dec comm;        /* commission per lot per side, account currency; 0 = not known */
} tt_mt5_spec;

typedef struct tt_mt5_tick {
    char sym[TT_MT5_SYM_MAX];
    int64_t t;
    tt_mt5_dec bid, ask, bv, av;
} tt_mt5_tick;

typedef struct tt_mt5_account {
    int64_t t;
    tt_mt5_dec balance, equity, margin, free;
} tt_mt5_account;

typedef struct tt_mt5_snap { /* SNAPSHOT and SNAPEND: id; SNAP: + counts; HISTEND: id, deals */
    uint64_t id;
    uint32_t positions, orders, deals;
} tt_mt5_snap;

typedef struct tt_mt5_pos {
    uint64_t ticket;
    char sym[TT_MT5_SYM_MAX];
    uint8_t side;           /* enum tt_mt5_side */
    tt_mt5_dec vol, price, sl, tp, swap, profit;
    int64_t t;              /* opened */
    uint64_t magic;
    char comment[TT_MT5_COMMENT_MAX];
} tt_mt5_pos;

typedef struct tt_mt5_ord {
    uint64_t ticket;
    char sym[TT_MT5_SYM_MAX];
    uint8_t type;           /* enum tt_mt5_order_type */
    tt_mt5_dec vol, vol_cur, price, stoplimit, sl, tp;
    uint8_t filling, time;  /* enum tt_mt5_filling, tt_mt5_time */
    int64_t exp, t;         /* expiration, placed */
    uint64_t magic;
    char comment[TT_MT5_COMMENT_MAX];
} tt_mt5_ord;

typedef struct tt_mt5_order {
    uint64_t id;            /* request id, echoed by RESULT */
    uint8_t action;         /* enum tt_mt5_action */
    char sym[TT_MT5_SYM_MAX];
    uint8_t type;           /* enum tt_mt5_order_type */
    tt_mt5_dec vol, price, stoplimit, sl, tp;
    uint32_t dev;           /* deviation, points */
    uint8_t filling, time;
    int64_t exp;
    uint64_t order, position, magic;
    char comment[TT_MT5_COMMENT_MAX];
} tt_mt5_order;

typedef struct tt_mt5_result {
    uint64_t id;
    uint32_t retcode;
    uint64_t deal, order;
    tt_mt5_dec vol, price, bid, ask;
    uint32_t reqid;
    int32_t ext;            /* retcode_external */
    char comment[TT_MT5_COMMENT_MAX];
} tt_mt5_result;

typedef struct tt_mt5_deal {
    uint64_t deal, order, position;
    char sym[TT_MT5_SYM_MAX];
    uint8_t side, entry, reason; /* tt_mt5_side, tt_mt5_entry, tt_mt5_deal_reason */
    tt_mt5_dec vol, price, comm, swap, profit;
    int64_t t;
    uint64_t magic;
    char comment[TT_MT5_COMMENT_MAX];
} tt_mt5_deal;

typedef struct tt_mt5_query {
    uint64_t id, magic, order; /* order: the ticket when known, else 0 (find by magic) */
} tt_mt5_query;

typedef struct tt_mt5_state {
    uint64_t id;            /* the QUERY's id; 0 when unsolicited */
    uint64_t order, magic;
    uint8_t state;          /* enum tt_mt5_order_state */
    tt_mt5_dec vol, vol_cur;
    int64_t t;
} tt_mt5_state;

typedef struct tt_mt5_history {
    uint64_t id;
    int64_t from;
} tt_mt5_history;

typedef struct tt_mt5_frame {
    uint8_t type; /* enum tt_mt5_frame_type */
    union {
        tt_mt5_hello hello;
        tt_mt5_challenge challenge;
        tt_mt5_auth auth;
        tt_mt5_welcome welcome;
        tt_mt5_text text;
        tt_mt5_hb hb;
        tt_mt5_sub sub;
        tt_mt5_spec spec;
        tt_mt5_tick tick;
        tt_mt5_account account;
        tt_mt5_snap snap;
        tt_mt5_pos pos;
        tt_mt5_ord ord;
        tt_mt5_order order;
        tt_mt5_result result;
        tt_mt5_deal deal;
        tt_mt5_query query;
        tt_mt5_state state;
        tt_mt5_history history;
    } u;
} tt_mt5_frame;

/* "TICK", ... ("?" when unknown). */
const char *tt_mt5_frame_name(int type);

/* Write f as one frame with its '\n' into buf (cap bytes); *len = bytes
 * written. TT_EINVAL naming the field for a value that cannot be written (an
 * enum out of range, a string without its NUL, a decimal out of range),
 * TT_EFORMAT when the frame would exceed TT_MT5_FRAME_MAX or cap. */
int tt_mt5_frame_encode(const tt_mt5_frame *f, char *buf, size_t cap, size_t *len, tt_err *err);

/* Read one frame from line[0..len) (without its '\n'). TT_EFORMAT naming the
 * frame type, the field and the fault. *f is zeroed first. */
int tt_mt5_frame_decode(const char *line, size_t len, tt_mt5_frame *f, tt_err *err);

/* ---- decimals ---- */

/* "1.14427" -> 114427000. TT_EFORMAT: not a number, more than 8 decimals, out of range. */
int tt_mt5_dec_parse(const char *s, size_t len, tt_mt5_dec *out);
/* Shortest exact text ("1.14427", "-0.7", "100000"); returns its length (< 32). */
int tt_mt5_dec_format(tt_mt5_dec v, char buf[32]);
/* x 10^digits as an integer when exact (price to points): 0, or TT_EINVAL when
 * v is finer than 10^-digits or digits > 8. */
int tt_mt5_dec_to_scaled(tt_mt5_dec v, int digits, int64_t *out);
tt_mt5_dec tt_mt5_dec_from_scaled(int64_t v, int digits); /* digits <= 8 */

/* ---- framing ---- */

/* Splits a byte stream into lines. Feed it what the socket gave, then take
 * lines until it returns 0. */
typedef struct tt_mt5_reader {
    char buf[2 * TT_MT5_FRAME_MAX];
    size_t start, end;  /* unread bytes are buf[start..end) */
    size_t scanned;     /* bytes after start already known to hold no '\n' */
} tt_mt5_reader;

void tt_mt5_reader_init(tt_mt5_reader *r);
/* Where the next bytes go, and how many fit (>= TT_MT5_FRAME_MAX when the
 * pending lines have been taken); then tt_mt5_reader_commit(n). */
char *tt_mt5_reader_space(tt_mt5_reader *r, size_t *room);
void tt_mt5_reader_commit(tt_mt5_reader *r, size_t n);
/* Copy n bytes in (as many as fit: returns the count taken). */
size_t tt_mt5_reader_push(tt_mt5_reader *r, const void *data, size_t n);
/* 1: *line (valid until the next call) holds a frame of *len bytes, '\n'
 * removed; 0: no whole line yet; TT_EFORMAT: a line longer than
 * TT_MT5_FRAME_MAX (the stream cannot be trusted any further). */
int tt_mt5_reader_next(tt_mt5_reader *r, const char **line, size_t *len, tt_err *err);

/* ---- authentication ---- */

/* 32 hex digits of fresh randomness (getrandom). TT_EIO when the kernel has none. */
int tt_mt5_nonce(char out[TT_MT5_HEX_MAX], tt_err *err);

enum tt_mt5_role { TT_MT5_ROLE_TERMINAL = 0, TT_MT5_ROLE_SERVER = 1 };

/* The proof a side sends: lower-case hex of HMAC-SHA256(secret, message) with
 * message "ticktape-mt5 1 terminal NONCE CNONCE LOGIN" (AUTH) or
 * "ticktape-mt5 1 server CNONCE NONCE LOGIN" (WELCOME). */
void tt_mt5_auth_mac(const char *secret, size_t secret_len, int role, const char *nonce,
                     const char *cnonce, uint64_t login, char out[TT_MT5_HEX_MAX]);

/* Constant-time comparison of two proofs: 1 equal. */
int tt_mt5_mac_equal(const char *a, const char *b);

/* ---- time ---- */

/* Trade-server ms (the wire's clock) <-> UTC ns, with HELLO's offset. */
static inline int64_t tt_mt5_ms_to_utc_ns(int64_t server_ms, int32_t tz)
{
    return (server_ms - (int64_t)tz * 1000) * 1000000;
}
static inline int64_t tt_mt5_utc_ns_to_ms(int64_t utc_ns, int32_t tz)
{
    return utc_ns / 1000000 + (int64_t)tz * 1000;
}

#endif
