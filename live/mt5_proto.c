/*
 * The MT5 wire protocol: one table per frame type drives both the encoder and
 * the decoder (frame_fields), so the two cannot disagree on a field's key,
 * position or kind, and the fuzzer's round trip (decode, encode, decode
 * again, same struct) covers every type. Errors name the frame type, the
 * field's position (1-based, after the type word) and key, and show the
 * offending value with unprintable bytes replaced.
 *
 * Nothing here allocates or keeps state beyond the reader's buffer.
 */
#include "mt5_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* ---- enumerations ---- */

static const char *const w_mode[] = {"netting", "hedging", NULL};
static const char *const w_side[] = {"buy", "sell", NULL};
static const char *const w_action[] = {"deal", "pending", "modify", "remove", "sltp", NULL};
static const char *const w_otype[] = {"buy", "sell", "buy_limit", "sell_limit", "buy_stop",
                                      "sell_stop", "buy_stop_limit", "sell_stop_limit", NULL};
static const char *const w_filling[] = {"fok", "ioc", "return", NULL};
static const char *const w_time[] = {"gtc", "day", "specified", "specified_day", NULL};
static const char *const w_entry[] = {"in", "out", "inout", "out_by", NULL};
static const char *const w_dreason[] = {"client", "mobile", "web", "expert", "sl",
                                        "tp", "so", "rollover", "vmargin", "split", NULL};
static const char *const w_ostate[] = {"none", "started", "placed", "canceled", "partial",
                                       "filled", "rejected", "expired", NULL};
static const char *const w_exec[] = {"request", "instant", "market", "exchange", NULL};
static const char *const w_trade[] = {"disabled", "long_only", "short_only", "close_only", "full",
                                      NULL};
static const char *const w_swap[] = {"disabled", "points", "other", NULL};

/* ---- field tables ---- */

enum fkind { K_U32, K_I32, K_U64, K_I64, K_DEC, K_STR, K_SYM, K_HEX, K_WORD };

typedef struct fdesc {
    const char *key;
    uint8_t kind;
    uint16_t off;          /* offset in tt_mt5_frame */
    uint16_t cap;          /* strings: buffer size */
    const char *const *words;
} fdesc;

#define OFF(m) ((uint16_t)offsetof(tt_mt5_frame, u.m))
#define SZ(m) ((uint16_t)sizeof(((tt_mt5_frame *)0)->u.m))
#define U32(k, m) {k, K_U32, OFF(m), 0, NULL}
#define I32(k, m) {k, K_I32, OFF(m), 0, NULL}
#define U64(k, m) {k, K_U64, OFF(m), 0, NULL}
#define I64(k, m) {k, K_I64, OFF(m), 0, NULL}
#define DEC(k, m) {k, K_DEC, OFF(m), 0, NULL}
#define STR(k, m) {k, K_STR, OFF(m), SZ(m), NULL}
#define SYM(k, m) {k, K_SYM, OFF(m), SZ(m), NULL}
#define HEX(k, m) {k, K_HEX, OFF(m), SZ(m), NULL}
#define WORD(k, m, w) {k, K_WORD, OFF(m), 0, w}

static const fdesc f_hello[] = {
    U32("v", hello.version), U32("build", hello.build), U64("login", hello.login),
    STR("server", hello.server), STR("company", hello.company),
    STR("currency", hello.currency), U32("leverage", hello.leverage),
    WORD("mode", hello.mode, w_mode), I32("tz", hello.tz), HEX("cnonce", hello.cnonce)};
static const fdesc f_challenge[] = {U32("v", challenge.version), HEX("nonce", challenge.nonce)};
static const fdesc f_auth[] = {HEX("mac", auth.mac)};
static const fdesc f_welcome[] = {HEX("mac", welcome.mac), U32("hb", welcome.hb)};
static const fdesc f_text[] = {STR("reason", text.reason)};
static const fdesc f_hb[] = {I64("t", hb.t)};
static const fdesc f_sub[] = {SYM("sym", sub.sym)};
static const fdesc f_spec[] = {
    SYM("sym", spec.sym), U32("digits", spec.digits), DEC("point", spec.point),
    DEC("contract", spec.contract), DEC("vmin", spec.vmin), DEC("vmax", spec.vmax),
    DEC("vstep", spec.vstep), U32("stops", spec.stops), U32("freeze", spec.freeze),
    U32("filling", spec.filling), WORD("exec", spec.exec, w_exec),
    WORD("trade", spec.trade, w_trade), WORD("swapmode", spec.swap_mode, w_swap),
    DEC("swap_long", spec.swap_long), DEC("swap_short", spec.swap_short),
    U32("swap3", spec.swap3), DEC("margin_rate", spec.margin_rate), STR("base", spec.base),
    STR("profit", spec.profit), DEC("comm", spec.comm)};
static const fdesc f_tick[] = {SYM("sym", tick.sym), I64("t", tick.t), DEC("bid", tick.bid),
                               DEC("ask", tick.ask), DEC("bv", tick.bv), DEC("av", tick.av)};
static const fdesc f_account[] = {I64("t", account.t), DEC("balance", account.balance),
                                  DEC("equity", account.equity), DEC("margin", account.margin),
                                  DEC("free", account.free)};
static const fdesc f_snapshot[] = {U64("id", snap.id)};
static const fdesc f_snap[] = {U64("id", snap.id), U32("positions", snap.positions),
                               U32("orders", snap.orders)};
static const fdesc f_histend[] = {U64("id", snap.id), U32("deals", snap.deals)};
static const fdesc f_pos[] = {
    U64("ticket", pos.ticket), SYM("sym", pos.sym), WORD("side", pos.side, w_side),
    DEC("vol", pos.vol), DEC("price", pos.price), DEC("sl", pos.sl), DEC("tp", pos.tp),
    DEC("swap", pos.swap), DEC("profit", pos.profit), I64("t", pos.t), U64("magic", pos.magic),
    STR("comment", pos.comment)};
static const fdesc f_ord[] = {
    U64("ticket", ord.ticket), SYM("sym", ord.sym), WORD("type", ord.type, w_otype),
    DEC("vol", ord.vol), DEC("vol_cur", ord.vol_cur), DEC("price", ord.price),
    DEC("stoplimit", ord.stoplimit), DEC("sl", ord.sl), DEC("tp", ord.tp),
    WORD("filling", ord.filling, w_filling), WORD("time", ord.time, w_time), I64("exp", ord.exp),
    I64("t", ord.t), U64("magic", ord.magic), STR("comment", ord.comment)};
static const fdesc f_order[] = {
    U64("id", order.id), WORD("action", order.action, w_action), SYM("sym", order.sym),
    WORD("type", order.type, w_otype), DEC("vol", order.vol), DEC("price", order.price),
    DEC("stoplimit", order.stoplimit), DEC("sl", order.sl), DEC("tp", order.tp),
    U32("dev", order.dev), WORD("filling", order.filling, w_filling),
    WORD("time", order.time, w_time), I64("exp", order.exp), U64("order", order.order),
    U64("position", order.position), U64("magic", order.magic), STR("comment", order.comment)};
static const fdesc f_result[] = {
    U64("id", result.id), U32("retcode", result.retcode), U64("deal", result.deal),
    U64("order", result.order), DEC("vol", result.vol), DEC("price", result.price),
    DEC("bid", result.bid), DEC("ask", result.ask), U32("reqid", result.reqid),
    I32("ext", result.ext), STR("comment", result.comment)};
static const fdesc f_deal[] = {
    U64("deal", deal.deal), U64("order", deal.order), U64("position", deal.position),
    SYM("sym", deal.sym), WORD("side", deal.side, w_side), WORD("entry", deal.entry, w_entry),
    WORD("reason", deal.reason, w_dreason), DEC("vol", deal.vol), DEC("price", deal.price),
    DEC("comm", deal.comm), DEC("swap", deal.swap), DEC("profit", deal.profit), I64("t", deal.t),
    U64("magic", deal.magic), STR("comment", deal.comment)};
static const fdesc f_query[] = {U64("id", query.id), U64("magic", query.magic),
                                U64("order", query.order)};
static const fdesc f_state[] = {
    U64("id", state.id), U64("order", state.order), U64("magic", state.magic),
    WORD("state", state.state, w_ostate), DEC("vol", state.vol), DEC("vol_cur", state.vol_cur),
    I64("t", state.t)};
static const fdesc f_history[] = {U64("id", history.id), I64("from", history.from)};

typedef struct ftype {
    const char *name;
    const fdesc *fields;
    int nfields;
} ftype;

#define T(name, tab) {name, tab, (int)(sizeof tab / sizeof tab[0])}
static const ftype frame_fields[TT_MT5_FRAME_TYPES] = {
    [TT_MT5_NONE] = {"?", NULL, 0},
    [TT_MT5_HELLO] = T("HELLO", f_hello),
    [TT_MT5_CHALLENGE] = T("CHALLENGE", f_challenge),
    [TT_MT5_AUTH] = T("AUTH", f_auth),
    [TT_MT5_WELCOME] = T("WELCOME", f_welcome),
    [TT_MT5_BYE] = T("BYE", f_text),
    [TT_MT5_ERROR] = T("ERROR", f_text),
    [TT_MT5_HB] = T("HB", f_hb),
    [TT_MT5_SUB] = T("SUB", f_sub),
    [TT_MT5_SPEC] = T("SPEC", f_spec),
    [TT_MT5_TICK] = T("TICK", f_tick),
    [TT_MT5_ACCOUNT] = T("ACCOUNT", f_account),
    [TT_MT5_SNAPSHOT] = T("SNAPSHOT", f_snapshot),
    [TT_MT5_SNAP] = T("SNAP", f_snap),
    [TT_MT5_POS] = T("POS", f_pos),
    [TT_MT5_ORD] = T("ORD", f_ord),
    [TT_MT5_SNAPEND] = T("SNAPEND", f_snapshot),
    [TT_MT5_ORDER] = T("ORDER", f_order),
    [TT_MT5_RESULT] = T("RESULT", f_result),
    [TT_MT5_DEAL] = T("DEAL", f_deal),
    [TT_MT5_QUERY] = T("QUERY", f_query),
    [TT_MT5_STATE] = T("STATE", f_state),
    [TT_MT5_HISTORY] = T("HISTORY", f_history),
    [TT_MT5_HISTEND] = T("HISTEND", f_histend),
};

const char *tt_mt5_frame_name(int type)
{
    return type > 0 && type < TT_MT5_FRAME_TYPES ? frame_fields[type].name : "?";
}

static int word_count(const char *const *w)
{
    int n = 0;
    while (w[n])
        n++;
    return n;
}

/* ---- retcodes ---- */

const char *tt_mt5_retcode_name(uint32_t rc)
{
#define RC(n, name) [n] = "TRADE_RETCODE_" name
    static const char *const names[] = {
        RC(4, "REQUOTE"), RC(6, "REJECT"), RC(7, "CANCEL"), RC(8, "PLACED"), RC(9, "DONE"),
        RC(10, "DONE_PARTIAL"), RC(11, "ERROR"), RC(12, "TIMEOUT"), RC(13, "INVALID"),
        RC(14, "INVALID_VOLUME"), RC(15, "INVALID_PRICE"), RC(16, "INVALID_STOPS"),
        RC(17, "TRADE_DISABLED"), RC(18, "MARKET_CLOSED"), RC(19, "NO_MONEY"),
        RC(20, "PRICE_CHANGED"), RC(21, "PRICE_OFF"), RC(22, "INVALID_EXPIRATION"),
        RC(23, "ORDER_CHANGED"), RC(24, "TOO_MANY_REQUESTS"), RC(25, "NO_CHANGES"),
        RC(26, "SERVER_DISABLES_AT"), RC(27, "CLIENT_DISABLES_AT"), RC(28, "LOCKED"),
        RC(29, "FROZEN"), RC(30, "INVALID_FILL"), RC(31, "CONNECTION"), RC(32, "ONLY_REAL"),
        RC(33, "LIMIT_ORDERS"), RC(34, "LIMIT_VOLUME"), RC(35, "INVALID_ORDER"),
        RC(36, "POSITION_CLOSED"), RC(38, "INVALID_CLOSE_VOLUME"), RC(39, "CLOSE_ORDER_EXIST"),
        RC(40, "LIMIT_POSITIONS"), RC(41, "REJECT_CANCEL"), RC(42, "LONG_ONLY"),
        RC(43, "SHORT_ONLY"), RC(44, "CLOSE_ONLY"), RC(45, "FIFO_CLOSE"),
        RC(46, "HEDGE_PROHIBITED")};
#undef RC
    if (rc < 10000 || rc - 10000 >= sizeof names / sizeof names[0])
        return NULL;
    return names[rc - 10000];
}

/* ---- decimals ---- */

int tt_mt5_dec_parse(const char *s, size_t len, tt_mt5_dec *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    uint64_t v = 0;
    size_t idigits = 0, fdigits = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, idigits++) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > (uint64_t)INT64_MAX / TT_MT5_DEC_ONE)
            return TT_EFORMAT;
    }
    if (!idigits)
        return TT_EFORMAT;
    v *= (uint64_t)TT_MT5_DEC_ONE;
    uint64_t frac = 0, scale = (uint64_t)TT_MT5_DEC_ONE;
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (++fdigits > 8)
                return TT_EFORMAT;
            scale /= 10;
            frac += (uint64_t)(s[i] - '0') * scale;
        }
        if (!fdigits)
            return TT_EFORMAT;
    }
    if (i != len)
        return TT_EFORMAT;
    if (v + frac > (uint64_t)INT64_MAX)
        return TT_EFORMAT;
    *out = neg ? -(int64_t)(v + frac) : (int64_t)(v + frac);
    return TT_OK;
}

int tt_mt5_dec_format(tt_mt5_dec v, char buf[32])
{
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t ip = m / (uint64_t)TT_MT5_DEC_ONE, fp = m % (uint64_t)TT_MT5_DEC_ONE;
    int n = snprintf(buf, 32, "%s%" PRIu64, v < 0 ? "-" : "", ip);
    if (fp) {
        char f[9];
        snprintf(f, sizeof f, "%08" PRIu64, fp);
        int k = 8;
        while (f[k - 1] == '0')
            k--;
        n += snprintf(buf + n, (size_t)(32 - n), ".%.*s", k, f);
    }
    return n;
}

static const int64_t pow10_tab[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                     100000000};

int tt_mt5_dec_to_scaled(tt_mt5_dec v, int digits, int64_t *out)
{
    if (digits < 0 || digits > 8)
        return TT_EINVAL;
    int64_t unit = pow10_tab[8 - digits];
    if (v % unit)
        return TT_EINVAL;
    *out = v / unit;
    return TT_OK;
}

tt_mt5_dec tt_mt5_dec_from_scaled(int64_t v, int digits)
{
    return v * pow10_tab[8 - digits];
}

/* ---- decoding ---- */

/* The value, shown in an error: at most 40 bytes, unprintable ones as '?'. */
static const char *shown(const char *s, size_t n, char buf[48])
{
    size_t k = n < 40 ? n : 40;
    for (size_t i = 0; i < k; i++)
        buf[i] = s[i] >= 0x21 && s[i] <= 0x7e ? s[i] : '?';
    strcpy(buf + k, n > 40 ? "..." : "");
    return buf;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decode v[0..n) into dst (cap bytes with the NUL). 0 or a message. */
static const char *str_decode(const char *v, size_t n, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '%') {
            if (i + 2 >= n)
                return "a '%' escape needs two hex digits";
            int a = hexval(v[i + 1]), b = hexval(v[i + 2]);
            if (a < 0 || b < 0)
                return "a '%' escape needs two hex digits";
            c = (unsigned char)(a * 16 + b);
            if (!c)
                return "an encoded NUL byte";
            i += 2;
        } else if (c == '=') {
            return "a raw '=' (write %3D)";
        }
        if (o + 1 >= cap)
            return "too long";
        dst[o++] = (char)c;
    }
    dst[o] = 0;
    return NULL;
}

static const char *parse_uint(const char *v, size_t n, uint64_t max, uint64_t *out)
{
    if (!n || n > 20)
        return "expected an unsigned integer";
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return "expected an unsigned integer";
        uint64_t d = (uint64_t)(v[i] - '0');
        if (x > (max - d) / 10)
            return "out of range";
        x = x * 10 + d;
    }
    *out = x;
    return NULL;
}

static const char *parse_int(const char *v, size_t n, int64_t min, int64_t max, int64_t *out)
{
    int neg = n && v[0] == '-';
    uint64_t m;
    const char *why = parse_uint(v + neg, n - (size_t)neg,
                                 neg ? (uint64_t)0 - (uint64_t)min : (uint64_t)max, &m);
    if (why)
        return strcmp(why, "out of range") ? "expected an integer" : why;
    *out = neg ? (int64_t)((uint64_t)0 - m) : (int64_t)m;
    return NULL;
}

/* Parse one value into the frame. NULL or what was wrong. */
static const char *field_decode(const fdesc *d, const char *v, size_t n, tt_mt5_frame *f)
{
    char *p = (char *)f + d->off;
    uint64_t u;
    int64_t i;
    const char *why;
    switch (d->kind) {
    case K_U32:
        if ((why = parse_uint(v, n, UINT32_MAX, &u)))
            return why;
        *(uint32_t *)p = (uint32_t)u;
        return NULL;
    case K_U64:
        if ((why = parse_uint(v, n, UINT64_MAX, &u)))
            return why;
        *(uint64_t *)p = u;
        return NULL;
    case K_I32:
        if ((why = parse_int(v, n, INT32_MIN, INT32_MAX, &i)))
            return why;
        *(int32_t *)p = (int32_t)i;
        return NULL;
    case K_I64:
        if ((why = parse_int(v, n, INT64_MIN, INT64_MAX, &i)))
            return why;
        *(int64_t *)p = i;
        return NULL;
    case K_DEC:
        if (tt_mt5_dec_parse(v, n, (tt_mt5_dec *)p))
            return "expected a decimal number (at most 8 decimals, |x| < 9.2e10)";
        return NULL;
    case K_WORD:
        for (int k = 0; d->words[k]; k++)
            if (strlen(d->words[k]) == n && !memcmp(d->words[k], v, n)) {
                *(uint8_t *)p = (uint8_t)k;
                return NULL;
            }
        return "not one of the words this field takes";
    case K_HEX:
        if (!n || n + 1 > d->cap)
            return "expected 1 to 64 hex digits";
        for (size_t k = 0; k < n; k++)
            if (!((v[k] >= '0' && v[k] <= '9') || (v[k] >= 'a' && v[k] <= 'f')))
                return "expected lower-case hex digits";
        memcpy(p, v, n);
        p[n] = 0;
        return NULL;
    default: /* K_STR, K_SYM */
        if ((why = str_decode(v, n, p, d->cap)))
            return why;
        if (d->kind == K_SYM && !p[0])
            return "empty symbol";
        return NULL;
    }
}

static int type_lookup(const char *s, size_t n)
{
    for (int t = 1; t < TT_MT5_FRAME_TYPES; t++)
        if (strlen(frame_fields[t].name) == n && !memcmp(frame_fields[t].name, s, n))
            return t;
    return 0;
}

int tt_mt5_frame_decode(const char *line, size_t len, tt_mt5_frame *f, tt_err *err)
{
    char sb[48];
    memset(f, 0, sizeof *f);
    if (!len)
        return tt_err_set(err, TT_EFORMAT, "mt5 frame: empty line");
    if (len + 1 > TT_MT5_FRAME_MAX)
        return tt_err_set(err, TT_EFORMAT, "mt5 frame: %zu bytes, longer than %d", len + 1,
                          TT_MT5_FRAME_MAX);
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)line[k] < 0x20 || (unsigned char)line[k] > 0x7e)
            return tt_err_set(err, TT_EFORMAT,
                              "mt5 frame: byte 0x%02x at offset %zu is not printable ASCII",
                              (unsigned char)line[k], k);
    const char *sp = memchr(line, ' ', len);
    size_t tn = sp ? (size_t)(sp - line) : len;
    int type = type_lookup(line, tn);
    if (!type)
        return tt_err_set(err, TT_EFORMAT, "mt5 frame: unknown type '%s'",
                          shown(line, tn, sb));
    f->type = (uint8_t)type;
    const ftype *ft = &frame_fields[type];
    size_t pos = tn;
    for (int i = 0; i < ft->nfields; i++) {
        const fdesc *d = &ft->fields[i];
        if (pos >= len)
            return tt_err_set(err, TT_EFORMAT, "%s: field %d '%s' is missing", ft->name, i + 1,
                              d->key);
        pos++; /* the space */
        const char *tok = line + pos;
        const char *end = memchr(tok, ' ', len - pos);
        size_t tl = end ? (size_t)(end - tok) : len - pos;
        size_t kl = strlen(d->key);
        if (tl <= kl || memcmp(tok, d->key, kl) || tok[kl] != '=')
            return tt_err_set(err, TT_EFORMAT, "%s: field %d: expected '%s=', got '%s'",
                              ft->name, i + 1, d->key, shown(tok, tl, sb));
        const char *why = field_decode(d, tok + kl + 1, tl - kl - 1, f);
        if (why)
            return tt_err_set(err, TT_EFORMAT, "%s: field %d '%s': %s: '%s'", ft->name, i + 1,
                              d->key, why, shown(tok + kl + 1, tl - kl - 1, sb));
        pos += tl;
    }
    /* fields a later minor version appended: key=value, both non-empty */
    while (pos < len) {
        pos++;
        const char *tok = line + pos;
        const char *end = memchr(tok, ' ', len - pos);
        size_t tl = end ? (size_t)(end - tok) : len - pos;
        const char *eq = memchr(tok, '=', tl);
        if (!eq || eq == tok)
            return tt_err_set(err, TT_EFORMAT, "%s: after the last field: expected key=value, "
                              "got '%s'", ft->name, shown(tok, tl, sb));
        pos += tl;
    }
    return TT_OK;
}

/* ---- encoding ---- */

typedef struct wbuf {
    char *p;
    size_t cap, n;
    int full;
} wbuf;

static void put(wbuf *b, const char *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->full = 1;
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void put_str(wbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c > 0x7e || c == '%' || c == '=') {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            put(b, e, 3);
        } else {
            put(b, (const char *)&c, 1);
        }
    }
}

/* Append one field's value; NULL or what makes it unwritable. */
static const char *field_encode(const fdesc *d, const tt_mt5_frame *f, wbuf *b)
{
    const char *p = (const char *)f + d->off;
    char num[32];
    int n;
    switch (d->kind) {
    case K_U32:
        n = snprintf(num, sizeof num, "%" PRIu32, *(const uint32_t *)p);
        break;
    case K_I32:
        n = snprintf(num, sizeof num, "%" PRId32, *(const int32_t *)p);
        break;
    case K_U64:
        n = snprintf(num, sizeof num, "%" PRIu64, *(const uint64_t *)p);
        break;
    case K_I64:
        n = snprintf(num, sizeof num, "%" PRId64, *(const int64_t *)p);
        break;
    case K_DEC:
        if (*(const int64_t *)p == INT64_MIN)
            return "decimal out of range";
        n = tt_mt5_dec_format(*(const int64_t *)p, num);
        break;
    case K_WORD: {
        uint8_t w = *(const uint8_t *)p;
        if (w >= word_count(d->words))
            return "no word for this value";
        put(b, d->words[w], strlen(d->words[w]));
        return NULL;
    }
    case K_HEX: {
        size_t l = strnlen(p, d->cap);
        if (!l || l == d->cap)
            return "expected 1 to 64 hex digits";
        for (size_t k = 0; k < l; k++)
            if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f')))
                return "expected lower-case hex digits";
        put(b, p, l);
        return NULL;
    }
    default: { /* K_STR, K_SYM */
        size_t l = strnlen(p, d->cap);
        if (l == d->cap)
            return "string without its NUL";
        if (d->kind == K_SYM && !l)
            return "empty symbol";
        put_str(b, p);
        return NULL;
    }
    }
    put(b, num, (size_t)n);
    return NULL;
}

int tt_mt5_frame_encode(const tt_mt5_frame *f, char *buf, size_t cap, size_t *len, tt_err *err)
{
    *len = 0;
    if (f->type == TT_MT5_NONE || f->type >= TT_MT5_FRAME_TYPES)
        return tt_err_set(err, TT_EINVAL, "mt5 frame: unknown type %d", f->type);
    const ftype *ft = &frame_fields[f->type];
    wbuf b = {buf, cap < TT_MT5_FRAME_MAX ? cap : TT_MT5_FRAME_MAX, 0, 0};
    put(&b, ft->name, strlen(ft->name));
    for (int i = 0; i < ft->nfields; i++) {
        const fdesc *d = &ft->fields[i];
        put(&b, " ", 1);
        put(&b, d->key, strlen(d->key));
        put(&b, "=", 1);
        const char *why = field_encode(d, f, &b);
        if (why)
            return tt_err_set(err, TT_EINVAL, "%s: field %d '%s': %s", ft->name, i + 1, d->key,
                              why);
    }
    put(&b, "\n", 1);
    if (b.full)
        return tt_err_set(err, TT_EFORMAT, "%s: the frame would exceed %zu bytes", ft->name,
                          b.cap);
    *len = b.n;
    return TT_OK;
}

/* ---- framing ---- */

void tt_mt5_reader_init(tt_mt5_reader *r)
{
    r->start = r->end = r->scanned = 0;
}

char *tt_mt5_reader_space(tt_mt5_reader *r, size_t *room)
{
    if (r->start) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    *room = sizeof r->buf - r->end;
    return r->buf + r->end;
}

void tt_mt5_reader_commit(tt_mt5_reader *r, size_t n)
{
    r->end += n;
}

size_t tt_mt5_reader_push(tt_mt5_reader *r, const void *data, size_t n)
{
    size_t room;
    char *p = tt_mt5_reader_space(r, &room);
    if (n > room)
        n = room;
    memcpy(p, data, n);
    tt_mt5_reader_commit(r, n);
    return n;
}

int tt_mt5_reader_next(tt_mt5_reader *r, const char **line, size_t *len, tt_err *err)
{
    const char *from = r->buf + r->start + r->scanned;
    size_t avail = r->end - r->start - r->scanned;
    const char *nl = memchr(from, '\n', avail);
    if (!nl) {
        r->scanned = r->end - r->start;
        if (r->scanned >= TT_MT5_FRAME_MAX)
            return tt_err_set(err, TT_EFORMAT,
                              "mt5 frame: more than %d bytes without a line end: refused",
                              TT_MT5_FRAME_MAX);
        return 0;
    }
    size_t n = (size_t)(nl - (r->buf + r->start));
    if (n + 1 > TT_MT5_FRAME_MAX)
        return tt_err_set(err, TT_EFORMAT, "mt5 frame: %zu bytes, longer than %d: refused",
                          n + 1, TT_MT5_FRAME_MAX);
    *line = r->buf + r->start;
    *len = n;
    r->start += n + 1;
    r->scanned = 0;
    return 1;
}

/* ---- authentication ---- */

int tt_mt5_nonce(char out[TT_MT5_HEX_MAX], tt_err *err)
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return tt_err_set(err, TT_EIO, "mt5: no randomness for a nonce: %s", strerror(errno));
        }
        got += (size_t)n;
    }
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return TT_OK;
}

void tt_mt5_auth_mac(const char *secret, size_t secret_len, int role, const char *nonce,
                     const char *cnonce, uint64_t login, char out[TT_MT5_HEX_MAX])
{
    char msg[256];
    int n = role == TT_MT5_ROLE_SERVER
                ? snprintf(msg, sizeof msg, "ticktape-mt5 %d server %s %s %" PRIu64,
                           TT_MT5_PROTO_VERSION, cnonce, nonce, login)
                : snprintf(msg, sizeof msg, "ticktape-mt5 %d terminal %s %s %" PRIu64,
                           TT_MT5_PROTO_VERSION, nonce, cnonce, login);
    if (n < 0 || n >= (int)sizeof msg)
        n = (int)strlen(msg);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)msg, (size_t)n, md,
         &mdlen);
    for (unsigned int i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int tt_mt5_mac_equal(const char *a, const char *b)
{
    size_t la = strnlen(a, TT_MT5_HEX_MAX), lb = strnlen(b, TT_MT5_HEX_MAX);
    if (la != lb || !la)
        return 0;
    return CRYPTO_memcmp(a, b, la) == 0;
}
