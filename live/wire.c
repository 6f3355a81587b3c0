/*
 * Wire conversions (see wire.h for the mapping tables).
 *
 * Decoding uses protobuf-c's unpack with an allocator that carves from a
 * fixed buffer on the caller's stack: a TickData unpacks into well under a
 * kilobyte (the struct plus the symbol string), so no tick touches the heap,
 * and nothing has to be freed. A message that would need more than the arena
 * fails to unpack and is reported as malformed, which is what it is for these
 * small schemas.
 *
 * Encoding builds the message struct on the stack, pointing at the event's own
 * numbers and at static strings, and packs into the caller's buffer after a
 * size check.
 */
#include "wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/risk.h"
#include "tick_data.pb-c.h"
#include "ticktape.pb-c.h"
#include "trading_signals.pb-c.h"

/* ---- stack arena for unpack ---- */

typedef struct arena {
    size_t used;
    _Alignas(16) uint8_t buf[4096];
} arena;

static void *arena_alloc(void *data, size_t size)
{
    arena *a = data;
    size_t n = (size + 15) & ~(size_t)15;
    if (n > sizeof a->buf - a->used)
        return NULL;
    void *p = a->buf + a->used;
    a->used += n;
    return p;
}

static void arena_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

#define ARENA_ALLOCATOR(a) {arena_alloc, arena_free, &(a)}

/* ---- inputs ---- */

/* The most a price may be, in price units, whatever the instrument: above
 * every traded FX rate, metal, index or coin, far below where points would
 * overflow. A bid a million times the market is refused here. */
#define TT_WIRE_PRICE_MAX 1e6
/* The largest volume taken (in the message's units). */
#define TT_WIRE_VOLUME_MAX 1e15

static int price_ok(const tt_instrument *in, double v)
{
    return isfinite(v) && v * (double)in->points >= 0.5 && v <= TT_WIRE_PRICE_MAX;
}

static int points_ok(const tt_instrument *in, int64_t p)
{
    return p > 0 && (double)p <= TT_WIRE_PRICE_MAX * (double)in->points;
}

static int volume_ok(double v)
{
    return isfinite(v) && v >= 0 && v <= TT_WIRE_VOLUME_MAX;
}

static int quote_from_doubles(const tt_instruments *ins, const char *symbol, double bid,
                              double ask, int64_t ts_ms, double volume, tt_event *ev,
                              const char *form, tt_err *err)
{
    if (!symbol || !*symbol)
        return tt_err_set(err, TT_EFORMAT, "%s: field 'symbol' is missing", form);
    const tt_instrument *in = tt_instruments_find(ins, symbol);
    if (!in) {
        char shown[80];
        tt_str_escape(shown, sizeof shown, symbol, strnlen(symbol, 32));
        return tt_err_set(err, TT_EFORMAT, "%s: field 'symbol': unknown instrument '%s'", form,
                          shown);
    }
    /* At least one point, at most TT_WIRE_PRICE_MAX. */
    if (!price_ok(in, bid))
        return tt_err_set(err, TT_EFORMAT,
                          "%s: field 'bid' is not a price of %s (%g: not positive, below one "
                          "point, or out of range)",
                          form, in->symbol, bid);
    if (!price_ok(in, ask))
        return tt_err_set(err, TT_EFORMAT,
                          "%s: field 'ask' is not a price of %s (%g: not positive, below one "
                          "point, or out of range)",
                          form, in->symbol, ask);
    if (!volume_ok(volume))
        return tt_err_set(err, TT_EFORMAT, "%s: field 'volume' is not a volume (%g: negative, "
                          "not finite, or above %g)", form, volume, TT_WIRE_VOLUME_MAX);
    if (ts_ms < 0 || ts_ms > INT64_MAX / TT_NS_PER_MS)
        return tt_err_set(err, TT_EFORMAT, "%s: field 'timestamp' out of range (%lld)", form,
                          (long long)ts_ms);
    memset(ev, 0, sizeof *ev);
    ev->kind = TT_EV_QUOTE;
    ev->cls = TT_CLS_MARKET;
    ev->symbol = in->id;
    ev->ts_init = ts_ms * TT_NS_PER_MS;
    ev->u.quote.bid = tt_price_from_double(in, bid);
    ev->u.quote.ask = tt_price_from_double(in, ask);
    ev->u.quote.bid_vol = ev->u.quote.ask_vol = (float)(volume / 1e6);
    /* Crossed-quote policy: refused (a locked quote, bid == ask, is taken). */
    if (ev->u.quote.ask < ev->u.quote.bid)
        return tt_err_set(err, TT_EFORMAT, "%s: crossed quote: ask %g below bid %g", form, ask,
                          bid);
    return TT_OK;
}

int tt_wire_tick_decode_keyed(const void *data, size_t len, const void *key, size_t key_len,
                              const tt_instruments *ins, tt_event *ev, tt_err *err)
{
    arena a;
    a.used = 0;
    ProtobufCAllocator al = ARENA_ALLOCATOR(a);
    Aitrading__Common__TickData *t = aitrading__common__tick_data__unpack(&al, len, data);
    if (!t)
        return tt_err_set(err, TT_EFORMAT, "TickData: not a valid protobuf message (%zu bytes)",
                          len);
    const char *sym = t->symbol;
    char kbuf[TT_SYMBOL_MAX * 2];
    if ((!sym || !*sym) && key && key_len && key_len < sizeof kbuf) {
        memcpy(kbuf, key, key_len);
        kbuf[key_len] = '\0';
        sym = kbuf;
    }
    return quote_from_doubles(ins, sym, t->bid, t->ask, t->timestamp, (double)t->volume, ev,
                              "TickData", err); /* a negative int64 volume is refused there */
}

int tt_wire_tick_decode(const void *data, size_t len, const tt_instruments *ins, tt_event *ev,
                        tt_err *err)
{
    return tt_wire_tick_decode_keyed(data, len, NULL, 0, ins, ev, err);
}

int tt_wire_tick_subject_decode(const char *subject, const void *data, size_t len, int json,
                                const tt_instruments *ins, tt_event *ev, tt_err *err)
{
    int rc = json && len > 0 && ((const char *)data)[0] == '{'
                 ? tt_wire_tick_json_decode(data, len, ins, ev, err)
                 : tt_wire_tick_decode(data, len, ins, ev, err);
    if (rc)
        return rc;
    /* ticks.{SYMBOL}, or ticks.{SOURCE}.{SYMBOL} (one feed of an aggregator's) */
    const char *sym = strncmp(subject, "ticks.", 6) ? NULL : subject + 6;
    const char *dot = sym ? strchr(sym, '.') : NULL;
    if (dot)
        sym = strchr(dot + 1, '.') ? NULL : dot + 1;
    const tt_instrument *in = sym ? tt_instruments_find(ins, sym) : NULL;
    if (!in || in->id != ev->symbol) {
        const tt_instrument *p = tt_instruments_get(ins, ev->symbol);
        char shown[128];
        tt_str_escape(shown, sizeof shown, subject, strnlen(subject, 64));
        return tt_err_set(err, TT_EFORMAT, "the subject %s does not name the payload's symbol %s",
                          shown, p ? p->symbol : "?");
    }
    return TT_OK;
}

int tt_wire_check_time(const tt_event *ev, tt_ts now, tt_ts past, tt_ts future, tt_err *err)
{
    if (!ev->ts_init) /* no exchange time: the arrival stamp stands in */
        return TT_OK;
    if (future > 0 && ev->ts_init > now + future)
        return tt_err_set(err, TT_EFORMAT, "timestamp %.3f s in the future of its arrival",
                          (double)(ev->ts_init - now) / 1e9);
    if (past > 0 && ev->ts_init < now - past)
        return tt_err_set(err, TT_EFORMAT, "timestamp too old: %.3f s before its arrival",
                          (double)(now - ev->ts_init) / 1e9);
    return TT_OK;
}

/* A minimal reader for one flat JSON object: enough for the tick form, which
 * has string and number values only. Nested values are skipped as errors. */
typedef struct jcur {
    const char *p, *end;
} jcur;

static void jws(jcur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* Reads a string without escapes into buf (escapes are refused: symbols and
 * keys never need them). */
static int jstr(jcur *c, char *buf, size_t cap)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\' || n + 1 >= cap)
            return -1;
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    buf[n] = '\0';
    return 0;
}

static int jnum(jcur *c, double *out)
{
    char tmp[64];
    size_t n = 0;
    while (c->p < c->end && n + 1 < sizeof tmp && strchr("+-0123456789.eE", *c->p))
        tmp[n++] = *c->p++;
    tmp[n] = '\0';
    if (!n)
        return -1;
    char *e;
    *out = strtod(tmp, &e);
    return *e ? -1 : 0;
}

int tt_wire_tick_json_decode(const void *data, size_t len, const tt_instruments *ins,
                             tt_event *ev, tt_err *err)
{
    jcur c = {data, (const char *)data + len};
    char key[32], symbol[TT_SYMBOL_MAX * 2] = "", sval[64];
    double bid = NAN, ask = NAN, ts = 0, vol = 0;
    jws(&c);
    if (c.p >= c.end || *c.p++ != '{')
        return tt_err_set(err, TT_EFORMAT, "JSON tick: expected an object");
    for (;;) {
        jws(&c);
        if (c.p < c.end && *c.p == '}')
            break;
        if (jstr(&c, key, sizeof key))
            return tt_err_set(err, TT_EFORMAT, "JSON tick: bad key at byte %td",
                              c.p - (const char *)data);
        jws(&c);
        if (c.p >= c.end || *c.p++ != ':')
            return tt_err_set(err, TT_EFORMAT, "JSON tick: expected ':' after '%s'", key);
        jws(&c);
        double v = 0;
        int is_str = c.p < c.end && *c.p == '"';
        if (is_str ? jstr(&c, sval, sizeof sval) : jnum(&c, &v))
            return tt_err_set(err, TT_EFORMAT, "JSON tick: field '%s': bad value", key);
        if (!strcmp(key, "symbol")) {
            if (!is_str)
                return tt_err_set(err, TT_EFORMAT, "JSON tick: field 'symbol' must be a string");
            snprintf(symbol, sizeof symbol, "%s", sval);
        } else if (is_str && (!strcmp(key, "bid") || !strcmp(key, "ask") ||
                              !strcmp(key, "timestamp"))) {
            return tt_err_set(err, TT_EFORMAT, "JSON tick: field '%s' must be a number", key);
        } else if (!strcmp(key, "bid")) {
            bid = v;
        } else if (!strcmp(key, "ask")) {
            ask = v;
        } else if (!strcmp(key, "timestamp")) {
            ts = v;
        } else if (!strcmp(key, "volume") && !is_str) {
            vol = v;
        }
        jws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (c.p < c.end && *c.p == '}')
            break;
        return tt_err_set(err, TT_EFORMAT, "JSON tick: expected ',' or '}' after '%s'", key);
    }
    if (isnan(bid))
        return tt_err_set(err, TT_EFORMAT, "JSON tick: field 'bid' is missing");
    if (isnan(ask))
        return tt_err_set(err, TT_EFORMAT, "JSON tick: field 'ask' is missing");
    if (!(ts >= 0 && ts < 9.2e15))
        return tt_err_set(err, TT_EFORMAT, "JSON tick: field 'timestamp' out of range");
    return quote_from_doubles(ins, symbol, bid, ask, (int64_t)ts, vol, ev, "JSON tick", err);
}

size_t tt_wire_tick_encode(const tt_instruments *ins, const tt_event *ev, uint8_t *buf,
                           size_t cap)
{
    const tt_instrument *in = tt_instruments_get(ins, ev->symbol);
    if (!in || ev->kind != TT_EV_QUOTE)
        return 0;
    Aitrading__Common__TickData t = AITRADING__COMMON__TICK_DATA__INIT;
    t.symbol = (char *)in->symbol;
    t.bid = tt_price_to_double(in, ev->u.quote.bid);
    t.ask = tt_price_to_double(in, ev->u.quote.ask);
    t.spread = tt_price_to_double(in, ev->u.quote.ask - ev->u.quote.bid);
    t.volume = llround((double)ev->u.quote.bid_vol * 1e6);
    t.timestamp = ev->ts / TT_NS_PER_MS;
    size_t n = aitrading__common__tick_data__get_packed_size(&t);
    if (n > cap)
        return 0;
    return aitrading__common__tick_data__pack(&t, buf);
}

/* Copy the dot-separated part number `idx` of subject into buf. */
static int subject_part(const char *subject, int idx, char *buf, size_t cap)
{
    const char *p = subject;
    for (int i = 0; i < idx; i++) {
        p = strchr(p, '.');
        if (!p)
            return -1;
        p++;
    }
    size_t n = strcspn(p, ".");
    if (!n || n >= cap)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 0;
}

static int side_parse(const char *s)
{
    if (!s || !*s || !strcmp(s, "bid"))
        return TT_SIDE_BID;
    if (!strcmp(s, "ask"))
        return TT_SIDE_ASK;
    if (!strcmp(s, "mid"))
        return TT_SIDE_MID;
    return -1;
}

static const char *side_name(int side)
{
    return side == TT_SIDE_ASK ? "ask" : side == TT_SIDE_MID ? "mid" : "bid";
}

int tt_wire_bar_decode(const char *subject, const void *data, size_t len,
                       const tt_instruments *ins, tt_event *ev, tt_err *err)
{
    char sym[TT_SYMBOL_MAX * 2], tfs[16];
    if (subject_part(subject, 1, sym, sizeof sym) || subject_part(subject, 2, tfs, sizeof tfs))
        return tt_err_set(err, TT_EFORMAT, "subject is not bars.{SYMBOL}.{tf}");
    const tt_instrument *in = tt_instruments_find(ins, sym);
    if (!in) {
        char shown[80];
        tt_str_escape(shown, sizeof shown, sym, strlen(sym));
        return tt_err_set(err, TT_EFORMAT, "subject: unknown instrument '%s'", shown);
    }
    arena a;
    a.used = 0;
    ProtobufCAllocator al = ARENA_ALLOCATOR(a);
    Ticktape__Bar *b = ticktape__bar__unpack(&al, len, data);
    if (!b)
        return tt_err_set(err, TT_EFORMAT, "Bar: not a valid protobuf message (%zu bytes)", len);
    int tf = tt_timeframe_parse(b->timeframe && *b->timeframe ? b->timeframe : tfs);
    if (tf == TT_TF_NONE)
        return tt_err_set(err, TT_EFORMAT, "Bar: field 'timeframe': unknown '%s'",
                          b->timeframe && *b->timeframe ? b->timeframe : tfs);
    int side = side_parse(b->side);
    if (side < 0)
        return tt_err_set(err, TT_EFORMAT, "Bar: field 'side': unknown '%s'", b->side);
    memset(ev, 0, sizeof *ev);
    ev->kind = TT_EV_BAR;
    ev->cls = TT_CLS_MARKET;
    ev->symbol = in->id;
    tt_bar *o = &ev->u.bar;
    /* Integer points are exact; doubles are the fallback for other producers. */
    const double dv[4] = {b->open, b->high, b->low, b->close};
    const int64_t pv[4] = {b->open_points, b->high_points, b->low_points, b->close_points};
    for (int i = 0; i < 4; i++)
        if (pv[i] ? !points_ok(in, pv[i]) : !price_ok(in, dv[i]))
            return tt_err_set(err, TT_EFORMAT, "Bar: a price is not positive or out of range "
                                               "(at most %g)", TT_WIRE_PRICE_MAX);
    o->open = b->open_points ? b->open_points : tt_price_from_double(in, b->open);
    o->high = b->high_points ? b->high_points : tt_price_from_double(in, b->high);
    o->low = b->low_points ? b->low_points : tt_price_from_double(in, b->low);
    o->close = b->close_points ? b->close_points : tt_price_from_double(in, b->close);
    if (o->low > o->open || o->low > o->close)
        return tt_err_set(err, TT_EFORMAT, "Bar: the low is above the open or the close");
    if (o->high < o->open || o->high < o->close)
        return tt_err_set(err, TT_EFORMAT, "Bar: the high is below the open or the close");
    if (!volume_ok(b->volume))
        return tt_err_set(err, TT_EFORMAT, "Bar: field 'volume' is negative, not finite or too "
                                           "large");
    o->volume = b->volume;
    o->ticks = b->ticks;
    o->tf = (uint8_t)tf;
    o->side = (uint8_t)side;
    return TT_OK;
}

int tt_wire_external_decode(const char *subject, const void *data, size_t len, tt_event *ev,
                            tt_err *err)
{
    char type[64];
    if (subject_part(subject, 2, type, sizeof type))
        return tt_err_set(err, TT_EFORMAT, "subject is not market.external.{type}");
    memset(ev, 0, sizeof *ev);
    ev->kind = TT_EV_EXTERNAL;
    ev->cls = TT_CLS_EXTERNAL;
    ev->u.blob.type = !strcmp(type, "economic_calendar")  ? TT_EXT_ECONOMIC_CALENDAR
                      : !strcmp(type, "fred_indicators")  ? TT_EXT_FRED_INDICATORS
                      : !strcmp(type, "commodity_prices") ? TT_EXT_COMMODITY_PRICES
                                                          : TT_EXT_OTHER;
    ev->u.blob.len = (uint32_t)len;
    ev->u.blob.data = data;
    /* The headline number, when the message is JSON with a "value" key. */
    const char *p = data, *end = p + len;
    static const char key[] = "\"value\"";
    for (; p && p + sizeof key - 1 < end; p++) {
        if (memcmp(p, key, sizeof key - 1) == 0) {
            jcur c = {p + sizeof key - 1, end};
            jws(&c);
            if (c.p < c.end && *c.p == ':') {
                c.p++;
                jws(&c);
                double v;
                if (!jnum(&c, &v))
                    ev->u.blob.value = v;
            }
            break;
        }
    }
    return TT_OK;
}

/* ---- outputs ---- */

/* The seed's orders.{status} subjects use the engine's status names; an
 * unknown status goes out as "failed". */
static const char *status_subject(int status)
{
    const char *n = tt_order_status_name(status);
    return n[0] == '?' ? "failed" : n;
}

static int alert_rule(int rule)
{
    return rule == TT_RULE_KILL_SWITCH || rule == TT_RULE_MAX_DRAWDOWN ||
           rule == TT_RULE_DAILY_LOSS || rule == TT_RULE_MARGIN_CALL || rule == TT_RULE_STOP_OUT;
}

int tt_wire_output_subjects(const tt_instruments *ins, const tt_event *ev,
                            char (*subj)[TT_WIRE_SUBJECT_MAX], int max)
{
    const tt_instrument *in = tt_instruments_get(ins, ev->symbol);
    const char *sym = in ? in->symbol : "_";
    int n = 0;
#define ADD(...)                                                                                  \
    do {                                                                                          \
        if (n < max)                                                                              \
            snprintf(subj[n++], TT_WIRE_SUBJECT_MAX, __VA_ARGS__);                                \
    } while (0)
    switch (ev->kind) {
    case TT_EV_SIGNAL: ADD("signals.%s", sym); break;
    case TT_EV_RISK:
        ADD("signals.%s.%s", ev->u.risk.approved ? "approved" : "rejected", sym);
        if (!ev->u.risk.approved && alert_rule(ev->u.risk.rule)) {
            ADD("risk.alert.%s", tt_risk_rule_name(ev->u.risk.rule));
            if (ev->u.risk.rule == TT_RULE_MAX_DRAWDOWN)
                ADD("performance.alert.drawdown_limit");
            else if (ev->u.risk.rule == TT_RULE_DAILY_LOSS)
                ADD("performance.alert.daily_loss_limit");
        }
        break;
    case TT_EV_ORDER_CMD: ADD("orders.pending.%s", sym); break;
    case TT_EV_ORDER_EVENT: ADD("orders.%s.%s", status_subject(ev->u.order_ev.status), sym); break;
    case TT_EV_BAR:
        ADD("bars.%s.%s", sym,
            tt_timeframe_seed_name(ev->u.bar.tf)[0] == '?' ? tt_timeframe_name(ev->u.bar.tf)
                                                           : tt_timeframe_seed_name(ev->u.bar.tf));
        break;
    case TT_EV_CONTROL:
        if (ev->u.control.op == TT_CTL_KILL)
            ADD("risk.alert.kill_switch");
        break;
    default: break;
    }
#undef ADD
    return n;
}

int tt_wire_output_topics(const tt_event *ev, const char **topics, int max)
{
    int n = 0;
#define ADD(t)                                                                                    \
    do {                                                                                          \
        if (n + 1 < max)                                                                          \
            topics[n++] = (t);                                                                    \
    } while (0)
    switch (ev->kind) {
    case TT_EV_SIGNAL: ADD("trading_signals_archive"); break;
    case TT_EV_RISK:
        ADD("trading_signals_archive");
        ADD("risk_events_archive");
        break;
    case TT_EV_ORDER_CMD:
    case TT_EV_ORDER_EVENT:
        ADD("order_execution_archive");
        ADD("broker_communication_log");
        break;
    case TT_EV_BAR: ADD("aggregate_archive"); break;
    case TT_EV_CONTROL:
        if (ev->u.control.op == TT_CTL_KILL)
            ADD("risk_events_archive");
        break;
    case TT_EV_EQUITY: ADD("risk_events_archive"); break;
    case TT_EV_EXTERNAL: ADD("external_data_archive"); break; /* an input, archived as it came */
    default: break;
    }
#undef ADD
    if (max > 0)
        topics[n] = NULL;
    return n;
}

const char *tt_wire_output_type(const tt_event *ev)
{
    switch (ev->kind) {
    case TT_EV_SIGNAL: return "aitrading.trading.TradingSignal";
    case TT_EV_RISK: return "ticktape.RiskDecision";
    case TT_EV_ORDER_CMD: return "ticktape.OrderCommand";
    case TT_EV_ORDER_EVENT: return "ticktape.OrderEvent";
    case TT_EV_BAR: return "ticktape.Bar";
    case TT_EV_CONTROL: return "ticktape.Control";
    case TT_EV_EQUITY: return "ticktape.Equity";
    case TT_EV_EXTERNAL: return "external"; /* the message bytes as received */
    default: return NULL;
    }
}

static Ticktape__OrderSide side_to_pb(int side)
{
    return side == TT_BUY ? TICKTAPE__ORDER_SIDE__BUY
           : side == TT_SELL ? TICKTAPE__ORDER_SIDE__SELL
                             : TICKTAPE__ORDER_SIDE__SIDE_UNKNOWN;
}

static int side_from_pb(Ticktape__OrderSide s)
{
    return s == TICKTAPE__ORDER_SIDE__BUY ? TT_BUY : s == TICKTAPE__ORDER_SIDE__SELL ? TT_SELL : 0;
}

#define PACK(type, msg)                                                                           \
    do {                                                                                          \
        size_t need_ = type##__get_packed_size(msg);                                              \
        if (need_ > cap)                                                                          \
            return 0;                                                                             \
        return type##__pack(msg, buf);                                                            \
    } while (0)

size_t tt_wire_signal_encode(const tt_instruments *ins, const tt_event *ev, const double *features,
                             int nfeatures, uint8_t *buf, size_t cap)
{
    const tt_instrument *in = tt_instruments_get(ins, ev->symbol);
    if (ev->kind != TT_EV_SIGNAL)
        return 0;
    const tt_signal *s = &ev->u.signal;
    Aitrading__Trading__TradingSignal m = AITRADING__TRADING__TRADING_SIGNAL__INIT;
    m.symbol = in ? (char *)in->symbol : "";
    m.type = s->direction > 0   ? AITRADING__TRADING__SIGNAL_TYPE__SIGNAL_BUY
             : s->direction < 0 ? AITRADING__TRADING__SIGNAL_TYPE__SIGNAL_SELL
                                : AITRADING__TRADING__SIGNAL_TYPE__SIGNAL_CLOSE;
    m.confidence = fabs(s->strength);
    if (in) {
        m.target_price = s->target_price ? tt_price_to_double(in, s->target_price) : 0;
        m.stop_loss = s->stop_loss ? tt_price_to_double(in, s->stop_loss) : 0;
        m.take_profit = s->take_profit ? tt_price_to_double(in, s->take_profit) : 0;
    }
    m.timestamp = ev->ts / TT_NS_PER_MS;
    m.agent_source = "ticktape";
    /* a model's signal also carries its ModelPrediction (docs/ml.md) */
    Aitrading__Trading__ModelPrediction mp = AITRADING__TRADING__MODEL_PREDICTION__INIT;
    char model_id[17];
    if (s->has_model) {
        snprintf(model_id, sizeof model_id, "%016llx", (unsigned long long)s->model_id);
        mp.model_id = model_id;
        mp.model_version = "xgboost";
        mp.accuracy_score = s->prediction;
        if (features && nfeatures > 0) {
            mp.n_features = (size_t)(nfeatures < TT_WIRE_FEATURES_MAX ? nfeatures
                                                                      : TT_WIRE_FEATURES_MAX);
            mp.features = (double *)features;
        }
        m.ml_data = &mp;
    }
    PACK(aitrading__trading__trading_signal, &m);
}

size_t tt_wire_output_encode(const tt_instruments *ins, const tt_event *ev, uint8_t *buf,
                             size_t cap)
{
    const tt_instrument *in = tt_instruments_get(ins, ev->symbol);
    switch (ev->kind) {
    case TT_EV_SIGNAL: return tt_wire_signal_encode(ins, ev, NULL, 0, buf, cap);
    case TT_EV_RISK: {
        Ticktape__RiskDecision m = TICKTAPE__RISK_DECISION__INIT;
        m.client_id = ev->u.risk.client_id;
        m.approved = ev->u.risk.approved != 0;
        m.rule = (char *)tt_risk_rule_name(ev->u.risk.rule);
        m.value = ev->u.risk.value;
        m.limit = ev->u.risk.limit;
        PACK(ticktape__risk_decision, &m);
    }
    case TT_EV_ORDER_CMD: {
        const tt_order_cmd *c = &ev->u.order_cmd;
        Ticktape__OrderCommand m = TICKTAPE__ORDER_COMMAND__INIT;
        m.client_id = c->client_id;
        m.command = (Ticktape__CommandKind)c->cmd;
        m.type = (Ticktape__OrderType)c->type;
        m.side = side_to_pb(c->side);
        m.tif = (Ticktape__TimeInForce)c->tif;
        m.quantity = c->qty;
        m.price_points = c->price;
        m.stop_price_points = c->stop_price;
        m.take_profit_points = c->take_profit;
        m.stop_loss_points = c->stop_loss;
        m.expire_time_ns = c->expire_ts;
        m.position = c->position;
        PACK(ticktape__order_command, &m);
    }
    case TT_EV_ORDER_EVENT: {
        const tt_order_event *o = &ev->u.order_ev;
        Ticktape__OrderEvent m = TICKTAPE__ORDER_EVENT__INIT;
        m.client_id = o->client_id;
        m.venue_id = o->venue_id;
        m.status = (Ticktape__OrderStatus)o->status;
        m.side = side_to_pb(o->side);
        m.type = (Ticktape__OrderType)o->type;
        m.fill_quantity = o->fill_qty;
        m.fill_price_points = o->fill_price;
        m.leaves_quantity = o->leaves_qty;
        m.commission_minor = o->commission;
        m.reason = o->reason;
        m.fill_price = in && o->fill_price ? tt_price_to_double(in, o->fill_price) : 0;
        PACK(ticktape__order_event, &m);
    }
    case TT_EV_BAR: {
        const tt_bar *b = &ev->u.bar;
        Ticktape__Bar m = TICKTAPE__BAR__INIT;
        m.timeframe = (char *)tt_timeframe_name(b->tf);
        m.side = (char *)side_name(b->side);
        m.open_points = b->open;
        m.high_points = b->high;
        m.low_points = b->low;
        m.close_points = b->close;
        m.volume = b->volume;
        m.ticks = b->ticks;
        if (in) {
            m.open = tt_price_to_double(in, b->open);
            m.high = tt_price_to_double(in, b->high);
            m.low = tt_price_to_double(in, b->low);
            m.close = tt_price_to_double(in, b->close);
        }
        PACK(ticktape__bar, &m);
    }
    case TT_EV_CONTROL: {
        Ticktape__Control m = TICKTAPE__CONTROL__INIT;
        m.op = ev->u.control.op;
        m.arg = ev->u.control.arg;
        PACK(ticktape__control, &m);
    }
    case TT_EV_EQUITY: {
        Ticktape__Equity m = TICKTAPE__EQUITY__INIT;
        m.balance_minor = ev->u.equity.balance;
        m.equity_minor = ev->u.equity.equity;
        m.margin_minor = ev->u.equity.margin;
        m.free_margin_minor = ev->u.equity.free_margin;
        PACK(ticktape__equity, &m);
    }
    default: return 0;
    }
}

int tt_wire_order_event_decode(const void *data, size_t len, tt_event *ev, tt_err *err)
{
    arena a;
    a.used = 0;
    ProtobufCAllocator al = ARENA_ALLOCATOR(a);
    Ticktape__OrderEvent *m = ticktape__order_event__unpack(&al, len, data);
    if (!m)
        return tt_err_set(err, TT_EFORMAT, "OrderEvent: not a valid protobuf message");
    ev->kind = TT_EV_ORDER_EVENT;
    tt_order_event *o = &ev->u.order_ev;
    memset(o, 0, sizeof *o);
    o->client_id = m->client_id;
    o->venue_id = m->venue_id;
    o->status = (uint8_t)m->status;
    o->side = (int8_t)side_from_pb(m->side);
    o->type = (uint8_t)m->type;
    o->fill_qty = m->fill_quantity;
    o->fill_price = m->fill_price_points;
    o->leaves_qty = m->leaves_quantity;
    o->commission = m->commission_minor;
    o->reason = (uint16_t)m->reason;
    return TT_OK;
}

int tt_wire_order_cmd_decode(const void *data, size_t len, tt_event *ev, tt_err *err)
{
    arena a;
    a.used = 0;
    ProtobufCAllocator al = ARENA_ALLOCATOR(a);
    Ticktape__OrderCommand *m = ticktape__order_command__unpack(&al, len, data);
    if (!m)
        return tt_err_set(err, TT_EFORMAT, "OrderCommand: not a valid protobuf message");
    ev->kind = TT_EV_ORDER_CMD;
    tt_order_cmd *c = &ev->u.order_cmd;
    memset(c, 0, sizeof *c);
    c->client_id = m->client_id;
    c->cmd = (uint8_t)m->command;
    c->type = (uint8_t)m->type;
    c->side = (int8_t)side_from_pb(m->side);
    c->tif = (uint8_t)m->tif;
    c->qty = m->quantity;
    c->price = m->price_points;
    c->stop_price = m->stop_price_points;
    c->take_profit = m->take_profit_points;
    c->stop_loss = m->stop_loss_points;
    c->expire_ts = m->expire_time_ns;
    c->position = m->position;
    return TT_OK;
}

/* ---- JSON outputs ---- */

static const char *side_word(int side)
{
    return side == TT_BUY ? "buy" : side == TT_SELL ? "sell" : "none";
}

static const char *type_word(int type)
{
    switch (type) {
    case TT_ORD_MARKET: return "market";
    case TT_ORD_LIMIT: return "limit";
    case TT_ORD_STOP: return "stop";
    case TT_ORD_STOP_LIMIT: return "stop_limit";
    default: return "unknown";
    }
}

/* An exact decimal price ("1.14431"), or 0 without an instrument. */
static void jprice(const tt_instrument *in, tt_price p, char *buf, size_t cap)
{
    if (!in || tt_price_format(in, p, buf, (int)cap) < 0)
        snprintf(buf, cap, "%lld", (long long)p);
}

size_t tt_wire_signal_json(const tt_instruments *ins, const tt_event *ev, const double *features,
                           int nfeatures, char *buf, size_t cap)
{
    if (ev->kind != TT_EV_SIGNAL)
        return 0;
    const tt_instrument *in = tt_instruments_get(ins, ev->symbol);
    const tt_signal *x = &ev->u.signal;
    char a[40], b[40], c[40];
    jprice(in, x->target_price, a, sizeof a);
    jprice(in, x->stop_loss, b, sizeof b);
    jprice(in, x->take_profit, c, sizeof c);
    int n = snprintf(buf, cap,
                     "{\"symbol\":\"%s\",\"type\":\"%s\",\"confidence\":%.17g,\"target_price\":%s,"
                     "\"stop_loss\":%s,\"take_profit\":%s,\"timestamp\":%lld,"
                     "\"agent_source\":\"ticktape\"",
                     in ? in->symbol : "",
                     x->direction > 0 ? "BUY" : x->direction < 0 ? "SELL" : "CLOSE",
                     fabs(x->strength), a, b, c, (long long)(ev->ts / TT_NS_PER_MS));
    if (x->has_model && n > 0 && (size_t)n < cap) {
        n += snprintf(buf + n, cap - (size_t)n,
                      ",\"ml_data\":{\"model_id\":\"%016llx\",\"model_version\":\"xgboost\","
                      "\"accuracy_score\":%.9g,\"features\":",
                      (unsigned long long)x->model_id, (double)x->prediction);
        if (n > 0 && (size_t)n < cap)
            n += (int)tt_wire_json_doubles(features, nfeatures < TT_WIRE_FEATURES_MAX
                                                         ? nfeatures : TT_WIRE_FEATURES_MAX,
                                           buf + n, cap - (size_t)n);
        if (n > 0 && (size_t)n < cap)
            n += snprintf(buf + n, cap - (size_t)n, "}");
    }
    if (n > 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, "}");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t tt_wire_output_json(const tt_instruments *ins, const tt_event *ev, char *buf, size_t cap)
{
    const tt_instrument *in = tt_instruments_get(ins, ev->symbol);
    const char *sym = in ? in->symbol : "";
    long long ms = (long long)(ev->ts / TT_NS_PER_MS);
    char a[40], b[40], c[40], d[40];
    int n;
    switch (ev->kind) {
    case TT_EV_SIGNAL: return tt_wire_signal_json(ins, ev, NULL, 0, buf, cap);
    case TT_EV_RISK: {
        const tt_risk *x = &ev->u.risk;
        n = snprintf(buf, cap,
                     "{\"symbol\":\"%s\",\"client_id\":%llu,\"approved\":%s,\"rule\":\"%s\","
                     "\"value\":%.17g,\"limit\":%.17g,\"timestamp\":%lld}",
                     sym, (unsigned long long)x->client_id, x->approved ? "true" : "false",
                     tt_risk_rule_name(x->rule), isfinite(x->value) ? x->value : 0,
                     isfinite(x->limit) ? x->limit : 0, ms);
        break;
    }
    case TT_EV_ORDER_CMD: {
        const tt_order_cmd *x = &ev->u.order_cmd;
        jprice(in, x->price, a, sizeof a);
        jprice(in, x->stop_price, b, sizeof b);
        jprice(in, x->take_profit, c, sizeof c);
        jprice(in, x->stop_loss, d, sizeof d);
        n = snprintf(buf, cap,
                     "{\"symbol\":\"%s\",\"client_id\":%llu,\"command\":\"%s\",\"type\":\"%s\","
                     "\"side\":\"%s\",\"quantity\":%lld,\"price\":%s,\"stop_price\":%s,"
                     "\"take_profit\":%s,\"stop_loss\":%s,\"timestamp\":%lld}",
                     sym, (unsigned long long)x->client_id,
                     x->cmd == TT_CMD_CANCEL ? "cancel" : x->cmd == TT_CMD_MODIFY ? "modify"
                                                                                   : "submit",
                     type_word(x->type), side_word(x->side), (long long)x->qty, a, b, c, d, ms);
        break;
    }
    case TT_EV_ORDER_EVENT: {
        const tt_order_event *x = &ev->u.order_ev;
        jprice(in, x->fill_price, a, sizeof a);
        n = snprintf(buf, cap,
                     "{\"symbol\":\"%s\",\"client_id\":%llu,\"venue_id\":%llu,\"status\":\"%s\","
                     "\"side\":\"%s\",\"type\":\"%s\",\"fill_quantity\":%lld,\"fill_price\":%s,"
                     "\"leaves_quantity\":%lld,\"commission_minor\":%lld,\"reason\":%u,"
                     "\"timestamp\":%lld}",
                     sym, (unsigned long long)x->client_id, (unsigned long long)x->venue_id,
                     tt_order_status_name(x->status), side_word(x->side), type_word(x->type),
                     (long long)x->fill_qty, a, (long long)x->leaves_qty,
                     (long long)x->commission, x->reason, ms);
        break;
    }
    case TT_EV_BAR: {
        const tt_bar *x = &ev->u.bar;
        jprice(in, x->open, a, sizeof a);
        jprice(in, x->high, b, sizeof b);
        jprice(in, x->low, c, sizeof c);
        jprice(in, x->close, d, sizeof d);
        n = snprintf(buf, cap,
                     "{\"symbol\":\"%s\",\"timeframe\":\"%s\",\"side\":\"%s\",\"open\":%s,"
                     "\"high\":%s,\"low\":%s,\"close\":%s,\"volume\":%.17g,\"ticks\":%u,"
                     "\"timestamp\":%lld}",
                     sym, tt_timeframe_name(x->tf), side_name(x->side), a, b, c, d,
                     isfinite(x->volume) ? x->volume : 0, x->ticks, ms);
        break;
    }
    case TT_EV_CONTROL:
        n = snprintf(buf, cap, "{\"op\":%u,\"arg\":%u,\"timestamp\":%lld}", ev->u.control.op,
                     ev->u.control.arg, ms);
        break;
    case TT_EV_EQUITY: {
        const tt_equity *x = &ev->u.equity;
        n = snprintf(buf, cap,
                     "{\"balance_minor\":%lld,\"equity_minor\":%lld,\"margin_minor\":%lld,"
                     "\"free_margin_minor\":%lld,\"timestamp\":%lld}",
                     (long long)x->balance, (long long)x->equity, (long long)x->margin,
                     (long long)x->free_margin, ms);
        break;
    }
    default: return 0;
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
