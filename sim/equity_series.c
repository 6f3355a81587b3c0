/*
 * A run's sampled equity series (see equity_series.h).
 *
 * Invariants: pinned[i] says kept point i is a day's last point or the final
 * one and survives every thinning; one sample in `stride` is appended (the
 * stride doubles at each thinning); `last` is the latest sample, kept or not
 * (last_kept), and is fed to the accumulator only once final, so a same-ts
 * replacement is never fed twice.
 */
#include "equity_series.h"

#include <stdlib.h>
#include <string.h>

struct tt_equity_series {
    tt_equity_point *v;
    uint8_t *pinned;  /* per kept point: a day's last point or the final one */
    size_t n, cap;
    size_t keep_max;  /* 0: keep every sampled point */
    uint64_t sampled, stride;
    tt_equity_point last; /* the latest sampled point, kept or not */
    int have_last, last_kept;
    tt_metrics_acc *acc;
    int failed;
    tt_err fail;
};

int tt_equity_series_new(tt_equity_series **out, size_t keep_max, tt_metrics_acc *acc,
                         tt_err *err)
{
    tt_equity_series *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "equity: out of memory");
    s->keep_max = keep_max;
    s->stride = 1;
    s->acc = acc;
    *out = s;
    return TT_OK;
}

void tt_equity_series_free(tt_equity_series *s)
{
    if (!s)
        return;
    free(s->v);
    free(s->pinned);
    free(s);
}

uint64_t tt_equity_series_sampled(const tt_equity_series *s) { return s->sampled; }

static int fail_with(tt_equity_series *s, tt_err *err)
{
    s->failed = 1;
    if (err)
        *err = s->fail;
    return s->fail.code;
}

/* Thin the kept series: every pinned point stays, every other unpinned one
 * goes, and later samples are kept half as often. */
static void compact(tt_equity_series *s)
{
    size_t k = 0;
    int keep = 1;
    for (size_t i = 0; i < s->n; i++) {
        if (s->pinned[i] || keep) {
            s->v[k] = s->v[i];
            s->pinned[k++] = s->pinned[i];
        }
        if (!s->pinned[i])
            keep = !keep;
    }
    s->n = k;
    s->stride *= 2;
}

/* Keep p (pinned or not). 1 kept, 0 dropped (everything kept is pinned),
 * -1 out of memory (recorded). */
static int append(tt_equity_series *s, const tt_equity_point *p, uint8_t pin)
{
    if (s->keep_max && s->n >= s->keep_max) {
        size_t before = s->n;
        compact(s);
        if (s->n == before && !pin)
            return 0; /* everything kept is pinned (one per day): drop this sample */
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        tt_equity_point *v = realloc(s->v, cap * sizeof *v);
        if (v)
            s->v = v;
        uint8_t *pv = v ? realloc(s->pinned, cap) : NULL;
        if (!pv) {
            tt_err_set(&s->fail, TT_ENOMEM, "out of memory collecting results (equity)");
            s->failed = 1;
            return -1;
        }
        s->pinned = pv;
        s->cap = cap;
    }
    s->v[s->n] = *p;
    s->pinned[s->n++] = pin;
    return 1;
}

/* The latest sample is final: feed it to the metrics, and make sure it is
 * kept (pinned) when it closes a day or the run. */
static void settle(tt_equity_series *s, int closes)
{
    if (s->acc && tt_metrics_acc_equity(s->acc, &s->last, &s->fail)) {
        s->failed = 1;
        return;
    }
    if (!closes)
        return;
    if (s->last_kept)
        s->pinned[s->n - 1] = 1;
    else if (append(s, &s->last, 1) < 0)
        return;
    s->last_kept = 1;
}

int tt_equity_series_add(tt_equity_series *s, const tt_equity_point *p, tt_err *err)
{
    if (s->failed)
        return fail_with(s, err);
    /* the end-of-run point may share a ts with the last sample: keep the later state */
    if (s->have_last && s->last.ts == p->ts) {
        s->last = *p;
        if (s->last_kept)
            s->v[s->n - 1] = *p;
        return TT_OK;
    }
    if (s->have_last) {
        settle(s, p->ts / TT_NS_PER_DAY != s->last.ts / TT_NS_PER_DAY);
        if (s->failed)
            return fail_with(s, err);
    }
    s->last = *p;
    s->have_last = 1;
    s->last_kept = 0;
    if (s->sampled++ % s->stride == 0) {
        int k = append(s, p, 0);
        if (k < 0)
            return fail_with(s, err);
        s->last_kept = k;
    }
    return TT_OK;
}

int tt_equity_series_finish(tt_equity_series *s, tt_equity_point **points, size_t *n,
                            tt_err *err)
{
    if (s->have_last && !s->failed)
        settle(s, 1);
    s->have_last = 0;
    *points = s->v;
    *n = s->n;
    s->v = NULL;
    s->n = s->cap = 0;
    free(s->pinned);
    s->pinned = NULL;
    return s->failed ? fail_with(s, err) : TT_OK;
}
