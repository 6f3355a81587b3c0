/*
 * A live session (live/live.h) against the terminal stand-in, stopped in
 * the middle with positions open as a crash would stop it (no STOP in the
 * journal, the terminal left to reconnect), then started again on the same
 * journal: the engine replays it (nothing sent twice: the broker's deals are
 * exactly the engine's fills), the venue reconciles with the terminal's
 * snapshot (no difference: the replay rebuilt the same positions), trading
 * goes on. Then `ticktape replay`'s way, the whole journal through a venue
 * that does nothing, gives the live run's fingerprint (replay parity).
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
#include <unistd.h>

#include "core/portfolio.h"
#include "live/journal.h"
#include "live/trading.h"
#include "live/mt5_term.h"
#include "live_helpers.h"
#include "mt5_helpers.h"

#define TAPE TT_SOURCE_DIR "/scenarios/data/eurusd-2019-02"

typedef struct run {
    tt_engine *e;
    int rc;
    tt_err err;
} run;

static void *engine_main(void *arg)
{
    run *r = arg;
    r->rc = tt_engine_run(r->e, &r->err);
    return NULL;
}

typedef struct term_run {
    tt_mt5_term *t;
    int rc;
    tt_err err;
} term_run;

static void *term_main(void *arg)
{
    term_run *t = arg;
    t->rc = tt_mt5_term_run(t->t, &t->err);
    return NULL;
}

static char g_log[65536];
static pthread_mutex_t g_lmu = PTHREAD_MUTEX_INITIALIZER;
static void on_log(void *ctx, const char *line)
{
    (void)ctx;
    pthread_mutex_lock(&g_lmu);
    size_t used = strlen(g_log);
    if (used + strlen(line) + 2 < sizeof g_log)
        snprintf(g_log + used, sizeof g_log - used, "%s\n", line);
    pthread_mutex_unlock(&g_lmu);
}

static tt_engine *build(tt_trading *l, const tt_instruments *ins, strat *s)
{
    tt_engine *e = tt_engine_new(ins);
    tt_engine_set_source(e, tt_trading_source(l));
    tt_engine_set_clock(e, tt_trading_clock(l));
    tt_engine_set_venue(e, tt_trading_venue(l));
    tt_component cs[4];
    int n = tt_trading_components(l, cs, 4);
    for (int i = 0; i < n; i++)
        tt_engine_add_component(e, cs[i]);
    tt_component c;
    memset(&c, 0, sizeof c);
    c.self = s;
    c.name = "test";
    c.on_event = strat_event;
    tt_engine_add_component(e, c);
    return e;
}

static void strat_init(strat *s, const tt_instruments *ins)
{
    memset(s, 0, sizeof *s);
    s->orders = tt_orders_new();
    s->eur = tt_instruments_find(ins, "EURUSD")->id;
    s->every = 120;
    s->max = 14;
    s->side = 1;
    s->one_side = 1;
}

static void test_crash_restart_and_replay_parity(void **state)
{
    (void)state;
    char dir[4096];
    tt_test_tmpdir(dir, sizeof dir, "mt5-live");
    tt_instruments *ins = tt_instruments_new();
    int port = tt_test_free_port();
    static const char *const syms[] = {"EURUSD", NULL};
    tt_trading_opts o;
    memset(&o, 0, sizeof o);
    o.mt5_host = "127.0.0.1";
    o.mt5_port = port;
    o.secret = "s3cret";
    o.hb_ms = 250;
    o.journal_dir = dir;
    o.symbols = syms;
    o.mode = TT_MODE_NETTING;
    o.answer_ms = 300;
    o.log = on_log;

    /* the terminal: 2,000 quotes a second, the market running on while
     * ticktape is away (paced) */
    term_run tr;
    memset(&tr, 0, sizeof tr);
    tt_mt5_term_opts to;
    memset(&to, 0, sizeof to);
    to.host = "127.0.0.1";
    to.port = port;
    to.secret = "s3cret";
    to.tape_dir = TAPE;
    tt_ts_parse("2019-02-04T07:00:00", &to.from);
    to.to = to.from + 600LL * 60 * TT_NS_PER_SEC;
    to.rate = 2000;
    tt_mt5_sim_config_default(&to.account);
    to.account.comm = 35000000;
    tt_err err;
    if (tt_mt5_term_new(&tr.t, &to, &err))
        fail_msg("%s", err.msg);

    /* session 1, stopped with positions open after 5 fills */
    tt_trading *l1;
    if (tt_trading_open(&l1, ins, &o, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(tt_trading_resuming(l1), 0);
    strat s1;
    strat_init(&s1, ins);
    run r1 = {build(l1, ins, &s1), 0, {0}};
    pthread_t e1, th;
    pthread_create(&e1, NULL, engine_main, &r1);
    pthread_create(&th, NULL, term_main, &tr);
    for (int i = 0; i < 2000 && s1.nfills < 5; i++)
        tt_test_sleep_ms(5);
    assert_true(s1.nfills >= 5);
    tt_engine_stop(r1.e); /* as a crash: no STOP in the journal */
    pthread_join(e1, NULL);
    assert_int_equal(tt_trading_close(l1, &err), 0);
    tt_engine_free(r1.e);
    int fills1 = s1.nfills;

    /* session 2 on the same journal: replay, reconnect, reconcile, go on */
    tt_trading *l2;
    if (tt_trading_open(&l2, ins, &o, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(tt_trading_resuming(l2), 1);
    strat s2;
    strat_init(&s2, ins);
    run r2 = {build(l2, ins, &s2), 0, {0}};
    pthread_t e2;
    pthread_create(&e2, NULL, engine_main, &r2);
    for (int i = 0; i < 12000 && s2.nfills < 14; i++) /* 60 s at most: a loaded machine */
        tt_test_sleep_ms(5);
    tt_mt5_term_stop(tr.t);
    pthread_join(th, NULL);
    tt_test_sleep_ms(300);
    tt_trading_stop(l2);
    pthread_join(e2, NULL);
    assert_int_equal(r2.rc, 0);
    assert_int_equal(tr.rc, 0);
    tt_trading_status st;
    tt_trading_status_get(l2, &st);
    assert_true(st.replayed > 0);
    assert_int_equal(st.venue.differences, 0);
    assert_int_equal(st.venue.killed, 0);
    if (s2.lifecycle_errors)
        fail_msg("%d lifecycle errors: %s\n%s", s2.lifecycle_errors, s2.first_error, g_log);
    /* the replayed session saw session 1's fills again, and more after */
    if (s2.nfills <= fills1 || s2.sent != 14)
        fail_msg("session 2: %d fills (session 1: %d), %d orders sent\n%s", s2.nfills, fills1,
                 s2.sent, g_log);
    check_fills_are_deals(tt_mt5_term_sim(tr.t), &s2, g_log, 1);
    /* the broker's position is the engine's: 14 buys of 0.1 lot */
    const tt_mt5_sim *sim = tt_mt5_term_sim(tr.t);
    assert_int_equal(tt_mt5_sim_positions(sim), 1);
    tt_mt5_pos p;
    tt_mt5_sim_position(sim, 0, &p);
    assert_int_equal(p.vol, 14 * TT_MT5_DEC_ONE / 10);
    tt_fingerprint live_fp = tt_engine_fingerprint(r2.e);
    assert_int_equal(tt_trading_close(l2, &err), 0);
    tt_engine_free(r2.e);

    /* replay parity: the journal alone, a venue that does nothing (a replay
     * tells a live journal by its first event) */
    int is_live = 0;
    assert_int_equal(tt_trading_journal_is_live(dir, ins, &is_live, &err), 0);
    assert_int_equal(is_live, 1);
    tt_journal_reader *jr;
    assert_int_equal(tt_journal_reader_open(&jr, dir, ins, &err), 0);
    strat s3;
    strat_init(&s3, ins);
    tt_engine *e3 = tt_engine_new(ins);
    tt_engine_set_source(e3, tt_journal_reader_source(jr));
    tt_engine_set_venue(e3, tt_mt5_replay_port());
    tt_component c3;
    memset(&c3, 0, sizeof c3);
    c3.self = &s3;
    c3.name = "test";
    c3.on_event = strat_event;
    tt_engine_add_component(e3, c3);
    assert_int_equal(tt_engine_run(e3, &err), 0);
    tt_fingerprint replay_fp = tt_engine_fingerprint(e3);
    assert_memory_equal(&live_fp, &replay_fp, sizeof live_fp);
    assert_int_equal(s3.nfills, s2.nfills);
    tt_engine_free(e3);
    tt_journal_reader_close(jr);

    tt_mt5_term_free(tr.t);
    tt_orders_free(s1.orders);
    tt_orders_free(s2.orders);
    tt_orders_free(s3.orders);
    tt_instruments_free(ins);
    tt_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_restart_and_replay_parity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
