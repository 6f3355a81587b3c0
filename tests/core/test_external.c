/*
 * External events (core/external.h): calendar figures with their units, the
 * calendar message both ways (and from a producer that orders its keys
 * differently, adds its own, nests), refusals naming the key, and the news
 * schedule: sorted whatever the insertion order, duplicates kept once, the
 * window around "now" and the next/previous event by currency and impact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/external.h"

static void test_figures(void **state)
{
    (void)state;
    static const struct { const char *text; double v; const char *unit; } ok[] = {
        {"312K", 312000, "K"},     {"-0.4%", -0.4, "%"},          {"3.68B", 3680000000.0, "B"},
        {"1.50%", 1.5, "%"},       {"-11.5M", -11500000, "M"},    {"1.80T", 1.8e12, "T"},
        {"49.7", 49.7, ""},        {"-50.6K", -50600, "K"},       {"0", 0, ""},
        {" 9.3K ", 9300, "K"},     {"2.34|2.6", 2.34, ""},        {"+0.2%", 0.2, "%"},
    };
    tt_err err;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        tt_calendar_value v;
        assert_int_equal(tt_calendar_value_parse(ok[i].text, &v, &err), TT_OK);
        assert_int_equal(v.has, 1);
        assert_true(v.value == ok[i].v); /* exact: the decimal is rounded once */
        assert_string_equal(v.unit, ok[i].unit);
    }
    /* 3.68B must be exactly 3680000000, not 3.68 * 1e9 (which is not) */
    tt_calendar_value v;
    assert_int_equal(tt_calendar_value_parse("3.68B", &v, &err), TT_OK);
    assert_true(v.value == 3680000000.0);
    assert_int_equal(tt_calendar_value_parse("0.3%", &v, &err), TT_OK);
    assert_true(v.value == 0.3);
    static const char *const text_only[] = {"0-0-9", "1-2-6", "Pass", "Reject", ""};
    for (size_t i = 0; i < sizeof text_only / sizeof text_only[0]; i++) {
        assert_int_equal(tt_calendar_value_parse(text_only[i], &v, &err), TT_OK);
        assert_int_equal(v.has, 0);
        assert_string_equal(v.text, text_only[i]);
    }
    static const char *const bad[] = {"12Q", "1.2.3", "K", "%", "-", "1e5", ".5", "5.", "0--9",
                                      "|2", "abc", "1,5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tt_calendar_value_parse(bad[i], &v, &err), TT_EINVAL);
        assert_non_null(strstr(err.msg, "unrecognized figure"));
    }
}

static tt_calendar_event nfp(void)
{
    tt_calendar_event e;
    memset(&e, 0, sizeof e);
    e.time = tt_ts_from_civil(2019, 1, 4, 13, 30, 0, 0);
    e.timed = 1;
    memcpy(e.currency, "USD", 4);
    e.impact = TT_IMPACT_HIGH;
    snprintf(e.event, sizeof e.event, "Non-Farm \"Employment\" Change\\");
    tt_err err;
    tt_calendar_value_parse("312K", &e.actual, &err);
    tt_calendar_value_parse("179K", &e.forecast, &err);
    tt_calendar_value_parse("0-0-9", &e.previous, &err);
    snprintf(e.time_text, sizeof e.time_text, "9:30pm");
    snprintf(e.source, sizeof e.source, "forexfactory");
    return e;
}

static void test_message_roundtrip(void **state)
{
    (void)state;
    tt_calendar_event e = nfp(), back;
    char buf[1024];
    size_t n = tt_calendar_encode(&e, buf, sizeof buf);
    assert_true(n > 0 && n == strlen(buf));
    assert_non_null(strstr(buf, "\"time\":\"2019-01-04T13:30:00.000Z\""));
    assert_non_null(strstr(buf, "\"value\":312000,\"actual\":312000,\"actual_unit\":\"K\""));
    assert_non_null(strstr(buf, "\"event\":\"Non-Farm \\\"Employment\\\" Change\\\\\""));
    assert_null(strstr(buf, "\"previous\":")); /* a vote has no number */
    tt_err err;
    assert_int_equal(tt_calendar_decode(buf, n, &back, &err), TT_OK);
    assert_memory_equal(&e, &back, sizeof e);
    /* too small a buffer: 0, never an overrun */
    assert_int_equal(tt_calendar_encode(&e, buf, 40), 0);
    /* from an event */
    char msg[1024];
    n = tt_calendar_encode(&e, msg, sizeof msg);
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_EXTERNAL;
    ev.u.blob.type = TT_EXT_ECONOMIC_CALENDAR;
    ev.u.blob.data = (const uint8_t *)msg;
    ev.u.blob.len = (uint32_t)n;
    assert_int_equal(tt_calendar_from_event(&ev, &back, &err), TT_OK);
    assert_string_equal(back.event, e.event);
    ev.u.blob.type = TT_EXT_FRED_INDICATORS;
    assert_int_equal(tt_calendar_from_event(&ev, &back, &err), TT_EINVAL);
}

static void test_message_foreign(void **state)
{
    (void)state;
    /* another producer: keys in another order, a time in ms, extra and nested keys */
    static const char msg[] =
        " { \"impact\" : \"High\", \"extra\": {\"a\": [1, {\"b\": \"}\"}], \"c\": null},\n"
        "   \"currency\": \"eur\", \"time\": 1549267200000, \"actual\": -0.25,"
        "   \"event\": \"Caf\\u00e9 \\ud83d\\ude00\", \"list\": [1,2], \"timed\": false } ";
    tt_calendar_event e;
    tt_err err;
    assert_int_equal(tt_calendar_decode(msg, strlen(msg), &e, &err), TT_OK);
    assert_int_equal(e.impact, TT_IMPACT_HIGH);
    assert_string_equal(e.currency, "EUR");
    assert_true(e.time == 1549267200000LL * TT_NS_PER_MS);
    assert_true(e.actual.has && e.actual.value == -0.25);
    assert_string_equal(e.event, "Caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_int_equal(e.timed, 0);
    static const struct { const char *msg; const char *says; } bad[] = {
        {"{\"currency\":\"USD\"}", "no 'time'"},
        {"{\"time\":\"2019-01-04\"}", "no 'currency'"},
        {"{\"time\":\"yesterday\",\"currency\":\"USD\"}", "key 'time'"},
        {"{\"time\":1,\"currency\":\"US\"}", "key 'currency'"},
        {"{\"time\":1,\"currency\":\"USD\",\"impact\":\"huge\"}", "key 'impact'"},
        {"{\"time\":1,\"currency\":\"USD\",\"actual\":\"312K\"}", "key 'actual'"},
        {"{\"time\":1,\"currency\":\"USD\"", "expected ',' or '}'"},
        {"[1]", "expected '{'"},
        {"{\"time\":1,\"currency\":\"USD\"} x", "text after the object"},
        {"{\"time\":1,\"currency\":\"USD\",\"event\":\"a\\x\"}", "bad value"},
        {"", "expected '{'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tt_calendar_decode(bad[i].msg, strlen(bad[i].msg), &e, &err),
                         TT_EFORMAT);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, bad[i].says);
    }
    /* a long event name is cut, never overrun */
    char big[600];
    int n = snprintf(big, sizeof big, "{\"time\":1,\"currency\":\"USD\",\"event\":\"");
    memset(big + n, 'x', 400);
    snprintf(big + n + 400, sizeof big - (size_t)n - 400, "\"}");
    assert_int_equal(tt_calendar_decode(big, strlen(big), &e, &err), TT_OK);
    assert_int_equal(strlen(e.event), TT_CALENDAR_EVENT_MAX - 1);
    assert_int_equal(tt_impact_parse("Non-economic"), TT_IMPACT_NONE);
    assert_int_equal(tt_impact_parse("MEDIUM"), TT_IMPACT_MEDIUM);
    assert_int_equal(tt_impact_parse("x"), -1);
    assert_string_equal(tt_impact_name(TT_IMPACT_LOW), "low");
    assert_true(tt_currency_code("usd") == tt_currency_code("USD"));
    assert_int_equal(tt_currency_code("US"), 0);
    assert_int_equal(tt_currency_code("USDX"), 0);
    assert_string_equal(tt_external_type_name(TT_EXT_ECONOMIC_CALENDAR), "economic_calendar");
}

static void test_schedule(void **state)
{
    (void)state;
    tt_news *n;
    tt_err err;
    assert_int_equal(tt_news_new(&n, &err), TT_OK);
    uint32_t usd = tt_currency_code("USD"), eur = tt_currency_code("EUR"),
             jpy = tt_currency_code("JPY"), all = tt_currency_code("ALL");
    tt_ts h = TT_NS_PER_HOUR, m = TT_NS_PER_MIN;
    /* out of order on purpose; a duplicate */
    assert_int_equal(tt_news_add(n, 10 * h, usd, TT_IMPACT_HIGH), 1);
    assert_int_equal(tt_news_add(n, 5 * h, eur, TT_IMPACT_MEDIUM), 1);
    assert_int_equal(tt_news_add(n, 20 * h, jpy, TT_IMPACT_HIGH), 1);
    assert_int_equal(tt_news_add(n, 10 * h, usd, TT_IMPACT_HIGH), 0);
    assert_int_equal(tt_news_add(n, 10 * h, usd, TT_IMPACT_LOW), 1);
    assert_int_equal(tt_news_add(n, 30 * h, all, TT_IMPACT_HIGH), 1);
    assert_int_equal(tt_news_add(n, 1 * h, 0, TT_IMPACT_HIGH), 0);
    assert_int_equal(tt_news_count(n), 5);
    for (size_t i = 1; i < tt_news_count(n); i++)
        assert_true(tt_news_at(n, i - 1)->ts <= tt_news_at(n, i)->ts);
    tt_ts at;
    /* EURUSD, high: 10h USD. 30 minutes before, 15 after. */
    assert_int_equal(tt_news_window(n, 10 * h - 30 * m, 30 * m, 15 * m, eur, usd, 3, &at), 1);
    assert_true(at == 10 * h);
    assert_int_equal(tt_news_window(n, 10 * h - 31 * m, 30 * m, 15 * m, eur, usd, 3, &at), 0);
    assert_int_equal(tt_news_window(n, 10 * h + 15 * m, 30 * m, 15 * m, eur, usd, 3, &at), 1);
    assert_int_equal(tt_news_window(n, 10 * h + 16 * m, 30 * m, 15 * m, eur, usd, 3, &at), 0);
    /* 5h EUR is medium: only a medium rule sees it */
    assert_int_equal(tt_news_window(n, 5 * h, 1 * m, 1 * m, eur, usd, 3, &at), 0);
    assert_int_equal(tt_news_window(n, 5 * h, 1 * m, 1 * m, eur, usd, 2, &at), 1);
    /* JPY news does not concern EURUSD; ALL concerns everyone */
    assert_int_equal(tt_news_window(n, 20 * h, h, h, eur, usd, 3, &at), 0);
    assert_int_equal(tt_news_window(n, 30 * h, h, h, eur, usd, 3, &at), 1);
    /* next / prev */
    assert_int_equal(tt_news_next(n, 0, eur, usd, 3, &at), 1);
    assert_true(at == 10 * h);
    assert_int_equal(tt_news_next(n, 10 * h, eur, usd, 3, &at), 1); /* strictly after */
    assert_true(at == 30 * h);
    assert_int_equal(tt_news_prev(n, 10 * h, eur, usd, 3, &at), 1); /* at or before */
    assert_true(at == 10 * h);
    assert_int_equal(tt_news_prev(n, 10 * h - 1, eur, usd, 3, &at), 0);
    assert_int_equal(tt_news_next(n, 30 * h, eur, usd, 3, &at), 0);
    /* many in order: appends */
    for (int i = 0; i < 10000; i++)
        assert_int_equal(tt_news_add(n, 40 * h + i * m, usd, TT_IMPACT_LOW), 1);
    assert_int_equal(tt_news_count(n), 10005);
    /* from a calendar event; an untimed one is skipped */
    tt_calendar_event c = nfp();
    char msg[1024];
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_EXTERNAL;
    ev.u.blob.type = TT_EXT_ECONOMIC_CALENDAR;
    ev.u.blob.data = (const uint8_t *)msg;
    ev.u.blob.len = (uint32_t)tt_calendar_encode(&c, msg, sizeof msg);
    assert_int_equal(tt_news_add_event(n, &ev), 1);
    assert_int_equal(tt_news_add_event(n, &ev), 0);
    c.timed = 0;
    c.time += TT_NS_PER_DAY;
    ev.u.blob.len = (uint32_t)tt_calendar_encode(&c, msg, sizeof msg);
    assert_int_equal(tt_news_add_event(n, &ev), 0);
    tt_news_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_message_roundtrip),
        cmocka_unit_test(test_message_foreign),
        cmocka_unit_test(test_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
