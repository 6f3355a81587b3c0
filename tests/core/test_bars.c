/*
 * Bars on hand-made ticks: period alignment (edges, W1 on Monday, MN1 calendar
 * months, leap years, times before 1970), closing exactly at period edges, gaps
 * that produce no bar, mid prices with odd sums, skipped one-sided quotes, order
 * errors, and the engine component (timers versus next-event closing, delivery
 * order, flush at stop, emitted bars identical either way).
 * Every expected value is worked out in the comments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/bars.h"
#include "core/engine.h"

#define T(y, mo, d, h, mi, s, ms) tt_ts_from_civil(y, mo, d, h, mi, s, (int64_t)(ms) * TT_NS_PER_MS)

static tt_event quote(uint32_t sym, tt_ts ts, tt_price bid, tt_price ask, float bv, float av)
{
    tt_event e;
    memset(&e, 0, sizeof e);
    e.ts = e.ts_init = ts;
    e.kind = TT_EV_QUOTE;
    e.cls = TT_CLS_MARKET;
    e.symbol = sym;
    e.source = 1;
    e.u.quote.bid = bid;
    e.u.quote.ask = ask;
    e.u.quote.bid_vol = bv;
    e.u.quote.ask_vol = av;
    return e;
}

static void check_period(int tf, tt_ts ts, tt_ts open, tt_ts close)
{
    tt_ts o, c;
    assert_int_equal(tt_bar_period(tf, ts, &o, &c), 0);
    assert_int_equal(o, open);
    assert_int_equal(c, close);
}

static void test_periods(void **state)
{
    (void)state;
    tt_ts t = T(2019, 2, 4, 10, 37, 45, 123); /* a Monday */
    check_period(TT_TF_S1, t, T(2019, 2, 4, 10, 37, 45, 0), T(2019, 2, 4, 10, 37, 46, 0));
    check_period(TT_TF_M1, t, T(2019, 2, 4, 10, 37, 0, 0), T(2019, 2, 4, 10, 38, 0, 0));
    check_period(TT_TF_M5, t, T(2019, 2, 4, 10, 35, 0, 0), T(2019, 2, 4, 10, 40, 0, 0));
    check_period(TT_TF_M15, t, T(2019, 2, 4, 10, 30, 0, 0), T(2019, 2, 4, 10, 45, 0, 0));
    check_period(TT_TF_M30, t, T(2019, 2, 4, 10, 30, 0, 0), T(2019, 2, 4, 11, 0, 0, 0));
    check_period(TT_TF_H1, t, T(2019, 2, 4, 10, 0, 0, 0), T(2019, 2, 4, 11, 0, 0, 0));
    /* H4 opens at 00 04 08 12 16 20 UTC */
    check_period(TT_TF_H4, t, T(2019, 2, 4, 8, 0, 0, 0), T(2019, 2, 4, 12, 0, 0, 0));
    check_period(TT_TF_D1, t, T(2019, 2, 4, 0, 0, 0, 0), T(2019, 2, 5, 0, 0, 0, 0));
    /* W1 opens Monday 00:00 UTC: 2019-02-04 is a Monday */
    check_period(TT_TF_W1, t, T(2019, 2, 4, 0, 0, 0, 0), T(2019, 2, 11, 0, 0, 0, 0));
    check_period(TT_TF_MN1, t, T(2019, 2, 1, 0, 0, 0, 0), T(2019, 3, 1, 0, 0, 0, 0));

    /* exactly on an edge: the edge opens the next period */
    check_period(TT_TF_M5, T(2019, 2, 4, 10, 40, 0, 0), T(2019, 2, 4, 10, 40, 0, 0),
                 T(2019, 2, 4, 10, 45, 0, 0));
    /* one nanosecond before it */
    check_period(TT_TF_M5, T(2019, 2, 4, 10, 40, 0, 0) - 1, T(2019, 2, 4, 10, 35, 0, 0),
                 T(2019, 2, 4, 10, 40, 0, 0));
    /* Sunday 2019-02-03 22:00 (FX week open) belongs to the week of Monday 2019-01-28;
     * Sunday 23:59:59.999 too; Monday 00:00 opens the new week */
    check_period(TT_TF_W1, T(2019, 2, 3, 22, 0, 0, 0), T(2019, 1, 28, 0, 0, 0, 0),
                 T(2019, 2, 4, 0, 0, 0, 0));
    check_period(TT_TF_W1, T(2019, 2, 4, 0, 0, 0, 0) - 1, T(2019, 1, 28, 0, 0, 0, 0),
                 T(2019, 2, 4, 0, 0, 0, 0));
    /* 1970-01-01 was a Thursday: its week opened Monday 1969-12-29 (before the epoch) */
    check_period(TT_TF_W1, 0, T(1969, 12, 29, 0, 0, 0, 0), T(1970, 1, 5, 0, 0, 0, 0));
    /* before 1970: floor, not truncation */
    check_period(TT_TF_M1, -1, T(1969, 12, 31, 23, 59, 0, 0), 0);
    check_period(TT_TF_D1, -1, T(1969, 12, 31, 0, 0, 0, 0), 0);
    /* months: December rolls into January; leap February has 29 days */
    check_period(TT_TF_MN1, T(2018, 12, 31, 23, 59, 59, 999), T(2018, 12, 1, 0, 0, 0, 0),
                 T(2019, 1, 1, 0, 0, 0, 0));
    check_period(TT_TF_MN1, T(2020, 2, 29, 12, 0, 0, 0), T(2020, 2, 1, 0, 0, 0, 0),
                 T(2020, 3, 1, 0, 0, 0, 0));
    check_period(TT_TF_MN1, T(2020, 3, 1, 0, 0, 0, 0), T(2020, 3, 1, 0, 0, 0, 0),
                 T(2020, 4, 1, 0, 0, 0, 0));
    tt_ts o, c;
    assert_int_equal(tt_bar_period(TT_TF_NONE, t, &o, &c), TT_EINVAL);
    assert_int_equal(tt_bar_period(TT_TF_COUNT, t, &o, &c), TT_EINVAL);
}

/* Invariants of every period over random instants from 1900 to 2100: the period
 * contains the instant, periods tile time (the one after starts at close), and
 * the open is where the calendar says: a multiple of the length, a Monday for W1
 * (1970-01-05 was a Monday), the 1st at 00:00 for MN1. */
static void test_period_invariants(void **state)
{
    (void)state;
    uint64_t s = 12345;
    const tt_ts lo = T(1900, 1, 1, 0, 0, 0, 0), span = T(2100, 1, 1, 0, 0, 0, 0) - lo;
    for (int k = 0; k < 200000; k++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        tt_ts t = lo + (tt_ts)((s >> 1) % (uint64_t)span);
        int tf = TT_TF_S1 + k % (TT_TF_COUNT - 1);
        tt_ts o, c, o2, c2;
        assert_int_equal(tt_bar_period(tf, t, &o, &c), 0);
        assert_true(o <= t && t < c);
        assert_int_equal(tt_bar_period(tf, c, &o2, &c2), 0);
        assert_int_equal(o2, c);
        assert_int_equal(tt_bar_period(tf, c - 1, &o2, &c2), 0);
        assert_int_equal(o2, o);
        int y, mo, d, h, mi, se;
        int64_t ns;
        tt_ts_to_civil(o, &y, &mo, &d, &h, &mi, &se, &ns);
        if (tf == TT_TF_MN1) {
            assert_true(d == 1 && h == 0 && mi == 0 && se == 0 && ns == 0);
        } else if (tf == TT_TF_W1) {
            tt_ts days = (o - T(1970, 1, 5, 0, 0, 0, 0)) / TT_NS_PER_DAY;
            assert_int_equal((o - T(1970, 1, 5, 0, 0, 0, 0)) % TT_NS_PER_DAY, 0);
            assert_int_equal(days % 7, 0);
            assert_int_equal(c - o, 7 * TT_NS_PER_DAY);
        } else {
            int64_t len = tt_timeframe_ns(tf);
            assert_int_equal(c - o, len);
            assert_int_equal(((o % len) + len) % len, 0);
        }
    }
}

static void test_mid_rounding(void **state)
{
    (void)state;
    /* even sums are exact */
    assert_int_equal(tt_bar_mid(114427, 114429), 114428);
    /* odd sums: x.5 goes to the even neighbour */
    assert_int_equal(tt_bar_mid(114427, 114428), 114428); /* 114427.5 -> 114428 */
    assert_int_equal(tt_bar_mid(114428, 114429), 114428); /* 114428.5 -> 114428 */
    assert_int_equal(tt_bar_mid(114429, 114430), 114430); /* 114429.5 -> 114430 */
    assert_int_equal(tt_bar_mid(1, 2), 2);                /* 1.5 -> 2 */
    assert_int_equal(tt_bar_mid(0, 1), 0);                /* 0.5 -> 0 */
    assert_int_equal(tt_bar_mid(-3, 0), -2);              /* -1.5 -> -2 */
    assert_int_equal(tt_price_side_parse("mid"), TT_SIDE_MID);
    assert_int_equal(tt_price_side_parse("last"), -1);
    assert_string_equal(tt_price_side_name(TT_SIDE_ASK), "ask");
}

static void test_builder_edges_and_gaps(void **state)
{
    (void)state;
    tt_bar_builder b;
    tt_event out, q;
    assert_int_equal(tt_bar_builder_init(&b, 7, TT_TF_M1, TT_SIDE_BID, NULL), 0);

    /* 10:00:00.000 opens the 10:00 bar; 10:00:59.999 still belongs to it */
    q = quote(7, T(2019, 2, 4, 10, 0, 0, 0), 100, 102, 1.5f, 9.0f);
    assert_int_equal(tt_bar_builder_update(&b, &q, &out, NULL), 0);
    q = quote(7, T(2019, 2, 4, 10, 0, 30, 0), 105, 107, 0.25f, 9.0f);
    assert_int_equal(tt_bar_builder_update(&b, &q, &out, NULL), 0);
    q = quote(7, T(2019, 2, 4, 10, 0, 40, 0), 98, 100, 2.0f, 9.0f);
    assert_int_equal(tt_bar_builder_update(&b, &q, &out, NULL), 0);
    q = quote(7, T(2019, 2, 4, 10, 0, 59, 999), 101, 103, 1.0f, 9.0f);
    assert_int_equal(tt_bar_builder_update(&b, &q, &out, NULL), 0);
    assert_true(b.active);
    /* a quote of another symbol is not ours */
    q = quote(8, T(2019, 2, 4, 10, 0, 59, 999), 1, 2, 1.0f, 1.0f);
    assert_int_equal(tt_bar_builder_update(&b, &q, &out, NULL), 0);
    assert_int_equal(b.bar.ticks, 4);

    /* exactly 10:01:00.000 closes the 10:00 bar and opens 10:01 */
    q = quote(7, T(2019, 2, 4, 10, 1, 0, 0), 110, 112, 3.0f, 9.0f);
    assert_int_equal(tt_bar_builder_update(&b, &q, &out, NULL), 1);
    assert_int_equal(out.kind, TT_EV_BAR);
    assert_int_equal(out.symbol, 7);
    assert_int_equal(out.ts, T(2019, 2, 4, 10, 0, 0, 0));      /* open time */
    assert_int_equal(out.ts_init, T(2019, 2, 4, 10, 1, 0, 0)); /* close time */
    assert_int_equal(out.u.bar.open, 100);
    assert_int_equal(out.u.bar.high, 105);
    assert_int_equal(out.u.bar.low, 98);
    assert_int_equal(out.u.bar.close, 101);
    assert_int_equal(out.u.bar.ticks, 4);
    assert_int_equal(out.u.bar.tf, TT_TF_M1);
    assert_int_equal(out.u.bar.side, TT_SIDE_BID);
    assert_true(out.u.bar.volume == 1.5 + 0.25 + 2.0 + 1.0); /* bid volumes only */

    /* gap: nothing from 10:01:00.001 to 10:05:29; the next quote closes 10:01 and no
     * bars exist for 10:02, 10:03, 10:04 */
    q = quote(7, T(2019, 2, 4, 10, 5, 30, 0), 120, 122, 1.0f, 9.0f);
    assert_int_equal(tt_bar_builder_update(&b, &q, &out, NULL), 1);
    assert_int_equal(out.ts, T(2019, 2, 4, 10, 1, 0, 0));
    assert_int_equal(out.u.bar.ticks, 1);
    assert_int_equal(out.u.bar.open, 110);
    assert_int_equal(out.u.bar.close, 110);
    assert_int_equal(b.open_ts, T(2019, 2, 4, 10, 5, 0, 0));

    /* out of order: refused with TT_EORDER, builder unchanged */
    tt_err err;
    q = quote(7, T(2019, 2, 4, 10, 5, 29, 0), 1, 2, 1.0f, 1.0f);
    assert_int_equal(tt_bar_builder_update(&b, &q, &out, &err), TT_EORDER);
    assert_non_null(strstr(err.msg, "earlier"));
    assert_int_equal(b.bar.ticks, 1);

    /* time passes without a quote: close_until before the edge does nothing, at it closes */
    assert_int_equal(tt_bar_builder_close_until(&b, T(2019, 2, 4, 10, 5, 59, 999), &out), 0);
    assert_int_equal(tt_bar_builder_close_until(&b, T(2019, 2, 4, 10, 6, 0, 0), &out), 1);
    assert_int_equal(out.ts, T(2019, 2, 4, 10, 5, 0, 0));
    assert_false(b.active);
    assert_int_equal(tt_bar_builder_flush(&b, &out), 0); /* nothing left */

    /* flush hands out a partial bar at the end of data */
    q = quote(7, T(2019, 2, 4, 10, 7, 1, 0), 130, 132, 1.0f, 9.0f);
    assert_int_equal(tt_bar_builder_update(&b, &q, &out, NULL), 0);
    assert_int_equal(tt_bar_builder_flush(&b, &out), 1);
    assert_int_equal(out.ts, T(2019, 2, 4, 10, 7, 0, 0));
    assert_int_equal(out.u.bar.close, 130);
    assert_int_equal(b.closed, 4);

    /* bad arguments */
    assert_int_equal(tt_bar_builder_init(&b, 1, TT_TF_NONE, TT_SIDE_BID, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "timeframe"));
    assert_int_equal(tt_bar_builder_init(&b, 1, TT_TF_M1, 3, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "side"));
}

static void test_builder_mid_ask_skips(void **state)
{
    (void)state;
    tt_bar_builder mid, ask;
    tt_event out, q;
    assert_int_equal(tt_bar_builder_init(&mid, 0, TT_TF_M5, TT_SIDE_MID, NULL), 0);
    assert_int_equal(tt_bar_builder_init(&ask, 0, TT_TF_M5, TT_SIDE_ASK, NULL), 0);
    /* (bid, ask, bid_vol, ask_vol) -> mid, mid volume
     * (114427, 114430, 1.5, 2.25) -> 114428.5 -> 114428 (even), 1.875
     * (114426, 114429, 1.0, 0.5)  -> 114427.5 -> 114428 (even), 0.75
     * (114421, 114424, 2.0, 2.0)  -> 114422.5 -> 114422 (even), 2.0
     * (114430, 114433, 0.5, 1.5)  -> 114431.5 -> 114432 (even), 1.0
     * (0, 114433, ...)            -> one-sided: skipped by mid (and by bid), kept by ask
     * mid bar: O 114428 H 114432 L 114422 C 114432, volume 5.625, 4 ticks
     * ask bar: O 114430 H 114433 L 114424 C 114433, volume 2.25+0.5+2+1.5+1 = 7.25, 5 ticks */
    const tt_price bids[] = {114427, 114426, 114421, 114430, 0};
    const tt_price asks[] = {114430, 114429, 114424, 114433, 114433};
    const float bv[] = {1.5f, 1.0f, 2.0f, 0.5f, 0.0f}, av[] = {2.25f, 0.5f, 2.0f, 1.5f, 1.0f};
    for (int i = 0; i < 5; i++) {
        q = quote(3, T(2019, 2, 4, 10, 0, i, 0), bids[i], asks[i], bv[i], av[i]);
        assert_int_equal(tt_bar_builder_update(&mid, &q, &out, NULL), 0);
        assert_int_equal(tt_bar_builder_update(&ask, &q, &out, NULL), 0);
    }
    assert_int_equal(mid.skipped, 1);
    assert_int_equal(ask.skipped, 0);
    assert_int_equal(tt_bar_builder_flush(&mid, &out), 1);
    assert_int_equal(out.symbol, 3);
    assert_int_equal(out.u.bar.side, TT_SIDE_MID);
    assert_int_equal(out.u.bar.open, 114428);
    assert_int_equal(out.u.bar.high, 114432);
    assert_int_equal(out.u.bar.low, 114422);
    assert_int_equal(out.u.bar.close, 114432);
    assert_int_equal(out.u.bar.ticks, 4);
    assert_true(out.u.bar.volume == 5.625);
    assert_int_equal(tt_bar_builder_flush(&ask, &out), 1);
    assert_int_equal(out.u.bar.open, 114430);
    assert_int_equal(out.u.bar.high, 114433);
    assert_int_equal(out.u.bar.low, 114424);
    assert_int_equal(out.u.bar.close, 114433);
    assert_int_equal(out.u.bar.ticks, 5);
    assert_true(out.u.bar.volume == 7.25);

    /* a one-sided quote after the close time still closes the bar (time has passed) */
    tt_bar_builder bid;
    assert_int_equal(tt_bar_builder_init(&bid, 0, TT_TF_M1, TT_SIDE_BID, NULL), 0);
    q = quote(3, T(2019, 2, 4, 10, 0, 0, 0), 5, 6, 1, 1);
    tt_bar_builder_update(&bid, &q, &out, NULL);
    q = quote(3, T(2019, 2, 4, 10, 1, 0, 0), 0, 6, 1, 1);
    assert_int_equal(tt_bar_builder_update(&bid, &q, &out, NULL), 1);
    assert_false(bid.active);
    assert_int_equal(bid.skipped, 1);
}

static void test_builder_w1_mn1(void **state)
{
    (void)state;
    tt_bar_builder w, m;
    tt_event out, q;
    assert_int_equal(tt_bar_builder_init(&w, 0, TT_TF_W1, TT_SIDE_BID, NULL), 0);
    assert_int_equal(tt_bar_builder_init(&m, 0, TT_TF_MN1, TT_SIDE_BID, NULL), 0);
    /* Fri 2019-02-08 21:00, Sun 2019-02-10 22:05 (FX reopen): one W1 bar (Mon 02-04);
     * Mon 2019-02-11 00:00:00 closes it. */
    q = quote(1, T(2019, 2, 8, 21, 0, 0, 0), 100, 101, 1, 1);
    assert_int_equal(tt_bar_builder_update(&w, &q, &out, NULL), 0);
    q = quote(1, T(2019, 2, 10, 22, 5, 0, 0), 90, 91, 1, 1);
    assert_int_equal(tt_bar_builder_update(&w, &q, &out, NULL), 0);
    q = quote(1, T(2019, 2, 11, 0, 0, 0, 0), 95, 96, 1, 1);
    assert_int_equal(tt_bar_builder_update(&w, &q, &out, NULL), 1);
    assert_int_equal(out.ts, T(2019, 2, 4, 0, 0, 0, 0));
    assert_int_equal(out.ts_init, T(2019, 2, 11, 0, 0, 0, 0));
    assert_int_equal(out.u.bar.ticks, 2);
    assert_int_equal(out.u.bar.close, 90);

    /* MN1: 2019-01-31 23:59:59.999 then 2019-02-01 00:00:00.000 */
    q = quote(1, T(2019, 1, 15, 0, 0, 0, 0), 200, 201, 1, 1);
    tt_bar_builder_update(&m, &q, &out, NULL);
    q = quote(1, T(2019, 1, 31, 23, 59, 59, 999), 210, 211, 1, 1);
    assert_int_equal(tt_bar_builder_update(&m, &q, &out, NULL), 0);
    q = quote(1, T(2019, 2, 1, 0, 0, 0, 0), 220, 221, 1, 1);
    assert_int_equal(tt_bar_builder_update(&m, &q, &out, NULL), 1);
    assert_int_equal(out.ts, T(2019, 1, 1, 0, 0, 0, 0));
    assert_int_equal(out.ts_init, T(2019, 2, 1, 0, 0, 0, 0));
    assert_int_equal(out.u.bar.high, 210);
    assert_int_equal(out.u.bar.ticks, 2);
    /* February 2019 has 28 days */
    assert_int_equal(m.close_ts, T(2019, 3, 1, 0, 0, 0, 0));
}

/* ---- the engine component ---- */

typedef struct array_source {
    const tt_event *ev;
    int n, i;
} array_source;

static int array_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    array_source *s = self;
    if (s->i == s->n)
        return TT_SRC_END;
    *ev = s->ev[s->i++];
    return TT_SRC_EVENT;
}

#define MAXREC 64
typedef struct recorder {
    tt_event ev[MAXREC];
    tt_ts now[MAXREC]; /* engine time when seen */
    int n;
} recorder;

static void on_bar(void *ctx, tt_engine *e, const tt_event *bar)
{
    recorder *r = ctx;
    assert_true(r->n < MAXREC);
    r->now[r->n] = tt_engine_now(e);
    r->ev[r->n++] = *bar;
}

/* A component added after the bars: records bars (through the listener, into the
 * same log) and quotes in the order it sees them. */
static void after_on_event(void *self, tt_engine *e, const tt_event *ev)
{
    if (ev->kind == TT_EV_QUOTE)
        on_bar(self, e, ev);
}

static int sink_write(void *self, const tt_event *ev, tt_err *err)
{
    (void)err;
    recorder *r = self;
    if (ev->kind == TT_EV_BAR && r->n < MAXREC)
        r->ev[r->n++] = *ev;
    return 0;
}

static void run_engine(const tt_event *evs, int n, const tt_bar_sub *subs, int nsubs,
                       const tt_bars_opts *opts, recorder *log, recorder *sunk)
{
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    assert_non_null(e);
    array_source src = {evs, n, 0};
    tt_engine_set_source(e, (tt_source){.self = &src, .next = array_next});
    tt_bars *bars;
    tt_err err;
    assert_int_equal(tt_bars_new(&bars, subs, nsubs, opts, &err), 0);
    assert_int_equal(tt_bars_listen(bars, on_bar, log), 0);
    assert_int_equal(tt_engine_add_component(e, tt_bars_component(bars)), 0);
    tt_component after = {.self = log, .name = "after", .on_event = after_on_event};
    assert_int_equal(tt_engine_add_component(e, after), 0);
    tt_sink sink = {.self = sunk, .write = sink_write};
    assert_int_equal(tt_engine_add_sink(e, sink), 0);
    assert_int_equal(tt_engine_run(e, &err), 0);
    tt_bars_free(bars);
    tt_engine_free(e);
    tt_instruments_free(ins);
}

static void test_component(void **state)
{
    (void)state;
    /* symbol 1: quotes at 10:00:10, 10:00:50, 10:03:20; symbol 2: quote at 10:02:30
     * subscriptions: 0 = (1, M1, bid), 1 = (1, M5, bid), 2 = (2, M1, ask) */
    tt_event evs[] = {
        quote(1, T(2019, 2, 4, 10, 0, 10, 0), 100, 102, 1, 1),
        quote(1, T(2019, 2, 4, 10, 0, 50, 0), 104, 106, 1, 1),
        quote(2, T(2019, 2, 4, 10, 2, 30, 0), 500, 503, 1, 1),
        quote(1, T(2019, 2, 4, 10, 3, 20, 0), 99, 101, 1, 1),
    };
    for (int i = 0; i < 4; i++)
        evs[i].seq = (uint64_t)i + 1;
    const tt_bar_sub subs[] = {{1, TT_TF_M1, TT_SIDE_BID}, {1, TT_TF_M5, TT_SIDE_BID},
                               {2, TT_TF_M1, TT_SIDE_ASK}};

    /* With timers (default) and flush at stop:
     *   q1 10:00:10, q2 10:00:50, timer 10:01 -> bar(sub0, 10:00) seen at now = 10:01,
     *   q3 10:02:30, timer 10:03 -> bar(sub2, 10:02, ask 503) at 10:03, q4 10:03:20,
     *   end: flush in (close time, index) order: sub0 10:03 (closes 10:04), sub1 10:00
     *   (closes 10:05). */
    static recorder log, sunk;
    memset(&log, 0, sizeof log);
    memset(&sunk, 0, sizeof sunk);
    tt_bars_opts opts = {0, 1, 0};
    run_engine(evs, 4, subs, 3, &opts, &log, &sunk);
    assert_int_equal(log.n, 8);
    assert_int_equal(log.ev[0].kind, TT_EV_QUOTE);
    assert_int_equal(log.ev[1].kind, TT_EV_QUOTE);
    assert_int_equal(log.ev[2].kind, TT_EV_BAR);
    assert_int_equal(log.ev[2].ts, T(2019, 2, 4, 10, 0, 0, 0));
    assert_int_equal(log.now[2], T(2019, 2, 4, 10, 1, 0, 0)); /* closed on time by the timer */
    assert_int_equal(log.ev[2].u.bar.high, 104);
    assert_int_equal(log.ev[3].kind, TT_EV_QUOTE);
    assert_int_equal(log.ev[4].kind, TT_EV_BAR);
    assert_int_equal(log.ev[4].symbol, 2);
    assert_int_equal(log.ev[4].u.bar.close, 503);
    assert_int_equal(log.now[4], T(2019, 2, 4, 10, 3, 0, 0));
    assert_int_equal(log.ev[5].kind, TT_EV_QUOTE);
    assert_int_equal(log.ev[6].u.bar.tf, TT_TF_M1);
    assert_int_equal(log.ev[6].ts, T(2019, 2, 4, 10, 3, 0, 0));
    assert_int_equal(log.ev[7].u.bar.tf, TT_TF_M5);
    assert_int_equal(log.ev[7].ts, T(2019, 2, 4, 10, 0, 0, 0));
    assert_int_equal(log.ev[7].u.bar.ticks, 3);
    assert_int_equal(log.ev[7].u.bar.low, 99);
    assert_int_equal(sunk.n, 4); /* every bar was also emitted */

    /* Without timers and without flush: bars close on the next event at or after their
     * close time: bar(sub0 10:00) when q3 arrives at 10:02:30, bar(sub2 10:02) when q4
     * arrives at 10:03:20; the partial bars at the end are not emitted. */
    static recorder log2, sunk2;
    memset(&log2, 0, sizeof log2);
    memset(&sunk2, 0, sizeof sunk2);
    tt_bars_opts opts2 = {1, 0, 0};
    run_engine(evs, 4, subs, 3, &opts2, &log2, &sunk2);
    assert_int_equal(log2.n, 6);
    assert_int_equal(log2.ev[2].kind, TT_EV_BAR);
    assert_int_equal(log2.now[2], T(2019, 2, 4, 10, 2, 30, 0));
    assert_int_equal(log2.ev[3].kind, TT_EV_QUOTE); /* q3 comes after the bar it closed */
    assert_int_equal(log2.ev[4].kind, TT_EV_BAR);
    assert_int_equal(log2.ev[4].symbol, 2);
    assert_int_equal(log2.ev[5].kind, TT_EV_QUOTE);
    /* the closed bars are identical either way */
    assert_int_equal(sunk2.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sunk2.ev[i].ts, sunk.ev[i].ts);
        assert_memory_equal(&sunk2.ev[i].u.bar, &sunk.ev[i].u.bar, sizeof(tt_bar));
    }

    /* identical subscriptions are merged: each bar is delivered once */
    static recorder log3, sunk3;
    memset(&log3, 0, sizeof log3);
    memset(&sunk3, 0, sizeof sunk3);
    const tt_bar_sub dups[] = {{1, TT_TF_M1, TT_SIDE_BID}, {1, TT_TF_M5, TT_SIDE_BID},
                               {2, TT_TF_M1, TT_SIDE_ASK}, {1, TT_TF_M1, TT_SIDE_BID},
                               {2, TT_TF_M1, TT_SIDE_ASK}};
    run_engine(evs, 4, dups, 5, &opts, &log3, &sunk3);
    assert_int_equal(sunk3.n, 4);
    assert_int_equal(log3.n, 8);
    for (int i = 0; i < 4; i++)
        assert_memory_equal(&sunk3.ev[i].u.bar, &sunk.ev[i].u.bar, sizeof(tt_bar));

    /* a late quote (earlier than a bar already closed, as a live feed can deliver it)
     * is left out and counted, never reopening a delivered bar */
    {
        tt_event late[] = {
            quote(1, T(2019, 2, 4, 10, 0, 10, 0), 100, 102, 1, 1),
            quote(1, T(2019, 2, 4, 10, 1, 30, 0), 104, 106, 1, 1),
            quote(1, T(2019, 2, 4, 10, 0, 50, 0), 90, 92, 1, 1),
        };
        tt_instruments *ins = tt_instruments_new();
        tt_engine *e = tt_engine_new(ins);
        array_source src = {late, 3, 0};
        tt_engine_set_source(e, (tt_source){.self = &src, .next = array_next});
        tt_bars *bars;
        const tt_bar_sub one[] = {{1, TT_TF_M1, TT_SIDE_BID}};
        tt_bars_opts fl = {.flush_at_stop = 1};
        assert_int_equal(tt_bars_new(&bars, one, 1, &fl, NULL), 0);
        static recorder lg;
        memset(&lg, 0, sizeof lg);
        tt_bars_listen(bars, on_bar, &lg);
        tt_engine_add_component(e, tt_bars_component(bars));
        tt_err err;
        assert_int_equal(tt_engine_run(e, &err), 0);
        assert_int_equal(tt_bars_late(bars), 1);
        assert_int_equal(lg.n, 2);
        assert_int_equal(lg.ev[0].u.bar.low, 100); /* the late 90 is not in it */
        assert_int_equal(lg.ev[1].u.bar.low, 104);
        tt_bars_free(bars);
        tt_engine_free(e);
        tt_instruments_free(ins);
    }

    /* bad subscriptions */
    tt_bars *b;
    tt_err err;
    const tt_bar_sub bad[] = {{1, TT_TF_M1, TT_SIDE_BID}, {1, TT_TF_NONE, TT_SIDE_BID}};
    assert_int_equal(tt_bars_new(&b, bad, 2, NULL, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "subscription 1"));
    const tt_bar_sub zero[] = {{0, TT_TF_M1, TT_SIDE_BID}};
    assert_int_equal(tt_bars_new(&b, zero, 1, NULL, &err), TT_EINVAL);
}

/* ---- live: the same bars, at the same times, as in replay ---- */

/* A live feed: an event is available once the (fake) wall clock has reached its
 * time; until then the source says IDLE and the clock moves on 7 s per poll. */
typedef struct live_feed {
    const tt_event *ev;
    int n, i;
    tt_ts wall;
} live_feed;

static int live_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    live_feed *s = self;
    if (s->i == s->n)
        return TT_SRC_END;
    if (s->ev[s->i].ts > s->wall) {
        s->wall += 7 * TT_NS_PER_SEC;
        return TT_SRC_IDLE;
    }
    *ev = s->ev[s->i++];
    return TT_SRC_EVENT;
}

static tt_ts live_now(void *self) { return ((live_feed *)self)->wall; }

static void test_live_equals_replay(void **state)
{
    (void)state;
    /* quotes with a quiet minute between them: M1 bars 10:00 and 10:03 close by timer */
    tt_event evs[] = {
        quote(1, T(2019, 2, 4, 10, 0, 10, 0), 100, 102, 1, 1),
        quote(1, T(2019, 2, 4, 10, 0, 50, 0), 104, 106, 1, 1),
        quote(1, T(2019, 2, 4, 10, 3, 20, 0), 99, 101, 1, 1),
        quote(1, T(2019, 2, 4, 10, 5, 1, 0), 98, 100, 1, 1),
    };
    for (int i = 0; i < 4; i++)
        evs[i].seq = (uint64_t)i + 1;
    const tt_bar_sub subs[] = {{1, TT_TF_M1, TT_SIDE_BID}, {1, TT_TF_M5, TT_SIDE_ASK}};
    tt_bars_opts opts = {.flush_at_stop = 1};

    static recorder replay, replay_sunk, live, live_sunk;
    memset(&replay, 0, sizeof replay);
    memset(&replay_sunk, 0, sizeof replay_sunk);
    memset(&live, 0, sizeof live);
    memset(&live_sunk, 0, sizeof live_sunk);
    run_engine(evs, 4, subs, 2, &opts, &replay, &replay_sunk);

    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    live_feed feed = {evs, 4, 0, T(2019, 2, 4, 10, 0, 0, 0)};
    tt_engine_set_source(e, (tt_source){.self = &feed, .next = live_next});
    tt_engine_set_clock(e, (tt_clock){.self = &feed, .now = live_now});
    tt_bars *bars;
    assert_int_equal(tt_bars_new(&bars, subs, 2, &opts, NULL), 0);
    tt_bars_listen(bars, on_bar, &live);
    tt_engine_add_component(e, tt_bars_component(bars));
    tt_component after = {.self = &live, .name = "after", .on_event = after_on_event};
    tt_engine_add_component(e, after);
    tt_sink sink = {.self = &live_sunk, .write = sink_write};
    tt_engine_add_sink(e, sink);
    tt_err err;
    assert_int_equal(tt_engine_run(e, &err), 0);
    tt_bars_free(bars);
    tt_engine_free(e);
    tt_instruments_free(ins);

    /* replay: q1 q2 | bar M1 10:00 at 10:01 (timer) | q3 10:03:20 | M1 10:03 at 10:04 |
     * M5 10:00 at 10:05 | q4 10:05:01 | flush: M1 10:05, M5 10:05 */
    assert_int_equal(replay.n, 9);
    assert_int_equal(replay.now[2], T(2019, 2, 4, 10, 1, 0, 0));
    assert_int_equal(replay.now[4], T(2019, 2, 4, 10, 4, 0, 0));
    assert_int_equal(replay.now[5], T(2019, 2, 4, 10, 5, 0, 0));
    /* live: the same deliveries, in the same order, at the same engine times */
    assert_int_equal(live.n, replay.n);
    for (int i = 0; i < replay.n; i++) {
        assert_int_equal(live.ev[i].kind, replay.ev[i].kind);
        assert_int_equal(live.ev[i].ts, replay.ev[i].ts);
        assert_int_equal(live.now[i], replay.now[i]);
        assert_memory_equal(&live.ev[i].u, &replay.ev[i].u, sizeof live.ev[i].u);
    }
    assert_int_equal(live_sunk.n, replay_sunk.n);
    for (int i = 0; i < replay_sunk.n; i++)
        assert_memory_equal(&live_sunk.ev[i], &replay_sunk.ev[i], sizeof(tt_event));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_period_invariants),
        cmocka_unit_test(test_mid_rounding),
        cmocka_unit_test(test_builder_edges_and_gaps),
        cmocka_unit_test(test_builder_mid_ask_skips),
        cmocka_unit_test(test_builder_w1_mn1),
        cmocka_unit_test(test_component),
        cmocka_unit_test(test_live_equals_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
