/*
 * Run fingerprint and canonical event encoding.
 *
 * The canonical encoding is also the wire form of events in blob streams of
 * the tape (journals), so it is explicit little-endian field by field: the
 * header (ts, ts_init, seq, symbol, source, kind, cls) followed by the payload
 * of the event's kind. Doubles are written as their IEEE-754 bits.
 *
 * The fingerprint hashes the canonical bytes as they are produced: each
 * output is encoded straight into a buffer in the state, and the buffer goes
 * to XXH3 a few kilobytes at a time. XXH3's streaming form gives the same
 * hash however its input is cut, so this is the XXH3-128 of the
 * concatenated encodings, exactly as when each event was hashed on its own;
 * it just spares the per-call cost of a small update (the fields are written
 * with single little-endian stores for the same reason). A digest hashes
 * what is still buffered into a copy of the state, so it can be taken at
 * any time without disturbing what follows.
 */
#include "fingerprint.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define FP_BUF 4096 /* bytes encoded before they go to XXH3 */

static size_t encode(const tt_event *ev, tt_ts ts, tt_ts ts_init, uint64_t seq, uint8_t cls,
                     uint8_t *buf, int include_blob);

struct tt_fp_state {
    XXH3_state_t *st;
    size_t n; /* bytes in buf */
    uint8_t buf[FP_BUF];
};

tt_fp_state *tt_fp_new(void)
{
    tt_fp_state *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    s->st = XXH3_createState();
    if (!s->st) {
        free(s);
        return NULL;
    }
    XXH3_128bits_reset(s->st);
    s->n = 0;
    return s;
}

void tt_fp_free(tt_fp_state *s)
{
    if (s) {
        XXH3_freeState(s->st);
        free(s);
    }
}

void tt_fp_reset(tt_fp_state *s)
{
    XXH3_128bits_reset(s->st);
    s->n = 0;
}

static void fp_flush(tt_fp_state *s)
{
    if (s->n)
        XXH3_128bits_update(s->st, s->buf, s->n);
    s->n = 0;
}

void tt_fp_update(tt_fp_state *s, const void *data, size_t len)
{
    if (s->n + len > FP_BUF || len > FP_BUF / 2)
        fp_flush(s);
    if (len > FP_BUF / 2) { /* big: straight to XXH3, after what is buffered */
        XXH3_128bits_update(s->st, data, len);
        return;
    }
    memcpy(s->buf + s->n, data, len);
    s->n += len;
}

void tt_fp_update_stamped(tt_fp_state *s, const tt_event *ev, tt_ts ts, tt_ts ts_init,
                          uint64_t seq, uint8_t cls)
{
    if (s->n + TT_EVENT_ENCODED_MAX > FP_BUF)
        fp_flush(s);
    s->n += encode(ev, ts, ts_init, seq, cls, s->buf + s->n, 0);
    if ((ev->kind == TT_EV_BLOB || ev->kind == TT_EV_EXTERNAL) && ev->u.blob.len)
        tt_fp_update(s, ev->u.blob.data, ev->u.blob.len);
}

void tt_fp_update_event(tt_fp_state *s, const tt_event *ev)
{
    tt_fp_update_stamped(s, ev, ev->ts, ev->ts_init, ev->seq, ev->cls);
}

tt_fingerprint tt_fp_digest(const tt_fp_state *s)
{
    XXH128_hash_t h;
    XXH3_state_t *copy = s->n ? XXH3_createState() : NULL;
    if (copy) {
        XXH3_copyState(copy, s->st);
        XXH3_128bits_update(copy, s->buf, s->n);
        h = XXH3_128bits_digest(copy);
        XXH3_freeState(copy);
    } else if (!s->n) {
        h = XXH3_128bits_digest(s->st);
    } else {
        /* no memory for a copy: hash the buffer into the state itself, which
         * leaves the stream the same (the bytes are hashed once either way) */
        tt_fp_state *w = (tt_fp_state *)s;
        fp_flush(w);
        h = XXH3_128bits_digest(w->st);
    }
    tt_fingerprint fp = {h.high64, h.low64};
    return fp;
}

void tt_fingerprint_hex(tt_fingerprint fp, char out[33])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[i] = hx[(fp.hi >> (60 - 4 * i)) & 15];
        out[16 + i] = hx[(fp.lo >> (60 - 4 * i)) & 15];
    }
    out[32] = '\0';
}

/* ---- canonical encoding ---- */

typedef struct wbuf {
    uint8_t *p;
} wbuf;

/* Little-endian stores: one store each on a little-endian host. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE16(v) __builtin_bswap16(v)
#define LE32(v) __builtin_bswap32(v)
#define LE64(v) __builtin_bswap64(v)
#else
#define LE16(v) (v)
#define LE32(v) (v)
#define LE64(v) (v)
#endif

#define INLINE static inline __attribute__((always_inline))
INLINE void w8(wbuf *b, uint8_t v) { *b->p++ = v; }
INLINE void w16(wbuf *b, uint16_t v)
{
    v = LE16(v);
    memcpy(b->p, &v, 2);
    b->p += 2;
}
INLINE void w32(wbuf *b, uint32_t v)
{
    v = LE32(v);
    memcpy(b->p, &v, 4);
    b->p += 4;
}
INLINE void w64(wbuf *b, uint64_t v)
{
    v = LE64(v);
    memcpy(b->p, &v, 8);
    b->p += 8;
}
INLINE void wf32(wbuf *b, float f) { uint32_t u; memcpy(&u, &f, 4); w32(b, u); }
INLINE void wf64(wbuf *b, double f) { uint64_t u; memcpy(&u, &f, 8); w64(b, u); }

/* The encoding of ev with the given header fields in place of its own (an
 * output is encoded with the stamps tt_engine_emit gives it, without a copy). */
static size_t encode(const tt_event *ev, tt_ts ts, tt_ts ts_init, uint64_t seq, uint8_t cls,
                     uint8_t *buf, int include_blob)
{
    wbuf b = {buf};
    w64(&b, (uint64_t)ts);
    w64(&b, (uint64_t)ts_init);
    w64(&b, seq);
    w32(&b, ev->symbol);
    w16(&b, ev->source);
    w8(&b, ev->kind);
    w8(&b, cls);
    switch (ev->kind) {
    case TT_EV_QUOTE:
        w64(&b, (uint64_t)ev->u.quote.bid);
        w64(&b, (uint64_t)ev->u.quote.ask);
        wf32(&b, ev->u.quote.bid_vol);
        wf32(&b, ev->u.quote.ask_vol);
        break;
    case TT_EV_TRADE:
        w64(&b, (uint64_t)ev->u.trade.price);
        wf64(&b, ev->u.trade.size);
        w8(&b, (uint8_t)ev->u.trade.aggressor);
        break;
    case TT_EV_BAR:
        w64(&b, (uint64_t)ev->u.bar.open);
        w64(&b, (uint64_t)ev->u.bar.high);
        w64(&b, (uint64_t)ev->u.bar.low);
        w64(&b, (uint64_t)ev->u.bar.close);
        wf64(&b, ev->u.bar.volume);
        w32(&b, ev->u.bar.ticks);
        w8(&b, ev->u.bar.tf);
        w8(&b, ev->u.bar.side);
        break;
    case TT_EV_TIMER:
        w64(&b, ev->u.timer.timer_id);
        w64(&b, ev->u.timer.user);
        break;
    case TT_EV_EXTERNAL:
    case TT_EV_BLOB:
        w32(&b, ev->u.blob.type);
        w32(&b, ev->u.blob.len);
        wf64(&b, ev->u.blob.value);
        break;
    case TT_EV_ORDER_CMD: {
        const tt_order_cmd *c = &ev->u.order_cmd;
        w64(&b, c->client_id);
        w64(&b, (uint64_t)c->qty);
        w64(&b, (uint64_t)c->price);
        w64(&b, (uint64_t)c->stop_price);
        w64(&b, (uint64_t)c->take_profit);
        w64(&b, (uint64_t)c->stop_loss);
        w64(&b, (uint64_t)c->expire_ts);
        w8(&b, c->cmd);
        w8(&b, c->type);
        w8(&b, c->tif);
        w8(&b, (uint8_t)c->side);
        w32(&b, c->position);
        break;
    }
    case TT_EV_ORDER_EVENT: {
        const tt_order_event *o = &ev->u.order_ev;
        w64(&b, o->client_id);
        w64(&b, o->venue_id);
        w64(&b, (uint64_t)o->fill_qty);
        w64(&b, (uint64_t)o->fill_price);
        w64(&b, (uint64_t)o->leaves_qty);
        w64(&b, (uint64_t)o->commission);
        w16(&b, o->reason);
        w8(&b, o->status);
        w8(&b, (uint8_t)o->side);
        w8(&b, o->type);
        break;
    }
    case TT_EV_SIGNAL:
        wf64(&b, ev->u.signal.strength);
        w64(&b, (uint64_t)ev->u.signal.target_price);
        w64(&b, (uint64_t)ev->u.signal.stop_loss);
        w64(&b, (uint64_t)ev->u.signal.take_profit);
        /* A model's signal (direction -1, 0, +1) writes 0x10 + direction + 1,
         * then the prediction and the model id; any other signal encodes as
         * it always did. */
        if (ev->u.signal.has_model) {
            w8(&b, (uint8_t)(0x11 + ev->u.signal.direction));
            wf32(&b, ev->u.signal.prediction);
            w64(&b, ev->u.signal.model_id);
        } else {
            w8(&b, (uint8_t)ev->u.signal.direction);
        }
        break;
    case TT_EV_RISK:
        w64(&b, ev->u.risk.client_id);
        wf64(&b, ev->u.risk.value);
        wf64(&b, ev->u.risk.limit);
        w16(&b, ev->u.risk.rule);
        w8(&b, ev->u.risk.approved);
        break;
    case TT_EV_CONTROL:
        w32(&b, ev->u.control.op);
        w32(&b, ev->u.control.arg);
        break;
    case TT_EV_EQUITY:
        w64(&b, (uint64_t)ev->u.equity.balance);
        w64(&b, (uint64_t)ev->u.equity.equity);
        w64(&b, (uint64_t)ev->u.equity.margin);
        w64(&b, (uint64_t)ev->u.equity.free_margin);
        break;
    default:
        break;
    }
    if (include_blob && (ev->kind == TT_EV_BLOB || ev->kind == TT_EV_EXTERNAL) &&
        ev->u.blob.len) {
        memcpy(b.p, ev->u.blob.data, ev->u.blob.len);
        b.p += ev->u.blob.len;
    }
    return (size_t)(b.p - buf);
}

size_t tt_event_encode(const tt_event *ev, uint8_t *buf, int include_blob)
{
    return encode(ev, ev->ts, ev->ts_init, ev->seq, ev->cls, buf, include_blob);
}

/* ---- canonical decoding ---- */

typedef struct rbuf {
    const uint8_t *p, *end;
    int bad;
} rbuf;

static uint8_t r8(rbuf *b)
{
    if (b->p >= b->end) {
        b->bad = 1;
        return 0;
    }
    return *b->p++;
}
static uint16_t r16(rbuf *b) { uint16_t lo = r8(b); return (uint16_t)(lo | (uint16_t)r8(b) << 8); }
static uint32_t r32(rbuf *b) { uint32_t lo = r16(b); return lo | (uint32_t)r16(b) << 16; }
static uint64_t r64(rbuf *b) { uint64_t lo = r32(b); return lo | (uint64_t)r32(b) << 32; }
static float rf32(rbuf *b) { uint32_t u = r32(b); float f; memcpy(&f, &u, 4); return f; }
static double rf64(rbuf *b) { uint64_t u = r64(b); double f; memcpy(&f, &u, 8); return f; }

size_t tt_event_decode(const uint8_t *buf, size_t len, tt_event *ev)
{
    rbuf b = {buf, buf + len, 0};
    memset(ev, 0, sizeof *ev);
    ev->ts = (tt_ts)r64(&b);
    ev->ts_init = (tt_ts)r64(&b);
    ev->seq = r64(&b);
    ev->symbol = r32(&b);
    ev->source = r16(&b);
    ev->kind = r8(&b);
    ev->cls = r8(&b);
    switch (ev->kind) {
    case TT_EV_QUOTE:
        ev->u.quote.bid = (tt_price)r64(&b);
        ev->u.quote.ask = (tt_price)r64(&b);
        ev->u.quote.bid_vol = rf32(&b);
        ev->u.quote.ask_vol = rf32(&b);
        break;
    case TT_EV_TRADE:
        ev->u.trade.price = (tt_price)r64(&b);
        ev->u.trade.size = rf64(&b);
        ev->u.trade.aggressor = (int8_t)r8(&b);
        break;
    case TT_EV_BAR:
        ev->u.bar.open = (tt_price)r64(&b);
        ev->u.bar.high = (tt_price)r64(&b);
        ev->u.bar.low = (tt_price)r64(&b);
        ev->u.bar.close = (tt_price)r64(&b);
        ev->u.bar.volume = rf64(&b);
        ev->u.bar.ticks = r32(&b);
        ev->u.bar.tf = r8(&b);
        ev->u.bar.side = r8(&b);
        break;
    case TT_EV_TIMER:
        ev->u.timer.timer_id = r64(&b);
        ev->u.timer.user = r64(&b);
        break;
    case TT_EV_EXTERNAL:
    case TT_EV_BLOB:
        ev->u.blob.type = r32(&b);
        ev->u.blob.len = r32(&b);
        ev->u.blob.value = rf64(&b);
        if (b.bad || (size_t)(b.end - b.p) < ev->u.blob.len)
            return 0;
        ev->u.blob.data = ev->u.blob.len ? b.p : NULL;
        b.p += ev->u.blob.len;
        break;
    case TT_EV_ORDER_CMD: {
        tt_order_cmd *c = &ev->u.order_cmd;
        c->client_id = r64(&b);
        c->qty = (int64_t)r64(&b);
        c->price = (tt_price)r64(&b);
        c->stop_price = (tt_price)r64(&b);
        c->take_profit = (tt_price)r64(&b);
        c->stop_loss = (tt_price)r64(&b);
        c->expire_ts = (tt_ts)r64(&b);
        c->cmd = r8(&b);
        c->type = r8(&b);
        c->tif = r8(&b);
        c->side = (int8_t)r8(&b);
        c->position = r32(&b);
        break;
    }
    case TT_EV_ORDER_EVENT: {
        tt_order_event *o = &ev->u.order_ev;
        o->client_id = r64(&b);
        o->venue_id = r64(&b);
        o->fill_qty = (int64_t)r64(&b);
        o->fill_price = (tt_price)r64(&b);
        o->leaves_qty = (int64_t)r64(&b);
        o->commission = (tt_money)r64(&b);
        o->reason = r16(&b);
        o->status = r8(&b);
        o->side = (int8_t)r8(&b);
        o->type = r8(&b);
        break;
    }
    case TT_EV_SIGNAL:
        ev->u.signal.strength = rf64(&b);
        ev->u.signal.target_price = (tt_price)r64(&b);
        ev->u.signal.stop_loss = (tt_price)r64(&b);
        ev->u.signal.take_profit = (tt_price)r64(&b);
        {
            uint8_t d = r8(&b);
            ev->u.signal.has_model = d >= 0x10 && d <= 0x12;
            ev->u.signal.direction = ev->u.signal.has_model ? (int8_t)(d - 0x11) : (int8_t)d;
            if (ev->u.signal.has_model) {
                ev->u.signal.prediction = rf32(&b);
                ev->u.signal.model_id = r64(&b);
            }
        }
        break;
    case TT_EV_RISK:
        ev->u.risk.client_id = r64(&b);
        ev->u.risk.value = rf64(&b);
        ev->u.risk.limit = rf64(&b);
        ev->u.risk.rule = r16(&b);
        ev->u.risk.approved = r8(&b);
        break;
    case TT_EV_CONTROL:
        ev->u.control.op = r32(&b);
        ev->u.control.arg = r32(&b);
        break;
    case TT_EV_EQUITY:
        ev->u.equity.balance = (tt_money)r64(&b);
        ev->u.equity.equity = (tt_money)r64(&b);
        ev->u.equity.margin = (tt_money)r64(&b);
        ev->u.equity.free_margin = (tt_money)r64(&b);
        break;
    case TT_EV_NONE:
        return 0;
    default:
        if (ev->kind >= TT_EV_KIND_COUNT)
            return 0;
        break;
    }
    if (b.bad)
        return 0;
    return (size_t)(b.p - buf);
}
