/*
 * The price path of a run's symbols in bounded OHLC buckets (price_path.h).
 *
 * How this works: each slot has an array of cap buckets and a width. Width 0
 * means "one bucket per distinct sample time". When the array is full, the
 * width becomes the smallest power of two (in ns) that maps the buckets into
 * at most cap / 2 groups of floor((ts - t0) / width), and each group merges
 * into one bucket. A new sample joins the last bucket when it falls in the
 * same group, else opens a new one. All integer arithmetic.
 */
#include "price_path.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    tt_price_bucket *b;
    size_t n;
    tt_ts t0;    /* the first sample's time: groups are counted from it */
    tt_ts width; /* 0: one bucket per distinct time */
} slot;

struct tt_price_path {
    slot *s;
    size_t nslots, cap;
};

int tt_price_path_new(tt_price_path **out, size_t nsymbols, size_t cap, tt_err *err)
{
    *out = NULL;
    if (cap == 0)
        cap = 4096;
    if (cap < 4)
        cap = 4;
    tt_price_path *p = calloc(1, sizeof *p);
    if (p)
        p->s = calloc(nsymbols ? nsymbols : 1, sizeof *p->s);
    for (size_t i = 0; p && p->s && i < nsymbols; i++)
        if (!(p->s[i].b = malloc(cap * sizeof *p->s[i].b)))
            break;
    if (!p || !p->s || (nsymbols && !p->s[nsymbols - 1].b)) {
        if (p)
            p->nslots = nsymbols;
        tt_price_path_free(p);
        return tt_err_set(err, TT_ENOMEM, "out of memory (price path)");
    }
    p->nslots = nsymbols;
    p->cap = cap;
    *out = p;
    return TT_OK;
}

static tt_ts group(const slot *s, tt_ts ts, tt_ts width)
{
    return width > 0 ? (ts - s->t0) / width : ts - s->t0;
}

/* Merge into at most half the buckets. */
static void merge(slot *s, size_t cap)
{
    tt_ts w = s->width > 0 ? s->width : 1;
    for (;;) {
        w *= 2;
        size_t groups = 1;
        for (size_t i = 1; i < s->n; i++)
            groups += group(s, s->b[i].ts, w) != group(s, s->b[i - 1].ts, w);
        if (groups <= cap / 2)
            break;
    }
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++) {
        tt_price_bucket *x = &s->b[i];
        if (m > 0 && group(s, x->ts, w) == group(s, s->b[m - 1].ts, w)) {
            tt_price_bucket *y = &s->b[m - 1];
            if (x->high > y->high)
                y->high = x->high;
            if (x->low < y->low)
                y->low = x->low;
            y->close = x->close;
            y->samples += x->samples;
        } else {
            s->b[m++] = *x;
        }
    }
    s->n = m;
    s->width = w;
}

void tt_price_path_add(tt_price_path *p, size_t k, uint32_t symbol, tt_ts ts, tt_price bid)
{
    if (!p || k >= p->nslots)
        return;
    slot *s = &p->s[k];
    if (s->n == 0)
        s->t0 = ts;
    if (s->n > 0) {
        tt_price_bucket *y = &s->b[s->n - 1];
        if (ts <= y->ts || group(s, ts, s->width) == group(s, y->ts, s->width)) {
            if (bid > y->high)
                y->high = bid;
            if (bid < y->low)
                y->low = bid;
            y->close = bid;
            y->samples++;
            return;
        }
    }
    if (s->n == p->cap)
        merge(s, p->cap);
    if (s->n > 0 && group(s, ts, s->width) == group(s, s->b[s->n - 1].ts, s->width)) {
        tt_price_path_add(p, k, symbol, ts, bid); /* now inside the widened last bucket */
        return;
    }
    s->b[s->n++] = (tt_price_bucket){ts, symbol, 1, bid, bid, bid, bid};
}

int tt_price_path_collect(const tt_price_path *p, tt_price_bucket **out, size_t *n, tt_err *err)
{
    *out = NULL;
    *n = 0;
    size_t total = 0;
    for (size_t i = 0; p && i < p->nslots; i++)
        total += p->s[i].n;
    if (total == 0)
        return TT_OK;
    tt_price_bucket *v = malloc(total * sizeof *v);
    if (!v)
        return tt_err_set(err, TT_ENOMEM, "out of memory (price path)");
    size_t m = 0;
    for (size_t i = 0; i < p->nslots; i++) {
        memcpy(v + m, p->s[i].b, p->s[i].n * sizeof *v);
        m += p->s[i].n;
    }
    *out = v;
    *n = m;
    return TT_OK;
}

void tt_price_path_free(tt_price_path *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->s && i < p->nslots; i++)
        free(p->s[i].b);
    free(p->s);
    free(p);
}
