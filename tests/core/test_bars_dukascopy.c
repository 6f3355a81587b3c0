/*
 * Bars from real ticks against Dukascopy's own candles (an oracle nobody here
 * wrote). tests/data/bars/ holds three hours of EURUSD ticks of 2019-02-04
 * (00h, 07h, 08h: the quiet day open and the busy London open), Dukascopy's
 * 1-minute BID candles of that day and its hourly BID candles of February 2019,
 * all in Dukascopy's .bi5 form. tests/core/bi5_dump.py (run with
 * /usr/bin/python3, whose lzma module reads the container) turns them into text;
 * the ticks then go through tt_bar_builder and every M1 and H1 bid bar must equal
 * the candle with the same open time: open, high, low, close exactly, volume to
 * float precision (Dukascopy stores the candle volume as a float32).
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
#include <unistd.h>

#include "core/bars.h"
#include "core/engine.h"

#define DAY_S 1549238400LL   /* 2019-02-04T00:00Z */
#define MONTH_S 1548979200LL /* 2019-02-01T00:00Z */

typedef struct candle {
    long long t;
    tt_price o, h, l, c;
    double v;
} candle;

static char tmpdir[] = "/tmp/tt_bars_duka_XXXXXX";

static const char *python(void)
{
    const char *py = getenv("TT_PYTHON");
    return py && *py ? py : "/usr/bin/python3";
}

/* Decode one .bi5 file into a temp text file; returns its path (static buffer). */
static const char *dump(const char *kind, long long start, const char *file)
{
    static char out[256];
    char cmd[1024];
    snprintf(out, sizeof out, "%s/%s.txt", tmpdir, file);
    snprintf(cmd, sizeof cmd, "%s %s/tests/core/bi5_dump.py %s %lld %s/bars/%s > %s", python(),
             TT_SOURCE_DIR, kind, start, TT_TESTDATA, file, out);
    assert_int_equal(system(cmd), 0);
    return out;
}

static int load_candles(const char *path, candle *c, int max)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n = 0;
    long long o, h, l, cl;
    while (n < max && fscanf(f, "%lld %lld %lld %lld %lld %lf", &c[n].t, &o, &h, &l, &cl,
                             &c[n].v) == 6) {
        c[n].o = o;
        c[n].h = h;
        c[n].l = l;
        c[n].c = cl;
        n++;
    }
    fclose(f);
    return n;
}

static const candle *find(const candle *c, int n, tt_ts open)
{
    for (int i = 0; i < n; i++)
        if (c[i].t * TT_NS_PER_SEC == open)
            return &c[i];
    return NULL;
}

static void check(const tt_event *bar, const candle *c, int n, int *matched)
{
    const candle *k = find(c, n, bar->ts);
    if (!k)
        fail_msg("no Dukascopy candle opens at %lld", (long long)bar->ts);
    if (bar->u.bar.open != k->o || bar->u.bar.high != k->h || bar->u.bar.low != k->l ||
        bar->u.bar.close != k->c)
        fail_msg("bar at %lld s: ours %lld %lld %lld %lld, Dukascopy %lld %lld %lld %lld",
                 (long long)(bar->ts / TT_NS_PER_SEC), (long long)bar->u.bar.open,
                 (long long)bar->u.bar.high, (long long)bar->u.bar.low,
                 (long long)bar->u.bar.close, (long long)k->o, (long long)k->h, (long long)k->l,
                 (long long)k->c);
    if (fabs(bar->u.bar.volume - k->v) > 1e-6 * k->v)
        fail_msg("bar at %lld s: volume %.9g, Dukascopy %.9g",
                 (long long)(bar->ts / TT_NS_PER_SEC), bar->u.bar.volume, k->v);
    (*matched)++;
}

static void test_m1_h1_against_dukascopy(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(tmpdir));
    static candle m1[1500], h1[800];
    int nm = load_candles(dump("candles", DAY_S, "EURUSD_2019-02-04_BID_candles_min_1.bi5"), m1,
                          1500);
    int nh = load_candles(dump("candles", MONTH_S, "EURUSD_2019-02_BID_candles_hour_1.bi5"), h1,
                          800);
    assert_int_equal(nm, 1440);
    assert_true(nh >= 24 * 28 - 200); /* weekends may be absent or flat */

    const int hours[] = {0, 7, 8};
    int matched_m1 = 0, matched_h1 = 0;
    long ticks = 0;
    for (int k = 0; k < 3; k++) {
        char file[128];
        snprintf(file, sizeof file, "EURUSD_2019-02-04_%02dh_ticks.bi5", hours[k]);
        FILE *f = fopen(dump("ticks", DAY_S + hours[k] * 3600LL, file), "r");
        assert_non_null(f);
        tt_bar_builder bm, bh;
        assert_int_equal(tt_bar_builder_init(&bm, 0, TT_TF_M1, TT_SIDE_BID, NULL), 0);
        assert_int_equal(tt_bar_builder_init(&bh, 0, TT_TF_H1, TT_SIDE_BID, NULL), 0);
        long long ms, bid, ask;
        float bv, av;
        tt_event q, bar;
        memset(&q, 0, sizeof q);
        q.kind = TT_EV_QUOTE;
        int nbars = 0;
        while (fscanf(f, "%lld %lld %lld %f %f", &ms, &bid, &ask, &bv, &av) == 5) {
            q.ts = q.ts_init = ms * TT_NS_PER_MS;
            q.u.quote.bid = bid;
            q.u.quote.ask = ask;
            q.u.quote.bid_vol = bv;
            q.u.quote.ask_vol = av;
            ticks++;
            if (tt_bar_builder_update(&bm, &q, &bar, NULL) == 1) {
                check(&bar, m1, nm, &matched_m1);
                nbars++;
            }
            assert_int_equal(tt_bar_builder_update(&bh, &q, &bar, NULL), 0);
        }
        fclose(f);
        /* the file ends inside its hour's last minute: flush it */
        assert_int_equal(tt_bar_builder_flush(&bm, &bar), 1);
        check(&bar, m1, nm, &matched_m1);
        assert_int_equal(nbars + 1, 60); /* every minute of these hours has ticks */
        assert_int_equal(tt_bar_builder_flush(&bh, &bar), 1);
        check(&bar, h1, nh, &matched_h1);
    }
    assert_int_equal(matched_m1, 180);
    assert_int_equal(matched_h1, 3);
    printf("Dukascopy: %ld ticks -> 180 M1 and 3 H1 bid bars, all equal to the candles\n",
           ticks);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the engine component over the same ticks ---- */

typedef struct tick_source {
    tt_event *ev;
    int n, i;
} tick_source;

static int tick_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    tick_source *s = self;
    if (s->i == s->n)
        return TT_SRC_END;
    *ev = s->ev[s->i++];
    return TT_SRC_EVENT;
}

typedef struct bar_log {
    tt_event *ev;
    int n, cap;
} bar_log;

static void log_bar(void *ctx, tt_engine *e, const tt_event *bar)
{
    (void)e;
    bar_log *l = ctx;
    assert_true(l->n < l->cap);
    l->ev[l->n++] = *bar;
}

/* The component (timers on, flush at stop) must deliver exactly the bars that
 * plain builders make from the same ticks, in close-time order. */
static void test_component_equals_builders(void **state)
{
    (void)state;
    char dir[] = "/tmp/tt_bars_comp_XXXXXX";
    assert_non_null(mkdtemp(dir));
    int cap = 40000, n = 0;
    tt_event *ticks = calloc((size_t)cap, sizeof *ticks);
    assert_non_null(ticks);
    const int hours[] = {0, 7, 8};
    for (int k = 0; k < 3; k++) {
        char cmd[1024], out[300];
        snprintf(out, sizeof out, "%s/%d.txt", dir, hours[k]);
        snprintf(cmd, sizeof cmd,
                 "%s %s/tests/core/bi5_dump.py ticks %lld %s/bars/EURUSD_2019-02-04_%02dh_ticks.bi5"
                 " > %s",
                 python(), TT_SOURCE_DIR, DAY_S + hours[k] * 3600LL, TT_TESTDATA, hours[k], out);
        assert_int_equal(system(cmd), 0);
        FILE *f = fopen(out, "r");
        assert_non_null(f);
        long long ms, bid, ask;
        float bv, av;
        while (n < cap && fscanf(f, "%lld %lld %lld %f %f", &ms, &bid, &ask, &bv, &av) == 5) {
            tt_event *q = &ticks[n++];
            q->ts = q->ts_init = ms * TT_NS_PER_MS;
            q->kind = TT_EV_QUOTE;
            q->cls = TT_CLS_MARKET;
            q->symbol = 1;
            q->source = 1;
            q->seq = (uint64_t)n;
            q->u.quote.bid = bid;
            q->u.quote.ask = ask;
            q->u.quote.bid_vol = bv;
            q->u.quote.ask_vol = av;
        }
        fclose(f);
        unlink(out);
    }
    rmdir(dir);
    assert_true(n > 20000);

    const tt_bar_sub subs[] = {{1, TT_TF_M1, TT_SIDE_BID}, {1, TT_TF_M5, TT_SIDE_MID},
                               {1, TT_TF_H1, TT_SIDE_ASK}, {1, TT_TF_S1, TT_SIDE_BID}};
    enum { NSUB = 4 };
    /* expected: one builder per subscription, then all bars sorted by (close, index) */
    static tt_event want[20000];
    int nw = 0;
    tt_bar_builder b[NSUB];
    for (int k = 0; k < NSUB; k++)
        tt_bar_builder_init(&b[k], 1, subs[k].tf, subs[k].side, NULL);
    for (int i = 0; i < n; i++) {
        /* bars closing at or before this tick go first, by (close time, index) */
        for (;;) {
            int best = -1;
            for (int k = 0; k < NSUB; k++)
                if (b[k].active && b[k].close_ts <= ticks[i].ts &&
                    (best < 0 || b[k].close_ts < b[best].close_ts))
                    best = k;
            if (best < 0)
                break;
            assert_int_equal(tt_bar_builder_close_until(&b[best], ticks[i].ts, &want[nw++]), 1);
        }
        for (int k = 0; k < NSUB; k++) {
            tt_event out;
            assert_int_equal(tt_bar_builder_update(&b[k], &ticks[i], &out, NULL), 0);
        }
    }
    for (;;) {
        int best = -1;
        for (int k = 0; k < NSUB; k++)
            if (b[k].active && (best < 0 || b[k].close_ts < b[best].close_ts))
                best = k;
        if (best < 0)
            break;
        tt_bar_builder_flush(&b[best], &want[nw++]);
    }

    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    tick_source src = {ticks, n, 0};
    tt_engine_set_source(e, (tt_source){.self = &src, .next = tick_next});
    tt_bars *bars;
    tt_bars_opts opts = {.flush_at_stop = 1};
    assert_int_equal(tt_bars_new(&bars, subs, NSUB, &opts, NULL), 0);
    static tt_event got[20000];
    bar_log log = {got, 0, 20000};
    tt_bars_listen(bars, log_bar, &log);
    tt_engine_add_component(e, tt_bars_component(bars));
    tt_err err;
    assert_int_equal(tt_engine_run(e, &err), 0);
    assert_int_equal(log.n, nw);
    assert_int_equal(tt_bars_emitted(bars), (uint64_t)nw);
    for (int i = 0; i < nw; i++) {
        assert_int_equal(got[i].ts, want[i].ts);
        assert_int_equal(got[i].ts_init, want[i].ts_init);
        assert_memory_equal(&got[i].u.bar, &want[i].u.bar, sizeof(tt_bar));
    }
    printf("component: %d bars (S1 bid, M1 bid, M5 mid, H1 ask) equal to the builders'\n", nw);
    tt_bars_free(bars);
    tt_engine_free(e);
    tt_instruments_free(ins);
    free(ticks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_m1_h1_against_dukascopy),
        cmocka_unit_test(test_component_equals_builders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
