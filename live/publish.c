/*
 * The tape publisher loop: read, encode (wire.h), pace, publish (NATS or
 * Kafka); flush at the end so that every message is on the server when
 * tt_publish_run returns. External events pass through as their bytes.
 */
#include "publish.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wallclock.h"
#include "wire.h"

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
    natsStatus st = natsConnection_Publish(o->nc, subj, ev->u.blob.data, (int)ev->u.blob.len);
    return st != NATS_OK ? tt_err_set(err, TT_ENET, "publish %s: %s", subj, natsStatus_GetText(st))
                         : TT_OK;
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
        int left = rd_kafka_outq_len(o->rk);
        if (rc == TT_OK && left)
            rc = tt_err_set(err, TT_ENET, "publish: %d messages undelivered to tick_archive",
                            left);
    } else {
        natsStatus st = natsConnection_FlushTimeout(o->nc, 10000);
        if (rc == TT_OK && st != NATS_OK)
            rc = tt_err_set(err, TT_ENET, "publish: final flush: %s", natsStatus_GetText(st));
    }
    stats->seconds = (double)(tt_mono_ns() - start) / 1e9;
    return rc;
}
