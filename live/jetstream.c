/*
 * Distributed sweeps over NATS JetStream (nats.c).
 *
 * The sweep publishes one message per job on backtest.jobs.{run_id} into a
 * work-queue stream (or per runs_per_job runs: a batch, on the subject of
 * its first run id, see jetstream.h), and reads completions from a results stream through an
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
 * could lose a result. For the same reason the ack is not waited for: an ack
 * lost on the way (a connection that drops) has the same outcome as a worker
 * dying before it acked, a second run whose result is a duplicate.
 *
 * A worker runs each job in a child process, its runner (forked once and
 * kept for the next runs; the result is sent back on a pipe), so that a run
 * that crashes takes nothing else with it and the parent keeps its NATS
 * connection responsive: while the run runs, the parent sends
 * natsMsg_InProgress periodically (the server restarts the ack wait) and a
 * backtest.progress message. The runner never touches the NATS connection it
 * inherited; it computes and answers.
 *
 * The worker's round trips overlap the runs. While run k+1 runs, the parent
 * stores run k's result (a synchronous JetStream publish: its PubAck says the
 * result is in TT_RESULTS), then, when run k was its message's last, acks
 * the message; when run k+1 is its message's last run, it asks for the next
 * message without waiting (no_wait: an empty queue answers at once) and
 * holds it, marked in progress like the running one, so that its first run
 * starts the moment run k+1 ends. A worker holds at most one message ahead,
 * so it does not hoard the end of a sweep; a worker that stops gives its
 * held message back (Nak), and one that dies holds it until the ack wait
 * passes, when the server redelivers it like the message that was running.
 *
 * A batch's runs run one after the other: a crash is that run's alone (the
 * runner dies with it, and the next run gets a new one). The message is acked after its last run's completion
 * is stored, so a worker that dies in the middle of a batch makes the whole
 * message come back; the runs it had completed run again, and their second
 * completions are duplicates (dropped by Msg-Id, and by the collector).
 *
 * Nothing in a job message is trusted (docs/security.md). The worker checks
 * the subject's run id (NATS-token characters only, so it can go into
 * subjects and JSON as is) and, with a job key, the message's signature
 * before anything runs; a message that fails is terminated without a run or
 * a completion (a completion would carry the run id's Msg-Id and could
 * shadow the real job's). What the job asks for is judged by the work
 * function (live/job_runner.c); its refusals, and runs killed at the run
 * deadline, terminate the message rather than ack it.
 */
#include "jetstream.h"

#include <nats/nats.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../sim/pool.h"
#include "nats_conn.h"

struct tt_js {
    natsConnection *nc;
    jsCtx *js;
    tt_js_opts opts;
    tt_hmac_key key; /* len 0: no job key */
    char url[TT_URL_SHOWN_MAX]; /* redacted (tt_url_redact): only ever printed */
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
    tt_url_redact(opts->url, j->url, sizeof j->url); /* the URL as printed */
    j->opts.url = j->url;
    if (opts->job_key)
        j->key = *opts->job_key;
    j->opts.job_key = NULL;
    if (!j->opts.ack_wait_ms)
        j->opts.ack_wait_ms = 30000;
    if (!j->opts.max_deliver)
        j->opts.max_deliver = 5;
    natsOptions *no = NULL;
    int orc = tt_nats_options_new(&no, opts->url, opts->auth, err);
    if (orc) {
        free(j);
        return orc;
    }
    j->opts.auth = NULL; /* not kept: the options hold what it said */
    natsStatus s = opts->name ? natsOptions_SetName(no, opts->name) : NATS_OK;
    if (s == NATS_OK)
        s = natsConnection_Connect(&j->nc, no);
    natsOptions_Destroy(no);
    if (s != NATS_OK) {
        const char *last = nats_GetLastError(NULL);
        int rc = tt_err_set(err, TT_ENET, "nats: cannot connect to %s: %s%s%s", j->url,
                            natsStatus_GetText(s), last && *last ? ": " : "",
                            last && *last ? last : "");
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
    /* Two processes creating it at once (workers started together on a fresh
     * server): the loser is told that the subjects overlap an existing
     * stream, which is then the one it wanted. */
    si = NULL;
    if (js_GetStreamInfo(&si, j->js, name, NULL, NULL) == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return TT_OK;
    }
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
    natsStatus s;
    if (!update) {
        /* It exists (with whatever the sweep chose): bind to it as it is. Ask
         * first: nats-server 2.9 takes a "create" of an existing durable
         * consumer with another configuration as an update, so a worker
         * starting would reset the sweep's ack wait to its own. */
        s = js_GetConsumerInfo(&ci, j->js, TT_JS_JOBS_STREAM, TT_JS_CONSUMER, NULL, &jerr);
        jsConsumerInfo_Destroy(ci);
        if (s == NATS_OK)
            return TT_OK;
    }
    ci = NULL;
    jerr = 0;
    s = js_AddConsumer(&ci, j->js, TT_JS_JOBS_STREAM, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (s == NATS_OK)
        return TT_OK;
    if (!update) {
        /* Created by another process meanwhile: bind to it as it is. */
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

size_t tt_js_runs_per_job_auto(size_t njobs)
{
    size_t k = njobs / 16;
    return k < 1 ? 1 : k > 8 ? 8 : k;
}

int tt_js_batch_encode(tt_buf *out, size_t n, const char *const *run_ids, const tt_buf *payloads,
                       tt_err *err)
{
    if (n == 0 || n > TT_JS_BATCH_MAX)
        return tt_err_set(err, TT_EINVAL, "a job message holds 1 to %d runs, not %zu",
                          TT_JS_BATCH_MAX, n);
    int bad = tt_buf_printf(out, "%s%d %zu\n", TT_JS_BATCH_MAGIC, TT_JS_BATCH_VERSION, n);
    for (size_t i = 0; !bad && i < n; i++)
        bad = tt_buf_printf(out, "%s %zu\n", run_ids[i], payloads[i].len) ||
              tt_buf_append(out, payloads[i].data, payloads[i].len) ||
              tt_buf_append(out, "\n", 1);
    return bad ? tt_err_set(err, TT_ENOMEM, "out of memory for a job message") : TT_OK;
}

/* A message with the job key's signature in its header (when there is a
 * key), built for a JetStream publish. NULL when out of memory. */
static natsMsg *signed_msg(const tt_js *j, const char *subj, const void *data, size_t len)
{
    natsMsg *m = NULL;
    if (natsMsg_Create(&m, subj, NULL, data, (int)len) != NATS_OK)
        return NULL;
    if (j->key.len) {
        char sig[TT_HMAC_SIG_MAX];
        tt_hmac_sign(&j->key, subj, data, len, sig);
        if (natsMsgHeader_Set(m, TT_HMAC_HEADER, sig) != NATS_OK) {
            natsMsg_Destroy(m);
            return NULL;
        }
    }
    return m;
}

static natsStatus publish_job(tt_js *j, const char *subj, const void *data, size_t len,
                              jsPubOptions *po)
{
    if (!j->key.len)
        return js_PublishAsync(j->js, subj, data, (int)len, po); /* copies the data */
    natsMsg *m = signed_msg(j, subj, data, len);
    if (!m)
        return NATS_NO_MEMORY;
    natsStatus s = js_PublishMsgAsync(j->js, &m, po); /* takes m on success */
    natsMsg_Destroy(m);
    return s;
}

/* With a job key: does this message carry the key's signature? */
static int signature_ok(const tt_js *j, natsMsg *m)
{
    if (!j->key.len)
        return 1;
    const char *sig = NULL;
    natsMsgHeader_Get(m, TT_HMAC_HEADER, &sig);
    const char *d = natsMsg_GetData(m);
    return tt_hmac_verify(&j->key, natsMsg_GetSubject(m), d ? d : "",
                          d ? (size_t)natsMsg_GetDataLength(m) : 0, sig);
}

/* Publish njobs runs, k per message, without waiting for each
 * acknowledgment, then wait for them all: one round trip per sweep instead of
 * one per message. A message holds runs [i, i + k) (the last one fewer). */
static int publish_jobs(tt_js *j, size_t njobs, size_t k, const char *const *run_ids,
                        const tt_buf *payloads, tt_err *err)
{
    int rc = TT_OK;
    size_t nmsgs = (njobs + k - 1) / k;
    tt_buf batch = {0};
    __atomic_store_n(&j->async_failed, 0, __ATOMIC_SEQ_CST);
    for (size_t i = 0; i < njobs && !rc; i += k) {
        size_t runs = njobs - i < k ? njobs - i : k;
        const void *data = payloads[i].data;
        size_t len = payloads[i].len;
        if (runs > 1) {
            tt_buf_reset(&batch);
            rc = tt_js_batch_encode(&batch, runs, run_ids + i, payloads + i, err);
            if (rc)
                break;
            data = batch.data, len = batch.len;
        }
        char subj[160];
        snprintf(subj, sizeof subj, "backtest.jobs.%s", run_ids[i]);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = run_ids[i];
        natsStatus s = publish_job(j, subj, data, len, &po);
        if (s != NATS_OK)
            rc = nerr(err, "publishing a job", s, 0);
    }
    tt_buf_free(&batch);
    if (rc)
        return rc;
    jsPubOptions wo;
    jsPubOptions_Init(&wo);
    wo.MaxWait = 30000;
    natsStatus s = js_PublishAsyncComplete(j->js, &wo);
    int failed = __atomic_load_n(&j->async_failed, __ATOMIC_SEQ_CST);
    if (s != NATS_OK)
        return nerr(err, "waiting for the jobs' acknowledgments", s, 0);
    if (failed)
        return tt_err_set(err, TT_ENET, "nats: %d of %zu job messages were refused by the server",
                          failed, nmsgs);
    return TT_OK;
}

int tt_js_sweep(tt_js *j, size_t njobs, const char *const *run_ids, const tt_buf *payloads,
                const tt_js_sweep_opts *opts, size_t *duplicates, tt_err *err)
{
    tt_js_sweep_opts o = opts ? *opts : (tt_js_sweep_opts){0};
    int64_t timeout = o.timeout_ms ? o.timeout_ms : 600000;
    if (duplicates)
        *duplicates = 0;
    if (o.forged)
        *o.forged = 0;
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
    size_t k = o.runs_per_job ? o.runs_per_job : 1;
    if (k > TT_JS_BATCH_MAX)
        k = TT_JS_BATCH_MAX;
    rc = publish_jobs(j, njobs, k, run_ids, payloads, err);
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
        if (hit && !signature_ok(j, m)) {
            if (o.forged)
                (*o.forged)++;
        } else if (hit && !seen[hit->index]) {
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
    /* Giving up: take our messages with unfinished runs off the queue (best
     * effort, by subject: the first run id of each), so that a worker started
     * later does not run work nobody collects. */
    for (size_t i = 0; got < njobs && i < njobs; i += k) {
        size_t e = i + k < njobs ? i + k : njobs, u = i;
        while (u < e && seen[u])
            u++;
        if (u == e)
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

/* One run of a job message: its run id and its payload (pointing into the
 * message's data). */
typedef struct job_run {
    const char *id;
    const char *data;
    size_t len;
} job_run;

/* A job message this worker holds (in its one-message list), its runs, and
 * what the status messages say about it. */
typedef struct held_job {
    natsMsgList list; /* Count 1 when a job is held, 0 when the slot is empty */
    natsMsg *msg;
    const char *run_id; /* the subject's run id (the first run's) */
    uint64_t delivery;
    uint64_t pending; /* messages the server had queued behind this one when it handed it out */
    double start;     /* when the running run started */
    job_run *runs;    /* a batch's nruns runs; NULL for a message of one run (`one`) */
    job_run one;
    char *ids;        /* the batch's run ids, NUL-terminated, one after the other */
    size_t nruns, at; /* at = the next run to start */
    int term;         /* terminated after its runs, not acked: it would fail anywhere */
    const char *refused; /* not run at all, no completion: why (see hold) */
    char error[256];
} held_job;

static const job_run *run_of(const held_job *h, size_t i)
{
    return h->runs ? &h->runs[i] : &h->one;
}

/* The runs run in a runner process (tt_jobproc, sim/pool.h): a child forked
 * once (and again after a run crashed it) that takes runs on one pipe and
 * answers on another. Forking per run cost the worker 0.66 ms of CPU a run (a
 * fork from a process with nats.c's threads); a runner that stays also keeps
 * its heap and whatever fn caches (the scenario, see cmd_worker.c). A run
 * that crashes takes the runner with it and nothing else: the worker reports
 * that run as crashed, and the next run gets a new runner. A request is the
 * run id, a NUL, the run's payload. */
typedef struct work_ctx {
    tt_js_work_fn fn;
    void *ctx;
} work_ctx;

/* In the runner: split the request, run it. */
static int runner_work(void *ctx, const void *req, size_t len, tt_buf *out, tt_err *err)
{
    const work_ctx *w = ctx;
    const char *id = req;
    size_t idlen = strnlen(id, len);
    if (idlen == len)
        return tt_err_set(err, TT_EFORMAT, "worker: a request without a run id");
    int rc = w->fn(w->ctx, id, id + idlen + 1, len - idlen - 1, out, err);
    if (rc && !err->msg[0])
        tt_err_set(err, rc, "job %s failed (%s)", id, tt_status_name(rc));
    return rc;
}

/* Hand run r to the runner (budget: runs per process, 0 = no limit). */
static int run_start(tt_jobproc *ch, work_ctx *w, unsigned budget, const job_run *r, tt_buf *req,
                     tt_err *err)
{
    tt_buf_reset(req);
    if (tt_buf_append(req, r->id, strlen(r->id) + 1) || tt_buf_append(req, r->data, r->len))
        return tt_err_set(err, TT_ENOMEM, "worker: out of memory");
    return tt_jobproc_send(ch, runner_work, w, budget, req->data, req->len, NULL, 0, err);
}

/* Wait up to timeout_ms for the run's outcome: 1 when it has finished (*o
 * filled), 0 while it runs. */
static int run_wait(tt_jobproc *ch, int timeout_ms, tt_pool_outcome *o)
{
    struct pollfd p = {ch->from, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0)
        return 0; /* timeout, or a signal: the caller looks at its flags and comes back */
    return tt_jobproc_read(ch, o);
}

/* A run id goes into subjects, status JSON and logs as it is: NATS-token
 * characters only, and short. */
static int run_id_ok(const char *id, size_t n)
{
    if (n == 0 || n >= TT_RUN_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Read a batch message (see tt_js_batch_encode): fills h->runs and h->ids, or
 * h->error. The header names its version; anything else is refused with a
 * message that says so, never guessed at. */
static void parse_batch(held_job *h, const char *d, size_t n)
{
    const char *end = d + n, *p = d + strlen(TT_JS_BATCH_MAGIC);
    unsigned long long version = 0, count = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits++ < 9)
        version = version * 10 + (unsigned)(*p++ - '0');
    if (!digits || p >= end || *p != ' ' || version != TT_JS_BATCH_VERSION) {
        snprintf(h->error, sizeof h->error,
                 "job message %s: batch framing version %.*s, this worker reads version %d "
                 "(run workers of the sweep's build)", h->run_id, digits ? digits : 1,
                 digits ? d + strlen(TT_JS_BATCH_MAGIC) : "?", TT_JS_BATCH_VERSION);
        return;
    }
    p++;
    digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits++ < 9)
        count = count * 10 + (unsigned)(*p++ - '0');
    const char *bad = NULL;
    if (!digits || p >= end || *p != '\n' || count == 0 || count > TT_JS_BATCH_MAX)
        bad = "bad header";
    p++;
    if (!bad) {
        h->runs = calloc(count, sizeof *h->runs);
        h->ids = malloc(n); /* the ids are shorter than the message */
        if (!h->runs || !h->ids)
            bad = "out of memory";
    }
    char *idp = h->ids;
    for (size_t r = 0; !bad && r < count; r++) {
        const char *id = p;
        while (p < end && *p != ' ' && *p != '\n')
            p++;
        size_t idlen = (size_t)(p - id);
        if (p >= end || *p != ' ' || !run_id_ok(id, idlen)) {
            bad = "bad run id";
            break;
        }
        p++;
        unsigned long long len = 0;
        digits = 0;
        while (p < end && *p >= '0' && *p <= '9' && digits++ < 15)
            len = len * 10 + (unsigned)(*p++ - '0');
        /* '\n', the payload, '\n': len + 2 bytes from p */
        if (!digits || p >= end || *p != '\n' || len + 2 > (unsigned long long)(end - p) ||
            p[1 + len] != '\n') {
            bad = "bad payload length";
            break;
        }
        memcpy(idp, id, idlen);
        idp[idlen] = 0;
        h->runs[r] = (job_run){idp, p + 1, (size_t)len};
        idp += idlen + 1;
        p += 1 + len + 1;
    }
    if (!bad && p != end)
        bad = "bytes after the last run";
    if (bad) {
        free(h->runs), free(h->ids);
        h->runs = NULL, h->ids = NULL;
        snprintf(h->error, sizeof h->error, "job message %s: unreadable batch (%s)", h->run_id,
                 bad);
        return;
    }
    h->nruns = (size_t)count;
}

/* Take the one message of a fetch into a slot. A message whose subject
 * does not end in a run id, or (with a job key) whose signature is missing
 * or wrong, is marked refused: it is never run and gets no completion. */
static void hold(const tt_js *j, held_job *h, natsMsgList *list)
{
    memset(h, 0, sizeof *h);
    h->list = *list;
    h->msg = list->Msgs[0];
    h->run_id = tt_js_subject_run_id(natsMsg_GetSubject(h->msg));
    h->delivery = 1;
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, h->msg) == NATS_OK) {
        h->delivery = meta->NumDelivered;
        h->pending = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
    }
    const char *d = natsMsg_GetData(h->msg);
    size_t n = d ? (size_t)natsMsg_GetDataLength(h->msg) : 0;
    size_t ml = strlen(TT_JS_BATCH_MAGIC);
    if (!run_id_ok(h->run_id, strlen(h->run_id))) {
        h->refused = "a subject that is not a run id";
    } else if (!signature_ok(j, h->msg)) {
        const char *sig = NULL;
        natsMsgHeader_Get(h->msg, TT_HMAC_HEADER, &sig);
        h->refused = sig ? "bad signature" : "unsigned job";
    }
    if (h->refused) {
        h->one = (job_run){h->run_id, "", 0};
        h->nruns = 1;
        return;
    }
    if (n >= ml && !memcmp(d, TT_JS_BATCH_MAGIC, ml))
        parse_batch(h, d, n);
    if (!h->nruns) {
        /* One run (the payload itself), or an unreadable batch: then failed
         * as the subject's run, without a child, and terminated. */
        h->term = h->error[0] != 0;
        h->one = (job_run){h->run_id, d ? d : "", n};
        h->nruns = 1;
    }
}

size_t tt_js_batch_runs(const char *data, size_t len, char *why, size_t whylen)
{
    held_job h;
    memset(&h, 0, sizeof h);
    h.run_id = "message";
    size_t ml = strlen(TT_JS_BATCH_MAGIC);
    if (len < ml || memcmp(data, TT_JS_BATCH_MAGIC, ml))
        return 1;
    parse_batch(&h, data, len);
    if (why && whylen)
        snprintf(why, whylen, "%s", h.error);
    for (size_t i = 0; i < h.nruns; i++) /* every run lies inside the message */
        if (h.runs[i].data < data || h.runs[i].data + h.runs[i].len > data + len ||
            !run_id_ok(h.runs[i].id, strlen(h.runs[i].id)))
            abort();
    size_t n = h.nruns;
    free(h.runs);
    free(h.ids);
    return n;
}

static void release(held_job *h)
{
    if (h->msg)
        natsMsgList_Destroy(&h->list);
    free(h->runs);
    free(h->ids);
    memset(h, 0, sizeof *h);
}

/* The start of a status message: {"run_id":..,"worker":.. (strings escaped;
 * the caller closes it). */
static int status_json(tt_buf *b, const char *run_id, const char *wid)
{
    int rc = tt_buf_printf(b, "{\"run_id\":");
    rc = rc ? rc : tt_buf_json_string(b, run_id);
    rc = rc ? rc : tt_buf_printf(b, ",\"worker\":");
    return rc ? rc : tt_buf_json_string(b, wid);
}

/* Restart the ack wait of a job message this worker holds, running one of its
 * runs or not yet started. */
static void keep_alive(tt_js *j, const held_job *h, const char *wid, int running)
{
    if (!h->msg)
        return;
    natsMsg_InProgress(h->msg, NULL);
    if (!running || !h->at)
        return;
    const char *rid = run_of(h, h->at - 1)->id;
    char subj[160];
    snprintf(subj, sizeof subj, "backtest.progress.%s", rid);
    tt_buf body = {0};
    if (!status_json(&body, rid, wid) &&
        !tt_buf_printf(&body, ",\"elapsed_s\":%.1f}", (mono_ms() - h->start) / 1000.0))
        natsConnection_Publish(j->nc, subj, body.data, (int)body.len);
    tt_buf_free(&body);
}

/* Fetch a job to hold while the current one runs. The server answers a
 * no_wait request that has an expiry at once when it has a job for us, and
 * otherwise only at the expiry (nats-server 2.9): keep that short, since at
 * the end of a sweep another worker may have taken the last job and this
 * worker's own job may be about to end. A job that arrives after the client
 * stopped waiting stays queued in the subscription; the next fetch takes it
 * without asking the server (and the worker looks for it on its ticks). */
static void fetch_ahead(const tt_js *j, natsSubscription *sub, held_job *next)
{
    jsFetchRequest fr;
    jsFetchRequest_Init(&fr);
    fr.Batch = 1;
    fr.NoWait = true;
    fr.Expires = 5LL * 1000000LL;
    natsMsgList list = {0};
    natsStatus s = natsSubscription_FetchRequest(&list, sub, &fr);
    if (s == NATS_OK && list.Count == 1)
        hold(j, next, &list);
    else
        natsMsgList_Destroy(&list);
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

/* A run that ended and waits for its completion to be stored: run_id points
 * into its message, which is either still held (runs of it remain) or owned
 * here (this was its last run: acked once the completion is stored). */
typedef struct fin_run {
    int pending;
    const char *run_id;
    uint64_t delivery;
    int status;
    tt_buf result;
    held_job msg; /* msg.msg set when this was the message's last run */
} fin_run;

/* Store the result (synchronously: the PubAck says it is in TT_RESULTS), then,
 * after the message's last run, ack the message. Never the other way round
 * (see the top of this file). */
static int complete(tt_js *j, fin_run *f, const tt_js_worker_opts *o, tt_err *err)
{
    char subj[160];
    snprintf(subj, sizeof subj, "backtest.completed.%s", f->run_id);
    jsPubOptions pub;
    jsPubOptions_Init(&pub);
    pub.MsgId = f->run_id;
    natsStatus s = NATS_OK;
    jsErrCode jerr = 0;
    /* A reconnect in progress: retry for a while (the message id makes a
     * retry that did reach the server harmless). */
    for (int attempt = 0; attempt < 30; attempt++) {
        jsPubAck *pa = NULL;
        jerr = 0;
        if (j->key.len) {
            natsMsg *m = signed_msg(j, subj, f->result.data, f->result.len);
            s = m ? js_PublishMsg(&pa, j->js, m, &pub, &jerr) : NATS_NO_MEMORY;
            natsMsg_Destroy(m);
        } else {
            s = js_Publish(&pa, j->js, subj, f->result.data, (int)f->result.len, &pub, &jerr);
        }
        jsPubAck_Destroy(pa);
        if (s == NATS_OK || (o->stop && *o->stop))
            break;
        struct timespec pause = {1, 0};
        nanosleep(&pause, NULL);
    }
    f->pending = 0;
    if (s != NATS_OK) { /* Not acked: the job comes back to some worker after the ack wait. */
        release(&f->msg);
        return nerr(err, "publishing a result", s, jerr);
    }
    if (o->on_job)
        o->on_job(o->ctx, f->run_id, f->status, f->delivery);
    if (f->msg.msg) {
        /* An unreadable batch, a refused job or a run past its deadline
         * would fail the same anywhere: not redelivered. */
        if (f->msg.term)
            natsMsg_Term(f->msg.msg, NULL);
        else
            natsMsg_Ack(f->msg.msg, NULL); /* no round trip: a lost ack only means a duplicate */
        release(&f->msg);
    }
    return TT_OK;
}

/* When the worker stops: a message fetched ahead and not started, or one
 * whose runs were not all run (the worker stops mid-batch), goes back to the
 * queue at once; the runs it had completed run again and their results are
 * duplicates. A job that answered a fetch-ahead after the client stopped
 * waiting sits in the subscription, delivered to this worker: it goes back
 * too, or it would wait out the ack wait (connected: the flush's round trip
 * makes sure every such answer the server sent has arrived). */
static void give_back(tt_js *j, natsSubscription *sub, held_job *cur, held_job *next,
                      int connected)
{
    if (next->msg)
        natsMsg_Nak(next->msg, NULL);
    if (cur->msg)
        natsMsg_Nak(cur->msg, NULL);
    release(next);
    release(cur);
    if (!connected)
        return;
    natsConnection_FlushTimeout(j->nc, 1000);
    int queued = 0;
    while (natsSubscription_GetPending(sub, &queued, NULL) == NATS_OK && queued > 0) {
        held_job late = {0};
        fetch_ahead(j, sub, &late);
        if (!late.msg)
            break;
        natsMsg_Nak(late.msg, NULL);
        release(&late);
    }
}

/* Fetch one job message into *cur: 1 held, 0 none yet (ask again), -1 stop
 * (the worker was told to, or fetching kept failing: *rc and err say so). */
static int take(tt_js *j, natsSubscription *sub, held_job *cur, const tt_js_worker_opts *o,
                int *errors, int *rc, tt_err *err)
{
    natsMsgList list = {0};
    jsErrCode jerr = 0;
    natsStatus s = natsSubscription_Fetch(&list, sub, 1, 500, &jerr);
    if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
        natsMsgList_Destroy(&list);
        return 0;
    }
    if (s != NATS_OK) {
        natsMsgList_Destroy(&list);
        if (o->stop && *o->stop)
            return -1;
        /* The client reconnects by itself (a server restart, a network blip):
         * keep asking for half a minute before giving up. */
        if (++*errors < 60) {
            struct timespec pause = {0, 500 * 1000 * 1000};
            nanosleep(&pause, NULL);
            return 0;
        }
        *rc = nerr(err, "fetching a job", s, jerr);
        return -1;
    }
    *errors = 0;
    hold(j, cur, &list);
    return 1;
}

/* A run ended with *out: it becomes the run to complete, with its message
 * after the message's last run. A run the work function refused (not
 * allowed, not decodable) makes its message terminated, not acked. result is
 * a scratch buffer swapped with the completion's. */
static void ended(fin_run *fin, held_job *cur, const job_run *run, int last,
                  tt_pool_outcome *out, tt_buf *result)
{
    if (out->status == TT_RUN_FAILED && (out->code == TT_EPERM || out->code == TT_EFORMAT))
        cur->term = 1;
    if (out->status == TT_RUN_OK) {
        tt_buf_free(result);
        *result = out->data;
    } else {
        failed_payload(result, run->id, out->status, out->signal, out->error);
    }
    fin->pending = 1;
    fin->run_id = run->id;
    fin->delivery = cur->delivery;
    fin->status = out->status;
    tt_buf swap = fin->result;
    fin->result = *result;
    *result = swap;
    if (last) {
        fin->msg = *cur;
        memset(cur, 0, sizeof *cur);
    }
}

/* A message refused before any run (no completion: see the top of this
 * file): logged through the caller, terminated. */
static void refuse(held_job *h, const tt_js_worker_opts *o)
{
    char what[TT_RUN_ID_MAX * 4 + 8];
    tt_str_escape(what, sizeof what, h->run_id, strlen(h->run_id));
    if (o->on_refused)
        o->on_refused(o->ctx, what, h->refused);
    natsMsg_Term(h->msg, NULL);
    release(h);
}

/* backtest.started.{run_id}: informational, sent with the next flush, no
 * round trip of its own. */
static void announce(tt_js *j, const char *run_id, const char *wid, uint64_t delivery)
{
    char subj[160];
    snprintf(subj, sizeof subj, "backtest.started.%s", run_id);
    tt_buf body = {0};
    if (!status_json(&body, run_id, wid) &&
        !tt_buf_printf(&body, ",\"delivery\":%llu}", (unsigned long long)delivery))
        natsConnection_Publish(j->nc, subj, body.data, (int)body.len);
    tt_buf_free(&body);
}

/* What the worker watches with while a run runs. */
typedef struct run_watch {
    tt_js *j;
    natsSubscription *sub;
    const tt_js_worker_opts *o;
    const char *wid;
    unsigned period;
    int ahead; /* fetch the next message while this one runs */
} run_watch;

/* Until the run in the runner ends (*out filled): keep its message, and the
 * one held ahead, alive; hold a message that came after fetch_ahead stopped
 * waiting; and at the run deadline, kill the run and mark its message for
 * termination (stuck: a loop, a read that never returns; it would be stuck
 * on another worker too). */
static void watch_run(const run_watch *w, tt_jobproc *ch, held_job *cur, held_job *next,
                      tt_pool_outcome *out)
{
    const tt_js_worker_opts *o = w->o;
    double last_tick = mono_ms();
    for (;;) {
        double now = mono_ms();
        if (o->run_timeout_ms && now - cur->start >= (double)o->run_timeout_ms) {
            tt_jobproc_kill(ch);
            out->status = TT_RUN_FAILED;
            snprintf(out->error, sizeof out->error,
                     "run timeout: stopped after %.0f s (worker --run-timeout)",
                     (double)o->run_timeout_ms / 1000.0);
            cur->term = 1;
            return;
        }
        if (now - last_tick >= w->period) {
            int queued = 0;
            if (w->ahead && !next->msg && !(o->stop && *o->stop) &&
                natsSubscription_GetPending(w->sub, &queued, NULL) == NATS_OK && queued > 0)
                fetch_ahead(w->j, w->sub, next);
            keep_alive(w->j, cur, w->wid, 1);
            keep_alive(w->j, next, w->wid, 0);
            last_tick = now;
        }
        int wait = (int)(last_tick + w->period - now) + 1;
        if (o->run_timeout_ms && cur->start + (double)o->run_timeout_ms - now + 1 < wait)
            wait = (int)(cur->start + (double)o->run_timeout_ms - now) + 1;
        if (run_wait(ch, wait, out))
            return;
    }
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

    /* Three slots, so that the round trips of one run overlap the next run:
     * `cur` is the message whose run is in the runner (its next run starts as
     * soon as this one ends); `next` is the message fetched while cur's last
     * run runs (at most one message held ahead, so a worker never hoards the
     * end of a sweep); `fin` is the run that ended and waits for its result
     * to be stored (and, after a message's last run, the message acked),
     * which happens while the next run runs. */
    held_job cur = {0}, next = {0};
    fin_run fin = {0};
    tt_buf result = {0};
    tt_jobproc ch;
    tt_jobproc_init(&ch);
    ch.ignore_sigint = 1; /* Ctrl-C: the worker stops after the run in progress */
    work_ctx wctx = {fn, fn_ctx};
    tt_buf req = {0};
    uint64_t n = 0;
    int fetch_errors = 0;
    double idle_since = mono_ms();
    for (;;) {
        /* Store the run that finished (and ack its message), unless a run
         * waits to start (then this happens while it runs, below). */
        if (fin.pending && !next.msg && !(cur.msg && cur.at < cur.nruns)) {
            rc = complete(j, &fin, &o, err);
            if (rc)
                break;
            n++;
            idle_since = mono_ms();
        }
        int stopping = (o.stop && *o.stop) || (o.max_jobs && n + (fin.pending != 0) >= o.max_jobs);
        if (stopping) {
            /* cur, when runs of it remain, is given back below. */
            if (fin.pending) {
                rc = complete(j, &fin, &o, err);
                if (!rc)
                    n++;
            }
            break;
        }
        if (!cur.msg && next.msg) {
            cur = next;
            memset(&next, 0, sizeof next);
        } else if (!cur.msg) {
            if (o.idle_exit_ms && mono_ms() - idle_since > (double)o.idle_exit_ms)
                break;
            int got = take(j, sub, &cur, &o, &fetch_errors, &rc, err);
            if (got < 0)
                break;
            if (!got)
                continue;
        }
        if (cur.refused) {
            refuse(&cur, &o);
            idle_since = mono_ms();
            continue;
        }

        /* Start its next run. */
        const job_run *run = run_of(&cur, cur.at++);
        int last = cur.at == cur.nruns;
        cur.start = mono_ms();
        announce(j, run->id, wid, cur.delivery);
        if (o.on_start)
            o.on_start(o.ctx, run->id, cur.delivery);
        tt_pool_outcome out;
        memset(&out, 0, sizeof out);
        tt_err cerr;
        int running = 0;
        if (cur.error[0]) {
            out.status = TT_RUN_FAILED;
            snprintf(out.error, sizeof out.error, "%s", cur.error);
        } else if (run_start(&ch, &wctx, o.runs_per_process, run, &req, &cerr) == TT_OK) {
            running = 1;
        } else {
            out.status = TT_RUN_FAILED;
            snprintf(out.error, sizeof out.error, "%s", cerr.msg);
        }

        /* While it runs: store the previous run (and ack its message), fetch
         * the next message when this is the current one's last run. */
        if (fin.pending) {
            rc = complete(j, &fin, &o, err);
            if (rc) {
                if (running)
                    tt_jobproc_kill(&ch);
                break;
            }
            n++;
            idle_since = mono_ms();
        }
        int ahead = running && last && !(o.stop && *o.stop) &&
                    !(o.max_jobs && n + 1 >= o.max_jobs);
        /* There was more work queued when this message came: take the next now. */
        if (ahead && cur.pending > 0)
            fetch_ahead(j, sub, &next);
        if (running) {
            run_watch w = {j, sub, &o, wid, period, ahead};
            watch_run(&w, &ch, &cur, &next, &out);
        }
        ended(&fin, &cur, run, last, &out, &result);
    }
    give_back(j, sub, &cur, &next, rc != TT_ENET);
    release(&fin.msg);
    tt_jobproc_close(&ch);
    tt_buf_free(&req);
    tt_buf_free(&result);
    tt_buf_free(&fin.result);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    if (done)
        *done = n;
    return rc;
}
