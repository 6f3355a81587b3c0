/*
 * ticktape: random variates for the price models, drawn from tt_pcg64 streams.
 *
 * Deterministic across runs and machines: the draws use only + - * / and sqrt
 * (correctly rounded by IEEE 754) on the fast paths; log, exp and lgamma
 * (glibc's libm, deterministic for a given build) appear only in table setup,
 * tails and rejection tests. Nothing depends on floating-point contraction
 * (it is disabled globally).
 *
 * Normal and exponential variates use 256-layer ziggurats (Marsaglia and Tsang)
 * whose tables live in a tt_random_tables the caller owns and fills once with
 * tt_random_tables_init (no global state). One 64-bit output feeds both the
 * layer choice and the 53-bit uniform, so the common case costs one draw, one
 * multiply and one compare.
 */
#ifndef TT_RANDOM_H
#define TT_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "pcg.h"

#define TT_ZIG_LAYERS 256

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

/* Standard normal N(0, 1). */
double tt_random_normal(tt_pcg64 *g, const tt_random_tables *t);

/* n standard normals into out (the batch form used on hot paths). */
void tt_random_normals(tt_pcg64 *g, const tt_random_tables *t, double *out, size_t n);

/* Standard exponential, mean 1. */
double tt_random_exponential(tt_pcg64 *g, const tt_random_tables *t);

/* Poisson with the given mean (>= 0; 0 gives 0): multiplication of uniforms
 * below mean 10, Hoermann's transformed rejection (PTRS) above. */
uint64_t tt_random_poisson(tt_pcg64 *g, const tt_random_tables *t, double mean);

/* Gamma(shape, scale), shape > 0, scale > 0: Marsaglia and Tsang's method;
 * for shape < 1, Gamma(shape + 1) * U^(1/shape). Mean shape * scale. */
double tt_random_gamma(tt_pcg64 *g, const tt_random_tables *t, double shape, double scale);

/* Log-normal: exp(mu + sigma N(0, 1)). */
double tt_random_lognormal(tt_pcg64 *g, const tt_random_tables *t, double mu, double sigma);

/* 1 with probability p, else 0. */
int tt_random_bernoulli(tt_pcg64 *g, double p);

#endif
