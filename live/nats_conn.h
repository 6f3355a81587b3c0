/*
 * ticktape: how every NATS connection is made (paper's feed and sink,
 * publish, sweep, walkforward, worker): one set of authentication and TLS
 * options and one function that turns them into nats.c's natsOptions, so the
 * commands cannot differ in what they support.
 *
 * Authentication: credentials in the URL (nats://user:pass@host) keep
 * working; or a user and password (the password from a file, or given
 * already resolved by the caller, e.g. from an environment variable), a
 * token from a file, an NKey seed file (the public key is derived from the
 * seed), or a JWT .creds file. TLS: a CA file to trust, a client
 * certificate and key; any of them (or a tls:// URL) makes the connection
 * TLS-only. Secrets are read from files with tt_read_file_capped, handed to
 * nats.c and wiped; they are never printed.
 *
 * URLs are printed only through tt_url_redact: "nats://user:***@host:4222"
 * (a token in the URL becomes "***@host").
 */
#ifndef TT_NATS_CONN_H
#define TT_NATS_CONN_H

#include <stddef.h>

#include <nats/nats.h>

#include "../core/error.h"

typedef struct tt_nats_opts {
    const char *user;          /* with password or password_file */
    const char *password;      /* resolved by the caller; NULL: read password_file */
    const char *password_file;
    const char *token_file;    /* a token (trailing whitespace ignored) */
    const char *nkey_file;     /* an NKey user seed ("SU...") */
    const char *creds_file;    /* a JWT .creds file (user JWT and NKey seed) */
    const char *tls_ca;        /* PEM CA certificates to trust */
    const char *tls_cert;      /* PEM client certificate (with tls_key) */
    const char *tls_key;
} tt_nats_opts;

/* natsOptions with url, the authentication and TLS of auth (NULL = none) and
 * a connect timeout of 5 s; the caller adds its own settings, connects and
 * destroys them. TT_EINVAL (bad combination), TT_EIO / TT_EPERM (a file that
 * cannot be read), TT_ENET (nats.c refused a setting, e.g. a bad
 * certificate); messages name files and the redacted URL, never a secret. */
int tt_nats_options_new(natsOptions **out, const char *url, const tt_nats_opts *auth,
                        tt_err *err);

/* Connect with tt_nats_options_new's options (and a connection name, may be
 * NULL). TT_ENET naming the redacted URL and nats.c's reason. */
int tt_nats_connect(natsConnection **nc, const char *url, const tt_nats_opts *auth,
                    const char *name, tt_err *err);

/* The NKey user public key ("U...", 56 characters) of a seed ("SU...").
 * TT_EINVAL when seed is not a user seed. */
int tt_nkey_public(const char *seed, char out[57], tt_err *err);

/* A URL (or a comma-separated list of them) fit to print: the user info of
 * each becomes "user:***" or, for a token, "***". Returns out. */
#define TT_URL_SHOWN_MAX 512
const char *tt_url_redact(const char *url, char *out, size_t cap);

#endif
