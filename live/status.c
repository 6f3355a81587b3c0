/*
 * The status recorder (see status.h): the engine thread's own view of a
 * session, published for the status server.
 *
 * Hot counters are _Atomic fields written only by the engine thread with a
 * relaxed load and store (a plain mov on x86-64 and arm64: no lock prefix, no
 * fence), so a tick costs a few stores. The cold view (`work`) is private to
 * the engine thread; after an output changed it, it is copied whole into
 * `pub` under `mu`, where readers copy it out. The event ring has its own
 * lock and a condition variable for the SSE readers waiting on it.
 */
#include "status.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/order.h"
#include "../core/risk.h"
#include "wallclock.h"
#include "wire.h"

const double tt_status_lat_bounds[TT_STATUS_LAT_BUCKETS] = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
    0.0025,  0.005,    0.01,    0.025,  0.05,    0.1,    1.0,
};

typedef struct hot_quote {
    uint32_t symbol;
    _Atomic int64_t bid, ask, ts;
} hot_quote;

typedef struct ring_entry {
    uint64_t seq;
    char subject[48];
    char json[TT_STATUS_EVENT_MAX];
} ring_entry;

struct tt_status_rec {
    tt_status_opts o;
    tt_wallclock clock;
    /* hot: written by the engine thread only */
    _Atomic uint64_t inputs[TT_SI_N];
    _Atomic int64_t engine_now;
    _Atomic int nquotes;
    hot_quote quotes[TT_STATUS_SYMBOLS];
    tt_status_quote names[TT_STATUS_SYMBOLS]; /* symbol, digits, points; set before nquotes */
    int last_slot;
    tt_ts last_market_ts;
    tt_ts last_alert[16]; /* by rule: when it last raised an alert (repeats held back) */
    int eq_published;     /* equity points already in pub (the ring's tail is appended) */
    /* cold */
    tt_status_snapshot work;
    pthread_mutex_t mu;
    tt_status_snapshot pub;
    /* event ring */
    pthread_mutex_t rmu;
    pthread_cond_t rcv;
    ring_entry *ring;
    uint32_t cap;
    uint64_t next_seq; /* the seq of the next event; the ring holds [next - cap, next) */
    int woken;
};

static inline void hot_add(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

int tt_status_new(tt_status_rec **out, const tt_status_opts *o, tt_err *err)
{
    *out = NULL;
    if (!o)
        return tt_err_set(err, TT_EINVAL, "status: no options");
    tt_status_rec *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "status: out of memory");
    s->o = *o;
    s->cap = o->ring ? o->ring : 1024;
    s->ring = calloc(s->cap, sizeof *s->ring);
    if (!s->ring) {
        free(s);
        return tt_err_set(err, TT_ENOMEM, "status: out of memory (event ring)");
    }
    s->next_seq = 1;
    s->last_slot = -1;
    tt_wallclock_init(&s->clock);
    s->work.minor_per_unit = o->minor_per_unit > 0 ? o->minor_per_unit : 100;
    snprintf(s->work.currency, sizeof s->work.currency, "%s", o->currency ? o->currency : "USD");
    s->pub = s->work;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->rcv, &ca);
    pthread_condattr_destroy(&ca);
    *out = s;
    return TT_OK;
}

void tt_status_free(tt_status_rec *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->rcv);
    free(s->ring);
    free(s);
}

/* ---- the event ring ---- */

void tt_status_event_put(tt_status_rec *s, const char *subject, const char *json)
{
    pthread_mutex_lock(&s->rmu);
    ring_entry *e = &s->ring[s->next_seq % s->cap];
    e->seq = s->next_seq++;
    snprintf(e->subject, sizeof e->subject, "%s", subject);
    if (strlen(json) >= sizeof e->json)
        snprintf(e->json, sizeof e->json, "{\"truncated\":true}");
    else
        snprintf(e->json, sizeof e->json, "%s", json);
    pthread_cond_broadcast(&s->rcv);
    pthread_mutex_unlock(&s->rmu);
}

uint64_t tt_status_events_tail(tt_status_rec *s)
{
    pthread_mutex_lock(&s->rmu);
    uint64_t t = s->next_seq;
    pthread_mutex_unlock(&s->rmu);
    return t;
}

uint64_t tt_status_events_after(tt_status_rec *s, uint64_t id)
{
    pthread_mutex_lock(&s->rmu);
    uint64_t oldest = s->next_seq > s->cap ? s->next_seq - s->cap : 1;
    uint64_t c = id + 1 < oldest ? oldest : id + 1 > s->next_seq ? s->next_seq : id + 1;
    pthread_mutex_unlock(&s->rmu);
    return c;
}

void tt_status_events_wake(tt_status_rec *s)
{
    pthread_mutex_lock(&s->rmu);
    s->woken = 1;
    pthread_cond_broadcast(&s->rcv);
    pthread_mutex_unlock(&s->rmu);
}

long tt_status_events_read(tt_status_rec *s, uint64_t *cursor, char *buf, size_t cap, int wait_ms)
{
    pthread_mutex_lock(&s->rmu);
    if (wait_ms > 0 && *cursor >= s->next_seq && !s->woken) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (*cursor >= s->next_seq && !s->woken &&
               pthread_cond_timedwait(&s->rcv, &s->rmu, &until) != ETIMEDOUT)
            ;
    }
    uint64_t oldest = s->next_seq > s->cap ? s->next_seq - s->cap : 1;
    if (*cursor < oldest) {
        pthread_mutex_unlock(&s->rmu);
        return TT_ESTATE;
    }
    size_t used = 0;
    while (*cursor < s->next_seq) {
        const ring_entry *e = &s->ring[*cursor % s->cap];
        char one[TT_STATUS_EVENT_MAX + 128];
        int n = snprintf(one, sizeof one, "id: %llu\nevent: %s\ndata: %s\n\n",
                         (unsigned long long)e->seq, e->subject, e->json);
        if (n < 0 || used + (size_t)n > cap)
            break;
        memcpy(buf + used, one, (size_t)n);
        used += (size_t)n;
        (*cursor)++;
    }
    pthread_mutex_unlock(&s->rmu);
    return (long)used;
}

/* ---- readers ---- */

void tt_status_snapshot_get(tt_status_rec *s, tt_status_snapshot *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->pub;
    pthread_mutex_unlock(&s->mu);
}

void tt_status_hot_get(tt_status_rec *s, tt_status_hot *out)
{
    memset(out, 0, sizeof *out);
    for (int k = 0; k < TT_SI_N; k++)
        out->inputs[k] = atomic_load_explicit(&s->inputs[k], memory_order_relaxed);
    out->engine_now = atomic_load_explicit(&s->engine_now, memory_order_relaxed);
    int n = atomic_load_explicit(&s->nquotes, memory_order_acquire);
    out->nquotes = n;
    for (int i = 0; i < n; i++) {
        out->quotes[i] = s->names[i];
        out->quotes[i].bid = atomic_load_explicit(&s->quotes[i].bid, memory_order_relaxed);
        out->quotes[i].ask = atomic_load_explicit(&s->quotes[i].ask, memory_order_relaxed);
        out->quotes[i].ts = atomic_load_explicit(&s->quotes[i].ts, memory_order_relaxed);
    }
}

/* ---- the engine side ---- */

/* What changed since the last publication: the header (counters, account,
 * risk flags, histogram: everything before pos[]) is always copied; the
 * arrays only when they changed, and only their used part. A publication is
 * then about a kilobyte, not the whole struct. */
enum { PUB_POS = 1, PUB_ORD = 2, PUB_EQ = 4, PUB_ALERT = 8 };

static void publish(tt_status_rec *s, unsigned what)
{
    tt_status_snapshot *w = &s->work, *p = &s->pub;
    w->version++;
    pthread_mutex_lock(&s->mu);
    memcpy(p, w, offsetof(tt_status_snapshot, pos));
    if (what & PUB_POS)
        memcpy(p->pos, w->pos, sizeof w->pos[0] * (size_t)w->npos);
    p->npos = w->npos;
    if (what & PUB_ORD)
        memcpy(p->orders, w->orders, sizeof w->orders[0] * (size_t)w->norders);
    p->norders = w->norders;
    p->open_orders = w->open_orders;
    if (what & PUB_EQ) {
        int from = s->eq_published <= w->neq ? s->eq_published : 0; /* thinned: all again */
        memcpy(p->eq + from, w->eq + from, sizeof w->eq[0] * (size_t)(w->neq - from));
        s->eq_published = w->neq;
    }
    p->neq = w->neq;
    if (what & PUB_ALERT)
        memcpy(p->alerts, w->alerts, sizeof w->alerts);
    p->nalerts = w->nalerts;
    p->minor_per_unit = w->minor_per_unit;
    memcpy(p->currency, w->currency, sizeof p->currency);
    pthread_mutex_unlock(&s->mu);
}

static void emit(tt_status_rec *s, const char *subject, const char *json)
{
    tt_status_event_put(s, subject, json);
    if (s->o.on_event)
        s->o.on_event(s->o.on_event_ctx, subject, json);
}

static void alert_add(tt_status_rec *s, tt_ts ts, const char *subject, double value, double limit);

static const tt_instrument *instrument(const tt_status_rec *s, uint32_t symbol)
{
    return tt_instruments_get(s->o.ins, symbol);
}

static double price_units(const tt_instrument *in, tt_price p)
{
    return in && in->points > 0 ? (double)p / (double)in->points : (double)p;
}

static double lots(const tt_instrument *in, int64_t qty)
{
    return (double)qty * (in && in->volume_step > 0 ? in->volume_step : 1.0);
}

static int quote_slot(tt_status_rec *s, uint32_t symbol)
{
    if (s->last_slot >= 0 && s->quotes[s->last_slot].symbol == symbol)
        return s->last_slot;
    int n = atomic_load_explicit(&s->nquotes, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        if (s->quotes[i].symbol == symbol)
            return s->last_slot = i;
    if (n == TT_STATUS_SYMBOLS)
        return -1;
    const tt_instrument *in = instrument(s, symbol);
    s->quotes[n].symbol = symbol;
    snprintf(s->names[n].symbol, sizeof s->names[n].symbol, "%s", in ? in->symbol : "?");
    s->names[n].digits = in ? in->digits : 0;
    s->names[n].points = in ? in->points : 1;
    atomic_store_explicit(&s->nquotes, n + 1, memory_order_release);
    return s->last_slot = n;
}

static void on_input(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e;
    tt_status_rec *s = self;
    int k;
    switch (ev->kind) {
    case TT_EV_QUOTE: k = TT_SI_QUOTE; break;
    case TT_EV_TRADE: k = TT_SI_TRADE; break;
    case TT_EV_BAR: k = TT_SI_BAR; break;
    case TT_EV_EXTERNAL: case TT_EV_BLOB: k = TT_SI_EXTERNAL; break;
    case TT_EV_CONTROL: k = TT_SI_CONTROL; break;
    case TT_EV_ORDER_EVENT: k = TT_SI_VENUE; break;
    case TT_EV_TIMER: k = TT_SI_TIMER; break;
    default: k = TT_SI_OTHER; break;
    }
    hot_add(&s->inputs[k]);
    atomic_store_explicit(&s->engine_now, ev->ts, memory_order_relaxed);
    if (ev->cls == TT_CLS_MARKET)
        s->last_market_ts = ev->ts;
    if (ev->kind == TT_EV_QUOTE) {
        int i = quote_slot(s, ev->symbol);
        if (i >= 0) {
            atomic_store_explicit(&s->quotes[i].bid, ev->u.quote.bid, memory_order_relaxed);
            atomic_store_explicit(&s->quotes[i].ask, ev->u.quote.ask, memory_order_relaxed);
            atomic_store_explicit(&s->quotes[i].ts, ev->ts, memory_order_relaxed);
        }
    } else if (ev->kind == TT_EV_CONTROL && ev->u.control.op == TT_CTL_KILL && !s->work.killed) {
        s->work.killed = 1;
        s->work.halted = 1;
        char json[128];
        snprintf(json, sizeof json, "{\"ts\":%lld,\"rule\":\"kill_switch\"}", (long long)ev->ts);
        alert_add(s, ev->ts, "risk.alert.kill_switch", 0, 0);
        emit(s, "risk.alert.kill_switch", json);
        publish(s, PUB_ALERT);
    }
}

/* The order's row in the open list, or -1. */
static int order_find(const tt_status_snapshot *w, uint64_t client_id)
{
    for (int i = 0; i < w->norders; i++)
        if (w->orders[i].client_id == client_id)
            return i;
    return -1;
}

static void order_submitted(tt_status_rec *s, const tt_event *ev)
{
    tt_status_snapshot *w = &s->work;
    const tt_order_cmd *c = &ev->u.order_cmd;
    w->order_cmds++;
    w->open_orders++;
    if (w->norders < TT_STATUS_ORDERS) {
        const tt_instrument *in = instrument(s, ev->symbol);
        tt_status_order *o = &w->orders[w->norders++];
        memset(o, 0, sizeof *o);
        o->client_id = c->client_id;
        snprintf(o->symbol, sizeof o->symbol, "%s", in ? in->symbol : "?");
        o->digits = in ? in->digits : 0;
        o->points = in ? in->points : 1;
        o->volume_step = in && in->volume_step > 0 ? in->volume_step : 1;
        o->side = c->side;
        o->type = c->type;
        o->status = TT_OS_PENDING;
        o->qty = c->qty;
        o->leaves = c->qty;
        o->price = c->type == TT_ORD_STOP ? c->stop_price : c->price;
        o->ts = ev->ts;
    }
    /* tick-to-trade: the last tick's arrival stamp to this command, wall clock */
    if (s->last_market_ts > 0) {
        double lat = (double)(tt_wallclock_now(&s->clock) - s->last_market_ts) / 1e9;
        if (lat < 0)
            lat = 0;
        int b = 0;
        while (b < TT_STATUS_LAT_BUCKETS && lat > tt_status_lat_bounds[b])
            b++;
        w->lat_buckets[b]++;
        w->lat_count++;
        w->lat_sum += lat;
    }
}

static void position_fill(tt_status_rec *s, uint32_t symbol, int side, int64_t qty, tt_price price)
{
    tt_status_snapshot *w = &s->work;
    const tt_instrument *in = instrument(s, symbol);
    const char *name = in ? in->symbol : "?";
    int i = 0;
    while (i < w->npos && strcmp(w->pos[i].symbol, name))
        i++;
    if (i == w->npos) {
        if (w->npos == TT_STATUS_SYMBOLS)
            return;
        tt_status_position *p = &w->pos[w->npos++];
        memset(p, 0, sizeof *p);
        snprintf(p->symbol, sizeof p->symbol, "%s", name);
        p->digits = in ? in->digits : 0;
        p->points = in ? in->points : 1;
        p->volume_step = in && in->volume_step > 0 ? in->volume_step : 1;
    }
    tt_status_position *p = &w->pos[i];
    double px = price_units(in, price);
    int64_t d = side > 0 ? qty : -qty;
    int64_t q = p->qty, nq = q + d;
    if (q == 0 || (q > 0) == (d > 0)) /* opening or adding: weighted average */
        p->avg_price = (p->avg_price * (double)llabs(q) + px * (double)qty) / (double)llabs(nq);
    else if (nq != 0 && (nq > 0) != (q > 0)) /* reversed: the rest opens at the fill */
        p->avg_price = px;
    else if (nq == 0)
        p->avg_price = 0;
    p->qty = nq;
}

static void order_event(tt_status_rec *s, const tt_event *ev)
{
    tt_status_snapshot *w = &s->work;
    const tt_order_event *oe = &ev->u.order_ev;
    if (oe->status < 16)
        w->by_status[oe->status]++;
    int i = order_find(w, oe->client_id);
    if (i >= 0) {
        w->orders[i].status = oe->status;
        w->orders[i].leaves = oe->leaves_qty;
    }
    if (tt_order_status_terminal(oe->status) && oe->client_id) {
        if (i >= 0) {
            memmove(&w->orders[i], &w->orders[i + 1], sizeof w->orders[0] * (size_t)(w->norders - i - 1));
            w->norders--;
        }
        if (w->open_orders)
            w->open_orders--;
    }
    if (!oe->fill_qty)
        return;
    w->fills++;
    w->fill_volume += oe->fill_qty;
    position_fill(s, ev->symbol, oe->side, oe->fill_qty, oe->fill_price);
    const tt_instrument *in = instrument(s, ev->symbol);
    char json[TT_STATUS_EVENT_MAX];
    snprintf(json, sizeof json,
             "{\"ts\":%lld,\"symbol\":\"%s\",\"side\":\"%s\",\"lots\":%.8g,\"price\":%.*f,"
             "\"client_id\":%llu,\"ticket\":%llu,\"status\":\"%s\"}",
             (long long)ev->ts, in ? in->symbol : "?", oe->side > 0 ? "buy" : "sell",
             lots(in, oe->fill_qty), in ? in->digits : 5, price_units(in, oe->fill_price),
             (unsigned long long)oe->client_id, (unsigned long long)oe->venue_id,
             tt_order_status_name(oe->status));
    emit(s, "fill", json);
}

/* A halting rule refuses every order after it fired: one alert per rule and
 * minute of engine time (the kill switch, which is for good: one alert), not
 * one per refusal; every refusal is still counted. */
static int alert_due(tt_status_rec *s, const tt_event *ev)
{
    int rule = ev->u.risk.rule;
    if (rule == TT_RULE_KILL_SWITCH && s->work.killed)
        return 0;
    if (s->last_alert[rule] && ev->ts - s->last_alert[rule] < 60 * TT_NS_PER_SEC)
        return 0;
    s->last_alert[rule] = ev->ts;
    return 1;
}

static void alert_add(tt_status_rec *s, tt_ts ts, const char *subject, double value, double limit)
{
    tt_status_snapshot *w = &s->work;
    if (w->nalerts == TT_STATUS_ALERTS)
        memmove(w->alerts, w->alerts + 1, sizeof w->alerts[0] * (TT_STATUS_ALERTS - 1));
    else
        w->nalerts++;
    tt_status_alert *a = &w->alerts[w->nalerts - 1];
    memset(a, 0, sizeof *a);
    a->ts = ts;
    snprintf(a->subject, sizeof a->subject, "%s", subject);
    a->value = value;
    a->limit = limit;
    w->alerts_total++;
}

static void risk_decision(tt_status_rec *s, const tt_event *ev)
{
    tt_status_snapshot *w = &s->work;
    const tt_risk *r = &ev->u.risk;
    if (r->approved)
        return;
    w->risk_rejects++;
    if (r->rule < 16)
        w->rejects_by_rule[r->rule]++;
    if (r->rule == TT_RULE_DAILY_LOSS || r->rule == TT_RULE_MAX_DRAWDOWN ||
        r->rule == TT_RULE_KILL_SWITCH)
        w->halted = 1;
    char subj[4][TT_WIRE_SUBJECT_MAX];
    int n = tt_wire_output_subjects(s->o.ins, ev, subj, 4);
    int due = -1;
    for (int k = 0; k < n; k++) {
        if (strncmp(subj[k], "risk.alert.", 11) && strncmp(subj[k], "performance.alert.", 18))
            continue;
        if (due < 0)
            due = r->rule < 16 && alert_due(s, ev);
        if (!due)
            return;
        if (r->rule == TT_RULE_KILL_SWITCH)
            w->killed = 1;
        alert_add(s, ev->ts, subj[k], r->value, r->limit);
        char json[TT_STATUS_EVENT_MAX];
        snprintf(json, sizeof json, "{\"ts\":%lld,\"rule\":\"%s\",\"value\":%.10g,\"limit\":%.10g}",
                 (long long)ev->ts, tt_risk_rule_name(r->rule), r->value, r->limit);
        emit(s, subj[k], json);
    }
}

static void equity_point(tt_status_rec *s, const tt_event *ev)
{
    tt_status_snapshot *w = &s->work;
    const tt_equity *q = &ev->u.equity;
    if (!w->have_equity)
        w->initial_balance = q->balance;
    w->have_equity = 1;
    w->balance = q->balance;
    w->equity = q->equity;
    w->margin = q->margin;
    w->free_margin = q->free_margin;
    if (w->neq == TT_STATUS_EQUITY) { /* thin: keep every other point */
        for (int i = 0; i < TT_STATUS_EQUITY / 2; i++)
            w->eq[i] = w->eq[2 * i + 1];
        w->neq = TT_STATUS_EQUITY / 2;
        s->eq_published = 0; /* copied whole at the next publication */
    }
    w->eq[w->neq++] = (tt_status_equity_pt){ev->ts, q->balance, q->equity};
    char json[TT_STATUS_EVENT_MAX];
    double m = (double)w->minor_per_unit;
    snprintf(json, sizeof json,
             "{\"ts\":%lld,\"balance\":%.2f,\"equity\":%.2f,\"margin\":%.2f,\"free_margin\":%.2f}",
             (long long)ev->ts, (double)q->balance / m, (double)q->equity / m,
             (double)q->margin / m, (double)q->free_margin / m);
    emit(s, "equity", json);
}

static int on_output(void *self, const tt_event *ev, tt_err *err)
{
    (void)err;
    tt_status_rec *s = self;
    tt_status_snapshot *w = &s->work;
    w->outputs++;
    unsigned what = 0;
    switch (ev->kind) {
    case TT_EV_ORDER_CMD:
        if (ev->u.order_cmd.cmd == TT_CMD_SUBMIT)
            order_submitted(s, ev);
        else
            w->cancels++;
        what = PUB_ORD;
        break;
    case TT_EV_ORDER_EVENT:
        order_event(s, ev);
        what = PUB_ORD | (ev->u.order_ev.fill_qty ? PUB_POS : 0);
        break;
    case TT_EV_RISK:
        risk_decision(s, ev);
        what = PUB_ALERT;
        break;
    case TT_EV_EQUITY:
        equity_point(s, ev);
        what = PUB_EQ;
        break;
    case TT_EV_SIGNAL: w->signals++; return TT_OK; /* counters: go out with the next */
    case TT_EV_BAR: w->bars++; return TT_OK;
    default: return TT_OK;
    }
    publish(s, what);
    return TT_OK;
}

tt_component tt_status_component(tt_status_rec *s)
{
    return (tt_component){.self = s, .name = "status", .on_event = on_input};
}

tt_sink tt_status_sink(tt_status_rec *s)
{
    return (tt_sink){.self = s, .write = on_output};
}
