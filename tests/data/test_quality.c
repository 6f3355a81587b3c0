/*
 * Data-quality rules: each rule under each allowed policy, with hand-worked
 * tick sequences (expected actions and counts in the comments), the
 * quarantine file, config parsing and its refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/quality.h"

static tt_instrument eurusd(void)
{
    tt_instrument i = {0};
    snprintf(i.symbol, sizeof i.symbol, "EURUSD");
    i.points = 100000;
    i.digits = 5;
    i.pip = 10;
    return i;
}

static tt_event q(tt_ts ms, tt_price bid, tt_price ask)
{
    tt_event e = {0};
    e.kind = TT_EV_QUOTE;
    e.cls = TT_CLS_MARKET;
    e.ts = e.ts_init = ms * TT_NS_PER_MS;
    e.u.quote.bid = bid;
    e.u.quote.ask = ask;
    e.u.quote.bid_vol = 1.0f;
    e.u.quote.ask_vol = 2.0f;
    return e;
}

static int check(tt_quality *f, tt_event *e)
{
    int a = -1;
    tt_err err;
    assert_int_equal(tt_quality_check(f, e, &a, &err), TT_OK);
    return a;
}

static tt_quality *make(const tt_quality_config *c)
{
    static tt_instrument ins; /* tests are single-threaded; the filter keeps a pointer */
    ins = eurusd();
    tt_quality *f = NULL;
    tt_err err;
    assert_int_equal(tt_quality_new(&f, c, &ins, &err), TT_OK);
    return f;
}

/* Defaults on clean data: everything kept, nothing counted. */
static void test_clean(void **state)
{
    (void)state;
    tt_quality *f = make(NULL);
    for (int i = 0; i < 1000; i++) {
        tt_event e = q(i, 114500 + i % 7, 114502 + i % 7);
        assert_int_equal(check(f, &e), TT_QA_KEEP);
    }
    tt_quality_counts c;
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.seen, 1000);
    assert_int_equal(c.kept, 1000);
    for (int r = 0; r < TT_QR_COUNT; r++)
        assert_int_equal(c.hits[r], 0);
    tt_quality_free(f);
}

/* Duplicates: same ms and same bid/ask as ANY tick kept at that ms (not only the
 * previous one); a different volume does not make a tick distinct; the next ms
 * starts afresh. Sequence at t=10: A, B, A(dup), B(dup, vol differs); t=11: A. */
static void test_duplicate(void **state)
{
    (void)state;
    tt_quality *f = make(NULL); /* duplicate=drop */
    tt_event a = q(10, 100000, 100010), b = q(10, 100001, 100011);
    tt_event a2 = a, b2 = b, a3 = q(11, 100000, 100010);
    b2.u.quote.bid_vol = 9.0f;
    assert_int_equal(check(f, &a), TT_QA_KEEP);
    assert_int_equal(check(f, &b), TT_QA_KEEP);
    assert_int_equal(check(f, &a2), TT_QA_DROP);
    assert_int_equal(check(f, &b2), TT_QA_DROP);
    assert_int_equal(check(f, &a3), TT_QA_KEEP);
    tt_quality_counts c;
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.hits[TT_QR_DUPLICATE], 2);
    assert_int_equal(c.rule_dropped[TT_QR_DUPLICATE], 2);
    assert_int_equal(c.dropped, 2);
    assert_int_equal(c.kept, 3);
    tt_quality_free(f);

    tt_quality_config cfg;
    tt_quality_config_default(&cfg);
    tt_err err;
    assert_int_equal(tt_quality_config_set(&cfg, "duplicate=flag", &err), TT_OK);
    f = make(&cfg);
    a = q(10, 100000, 100010);
    a2 = a;
    assert_int_equal(check(f, &a), TT_QA_KEEP);
    assert_int_equal(check(f, &a2), TT_QA_KEEP);
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.hits[TT_QR_DUPLICATE], 1);
    assert_int_equal(c.dropped, 0);
    tt_quality_free(f);
}

/* Out of order: t=5, t=3 (late), t=5. Drop: the late one is dropped. Repair: it is
 * re-stamped to t=5 and then (same time, different prices) kept. */
static void test_order(void **state)
{
    (void)state;
    tt_quality *f = make(NULL);
    tt_event e1 = q(5, 100000, 100010), e2 = q(3, 100001, 100011), e3 = q(5, 100002, 100012);
    assert_int_equal(check(f, &e1), TT_QA_KEEP);
    assert_int_equal(check(f, &e2), TT_QA_DROP);
    assert_int_equal(check(f, &e3), TT_QA_KEEP);
    tt_quality_counts c;
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.hits[TT_QR_ORDER], 1);
    assert_int_equal(c.rule_dropped[TT_QR_ORDER], 1);
    tt_quality_free(f);

    tt_quality_config cfg;
    tt_quality_config_default(&cfg);
    tt_err err;
    assert_int_equal(tt_quality_config_set(&cfg, "order=repair", &err), TT_OK);
    f = make(&cfg);
    e1 = q(5, 100000, 100010);
    e2 = q(3, 100001, 100011);
    assert_int_equal(check(f, &e1), TT_QA_KEEP);
    assert_int_equal(check(f, &e2), TT_QA_REPAIRED);
    assert_int_equal(e2.ts, 5 * TT_NS_PER_MS);
    assert_int_equal(e2.u.quote.bid, 100001);
    /* A late tick that, re-stamped, equals one kept at that time: a duplicate too,
     * and the drop wins over the repair. */
    tt_event e4 = q(4, 100000, 100010);
    assert_int_equal(check(f, &e4), TT_QA_DROP);
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.hits[TT_QR_ORDER], 2);
    assert_int_equal(c.rule_repaired[TT_QR_ORDER], 1);
    assert_int_equal(c.hits[TT_QR_DUPLICATE], 1);
    assert_int_equal(c.rule_dropped[TT_QR_DUPLICATE], 1);
    assert_int_equal(c.repaired, 1);
    assert_int_equal(c.dropped, 1);
    tt_quality_free(f);
    /* "flag" cannot apply to an append-only stream: refused. */
    tt_quality_config_default(&cfg);
    assert_int_equal(tt_quality_config_set(&cfg, "order=flag", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "drop|repair"));
    assert_int_equal(cfg.policy[TT_QR_ORDER], TT_QP_DROP);
}

/* Crossed (bid > ask) and locked (bid == ask). */
static void test_crossed(void **state)
{
    (void)state;
    tt_quality *f = make(NULL); /* flag */
    tt_event x = q(1, 100010, 100000), l = q(2, 100000, 100000);
    assert_int_equal(check(f, &x), TT_QA_KEEP);
    assert_int_equal(check(f, &l), TT_QA_KEEP);
    tt_quality_counts c;
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.hits[TT_QR_CROSSED], 2);
    tt_quality_free(f);

    tt_quality_config cfg;
    tt_quality_config_default(&cfg);
    tt_err err;
    assert_int_equal(tt_quality_config_set(&cfg, "crossed=repair", &err), TT_OK);
    f = make(&cfg);
    x = q(1, 100010, 100000);
    x.u.quote.bid_vol = 1.5f;
    x.u.quote.ask_vol = 2.5f;
    assert_int_equal(check(f, &x), TT_QA_REPAIRED);
    assert_int_equal(x.u.quote.bid, 100000);
    assert_int_equal(x.u.quote.ask, 100010);
    assert_true(x.u.quote.bid_vol == 2.5f && x.u.quote.ask_vol == 1.5f);
    l = q(2, 100000, 100000);
    assert_int_equal(check(f, &l), TT_QA_KEEP); /* locked: nothing to swap */
    tt_quality_free(f);

    assert_int_equal(tt_quality_config_set(&cfg, "crossed=drop", &err), TT_OK);
    f = make(&cfg);
    x = q(1, 100010, 100000);
    assert_int_equal(check(f, &x), TT_QA_DROP);
    tt_quality_free(f);
}

/* Non-positive prices: dropped by default; repair takes the previous kept side. */
static void test_nonpositive(void **state)
{
    (void)state;
    tt_quality *f = make(NULL);
    tt_event z = q(1, 0, 100010);
    assert_int_equal(check(f, &z), TT_QA_DROP);
    tt_quality_free(f);

    tt_quality_config cfg;
    tt_quality_config_default(&cfg);
    tt_err err;
    assert_int_equal(tt_quality_config_set(&cfg, "nonpositive=repair", &err), TT_OK);
    assert_int_equal(tt_quality_config_set(&cfg, "nonpositive=flag", &err), TT_EINVAL);
    f = make(&cfg);
    z = q(1, -5, 100010); /* no previous tick: cannot repair, dropped */
    assert_int_equal(check(f, &z), TT_QA_DROP);
    tt_event ok = q(2, 100000, 100010);
    assert_int_equal(check(f, &ok), TT_QA_KEEP);
    z = q(3, 100001, 0);
    assert_int_equal(check(f, &z), TT_QA_REPAIRED);
    assert_int_equal(z.u.quote.bid, 100001);
    assert_int_equal(z.u.quote.ask, 100010);
    tt_quality_counts c;
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.hits[TT_QR_NONPOSITIVE], 2);
    assert_int_equal(c.rule_dropped[TT_QR_NONPOSITIVE], 1);
    assert_int_equal(c.rule_repaired[TT_QR_NONPOSITIVE], 1);
    tt_quality_free(f);
}

/* Spikes, threshold 2%, reference bid 100000 (1.00000):
 *   102000 is +2.0%: not over, kept silently;
 *   flash spike 103000 (+3%) then back to 100100: one spike, not two;
 *   level shift 110000, 110050, 110020: one spike (first tick), then accepted. */
static void test_spike(void **state)
{
    (void)state;
    tt_quality_config cfg;
    tt_quality_config_default(&cfg);
    tt_err err;
    assert_int_equal(tt_quality_config_set(&cfg, "spike=drop", &err), TT_OK);
    tt_quality *f = make(&cfg);
    tt_event e[] = {q(1, 100000, 100005), q(2, 102000, 102005), q(3, 100000, 100005),
                    q(4, 103000, 103005), q(5, 100100, 100105), q(6, 110000, 110005),
                    q(7, 110050, 110055), q(8, 110020, 110025)};
    int want[] = {TT_QA_KEEP, TT_QA_KEEP, TT_QA_KEEP, TT_QA_DROP,
                  TT_QA_KEEP, TT_QA_DROP, TT_QA_KEEP, TT_QA_KEEP};
    for (int i = 0; i < 8; i++)
        assert_int_equal(check(f, &e[i]), want[i]);
    tt_quality_counts c;
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.hits[TT_QR_SPIKE], 2);
    assert_int_equal(c.rule_dropped[TT_QR_SPIKE], 2);
    tt_quality_free(f);

    /* Default flag: the same ticks are all kept, still 2 hits. */
    f = make(NULL);
    for (int i = 0; i < 8; i++) {
        tt_event x = e[i];
        assert_int_equal(check(f, &x), TT_QA_KEEP);
    }
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.hits[TT_QR_SPIKE], 2);
    tt_quality_free(f);

    /* A weekend (over an hour of silence) resets the reference. */
    f = make(&cfg);
    tt_event a = q(0, 100000, 100005), b = q(2 * 3600 * 1000, 105000, 105005);
    assert_int_equal(check(f, &a), TT_QA_KEEP);
    assert_int_equal(check(f, &b), TT_QA_KEEP);
    tt_quality_free(f);
}

/* Spread: default 5 pips of EURUSD = 50 points; 50 is fine, 51 is over. */
static void test_spread(void **state)
{
    (void)state;
    tt_quality_config cfg;
    tt_quality_config_default(&cfg);
    tt_err err;
    assert_int_equal(tt_quality_config_set(&cfg, "spread=drop", &err), TT_OK);
    tt_quality *f = make(&cfg);
    tt_event a = q(1, 100000, 100050), b = q(2, 100000, 100051);
    assert_int_equal(check(f, &a), TT_QA_KEEP);
    assert_int_equal(check(f, &b), TT_QA_DROP);
    tt_quality_free(f);
    assert_int_equal(tt_quality_config_set(&cfg, "max-spread=100", &err), TT_OK);
    f = make(&cfg);
    b = q(2, 100000, 100100);
    assert_int_equal(check(f, &b), TT_QA_KEEP);
    tt_quality_free(f);
    assert_int_equal(tt_quality_config_set(&cfg, "spread=repair", &err), TT_EINVAL);
}

/* Trades: price and size; crossed and spread do not apply. */
static void test_trades(void **state)
{
    (void)state;
    tt_quality *f = make(NULL);
    tt_event t = {0};
    t.kind = TT_EV_TRADE;
    t.ts = 1000;
    t.u.trade.price = 5000;
    t.u.trade.size = 10;
    tt_event t2 = t, t3 = t;
    t3.u.trade.size = 11;
    assert_int_equal(check(f, &t), TT_QA_KEEP);
    assert_int_equal(check(f, &t2), TT_QA_DROP); /* same time, price and size */
    assert_int_equal(check(f, &t3), TT_QA_KEEP); /* different size */
    tt_event bar = {0};
    bar.kind = TT_EV_BAR;
    assert_int_equal(check(f, &bar), TT_QA_KEEP); /* not a tick: untouched, uncounted */
    tt_quality_counts c;
    tt_quality_get_counts(f, &c);
    assert_int_equal(c.seen, 3);
    tt_quality_free(f);
}

/* Quarantine: every dropped or repaired tick as it arrived, with rule and origin. */
static void test_quarantine(void **state)
{
    (void)state;
    char path[] = "/tmp/tt_quality_qXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    tt_quality_config cfg;
    tt_quality_config_default(&cfg);
    tt_err err;
    assert_int_equal(tt_quality_config_set(&cfg, "crossed=repair", &err), TT_OK);
    cfg.quarantine = path;
    tt_quality *f = make(&cfg);
    tt_quality_set_origin(f, "a,b.bi5");
    tt_event a = q(1, 114427, 114430), dup = a, x = q(2, 114431, 114429);
    check(f, &a);
    check(f, &dup);
    check(f, &x);
    tt_quality_free(f);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char line[512];
    assert_non_null(fgets(line, sizeof line, in));
    assert_non_null(strstr(line, "rule,action,origin"));
    assert_non_null(fgets(line, sizeof line, in));
    assert_string_equal(line, "duplicate,drop,\"a,b.bi5\",EURUSD,quote,1000000,1.14427,1.14430,1,2\n");
    assert_non_null(fgets(line, sizeof line, in));
    assert_string_equal(line, "crossed,repair,\"a,b.bi5\",EURUSD,quote,2000000,1.14431,1.14429,1,2\n");
    assert_null(fgets(line, sizeof line, in));
    fclose(in);
    unlink(path);
    /* a quarantine file that cannot be written is refused at once, not found
     * out at the first quarantined tick (or never) */
    cfg.quarantine = "/dev/full";
    tt_quality *g = NULL;
    assert_int_equal(tt_quality_new(&g, &cfg, NULL, &err), TT_EIO);
    assert_null(g);
    assert_non_null(strstr(err.msg, "/dev/full: cannot write quarantine file"));
}

static void test_config_and_print(void **state)
{
    (void)state;
    tt_quality_config cfg;
    tt_quality_config_default(&cfg);
    tt_err err;
    assert_int_equal(tt_quality_config_set(&cfg, "spike-pct=3.5", &err), TT_OK);
    assert_true(cfg.spike_pct == 0.035);
    assert_int_equal(tt_quality_config_set(&cfg, "bogus=1", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "bogus"));
    assert_int_equal(tt_quality_config_set(&cfg, "spike", &err), TT_EINVAL);
    assert_int_equal(tt_quality_config_set(&cfg, "spike-pct=-1", &err), TT_EINVAL);
    assert_int_equal(tt_quality_config_set(&cfg, "spike=maybe", &err), TT_EINVAL);
    tt_quality_counts c = {0}, d = {0};
    c.seen = 5;
    c.hits[TT_QR_SPIKE] = 2;
    tt_quality_counts_add(&d, &c);
    tt_quality_counts_add(&d, &c);
    assert_int_equal(d.seen, 10);
    assert_int_equal(d.hits[TT_QR_SPIKE], 4);
    char buf[4096];
    FILE *m = fmemopen(buf, sizeof buf, "w");
    tt_quality_print(m, "EURUSD quotes", &d, &cfg);
    fclose(m);
    assert_non_null(strstr(buf, "spike"));
    assert_non_null(strstr(buf, "10 ticks checked"));
    m = fmemopen(buf, sizeof buf, "w");
    tt_quality_print_json(m, &d, &cfg);
    fclose(m);
    assert_non_null(strstr(buf, "\"spike\":{\"hits\":4,\"dropped\":0,\"repaired\":0,\"policy\":\"flag\"}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),       cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_order),       cmocka_unit_test(test_crossed),
        cmocka_unit_test(test_nonpositive), cmocka_unit_test(test_spike),
        cmocka_unit_test(test_spread),      cmocka_unit_test(test_trades),
        cmocka_unit_test(test_quarantine),  cmocka_unit_test(test_config_and_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
