/*
 * ticktape: scenario files.
 *
 * How this works: libyaml's document API loads the whole file as a node tree
 * (every node carries its line); a recursive walk flattens it into entries
 * named by dotted paths, in document order. Each entry is checked against the
 * schema table below as soon as it is made, so the first unknown key or bad
 * value stops the load with the file, line and key in the message. The same
 * check runs for `--set key=value` overrides.
 *
 * The schema is a flat table of dotted keys with a type and a one-line
 * meaning; a key ending in ".*" marks a free-form section whose entries are
 * kept as they are (their readers check them). The table is also what
 * `ticktape backtest --keys` prints, so the documentation and the checks come
 * from one place.
 *
 * Scenarios are small (tens of entries): entries live in a plain array
 * searched linearly; nothing here is on a hot path.
 */
#include "scenario.h"

#include "synth.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- schema ---- */

enum vtype {
    V_STR = 1, V_UINT, V_INT, V_DOUBLE, V_BOOL, V_TS, V_PATH, V_LIST, V_ENUM, V_MONEY, V_TF,
    V_FREE
};

typedef struct schema_key {
    const char *key;
    int type;
    double min, max;     /* V_DOUBLE / V_INT / V_UINT bounds (inclusive; max 0 = none) */
    const char *choices; /* V_ENUM: '|'-separated */
    const char *help;
} schema_key;

#define NOMAX 0
static const schema_key SCHEMA[] = {
    {"name", V_STR, 0, NOMAX, NULL, "name of the run (shown in reports)"},
    {"description", V_STR, 0, NOMAX, NULL, "free text shown in reports"},
    {"seed", V_UINT, 0, NOMAX, NULL, "scenario seed: every random stream derives from it (1)"},

    {"data.tape", V_PATH, 0, NOMAX, NULL, "tape directory to replay (or data.synthetic)"},
    {"data.symbols", V_LIST, 0, NOMAX, NULL, "symbols to replay from the tape, e.g. [EURUSD]"},
    {"data.from", V_TS, 0, NOMAX, NULL, "start (inclusive), ISO 8601 UTC"},
    {"data.to", V_TS, 0, NOMAX, NULL, "end (exclusive), ISO 8601 UTC"},
    {"data.instruments", V_PATH, 0, NOMAX, NULL, "extra instrument table (docs/instruments.md)"},
    {"data.synthetic.*", V_FREE, 0, NOMAX, NULL,
     "a synthetic market: keys of tt_synth_config_set (docs/synthetic.md)"},

    {"account.currency", V_STR, 0, NOMAX, NULL, "account currency, 3 letters (USD)"},
    {"account.balance", V_MONEY, 0, NOMAX, NULL, "initial balance in currency units (10000)"},
    {"account.leverage", V_DOUBLE, 1e-9, NOMAX, NULL, "leverage, e.g. 100 for 1:100 (100)"},
    {"account.swaps", V_BOOL, 0, NOMAX, NULL, "charge swaps at the daily rollover (true)"},
    {"account.mode", V_ENUM, 0, NOMAX, "netting|hedging", "position mode (netting)"},

    {"venue.latency_ms", V_DOUBLE, 0, 3600000, NULL, "order travel time to the venue, ms (0)"},
    {"venue.slippage.model", V_ENUM, 0, NOMAX, "none|fixed|random",
     "none, fixed points against the order, or uniform 0..points (none)"},
    {"venue.slippage.points", V_INT, 0, 1e9, NULL, "slippage size in points (0)"},
    {"venue.commission.per_lot", V_DOUBLE, 0, NOMAX, NULL,
     "commission per lot per side, account currency (0)"},
    {"venue.commission.per_million", V_DOUBLE, 0, NOMAX, NULL,
     "commission per million of notional per side (0; not with per_lot)"},
    {"venue.margin_call_pct", V_DOUBLE, 0, NOMAX, NULL, "margin level (%) of a margin call; 0 = off (100)"},
    {"venue.stop_out_pct", V_DOUBLE, 0, NOMAX, NULL, "margin level (%) of a stop-out; 0 = off (50)"},
    {"venue.max_fill_lots", V_DOUBLE, 0, NOMAX, NULL, "most volume filled per quote, lots; 0 = all (0)"},

    {"risk.max_position_lots", V_DOUBLE, 0, NOMAX, NULL, "largest net position per symbol, lots (0 = off)"},
    {"risk.max_order_lots", V_DOUBLE, 0, NOMAX, NULL, "largest single order, lots (0 = off)"},
    {"risk.max_exposure", V_DOUBLE, 0, NOMAX, NULL, "largest gross notional, account currency (0 = off)"},
    {"risk.max_orders_per_sec", V_UINT, 0, 1e9, NULL, "order rate limit (0 = off)"},
    {"risk.daily_loss_pct", V_DOUBLE, 0, 100, NULL,
     "halt for the day past this loss, % of the initial balance (0 = off)"},
    {"risk.daily_loss", V_DOUBLE, 0, NOMAX, NULL,
     "halt for the day past this loss, account currency (0 = off; not with daily_loss_pct)"},
    {"risk.max_drawdown_pct", V_DOUBLE, 0, 99.999, NULL, "halt past this drawdown from the peak, % (0 = off)"},
    {"risk.flatten_on_halt", V_BOOL, 0, NOMAX, NULL, "close positions when a limit halts trading (true)"},

    {"strategy.name", V_STR, 0, NOMAX, NULL, "built-in strategy name, or a plugin path (.so)"},
    {"strategy.params.*", V_FREE, 0, NOMAX, NULL, "strategy parameters, passed to it as key=value"},

    {"metrics.periods_per_year", V_UINT, 1, 100000, NULL, "annualization of daily figures (252)"},
    {"metrics.risk_free", V_DOUBLE, -1, 1, NULL, "annual risk-free rate as a fraction (0)"},
    {"metrics.equity_interval", V_TF, 0, NOMAX, NULL,
     "equity curve sampling: a timeframe such as M1 or H1 (M1)"},
    {"metrics.equity_points", V_UINT, 0, NOMAX, NULL,
     "most equity points kept for charts and series.h5; 0 = all (200000)"},
    {"metrics.trades_in_memory", V_UINT, 0, NOMAX, NULL,
     "closed trades kept in memory; past it they move to a temporary file in $TMPDIR; "
     "0 = all in memory (16384)"},

    {"outputs.dir", V_PATH, 0, NOMAX, NULL, "where reports go (--out wins)"},
    {"outputs.html", V_BOOL, 0, NOMAX, NULL, "write report.html (true)"},
    {"outputs.json", V_BOOL, 0, NOMAX, NULL, "write summary.json (true)"},
    {"outputs.csv", V_BOOL, 0, NOMAX, NULL, "write trades.csv (true)"},
    {"outputs.hdf5", V_BOOL, 0, NOMAX, NULL, "write series.h5 (true)"},

    {"sweep.*", V_FREE, 0, NOMAX, NULL, "parameter sweep settings (research tools)"},
    {"walkforward.*", V_FREE, 0, NOMAX, NULL, "walk-forward settings (research tools)"},
    {"gates.*", V_FREE, 0, NOMAX, NULL, "CI gates on the figures (research tools)"},
    {"research.*", V_FREE, 0, NOMAX, NULL, "other research-tool settings"},
};
#define NSCHEMA (sizeof SCHEMA / sizeof SCHEMA[0])

static const char *type_name(int t)
{
    switch (t) {
    case V_STR: return "string";
    case V_UINT: return "whole number";
    case V_INT: return "integer";
    case V_DOUBLE: return "number";
    case V_BOOL: return "true|false";
    case V_TS: return "time";
    case V_PATH: return "path";
    case V_LIST: return "list";
    case V_ENUM: return "choice";
    case V_MONEY: return "money";
    case V_TF: return "timeframe";
    case V_FREE: return "section";
    default: return "?";
    }
}

/* The schema row of a key: exact match, or the free-form section it falls in. */
static const schema_key *schema_find(const char *key)
{
    for (size_t i = 0; i < NSCHEMA; i++) {
        const char *k = SCHEMA[i].key;
        size_t n = strlen(k);
        if (SCHEMA[i].type == V_FREE) {
            if (!strncmp(key, k, n - 1) && key[n - 1] != '\0')
                return &SCHEMA[i];
        } else if (!strcmp(key, k)) {
            return &SCHEMA[i];
        }
    }
    return NULL;
}

/* ---- the scenario ---- */

typedef struct entry {
    tt_scenario_entry pub;
    char *base; /* directory for relative paths ("" = current directory) */
} entry;

struct tt_scenario {
    entry *e;
    size_t n, cap;
    char *file;
    char *base_dir;
    char *name_from_file;
};

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void entry_free(entry *e)
{
    free((char *)e->pub.key);
    free((char *)e->pub.value);
    free(e->base);
}

void tt_scenario_free(tt_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        entry_free(&s->e[i]);
    free(s->e);
    free(s->file);
    free(s->base_dir);
    free(s->name_from_file);
    free(s);
}

static int where(tt_err *err, int code, const char *file, int line, const char *key,
                 const char *fmt, const char *detail)
{
    if (line > 0)
        return tt_err_set(err, code, "%s:%d: %s: %s%s", file, line, key, fmt, detail ? detail : "");
    return tt_err_set(err, code, "%s %s: %s%s", file, key, fmt, detail ? detail : "");
}

/* Does any schema key start with "prefix."? Used to say "expected a mapping". */
static int is_section(const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < NSCHEMA; i++)
        if (!strncmp(SCHEMA[i].key, prefix, n) && SCHEMA[i].key[n] == '.')
            return 1;
    return 0;
}

/* The keys a section takes, for the "unknown key" message: for "venue.x" the
 * keys under venue (relative), for a top-level key the section names. */
static void section_keys(const char *key, char *buf, size_t bufsize)
{
    const char *dot = strrchr(key, '.');
    size_t plen = dot ? (size_t)(dot - key) : 0;
    size_t used = 0;
    buf[0] = '\0';
    const char *last = NULL;
    size_t last_len = 0;
    for (size_t i = 0; i < NSCHEMA && used < bufsize; i++) {
        const char *k = SCHEMA[i].key;
        if (plen && (strncmp(k, key, plen) || k[plen] != '.'))
            continue;
        const char *rest = plen ? k + plen + 1 : k;
        size_t len = strlen(rest);
        if (!plen) {
            const char *d = strchr(rest, '.');
            if (d)
                len = (size_t)(d - rest);
            /* the schema lists a section's keys together: skip repeats */
            if (last && last_len == len && !strncmp(last, rest, len))
                continue;
            last = rest;
            last_len = len;
        }
        int n = snprintf(buf + used, bufsize - used, "%s%.*s", used ? ", " : "", (int)len, rest);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "True", "TRUE", "Yes", "On"};
    static const char *const no[] = {"false", "no", "off", "0", "False", "FALSE", "No", "Off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!strcmp(v, yes[i])) {
            *out = 1;
            return 1;
        }
        if (!strcmp(v, no[i])) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

static int parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || errno == ERANGE || !isfinite(d))
        return 0;
    *out = d;
    return 1;
}

static int parse_int(const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || errno == ERANGE)
        return 0;
    *out = x;
    return 1;
}

/* Exact decimal "123.45" -> 12345 with scale 100. */
static int parse_money(const char *v, int64_t scale, int64_t *out)
{
    if (scale <= 0 || scale > 1000000)
        return 0;
    const char *p = v;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!isdigit((unsigned char)*p))
        return 0;
    int64_t whole = 0, frac = 0, fscale = 1;
    for (; isdigit((unsigned char)*p); p++) {
        if (whole > (INT64_MAX / 10 - 10) / scale)
            return 0;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        p++;
        /* Up to 12 decimals count (frac * scale stays far inside int64);
         * further ones may only be zeros ("500.250000000000000"). */
        for (; isdigit((unsigned char)*p); p++) {
            if (fscale >= 1000000000000LL) {
                if (*p != '0')
                    return 0;
                continue;
            }
            frac = frac * 10 + (*p - '0');
            fscale *= 10;
        }
    }
    if (*p != '\0')
        return 0;
    /* frac / fscale must be a whole number of 1/scale */
    if ((frac * scale) % fscale != 0)
        return 0;
    int64_t m = whole * scale + frac * scale / fscale;
    *out = neg ? -m : m;
    return 1;
}

/* Whether tt_ts_parse can represent v: int64 nanoseconds reach from 1677 to
 * 2262, and the parser does not check that itself (an out-of-range year or a
 * huge "...s" count would overflow), so the range is checked here first. */
static int ts_representable(const char *v)
{
    const char *p = v;
    if (*p == '-' || *p == '+')
        p++;
    const char *q = p;
    while (isdigit((unsigned char)*q))
        q++;
    if (q > p && *q != '-') { /* "<integer><unit>" */
        double x = strtod(v, NULL);
        double mul = !strcmp(q, "ns") ? 1.0 : !strcmp(q, "us") ? 1e3 : !strcmp(q, "ms") ? 1e6 : 1e9;
        return fabs(x * mul) < 9.2e18;
    }
    if (q - p == 4 && p == v) { /* ISO 8601: the year */
        int year = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
        return year >= 1678 && year <= 2261;
    }
    return 1; /* anything else: the parser refuses it on its own */
}

/* Check one value against its schema row; err names file, line and key. */
static int check_value(const schema_key *k, const char *key, const char *v, const char *file,
                       int line, tt_err *err)
{
    char detail[300];
    switch (k->type) {
    case V_FREE:
    case V_LIST:
        return TT_OK;
    case V_STR:
    case V_PATH:
        if (!*v)
            return where(err, TT_EINVAL, file, line, key, "expected a value, got nothing", NULL);
        if (!strcmp(key, "account.currency") &&
            (strlen(v) != 3 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1]) ||
             !isupper((unsigned char)v[2]))) {
            snprintf(detail, sizeof detail, "'%s'", v);
            return where(err, TT_EINVAL, file, line, key,
                         "expected a 3-letter currency code such as USD, got ", detail);
        }
        return TT_OK;
    case V_BOOL: {
        int b;
        if (parse_bool(v, &b))
            return TT_OK;
        snprintf(detail, sizeof detail, "'%s'", v);
        return where(err, TT_EINVAL, file, line, key, "expected true or false, got ", detail);
    }
    case V_DOUBLE:
    case V_INT:
    case V_UINT: {
        double d = 0;
        int64_t i = 0;
        int ok = k->type == V_DOUBLE ? parse_double(v, &d) : parse_int(v, &i);
        if (k->type != V_DOUBLE)
            d = (double)i;
        if (ok && k->type == V_UINT && i < 0)
            ok = 0;
        if (ok && (d < k->min || (k->max != NOMAX && d > k->max)))
            ok = 0;
        if (ok)
            return TT_OK;
        char range[120];
        if (k->max != NOMAX)
            snprintf(range, sizeof range, "%s in [%g, %g]", type_name(k->type), k->min, k->max);
        else
            snprintf(range, sizeof range, "%s >= %g", type_name(k->type), k->min);
        snprintf(detail, sizeof detail, "expected a %s, got '%s'", range, v);
        return where(err, TT_EINVAL, file, line, key, detail, NULL);
    }
    case V_TS: {
        tt_ts t;
        if (ts_representable(v) && tt_ts_parse(v, &t) == TT_OK)
            return TT_OK;
        snprintf(detail, sizeof detail, "'%s'", v);
        return where(err, TT_EINVAL, file, line, key,
                     "expected a UTC time such as 2019-02-04 or 2019-02-04T10:00:00Z, got ",
                     detail);
    }
    case V_MONEY: {
        int64_t m;
        if (parse_money(v, 100, &m) && m > 0)
            return TT_OK;
        snprintf(detail, sizeof detail, "'%s'", v);
        return where(err, TT_EINVAL, file, line, key,
                     "expected a positive amount with at most 2 decimals, got ", detail);
    }
    case V_TF:
        if (tt_timeframe_parse(v) != TT_TF_NONE)
            return TT_OK;
        snprintf(detail, sizeof detail, "'%s'", v);
        return where(err, TT_EINVAL, file, line, key, "expected a timeframe (M1, H1, ...), got ",
                     detail);
    case V_ENUM: {
        size_t n = strlen(v);
        const char *c = k->choices;
        while (*c) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && !strncmp(c, v, n))
                return TT_OK;
            c += len + (bar ? 1 : 0);
        }
        snprintf(detail, sizeof detail, "expected one of %s, got '%s'", k->choices, v);
        return where(err, TT_EINVAL, file, line, key, detail, NULL);
    }
    }
    return TT_OK;
}

static int check_key(const char *key, const char *value, const char *file, int line, tt_err *err)
{
    const schema_key *k = schema_find(key);
    if (!k) {
        char keys[700];
        if (is_section(key))
            return where(err, TT_EINVAL, file, line, key,
                         "expected a mapping (a section of keys), got a value", NULL);
        section_keys(key, keys, sizeof keys);
        char detail[800];
        snprintf(detail, sizeof detail, "unknown key (known here: %s)", keys);
        return where(err, TT_EINVAL, file, line, key, detail, NULL);
    }
    return check_value(k, key, value, file, line, err);
}

static entry *find_entry(const tt_scenario *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->e[i].pub.key, key))
            return &s->e[i];
    return NULL;
}

/* A scenario has tens of keys; YAML aliases can multiply a small file into
 * millions of entries ("billion laughs"), so the count is capped. */
#define MAX_ENTRIES 10000

static int add_entry(tt_scenario *s, const char *key, const char *value, const char *file,
                     int line, int is_list, const char *base, tt_err *err)
{
    if (s->n >= MAX_ENTRIES)
        return tt_err_set(err, TT_EFORMAT, "%s:%d: %s: more than %d keys in one scenario", file,
                          line, key, MAX_ENTRIES);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        entry *ne = realloc(s->e, cap * sizeof *ne);
        if (!ne)
            return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
        s->e = ne;
        s->cap = cap;
    }
    entry *e = &s->e[s->n];
    memset(e, 0, sizeof *e);
    e->pub.key = xstrdup(key);
    e->pub.value = xstrdup(value);
    e->pub.file = file;
    e->pub.line = line;
    e->pub.is_list = is_list;
    e->base = xstrdup(base);
    if (!e->pub.key || !e->pub.value || !e->base) {
        entry_free(e);
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    }
    s->n++;
    return TT_OK;
}

/* ---- YAML flattening ---- */

typedef struct walker {
    tt_scenario *s;
    yaml_document_t *doc;
    tt_err *err;
    int depth;
} walker;

static int scalar_of(yaml_node_t *n, const char **v, size_t *len)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return 0;
    *v = (const char *)n->data.scalar.value;
    *len = n->data.scalar.length;
    return 1;
}

/* A list of scalars joined with ',' (or lists of them joined with ';'); 0 if
 * the list holds anything else. */
static int join_list(yaml_document_t *doc, yaml_node_t *seq, char *buf, size_t bufsize,
                     int allow_nested)
{
    size_t used = 0;
    buf[0] = '\0';
    int first = 1;
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top; it++) {
        yaml_node_t *c = yaml_document_get_node(doc, *it);
        char part[1024];
        const char *v;
        size_t len;
        if (scalar_of(c, &v, &len)) {
            if (len >= sizeof part || memchr(v, ',', len) || memchr(v, ';', len))
                return 0;
            memcpy(part, v, len);
            part[len] = '\0';
        } else if (allow_nested && c && c->type == YAML_SEQUENCE_NODE) {
            if (!join_list(doc, c, part, sizeof part, 0))
                return 0;
        } else {
            return 0;
        }
        int n = snprintf(buf + used, bufsize - used, "%s%s",
                         first ? "" : (allow_nested && c->type == YAML_SEQUENCE_NODE ? ";" : ","),
                         part);
        if (n < 0 || (size_t)n >= bufsize - used)
            return 0;
        used += (size_t)n;
        first = 0;
    }
    return 1;
}

/* Check and store one flattened scalar; a key met twice is an error. */
static int put(walker *w, const char *path, const char *value, int line, int is_list)
{
    tt_scenario *s = w->s;
    int rc = check_key(path, value, s->file, line, w->err);
    if (rc != TT_OK)
        return rc;
    entry *old = find_entry(s, path);
    if (old) {
        char d[40];
        snprintf(d, sizeof d, "%d)", old->pub.line);
        return where(w->err, TT_EFORMAT, s->file, line, path, "duplicate key (first at line ", d);
    }
    return add_entry(s, path, value, s->file, line, is_list, s->base_dir, w->err);
}

static int walk(walker *w, yaml_node_t *n, const char *path)
{
    tt_scenario *s = w->s;
    int line = (int)n->start_mark.line + 1;
    if (++w->depth > 16) {
        return where(w->err, TT_EFORMAT, s->file, line, path, "nested too deeply", NULL);
    }
    int rc = TT_OK;
    if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             p < n->data.mapping.pairs.top && rc == TT_OK; p++) {
            yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
            yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
            const char *ks;
            size_t klen;
            if (!scalar_of(k, &ks, &klen) || klen == 0 || memchr(ks, '.', klen) ||
                memchr(ks, '=', klen)) {
                rc = where(w->err, TT_EFORMAT, s->file, k ? (int)k->start_mark.line + 1 : line,
                           *path ? path : "(top)",
                           "keys must be plain words (no '.', '=' or nested structures)", NULL);
                break;
            }
            char sub[512];
            snprintf(sub, sizeof sub, "%s%s%.*s", path, *path ? "." : "", (int)klen, ks);
            rc = walk(w, v, sub);
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        char joined[4096];
        if (join_list(w->doc, n, joined, sizeof joined, 1)) {
            rc = put(w, path, joined, line, 1);
        } else {
            int i = 0;
            for (yaml_node_item_t *it = n->data.sequence.items.start;
                 it < n->data.sequence.items.top && rc == TT_OK; it++, i++) {
                char sub[512];
                snprintf(sub, sizeof sub, "%s.%d", path, i);
                rc = walk(w, yaml_document_get_node(w->doc, *it), sub);
            }
        }
    } else if (n->type == YAML_SCALAR_NODE) {
        if (!*path) {
            rc = where(w->err, TT_EFORMAT, s->file, line, "(top)",
                       "a scenario is a mapping of sections (name:, data:, account:, ...)", NULL);
        } else if (n->data.scalar.length == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                   is_section(path)) {
            /* "strategy:" with nothing under it: an empty section, not a value */
        } else {
            rc = put(w, path, (const char *)n->data.scalar.value, line, 0);
        }
    }
    w->depth--;
    return rc;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup("");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 2);
    if (!d)
        return NULL;
    if (n == 0) {
        strcpy(d, "/");
        return d;
    }
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

int tt_scenario_parse(tt_scenario **out, const char *text, size_t len, const char *name,
                      const char *base_dir, tt_err *err)
{
    *out = NULL;
    tt_scenario *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    s->file = xstrdup(name ? name : "scenario");
    s->base_dir = xstrdup(base_dir ? base_dir : "");
    if (!s->file || !s->base_dir) {
        tt_scenario_free(s);
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    }
    /* name from the file: basename without .yaml/.yml */
    const char *b = strrchr(s->file, '/');
    b = b ? b + 1 : s->file;
    s->name_from_file = xstrdup(b);
    if (s->name_from_file) {
        char *dot = strrchr(s->name_from_file, '.');
        if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
            *dot = '\0';
    }

    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        tt_scenario_free(s);
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory (yaml parser)");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = TT_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = tt_err_set(err, TT_EFORMAT, "%s:%zu: YAML: %s%s%s", s->file,
                        parser.problem_mark.line + 1, parser.problem ? parser.problem : "error",
                        parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        tt_scenario_free(s);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = tt_err_set(err, TT_EFORMAT, "%s: empty scenario (expected name:, data:, ...)",
                        s->file);
    } else if (root->type != YAML_MAPPING_NODE) {
        rc = tt_err_set(err, TT_EFORMAT,
                        "%s:%zu: a scenario is a mapping of sections (name:, data:, account:, ...)",
                        s->file, root->start_mark.line + 1);
    } else {
        walker w = {s, &doc, err, 0};
        rc = walk(&w, root, "");
    }
    yaml_document_delete(&doc);
    if (rc == TT_OK) {
        /* a second document would be silently ignored: refuse it */
        yaml_document_t doc2;
        if (yaml_parser_load(&parser, &doc2)) {
            yaml_node_t *r2 = yaml_document_get_root_node(&doc2);
            if (r2)
                rc = tt_err_set(err, TT_EFORMAT, "%s:%zu: only one YAML document per scenario",
                                s->file, r2->start_mark.line + 1);
            yaml_document_delete(&doc2);
        }
    }
    yaml_parser_delete(&parser);
    if (rc != TT_OK) {
        tt_scenario_free(s);
        return rc;
    }
    *out = s;
    return TT_OK;
}

int tt_scenario_load(tt_scenario **out, const char *path, tt_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot open scenario: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap > (64u << 20)) {
            free(buf);
            fclose(f);
            return tt_err_set(err, TT_EFORMAT, "%s: scenario larger than 64 MiB", path);
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int ioerr = ferror(f);
    fclose(f);
    if (!buf)
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    if (ioerr) {
        free(buf);
        return tt_err_set(err, TT_EIO, "%s: read error", path);
    }
    char *dir = dir_of(path);
    if (!dir) {
        free(buf);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    }
    int rc = tt_scenario_parse(out, buf, n, path, dir, err);
    free(dir);
    free(buf);
    return rc;
}

int tt_scenario_set(tt_scenario *s, const char *assignment, tt_err *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return tt_err_set(err, TT_EINVAL, "--set %s: expected key=value (e.g. venue.latency_ms=5)",
                          assignment);
    char key[512];
    size_t klen = (size_t)(eq - assignment);
    if (klen >= sizeof key)
        return tt_err_set(err, TT_EINVAL, "--set: key too long");
    memcpy(key, assignment, klen);
    key[klen] = '\0';
    const char *value = eq + 1;
    int rc = check_key(key, value, "--set", 0, err);
    if (rc != TT_OK)
        return rc;
    const schema_key *k = schema_find(key);
    int is_list = k && k->type == V_LIST;
    entry *old = find_entry(s, key);
    if (old) {
        char *nv = xstrdup(value);
        char *nb = xstrdup("");
        if (!nv || !nb) {
            free(nv);
            free(nb);
            return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
        }
        free((char *)old->pub.value);
        free(old->base);
        old->pub.value = nv;
        old->base = nb;
        old->pub.file = "--set";
        old->pub.line = 0;
        old->pub.is_list = is_list;
        return TT_OK;
    }
    return add_entry(s, key, value, "--set", 0, is_list, "", err);
}

/* ---- reading ---- */

size_t tt_scenario_count(const tt_scenario *s) { return s->n; }

const tt_scenario_entry *tt_scenario_at(const tt_scenario *s, size_t i)
{
    return i < s->n ? &s->e[i].pub : NULL;
}

const tt_scenario_entry *tt_scenario_find(const tt_scenario *s, const char *key)
{
    entry *e = find_entry(s, key);
    return e ? &e->pub : NULL;
}

const char *tt_scenario_get(const tt_scenario *s, const char *key, const char *def)
{
    entry *e = find_entry(s, key);
    return e ? e->pub.value : def;
}

const tt_scenario_entry *tt_scenario_next(const tt_scenario *s, const char *prefix, size_t *pos)
{
    size_t plen = strlen(prefix);
    while (*pos < s->n) {
        const tt_scenario_entry *e = &s->e[(*pos)++].pub;
        if (!strncmp(e->key, prefix, plen) && e->key[plen] == '.')
            return e;
    }
    return NULL;
}

static int bad_type(const tt_scenario_entry *e, const char *want, tt_err *err)
{
    char d[300];
    snprintf(d, sizeof d, "expected a %s, got '%s'", want, e->value);
    return where(err, TT_EINVAL, e->file, e->line, e->key, d, NULL);
}

int tt_scenario_double(const tt_scenario *s, const char *key, double def, double *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (!e)
        return TT_OK;
    if (!parse_double(e->value, out))
        return bad_type(e, "number", err);
    return TT_OK;
}

int tt_scenario_int(const tt_scenario *s, const char *key, int64_t def, int64_t *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (!e)
        return TT_OK;
    if (!parse_int(e->value, out))
        return bad_type(e, "whole number", err);
    return TT_OK;
}

int tt_scenario_bool(const tt_scenario *s, const char *key, int def, int *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (!e)
        return TT_OK;
    if (!parse_bool(e->value, out))
        return bad_type(e, "true or false", err);
    return TT_OK;
}

int tt_scenario_ts(const tt_scenario *s, const char *key, tt_ts def, tt_ts *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (!e)
        return TT_OK;
    if (!ts_representable(e->value) || tt_ts_parse(e->value, out) != TT_OK)
        return bad_type(e, "UTC time between 1678 and 2261", err);
    return TT_OK;
}

int tt_scenario_money(const tt_scenario *s, const char *key, tt_money def, int64_t minor_per_unit,
                      tt_money *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (!e)
        return TT_OK;
    if (!parse_money(e->value, minor_per_unit > 0 ? minor_per_unit : 100, out))
        return bad_type(e, "amount with no more decimals than the currency has", err);
    return TT_OK;
}

int tt_scenario_path(const tt_scenario *s, const char *key, char *buf, size_t bufsize, tt_err *err)
{
    entry *e = find_entry(s, key);
    buf[0] = '\0';
    if (!e)
        return TT_OK;
    const char *v = e->pub.value;
    int n;
    if (v[0] == '/' || !e->base[0])
        n = snprintf(buf, bufsize, "%s", v);
    else
        n = snprintf(buf, bufsize, "%s/%s", e->base, v);
    if (n < 0 || (size_t)n >= bufsize)
        return where(err, TT_EINVAL, e->pub.file, e->pub.line, key, "path too long", NULL);
    return TT_OK;
}

const char *tt_scenario_name(const tt_scenario *s)
{
    const char *n = tt_scenario_get(s, "name", NULL);
    if (n)
        return n;
    return s->name_from_file ? s->name_from_file : "scenario";
}

const char *tt_scenario_file(const tt_scenario *s) { return s->file; }

uint64_t tt_scenario_seed(const tt_scenario *s)
{
    const char *v = tt_scenario_get(s, "seed", NULL);
    if (!v)
        return 1;
    return strtoull(v, NULL, 10);
}

void tt_scenario_write(const tt_scenario *s, FILE *f)
{
    for (size_t i = 0; i < s->n; i++) {
        const tt_scenario_entry *e = &s->e[i].pub;
        if (e->is_list)
            fprintf(f, "%s: [%s]\n", e->key, e->value);
        else
            fprintf(f, "%s: %s\n", e->key, e->value);
    }
}

char *tt_scenario_text(const tt_scenario *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    tt_scenario_write(s, f);
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}

int tt_scenario_each(const tt_scenario *s, const char *prefix,
                     int (*fn)(void *ctx, const char *key, const char *value, tt_err *err),
                     void *ctx, tt_err *err)
{
    size_t pos = 0, plen = strlen(prefix);
    const tt_scenario_entry *e;
    while ((e = tt_scenario_next(s, prefix, &pos)) != NULL) {
        int rc = fn(ctx, e->key + plen + 1, e->value, err);
        if (rc != TT_OK) {
            if (err) {
                if (e->line > 0)
                    tt_err_prefix(err, "%s:%d: %s: ", e->file, e->line, e->key);
                else
                    tt_err_prefix(err, "%s %s: ", e->file, e->key);
            }
            return rc;
        }
    }
    return TT_OK;
}

int tt_scenario_check(const tt_scenario *s, tt_err *err)
{
    const tt_scenario_entry *tape = tt_scenario_find(s, "data.tape");
    size_t pos = 0;
    const tt_scenario_entry *syn = tt_scenario_next(s, "data.synthetic", &pos);
    if (tape && syn)
        return where(err, TT_EINVAL, syn->file, syn->line, "data.synthetic",
                     "give either data.tape or data.synthetic, not both", NULL);
    if (!tape && !syn)
        return tt_err_set(err, TT_EINVAL,
                          "%s: data: no market data (add data.tape with data.symbols, or a "
                          "data.synthetic section)",
                          s->file);
    if (tape && !tt_scenario_find(s, "data.symbols"))
        return where(err, TT_EINVAL, tape->file, tape->line, "data.symbols",
                     "a tape needs the symbols to replay (data.symbols: [EURUSD])", NULL);
    if (syn) {
        const tt_scenario_entry *bad = tt_scenario_find(s, "data.symbols");
        if (!bad)
            bad = tt_scenario_find(s, "data.from");
        if (!bad)
            bad = tt_scenario_find(s, "data.to");
        if (bad)
            return where(err, TT_EINVAL, bad->file, bad->line, bad->key,
                         "with data.synthetic, give symbols, from and to inside the synthetic "
                         "section",
                         NULL);
    }
    const tt_scenario_entry *from = tt_scenario_find(s, "data.from");
    const tt_scenario_entry *to = tt_scenario_find(s, "data.to");
    if (from && to) {
        tt_ts a, b;
        if (tt_ts_parse(from->value, &a) == TT_OK && tt_ts_parse(to->value, &b) == TT_OK &&
            b <= a)
            return where(err, TT_EINVAL, to->file, to->line, "data.to",
                         "must be after data.from", NULL);
    }
    if (!tt_scenario_find(s, "strategy.name"))
        return tt_err_set(err, TT_EINVAL, "%s: strategy.name: missing (which strategy to run?)",
                          s->file);
    return TT_OK;
}

tt_scenario *tt_scenario_clone(const tt_scenario *s)
{
    tt_scenario *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->file = xstrdup(s->file);
    c->base_dir = xstrdup(s->base_dir);
    c->name_from_file = s->name_from_file ? xstrdup(s->name_from_file) : NULL;
    if (!c->file || !c->base_dir) {
        tt_scenario_free(c);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        const entry *e = &s->e[i];
        /* entries from the file point at the file name: keep pointing at ours */
        const char *file = strcmp(e->pub.file, "--set") ? c->file : "--set";
        if (add_entry(c, e->pub.key, e->pub.value, file, e->pub.line, e->pub.is_list, e->base,
                      NULL) != TT_OK) {
            tt_scenario_free(c);
            return NULL;
        }
    }
    return c;
}

/* ---- from scenario to backtest ---- */

static int entry_error(const tt_scenario_entry *e, int code, const char *msg, tt_err *err)
{
    return where(err, code, e->file, e->line, e->key, msg, NULL);
}

/* Lots -> qty in units of the volume step; must be a whole number of steps. */
static int lots_to_qty(const tt_scenario *s, const char *key, double step, int64_t *out,
                       tt_err *err)
{
    double lots;
    int rc = tt_scenario_double(s, key, 0, &lots, err);
    *out = 0;
    if (rc != TT_OK || lots == 0)
        return rc;
    double q = lots / step;
    double r = floor(q + 0.5);
    if (fabs(q - r) > 1e-6 * (r > 1 ? r : 1)) {
        char m[160];
        snprintf(m, sizeof m, "%g lots is not a whole number of volume steps (%g)", lots, step);
        return entry_error(tt_scenario_find(s, key), TT_EINVAL, m, err);
    }
    *out = (int64_t)r;
    return TT_OK;
}

static int money_of(const tt_scenario *s, const char *key, int64_t minor, tt_money *out, tt_err *err)
{
    double v;
    int rc = tt_scenario_double(s, key, 0, &v, err);
    *out = (tt_money)llround(v * (double)minor);
    return rc;
}

typedef struct synth_ctx {
    tt_synth_config *cfg;
} synth_ctx;

static int synth_set(void *ctx, const char *key, const char *value, tt_err *err)
{
    return tt_synth_config_set(((synth_ctx *)ctx)->cfg, key, value, err);
}

static int prepare(const tt_scenario *s, tt_scenario_run *run, tt_err *err)
{
    int rc;
    tt_backtest_config *cfg = &run->cfg;
    tt_backtest_config_default(cfg);

    run->instruments = tt_instruments_new();
    if (!run->instruments)
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    char path[4096];
    if ((rc = tt_scenario_path(s, "data.instruments", path, sizeof path, err)) != TT_OK)
        return rc;
    if (path[0] && (rc = tt_instruments_load(run->instruments, path, err)) != TT_OK) {
        const tt_scenario_entry *e = tt_scenario_find(s, "data.instruments");
        tt_err_prefix(err, "%s:%d: data.instruments: ", e->file, e->line);
        return rc;
    }
    cfg->instruments = run->instruments;

    /* account */
    tt_portfolio_config *acc = &cfg->venue.account;
    const char *cur = tt_scenario_get(s, "account.currency", NULL);
    if (cur)
        snprintf(acc->currency, sizeof acc->currency, "%s", cur);
    run->minor_per_unit = acc->minor_per_unit > 0 ? acc->minor_per_unit : 100;
    if ((rc = tt_scenario_money(s, "account.balance", acc->initial_balance, run->minor_per_unit,
                                &acc->initial_balance, err)) != TT_OK)
        return rc;
    if ((rc = tt_scenario_double(s, "account.leverage", acc->leverage > 0 ? acc->leverage : 100,
                                 &acc->leverage, err)) != TT_OK)
        return rc;
    if ((rc = tt_scenario_bool(s, "account.swaps", acc->swaps, &acc->swaps, err)) != TT_OK)
        return rc;
    const char *mode = tt_scenario_get(s, "account.mode", "netting");
    acc->mode = !strcmp(mode, "hedging") ? TT_MODE_HEDGING : TT_MODE_NETTING;
    cfg->seed = tt_scenario_seed(s);
    cfg->venue.seed = cfg->seed;

    /* data */
    int nsym = 0;
    if (tt_scenario_find(s, "data.tape")) {
        if ((rc = tt_scenario_path(s, "data.tape", run->tape, sizeof run->tape, err)) != TT_OK)
            return rc;
        cfg->tape_dir = run->tape;
        const tt_scenario_entry *e = tt_scenario_find(s, "data.symbols");
        const char *p = e->value;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            while (len && (*p == ' ')) {
                p++;
                len--;
            }
            while (len && p[len - 1] == ' ')
                len--;
            if (len == 0 || len >= TT_SYMBOL_MAX || nsym >= TT_BACKTEST_MAX_SYMBOLS - 1)
                return entry_error(e, TT_EINVAL, "bad symbol list (empty name, name too long or too many symbols)", err);
            memcpy(run->symbols[nsym], p, len);
            run->symbols[nsym][len] = '\0';
            const tt_instrument *ins;
            if ((rc = tt_instruments_require(run->instruments, run->symbols[nsym], &ins, err))) {
                tt_err_prefix(err, "%s:%d: data.symbols: ", e->file, e->line);
                return rc;
            }
            nsym++;
            p += len;
            while (*p == ' ')
                p++;
            if (*p == ',')
                p++;
        }
        if ((rc = tt_scenario_ts(s, "data.from", 0, &cfg->from, err)) != TT_OK ||
            (rc = tt_scenario_ts(s, "data.to", 0, &cfg->to, err)) != TT_OK)
            return rc;
        run->data_from = cfg->from;
        run->data_to = cfg->to;
    } else {
        tt_synth_config sc;
        tt_synth_config_init(&sc);
        sc.seed = cfg->seed;
        synth_ctx ctx = {&sc};
        if ((rc = tt_scenario_each(s, "data.synthetic", synth_set, &ctx, err)) != TT_OK)
            return rc;
        if ((rc = tt_synth_config_check(&sc, err)) != TT_OK) {
            size_t pos = 0;
            const tt_scenario_entry *e = tt_scenario_next(s, "data.synthetic", &pos);
            tt_err_prefix(err, "%s:%d: data.synthetic: ", e->file, e->line);
            return rc;
        }
        for (int i = 0; i < sc.nsymbols && nsym < TT_BACKTEST_MAX_SYMBOLS - 1; i++)
            snprintf(run->symbols[nsym++], TT_SYMBOL_MAX, "%s", sc.symbols[i]);
        if ((rc = tt_synth_source_open(&sc, run->instruments, &run->synth_source, &run->synth,
                                       err)) != TT_OK) {
            size_t pos = 0;
            const tt_scenario_entry *e = tt_scenario_next(s, "data.synthetic", &pos);
            tt_err_prefix(err, "%s:%d: data.synthetic: ", e->file, e->line);
            return rc;
        }
        cfg->source = &run->synth_source;
        run->synthetic = 1;
        run->data_from = sc.from;
        run->data_to = sc.to;
    }
    for (int i = 0; i < nsym; i++)
        cfg->symbols[i] = run->symbols[i];
    cfg->symbols[nsym] = NULL;
    const tt_instrument *first = tt_instruments_find(run->instruments, run->symbols[0]);
    double step = first && first->volume_step > 0 ? first->volume_step : 0.01;

    /* venue */
    tt_venue_config *v = &cfg->venue;
    double ms;
    if ((rc = tt_scenario_double(s, "venue.latency_ms", 0, &ms, err)) != TT_OK)
        return rc;
    v->latency_ns = (int64_t)llround(ms * 1e6);
    const char *slip = tt_scenario_get(s, "venue.slippage.model", "none");
    v->slippage = !strcmp(slip, "fixed") ? TT_SLIP_FIXED : !strcmp(slip, "random") ? TT_SLIP_RANDOM
                                                                                  : TT_SLIP_NONE;
    if ((rc = tt_scenario_int(s, "venue.slippage.points", 0, &v->slippage_points, err)) != TT_OK)
        return rc;
    const tt_scenario_entry *pl = tt_scenario_find(s, "venue.commission.per_lot");
    const tt_scenario_entry *pm = tt_scenario_find(s, "venue.commission.per_million");
    if (pl && pm)
        return entry_error(pm, TT_EINVAL, "give per_lot or per_million, not both", err);
    if (pl) {
        v->commission = TT_COMM_PER_LOT;
        if ((rc = money_of(s, pl->key, run->minor_per_unit, &v->commission_per_lot, err)) != TT_OK)
            return rc;
    } else if (pm) {
        double per_million;
        if ((rc = tt_scenario_double(s, pm->key, 0, &per_million, err)) != TT_OK)
            return rc;
        v->commission = TT_COMM_PER_NOTIONAL;
        v->commission_rate = per_million / 1e6;
    }
    if ((rc = tt_scenario_double(s, "venue.margin_call_pct", v->margin_call_level,
                                 &v->margin_call_level, err)) != TT_OK ||
        (rc = tt_scenario_double(s, "venue.stop_out_pct", v->stop_out_level, &v->stop_out_level,
                                 err)) != TT_OK ||
        (rc = lots_to_qty(s, "venue.max_fill_lots", step, &v->max_fill_qty, err)) != TT_OK)
        return rc;

    /* risk */
    tt_risk_config *r = &cfg->risk;
    if ((rc = lots_to_qty(s, "risk.max_position_lots", step, &r->max_position, err)) != TT_OK ||
        (rc = lots_to_qty(s, "risk.max_order_lots", step, &r->max_order_qty, err)) != TT_OK ||
        (rc = money_of(s, "risk.max_exposure", run->minor_per_unit, &r->max_exposure, err)) != TT_OK)
        return rc;
    int64_t rate;
    if ((rc = tt_scenario_int(s, "risk.max_orders_per_sec", 0, &rate, err)) != TT_OK)
        return rc;
    r->max_orders_per_sec = (uint32_t)rate;
    const tt_scenario_entry *dlp = tt_scenario_find(s, "risk.daily_loss_pct");
    const tt_scenario_entry *dl = tt_scenario_find(s, "risk.daily_loss");
    if (dlp && dl)
        return entry_error(dl, TT_EINVAL, "give daily_loss or daily_loss_pct, not both", err);
    if (dlp) {
        double pct;
        if ((rc = tt_scenario_double(s, dlp->key, 0, &pct, err)) != TT_OK)
            return rc;
        r->daily_loss_limit = (tt_money)llround((double)acc->initial_balance * pct / 100.0);
    } else if (dl && (rc = money_of(s, dl->key, run->minor_per_unit, &r->daily_loss_limit, err)) != TT_OK) {
        return rc;
    }
    double ddpct;
    if ((rc = tt_scenario_double(s, "risk.max_drawdown_pct", 0, &ddpct, err)) != TT_OK)
        return rc;
    r->max_drawdown = ddpct / 100.0;
    if ((rc = tt_scenario_bool(s, "risk.flatten_on_halt", cfg->flatten_on_halt,
                               &cfg->flatten_on_halt, err)) != TT_OK)
        return rc;

    /* strategy: a plugin path resolves like any path */
    const char *sname = tt_scenario_get(s, "strategy.name", "");
    if (strchr(sname, '/') || (strlen(sname) > 3 && !strcmp(sname + strlen(sname) - 3, ".so"))) {
        if ((rc = tt_scenario_path(s, "strategy.name", run->strategy, sizeof run->strategy, err)) != TT_OK)
            return rc;
    } else {
        snprintf(run->strategy, sizeof run->strategy, "%s", sname);
    }
    cfg->strategy = run->strategy;
    size_t pos = 0, used = 0;
    const tt_scenario_entry *e;
    run->params[0] = '\0';
    while ((e = tt_scenario_next(s, "strategy.params", &pos)) != NULL) {
        const char *k = e->key + strlen("strategy.params.");
        if (strchr(e->value, ' ') || strchr(k, '.'))
            return entry_error(e, TT_EINVAL, "strategy parameters are single words (no spaces, no nesting)", err);
        int n = snprintf(run->params + used, sizeof run->params - used, "%s%s=%s",
                         used ? " " : "", k, e->value);
        if (n < 0 || (size_t)n >= sizeof run->params - used)
            return entry_error(e, TT_EINVAL, "strategy parameters too long", err);
        used += (size_t)n;
    }
    cfg->params = run->params;

    /* metrics */
    int64_t ppy;
    if ((rc = tt_scenario_int(s, "metrics.periods_per_year", 252, &ppy, err)) != TT_OK ||
        (rc = tt_scenario_double(s, "metrics.risk_free", 0, &run->metrics.risk_free, err)) != TT_OK)
        return rc;
    run->metrics.periods_per_year = (int)ppy;
    cfg->metrics = run->metrics; /* the figures are computed during the run */
    int64_t keep;
    if ((rc = tt_scenario_int(s, "metrics.equity_points", 200000, &keep, err)) != TT_OK)
        return rc;
    cfg->equity_keep_max = (size_t)keep;
    if ((rc = tt_scenario_int(s, "metrics.trades_in_memory", TT_BACKTEST_TRADES_KEEP, &keep,
                              err)) != TT_OK)
        return rc;
    cfg->trades_keep_max = (size_t)keep;
    const char *ei = tt_scenario_get(s, "metrics.equity_interval", NULL);
    if (ei) {
        int tf = tt_timeframe_parse(ei);
        cfg->equity_interval = tt_timeframe_ns(tf);
        if (cfg->equity_interval <= 0)
            return entry_error(tt_scenario_find(s, "metrics.equity_interval"), TT_EINVAL,
                               "needs a fixed-length timeframe (S1 .. W1)", err);
    }

    /* outputs */
    tt_scenario_outputs *o = &run->outputs;
    if ((rc = tt_scenario_path(s, "outputs.dir", o->dir, sizeof o->dir, err)) != TT_OK ||
        (rc = tt_scenario_bool(s, "outputs.html", 1, &o->html, err)) != TT_OK ||
        (rc = tt_scenario_bool(s, "outputs.json", 1, &o->json, err)) != TT_OK ||
        (rc = tt_scenario_bool(s, "outputs.csv", 1, &o->csv, err)) != TT_OK ||
        (rc = tt_scenario_bool(s, "outputs.hdf5", 1, &o->hdf5, err)) != TT_OK)
        return rc;
    return TT_OK;
}

int tt_scenario_prepare(const tt_scenario *s, tt_scenario_run *run, tt_err *err)
{
    memset(run, 0, sizeof *run);
    int rc = tt_scenario_check(s, err);
    if (rc == TT_OK)
        rc = prepare(s, run, err);
    if (rc != TT_OK)
        tt_scenario_release(run);
    return rc;
}

void tt_scenario_release(tt_scenario_run *run)
{
    if (run->synth)
        tt_synth_source_close(run->synth);
    run->synth = NULL;
    tt_instruments_free(run->instruments);
    run->instruments = NULL;
    run->cfg.source = NULL;
}

void tt_scenario_schema_write(FILE *f)
{
    for (size_t i = 0; i < NSCHEMA; i++) {
        const schema_key *k = &SCHEMA[i];
        char t[96];
        if (k->type == V_ENUM)
            snprintf(t, sizeof t, "%s", k->choices);
        else
            snprintf(t, sizeof t, "%s", type_name(k->type));
        fprintf(f, "%-30s %-16s %s\n", k->key, t, k->help);
    }
}
