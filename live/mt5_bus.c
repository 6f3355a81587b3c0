/*
 * The MT5 bridge on NATS (see mt5_bus.h): publishing broker replies, the
 * engine's NATS venue, and the connector service.
 *
 * The connector is an MT5 venue with no engine: bus commands go straight
 * into the venue's command(), and what the venue emits into its inbox (order
 * events, the terminal's quotes) is drained by one pump thread onto the bus.
 * The NATS venue is the mirror image on the engine's side: command()
 * publishes, a subscription pushes the answers into the session's inbox,
 * where they are journaled before the engine sees them.
 */
#include "mt5_bus.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logline.h"
#include "nats_conn.h"
#include "../core/order.h"
#include "../core/portfolio.h"
#include "wallclock.h"
#include "wire.h"

static const char *const ORDER_EVENT_TYPE = "ticktape.OrderEvent";
static const char *const ORDER_CMD_TYPE = "ticktape.OrderCommand";

/* The symbol of a subject "a.b.SYMBOL" (after the second dot), or NULL. */
static const char *subject_symbol(const char *subj)
{
    const char *d = strchr(subj, '.');
    d = d ? strchr(d + 1, '.') : NULL;
    return d && d[1] ? d + 1 : NULL;
}

static int publish(natsConnection *nc, const char *subj, const char *type, uint64_t tag,
                   const void *data, size_t len, tt_err *err)
{
    natsMsg *m = NULL;
    char t[24];
    snprintf(t, sizeof t, "%" PRIu64, tag);
    natsStatus st = natsMsg_Create(&m, subj, NULL, data, (int)len);
    if (st == NATS_OK)
        st = natsMsgHeader_Set(m, TT_MT5_HDR_TYPE, type);
    if (st == NATS_OK)
        st = natsMsgHeader_Set(m, TT_MT5_HDR_SESSION, t);
    if (st == NATS_OK)
        st = natsConnection_PublishMsg(nc, m);
    natsMsg_Destroy(m);
    if (st != NATS_OK)
        return tt_err_set(err, TT_ENET, "nats: publish on %s: %s", subj, natsStatus_GetText(st));
    return TT_OK;
}

/* The header value, or NULL. */
static const char *header(natsMsg *m, const char *key)
{
    const char *v = NULL;
    return natsMsgHeader_Get(m, key, &v) == NATS_OK ? v : NULL;
}

int tt_mt5_bus_publish_event(natsConnection *nc, const tt_instruments *ins, uint64_t tag,
                             const tt_event *ev, tt_err *err)
{
    const tt_instrument *in = tt_instruments_get(ins, ev->symbol);
    if (!in || ev->kind != TT_EV_ORDER_EVENT)
        return tt_err_set(err, TT_EINVAL, "bus: not an order event of a known symbol");
    const tt_order_event *o = &ev->u.order_ev;
    const char *kind = o->fill_qty > 0 ? "fill"
                       : o->status == TT_OS_REJECTED || o->status == TT_OS_FAILED ? "error"
                                                                                  : "order";
    char subj[TT_WIRE_SUBJECT_MAX];
    snprintf(subj, sizeof subj, "broker.%s.%s", kind, in->symbol);
    uint8_t buf[TT_WIRE_MSG_MAX];
    size_t len = tt_wire_output_encode(ins, ev, buf, sizeof buf);
    if (!len)
        return tt_err_set(err, TT_EINVAL, "bus: order event without a wire form");
    return publish(nc, subj, ORDER_EVENT_TYPE, tag, buf, len, err);
}

int tt_mt5_bus_publish_report(natsConnection *nc, uint64_t tag, const tt_mt5_report *r,
                              tt_err *err)
{
    char subj[TT_WIRE_SUBJECT_MAX], json[1024], text[700];
    snprintf(subj, sizeof subj, "broker.%s.%s", r->fill ? "fill" : "error",
             r->symbol && r->symbol[0] ? r->symbol : "_");
    size_t k = 0;
    for (const char *p = r->text ? r->text : ""; *p && k + 2 < sizeof text; p++) {
        if (*p == '"' || *p == '\\')
            text[k++] = '\\';
        text[k++] = (unsigned char)*p < 0x20 ? ' ' : *p;
    }
    text[k] = 0;
    int n = snprintf(json, sizeof json,
                     "{\"symbol\":\"%s\",\"client_id\":%" PRIu64 ",\"retcode\":%u,\"text\":\"%s\"}",
                     r->symbol ? r->symbol : "", r->client_id, r->retcode, text);
    return publish(nc, subj, "application/json", tag, json, (size_t)n, err);
}

/* ---- the NATS venue ---- */

typedef struct working {
    uint64_t cid;
    uint32_t sym;
} working;

struct tt_nats_venue {
    tt_nats_venue_opts o;
    natsSubscription *subs[3];
    pthread_mutex_t mu;
    uint64_t tag;
    working *w;
    size_t nw, capw;
    atomic_ullong answers, foreign;
};

#define venue_log(v, ...) tt_logline((v)->o.log, (v)->o.ctx, __VA_ARGS__)

static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    tt_nats_venue *v = closure;
    const char *type = header(m, TT_MT5_HDR_TYPE), *sess = header(m, TT_MT5_HDR_SESSION);
    pthread_mutex_lock(&v->mu);
    uint64_t tag = v->tag;
    pthread_mutex_unlock(&v->mu);
    if (!type || !sess || strtoull(sess, NULL, 10) != tag || !tag) {
        atomic_fetch_add(&v->foreign, 1);
    } else if (!strcmp(type, ORDER_EVENT_TYPE)) {
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        tt_err err;
        const char *sym = subject_symbol(natsMsg_GetSubject(m));
        const tt_instrument *in = sym ? tt_instruments_find(v->o.ins, sym) : NULL;
        if (!in || tt_wire_order_event_decode(natsMsg_GetData(m),
                                              (size_t)natsMsg_GetDataLength(m), &ev, &err)) {
            tt_inbox_reject(v->o.inbox, natsMsg_GetSubject(m), in ? err.msg : "unknown symbol");
        } else {
            ev.kind = TT_EV_ORDER_EVENT;
            ev.symbol = in->id;
            tt_inbox_push(v->o.inbox, &ev, NULL, 0);
            atomic_fetch_add(&v->answers, 1);
        }
    } else {
        venue_log(v, "%s: %.*s", natsMsg_GetSubject(m), natsMsg_GetDataLength(m),
                  natsMsg_GetData(m));
    }
    natsMsg_Destroy(m);
}

static int send_cmd(tt_nats_venue *v, const tt_event *cmd, tt_err *err)
{
    const tt_instrument *in = tt_instruments_get(v->o.ins, cmd->symbol);
    if (!in)
        return tt_err_set(err, TT_EINVAL, "nats venue: unknown symbol %u", cmd->symbol);
    char subj[TT_WIRE_SUBJECT_MAX];
    snprintf(subj, sizeof subj, "orders.submitted.%s", in->symbol);
    uint8_t buf[TT_WIRE_MSG_MAX];
    size_t len = tt_wire_output_encode(v->o.ins, cmd, buf, sizeof buf);
    if (!len)
        return tt_err_set(err, TT_EINVAL, "nats venue: command without a wire form");
    pthread_mutex_lock(&v->mu);
    uint64_t tag = v->tag;
    pthread_mutex_unlock(&v->mu);
    return publish(v->o.nc, subj, ORDER_CMD_TYPE, tag, buf, len, err);
}

static int nv_command(void *self, const tt_event *cmd, tt_err *err)
{
    return send_cmd(self, cmd, err);
}

static void nv_arrival(void *self, const tt_event *ev)
{
    tt_nats_venue *v = self;
    pthread_mutex_lock(&v->mu);
    if (!v->tag)
        v->tag = (uint64_t)(ev->ts / TT_NS_PER_SEC) & 0x7fffffffu;
    if (ev->kind == TT_EV_ORDER_EVENT && ev->u.order_ev.client_id) {
        const tt_order_event *o = &ev->u.order_ev;
        size_t i = 0;
        while (i < v->nw && v->w[i].cid != o->client_id)
            i++;
        if (tt_order_status_terminal(o->status) && i < v->nw) {
            v->w[i] = v->w[--v->nw];
        } else if (!tt_order_status_terminal(o->status) && i == v->nw) {
            if (v->nw == v->capw) {
                size_t cap = v->capw ? 2 * v->capw : 16;
                working *p = realloc(v->w, cap * sizeof *p);
                if (p) {
                    v->w = p;
                    v->capw = cap;
                }
            }
            if (v->nw < v->capw)
                v->w[v->nw++] = (working){o->client_id, ev->symbol};
        }
    }
    pthread_mutex_unlock(&v->mu);
}

static void nv_market(void *self, const tt_event *ev)
{
    tt_nats_venue *v = self;
    pthread_mutex_lock(&v->mu);
    if (!v->tag)
        v->tag = (uint64_t)(ev->ts / TT_NS_PER_SEC) & 0x7fffffffu;
    pthread_mutex_unlock(&v->mu);
}

int tt_nats_venue_new(tt_nats_venue **out, const tt_nats_venue_opts *o, tt_err *err)
{
    *out = NULL;
    if (!o->nc || !o->ins || !o->inbox)
        return tt_err_set(err, TT_EINVAL, "nats venue: connection, instruments and inbox needed");
    tt_nats_venue *v = calloc(1, sizeof *v);
    if (!v)
        return tt_err_set(err, TT_ENOMEM, "nats venue: out of memory");
    v->o = *o;
    pthread_mutex_init(&v->mu, NULL);
    static const char *const subj[3] = {"broker.fill.>", "broker.error.>", "broker.order.>"};
    for (int i = 0; i < 3; i++) {
        natsStatus st = natsConnection_Subscribe(&v->subs[i], o->nc, subj[i], on_reply, v);
        if (st != NATS_OK) {
            tt_nats_venue_free(v);
            return tt_err_set(err, TT_ENET, "nats venue: subscribe %s: %s", subj[i],
                              natsStatus_GetText(st));
        }
    }
    *out = v;
    return TT_OK;
}

tt_venue tt_nats_venue_port(tt_nats_venue *v)
{
    tt_venue p;
    memset(&p, 0, sizeof p);
    p.self = v;
    p.command = nv_command;
    p.on_arrival = nv_arrival;
    p.on_market = nv_market;
    return p;
}

void tt_nats_venue_kill(tt_nats_venue *v)
{
    pthread_mutex_lock(&v->mu);
    size_t n = v->nw;
    working *w = n ? malloc(n * sizeof *w) : NULL;
    if (w)
        memcpy(w, v->w, n * sizeof *w);
    pthread_mutex_unlock(&v->mu);
    for (size_t i = 0; w && i < n; i++) {
        tt_event c;
        memset(&c, 0, sizeof c);
        c.kind = TT_EV_ORDER_CMD;
        c.symbol = w[i].sym;
        c.u.order_cmd.client_id = w[i].cid;
        c.u.order_cmd.cmd = TT_CMD_CANCEL;
        tt_err err;
        if (send_cmd(v, &c, &err))
            venue_log(v, "kill switch: cancel of order %" PRIu64 ": %s", w[i].cid, err.msg);
    }
    free(w);
}

void tt_nats_venue_free(tt_nats_venue *v)
{
    if (!v)
        return;
    for (int i = 0; i < 3; i++) /* no callback runs after this */
        if (v->subs[i] && natsSubscription_Drain(v->subs[i]) == NATS_OK)
            natsSubscription_WaitForDrainCompletion(v->subs[i], 2000);
    for (int i = 0; i < 3; i++)
        natsSubscription_Destroy(v->subs[i]);
    pthread_mutex_destroy(&v->mu);
    free(v->w);
    free(v);
}

/* ---- the connector ---- */

struct tt_mt5_connector {
    tt_mt5_connector_opts o;
    tt_instruments *ins;
    natsConnection *nc;
    natsSubscription *sub;
    tt_wallclock clk;
    tt_inbox *q;
    tt_mt5_venue *v;
    tt_venue port;
    pthread_t pump;
    int pumping;
    pthread_mutex_t mu;
    uint64_t tag;
    atomic_ullong published;
};

#define conn_log(c, ...) tt_logline((c)->o.log, (c)->o.ctx, __VA_ARGS__)

static void refuse(tt_mt5_connector *c, uint64_t tag, const tt_event *cmd, const char *why)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_ORDER_EVENT;
    ev.symbol = cmd->symbol;
    ev.u.order_ev.client_id = cmd->u.order_cmd.client_id;
    ev.u.order_ev.status = TT_OS_REJECTED;
    ev.u.order_ev.reason = TT_REASON_BROKER;
    ev.u.order_ev.side = cmd->u.order_cmd.side;
    ev.u.order_ev.type = cmd->u.order_cmd.type;
    ev.u.order_ev.leaves_qty = cmd->u.order_cmd.qty;
    conn_log(c, "order %" PRIu64 " of session %" PRIu64 " refused: %s",
             cmd->u.order_cmd.client_id, tag, why);
    if (!tt_mt5_bus_publish_event(c->nc, c->ins, tag, &ev, NULL))
        atomic_fetch_add(&c->published, 1);
}

static void on_command(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    tt_mt5_connector *c = closure;
    const char *type = header(m, TT_MT5_HDR_TYPE), *sess = header(m, TT_MT5_HDR_SESSION);
    if (!type || strcmp(type, ORDER_CMD_TYPE) || !sess) {
        natsMsg_Destroy(m); /* an order event of some session's sink, not an order */
        return;
    }
    uint64_t tag = strtoull(sess, NULL, 10) & 0x7fffffffu;
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    tt_err err;
    const char *sym = subject_symbol(natsMsg_GetSubject(m));
    const tt_instrument *in = sym ? tt_instruments_find(c->ins, sym) : NULL;
    int bad = !in || !tag ||
              tt_wire_order_cmd_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
                                       &ev, &err);
    natsMsg_Destroy(m);
    if (bad) {
        conn_log(c, "a command that is not an order of a served symbol was ignored");
        return;
    }
    ev.symbol = in->id;
    pthread_mutex_lock(&c->mu);
    if (!c->tag) {
        c->tag = tag;
        tt_mt5_venue_set_session(c->v, tag, 0);
        conn_log(c, "serving engine session %" PRIu64, tag);
    }
    uint64_t served = c->tag;
    pthread_mutex_unlock(&c->mu);
    if (tag != served) {
        refuse(c, tag, &ev, "this connector serves another engine session");
        return;
    }
    if (c->port.command(c->port.self, &ev, &err))
        refuse(c, tag, &ev, err.msg);
}

static void on_report(void *ctx, const tt_mt5_report *r)
{
    tt_mt5_connector *c = ctx;
    if (r->fill) /* fills go out as order events */
        return;
    pthread_mutex_lock(&c->mu);
    uint64_t tag = c->tag;
    pthread_mutex_unlock(&c->mu);
    if (!tt_mt5_bus_publish_report(c->nc, tag, r, NULL))
        atomic_fetch_add(&c->published, 1);
}

static void *pump_main(void *arg)
{
    tt_mt5_connector *c = arg;
    tt_source src = tt_inbox_source(c->q);
    tt_event ev;
    tt_err err;
    for (;;) {
        int rc = src.next(src.self, &ev, &err);
        if (rc == TT_SRC_END || rc < 0)
            break;
        if (rc != TT_SRC_EVENT)
            continue;
        pthread_mutex_lock(&c->mu);
        uint64_t tag = c->tag;
        pthread_mutex_unlock(&c->mu);
        if (ev.kind == TT_EV_ORDER_EVENT) {
            if (!tt_mt5_bus_publish_event(c->nc, c->ins, tag, &ev, &err))
                atomic_fetch_add(&c->published, 1);
            else
                conn_log(c, "%s", err.msg);
        } else if (ev.kind == TT_EV_QUOTE && c->o.publish_ticks) {
            const tt_instrument *in = tt_instruments_get(c->ins, ev.symbol);
            uint8_t buf[256];
            ev.ts = ev.ts_init; /* TickData carries the broker's time */
            size_t len = in ? tt_wire_tick_encode(c->ins, &ev, buf, sizeof buf) : 0;
            char subj[TT_WIRE_SUBJECT_MAX];
            snprintf(subj, sizeof subj, "ticks.%s", in ? in->symbol : "_");
            if (len && natsConnection_Publish(c->nc, subj, buf, (int)len) == NATS_OK)
                atomic_fetch_add(&c->published, 1);
        }
    }
    return NULL;
}

static void venue_log_cb(void *ctx, const char *line)
{
    tt_mt5_connector *c = ctx;
    if (c->o.log)
        c->o.log(c->o.ctx, line);
}

static void venue_wire_cb(void *ctx, int dir, const char *line, size_t len)
{
    tt_mt5_connector *c = ctx;
    if (c->o.on_wire)
        c->o.on_wire(c->o.ctx, dir, line, len);
}

int tt_mt5_connector_open(tt_mt5_connector **out, const tt_mt5_connector_opts *o, tt_err *err)
{
    *out = NULL;
    tt_mt5_connector *c = calloc(1, sizeof *c);
    if (!c)
        return tt_err_set(err, TT_ENOMEM, "mt5-connector: out of memory");
    c->o = *o;
    pthread_mutex_init(&c->mu, NULL);
    tt_wallclock_init(&c->clk);
    c->ins = tt_instruments_new();
    int rc = c->ins ? TT_OK : tt_err_set(err, TT_ENOMEM, "mt5-connector: out of memory");
    if (!rc && (rc = tt_nats_connect(&c->nc, o->nats_url, o->nats_auth, "ticktape-mt5-connector",
                                     err)))
        tt_err_prefix(err, "mt5-connector: ");
    tt_inbox_opts io;
    memset(&io, 0, sizeof io);
    io.clock = &c->clk;
    if (!rc)
        rc = tt_inbox_new(&c->q, &io, err);
    if (!rc) {
        tt_mt5_venue_opts vo;
        memset(&vo, 0, sizeof vo);
        vo.ins = c->ins;
        vo.inbox = c->q;
        vo.host = o->host;
        vo.port = o->port;
        vo.secret = o->secret;
        vo.tls_cert = o->tls_cert;
        vo.tls_key = o->tls_key;
        vo.hb_ms = o->hb_ms;
        vo.symbols = o->symbols;
        vo.mode = o->mode;
        vo.answer_ms = o->answer_ms;
        vo.stale_ms = o->stale_ms;
        vo.no_reconcile = 1;
        vo.on_report = on_report;
        vo.on_wire = venue_wire_cb;
        vo.log = venue_log_cb;
        vo.ctx = c;
        rc = tt_mt5_venue_new(&c->v, &vo, err);
    }
    if (!rc) {
        c->port = tt_mt5_venue_port(c->v);
        tt_mt5_venue_set_session(c->v, 0, tt_wallclock_now(&c->clk));
        rc = tt_mt5_venue_start(c->v, err);
    }
    if (!rc && pthread_create(&c->pump, NULL, pump_main, c))
        rc = tt_err_set(err, TT_ENOMEM, "mt5-connector: cannot start its thread");
    c->pumping = !rc;
    if (!rc) {
        natsStatus st = natsConnection_Subscribe(&c->sub, c->nc, "orders.submitted.>", on_command, c);
        if (st != NATS_OK)
            rc = tt_err_set(err, TT_ENET, "mt5-connector: subscribe orders.submitted.>: %s",
                            natsStatus_GetText(st));
    }
    if (rc) {
        tt_mt5_connector_close(c);
        return rc;
    }
    *out = c;
    return TT_OK;
}

int tt_mt5_connector_port(tt_mt5_connector *c) { return tt_mt5_venue_listen_port(c->v); }

void tt_mt5_connector_stats(tt_mt5_connector *c, tt_mt5_venue_stats *out, uint64_t *published)
{
    tt_mt5_venue_stats_get(c->v, out);
    if (published)
        *published = atomic_load(&c->published);
}

void tt_mt5_connector_close(tt_mt5_connector *c)
{
    if (!c)
        return;
    if (c->sub) { /* no command callback runs after this */
        if (natsSubscription_Drain(c->sub) == NATS_OK)
            natsSubscription_WaitForDrainCompletion(c->sub, 2000);
        natsSubscription_Destroy(c->sub);
    }
    tt_mt5_venue_free(c->v); /* the terminal goes first: nothing more reaches the inbox */
    if (c->q)
        tt_inbox_stop(c->q);
    if (c->pumping)
        pthread_join(c->pump, NULL);
    if (c->nc) {
        natsConnection_FlushTimeout(c->nc, 2000);
        natsConnection_Destroy(c->nc);
    }
    tt_inbox_free(c->q);
    tt_instruments_free(c->ins);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
