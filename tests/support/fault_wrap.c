/*
 * The wrappers and arming state of tests/support/fault_wrap.h.
 *
 * One global arming state (a test binary runs one scenario at a time); the
 * counters are atomics because the code under test starts threads (decoders
 * of an import, the journal's writer). A wrapper that is not armed for its
 * kind costs an atomic load and a call to the real function.
 */
#include "fault_wrap.h"

#include <errno.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
ssize_t __real_write(int fd, const void *p, size_t n);
ssize_t __real_writev(int fd, const struct iovec *iov, int n);
ssize_t __real_pwrite(int fd, const void *p, size_t n, off_t off);
int __real_fsync(int fd);

static unsigned g_kinds;   /* armed kinds; 0 = off */
static uint64_t g_k;       /* the call that fails; 0 = none */
static int g_errno;
static uint64_t g_calls, g_fired;

void tt_fw_arm(unsigned kinds, uint64_t k, int errnum)
{
    __atomic_store_n(&g_kinds, 0, __ATOMIC_SEQ_CST);
    g_k = k;
    g_errno = errnum;
    __atomic_store_n(&g_calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_fired, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_kinds, kinds, __ATOMIC_SEQ_CST);
}

void tt_fw_disarm(void) { __atomic_store_n(&g_kinds, 0, __ATOMIC_SEQ_CST); }

uint64_t tt_fw_calls(void) { return __atomic_load_n(&g_calls, __ATOMIC_SEQ_CST); }
uint64_t tt_fw_fired(void) { return __atomic_load_n(&g_fired, __ATOMIC_SEQ_CST); }

/* Count a call of `kind`; 1 when it is the one to fail. */
static int trip(unsigned kind)
{
    if (!(__atomic_load_n(&g_kinds, __ATOMIC_SEQ_CST) & kind))
        return 0;
    uint64_t n = __atomic_add_fetch(&g_calls, 1, __ATOMIC_SEQ_CST);
    if (n != g_k)
        return 0;
    __atomic_add_fetch(&g_fired, 1, __ATOMIC_SEQ_CST);
    if (getenv("TT_FW_TRACE")) { /* where the fault hits: addr2line -e BINARY reads it */
        void *pc[32];
        backtrace_symbols_fd(pc, backtrace(pc, 32), 2);
    }
    return 1;
}

void *__wrap_malloc(size_t n)
{
    if (trip(TT_FW_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (trip(TT_FW_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    /* realloc(p, 0) frees: not an allocation that can fail */
    if (n && trip(TT_FW_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    if (trip(TT_FW_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_strdup(s);
}

ssize_t __wrap_write(int fd, const void *p, size_t n)
{
    if (trip(TT_FW_WRITE)) {
        errno = g_errno;
        return -1;
    }
    return __real_write(fd, p, n);
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
    if (trip(TT_FW_WRITE)) {
        errno = g_errno;
        return -1;
    }
    return __real_writev(fd, iov, n);
}

ssize_t __wrap_pwrite(int fd, const void *p, size_t n, off_t off)
{
    if (trip(TT_FW_WRITE)) {
        errno = g_errno;
        return -1;
    }
    return __real_pwrite(fd, p, n, off);
}

int __wrap_fsync(int fd)
{
    if (trip(TT_FW_FSYNC)) {
        errno = g_errno;
        return -1;
    }
    return __real_fsync(fd);
}

/* A 64-bit LCG (Knuth's MMIX constants): the sample is the same everywhere. */
static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t tt_fw_schedule(uint64_t total, int full, uint64_t *ks, size_t cap)
{
    uint64_t head = full ? (total <= 5000 ? total : 2000) : (total < 16 ? total : 16);
    uint64_t extra = full ? (total <= 5000 ? 0 : 1000) : 48;
    size_t n = 0;
    for (uint64_t k = 1; k <= head && n < cap; k++)
        ks[n++] = k;
    uint64_t rest = total > head ? total - head : 0;
    if (extra > rest)
        extra = rest;
    uint64_t seed = 0x7469636b74617065ull; /* "ticktape" */
    for (uint64_t i = 0; i < extra && n < cap; i++) {
        /* one draw in each of `extra` equal slices of the rest: spread, not clumped */
        uint64_t lo = head + 1 + rest * i / extra, hi = head + rest * (i + 1) / extra;
        ks[n++] = lo + lcg(&seed) % (hi - lo + 1);
    }
    qsort(ks, n, sizeof *ks, cmp_u64);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || ks[m - 1] != ks[i])
            ks[m++] = ks[i];
    return m;
}

int tt_fw_full(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--full"))
            return 1;
    return 0;
}

size_t tt_fw_every_k(const tt_fw_case *c, int full, tt_fw_tally *t)
{
    memset(t, 0, sizeof *t);
    tt_err err;
    tt_fw_arm(c->kind, 0, 0);
    int rc = c->run(c->ctx, 0, &err);
    t->calls = tt_fw_calls();
    tt_fw_disarm();
    if (rc || (c->check && c->check(c->ctx, 0, rc, &err))) {
        fprintf(stderr, "%s: the clean run fails: %s\n", c->name, rc ? err.msg : "see above");
        return t->bad = 1;
    }
    size_t cap = (size_t)t->calls + 3000;
    uint64_t *ks = malloc(cap * sizeof *ks);
    if (!ks)
        return t->bad = 1;
    size_t nk = tt_fw_schedule(t->calls, full, ks, cap);
    const char *only = getenv("TT_FW_ONLY"); /* one k, to look at a failure */
    if (only) {
        ks[0] = strtoull(only, NULL, 10);
        nk = 1;
    }
    for (size_t i = 0; i < nk; i++) {
        uint64_t k = ks[i];
        tt_fw_arm(c->kind, k, c->errnum);
        rc = c->run(c->ctx, k, &err);
        uint64_t fired = tt_fw_fired();
        tt_fw_disarm();
        t->tried++;
        if (only)
            fprintf(stderr, "%s k=%llu: %s, rc %d: %s\n", c->name, (unsigned long long)k,
                    fired ? "fired" : "not reached", rc, rc ? err.msg : "");
        int ok = rc == TT_OK || (fired && rc == c->want_rc && strstr(err.msg, c->want_text));
        if (!ok)
            fprintf(stderr, "%s k=%llu of %llu: rc %d (%s), want %d naming '%s'\n", c->name,
                    (unsigned long long)k, (unsigned long long)t->calls, rc, err.msg, c->want_rc,
                    c->want_text);
        if (ok && c->check && c->check(c->ctx, k, rc, &err))
            ok = 0;
        if (!ok)
            t->bad++;
        else if (fired && rc == TT_OK)
            t->absorbed++;
        else if (fired)
            t->failed++;
    }
    free(ks);
    printf("fault %s: %llu calls, %zu values of k tried: %zu failed as named, %zu absorbed, "
           "%zu wrong\n",
           c->name, (unsigned long long)t->calls, t->tried, t->failed, t->absorbed, t->bad);
    return t->bad;
}
