/*
 * A bounded pool of forked processes, and the runner process it runs jobs in.
 *
 * A runner (tt_jobproc) is a child that reads requests on its request pipe
 * (uint64 length | bytes), calls the job function, and answers each on its
 * answer pipe with one framed message:
 *
 *     magic "TTPR" | int32 rc | uint32 message length | uint64 data length
 *     | message bytes | data bytes
 *
 * It exits (_exit(0), without running atexit handlers or flushing stdio
 * buffers it inherited: the one exit in the library, which ends the library's
 * own child, never the caller's process) when its request pipe closes or
 * after its budget of requests. The parent drains the answer pipe as data
 * comes (a large result never blocks the runner on a full pipe); a complete
 * frame is the request's outcome, and end of file before one is a crash,
 * described by the runner's wait status. The NATS worker drives one runner
 * itself (live/jetstream.c).
 *
 * The pool keeps at most `workers` runners and hands each a job index. By
 * default (runs_per_process 1) a runner answers one job and exits: each job
 * gets a fresh child, so a crash, a leak or a stray global in one run cannot
 * touch another, and the parent never runs job code. With runs_per_process N
 * (TT_POOL_KEEP = no limit) a runner answers up to N jobs, one after the
 * other; a fork and a fresh heap per run are saved. A runner that crashes is
 * reaped, and the next job gets a new one.
 *
 * Groups (tt_pool_opts.group): a runner gets up to group_size consecutive
 * jobs as one request (first, count) and answers them in one frame, each
 * job's rc, message and data in turn (group_run, group_split); a group that
 * crashes (or answers garbage) is put back job by job, each to a fresh
 * runner with the plain job function, ahead of the jobs not started yet, so
 * the in-order callback waits for them and every outcome is the job's own.
 *
 * The in-order callback fires for job i once jobs 0..i are all done, which
 * makes streamed output independent of the number of workers and of timing.
 */
#include "pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "../core/io.h"

#define FRAME_MAGIC 0x52505454u /* "TTPR" little-endian */
#define FRAME_HEAD 20

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- one runner ---- */

/* The process's side: answer requests (uint64 length | bytes) until the
 * request pipe closes or `budget` requests (0 = no limit). Never returns. */
static void runner_main(int rfd, int wfd, tt_jobproc_fn fn, void *ctx, unsigned budget,
                        int ignore_sigint)
{
#ifdef __linux__
    /* A parent killed mid-job should not leave its run behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    signal(SIGPIPE, SIG_DFL);
    if (ignore_sigint)
        signal(SIGINT, SIG_IGN);
    tt_buf out = {0};
    for (unsigned n = 0; !budget || n < budget; n++) {
        uint64_t len;
        if (tt_read_all(rfd, &len, sizeof len))
            break;
        char *req = len < SIZE_MAX / 2 ? malloc((size_t)len + 1) : NULL;
        if (!req || tt_read_all(rfd, req, (size_t)len))
            _exit(70);
        req[len] = 0;
        tt_err err;
        tt_err_clear(&err);
        tt_buf_reset(&out);
        int rc = fn(ctx, req, (size_t)len, &out, &err);
        free(req);
        if (rc && !err.msg[0])
            tt_err_set(&err, rc, "job failed (%s)", tt_status_name(rc));
        size_t mlen = rc ? strlen(err.msg) : 0;
        size_t dlen = rc ? 0 : out.len;
        uint8_t head[FRAME_HEAD];
        put32(head, FRAME_MAGIC);
        put32(head + 4, (uint32_t)rc);
        put32(head + 8, (uint32_t)mlen);
        put32(head + 12, (uint32_t)(dlen & 0xffffffffu));
        put32(head + 16, (uint32_t)((uint64_t)dlen >> 32));
        if (tt_write_all(wfd, head, sizeof head) || tt_write_all(wfd, err.msg, mlen) ||
            tt_write_all(wfd, out.data, dlen))
            _exit(70);
    }
    close(wfd);
    _exit(0);
}

void tt_jobproc_init(tt_jobproc *r)
{
    memset(r, 0, sizeof *r);
    r->to = r->from = -1;
}

/* Close r's pipes and reap its process; its wait status. */
static int reap(tt_jobproc *r)
{
    if (r->to >= 0)
        close(r->to);
    if (r->from >= 0)
        close(r->from);
    int ws = 0;
    while (r->pid > 0 && waitpid(r->pid, &ws, 0) < 0 && errno == EINTR)
        ;
    r->pid = 0;
    r->to = r->from = -1;
    r->busy = 0;
    tt_buf_reset(&r->in);
    return ws;
}

static int spawn(tt_jobproc *r, tt_jobproc_fn fn, void *ctx, unsigned budget,
                 const tt_jobproc *others, unsigned nothers, tt_err *err)
{
    int req[2], ans[2];
    if (pipe(req) != 0)
        return tt_err_set(err, TT_EIO, "runner: pipe failed: %s", strerror(errno));
    if (pipe(ans) != 0) {
        close(req[0]), close(req[1]);
        return tt_err_set(err, TT_EIO, "runner: pipe failed: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(req[0]), close(req[1]), close(ans[0]), close(ans[1]);
        return tt_err_set(err, TT_EIO, "runner: fork failed: %s", strerror(errno));
    }
    if (pid == 0) {
        close(req[1]), close(ans[0]);
        /* Other runners' pipes: holding them would keep those runners from
         * seeing their request pipe close, and the parent from seeing their
         * answer pipe end. */
        for (unsigned k = 0; k < nothers; k++)
            if (others[k].pid > 0) {
                if (others[k].to >= 0)
                    close(others[k].to);
                close(others[k].from);
            }
        runner_main(req[0], ans[1], fn, ctx, budget, r->ignore_sigint);
    }
    close(req[0]), close(ans[1]);
    r->pid = pid;
    r->to = req[1];
    r->from = ans[0];
    r->busy = 0;
    r->runs = 0;
    tt_buf_reset(&r->in);
    return TT_OK;
}

int tt_jobproc_send(tt_jobproc *r, tt_jobproc_fn fn, void *ctx, unsigned budget, const void *req,
                   size_t len, const tt_jobproc *others, unsigned nothers, tt_err *err)
{
    /* A process that has done its budget is on its way out; one that died
     * idle (killed from outside) is gone: reap either, fork anew below. */
    if (r->pid > 0 && (r->to < 0 || waitpid(r->pid, NULL, WNOHANG) == r->pid)) {
        if (r->to >= 0)
            r->pid = 0; /* reaped just now */
        reap(r);
    }
    /* Writing to a process that died gives EPIPE: SIGPIPE is blocked
     * meanwhile (and a pending one taken), so that it cannot end the caller. */
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    uint64_t n = len;
    int rc = TT_EIO, why = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (r->pid <= 0 && spawn(r, fn, ctx, budget, others, nothers, err))
            break;
        if (!tt_write_all(r->to, &n, sizeof n) && !tt_write_all(r->to, req, len)) {
            rc = TT_OK;
            break;
        }
        why = errno;
        kill(r->pid, SIGKILL);
        reap(r);
    }
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
        ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        if (why)
            tt_err_set(err, TT_EIO, "runner: cannot hand it the job: %s", strerror(why));
        return rc;
    }
    r->busy = 1;
    tt_buf_reset(&r->in);
    if (budget && ++r->runs >= budget) {
        close(r->to);
        r->to = -1;
    }
    return TT_OK;
}

/* The answer in r->in when it is whole: 1 (o filled, the answer taken from
 * r->in), 0 when more is to come, -1 when it cannot be an answer (bad magic,
 * bytes past it). */
static int answer(tt_jobproc *r, tt_pool_outcome *o)
{
    const uint8_t *p = r->in.data;
    size_t n = r->in.len;
    if (n < FRAME_HEAD)
        return 0;
    if (get32(p) != FRAME_MAGIC)
        return -1;
    uint32_t mlen = get32(p + 8);
    uint64_t dlen = get32(p + 12) | (uint64_t)get32(p + 16) << 32;
    if ((uint64_t)n < FRAME_HEAD + mlen + dlen)
        return 0;
    if ((uint64_t)n > FRAME_HEAD + mlen + dlen)
        return -1;
    memset(o, 0, sizeof *o);
    int rc = (int)get32(p + 4);
    if (rc) {
        o->status = TT_RUN_FAILED;
        o->code = rc;
        snprintf(o->error, sizeof o->error, "%.*s", (int)mlen, (const char *)p + FRAME_HEAD);
        tt_buf_reset(&r->in);
    } else {
        o->status = TT_RUN_OK;
        /* Hand the buffer over and slide the data to its start. */
        memmove(r->in.data, p + FRAME_HEAD + mlen, (size_t)dlen);
        r->in.len = (size_t)dlen;
        r->in.data[r->in.len] = 0;
        o->data = r->in;
        memset(&r->in, 0, sizeof r->in);
    }
    return 1;
}

int tt_jobproc_read(tt_jobproc *r, tt_pool_outcome *o)
{
    if (r->pid <= 0)
        return 0;
    char chunk[65536];
    ssize_t got = read(r->from, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR)
        return 0;
    if (got > 0) {
        int whole = 0;
        /* Bytes nobody asked for, a result we cannot hold, or garbage: stop
         * the process; its end reports the request as crashed. */
        if (!r->busy || tt_buf_append(&r->in, chunk, (size_t)got) ||
            (whole = answer(r, o)) < 0) {
            kill(r->pid, SIGKILL);
            return 0;
        }
        if (whole)
            r->busy = 0;
        return whole;
    }
    /* End of file (or a read error): the process is gone. */
    int busy = r->busy, ws = reap(r);
    if (!busy)
        return 0;
    memset(o, 0, sizeof *o);
    o->status = TT_RUN_CRASHED;
    if (WIFSIGNALED(ws)) {
        o->signal = WTERMSIG(ws);
        snprintf(o->error, sizeof o->error, "killed by signal %d (%s)", o->signal,
                 strsignal(o->signal));
    } else {
        o->exit_status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
        snprintf(o->error, sizeof o->error, "ended without a result (exit status %d)",
                 o->exit_status);
    }
    return 1;
}

void tt_jobproc_kill(tt_jobproc *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        reap(r);
    }
}

void tt_jobproc_close(tt_jobproc *r)
{
    if (r->pid > 0) {
        if (r->busy)
            kill(r->pid, SIGKILL);
        reap(r);
    }
    tt_buf_free(&r->in);
}

/* ---- the pool ---- */

/* The pool's request is a job index (8 bytes), or a group: its first job and
 * its count (16 bytes). A group's answer holds each job's outcome in turn:
 *
 *     int32 rc | uint32 message length | uint64 data length | message | data
 */
#define SUB_HEAD 16

typedef struct pool_job {
    tt_pool_job_fn fn;
    tt_pool_group_fn group;
    void *ctx;
} pool_job;

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* In the runner: a group through the caller's group function, its jobs'
 * outcomes framed into out. */
static int group_run(const pool_job *j, size_t first, size_t n, tt_buf *out, tt_err *err)
{
    tt_buf *outs = calloc(n, sizeof *outs);
    int *rcs = calloc(n, sizeof *rcs);
    tt_err *errs = calloc(n, sizeof *errs);
    int rc = outs && rcs && errs
                 ? j->group(j->ctx, first, n, outs, rcs, errs, err)
                 : tt_err_set(err, TT_ENOMEM, "pool: out of memory for a group of %zu jobs", n);
    for (size_t i = 0; !rc && i < n; i++) {
        if (rcs[i] && !errs[i].msg[0])
            tt_err_set(&errs[i], rcs[i], "job %zu failed (%s)", first + i, tt_status_name(rcs[i]));
        size_t mlen = rcs[i] ? strlen(errs[i].msg) : 0, dlen = rcs[i] ? 0 : outs[i].len;
        uint8_t h[SUB_HEAD];
        put32(h, (uint32_t)rcs[i]);
        put32(h + 4, (uint32_t)mlen);
        put64(h + 8, dlen);
        if (tt_buf_append(out, h, sizeof h) || tt_buf_append(out, errs[i].msg, mlen) ||
            tt_buf_append(out, outs[i].data, dlen))
            rc = tt_err_set(err, TT_ENOMEM, "pool: out of memory for a group's results");
    }
    for (size_t i = 0; outs && i < n; i++)
        tt_buf_free(&outs[i]);
    free(outs);
    free(rcs);
    free(errs);
    return rc;
}

static int pool_runner_fn(void *ctx, const void *req, size_t len, tt_buf *out, tt_err *err)
{
    const pool_job *j = ctx;
    if (len == 2 * sizeof(uint64_t) && j->group)
        return group_run(j, (size_t)get64(req), (size_t)get64((const uint8_t *)req + 8), out,
                         err);
    uint64_t index = 0;
    if (len == sizeof index)
        memcpy(&index, req, sizeof index);
    int rc = j->fn(j->ctx, (size_t)index, out, err);
    if (rc && !err->msg[0])
        tt_err_set(err, rc, "job %zu failed (%s)", (size_t)index, tt_status_name(rc));
    return rc;
}

/* A group's answer into the outcomes of its n jobs: 0, or -1 when it is not
 * a well-formed answer for n jobs (the outcomes filled so far are freed). */
static int group_split(const tt_pool_outcome *g, size_t n, tt_pool_outcome *out)
{
    const uint8_t *p = g->data.data;
    size_t left = g->data.len, i;
    for (i = 0; i < n; i++) {
        if (left < SUB_HEAD)
            break;
        uint32_t rc = get32(p), mlen = get32(p + 4);
        uint64_t dlen = get64(p + 8);
        if (mlen > left - SUB_HEAD || dlen > left - SUB_HEAD - mlen)
            break;
        tt_pool_outcome *o = &out[i];
        memset(o, 0, sizeof *o);
        if (rc) {
            o->status = TT_RUN_FAILED;
            o->code = (int)rc;
            snprintf(o->error, sizeof o->error, "%.*s", (int)mlen, (const char *)p + SUB_HEAD);
        } else {
            o->status = TT_RUN_OK;
            if (tt_buf_append(&o->data, p + SUB_HEAD + mlen, (size_t)dlen))
                break;
        }
        p += SUB_HEAD + mlen + dlen;
        left -= SUB_HEAD + mlen + (size_t)dlen;
    }
    if (i == n && left == 0)
        return 0;
    for (size_t k = 0; k <= i && k < n; k++) {
        tt_buf_free(&out[k].data);
        memset(&out[k], 0, sizeof out[k]);
    }
    return -1;
}

static double mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int tt_pool_run(size_t njobs, tt_pool_job_fn fn, void *ctx, const tt_pool_opts *opts,
                tt_pool_outcome *out, tt_err *err)
{
    if (!fn || (njobs && !out))
        return tt_err_set(err, TT_EINVAL, "pool: no job function or outcome array");
    tt_pool_opts o = opts ? *opts : (tt_pool_opts){0};
    unsigned workers = o.workers ? o.workers : 1;
    if (workers > njobs)
        workers = njobs ? (unsigned)njobs : 1;
    unsigned tick_ms = o.tick_ms ? o.tick_ms : 1000;
    size_t gsize = o.group && o.group_size > 1 ? o.group_size : 1;
    unsigned budget = o.runs_per_process ? o.runs_per_process : 1;
    if (budget == TT_POOL_KEEP)
        budget = 0; /* the runner's "no limit" */
    if (gsize > 1)
        budget = 1; /* a process per group, and per job run again alone */
    if (workers > (njobs + gsize - 1) / gsize)
        workers = njobs ? (unsigned)((njobs + gsize - 1) / gsize) : 1;
    for (size_t i = 0; i < njobs; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].status = TT_RUN_PENDING;
    }
    tt_jobproc *run = calloc(workers, sizeof *run);
    size_t *job = calloc(workers, sizeof *job), *jobn = calloc(workers, sizeof *jobn);
    size_t *retry = calloc(njobs ? njobs : 1, sizeof *retry);
    struct pollfd *pfd = calloc(workers, sizeof *pfd);
    char *done = calloc(njobs ? njobs : 1, 1);
    if (!run || !job || !jobn || !retry || !pfd || !done) {
        free(run), free(job), free(jobn), free(retry), free(pfd), free(done);
        return tt_err_set(err, TT_ENOMEM, "pool: out of memory");
    }
    for (unsigned k = 0; k < workers; k++)
        tt_jobproc_init(&run[k]);
    pool_job pj = {fn, gsize > 1 ? o.group : NULL, ctx};

    /* next: the first job not handed out yet; retry[rpos..nretry): jobs of
     * crashed groups, to run again one each */
    size_t next = 0, ndone = 0, emitted = 0, busy = 0, nretry = 0, rpos = 0;
    int rc = TT_OK;
    double last_tick = mono_ms();
    while (ndone < njobs) {
        /* Hand out work to the free runners (a runner on its way out, having
         * done its budget, keeps its slot until it has gone): the jobs to run
         * again first, then the next group (or job). */
        for (unsigned k = 0; rc == TT_OK && k < workers && (rpos < nretry || next < njobs);
             k++) {
            if (run[k].busy)
                continue;
            size_t first = rpos < nretry ? retry[rpos] : next;
            size_t n = rpos < nretry ? 1 : (njobs - next < gsize ? njobs - next : gsize);
            uint8_t req[16];
            put64(req, first);
            put64(req + 8, n);
            rc = tt_jobproc_send(&run[k], pool_runner_fn, &pj, budget, req,
                                 n > 1 ? 16 : sizeof(uint64_t), run, workers, err);
            if (rc)
                break;
            if (rpos < nretry)
                rpos++;
            else
                next += n;
            job[k] = first;
            jobn[k] = n;
            busy++;
        }
        if (rc != TT_OK && busy == 0) {
            /* Nothing runs and nothing more can start: mark the rest failed. */
            for (size_t i = 0; i < njobs; i++) { /* none runs: all not done are waiting */
                if (done[i])
                    continue;
                out[i].status = TT_RUN_FAILED;
                out[i].code = rc;
                snprintf(out[i].error, sizeof out[i].error, "not started: %s", err ? err->msg : "");
                done[i] = 1;
                ndone++;
            }
            next = njobs;
            rpos = nretry;
            if (ndone >= njobs)
                break;
        }
        unsigned np = 0;
        for (unsigned k = 0; k < workers; k++) {
            pfd[k].fd = run[k].pid > 0 ? run[k].from : -1;
            pfd[k].events = POLLIN;
            pfd[k].revents = 0;
            np += run[k].pid > 0;
        }
        if (np) {
            int pr = poll(pfd, workers, (int)tick_ms);
            if (pr < 0 && errno != EINTR) {
                rc = tt_err_set(err, TT_EIO, "pool: poll failed: %s", strerror(errno));
                break;
            }
        }
        for (unsigned k = 0; k < workers; k++) {
            if (run[k].pid <= 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            tt_pool_outcome got;
            if (!tt_jobproc_read(&run[k], &got))
                continue;
            busy--;
            size_t first = job[k], n = jobn[k];
            if (n == 1) {
                out[first] = got;
            } else {
                if (got.status == TT_RUN_FAILED) { /* the group could not run */
                    for (size_t i = 0; i < n; i++) {
                        out[first + i] = got;
                        memset(&out[first + i].data, 0, sizeof got.data);
                    }
                } else if (got.status != TT_RUN_OK || group_split(&got, n, &out[first])) {
                    /* crashed (or garbled): each of its jobs again, alone */
                    for (size_t i = 0; i < n; i++)
                        retry[nretry++] = first + i;
                    n = 0;
                }
                tt_buf_free(&got.data);
            }
            for (size_t i = 0; i < n; i++)
                done[first + i] = 1;
            ndone += n;
            while (emitted < njobs && done[emitted]) {
                if (o.on_done)
                    o.on_done(o.cb_ctx, emitted, &out[emitted]);
                emitted++;
            }
        }
        if (o.on_tick && mono_ms() - last_tick >= tick_ms) {
            last_tick = mono_ms();
            o.on_tick(o.cb_ctx, ndone, njobs);
        }
    }
    /* Idle runners see their request pipe close and exit; busy ones (only
     * after a poll failure) are stopped. */
    for (unsigned k = 0; k < workers; k++)
        tt_jobproc_close(&run[k]);
    while (emitted < njobs && done[emitted]) {
        if (o.on_done)
            o.on_done(o.cb_ctx, emitted, &out[emitted]);
        emitted++;
    }
    free(run), free(job), free(jobn), free(retry), free(pfd), free(done);
    return rc;
}

void tt_pool_outcomes_free(tt_pool_outcome *out, size_t n)
{
    for (size_t i = 0; out && i < n; i++)
        tt_buf_free(&out[i].data);
}
