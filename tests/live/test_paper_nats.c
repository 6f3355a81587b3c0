/*
 * Paper trading on NATS, in-process: a bar strategy (sma_cross on S1 bars)
 * whose bars are published on bars.EURUSD.S1 while the session subscribes
 * bars.> itself. The session must not read its own bars back (the sink shares
 * the source's no-echo connection): the journal holds the ticks and the STOP
 * event only, while an outside subscriber does receive the bars. The journal
 * then replays to the same fingerprint and order events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "live/journal.h"
#include "live/paper.h"
#include "live/publish.h"
#include "live_helpers.h"
#include "sim/scenario.h"

static const char SCENARIO[] =
    "name: paper-nats\n"
    "seed: 5\n"
    "data:\n"
    "  tape: unused\n"
    "  symbols: [EURUSD]\n"
    "account: {currency: USD, balance: 10000, leverage: 100}\n"
    "venue:\n"
    "  latency_ms: 1\n"
    "strategy:\n"
    "  name: sma_cross\n"
    "  params: {tf: S1, fast: 2, slow: 3, qty: 1}\n";

typedef struct runner {
    tt_backtest *bt;
    tt_backtest_result res;
    tt_err err;
    int rc;
} runner;

static void *run_bt(void *arg)
{
    runner *r = arg;
    r->rc = tt_backtest_exec(r->bt, &r->res, &r->err);
    return NULL;
}

static void bar_seen(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    if (!strncmp(natsMsg_GetSubject(m), "bars.EURUSD.", 12))
        (*(int *)closure)++;
    natsMsg_Destroy(m);
}

static void prepare(tt_scenario **s, tt_scenario_run *run)
{
    tt_err err;
    if (tt_scenario_parse(s, SCENARIO, strlen(SCENARIO), "paper-nats.yaml", NULL, &err) ||
        tt_scenario_prepare(*s, run, &err))
        fail_msg("%s", err.msg);
}

static void test_own_bars_not_read_back(void **state)
{
    tt_test_nats *srv = *state;
    char dir[4096], tape[4200], journal[4200];
    tt_test_tmpdir(dir, sizeof dir, "paper-nats");
    snprintf(tape, sizeof tape, "%s/tape", dir);
    snprintf(journal, sizeof journal, "%s/journal", dir);
    assert_true(tt_test_eurusd_tape(tape, 8, 9) > 3000);

    natsConnection *obs = NULL;
    natsSubscription *obs_sub = NULL;
    int bars = 0;
    assert_int_equal(natsConnection_ConnectTo(&obs, srv->url), NATS_OK);
    assert_int_equal(natsConnection_Subscribe(&obs_sub, obs, "bars.>", bar_seen, &bars), NATS_OK);
    natsConnection_Flush(obs);

    tt_scenario *s;
    tt_scenario_run *run = calloc(1, sizeof *run);
    prepare(&s, run);
    tt_paper_opts po = {.nats_url = srv->url, .journal_dir = journal};
    tt_paper *p;
    tt_backtest *bt;
    tt_err err;
    if (tt_backtest_open(&bt, &run->cfg, &err) ||
        tt_paper_attach(&p, bt, run->instruments, &po, &err))
        fail_msg("%s", err.msg);
    runner rn = {.bt = bt};
    pthread_t th;
    pthread_create(&th, NULL, run_bt, &rn);

    /* 3000 ticks at 1000/s: three seconds, so S1 bars close and are published. */
    tt_instruments *ins = tt_instruments_new();
    tt_tape_reader *r;
    tt_tape_query q = {0};
    assert_int_equal(tt_tape_reader_open(&r, tape, &q, ins, &err), TT_OK);
    natsConnection *pub = NULL;
    assert_int_equal(natsConnection_ConnectTo(&pub, srv->url), NATS_OK);
    tt_publish_opts pubo = {.nc = pub, .ins = ins, .rate = 1000, .limit = 3000};
    tt_publish_stats ps;
    assert_int_equal(tt_publish_run(tt_tape_reader_source(r), &pubo, &ps, &err), TT_OK);
    tt_tape_reader_close(r);
    tt_test_sleep_ms(300);
    tt_paper_stop(p);
    pthread_join(th, NULL);
    tt_backtest_close(bt);
    if (rn.rc)
        fail_msg("paper: %s", rn.err.msg);
    tt_paper_outputs out;
    tt_paper_outputs_get(p, &out);
    assert_int_equal(tt_paper_close(p, &err), TT_OK);
    natsConnection_Flush(obs);
    tt_test_sleep_ms(100);
    assert_true(bars >= 2);              /* the outside world hears the bars */
    assert_true(out.nats_published >= (uint64_t)bars);
    assert_int_equal(rn.res.events, 3001); /* ticks + STOP: no bar came back */

    tt_journal_reader *jr;
    assert_int_equal(tt_journal_reader_open(&jr, journal, run->instruments, &err), TT_OK);
    tt_event ev;
    int n = 0, nbars = 0, rc;
    while ((rc = tt_journal_reader_next(jr, &ev, &err)) == 1) {
        n++;
        nbars += ev.kind == TT_EV_BAR;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 3001);
    assert_int_equal(nbars, 0);
    tt_journal_reader_close(jr);
    tt_scenario_release(run);
    tt_scenario_free(s);

    /* Replay: same outputs. */
    memset(run, 0, sizeof *run);
    prepare(&s, run);
    assert_int_equal(tt_journal_reader_open(&jr, journal, run->instruments, &err), TT_OK);
    tt_source src = tt_journal_reader_source(jr);
    run->cfg.source = &src;
    run->cfg.tape_dir = NULL;
    tt_backtest_result rr;
    memset(&rr, 0, sizeof rr);
    assert_int_equal(tt_backtest_run(&run->cfg, &rr, &err), TT_OK);
    assert_true(rr.fingerprint.hi == rn.res.fingerprint.hi &&
                rr.fingerprint.lo == rn.res.fingerprint.lo);
    assert_int_equal(rr.norders, rn.res.norders);
    if (rr.norders)
        assert_memory_equal(rr.orders, rn.res.orders, rr.norders * sizeof *rr.orders);
    print_message("paper on nats: %d bars heard outside, %zu order events, fingerprints equal\n",
                  bars, rr.norders);
    tt_backtest_result_free(&rr);
    tt_backtest_result_free(&rn.res);
    tt_journal_reader_close(jr);
    tt_scenario_release(run);
    tt_scenario_free(s);
    free(run);
    natsConnection_Close(pub);
    natsConnection_Destroy(pub);
    natsSubscription_Destroy(obs_sub);
    natsConnection_Close(obs);
    natsConnection_Destroy(obs);
    tt_instruments_free(ins);
    tt_test_rmdir(dir);
}

static int setup(void **state)
{
    static tt_test_nats srv;
    memset(&srv, 0, sizeof srv);
    if (tt_test_nats_start(&srv))
        return -1;
    *state = &srv;
    return 0;
}

static int teardown(void **state)
{
    tt_test_nats_stop(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_own_bars_not_read_back)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
