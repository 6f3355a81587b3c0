/*
 * Feature rows live: a paper session on NATS (nats-server on 127.0.0.1)
 * archiving to Kafka (librdkafka's mock cluster) with an `ml:` section of S1
 * bars whose features include the news group.
 *
 * 1000 real EURUSD ticks are published at 500 a second; then a calendar
 * message announcing a high-impact USD release an hour ahead; then 1000 more
 * ticks. Every closed bar's row is on features.EURUSD.1s (ticktape.FeatureRow)
 * and, the same bytes in the same order, on ml_features_archive keyed by the
 * symbol. The rows are checked against an independent composition over the
 * session's journal: tt_ml_dataset_build (the bar component with its close
 * timers, the exporter's feature feed) gives the same bars and bit-identical
 * values for every feature but the news group; the news features are NaN for
 * the bars that closed before the announcement arrived (the schedule did not
 * hold it yet) and the exact minutes to the release after it.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/external.h"
#include "core/features.h"
#include "kafka_helpers.h"
#include "live/features_pub.h"
#include "live/journal.h"
#include "live/paper.h"
#include "live/publish.h"
#include "live/wallclock.h"
#include "live_helpers.h"
#include "ml/dataset.h"
#include "sim/scenario.h"
#include "ticktape.pb-c.h"

static tt_test_kafka kafka;

static const char SCENARIO[] =
    "name: paper-features\n"
    "seed: 3\n"
    "data:\n"
    "  tape: unused\n"
    "  symbols: [EURUSD]\n"
    "account: {currency: USD, balance: 10000, leverage: 100}\n"
    "strategy: {name: buy_and_hold}\n"
    "ml:\n"
    "  timeframe: S1\n"
    "  features: [ret_1, logret_1, rsi_7, ticks, spread_rel, spread_max_rel, body_ratio, news]\n"
    "  label: {kind: sign, horizon: 2}\n";

#define NCOLS 11 /* 7 listed + the 4 of the news group */
#define MAXMSG 512

typedef struct msgs {
    int n;
    size_t len[MAXMSG];
    uint8_t *data[MAXMSG];
} msgs;

static void msgs_free(msgs *m)
{
    for (int i = 0; i < m->n; i++)
        free(m->data[i]);
    m->n = 0;
}

static void msgs_add(msgs *m, const void *p, size_t len)
{
    if (m->n == MAXMSG)
        return;
    m->data[m->n] = malloc(len ? len : 1);
    memcpy(m->data[m->n], p, len);
    m->len[m->n++] = len;
}

/* Every message of ml_features_archive, keyed EURUSD. */
static void archived(msgs *out)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", kafka.brokers, errstr, sizeof errstr);
    rd_kafka_conf_set(c, "group.id", "tt-test-features", errstr, sizeof errstr);
    rd_kafka_conf_set(c, "auto.offset.reset", "earliest", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, "ml_features_archive", RD_KAFKA_PARTITION_UA);
    assert_int_equal(rd_kafka_subscribe(rk, tl), 0);
    rd_kafka_topic_partition_list_destroy(tl);
    int64_t dl = tt_mono_ns() + 15 * TT_NS_PER_SEC, quiet = 0;
    while (tt_mono_ns() < dl && !(out->n && quiet > 20)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            quiet++;
            continue;
        }
        quiet = 0;
        if (!m->err) {
            assert_int_equal(m->key_len, 6);
            assert_memory_equal(m->key, "EURUSD", 6);
            msgs_add(out, m->payload, m->len);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

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

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *ctx)
{
    (void)nc;
    (void)sub;
    if (!strcmp(natsMsg_GetSubject(m), "features.EURUSD.1s"))
        msgs_add(ctx, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
    natsMsg_Destroy(m);
}

/* The scenario's columns: seven of the default set, then the news group. */
static void selection(int *sel)
{
    const char *names[7] = {"ret_1", "logret_1", "rsi_7", "ticks", "spread_rel",
                            "spread_max_rel", "body_ratio"};
    for (int i = 0; i < 7; i++)
        sel[i] = tt_feature_find(names[i]);
    for (int i = 0; i < 4; i++)
        sel[7 + i] = tt_feature_default_count() + i;
}

/* The session's rows against the dataset built from its journal. */
static void check_rows(const msgs *nats, const char *journal, tt_ts announced_at, tt_ts release)
{
    tt_instruments *ins = tt_instruments_new();
    tt_journal_reader *jr;
    tt_err err;
    assert_int_equal(tt_journal_reader_open(&jr, journal, ins, &err), TT_OK);
    tt_source src = tt_journal_reader_source(jr);
    int sel[NCOLS];
    selection(sel);
    tt_ml_data_cfg cfg = {.instruments = ins, .source = &src, .symbol = "EURUSD", .tf = TT_TF_S1,
                          .side = TT_SIDE_BID, .features = sel, .nfeatures = 11};
    tt_ml_dataset d;
    assert_int_equal(tt_ml_dataset_build(&cfg, &d, &err), TT_OK);
    assert_int_equal((int)d.n, nats->n);
    int before = 0, after = 0;
    for (int i = 0; i < nats->n; i++) {
        Ticktape__FeatureRow *m = ticktape__feature_row__unpack(NULL, nats->len[i],
                                                                nats->data[i]);
        assert_non_null(m);
        assert_string_equal(m->symbol, "EURUSD");
        assert_string_equal(m->timeframe, "S1");
        assert_string_equal(m->side, "bid");
        assert_int_equal(m->n_values, 11);
        assert_int_equal(m->n_names, 11);
        assert_int_equal(m->open_time_ns, d.open_ts[i]);
        assert_int_equal(m->close_time_ns, d.close_ts[i]);
        assert_int_equal(m->timestamp, d.close_ts[i] / TT_NS_PER_MS);
        const double *row = tt_ml_dataset_row(&d, i);
        for (int j = 0; j < 11; j++) {
            assert_string_equal(m->names[j], tt_feature_name(sel[j]));
            if (j < 7) { /* bit for bit, NaN where the dataset has NaN */
                assert_int_equal(isnan(m->values[j]), isnan(row[j]));
                if (!isnan(row[j]))
                    assert_memory_equal(&m->values[j], &row[j], sizeof(double));
            }
        }
        /* news: unknown before the announcement arrived, exact after */
        if (m->close_time_ns < announced_at) {
            before++;
            for (int j = 7; j < 11; j++)
                assert_true(isnan(m->values[j]));
        } else if (m->close_time_ns > announced_at + TT_NS_PER_SEC) {
            after++;
            double mins = (double)(release - m->close_time_ns) / (double)TT_NS_PER_MIN;
            assert_true(m->values[7] == mins && m->values[9] == mins);
            assert_true(isnan(m->values[8]) && isnan(m->values[10]));
        }
        ticktape__feature_row__free_unpacked(m, NULL);
    }
    assert_true(before >= 1 && after >= 1);
    print_message("%d rows on features.EURUSD.1s and ml_features_archive, equal to the journal's "
                  "dataset; news features unknown on %d rows before the announcement, exact on "
                  "%d after\n", nats->n, before, after);
    tt_ml_dataset_free(&d);
    tt_journal_reader_close(jr);
    tt_instruments_free(ins);
}

static void test_features_live(void **state)
{
    tt_test_nats *srv = *state;
    char dir[4096], tape[4200], journal[4200];
    tt_test_tmpdir(dir, sizeof dir, "paper-features");
    snprintf(tape, sizeof tape, "%s/tape", dir);
    snprintf(journal, sizeof journal, "%s/journal", dir);
    assert_true(tt_test_eurusd_tape(tape, 8, 9) > 2000);

    tt_scenario *s;
    tt_scenario_run *run = calloc(1, sizeof *run);
    tt_err err;
    if (tt_scenario_parse(&s, SCENARIO, strlen(SCENARIO), "paper-features.yaml", NULL, &err) ||
        tt_scenario_prepare(s, run, &err))
        fail_msg("%s", err.msg);
    int sel[NCOLS];
    selection(sel);
    tt_features_stream fs = {.symbol = tt_instruments_find(run->instruments, "EURUSD")->id,
                             .tf = TT_TF_S1, .side = TT_SIDE_BID, .cols = sel, .ncols = 11,
                             .publish = 1};
    tt_features_pub_opts fo = {.ins = run->instruments, .streams = &fs, .nstreams = 1};
    tt_features_pub *fp;
    assert_int_equal(tt_features_pub_new(&fp, &fo, &err), TT_OK);

    natsConnection *pub = NULL;
    assert_int_equal(natsConnection_ConnectTo(&pub, srv->url), NATS_OK);
    static msgs got;
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_Subscribe(&sub, pub, "features.>", on_msg, &got), NATS_OK);
    natsConnection_Flush(pub);

    tt_paper_opts po = {.nats_url = srv->url, .kafka_brokers = kafka.brokers,
                        .journal_dir = journal, .features = fp};
    tt_paper *p;
    tt_backtest *bt;
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
    tt_publish_opts pubo = {.nc = pub, .ins = ins, .rate = 500, .limit = 1000};
    tt_publish_stats ps;
    assert_int_equal(tt_publish_run(tt_tape_reader_source(r), &pubo, &ps, &err), TT_OK);
    tt_test_sleep_ms(300);

    tt_wallclock wc;
    tt_wallclock_init(&wc);
    tt_ts announced_at = tt_wallclock_now(&wc);
    tt_calendar_event cal;
    memset(&cal, 0, sizeof cal);
    cal.time = announced_at / TT_NS_PER_SEC * TT_NS_PER_SEC + TT_NS_PER_HOUR;
    cal.timed = 1;
    memcpy(cal.currency, "USD", 4);
    cal.impact = TT_IMPACT_HIGH;
    snprintf(cal.event, sizeof cal.event, "ISM Services PMI");
    char msg[1024];
    size_t len = tt_calendar_encode(&cal, msg, sizeof msg);
    assert_int_equal(natsConnection_Publish(pub, "market.external.economic_calendar", msg,
                                            (int)len),
                     NATS_OK);
    natsConnection_Flush(pub);
    tt_test_sleep_ms(300);
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
    assert_int_equal(out.kafka_failed + out.kafka_undelivered, 0);
    tt_features_pub_stats st;
    tt_features_pub_stats_get(fp, &st);
    tt_features_pub_free(fp);
    natsConnection_Flush(pub);
    tt_test_sleep_ms(200);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);

    assert_true(got.n >= 4);
    assert_int_equal(st.rows, (uint64_t)got.n);
    assert_int_equal(st.published, (uint64_t)got.n);
    static msgs ka;
    archived(&ka);
    assert_int_equal(ka.n, got.n); /* the same bytes, in the same order */
    for (int i = 0; i < got.n; i++) {
        assert_int_equal(ka.len[i], got.len[i]);
        assert_memory_equal(ka.data[i], got.data[i], got.len[i]);
    }
    /* the journal's STOP is stamped after the last tick: stamp times in the
     * journal are the session's, so the dataset over it sees the same bars */
    check_rows(&got, journal, announced_at, cal.time);
    msgs_free(&got);
    msgs_free(&ka);
    tt_backtest_result_free(&rn.res);
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
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_features_live)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
