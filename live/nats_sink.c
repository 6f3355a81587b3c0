/*
 * The NATS sink: encode once per output (wire.h), publish on each of its
 * subjects. Runs on the engine thread; counters are plain integers read by
 * the same thread or after the run.
 */
#include "nats_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nats_conn.h"
#include "wire.h"

struct tt_nats_sink {
    tt_nats_sink_opts o;
    natsOptions *nopts;
    natsConnection *nc;
    int owned;
    tt_nats_sink_stats st;
    uint8_t big[TT_WIRE_FEATURES_MSG_MAX]; /* a model's signal with its feature row */
};

int tt_nats_sink_open(tt_nats_sink **out, const tt_nats_sink_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!opts || !opts->ins || (!opts->conn && !opts->url))
        return tt_err_set(err, TT_EINVAL, "nats sink: instruments and a url or connection needed");
    tt_nats_sink *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "nats sink: out of memory");
    s->o = *opts;
    if (opts->conn) {
        s->nc = opts->conn;
    } else {
        int rc = tt_nats_options_new(&s->nopts, opts->url, opts->auth, err);
        if (rc) {
            free(s);
            return rc;
        }
        natsStatus st = natsOptions_SetMaxReconnect(s->nopts, -1);
        if (st == NATS_OK)
            st = natsOptions_SetReconnectWait(s->nopts, 100);
        if (st == NATS_OK && opts->send_asap)
            st = natsOptions_SetSendAsap(s->nopts, true);
        if (st == NATS_OK)
            st = natsConnection_Connect(&s->nc, s->nopts);
        if (st != NATS_OK) {
            char shown[TT_URL_SHOWN_MAX];
            natsOptions_Destroy(s->nopts);
            free(s);
            return tt_err_set(err, TT_ENET, "nats %s: connect: %s",
                              tt_url_redact(opts->url, shown, sizeof shown),
                              natsStatus_GetText(st));
        }
        s->owned = 1;
    }
    *out = s;
    return TT_OK;
}

/* One message on one subject: counted, a failure logged (the first 20, then
 * every 10,000th). */
static void put(tt_nats_sink *s, const char *subj, const void *data, size_t len)
{
    natsStatus st = natsConnection_Publish(s->nc, subj, data, (int)len);
    if (st == NATS_OK) {
        s->st.published++;
        return;
    }
    s->st.failed++;
    if (s->o.log && (s->st.failed <= 20 || s->st.failed % 10000 == 0)) {
        char line[256];
        snprintf(line, sizeof line, "nats: publish #%llu on %s failed: %s",
                 (unsigned long long)s->st.failed, subj, natsStatus_GetText(st));
        s->o.log(s->o.log_ctx, line);
    }
}

int tt_nats_sink_publish(tt_nats_sink *s, const tt_event *ev)
{
    char subj[TT_WIRE_MAX_SUBJECTS][TT_WIRE_SUBJECT_MAX];
    int n = tt_wire_output_subjects(s->o.ins, ev, subj, TT_WIRE_MAX_SUBJECTS);
    if (!n) {
        s->st.skipped++;
        return TT_OK;
    }
    uint8_t small[TT_WIRE_MSG_MAX * 2], *buf = small;
    size_t len;
    if (ev->kind == TT_EV_SIGNAL && ev->u.signal.has_model && s->o.signal_row) {
        int nf = 0;
        const double *row = s->o.signal_row(s->o.signal_row_ctx, ev, &nf);
        buf = s->big;
        len = s->o.json ? tt_wire_signal_json(s->o.ins, ev, row, nf, (char *)buf, sizeof s->big)
                        : tt_wire_signal_encode(s->o.ins, ev, row, nf, buf, sizeof s->big);
    } else {
        len = s->o.json ? tt_wire_output_json(s->o.ins, ev, (char *)buf, sizeof small)
                        : tt_wire_output_encode(s->o.ins, ev, buf, sizeof small);
    }
    for (int i = 0; i < n; i++)
        put(s, subj[i], buf, len);
    return TT_OK;
}

int tt_nats_sink_publish_raw(tt_nats_sink *s, const char *subject, const void *data, size_t len)
{
    put(s, subject, data, len);
    return TT_OK;
}

static int sink_write(void *self, const tt_event *ev, tt_err *err)
{
    (void)err;
    return tt_nats_sink_publish(self, ev);
}

static int sink_flush(void *self, tt_err *err)
{
    tt_nats_sink *s = self;
    natsStatus st = natsConnection_FlushTimeout(s->nc, 2000);
    if (st != NATS_OK)
        return tt_err_set(err, TT_ENET,
                          "nats: %llu published outputs not confirmed by the server: %s",
                          (unsigned long long)s->st.published, natsStatus_GetText(st));
    return TT_OK;
}

tt_sink tt_nats_sink_sink(tt_nats_sink *s)
{
    tt_sink k = {.self = s, .write = sink_write, .flush = sink_flush};
    return k;
}

void tt_nats_sink_stats_get(const tt_nats_sink *s, tt_nats_sink_stats *out) { *out = s->st; }

void tt_nats_sink_close(tt_nats_sink *s)
{
    if (!s)
        return;
    if (s->owned) {
        natsConnection_FlushTimeout(s->nc, 2000);
        natsConnection_Close(s->nc);
        natsConnection_Destroy(s->nc);
        natsOptions_Destroy(s->nopts);
    }
    free(s);
}
