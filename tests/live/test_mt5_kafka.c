/*
 * A live session's Kafka outputs (the seed's contract): against the
 * terminal stand-in and librdkafka's mock cluster (or a real one named by
 * TT_KAFKA_BROKERS, see kafka_helpers.h), every bridge frame in and out is
 * one message on broker_communication_log (key "in" or "out", the frame's
 * text as the value, header tt-type mt5.frame; the engine's order messages
 * are there too, as in paper), and the order lifecycle is on
 * order_execution_archive.
 * Oracles: the stand-in's own counts (requests it read, deals it made, ticks
 * it sent) and the session's count of order events. A run-unique session
 * tag in the frames (the magic numbers) keeps a shared real cluster's older
 * messages out of the counts.
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
#include "kafka_helpers.h"
#include "live/mt5_term.h"
#include "live/trading.h"
#include "live/wallclock.h"
#include "live/wire.h"
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

static void on_log(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}

/* Messages of a topic from the beginning: counted by key and by the first
 * word of the value; those of order_execution_archive decoded. */
typedef struct counts {
    uint64_t in, out, order, deal, tick, order_events, fills;
    uint64_t engine; /* broker_communication_log: the engine's order messages (as in paper) */
} counts;

/* 1 when the frame's magic number carries the session's tag. */
static int of_session(const char *v, size_t len, uint64_t tag)
{
    char line[2100];
    snprintf(line, sizeof line, "%.*s", (int)(len < 2048 ? len : 2048), v);
    const char *m = strstr(line, " magic=");
    return m && strtoull(m + 7, NULL, 10) >> 32 == tag;
}

static void consume(const char *brokers, const char *topic, uint64_t want, uint64_t tag,
                    counts *c)
{
    char errstr[256], group[64];
    snprintf(group, sizeof group, "tt-mt5-kafka-%d-%s", getpid(), topic);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, topic, RD_KAFKA_PARTITION_UA);
    assert_int_equal(rd_kafka_subscribe(rk, tl), 0);
    rd_kafka_topic_partition_list_destroy(tl);
    uint64_t got = 0;
    int64_t dl = tt_mono_ns() + 30 * TT_NS_PER_SEC, idle_since = 0;
    while (tt_mono_ns() < dl && !(got >= want && idle_since &&
                                  tt_mono_ns() - idle_since > TT_NS_PER_SEC)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            if (!idle_since)
                idle_since = tt_mono_ns();
            continue;
        }
        idle_since = 0;
        if (!m->err && !strcmp(topic, "order_execution_archive")) {
            tt_event ev;
            tt_err err;
            memset(&ev, 0, sizeof ev);
            assert_int_equal(tt_wire_order_event_decode(m->payload, m->len, &ev, &err), TT_OK);
            c->order_events++;
            c->fills += ev.u.order_ev.fill_qty > 0;
            got++;
        } else if (!m->err) {
            rd_kafka_headers_t *h = NULL;
            const void *hv = NULL;
            size_t hl = 0;
            if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, "tt-type", &hv,
                                                                             &hl))
                fail_msg("broker_communication_log: a message without tt-type");
            if (hl != 9 || memcmp(hv, "mt5.frame", 9)) {
                c->engine++; /* an OrderCommand or OrderEvent of the engine's, keyed by symbol */
                rd_kafka_message_destroy(m);
                continue;
            }
            const char *v = m->payload;
            int mine = of_session(v, m->len, tag);
            if (m->key_len == 2 && !memcmp(m->key, "in", 2))
                c->in++;
            else if (m->key_len == 3 && !memcmp(m->key, "out", 3))
                c->out++;
            else
                fail_msg("broker_communication_log: key %.*s", (int)m->key_len,
                         (const char *)m->key);
            c->order += m->len > 6 && !memcmp(v, "ORDER ", 6) && mine;
            c->deal += m->len > 5 && !memcmp(v, "DEAL ", 5) && mine;
            c->tick += m->len > 5 && !memcmp(v, "TICK ", 5);
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static void test_frames_and_lifecycle_on_kafka(void **state)
{
    (void)state;
    tt_test_kafka kafka;
    assert_int_equal(tt_test_kafka_start(&kafka, 1), 0);
    tt_instruments *ins = tt_instruments_new();
    static const char *const syms[] = {"EURUSD", NULL};
    tt_trading_opts o;
    memset(&o, 0, sizeof o);
    o.mt5_host = "127.0.0.1";
    o.mt5_port = tt_test_free_port();
    o.secret = "s3cret";
    o.hb_ms = 250;
    o.symbols = syms;
    o.mode = TT_MODE_NETTING;
    o.answer_ms = 300;
    o.kafka_brokers = kafka.brokers;
    o.log = on_log;
    tt_trading *l;
    tt_err err;
    if (tt_trading_open(&l, ins, &o, &err))
        fail_msg("%s", err.msg);
    strat s;
    memset(&s, 0, sizeof s);
    s.orders = tt_orders_new();
    s.eur = tt_instruments_find(ins, "EURUSD")->id;
    s.every = 100;
    s.max = 8;
    s.side = 1;
    s.serial = 1;
    tt_engine *e = tt_engine_new(ins);
    tt_engine_set_source(e, tt_trading_source(l));
    tt_engine_set_clock(e, tt_trading_clock(l));
    tt_engine_set_venue(e, tt_trading_venue(l));
    tt_component cs[4];
    int n = tt_trading_components(l, cs, 4);
    for (int i = 0; i < n; i++)
        tt_engine_add_component(e, cs[i]);
    tt_sink sinks[4];
    n = tt_trading_sinks(l, sinks, 4);
    for (int i = 0; i < n; i++)
        tt_engine_add_sink(e, sinks[i]);
    tt_component c;
    memset(&c, 0, sizeof c);
    c.self = &s;
    c.name = "test";
    c.on_event = strat_event;
    tt_engine_add_component(e, c);
    run r = {e, 0, {0}};
    pthread_t eth, tth;
    pthread_create(&eth, NULL, engine_main, &r);

    term_run tr;
    memset(&tr, 0, sizeof tr);
    tt_mt5_term_opts to;
    memset(&to, 0, sizeof to);
    to.host = "127.0.0.1";
    to.port = o.mt5_port;
    to.secret = "s3cret";
    to.tape_dir = TAPE;
    tt_ts_parse("2019-02-04T07:00:00", &to.from);
    to.to = to.from + 90LL * 60 * TT_NS_PER_SEC;
    to.rate = 4000;
    tt_mt5_sim_config_default(&to.account);
    if (tt_mt5_term_new(&tr.t, &to, &err))
        fail_msg("%s", err.msg);
    pthread_create(&tth, NULL, term_main, &tr);
    pthread_join(tth, NULL);
    assert_int_equal(tr.rc, 0);
    tt_test_sleep_ms(300);
    tt_trading_stop(l);
    pthread_join(eth, NULL);
    assert_int_equal(r.rc, 0);
    tt_trading_status st;
    tt_trading_status_get(l, &st);
    assert_int_equal(tt_trading_close(l, &err), 0); /* flushes the producers */

    const tt_mt5_term_stats *ts = tt_mt5_term_stats_get(tr.t);
    size_t deals = tt_mt5_sim_deals(tt_mt5_term_sim(tr.t));
    assert_int_equal(s.sent, 8);
    assert_int_equal(ts->requests, 8);
    assert_true(deals >= 8);
    check_fills_are_deals(tt_mt5_term_sim(tr.t), &s, "", 1);
    /* the session's tag, in every magic number of its frames */
    uint64_t tag = tt_mt5_sim_deal(tt_mt5_term_sim(tr.t), 0)->magic >> 32;
    counts k;
    memset(&k, 0, sizeof k);
    consume(kafka.brokers, "broker_communication_log", st.wire_frames, tag, &k);
    assert_true(st.wire_frames > ts->ticks_sent);
    assert_int_equal(k.in + k.out, st.wire_frames); /* every frame, once */
    if (!kafka.real) {
        assert_int_equal(k.tick, ts->ticks_sent);
        assert_int_equal(k.in, ts->frames_out);
        /* ticktape may have written a frame (a heartbeat) the stand-in, leaving, never read */
        assert_true(k.out >= ts->frames_in && k.out <= ts->frames_in + 2);
    }
    assert_int_equal(k.order, ts->requests);
    assert_int_equal(k.deal, deals);
    assert_true(k.engine >= deals); /* the engine's order messages too (docs/live.md) */
    memset(&k, 0, sizeof k);
    consume(kafka.brokers, "order_execution_archive", st.order_events, tag, &k);
    if (!kafka.real)
        assert_int_equal(k.order_events, st.order_events);
    assert_true(k.fills >= deals);

    tt_engine_free(e);
    tt_mt5_term_free(tr.t);
    tt_orders_free(s.orders);
    tt_instruments_free(ins);
    tt_test_kafka_stop(&kafka);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_and_lifecycle_on_kafka),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
