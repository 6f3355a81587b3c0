/*
 * The MT5 bridge on NATS (live/mt5_bus.h), end to end on a real nats-server:
 * the terminal stand-in connects to the connector (service 14), which
 * publishes its quotes on ticks.EURUSD; an engine fed by a NATS source sends
 * market orders through the NATS venue (orders.submitted.EURUSD) and gets
 * its fills back on broker.fill.EURUSD. Oracle: the stand-in's deal list
 * (every engine fill one deal). Also: an order event a sink publishes on
 * orders.submitted.* (no Tt-Type header) is not an order, and a command of
 * another engine session is refused on broker.error.*.
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
#include "live/mt5_bus.h"
#include "live/mt5_term.h"
#include "live/nats_source.h"
#include "live/wallclock.h"
#include "live/wire.h"
#include "live_helpers.h"
#include "mt5_helpers.h"

#define TAPE TT_SOURCE_DIR "/scenarios/data/eurusd-2019-02"

typedef struct ctx {
    tt_engine *e;
    tt_mt5_term *t;
    int erc, trc;
    tt_err eerr, terr;
} ctx;

static void *engine_main(void *arg)
{
    ctx *c = arg;
    c->erc = tt_engine_run(c->e, &c->eerr);
    return NULL;
}

static void *term_main(void *arg)
{
    ctx *c = arg;
    c->trc = tt_mt5_term_run(c->t, &c->terr);
    return NULL;
}

typedef struct heard {
    pthread_mutex_t mu;
    int rejected_foreign;
} heard;

static void on_error_msg(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    heard *h = closure;
    const char *sess = NULL, *type = NULL;
    natsMsgHeader_Get(m, TT_MT5_HDR_SESSION, &sess);
    natsMsgHeader_Get(m, TT_MT5_HDR_TYPE, &type);
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    if (sess && !strcmp(sess, "4242") && type && !strcmp(type, "ticktape.OrderEvent") &&
        !tt_wire_order_event_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &ev,
                                    NULL) &&
        ev.u.order_ev.status == TT_OS_REJECTED && ev.u.order_ev.client_id == 99) {
        pthread_mutex_lock(&h->mu);
        h->rejected_foreign++;
        pthread_mutex_unlock(&h->mu);
    }
    natsMsg_Destroy(m);
}

static void test_orders_over_nats(void **state)
{
    (void)state;
    tt_test_nats n = {0};
    if (tt_test_nats_start(&n))
        fail_msg("nats-server did not start");
    static const char *const syms[] = {"EURUSD", NULL};
    tt_mt5_connector_opts co;
    memset(&co, 0, sizeof co);
    co.nats_url = n.url;
    co.host = "127.0.0.1";
    co.secret = "s3cret";
    co.hb_ms = 250;
    co.symbols = syms;
    co.mode = TT_MODE_NETTING;
    co.answer_ms = 300;
    co.publish_ticks = 1;
    tt_mt5_connector *conn;
    tt_err err;
    if (tt_mt5_connector_open(&conn, &co, &err))
        fail_msg("%s", err.msg);

    /* the engine: quotes from ticks.>, orders through the NATS venue */
    tt_instruments *ins = tt_instruments_new();
    tt_wallclock clk;
    tt_wallclock_init(&clk);
    tt_inbox_opts io;
    memset(&io, 0, sizeof io);
    io.clock = &clk;
    tt_inbox *q;
    assert_int_equal(tt_inbox_new(&q, &io, &err), 0);
    tt_nats_source_opts so;
    memset(&so, 0, sizeof so);
    so.url = n.url;
    so.ins = ins;
    so.inbox = q;
    tt_nats_source *src;
    if (tt_nats_source_open(&src, &so, &err))
        fail_msg("%s", err.msg);
    tt_nats_venue_opts vo = {tt_nats_source_connection(src), ins, q, NULL, NULL};
    tt_nats_venue *nv;
    assert_int_equal(tt_nats_venue_new(&nv, &vo, &err), 0);
    strat s;
    memset(&s, 0, sizeof s);
    s.orders = tt_orders_new();
    s.eur = tt_instruments_find(ins, "EURUSD")->id;
    s.every = 150;
    s.max = 12;
    s.side = 1;
    ctx c;
    memset(&c, 0, sizeof c);
    c.e = tt_engine_new(ins);
    tt_engine_set_source(c.e, tt_inbox_source(q));
    tt_engine_set_clock(c.e, tt_inbox_clock(q));
    tt_engine_set_venue(c.e, tt_nats_venue_port(nv));
    tt_component sc;
    memset(&sc, 0, sizeof sc);
    sc.self = &s;
    sc.name = "test";
    sc.on_event = strat_event;
    tt_engine_add_component(c.e, sc);
    tt_inbox_watch(q, c.e);
    tt_inbox_push_control(q, TT_CTL_START, 0);
    pthread_t eth, tth;
    pthread_create(&eth, NULL, engine_main, &c);

    /* a watcher of broker.error.>, and the stand-in */
    natsConnection *w;
    assert_int_equal(natsConnection_ConnectTo(&w, n.url), NATS_OK);
    heard h = {PTHREAD_MUTEX_INITIALIZER, 0};
    natsSubscription *ws;
    assert_int_equal(natsConnection_Subscribe(&ws, w, "broker.error.>", on_error_msg, &h), NATS_OK);
    tt_mt5_term_opts to;
    memset(&to, 0, sizeof to);
    to.host = "127.0.0.1";
    to.port = tt_mt5_connector_port(conn);
    to.secret = "s3cret";
    to.tape_dir = TAPE;
    tt_ts_parse("2019-02-04T07:00:00", &to.from);
    to.to = to.from + 120LL * 60 * TT_NS_PER_SEC;
    to.speed = 3600;
    tt_mt5_sim_config_default(&to.account);
    to.account.comm = 35000000;
    if (tt_mt5_term_new(&c.t, &to, &err))
        fail_msg("%s", err.msg);
    pthread_create(&tth, NULL, term_main, &c);

    /* once the connector serves the engine's session: a sink's order event
     * (no header) and another session's order */
    for (int i = 0; i < 200 && !s.sent; i++)
        tt_test_sleep_ms(10);
    assert_true(s.sent > 0);
    tt_event cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = TT_EV_ORDER_CMD;
    cmd.symbol = s.eur;
    cmd.u.order_cmd.client_id = 99;
    cmd.u.order_cmd.cmd = TT_CMD_SUBMIT;
    cmd.u.order_cmd.qty = 10;
    cmd.u.order_cmd.type = TT_ORD_MARKET;
    cmd.u.order_cmd.tif = TT_TIF_GTC;
    cmd.u.order_cmd.side = TT_BUY;
    uint8_t buf[TT_WIRE_MSG_MAX];
    size_t len = tt_wire_output_encode(ins, &cmd, buf, sizeof buf);
    assert_int_equal(natsConnection_Publish(w, "orders.submitted.EURUSD", buf, (int)len), NATS_OK);
    natsMsg *m;
    natsMsg_Create(&m, "orders.submitted.EURUSD", NULL, (const char *)buf, (int)len);
    natsMsgHeader_Set(m, TT_MT5_HDR_TYPE, "ticktape.OrderCommand");
    natsMsgHeader_Set(m, TT_MT5_HDR_SESSION, "4242");
    assert_int_equal(natsConnection_PublishMsg(w, m), NATS_OK);
    natsMsg_Destroy(m);

    pthread_join(tth, NULL);
    tt_test_sleep_ms(400);
    tt_inbox_stop(q);
    pthread_join(eth, NULL);
    assert_int_equal(c.erc, 0);
    assert_int_equal(c.trc, 0);
    if (s.lifecycle_errors)
        fail_msg("%d lifecycle errors, the first: %s", s.lifecycle_errors, s.first_error);
    assert_int_equal(s.sent, 12);
    assert_int_equal(s.reasons[TT_REASON_FILL], 12);
    /* the headerless order event and the foreign order never reached the broker */
    check_fills_are_deals(tt_mt5_term_sim(c.t), &s, "", 1);
    pthread_mutex_lock(&h.mu);
    assert_int_equal(h.rejected_foreign, 1);
    pthread_mutex_unlock(&h.mu);

    natsSubscription_Destroy(ws);
    natsConnection_Destroy(w);
    tt_mt5_term_free(c.t);
    tt_engine_free(c.e);
    tt_nats_venue_free(nv);
    tt_nats_source_close(src);
    tt_inbox_free(q);
    tt_mt5_connector_close(conn);
    tt_orders_free(s.orders);
    tt_instruments_free(ins);
    tt_test_nats_stop(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders_over_nats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
