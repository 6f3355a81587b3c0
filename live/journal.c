/*
 * The journal: a thin layer over the tape writer and reader (data/tape.h) for
 * one blob stream, plus the symbol header and the time-based block flush.
 *
 * Background mode: encoding and compressing a block (zstd) takes a
 * millisecond or more, which the engine thread should not spend between two
 * ticks. With opts.background, append copies the event into a bounded queue
 * (65,536 events; the caller waits when it is full: journal events are never
 * dropped) and a writer thread feeds the tape writer. Nothing changes in what
 * is recorded or in which order; an event is in the journal's memory before
 * the engine sees it in both modes, and on disk once its block is written. A
 * writer error is reported by the next append, flush or close.
 *
 * Symbol mapping on replay: the header lists the session's (id, symbol)
 * pairs; the reader builds an id -> id table into the replay's instrument
 * table once, and rewrites ev->symbol per event with one array lookup.
 */
#include "journal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "data/tape.h"

#define TT_JOURNAL_QUEUE 65536 /* background mode: events waiting for the writer */
#define TT_JOURNAL_TAKE 256     /* events the writer takes per lock round trip */

typedef struct jslot {
    tt_event ev;
    uint8_t *payload; /* owned copy of a blob's bytes */
} jslot;

static void *writer_loop(void *arg);

/* Events per block, cut by the journal itself so that it knows when a block
 * (and everything before it) is on disk. */
#define TT_JOURNAL_BLOCK_EVENTS 8192
#define TT_JOURNAL_ZSTD_LEVEL 3
/* A block is also cut after this many payload bytes: the writer's block,
 * copy and compressor buffers stay a few MiB whatever the payloads. */
#define TT_JOURNAL_BLOCK_BYTES (1u << 20)

struct tt_journal {
    tt_tape_writer *w;
    const tt_instruments *ins;
    int header_done;
    tt_journal_opts o;
    tt_ts last_flush, last_ts;
    uint64_t count;
    uint64_t last_seq, durable_seq; /* highest event seq appended / on disk (writing thread) */
    uint32_t since_cut;             /* events appended since the last block */
    uint64_t cut_bytes;             /* payload bytes appended since the last block */
    /* background mode: the caller's thread queues, a writer thread encodes */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t data, space, idle;
    jslot *ring;
    uint32_t head, n;
    uint64_t qbytes; /* payload bytes queued or being written */
    int quit, busy, flush_req;
    int werr;      /* first writer error (code), reported by the next call */
    tt_err werr_msg;
};

static int mkdirs(const char *dir, tt_err *err)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST)
                return tt_err_set(err, TT_EIO, "%s: cannot create: %s", buf, strerror(errno));
            *p = '/';
        }
    }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return tt_err_set(err, TT_EIO, "%s: cannot create: %s", buf, strerror(errno));
    return TT_OK;
}

int tt_journal_open(tt_journal **out, const char *dir, const tt_instruments *ins,
                    const tt_journal_opts *opts, tt_err *err)
{
    *out = NULL;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, TT_JOURNAL_SYMBOL);
    int resume = opts && opts->resume;
    if (stat(path, &st) == 0 && !resume)
        return tt_err_set(err, TT_EINVAL,
                          "%s: already holds a journal; give each session its own directory",
                          dir);
    if (resume && stat(path, &st) != 0)
        return tt_err_set(err, TT_ENOTFOUND, "%s: no journal to continue", dir);
    int rc = mkdirs(dir, err);
    if (rc)
        return rc;
    tt_journal *j = calloc(1, sizeof *j);
    if (!j)
        return tt_err_set(err, TT_ENOMEM, "journal: out of memory");
    if (opts)
        j->o = *opts;
    if (!j->o.flush_interval)
        j->o.flush_interval = TT_NS_PER_SEC;
    if (!j->o.block_events)
        j->o.block_events = TT_JOURNAL_BLOCK_EVENTS;
    if (!j->o.bytes_max)
        j->o.bytes_max = 64ull << 20;
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "%s", TT_JOURNAL_SYMBOL);
    d.kind = TT_STREAM_BLOB;
    /* zstd level 3, not the tapes' 12: a journal is written live, and level
     * 12's compressor state for a 4 MiB block of payloads costs tens of MB */
    tt_tape_writer_opts wo = {j->o.block_events, TT_JOURNAL_ZSTD_LEVEL, j->o.fsync};
    if ((rc = tt_tape_writer_open(&j->w, dir, &d, &wo, err))) {
        free(j);
        return rc;
    }
    j->ins = ins;
    j->header_done = resume; /* a continued journal has its header */
    j->last_flush = TT_TS_MIN;
    if (j->o.background) {
        j->ring = calloc(TT_JOURNAL_QUEUE, sizeof *j->ring);
        if (!j->ring) {
            tt_tape_writer_close(j->w, NULL);
            free(j);
            return tt_err_set(err, TT_ENOMEM, "journal: out of memory for its queue");
        }
        pthread_mutex_init(&j->mu, NULL);
        pthread_cond_init(&j->data, NULL);
        pthread_cond_init(&j->space, NULL);
        pthread_cond_init(&j->idle, NULL);
        if (pthread_create(&j->th, NULL, writer_loop, j)) {
            free(j->ring);
            tt_tape_writer_close(j->w, NULL);
            free(j);
            return tt_err_set(err, TT_ENOMEM, "journal: cannot start the writer thread");
        }
    }
    *out = j;
    return TT_OK;
}

/* The header goes in lazily, stamped like the first event, so that the whole
 * journal lives in the segment (month) of the session. */
static int write_header(tt_journal *j, tt_ts ts, tt_err *err)
{
    const tt_instruments *ins = j->ins;
    uint32_t n = tt_instruments_count(ins);
    size_t cap = 32 + (size_t)n * (TT_SYMBOL_MAX + 12), len = 0;
    char *text = malloc(cap);
    if (!text)
        return tt_err_set(err, TT_ENOMEM, "journal: out of memory");
    len += (size_t)snprintf(text + len, cap - len, "ticktape journal 1\n");
    for (uint32_t id = 1; id <= n; id++) {
        const tt_instrument *in = tt_instruments_get(ins, id);
        if (in)
            len += (size_t)snprintf(text + len, cap - len, "%u %s\n", id, in->symbol);
    }
    tt_event h;
    memset(&h, 0, sizeof h);
    h.kind = TT_EV_BLOB;
    h.cls = TT_CLS_CONTROL;
    h.ts = h.ts_init = ts;
    h.u.blob.type = TT_JOURNAL_HEADER;
    h.u.blob.len = (uint32_t)len;
    h.u.blob.data = (const uint8_t *)text;
    int rc = tt_tape_writer_append(j->w, &h, err);
    free(text);
    j->header_done = 1;
    return rc;
}

/* Cut a block: the feed's note last, then the write; then tell the feed what
 * is durable. (The tape writer may also have cut blocks on its own, at a
 * month boundary or for a large blob: that only makes data durable earlier
 * than reported, never later.) */
static int cut(tt_journal *j, tt_err *err)
{
    int rc = TT_OK;
    if (j->o.note && j->since_cut && j->header_done) {
        uint8_t *note = NULL;
        uint32_t len = 0;
        j->o.note(j->o.hook_ctx, j->last_seq, &note, &len);
        if (note) {
            tt_event n;
            memset(&n, 0, sizeof n);
            n.ts = n.ts_init = j->last_ts;
            n.kind = TT_EV_BLOB;
            n.cls = tt_event_class_of(TT_EV_BLOB);
            n.u.blob.type = TT_JOURNAL_NOTE;
            n.u.blob.len = len;
            n.u.blob.data = note;
            rc = tt_tape_writer_append(j->w, &n, err);
            free(note);
        }
    }
    if (!rc)
        rc = tt_tape_writer_flush(j->w, err);
    if (!rc) {
        j->since_cut = 0;
        j->cut_bytes = 0;
        if (j->o.durable && j->last_seq > j->durable_seq)
            j->o.durable(j->o.hook_ctx, j->last_seq);
        j->durable_seq = j->last_seq;
    }
    return rc;
}

/* Append to the tape (header first), and cut a block when it is full or a
 * second of event time has passed since the last one. */
static int write_one(tt_journal *j, const tt_event *ev, tt_err *err)
{
    int rc;
    if (!j->header_done && (rc = write_header(j, ev->ts, err)))
        return rc;
    rc = tt_tape_writer_append(j->w, ev, err);
    if (rc)
        return rc;
    j->since_cut++;
    if (ev->kind == TT_EV_BLOB || ev->kind == TT_EV_EXTERNAL)
        j->cut_bytes += ev->u.blob.len;
    j->last_ts = ev->ts;
    if (ev->seq > j->last_seq)
        j->last_seq = ev->seq;
    if (j->last_flush == TT_TS_MIN)
        j->last_flush = ev->ts;
    if (j->since_cut + (j->o.note ? 1u : 0u) >= j->o.block_events || /* room for a note */
        j->cut_bytes >= TT_JOURNAL_BLOCK_BYTES)
        return cut(j, err);
    if (j->o.flush_interval > 0 && ev->ts - j->last_flush >= j->o.flush_interval) {
        j->last_flush = ev->ts;
        return cut(j, err);
    }
    return TT_OK;
}

/* Under mu: remember the writer's first error. */
static void set_werr(tt_journal *j, int rc, const tt_err *e)
{
    if (!j->werr) {
        j->werr = rc;
        j->werr_msg = *e;
    }
}

static void *writer_loop(void *arg)
{
    tt_journal *j = arg;
    jslot take[TT_JOURNAL_TAKE];
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->n && !j->quit && !j->flush_req)
            pthread_cond_wait(&j->data, &j->mu);
        if (!j->n && j->flush_req) {
            j->busy = 1;
            pthread_mutex_unlock(&j->mu);
            tt_err e;
            int rc = j->werr ? TT_OK : cut(j, &e);
            pthread_mutex_lock(&j->mu);
            if (rc)
                set_werr(j, rc, &e);
            j->busy = 0;
            j->flush_req = 0;
            pthread_cond_broadcast(&j->idle);
            continue;
        }
        if (!j->n && j->quit)
            break;
        uint32_t k = j->n < TT_JOURNAL_TAKE ? j->n : TT_JOURNAL_TAKE;
        for (uint32_t i = 0; i < k; i++)
            take[i] = j->ring[(j->head + i) % TT_JOURNAL_QUEUE];
        j->head = (j->head + k) % TT_JOURNAL_QUEUE;
        j->n -= k;
        j->busy = 1;
        int failed = j->werr != 0;
        pthread_cond_broadcast(&j->space);
        pthread_mutex_unlock(&j->mu);
        tt_err e;
        int rc = TT_OK;
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < k; i++) {
            if (!failed && !rc)
                rc = write_one(j, &take[i].ev, &e);
            if (take[i].payload)
                bytes += take[i].ev.u.blob.len;
            free(take[i].payload);
        }
        pthread_mutex_lock(&j->mu);
        j->qbytes -= bytes;
        if (bytes)
            pthread_cond_broadcast(&j->space);
        if (rc)
            set_werr(j, rc, &e);
        j->busy = 0;
        if (!j->n)
            pthread_cond_broadcast(&j->idle);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int tt_journal_append(tt_journal *j, const tt_event *ev, tt_err *err)
{
    if (!j->ring) {
        int rc = write_one(j, ev, err);
        if (!rc)
            j->count++;
        return rc;
    }
    uint8_t *copy = NULL;
    tt_event e = *ev;
    if ((e.kind == TT_EV_BLOB || e.kind == TT_EV_EXTERNAL) && e.u.blob.len) {
        copy = malloc(e.u.blob.len);
        if (!copy)
            return tt_err_set(err, TT_ENOMEM, "journal: out of memory copying a payload");
        memcpy(copy, e.u.blob.data, e.u.blob.len);
        e.u.blob.data = copy;
    }
    uint64_t len = copy ? e.u.blob.len : 0;
    pthread_mutex_lock(&j->mu);
    /* never drop: wait for the writer (room in slots and in bytes) */
    while ((j->n == TT_JOURNAL_QUEUE || (len && j->qbytes && j->qbytes + len > j->o.bytes_max)) &&
           !j->werr)
        pthread_cond_wait(&j->space, &j->mu);
    if (j->werr) {
        int rc = j->werr;
        if (err)
            *err = j->werr_msg;
        pthread_mutex_unlock(&j->mu);
        free(copy);
        return rc;
    }
    jslot *sl = &j->ring[(j->head + j->n) % TT_JOURNAL_QUEUE];
    sl->ev = e;
    sl->payload = copy;
    j->qbytes += len;
    j->n++;
    j->count++;
    pthread_cond_signal(&j->data);
    pthread_mutex_unlock(&j->mu);
    return TT_OK;
}

int tt_journal_flush(tt_journal *j, tt_err *err)
{
    if (!j->ring)
        return cut(j, err);
    pthread_mutex_lock(&j->mu);
    j->flush_req = 1;
    pthread_cond_signal(&j->data);
    while ((j->flush_req || j->n || j->busy) && !j->werr)
        pthread_cond_wait(&j->idle, &j->mu);
    int rc = j->werr;
    if (rc && err)
        *err = j->werr_msg;
    pthread_mutex_unlock(&j->mu);
    return rc;
}

int tt_journal_close(tt_journal *j, tt_err *err)
{
    if (!j)
        return TT_OK;
    int rc = TT_OK;
    if (j->ring) {
        pthread_mutex_lock(&j->mu);
        j->quit = 1;
        pthread_cond_signal(&j->data);
        pthread_mutex_unlock(&j->mu);
        pthread_join(j->th, NULL); /* drains the queue first */
        for (uint32_t i = 0; i < j->n; i++)
            free(j->ring[(j->head + i) % TT_JOURNAL_QUEUE].payload);
        free(j->ring);
        pthread_cond_destroy(&j->data);
        pthread_cond_destroy(&j->space);
        pthread_cond_destroy(&j->idle);
        pthread_mutex_destroy(&j->mu);
        if (j->werr) {
            rc = j->werr;
            if (err)
                *err = j->werr_msg;
        }
    }
    if (!rc && !j->header_done) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        rc = write_header(j, (tt_ts)t.tv_sec * TT_NS_PER_SEC + t.tv_nsec, err);
    }
    if (!rc && j->since_cut)
        rc = cut(j, err); /* the last block, with its note and durability report */
    int rc2 = tt_tape_writer_close(j->w, rc ? NULL : err);
    rc = rc ? rc : rc2;
    free(j);
    return rc;
}

uint64_t tt_journal_count(const tt_journal *j) { return j->count; }

static int sink_write(void *self, const tt_event *ev, tt_err *err)
{
    return tt_journal_append(self, ev, err);
}

static int sink_flush(void *self, tt_err *err) { return tt_journal_flush(self, err); }

tt_sink tt_journal_sink(tt_journal *j)
{
    tt_sink s = {.self = j, .write = sink_write, .flush = sink_flush};
    return s;
}

static int sink_write_sync(void *self, const tt_event *ev, tt_err *err)
{
    int rc = tt_journal_append(self, ev, err);
    if (!rc && (ev->kind == TT_EV_ORDER_EVENT || ev->kind == TT_EV_CONTROL))
        rc = tt_journal_flush(self, err);
    return rc;
}

tt_sink tt_journal_sink_sync(tt_journal *j)
{
    tt_sink s = {.self = j, .write = sink_write_sync, .flush = sink_flush};
    return s;
}

/* ---- reading ---- */

struct tt_journal_reader {
    tt_tape_reader *r;
    uint32_t *map; /* session id -> replay id */
    uint32_t nmap;
};

static int parse_header(tt_journal_reader *jr, const tt_event *h, const tt_instruments *ins,
                        const char *dir, tt_err *err)
{
    if (h->kind != TT_EV_BLOB || h->u.blob.type != TT_JOURNAL_HEADER)
        return tt_err_set(err, TT_EFORMAT, "%s: not a ticktape journal (no header record)", dir);
    char *text = malloc((size_t)h->u.blob.len + 1);
    if (!text)
        return tt_err_set(err, TT_ENOMEM, "journal: out of memory");
    memcpy(text, h->u.blob.data, h->u.blob.len);
    text[h->u.blob.len] = '\0';
    int rc = TT_OK, line = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        if (line == 1) {
            if (strncmp(l, "ticktape journal ", 17)) {
                rc = tt_err_set(err, TT_EFORMAT, "%s: header: bad first line", dir);
                break;
            }
            continue;
        }
        unsigned id;
        char sym[64];
        if (sscanf(l, "%u %63s", &id, sym) != 2 || id == 0 || id > 1000000) {
            rc = tt_err_set(err, TT_EFORMAT, "%s: header line %d: expected 'id symbol'", dir, line);
            break;
        }
        const tt_instrument *in = tt_instruments_find(ins, sym);
        if (id >= jr->nmap) {
            uint32_t n = id + 1;
            uint32_t *m = realloc(jr->map, n * sizeof *m);
            if (!m) {
                rc = tt_err_set(err, TT_ENOMEM, "journal: out of memory");
                break;
            }
            memset(m + jr->nmap, 0, (n - jr->nmap) * sizeof *m);
            jr->map = m;
            jr->nmap = n;
        }
        /* Symbols the replay table lacks map to 0; using one is an error (next()). */
        jr->map[id] = in ? in->id : 0;
    }
    free(text);
    return rc;
}

int tt_journal_reader_open(tt_journal_reader **out, const char *dir, const tt_instruments *ins,
                           tt_err *err)
{
    *out = NULL;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, TT_JOURNAL_SYMBOL);
    if (stat(path, &st) != 0)
        return tt_err_set(err, TT_ENOTFOUND, "%s: no journal here (expected %s/)", dir,
                          TT_JOURNAL_SYMBOL);
    tt_journal_reader *jr = calloc(1, sizeof *jr);
    if (!jr)
        return tt_err_set(err, TT_ENOMEM, "journal: out of memory");
    const char *syms[] = {TT_JOURNAL_SYMBOL, NULL};
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.symbols = syms;
    q.kinds = 1u << TT_STREAM_BLOB;
    int rc = tt_tape_reader_open(&jr->r, dir, &q, ins, err);
    if (rc) {
        free(jr);
        return rc;
    }
    tt_event h;
    rc = tt_tape_reader_next(jr->r, &h, err);
    if (rc == 0)
        rc = tt_err_set(err, TT_EFORMAT, "%s: empty journal (no header record)", dir);
    if (rc == 1)
        rc = parse_header(jr, &h, ins, dir, err);
    if (rc) {
        tt_journal_reader_close(jr);
        return rc;
    }
    *out = jr;
    return TT_OK;
}

int tt_journal_reader_next(tt_journal_reader *jr, tt_event *ev, tt_err *err)
{
    int rc;
    do /* a feed's notes are the journal's own bookkeeping, not inputs */
        rc = tt_tape_reader_next(jr->r, ev, err);
    while (rc == 1 && ev->kind == TT_EV_BLOB && ev->u.blob.type == TT_JOURNAL_NOTE);
    if (rc != 1)
        return rc;
    if (ev->symbol) {
        uint32_t id = ev->symbol < jr->nmap ? jr->map[ev->symbol] : 0;
        if (!id)
            return tt_err_set(err, TT_ENOTFOUND,
                              "journal event seq %llu: symbol id %u of the session is not in "
                              "the replay's instrument table",
                              (unsigned long long)ev->seq, ev->symbol);
        ev->symbol = id;
    }
    return 1;
}

int tt_journal_last_note(const char *dir, char **out, size_t *len, tt_err *err)
{
    *out = NULL;
    *len = 0;
    tt_instruments *ins = tt_instruments_new();
    if (!ins)
        return tt_err_set(err, TT_ENOMEM, "journal: out of memory");
    tt_journal_reader *jr = NULL;
    int rc = tt_journal_reader_open(&jr, dir, ins, err);
    tt_event ev;
    while (!rc && (rc = tt_tape_reader_next(jr->r, &ev, err)) == 1) {
        rc = TT_OK;
        if (ev.kind != TT_EV_BLOB || ev.u.blob.type != TT_JOURNAL_NOTE)
            continue;
        char *c = realloc(*out, (size_t)ev.u.blob.len + 1);
        if (!c) {
            rc = tt_err_set(err, TT_ENOMEM, "journal: out of memory");
            break;
        }
        memcpy(c, ev.u.blob.data, ev.u.blob.len);
        c[ev.u.blob.len] = 0;
        *out = c;
        *len = ev.u.blob.len;
    }
    if (rc == 0 || rc == 1)
        rc = TT_OK;
    if (rc) {
        free(*out);
        *out = NULL;
    }
    if (jr)
        tt_journal_reader_close(jr);
    tt_instruments_free(ins);
    return rc;
}

int tt_journal_reader_warning_count(const tt_journal_reader *r)
{
    return tt_tape_reader_warning_count(r->r);
}

const char *tt_journal_reader_warning(const tt_journal_reader *r, int i)
{
    return tt_tape_reader_warning(r->r, i);
}

static int src_next(void *self, tt_event *ev, tt_err *err)
{
    int rc = tt_journal_reader_next(self, ev, err);
    return rc < 0 ? rc : rc == 1 ? TT_SRC_EVENT : TT_SRC_END;
}

tt_source tt_journal_reader_source(tt_journal_reader *r)
{
    tt_source s = {.self = r, .next = src_next};
    return s;
}

void tt_journal_reader_close(tt_journal_reader *jr)
{
    if (!jr)
        return;
    tt_tape_reader_close(jr->r);
    free(jr->map);
    free(jr);
}
