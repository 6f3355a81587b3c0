/*
 * ticktape API: a tape's quotes and bars into the caller's arrays
 * (api/ticktape_api.h).
 *
 * How this works: a cursor is a tape reader over one symbol's stream, read
 * through its engine source in batches of 256 events (the replay path's
 * batch decoding), each event narrowed into a fixed record. Bars come from
 * the tape's bar stream when it has the (tf, side) asked for, else from a
 * bar builder fed the quotes (the last bar, partial, is flushed at the end):
 * the same bars `ticktape bars` makes. No state outside the handles.
 */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "core/bars.h"
#include "data/tape.h"

#define BATCH 256

struct tt_api_tape {
    char dir[4096];
    tt_tape_info info;
    char (*kinds)[32]; /* stream i's kind name */
};

struct tt_api_cursor {
    tt_tape_reader *r;
    tt_source src;
    int bars;           /* 1: a bar cursor */
    int build;          /* bars built from quotes */
    tt_bar_builder b;
    int ended;          /* the source has ended (builder flushed) */
    int64_t from, to;   /* bar open times kept */
    tt_event buf[BATCH];
    int n, pos;
};

int tt_api_tape_open(tt_api_tape **out, const char *dir, tt_err *err)
{
    *out = NULL;
    tt_api_tape *t = calloc(1, sizeof *t);
    if (!t)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    snprintf(t->dir, sizeof t->dir, "%s", dir);
    int rc = tt_tape_info_read(dir, &t->info, err);
    if (rc) {
        free(t);
        return rc;
    }
    t->kinds = calloc(t->info.nstreams + 1, sizeof *t->kinds);
    if (!t->kinds) {
        tt_api_tape_close(t);
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < t->info.nstreams; i++)
        tt_stream_desc_name(&t->info.streams[i].desc, t->kinds[i], sizeof t->kinds[i]);
    *out = t;
    return TT_OK;
}

void tt_api_tape_close(tt_api_tape *t)
{
    if (!t)
        return;
    tt_tape_info_free(&t->info);
    free(t->kinds);
    free(t);
}

int tt_api_tape_streams(const tt_api_tape *t) { return (int)t->info.nstreams; }

int tt_api_tape_stream(const tt_api_tape *t, int i, const char **symbol, const char **kind,
                       uint64_t *events, int64_t *first, int64_t *last, tt_err *err)
{
    if (i < 0 || (uint32_t)i >= t->info.nstreams)
        return tt_err_set(err, TT_ENOTFOUND, "%s: no stream %d (%u streams)", t->dir, i,
                          t->info.nstreams);
    const tt_stream_info *s = &t->info.streams[i];
    *symbol = s->desc.symbol;
    *kind = t->kinds[i];
    *events = s->events;
    *first = s->first;
    *last = s->last;
    return TT_OK;
}

int tt_api_instrument(const char *symbol, int64_t *points, int *digits, tt_err *err)
{
    tt_instruments *ins = tt_instruments_new();
    if (!ins)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    const tt_instrument *i = tt_instruments_find(ins, symbol);
    int rc = TT_OK;
    if (i) {
        *points = i->points;
        *digits = i->digits;
    } else {
        rc = tt_err_set(err, TT_ENOTFOUND, "%s: unknown instrument", symbol);
    }
    tt_instruments_free(ins);
    return rc;
}

/* The events of the stream (symbol, desc) when the tape has it, else 0. */
static uint64_t stream_events(const tt_api_tape *t, const char *symbol, const char *kind)
{
    for (uint32_t i = 0; i < t->info.nstreams; i++)
        if (!strcmp(t->info.streams[i].desc.symbol, symbol) && !strcmp(t->kinds[i], kind))
            return t->info.streams[i].events + 1;
    return 0;
}

static int cursor_open(tt_api_cursor **out, tt_api_tape *t, const tt_tape_query *q, tt_err *err)
{
    *out = NULL;
    tt_api_cursor *c = calloc(1, sizeof *c);
    if (!c)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    int rc = tt_tape_reader_open(&c->r, t->dir, q, NULL, err);
    if (rc) {
        free(c);
        return rc;
    }
    c->src = tt_tape_reader_source(c->r);
    *out = c;
    return TT_OK;
}

int tt_api_quotes_open(tt_api_cursor **c, tt_api_tape *t, const char *symbol, int64_t from,
                       int64_t to, uint64_t *bound, tt_err *err)
{
    const char *syms[2] = {symbol, NULL};
    tt_tape_query q = {syms, 1u << TT_STREAM_QUOTE, 0, 0, from, to};
    *bound = stream_events(t, symbol, "quote");
    return cursor_open(c, t, &q, err);
}

int tt_api_bars_open(tt_api_cursor **out, tt_api_tape *t, const char *symbol, const char *tf,
                     const char *side, int64_t from, int64_t to, uint64_t *bound, tt_err *err)
{
    *out = NULL;
    int itf = tt_timeframe_parse(tf ? tf : "");
    int iside = tt_price_side_parse(side ? side : "bid");
    if (itf <= TT_TF_NONE || itf >= TT_TF_COUNT)
        return tt_err_set(err, TT_EINVAL, "bars: unknown timeframe '%s' (S1, M1, M5, M15, M30, "
                          "H1, H4, D1, W1, MN1)", tf ? tf : "");
    if (iside < 0)
        return tt_err_set(err, TT_EINVAL, "bars: unknown side '%s' (bid, ask, mid)", side);
    tt_stream_desc d = {.kind = TT_STREAM_BAR, .tf = (uint8_t)itf, .side = (uint8_t)iside};
    char kind[32];
    tt_stream_desc_name(&d, kind, sizeof kind);
    const char *syms[2] = {symbol, NULL};
    uint64_t stored = stream_events(t, symbol, kind);
    int rc;
    if (stored) {
        tt_tape_query q = {syms, 1u << TT_STREAM_BAR, (uint8_t)itf, (uint8_t)iside, from, to};
        *bound = stored;
        rc = cursor_open(out, t, &q, err);
    } else {
        /* Built from quotes: the first bar may open before `from`, so read
         * from the start of its period and keep the bars opening in range. */
        tt_ts open = 0, close = 0;
        if (from && tt_bar_period(itf, from, &open, &close) == 0)
            from = open;
        tt_tape_query q = {syms, 1u << TT_STREAM_QUOTE, 0, 0, from, to};
        *bound = stream_events(t, symbol, "quote");
        rc = cursor_open(out, t, &q, err);
        if (!rc) {
            (*out)->build = 1;
            rc = tt_bar_builder_init(&(*out)->b, 0, itf, iside, err);
            if (rc) {
                tt_api_cursor_close(*out);
                *out = NULL;
            }
        }
    }
    if (!rc) {
        (*out)->bars = 1;
        (*out)->from = from;
        (*out)->to = to;
    }
    return rc;
}

void tt_api_cursor_close(tt_api_cursor *c)
{
    if (!c)
        return;
    tt_tape_reader_close(c->r);
    free(c);
}

/* The next batch into c->buf; 0 at the end, < 0 on error. */
static int refill(tt_api_cursor *c, tt_err *err)
{
    c->pos = 0;
    c->n = 0;
    int rc = c->src.next_batch(c->src.self, c->buf, BATCH, &c->n, err);
    return rc < 0 ? rc : c->n;
}

int64_t tt_api_quotes_read(tt_api_cursor *c, tt_api_quote *out, size_t cap, tt_err *err)
{
    if (c->bars)
        return tt_err_set(err, TT_EINVAL, "quotes_read: a bar cursor");
    size_t k = 0;
    while (k < cap) {
        if (c->pos == c->n) {
            int rc = refill(c, err);
            if (rc <= 0) {
                if (rc < 0)
                    return rc;
                break;
            }
        }
        int m = c->n - c->pos;
        if ((size_t)m > cap - k)
            m = (int)(cap - k);
        const tt_event *ev = c->buf + c->pos;
        for (int i = 0; i < m; i++, k++) {
            out[k].ts = ev[i].ts;
            out[k].bid = ev[i].u.quote.bid;
            out[k].ask = ev[i].u.quote.ask;
            out[k].bid_vol = ev[i].u.quote.bid_vol;
            out[k].ask_vol = ev[i].u.quote.ask_vol;
        }
        c->pos += m;
    }
    return (int64_t)k;
}

static void bar_record(const tt_event *ev, tt_api_bar *b)
{
    memset(b, 0, sizeof *b);
    b->ts = ev->ts;
    b->close_ts = ev->ts_init;
    b->open = ev->u.bar.open;
    b->high = ev->u.bar.high;
    b->low = ev->u.bar.low;
    b->close = ev->u.bar.close;
    b->volume = ev->u.bar.volume;
    b->ticks = ev->u.bar.ticks;
    b->tf = ev->u.bar.tf;
    b->side = ev->u.bar.side;
}

/* The next bar: 1 with *bar, 0 at the end, < 0 on error. */
static int next_bar(tt_api_cursor *c, tt_event *bar, tt_err *err)
{
    for (;;) {
        if (c->ended)
            return 0;
        if (c->pos == c->n) {
            int rc = refill(c, err);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                c->ended = 1;
                return c->build ? tt_bar_builder_flush(&c->b, bar) : 0;
            }
        }
        const tt_event *ev = &c->buf[c->pos++];
        if (!c->build) {
            *bar = *ev;
            return 1;
        }
        int got = tt_bar_builder_update(&c->b, ev, bar, err);
        if (got)
            return got;
    }
}

int64_t tt_api_bars_read(tt_api_cursor *c, tt_api_bar *out, size_t cap, tt_err *err)
{
    if (!c->bars)
        return tt_err_set(err, TT_EINVAL, "bars_read: a quote cursor");
    size_t k = 0;
    tt_event bar;
    while (k < cap) {
        int rc = next_bar(c, &bar, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (bar.ts < c->from || (c->to && bar.ts >= c->to))
            continue;
        bar_record(&bar, &out[k++]);
    }
    return (int64_t)k;
}
