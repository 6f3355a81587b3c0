/*
 * The feature publisher (features_pub.h): per stream a bar builder and a
 * feature engine, advanced on every event the engine dispatches (and, for a
 * signal being written, up to the engine's time), each closed bar's row
 * encoded once and published on NATS and produced to Kafka.
 *
 * Invariant: a stream's builder and engine see the events in the engine's
 * order, each bar closed before the event at or after its close time joins
 * the next one; advance() is idempotent for a given time, which is what lets
 * signal_row run it early.
 */
#include "features_pub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/bars.h"
#include "../core/external.h"
#include "../core/features.h"
#include "../data/calendar.h"
#include "wire.h"

typedef struct stream {
    tt_features_stream s;
    int cols[TT_WIRE_FEATURES_MAX];
    tt_bar_builder b;
    tt_features *f;
    double *row;
    int have_row;
    char subject[TT_WIRE_SUBJECT_MAX];
} stream;

struct tt_features_pub {
    tt_features_pub_opts o;
    stream st[TT_FEATURES_PUB_MAX];
    int n;
    tt_news *news;
    tt_engine *e;
    tt_nats_sink *nk;
    tt_kafka_sink *kk;
    atomic_int *gate;
    tt_features_pub_stats stats;
    uint8_t buf[TT_WIRE_FEATURES_MSG_MAX];
};

void tt_features_pub_free(tt_features_pub *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++) {
        tt_features_free(p->st[i].f);
        free(p->st[i].row);
    }
    tt_news_free(p->news);
    free(p);
}

static int add_stream(tt_features_pub *p, const tt_features_stream *in, tt_err *err)
{
    const tt_instrument *ins = tt_instruments_get(p->o.ins, in->symbol);
    if (!ins)
        return tt_err_set(err, TT_EINVAL, "features: stream %d: no symbol %u", p->n, in->symbol);
    if (in->ncols < 1 || in->ncols > TT_WIRE_FEATURES_MAX)
        return tt_err_set(err, TT_EINVAL, "features: stream %d: %d features (1 .. %d)", p->n,
                          in->ncols, TT_WIRE_FEATURES_MAX);
    stream *s = &p->st[p->n];
    s->s = *in;
    memcpy(s->cols, in->cols, (size_t)in->ncols * sizeof *s->cols);
    s->s.cols = s->cols;
    int rc = tt_bar_builder_init(&s->b, in->symbol, in->tf, in->side, err);
    if (!rc)
        rc = tt_features_new(&s->f, in->tf, s->cols, in->ncols, err);
    p->n++; /* freed with the others from here on */
    if (rc)
        return rc;
    if (!(s->row = malloc((size_t)in->ncols * sizeof *s->row)))
        return tt_err_set(err, TT_ENOMEM, "features: out of memory");
    tt_features_set_news(s->f, p->news, tt_currency_code(ins->base),
                         tt_currency_code(ins->quote));
    tt_wire_features_subject(ins->symbol, in->tf, s->subject, sizeof s->subject);
    return TT_OK;
}

int tt_features_pub_new(tt_features_pub **out, const tt_features_pub_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!opts || !opts->ins || opts->nstreams < 1 || opts->nstreams > TT_FEATURES_PUB_MAX)
        return tt_err_set(err, TT_EINVAL, "features: 1 to %d streams and instruments needed",
                          TT_FEATURES_PUB_MAX);
    tt_features_pub *p = calloc(1, sizeof *p);
    if (!p)
        return tt_err_set(err, TT_ENOMEM, "features: out of memory");
    p->o = *opts;
    int rc = tt_news_new(&p->news, err);
    if (!rc && opts->tape_dir && opts->external && opts->external[0] &&
        (rc = tt_external_schedule_load(p->news, opts->tape_dir, opts->external, err)))
        tt_err_prefix(err, "features: the release schedule: ");
    for (int i = 0; !rc && i < opts->nstreams; i++)
        rc = add_stream(p, &opts->streams[i], err);
    if (rc) {
        tt_features_pub_free(p);
        return rc;
    }
    *out = p;
    return TT_OK;
}

void tt_features_pub_set_outputs(tt_features_pub *p, tt_nats_sink *nk, tt_kafka_sink *kk,
                                 atomic_int *gate)
{
    p->nk = nk;
    p->kk = kk;
    p->gate = gate;
}

/* Publish stream s's row of bar. */
static void publish(tt_features_pub *p, stream *s, const tt_event *bar)
{
    if (!s->s.publish || (p->gate && !atomic_load(p->gate)) || (!p->nk && !p->kk))
        return;
    const tt_instrument *ins = tt_instruments_get(p->o.ins, s->s.symbol);
    tt_wire_features r = {ins->symbol, s->s.tf, s->s.side, bar->ts, bar->ts_init,
                          s->cols, s->row, s->s.ncols};
    size_t len;
    if (p->nk) {
        len = p->o.json ? tt_wire_features_json(&r, (char *)p->buf, sizeof p->buf)
                        : tt_wire_features_encode(&r, p->buf, sizeof p->buf);
        if (len && tt_nats_sink_publish_raw(p->nk, s->subject, p->buf, len) == TT_OK)
            p->stats.published++;
    }
    if (p->kk && (len = tt_wire_features_encode(&r, p->buf, sizeof p->buf))) {
        tt_err err;
        if (tt_kafka_sink_produce_raw(p->kk, TT_WIRE_FEATURES_TOPIC, ins->symbol, p->buf, len,
                                      bar->ts_init, "ticktape.FeatureRow", &err)) {
            if (p->e)
                tt_engine_fail(p->e, &err);
        } else {
            p->stats.produced++;
        }
    }
}

static void closed(tt_features_pub *p, stream *s, const tt_event *bar)
{
    if (tt_features_bar(s->f, bar, s->row, NULL))
        return; /* out of order: cannot happen, bars come from the builder in order */
    s->have_row = 1;
    p->stats.rows++;
    publish(p, s, bar);
}

/* Every bar closing at or before now. */
static void advance(tt_features_pub *p, tt_ts now)
{
    tt_event bar;
    for (int i = 0; i < p->n; i++)
        if (tt_bar_builder_close_until(&p->st[i].b, now, &bar))
            closed(p, &p->st[i], &bar);
}

static int on_start(void *self, tt_engine *e, tt_err *err)
{
    (void)err;
    ((tt_features_pub *)self)->e = e;
    return TT_OK;
}

static void on_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e;
    tt_features_pub *p = self;
    advance(p, ev->ts);
    if (ev->kind == TT_EV_EXTERNAL) {
        if (tt_news_add_event(p->news, ev) < 0) {
            tt_err err;
            tt_err_set(&err, TT_ENOMEM, "features: out of memory (news schedule)");
            tt_engine_fail(p->e, &err);
        }
        return;
    }
    if (ev->kind != TT_EV_QUOTE)
        return;
    for (int i = 0; i < p->n; i++) {
        stream *s = &p->st[i];
        if (ev->symbol != s->s.symbol)
            continue;
        tt_features_quote(s->f, &ev->u.quote);
        tt_event bar;
        if (tt_bar_builder_update(&s->b, ev, &bar, NULL) == 1)
            closed(p, s, &bar); /* cannot happen after advance(); kept for safety */
    }
}

tt_component tt_features_pub_component(tt_features_pub *p)
{
    tt_component c = {.self = p, .name = "features", .on_start = on_start, .on_event = on_event};
    return c;
}

const double *tt_features_pub_signal_row(void *self, const tt_event *ev, int *n)
{
    tt_features_pub *p = self;
    *n = 0;
    if (!p || ev->kind != TT_EV_SIGNAL || !ev->u.signal.has_model)
        return NULL;
    if (p->e)
        advance(p, tt_engine_now(p->e));
    for (int i = 0; i < p->n; i++) {
        stream *s = &p->st[i];
        if (s->s.model_id == ev->u.signal.model_id && s->s.symbol == ev->symbol && s->have_row) {
            *n = s->s.ncols;
            p->stats.attached++;
            return s->row;
        }
    }
    return NULL;
}

void tt_features_pub_stats_get(const tt_features_pub *p, tt_features_pub_stats *out)
{
    *out = p->stats;
}
