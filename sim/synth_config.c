/*
 * Synthetic market configuration: defaults, key=value setting, validation.
 *
 * Every key of the `synthetic:` scenario section and of `ticktape synth
 * --param` goes through tt_synth_config_set, so both accept the same keys with
 * the same messages. Values are parsed strictly (the whole text must be a
 * number, a list of numbers, a known word); an error names the key and the
 * value and leaves the configuration as it was. Cross-field checks (list
 * lengths against the symbol count, the correlation matrix) wait for
 * tt_synth_config_check, because keys may come in any order.
 */
#include "synth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const MODEL_NAMES[] = {"gbm", "merton", "heston", "regime", "ou"};

const char *tt_synth_model_name(int model)
{
    if (model < 0 || model >= (int)(sizeof MODEL_NAMES / sizeof MODEL_NAMES[0]))
        return "?";
    return MODEL_NAMES[model];
}

int tt_synth_model_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof MODEL_NAMES / sizeof MODEL_NAMES[0]); i++)
        if (name && !strcasecmp(name, MODEL_NAMES[i]))
            return i;
    return -1;
}

void tt_synth_config_init(tt_synth_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->model = TT_SYNTH_GBM;
    cfg->seed = 1;
    cfg->from = tt_ts_from_civil(2024, 1, 1, 0, 0, 0, 0); /* a Monday */
    cfg->to = cfg->from + 7 * TT_NS_PER_DAY;
    cfg->nsymbols = 1;
    snprintf(cfg->symbols[0], TT_SYMBOL_MAX, "EURUSD");
    cfg->mu = 0.0;
    cfg->sigma = 0.08;
    cfg->lambda = 12.0;
    cfg->jump_mean = 0.0;
    cfg->jump_sigma = 0.005;
    cfg->kappa = 5.0;
    cfg->theta = 0.0064;
    cfg->xi = 0.3;
    cfg->rho = -0.3;
    cfg->v0 = 0.0064;
    cfg->nregimes = 2;
    for (int i = 0; i < TT_SYNTH_MAX_REGIMES; i++) {
        cfg->regime_mu[i] = 0.0;
        cfg->regime_sigma[i] = i == 0 ? 0.06 : 0.15;
        cfg->regime_rate[i] = 52.0;
    }
    cfg->tick_rate = 2.0;
    cfg->seasonality = 1;
    cfg->weekend_closed = 1;
    cfg->spread_pips = 0.8;
    cfg->spread_vol = 1.0;
    cfg->rollover_spread = 4.0;
    cfg->rollover_minutes = 5.0;
    cfg->resolution_ns = TT_NS_PER_MS;
    cfg->source_id = 1;
}

/* ---- value parsers: whole text or an error naming the key ---- */

static int parse_double(const char *key, const char *v, double *out, tt_err *err)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    while (*end == ' ')
        end++;
    if (end == v || *end || errno == ERANGE || !isfinite(d))
        return tt_err_set(err, TT_EINVAL, "synthetic: %s: '%s' is not a number", key, v);
    *out = d;
    return TT_OK;
}

static int parse_list(const char *key, const char *v, double *out, int max, int *n, tt_err *err)
{
    char buf[1024];
    if (strlen(v) >= sizeof buf)
        return tt_err_set(err, TT_EINVAL, "synthetic: %s: list too long", key);
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
            return tt_err_set(err, TT_EINVAL, "synthetic: %s: more than %d values", key, max);
        int rc = parse_double(key, tok, &out[k], err);
        if (rc)
            return rc;
        k++;
    }
    if (k == 0)
        return tt_err_set(err, TT_EINVAL, "synthetic: %s: empty list", key);
    *n = k;
    return TT_OK;
}

static int parse_bool(const char *key, const char *v, const char *yes, const char *no, int *out,
                      tt_err *err)
{
    if (!strcasecmp(v, yes) || !strcasecmp(v, "on") || !strcasecmp(v, "true") || !strcmp(v, "1"))
        *out = 1;
    else if (!strcasecmp(v, no) || !strcasecmp(v, "off") || !strcasecmp(v, "false") ||
             !strcmp(v, "0"))
        *out = 0;
    else
        return tt_err_set(err, TT_EINVAL, "synthetic: %s: '%s' is not %s or %s", key, v, yes, no);
    return TT_OK;
}

static int parse_symbols(tt_synth_config *cfg, const char *key, const char *v, tt_err *err)
{
    char buf[1024];
    if (strlen(v) >= sizeof buf)
        return tt_err_set(err, TT_EINVAL, "synthetic: %s: list too long", key);
    snprintf(buf, sizeof buf, "%s", v);
    char syms[TT_SYNTH_MAX_SYMBOLS][TT_SYMBOL_MAX];
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", []", &save); tok; tok = strtok_r(NULL, ", []", &save)) {
        if (n >= TT_SYNTH_MAX_SYMBOLS)
            return tt_err_set(err, TT_EINVAL, "synthetic: %s: more than %d symbols", key,
                              TT_SYNTH_MAX_SYMBOLS);
        if (strlen(tok) >= TT_SYMBOL_MAX)
            return tt_err_set(err, TT_EINVAL, "synthetic: %s: symbol '%s' is too long", key, tok);
        for (int i = 0; i < n; i++)
            if (!strcasecmp(syms[i], tok))
                return tt_err_set(err, TT_EINVAL, "synthetic: %s: '%s' is listed twice", key, tok);
        snprintf(syms[n++], TT_SYMBOL_MAX, "%s", tok);
    }
    if (n == 0)
        return tt_err_set(err, TT_EINVAL, "synthetic: %s: no symbol given", key);
    memcpy(cfg->symbols, syms, sizeof syms);
    cfg->nsymbols = n;
    return TT_OK;
}

static int parse_corr(tt_synth_config *cfg, const char *key, const char *v, tt_err *err)
{
    if (!strchr(v, ';') && !strchr(v, ',')) {
        double d;
        int rc = parse_double(key, v, &d, err);
        if (rc)
            return rc;
        cfg->has_corr = 1;
        cfg->corr_is_scalar = 1;
        cfg->corr_all = d;
        return TT_OK;
    }
    char buf[4096];
    if (strlen(v) >= sizeof buf)
        return tt_err_set(err, TT_EINVAL, "synthetic: %s: matrix too long", key);
    snprintf(buf, sizeof buf, "%s", v);
    double m[TT_SYNTH_MAX_SYMBOLS * TT_SYNTH_MAX_SYMBOLS];
    int rows = 0, cols = -1;
    char *save = NULL;
    for (char *row = strtok_r(buf, ";", &save); row; row = strtok_r(NULL, ";", &save)) {
        if (rows >= TT_SYNTH_MAX_SYMBOLS)
            return tt_err_set(err, TT_EINVAL, "synthetic: %s: more than %d rows", key,
                              TT_SYNTH_MAX_SYMBOLS);
        int n;
        char rkey[64];
        snprintf(rkey, sizeof rkey, "%s row %d", key, rows + 1);
        int rc = parse_list(rkey, row, m + rows * TT_SYNTH_MAX_SYMBOLS, TT_SYNTH_MAX_SYMBOLS, &n,
                            err);
        if (rc)
            return rc;
        if (cols >= 0 && n != cols)
            return tt_err_set(err, TT_EINVAL, "synthetic: %s: row %d has %d values, row 1 has %d",
                              key, rows + 1, n, cols);
        cols = n;
        rows++;
    }
    if (rows != cols)
        return tt_err_set(err, TT_EINVAL, "synthetic: %s: matrix is %dx%d, not square", key, rows,
                          cols);
    cfg->has_corr = 1;
    cfg->corr_is_scalar = 0;
    cfg->corr_dim = rows;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < rows; j++)
            cfg->corr[i * rows + j] = m[i * TT_SYNTH_MAX_SYMBOLS + j];
    return TT_OK;
}

int tt_synth_config_set(tt_synth_config *cfg, const char *key, const char *value, tt_err *err)
{
    if (!key || !value)
        return tt_err_set(err, TT_EINVAL, "synthetic: missing key or value");
    double d = 0;
    int rc = TT_OK, n = 0;
    double list[TT_SYNTH_MAX_SYMBOLS];
#define NUM(name, field)                                                                          \
    if (!strcmp(key, name)) {                                                                     \
        if ((rc = parse_double(key, value, &d, err)))                                             \
            return rc;                                                                            \
        cfg->field = d;                                                                           \
        return TT_OK;                                                                             \
    }
    if (!strcmp(key, "model")) {
        int m = tt_synth_model_parse(value);
        if (m < 0)
            return tt_err_set(err, TT_EINVAL,
                              "synthetic: model: '%s' is not one of gbm, merton, heston, regime, ou",
                              value);
        cfg->model = m;
        return TT_OK;
    }
    if (!strcmp(key, "seed")) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(value, &end, 0);
        if (end == value || *end || errno || value[0] == '-')
            return tt_err_set(err, TT_EINVAL, "synthetic: seed: '%s' is not an unsigned integer",
                              value);
        cfg->seed = s;
        return TT_OK;
    }
    if (!strcmp(key, "symbols") || !strcmp(key, "symbol"))
        return parse_symbols(cfg, key, value, err);
    if (!strcmp(key, "from") || !strcmp(key, "to")) {
        tt_ts t;
        if (tt_ts_parse(value, &t))
            return tt_err_set(err, TT_EINVAL,
                              "synthetic: %s: '%s' is not a time (ISO 8601 or epoch with ms/ns/s)",
                              key, value);
        if (key[0] == 'f')
            cfg->from = t;
        else
            cfg->to = t;
        return TT_OK;
    }
    if (!strcmp(key, "price")) {
        if ((rc = parse_list(key, value, list, TT_SYNTH_MAX_SYMBOLS, &n, err)))
            return rc;
        memset(cfg->price, 0, sizeof cfg->price);
        memcpy(cfg->price, list, (size_t)n * sizeof list[0]);
        cfg->nprice = n;
        return TT_OK;
    }
    NUM("mu", mu)
    NUM("sigma", sigma)
    NUM("lambda", lambda)
    NUM("jump_mean", jump_mean)
    NUM("jump_sigma", jump_sigma)
    NUM("xi", xi)
    NUM("rho", rho)
    NUM("tick_rate", tick_rate)
    NUM("spread", spread_pips)
    NUM("spread_vol", spread_vol)
    NUM("rollover_spread", rollover_spread)
    NUM("rollover_minutes", rollover_minutes)
    if (!strcmp(key, "kappa") || !strcmp(key, "theta") || !strcmp(key, "v0")) {
        if ((rc = parse_double(key, value, &d, err)))
            return rc;
        if (key[0] == 'k') {
            cfg->kappa = d;
            cfg->kappa_set = 1;
        } else if (key[0] == 't') {
            cfg->theta = d;
            cfg->theta_set = 1;
        } else {
            cfg->v0 = d;
            cfg->v0_set = 1;
        }
        return TT_OK;
    }
    if (!strcmp(key, "regime_mu") || !strcmp(key, "regime_sigma") || !strcmp(key, "regime_rate")) {
        double r[TT_SYNTH_MAX_REGIMES];
        if ((rc = parse_list(key, value, r, TT_SYNTH_MAX_REGIMES, &n, err)))
            return rc;
        char which = key[7]; /* m, s or r */
        double *dst = which == 'm' ? cfg->regime_mu : which == 's' ? cfg->regime_sigma
                                                                   : cfg->regime_rate;
        memcpy(dst, r, (size_t)n * sizeof r[0]);
        if (which == 'm')
            cfg->nregime_mu = n;
        else if (which == 's')
            cfg->nregimes = n;
        else
            cfg->nregime_rate = n;
        return TT_OK;
    }
    if (!strcmp(key, "corr") || !strcmp(key, "correlation"))
        return parse_corr(cfg, key, value, err);
    if (!strcmp(key, "seasonality"))
        return parse_bool(key, value, "on", "off", &cfg->seasonality, err);
    if (!strcmp(key, "weekend")) {
        int open;
        if ((rc = parse_bool(key, value, "open", "closed", &open, err)))
            return rc;
        cfg->weekend_closed = !open;
        return TT_OK;
    }
    if (!strcmp(key, "rollover_tz")) {
        if (!strcasecmp(value, "newyork") || !strcasecmp(value, "new_york") ||
            !strcasecmp(value, "America/New_York"))
            cfg->rollover_utc = 0;
        else if (!strcasecmp(value, "utc"))
            cfg->rollover_utc = 1;
        else
            return tt_err_set(err, TT_EINVAL, "synthetic: rollover_tz: '%s' is not newyork or utc",
                              value);
        return TT_OK;
    }
    if (!strcmp(key, "resolution")) {
        static const struct { const char *n; int64_t ns; } R[] = {
            {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
        for (size_t i = 0; i < 4; i++)
            if (!strcmp(value, R[i].n)) {
                cfg->resolution_ns = R[i].ns;
                return TT_OK;
            }
        return tt_err_set(err, TT_EINVAL, "synthetic: resolution: '%s' is not ns, us, ms or s",
                          value);
    }
    if (!strcmp(key, "source_id")) {
        if ((rc = parse_double(key, value, &d, err)))
            return rc;
        if (d < 0 || d > 65535 || d != floor(d))
            return tt_err_set(err, TT_EINVAL, "synthetic: source_id: '%s' is not in 0..65535",
                              value);
        cfg->source_id = (uint16_t)d;
        return TT_OK;
    }
#undef NUM
    return tt_err_set(err, TT_EINVAL,
                      "synthetic: unknown key '%s' (keys: model seed symbols from to price mu "
                      "sigma lambda jump_mean jump_sigma kappa theta xi rho v0 regime_mu "
                      "regime_sigma regime_rate corr tick_rate seasonality weekend spread "
                      "spread_vol rollover_spread rollover_minutes rollover_tz resolution source_id)",
                      key);
}

static int check_matrix(const tt_synth_config *cfg, double *L, tt_err *err);

int tt_synth_config_check(const tt_synth_config *cfg, tt_err *err)
{
    if (cfg->model < 0 || cfg->model > TT_SYNTH_OU)
        return tt_err_set(err, TT_EINVAL, "synthetic: model: unknown model %d", cfg->model);
    if (cfg->nsymbols < 1 || cfg->nsymbols > TT_SYNTH_MAX_SYMBOLS)
        return tt_err_set(err, TT_EINVAL, "synthetic: symbols: need 1 to %d symbols",
                          TT_SYNTH_MAX_SYMBOLS);
    if (cfg->to <= cfg->from)
        return tt_err_set(err, TT_EINVAL, "synthetic: to: must be later than from");
    /* room for the generator's hour and day arithmetic at either end of tt_ts */
    if (cfg->from < TT_TS_MIN + 2 * TT_NS_PER_DAY || cfg->to > TT_TS_MAX - 2 * TT_NS_PER_DAY)
        return tt_err_set(err, TT_EINVAL,
                          "synthetic: from/to: outside the years 1678..2262 that tt_ts can hold");
    if (cfg->nprice > 1 && cfg->nprice != cfg->nsymbols)
        return tt_err_set(err, TT_EINVAL,
                          "synthetic: price: %d prices for %d symbols (give one, or one per symbol)",
                          cfg->nprice, cfg->nsymbols);
    for (int i = 0; i < cfg->nprice; i++)
        if (!(cfg->price[i] > 0))
            return tt_err_set(err, TT_EINVAL, "synthetic: price: value %d must be > 0", i + 1);
    if (!(cfg->sigma >= 0) || cfg->sigma > 10)
        return tt_err_set(err, TT_EINVAL, "synthetic: sigma: %g is outside [0, 10]", cfg->sigma);
    if (fabs(cfg->mu) > 10)
        return tt_err_set(err, TT_EINVAL, "synthetic: mu: %g is outside [-10, 10]", cfg->mu);
    if (!(cfg->tick_rate > 0) || cfg->tick_rate > 1e7)
        return tt_err_set(err, TT_EINVAL, "synthetic: tick_rate: %g is outside (0, 1e7]",
                          cfg->tick_rate);
    if (!(cfg->spread_pips >= 0) || cfg->spread_pips > 1e4)
        return tt_err_set(err, TT_EINVAL, "synthetic: spread: %g pips is outside [0, 10000]",
                          cfg->spread_pips);
    if (!(cfg->spread_vol >= 0) || cfg->spread_vol > 100)
        return tt_err_set(err, TT_EINVAL, "synthetic: spread_vol: %g is outside [0, 100]",
                          cfg->spread_vol);
    if (!(cfg->rollover_spread >= 0) || cfg->rollover_spread > 100)
        return tt_err_set(err, TT_EINVAL, "synthetic: rollover_spread: %g is outside [0, 100]",
                          cfg->rollover_spread);
    if (!(cfg->rollover_minutes >= 0) || cfg->rollover_minutes > 720)
        return tt_err_set(err, TT_EINVAL, "synthetic: rollover_minutes: must be in [0, 720]");
    if (cfg->resolution_ns < 1)
        return tt_err_set(err, TT_EINVAL, "synthetic: resolution: must be >= 1 ns");
    switch (cfg->model) {
    case TT_SYNTH_MERTON:
        if (!(cfg->lambda >= 0) || cfg->lambda > 1e6)
            return tt_err_set(err, TT_EINVAL, "synthetic: lambda: %g is outside [0, 1e6]",
                              cfg->lambda);
        if (!(cfg->jump_sigma >= 0) || cfg->jump_sigma > 1 || !(fabs(cfg->jump_mean) <= 1))
            return tt_err_set(err, TT_EINVAL,
                              "synthetic: jump_sigma must be in [0, 1] and |jump_mean| <= 1");
        break;
    case TT_SYNTH_HESTON:
        if (!(cfg->kappa > 0))
            return tt_err_set(err, TT_EINVAL, "synthetic: kappa: must be > 0");
        if (!(cfg->theta > 0) || cfg->theta > 10)
            return tt_err_set(err, TT_EINVAL, "synthetic: theta: variance %g is outside (0, 10]",
                              cfg->theta);
        if (!(cfg->xi >= 0) || cfg->xi > 100)
            return tt_err_set(err, TT_EINVAL, "synthetic: xi: %g is outside [0, 100]", cfg->xi);
        if (cfg->kappa > 1e6)
            return tt_err_set(err, TT_EINVAL, "synthetic: kappa: %g is above 1e6", cfg->kappa);
        if (cfg->v0_set && cfg->v0 > 100)
            return tt_err_set(err, TT_EINVAL, "synthetic: v0: %g is above 100", cfg->v0);
        if (!(cfg->rho >= -1 && cfg->rho <= 1))
            return tt_err_set(err, TT_EINVAL, "synthetic: rho: %g is outside [-1, 1]", cfg->rho);
        if (cfg->v0_set && !(cfg->v0 >= 0))
            return tt_err_set(err, TT_EINVAL, "synthetic: v0: must be >= 0");
        break;
    case TT_SYNTH_REGIME:
        if (cfg->nregimes < 1 || cfg->nregimes > TT_SYNTH_MAX_REGIMES)
            return tt_err_set(err, TT_EINVAL, "synthetic: regime_sigma: need 1 to %d regimes",
                              TT_SYNTH_MAX_REGIMES);
        if (cfg->nregime_mu && cfg->nregime_mu != cfg->nregimes)
            return tt_err_set(err, TT_EINVAL,
                              "synthetic: regime_mu: %d values for %d regimes (regime_sigma)",
                              cfg->nregime_mu, cfg->nregimes);
        if (cfg->nregime_rate && cfg->nregime_rate != cfg->nregimes)
            return tt_err_set(err, TT_EINVAL,
                              "synthetic: regime_rate: %d values for %d regimes (regime_sigma)",
                              cfg->nregime_rate, cfg->nregimes);
        for (int i = 0; i < cfg->nregimes; i++) {
            if (!isfinite(cfg->regime_mu[i]) || fabs(cfg->regime_mu[i]) > 10)
                return tt_err_set(err, TT_EINVAL,
                                  "synthetic: regime_mu: value %d is outside [-10, 10]", i + 1);
            if (!(cfg->regime_sigma[i] >= 0) || cfg->regime_sigma[i] > 10)
                return tt_err_set(err, TT_EINVAL, "synthetic: regime_sigma: value %d is outside [0, 10]",
                                  i + 1);
            if (!(cfg->regime_rate[i] >= 0))
                return tt_err_set(err, TT_EINVAL, "synthetic: regime_rate: value %d must be >= 0",
                                  i + 1);
        }
        break;
    case TT_SYNTH_OU:
        if (!(cfg->kappa > 0) || cfg->kappa > 1e6)
            return tt_err_set(err, TT_EINVAL, "synthetic: kappa: %g is outside (0, 1e6]",
                              cfg->kappa);
        if (cfg->theta_set && !(cfg->theta > 0))
            return tt_err_set(err, TT_EINVAL, "synthetic: theta: long-run price must be > 0");
        break;
    default:
        break;
    }
    double L[TT_SYNTH_MAX_SYMBOLS * TT_SYNTH_MAX_SYMBOLS];
    return check_matrix(cfg, L, err);
}

/* The correlation matrix as configured (identity, one number for all pairs, or
 * the given matrix), its checks, and its Cholesky factor L (lower, row-major,
 * n x n with n = nsymbols) so that L L^T = C. */
static int check_matrix(const tt_synth_config *cfg, double *L, tt_err *err)
{
    int n = cfg->nsymbols;
    double C[TT_SYNTH_MAX_SYMBOLS * TT_SYNTH_MAX_SYMBOLS];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            C[i * n + j] = i == j ? 1.0 : 0.0;
    if (cfg->has_corr && cfg->corr_is_scalar) {
        if (!(cfg->corr_all >= -1 && cfg->corr_all <= 1))
            return tt_err_set(err, TT_EINVAL, "synthetic: corr: %g is outside [-1, 1]",
                              cfg->corr_all);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j)
                    C[i * n + j] = cfg->corr_all;
    } else if (cfg->has_corr) {
        if (cfg->corr_dim != n)
            return tt_err_set(err, TT_EINVAL, "synthetic: corr: matrix is %dx%d but there are %d symbols",
                              cfg->corr_dim, cfg->corr_dim, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double a = cfg->corr[i * n + j], b = cfg->corr[j * n + i];
                if (i == j && a != 1.0)
                    return tt_err_set(err, TT_EINVAL,
                                      "synthetic: corr: diagonal entry (%d,%d) is %g, must be 1",
                                      i + 1, i + 1, a);
                if (!(a >= -1 && a <= 1))
                    return tt_err_set(err, TT_EINVAL,
                                      "synthetic: corr: entry (%d,%d) = %g is outside [-1, 1]",
                                      i + 1, j + 1, a);
                if (fabs(a - b) > 1e-12)
                    return tt_err_set(err, TT_EINVAL,
                                      "synthetic: corr: not symmetric: (%d,%d) = %g but (%d,%d) = %g",
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
                    return tt_err_set(err, TT_EINVAL,
                                      "synthetic: corr: matrix is not positive definite "
                                      "(Cholesky pivot %d is %g)",
                                      i + 1, s);
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
    return check_matrix(cfg, L, err);
}
