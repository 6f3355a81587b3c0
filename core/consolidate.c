/*
 * The consolidator (consolidate.h): health per source and symbol, and the
 * merged quote by policy.
 *
 * How this works. Each push is one quote of one source. In order:
 *   1. the other sources of the symbol that have been silent for `stale`
 *      while this one ticks go DOWN (stale); time is the inputs' own, so a
 *      source is judged stale exactly at the first quote of another source
 *      past its timeout, on history and in a replay alike;
 *   2. the quote is judged against the other live sources' latest quotes:
 *      its own sanity, its distance from their median mid in units of their
 *      median spread (quarantine), its spread against theirs, its rate;
 *   3. the source's state moves: worse at once, better only after the
 *      hysteresis (good quotes for `recover` and `recover_ticks` in a row);
 *   4. the policy builds the merged quote from the eligible sources; it goes
 *      out only when its bid or ask changed.
 * Medians are over at most 16 values: insertion sorts on the stack. Symbols
 * are found by id in a table grown on demand (ids are small and dense).
 *
 * Mids are kept doubled (bid + ask) so that everything stays in integer
 * points until the one division of a distance by a spread.
 */
#include "consolidate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct feed {
    int state, reason;
    int prev_state;    /* the state before the last change */
    tt_ts since;
    tt_ts last;        /* last quote, usable or not */
    tt_ts q_ts;        /* time of the usable quote q */
    int have_q;
    tt_quote q;
    tt_ts good_since;  /* recovery: first good quote of the current run */
    uint32_t good_ticks;
    uint64_t ticks, rejected, bad, duplicates, used;
    double rate;       /* quotes per second */
    int64_t bucket;    /* the second being counted */
    uint32_t bucket_n;
    int rate_valid, bucket_set;
    double spread, latency;
    int have_spread, have_latency;
    int has_pend;      /* inside a push: this input's quote, before it is judged */
    tt_quote pend;
} feed;

typedef struct sym {
    uint32_t id;
    feed f[TT_CONSOL_MAX_SOURCES];
    int have_out;
    tt_price out_bid, out_ask;
    int chosen;  /* priority: the last source chosen (-1: none yet) */
    int crossed; /* best: inside a cross episode */
} sym;

struct tt_consolidator {
    tt_consol_config cfg;
    sym **by_id;
    uint32_t cap_id;
    uint32_t *order;
    uint32_t nsym, cap_order;
    tt_ts now;
    int started;
    tt_consol_quote_fn on_quote;
    tt_consol_event_fn on_event;
    void *ctx;
};

static const char *const POLICIES[] = {"?", "best", "priority", "median"};
static const char *const STATES[] = {"unseen", "up", "degraded", "down"};
static const char *const REASONS[] = {"ok", "stale", "deviation", "spread", "slow", "crossed"};

const char *tt_consol_policy_name(int p) { return p >= 1 && p <= 3 ? POLICIES[p] : "?"; }

int tt_consol_policy_parse(const char *s)
{
    for (int p = 1; p <= 3; p++)
        if (s && !strcasecmp(s, POLICIES[p]))
            return p;
    return 0;
}

const char *tt_feed_state_name(int s) { return s >= 0 && s <= 3 ? STATES[s] : "?"; }
const char *tt_feed_reason_name(int r) { return r >= 0 && r <= 5 ? REASONS[r] : "?"; }

int tt_consolidator_new(tt_consolidator **out, const tt_consol_config *cfg, tt_err *err)
{
    *out = NULL;
    if (cfg->policy < TT_POLICY_BEST || cfg->policy > TT_POLICY_MEDIAN)
        return tt_err_set(err, TT_EINVAL, "policy: %d is not best, priority or median",
                          cfg->policy);
    if (cfg->nsources < 1 || cfg->nsources > TT_CONSOL_MAX_SOURCES)
        return tt_err_set(err, TT_EINVAL, "sources: %d (1..%d)", cfg->nsources,
                          TT_CONSOL_MAX_SOURCES);
    if (cfg->stale < 0 || cfg->recover < 0)
        return tt_err_set(err, TT_EINVAL, "%s: negative", cfg->stale < 0 ? "stale" : "recover");
    if (!(cfg->rate_ratio >= 0 && cfg->rate_ratio < 1))
        return tt_err_set(err, TT_EINVAL, "rate_ratio: %g is outside [0, 1)", cfg->rate_ratio);
    tt_consolidator *c = calloc(1, sizeof *c);
    if (!c)
        return tt_err_set(err, TT_ENOMEM, "out of memory (consolidator)");
    c->cfg = *cfg;
    if (!c->cfg.stale)
        c->cfg.stale = 5 * TT_NS_PER_SEC;
    if (!c->cfg.recover)
        c->cfg.recover = 5 * TT_NS_PER_SEC;
    if (!c->cfg.recover_ticks)
        c->cfg.recover_ticks = 3;
    if (c->cfg.deviation_k == 0)
        c->cfg.deviation_k = 10;
    if (c->cfg.spread_k == 0)
        c->cfg.spread_k = 5;
    *out = c;
    return TT_OK;
}

void tt_consolidator_free(tt_consolidator *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->nsym; i++)
        free(c->by_id[c->order[i]]);
    free(c->by_id);
    free(c->order);
    free(c);
}

const tt_consol_config *tt_consolidator_config(const tt_consolidator *c) { return &c->cfg; }

void tt_consolidator_listen(tt_consolidator *c, tt_consol_quote_fn on_quote,
                            tt_consol_event_fn on_event, void *ctx)
{
    c->on_quote = on_quote;
    c->on_event = on_event;
    c->ctx = ctx;
}

static sym *sym_find(const tt_consolidator *c, uint32_t id)
{
    return id < c->cap_id ? c->by_id[id] : NULL;
}

static sym *sym_get(tt_consolidator *c, uint32_t id)
{
    sym *y = sym_find(c, id);
    if (y)
        return y;
    if (id >= c->cap_id) {
        uint32_t cap = c->cap_id ? c->cap_id : 16;
        while (cap <= id)
            cap *= 2;
        sym **v = realloc(c->by_id, cap * sizeof *v);
        if (!v)
            return NULL;
        memset(v + c->cap_id, 0, (cap - c->cap_id) * sizeof *v);
        c->by_id = v;
        c->cap_id = cap;
    }
    if (c->nsym == c->cap_order) {
        uint32_t cap = c->cap_order ? c->cap_order * 2 : 16;
        uint32_t *v = realloc(c->order, cap * sizeof *v);
        if (!v)
            return NULL;
        c->order = v;
        c->cap_order = cap;
    }
    if (!(y = calloc(1, sizeof *y)))
        return NULL;
    y->id = id;
    y->chosen = -1;
    c->by_id[id] = y;
    c->order[c->nsym++] = id;
    return y;
}

static void emit(tt_consolidator *c, const tt_consol_event *e)
{
    if (c->on_event)
        c->on_event(c->ctx, e);
}

static void set_state(tt_consolidator *c, sym *y, int s, int state, int reason, double value)
{
    feed *f = &y->f[s];
    if (f->state == state)
        return;
    tt_consol_event e;
    memset(&e, 0, sizeof e);
    e.ts = c->now;
    e.symbol = y->id;
    e.kind = TT_CONSOL_STATE;
    e.source = (uint8_t)s;
    e.from_state = (uint8_t)f->state;
    e.to_state = (uint8_t)state;
    e.reason = (uint8_t)reason;
    e.value = value;
    e.previous = -1;
    f->prev_state = f->state;
    f->state = state;
    f->reason = reason;
    f->since = c->now;
    f->good_since = 0;
    f->good_ticks = 0;
    emit(c, &e);
}

/* ---- medians over a few values ---- */

static void sort_i64(int64_t *v, int n)
{
    for (int i = 1; i < n; i++) {
        int64_t x = v[i];
        int j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* The median of n > 0 values (sorted in place); an even count gives the
 * lower (up = 0) or upper (up = 1) rounding of the middle two's mean. */
static int64_t median_i64(int64_t *v, int n, int up)
{
    sort_i64(v, n);
    if (n & 1)
        return v[n / 2];
    int64_t a = v[n / 2 - 1], b = v[n / 2], s = a + b;
    return up ? (s >= 0 ? (s + 1) / 2 : s / 2) : (s >= 0 ? s / 2 : (s - 1) / 2);
}

static double median_d(double *v, int n)
{
    for (int i = 1; i < n; i++) {
        double x = v[i];
        int j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- one quote ---- */

static int fresh(const tt_consolidator *c, const feed *f)
{
    return f->have_q && c->now - f->q_ts <= c->cfg.stale;
}

static int live(const tt_consolidator *c, const feed *f)
{
    return (f->state == TT_FEED_UP || f->state == TT_FEED_DEGRADED) && fresh(c, f);
}

/* Sources silent for `stale` while others tick now go down. */
static void mark_stale(tt_consolidator *c, sym *y)
{
    for (int g = 0; g < c->cfg.nsources; g++) {
        feed *f = &y->f[g];
        if (f->last == c->now || !(f->state == TT_FEED_UP || f->state == TT_FEED_DEGRADED))
            continue;
        if (f->last && c->now - f->last > c->cfg.stale)
            set_state(c, y, g, TT_FEED_DOWN, TT_FEED_STALE,
                      (double)(c->now - f->last) / (double)TT_NS_PER_SEC);
    }
}

static void count_rate(feed *f, tt_ts now)
{
    int64_t b = now / TT_NS_PER_SEC;
    if (f->bucket_set && b != f->bucket) {
        f->rate = 0.5 * f->rate + 0.5 * f->bucket_n;
        for (int64_t k = f->bucket + 1; k < b && k < f->bucket + 64; k++)
            f->rate *= 0.5;
        f->rate_valid = 1;
        f->bucket_n = 0;
    }
    f->bucket = b;
    f->bucket_set = 1;
    f->bucket_n++;
}

/* Judge a quote of source s against the other live sources: a reason
 * (TT_FEED_OK when good) and its number. */
static int judge(const tt_consolidator *c, const sym *y, int s, const tt_quote *q, double *value)
{
    *value = 0;
    if (q->bid <= 0 || q->ask <= 0 || q->bid >= q->ask)
        return TT_FEED_CROSSED;
    int64_t mids[TT_CONSOL_MAX_SOURCES], spreads[TT_CONSOL_MAX_SOURCES];
    double rates[TT_CONSOL_MAX_SOURCES];
    int n = 0, nr = 0;
    for (int g = 0; g < c->cfg.nsources; g++) {
        const feed *f = &y->f[g];
        if (g == s || !live(c, f))
            continue;
        const tt_quote *o = f->has_pend ? &f->pend : &f->q; /* a quote of this same time */
        mids[n] = o->bid + o->ask;
        spreads[n] = o->ask - o->bid;
        n++;
        if (f->rate_valid)
            rates[nr++] = f->rate;
    }
    if (!n)
        return TT_FEED_OK;
    int64_t ms = median_i64(spreads, n, 0);
    double med_spread = (double)(ms > 0 ? ms : 1);
    if (c->cfg.deviation_k > 0 && n >= 2) {
        int64_t mm = median_i64(mids, n, 0);
        double dev = fabs((double)(q->bid + q->ask - mm)) / 2.0 / med_spread;
        if (dev > c->cfg.deviation_k) {
            *value = dev;
            return TT_FEED_DEVIATION;
        }
    }
    double ratio = (double)(q->ask - q->bid) / med_spread;
    if (c->cfg.spread_k > 0 && ratio > c->cfg.spread_k) {
        *value = ratio;
        return TT_FEED_SPREAD;
    }
    const feed *me = &y->f[s];
    if (c->cfg.rate_ratio > 0 && me->rate_valid && nr) {
        double mr = median_d(rates, nr);
        if (mr > 0 && me->rate < c->cfg.rate_ratio * mr) {
            *value = me->rate / mr;
            return TT_FEED_SLOW;
        }
    }
    return TT_FEED_OK;
}

/* Move source s by the verdict on its quote. */
static void step_state(tt_consolidator *c, sym *y, int s, int reason, double value)
{
    feed *f = &y->f[s];
    int target = reason == TT_FEED_OK          ? TT_FEED_UP
                 : reason == TT_FEED_DEVIATION ? TT_FEED_DOWN
                                               : TT_FEED_DEGRADED;
    if (f->state == TT_FEED_UNSEEN) {
        set_state(c, y, s, target, reason, value);
        return;
    }
    if (reason != TT_FEED_OK) {
        f->good_since = 0;
        f->good_ticks = 0;
        if (f->state == TT_FEED_UP || target > f->state)
            set_state(c, y, s, target, reason, value);
        return;
    }
    if (f->state == TT_FEED_UP)
        return;
    if (!f->good_ticks)
        f->good_since = c->now;
    f->good_ticks++;
    if (f->good_ticks >= c->cfg.recover_ticks && c->now - f->good_since >= c->cfg.recover)
        set_state(c, y, s, TT_FEED_UP, TT_FEED_OK, 0);
}

/* The eligible sources: UP and fresh, else DEGRADED and fresh. */
static uint32_t eligible(const tt_consolidator *c, const sym *y)
{
    uint32_t up = 0, deg = 0;
    for (int g = 0; g < c->cfg.nsources; g++) {
        const feed *f = &y->f[g];
        if (!fresh(c, f))
            continue;
        if (f->state == TT_FEED_UP)
            up |= 1u << g;
        else if (f->state == TT_FEED_DEGRADED)
            deg |= 1u << g;
    }
    return up ? up : deg;
}

static int first_of(uint32_t mask) { return mask ? __builtin_ctz(mask) : -1; }

static void policy_priority(tt_consolidator *c, sym *y, uint32_t e, tt_consol_quote *m)
{
    int p = first_of(e);
    /* a higher-priority source that just showed up for the first time takes
     * over without a fail-back: it never failed */
    int arrival = p < y->chosen && y->f[p].prev_state == TT_FEED_UNSEEN;
    if (p != y->chosen && y->chosen >= 0 && !arrival) {
        tt_consol_event ev;
        memset(&ev, 0, sizeof ev);
        ev.ts = c->now;
        ev.symbol = y->id;
        ev.kind = p > y->chosen ? TT_CONSOL_FAILOVER : TT_CONSOL_FAILBACK;
        ev.source = (uint8_t)p;
        ev.previous = (int8_t)y->chosen;
        const feed *old = &y->f[y->chosen];
        ev.reason = (uint8_t)(ev.kind == TT_CONSOL_FAILOVER ? old->reason : TT_FEED_OK);
        ev.from_state = (uint8_t)old->state;
        ev.to_state = (uint8_t)y->f[p].state;
        emit(c, &ev);
    }
    y->chosen = p;
    m->q = y->f[p].q;
    m->bid_from = m->ask_from = 1u << p;
}

static void policy_best(tt_consolidator *c, sym *y, uint32_t e, tt_consol_quote *m)
{
    tt_price bb = 0, ba = 0;
    int first = 1;
    for (int g = 0; g < c->cfg.nsources; g++) {
        if (!(e >> g & 1))
            continue;
        const tt_quote *q = &y->f[g].q;
        if (first || q->bid > bb)
            bb = q->bid;
        if (first || q->ask < ba)
            ba = q->ask;
        first = 0;
    }
    if (bb >= ba) { /* the sources cross: report once, pass the first source's own */
        if (!y->crossed) {
            tt_consol_event ev;
            memset(&ev, 0, sizeof ev);
            ev.ts = c->now;
            ev.symbol = y->id;
            ev.kind = TT_CONSOL_CROSS;
            ev.previous = -1;
            ev.value = (double)(bb - ba);
            emit(c, &ev);
        }
        y->crossed = 1;
        int p = first_of(e);
        m->q = y->f[p].q;
        m->bid_from = m->ask_from = 1u << p;
        m->crossed = 1;
        return;
    }
    y->crossed = 0;
    m->q.bid = bb;
    m->q.ask = ba;
    for (int g = 0; g < c->cfg.nsources; g++) {
        if (!(e >> g & 1))
            continue;
        if (y->f[g].q.bid == bb)
            m->bid_from |= 1u << g;
        if (y->f[g].q.ask == ba)
            m->ask_from |= 1u << g;
    }
    m->q.bid_vol = y->f[first_of(m->bid_from)].q.bid_vol;
    m->q.ask_vol = y->f[first_of(m->ask_from)].q.ask_vol;
}

/* The sources whose value is the median: equal to it, or (an even count's
 * mean) the two middle ones. */
static uint32_t median_from(const sym *y, uint32_t e, int n, int ask, tt_price med)
{
    uint32_t eq = 0;
    int idx[TT_CONSOL_MAX_SOURCES], k = 0;
    for (int g = 0; g < TT_CONSOL_MAX_SOURCES; g++) {
        if (!(e >> g & 1))
            continue;
        tt_price v = ask ? y->f[g].q.ask : y->f[g].q.bid;
        if (v == med)
            eq |= 1u << g;
        idx[k++] = g;
    }
    if (eq)
        return eq;
    for (int i = 1; i < k; i++) { /* by value, then index */
        int x = idx[i], j = i;
        tt_price vx = ask ? y->f[x].q.ask : y->f[x].q.bid;
        for (; j > 0; j--) {
            tt_price vj = ask ? y->f[idx[j - 1]].q.ask : y->f[idx[j - 1]].q.bid;
            if (vj <= vx)
                break;
            idx[j] = idx[j - 1];
        }
        idx[j] = x;
    }
    return (1u << idx[n / 2 - 1]) | (1u << idx[n / 2]);
}

static void policy_median(tt_consolidator *c, sym *y, uint32_t e, tt_consol_quote *m)
{
    int64_t bids[TT_CONSOL_MAX_SOURCES], asks[TT_CONSOL_MAX_SOURCES];
    int n = 0;
    for (int g = 0; g < c->cfg.nsources; g++) {
        if (!(e >> g & 1))
            continue;
        bids[n] = y->f[g].q.bid;
        asks[n] = y->f[g].q.ask;
        n++;
    }
    m->q.bid = median_i64(bids, n, 0);
    m->q.ask = median_i64(asks, n, 1);
    m->bid_from = median_from(y, e, n, 0, m->q.bid);
    m->ask_from = median_from(y, e, n, 1, m->q.ask);
    m->q.bid_vol = y->f[first_of(m->bid_from)].q.bid_vol;
    m->q.ask_vol = y->f[first_of(m->ask_from)].q.ask_vol;
}

/* The merged quote; 1 when it went out. */
static int merge_out(tt_consolidator *c, sym *y, const tt_event *ev)
{
    uint32_t e = eligible(c, y);
    if (!e)
        return 0;
    tt_consol_quote m;
    memset(&m, 0, sizeof m);
    m.ts = ev->ts;
    m.ts_init = ev->ts_init;
    m.symbol = y->id;
    switch (c->cfg.policy) {
    case TT_POLICY_PRIORITY: policy_priority(c, y, e, &m); break;
    case TT_POLICY_BEST: policy_best(c, y, e, &m); break;
    default: policy_median(c, y, e, &m); break;
    }
    if (y->have_out && m.q.bid == y->out_bid && m.q.ask == y->out_ask)
        return 0;
    y->have_out = 1;
    y->out_bid = m.q.bid;
    y->out_ask = m.q.ask;
    for (int g = 0; g < c->cfg.nsources; g++)
        y->f[g].used += ((m.bid_from | m.ask_from) >> g) & 1;
    if (c->on_quote)
        c->on_quote(c->ctx, &m);
    return 1;
}

/* Input i's quote: counted, judged, stored, its source's state moved. */
static void take(tt_consolidator *c, sym *y, int s, const tt_quote *q, int reason, double value)
{
    feed *f = &y->f[s];
    if (reason == TT_FEED_CROSSED || reason == TT_FEED_DEVIATION) {
        f->rejected++;
    } else {
        for (int g = 0; g < c->cfg.nsources; g++) {
            const feed *o = &y->f[g];
            const tt_quote *oq = o->has_pend ? &o->pend : &o->q;
            if (g != s && (o->has_pend || fresh(c, o)) && oq->bid == q->bid &&
                oq->ask == q->ask) {
                f->duplicates++;
                break;
            }
        }
        f->q = *q;
        f->q_ts = c->now;
        f->have_q = 1;
        double sp = (double)(q->ask - q->bid);
        f->spread = f->have_spread ? f->spread + (sp - f->spread) / 16 : sp;
        f->have_spread = 1;
    }
    f->bad += reason != TT_FEED_OK;
    step_state(c, y, s, reason, value);
}

static int check_set(const tt_consolidator *c, int n, const int *src, const tt_event *ev,
                     tt_err *err)
{
    if (n < 1 || n > TT_CONSOL_MAX_SET)
        return tt_err_set(err, TT_EINVAL, "consolidator: %d inputs at once (1..%d)", n,
                          TT_CONSOL_MAX_SET);
    for (int i = 0; i < n; i++) {
        if (src[i] < 0 || src[i] >= c->cfg.nsources)
            return tt_err_set(err, TT_EINVAL, "consolidator: source %d of %d", src[i],
                              c->cfg.nsources);
        if (ev[i].kind != TT_EV_QUOTE)
            return tt_err_set(err, TT_EINVAL, "consolidator: a %s event is not a quote",
                              tt_event_kind_name(ev[i].kind));
        if (ev[i].ts != ev[0].ts)
            return tt_err_set(err, TT_EINVAL, "consolidator: inputs at once of different times");
        for (int j = 0; j < i; j++)
            if (src[j] == src[i] && ev[j].symbol == ev[i].symbol)
                return tt_err_set(err, TT_EINVAL,
                                  "consolidator: source %d quotes a symbol twice at once", src[i]);
    }
    if (c->started && ev[0].ts < c->now)
        return tt_err_set(err, TT_EORDER, "consolidator: a quote at %lld after one at %lld",
                          (long long)ev[0].ts, (long long)c->now);
    return TT_OK;
}

int tt_consolidator_push_set(tt_consolidator *c, int n, const int *src, const tt_event *ev,
                             tt_err *err)
{
    int rc = check_set(c, n, src, ev, err);
    if (rc)
        return rc;
    sym *ys[TT_CONSOL_MAX_SET];
    for (int i = 0; i < n; i++)
        if (!(ys[i] = sym_get(c, ev[i].symbol)))
            return tt_err_set(err, TT_ENOMEM, "out of memory (consolidator)");
    c->started = 1;
    c->now = ev[0].ts;
    for (int i = 0; i < n; i++) { /* every input of this time is known before any is judged */
        feed *f = &ys[i]->f[src[i]];
        const tt_quote *q = &ev[i].u.quote;
        count_rate(f, c->now);
        f->ticks++;
        f->last = c->now;
        if (ev[i].ts_init && ev[i].ts_init != ev[i].ts) {
            double lat = (double)(ev[i].ts - ev[i].ts_init);
            f->latency = f->have_latency ? f->latency + (lat - f->latency) / 16 : lat;
            f->have_latency = 1;
        }
        f->has_pend = q->bid > 0 && q->ask > q->bid;
        f->pend = *q;
    }
    for (int i = 0; i < n; i++)
        mark_stale(c, ys[i]);
    int reason[TT_CONSOL_MAX_SET];
    double value[TT_CONSOL_MAX_SET];
    for (int i = 0; i < n; i++)
        reason[i] = judge(c, ys[i], src[i], &ev[i].u.quote, &value[i]);
    for (int i = 0; i < n; i++)
        take(c, ys[i], src[i], &ev[i].u.quote, reason[i], value[i]);
    for (int i = 0; i < n; i++)
        ys[i]->f[src[i]].has_pend = 0;
    int out = 0;
    for (int i = 0; i < n; i++) { /* once per symbol, with its last input */
        int last = 1;
        for (int j = i + 1; j < n && last; j++)
            last = ys[j] != ys[i];
        if (last)
            out += merge_out(c, ys[i], &ev[i]);
    }
    return out;
}

int tt_consolidator_push(tt_consolidator *c, int s, const tt_event *ev, tt_err *err)
{
    return tt_consolidator_push_set(c, 1, &s, ev, err);
}

uint32_t tt_consolidator_symbol_count(const tt_consolidator *c) { return c->nsym; }

uint32_t tt_consolidator_symbol_at(const tt_consolidator *c, uint32_t i)
{
    return i < c->nsym ? c->order[i] : 0;
}

int tt_consolidator_health(const tt_consolidator *c, uint32_t symbol, int s, tt_feed_health *out)
{
    const sym *y = sym_find(c, symbol);
    if (!y || s < 0 || s >= c->cfg.nsources)
        return TT_ENOTFOUND;
    const feed *f = &y->f[s];
    memset(out, 0, sizeof *out);
    out->state = f->state;
    out->reason = f->reason;
    out->since = f->since;
    out->last = f->last;
    out->q = f->q;
    out->ticks = f->ticks;
    out->rejected = f->rejected;
    out->bad = f->bad;
    out->duplicates = f->duplicates;
    out->used = f->used;
    out->spread = f->spread;
    out->latency = f->latency;
    /* the rate as of the latest input: complete seconds since its last quote count as 0 */
    double rate = f->rate_valid ? f->rate : (double)f->bucket_n;
    int64_t gap = f->bucket_set ? c->now / TT_NS_PER_SEC - f->bucket : 0;
    if (gap >= 1) {
        rate = 0.5 * (f->rate_valid ? f->rate : 0) + 0.5 * f->bucket_n;
        for (int64_t k = 1; k < gap && k < 64; k++)
            rate *= 0.5;
    }
    out->rate = rate;
    return TT_OK;
}

int tt_consolidator_chosen(const tt_consolidator *c, uint32_t symbol)
{
    const sym *y = sym_find(c, symbol);
    return y ? y->chosen : -1;
}

size_t tt_consol_sources_text(uint32_t mask, const char *const *names, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap)
        buf[0] = '\0';
    for (int g = 0; g < TT_CONSOL_MAX_SOURCES && cap; g++) {
        if (!(mask >> g & 1))
            continue;
        int w = snprintf(buf + n, cap - n, "%s%s", n ? "+" : "", names ? names[g] : "?");
        if (w < 0 || (size_t)w >= cap - n) {
            n = cap - 1;
            break;
        }
        n += (size_t)w;
    }
    return n;
}

size_t tt_consol_event_json(const tt_consol_event *e, const char *const *names,
                            const char *symbol, char *buf, size_t cap)
{
    static const char *const KINDS[] = {"?", "state", "failover", "failback", "cross"};
    char t[48];
    tt_ts_format(e->ts, t, sizeof t, 1);
    const char *kind = e->kind <= TT_CONSOL_CROSS ? KINDS[e->kind] : "?";
    int n;
    if (e->kind == TT_CONSOL_STATE)
        n = snprintf(buf, cap,
                     "{\"event\":\"state\",\"time\":\"%s\",\"symbol\":\"%s\",\"source\":\"%s\","
                     "\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"%s\",\"value\":%.6g}",
                     t, symbol, names[e->source], tt_feed_state_name(e->from_state),
                     tt_feed_state_name(e->to_state), tt_feed_reason_name(e->reason), e->value);
    else if (e->kind == TT_CONSOL_CROSS)
        n = snprintf(buf, cap,
                     "{\"event\":\"cross\",\"time\":\"%s\",\"symbol\":\"%s\",\"value\":%.6g}", t,
                     symbol, e->value);
    else
        n = snprintf(buf, cap,
                     "{\"event\":\"%s\",\"time\":\"%s\",\"symbol\":\"%s\",\"from\":\"%s\","
                     "\"to\":\"%s\",\"reason\":\"%s\"}",
                     kind, t, symbol, e->previous >= 0 ? names[e->previous] : "",
                     names[e->source], tt_feed_reason_name(e->reason));
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
