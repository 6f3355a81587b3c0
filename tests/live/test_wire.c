/*
 * Wire conversions: TickData and JSON ticks in, seed subjects and protobuf
 * out. The TickData bytes are built by hand from the protobuf wire format
 * (tag = field << 3 | wire type; doubles little-endian; varints), not by
 * protobuf-c, so decode is checked against an independent encoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/risk.h"
#include "live/wire.h"
#include "ticktape.pb-c.h"
#include "trading_signals.pb-c.h"

typedef struct pbuf {
    uint8_t b[256];
    size_t n;
} pbuf;

static void put_varint(pbuf *p, uint64_t v)
{
    while (v >= 0x80) {
        p->b[p->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p->b[p->n++] = (uint8_t)v;
}

static void put_double(pbuf *p, int field, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_varint(p, (uint64_t)field << 3 | 1);
    for (int i = 0; i < 8; i++)
        p->b[p->n++] = (uint8_t)(u >> (8 * i));
}

static void put_string(pbuf *p, int field, const char *s)
{
    put_varint(p, (uint64_t)field << 3 | 2);
    put_varint(p, strlen(s));
    memcpy(p->b + p->n, s, strlen(s));
    p->n += strlen(s);
}

/* EURUSD 2019-02-04 08:00:00.123 UTC, bid 1.14427 ask 1.14430, volume 1,250,000. */
#define TS_MS 1549267200123LL

static pbuf hand_tick(const char *symbol, double bid, double ask)
{
    pbuf p = {{0}, 0};
    put_string(&p, 1, symbol);
    put_double(&p, 2, bid);
    put_double(&p, 3, ask);
    put_varint(&p, 5 << 3 | 0);
    put_varint(&p, 1250000);
    put_varint(&p, 6 << 3 | 0);
    put_varint(&p, (uint64_t)TS_MS);
    return p;
}

static tt_instruments *ins;

static void test_tick_decode_hand_built(void **state)
{
    (void)state;
    pbuf p = hand_tick("EURUSD", 1.14427, 1.14430);
    tt_event ev;
    tt_err err;
    assert_int_equal(tt_wire_tick_decode(p.b, p.n, ins, &ev, &err), TT_OK);
    assert_int_equal(ev.kind, TT_EV_QUOTE);
    assert_int_equal(ev.cls, TT_CLS_MARKET);
    assert_int_equal(ev.symbol, tt_instruments_find(ins, "EURUSD")->id);
    assert_int_equal(ev.u.quote.bid, 114427);
    assert_int_equal(ev.u.quote.ask, 114430);
    assert_true(ev.u.quote.bid_vol == 1.25f);
    assert_int_equal(ev.ts_init, TS_MS * 1000000LL);
    assert_int_equal(ev.ts, 0); /* stamped by the inbox, not here */
}

static void test_tick_roundtrip(void **state)
{
    (void)state;
    tt_event a;
    memset(&a, 0, sizeof a);
    a.kind = TT_EV_QUOTE;
    a.symbol = tt_instruments_find(ins, "USDJPY")->id;
    a.ts = TS_MS * 1000000LL;
    a.u.quote.bid = 109876; /* 109.876 */
    a.u.quote.ask = 109881;
    a.u.quote.bid_vol = a.u.quote.ask_vol = 2.5f;
    uint8_t buf[TT_WIRE_MSG_MAX];
    size_t n = tt_wire_tick_encode(ins, &a, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(tt_wire_tick_encode(ins, &a, buf, 8), 0); /* too small */
    tt_event b;
    tt_err err;
    assert_int_equal(tt_wire_tick_decode(buf, n, ins, &b, &err), TT_OK);
    assert_int_equal(b.symbol, a.symbol);
    assert_int_equal(b.u.quote.bid, 109876);
    assert_int_equal(b.u.quote.ask, 109881);
    assert_true(b.u.quote.bid_vol == 2.5f);
    assert_int_equal(b.ts_init, a.ts);
}

static void test_tick_keyed(void **state)
{
    (void)state;
    pbuf p = {{0}, 0}; /* no symbol field: the Kafka key names it */
    put_double(&p, 2, 1.29001);
    put_double(&p, 3, 1.29012);
    tt_event ev;
    tt_err err;
    assert_int_equal(tt_wire_tick_decode_keyed(p.b, p.n, "GBPUSD", 6, ins, &ev, &err), TT_OK);
    assert_int_equal(ev.symbol, tt_instruments_find(ins, "GBPUSD")->id);
    assert_int_equal(ev.u.quote.bid, 129001);
    assert_int_equal(tt_wire_tick_decode(p.b, p.n, ins, &ev, &err), TT_EFORMAT);
    pbuf q = hand_tick("EURUSD", 1.14427, 1.14430); /* the message's own symbol wins */
    assert_int_equal(tt_wire_tick_decode_keyed(q.b, q.n, "GBPUSD", 6, ins, &ev, &err), TT_OK);
    assert_int_equal(ev.symbol, tt_instruments_find(ins, "EURUSD")->id);
}

static void test_tick_json(void **state)
{
    (void)state;
    const char *j = " {\"symbol\": \"EURUSD\", \"bid\": 1.14427, \"ask\":1.1443,"
                    " \"source\":\"polygon\", \"timestamp\": 1549267200123 } ";
    tt_event ev;
    tt_err err;
    assert_int_equal(tt_wire_tick_json_decode(j, strlen(j), ins, &ev, &err), TT_OK);
    assert_int_equal(ev.u.quote.bid, 114427);
    assert_int_equal(ev.u.quote.ask, 114430);
    assert_int_equal(ev.ts_init, TS_MS * 1000000LL);
}

static void expect_fail(int rc, const tt_err *err, const char *needle)
{
    assert_int_equal(rc, TT_EFORMAT);
    if (!strstr(err->msg, needle))
        fail_msg("message '%s' lacks '%s'", err->msg, needle);
}

static void test_malformed(void **state)
{
    (void)state;
    tt_event ev;
    tt_err err;
    pbuf p = hand_tick("EURUSD", 1.14427, 1.14430);
    expect_fail(tt_wire_tick_decode(p.b, p.n - 3, ins, &ev, &err), &err, "not a valid protobuf");
    pbuf u = hand_tick("XXXYYY", 1.0, 1.1);
    expect_fail(tt_wire_tick_decode(u.b, u.n, ins, &ev, &err), &err, "XXXYYY");
    pbuf neg = hand_tick("EURUSD", -1.0, 1.1);
    expect_fail(tt_wire_tick_decode(neg.b, neg.n, ins, &ev, &err), &err, "'bid'");
    pbuf nan_ask = hand_tick("EURUSD", 1.0, NAN);
    expect_fail(tt_wire_tick_decode(nan_ask.b, nan_ask.n, ins, &ev, &err), &err, "'ask'");
    expect_fail(tt_wire_tick_decode("", 0, ins, &ev, &err), &err, "'symbol'");
    const char *j1 = "{\"symbol\":\"EURUSD\",\"bid\":1.1}";
    expect_fail(tt_wire_tick_json_decode(j1, strlen(j1), ins, &ev, &err), &err, "'ask'");
    const char *j2 = "{\"symbol\":\"EURUSD\",\"bid\":\"1.1\",\"ask\":1.2}";
    expect_fail(tt_wire_tick_json_decode(j2, strlen(j2), ins, &ev, &err), &err, "'bid'");
    const char *j3 = "[1,2]";
    expect_fail(tt_wire_tick_json_decode(j3, strlen(j3), ins, &ev, &err), &err, "object");
    const char *j4 = "{\"symbol\":\"EURUSD\" \"bid\":1}";
    expect_fail(tt_wire_tick_json_decode(j4, strlen(j4), ins, &ev, &err), &err, "symbol");
}

static int subjects(const tt_event *ev, char (*s)[TT_WIRE_SUBJECT_MAX])
{
    return tt_wire_output_subjects(ins, ev, s, TT_WIRE_MAX_SUBJECTS);
}

static void test_output_subjects(void **state)
{
    (void)state;
    char s[TT_WIRE_MAX_SUBJECTS][TT_WIRE_SUBJECT_MAX];
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.symbol = tt_instruments_find(ins, "EURUSD")->id;
    ev.kind = TT_EV_SIGNAL;
    assert_int_equal(subjects(&ev, s), 1);
    assert_string_equal(s[0], "signals.EURUSD");
    ev.kind = TT_EV_RISK;
    ev.u.risk.approved = 1;
    ev.u.risk.rule = TT_RULE_NONE;
    assert_int_equal(subjects(&ev, s), 1);
    assert_string_equal(s[0], "signals.approved.EURUSD");
    ev.u.risk.approved = 0;
    ev.u.risk.rule = TT_RULE_MAX_POSITION;
    assert_int_equal(subjects(&ev, s), 1);
    assert_string_equal(s[0], "signals.rejected.EURUSD");
    ev.u.risk.rule = TT_RULE_DAILY_LOSS;
    assert_int_equal(subjects(&ev, s), 3);
    assert_string_equal(s[1], "risk.alert.daily_loss");
    assert_string_equal(s[2], "performance.alert.daily_loss_limit");
    ev.u.risk.rule = TT_RULE_MAX_DRAWDOWN;
    assert_int_equal(subjects(&ev, s), 3);
    assert_string_equal(s[2], "performance.alert.drawdown_limit");
    ev.kind = TT_EV_ORDER_EVENT;
    ev.u.order_ev.status = TT_OS_FILLED;
    assert_int_equal(subjects(&ev, s), 1);
    assert_string_equal(s[0], "orders.filled.EURUSD");
    ev.u.order_ev.status = TT_OS_SUBMITTED;
    subjects(&ev, s);
    assert_string_equal(s[0], "orders.submitted.EURUSD");
    ev.kind = TT_EV_ORDER_CMD;
    subjects(&ev, s);
    assert_string_equal(s[0], "orders.pending.EURUSD");
    memset(&ev.u, 0, sizeof ev.u);
    ev.kind = TT_EV_BAR;
    ev.u.bar.tf = TT_TF_M5;
    subjects(&ev, s);
    assert_string_equal(s[0], "bars.EURUSD.5m");
    ev.u.bar.tf = TT_TF_H4;
    subjects(&ev, s);
    assert_string_equal(s[0], "bars.EURUSD.4h");
    ev.kind = TT_EV_EQUITY;
    assert_int_equal(subjects(&ev, s), 0);
    ev.kind = TT_EV_CONTROL;
    ev.u.control.op = TT_CTL_KILL;
    assert_int_equal(subjects(&ev, s), 1);
    assert_string_equal(s[0], "risk.alert.kill_switch");
    const char *topics[4];
    ev.kind = TT_EV_ORDER_EVENT;
    assert_int_equal(tt_wire_output_topics(&ev, topics, 4), 2);
    assert_string_equal(topics[0], "order_execution_archive");
    assert_string_equal(topics[1], "broker_communication_log");
    assert_null(topics[2]);
}

static void test_order_event_roundtrip(void **state)
{
    (void)state;
    tt_event a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.kind = TT_EV_ORDER_EVENT;
    a.symbol = tt_instruments_find(ins, "EURUSD")->id;
    a.u.order_ev.client_id = 7;
    a.u.order_ev.venue_id = 1007;
    a.u.order_ev.fill_qty = 100000;
    a.u.order_ev.fill_price = 114431;
    a.u.order_ev.commission = 700;
    a.u.order_ev.status = TT_OS_FILLED;
    a.u.order_ev.side = TT_SELL;
    a.u.order_ev.type = TT_ORD_MARKET;
    a.u.order_ev.reason = 3;
    uint8_t buf[TT_WIRE_MSG_MAX];
    size_t n = tt_wire_output_encode(ins, &a, buf, sizeof buf);
    assert_true(n > 0);
    tt_err err;
    assert_int_equal(tt_wire_order_event_decode(buf, n, &b, &err), TT_OK);
    assert_memory_equal(&a.u.order_ev, &b.u.order_ev, sizeof a.u.order_ev);
    assert_string_equal(tt_wire_output_type(&a), "ticktape.OrderEvent");
}

static void test_signal_is_seed_message(void **state)
{
    (void)state;
    tt_event a;
    memset(&a, 0, sizeof a);
    a.kind = TT_EV_SIGNAL;
    a.symbol = tt_instruments_find(ins, "EURUSD")->id;
    a.ts = TS_MS * 1000000LL + 456789;
    a.u.signal.direction = -1;
    a.u.signal.strength = -0.75;
    a.u.signal.target_price = 114000;
    uint8_t buf[TT_WIRE_MSG_MAX];
    size_t n = tt_wire_output_encode(ins, &a, buf, sizeof buf);
    Aitrading__Trading__TradingSignal *m =
        aitrading__trading__trading_signal__unpack(NULL, n, buf);
    assert_non_null(m);
    assert_string_equal(m->symbol, "EURUSD");
    assert_int_equal(m->type, AITRADING__TRADING__SIGNAL_TYPE__SIGNAL_SELL);
    assert_true(m->confidence == 0.75);
    assert_true(m->target_price == 1.14);
    assert_int_equal(m->timestamp, TS_MS);
    aitrading__trading__trading_signal__free_unpacked(m, NULL);
}

static void test_output_json(void **state)
{
    (void)state;
    tt_event a;
    memset(&a, 0, sizeof a);
    a.kind = TT_EV_ORDER_EVENT;
    a.symbol = tt_instruments_find(ins, "EURUSD")->id;
    a.ts = TS_MS * 1000000LL + 999999; /* ms are truncated, not rounded */
    a.u.order_ev.client_id = 7;
    a.u.order_ev.venue_id = 1007;
    a.u.order_ev.fill_qty = 100000;
    a.u.order_ev.fill_price = 114431;
    a.u.order_ev.commission = 700;
    a.u.order_ev.status = TT_OS_FILLED;
    a.u.order_ev.side = TT_SELL;
    a.u.order_ev.type = TT_ORD_MARKET;
    a.u.order_ev.reason = 3;
    char buf[512];
    size_t n = tt_wire_output_json(ins, &a, buf, sizeof buf);
    const char *want = "{\"symbol\":\"EURUSD\",\"client_id\":7,\"venue_id\":1007,"
                       "\"status\":\"filled\",\"side\":\"sell\",\"type\":\"market\","
                       "\"fill_quantity\":100000,\"fill_price\":1.14431,\"leaves_quantity\":0,"
                       "\"commission_minor\":700,\"reason\":3,\"timestamp\":1549267200123}";
    assert_int_equal(n, strlen(want));
    assert_string_equal(buf, want);
    assert_int_equal(tt_wire_output_json(ins, &a, buf, 40), 0); /* too small: nothing */
    memset(&a.u, 0, sizeof a.u);
    a.kind = TT_EV_BAR;
    a.u.bar.tf = TT_TF_M1;
    a.u.bar.open = 114427;
    a.u.bar.high = 114500;
    a.u.bar.low = 114400;
    a.u.bar.close = 114450;
    a.u.bar.volume = 12.5;
    a.u.bar.ticks = 42;
    tt_wire_output_json(ins, &a, buf, sizeof buf);
    assert_string_equal(buf, "{\"symbol\":\"EURUSD\",\"timeframe\":\"M1\",\"side\":\"bid\","
                             "\"open\":1.14427,\"high\":1.14500,\"low\":1.14400,"
                             "\"close\":1.14450,\"volume\":12.5,\"ticks\":42,"
                             "\"timestamp\":1549267200123}");
    a.kind = TT_EV_TIMER;
    assert_int_equal(tt_wire_output_json(ins, &a, buf, sizeof buf), 0);
}

/* Random corruptions of valid messages (a PCG32-style generator, fixed seed):
 * every decoder answers TT_OK or TT_EFORMAT, never crashes or reads past the
 * buffer (run under ASan), and a decoded quote is always a sane one. */
static uint32_t rnd(uint64_t *st)
{
    uint64_t old = *st;
    *st = old * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t x = (uint32_t)(((old >> 18) ^ old) >> 27), r = (uint32_t)(old >> 59);
    return (x >> r) | (x << ((32 - r) & 31));
}

static void test_mutations(void **state)
{
    (void)state;
    pbuf base = hand_tick("EURUSD", 1.14427, 1.14430);
    const char *json = "{\"symbol\":\"EURUSD\",\"bid\":1.14427,\"ask\":1.1443,\"timestamp\":1549267200123}";
    uint64_t st = 42;
    int ok = 0;
    for (int i = 0; i < 200000; i++) {
        uint8_t buf[256];
        size_t n;
        int is_json = i & 1;
        if (is_json) {
            n = strlen(json);
            memcpy(buf, json, n);
        } else {
            n = base.n;
            memcpy(buf, base.b, n);
        }
        int edits = 1 + (int)(rnd(&st) % 4);
        for (int k = 0; k < edits && n > 0; k++) {
            uint32_t r = rnd(&st);
            switch (r % 3) {
            case 0: buf[rnd(&st) % n] = (uint8_t)rnd(&st); break;   /* flip a byte */
            case 1: n = n > 1 ? rnd(&st) % n : n; break;            /* truncate */
            default:                                                /* duplicate a slice */
                if (n < 200) {
                    size_t at = rnd(&st) % n, len = 1 + rnd(&st) % 8;
                    if (at + len > n)
                        len = n - at;
                    memcpy(buf + n, buf + at, len);
                    n += len;
                }
            }
        }
        tt_event ev;
        tt_err err;
        uint8_t *heap = malloc(n ? n : 1); /* exact size: ASan sees any overread */
        memcpy(heap, buf, n);
        int rc = is_json ? tt_wire_tick_json_decode(heap, n, ins, &ev, &err)
                         : tt_wire_tick_decode(heap, n, ins, &ev, &err);
        assert_true(rc == TT_OK || rc == TT_EFORMAT);
        if (rc == TT_OK) {
            ok++;
            assert_int_equal(ev.kind, TT_EV_QUOTE);
            assert_true(ev.u.quote.bid > 0 && ev.u.quote.ask > 0);
            assert_non_null(tt_instruments_get(ins, ev.symbol));
        }
        rc = tt_wire_bar_decode("bars.EURUSD.1m", heap, n, ins, &ev, &err);
        assert_true(rc == TT_OK || rc == TT_EFORMAT);
        rc = tt_wire_order_event_decode(heap, n, &ev, &err);
        assert_true(rc == TT_OK || rc == TT_EFORMAT);
        rc = tt_wire_external_decode("market.external.x", heap, n, &ev, &err);
        assert_int_equal(rc, TT_OK);
        free(heap);
    }
    assert_true(ok > 0); /* some corruptions leave a valid tick (e.g. a changed digit) */
}

static void put_int(pbuf *p, int field, int64_t v)
{
    put_varint(p, (uint64_t)field << 3 | 0);
    put_varint(p, (uint64_t)v);
}

/* A TickData with an explicit volume (field 5). */
static pbuf tick_vol(const char *symbol, double bid, double ask, int64_t volume)
{
    pbuf p = {{0}, 0};
    put_string(&p, 1, symbol);
    put_double(&p, 2, bid);
    put_double(&p, 3, ask);
    put_int(&p, 5, volume);
    put_int(&p, 6, TS_MS);
    return p;
}

/* The audit's accepted nonsense (issue 13), each now refused with a reason. */
static void test_validation(void **state)
{
    (void)state;
    tt_event ev;
    tt_err err;
    /* ask below bid: crossed quotes are refused (locked ones, bid == ask, pass) */
    pbuf c = hand_tick("EURUSD", 1.14430, 1.14427);
    expect_fail(tt_wire_tick_decode(c.b, c.n, ins, &ev, &err), &err, "crossed");
    pbuf l = hand_tick("EURUSD", 1.14430, 1.14430);
    assert_int_equal(tt_wire_tick_decode(l.b, l.n, ins, &ev, &err), TT_OK);
    /* volumes: negative, absurd */
    pbuf nv = tick_vol("EURUSD", 1.1, 1.2, -5);
    expect_fail(tt_wire_tick_decode(nv.b, nv.n, ins, &ev, &err), &err, "volume");
    const char *j1 = "{\"symbol\":\"EURUSD\",\"bid\":1.1,\"ask\":1.2,\"volume\":1e300}";
    expect_fail(tt_wire_tick_json_decode(j1, strlen(j1), ins, &ev, &err), &err, "volume");
    const char *j2 = "{\"symbol\":\"EURUSD\",\"bid\":1.1,\"ask\":1.2,\"volume\":-1}";
    expect_fail(tt_wire_tick_json_decode(j2, strlen(j2), ins, &ev, &err), &err, "volume");
    /* a bid a million times the market */
    pbuf big = hand_tick("EURUSD", 1.14427e6, 1.14430e6);
    expect_fail(tt_wire_tick_decode(big.b, big.n, ins, &ev, &err), &err, "range");
    /* bars: 9.2e18 points, low above open, high below close */
    Ticktape__Bar b = TICKTAPE__BAR__INIT;
    b.timeframe = "1m";
    b.open_points = 114000;
    b.high_points = 114100;
    b.low_points = 113900;
    b.close_points = 114050;
    uint8_t buf[256];
    size_t n = ticktape__bar__pack(&b, buf);
    assert_int_equal(tt_wire_bar_decode("bars.EURUSD.1m", buf, n, ins, &ev, &err), TT_OK);
    b.high_points = 9200000000000000000LL;
    n = ticktape__bar__pack(&b, buf);
    expect_fail(tt_wire_bar_decode("bars.EURUSD.1m", buf, n, ins, &ev, &err), &err, "range");
    b.high_points = 114100;
    b.low_points = 114010; /* above the open */
    n = ticktape__bar__pack(&b, buf);
    expect_fail(tt_wire_bar_decode("bars.EURUSD.1m", buf, n, ins, &ev, &err), &err, "low");
    b.low_points = 113900;
    b.close_points = 114200; /* above the high */
    n = ticktape__bar__pack(&b, buf);
    expect_fail(tt_wire_bar_decode("bars.EURUSD.1m", buf, n, ins, &ev, &err), &err, "high");
    b.close_points = 114050;
    b.volume = -3;
    n = ticktape__bar__pack(&b, buf);
    expect_fail(tt_wire_bar_decode("bars.EURUSD.1m", buf, n, ins, &ev, &err), &err, "volume");
    /* the subject's symbol must be the payload's */
    pbuf eu = hand_tick("EURUSD", 1.14427, 1.14430);
    expect_fail(tt_wire_tick_subject_decode("ticks.GBPUSD", eu.b, eu.n, 0, ins, &ev, &err), &err,
                "GBPUSD");
    assert_int_equal(tt_wire_tick_subject_decode("ticks.EURUSD", eu.b, eu.n, 0, ins, &ev, &err),
                     TT_OK);
    assert_int_equal(tt_wire_tick_subject_decode("ticks.EUR-USD", eu.b, eu.n, 0, ins, &ev, &err),
                     TT_OK); /* the same instrument, another spelling */
    /* exchange time against arrival: within the window, or refused */
    tt_ts now = TS_MS * TT_NS_PER_MS;
    assert_int_equal(tt_wire_check_time(&ev, now, 0, 60 * TT_NS_PER_SEC, &err), TT_OK);
    expect_fail(tt_wire_check_time(&ev, now - 120 * TT_NS_PER_SEC, 0, 60 * TT_NS_PER_SEC, &err),
                &err, "future");
    expect_fail(tt_wire_check_time(&ev, now + 3600 * TT_NS_PER_SEC, 60 * TT_NS_PER_SEC,
                                   60 * TT_NS_PER_SEC, &err),
                &err, "old");
    assert_int_equal(tt_wire_check_time(&ev, now + 3600 * TT_NS_PER_SEC, 0, 60 * TT_NS_PER_SEC,
                                        &err),
                     TT_OK); /* no past limit: a replayed archive */
}

int main(void)
{
    ins = tt_instruments_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tick_decode_hand_built),
        cmocka_unit_test(test_tick_roundtrip),
        cmocka_unit_test(test_tick_keyed),
        cmocka_unit_test(test_tick_json),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_output_subjects),
        cmocka_unit_test(test_order_event_roundtrip),
        cmocka_unit_test(test_signal_is_seed_message),
        cmocka_unit_test(test_output_json),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_validation),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tt_instruments_free(ins);
    return rc;
}
