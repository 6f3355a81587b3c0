/*
 * Option chains (see options.h).
 *
 * Pricing is closed-form Black-Scholes-Merton. The normal CDF is
 * 0.5 * erfc(-x / sqrt 2), accurate in both tails (1 - N(x) would cancel).
 *
 * Implied volatility: the price is increasing in sigma, so a bracket [lo, hi]
 * around the root is kept throughout. Newton's step is taken when it lands
 * inside the bracket and vega is not vanishing; otherwise the step bisects.
 * Each evaluation also tightens the bracket, so the iteration always
 * converges (bisection alone would) and usually in a handful of Newton steps
 * from the start sqrt(2 |ln(F/K)| / T), the inflection point of the price in
 * sigma (Manaster and Koehler), from which Newton's iterates are monotone.
 *
 * A chain is strikes centred on the spot (step 1, 2 or 5 times a power of
 * ten near 1% of the spot unless given) times expiries. The smile is a
 * quadratic in log-moneyness. Open interest is bell-shaped in moneyness (wider
 * for longer expiries, puts heavier below the spot, as hedgers buy them)
 * times a seeded random factor, so chain statistics have realistic material
 * and are reproducible.
 */
#include "options.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pcg.h"

#define DAYS_PER_YEAR 365.25

double tt_norm_cdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }

double tt_norm_pdf(double x) { return 0.39894228040143267794 * exp(-0.5 * x * x); }

void tt_bs_greeks_calc(int kind, double S, double K, double T, double r, double q, double sigma,
                       tt_bs_greeks *g)
{
    memset(g, 0, sizeof *g);
    double dq = exp(-q * (T > 0 ? T : 0)), dr = exp(-r * (T > 0 ? T : 0));
    if (!(T > 0) || !(sigma > 0)) {
        /* no time value: the discounted intrinsic value of the forward */
        double fwd = S * dq - K * dr;
        if (kind == TT_CALL) {
            g->price = fwd > 0 ? fwd : 0;
            g->delta = fwd > 0 ? dq : 0;
        } else {
            g->price = fwd < 0 ? -fwd : 0;
            g->delta = fwd < 0 ? -dq : 0;
        }
        return;
    }
    double sq = sqrt(T), vs = sigma * sq;
    double d1 = (log(S / K) + (r - q + 0.5 * sigma * sigma) * T) / vs, d2 = d1 - vs;
    double pdf = tt_norm_pdf(d1);
    g->gamma = dq * pdf / (S * vs);
    g->vega = S * dq * pdf * sq;
    double decay = -S * dq * pdf * sigma / (2.0 * sq);
    if (kind == TT_CALL) {
        double n1 = tt_norm_cdf(d1), n2 = tt_norm_cdf(d2);
        g->price = S * dq * n1 - K * dr * n2;
        g->delta = dq * n1;
        g->theta = decay - r * K * dr * n2 + q * S * dq * n1;
        g->rho = K * T * dr * n2;
    } else {
        double n1 = tt_norm_cdf(-d1), n2 = tt_norm_cdf(-d2);
        g->price = K * dr * n2 - S * dq * n1;
        g->delta = -dq * n1;
        g->theta = decay + r * K * dr * n2 - q * S * dq * n1;
        g->rho = -K * T * dr * n2;
    }
    if (g->price < 0) /* rounding far out of the money */
        g->price = 0;
}

double tt_bs_price(int kind, double S, double K, double T, double r, double q, double sigma)
{
    tt_bs_greeks g;
    tt_bs_greeks_calc(kind, S, K, T, r, q, sigma, &g);
    return g.price;
}

int tt_bs_implied_vol(int kind, double price, double S, double K, double T, double r, double q,
                      double *sigma_out, tt_err *err)
{
    if (!(S > 0) || !(K > 0) || !(T > 0) || !isfinite(price) || !isfinite(S) ||
        !isfinite(K) || !isfinite(T) || !isfinite(r) || !isfinite(q))
        return tt_err_set(err, TT_EINVAL,
                          "implied vol: needs finite S > 0, K > 0, T > 0, r, q and price "
                          "(S=%g K=%g T=%g r=%g q=%g price=%g)",
                          S, K, T, r, q, price);
    double dq = exp(-q * T), dr = exp(-r * T);
    double lower = kind == TT_CALL ? S * dq - K * dr : K * dr - S * dq;
    double upper = kind == TT_CALL ? S * dq : K * dr;
    if (lower < 0)
        lower = 0;
    double tol = 1e-13 * (S > K ? S : K);
    if (price <= lower + tol)
        return tt_err_set(err, TT_EINVAL,
                          "implied vol: price %.10g is at or below the %s's no-arbitrage lower "
                          "bound %.10g (no time value)",
                          price, kind == TT_CALL ? "call" : "put", lower);
    if (price >= upper)
        return tt_err_set(err, TT_EINVAL,
                          "implied vol: price %.10g is at or above the %s's upper bound %.10g",
                          price, kind == TT_CALL ? "call" : "put", upper);
    double lo = 1e-6, hi = 10.0;
    if (tt_bs_price(kind, S, K, T, r, q, hi) < price)
        return tt_err_set(err, TT_EINVAL, "implied vol: price %.10g needs a volatility above %g",
                          price, hi);
    if (tt_bs_price(kind, S, K, T, r, q, lo) > price)
        return tt_err_set(err, TT_EINVAL, "implied vol: price %.10g needs a volatility below %g",
                          price, lo);
    double m = fabs(log(S * dq / (K * dr)));
    double sigma = sqrt(2.0 * m / T);
    if (!(sigma > lo && sigma < hi))
        sigma = 0.2;
    for (int it = 0; it < 200; it++) {
        tt_bs_greeks g;
        tt_bs_greeks_calc(kind, S, K, T, r, q, sigma, &g);
        double f = g.price - price;
        if (fabs(f) <= tol) {
            *sigma_out = sigma;
            return TT_OK;
        }
        if (f > 0)
            hi = sigma;
        else
            lo = sigma;
        double next = g.vega > 1e-300 ? sigma - f / g.vega : NAN;
        if (!(next > lo && next < hi))
            next = 0.5 * (lo + hi);
        if (hi - lo < 1e-15 * hi) {
            *sigma_out = next;
            return TT_OK;
        }
        sigma = next;
    }
    *sigma_out = sigma;
    return TT_OK;
}

/* ---- chains ---- */

void tt_option_chain_spec_init(tt_option_chain_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->atm_vol = 0.08;
    spec->skew = -0.1;
    spec->smile = 0.5;
    spec->nstrikes = 21;
    spec->nexpiries = 4;
    spec->expiry_days[0] = 7;
    spec->expiry_days[1] = 30;
    spec->expiry_days[2] = 90;
    spec->expiry_days[3] = 180;
    spec->seed = 1;
}

/* 1, 2 or 5 times a power of ten, nearest below 1% of the spot. */
static double nice_step(double spot)
{
    double target = spot * 0.01;
    double p = pow(10.0, floor(log10(target)));
    if (5 * p <= target)
        return 5 * p;
    if (2 * p <= target)
        return 2 * p;
    return p;
}

int tt_option_chain_build(const tt_option_chain_spec *spec, tt_option_row **rows_out,
                          size_t *nrows_out, tt_err *err)
{
    *rows_out = NULL;
    *nrows_out = 0;
    if (!(spec->spot > 0) || !isfinite(spec->spot))
        return tt_err_set(err, TT_EINVAL, "options: spot must be > 0 (got %g)", spec->spot);
    if (spec->nstrikes < 1 || spec->nstrikes > 10001)
        return tt_err_set(err, TT_EINVAL, "options: strikes: %d is outside 1..10001",
                          spec->nstrikes);
    if (spec->nexpiries < 1 || spec->nexpiries > 16)
        return tt_err_set(err, TT_EINVAL, "options: expiries: need 1 to 16 (got %d)",
                          spec->nexpiries);
    for (int e = 0; e < spec->nexpiries; e++)
        if (spec->expiry_days[e] < 1 || spec->expiry_days[e] > 36525)
            return tt_err_set(err, TT_EINVAL, "options: expiries: %lld days is outside 1..36525",
                              (long long)spec->expiry_days[e]);
    if (!(spec->atm_vol > 0) || spec->atm_vol > 5)
        return tt_err_set(err, TT_EINVAL, "options: vol: %g is outside (0, 5]", spec->atm_vol);
    if (!(spec->strike_step >= 0) || !isfinite(spec->strike_step))
        return tt_err_set(err, TT_EINVAL, "options: strike step must be >= 0");
    if (!isfinite(spec->r) || !isfinite(spec->q) || fabs(spec->r) > 1 || fabs(spec->q) > 1)
        return tt_err_set(err, TT_EINVAL, "options: r and q must be in [-1, 1] (r=%g q=%g)",
                          spec->r, spec->q);
    if (!isfinite(spec->skew) || !isfinite(spec->smile))
        return tt_err_set(err, TT_EINVAL, "options: skew and smile must be finite");
    double step = spec->strike_step > 0 ? spec->strike_step : nice_step(spec->spot);
    double atm = floor(spec->spot / step + 0.5) * step;
    size_t cap = (size_t)spec->nexpiries * (size_t)spec->nstrikes * 2;
    tt_option_row *rows = calloc(cap, sizeof *rows);
    if (!rows)
        return tt_err_set(err, TT_ENOMEM, "options: out of memory for %zu rows", cap);
    tt_pcg64 g = tt_rng_derive(spec->seed, "options/open_interest");
    size_t n = 0;
    for (int e = 0; e < spec->nexpiries; e++) {
        double T = (double)spec->expiry_days[e] / DAYS_PER_YEAR;
        tt_ts expiry = spec->at + spec->expiry_days[e] * TT_NS_PER_DAY;
        double width = spec->atm_vol * sqrt(T) * 2.5;
        for (int i = 0; i < spec->nstrikes; i++) {
            double K = atm + (double)(i - spec->nstrikes / 2) * step;
            if (!(K > 0))
                continue;
            double m = log(K / spec->spot);
            double iv = spec->atm_vol + spec->skew * m + spec->smile * m * m;
            if (iv < 0.01)
                iv = 0.01;
            double bell = exp(-0.5 * (m / width) * (m / width));
            for (int kind = TT_PUT; kind <= TT_CALL; kind++) {
                tt_option_row *row = &rows[n++];
                row->expiry = expiry;
                row->T = T;
                row->strike = K;
                row->kind = kind;
                row->iv = iv;
                tt_bs_greeks_calc(kind, spec->spot, K, T, spec->r, spec->q, iv, &row->g);
                double tilt = kind == TT_PUT ? (m < 0 ? 1.3 : 0.8) : (m > 0 ? 1.0 : 0.7);
                double u = tt_pcg64_uniform(&g);
                row->open_interest = (uint64_t)floor(5000.0 * bell * tilt * (0.5 + u) + 0.5);
                double v = tt_pcg64_uniform(&g);
                row->volume = (uint64_t)floor((double)row->open_interest * (0.02 + 0.2 * v) + 0.5);
            }
        }
    }
    *rows_out = rows;
    *nrows_out = n;
    return TT_OK;
}

double tt_option_chain_put_call_ratio(const tt_option_row *rows, size_t n)
{
    double puts = 0, calls = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind == TT_PUT)
            puts += (double)rows[i].open_interest;
        else
            calls += (double)rows[i].open_interest;
    }
    return calls > 0 ? puts / calls : 0.0;
}

double tt_option_chain_max_pain(const tt_option_row *rows, size_t n)
{
    double best_strike = 0, best_pain = INFINITY;
    for (size_t c = 0; c < n; c++) {
        double P = rows[c].strike;
        double pain = 0;
        for (size_t i = 0; i < n; i++) {
            double oi = (double)rows[i].open_interest;
            if (rows[i].kind == TT_CALL && P > rows[i].strike)
                pain += oi * (P - rows[i].strike);
            else if (rows[i].kind == TT_PUT && rows[i].strike > P)
                pain += oi * (rows[i].strike - P);
        }
        if (pain < best_pain || (pain == best_pain && P < best_strike)) {
            best_pain = pain;
            best_strike = P;
        }
    }
    return best_strike;
}
