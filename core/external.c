/*
 * External events: the calendar message and the news schedule (external.h).
 *
 * How this works. The calendar message is a flat JSON object. Reading it
 * needs no general JSON library (core may use libc only): a small reader
 * walks "key": value pairs, decodes strings with their escapes into fixed
 * buffers (cut to fit, never overrun), reads numbers with strtod, and skips a
 * nested value it does not know, so a producer may add keys freely.
 *
 * Figures are parsed as exact decimals: the digits and the unit's power of
 * ten are put back together as "<digits>e<exp>" and handed to strtod, which
 * rounds once, correctly, so 3.68B is exactly 3680000000 and -0.4% is the
 * double nearest to -0.4. Encoding writes integral values below 1e15 as
 * integers and others in the shortest form that reads back to the same
 * double, so decode(encode(x)) == x field for field.
 *
 * The schedule is a sorted array. Items nearly always come in time order (a
 * tape read forwards, a live feed), so adding is an append; an item out of
 * order is inserted with one memmove.
 */
#include "external.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *tt_external_type_name(uint32_t type)
{
    switch (type) {
    case TT_EXT_ECONOMIC_CALENDAR: return "economic_calendar";
    case TT_EXT_FRED_INDICATORS: return "fred_indicators";
    case TT_EXT_COMMODITY_PRICES: return "commodity_prices";
    default: return "other";
    }
}

static const char *const IMPACTS[] = {"non-economic", "low", "medium", "high"};

const char *tt_impact_name(int impact)
{
    return impact >= 0 && impact <= TT_IMPACT_HIGH ? IMPACTS[impact] : "?";
}

int tt_impact_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i <= TT_IMPACT_HIGH; i++)
        if (!strcasecmp(s, IMPACTS[i]))
            return i;
    if (!strcasecmp(s, "none") || !strcasecmp(s, "non_economic"))
        return TT_IMPACT_NONE;
    return -1;
}

uint32_t tt_currency_code(const char *ccy)
{
    if (!ccy)
        return 0;
    uint32_t c = 0;
    for (int i = 0; i < 3; i++) {
        if (!isalpha((unsigned char)ccy[i]))
            return 0;
        c = c << 8 | (uint32_t)toupper((unsigned char)ccy[i]);
    }
    return ccy[3] == '\0' ? c : 0;
}

/* ---- figures ---- */

/* A decimal "-12.5" in s[0..n): exact value times 10^shift into *v. */
static int decimal_parse(const char *s, size_t n, int shift, double *v)
{
    char digits[40];
    size_t nd = 0, i = 0;
    int neg = 0, frac = 0, seen_dot = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    size_t start = i;
    for (; i < n; i++) {
        if (s[i] == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (!isdigit((unsigned char)s[i]) || nd + 1 >= sizeof digits - 8)
            return -1;
        digits[nd++] = s[i];
        frac += seen_dot;
    }
    if (!nd || (seen_dot && (s[start] == '.' || s[n - 1] == '.')))
        return -1;
    char buf[64];
    snprintf(buf, sizeof buf, "%s%.*se%d", neg ? "-" : "", (int)nd, digits, shift - frac);
    *v = strtod(buf, NULL);
    return isfinite(*v) ? 0 : -1;
}

int tt_calendar_value_parse(const char *text, tt_calendar_value *out, tt_err *err)
{
    memset(out, 0, sizeof *out);
    while (*text == ' ' || *text == '\t')
        text++;
    size_t n = strlen(text);
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    snprintf(out->text, sizeof out->text, "%.*s", (int)n, text);
    if (!n)
        return TT_OK;
    static const struct { char c; int shift; } UNITS[] = {
        {'K', 3}, {'M', 6}, {'B', 9}, {'T', 12}, {'%', 0}};
    size_t m = n;
    int shift = 0;
    for (size_t u = 0; u < sizeof UNITS / sizeof UNITS[0]; u++) {
        if (text[n - 1] == UNITS[u].c) {
            m = n - 1;
            shift = UNITS[u].shift;
            out->unit[0] = UNITS[u].c;
            break;
        }
    }
    if (decimal_parse(text, m, shift, &out->value) == 0) {
        out->has = 1;
        return TT_OK;
    }
    out->unit[0] = '\0';
    /* auction: "yield|bid-to-cover" */
    const char *bar = memchr(text, '|', n);
    double cover;
    if (bar && decimal_parse(text, (size_t)(bar - text), 0, &out->value) == 0 &&
        decimal_parse(bar + 1, n - (size_t)(bar - text) - 1, 0, &cover) == 0) {
        out->has = 1;
        return TT_OK;
    }
    /* votes "0-0-9": digits separated by '-' */
    int vote = n >= 3 && isdigit((unsigned char)text[0]);
    for (size_t i = 0, run = 0; vote && i <= n; i++) {
        if (i == n || text[i] == '-') {
            vote = run > 0;
            run = 0;
        } else if (isdigit((unsigned char)text[i])) {
            run++;
        } else {
            vote = 0;
        }
    }
    if (vote && memchr(text, '-', n))
        return TT_OK;
    if ((n == 4 && !strncasecmp(text, "Pass", 4)) || (n == 6 && !strncasecmp(text, "Reject", 6)))
        return TT_OK;
    return tt_err_set(err, TT_EINVAL,
                      "unrecognized figure '%.*s' (a number with an optional K, M, B, T or %% "
                      "unit, a vote such as 0-0-9, Pass, Reject, or yield|cover)",
                      (int)(n > 40 ? 40 : n), text);
}

/* ---- encoding ---- */

typedef struct outbuf {
    char *p;
    size_t len, cap;
    int full;
} outbuf;

static void put(outbuf *o, const char *s, size_t n)
{
    if (o->full || o->len + n + 1 > o->cap) {
        o->full = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_(outbuf *o, const char *s) { put(o, s, strlen(s)); }

static void put_string(outbuf *o, const char *s)
{
    put(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(o, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(o, esc, 6);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
    put(o, "\"", 1);
}

/* Integral and small: an integer; else the shortest text that reads back. */
static void put_number(outbuf *o, double v)
{
    char buf[40];
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, sizeof buf, "%.0f", v);
    } else {
        for (int p = 1; p <= 17; p++) {
            snprintf(buf, sizeof buf, "%.*g", p, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
    puts_(o, buf);
}

static void put_key(outbuf *o, const char *key)
{
    put(o, ",", 1);
    put_string(o, key);
    put(o, ":", 1);
}

static void put_figure(outbuf *o, const char *name, const tt_calendar_value *v)
{
    char key[32];
    if (v->has) {
        put_key(o, name);
        put_number(o, v->value);
        if (v->unit[0]) {
            snprintf(key, sizeof key, "%s_unit", name);
            put_key(o, key);
            put_string(o, v->unit);
        }
    }
    if (v->text[0]) {
        snprintf(key, sizeof key, "%s_text", name);
        put_key(o, key);
        put_string(o, v->text);
    }
}

size_t tt_calendar_encode(const tt_calendar_event *ev, char *buf, size_t cap)
{
    outbuf o = {buf, 0, cap, cap == 0};
    char t[48];
    tt_ts_format(ev->time, t, sizeof t, 0);
    puts_(&o, "{\"time\":");
    put_string(&o, t);
    put_key(&o, "timed");
    puts_(&o, ev->timed ? "true" : "false");
    put_key(&o, "currency");
    put_string(&o, ev->currency);
    put_key(&o, "event");
    put_string(&o, ev->event);
    put_key(&o, "impact");
    put_string(&o, tt_impact_name(ev->impact));
    if (ev->actual.has) {
        put_key(&o, "value");
        put_number(&o, ev->actual.value);
    }
    put_figure(&o, "actual", &ev->actual);
    put_figure(&o, "forecast", &ev->forecast);
    put_figure(&o, "previous", &ev->previous);
    if (ev->time_text[0]) {
        put_key(&o, "time_text");
        put_string(&o, ev->time_text);
    }
    if (ev->source[0]) {
        put_key(&o, "source");
        put_string(&o, ev->source);
    }
    put(&o, "}", 1);
    return o.full ? 0 : o.len;
}

/* ---- decoding: a flat JSON object ---- */

typedef struct jr {
    const char *p, *end, *start;
} jr;

static void jr_ws(jr *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

static void utf8_put(char *dst, size_t cap, size_t *n, unsigned cp)
{
    char b[4];
    int k;
    if (cp < 0x80) { b[0] = (char)cp; k = 1; }
    else if (cp < 0x800) { b[0] = (char)(0xC0 | cp >> 6); b[1] = (char)(0x80 | (cp & 63)); k = 2; }
    else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12); b[1] = (char)(0x80 | (cp >> 6 & 63));
        b[2] = (char)(0x80 | (cp & 63)); k = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18); b[1] = (char)(0x80 | (cp >> 12 & 63));
        b[2] = (char)(0x80 | (cp >> 6 & 63)); b[3] = (char)(0x80 | (cp & 63)); k = 4;
    }
    if (*n + (size_t)k < cap) {
        memcpy(dst + *n, b, (size_t)k);
        *n += (size_t)k;
    }
}

/* A string at r->p (on the opening quote) into dst (cut to cap - 1 bytes). */
static int jr_string(jr *r, char *dst, size_t cap)
{
    size_t n = 0;
    if (r->p >= r->end || *r->p != '"')
        return -1;
    r->p++;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p++;
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            if (n + 1 < cap)
                dst[n++] = (char)c;
            continue;
        }
        if (r->p >= r->end)
            return -1;
        char e = *r->p++;
        unsigned cp;
        switch (e) {
        case '"': case '\\': case '/': cp = (unsigned char)e; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (r->end - r->p < 4 || hex4(r->p, &cp))
                return -1;
            r->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && r->end - r->p >= 6 && r->p[0] == '\\' &&
                r->p[1] == 'u') {
                unsigned lo;
                if (!hex4(r->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    r->p += 6;
                }
            }
            break;
        default: return -1;
        }
        utf8_put(dst, cap, &n, cp);
    }
    if (r->p >= r->end)
        return -1;
    r->p++;
    if (cap)
        dst[n < cap ? n : cap - 1] = '\0';
    return 0;
}

/* Skip any value (nested ones included). */
static int jr_skip(jr *r)
{
    int depth = 0;
    do {
        jr_ws(r);
        if (r->p >= r->end)
            return -1;
        char c = *r->p;
        if (c == '"') {
            char tmp[2];
            if (jr_string(r, tmp, sizeof tmp))
                return -1;
        } else if (c == '{' || c == '[') {
            depth++;
            r->p++;
        } else if (c == '}' || c == ']') {
            if (!depth)
                return -1;
            depth--;
            r->p++;
        } else {
            while (r->p < r->end && !strchr(",:}] \t\r\n", *r->p))
                r->p++;
        }
        jr_ws(r);
        if (depth && r->p < r->end && (*r->p == ',' || *r->p == ':'))
            r->p++;
    } while (depth);
    return 0;
}

/* A scalar as text: a string's contents, or a bare token (number, true...). */
static int jr_scalar(jr *r, char *dst, size_t cap, int *is_string)
{
    jr_ws(r);
    if (r->p >= r->end)
        return -1;
    *is_string = *r->p == '"';
    if (*is_string)
        return jr_string(r, dst, cap);
    const char *s = r->p;
    while (r->p < r->end && !strchr(",}] \t\r\n", *r->p))
        r->p++;
    size_t n = (size_t)(r->p - s);
    if (!n || n >= cap)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int number_of(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return *s && *end == '\0' && isfinite(*v) ? 0 : -1;
}

static int fail_at(tt_err *err, const jr *r, const char *what)
{
    return tt_err_set(err, TT_EFORMAT, "calendar message: %s at byte %ld", what,
                      (long)(r->p - r->start));
}

/* Store one key's value in ev; 1 when the key is known, 0 when not, -1 bad. */
static int calendar_field(tt_calendar_event *ev, const char *key, const char *val, int str,
                          int *have_time, int *have_ccy)
{
    static const char *const FIG[3] = {"actual", "forecast", "previous"};
    tt_calendar_value *figs[3] = {&ev->actual, &ev->forecast, &ev->previous};
    double v;
    if (!strcmp(key, "time")) {
        if (str) {
            if (tt_ts_parse(val, &ev->time))
                return -1;
        } else if (number_of(val, &v) || fabs(v) > 9e12) {
            return -1;
        } else {
            ev->time = (tt_ts)llround(v) * TT_NS_PER_MS;
        }
        *have_time = 1;
    } else if (!strcmp(key, "timed")) {
        if (str || (strcmp(val, "true") && strcmp(val, "false")))
            return -1;
        ev->timed = val[0] == 't';
    } else if (!strcmp(key, "currency")) {
        if (!str || !tt_currency_code(val))
            return -1;
        for (int i = 0; i < 3; i++)
            ev->currency[i] = (char)toupper((unsigned char)val[i]);
        ev->currency[3] = '\0';
        *have_ccy = 1;
    } else if (!strcmp(key, "event")) {
        snprintf(ev->event, sizeof ev->event, "%s", val);
    } else if (!strcmp(key, "impact")) {
        if ((ev->impact = tt_impact_parse(val)) < 0)
            return -1;
    } else if (!strcmp(key, "time_text")) {
        snprintf(ev->time_text, sizeof ev->time_text, "%s", val);
    } else if (!strcmp(key, "source")) {
        snprintf(ev->source, sizeof ev->source, "%s", val);
    } else {
        for (int i = 0; i < 3; i++) {
            size_t n = strlen(FIG[i]);
            if (strncmp(key, FIG[i], n))
                continue;
            const char *rest = key + n;
            if (!*rest) {
                if (!strcmp(val, "null"))
                    return 1;
                if (str || number_of(val, &figs[i]->value))
                    return -1;
                figs[i]->has = 1;
            } else if (!strcmp(rest, "_unit")) {
                snprintf(figs[i]->unit, sizeof figs[i]->unit, "%s", val);
            } else if (!strcmp(rest, "_text")) {
                snprintf(figs[i]->text, sizeof figs[i]->text, "%s", val);
            } else {
                return 0;
            }
            return 1;
        }
        return 0;
    }
    return 1;
}

int tt_calendar_decode(const void *data, size_t len, tt_calendar_event *ev, tt_err *err)
{
    memset(ev, 0, sizeof *ev);
    ev->timed = 1;
    jr r = {data, (const char *)data + len, data};
    int have_time = 0, have_ccy = 0;
    jr_ws(&r);
    if (r.p >= r.end || *r.p != '{')
        return fail_at(err, &r, "expected '{'");
    r.p++;
    jr_ws(&r);
    if (r.p < r.end && *r.p == '}')
        r.p++;
    else
        for (;;) {
            char key[32], val[TT_CALENDAR_EVENT_MAX];
            int str;
            jr_ws(&r);
            if (jr_string(&r, key, sizeof key))
                return fail_at(err, &r, "expected a key");
            jr_ws(&r);
            if (r.p >= r.end || *r.p != ':')
                return fail_at(err, &r, "expected ':'");
            r.p++;
            jr_ws(&r);
            const char *vstart = r.p;
            if (r.p < r.end && (*r.p == '{' || *r.p == '[')) {
                if (jr_skip(&r))
                    return fail_at(err, &r, "bad nested value");
            } else {
                if (jr_scalar(&r, val, sizeof val, &str))
                    return fail_at(err, &r, "bad value");
                int k = calendar_field(ev, key, val, str, &have_time, &have_ccy);
                if (k < 0) {
                    r.p = vstart;
                    return tt_err_set(err, TT_EFORMAT,
                                      "calendar message: key '%s': bad value '%.40s'", key, val);
                }
            }
            jr_ws(&r);
            if (r.p < r.end && *r.p == ',') {
                r.p++;
                continue;
            }
            if (r.p < r.end && *r.p == '}') {
                r.p++;
                break;
            }
            return fail_at(err, &r, "expected ',' or '}'");
        }
    jr_ws(&r);
    if (r.p != r.end)
        return fail_at(err, &r, "text after the object");
    if (!have_time)
        return tt_err_set(err, TT_EFORMAT, "calendar message: no 'time'");
    if (!have_ccy)
        return tt_err_set(err, TT_EFORMAT, "calendar message: no 'currency'");
    return TT_OK;
}

int tt_calendar_from_event(const tt_event *ev, tt_calendar_event *out, tt_err *err)
{
    if (ev->kind != TT_EV_EXTERNAL || ev->u.blob.type != TT_EXT_ECONOMIC_CALENDAR ||
        !ev->u.blob.len || !ev->u.blob.data)
        return tt_err_set(err, TT_EINVAL, "not an economic calendar event");
    return tt_calendar_decode(ev->u.blob.data, ev->u.blob.len, out, err);
}

/* ---- the schedule ---- */

struct tt_news {
    tt_news_item *v;
    size_t n, cap;
};

int tt_news_new(tt_news **out, tt_err *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? TT_OK : tt_err_set(err, TT_ENOMEM, "out of memory (news schedule)");
}

void tt_news_free(tt_news *n)
{
    if (n) {
        free(n->v);
        free(n);
    }
}

size_t tt_news_count(const tt_news *n) { return n->n; }

const tt_news_item *tt_news_at(const tt_news *n, size_t i) { return i < n->n ? &n->v[i] : NULL; }

/* First index whose ts >= t. */
static size_t lower_bound(const tt_news *n, tt_ts t)
{
    size_t lo = 0, hi = n->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->v[mid].ts < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int tt_news_add(tt_news *n, tt_ts ts, uint32_t currency, int impact)
{
    if (!currency)
        return 0;
    size_t at = n->n && n->v[n->n - 1].ts <= ts ? n->n : lower_bound(n, ts);
    /* an equal item sits among the items of the same time, just before `at`
     * or from `at` on */
    for (size_t i = at; i-- > 0 && n->v[i].ts == ts;)
        if (n->v[i].currency == currency && n->v[i].impact == impact)
            return 0;
    for (size_t i = at; i < n->n && n->v[i].ts == ts; i++)
        if (n->v[i].currency == currency && n->v[i].impact == impact)
            return 0;
    if (n->n == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 256;
        tt_news_item *v = realloc(n->v, cap * sizeof *v);
        if (!v)
            return TT_ENOMEM;
        n->v = v;
        n->cap = cap;
    }
    memmove(n->v + at + 1, n->v + at, (n->n - at) * sizeof *n->v);
    n->v[at].ts = ts;
    n->v[at].currency = currency;
    n->v[at].impact = (uint8_t)impact;
    n->n++;
    return 1;
}

int tt_news_add_event(tt_news *n, const tt_event *ev)
{
    tt_calendar_event c;
    if (tt_calendar_from_event(ev, &c, NULL) || !c.timed)
        return 0;
    return tt_news_add(n, c.time, tt_currency_code(c.currency), c.impact);
}

static int concerns(const tt_news_item *it, uint32_t a, uint32_t b, int min_impact)
{
    const uint32_t all = ('A' << 16) | ('L' << 8) | 'L';
    return it->impact >= min_impact &&
           (it->currency == a || it->currency == b || it->currency == all);
}

int tt_news_window(const tt_news *n, tt_ts now, tt_ts before, tt_ts after, uint32_t a, uint32_t b,
                   int min_impact, tt_ts *at)
{
    int found = 0;
    tt_ts best = 0;
    for (size_t i = lower_bound(n, now - after); i < n->n && n->v[i].ts <= now + before; i++) {
        if (!concerns(&n->v[i], a, b, min_impact))
            continue;
        tt_ts d = n->v[i].ts - now, bd = best - now;
        if (!found || (d < 0 ? -d : d) < (bd < 0 ? -bd : bd)) {
            best = n->v[i].ts;
            found = 1;
        }
    }
    if (found && at)
        *at = best;
    return found;
}

int tt_news_next(const tt_news *n, tt_ts now, uint32_t a, uint32_t b, int min_impact, tt_ts *at)
{
    for (size_t i = lower_bound(n, now == TT_TS_MAX ? now : now + 1); i < n->n; i++) {
        if (concerns(&n->v[i], a, b, min_impact)) {
            *at = n->v[i].ts;
            return 1;
        }
    }
    return 0;
}

int tt_news_prev(const tt_news *n, tt_ts now, uint32_t a, uint32_t b, int min_impact, tt_ts *at)
{
    for (size_t i = lower_bound(n, now == TT_TS_MAX ? now : now + 1); i-- > 0;) {
        if (concerns(&n->v[i], a, b, min_impact)) {
            *at = n->v[i].ts;
            return 1;
        }
    }
    return 0;
}
