/*
 * A bounded pool of forked processes.
 *
 * Each job gets a fresh child (fork), so a crash, a leak or a stray global in
 * one run cannot touch another, and the parent never runs job code. The child
 * writes one framed message on its pipe:
 *
 *     magic "TTPR" | int32 rc | uint32 message length | uint64 data length
 *     | message bytes | data bytes
 *
 * then _exit(0)s without running atexit handlers or flushing stdio buffers it
 * inherited. (The one exit in the library: it ends the pool's own child, never
 * the caller's process.) The parent poll()s the pipes of the running children, appends
 * what arrives to each job's buffer (draining as it comes, so a large result
 * never blocks the child on a full pipe), and on end of file reaps the child:
 * a complete frame is the outcome; anything else is a crash, described by the
 * child's wait status.
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

typedef struct slot {
    pid_t pid;
    int fd;
    size_t job;
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

/* The child's side: run the job, send the frame, leave. Never returns. */
static void child_main(int fd, tt_pool_job_fn fn, void *ctx, size_t index)
{
#ifdef __linux__
    /* A worker killed mid-job should not leave its run behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    signal(SIGPIPE, SIG_DFL);
    tt_buf out = {0};
    tt_err err;
    tt_err_clear(&err);
    int rc = fn(ctx, index, &out, &err);
    if (rc && !err.msg[0])
        tt_err_set(&err, rc, "job %zu failed (%s)", index, tt_status_name(rc));
    size_t mlen = rc ? strlen(err.msg) : 0;
    size_t dlen = rc ? 0 : out.len;
    uint8_t head[FRAME_HEAD];
    put32(head, FRAME_MAGIC);
    put32(head + 4, (uint32_t)rc);
    put32(head + 8, (uint32_t)mlen);
    put32(head + 12, (uint32_t)(dlen & 0xffffffffu));
    put32(head + 16, (uint32_t)((uint64_t)dlen >> 32));
    int bad = tt_write_all(fd, head, sizeof head) || tt_write_all(fd, err.msg, mlen) ||
              tt_write_all(fd, out.data, dlen);
    close(fd);
    _exit(bad ? 70 : 0);
}

/* Turn what a finished child sent, and how it ended, into an outcome. */
static void settle(slot *s, int wstatus, tt_pool_outcome *o)
{
    memset(o, 0, sizeof *o);
    const uint8_t *p = s->in.data;
    size_t n = s->in.len;
    int framed = 0;
    if (n >= FRAME_HEAD && get32(p) == FRAME_MAGIC) {
        uint32_t mlen = get32(p + 8);
        uint64_t dlen = get32(p + 12) | (uint64_t)get32(p + 16) << 32;
        if ((uint64_t)n == FRAME_HEAD + mlen + dlen) {
            framed = 1;
            int rc = (int)get32(p + 4);
            if (rc) {
                o->status = TT_RUN_FAILED;
                o->code = rc;
                snprintf(o->error, sizeof o->error, "%.*s", (int)mlen,
                         (const char *)p + FRAME_HEAD);
            } else {
                o->status = TT_RUN_OK;
                /* Hand the buffer over and slide the data to its start. */
                memmove(s->in.data, p + FRAME_HEAD + mlen, (size_t)dlen);
                s->in.len = (size_t)dlen;
                s->in.data[s->in.len] = 0;
                o->data = s->in;
                memset(&s->in, 0, sizeof s->in);
            }
        }
    }
    if (framed && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
        return;
    if (framed && o->status == TT_RUN_OK)
        tt_buf_free(&o->data);
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
    /* A pipe whose reader is gone must give EPIPE to the writer, not kill the parent. */
    struct sigaction ign = {0}, old_pipe;
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);

    size_t next = 0, ndone = 0, emitted = 0, running = 0;
    int rc = TT_OK;
    double last_tick = mono_ms();
    while (ndone < njobs) {
        /* Start jobs while there is room. */
        while (rc == TT_OK && running < workers && next < njobs) {
            int fds[2];
            if (pipe(fds) != 0) {
                rc = tt_err_set(err, TT_EIO, "pool: pipe failed: %s", strerror(errno));
                break;
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                rc = tt_err_set(err, TT_EIO, "pool: fork failed: %s", strerror(errno));
                close(fds[0]), close(fds[1]);
                break;
            }
            if (pid == 0) {
                close(fds[0]);
                for (unsigned k = 0; k < workers; k++)
                    if (slots[k].pid > 0)
                        close(slots[k].fd);
                child_main(fds[1], fn, ctx, next);
            }
            close(fds[1]);
            unsigned k = 0;
            while (slots[k].pid > 0)
                k++;
            slots[k].pid = pid;
            slots[k].fd = fds[0];
            slots[k].job = next++;
            tt_buf_reset(&slots[k].in);
            running++;
        }
        if (rc != TT_OK && running == 0) {
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
            pfd[k].fd = slots[k].pid > 0 ? slots[k].fd : -1;
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
            ssize_t got = read(s->fd, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR)
                continue;
            if (got > 0) {
                if (tt_buf_append(&s->in, chunk, (size_t)got)) {
                    /* Cannot hold the result: stop the child, report it. */
                    kill(s->pid, SIGKILL);
                }
                continue;
            }
            /* End of file (or a read error): the child is finished. */
            close(s->fd);
            int ws = 0;
            while (waitpid(s->pid, &ws, 0) < 0 && errno == EINTR)
                ;
            settle(s, ws, &out[s->job]);
            done[s->job] = 1;
            ndone++;
            running--;
            s->pid = 0;
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
    /* Only reached early on a poll failure: do not leave children behind. */
    for (unsigned k = 0; k < workers; k++) {
        if (slots[k].pid > 0) {
            kill(slots[k].pid, SIGKILL);
            close(slots[k].fd);
            waitpid(slots[k].pid, NULL, 0);
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
