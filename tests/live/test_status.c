/*
 * The status recorder, the event ring, the server's checks and the
 * notification rules (live/status.h, live/status_http.h, live/notify.h),
 * without a network: the HTTP end to end is tests/live/ops_test.py.
 *
 * The recorder must not change a run (same fingerprint with and without it)
 * and must agree with the run's own result (orders sent, fills, final
 * equity): the result is the outside oracle here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "live/notify.h"
#include "live/status.h"
#include "live/status_http.h"
#include "sim/backtest.h"
#include "sim/research.h"
#include "sim/scenario.h"

static const char SCENARIO[] =
    "name: status\n"
    "seed: 42\n"
    "data:\n"
    "  tape: " TT_SOURCE_DIR "/scenarios/data/eurusd-2019-02\n"
    "  symbols: [EURUSD]\n"
    "  from: 2019-02-04T08:00:00Z\n"
    "  to: 2019-02-04T14:00:00Z\n"
    "account: {currency: USD, balance: 10000, leverage: 100}\n"
    "venue: {latency_ms: 5, commission: {per_lot: 7}}\n"
    "strategy:\n"
    "  name: sma_cross\n"
    "  params: {tf: M1, fast: 5, slow: 20, qty: 10}\n";

static tt_backtest_result run_once(tt_status_rec **rec_out)
{
    tt_scenario *s;
    tt_scenario_run *run = calloc(1, sizeof *run);
    tt_err err;
    if (tt_scenario_parse(&s, SCENARIO, strlen(SCENARIO), "status.yaml", NULL, &err) ||
        tt_scenario_prepare(s, run, &err))
        fail_msg("%s", err.msg);
    tt_backtest *bt;
    if (tt_backtest_open(&bt, &run->cfg, &err))
        fail_msg("%s", err.msg);
    if (rec_out) {
        tt_status_opts so = {.ins = run->instruments, .minor_per_unit = run->minor_per_unit,
                             .currency = "USD", .ring = 64};
        assert_int_equal(tt_status_new(rec_out, &so, &err), TT_OK);
        assert_int_equal(tt_backtest_add_component(bt, tt_status_component(*rec_out), &err), 0);
        assert_int_equal(tt_backtest_add_sink(bt, tt_status_sink(*rec_out), &err), 0);
    }
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    if (tt_backtest_exec(bt, &r, &err))
        fail_msg("%s", err.msg);
    tt_backtest_close(bt);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    return r;
}

static void test_recorder_changes_nothing_and_agrees(void **state)
{
    (void)state;
    tt_backtest_result plain = run_once(NULL);
    tt_status_rec *rec;
    tt_backtest_result with = run_once(&rec);
    assert_memory_equal(&plain.fingerprint, &with.fingerprint, sizeof plain.fingerprint);
    assert_true(with.orders_sent > 4);
    tt_status_snapshot snap;
    tt_status_hot hot;
    tt_status_snapshot_get(rec, &snap);
    tt_status_hot_get(rec, &hot);
    assert_int_equal(snap.order_cmds, with.orders_sent);
    assert_int_equal(snap.fills, with.fills);
    assert_int_equal(hot.inputs[TT_SI_QUOTE] + hot.inputs[TT_SI_CONTROL], with.events);
    /* the last equity point the engine emitted is the run's final equity */
    assert_true(snap.have_equity);
    assert_int_equal(snap.eq[snap.neq - 1].equity, with.equity[with.nequity - 1].equity);
    assert_true(snap.neq <= TT_STATUS_EQUITY && snap.neq > TT_STATUS_EQUITY / 4);
    /* the fills went to the ring, which holds the last 64 events */
    uint64_t cur = tt_status_events_after(rec, 0);
    char buf[1 << 16];
    long n = tt_status_events_read(rec, &cur, buf, sizeof buf, 0);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "event: fill\ndata: {\"ts\":"));
    assert_int_equal(cur, tt_status_events_tail(rec));
    /* a client at the very start fell behind the ring */
    uint64_t old = 1;
    assert_int_equal(tt_status_events_read(rec, &old, buf, sizeof buf, 0), TT_ESTATE);
    /* rendering: valid shapes, the run's numbers */
    tt_status_view v;
    memset(&v, 0, sizeof v);
    v.mode = "test";
    v.version = "0";
    v.have_engine = 1;
    v.snap = snap;
    v.hot = hot;
    v.info.healthy = 1;
    tt_buf b = {0};
    assert_int_equal(tt_status_metrics_text(&b, &v), TT_OK);
    char want[96];
    snprintf(want, sizeof want, "\nticktape_fills_total %llu\n", (unsigned long long)with.fills);
    assert_non_null(strstr((char *)b.data, want));
    tt_buf_reset(&b);
    assert_int_equal(tt_status_health_json(&b, &v), 1);
    assert_non_null(strstr((char *)b.data, "{\"status\":\"ok\""));
    v.info.nconn = 1;
    snprintf(v.info.conn[0].name, sizeof v.info.conn[0].name, "a \"quoted\"\nname\\");
    tt_buf_reset(&b);
    assert_int_equal(tt_status_health_json(&b, &v), 0); /* a connection down: 503 */
    assert_non_null(strstr((char *)b.data, "\"a \\\"quoted\\\"\\u000aname\\\\\""));
    tt_buf_reset(&b);
    assert_int_equal(tt_status_metrics_text(&b, &v), TT_OK);
    assert_non_null(strstr((char *)b.data, "ticktape_connection_up{name=\"a \\\"quoted\\\"\\nname\\\\\"} 0\n"));
    tt_buf_free(&b);
    tt_status_free(rec);
    tt_backtest_result_free(&plain);
    tt_backtest_result_free(&with);
}

static void test_ring_bounds_and_slow_readers(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    tt_status_opts so = {.ins = ins, .ring = 4};
    tt_status_rec *rec;
    tt_err err;
    assert_int_equal(tt_status_new(&rec, &so, &err), TT_OK);
    uint64_t fresh = tt_status_events_tail(rec), slow = fresh;
    char big[TT_STATUS_EVENT_MAX + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    tt_status_event_put(rec, "a", "{\"n\":1}");
    tt_status_event_put(rec, "b", big); /* too long: a stub, never a cut JSON */
    char buf[4096];
    assert_int_equal(tt_status_events_read(rec, &fresh, buf, sizeof buf, 0),
                     (long)strlen("id: 1\nevent: a\ndata: {\"n\":1}\n\n"
                                  "id: 2\nevent: b\ndata: {\"truncated\":true}\n\n"));
    assert_string_equal(buf + strlen("id: 1\nevent: a\ndata: {\"n\":1}\n\n"),
                        "id: 2\nevent: b\ndata: {\"truncated\":true}\n\n");
    /* whole events only: a buffer too small for the next one gives 0, cursor kept */
    tt_status_event_put(rec, "c", "{}");
    uint64_t before = fresh;
    assert_int_equal(tt_status_events_read(rec, &fresh, buf, 10, 0), 0);
    assert_int_equal(fresh, before);
    for (int i = 0; i < 4; i++)
        tt_status_event_put(rec, "d", "{}");
    /* 7 events in a ring of 4: the reader that never read is too slow now */
    assert_int_equal(tt_status_events_read(rec, &slow, buf, sizeof buf, 0), TT_ESTATE);
    assert_int_equal(tt_status_events_after(rec, 0), 4); /* the oldest held */
    assert_int_equal(tt_status_events_after(rec, 6), 7);
    assert_int_equal(tt_status_events_after(rec, 99), 8); /* never past the tail */
    /* a waiting reader returns after its wait with nothing new */
    uint64_t t = tt_status_events_tail(rec);
    assert_int_equal(tt_status_events_read(rec, &t, buf, sizeof buf, 30), 0);
    tt_status_free(rec);
    tt_instruments_free(ins);
}

static void test_auth_and_hosts(void **state)
{
    (void)state;
    const char *tok = "0123456789abcdef";
    assert_true(tt_status_auth_ok("Bearer 0123456789abcdef", tok));
    assert_true(tt_status_auth_ok("bearer  0123456789abcdef ", tok));
    assert_false(tt_status_auth_ok("Bearer 0123456789abcde", tok));
    assert_false(tt_status_auth_ok("Bearer 0123456789abcdefg", tok));
    assert_false(tt_status_auth_ok("Basic 0123456789abcdef", tok));
    assert_false(tt_status_auth_ok("Bearer ", tok));
    assert_false(tt_status_auth_ok(NULL, tok));
    assert_false(tt_status_auth_ok("0123456789abcdef", tok));
    assert_true(tt_status_host_is_loopback("127.0.0.1"));
    assert_true(tt_status_host_is_loopback("127.8.0.1"));
    assert_true(tt_status_host_is_loopback("::1"));
    assert_true(tt_status_host_is_loopback("localhost"));
    assert_false(tt_status_host_is_loopback("0.0.0.0"));
    assert_false(tt_status_host_is_loopback("::"));
    assert_false(tt_status_host_is_loopback("10.0.0.1"));
    assert_false(tt_status_host_is_loopback("example.com"));
    /* the server refuses the same as the CLI, for embedders */
    tt_status_server *srv = NULL;
    tt_err err;
    tt_status_server_opts o = {.host = "0.0.0.0", .port = 0};
    assert_int_equal(tt_status_server_start(&srv, &o, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "bearer token"));
    o.token = "short";
    assert_int_equal(tt_status_server_start(&srv, &o, &err), TT_EINVAL);
    o.host = "127.0.0.1";
    o.token = NULL;
    o.tls_cert_pem = "x";
    assert_int_equal(tt_status_server_start(&srv, &o, &err), TT_EINVAL);
    assert_null(srv);
}

static void test_rules(void **state)
{
    (void)state;
    static const char good[] =
        "routes:\n"
        "  - name: a\n"
        "    match: [\"risk.alert.*\", fill]\n"
        "    type: slack\n"
        "    url: https://hooks.example.com/x\n"
        "    rate: 10/min\n"
        "  - match: \"*\"\n"
        "    type: email\n"
        "    url: smtp://127.0.0.1:25\n"
        "    from: a@example.com\n"
        "    to: b@example.com\n"
        "    retries: 0\n";
    tt_notify_rules r;
    tt_err err;
    assert_int_equal(tt_notify_rules_parse(&r, good, strlen(good), "r.yaml", 0, &err), TT_OK);
    assert_int_equal(r.nroutes, 2);
    assert_int_equal(r.routes[0].type, TT_NOTIFY_SLACK);
    assert_int_equal(r.routes[0].rate_n, 10);
    assert_int_equal(r.routes[0].rate_window_ms, 60000);
    assert_int_equal(r.routes[0].retries, 3);
    assert_string_equal(r.routes[1].name, "route2");
    assert_int_equal(r.routes[1].retries, 0);
    assert_int_equal(r.routes[1].nto, 1);
    tt_notify_rules_free(&r);
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"routes: []\n", "no route"},
        {"routes:\n  - match: x\n    url: ftp://x\n", "r.yaml:2: routes[0]: url: a webhook"},
        {"routes:\n  - match: x\n    type: pager\n", "r.yaml:3: type: expected webhook"},
        {"routes:\n  - url: http://x\n", "match: is needed"},
        {"routes:\n  - match: x\n    url: smtp://x\n    type: email\n", "needs from: and to:"},
        {"routes:\n  - match: x\n    url: http://x\n    rate: 5/day\n", "rate: expected"},
        {"routes:\n  - match: x\n    url: http://x\n    retries: 11\n", "retries: expected"},
        {"routes:\n  - match: x\n    url: http://x\n    colour: red\n", "unknown key"},
        {"routes:\n  - match: x\n    url: http://x\n    url: http://y\n", "given twice"},
        {"routes:\n  - match: x\n    url: http://x\n    type: telegram\n", "chat_id"},
        {"queue: 0\nroutes: []\n", "queue: expected"},
        {"routes: [\n", "r.yaml:"},
        {"- a\n", "expected a mapping"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = tt_notify_rules_parse(&r, bad[i].text, strlen(bad[i].text), "r.yaml", 0, &err);
        if (rc == TT_OK || !strstr(err.msg, bad[i].want))
            fail_msg("%s: got %d %s, want %s", bad[i].text, rc, rc ? err.msg : "", bad[i].want);
    }
    assert_true(tt_notify_match("risk.alert.*", "risk.alert.kill_switch"));
    assert_false(tt_notify_match("risk.alert.*", "risk.alerts"));
    assert_false(tt_notify_match("risk.alert.*", "performance.alert.x"));
    assert_true(tt_notify_match("*", "fill"));
    assert_true(tt_notify_match("fill", "fill"));
    assert_false(tt_notify_match("fill", "fills"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorder_changes_nothing_and_agrees),
        cmocka_unit_test(test_ring_bounds_and_slow_readers),
        cmocka_unit_test(test_auth_and_hosts),
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
