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
 *   - every job's fingerprint matches the local computation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
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

#include "live/jetstream.h"

#define NJOBS 12
#define SLOW_JOB 5

static char url[64];
static char dir[128];
static pid_t server_pid, worker_pid[2], watcher_pid;

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
    int idx = atoi(job + 4);
    s.index = (uint32_t)idx;
    sleep_ms(idx == SLOW_JOB ? 1500 : 100);
    return tt_run_summary_json(result, &s, NULL, 0);
}

static void worker_main(int k)
{
    tt_js *js = NULL;
    tt_err err;
    char name[32];
    snprintf(name, sizeof name, "w%d:%d", k, (int)getpid());
    for (int i = 0; i < 100 && tt_js_connect(&js, &(tt_js_opts){url, 1000, 5, name}, &err); i++)
        sleep_ms(100);
    if (!js)
        _exit(10);
    tt_js_worker_opts o = {.worker_id = name, .progress_ms = 250};
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
    for (int k = 0; k < 2; k++) {
        worker_pid[k] = fork();
        if (worker_pid[k] == 0)
            worker_main(k);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++)
        if (worker_pid[k] > 0) {
            kill(worker_pid[k], SIGKILL);
            waitpid(worker_pid[k], NULL, 0);
        }
    if (watcher_pid > 0) {
        kill(watcher_pid, SIGKILL);
        waitpid(watcher_pid, NULL, 0);
    }
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
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
    tt_json_flat j;
    tt_err err;
    assert_int_equal(tt_json_flat_parse(&j, payload, len, "result", &err), 0);
    assert_int_equal(tt_run_summary_from_json(&c->got[index], &j, "result", &err), 0);
    tt_json_flat_free(&j);
    c->count[index]++;
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
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
