/*
 * Paper trading: the pieces of live/ put in a backtest builder's slots (see
 * paper.h): the inbox as the source, its watermark clock as the clock, the
 * publishers as sinks. The only live-specific component is `hook`: its
 * on_start lets the inbox watch the engine's progress (the builder makes the
 * engine, and this is the moment it exists); its on_event counts order
 * events for the status line and archives the external events received on
 * Kafka's external_data_archive, and it skips market data (skip_market), so
 * it costs nothing per tick.
 */
#include "paper.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "features_pub.h"
#include "journal.h"
#include "kafka_sink.h"
#include "kafka_source.h"
#include "nats_sink.h"
#include "nats_source.h"
#include "wallclock.h"

struct tt_paper {
    tt_paper_opts o;
    tt_wallclock clock;
    tt_inbox *q;
    tt_journal *j;
    tt_nats_source *ns;
    tt_nats_sink *nk;
    tt_kafka_source *ks;
    tt_kafka_sink *kk;
    tt_source src; /* the builder's source */
    atomic_ullong order_events, fills;
    atomic_int killed;
    natsSubscription *ctl; /* control.kill_switch */
};

static int hook_start(void *self, tt_engine *e, tt_err *err)
{
    (void)err;
    tt_paper *p = self;
    tt_inbox_watch(p->q, e);
    return TT_OK;
}

static void hook_event(void *self, tt_engine *e, const tt_event *ev)
{
    tt_paper *p = self;
    if (ev->kind == TT_EV_EXTERNAL && p->kk) { /* archived as received */
        tt_err err;
        if (tt_kafka_sink_produce(p->kk, ev, &err))
            tt_engine_fail(e, &err);
        return;
    }
    if (ev->kind == TT_EV_ORDER_EVENT) {
        atomic_fetch_add(&p->order_events, 1);
        if (ev->u.order_ev.fill_qty)
            atomic_fetch_add(&p->fills, 1);
    }
}

/* The session's byte budget (see paper.h). */
static uint64_t queue_bytes(const tt_paper_opts *o)
{
    return o->queue_bytes ? o->queue_bytes : 256ull << 20;
}

/* The journal's hooks (its writing thread) reach the Kafka source only while
 * it is open: the Kafka offsets of a tick are committed once its block is
 * on disk (live/kafka_source.h). */
static tt_kafka_source *hooked_source(void *ctx)
{
    return __atomic_load_n(&((tt_paper *)ctx)->ks, __ATOMIC_ACQUIRE);
}

static void paper_note(void *ctx, uint64_t seq, uint8_t **note, uint32_t *len)
{
    tt_kafka_source *ks = hooked_source(ctx);
    if (ks)
        tt_kafka_source_note(ks, seq, note, len);
}

static void paper_durable(void *ctx, uint64_t seq)
{
    tt_kafka_source *ks = hooked_source(ctx);
    if (ks)
        tt_kafka_source_durable(ks, seq);
}

/* Close the Kafka source after its last ticks are durable and committed. */
static void close_kafka_source(tt_paper *p)
{
    if (p->ks && p->j)
        tt_journal_flush(p->j, NULL);
    tt_kafka_source *ks = p->ks;
    __atomic_store_n(&p->ks, NULL, __ATOMIC_RELEASE);
    tt_kafka_source_close(ks);
}

static void on_control(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    natsMsg_Destroy(m);
    tt_paper *p = closure;
    if (p->o.log && !atomic_load(&p->killed))
        p->o.log(p->o.log_ctx, "kill switch from NATS control.kill_switch");
    tt_paper_kill(p);
}

static void release(tt_paper *p)
{
    if (p->ctl) {
        natsSubscription_Unsubscribe(p->ctl);
        natsSubscription_Destroy(p->ctl);
        p->ctl = NULL;
    }
    if (p->o.features)
        tt_features_pub_set_outputs(p->o.features, NULL, NULL, NULL);
    tt_nats_sink_close(p->nk); /* borrows the source's connection: first */
    tt_nats_source_close(p->ns);
    close_kafka_source(p);
    tt_kafka_sink_close(p->kk);
    if (p->j)
        tt_journal_close(p->j, NULL);
    tt_inbox_free(p->q);
    free(p);
}

/* Fill bt's slots with what p opened. */
static int wire(tt_paper *p, tt_backtest *bt, tt_err *err)
{
    int rc;
    p->src = tt_inbox_source(p->q);
    tt_component hook = {.self = p, .name = "live", .on_start = hook_start,
                         .on_event = hook_event, .skip_market = 1};
    if ((rc = tt_backtest_add_source(bt, p->src, err)) ||
        (rc = tt_backtest_set_clock(bt, tt_inbox_clock(p->q), err)) ||
        (rc = tt_backtest_add_component(bt, hook, err)) ||
        (p->nk && (rc = tt_backtest_add_sink(bt, tt_nats_sink_sink(p->nk), err))) ||
        (p->kk && (rc = tt_backtest_add_sink(bt, tt_kafka_sink_sink(p->kk), err))) ||
        (p->o.features &&
         (rc = tt_backtest_add_component(bt, tt_features_pub_component(p->o.features), err)))) {
        tt_err_prefix(err, "paper: ");
        return rc;
    }
    return TT_OK;
}

int tt_paper_attach(tt_paper **out, tt_backtest *bt, const tt_instruments *ins,
                    const tt_paper_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!opts || (!opts->nats_url && !opts->kafka_brokers))
        return tt_err_set(err, TT_EINVAL, "paper: a feed is needed (--nats URL or --kafka BROKERS)");
    tt_paper *p = calloc(1, sizeof *p);
    if (!p)
        return tt_err_set(err, TT_ENOMEM, "paper: out of memory");
    p->o = *opts;
    tt_wallclock_init(&p->clock);
    int rc;
    if (opts->journal_dir) {
        tt_journal_opts jo = {.fsync = opts->journal_fsync, .background = 1,
                              .bytes_max = queue_bytes(opts) / 32};
        if (opts->kafka_brokers && !opts->nats_url) { /* Kafka offsets follow the journal */
            jo.note = paper_note;
            jo.durable = paper_durable;
            jo.hook_ctx = p;
        }
        if ((rc = tt_journal_open(&p->j, opts->journal_dir, ins, &jo, err))) {
            free(p);
            return rc;
        }
    }
    tt_inbox_opts io;
    memset(&io, 0, sizeof io);
    io.capacity = opts->queue_capacity;
    io.bytes_max = queue_bytes(opts) / 16;
    io.spin_ns = opts->spin_ns;
    io.backpressure_ns = opts->backpressure_ns;
    io.clock = &p->clock;
    if (p->j)
        io.tap = tt_journal_sink(p->j);
    io.log = opts->log;
    io.log_ctx = opts->log_ctx;
    if ((rc = tt_inbox_new(&p->q, &io, err))) {
        release(p);
        return rc;
    }
    if (opts->nats_url) {
        tt_nats_source_opts so;
        memset(&so, 0, sizeof so);
        so.url = opts->nats_url;
        so.auth = opts->nats_auth;
        so.max_tick_age = opts->max_tick_age;
        /* at least 4 MiB: nats.c drops a message larger than its limit
         * before we could judge it (and count it as oversize) */
        so.pending_bytes = (int64_t)(queue_bytes(opts) / 64 > (4u << 20) ? queue_bytes(opts) / 64
                                                                          : (4u << 20));
        /* the ticks' queue holds a publisher's burst while the inbox applies
         * backpressure: B/4 (64 MiB by default, the README's 266,219-tick
         * burst at --speed max; at B/64 nats.c dropped 9-25% of it) */
        so.tick_pending_bytes = (int64_t)(queue_bytes(opts) / 4);
        so.json_ticks = opts->json_ticks;
        so.ins = ins;
        so.inbox = p->q;
        so.log = opts->log;
        so.log_ctx = opts->log_ctx;
        if ((rc = tt_nats_source_open(&p->ns, &so, err))) {
            release(p);
            return rc;
        }
        natsStatus ns = natsConnection_Subscribe(&p->ctl, tt_nats_source_connection(p->ns),
                                                 "control.kill_switch", on_control, p);
        if (ns != NATS_OK) {
            tt_err_set(err, TT_ENET, "paper: subscribe control.kill_switch: %s",
                       natsStatus_GetText(ns));
            release(p);
            return TT_ENET;
        }
        if (!opts->no_publish) {
            /* The source's connection: no-echo there keeps our own bars from
             * coming back as input, and it writes each output at once. */
            tt_nats_sink_opts ko = {.conn = tt_nats_source_connection(p->ns), .ins = ins,
                                    .json = opts->publish_json, .log = opts->log,
                                    .log_ctx = opts->log_ctx};
            if (opts->features) {
                ko.signal_row = tt_features_pub_signal_row;
                ko.signal_row_ctx = opts->features;
            }
            if ((rc = tt_nats_sink_open(&p->nk, &ko, err))) {
                release(p);
                return rc;
            }
        }
    }
    if (opts->kafka_brokers) {
        if (!opts->nats_url) {
            tt_kafka_source_opts so;
            memset(&so, 0, sizeof so);
            so.brokers = opts->kafka_brokers;
            so.group = opts->kafka_group ? opts->kafka_group : "ticktape-paper";
            so.conf = opts->kafka_conf;
            so.from_beginning = opts->kafka_from_beginning;
            so.journal_dir = opts->journal_dir;
            so.max_tick_age = opts->max_tick_age;
            so.ins = ins;
            so.inbox = p->q;
            so.log = opts->log;
            so.log_ctx = opts->log_ctx;
            if ((rc = tt_kafka_source_open(&p->ks, &so, err))) {
                release(p);
                return rc;
            }
        }
        tt_kafka_sink_opts ko = {.brokers = opts->kafka_brokers, .ins = ins,
                                 .conf = opts->kafka_conf, .log = opts->log,
                                 .log_ctx = opts->log_ctx};
        if (opts->features) {
            ko.signal_row = tt_features_pub_signal_row;
            ko.signal_row_ctx = opts->features;
        }
        if ((rc = tt_kafka_sink_open(&p->kk, &ko, err))) {
            release(p);
            return rc;
        }
    }
    if (opts->features)
        tt_features_pub_set_outputs(opts->features, p->nk, p->kk, NULL);
    if ((rc = wire(p, bt, err))) {
        release(p);
        return rc;
    }
    *out = p;
    return TT_OK;
}

void tt_paper_stop(tt_paper *p) { tt_inbox_stop(p->q); }

int tt_paper_kill(tt_paper *p)
{
    if (atomic_exchange(&p->killed, 1))
        return TT_OK;
    int rc = tt_inbox_push_control(p->q, TT_CTL_KILL, 0);
    return rc < 0 ? rc : TT_OK;
}

void tt_paper_status_get(tt_paper *p, tt_paper_status *st)
{
    memset(st, 0, sizeof *st);
    tt_inbox_stats_get(p->q, &st->inbox);
    st->queued = tt_inbox_depth(p->q);
    st->order_events = atomic_load(&p->order_events);
    st->fills = atomic_load(&p->fills);
    st->journaled = p->j ? st->inbox.delivered : 0;
    st->connected = 1;
    if (p->ns) {
        tt_nats_source_stats ns;
        tt_nats_source_stats_get(p->ns, &ns);
        st->connected = ns.disconnects == ns.reconnects;
        st->feed_dropped = ns.nats_dropped;
    }
}

void tt_paper_outputs_get(tt_paper *p, tt_paper_outputs *out)
{
    memset(out, 0, sizeof *out);
    if (p->nk) {
        tt_nats_sink_stats s;
        tt_nats_sink_stats_get(p->nk, &s);
        out->nats_published = s.published;
        out->nats_failed = s.failed;
    }
    if (p->kk) {
        tt_kafka_sink_stats s;
        tt_kafka_sink_stats_get(p->kk, &s);
        out->kafka_produced = s.produced;
        out->kafka_delivered = s.delivered;
        out->kafka_failed = s.failed;
        out->kafka_undelivered = s.undelivered;
    }
}

int tt_paper_close(tt_paper *p, tt_err *err)
{
    if (!p)
        return TT_OK;
    if (p->ctl) {
        natsSubscription_Unsubscribe(p->ctl);
        natsSubscription_Destroy(p->ctl);
        p->ctl = NULL;
    }
    tt_nats_sink_close(p->nk);
    tt_nats_source_close(p->ns);
    close_kafka_source(p);
    p->nk = NULL;
    p->ns = NULL;
    int rc = TT_OK;
    if (p->j) {
        rc = tt_journal_close(p->j, err);
        p->j = NULL;
    }
    release(p);
    return rc;
}
