/*
 * ticktape: PCG random number generators (pcg-random.org), for simulation.
 *
 * Two members of the family, bit-compatible with the reference C library:
 *   - tt_pcg32: 64-bit LCG state, XSH-RR output, 32-bit results
 *     (pcg32_random_r; the same generator as core/rng.h's tt_rng);
 *   - tt_pcg64: 128-bit LCG state, XSL-RR output, 64-bit results
 *     (pcg64_random_r / pcg_setseq_128_xsl_rr_64).
 * Both reproduce the reference outputs in tests/data/pcg/ exactly (raw
 * outputs, advance(-6), bounded draws, the card shuffle).
 *
 * Every component of a run draws from its own stream derived from the
 * scenario seed by name (tt_rng_derive): the strategy ("strategy"), the
 * venue's slippage ("venue/slippage"), each synthetic symbol ("synth/EURUSD"),
 * ... Adding a component does not change another component's numbers.
 *
 * Plain data, no global state: copy a generator to fork it. Nothing here
 * allocates or can fail.
 */
#ifndef TT_PCG_H
#define TT_PCG_H

#include <stdint.h>

#include "../core/rng.h"

/* 128-bit arithmetic (gcc and clang on 64-bit targets). */
__extension__ typedef unsigned __int128 tt_u128;

/* Build a 128-bit constant from its high and low halves. */
static inline tt_u128 tt_u128_make(uint64_t hi, uint64_t lo)
{
    return ((tt_u128)hi << 64) | lo;
}

/* ---- pcg32 ---- */

typedef tt_rng tt_pcg32;

/* Seed (pcg32_srandom_r): initstate picks the start, initseq the stream. */
void tt_pcg32_seed(tt_pcg32 *g, uint64_t initstate, uint64_t initseq);
/* The next 32-bit output. */
uint32_t tt_pcg32_next(tt_pcg32 *g);
/* Jump by delta steps; negative goes back (delta is taken modulo 2^64). */
void tt_pcg32_advance(tt_pcg32 *g, int64_t delta);
/* Unbiased integer in [0, bound) (the reference's rejection rule). bound 0 returns 0. */
uint32_t tt_pcg32_bounded(tt_pcg32 *g, uint32_t bound);

/* ---- pcg64 ---- */

typedef struct tt_pcg64 {
    tt_u128 state;
    tt_u128 inc; /* stream selector, always odd */
} tt_pcg64;

#define TT_PCG64_MULT_HI 2549297995355413924ULL
#define TT_PCG64_MULT_LO 4865540595714422341ULL

/* Seed (pcg64_srandom_r): initstate picks the start, initseq the stream. */
void tt_pcg64_seed(tt_pcg64 *g, tt_u128 initstate, tt_u128 initseq);

/* The next 64-bit output: step the LCG, then XSL-RR on the new state (inline:
 * it is on every hot path of the simulation). */
static inline uint64_t tt_pcg64_next(tt_pcg64 *g)
{
    g->state = g->state * tt_u128_make(TT_PCG64_MULT_HI, TT_PCG64_MULT_LO) + g->inc;
    uint64_t x = (uint64_t)(g->state >> 64) ^ (uint64_t)g->state;
    unsigned rot = (unsigned)(g->state >> 122);
    return (x >> rot) | (x << ((-rot) & 63u));
}
/* Jump by delta steps; negative goes back (delta is sign-extended to 128 bits). */
void tt_pcg64_advance(tt_pcg64 *g, int64_t delta);
/* Unbiased integer in [0, bound) (the reference's rejection rule). bound 0 returns 0. */
uint64_t tt_pcg64_bounded(tt_pcg64 *g, uint64_t bound);
/* A uniform double in [0, 1): the top 53 bits of one output, times 2^-53. */
static inline double tt_pcg64_uniform(tt_pcg64 *g)
{
    return (double)(tt_pcg64_next(g) >> 11) * 0x1.0p-53;
}

/* The stream of a named component of a run, derived from the scenario seed:
 * state and stream id both come from (scenario_seed, tt_rng_name_hash(name)).
 * Stable across machines and builds; documented in docs/synthetic.md. */
tt_pcg64 tt_rng_derive(uint64_t scenario_seed, const char *component_name);

/* The same derivation for a pcg32 stream (equal to core's tt_rng_seed_named). */
tt_pcg32 tt_rng_derive32(uint64_t scenario_seed, const char *component_name);

#endif
