/*
 * Notifications (notify.h): a rules file, a bounded queue, one delivery
 * thread over libcurl.
 *
 * tt_notify_post runs on the engine thread (through the status recorder) or
 * a session's status thread: it matches the subject against the routes
 * (string compares, no allocation), copies the event into a fixed slot of the
 * queue under a mutex held for that copy only, signals, and returns. A full
 * queue drops the event and counts it. The thread pops one event at a time
 * and delivers it to each route that matches, in turn: rate limit (a fixed
 * window per route), then up to 1 + retries attempts with exponential
 * backoff, each bounded by the route's timeout. Closing drains the queue up
 * to a deadline; what is left is counted as dropped.
 *
 * The rules are parsed with libyaml's document API into fixed arrays
 * (TT_NOTIFY_*_MAX), every string bounded by the file's own size (64 KiB).
 */
#include "notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <yaml.h>

#include "../sim/research.h"
#include "wallclock.h"

#define RULES_MAX (64 * 1024)
#define QUEUE_DEFAULT 256

/* ---- rules ---- */

int tt_notify_match(const char *pattern, const char *subject)
{
    size_t n = strlen(pattern);
    if (n == 1 && pattern[0] == '*')
        return 1;
    if (n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.')
        return strncmp(pattern, subject, n - 1) == 0;
    return strcmp(pattern, subject) == 0;
}

typedef struct parse_ctx {
    yaml_document_t *doc;
    const char *origin;
    tt_err *err;
    int read_secrets;
} parse_ctx;

static int bad(parse_ctx *c, yaml_node_t *n, const char *what, const char *msg)
{
    return tt_err_set(c->err, TT_EINVAL, "%s:%lu: %s: %s", c->origin,
                      (unsigned long)(n ? n->start_mark.line + 1 : 0), what, msg);
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int dup_scalar(parse_ctx *c, yaml_node_t *n, const char *what, char **out)
{
    const char *v = scalar(n);
    if (!v)
        return bad(c, n, what, "expected a string");
    if (*out)
        return bad(c, n, what, "given twice");
    if (!(*out = strdup(v)))
        return tt_err_set(c->err, TT_ENOMEM, "out of memory");
    return TT_OK;
}

/* A string, or a list of strings, into out[max]. */
static int string_list(parse_ctx *c, yaml_node_t *n, const char *what, char **out, int max,
                       int *count)
{
    if (scalar(n)) {
        if (*count >= max)
            return bad(c, n, what, "too many");
        return dup_scalar(c, n, what, &out[(*count)++]);
    }
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return bad(c, n, what, "expected a string or a list of strings");
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(c->doc, *it);
        if (*count >= max)
            return bad(c, e, what, "too many");
        int rc = dup_scalar(c, e, what, &out[(*count)++]);
        if (rc)
            return rc;
    }
    return TT_OK;
}

static int number(parse_ctx *c, yaml_node_t *n, const char *what, double lo, double hi,
                  double *out)
{
    const char *v = scalar(n);
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || !*v || *end || errno || !(x >= lo && x <= hi)) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected a number from %g to %g", lo, hi);
        return bad(c, n, what, msg);
    }
    *out = x;
    return TT_OK;
}

/* "10/min", "1/s", "100/h". */
static int rate(parse_ctx *c, yaml_node_t *n, tt_notify_route *r)
{
    const char *v = scalar(n);
    unsigned long k = 0;
    char unit[8] = "";
    if (!v || sscanf(v, "%lu/%7s", &k, unit) != 2 || k == 0 || k > 1000000)
        return bad(c, n, "rate", "expected N/s, N/min or N/h");
    r->rate_n = (uint32_t)k;
    if (!strcmp(unit, "s"))
        r->rate_window_ms = 1000;
    else if (!strcmp(unit, "min"))
        r->rate_window_ms = 60000;
    else if (!strcmp(unit, "h"))
        r->rate_window_ms = 3600000;
    else
        return bad(c, n, "rate", "expected N/s, N/min or N/h");
    return TT_OK;
}

static int read_secret(parse_ctx *c, yaml_node_t *n, tt_notify_route *r)
{
    const char *path = scalar(n);
    if (!path)
        return bad(c, n, "secret_file", "expected a path");
    if (!c->read_secrets)
        return TT_OK;
    struct stat st;
    if (stat(path, &st))
        return tt_err_set(c->err, TT_EIO, "%s: cannot read the secret: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077))
        return tt_err_set(c->err, TT_EINVAL, "%s: group or others may read it (chmod 600 %s)",
                          path, path);
    char buf[1024];
    FILE *f = fopen(path, "r");
    size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    if (!f)
        return tt_err_set(c->err, TT_EIO, "%s: cannot read the secret", path);
    buf[len] = 0;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        buf[--len] = 0;
    free(r->secret);
    r->secret = strdup(buf);
    memset(buf, 0, sizeof buf);
    return r->secret ? TT_OK : tt_err_set(c->err, TT_ENOMEM, "out of memory");
}

static int route_key(parse_ctx *c, tt_notify_route *r, const char *key, yaml_node_t *v)
{
    static const char *const TYPES[] = {"webhook", "slack", "telegram", "email", NULL};
    double x;
    int rc;
    if (!strcmp(key, "name")) {
        const char *s = scalar(v);
        if (!s || !*s || strlen(s) >= sizeof r->name)
            return bad(c, v, key, "expected a name of 1 to 63 characters");
        snprintf(r->name, sizeof r->name, "%s", s);
        return TT_OK;
    }
    if (!strcmp(key, "type")) {
        const char *s = scalar(v);
        for (int i = 0; s && TYPES[i]; i++)
            if (!strcmp(s, TYPES[i])) {
                r->type = i;
                return TT_OK;
            }
        return bad(c, v, key, "expected webhook, slack, telegram or email");
    }
    if (!strcmp(key, "match"))
        return string_list(c, v, key, r->match, TT_NOTIFY_MATCH_MAX, &r->nmatch);
    if (!strcmp(key, "to"))
        return string_list(c, v, key, r->to, TT_NOTIFY_TO_MAX, &r->nto);
    if (!strcmp(key, "url"))
        return dup_scalar(c, v, key, &r->url);
    if (!strcmp(key, "from"))
        return dup_scalar(c, v, key, &r->from);
    if (!strcmp(key, "chat_id"))
        return dup_scalar(c, v, key, &r->chat_id);
    if (!strcmp(key, "secret_file"))
        return read_secret(c, v, r);
    if (!strcmp(key, "rate"))
        return rate(c, v, r);
    if (!strcmp(key, "retries")) {
        if ((rc = number(c, v, key, 0, 10, &x)))
            return rc;
        r->retries = (uint32_t)x;
        return TT_OK;
    }
    if (!strcmp(key, "backoff_ms") || !strcmp(key, "timeout_ms")) {
        if ((rc = number(c, v, key, 1, 600000, &x)))
            return rc;
        *(key[0] == 'b' ? &r->backoff_ms : &r->timeout_ms) = (int64_t)x;
        return TT_OK;
    }
    return bad(c, v, key, "unknown key (name, match, type, url, chat_id, from, to, secret_file, "
                          "rate, retries, backoff_ms, timeout_ms)");
}

static int route_check(parse_ctx *c, yaml_node_t *n, tt_notify_route *r, int i)
{
    char what[32];
    snprintf(what, sizeof what, "routes[%d]", i);
    if (!r->name[0])
        snprintf(r->name, sizeof r->name, "route%d", i + 1);
    if (!r->nmatch)
        return bad(c, n, what, "match: is needed (a subject, \"prefix.*\" or \"*\")");
    if (!r->url)
        return bad(c, n, what, "url: is needed");
    int email = r->type == TT_NOTIFY_EMAIL;
    const char *u = r->url;
    int http = !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
    int smtp = !strncmp(u, "smtp://", 7) || !strncmp(u, "smtps://", 8);
    if (email ? !smtp : !http)
        return bad(c, n, what, email ? "url: an email route needs smtp:// or smtps://"
                                     : "url: a webhook needs http:// or https://");
    if (email && (!r->from || !r->nto))
        return bad(c, n, what, "an email route needs from: and to:");
    if (r->type == TT_NOTIFY_TELEGRAM && !r->chat_id)
        return bad(c, n, what, "a telegram route needs chat_id:");
    return TT_OK;
}

static int parse_routes(parse_ctx *c, yaml_node_t *seq, tt_notify_rules *r)
{
    if (seq->type != YAML_SEQUENCE_NODE)
        return bad(c, seq, "routes", "expected a list of routes");
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *m = yaml_document_get_node(c->doc, *it);
        if (r->nroutes == TT_NOTIFY_ROUTES_MAX)
            return bad(c, m, "routes", "too many (16 at most)");
        if (!m || m->type != YAML_MAPPING_NODE)
            return bad(c, m, "routes", "each route is a mapping");
        tt_notify_route *rt = &r->routes[r->nroutes++];
        rt->retries = 3;
        rt->backoff_ms = 500;
        rt->timeout_ms = 5000;
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
             p++) {
            const char *k = scalar(yaml_document_get_node(c->doc, p->key));
            yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
            int rc = k ? route_key(c, rt, k, v) : bad(c, v, "routes", "a key must be a string");
            if (rc)
                return rc;
        }
        int rc = route_check(c, m, rt, r->nroutes - 1);
        if (rc)
            return rc;
    }
    return TT_OK;
}

int tt_notify_rules_parse(tt_notify_rules *r, const char *text, size_t len, const char *origin,
                          int read_secrets, tt_err *err)
{
    memset(r, 0, sizeof *r);
    r->queue = QUEUE_DEFAULT;
    if (len > RULES_MAX)
        return tt_err_set(err, TT_EINVAL, "%s: larger than 64 KiB", origin);
    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p))
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc)) {
        int rc = tt_err_set(err, p.error == YAML_MEMORY_ERROR ? TT_ENOMEM : TT_EFORMAT,
                            "%s:%lu: %s", origin, (unsigned long)p.problem_mark.line + 1,
                            p.problem ? p.problem : "not YAML");
        yaml_parser_delete(&p);
        return rc;
    }
    parse_ctx c = {&doc, origin, err, read_secrets};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc = TT_OK;
    if (!root || root->type != YAML_MAPPING_NODE) {
        rc = bad(&c, root, "rules", "expected a mapping with routes:");
    } else {
        for (yaml_node_pair_t *q = root->data.mapping.pairs.start;
             !rc && q < root->data.mapping.pairs.top; q++) {
            const char *k = scalar(yaml_document_get_node(&doc, q->key));
            yaml_node_t *v = yaml_document_get_node(&doc, q->value);
            double x;
            if (k && !strcmp(k, "routes"))
                rc = parse_routes(&c, v, r);
            else if (k && !strcmp(k, "queue") && !(rc = number(&c, v, "queue", 1, 65536, &x)))
                r->queue = (uint32_t)x;
            else if (!rc)
                rc = bad(&c, v, k ? k : "?", "unknown key (routes, queue)");
        }
        if (!rc && !r->nroutes)
            rc = bad(&c, root, "routes", "no route");
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    if (rc)
        tt_notify_rules_free(r);
    return rc;
}

void tt_notify_rules_free(tt_notify_rules *r)
{
    for (int i = 0; i < r->nroutes; i++) {
        tt_notify_route *rt = &r->routes[i];
        for (int k = 0; k < rt->nmatch; k++)
            free(rt->match[k]);
        for (int k = 0; k < rt->nto; k++)
            free(rt->to[k]);
        free(rt->url);
        free(rt->chat_id);
        free(rt->from);
        if (rt->secret)
            memset(rt->secret, 0, strlen(rt->secret));
        free(rt->secret);
    }
    memset(r, 0, sizeof *r);
}

/* ---- the queue and the thread ---- */

typedef struct item {
    char subject[48];
    char json[TT_STATUS_EVENT_MAX];
    tt_ts ts;
} item;

typedef struct route_state {
    int64_t window_start;
    uint32_t in_window;
} route_state;

struct tt_notify {
    tt_notify_rules rules;
    tt_notify_opts o;
    char origin[64];
    route_state rs[TT_NOTIFY_ROUTES_MAX];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item *q;
    uint32_t cap, head, count;
    int stopping;
    int64_t deadline; /* mono ns: give up delivering after this while stopping */
    pthread_t th;
    int started;
    atomic_ullong queued, sent, failed, dropped, retries, rate_limited;
};

static void nlog(tt_notify *n, const char *route, const char *what)
{
    if (!n->o.log)
        return;
    char line[256];
    snprintf(line, sizeof line, "notify: route %s: %s", route, what);
    n->o.log(n->o.log_ctx, line);
}

void tt_notify_post(tt_notify *n, const char *subject, const char *json)
{
    int any = 0;
    for (int i = 0; i < n->rules.nroutes && !any; i++)
        for (int k = 0; k < n->rules.routes[i].nmatch && !any; k++)
            any = tt_notify_match(n->rules.routes[i].match[k], subject);
    if (!any)
        return;
    pthread_mutex_lock(&n->mu);
    if (n->count == n->cap || n->stopping) {
        pthread_mutex_unlock(&n->mu);
        atomic_fetch_add(&n->dropped, 1);
        return;
    }
    item *it = &n->q[(n->head + n->count++) % n->cap];
    snprintf(it->subject, sizeof it->subject, "%s", subject);
    if (strlen(json) < sizeof it->json)
        memcpy(it->json, json, strlen(json) + 1);
    else
        snprintf(it->json, sizeof it->json, "{\"truncated\":true}");
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    atomic_fetch_add(&n->queued, 1);
}

static size_t discard(char *p, size_t size, size_t nmemb, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * nmemb;
}

typedef struct upload {
    const char *data;
    size_t len, off;
} upload;

static size_t feed(char *buf, size_t size, size_t nmemb, void *ctx)
{
    upload *u = ctx;
    size_t n = size * nmemb;
    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

/* The body of a webhook route (JSON). */
static int webhook_body(tt_buf *b, const tt_notify *n, const tt_notify_route *r, const item *it,
                        const char *text)
{
    int rc = tt_buf_printf(b, "{");
    if (r->type == TT_NOTIFY_TELEGRAM) {
        rc = rc ? rc : tt_buf_printf(b, "\"chat_id\":");
        rc = rc ? rc : tt_buf_json_string(b, r->chat_id);
        rc = rc ? rc : tt_buf_printf(b, ",");
    } else if (r->type == TT_NOTIFY_WEBHOOK) {
        rc = rc ? rc : tt_buf_printf(b, "\"subject\":");
        rc = rc ? rc : tt_buf_json_string(b, it->subject);
        rc = rc ? rc : tt_buf_printf(b, ",\"origin\":");
        rc = rc ? rc : tt_buf_json_string(b, n->origin);
        rc = rc ? rc : tt_buf_printf(b, ",\"event\":%s,", it->json);
    }
    rc = rc ? rc : tt_buf_printf(b, "\"text\":");
    rc = rc ? rc : tt_buf_json_string(b, text);
    return rc ? rc : tt_buf_printf(b, "}");
}

static int email_body(tt_buf *b, const tt_notify_route *r, const item *it, const char *text)
{
    int rc = tt_buf_printf(b, "From: %s\r\nTo: ", r->from);
    for (int i = 0; !rc && i < r->nto; i++)
        rc = tt_buf_printf(b, "%s%s", i ? ", " : "", r->to[i]);
    rc = rc ? rc : tt_buf_printf(b, "\r\nSubject: ticktape: %s\r\nContent-Type: text/plain; "
                                    "charset=utf-8\r\n\r\n%s\r\n", it->subject, text);
    return rc;
}

/* One attempt; 0 delivered, else a short reason in why. */
static int attempt(tt_notify *n, const tt_notify_route *r, const item *it, char *why, size_t cap)
{
    char text[TT_STATUS_EVENT_MAX + 160];
    snprintf(text, sizeof text, "ticktape %s: %s %s", n->origin, it->subject, it->json);
    tt_buf body = {0};
    int email = r->type == TT_NOTIFY_EMAIL;
    if (email ? email_body(&body, r, it, text) : webhook_body(&body, n, r, it, text)) {
        tt_buf_free(&body);
        snprintf(why, cap, "out of memory");
        return -1;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        tt_buf_free(&body);
        snprintf(why, cap, "curl_easy_init failed");
        return -1;
    }
    tt_buf url = {0};
    const char *at = r->secret ? strstr(r->url, "{secret}") : NULL;
    if (at && tt_buf_printf(&url, "%.*s%s%s", (int)(at - r->url), r->url, r->secret, at + 8) == 0)
        curl_easy_setopt(h, CURLOPT_URL, (const char *)url.data);
    else
        curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    struct curl_slist *hdr = NULL, *rcpt = NULL;
    upload up = {(const char *)body.data, body.len, 0};
    if (email) {
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, r->from);
        for (int i = 0; i < r->nto; i++)
            rcpt = curl_slist_append(rcpt, r->to[i]);
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, feed);
        curl_easy_setopt(h, CURLOPT_READDATA, &up);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        if (r->secret) { /* credentials never travel in clear */
            curl_easy_setopt(h, CURLOPT_USERPWD, r->secret);
            curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        }
    } else {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)body.data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body.len);
    }
    CURLcode cc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    int ok = cc == CURLE_OK && (email || (code >= 200 && code < 300));
    if (!ok) {
        if (cc != CURLE_OK)
            snprintf(why, cap, "%s", curl_easy_strerror(cc));
        else
            snprintf(why, cap, "HTTP %ld", code);
    }
    curl_slist_free_all(hdr);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    tt_buf_free(&body);
    if (url.data)
        memset(url.data, 0, url.len);
    tt_buf_free(&url);
    return ok ? 0 : -1;
}

/* Wait ms, or less when closing runs past its deadline. 1: give up. */
static int pause_ms(tt_notify *n, int64_t ms)
{
    int64_t until = tt_mono_ns() + ms * 1000000;
    pthread_mutex_lock(&n->mu);
    while (tt_mono_ns() < until && !(n->stopping && tt_mono_ns() >= n->deadline)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&n->cv, &n->mu, &ts);
    }
    int give_up = n->stopping && tt_mono_ns() >= n->deadline;
    pthread_mutex_unlock(&n->mu);
    return give_up;
}

static void deliver(tt_notify *n, int i, const item *it)
{
    tt_notify_route *r = &n->rules.routes[i];
    route_state *s = &n->rs[i];
    if (r->rate_n) {
        int64_t now = tt_mono_ns() / 1000000;
        if (now - s->window_start >= r->rate_window_ms) {
            s->window_start = now;
            s->in_window = 0;
        }
        if (s->in_window >= r->rate_n) {
            atomic_fetch_add(&n->rate_limited, 1);
            return;
        }
        s->in_window++;
    }
    char why[160];
    int64_t backoff = r->backoff_ms;
    for (uint32_t k = 0;; k++) {
        if (attempt(n, r, it, why, sizeof why) == 0) {
            atomic_fetch_add(&n->sent, 1);
            return;
        }
        if (k == r->retries || pause_ms(n, backoff))
            break;
        atomic_fetch_add(&n->retries, 1);
        backoff *= 2;
    }
    atomic_fetch_add(&n->failed, 1);
    char msg[200];
    snprintf(msg, sizeof msg, "%s not delivered: %s", it->subject, why);
    nlog(n, r->name, msg);
}

static void *run(void *arg)
{
    tt_notify *n = arg;
    for (;;) {
        pthread_mutex_lock(&n->mu);
        while (!n->count && !n->stopping)
            pthread_cond_wait(&n->cv, &n->mu);
        if (!n->count || (n->stopping && tt_mono_ns() >= n->deadline)) {
            atomic_fetch_add(&n->dropped, n->count);
            n->count = 0;
            pthread_mutex_unlock(&n->mu);
            return NULL;
        }
        item it = n->q[n->head];
        n->head = (n->head + 1) % n->cap;
        n->count--;
        pthread_mutex_unlock(&n->mu);
        for (int i = 0; i < n->rules.nroutes; i++)
            for (int k = 0; k < n->rules.routes[i].nmatch; k++)
                if (tt_notify_match(n->rules.routes[i].match[k], it.subject)) {
                    deliver(n, i, &it);
                    break;
                }
    }
}

int tt_notify_open(tt_notify **out, const char *path, const tt_notify_opts *o, tt_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot read the rules: %s", path, strerror(errno));
    char *text = malloc(RULES_MAX + 1);
    size_t len = text ? fread(text, 1, RULES_MAX + 1, f) : 0;
    int rerr = ferror(f);
    fclose(f);
    if (!text)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    if (rerr) {
        free(text);
        return tt_err_set(err, TT_EIO, "%s: read error", path);
    }
    tt_notify *n = calloc(1, sizeof *n);
    int rc = n ? tt_notify_rules_parse(&n->rules, text, len, path, 1, err)
               : tt_err_set(err, TT_ENOMEM, "out of memory");
    free(text);
    if (!rc && !(n->q = calloc(n->rules.queue, sizeof *n->q)))
        rc = tt_err_set(err, TT_ENOMEM, "out of memory (notification queue)");
    if (rc) {
        if (n)
            tt_notify_rules_free(&n->rules);
        free(n);
        return rc;
    }
    n->cap = n->rules.queue;
    if (o)
        n->o = *o;
    snprintf(n->origin, sizeof n->origin, "%s", o && o->origin ? o->origin : "ticktape");
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (pthread_create(&n->th, NULL, run, n)) {
        tt_notify_close(n, 0);
        return tt_err_set(err, TT_ENOMEM, "notify: cannot start its thread");
    }
    n->started = 1;
    *out = n;
    return TT_OK;
}

void tt_notify_info(void *ctx, tt_status_notify_info *out)
{
    tt_notify *n = ctx;
    memset(out, 0, sizeof *out);
    out->enabled = 1;
    out->queued = atomic_load(&n->queued);
    out->sent = atomic_load(&n->sent);
    out->failed = atomic_load(&n->failed);
    out->dropped = atomic_load(&n->dropped);
    out->retries = atomic_load(&n->retries);
    out->rate_limited = atomic_load(&n->rate_limited);
    pthread_mutex_lock(&n->mu);
    out->depth = n->count;
    pthread_mutex_unlock(&n->mu);
    out->capacity = n->cap;
}

void tt_notify_close(tt_notify *n, int64_t wait_ms)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->stopping = 1;
    n->deadline = tt_mono_ns() + wait_ms * 1000000;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (n->started)
        pthread_join(n->th, NULL);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    tt_notify_rules_free(&n->rules);
    free(n->q);
    free(n);
}
