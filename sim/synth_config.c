/*
 * Synthetic market configuration: the key table, defaults, setting, checking.
 *
 * How this works: KEYS below has one row per key of the `synthetic:` section
 * (and of `ticktape synth --param`). A row gives the key's kind (a number, a
 * list of numbers, a word of an enumeration, a time, or a setter for the few
 * keys whose text has a structure of its own: seed, symbols, corr,
 * source_id), the field it fills (offsetof into tt_synth_config), the bounds
 * tt_synth_config_check applies whatever the model, its default and its
 * meaning. Setting a key, filling the defaults, checking the bounds, the key
 * listing and the documentation test all read these rows.
 *
 * Invariants: a set either fills its field completely or leaves the
 * configuration as it was (values are parsed into locals first). Defaults
 * written as text in the table are applied by tt_synth_config_init through
 * the same parsers, so the documented default is the real one; the defaults
 * that depend on other keys or differ per list element (to, theta, v0, the
 * regime lists) are set in code and documented in the row's `defdoc`.
 * Rules that tie keys together (list lengths against the symbol count, the
 * correlation matrix, the parameters each model needs) stay code in
 * check_key, because keys come in any order.
 */
#include "synth_config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- value parsers of the structured keys (messages name the value only) ---- */

/* A list of numbers "1, 2,3" (YAML brackets tolerated) into out[0..n). */
static int parse_list(const char *v, double *out, int max, int *n, tt_err *err)
{
    char buf[1024];
    if (strlen(v) >= sizeof buf)
        return tt_err_set(err, TT_EINVAL, "list too long");
    snprintf(buf, sizeof buf, "%s", v);
    int k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '[')
            tok++;
        char *e = tok + strlen(tok);
        while (e > tok && (e[-1] == ' ' || e[-1] == ']'))
            *--e = 0;
        if (k >= max)
            return tt_err_set(err, TT_EINVAL, "more than %d values", max);
        int rc = tt_parse_double(tok, &out[k], err);
        if (rc)
            return rc;
        k++;
    }
    if (k == 0)
        return tt_err_set(err, TT_EINVAL, "empty list");
    *n = k;
    return TT_OK;
}

/* The scenario seed: any unsigned 64-bit value, decimal, 0x hex or 0 octal
 * (strtoull base 0, as ever), so it is a setter rather than a whole number. */
static int set_seed(tt_synth_config *cfg, const char *value, tt_err *err)
{
    char *end;
    errno = 0;
    unsigned long long s = strtoull(value, &end, 0);
    if (end == value || *end || errno || value[0] == '-')
        return tt_err_set(err, TT_EINVAL, "expected an unsigned integer, got '%.300s'", value);
    cfg->seed = s;
    return TT_OK;
}

static int set_symbols(tt_synth_config *cfg, const char *v, tt_err *err)
{
    char buf[1024];
    if (strlen(v) >= sizeof buf)
        return tt_err_set(err, TT_EINVAL, "list too long");
    snprintf(buf, sizeof buf, "%s", v);
    char syms[TT_SYNTH_MAX_SYMBOLS][TT_SYMBOL_MAX];
    memset(syms, 0, sizeof syms);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", []", &save); tok; tok = strtok_r(NULL, ", []", &save)) {
        if (n >= TT_SYNTH_MAX_SYMBOLS)
            return tt_err_set(err, TT_EINVAL, "more than %d symbols", TT_SYNTH_MAX_SYMBOLS);
        if (strlen(tok) >= TT_SYMBOL_MAX)
            return tt_err_set(err, TT_EINVAL, "symbol '%s' is too long", tok);
        for (int i = 0; i < n; i++)
            if (!strcasecmp(syms[i], tok))
                return tt_err_set(err, TT_EINVAL, "'%s' is listed twice", tok);
        snprintf(syms[n++], TT_SYMBOL_MAX, "%s", tok);
    }
    if (n == 0)
        return tt_err_set(err, TT_EINVAL, "no symbol given");
    memcpy(cfg->symbols, syms, sizeof syms);
    cfg->nsymbols = n;
    return TT_OK;
}

/* One number for every pair, or the matrix row by row ("1,0.5;0.5,1"). */
static int set_corr(tt_synth_config *cfg, const char *v, tt_err *err)
{
    if (!strchr(v, ';') && !strchr(v, ',')) {
        double d;
        int rc = tt_parse_double(v, &d, err);
        if (rc)
            return rc;
        cfg->has_corr = 1;
        cfg->corr_is_scalar = 1;
        cfg->corr_all = d;
        return TT_OK;
    }
    char buf[4096];
    if (strlen(v) >= sizeof buf)
        return tt_err_set(err, TT_EINVAL, "matrix too long");
    snprintf(buf, sizeof buf, "%s", v);
    double m[TT_SYNTH_MAX_SYMBOLS * TT_SYNTH_MAX_SYMBOLS];
    int rows = 0, cols = -1;
    char *save = NULL;
    for (char *row = strtok_r(buf, ";", &save); row; row = strtok_r(NULL, ";", &save)) {
        if (rows >= TT_SYNTH_MAX_SYMBOLS)
            return tt_err_set(err, TT_EINVAL, "more than %d rows", TT_SYNTH_MAX_SYMBOLS);
        int n;
        int rc = parse_list(row, m + rows * TT_SYNTH_MAX_SYMBOLS, TT_SYNTH_MAX_SYMBOLS, &n, err);
        if (rc) {
            tt_err_prefix(err, "row %d: ", rows + 1);
            return rc;
        }
        if (cols >= 0 && n != cols)
            return tt_err_set(err, TT_EINVAL, "row %d has %d values, row 1 has %d", rows + 1, n,
                              cols);
        cols = n;
        rows++;
    }
    if (rows != cols)
        return tt_err_set(err, TT_EINVAL, "matrix is %dx%d, not square", rows, cols);
    cfg->has_corr = 1;
    cfg->corr_is_scalar = 0;
    cfg->corr_dim = rows;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < rows; j++)
            cfg->corr[i * rows + j] = m[i * TT_SYNTH_MAX_SYMBOLS + j];
    return TT_OK;
}

/* A uint16 field, read as a number that must be whole and in range. */
static int set_source_id(tt_synth_config *cfg, const char *value, tt_err *err)
{
    double d;
    if (tt_parse_double(value, &d, NULL) || d < 0 || d > 65535 || d != floor(d))
        return tt_err_set(err, TT_EINVAL, "expected a whole number in [0, 65535], got '%.300s'",
                          value);
    cfg->source_id = (uint16_t)d;
    return TT_OK;
}

/* ---- the key table ---- */

enum kind { K_NUM = 1, K_LIST, K_ENUM, K_TIME, K_SET };

typedef struct synth_key {
    const char *key;
    int kind;
    size_t off, size;             /* the field it fills */
    size_t aux;                   /* K_NUM: its "was given" flag (0 = none); K_LIST: its count */
    int max;                      /* K_LIST: most values */
    const tt_enum_value *values;  /* K_ENUM */
    int (*set)(tt_synth_config *cfg, const char *value, tt_err *err); /* K_SET */
    int bounded, lo_open;         /* K_NUM: bounds checked whatever the model */
    double lo, hi;
    int alias;                    /* another name of a key: accepted, left out of listings */
    const char *type;             /* K_SET: the type as documented */
    const char *def;              /* default applied by tt_synth_config_init (NULL: in code) */
    const char *defdoc;           /* the documented default when def is NULL */
    const char *help;
} synth_key;

#define FIELD(f) .off = offsetof(tt_synth_config, f), .size = sizeof(((tt_synth_config *)0)->f)
#define FLAG(f) .aux = offsetof(tt_synth_config, f)
#define BOUNDS(open, l, h) .bounded = 1, .lo_open = (open), .lo = (l), .hi = (h)

static const tt_enum_value MODELS[] = {
    {"gbm", TT_SYNTH_GBM, 0},       {"merton", TT_SYNTH_MERTON, 0}, {"heston", TT_SYNTH_HESTON, 0},
    {"regime", TT_SYNTH_REGIME, 0}, {"ou", TT_SYNTH_OU, 0},         {NULL, 0, 0}};
/* on|off, and the boolean spellings it always took */
static const tt_enum_value ON_OFF[] = {{"on", 1, 0},   {"off", 0, 0}, {"true", 1, 1},
                                       {"false", 0, 1}, {"1", 1, 1},   {"0", 0, 1},
                                       {NULL, 0, 0}};
/* the value is weekend_closed; on/true/1 always meant open */
static const tt_enum_value WEEKEND[] = {{"closed", 1, 0}, {"open", 0, 0},  {"off", 1, 1},
                                        {"false", 1, 1},  {"0", 1, 1},     {"on", 0, 1},
                                        {"true", 0, 1},   {"1", 0, 1},     {NULL, 0, 0}};
static const tt_enum_value ROLLOVER_TZ[] = {{"newyork", 0, 0},          {"utc", 1, 0},
                                            {"new_york", 0, 1},         {"America/New_York", 0, 1},
                                            {NULL, 0, 0}};
static const tt_enum_value RESOLUTION[] = {{"ns", 1, 0},       {"us", 1000, 0},
                                           {"ms", 1000000, 0}, {"s", 1000000000, 0},
                                           {NULL, 0, 0}};

static const synth_key KEYS[] = {
    {.key = "model", .kind = K_ENUM, FIELD(model), .values = MODELS, .def = "gbm",
     .help = "price model (docs/synthetic.md)"},
    {.key = "seed", .kind = K_SET, .set = set_seed, .type = "whole number", .def = "1",
     .help = "seed of the market's random streams (a scenario: its seed)"},
    {.key = "symbols", .kind = K_SET, .set = set_symbols, .type = "list", .def = "EURUSD",
     .help = "symbols to generate; each must be an instrument"},
    {.key = "symbol", .kind = K_SET, .set = set_symbols, .type = "list", .alias = 1,
     .defdoc = "EURUSD", .help = "the same as symbols"},
    {.key = "from", .kind = K_TIME, FIELD(from), .def = "2024-01-01",
     .help = "start of the range [from, to), UTC"},
    {.key = "to", .kind = K_TIME, FIELD(to), .defdoc = "from + 7 days",
     .help = "end of the range (exclusive), UTC"},
    {.key = "price", .kind = K_LIST, FIELD(price), .aux = offsetof(tt_synth_config, nprice),
     .max = TT_SYNTH_MAX_SYMBOLS, .defdoc = "a typical level per symbol",
     .help = "start mid price: one value, or one per symbol"},
    {.key = "mu", .kind = K_NUM, FIELD(mu), BOUNDS(0, -10, 10), .def = "0",
     .help = "annualized drift (total expected return)"},
    {.key = "sigma", .kind = K_NUM, FIELD(sigma), BOUNDS(0, 0, 10), .def = "0.08",
     .help = "annualized volatility"},
    {.key = "lambda", .kind = K_NUM, FIELD(lambda), .def = "12",
     .help = "merton: jumps per year, in [0, 1e6]"},
    {.key = "jump_mean", .kind = K_NUM, FIELD(jump_mean), .def = "0",
     .help = "merton: mean log jump, in [-1, 1]"},
    {.key = "jump_sigma", .kind = K_NUM, FIELD(jump_sigma), .def = "0.005",
     .help = "merton: standard deviation of the log jump, in [0, 1]"},
    {.key = "kappa", .kind = K_NUM, FIELD(kappa), FLAG(kappa_set), .def = "5",
     .help = "heston: variance reversion per year; ou: reversion speed per year; in (0, 1e6]"},
    {.key = "theta", .kind = K_NUM, FIELD(theta), FLAG(theta_set),
     .defdoc = "sigma^2 (heston), the start price (ou)",
     .help = "heston: long-run variance, in (0, 10]; ou: long-run price, > 0"},
    {.key = "xi", .kind = K_NUM, FIELD(xi), .def = "0.3",
     .help = "heston: volatility of variance, in [0, 100]"},
    {.key = "rho", .kind = K_NUM, FIELD(rho), .def = "-0.3",
     .help = "heston: correlation of price and variance shocks, in [-1, 1]"},
    {.key = "v0", .kind = K_NUM, FIELD(v0), FLAG(v0_set), .defdoc = "theta",
     .help = "heston: initial variance, in [0, 100]"},
    {.key = "regime_mu", .kind = K_LIST, FIELD(regime_mu),
     .aux = offsetof(tt_synth_config, nregime_mu), .max = TT_SYNTH_MAX_REGIMES,
     .defdoc = "0 each", .help = "regime: drift per regime, in [-10, 10]"},
    {.key = "regime_sigma", .kind = K_LIST, FIELD(regime_sigma),
     .aux = offsetof(tt_synth_config, nregimes), .max = TT_SYNTH_MAX_REGIMES,
     .defdoc = "0.06,0.15",
     .help = "regime: volatility per regime, in [0, 10]; sets the number of regimes"},
    {.key = "regime_rate", .kind = K_LIST, FIELD(regime_rate),
     .aux = offsetof(tt_synth_config, nregime_rate), .max = TT_SYNTH_MAX_REGIMES,
     .defdoc = "52 each", .help = "regime: leaving rate per year per regime, >= 0"},
    {.key = "corr", .kind = K_SET, .set = set_corr, .type = "number or matrix",
     .defdoc = "identity",
     .help = "correlation: one number for every pair, or the matrix row by row (rows split by ;)"},
    {.key = "correlation", .kind = K_SET, .set = set_corr, .type = "number or matrix",
     .alias = 1, .defdoc = "identity", .help = "the same as corr"},
    {.key = "tick_rate", .kind = K_NUM, FIELD(tick_rate), BOUNDS(1, 0, 1e7), .def = "2",
     .help = "mean ticks per second per symbol over the open hours"},
    {.key = "seasonality", .kind = K_ENUM, FIELD(seasonality), .values = ON_OFF, .def = "on",
     .help = "intraday intensity profile (true/false/1/0 are accepted too)"},
    {.key = "weekend", .kind = K_ENUM, FIELD(weekend_closed), .values = WEEKEND,
     .def = "closed", .help = "weekend close (on/true/1 mean open, off/false/0 closed)"},
    {.key = "spread", .kind = K_NUM, FIELD(spread_pips), BOUNDS(0, 0, 1e4), .def = "0.8",
     .help = "base spread in pips"},
    {.key = "spread_vol", .kind = K_NUM, FIELD(spread_vol), BOUNDS(0, 0, 100), .def = "1",
     .help = "how much the spread follows volatility (heston, regime)"},
    {.key = "rollover_spread", .kind = K_NUM, FIELD(rollover_spread), BOUNDS(0, 0, 100),
     .def = "4", .help = "spread multiplier around the rollover"},
    {.key = "rollover_minutes", .kind = K_NUM, FIELD(rollover_minutes), BOUNDS(0, 0, 720),
     .def = "5", .help = "half-width of the rollover window, minutes"},
    {.key = "rollover_tz", .kind = K_ENUM, FIELD(rollover_utc), .values = ROLLOVER_TZ,
     .def = "newyork",
     .help = "newyork: rollover at 17:00 New York (US DST); utc: 22:00 UTC all year"},
    {.key = "resolution", .kind = K_ENUM, FIELD(resolution_ns), .values = RESOLUTION,
     .def = "ms", .help = "timestamp resolution"},
    {.key = "source_id", .kind = K_SET, .set = set_source_id,
     .type = "whole number in [0, 65535]", .def = "1", .help = "engine source id of the events"},
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static const synth_key *find_key(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(KEYS[i].key, key))
            return &KEYS[i];
    return NULL;
}

static void store_int(void *field, size_t size, int64_t v)
{
    if (size == sizeof(int64_t)) {
        memcpy(field, &v, sizeof v);
    } else {
        int x = (int)v;
        memcpy(field, &x, sizeof x);
    }
}

/* Parse value by the row and fill its field; `given` marks a value the user
 * gave (defaults leave the "was given" flags at 0). */
static int apply(tt_synth_config *cfg, const synth_key *k, const char *value, int given,
                 tt_err *err)
{
    char *field = (char *)cfg + k->off;
    int rc;
    switch (k->kind) {
    case K_NUM: {
        double d;
        if ((rc = tt_parse_double(value, &d, err)))
            return rc;
        memcpy(field, &d, sizeof d);
        if (given && k->aux)
            store_int((char *)cfg + k->aux, sizeof(int), 1);
        return TT_OK;
    }
    case K_LIST: {
        double v[TT_SYNTH_MAX_SYMBOLS];
        int n;
        if ((rc = parse_list(value, v, k->max, &n, err)))
            return rc;
        memset(field, 0, k->size);
        memcpy(field, v, (size_t)n * sizeof v[0]);
        store_int((char *)cfg + k->aux, sizeof(int), n);
        return TT_OK;
    }
    case K_ENUM: {
        int v;
        if ((rc = tt_parse_enum(value, k->values, &v, err)))
            return rc;
        store_int(field, k->size, v);
        return TT_OK;
    }
    case K_TIME: {
        tt_ts t;
        if ((rc = tt_parse_ts(value, &t, err)))
            return rc;
        memcpy(field, &t, sizeof t);
        return TT_OK;
    }
    default:
        return k->set(cfg, value, err);
    }
}

/* The listed keys joined with sep. */
static void key_list(const char *sep, char *buf, size_t bufsize)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NKEYS && used < bufsize; i++) {
        if (KEYS[i].alias)
            continue;
        int n = snprintf(buf + used, bufsize - used, "%s%s", used ? sep : "", KEYS[i].key);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void tt_synth_config_init(tt_synth_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NKEYS; i++)
        if (KEYS[i].def)
            apply(cfg, &KEYS[i], KEYS[i].def, 0, NULL); /* the table's own text: cannot fail */
    cfg->to = cfg->from + 7 * TT_NS_PER_DAY;              /* 2024-01-01 is a Monday */
    /* placeholders: the generator applies the model's theta and v0 unless given */
    cfg->theta = 0.0064;
    cfg->v0 = 0.0064;
    cfg->nregimes = 2;
    for (int i = 0; i < TT_SYNTH_MAX_REGIMES; i++) {
        cfg->regime_mu[i] = 0.0;
        cfg->regime_sigma[i] = i == 0 ? 0.06 : 0.15;
        cfg->regime_rate[i] = 52.0;
    }
}

int tt_synth_config_assign(tt_synth_config *cfg, const char *key, const char *value, tt_err *err)
{
    if (!key || !value)
        return tt_err_set(err, TT_EINVAL, "missing key or value");
    const synth_key *k = find_key(key);
    if (!k) {
        char keys[600];
        key_list(", ", keys, sizeof keys);
        return tt_err_set(err, TT_ENOTFOUND, "unknown key (known here: %s)", keys);
    }
    return apply(cfg, k, value, 1, err);
}

int tt_synth_config_set(tt_synth_config *cfg, const char *key, const char *value, tt_err *err)
{
    if (!key || !value)
        return tt_err_set(err, TT_EINVAL, "synthetic: missing key or value");
    int rc = tt_synth_config_assign(cfg, key, value, err);
    if (rc == TT_ENOTFOUND) {
        char keys[600];
        key_list(" ", keys, sizeof keys);
        return tt_err_set(err, TT_EINVAL, "synthetic: unknown key '%s' (keys: %s)", key, keys);
    }
    if (rc)
        tt_err_prefix(err, "synthetic: %s: ", key);
    return rc;
}

int tt_synth_config_key_describe(size_t i, tt_keydoc *out)
{
    if (i >= NKEYS)
        return TT_ENOTFOUND;
    const synth_key *k = &KEYS[i];
    snprintf(out->key, sizeof out->key, "%s", k->key);
    switch (k->kind) {
    case K_NUM:
        if (k->bounded)
            snprintf(out->type, sizeof out->type, "number in %c%g, %g]", k->lo_open ? '(' : '[',
                     k->lo, k->hi);
        else
            snprintf(out->type, sizeof out->type, "number");
        break;
    case K_LIST:
        snprintf(out->type, sizeof out->type, "number list");
        break;
    case K_ENUM:
        tt_enum_list(k->values, "|", out->type, sizeof out->type);
        break;
    case K_TIME:
        snprintf(out->type, sizeof out->type, "time");
        break;
    default:
        snprintf(out->type, sizeof out->type, "%s", k->type);
    }
    snprintf(out->def, sizeof out->def, "%s", k->def ? k->def : k->defdoc ? k->defdoc : "-");
    out->help = k->help;
    return TT_OK;
}

const char *tt_synth_model_name(int model)
{
    const char *n = tt_enum_name(MODELS, model);
    return n ? n : "?";
}

int tt_synth_model_parse(const char *name)
{
    int m;
    if (!name || tt_parse_enum(name, MODELS, &m, NULL) != TT_OK)
        return -1;
    return m;
}

/* ---- checking the whole ---- */

/* Record the key at fault and the message (what is wrong, without the key). */
static int fail(tt_err *err, const char **at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(tt_err *err, const char **at, const char *key, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at)
        *at = key;
    return tt_err_set(err, TT_EINVAL, "%s", msg);
}

static int check_matrix(const tt_synth_config *cfg, double *L, const char **at, tt_err *err);

/* The bounds every model shares, from the table. */
static int check_bounds(const tt_synth_config *cfg, const char **at, tt_err *err)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const synth_key *k = &KEYS[i];
        if (!k->bounded)
            continue;
        double v;
        memcpy(&v, (const char *)cfg + k->off, sizeof v);
        if (!(k->lo_open ? v > k->lo : v >= k->lo) || !(v <= k->hi))
            return fail(err, at, k->key, "%g is outside %c%g, %g]", v, k->lo_open ? '(' : '[',
                        k->lo, k->hi);
    }
    return TT_OK;
}

static int check_regimes(const tt_synth_config *cfg, const char **at, tt_err *err)
{
    if (cfg->nregimes < 1 || cfg->nregimes > TT_SYNTH_MAX_REGIMES)
        return fail(err, at, "regime_sigma", "need 1 to %d regimes", TT_SYNTH_MAX_REGIMES);
    if (cfg->nregime_mu && cfg->nregime_mu != cfg->nregimes)
        return fail(err, at, "regime_mu", "%d values for %d regimes (regime_sigma)",
                    cfg->nregime_mu, cfg->nregimes);
    if (cfg->nregime_rate && cfg->nregime_rate != cfg->nregimes)
        return fail(err, at, "regime_rate", "%d values for %d regimes (regime_sigma)",
                    cfg->nregime_rate, cfg->nregimes);
    for (int i = 0; i < cfg->nregimes; i++) {
        if (!isfinite(cfg->regime_mu[i]) || fabs(cfg->regime_mu[i]) > 10)
            return fail(err, at, "regime_mu", "value %d is outside [-10, 10]", i + 1);
        if (!(cfg->regime_sigma[i] >= 0) || cfg->regime_sigma[i] > 10)
            return fail(err, at, "regime_sigma", "value %d is outside [0, 10]", i + 1);
        if (!(cfg->regime_rate[i] >= 0))
            return fail(err, at, "regime_rate", "value %d must be >= 0", i + 1);
    }
    return TT_OK;
}

/* The parameters of the chosen model (keys other models ignore). */
static int check_model(const tt_synth_config *cfg, const char **at, tt_err *err)
{
    switch (cfg->model) {
    case TT_SYNTH_MERTON:
        if (!(cfg->lambda >= 0) || cfg->lambda > 1e6)
            return fail(err, at, "lambda", "%g is outside [0, 1e6]", cfg->lambda);
        if (!(cfg->jump_sigma >= 0) || cfg->jump_sigma > 1)
            return fail(err, at, "jump_sigma", "%g is outside [0, 1]", cfg->jump_sigma);
        if (!(fabs(cfg->jump_mean) <= 1))
            return fail(err, at, "jump_mean", "%g is outside [-1, 1]", cfg->jump_mean);
        break;
    case TT_SYNTH_HESTON:
        if (!(cfg->kappa > 0))
            return fail(err, at, "kappa", "must be > 0");
        if (!(cfg->theta > 0) || cfg->theta > 10)
            return fail(err, at, "theta", "variance %g is outside (0, 10]", cfg->theta);
        if (!(cfg->xi >= 0) || cfg->xi > 100)
            return fail(err, at, "xi", "%g is outside [0, 100]", cfg->xi);
        if (cfg->kappa > 1e6)
            return fail(err, at, "kappa", "%g is above 1e6", cfg->kappa);
        if (cfg->v0_set && cfg->v0 > 100)
            return fail(err, at, "v0", "%g is above 100", cfg->v0);
        if (!(cfg->rho >= -1 && cfg->rho <= 1))
            return fail(err, at, "rho", "%g is outside [-1, 1]", cfg->rho);
        if (cfg->v0_set && !(cfg->v0 >= 0))
            return fail(err, at, "v0", "must be >= 0");
        break;
    case TT_SYNTH_REGIME:
        return check_regimes(cfg, at, err);
    case TT_SYNTH_OU:
        if (!(cfg->kappa > 0) || cfg->kappa > 1e6)
            return fail(err, at, "kappa", "%g is outside (0, 1e6]", cfg->kappa);
        if (cfg->theta_set && !(cfg->theta > 0))
            return fail(err, at, "theta", "long-run price must be > 0");
        break;
    default:
        break;
    }
    return TT_OK;
}

int tt_synth_config_check_key(const tt_synth_config *cfg, const char **at, tt_err *err)
{
    if (cfg->model < 0 || cfg->model > TT_SYNTH_OU)
        return fail(err, at, "model", "unknown model %d", cfg->model);
    if (cfg->nsymbols < 1 || cfg->nsymbols > TT_SYNTH_MAX_SYMBOLS)
        return fail(err, at, "symbols", "need 1 to %d symbols", TT_SYNTH_MAX_SYMBOLS);
    if (cfg->to <= cfg->from)
        return fail(err, at, "to", "must be later than from");
    /* room for the generator's hour and day arithmetic at either end of tt_ts */
    if (cfg->from < TT_TS_MIN + 2 * TT_NS_PER_DAY || cfg->to > TT_TS_MAX - 2 * TT_NS_PER_DAY)
        return fail(err, at, cfg->from < TT_TS_MIN + 2 * TT_NS_PER_DAY ? "from" : "to",
                    "outside the years 1678..2262 that tt_ts can hold");
    if (cfg->nprice > 1 && cfg->nprice != cfg->nsymbols)
        return fail(err, at, "price", "%d prices for %d symbols (give one, or one per symbol)",
                    cfg->nprice, cfg->nsymbols);
    for (int i = 0; i < cfg->nprice; i++)
        if (!(cfg->price[i] > 0))
            return fail(err, at, "price", "value %d must be > 0", i + 1);
    int rc;
    if ((rc = check_bounds(cfg, at, err)))
        return rc;
    if (cfg->resolution_ns < 1)
        return fail(err, at, "resolution", "must be >= 1 ns");
    if ((rc = check_model(cfg, at, err)))
        return rc;
    double L[TT_SYNTH_MAX_SYMBOLS * TT_SYNTH_MAX_SYMBOLS];
    return check_matrix(cfg, L, at, err);
}

int tt_synth_config_check(const tt_synth_config *cfg, tt_err *err)
{
    const char *key = "?";
    int rc = tt_synth_config_check_key(cfg, &key, err);
    if (rc)
        tt_err_prefix(err, "synthetic: %s: ", key);
    return rc;
}

/* The correlation matrix as configured (identity, one number for all pairs, or
 * the given matrix), its checks, and its Cholesky factor L (lower, row-major,
 * n x n with n = nsymbols) so that L L^T = C. */
static int check_matrix(const tt_synth_config *cfg, double *L, const char **at, tt_err *err)
{
    int n = cfg->nsymbols;
    double C[TT_SYNTH_MAX_SYMBOLS * TT_SYNTH_MAX_SYMBOLS];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            C[i * n + j] = i == j ? 1.0 : 0.0;
    if (cfg->has_corr && cfg->corr_is_scalar) {
        if (!(cfg->corr_all >= -1 && cfg->corr_all <= 1))
            return fail(err, at, "corr", "%g is outside [-1, 1]", cfg->corr_all);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j)
                    C[i * n + j] = cfg->corr_all;
    } else if (cfg->has_corr) {
        if (cfg->corr_dim != n)
            return fail(err, at, "corr", "matrix is %dx%d but there are %d symbols",
                        cfg->corr_dim, cfg->corr_dim, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double a = cfg->corr[i * n + j], b = cfg->corr[j * n + i];
                if (i == j && a != 1.0)
                    return fail(err, at, "corr", "diagonal entry (%d,%d) is %g, must be 1", i + 1,
                                i + 1, a);
                if (!(a >= -1 && a <= 1))
                    return fail(err, at, "corr", "entry (%d,%d) = %g is outside [-1, 1]", i + 1,
                                j + 1, a);
                if (fabs(a - b) > 1e-12)
                    return fail(err, at, "corr", "not symmetric: (%d,%d) = %g but (%d,%d) = %g",
                                i + 1, j + 1, a, j + 1, i + 1, b);
                C[i * n + j] = a;
            }
    }
    /* Cholesky-Banachiewicz, row by row. A pivot at or below a small epsilon
     * means the matrix is not positive definite (a perfect +-1 correlation is
     * refused too: it would make one symbol a copy of another). */
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
            double s = C[i * n + j];
            for (int k = 0; k < j; k++)
                s -= L[i * n + k] * L[j * n + k];
            if (i == j) {
                if (!(s > 1e-10))
                    return fail(err, at, "corr",
                                "matrix is not positive definite (Cholesky pivot %d is %g)", i + 1,
                                s);
                L[i * n + i] = sqrt(s);
            } else {
                L[i * n + j] = s / L[j * n + j];
            }
        }
        for (int j = i + 1; j < n; j++)
            L[i * n + j] = 0.0;
    }
    return TT_OK;
}

/* Used by synth.c: the factor, after tt_synth_config_check succeeded. */
int tt_synth__cholesky(const tt_synth_config *cfg, double *L, tt_err *err);
int tt_synth__cholesky(const tt_synth_config *cfg, double *L, tt_err *err)
{
    int rc = check_matrix(cfg, L, NULL, err);
    if (rc)
        tt_err_prefix(err, "synthetic: corr: ");
    return rc;
}
