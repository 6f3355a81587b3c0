/*
 * ticktape: small POSIX I/O helpers shared by the layers.
 */
#ifndef TT_IO_H
#define TT_IO_H

#include <stddef.h>

/* Write all n bytes to fd: retried on EINTR and short writes; a write that
 * makes no progress fails with ENOSPC. 0, or -1 with errno set. */
int tt_write_all(int fd, const void *p, size_t n);

/* Read exactly n bytes from fd, retried on EINTR and short reads. 0, or -1
 * at end of file before n bytes (errno 0) or on an error (errno set). */
int tt_read_all(int fd, void *p, size_t n);

#endif
