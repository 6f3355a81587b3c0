/*
 * ticktape: small POSIX I/O helpers shared by the layers.
 */
#ifndef TT_IO_H
#define TT_IO_H

#include <stddef.h>

#include "error.h"

/* Write all n bytes to fd: retried on EINTR and short writes; a write that
 * makes no progress fails with ENOSPC. 0, or -1 with errno set. */
int tt_write_all(int fd, const void *p, size_t n);

/* Read exactly n bytes from fd, retried on EINTR and short reads. 0, or -1
 * at end of file before n bytes (errno 0) or on an error (errno set). */
int tt_read_all(int fd, void *p, size_t n);

/* Read a whole file that something untrusted may have named, or that may
 * have been replaced by something hostile: it is opened without blocking
 * (O_NONBLOCK, so a FIFO cannot wedge the caller), it must be a regular file
 * (never a FIFO, a device such as /dev/zero, a socket or a directory), and it
 * may hold at most `cap` bytes (checked on fstat and again while reading, for
 * a file that grows). *out gets a malloc'd copy with a NUL after the *len
 * bytes. TT_EIO (cannot open or read), TT_EPERM (not a regular file, or
 * larger than cap), TT_ENOMEM; the message names the path. */
int tt_read_file_capped(const char *path, size_t cap, char **out, size_t *len, tt_err *err);

/* Remove a directory tree (or a file) without a shell: nothing in path is
 * ever interpreted. Symbolic links are removed, never followed. 0, or -1
 * with errno set (a missing path is not an error). */
int tt_rmtree(const char *path);

/* Create a directory and its missing parents (mode 0777 before umask). 0,
 * or -1 with errno set. */
int tt_mkdirs(const char *path);

#endif
