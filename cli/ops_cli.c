/*
 * What operating a session takes, shared by every long-running command
 * (paper, live, worker, mt5-connector, aggregate): the status server (--http), its
 * security (--http-token-file, --http-cert, --http-key) and notifications
 * (--notify). One option table (tt_ops_opts) included by each command, and
 * one helper (tt_ops_*) that checks the options, builds the recorder
 * (live/status.h) the engine feeds, the notifier (live/notify.h) the
 * recorder posts to, and starts the server once the session can answer.
 *
 * The token and the TLS key come from files readable by their owner only
 * (chmod 600), like the MT5 secret: a command line is visible to every user
 * of the machine. Neither is ever printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "live/inbox.h"
#include "live/notify.h"
#include "live/status.h"
#include "live/status_http.h"
#include "sim/backtest.h"

#define F(field) offsetof(tt_ops_cli, field)

const tt_opt tt_ops_opts[] = {
    {TT_OPT_CUSTOM, "http", .off = F(http), .arg = "HOST:PORT", .set = tt_opt_hostport,
     .help = "serve /health, /metrics, /api/state, /api/events and the dashboard here "
             "(docs/operations.md); a host other than loopback needs --http-token-file; "
             "port 0: any free port (printed)"},
    {TT_OPT_STRING, "http-token-file", .off = F(token_file), .arg = "FILE",
     .help = "bearer token required on every path but /health and the static dashboard page "
             "(mode 600, 16 bytes at least)"},
    {TT_OPT_STRING, "http-cert", .off = F(cert), .arg = "FILE",
     .help = "serve HTTPS with this PEM certificate (with --http-key)"},
    {TT_OPT_STRING, "http-key", .off = F(key), .arg = "FILE",
     .help = "the certificate's PEM private key (mode 600)"},
    {TT_OPT_INCLUDE, .include = tt_ops_notify_opts},
    {TT_OPT_END},
};

const tt_opt tt_ops_notify_opts[] = {
    {TT_OPT_STRING, "notify", .off = F(notify), .arg = "RULES",
     .help = "route alerts, fills, kill switch, disconnects and completions to webhooks and "
             "email by this rules file (docs/operations.md)"},
    {TT_OPT_END},
};

struct tt_ops {
    char mode[24];
    tt_ops_cli o;
    tt_status_rec *rec;  /* the engine's recorder, or only its event ring */
    int engine;
    tt_notify *notify;
    tt_status_server *server;
    char token[256];
    char *cert, *key;
};

/* A private file: regular, no access for group or others, read whole
 * (at most cap - 1 bytes), trailing blanks cut. */
static int read_private(const char *path, const char *what, char *out, size_t cap, tt_err *err)
{
    struct stat st;
    if (stat(path, &st))
        return tt_err_set(err, TT_EIO, "%s: cannot read the %s: %s", path, what, strerror(errno));
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077))
        return tt_err_set(err, TT_EINVAL, "%s: group or others may read the %s (chmod 600 %s)",
                          path, what, path);
    FILE *f = fopen(path, "r");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot read the %s", path, what);
    size_t n = fread(out, 1, cap - 1, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    if (more)
        return tt_err_set(err, TT_EINVAL, "%s: the %s is too long", path, what);
    out[n] = 0;
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ' ||
                 out[n - 1] == '\t'))
        out[--n] = 0;
    return TT_OK;
}

static int read_pem(const char *path, char **out, int private, tt_err *err)
{
    size_t cap = 64 * 1024;
    char *buf = malloc(cap);
    if (!buf)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    int rc;
    if (private) {
        rc = read_private(path, "TLS key", buf, cap, err);
    } else {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = 0;
        rc = f ? TT_OK : tt_err_set(err, TT_EIO, "%s: cannot read the certificate", path);
    }
    if (!rc && !strstr(buf, "-----BEGIN"))
        rc = tt_err_set(err, TT_EINVAL, "%s: not a PEM file", path);
    if (rc) {
        memset(buf, 0, cap);
        free(buf);
        return rc;
    }
    *out = buf;
    return TT_OK;
}

int tt_ops_check(const tt_ops_cli *o, const char *cmd)
{
    if (!o->http.host[0] && (o->token_file || o->cert || o->key))
        return tt_usage_error(cmd, "--http-token-file, --http-cert and --http-key need --http");
    if (!o->cert != !o->key)
        return tt_usage_error(cmd, "%s", o->cert ? "--http-cert needs --http-key FILE"
                                                 : "--http-key needs --http-cert FILE");
    const char *h = o->http.host;
    char bare[256];
    size_t n = strlen(h);
    snprintf(bare, sizeof bare, "%.*s", (int)(h[0] == '[' && n > 1 ? n - 2 : n), h + (h[0] == '['));
    if (h[0] && !tt_status_host_is_loopback(bare) && !o->token_file)
        return tt_usage_error(cmd, "--http %s: not a loopback address; serving it needs a bearer "
                                   "token (--http-token-file FILE)", h);
    return TT_EXIT_OK;
}

static void post(void *ctx, const char *subject, const char *json)
{
    tt_notify_post(ctx, subject, json);
}

int tt_ops_open(tt_ops **out, const tt_ops_cli *o, const char *mode, const tt_ops_engine *eng,
                void (*log)(void *, const char *), tt_err *err)
{
    *out = NULL;
    if (!o->http.host[0] && !o->notify)
        return TT_OK;
    tt_ops *ops = calloc(1, sizeof *ops);
    if (!ops)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    snprintf(ops->mode, sizeof ops->mode, "%s", mode);
    ops->o = *o;
    int rc = TT_OK;
    if (o->token_file && (rc = read_private(o->token_file, "token", ops->token,
                                            sizeof ops->token, err)) == TT_OK &&
        strlen(ops->token) < 16)
        rc = tt_err_set(err, TT_EINVAL, "%s: the token is too short (16 bytes at least)",
                        o->token_file);
    if (!rc && o->cert)
        rc = read_pem(o->cert, &ops->cert, 0, err);
    if (!rc && o->key)
        rc = read_pem(o->key, &ops->key, 1, err);
    if (!rc && o->notify) {
        tt_notify_opts no = {.log = log, .log_ctx = NULL, .origin = mode};
        rc = tt_notify_open(&ops->notify, o->notify, &no, err);
    }
    ops->engine = eng && eng->ins;
    if (!rc && (ops->engine || o->http.host[0])) { /* without an engine: the event ring */
        tt_status_opts so = {.ins = eng ? eng->ins : NULL,
                             .minor_per_unit = eng ? eng->minor_per_unit : 0,
                             .currency = eng ? eng->currency : NULL,
                             .on_event = ops->notify ? post : NULL,
                             .on_event_ctx = ops->notify};
        rc = tt_status_new(&ops->rec, &so, err);
    }
    if (rc) {
        tt_ops_close(ops);
        return rc;
    }
    *out = ops;
    return TT_OK;
}

int tt_ops_attach(tt_ops *ops, struct tt_backtest *bt, tt_err *err)
{
    if (!ops || !ops->engine)
        return TT_OK;
    int rc = tt_backtest_add_component(bt, tt_status_component(ops->rec), err);
    if (!rc)
        rc = tt_backtest_add_sink(bt, tt_status_sink(ops->rec), err);
    return rc;
}

int tt_ops_serve(tt_ops *ops, const tt_ops_hooks *h, tt_err *err)
{
    if (!ops || !ops->o.http.host[0])
        return TT_OK;
    char host[256];
    const char *hh = ops->o.http.host;
    size_t n = strlen(hh);
    snprintf(host, sizeof host, "%.*s", (int)(hh[0] == '[' && n > 1 ? n - 2 : n),
             hh + (hh[0] == '['));
    tt_status_server_opts so = {
        .host = host, .port = ops->o.http.port, .mode = ops->mode,
        .token = ops->token[0] ? ops->token : NULL, .tls_cert_pem = ops->cert,
        .tls_key_pem = ops->key, .status = ops->engine ? ops->rec : NULL, .events = ops->rec,
        .info = h ? h->info : NULL, .info_ctx = h ? h->ctx : NULL,
        .notify_info = ops->notify ? tt_notify_info : NULL, .notify_ctx = ops->notify,
        .kill = h ? h->kill : NULL, .kill_ctx = h ? h->ctx : NULL,
        .log = h ? h->log : NULL, .log_ctx = NULL};
    int rc = tt_status_server_start(&ops->server, &so, err);
    if (rc)
        return rc;
    fprintf(stderr, "ticktape %s: status server on %s://%s%s%s:%d/\n", ops->mode,
            ops->cert ? "https" : "http", strchr(host, ':') ? "[" : "", host,
            strchr(host, ':') ? "]" : "", tt_status_server_port(ops->server));
    return TT_OK;
}

void tt_ops_info_inbox(tt_status_info *in, const char *source, const tt_inbox_stats *st,
                       uint32_t queued, uint64_t feed_dropped)
{
    int i = in->nsrc < TT_STATUS_INFO_MAX ? in->nsrc++ : TT_STATUS_INFO_MAX - 1;
    snprintf(in->src[i].name, sizeof in->src[i].name, "%s", source);
    in->src[i].inputs = st->delivered;
    in->src[i].dropped = st->dropped + feed_dropped;
    in->src[i].rejected = st->rejected;
    in->src[i].gaps = st->gaps;
    i = in->nqueue < TT_STATUS_INFO_MAX ? in->nqueue++ : TT_STATUS_INFO_MAX - 1;
    snprintf(in->queue[i].name, sizeof in->queue[i].name, "inbox");
    in->queue[i].depth = queued;
    in->queue[i].capacity = st->capacity;
    in->queue[i].max_depth = st->max_depth;
    in->queue[i].event_bytes = sizeof(tt_event);
}

void tt_ops_info_metrics(tt_status_info *in, const tt_ops_metric *m, const double *values, int n)
{
    for (int k = 0; k < n && in->nextra < TT_STATUS_EXTRA_MAX; k++) {
        int i = in->nextra++;
        snprintf(in->extra[i].name, sizeof in->extra[i].name, "%s", m[k].name);
        snprintf(in->extra[i].help, sizeof in->extra[i].help, "%s", m[k].help);
        in->extra[i].counter = m[k].counter;
        in->extra[i].value = values[k];
    }
}

void tt_ops_event(tt_ops *ops, const char *subject, const char *json)
{
    if (!ops)
        return;
    if (ops->rec)
        tt_status_event_put(ops->rec, subject, json);
    if (ops->notify) /* tt_status_event_put does not call the recorder's hook */
        tt_notify_post(ops->notify, subject, json);
}

void tt_ops_close(tt_ops *ops)
{
    if (!ops)
        return;
    tt_status_server_stop(ops->server);
    tt_notify_close(ops->notify, 5000);
    tt_status_free(ops->rec);
    memset(ops->token, 0, sizeof ops->token);
    if (ops->key)
        memset(ops->key, 0, strlen(ops->key));
    free(ops->key);
    free(ops->cert);
    free(ops);
}
