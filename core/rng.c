/*
 * PCG32 for the core (see rng.h).
 *
 * A 64-bit linear congruential generator whose output is permuted by XSH-RR
 * (xorshift high bits, then a data-dependent rotation), exactly as
 * pcg32_random_r in PCG's reference C library, so sim/pcg.c can use this as
 * its tt_pcg32 and the reference outputs in tests/data/pcg/ check both.
 *
 * Named streams: a component name is hashed with FNV-1a (byte order fixed, no
 * locale) and finished with SplitMix64 so that similar names ("synth/EURUSD",
 * "synth/EURUSE") land far apart. The scenario seed and the hash are mixed
 * into the initial state, and the hash alone selects the LCG increment, so
 * two components never share a sequence offset by a few steps.
 */
#include "rng.h"

#define PCG32_MULT 6364136223846793005ULL

static uint64_t splitmix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void tt_rng_seed(tt_rng *r, uint64_t initstate, uint64_t initseq)
{
    r->state = 0;
    r->inc = (initseq << 1) | 1u;
    (void)tt_rng_next(r);
    r->state += initstate;
    (void)tt_rng_next(r);
}

uint64_t tt_rng_name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    if (name) {
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
            h ^= *p;
            h *= 0x100000001b3ULL;
        }
    }
    return splitmix64(h);
}

void tt_rng_seed_named(tt_rng *r, uint64_t scenario_seed, const char *name)
{
    uint64_t h = tt_rng_name_hash(name);
    tt_rng_seed(r, splitmix64(scenario_seed ^ h), h);
}

uint32_t tt_rng_next(tt_rng *r)
{
    uint64_t old = r->state;
    r->state = old * PCG32_MULT + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

double tt_rng_uniform(tt_rng *r)
{
    uint64_t hi = tt_rng_next(r) >> 5; /* 27 bits */
    uint64_t lo = tt_rng_next(r) >> 6; /* 26 bits */
    return (double)((hi << 26) | lo) * 0x1.0p-53;
}

uint32_t tt_rng_bounded(tt_rng *r, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* 2^32 mod bound values at the bottom would make small results likelier. */
    uint32_t threshold = (0u - bound) % bound;
    for (;;) {
        uint32_t v = tt_rng_next(r);
        if (v >= threshold)
            return v % bound;
    }
}

void tt_rng_advance(tt_rng *r, int64_t delta)
{
    /* Brown's "arbitrary stride" jump: compose the LCG with itself by squaring.
     * A negative delta is the same as 2^64 - |delta| steps forward (the period). */
    uint64_t d = (uint64_t)delta;
    uint64_t cur_mult = PCG32_MULT, cur_plus = r->inc;
    uint64_t acc_mult = 1, acc_plus = 0;
    while (d > 0) {
        if (d & 1) {
            acc_mult *= cur_mult;
            acc_plus = acc_plus * cur_mult + cur_plus;
        }
        cur_plus = (cur_mult + 1) * cur_plus;
        cur_mult *= cur_mult;
        d >>= 1;
    }
    r->state = acc_mult * r->state + acc_plus;
}
