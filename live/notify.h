/*
 * ticktape live: notifications (the seed's notification hub), `--notify RULES`.
 *
 * Events (risk.alert.*, performance.alert.*, fill, kill switch, disconnect,
 * reconnect, training.completed, ...) are routed by a rules file to webhooks
 * and email:
 *
 *   routes:
 *     - name: ops-slack
 *       match: ["risk.alert.*", "performance.alert.*", "disconnect"]
 *       type: slack              # webhook | slack | telegram | email
 *       url: https://hooks.slack.com/services/...
 *       rate: 10/min             # at most 10 sent per minute (more: counted, not sent)
 *       retries: 3               # after the first attempt; backoff 0.5 s, 1 s, 2 s ...
 *     - name: desk-mail
 *       match: ["risk.alert.kill_switch"]
 *       type: email
 *       url: smtp://mail.example.com:587
 *       from: ticktape@example.com
 *       to: [desk@example.com]
 *       secret_file: /etc/ticktape/smtp.secret   # "user:password" (mode 600)
 *
 * A pattern is a subject, or ends with ".*" (any subject starting with what
 * precedes the star) or is "*" (everything). The bodies: `webhook` posts
 * {"subject","text","event"} (the event's own JSON); `slack` posts {"text"};
 * `telegram` posts {"chat_id","text"} to url (the Bot API's sendMessage URL,
 * with its token, taken from secret_file when the url has "{secret}" in
 * it); `email` sends a plain-text mail through libcurl's SMTP.
 *
 * Never blocking the engine: tt_notify_post copies the event into a bounded
 * queue (full: dropped and counted) and returns; one thread of its own
 * delivers, with a 5 s timeout per attempt and exponential backoff between
 * retries. Counters (sent, failed, dropped, retried, rate limited) feed
 * /metrics and /health. Secrets (URLs with tokens, SMTP credentials) are
 * never logged: a route is named by its name only.
 */
#ifndef TT_NOTIFY_H
#define TT_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "status_http.h"

#define TT_NOTIFY_ROUTES_MAX 16
#define TT_NOTIFY_MATCH_MAX 16
#define TT_NOTIFY_TO_MAX 8

enum tt_notify_type { TT_NOTIFY_WEBHOOK = 0, TT_NOTIFY_SLACK, TT_NOTIFY_TELEGRAM,
                      TT_NOTIFY_EMAIL };

typedef struct tt_notify_route {
    char name[64];
    int type;                             /* enum tt_notify_type */
    char *match[TT_NOTIFY_MATCH_MAX];
    int nmatch;
    char *url;
    char *chat_id;                        /* telegram */
    char *from, *to[TT_NOTIFY_TO_MAX];    /* email */
    int nto;
    char *secret;                         /* from secret_file; never printed */
    uint32_t rate_n;                      /* at most rate_n per rate_window_ms; 0 = no limit */
    int64_t rate_window_ms;
    uint32_t retries;                     /* default 3 */
    int64_t backoff_ms;                   /* first pause; doubles; default 500 */
    int64_t timeout_ms;                   /* per attempt; default 5000 */
} tt_notify_route;

typedef struct tt_notify_rules {
    tt_notify_route routes[TT_NOTIFY_ROUTES_MAX];
    int nroutes;
    uint32_t queue;                       /* "queue: N" at the top; default 256 */
} tt_notify_rules;

/* Parse a rules file's text (origin names it in errors: "rules.yaml:12:
 * routes[1].rate: ..."). Secret files are read relative to base_dir (NULL:
 * as given; with read_secrets 0 they are not read: the fuzz target).
 * TT_EFORMAT / TT_EINVAL naming line and key, TT_ENOMEM. */
int tt_notify_rules_parse(tt_notify_rules *r, const char *text, size_t len, const char *origin,
                          int read_secrets, tt_err *err);
void tt_notify_rules_free(tt_notify_rules *r);

/* 1 when subject matches the pattern (see above). */
int tt_notify_match(const char *pattern, const char *subject);

typedef struct tt_notify tt_notify;

typedef struct tt_notify_opts {
    void (*log)(void *ctx, const char *line); /* delivery failures (route name, no secret) */
    void *log_ctx;
    const char *origin;                        /* "paper on host", in every message */
} tt_notify_opts;

/* Load the rules file and start the delivery thread. Errors as parse, TT_EIO
 * when the file (or a secret file) cannot be read. */
int tt_notify_open(tt_notify **n, const char *rules_file, const tt_notify_opts *o, tt_err *err);

/* Queue an event for every route that matches it. Never blocks, cannot fail
 * (a full queue drops it and counts). json is the event's object. Any thread. */
void tt_notify_post(tt_notify *n, const char *subject, const char *json);

/* Counters for the status server (ctx is the tt_notify). Cannot fail. */
void tt_notify_info(void *ctx, tt_status_notify_info *out);

/* Deliver what is queued (at most wait_ms more), stop the thread, free.
 * NULL is a no-op. Cannot fail. */
void tt_notify_close(tt_notify *n, int64_t wait_ms);

#endif
