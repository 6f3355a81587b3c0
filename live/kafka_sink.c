/*
 * The Kafka sink: encode once (wire.h), produce to each topic of the event
 * with the symbol as key, poll for delivery reports after each produce so the
 * counters stay current without a thread of our own.
 */
#include "kafka_sink.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_conf.h"
#include "wire.h"

struct tt_kafka_sink {
    tt_kafka_sink_opts o;
    rd_kafka_t *rk;
    tt_kafka_sink_stats st;
    uint8_t big[TT_WIRE_FEATURES_MSG_MAX]; /* a model's signal with its feature row */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    tt_kafka_sink *s = opaque;
    if (!m->err) {
        s->st.delivered++;
        return;
    }
    s->st.failed++;
    if (s->o.log && (s->st.failed <= 20 || s->st.failed % 10000 == 0)) {
        char line[512];
        snprintf(line, sizeof line, "kafka: delivery to %s failed (#%llu): %s",
                 rd_kafka_topic_name(m->rkt), (unsigned long long)s->st.failed,
                 rd_kafka_err2str(m->err));
        s->o.log(s->o.log_ctx, line);
    }
}

int tt_kafka_sink_open(tt_kafka_sink **out, const tt_kafka_sink_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!opts || !opts->brokers || !opts->ins)
        return tt_err_set(err, TT_EINVAL, "kafka sink: brokers and instruments are required");
    tt_kafka_sink *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "kafka sink: out of memory");
    s->o = *opts;
    if (s->o.flush_timeout_ms <= 0)
        s->o.flush_timeout_ms = 10000;
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *base[] = {"enable.idempotence=true", "linger.ms=5", "client.id=ticktape", NULL};
    char bs[1024];
    snprintf(bs, sizeof bs, "bootstrap.servers=%s", opts->brokers);
    const char *boot[] = {bs, NULL};
    int rc = tt_kafka_conf_apply(c, boot, err);
    if (!rc)
        rc = tt_kafka_conf_apply(c, base, err);
    if (!rc)
        rc = tt_kafka_conf_apply(c, opts->conf, err);
    if (rc) {
        rd_kafka_conf_destroy(c);
        free(s);
        return rc;
    }
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_conf_set_opaque(c, s);
    char errstr[512];
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    if (!s->rk) {
        free(s);
        return tt_err_set(err, TT_EINVAL, "kafka producer: %s", errstr);
    }
    *out = s;
    return TT_OK;
}

/* One message to one topic. When librdkafka's local queue is full, serve
 * deliveries and retry (never drop). */
static int produce_one(tt_kafka_sink *s, const char *topic, const char *key, const void *data,
                       size_t len, tt_ts ts, const char *type, tt_err *err)
{
    for (int attempt = 0;; attempt++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            s->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE((void *)data, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(ts / TT_NS_PER_MS), RD_KAFKA_V_HEADER("tt-type", type, -1),
            RD_KAFKA_V_END);
        if (!e) {
            s->st.produced++;
            return TT_OK;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || attempt >= 1000)
            return tt_err_set(err, TT_ENET, "kafka produce to %s: %s", topic,
                              rd_kafka_err2str(e));
        s->st.retries++;
        rd_kafka_poll(s->rk, 10);
    }
}

int tt_kafka_sink_produce(tt_kafka_sink *s, const tt_event *ev, tt_err *err)
{
    const char *topics[4];
    int n = tt_wire_output_topics(ev, topics, 4);
    if (!n)
        return TT_OK;
    uint8_t buf[TT_WIRE_MSG_MAX];
    const void *val = buf;
    size_t len;
    const tt_instrument *in = tt_instruments_get(s->o.ins, ev->symbol);
    const char *key = in ? in->symbol : "_";
    if (ev->kind == TT_EV_EXTERNAL) { /* the message as received, keyed by its type */
        val = ev->u.blob.data;
        len = ev->u.blob.len;
        key = tt_external_type_name(ev->u.blob.type);
    } else if (ev->kind == TT_EV_SIGNAL && ev->u.signal.has_model && s->o.signal_row) {
        int nf = 0;
        const double *row = s->o.signal_row(s->o.signal_row_ctx, ev, &nf);
        len = tt_wire_signal_encode(s->o.ins, ev, row, nf, s->big, sizeof s->big);
        val = s->big;
    } else {
        len = tt_wire_output_encode(s->o.ins, ev, buf, sizeof buf);
    }
    const char *type = tt_wire_output_type(ev);
    for (int i = 0; i < n; i++) {
        int rc = produce_one(s, topics[i], key, val, len, ev->ts, type, err);
        if (rc)
            return rc;
    }
    rd_kafka_poll(s->rk, 0);
    return TT_OK;
}

int tt_kafka_sink_produce_raw(tt_kafka_sink *s, const char *topic, const char *key,
                              const void *data, size_t len, tt_ts ts, const char *type,
                              tt_err *err)
{
    int rc = produce_one(s, topic, key && key[0] ? key : "_", data, len, ts, type, err);
    rd_kafka_poll(s->rk, 0);
    return rc;
}

int tt_kafka_sink_flush(tt_kafka_sink *s, tt_err *err)
{
    rd_kafka_flush(s->rk, (int)s->o.flush_timeout_ms);
    s->st.undelivered = (uint64_t)rd_kafka_outq_len(s->rk);
    if (s->st.undelivered || s->st.failed)
        return tt_err_set(err, TT_ENET,
                          "kafka %s: %llu messages undelivered after %lld ms and %llu failed "
                          "(of %llu produced)",
                          s->o.brokers, (unsigned long long)s->st.undelivered,
                          (long long)s->o.flush_timeout_ms, (unsigned long long)s->st.failed,
                          (unsigned long long)s->st.produced);
    return TT_OK;
}

static int sink_write(void *self, const tt_event *ev, tt_err *err)
{
    return tt_kafka_sink_produce(self, ev, err);
}

static int sink_flush(void *self, tt_err *err) { return tt_kafka_sink_flush(self, err); }

tt_sink tt_kafka_sink_sink(tt_kafka_sink *s)
{
    tt_sink k = {.self = s, .write = sink_write, .flush = sink_flush};
    return k;
}

void tt_kafka_sink_stats_get(tt_kafka_sink *s, tt_kafka_sink_stats *out)
{
    rd_kafka_poll(s->rk, 0);
    *out = s->st;
}

void tt_kafka_sink_close(tt_kafka_sink *s)
{
    if (!s)
        return;
    rd_kafka_flush(s->rk, (int)s->o.flush_timeout_ms);
    rd_kafka_destroy(s->rk);
    free(s);
}
