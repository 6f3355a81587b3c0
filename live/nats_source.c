/*
 * The NATS source: nats.c subscriptions whose message callbacks decode into
 * tt_event and push into the inbox.
 *
 * Counters are atomics: callbacks of different subscriptions run on
 * different nats.c threads. The connection callbacks (disconnected,
 * reconnected) run on yet another thread and only push control events.
 *
 * Closing: subscriptions are unsubscribed and destroyed before the connection
 * is closed, and natsConnection_Close waits for in-flight callbacks, so the
 * inbox (borrowed) may be freed right after tt_nats_source_close returns.
 *
 * The connection's options (authentication, TLS) come from nats_conn.h; the
 * URL is kept only in its redacted form (tt_url_redact), the one every log
 * line and error prints.
 */
#include "nats_source.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nats_conn.h"
#include "wire.h"

#define TT_NATS_MAX_SUBS 16

struct tt_nats_source {
    tt_nats_source_opts o;
    char url[TT_URL_SHOWN_MAX]; /* redacted copy: callbacks on other threads print it */
    natsOptions *nopts;
    natsConnection *nc;
    natsSubscription *subs[TT_NATS_MAX_SUBS];
    int nsubs;
    atomic_ullong received, ticks, bars, externals, rejected, disconnects, reconnects;
    atomic_ullong async_errors;
    atomic_int closing;
    pthread_mutex_t mu; /* closed-callback handshake */
    pthread_cond_t cv;
    int closed;
};

static void logline(tt_nats_source *s, const char *fmt, const char *a, const char *b)
{
    if (!s->o.log)
        return;
    char line[512];
    snprintf(line, sizeof line, fmt, a, b);
    s->o.log(s->o.log_ctx, line);
}

static tt_ts wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (tt_ts)t.tv_sec * TT_NS_PER_SEC + t.tv_nsec;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    tt_nats_source *s = closure;
    const char *subj = natsMsg_GetSubject(msg);
    const char *data = natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    atomic_fetch_add(&s->received, 1);
    tt_event ev;
    tt_err err;
    int rc;
    if (!strncmp(subj, "ticks.", 6)) {
        rc = tt_wire_tick_subject_decode(subj, data, (size_t)len, s->o.json_ticks, s->o.ins, &ev,
                                         &err);
        if (!rc)
            rc = tt_wire_check_time(&ev, wall_now(), s->o.max_tick_age,
                                    s->o.max_tick_ahead ? s->o.max_tick_ahead
                                                        : TT_WIRE_TICK_AHEAD, &err);
        if (!rc)
            atomic_fetch_add(&s->ticks, 1);
    } else if (!strncmp(subj, "bars.", 5)) {
        rc = tt_wire_bar_decode(subj, data, (size_t)len, s->o.ins, &ev, &err);
        if (!rc)
            atomic_fetch_add(&s->bars, 1);
    } else if (!strncmp(subj, "market.external.", 16)) {
        rc = tt_wire_external_decode(subj, data, (size_t)len, &ev, &err);
        if (!rc)
            atomic_fetch_add(&s->externals, 1);
    } else {
        rc = tt_err_set(&err, TT_EFORMAT, "no decoder for this subject");
    }
    if (!rc && s->o.source_of && !(ev.source = s->o.source_of(s->o.source_ctx, subj)))
        rc = tt_err_set(&err, TT_EFORMAT, "not a source of this feed");
    if (rc) {
        /* Log first, count second: whoever sees the count sees the line. */
        tt_inbox_reject(s->o.inbox, subj, err.msg);
        atomic_fetch_add(&s->rejected, 1);
    } else if (ev.kind == TT_EV_EXTERNAL) {
        int prc = tt_inbox_push(s->o.inbox, &ev, ev.u.blob.data, ev.u.blob.len);
        if (prc < 0) {
            char why[128];
            if (prc == TT_EINVAL)
                snprintf(why, sizeof why, "payload of %d bytes over the %u-byte limit (refused "
                         "whole, never cut)", len, TT_INBOX_MAX_PAYLOAD);
            else
                snprintf(why, sizeof why, "out of memory copying the payload");
            tt_inbox_reject(s->o.inbox, subj, why);
            atomic_fetch_add(&s->rejected, 1);
        }
    } else {
        tt_inbox_push(s->o.inbox, &ev, NULL, 0);
    }
    natsMsg_Destroy(msg);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    tt_nats_source *s = closure;
    if (atomic_load(&s->closing))
        return;
    unsigned long long n = atomic_fetch_add(&s->disconnects, 1) + 1;
    if (!tt_inbox_stopping(s->o.inbox))
        tt_inbox_push_control(s->o.inbox, TT_CTL_GAP_BEGIN, (uint32_t)n);
    logline(s, "nats: disconnected from %s%s; feed gap begins", s->o.url, "");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    tt_nats_source *s = closure;
    if (atomic_load(&s->closing))
        return;
    atomic_fetch_add(&s->reconnects, 1);
    unsigned long long n = atomic_load(&s->disconnects);
    tt_inbox_push_control(s->o.inbox, TT_CTL_GAP_END, (uint32_t)n);
    logline(s, "nats: reconnected to %s%s; feed gap ends", s->o.url, "");
}

/* The last callback nats.c makes for a connection: after it, s may go. */
static void on_closed(natsConnection *nc, void *closure)
{
    (void)nc;
    tt_nats_source *s = closure;
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus st, void *closure)
{
    (void)nc;
    tt_nats_source *s = closure;
    /* Slow-consumer reports come once per dropped batch: log the first few. */
    unsigned long long n = atomic_fetch_add(&s->async_errors, 1) + 1;
    if (n <= 5 || n % 1000 == 0) {
        char what[160];
        snprintf(what, sizeof what, "%s (#%llu%s)", sub ? natsSubscription_GetSubject(sub) : "-",
                 n, n == 5 ? "; further ones every 1000th" : "");
        logline(s, "nats: %s (subscription %s)", natsStatus_GetText(st), what);
    }
}

/* url: the redacted one. nats.c's last error says why (e.g. an authorization
 * violation, a certificate that does not verify). */
static int nats_fail(tt_err *err, natsStatus st, const char *what, const char *url)
{
    const char *last = nats_GetLastError(NULL);
    return tt_err_set(err, TT_ENET, "nats %s: %s: %s%s%s", url, what, natsStatus_GetText(st),
                      last && *last ? ": " : "", last && *last ? last : "");
}

int tt_nats_source_open(tt_nats_source **out, const tt_nats_source_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!opts || !opts->url || !opts->ins || !opts->inbox)
        return tt_err_set(err, TT_EINVAL, "nats source: url, instruments and inbox are required");
    tt_nats_source *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "nats source: out of memory");
    s->o = *opts;
    tt_url_redact(opts->url, s->url, sizeof s->url);
    s->o.url = s->url;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    /* ticks.* (one word: the symbol), not ticks.>: the raw feeds of an aggregator,
     * ticks.{SOURCE}.{SYMBOL}, are not a session's input (docs/sources.md) */
    static const char *const defaults[] = {"ticks.*", "bars.>", "market.external.>", NULL};
    const char *const *subjects = opts->subjects ? opts->subjects : defaults;
    int rc = tt_nats_options_new(&s->nopts, opts->url, opts->auth, err);
    if (rc) {
        tt_nats_source_close(s);
        return rc;
    }
    natsStatus st = natsOptions_SetMaxReconnect(s->nopts, opts->max_reconnect > 0 ? opts->max_reconnect
                                                                           : -1);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(
            s->nopts, opts->reconnect_wait_ms > 0 ? opts->reconnect_wait_ms : 100);
    if (st == NATS_OK)
        st = natsOptions_SetTimeout(s->nopts,
                                    opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 2000);
    /* The paper sink publishes on this same connection (tt_nats_source_connection):
     * no-echo keeps the session's own bars from coming back as input, and
     * send-asap writes each output at once (latency). */
    if (st == NATS_OK)
        st = natsOptions_SetNoEcho(s->nopts, true);
    if (st == NATS_OK)
        st = natsOptions_SetSendAsap(s->nopts, true);
    if (st == NATS_OK)
        st = natsOptions_SetDisconnectedCB(s->nopts, on_disconnected, s);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectedCB(s->nopts, on_reconnected, s);
    if (st == NATS_OK)
        st = natsOptions_SetErrorHandler(s->nopts, on_error, s);
    if (st == NATS_OK)
        st = natsOptions_SetClosedCB(s->nopts, on_closed, s);
    if (st != NATS_OK) {
        int frc = nats_fail(err, st, "options", s->url); /* before s goes */
        tt_nats_source_close(s);
        return frc;
    }
    if ((st = natsConnection_Connect(&s->nc, s->nopts)) != NATS_OK) {
        int frc = nats_fail(err, st, "connect", s->url); /* before s goes */
        tt_nats_source_close(s);
        return frc;
    }
    /* nats.c's queue is the buffer upstream of the inbox's backpressure, and
     * its delivery thread (decoding) is slower than a publisher at full speed:
     * 262,144 messages hold the README's 266,219-tick burst with room (about
     * 50 MiB at the limit; 65,536 dropped 2-11% of it, measured) */
    int pending = opts->pending_msgs > 0 ? opts->pending_msgs : 1 << 18;
    for (const char *const *subj = subjects; *subj; subj++) {
        if (s->nsubs == TT_NATS_MAX_SUBS) {
            tt_nats_source_close(s);
            return tt_err_set(err, TT_EINVAL, "nats source: more than %d subjects",
                              TT_NATS_MAX_SUBS);
        }
        natsSubscription **sub = &s->subs[s->nsubs];
        st = natsConnection_Subscribe(sub, s->nc, *subj, on_msg, s);
        if (st == NATS_OK) {
            s->nsubs++;
            int64_t bytes = opts->pending_bytes > 0 ? opts->pending_bytes : 64 << 20;
            if (!strncmp(*subj, "ticks.", 6) && opts->tick_pending_bytes > 0)
                bytes = opts->tick_pending_bytes;
            st = natsSubscription_SetPendingLimits(*sub, pending,
                                                   bytes > INT_MAX ? INT_MAX : (int)bytes);
        }
        if (st != NATS_OK) {
            char what[128];
            snprintf(what, sizeof what, "subscribe '%s'", *subj);
            int frc = nats_fail(err, st, what, s->url); /* before s goes */
            tt_nats_source_close(s);
            return frc;
        }
    }
    /* Make sure the server has the subscriptions before anyone publishes. */
    if ((st = natsConnection_FlushTimeout(s->nc, 2000)) != NATS_OK) {
        int frc = nats_fail(err, st, "flush", s->url); /* before s goes */
        tt_nats_source_close(s);
        return frc;
    }
    *out = s;
    return TT_OK;
}

natsConnection *tt_nats_source_connection(tt_nats_source *s) { return s->nc; }

void tt_nats_source_stats_get(tt_nats_source *s, tt_nats_source_stats *out)
{
    memset(out, 0, sizeof *out);
    out->received = atomic_load(&s->received);
    out->ticks = atomic_load(&s->ticks);
    out->bars = atomic_load(&s->bars);
    out->externals = atomic_load(&s->externals);
    out->rejected = atomic_load(&s->rejected);
    out->disconnects = atomic_load(&s->disconnects);
    out->reconnects = atomic_load(&s->reconnects);
    for (int i = 0; i < s->nsubs; i++) {
        int64_t d = 0;
        if (natsSubscription_GetDropped(s->subs[i], &d) == NATS_OK && d > 0)
            out->nats_dropped += (uint64_t)d;
    }
}

void tt_nats_source_close(tt_nats_source *s)
{
    if (!s)
        return;
    atomic_store(&s->closing, 1);
    for (int i = 0; i < s->nsubs; i++) {
        natsSubscription_Unsubscribe(s->subs[i]);
        natsSubscription_Destroy(s->subs[i]);
    }
    if (s->nc) {
        natsConnection_Close(s->nc);
        /* Wait (bounded) for the closed callback, so no callback outlives s. */
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 5;
        pthread_mutex_lock(&s->mu);
        while (!s->closed && pthread_cond_timedwait(&s->cv, &s->mu, &dl) == 0)
            ;
        pthread_mutex_unlock(&s->mu);
        natsConnection_Destroy(s->nc);
    }
    natsOptions_Destroy(s->nopts);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
