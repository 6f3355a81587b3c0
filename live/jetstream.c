/*
 * Distributed sweeps over NATS JetStream (nats.c).
 *
 * The sweep publishes one message per job on backtest.jobs.{run_id} into a
 * work-queue stream, and reads completions from a results stream through an
 * ordered consumer that it opens before publishing (so it sees every
 * completion of its own jobs, and only new ones). Completions are matched to
 * jobs by run id through a sorted index; the first completion of a run id
 * counts, every later one is a duplicate and is only counted as such. The
 * results are published with the run id as Nats-Msg-Id, so the server itself
 * drops duplicates that arrive within its dedupe window (two minutes by
 * default).
 *
 * Why the order "publish result, then ack": a worker that dies between the
 * two makes the job come back and run again; the result is then published
 * twice (the second is deduplicated), never zero times. The reverse order
 * could lose a result.
 *
 * A worker runs each job in a child process through tt_pool_run (one job,
 * one worker) so that the parent keeps its NATS connection responsive: on
 * every pool tick it sends natsMsg_InProgress (the server restarts the ack
 * wait) and a backtest.progress message. The child never touches the NATS
 * connection it inherited; it computes and exits.
 */
#include "jetstream.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../sim/pool.h"

struct tt_js {
    natsConnection *nc;
    jsCtx *js;
    tt_js_opts opts;
    char url[256];
    int async_failed; /* asynchronous publishes the server refused (atomic) */
};

/* nats.c calls this from its own thread for a job publish that failed. */
static void on_async_publish_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pae;
    __atomic_add_fetch(&((tt_js *)closure)->async_failed, 1, __ATOMIC_SEQ_CST);
}

static int nerr(tt_err *err, const char *what, natsStatus s, jsErrCode jerr)
{
    const char *last = nats_GetLastError(NULL);
    return tt_err_set(err, TT_ENET, "nats: %s: %s%s%s (jetstream code %d)", what,
                      natsStatus_GetText(s), last && *last ? ": " : "", last ? last : "",
                      (int)jerr);
}

int tt_js_connect(tt_js **out, const tt_js_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!opts || !opts->url || !*opts->url)
        return tt_err_set(err, TT_EINVAL, "nats: no server URL");
    tt_js *j = calloc(1, sizeof *j);
    if (!j)
        return tt_err_set(err, TT_ENOMEM, "nats: out of memory");
    j->opts = *opts;
    snprintf(j->url, sizeof j->url, "%s", opts->url);
    j->opts.url = j->url;
    if (!j->opts.ack_wait_ms)
        j->opts.ack_wait_ms = 30000;
    if (!j->opts.max_deliver)
        j->opts.max_deliver = 5;
    natsOptions *no = NULL;
    natsStatus s = natsOptions_Create(&no);
    if (s == NATS_OK)
        s = natsOptions_SetURL(no, j->url);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(no, 5000);
    if (s == NATS_OK && opts->name)
        s = natsOptions_SetName(no, opts->name);
    if (s == NATS_OK)
        s = natsConnection_Connect(&j->nc, no);
    natsOptions_Destroy(no);
    if (s != NATS_OK) {
        int rc = tt_err_set(err, TT_ENET, "nats: cannot connect to %s: %s", j->url,
                            natsStatus_GetText(s));
        free(j);
        return rc;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.ErrHandler = on_async_publish_error;
    jo.PublishAsync.ErrHandlerClosure = j;
    s = natsConnection_JetStream(&j->js, j->nc, &jo);
    if (s != NATS_OK) {
        int rc = nerr(err, "JetStream context", s, 0);
        natsConnection_Destroy(j->nc);
        free(j);
        return rc;
    }
    *out = j;
    return TT_OK;
}

void tt_js_close(tt_js *j)
{
    if (!j)
        return;
    if (j->nc) {
        natsConnection_FlushTimeout(j->nc, 2000);
        jsCtx_Destroy(j->js);
        natsConnection_Destroy(j->nc);
    }
    free(j);
}

static int add_stream(tt_js *j, const char *name, const char *subject, int work_queue, tt_err *err)
{
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char *subjects[] = {subject};
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Retention = work_queue ? js_WorkQueuePolicy : js_LimitsPolicy;
    if (!work_queue)
        sc.MaxAge = 24LL * 3600 * 1000000000LL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(&si, j->js, &sc, NULL, &jerr);
    jsStreamInfo_Destroy(si);
    if (s == NATS_OK || jerr == JSStreamNameExistErr)
        return TT_OK;
    char what[96];
    snprintf(what, sizeof what, "creating stream %s on %s", name, j->url);
    return nerr(err, what, s, jerr);
}

/* update: make an existing consumer take this side's ack wait. The sweep
 * does (it decides how long a silent worker may keep a job); workers only
 * create what is missing, so starting a worker never changes a sweep's
 * setting. */
static int setup(tt_js *j, int update, tt_err *err)
{
    int rc = add_stream(j, TT_JS_JOBS_STREAM, "backtest.jobs.>", 1, err);
    if (!rc)
        rc = add_stream(j, TT_JS_RESULTS_STREAM, "backtest.completed.>", 0, err);
    if (rc)
        return rc;
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = TT_JS_CONSUMER;
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverAll;
    cc.AckWait = j->opts.ack_wait_ms * 1000000LL;
    cc.MaxDeliver = j->opts.max_deliver;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddConsumer(&ci, j->js, TT_JS_JOBS_STREAM, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (s == NATS_OK)
        return TT_OK;
    if (!update) {
        /* It exists (with whatever the sweep chose): bind to it as it is. */
        ci = NULL;
        jerr = 0;
        s = js_GetConsumerInfo(&ci, j->js, TT_JS_JOBS_STREAM, TT_JS_CONSUMER, NULL, &jerr);
        jsConsumerInfo_Destroy(ci);
        return s == NATS_OK ? TT_OK : nerr(err, "creating the workers' consumer", s, jerr);
    }
    /* It exists with another configuration (another sweep's ack wait): update it. */
    ci = NULL;
    jerr = 0;
    s = js_UpdateConsumer(&ci, j->js, TT_JS_JOBS_STREAM, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK)
        return nerr(err, "creating the workers' consumer", s, jerr);
    return TT_OK;
}

int tt_js_setup(tt_js *j, tt_err *err)
{
    return setup(j, 1, err);
}

int tt_js_publish(tt_js *j, const char *subject, const void *data, size_t len, tt_err *err)
{
    natsStatus s = natsConnection_Publish(j->nc, subject, data, (int)len);
    if (s != NATS_OK)
        return nerr(err, subject, s, 0);
    return TT_OK;
}

const char *tt_js_subject_run_id(const char *subject)
{
    const char *dot = subject ? strrchr(subject, '.') : NULL;
    return dot ? dot + 1 : subject;
}

static double mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---- the sweep side ---- */

typedef struct id_ix {
    const char *id;
    size_t index;
} id_ix;

static int id_cmp(const void *a, const void *b)
{
    return strcmp(((const id_ix *)a)->id, ((const id_ix *)b)->id);
}

int tt_js_sweep(tt_js *j, size_t njobs, const char *const *run_ids, const tt_buf *payloads,
                const tt_js_sweep_opts *opts, size_t *duplicates, tt_err *err)
{
    tt_js_sweep_opts o = opts ? *opts : (tt_js_sweep_opts){0};
    int64_t timeout = o.timeout_ms ? o.timeout_ms : 600000;
    if (duplicates)
        *duplicates = 0;
    int rc = tt_js_setup(j, err);
    if (rc)
        return rc;
    id_ix *ix = calloc(njobs ? njobs : 1, sizeof *ix);
    char *seen = calloc(njobs ? njobs : 1, 1);
    if (!ix || !seen) {
        free(ix), free(seen);
        return tt_err_set(err, TT_ENOMEM, "sweep: out of memory");
    }
    for (size_t i = 0; i < njobs; i++)
        ix[i] = (id_ix){run_ids[i], i};
    qsort(ix, njobs, sizeof *ix, id_cmp);

    /* Listen before publishing, so no completion can come before we look. */
    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = TT_JS_RESULTS_STREAM;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverNew;
    jsErrCode jerr = 0;
    natsStatus s = js_SubscribeSync(&sub, j->js, "backtest.completed.>", NULL, &so, &jerr);
    if (s != NATS_OK) {
        free(ix), free(seen);
        return nerr(err, "subscribing to results", s, jerr);
    }
    /* Publish every job without waiting for each acknowledgment, then wait for
     * them all: one round trip per sweep instead of one per job. */
    __atomic_store_n(&j->async_failed, 0, __ATOMIC_SEQ_CST);
    for (size_t i = 0; i < njobs && !rc; i++) {
        char subj[160];
        snprintf(subj, sizeof subj, "backtest.jobs.%s", run_ids[i]);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = run_ids[i];
        s = js_PublishAsync(j->js, subj, payloads[i].data, (int)payloads[i].len, &po);
        if (s != NATS_OK)
            rc = nerr(err, "publishing a job", s, 0);
    }
    if (!rc) {
        jsPubOptions wo;
        jsPubOptions_Init(&wo);
        wo.MaxWait = 30000;
        s = js_PublishAsyncComplete(j->js, &wo);
        int failed = __atomic_load_n(&j->async_failed, __ATOMIC_SEQ_CST);
        if (s != NATS_OK)
            rc = nerr(err, "waiting for the jobs' acknowledgments", s, 0);
        else if (failed)
            rc = tt_err_set(err, TT_ENET, "nats: %d of %zu jobs were refused by the server",
                            failed, njobs);
    }
    size_t got = 0, dup = 0;
    double last_new = mono_ms(), last_tick = last_new;
    while (!rc && got < njobs) {
        natsMsg *m = NULL;
        s = natsSubscription_NextMsg(&m, sub, 500);
        double now = mono_ms();
        if (o.on_tick && now - last_tick >= 1000) {
            o.on_tick(o.ctx, got, njobs);
            last_tick = now;
        }
        if (o.stop && *o.stop) {
            if (m)
                natsMsg_Destroy(m);
            break;
        }
        if (s == NATS_TIMEOUT) {
            if (now - last_new > (double)timeout)
                break;
            continue;
        }
        if (s != NATS_OK) {
            rc = nerr(err, "reading results", s, 0);
            break;
        }
        id_ix key = {tt_js_subject_run_id(natsMsg_GetSubject(m)), 0};
        id_ix *hit = bsearch(&key, ix, njobs, sizeof *ix, id_cmp);
        if (hit && !seen[hit->index]) {
            seen[hit->index] = 1;
            got++;
            last_new = now;
            if (o.on_result)
                o.on_result(o.ctx, hit->index, natsMsg_GetData(m),
                            (size_t)natsMsg_GetDataLength(m));
        } else if (hit) {
            dup++;
        }
        natsMsg_Destroy(m);
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    if (duplicates)
        *duplicates = dup;
    /* Giving up: take our unfinished jobs off the queue (best effort), so that
     * a worker started later does not run work nobody collects. */
    for (size_t i = 0; got < njobs && i < njobs; i++) {
        if (seen[i])
            continue;
        char subj[160];
        snprintf(subj, sizeof subj, "backtest.jobs.%s", run_ids[i]);
        jsOptions po;
        jsOptions_Init(&po);
        po.Stream.Purge.Subject = subj;
        js_PurgeStream(j->js, TT_JS_JOBS_STREAM, &po, NULL);
    }
    if (!rc && got < njobs) {
        size_t first = 0;
        while (first < njobs && seen[first])
            first++;
        if (o.stop && *o.stop)
            rc = tt_err_set(err, TT_EPARTIAL,
                            "interrupted: %zu of %zu results missing; their jobs were taken off "
                            "the queue", njobs - got, njobs);
        else
            rc = tt_err_set(err, TT_EPARTIAL,
                            "%zu of %zu results missing after %.0f s without news (first: %s); "
                            "are workers running against this server?",
                            njobs - got, njobs, (double)timeout / 1000.0, run_ids[first]);
    }
    free(ix), free(seen);
    return rc;
}

/* ---- the worker side ---- */

typedef struct work_ctx {
    tt_js *js;
    natsMsg *msg;
    tt_js_work_fn fn;
    void *fn_ctx;
    const char *run_id;
    const char *worker_id;
    double start;
} work_ctx;

static int child_job(void *vctx, size_t index, tt_buf *out, tt_err *err)
{
    (void)index;
    work_ctx *w = vctx;
    return w->fn(w->fn_ctx, w->run_id, natsMsg_GetData(w->msg),
                 (size_t)natsMsg_GetDataLength(w->msg), out, err);
}

static void worker_tick(void *vctx, size_t done, size_t total)
{
    (void)done, (void)total;
    work_ctx *w = vctx;
    /* Restart the ack wait: this job is alive. */
    natsMsg_InProgress(w->msg, NULL);
    char subj[160], body[256];
    snprintf(subj, sizeof subj, "backtest.progress.%s", w->run_id);
    int n = snprintf(body, sizeof body, "{\"run_id\":\"%s\",\"worker\":\"%s\",\"elapsed_s\":%.1f}",
                     w->run_id, w->worker_id, (mono_ms() - w->start) / 1000.0);
    natsConnection_Publish(w->js->nc, subj, body, n);
}

/* A completion payload for a job that produced no summary of its own. */
static int failed_payload(tt_buf *b, const char *run_id, int status, int signal, const char *msg)
{
    tt_run_summary s;
    memset(&s, 0, sizeof s);
    s.status = status;
    s.signal = signal;
    snprintf(s.run_id, sizeof s.run_id, "%s", run_id);
    snprintf(s.error, sizeof s.error, "%s", msg);
    tt_buf_reset(b);
    return tt_run_summary_json(b, &s, NULL, 0);
}

int tt_js_worker(tt_js *j, tt_js_work_fn fn, void *fn_ctx, const tt_js_worker_opts *opts,
                 uint64_t *done, tt_err *err)
{
    tt_js_worker_opts o = opts ? *opts : (tt_js_worker_opts){0};
    char wid[128];
    if (o.worker_id) {
        snprintf(wid, sizeof wid, "%s", o.worker_id);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(wid, sizeof wid, "%s:%d", host, (int)getpid());
    }
    unsigned period = o.progress_ms ? o.progress_ms : (unsigned)(j->opts.ack_wait_ms / 3);
    if (period < 50)
        period = 50;
    if (done)
        *done = 0;
    int rc = setup(j, 0, err);
    if (rc)
        return rc;
    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = TT_JS_JOBS_STREAM;
    so.Consumer = TT_JS_CONSUMER;
    jsErrCode jerr = 0;
    natsStatus s =
        js_PullSubscribe(&sub, j->js, "backtest.jobs.>", TT_JS_CONSUMER, NULL, &so, &jerr);
    if (s != NATS_OK)
        return nerr(err, "binding to the workers' consumer", s, jerr);
    uint64_t n = 0;
    int fetch_errors = 0;
    double idle_since = mono_ms();
    tt_buf result = {0};
    while (!rc) {
        if (o.stop && *o.stop)
            break;
        if (o.max_jobs && n >= o.max_jobs)
            break;
        if (o.idle_exit_ms && mono_ms() - idle_since > (double)o.idle_exit_ms)
            break;
        natsMsgList list = {0};
        jerr = 0;
        s = natsSubscription_Fetch(&list, sub, 1, 500, &jerr);
        if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
            natsMsgList_Destroy(&list);
            continue;
        }
        if (s != NATS_OK) {
            natsMsgList_Destroy(&list);
            if (o.stop && *o.stop)
                break;
            /* The client reconnects by itself (a server restart, a network
             * blip): keep asking for half a minute before giving up. */
            if (++fetch_errors < 60) {
                struct timespec pause = {0, 500 * 1000 * 1000};
                nanosleep(&pause, NULL);
                continue;
            }
            rc = nerr(err, "fetching a job", s, jerr);
            break;
        }
        fetch_errors = 0;
        natsMsg *m = list.Msgs[0];
        work_ctx w = {j,   m,        fn, fn_ctx, tt_js_subject_run_id(natsMsg_GetSubject(m)),
                      wid, mono_ms()};
        uint64_t delivery = 1;
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
            delivery = meta->NumDelivered;
            jsMsgMetaData_Destroy(meta);
        }
        char subj[160], body[256];
        snprintf(subj, sizeof subj, "backtest.started.%s", w.run_id);
        int bl =
            snprintf(body, sizeof body, "{\"run_id\":\"%s\",\"worker\":\"%s\",\"delivery\":%llu}",
                     w.run_id, wid, (unsigned long long)delivery);
        /* informational: sent with the next flush, no round trip of its own */
        natsConnection_Publish(j->nc, subj, body, bl);
        if (o.on_start)
            o.on_start(o.ctx, w.run_id, delivery);

        tt_pool_outcome out;
        tt_pool_opts po = {.workers = 1, .on_tick = worker_tick, .tick_ms = period, .cb_ctx = &w};
        tt_err perr;
        int status;
        if (tt_pool_run(1, child_job, &w, &po, &out, &perr) != 0) {
            out.status = TT_RUN_FAILED;
            snprintf(out.error, sizeof out.error, "%s", perr.msg);
            memset(&out.data, 0, sizeof out.data);
        }
        status = out.status;
        if (out.status == TT_RUN_OK) {
            tt_buf_reset(&result);
            tt_buf_append(&result, out.data.data, out.data.len);
        } else {
            failed_payload(&result, w.run_id, out.status, out.signal, out.error);
        }
        tt_buf_free(&out.data);

        snprintf(subj, sizeof subj, "backtest.completed.%s", w.run_id);
        jsPubOptions pub;
        jsPubOptions_Init(&pub);
        pub.MsgId = w.run_id;
        /* A reconnect in progress: retry for a while (the message id makes a
         * retry that did reach the server harmless). */
        for (int attempt = 0; attempt < 30; attempt++) {
            jsPubAck *pa = NULL;
            jerr = 0;
            s = js_Publish(&pa, j->js, subj, result.data, (int)result.len, &pub, &jerr);
            jsPubAck_Destroy(pa);
            if (s == NATS_OK || (o.stop && *o.stop))
                break;
            struct timespec pause = {1, 0};
            nanosleep(&pause, NULL);
        }
        if (s != NATS_OK) {
            /* Not acked: the job comes back to some worker after the ack wait. */
            rc = nerr(err, "publishing a result", s, jerr);
        } else {
            natsMsg_AckSync(m, NULL, NULL);
            n++;
            if (o.on_job)
                o.on_job(o.ctx, w.run_id, status, delivery);
        }
        natsMsgList_Destroy(&list);
        idle_since = mono_ms();
    }
    tt_buf_free(&result);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    if (done)
        *done = n;
    return rc;
}
