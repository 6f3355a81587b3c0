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
 * The tables use exp, log and sqrt once, at setup. The constants R and V are
 * the 256-layer solutions published with the method; they only need to be
 * consistent, not exact, because the wedge and tail tests are exact for any
 * table that covers the density.
 */
#include "random.h"

#include <math.h>

#define ZIG_NORM_R 3.6541528853610088
#define ZIG_NORM_V 0.00492867323399
#define ZIG_EXP_R 7.69711747013104972
#define ZIG_EXP_V 0.0039496598225815571993

void tt_random_tables_init(tt_random_tables *t)
{
    /* normal, f(x) = exp(-x^2 / 2) */
    double fr = exp(-0.5 * ZIG_NORM_R * ZIG_NORM_R);
    t->nx[0] = ZIG_NORM_V / fr;
    t->nf[0] = 0.0;
    t->nx[1] = ZIG_NORM_R;
    t->nf[1] = fr;
    for (int i = 1; i < TT_ZIG_LAYERS - 1; i++) {
        double y = ZIG_NORM_V / t->nx[i] + t->nf[i];
        t->nx[i + 1] = y < 1.0 ? sqrt(-2.0 * log(y)) : 0.0;
        t->nf[i + 1] = y < 1.0 ? y : 1.0;
    }
    t->nx[TT_ZIG_LAYERS] = 0.0;
    t->nf[TT_ZIG_LAYERS] = 1.0;

    /* exponential, f(x) = exp(-x) */
    fr = exp(-ZIG_EXP_R);
    t->ex[0] = ZIG_EXP_V / fr;
    t->ef[0] = 0.0;
    t->ex[1] = ZIG_EXP_R;
    t->ef[1] = fr;
    for (int i = 1; i < TT_ZIG_LAYERS - 1; i++) {
        double y = ZIG_EXP_V / t->ex[i] + t->ef[i];
        t->ex[i + 1] = y < 1.0 ? -log(y) : 0.0;
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

static double normal_slow(tt_pcg64 *g, const tt_random_tables *t, int i, double z)
{
    if (i == 0) {
        /* tail beyond R: Marsaglia (1964) */
        double x, y;
        do {
            x = -log(tt_random_uniform_pos(g)) / ZIG_NORM_R;
            y = -log(tt_random_uniform_pos(g));
        } while (y + y < x * x);
        return ZIG_NORM_R + x;
    }
    double y = t->nf[i] + tt_random_uniform(g) * (t->nf[i + 1] - t->nf[i]);
    if (y < exp(-0.5 * z * z))
        return z;
    return -1.0; /* rejected: caller draws again */
}

double tt_random_normal(tt_pcg64 *g, const tt_random_tables *t)
{
    for (;;) {
        uint64_t b = tt_pcg64_next(g);
        int i = (int)(b & 0xff);
        double u = (double)(b >> 11) * 0x1.0p-53;
        double z = u * t->nx[i];
        if (z >= t->nx[i + 1]) {
            z = normal_slow(g, t, i, z);
            if (z < 0.0)
                continue;
        }
        return (b & 0x100) ? -z : z;
    }
}

void tt_random_normals(tt_pcg64 *g, const tt_random_tables *t, double *out, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = tt_random_normal(g, t);
}

double tt_random_exponential(tt_pcg64 *g, const tt_random_tables *t)
{
    for (;;) {
        uint64_t b = tt_pcg64_next(g);
        int i = (int)(b & 0xff);
        double u = (double)(b >> 11) * 0x1.0p-53;
        double z = u * t->ex[i];
        if (z < t->ex[i + 1])
            return z;
        if (i == 0)
            return ZIG_EXP_R - log(tt_random_uniform_pos(g));
        double y = t->ef[i] + tt_random_uniform(g) * (t->ef[i + 1] - t->ef[i]);
        if (y < exp(-z))
            return z;
    }
}

uint64_t tt_random_poisson(tt_pcg64 *g, const tt_random_tables *t, double mean)
{
    (void)t;
    if (!(mean > 0.0))
        return 0;
    if (mean < 10.0) {
        /* Count uniforms until their product falls below e^-mean. */
        double limit = exp(-mean), p = 1.0;
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
    double slam = sqrt(mean), loglam = log(mean);
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
        if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -mean + k * loglam - lgamma(k + 1.0))
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
        return x * pow(tt_random_uniform_pos(g), 1.0 / shape) * scale;
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
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v)))
            return d * v * scale;
    }
}

double tt_random_lognormal(tt_pcg64 *g, const tt_random_tables *t, double mu, double sigma)
{
    return exp(mu + sigma * tt_random_normal(g, t));
}

int tt_random_bernoulli(tt_pcg64 *g, double p)
{
    return tt_random_uniform(g) < p;
}
