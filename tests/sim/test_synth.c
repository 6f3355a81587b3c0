/*
 * Synthetic markets, behaviour: reproducibility (same seed, same bytes;
 * another seed, other ticks; a new uncorrelated symbol leaves the others
 * alone), the microstructure (weekend close, tick counts and intraday
 * seasonality against their Poisson expectations, spread at base, at the
 * rollover and in a volatile regime, rounding to the instrument's point,
 * timestamp resolution), configuration errors that name the key, and the
 * engine source driving a real tt_engine.
 *
 * Hand-worked expectations are in the comments: e.g. a week from Monday
 * 2024-01-01 00:00 UTC has 5 x 24 open hours (Mon 00:00 - Fri 22:00 and Sun
 * 22:00 - Mon 00:00), so 2 ticks/s gives 864,000 ticks on average, sd 930.
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

#include "core/engine.h"
#include "data/dukascopy.h"
#include "data/tape.h"
#include "sim/pcg.h"
#include "sim/synth.h"

static tt_instruments *g_ins;

#define PIN_GBM 0x920203bd75751493ULL
#define PIN_MERTON 0xa52dc9180ec66bccULL
#define PIN_HESTON 0xcab9f4fc1bbfa678ULL
#define PIN_REGIME 0xa66f4e0b87ffe793ULL
#define PIN_OU 0x2c32a97165cd8879ULL

static void cfg_set(tt_synth_config *c, const char *k, const char *v)
{
    tt_err err;
    if (tt_synth_config_set(c, k, v, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
}

static tt_synth *open_cfg(const tt_synth_config *c)
{
    tt_synth *s;
    tt_err err;
    if (tt_synth_open(&s, c, g_ins, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    return s;
}

/* FNV-1a over every byte of every event. */
static uint64_t hash_events(const tt_event *e, size_t n, uint64_t h)
{
    const unsigned char *p = (const unsigned char *)e;
    for (size_t i = 0; i < n * sizeof *e; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t run_hash(const tt_synth_config *c, const char *only_symbol, uint64_t *count)
{
    tt_synth *s = open_cfg(c);
    const tt_instrument *want = only_symbol ? tt_instruments_find(g_ins, only_symbol) : NULL;
    static tt_event buf[1024];
    uint64_t h = 0xcbf29ce484222325ULL, k = 0;
    size_t n;
    while ((n = tt_synth_generate(s, buf, 1024)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (want && buf[i].symbol != want->id)
                continue;
            tt_event e = buf[i];
            if (want)
                e.seq = 0; /* seq counts the whole market's events */
            h = hash_events(&e, 1, h);
            k++;
        }
    }
    tt_synth_close(s);
    *count = k;
    return h;
}

static void test_reproducible(void **state)
{
    (void)state;
    tt_synth_config c;
    tt_synth_config_init(&c);
    cfg_set(&c, "to", "2024-01-03");
    uint64_t n1, n2, n3;
    uint64_t h1 = run_hash(&c, NULL, &n1), h2 = run_hash(&c, NULL, &n2);
    assert_true(n1 > 100000);
    assert_int_equal(n1, n2);
    assert_true(h1 == h2);
    cfg_set(&c, "seed", "2");
    uint64_t h3 = run_hash(&c, NULL, &n3);
    assert_true(h3 != h1);

    /* every model is reproducible */
    static const char *const models[] = {"merton", "heston", "regime", "ou"};
    for (int m = 0; m < 4; m++) {
        cfg_set(&c, "model", models[m]);
        assert_true(run_hash(&c, NULL, &n1) == run_hash(&c, NULL, &n2));
    }
}

static void test_symbols_independent(void **state)
{
    (void)state;
    /* Without correlation, EURUSD's ticks do not depend on the other symbols. */
    tt_synth_config a, b;
    tt_synth_config_init(&a);
    cfg_set(&a, "to", "2024-01-02");
    b = a;
    cfg_set(&b, "symbols", "GBPUSD,EURUSD,USDJPY");
    uint64_t na, nb;
    uint64_t ha = run_hash(&a, "EURUSD", &na), hb = run_hash(&b, "EURUSD", &nb);
    assert_int_equal(na, nb);
    assert_true(ha == hb);
    /* With a correlation, the symbols move together (and EURUSD's path differs). */
    cfg_set(&b, "corr", "0.5");
    uint64_t hc = run_hash(&b, "EURUSD", &nb);
    assert_int_equal(na, nb); /* arrivals come from the clock streams alone */
    assert_true(hc != ha);
}

static int weekday(tt_ts t)
{
    int64_t day = t / TT_NS_PER_DAY;
    return (int)((day + 4) % 7); /* 0 = Sunday */
}

static void test_microstructure(void **state)
{
    (void)state;
    tt_synth_config c;
    tt_synth_config_init(&c); /* EURUSD, 2 ticks/s, a week from Monday 2024-01-01 */
    tt_synth *s = open_cfg(&c);
    const tt_instrument *eur = tt_instruments_find(g_ins, "EURUSD");
    static tt_event buf[1024];
    size_t n;
    uint64_t count = 0, per_hour[24] = {0}, weekend = 0, seq = 0;
    uint64_t spread_hist[64] = {0}, roll_spread_hist[64] = {0};
    tt_ts last = 0;
    while ((n = tt_synth_generate(s, buf, 1024)) > 0) {
        for (size_t i = 0; i < n; i++) {
            const tt_event *e = &buf[i];
            assert_int_equal(e->kind, TT_EV_QUOTE);
            assert_int_equal(e->cls, TT_CLS_MARKET);
            assert_int_equal(e->symbol, eur->id);
            assert_int_equal(e->source, 1);
            assert_int_equal(e->seq, ++seq);
            assert_true(e->ts >= last);
            assert_true(e->ts >= c.from && e->ts < c.to);
            assert_int_equal(e->ts % TT_NS_PER_MS, 0); /* ms resolution */
            assert_int_equal(e->ts, e->ts_init);
            last = e->ts;
            int wd = weekday(e->ts);
            int hour = (int)(e->ts % TT_NS_PER_DAY / TT_NS_PER_HOUR);
            int64_t tod = e->ts % TT_NS_PER_DAY;
            if ((wd == 5 && hour >= 22) || wd == 6 || (wd == 0 && hour < 22))
                weekend++;
            per_hour[hour]++;
            tt_price sp = e->u.quote.ask - e->u.quote.bid;
            assert_true(sp >= 1 && sp < 64);
            /* rollover window 21:55 - 22:05 */
            if (tod >= 22 * TT_NS_PER_HOUR - 5 * TT_NS_PER_MIN &&
                tod < 22 * TT_NS_PER_HOUR + 5 * TT_NS_PER_MIN)
                roll_spread_hist[sp]++;
            else
                spread_hist[sp]++;
            assert_true(e->u.quote.bid_vol >= 0.25f && e->u.quote.bid_vol <= 4.0f);
            count++;
        }
    }
    tt_synth_close(s);
    printf("ticks %llu, weekend %llu\n", (unsigned long long)count, (unsigned long long)weekend);
    assert_int_equal(weekend, 0);
    /* 864,000 expected, Poisson sd 930 */
    assert_true(llabs((long long)count - 864000) < 5 * 930);
    /* Seasonality: hour 13 UTC (London-New York overlap, weight 2.2) against
     * hour 3 (Asia, weight 0.55), 5 days each plus Sunday's 22-24: ratio 4. */
    double ratio = (double)per_hour[13] / (double)per_hour[3];
    printf("hour 13 / hour 3 = %.3f\n", ratio);
    assert_true(fabs(ratio - 4.0) < 0.25);
    /* Hours 22 and 23 are open only on Sunday and Monday-Thursday: 5 days too. */
    assert_true(per_hour[22] > 0);
    /* Spread: 0.8 pip = 8 points outside the rollover, 4x = 32 inside. */
    uint64_t normal = 0, roll = 0;
    for (int i = 0; i < 64; i++) {
        normal += spread_hist[i];
        roll += roll_spread_hist[i];
    }
    assert_int_equal(spread_hist[8], normal);
    assert_true(roll > 100);
    assert_int_equal(roll_spread_hist[32], roll);
}

static void test_rounding_and_mid(void **state)
{
    (void)state;
    /* USDJPY has 1000 points per unit: 145.000 is 145000. The quote brackets
     * the latent mid: |mid - (bid + ask) / 2| <= 0.5 point + 0.5 (odd spread). */
    tt_synth_config c;
    tt_synth_config_init(&c);
    cfg_set(&c, "symbol", "USDJPY");
    cfg_set(&c, "to", "2024-01-01T06:00:00");
    cfg_set(&c, "spread", "1.5"); /* 1.5 pip = 15 points: odd */
    tt_synth *s = open_cfg(&c);
    tt_event e;
    int k = 0;
    while (tt_synth_generate(s, &e, 1) == 1) {
        double latent = tt_synth_mid(s, 0) * 1000.0;
        double mid = (double)(e.u.quote.bid + e.u.quote.ask) / 2.0;
        assert_true(fabs(latent - mid) <= 1.0);
        assert_int_equal(e.u.quote.ask - e.u.quote.bid, 15);
        if (k++ == 0)
            assert_true(llabs((long long)e.u.quote.bid - 145000) < 100);
    }
    tt_synth_close(s);
    assert_true(k > 1000);
}

static void test_spread_follows_volatility(void **state)
{
    (void)state;
    /* Regime model: regime 1 has 3x the volatility of regime 0, so with
     * spread_vol = 1 its spread is 1 + (3 - 1) = 3 times the base: 24 points. */
    tt_synth_config c;
    tt_synth_config_init(&c);
    cfg_set(&c, "model", "regime");
    cfg_set(&c, "regime_sigma", "0.05,0.15");
    cfg_set(&c, "regime_mu", "0,0");
    cfg_set(&c, "regime_rate", "200,200");
    cfg_set(&c, "rollover_minutes", "0");
    tt_synth *s = open_cfg(&c);
    tt_event e;
    uint64_t seen[2] = {0, 0};
    while (tt_synth_generate(s, &e, 1) == 1) {
        int g = tt_synth_regime(s, 0);
        seen[g]++;
        assert_int_equal(e.u.quote.ask - e.u.quote.bid, g == 0 ? 8 : 24);
    }
    tt_synth_close(s);
    assert_true(seen[0] > 1000 && seen[1] > 1000);
}

static void test_weekend_open_and_resolution(void **state)
{
    (void)state;
    tt_synth_config c;
    tt_synth_config_init(&c);
    cfg_set(&c, "weekend", "open");
    cfg_set(&c, "seasonality", "off");
    cfg_set(&c, "resolution", "s");
    cfg_set(&c, "from", "2024-01-06"); /* Saturday */
    cfg_set(&c, "to", "2024-01-07");
    cfg_set(&c, "tick_rate", "0.5");
    cfg_set(&c, "source_id", "7");
    tt_synth *s = open_cfg(&c);
    tt_event e;
    uint64_t n = 0;
    while (tt_synth_generate(s, &e, 1) == 1) {
        assert_int_equal(e.ts % TT_NS_PER_SEC, 0);
        assert_int_equal(e.source, 7);
        n++;
    }
    tt_synth_close(s);
    /* 86400 s * 0.5 = 43200, sd 208 */
    assert_true(llabs((long long)n - 43200) < 5 * 208);
}

/* Last tick before and first tick after the weekend gap in [from, to). */
static void weekend_edges(const char *from, const char *to, const char *tz, tt_ts *last_fri,
                          tt_ts *first_sun, int64_t *roll_tod)
{
    tt_synth_config c;
    tt_synth_config_init(&c);
    cfg_set(&c, "from", from);
    cfg_set(&c, "to", to);
    cfg_set(&c, "tick_rate", "5");
    cfg_set(&c, "seasonality", "off");
    cfg_set(&c, "rollover_tz", tz);
    tt_synth *s = open_cfg(&c);
    tt_event e;
    tt_ts prev = 0;
    *last_fri = *first_sun = 0;
    *roll_tod = -1;
    while (tt_synth_generate(s, &e, 1) == 1) {
        if (prev && e.ts - prev > TT_NS_PER_DAY) {
            *last_fri = prev;
            *first_sun = e.ts;
        }
        if (*roll_tod < 0 && e.u.quote.ask - e.u.quote.bid == 32)
            *roll_tod = e.ts % TT_NS_PER_DAY; /* first quote inside a rollover window */
        prev = e.ts;
    }
    tt_synth_close(s);
}

static void test_rollover_follows_new_york(void **state)
{
    (void)state;
    /* The rollover is 17:00 New York: 22:00 UTC in winter, 21:00 UTC under US
     * daylight saving time (2024: from Sunday 10 March to Sunday 3 November).
     * The weekend runs from Friday's rollover to Sunday's. */
    tt_ts fri, sun;
    int64_t roll;
    /* July: Friday 12th 21:00 -> Sunday 14th 21:00 UTC; window 20:55 - 21:05 */
    weekend_edges("2024-07-12", "2024-07-15", "newyork", &fri, &sun, &roll);
    tt_ts f21, s21, s22;
    assert_int_equal(tt_ts_parse("2024-07-12T21:00:00Z", &f21), 0);
    assert_int_equal(tt_ts_parse("2024-07-14T21:00:00Z", &s21), 0);
    assert_true(fri < f21 && fri > f21 - 10 * TT_NS_PER_SEC);
    assert_true(sun >= s21 && sun < s21 + 10 * TT_NS_PER_SEC);
    assert_true(roll >= 20 * TT_NS_PER_HOUR + 55 * TT_NS_PER_MIN && roll < 21 * TT_NS_PER_HOUR);
    /* The same week with rollover_tz=utc: 22:00 */
    weekend_edges("2024-07-12", "2024-07-15", "utc", &fri, &sun, &roll);
    assert_int_equal(tt_ts_parse("2024-07-14T22:00:00Z", &s22), 0);
    assert_true(fri >= f21 + TT_NS_PER_HOUR - 10 * TT_NS_PER_SEC && fri < f21 + TT_NS_PER_HOUR);
    assert_true(sun >= s22 && sun < s22 + 10 * TT_NS_PER_SEC);
    /* The spring switch: Friday 8 March closes at 22:00 (still EST), Sunday 10
     * March opens at 21:00 (EDT). */
    weekend_edges("2024-03-08", "2024-03-11", "newyork", &fri, &sun, &roll);
    tt_ts f22, s21b;
    assert_int_equal(tt_ts_parse("2024-03-08T22:00:00Z", &f22), 0);
    assert_int_equal(tt_ts_parse("2024-03-10T21:00:00Z", &s21b), 0);
    assert_true(fri < f22 && fri > f22 - 10 * TT_NS_PER_SEC);
    assert_true(sun >= s21b && sun < s21b + 10 * TT_NS_PER_SEC);
    /* The autumn switch: Friday 1 November closes at 21:00 (EDT), Sunday 3
     * November opens at 22:00 (EST). */
    weekend_edges("2024-11-01", "2024-11-04", "newyork", &fri, &sun, &roll);
    tt_ts f21b, s22b;
    assert_int_equal(tt_ts_parse("2024-11-01T21:00:00Z", &f21b), 0);
    assert_int_equal(tt_ts_parse("2024-11-03T22:00:00Z", &s22b), 0);
    assert_true(fri < f21b && fri > f21b - 10 * TT_NS_PER_SEC);
    assert_true(sun >= s22b && sun < s22b + 10 * TT_NS_PER_SEC);
}

static double pearson(const double *a, const double *b, int n)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        ma += a[i] / n;
        mb += b[i] / n;
    }
    for (int i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

/* Ticks per UTC hour of a synthetic EURUSD on Monday 4 and Tuesday 5
 * February 2019, summed over the two days. */
static void synth_hours(const char *seasonality, double out[24])
{
    tt_synth_config c;
    tt_synth_config_init(&c);
    cfg_set(&c, "from", "2019-02-04");
    cfg_set(&c, "to", "2019-02-06");
    cfg_set(&c, "seasonality", seasonality);
    tt_synth *s = open_cfg(&c);
    static tt_event buf[1024];
    size_t n;
    memset(out, 0, 24 * sizeof out[0]);
    while ((n = tt_synth_generate(s, buf, 1024)) > 0)
        for (size_t i = 0; i < n; i++)
            out[buf[i].ts % TT_NS_PER_DAY / TT_NS_PER_HOUR] += 1;
    tt_synth_close(s);
}

static void test_seasonality_like_dukascopy(void **state)
{
    (void)state;
    /* Oracle: real Dukascopy EURUSD ticks of the same two days (the 48 hourly
     * files in tests/data/dukascopy, 266,219 ticks; Dukascopy's month folder
     * 01 is February). The hour-by-hour tick counts of the synthetic market
     * must follow the real intraday shape: quiet Asia, London from 07:00,
     * the busy overlap with New York, thin late hours. */
    double real[24] = {0};
    tt_bi5_buf b;
    memset(&b, 0, sizeof b);
    for (int d = 4; d <= 5; d++)
        for (int h = 0; h < 24; h++) {
            char path[512];
            snprintf(path, sizeof path, "%s/dukascopy/EURUSD/2019/01/%02d/%02dh_ticks.bi5",
                     TT_TESTDATA, d, h);
            FILE *f = fopen(path, "rb");
            assert_non_null(f);
            static uint8_t data[1 << 20];
            size_t len = fread(data, 1, sizeof data, f);
            fclose(f);
            tt_err err;
            assert_int_equal(tt_bi5_decompress(data, len, &b, &err), 0);
            real[h] += (double)(b.raw_len / TT_BI5_TICK_BYTES);
        }
    tt_bi5_buf_free(&b);
    double total = 0;
    for (int h = 0; h < 24; h++)
        total += real[h];
    assert_true(total == 266219.0);

    double synth[24], flat[24];
    synth_hours("on", synth);
    synth_hours("off", flat);
    double r = pearson(real, synth, 24), r0 = pearson(real, flat, 24);
    printf("hourly tick counts vs Dukascopy: r = %.3f (seasonality off: %.3f)\n", r, r0);
    assert_true(r > 0.9);
    assert_true(fabs(r0) < 0.5);
    /* the busiest real hours (13-16 UTC) are busier than the quietest (1-5)
     * by a factor the synthetic profile shares within a third */
    double real_ratio = (real[13] + real[14] + real[15]) / (real[1] + real[2] + real[3]);
    double syn_ratio = (synth[13] + synth[14] + synth[15]) / (synth[1] + synth[2] + synth[3]);
    printf("busy/quiet: real %.2f, synthetic %.2f\n", real_ratio, syn_ratio);
    assert_true(fabs(syn_ratio / real_ratio - 1.0) < 1.0 / 3.0);
}

static void test_tape_round_trip(void **state)
{
    (void)state;
    /* What `ticktape synth --tape` does: one quote stream per symbol through
     * the tape writer; the merged reader gives back every tick bit for bit
     * (time, prices, float volumes) in the same order. */
    char dir[] = "/tmp/tt_synth_tape_XXXXXX";
    assert_non_null(mkdtemp(dir));
    tt_synth_config c;
    tt_synth_config_init(&c);
    cfg_set(&c, "symbols", "EURUSD,USDJPY");
    cfg_set(&c, "to", "2024-01-01T12:00:00");
    tt_synth *s = open_cfg(&c);
    tt_tape_writer *w[2];
    tt_err err;
    for (int i = 0; i < 2; i++) {
        tt_stream_desc d;
        memset(&d, 0, sizeof d);
        snprintf(d.symbol, sizeof d.symbol, "%s", c.symbols[i]);
        d.kind = TT_STREAM_QUOTE;
        assert_int_equal(tt_tape_writer_open(&w[i], dir, &d, NULL, &err), 0);
    }
    size_t cap = 1 << 18, n = 0, got;
    tt_event *all = malloc(cap * sizeof *all);
    assert_non_null(all);
    while ((got = tt_synth_generate(s, all + n, cap - n)) > 0) {
        for (size_t k = n; k < n + got; k++) {
            int i = all[k].symbol == tt_synth_instrument(s, 0)->id ? 0 : 1;
            assert_int_equal(tt_tape_writer_append(w[i], &all[k], &err), 0);
        }
        n += got;
        assert_true(n < cap);
    }
    tt_synth_close(s);
    for (int i = 0; i < 2; i++)
        assert_int_equal(tt_tape_writer_close(w[i], &err), 0);

    tt_tape_query q;
    memset(&q, 0, sizeof q);
    tt_tape_reader *r;
    assert_int_equal(tt_tape_reader_open(&r, dir, &q, g_ins, &err), 0);
    /* Each symbol's ticks come back in order; across symbols, ticks within one
     * millisecond are ordered by stream, which is the tape's rule (the
     * generator orders them by their exact nanosecond). */
    tt_event e;
    size_t next[2] = {0, 0}, k = 0;
    tt_ts last = TT_TS_MIN;
    uint32_t id0 = tt_instruments_find(g_ins, "EURUSD")->id;
    int rc;
    while ((rc = tt_tape_reader_next(r, &e, &err)) == 1) {
        assert_true(e.ts >= last);
        last = e.ts;
        int i = e.symbol == id0 ? 0 : 1;
        while (next[i] < n && (all[next[i]].symbol == id0 ? 0 : 1) != i)
            next[i]++;
        assert_true(next[i] < n);
        const tt_event *o = &all[next[i]++];
        assert_int_equal(e.ts, o->ts);
        assert_int_equal(e.symbol, o->symbol);
        assert_int_equal(e.u.quote.bid, o->u.quote.bid);
        assert_int_equal(e.u.quote.ask, o->u.quote.ask);
        assert_memory_equal(&e.u.quote.bid_vol, &o->u.quote.bid_vol, sizeof(float));
        assert_memory_equal(&e.u.quote.ask_vol, &o->u.quote.ask_vol, sizeof(float));
        k++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(k, n);
    tt_tape_reader_close(r);
    free(all);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void expect_error(tt_synth_config *c, const char *k, const char *v, const char *needle)
{
    tt_err err;
    tt_synth_config before = *c;
    int rc = tt_synth_config_set(c, k, v, &err);
    assert_int_equal(rc, TT_EINVAL);
    if (!strstr(err.msg, needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, needle);
        fail();
    }
    assert_memory_equal(&before, c, sizeof before); /* nothing else lost */
}

static void expect_check_error(const tt_synth_config *c, const char *needle)
{
    tt_err err;
    assert_int_equal(tt_synth_config_check(c, &err), TT_EINVAL);
    if (!strstr(err.msg, needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, needle);
        fail();
    }
    tt_synth *s;
    assert_int_equal(tt_synth_open(&s, c, g_ins, &err), TT_EINVAL);
}

/* The key table: defaults written in it are the ones init applies (and
 * leave the "was given" flags alone); enum words take their aliases and any
 * case; the key at fault is reported apart from the message; the table
 * describes itself. */
static void test_config_table(void **state)
{
    (void)state;
    tt_synth_config c;
    tt_synth_config_init(&c);
    assert_int_equal(c.model, TT_SYNTH_GBM);
    assert_int_equal(c.seed, 1);
    assert_int_equal(c.nsymbols, 1);
    assert_string_equal(c.symbols[0], "EURUSD");
    assert_int_equal(c.symbols[1][0], 0);
    assert_true(c.from == tt_ts_from_civil(2024, 1, 1, 0, 0, 0, 0));
    assert_true(c.to == c.from + 7 * TT_NS_PER_DAY);
    assert_true(c.sigma == 0.08 && c.spread_pips == 0.8 && c.kappa == 5.0 && c.rho == -0.3);
    assert_int_equal(c.kappa_set, 0);
    assert_int_equal(c.theta_set, 0);
    assert_true(c.resolution_ns == 1000000);
    assert_int_equal(c.weekend_closed, 1);
    assert_int_equal(c.seasonality, 1);
    assert_int_equal(c.rollover_utc, 0);
    assert_int_equal(c.source_id, 1);

    cfg_set(&c, "weekend", "on"); /* the old boolean spellings keep their meaning */
    assert_int_equal(c.weekend_closed, 0);
    cfg_set(&c, "weekend", "CLOSED");
    assert_int_equal(c.weekend_closed, 1);
    cfg_set(&c, "weekend", "false");
    assert_int_equal(c.weekend_closed, 1);
    cfg_set(&c, "seasonality", "0");
    assert_int_equal(c.seasonality, 0);
    cfg_set(&c, "seasonality", "True");
    assert_int_equal(c.seasonality, 1);
    cfg_set(&c, "rollover_tz", "America/New_York");
    assert_int_equal(c.rollover_utc, 0);
    cfg_set(&c, "rollover_tz", "UTC");
    assert_int_equal(c.rollover_utc, 1);
    cfg_set(&c, "model", "Heston");
    assert_int_equal(c.model, TT_SYNTH_HESTON);
    cfg_set(&c, "kappa", "2");
    assert_int_equal(c.kappa_set, 1);
    cfg_set(&c, "seed", "0x10"); /* base prefixes, as ever */
    assert_int_equal(c.seed, 16);
    cfg_set(&c, "correlation", "0.25");
    assert_true(c.has_corr && c.corr_is_scalar && c.corr_all == 0.25);

    tt_err err;
    assert_int_equal(tt_synth_config_assign(&c, "sigmaa", "1", &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "unknown key (known here: model, seed, symbols, from"));
    assert_null(strstr(err.msg, "correlation")); /* aliases are not listed */
    assert_int_equal(tt_synth_config_assign(&c, "sigma", "x", &err), TT_EINVAL);
    assert_string_equal(err.msg, "expected a number, got 'x'");
    tt_synth_config_init(&c);
    cfg_set(&c, "spread", "20000");
    const char *key = NULL;
    assert_int_equal(tt_synth_config_check_key(&c, &key, &err), TT_EINVAL);
    assert_string_equal(key, "spread");
    assert_string_equal(err.msg, "20000 is outside [0, 10000]");

    tt_keydoc d;
    size_t n = 0, found = 0;
    while (tt_synth_config_key_describe(n, &d) == TT_OK) {
        if (!strcmp(d.key, "sigma")) {
            assert_string_equal(d.type, "number in [0, 10]");
            assert_string_equal(d.def, "0.08");
            found++;
        }
        if (!strcmp(d.key, "weekend")) {
            assert_string_equal(d.type, "closed|open");
            found++;
        }
        n++;
    }
    assert_int_equal(found, 2);
    assert_true(n >= 30);
}

static void test_config_errors(void **state)
{
    (void)state;
    tt_synth_config c;
    tt_synth_config_init(&c);
    expect_error(&c, "sigmaa", "0.1", "unknown key 'sigmaa'");
    expect_error(&c, "sigma", "abc", "synthetic: sigma: expected a number, got 'abc'");
    expect_error(&c, "sigma", "0.1x", "sigma");
    expect_error(&c, "model", "garch",
                 "synthetic: model: expected one of gbm|merton|heston|regime|ou, got 'garch'");
    expect_error(&c, "seed", "-1", "seed");
    expect_error(&c, "from", "yesterday", "synthetic: from: expected a UTC time");
    expect_error(&c, "weekend", "maybe", "weekend: expected one of closed|open, got 'maybe'");
    expect_error(&c, "resolution", "ps", "resolution: expected one of ns|us|ms|s, got 'ps'");
    expect_error(&c, "rollover_tz", "Europe/London",
                 "rollover_tz: expected one of newyork|utc, got 'Europe/London'");
    expect_error(&c, "price", "1.1,x", "synthetic: price: expected a number, got 'x'");
    expect_error(&c, "source_id", "70000", "source_id: expected a whole number in [0, 65535]");
    expect_error(&c, "corr", "1,0.5;0.5", "corr: row 2 has 1 values");
    expect_error(&c, "symbols", "EURUSD,EURUSD", "listed twice");

    tt_synth_config d = c;
    cfg_set(&d, "sigma", "-0.1");
    expect_check_error(&d, "synthetic: sigma: -0.1 is outside [0, 10]");
    d = c;
    cfg_set(&d, "tick_rate", "0"); /* the lower bound is open */
    expect_check_error(&d, "synthetic: tick_rate: 0 is outside (0, 1e+07]");
    d = c;
    cfg_set(&d, "model", "merton");
    cfg_set(&d, "jump_mean", "-2"); /* each merton parameter is named on its own */
    expect_check_error(&d, "synthetic: jump_mean: -2 is outside [-1, 1]");
    d = c;
    cfg_set(&d, "to", "2023-01-01");
    expect_check_error(&d, "to: must be later than from");

    /* correlation matrices */
    d = c;
    cfg_set(&d, "symbols", "EURUSD,GBPUSD,USDJPY");
    tt_synth_config e = d;
    cfg_set(&e, "corr", "1,0.9,0.9; 0.9,1,-0.9; 0.9,-0.9,1"); /* not positive definite */
    expect_check_error(&e, "not positive definite");
    e = d;
    cfg_set(&e, "corr", "1,0.5,0; 0.4,1,0; 0,0,1");
    expect_check_error(&e, "not symmetric");
    e = d;
    cfg_set(&e, "corr", "1,0.5; 0.5,1");
    expect_check_error(&e, "2x2 but there are 3 symbols");
    e = d;
    cfg_set(&e, "corr", "0.9,0.5,0; 0.5,1,0; 0,0,1");
    expect_check_error(&e, "diagonal");
    e = d;
    cfg_set(&e, "corr", "1.5");
    expect_check_error(&e, "outside [-1, 1]");
    e = d;
    cfg_set(&e, "corr", "1");
    expect_check_error(&e, "not positive definite"); /* perfect correlation refused */
    e = d;
    cfg_set(&e, "price", "1.1,1.2");
    expect_check_error(&e, "price: 2 prices for 3 symbols");

    d = c;
    cfg_set(&d, "model", "regime");
    cfg_set(&d, "regime_sigma", "0.1,0.2,0.3");
    cfg_set(&d, "regime_rate", "1,2");
    expect_check_error(&d, "regime_rate: 2 values for 3 regimes");
    d = c;
    cfg_set(&d, "model", "regime");
    cfg_set(&d, "regime_mu", "0.1,0.2,0.3"); /* order does not matter: checked at the end */
    expect_check_error(&d, "regime_mu: 3 values for 2 regimes");
    cfg_set(&d, "regime_sigma", "0.1,0.2,0.3");
    tt_err err0;
    assert_int_equal(tt_synth_config_check(&d, &err0), 0); /* rates default for all three */

    d = c;
    cfg_set(&d, "symbol", "NOSUCH");
    tt_err err;
    tt_synth *s;
    assert_int_not_equal(tt_synth_open(&s, &d, g_ins, &err), 0);
    assert_non_null(strstr(err.msg, "NOSUCH"));
}

/* Golden values: the hash of a day of each model's default market. The same
 * numbers on every machine and compiler (the generator uses only IEEE basic
 * operations, sqrt and its own exp/log); a change here changes every
 * synthetic backtest, so it must be deliberate (update the pins and say so). */
static void test_golden(void **state)
{
    (void)state;
    static const char *const models[] = {"gbm", "merton", "heston", "regime", "ou"};
    static const uint64_t pins[] = {PIN_GBM, PIN_MERTON, PIN_HESTON, PIN_REGIME, PIN_OU};
    int bad = 0;
    for (int m = 0; m < 5; m++) {
        tt_synth_config c;
        tt_synth_config_init(&c);
        cfg_set(&c, "model", models[m]);
        cfg_set(&c, "symbols", "EURUSD,USDJPY");
        cfg_set(&c, "corr", "0.4");
        cfg_set(&c, "to", "2024-01-02");
        cfg_set(&c, "seed", "20240101");
        uint64_t n;
        uint64_t h = run_hash(&c, NULL, &n);
        printf("%s: %llu ticks, hash 0x%016llxULL\n", models[m], (unsigned long long)n,
               (unsigned long long)h);
        if (h != pins[m])
            bad++;
    }
    assert_int_equal(bad, 0);
}

/* Every key against hostile values: each call either succeeds or fails with
 * TT_EINVAL and a message naming the key, and a configuration that passes the
 * check always opens and generates (no crash, no hang, ticks in order). */
static void test_config_hostile(void **state)
{
    (void)state;
    static const char *const keys[] = {
        "model", "seed", "symbols", "from", "to", "price", "mu", "sigma", "lambda", "jump_mean",
        "jump_sigma", "kappa", "theta", "xi", "rho", "v0", "regime_mu", "regime_sigma",
        "regime_rate", "corr", "tick_rate", "seasonality", "weekend", "spread", "spread_vol",
        "rollover_spread", "rollover_minutes", "resolution", "source_id"};
    static const char *const values[] = {
        "", " ", "0", "-0", "1", "-1", "0.5", "1e308", "-1e308", "1e-320", "nan", "inf", "-inf",
        "0x10", "1,2", "1,2,3", "1;2", "1,0.5;0.5,1", "[1, 2]", ",", ";", "[]", "abc", "gbm", "ou",
        "on", "off", "open", "closed", "ms", "s", "EURUSD", "EURUSD,USDJPY", "2024-01-01",
        "2024-01-01T12:00:00Z", "99999999999999999999", "1.5", "2", "100", "1e6", "0.0001",
        "40", "-40", "99", "0.999", "-0.999", "10"};
    tt_pcg64 g = tt_rng_derive(99, "test/hostile");
    int opened = 0;
    for (int round = 0; round < 3000; round++) {
        tt_synth_config c;
        tt_synth_config_init(&c);
        cfg_set(&c, "to", "2024-01-01T06:00:00"); /* keep each generation short */
        static const char *const models[] = {"gbm", "merton", "heston", "regime", "ou"};
        cfg_set(&c, "model", models[round % 5]);
        for (int k = 0; k < 5; k++) {
            const char *key = keys[tt_pcg64_bounded(&g, sizeof keys / sizeof keys[0])];
            const char *val = values[tt_pcg64_bounded(&g, sizeof values / sizeof values[0])];
            tt_err err;
            int rc = tt_synth_config_set(&c, key, val, &err);
            if (rc) {
                assert_int_equal(rc, TT_EINVAL);
                assert_non_null(strstr(err.msg, key));
            }
        }
        tt_err err;
        if (tt_synth_config_check(&c, &err) != 0)
            continue;
        if (c.to - c.from > 2 * TT_NS_PER_DAY || c.tick_rate > 50)
            continue; /* valid but long: not what this test is about */
        tt_synth *s;
        if (tt_synth_open(&s, &c, g_ins, &err) != 0) {
            assert_non_null(strstr(err.msg, "symbols"));
            continue;
        }
        static tt_event buf[512];
        size_t n;
        tt_ts last = TT_TS_MIN;
        while ((n = tt_synth_generate(s, buf, 512)) > 0)
            for (size_t i = 0; i < n; i++) {
                assert_true(buf[i].ts >= last);
                if (!(buf[i].u.quote.bid >= 1 && buf[i].u.quote.ask >= buf[i].u.quote.bid)) {
                    fprintf(stderr, "model %d sigma %g mu %g spread %g price %g: bid %lld ask %lld\n",
                            c.model, c.sigma, c.mu, c.spread_pips, c.price[0],
                            (long long)buf[i].u.quote.bid, (long long)buf[i].u.quote.ask);
                    fail();
                }
                last = buf[i].ts;
            }
        tt_synth_close(s);
        opened++;
    }
    printf("hostile: %d configurations opened and generated\n", opened);
    assert_true(opened > 100);
}

/* ---- as an engine source ---- */

typedef struct counter {
    uint64_t n, h;
    tt_ts last;
} counter;

static void count_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e;
    counter *c = self;
    assert_true(ev->ts >= c->last);
    c->last = ev->ts;
    c->h = hash_events(ev, 1, c->h);
    c->n++;
}

static void run_engine(const tt_synth_config *cfg, counter *c)
{
    tt_engine *e = tt_engine_new(g_ins);
    assert_non_null(e);
    tt_source src;
    void *handle;
    tt_err err;
    assert_int_equal(tt_synth_source_open(cfg, g_ins, &src, &handle, &err), 0);
    tt_engine_set_source(e, src);
    memset(c, 0, sizeof *c);
    c->h = 0xcbf29ce484222325ULL;
    tt_component comp = {.self = c, .name = "counter", .on_event = count_event};
    assert_int_equal(tt_engine_add_component(e, comp), 0);
    if (tt_engine_run(e, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    tt_engine_free(e);
    tt_synth_source_close(handle);
}

static void test_engine_source(void **state)
{
    (void)state;
    tt_synth_config c;
    tt_synth_config_init(&c);
    cfg_set(&c, "symbols", "EURUSD,GBPUSD");
    cfg_set(&c, "corr", "0.6");
    cfg_set(&c, "to", "2024-01-02");
    counter a, b;
    run_engine(&c, &a);
    run_engine(&c, &b);
    uint64_t n;
    uint64_t h = run_hash(&c, NULL, &n);
    assert_int_equal(a.n, n); /* every generated event reached the engine */
    assert_true(a.h == h);    /* unchanged, in order */
    assert_int_equal(a.n, b.n);
    assert_true(a.h == b.h);

    /* The port's two paths agree: 300 events by next() (more than its internal
     * batch of 256), then the rest by next_batch, equal the generator's own. */
    tt_source src;
    void *handle;
    tt_err err;
    assert_int_equal(tt_synth_source_open(&c, g_ins, &src, &handle, &err), 0);
    assert_non_null(src.next_batch);
    uint64_t hs = 0xcbf29ce484222325ULL, ns = 0;
    tt_event ev;
    for (int i = 0; i < 300; i++) {
        assert_int_equal(src.next(src.self, &ev, &err), TT_SRC_EVENT);
        hs = hash_events(&ev, 1, hs);
        ns++;
    }
    static tt_event batch[1000];
    int cnt, rc;
    while ((rc = src.next_batch(src.self, batch, 1000, &cnt, &err)) == TT_SRC_EVENT) {
        hs = hash_events(batch, (size_t)cnt, hs);
        ns += (uint64_t)cnt;
    }
    assert_int_equal(rc, TT_SRC_END);
    assert_int_equal(src.next(src.self, &ev, &err), TT_SRC_END);
    src.close(src.self); /* the port's close releases the generator */
    assert_int_equal(ns, n);
    assert_true(hs == h);
}

int main(void)
{
    g_ins = tt_instruments_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_symbols_independent),
        cmocka_unit_test(test_microstructure),
        cmocka_unit_test(test_rounding_and_mid),
        cmocka_unit_test(test_spread_follows_volatility),
        cmocka_unit_test(test_weekend_open_and_resolution),
        cmocka_unit_test(test_rollover_follows_new_york),
        cmocka_unit_test(test_seasonality_like_dukascopy),
        cmocka_unit_test(test_tape_round_trip),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_table),
        cmocka_unit_test(test_engine_source),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_config_hostile),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tt_instruments_free(g_ins);
    return rc;
}
