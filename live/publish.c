/*
 * The tape publisher loop: read, encode (wire.h), pace, publish (NATS or
 * Kafka); flush at the end so that every message is on the server when
 * tt_publish_run returns. External events pass through as their bytes.
 *
 * Honest counts. Kafka: a tick is delivered when its delivery report says
 * so. JetStream: when its PubAck arrives (a timed-out publish is sent again
 * with the same message id, which the stream deduplicates). Core NATS keeps
 * nothing and acknowledges nothing: a flush every 4096 ticks confirms that
 * the server has everything published before it; when the connection drops,
 * what was published since the last confirmation is counted "at risk" (the
 * server may have lost it, or its subscribers may not have had it yet).
 */
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka_conf.h"
#include "nats_conn.h"
#include "wallclock.h"
#include "wire.h"

#define TT_PUBLISH_CONFIRM_EVERY 4096
#define TT_PUBLISH_JS_RETRIES 5

struct tt_publish_nats {
    natsConnection *nc;
    jsCtx *js;
    int closing;         /* no disconnect report for our own close */
    int64_t confirmed_at; /* monotonic ns of the last confirmation (core NATS) */
    char shown[TT_URL_SHOWN_MAX];
    char idprefix[32]; /* message ids: "<idprefix>-<n>", unique per run */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    /* counters: the publishing thread and nats.c's callback threads */
    uint64_t published, confirmed, at_risk, disconnects, acked, failed;
};

static uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void pn_log(tt_publish_nats *pn, const char *what)
{
    if (!pn->log)
        return;
    char line[TT_URL_SHOWN_MAX + 256];
    snprintf(line, sizeof line, "nats %s: %s", pn->shown, what);
    pn->log(pn->log_ctx, line);
}

static void on_pub_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    tt_publish_nats *pn = closure;
    if (__atomic_load_n(&pn->closing, __ATOMIC_SEQ_CST))
        return;
    __atomic_add_fetch(&pn->disconnects, 1, __ATOMIC_SEQ_CST);
    if (pn->js) {
        pn_log(pn, "disconnected; unacknowledged ticks will be sent again");
        return;
    }
    /* everything published since the last confirmation may be gone */
    uint64_t now = ld(&pn->published), conf = ld(&pn->confirmed);
    if (now > conf) {
        __atomic_add_fetch(&pn->at_risk, now - conf, __ATOMIC_SEQ_CST);
        __atomic_store_n(&pn->confirmed, now, __ATOMIC_SEQ_CST);
    }
    char what[200];
    snprintf(what, sizeof what,
             "disconnected after %llu ticks; up to %llu published since the last confirmation "
             "may have been lost", (unsigned long long)now,
             (unsigned long long)(now > conf ? now - conf : 0));
    pn_log(pn, what);
}

static void on_pub_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    tt_publish_nats *pn = closure;
    char what[96];
    snprintf(what, sizeof what, "reconnected after %llu ticks",
             (unsigned long long)ld(&pn->published));
    pn_log(pn, what);
}

/* JetStream: every acknowledgement, positive or not. A failure (a timeout
 * across a server restart) is sent again, with its message id, a few times. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    tt_publish_nats *pn = closure;
    if (pa) {
        __atomic_add_fetch(&pn->acked, 1, __ATOMIC_SEQ_CST);
    } else if (pae) {
        const char *tries = NULL;
        natsMsgHeader_Get(msg, "Tt-Try", &tries);
        int n = tries ? atoi(tries) : 0;
        char next[16];
        snprintf(next, sizeof next, "%d", n + 1);
        if (n < TT_PUBLISH_JS_RETRIES && natsMsgHeader_Set(msg, "Tt-Try", next) == NATS_OK &&
            js_PublishMsgAsync(js, &msg, NULL) == NATS_OK)
            return; /* the library owns msg again */
        __atomic_add_fetch(&pn->failed, 1, __ATOMIC_SEQ_CST);
    }
    natsMsg_Destroy(msg);
}

static int js_stream(tt_publish_nats *pn, const char *stream, tt_err *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, pn->js, stream, NULL, &jerr) == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return TT_OK;
    }
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char *subjects[] = {"ticks.>"};
    sc.Name = stream;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    natsStatus s = js_AddStream(&si, pn->js, &sc, NULL, &jerr);
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK)
        return tt_err_set(err, TT_ENET, "nats %s: stream %s on ticks.>: %s (jetstream code %d)",
                          pn->shown, stream, natsStatus_GetText(s), (int)jerr);
    return TT_OK;
}

int tt_publish_nats_open(tt_publish_nats **out, const char *url, const struct tt_nats_opts *auth,
                         const char *stream, void (*log)(void *ctx, const char *line),
                         void *log_ctx, tt_err *err)
{
    *out = NULL;
    tt_publish_nats *pn = calloc(1, sizeof *pn);
    if (!pn)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    tt_url_redact(url, pn->shown, sizeof pn->shown);
    pn->log = log;
    pn->log_ctx = log_ctx;
    snprintf(pn->idprefix, sizeof pn->idprefix, "tt%llx",
             (unsigned long long)(tt_mono_ns() ^ (int64_t)getpid() << 40));
    natsOptions *no = NULL;
    int rc = tt_nats_options_new(&no, url, auth, err);
    natsStatus s = rc ? NATS_ERR : natsOptions_SetName(no, "ticktape-publish");
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(no, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(no, 100);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(no, 64 << 20);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(no, on_pub_disconnected, pn);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(no, on_pub_reconnected, pn);
    if (s == NATS_OK)
        s = natsConnection_Connect(&pn->nc, no);
    natsOptions_Destroy(no);
    if (!rc && s != NATS_OK) {
        const char *last = nats_GetLastError(NULL);
        rc = tt_err_set(err, TT_ENET, "nats %s: connect: %s%s%s", pn->shown,
                        natsStatus_GetText(s), last && *last ? ": " : "",
                        last && *last ? last : "");
    }
    if (!rc && stream) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.PublishAsync.AckHandler = on_ack;
        jo.PublishAsync.AckHandlerClosure = pn;
        jo.PublishAsync.MaxPending = 4096;
        jo.PublishAsync.StallWait = 1000; /* then the unacknowledged are sent again */
        s = natsConnection_JetStream(&pn->js, pn->nc, &jo);
        rc = s == NATS_OK ? js_stream(pn, stream, err)
                          : tt_err_set(err, TT_ENET, "nats %s: JetStream: %s", pn->shown,
                                       natsStatus_GetText(s));
    }
    if (rc) {
        tt_publish_nats_close(pn);
        return rc;
    }
    *out = pn;
    return TT_OK;
}

void tt_publish_nats_close(tt_publish_nats *pn)
{
    if (!pn)
        return;
    __atomic_store_n(&pn->closing, 1, __ATOMIC_SEQ_CST);
    if (pn->js)
        jsCtx_Destroy(pn->js);
    if (pn->nc) {
        natsConnection_Close(pn->nc);
        natsConnection_Destroy(pn->nc);
    }
    free(pn);
}

/* Send every unacknowledged JetStream publish again, with its message id (a
 * server restart loses the acks of what was in flight; the stream drops a
 * copy it already has). Returns how many were pending. */
static int js_resend(tt_publish_nats *pn)
{
    natsMsgList l = {0};
    if (js_PublishAsyncGetPendingList(&l, pn->js) != NATS_OK)
        return 0;
    int n = l.Count;
    for (int i = 0; i < l.Count; i++)
        js_PublishMsgAsync(pn->js, &l.Msgs[i], NULL);
    natsMsgList_Destroy(&l); /* those it could not send again are dropped: counted below */
    return n;
}

/* One tick to an accounted NATS target. 0, or TT_ENET when nats.c refuses
 * it for good (not for a full reconnect buffer: counted as refused). */
static int pn_publish(tt_publish_nats *pn, const char *subj, const uint8_t *buf, size_t len,
                      tt_publish_stats *st, tt_err *err)
{
    natsStatus s;
    if (pn->js) {
        natsMsg *m = NULL;
        char id[64];
        snprintf(id, sizeof id, "%s-%llu", pn->idprefix, (unsigned long long)st->published);
        s = natsMsg_Create(&m, subj, NULL, (const char *)buf, (int)len);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
        for (int tries = 0; s == NATS_OK || (s == NATS_TIMEOUT && tries < 120); tries++) {
            s = js_PublishMsgAsync(pn->js, &m, NULL);
            if (s != NATS_TIMEOUT)
                break;
            js_resend(pn); /* stalled: acks stopped coming (a restart) */
        }
        natsMsg_Destroy(m);
    } else {
        s = natsConnection_Publish(pn->nc, subj, buf, (int)len);
        if (s == NATS_INSUFFICIENT_BUFFER) { /* disconnected, its buffer full: lost */
            st->refused++;
            return TT_OK;
        }
    }
    if (s != NATS_OK)
        return tt_err_set(err, TT_ENET, "publish %s (tick %llu): %s", subj,
                          (unsigned long long)st->published + 1, natsStatus_GetText(s));
    __atomic_store_n(&pn->published, st->published + 1, __ATOMIC_SEQ_CST);
    int64_t t = tt_mono_ns();
    if (!pn->js && ((st->published + 1) % TT_PUBLISH_CONFIRM_EVERY == 0 ||
                    t - pn->confirmed_at >= 50 * TT_NS_PER_MS)) {
        pn->confirmed_at = t;
        if (natsConnection_FlushTimeout(pn->nc, 5000) == NATS_OK) {
            /* the server has everything up to here (unless a disconnect counted it) */
            uint64_t now = st->published + 1;
            if (now > ld(&pn->confirmed))
                __atomic_store_n(&pn->confirmed, now, __ATOMIC_SEQ_CST);
        }
    }
    return TT_OK;
}

/* The end of an accounted NATS run: wait for the acknowledgements or the
 * final confirmation, fill the stats, and say what was not stored. */
static int pn_finish(tt_publish_nats *pn, tt_publish_stats *st, int rc, tt_err *err)
{
    if (pn->js) {
        /* wait for the acks; what stays unacknowledged is sent again */
        for (int round = 0; round < 10; round++) {
            jsPubOptions wo;
            jsPubOptions_Init(&wo);
            wo.MaxWait = 5000;
            if (js_PublishAsyncComplete(pn->js, &wo) == NATS_OK || !js_resend(pn))
                break;
        }
        st->jetstream = 1;
        st->delivered = ld(&pn->acked);
        st->undelivered = st->published > st->delivered ? st->published - st->delivered : 0;
    } else if (natsConnection_FlushTimeout(pn->nc, 10000) == NATS_OK) {
        uint64_t now = ld(&pn->published);
        if (now > ld(&pn->confirmed))
            __atomic_store_n(&pn->confirmed, now, __ATOMIC_SEQ_CST);
    }
    st->disconnects = ld(&pn->disconnects);
    st->at_risk = ld(&pn->at_risk);
    if (rc)
        return rc;
    if (st->undelivered)
        return tt_err_set(err, TT_EPARTIAL,
                          "publish: %llu of %llu ticks were not stored in the stream",
                          (unsigned long long)st->undelivered,
                          (unsigned long long)st->published);
    if (st->at_risk || st->refused)
        return tt_err_set(err, TT_EPARTIAL,
                          "publish: %llu disconnect(s): %llu ticks may have been lost (published "
                          "before a disconnect without the server's confirmation), %llu refused "
                          "while disconnected; core NATS keeps nothing (--jetstream STREAM "
                          "publishes with acknowledgements)",
                          (unsigned long long)st->disconnects, (unsigned long long)st->at_risk,
                          (unsigned long long)st->refused);
    return TT_OK;
}

/* Delivery reports of a tick_archive producer (served on the publishing
 * thread by rd_kafka_poll / rd_kafka_flush, so plain counters). */
typedef struct kafka_reports {
    uint64_t delivered, failed;
    char first[256];
} kafka_reports;

static void on_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_reports *r = opaque;
    if (!r)
        return;
    if (!m->err) {
        r->delivered++;
    } else if (!r->failed++) {
        snprintf(r->first, sizeof r->first, "%s", rd_kafka_err2str(m->err));
    }
}

int tt_publish_kafka_open(rd_kafka_t **rk, const char *brokers, const char *const *conf,
                          tt_err *err)
{
    *rk = NULL;
    kafka_reports *r = calloc(1, sizeof *r);
    if (!r)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    int rc = tt_kafka_conf_set(kc, "bootstrap.servers", brokers, err);
    if (!rc)
        rc = tt_kafka_conf_set(kc, "enable.idempotence", "true", err);
    if (!rc)
        rc = tt_kafka_conf_set(kc, "linger.ms", "5", err);
    if (!rc)
        rc = tt_kafka_conf_apply(kc, conf, err);
    if (rc) {
        rd_kafka_conf_destroy(kc);
        free(r);
        return rc;
    }
    rd_kafka_conf_set_dr_msg_cb(kc, on_report);
    rd_kafka_conf_set_opaque(kc, r);
    char errstr[512];
    *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof errstr);
    if (!*rk) {
        free(r);
        return tt_err_set(err, TT_EINVAL, "kafka producer: %s", errstr);
    }
    return TT_OK;
}

void tt_publish_kafka_close(rd_kafka_t *rk)
{
    if (!rk)
        return;
    kafka_reports *r = rd_kafka_opaque(rk);
    rd_kafka_destroy(rk);
    free(r);
}

static void wait_until(int64_t target)
{
    for (;;) {
        int64_t now = tt_mono_ns();
        int64_t d = target - now;
        if (d <= 0)
            return;
        if (d > 200 * TT_NS_PER_US) {
            struct timespec ts = {0, (long)(d - 100 * TT_NS_PER_US)};
            if (d - 100 * TT_NS_PER_US >= TT_NS_PER_SEC) {
                ts.tv_sec = (time_t)((d - 100 * TT_NS_PER_US) / TT_NS_PER_SEC);
                ts.tv_nsec = (long)((d - 100 * TT_NS_PER_US) % TT_NS_PER_SEC);
            }
            nanosleep(&ts, NULL);
        }
    }
}

/* An external event's bytes on market.external.{type} / external_data_archive. */
static int publish_external(const tt_publish_opts *o, const tt_event *ev, tt_err *err)
{
    const char *type = tt_external_type_name(ev->u.blob.type);
    if (o->rk) {
        rd_kafka_resp_err_t ke;
        while ((ke = rd_kafka_producev(o->rk, RD_KAFKA_V_TOPIC("external_data_archive"),
                                       RD_KAFKA_V_KEY(type, strlen(type)),
                                       RD_KAFKA_V_VALUE((void *)ev->u.blob.data, ev->u.blob.len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_TIMESTAMP(ev->ts / TT_NS_PER_MS),
                                       RD_KAFKA_V_HEADER("tt-type", "external", -1),
                                       RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(o->rk, 10);
        return ke ? tt_err_set(err, TT_ENET, "publish external_data_archive: %s",
                               rd_kafka_err2str(ke))
                  : TT_OK;
    }
    char subj[TT_WIRE_SUBJECT_MAX];
    snprintf(subj, sizeof subj, "market.external.%s", type);
    /* through an accounted target's connection too, outside its tick
     * accounting (the stream, on ticks.>, does not hold external events) */
    natsConnection *nc = o->pn ? o->pn->nc : o->nc;
    natsStatus st = natsConnection_Publish(nc, subj, ev->u.blob.data, (int)ev->u.blob.len);
    return st != NATS_OK ? tt_err_set(err, TT_ENET, "publish %s: %s", subj, natsStatus_GetText(st))
                         : TT_OK;
}

int tt_publish_run(tt_source src, const tt_publish_opts *o, tt_publish_stats *stats,
                   tt_err *err)
{
    memset(stats, 0, sizeof *stats);
    if (!o || (!o->nc && !o->rk && !o->pn) || !o->ins)
        return tt_err_set(err, TT_EINVAL, "publish: a connection and instruments are required");
    int64_t start = tt_mono_ns();
    tt_ts first = TT_TS_MIN;
    tt_event ev;
    int rc = TT_OK;
    for (;;) {
        if (o->stop && *o->stop)
            break;
        if (o->limit && stats->published >= o->limit)
            break;
        int s = src.next(src.self, &ev, err);
        if (s < 0) {
            rc = s;
            break;
        }
        if (s == TT_SRC_END)
            break;
        if (s != TT_SRC_EVENT)
            continue;
        if (ev.kind == TT_EV_EXTERNAL && ev.u.blob.len) {
            if (first == TT_TS_MIN)
                first = ev.ts;
            if (o->speed > 0 && o->rate <= 0)
                wait_until(start + (int64_t)((double)(ev.ts - first) / o->speed));
            if ((rc = publish_external(o, &ev, err)))
                break;
            stats->externals++;
            continue;
        }
        const tt_instrument *in = tt_instruments_get(o->ins, ev.symbol);
        if (ev.kind != TT_EV_QUOTE || !in) {
            stats->skipped++;
            continue;
        }
        if (first == TT_TS_MIN)
            first = ev.ts;
        if (o->rate > 0)
            wait_until(start + (int64_t)((double)stats->published * 1e9 / o->rate));
        else if (o->speed > 0)
            wait_until(start + (int64_t)((double)(ev.ts - first) / o->speed));
        uint8_t buf[TT_WIRE_MSG_MAX];
        size_t len;
        if (o->json) {
            char sb[32], ab[32];
            tt_price_format(in, ev.u.quote.bid, sb, sizeof sb);
            tt_price_format(in, ev.u.quote.ask, ab, sizeof ab);
            int n = snprintf((char *)buf, sizeof buf,
                             "{\"symbol\":\"%s\",\"bid\":%s,\"ask\":%s,\"timestamp\":%lld}",
                             in->symbol, sb, ab, (long long)(ev.ts / TT_NS_PER_MS));
            len = n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0;
        } else {
            len = tt_wire_tick_encode(o->ins, &ev, buf, sizeof buf);
        }
        if (o->rk) {
            rd_kafka_resp_err_t ke;
            while ((ke = rd_kafka_producev(o->rk, RD_KAFKA_V_TOPIC("tick_archive"),
                                           RD_KAFKA_V_KEY(in->symbol, strlen(in->symbol)),
                                           RD_KAFKA_V_VALUE(buf, len),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_TIMESTAMP(ev.ts / TT_NS_PER_MS),
                                           RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(o->rk, 10); /* wait for room: archives drop nothing */
            if (ke) {
                rc = tt_err_set(err, TT_ENET, "publish tick_archive (tick %llu): %s",
                                (unsigned long long)stats->published + 1, rd_kafka_err2str(ke));
                break;
            }
            rd_kafka_poll(o->rk, 0);
        } else if (o->pn) {
            char subj[TT_WIRE_SUBJECT_MAX];
            if (o->source)
                snprintf(subj, sizeof subj, "ticks.%s.%s", o->source, in->symbol);
            else
                snprintf(subj, sizeof subj, "ticks.%s", in->symbol);
            if ((rc = pn_publish(o->pn, subj, buf, len, stats, err)))
                break;
        } else {
            char subj[TT_WIRE_SUBJECT_MAX];
            if (o->source)
                snprintf(subj, sizeof subj, "ticks.%s.%s", o->source, in->symbol);
            else
                snprintf(subj, sizeof subj, "ticks.%s", in->symbol);
            natsStatus st = natsConnection_Publish(o->nc, subj, buf, (int)len);
            if (st != NATS_OK) {
                rc = tt_err_set(err, TT_ENET, "publish %s (tick %llu): %s", subj,
                                (unsigned long long)stats->published + 1, natsStatus_GetText(st));
                break;
            }
        }
        if (o->on_publish)
            o->on_publish(o->ctx, &ev, tt_mono_ns());
        stats->published++;
        if (o->progress && stats->published % 4096 == 0)
            o->progress(o->ctx, stats->published);
    }
    if (o->rk) {
        rd_kafka_flush(o->rk, 30000);
        const kafka_reports *r = rd_kafka_opaque(o->rk);
        stats->kafka = r != NULL;
        if (r) {
            /* honest counts: a tick is delivered when its report says so */
            stats->delivered = r->delivered;
            stats->undelivered = stats->published - r->delivered;
            if (rc == TT_OK && stats->undelivered)
                rc = tt_err_set(err, TT_ENET,
                                "publish: %llu of %llu ticks were not delivered to tick_archive "
                                "(first failure: %s)", (unsigned long long)stats->undelivered,
                                (unsigned long long)stats->published,
                                r->failed ? r->first : "no report before the flush timed out");
        } else {
            int left = rd_kafka_outq_len(o->rk);
            if (rc == TT_OK && left)
                rc = tt_err_set(err, TT_ENET, "publish: %d messages undelivered to tick_archive",
                                left);
        }
    } else if (o->pn) {
        rc = pn_finish(o->pn, stats, rc, err);
    } else {
        natsStatus st = natsConnection_FlushTimeout(o->nc, 10000);
        if (rc == TT_OK && st != NATS_OK)
            rc = tt_err_set(err, TT_ENET, "publish: final flush: %s", natsStatus_GetText(st));
    }
    stats->seconds = (double)(tt_mono_ns() - start) / 1e9;
    return rc;
}

const char *tt_publish_stats_text(const tt_publish_stats *s, int stopped, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "published %llu ticks and %llu external events in %.3f s "
                     "(%.0f ticks/s)", (unsigned long long)s->published,
                     (unsigned long long)s->externals, s->seconds,
                     s->seconds > 0 ? (double)s->published / s->seconds : 0.0);
    if (n > 0 && (size_t)n < cap && (s->kafka || s->jetstream))
        n += snprintf(buf + n, cap - (size_t)n, "; %s %llu, not %s %llu",
                      s->kafka ? "delivered" : "acknowledged", (unsigned long long)s->delivered,
                      s->kafka ? "delivered" : "stored", (unsigned long long)s->undelivered);
    if (n > 0 && (size_t)n < cap && (s->disconnects || s->at_risk || s->refused))
        n += snprintf(buf + n, cap - (size_t)n,
                      "; %llu disconnect(s), %llu at risk, %llu refused while disconnected",
                      (unsigned long long)s->disconnects, (unsigned long long)s->at_risk,
                      (unsigned long long)s->refused);
    if (n > 0 && (size_t)n < cap && stopped)
        snprintf(buf + n, cap - (size_t)n, " (stopped by signal)");
    return buf;
}

const char *tt_publish_stats_json(const tt_publish_stats *s, int stopped, int rc, char *buf,
                                  size_t cap)
{
    char del[48] = "null", und[48] = "null";
    if (s->kafka || s->jetstream) {
        snprintf(del, sizeof del, "%llu", (unsigned long long)s->delivered);
        snprintf(und, sizeof und, "%llu", (unsigned long long)s->undelivered);
    }
    snprintf(buf, cap,
             "{\"published\":%llu,\"externals\":%llu,\"skipped\":%llu,\"seconds\":%.6f,"
             "\"stopped\":%s,"
             "\"delivered\":%s,\"undelivered\":%s,\"disconnects\":%llu,\"at_risk\":%llu,"
             "\"refused\":%llu,\"error\":%s%s%s}",
             (unsigned long long)s->published, (unsigned long long)s->externals,
             (unsigned long long)s->skipped, s->seconds, stopped ? "true" : "false", del, und,
             (unsigned long long)s->disconnects, (unsigned long long)s->at_risk,
             (unsigned long long)s->refused, rc ? "\"" : "", rc ? tt_status_name(rc) : "null",
             rc ? "\"" : "");
    return buf;
}
