/*
 * ticktape: random variates for the price models, drawn from tt_pcg64 streams.
 *
 * Deterministic across runs and machines: everything here uses only + - * /,
 * sqrt (correctly rounded by IEEE 754) and exact operations (floor, frexp,
 * ldexp), including the exp and log below (tt_det_exp, tt_det_log), written
 * for this reason: glibc picks its exp/log implementation by CPU (FMA or
 * not) at load time, so its last bit may differ between machines running
 * the same binary. The one exception is tt_random_poisson above mean 10
 * (lgamma from libm); the synthetic markets do not use it. Nothing depends on
 * floating-point contraction (disabled globally).
 *
 * Normal and exponential variates use 256-layer ziggurats (Marsaglia and Tsang)
 * whose tables live in a tt_random_tables the caller owns and fills once with
 * tt_random_tables_init (no global state). Nothing here allocates or can fail:
 * a parameter out of its domain gives the value stated at the function. One 64-bit output feeds both the
 * layer choice and the 53-bit uniform, so the common case costs one draw, one
 * multiply and one compare.
 */
#ifndef TT_RANDOM_H
#define TT_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "pcg.h"

#define TT_ZIG_LAYERS 256

/* e^x, within 1 ulp, identical on every IEEE 754 machine. Overflows to
 * +inf above 709.78, 0 below -745.1; NaN gives NaN. */
double tt_det_exp(double x);

/* e^x - 1, accurate near 0 as well (Taylor series below |x| = 1/2). */
double tt_det_expm1(double x);

/* Natural log, within 1 ulp, identical on every machine. x <= 0 gives -inf
 * for 0 and NaN below 0. */
double tt_det_log(double x);

typedef struct tt_random_tables {
    /* normal: layer edges x[0..256] (x[0] is the base layer's width, x[256] = 0),
     * f = exp(-x^2/2) at those edges */
    double nx[TT_ZIG_LAYERS + 1];
    double nf[TT_ZIG_LAYERS + 1];
    /* exponential: the same for f = exp(-x) */
    double ex[TT_ZIG_LAYERS + 1];
    double ef[TT_ZIG_LAYERS + 1];
} tt_random_tables;

/* Fill the ziggurat tables (about 8 KiB). Same values on every call. */
void tt_random_tables_init(tt_random_tables *t);

/* Uniform in [0, 1), 53 bits. */
double tt_random_uniform(tt_pcg64 *g);

/* Uniform in (0, 1), never 0 (safe under log). */
double tt_random_uniform_pos(tt_pcg64 *g);

/* The rare paths of the ziggurats (tail and wedge), out of line. They return
 * the variate, or a negative number when the candidate z is rejected. */
double tt_random__normal_slow(tt_pcg64 *g, const tt_random_tables *t, int layer, double z);
double tt_random__exponential_slow(tt_pcg64 *g, const tt_random_tables *t, int layer, double z);

/* Standard normal N(0, 1). Inline: one 64-bit draw, one multiply, one
 * compare in about 99% of calls. */
static inline double tt_random_normal(tt_pcg64 *g, const tt_random_tables *t)
{
    for (;;) {
        uint64_t b = tt_pcg64_next(g);
        int i = (int)(b & 0xff);
        double z = (double)(b >> 11) * 0x1.0p-53 * t->nx[i];
        if (z >= t->nx[i + 1]) {
            z = tt_random__normal_slow(g, t, i, z);
            if (z < 0.0)
                continue;
        }
        return (b & 0x100) ? -z : z;
    }
}

/* n standard normals into out (the batch form used on hot paths). */
void tt_random_normals(tt_pcg64 *g, const tt_random_tables *t, double *out, size_t n);

/* Standard exponential, mean 1 (inline like tt_random_normal). */
static inline double tt_random_exponential(tt_pcg64 *g, const tt_random_tables *t)
{
    for (;;) {
        uint64_t b = tt_pcg64_next(g);
        int i = (int)(b & 0xff);
        double z = (double)(b >> 11) * 0x1.0p-53 * t->ex[i];
        if (z < t->ex[i + 1])
            return z;
        z = tt_random__exponential_slow(g, t, i, z);
        if (z >= 0.0)
            return z;
    }
}

/* Poisson with the given mean (>= 0; 0 gives 0): multiplication of uniforms
 * below mean 10, Hoermann's transformed rejection (PTRS) above. 0 for a mean
 * that is not > 0 (NaN too). */
uint64_t tt_random_poisson(tt_pcg64 *g, const tt_random_tables *t, double mean);

/* Gamma(shape, scale), shape > 0, scale > 0: Marsaglia and Tsang's method;
 * for shape < 1, Gamma(shape + 1) * U^(1/shape). Mean shape * scale. 0 when
 * shape or scale is not > 0 (NaN too). */
double tt_random_gamma(tt_pcg64 *g, const tt_random_tables *t, double shape, double scale);

/* Log-normal: exp(mu + sigma N(0, 1)). */
double tt_random_lognormal(tt_pcg64 *g, const tt_random_tables *t, double mu, double sigma);

/* 1 with probability p, else 0. */
int tt_random_bernoulli(tt_pcg64 *g, double p);

#endif
