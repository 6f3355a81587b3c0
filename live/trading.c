/*
 * A live trading session (see live.h): the pieces of live/ around an engine
 * run. Three things are particular to live trading:
 *
 * The chained source. A session that continues a journal replays it first:
 * the journal reader's events, then the inbox's. The switch happens when the
 * reader ends: the outputs to NATS and Kafka are let through from then on,
 * a CONTROL START (arg 1 for a restart) is journaled as the first live
 * input, and the MT5 venue starts listening. Until then the venue only
 * records (replay mode), so nothing reaches the broker twice.
 *
 * The journal tap is the sync view (journal.h): a venue response is on disk
 * before the engine sees it; and before an order leaves, the journal is
 * flushed, so every input that led to an order the broker may hold is on
 * disk too (a restarted session's replay reproduces that order).
 *
 * The bridge frames go to Kafka's broker_communication_log through a
 * producer of their own (frames arrive on the link's thread and on the
 * engine's; one mutex orders them).
 */
#include "trading.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "logline.h"
#include "../core/order.h"
#include "../core/portfolio.h"
#include "journal.h"
#include "features_pub.h"
#include "kafka_sink.h"
#include "mt5_bus.h"
#include "mt5_link.h"
#include "nats_conn.h"
#include "nats_sink.h"
#include "nats_source.h"
#include "wallclock.h"

typedef struct gate {
    tt_sink inner;
    atomic_int *on;
} gate;

struct tt_trading {
    tt_trading_opts o;
    const tt_instruments *ins;
    tt_wallclock clk;
    tt_inbox *q;
    tt_journal *j;
    tt_journal_reader *jr;
    int resuming;
    tt_source jsrc, isrc;
    atomic_int live;          /* the journal is replayed: outputs flow, the venue runs */
    atomic_ullong replayed;
    tt_mt5_venue *mv;
    tt_nats_venue *nv;
    tt_nats_source *ns;
    natsConnection *nc, *own_nc;
    natsSubscription *ctl;
    tt_nats_sink *nk;
    tt_kafka_sink *kk, *wire;
    pthread_mutex_t wire_mu;
    gate gates[2];
    int ngates;
    tt_engine *e;
    atomic_ullong order_events, fills, wire_frames;
    atomic_int killed;
};

#define lg(l, ...) tt_logline((l)->o.log, (l)->o.log_ctx, __VA_ARGS__)

/* ---- hooks the venue calls ---- */

static void before_send(void *ctx)
{
    tt_trading *l = ctx;
    tt_err err;
    if (l->j && tt_journal_flush(l->j, &err))
        lg(l, "journal: %s", err.msg);
}

static void on_wire(void *ctx, int dir, const char *line, size_t len)
{
    tt_trading *l = ctx;
    if (!l->wire)
        return;
    pthread_mutex_lock(&l->wire_mu);
    tt_err err;
    if (!tt_kafka_sink_produce_raw(l->wire, "broker_communication_log",
                                   dir == TT_MT5_OUT ? "out" : "in", line, len,
                                   tt_wallclock_now(&l->clk), "mt5.frame", &err))
        atomic_fetch_add(&l->wire_frames, 1);
    pthread_mutex_unlock(&l->wire_mu);
}

/* broker.fill/error/order.{SYMBOL}: what the broker did, for the bus */
static void on_emit(void *ctx, uint64_t tag, const tt_event *ev)
{
    tt_trading *l = ctx;
    if (l->nc)
        tt_mt5_bus_publish_event(l->nc, l->ins, tag, ev, NULL);
}

static void on_report(void *ctx, const tt_mt5_report *r)
{
    tt_trading *l = ctx;
    if (l->nc && !r->fill)
        tt_mt5_bus_publish_report(l->nc, r->tag, r, NULL);
}

static void on_control(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    natsMsg_Destroy(m);
    tt_trading *l = closure;
    lg(l, "kill switch from NATS control.kill_switch");
    tt_trading_kill(l);
}

/* ---- the chained source ---- */

static int go_live(tt_trading *l, tt_err *err)
{
    (void)err;
    if (l->jr) {
        for (int i = 0; i < tt_journal_reader_warning_count(l->jr); i++)
            lg(l, "journal: %s", tt_journal_reader_warning(l->jr, i));
        tt_journal_reader_close(l->jr);
        l->jr = NULL;
        lg(l, "journal replayed (%llu events): live from here",
           (unsigned long long)atomic_load(&l->replayed));
    }
    atomic_store(&l->live, 1);
    tt_inbox_push_control(l->q, TT_CTL_START, l->resuming ? TT_TRADING_RESTART : TT_TRADING_START);
    if (l->mv) {
        int rc = tt_mt5_venue_start(l->mv, err);
        if (rc)
            return rc;
        lg(l, "waiting for the terminal on %s:%d", l->o.mt5_host, tt_mt5_venue_listen_port(l->mv));
    }
    return TT_OK;
}

static int chain_next(void *self, tt_event *ev, tt_err *err)
{
    tt_trading *l = self;
    if (!atomic_load(&l->live)) {
        if (l->jr) {
            int rc = l->jsrc.next(l->jsrc.self, ev, err);
            if (rc == TT_SRC_EVENT)
                atomic_fetch_add(&l->replayed, 1);
            if (rc != TT_SRC_END)
                return rc;
        }
        int rc = go_live(l, err);
        if (rc)
            return rc;
    }
    return l->isrc.next(l->isrc.self, ev, err);
}

tt_source tt_trading_source(tt_trading *l)
{
    tt_source s;
    memset(&s, 0, sizeof s);
    s.self = l;
    s.next = chain_next;
    return s;
}

tt_venue tt_trading_venue(tt_trading *l)
{
    return l->mv ? tt_mt5_venue_port(l->mv) : tt_nats_venue_port(l->nv);
}

tt_clock tt_trading_clock(tt_trading *l) { return tt_inbox_clock(l->q); }

static int hook_start(void *self, tt_engine *e, tt_err *err)
{
    (void)err;
    tt_trading *l = self;
    l->e = e;
    tt_inbox_watch(l->q, e);
    return TT_OK;
}

static void hook_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e;
    tt_trading *l = self;
    if (ev->kind == TT_EV_ORDER_EVENT) {
        atomic_fetch_add(&l->order_events, 1);
        if (ev->u.order_ev.fill_qty)
            atomic_fetch_add(&l->fills, 1);
    }
}

int tt_trading_components(tt_trading *l, tt_component *out, int max)
{
    int n = 0;
    if (n < max)
        out[n++] = (tt_component){.self = l, .name = "live", .on_start = hook_start,
                                  .on_event = hook_event};
    if (l->o.features && n < max)
        out[n++] = tt_features_pub_component(l->o.features);
    return n;
}

static int gate_write(void *self, const tt_event *ev, tt_err *err)
{
    gate *g = self;
    return atomic_load(g->on) ? g->inner.write(g->inner.self, ev, err) : TT_OK;
}

static int gate_flush(void *self, tt_err *err)
{
    gate *g = self;
    return g->inner.flush ? g->inner.flush(g->inner.self, err) : TT_OK;
}

int tt_trading_sinks(tt_trading *l, tt_sink *out, int max)
{
    int n = 0;
    for (int i = 0; i < l->ngates && n < max; i++)
        out[n++] = (tt_sink){.self = &l->gates[i], .write = gate_write, .flush = gate_flush};
    return n;
}

/* ---- open / close ---- */

static int open_journal(tt_trading *l, tt_err *err)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", l->o.journal_dir, TT_JOURNAL_SYMBOL);
    l->resuming = stat(path, &st) == 0;
    tt_journal_opts jo = {.fsync = l->o.journal_fsync, .background = 1, .resume = l->resuming};
    int rc = tt_journal_open(&l->j, l->o.journal_dir, l->ins, &jo, err); /* cuts a torn tail */
    if (!rc && l->resuming) {
        rc = tt_journal_reader_open(&l->jr, l->o.journal_dir, l->ins, err);
        if (!rc)
            l->jsrc = tt_journal_reader_source(l->jr);
    }
    if (!rc && l->resuming)
        lg(l, "%s holds a journal: replaying it, then continuing it", l->o.journal_dir);
    return rc;
}

static int open_nats(tt_trading *l, tt_err *err)
{
    int rc = TT_OK;
    if (l->o.venue == TT_TRADING_NATS) { /* the feed, and the bus of the venue */
        tt_nats_source_opts so;
        memset(&so, 0, sizeof so);
        so.url = l->o.nats_url;
        so.auth = l->o.nats_auth;
        so.ins = l->ins;
        so.inbox = l->q;
        so.log = l->o.log;
        so.log_ctx = l->o.log_ctx;
        if ((rc = tt_nats_source_open(&l->ns, &so, err)))
            return rc;
        l->nc = tt_nats_source_connection(l->ns);
    } else {
        if ((rc = tt_nats_connect(&l->own_nc, l->o.nats_url, l->o.nats_auth, "ticktape-live",
                                  err))) {
            tt_err_prefix(err, "live: ");
            return rc;
        }
        l->nc = l->own_nc;
    }
    tt_nats_sink_opts ko = {.conn = l->nc, .ins = l->ins, .log = l->o.log,
                            .log_ctx = l->o.log_ctx};
    if (l->o.features) {
        ko.signal_row = tt_features_pub_signal_row;
        ko.signal_row_ctx = l->o.features;
    }
    if ((rc = tt_nats_sink_open(&l->nk, &ko, err)))
        return rc;
    l->gates[l->ngates++] = (gate){tt_nats_sink_sink(l->nk), &l->live};
    natsStatus s = natsConnection_Subscribe(&l->ctl, l->nc, "control.kill_switch", on_control, l);
    if (s != NATS_OK)
        return tt_err_set(err, TT_ENET, "live: subscribe control.kill_switch: %s",
                          natsStatus_GetText(s));
    return TT_OK;
}

static int open_kafka(tt_trading *l, tt_err *err)
{
    tt_kafka_sink_opts ko = {.brokers = l->o.kafka_brokers, .ins = l->ins,
                             .conf = l->o.kafka_conf, .log = l->o.log, .log_ctx = l->o.log_ctx};
    int rc = tt_kafka_sink_open(&l->wire, &ko, err);
    if (l->o.features) {
        ko.signal_row = tt_features_pub_signal_row;
        ko.signal_row_ctx = l->o.features;
    }
    if (!rc)
        rc = tt_kafka_sink_open(&l->kk, &ko, err);
    if (!rc)
        l->gates[l->ngates++] = (gate){tt_kafka_sink_sink(l->kk), &l->live};
    return rc;
}

static int open_venue(tt_trading *l, tt_err *err)
{
    if (l->o.venue == TT_TRADING_NATS) {
        tt_nats_venue_opts vo = {l->nc, l->ins, l->q, l->o.log, l->o.log_ctx};
        return tt_nats_venue_new(&l->nv, &vo, err);
    }
    tt_mt5_venue_opts vo;
    memset(&vo, 0, sizeof vo);
    vo.ins = l->ins;
    vo.inbox = l->q;
    vo.host = l->o.mt5_host;
    vo.port = l->o.mt5_port;
    vo.secret = l->o.secret;
    vo.tls_cert = l->o.tls_cert;
    vo.tls_key = l->o.tls_key;
    vo.hb_ms = l->o.hb_ms;
    vo.symbols = l->o.symbols;
    vo.mode = l->o.mode;
    vo.minor_per_unit = l->o.minor_per_unit;
    vo.answer_ms = l->o.answer_ms;
    vo.stale_ms = l->o.stale_ms;
    vo.deviation = l->o.deviation;
    vo.policy = l->o.policy;
    vo.before_send = before_send;
    vo.on_wire = on_wire;
    vo.on_report = on_report;
    vo.on_emit = on_emit;
    vo.log = l->o.log;
    vo.ctx = l;
    return tt_mt5_venue_new(&l->mv, &vo, err);
}

static void release(tt_trading *l)
{
    if (l->o.features)
        tt_features_pub_set_outputs(l->o.features, NULL, NULL, NULL);
    tt_mt5_venue_free(l->mv); /* BYE to the terminal; its thread ends */
    tt_nats_venue_free(l->nv);
    if (l->ctl) {
        if (natsSubscription_Drain(l->ctl) == NATS_OK)
            natsSubscription_WaitForDrainCompletion(l->ctl, 2000);
        natsSubscription_Destroy(l->ctl);
    }
    tt_nats_sink_close(l->nk); /* borrows the connection: first */
    tt_nats_source_close(l->ns);
    if (l->own_nc)
        natsConnection_Destroy(l->own_nc);
    tt_kafka_sink_close(l->kk);
    tt_kafka_sink_close(l->wire);
    if (l->jr)
        tt_journal_reader_close(l->jr);
    if (l->j)
        tt_journal_close(l->j, NULL);
    tt_inbox_free(l->q);
    pthread_mutex_destroy(&l->wire_mu);
    free(l);
}

int tt_trading_open(tt_trading **out, const tt_instruments *ins, const tt_trading_opts *o, tt_err *err)
{
    *out = NULL;
    if (o->venue == TT_TRADING_MT5 && (!o->mt5_host || !o->secret || !o->secret[0]))
        return tt_err_set(err, TT_EINVAL, "live: the MT5 venue needs --mt5 HOST:PORT and a "
                          "shared secret");
    if (o->venue == TT_TRADING_NATS && !o->nats_url)
        return tt_err_set(err, TT_EINVAL, "live: --venue nats needs --nats URL");
    tt_trading *l = calloc(1, sizeof *l);
    if (!l)
        return tt_err_set(err, TT_ENOMEM, "live: out of memory");
    l->o = *o;
    l->ins = ins;
    pthread_mutex_init(&l->wire_mu, NULL);
    tt_wallclock_init(&l->clk);
    int rc = o->journal_dir ? open_journal(l, err) : TT_OK;
    if (!rc) {
        tt_inbox_opts io;
        memset(&io, 0, sizeof io);
        io.clock = &l->clk;
        io.spin_ns = o->spin_ns;
        if (l->j)
            io.tap = tt_journal_sink_sync(l->j);
        io.log = o->log;
        io.log_ctx = o->log_ctx;
        rc = tt_inbox_new(&l->q, &io, err);
    }
    if (!rc)
        l->isrc = tt_inbox_source(l->q);
    if (!rc && o->nats_url)
        rc = open_nats(l, err);
    if (!rc && o->kafka_brokers)
        rc = open_kafka(l, err);
    if (!rc)
        rc = open_venue(l, err);
    if (rc) {
        release(l);
        return rc;
    }
    if (o->features) /* rows flow with the outputs, not while the journal replays */
        tt_features_pub_set_outputs(o->features, l->nk, l->kk, &l->live);
    *out = l;
    return TT_OK;
}

int tt_trading_resuming(const tt_trading *l) { return l->resuming; }

int tt_trading_journal_is_live(const char *dir, const tt_instruments *ins, int *live, tt_err *err)
{
    *live = 0;
    tt_journal_reader *r;
    int rc = tt_journal_reader_open(&r, dir, ins, err);
    if (rc)
        return rc;
    tt_event ev;
    rc = tt_journal_reader_next(r, &ev, err);
    if (rc == 1)
        *live = ev.kind == TT_EV_CONTROL && ev.u.control.op == TT_CTL_START &&
                ev.u.control.arg == TT_TRADING_START;
    tt_journal_reader_close(r);
    return rc < 0 ? rc : TT_OK;
}

void tt_trading_kill(tt_trading *l)
{
    if (atomic_exchange(&l->killed, 1))
        return;
    lg(l, "kill switch: cancelling working orders, no new orders, strategy halted");
    if (l->mv)
        tt_mt5_venue_kill(l->mv);
    if (l->nv)
        tt_nats_venue_kill(l->nv);
    tt_inbox_push_control(l->q, TT_CTL_KILL, 0);
}

void tt_trading_stop(tt_trading *l) { tt_inbox_stop(l->q); }

void tt_trading_status_get(tt_trading *l, tt_trading_status *st)
{
    memset(st, 0, sizeof *st);
    tt_inbox_stats_get(l->q, &st->inbox);
    st->queued = tt_inbox_depth(l->q);
    st->replayed = atomic_load(&l->replayed);
    st->replaying = !atomic_load(&l->live);
    st->order_events = atomic_load(&l->order_events);
    st->fills = atomic_load(&l->fills);
    st->wire_frames = atomic_load(&l->wire_frames);
    if (l->mv)
        tt_mt5_venue_stats_get(l->mv, &st->venue);
}

int tt_trading_close(tt_trading *l, tt_err *err)
{
    if (!l)
        return TT_OK;
    tt_mt5_venue_free(l->mv);
    l->mv = NULL;
    int rc = TT_OK;
    if (l->j) {
        rc = tt_journal_close(l->j, err);
        l->j = NULL;
    }
    release(l);
    return rc;
}
