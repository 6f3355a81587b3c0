/*
 * The process pool: results in job order whatever the worker count, crashes
 * and failures isolated to their job, large results drained, and never more
 * than `workers` children at once; with a fresh process per job (the
 * default), runners of 2 jobs, and kept runners, whose reuse is checked by
 * process id; and with groups of jobs in one process, a crashed group run
 * again job by job.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "sim/pool.h"

/* Job i returns the text "job <i> square <i*i>"; job 3 dies by SIGABRT, job 5
 * returns an error, job 6 exits without a result, job 7 returns 3 MB. */
static int job(void *ctx, size_t i, tt_buf *out, tt_err *err)
{
    (void)ctx;
    if (i == 3)
        abort(); /* SIGABRT: a crash that sanitizers do not intercept */
    if (i == 5)
        return tt_err_set(err, TT_EINVAL, "bad parameter for job %zu", i);
    if (i == 6)
        _exit(3);
    if (i == 7) {
        for (int k = 0; k < 3 * 1024; k++) {
            char kb[1024];
            memset(kb, 'a' + k % 26, sizeof kb);
            if (tt_buf_append(out, kb, sizeof kb))
                return TT_ENOMEM;
        }
        return 0;
    }
    return tt_buf_printf(out, "job %zu square %zu", i, i * i);
}

typedef struct order_log {
    size_t seen[16];
    size_t n;
} order_log;

static void record(void *ctx, size_t index, const tt_pool_outcome *o)
{
    (void)o;
    order_log *l = ctx;
    l->seen[l->n++] = index;
}

static void check_outcomes(tt_pool_outcome *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char want[64];
        switch (i) {
        case 3:
            assert_int_equal(out[i].status, TT_RUN_CRASHED);
            assert_int_equal(out[i].signal, SIGABRT);
            assert_non_null(strstr(out[i].error, "signal 6"));
            break;
        case 5:
            assert_int_equal(out[i].status, TT_RUN_FAILED);
            assert_int_equal(out[i].code, TT_EINVAL);
            assert_string_equal(out[i].error, "bad parameter for job 5");
            break;
        case 6:
            assert_int_equal(out[i].status, TT_RUN_CRASHED);
            assert_int_equal(out[i].signal, 0);
            assert_int_equal(out[i].exit_status, 3);
            break;
        case 7:
            assert_int_equal(out[i].status, TT_RUN_OK);
            assert_int_equal(out[i].data.len, 3 * 1024 * 1024);
            assert_int_equal(out[i].data.data[0], 'a');
            assert_int_equal(out[i].data.data[3 * 1024 * 1024 - 1], 'a' + 3071 % 26);
            break;
        default:
            assert_int_equal(out[i].status, TT_RUN_OK);
            snprintf(want, sizeof want, "job %zu square %zu", i, i * i);
            assert_int_equal(out[i].data.len, strlen(want));
            assert_memory_equal(out[i].data.data, want, strlen(want));
        }
    }
}

static void test_order_and_isolation(void **state)
{
    (void)state;
    enum { N = 12 };
    /* A fresh process per job (the default), runners of 2 jobs, kept runners. */
    const unsigned per[] = {0, 2, TT_POOL_KEEP};
    for (unsigned workers = 1; workers <= 5; workers += 2)
    for (size_t m = 0; m < sizeof per / sizeof *per; m++) {
        tt_pool_outcome out[N];
        order_log log = {{0}, 0};
        tt_pool_opts o = {.workers = workers, .on_done = record, .cb_ctx = &log,
                          .runs_per_process = per[m]};
        tt_err err;
        assert_int_equal(tt_pool_run(N, job, NULL, &o, out, &err), 0);
        check_outcomes(out, N);
        /* In-order callback: 0, 1, 2, ... whatever finished first. */
        assert_int_equal(log.n, N);
        for (size_t i = 0; i < N; i++)
            assert_int_equal(log.seen[i], i);
        tt_pool_outcomes_free(out, N);
    }
}

/* Groups: the jobs first .. first+n-1 in one call, in one process. */
static int group(void *ctx, size_t first, size_t n, tt_buf *outs, int *rcs, tt_err *errs,
                 tt_err *err)
{
    (void)err;
    for (size_t i = 0; i < n; i++)
        rcs[i] = job(ctx, first + i, &outs[i], &errs[i]);
    return 0;
}

/* A group that cannot run at all when it holds job 8. */
static int group_fails(void *ctx, size_t first, size_t n, tt_buf *outs, int *rcs, tt_err *errs,
                       tt_err *err)
{
    if (first <= 8 && 8 < first + n)
        return tt_err_set(err, TT_ENOMEM, "no memory for the group of job 8");
    (void)outs, (void)rcs, (void)errs, (void)ctx;
    for (size_t i = 0; i < n; i++) {
        size_t j = first + i;
        rcs[i] = tt_buf_printf(&outs[i], "job %zu square %zu", j, j * j);
    }
    return 0;
}

/* Each group in one process: outcomes per job as without groups, a group
 * that crashes run again job by job (so job 3's crash and job 6's exit are
 * theirs alone, and their group-mates' results are what they give alone). */
static void test_groups(void **state)
{
    (void)state;
    enum { N = 12 };
    const size_t sizes[] = {2, 3, 5, N};
    for (unsigned workers = 1; workers <= 3; workers++)
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        tt_pool_outcome out[N];
        order_log log = {{0}, 0};
        tt_pool_opts o = {.workers = workers, .on_done = record, .cb_ctx = &log,
                          .group = group, .group_size = sizes[k]};
        tt_err err;
        assert_int_equal(tt_pool_run(N, job, NULL, &o, out, &err), 0);
        check_outcomes(out, N);
        assert_int_equal(log.n, N);
        for (size_t i = 0; i < N; i++)
            assert_int_equal(log.seen[i], i);
        tt_pool_outcomes_free(out, N);
    }
    /* a group that cannot run: its jobs fail with its error, the others run */
    tt_pool_outcome out[10];
    tt_pool_opts o = {.workers = 2, .group = group_fails, .group_size = 3};
    tt_err err;
    assert_int_equal(tt_pool_run(10, job, NULL, &o, out, &err), 0);
    for (size_t i = 0; i < 10; i++) {
        if (i >= 6 && i < 9) {
            assert_int_equal(out[i].status, TT_RUN_FAILED);
            assert_int_equal(out[i].code, TT_ENOMEM);
            assert_string_equal(out[i].error, "no memory for the group of job 8");
        } else {
            assert_int_equal(out[i].status, TT_RUN_OK);
        }
    }
    tt_pool_outcomes_free(out, 10);
}

/* A counter in a locked file tracks how many jobs run at once (cur) and the
 * most that ever did (max). */
typedef struct conc {
    char path[256];
    int need; /* the jobs wait until this many have run at once */
} conc;

/* Add delta to cur (0: only read); returns max. */
static int bump(const char *path, int delta)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    flock(fd, LOCK_EX);
    int cur = 0, max = 0;
    char buf[64] = {0};
    if (pread(fd, buf, sizeof buf - 1, 0) > 0)
        sscanf(buf, "%d %d", &cur, &max);
    if (delta) {
        cur += delta;
        if (cur > max)
            max = cur;
        int k = snprintf(buf, sizeof buf, "%d %d\n", cur, max);
        assert_int_equal(pwrite(fd, buf, (size_t)k, 0), k);
        assert_int_equal(ftruncate(fd, k), 0);
    }
    flock(fd, LOCK_UN);
    close(fd);
    return max;
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A job that counts itself running, and before it finishes waits (up to a
 * minute, however loaded the machine) until `need` jobs have run at once: a
 * pool that fills its slots gets there as soon as its first `need` jobs have
 * started; one that does not (runs them one after the other) fails the job.
 * Then it stays a little longer, so that a pool running too many at once
 * would be seen doing so. */
static int slow_job(void *ctx, size_t i, tt_buf *out, tt_err *err)
{
    conc *c = ctx;
    int max = bump(c->path, +1);
    double give_up = mono_s() + 60.0;
    while (max < c->need && mono_s() < give_up) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
        max = bump(c->path, 0);
    }
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    bump(c->path, -1);
    if (max < c->need)
        return tt_err_set(err, TT_EINVAL, "job %zu: only %d job(s) ran at once in a minute", i,
                          max);
    return tt_buf_printf(out, "%zu", i);
}

static void test_bounded(void **state)
{
    (void)state;
    conc c;
    snprintf(c.path, sizeof c.path, "/tmp/tt_pool_conc_%d", (int)getpid());
    for (unsigned workers = 1; workers <= 3; workers++)
    for (int keep = 0; keep < 2; keep++) {
        FILE *f = fopen(c.path, "w");
        assert_non_null(f);
        fputs("0 0\n", f);
        fclose(f);
        c.need = (int)workers;
        tt_pool_outcome out[8];
        tt_pool_opts o = {.workers = workers, .runs_per_process = keep ? TT_POOL_KEEP : 0};
        assert_int_equal(tt_pool_run(8, slow_job, &c, &o, out, NULL), 0);
        for (int i = 0; i < 8; i++) {
            if (out[i].status != TT_RUN_OK)
                fprintf(stderr, "workers %u keep %d job %d: %s\n", workers, keep, i,
                        out[i].error);
            assert_int_equal(out[i].status, TT_RUN_OK);
        }
        f = fopen(c.path, "r");
        int cur = -1, max = -1;
        assert_int_equal(fscanf(f, "%d %d", &cur, &max), 2);
        fclose(f);
        assert_int_equal(cur, 0);
        /* exactly `workers` at once: never more (the bound), and that many
         * (the jobs waited for it, not for a clock) */
        assert_int_equal(max, (int)workers);
        tt_pool_outcomes_free(out, 8);
    }
    unlink(c.path);
}

/* The job's process id; job 3 crashes. */
static int pid_job(void *ctx, size_t i, tt_buf *out, tt_err *err)
{
    (void)ctx, (void)err;
    if (i == 3)
        abort();
    return tt_buf_printf(out, "%d", (int)getpid());
}

static int pid_of(const tt_pool_outcome *o)
{
    assert_int_equal(o->status, TT_RUN_OK);
    return atoi((const char *)o->data.data);
}

/* Which process ran which job, one worker: a fresh process per job by
 * default; runs_per_process 2 pairs them up; kept runners run every job in
 * one process, except that the job after a crash gets a new one. */
static void test_runner_reuse(void **state)
{
    (void)state;
    enum { N = 8 };
    const unsigned per[] = {0, 2, TT_POOL_KEEP};
    for (size_t m = 0; m < 3; m++) {
        tt_pool_outcome out[N];
        tt_pool_opts o = {.workers = 1, .runs_per_process = per[m]};
        assert_int_equal(tt_pool_run(N, pid_job, NULL, &o, out, NULL), 0);
        assert_int_equal(out[3].status, TT_RUN_CRASHED);
        assert_int_equal(out[3].signal, SIGABRT);
        int p[N];
        for (size_t i = 0; i < N; i++)
            p[i] = i == 3 ? 0 : pid_of(&out[i]);
        if (per[m] == 0) {
            for (size_t i = 0; i + 1 < N; i++)
                if (i != 2 && i != 3)
                    assert_int_not_equal(p[i], p[i + 1]);
        } else if (per[m] == 2) {
            /* jobs 0,1 | 2,3 (crash) | 4,5 | 6,7 */
            assert_int_equal(p[0], p[1]);
            assert_int_not_equal(p[1], p[2]);
            assert_int_not_equal(p[2], p[4]);
            assert_int_equal(p[4], p[5]);
            assert_int_not_equal(p[5], p[6]);
            assert_int_equal(p[6], p[7]);
        } else {
            assert_int_equal(p[0], p[1]);
            assert_int_equal(p[1], p[2]);
            assert_int_not_equal(p[2], p[4]);
            for (size_t i = 4; i + 1 < N; i++)
                assert_int_equal(p[i], p[i + 1]);
        }
        tt_pool_outcomes_free(out, N);
    }
}

static void test_empty_and_args(void **state)
{
    (void)state;
    tt_err err;
    assert_int_equal(tt_pool_run(0, job, NULL, NULL, NULL, &err), 0);
    assert_int_equal(tt_pool_run(1, NULL, NULL, NULL, NULL, &err), TT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_isolation),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_runner_reuse),
        cmocka_unit_test(test_empty_and_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
