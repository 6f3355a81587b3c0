/*
 * The MT5 venue (live/mt5_venue.h) inside an engine, against the terminal
 * stand-in (live/mt5_term.h) on the EURUSD sample over loopback. A small
 * strategy sends market orders every N quotes (and limit orders in one
 * test); an order manager (core/order.h) applies every order event the
 * engine dispatches and refuses any that breaks the lifecycle. Oracles: the
 * stand-in's own deal list (every engine fill is one deal: same price,
 * volume, commission, in the same order, none missing, none twice), and its
 * retcodes for the faults.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/order.h"
#include "core/portfolio.h"
#include "live/mt5_term.h"
#include "live/mt5_venue.h"
#include "live/wallclock.h"
#include "mt5_helpers.h"

#define TAPE TT_SOURCE_DIR "/scenarios/data/eurusd-2019-02"

/* ---- the session ---- */

typedef struct session {
    tt_instruments *ins;
    tt_wallclock clk;
    tt_inbox *q;
    tt_mt5_venue *v;
    tt_engine *e;
    strat s;
    pthread_t eth, tth;
    int erc;
    tt_err eerr;
    tt_mt5_term *t;
    int trc;
    tt_err terr;
    char log[16384];
    pthread_mutex_t lmu;
} session;

static void on_log(void *ctx, const char *line)
{
    session *x = ctx;
    pthread_mutex_lock(&x->lmu);
    size_t used = strlen(x->log);
    if (used + strlen(line) + 2 < sizeof x->log)
        snprintf(x->log + used, sizeof x->log - used, "%s\n", line);
    pthread_mutex_unlock(&x->lmu);
}

static void *engine_main(void *arg)
{
    session *x = arg;
    x->erc = tt_engine_run(x->e, &x->eerr);
    return NULL;
}

static void *term_main(void *arg)
{
    session *x = arg;
    x->trc = tt_mt5_term_run(x->t, &x->terr);
    return NULL;
}

typedef struct setup {
    int kill; /* the kill switch after 4 fills; the far limit first; sells from the 7th */
    int hedging;
    const char *const *faults;
    int every, max, limits;
    double speed;
    int minutes;
    int64_t answer_ms;
    int careful; /* a market order at a time, none while the terminal is away or syncing */
} setup;

static session *run(const setup *su)
{
    session *x = calloc(1, sizeof *x);
    pthread_mutex_init(&x->lmu, NULL);
    x->ins = tt_instruments_new();
    tt_wallclock_init(&x->clk);
    tt_inbox_opts io;
    memset(&io, 0, sizeof io);
    io.clock = &x->clk;
    tt_err err;
    assert_int_equal(tt_inbox_new(&x->q, &io, &err), 0);
    static const char *const syms[] = {"EURUSD", NULL};
    tt_mt5_venue_opts vo;
    memset(&vo, 0, sizeof vo);
    vo.ins = x->ins;
    vo.inbox = x->q;
    vo.host = "127.0.0.1";
    vo.secret = "s3cret";
    vo.hb_ms = 250;
    vo.symbols = syms;
    vo.mode = su->hedging ? TT_MODE_HEDGING : TT_MODE_NETTING;
    vo.answer_ms = su->answer_ms ? su->answer_ms : 300;
    vo.log = on_log;
    vo.ctx = x;
    assert_int_equal(tt_mt5_venue_new(&x->v, &vo, &err), 0);
    x->s.orders = tt_orders_new();
    x->s.eur = tt_instruments_find(x->ins, "EURUSD")->id;
    x->s.every = su->every;
    x->s.max = su->max;
    x->s.limits = su->limits;
    x->s.side = 1;
    x->s.serial = x->s.mind_gaps = su->careful;
    if (su->kill) {
        x->s.one_side = 1;
        x->s.far_limit_first = 1;
        x->s.sell_from = 7;
        x->s.kill_at = 4;
        x->s.serial = 1; /* the kill comes before the 6th order, whatever the timing */
        x->s.kill = (void (*)(void *))tt_mt5_venue_kill;
        x->s.kill_ctx = x->v;
    }
    x->e = tt_engine_new(x->ins);
    tt_engine_set_source(x->e, tt_inbox_source(x->q));
    tt_engine_set_clock(x->e, tt_inbox_clock(x->q));
    tt_engine_set_venue(x->e, tt_mt5_venue_port(x->v));
    tt_component c;
    memset(&c, 0, sizeof c);
    c.self = &x->s;
    c.name = "test";
    c.on_event = strat_event;
    tt_engine_add_component(x->e, c);
    tt_inbox_watch(x->q, x->e);
    tt_inbox_push_control(x->q, TT_CTL_START, 0); /* the session's first input */
    if (tt_mt5_venue_start(x->v, &err))
        fail_msg("%s", err.msg);
    pthread_create(&x->eth, NULL, engine_main, x);
    tt_mt5_term_opts to;
    memset(&to, 0, sizeof to);
    to.host = "127.0.0.1";
    to.port = tt_mt5_venue_listen_port(x->v);
    to.secret = "s3cret";
    to.tape_dir = TAPE;
    tt_ts_parse("2019-02-04T07:00:00", &to.from);
    to.to = to.from + (int64_t)su->minutes * 60 * TT_NS_PER_SEC;
    to.speed = su->speed;
    tt_mt5_sim_config_default(&to.account);
    to.account.mode = su->hedging ? TT_MT5_HEDGING : TT_MT5_NETTING;
    to.account.comm = 35000000; /* 0.35 per lot per side */
    to.faults = su->faults;
    if (tt_mt5_term_new(&x->t, &to, &err))
        fail_msg("%s", err.msg);
    pthread_create(&x->tth, NULL, term_main, x);
    pthread_join(x->tth, NULL);
    usleep(300000); /* the last frames reach the engine */
    tt_inbox_stop(x->q);
    pthread_join(x->eth, NULL);
    return x;
}

static void finish(session *x)
{
    tt_mt5_term_free(x->t);
    tt_engine_free(x->e);
    tt_mt5_venue_free(x->v);
    tt_inbox_free(x->q);
    tt_orders_free(x->s.orders);
    tt_instruments_free(x->ins);
    pthread_mutex_destroy(&x->lmu);
    free(x);
}

static void expect_clean(session *x)
{
    if (x->s.lifecycle_errors) {
        fprintf(stderr, "%s", x->log);
        fail_msg("%d lifecycle errors, the first: %s", x->s.lifecycle_errors, x->s.first_error);
    }
    assert_int_equal(x->erc, 0);
    assert_int_equal(x->trc, 0);
}

static void test_netting_session(void **state)
{
    (void)state;
    setup su = {0, 0, NULL, 150, 20, 0, 3600, 120, 0};
    session *x = run(&su);
    expect_clean(x);
    assert_int_equal(x->s.sent, 20);
    assert_int_equal(x->s.reasons[TT_REASON_FILL], 20);
    check_fills_are_deals(tt_mt5_term_sim(x->t), &x->s, x->log, 1);
    assert_int_equal(tt_orders_count(x->s.orders), 0);
    finish(x);
}

static void test_hedging_with_limits(void **state)
{
    (void)state;
    setup su = {0, 1, NULL, 150, 16, 1, 3600, 120, 0};
    session *x = run(&su);
    expect_clean(x);
    assert_int_equal(x->s.sent, 16);
    assert_true(x->s.reasons[TT_REASON_ACCEPTED] >= 1); /* limits rest first */
    check_fills_are_deals(tt_mt5_term_sim(x->t), &x->s, x->log, 0);
    finish(x);
}

static void test_faults(void **state)
{
    (void)state;
    /* requests: 3rd requoted, 5th no money, 7th executed and the connection
     * dropped before its answer left (a fill in flight) */
    static const char *const faults[] = {"requote:at=3", "nomoney:at=5",
                                         "drop:order=7,down=100", NULL};
    setup su = {0, 0, faults, 150, 10, 0, 3600, 120, 250, 1}; /* timing-proof under load */
    session *x = run(&su);
    expect_clean(x);
    assert_int_equal(x->s.sent, 10);
    assert_int_equal(x->s.reasons[TT_REASON_REQUOTE], 1);
    assert_int_equal(x->s.reasons[TT_REASON_NO_MONEY], 1);
    /* 8 orders filled, each once: the one in flight at the drop too */
    assert_int_equal(x->s.reasons[TT_REASON_FILL], 8);
    check_fills_are_deals(tt_mt5_term_sim(x->t), &x->s, x->log, 0);
    tt_mt5_venue_stats st;
    tt_mt5_venue_stats_get(x->v, &st);
    assert_int_equal(st.sessions, 2); /* its deal came with HISTORY after reconnecting */
    assert_non_null(strstr(x->log, "terminal disconnected"));
    finish(x);
}

/* The answer to the 3rd request is lost (executed, nothing sent back): after
 * answer_ms the venue asks, learns the deal, and the order is filled once. */
static void test_no_answer_is_queried_not_resent(void **state)
{
    (void)state;
    static const char *const faults[] = {"noreply:at=3", NULL};
    setup su = {0, 0, faults, 300, 6, 0, 3600, 120, 250};
    session *x = run(&su);
    expect_clean(x);
    assert_int_equal(x->s.sent, 6);
    assert_int_equal(x->s.reasons[TT_REASON_FILL], 6);
    check_fills_are_deals(tt_mt5_term_sim(x->t), &x->s, x->log, 0);
    tt_mt5_venue_stats st;
    tt_mt5_venue_stats_get(x->v, &st);
    assert_int_equal(st.unanswered, 1);
    assert_int_equal(st.sessions, 1);
    assert_int_equal(tt_mt5_sim_deals(tt_mt5_term_sim(x->t)), 6); /* no duplicate at the broker */
    finish(x);
}

/* The kill switch after 4 fills: the resting limit is cancelled at the
 * broker, the next buy is refused before it leaves (halted), the sells that
 * reduce the position still go (a strategy can flatten). */
static void test_kill_switch(void **state)
{
    (void)state;
    setup su = {1, 0, NULL, 150, 9, 0, 3600, 120, 0};
    session *x = run(&su);
    expect_clean(x);
    assert_int_equal(x->s.sent, 9);
    assert_int_equal(x->s.reasons[TT_REASON_HALTED], 1);        /* the 6th order, a buy */
    assert_int_equal(x->s.reasons[TT_REASON_CANCEL_REQUEST], 1); /* the far limit */
    assert_int_equal(x->s.nfills, 7);                           /* 4 buys, 3 sells */
    check_fills_are_deals(tt_mt5_term_sim(x->t), &x->s, x->log, 1);
    const tt_mt5_sim *sim = tt_mt5_term_sim(x->t);
    assert_int_equal(tt_mt5_sim_orders(sim), 0);
    tt_mt5_pos p;
    tt_mt5_sim_position(sim, 0, &p);
    assert_int_equal(p.vol, TT_MT5_DEC_ONE / 10); /* 0.4 - 0.3 */
    tt_mt5_venue_stats st;
    tt_mt5_venue_stats_get(x->v, &st);
    assert_int_equal(st.killed, 1);
    finish(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netting_session),
        cmocka_unit_test(test_hedging_with_limits),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_no_answer_is_queried_not_resent),
        cmocka_unit_test(test_kill_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
