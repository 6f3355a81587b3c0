/*
 * ticktape live: the status server (`--http HOST:PORT`), on libmicrohttpd.
 *
 *   GET  /             the live dashboard (one self-contained page)
 *   GET  /health       JSON: status, uptime, version, connections, sources,
 *                      queue depths, notification failures; 200 or 503
 *   GET  /metrics      Prometheus text exposition format 0.0.4
 *   GET  /api/state    JSON: positions, open orders, account, risk state
 *   GET  /api/events   Server-Sent Events: fills, alerts, equity points
 *   POST /api/kill     engage the kill switch (the session's own, journaled)
 *
 * The server reads only snapshots: the recorder's (live/status.h, may be
 * NULL for a command without an engine, such as `worker`) and the command's
 * info callback (its queues, sources, connections, counters; called on a
 * server thread, so it must be thread-safe). It never touches engine state.
 *
 * Security (docs/operations.md): binding anything but a loopback address
 * needs a bearer token; with a token, every path but /health and the static
 * dashboard page (it holds no data; it sends the token, taken from the URL
 * fragment, with each request for data) requires `Authorization: Bearer
 * TOKEN` (compared in constant time), POST /api/kill included. TLS when a certificate and key are given. Every request is
 * bounded: only GET and POST (POST only on /api/kill, body at most 1 KiB and
 * ignored), a URL of at most 256 bytes, 32 KiB of memory per connection, 64
 * connections, 16 event streams, 30 s of inactivity. The token is never
 * written to a page, a metric or a log line.
 */
#ifndef TT_STATUS_HTTP_H
#define TT_STATUS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "status.h"

#define TT_STATUS_INFO_MAX 8
#define TT_STATUS_EXTRA_MAX 16

/* What the command knows besides the engine view; every field optional. */
typedef struct tt_status_info {
    int healthy; /* 0: /health answers 503 even with connections up */
    int nconn;
    struct {
        char name[48]; /* "nats", "kafka", "mt5 terminal" */
        int up;
    } conn[TT_STATUS_INFO_MAX];
    int nsrc;
    struct {
        char name[48]; /* "nats ticks.>" */
        uint64_t inputs, dropped, rejected, gaps;
    } src[TT_STATUS_INFO_MAX];
    int nqueue;
    struct {
        char name[32]; /* "inbox", "notify" */
        uint64_t depth, capacity, max_depth, event_bytes;
    } queue[TT_STATUS_INFO_MAX];
    int nextra; /* more metrics (a worker's jobs, a journal's count) */
    struct {
        char name[64]; /* full metric name: ticktape_worker_jobs_total */
        char help[96];
        int counter; /* 1 counter, 0 gauge */
        double value;
    } extra[TT_STATUS_EXTRA_MAX];
    /* The command's own health object, a JSON object written by ticktape's
     * code (the aggregator's per-source health: status, symbols, ticks per
     * second, latency, spread), shown in /health as "detail"; "" = none. */
    char detail[16384];
} tt_status_info;

/* The notifier's counters, for /health and /metrics (live/notify.h). */
typedef struct tt_status_notify_info {
    int enabled;
    uint64_t queued, sent, failed, dropped, retries, rate_limited;
    uint32_t depth, capacity;
} tt_status_notify_info;

typedef struct tt_status_server tt_status_server;

typedef struct tt_status_server_opts {
    const char *host;                       /* address to bind (numeric or "localhost") */
    int port;                               /* 0: any free port (tt_status_server_port tells) */
    const char *mode;                       /* "paper", "live", "worker", ... (build_info) */
    const char *token;                      /* bearer token (NULL: none; required off loopback) */
    const char *tls_cert_pem, *tls_key_pem; /* PEM text, both or neither */
    tt_status_rec *status;                  /* the engine's recorder, or NULL (no engine) */
    tt_status_rec *events; /* the ring of /api/events (status, or a recorder used only
                                    for its ring); NULL: 404 */
    void (*info)(void *ctx, tt_status_info *out); /* may be NULL */
    void *info_ctx;
    void (*notify_info)(void *ctx, tt_status_notify_info *out); /* may be NULL */
    void *notify_ctx;
    /* POST /api/kill: engage the kill switch; NULL = 404. Returns 0, or a
     * negative code (503 to the client). Called on a server thread. */
    int (*kill)(void *ctx);
    void *kill_ctx;
    void (*log)(void *ctx, const char *line); /* may be NULL */
    void *log_ctx;
} tt_status_server_opts;

/* 1 when host names a loopback address (127.0.0.0/8, ::1, localhost). */
int tt_status_host_is_loopback(const char *host);

/* 1 when the Authorization header value carries token (constant time over
 * the token's length; NULL header: 0). */
int tt_status_auth_ok(const char *header, const char *token);

/* Start the server. TT_EINVAL: a non-loopback host without a token, a
 * token shorter than 16 bytes, half a TLS pair, a bad address; TT_ENET: the
 * address cannot be bound (naming it). */
int tt_status_server_start(tt_status_server **out, const tt_status_server_opts *o, tt_err *err);
/* The bound port. Cannot fail. */
int tt_status_server_port(const tt_status_server *s);
/* Stop it: event streams end, threads join. NULL is a no-op. Cannot fail. */
void tt_status_server_stop(tt_status_server *s);

/* ---- rendering (live/status_text.c; also used by the tests) ---- */

typedef struct tt_status_view {
    const char *mode, *version;
    double uptime;
    int have_engine;
    tt_status_snapshot snap;
    tt_status_hot hot;
    tt_status_info info;
    tt_status_notify_info notify;
    uint64_t http_requests, http_unauthorized, sse_clients, sse_dropped;
} tt_status_view;

struct tt_buf;
/* The bodies of /health (returns 1 healthy, 0 not, or TT_ENOMEM), /api/state
 * and /metrics (0 or TT_ENOMEM). */
int tt_status_health_json(struct tt_buf *b, const tt_status_view *v);
int tt_status_state_json(struct tt_buf *b, const tt_status_view *v);
int tt_status_metrics_text(struct tt_buf *b, const tt_status_view *v);

#endif
