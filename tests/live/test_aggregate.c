/*
 * The aggregator against a real nats-server on 127.0.0.1 (started and stopped
 * here, free port): three sources publish EURUSD as TickData on
 * ticks.{ic,pep,fx}.EURUSD, 100 ticks a second each, with scripted faults,
 * policy priority (ic, pep, fx), stale 400 ms, recover 600 ms and 5 quotes:
 *
 *    0.50 s  fx sends three spikes (+500 points): quarantined, never merged
 *    1.50 s  ic goes silent               -> stale: failover ic -> pep
 *    2.40 s  pep disconnects (closes its connection) -> stale: failover pep -> fx
 *    3.20 s  ic is back                   -> after the hysteresis: fail-back fx -> ic
 *    3.80 s  pep reconnects and is back   -> up again after the hysteresis
 *    5.00 s  end
 *
 * Checked from the journal's own arrival stamps, so the checks hold exactly
 * whatever the machine's load: each failover happens at the first tick of
 * another source past the silent one's last tick + 400 ms (within the
 * staleness timeout: the delay is printed), the fail-back at ic's first quote
 * that is at least 600 ms and 5 quotes after its return; no spike reaches the
 * merged feed; the merged feed published on ticks.EURUSD is the output
 * line for line (TickData bid, ask and source); QualityMetrics arrive per
 * source; the health object names every source up at the end; and the replay
 * of the journal writes the same output lines, byte for byte, and recomputes
 * the journaled events. Also: sources from Kafka's tick_archive (librdkafka's
 * mock cluster), named by the TickData's source field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include <nats/nats.h>

#include "kafka_helpers.h"
#include "live/aggregate.h"
#include "live/inbox.h"
#include "live/journal.h"
#include "live/nats_source.h"
#include "live/wallclock.h"
#include "live_helpers.h"
#include "tick_data.pb-c.h"

#define TICK_MS 10
#define END_MS 5000
#define STALE_MS 400
#define RECOVER_MS 600
#define RECOVER_TICKS 5
#define P0 114000

static const char *const NAMES[3] = {"ic", "pep", "fx"};

/* ---- the publishers ---- */

typedef struct pub {
    const char *url;
    int k;
    int64_t start; /* mono ns, shared */
    int sent;
} pub;

static tt_price price_at(int ms) { return P0 + (tt_price)lround(30 * sin(ms / 300.0)); }

static natsConnection *nats_connect(const char *url)
{
    natsConnection *nc = NULL;
    assert_int_equal(natsConnection_ConnectTo(&nc, url), NATS_OK);
    return nc;
}

static void wait_mono(int64_t t)
{
    for (int64_t now; (now = tt_mono_ns()) < t;) {
        int64_t d = t - now;
        struct timespec ts = {(time_t)(d / TT_NS_PER_SEC), (long)(d % TT_NS_PER_SEC)};
        nanosleep(&ts, NULL);
    }
}

static void *publisher(void *arg)
{
    pub *p = arg;
    natsConnection *nc = nats_connect(p->url);
    char subj[64];
    snprintf(subj, sizeof subj, "ticks.%s.EURUSD", NAMES[p->k]);
    tt_wallclock wc;
    tt_wallclock_init(&wc);
    for (int ms = 0; ms < END_MS; ms += TICK_MS) {
        wait_mono(p->start + (int64_t)ms * TT_NS_PER_MS + p->k * 3 * TT_NS_PER_MS);
        if (p->k == 0 && ms >= 1500 && ms < 3200)
            continue; /* ic: silent */
        if (p->k == 1 && ms >= 2400 && ms < 3800) {
            if (nc) { /* pep: disconnected */
                natsConnection_Close(nc);
                natsConnection_Destroy(nc);
                nc = NULL;
            }
            continue;
        }
        if (!nc)
            nc = nats_connect(p->url);
        tt_price bid = price_at(ms) + (p->k == 1);
        if (p->k == 2 && ms >= 500 && ms < 530)
            bid += 500; /* fx: spikes */
        Aitrading__Common__TickData t = AITRADING__COMMON__TICK_DATA__INIT;
        t.symbol = "EURUSD";
        t.bid = (double)bid / 1e5;
        t.ask = (double)(bid + 3) / 1e5;
        t.timestamp = tt_wallclock_now(&wc) / TT_NS_PER_MS;
        uint8_t buf[128];
        size_t n = aitrading__common__tick_data__pack(&t, buf);
        assert_int_equal(natsConnection_Publish(nc, subj, buf, (int)n), NATS_OK);
        p->sent++;
    }
    natsConnection_Flush(nc);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    return NULL;
}

/* ---- what the aggregator wrote and published ---- */

typedef struct lines {
    char *buf;
    size_t len, cap;
    pthread_mutex_t mu;
} lines;

static void add_line(void *ctx, const char *line, size_t len)
{
    lines *l = ctx;
    pthread_mutex_lock(&l->mu);
    if (l->len + len + 1 > l->cap) {
        l->cap = (l->len + len + 1) * 2;
        l->buf = realloc(l->buf, l->cap);
    }
    memcpy(l->buf + l->len, line, len);
    l->len += len;
    l->buf[l->len] = '\0';
    pthread_mutex_unlock(&l->mu);
}

typedef struct heard {
    pthread_mutex_t mu;
    lines ticks; /* "bid ask source" per TickData on ticks.EURUSD */
    int quality[3];
    int failovers;
} heard;

static void on_heard(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    heard *h = closure;
    const char *s = natsMsg_GetSubject(m);
    if (!strcmp(s, "ticks.EURUSD")) {
        Aitrading__Common__TickData *t = aitrading__common__tick_data__unpack(
            NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
        if (t) {
            char l[128];
            int n = snprintf(l, sizeof l, "%.5f %.5f %s\n", t->bid, t->ask, t->source);
            add_line(&h->ticks, l, (size_t)n);
            aitrading__common__tick_data__free_unpacked(t, NULL);
        }
    } else if (!strncmp(s, "quality.", 8)) {
        pthread_mutex_lock(&h->mu);
        for (int k = 0; k < 3; k++)
            h->quality[k] += !strncmp(s + 8, NAMES[k], strlen(NAMES[k])) &&
                             s[8 + strlen(NAMES[k])] == '.';
        pthread_mutex_unlock(&h->mu);
    } else if (!strcmp(s, "sources.failover.EURUSD")) {
        pthread_mutex_lock(&h->mu);
        h->failovers++;
        pthread_mutex_unlock(&h->mu);
    }
    natsMsg_Destroy(m);
}

typedef struct runner {
    tt_aggregator *a;
    int rc;
    tt_err err;
} runner;

static void *agg_main(void *arg)
{
    runner *r = arg;
    r->rc = tt_aggregator_run(r->a, &r->err);
    return NULL;
}

/* ---- reading the journal and the output ---- */

typedef struct tick {
    tt_ts ts;
    int source;
} tick;

static int journal_ticks(const char *dir, const tt_instruments *ins, tick *out, int cap)
{
    tt_journal_reader *r;
    tt_err err;
    assert_int_equal(tt_journal_reader_open(&r, dir, ins, &err), TT_OK);
    tt_event ev;
    int n = 0;
    while (tt_journal_reader_next(r, &ev, &err) == 1)
        if (ev.kind == TT_EV_QUOTE && n < cap) {
            out[n].ts = ev.ts;
            out[n].source = ev.source - 1;
            n++;
        }
    tt_journal_reader_close(r);
    return n;
}

/* Times of the events of a kind ("failover") in the output, with from/to. */
typedef struct event_rec {
    tt_ts ts;
    char from[8], to[8], reason[16], source[8];
} event_rec;

static int find_events(const char *out, const char *kind, event_rec *ev, int cap)
{
    char key[64];
    snprintf(key, sizeof key, "{\"event\":\"%s\"", kind);
    int n = 0;
    for (const char *p = out; (p = strstr(p, key)) && n < cap; p++) {
        char t[64];
        event_rec *e = &ev[n++];
        memset(e, 0, sizeof *e);
        assert_int_equal(sscanf(strstr(p, "\"time\":\"") + 8, "%63[^\"]", t), 1);
        assert_int_equal(tt_ts_parse(t, &e->ts), TT_OK);
        const char *f;
        const char *eol = strchr(p, '\n');
        if ((f = strstr(p, "\"from\":\"")) && f < eol)
            sscanf(f + 8, "%7[^\"]", e->from);
        if ((f = strstr(p, "\"to\":\"")) && f < eol)
            sscanf(f + 6, "%7[^\"]", e->to);
        if ((f = strstr(p, "\"reason\":\"")) && f < eol)
            sscanf(f + 10, "%15[^\"]", e->reason);
        if ((f = strstr(p, "\"source\":\"")) && f < eol)
            sscanf(f + 10, "%7[^\"]", e->source);
    }
    return n;
}

/* The failover away from `gone` must happen at the first tick of another
 * source more than the timeout after gone's last tick before it. Returns the
 * delay from that last tick. */
static tt_ts check_failover(const tick *t, int n, const event_rec *fo, int gone)
{
    tt_ts last = 0;
    for (int i = 0; i < n && t[i].ts < fo->ts; i++)
        if (t[i].source == gone)
            last = t[i].ts;
    assert_true(last > 0);
    tt_ts first = 0;
    for (int i = 0; i < n && !first; i++)
        if (t[i].source != gone && t[i].ts > last + STALE_MS * TT_NS_PER_MS)
            first = t[i].ts;
    if (fo->ts != first)
        fail_msg("failover at %lld, first tick past the timeout at %lld", (long long)fo->ts,
                 (long long)first);
    return fo->ts - last;
}

static void test_faults_failover_replay(void **state)
{
    tt_test_nats *srv = *state;
    char dir[4096], journal[4200];
    tt_test_tmpdir(dir, sizeof dir, "aggregate");
    snprintf(journal, sizeof journal, "%s/journal", dir);
    tt_instruments *ins = tt_instruments_new();

    heard h;
    memset(&h, 0, sizeof h);
    pthread_mutex_init(&h.mu, NULL);
    pthread_mutex_init(&h.ticks.mu, NULL);
    natsConnection *obs = nats_connect(srv->url);
    natsSubscription *s1, *s2, *s3;
    assert_int_equal(natsConnection_Subscribe(&s1, obs, "ticks.EURUSD", on_heard, &h), NATS_OK);
    assert_int_equal(natsConnection_Subscribe(&s2, obs, "quality.>", on_heard, &h), NATS_OK);
    assert_int_equal(natsConnection_Subscribe(&s3, obs, "sources.>", on_heard, &h), NATS_OK);
    natsConnection_Flush(obs);

    lines out;
    memset(&out, 0, sizeof out);
    pthread_mutex_init(&out.mu, NULL);
    tt_aggregator_opts o;
    memset(&o, 0, sizeof o);
    o.nats_url = srv->url;
    const char *names[4] = {"ic", "pep", "fx", NULL};
    o.sources = names;
    o.cfg.policy = TT_POLICY_PRIORITY;
    o.cfg.stale = STALE_MS * TT_NS_PER_MS;
    o.cfg.recover = RECOVER_MS * TT_NS_PER_MS;
    o.cfg.recover_ticks = RECOVER_TICKS;
    o.ins = ins;
    o.journal_dir = journal;
    o.on_output = add_line;
    o.out_ctx = &out;
    tt_aggregator *a;
    tt_err err;
    if (tt_aggregator_open(&a, &o, &err))
        fail_msg("%s", err.msg);
    pthread_t agg_th;
    runner rn = {a, 0, {0}};
    pthread_create(&agg_th, NULL, agg_main, &rn);

    pub p[3];
    pthread_t th[3];
    int64_t start = tt_mono_ns() + 200 * TT_NS_PER_MS;
    for (int k = 0; k < 3; k++) {
        p[k] = (pub){srv->url, k, start, 0};
        pthread_create(&th[k], NULL, publisher, &p[k]);
    }
    for (int k = 0; k < 3; k++)
        pthread_join(th[k], NULL);
    tt_test_sleep_ms(300);
    char health[8192];
    size_t hn = tt_aggregator_health_json(a, health, sizeof health);
    tt_aggregator_stop(a);
    pthread_join(agg_th, NULL);
    if (rn.rc)
        fail_msg("aggregator: %s", rn.err.msg);
    tt_aggregator_stats st;
    tt_aggregator_stats_get(a, &st);
    assert_int_equal(tt_aggregator_close(a, &err), TT_OK);
    natsConnection_Flush(obs);
    tt_test_sleep_ms(200);

    /* every tick sent was taken in */
    int sent = p[0].sent + p[1].sent + p[2].sent;
    assert_int_equal(st.ticks, (uint64_t)sent);
    assert_int_equal(st.rejected + st.dropped, 0);
    static tick t[4096];
    int nt = journal_ticks(journal, ins, t, 4096);
    assert_int_equal(nt, sent);

    /* the events */
    event_rec fo[8], fb[8], sd[32];
    int nfo = find_events(out.buf, "failover", fo, 8);
    int nfb = find_events(out.buf, "failback", fb, 8);
    int nsd = find_events(out.buf, "state", sd, 32);
    if (nfo != 2 || nfb != 1)
        fail_msg("%d failovers, %d fail-backs:\n%s", nfo, nfb, out.buf);
    assert_string_equal(fo[0].from, "ic");
    assert_string_equal(fo[0].to, "pep");
    assert_string_equal(fo[0].reason, "stale");
    assert_string_equal(fo[1].from, "pep");
    assert_string_equal(fo[1].to, "fx");
    assert_string_equal(fb[0].from, "fx");
    assert_string_equal(fb[0].to, "ic");
    tt_ts d1 = check_failover(t, nt, &fo[0], 0);
    tt_ts d2 = check_failover(t, nt, &fo[1], 1);
    /* fail-back: ic's first tick at least RECOVER and RECOVER_TICKS after its return */
    tt_ts ret = 0, want = 0;
    int count = 0;
    for (int i = 0; i < nt; i++) {
        if (t[i].source != 0 || t[i].ts < fo[1].ts)
            continue;
        if (!ret)
            ret = t[i].ts;
        if (++count >= RECOVER_TICKS && t[i].ts - ret >= RECOVER_MS * TT_NS_PER_MS && !want)
            want = t[i].ts;
    }
    assert_true(fb[0].ts == want);
    /* fx quarantined once for its spikes; pep down (stale) and up again */
    int fx_dev = 0, pep_stale = 0, pep_up = 0;
    for (int i = 0; i < nsd; i++) {
        fx_dev += !strcmp(sd[i].source, "fx") && !strcmp(sd[i].reason, "deviation");
        pep_stale += !strcmp(sd[i].source, "pep") && !strcmp(sd[i].reason, "stale");
        pep_up += !strcmp(sd[i].source, "pep") && !strcmp(sd[i].reason, "ok") &&
                  sd[i].ts > fo[1].ts;
    }
    assert_int_equal(fx_dev, 1);
    assert_int_equal(pep_stale, 1);
    assert_int_equal(pep_up, 1);
    /* no spike: every merged bid within the path's range */
    for (const char *q = out.buf; (q = strstr(q, "\"bid\":")); q++) {
        double bid = atof(q + 6);
        assert_true(bid * 1e5 < P0 + 100 && bid * 1e5 > P0 - 100);
    }
    /* published = the output, tick for tick */
    int merged = 0;
    for (const char *q = out.buf; (q = strstr(q, "{\"tick\":")); q++)
        merged++;
    assert_int_equal(merged, (int)st.merged);
    char *l = h.ticks.buf;
    int k = 0;
    for (const char *q = out.buf; (q = strstr(q, "{\"tick\":")); q++, k++) {
        double bid = atof(strstr(q, "\"bid\":") + 6), ask = atof(strstr(q, "\"ask\":") + 6);
        char src[16];
        sscanf(strstr(q, "\"bid_from\":\"") + 12, "%15[^\"]", src);
        char want_line[128];
        snprintf(want_line, sizeof want_line, "%.5f %.5f %s\n", bid, ask, src);
        assert_non_null(l);
        char *nl = strchr(l, '\n');
        assert_non_null(nl);
        if (strncmp(l, want_line, (size_t)(nl - l + 1)))
            fail_msg("published tick %d: %.*s, output %s", k, (int)(nl - l), l, want_line);
        l = nl + 1;
    }
    assert_int_equal(k, merged);
    pthread_mutex_lock(&h.mu);
    for (int s = 0; s < 3; s++)
        assert_true(h.quality[s] >= 2);
    assert_int_equal(h.failovers, 2);
    pthread_mutex_unlock(&h.mu);
    /* health */
    assert_true(hn > 0);
    for (int s = 0; s < 3; s++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\":{\"active_symbols\":[{\"symbol\":\"EURUSD\",\"state\":"
                 "\"up\"", NAMES[s]);
        if (!strstr(health, key))
            fail_msg("health: %s not up: %s", NAMES[s], health);
    }
    assert_non_null(strstr(health, "\"ticks_per_second\":"));
    assert_non_null(strstr(health, "\"latency_ms\":"));

    /* the replay: the same lines, the same events */
    lines rep;
    memset(&rep, 0, sizeof rep);
    pthread_mutex_init(&rep.mu, NULL);
    tt_aggregator_replay_stats rs;
    if (tt_aggregator_replay(journal, ins, NULL, add_line, &rep, &rs, &err))
        fail_msg("replay: %s", err.msg);
    assert_int_equal(rep.len, out.len);
    assert_memory_equal(rep.buf, out.buf, out.len);
    assert_int_equal(rs.mismatches, 0);
    assert_true(rs.journaled_events > 5);
    /* a what-if replay with another policy gives another feed */
    lines alt;
    memset(&alt, 0, sizeof alt);
    pthread_mutex_init(&alt.mu, NULL);
    tt_consol_config best = o.cfg;
    best.policy = TT_POLICY_BEST;
    assert_int_equal(tt_aggregator_replay(journal, ins, &best, add_line, &alt, &rs, &err), TT_OK);
    assert_true(alt.len != out.len || memcmp(alt.buf, out.buf, out.len));
    print_message("aggregate: %d ticks from 3 sources, %d merged; failover %.1f ms and %.1f ms "
                  "after the silent source's last tick (timeout %d ms); fail-back at the "
                  "hysteresis; replay identical (%zu bytes)\n",
                  sent, merged, d1 / 1e6, d2 / 1e6, STALE_MS, out.len);

    free(out.buf);
    free(rep.buf);
    free(alt.buf);
    free(h.ticks.buf);
    natsSubscription_Destroy(s1);
    natsSubscription_Destroy(s2);
    natsSubscription_Destroy(s3);
    natsConnection_Close(obs);
    natsConnection_Destroy(obs);
    tt_instruments_free(ins);
    tt_test_rmdir(dir);
}

/* An unknown source is rejected when the sources are given; the source table
 * grows in order of appearance when they are not; no server is an error. */
static void test_sources_and_errors(void **state)
{
    tt_test_nats *srv = *state;
    tt_instruments *ins = tt_instruments_new();
    const char *only[2] = {"ic", NULL};
    tt_aggregator_opts o;
    memset(&o, 0, sizeof o);
    o.nats_url = srv->url;
    o.sources = only;
    o.cfg.policy = TT_POLICY_BEST;
    o.ins = ins;
    o.no_publish = 1;
    tt_aggregator *a;
    tt_err err;
    assert_int_equal(tt_aggregator_open(&a, &o, &err), TT_OK);
    runner rn = {a, 0, {0}};
    pthread_t th;
    pthread_create(&th, NULL, agg_main, &rn);
    natsConnection *nc = nats_connect(srv->url);
    Aitrading__Common__TickData t = AITRADING__COMMON__TICK_DATA__INIT;
    t.symbol = "EURUSD";
    t.bid = 1.14;
    t.ask = 1.1401;
    uint8_t buf[128];
    size_t n = aitrading__common__tick_data__pack(&t, buf);
    natsConnection_Publish(nc, "ticks.ic.EURUSD", buf, (int)n);
    natsConnection_Publish(nc, "ticks.other.EURUSD", buf, (int)n);
    natsConnection_Publish(nc, "ticks.ic.EURUSD", "junk", 4);
    natsConnection_Flush(nc);
    tt_test_sleep_ms(300);
    tt_aggregator_stop(a);
    pthread_join(th, NULL);
    tt_aggregator_stats st;
    tt_aggregator_stats_get(a, &st);
    assert_int_equal(st.ticks, 1);
    assert_int_equal(st.rejected, 2);
    assert_int_equal(st.sources, 1);
    tt_aggregator_close(a, NULL);
    /* any source: in order of appearance */
    o.sources = NULL;
    assert_int_equal(tt_aggregator_open(&a, &o, &err), TT_OK);
    rn.a = a;
    pthread_create(&th, NULL, agg_main, &rn);
    natsConnection_Publish(nc, "ticks.b.EURUSD", buf, (int)n);
    natsConnection_Flush(nc);
    tt_test_sleep_ms(100);
    natsConnection_Publish(nc, "ticks.a.EURUSD", buf, (int)n);
    natsConnection_Flush(nc);
    tt_test_sleep_ms(300);
    char health[4096];
    assert_true(tt_aggregator_health_json(a, health, sizeof health) > 0);
    char *pb = strstr(health, "\"b\":{"), *pa = strstr(health, "\"a\":{");
    assert_true(pb && pa && pb < pa); /* b first: it came first */
    tt_aggregator_stop(a);
    pthread_join(th, NULL);
    tt_aggregator_stats_get(a, &st);
    assert_int_equal(st.sources, 2);
    tt_aggregator_close(a, NULL);
    /* a session's NATS source (default subjects) takes ticks.{SYMBOL}, never the raw feeds */
    tt_wallclock wc;
    tt_wallclock_init(&wc);
    tt_inbox *q;
    tt_inbox_opts io = {.clock = &wc};
    assert_int_equal(tt_inbox_new(&q, &io, &err), TT_OK);
    tt_nats_source *ns;
    tt_nats_source_opts no = {.url = srv->url, .ins = ins, .inbox = q};
    assert_int_equal(tt_nats_source_open(&ns, &no, &err), TT_OK);
    natsConnection_Publish(nc, "ticks.ic.EURUSD", buf, (int)n);
    natsConnection_Publish(nc, "ticks.EURUSD", buf, (int)n);
    natsConnection_Flush(nc);
    tt_test_sleep_ms(300);
    tt_nats_source_stats nst;
    tt_nats_source_stats_get(ns, &nst);
    assert_int_equal(nst.received, 1);
    tt_nats_source_close(ns);
    tt_inbox_free(q);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    /* no server there */
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", tt_test_free_port());
    o.nats_url = url;
    assert_int_equal(tt_aggregator_open(&a, &o, &err), TT_ENET);
    assert_null(a);
    /* a journal that is not an aggregator's */
    tt_aggregator_replay_stats rs;
    assert_true(tt_aggregator_replay("/nonexistent", ins, NULL, NULL, NULL, &rs, &err) < 0);
    tt_instruments_free(ins);
}

static tt_test_kafka kafka;

/* Ticks from Kafka's tick_archive: the TickData's source field names the
 * source; one without is rejected. The merged feed replays the same. */
static void test_kafka_input(void **state)
{
    tt_test_nats *srv = *state;
    char dir[4096], journal[4200], group[64];
    tt_test_tmpdir(dir, sizeof dir, "aggregate-kafka");
    snprintf(journal, sizeof journal, "%s/journal", dir);
    snprintf(group, sizeof group, "tt-agg-%lld", (long long)tt_mono_ns());
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", kafka.brokers, errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    assert_non_null(rk);
    const int n = 200;
    for (int i = 0; i <= n; i++) {
        Aitrading__Common__TickData t = AITRADING__COMMON__TICK_DATA__INIT;
        t.symbol = "EURUSD";
        t.bid = (double)(P0 + i / 2) / 1e5;
        t.ask = (double)(P0 + i / 2 + 3) / 1e5;
        t.timestamp = 1549267200000LL + i;
        t.source = i == n ? "" : (i % 2 ? "k2" : "k1"); /* the last one has none */
        uint8_t buf[128];
        size_t len = aitrading__common__tick_data__pack(&t, buf);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("tick_archive"), RD_KAFKA_V_KEY("EURUSD", 6),
                                 RD_KAFKA_V_VALUE(buf, len),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
    }
    assert_int_equal(rd_kafka_flush(rk, 20000), 0);
    rd_kafka_destroy(rk);

    tt_instruments *ins = tt_instruments_new();
    lines out;
    memset(&out, 0, sizeof out);
    pthread_mutex_init(&out.mu, NULL);
    tt_aggregator_opts o;
    memset(&o, 0, sizeof o);
    o.nats_url = srv->url;
    o.kafka_brokers = kafka.brokers;
    o.kafka_group = group;
    o.kafka_from_beginning = 1;
    o.cfg.policy = TT_POLICY_BEST;
    o.ins = ins;
    o.journal_dir = journal;
    o.on_output = add_line;
    o.out_ctx = &out;
    tt_aggregator *a;
    tt_err err;
    if (tt_aggregator_open(&a, &o, &err))
        fail_msg("%s", err.msg);
    runner rn = {a, 0, {0}};
    pthread_t th;
    pthread_create(&th, NULL, agg_main, &rn);
    tt_aggregator_stats st;
    int64_t dl = tt_mono_ns() + 30 * TT_NS_PER_SEC;
    do {
        tt_test_sleep_ms(100);
        tt_aggregator_stats_get(a, &st);
    } while (st.ticks + st.rejected < (uint64_t)n + 1 && tt_mono_ns() < dl);
    tt_aggregator_stop(a);
    pthread_join(th, NULL);
    tt_aggregator_stats_get(a, &st);
    assert_int_equal(tt_aggregator_close(a, &err), TT_OK);
    assert_int_equal(rn.rc, 0);
    assert_int_equal(st.ticks, (uint64_t)n);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.sources, 2);
    assert_true(st.merged > 0);
    assert_non_null(strstr(out.buf, "\"bid_from\":\"k1"));
    lines rep;
    memset(&rep, 0, sizeof rep);
    pthread_mutex_init(&rep.mu, NULL);
    tt_aggregator_replay_stats rs;
    assert_int_equal(tt_aggregator_replay(journal, ins, NULL, add_line, &rep, &rs, &err), TT_OK);
    assert_int_equal(rep.len, out.len);
    assert_memory_equal(rep.buf, out.buf, out.len);
    free(out.buf);
    free(rep.buf);
    tt_instruments_free(ins);
    tt_test_rmdir(dir);
}

static int setup(void **state)
{
    static tt_test_nats srv;
    memset(&srv, 0, sizeof srv);
    if (tt_test_nats_start(&srv) || tt_test_kafka_start(&kafka, 1))
        return -1;
    *state = &srv;
    return 0;
}

static int teardown(void **state)
{
    tt_test_nats_stop(*state);
    tt_test_kafka_stop(&kafka);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_failover_replay),
        cmocka_unit_test(test_sources_and_errors),
        cmocka_unit_test(test_kafka_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
