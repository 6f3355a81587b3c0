/*
 * Backtest groups (tt_backtest_group_run): several runs over one pass of the
 * same data give, run by run, what tt_backtest_run gives alone.
 *
 * The oracle is the single run itself: every run of a group is also run
 * alone, and the two results must agree to the byte: return code and error,
 * fingerprint, input events and their span, every closed trade, every kept
 * equity point, every order event, the figures, the venue's totals. The
 * runs are made to differ in everything but the data: strategies and their
 * parameters, latency, commissions, position mode, a risk limit that halts
 * trading, a component that stops a run halfway, a strategy parameter that
 * fails the build; on 48 hours of real Dukascopy ticks and, under bar models,
 * on Dukascopy's M1 candles. Groups refuse runs over different data and bar
 * models with different bar sides, and report a tape that cannot be opened.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dukascopy.h"
#include "sim/backtest.h"
#include "../support/sample_tape.h"
#include "sim/bar_model.h"

typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tt_bt_group_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    if (tt_test_sample_tape(f->dir, 0, 0, 1) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (tt_test_remove_tree(f->dir))
        return -1;
    free(f);
    return 0;
}

/* A component that stops its engine after n events: a run that ends early. */
typedef struct stopper {
    uint64_t after, seen;
} stopper;

static void stop_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)ev;
    stopper *s = self;
    if (++s->seen == s->after)
        tt_engine_stop(e);
}

static void expect_same(const tt_backtest_result *a, const tt_backtest_result *b, int rca, int rcb,
                        const tt_err *ea, const tt_err *eb, size_t i)
{
    if (rca != rcb || (rca && strcmp(ea->msg, eb->msg)))
        fail_msg("run %zu: alone %d '%s', in the group %d '%s'", i, rca, rca ? ea->msg : "", rcb,
                 rcb ? eb->msg : "");
    if (rca)
        return;
    assert_true(a->fingerprint.hi == b->fingerprint.hi && a->fingerprint.lo == b->fingerprint.lo);
    assert_int_equal(a->events, b->events);
    assert_int_equal(a->outputs, b->outputs);
    assert_true(a->first_ts == b->first_ts && a->last_ts == b->last_ts);
    assert_int_equal(a->ntrades, b->ntrades);
    if (a->ntrades)
        assert_memory_equal(a->trades, b->trades, a->ntrades * sizeof *a->trades);
    assert_int_equal(a->nequity, b->nequity);
    if (a->nequity)
        assert_memory_equal(a->equity, b->equity, a->nequity * sizeof *a->equity);
    assert_int_equal(a->norders, b->norders);
    if (a->norders)
        assert_memory_equal(a->orders, b->orders, a->norders * sizeof *a->orders);
    assert_memory_equal(&a->metrics, &b->metrics, sizeof a->metrics);
    assert_true(a->final_equity == b->final_equity && a->commissions == b->commissions &&
                a->swaps == b->swaps && a->fills == b->fills && a->orders_sent == b->orders_sent &&
                a->risk_rejects == b->risk_rejects);
}

/* Each run alone and all of them as a group: the same, run by run. A
 * stopper (may be NULL) starts counting anew for each. Returns the return
 * codes of the runs alone in rcs (may be NULL). */
static void group_vs_alone(const tt_backtest_config *cfgs, size_t n, stopper *st, int *rcs)
{
    const tt_backtest_config *p[16];
    tt_backtest_result alone[16], grp[16];
    int rca[16], rcg[16];
    tt_err ea[16], eg[16], err;
    for (size_t i = 0; i < n; i++) {
        p[i] = &cfgs[i];
        if (st)
            st->seen = 0;
        rca[i] = tt_backtest_run(&cfgs[i], &alone[i], &ea[i]);
        if (rcs)
            rcs[i] = rca[i];
    }
    if (st)
        st->seen = 0;
    if (tt_backtest_group_run(p, n, grp, rcg, eg, &err))
        fail_msg("group: %s", err.msg);
    for (size_t i = 0; i < n; i++) {
        expect_same(&alone[i], &grp[i], rca[i], rcg[i], &ea[i], &eg[i], i);
        tt_backtest_result_free(&alone[i]);
        tt_backtest_result_free(&grp[i]);
    }
}

static void base(tt_backtest_config *c, const fixture *f, const char *strategy, const char *params)
{
    tt_backtest_config_default(c);
    c->symbols[0] = "EURUSD";
    c->tape_dir = f->dir;
    c->from = 1549238400LL * TT_NS_PER_SEC; /* 2019-02-04 */
    c->strategy = strategy;
    c->params = params;
    c->seed = 11;
}

static void test_ticks(void **state)
{
    fixture *f = *state;
    tt_backtest_config c[8];
    base(&c[0], f, "sma_cross", "tf=M1 fast=10 slow=30 qty=10");
    base(&c[1], f, "sma_cross", "tf=M1 fast=5 slow=60 qty=20");
    c[1].venue.latency_ns = 5 * TT_NS_PER_MS;
    c[1].venue.commission = TT_COMM_PER_LOT;
    c[1].venue.commission_per_lot = 700;
    base(&c[2], f, "breakout", "tf=M5 n=12 qty=10");
    c[2].venue.slippage = TT_SLIP_RANDOM;
    c[2].venue.slippage_points = 3;
    base(&c[3], f, "rsi_reversion", "tf=M5 qty=10 sl_pips=10 tp_pips=15");
    c[3].venue.account.mode = TT_MODE_HEDGING;
    base(&c[4], f, "sma_cross", "tf=M1 fast=3 slow=8 qty=500");
    c[4].risk.daily_loss_limit = 2000; /* halts trading within the run */
    c[4].equity_keep_max = 100;
    base(&c[5], f, "sma_cross", "tf=M1 fast=40 slow=30"); /* fails to build */
    base(&c[6], f, "sma_cross", "tf=M1 fast=7 slow=21 qty=10");
    static stopper st;
    st.after = 100000;
    st.seen = 0;
    c[6].components[0] = (tt_component){&st, "stopper", NULL, stop_event, NULL, 0};
    c[6].ncomponents = 1;
    base(&c[7], f, "buy_and_hold", "qty=10");
    c[7].skip_order_events = 1;
    int rca[8];
    group_vs_alone(c, 8, &st, rca);
    assert_int_equal(rca[5], TT_EINVAL); /* the bad parameter */
    assert_int_equal(rca[6], TT_OK);     /* stopped halfway, still a result */
}

static void test_ticks_counts(void **state)
{
    /* the runs that ran read every tick, the stopped one less */
    fixture *f = *state;
    tt_backtest_config c[2];
    base(&c[0], f, "sma_cross", "tf=M1 fast=10 slow=30 qty=10");
    base(&c[1], f, "sma_cross", "tf=M1 fast=10 slow=30 qty=10");
    static stopper st = {5000, 0};
    c[1].components[0] = (tt_component){&st, "stopper", NULL, stop_event, NULL, 0};
    c[1].ncomponents = 1;
    const tt_backtest_config *p[2] = {&c[0], &c[1]};
    tt_backtest_result r[2];
    int rcs[2];
    tt_err errs[2], err;
    assert_int_equal(tt_backtest_group_run(p, 2, r, rcs, errs, &err), TT_OK);
    assert_true(rcs[0] == TT_OK && rcs[1] == TT_OK);
    assert_true(r[0].events > 200000);
    /* stopped after 5,000 events seen (ticks, timers, orders): the ticks of the
     * batches handed to it are counted, as alone */
    assert_true(r[1].events > 4000 && r[1].events < 5000 + 64);
    tt_backtest_result_free(&r[0]);
    tt_backtest_result_free(&r[1]);
}

static void test_bar_models(void **state)
{
    fixture *f = *state;
    tt_backtest_config c[4];
    base(&c[0], f, "sma_cross", "tf=M1 fast=10 slow=30 qty=10");
    base(&c[1], f, "sma_cross", "tf=M5 fast=4 slow=9 qty=10");
    base(&c[2], f, "breakout", "tf=M15 n=8 qty=10");
    base(&c[3], f, "sma_cross", "tf=M1 fast=3 slow=50 qty=10");
    for (int i = 0; i < 4; i++) {
        c[i].model = i == 3 ? TT_MODEL_EVERY_TICK : TT_MODEL_OHLC_M1;
        c[i].spread_points = 4;
    }
    c[3].model = TT_MODEL_OHLC_M1;
    group_vs_alone(c, 4, NULL, NULL);
    /* every_tick too, with mid bars everywhere (ask carriers in every run) */
    for (int i = 0; i < 4; i++) {
        c[i].model = TT_MODEL_EVERY_TICK;
        c[i].params = i == 2 ? "tf=M15 n=8 qty=10 side=mid" : "tf=M1 fast=5 slow=20 side=mid";
    }
    group_vs_alone(c, 4, NULL, NULL);
}

/* The engine's quiet path (runs of quotes handed to the venue, the bars and
 * the runner in one call each) changes nothing: each run again with a
 * component that has no quiet path, which turns it off for the engine. */
static void noop_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)self;
    (void)e;
    (void)ev;
}

static void test_quiet_path_changes_nothing(void **state)
{
    fixture *f = *state;
    tt_backtest_config c[7];
    base(&c[0], f, "sma_cross", "tf=M1 fast=10 slow=30 qty=10");
    base(&c[1], f, "sma_cross", "tf=M5 fast=5 slow=60 qty=20 sl_pips=8 tp_pips=12");
    c[1].venue.latency_ns = 5 * TT_NS_PER_MS;
    c[1].venue.commission = TT_COMM_PER_LOT;
    c[1].venue.commission_per_lot = 700;
    base(&c[2], f, "breakout", "tf=M5 n=12 qty=10");
    c[2].venue.slippage = TT_SLIP_RANDOM;
    c[2].venue.slippage_points = 3;
    base(&c[3], f, "rsi_reversion", "tf=M1 qty=10 sl_pips=10 tp_pips=15");
    c[3].venue.account.mode = TT_MODE_HEDGING;
    base(&c[4], f, "sma_cross", "tf=M1 fast=3 slow=8 qty=5000");
    c[4].venue.account.initial_balance = 100000; /* margin calls and stop-outs */
    c[4].risk.daily_loss_limit = 20000;
    base(&c[5], f, "sma_cross", "tf=M1 fast=10 slow=30 side=mid");
    c[5].model = TT_MODEL_OHLC_M1;
    base(&c[6], f, "buy_and_hold", "qty=10");
    c[6].bars[0] = (tt_bar_sub){1, TT_TF_M1, TT_SIDE_ASK};
    c[6].nbars = 1;
    for (size_t i = 0; i < 7; i++) {
        tt_backtest_config off = c[i];
        off.components[off.ncomponents++] = (tt_component){NULL, "noop", NULL, noop_event, NULL};
        tt_backtest_result a, b;
        tt_err ea, eb;
        int rca = tt_backtest_run(&c[i], &a, &ea), rcb = tt_backtest_run(&off, &b, &eb);
        expect_same(&a, &b, rca, rcb, &ea, &eb, i);
        assert_int_equal(rca, TT_OK);
        tt_backtest_result_free(&a);
        tt_backtest_result_free(&b);
    }
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    tt_backtest_config c[2];
    const tt_backtest_config *p[2] = {&c[0], &c[1]};
    tt_backtest_result r[2];
    int rcs[2];
    tt_err errs[2], err;
    /* other data: another range */
    base(&c[0], f, "sma_cross", "tf=M1");
    base(&c[1], f, "sma_cross", "tf=M1");
    c[1].to = c[1].from + TT_NS_PER_DAY;
    assert_int_equal(tt_backtest_group_run(p, 2, r, rcs, errs, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "run 1 reads other data"));
    /* bar models with bid and mid bars: the ask carriers would differ */
    base(&c[1], f, "sma_cross", "tf=M1 side=mid");
    c[0].model = c[1].model = TT_MODEL_OHLC_M1;
    assert_int_equal(tt_backtest_group_run(p, 2, r, rcs, errs, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "bar sides differ"));
    assert_int_equal(r[0].events, 0);
    /* a tape that is not there */
    base(&c[0], f, "sma_cross", "tf=M1");
    base(&c[1], f, "sma_cross", "tf=M1");
    c[0].tape_dir = c[1].tape_dir = "/nonexistent/tape";
    assert_int_equal(tt_backtest_group_run(p, 2, r, rcs, errs, &err), TT_ENOTFOUND);
    /* nothing to do */
    assert_int_equal(tt_backtest_group_run(p, 0, r, rcs, errs, &err), TT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks),      cmocka_unit_test(test_ticks_counts),
        cmocka_unit_test(test_bar_models), cmocka_unit_test(test_quiet_path_changes_nothing),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
