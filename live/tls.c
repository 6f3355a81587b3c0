/*
 * TLS on a TCP socket (see tls.h), over OpenSSL's libssl.
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wallclock.h" /* tt_mono_ns */

struct tt_tls_ctx {
    SSL_CTX *ssl;
};

struct tt_tls {
    SSL *ssl;
    int fd;
};

/* OpenSSL writes to the socket with write(2): a peer gone raises SIGPIPE.
 * Blocked on this thread around each call, and one raised there taken back
 * (the process's handling of SIGPIPE is not a library's to change). */
typedef struct nopipe {
    sigset_t old;
    int was_pending;
} nopipe;

static void nopipe_on(nopipe *np)
{
    sigset_t s, pend;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigpending(&pend);
    np->was_pending = sigismember(&pend, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, &np->old);
}

static void nopipe_off(const nopipe *np)
{
    sigset_t s, pend;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigpending(&pend);
    if (!np->was_pending && sigismember(&pend, SIGPIPE)) {
        struct timespec zero = {0, 0};
        int e = errno;
        sigtimedwait(&s, NULL, &zero);
        errno = e;
    }
    pthread_sigmask(SIG_SETMASK, &np->old, NULL);
}

/* OpenSSL's latest error as text (its queue emptied). */
static const char *ssl_why(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(buf, cap, "%s", errno ? strerror(errno) : "connection closed");
    } else {
        ERR_error_string_n(e, buf, cap);
        ERR_clear_error();
    }
    return buf;
}

static int new_ctx(tt_tls_ctx **out, int server, tt_err *err)
{
    *out = NULL;
    tt_tls_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return tt_err_set(err, TT_ENOMEM, "tls: out of memory");
    c->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c->ssl) {
        free(c);
        char why[160];
        return tt_err_set(err, TT_ENOMEM, "tls: %s", ssl_why(why, sizeof why));
    }
    SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
    SSL_CTX_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    *out = c;
    return TT_OK;
}

int tt_tls_server_ctx(tt_tls_ctx **out, const char *cert_file, const char *key_file,
                      tt_err *err)
{
    int rc = new_ctx(out, 1, err);
    if (rc)
        return rc;
    char why[160];
    EVP_PKEY *key = NULL;
    FILE *f = NULL;
    if (SSL_CTX_use_certificate_chain_file((*out)->ssl, cert_file) != 1) {
        rc = tt_err_set(err, TT_EINVAL, "tls: certificate %s: %s", cert_file,
                        ssl_why(why, sizeof why));
    } else if (!(f = fopen(key_file, "r")) || !(key = PEM_read_PrivateKey(f, NULL, NULL, NULL))) {
        rc = tt_err_set(err, TT_EINVAL, "tls: private key %s: %s", key_file,
                        f ? ssl_why(why, sizeof why) : strerror(errno));
    } else if (X509_check_private_key(SSL_CTX_get0_certificate((*out)->ssl), key) != 1) {
        ERR_clear_error();
        rc = tt_err_set(err, TT_EINVAL, "tls: private key %s does not match certificate %s",
                        key_file, cert_file);
    } else if (SSL_CTX_use_PrivateKey((*out)->ssl, key) != 1) {
        rc = tt_err_set(err, TT_EINVAL, "tls: private key %s: %s", key_file,
                        ssl_why(why, sizeof why));
    }
    if (f)
        fclose(f);
    EVP_PKEY_free(key);
    if (rc) {
        tt_tls_ctx_free(*out);
        *out = NULL;
    }
    return rc;
}

int tt_tls_client_ctx(tt_tls_ctx **out, const char *ca_file, int verify, tt_err *err)
{
    int rc = new_ctx(out, 0, err);
    if (rc)
        return rc;
    char why[160];
    if (verify) {
        SSL_CTX_set_verify((*out)->ssl, SSL_VERIFY_PEER, NULL);
        int ok = ca_file ? SSL_CTX_load_verify_locations((*out)->ssl, ca_file, NULL)
                         : SSL_CTX_set_default_verify_paths((*out)->ssl);
        if (ok != 1) {
            rc = tt_err_set(err, TT_EINVAL, "tls: certificates to trust %s: %s",
                            ca_file ? ca_file : "(the system's)", ssl_why(why, sizeof why));
            tt_tls_ctx_free(*out);
            *out = NULL;
        }
    } else {
        SSL_CTX_set_verify((*out)->ssl, SSL_VERIFY_NONE, NULL);
    }
    return rc;
}

void tt_tls_ctx_free(tt_tls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

int tt_tls_new(tt_tls **out, tt_tls_ctx *ctx, int fd, int server, const char *host,
               tt_err *err)
{
    *out = NULL;
    tt_tls *t = calloc(1, sizeof *t);
    if (!t)
        return tt_err_set(err, TT_ENOMEM, "tls: out of memory");
    t->fd = fd;
    t->ssl = SSL_new(ctx->ssl);
    char why[160];
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
        tt_tls_free(t);
        return tt_err_set(err, TT_ENOMEM, "tls: %s", ssl_why(why, sizeof why));
    }
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (server) {
        SSL_set_accept_state(t->ssl);
    } else {
        SSL_set_connect_state(t->ssl);
        if (host && host[0]) { /* an address is checked as one, a name as a name (and sent) */
            X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
            if (!X509_VERIFY_PARAM_set1_ip_asc(vp, host)) {
                SSL_set_tlsext_host_name(t->ssl, host);
                SSL_set1_host(t->ssl, host);
            }
        }
    }
    *out = t;
    return TT_OK;
}

int tt_tls_handshake(tt_tls *t, short *want, tt_err *err)
{
    ERR_clear_error();
    errno = 0;
    nopipe np;
    nopipe_on(&np);
    int r = SSL_do_handshake(t->ssl);
    nopipe_off(&np);
    if (r == 1)
        return 1;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return 0;
    }
    char why[160];
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK)
        return tt_err_set(err, TT_ENET, "tls handshake: certificate not trusted: %s",
                          X509_verify_cert_error_string(v));
    return tt_err_set(err, TT_ENET, "tls handshake: %s", ssl_why(why, sizeof why));
}

ssize_t tt_tls_read(tt_tls *t, void *buf, size_t cap)
{
    ERR_clear_error();
    errno = 0;
    nopipe np;
    nopipe_on(&np);
    int n = SSL_read(t->ssl, buf, cap > 1 << 30 ? 1 << 30 : (int)cap);
    nopipe_off(&np);
    if (n > 0)
        return n;
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    ERR_clear_error();
    if (e == SSL_ERROR_SYSCALL && errno == 0)
        return 0; /* closed without close_notify */
    errno = EIO;
    return -1;
}

size_t tt_tls_pending(const tt_tls *t)
{
    int n = t ? SSL_pending(t->ssl) : 0;
    return n > 0 ? (size_t)n : 0;
}

int tt_tls_write(tt_tls *t, const void *buf, size_t len, int timeout_ms, tt_err *err)
{
    const char *p = buf;
    int64_t until = tt_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (len) {
        ERR_clear_error();
        errno = 0;
        nopipe np;
        nopipe_on(&np);
        int n = SSL_write(t->ssl, p, len > 1 << 30 ? 1 << 30 : (int)len);
        nopipe_off(&np);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        int64_t left = (until - tt_mono_ns()) / 1000000;
        if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) && left > 0) {
            struct pollfd q = {t->fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0};
            poll(&q, 1, (int)left);
            continue;
        }
        char why[160];
        return tt_err_set(err, TT_ENET, "tls write: %s",
                          left <= 0 ? "timed out" : ssl_why(why, sizeof why));
    }
    return TT_OK;
}

void tt_tls_free(tt_tls *t)
{
    if (!t)
        return;
    if (t->ssl) {
        if (SSL_is_init_finished(t->ssl)) {
            nopipe np;
            nopipe_on(&np);
            SSL_shutdown(t->ssl); /* close_notify, not waiting for the peer's */
            nopipe_off(&np);
        }
        SSL_free(t->ssl);
    }
    ERR_clear_error();
    free(t);
}
