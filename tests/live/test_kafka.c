/*
 * Kafka source and sink against librdkafka's mock cluster (or a real cluster
 * named by TT_KAFKA_BROKERS; see kafka_helpers.h). Each run marks its
 * messages with a run-unique number so that a real, shared cluster holding
 * older messages does not confuse the checks.
 *
 *  - sink: outputs go to the seed's archive topics keyed by symbol, with the
 *    tt-type header; every message is acknowledged (delivery reports); a
 *    consumer reads them back and decodes them.
 *  - source: TickData produced to tick_archive (keyed by symbol, 3
 *    partitions) is consumed as a group member into the inbox; ticks of one
 *    symbol arrive in production order (one key, one partition); malformed
 *    ones are counted.
 *  - undelivered: with every broker down, flush reports the undelivered
 *    messages instead of losing them silently (mock cluster only).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "kafka_helpers.h"
#include "live/inbox.h"
#include "live/kafka_sink.h"
#include "live/kafka_source.h"
#include "live/wallclock.h"
#include "live/wire.h"

static tt_instruments *ins;
static tt_wallclock clk;
static tt_test_kafka kafka;
static uint64_t run_mark;

static void test_sink_archives(void **state)
{
    (void)state;
    tt_kafka_sink *s;
    tt_err err;
    tt_kafka_sink_opts o = {.brokers = kafka.brokers, .ins = ins};
    assert_int_equal(tt_kafka_sink_open(&s, &o, &err), TT_OK);
    tt_sink k = tt_kafka_sink_sink(s);
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    for (int i = 0; i < 10; i++) {
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.ts = 1549267200000LL * TT_NS_PER_MS + i;
        ev.symbol = eu;
        ev.kind = TT_EV_ORDER_EVENT;
        ev.u.order_ev.client_id = run_mark + (uint64_t)i;
        ev.u.order_ev.status = TT_OS_FILLED;
        assert_int_equal(k.write(k.self, &ev, &err), TT_OK);
        ev.kind = TT_EV_SIGNAL;
        memset(&ev.u, 0, sizeof ev.u);
        ev.u.signal.direction = 1;
        assert_int_equal(k.write(k.self, &ev, &err), TT_OK);
    }
    assert_int_equal(k.flush(k.self, &err), TT_OK);
    tt_kafka_sink_stats st;
    tt_kafka_sink_stats_get(s, &st);
    assert_int_equal(st.produced, 30); /* order events go to two topics */
    assert_int_equal(st.delivered, 30);
    assert_int_equal(st.failed, 0);
    tt_kafka_sink_close(s);

    /* Read order_execution_archive back from the beginning of each partition. */
    char errstr[256], group[64];
    snprintf(group, sizeof group, "tt-test-%llu", (unsigned long long)run_mark);
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", kafka.brokers, errstr, sizeof errstr);
    rd_kafka_conf_set(c, "group.id", group, errstr, sizeof errstr);
    rd_kafka_conf_set(c, "auto.offset.reset", "earliest", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, "order_execution_archive", RD_KAFKA_PARTITION_UA);
    assert_int_equal(rd_kafka_subscribe(rk, tl), 0);
    rd_kafka_topic_partition_list_destroy(tl);
    int found = 0;
    uint64_t next = run_mark;
    int64_t dl = tt_mono_ns() + 20 * TT_NS_PER_SEC;
    while (found < 10 && tt_mono_ns() < dl) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            tt_event ev;
            memset(&ev, 0, sizeof ev);
            assert_int_equal(tt_wire_order_event_decode(m->payload, m->len, &ev, &err), TT_OK);
            if (ev.u.order_ev.client_id >= run_mark && ev.u.order_ev.client_id < run_mark + 10) {
                assert_int_equal(m->key_len, 6);
                assert_memory_equal(m->key, "EURUSD", 6);
                rd_kafka_headers_t *h = NULL;
                const void *v;
                size_t vl;
                assert_int_equal(rd_kafka_message_headers(m, &h), 0);
                assert_int_equal(rd_kafka_header_get_last(h, "tt-type", &v, &vl), 0);
                assert_int_equal(vl, strlen("ticktape.OrderEvent"));
                assert_memory_equal(v, "ticktape.OrderEvent", vl);
                /* one key, one partition: in production order */
                assert_int_equal(ev.u.order_ev.client_id, next);
                next++;
                found++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    assert_int_equal(found, 10);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static void produce_ticks(int n, int bad)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", kafka.brokers, errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    assert_non_null(rk);
    const char *syms[] = {"EURUSD", "GBPUSD", "USDJPY"};
    for (int i = 0; i < n; i++) {
        const tt_instrument *in = tt_instruments_find(ins, syms[i % 3]);
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = TT_EV_QUOTE;
        ev.symbol = in->id;
        ev.ts = ((int64_t)run_mark + i) * TT_NS_PER_MS; /* the marker travels in the timestamp */
        ev.u.quote.bid = in->points + i;
        ev.u.quote.ask = in->points + i + 5;
        uint8_t buf[128];
        size_t len = tt_wire_tick_encode(ins, &ev, buf, sizeof buf);
        assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("tick_archive"),
                                           RD_KAFKA_V_KEY(in->symbol, strlen(in->symbol)),
                                           RD_KAFKA_V_VALUE(buf, len),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_END),
                         0);
    }
    for (int i = 0; i < bad; i++)
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("tick_archive"), RD_KAFKA_V_KEY("EURUSD", 6),
                          RD_KAFKA_V_VALUE("\xff\xff", 2), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END);
    assert_int_equal(rd_kafka_flush(rk, 10000), 0);
    rd_kafka_destroy(rk);
}

static void test_source_consumes_tick_archive(void **state)
{
    (void)state;
    produce_ticks(300, 2);
    tt_inbox *q;
    tt_err err;
    tt_inbox_opts io = {.capacity = 4096, .clock = &clk};
    assert_int_equal(tt_inbox_new(&q, &io, &err), TT_OK);
    char group[64];
    snprintf(group, sizeof group, "tt-src-%llu", (unsigned long long)run_mark);
    tt_kafka_source_opts so = {.brokers = kafka.brokers, .group = group, .from_beginning = 1,
                               .ins = ins, .inbox = q};
    tt_kafka_source *ks;
    assert_int_equal(tt_kafka_source_open(&ks, &so, &err), TT_OK);
    tt_source src = tt_inbox_source(q);
    int got = 0;
    int64_t last_i[4] = {-1, -1, -1, -1};
    tt_ts last_ts = 0;
    int64_t dl = tt_mono_ns() + 30 * TT_NS_PER_SEC;
    while (got < 300 && tt_mono_ns() < dl) {
        tt_event ev;
        int r = src.next(q, &ev, &err);
        assert_true(r >= 0);
        if (r != TT_SRC_EVENT)
            continue;
        assert_true(ev.ts > last_ts);
        last_ts = ev.ts;
        int64_t i = ev.ts_init / TT_NS_PER_MS - (int64_t)run_mark;
        if (i < 0 || i >= 300)
            continue; /* an older run's ticks on a real cluster */
        const tt_instrument *in = tt_instruments_get(ins, ev.symbol);
        assert_int_equal(ev.u.quote.bid, in->points + i);
        int k = (int)(i % 3);
        assert_true(i > last_i[k]); /* per symbol (key) in order */
        last_i[k] = i;
        got++;
    }
    assert_int_equal(got, 300);
    tt_kafka_source_stats st;
    dl = tt_mono_ns() + 5 * TT_NS_PER_SEC;
    do
        tt_kafka_source_stats_get(ks, &st);
    while (st.rejected < 2 && tt_mono_ns() < dl);
    if (!kafka.real)
        assert_int_equal(st.rejected, 2);
    tt_kafka_source_close(ks);
    tt_inbox_free(q);
}

static void test_undelivered_reported(void **state)
{
    (void)state;
    if (kafka.real)
        skip(); /* needs the mock cluster to take brokers down */
    rd_kafka_mock_broker_set_down(kafka.mc, -1);
    tt_kafka_sink *s;
    tt_err err;
    const char *conf[] = {"message.timeout.ms=800", NULL};
    tt_kafka_sink_opts o = {.brokers = kafka.brokers, .ins = ins, .conf = conf,
                            .flush_timeout_ms = 3000};
    assert_int_equal(tt_kafka_sink_open(&s, &o, &err), TT_OK);
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_RISK;
    ev.symbol = tt_instruments_find(ins, "EURUSD")->id;
    for (int i = 0; i < 5; i++)
        assert_int_equal(tt_kafka_sink_produce(s, &ev, &err), TT_OK);
    assert_int_equal(tt_kafka_sink_flush(s, &err), TT_ENET);
    assert_non_null(strstr(err.msg, "of 10 produced"));
    tt_kafka_sink_stats st;
    tt_kafka_sink_stats_get(s, &st);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.failed + st.undelivered, 10);
    tt_kafka_sink_close(s);
    rd_kafka_mock_broker_set_up(kafka.mc, -1);
}

int main(void)
{
    ins = tt_instruments_new();
    tt_wallclock_init(&clk);
    run_mark = (uint64_t)tt_wallclock_now(&clk) / TT_NS_PER_MS; /* unique per run */
    if (tt_test_kafka_start(&kafka, 3)) {
        fprintf(stderr, "cannot start the kafka mock cluster\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sink_archives),
        cmocka_unit_test(test_source_consumes_tick_archive),
        cmocka_unit_test(test_undelivered_reported),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tt_test_kafka_stop(&kafka);
    tt_instruments_free(ins);
    return rc;
}
