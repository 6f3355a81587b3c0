/*
 * ticktape: synthetic markets.
 *
 * A synthetic market generates quote ticks for one or several symbols from a
 * price model, seeded: the same configuration and seed give the same ticks bit
 * for bit, on every run and machine; another seed gives other ticks. It is an
 * engine source (core/engine.h) that produces events lazily, in time order and
 * in constant memory, so a backtest can run on a generated market without a
 * tape on disk, and `ticktape synth` writes the same events to a tape.
 *
 * Models (key `model`), on the log mid price x = ln S, in calendar time
 * (t in years of 365.25 days; with the weekend closed the weekend's move shows
 * as a gap at the Sunday open):
 *   gbm     dS/S = mu dt + sigma dW
 *   merton  GBM plus jumps: Poisson(lambda) per year, log-jump ~ N(jump_mean, jump_sigma^2);
 *           mu stays the total expected return (the drift is compensated)
 *   heston  dS/S = mu dt + sqrt(v) dW1, dv = kappa (theta - v) dt + xi sqrt(v) dW2,
 *           corr(dW1, dW2) = rho, v(0) = v0 (full-truncation Euler per tick,
 *           steps of at most five minutes across gaps)
 *   regime  GBM whose (mu, sigma) follow a continuous-time Markov chain over
 *           regimes (regime_mu, regime_sigma lists), leaving regime i at rate
 *           regime_rate[i] per year for one of the others chosen uniformly
 *           (each symbol has its own chain)
 *   ou      Ornstein-Uhlenbeck on x: dx = kappa (ln theta - x) dt + sigma dW
 *           (sampled exactly); theta is the long-run price level
 * Several symbols move together through the Cholesky factor of the `corr`
 * matrix (an invalid matrix is an error naming the problem). Without `corr`
 * each symbol draws only from its own streams, so adding a symbol leaves the
 * others' ticks unchanged.
 *
 * Microstructure: ticks arrive as one Poisson process per symbol with rate
 * `tick_rate` per second on average over the open hours, modulated by an
 * hour-of-day seasonality (quiet Asia, busy London and New York, busiest in
 * their overlap); the market closes for the weekend (Friday's rollover to
 * Sunday's) unless weekend=open. The rollover is 17:00 New York: 22:00 UTC,
 * 21:00 UTC under US daylight saving time (rollover_tz=utc: 22:00 UTC all
 * year). The spread is `spread` pips at the model's base volatility, scales
 * with the current volatility (heston, regime) by `spread_vol`, and is
 * multiplied by `rollover_spread` within `rollover_minutes` of the rollover.
 * Bid and ask are rounded to the instrument's point; timestamps to
 * `resolution`.
 *
 * Parameter keys for tt_synth_config_set (and a scenario's `synthetic:` section):
 *   model            gbm|merton|heston|regime|ou               (gbm)
 *   seed             scenario seed, unsigned integer            (1)
 *   symbols          comma list, e.g. "EURUSD,GBPUSD"           (EURUSD)
 *   symbol           one symbol (same as symbols)
 *   from, to         ISO 8601 or epoch with suffix (tt_ts_parse) (2024-01-01 .. +7 days)
 *   price            start mid price(s), comma list per symbol  (a typical level per symbol)
 *   mu               annualized drift                           (0)
 *   sigma            annualized volatility                      (0.08)
 *   lambda           merton: jumps per year                     (12)
 *   jump_mean        merton: mean log jump                      (0)
 *   jump_sigma       merton: stdev of the log jump              (0.005)
 *   kappa            heston: variance reversion per year; ou: reversion speed per year (5)
 *   theta            heston: long-run variance (sigma^2); ou: long-run price (start price)
 *   xi               heston: volatility of variance             (0.3)
 *   rho              heston: corr of price and variance shocks  (-0.3)
 *   v0               heston: initial variance                   (theta)
 *   regime_sigma     regime: volatility per regime, comma list; sets the
 *                    number of regimes                          (0.06,0.15)
 *   regime_mu        regime: drift per regime (same length)     (0 each)
 *   regime_rate      regime: leaving rate per year per regime   (52 each)
 *   corr             correlation: one number for every pair, or the full
 *                    matrix row by row, rows separated by ';'   (identity)
 *                    ("[1, 0.5]; [0.5, 1]" from YAML lists works too)
 *   tick_rate        mean ticks per second per symbol while open (2)
 *   seasonality      on|off                                     (on)
 *   weekend          closed|open                                (closed)
 *   spread           base spread in pips                        (0.8)
 *   spread_vol       0..: how much the spread follows volatility (1)
 *   rollover_spread  spread multiplier around the rollover      (4)
 *   rollover_minutes half-width of the rollover window          (5)
 *   rollover_tz      newyork (17:00 New York, with US DST) | utc (22:00 UTC) (newyork)
 *   resolution       timestamp resolution: ns|us|ms|s           (ms)
 *   source_id        the engine source id of the events         (1)
 *
 * Random streams (tt_rng_derive from the seed), per symbol: "synth/clock/<SYM>"
 * (arrivals), "synth/price/<SYM>" (diffusion shocks), "synth/jump/<SYM>",
 * "synth/var/<SYM>" (Heston), "synth/regime/<SYM>", "synth/volume/<SYM>".
 * See docs/synthetic.md.
 */
#ifndef TT_SYNTH_H
#define TT_SYNTH_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"

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
 * 2024-01-01 (a Monday), seed 1. */
void tt_synth_config_init(tt_synth_config *cfg);

/* Set one key (see the list above) from its text value. Unknown keys and bad
 * values return TT_EINVAL with a message naming the key and the value.
 * Symbol-dependent lists (price) may be given before or after symbols. */
int tt_synth_config_set(tt_synth_config *cfg, const char *key, const char *value, tt_err *err);

/* Validate the whole configuration: time range, parameter ranges, list
 * lengths against the symbol count, the correlation matrix (symmetric, unit
 * diagonal, entries in [-1, 1], positive definite). Errors name the key. */
int tt_synth_config_check(const tt_synth_config *cfg, tt_err *err);

/* Model name <-> enum; parse returns -1 when unknown. */
const char *tt_synth_model_name(int model);
int tt_synth_model_parse(const char *name);

/* ---- the generator ---- */

typedef struct tt_synth tt_synth;

/* Open a generator over cfg (copied) and an instrument table (borrowed; must
 * outlive the generator; every symbol must be in it, the error says how to
 * declare it otherwise). Fails with TT_EINVAL on a bad configuration. */
int tt_synth_open(tt_synth **out, const tt_synth_config *cfg, const tt_instruments *instruments,
                  tt_err *err);

/* Fill up to cap quote events in time order; returns the number written (0 at
 * the end of the range, or when cap is 0). Events carry kind QUOTE, cls
 * MARKET, the symbol's id, cfg->source_id and seq counting from 1; bytes of
 * the event not used by the quote are zero. Never fails once opened. */
size_t tt_synth_generate(tt_synth *s, tt_event *buf, size_t cap);

/* Events generated so far. */
uint64_t tt_synth_count(const tt_synth *s);

/* The current (latent) mid price of the i-th configured symbol, in price units. */
double tt_synth_mid(const tt_synth *s, int i);

/* The current instantaneous variance of the i-th symbol's log price, per year:
 * heston v (may dip below 0 under full truncation; the model uses max(v, 0)),
 * regime the current regime's sigma^2, otherwise sigma^2. */
double tt_synth_variance(const tt_synth *s, int i);

/* The current regime (0-based) of the i-th symbol; 0 for other models. */
int tt_synth_regime(const tt_synth *s, int i);

/* The instrument of the i-th configured symbol. */
const tt_instrument *tt_synth_instrument(const tt_synth *s, int i);

void tt_synth_close(tt_synth *s);

/* ---- as an engine source ---- */

/* An engine source generating the market lazily (batches of a few hundred
 * events, constant memory). *handle receives the generator (a tt_synth *).
 * Release it exactly once: either through out->close (what an engine owner
 * that closes its source does) or with tt_synth_source_close(handle). */
int tt_synth_source_open(const tt_synth_config *cfg, const tt_instruments *instruments,
                         tt_source *out, void **handle, tt_err *err);
void tt_synth_source_close(void *handle);

#endif
