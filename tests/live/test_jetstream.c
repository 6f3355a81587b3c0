/*
 * JetStream work queue against a real nats-server (the Debian package),
 * started here on 127.0.0.1 and a free port with storage in a temporary
 * folder, with a stand-in job function (the fingerprint is XXH3-128 of the job
 * payload, computed locally as the oracle):
 *
 *   - two worker processes pull 12 jobs;
 *   - a watcher kills the worker that takes job 5 on its first delivery
 *     (SIGKILL, mid-job); the job is redelivered after the 1 s ack wait and
 *     completed by the surviving worker;
 *   - a duplicate completion with a wrong fingerprint is injected for job 0:
 *     the collector counts each run id once and keeps the first;
 *   - every job's fingerprint matches the local computation;
 *   - a job fetched ahead (held, not started) by a worker that dies is
 *     redelivered after the ack wait and completed once by another worker:
 *     a third worker takes a job whose run kills that worker (its child
 *     SIGKILLs its parent) while it holds the next job; a fourth worker then
 *     starts, completes the queue, and runs the held job as its second
 *     delivery, the job never having been started by the first;
 *   - a worker told to stop (SIGTERM) finishes its job and gives its held
 *     job back at once (nak): with a 30 s ack wait, another worker runs it
 *     within seconds, as its second delivery;
 *   - batches (runs_per_job 3, 9 runs in 3 messages): the runs of a message
 *     run on one worker, in order, in its runner process (one process
 *     for the runs, forked again after a run crashed it); a run that crashes
 *     is completed as crashed and its batch-mates are not; a worker told
 *     to use a runner per run (runs_per_process 1) forks one per run; a worker killed
 *     by the middle run of a message (after the first run's completion was
 *     stored) makes the message come back after the ack wait: another worker
 *     runs all three again (delivery 2), and each run counts once with the
 *     payload's fingerprint;
 *   - runners killed while idle are replaced: the next runs complete in new
 *     runner processes and their workers live on;
 *   - a batch of a framing version this worker does not read, or one cut
 *     short, completes its subject's run as failed with an error that says
 *     so;
 *   - with no worker left, a batched sweep times out naming its first
 *     missing run and purges its messages (the jobs stream is empty).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/io.h"
#include "live/jetstream.h"

#define NJOBS 12
#define SLOW_JOB 5

static char url[64];
static char dir[128];
#define NWORKERS 8
static pid_t server_pid, worker_pid[NWORKERS], watcher_pid;
static volatile int worker_stop;

static void on_term(int sig)
{
    (void)sig;
    worker_stop = 1;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len))
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Let gated worker k in (it waits for the file <dir>/go<k>). */
static void let_in(int k)
{
    char go[200];
    snprintf(go, sizeof go, "%s/go%d", dir, k);
    fclose(fopen(go, "w"));
}

/* Stop worker k (if it runs) with sig and reap it. */
static void stop_worker(int k, int sig)
{
    if (worker_pid[k] <= 0)
        return;
    kill(worker_pid[k], sig);
    waitpid(worker_pid[k], NULL, 0);
    worker_pid[k] = 0;
}

/* The stand-in job: the payload is "job <i>"; the result is a summary whose
 * fingerprint is XXH3-128 of the payload. The slow job takes 1.5 s. */
static int stand_in(void *ctx, const char *run_id, const char *job, size_t len, tt_buf *result,
                    tt_err *err)
{
    (void)ctx, (void)err;
    tt_run_summary s;
    memset(&s, 0, sizeof s);
    snprintf(s.run_id, sizeof s.run_id, "%s", run_id);
    XXH128_hash_t h = XXH3_128bits(job, len);
    s.fp.hi = h.high64;
    s.fp.lo = h.low64;
    s.events = len;
    if (!strncmp(job, "held ", 5)) {
        /* The held-job test: the first run of job 0 kills its worker, after
         * letting the fourth worker in. */
        char mark[200];
        snprintf(mark, sizeof mark, "%s/killer.done", dir);
        int idx = atoi(job + 5);
        s.index = (uint32_t)idx;
        if (idx == 0 && open(mark, O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0) {
            sleep_ms(300);
            let_in(3);
            kill(getppid(), SIGKILL);
            sleep_ms(10000); /* the worker's death takes this process with it */
        }
        sleep_ms(100);
        return tt_run_summary_json(result, &s, NULL, 0);
    }
    if (!strncmp(job, "term ", 5)) {
        /* The stop test: the first run of job 0 tells its worker to stop,
         * after letting the sixth worker in, and completes normally. */
        char mark[200];
        snprintf(mark, sizeof mark, "%s/stopper.done", dir);
        int idx = atoi(job + 5);
        s.index = (uint32_t)idx;
        if (idx == 0 && open(mark, O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0) {
            sleep_ms(150); /* the worker fetches job 1 meanwhile */
            kill(getppid(), SIGTERM);
            let_in(5);
            sleep_ms(300);
        }
        sleep_ms(100);
        return tt_run_summary_json(result, &s, NULL, 0);
    }
    if (!strncmp(job, "batch ", 6)) {
        /* The batch test: run 4 crashes (on any delivery); the first run of
         * run 7 kills its worker. */
        int idx = atoi(job + 6);
        s.index = (uint32_t)idx;
        s.events = (uint64_t)getpid(); /* which runner process ran it */
        char mark[200];
        snprintf(mark, sizeof mark, "%s/batch-killer.done", dir);
        if (idx == 4)
            kill(getpid(), SIGKILL); /* a crash, without a core file */
        if (idx == 7 && open(mark, O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0) {
            sleep_ms(300); /* run 6's completion is stored meanwhile */
            kill(getppid(), SIGKILL);
            sleep_ms(10000); /* the worker's death takes this process with it */
        }
        sleep_ms(50);
        return tt_run_summary_json(result, &s, NULL, 0);
    }
    int idx = atoi(job + 4);
    s.index = (uint32_t)idx;
    sleep_ms(idx == SLOW_JOB ? 1500 : 100);
    return tt_run_summary_json(result, &s, NULL, 0);
}

static void worker_main(int k)
{
    if (k >= 2) {
        /* The held-job test's workers wait for their turn. */
        char go[200];
        snprintf(go, sizeof go, "%s/go%d", dir, k);
        for (int i = 0; i < 2400 && access(go, F_OK); i++)
            sleep_ms(50);
        if (access(go, F_OK))
            _exit(0);
    }
    tt_js *js = NULL;
    tt_err err;
    char name[32];
    snprintf(name, sizeof name, "w%d:%d", k, (int)getpid());
    for (int i = 0; i < 100 && tt_js_connect(&js, &(tt_js_opts){url, 1000, 5, name}, &err); i++)
        sleep_ms(100);
    if (!js)
        _exit(10);
    tt_js_worker_opts o = {.worker_id = name, .progress_ms = 250};
    if (k == 7)
        o.runs_per_process = 1; /* a fresh runner process per run */
    if (k >= 4) {
        /* The stop test's workers stop on SIGTERM, as `ticktape worker` does. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, NULL);
        o.stop = &worker_stop;
    }
    int rc = tt_js_worker(js, stand_in, NULL, &o, NULL, &err);
    if (rc)
        fprintf(stderr, "worker %d: %s\n", k, err.msg);
    tt_js_close(js);
    _exit(rc ? 11 : 0);
}

/* Kill the worker that starts the slow job on its first delivery. */
static void watcher_main(void)
{
    natsConnection *nc = NULL;
    for (int i = 0; i < 100 && natsConnection_ConnectTo(&nc, url) != NATS_OK; i++)
        sleep_ms(100);
    if (!nc)
        _exit(10);
    natsSubscription *sub = NULL;
    natsConnection_SubscribeSync(&sub, nc, "backtest.started.>");
    natsConnection_Flush(nc);
    /* Tell the parent we listen (a file it polls for). */
    char ready[200];
    snprintf(ready, sizeof ready, "%s/watcher.ready", dir);
    fclose(fopen(ready, "w"));
    for (;;) {
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, sub, 30000) != NATS_OK)
            _exit(12);
        const char *d = natsMsg_GetData(m);
        char want[64];
        snprintf(want, sizeof want, "-%04d\"", SLOW_JOB);
        if (strstr(d, want) && strstr(d, "\"delivery\":1}")) {
            const char *w = strstr(d, "\"worker\":\"w");
            int pid = w ? atoi(strchr(w + 10, ':') + 1) : 0;
            sleep_ms(300); /* let it get into the job */
            if (pid > 0)
                kill(pid, SIGKILL);
            char killed[200];
            snprintf(killed, sizeof killed, "%s/killed", dir);
            FILE *f = fopen(killed, "w");
            fprintf(f, "%d\n", pid);
            fclose(f);
            natsMsg_Destroy(m);
            break;
        }
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    _exit(0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tt_js_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    int port = free_port();
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
    char ports[16], log[200];
    snprintf(ports, sizeof ports, "%d", port);
    snprintf(log, sizeof log, "%s/server.log", dir);
    server_pid = fork();
    if (server_pid == 0) {
        freopen(log, "w", stdout);
        freopen(log, "a", stderr);
        execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1", "-p", ports, "-sd", dir,
               (char *)NULL);
        _exit(127);
    }
    /* Workers and the watcher are forked before this process uses NATS. */
    watcher_pid = fork();
    if (watcher_pid == 0)
        watcher_main();
    for (int k = 0; k < NWORKERS; k++) {
        worker_pid[k] = fork();
        if (worker_pid[k] == 0)
            worker_main(k);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int k = 0; k < NWORKERS; k++)
        stop_worker(k, SIGKILL);
    if (watcher_pid > 0) {
        kill(watcher_pid, SIGKILL);
        waitpid(watcher_pid, NULL, 0);
    }
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    return tt_rmtree(dir);
}

/* A plain NATS connection listening to backtest.started.> (flushed). */
static void watch_started(natsConnection **nc, natsSubscription **started)
{
    assert_int_equal(natsConnection_ConnectTo(nc, url), NATS_OK);
    assert_int_equal(natsConnection_SubscribeSync(started, *nc, "backtest.started.>"), NATS_OK);
    assert_int_equal(natsConnection_Flush(*nc), NATS_OK);
}

/* One completion into got (it must parse), counted. */
static void take_result(tt_run_summary *got, int *count, const char *payload, size_t len)
{
    tt_json_flat j;
    tt_err err;
    assert_int_equal(tt_json_flat_parse(&j, payload, len, "result", &err), 0);
    assert_int_equal(tt_run_summary_from_json(got, &j, "result", &err), 0);
    tt_json_flat_free(&j);
    (*count)++;
}

typedef struct collect {
    tt_run_summary got[NJOBS];
    int count[NJOBS];
    natsConnection *nc;
    const char *const *ids;
} collect;

static void on_result(void *ctx, size_t index, const char *payload, size_t len)
{
    collect *c = ctx;
    take_result(&c->got[index], &c->count[index], payload, len);
    if (index == 0) {
        /* A second completion of run 0 with a wrong fingerprint. */
        char subj[128];
        const char *fake = "{\"index\":0,\"status\":\"ok\",\"fingerprint\":"
                           "\"00000000000000000000000000000000\"}";
        snprintf(subj, sizeof subj, "backtest.completed.%s", c->ids[0]);
        natsConnection_PublishString(c->nc, subj, fake);
        natsConnection_Flush(c->nc);
    }
}

static void test_work_queue(void **state)
{
    (void)state;
    char ready[200];
    snprintf(ready, sizeof ready, "%s/watcher.ready", dir);
    for (int i = 0; i < 100 && access(ready, F_OK); i++)
        sleep_ms(100);
    assert_int_equal(access(ready, F_OK), 0);

    tt_js *js = NULL;
    tt_err err;
    assert_int_equal(tt_js_connect(&js, &(tt_js_opts){url, 1000, 5, "sweep"}, &err), 0);
    char ids[NJOBS][TT_RUN_ID_MAX];
    const char *idp[NJOBS];
    tt_buf payload[NJOBS];
    memset(payload, 0, sizeof payload);
    for (int i = 0; i < NJOBS; i++) {
        tt_run_id_make(ids[i], "jstest", (uint32_t)i);
        idp[i] = ids[i];
        tt_buf_printf(&payload[i], "job %d", i);
    }
    collect c;
    memset(&c, 0, sizeof c);
    c.ids = idp;
    assert_int_equal(natsConnection_ConnectTo(&c.nc, url), NATS_OK);
    tt_js_sweep_opts o = {.timeout_ms = 20000, .on_result = on_result, .ctx = &c};
    size_t dups = 0;
    int rc = tt_js_sweep(js, NJOBS, idp, payload, &o, &dups, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    for (int i = 0; i < NJOBS; i++) {
        assert_int_equal(c.count[i], 1);
        assert_int_equal(c.got[i].status, TT_RUN_OK);
        XXH128_hash_t h = XXH3_128bits(payload[i].data, payload[i].len);
        assert_true(c.got[i].fp.hi == h.high64 && c.got[i].fp.lo == h.low64);
        assert_string_equal(c.got[i].run_id, ids[i]);
    }
    /* The slow job's first worker was killed mid-job. */
    char killed[200];
    snprintf(killed, sizeof killed, "%s/killed", dir);
    FILE *f = fopen(killed, "r");
    assert_non_null(f);
    int pid = 0;
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    int which = pid == worker_pid[0] ? 0 : pid == worker_pid[1] ? 1 : -1;
    assert_true(which >= 0);
    int ws = 0;
    assert_int_equal(waitpid(worker_pid[which], &ws, 0), worker_pid[which]);
    assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    worker_pid[which] = 0;
    /* The injected duplicate of run 0 was seen and ignored (unless every
     * other result had already arrived, which the slow job prevents). */
    assert_true(dups >= 1);
    for (int i = 0; i < NJOBS; i++)
        tt_buf_free(&payload[i]);
    natsConnection_Destroy(c.nc);
    tt_js_close(js);
}

#define NHELD 3

typedef struct held_collect {
    int count[NHELD];
    tt_run_summary got[NHELD];
    int worker; /* the gated worker to let in once the jobs are queued */
} held_collect;

/* The sweep's first tick (after a second): every job is in the queue, so the
 * worker let in now takes job 0 knowing that more are queued, and fetches
 * job 1 ahead while job 0 runs. */
static void let_in_on_tick(void *ctx, size_t done, size_t total)
{
    (void)done, (void)total;
    held_collect *c = ctx;
    if (c->worker < 0)
        return;
    let_in(c->worker);
    c->worker = -1;
}

static void on_held_result(void *ctx, size_t index, const char *payload, size_t len)
{
    held_collect *c = ctx;
    take_result(&c->got[index], &c->count[index], payload, len);
}

/* The held-job tests' sweep: NHELD jobs "<word> <i>" with run ids <prefix>-i,
 * the gated `worker` let in on the first tick; every job must complete once,
 * ok, with the fingerprint of its payload. */
static void held_sweep(tt_js *js, const char *prefix, const char *word, int worker,
                       int64_t timeout_ms, char ids[NHELD][TT_RUN_ID_MAX])
{
    const char *idp[NHELD];
    tt_buf payload[NHELD];
    memset(payload, 0, sizeof payload);
    for (int i = 0; i < NHELD; i++) {
        tt_run_id_make(ids[i], prefix, (uint32_t)i);
        idp[i] = ids[i];
        tt_buf_printf(&payload[i], "%s %d", word, i);
    }
    held_collect c;
    memset(&c, 0, sizeof c);
    c.worker = worker;
    tt_js_sweep_opts o = {.timeout_ms = timeout_ms, .on_result = on_held_result,
                          .on_tick = let_in_on_tick, .ctx = &c};
    tt_err err;
    int rc = tt_js_sweep(js, NHELD, idp, payload, &o, NULL, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    for (int i = 0; i < NHELD; i++) {
        assert_int_equal(c.count[i], 1);
        assert_int_equal(c.got[i].status, TT_RUN_OK);
        XXH128_hash_t h = XXH3_128bits(payload[i].data, payload[i].len);
        assert_true(c.got[i].fp.hi == h.high64 && c.got[i].fp.lo == h.low64);
        tt_buf_free(&payload[i]);
    }
}

static void test_held_job_redelivered(void **state)
{
    (void)state;
    /* Only this test's workers take jobs: the first test's survivor goes,
     * and its last pull request lapses. */
    for (int k = 0; k < 2; k++)
        stop_worker(k, SIGTERM);
    sleep_ms(700);
    tt_js *js = NULL;
    tt_err err;
    assert_int_equal(tt_js_connect(&js, &(tt_js_opts){url, 1000, 5, "sweep2"}, &err), 0);
    natsConnection *nc = NULL;
    natsSubscription *started = NULL;
    watch_started(&nc, &started);
    char ids[NHELD][TT_RUN_ID_MAX];
    held_sweep(js, "jsheld", "held", 2, 20000, ids);
    /* The third worker died by its job's hand. */
    int ws = 0;
    assert_int_equal(waitpid(worker_pid[2], &ws, 0), worker_pid[2]);
    assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    worker_pid[2] = 0;
    /* Job 0 started on the third worker, then again on the fourth; job 1,
     * held by the third worker and never started there, started once, as its
     * second delivery, on the fourth. */
    int first0 = 0, second0 = 0, starts1 = 0, second1 = 0;
    char w2[32], w3[32];
    snprintf(w2, sizeof w2, "\"worker\":\"w2:");
    snprintf(w3, sizeof w3, "\"worker\":\"w3:");
    natsMsg *m = NULL;
    while (natsSubscription_NextMsg(&m, started, 200) == NATS_OK) {
        const char *d = natsMsg_GetData(m);
        if (strstr(d, ids[0])) {
            first0 += strstr(d, w2) && strstr(d, "\"delivery\":1}");
            second0 += strstr(d, w3) && strstr(d, "\"delivery\":2}");
        } else if (strstr(d, ids[1])) {
            starts1++;
            second1 += strstr(d, w3) && strstr(d, "\"delivery\":2}");
        }
        natsMsg_Destroy(m);
    }
    assert_int_equal(first0, 1);
    assert_int_equal(second0, 1);
    assert_int_equal(starts1, 1);
    assert_int_equal(second1, 1);
    natsSubscription_Destroy(started);
    natsConnection_Destroy(nc);
    tt_js_close(js);
}

static void test_stop_gives_back_held_job(void **state)
{
    (void)state;
    /* Only this test's workers take jobs: the fourth worker (idle) goes, and
     * its last pull request lapses. */
    stop_worker(3, SIGKILL);
    sleep_ms(700);
    tt_js *js = NULL;
    tt_err err;
    /* A long ack wait: a job given back must not wait for it. */
    assert_int_equal(tt_js_connect(&js, &(tt_js_opts){url, 30000, 5, "sweep3"}, &err), 0);
    assert_int_equal(tt_js_setup(js, &err), 0);
    natsConnection *nc = NULL;
    natsSubscription *started = NULL;
    watch_started(&nc, &started);
    char ids[NHELD][TT_RUN_ID_MAX];
    /* Giving up after 10 s without a result: well before the ack wait. */
    held_sweep(js, "jsterm", "term", 4, 10000, ids);
    /* The fifth worker stopped cleanly after its job. */
    int ws = 0;
    assert_int_equal(waitpid(worker_pid[4], &ws, 0), worker_pid[4]);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    worker_pid[4] = 0;
    /* Job 1, held by the fifth worker, started once: on the sixth, as its
     * second delivery. */
    int starts1 = 0, second1 = 0;
    natsMsg *m = NULL;
    while (natsSubscription_NextMsg(&m, started, 200) == NATS_OK) {
        const char *d = natsMsg_GetData(m);
        if (strstr(d, ids[1])) {
            starts1++;
            second1 += strstr(d, "\"worker\":\"w5:") && strstr(d, "\"delivery\":2}");
        }
        natsMsg_Destroy(m);
    }
    assert_int_equal(starts1, 1);
    assert_int_equal(second1, 1);
    natsSubscription_Destroy(started);
    natsConnection_Destroy(nc);
    tt_js_close(js);
}

#define NBATCH 9

typedef struct batch_collect {
    int count[NBATCH];
    tt_run_summary got[NBATCH];
} batch_collect;

static void on_batch_result(void *ctx, size_t index, const char *payload, size_t len)
{
    batch_collect *c = ctx;
    take_result(&c->got[index], &c->count[index], payload, len);
}

/* The worker and delivery of a started message ("w6:123", 2). */
static void started_by(const char *d, char *worker, size_t n, int *delivery)
{
    const char *w = strstr(d, "\"worker\":\"");
    const char *e = w ? strchr(w + 10, '"') : NULL;
    snprintf(worker, n, "%.*s", e ? (int)(e - w - 10) : 0, w ? w + 10 : "");
    const char *dl = strstr(d, "\"delivery\":");
    *delivery = dl ? atoi(dl + 11) : 0;
}

/* Whether pid is a live child of one of our workers (a runner): a pid that
 * ended may have been reused by an unrelated process by now. */
static int runner_of_worker(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    char state = 0;
    int ppid = 0;
    if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
        return 0;
    for (int k = 0; k < NWORKERS; k++)
        if (worker_pid[k] > 0 && ppid == worker_pid[k])
            return 1;
    return 0;
}

/* n jobs "batch <first + i>" with run ids <prefix>-0000, ... */
static void batch_jobs(char (*ids)[TT_RUN_ID_MAX], const char **idp, tt_buf *payload, int n,
                       const char *prefix, int first)
{
    memset(payload, 0, (size_t)n * sizeof *payload);
    for (int i = 0; i < n; i++) {
        tt_run_id_make(ids[i], prefix, (uint32_t)i);
        idp[i] = ids[i];
        tt_buf_printf(&payload[i], "batch %d", first + i);
    }
}

static void test_batches(void **state)
{
    (void)state;
    /* Workers 6 and 7 join the fifth worker's survivor (w5). */
    for (int k = 6; k < 8; k++)
        let_in(k);
    tt_js *js = NULL;
    tt_err err;
    assert_int_equal(tt_js_connect(&js, &(tt_js_opts){url, 1000, 5, "sweep4"}, &err), 0);
    natsConnection *nc = NULL;
    natsSubscription *started = NULL;
    watch_started(&nc, &started);

    char ids[NBATCH][TT_RUN_ID_MAX];
    const char *idp[NBATCH];
    tt_buf payload[NBATCH];
    batch_jobs(ids, idp, payload, NBATCH, "jsbatch", 0);
    batch_collect c;
    memset(&c, 0, sizeof c);
    tt_js_sweep_opts o = {.timeout_ms = 20000, .on_result = on_batch_result, .ctx = &c,
                          .runs_per_job = 3};
    int rc = tt_js_sweep(js, NBATCH, idp, payload, &o, NULL, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    for (int i = 0; i < NBATCH; i++) {
        assert_int_equal(c.count[i], 1);
        if (i == 4) {
            assert_int_equal(c.got[i].status, TT_RUN_CRASHED);
            continue;
        }
        assert_int_equal(c.got[i].status, TT_RUN_OK);
        XXH128_hash_t h = XXH3_128bits(payload[i].data, payload[i].len);
        assert_true(c.got[i].fp.hi == h.high64 && c.got[i].fp.lo == h.low64);
        assert_string_equal(c.got[i].run_id, ids[i]);
    }
    /* Which worker started which run, on which delivery. */
    char who[NBATCH][2][40];
    int starts[NBATCH][3];
    memset(who, 0, sizeof who);
    memset(starts, 0, sizeof starts);
    natsMsg *m = NULL;
    while (natsSubscription_NextMsg(&m, started, 300) == NATS_OK) {
        const char *d = natsMsg_GetData(m);
        for (int i = 0; i < NBATCH; i++) {
            if (!strstr(d, ids[i]))
                continue;
            char w[40];
            int dl = 0;
            started_by(d, w, sizeof w, &dl);
            assert_true(dl == 1 || dl == 2);
            starts[i][dl]++;
            snprintf(who[i][dl - 1], sizeof who[i][dl - 1], "%s", w);
        }
        natsMsg_Destroy(m);
    }
    /* The first two messages: once each, every run of a message on one worker. */
    for (int b = 0; b < 2; b++)
        for (int i = 3 * b; i < 3 * b + 3; i++) {
            assert_int_equal(starts[i][1], 1);
            assert_int_equal(starts[i][2], 0);
            assert_string_equal(who[i][0], who[3 * b][0]);
        }
    /* A worker's runs go through one runner process, forked again only after
     * a run crashed it: the runs of a message (one worker) share a process,
     * except that run 5 comes after run 4 crashed its batch-mates' runner.
     * Worker 7 (runs_per_process 1) forks a fresh runner for every run. Runs
     * 7 and 8 count from message 2's second delivery. */
    for (int b = 0; b < 3; b++) {
        const char *w = b < 2 ? who[3 * b][0] : who[6][1];
        int fresh = !strncmp(w, "w7:", 3);
        for (int i = 3 * b; i < 3 * b + 2; i++) {
            if (i == 3 || i == 4 || i == 6)
                continue; /* around the crash; run 6 counts from the first delivery */
            assert_true(c.got[i].events != 0);
            assert_true(fresh ? c.got[i].events != c.got[i + 1].events
                              : c.got[i].events == c.got[i + 1].events);
        }
    }
    assert_true(c.got[5].events != c.got[3].events);
    /* The third: runs 6 and 7 started on the worker that run 7 killed, run 8
     * never there; then all three on another worker, as the second delivery. */
    for (int i = 6; i < 9; i++) {
        assert_int_equal(starts[i][1], i < 8 ? 1 : 0);
        assert_int_equal(starts[i][2], 1);
        assert_string_equal(who[i][1], who[6][1]);
    }
    assert_string_equal(who[7][0], who[6][0]);
    assert_string_not_equal(who[6][1], who[6][0]);
    int killed = -1;
    for (int k = 5; k < 8; k++) {
        char tag[16];
        snprintf(tag, sizeof tag, "w%d:", k);
        if (!strncmp(who[6][0], tag, strlen(tag)))
            killed = k;
    }
    assert_true(killed >= 5);
    int ws = 0;
    assert_int_equal(waitpid(worker_pid[killed], &ws, 0), worker_pid[killed]);
    assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    worker_pid[killed] = 0;

    /* Runners killed while idle (from outside: the OOM killer, a user): the
     * next run on their worker goes to a new runner, and the worker lives. */
    uint64_t dead[NBATCH];
    int nkilled = 0;
    for (int i = 0; i < NBATCH; i++) {
        dead[i] = c.got[i].events;
        if (dead[i] > 1 && runner_of_worker((pid_t)dead[i]) && !kill((pid_t)dead[i], SIGKILL))
            nkilled++;
    }
    assert_true(nkilled >= 1); /* at least the runner of message 0's worker */
    sleep_ms(200);
    {
        char rids[3][TT_RUN_ID_MAX];
        const char *rp[3];
        tt_buf rpay[3];
        batch_jobs(rids, rp, rpay, 3, "jsrespawn", 20);
        batch_collect rc2;
        memset(&rc2, 0, sizeof rc2);
        tt_js_sweep_opts ro = {.timeout_ms = 20000, .on_result = on_batch_result, .ctx = &rc2};
        rc = tt_js_sweep(js, 3, rp, rpay, &ro, NULL, &err);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        assert_int_equal(rc, 0);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(rc2.count[i], 1);
            assert_int_equal(rc2.got[i].status, TT_RUN_OK);
            for (int k = 0; k < NBATCH; k++)
                assert_true(rc2.got[i].events != dead[k]);
            tt_buf_free(&rpay[i]);
        }
        for (int k = 5; k < 8; k++)
            if (worker_pid[k] > 0)
                assert_int_equal(waitpid(worker_pid[k], NULL, WNOHANG), 0);
    }

    /* A batch of framing version 2: its subject's run fails, naming it. */
    const char *bad_id[1] = {"jsbadframe-0000"};
    tt_buf bad = {0};
    tt_buf_printf(&bad, "%s2 1\njsbadframe-0000 3\nabc\n", TT_JS_BATCH_MAGIC);
    tt_js_sweep_opts bo = {.timeout_ms = 20000, .on_result = on_batch_result, .ctx = &c};
    memset(&c, 0, sizeof c);
    rc = tt_js_sweep(js, 1, bad_id, &bad, &bo, NULL, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(c.count[0], 1);
    assert_int_equal(c.got[0].status, TT_RUN_FAILED);
    assert_non_null(strstr(c.got[0].error, "framing version 2"));
    assert_non_null(strstr(c.got[0].error, "reads version 1"));
    /* A batch cut short (a payload longer than the message): refused too. */
    const char *cut_id[1] = {"jscutframe-0000"};
    tt_buf_reset(&bad);
    tt_buf_printf(&bad, "%s1 1\njscutframe-0000 10\nabc\n", TT_JS_BATCH_MAGIC);
    memset(&c, 0, sizeof c);
    rc = tt_js_sweep(js, 1, cut_id, &bad, &bo, NULL, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(c.count[0], 1);
    assert_int_equal(c.got[0].status, TT_RUN_FAILED);
    assert_non_null(strstr(c.got[0].error, "unreadable batch (bad payload length)"));
    tt_buf_free(&bad);

    for (int i = 0; i < NBATCH; i++)
        tt_buf_free(&payload[i]);
    natsSubscription_Destroy(started);
    natsConnection_Destroy(nc);
    tt_js_close(js);
}

static void test_batch_purge(void **state)
{
    (void)state;
    /* No worker left: a sweep of 7 runs in messages of 3 (3, 3, 1) times out,
     * names its first missing run, and purges its three messages. The
     * workers left (all stop on SIGTERM) stop cleanly, so that the acks they
     * sent without waiting reach the server. */
    for (int k = 0; k < NWORKERS; k++)
        stop_worker(k, k >= 4 ? SIGTERM : SIGKILL);
    tt_js *js = NULL;
    tt_err err;
    assert_int_equal(tt_js_connect(&js, &(tt_js_opts){url, 1000, 5, "sweep5"}, &err), 0);
    char ids[7][TT_RUN_ID_MAX];
    const char *idp[7];
    tt_buf payload[7];
    batch_jobs(ids, idp, payload, 7, "jspurge", 0);
    batch_collect c;
    memset(&c, 0, sizeof c);
    tt_js_sweep_opts o = {.timeout_ms = 1500, .on_result = on_batch_result, .ctx = &c,
                          .runs_per_job = 3};
    assert_int_equal(tt_js_sweep(js, 7, idp, payload, &o, NULL, &err), TT_EPARTIAL);
    assert_non_null(strstr(err.msg, "7 of 7 results missing"));
    assert_non_null(strstr(err.msg, ids[0]));
    natsConnection *nc = NULL;
    jsCtx *jc = NULL;
    jsStreamInfo *si = NULL;
    assert_int_equal(natsConnection_ConnectTo(&nc, url), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&jc, nc, NULL), NATS_OK);
    for (int i = 0; i < 7; i++) {
        char subj[128];
        snprintf(subj, sizeof subj, "backtest.jobs.%s", ids[i]);
        natsMsg *m = NULL;
        assert_int_equal(js_GetLastMsg(&m, jc, TT_JS_JOBS_STREAM, subj, NULL, NULL),
                         NATS_NOT_FOUND);
    }
    /* Nothing else was left behind either. */
    assert_int_equal(js_GetStreamInfo(&si, jc, TT_JS_JOBS_STREAM, NULL, NULL), NATS_OK);
    assert_int_equal(si->State.Msgs, 0);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(jc);
    natsConnection_Destroy(nc);
    for (int i = 0; i < 7; i++)
        tt_buf_free(&payload[i]);
    tt_js_close(js);
}

static void test_batch_encode(void **state)
{
    (void)state;
    const char *ids[2] = {"a-0000", "a-0001"};
    tt_buf p[2] = {{0}, {0}}, out = {0};
    tt_buf_printf(&p[0], "x\ny");
    tt_buf_printf(&p[1], "%s", "");
    tt_err err;
    assert_int_equal(tt_js_batch_encode(&out, 2, ids, p, &err), 0);
    const char want[] = "ticktape-jobs 1 2\na-0000 3\nx\ny\na-0001 0\n\n";
    assert_int_equal(out.len, sizeof want - 1);
    assert_memory_equal(out.data, want, sizeof want - 1);
    assert_int_equal(tt_js_batch_encode(&out, 0, ids, p, &err), TT_EINVAL);
    tt_buf_free(&out), tt_buf_free(&p[0]), tt_buf_free(&p[1]);
}

static void test_unreachable(void **state)
{
    (void)state;
    tt_js *js = NULL;
    tt_err err;
    int port = free_port();
    char u[64];
    snprintf(u, sizeof u, "nats://127.0.0.1:%d", port);
    assert_int_equal(tt_js_connect(&js, &(tt_js_opts){u, 0, 0, NULL}, &err), TT_ENET);
    assert_non_null(strstr(err.msg, u));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_queue),
        cmocka_unit_test(test_held_job_redelivered),
        cmocka_unit_test(test_stop_gives_back_held_job),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_batch_purge),
        cmocka_unit_test(test_batch_encode),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
