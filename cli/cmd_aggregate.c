/*
 * `ticktape aggregate --nats URL [--sources A,B] [--policy P]`: several feeds
 * of the same symbols (ticks.{SOURCE}.{SYMBOL}) merged into one on
 * ticks.{SYMBOL}, with health, failover and QualityMetrics (live/aggregate.h).
 * `--journal DIR` keeps every input; `ticktape aggregate --replay DIR` writes
 * the same output lines from it (docs/sources.md).
 *
 * Runs until SIGINT or SIGTERM (or --duration): the handler only asks the
 * inbox to stop, the queue drains and a STOP is journaled. A helper thread
 * prints the health object every --status-every seconds.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "core/consolidate.h"
#include "core/instrument.h"
#include "live/aggregate.h"
#include "live/status_http.h"

static tt_aggregator *g_agg; /* for the signal handler only: the CLI owns the process */

static void on_signal(int sig)
{
    (void)sig;
    if (g_agg)
        tt_aggregator_stop(g_agg);
}

typedef struct agg_cli {
    const char *url, *replay, *sources, *journal, *out, *ins_file, *kafka, *kafka_group;
    int from_beginning;
    tt_consol_config cfg;
    double duration, status_every;
    uint64_t queue, spin_us;
    int fsync, no_publish, json;
    FILE *outf;
    uint64_t lines;
    tt_net_cli net; /* NATS authentication and TLS, --kafka-set (cli/net_opts.c) */
    tt_ops_cli ops; /* --http, --notify ... (cli/ops_cli.c) */
    tt_ops *run_ops;
} agg_cli;

#define F(field) offsetof(agg_cli, field)

static const tt_opt AGG_OPTS[] = {
    {TT_OPT_STRING, "nats", .off = F(url), .arg = "URL",
     .help = "NATS server: ticks.{SOURCE}.{SYMBOL} in, ticks.{SYMBOL} out"},
    {TT_OPT_STRING, "replay", .off = F(replay), .arg = "JOURNAL",
     .help = "instead: replay an aggregator's journal into --out"},
    {TT_OPT_STRING, "kafka", .off = F(kafka), .arg = "BROKERS",
     .help = "also consume tick_archive: TickData whose source field names the source"},
    {TT_OPT_STRING, "kafka-group", .off = F(kafka_group), .arg = "G", .def_text = "ticktape",
     .help = "the Kafka consumer group"},
    {TT_OPT_FLAG, "from-beginning", .off = F(from_beginning),
     .help = "a new Kafka group starts at the oldest tick_archive offset"},
    {TT_OPT_INCLUDE, .include = tt_net_kafka_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_net_nats_opts, .off = F(net)},
    {TT_OPT_STRING, "sources", .off = F(sources), .arg = "A,B",
     .def_text = "any, in order of first appearance",
     .help = "the sources, in priority order; ticks of others are rejected"},
    {TT_OPT_INCLUDE, .include = tt_consol_opts, .off = F(cfg)},
    {TT_OPT_STRING, "journal", .off = F(journal), .arg = "DIR",
     .help = "journal every input here (a new directory), for --replay"},
    {TT_OPT_FLAG, "fsync", .off = F(fsync), .help = "fsync each journal block"},
    {TT_OPT_STRING, "out", .off = F(out), .arg = "FILE",
     .help = "write the merged ticks and the events as JSON lines"},
    {TT_OPT_FLAG, "no-publish", .off = F(no_publish),
     .help = "merge and journal, publish nothing"},
    {TT_OPT_DOUBLE, "duration", .off = F(duration), .arg = "S", .min = 0, .max = 1e9,
     .help = "stop after S seconds (default: at SIGINT or SIGTERM)"},
    {TT_OPT_DOUBLE, "status-every", .off = F(status_every), .arg = "S", .min = 0, .max = 1e6,
     .help = "print the health object (JSON) on stderr every S seconds"},
    {TT_OPT_UINT, "queue", .off = F(queue), .arg = "N", .min = 128, .max = 1 << 24,
     .def_text = "65536", .help = "inbox slots (the oldest ticks are dropped beyond)"},
    {TT_OPT_UINT, "spin", .off = F(spin_us), .arg = "US", .max = 1e6,
     .help = "poll the inbox this many microseconds before sleeping (latency)"},
    {TT_OPT_STRING, "instruments", .off = F(ins_file), .arg = "FILE",
     .help = "extra instrument declarations (docs/instruments.md)"},
    {TT_OPT_FLAG, "json", .off = F(json), .help = "last line of stdout: a JSON summary"},
    {TT_OPT_INCLUDE, .include = tt_ops_opts, .off = F(ops)},
    {TT_OPT_END},
};

static const tt_opt_rule AGG_RULES[] = {
    {TT_RULE_ONE_OF, {"nats", "replay"}, "give --nats URL (live) or --replay JOURNAL"},
    {TT_RULE_EXCLUSIVE, {"kafka", "replay"}, "--kafka is a live input; --replay reads a journal"},
    {TT_RULE_END},
};

static int run_aggregate(int argc, char **argv);

const tt_cmd tt_command_aggregate = {
    .name = "aggregate",
    .summary = "merge several live feeds into one: best, priority or median, with failover",
    .run = run_aggregate,
    .opts = AGG_OPTS,
    .size = sizeof(agg_cli),
    .rules = AGG_RULES,
    .about =
        "Consumes ticks.{SOURCE}.{SYMBOL} (TickData) from NATS and publishes one merged feed on\n"
        "ticks.{SYMBOL} (TickData whose source field names the source(s)), the health and\n"
        "failover events on sources.state.{SOURCE}, sources.failover|failback|cross.{SYMBOL}\n"
        "(JSON), and QualityMetrics per source and symbol on quality.{SOURCE}.{SYMBOL} every\n"
        "second. With --kafka, TickData from tick_archive whose source field names the source\n"
        "come in too. Time is the arrival stamp; with --journal every input is kept, and\n"
        "`--replay JOURNAL --out FILE` writes the same output lines as the live --out.\n"
        "With --replay, health options given on the command line replace the journaled ones\n"
        "(a what-if run).\n",
    .epilog = "exit codes: 0 done, 1 failure (no server, journal directory used, replay\n"
              "differs), 2 usage error\n",
};

/* A consolidator event line ({"event":"failover",...}) is also an event of the
 * status server's stream and of the notifier: sources.failover and the like. */
static void ops_line(tt_ops *ops, const char *line, size_t len)
{
    static const char key[] = "{\"event\":\"";
    if (len < sizeof key || memcmp(line, key, sizeof key - 1) || len > 1000)
        return;
    const char *name = line + sizeof key - 1, *end = memchr(name, '"', len - (sizeof key - 1));
    if (!end || end - name > 32)
        return;
    char subject[48], json[1024];
    snprintf(subject, sizeof subject, "sources.%.*s", (int)(end - name), name);
    snprintf(json, sizeof json, "%.*s", (int)(len && line[len - 1] == '\n' ? len - 1 : len), line);
    tt_ops_event(ops, subject, json);
}

static void write_line(void *ctx, const char *line, size_t len)
{
    agg_cli *a = ctx;
    if (a->outf)
        fwrite(line, 1, len, a->outf);
    a->lines++;
    if (a->run_ops && line[0] == '{' && line[1] == '"' && line[2] == 'e')
        ops_line(a->run_ops, line, len);
}

static void agg_info(void *ctx, tt_status_info *in)
{
    tt_aggregator_stats st;
    tt_aggregator_stats_get(ctx, &st);
    in->nsrc = 1;
    snprintf(in->src[0].name, sizeof in->src[0].name, "ticks");
    in->src[0].inputs = st.ticks;
    in->src[0].dropped = st.dropped;
    in->src[0].rejected = st.rejected;
    static const tt_ops_metric M[] = {
        {"ticktape_aggregate_received_total", "Messages delivered by nats.c.", 1},
        {"ticktape_aggregate_merged_total", "Merged ticks out.", 1},
        {"ticktape_aggregate_events_total", "Health, failover, fail-back and cross events.", 1},
        {"ticktape_aggregate_published_total", "Messages published.", 1},
        {"ticktape_aggregate_publish_failed_total", "Messages that could not be published.", 1},
        {"ticktape_aggregate_journaled_total", "Inputs journaled.", 1},
        {"ticktape_aggregate_sources", "Sources seen.", 0},
        {"ticktape_aggregate_tick_seconds", "Consolidation and publication per tick, mean.", 0}};
    double v[] = {(double)st.received,  (double)st.merged,         (double)st.events,
                  (double)st.published, (double)st.publish_failed, (double)st.journaled,
                  (double)st.sources,   st.proc_ns_avg / 1e9};
    tt_ops_info_metrics(in, M, v, 8);
    /* the ingestion gateway's health object, per source (issue 18, item 3) */
    if (!tt_aggregator_health_json(ctx, in->detail, sizeof in->detail))
        in->detail[0] = '\0';
}

static void log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ticktape aggregate: %s\n", line);
}

typedef struct ticker {
    tt_aggregator *agg;
    double duration, every, start;
    atomic_int done;
} ticker;

static void *tick_loop(void *arg)
{
    ticker *t = arg;
    double last = t->start;
    char buf[16384];
    while (!atomic_load(&t->done)) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        double now = tt_wall_seconds();
        if (t->duration > 0 && now - t->start >= t->duration)
            tt_aggregator_stop(t->agg);
        if (t->every > 0 && now - last >= t->every) {
            last = now;
            if (tt_aggregator_health_json(t->agg, buf, sizeof buf))
                fprintf(stderr, "%s\n", buf);
        }
    }
    return NULL;
}

static int do_replay(agg_cli *a, const tt_instruments *ins, int override)
{
    tt_aggregator_replay_stats st;
    tt_err err;
    int rc = tt_aggregator_replay(a->replay, ins, override ? &a->cfg : NULL, write_line, a, &st,
                                  &err);
    fprintf(stderr,
            "ticktape aggregate: replayed %" PRIu64 " ticks of %u source(s): %" PRIu64
            " merged, %" PRIu64 " events (%" PRIu64 " journaled, %" PRIu64 " differ)\n",
            st.ticks, st.sources, st.merged, st.events, st.journaled_events, st.mismatches);
    if (a->json)
        printf("{\"ticks\":%" PRIu64 ",\"sources\":%u,\"merged\":%" PRIu64 ",\"events\":%" PRIu64
               ",\"journaled_events\":%" PRIu64 ",\"mismatches\":%" PRIu64 "}\n",
               st.ticks, st.sources, st.merged, st.events, st.journaled_events, st.mismatches);
    return rc ? tt_report_error(&err) : TT_EXIT_OK;
}

static int do_live(agg_cli *a, const tt_instruments *ins, const char *const *sources)
{
    tt_aggregator_opts o;
    memset(&o, 0, sizeof o);
    o.nats_url = a->url;
    o.kafka_brokers = a->kafka;
    o.kafka_group = a->kafka_group;
    o.kafka_from_beginning = a->from_beginning;
    o.kafka_conf = tt_net_kafka_conf(&a->net);
    o.nats_auth = tt_net_nats(&a->net);
    o.sources = sources;
    o.cfg = a->cfg;
    o.ins = ins;
    o.journal_dir = a->journal;
    o.journal_fsync = a->fsync;
    o.no_publish = a->no_publish;
    o.queue_capacity = (uint32_t)a->queue;
    o.spin_ns = (int64_t)a->spin_us * 1000;
    o.on_output = write_line;
    o.out_ctx = a;
    o.log = log_stderr;
    tt_err err;
    tt_aggregator *agg;
    if (tt_ops_open(&a->run_ops, &a->ops, "aggregate", NULL, log_stderr, &err))
        return tt_report_error(&err);
    tt_ops_hooks hooks = {.info = agg_info, .log = log_stderr};
    if (tt_aggregator_open(&agg, &o, &err)) {
        tt_ops_close(a->run_ops);
        return tt_report_error(&err);
    }
    if ((hooks.ctx = agg, tt_ops_serve(a->run_ops, &hooks, &err))) {
        tt_ops_close(a->run_ops);
        tt_aggregator_close(agg, NULL);
        return tt_report_error(&err);
    }
    g_agg = agg;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    ticker t = {agg, a->duration, a->status_every, tt_wall_seconds(), 0};
    pthread_t th;
    int have_th = pthread_create(&th, NULL, tick_loop, &t) == 0;
    int rc = tt_aggregator_run(agg, &err);
    atomic_store(&t.done, 1);
    if (have_th)
        pthread_join(th, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    g_agg = NULL;
    tt_aggregator_stats st;
    tt_aggregator_stats_get(agg, &st);
    char health[16384];
    size_t hn = tt_aggregator_health_json(agg, health, sizeof health);
    tt_ops_close(a->run_ops); /* before the aggregator: the server reads it */
    a->run_ops = NULL;
    tt_err cerr;
    int crc = tt_aggregator_close(agg, &cerr);
    fprintf(stderr,
            "ticktape aggregate: %u source(s), %" PRIu64 " ticks (received %" PRIu64
            ", rejected %" PRIu64 ", dropped %" PRIu64 "), %" PRIu64 " merged, %" PRIu64
            " events; published %" PRIu64 " (failed %" PRIu64 "), journaled %" PRIu64
            "; %.2f us a tick\n",
            st.sources, st.ticks, st.received, st.rejected, st.dropped, st.merged, st.events,
            st.published, st.publish_failed, st.journaled, st.proc_ns_avg / 1000);
    if (a->json)
        printf("{\"sources\":%u,\"ticks\":%" PRIu64 ",\"received\":%" PRIu64
               ",\"rejected\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"merged\":%" PRIu64
               ",\"events\":%" PRIu64 ",\"published\":%" PRIu64 ",\"journaled\":%" PRIu64
               ",\"health\":%s}\n",
               st.sources, st.ticks, st.received, st.rejected, st.dropped, st.merged, st.events,
               st.published, st.journaled, hn ? health : "null");
    if (rc)
        return tt_report_error(&err);
    if (crc)
        return tt_report_error(&cerr);
    return TT_EXIT_OK;
}

static int run_aggregate(int argc, char **argv)
{
    agg_cli a;
    memset(&a, 0, sizeof a);
    tt_opts_seen seen;
    int rc = tt_opts_parse(&tt_command_aggregate, &a, argc, argv, &seen);
    if (rc != TT_OPTS_RUN)
        return rc;
    if ((rc = tt_net_check(&a.net, "aggregate")) != 0)
        return rc;
    if ((rc = tt_ops_check(&a.ops, "aggregate")) != TT_EXIT_OK)
        return rc;
    if (a.replay && (a.ops.http.host[0] || a.ops.notify))
        return tt_usage_error("aggregate", "--http and --notify are for a live aggregator, not "
                                           "--replay");
    tt_consol_cli_finish(&a.cfg);
    char srcbuf[1024];
    const char *sources[TT_CONSOL_MAX_SOURCES + 1] = {NULL};
    tt_consol_cli_list(a.sources, srcbuf, sizeof srcbuf, sources, TT_CONSOL_MAX_SOURCES);
    tt_err err;
    tt_instruments *ins = tt_consol_cli_instruments(a.ins_file);
    if (!ins)
        return TT_EXIT_FAIL;
    if (a.out && !(a.outf = fopen(a.out, "w"))) {
        tt_instruments_free(ins);
        tt_err_set(&err, TT_EIO, "%s: cannot create", a.out);
        return tt_report_error(&err);
    }
    int override = 0;
    static const char *const health[] = {"policy",    "stale",    "recover",   "recover-ticks",
                                         "deviation", "spread-k", "rate-ratio"};
    for (size_t i = 0; i < sizeof health / sizeof health[0]; i++)
        override |= tt_opts_given(&seen, health[i]);
    rc = a.replay ? do_replay(&a, ins, override) : do_live(&a, ins, a.sources ? sources : NULL);
    if (a.outf && fclose(a.outf) && rc == TT_EXIT_OK) {
        tt_err_set(&err, TT_EIO, "%s: write failed", a.out);
        rc = tt_report_error(&err);
    }
    tt_instruments_free(ins);
    return rc;
}
