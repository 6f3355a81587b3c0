/*
 * The inbox: a ring of tt_event slots guarded by one mutex, with two condition
 * variables (data for the engine, space for producers waiting on a full queue:
 * market data under backpressure, never-dropped events).
 *
 * Why one mutex and not a lock-free ring: several producer threads (one per
 * NATS subscription, the Kafka poller, reconnect callbacks) share the queue,
 * and the arrival stamp must be taken inside the same critical section as the
 * enqueue so that stamp order equals queue order, which the journal (a
 * time-ordered tape) and the watermark argument in inbox.h both rely on. The
 * critical section is a clock read and a 112-byte copy; contention is low.
 *
 * Slots are preallocated: a quote costs no allocation. Only EXTERNAL/BLOB
 * events carry a payload copy (rare: economic calendar items and the like).
 *
 * Waiting: the engine thread waits on `data` with a deadline. It skips the
 * wait when the engine made progress since the last idle answer (it may still
 * have due events queued), and waits briefly (50 us) when the engine asked the
 * clock (its queue holds something not yet due), else up to idle_wait_ns.
 * With spin_ns it first polls an arrival counter without the lock, which
 * saves the wake-up of a sleeping thread on low-latency hosts.
 */
#include "inbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TT_INBOX_SHORT_WAIT_NS (50 * TT_NS_PER_US)

typedef struct slot {
    tt_event ev;
    uint8_t *payload; /* owned copy for EXTERNAL/BLOB, else NULL */
} slot;

struct tt_inbox {
    tt_inbox_opts o;
    pthread_mutex_t mu;
    pthread_cond_t data, space;
    slot *ring;
    uint32_t head, count;
    uint64_t seq;
    tt_ts last_stamp; /* newest stamp given */
    tt_ts watermark;  /* every later stamp is after this (engine thread writes) */
    int stopping;     /* under mu: arrivals refused */
    int stop_sent;    /* engine thread only */
    int ended;
    atomic_int stop_req;
    atomic_ullong arrivals; /* bumped on each enqueue: what the spin phase watches */
    tt_inbox_stats st;
    uint8_t *held;    /* payload of the event last handed out */
    const tt_engine *watch;
    uint64_t idle_events; /* engine events at the last idle answer */
    int clock_asked;      /* engine read the clock since the last idle answer */
    int last_was_event;
};

static int droppable(const tt_event *ev)
{
    return ev->cls == TT_CLS_MARKET || ev->cls == TT_CLS_EXTERNAL;
}

int tt_inbox_new(tt_inbox **out, const tt_inbox_opts *opts, tt_err *err)
{
    *out = NULL;
    if (!opts || !opts->clock)
        return tt_err_set(err, TT_EINVAL, "inbox: a wall clock is required");
    tt_inbox *q = calloc(1, sizeof *q);
    if (!q)
        return tt_err_set(err, TT_ENOMEM, "inbox: out of memory");
    q->o = *opts;
    if (!q->o.capacity)
        q->o.capacity = 65536;
    if (!q->o.bytes_max)
        q->o.bytes_max = TT_INBOX_BYTES_DEFAULT;
    if (!q->o.reserve)
        q->o.reserve = 64;
    if (!q->o.source_id)
        q->o.source_id = 1;
    if (q->o.idle_wait_ns <= 0)
        q->o.idle_wait_ns = TT_NS_PER_MS;
    if (q->o.backpressure_ns == 0)
        q->o.backpressure_ns = 250 * TT_NS_PER_MS;
    if (q->o.reserve >= q->o.capacity) {
        uint32_t res = q->o.reserve, cap = q->o.capacity;
        free(q);
        return tt_err_set(err, TT_EINVAL, "inbox: reserve (%u) must be below capacity (%u)", res,
                          cap);
    }
    q->ring = calloc(q->o.capacity, sizeof *q->ring);
    if (!q->ring) {
        uint32_t cap = q->o.capacity;
        free(q);
        return tt_err_set(err, TT_ENOMEM, "inbox: out of memory for %u slots", cap);
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->data, &ca);
    pthread_cond_init(&q->space, &ca);
    pthread_condattr_destroy(&ca);
    q->st.capacity = q->o.capacity;
    q->watermark = TT_TS_MIN;
    q->last_stamp = TT_TS_MIN;
    *out = q;
    return TT_OK;
}

void tt_inbox_free(tt_inbox *q)
{
    if (!q)
        return;
    for (uint32_t i = 0; i < q->count; i++)
        free(q->ring[(q->head + i) % q->o.capacity].payload);
    free(q->held);
    free(q->ring);
    pthread_cond_destroy(&q->data);
    pthread_cond_destroy(&q->space);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static void logf_rl(tt_inbox *q, uint64_t n, const char *what, const char *origin,
                    const char *reason)
{
    if (!q->o.log || (n > 20 && n % 10000 != 0))
        return;
    /* origin (a subject, a topic) and reason come from the wire: escaped, so
     * a control character can never forge a line or drive the terminal */
    char line[1024], o[256], r[512];
    tt_str_escape(o, sizeof o, origin, strlen(origin));
    tt_str_escape(r, sizeof r, reason, strlen(reason));
    snprintf(line, sizeof line, "%s #%llu: %s: %s%s", what, (unsigned long long)n, o, r,
             n == 20 ? " (further ones logged every 10000th)" : "");
    q->o.log(q->o.log_ctx, line);
}

/* Under mu: the next stamp, strictly after everything stamped and the watermark. */
static tt_ts stamp_locked(tt_inbox *q)
{
    tt_ts t = tt_wallclock_now(q->o.clock);
    if (q->last_stamp != TT_TS_MIN && t <= q->last_stamp)
        t = q->last_stamp + 1;
    if (q->watermark != TT_TS_MIN && t <= q->watermark)
        t = q->watermark + 1;
    q->last_stamp = t;
    return t;
}

/* Under mu: put ev at the tail (room guaranteed by the caller). */
static void enqueue_locked(tt_inbox *q, const tt_event *ev, uint8_t *payload)
{
    slot *s = &q->ring[(q->head + q->count) % q->o.capacity];
    s->ev = *ev;
    s->ev.ts = stamp_locked(q);
    if (!s->ev.ts_init)
        s->ev.ts_init = s->ev.ts;
    s->ev.seq = ++q->seq;
    if (!q->o.keep_source || !s->ev.source)
        s->ev.source = q->o.source_id;
    s->payload = payload;
    if (payload) {
        s->ev.u.blob.data = payload;
        q->st.bytes += s->ev.u.blob.len;
        if (q->st.bytes > q->st.max_bytes)
            q->st.max_bytes = q->st.bytes;
    }
    q->count++;
    atomic_fetch_add_explicit(&q->arrivals, 1, memory_order_release);
    if (q->count > q->st.max_depth)
        q->st.max_depth = q->count;
    pthread_cond_signal(&q->data);
}

/* Under mu: drop the oldest queued droppable event if it is at the head. */
static int drop_head_locked(tt_inbox *q)
{
    if (!q->count || !droppable(&q->ring[q->head].ev))
        return 0;
    slot *s = &q->ring[q->head];
    if (s->payload)
        q->st.bytes -= s->ev.u.blob.len;
    free(s->payload);
    s->payload = NULL;
    q->head = (q->head + 1) % q->o.capacity;
    q->count--;
    q->st.dropped++;
    return 1;
}

static void deadline_after(struct timespec *ts, int64_t ns);

/* Under mu: would an event of len payload bytes overflow the byte budget? */
static int over_bytes(const tt_inbox *q, uint32_t len)
{
    return len && q->st.bytes + len > q->o.bytes_max;
}

/* Under mu: no room for market data of len payload bytes (the slots outside
 * the reserve, or the byte budget)? */
static int full_for_data(const tt_inbox *q, uint32_t len)
{
    return q->count >= q->o.capacity - q->o.reserve || over_bytes(q, len);
}

/* Under mu: backpressure for market data. Wait for room while the engine
 * makes progress, in slices of at most 20 ms so that a stop request (set from
 * a signal handler, which cannot signal) is seen promptly; give up when the
 * engine has taken nothing for backpressure_ns. */
static void wait_for_room(tt_inbox *q, uint32_t len)
{
    while (full_for_data(q, len) && q->o.backpressure_ns > 0 && !q->stopping &&
           !atomic_load(&q->stop_req)) {
        uint64_t taken = q->st.delivered;
        int64_t left = q->o.backpressure_ns;
        while (q->st.delivered == taken && full_for_data(q, len) && !q->stopping &&
               !atomic_load(&q->stop_req) && left > 0) {
            int64_t slice = left < 20 * TT_NS_PER_MS ? left : 20 * TT_NS_PER_MS;
            struct timespec dl;
            deadline_after(&dl, slice);
            if (pthread_cond_timedwait(&q->space, &q->mu, &dl) == ETIMEDOUT)
                left -= slice;
        }
        if (q->st.delivered == taken)
            break; /* the engine took nothing for backpressure_ns (or a stop): drop */
    }
}

static int push_locked(tt_inbox *q, tt_event *ev, uint8_t *payload, int flags)
{
    if (q->stopping) {
        q->st.after_stop++;
        free(payload);
        return 0;
    }
    q->st.pushed++;
    uint32_t len = payload ? ev->u.blob.len : 0;
    if (flags & TT_INBOX_NO_DROP) {
        /* wait for room outside the reserve (kept for never-dropped events) */
        while (full_for_data(q, len) && !q->stopping)
            pthread_cond_wait(&q->space, &q->mu);
        if (q->stopping) {
            q->st.pushed--;
            q->st.after_stop++;
            free(payload);
            return 0;
        }
    } else if (droppable(ev)) {
        wait_for_room(q, len);
        if (q->stopping) {
            q->st.pushed--;
            q->st.after_stop++;
            free(payload);
            return 0;
        }
        /* Oldest market data first, until the newcomer fits in slots and bytes. */
        while (full_for_data(q, len)) {
            if (!drop_head_locked(q)) {
                /* The head is a never-dropped event: the newcomer is the one to go. */
                q->st.dropped++;
                free(payload);
                return 0;
            }
        }
    } else {
        /* never dropped: make room from market data, else wait (backpressure) */
        while ((q->count >= q->o.capacity || (over_bytes(q, len) && q->count)) &&
               !drop_head_locked(q) && !q->stopping)
            pthread_cond_wait(&q->space, &q->mu);
        if (q->stopping) { /* stopped while waiting: the STOP event may be out already */
            q->st.pushed--;
            q->st.after_stop++;
            free(payload);
            return 0;
        }
    }
    enqueue_locked(q, ev, payload);
    return 1;
}

int tt_inbox_push(tt_inbox *q, const tt_event *in, const void *payload, uint32_t len)
{
    return tt_inbox_push_ex(q, in, payload, len, 0, NULL);
}

int tt_inbox_push_ex(tt_inbox *q, const tt_event *in, const void *payload, uint32_t len,
                     int flags, uint64_t *seq)
{
    if (seq)
        *seq = 0;
    tt_event ev = *in;
    if (!ev.cls && ev.kind != TT_EV_CONTROL)
        ev.cls = tt_event_class_of(ev.kind);
    uint8_t *copy = NULL;
    if (ev.kind == TT_EV_EXTERNAL || ev.kind == TT_EV_BLOB) {
        if (len > TT_INBOX_MAX_PAYLOAD || len > q->o.bytes_max)
            return TT_EINVAL; /* refused whole: the caller counts and logs it */
        copy = malloc(len ? len : 1);
        if (!copy)
            return TT_ENOMEM;
        if (len)
            memcpy(copy, payload, len);
        ev.u.blob.len = len;
    }
    pthread_mutex_lock(&q->mu);
    uint64_t before = q->st.dropped;
    int rc = push_locked(q, &ev, copy, flags);
    if (rc == 1 && seq)
        *seq = q->seq;
    uint64_t dropped = q->st.dropped;
    pthread_mutex_unlock(&q->mu);
    if (dropped != before)
        logf_rl(q, dropped, "dropped", "inbox",
                "queue full: oldest market event dropped (drop policy: oldest market data first)");
    return rc;
}

int tt_inbox_push_control(tt_inbox *q, uint32_t op, uint32_t arg)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_CONTROL;
    ev.cls = TT_CLS_CONTROL;
    ev.u.control.op = op;
    ev.u.control.arg = arg;
    pthread_mutex_lock(&q->mu);
    if (op == TT_CTL_GAP_BEGIN)
        q->st.gaps++;
    int rc = push_locked(q, &ev, NULL, 0);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void tt_inbox_reject(tt_inbox *q, const char *origin, const char *reason)
{
    pthread_mutex_lock(&q->mu);
    uint64_t n = ++q->st.rejected;
    pthread_mutex_unlock(&q->mu);
    logf_rl(q, n, "rejected message", origin, reason);
}

void tt_inbox_stop(tt_inbox *q) { atomic_store(&q->stop_req, 1); }
int tt_inbox_stopping(const tt_inbox *q) { return atomic_load(&((tt_inbox *)q)->stop_req); }

void tt_inbox_watch(tt_inbox *q, const tt_engine *e) { q->watch = e; }

void tt_inbox_stats_get(tt_inbox *q, tt_inbox_stats *out)
{
    pthread_mutex_lock(&q->mu);
    *out = q->st;
    pthread_mutex_unlock(&q->mu);
}

uint32_t tt_inbox_depth(tt_inbox *q)
{
    pthread_mutex_lock(&q->mu);
    uint32_t n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

static void deadline_after(struct timespec *ts, int64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    int64_t t = (int64_t)ts->tv_nsec + ns;
    ts->tv_sec += (time_t)(t / TT_NS_PER_SEC);
    ts->tv_nsec = (long)(t % TT_NS_PER_SEC);
}

/* Hand *ev to the tap (journal), then to the engine. */
static int deliver(tt_inbox *q, tt_event *out, const tt_event *ev, tt_err *err)
{
    *out = *ev;
    q->last_was_event = 1;
    if (q->o.tap.write) {
        int rc = q->o.tap.write(q->o.tap.self, out, err);
        if (rc < 0) {
            tt_err_prefix(err, "journal: ");
            return rc;
        }
    }
    return TT_SRC_EVENT;
}

/* Take up to cap queued events (a batch ends after a payload-bearing event,
 * whose bytes stay held until the next call), or the STOP event, or answer
 * idle/end. *n gets the number of events written. */
static int src_take(tt_inbox *q, tt_event *out, int cap, int *n, tt_err *err)
{
    *n = 0;
    free(q->held);
    q->held = NULL;
    if (q->ended)
        return TT_SRC_END;
    pthread_mutex_lock(&q->mu);
    if (atomic_load(&q->stop_req) && !q->stopping) {
        q->stopping = 1;
        pthread_cond_broadcast(&q->space);
    }
    int waited = 0;
    for (;;) {
        if (q->count) {
            int k = 0;
            while (q->count && k < cap) {
                slot *s = &q->ring[q->head];
                out[k++] = s->ev;
                q->head = (q->head + 1) % q->o.capacity;
                q->count--;
                if (s->payload) {
                    q->st.bytes -= s->ev.u.blob.len;
                    q->held = s->payload;
                    s->payload = NULL;
                    break;
                }
            }
            q->st.delivered += (uint64_t)k;
            pthread_cond_broadcast(&q->space);
            pthread_mutex_unlock(&q->mu);
            for (int i = 0; i < k; i++) {
                int rc = deliver(q, &out[i], &out[i], err);
                if (rc < 0)
                    return rc;
            }
            *n = k;
            return TT_SRC_EVENT;
        }
        if (q->stopping) {
            if (!q->stop_sent) {
                tt_event ev;
                memset(&ev, 0, sizeof ev);
                ev.kind = TT_EV_CONTROL;
                ev.cls = TT_CLS_CONTROL;
                ev.u.control.op = TT_CTL_STOP;
                ev.ts = stamp_locked(q);
                ev.ts_init = ev.ts;
                ev.seq = ++q->seq;
                ev.source = q->o.source_id;
                q->stop_sent = 1;
                q->st.delivered++;
                pthread_mutex_unlock(&q->mu);
                int rc = deliver(q, out, &ev, err);
                if (rc == TT_SRC_EVENT)
                    *n = 1;
                return rc;
            }
            q->ended = 1;
            pthread_mutex_unlock(&q->mu);
            return TT_SRC_END;
        }
        if (waited)
            break;
        int64_t wait = q->o.idle_wait_ns;
        uint64_t evs = q->watch ? tt_engine_events(q->watch) : 0;
        if (q->last_was_event || (q->watch && evs != q->idle_events))
            wait = 0; /* the engine may have due work of its own: answer at once */
        else if (q->clock_asked)
            wait = wait < TT_INBOX_SHORT_WAIT_NS ? wait : TT_INBOX_SHORT_WAIT_NS;
        if (wait > 0 && q->o.spin_ns > 0) {
            /* Poll without the lock first: a futex wake costs tens of us. */
            unsigned long long seen = atomic_load_explicit(&q->arrivals, memory_order_acquire);
            pthread_mutex_unlock(&q->mu);
            int64_t until = tt_mono_ns() + q->o.spin_ns;
            while (atomic_load_explicit(&q->arrivals, memory_order_acquire) == seen &&
                   !atomic_load(&q->stop_req) && tt_mono_ns() < until)
                ;
            pthread_mutex_lock(&q->mu);
            if (atomic_load(&q->stop_req) && !q->stopping) {
                q->stopping = 1;
                pthread_cond_broadcast(&q->space);
            }
            if (q->count || q->stopping)
                continue; /* re-checked under the lock at the top */
        }
        if (wait > 0) {
            struct timespec dl;
            deadline_after(&dl, wait);
            pthread_cond_timedwait(&q->data, &q->mu, &dl);
        }
        waited = 1;
        if (atomic_load(&q->stop_req) && !q->stopping) {
            q->stopping = 1;
            pthread_cond_broadcast(&q->space);
        }
    }
    /* Idle: from here on every arrival is stamped after the watermark. */
    tt_ts now = tt_wallclock_now(q->o.clock);
    q->watermark = now > q->last_stamp ? now : q->last_stamp;
    q->last_was_event = 0;
    q->clock_asked = 0;
    q->idle_events = q->watch ? tt_engine_events(q->watch) : 0;
    pthread_mutex_unlock(&q->mu);
    return TT_SRC_IDLE;
}

static int src_next(void *self, tt_event *out, tt_err *err)
{
    int n;
    return src_take(self, out, 1, &n, err);
}

/* The batch form: one lock round trip for everything already queued. The
 * engine merges a batch with its own queue event by event, so batching
 * changes nothing in the order of dispatch (and nothing in replay parity:
 * a batch holds only events that had already arrived). */
static int src_next_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    return src_take(self, buf, cap, count, err);
}

tt_source tt_inbox_source(tt_inbox *q)
{
    tt_source s = {.self = q, .next = src_next, .next_batch = src_next_batch};
    return s;
}

static tt_ts clock_now(void *self)
{
    tt_inbox *q = self;
    q->clock_asked = 1;
    return q->watermark == TT_TS_MIN ? TT_TS_MIN : q->watermark;
}

tt_clock tt_inbox_clock(tt_inbox *q)
{
    tt_clock c = {.self = q, .now = clock_now};
    return c;
}
