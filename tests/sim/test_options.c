/*
 * Option pricing and chains.
 *
 * Oracles: textbook numbers from Hull, "Options, Futures, and Other
 * Derivatives" (the European call/put example S=42, K=40, r=10%, sigma=20%,
 * T=0.5: c = 4.76, p = 0.81; the greeks example S=49, K=50, r=5%, sigma=20%,
 * T=20 weeks: delta 0.522, gamma 0.066, vega 12.1, theta -4.31 a year,
 * rho 8.91); put-call parity; greeks against central finite differences of
 * the price; implied volatility round trips over a grid; max pain on a
 * hand-worked three-strike chain (worked in the comments).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/options.h"

static void test_hull_prices(void **state)
{
    (void)state;
    double c = tt_bs_price(TT_CALL, 42, 40, 0.5, 0.1, 0, 0.2);
    double p = tt_bs_price(TT_PUT, 42, 40, 0.5, 0.1, 0, 0.2);
    printf("hull: c=%.6f p=%.6f\n", c, p);
    assert_true(fabs(c - 4.76) < 0.005);
    assert_true(fabs(p - 0.81) < 0.005);

    tt_bs_greeks g;
    tt_bs_greeks_calc(TT_CALL, 49, 50, 20.0 / 52.0, 0.05, 0, 0.2, &g);
    printf("hull greeks: delta=%.4f gamma=%.4f vega=%.3f theta=%.3f rho=%.3f\n", g.delta, g.gamma,
           g.vega, g.theta, g.rho);
    assert_true(fabs(g.delta - 0.522) < 0.0005);
    assert_true(fabs(g.gamma - 0.066) < 0.0006); /* Hull rounds 0.0655 to 0.066 */
    assert_true(fabs(g.vega - 12.1) < 0.05);
    assert_true(fabs(g.theta + 4.31) < 0.005);
    assert_true(fabs(g.rho - 8.91) < 0.005);
    /* N(x): N(0) = 0.5, N(1.96) = 0.9750021 (tables) */
    assert_true(tt_norm_cdf(0.0) == 0.5);
    assert_true(fabs(tt_norm_cdf(1.96) - 0.9750021) < 1e-7);
}

static void test_parity_and_greeks(void **state)
{
    (void)state;
    const double S = 1.1, r = 0.04, q = 0.02;
    const double Ks[] = {0.9, 1.05, 1.1, 1.2, 1.4};
    const double Ts[] = {7 / 365.25, 0.25, 1.0, 3.0};
    const double vols[] = {0.05, 0.1, 0.3};
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 4; b++)
            for (size_t c = 0; c < 3; c++) {
                double K = Ks[a], T = Ts[b], v = vols[c];
                tt_bs_greeks C, P;
                tt_bs_greeks_calc(TT_CALL, S, K, T, r, q, v, &C);
                tt_bs_greeks_calc(TT_PUT, S, K, T, r, q, v, &P);
                /* put-call parity */
                assert_true(fabs(C.price - P.price - (S * exp(-q * T) - K * exp(-r * T))) < 1e-12);
                for (int kind = TT_PUT; kind <= TT_CALL; kind++) {
                    const tt_bs_greeks *G = kind == TT_CALL ? &C : &P;
                    double hS = 1e-4 * S, hv = 1e-5, hr = 1e-5, hT = 1e-6;
                    double up = tt_bs_price(kind, S + hS, K, T, r, q, v);
                    double dn = tt_bs_price(kind, S - hS, K, T, r, q, v);
                    double mid = G->price;
                    double fd_delta = (up - dn) / (2 * hS);
                    double fd_gamma = (up - 2 * mid + dn) / (hS * hS);
                    double fd_vega = (tt_bs_price(kind, S, K, T, r, q, v + hv) -
                                      tt_bs_price(kind, S, K, T, r, q, v - hv)) / (2 * hv);
                    double fd_rho = (tt_bs_price(kind, S, K, T, r + hr, q, v) -
                                     tt_bs_price(kind, S, K, T, r - hr, q, v)) / (2 * hr);
                    /* theta is -d price / d T (time passing shortens T) */
                    double fd_theta = -(tt_bs_price(kind, S, K, T + hT, r, q, v) -
                                        tt_bs_price(kind, S, K, T - hT, r, q, v)) / (2 * hT);
                    assert_true(fabs(fd_delta - G->delta) < 1e-6);
                    assert_true(fabs(fd_gamma - G->gamma) < 1e-3 * (1 + G->gamma));
                    assert_true(fabs(fd_vega - G->vega) < 1e-6);
                    assert_true(fabs(fd_rho - G->rho) < 1e-6);
                    assert_true(fabs(fd_theta - G->theta) < 1e-4 * (1 + fabs(G->theta)));
                }
            }
    /* no time left: intrinsic */
    assert_true(tt_bs_price(TT_CALL, 110, 100, 0, 0.05, 0, 0.2) == 10.0);
    assert_true(tt_bs_price(TT_PUT, 110, 100, 0, 0.05, 0, 0.2) == 0.0);
}

static void test_implied_vol(void **state)
{
    (void)state;
    const double S = 100, r = 0.03, q = 0.01;
    int n = 0;
    for (double K = 50; K <= 200; K += 10)
        for (double T = 0.02; T < 5; T *= 2.5)
            for (double v = 0.02; v < 2.0; v *= 1.7)
                for (int kind = TT_PUT; kind <= TT_CALL; kind++) {
                    tt_bs_greeks g;
                    tt_bs_greeks_calc(kind, S, K, T, r, q, v, &g);
                    double lower = kind == TT_CALL ? S * exp(-q * T) - K * exp(-r * T)
                                                   : K * exp(-r * T) - S * exp(-q * T);
                    if (lower < 0) lower = 0;
                    /* a price with (almost) no time value carries no volatility information */
                    if (g.price - lower < 1e-9 * S)
                        continue;
                    double iv;
                    tt_err err;
                    int rc = tt_bs_implied_vol(kind, g.price, S, K, T, r, q, &iv, &err);
                    if (rc) {
                        fprintf(stderr, "%s\n", err.msg);
                        fail();
                    }
                    /* the price reproduces; the vol does to the precision vega allows */
                    double back = tt_bs_price(kind, S, K, T, r, q, iv);
                    assert_true(fabs(back - g.price) <= 1e-12 * S);
                    if (g.vega > 1e-3)
                        assert_true(fabs(iv - v) < 1e-8);
                    n++;
                }
    printf("implied vol round trips: %d\n", n);
    assert_true(n > 500);

    double iv;
    tt_err err;
    /* above the upper bound (a call worth more than the stock) */
    assert_int_equal(tt_bs_implied_vol(TT_CALL, 101, 100, 100, 1, 0, 0, &iv, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "upper bound"));
    /* below intrinsic */
    assert_int_equal(tt_bs_implied_vol(TT_PUT, 5, 100, 120, 1, 0, 0, &iv, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "lower bound"));
    assert_int_equal(tt_bs_implied_vol(TT_CALL, 5, 100, 100, 0, 0, 0, &iv, &err), TT_EINVAL);
    assert_int_equal(tt_bs_implied_vol(TT_CALL, 5, 100, 100, 1, NAN, 0, &iv, &err), TT_EINVAL);
    /* a price that needs more than 1000% volatility */
    double high = tt_bs_price(TT_CALL, 100, 100, 1, 0, 0, 10.0) + 1e-9;
    assert_int_equal(tt_bs_implied_vol(TT_CALL, high, 100, 100, 1, 0, 0, &iv, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "volatility above"));
}

static tt_option_row row(double K, int kind, uint64_t oi)
{
    tt_option_row r;
    memset(&r, 0, sizeof r);
    r.strike = K;
    r.kind = kind;
    r.open_interest = oi;
    return r;
}

static void test_max_pain_hand_worked(void **state)
{
    (void)state;
    /* calls OI: 100 @ 90, 50 @ 100, 10 @ 110; puts OI: 10 @ 90, 50 @ 100, 100 @ 110.
     * Paid at settlement P:
     *   P = 90:  calls 0;                         puts 50*10 + 100*20 = 2500
     *   P = 100: calls 100*10 = 1000;             puts 100*10 = 1000     -> 2000
     *   P = 110: calls 100*20 + 50*10 = 2500;     puts 0                 -> 2500
     * max pain = 100. Put-call ratio = 160 / 160 = 1. */
    tt_option_row rows[6] = {row(90, TT_CALL, 100), row(100, TT_CALL, 50), row(110, TT_CALL, 10),
                             row(90, TT_PUT, 10),   row(100, TT_PUT, 50),  row(110, TT_PUT, 100)};
    assert_true(tt_option_chain_max_pain(rows, 6) == 100.0);
    assert_true(tt_option_chain_put_call_ratio(rows, 6) == 1.0);
    /* puts at 110 up to 300: P=90: 500 + 6000; P=100: 1000 + 3000; P=110: 2500 -> 110.
     * ratio 360 / 160 = 2.25 */
    rows[5].open_interest = 300;
    assert_true(tt_option_chain_max_pain(rows, 6) == 110.0);
    assert_true(tt_option_chain_put_call_ratio(rows, 6) == 2.25);
}

static void test_chain(void **state)
{
    (void)state;
    tt_option_chain_spec spec;
    tt_option_chain_spec_init(&spec);
    spec.spot = 1.0873;
    spec.at = 1704067200LL * 1000000000LL;
    spec.r = 0.05;
    spec.q = 0.03;
    tt_option_row *rows;
    size_t n;
    tt_err err;
    assert_int_equal(tt_option_chain_build(&spec, &rows, &n, &err), 0);
    assert_int_equal(n, 4 * 21 * 2);
    /* strike step: 1% of 1.0873 is 0.010873 -> 0.01; ATM strike 1.09 */
    assert_true(fabs(rows[0].strike - (1.09 - 10 * 0.01)) < 1e-12);
    assert_true(fabs(rows[20].strike - 1.09) < 1e-12);
    for (size_t i = 0; i < n; i++) {
        const tt_option_row *r = &rows[i];
        /* every price is consistent with its iv */
        double iv;
        if (r->g.price > 1e-12 && r->g.vega > 1e-6) {
            assert_int_equal(tt_bs_implied_vol(r->kind, r->g.price, spec.spot, r->strike, r->T,
                                               spec.r, spec.q, &iv, &err), 0);
            assert_true(fabs(iv - r->iv) < 1e-7);
        }
        assert_true(r->open_interest > 0 || r->strike > 0);
        assert_true(r->volume <= r->open_interest);
        if (i % 2 == 0) {
            assert_int_equal(r->kind, TT_PUT);
            assert_true(rows[i + 1].strike == r->strike && rows[i + 1].kind == TT_CALL);
        }
    }
    /* smile: with negative skew, low strikes carry more volatility */
    assert_true(rows[0].iv > rows[40].iv);
    /* statistics per expiry are well defined; max pain is a listed strike near the spot */
    for (int e = 0; e < 4; e++) {
        const tt_option_row *er = rows + e * 42;
        double mp = tt_option_chain_max_pain(er, 42);
        double pcr = tt_option_chain_put_call_ratio(er, 42);
        printf("expiry %d: put/call %.3f, max pain %.4f\n", e, pcr, mp);
        assert_true(fabs(mp - spec.spot) < 0.06);
        assert_true(pcr > 0.5 && pcr < 3);
    }
    /* reproducible */
    tt_option_row *again;
    size_t n2;
    assert_int_equal(tt_option_chain_build(&spec, &again, &n2, &err), 0);
    assert_int_equal(n, n2);
    assert_memory_equal(rows, again, n * sizeof *rows);
    free(again);
    free(rows);

    spec.spot = 0;
    assert_int_equal(tt_option_chain_build(&spec, &rows, &n, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "spot"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hull_prices),     cmocka_unit_test(test_parity_and_greeks),
        cmocka_unit_test(test_implied_vol),     cmocka_unit_test(test_max_pain_hand_worked),
        cmocka_unit_test(test_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
