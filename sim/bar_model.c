/*
 * Bar models (see bar_model.h for the rules: the path, the times, every_tick's
 * ticks and their seeds, the spreads, the carriers).
 *
 * How this works: tt_bar_model_points is a pure function of a bar (and, for
 * every_tick, a per-bar PCG32 stream), so the points of a bar never depend on
 * what came before it. The source pulls its input in batches (bars, or
 * quotes it builds bars from), turns one bar at a time into events in a small
 * buffer (the open point, the carriers, the other points) and hands them out
 * in batches: the engine's replay fast path (next_batch) stays a fast path.
 *
 * Invariants: the events of one source are in time order (bars at least a
 * minute apart, points inside their minute) with seq 1, 2, ...; a bar
 * rebuilt from its points is the bar (every point lies in [low, high] and
 * the path visits open, high, low and close), and the bar component is fed
 * the input bar itself through the carriers.
 */
#include "bar_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/bars.h"
#include "../core/rng.h"

#define IN_BATCH 64
#define OUT_CAP (TT_BAR_MODEL_MAX_POINTS + 2) /* the points and two carriers */

const tt_enum_value tt_bar_models[] = {{"real_ticks", TT_MODEL_REAL_TICKS, 0},
                                       {"every_tick", TT_MODEL_EVERY_TICK, 0},
                                       {"ohlc_m1", TT_MODEL_OHLC_M1, 0},
                                       {"open_prices", TT_MODEL_OPEN_PRICES, 0},
                                       {NULL, 0, 0}};
const tt_enum_value tt_spread_sources[] = {
    {"fixed", TT_SPREAD_FIXED, 0}, {"from_bars", TT_SPREAD_FROM_BARS, 0}, {NULL, 0, 0}};

const char *tt_bar_model_name(int model)
{
    const char *n = tt_enum_name(tt_bar_models, model);
    return n ? n : "?";
}

/* SplitMix64: the golden-ratio increment, then its finaliser. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t tt_bar_model_seed(uint64_t scenario_seed, const char *symbol)
{
    char name[80];
    snprintf(name, sizeof name, "data/every_tick/%s", symbol ? symbol : "");
    return tt_rng_name_hash(name) ^ mix64(scenario_seed);
}

static tt_price dist(tt_price a, tt_price b) { return a > b ? a - b : b - a; }

/* The four anchors of a bar's path and their spreads. */
static void bar_path(const tt_bar *b, const tt_bar_spreads *sp, tt_price a[4], tt_price s[4])
{
    tt_price up = b->high - b->open, down = b->open - b->low;
    int high_first = up != down ? up < down : b->high - b->close >= b->close - b->low;
    a[0] = b->open;
    s[0] = sp->open;
    a[1] = high_first ? b->high : b->low;
    s[1] = high_first ? sp->high : sp->low;
    a[2] = high_first ? b->low : b->high;
    s[2] = high_first ? sp->low : sp->high;
    a[3] = b->close;
    s[3] = sp->close;
}

/* every_tick: the ticks between the anchors, shared among the legs in
 * proportion to their lengths (largest remainder, ties to the earlier leg). */
static void share_ticks(int m, const int64_t d[3], int k[3])
{
    int64_t len = d[0] + d[1] + d[2];
    if (len == 0) {
        k[0] = m;
        k[1] = k[2] = 0;
        return;
    }
    int64_t rem[3];
    int given = 0;
    for (int j = 0; j < 3; j++) {
        k[j] = (int)((int64_t)m * d[j] / len);
        rem[j] = (int64_t)m * d[j] % len;
        given += k[j];
    }
    for (; given < m; given++) {
        int best = 0;
        for (int j = 1; j < 3; j++)
            if (rem[j] > rem[best])
                best = j;
        k[best]++;
        rem[best] = -1;
    }
}

/* every_tick's points: the anchors with the legs filled (prices only). */
static int every_tick(const tt_bar *b, tt_ts open, const tt_price a[4], const tt_price s[4],
                      uint64_t sym_seed, tt_bar_point *out)
{
    int64_t d[3] = {dist(a[1], a[0]), dist(a[2], a[1]), dist(a[3], a[2])};
    int64_t len = d[0] + d[1] + d[2];
    int64_t n = b->ticks ? (int64_t)b->ticks : len + 1;
    if (n < 4)
        n = 4;
    if (n > TT_BAR_MODEL_MAX_POINTS)
        n = TT_BAR_MODEL_MAX_POINTS;
    int k[3];
    share_ticks((int)n - 4, d, k);
    tt_rng r;
    tt_rng_seed(&r, sym_seed ^ mix64((uint64_t)open), sym_seed);
    uint32_t w[TT_BAR_MODEL_MAX_POINTS];
    int idx = 0;
    out[idx].bid = a[0];
    out[idx++].spread = s[0];
    for (int j = 0; j < 3; j++) {
        if (k[j]) {
            int64_t total = 0;
            for (int i = 0; i <= k[j]; i++) {
                w[i] = 1 + tt_rng_bounded(&r, 4);
                total += w[i];
            }
            int64_t run = 0;
            for (int i = 0; i < k[j]; i++) {
                run += w[i];
                /* C division truncates toward zero: rounded toward a[j] */
                out[idx].bid = a[j] + (a[j + 1] - a[j]) * run / total;
                out[idx++].spread = s[j];
            }
        }
        out[idx].bid = a[j + 1];
        out[idx++].spread = s[j + 1];
    }
    return idx;
}

int tt_bar_model_points(int model, const tt_bar *b, tt_ts open, const tt_bar_spreads *sp,
                        uint64_t sym_seed, tt_bar_point *out)
{
    tt_price a[4], s[4];
    int n;
    switch (model) {
    case TT_MODEL_OPEN_PRICES:
        out[0].ts = open;
        out[0].bid = b->open;
        out[0].spread = sp->open;
        return 1;
    case TT_MODEL_OHLC_M1:
        bar_path(b, sp, a, s);
        for (int i = 0; i < 4; i++) {
            out[i].bid = a[i];
            out[i].spread = s[i];
        }
        n = 4;
        break;
    case TT_MODEL_EVERY_TICK:
        bar_path(b, sp, a, s);
        n = every_tick(b, open, a, s, sym_seed, out);
        break;
    default:
        return TT_EINVAL;
    }
    if (n == 4) { /* ohlc_m1 (and a short every_tick bar): no division per point */
        for (int i = 0; i < 4; i++)
            out[i].ts = open + (tt_ts)i * (TT_NS_PER_MIN / 4);
        return n;
    }
    for (int i = 0; i < n; i++)
        out[i].ts = open + (tt_ts)i * TT_NS_PER_MIN / n;
    return n;
}

/* ---- the source ---- */

/* One input: a source read in batches. */
typedef struct input {
    tt_source src;
    tt_event buf[IN_BATCH];
    int n, pos, done;
} input;

struct tt_bar_model_src {
    tt_bar_model_opts o;
    char name[TT_SYMBOL_MAX];
    uint64_t sym_seed;
    int from_quotes, ask_carriers;
    input bid, ask;                /* bars (bid, ask), or the quotes in bid */
    tt_bar_builder bb, ab;         /* from quotes: the bid and ask bars */
    tt_event qbid, qask;           /* from quotes: the bars just closed */
    tt_ts last_open;
    int have_last;
    uint64_t seq, bars;
    /* the current bar: its time, bid and ask bars, points */
    tt_ts cur_ts;
    tt_bar cur_bid, cur_ask;
    tt_bar_point pts[TT_BAR_MODEL_MAX_POINTS];
    int npts;
    tt_event out[OUT_CAP];         /* events of a bar that did not fit a batch */
    int nout, pos;
};

/* The input's next event in hand: 1, 0 at its end, or an error. */
static int in_peek(input *in, tt_err *err)
{
    if (in->pos < in->n)
        return 1;
    if (in->done)
        return 0;
    int s, got = 1;
    if (in->src.next_batch)
        s = in->src.next_batch(in->src.self, in->buf, IN_BATCH, &got, err);
    else
        s = in->src.next(in->src.self, in->buf, err);
    if (s < 0)
        return s;
    if (s == TT_SRC_END) {
        in->done = 1;
        return 0;
    }
    if (s != TT_SRC_EVENT || got < 1 || got > IN_BATCH)
        return tt_err_set(err, TT_ESTATE, "bar model: the input source returned status %d "
                          "(count %d): a replay source was expected", s, got);
    in->n = got;
    in->pos = 0;
    return 1;
}

static int bar_error(const tt_bar_model_src *m, tt_ts ts, const char *what, tt_err *err)
{
    char t[48];
    tt_ts_format(ts, t, sizeof t, 0);
    return tt_err_set(err, TT_EFORMAT, "data.model %s: %s bar at %s: %s",
                      tt_bar_model_name(m->o.model), m->name, t, what);
}

static int check_bar(const tt_bar_model_src *m, const tt_event *ev, tt_err *err)
{
    const tt_bar *b = &ev->u.bar;
    if (ev->kind != TT_EV_BAR)
        return bar_error(m, ev->ts, "not a bar event", err);
    if (b->low <= 0 || b->low > b->high || b->open < b->low || b->open > b->high ||
        b->close < b->low || b->close > b->high)
        return bar_error(m, ev->ts, "inconsistent prices (low > high, open or close outside "
                         "them, or a price <= 0)", err);
    return TT_OK;
}

/* The next bid bar (and its ask bar) from bar inputs: 1, 0 at the end, or an
 * error. The pointers are into the inputs' buffers, valid until the next call. */
static int next_from_bars(tt_bar_model_src *m, const tt_event **bid, const tt_event **ask,
                          tt_err *err)
{
    int rc = in_peek(&m->bid, err);
    if (rc <= 0)
        return rc;
    *bid = &m->bid.buf[m->bid.pos++];
    if (!m->o.spread_from_bars)
        return 1;
    for (;;) {
        if ((rc = in_peek(&m->ask, err)) < 0)
            return rc;
        const tt_event *a = rc ? &m->ask.buf[m->ask.pos] : NULL;
        if (a && a->ts < (*bid)->ts) { /* an ask bar without a bid bar */
            m->ask.pos++;
            continue;
        }
        if (!a || a->ts > (*bid)->ts)
            return bar_error(m, (*bid)->ts, "data.spread from_bars: no ask bar of that minute",
                             err);
        *ask = a;
        m->ask.pos++;
        return 1;
    }
}

/* The next bar built from quotes (into m->qbid, m->qask): 1, 0 at the end, or
 * an error. */
static int next_from_quotes(tt_bar_model_src *m, const tt_event **bid, const tt_event **ask,
                            tt_err *err)
{
    *bid = &m->qbid;
    *ask = &m->qask;
    for (;;) {
        int rc = in_peek(&m->bid, err);
        if (rc < 0)
            return rc;
        if (rc == 0) { /* the last bar, partial */
            if (!tt_bar_builder_flush(&m->bb, &m->qbid))
                return 0;
            if (m->o.spread_from_bars)
                tt_bar_builder_flush(&m->ab, &m->qask);
            return 1;
        }
        const tt_event *q = &m->bid.buf[m->bid.pos++];
        if (q->kind != TT_EV_QUOTE || q->u.quote.bid <= 0 || q->u.quote.ask <= 0)
            continue;
        rc = tt_bar_builder_update(&m->bb, q, &m->qbid, err);
        if (rc >= 0 && m->o.spread_from_bars) {
            int rc2 = tt_bar_builder_update(&m->ab, q, &m->qask, err);
            rc = rc2 < 0 ? rc2 : rc;
        }
        if (rc)
            return rc;
    }
}

static tt_price clamp0(tt_price p) { return p > 0 ? p : 0; }

/* The header of an event of this source: only the fields events use are
 * written (as the tape reader's batch path does). */
static inline void stamp(tt_bar_model_src *m, tt_event *ev, tt_ts ts, uint8_t kind)
{
    ev->ts = ev->ts_init = ts;
    ev->seq = ++m->seq;
    ev->symbol = m->o.symbol;
    ev->source = m->o.source;
    ev->kind = kind;
    ev->cls = TT_CLS_MARKET;
}

static inline void put_point(tt_bar_model_src *m, tt_event *ev, const tt_bar_point *p)
{
    stamp(m, ev, p->ts, TT_EV_QUOTE);
    ev->u.quote.bid = p->bid;
    ev->u.quote.ask = p->bid + p->spread;
    ev->u.quote.bid_vol = ev->u.quote.ask_vol = 0;
}

static inline void put_carrier(tt_bar_model_src *m, tt_event *ev, tt_ts ts, const tt_bar *bar,
                               int side)
{
    stamp(m, ev, ts, TT_EV_BAR);
    ev->u.bar = *bar;
    ev->u.bar.tf = TT_TF_M1;
    ev->u.bar.side = (uint8_t)side;
}

/* The next input bar as points in m->pts and the carriers' bars: the count
 * of events it makes, 0 at the end, or an error. */
static int next_bar(tt_bar_model_src *m, tt_err *err)
{
    const tt_event *bid, *ask = NULL;
    int rc = m->from_quotes ? next_from_quotes(m, &bid, &ask, err)
                            : next_from_bars(m, &bid, &ask, err);
    if (rc <= 0)
        return rc;
    if ((rc = check_bar(m, bid, err)) || (m->o.spread_from_bars && (rc = check_bar(m, ask, err))))
        return rc;
    if (m->have_last && bid->ts < m->last_open + TT_NS_PER_MIN)
        return bar_error(m, bid->ts, "less than a minute after the bar before (an M1 stream in "
                         "time order is needed)", err);
    m->last_open = bid->ts;
    m->have_last = 1;
    tt_bar_spreads sp;
    const tt_bar *b = &bid->u.bar;
    m->cur_bid = *b;
    if (m->o.spread_from_bars) {
        const tt_bar *a = &ask->u.bar;
        sp.open = clamp0(a->open - b->open);
        sp.high = clamp0(a->high - b->high);
        sp.low = clamp0(a->low - b->low);
        sp.close = clamp0(a->close - b->close);
        m->cur_ask = *a;
    } else {
        sp.open = sp.high = sp.low = sp.close = m->o.spread_points;
        m->cur_ask = *b;
        m->cur_ask.open += sp.open;
        m->cur_ask.high += sp.high;
        m->cur_ask.low += sp.low;
        m->cur_ask.close += sp.close;
    }
    m->cur_ts = bid->ts;
    int n = tt_bar_model_points(m->o.model, b, bid->ts, &sp, m->sym_seed, m->pts);
    if (n < 0)
        return tt_err_set(err, TT_EINVAL, "bar model: unknown model %d", m->o.model);
    m->npts = n;
    m->bars++;
    return n + 1 + m->ask_carriers;
}

/* The current bar's events into out: the open point, the carriers, the
 * other points. */
static void put_bar(tt_bar_model_src *m, tt_event *out)
{
    int k = 0;
    put_point(m, &out[k++], &m->pts[0]);
    put_carrier(m, &out[k++], m->cur_ts, &m->cur_bid, TT_SIDE_BID);
    if (m->ask_carriers)
        put_carrier(m, &out[k++], m->cur_ts, &m->cur_ask, TT_SIDE_ASK);
    for (int i = 1; i < m->npts; i++)
        put_point(m, &out[k++], &m->pts[i]);
}

/* Batches: a bar whose events fit is written straight into buf; one that
 * does not (the end of the batch, every_tick's long bars) goes through
 * m->out. */
static int model_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    tt_bar_model_src *m = self;
    int n = 0;
    while (n < cap) {
        if (m->pos < m->nout) {
            int k = m->nout - m->pos;
            if (k > cap - n)
                k = cap - n;
            memcpy(buf + n, m->out + m->pos, (size_t)k * sizeof *buf);
            m->pos += k;
            n += k;
            continue;
        }
        int k = next_bar(m, err);
        if (k < 0)
            return k;
        if (k == 0)
            break;
        if (k <= cap - n) {
            put_bar(m, buf + n);
            n += k;
        } else {
            put_bar(m, m->out);
            m->nout = k;
            m->pos = 0;
        }
    }
    *count = n;
    return n ? TT_SRC_EVENT : TT_SRC_END;
}

static int model_next(void *self, tt_event *ev, tt_err *err)
{
    int count = 0;
    return model_batch(self, ev, 1, &count, err);
}

static int model_new(tt_bar_model_src **out, const tt_bar_model_opts *o, int no_ask,
                     tt_err *err)
{
    *out = NULL;
    if (o->model != TT_MODEL_EVERY_TICK && o->model != TT_MODEL_OHLC_M1 &&
        o->model != TT_MODEL_OPEN_PRICES)
        return tt_err_set(err, TT_EINVAL, "bar model: %s is not a bar model",
                          tt_bar_model_name(o->model));
    if (o->spread_points < 0)
        return tt_err_set(err, TT_EINVAL, "bar model: spread of %lld points is negative",
                          (long long)o->spread_points);
    if (no_ask && o->spread_from_bars)
        return tt_err_set(err, TT_EINVAL, "bar model: spread from_bars needs the ask bars");
    tt_bar_model_src *m = calloc(1, sizeof *m);
    if (!m)
        return tt_err_set(err, TT_ENOMEM, "out of memory (bar model)");
    m->o = *o;
    snprintf(m->name, sizeof m->name, "%s", o->symbol_name ? o->symbol_name : "");
    m->o.symbol_name = m->name;
    m->sym_seed = tt_bar_model_seed(o->seed, m->name);
    *out = m;
    return TT_OK;
}

int tt_bar_model_src_new_bars(tt_bar_model_src **out, tt_source bid, tt_source ask,
                              const tt_bar_model_opts *o, tt_err *err)
{
    int rc = model_new(out, o, !ask.next && !ask.next_batch, err);
    if (rc)
        return rc;
    (*out)->bid.src = bid;
    (*out)->ask.src = ask;
    return TT_OK;
}

int tt_bar_model_src_new_quotes(tt_bar_model_src **out, tt_source quotes,
                                const tt_bar_model_opts *o, tt_err *err)
{
    int rc = model_new(out, o, 0, err);
    if (rc)
        return rc;
    tt_bar_model_src *m = *out;
    m->from_quotes = 1;
    m->bid.src = quotes;
    tt_bar_builder_init(&m->bb, 0, TT_TF_M1, TT_SIDE_BID, NULL);
    tt_bar_builder_init(&m->ab, 0, TT_TF_M1, TT_SIDE_ASK, NULL);
    return TT_OK;
}

void tt_bar_model_src_set_ask_carriers(tt_bar_model_src *m, int on) { m->ask_carriers = !!on; }

tt_source tt_bar_model_src_source(tt_bar_model_src *m)
{
    tt_source s = {m, model_next, NULL, model_batch};
    return s;
}

uint64_t tt_bar_model_src_bars(const tt_bar_model_src *m) { return m->bars; }

void tt_bar_model_src_free(tt_bar_model_src *m) { free(m); }
