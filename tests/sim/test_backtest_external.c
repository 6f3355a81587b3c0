/*
 * External events in a backtest (sim/backtest.h, cfg.external): real EURUSD
 * ticks of 4-5 February 2019 (tests/data/dukascopy) and the Forex Factory
 * calendar rows of 4-6 February 2019 (tests/data/calendar), imported into one
 * tape. A strategy written here records what it receives:
 *
 *   - order: every callback's time is at or after the previous one; each
 *     calendar event comes after the quotes of its time stamp; the events
 *     delivered are exactly the calendar's events inside [from, to), in the
 *     tape's order, and tt_calendar_from_event reads them;
 *   - the news blackout (30 minutes before, 15 after, high impact): orders
 *     sent by timers around the US ISM services PMI of 5 February 15:00 UTC
 *     are refused at 14:50 and 15:10 (reason risk, rule news_blackout) and
 *     accepted at 14:20 and 15:20; the schedule is known before the release
 *     (the 14:50 refusal comes ten minutes before the event is replayed);
 *   - without the rule, the same orders all pass; without data.external no
 *     external event reaches the strategy;
 *   - a stream the tape lacks is an error naming it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/external.h"
#include "core/order.h"
#include "data/calendar.h"
#include "data/dukascopy.h"
#include "sim/backtest.h"
#include "../support/sample_tape.h"

typedef struct fixture {
    char dir[64];
    uint64_t ticks;
    uint64_t events; /* calendar events on the tape */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tt_btext_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    long n = tt_test_sample_tape(f->dir, 0, 0, 0);
    if (n < 0)
        return -1;
    f->ticks = (uint64_t)n;
    tt_calendar_import_opts co;
    memset(&co, 0, sizeof co);
    co.file = TT_TESTDATA "/calendar/ff_2019-02-04_06.csv";
    co.tape = f->dir;
    co.utc_offset_min = TT_CALENDAR_FF_OFFSET_MIN;
    tt_calendar_import_stats cs;
    tt_err err;
    if (tt_calendar_import(&co, &cs, &err)) {
        fprintf(stderr, "calendar: %s\n", err.msg);
        return -1;
    }
    f->events = cs.written;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (tt_test_remove_tree(f->dir))
        return -1;
    free(f);
    return 0;
}

/* ---- the recording strategy ---- */

#define MAX_EXT 64
static const tt_ts ISM = 1549378800LL * TT_NS_PER_SEC; /* 2019-02-05 15:00 UTC */

typedef struct rec {
    tt_ts last; /* time of the previous callback */
    int out_of_order;
    uint64_t quotes;
    tt_ts last_quote;
    int ext_before_quote; /* an external event came before a quote of its time */
    tt_ts ext_ts[MAX_EXT];
    char ext_name[MAX_EXT][TT_CALENDAR_EVENT_MAX];
    int next;
    int unreadable;
    uint32_t symbol;
    int trade; /* set timers and send orders */
} rec;

static rec R; /* the test's one recording (the strategy has no other way out) */

static void see(tt_strategy_ctx *c)
{
    tt_ts now = tt_ctx_now(c);
    if (now < R.last)
        R.out_of_order = 1;
    R.last = now;
}

static int s_create(tt_strategy_ctx *c, void **state)
{
    int64_t trade;
    int rc = tt_ctx_param_int(c, "trade", 0, 0, 1, &trade);
    R.trade = (int)trade;
    R.symbol = tt_ctx_symbol_at(c, 0);
    *state = &R;
    return rc;
}

static int s_start(void *state, tt_strategy_ctx *c)
{
    (void)state;
    if (R.trade) {
        static const int minutes[4] = {-40, -10, 10, 20};
        for (int i = 0; i < 4; i++)
            tt_ctx_timer_set(c, ISM + minutes[i] * TT_NS_PER_MIN, (uint64_t)i);
    }
    return 0;
}

static void s_quote(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    (void)state;
    see(c);
    if (R.next && R.ext_ts[R.next - 1] == ev->ts)
        R.ext_before_quote = 1;
    R.quotes++;
    R.last_quote = ev->ts;
}

static void s_timer(void *state, tt_strategy_ctx *c, uint64_t id, uint64_t user)
{
    (void)state;
    (void)id;
    (void)user;
    see(c);
    tt_ctx_market(c, R.symbol, 1, 0, 0);
}

static void s_external(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    (void)state;
    see(c);
    tt_calendar_event cal;
    if (tt_calendar_from_event(ev, &cal, NULL) || cal.time != ev->ts) {
        R.unreadable++;
        return;
    }
    if (R.next < MAX_EXT) {
        R.ext_ts[R.next] = ev->ts;
        snprintf(R.ext_name[R.next], TT_CALENDAR_EVENT_MAX, "%s", cal.event);
        R.next++;
    }
}

static const tt_strategy_vtable RECORDER = {
    .abi_version = TT_STRATEGY_ABI_VERSION,
    .struct_size = sizeof(tt_strategy_vtable),
    .name = "recorder",
    .create = s_create,
    .on_start = s_start,
    .on_quote = s_quote,
    .on_timer = s_timer,
    .on_external = s_external,
};

static const char *const CALENDAR[] = {"calendar", NULL};

static void base(tt_backtest_config *c, const fixture *f, const char *params, int external)
{
    memset(&R, 0, sizeof R);
    tt_backtest_config_default(c);
    c->symbols[0] = "EURUSD";
    c->tape_dir = f->dir;
    c->strategy = "recorder";
    c->strategy_vtable = &RECORDER;
    c->params = params;
    if (external)
        for (int i = 0; CALENDAR[i]; i++)
            c->external[i] = CALENDAR[i];
}

/* The calendar's events inside [from, to), in the tape's order. */
static int expected(const fixture *f, tt_ts from, tt_ts to, tt_ts *ts, char (*name)[96])
{
    tt_tape_reader *r;
    tt_err err;
    assert_int_equal(tt_external_reader_open(&r, f->dir, CALENDAR, from, to, &err), TT_OK);
    tt_event ev;
    int n = 0;
    while (tt_tape_reader_next(r, &ev, &err) == 1 && n < MAX_EXT) {
        tt_calendar_event cal;
        assert_int_equal(tt_calendar_from_event(&ev, &cal, &err), TT_OK);
        ts[n] = ev.ts;
        snprintf(name[n], 96, "%s", cal.event);
        n++;
    }
    tt_tape_reader_close(r);
    return n;
}

static void test_delivered_in_order(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    base(&c, f, "trade=0", 1);
    c.from = tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0);
    c.to = tt_ts_from_civil(2019, 2, 5, 18, 0, 0, 0);
    tt_backtest_result res;
    tt_err err;
    int rc = tt_backtest_run(&c, &res, &err);
    if (rc)
        fail_msg("%s", err.msg);
    tt_ts ts[MAX_EXT];
    char name[MAX_EXT][96];
    int n = expected(f, c.from, c.to, ts, name);
    assert_true(n >= 10);
    assert_true((uint64_t)n < f->events); /* the range cuts some off */
    assert_int_equal(R.next, n);
    for (int i = 0; i < n; i++) {
        assert_true(R.ext_ts[i] == ts[i]);
        assert_string_equal(R.ext_name[i], name[i]);
    }
    assert_int_equal(R.out_of_order, 0);
    assert_int_equal(R.ext_before_quote, 0);
    assert_int_equal(R.unreadable, 0);
    assert_true(res.events == R.quotes + (uint64_t)n); /* inputs: ticks and externals */
    /* the ISM release is among them, at 15:00 UTC */
    int ism = 0;
    for (int i = 0; i < n; i++)
        ism += R.ext_ts[i] == ISM && !strcmp(R.ext_name[i], "ISM Services PMI");
    assert_int_equal(ism, 1);
    tt_fingerprint fp = res.fingerprint;
    tt_backtest_result_free(&res);
    /* the same again: the same fingerprint */
    base(&c, f, "trade=0", 1);
    c.from = tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0);
    c.to = tt_ts_from_civil(2019, 2, 5, 18, 0, 0, 0);
    assert_int_equal(tt_backtest_run(&c, &res, &err), TT_OK);
    assert_memory_equal(&fp, &res.fingerprint, sizeof fp);
    tt_backtest_result_free(&res);
    /* without data.external: no external event */
    base(&c, f, "trade=0", 0);
    assert_int_equal(tt_backtest_run(&c, &res, &err), TT_OK);
    assert_int_equal(R.next, 0);
    assert_true(res.events == f->ticks);
    tt_backtest_result_free(&res);
}

/* Status of the order with client id `id` at its last record. */
static const tt_order_record *last_of(const tt_backtest_result *res, uint64_t id)
{
    const tt_order_record *o = NULL;
    for (size_t i = 0; i < res->norders; i++)
        if (res->orders[i].client_id == id)
            o = &res->orders[i];
    return o;
}

static void test_news_blackout(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    base(&c, f, "trade=1", 1);
    c.risk.news_before = 30 * TT_NS_PER_MIN;
    c.risk.news_after = 15 * TT_NS_PER_MIN;
    tt_backtest_result res;
    tt_err err;
    int rc = tt_backtest_run(&c, &res, &err);
    if (rc)
        fail_msg("%s", err.msg);
    /* client ids 1..4 at 14:20, 14:50, 15:10, 15:20 */
    static const int refused[4] = {0, 1, 1, 0};
    for (uint64_t id = 1; id <= 4; id++) {
        const tt_order_record *o = last_of(&res, id);
        assert_non_null(o);
        if (refused[id - 1]) {
            assert_int_equal(o->status, TT_OS_REJECTED);
            assert_int_equal(o->reason, TT_REASON_RISK);
        } else {
            assert_int_not_equal(o->status, TT_OS_REJECTED);
        }
    }
    assert_int_equal(res.risk_rejects, 2);
    tt_backtest_result_free(&res);
    /* the rule off: every order passes */
    base(&c, f, "trade=1", 1);
    assert_int_equal(tt_backtest_run(&c, &res, &err), TT_OK);
    assert_int_equal(res.risk_rejects, 0);
    tt_backtest_result_free(&res);
    /* a medium-impact rule over the same calendar refuses at least as much */
    base(&c, f, "trade=1", 1);
    c.risk.news_before = 30 * TT_NS_PER_MIN;
    c.risk.news_after = 15 * TT_NS_PER_MIN;
    c.risk.news_impact = TT_IMPACT_MEDIUM;
    assert_int_equal(tt_backtest_run(&c, &res, &err), TT_OK);
    assert_true(res.risk_rejects >= 2);
    tt_backtest_result_free(&res);
}

static void test_missing_stream(void **state)
{
    fixture *f = *state;
    tt_backtest_config c;
    base(&c, f, "trade=0", 0);
    c.external[0] = "news";
    tt_backtest_result res;
    tt_err err;
    assert_int_equal(tt_backtest_run(&c, &res, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "data.external: "));
    assert_non_null(strstr(err.msg, "no external stream 'news'"));
    tt_backtest_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivered_in_order),
        cmocka_unit_test(test_news_blackout),
        cmocka_unit_test(test_missing_stream),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
