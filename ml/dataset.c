/*
 * Building a dataset: an engine over the data with the bar component and a
 * quote tap, exactly the order a strategy sees in a run (the bar closed by a
 * quote is delivered before that quote, which then belongs to the next bar).
 * Rows are appended to growable arrays; nothing else grows with the span.
 */
#include "dataset.h"

#include "../core/external.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/bars.h"
#include "../core/external.h"
#include "../data/tape.h"

typedef struct build {
    tt_ml_dataset *d;
    tt_features *f;
    double *row;
    int failed;
    tt_err err;
} build;

static int grow(tt_ml_dataset *d)
{
    if (d->n < d->cap)
        return 0;
    size_t c = d->cap ? d->cap * 2 : 1024;
    tt_ts *o = realloc(d->open_ts, c * sizeof *o);
    if (o)
        d->open_ts = o;
    tt_ts *cl = realloc(d->close_ts, c * sizeof *cl);
    if (cl)
        d->close_ts = cl;
    double **cols[4] = {&d->open, &d->high, &d->low, &d->close};
    int ok = o && cl;
    for (int i = 0; i < 4; i++) {
        double *p = realloc(*cols[i], c * sizeof *p);
        if (p)
            *cols[i] = p;
        ok = ok && p;
    }
    double *x = realloc(d->x, c * (size_t)d->width * sizeof *x);
    if (x)
        d->x = x;
    if (!ok || !x)
        return -1;
    d->cap = c;
    return 0;
}

static void on_bar(void *ctx, tt_engine *e, const tt_event *bar)
{
    build *b = ctx;
    tt_ml_dataset *d = b->d;
    if (b->failed || bar->symbol != d->symbol)
        return;
    if (grow(d)) {
        b->failed = 1;
        tt_err_set(&b->err, TT_ENOMEM, "features: out of memory at row %zu", d->n);
        tt_engine_stop(e);
        return;
    }
    double *row = d->x + d->n * (size_t)d->width;
    if (tt_features_bar(b->f, bar, row, &b->err)) {
        b->failed = 1;
        tt_engine_stop(e);
        return;
    }
    size_t i = d->n++;
    d->open_ts[i] = bar->ts;
    d->close_ts[i] = bar->ts_init;
    d->open[i] = (double)bar->u.bar.open;
    d->high[i] = (double)bar->u.bar.high;
    d->low[i] = (double)bar->u.bar.low;
    d->close[i] = (double)bar->u.bar.close;
}

static void on_quote(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e;
    build *b = self;
    tt_ml_dataset *d = b->d;
    d->events++;
    if (!d->first_ts)
        d->first_ts = ev->ts;
    d->last_ts = ev->ts;
    if (ev->kind == TT_EV_QUOTE && ev->symbol == d->symbol) {
        d->quotes++;
        tt_features_quote(b->f, &ev->u.quote);
    }
}

int tt_ml_dataset_build(const tt_ml_data_cfg *cfg, tt_ml_dataset *out, tt_err *err)
{
    memset(out, 0, sizeof *out);
    const tt_instrument *ins;
    int rc = tt_instruments_require(cfg->instruments, cfg->symbol, &ins, err);
    if (rc)
        return rc;
    int n = cfg->features ? cfg->nfeatures : tt_feature_default_count();
    out->cols = malloc((size_t)n * sizeof *out->cols);
    if (!out->cols)
        return tt_err_set(err, TT_ENOMEM, "features: out of memory");
    for (int i = 0; i < n; i++)
        out->cols[i] = cfg->features ? cfg->features[i] : i;
    out->width = n;
    out->tf = cfg->tf;
    out->side = cfg->side;
    out->symbol = ins->id;

    build b;
    memset(&b, 0, sizeof b);
    b.d = out;
    tt_tape_reader *reader = NULL;
    tt_bars *bars = NULL;
    tt_engine *e = NULL;
    if ((rc = tt_features_new(&b.f, cfg->tf, out->cols, n, err)))
        goto done;
    tt_features_set_news(b.f, cfg->news, tt_currency_code(ins->base),
                         tt_currency_code(ins->quote));
    tt_source src;
    if (cfg->source) {
        src = *cfg->source;
    } else {
        const char *syms[2] = {ins->symbol, NULL};
        tt_tape_query q;
        memset(&q, 0, sizeof q);
        q.symbols = syms;
        q.kinds = 1u << TT_STREAM_QUOTE;
        q.from = cfg->from;
        q.to = cfg->to;
        if ((rc = tt_tape_reader_open(&reader, cfg->tape_dir, &q, cfg->instruments, err))) {
            tt_err_prefix(err, "data: ");
            goto done;
        }
        src = tt_tape_reader_source(reader);
    }
    tt_bar_sub sub = {ins->id, (uint8_t)cfg->tf, (uint8_t)cfg->side};
    if ((rc = tt_bars_new(&bars, &sub, 1, NULL, err)))
        goto done;
    tt_bars_listen(bars, on_bar, &b);
    if (!(e = tt_engine_new(cfg->instruments))) {
        rc = tt_err_set(err, TT_ENOMEM, "features: out of memory (engine)");
        goto done;
    }
    tt_component tap;
    memset(&tap, 0, sizeof tap);
    tap.self = &b;
    tap.name = "features";
    tap.on_event = on_quote;
    tt_engine_set_source(e, src);
    tt_engine_add_component(e, tt_bars_component(bars));
    tt_engine_add_component(e, tap);
    rc = tt_engine_run(e, err);
    if (!rc && b.failed) {
        if (err)
            *err = b.err;
        rc = b.err.code;
    }
done:
    tt_engine_free(e);
    tt_bars_free(bars);
    if (reader)
        tt_tape_reader_close(reader);
    tt_features_free(b.f);
    return rc;
}

int tt_ml_dataset_label(tt_ml_dataset *d, const tt_label_spec *spec, tt_err *err)
{
    double *l = realloc(d->label, (d->n ? d->n : 1) * sizeof *l);
    if (!l)
        return tt_err_set(err, TT_ENOMEM, "labels: out of memory");
    d->label = l;
    return tt_labels_compute(spec, d->close, d->high, d->low, d->n, l, err);
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t dbits(double v)
{
    uint64_t u;
    if (isnan(v))
        v = NAN; /* one NaN pattern whatever produced it */
    memcpy(&u, &v, sizeof u);
    return u;
}

tt_fingerprint tt_ml_dataset_fingerprint(const tt_ml_dataset *d, const size_t *rows,
                                         size_t nrows)
{
    tt_fp_state *fp = tt_fp_new();
    tt_fingerprint out = {0, 0};
    if (!fp)
        return out;
    uint8_t b[8];
    for (size_t k = 0; k < nrows; k++) {
        size_t i = rows[k];
        put64(b, (uint64_t)d->open_ts[i]);
        tt_fp_update(fp, b, 8);
        const double *r = tt_ml_dataset_row(d, i);
        for (int j = 0; j < d->width; j++) {
            put64(b, dbits(r[j]));
            tt_fp_update(fp, b, 8);
        }
        put64(b, dbits(d->label ? d->label[i] : NAN));
        tt_fp_update(fp, b, 8);
    }
    out = tt_fp_digest(fp);
    tt_fp_free(fp);
    return out;
}

void tt_ml_dataset_free(tt_ml_dataset *d)
{
    free(d->cols);
    free(d->open_ts);
    free(d->close_ts);
    free(d->open);
    free(d->high);
    free(d->low);
    free(d->close);
    free(d->x);
    free(d->label);
    memset(d, 0, sizeof *d);
}
