/*
 * The closed trades of a run (see trade_log.h): a heap array up to keep_max,
 * then an unlinked temporary file written through a fixed buffer and mapped
 * read-only at the end.
 *
 * Invariants: `n` counts every trade taken, in the array (before the move) or
 * in the file plus the buffer (after); `fd` >= 0 exactly when the list lives
 * in the file; `failed` is sticky and, once set, `fail` holds the error every
 * later call returns.
 */
#include "trade_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/io.h"

struct tt_trade_log {
    tt_trade_record *v; /* in memory (before the move) */
    size_t n, cap;      /* n: every trade so far, in memory or in the file */
    size_t keep_max;    /* trades kept in memory before the move; 0: no limit */
    int fd;             /* the file (unlinked), -1 before the move */
    tt_trade_record *buf;
    size_t nbuf;
    char path[512];     /* the directory, then the file: for messages */
    int failed;
    tt_err fail;
};

int tt_trade_log_new(tt_trade_log **out, size_t keep_max, tt_err *err)
{
    tt_trade_log *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return tt_err_set(err, TT_ENOMEM, "trades: out of memory");
    t->keep_max = keep_max;
    t->fd = -1;
    *out = t;
    return TT_OK;
}

void tt_trade_log_free(tt_trade_log *t)
{
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    free(t->buf);
    free(t->v);
    free(t);
}

/* Record the log's failure (sticky) and return it. */
static int fail_with(tt_trade_log *t, tt_err *err)
{
    t->failed = 1;
    if (err)
        *err = t->fail;
    return t->fail.code;
}

/* The list cannot go to the file: say which file or directory, and why. */
static int fail_io(tt_trade_log *t, const char *what, int e, tt_err *err)
{
    tt_err_set(&t->fail, TT_EIO,
               "trades: more than %zu closed trades (the in-memory limit), and %s %s: %s "
               "(set TMPDIR to a writable directory, or raise metrics.trades_in_memory)",
               t->keep_max, what, t->path, strerror(e));
    return fail_with(t, err);
}

static int fail_oom(tt_trade_log *t, tt_err *err)
{
    tt_err_set(&t->fail, TT_ENOMEM, "out of memory collecting results (trades)");
    return fail_with(t, err);
}

/* Move the list to a new unlinked temporary file: the kept trades are
 * written out and their array freed. */
static int move_to_file(tt_trade_log *t, tt_err *err)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0])
        dir = "/tmp";
    int n = snprintf(t->path, sizeof t->path, "%s/ticktape-trades-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof t->path) {
        snprintf(t->path, sizeof t->path, "%.400s...", dir);
        return fail_io(t, "cannot create a temporary file in", ENAMETOOLONG, err);
    }
    int fd = mkstemp(t->path);
    if (fd < 0) {
        int e = errno;
        snprintf(t->path, sizeof t->path, "%s", dir);
        return fail_io(t, "cannot create a temporary file in", e, err);
    }
    unlink(t->path);
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    t->fd = fd;
    if (!(t->buf = malloc(TT_TRADE_LOG_BUF * sizeof *t->buf)))
        return fail_oom(t, err);
    if (tt_write_all(fd, t->v, t->n * sizeof *t->v))
        return fail_io(t, "cannot write the temporary file", errno, err);
    free(t->v);
    t->v = NULL;
    t->cap = 0;
    return TT_OK;
}

static int flush_buf(tt_trade_log *t, tt_err *err)
{
    if (tt_write_all(t->fd, t->buf, t->nbuf * sizeof *t->buf))
        return fail_io(t, "cannot write the temporary file", errno, err);
    t->nbuf = 0;
    return TT_OK;
}

int tt_trade_log_add(tt_trade_log *t, const tt_trade_record *rec, tt_err *err)
{
    if (t->failed)
        return fail_with(t, err);
    if (t->fd < 0 && (!t->keep_max || t->n < t->keep_max)) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 256;
            tt_trade_record *v = realloc(t->v, cap * sizeof *v);
            if (!v)
                return fail_oom(t, err);
            t->v = v;
            t->cap = cap;
        }
        t->v[t->n++] = *rec;
        return TT_OK;
    }
    int rc;
    if (t->fd < 0 && (rc = move_to_file(t, err)))
        return rc;
    t->buf[t->nbuf++] = *rec;
    t->n++;
    if (t->nbuf == TT_TRADE_LOG_BUF && (rc = flush_buf(t, err)))
        return rc;
    return TT_OK;
}

int tt_trade_log_finish(tt_trade_log *t, tt_trade_record **trades, size_t *n, size_t *map_len,
                        tt_err *err)
{
    *trades = NULL;
    *n = *map_len = 0;
    if (!t->failed && t->fd >= 0) {
        if (!t->nbuf || !flush_buf(t, NULL)) {
            size_t len = t->n * sizeof *t->v;
            void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, t->fd, 0);
            if (m == MAP_FAILED) {
                fail_io(t, "cannot map the temporary file", errno, NULL);
            } else {
                *trades = m;
                *map_len = len;
            }
        }
        close(t->fd);
        t->fd = -1;
        free(t->buf);
        t->buf = NULL;
        t->nbuf = 0;
    } else if (!t->failed) {
        *trades = t->v;
        t->v = NULL;
        t->cap = 0;
    }
    if (t->failed) {
        *trades = NULL;
        *map_len = 0;
        return fail_with(t, err);
    }
    *n = t->n;
    t->n = 0;
    return TT_OK;
}
