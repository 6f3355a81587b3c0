/*
 * TLS on a TCP socket (OpenSSL's libssl), for the MT5 bridge: ticktape's
 * listener is the server (a certificate and its key), mt5-sim the client
 * (the terminal's SocketTlsHandshake is the real one).
 *
 * The socket is made non-blocking; reads never wait; a write waits for the
 * socket (up to a deadline) when the kernel's buffer is full. One tt_tls is
 * not to be used by two threads at once: the caller serialises (the link
 * holds its write lock around reads of the session too).
 */
#ifndef TT_LIVE_TLS_H
#define TT_LIVE_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"

typedef struct tt_tls_ctx tt_tls_ctx;
typedef struct tt_tls tt_tls;

/* A server's context: the certificate chain (PEM) and its private key (PEM).
 * TT_EINVAL naming the file when one cannot be read or they do not match.
 * TLS 1.2 at least. */
int tt_tls_server_ctx(tt_tls_ctx **out, const char *cert_file, const char *key_file,
                      tt_err *err);

/* A client's context: the server's certificate is verified against ca_file
 * (PEM), or the system's roots when ca_file is NULL; verify = 0 accepts any
 * certificate (tests, and users who know why). */
int tt_tls_client_ctx(tt_tls_ctx **out, const char *ca_file, int verify, tt_err *err);

void tt_tls_ctx_free(tt_tls_ctx *ctx);

/* TLS on a connected socket fd (made non-blocking; not closed by
 * tt_tls_free). host (client only, may be NULL): the name to send (SNI) and
 * to check the certificate against. */
int tt_tls_new(tt_tls **out, tt_tls_ctx *ctx, int fd, int server, const char *host,
               tt_err *err);

/* One step of the handshake: 1 done; 0 not yet, call again when the socket
 * is ready for *want (POLLIN or POLLOUT); TT_ENET with the reason. */
int tt_tls_handshake(tt_tls *t, short *want, tt_err *err);

/* Decrypted bytes into buf: > 0 read; 0 the peer closed; -1 with errno
 * EAGAIN (nothing now) or EIO (the connection failed). */
ssize_t tt_tls_read(tt_tls *t, void *buf, size_t cap);

/* Bytes already decrypted and waiting (read them before polling again). */
size_t tt_tls_pending(const tt_tls *t);

/* Write all of buf, waiting for the socket at most timeout_ms in all.
 * TT_ENET naming the failure. */
int tt_tls_write(tt_tls *t, const void *buf, size_t len, int timeout_ms, tt_err *err);

/* Send close_notify (best effort) and free; the fd stays open. NULL is fine. */
void tt_tls_free(tt_tls *t);

#endif
