/*
 * Random variates (see random.h).
 *
 * Ziggurat (Marsaglia and Tsang, 2000), 256 layers of equal area V under the
 * density's right half. Layer i (1..255) is the rectangle [0, x[i]] x
 * [f(x[i]), f(x[i+1])]; layer 0 is the base strip [0, R] x [0, f(R)] plus the
 * tail beyond R, given the pseudo-width x[0] = V / f(R) so that one uniform
 * picks a point in it. A draw takes one 64-bit output: the low 8 bits choose
 * the layer, bit 8 the sign (normal only), the top 53 bits the uniform u.
 * z = u * x[i] is accepted at once when z < x[i+1] (about 99% of draws);
 * otherwise the base layer samples the tail exactly (Marsaglia's method for
 * the normal, R + Exp(1) for the exponential, by memorylessness) and the other
 * layers test a second uniform against the density (the wedge).
 *
 * The tables use exp, log and sqrt once, at setup (the deterministic ones
 * below, so the tables are the same bits everywhere). The constants R and V are
 * the 256-layer solutions published with the method; they only need to be
 * consistent, not exact, because the wedge and tail tests are exact for any
 * table that covers the density.
 */
#include "random.h"

#include <math.h>

/* ---- deterministic exp and log ----
 *
 * exp: x = (64 k + j) ln2/64 + r with |r| <= ln2/128 (Cody-Waite: ln2/64 is
 * split into a high part with 32 significant bits, so k * hi is exact, and
 * the rest); e^x = 2^k * 2^(j/64) * e^r, with 2^(j/64) from a table of
 * correctly rounded constants and e^r from its Taylor polynomial to degree 6
 * (truncation error below 2^-60 for |r| <= 0.0055).
 *
 * log: x = 2^e m with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s) with
 * s = (m - 1) / (m + 1), |s| <= 0.1716, summed to s^23 (error below 2^-60).
 */

static const double EXP2_J64[64] = {
    0x1.0000000000000p+0, 0x1.02c9a3e778061p+0, 0x1.059b0d3158574p+0, 0x1.0874518759bc8p+0,
    0x1.0b5586cf9890fp+0, 0x1.0e3ec32d3d1a2p+0, 0x1.11301d0125b51p+0, 0x1.1429aaea92de0p+0,
    0x1.172b83c7d517bp+0, 0x1.1a35beb6fcb75p+0, 0x1.1d4873168b9aap+0, 0x1.2063b88628cd6p+0,
    0x1.2387a6e756238p+0, 0x1.26b4565e27cddp+0, 0x1.29e9df51fdee1p+0, 0x1.2d285a6e4030bp+0,
    0x1.306fe0a31b715p+0, 0x1.33c08b26416ffp+0, 0x1.371a7373aa9cbp+0, 0x1.3a7db34e59ff7p+0,
    0x1.3dea64c123422p+0, 0x1.4160a21f72e2ap+0, 0x1.44e086061892dp+0, 0x1.486a2b5c13cd0p+0,
    0x1.4bfdad5362a27p+0, 0x1.4f9b2769d2ca7p+0, 0x1.5342b569d4f82p+0, 0x1.56f4736b527dap+0,
    0x1.5ab07dd485429p+0, 0x1.5e76f15ad2148p+0, 0x1.6247eb03a5585p+0, 0x1.6623882552225p+0,
    0x1.6a09e667f3bcdp+0, 0x1.6dfb23c651a2fp+0, 0x1.71f75e8ec5f74p+0, 0x1.75feb564267c9p+0,
    0x1.7a11473eb0187p+0, 0x1.7e2f336cf4e62p+0, 0x1.82589994cce13p+0, 0x1.868d99b4492edp+0,
    0x1.8ace5422aa0dbp+0, 0x1.8f1ae99157736p+0, 0x1.93737b0cdc5e5p+0, 0x1.97d829fde4e50p+0,
    0x1.9c49182a3f090p+0, 0x1.a0c667b5de565p+0, 0x1.a5503b23e255dp+0, 0x1.a9e6b5579fdbfp+0,
    0x1.ae89f995ad3adp+0, 0x1.b33a2b84f15fbp+0, 0x1.b7f76f2fb5e47p+0, 0x1.bcc1e904bc1d2p+0,
    0x1.c199bdd85529cp+0, 0x1.c67f12e57d14bp+0, 0x1.cb720dcef9069p+0, 0x1.d072d4a07897cp+0,
    0x1.d5818dcfba487p+0, 0x1.da9e603db3285p+0, 0x1.dfc97337b9b5fp+0, 0x1.e502ee78b3ff6p+0,
    0x1.ea4afa2a490dap+0, 0x1.efa1bee615a27p+0, 0x1.f50765b6e4540p+0, 0x1.fa7c1819e90d8p+0,
};

#define LN2_64_HI 0x1.62e42fee00000p-7
#define LN2_64_LO 0x1.a39ef35793c76p-39
#define INV_LN2_64 0x1.71547652b82fep+6
#define LN2_HI 0x1.62e42fee00000p-1
#define LN2_LO 0x1.a39ef35793c76p-33

double tt_det_exp(double x)
{
    if (!(x > -745.1332191019412)) /* also NaN */
        return isnan(x) ? x : 0.0;
    if (x > 709.782712893384)
        return INFINITY;
    /* k = nearest integer to x 64/ln2: adding and removing 1.5 * 2^52 rounds
     * to an integer in the current (nearest-even) mode, without a libm call */
    double kd = (x * INV_LN2_64 + 0x1.8p52) - 0x1.8p52;
    double r = (x - kd * LN2_64_HI) - kd * LN2_64_LO;
    int64_t k = (int64_t)kd;
    int j = (int)(k & 63);
    int e = (int)((k - j) / 64); /* exact: k - j is a multiple of 64 */
    double p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 +
                                          r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    double y = EXP2_J64[j] * p;
    if (e >= -1021 && e <= 1023) {
        /* 2^e as bits: multiplying by a power of two rounds once, like ldexp */
        union { uint64_t u; double d; } sc = {.u = (uint64_t)(e + 1023) << 52};
        return y * sc.d;
    }
    return ldexp(y, e);
}

double tt_det_expm1(double x)
{
    /* x (1 + x/2 (1 + x/3 (1 + ...))), to x^6/6! below 2^-10 and to x^16/16!
     * below 1/2 (the rest is under 2^-58 of the result either way); above
     * 1/2, e^x - 1 cancels at most about one bit. The reciprocals are
     * compile-time constants (correctly rounded, as a runtime divide would be). */
    static const double inv[17] = {0,       1,        1. / 2,  1. / 3,  1. / 4,  1. / 5,
                                   1. / 6,  1. / 7,   1. / 8,  1. / 9,  1. / 10, 1. / 11,
                                   1. / 12, 1. / 13,  1. / 14, 1. / 15, 1. / 16};
    double ax = fabs(x);
    if (ax < 0.5) {
        int top = ax < 0x1p-10 ? 6 : 16;
        double p = 0.0;
        for (int k = top; k >= 2; k--)
            p = (p + 1.0) * x * inv[k];
        return (p + 1.0) * x;
    }
    return tt_det_exp(x) - 1.0;
}

double tt_det_log(double x)
{
    if (isnan(x) || x < 0.0)
        return NAN;
    if (x == 0.0)
        return -INFINITY;
    if (isinf(x))
        return x;
    int e;
    double m = frexp(x, &e); /* x = m 2^e, m in [0.5, 1) */
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e -= 1;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double sum = 1.0 / 23.0;
    for (int k = 21; k >= 3; k -= 2)
        sum = sum * s2 + 1.0 / (double)k;
    double lm = 2.0 * s + 2.0 * s * s2 * sum;
    return (double)e * LN2_HI + ((double)e * LN2_LO + lm);
}

#define ZIG_NORM_R 3.6541528853610088
#define ZIG_NORM_V 0.00492867323399
#define ZIG_EXP_R 7.69711747013104972
#define ZIG_EXP_V 0.0039496598225815571993

void tt_random_tables_init(tt_random_tables *t)
{
    /* normal, f(x) = exp(-x^2 / 2) */
    double fr = tt_det_exp(-0.5 * ZIG_NORM_R * ZIG_NORM_R);
    t->nx[0] = ZIG_NORM_V / fr;
    t->nf[0] = 0.0;
    t->nx[1] = ZIG_NORM_R;
    t->nf[1] = fr;
    for (int i = 1; i < TT_ZIG_LAYERS - 1; i++) {
        double y = ZIG_NORM_V / t->nx[i] + t->nf[i];
        t->nx[i + 1] = y < 1.0 ? sqrt(-2.0 * tt_det_log(y)) : 0.0;
        t->nf[i + 1] = y < 1.0 ? y : 1.0;
    }
    t->nx[TT_ZIG_LAYERS] = 0.0;
    t->nf[TT_ZIG_LAYERS] = 1.0;

    /* exponential, f(x) = exp(-x) */
    fr = tt_det_exp(-ZIG_EXP_R);
    t->ex[0] = ZIG_EXP_V / fr;
    t->ef[0] = 0.0;
    t->ex[1] = ZIG_EXP_R;
    t->ef[1] = fr;
    for (int i = 1; i < TT_ZIG_LAYERS - 1; i++) {
        double y = ZIG_EXP_V / t->ex[i] + t->ef[i];
        t->ex[i + 1] = y < 1.0 ? -tt_det_log(y) : 0.0;
        t->ef[i + 1] = y < 1.0 ? y : 1.0;
    }
    t->ex[TT_ZIG_LAYERS] = 0.0;
    t->ef[TT_ZIG_LAYERS] = 1.0;
}

double tt_random_uniform(tt_pcg64 *g)
{
    return (double)(tt_pcg64_next(g) >> 11) * 0x1.0p-53;
}

double tt_random_uniform_pos(tt_pcg64 *g)
{
    /* (k + 0.5) / 2^53: symmetric in (0, 1), never 0 or 1. */
    return ((double)(tt_pcg64_next(g) >> 11) + 0.5) * 0x1.0p-53;
}

double tt_random__normal_slow(tt_pcg64 *g, const tt_random_tables *t, int i, double z)
{
    if (i == 0) {
        /* tail beyond R: Marsaglia (1964) */
        double x, y;
        do {
            x = -tt_det_log(tt_random_uniform_pos(g)) / ZIG_NORM_R;
            y = -tt_det_log(tt_random_uniform_pos(g));
        } while (y + y < x * x);
        return ZIG_NORM_R + x;
    }
    double y = t->nf[i] + tt_random_uniform(g) * (t->nf[i + 1] - t->nf[i]);
    if (y < tt_det_exp(-0.5 * z * z))
        return z;
    return -1.0; /* rejected: the caller draws again */
}

void tt_random_normals(tt_pcg64 *g, const tt_random_tables *t, double *out, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = tt_random_normal(g, t);
}

double tt_random__exponential_slow(tt_pcg64 *g, const tt_random_tables *t, int i, double z)
{
    if (i == 0)
        return ZIG_EXP_R - tt_det_log(tt_random_uniform_pos(g)); /* memoryless tail */
    double y = t->ef[i] + tt_random_uniform(g) * (t->ef[i + 1] - t->ef[i]);
    if (y < tt_det_exp(-z))
        return z;
    return -1.0;
}

uint64_t tt_random_poisson(tt_pcg64 *g, const tt_random_tables *t, double mean)
{
    (void)t;
    if (!(mean > 0.0))
        return 0;
    if (mean < 10.0) {
        /* Count uniforms until their product falls below e^-mean. */
        double limit = tt_det_exp(-mean), p = 1.0;
        uint64_t k = 0;
        for (;;) {
            p *= tt_random_uniform(g);
            if (p <= limit)
                return k;
            k++;
        }
    }
    /* PTRS: Hoermann (1993), "The transformed rejection method for generating
     * Poisson random variables". */
    double slam = sqrt(mean), loglam = tt_det_log(mean);
    double b = 0.931 + 2.53 * slam;
    double a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4);
    double vr = 0.9277 - 3.6224 / (b - 2.0);
    for (;;) {
        double u = tt_random_uniform(g) - 0.5;
        double v = tt_random_uniform_pos(g);
        double us = 0.5 - fabs(u);
        double k = floor((2.0 * a / us + b) * u + mean + 0.43);
        if (us >= 0.07 && v <= vr)
            return (uint64_t)k;
        if (k < 0.0 || (us < 0.013 && v > us))
            continue;
        if (tt_det_log(v) + tt_det_log(invalpha) - tt_det_log(a / (us * us) + b) <=
            -mean + k * loglam - lgamma(k + 1.0))
            return (uint64_t)k;
    }
}

double tt_random_gamma(tt_pcg64 *g, const tt_random_tables *t, double shape, double scale)
{
    if (!(shape > 0.0) || !(scale > 0.0))
        return 0.0;
    if (shape < 1.0) {
        /* Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia and Tsang, section 6). */
        double x = tt_random_gamma(g, t, shape + 1.0, 1.0);
        return x * tt_det_exp(tt_det_log(tt_random_uniform_pos(g)) / shape) * scale;
    }
    double d = shape - 1.0 / 3.0;
    double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = tt_random_normal(g, t);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = tt_random_uniform_pos(g);
        double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2)
            return d * v * scale;
        if (tt_det_log(u) < 0.5 * x2 + d * (1.0 - v + tt_det_log(v)))
            return d * v * scale;
    }
}

double tt_random_lognormal(tt_pcg64 *g, const tt_random_tables *t, double mu, double sigma)
{
    return tt_det_exp(mu + sigma * tt_random_normal(g, t));
}

int tt_random_bernoulli(tt_pcg64 *g, double p)
{
    return tt_random_uniform(g) < p;
}
