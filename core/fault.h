/*
 * ticktape: fault injection, a test facility.
 *
 * Tests need to see what the tape writer and the importers do when the disk
 * says no: a write that fails with ENOSPC or EIO, a write that lands only in
 * part, an fsync or a rename that fails. Every write, fsync and rename on
 * those paths goes through the wrappers below instead of calling the system
 * directly. tt_fault_arm() makes the k-th such call after arming (counting
 * only the armed kinds, 1-based) fail with a given errno; with
 * TT_FAULT_STICKY every call from the k-th on fails (a full disk), and with
 * TT_FAULT_SHORT a write lands only its first half and reports a short count
 * (a torn write) instead of failing.
 *
 * Disarmed (the default, and always outside tests), a wrapper costs one
 * predictable branch on a global that is never written. This is the one
 * piece of mutable global state in core/, on purpose: a fault must reach
 * code that has no handle to carry it. The core reads no environment: only
 * cli/main.c arms it, from TICKTAPE_FAULT (tt_fault_parse), so subprocess
 * tests can inject faults into the real binary.
 *
 * Extensible: a kind is one bit of enum tt_fault_kind; another hook (an
 * allocation hook, say) takes the next bit and calls tt_fault_hit() with it.
 */
#ifndef TT_FAULT_H
#define TT_FAULT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "error.h"

enum tt_fault_kind {
    TT_FAULT_WRITE = 1u << 0,  /* write, writev, pwrite */
    TT_FAULT_FSYNC = 1u << 1,  /* fsync */
    TT_FAULT_RENAME = 1u << 2, /* rename */
    TT_FAULT_KINDS = 0xffu     /* the bits kinds may use */
};

enum tt_fault_flag {
    TT_FAULT_STICKY = 1u << 8, /* every call from the k-th on fails, not only the k-th */
    TT_FAULT_SHORT = 1u << 9   /* a write lands half its bytes and returns that count */
};

/* Arm: the k-th call (k >= 1) of the kinds in `spec` (kinds | flags) fails
 * with errno `errnum`. Re-arming resets the count. Not thread-safe against
 * itself: arm before the threads start. */
void tt_fault_arm(unsigned spec, uint64_t k, int errnum);
/* Disarm: every call goes through again. */
void tt_fault_disarm(void);
/* Calls of the armed kinds seen since arming, and faults injected. */
uint64_t tt_fault_calls(void);
uint64_t tt_fault_fired(void);

/* Parse "KINDS:K:ERRNO[:FLAG...]": KINDS is write, fsync, rename or several
 * joined by ',' (or "all"); ERRNO a name (ENOSPC, EIO, EDQUOT, EROFS, EINTR,
 * EFBIG) or a number; FLAGs sticky, short. e.g. "write:17:ENOSPC",
 * "write,fsync:3:EIO:sticky". TT_EINVAL with a message naming the part. */
int tt_fault_parse(const char *text, unsigned *spec, uint64_t *k, int *errnum, tt_err *err);

/* ---- the hook ---- */

extern unsigned tt_fault_armed_; /* kinds armed; 0 = off (read by tt_fault_hit only) */

/* Slow path: count the call, and decide whether it fails. 1 = fail (errno
 * set), 2 = land a short write, 0 = go through. */
int tt_fault_trip_(unsigned kind);

/* 0 = go through; otherwise what tt_fault_trip_ said. */
static inline int tt_fault_hit(unsigned kind)
{
    if (__builtin_expect(__atomic_load_n(&tt_fault_armed_, __ATOMIC_RELAXED) != 0, 0))
        return tt_fault_trip_(kind);
    return 0;
}

/* The wrapped calls: the system call's contract, plus the armed fault. */
static inline ssize_t tt_fault_write(int fd, const void *p, size_t n)
{
    int f = tt_fault_hit(TT_FAULT_WRITE);
    if (f == 1)
        return -1;
    return write(fd, p, f == 2 ? n / 2 : n);
}

static inline ssize_t tt_fault_pwrite(int fd, const void *p, size_t n, off_t off)
{
    int f = tt_fault_hit(TT_FAULT_WRITE);
    if (f == 1)
        return -1;
    return pwrite(fd, p, f == 2 ? n / 2 : n, off);
}

/* A short writev lands half of the first buffer. */
static inline ssize_t tt_fault_writev(int fd, const struct iovec *iov, int n)
{
    int f = tt_fault_hit(TT_FAULT_WRITE);
    if (f == 1)
        return -1;
    if (f == 2)
        return n > 0 ? write(fd, iov[0].iov_base, iov[0].iov_len / 2) : 0;
    return writev(fd, iov, n);
}

static inline int tt_fault_fsync(int fd)
{
    if (tt_fault_hit(TT_FAULT_FSYNC) == 1)
        return -1;
    return fsync(fd);
}

static inline int tt_fault_rename(const char *from, const char *to)
{
    if (tt_fault_hit(TT_FAULT_RENAME) == 1)
        return -1;
    return rename(from, to);
}

#endif
