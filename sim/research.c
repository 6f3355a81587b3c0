/*
 * Shared pieces of the research tools.
 *
 * Results of runs cross process and machine boundaries (pool pipes, NATS), so
 * a run is summarised as plain data (tt_run_summary) with a JSON form whose
 * doubles are printed with 17 significant digits: parsing them back gives the
 * same bits, so a result computed on a worker compares equal to a local one.
 *
 * The JSON reader only needs flat objects (a baseline, a job, a result), so it
 * flattens nested objects into dotted keys and refuses arrays rather than
 * growing into a general JSON library.
 *
 * The research sections of a scenario (sweep:, walkforward:, gates:) are read
 * straight from the YAML file with libyaml's document API, which keeps the
 * line of every node, so errors name file, line and key whatever the
 * scenario loader does with the rest of the file.
 */
#include "research.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../core/io.h"
#include <yaml.h>

/* ---- bytes ---- */

int tt_buf_append(tt_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return TT_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return TT_OK;
}

int tt_buf_read_stream(tt_buf *b, FILE *f)
{
    char chunk[8192];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (tt_buf_append(b, chunk, k))
            return TT_ENOMEM;
    return ferror(f) ? TT_EIO : TT_OK;
}

int tt_buf_printf(tt_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0)
        return TT_EINVAL;
    if ((size_t)k < sizeof small)
        return tt_buf_append(b, small, (size_t)k);
    char *big = malloc((size_t)k + 1);
    if (!big)
        return TT_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    int rc = tt_buf_append(b, big, (size_t)k);
    free(big);
    return rc;
}

int tt_buf_json_string(tt_buf *b, const char *s)
{
    int rc = tt_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && !rc; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            rc = tt_buf_append(b, e, 2);
        } else if (*p < 0x20) {
            rc = tt_buf_printf(b, "\\u%04x", *p);
        } else {
            rc = tt_buf_append(b, p, 1);
        }
    }
    return rc ? rc : tt_buf_append(b, "\"", 1);
}

int tt_buf_json_double(tt_buf *b, double v)
{
    if (!isfinite(v))
        return tt_buf_append(b, "null", 4);
    return tt_buf_printf(b, "%.17g", v);
}

void tt_buf_reset(tt_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

void tt_buf_free(tt_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ---- runs and figures ---- */

const char *tt_run_status_name(int status)
{
    switch (status) {
    case TT_RUN_OK: return "ok";
    case TT_RUN_FAILED: return "failed";
    case TT_RUN_CRASHED: return "crashed";
    default: return "pending";
    }
}

#define FIG(n, k, b, field) {n, k, b, offsetof(tt_metrics, field)}
static const tt_figure FIGURES[] = {
    FIG("net_pnl", TT_FIG_MONEY, TT_BETTER_HIGHER, net_pnl),
    FIG("return_pct", TT_FIG_RATIO, TT_BETTER_HIGHER, return_pct),
    FIG("cagr_pct", TT_FIG_RATIO, TT_BETTER_HIGHER, cagr_pct),
    FIG("sharpe", TT_FIG_RATIO, TT_BETTER_HIGHER, sharpe),
    FIG("sortino", TT_FIG_RATIO, TT_BETTER_HIGHER, sortino),
    FIG("calmar", TT_FIG_RATIO, TT_BETTER_HIGHER, calmar),
    FIG("max_drawdown", TT_FIG_MONEY, TT_BETTER_LOWER, max_drawdown),
    FIG("max_drawdown_pct", TT_FIG_RATIO, TT_BETTER_LOWER, max_drawdown_pct),
    FIG("ann_volatility_pct", TT_FIG_RATIO, TT_BETTER_LOWER, ann_volatility_pct),
    FIG("trades", TT_FIG_COUNT, TT_BETTER_HIGHER, trades),
    FIG("win_rate_pct", TT_FIG_RATIO, TT_BETTER_HIGHER, win_rate_pct),
    FIG("profit_factor", TT_FIG_RATIO, TT_BETTER_HIGHER, profit_factor),
    FIG("expectancy", TT_FIG_MINOR, TT_BETTER_HIGHER, expectancy),
    FIG("sqn", TT_FIG_RATIO, TT_BETTER_HIGHER, sqn),
    FIG("commissions", TT_FIG_MONEY, TT_BETTER_LOWER, commissions),
    FIG("final_equity", TT_FIG_MONEY, TT_BETTER_HIGHER, final_equity),
    FIG("time_in_market_pct", TT_FIG_RATIO, TT_BETTER_HIGHER, time_in_market_pct),
};
#undef FIG
#define NFIGURES (sizeof FIGURES / sizeof FIGURES[0])

const tt_figure *tt_figures(size_t *n)
{
    *n = NFIGURES;
    return FIGURES;
}

const char *tt_figure_renamed(const char *name)
{
    /* the fractions that became percent figures (one unit convention) */
    static const char *const OLD[][2] = {{"cagr", "cagr_pct"},
                                         {"ann_volatility", "ann_volatility_pct"},
                                         {"win_rate", "win_rate_pct"},
                                         {"time_in_market", "time_in_market_pct"}};
    for (size_t i = 0; name && i < sizeof OLD / sizeof OLD[0]; i++)
        if (!strcmp(OLD[i][0], name))
            return OLD[i][1];
    return NULL;
}

const tt_figure *tt_figure_find(const char *name)
{
    for (size_t i = 0; name && i < NFIGURES; i++)
        if (!strcmp(FIGURES[i].name, name))
            return &FIGURES[i];
    return NULL;
}

double tt_figure_value(const tt_figure *f, const tt_metrics *m)
{
    const char *p = (const char *)m + f->offset;
    switch (f->kind) {
    case TT_FIG_MONEY: {
        tt_money v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    case TT_FIG_COUNT: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    default: {
        double v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    }
}

void tt_figure_set(const tt_figure *f, tt_metrics *m, double v)
{
    char *p = (char *)m + f->offset;
    if (f->kind == TT_FIG_MONEY) {
        tt_money x = isfinite(v) ? (tt_money)llround(v) : 0;
        memcpy(p, &x, sizeof x);
    } else if (f->kind == TT_FIG_COUNT) {
        uint64_t x = isfinite(v) && v > 0 ? (uint64_t)llround(v) : 0;
        memcpy(p, &x, sizeof x);
    } else {
        memcpy(p, &v, sizeof v);
    }
}

/* ---- JSON writing ---- */

int tt_run_summary_json(tt_buf *b, const tt_run_summary *s, const tt_param *params, size_t nparams)
{
    char hex[33];
    tt_fingerprint_hex(s->fp, hex);
    int rc = tt_buf_printf(b, "{\"index\":%u,\"run_id\":", s->index);
    rc = rc ? rc : tt_buf_json_string(b, s->run_id);
    rc = rc ? rc
            : tt_buf_printf(b,
                            ",\"status\":\"%s\",\"fingerprint\":\"%s\",\"events\":%llu"
                            ",\"first_ts\":%lld,\"last_ts\":%lld",
                            tt_run_status_name(s->status), hex, (unsigned long long)s->events,
                            (long long)s->first_ts, (long long)s->last_ts);
    for (size_t i = 0; i < NFIGURES && !rc; i++) {
        const tt_figure *f = &FIGURES[i];
        rc = tt_buf_printf(b, ",\"%s\":", f->name);
        if (rc)
            break;
        if (f->kind == TT_FIG_MONEY) {
            tt_money v;
            memcpy(&v, (const char *)&s->m + f->offset, sizeof v);
            rc = tt_buf_printf(b, "%lld", (long long)v);
        } else if (f->kind == TT_FIG_COUNT) {
            uint64_t v;
            memcpy(&v, (const char *)&s->m + f->offset, sizeof v);
            rc = tt_buf_printf(b, "%llu", (unsigned long long)v);
        } else {
            rc = tt_buf_json_double(b, tt_figure_value(f, &s->m));
        }
    }
    if (!rc && s->status != TT_RUN_OK) {
        rc = tt_buf_printf(b, ",\"signal\":%d,\"error\":", s->signal);
        rc = rc ? rc : tt_buf_json_string(b, s->error);
    }
    if (!rc && params) {
        rc = tt_buf_append(b, ",\"params\":{", 11);
        for (size_t i = 0; i < nparams && !rc; i++) {
            if (i)
                rc = tt_buf_append(b, ",", 1);
            rc = rc ? rc : tt_buf_json_string(b, params[i].key);
            rc = rc ? rc : tt_buf_append(b, ":", 1);
            rc = rc ? rc : tt_buf_json_string(b, params[i].value);
        }
        rc = rc ? rc : tt_buf_append(b, "}", 1);
    }
    return rc ? rc : tt_buf_append(b, "}", 1);
}

/* ---- JSON reading ---- */

typedef struct jparse {
    const char *s;
    size_t len, pos;
    const char *what;
    tt_err *err;
    tt_json_flat *out;
    int depth;
} jparse;

static void jskip(jparse *p)
{
    while (p->pos < p->len && isspace((unsigned char)p->s[p->pos]))
        p->pos++;
}

static int jfail(jparse *p, const char *msg)
{
    return tt_err_set(p->err, TT_EFORMAT, "%s: bad JSON at byte %zu: %s", p->what, p->pos, msg);
}

/* A string literal into a malloc'd buffer (escapes decoded; \u to UTF-8). */
static int jstring(jparse *p, char **out)
{
    if (p->pos >= p->len || p->s[p->pos] != '"')
        return jfail(p, "expected a string");
    p->pos++;
    tt_buf b = {0};
    while (p->pos < p->len && p->s[p->pos] != '"') {
        char c = p->s[p->pos++];
        int rc;
        if (c == '\\') {
            if (p->pos >= p->len)
                break;
            char e = p->s[p->pos++];
            const char *map = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *k = strchr(map, e);
            if (e && k) {
                rc = tt_buf_append(&b, to + (k - map), 1);
            } else if (e == 'u' && p->pos + 4 <= p->len) {
                char hex[5] = {0};
                memcpy(hex, p->s + p->pos, 4);
                p->pos += 4;
                unsigned cp = (unsigned)strtoul(hex, NULL, 16);
                unsigned char u[3];
                size_t n;
                if (cp < 0x80) {
                    u[0] = (unsigned char)cp, n = 1;
                } else if (cp < 0x800) {
                    u[0] = (unsigned char)(0xc0 | (cp >> 6));
                    u[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
                } else {
                    u[0] = (unsigned char)(0xe0 | (cp >> 12));
                    u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                    u[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
                }
                rc = tt_buf_append(&b, u, n);
            } else {
                tt_buf_free(&b);
                return jfail(p, "bad escape");
            }
        } else {
            rc = tt_buf_append(&b, &c, 1);
        }
        if (rc) {
            tt_buf_free(&b);
            return tt_err_set(p->err, TT_ENOMEM, "%s: out of memory", p->what);
        }
    }
    if (p->pos >= p->len) {
        tt_buf_free(&b);
        return jfail(p, "unterminated string");
    }
    p->pos++;
    if (!b.data && tt_buf_append(&b, "", 0))
        return tt_err_set(p->err, TT_ENOMEM, "%s: out of memory", p->what);
    *out = (char *)b.data;
    return TT_OK;
}

static int jadd(jparse *p, const char *key, char *value, int is_string)
{
    tt_json_flat *j = p->out;
    tt_json_kv *kv = realloc(j->kv, (j->n + 1) * sizeof *kv);
    char *k = strdup(key);
    if (!kv || !k) {
        if (kv)
            j->kv = kv;
        free(k);
        free(value);
        return tt_err_set(p->err, TT_ENOMEM, "%s: out of memory", p->what);
    }
    j->kv = kv;
    kv[j->n].key = k;
    kv[j->n].value = value;
    kv[j->n].is_string = is_string;
    j->n++;
    return TT_OK;
}

static int jobject(jparse *p, const char *prefix);

static int jvalue(jparse *p, const char *key)
{
    jskip(p);
    if (p->pos >= p->len)
        return jfail(p, "unexpected end");
    char c = p->s[p->pos];
    if (c == '{')
        return jobject(p, key);
    if (c == '[')
        return jfail(p, "arrays are not supported here");
    if (c == '"') {
        char *v;
        int rc = jstring(p, &v);
        return rc ? rc : jadd(p, key, v, 1);
    }
    size_t start = p->pos;
    while (p->pos < p->len && (isalnum((unsigned char)p->s[p->pos]) || strchr("+-.", p->s[p->pos])))
        p->pos++;
    size_t n = p->pos - start;
    if (n == 0)
        return jfail(p, "expected a value");
    if (n == 4 && !memcmp(p->s + start, "null", 4))
        return jadd(p, key, NULL, 0);
    char *v = malloc(n + 1);
    if (!v)
        return tt_err_set(p->err, TT_ENOMEM, "%s: out of memory", p->what);
    memcpy(v, p->s + start, n);
    v[n] = 0;
    if (strcmp(v, "true") && strcmp(v, "false")) {
        char *end;
        errno = 0;
        (void)strtod(v, &end);
        if (*end) {
            free(v);
            p->pos = start;
            return jfail(p, "bad number or literal");
        }
    }
    return jadd(p, key, v, 0);
}

static int jobject(jparse *p, const char *prefix)
{
    if (++p->depth > 16)
        return jfail(p, "nested too deep");
    p->pos++; /* '{' */
    jskip(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        p->depth--;
        return TT_OK;
    }
    for (;;) {
        jskip(p);
        char *k;
        int rc = jstring(p, &k);
        if (rc)
            return rc;
        size_t plen = prefix ? strlen(prefix) : 0;
        char *full = malloc(plen + strlen(k) + 2);
        if (!full) {
            free(k);
            return tt_err_set(p->err, TT_ENOMEM, "%s: out of memory", p->what);
        }
        if (plen)
            sprintf(full, "%s.%s", prefix, k);
        else
            strcpy(full, k);
        free(k);
        jskip(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            free(full);
            return jfail(p, "expected ':'");
        }
        p->pos++;
        rc = jvalue(p, full);
        free(full);
        if (rc)
            return rc;
        jskip(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            p->depth--;
            return TT_OK;
        }
        return jfail(p, "expected ',' or '}'");
    }
}

int tt_json_flat_parse(tt_json_flat *out, const char *text, size_t len, const char *what,
                       tt_err *err)
{
    memset(out, 0, sizeof *out);
    jparse p = {text, len, 0, what ? what : "JSON", err, out, 0};
    jskip(&p);
    if (p.pos >= len || text[p.pos] != '{') {
        jfail(&p, "expected an object");
        return TT_EFORMAT;
    }
    int rc = jobject(&p, NULL);
    if (!rc) {
        jskip(&p);
        if (p.pos != len)
            rc = jfail(&p, "trailing text after the object");
    }
    if (rc)
        tt_json_flat_free(out);
    return rc;
}

const char *tt_json_flat_get(const tt_json_flat *j, const char *key, int *present)
{
    for (size_t i = 0; i < j->n; i++) {
        if (!strcmp(j->kv[i].key, key)) {
            if (present)
                *present = 1;
            return j->kv[i].value;
        }
    }
    if (present)
        *present = 0;
    return NULL;
}

void tt_json_flat_free(tt_json_flat *j)
{
    for (size_t i = 0; i < j->n; i++) {
        free(j->kv[i].key);
        free(j->kv[i].value);
    }
    free(j->kv);
    memset(j, 0, sizeof *j);
}

int tt_fingerprint_parse(const char *hex, tt_fingerprint *fp)
{
    if (!hex || strlen(hex) != 32)
        return TT_EFORMAT;
    uint64_t part[2] = {0, 0};
    for (int i = 0; i < 32; i++) {
        int c = tolower((unsigned char)hex[i]), d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return TT_EFORMAT;
        part[i / 16] = (part[i / 16] << 4) | (uint64_t)d;
    }
    /* tt_fingerprint_hex prints hi then lo. */
    fp->hi = part[0];
    fp->lo = part[1];
    return TT_OK;
}

int tt_run_summary_from_json(tt_run_summary *s, const tt_json_flat *j, const char *what,
                             tt_err *err)
{
    memset(s, 0, sizeof *s);
    const char *st = tt_json_flat_get(j, "status", NULL);
    if (!st)
        return tt_err_set(err, TT_EFORMAT, "%s: field status is missing", what);
    if (!strcmp(st, "ok"))
        s->status = TT_RUN_OK;
    else if (!strcmp(st, "failed"))
        s->status = TT_RUN_FAILED;
    else if (!strcmp(st, "crashed"))
        s->status = TT_RUN_CRASHED;
    else
        return tt_err_set(err, TT_EFORMAT, "%s: field status has unknown value '%s'", what, st);
    const char *v = tt_json_flat_get(j, "index", NULL);
    if (v)
        s->index = (uint32_t)strtoul(v, NULL, 10);
    v = tt_json_flat_get(j, "run_id", NULL);
    if (v)
        snprintf(s->run_id, sizeof s->run_id, "%s", v);
    v = tt_json_flat_get(j, "events", NULL);
    if (v)
        s->events = strtoull(v, NULL, 10);
    v = tt_json_flat_get(j, "first_ts", NULL);
    if (v)
        s->first_ts = strtoll(v, NULL, 10);
    v = tt_json_flat_get(j, "last_ts", NULL);
    if (v)
        s->last_ts = strtoll(v, NULL, 10);
    v = tt_json_flat_get(j, "signal", NULL);
    if (v)
        s->signal = atoi(v);
    v = tt_json_flat_get(j, "error", NULL);
    if (v)
        snprintf(s->error, sizeof s->error, "%s", v);
    v = tt_json_flat_get(j, "fingerprint", NULL);
    if (s->status == TT_RUN_OK && (!v || tt_fingerprint_parse(v, &s->fp)))
        return tt_err_set(err, TT_EFORMAT, "%s: field fingerprint is missing or not 32 hex digits",
                          what);
    for (size_t i = 0; i < NFIGURES; i++) {
        const tt_figure *f = &FIGURES[i];
        v = tt_json_flat_get(j, f->name, NULL);
        if (f->kind == TT_FIG_MONEY && v) {
            tt_money x = strtoll(v, NULL, 10);
            memcpy((char *)&s->m + f->offset, &x, sizeof x);
        } else if (f->kind == TT_FIG_COUNT && v) {
            uint64_t x = strtoull(v, NULL, 10);
            memcpy((char *)&s->m + f->offset, &x, sizeof x);
        } else if (f->kind == TT_FIG_RATIO || f->kind == TT_FIG_MINOR) {
            tt_figure_set(f, &s->m, v ? strtod(v, NULL) : NAN);
        }
    }
    return TT_OK;
}

void tt_run_summary_from_payload(tt_run_summary *s, const char *payload, size_t len)
{
    tt_json_flat j;
    tt_err err;
    int rc = tt_json_flat_parse(&j, payload, len, "result", &err);
    if (!rc) {
        rc = tt_run_summary_from_json(s, &j, "result", &err);
        tt_json_flat_free(&j);
    }
    if (rc) {
        memset(s, 0, sizeof *s);
        s->status = TT_RUN_FAILED;
        snprintf(s->error, sizeof s->error, "bad result message: %s", err.msg);
    }
    /* The message came off the wire: its error text reaches terminals and
     * logs, so control characters are escaped (\x1b, never the byte). */
    char clean[sizeof s->error];
    tt_str_escape(clean, sizeof clean, s->error, strnlen(s->error, sizeof s->error));
    memcpy(s->error, clean, sizeof clean);
    tt_str_escape(clean, sizeof clean, s->run_id, strnlen(s->run_id, sizeof s->run_id));
    snprintf(s->run_id, sizeof s->run_id, "%s", clean);
}

/* ---- durations, ids ---- */

int tt_duration_parse(const char *s, tt_ts *out, const char *what, tt_err *err)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || errno || !isfinite(v) || v <= 0)
        return tt_err_set(err, TT_EINVAL, "%s: '%s' is not a positive duration (e.g. 30d, 12h)",
                          what, s ? s : "");
    double unit;
    if (!*end || !strcmp(end, "d"))
        unit = (double)TT_NS_PER_DAY;
    else if (!strcmp(end, "w"))
        unit = 7.0 * (double)TT_NS_PER_DAY;
    else if (!strcmp(end, "h"))
        unit = (double)TT_NS_PER_HOUR;
    else if (!strcmp(end, "m"))
        unit = (double)TT_NS_PER_MIN;
    else if (!strcmp(end, "s"))
        unit = (double)TT_NS_PER_SEC;
    else
        return tt_err_set(err, TT_EINVAL, "%s: unknown unit in '%s' (use s, m, h, d or w)", what,
                          s);
    if (v * unit > 9.0e18)
        return tt_err_set(err, TT_EINVAL, "%s: '%s' is too long", what, s);
    *out = (tt_ts)llround(v * unit);
    return TT_OK;
}

void tt_run_id_make(char out[TT_RUN_ID_MAX], const char *prefix, uint32_t index)
{
    char p[40];
    size_t n = 0;
    for (const char *c = prefix ? prefix : "run"; *c && n < sizeof p - 1; c++)
        p[n++] = (isalnum((unsigned char)*c) || *c == '_' || *c == '-') ? *c : '_';
    p[n] = 0;
    snprintf(out, TT_RUN_ID_MAX, "%s-%04u", n ? p : "run", index);
}

void tt_research_tag(const void *data, size_t len, char out[9])
{
    snprintf(out, 9, "%08x", (unsigned)(XXH3_64bits(data, len) & 0xffffffffu));
}

int tt_research_file_tag(const char *path, char out[9], tt_err *err)
{
    /* a regular file of scenario size, never a FIFO or a device */
    char *text = NULL;
    size_t len = 0;
    int rc = tt_read_file_capped(path, 64u << 20, &text, &len, err);
    if (!rc)
        tt_research_tag(text, len, out);
    free(text);
    return rc;
}

/* ---- YAML ---- */

struct tt_research_doc {
    yaml_document_t doc;
    char name[512];
};

int tt_research_doc_parse(tt_research_doc **docp, const char *text, size_t len, const char *name,
                          tt_err *err)
{
    *docp = NULL;
    tt_research_doc *d = calloc(1, sizeof *d);
    if (!d)
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", name);
    snprintf(d->name, sizeof d->name, "%s", name);
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps)) {
        free(d);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", name);
    }
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    if (!yaml_parser_load(&ps, &d->doc)) {
        int rc = ps.error == YAML_MEMORY_ERROR
                     ? tt_err_set(err, TT_ENOMEM, "%s: out of memory (YAML parser)", name)
                     : tt_err_set(err, TT_EFORMAT, "%s:%zu: YAML error: %s", name,
                                  ps.problem_mark.line + 1, ps.problem ? ps.problem : "unknown");
        yaml_parser_delete(&ps);
        free(d);
        return rc;
    }
    yaml_parser_delete(&ps);
    *docp = d;
    return TT_OK;
}

int tt_research_doc_load(tt_research_doc **doc, const char *path, tt_err *err)
{
    *doc = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
    tt_buf b = {0};
    int rc = tt_buf_read_stream(&b, f);
    fclose(f);
    if (rc) {
        tt_buf_free(&b);
        return rc == TT_ENOMEM ? tt_err_set(err, TT_ENOMEM, "%s: out of memory", path)
                               : tt_err_set(err, TT_EIO, "%s: read error", path);
    }
    rc = tt_research_doc_parse(doc, b.data ? (const char *)b.data : "", b.len, path, err);
    tt_buf_free(&b);
    return rc;
}

void tt_research_doc_free(tt_research_doc *d)
{
    if (!d)
        return;
    yaml_document_delete(&d->doc);
    free(d);
}

const char *tt_research_doc_name(const tt_research_doc *d)
{
    return d->name;
}

static yaml_node_t *ynode(const tt_research_doc *d, tt_ynode n)
{
    return n > 0 ? yaml_document_get_node((yaml_document_t *)&d->doc, n) : NULL;
}

int tt_ynode_type(const tt_research_doc *d, tt_ynode n)
{
    yaml_node_t *y = ynode(d, n);
    if (!y)
        return 0;
    return y->type == YAML_SCALAR_NODE     ? 's'
           : y->type == YAML_MAPPING_NODE  ? 'm'
           : y->type == YAML_SEQUENCE_NODE ? 'q'
                                           : 0;
}

size_t tt_ynode_map_size(const tt_research_doc *d, tt_ynode map)
{
    yaml_node_t *y = ynode(d, map);
    if (!y || y->type != YAML_MAPPING_NODE)
        return 0;
    return (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
}

const char *tt_ynode_map_key(const tt_research_doc *d, tt_ynode map, size_t i)
{
    yaml_node_t *y = ynode(d, map);
    if (!y || y->type != YAML_MAPPING_NODE || i >= tt_ynode_map_size(d, map))
        return NULL;
    return tt_ynode_scalar(d, y->data.mapping.pairs.start[i].key);
}

tt_ynode tt_ynode_map_value(const tt_research_doc *d, tt_ynode map, size_t i)
{
    yaml_node_t *y = ynode(d, map);
    if (!y || y->type != YAML_MAPPING_NODE || i >= tt_ynode_map_size(d, map))
        return 0;
    return y->data.mapping.pairs.start[i].value;
}

tt_ynode tt_ynode_get(const tt_research_doc *d, tt_ynode map, const char *key)
{
    size_t n = tt_ynode_map_size(d, map);
    for (size_t i = 0; i < n; i++) {
        const char *k = tt_ynode_map_key(d, map, i);
        if (k && !strcmp(k, key))
            return tt_ynode_map_value(d, map, i);
    }
    return 0;
}

tt_ynode tt_research_doc_section(const tt_research_doc *d, const char *key)
{
    yaml_node_t *root = yaml_document_get_root_node((yaml_document_t *)&d->doc);
    if (!root)
        return 0;
    return tt_ynode_get(d, (tt_ynode)(root - d->doc.nodes.start) + 1, key);
}

int tt_ynode_line(const tt_research_doc *d, tt_ynode n)
{
    yaml_node_t *y = ynode(d, n);
    return y ? (int)y->start_mark.line + 1 : 0;
}

const char *tt_ynode_scalar(const tt_research_doc *d, tt_ynode n)
{
    yaml_node_t *y = ynode(d, n);
    if (!y || y->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)y->data.scalar.value;
}

size_t tt_ynode_seq_size(const tt_research_doc *d, tt_ynode seq)
{
    yaml_node_t *y = ynode(d, seq);
    if (!y || y->type != YAML_SEQUENCE_NODE)
        return 0;
    return (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
}

tt_ynode tt_ynode_seq_item(const tt_research_doc *d, tt_ynode seq, size_t i)
{
    yaml_node_t *y = ynode(d, seq);
    if (!y || y->type != YAML_SEQUENCE_NODE || i >= tt_ynode_seq_size(d, seq))
        return 0;
    return y->data.sequence.items.start[i];
}

int tt_ynode_error(tt_err *err, const tt_research_doc *d, tt_ynode n, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tt_err_set(err, TT_EINVAL, "%s:%d: %s", d->name, tt_ynode_line(d, n), msg);
}

int tt_ynode_double(const tt_research_doc *d, tt_ynode n, const char *what, double *out,
                    tt_err *err)
{
    const char *s = tt_ynode_scalar(d, n);
    char *end = NULL;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || errno || !isfinite(v))
        return tt_err_set(err, TT_EINVAL, "%s:%d: %s: expected a number, got '%s'", d->name,
                          tt_ynode_line(d, n), what, s ? s : "(not a scalar)");
    *out = v;
    return TT_OK;
}

int tt_ynode_u64(const tt_research_doc *d, tt_ynode n, const char *what, uint64_t *out, tt_err *err)
{
    const char *s = tt_ynode_scalar(d, n);
    char *end = NULL;
    errno = 0;
    unsigned long long v = (s && *s != '-') ? strtoull(s, &end, 10) : 0;
    if (!s || *s == '-' || end == s || *end || errno)
        return tt_err_set(err, TT_EINVAL, "%s:%d: %s: expected a whole number, got '%s'", d->name,
                          tt_ynode_line(d, n), what, s ? s : "(not a scalar)");
    *out = v;
    return TT_OK;
}
