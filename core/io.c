/*
 * Small POSIX I/O helpers. tt_read_file_capped is the one reader for files
 * that a message or another user could have named or swapped: it never
 * blocks on a FIFO, never reads a device to exhaustion, never reads past a
 * cap, so a hostile name costs at most the cap and a failed open.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tt_write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0) {
            errno = ENOSPC;
            return -1;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

int tt_read_all(int fd, void *p, size_t n)
{
    char *b = p;
    while (n) {
        ssize_t k = read(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = 0;
            return -1;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

int tt_read_file_capped(const char *path, size_t cap, char **out, size_t *len, tt_err *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return tt_err_set(err, TT_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return tt_err_set(err, TT_EPERM, "%s: not a regular file", path);
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > cap) {
        close(fd);
        return tt_err_set(err, TT_EPERM, "%s: larger than %zu bytes", path, cap);
    }
    /* One byte more than the cap: a file that grew since fstat is caught. */
    size_t want = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(want + 1);
    if (!buf) {
        close(fd);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n == want) {
            if (want > cap) {
                free(buf);
                close(fd);
                return tt_err_set(err, TT_EPERM, "%s: larger than %zu bytes", path, cap);
            }
            size_t grow = want * 2 > cap + 1 ? cap + 1 : want * 2;
            char *nb = realloc(buf, grow + 1);
            if (!nb) {
                free(buf);
                close(fd);
                return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
            }
            buf = nb;
            want = grow;
        }
        ssize_t k = read(fd, buf + n, want - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return tt_err_set(err, TT_EIO, "%s: read error: %s", path, strerror(e));
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = 0;
    *out = buf;
    *len = n;
    return TT_OK;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) && errno != ENOENT ? -1 : 0;
}

int tt_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st))
        return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int tt_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0777) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}
