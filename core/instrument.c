/*
 * The instrument table.
 *
 * Built-in instruments follow Dukascopy's point conventions (100000 points per
 * unit for most FX pairs, 1000 for JPY pairs and XAUUSD, 10 for BTCUSD), so a
 * tape imported from Dukascopy needs no declaration. Files extend the table.
 * Lookups are linear over a small array: tables hold tens of instruments and
 * lookups happen at setup, never per tick (events carry the integer id).
 */
#include "instrument.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tt_instruments {
    tt_instrument *v; /* v[0] unused: id 0 means "none" */
    uint32_t n, cap;  /* n counts v[0] */
};

typedef struct builtin {
    const char *sym, *base, *quote;
    int64_t points;
    int digits;
    int64_t pip;
    double contract;
} builtin;

static const builtin BUILTINS[] = {
    /* majors */
    {"EURUSD", "EUR", "USD", 100000, 5, 10, 100000},
    {"GBPUSD", "GBP", "USD", 100000, 5, 10, 100000},
    {"USDJPY", "USD", "JPY", 1000, 3, 10, 100000},
    {"USDCHF", "USD", "CHF", 100000, 5, 10, 100000},
    {"USDCAD", "USD", "CAD", 100000, 5, 10, 100000},
    {"AUDUSD", "AUD", "USD", 100000, 5, 10, 100000},
    {"NZDUSD", "NZD", "USD", 100000, 5, 10, 100000},
    /* crosses */
    {"EURGBP", "EUR", "GBP", 100000, 5, 10, 100000},
    {"EURJPY", "EUR", "JPY", 1000, 3, 10, 100000},
    {"EURCHF", "EUR", "CHF", 100000, 5, 10, 100000},
    {"EURAUD", "EUR", "AUD", 100000, 5, 10, 100000},
    {"EURCAD", "EUR", "CAD", 100000, 5, 10, 100000},
    {"EURNZD", "EUR", "NZD", 100000, 5, 10, 100000},
    {"GBPJPY", "GBP", "JPY", 1000, 3, 10, 100000},
    {"GBPCHF", "GBP", "CHF", 100000, 5, 10, 100000},
    {"GBPAUD", "GBP", "AUD", 100000, 5, 10, 100000},
    {"GBPCAD", "GBP", "CAD", 100000, 5, 10, 100000},
    {"AUDJPY", "AUD", "JPY", 1000, 3, 10, 100000},
    {"AUDCAD", "AUD", "CAD", 100000, 5, 10, 100000},
    {"AUDCHF", "AUD", "CHF", 100000, 5, 10, 100000},
    {"AUDNZD", "AUD", "NZD", 100000, 5, 10, 100000},
    {"CADJPY", "CAD", "JPY", 1000, 3, 10, 100000},
    {"CHFJPY", "CHF", "JPY", 1000, 3, 10, 100000},
    {"NZDJPY", "NZD", "JPY", 1000, 3, 10, 100000},
    /* metals and crypto */
    {"XAUUSD", "XAU", "USD", 1000, 3, 100, 100},
    {"XAGUSD", "XAG", "USD", 1000, 3, 10, 5000}, /* 3 decimals; pip 0.01 */
    {"BTCUSD", "BTC", "USD", 10, 1, 10, 1},
};

static int grow(tt_instruments *t)
{
    if (t->n < t->cap)
        return 0;
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    tt_instrument *v = realloc(t->v, cap * sizeof *v);
    if (!v)
        return -1;
    t->v = v;
    t->cap = cap;
    return 0;
}

tt_instruments *tt_instruments_new(void)
{
    tt_instruments *t = calloc(1, sizeof *t);
    if (!t || grow(t)) {
        free(t);
        return NULL;
    }
    memset(&t->v[0], 0, sizeof t->v[0]);
    t->n = 1;
    for (size_t i = 0; i < sizeof BUILTINS / sizeof BUILTINS[0]; i++) {
        const builtin *b = &BUILTINS[i];
        tt_instrument ins = {0};
        snprintf(ins.symbol, sizeof ins.symbol, "%s", b->sym);
        snprintf(ins.base, sizeof ins.base, "%s", b->base);
        snprintf(ins.quote, sizeof ins.quote, "%s", b->quote);
        ins.points = b->points;
        ins.digits = b->digits;
        ins.pip = b->pip;
        ins.contract_size = b->contract;
        ins.volume_step = 0.01;
        ins.margin_rate = 1.0;
        if (tt_instruments_put(t, &ins, NULL)) {
            tt_instruments_free(t);
            return NULL;
        }
    }
    return t;
}

void tt_instruments_free(tt_instruments *t)
{
    if (t) {
        free(t->v);
        free(t);
    }
}

/* Canonical symbol: letters and digits only, upper case, a "C:"/"X:" prefix dropped. */
static void canon(const char *in, char *out, size_t n)
{
    if ((in[0] == 'C' || in[0] == 'X' || in[0] == 'c' || in[0] == 'x') && in[1] == ':')
        in += 2;
    size_t k = 0;
    for (; *in && k + 1 < n; in++) {
        if (isalnum((unsigned char)*in))
            out[k++] = (char)toupper((unsigned char)*in);
    }
    out[k] = '\0';
}

const tt_instrument *tt_instruments_find(const tt_instruments *t, const char *symbol)
{
    if (!t || !symbol)
        return NULL;
    char want[TT_SYMBOL_MAX * 2], have[TT_SYMBOL_MAX * 2];
    canon(symbol, want, sizeof want);
    for (uint32_t i = 1; i < t->n; i++) {
        canon(t->v[i].symbol, have, sizeof have);
        if (strcmp(want, have) == 0)
            return &t->v[i];
    }
    return NULL;
}

int tt_instruments_require(const tt_instruments *t, const char *symbol,
                           const tt_instrument **out, tt_err *err)
{
    const tt_instrument *ins = tt_instruments_find(t, symbol);
    if (!ins)
        return tt_err_set(err, TT_ENOTFOUND,
                          "unknown symbol '%s': declare it in an instruments file "
                          "(line: 'SYMBOL POINTS DIGITS PIP CONTRACT BASE QUOTE', e.g. "
                          "'%s 100000 5 10 100000 EUR USD') and pass it with --instruments FILE "
                          "or the scenario's data.instruments key (see docs/instruments.md)",
                          symbol, symbol);
    *out = ins;
    return TT_OK;
}

int tt_instruments_put(tt_instruments *t, const tt_instrument *ins, tt_err *err)
{
    if (!ins->symbol[0] || ins->points <= 0 || ins->digits < 0 || ins->digits > 12)
        return tt_err_set(err, TT_EINVAL, "instrument '%s': points must be > 0 and digits 0..12",
                          ins->symbol);
    tt_instrument *slot = (tt_instrument *)tt_instruments_find(t, ins->symbol);
    if (!slot) {
        if (grow(t))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        slot = &t->v[t->n];
        *slot = *ins;
        slot->id = t->n++;
        return TT_OK;
    }
    uint32_t id = slot->id;
    *slot = *ins;
    slot->id = id;
    return TT_OK;
}

const tt_instrument *tt_instruments_get(const tt_instruments *t, uint32_t id)
{
    return (t && id > 0 && id < t->n) ? &t->v[id] : NULL;
}

uint32_t tt_instruments_count(const tt_instruments *t)
{
    return t ? t->n - 1 : 0;
}

/* Two instrument tables that give every symbol the same id and facts (each
 * prepared scenario has its own table, loaded from the same file). */
int tt_instruments_same(const tt_instruments *a, const tt_instruments *b)
{
    if (a == b)
        return 1;
    if (!a || !b || tt_instruments_count(a) != tt_instruments_count(b))
        return 0;
    for (uint32_t id = 1; id <= tt_instruments_count(a); id++) {
        const tt_instrument *x = tt_instruments_get(a, id), *y = tt_instruments_get(b, id);
        if (!x || !y) {
            if (x != y)
                return 0;
            continue;
        }
        if (strcmp(x->symbol, y->symbol) || strcmp(x->base, y->base) ||
            strcmp(x->quote, y->quote) || x->points != y->points || x->digits != y->digits ||
            x->pip != y->pip || x->contract_size != y->contract_size ||
            x->volume_step != y->volume_step || x->swap_long != y->swap_long ||
            x->swap_short != y->swap_short || x->margin_rate != y->margin_rate)
            return 0;
    }
    return 1;
}

static int parse_kv(tt_instrument *ins, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return -1;
    char *end;
    double v = strtod(eq + 1, &end);
    if (*end)
        return -1;
    size_t k = (size_t)(eq - kv);
    if (k == 9 && !strncmp(kv, "swap_long", k)) ins->swap_long = v;
    else if (k == 10 && !strncmp(kv, "swap_short", k)) ins->swap_short = v;
    else if (k == 11 && !strncmp(kv, "margin_rate", k)) ins->margin_rate = v;
    else if (k == 11 && !strncmp(kv, "volume_step", k)) ins->volume_step = v;
    else return -1;
    return 0;
}

int tt_instruments_load(tt_instruments *t, const char *path, tt_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
    char line[1024];
    int lineno = 0, rc = TT_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *tok[32];
        int nt = 0;
        for (char *s = strtok(line, " \t\r\n,"); s && nt < 32; s = strtok(NULL, " \t\r\n,"))
            tok[nt++] = s;
        if (nt == 0)
            continue;
        if (nt < 7) {
            rc = tt_err_set(err, TT_EFORMAT,
                            "%s:%d: expected 'SYMBOL POINTS DIGITS PIP CONTRACT BASE QUOTE "
                            "[key=value ...]', got %d field(s)",
                            path, lineno, nt);
            break;
        }
        tt_instrument ins = {0};
        char *e1, *e2, *e3, *e4;
        snprintf(ins.symbol, sizeof ins.symbol, "%s", tok[0]);
        ins.points = strtoll(tok[1], &e1, 10);
        ins.digits = (int)strtol(tok[2], &e2, 10);
        ins.pip = strtoll(tok[3], &e3, 10);
        ins.contract_size = strtod(tok[4], &e4);
        snprintf(ins.base, sizeof ins.base, "%s", tok[5]);
        snprintf(ins.quote, sizeof ins.quote, "%s", tok[6]);
        ins.volume_step = 0.01;
        ins.margin_rate = 1.0;
        const char *bad = *e1 ? "POINTS" : *e2 ? "DIGITS" : *e3 ? "PIP" : *e4 ? "CONTRACT" : NULL;
        if (bad) {
            rc = tt_err_set(err, TT_EFORMAT, "%s:%d: field %s is not a number", path, lineno, bad);
            break;
        }
        for (int i = 7; i < nt; i++) {
            if (parse_kv(&ins, tok[i])) {
                rc = tt_err_set(err, TT_EFORMAT,
                                "%s:%d: bad option '%s' (known: swap_long= swap_short= "
                                "margin_rate= volume_step=)",
                                path, lineno, tok[i]);
                break;
            }
        }
        if (rc)
            break;
        if ((rc = tt_instruments_put(t, &ins, err)) != TT_OK) {
            tt_err_prefix(err, "%s:%d: ", path, lineno);
            break;
        }
    }
    /* fgets ends the same way at the end and on a read error: tell them apart */
    if (rc == TT_OK && ferror(f))
        rc = tt_err_set(err, TT_EIO, "%s: cannot read after line %d: %s", path, lineno,
                        strerror(errno));
    fclose(f);
    return rc;
}

double tt_price_to_double(const tt_instrument *ins, tt_price p)
{
    return (double)p / (double)ins->points;
}

tt_price tt_price_from_double(const tt_instrument *ins, double v)
{
    return (tt_price)llround(v * (double)ins->points);
}

int tt_price_format(const tt_instrument *ins, tt_price p, char *buf, int bufsize)
{
    /* Exact: integer part and fraction from integer arithmetic, never a double. */
    int64_t pts = ins->points;
    int neg = p < 0;
    uint64_t a = neg ? (uint64_t)(-(p + 1)) + 1 : (uint64_t)p;
    uint64_t ip = a / (uint64_t)pts, fp = a % (uint64_t)pts;
    /* scale fraction to `digits` decimals: points may be 10^k with k != digits */
    int k = 0;
    for (int64_t x = pts; x > 1; x /= 10)
        k++;
    int d = ins->digits;
    if (d == 0)
        return snprintf(buf, (size_t)bufsize, "%s%llu", neg ? "-" : "", (unsigned long long)ip);
    if (d >= k) {
        for (int i = k; i < d; i++)
            fp *= 10;
    } else {
        for (int i = d; i < k; i++)
            fp /= 10; /* display coarser than a point: truncates (documented) */
    }
    return snprintf(buf, (size_t)bufsize, "%s%llu.%0*llu", neg ? "-" : "", (unsigned long long)ip,
                    d, (unsigned long long)fp);
}

int tt_price_parse(const tt_instrument *ins, const char *s, tt_price *out, tt_err *err)
{
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!isdigit((unsigned char)*p) && *p != '.')
        return tt_err_set(err, TT_EFORMAT, "'%s' is not a price", s);
    int64_t ip = 0;
    while (isdigit((unsigned char)*p)) {
        if (__builtin_mul_overflow(ip, 10, &ip) || __builtin_add_overflow(ip, *p - '0', &ip))
            return tt_err_set(err, TT_EFORMAT, "'%s' is too large a price for %s", s, ins->symbol);
        p++;
    }
    int64_t frac = 0, scale = 1;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (scale < ins->points) {
                frac = frac * 10 + (*p - '0');
                scale *= 10;
            } else if (*p != '0') {
                return tt_err_set(err, TT_EFORMAT, "'%s' is finer than one point of %s (1/%lld)",
                                  s, ins->symbol, (long long)ins->points);
            }
            p++;
        }
    }
    if (*p)
        return tt_err_set(err, TT_EFORMAT, "'%s' is not a price", s);
    int64_t v;
    if (__builtin_mul_overflow(ip, ins->points, &v) ||
        __builtin_add_overflow(v, frac * (ins->points / scale), &v))
        return tt_err_set(err, TT_EFORMAT, "'%s' is too large a price for %s", s, ins->symbol);
    *out = neg ? -v : v;
    return TT_OK;
}
