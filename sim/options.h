/*
 * ticktape: option chains on a synthetic (or any) underlying.
 *
 * Black-Scholes-Merton prices and greeks for European calls and puts with a
 * continuous dividend (or foreign-rate) yield q, implied volatility by
 * Newton's method with a bisection fallback, and chain statistics (put-call
 * ratio, max pain). A chain is a grid of strikes around the spot times a list
 * of expiries, priced off a volatility smile, with open interest and volume
 * drawn from a seeded stream so that ratios and max pain have data to work on.
 *
 * Conventions: S spot, K strike, T years to expiry, r and q continuously
 * compounded annual rates, sigma annual volatility. Greeks: delta per unit of
 * S, gamma per unit of S squared, vega per 1.00 of volatility, theta per year,
 * rho per 1.00 of r.
 */
#ifndef TT_OPTIONS_H
#define TT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"

enum tt_option_kind { TT_PUT = 0, TT_CALL = 1 };

typedef struct tt_bs_greeks {
    double price, delta, gamma, vega, theta, rho;
} tt_bs_greeks;

/* Standard normal CDF and density. The pricing functions cannot fail (NaN in,
 * NaN out); only tt_bs_implied_vol and tt_option_chain_build return errors. */
double tt_norm_cdf(double x);
double tt_norm_pdf(double x);

/* The Black-Scholes-Merton price of a European option. T <= 0 or sigma <= 0
 * give the discounted intrinsic value of the forward. */
double tt_bs_price(int kind, double S, double K, double T, double r, double q, double sigma);

/* Price and greeks together. */
void tt_bs_greeks_calc(int kind, double S, double K, double T, double r, double q, double sigma,
                       tt_bs_greeks *out);

/* The volatility at which tt_bs_price equals price, to |error| <= 1e-13 *
 * max(S, K) in price: Newton steps from the Manaster-Koehler start
 * sqrt(2 |ln(F/K)| / T), falling back to bisection within a bracket kept
 * inside [1e-6, 10] whenever a step leaves it or vega vanishes. TT_EINVAL
 * when price is at or outside the no-arbitrage bounds, or needs a volatility
 * outside [1e-6, 10] (the message says which), *sigma_out untouched. TT_OK
 * otherwise. */
int tt_bs_implied_vol(int kind, double price, double S, double K, double T, double r, double q,
                      double *sigma_out, tt_err *err);

/* ---- chains ---- */

typedef struct tt_option_row {
    tt_ts expiry;
    double T;      /* years to expiry */
    double strike;
    int kind;      /* enum tt_option_kind */
    double iv;     /* the smile's volatility at this strike */
    tt_bs_greeks g;
    uint64_t open_interest;
    uint64_t volume;
} tt_option_row;

typedef struct tt_option_chain_spec {
    double spot;
    tt_ts at;               /* valuation time */
    double r, q;
    double atm_vol;         /* volatility at the money */
    double skew;            /* d iv / d ln(K/S) */
    double smile;           /* d2 iv / d ln(K/S)^2 (curvature) */
    int nstrikes;           /* strikes per expiry, centred on the spot */
    double strike_step;     /* distance between strikes, in price units; 0 = 1% of spot rounded */
    int nexpiries;
    int64_t expiry_days[16]; /* days from `at` */
    uint64_t seed;          /* open interest and volume: stream "options/open_interest" */
} tt_option_chain_spec;

/* Defaults: 21 strikes, expiries 7, 30, 90 and 180 days, r = q = 0, atm vol
 * 8%, skew -0.1, smile 0.5. spot and at must be set by the caller. Cannot fail. */
void tt_option_chain_spec_init(tt_option_chain_spec *spec);

/* Build a chain: nexpiries * nstrikes * 2 rows (for each expiry, each strike
 * ascending, put then call; strikes at or below 0 are left out) into a new array
 * *rows (free() it). TT_OK, or TT_EINVAL naming the bad field (spot, strikes,
 * expiries, vol, strike step, r and q, skew and smile), TT_ENOMEM; *rows is then
 * untouched. */
int tt_option_chain_build(const tt_option_chain_spec *spec, tt_option_row **rows, size_t *nrows,
                          tt_err *err);

/* Put-call ratio by open interest (sum of put OI / sum of call OI) over the
 * rows (of one expiry or all). 0 when there is no call open interest. Cannot fail. */
double tt_option_chain_put_call_ratio(const tt_option_row *rows, size_t n);

/* Max pain of one expiry's rows: the strike, among those listed, at which the
 * total intrinsic value paid to holders (sum over calls of OI * max(0, P - K)
 * plus over puts of OI * max(0, K - P)) is smallest. Ties go to the lower strike.
 * 0 for no rows. Cannot fail. */
double tt_option_chain_max_pain(const tt_option_row *rows, size_t n);

#endif
