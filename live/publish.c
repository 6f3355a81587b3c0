/*
 * The tape publisher loop: read, encode (wire.h), pace, publish (NATS or
 * Kafka); flush at the end so that every message is on the server when
 * tt_publish_run returns.
 */
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_conf.h"
#include "wallclock.h"
#include "wire.h"

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

int tt_publish_run(tt_source src, const tt_publish_opts *o, tt_publish_stats *stats,
                   tt_err *err)
{
    memset(stats, 0, sizeof *stats);
    if (!o || (!o->nc && !o->rk) || !o->ins)
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
        } else {
            char subj[TT_WIRE_SUBJECT_MAX];
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
    int n = snprintf(buf, cap, "published %llu ticks in %.3f s (%.0f ticks/s)",
                     (unsigned long long)s->published, s->seconds,
                     s->seconds > 0 ? (double)s->published / s->seconds : 0.0);
    if (n > 0 && (size_t)n < cap && s->kafka)
        n += snprintf(buf + n, cap - (size_t)n, "; delivered %llu, undelivered %llu",
                      (unsigned long long)s->delivered, (unsigned long long)s->undelivered);
    if (n > 0 && (size_t)n < cap && stopped)
        snprintf(buf + n, cap - (size_t)n, " (stopped by signal)");
    return buf;
}

const char *tt_publish_stats_json(const tt_publish_stats *s, int stopped, int rc, char *buf,
                                  size_t cap)
{
    char del[48] = "null", und[48] = "null";
    if (s->kafka) {
        snprintf(del, sizeof del, "%llu", (unsigned long long)s->delivered);
        snprintf(und, sizeof und, "%llu", (unsigned long long)s->undelivered);
    }
    snprintf(buf, cap,
             "{\"published\":%llu,\"skipped\":%llu,\"seconds\":%.6f,\"stopped\":%s,"
             "\"delivered\":%s,\"undelivered\":%s,\"error\":%s%s%s}",
             (unsigned long long)s->published, (unsigned long long)s->skipped, s->seconds,
             stopped ? "true" : "false", del, und, rc ? "\"" : "",
             rc ? tt_status_name(rc) : "null", rc ? "\"" : "");
    return buf;
}
