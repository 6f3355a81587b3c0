/*
 * The terminal stand-in's session (see mt5_term.h). One thread, one poll
 * loop with four clocks: the next tape tick (paced), the next delayed request
 * (latency faults), the heartbeat, and the reconnection. Frames out go
 * through a buffer flushed once per loop turn (so a burst of ticks is one
 * write) and at once after an answer (RESULT, STATE).
 *
 * Order of frames around a trade, as the EA produces them: RESULT first
 * (OrderSend returned), then the DEAL and STATE frames the broker model
 * reported while executing (OnTradeTransaction runs after), then ACCOUNT.
 * Around a tick: the TICK, then whatever it triggered. The model's callbacks
 * therefore write into `held` while a request or tick is being processed,
 * and `held` follows the frame that caused it.
 */
#include "mt5_term.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "logline.h"
#include "../data/tape.h"
#include "tls.h"
#include "wallclock.h"

#define OUT_CAP (256 * 1024)
#define MAX_DELAYED 64
#define MAX_SUBS 64

typedef struct delayed {
    int64_t due_ns;
    tt_mt5_order req;
    tt_mt5_sim_plan plan;
} delayed;

enum { ST_DOWN = 0, ST_HELLO, ST_READY };

struct tt_mt5_term {
    tt_mt5_term_opts o;
    tt_instruments *ins;
    tt_tape_reader *tape;
    tt_mt5_sim *sim;
    uint32_t *symmap; /* tape symbol id -> sim symbol id */
    uint32_t nsymmap;
    tt_mt5_term_stats st;
    volatile sig_atomic_t stop;
    /* the connection */
    int fd, state;
    tt_tls_ctx *tls_ctx; /* opts.tls */
    tt_tls *tls;         /* TLS on fd */
    char cnonce[TT_MT5_HEX_MAX], nonce[TT_MT5_HEX_MAX];
    int64_t hb_ms, last_in_ns, last_out_ns, reconnect_ns, unreachable_since;
    tt_mt5_reader rd;
    char *out;
    size_t nout;
    char *held; /* frames the model reported while a cause was being handled */
    size_t nheld;
    int holding, muted;
    uint8_t sub[MAX_SUBS + 1]; /* per sim symbol id < MAX_SUBS: subscribed */
    int64_t last_tick_ns[MAX_SUBS + 1];
    /* pacing */
    tt_event next;
    int have_next, ended;
    int started; /* the first session subscribed and took its snapshot: the market opens */
    int64_t t0_wall, t0_tape;
    uint64_t paced;
    delayed q[MAX_DELAYED];
    int nq;
};

#define logf_(t, ...) tt_logline((t)->o.log, (t)->o.log_ctx, __VA_ARGS__)

/* ---- output ---- */

static void drop_conn(tt_mt5_term *t, const char *why, int64_t down_ms);

static int flush_out(tt_mt5_term *t)
{
    size_t done = 0;
    if (t->tls && t->nout) {
        tt_err e;
        if (tt_tls_write(t->tls, t->out, t->nout, 2000, &e)) {
            t->nout = 0;
            drop_conn(t, e.msg, 200);
            return -1;
        }
        done = t->nout;
    }
    while (done < t->nout && t->fd >= 0) {
        ssize_t n = send(t->fd, t->out + done, t->nout - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {t->fd, POLLOUT, 0};
            poll(&p, 1, 100);
            continue;
        }
        if (n <= 0) {
            t->nout = 0;
            drop_conn(t, "write failed", 200);
            return -1;
        }
        done += (size_t)n;
    }
    t->nout = 0;
    t->last_out_ns = tt_mono_ns();
    return 0;
}

static void put_frame(tt_mt5_term *t, const tt_mt5_frame *f)
{
    if (t->fd < 0 || t->muted)
        return;
    char *buf = t->holding ? t->held : t->out;
    size_t *n = t->holding ? &t->nheld : &t->nout;
    if (OUT_CAP - *n < TT_MT5_FRAME_MAX) {
        if (t->holding)
            return; /* cannot happen: a cause reports a handful of frames */
        if (flush_out(t))
            return;
    }
    size_t len;
    tt_err err;
    if (tt_mt5_frame_encode(f, buf + *n, OUT_CAP - *n, &len, &err)) {
        logf_(t, "cannot encode a frame: %s", err.msg);
        return;
    }
    *n += len;
    t->st.frames_out++;
}

static void release_held(tt_mt5_term *t)
{
    t->holding = 0;
    if (!t->nheld)
        return;
    if (OUT_CAP - t->nout < t->nheld)
        flush_out(t);
    if (t->fd >= 0) {
        memcpy(t->out + t->nout, t->held, t->nheld);
        t->nout += t->nheld;
    }
    t->nheld = 0;
}

static void send_text(tt_mt5_term *t, int type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void send_text(tt_mt5_term *t, int type, const char *fmt, ...)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = (uint8_t)type;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.u.text.reason, sizeof f.u.text.reason, fmt, ap);
    va_end(ap);
    put_frame(t, &f);
}

static void send_account(tt_mt5_term *t)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_ACCOUNT;
    tt_mt5_sim_account(t->sim, &f.u.account);
    put_frame(t, &f);
}

/* ---- the model's reports ---- */

static void on_deal(void *ctx, const tt_mt5_deal *d)
{
    tt_mt5_term *t = ctx;
    t->st.deals = tt_mt5_sim_deals(t->sim);
    if (t->state != ST_READY)
        return; /* missed: ticktape asks for HISTORY after reconnecting */
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_DEAL;
    f.u.deal = *d;
    put_frame(t, &f);
}

static void on_state(void *ctx, const tt_mt5_state *s)
{
    tt_mt5_term *t = ctx;
    if (t->state != ST_READY)
        return;
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_STATE;
    f.u.state = *s;
    put_frame(t, &f);
}

/* ---- connection ---- */

static void drop_conn(tt_mt5_term *t, const char *why, int64_t down_ms)
{
    if (t->fd < 0)
        return;
    logf_(t, "connection closed: %s; reconnecting in %lld ms", why, (long long)down_ms);
    tt_tls_free(t->tls);
    t->tls = NULL;
    close(t->fd);
    t->fd = -1;
    t->state = ST_DOWN;
    t->nout = t->nheld = 0;
    t->holding = 0;
    memset(t->sub, 0, sizeof t->sub);
    t->reconnect_ns = tt_mono_ns() + down_ms * 1000000;
    t->st.drops++;
}

/* The TLS handshake, as the EA's SocketTlsHandshake: 5 s at most. */
static int tls_connect(tt_mt5_term *t, int fd)
{
    tt_err e;
    if (tt_tls_new(&t->tls, t->tls_ctx, fd, 0, t->o.tls_verify ? t->o.host : NULL, &e)) {
        logf_(t, "%s", e.msg);
        return -1;
    }
    int64_t until = tt_mono_ns() + 5000000000LL;
    short want = POLLOUT;
    int hs;
    while (!(hs = tt_tls_handshake(t->tls, &want, &e))) {
        int64_t left = (until - tt_mono_ns()) / 1000000;
        if (left <= 0) {
            hs = tt_err_set(&e, TT_ENET, "tls handshake: no answer within 5 s");
            break;
        }
        struct pollfd p = {fd, want, 0};
        poll(&p, 1, (int)left);
    }
    if (hs == 1)
        return 0;
    logf_(t, "%s", e.msg);
    tt_tls_free(t->tls);
    t->tls = NULL;
    return -1;
}

static int try_connect(tt_mt5_term *t)
{
    char port[16];
    snprintf(port, sizeof port, "%d", t->o.port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(t->o.host, port, &hints, &res) || !res)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen)) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (t->tls_ctx && tls_connect(t, fd)) {
        close(fd);
        return -1;
    }
    t->fd = fd;
    t->state = ST_HELLO;
    tt_mt5_reader_init(&t->rd);
    t->last_in_ns = t->last_out_ns = tt_mono_ns();
    t->hb_ms = 0;
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_HELLO;
    tt_mt5_hello *h = &f.u.hello;
    h->version = TT_MT5_PROTO_VERSION;
    h->build = t->o.build ? t->o.build : 4755;
    h->login = t->o.account.login;
    snprintf(h->server, sizeof h->server, "ticktape-mt5-sim");
    snprintf(h->company, sizeof h->company, "ticktape");
    snprintf(h->currency, sizeof h->currency, "%s", t->o.account.currency);
    h->leverage = (uint32_t)t->o.account.leverage;
    h->mode = t->o.account.mode;
    h->tz = t->o.account.tz;
    if (tt_mt5_nonce(t->cnonce, NULL)) {
        drop_conn(t, "no randomness for a nonce", 1000);
        return -1;
    }
    snprintf(h->cnonce, sizeof h->cnonce, "%s", t->cnonce);
    put_frame(t, &f);
    flush_out(t);
    return 0;
}

/* ---- frames from ticktape ---- */

static void execute(tt_mt5_term *t, const tt_mt5_order *req, const tt_mt5_sim_plan *plan)
{
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_RESULT;
    t->holding = 1;
    t->muted = plan->noreply || plan->drop;
    tt_mt5_sim_execute(t->sim, req, plan, &f.u.result);
    if (f.u.result.deal)
        send_account(t);
    t->muted = 0;
    t->holding = 0;
    if (plan->drop) {
        t->nheld = 0;
        drop_conn(t, "fault: dropped after executing a request", plan->down_ms);
        return;
    }
    if (plan->noreply) {
        t->nheld = 0;
        logf_(t, "fault: request %llu executed, no answer sent",
              (unsigned long long)req->id);
        return;
    }
    put_frame(t, &f);
    release_held(t);
    flush_out(t);
}

static void push_ns(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 65536;
        int64_t *p = realloc(*v, c * sizeof *p);
        if (!p)
            return;
        *v = p;
        *cap = c;
    }
    (*v)[(*n)++] = x;
}

static void on_order(tt_mt5_term *t, const tt_mt5_order *req)
{
    t->st.requests++;
    if (t->o.record_times)
        push_ns(&t->st.order_ns, &t->st.norder_ns, &t->st.caporder_ns, tt_mono_ns());
    uint32_t sym = tt_mt5_sim_symbol(t->sim, req->sym);
    if (sym && sym <= MAX_SUBS && t->last_tick_ns[sym] &&
        t->st.nlatency < 10000000) {
        if (t->st.nlatency == t->st.caplatency) {
            size_t cap = t->st.caplatency ? 2 * t->st.caplatency : 4096;
            int64_t *v = realloc(t->st.latency_ns, cap * sizeof *v);
            if (v) {
                t->st.latency_ns = v;
                t->st.caplatency = cap;
            }
        }
        if (t->st.nlatency < t->st.caplatency)
            t->st.latency_ns[t->st.nlatency++] = tt_mono_ns() - t->last_tick_ns[sym];
    }
    tt_mt5_sim_plan plan;
    tt_mt5_sim_admit(t->sim, req, &plan);
    if (plan.latency_ms > 0 && t->nq < MAX_DELAYED) {
        delayed *d = &t->q[t->nq++];
        d->due_ns = tt_mono_ns() + plan.latency_ms * 1000000;
        d->req = *req;
        d->plan = plan;
        return;
    }
    execute(t, req, &plan);
}

static void on_snapshot(tt_mt5_term *t, uint64_t id)
{
    t->started = 1;
    send_account(t);
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_SNAP;
    f.u.snap.id = id;
    f.u.snap.positions = (uint32_t)tt_mt5_sim_positions(t->sim);
    f.u.snap.orders = (uint32_t)tt_mt5_sim_orders(t->sim);
    put_frame(t, &f);
    for (size_t i = 0; i < tt_mt5_sim_positions(t->sim); i++) {
        memset(&f, 0, sizeof f);
        f.type = TT_MT5_POS;
        tt_mt5_sim_position(t->sim, i, &f.u.pos);
        put_frame(t, &f);
    }
    for (size_t i = 0; i < tt_mt5_sim_orders(t->sim); i++) {
        memset(&f, 0, sizeof f);
        f.type = TT_MT5_ORD;
        tt_mt5_sim_order(t->sim, i, &f.u.ord);
        put_frame(t, &f);
    }
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_SNAPEND;
    f.u.snap.id = id;
    put_frame(t, &f);
    flush_out(t);
}

static void on_sub(tt_mt5_term *t, const char *name)
{
    uint32_t sym = tt_mt5_sim_symbol(t->sim, name);
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    if (!sym || sym > MAX_SUBS || tt_mt5_sim_spec(t->sim, sym, &f.u.spec)) {
        send_text(t, TT_MT5_ERROR, "SUB: unknown symbol %s", name);
        return;
    }
    f.type = TT_MT5_SPEC;
    put_frame(t, &f);
    t->sub[sym] = 1;
    memset(&f, 0, sizeof f);
    if (!tt_mt5_sim_tick(t->sim, sym, &f.u.tick)) {
        f.type = TT_MT5_TICK;
        put_frame(t, &f);
    }
}

static int on_handshake(tt_mt5_term *t, const tt_mt5_frame *f, tt_err *err)
{
    if (f->type == TT_MT5_CHALLENGE) {
        snprintf(t->nonce, sizeof t->nonce, "%s", f->u.challenge.nonce);
        tt_mt5_frame a;
        memset(&a, 0, sizeof a);
        a.type = TT_MT5_AUTH;
        tt_mt5_auth_mac(t->o.secret, strlen(t->o.secret), TT_MT5_ROLE_TERMINAL, t->nonce,
                        t->cnonce, t->o.account.login, a.u.auth.mac);
        put_frame(t, &a);
        flush_out(t);
        return 0;
    }
    if (f->type == TT_MT5_WELCOME) {
        char want[TT_MT5_HEX_MAX];
        tt_mt5_auth_mac(t->o.secret, strlen(t->o.secret), TT_MT5_ROLE_SERVER, t->nonce,
                        t->cnonce, t->o.account.login, want);
        if (!t->nonce[0] || !tt_mt5_mac_equal(want, f->u.welcome.mac)) {
            send_text(t, TT_MT5_BYE, "authentication failed");
            flush_out(t);
            return tt_err_set(err, TT_ENET, "mt5-sim: %s:%d failed to prove the shared secret "
                              "(wrong secret, or not ticktape)", t->o.host, t->o.port);
        }
        t->hb_ms = f->u.welcome.hb ? f->u.welcome.hb : 1000;
        t->state = ST_READY;
        t->st.connections++;
        logf_(t, "connected to %s:%d (session %llu%s)", t->o.host, t->o.port,
              (unsigned long long)t->st.connections, t->tls ? ", TLS" : "");
        return 0;
    }
    if (f->type == TT_MT5_BYE)
        drop_conn(t, f->u.text.reason, 200);
    else if (f->type != TT_MT5_ERROR && f->type != TT_MT5_HB)
        send_text(t, TT_MT5_ERROR, "%s before the handshake ended", tt_mt5_frame_name(f->type));
    return 0;
}

static int on_frame(tt_mt5_term *t, const tt_mt5_frame *f, tt_err *err)
{
    if (t->state != ST_READY)
        return on_handshake(t, f, err);
    switch (f->type) {
    case TT_MT5_SUB:
        on_sub(t, f->u.sub.sym);
        break;
    case TT_MT5_SNAPSHOT:
        on_snapshot(t, f->u.snap.id);
        break;
    case TT_MT5_ORDER:
        on_order(t, &f->u.order);
        break;
    case TT_MT5_QUERY: {
        tt_mt5_frame s;
        memset(&s, 0, sizeof s);
        s.type = TT_MT5_STATE;
        tt_mt5_sim_query(t->sim, &f->u.query, &s.u.state);
        put_frame(t, &s);
        flush_out(t);
        break;
    }
    case TT_MT5_HISTORY: {
        tt_mt5_frame h;
        memset(&h, 0, sizeof h);
        h.type = TT_MT5_HISTEND;
        h.u.snap.id = f->u.history.id;
        h.u.snap.deals = tt_mt5_sim_history(t->sim, f->u.history.from);
        put_frame(t, &h);
        flush_out(t);
        break;
    }
    case TT_MT5_HB:
        break;
    case TT_MT5_BYE:
        drop_conn(t, f->u.text.reason, 200);
        break;
    case TT_MT5_ERROR:
        logf_(t, "ticktape reports: %s", f->u.text.reason);
        break;
    default:
        send_text(t, TT_MT5_ERROR, "unexpected %s", tt_mt5_frame_name(f->type));
    }
    return 0;
}

static int read_frames(tt_mt5_term *t, tt_err *err)
{
    size_t room;
    char *p = tt_mt5_reader_space(&t->rd, &room);
    ssize_t n = t->tls ? tt_tls_read(t->tls, p, room) : recv(t->fd, p, room, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n <= 0) {
        drop_conn(t, n == 0 ? "ticktape closed the connection" : strerror(errno), 200);
        return 0;
    }
    tt_mt5_reader_commit(&t->rd, (size_t)n);
    t->last_in_ns = tt_mono_ns();
    const char *line;
    size_t len;
    tt_err ferr;
    int rc;
    while (t->fd >= 0 && (rc = tt_mt5_reader_next(&t->rd, &line, &len, &ferr)) == 1) {
        tt_mt5_frame f;
        t->st.frames_in++;
        if (tt_mt5_frame_decode(line, len, &f, &ferr)) {
            t->st.bad_frames++;
            logf_(t, "bad frame from ticktape: %s", ferr.msg);
            send_text(t, TT_MT5_ERROR, "%s", ferr.msg);
            continue;
        }
        if ((rc = on_frame(t, &f, err)))
            return rc;
    }
    if (t->fd >= 0 && rc < 0) {
        send_text(t, TT_MT5_BYE, "%s", ferr.msg);
        flush_out(t);
        drop_conn(t, ferr.msg, 200);
    }
    return 0;
}

/* ---- ticks ---- */

static int tape_advance(tt_mt5_term *t, tt_err *err)
{
    for (;;) {
        int rc = tt_tape_reader_next(t->tape, &t->next, err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            t->have_next = 0;
            t->ended = 1;
            return 0;
        }
        if (t->next.kind == TT_EV_QUOTE && t->next.symbol < t->nsymmap &&
            t->symmap[t->next.symbol]) {
            t->have_next = 1;
            return 0;
        }
    }
}

/* Wall ns at which the next tick is due. */
static int64_t tick_due(tt_mt5_term *t)
{
    if (!t->t0_wall) {
        t->t0_wall = tt_mono_ns();
        t->t0_tape = t->next.ts;
    }
    if (t->o.rate > 0)
        return t->t0_wall + (int64_t)((double)t->paced * 1e9 / t->o.rate);
    if (t->o.speed > 0)
        return t->t0_wall + (int64_t)((double)(t->next.ts - t->t0_tape) / t->o.speed);
    return 0;
}

static void process_tick(tt_mt5_term *t)
{
    const tt_event *ev = &t->next;
    uint32_t sym = t->symmap[ev->symbol];
    int64_t ms = tt_mt5_utc_ns_to_ms(ev->ts, t->o.account.tz);
    t->holding = 1;
    tt_mt5_sim_quote(t->sim, sym, ms, ev->u.quote.bid, ev->u.quote.ask, ev->u.quote.bid_vol,
                     ev->u.quote.ask_vol);
    int dealt = t->nheld > 0;
    t->holding = 0;
    t->st.ticks++;
    t->paced++;
    if (t->state == ST_READY && sym <= MAX_SUBS && t->sub[sym]) {
        tt_mt5_frame f;
        memset(&f, 0, sizeof f);
        f.type = TT_MT5_TICK;
        tt_mt5_sim_tick(t->sim, sym, &f.u.tick);
        put_frame(t, &f);
        t->st.ticks_sent++;
        if (t->o.rate > 0 || t->o.speed > 0) /* paced: the quote leaves now */
            flush_out(t);
        t->last_tick_ns[sym] = tt_mono_ns();
        if (t->o.record_times)
            push_ns(&t->st.tick_ns, &t->st.ntick_ns, &t->st.captick_ns, t->last_tick_ns[sym]);
        int64_t down;
        int restart;
        if (tt_mt5_sim_tick_sent(t->sim, &down, &restart)) {
            flush_out(t);
            t->nheld = 0;
            drop_conn(t, restart ? "fault: terminal restart" : "fault: connection dropped",
                      down);
            return;
        }
    }
    release_held(t);
    if (dealt && t->state == ST_READY)
        send_account(t);
}

/* ---- the loop ---- */

int tt_mt5_term_new(tt_mt5_term **out, const tt_mt5_term_opts *o, tt_err *err)
{
    *out = NULL;
    if (!o->secret || !o->secret[0])
        return tt_err_set(err, TT_EINVAL, "mt5-sim: a shared secret is needed");
    if (!o->host || o->port <= 0 || o->port > 65535)
        return tt_err_set(err, TT_EINVAL, "mt5-sim: --connect HOST:PORT is needed");
    tt_mt5_term *t = calloc(1, sizeof *t);
    if (!t)
        return tt_err_set(err, TT_ENOMEM, "mt5-sim: out of memory");
    t->o = *o;
    t->fd = -1;
    t->out = malloc(OUT_CAP);
    t->held = malloc(OUT_CAP);
    t->ins = tt_instruments_new();
    int rc = TT_OK;
    if (!t->out || !t->held || !t->ins)
        rc = tt_err_set(err, TT_ENOMEM, "mt5-sim: out of memory");
    if (!rc && o->instruments_file)
        rc = tt_instruments_load(t->ins, o->instruments_file, err);
    if (!rc && o->tls)
        rc = tt_tls_client_ctx(&t->tls_ctx, o->tls_ca, o->tls_verify, err);
    if (!rc)
        rc = tt_mt5_sim_new(&t->sim, t->ins, &o->account, err);
    for (int i = 0; !rc && o->faults && o->faults[i]; i++)
        rc = tt_mt5_sim_fault(t->sim, o->faults[i], err);
    if (!rc) {
        tt_tape_query q;
        memset(&q, 0, sizeof q);
        q.symbols = o->symbols;
        q.from = o->from;
        q.to = o->to;
        rc = tt_tape_reader_open(&t->tape, o->tape_dir, &q, t->ins, err);
    }
    if (!rc) {
        t->nsymmap = tt_instruments_count(t->ins) + 1;
        t->symmap = calloc(t->nsymmap, sizeof *t->symmap);
        if (!t->symmap)
            rc = tt_err_set(err, TT_ENOMEM, "mt5-sim: out of memory");
        for (uint32_t i = 1; !rc && i < t->nsymmap; i++)
            t->symmap[i] = tt_mt5_sim_symbol(t->sim, tt_instruments_get(t->ins, i)->symbol);
    }
    if (!rc) {
        tt_mt5_sim_callbacks(t->sim, on_deal, on_state, t);
        rc = tape_advance(t, err);
    }
    if (rc) {
        tt_mt5_term_free(t);
        return rc;
    }
    *out = t;
    return TT_OK;
}

/* Whether ticks flow now. The market opens when the first session has
 * subscribed and taken its snapshot. Paced by time (--speed, --rate) it then
 * runs on whether or not ticktape is connected; as fast as possible, it goes
 * as fast as the session takes ticks, so it waits for a session. */
static int market_runs(const tt_mt5_term *t)
{
    if (!t->started || !t->have_next)
        return 0;
    if (t->state == ST_READY)
        return 1;
    return t->o.speed > 0 || t->o.rate > 0;
}

static int64_t next_deadline(tt_mt5_term *t, int64_t now)
{
    int64_t d = now + 50 * 1000000LL;
    if (market_runs(t)) {
        int64_t due = tick_due(t);
        if (due < d)
            d = due;
    }
    for (int i = 0; i < t->nq; i++)
        if (t->q[i].due_ns < d)
            d = t->q[i].due_ns;
    if (t->fd < 0 && t->reconnect_ns < d)
        d = t->reconnect_ns;
    return d;
}

static void run_delayed(tt_mt5_term *t, int64_t now)
{
    for (int i = 0; i < t->nq;) {
        if (t->q[i].due_ns > now) {
            i++;
            continue;
        }
        delayed d = t->q[i];
        memmove(&t->q[i], &t->q[i + 1], (size_t)(t->nq - i - 1) * sizeof *t->q);
        t->nq--;
        if (t->state == ST_READY)
            execute(t, &d.req, &d.plan);
    }
}

/* One turn: connect, ticks due, delayed requests, heartbeats, then wait for
 * input until the next deadline. */
static int turn(tt_mt5_term *t, tt_err *err)
{
    int64_t now = tt_mono_ns();
    if (t->fd < 0 && now >= t->reconnect_ns) {
        if (try_connect(t)) {
            t->reconnect_ns = now + 200 * 1000000LL;
            if (!t->unreachable_since)
                t->unreachable_since = now;
            if (t->o.give_up_ms > 0 && now - t->unreachable_since > t->o.give_up_ms * 1000000)
                return tt_err_set(err, TT_ENET, "mt5-sim: %s:%d unreachable for %lld ms",
                                  t->o.host, t->o.port, (long long)t->o.give_up_ms);
        } else {
            t->unreachable_since = 0;
        }
    }
    int batch = 0;
    while (market_runs(t) && tick_due(t) <= now && batch++ < 512) {
        process_tick(t);
        int rc = tape_advance(t, err);
        if (rc)
            return rc;
    }
    run_delayed(t, now);
    if (t->fd >= 0 && t->state == ST_READY && t->hb_ms) {
        if (now - t->last_in_ns > 3 * t->hb_ms * 1000000) {
            drop_conn(t, "no frame from ticktape for 3 heartbeats", 200);
        } else if (now - t->last_out_ns >= t->hb_ms * 1000000) {
            tt_mt5_frame f;
            memset(&f, 0, sizeof f);
            f.type = TT_MT5_HB;
            f.u.hb.t = tt_mt5_sim_now(t->sim);
            put_frame(t, &f);
        }
    }
    if (t->nout)
        flush_out(t);
    if (t->ended)
        return 0;
    int64_t wait = next_deadline(t, tt_mono_ns()) - tt_mono_ns();
    int ms = wait <= 0 ? 0 : (int)((wait + 999999) / 1000000);
    if (t->fd < 0) {
        if (ms > 0) {
            struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        return 0;
    }
    if (t->tls && tt_tls_pending(t->tls))
        return read_frames(t, err); /* decrypted already: the socket will not say */
    struct pollfd p = {t->fd, POLLIN, 0};
    int n = poll(&p, 1, ms);
    if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
        return read_frames(t, err);
    return 0;
}

int tt_mt5_term_run(tt_mt5_term *t, tt_err *err)
{
    int rc = TT_OK;
    while (!t->stop && !t->ended && !(rc = turn(t, err)))
        ;
    if (t->fd >= 0) {
        send_text(t, TT_MT5_BYE, "%s", t->ended ? "end of data" : "stopped");
        flush_out(t);
        if (t->fd >= 0) {
            tt_tls_free(t->tls);
            t->tls = NULL;
            shutdown(t->fd, SHUT_WR);
            close(t->fd);
        }
        t->fd = -1;
    }
    if (t->o.deals_path) {
        tt_err derr;
        int drc = tt_mt5_sim_write_deals(t->sim, t->o.deals_path, &derr);
        if (drc && !rc) {
            rc = drc;
            if (err)
                *err = derr;
        }
    }
    return rc;
}

void tt_mt5_term_stop(tt_mt5_term *t) { t->stop = 1; }

const tt_mt5_term_stats *tt_mt5_term_stats_get(const tt_mt5_term *t) { return &t->st; }
const tt_mt5_sim *tt_mt5_term_sim(const tt_mt5_term *t) { return t->sim; }

void tt_mt5_term_free(tt_mt5_term *t)
{
    if (!t)
        return;
    tt_tls_free(t->tls);
    if (t->fd >= 0)
        close(t->fd);
    tt_tls_ctx_free(t->tls_ctx);
    tt_tape_reader_close(t->tape);
    tt_mt5_sim_free(t->sim);
    tt_instruments_free(t->ins);
    free(t->symmap);
    free(t->out);
    free(t->held);
    free(t->st.latency_ns);
    free(t->st.tick_ns);
    free(t->st.order_ns);
    free(t);
}
