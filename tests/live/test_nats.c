/*
 * NATS source, sink, publisher and journal against a real nats-server
 * (started here on 127.0.0.1 and a free port).
 *
 *  - Round trip: real Dukascopy EURUSD ticks (2019-02-04 07:00-08:00) imported
 *    into a tape, published as TickData at full speed, received by the NATS
 *    source into an inbox journaled to disk; the journal read back holds every
 *    tick with the tape's prices and the tape's time (ms) in ts_init, arrival
 *    stamps strictly increasing, and equals what the consumer saw.
 *  - Malformed messages are counted and logged with their subject; JSON ticks
 *    and external events decode.
 *  - The server is restarted mid-session: the client reconnects, the journal
 *    has GAP_BEGIN/GAP_END between the ticks before and after, nothing is lost
 *    on either side of the gap.
 *  - The sink publishes order events on orders.{status}.{SYMBOL}.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "live/inbox.h"
#include "live/journal.h"
#include "live/nats_sink.h"
#include "live/nats_source.h"
#include "live/publish.h"
#include "live/wire.h"
#include "live_helpers.h"

static tt_instruments *ins;
static tt_wallclock clk;

typedef struct logbuf {
    char lines[64][512];
    int n;
    pthread_mutex_t mu;
} logbuf;

static void log_line(void *ctx, const char *line)
{
    logbuf *l = ctx;
    pthread_mutex_lock(&l->mu);
    if (l->n < 64)
        snprintf(l->lines[l->n++], sizeof l->lines[0], "%s", line);
    pthread_mutex_unlock(&l->mu);
}

static int log_has(logbuf *l, const char *needle)
{
    int found = 0;
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n; i++)
        found |= strstr(l->lines[i], needle) != NULL;
    pthread_mutex_unlock(&l->mu);
    return found;
}

typedef struct session {
    tt_inbox *q;
    tt_journal *j;
    tt_nats_source *src;
    logbuf log;
    char dir[4096];
} session;

static void session_open(session *s, const char *url, const char *name, int json)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->log.mu, NULL);
    tt_test_tmpdir(s->dir, sizeof s->dir, name);
    tt_err err;
    char jdir[4200];
    snprintf(jdir, sizeof jdir, "%s/journal", s->dir);
    assert_int_equal(tt_journal_open(&s->j, jdir, ins, NULL, &err), TT_OK);
    tt_inbox_opts io;
    memset(&io, 0, sizeof io);
    io.capacity = 1 << 18;
    io.clock = &clk;
    io.tap = tt_journal_sink(s->j);
    io.log = log_line;
    io.log_ctx = &s->log;
    assert_int_equal(tt_inbox_new(&s->q, &io, &err), TT_OK);
    tt_nats_source_opts so;
    memset(&so, 0, sizeof so);
    so.url = url;
    so.ins = ins;
    so.inbox = s->q;
    so.json_ticks = json;
    so.reconnect_wait_ms = 50;
    so.log = log_line;
    so.log_ctx = &s->log;
    if (tt_nats_source_open(&s->src, &so, &err))
        fail_msg("%s", err.msg);
}

/* Drain until `want` events were delivered or 10 s pass; returns delivered. */
static size_t drain(session *s, tt_event *out, size_t cap, size_t want)
{
    tt_source src = tt_inbox_source(s->q);
    size_t n = 0;
    int64_t deadline = tt_mono_ns() + 10 * TT_NS_PER_SEC;
    tt_err err;
    while (n < want && tt_mono_ns() < deadline) {
        tt_event ev;
        int r = src.next(s->q, &ev, &err);
        assert_true(r >= 0);
        if (r == TT_SRC_EVENT && n < cap)
            out[n++] = ev;
    }
    return n;
}

static void session_close(session *s, tt_event *out, size_t cap, size_t *n)
{
    tt_nats_source_close(s->src);
    tt_inbox_stop(s->q);
    tt_source src = tt_inbox_source(s->q);
    tt_err err;
    tt_event ev;
    int r;
    while ((r = src.next(s->q, &ev, &err)) != TT_SRC_END) {
        assert_true(r >= 0);
        if (r == TT_SRC_EVENT && out && *n < cap)
            out[(*n)++] = ev;
    }
    assert_int_equal(tt_journal_close(s->j, &err), TT_OK);
    tt_inbox_free(s->q);
}

static size_t read_journal(const char *dir, tt_event *out, size_t cap)
{
    char jdir[4200];
    snprintf(jdir, sizeof jdir, "%s/journal", dir);
    tt_journal_reader *r;
    tt_err err;
    if (tt_journal_reader_open(&r, jdir, ins, &err))
        fail_msg("%s", err.msg);
    size_t n = 0;
    tt_event ev;
    int rc;
    static uint8_t payloads[1 << 16]; /* blob bytes outlive the reader */
    size_t used = 0;
    while ((rc = tt_journal_reader_next(r, &ev, &err)) == 1) {
        if ((ev.kind == TT_EV_EXTERNAL || ev.kind == TT_EV_BLOB) &&
            used + ev.u.blob.len <= sizeof payloads) {
            memcpy(payloads + used, ev.u.blob.data, ev.u.blob.len);
            ev.u.blob.data = payloads + used;
            used += ev.u.blob.len;
        }
        if (n < cap)
            out[n++] = ev;
    }
    assert_int_equal(rc, 0);
    tt_journal_reader_close(r);
    return n;
}

static natsConnection *connect_or_fail(const char *url)
{
    natsConnection *nc = NULL;
    natsStatus st = natsConnection_ConnectTo(&nc, url);
    if (st != NATS_OK)
        fail_msg("connect %s: %s", url, natsStatus_GetText(st));
    return nc;
}

static void test_roundtrip_real_ticks(void **state)
{
    tt_test_nats *srv = *state;
    char tape[4096];
    tt_test_tmpdir(tape, sizeof tape, "tape");
    long nticks = tt_test_eurusd_tape(tape, 7, 8);
    assert_true(nticks > 1000);

    session s;
    session_open(&s, srv->url, "roundtrip", 0);
    tt_tape_reader *r;
    tt_err err;
    tt_tape_query q = {0};
    assert_int_equal(tt_tape_reader_open(&r, tape, &q, ins, &err), TT_OK);
    natsConnection *nc = connect_or_fail(srv->url);
    tt_publish_opts po = {.nc = nc, .ins = ins};
    tt_publish_stats ps;
    assert_int_equal(tt_publish_run(tt_tape_reader_source(r), &po, &ps, &err), TT_OK);
    tt_tape_reader_close(r);
    assert_int_equal(ps.published, (uint64_t)nticks);

    tt_event *seen = calloc((size_t)nticks + 8, sizeof *seen);
    size_t nseen = drain(&s, seen, (size_t)nticks + 8, (size_t)nticks);
    session_close(&s, seen, (size_t)nticks + 8, &nseen);
    assert_int_equal(nseen, (size_t)nticks + 1); /* + STOP */
    tt_nats_source_stats st;
    (void)st;

    tt_event *jr = calloc((size_t)nticks + 8, sizeof *jr);
    size_t nj = read_journal(s.dir, jr, (size_t)nticks + 8);
    assert_int_equal(nj, nseen);
    assert_memory_equal(jr, seen, nj * sizeof *jr); /* the journal is what the engine saw */

    /* Against the tape: same ticks, same order (one publisher, one subject). */
    assert_int_equal(tt_tape_reader_open(&r, tape, &q, ins, &err), TT_OK);
    tt_ts last = 0;
    for (size_t i = 0; i < (size_t)nticks; i++) {
        tt_event t;
        assert_int_equal(tt_tape_reader_next(r, &t, &err), 1);
        assert_int_equal(jr[i].kind, TT_EV_QUOTE);
        assert_int_equal(jr[i].symbol, t.symbol);
        assert_int_equal(jr[i].u.quote.bid, t.u.quote.bid);
        assert_int_equal(jr[i].u.quote.ask, t.u.quote.ask);
        assert_int_equal(jr[i].ts_init, t.ts); /* Dukascopy times are whole ms */
        assert_true(jr[i].ts > last);
        last = jr[i].ts;
    }
    tt_tape_reader_close(r);
    assert_int_equal(jr[nticks].kind, TT_EV_CONTROL);
    assert_int_equal(jr[nticks].u.control.op, TT_CTL_STOP);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    free(seen);
    free(jr);
    tt_test_rmdir(tape);
    tt_test_rmdir(s.dir);
}

static void test_malformed_and_json(void **state)
{
    tt_test_nats *srv = *state;
    session s;
    session_open(&s, srv->url, "malformed", 1);
    natsConnection *nc = connect_or_fail(srv->url);
    const char garbage[] = "\x0a\xff\xff\x01";
    natsConnection_Publish(nc, "ticks.EURUSD", garbage, sizeof garbage - 1);
    const char *unknown = "{\"symbol\":\"NOPE\",\"bid\":1,\"ask\":2,\"timestamp\":1}";
    natsConnection_Publish(nc, "ticks.NOPE", unknown, (int)strlen(unknown));
    const char *good = "{\"symbol\":\"GBPUSD\",\"bid\":1.29001,\"ask\":1.29012,\"timestamp\":1549267200000}";
    natsConnection_Publish(nc, "ticks.GBPUSD", good, (int)strlen(good));
    const char *ext = "{\"event\":\"NFP\",\"value\":304}";
    natsConnection_Publish(nc, "market.external.economic_calendar", ext, (int)strlen(ext));
    const char bad_bar[] = "\x01\x02\x03";
    natsConnection_Publish(nc, "bars.EURUSD.1m", bad_bar, 3);
    natsConnection_Flush(nc);
    tt_event ev[8];
    size_t n = drain(&s, ev, 8, 2);
    assert_int_equal(n, 2);
    /* Different subjects arrive on different nats.c threads: any order. */
    int qi = ev[0].kind == TT_EV_QUOTE ? 0 : 1;
    assert_int_equal(ev[qi].kind, TT_EV_QUOTE);
    assert_int_equal(ev[qi].symbol, tt_instruments_find(ins, "GBPUSD")->id);
    assert_int_equal(ev[qi].u.quote.bid, 129001);
    assert_int_equal(ev[1 - qi].kind, TT_EV_EXTERNAL);
    assert_int_equal(ev[1 - qi].u.blob.type, TT_EXT_ECONOMIC_CALENDAR);
    assert_true(ev[1 - qi].u.blob.value == 304.0);
    /* The two accepted events are drained; the three rejections run on other
       nats.c threads and may still be in flight: wait for them (5 s at most). */
    tt_nats_source_stats st;
    for (int i = 0; i < 500; i++) {
        tt_nats_source_stats_get(s.src, &st);
        if (st.rejected >= 3)
            break;
        nats_Sleep(10);
    }
    assert_int_equal(st.received, 5);
    assert_int_equal(st.rejected, 3);
    assert_true(log_has(&s.log, "ticks.EURUSD: TickData: not a valid protobuf"));
    assert_true(log_has(&s.log, "ticks.NOPE: JSON tick: field 'symbol': unknown instrument 'NOPE'"));
    assert_true(log_has(&s.log, "bars.EURUSD.1m: Bar"));
    size_t m = 0;
    session_close(&s, NULL, 0, &m);
    tt_event jr[8];
    size_t nj = read_journal(s.dir, jr, 8);
    assert_int_equal(nj, 3); /* the quote, the external event, STOP */
    assert_int_equal(jr[1 - qi].u.blob.len, strlen(ext));
    assert_memory_equal(jr[1 - qi].u.blob.data, ext, strlen(ext));
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    tt_test_rmdir(s.dir);
}

static void publish_quotes(const char *url, int from, int n)
{
    natsConnection *nc = connect_or_fail(url);
    for (int i = 0; i < n; i++) {
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = TT_EV_QUOTE;
        ev.symbol = tt_instruments_find(ins, "EURUSD")->id;
        ev.ts = (1549267200000LL + from + i) * TT_NS_PER_MS;
        ev.u.quote.bid = 114000 + from + i;
        ev.u.quote.ask = ev.u.quote.bid + 2;
        uint8_t buf[128];
        size_t len = tt_wire_tick_encode(ins, &ev, buf, sizeof buf);
        natsConnection_Publish(nc, "ticks.EURUSD", buf, (int)len);
    }
    natsConnection_Flush(nc);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
}

static void test_server_restart_marks_gap(void **state)
{
    tt_test_nats *srv = *state;
    session s;
    session_open(&s, srv->url, "restart", 0);
    publish_quotes(srv->url, 0, 100);
    tt_event *ev = calloc(256, sizeof *ev);
    size_t n = drain(&s, ev, 256, 100);
    assert_int_equal(n, 100);

    tt_test_nats_stop(srv);
    int64_t dl = tt_mono_ns() + 5 * TT_NS_PER_SEC;
    tt_nats_source_stats st;
    do {
        tt_test_sleep_ms(10);
        tt_nats_source_stats_get(s.src, &st);
    } while (!st.disconnects && tt_mono_ns() < dl);
    assert_int_equal(st.disconnects, 1);
    assert_int_equal(tt_test_nats_start(srv), 0); /* same port */
    dl = tt_mono_ns() + 10 * TT_NS_PER_SEC;
    do {
        tt_test_sleep_ms(10);
        tt_nats_source_stats_get(s.src, &st);
    } while (!st.reconnects && tt_mono_ns() < dl);
    assert_int_equal(st.reconnects, 1);
    tt_test_sleep_ms(50); /* subscriptions are replayed to the new server */
    publish_quotes(srv->url, 100, 100);
    n += drain(&s, ev + n, 256 - n, 102);
    session_close(&s, ev, 256, &n);
    assert_int_equal(n, 203); /* 200 ticks, two gap marks, STOP */
    assert_true(log_has(&s.log, "disconnected"));
    assert_true(log_has(&s.log, "reconnected"));

    tt_event *jr = calloc(256, sizeof *jr);
    size_t nj = read_journal(s.dir, jr, 256);
    assert_int_equal(nj, 203);
    assert_memory_equal(jr, ev, nj * sizeof *jr);
    assert_int_equal(jr[100].kind, TT_EV_CONTROL);
    assert_int_equal(jr[100].u.control.op, TT_CTL_GAP_BEGIN);
    assert_int_equal(jr[101].kind, TT_EV_CONTROL);
    assert_int_equal(jr[101].u.control.op, TT_CTL_GAP_END);
    assert_int_equal(jr[101].u.control.arg, 1);
    for (int i = 0; i < 200; i++) {
        const tt_event *t = &jr[i < 100 ? i : i + 2];
        assert_int_equal(t->kind, TT_EV_QUOTE);
        assert_int_equal(t->u.quote.bid, 114000 + i);
    }
    free(ev);
    free(jr);
    tt_test_rmdir(s.dir);
}

static void test_sink_publishes_orders(void **state)
{
    tt_test_nats *srv = *state;
    natsConnection *sub_nc = connect_or_fail(srv->url);
    natsSubscription *sub;
    assert_int_equal(natsConnection_SubscribeSync(&sub, sub_nc, "orders.>"), NATS_OK);
    natsConnection_Flush(sub_nc);
    tt_nats_sink *sink;
    tt_err err;
    tt_nats_sink_opts o = {.url = srv->url, .ins = ins, .send_asap = 1};
    assert_int_equal(tt_nats_sink_open(&sink, &o, &err), TT_OK);
    tt_sink k = tt_nats_sink_sink(sink);
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_ORDER_EVENT;
    ev.symbol = tt_instruments_find(ins, "EURUSD")->id;
    ev.u.order_ev.client_id = 42;
    ev.u.order_ev.status = TT_OS_FILLED;
    ev.u.order_ev.fill_price = 114431;
    ev.u.order_ev.fill_qty = 1000;
    ev.u.order_ev.side = TT_BUY;
    assert_int_equal(k.write(k.self, &ev, &err), TT_OK);
    tt_event eq;
    memset(&eq, 0, sizeof eq);
    eq.kind = TT_EV_EQUITY;
    assert_int_equal(k.write(k.self, &eq, &err), TT_OK); /* not published */
    assert_int_equal(k.flush(k.self, &err), TT_OK);
    natsMsg *msg = NULL;
    assert_int_equal(natsSubscription_NextMsg(&msg, sub, 2000), NATS_OK);
    assert_string_equal(natsMsg_GetSubject(msg), "orders.filled.EURUSD");
    tt_event got;
    memset(&got, 0, sizeof got);
    assert_int_equal(tt_wire_order_event_decode(natsMsg_GetData(msg),
                                                (size_t)natsMsg_GetDataLength(msg), &got, &err),
                     TT_OK);
    assert_int_equal(got.u.order_ev.client_id, 42);
    assert_int_equal(got.u.order_ev.fill_price, 114431);
    natsMsg_Destroy(msg);
    tt_nats_sink_stats st;
    tt_nats_sink_stats_get(sink, &st);
    assert_int_equal(st.published, 1);
    assert_int_equal(st.skipped, 1);
    tt_nats_sink_close(sink);

    /* The JSON option: the same subject, the JSON form as payload. */
    tt_nats_sink_opts oj = {.url = srv->url, .ins = ins, .json = 1};
    assert_int_equal(tt_nats_sink_open(&sink, &oj, &err), TT_OK);
    assert_int_equal(tt_nats_sink_publish(sink, &ev), TT_OK);
    tt_nats_sink_close(sink);
    assert_int_equal(natsSubscription_NextMsg(&msg, sub, 2000), NATS_OK);
    assert_string_equal(natsMsg_GetSubject(msg), "orders.filled.EURUSD");
    char json[512];
    int jl = natsMsg_GetDataLength(msg);
    assert_true(jl > 0 && jl < (int)sizeof json);
    memcpy(json, natsMsg_GetData(msg), (size_t)jl);
    json[jl] = '\0';
    assert_non_null(strstr(json, "\"client_id\":42,"));
    assert_non_null(strstr(json, "\"fill_price\":1.14431,"));
    natsMsg_Destroy(msg);
    natsSubscription_Destroy(sub);
    natsConnection_Close(sub_nc);
    natsConnection_Destroy(sub_nc);
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
    ins = tt_instruments_new();
    tt_wallclock_init(&clk);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_real_ticks),
        cmocka_unit_test(test_malformed_and_json),
        cmocka_unit_test(test_server_restart_marks_gap),
        cmocka_unit_test(test_sink_publishes_orders),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tt_instruments_free(ins);
    return rc;
}
