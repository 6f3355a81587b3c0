/*
 * ticktape: the configuration of a synthetic market (sim/synth.h runs it).
 *
 * Plain data with defaults (tt_synth_config_init), set key by key from text
 * (tt_synth_config_set: a scenario's `data.synthetic:` section, `ticktape
 * synth --param`), then validated as a whole (tt_synth_config_check). Every
 * key is one row of the table in synth_config.c: its name, type, bounds or
 * words, the field it sets, its default and a one-line meaning. The same rows
 * parse the values, fill the defaults, check the bounds, list the keys
 * (`ticktape backtest --keys`) and are compared with docs/synthetic.md by a
 * test, so a key cannot be documented one way and read another.
 *
 * When things are checked: a value's form (a number, a list, a known word)
 * when it is set; its bounds, and the rules that tie keys together (list
 * lengths against the symbol count, the correlation matrix, the parameters
 * of the chosen model) by tt_synth_config_check, because keys come in any
 * order and fields may also be set directly.
 */
#ifndef TT_SYNTH_CONFIG_H
#define TT_SYNTH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"
#include "../core/parse.h"

#define TT_SYNTH_MAX_SYMBOLS 16
#define TT_SYNTH_MAX_REGIMES 8

enum tt_synth_model {
    TT_SYNTH_GBM = 0,
    TT_SYNTH_MERTON = 1,
    TT_SYNTH_HESTON = 2,
    TT_SYNTH_REGIME = 3,
    TT_SYNTH_OU = 4
};

/* Plain data: fill with tt_synth_config_init, then tt_synth_config_set per key.
 * Fields may also be set directly; tt_synth_config_check validates the whole. */
typedef struct tt_synth_config {
    int model; /* enum tt_synth_model */
    uint64_t seed;
    tt_ts from, to; /* [from, to) */
    int nsymbols;
    char symbols[TT_SYNTH_MAX_SYMBOLS][TT_SYMBOL_MAX];
    double price[TT_SYNTH_MAX_SYMBOLS]; /* start mid; 0 = a typical level for the symbol */
    int nprice;                         /* how many prices were given */

    double mu, sigma;                        /* gbm, merton, heston (mu), ou (sigma) */
    double lambda, jump_mean, jump_sigma;    /* merton */
    double kappa, theta, xi, rho, v0;        /* heston; ou uses kappa and theta (price) */
    int nregimes;                            /* regime: the length of regime_sigma */
    int nregime_mu, nregime_rate;            /* lengths given (0: defaults for every regime) */
    double regime_mu[TT_SYNTH_MAX_REGIMES];
    double regime_sigma[TT_SYNTH_MAX_REGIMES];
    double regime_rate[TT_SYNTH_MAX_REGIMES];
    int has_corr;                            /* 0 = identity */
    int corr_is_scalar;                      /* 1: corr_all for every pair */
    double corr_all;
    int corr_dim;                            /* matrix form: its dimension (must equal nsymbols) */
    double corr[TT_SYNTH_MAX_SYMBOLS * TT_SYNTH_MAX_SYMBOLS]; /* row-major, corr_dim^2 */

    double tick_rate;       /* per second per symbol, mean over open hours */
    int seasonality;        /* 1 on */
    int weekend_closed;     /* 1 closed */
    double spread_pips;
    double spread_vol;
    double rollover_spread;
    double rollover_minutes;
    int rollover_utc;       /* 1: rollover and weekend at 22:00 UTC all year; 0: 17:00 New York */
    int64_t resolution_ns;  /* 1, 1000, 1000000 or 1000000000 */
    uint16_t source_id;
    int theta_set, v0_set;  /* whether theta / v0 were given (defaults depend on the model) */
    int kappa_set;
} tt_synth_config;

/* Defaults: EURUSD GBM, sigma 8%/yr, 2 ticks/s with seasonality, 0.8 pip
 * spread widening at the rollover, weekends closed, one week from
 * 2024-01-01 (a Monday), seed 1. Cannot fail. */
void tt_synth_config_init(tt_synth_config *cfg);

/* Set one key from its text value. On failure returns TT_EINVAL, leaves cfg
 * as it was, and err says "synthetic: KEY: <what is wrong>" (an unknown key:
 * "synthetic: unknown key 'KEY' (keys: ...)"). Symbol-dependent lists (price)
 * may be given before or after symbols. */
int tt_synth_config_set(tt_synth_config *cfg, const char *key, const char *value, tt_err *err);

/* The same for callers that name the key themselves (the scenario reader
 * prefixes file, line and key): the message is only what is wrong with the
 * value ("expected a number, got 'x'"). Returns TT_ENOTFOUND for an unknown
 * key (message "unknown key (known here: model, seed, ...)"), TT_EINVAL for a
 * bad value; cfg is unchanged on failure. */
int tt_synth_config_assign(tt_synth_config *cfg, const char *key, const char *value, tt_err *err);

/* Validate the whole configuration: the bounds of the table, the time range,
 * list lengths against the symbol count, the correlation matrix (symmetric,
 * unit diagonal, entries in [-1, 1], positive definite), the parameters of
 * the model. Returns TT_EINVAL with "synthetic: KEY: <what is wrong>" on the
 * first problem. */
int tt_synth_config_check(const tt_synth_config *cfg, tt_err *err);

/* The same, for callers that locate keys themselves: on failure *key (when
 * key is not NULL) names the key at fault ("sigma", "corr", ...) and the
 * message is only what is wrong. Returns TT_EINVAL on failure, *key
 * untouched on success. */
int tt_synth_config_check_key(const tt_synth_config *cfg, const char **key, tt_err *err);

/* The i-th key of the table (0, 1, ...) as documented. Returns TT_OK, or
 * TT_ENOTFOUND past the last key (out untouched). */
int tt_synth_config_key_describe(size_t i, tt_keydoc *out);

/* Model name <-> enum: the name is "?" for an unknown model; parse returns
 * -1 for an unknown name (case is ignored). */
const char *tt_synth_model_name(int model);
int tt_synth_model_parse(const char *name);

#endif
