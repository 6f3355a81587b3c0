/*
 * The seed's messages keep their field numbers: encode with the generated
 * protobuf-c code and compare with bytes worked out by hand from the protobuf
 * wire format (tag = field_number << 3 | wire_type; 0 varint, 1 fixed64,
 * 2 length-delimited). If a field were renumbered, these bytes would change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tick_data.pb-c.h"
#include "ticktape.pb-c.h"
#include "trading_signals.pb-c.h"

static void test_tickdata_wire(void **state)
{
    (void)state;
    Aitrading__Common__TickData t = AITRADING__COMMON__TICK_DATA__INIT;
    t.symbol = "EURUSD";
    t.bid = 1.5;      /* 0x3FF8000000000000 */
    t.ask = 2.0;      /* 0x4000000000000000 */
    t.last = 0;       /* proto3 default: not on the wire */
    t.volume = 300;   /* varint ac 02 */
    t.timestamp = 1549238400994; /* ms */
    t.spread = 0.5;   /* 0x3FE0000000000000 */
    uint8_t buf[128];
    size_t n = aitrading__common__tick_data__pack(&t, buf);
    const uint8_t want[] = {
        0x0a, 6, 'E', 'U', 'R', 'U', 'S', 'D',             /* 1: symbol, length-delimited */
        0x11, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f,                 /* 2: bid, fixed64 */
        0x19, 0, 0, 0, 0, 0, 0, 0x00, 0x40,                 /* 3: ask, fixed64 */
        0x28, 0xac, 0x02,                                   /* 5: volume, varint 300 */
        0x30, 0xe2, 0xef, 0xb7, 0xae, 0x8b, 0x2d,           /* 6: timestamp, varint (7 bits a byte, low first) */
        0x39, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f,                 /* 7: spread, fixed64 */
    };
    assert_int_equal(n, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    Aitrading__Common__TickData *back = aitrading__common__tick_data__unpack(NULL, n, buf);
    assert_non_null(back);
    assert_string_equal(back->symbol, "EURUSD");
    assert_int_equal(back->timestamp, 1549238400994);
    aitrading__common__tick_data__free_unpacked(back, NULL);
}

static void test_batch_and_quality_numbers(void **state)
{
    (void)state;
    Aitrading__Common__QualityMetrics q = AITRADING__COMMON__QUALITY_METRICS__INIT;
    q.validation_passed = 7;
    q.validation_failed = 1;
    Aitrading__Common__BatchTickData b = AITRADING__COMMON__BATCH_TICK_DATA__INIT;
    b.batch_id = 3;
    b.quality = &q;
    uint8_t buf[64];
    size_t n = aitrading__common__batch_tick_data__pack(&b, buf);
    /* 3: batch_id varint; 5: quality, length-delimited {1: 7, 2: 1} */
    const uint8_t want[] = {0x18, 3, 0x2a, 4, 0x08, 7, 0x10, 1};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
}

static void test_trading_signal_numbers(void **state)
{
    (void)state;
    Aitrading__Trading__ModelPrediction m = AITRADING__TRADING__MODEL_PREDICTION__INIT;
    m.model_id = "m";
    Aitrading__Trading__TradingSignal s = AITRADING__TRADING__TRADING_SIGNAL__INIT;
    s.symbol = "X";
    s.type = AITRADING__TRADING__SIGNAL_TYPE__SIGNAL_SELL; /* enum value 2 */
    s.timestamp = 5;
    s.agent_source = "a";
    s.ml_data = &m;
    uint8_t buf[64];
    size_t n = aitrading__trading__trading_signal__pack(&s, buf);
    /* 1 symbol, 2 type (varint 2), 7 timestamp, 8 agent_source, 9 ml_data {1: "m"} */
    const uint8_t want[] = {0x0a, 1, 'X', 0x10, 2, 0x38, 5, 0x42, 1, 'a', 0x4a, 3, 0x0a, 1, 'm'};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(AITRADING__TRADING__SIGNAL_TYPE__SIGNAL_CLOSE, 4);
}

static void test_envelope_roundtrip(void **state)
{
    (void)state;
    Ticktape__Quote q = TICKTAPE__QUOTE__INIT;
    q.bid_points = 114427;
    q.ask_points = 114430;
    Ticktape__EventEnvelope e = TICKTAPE__EVENT_ENVELOPE__INIT;
    e.ts_event_ns = 1549238400994000000;
    e.kind = TICKTAPE__EVENT_KIND__EVENT_QUOTE;
    e.payload_case = TICKTAPE__EVENT_ENVELOPE__PAYLOAD_QUOTE;
    e.quote = &q;
    uint8_t buf[128];
    size_t n = ticktape__event_envelope__pack(&e, buf);
    Ticktape__EventEnvelope *b = ticktape__event_envelope__unpack(NULL, n, buf);
    assert_non_null(b);
    assert_int_equal(b->payload_case, TICKTAPE__EVENT_ENVELOPE__PAYLOAD_QUOTE);
    assert_int_equal(b->quote->bid_points, 114427);
    assert_int_equal(b->ts_event_ns, 1549238400994000000);
    ticktape__event_envelope__free_unpacked(b, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tickdata_wire),
        cmocka_unit_test(test_batch_and_quality_numbers),
        cmocka_unit_test(test_trading_signal_numbers),
        cmocka_unit_test(test_envelope_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
