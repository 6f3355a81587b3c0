/*
 * Walk-forward: fold windows, winner selection and stitching against
 * hand-worked numbers (a stand-in runner), detection of a source that reads
 * past its window, and the no-look-ahead property on real backtests: two
 * tapes that agree up to day 2 and differ after it (the second is
 * "poisoned" with another price path) must give identical choices and
 * identical train-run fingerprints for every fold whose train window ends by
 * day 2, while the poison visibly changes the later folds.
 */
/* Project headers first: cmocka defines a fail() macro that core/strategy.h's
 * inline helpers would otherwise collide with. */
#include "data/tape.h"
#include "sim/pcg.h"
#include "sim/scenario.h"
#include "sim/walkforward.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY TT_NS_PER_DAY

static tt_research_doc *doc_of(const char *yaml)
{
    tt_research_doc *d = NULL;
    tt_err err;
    assert_int_equal(tt_research_doc_parse(&d, yaml, strlen(yaml), "wf.yaml", &err), 0);
    return d;
}

static void test_windows(void **state)
{
    (void)state;
    tt_research_doc *d = doc_of("walkforward:\n  mode: rolling\n  train: 2d\n  test: 1d\n"
                                "  objective: net_pnl\n  min_trades: 2\n");
    tt_wf_spec s;
    tt_err err;
    assert_int_equal(tt_wf_spec_read(&s, d, &err), 0);
    tt_research_doc_free(d);
    assert_true(s.step == DAY); /* defaults to test */
    tt_wf_window *w;
    size_t n;
    /* 6.5 days: folds while the whole test window fits: 4. */
    assert_int_equal(tt_wf_windows(&s, 0, 6 * DAY + DAY / 2, &w, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_true(w[0].train_from == 0 && w[0].train_to == 2 * DAY && w[0].test_to == 3 * DAY);
    assert_true(w[3].train_from == 3 * DAY && w[3].test_from == 5 * DAY && w[3].test_to == 6 * DAY);
    free(w);
    s.anchored = 1;
    s.step = 2 * DAY;
    assert_int_equal(tt_wf_windows(&s, 0, 7 * DAY, &w, &n, &err), 0);
    /* anchored, step 2d: train [0,2) [0,4) [0,6), tests end 3, 5, 7. */
    assert_int_equal(n, 3);
    assert_true(w[2].train_from == 0 && w[2].train_to == 6 * DAY && w[2].test_to == 7 * DAY);
    free(w);
    assert_int_equal(tt_wf_windows(&s, 0, 2 * DAY, &w, &n, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "no fold fits"));

    const char *bad[][2] = {
        {"walkforward:\n  train: 2d\n", "train and test lengths are required"},
        {"walkforward:\n  train: 2d\n  test: 1x\n", "wf.yaml:3: walkforward.test: unknown unit"},
        {"walkforward:\n  train: 2d\n  test: 1d\n  objective: sortino\n",
         "wf.yaml:4: walkforward.objective"},
        {"walkforward:\n  train: 2d\n  test: 1d\n  window: 3\n", "unknown key 'window'"},
        {"walkforward:\n  train: 2d\n  test: 1d\n  mode: sliding\n",
         "expected rolling or anchored"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = doc_of(bad[i][0]);
        assert_int_not_equal(tt_wf_spec_read(&s, d, &err), 0);
        if (!strstr(err.msg, bad[i][1]))
            fprintf(stderr, "got: %s\n", err.msg);
        assert_non_null(strstr(err.msg, bad[i][1]));
        tt_research_doc_free(d);
    }
}

/* ---- stand-in runner: P&L per (parameter, day) from a table ---- */

static const int SCORE[4][6] = {
    {0, 0, 0, 0, 0, 0},
    {100, 100, 100, 100, 100, 100}, /* p=1: 1 trade, never qualifies (min_trades 2) */
    {10, 20, 30, -10, 40, 50},      /* p=2 */
    {30, 10, -20, 60, 5, -30},      /* p=3 */
};

static int table_run(void *self, const tt_param *params, size_t n, tt_ts from, tt_ts to,
                     tt_run_summary *out, tt_run_series *series, tt_err *err)
{
    (void)n, (void)err;
    int lie = self != NULL; /* the broken source: claims to have read up to `to` */
    int p = atoi(params[0].value);
    tt_money pnl = 0;
    for (tt_ts d = from / DAY; d < to / DAY; d++)
        pnl += SCORE[p][d];
    out->m.net_pnl = pnl;
    out->m.trades = (uint64_t)p;
    out->events = 1;
    out->first_ts = from;
    out->last_ts = lie ? to : to - 1;
    out->fp.lo = (uint64_t)p * 1000 + (uint64_t)(from / DAY);
    if (series) {
        series->initial_balance = 100000;
        series->nequity = 2;
        series->equity = calloc(2, sizeof *series->equity);
        series->equity[0] = (tt_equity_point){from, 100000, 100000, 0, 0, 0};
        series->equity[1] = (tt_equity_point){to - 1, 100000 + pnl, 100000 + pnl, 0, 0, 0};
        series->ntrades = 1;
        series->trades = calloc(1, sizeof *series->trades);
        series->trades[0].net = pnl;
        series->trades[0].pnl = pnl;
        series->trades[0].id = 1;
        series->trades[0].qty = 1;
        series->trades[0].open_ts = from;
        series->trades[0].close_ts = to - 1;
    }
    return 0;
}

static void test_stitching(void **state)
{
    (void)state;
    tt_research_doc *d = doc_of("walkforward:\n  train: 2d\n  test: 1d\n  step: 1d\n"
                                "  objective: net_pnl\n  min_trades: 2\n"
                                "sweep:\n  params:\n    p: [1, 2, 3]\n");
    tt_wf_spec s;
    tt_sweep_spec ss;
    tt_sweep_plan plan;
    tt_err err;
    assert_int_equal(tt_wf_spec_read(&s, d, &err), 0);
    assert_int_equal(tt_sweep_spec_read(&ss, d, 1, &err), 0);
    assert_int_equal(tt_sweep_expand(&ss, "wf", &plan, &err), 0);
    tt_research_doc_free(d);
    tt_wf_result r;
    tt_wf_opts o = {.jobs = 2};
    int rc = tt_walkforward_run(&s, &plan, (tt_research_runner){NULL, table_run}, 0, 6 * DAY, &o,
                                &r, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    /* By hand (p=1 never qualifies):
     *   fold 1 train d0-d1: p2 30, p3 40 -> p3 (job 2), test d2: -20
     *   fold 2 train d1-d2: p2 50, p3 -10 -> p2 (job 1), test d3: -10
     *   fold 3 train d2-d3: p2 20, p3 40 -> p3, test d4: +5
     *   fold 4 train d3-d4: p2 30, p3 65 -> p3, test d5: -30 */
    assert_int_equal(r.nfolds, 4);
    size_t win[4] = {2, 1, 2, 2};
    tt_money is[4] = {40, 50, 40, 65}, oos[4] = {-20, -10, 5, -30};
    for (int f = 0; f < 4; f++) {
        assert_true(r.folds[f].has_winner);
        assert_int_equal(r.folds[f].qualified, 2);
        assert_int_equal(r.folds[f].winner, win[f]);
        assert_int_equal(r.folds[f].is.m.net_pnl, is[f]);
        assert_int_equal(r.folds[f].oos.m.net_pnl, oos[f]);
    }
    /* Stitched: 100000 -> 99980 -> 99970 -> 99975 -> 99945. */
    assert_int_equal(r.nequity, 8);
    tt_money eq[8] = {100000, 99980, 99980, 99970, 99970, 99975, 99975, 99945};
    for (int i = 0; i < 8; i++)
        assert_int_equal(r.equity[i].equity, eq[i]);
    assert_int_equal(r.ntrades, 4);
    assert_int_equal(r.trades[3].id, 4);
    assert_int_equal(r.oos.net_pnl, -55);
    assert_int_equal(r.oos.trades, 4);
    /* IS 195 over 8 train days = 24.375/day; OOS -55 over 4 days = -13.75/day. */
    assert_true(r.is_rate == 24.375);
    assert_true(r.oos_rate == -13.75);
    assert_true(fabs(r.wfe - (-13.75 / 24.375)) < 1e-15);
    /* --jobs does not change anything. */
    tt_wf_result r1;
    o.jobs = 1;
    assert_int_equal(tt_walkforward_run(&s, &plan, (tt_research_runner){NULL, table_run}, 0,
                                        6 * DAY, &o, &r1, &err),
                     0);
    assert_memory_equal(&r.fp, &r1.fp, sizeof r.fp);
    tt_wf_result_free(&r1);
    tt_wf_result_free(&r);

    /* A source that reads up to `to` inclusive is caught. */
    int lie = 1;
    assert_int_equal(tt_walkforward_run(&s, &plan, (tt_research_runner){&lie, table_run}, 0,
                                        6 * DAY, &o, &r, &err),
                     TT_EORDER);
    assert_non_null(strstr(err.msg, "outside its window"));
    tt_wf_result_free(&r);
    tt_sweep_plan_free(&plan);
    tt_sweep_spec_free(&ss);
}

/* ---- no look-ahead on real backtests ---- */

static char root[128];

/* Four days of EURUSD quotes from 2024-01-01 (a Monday), one every 20 s, a
 * random walk; from `poison` on, the walk continues on another PCG stream. */
static void write_tape(const char *dir, tt_ts poison)
{
    tt_tape_writer *w;
    tt_err err;
    tt_stream_desc desc = {.symbol = "EURUSD", .kind = TT_STREAM_QUOTE};
    assert_int_equal(tt_tape_writer_open(&w, dir, &desc, NULL, &err), 0);
    tt_pcg64 a = tt_rng_derive(11, "test/walk"), b = tt_rng_derive(12, "test/poison");
    tt_ts t0 = tt_ts_from_civil(2024, 1, 1, 0, 0, 0, 0);
    tt_price bid = 110000;
    for (tt_ts t = t0; t < t0 + 4 * DAY; t += 20 * TT_NS_PER_SEC) {
        tt_pcg64 *g = (poison && t >= poison) ? &b : &a;
        bid += (tt_price)tt_pcg64_bounded(g, 11) - 5;
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.ts = ev.ts_init = t;
        ev.kind = TT_EV_QUOTE;
        ev.cls = TT_CLS_MARKET;
        ev.u.quote.bid = bid;
        ev.u.quote.ask = bid + 8;
        ev.u.quote.bid_vol = ev.u.quote.ask_vol = 1.0f;
        assert_int_equal(tt_tape_writer_append(w, &ev, &err), 0);
    }
    assert_int_equal(tt_tape_writer_close(w, &err), 0);
}

static void run_wf(const char *tape, tt_wf_result *r, tt_sweep_plan *plan)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "name: wf-lookahead\nseed: 3\n"
             "data: {tape: %s, symbols: [EURUSD], from: 2024-01-01, to: 2024-01-05}\n"
             "account: {currency: USD, balance: 10000, leverage: 100}\n"
             "strategy:\n  name: sma_cross\n  params: {tf: M5, fast: 5, slow: 20, qty: 1}\n"
             "sweep:\n  params:\n    strategy:\n      params:\n        fast: [3, 6]\n"
             "        slow: [12, 24]\n"
             "walkforward:\n  train: 1d\n  test: 1d\n  objective: net_pnl\n  min_trades: 1\n",
             tape);
    tt_scenario *sc;
    tt_err err;
    int rc = tt_scenario_parse(&sc, yaml, strlen(yaml), "wf.yaml", NULL, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    tt_research_doc *d = doc_of(yaml);
    tt_wf_spec s;
    tt_sweep_spec ss;
    assert_int_equal(tt_wf_spec_read(&s, d, &err), 0);
    assert_int_equal(tt_sweep_spec_read(&ss, d, 3, &err), 0);
    assert_int_equal(tt_sweep_expand(&ss, "la", plan, &err), 0);
    tt_research_doc_free(d);
    tt_ts from = tt_ts_from_civil(2024, 1, 1, 0, 0, 0, 0);
    tt_wf_opts o = {.jobs = 2};
    rc = tt_walkforward_run(&s, plan, tt_scenario_runner(sc), from, from + 4 * DAY, &o, r, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    tt_sweep_spec_free(&ss);
    tt_scenario_free(sc);
}

static void test_no_lookahead(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/tt_wf_%d", (int)getpid());
    char clean[200], poisoned[200], cmd[300];
    snprintf(clean, sizeof clean, "%s/clean", root);
    snprintf(poisoned, sizeof poisoned, "%s/poisoned", root);
    tt_ts t0 = tt_ts_from_civil(2024, 1, 1, 0, 0, 0, 0);
    tt_ts poison = t0 + 2 * DAY;
    write_tape(clean, 0);
    write_tape(poisoned, poison);
    tt_wf_result a, b;
    tt_sweep_plan pa, pb;
    run_wf(clean, &a, &pa);
    run_wf(poisoned, &b, &pb);
    /* Folds: train d0 test d1; train d1 test d2; train d2 test d3. */
    assert_int_equal(a.nfolds, 3);
    assert_int_equal(b.nfolds, 3);
    int later_differs = 0;
    for (size_t f = 0; f < a.nfolds; f++) {
        const tt_wf_fold *x = &a.folds[f], *y = &b.folds[f];
        for (size_t j = 0; j < a.njobs; j++) {
            const tt_run_summary *sx = &a.train[f * a.njobs + j], *sy = &b.train[f * b.njobs + j];
            assert_int_equal(sx->status, TT_RUN_OK);
            assert_true(sx->events > 0);
            /* The source's own record: nothing read at or past the train end. */
            assert_true(sx->last_ts < x->w.train_to && sx->first_ts >= x->w.train_from);
            assert_true(sy->last_ts < y->w.train_to);
            if (x->w.train_to <= poison)
                assert_memory_equal(&sx->fp, &sy->fp, sizeof sx->fp);
            else
                later_differs |= memcmp(&sx->fp, &sy->fp, sizeof sx->fp) != 0;
        }
        /* Real runs: SMA crossings on M5 bars trade every day. */
        assert_true(x->has_winner && x->is.m.trades >= 1 && x->oos.status == TT_RUN_OK);
        if (x->w.train_to <= poison) {
            /* The optimisation of this fold could not see the poison. */
            assert_int_equal(x->has_winner, y->has_winner);
            assert_int_equal(x->winner, y->winner);
            assert_memory_equal(&x->is.fp, &y->is.fp, sizeof x->is.fp);
            assert_true(x->objective == y->objective);
        }
    }
    /* The poison is real: the fold trained on day 2 saw different data. */
    assert_true(later_differs);
    tt_wf_result_free(&a);
    tt_wf_result_free(&b);
    tt_sweep_plan_free(&pa);
    tt_sweep_plan_free(&pb);
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

/* The runner cuts a synthetic source to the window too: the engine never
 * sees an event before `from` or at/after `to`. */
static void test_synthetic_window(void **state)
{
    (void)state;
    const char *yaml = "name: syn\nseed: 5\n"
                       "data:\n  synthetic: {model: gbm, symbols: [EURUSD], from: 2024-01-01, "
                       "to: 2024-01-04, tick_rate: 1}\n"
                       "account: {currency: USD, balance: 10000, leverage: 100}\n"
                       "strategy:\n  name: sma_cross\n  params: {tf: M5, fast: 5, slow: 20, qty: 1}\n";
    tt_scenario *sc;
    tt_err err;
    assert_int_equal(tt_scenario_parse(&sc, yaml, strlen(yaml), "syn.yaml", NULL, &err), 0);
    tt_research_runner r = tt_scenario_runner(sc);
    tt_ts from = tt_ts_from_civil(2024, 1, 2, 0, 0, 0, 0), to = from + DAY / 2;
    tt_run_summary whole, cut, again;
    memset(&whole, 0, sizeof whole);
    memset(&cut, 0, sizeof cut);
    memset(&again, 0, sizeof again);
    assert_int_equal(r.run(r.self, NULL, 0, 0, 0, &whole, NULL, &err), 0);
    assert_int_equal(r.run(r.self, NULL, 0, from, to, &cut, NULL, &err), 0);
    assert_int_equal(r.run(r.self, NULL, 0, from, to, &again, NULL, &err), 0);
    assert_true(cut.events > 0 && cut.events < whole.events);
    assert_true(cut.first_ts >= from && cut.last_ts < to);
    assert_true(whole.first_ts < from && whole.last_ts >= to);
    assert_memory_equal(&cut.fp, &again.fp, sizeof cut.fp); /* deterministic */
    tt_scenario_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_stitching),
        cmocka_unit_test(test_no_lookahead),
        cmocka_unit_test(test_synthetic_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
