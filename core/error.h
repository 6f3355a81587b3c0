/*
 * ticktape: error reporting.
 *
 * Every fallible function returns an int: 0 (TT_OK) on success, a negative
 * TT_E* code on failure, and fills a caller-provided tt_err with a message that
 * names what was wrong and where (file, line or block, field). Nothing below
 * cli/ calls exit(). A NULL tt_err pointer is allowed: the code is still
 * returned, the message is dropped.
 */
#ifndef TT_ERROR_H
#define TT_ERROR_H

#include <stddef.h>

enum tt_status {
    TT_OK = 0,
    TT_EIO = -1,        /* read/write/open failed (errno-level) */
    TT_EFORMAT = -2,    /* malformed input: bad magic, bad record, parse error */
    TT_ECHECKSUM = -3,  /* stored checksum does not match the data */
    TT_EVERSION = -4,   /* unknown on-disk format version */
    TT_EINVAL = -5,     /* bad argument or configuration value */
    TT_ENOMEM = -6,     /* allocation failed */
    TT_ENOTFOUND = -7,  /* file, stream, symbol or key does not exist */
    TT_EORDER = -8,     /* event out of time order where order is required */
    TT_ETORN = -9,      /* a torn (incomplete) tail was found */
    TT_EPARTIAL = -10,  /* work completed in part; details in the message */
    TT_ENET = -11,      /* network / broker failure */
    TT_EABI = -12,      /* plugin ABI mismatch */
    TT_ESTATE = -13,    /* call not valid in the object's current state */
    TT_EPERM = -14      /* refused by a security rule (not allowed, not trusted) */
};

typedef struct tt_err {
    int code;
    char msg[1024];
} tt_err;

/* Record an error: formats msg (truncated to fit), stores code. Returns code,
 * whether or not err is NULL (for `return tt_err_set(err, ...)`). Cannot fail. */
int tt_err_set(tt_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with more context ("file.seg: " + old message,
 * truncated to fit); the code is left as it is. A NULL err is a no-op. Returns
 * nothing: with a NULL err there is no record and no code to give back, so the
 * caller returns the code it holds (`tt_err_prefix(err, ...); return rc;`). */
void tt_err_prefix(tt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset to TT_OK and an empty message. A NULL err is a no-op. */
void tt_err_clear(tt_err *err);

/* Text from the outside world (a subject, a symbol, a topic) made safe for a
 * log line or a message: printable ASCII stays, a backslash becomes "\\",
 * every other byte "\xNN" (so a control character can never forge a line
 * or move the terminal's cursor). n bytes of s (no NUL needed); the result
 * is cut to fit cap, always NUL-terminated. Returns out. */
char *tt_str_escape(char *out, size_t cap, const void *s, size_t n);

/* A short fixed name for a status code ("EIO", "EFORMAT", ...); "E?" for a
 * code that is not a tt_status. Never NULL. */
const char *tt_status_name(int code);

#endif
