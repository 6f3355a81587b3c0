/*
 * Bar models (sim/bar_model.h): the price points of a bar, the model source,
 * the bar component fed from bars, and whole backtests on hand-made bar tapes.
 *
 * What is checked, each against numbers worked out by hand from the rules in
 * the header (docs/scenarios.md): the ohlc_m1 path (the nearer extreme first,
 * the tie rule) and its times and spreads; open_prices; every_tick's tick
 * count, its share among the legs, that it passes through open, the nearer
 * extreme, the other, close, monotonically, inside [low, high], and that its
 * ticks depend only on (seed, symbol, bar time); the source's event order
 * (open point, carriers, the other points), its spreads from ask bars and its
 * errors; bars built from quotes equal core/bars.h's; in a backtest the
 * strategy sees the input bars (M1, M5, ask and mid) once closed, at the next
 * bar's first point, never the carriers, and a market order sent then fills
 * at that next open (plus the spread on a buy) under every model, also with
 * a latency shorter than the gap to the next point.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bars.h"
#include "data/tape.h"
#include "sim/backtest.h"
#include "sim/bar_model.h"

#define T0 (1549274400LL * TT_NS_PER_SEC) /* 2019-02-04 10:00 UTC */
#define MIN TT_NS_PER_MIN

/* ---- helpers ---- */

static tt_bar mkbar(tt_price o, tt_price h, tt_price l, tt_price c, uint32_t ticks)
{
    tt_bar b;
    memset(&b, 0, sizeof b);
    b.open = o;
    b.high = h;
    b.low = l;
    b.close = c;
    b.ticks = ticks;
    b.volume = ticks * 0.5;
    b.tf = TT_TF_M1;
    return b;
}

static char *mkdir_tmp(void)
{
    char *d = strdup("/tmp/tt_bar_model_XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void rmdir_tmp(char *d)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
    free(d);
}

/* Append bars (times t[i]) to the M1 bar stream of a side. */
static void write_bars(const char *dir, int side, const tt_ts *t, const tt_bar *b, int n)
{
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "EURUSD");
    d.kind = TT_STREAM_BAR;
    d.tf = TT_TF_M1;
    d.side = (uint8_t)side;
    tt_tape_writer *w;
    tt_err err;
    if (tt_tape_writer_open(&w, dir, &d, NULL, &err))
        fail_msg("writer: %s", err.msg);
    for (int i = 0; i < n; i++) {
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.ts = t[i];
        ev.kind = TT_EV_BAR;
        ev.u.bar = b[i];
        ev.u.bar.side = (uint8_t)side;
        if (tt_tape_writer_append(w, &ev, &err))
            fail_msg("append: %s", err.msg);
    }
    assert_int_equal(tt_tape_writer_close(w, &err), 0);
}

static void write_quotes(const char *dir, const tt_event *q, int n)
{
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "EURUSD");
    d.kind = TT_STREAM_QUOTE;
    tt_tape_writer *w;
    tt_err err;
    if (tt_tape_writer_open(&w, dir, &d, NULL, &err))
        fail_msg("writer: %s", err.msg);
    for (int i = 0; i < n; i++)
        if (tt_tape_writer_append(w, &q[i], &err))
            fail_msg("append: %s", err.msg);
    assert_int_equal(tt_tape_writer_close(w, &err), 0);
}

static tt_source open_stream(const char *dir, int kind, int side, tt_tape_reader **rd)
{
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.kinds = 1u << kind;
    q.tf = kind == TT_STREAM_BAR ? TT_TF_M1 : 0;
    q.side = (uint8_t)side;
    tt_err err;
    if (tt_tape_reader_open(rd, dir, &q, NULL, &err))
        fail_msg("reader: %s", err.msg);
    return tt_tape_reader_source(*rd);
}

/* Every event of a source into out (at most max); returns the count, or the
 * (negative) error with err filled. */
static int drain(tt_source s, tt_event *out, int max, tt_err *err)
{
    int n = 0;
    for (;;) {
        tt_event ev;
        int rc = s.next(s.self, &ev, err);
        if (rc < 0)
            return rc;
        if (rc != TT_SRC_EVENT)
            return n;
        if (n < max)
            out[n] = ev;
        n++;
    }
}

/* ---- the points of one bar ---- */

static void expect_points(const tt_bar_point *p, int n, const tt_price *bid, const tt_price *spread)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(p[i].ts, T0 + i * 15 * TT_NS_PER_SEC);
        assert_int_equal(p[i].bid, bid[i]);
        assert_int_equal(p[i].spread, spread[i]);
    }
}

static void test_ohlc_path(void **state)
{
    (void)state;
    tt_bar_point p[TT_BAR_MODEL_MAX_POINTS];
    tt_bar_spreads sp = {1, 2, 3, 4}; /* open, high, low, close */
    /* up 10, down 5: the low is nearer */
    tt_bar b = mkbar(100, 110, 95, 105, 0);
    assert_int_equal(tt_bar_model_points(TT_MODEL_OHLC_M1, &b, T0, &sp, 0, p), 4);
    expect_points(p, 4, (tt_price[]){100, 95, 110, 105}, (tt_price[]){1, 3, 2, 4});
    /* up 3, down 10: the high is nearer */
    b = mkbar(100, 103, 90, 95, 0);
    assert_int_equal(tt_bar_model_points(TT_MODEL_OHLC_M1, &b, T0, &sp, 0, p), 4);
    expect_points(p, 4, (tt_price[]){100, 103, 90, 95}, (tt_price[]){1, 2, 3, 4});
    /* ties (up = down = 5): the extreme farther from the close first */
    b = mkbar(100, 105, 95, 104, 0); /* close near the high: the low first */
    tt_bar_model_points(TT_MODEL_OHLC_M1, &b, T0, &sp, 0, p);
    expect_points(p, 4, (tt_price[]){100, 95, 105, 104}, (tt_price[]){1, 3, 2, 4});
    b = mkbar(100, 105, 95, 96, 0); /* close near the low: the high first */
    tt_bar_model_points(TT_MODEL_OHLC_M1, &b, T0, &sp, 0, p);
    expect_points(p, 4, (tt_price[]){100, 105, 95, 96}, (tt_price[]){1, 2, 3, 4});
    b = mkbar(100, 105, 95, 100, 0); /* a doji in the middle: the high first */
    tt_bar_model_points(TT_MODEL_OHLC_M1, &b, T0, &sp, 0, p);
    expect_points(p, 4, (tt_price[]){100, 105, 95, 100}, (tt_price[]){1, 2, 3, 4});
    /* open_prices: one point, the open, at the bar's time */
    assert_int_equal(tt_bar_model_points(TT_MODEL_OPEN_PRICES, &b, T0, &sp, 0, p), 1);
    assert_true(p[0].ts == T0 && p[0].bid == 100 && p[0].spread == 1);
    /* real ticks are no bar model */
    assert_int_equal(tt_bar_model_points(TT_MODEL_REAL_TICKS, &b, T0, &sp, 0, p), TT_EINVAL);
    assert_string_equal(tt_bar_model_name(TT_MODEL_OHLC_M1), "ohlc_m1");
}

/* Number of monotone runs of the bids (a flat step continues a run). */
static int runs_of(const tt_bar_point *p, int n)
{
    int runs = 1, dir = 0;
    for (int i = 1; i < n; i++) {
        int d = (p[i].bid > p[i - 1].bid) - (p[i].bid < p[i - 1].bid);
        if (d && dir && d != dir)
            runs++;
        if (d)
            dir = d;
    }
    return runs;
}

static void test_every_tick_hand(void **state)
{
    (void)state;
    tt_bar_point p[TT_BAR_MODEL_MAX_POINTS];
    tt_bar_spreads sp = {1, 2, 3, 4};
    uint64_t seed = tt_bar_model_seed(42, "EURUSD");
    /* path 100 -> 95 -> 110 -> 105, legs 5, 15, 5: no tick count, so 26 ticks;
     * the 22 between the anchors: 4.4, 13.2, 4.4 -> 4, 13, 4 and the one left to
     * the first of the two largest remainders: 5, 13, 4 */
    tt_bar b = mkbar(100, 110, 95, 105, 0);
    int n = tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, T0, &sp, seed, p);
    assert_int_equal(n, 26);
    assert_int_equal(p[0].bid, 100);
    assert_int_equal(p[6].bid, 95);
    assert_int_equal(p[20].bid, 110);
    assert_int_equal(p[25].bid, 105);
    for (int i = 0; i < n; i++) {
        assert_int_equal(p[i].ts, T0 + (tt_ts)i * MIN / 26);
        /* a tick between anchors takes the spread of the anchor it leaves */
        tt_price want = i < 6 ? 1 : i < 20 ? 3 : i < 25 ? 2 : 4;
        assert_int_equal(p[i].spread, want);
        if (i > 0 && i <= 6)
            assert_true(p[i].bid <= p[i - 1].bid); /* down to the low */
        if (i > 6 && i <= 20)
            assert_true(p[i].bid >= p[i - 1].bid); /* up to the high */
        if (i > 20)
            assert_true(p[i].bid <= p[i - 1].bid); /* down to the close */
    }
    /* the tick count: the bar's own when it has one, within 4 .. 240 */
    b.ticks = 10;
    assert_int_equal(tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, T0, &sp, seed, p), 10);
    b.ticks = 2;
    assert_int_equal(tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, T0, &sp, seed, p), 4);
    b.ticks = 100000;
    assert_int_equal(tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, T0, &sp, seed, p),
                     TT_BAR_MODEL_MAX_POINTS);
    /* a flat bar: 4 equal points */
    b = mkbar(100, 100, 100, 100, 0);
    assert_int_equal(tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, T0, &sp, seed, p), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(p[i].bid, 100);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void test_every_tick_properties(void **state)
{
    (void)state;
    tt_bar_point p[TT_BAR_MODEL_MAX_POINTS], q[TT_BAR_MODEL_MAX_POINTS];
    tt_bar_spreads sp = {0, 0, 0, 0};
    uint64_t s = 12345, seed = tt_bar_model_seed(7, "EURUSD");
    int differ_seed = 0, differ_sym = 0, differ_time = 0, with_ticks = 0;
    for (int k = 0; k < 3000; k++) {
        tt_price low = 100000 + (tt_price)(lcg(&s) % 100);
        tt_price high = low + (tt_price)(lcg(&s) % 300);
        tt_price o = low + (high > low ? (tt_price)(lcg(&s) % (uint64_t)(high - low + 1)) : 0);
        tt_price c = low + (high > low ? (tt_price)(lcg(&s) % (uint64_t)(high - low + 1)) : 0);
        uint32_t ticks = lcg(&s) % 3 ? 0 : (uint32_t)(lcg(&s) % 400);
        tt_bar b = mkbar(o, high, low, c, ticks);
        tt_ts t = T0 + (tt_ts)k * MIN;
        int n = tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, t, &sp, seed, p);
        /* the tick count: the bar's, else the path's length in points plus one */
        uint64_t want = ticks;
        if (!ticks) {
            tt_price a1 = high - o < o - low ? high : high - o > o - low ? low
                          : high - c >= c - low ? high : low;
            tt_price a2 = a1 == high ? low : high;
            tt_price leg1 = a1 > o ? a1 - o : o - a1, leg3 = c > a2 ? c - a2 : a2 - c;
            want = (uint64_t)(leg1 + (high - low) + leg3) + 1;
        } else {
            with_ticks++;
        }
        if (want < 4)
            want = 4;
        if (want > TT_BAR_MODEL_MAX_POINTS)
            want = TT_BAR_MODEL_MAX_POINTS;
        assert_int_equal(n, (int)want);
        /* starts at the open at t, ends at the close inside the minute, in time order */
        assert_true(p[0].ts == t && p[0].bid == o && p[n - 1].bid == c);
        assert_true(p[n - 1].ts < t + MIN);
        tt_price mx = p[0].bid, mn = p[0].bid;
        int first_hi = -1, first_lo = -1;
        for (int i = 0; i < n; i++) {
            if (i)
                assert_true(p[i].ts > p[i - 1].ts);
            assert_true(p[i].bid >= low && p[i].bid <= high);
            mx = p[i].bid > mx ? p[i].bid : mx;
            mn = p[i].bid < mn ? p[i].bid : mn;
            if (p[i].bid == high && first_hi < 0)
                first_hi = i;
            if (p[i].bid == low && first_lo < 0)
                first_lo = i;
        }
        /* the bar rebuilt from its ticks is the bar */
        assert_true(mx == high && mn == low);
        /* at most three monotone legs, the nearer extreme reached first */
        assert_true(runs_of(p, n) <= 3);
        if (high - o < o - low)
            assert_true(first_hi <= first_lo);
        if (high - o > o - low)
            assert_true(first_lo <= first_hi);
        /* the same (seed, symbol, time): the same ticks */
        assert_int_equal(tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, t, &sp, seed, q), n);
        assert_memory_equal(p, q, (size_t)n * sizeof *p);
        /* another scenario seed, symbol or time: other ticks (when there is room) */
        if (n > 6 && high - low > 20) {
            tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, t, &sp, tt_bar_model_seed(8, "EURUSD"),
                                q);
            differ_seed += memcmp(p, q, (size_t)n * sizeof *p) != 0;
            tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, t, &sp, tt_bar_model_seed(7, "GBPUSD"),
                                q);
            differ_sym += memcmp(p, q, (size_t)n * sizeof *p) != 0;
            tt_bar_model_points(TT_MODEL_EVERY_TICK, &b, t + MIN, &sp, seed, q);
            for (int i = 0; i < n; i++)
                q[i].ts -= MIN;
            differ_time += memcmp(p, q, (size_t)n * sizeof *p) != 0;
        }
    }
    assert_true(with_ticks > 500);
    assert_true(differ_seed > 1000 && differ_sym > 1000 && differ_time > 1000);
}

/* ---- the source ---- */

static const tt_ts BT[4] = {T0, T0 + MIN, T0 + 3 * MIN, T0 + 4 * MIN};
static tt_bar BB[4];

static void make_bars(void)
{
    BB[0] = mkbar(114400, 114410, 114395, 114405, 12);
    BB[1] = mkbar(114406, 114420, 114401, 114419, 30);
    BB[2] = mkbar(114430, 114431, 114400, 114402, 7);
    BB[3] = mkbar(114402, 114409, 114399, 114408, 0);
}

static tt_bar_model_opts opts(int model)
{
    tt_bar_model_opts o;
    memset(&o, 0, sizeof o);
    o.model = model;
    o.seed = 42;
    o.symbol = 5;
    o.symbol_name = "EURUSD";
    o.source = 3;
    return o;
}

static void test_source_order(void **state)
{
    (void)state;
    make_bars();
    char *dir = mkdir_tmp();
    write_bars(dir, TT_SIDE_BID, BT, BB, 4);
    tt_bar_model_opts o = opts(TT_MODEL_OHLC_M1);
    o.spread_points = 2;
    for (int ask = 0; ask < 2; ask++) {
        tt_tape_reader *rd;
        tt_source in = open_stream(dir, TT_STREAM_BAR, TT_SIDE_BID, &rd);
        tt_bar_model_src *m;
        tt_err err;
        assert_int_equal(tt_bar_model_src_new_bars(&m, in, (tt_source){0}, &o, &err), 0);
        tt_bar_model_src_set_ask_carriers(m, ask);
        tt_event ev[40];
        int per = 5 + ask;
        assert_int_equal(drain(tt_bar_model_src_source(m), ev, 40, &err), 4 * per);
        assert_int_equal(tt_bar_model_src_bars(m), 4);
        for (int i = 0; i < 4 * per; i++) {
            assert_int_equal(ev[i].seq, i + 1);
            assert_true(ev[i].symbol == 5 && ev[i].source == 3 && ev[i].cls == TT_CLS_MARKET);
            assert_int_equal(ev[i].ts_init, ev[i].ts);
        }
        for (int k = 0; k < 4; k++) {
            const tt_event *e = &ev[k * per];
            /* the open point, then the bid bar, then the ask bar, at the bar's time */
            assert_true(e[0].kind == TT_EV_QUOTE && e[0].ts == BT[k]);
            assert_true(e[0].u.quote.bid == BB[k].open && e[0].u.quote.ask == BB[k].open + 2);
            assert_true(e[1].kind == TT_EV_BAR && e[1].ts == BT[k]);
            assert_true(e[1].u.bar.side == TT_SIDE_BID && e[1].u.bar.tf == TT_TF_M1);
            assert_true(e[1].u.bar.close == BB[k].close && e[1].u.bar.ticks == BB[k].ticks);
            if (ask) {
                assert_true(e[2].kind == TT_EV_BAR && e[2].u.bar.side == TT_SIDE_ASK);
                assert_true(e[2].u.bar.high == BB[k].high + 2 && e[2].u.bar.low == BB[k].low + 2);
            }
            /* then the three other points, 15 s apart, ending at the close */
            const tt_event *last = &e[per - 1];
            assert_true(last->kind == TT_EV_QUOTE && last->ts == BT[k] + 45 * TT_NS_PER_SEC);
            assert_int_equal(last->u.quote.bid, BB[k].close);
        }
        tt_bar_model_src_free(m);
        tt_tape_reader_close(rd);
    }
    rmdir_tmp(dir);
}

static void test_source_spread_from_bars(void **state)
{
    (void)state;
    make_bars();
    char *dir = mkdir_tmp();
    write_bars(dir, TT_SIDE_BID, BT, BB, 4);
    /* ask bars: an extra one before the first bid bar (skipped), spreads 3/4/5/6,
     * one with an ask below the bid (spread 0), and none for the last minute */
    tt_ts at[4] = {T0 - MIN, T0, T0 + MIN, T0 + 3 * MIN};
    tt_bar ab[4];
    ab[0] = BB[0];
    ab[1] = mkbar(BB[0].open + 3, BB[0].high + 4, BB[0].low + 5, BB[0].close + 6, 12);
    ab[2] = mkbar(BB[1].open - 1, BB[1].high, BB[1].low, BB[1].close + 1, 30);
    ab[3] = mkbar(BB[2].open + 2, BB[2].high + 2, BB[2].low + 2, BB[2].close + 2, 7);
    write_bars(dir, TT_SIDE_ASK, at, ab, 4);
    tt_bar_model_opts o = opts(TT_MODEL_OHLC_M1);
    o.spread_from_bars = 1;
    tt_tape_reader *rb, *ra;
    tt_source bid = open_stream(dir, TT_STREAM_BAR, TT_SIDE_BID, &rb);
    tt_source ask = open_stream(dir, TT_STREAM_BAR, TT_SIDE_ASK, &ra);
    tt_bar_model_src *m;
    tt_err err;
    /* from_bars without an ask source is refused */
    assert_int_equal(tt_bar_model_src_new_bars(&m, bid, (tt_source){0}, &o, &err), TT_EINVAL);
    assert_int_equal(tt_bar_model_src_new_bars(&m, bid, ask, &o, &err), 0);
    tt_event ev[40];
    int n = drain(tt_bar_model_src_source(m), ev, 40, &err);
    assert_int_equal(n, TT_EFORMAT);
    assert_non_null(strstr(err.msg, "EURUSD bar at 2019-02-04T10:04:00.000Z"));
    assert_non_null(strstr(err.msg, "no ask bar of that minute"));
    /* bar 0 (up 10, down 5: open, low, high, close): spreads 3, 5, 4, 6 */
    tt_price want0[4] = {3, 5, 4, 6};
    for (int i = 0; i < 4; i++) {
        const tt_event *e = &ev[i == 0 ? 0 : i + 1];
        assert_int_equal(e->u.quote.ask - e->u.quote.bid, want0[i]);
    }
    /* bar 1: the open's ask below its bid counts as spread 0 */
    assert_int_equal(ev[5].u.quote.ask, ev[5].u.quote.bid);
    tt_bar_model_src_free(m);
    tt_tape_reader_close(rb);
    tt_tape_reader_close(ra);
    rmdir_tmp(dir);
}

static void test_source_errors(void **state)
{
    (void)state;
    make_bars();
    tt_err err;
    tt_bar_model_src *m;
    tt_bar_model_opts o = opts(TT_MODEL_REAL_TICKS);
    assert_int_equal(tt_bar_model_src_new_bars(&m, (tt_source){0}, (tt_source){0}, &o, &err),
                     TT_EINVAL);
    o = opts(TT_MODEL_OHLC_M1);
    o.spread_points = -1;
    assert_int_equal(tt_bar_model_src_new_bars(&m, (tt_source){0}, (tt_source){0}, &o, &err),
                     TT_EINVAL);
    /* bars 30 s apart */
    char *dir = mkdir_tmp();
    tt_ts t[2] = {T0, T0 + 30 * TT_NS_PER_SEC};
    write_bars(dir, TT_SIDE_BID, t, BB, 2);
    tt_tape_reader *rd;
    o = opts(TT_MODEL_OPEN_PRICES);
    assert_int_equal(tt_bar_model_src_new_bars(&m, open_stream(dir, TT_STREAM_BAR, 0, &rd),
                                               (tt_source){0}, &o, &err),
                     0);
    tt_event ev[8];
    assert_int_equal(drain(tt_bar_model_src_source(m), ev, 8, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "less than a minute after the bar before"));
    tt_bar_model_src_free(m);
    tt_tape_reader_close(rd);
    rmdir_tmp(dir);
    /* an inconsistent bar (close above the high) */
    dir = mkdir_tmp();
    tt_bar bad = mkbar(100, 110, 90, 111, 0);
    write_bars(dir, TT_SIDE_BID, t, &bad, 1);
    assert_int_equal(tt_bar_model_src_new_bars(&m, open_stream(dir, TT_STREAM_BAR, 0, &rd),
                                               (tt_source){0}, &o, &err),
                     0);
    assert_int_equal(drain(tt_bar_model_src_source(m), ev, 8, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "inconsistent prices"));
    tt_bar_model_src_free(m);
    tt_tape_reader_close(rd);
    rmdir_tmp(dir);
}

static void test_source_from_quotes(void **state)
{
    (void)state;
    /* 600 quotes over about five minutes, some one-sided (left out) */
    enum { NQ = 600 };
    tt_event *q = calloc(NQ, sizeof *q);
    uint64_t s = 99;
    tt_price bid = 114400;
    for (int i = 0; i < NQ; i++) {
        q[i].ts = T0 + 7 * TT_NS_PER_SEC + (tt_ts)i * 500 * TT_NS_PER_MS;
        q[i].kind = TT_EV_QUOTE;
        bid += (tt_price)(lcg(&s) % 5) - 2;
        q[i].u.quote.bid = i % 97 == 5 ? 0 : bid;
        q[i].u.quote.ask = bid + 1 + (tt_price)(lcg(&s) % 4);
    }
    char *dir = mkdir_tmp();
    write_quotes(dir, q, NQ);
    tt_bar_builder bb, ab;
    tt_bar_builder_init(&bb, 0, TT_TF_M1, TT_SIDE_BID, NULL);
    tt_bar_builder_init(&ab, 0, TT_TF_M1, TT_SIDE_ASK, NULL);
    tt_event want_bid[8], want_ask[8];
    int nw = 0;
    for (int i = 0; i < NQ; i++) {
        if (q[i].u.quote.bid <= 0)
            continue;
        tt_event x, y;
        if (tt_bar_builder_update(&bb, &q[i], &x, NULL) == 1) {
            assert_int_equal(tt_bar_builder_update(&ab, &q[i], &y, NULL), 1);
            want_bid[nw] = x;
            want_ask[nw++] = y;
        } else {
            tt_bar_builder_update(&ab, &q[i], &y, NULL);
        }
    }
    tt_bar_builder_flush(&bb, &want_bid[nw]);
    tt_bar_builder_flush(&ab, &want_ask[nw++]);
    assert_int_equal(nw, 6);
    tt_bar_model_opts o = opts(TT_MODEL_EVERY_TICK);
    o.spread_from_bars = 1;
    tt_tape_reader *rd;
    tt_bar_model_src *m;
    tt_err err;
    assert_int_equal(
        tt_bar_model_src_new_quotes(&m, open_stream(dir, TT_STREAM_QUOTE, 0, &rd), &o, &err), 0);
    tt_bar_model_src_set_ask_carriers(m, 1);
    tt_event *ev = calloc(4000, sizeof *ev);
    int n = drain(tt_bar_model_src_source(m), ev, 4000, &err);
    assert_true(n > 600);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (ev[i].kind != TT_EV_BAR)
            continue;
        const tt_event *want = ev[i].u.bar.side == TT_SIDE_BID ? &want_bid[k] : &want_ask[k];
        assert_int_equal(ev[i].ts, want->ts);
        assert_memory_equal(&ev[i].u.bar, &want->u.bar, offsetof(tt_bar, volume));
        assert_int_equal(ev[i].u.bar.ticks, want->u.bar.ticks);
        k += ev[i].u.bar.side == TT_SIDE_ASK;
    }
    assert_int_equal(k, nw);
    free(ev);
    free(q);
    tt_bar_model_src_free(m);
    tt_tape_reader_close(rd);
    rmdir_tmp(dir);
}

/* ---- in a backtest ---- */

#define MAXREC 64
static struct rec {
    uint32_t sym;
    int nbars;
    struct {
        int tf, side;
        tt_ts ts, now;
        tt_bar bar;
    } bars[MAXREC];
    int nfills;
    struct {
        tt_ts ts;
        tt_price price;
        int side;
    } fills[MAXREC];
    int quotes;
    int m1_bid;
} REC;

static int rec_create(tt_strategy_ctx *c, void **state)
{
    memset(&REC, 0, sizeof REC);
    REC.sym = tt_ctx_symbol_id(c, "EURUSD");
    *state = &REC;
    int rc = tt_ctx_subscribe_bars(c, REC.sym, TT_TF_M1, TT_SIDE_BID);
    rc = rc ? rc : tt_ctx_subscribe_bars(c, REC.sym, TT_TF_M5, TT_SIDE_BID);
    rc = rc ? rc : tt_ctx_subscribe_bars(c, REC.sym, TT_TF_M1, TT_SIDE_ASK);
    return rc ? rc : tt_ctx_subscribe_bars(c, REC.sym, TT_TF_M1, TT_SIDE_MID);
}

static void rec_bar(void *s, tt_strategy_ctx *c, const tt_event *bar)
{
    (void)s;
    if (REC.nbars < MAXREC) {
        REC.bars[REC.nbars].tf = bar->u.bar.tf;
        REC.bars[REC.nbars].side = bar->u.bar.side;
        REC.bars[REC.nbars].ts = bar->ts;
        REC.bars[REC.nbars].now = tt_ctx_now(c);
        REC.bars[REC.nbars].bar = bar->u.bar;
        REC.nbars++;
    }
    if (bar->u.bar.tf != TT_TF_M1 || bar->u.bar.side != TT_SIDE_BID)
        return;
    /* buy after the first M1 bid bar, sell after the second */
    REC.m1_bid++;
    if (REC.m1_bid <= 2)
        tt_ctx_market(c, REC.sym, REC.m1_bid == 1 ? 10 : -10, 0, 0);
}

static void rec_quote(void *s, tt_strategy_ctx *c, const tt_event *q)
{
    (void)s;
    (void)c;
    (void)q;
    REC.quotes++;
}

static void rec_order(void *s, tt_strategy_ctx *c, const tt_event *ev)
{
    (void)s;
    (void)c;
    const tt_order_event *o = &ev->u.order_ev;
    if (o->fill_qty && REC.nfills < MAXREC) {
        REC.fills[REC.nfills].ts = ev->ts;
        REC.fills[REC.nfills].price = o->fill_price;
        REC.fills[REC.nfills].side = o->side;
        REC.nfills++;
    }
}

static void rec_destroy(void *s) { (void)s; }

static const tt_strategy_vtable REC_VT = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "recorder", "records", "",
    rec_create, rec_destroy, NULL, rec_quote, rec_bar, rec_order, NULL, NULL, NULL,
};

static void config(tt_backtest_config *c, const char *dir, int model)
{
    tt_backtest_config_default(c);
    c->symbols[0] = "EURUSD";
    c->tape_dir = dir;
    c->strategy_vtable = &REC_VT;
    c->strategy = "recorder";
    c->model = model;
    c->seed = 3;
}

static void test_backtest_bars_and_fills(void **state)
{
    (void)state;
    make_bars();
    char *dir = mkdir_tmp();
    write_bars(dir, TT_SIDE_BID, BT, BB, 4);
    int models[3] = {TT_MODEL_OHLC_M1, TT_MODEL_OPEN_PRICES, TT_MODEL_EVERY_TICK};
    int npoints[3] = {4, 1, -1};
    for (int mi = 0; mi < 3; mi++) {
        for (int lat = 0; lat < 2; lat++) {
            tt_backtest_config c;
            config(&c, dir, models[mi]);
            c.spread_points = 3;
            c.venue.latency_ns = lat ? 100 * TT_NS_PER_MS : 0;
            tt_backtest_result r;
            tt_err err;
            if (tt_backtest_run(&c, &r, &err))
                fail_msg("backtest: %s", err.msg);
            /* every point reached on_quote, no carrier reached on_bar */
            if (npoints[mi] > 0)
                assert_int_equal(REC.quotes, 4 * npoints[mi]);
            /* bars: M1 bid, ask, mid of bars 0..2 (the last is never closed),
             * and the M5 bid of 10:00-10:05 only at the end (never closed) */
            int m1 = 0;
            for (int i = 0; i < REC.nbars; i++) {
                assert_int_equal(REC.bars[i].tf, TT_TF_M1);
                int k = 0;
                while (k < 3 && BT[k] != REC.bars[i].ts)
                    k++;
                assert_true(k < 3);
                /* delivered at the next bar's first point */
                assert_int_equal(REC.bars[i].now, BT[k + 1]);
                tt_price d = REC.bars[i].side == TT_SIDE_ASK ? 3 : 0;
                const tt_bar *b = &REC.bars[i].bar;
                if (REC.bars[i].side == TT_SIDE_MID) { /* (2 bid + 3) / 2, half to even */
                    assert_int_equal(b->open, tt_bar_mid(BB[k].open, BB[k].open + 3));
                    assert_int_equal(b->close, tt_bar_mid(BB[k].close, BB[k].close + 3));
                    continue;
                }
                assert_true(b->open == BB[k].open + d && b->high == BB[k].high + d &&
                            b->low == BB[k].low + d && b->close == BB[k].close + d);
                assert_int_equal(b->ticks, BB[k].ticks);
                m1 += REC.bars[i].side == TT_SIDE_BID;
            }
            assert_int_equal(m1, 3);
            assert_int_equal(REC.nbars, 9);
            /* fills: the buy at bar 1's open plus the spread, the sell at bar 2's
             * open (bar 2 opens after a one-minute gap), latency added to the time */
            assert_int_equal(REC.nfills, 2);
            tt_ts lt = c.venue.latency_ns;
            assert_true(REC.fills[0].side == TT_BUY && REC.fills[0].ts == BT[1] + lt);
            assert_int_equal(REC.fills[0].price, BB[1].open + 3);
            assert_true(REC.fills[1].side == TT_SELL && REC.fills[1].ts == BT[2] + lt);
            assert_int_equal(REC.fills[1].price, BB[2].open);
            assert_int_equal(r.ntrades, 1);
            assert_int_equal(r.trades[0].pnl, (BB[2].open - BB[1].open - 3) * 10);
            tt_backtest_result_free(&r);
        }
    }
    rmdir_tmp(dir);
}

/* M5 bars come from the M1 bars: a run over two M5 periods. */
static void test_backtest_m5(void **state)
{
    (void)state;
    enum { N = 11 };
    tt_ts t[N];
    tt_bar b[N];
    for (int i = 0; i < N; i++) {
        t[i] = T0 + (tt_ts)i * MIN;
        b[i] = mkbar(114400 + i, 114410 + 2 * i, 114390 - i, 114405 + i, (uint32_t)i);
    }
    char *dir = mkdir_tmp();
    write_bars(dir, TT_SIDE_BID, t, b, N);
    tt_backtest_config c;
    config(&c, dir, TT_MODEL_OPEN_PRICES);
    tt_backtest_result r;
    tt_err err;
    if (tt_backtest_run(&c, &r, &err))
        fail_msg("backtest: %s", err.msg);
    int m5 = 0;
    for (int i = 0; i < REC.nbars; i++) {
        if (REC.bars[i].tf != TT_TF_M5)
            continue;
        const tt_bar *x = &REC.bars[i].bar;
        int k = m5 * 5;
        assert_int_equal(REC.bars[i].ts, t[k]);
        assert_int_equal(REC.bars[i].now, t[k + 5]); /* at the first point of 10:05 / 10:10 */
        assert_true(x->open == b[k].open && x->close == b[k + 4].close);
        assert_true(x->high == b[k + 4].high && x->low == b[k + 4].low);
        assert_int_equal(x->ticks, 5 * k + 10);
        m5++;
    }
    assert_int_equal(m5, 2);
    tt_backtest_result_free(&r);
    rmdir_tmp(dir);
}

static void test_backtest_errors(void **state)
{
    (void)state;
    make_bars();
    char *dir = mkdir_tmp();
    write_bars(dir, TT_SIDE_BID, BT, BB, 4);
    tt_backtest_config c;
    tt_backtest_result r;
    tt_err err;
    /* an S1 subscription cannot be served from M1 bars */
    config(&c, dir, TT_MODEL_OHLC_M1);
    c.strategy_vtable = NULL;
    c.strategy = "sma_cross";
    c.params = "tf=S1";
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "S1 bar subscription cannot be served"));
    tt_backtest_result_free(&r);
    /* from_bars without ask bars on the tape */
    config(&c, dir, TT_MODEL_OHLC_M1);
    c.spread_from_bars = 1;
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no M1 ask bars (bar-M1-ask)"));
    tt_backtest_result_free(&r);
    /* a symbol the tape does not hold */
    config(&c, dir, TT_MODEL_OHLC_M1);
    c.symbols[0] = "GBPUSD";
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "neither M1 bid bars (bar-M1-bid) nor quotes of GBPUSD"));
    tt_backtest_result_free(&r);
    /* a bar model reads a tape, not the caller's source */
    config(&c, dir, TT_MODEL_OHLC_M1);
    tt_source none = {0};
    c.source = &none;
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "a bar model reads a tape"));
    tt_backtest_result_free(&r);
    rmdir_tmp(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ohlc_path),
        cmocka_unit_test(test_every_tick_hand),
        cmocka_unit_test(test_every_tick_properties),
        cmocka_unit_test(test_source_order),
        cmocka_unit_test(test_source_spread_from_bars),
        cmocka_unit_test(test_source_errors),
        cmocka_unit_test(test_source_from_quotes),
        cmocka_unit_test(test_backtest_bars_and_fills),
        cmocka_unit_test(test_backtest_m5),
        cmocka_unit_test(test_backtest_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
