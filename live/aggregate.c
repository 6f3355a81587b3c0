/*
 * The aggregator (aggregate.h): the NATS source with a source id per
 * subject, an inbox that keeps those ids and journals every input, and a
 * consumer loop that feeds the consolidator and publishes what comes out.
 *
 * Threads. nats.c's delivery thread decodes, names the source (under `mu`:
 * the table of names grows when a new source shows up) and pushes into the
 * inbox, which stamps. The consumer (the caller of tt_aggregator_run) takes
 * the events in stamp order: the inbox has journaled each one before handing
 * it over; the consumer journals a source's name at its first tick, pushes
 * the tick into the consolidator (under `cmu`, which the health snapshot
 * takes too), and the consolidator's callbacks write the output line,
 * publish and journal the events. All journal writes happen on the consumer
 * thread, so their times never go back.
 *
 * Output lines come from one function for the live run and the replay
 * (out_quote, out_event), so the two cannot format differently.
 */
#include "aggregate.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../data/json.h"
#include "inbox.h"
#include "journal.h"
#include "kafka_source.h"
#include "nats_source.h"
#include "tick_data.pb-c.h"
#include "wallclock.h"

#define NAME_MAX_LEN 48

/* What both the live run and the replay need to write output lines. */
typedef struct agg_out {
    const tt_instruments *ins;
    char names[TT_CONSOL_MAX_SOURCES][NAME_MAX_LEN];
    const char *namep[TT_CONSOL_MAX_SOURCES];
    void (*on_output)(void *ctx, const char *line, size_t len);
    void *ctx;
    uint64_t merged, events;
    /* live only */
    tt_aggregator *live;
    /* replay only: the journaled events, checked in order */
    char **expect;
    uint64_t nexpect, next_expect, mismatches;
} agg_out;

struct tt_aggregator {
    tt_aggregator_opts o;
    tt_wallclock clock;
    tt_inbox *q;
    tt_journal *j;
    tt_nats_source *ns;
    tt_kafka_source *ks; /* tick_archive, when given */
    natsConnection *nc;
    tt_consolidator *c;
    pthread_mutex_t mu;  /* the source table (NATS thread and consumer) */
    pthread_mutex_t cmu; /* the consolidator (consumer and health snapshots) */
    int nsources, fixed;
    int announced[TT_CONSOL_MAX_SOURCES];
    agg_out out;
    int64_t next_quality;
    /* per (symbol, source): the counts at the last QualityMetrics */
    uint64_t (*qprev)[TT_CONSOL_MAX_SOURCES][2];
    uint32_t qcap;
    double proc_ns, proc_n, q_proc_ns, q_proc_n;
    atomic_ullong published, publish_failed, journaled;
    tt_err fail;
    int failed;
};

/* ---- output lines ---- */

static void put_line(agg_out *w, const char *line, size_t len)
{
    if (w->on_output)
        w->on_output(w->ctx, line, len);
}

static size_t quote_line(const agg_out *w, const tt_consol_quote *q, uint64_t n, char *buf,
                         size_t cap)
{
    const tt_instrument *in = tt_instruments_get(w->ins, q->symbol);
    char t[48], bid[40], ask[40], bf[400], af[400];
    tt_ts_format(q->ts, t, sizeof t, 1);
    tt_price_format(in, q->q.bid, bid, sizeof bid);
    tt_price_format(in, q->q.ask, ask, sizeof ask);
    tt_consol_sources_text(q->bid_from, w->namep, bf, sizeof bf);
    tt_consol_sources_text(q->ask_from, w->namep, af, sizeof af);
    int k = snprintf(buf, cap,
                     "{\"tick\":%" PRIu64 ",\"time\":\"%s\",\"symbol\":\"%s\",\"bid\":%s,"
                     "\"ask\":%s,\"bid_from\":\"%s\",\"ask_from\":\"%s\",\"crossed\":%s}\n",
                     n, t, in ? in->symbol : "?", bid, ask, bf, af, q->crossed ? "true" : "false");
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

static void publish_tick(tt_aggregator *a, const tt_consol_quote *q);
static void publish_event(tt_aggregator *a, const tt_consol_event *e, const char *json,
                          size_t len);

static void out_quote(void *ctx, const tt_consol_quote *q)
{
    agg_out *w = ctx;
    char line[1024];
    ++w->merged;
    size_t n = w->on_output ? quote_line(w, q, w->merged, line, sizeof line) : 0;
    if (n)
        put_line(w, line, n);
    if (w->live)
        publish_tick(w->live, q);
}

static void out_event(void *ctx, const tt_consol_event *e)
{
    agg_out *w = ctx;
    const tt_instrument *in = tt_instruments_get(w->ins, e->symbol);
    char json[600];
    size_t n = tt_consol_event_json(e, w->namep, in ? in->symbol : "?", json, sizeof json - 1);
    w->events++;
    if (!n)
        return;
    if (w->live)
        publish_event(w->live, e, json, n);
    if (w->expect) { /* replay: the same event as journaled */
        if (w->next_expect >= w->nexpect || strcmp(w->expect[w->next_expect], json))
            w->mismatches++;
        w->next_expect++;
    }
    json[n] = '\n';
    put_line(w, json, n + 1);
}

static void out_init(agg_out *w, const tt_instruments *ins,
                     void (*on_output)(void *, const char *, size_t), void *ctx)
{
    memset(w, 0, sizeof *w);
    w->ins = ins;
    w->on_output = on_output;
    w->ctx = ctx;
    for (int i = 0; i < TT_CONSOL_MAX_SOURCES; i++)
        w->namep[i] = w->names[i];
}

/* ---- the configuration record ---- */

static size_t config_json(const tt_consol_config *cfg, const char *const *names, int n,
                          char *buf, size_t cap)
{
    int k = snprintf(buf, cap,
                     "{\"policy\":\"%s\",\"stale_ns\":%" PRId64 ",\"recover_ns\":%" PRId64
                     ",\"recover_ticks\":%u,\"deviation_k\":%.17g,\"spread_k\":%.17g,"
                     "\"rate_ratio\":%.17g,\"sources\":[",
                     tt_consol_policy_name(cfg->policy), (int64_t)cfg->stale,
                     (int64_t)cfg->recover, cfg->recover_ticks, cfg->deviation_k, cfg->spread_k,
                     cfg->rate_ratio);
    for (int i = 0; i < n && k > 0 && (size_t)k < cap; i++)
        k += snprintf(buf + k, cap - (size_t)k, "%s\"%s\"", i ? "," : "", names[i]);
    if (k > 0 && (size_t)k < cap)
        k += snprintf(buf + k, cap - (size_t)k, "]}");
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

/* A number member of obj into *out; 0, or -1 when absent or not a number. */
static int json_num(const tt_json *doc, const tt_json_node *obj, const char *key, double *out)
{
    const tt_json_node *n = tt_json_get(doc, obj, key);
    return n && tt_json_double(doc, n, out, NULL) == TT_OK ? 0 : -1;
}

static int config_parse(const char *text, size_t len, tt_consol_config *cfg, tt_err *err)
{
    tt_json doc;
    int rc = tt_json_parse(&doc, text, len, err);
    if (rc)
        return rc;
    const tt_json_node *root = tt_json_root(&doc);
    memset(cfg, 0, sizeof *cfg);
    char word[32];
    const tt_json_node *p = tt_json_get(&doc, root, "policy");
    double st, rv, rt;
    if (!p || tt_json_string(&doc, p, word, sizeof word, NULL) ||
        !(cfg->policy = tt_consol_policy_parse(word)) || json_num(&doc, root, "stale_ns", &st) ||
        json_num(&doc, root, "recover_ns", &rv) || json_num(&doc, root, "recover_ticks", &rt) ||
        json_num(&doc, root, "deviation_k", &cfg->deviation_k) ||
        json_num(&doc, root, "spread_k", &cfg->spread_k) ||
        json_num(&doc, root, "rate_ratio", &cfg->rate_ratio)) {
        rc = tt_err_set(err, TT_EFORMAT, "aggregator journal: a configuration record without "
                        "policy, stale_ns, recover_ns, recover_ticks, deviation_k, spread_k or "
                        "rate_ratio");
    } else {
        cfg->stale = (tt_ts)st;
        cfg->recover = (tt_ts)rv;
        cfg->recover_ticks = (uint32_t)rt;
    }
    tt_json_free(&doc);
    return rc;
}

static int journal_blob(tt_aggregator *a, uint32_t type, tt_ts ts, const char *data, size_t len)
{
    if (!a->j)
        return TT_OK;
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = ev.ts_init = ts;
    ev.kind = TT_EV_BLOB;
    ev.cls = TT_CLS_EXTERNAL;
    ev.u.blob.type = type;
    ev.u.blob.len = (uint32_t)len;
    ev.u.blob.data = (const uint8_t *)data;
    int rc = tt_journal_append(a->j, &ev, &a->fail);
    if (rc && !a->failed)
        a->failed = rc;
    else
        atomic_fetch_add(&a->journaled, 1);
    return rc;
}

/* ---- publishing ---- */

static void publish_tick(tt_aggregator *a, const tt_consol_quote *q)
{
    if (a->o.no_publish || !a->nc)
        return;
    const tt_instrument *in = tt_instruments_get(a->o.ins, q->symbol);
    if (!in)
        return;
    char src[400], subj[128];
    tt_consol_sources_text(q->bid_from | q->ask_from, a->out.namep, src, sizeof src);
    Aitrading__Common__TickData t = AITRADING__COMMON__TICK_DATA__INIT;
    t.symbol = (char *)in->symbol;
    t.bid = tt_price_to_double(in, q->q.bid);
    t.ask = tt_price_to_double(in, q->q.ask);
    t.spread = tt_price_to_double(in, q->q.ask - q->q.bid);
    t.volume = llround((double)q->q.bid_vol * 1e6);
    t.timestamp = q->ts_init / TT_NS_PER_MS;
    t.source = src;
    uint8_t buf[512];
    size_t n = aitrading__common__tick_data__get_packed_size(&t);
    if (n > sizeof buf)
        return;
    aitrading__common__tick_data__pack(&t, buf);
    snprintf(subj, sizeof subj, "ticks.%s", in->symbol);
    if (natsConnection_Publish(a->nc, subj, buf, (int)n) == NATS_OK)
        atomic_fetch_add(&a->published, 1);
    else
        atomic_fetch_add(&a->publish_failed, 1);
}

static void publish_event(tt_aggregator *a, const tt_consol_event *e, const char *json,
                          size_t len)
{
    journal_blob(a, TT_AGG_EVENT, e->ts, json, len);
    if (a->o.no_publish || !a->nc)
        return;
    const tt_instrument *in = tt_instruments_get(a->o.ins, e->symbol);
    const char *sym = in ? in->symbol : "_";
    char subj[128];
    switch (e->kind) {
    case TT_CONSOL_STATE:
        snprintf(subj, sizeof subj, "sources.state.%s", a->out.names[e->source]);
        break;
    case TT_CONSOL_FAILOVER: snprintf(subj, sizeof subj, "sources.failover.%s", sym); break;
    case TT_CONSOL_FAILBACK: snprintf(subj, sizeof subj, "sources.failback.%s", sym); break;
    default: snprintf(subj, sizeof subj, "sources.cross.%s", sym); break;
    }
    if (natsConnection_Publish(a->nc, subj, json, (int)len) == NATS_OK)
        atomic_fetch_add(&a->published, 1);
    else
        atomic_fetch_add(&a->publish_failed, 1);
}

/* QualityMetrics per source and symbol: the quotes that passed and failed the
 * health rules since the last ones, and the mean processing time. */
static void publish_quality(tt_aggregator *a)
{
    uint32_t ns = tt_consolidator_symbol_count(a->c);
    double ms = a->q_proc_n > 0 ? a->q_proc_ns / a->q_proc_n / 1e6 : 0;
    a->q_proc_ns = a->q_proc_n = 0;
    for (uint32_t i = 0; i < ns; i++) {
        uint32_t id = tt_consolidator_symbol_at(a->c, i);
        if (id >= a->qcap) {
            uint32_t cap = a->qcap ? a->qcap : 16;
            while (cap <= id)
                cap *= 2;
            void *v = realloc(a->qprev, cap * sizeof *a->qprev);
            if (!v)
                return;
            a->qprev = v;
            memset(a->qprev + a->qcap, 0, (cap - a->qcap) * sizeof *a->qprev);
            a->qcap = cap;
        }
        const tt_instrument *in = tt_instruments_get(a->o.ins, id);
        for (int s = 0; s < a->nsources; s++) {
            tt_feed_health h;
            if (tt_consolidator_health(a->c, id, s, &h) || !h.ticks)
                continue;
            uint64_t *prev = a->qprev[id][s];
            Aitrading__Common__QualityMetrics m = AITRADING__COMMON__QUALITY_METRICS__INIT;
            m.validation_passed = (int32_t)((h.ticks - h.bad) - prev[0]);
            m.validation_failed = (int32_t)(h.bad - prev[1]);
            m.processing_time_ms = ms;
            prev[0] = h.ticks - h.bad;
            prev[1] = h.bad;
            uint8_t buf[64];
            size_t n = aitrading__common__quality_metrics__pack(&m, buf);
            char subj[128];
            snprintf(subj, sizeof subj, "quality.%s.%s", a->out.names[s], in ? in->symbol : "_");
            if (natsConnection_Publish(a->nc, subj, buf, (int)n) == NATS_OK)
                atomic_fetch_add(&a->published, 1);
            else
                atomic_fetch_add(&a->publish_failed, 1);
        }
    }
}

/* ---- sources ---- */

/* A source name: 1..NAME_MAX_LEN-1 letters, digits, '_' or '-' (it goes into
 * subjects and JSON as it is). */
static int name_ok(const char *s, size_t n)
{
    if (!n || n >= NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* 1 + the index of the source named p[0..n) (taken on when new and allowed),
 * 0 when refused. Any feed's thread. */
static uint16_t source_id(tt_aggregator *a, const char *p, size_t n)
{
    if (!name_ok(p, n))
        return 0;
    uint16_t id = 0;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < a->nsources && !id; i++)
        if (!strncmp(a->out.names[i], p, n) && !a->out.names[i][n])
            id = (uint16_t)(i + 1);
    if (!id && !a->fixed && a->nsources < TT_CONSOL_MAX_SOURCES) {
        memcpy(a->out.names[a->nsources], p, n);
        a->out.names[a->nsources][n] = '\0';
        id = (uint16_t)++a->nsources;
    }
    pthread_mutex_unlock(&a->mu);
    return id;
}

/* nats.c's thread: ticks.{SOURCE}.{SYMBOL} -> the source. */
static uint16_t nats_source_of(void *ctx, const char *subject)
{
    const char *p = subject + 6; /* "ticks." */
    const char *dot = strncmp(subject, "ticks.", 6) ? NULL : strchr(p, '.');
    if (!dot || strchr(dot + 1, '.'))
        return 0;
    return source_id(ctx, p, (size_t)(dot - p));
}

/* The Kafka poll thread: a TickData's source field -> the source. */
static uint16_t kafka_source_of(void *ctx, const void *data, size_t len)
{
    Aitrading__Common__TickData *t = aitrading__common__tick_data__unpack(NULL, len, data);
    if (!t)
        return 0;
    uint16_t id = t->source ? source_id(ctx, t->source, strlen(t->source)) : 0;
    aitrading__common__tick_data__free_unpacked(t, NULL);
    return id;
}

/* The consumer: journal a source's name before its first tick is merged. */
static void announce(tt_aggregator *a, int s, tt_ts ts)
{
    if (a->announced[s])
        return;
    a->announced[s] = 1;
    char rec[NAME_MAX_LEN + 16];
    pthread_mutex_lock(&a->mu);
    int n = snprintf(rec, sizeof rec, "%d %s", s, a->out.names[s]);
    pthread_mutex_unlock(&a->mu);
    journal_blob(a, TT_AGG_SOURCE, ts, rec, (size_t)n);
}

/* ---- open, run, stop, close ---- */

static void ilog(void *ctx, const char *line)
{
    tt_aggregator *a = ctx;
    if (a->o.log)
        a->o.log(a->o.log_ctx, line);
}

int tt_aggregator_open(tt_aggregator **out, const tt_aggregator_opts *o, tt_err *err)
{
    *out = NULL;
    if (!o->nats_url || !o->ins)
        return tt_err_set(err, TT_EINVAL, "aggregate: a NATS URL and instruments are required");
    tt_aggregator *a = calloc(1, sizeof *a);
    if (!a)
        return tt_err_set(err, TT_ENOMEM, "aggregate: out of memory");
    a->o = *o;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->cmu, NULL);
    out_init(&a->out, o->ins, o->on_output, o->out_ctx);
    a->out.live = a;
    for (const char *const *s = o->sources; s && *s; s++) {
        if (a->nsources == TT_CONSOL_MAX_SOURCES || !name_ok(*s, strlen(*s))) {
            tt_aggregator_close(a, NULL);
            return tt_err_set(err, TT_EINVAL, "aggregate: source '%s': at most %d names of "
                              "1..%d letters, digits, '_' or '-'", *s, TT_CONSOL_MAX_SOURCES,
                              NAME_MAX_LEN - 1);
        }
        snprintf(a->out.names[a->nsources++], NAME_MAX_LEN, "%s", *s);
    }
    a->fixed = a->nsources > 0;
    tt_consol_config cfg = o->cfg;
    cfg.nsources = TT_CONSOL_MAX_SOURCES; /* indexes beyond the known ones stay unseen */
    tt_wallclock_init(&a->clock);
    int rc = tt_consolidator_new(&a->c, &cfg, err);
    if (!rc && o->journal_dir) {
        tt_journal_opts jo = {.fsync = o->journal_fsync};
        rc = tt_journal_open(&a->j, o->journal_dir, o->ins, &jo, err);
    }
    if (!rc) {
        char rec[2048];
        size_t n = config_json(tt_consolidator_config(a->c), a->out.namep, a->nsources, rec,
                               sizeof rec);
        rc = journal_blob(a, TT_AGG_CONFIG, tt_wallclock_now(&a->clock), rec, n);
        if (rc)
            *err = a->fail;
    }
    tt_inbox_opts io = {.capacity = o->queue_capacity, .keep_source = 1, .clock = &a->clock,
                        .spin_ns = o->spin_ns, .log = ilog, .log_ctx = a};
    if (a->j)
        io.tap = tt_journal_sink(a->j);
    if (!rc)
        rc = tt_inbox_new(&a->q, &io, err);
    tt_nats_source_opts no = {.url = o->nats_url, .auth = o->nats_auth,
                              .subjects = (const char *const[]){"ticks.*.*", NULL},
                              .ins = o->ins, .inbox = a->q, .log = ilog, .log_ctx = a,
                              .source_of = nats_source_of, .source_ctx = a};
    if (!rc)
        rc = tt_nats_source_open(&a->ns, &no, err);
    tt_kafka_source_opts ko = {.brokers = o->kafka_brokers, .group = o->kafka_group,
                               .from_beginning = o->kafka_from_beginning, .conf = o->kafka_conf,
                               .ins = o->ins, .inbox = a->q, .log = ilog, .log_ctx = a,
                               .source_of = kafka_source_of, .source_ctx = a};
    if (!rc && o->kafka_brokers)
        rc = tt_kafka_source_open(&a->ks, &ko, err);
    if (rc) {
        tt_aggregator_close(a, NULL);
        return rc;
    }
    a->nc = tt_nats_source_connection(a->ns);
    tt_consolidator_listen(a->c, out_quote, out_event, &a->out);
    *out = a;
    return TT_OK;
}

static void on_tick(tt_aggregator *a, const tt_event *ev)
{
    int s = ev->source - 1;
    announce(a, s, ev->ts);
    int64_t t0 = tt_mono_ns();
    pthread_mutex_lock(&a->cmu);
    tt_err e;
    int rc = tt_consolidator_push(a->c, s, ev, &e);
    pthread_mutex_unlock(&a->cmu);
    if (rc < 0 && !a->failed) {
        a->failed = rc;
        a->fail = e;
    }
    double d = (double)(tt_mono_ns() - t0);
    a->proc_ns += d;
    a->proc_n++;
    a->q_proc_ns += d;
    a->q_proc_n++;
}

int tt_aggregator_run(tt_aggregator *a, tt_err *err)
{
    tt_source src = tt_inbox_source(a->q);
    int64_t every = a->o.quality_every_ns > 0 ? a->o.quality_every_ns : TT_NS_PER_SEC;
    a->next_quality = tt_wallclock_now(&a->clock) + every;
    for (;;) {
        tt_event ev;
        int rc = src.next(src.self, &ev, err);
        if (rc < 0)
            return rc;
        if (rc == TT_SRC_END)
            break;
        if (rc == TT_SRC_EVENT && ev.kind == TT_EV_QUOTE && ev.source >= 1)
            on_tick(a, &ev);
        if (a->failed) {
            *err = a->fail;
            return a->failed;
        }
        tt_ts now = rc == TT_SRC_EVENT ? ev.ts : tt_wallclock_now(&a->clock);
        if (now >= a->next_quality && !a->o.no_publish) {
            pthread_mutex_lock(&a->cmu);
            publish_quality(a);
            pthread_mutex_unlock(&a->cmu);
            a->next_quality = now + every;
        }
    }
    if (a->nc)
        natsConnection_FlushTimeout(a->nc, 2000);
    return TT_OK;
}

void tt_aggregator_stop(tt_aggregator *a) { tt_inbox_stop(a->q); }

void tt_aggregator_stats_get(tt_aggregator *a, tt_aggregator_stats *out)
{
    memset(out, 0, sizeof *out);
    tt_inbox_stats is;
    tt_inbox_stats_get(a->q, &is);
    tt_nats_source_stats ns;
    tt_nats_source_stats_get(a->ns, &ns);
    out->received = ns.received;
    if (a->ks) {
        tt_kafka_source_stats ks;
        tt_kafka_source_stats_get(a->ks, &ks);
        out->received += ks.received;
    }
    out->rejected = is.rejected;
    out->dropped = is.dropped + ns.nats_dropped;
    pthread_mutex_lock(&a->cmu);
    out->ticks = (uint64_t)a->proc_n;
    out->merged = a->out.merged;
    out->events = a->out.events;
    out->proc_ns_avg = a->proc_n > 0 ? a->proc_ns / a->proc_n : 0;
    pthread_mutex_unlock(&a->cmu);
    out->published = atomic_load(&a->published);
    out->publish_failed = atomic_load(&a->publish_failed);
    out->journaled = a->j ? tt_journal_count(a->j) : 0;
    pthread_mutex_lock(&a->mu);
    out->sources = (uint32_t)a->nsources;
    pthread_mutex_unlock(&a->mu);
}

int tt_aggregator_close(tt_aggregator *a, tt_err *err)
{
    if (!a)
        return TT_OK;
    tt_nats_source_close(a->ns); /* no callback runs after this */
    tt_kafka_source_close(a->ks);
    int rc = TT_OK;
    if (a->j)
        rc = tt_journal_close(a->j, err);
    tt_inbox_free(a->q);
    tt_consolidator_free(a->c);
    free(a->qprev);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->cmu);
    free(a);
    return rc;
}

/* ---- health ---- */

typedef struct jbuf {
    char *p;
    size_t n, cap;
    int full;
} jbuf;

static void jput(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jput(jbuf *b, const char *fmt, ...)
{
    if (b->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= b->cap - b->n)
        b->full = 1;
    else
        b->n += (size_t)k;
}

/* One source's object: status, active symbols and their states, rate,
 * latency, spread. */
static void health_source(tt_aggregator *a, int s, jbuf *b)
{
    uint32_t ns = tt_consolidator_symbol_count(a->c);
    int up = 0, down = 0, seen = 0;
    double rate = 0, lat = 0, spread = 0;
    int nlat = 0, nspread = 0;
    uint64_t ticks = 0, bad = 0;
    jput(b, "\"%s\":{\"active_symbols\":[", a->out.names[s]);
    for (uint32_t i = 0; i < ns; i++) {
        uint32_t id = tt_consolidator_symbol_at(a->c, i);
        tt_feed_health h;
        if (tt_consolidator_health(a->c, id, s, &h) || h.state == TT_FEED_UNSEEN)
            continue;
        const tt_instrument *in = tt_instruments_get(a->o.ins, id);
        jput(b, "%s{\"symbol\":\"%s\",\"state\":\"%s\",\"reason\":\"%s\",\"spread\":%.10g}",
             seen ? "," : "", in ? in->symbol : "?", tt_feed_state_name(h.state),
             tt_feed_reason_name(h.reason), in ? h.spread / (double)in->points : h.spread);
        seen++;
        up += h.state == TT_FEED_UP;
        down += h.state == TT_FEED_DOWN;
        rate += h.rate;
        ticks += h.ticks;
        bad += h.bad;
        if (h.latency != 0) {
            lat += h.latency;
            nlat++;
        }
        if (in) {
            spread += h.spread / (double)in->points;
            nspread++;
        }
    }
    const char *status = !seen || down == seen ? "down" : up == seen ? "up" : "degraded";
    jput(b, "],\"status\":\"%s\",\"ticks_per_second\":%.3f,\"latency_ms\":%.3f,"
            "\"spread\":%.10g,\"ticks\":%" PRIu64 ",\"failed_validation\":%" PRIu64 "}",
         status, rate, nlat ? lat / nlat / 1e6 : 0.0, nspread ? spread / nspread : 0.0, ticks,
         bad);
}

size_t tt_aggregator_health_json(tt_aggregator *a, char *buf, size_t cap)
{
    jbuf b = {buf, 0, cap, cap == 0};
    char t[48];
    tt_ts_format(tt_wallclock_now(&a->clock), t, sizeof t, 0);
    pthread_mutex_lock(&a->mu);
    int n = a->nsources;
    pthread_mutex_unlock(&a->mu);
    pthread_mutex_lock(&a->cmu);
    jput(&b, "{\"service_name\":\"ticktape-aggregate\",\"timestamp\":\"%s\",\"policy\":\"%s\","
             "\"sources\":{",
         t, tt_consol_policy_name(tt_consolidator_config(a->c)->policy));
    for (int s = 0; s < n; s++) {
        if (s)
            jput(&b, ",");
        health_source(a, s, &b);
    }
    jput(&b, "},\"merged_ticks\":%" PRIu64 ",\"events\":%" PRIu64 "}", a->out.merged,
         a->out.events);
    pthread_mutex_unlock(&a->cmu);
    return b.full ? 0 : b.n;
}

/* ---- replay ---- */

/* Pass 1: the configuration, the sources' names, the journaled events. */
static int replay_scan(const char *dir, const tt_instruments *ins, tt_consol_config *cfg,
                       agg_out *w, int *nsources, tt_aggregator_replay_stats *st, tt_err *err)
{
    tt_journal_reader *r;
    int rc = tt_journal_reader_open(&r, dir, ins, err);
    if (rc)
        return rc;
    int have_cfg = 0;
    size_t cap = 0;
    tt_event ev;
    while ((rc = tt_journal_reader_next(r, &ev, err)) == 1) {
        if (ev.kind != TT_EV_BLOB)
            continue;
        const char *d = (const char *)ev.u.blob.data;
        size_t len = ev.u.blob.len;
        if (ev.u.blob.type == TT_AGG_CONFIG && !have_cfg) {
            if ((rc = config_parse(d, len, cfg, err)))
                break;
            have_cfg = 1;
        } else if (ev.u.blob.type == TT_AGG_SOURCE) {
            int idx;
            char name[NAME_MAX_LEN];
            char rec[NAME_MAX_LEN + 16];
            snprintf(rec, sizeof rec, "%.*s", (int)(len < sizeof rec ? len : sizeof rec - 1), d);
            if (sscanf(rec, "%d %47s", &idx, name) == 2 && idx >= 0 &&
                idx < TT_CONSOL_MAX_SOURCES) {
                snprintf(w->names[idx], NAME_MAX_LEN, "%s", name);
                if (idx + 1 > *nsources)
                    *nsources = idx + 1;
            }
        } else if (ev.u.blob.type == TT_AGG_EVENT) {
            if (w->nexpect == cap) {
                cap = cap ? cap * 2 : 64;
                char **v = realloc(w->expect, cap * sizeof *v);
                if (!v) {
                    rc = tt_err_set(err, TT_ENOMEM, "out of memory (replay)");
                    break;
                }
                w->expect = v;
            }
            if (!(w->expect[w->nexpect] = strndup(d, len))) {
                rc = tt_err_set(err, TT_ENOMEM, "out of memory (replay)");
                break;
            }
            w->nexpect++;
        }
    }
    tt_journal_reader_close(r);
    st->journaled_events = w->nexpect;
    if (rc < 0)
        return rc;
    if (!have_cfg)
        return tt_err_set(err, TT_EFORMAT,
                          "%s: no aggregator configuration record: not an aggregator's journal",
                          dir);
    return TT_OK;
}

int tt_aggregator_replay(const char *dir, const tt_instruments *ins, const tt_consol_config *cfg,
                         void (*on_output)(void *ctx, const char *line, size_t len), void *ctx,
                         tt_aggregator_replay_stats *st, tt_err *err)
{
    memset(st, 0, sizeof *st);
    agg_out w;
    out_init(&w, ins, on_output, ctx);
    tt_consol_config jcfg;
    int nsources = 0;
    int rc = replay_scan(dir, ins, &jcfg, &w, &nsources, st, err);
    tt_consolidator *c = NULL;
    if (!rc) {
        tt_consol_config use = cfg ? *cfg : jcfg;
        use.nsources = TT_CONSOL_MAX_SOURCES;
        rc = tt_consolidator_new(&c, &use, err);
    }
    if (cfg) { /* another configuration: no check against the journaled events */
        for (uint64_t i = 0; i < w.nexpect; i++)
            free(w.expect[i]);
        free(w.expect);
        w.expect = NULL;
        w.nexpect = 0;
    }
    tt_journal_reader *r = NULL;
    if (!rc)
        rc = tt_journal_reader_open(&r, dir, ins, err);
    if (!rc) {
        tt_consolidator_listen(c, out_quote, out_event, &w);
        tt_event ev;
        while ((rc = tt_journal_reader_next(r, &ev, err)) == 1) {
            if (ev.kind != TT_EV_QUOTE || ev.source < 1)
                continue;
            st->ticks++;
            if ((rc = tt_consolidator_push(c, ev.source - 1, &ev, err)) < 0)
                break;
        }
        rc = rc < 0 ? rc : TT_OK;
    }
    tt_journal_reader_close(r);
    tt_consolidator_free(c);
    st->merged = w.merged;
    st->events = w.events;
    st->sources = (uint32_t)nsources;
    if (w.expect)
        st->mismatches = w.mismatches + (w.next_expect < w.nexpect ? w.nexpect - w.next_expect : 0);
    for (uint64_t i = 0; i < w.nexpect; i++)
        free(w.expect[i]);
    free(w.expect);
    if (!rc && st->mismatches)
        rc = tt_err_set(err, TT_ESTATE,
                        "%s: %llu of the events recomputed differ from the journaled ones",
                        dir, (unsigned long long)st->mismatches);
    return rc;
}
