/*
 * The Kafka source: one consumer, one poll thread. The thread polls with a
 * 100 ms timeout so that close() is noticed promptly; decoding happens on it,
 * like the NATS callbacks, so the engine thread only takes finished events
 * from the inbox.
 *
 * Offsets (see kafka_source.h for the guarantees). Every pushed tick leaves a
 * (seq, partition, offset) entry in a FIFO. The journal's writing thread
 * asks for a note before it cuts a block (the offsets of everything up to
 * the block's last seq: the FIFO is in seq order) and reports the block
 * durable after writing it; the entries up to that seq then leave the FIFO
 * and their offsets are committed. One mutex guards the FIFO and the
 * per-partition state; the poll thread and the journal's thread are the only
 * users, each briefly.
 */
#include "kafka_source.h"

#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "kafka_conf.h"
#include "wire.h"

#define TT_KAFKA_MAX_PARTITIONS 4096
#define TT_KAFKA_META "ticktape-journal:"

typedef struct pending {
    uint64_t seq;
    int32_t partition;
    int64_t offset;
} pending;

typedef struct part_state {
    int64_t next;   /* the next offset this session takes (-1: any) */
    int64_t noted;  /* next offset as of the last journal note (-1: none) */
} part_state;

struct tt_kafka_source {
    tt_kafka_source_opts o;
    char topic[256];
    char journal[4096]; /* absolute journal directory, "" without one */
    rd_kafka_t *rk;
    pthread_t th;
    int started;
    atomic_int quit;
    atomic_ullong received, ticks, rejected, errors, duplicates, committed, resumed;
    pthread_mutex_t mu;
    pending *fifo;
    size_t head, n, cap;
    part_state *parts;
    int32_t nparts;
};

static void klog(tt_kafka_source *s, const char *line)
{
    if (s->o.log)
        s->o.log(s->o.log_ctx, line);
}

/* Under mu: the state of partition p, created on first use. */
static part_state *part_locked(tt_kafka_source *s, int32_t p)
{
    if (p < 0 || p >= TT_KAFKA_MAX_PARTITIONS)
        return NULL;
    if (p >= s->nparts) {
        part_state *np = realloc(s->parts, (size_t)(p + 1) * sizeof *np);
        if (!np)
            return NULL;
        for (int32_t i = s->nparts; i <= p; i++)
            np[i] = (part_state){-1, -1};
        s->parts = np;
        s->nparts = p + 1;
    }
    return &s->parts[p];
}

/* Commit the given offsets (the next offset to read, per partition) with this
 * session's journal as metadata. */
static void commit(tt_kafka_source *s, rd_kafka_topic_partition_list_t *l, int async)
{
    for (int i = 0; i < l->cnt; i++) {
        if (s->journal[0]) {
            char meta[sizeof s->journal + 32];
            int n = snprintf(meta, sizeof meta, "%s%s", TT_KAFKA_META, s->journal);
            l->elems[i].metadata = malloc((size_t)n);
            if (l->elems[i].metadata) {
                memcpy(l->elems[i].metadata, meta, (size_t)n);
                l->elems[i].metadata_size = (size_t)n;
            }
        }
    }
    rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, l, async);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        char line[256];
        snprintf(line, sizeof line, "kafka: offset commit failed: %s", rd_kafka_err2str(e));
        klog(s, line);
    }
}

void tt_kafka_source_note(void *self, uint64_t seq, uint8_t **note, uint32_t *len)
{
    tt_kafka_source *s = self;
    *note = NULL;
    *len = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++) {
        const pending *e = &s->fifo[(s->head + i) % s->cap];
        if (e->seq > seq)
            break;
        part_state *ps = part_locked(s, e->partition);
        if (ps && e->offset + 1 > ps->noted)
            ps->noted = e->offset + 1;
    }
    /* every partition this journal has taken from: the last note is complete */
    size_t cap = 64 + (size_t)s->nparts * (strlen(s->topic) + 48);
    char *t = malloc(cap);
    if (t) {
        size_t o = (size_t)snprintf(t, cap, "ticktape kafka offsets 1\n");
        for (int32_t p = 0; p < s->nparts; p++)
            if (s->parts[p].noted >= 0)
                o += (size_t)snprintf(t + o, cap - o, "%s %d %lld\n", s->topic, (int)p,
                                      (long long)s->parts[p].noted);
        *note = (uint8_t *)t;
        *len = (uint32_t)o;
    }
    pthread_mutex_unlock(&s->mu);
}

void tt_kafka_source_durable(void *self, uint64_t seq)
{
    tt_kafka_source *s = self;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    uint64_t k = 0;
    pthread_mutex_lock(&s->mu);
    while (s->n && s->fifo[s->head].seq <= seq) {
        const pending *e = &s->fifo[s->head];
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, s->topic, e->partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(l, s->topic, e->partition);
        if (e->offset + 1 > tp->offset)
            tp->offset = e->offset + 1;
        s->head = (s->head + 1) % s->cap;
        s->n--;
        k++;
    }
    pthread_mutex_unlock(&s->mu);
    if (l->cnt) {
        commit(s, l, 0); /* synchronous: on the journal's thread, once per block */
        atomic_fetch_add(&s->committed, k);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Remember a pushed tick (journal mode), or store its offset for
 * librdkafka's periodic commit (no journal: committed once in the inbox). */
static void track(tt_kafka_source *s, rd_kafka_topic_t *rkt, uint64_t seq, int32_t partition,
                  int64_t offset)
{
    if (!s->journal[0]) {
        rd_kafka_offset_store(rkt, partition, offset);
        atomic_fetch_add(&s->committed, 1);
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4096;
        pending *nf = malloc(nc * sizeof *nf);
        if (nf) {
            for (size_t i = 0; i < s->n; i++)
                nf[i] = s->fifo[(s->head + i) % s->cap];
            free(s->fifo);
            s->fifo = nf;
            s->head = 0;
            s->cap = nc;
        }
    }
    if (s->n < s->cap) /* out of memory: not committed, so redelivered: at least once */
        s->fifo[(s->head + s->n++) % s->cap] = (pending){seq, partition, offset};
    pthread_mutex_unlock(&s->mu);
}

/* Is this message one this session already took (a redelivery)? */
static int duplicate(tt_kafka_source *s, int32_t partition, int64_t offset)
{
    pthread_mutex_lock(&s->mu);
    part_state *ps = part_locked(s, partition);
    int dup = ps && ps->next >= 0 && offset < ps->next;
    if (ps && !dup)
        ps->next = offset + 1;
    pthread_mutex_unlock(&s->mu);
    return dup;
}

/* The next offsets a journal's last note records for this topic, into
 * resume[partition] (kept when larger). */
static void read_note(tt_kafka_source *s, const char *dir, int64_t *resume, int32_t n)
{
    char *note = NULL;
    size_t len = 0;
    tt_err err;
    if (tt_journal_last_note(dir, &note, &len, &err) || !note)
        return;
    char *save = NULL;
    for (char *l = strtok_r(note, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char topic[256];
        int p;
        long long off;
        if (sscanf(l, "%255s %d %lld", topic, &p, &off) == 3 && !strcmp(topic, s->topic) &&
            p >= 0 && p < n && off > resume[p])
            resume[p] = off;
    }
    free(note);
}

/* Partitions assigned: resume each one after what the journals of earlier
 * sessions hold (see kafka_source.h), commit the resume points with this
 * session's journal, and start the dedup state there. */
static void on_assign(tt_kafka_source *s, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_committed(s->rk, parts, 10000);
    int32_t maxp = 0;
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].partition + 1 > maxp)
            maxp = parts->elems[i].partition + 1;
    if (maxp > TT_KAFKA_MAX_PARTITIONS)
        maxp = TT_KAFKA_MAX_PARTITIONS;
    int64_t *resume = malloc((size_t)(maxp ? maxp : 1) * sizeof *resume);
    for (int32_t p = 0; resume && p < maxp; p++)
        resume[p] = -1;
    /* every journal named by a committed offset's metadata (usually one) */
    for (int i = 0; resume && i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        size_t ml = strlen(TT_KAFKA_META);
        if (!tp->metadata || tp->metadata_size <= ml || tp->metadata_size > 4096 + ml ||
            memcmp(tp->metadata, TT_KAFKA_META, ml))
            continue;
        char dir[4200];
        snprintf(dir, sizeof dir, "%.*s", (int)(tp->metadata_size - ml),
                 (const char *)tp->metadata + ml);
        int seen = 0;
        for (int k = 0; k < i && !seen; k++)
            seen = parts->elems[k].metadata_size == tp->metadata_size &&
                   !memcmp(parts->elems[k].metadata, tp->metadata, tp->metadata_size);
        if (!seen && strcmp(dir, s->journal))
            read_note(s, dir, resume, maxp);
    }
    rd_kafka_topic_partition_list_t *start = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int32_t p = tp->partition;
        if (resume && p < maxp && resume[p] >= 0 && (tp->offset < 0 || resume[p] > tp->offset)) {
            tp->offset = resume[p];
            atomic_fetch_add(&s->resumed, 1);
        }
        if (tp->offset < 0) { /* nothing committed: where the reset policy starts */
            int64_t lo = 0, hi = 0;
            if (!rd_kafka_query_watermark_offsets(s->rk, tp->topic, p, &lo, &hi, 10000))
                tp->offset = s->o.from_beginning ? lo : hi;
        }
        pthread_mutex_lock(&s->mu);
        part_state *ps = part_locked(s, p);
        if (ps)
            ps->next = tp->offset >= 0 ? tp->offset : -1;
        pthread_mutex_unlock(&s->mu);
        if (tp->offset >= 0)
            rd_kafka_topic_partition_list_add(start, tp->topic, p)->offset = tp->offset;
    }
    free(resume);
    rd_kafka_assign(s->rk, parts);
    if (start->cnt && s->journal[0])
        commit(s, start, 0); /* before any tick: from now on the chain names our journal */
    rd_kafka_topic_partition_list_destroy(start);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    tt_kafka_source *s = opaque;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(s, parts);
        return;
    }
    /* Revoked: ticks of these partitions not yet durable will not be
     * committed by us (their next owner starts at the committed offset). */
    pthread_mutex_lock(&s->mu);
    size_t keep = 0;
    for (size_t i = 0; i < s->n; i++) {
        pending e2 = s->fifo[(s->head + i) % s->cap];
        int revoked = rd_kafka_topic_partition_list_find(parts, s->topic, e2.partition) != NULL;
        if (!revoked)
            s->fifo[(s->head + keep++) % s->cap] = e2;
    }
    s->n = keep;
    for (int i = 0; i < parts->cnt; i++) {
        part_state *ps = part_locked(s, parts->elems[i].partition);
        if (ps)
            *ps = (part_state){-1, ps->noted};
    }
    pthread_mutex_unlock(&s->mu);
    rd_kafka_assign(rk, NULL);
}

static tt_ts wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (tt_ts)t.tv_sec * TT_NS_PER_SEC + t.tv_nsec;
}

static void *poll_loop(void *arg)
{
    tt_kafka_source *s = arg;
    while (!atomic_load(&s->quit)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 100);
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                unsigned long long n = atomic_fetch_add(&s->errors, 1) + 1;
                if (n <= 20) {
                    char line[512];
                    snprintf(line, sizeof line, "kafka: consumer error: %s",
                             rd_kafka_message_errstr(m));
                    klog(s, line);
                }
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        atomic_fetch_add(&s->received, 1);
        tt_event ev;
        tt_err err;
        int dup = duplicate(s, m->partition, m->offset), rc = 0;
        if (!dup) {
            rc = tt_wire_tick_decode_keyed(m->payload, m->len, m->key, m->key_len, s->o.ins, &ev,
                                           &err);
            if (!rc && s->o.source_of &&
                !(ev.source = s->o.source_of(s->o.source_ctx, m->payload, m->len)))
                rc = tt_err_set(&err, TT_EFORMAT,
                                "TickData: no source of this feed in field 'source'");
            if (!rc)
                rc = tt_wire_check_time(&ev, wall_now(), s->o.max_tick_age, TT_WIRE_TICK_AHEAD,
                                        &err);
        }
        if (dup) {
            atomic_fetch_add(&s->duplicates, 1);
        } else if (rc) {
            char origin[320], topic[256];
            const char *tn = rd_kafka_topic_name(m->rkt);
            tt_str_escape(topic, sizeof topic, tn, strlen(tn));
            snprintf(origin, sizeof origin, "%s[%d]@%lld", topic, (int)m->partition,
                     (long long)m->offset);
            tt_inbox_reject(s->o.inbox, origin, err.msg);
            atomic_fetch_add(&s->rejected, 1); /* after the log line (see nats_source.c) */
        } else {
            uint64_t seq = 0;
            if (tt_inbox_push_ex(s->o.inbox, &ev, NULL, 0, TT_INBOX_NO_DROP, &seq) == 1) {
                atomic_fetch_add(&s->ticks, 1);
                track(s, m->rkt, seq, m->partition, m->offset);
            }
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static int conf_set(rd_kafka_conf_t *c, const char *key, const char *val, tt_err *err)
{
    return tt_kafka_conf_set(c, key, val, err);
}

int tt_kafka_source_open(tt_kafka_source **out, const tt_kafka_source_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!opts || !opts->brokers || !opts->ins || !opts->inbox)
        return tt_err_set(err, TT_EINVAL, "kafka source: brokers, instruments and inbox are required");
    tt_kafka_source *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "kafka source: out of memory");
    s->o = *opts;
    snprintf(s->topic, sizeof s->topic, "%s", opts->topic ? opts->topic : "tick_archive");
    if (opts->journal_dir && !realpath(opts->journal_dir, s->journal))
        snprintf(s->journal, sizeof s->journal, "%s", opts->journal_dir);
    pthread_mutex_init(&s->mu, NULL);
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    int rc = conf_set(c, "bootstrap.servers", opts->brokers, err);
    if (!rc)
        rc = conf_set(c, "group.id", opts->group ? opts->group : "ticktape", err);
    if (!rc)
        rc = conf_set(c, "auto.offset.reset", opts->from_beginning ? "earliest" : "latest", err);
    if (!rc)
        rc = conf_set(c, "client.id", "ticktape", err);
    if (!rc)
        rc = tt_kafka_conf_apply(c, opts->conf, err);
    /* ours, after the user's: offsets are committed by the journal's progress
     * only (without a journal: stored as ticks enter the inbox, committed by
     * librdkafka every few seconds) */
    if (!rc)
        rc = conf_set(c, "enable.auto.commit", s->journal[0] ? "false" : "true", err);
    if (!rc)
        rc = conf_set(c, "enable.auto.offset.store", "false", err);
    if (rc) {
        rd_kafka_conf_destroy(c);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return rc;
    }
    rd_kafka_conf_set_opaque(c, s);
    rd_kafka_conf_set_rebalance_cb(c, on_rebalance);
    char errstr[512];
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    if (!s->rk) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return tt_err_set(err, TT_EINVAL, "kafka consumer: %s", errstr);
    }
    rd_kafka_poll_set_consumer(s->rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, s->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    if (e) {
        rd_kafka_destroy(s->rk);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return tt_err_set(err, TT_ENET, "kafka subscribe %s: %s", opts->topic ? opts->topic
                          : "tick_archive", rd_kafka_err2str(e));
    }
    if (pthread_create(&s->th, NULL, poll_loop, s)) {
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return tt_err_set(err, TT_ENOMEM, "kafka source: cannot start the poll thread");
    }
    s->started = 1;
    *out = s;
    return TT_OK;
}

void tt_kafka_source_stats_get(tt_kafka_source *s, tt_kafka_source_stats *out)
{
    out->received = atomic_load(&s->received);
    out->ticks = atomic_load(&s->ticks);
    out->rejected = atomic_load(&s->rejected);
    out->errors = atomic_load(&s->errors);
    out->duplicates = atomic_load(&s->duplicates);
    out->committed = atomic_load(&s->committed);
    out->resumed = atomic_load(&s->resumed);
}

void tt_kafka_source_close(tt_kafka_source *s)
{
    if (!s)
        return;
    atomic_store(&s->quit, 1);
    if (s->started)
        pthread_join(s->th, NULL);
    char line[256];
    snprintf(line, sizeof line,
             "kafka: %llu ticks taken, %llu committed, %llu duplicates skipped, %llu partitions "
             "resumed from a journal note",
             (unsigned long long)atomic_load(&s->ticks),
             (unsigned long long)atomic_load(&s->committed),
             (unsigned long long)atomic_load(&s->duplicates),
             (unsigned long long)atomic_load(&s->resumed));
    klog(s, line);
    rd_kafka_consumer_close(s->rk);
    rd_kafka_destroy(s->rk);
    free(s->fifo);
    free(s->parts);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
