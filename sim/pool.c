/*
 * A bounded pool of forked processes.
 *
 * Jobs run in runner processes, at most `workers` at a time. A runner is a
 * child forked by the pool; it reads a job index on its request pipe, runs
 * the job and answers on its answer pipe with one framed message:
 *
 *     magic "TTPR" | int32 rc | uint32 message length | uint64 data length
 *     | message bytes | data bytes
 *
 * By default (runs_per_process 1) a runner answers one job and _exit(0)s: each
 * job gets a fresh child, so a crash, a leak or a stray global in one run
 * cannot touch another, and the parent never runs job code. With
 * runs_per_process N (0 = no limit) a runner answers up to N jobs, one after
 * the other, before it exits; a fork and a fresh heap per run are saved. In
 * both cases a runner _exit(0)s without running atexit handlers or flushing
 * stdio buffers it inherited (the one exit in the library: it ends the pool's
 * own child, never the caller's process), and exits when its request pipe
 * closes. The parent poll()s the answer pipes of the busy runners, appends
 * what arrives to each one's buffer (draining as it comes, so a large result
 * never blocks a runner on a full pipe); a complete frame is the job's
 * outcome. End of file before a complete frame is a crash, described by the
 * runner's wait status; the runner is reaped, and the next job gets a new one.
 *
 * The in-order callback fires for job i once jobs 0..i are all done, which
 * makes streamed output independent of the number of workers and of timing.
 */
#include "pool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
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

/* A runner: pid 0 when the slot is empty. */
typedef struct slot {
    pid_t pid;
    int to, from;   /* request pipe (write end; -1 once closed), answer pipe (read end) */
    int busy;       /* a job is out to it */
    size_t job;
    unsigned runs;  /* jobs handed to it */
    tt_buf in;
} slot;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The runner's side: answer up to `budget` jobs (0 = no limit), or until the
 * request pipe closes. Never returns. */
static void runner_main(int rfd, int wfd, tt_pool_job_fn fn, void *ctx, unsigned budget)
{
#ifdef __linux__
    /* A worker killed mid-job should not leave its run behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    signal(SIGPIPE, SIG_DFL);
    tt_buf out = {0};
    for (unsigned n = 0; !budget || n < budget; n++) {
        uint64_t index;
        if (tt_read_all(rfd, &index, sizeof index))
            break;
        tt_err err;
        tt_err_clear(&err);
        tt_buf_reset(&out);
        int rc = fn(ctx, (size_t)index, &out, &err);
        if (rc && !err.msg[0])
            tt_err_set(&err, rc, "job %zu failed (%s)", (size_t)index, tt_status_name(rc));
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

/* The job's outcome once the runner's answer is whole: 1 (o filled, the
 * answer taken from s->in), else 0. A frame that cannot be one (bad magic)
 * counts as whole: the runner is then treated as broken (see the caller). */
static int answer(slot *s, tt_pool_outcome *o, int *broken)
{
    const uint8_t *p = s->in.data;
    size_t n = s->in.len;
    *broken = 0;
    if (n < FRAME_HEAD)
        return 0;
    if (get32(p) != FRAME_MAGIC) {
        *broken = 1;
        return 0;
    }
    uint32_t mlen = get32(p + 8);
    uint64_t dlen = get32(p + 12) | (uint64_t)get32(p + 16) << 32;
    if ((uint64_t)n < FRAME_HEAD + mlen + dlen)
        return 0;
    if ((uint64_t)n > FRAME_HEAD + mlen + dlen) {
        *broken = 1; /* bytes nobody asked for */
        return 0;
    }
    memset(o, 0, sizeof *o);
    int rc = (int)get32(p + 4);
    if (rc) {
        o->status = TT_RUN_FAILED;
        o->code = rc;
        snprintf(o->error, sizeof o->error, "%.*s", (int)mlen, (const char *)p + FRAME_HEAD);
        tt_buf_reset(&s->in);
    } else {
        o->status = TT_RUN_OK;
        /* Hand the buffer over and slide the data to its start. */
        memmove(s->in.data, p + FRAME_HEAD + mlen, (size_t)dlen);
        s->in.len = (size_t)dlen;
        s->in.data[s->in.len] = 0;
        o->data = s->in;
        memset(&s->in, 0, sizeof s->in);
    }
    return 1;
}

/* How a runner that ended in the middle of a job ended. */
static void crashed(int wstatus, tt_pool_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->status = TT_RUN_CRASHED;
    if (WIFSIGNALED(wstatus)) {
        o->signal = WTERMSIG(wstatus);
        snprintf(o->error, sizeof o->error, "killed by signal %d (%s)", o->signal,
                 strsignal(o->signal));
    } else {
        o->exit_status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
        snprintf(o->error, sizeof o->error, "ended without a result (exit status %d)",
                 o->exit_status);
    }
}

/* Close a runner's pipes and reap it; its wait status. */
static int reap(slot *s)
{
    if (s->to >= 0)
        close(s->to);
    close(s->from);
    int ws = 0;
    while (waitpid(s->pid, &ws, 0) < 0 && errno == EINTR)
        ;
    s->pid = 0;
    s->to = s->from = -1;
    s->busy = 0;
    tt_buf_reset(&s->in);
    return ws;
}

static int spawn(slot *slots, unsigned nslots, slot *s, tt_pool_job_fn fn, void *ctx,
                 unsigned budget, tt_err *err)
{
    int req[2], ans[2];
    if (pipe(req) != 0)
        return tt_err_set(err, TT_EIO, "pool: pipe failed: %s", strerror(errno));
    if (pipe(ans) != 0) {
        close(req[0]), close(req[1]);
        return tt_err_set(err, TT_EIO, "pool: pipe failed: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(req[0]), close(req[1]), close(ans[0]), close(ans[1]);
        return tt_err_set(err, TT_EIO, "pool: fork failed: %s", strerror(errno));
    }
    if (pid == 0) {
        close(req[1]), close(ans[0]);
        /* Other runners' pipes: holding them would keep those runners from
         * seeing their request pipe close, and the parent from seeing their
         * answer pipe end. */
        for (unsigned k = 0; k < nslots; k++)
            if (slots[k].pid > 0) {
                if (slots[k].to >= 0)
                    close(slots[k].to);
                close(slots[k].from);
            }
        runner_main(req[0], ans[1], fn, ctx, budget);
    }
    close(req[0]), close(ans[1]);
    s->pid = pid;
    s->to = req[1];
    s->from = ans[0];
    s->busy = 0;
    s->runs = 0;
    tt_buf_reset(&s->in);
    return TT_OK;
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
    unsigned budget = o.runs_per_process ? o.runs_per_process : 1;
    unsigned runner_budget = budget == TT_POOL_KEEP ? 0 : budget;
    for (size_t i = 0; i < njobs; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].status = TT_RUN_PENDING;
    }
    slot *slots = calloc(workers, sizeof *slots);
    struct pollfd *pfd = calloc(workers, sizeof *pfd);
    char *done = calloc(njobs ? njobs : 1, 1);
    if (!slots || !pfd || !done) {
        free(slots), free(pfd), free(done);
        return tt_err_set(err, TT_ENOMEM, "pool: out of memory");
    }
    for (unsigned k = 0; k < workers; k++)
        slots[k].to = slots[k].from = -1;
    /* A pipe whose reader is gone must give EPIPE to the writer, not kill the parent. */
    struct sigaction ign = {0}, old_pipe;
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);

    size_t next = 0, ndone = 0, emitted = 0, busy = 0;
    int rc = TT_OK;
    double last_tick = mono_ms();
    while (ndone < njobs) {
        /* Hand out jobs to free runners (forking one where a slot is empty;
         * a runner that died idle gets one replacement). A runner that has
         * its last job is told so by closing its request pipe. */
        for (unsigned k = 0; rc == TT_OK && k < workers && next < njobs; k++) {
            slot *s = &slots[k];
            if (s->busy || (s->pid > 0 && s->to < 0))
                continue;
            int handed = 0;
            for (int attempt = 0; attempt < 2 && !handed; attempt++) {
                if (s->pid <= 0 && (rc = spawn(slots, workers, s, fn, ctx, runner_budget, err)))
                    break;
                uint64_t ix = next;
                if (!tt_write_all(s->to, &ix, sizeof ix)) {
                    handed = 1;
                } else {
                    kill(s->pid, SIGKILL);
                    reap(s);
                }
            }
            if (!handed) {
                if (rc == TT_OK)
                    rc = tt_err_set(err, TT_EIO, "pool: cannot hand job %zu to a runner: %s",
                                    next, strerror(errno));
                break;
            }
            s->busy = 1;
            s->job = next++;
            if (budget != TT_POOL_KEEP && ++s->runs >= budget) {
                close(s->to);
                s->to = -1;
            }
            busy++;
        }
        if (rc != TT_OK && busy == 0) {
            /* Nothing runs and nothing more can start: mark the rest failed. */
            for (size_t i = next; i < njobs; i++) {
                out[i].status = TT_RUN_FAILED;
                out[i].code = rc;
                snprintf(out[i].error, sizeof out[i].error, "not started: %s", err ? err->msg : "");
                done[i] = 1;
                ndone++;
            }
            next = njobs;
            if (ndone >= njobs)
                break;
        }
        unsigned np = 0;
        for (unsigned k = 0; k < workers; k++) {
            pfd[k].fd = slots[k].pid > 0 ? slots[k].from : -1;
            pfd[k].events = POLLIN;
            pfd[k].revents = 0;
            if (slots[k].pid > 0)
                np++;
        }
        if (np) {
            int pr = poll(pfd, workers, (int)tick_ms);
            if (pr < 0 && errno != EINTR) {
                rc = tt_err_set(err, TT_EIO, "pool: poll failed: %s", strerror(errno));
                break;
            }
        }
        for (unsigned k = 0; k < workers; k++) {
            slot *s = &slots[k];
            if (s->pid <= 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[65536];
            ssize_t got = read(s->from, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR)
                continue;
            int finished = 0;
            if (got > 0) {
                int broken = 0;
                if (!s->busy || tt_buf_append(&s->in, chunk, (size_t)got)) {
                    /* Bytes nobody asked for, or a result we cannot hold: stop
                     * the runner; its end reports the job as crashed. */
                    kill(s->pid, SIGKILL);
                } else if (answer(s, &out[s->job], &broken)) {
                    s->busy = 0;
                    finished = 1;
                } else if (broken) {
                    kill(s->pid, SIGKILL);
                }
            } else {
                /* End of file (or a read error): the runner is gone. */
                int was_busy = s->busy;
                size_t job = s->job;
                int ws = reap(s);
                if (was_busy) {
                    crashed(ws, &out[job]);
                    s->job = job;
                    finished = 1;
                }
            }
            if (!finished)
                continue;
            done[s->job] = 1;
            ndone++;
            busy--;
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
    /* Runners left: idle ones see their request pipe close and exit; busy
     * ones (only after a poll failure) are stopped. */
    for (unsigned k = 0; k < workers; k++) {
        if (slots[k].pid > 0) {
            if (slots[k].busy)
                kill(slots[k].pid, SIGKILL);
            reap(&slots[k]);
        }
        tt_buf_free(&slots[k].in);
    }
    while (emitted < njobs && done[emitted]) {
        if (o.on_done)
            o.on_done(o.cb_ctx, emitted, &out[emitted]);
        emitted++;
    }
    sigaction(SIGPIPE, &old_pipe, NULL);
    free(slots), free(pfd), free(done);
    return rc;
}

void tt_pool_outcomes_free(tt_pool_outcome *out, size_t n)
{
    for (size_t i = 0; out && i < n; i++)
        tt_buf_free(&out[i].data);
}
