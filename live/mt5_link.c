/*
 * ticktape's end of the MT5 bridge (see mt5_link.h). One thread polls the
 * listening socket, the session, a connection in its handshake, and a wake
 * pipe (kick, close). Writes to the session come from any thread under
 * `wmu`; a write that fails only shuts the socket down, and the link thread,
 * which alone closes sockets, then ends the session (no fd is closed while
 * another thread may write to it).
 *
 * A write blocks at most 2 s (SO_SNDTIMEO): a terminal that stops reading
 * loses its session rather than stall the engine.
 *
 * With a certificate (opts.tls_cert) every connection is TLS: the handshake
 * runs, step by step, on the link thread before HELLO; the session's reads
 * then take `wmu` too (one TLS object, two threads).
 */
#include "mt5_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "logline.h"
#include "tls.h"
#include "wallclock.h" /* tt_mono_ns */

#define HANDSHAKE_NS (5 * 1000000000LL)

typedef struct conn {
    int fd;
    tt_tls *t;            /* TLS on fd, or NULL */
    int tls_hs;           /* the TLS handshake is not done yet */
    short want;           /* what it waits for (POLLIN, POLLOUT) */
    tt_mt5_reader rd;
    int stage;            /* pending: 0 = wait HELLO, 1 = wait AUTH */
    char nonce[TT_MT5_HEX_MAX];
    tt_mt5_hello hello;
    int64_t since_ns, last_in_ns;
} conn;

struct tt_mt5_link {
    tt_mt5_link_opts o;
    char *secret;
    tt_tls_ctx *tls;
    int lfd, port;
    int wake[2];
    pthread_t th;
    int started;
    atomic_int stop, up, kick;
    atomic_ullong sessions;
    pthread_mutex_t wmu; /* the session's fd for writers, last_out_ns */
    conn cur, pend;
    int64_t last_out_ns;
    char kick_why[128];
};

#define logf_(l, ...) tt_logline((l)->o.log, (l)->o.ctx, __VA_ARGS__)

/* Write a whole frame; 0 or -1. Caller holds wmu for the session. */
static int write_frame(tt_mt5_link *l, conn *c, const tt_mt5_frame *f, tt_err *err)
{
    char buf[TT_MT5_FRAME_MAX];
    size_t len;
    int rc = tt_mt5_frame_encode(f, buf, sizeof buf, &len, err);
    if (rc)
        return rc;
    if (l->o.on_wire)
        l->o.on_wire(l->o.ctx, TT_MT5_OUT, buf, len - 1);
    if (c->t) {
        tt_err e;
        if (!tt_tls_write(c->t, buf, len, 2000, &e))
            return TT_OK;
        return tt_err_set(err, TT_ENET, "mt5 link: write to the terminal failed: %s", e.msg);
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(c->fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return tt_err_set(err, TT_ENET, "mt5 link: write to the terminal failed: %s",
                              n < 0 ? strerror(errno) : "closed");
        done += (size_t)n;
    }
    return TT_OK;
}

static void bye(tt_mt5_link *l, conn *c, const char *why)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_BYE;
    snprintf(f.u.text.reason, sizeof f.u.text.reason, "%s", why);
    write_frame(l, c, &f, NULL);
}

static void conn_close(conn *c)
{
    tt_tls_free(c->t);
    if (c->fd >= 0)
        close(c->fd);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

/* End the session: BYE when why is given and the socket still writes. */
static void session_end(tt_mt5_link *l, const char *why, int say_bye)
{
    if (l->cur.fd < 0)
        return;
    pthread_mutex_lock(&l->wmu);
    atomic_store(&l->up, 0);
    if (say_bye)
        bye(l, &l->cur, why);
    conn_close(&l->cur);
    pthread_mutex_unlock(&l->wmu);
    logf_(l, "terminal session ended: %s", why);
    if (l->o.on_down)
        l->o.on_down(l->o.ctx, why);
}

int tt_mt5_link_send(tt_mt5_link *l, const tt_mt5_frame *f, tt_err *err)
{
    pthread_mutex_lock(&l->wmu);
    if (!atomic_load(&l->up) || l->cur.fd < 0) {
        pthread_mutex_unlock(&l->wmu);
        return tt_err_set(err, TT_ESTATE, "mt5 link: no terminal connected");
    }
    int rc = write_frame(l, &l->cur, f, err);
    if (rc == TT_ENET) {
        atomic_store(&l->up, 0);
        shutdown(l->cur.fd, SHUT_RDWR); /* the link thread ends the session */
    } else if (!rc) {
        l->last_out_ns = tt_mono_ns();
    }
    pthread_mutex_unlock(&l->wmu);
    return rc;
}

/* ---- the handshake ---- */

static void promote(tt_mt5_link *l)
{
    if (l->cur.fd >= 0)
        session_end(l, "replaced by a new session of the terminal", 1);
    pthread_mutex_lock(&l->wmu);
    l->cur = l->pend;
    memset(&l->pend, 0, sizeof l->pend);
    l->pend.fd = -1;
    struct timeval tv = {2, 0};
    setsockopt(l->cur.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_WELCOME;
    tt_mt5_auth_mac(l->secret, strlen(l->secret), TT_MT5_ROLE_SERVER, l->cur.nonce,
                    l->cur.hello.cnonce, l->cur.hello.login, f.u.welcome.mac);
    f.u.welcome.hb = l->o.hb_ms;
    int rc = write_frame(l, &l->cur, &f, NULL);
    for (int i = 0; !rc && l->o.symbols && l->o.symbols[i]; i++) {
        memset(&f, 0, sizeof f);
        f.type = TT_MT5_SUB;
        snprintf(f.u.sub.sym, sizeof f.u.sub.sym, "%s", l->o.symbols[i]);
        rc = write_frame(l, &l->cur, &f, NULL);
    }
    l->last_out_ns = tt_mono_ns();
    l->cur.last_in_ns = l->last_out_ns;
    if (!rc)
        atomic_store(&l->up, 1);
    pthread_mutex_unlock(&l->wmu);
    if (rc) {
        conn_close(&l->cur);
        return;
    }
    atomic_fetch_add(&l->sessions, 1);
    logf_(l, "terminal connected: login %llu on %s (build %u, %s account, %s)%s",
          (unsigned long long)l->cur.hello.login, l->cur.hello.server, l->cur.hello.build,
          l->cur.hello.mode == TT_MT5_HEDGING ? "hedging" : "netting", l->cur.hello.currency,
          l->cur.t ? " over TLS" : "");
    if (l->o.on_up)
        l->o.on_up(l->o.ctx, &l->cur.hello);
}

static void refuse(tt_mt5_link *l, const char *why)
{
    logf_(l, "terminal connection refused: %s", why);
    if (!l->pend.tls_hs)
        bye(l, &l->pend, why);
    conn_close(&l->pend);
}

/* A frame of the connection in its handshake. */
static void pending_frame(tt_mt5_link *l, const tt_mt5_frame *f)
{
    conn *c = &l->pend;
    if (f->type == TT_MT5_HB || f->type == TT_MT5_ERROR)
        return;
    if (f->type == TT_MT5_BYE) {
        logf_(l, "terminal left during the handshake: %s", f->u.text.reason);
        conn_close(c);
        return;
    }
    if (c->stage == 0 && f->type == TT_MT5_HELLO) {
        if (f->u.hello.version != TT_MT5_PROTO_VERSION) {
            char why[96];
            snprintf(why, sizeof why, "protocol version %u not supported (this is %d)",
                     f->u.hello.version, TT_MT5_PROTO_VERSION);
            refuse(l, why);
            return;
        }
        c->hello = f->u.hello;
        tt_mt5_frame ch;
        memset(&ch, 0, sizeof ch);
        ch.type = TT_MT5_CHALLENGE;
        ch.u.challenge.version = TT_MT5_PROTO_VERSION;
        if (tt_mt5_nonce(c->nonce, NULL)) {
            refuse(l, "no randomness for a nonce");
            return;
        }
        snprintf(ch.u.challenge.nonce, sizeof ch.u.challenge.nonce, "%s", c->nonce);
        if (write_frame(l, c, &ch, NULL)) {
            conn_close(c);
            return;
        }
        c->stage = 1;
        return;
    }
    if (c->stage == 1 && f->type == TT_MT5_AUTH) {
        char want[TT_MT5_HEX_MAX];
        tt_mt5_auth_mac(l->secret, strlen(l->secret), TT_MT5_ROLE_TERMINAL, c->nonce,
                        c->hello.cnonce, c->hello.login, want);
        if (!tt_mt5_mac_equal(want, f->u.auth.mac)) {
            refuse(l, "authentication failed");
            return;
        }
        promote(l);
        return;
    }
    char why[96];
    snprintf(why, sizeof why, "%s before the handshake ended", tt_mt5_frame_name(f->type));
    refuse(l, why);
}

/* ---- reading ---- */

/* Read what the socket has and hand over whole frames. 0, or -1 when the
 * connection ended (closed here, for the session through session_end). */
static int read_conn(tt_mt5_link *l, conn *c)
{
    int session = c == &l->cur;
    if (c->tls_hs) { /* the TLS handshake, before any frame */
        tt_err e;
        int hs = tt_tls_handshake(c->t, &c->want, &e);
        if (hs < 0) {
            logf_(l, "terminal connection refused: %s", e.msg);
            conn_close(c);
            return -1;
        }
        c->tls_hs = !hs;
        if (c->tls_hs)
            return 0;
    }
again:;
    size_t room;
    char *p = tt_mt5_reader_space(&c->rd, &room);
    ssize_t n;
    if (c->t) {
        if (session)
            pthread_mutex_lock(&l->wmu);
        n = tt_tls_read(c->t, p, room);
        if (session)
            pthread_mutex_unlock(&l->wmu);
    } else {
        n = recv(c->fd, p, room, MSG_DONTWAIT);
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n <= 0) {
        if (session)
            session_end(l, n == 0 ? "the terminal closed the connection" : strerror(errno), 0);
        else
            conn_close(c);
        return -1;
    }
    tt_mt5_reader_commit(&c->rd, (size_t)n);
    c->last_in_ns = tt_mono_ns();
    const char *line;
    size_t len;
    tt_err err;
    int rc;
    while ((rc = tt_mt5_reader_next(&c->rd, &line, &len, &err)) == 1) {
        if (l->o.on_wire)
            l->o.on_wire(l->o.ctx, TT_MT5_IN, line, len);
        tt_mt5_frame f;
        if (tt_mt5_frame_decode(line, len, &f, &err)) {
            logf_(l, "bad frame from the terminal: %s", err.msg);
            if (!session)
                continue;
            tt_mt5_frame e;
            memset(&e, 0, sizeof e);
            e.type = TT_MT5_ERROR;
            snprintf(e.u.text.reason, sizeof e.u.text.reason, "%s", err.msg);
            tt_mt5_link_send(l, &e, NULL);
            continue;
        }
        if (!session) {
            pending_frame(l, &f);
            if (l->pend.fd < 0)
                return -1; /* refused, or promoted to the session */
            continue;
        }
        if (f.type == TT_MT5_BYE) {
            session_end(l, f.u.text.reason[0] ? f.u.text.reason : "the terminal said BYE", 0);
            return -1;
        }
        if (f.type != TT_MT5_HB && l->o.on_frame)
            l->o.on_frame(l->o.ctx, &f);
        if (c->fd < 0)
            return -1;
    }
    if (rc < 0) {
        if (session) {
            session_end(l, err.msg, 1);
        } else {
            refuse(l, err.msg);
        }
        return -1;
    }
    if (c->t && c->fd >= 0) { /* decrypted bytes the socket will not announce */
        if (session)
            pthread_mutex_lock(&l->wmu);
        size_t more = c->fd >= 0 && c->t ? tt_tls_pending(c->t) : 0;
        if (session)
            pthread_mutex_unlock(&l->wmu);
        if (more)
            goto again;
    }
    return 0;
}

/* ---- the thread ---- */

static void accept_one(tt_mt5_link *l)
{
    int fd = accept(l->lfd, NULL, NULL);
    if (fd < 0)
        return;
    if (l->pend.fd >= 0)
        refuse(l, "another connection arrived before the handshake ended");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    memset(&l->pend, 0, sizeof l->pend);
    l->pend.fd = fd;
    if (l->tls) {
        tt_err e;
        if (tt_tls_new(&l->pend.t, l->tls, fd, 1, NULL, &e)) {
            logf_(l, "terminal connection refused: %s", e.msg);
            conn_close(&l->pend);
            return;
        }
        l->pend.tls_hs = 1;
        l->pend.want = POLLIN;
    }
    tt_mt5_reader_init(&l->pend.rd);
    l->pend.since_ns = l->pend.last_in_ns = tt_mono_ns();
}

static void heartbeat(tt_mt5_link *l, int64_t now)
{
    int64_t hb = (int64_t)l->o.hb_ms * 1000000;
    if (l->cur.fd >= 0 && atomic_load(&l->up)) {
        if (now - l->cur.last_in_ns > 3 * hb) {
            session_end(l, "no frame from the terminal for 3 heartbeats", 1);
        } else if (now - l->last_out_ns >= hb) {
            tt_mt5_frame f;
            memset(&f, 0, sizeof f);
            f.type = TT_MT5_HB;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            f.u.hb.t = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
            tt_mt5_link_send(l, &f, NULL);
        }
    }
    if (l->pend.fd >= 0 && now - l->pend.since_ns > HANDSHAKE_NS)
        refuse(l, "handshake not completed within 5 s");
}

static void *link_main(void *arg)
{
    tt_mt5_link *l = arg;
    while (!atomic_load(&l->stop)) {
        struct pollfd p[4];
        int n = 0;
        p[n++] = (struct pollfd){l->wake[0], POLLIN, 0};
        p[n++] = (struct pollfd){l->lfd, POLLIN, 0};
        int ic = -1, ip = -1;
        if (l->cur.fd >= 0) {
            ic = n;
            p[n++] = (struct pollfd){l->cur.fd, POLLIN, 0};
        }
        if (l->pend.fd >= 0) {
            ip = n;
            p[n++] = (struct pollfd){l->pend.fd, l->pend.tls_hs ? l->pend.want : POLLIN, 0};
        }
        int wait = (int)(l->o.hb_ms / 4 ? l->o.hb_ms / 4 : 1);
        if (poll(p, (nfds_t)n, wait > 100 ? 100 : wait) < 0 && errno != EINTR)
            break;
        if (p[0].revents) {
            char b[64];
            while (read(l->wake[0], b, sizeof b) > 0)
                ;
        }
        if (atomic_exchange(&l->kick, 0))
            session_end(l, l->kick_why, 1);
        if (ic >= 0 && l->cur.fd >= 0 && (p[ic].revents & (POLLIN | POLLHUP | POLLERR)))
            read_conn(l, &l->cur);
        if (ip >= 0 && l->pend.fd >= 0 && (p[ip].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)))
            read_conn(l, &l->pend);
        if (p[1].revents & POLLIN)
            accept_one(l);
        heartbeat(l, tt_mono_ns());
        if (l->o.on_idle)
            l->o.on_idle(l->o.ctx);
    }
    return NULL;
}

int tt_mt5_link_open(tt_mt5_link **out, const tt_mt5_link_opts *o, tt_err *err)
{
    *out = NULL;
    if (!o->secret || !o->secret[0])
        return tt_err_set(err, TT_EINVAL, "mt5 link: a shared secret is needed");
    tt_mt5_link *l = calloc(1, sizeof *l);
    if (!l)
        return tt_err_set(err, TT_ENOMEM, "mt5 link: out of memory");
    l->o = *o;
    if (!l->o.hb_ms)
        l->o.hb_ms = 1000;
    l->secret = strdup(o->secret);
    l->lfd = l->wake[0] = l->wake[1] = -1;
    l->cur.fd = l->pend.fd = -1;
    pthread_mutex_init(&l->wmu, NULL);
    if ((o->tls_cert && o->tls_cert[0]) || (o->tls_key && o->tls_key[0])) {
        int rc = o->tls_cert && o->tls_key
                     ? tt_tls_server_ctx(&l->tls, o->tls_cert, o->tls_key, err)
                     : tt_err_set(err, TT_EINVAL, "mt5 link: TLS needs a certificate and its key");
        if (rc) {
            tt_mt5_link_close(l, NULL);
            return rc;
        }
    }
    const char *host = o->host && o->host[0] ? o->host : "127.0.0.1";
    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai || !res) {
        tt_mt5_link_close(l, NULL);
        return tt_err_set(err, TT_ENET, "mt5 link: %s:%d: %s", host, o->port, gai_strerror(gai));
    }
    int one = 1;
    l->lfd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (l->lfd >= 0)
        setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l->lfd < 0 || bind(l->lfd, res->ai_addr, res->ai_addrlen) || listen(l->lfd, 4)) {
        int e = errno;
        freeaddrinfo(res);
        tt_mt5_link_close(l, NULL);
        return tt_err_set(err, TT_ENET, "mt5 link: cannot listen on %s:%d: %s", host, o->port,
                          strerror(e));
    }
    freeaddrinfo(res);
    struct sockaddr_storage a;
    socklen_t alen = sizeof a;
    getsockname(l->lfd, (struct sockaddr *)&a, &alen);
    l->port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                           : ((struct sockaddr_in *)&a)->sin_port);
    if (pipe(l->wake)) {
        tt_mt5_link_close(l, NULL);
        return tt_err_set(err, TT_EIO, "mt5 link: pipe: %s", strerror(errno));
    }
    fcntl(l->wake[0], F_SETFL, O_NONBLOCK);
    fcntl(l->wake[1], F_SETFL, O_NONBLOCK);
    if (pthread_create(&l->th, NULL, link_main, l)) {
        tt_mt5_link_close(l, NULL);
        return tt_err_set(err, TT_ENOMEM, "mt5 link: cannot start its thread");
    }
    l->started = 1;
    *out = l;
    return TT_OK;
}

int tt_mt5_link_up(tt_mt5_link *l) { return atomic_load(&l->up); }
int tt_mt5_link_port(const tt_mt5_link *l) { return l->port; }
uint64_t tt_mt5_link_sessions(tt_mt5_link *l) { return atomic_load(&l->sessions); }

static void wake(tt_mt5_link *l)
{
    /* a full pipe means the thread is awake anyway */
    if (l->wake[1] >= 0 && write(l->wake[1], "x", 1) < 0)
        return;
}

void tt_mt5_link_kick(tt_mt5_link *l, const char *why)
{
    snprintf(l->kick_why, sizeof l->kick_why, "%s", why ? why : "ended by ticktape");
    atomic_store(&l->kick, 1);
    wake(l);
}

void tt_mt5_link_close(tt_mt5_link *l, const char *why)
{
    if (!l)
        return;
    if (l->started) {
        atomic_store(&l->stop, 1);
        wake(l);
        pthread_join(l->th, NULL);
    }
    if (l->cur.fd >= 0) {
        pthread_mutex_lock(&l->wmu);
        atomic_store(&l->up, 0);
        if (why)
            bye(l, &l->cur, why);
        conn_close(&l->cur);
        pthread_mutex_unlock(&l->wmu);
    }
    if (l->pend.fd >= 0)
        conn_close(&l->pend);
    if (l->lfd >= 0)
        close(l->lfd);
    if (l->wake[0] >= 0)
        close(l->wake[0]);
    if (l->wake[1] >= 0)
        close(l->wake[1]);
    pthread_mutex_destroy(&l->wmu);
    tt_tls_ctx_free(l->tls);
    free(l->secret);
    free(l);
}
