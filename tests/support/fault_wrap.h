/*
 * Fault injection for test binaries, SQLite style: fail the k-th allocation or
 * write of a run, for every k, and check that each failure is named, leaks
 * nothing and leaves no tape corrupt.
 *
 * How: a test binary that uses this links tests/support/fault_wrap.c and
 * wraps the calls at link time (see tests/support/fault.cmake):
 *
 *     -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
 *     -Wl,--wrap=write,--wrap=writev,--wrap=pwrite,--wrap=fsync
 *
 * so every such call made by ticktape's static libraries (and the test)
 * goes through the wrappers here; production code and binaries are not
 * touched and pay nothing. Calls made inside shared libraries (libc's own
 * stdio, liblzma, libzstd, libyaml, HDF5) are not wrapped: those allocate
 * and write on their own, and their failures reach us as their error codes.
 *
 * Arming: tt_fw_arm(kinds, k, errno) makes the k-th call (1-based, counted
 * over the armed kinds since arming, from every thread) fail once: an
 * allocation returns NULL with errno ENOMEM, a write or fsync returns -1
 * with the given errno. k = 0 only counts, which is how a test learns the
 * number of calls a clean run makes. The counters are atomic; with several
 * threads the k-th call is the k-th to arrive, so a multi-threaded run may
 * fail a different site for the same k from one run to the next.
 *
 * This is the test-side half of fault injection; core/fault.h (integrity
 * branch) hooks the write paths at source level for the CLI-level tests.
 * The two count separately; this one needs no change in the code it tests.
 */
#ifndef TT_FAULT_WRAP_H
#define TT_FAULT_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum tt_fw_kind {
    TT_FW_ALLOC = 1u << 0, /* malloc, calloc, realloc (to a non-zero size), strdup */
    TT_FW_WRITE = 1u << 1, /* write, writev, pwrite */
    TT_FW_FSYNC = 1u << 2  /* fsync */
};

/* Count the calls of `kinds` from now on, and fail the k-th (k >= 1) with
 * errnum (allocations always fail with ENOMEM). k = 0: count only. */
void tt_fw_arm(unsigned kinds, uint64_t k, int errnum);
/* Stop counting and failing. */
void tt_fw_disarm(void);
/* Calls of the armed kinds since arming; faults injected (0 or 1). */
uint64_t tt_fw_calls(void);
uint64_t tt_fw_fired(void);

/* Which k to try for a run that makes `total` calls. Full (the slow tests):
 * every k up to total when total <= 5000, else every k up to 2000 plus 1000
 * more spread over the rest by a fixed-seed generator. Quick (the default
 * suite): the first 16 and 48 more spread over the rest. Sorted, distinct.
 * Returns how many were written to ks (at most cap). */
size_t tt_fw_schedule(uint64_t total, int full, uint64_t *ks, size_t cap);

/* "--full" among argv: run the full schedule. */
int tt_fw_full(int argc, char **argv);

/* ---- the every-k loop ---- */

/* One fault case: a run of the code under test, and what a run must leave. */
typedef struct tt_fw_case {
    const char *name;      /* for the summary line: "import alloc" */
    unsigned kind;         /* the calls that fail (one TT_FW_*) */
    int errnum;            /* their errno (allocations: ENOMEM) */
    int want_rc;           /* the code a failed run must return */
    const char *want_text; /* ...with this in its message */
    /* One run. k = 0: the clean run, in which nothing fails (its calls are
     * counted); else the k-th call fails. Returns the run's code, err filled. */
    int (*run)(void *ctx, uint64_t k, tt_err *err);
    /* After each run, clean one included: 0 when what it left is right, else
     * -1 having printed why. rc is the run's code (TT_OK: clean, or a fault
     * the run absorbed, which must change nothing). May be NULL. */
    int (*check)(void *ctx, uint64_t k, int rc, const tt_err *err);
    void *ctx;
} tt_fw_case;

typedef struct tt_fw_tally {
    uint64_t calls;  /* of the kind, in the clean run */
    size_t tried;    /* values of k run */
    size_t failed;   /* runs that failed as they must */
    size_t absorbed; /* runs that succeeded although a call failed */
    size_t bad;      /* runs that did anything else (each printed) */
} tt_fw_tally;

/* The clean run, then a run for each k of the schedule (full or quick; with
 * TT_FW_ONLY=k in the environment, that k alone, its result printed). A run
 * in which the fault fired must fail with want_rc naming want_text or
 * succeed; one in which it did not (another thread's timing) must succeed;
 * and check must accept each. Prints a summary line; returns t->bad. */
size_t tt_fw_every_k(const tt_fw_case *c, int full, tt_fw_tally *t);

#endif
