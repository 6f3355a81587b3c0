/*
 * ticktape: seeded random numbers for the core (strategies, components).
 *
 * The core may not include sim/, yet strategies need reproducible randomness.
 * This is a tiny, self-contained PCG32 (64-bit LCG state, XSH-RR output; the
 * same generator as sim/pcg.h's tt_pcg32, which wraps this one), seeded from a
 * (seed, stream) pair so that every component of a run draws from its own
 * stream derived from the scenario seed: adding a component never changes the
 * numbers another one sees.
 *
 *     tt_rng r;
 *     tt_rng_seed_named(&r, scenario_seed, "strategy");
 *     double u = tt_rng_uniform(&r);        // [0, 1)
 *     uint32_t k = tt_rng_bounded(&r, 6);   // 0..5, unbiased
 *
 * Plain data: copy it to fork a stream, store it to resume. No global state.
 * Nothing here allocates or can fail.
 */
#ifndef TT_RNG_H
#define TT_RNG_H

#include <stdint.h>

typedef struct tt_rng {
    uint64_t state;
    uint64_t inc; /* stream selector, always odd */
} tt_rng;

/* Seed with PCG's own procedure (pcg32_srandom_r): initstate and the stream id
 * initseq. Two different initseq values give independent streams. */
void tt_rng_seed(tt_rng *r, uint64_t initstate, uint64_t initseq);

/* A stable 64-bit hash of a component name (FNV-1a, then a SplitMix64 finish).
 * Same name, same value, on every machine and in every build. NULL hashes as "". */
uint64_t tt_rng_name_hash(const char *name);

/* Seed the stream of a named component of a run: both the state and the stream
 * id are derived from (scenario_seed, name), so "strategy" and "venue/slippage"
 * under one scenario seed draw independent numbers. */
void tt_rng_seed_named(tt_rng *r, uint64_t scenario_seed, const char *name);

/* The next 32 random bits. */
uint32_t tt_rng_next(tt_rng *r);

/* A uniform double in [0, 1) with 53 random bits (two 32-bit draws). */
double tt_rng_uniform(tt_rng *r);

/* A uniform integer in [0, bound), unbiased (rejection below (-bound) % bound,
 * as PCG's reference does). bound 0 returns 0 without drawing. */
uint32_t tt_rng_bounded(tt_rng *r, uint32_t bound);

/* Move the stream by delta steps (negative goes back), in O(log |delta|). */
void tt_rng_advance(tt_rng *r, int64_t delta);

#endif
