/*
 * A tape open for writing (tt_tape): the writers' lock, the manifest in
 * memory, and the commit that replaces it.
 *
 * How it works
 * ------------
 * One process writes a tape at a time. tt_tape_open takes an advisory flock
 * on TAPE/.lock (waiting for it with o->wait) and writes "pid N command"
 * into the file; tt_tape_close empties the file and lets the lock go. A
 * writer killed with kill -9 loses the flock with its process but leaves the
 * text behind, and so does a writer whose write or commit failed: the next
 * tt_tape_open finds a non-empty lock file it could lock, knows the previous
 * writer did not finish, and brings the files back to the manifest (cuts
 * bytes past each segment's commit, removes files no entry names:
 * data/tape/repair.c) before anything is written. Readers never take the
 * lock; tt_tape_lock_status lets them say that a writer is at work or was
 * interrupted.
 *
 * The manifest is read once at open and kept in memory; every commit of any
 * of the tape's writers puts its segment's new commit into it and writes the
 * whole file again (write, fsync, rename, fsync the folder when durable:
 * data/tape/manifest.c). A tape without a manifest but with segments is an
 * old (format 1) tape, or one whose manifest was lost: writing is refused
 * until `ticktape tape upgrade` (or repair) has written one.
 */
#include "../tape_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>


/* ---- the lock file ---- */

static void lock_text(int fd, char *buf, size_t n)
{
    ssize_t k = pread(fd, buf, n - 1, 0);
    buf[k > 0 ? k : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

/* "pid N command" -> "pid N (command)"; *pid = N (0 when unreadable). */
static void lock_who(const char *text, char *who, size_t n, long *pid)
{
    char cmd[256] = "";
    *pid = 0;
    if (sscanf(text, "pid %ld %255[^\n]", pid, cmd) < 1)
        *pid = 0;
    snprintf(who, n, "pid %ld (%s)", *pid, cmd[0] ? cmd : "ticktape");
}

int tt_tape_lock_status(const char *dir, char *who, size_t n)
{
    char path[4200], text[400];
    snprintf(path, sizeof path, "%s/%s", dir, TAPE_LOCK);
    if (n)
        who[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    lock_text(fd, text, sizeof text);
    if (!text[0]) {
        close(fd);
        return 0;
    }
    long pid;
    lock_who(text, who, n, &pid);
    int st = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM) ? 1 : 2;
    if (st == 1 && pid == (long)getpid()) {
        /* This process: a writer of it that failed left its name but no lock
         * (a flock of ours on another descriptor would conflict with a held one) */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            flock(fd, LOCK_UN);
            st = 2;
        }
    }
    close(fd);
    return st;
}

static int tape_lock(tt_tape *t, const tt_tape_open_opts *o, char *prev, size_t prevn,
                     char *prev_text, size_t ptn, tt_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", t->dir, TAPE_LOCK);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX | LOCK_NB)) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK) {
            int e = errno;
            close(fd);
            return tt_err_set(err, TT_EIO, "%s: cannot lock: %s", path, strerror(e));
        }
        char text[400], who[400];
        long pid;
        lock_text(fd, text, sizeof text);
        lock_who(text, who, sizeof who, &pid);
        if (pid == (long)getpid()) {
            close(fd);
            return tt_err_set(err, TT_ESTATE,
                              "tape %s is already open for writing in this process (open its "
                              "streams through one tt_tape)", t->dir);
        }
        if (!o || !o->wait) {
            close(fd);
            return tt_err_set(err, TT_ESTATE,
                              "tape %s is being written by %s; wait for it to finish (--wait "
                              "waits)", t->dir, text[0] ? who : "another process");
        }
        while (flock(fd, LOCK_EX))
            if (errno != EINTR) {
                int e = errno;
                close(fd);
                return tt_err_set(err, TT_EIO, "%s: cannot lock: %s", path, strerror(e));
            }
        break;
    }
    char text[400];
    lock_text(fd, text, sizeof text);
    prev[0] = '\0';
    snprintf(prev_text, ptn, "%s", text);
    if (text[0]) {
        long pid;
        lock_who(text, prev, prevn, &pid);
    }
    char mine[400];
    int len = snprintf(mine, sizeof mine, "pid %ld %s\n", (long)getpid(),
                       o && o->command ? o->command : "ticktape");
    if (ftruncate(fd, 0) || pwrite(fd, mine, (size_t)len, 0) != len) {
        int e = errno;
        close(fd);
        return tt_err_set(err, TT_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    t->lock_fd = fd;
    return TT_OK;
}

static void tape_unlock(tt_tape *t)
{
    if (t->lock_fd < 0)
        return;
    if (!t->failed && ftruncate(t->lock_fd, 0) == 0 && t->durable)
        fsync(t->lock_fd);
    close(t->lock_fd); /* lets the flock go */
    t->lock_fd = -1;
}

/* ---- segments without a manifest ---- */

/* The format version of the first segment file under a stream folder of dir
 * (1 or 2), 0 when none is found. */
static int first_kind(void *ctx, const tt_tape_stream *s, const char *file, const char *path)
{
    (void)s;
    (void)file;
    uint8_t h[10];
    int fd = open(path, O_RDONLY | O_CLOEXEC), *kind = ctx;
    if (fd < 0)
        return 0;
    if (pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h && !memcmp(h, "TTAPESEG", 8))
        *kind = get16(h + 8) == 1 ? 1 : 2;
    close(fd);
    return *kind;
}

int tt_tape_unlisted_kind(const char *dir)
{
    int kind = 0;
    tt_tape_each_file(dir, first_kind, &kind, NULL);
    return kind;
}

int tt_tape_no_manifest(const char *dir, tt_err *err)
{
    int kind = tt_tape_unlisted_kind(dir);
    if (kind == 1)
        return 1;
    if (kind == 0)
        return tt_err_set(err, TT_ENOTFOUND, "%s: not a tape (no manifest, no segment)", dir);
    char who[400];
    int st = tt_tape_lock_status(dir, who, sizeof who);
    if (st == 1)
        return tt_err_set(err, TT_ENOTFOUND, "%s: nothing committed yet (%s is writing it)", dir,
                          who);
    if (st == 2)
        return tt_err_set(err, TT_ENOTFOUND, "%s: nothing committed: a writer did not finish "
                          "(%s); 'ticktape tape repair' removes what it left", dir, who);
    return tt_err_set(err, TT_EFORMAT, "%s: the tape has segments but no manifest: 'ticktape "
                      "tape repair %s' rebuilds it from their commit records", dir, dir);
}

/* ---- open and close ---- */

int tt_tape_open_flags(tt_tape **out, const char *dir, const tt_tape_open_opts *o, unsigned flags,
                       tt_err *err)
{
    *out = NULL;
    if (strlen(dir) >= sizeof((tt_tape *)0)->dir - 128)
        return tt_err_set(err, TT_EINVAL, "%s: path too long", dir);
    int rc = tt_tape_mkdirs(dir, err);
    if (rc)
        return rc;
    tt_tape *t = calloc(1, sizeof *t);
    if (!t)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    snprintf(t->dir, sizeof t->dir, "%s", dir);
    t->lock_fd = -1;
    if (o)
        t->o = *o;
    t->durable = o && o->fsync;
    char prev_text[400] = "";
    if ((rc = tape_lock(t, o, t->prev, sizeof t->prev, prev_text, sizeof prev_text, err)))
        goto fail;
    rc = tt_tape_manifest_read(dir, &t->man, err);
    if (rc && (flags & TT_TAPE_OPEN_RAW)) {
        t->no_manifest = rc; /* repair and upgrade build one */
        snprintf(t->man_msg, sizeof t->man_msg, "%s", err ? err->msg : "no manifest");
        rc = TT_OK;
    } else if (rc == TT_ENOTFOUND) {
        int kind = tt_tape_unlisted_kind(dir);
        if (kind == 2 && t->prev[0])
            kind = 0; /* a writer that never committed: recovery removes its files */
        rc = kind == 1 ? tt_err_set(err, TT_EVERSION,
                                    "tape %s is in format 1 (no manifest): run 'ticktape tape "
                                    "upgrade %s' before writing to it", dir, dir)
             : kind == 2 ? tt_err_set(err, TT_EFORMAT,
                                      "tape %s has segments but no manifest: run 'ticktape "
                                      "tape repair %s'", dir, dir)
                         : TT_OK;
    }
    if (rc)
        goto fail;
    if (t->prev[0] && !(flags & TT_TAPE_OPEN_RAW)) {
        /* the previous writer did not finish: back to its last commit */
        char line[600];
        snprintf(line, sizeof line, "tape %s: the previous writer, %s, did not finish; "
                 "its uncommitted data is dropped", dir, t->prev);
        if (o && o->report)
            o->report(o->ctx, line);
        if ((rc = tt_tape_recover(dir, &t->man, o ? o->report : NULL, o ? o->ctx : NULL, NULL,
                                  err)))
            goto fail;
    }
    *out = t;
    return TT_OK;
fail:
    if (t->lock_fd >= 0) {
        /* nothing was written: the lock file says again what it said before */
        size_t len = strlen(prev_text);
        if (ftruncate(t->lock_fd, 0) == 0 && len) {
            prev_text[len] = '\n';
            if (pwrite(t->lock_fd, prev_text, len + 1, 0) < 0)
                t->failed = 1;
        }
        t->failed = 1;
    }
    tape_unlock(t);
    tt_tape_manifest_free(&t->man);
    free(t);
    return rc;
}

int tt_tape_open(tt_tape **out, const char *dir, const tt_tape_open_opts *o, tt_err *err)
{
    return tt_tape_open_flags(out, dir, o, 0, err);
}

int tt_tape_close(tt_tape *t, tt_err *err)
{
    if (!t)
        return TT_OK;
    if (t->writers)
        return tt_err_set(err, TT_ESTATE, "tape %s: %d writer(s) still open", t->dir, t->writers);
    tape_unlock(t);
    tt_tape_manifest_free(&t->man);
    free(t);
    return TT_OK;
}

int tt_tape_commit_segment(tt_tape *t, const tt_tape_mseg *s, int durable, const char *replaced,
                           tt_err *err)
{
    int rc = tt_tape_manifest_put(&t->man, s) ? tt_err_set(err, TT_ENOMEM, "out of memory")
                                              : tt_tape_manifest_write(t->dir, &t->man,
                                                                       durable || t->durable, err);
    if (rc) {
        t->failed = 1;
        return rc;
    }
    if (replaced && unlink(replaced) && errno != ENOENT) {
        t->failed = 1;
        return tt_err_set(err, TT_EIO, "%s: cannot remove the replaced segment: %s", replaced,
                          strerror(errno));
    }
    return TT_OK;
}
