/*
 * The status server (status_http.h) on libmicrohttpd: one listening thread
 * and a thread per connection (at most 64), so an event stream may block in
 * its content callback waiting for the next event; libmicrohttpd parses all
 * of HTTP, and this file only routes, authorizes and renders.
 *
 * Each request takes the snapshots (recorder, command info, notifier) into a
 * tt_status_view on its own thread and renders from that copy. The kill
 * request calls the command's kill callback, which puts a control event in
 * the session's inbox (journaled like every input); nothing here touches the
 * engine. Limits (sizes, counts, time) are in status_http.h.
 */
#include "status_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../sim/research.h"
#include "wallclock.h"

#ifndef TT_VERSION
#define TT_VERSION "0.1.0"
#endif

extern const char tt_dashboard_html[];
extern const size_t tt_dashboard_html_len;

#define URL_MAX 256
#define BODY_MAX 1024
#define SSE_MAX 16
#define SSE_KEEPALIVE_MS 15000

struct tt_status_server {
    tt_status_server_opts o;
    char *token;
    struct MHD_Daemon *d;
    int port;
    int64_t started;
    atomic_int stopping;
    atomic_ullong requests, unauthorized, sse_dropped;
    atomic_int sse_clients;
};

typedef struct req {
    size_t body;    /* POST bytes received so far */
} req;

typedef struct sse {
    tt_status_server *s;
    uint64_t cursor;
} sse;

int tt_status_host_is_loopback(const char *host)
{
    if (!host)
        return 0;
    if (!strcmp(host, "localhost"))
        return 1;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

int tt_status_auth_ok(const char *header, const char *token)
{
    if (!header || !token)
        return 0;
    static const char scheme[] = "Bearer ";
    if (strncasecmp(header, scheme, sizeof scheme - 1))
        return 0;
    const char *given = header + sizeof scheme - 1;
    while (*given == ' ')
        given++;
    size_t n = strlen(token), g = strnlen(given, 4096);
    while (g && (given[g - 1] == ' ' || given[g - 1] == '\t'))
        g--;
    /* constant time over the token: every byte is compared whatever the input */
    unsigned diff = (unsigned)(g != n);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned)(unsigned char)token[i] ^ (unsigned)(unsigned char)(i < g ? given[i] : 0);
    return diff == 0;
}

static void lg(tt_status_server *s, const char *fmt, const char *a)
{
    if (!s->o.log)
        return;
    char line[400];
    snprintf(line, sizeof line, fmt, a);
    s->o.log(s->o.log_ctx, line);
}

static void view_take(tt_status_server *s, tt_status_view *v)
{
    memset(v, 0, sizeof *v);
    v->mode = s->o.mode ? s->o.mode : "?";
    v->version = TT_VERSION;
    v->uptime = (double)(tt_mono_ns() - s->started) / 1e9;
    v->info.healthy = 1;
    if (s->o.status) {
        v->have_engine = 1;
        tt_status_snapshot_get(s->o.status, &v->snap);
        tt_status_hot_get(s->o.status, &v->hot);
    }
    if (s->o.info)
        s->o.info(s->o.info_ctx, &v->info);
    if (s->o.notify_info)
        s->o.notify_info(s->o.notify_ctx, &v->notify);
    v->http_requests = atomic_load(&s->requests);
    v->http_unauthorized = atomic_load(&s->unauthorized);
    v->sse_clients = (uint64_t)atomic_load(&s->sse_clients);
    v->sse_dropped = atomic_load(&s->sse_dropped);
}

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned code, const char *type,
                                 const void *data, size_t len, int copy)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)data, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (code == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"ticktape\"");
    if (!strncmp(type, "text/html", 9)) /* the dashboard fetches nothing from elsewhere */
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; script-src 'unsafe-inline'; style-src "
                                "'unsafe-inline'; connect-src 'self'; img-src 'self' data:");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code, const char *msg)
{
    return send_body(c, code, "text/plain; charset=utf-8", msg, strlen(msg), 0);
}

/* ---- /api/events ---- */

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse *e = cls;
    tt_status_server *s = e->s;
    int waited = 0;
    for (;;) {
        if (atomic_load(&s->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        long n = tt_status_events_read(s->o.events, &e->cursor, buf, max, 500);
        if (n == TT_ESTATE) { /* fell behind the ring: a slow client */
            atomic_fetch_add(&s->sse_dropped, 1);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (n > 0)
            return (ssize_t)n;
        if ((waited += 500) >= SSE_KEEPALIVE_MS && max >= 3) {
            memcpy(buf, ":\n\n", 3); /* a comment: keeps proxies from closing the stream */
            return 3;
        }
    }
}

static void sse_free(void *cls)
{
    sse *e = cls;
    atomic_fetch_sub(&e->s->sse_clients, 1);
    free(e);
}

static enum MHD_Result serve_events(tt_status_server *s, struct MHD_Connection *c)
{
    if (!s->o.events)
        return send_text(c, MHD_HTTP_NOT_FOUND, "no event stream in this process\n");
    if (atomic_fetch_add(&s->sse_clients, 1) >= SSE_MAX) {
        atomic_fetch_sub(&s->sse_clients, 1);
        return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many event streams\n");
    }
    sse *e = calloc(1, sizeof *e);
    if (!e) {
        atomic_fetch_sub(&s->sse_clients, 1);
        return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
    }
    e->s = s;
    e->cursor = tt_status_events_tail(s->o.events);
    const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    if (last && last[0] >= '0' && last[0] <= '9') {
        /* a reconnecting client resumes after the last event it saw, or from the
         * oldest the ring holds; 0: everything the ring holds (the dashboard's
         * first connection shows the recent past) */
        char *end;
        unsigned long long id = strtoull(last, &end, 10);
        if (*end == 0)
            e->cursor = tt_status_events_after(s->o.events, id);
    }
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, e, sse_free);
    if (!r) {
        sse_free(e);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- routing ---- */

static enum MHD_Result serve_get(tt_status_server *s, struct MHD_Connection *c, const char *url)
{
    if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
        return send_body(c, MHD_HTTP_OK, "text/html; charset=utf-8", tt_dashboard_html,
                         tt_dashboard_html_len, 0);
    if (!strcmp(url, "/api/events"))
        return serve_events(s, c);
    int which = !strcmp(url, "/health") ? 1 : !strcmp(url, "/metrics") ? 2
              : !strcmp(url, "/api/state") ? 3 : 0;
    if (!which)
        return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    tt_status_view *v = malloc(sizeof *v);
    if (!v)
        return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
    view_take(s, v);
    tt_buf b = {0};
    int rc = which == 1 ? tt_status_health_json(&b, v)
           : which == 2 ? tt_status_metrics_text(&b, v) : tt_status_state_json(&b, v);
    free(v);
    enum MHD_Result ret;
    if (rc < 0)
        ret = send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
    else
        ret = send_body(c, which == 1 && rc == 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
                        which == 2 ? "text/plain; version=0.0.4; charset=utf-8"
                                   : "application/json",
                        b.data, b.len, 1);
    tt_buf_free(&b);
    return ret;
}

static enum MHD_Result serve_kill(tt_status_server *s, struct MHD_Connection *c)
{
    if (!s->o.kill)
        return send_text(c, MHD_HTTP_NOT_FOUND, "no kill switch in this process\n");
    const char *ip = "?";
    char addr[64] = "?";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr,
                      sizeof addr);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, addr,
                      sizeof addr);
        ip = addr;
    }
    lg(s, "kill switch requested over HTTP from %s", ip);
    if (s->o.kill(s->o.kill_ctx) < 0)
        return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "{\"kill_switch\":\"failed\"}\n");
    return send_body(c, MHD_HTTP_OK, "application/json", "{\"kill_switch\":\"engaged\"}\n", 27, 0);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    tt_status_server *s = cls;
    int post = !strcmp(method, "POST");
    if (!*con_cls) { /* the first call: headers only */
        req *r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > BODY_MAX) { /* refused before it is sent */
            atomic_fetch_add(&s->requests, 1);
            return send_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n");
        }
        if (post)
            return MHD_YES; /* the body follows */
    }
    req *r = *con_cls;
    if (post && *upload_size) { /* bounded (a chunked body past it: closed) and ignored */
        r->body += *upload_size;
        *upload_size = 0;
        return r->body > BODY_MAX ? MHD_NO : MHD_YES;
    }
    atomic_fetch_add(&s->requests, 1);
    if (strlen(url) > URL_MAX)
        return send_text(c, MHD_HTTP_URI_TOO_LONG, "URL too long\n");
    if (!post && strcmp(method, "GET") && strcmp(method, "HEAD"))
        return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    /* open without the token: /health (for load balancers) and the static page,
     * which holds no data (it asks for everything with the token) */
    int open = !strcmp(url, "/health") || (!post && (!strcmp(url, "/") ||
                                                     !strcmp(url, "/index.html")));
    if (s->token && !open &&
        !tt_status_auth_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
                           s->token)) {
        atomic_fetch_add(&s->unauthorized, 1);
        return send_text(c, MHD_HTTP_UNAUTHORIZED, "a bearer token is required\n");
    }
    if (post) {
        if (strcmp(url, "/api/kill"))
            return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
        return serve_kill(s, c);
    }
    return serve_get(s, c, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

/* ---- start and stop ---- */

static int resolve(const char *host, int port, struct sockaddr_storage *ss, tt_err *err)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = strcmp(host, "localhost") ? AI_NUMERICHOST : 0;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &res) || !res)
        return tt_err_set(err, TT_EINVAL, "--http: %s is not a numeric address", host);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return TT_OK;
}

int tt_status_server_start(tt_status_server **out, const tt_status_server_opts *o, tt_err *err)
{
    *out = NULL;
    if (!o->host || o->port < 0 || o->port > 65535)
        return tt_err_set(err, TT_EINVAL, "--http: HOST:PORT needed");
    if (!tt_status_host_is_loopback(o->host) && !o->token)
        return tt_err_set(err, TT_EINVAL,
                          "--http %s: not a loopback address; serving it needs a bearer token "
                          "(--http-token-file FILE)", o->host);
    if (o->token && strlen(o->token) < 16)
        return tt_err_set(err, TT_EINVAL, "the HTTP token is too short (16 bytes at least)");
    if (!o->tls_cert_pem != !o->tls_key_pem)
        return tt_err_set(err, TT_EINVAL, "TLS needs both a certificate and a key");
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int rc = resolve(o->host, o->port, &ss, err);
    if (rc)
        return rc;
    tt_status_server *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "status server: out of memory");
    s->o = *o;
    if (o->token && !(s->token = strdup(o->token))) {
        free(s);
        return tt_err_set(err, TT_ENOMEM, "status server: out of memory");
    }
    s->o.token = NULL; /* kept only in s->token, wiped at stop */
    s->started = tt_mono_ns();
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (o->tls_cert_pem)
        flags |= MHD_USE_TLS;
    s->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, handle, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                            o->tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
                            o->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, o->tls_key_pem,
                            MHD_OPTION_END);
    if (!s->d) {
        free(s->token);
        free(s);
        return tt_err_set(err, TT_ENET, "--http %s:%d: cannot serve there (address in use, "
                          "or a bad TLS certificate or key)", o->host, o->port);
    }
    s->port = o->port;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (di && getsockname(di->listen_fd, (struct sockaddr *)&bound, &bl) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)&bound)->sin6_port
                            : ((struct sockaddr_in *)&bound)->sin_port);
    *out = s;
    return TT_OK;
}

int tt_status_server_port(const tt_status_server *s) { return s->port; }

void tt_status_server_stop(tt_status_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, 1);
    if (s->o.events)
        tt_status_events_wake(s->o.events);
    MHD_stop_daemon(s->d);
    if (s->token) {
        volatile char *t = s->token;
        while (*t)
            *t++ = 0;
        free(s->token);
    }
    free(s);
}
