/*
 * The Kafka source: one consumer, one poll thread. The thread polls with a
 * 100 ms timeout so that close() is noticed promptly; decoding happens on it,
 * like the NATS callbacks, so the engine thread only takes finished events
 * from the inbox.
 */
#include "kafka_source.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

struct tt_kafka_source {
    tt_kafka_source_opts o;
    rd_kafka_t *rk;
    pthread_t th;
    int started;
    atomic_int quit;
    atomic_ullong received, ticks, rejected, errors;
};

static void klog(tt_kafka_source *s, const char *line)
{
    if (s->o.log)
        s->o.log(s->o.log_ctx, line);
}

static void *poll_loop(void *arg)
{
    tt_kafka_source *s = arg;
    while (!atomic_load(&s->quit)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 100);
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                unsigned long long n = atomic_fetch_add(&s->errors, 1) + 1;
                if (n <= 20) {
                    char line[512];
                    snprintf(line, sizeof line, "kafka: consumer error: %s",
                             rd_kafka_message_errstr(m));
                    klog(s, line);
                }
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        atomic_fetch_add(&s->received, 1);
        tt_event ev;
        tt_err err;
        int rc = tt_wire_tick_decode_keyed(m->payload, m->len, m->key, m->key_len, s->o.ins, &ev,
                                           &err);
        if (!rc && s->o.source_of &&
            !(ev.source = s->o.source_of(s->o.source_ctx, m->payload, m->len)))
            rc = tt_err_set(&err, TT_EFORMAT, "TickData: no source of this feed in field 'source'");
        if (rc) {
            char origin[256];
            snprintf(origin, sizeof origin, "%s[%d]@%lld", rd_kafka_topic_name(m->rkt),
                     (int)m->partition, (long long)m->offset);
            tt_inbox_reject(s->o.inbox, origin, err.msg);
            atomic_fetch_add(&s->rejected, 1); /* after the log line (see nats_source.c) */
        } else {
            atomic_fetch_add(&s->ticks, 1);
            tt_inbox_push(s->o.inbox, &ev, NULL, 0);
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static int conf_set(rd_kafka_conf_t *c, const char *key, const char *val, tt_err *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(c, key, val, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return tt_err_set(err, TT_EINVAL, "kafka setting '%s': %s", key, errstr);
    return TT_OK;
}

int tt_kafka_source_open(tt_kafka_source **out, const tt_kafka_source_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!opts || !opts->brokers || !opts->ins || !opts->inbox)
        return tt_err_set(err, TT_EINVAL, "kafka source: brokers, instruments and inbox are required");
    tt_kafka_source *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "kafka source: out of memory");
    s->o = *opts;
    const char *topic = opts->topic ? opts->topic : "tick_archive";
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    int rc = conf_set(c, "bootstrap.servers", opts->brokers, err);
    if (!rc)
        rc = conf_set(c, "group.id", opts->group ? opts->group : "ticktape", err);
    if (!rc)
        rc = conf_set(c, "auto.offset.reset", opts->from_beginning ? "earliest" : "latest", err);
    if (!rc)
        rc = conf_set(c, "client.id", "ticktape", err);
    for (const char *const *kv = opts->conf; !rc && kv && *kv; kv++) {
        char key[256];
        const char *eq = strchr(*kv, '=');
        if (!eq || (size_t)(eq - *kv) >= sizeof key) {
            rc = tt_err_set(err, TT_EINVAL, "kafka setting '%s': expected key=value", *kv);
            break;
        }
        memcpy(key, *kv, (size_t)(eq - *kv));
        key[eq - *kv] = '\0';
        rc = conf_set(c, key, eq + 1, err);
    }
    if (rc) {
        rd_kafka_conf_destroy(c);
        free(s);
        return rc;
    }
    char errstr[512];
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    if (!s->rk) {
        free(s);
        return tt_err_set(err, TT_EINVAL, "kafka consumer: %s", errstr);
    }
    rd_kafka_poll_set_consumer(s->rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    if (e) {
        rd_kafka_destroy(s->rk);
        free(s);
        return tt_err_set(err, TT_ENET, "kafka subscribe %s: %s", topic, rd_kafka_err2str(e));
    }
    if (pthread_create(&s->th, NULL, poll_loop, s)) {
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
        free(s);
        return tt_err_set(err, TT_ENOMEM, "kafka source: cannot start the poll thread");
    }
    s->started = 1;
    *out = s;
    return TT_OK;
}

void tt_kafka_source_stats_get(tt_kafka_source *s, tt_kafka_source_stats *out)
{
    out->received = atomic_load(&s->received);
    out->ticks = atomic_load(&s->ticks);
    out->rejected = atomic_load(&s->rejected);
    out->errors = atomic_load(&s->errors);
}

void tt_kafka_source_close(tt_kafka_source *s)
{
    if (!s)
        return;
    atomic_store(&s->quit, 1);
    if (s->started)
        pthread_join(s->th, NULL);
    rd_kafka_consumer_close(s->rk);
    rd_kafka_destroy(s->rk);
    free(s);
}
