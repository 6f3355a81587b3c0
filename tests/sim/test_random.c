/*
 * Random variates: distribution checks with fixed seeds (deterministic, so
 * they never flake), bounds set from the sampling error of n draws (about 5
 * standard errors) so that a wrong parameter (a 10% error in a scale) fails.
 *
 * Oracles: the normal and exponential CDFs from libm's erfc/exp through a
 * Kolmogorov-Smirnov statistic (critical value 1.95/sqrt(n) at alpha 0.001),
 * the textbook moments of Poisson (mean = var = lambda) and Gamma (k theta,
 * k theta^2), and pinned first values so that a change of algorithm, which
 * would change every synthetic market, is noticed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/random.h"

#define PIN_NORMAL "0x1.5eb5b37dede7bp+0"
#define PIN_EXP "0x1.3c3a79ad1e422p+0"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ks_stat(double *v, size_t n, double (*cdf)(double))
{
    qsort(v, n, sizeof *v, cmp_double);
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        double f = cdf(v[i]);
        double lo = f - (double)i / (double)n, hi = (double)(i + 1) / (double)n - f;
        if (lo > d) d = lo;
        if (hi > d) d = hi;
    }
    return d;
}

static double normal_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
static double normal_cdf_wide(double x) { return 0.5 * erfc(-x / (1.1 * sqrt(2.0))); }
static double exp_cdf(double x) { return x <= 0 ? 0.0 : -expm1(-x); }

#define N 200000

static void test_tables(void **state)
{
    (void)state;
    tt_random_tables t;
    tt_random_tables_init(&t);
    /* edges strictly decrease to 0, densities increase to 1 */
    for (int i = 1; i < TT_ZIG_LAYERS; i++) {
        assert_true(t.nx[i + 1] < t.nx[i]);
        assert_true(t.ex[i + 1] < t.ex[i]);
        assert_true(t.nf[i + 1] > t.nf[i]);
        assert_true(t.ef[i + 1] > t.ef[i]);
    }
    /* the top layer reaches (nearly) the mode: the published R, V are consistent */
    assert_true(t.nx[TT_ZIG_LAYERS - 1] > 0.0 && t.nx[TT_ZIG_LAYERS - 1] < 0.3);
    assert_true(t.ex[TT_ZIG_LAYERS - 1] > 0.0 && t.ex[TT_ZIG_LAYERS - 1] < 0.1);
}

static void test_normal(void **state)
{
    (void)state;
    tt_random_tables t;
    tt_random_tables_init(&t);
    tt_pcg64 g = tt_rng_derive(11, "test/normal");
    double *v = malloc(N * sizeof *v);
    assert_non_null(v);
    double s1 = 0, s2 = 0, s4 = 0;
    size_t tail = 0;
    tt_random_normals(&g, &t, v, N);
    for (size_t i = 0; i < N; i++) {
        s1 += v[i];
        s2 += v[i] * v[i];
        s4 += v[i] * v[i] * v[i] * v[i];
        if (fabs(v[i]) > 3.6541528853610088) tail++;
    }
    double mean = s1 / N, var = s2 / N - mean * mean;
    assert_true(fabs(mean) < 5.0 / sqrt(N));
    assert_true(fabs(var - 1.0) < 5.0 * sqrt(2.0 / N));
    assert_true(fabs(s4 / N - 3.0) < 5.0 * sqrt(96.0 / N)); /* var of x^4 is 105 - 9 */
    /* P(|Z| > R) = 2.58e-4: the tail path is exercised and of the right size */
    assert_true(tail > 20 && tail < 100);
    double crit = 1.95 / sqrt(N);
    double d = ks_stat(v, N, normal_cdf);
    assert_true(d < crit);
    /* the same sample against a 10% wider normal is rejected */
    assert_true(ks_stat(v, N, normal_cdf_wide) > 3 * crit);
    free(v);
}

static void test_exponential(void **state)
{
    (void)state;
    tt_random_tables t;
    tt_random_tables_init(&t);
    tt_pcg64 g = tt_rng_derive(12, "test/exp");
    double *v = malloc(N * sizeof *v);
    assert_non_null(v);
    double s1 = 0;
    for (size_t i = 0; i < N; i++) {
        v[i] = tt_random_exponential(&g, &t);
        assert_true(v[i] >= 0.0);
        s1 += v[i];
    }
    assert_true(fabs(s1 / N - 1.0) < 5.0 / sqrt(N));
    assert_true(ks_stat(v, N, exp_cdf) < 1.95 / sqrt(N));
    free(v);
}

static void poisson_check(double lambda, uint64_t seed)
{
    tt_random_tables t;
    tt_random_tables_init(&t);
    tt_pcg64 g = tt_rng_derive(seed, "test/poisson");
    const int n = 100000;
    double s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double k = (double)tt_random_poisson(&g, &t, lambda);
        s1 += k;
        s2 += k * k;
    }
    double mean = s1 / n, var = s2 / n - mean * mean;
    assert_true(fabs(mean - lambda) < 5.0 * sqrt(lambda / n));
    /* var of the sample variance ~ (mu4 - sigma^4)/n = (lambda + 2 lambda^2)/n */
    assert_true(fabs(var - lambda) < 5.0 * sqrt((lambda + 2 * lambda * lambda) / n));
}

static void test_poisson(void **state)
{
    (void)state;
    poisson_check(0.3, 1);
    poisson_check(4.0, 2);
    poisson_check(25.0, 3);   /* PTRS path */
    poisson_check(1000.0, 4); /* PTRS path */
    tt_pcg64 g = tt_rng_derive(1, "x");
    tt_random_tables t;
    tt_random_tables_init(&t);
    assert_int_equal(tt_random_poisson(&g, &t, 0.0), 0);
}

static void gamma_check(double k, double theta, uint64_t seed)
{
    tt_random_tables t;
    tt_random_tables_init(&t);
    tt_pcg64 g = tt_rng_derive(seed, "test/gamma");
    const int n = 100000;
    double s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double x = tt_random_gamma(&g, &t, k, theta);
        assert_true(x >= 0.0);
        s1 += x;
        s2 += x * x;
    }
    double mean = s1 / n, var = s2 / n - mean * mean;
    double m = k * theta, vv = k * theta * theta;
    assert_true(fabs(mean - m) < 5.0 * sqrt(vv / n));
    /* excess kurtosis 6/k: var of the sample variance ~ vv^2 (2 + 6/k) / n */
    assert_true(fabs(var - vv) < 5.0 * vv * sqrt((2.0 + 6.0 / k) / n));
}

static void test_gamma(void **state)
{
    (void)state;
    gamma_check(0.5, 2.0, 1);
    gamma_check(1.0, 1.0, 2);
    gamma_check(3.5, 0.2, 3);
}

static void test_deterministic(void **state)
{
    (void)state;
    tt_random_tables t;
    tt_random_tables_init(&t);
    tt_pcg64 a = tt_rng_derive(42, "synth/price/EURUSD"), b = a;
    for (int i = 0; i < 1000; i++) {
        double x = tt_random_normal(&a, &t), y = tt_random_normal(&b, &t);
        assert_memory_equal(&x, &y, sizeof x);
    }
    /* pinned: the first variates of a known stream (printed with %a) */
    tt_pcg64 c = tt_rng_derive(42, "pin");
    char buf[64];
    snprintf(buf, sizeof buf, "%a", tt_random_normal(&c, &t));
    printf("first normal %s\n", buf);
    assert_string_equal(buf, PIN_NORMAL);
    snprintf(buf, sizeof buf, "%a", tt_random_exponential(&c, &t));
    printf("first exponential %s\n", buf);
    assert_string_equal(buf, PIN_EXP);
}

/* ulps between two doubles of the same sign */
static double ulps(double a, double b)
{
    if (a == b)
        return 0;
    return fabs(a - b) / (nextafter(fabs(b), INFINITY) - fabs(b));
}

static void test_det_functions(void **state)
{
    (void)state;
    /* Oracle: glibc's exp/log/expm1 (< 1 ulp). Ours must be within 2 ulps of
     * them everywhere sampled (expm1: 4), and exact where the answer is exact. */
    tt_pcg64 g = tt_rng_derive(5, "test/det");
    double worst_exp = 0, worst_log = 0, worst_expm1 = 0;
    for (int i = 0; i < 1000000; i++) {
        double u = tt_random_uniform(&g);
        double x = (u - 0.5) * 1400.0; /* [-700, 700] */
        if (i % 4 == 1)
            x = (u - 0.5) * 2.0; /* [-1, 1] */
        if (i % 4 == 2)
            x = (u - 0.5) * 1e-3;
        worst_exp = fmax(worst_exp, ulps(tt_det_exp(x), exp(x)));
        worst_expm1 = fmax(worst_expm1, ulps(tt_det_expm1(x / 700.0), expm1(x / 700.0)));
        double y = exp((u - 0.5) * 1380.0); /* 1e-300 .. 1e300 */
        if (i % 4 == 1)
            y = 0.5 + u; /* around 1, where cancellation would show */
        worst_log = fmax(worst_log, ulps(tt_det_log(y), log(y)));
    }
    printf("worst ulps: exp %.2f expm1 %.2f log %.2f\n", worst_exp, worst_expm1, worst_log);
    assert_true(worst_exp <= 2.0);
    assert_true(worst_expm1 <= 4.0); /* e^x - 1 above |x| = 1/2 adds a rounding */
    assert_true(worst_log <= 2.0);
    assert_true(tt_det_exp(0.0) == 1.0);
    assert_true(tt_det_log(1.0) == 0.0);
    assert_true(tt_det_log(8.0) == 3.0 * log(2.0));
    assert_true(tt_det_expm1(0.0) == 0.0);
    assert_true(isinf(tt_det_exp(710.0)) && tt_det_exp(-746.0) == 0.0);
    assert_true(isnan(tt_det_log(-1.0)) && isinf(tt_det_log(0.0)));
    /* subnormal results and inputs */
    assert_true(ulps(tt_det_exp(-740.0), exp(-740.0)) <= 2.0);
    assert_true(ulps(tt_det_log(4.9406564584124654e-324), log(4.9406564584124654e-324)) <= 2.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),      cmocka_unit_test(test_normal),
        cmocka_unit_test(test_exponential), cmocka_unit_test(test_poisson),
        cmocka_unit_test(test_gamma),       cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_det_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
