/*
 * Bars from quote ticks.
 *
 * The builder keeps the period [open_ts, close_ts) of the bar in progress, so
 * the per-tick cost is one comparison of the quote's time against close_ts plus
 * the OHLC/volume update; the calendar arithmetic (floor division for fixed
 * lengths, a civil-date conversion for months) runs only when a quote starts a
 * new bar. Closing is driven by timestamps alone: either a later quote of the
 * same builder or close_until(now) from whatever event carries the time forward.
 * That is what makes replay and live identical: neither depends on when the
 * process happened to look at the clock.
 *
 * The component multiplexes builders. It keeps the earliest close time over all
 * bars in progress (next_close), so an event that closes nothing costs one
 * comparison; quotes reach only their own symbol's builders through a per-symbol
 * list built once. When something is due, bars are closed one at a time in
 * (close time, subscription index) order, which gives consumers bars in close
 * time order even after a gap. Timers (one per distinct (timeframe, close time),
 * not one per subscription) make bars close on time when no later tick comes.
 */
#include "bars.h"

#include <stdlib.h>
#include <string.h>

/* Monday 1970-01-05 is 4 days after the epoch (a Thursday). */
#define TT_W1_ORIGIN (4 * TT_NS_PER_DAY)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int tt_bar_period(int tf, tt_ts ts, tt_ts *open, tt_ts *close)
{
    if (tf == TT_TF_MN1) {
        int y, m, d;
        tt_ts_to_civil(ts, &y, &m, &d, NULL, NULL, NULL, NULL);
        *open = tt_ts_from_civil(y, m, 1, 0, 0, 0, 0);
        *close = m == 12 ? tt_ts_from_civil(y + 1, 1, 1, 0, 0, 0, 0)
                         : tt_ts_from_civil(y, m + 1, 1, 0, 0, 0, 0);
        return TT_OK;
    }
    int64_t len = (tf > TT_TF_NONE && tf < TT_TF_COUNT) ? tt_timeframe_ns(tf) : 0;
    if (len <= 0)
        return TT_EINVAL;
    int64_t origin = tf == TT_TF_W1 ? TT_W1_ORIGIN : 0;
    *open = floor_div(ts - origin, len) * len + origin;
    *close = *open + len;
    return TT_OK;
}

tt_price tt_bar_mid(tt_price bid, tt_price ask)
{
    int64_t s = bid + ask;
    int64_t h = floor_div(s, 2);
    /* s odd: the exact mid is h + 0.5; round to the even neighbour. */
    if ((s & 1) && (h & 1))
        h++;
    return h;
}

static const char *side_names[] = {"bid", "ask", "mid"};

const char *tt_price_side_name(int side)
{
    return (side >= TT_SIDE_BID && side <= TT_SIDE_MID) ? side_names[side] : "?";
}

int tt_price_side_parse(const char *s)
{
    for (int i = TT_SIDE_BID; i <= TT_SIDE_MID; i++) {
        if (s && !strcmp(s, side_names[i]))
            return i;
    }
    return -1;
}

/* ---- builder ---- */

int tt_bar_builder_init(tt_bar_builder *b, uint32_t symbol, int tf, int side, tt_err *err)
{
    memset(b, 0, sizeof *b);
    if (tf <= TT_TF_NONE || tf >= TT_TF_COUNT)
        return tt_err_set(err, TT_EINVAL, "bar builder: unknown timeframe %d", tf);
    if (side < TT_SIDE_BID || side > TT_SIDE_MID)
        return tt_err_set(err, TT_EINVAL, "bar builder: unknown price side %d", side);
    b->symbol = symbol;
    b->tf = (uint8_t)tf;
    b->side = (uint8_t)side;
    b->last_ts = TT_TS_MIN;
    return TT_OK;
}

static void write_bar(tt_bar_builder *b, tt_event *out)
{
    memset(out, 0, sizeof *out);
    out->ts = b->open_ts;
    out->ts_init = b->close_ts;
    out->symbol = b->bar_symbol;
    out->kind = TT_EV_BAR;
    out->cls = TT_CLS_MARKET;
    out->u.bar = b->bar;
    b->active = 0;
    b->closed++;
}

/* A price into the bar in progress. Unconditional stores: new highs and
 * lows are frequent and random, so branches on them would be mispredicted. */
static inline void bar_add(tt_bar_builder *b, tt_price p, double vol)
{
    b->bar.high = p > b->bar.high ? p : b->bar.high;
    b->bar.low = p < b->bar.low ? p : b->bar.low;
    b->bar.close = p;
    b->bar.volume += vol;
    b->bar.ticks++;
}

/* An input (a quote, or a bar with update_bar) at ts: the order check, then
 * the bar in progress closed into *closed_out when ts is at or after its
 * close. 1 when it was, 0 when not, TT_EORDER (builder unchanged). */
static int builder_step(tt_bar_builder *b, tt_ts ts, const char *what, tt_event *closed_out,
                        tt_err *err)
{
    if (ts < b->last_ts)
        return tt_err_set(err, TT_EORDER,
                          "bar builder %s: %s at %lld ns is earlier than %lld ns already seen",
                          tt_timeframe_name(b->tf), what, (long long)ts, (long long)b->last_ts);
    b->last_ts = ts;
    if (b->active && ts >= b->close_ts) {
        write_bar(b, closed_out);
        return 1;
    }
    return 0;
}

int tt_bar_builder_update(tt_bar_builder *b, const tt_event *q, tt_event *closed_out,
                          tt_err *err)
{
    if (q->kind != TT_EV_QUOTE || (b->symbol && q->symbol != b->symbol))
        return 0;
    int rc = builder_step(b, q->ts, "quote", closed_out, err);
    if (rc < 0)
        return rc;
    tt_price p;
    double vol;
    switch (b->side) {
    case TT_SIDE_BID:
        p = q->u.quote.bid;
        vol = (double)q->u.quote.bid_vol;
        break;
    case TT_SIDE_ASK:
        p = q->u.quote.ask;
        vol = (double)q->u.quote.ask_vol;
        break;
    default:
        if (q->u.quote.bid <= 0 || q->u.quote.ask <= 0) {
            b->skipped++;
            return rc;
        }
        p = tt_bar_mid(q->u.quote.bid, q->u.quote.ask);
        vol = ((double)q->u.quote.bid_vol + (double)q->u.quote.ask_vol) * 0.5;
        break;
    }
    if (p <= 0) {
        b->skipped++;
        return rc;
    }
    if (!b->active) {
        tt_bar_period(b->tf, q->ts, &b->open_ts, &b->close_ts);
        b->active = 1;
        b->bar_symbol = q->symbol;
        b->bar.open = b->bar.high = b->bar.low = b->bar.close = p;
        b->bar.volume = vol;
        b->bar.ticks = 1;
        b->bar.tf = b->tf;
        b->bar.side = b->side;
        return rc;
    }
    bar_add(b, p, vol);
    return rc;
}

int tt_bar_builder_update_bar(tt_bar_builder *b, const tt_event *ev, tt_event *closed_out,
                              tt_err *err)
{
    if (ev->kind != TT_EV_BAR || (b->symbol && ev->symbol != b->symbol))
        return 0;
    int rc = builder_step(b, ev->ts, "bar", closed_out, err);
    if (rc < 0)
        return rc;
    const tt_bar *in = &ev->u.bar;
    if (!b->active) {
        tt_bar_period(b->tf, ev->ts, &b->open_ts, &b->close_ts);
        b->active = 1;
        b->bar_symbol = ev->symbol;
        b->bar = *in;
        b->bar.tf = b->tf;
        b->bar.side = b->side;
        return rc;
    }
    b->bar.high = in->high > b->bar.high ? in->high : b->bar.high;
    b->bar.low = in->low < b->bar.low ? in->low : b->bar.low;
    b->bar.close = in->close;
    b->bar.volume += in->volume;
    b->bar.ticks += in->ticks;
    return rc;
}

int tt_bar_builder_close_until(tt_bar_builder *b, tt_ts now, tt_event *closed_out)
{
    if (now > b->last_ts)
        b->last_ts = now;
    if (!b->active || now < b->close_ts)
        return 0;
    write_bar(b, closed_out);
    return 1;
}

int tt_bar_builder_flush(tt_bar_builder *b, tt_event *closed_out)
{
    if (!b->active)
        return 0;
    write_bar(b, closed_out);
    return 1;
}

/* ---- component ---- */

#define TT_BARS_MAX_LISTENERS 8

struct tt_bars {
    int n;
    uint32_t maxsym;
    int *first; /* first subscription of each symbol id, -1 = none (maxsym + 1 entries) */
    int *next;  /* next subscription of the same symbol, -1 = end */
    tt_bar_builder **single; /* per symbol id: its builder when it has exactly one, else NULL */
    tt_ts next_close;
    tt_ts last_timer[TT_TF_COUNT];
    tt_bars_opts opts;
    struct {
        tt_bar_listener fn;
        void *ctx;
    } listeners[TT_BARS_MAX_LISTENERS];
    int nlisteners;
    uint64_t emitted;
    uint64_t late; /* quotes earlier than their builder's latest time: not added */
    tt_event pending_bid; /* from_bars: the last bid bar, for the mid subscriptions */
    tt_bar_builder b[]; /* the builders: the first at a fixed offset */
};

int tt_bars_new(tt_bars **out, const tt_bar_sub *subs, int nsubs, const tt_bars_opts *opts,
                tt_err *err)
{
    *out = NULL;
    if (nsubs <= 0)
        return tt_err_set(err, TT_EINVAL, "bars: no subscriptions");
    uint32_t maxsym = 0;
    for (int i = 0; i < nsubs; i++) {
        if (subs[i].symbol == 0)
            return tt_err_set(err, TT_EINVAL, "bars: subscription %d: symbol id 0 (none)", i);
        /* ids index a table (instrument ids are small); refuse absurd ones */
        if (subs[i].symbol > (1u << 24))
            return tt_err_set(err, TT_EINVAL, "bars: subscription %d: symbol id %u too large",
                              i, (unsigned)subs[i].symbol);
        if (subs[i].symbol > maxsym)
            maxsym = subs[i].symbol;
    }
    tt_bars *c = calloc(1, sizeof *c + (size_t)nsubs * sizeof c->b[0]);
    if (!c)
        return tt_err_set(err, TT_ENOMEM, "bars: out of memory");
    c->first = malloc(((size_t)maxsym + 1) * sizeof *c->first);
    c->next = malloc((size_t)nsubs * sizeof *c->next);
    c->single = calloc((size_t)maxsym + 1, sizeof *c->single);
    if (!c->first || !c->next || !c->single) {
        tt_bars_free(c);
        return tt_err_set(err, TT_ENOMEM, "bars: out of memory");
    }
    c->maxsym = maxsym;
    if (opts)
        c->opts = *opts;
    c->next_close = TT_TS_MAX;
    for (int t = 0; t < TT_TF_COUNT; t++)
        c->last_timer[t] = TT_TS_MIN;
    for (uint32_t s = 0; s <= maxsym; s++)
        c->first[s] = -1;
    /* Identical subscriptions (a strategy's and a config's, say) are merged, so
     * each bar is delivered once; the first occurrence keeps its place. */
    for (int i = 0; i < nsubs; i++) {
        int dup = 0;
        for (int j = 0; j < c->n && !dup; j++)
            dup = c->b[j].symbol == subs[i].symbol && c->b[j].tf == subs[i].tf &&
                  c->b[j].side == subs[i].side;
        if (dup)
            continue;
        int rc = tt_bar_builder_init(&c->b[c->n], subs[i].symbol, subs[i].tf, subs[i].side, err);
        if (rc) {
            tt_err_prefix(err, "bars: subscription %d: ", i);
            tt_bars_free(c);
            return rc;
        }
        c->n++;
    }
    /* Per-symbol lists, built back to front so they run in subscription order. */
    for (int i = c->n - 1; i >= 0; i--) {
        c->next[i] = c->first[c->b[i].symbol];
        c->first[c->b[i].symbol] = i;
    }
    for (uint32_t s = 0; s <= maxsym; s++)
        if (c->first[s] >= 0 && c->next[c->first[s]] < 0)
            c->single[s] = &c->b[c->first[s]];
    *out = c;
    return TT_OK;
}

void tt_bars_free(tt_bars *c)
{
    if (!c)
        return;
    free(c->first);
    free(c->next);
    free(c->single);
    free(c);
}

int tt_bars_listen(tt_bars *c, tt_bar_listener fn, void *ctx)
{
    if (c->nlisteners == TT_BARS_MAX_LISTENERS)
        return TT_EINVAL;
    c->listeners[c->nlisteners].fn = fn;
    c->listeners[c->nlisteners].ctx = ctx;
    c->nlisteners++;
    return TT_OK;
}

const tt_bar_builder *tt_bars_builder(const tt_bars *c, int i)
{
    return (i >= 0 && i < c->n) ? &c->b[i] : NULL;
}

uint64_t tt_bars_emitted(const tt_bars *c) { return c->emitted; }
int tt_bars_count(const tt_bars *c) { return c->n; }
uint64_t tt_bars_late(const tt_bars *c) { return c->late; }

static void deliver(tt_bars *c, tt_engine *e, const tt_event *bar)
{
    c->emitted++;
    if (!c->opts.no_emit)
        tt_engine_emit(e, bar);
    for (int i = 0; i < c->nlisteners; i++)
        c->listeners[i].fn(c->listeners[i].ctx, e, bar);
}

/* Close (or, with flush, end) bars in (close time, index) order; recompute next_close. */
static __attribute__((noinline)) void close_due(tt_bars *c, tt_engine *e, tt_ts now, int flush)
{
    for (;;) {
        int best = -1;
        for (int i = 0; i < c->n; i++) {
            const tt_bar_builder *b = &c->b[i];
            if (b->active && (flush || b->close_ts <= now) &&
                (best < 0 || b->close_ts < c->b[best].close_ts))
                best = i;
        }
        if (best < 0)
            break;
        tt_event bar;
        if (flush)
            tt_bar_builder_flush(&c->b[best], &bar);
        else
            tt_bar_builder_close_until(&c->b[best], now, &bar);
        deliver(c, e, &bar);
    }
    c->next_close = TT_TS_MAX;
    for (int i = 0; i < c->n; i++) {
        if (c->b[i].active && c->b[i].close_ts < c->next_close)
            c->next_close = c->b[i].close_ts;
    }
}

/* One builder's quote outside the common case (see bars_on_event): through
 * tt_bar_builder_update, which also opens a new bar (and sets its timer). */
static __attribute__((noinline)) void builder_quote(tt_bars *c, tt_engine *e, tt_bar_builder *b,
                                                    const tt_event *ev)
{
    int was_active = b->active;
    tt_event unused;
    /* Nothing due is left open, so this never closes a bar. A quote earlier
     * than what the builder has seen (live: stamped before a bar's close but
     * arriving after the close timer fired) cannot join a bar already
     * delivered: it is counted and left out, the same way in a replay of the
     * journal. */
    int rc = tt_bar_builder_update(b, ev, &unused, NULL);
    if (rc < 0)
        c->late++;
    if (rc < 0 || was_active || !b->active)
        return;
    if (b->close_ts < c->next_close)
        c->next_close = b->close_ts;
    if (!c->opts.no_timers && c->last_timer[b->tf] != b->close_ts) {
        c->last_timer[b->tf] = b->close_ts;
        tt_engine_timer_set(e, b->close_ts, 0);
    }
}

/* The common tick through one builder: 1 when done, 0 when the quote needs
 * builder_quote. */
static inline int builder_fast(tt_bar_builder *b, const tt_event *ev)
{
    /* The common tick: a bar of this builder in progress, the quote in order
     * and inside it, a price on the builder's side. The same update as
     * tt_bar_builder_update, without its general checks and calls. */
    const tt_quote *q = &ev->u.quote;
    tt_price p = b->side == TT_SIDE_BID ? q->bid : q->ask;
    if (!(b->active && ev->ts >= b->last_ts && ev->ts < b->close_ts && b->side != TT_SIDE_MID &&
          p > 0))
        return 0;
    b->last_ts = ev->ts;
    bar_add(b, p, (double)(b->side == TT_SIDE_BID ? q->bid_vol : q->ask_vol));
    return 1;
}

/* A quote through every builder of its symbol (several). */
static __attribute__((noinline)) void bars_quote(tt_bars *c, tt_engine *e, const tt_event *ev)
{
    for (int i = c->first[ev->symbol]; i >= 0; i = c->next[i]) {
        tt_bar_builder *b = &c->b[i];
        if (!builder_fast(b, ev))
            builder_quote(c, e, b, ev);
    }
}

static __attribute__((noinline)) void bars_due(tt_bars *c, tt_engine *e, const tt_event *ev)
{
    close_due(c, e, ev->ts, 0);
    if (ev->kind == TT_EV_QUOTE && ev->symbol <= c->maxsym)
        bars_quote(c, e, ev);
}

static void bars_on_event(void *self, tt_engine *e, const tt_event *ev)
{
    tt_bars *c = self;
    if (__builtin_expect(ev->ts >= c->next_close, 0)) {
        bars_due(c, e, ev);
        return;
    }
    if (ev->kind != TT_EV_QUOTE || ev->symbol > c->maxsym)
        return;
    /* the symbol's only builder, on the common tick: inline (a single
     * subscription, the usual case, without a table lookup) */
    tt_bar_builder *b = c->n == 1 ? (c->b[0].symbol == ev->symbol ? &c->b[0] : NULL)
                                  : c->single[ev->symbol];
    if (b) {
        if (!builder_fast(b, ev))
            builder_quote(c, e, b, ev); /* a bar to open, or a quote out of the common case */
    } else if (c->first[ev->symbol] >= 0) {
        bars_quote(c, e, ev);
    }
}

/* from_bars: one input bar through the subscriptions of its symbol and side
 * (mid: with the bid bar just before it). A bar that opens a builder's next
 * period sets no timer here: the component is meant to run without timers
 * (bars close on the next event, a bar model's next point). */
static __attribute__((noinline)) void bars_feed_bar(tt_bars *c, tt_engine *e,
                                                    const tt_event *ev)
{
    tt_event mid;
    int have_mid = 0;
    if (ev->u.bar.side == TT_SIDE_BID) {
        c->pending_bid = *ev;
    } else if (ev->u.bar.side == TT_SIDE_ASK && c->pending_bid.kind == TT_EV_BAR &&
               c->pending_bid.symbol == ev->symbol && c->pending_bid.ts == ev->ts) {
        const tt_bar *b = &c->pending_bid.u.bar, *a = &ev->u.bar;
        mid = *ev;
        mid.u.bar.open = tt_bar_mid(b->open, a->open);
        mid.u.bar.high = tt_bar_mid(b->high, a->high);
        mid.u.bar.low = tt_bar_mid(b->low, a->low);
        mid.u.bar.close = tt_bar_mid(b->close, a->close);
        mid.u.bar.volume = (b->volume + a->volume) * 0.5;
        mid.u.bar.ticks = b->ticks;
        mid.u.bar.side = TT_SIDE_MID;
        have_mid = 1;
    }
    for (int i = c->first[ev->symbol]; i >= 0; i = c->next[i]) {
        tt_bar_builder *b = &c->b[i];
        const tt_event *in = b->side == ev->u.bar.side ? ev
                             : b->side == TT_SIDE_MID && have_mid ? &mid
                                                                   : NULL;
        if (!in)
            continue;
        tt_event unused;
        /* nothing due is left open (close_due ran), so this never closes a bar */
        if (tt_bar_builder_update_bar(b, in, &unused, NULL) < 0) {
            c->late++;
            continue;
        }
        if (b->close_ts < c->next_close)
            c->next_close = b->close_ts;
        if (!c->opts.no_timers && c->last_timer[b->tf] != b->close_ts) {
            c->last_timer[b->tf] = b->close_ts;
            tt_engine_timer_set(e, b->close_ts, 0);
        }
    }
}

/* on_event with from_bars: every event moves time (closing what is due);
 * input bars build. */
static void bars_on_event_from_bars(void *self, tt_engine *e, const tt_event *ev)
{
    tt_bars *c = self;
    if (__builtin_expect(ev->ts >= c->next_close, 0))
        close_due(c, e, ev->ts, 0);
    if (ev->kind == TT_EV_BAR && ev->symbol <= c->maxsym && c->first[ev->symbol] >= 0)
        bars_feed_bar(c, e, ev);
}

/* The quiet path (tt_component.market_quiet): quotes that only extend a bar
 * in progress, as builder_fast does: no bar due to close, each builder of
 * the symbol active, not mid, the quotes inside its period (and in time
 * order, as a view's are). A symbol without builders: quiet until a bar is
 * due. */
static int bars_market_quiet(void *self, const tt_market_view *v, int n)
{
    const tt_bars *c = self;
    tt_ts end = c->next_close;
    if (v->symbol <= c->maxsym) {
        for (int k = c->first[v->symbol]; k >= 0; k = c->next[k]) {
            const tt_bar_builder *b = &c->b[k];
            if (!b->active || b->side == TT_SIDE_MID || v->ts[0] < b->last_ts)
                return 0;
            end = b->close_ts < end ? b->close_ts : end;
        }
    }
    return tt_market_view_until(v, n, end);
}

/* One builder's builder_fast over the quotes, its state in registers: the
 * same operations in the same order (the volume summed quote by quote). */
static void builder_take(tt_bar_builder *b, const tt_market_view *v, int n)
{
    tt_bar bar = b->bar;
    const tt_price *p = b->side == TT_SIDE_BID ? v->bid : v->ask;
    const float *vol = b->side == TT_SIDE_BID ? v->bid_vol : v->ask_vol;
    tt_price hi = bar.high, lo = bar.low;
    double volume = bar.volume;
    for (int i = 0; i < n; i++) { /* one pass: the extremes hide in the sum's latency */
        hi = p[i] > hi ? p[i] : hi;
        lo = p[i] < lo ? p[i] : lo;
        volume += (double)vol[i];
    }
    bar.high = hi;
    bar.low = lo;
    bar.close = p[n - 1];
    bar.volume = volume;
    bar.ticks += (uint32_t)n;
    b->bar = bar;
    b->last_ts = v->ts[n - 1];
}

static void bars_market_take(void *self, const tt_market_view *v, int n)
{
    tt_bars *c = self;
    if (v->symbol > c->maxsym)
        return;
    for (int k = c->first[v->symbol]; k >= 0; k = c->next[k])
        builder_take(&c->b[k], v, n);
}

/* With from_bars, quotes only move time: quiet until a bar is due (a view
 * holds no input bars). */
static int bars_market_quiet_from_bars(void *self, const tt_market_view *v, int n)
{
    return tt_market_view_until(v, n, ((const tt_bars *)self)->next_close);
}

static void bars_market_take_nothing(void *self, const tt_market_view *v, int n)
{
    (void)self;
    (void)v;
    (void)n;
}

static int bars_on_stop(void *self, tt_engine *e, tt_err *err)
{
    (void)err;
    tt_bars *c = self;
    if (c->opts.flush_at_stop)
        close_due(c, e, TT_TS_MAX, 1);
    return TT_OK;
}

tt_component tt_bars_component(tt_bars *c)
{
    tt_component comp;
    memset(&comp, 0, sizeof comp);
    comp.self = c;
    comp.name = "bars";
    comp.on_event = c->opts.from_bars ? bars_on_event_from_bars : bars_on_event;
    comp.on_stop = bars_on_stop;
    comp.market_quiet = c->opts.from_bars ? bars_market_quiet_from_bars : bars_market_quiet;
    comp.market_take = c->opts.from_bars ? bars_market_take_nothing : bars_market_take;
    return comp;
}
