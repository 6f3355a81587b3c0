/*
 * `ticktape live SCENARIO --mt5 HOST:PORT [--journal DIR] [--json]`: live
 * trading through MetaTrader 5 (live/trading.h). The scenario is prepared
 * exactly as for `backtest` and `paper`; the session fills the run's venue
 * (the MT5 venue: ticktape listens, the TicktapeBridge EA or `ticktape
 * mt5-sim` connects; or with --venue nats, whichever mt5-connector serves
 * the bus), its source (the terminal's quotes and the venue's responses,
 * journaled; first the journal's own events when DIR already holds one), its
 * clock (the wall clock's watermark) and its sinks (NATS, Kafka).
 *
 * Signals: SIGINT or SIGTERM end the session cleanly (the queue drains, a
 * STOP is journaled, reports are written; positions stay open at the
 * broker); SIGUSR1 engages the kill switch, as does the file of
 * --kill-file appearing or a message on NATS control.kill_switch.
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
#include "core/portfolio.h"
#include "live/features_pub.h"
#include "live/status_http.h"
#include "live/trading.h"
#include "sim/scenario.h"

typedef struct live_opts {
    const char *scenario;
    tt_live_cli live; /* --set, --out, --orders, --json ... (cli/live_cli.c) */
    tt_ops_cli ops;   /* --http, --notify ... (cli/ops_cli.c) */
    tt_hostport mt5;
    int venue, policy, fsync;
    tt_mt5_listen_cli mt5l; /* --secret-file, --tls-cert, --tls-key */
    const char *nats, *kafka, *journal, *kill_file;
    tt_net_cli net; /* NATS authentication and TLS, --kafka-set (cli/net_opts.c) */
    uint64_t answer_ms, stale_ms, hb_ms, deviation;
    double duration, status_every, spin_us;
} live_opts;

static tt_trading *g_session; /* for the signal handlers only: the CLI owns the process */
static volatile sig_atomic_t g_kill;

static void on_stop_signal(int sig)
{
    (void)sig;
    if (g_session)
        tt_trading_stop(g_session);
}

static void on_kill_signal(int sig)
{
    (void)sig;
    g_kill = 1; /* the status thread engages it: not signal-safe itself */
}

static void log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "\rticktape live: %s\n", line);
}

static const char *const VENUES[] = {"mt5", "nats", NULL};
static const char *const POLICIES[] = {"halt", "adopt", "close", NULL};
static const int POLICY_VALUES[] = {TT_MT5_POLICY_HALT, TT_MT5_POLICY_ADOPT, TT_MT5_POLICY_CLOSE};

#define F(field) offsetof(live_opts, field)

static const tt_opt LIVE_OPTS[] = {
    {TT_OPT_ARG, .arg = "SCENARIO", .off = F(scenario), .flags = TT_OPT_REQUIRED,
     .help = "the scenario: strategy, account, risk limits (docs/scenarios.md)"},
    {TT_OPT_CUSTOM, "mt5", .off = F(mt5), .arg = "HOST:PORT", .set = tt_opt_hostport,
     .help = "listen here for the terminal (the TicktapeBridge EA, or ticktape mt5-sim)"},
    {TT_OPT_ENUM, "venue", .off = F(venue), .values = VENUES, .def = "mt5",
     .help = "mt5: the terminal connects to this session; nats: orders through an "
             "mt5-connector on --nats (quotes from ticks.>)"},
    {TT_OPT_INCLUDE, .include = tt_mt5_listen_opts, .off = F(mt5l)},
    {TT_OPT_STRING, "journal", .off = F(journal), .arg = "DIR",
     .help = "journal directory; one that holds a journal is replayed, then continued"},
    {TT_OPT_FLAG, "fsync", .off = F(fsync), .help = "fsync each journal block"},
    {TT_OPT_ENUM, "reconcile", .off = F(policy), .values = POLICIES, .ivals = POLICY_VALUES,
     .def = "halt", .help = "when the terminal's positions or orders differ from the engine's: "
                            "halt for a human, adopt the broker's, or close what the engine "
                            "does not hold"},
    {TT_OPT_STRING, "nats", .off = F(nats), .arg = "URL",
     .help = "outputs on the seed's subjects, broker.fill/error/order.*, control.kill_switch"},
    {TT_OPT_STRING, "kafka", .off = F(kafka), .arg = "BROKERS",
     .help = "outputs to the archive topics, every bridge frame to broker_communication_log"},
    {TT_OPT_INCLUDE, .include = tt_net_kafka_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_net_nats_opts, .off = F(net)},
    {TT_OPT_STRING, "kill-file", .off = F(kill_file), .arg = "PATH",
     .help = "engage the kill switch when this file appears"},
    {TT_OPT_UINT, "answer-ms", .off = F(answer_ms), .arg = "MS", .min = 50, .max = 600000,
     .def = "2000", .help = "a request unanswered this long is asked about (never sent again)"},
    {TT_OPT_UINT, "stale-ms", .off = F(stale_ms), .arg = "MS", .min = 0, .max = 1e9,
     .def = "10000", .help = "no new orders on a symbol whose last quote is older (0 = never)"},
    {TT_OPT_UINT, "heartbeat-ms", .off = F(hb_ms), .arg = "MS", .min = 100, .max = 60000,
     .def = "1000", .help = "heartbeat interval (3 missed: the terminal is gone)"},
    {TT_OPT_UINT, "deviation", .off = F(deviation), .arg = "POINTS", .min = 0, .max = 100000,
     .def = "10", .help = "how far a market order may slip (instant execution)"},
    {TT_OPT_DOUBLE, "spin", .off = F(spin_us), .arg = "US", .min = 0, .max = 1e6, .def = "0",
     .help = "poll the input queue US microseconds before sleeping (latency for a CPU)"},
    {TT_OPT_DOUBLE, "duration", .off = F(duration), .arg = "S", .min = 0, .max = INFINITY,
     .flags = TT_OPT_MIN_OPEN, .help = "end the session after S seconds"},
    {TT_OPT_DOUBLE, "status-every", .off = F(status_every), .arg = "S", .min = 0.1,
     .max = INFINITY, .help = "print the status as a line on stderr every S seconds"},
    {TT_OPT_INCLUDE, .include = tt_live_opts, .off = F(live)},
    {TT_OPT_INCLUDE, .include = tt_ops_opts, .off = F(ops)},
    {TT_OPT_END},
};

static int run_live(int argc, char **argv);

const tt_cmd tt_command_live = {
    .name = "live",
    .summary = "live trading through MetaTrader 5, journaled, recoverable",
    .run = run_live,
    .opts = LIVE_OPTS,
    .size = sizeof(live_opts),
    .about = "Live trading: the scenario's strategy, account and risk limits, unchanged from\n"
             "backtests, with a MetaTrader 5 terminal as the venue. ticktape listens on\n"
             "--mt5 HOST:PORT and the TicktapeBridge EA (or ticktape mt5-sim) connects.\n"
             "Every input is journaled before the engine sees it; restarted on the same\n"
             "journal (after a stop or a crash) the session replays it, reconciles with the\n"
             "terminal and goes on. `ticktape replay JOURNAL --scenario SCENARIO` gives the\n"
             "same orders, fills and fingerprint. SIGINT or SIGTERM end the session (positions\n"
             "stay open at the broker); SIGUSR1, --kill-file or NATS control.kill_switch\n"
             "engage the kill switch. Step by step: docs/live.md.\n",
    .epilog = "exit codes: 0 the session ended cleanly, 1 failure, 2 usage error\n",
};

typedef struct status_ctx {
    tt_trading *t;
    tt_ops *ops;
    int was_connected;
    atomic_int done;
    int tty;
    double duration, every, start;
    const char *kill_file;
} status_ctx;

static void status_format(status_ctx *c, char *buf, size_t cap)
{
    tt_trading_status st;
    tt_trading_status_get(c->t, &st);
    snprintf(buf, cap,
             "live %6.0fs  %s  inputs %llu  queue %u  order events %llu  fills %llu  "
             "requests %llu  rejects %llu/%llu  %s%s",
             tt_wall_seconds() - c->start, st.replaying ? "REPLAYING" : "live",
             (unsigned long long)st.inbox.delivered, st.queued,
             (unsigned long long)st.order_events, (unsigned long long)st.fills,
             (unsigned long long)st.venue.requests, (unsigned long long)st.venue.local_rejects,
             (unsigned long long)st.venue.broker_rejects,
             st.venue.ready ? "terminal in sync" : st.venue.connected ? "terminal syncing"
                                                                      : "NO TERMINAL",
             st.venue.killed ? "  KILLED" : "");
}

/* The terminal going away or coming back: an event for the dashboard and the
 * notifier. */
static void watch_terminal(status_ctx *c)
{
    tt_trading_status st;
    tt_trading_status_get(c->t, &st);
    if (st.replaying || st.venue.connected == c->was_connected)
        return;
    c->was_connected = st.venue.connected;
    char json[96];
    snprintf(json, sizeof json, "{\"ts\":%lld,\"connection\":\"mt5 terminal\"}",
             (long long)(tt_wall_seconds() * 1e9));
    tt_ops_event(c->ops, st.venue.connected ? "reconnect" : "disconnect", json);
}

/* The status server's view of the session (tt_trading_status_get is thread-safe). */
static void live_info(void *ctx, tt_status_info *in)
{
    tt_trading_status st;
    tt_trading_status_get(ctx, &st);
    in->healthy = !st.venue.halted;
    in->nconn = 1;
    snprintf(in->conn[0].name, sizeof in->conn[0].name, "mt5 terminal");
    in->conn[0].up = st.venue.ready || st.replaying;
    tt_ops_info_inbox(in, "session", &st.inbox, st.queued, 0);
    static const tt_ops_metric M[] = {
        {"ticktape_venue_requests_total", "Requests sent to the terminal.", 1},
        {"ticktape_venue_deals_total", "Deals the terminal made.", 1},
        {"ticktape_venue_local_rejects_total", "Orders refused before the terminal.", 1},
        {"ticktape_venue_broker_rejects_total", "Orders the broker refused.", 1},
        {"ticktape_venue_reconciliation_differences_total", "Differences found by reconciliation.", 1},
        {"ticktape_journal_replayed_events_total", "Journal events replayed at the start.", 1}};
    double v[] = {(double)st.venue.requests, (double)st.venue.deals,
                  (double)st.venue.local_rejects, (double)st.venue.broker_rejects,
                  (double)st.venue.differences, (double)st.replayed};
    tt_ops_info_metrics(in, M, v, 6);
}

static int live_kill(void *ctx)
{
    tt_trading_kill(ctx);
    return TT_OK;
}

/* Every 100 ms: --duration, the kill switch's signal and file, the status. */
static void *status_loop(void *arg)
{
    status_ctx *c = arg;
    int n = 0;
    double last = tt_wall_seconds();
    char line[512];
    while (!atomic_load(&c->done)) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        double now = tt_wall_seconds();
        if (c->duration > 0 && now - c->start >= c->duration)
            tt_trading_stop(c->t);
        if (c->ops)
            watch_terminal(c);
        if (g_kill || (c->kill_file && access(c->kill_file, F_OK) == 0)) {
            g_kill = 0;
            c->kill_file = NULL;
            tt_trading_kill(c->t);
        }
        if (c->every > 0 && now - last >= c->every) {
            last = now;
            status_format(c, line, sizeof line);
            fprintf(stderr, "%s%s\n", c->tty ? "\r\033[K" : "", line);
        }
        if (c->tty && !(++n % 5)) {
            status_format(c, line, sizeof line);
            fprintf(stderr, "\r\033[K%s", line);
        }
    }
    return NULL;
}

static int build_run(tt_backtest *bt, tt_trading *t, tt_err *err)
{
    int rc = tt_backtest_set_venue(bt, tt_trading_venue(t), err);
    if (!rc)
        rc = tt_backtest_set_clock(bt, tt_trading_clock(t), err);
    if (!rc)
        rc = tt_backtest_add_source(bt, tt_trading_source(t), err);
    tt_component comps[4];
    int n = rc ? 0 : tt_trading_components(t, comps, 4);
    for (int i = 0; !rc && i < n; i++)
        rc = tt_backtest_add_component(bt, comps[i], err);
    tt_sink sinks[4];
    n = rc ? 0 : tt_trading_sinks(t, sinks, 4);
    for (int i = 0; !rc && i < n; i++)
        rc = tt_backtest_add_sink(bt, sinks[i], err);
    return rc;
}

static int session_opts(const live_opts *a, tt_scenario_run *run, char *secret, size_t cap,
                        tt_trading_opts *o, tt_err *err)
{
    memset(o, 0, sizeof *o);
    o->venue = a->venue ? TT_TRADING_NATS : TT_TRADING_MT5;
    if (o->venue == TT_TRADING_MT5) {
        if (!a->mt5.host[0])
            return tt_err_set(err, TT_EINVAL, "the MT5 venue needs --mt5 HOST:PORT");
        int rc = tt_mt5_listen_check(&a->mt5l, secret, cap, err);
        if (rc)
            return rc;
        o->mt5_host = a->mt5.host;
        o->mt5_port = a->mt5.port;
        o->secret = secret;
        o->tls_cert = a->mt5l.tls_cert;
        o->tls_key = a->mt5l.tls_key;
    } else if (!a->nats) {
        return tt_err_set(err, TT_EINVAL, "--venue nats needs --nats URL");
    }
    o->hb_ms = (uint32_t)a->hb_ms;
    o->nats_url = a->nats;
    o->kafka_brokers = a->kafka;
    o->kafka_conf = tt_net_kafka_conf(&a->net);
    o->nats_auth = tt_net_nats(&a->net);
    o->journal_dir = a->journal;
    o->journal_fsync = a->fsync;
    o->symbols = run->cfg.symbols;
    o->mode = run->cfg.venue.account.mode ? run->cfg.venue.account.mode : TT_MODE_NETTING;
    o->minor_per_unit = run->minor_per_unit;
    o->policy = a->policy;
    o->answer_ms = (int64_t)a->answer_ms;
    o->stale_ms = a->stale_ms ? (int64_t)a->stale_ms : -1;
    o->deviation = (uint32_t)a->deviation;
    o->spin_ns = (int64_t)(a->spin_us * 1000);
    o->log = log_stderr;
    return TT_OK;
}

static int run_live(int argc, char **argv)
{
    live_opts a;
    memset(&a, 0, sizeof a);
    int code = tt_opts_parse(&tt_command_live, &a, argc, argv, NULL);
    if (code != TT_OPTS_RUN)
        return code;
    if ((code = tt_net_check(&a.net, "live")) != 0)
        return code;
    tt_scenario *s;
    tt_scenario_run *run;
    code = tt_live_prepare(a.scenario, &a.live, "live", &s, &run);
    if (code)
        return code;
    tt_err err;
    tt_err_clear(&err);
    char secret[512] = "";
    tt_trading_opts to;
    tt_trading *t = NULL;
    tt_features_pub *fp = NULL;
    tt_backtest *bt = NULL;
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    tt_ops *ops = NULL;
    if (session_opts(&a, run, secret, sizeof secret, &to, &err)) {
        code = tt_usage_error("live", "%s", err.msg);
        goto out;
    }
    if ((code = tt_ops_check(&a.ops, "live")) != TT_EXIT_OK)
        goto out;
    if (tt_live_features(s, run, 0, &fp, &err) != TT_OK) {
        code = tt_report_error(&err);
        goto out;
    }
    to.features = fp;
    tt_ops_engine eng = {run->instruments, run->minor_per_unit,
                         run->cfg.venue.account.currency[0] ? run->cfg.venue.account.currency
                                                            : "USD"};
    tt_ops_hooks hooks = {.info = live_info, .kill = live_kill, .log = log_stderr};
    if (tt_ops_open(&ops, &a.ops, "live", &eng, log_stderr, &err) != TT_OK ||
        tt_trading_open(&t, run->instruments, &to, &err) != TT_OK ||
        tt_backtest_open(&bt, &run->cfg, &err) != TT_OK || build_run(bt, t, &err) != TT_OK ||
        tt_ops_attach(ops, bt, &err) != TT_OK ||
        (hooks.ctx = t, tt_ops_serve(ops, &hooks, &err)) != TT_OK) {
        code = tt_report_error(&err);
        goto out;
    }
    /* the session record replay checks; a restart on the same journal must
     * run the scenario and overrides it was recorded with */
    if (a.journal) {
        char rec[4200];
        snprintf(rec, sizeof rec, "%s/session.txt", a.journal);
        if (access(rec, F_OK) == 0) {
            if ((code = tt_live_session_check(a.journal, a.scenario, &a.live, 0)) != TT_EXIT_OK)
                goto out;
        } else if (tt_live_session_write(a.journal, a.scenario, &a.live, &err) != TT_OK) {
            code = tt_report_error(&err);
            goto out;
        }
    }
    char feed[600];
    if (to.venue == TT_TRADING_MT5)
        snprintf(feed, sizeof feed, "MT5 terminal on %s:%d", a.mt5.host, a.mt5.port);
    else
        snprintf(feed, sizeof feed, "mt5-connector on NATS");
    a.live.feed = feed;
    g_session = t;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_kill_signal;
    sigaction(SIGUSR1, &sa, NULL);
    status_ctx sc = {t, ops, 1, 0, isatty(2), a.duration, a.status_every, tt_wall_seconds(),
                     a.kill_file};
    pthread_t th;
    int have_status = pthread_create(&th, NULL, status_loop, &sc) == 0;
    int rc = tt_backtest_exec(bt, &r, &err);
    atomic_store(&sc.done, 1);
    if (have_status)
        pthread_join(th, NULL);
    g_session = NULL;
    tt_trading_status st;
    tt_trading_status_get(t, &st);
    fprintf(stderr, "%sticktape live: inputs %llu (replayed %llu, dropped %llu), order events "
            "%llu, fills %llu; terminal sessions %llu, requests %llu, deals %llu, queries %llu, "
            "rejected here %llu, by the broker %llu, reconciliation differences %llu%s\n",
            sc.tty ? "\r\033[K" : "", (unsigned long long)st.inbox.delivered,
            (unsigned long long)st.replayed, (unsigned long long)st.inbox.dropped,
            (unsigned long long)st.order_events, (unsigned long long)st.fills,
            (unsigned long long)st.venue.sessions, (unsigned long long)st.venue.requests,
            (unsigned long long)st.venue.deals, (unsigned long long)st.venue.queries,
            (unsigned long long)st.venue.local_rejects,
            (unsigned long long)st.venue.broker_rejects,
            (unsigned long long)st.venue.differences, st.venue.killed ? "; KILLED" : "");
    if (rc != TT_OK) {
        code = tt_report_error(&err);
        goto out;
    }
    code = tt_live_finish(s, run, &r, &a.live, "live");
out:
    tt_backtest_close(bt);
    tt_ops_close(ops); /* before the session: the server reads it */
    if (t && tt_trading_close(t, &err) != TT_OK && !code)
        code = tt_report_error(&err);
    tt_features_pub_free(fp);
    memset(secret, 0, sizeof secret);
    tt_backtest_result_free(&r);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    return code;
}
