/*
 * The consolidator (core/consolidate.h) on scripted inputs, every expected
 * output worked by hand in the comments:
 *   best      the best bid and ask across sources with their masks; an
 *             identical tick from another source counts once; a cross between
 *             sources is reported once and never passed on;
 *   priority  failover when the primary goes stale, exactly at the first
 *             quote of another source past the timeout; fail-back only after
 *             the hysteresis (time and quotes), then the primary again;
 *   spike     a source far from the consensus is quarantined, its quotes are
 *             never merged, and it comes back after the hysteresis;
 *   median    odd and even counts, the rounding that never narrows the
 *             spread, the masks;
 *   set       quotes of one time taken together: identical feeds that jump
 *             never cross nor quarantine each other;
 *   rules     a too-wide spread and a slow rate degrade; a crossed own quote
 *             is not used; errors;
 *   property  on random inputs with random faults, two runs give the same
 *             outputs, no merged quote is ever crossed, and every merged side
 *             comes from a source that was eligible at that moment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/consolidate.h"
#include "core/rng.h"

#define MS TT_NS_PER_MS
#define SEC TT_NS_PER_SEC
#define T0 ((tt_ts)1549000000 * SEC)
#define EU 1

typedef struct out {
    tt_consol_quote q[4096];
    int nq;
    tt_consol_event e[1024];
    int ne;
} out;

static void on_q(void *ctx, const tt_consol_quote *q)
{
    out *o = ctx;
    if (o->nq < 4096)
        o->q[o->nq++] = *q;
}

static void on_e(void *ctx, const tt_consol_event *e)
{
    out *o = ctx;
    if (o->ne < 1024)
        o->e[o->ne++] = *e;
}

static tt_consolidator *make(int policy, int n, out *o)
{
    tt_consol_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.policy = policy;
    cfg.nsources = n;
    cfg.stale = 500 * MS;
    cfg.recover = 1 * SEC;
    cfg.recover_ticks = 3;
    tt_consolidator *c;
    tt_err err;
    assert_int_equal(tt_consolidator_new(&c, &cfg, &err), TT_OK);
    memset(o, 0, sizeof *o);
    tt_consolidator_listen(c, on_q, on_e, o);
    return c;
}

static int push(tt_consolidator *c, int s, tt_ts t, tt_price bid, tt_price ask)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = t;
    ev.ts_init = t;
    ev.kind = TT_EV_QUOTE;
    ev.cls = TT_CLS_MARKET;
    ev.symbol = EU;
    ev.u.quote.bid = bid;
    ev.u.quote.ask = ask;
    ev.u.quote.bid_vol = (float)(s + 1);
    ev.u.quote.ask_vol = (float)(s + 1);
    tt_err err;
    int rc = tt_consolidator_push(c, s, &ev, &err);
    assert_true(rc >= 0);
    return rc;
}

static int state_of(tt_consolidator *c, int s)
{
    tt_feed_health h;
    assert_int_equal(tt_consolidator_health(c, EU, s, &h), TT_OK);
    return h.state;
}

static void test_best(void **state)
{
    (void)state;
    out o;
    tt_consolidator *c = make(TT_POLICY_BEST, 3, &o);
    assert_int_equal(push(c, 0, T0, 100, 110), 1);           /* A alone: 100/110 */
    assert_int_equal(push(c, 1, T0 + 1 * MS, 102, 112), 1);  /* bid 102 (B), ask 110 (A) */
    assert_true(o.q[1].q.bid == 102 && o.q[1].q.ask == 110);
    assert_int_equal(o.q[1].bid_from, 2u);
    assert_int_equal(o.q[1].ask_from, 1u);
    assert_true(o.q[1].q.bid_vol == 2 && o.q[1].q.ask_vol == 1); /* each side's source */
    assert_int_equal(push(c, 2, T0 + 2 * MS, 101, 109), 1); /* ask 109 (C) */
    assert_true(o.q[2].q.bid == 102 && o.q[2].q.ask == 109);
    assert_int_equal(o.q[2].ask_from, 4u);
    /* A sends what C has: no change of the best, nothing out; counted as a duplicate */
    assert_int_equal(push(c, 0, T0 + 3 * MS, 101, 109), 0);
    tt_feed_health h;
    tt_consolidator_health(c, EU, 0, &h);
    assert_int_equal(h.duplicates, 1);
    /* B improves the bid to 103 and the ask to 109: the ask is A's and C's and B's */
    assert_int_equal(push(c, 1, T0 + 4 * MS, 103, 109), 1);
    assert_int_equal(o.q[3].ask_from, 7u);
    /* B's bid 109 against A's and C's ask 109: crossed (locked) -> reported once, and the
     * merged quote is A's own 101/109, never 109/109 */
    int nq = o.nq, ne = o.ne;
    push(c, 1, T0 + 5 * MS, 109, 111);
    assert_int_equal(o.ne, ne + 1);
    assert_int_equal(o.e[ne].kind, TT_CONSOL_CROSS);
    assert_true(o.e[ne].value == 0); /* bid - ask */
    assert_int_equal(o.nq, nq + 1);
    assert_true(o.q[nq].q.bid == 101 && o.q[nq].q.ask == 109 && o.q[nq].crossed);
    assert_int_equal(o.q[nq].bid_from, 1u);
    push(c, 1, T0 + 6 * MS, 110, 112); /* still crossed: no second report */
    assert_int_equal(o.ne, ne + 1);
    push(c, 1, T0 + 7 * MS, 105, 112); /* uncrossed: best 105/109 */
    assert_true(o.q[o.nq - 1].q.bid == 105 && o.q[o.nq - 1].q.ask == 109 &&
                !o.q[o.nq - 1].crossed);
    for (int i = 0; i < o.nq; i++)
        assert_true(o.q[i].q.bid < o.q[i].q.ask);
    tt_consolidator_free(c);
}

static void test_priority_failover(void **state)
{
    (void)state;
    out o;
    tt_consolidator *c = make(TT_POLICY_PRIORITY, 2, &o);
    /* A (primary) and B tick every 100 ms, B 50 ms after A; A quotes 100/110, B 101/111 */
    tt_ts t = T0;
    for (int i = 0; i < 10; i++, t += 100 * MS) {
        push(c, 0, t, 100 + i, 110 + i);
        push(c, 1, t + 50 * MS, 101 + i, 111 + i);
    }
    /* outputs are A's only: ten of them */
    assert_int_equal(o.nq, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(o.q[i].bid_from, 1u);
    assert_int_equal(tt_consolidator_chosen(c, EU), 0);
    /* A's last quote at T0 + 900 ms. A goes silent; B goes on every 100 ms. At T0 + 1450
     * B is 550 ms after A's last: more than 500, so A is stale there (not at 1350: 450). */
    tt_ts a_last = T0 + 900 * MS;
    int ne = o.ne;
    for (t = T0 + 950 * MS; t <= T0 + 1350 * MS; t += 100 * MS)
        push(c, 1, t, 200, 210);
    assert_int_equal(o.ne, ne);
    assert_int_equal(state_of(c, 0), TT_FEED_UP);
    push(c, 1, T0 + 1450 * MS, 201, 211);
    assert_int_equal(state_of(c, 0), TT_FEED_DOWN);
    assert_int_equal(o.ne, ne + 2);
    assert_int_equal(o.e[ne].kind, TT_CONSOL_STATE);
    assert_int_equal(o.e[ne].reason, TT_FEED_STALE);
    assert_true(o.e[ne].value == 0.55);
    assert_int_equal(o.e[ne + 1].kind, TT_CONSOL_FAILOVER);
    assert_int_equal(o.e[ne + 1].source, 1);
    assert_int_equal(o.e[ne + 1].previous, 0);
    assert_int_equal(o.e[ne + 1].reason, TT_FEED_STALE);
    assert_true(o.e[ne + 1].ts - a_last <= 500 * MS + 100 * MS); /* timeout + B's interval */
    assert_true(o.q[o.nq - 1].q.bid == 201 && o.q[o.nq - 1].bid_from == 2u);
    /* B goes on alone to 1950 ms */
    for (t = T0 + 1550 * MS; t <= T0 + 1950 * MS; t += 100 * MS)
        push(c, 1, t, 202, 212);
    /* A returns at 2000 ms, every 100 ms: good quotes from 2000; the hysteresis needs 1 s
     * and 3 quotes, so A is UP again at its quote of 3000 ms, not before */
    ne = o.ne;
    for (t = T0 + 2000 * MS; t <= T0 + 3200 * MS; t += 100 * MS) {
        push(c, 0, t, 300, 310);
        push(c, 1, t + 50 * MS, 301, 311);
        if (t < T0 + 3000 * MS) {
            assert_int_equal(state_of(c, 0), TT_FEED_DOWN);
            assert_int_equal(tt_consolidator_chosen(c, EU), 1);
        }
    }
    assert_int_equal(o.e[ne].kind, TT_CONSOL_STATE); /* DOWN -> UP */
    assert_int_equal(o.e[ne].to_state, TT_FEED_UP);
    assert_true(o.e[ne].ts == T0 + 3000 * MS);
    assert_int_equal(o.e[ne + 1].kind, TT_CONSOL_FAILBACK);
    assert_int_equal(o.e[ne + 1].source, 0);
    assert_int_equal(o.e[ne + 1].previous, 1);
    assert_true(o.e[ne + 1].ts == T0 + 3000 * MS);
    assert_int_equal(tt_consolidator_chosen(c, EU), 0);
    /* JSON of the events */
    const char *names[2] = {"ic", "pepper"};
    char buf[512];
    assert_true(tt_consol_event_json(&o.e[ne + 1], names, "EURUSD", buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"event\":\"failback\""));
    assert_non_null(strstr(buf, "\"from\":\"pepper\",\"to\":\"ic\""));
    tt_consolidator_free(c);
}

static void test_spike_quarantined(void **state)
{
    (void)state;
    out o;
    tt_consolidator *c = make(TT_POLICY_BEST, 3, &o);
    tt_ts t = T0;
    /* three sources around 1000/1002 (spread 2) */
    for (int i = 0; i < 5; i++, t += 30 * MS) {
        push(c, 0, t, 1000, 1002);
        push(c, 1, t + 10 * MS, 1000, 1002);
        push(c, 2, t + 20 * MS, 1000, 1002);
    }
    /* C spikes: bid 1100, 50 spreads away (> 10): quarantined; a best bid of 1100 would
     * have gone out */
    int nq = o.nq, ne = o.ne;
    push(c, 2, t, 1100, 1102);
    assert_int_equal(state_of(c, 2), TT_FEED_DOWN);
    assert_int_equal(o.ne, ne + 1);
    assert_int_equal(o.e[ne].reason, TT_FEED_DEVIATION);
    assert_true(o.e[ne].value == 50);
    assert_int_equal(o.nq, nq);
    /* 20 spreads: still out */
    push(c, 2, t + 1 * MS, 1040, 1042);
    assert_int_equal(o.nq, nq);
    tt_feed_health h;
    tt_consolidator_health(c, EU, 2, &h);
    assert_int_equal(h.rejected, 2);
    /* back to normal (ask 1001 would be the best ask): not merged during the hysteresis */
    for (int i = 0; i < 20; i++) {
        t += 100 * MS;
        push(c, 0, t, 1000, 1002);
        push(c, 1, t + 10 * MS, 1000, 1002);
        push(c, 2, t + 20 * MS, 1000, 1001);
        for (int k = 0; k < o.nq; k++)
            assert_true(o.q[k].q.bid < 1003); /* the spike never passed */
    }
    assert_int_equal(state_of(c, 2), TT_FEED_UP);
    assert_true(o.q[o.nq - 1].q.ask == 1001 && o.q[o.nq - 1].ask_from == 4u);
    /* with two sources, no majority: no quarantine by deviation */
    tt_consolidator_free(c);
    c = make(TT_POLICY_BEST, 2, &o);
    push(c, 0, T0, 1000, 1002);
    push(c, 1, T0 + 1, 1100, 1102);
    assert_int_equal(state_of(c, 1), TT_FEED_UP);
    tt_consolidator_free(c);
}

static void test_median(void **state)
{
    (void)state;
    out o;
    tt_consolidator *c = make(TT_POLICY_MEDIAN, 4, &o);
    push(c, 0, T0, 100, 104);
    push(c, 1, T0 + 1, 101, 105);
    push(c, 2, T0 + 2, 103, 106);
    /* three: bids 100 101 103 -> 101 (B); asks 104 105 106 -> 105 (B) */
    assert_true(o.q[o.nq - 1].q.bid == 101 && o.q[o.nq - 1].q.ask == 105);
    assert_int_equal(o.q[o.nq - 1].bid_from, 2u);
    /* four: bids 100 101 103 104 -> (101+103)/2 = 102; asks 104 105 106 107 -> 105.5 up 106 */
    push(c, 3, T0 + 3, 104, 107);
    assert_true(o.q[o.nq - 1].q.bid == 102 && o.q[o.nq - 1].q.ask == 106);
    assert_int_equal(o.q[o.nq - 1].bid_from, 2u | 4u); /* the two middle bids: B, C */
    assert_int_equal(o.q[o.nq - 1].ask_from, 4u);      /* C's ask is 106 */
    /* odd sums round outward: bids 100 101 103 104 -> 102 exactly; make it 100 101 102 104 */
    push(c, 2, T0 + 4, 102, 106);
    assert_true(o.q[o.nq - 1].q.bid == 101); /* (101 + 102) / 2 = 101.5 -> 101 */
    tt_consolidator_free(c);
}

static void test_rules_and_errors(void **state)
{
    (void)state;
    out o;
    tt_consolidator *c = make(TT_POLICY_PRIORITY, 2, &o);
    push(c, 0, T0, 100, 102);
    push(c, 1, T0 + 1, 100, 102);
    /* A's spread 30 against B's 2: 15 times (> 5) -> degraded, failover to B */
    int ne = o.ne;
    push(c, 0, T0 + 2, 90, 120);
    assert_int_equal(state_of(c, 0), TT_FEED_DEGRADED);
    assert_int_equal(o.e[ne].reason, TT_FEED_SPREAD);
    assert_true(o.e[ne].value == 15);
    assert_int_equal(o.e[ne + 1].kind, TT_CONSOL_FAILOVER);
    /* a crossed own quote: not used, degraded */
    push(c, 1, T0 + 3, 105, 100);
    tt_feed_health h;
    tt_consolidator_health(c, EU, 1, &h);
    assert_int_equal(h.state, TT_FEED_DEGRADED);
    assert_int_equal(h.rejected, 1);
    assert_true(h.q.bid == 100 && h.q.ask == 102); /* the last usable quote */
    /* errors */
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_QUOTE;
    ev.symbol = EU;
    ev.ts = T0; /* before the last input */
    ev.u.quote.bid = 100;
    ev.u.quote.ask = 102;
    tt_err err;
    assert_int_equal(tt_consolidator_push(c, 0, &ev, &err), TT_EORDER);
    ev.ts = T0 + 10;
    assert_int_equal(tt_consolidator_push(c, 2, &ev, &err), TT_EINVAL);
    ev.kind = TT_EV_BAR;
    assert_int_equal(tt_consolidator_push(c, 0, &ev, &err), TT_EINVAL);
    assert_int_equal(tt_consolidator_health(c, 99, 0, &h), TT_ENOTFOUND);
    tt_consolidator_free(c);
    tt_consol_config cfg = {.policy = 9, .nsources = 2};
    assert_int_equal(tt_consolidator_new(&c, &cfg, &err), TT_EINVAL);
    cfg.policy = TT_POLICY_BEST;
    cfg.nsources = 17;
    assert_int_equal(tt_consolidator_new(&c, &cfg, &err), TT_EINVAL);
    assert_int_equal(tt_consol_policy_parse("Median"), TT_POLICY_MEDIAN);
    assert_int_equal(tt_consol_policy_parse("fast"), 0);
    /* slow: with rate_ratio 0.5, a source at 1 quote/s against two at 10/s degrades */
    cfg.nsources = 3;
    cfg.rate_ratio = 0.5;
    cfg.stale = 5 * SEC;
    assert_int_equal(tt_consolidator_new(&c, &cfg, &err), TT_OK);
    memset(&o, 0, sizeof o);
    tt_consolidator_listen(c, on_q, on_e, &o);
    for (int i = 0; i < 60; i++) {
        tt_ts t = T0 + i * 100 * MS;
        push(c, 0, t, 100, 102);
        push(c, 1, t + 1, 100, 102);
        if (i % 10 == 0)
            push(c, 2, t + 2, 100, 102);
    }
    assert_int_equal(state_of(c, 2), TT_FEED_DEGRADED);
    tt_consolidator_health(c, EU, 2, &h);
    assert_int_equal(h.reason, TT_FEED_SLOW);
    tt_consolidator_health(c, EU, 0, &h);
    assert_true(h.rate > 8 && h.rate <= 10);
    tt_consolidator_free(c);
}

static int spikes; /* spikes injected by the last run_random */

/* Random feeds with random faults (silences, spikes, crossed quotes). */
static uint64_t run_random(uint64_t seed, int policy, int check)
{
    out *o = calloc(1, sizeof *o);
    tt_consolidator *c = make(policy, 4, o);
    spikes = 0;
    tt_rng r;
    tt_rng_seed_named(&r, seed, "consolidate");
    tt_price mid = 100000;
    int silent[4] = {0};
    uint64_t h = 1469598103934665603ULL;
    tt_ts t = T0;
    for (int i = 0; i < 20000; i++) {
        t += (tt_ts)(1 + tt_rng_next(&r) % 20) * MS;
        int s = (int)(tt_rng_next(&r) % 4);
        mid += (tt_price)(tt_rng_next(&r) % 3) - 1;
        if (tt_rng_next(&r) % 2000 == 0)
            silent[s] = 200 + (int)(tt_rng_next(&r) % 400);
        if (silent[s] > 0) {
            silent[s]--;
            continue;
        }
        tt_price b = mid - 1 - (tt_price)(tt_rng_next(&r) % 2);
        tt_price a = mid + 1 + (tt_price)(tt_rng_next(&r) % 2);
        uint32_t fault = tt_rng_next(&r) % 500;
        /* a spike only while the three others are up and ticking: a majority to judge it
         * by (with fewer, no source can be told wrong, and none is quarantined) */
        int majority = 1;
        for (int g = 0; g < 4; g++) {
            tt_feed_health hh;
            if (g != s && (tt_consolidator_health(c, EU, g, &hh) || hh.state != TT_FEED_UP ||
                           t - hh.last > 400 * MS))
                majority = 0;
        }
        if (fault == 0 && majority) {
            b += 300, a += 300; /* a spike */
            spikes++;
        }
        else if (fault == 1)
            b = a + 1; /* crossed */
        int before = o->nq;
        push(c, s, t, b, a);
        if (check && o->nq > before) {
            const tt_consol_quote *q = &o->q[(o->nq - 1) % 4096];
            assert_true(q->q.bid < q->q.ask);
            assert_true(q->q.bid < mid + 100 && q->q.ask > mid - 100); /* no spike passed */
            for (int g = 0; g < 4; g++) {
                if (!((q->bid_from | q->ask_from) >> g & 1))
                    continue;
                int st = state_of(c, g);
                assert_true(st == TT_FEED_UP || st == TT_FEED_DEGRADED);
            }
        }
        if (o->nq == 4096)
            o->nq = 0; /* only the last one is looked at */
        for (int k = 0; k < o->nq; k++) {
            const tt_consol_quote *q = &o->q[k];
            h = (h ^ (uint64_t)q->q.bid) * 1099511628211ULL;
            h = (h ^ (uint64_t)q->q.ask) * 1099511628211ULL;
            h = (h ^ (uint64_t)q->ts) * 1099511628211ULL;
            h = (h ^ (q->bid_from << 16 | q->ask_from)) * 1099511628211ULL;
        }
        for (int k = 0; k < o->ne; k++)
            h = (h ^ ((uint64_t)o->e[k].kind << 8 | o->e[k].source)) * 1099511628211ULL;
        o->nq = o->ne = 0;
    }
    tt_consolidator_free(c);
    free(o);
    return h;
}

static void test_property(void **state)
{
    (void)state;
    for (int policy = TT_POLICY_BEST; policy <= TT_POLICY_MEDIAN; policy++) {
        uint64_t a = run_random(11, policy, 1);
        assert_true(spikes >= 10);
        uint64_t b = run_random(11, policy, 0);
        assert_true(a == b);
        assert_true(a != run_random(12, policy, 0));
    }
}

/* Quotes of one time stamp taken together: two identical feeds moving by more
 * than a spread never cross, never quarantine each other, and give one merged
 * quote per time; the set's rules. */
static void test_push_set(void **state)
{
    (void)state;
    out o;
    tt_consolidator *c = make(TT_POLICY_BEST, 3, &o);
    int src[3] = {0, 1, 2};
    tt_event ev[3];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 50; i++) {
        for (int k = 0; k < 3; k++) {
            ev[k].ts = ev[k].ts_init = T0 + i * 100 * MS;
            ev[k].kind = TT_EV_QUOTE;
            ev[k].symbol = EU;
            ev[k].u.quote.bid = 1000 + (i % 2) * 50; /* jumps 50 points, 25 spreads */
            ev[k].u.quote.ask = ev[k].u.quote.bid + 2;
        }
        tt_err err;
        assert_int_equal(tt_consolidator_push_set(c, 3, src, ev, &err), 1);
    }
    assert_int_equal(o.nq, 50);
    assert_int_equal(o.q[49].bid_from, 7u);
    for (int e = 0; e < o.ne; e++)
        assert_int_equal(o.e[e].kind, TT_CONSOL_STATE); /* the three first quotes only */
    assert_int_equal(o.ne, 3);
    tt_err err;
    ev[1].ts += 1;
    assert_int_equal(tt_consolidator_push_set(c, 3, src, ev, &err), TT_EINVAL);
    ev[1].ts -= 1;
    src[1] = 0;
    assert_int_equal(tt_consolidator_push_set(c, 3, src, ev, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "twice"));
    tt_consolidator_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best),
        cmocka_unit_test(test_priority_failover),
        cmocka_unit_test(test_spike_quarantined),
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_push_set),
        cmocka_unit_test(test_rules_and_errors),
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
