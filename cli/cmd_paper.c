/*
 * `ticktape paper SCENARIO --nats URL [--journal DIR] [--json]`: paper trading
 * on a live feed (live/paper.h). The options and the report step it shares
 * with `ticktape replay` are in cli/live_cli.c.
 *
 * The scenario is prepared exactly as for `backtest`; then the live pieces
 * replace its data source (the feed), and add the wall clock, the journal and
 * the NATS/Kafka sinks. The session runs until SIGINT or SIGTERM (or
 * --duration): the handler only asks the inbox to stop, the engine drains,
 * journals a STOP event and finishes normally, so the journal is flushed and
 * the reports are written as after a backtest. With --json the last line of
 * stdout is the same summary object as `backtest --json`.
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "core/metrics.h"
#include "live/features_pub.h"
#include "live/paper.h"
#include "live/status_http.h"
#include "net_opts.h"
#include "reports/report.h"
#include "sim/scenario.h"

static tt_paper *g_paper; /* for the signal handler only: the CLI owns the process */

static void on_signal(int sig)
{
    (void)sig;
    if (g_paper)
        tt_paper_stop(g_paper);
}

static void log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "\rticktape paper: %s\n", line);
}

typedef struct status_ctx {
    tt_paper *p;
    tt_ops *ops;
    int was_connected;
    atomic_int done;
    int tty;
    double duration;
    double every; /* --status-every: full status lines, seconds; 0 = off */
    double start;
} status_ctx;

static void status_format(status_ctx *c, char *buf, size_t cap)
{
    tt_paper_status st;
    tt_paper_status_get(c->p, &st);
    snprintf(buf, cap,
             "paper %6.0fs  inputs %llu  queue %llu  dropped %llu  rejected %llu  gaps %llu  "
             "order events %llu  fills %llu  %s",
             tt_wall_seconds() - c->start, (unsigned long long)st.inbox.delivered,
             (unsigned long long)st.queued, (unsigned long long)st.inbox.dropped,
             (unsigned long long)st.inbox.rejected, (unsigned long long)st.inbox.gaps,
             (unsigned long long)st.order_events, (unsigned long long)st.fills,
             st.connected ? "connected" : "DISCONNECTED");
}

/* A feed that goes down or comes back is an event for the dashboard and
 * the notifier. */
static void watch_connection(status_ctx *c)
{
    tt_paper_status st;
    tt_paper_status_get(c->p, &st);
    if (st.connected == c->was_connected)
        return;
    c->was_connected = st.connected;
    char json[96];
    snprintf(json, sizeof json, "{\"ts\":%lld,\"feed\":\"nats\"}",
             (long long)(tt_wall_seconds() * 1e9));
    tt_ops_event(c->ops, st.connected ? "reconnect" : "disconnect", json);
}

/* The status server's view of the session (server threads; tt_paper_status_get
 * is thread-safe). */
static void paper_info(void *ctx, tt_status_info *in)
{
    tt_paper *p = ctx;
    tt_paper_status st;
    tt_paper_status_get(p, &st);
    in->nconn = 1;
    snprintf(in->conn[0].name, sizeof in->conn[0].name, "feed");
    in->conn[0].up = st.connected;
    tt_ops_info_inbox(in, "feed", &st.inbox, st.queued, st.feed_dropped);
    static const tt_ops_metric M[] = {
        {"ticktape_journal_events_total", "Inputs written to the journal.", 1}};
    double v[] = {(double)st.journaled};
    tt_ops_info_metrics(in, M, v, 1);
}

static int paper_kill(void *ctx)
{
    return tt_paper_kill(ctx);
}

/* Every 100 ms: --duration; on a terminal, redraw the status line twice a
 * second; with --status-every S, also print it as a full line every S s
 * (for logs and scripts). */
static void *status_loop(void *arg)
{
    status_ctx *c = arg;
    int n = 0;
    double last_line = tt_wall_seconds();
    char line[400];
    while (!atomic_load(&c->done)) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        double now = tt_wall_seconds();
        if (c->duration > 0 && now - c->start >= c->duration)
            tt_paper_stop(c->p);
        if (c->ops)
            watch_connection(c);
        if (c->every > 0 && now - last_line >= c->every) {
            last_line = now;
            status_format(c, line, sizeof line);
            fprintf(stderr, "%s%s\n", c->tty ? "\r\033[K" : "", line);
            fflush(stderr);
        }
        if (!c->tty || ++n % 5)
            continue;
        status_format(c, line, sizeof line);
        fprintf(stderr, "\r\033[K%s", line);
        fflush(stderr);
    }
    return NULL;
}

typedef struct paper_opts {
    const char *scenario;
    tt_live_cli live; /* --set, --out, --orders, --json ... (cli/live_cli.c) */
    tt_ops_cli ops;   /* --http, --notify ... (cli/ops_cli.c) */
    const char *nats, *kafka, *journal;
    tt_net_cli net; /* NATS authentication and TLS, --kafka-set, --queue-bytes ... (net_opts.c) */
    int fsync, json_ticks, no_publish, from_beginning, publish_json, drop_when_full;
    uint64_t queue;
    double duration, spin_us, status_every;
} paper_opts;

#define F(field) offsetof(paper_opts, field)

static const tt_opt PAPER_OPTS[] = {
    {TT_OPT_ARG, .arg = "SCENARIO", .off = F(scenario), .flags = TT_OPT_REQUIRED,
     .help = "the scenario: strategy, venue model, risk limits (docs/scenarios.md)"},
    {TT_OPT_STRING, "nats", .off = F(nats), .arg = "URL",
     .help = "feed: ticks.*, bars.>, market.external.> (TickData protobuf); outputs "
             "published on signals.*, orders.*, bars.*, risk.alert.*"},
    {TT_OPT_STRING, "kafka", .off = F(kafka), .arg = "BROKERS",
     .help = "outputs archived to the seed's Kafka topics; without --nats, also the feed "
             "(topic tick_archive, consumer group)"},
    {TT_OPT_INCLUDE, .include = tt_net_kafka_opts, .off = F(net)},
    {TT_OPT_FLAG, "from-beginning", .off = F(from_beginning),
     .help = "Kafka feed: a new consumer group starts at the oldest tick"},
    {TT_OPT_STRING, "journal", .off = F(journal), .arg = "DIR",
     .help = "journal directory (must not hold a journal yet)"},
    {TT_OPT_FLAG, "fsync", .off = F(fsync), .help = "fsync each journal block"},
    {TT_OPT_FLAG, "json-ticks", .off = F(json_ticks),
     .help = "also accept JSON ticks {\"symbol\",\"bid\",\"ask\",\"timestamp\"}"},
    {TT_OPT_FLAG, "no-publish", .off = F(no_publish), .help = "do not publish outputs on NATS"},
    {TT_OPT_FLAG, "publish-json", .off = F(publish_json),
     .help = "publish outputs as JSON objects instead of protobuf"},
    {TT_OPT_UINT, "queue", .off = F(queue), .arg = "N", .min = 128, .max = 1u << 26,
     .def_text = "65536",
     .help = "feed queue slots; when full, the feed is held back while the engine takes "
             "events (nats.c buffers the burst), and only a stalled engine makes it drop the "
             "oldest market data"},
    {TT_OPT_FLAG, "allow-drops", .off = F(live.allow_drops),
     .help = "exit 0 even when market data was dropped (the summaries still count it)"},
    {TT_OPT_FLAG, "drop-when-full", .off = F(drop_when_full),
     .help = "a full feed queue drops the oldest market data at once, instead of holding the "
             "feed back while the engine catches up (lower latency, lost ticks)"},
    {TT_OPT_DOUBLE, "spin", .off = F(spin_us), .arg = "US", .min = 0, .max = 1e6, .def = "0",
     .help = "poll the feed queue US microseconds before sleeping (lower latency for a CPU)"},
    {TT_OPT_DOUBLE, "duration", .off = F(duration), .arg = "S", .min = 0, .max = INFINITY,
     .flags = TT_OPT_MIN_OPEN, .help = "end the session after S seconds"},
    {TT_OPT_DOUBLE, "status-every", .off = F(status_every), .arg = "S", .min = 0.1,
     .max = INFINITY, .help = "also print the status as a line on stderr every S seconds"},
    {TT_OPT_INCLUDE, .include = tt_net_feed_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_net_nats_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_live_opts, .off = F(live)},
    {TT_OPT_INCLUDE, .include = tt_ops_opts, .off = F(ops)},
    {TT_OPT_END},
};

static const tt_opt_rule PAPER_RULES[] = {
    {TT_RULE_ANY_OF, {"nats", "kafka"}, "a feed is needed: --nats URL or --kafka BROKERS"},
    {TT_RULE_END},
};

static int run_paper(int argc, char **argv);

const tt_cmd tt_command_paper = {
    .name = "paper",
    .summary = "paper trading on a live NATS/Kafka feed, journaled",
    .run = run_paper,
    .opts = PAPER_OPTS,
    .size = sizeof(paper_opts),
    .rules = PAPER_RULES,
    .about = "Paper trading: the scenario's strategy, venue model and risk limits on a live\n"
             "feed, with the wall clock. Every input is journaled before the engine sees it;\n"
             "`ticktape replay JOURNAL --scenario SCENARIO` reproduces the session exactly.\n"
             "SIGINT or SIGTERM ends the session cleanly (journal flushed, reports written).\n",
    .epilog = "exit codes: 0 the session ended cleanly, 3 it ended but market data was\n"
              "dropped (unless --allow-drops), 1 failure, 2 usage error\n",
};

/* The session's options from the command line's. */
static void session_opts(paper_opts *a, tt_paper_opts *po)
{
    memset(po, 0, sizeof *po);
    po->nats_url = a->nats;
    po->nats_auth = tt_net_nats(&a->net);
    po->max_tick_age = a->net.max_tick_age;
    po->queue_bytes = a->net.queue_bytes;
    po->kafka_brokers = a->kafka;
    po->kafka_conf = tt_net_kafka_conf(&a->net);
    po->kafka_from_beginning = a->from_beginning;
    po->journal_dir = a->journal;
    po->journal_fsync = a->fsync;
    po->json_ticks = a->json_ticks;
    po->no_publish = a->no_publish;
    po->publish_json = a->publish_json;
    po->queue_capacity = (uint32_t)a->queue;
    po->spin_ns = (int64_t)(a->spin_us * 1000.0);
    po->backpressure_ns = a->drop_when_full ? -1 : 0;
    po->log = log_stderr;
}

static int run_paper(int argc, char **argv)
{
    paper_opts a;
    memset(&a, 0, sizeof a);
    int code = tt_opts_parse(&tt_command_paper, &a, argc, argv, NULL);
    if (code != TT_OPTS_RUN)
        return code;
    if ((code = tt_net_check(&a.net, "paper")) != 0)
        return code;
    tt_net_feed_memory();
    tt_live_cli *o = &a.live;
    const char *nats = a.nats, *kafka = a.kafka, *journal = a.journal;
    tt_scenario *s;
    tt_scenario_run *run;
    code = tt_live_prepare(a.scenario, o, "paper", &s, &run);
    if (code)
        return code;
    tt_err err;
    tt_err_clear(&err);
    tt_paper_opts po;
    session_opts(&a, &po);
    tt_paper *p = NULL;
    tt_backtest *bt = NULL;
    tt_ops *ops = NULL;
    if ((code = tt_ops_check(&a.ops, "paper")) != TT_EXIT_OK) {
        tt_scenario_release(run);
        free(run);
        tt_scenario_free(s);
        return code;
    }
    tt_ops_engine eng = {run->instruments, run->minor_per_unit,
                         run->cfg.venue.account.currency[0] ? run->cfg.venue.account.currency
                                                            : "USD"};
    tt_ops_hooks hooks = {.info = paper_info, .kill = paper_kill, .log = log_stderr};
    tt_features_pub *fp = NULL;
    int frc = tt_live_features(s, run, a.publish_json, &fp, &err);
    po.features = fp;
    if (frc != TT_OK || tt_ops_open(&ops, &a.ops, "paper", &eng, log_stderr, &err) != TT_OK ||
        tt_backtest_open(&bt, &run->cfg, &err) != TT_OK || tt_ops_attach(ops, bt, &err) ||
        tt_paper_attach(&p, bt, run->instruments, &po, &err) != TT_OK ||
        (hooks.ctx = p, tt_ops_serve(ops, &hooks, &err)) != TT_OK) {
        code = tt_report_error(&err);
        tt_backtest_close(bt);
        if (p)
            tt_paper_close(p, NULL);
        tt_ops_close(ops);
        tt_features_pub_free(fp);
        tt_scenario_release(run);
        free(run);
        tt_scenario_free(s);
        return code;
    }
    /* the session record replay checks (what this journal was recorded with) */
    if (journal && tt_live_session_write(journal, a.scenario, o, &err) != TT_OK) {
        code = tt_report_error(&err);
        tt_ops_close(ops);
        tt_paper_close(p, NULL);
        tt_backtest_close(bt);
        tt_features_pub_free(fp);
        tt_scenario_release(run);
        free(run);
        tt_scenario_free(s);
        return code;
    }
    /* The URL goes into reports and logs: redacted (nats://user:***@host). */
    char shown[TT_URL_SHOWN_MAX], feed[TT_URL_SHOWN_MAX + 8];
    tt_url_redact(nats ? nats : kafka, shown, sizeof shown);
    snprintf(feed, sizeof feed, "live %s", shown);
    o->feed = feed;
    g_paper = p;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "ticktape paper: listening on %s%s%s; SIGINT or SIGTERM ends the session\n",
            shown, journal ? ", journal " : "", journal ? journal : "");
    status_ctx sc = {.p = p, .ops = ops, .was_connected = 1, .tty = isatty(2) && !o->quiet, .duration = a.duration,
                     .every = a.status_every,
                     .start = tt_wall_seconds()};
    pthread_t th;
    int have_th = pthread_create(&th, NULL, status_loop, &sc) == 0;
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    int rc = tt_backtest_exec(bt, &r, &err);
    tt_backtest_close(bt);
    atomic_store(&sc.done, 1);
    if (have_th)
        pthread_join(th, NULL);
    if (sc.tty)
        fprintf(stderr, "\r\033[K");
    tt_paper_status st;
    tt_paper_status_get(p, &st);
    tt_paper_outputs out;
    tt_paper_outputs_get(p, &out);
    tt_err cerr;
    tt_err_clear(&cerr);
    tt_ops_close(ops); /* before the session's pieces: the server reads them */
    int crc = tt_paper_close(p, &cerr);
    g_paper = NULL;
    if (fp) {
        tt_features_pub_stats fs;
        tt_features_pub_stats_get(fp, &fs);
        fprintf(stderr, "ticktape paper: feature rows %llu (nats %llu, kafka %llu)\n",
                (unsigned long long)fs.rows, (unsigned long long)fs.published,
                (unsigned long long)fs.produced);
        tt_features_pub_free(fp);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    fprintf(stderr,
            "ticktape paper: inputs %llu (arrived %llu, dropped %llu, rejected %llu, gaps %llu, "
            "dropped by nats.c %llu); "
            "order events %llu, fills %llu; nats published %llu (failed %llu); kafka produced "
            "%llu (delivered %llu, failed %llu, undelivered %llu)\n",
            (unsigned long long)st.inbox.delivered, (unsigned long long)st.inbox.pushed,
            (unsigned long long)st.inbox.dropped, (unsigned long long)st.inbox.rejected,
            (unsigned long long)st.inbox.gaps, (unsigned long long)st.feed_dropped,
            (unsigned long long)st.order_events,
            (unsigned long long)st.fills, (unsigned long long)out.nats_published,
            (unsigned long long)out.nats_failed, (unsigned long long)out.kafka_produced,
            (unsigned long long)out.kafka_delivered, (unsigned long long)out.kafka_failed,
            (unsigned long long)out.kafka_undelivered);
    if (rc != TT_OK) {
        code = tt_report_error(&err);
    } else if (crc != TT_OK) {
        code = tt_report_error(&cerr);
    } else {
        o->losses = (tt_live_losses){1, st.inbox.pushed, st.inbox.dropped + st.feed_dropped,
                                     st.inbox.rejected, st.inbox.gaps};
        code = tt_live_finish(s, run, &r, o, "paper");
    }
    tt_backtest_result_free(&r);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    return code;
}
