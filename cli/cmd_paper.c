/*
 * `ticktape paper SCENARIO --nats URL [--journal DIR] [--json]`: paper trading
 * on a live feed (live/paper.h), and the report step it shares with
 * `ticktape replay` (cli/cmd_replay.c).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "core/metrics.h"
#include "live/paper.h"
#include "net_opts.h"
#include "reports/report.h"
#include "sim/scenario.h"

/* ---- shared with replay: reports, summary, order list ---- */

static int write_orders(const char *path, const tt_backtest_result *r, const tt_instruments *ins,
                        tt_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot write", path);
    fprintf(f, "ts,client_id,venue_id,symbol,status,reason,side,price,qty\n");
    for (size_t i = 0; i < r->norders; i++) {
        const tt_order_record *o = &r->orders[i];
        const tt_instrument *in = tt_instruments_get(ins, o->symbol);
        fprintf(f, "%lld,%llu,%llu,%s,%s,%u,%d,%lld,%lld\n", (long long)o->ts,
                (unsigned long long)o->client_id, (unsigned long long)o->venue_id,
                in ? in->symbol : "?", tt_order_status_name(o->status), o->reason, o->side,
                (long long)o->price, (long long)o->qty);
    }
    if (fclose(f))
        return tt_err_set(err, TT_EIO, "%s: write failed", path);
    return TT_OK;
}

int tt_live_finish(tt_scenario *s, tt_scenario_run *run, tt_backtest_result *r,
                   const tt_live_cli *o, const char *mode)
{
    tt_err err;
    tt_err_clear(&err);
    tt_metrics m = r->metrics; /* exact, computed during the run */
    char syms[256] = "";
    size_t used = 0;
    for (int i = 0; run->cfg.symbols[i] && used < sizeof syms; i++)
        used += (size_t)snprintf(syms + used, sizeof syms - used, "%s%s", i ? "," : "",
                                 run->cfg.symbols[i]);
    char data[600];
    snprintf(data, sizeof data, "%s: %s", o->feed, syms);
    char *scen_text = tt_scenario_text(s);
    tt_report_input in = {
        .name = tt_scenario_name(s),
        .scenario_text = scen_text,
        .strategy = run->cfg.strategy,
        .params = run->cfg.params,
        .data = data,
        .fingerprint = r->fingerprint,
        .events = r->events,
        .trades = r->trades,
        .ntrades = r->ntrades,
        .equity = r->equity,
        .nequity = r->nequity,
        .metrics = &m,
        .instruments = run->instruments,
        .currency = run->cfg.venue.account.currency[0] ? run->cfg.venue.account.currency : "USD",
        .minor_per_unit = run->minor_per_unit,
        .from = r->first_ts,
        .to = r->last_ts,
        .orders_sent = r->orders_sent,
        .fills = r->fills,
        .risk_rejects = r->risk_rejects,
        .stop_outs = r->stop_outs,
    };
    int code = TT_EXIT_OK;
    char dir[4200] = "";
    if (!o->no_reports) {
        if (o->out_dir)
            snprintf(dir, sizeof dir, "%s", o->out_dir);
        else
            snprintf(dir, sizeof dir, "out/%s-%s", tt_scenario_name(s), mode);
        tt_report_outputs which = {run->outputs.html, run->outputs.json, run->outputs.csv,
                                   run->outputs.hdf5};
        if (tt_report_write_all(&in, dir, &which, &err) != TT_OK)
            code = tt_report_error(&err);
    }
    if (code == TT_EXIT_OK && o->orders_file &&
        write_orders(o->orders_file, r, run->instruments, &err) != TT_OK)
        code = tt_report_error(&err);
    if (!o->quiet) {
        char fp[33], net[48];
        tt_fingerprint_hex(r->fingerprint, fp);
        tt_report_money(m.net_pnl, in.minor_per_unit, net, sizeof net);
        printf("%-12s %s (%s)\n", mode, tt_scenario_name(s), tt_scenario_file(s));
        printf("data         %s\n", data);
        printf("strategy     %s %s\n", in.strategy, in.params ? in.params : "");
        printf("events       %llu\n", (unsigned long long)r->events);
        printf("orders       %llu sent, %llu fills, %llu risk rejects; %zu order events\n",
               (unsigned long long)r->orders_sent, (unsigned long long)r->fills,
               (unsigned long long)r->risk_rejects, r->norders);
        printf("trades       %llu, net P&L %s %s\n", (unsigned long long)m.trades, net,
               in.currency);
        if (dir[0])
            printf("reports      %s\n", dir);
        printf("fingerprint: %s\n", fp); /* the last line of every run */
    }
    if (o->json) {
        fflush(stdout);
        tt_report_json_write(&in, stdout, 1);
    }
    free(scen_text);
    return code;
}

/* Options common to paper and replay; returns 1 when consumed, 0 when not
 * ours, or an exit code < 0 (negated) on a usage error. */
int tt_live_cli_option(tt_live_cli *o, const char *cmd, const tt_opt *op)
{
    if (tt_opt_is(op, "json")) {
        o->json = 1;
    } else if (tt_opt_is(op, "quiet")) {
        o->quiet = 1;
    } else if (tt_opt_is(op, "no-reports")) {
        o->no_reports = 1;
    } else if (tt_opt_is(op, "out") || tt_opt_is(op, "orders") || tt_opt_is(op, "set")) {
        if (!op->value)
            return -tt_usage_error(cmd, "--%s needs a value", op->name);
        if (tt_opt_is(op, "out"))
            o->out_dir = op->value;
        else if (tt_opt_is(op, "orders"))
            o->orders_file = op->value;
        else if (o->nsets < TT_LIVE_MAX_SETS)
            o->sets[o->nsets++] = op->value;
        else
            return -tt_usage_error(cmd, "too many --set options");
    } else {
        return 0;
    }
    return 1;
}

/* Load the scenario, apply --set, prepare the run. */
int tt_live_prepare(const char *path, const tt_live_cli *o, const char *cmd, tt_scenario **s,
                    tt_scenario_run **run)
{
    tt_err err;
    if (tt_scenario_load(s, path, &err) != TT_OK)
        return tt_report_error(&err);
    for (int i = 0; i < o->nsets; i++) {
        if (tt_scenario_set(*s, o->sets[i], &err) != TT_OK) {
            tt_scenario_free(*s);
            return tt_usage_error(cmd, "%s", err.msg);
        }
    }
    *run = calloc(1, sizeof **run);
    if (!*run) {
        tt_scenario_free(*s);
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        return tt_report_error(&err);
    }
    if (tt_scenario_prepare(*s, *run, &err) != TT_OK) {
        free(*run);
        tt_scenario_free(*s);
        return tt_report_error(&err);
    }
    return TT_EXIT_OK;
}

/* ---- paper ---- */

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

static void paper_usage(FILE *f)
{
    fprintf(f,
            "usage: ticktape paper SCENARIO (--nats URL | --kafka BROKERS) [options]\n\n"
            "Paper trading: the scenario's strategy, venue model and risk limits on a live\n"
            "feed, with the wall clock. Every input is journaled before the engine sees it;\n"
            "`ticktape replay JOURNAL --scenario SCENARIO` reproduces the session exactly.\n"
            "SIGINT or SIGTERM ends the session cleanly (journal flushed, reports written).\n\n"
            "options:\n"
            "  --nats URL          feed: ticks.>, bars.>, market.external.> (TickData protobuf);\n"
            "                      outputs published on signals.*, orders.*, bars.*, risk.alert.*\n"
            "  --kafka BROKERS     outputs archived to the seed's Kafka topics; without --nats,\n"
            "                      also the feed (topic tick_archive, consumer group)\n"
            "  --kafka-set K=V     extra librdkafka setting (repeatable)\n"
            "  --from-beginning    Kafka feed: a new consumer group starts at the oldest tick\n"
            "  --journal DIR       journal directory (must not hold a journal yet)\n"
            "  --fsync             fsync each journal block\n"
            "  --json-ticks        also accept JSON ticks {\"symbol\",\"bid\",\"ask\",\"timestamp\"}\n"
            "  --no-publish        do not publish outputs on NATS\n"
            "  --publish-json      publish outputs as JSON objects instead of protobuf\n"
            "  --queue N           feed queue slots (default 65536; market data beyond it is\n"
            "                      dropped oldest first and counted)\n"
            "  --spin US           poll the feed queue US microseconds before sleeping (lower\n"
            "                      latency for a CPU; default 0)\n"
            "  --duration S        end the session after S seconds\n"
            "  --status-every S    also print the status as a line on stderr every S seconds\n"
            "  --set KEY=VALUE     override a scenario key (repeatable)\n"
            "  --out DIR           reports directory (default out/<name>-paper)\n"
            "  --orders FILE       write the order-event list as CSV\n"
            "  --no-reports        write no report files\n"
            "  --json              last line of stdout: the summary (as backtest --json)\n"
            "  --quiet             no human lines on stdout\n");
    tt_net_usage(f, "paper");
}

int tt_cmd_paper(int argc, char **argv)
{
    static const char *const flags[] = {"json", "quiet", "no-reports", "fsync", "json-ticks",
                                        "no-publish", "from-beginning", "publish-json", "help", "h",
                                        NULL};
    tt_live_cli o;
    memset(&o, 0, sizeof o);
    const char *scenario = NULL, *nats = NULL, *kafka = NULL, *journal = NULL;
    const char *kconf[17] = {NULL};
    int nkconf = 0, fsync_ = 0, json_ticks = 0, no_publish = 0, from_beginning = 0;
    int publish_json = 0;
    uint64_t queue = 0;
    double duration = 0, spin_us = 0, status_every = 0;
    tt_net_opts net;
    tt_net_opts_init(&net);
    tt_opt op;
    tt_opt_init(&op, argc, argv);
    while (tt_opt_next(&op, flags)) {
        int bad = tt_net_opt(&net, "paper", &op);
        if (bad >= 0) {
            if (bad)
                return bad;
            continue;
        }
        if (!op.name) {
            if (scenario)
                return tt_usage_error("paper", "unexpected argument '%s'", op.value);
            scenario = op.value;
            continue;
        }
        if (tt_opt_is(&op, "help") || tt_opt_is(&op, "h")) {
            paper_usage(stdout);
            return TT_EXIT_OK;
        }
        int c = tt_live_cli_option(&o, "paper", &op);
        if (c < 0)
            return -c;
        if (c)
            continue;
        if (tt_opt_is(&op, "fsync")) {
            fsync_ = 1;
        } else if (tt_opt_is(&op, "json-ticks")) {
            json_ticks = 1;
        } else if (tt_opt_is(&op, "no-publish")) {
            no_publish = 1;
        } else if (tt_opt_is(&op, "from-beginning")) {
            from_beginning = 1;
        } else if (tt_opt_is(&op, "publish-json")) {
            publish_json = 1;
        } else if (!op.value) {
            return tt_usage_error("paper", "--%s needs a value", op.name);
        } else if (tt_opt_is(&op, "nats")) {
            nats = op.value;
        } else if (tt_opt_is(&op, "kafka")) {
            kafka = op.value;
        } else if (tt_opt_is(&op, "kafka-set")) {
            if (nkconf == 16)
                return tt_usage_error("paper", "too many --kafka-set options");
            kconf[nkconf++] = op.value;
        } else if (tt_opt_is(&op, "journal")) {
            journal = op.value;
        } else if (tt_opt_is(&op, "queue")) {
            if (tt_parse_u64(op.value, &queue) || queue < 128 || queue > (1u << 26))
                return tt_usage_error("paper", "--queue: expected 128 .. 67M, got '%s'", op.value);
        } else if (tt_opt_is(&op, "spin")) {
            char *e;
            spin_us = strtod(op.value, &e);
            if (*e || !(spin_us >= 0) || spin_us > 1e6)
                return tt_usage_error("paper", "--spin: expected microseconds 0 .. 1e6, got '%s'",
                                      op.value);
        } else if (tt_opt_is(&op, "status-every")) {
            char *e;
            status_every = strtod(op.value, &e);
            if (*e || !(status_every >= 0.1))
                return tt_usage_error("paper", "--status-every: expected seconds >= 0.1, got '%s'",
                                      op.value);
        } else if (tt_opt_is(&op, "duration")) {
            char *e;
            duration = strtod(op.value, &e);
            if (*e || !(duration > 0))
                return tt_usage_error("paper", "--duration: expected seconds > 0, got '%s'",
                                      op.value);
        } else {
            return tt_usage_error("paper", "unknown option --%s", op.name);
        }
    }
    if (!scenario)
        return tt_usage_error("paper", "missing the scenario file (see --help)");
    if (!nats && !kafka)
        return tt_usage_error("paper", "a feed is needed: --nats URL or --kafka BROKERS");
    int net_bad = tt_net_opts_finish(&net, "paper");
    if (net_bad)
        return net_bad;

    tt_scenario *s;
    tt_scenario_run *run;
    int code = tt_live_prepare(scenario, &o, "paper", &s, &run);
    if (code)
        return code;
    tt_err err;
    tt_err_clear(&err);
    tt_paper_opts po;
    memset(&po, 0, sizeof po);
    po.nats_url = nats;
    po.nats_auth = tt_net_nats(&net);
    po.max_tick_age = net.max_tick_age;
    po.queue_bytes = net.queue_bytes;
    po.kafka_brokers = kafka;
    po.kafka_conf = nkconf ? kconf : NULL;
    po.kafka_from_beginning = from_beginning;
    po.journal_dir = journal;
    po.journal_fsync = fsync_;
    po.json_ticks = json_ticks;
    po.no_publish = no_publish;
    po.publish_json = publish_json;
    po.queue_capacity = (uint32_t)queue;
    po.spin_ns = (int64_t)(spin_us * 1000.0);
    po.log = log_stderr;
    tt_paper *p;
    if (tt_paper_attach(&p, &run->cfg, run->instruments, &po, &err) != TT_OK) {
        code = tt_report_error(&err);
        tt_scenario_release(run);
        free(run);
        tt_scenario_free(s);
        return code;
    }
    /* The URL goes into reports and logs: redacted (nats://user:***@host). */
    char shown[TT_URL_SHOWN_MAX], feed[TT_URL_SHOWN_MAX + 8];
    tt_url_redact(nats ? nats : kafka, shown, sizeof shown);
    snprintf(feed, sizeof feed, "live %s", shown);
    o.feed = feed;
    g_paper = p;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "ticktape paper: listening on %s%s%s; SIGINT or SIGTERM ends the session\n",
            shown, journal ? ", journal " : "", journal ? journal : "");
    status_ctx sc = {.p = p, .tty = isatty(2) && !o.quiet, .duration = duration,
                     .every = status_every,
                     .start = tt_wall_seconds()};
    pthread_t th;
    int have_th = pthread_create(&th, NULL, status_loop, &sc) == 0;
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    int rc = tt_backtest_run(&run->cfg, &r, &err);
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
    int crc = tt_paper_close(p, &cerr);
    g_paper = NULL;
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
        code = tt_live_finish(s, run, &r, &o, "paper");
    }
    tt_backtest_result_free(&r);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    return code;
}
