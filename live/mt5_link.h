/*
 * ticktape live: ticktape's end of the MT5 bridge connection.
 *
 * MQL5 sockets are client-only, so ticktape listens and the terminal (the
 * TicktapeBridge EA, or mt5-sim) connects. The link owns the listening
 * socket and one thread that accepts, runs the handshake, reads frames and
 * keeps the heartbeat; the user of the link (the live venue, the
 * mt5-connector service) gets:
 *
 *   on_up      a terminal proved the shared secret (HELLO, CHALLENGE, AUTH,
 *              WELCOME done, the symbols subscribed); its HELLO is passed on;
 *   on_frame   every later frame from it, decoded, in arrival order;
 *   on_down    the session ended (closed, heartbeat lost, a frame too long,
 *              replaced by a newer authenticated session);
 *   on_wire    every frame line in and out, handshake included (the Kafka
 *              broker_communication_log), with its direction.
 *
 * on_up, on_frame and on_down run on the link's thread; on_wire also runs on
 * the thread that sends (under the link's write lock, so lines keep their
 * order). tt_mt5_link_send may be called from any thread; it fails with
 * TT_ESTATE when no session is up (the caller decides what a request that
 * could not leave means: nothing was sent).
 *
 * One session at a time. A new connection is authenticated on its own and
 * replaces the current session only once it has proved the secret (a
 * restarted terminal reconnects before the old socket times out; a stranger
 * cannot kick the real terminal off). A connection that does not complete
 * the handshake in 5 s, sends a frame too long, or fails the proof is closed
 * with BYE naming why. No frame but heartbeats, BYE and ERROR is accepted
 * before the proof.
 */
#ifndef TT_MT5_LINK_H
#define TT_MT5_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "mt5_proto.h"

enum tt_mt5_wire_dir { TT_MT5_IN = 0, TT_MT5_OUT = 1 };

typedef struct tt_mt5_link_opts {
    const char *host;             /* address to listen on ("127.0.0.1", "0.0.0.0") */
    int port;                     /* 0 = any free port (tt_mt5_link_port tells) */
    const char *secret;           /* shared secret (required) */
    const char *tls_cert;         /* TLS: certificate chain (PEM); NULL = plain TCP */
    const char *tls_key;          /* TLS: its private key (PEM) */
    uint32_t hb_ms;               /* heartbeat interval; 0 = 1000 */
    const char *const *symbols;   /* SUB on every new session, NULL-terminated */
    void (*on_up)(void *ctx, const tt_mt5_hello *hello);
    void (*on_frame)(void *ctx, const tt_mt5_frame *f);
    void (*on_down)(void *ctx, const char *why);
    void (*on_wire)(void *ctx, int dir, const char *line, size_t len); /* line without '\n' */
    void (*on_idle)(void *ctx);   /* every turn of the link's loop (at least every 100 ms) */
    void (*log)(void *ctx, const char *line);
    void *ctx;
} tt_mt5_link_opts;

typedef struct tt_mt5_link tt_mt5_link;

/* Bind, listen, start the thread. TT_ENET naming the address when it cannot
 * listen, TT_EINVAL without a secret. */
int tt_mt5_link_open(tt_mt5_link **l, const tt_mt5_link_opts *opts, tt_err *err);

/* Send one frame to the current session. TT_ESTATE: no session; TT_ENET: the
 * write failed (the session is then closed); TT_EINVAL: the frame cannot be
 * encoded (err names the field). */
int tt_mt5_link_send(tt_mt5_link *l, const tt_mt5_frame *f, tt_err *err);

int tt_mt5_link_up(tt_mt5_link *l);      /* 1 while a session is up */
int tt_mt5_link_port(const tt_mt5_link *l);
uint64_t tt_mt5_link_sessions(tt_mt5_link *l); /* sessions authenticated so far */

/* End the session (BYE with the reason) and keep listening. */
void tt_mt5_link_kick(tt_mt5_link *l, const char *why);

/* BYE to the session, stop the thread, close everything. */
void tt_mt5_link_close(tt_mt5_link *l, const char *why);

#endif
