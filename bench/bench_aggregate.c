/*
 * The latency the aggregator adds (docs/benchmarks.md, section "Aggregator").
 *
 *   bench_aggregate --nats URL [--rates 1000,10000] [--seconds S] [--sources N]
 *                   [--policy best|priority|median] [--spin-us US] [--journal DIR] [--json]
 *
 * A publisher thread sends TickData at a fixed total rate, round-robin over N
 * sources (ticks.src0.EURUSD, ticks.src1.EURUSD, ...; SendAsap). Tick i has
 * bid P0 + i and ask bid + 3, so with the default policy `best` every tick
 * raises the best bid and comes out as one merged tick whose bid names it.
 * The aggregator (live/aggregate.h, in this process, publishing with
 * SendAsap) merges them onto ticks.EURUSD; a subscriber on its own
 * connection receives the merged tick and measures from the moment the input
 * was handed to nats.c: two trips through nats-server, nats.c's threads, the
 * inbox, the consolidator, the publish.
 *
 * The same is then measured without ticktape ("relay"): a plain nats.c
 * subscriber on ticks.*.EURUSD republishes each tick on relay.EURUSD from its
 * callback: the same two hops, the wire's and the machine's own share. What
 * the aggregator adds is the difference. "in-agg" is the aggregator's own part:
 * from a tick's arrival stamp (taken on nats.c's thread as it enters the
 * inbox) to its merged tick being written out (just before the publish), on
 * the wall clock. Percentiles are exact (sorted).
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "live/aggregate.h"
#include "live/wallclock.h"
#include "tick_data.pb-c.h"

#define P0 100000
#define MAX_SOURCES 8

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, size_t n, double p)
{
    if (!n)
        return NAN;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    i = i ? i - 1 : 0;
    return (double)v[i < n ? i : n - 1] / 1000.0; /* us */
}

typedef struct bench {
    const char *url;
    double rate;
    size_t ticks;
    int nsources;
    int64_t *sent; /* mono ns at publish, by tick number */
    int64_t *lat;
    atomic_size_t nlat;
    const char *in_prefix; /* "ticks" (aggregator) */
} bench;

static void report(const char *what, const bench *b, int json, double proc_us)
{
    size_t n = atomic_load(&b->nlat);
    qsort(b->lat, n, sizeof *b->lat, cmp_i64);
    if (json)
        printf("{\"bench\":\"%s\",\"rate\":%.0f,\"sources\":%d,\"samples\":%zu,\"expected\":%zu,"
               "\"p50_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f,"
               "\"proc_us\":%.3f}\n",
               what, b->rate, b->nsources, n, b->ticks, pct(b->lat, n, 50), pct(b->lat, n, 99),
               pct(b->lat, n, 99.9), n ? (double)b->lat[n - 1] / 1000 : NAN, proc_us);
    else
        printf("%-9s %7.0f/s  %d sources  samples %7zu/%-7zu  p50 %8.1f us  p99 %8.1f us  "
               "p99.9 %8.1f us  max %9.1f us%s",
               what, b->rate, b->nsources, n, b->ticks, pct(b->lat, n, 50), pct(b->lat, n, 99),
               pct(b->lat, n, 99.9), n ? (double)b->lat[n - 1] / 1000 : NAN,
               proc_us > 0 ? "" : "\n");
    if (!json && proc_us > 0)
        printf("  (in the aggregator %.2f us a tick)\n", proc_us);
}

static void wait_until(int64_t t)
{
    for (;;) {
        int64_t d = t - tt_mono_ns();
        if (d <= 0)
            return;
        if (d > 200 * TT_NS_PER_US) {
            struct timespec ts = {0, (long)(d - 100 * TT_NS_PER_US)};
            nanosleep(&ts, NULL);
        }
    }
}

static void *publisher(void *arg)
{
    bench *b = arg;
    natsOptions *o;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, b->url);
    natsOptions_SetSendAsap(o, true);
    natsConnection *nc = NULL;
    if (natsConnection_Connect(&nc, o) != NATS_OK) {
        natsOptions_Destroy(o);
        return NULL;
    }
    tt_wallclock wc;
    tt_wallclock_init(&wc);
    char subj[MAX_SOURCES][64];
    for (int k = 0; k < b->nsources; k++)
        snprintf(subj[k], sizeof subj[k], "%s.src%d.EURUSD", b->in_prefix, k);
    int64_t start = tt_mono_ns();
    for (size_t i = 0; i < b->ticks; i++) {
        wait_until(start + (int64_t)((double)i * 1e9 / b->rate));
        Aitrading__Common__TickData t = AITRADING__COMMON__TICK_DATA__INIT;
        t.symbol = "EURUSD";
        t.bid = (double)(P0 + (int64_t)i) / 1e5;
        t.ask = (double)(P0 + (int64_t)i + 3) / 1e5;
        t.timestamp = tt_wallclock_now(&wc) / TT_NS_PER_MS;
        uint8_t buf[128];
        size_t n = aitrading__common__tick_data__pack(&t, buf);
        b->sent[i] = tt_mono_ns();
        natsConnection_Publish(nc, subj[i % (size_t)b->nsources], buf, (int)n);
    }
    natsConnection_Flush(nc);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    return NULL;
}

/* A merged (or relayed) tick: its number is in its bid. */
static void on_tick(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    int64_t now = tt_mono_ns();
    bench *b = closure;
    Aitrading__Common__TickData *t = aitrading__common__tick_data__unpack(
        NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    if (t) {
        int64_t i = llround(t->bid * 1e5) - P0;
        size_t k = atomic_fetch_add(&b->nlat, 1);
        if (i >= 0 && (size_t)i < b->ticks && k < b->ticks)
            b->lat[k] = now - b->sent[i];
        aitrading__common__tick_data__free_unpacked(t, NULL);
    }
    natsMsg_Destroy(m);
}

/* The output line of a merged tick: its arrival stamp is its "time". */
typedef struct inagg {
    tt_wallclock wc;
    int64_t *lat;
    size_t n, cap;
} inagg;

static void on_output(void *ctx, const char *line, size_t len)
{
    inagg *g = ctx;
    tt_ts now = tt_wallclock_now(&g->wc);
    const char *t = strstr(line, "\"time\":\"");
    char iso[48];
    tt_ts at;
    (void)len;
    if (strncmp(line, "{\"tick\":", 8) || !t || g->n == g->cap ||
        sscanf(t + 8, "%47[^\"]", iso) != 1 || tt_ts_parse(iso, &at))
        return;
    g->lat[g->n++] = now - at;
}

typedef struct agg_thread {
    tt_aggregator *a;
    tt_err err;
    int rc;
} agg_thread;

static void *agg_main(void *arg)
{
    agg_thread *t = arg;
    t->rc = tt_aggregator_run(t->a, &t->err);
    return NULL;
}

static void bench_init(bench *b, const char *url, double rate, double seconds, int nsources)
{
    memset(b, 0, sizeof *b);
    b->url = url;
    b->rate = rate;
    b->ticks = (size_t)(rate * seconds);
    b->nsources = nsources;
    b->sent = calloc(b->ticks, sizeof *b->sent);
    b->lat = calloc(b->ticks, sizeof *b->lat);
}

static int run_aggregate(const char *url, double rate, double seconds, int nsources, int policy,
                         int64_t spin_ns, const char *journal, int json)
{
    bench b;
    bench_init(&b, url, rate, seconds, nsources);
    b.in_prefix = "ticks";
    tt_instruments *ins = tt_instruments_new();
    tt_aggregator_opts o;
    memset(&o, 0, sizeof o);
    o.nats_url = url;
    o.cfg.policy = policy;
    o.ins = ins;
    o.spin_ns = spin_ns;
    char jd[4096];
    if (journal) {
        snprintf(jd, sizeof jd, "%s/agg-%.0f-%lld", journal, rate, (long long)tt_mono_ns());
        o.journal_dir = jd;
    }
    inagg g;
    memset(&g, 0, sizeof g);
    tt_wallclock_init(&g.wc);
    g.cap = b.ticks;
    g.lat = calloc(g.cap ? g.cap : 1, sizeof *g.lat);
    o.on_output = on_output;
    o.out_ctx = &g;
    tt_aggregator *a;
    tt_err err;
    natsConnection *sc = NULL;
    natsSubscription *sub = NULL;
    if (tt_aggregator_open(&a, &o, &err)) {
        fprintf(stderr, "bench_aggregate: %s\n", err.msg);
        return 1;
    }
    if (natsConnection_ConnectTo(&sc, url) != NATS_OK ||
        natsConnection_Subscribe(&sub, sc, "ticks.EURUSD", on_tick, &b) != NATS_OK ||
        natsConnection_Flush(sc) != NATS_OK) {
        fprintf(stderr, "bench_aggregate: cannot subscribe at %s\n", url);
        return 1;
    }
    agg_thread at = {a, {0}, 0};
    pthread_t th, pt;
    pthread_create(&th, NULL, agg_main, &at);
    pthread_create(&pt, NULL, publisher, &b);
    pthread_join(pt, NULL);
    struct timespec ts = {0, 500000000L};
    nanosleep(&ts, NULL);
    tt_aggregator_stop(a);
    pthread_join(th, NULL);
    tt_aggregator_stats st;
    tt_aggregator_stats_get(a, &st);
    tt_aggregator_close(a, NULL);
    report(journal ? "agg+jrnl" : "aggregate", &b, json, st.proc_ns_avg / 1000);
    bench in = b; /* the aggregator's own part */
    in.lat = g.lat;
    atomic_store(&in.nlat, g.n);
    report(journal ? "in-agg+j" : "in-agg", &in, json, 0);
    free(g.lat);
    if (st.merged != b.ticks)
        fprintf(stderr, "bench_aggregate: %" PRIu64 " merged of %zu ticks (dropped %" PRIu64
                        ")\n", st.merged, b.ticks, st.dropped);
    natsSubscription_Destroy(sub);
    natsConnection_Close(sc);
    natsConnection_Destroy(sc);
    tt_instruments_free(ins);
    free(b.sent);
    free(b.lat);
    return at.rc ? 1 : 0;
}

/* ---- the baseline: the same two hops without ticktape ---- */

typedef struct relay {
    natsConnection *out;
} relay;

static void on_relay(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    relay *r = closure;
    natsConnection_Publish(r->out, "relay.EURUSD", natsMsg_GetData(m), natsMsg_GetDataLength(m));
    natsMsg_Destroy(m);
}

static int run_relay(const char *url, double rate, double seconds, int nsources, int json)
{
    bench b;
    bench_init(&b, url, rate, seconds, nsources);
    b.in_prefix = "ticks";
    natsOptions *o;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, url);
    natsOptions_SetSendAsap(o, true);
    natsConnection *in = NULL, *sc = NULL;
    natsSubscription *s1 = NULL, *s2 = NULL;
    relay r = {NULL};
    int rc = 1;
    if (natsConnection_Connect(&in, o) == NATS_OK &&
        natsConnection_ConnectTo(&sc, url) == NATS_OK && (r.out = in) &&
        natsConnection_Subscribe(&s1, in, "ticks.*.EURUSD", on_relay, &r) == NATS_OK &&
        natsConnection_Subscribe(&s2, sc, "relay.EURUSD", on_tick, &b) == NATS_OK &&
        natsConnection_Flush(in) == NATS_OK && natsConnection_Flush(sc) == NATS_OK) {
        pthread_t pt;
        pthread_create(&pt, NULL, publisher, &b);
        pthread_join(pt, NULL);
        struct timespec ts = {0, 500000000L};
        nanosleep(&ts, NULL);
        report("relay", &b, json, 0);
        rc = 0;
    } else {
        fprintf(stderr, "bench_aggregate: relay: cannot connect to %s\n", url);
    }
    if (s1)
        natsSubscription_Destroy(s1);
    if (s2)
        natsSubscription_Destroy(s2);
    natsConnection *all[2] = {in, sc};
    for (int i = 0; i < 2; i++)
        if (all[i]) {
            natsConnection_Close(all[i]);
            natsConnection_Destroy(all[i]);
        }
    natsOptions_Destroy(o);
    free(b.sent);
    free(b.lat);
    return rc;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *rates = "1000,10000", *journal = NULL;
    double seconds = 3;
    int nsources = 3, json = 0, policy = TT_POLICY_BEST;
    int64_t spin_ns = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--nats") && i + 1 < argc)
            url = argv[++i];
        else if (!strcmp(argv[i], "--rates") && i + 1 < argc)
            rates = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--sources") && i + 1 < argc)
            nsources = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
            policy = tt_consol_policy_parse(argv[++i]);
        else if (!strcmp(argv[i], "--spin-us") && i + 1 < argc)
            spin_ns = (int64_t)atof(argv[++i]) * 1000;
        else if (!strcmp(argv[i], "--journal") && i + 1 < argc)
            journal = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            url = NULL, i = argc;
    }
    if (!url || nsources < 1 || nsources > MAX_SOURCES || !policy || seconds <= 0) {
        fprintf(stderr, "usage: bench_aggregate --nats URL [--rates 1000,10000] [--seconds S] "
                        "[--sources N (1..8)] [--policy best|priority|median] [--spin-us US] "
                        "[--journal DIR] [--json]\n");
        return 2;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", rates);
    int rc = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        double rate = atof(t);
        if (rate <= 0)
            continue;
        rc |= run_relay(url, rate, seconds, nsources, json);
        rc |= run_aggregate(url, rate, seconds, nsources, policy, spin_ns, NULL, json);
        if (journal)
            rc |= run_aggregate(url, rate, seconds, nsources, policy, spin_ns, journal, json);
    }
    nats_Close();
    return rc;
}
