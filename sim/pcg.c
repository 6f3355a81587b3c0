/*
 * PCG generators for simulation (see pcg.h).
 *
 * pcg32 is core's tt_rng. pcg64 is the 128-bit-state member with the XSL-RR
 * output (xor the two halves of the state, rotate by its top six bits). As in
 * the reference library, the 128-bit generator steps first and then permutes
 * the new state (the 64-bit one permutes the old state); seeding, advance and
 * the bounded draw follow the reference's procedures, so tests/data/pcg/
 * check-pcg64.out is reproduced exactly.
 *
 * Derivation of named streams: the same hash of the component name as
 * core/rng.c; the scenario seed mixed with the hash gives the initial state,
 * the hash (widened to 128 bits with a second mix) the stream.
 */
#include "pcg.h"


void tt_pcg32_seed(tt_pcg32 *g, uint64_t initstate, uint64_t initseq)
{
    tt_rng_seed(g, initstate, initseq);
}

uint32_t tt_pcg32_next(tt_pcg32 *g) { return tt_rng_next(g); }

void tt_pcg32_advance(tt_pcg32 *g, int64_t delta) { tt_rng_advance(g, delta); }

uint32_t tt_pcg32_bounded(tt_pcg32 *g, uint32_t bound) { return tt_rng_bounded(g, bound); }

static inline void pcg64_step(tt_pcg64 *g)
{
    g->state = g->state * tt_u128_make(TT_PCG64_MULT_HI, TT_PCG64_MULT_LO) + g->inc;
}

void tt_pcg64_seed(tt_pcg64 *g, tt_u128 initstate, tt_u128 initseq)
{
    g->state = 0;
    g->inc = (initseq << 1) | 1u;
    pcg64_step(g);
    g->state += initstate;
    pcg64_step(g);
}

void tt_pcg64_advance(tt_pcg64 *g, int64_t delta)
{
    tt_u128 d = (tt_u128)(__extension__(__int128)delta); /* sign-extend: -6 = 2^128 - 6 */
    tt_u128 cur_mult = tt_u128_make(TT_PCG64_MULT_HI, TT_PCG64_MULT_LO), cur_plus = g->inc;
    tt_u128 acc_mult = 1, acc_plus = 0;
    while (d > 0) {
        if (d & 1) {
            acc_mult *= cur_mult;
            acc_plus = acc_plus * cur_mult + cur_plus;
        }
        cur_plus = (cur_mult + 1) * cur_plus;
        cur_mult *= cur_mult;
        d >>= 1;
    }
    g->state = acc_mult * g->state + acc_plus;
}

uint64_t tt_pcg64_bounded(tt_pcg64 *g, uint64_t bound)
{
    if (bound == 0)
        return 0;
    uint64_t threshold = (0u - bound) % bound;
    for (;;) {
        uint64_t v = tt_pcg64_next(g);
        if (v >= threshold)
            return v % bound;
    }
}

static uint64_t mix64(uint64_t z)
{
    z ^= z >> 33;
    z *= 0xff51afd7ed558ccdULL;
    z ^= z >> 33;
    z *= 0xc4ceb9fe1a85ec53ULL;
    return z ^ (z >> 33);
}

tt_pcg64 tt_rng_derive(uint64_t scenario_seed, const char *component_name)
{
    uint64_t h = tt_rng_name_hash(component_name);
    tt_pcg64 g;
    tt_pcg64_seed(&g, tt_u128_make(mix64(scenario_seed ^ h), scenario_seed),
                  tt_u128_make(mix64(h + 0x9e3779b97f4a7c15ULL), h));
    return g;
}

tt_pcg32 tt_rng_derive32(uint64_t scenario_seed, const char *component_name)
{
    tt_pcg32 g;
    tt_rng_seed_named(&g, scenario_seed, component_name);
    return g;
}
