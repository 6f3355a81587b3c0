/*
 * The Dukascopy downloader (see data/download.h for the contract).
 *
 * How this works: the range becomes a list of files (hour tick files, and
 * optionally the day candle files). Files already present under their final
 * name are complete by construction (they only ever arrive there by rename)
 * and are skipped. The rest run through one libcurl multi handle with at most
 * `jobs` easy handles in flight. A body is collected in memory (a bi5 file is
 * at most a few MB), checked (length against Content-Length, which curl
 * enforces as CURLE_PARTIAL_FILE; then a full LZMA decode into whole
 * records), written to NAME.part and renamed to NAME. A transient failure
 * (5xx, timeout, connection error, short or undecodable body) puts the file
 * back in the queue with a not-before time of backoff * 2^attempt; after
 * `retries` retries it is reported as failed and nothing is left under its
 * final name. A 404 is Dukascopy's answer for an hour it has no file for:
 * counted as missing and summarised as gaps.
 *
 * Everything runs on the calling thread; the multi handle does the
 * parallelism. No global state beyond libcurl's own (curl_global_init is
 * reference counted by libcurl).
 */
#include "download.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dukascopy.h"

enum { F_PENDING = 0, F_ACTIVE, F_DONE, F_SKIPPED, F_EMPTY, F_MISSING, F_FAILED };

typedef struct dfile {
    char rel[256];
    tt_ts start;     /* hour (ticks) or day (candles) */
    int8_t tf;       /* 0 = ticks, else TT_TF_M1 */
    int8_t side;
    uint8_t state;
    int attempt;     /* tries made */
    double not_before;
    CURL *h;
    uint8_t *body;
    size_t len, cap;
    int too_big;
    char last_error[256];
} dfile;

typedef struct dl {
    const tt_download_opts *o;
    tt_download_stats *st;
    dfile *f;
    size_t n;
    size_t nh;    /* f[0..nh) are the hour tick files, in time order */
    char sym[64]; /* the symbol as Dukascopy's paths spell it */
    char base[1024];
    /* the transfer loop */
    CURLM *m;
    int jobs, retries;
    double backoff; /* seconds before the first retry; doubles with each */
    int active;     /* transfers in flight */
    size_t next;    /* files before `next` have been started at least once */
    tt_bi5_buf scratch;
    char first_fail[512];
} dl;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void say(const tt_download_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const tt_download_opts *o, const char *fmt, ...)
{
    if (!o->report)
        return;
    char line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->report(o->ctx, line);
}

/* mkdir -p of the directory part of `path`. */
static int make_parents(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    dfile *f = user;
    size_t k = size * nmemb;
    if (f->len + k > TT_BI5_MAX_RAW) {
        f->too_big = 1;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (f->len + k > f->cap) {
        size_t cap = f->cap ? f->cap : 65536;
        while (cap < f->len + k)
            cap *= 2;
        uint8_t *p = realloc(f->body, cap);
        if (!p)
            return 0;
        f->body = p;
        f->cap = cap;
    }
    memcpy(f->body + f->len, data, k);
    f->len += k;
    return k;
}

static int start(dl *d, CURLM *m, dfile *f)
{
    char url[2048];
    snprintf(url, sizeof url, "%s/%s", d->base, f->rel);
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    f->len = 0;
    f->too_big = 0;
    long timeout = d->o->timeout_ms > 0 ? d->o->timeout_ms : 30000;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_PRIVATE, f);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ticktape/0.1");
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 0L);
    if (curl_multi_add_handle(m, h) != CURLM_OK) {
        curl_easy_cleanup(h);
        return -1;
    }
    f->h = h;
    f->state = F_ACTIVE;
    f->attempt++;
    return 0;
}

/* Write the checked body under NAME.part, then rename to NAME. */
static int commit_file(dl *d, dfile *f, tt_err *err)
{
    char path[4096], part[4200];
    snprintf(path, sizeof path, "%s/%s", d->o->dir, f->rel);
    snprintf(part, sizeof part, "%s.part", path);
    if (make_parents(path))
        return tt_err_set(err, TT_EIO, "%s: cannot create directory: %s", path, strerror(errno));
    FILE *fp = fopen(part, "wb");
    if (!fp)
        return tt_err_set(err, TT_EIO, "%s: cannot create: %s", part, strerror(errno));
    size_t w = f->len ? fwrite(f->body, 1, f->len, fp) : 0;
    int bad = w != f->len || fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(part, path) != 0) {
        int e = errno;
        unlink(part);
        return tt_err_set(err, TT_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    return TT_OK;
}

/* Is the body a whole bi5 file? Empty is valid (no data). */
static int check_body(const dfile *f, tt_bi5_buf *scratch, char *why, size_t n)
{
    tt_err e;
    int rc = f->tf == 0
                 ? tt_bi5_decode_ticks(f->body, f->len, f->start, 0, 0, scratch, &e)
                 : tt_bi5_decode_candles(f->body, f->len, f->start, (uint8_t)f->tf,
                                         (uint8_t)f->side, 0, 0, scratch, &e);
    if (rc)
        snprintf(why, n, "%s", e.msg);
    return rc;
}

static void progress(dl *d)
{
    if (!d->o->progress)
        return;
    const tt_download_stats *s = d->st;
    uint64_t settled = s->downloaded + s->skipped + s->empty + s->missing + s->failed;
    d->o->progress(d->o->ctx, settled, s->files, s->bytes);
}

static void fmt_hour(tt_ts t, char *buf, size_t n)
{
    int y, mo, dd, h;
    tt_ts_to_civil(t, &y, &mo, &dd, &h, NULL, NULL, NULL);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:00Z", y, mo, dd, h);
}

/* Dukascopy's paths spell symbols in upper case, letters and digits only. */
static int duka_symbol(const char *symbol, char *sym, size_t cap, tt_err *err)
{
    size_t sn = 0;
    for (const char *c = symbol; *c; c++) {
        if (!isalnum((unsigned char)*c) || sn + 1 >= cap)
            return tt_err_set(err, TT_EINVAL,
                              "download: bad symbol '%s' (letters and digits only)", symbol);
        sym[sn++] = (char)toupper((unsigned char)*c);
    }
    sym[sn] = '\0';
    return TT_OK;
}

/* The files of the range: every hour's tick file from the hour holding `from`, then,
 * with candles, the bid and ask minute candles of every day it touches. */
static int plan_files(dl *d, tt_err *err)
{
    const tt_download_opts *o = d->o;
    tt_ts from = o->from - ((o->from % TT_NS_PER_HOUR) + TT_NS_PER_HOUR) % TT_NS_PER_HOUR;
    size_t nh = (size_t)((o->to - from + TT_NS_PER_HOUR - 1) / TT_NS_PER_HOUR);
    size_t nd = o->candles ? (size_t)((o->to - from) / TT_NS_PER_DAY + 2) * 2 : 0;
    d->f = calloc(nh + nd + 1, sizeof *d->f);
    if (!d->f)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    d->nh = nh;
    for (size_t i = 0; i < nh; i++) {
        dfile *f = &d->f[d->n++];
        f->start = from + (tt_ts)i * TT_NS_PER_HOUR;
        tt_duka_tick_path(f->rel, sizeof f->rel, d->sym, f->start);
    }
    if (o->candles) {
        tt_ts day0 = from - ((from % TT_NS_PER_DAY) + TT_NS_PER_DAY) % TT_NS_PER_DAY;
        for (tt_ts t = day0; t < o->to; t += TT_NS_PER_DAY)
            for (int side = TT_SIDE_BID; side <= TT_SIDE_ASK; side++) {
                dfile *f = &d->f[d->n++];
                f->tf = TT_TF_M1;
                f->side = (int8_t)side;
                tt_duka_candle_path(f->rel, sizeof f->rel, d->sym, TT_TF_M1, side, t, &f->start);
            }
    }
    d->st->files = d->n;
    return TT_OK;
}

/* Resume: complete files are those under their final name. */
static void skip_complete(dl *d)
{
    for (size_t i = 0; i < d->n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", d->o->dir, d->f[i].rel);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            d->f[i].state = F_SKIPPED;
            d->st->skipped++;
        }
    }
}

/* Start what may start: retries whose backoff elapsed first, then new files in order. */
static int start_due(dl *d, tt_err *err)
{
    double now = mono_s();
    for (size_t i = 0; i < d->next && d->active < d->jobs; i++) {
        dfile *f = &d->f[i];
        if (f->state == F_PENDING && f->attempt > 0 && f->not_before <= now) {
            if (start(d, d->m, f) == 0)
                d->active++;
        }
    }
    while (d->active < d->jobs && d->next < d->n) {
        dfile *f = &d->f[d->next++];
        if (f->state != F_PENDING)
            continue;
        if (start(d, d->m, f) != 0)
            return tt_err_set(err, TT_ENET, "libcurl: cannot start a transfer");
        d->active++;
    }
    return TT_OK;
}

/* Is a retry waiting for its backoff? *soonest: the earliest time one may start. */
static int retry_waiting(const dl *d, double *soonest)
{
    int waiting = 0;
    for (size_t i = 0; i < d->next; i++)
        if (d->f[i].state == F_PENDING && d->f[i].attempt > 0) {
            if (!waiting || d->f[i].not_before < *soonest)
                *soonest = d->f[i].not_before;
            waiting = 1;
        }
    return waiting;
}

/* Let curl work: wait up to 100 ms for activity, or, with nothing in flight, until
 * the soonest retry (at most a second). */
static void pump(dl *d, int waiting, double soonest)
{
    int running = 0;
    curl_multi_perform(d->m, &running);
    int wait_ms = 100;
    if (waiting && d->active == 0) {
        double dt = soonest - mono_s();
        wait_ms = dt <= 0 ? 0 : dt > 1.0 ? 1000 : (int)(dt * 1000) + 1;
    }
    if (d->active > 0 || wait_ms > 0)
        curl_multi_poll(d->m, NULL, 0, wait_ms, NULL);
    curl_multi_perform(d->m, &running);
}

static void drop_body(dfile *f)
{
    free(f->body);
    f->body = NULL;
    f->cap = f->len = 0;
}

/* A transfer that did not give a good file: again after the backoff when the
 * failure is transient and retries are left, else the file has failed. */
static void settle_failure(dl *d, dfile *f, const char *why, int transient)
{
    tt_download_stats *st = d->st;
    snprintf(f->last_error, sizeof f->last_error, "%s", why);
    if (transient && f->attempt <= d->retries) {
        double delay = d->backoff * (double)(1u << (f->attempt - 1 < 16 ? f->attempt - 1 : 16));
        f->state = F_PENDING;
        f->not_before = mono_s() + delay;
        st->retries++;
        say(d->o, "retry %d/%d in %.1fs: %s/%s: %s", f->attempt, d->retries, delay, d->base,
            f->rel, why);
    } else {
        f->state = F_FAILED;
        st->failed++;
        say(d->o, "error: %s/%s: %s (after %d attempt%s); nothing written", d->base, f->rel, why,
            f->attempt, f->attempt == 1 ? "" : "s");
        if (!d->first_fail[0])
            snprintf(d->first_fail, sizeof d->first_fail, "%s: %s", f->rel, why);
        drop_body(f);
        progress(d);
    }
}

/* One finished transfer: a 404 is a missing hour; a good body is checked and
 * committed; anything else is a failure, transient or not. Fails only when a
 * checked body cannot be written (TT_EIO). */
static int finish_transfer(dl *d, CURLMsg *msg, tt_err *err)
{
    tt_download_stats *st = d->st;
    CURL *h = msg->easy_handle;
    CURLcode cc = msg->data.result;
    char *priv = NULL;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
    dfile *f = (dfile *)(void *)priv;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(d->m, h);
    curl_easy_cleanup(h);
    f->h = NULL;
    d->active--;
    st->bytes += f->len;

    int transient = 0;
    char why[300] = "";
    if (cc != CURLE_OK) {
        snprintf(why, sizeof why, "%s",
                 f->too_big ? "body over the size limit" : curl_easy_strerror(cc));
        transient = !f->too_big && cc != CURLE_URL_MALFORMAT && cc != CURLE_UNSUPPORTED_PROTOCOL &&
                    cc != CURLE_COULDNT_RESOLVE_HOST;
    } else if (status == 404) {
        f->state = F_MISSING;
        st->missing++;
        progress(d);
        return TT_OK;
    } else if (status >= 500 || status == 429 || status == 408) {
        /* server trouble, rate limiting or a server-side timeout: try again later */
        snprintf(why, sizeof why, "HTTP %ld", status);
        transient = 1;
    } else if (status != 200) {
        snprintf(why, sizeof why, "HTTP %ld", status);
    } else if (check_body(f, &d->scratch, why, sizeof why) != TT_OK) {
        transient = 1; /* a short body that curl could not see (no Content-Length) */
    } else {
        tt_err we;
        if (commit_file(d, f, &we) != TT_OK)
            return tt_err_set(err, TT_EIO, "%s", we.msg);
        f->state = f->len ? F_DONE : F_EMPTY;
        if (f->len)
            st->downloaded++;
        else
            st->empty++;
        drop_body(f);
        progress(d);
        return TT_OK;
    }
    settle_failure(d, f, why, transient);
    return TT_OK;
}

/* Until every file has settled: start transfers, let curl work, settle the finished. */
static int run_transfers(dl *d, tt_err *err)
{
    for (;;) {
        int rc = start_due(d, err);
        if (rc)
            return rc;
        double soonest = 0;
        int waiting = retry_waiting(d, &soonest);
        if (d->active == 0 && !waiting && d->next >= d->n)
            return TT_OK;
        pump(d, waiting, soonest);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(d->m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            if ((rc = finish_transfer(d, msg, err)) != TT_OK)
                return rc;
        }
    }
}

/* Gaps: runs of consecutive hour tick files the server does not have. */
static void report_gaps(dl *d)
{
    for (size_t i = 0; i < d->nh;) {
        if (d->f[i].state != F_MISSING) {
            i++;
            continue;
        }
        size_t k = i;
        while (k < d->nh && d->f[k].state == F_MISSING)
            k++;
        char a[32], b[32];
        fmt_hour(d->f[i].start, a, sizeof a);
        fmt_hour(d->f[k - 1].start, b, sizeof b);
        say(d->o, "gap: %s %s .. %s: %zu hour%s not on the server", d->sym, a, b, k - i,
            k - i == 1 ? "" : "s");
        d->st->gaps++;
        i = k;
    }
}

int tt_download_dukascopy(const tt_download_opts *o, tt_download_stats *st, tt_err *err)
{
    memset(st, 0, sizeof *st);
    if (!o->symbol || !o->symbol[0] || !o->dir)
        return tt_err_set(err, TT_EINVAL, "download: symbol and dir are required");
    if (o->to <= o->from)
        return tt_err_set(err, TT_EINVAL,
                          "download: empty time range (--to must be after --from)");
    dl d = {0};
    int rc = duka_symbol(o->symbol, d.sym, sizeof d.sym, err);
    if (rc)
        return rc;
    d.o = o;
    d.st = st;
    snprintf(d.base, sizeof d.base, "%s", o->base_url ? o->base_url : TT_DUKA_DEFAULT_BASE_URL);
    size_t bl = strlen(d.base);
    while (bl > 0 && d.base[bl - 1] == '/')
        d.base[--bl] = '\0';
    if ((rc = plan_files(&d, err)) != TT_OK)
        return rc;
    skip_complete(&d);
    progress(&d);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(d.f);
        return tt_err_set(err, TT_ENET, "libcurl: global init failed");
    }
    d.m = curl_multi_init();
    if (!d.m) {
        curl_global_cleanup();
        free(d.f);
        return tt_err_set(err, TT_ENET, "libcurl: cannot create a multi handle");
    }
    d.jobs = o->jobs > 0 ? o->jobs : 4;
    d.retries = o->retries >= 0 ? o->retries : 5;
    d.backoff = (o->backoff_ms > 0 ? o->backoff_ms : 500) / 1000.0;
    rc = run_transfers(&d, err);
    for (size_t i = 0; i < d.n; i++) {
        if (d.f[i].h) {
            curl_multi_remove_handle(d.m, d.f[i].h);
            curl_easy_cleanup(d.f[i].h);
        }
        free(d.f[i].body);
    }
    curl_multi_cleanup(d.m);
    curl_global_cleanup();
    tt_bi5_buf_free(&d.scratch);
    if (rc == TT_OK)
        report_gaps(&d);
    free(d.f);
    if (rc)
        return rc;
    if (st->failed)
        return tt_err_set(err, TT_EPARTIAL, "%" PRIu64 " file(s) failed (first: %s)", st->failed,
                          d.first_fail);
    return TT_OK;
}
