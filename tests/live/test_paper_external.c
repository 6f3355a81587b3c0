/*
 * External events live: a paper session on NATS (nats-server on 127.0.0.1)
 * archiving to Kafka (librdkafka's mock cluster), with a strategy written
 * here that records its external events and sends a market order every 200th
 * quote, under a news blackout (120 minutes before, 15 after, high impact).
 *
 * 1000 real EURUSD ticks are published; then a calendar message on
 * market.external.economic_calendar announcing a high-impact USD release an
 * hour from now; then 1000 more ticks. The strategy receives the event
 * through on_external (tt_calendar_from_event reads it); its five orders
 * before the announcement pass and its five after are refused by the
 * news_blackout rule (the gate learned the release time from the message);
 * the message is archived on external_data_archive, bytes as received, keyed
 * by its type; the journal holds it, and the replay of the journal gives the
 * same fingerprint and order events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/external.h"
#include "kafka_helpers.h"
#include "live/journal.h"
#include "live/paper.h"
#include "live/publish.h"
#include "live/wallclock.h"
#include "live_helpers.h"
#include "sim/scenario.h"

static tt_test_kafka kafka;

static const char SCENARIO[] =
    "name: paper-external\n"
    "seed: 3\n"
    "data:\n"
    "  tape: unused\n"
    "  symbols: [EURUSD]\n"
    "account: {currency: USD, balance: 10000, leverage: 100}\n"
    "risk:\n"
    "  news_blackout: {before_min: 120, after_min: 15, impact: high}\n"
    "strategy:\n"
    "  name: recorder\n";

/* ---- the strategy ---- */

typedef struct rec {
    uint64_t quotes;
    int externals;
    char event[TT_CALENDAR_EVENT_MAX];
    tt_ts event_time;
    uint32_t symbol;
} rec;

static int s_create(tt_strategy_ctx *c, void **state)
{
    rec *r = calloc(1, sizeof *r);
    r->symbol = tt_ctx_symbol_at(c, 0);
    *state = r;
    return r ? 0 : TT_ENOMEM;
}

static void s_destroy(void *state) { free(state); }

static void s_quote(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    (void)ev;
    rec *r = state;
    if (++r->quotes % 200 == 0)
        tt_ctx_market(c, r->symbol, 1, 0, 0);
}

static void s_external(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    (void)c;
    rec *r = state;
    tt_calendar_event cal;
    if (tt_calendar_from_event(ev, &cal, NULL) == TT_OK) {
        r->externals++;
        snprintf(r->event, sizeof r->event, "%s", cal.event);
        r->event_time = cal.time;
    }
}

static rec *last_rec; /* what the run's strategy saw, read after the run */

static void s_stop(void *state, tt_strategy_ctx *c)
{
    (void)c;
    static rec copy;
    copy = *(rec *)state;
    last_rec = &copy;
}

static const tt_strategy_vtable RECORDER = {
    .abi_version = TT_STRATEGY_ABI_VERSION,
    .struct_size = sizeof(tt_strategy_vtable),
    .name = "recorder",
    .create = s_create,
    .destroy = s_destroy,
    .on_quote = s_quote,
    .on_external = s_external,
    .on_stop = s_stop,
};

/* ---- helpers ---- */

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

static void prepare(tt_scenario **s, tt_scenario_run *run)
{
    tt_err err;
    if (tt_scenario_parse(s, SCENARIO, strlen(SCENARIO), "paper-external.yaml", NULL, &err) ||
        tt_scenario_prepare(*s, run, &err))
        fail_msg("%s", err.msg);
    run->cfg.strategy_vtable = &RECORDER;
}

static int count_status(const tt_backtest_result *res, int status, int reason)
{
    int n = 0;
    for (size_t i = 0; i < res->norders; i++)
        n += res->orders[i].status == status && (!reason || res->orders[i].reason == reason);
    return n;
}

/* The archived messages of external_data_archive: count those equal to msg. */
static int archived(const char *msg, size_t len)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", kafka.brokers, errstr, sizeof errstr);
    rd_kafka_conf_set(c, "group.id", "tt-test-external", errstr, sizeof errstr);
    rd_kafka_conf_set(c, "auto.offset.reset", "earliest", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, "external_data_archive", RD_KAFKA_PARTITION_UA);
    assert_int_equal(rd_kafka_subscribe(rk, tl), 0);
    rd_kafka_topic_partition_list_destroy(tl);
    int found = 0;
    int64_t dl = tt_mono_ns() + 15 * TT_NS_PER_SEC;
    while (!found && tt_mono_ns() < dl) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err && m->len == len && !memcmp(m->payload, msg, len) &&
            m->key_len == strlen("economic_calendar") &&
            !memcmp(m->key, "economic_calendar", m->key_len))
            found++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return found;
}

static void test_external_live(void **state)
{
    tt_test_nats *srv = *state;
    char dir[4096], tape[4200], journal[4200];
    tt_test_tmpdir(dir, sizeof dir, "paper-external");
    snprintf(tape, sizeof tape, "%s/tape", dir);
    snprintf(journal, sizeof journal, "%s/journal", dir);
    assert_true(tt_test_eurusd_tape(tape, 8, 9) > 2000);

    tt_scenario *s;
    tt_scenario_run *run = calloc(1, sizeof *run);
    prepare(&s, run);
    tt_paper_opts po = {.nats_url = srv->url, .kafka_brokers = kafka.brokers,
                        .journal_dir = journal};
    tt_paper *p;
    tt_backtest *bt;
    tt_err err;
    if (tt_backtest_open(&bt, &run->cfg, &err) ||
        tt_paper_attach(&p, bt, run->instruments, &po, &err))
        fail_msg("%s", err.msg);
    runner rn = {.bt = bt};
    pthread_t th;
    pthread_create(&th, NULL, run_bt, &rn);

    tt_instruments *ins = tt_instruments_new();
    tt_tape_reader *r;
    tt_tape_query q = {0};
    assert_int_equal(tt_tape_reader_open(&r, tape, &q, ins, &err), TT_OK);
    natsConnection *pub = NULL;
    assert_int_equal(natsConnection_ConnectTo(&pub, srv->url), NATS_OK);
    tt_publish_opts pubo = {.nc = pub, .ins = ins, .rate = 2000, .limit = 1000};
    tt_publish_stats ps;
    assert_int_equal(tt_publish_run(tt_tape_reader_source(r), &pubo, &ps, &err), TT_OK);
    tt_test_sleep_ms(400); /* the session has taken the first thousand */

    /* the announcement: a high-impact USD release an hour from now */
    tt_wallclock wc;
    tt_wallclock_init(&wc);
    tt_calendar_event cal;
    memset(&cal, 0, sizeof cal);
    cal.time = tt_wallclock_now(&wc) / TT_NS_PER_SEC * TT_NS_PER_SEC + TT_NS_PER_HOUR;
    cal.timed = 1;
    memcpy(cal.currency, "USD", 4);
    cal.impact = TT_IMPACT_HIGH;
    snprintf(cal.event, sizeof cal.event, "Non-Farm Employment Change");
    tt_calendar_value_parse("179K", &cal.forecast, NULL);
    char msg[1024];
    size_t len = tt_calendar_encode(&cal, msg, sizeof msg);
    assert_true(len > 0);
    assert_int_equal(natsConnection_Publish(pub, "market.external.economic_calendar", msg,
                                            (int)len),
                     NATS_OK);
    natsConnection_Flush(pub);
    tt_test_sleep_ms(400);
    assert_int_equal(tt_publish_run(tt_tape_reader_source(r), &pubo, &ps, &err), TT_OK);
    tt_tape_reader_close(r);
    tt_test_sleep_ms(400);
    tt_paper_stop(p);
    pthread_join(th, NULL);
    tt_backtest_close(bt);
    if (rn.rc)
        fail_msg("paper: %s", rn.err.msg);
    tt_paper_outputs out;
    tt_paper_outputs_get(p, &out);
    assert_int_equal(tt_paper_close(p, &err), TT_OK);

    /* what the strategy saw and what the gate decided */
    assert_non_null(last_rec);
    assert_int_equal(last_rec->quotes, 2000);
    assert_int_equal(last_rec->externals, 1);
    assert_string_equal(last_rec->event, "Non-Farm Employment Change");
    assert_true(last_rec->event_time == cal.time);
    assert_int_equal(rn.res.events, 2002); /* ticks, the external event, STOP */
    assert_int_equal(rn.res.risk_rejects, 5);
    assert_int_equal(count_status(&rn.res, TT_OS_REJECTED, TT_REASON_RISK), 5);
    assert_int_equal(count_status(&rn.res, TT_OS_FILLED, 0), 5);
    /* archived as received */
    assert_int_equal(out.kafka_failed + out.kafka_undelivered, 0);
    assert_int_equal(archived(msg, len), 1);

    /* the replay of the journal: the same decisions */
    tt_scenario_release(run);
    tt_scenario_free(s);
    memset(run, 0, sizeof *run);
    prepare(&s, run);
    tt_journal_reader *jr;
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
    assert_memory_equal(rr.orders, rn.res.orders, rr.norders * sizeof *rr.orders);
    assert_int_equal(rr.risk_rejects, 5);
    print_message("paper with an external event: 5 orders before the announcement filled, 5 "
                  "after refused (news_blackout), archived, replayed to the same fingerprint\n");
    tt_backtest_result_free(&rr);
    tt_backtest_result_free(&rn.res);
    tt_journal_reader_close(jr);
    tt_scenario_release(run);
    tt_scenario_free(s);
    free(run);
    natsConnection_Close(pub);
    natsConnection_Destroy(pub);
    tt_instruments_free(ins);
    tt_test_rmdir(dir);
}

static int setup(void **state)
{
    static tt_test_nats srv;
    memset(&srv, 0, sizeof srv);
    if (tt_test_nats_start(&srv) || tt_test_kafka_start(&kafka, 1))
        return -1;
    *state = &srv;
    return 0;
}

static int teardown(void **state)
{
    tt_test_nats_stop(*state);
    tt_test_kafka_stop(&kafka);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_external_live)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
