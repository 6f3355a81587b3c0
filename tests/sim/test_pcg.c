/*
 * PCG against the reference: regenerate the full text of PCG's own check
 * programs (check-pcg32.out and check-pcg64.out from pcg-random.org, copied
 * into tests/data/pcg/) and compare byte for byte. That covers seeding, raw
 * outputs, advance(-6), bounded draws and a Fisher-Yates shuffle, for five
 * rounds each. Also: core's tt_rng is the same generator, named streams are
 * stable and distinct, advance is an inverse pair.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "sim/pcg.h"

typedef struct textbuf {
    char *p;
    size_t n, cap;
} textbuf;

static void tb_printf(textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(textbuf *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (t->n + (size_t)k + 1 > t->cap) {
        t->cap = (t->cap + (size_t)k + 1) * 2;
        t->p = realloc(t->p, t->cap);
        assert_non_null(t->p);
    }
    memcpy(t->p + t->n, tmp, (size_t)k + 1);
    t->n += (size_t)k;
}

static char *read_file(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pcg/%s", TT_TESTDATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    buf[sz] = 0;
    fclose(f);
    *len = (size_t)sz;
    return buf;
}

/* The deck part of a round, common to both widths: bounded is the generator's draw. */
typedef uint64_t (*bounded_fn)(void *g, uint64_t n);

static void play_round(textbuf *t, void *g, bounded_fn bounded)
{
    static const char number[] = "A23456789TJQK", suit[] = "hcds";
    tb_printf(t, "  Coins: ");
    for (int i = 0; i < 65; i++)
        tb_printf(t, "%c", bounded(g, 2) ? 'H' : 'T');
    tb_printf(t, "\n  Rolls:");
    for (int i = 0; i < 33; i++)
        tb_printf(t, " %d", (int)bounded(g, 6) + 1);
    int cards[52];
    for (int i = 0; i < 52; i++)
        cards[i] = i;
    for (int i = 52; i > 1; i--) {
        int chosen = (int)bounded(g, (uint64_t)i);
        int card = cards[chosen];
        cards[chosen] = cards[i - 1];
        cards[i - 1] = card;
    }
    tb_printf(t, "\n  Cards:");
    for (int i = 0; i < 52; i++) {
        tb_printf(t, " %c%c", number[cards[i] / 4], suit[cards[i] % 4]);
        if (i % 22 == 21)
            tb_printf(t, "\n\t");
    }
    tb_printf(t, "\n\n");
}

static uint64_t b32(void *g, uint64_t n) { return tt_pcg32_bounded(g, (uint32_t)n); }
static uint64_t b64(void *g, uint64_t n) { return tt_pcg64_bounded(g, n); }

static void test_pcg32_reference(void **state)
{
    (void)state;
    textbuf t = {0};
    tt_pcg32 g;
    tt_pcg32_seed(&g, 42u, 54u);
    tb_printf(&t, "pcg32_random_r:\n"
                  "      -  result:      32-bit unsigned int (uint32_t)\n"
                  "      -  period:      2^64   (* 2^63 streams)\n"
                  "      -  state type:  pcg32_random_t (16 bytes)\n"
                  "      -  output func: XSH-RR\n\n");
    for (int round = 1; round <= 5; round++) {
        tb_printf(&t, "Round %d:\n  32bit:", round);
        for (int i = 0; i < 6; i++)
            tb_printf(&t, " 0x%08x", tt_pcg32_next(&g));
        tt_pcg32_advance(&g, -6);
        tb_printf(&t, "\n  Again:");
        for (int i = 0; i < 6; i++)
            tb_printf(&t, " 0x%08x", tt_pcg32_next(&g));
        tb_printf(&t, "\n");
        play_round(&t, &g, b32);
    }
    size_t len;
    char *want = read_file("check-pcg32.out", &len);
    assert_int_equal(t.n, len);
    assert_memory_equal(t.p, want, len);
    free(want);
    free(t.p);
}

static void test_pcg64_reference(void **state)
{
    (void)state;
    textbuf t = {0};
    tt_pcg64 g;
    tt_pcg64_seed(&g, 42u, 54u);
    tb_printf(&t, "pcg64_random_r:\n"
                  "      -  result:      64-bit unsigned int (uint64_t)\n"
                  "      -  period:      2^128   (* 2^127 streams)\n"
                  "      -  state type:  pcg64_random_t (32 bytes)\n"
                  "      -  output func: XSL-RR\n\n");
    for (int round = 1; round <= 5; round++) {
        tb_printf(&t, "Round %d:\n  64bit:", round);
        for (int i = 0; i < 6; i++) {
            if (i > 0 && i % 3 == 0)
                tb_printf(&t, "\n\t");
            tb_printf(&t, " 0x%016llx", (unsigned long long)tt_pcg64_next(&g));
        }
        tt_pcg64_advance(&g, -6);
        tb_printf(&t, "\n  Again:");
        for (int i = 0; i < 6; i++) {
            if (i > 0 && i % 3 == 0)
                tb_printf(&t, "\n\t");
            tb_printf(&t, " 0x%016llx", (unsigned long long)tt_pcg64_next(&g));
        }
        tb_printf(&t, "\n");
        play_round(&t, &g, b64);
    }
    size_t len;
    char *want = read_file("check-pcg64.out", &len);
    assert_int_equal(t.n, len);
    assert_memory_equal(t.p, want, len);
    free(want);
    free(t.p);
}

static void test_core_rng_matches(void **state)
{
    (void)state;
    /* The first output of the reference pcg32 (42, 54) is 0xa15c02b7. */
    tt_rng r;
    tt_rng_seed(&r, 42u, 54u);
    assert_int_equal(tt_rng_next(&r), 0xa15c02b7u);
    /* advance forward then back returns to the same place, for large strides too */
    tt_rng a = r;
    tt_rng_advance(&a, 1000003);
    tt_rng_advance(&a, -1000003);
    assert_memory_equal(&a, &r, sizeof a);
    for (int i = 0; i < 1000; i++)
        (void)tt_rng_next(&a);
    tt_rng b = r;
    tt_rng_advance(&b, 1000);
    assert_int_equal(a.state, b.state);
    /* uniform is in [0,1), bounded is in range */
    for (int i = 0; i < 10000; i++) {
        double u = tt_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        assert_true(tt_rng_bounded(&r, 7) < 7);
    }
    assert_int_equal(tt_rng_bounded(&r, 0), 0);
}

static void test_named_streams(void **state)
{
    (void)state;
    /* Stable: the same name and seed always give the same numbers (values pinned
     * so a change to the derivation is noticed: it would change every run). */
    tt_pcg64 a = tt_rng_derive(7, "strategy");
    tt_pcg64 b = tt_rng_derive(7, "strategy");
    uint64_t first = tt_pcg64_next(&a);
    assert_int_equal(first, tt_pcg64_next(&b));
    assert_true(first == 0x34b991ff1199b626ULL);
    /* Distinct names, distinct seeds: different streams. */
    tt_pcg64 c = tt_rng_derive(7, "venue/slippage");
    tt_pcg64 d = tt_rng_derive(8, "strategy");
    assert_true(c.inc != a.inc);
    assert_true(tt_pcg64_next(&c) != first);
    assert_true(tt_pcg64_next(&d) != first);
    /* Similar names are far apart too. */
    assert_true(tt_rng_name_hash("synth/EURUSD") != tt_rng_name_hash("synth/EURUSE"));
    /* pcg32 derivation equals core's named seeding */
    tt_pcg32 p = tt_rng_derive32(7, "strategy");
    tt_rng q;
    tt_rng_seed_named(&q, 7, "strategy");
    uint32_t p1 = tt_pcg32_next(&p);
    assert_int_equal(p1, tt_rng_next(&q));
    assert_int_equal(p1, 0x5d088cecu);
    /* The FNV-1a of "" is 0xcbf29ce484222325; the hash is its SplitMix64 finish, never the raw value. */
    assert_true(tt_rng_name_hash("") == tt_rng_name_hash(NULL));
    /* pcg64 advance round trip */
    tt_pcg64 e = tt_rng_derive(1, "x"), f = e;
    tt_pcg64_advance(&e, 123456789);
    tt_pcg64_advance(&e, -123456789);
    assert_true(e.state == f.state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcg32_reference),
        cmocka_unit_test(test_pcg64_reference),
        cmocka_unit_test(test_core_rng_matches),
        cmocka_unit_test(test_named_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
