/*
 * `ticktape mt5-connector --listen HOST:PORT --nats URL --symbols A,B`: the
 * seed's service 14 (live/mt5_bus.h). It holds the MetaTrader 5 terminal's
 * connection and serves orders from the bus: OrderCommands on
 * orders.submitted.> (from `ticktape live --venue nats`), answers on
 * broker.fill.*, broker.error.*, broker.order.*, and with --publish-ticks
 * the terminal's quotes on ticks.*; with --kafka every bridge frame goes to
 * broker_communication_log. Runs until SIGINT or SIGTERM (or --duration).
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "core/portfolio.h"
#include "live/kafka_sink.h"
#include "live/mt5_bus.h"
#include "live/mt5_link.h"
#include "live/status_http.h"
#include "live/wallclock.h"

typedef struct conn_opts {
    tt_hostport listen;
    tt_mt5_listen_cli mt5l; /* --secret-file, --tls-cert, --tls-key */
    const char *nats, *kafka, *symbols;
    int mode, publish_ticks;
    tt_net_cli net; /* NATS authentication and TLS, --kafka-set (cli/net_opts.c) */
    double duration, status_every;
    uint64_t answer_ms, stale_ms, hb_ms;
    tt_ops_cli ops; /* --http, --notify ... (cli/ops_cli.c) */
} conn_opts;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ticktape mt5-connector: %s\n", line);
}

typedef struct wirelog {
    tt_kafka_sink *k;
    pthread_mutex_t mu;
    tt_wallclock clk;
} wirelog;

static void on_wire(void *ctx, int dir, const char *line, size_t len)
{
    wirelog *w = ctx;
    pthread_mutex_lock(&w->mu);
    tt_kafka_sink_produce_raw(w->k, "broker_communication_log", dir == TT_MT5_OUT ? "out" : "in",
                              line, len, tt_wallclock_now(&w->clk), "mt5.frame", NULL);
    pthread_mutex_unlock(&w->mu);
}

#define F(field) offsetof(conn_opts, field)

static const tt_opt CONN_OPTS[] = {
    {TT_OPT_CUSTOM, "listen", .off = F(listen), .arg = "HOST:PORT", .set = tt_opt_hostport,
     .flags = TT_OPT_REQUIRED, .help = "where the terminal (the TicktapeBridge EA) connects"},
    {TT_OPT_STRING, "nats", .off = F(nats), .arg = "URL", .flags = TT_OPT_REQUIRED,
     .help = "the bus: orders.submitted.> in, broker.* (and ticks.*) out"},
    {TT_OPT_STRING, "symbols", .off = F(symbols), .arg = "A,B", .flags = TT_OPT_REQUIRED,
     .help = "the symbols served (subscribed at the terminal)"},
    {TT_OPT_INCLUDE, .include = tt_mt5_listen_opts, .off = F(mt5l)},
    {TT_OPT_ENUM, "account", .off = F(mode), .values = tt_account_modes,
     .ivals = tt_account_mode_values, .def = "netting",
     .help = "the account mode the orders expect; a terminal with the other is refused"},
    {TT_OPT_FLAG, "publish-ticks", .off = F(publish_ticks),
     .help = "publish the terminal's quotes on ticks.{SYMBOL} (TickData)"},
    {TT_OPT_STRING, "kafka", .off = F(kafka), .arg = "BROKERS",
     .help = "every bridge frame, in and out, to the topic broker_communication_log"},
    {TT_OPT_INCLUDE, .include = tt_net_kafka_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_net_nats_opts, .off = F(net)},
    {TT_OPT_UINT, "answer-ms", .off = F(answer_ms), .arg = "MS", .min = 50, .max = 600000,
     .def = "2000", .help = "a request unanswered this long is asked about (never sent again)"},
    {TT_OPT_UINT, "stale-ms", .off = F(stale_ms), .arg = "MS", .min = 0, .max = 1e9,
     .def = "10000", .help = "refuse orders when the symbol's last quote is older (0 = never)"},
    {TT_OPT_UINT, "heartbeat-ms", .off = F(hb_ms), .arg = "MS", .min = 100, .max = 60000,
     .def = "1000", .help = "heartbeat interval (3 missed: the connection is dead)"},
    {TT_OPT_DOUBLE, "duration", .off = F(duration), .arg = "S", .min = 0, .max = INFINITY,
     .flags = TT_OPT_MIN_OPEN, .help = "stop after S seconds"},
    {TT_OPT_DOUBLE, "status-every", .off = F(status_every), .arg = "S", .min = 0.1,
     .max = INFINITY, .help = "print the counters on stderr every S seconds"},
    {TT_OPT_INCLUDE, .include = tt_ops_opts, .off = F(ops)},
    {TT_OPT_END},
};

static int run_connector(int argc, char **argv);

const tt_cmd tt_command_mt5_connector = {
    .name = "mt5-connector",
    .summary = "service 14: a MetaTrader 5 terminal serving orders from NATS",
    .run = run_connector,
    .opts = CONN_OPTS,
    .size = sizeof(conn_opts),
    .about = "Listens for the TicktapeBridge EA and serves orders from the bus: commands\n"
             "(ticktape.OrderCommand, header Tt-Type) on orders.submitted.>, answers\n"
             "(ticktape.OrderEvent) on broker.fill.{SYMBOL}, broker.error.{SYMBOL} and\n"
             "broker.order.{SYMBOL}; `ticktape live --venue nats` is its client. It serves\n"
             "one engine session (header Tt-Session). docs/live.md, \"MT5 on the bus\".\n",
    .epilog = "exit codes: 0 stopped, 1 failure (NATS or the address unreachable), 2 usage error\n",
};

static void status(tt_mt5_connector *c)
{
    tt_mt5_venue_stats st;
    uint64_t pub;
    tt_mt5_connector_stats(c, &st, &pub);
    fprintf(stderr, "ticktape mt5-connector: %s, sessions %llu, ticks %llu, requests %llu, "
            "deals %llu, rejects %llu (broker %llu), published %llu\n",
            st.connected ? (st.ready ? "terminal in sync" : "terminal syncing")
                         : "no terminal",
            (unsigned long long)st.sessions, (unsigned long long)st.ticks,
            (unsigned long long)st.requests, (unsigned long long)st.deals,
            (unsigned long long)st.local_rejects, (unsigned long long)st.broker_rejects,
            (unsigned long long)pub);
}

static void conn_info(void *ctx, tt_status_info *in)
{
    tt_mt5_venue_stats st;
    uint64_t pub;
    tt_mt5_connector_stats(ctx, &st, &pub);
    in->nconn = 1;
    snprintf(in->conn[0].name, sizeof in->conn[0].name, "mt5 terminal");
    in->conn[0].up = st.ready;
    static const tt_ops_metric M[] = {
        {"ticktape_connector_ticks_total", "Quotes from the terminal.", 1},
        {"ticktape_connector_requests_total", "Requests sent to the terminal.", 1},
        {"ticktape_connector_deals_total", "Deals the terminal made.", 1},
        {"ticktape_connector_local_rejects_total", "Orders refused before the terminal.", 1},
        {"ticktape_connector_broker_rejects_total", "Orders the broker refused.", 1},
        {"ticktape_connector_published_total", "Messages published on NATS.", 1},
        {"ticktape_connector_sessions_total", "Terminal sessions.", 1}};
    double v[] = {(double)st.ticks, (double)st.requests, (double)st.deals,
                  (double)st.local_rejects, (double)st.broker_rejects, (double)pub,
                  (double)st.sessions};
    tt_ops_info_metrics(in, M, v, 7);
}

static void watch_terminal(tt_mt5_connector *c, tt_ops *ops, int *was)
{
    tt_mt5_venue_stats st;
    tt_mt5_connector_stats(c, &st, NULL);
    if (st.connected == *was)
        return;
    *was = st.connected;
    char json[96];
    snprintf(json, sizeof json, "{\"ts\":%lld,\"connection\":\"mt5 terminal\"}",
             (long long)(tt_wall_seconds() * 1e9));
    tt_ops_event(ops, st.connected ? "reconnect" : "disconnect", json);
}

static int run_connector(int argc, char **argv)
{
    conn_opts a;
    memset(&a, 0, sizeof a);
    int code = tt_opts_parse(&tt_command_mt5_connector, &a, argc, argv, NULL);
    if (code != TT_OPTS_RUN)
        return code;
    if ((code = tt_net_check(&a.net, "mt5-connector")) != 0)
        return code;
    tt_err err;
    char secret[512];
    if (tt_mt5_listen_check(&a.mt5l, secret, sizeof secret, &err))
        return tt_usage_error("mt5-connector", "%s", err.msg);
    if ((code = tt_ops_check(&a.ops, "mt5-connector")) != TT_EXIT_OK)
        return code;
    tt_ops *ops = NULL;
    if (tt_ops_open(&ops, &a.ops, "mt5-connector", NULL, log_stderr, &err))
        return tt_report_error(&err);
    char symbuf[1024];
    const char *syms[65] = {NULL};
    snprintf(symbuf, sizeof symbuf, "%s", a.symbols);
    int n = 0;
    for (char *s = NULL, *t = strtok_r(symbuf, ",", &s); t && n < 64; t = strtok_r(NULL, ",", &s))
        syms[n++] = t;
    wirelog w;
    memset(&w, 0, sizeof w);
    pthread_mutex_init(&w.mu, NULL);
    tt_wallclock_init(&w.clk);
    tt_instruments *ins = tt_instruments_new();
    if (a.kafka) {
        tt_kafka_sink_opts ko = {.brokers = a.kafka, .ins = ins,
                                 .conf = tt_net_kafka_conf(&a.net),
                                 .log = log_stderr};
        if (tt_kafka_sink_open(&w.k, &ko, &err)) {
            tt_instruments_free(ins);
            return tt_report_error(&err);
        }
    }
    tt_mt5_connector_opts o;
    memset(&o, 0, sizeof o);
    o.nats_url = a.nats;
    o.nats_auth = tt_net_nats(&a.net);
    o.host = a.listen.host;
    o.port = a.listen.port;
    o.secret = secret;
    o.tls_cert = a.mt5l.tls_cert;
    o.tls_key = a.mt5l.tls_key;
    o.hb_ms = (uint32_t)a.hb_ms;
    o.symbols = syms;
    o.mode = (uint8_t)a.mode;
    o.answer_ms = (int64_t)a.answer_ms;
    o.stale_ms = a.stale_ms ? (int64_t)a.stale_ms : -1;
    o.publish_ticks = a.publish_ticks;
    o.on_wire = w.k ? on_wire : NULL;
    o.log = log_stderr;
    o.ctx = &w;
    tt_mt5_connector *c;
    code = TT_EXIT_OK;
    tt_ops_hooks hooks = {.info = conn_info, .log = log_stderr};
    if (tt_mt5_connector_open(&c, &o, &err)) {
        code = tt_report_error(&err);
    } else if ((hooks.ctx = c, tt_ops_serve(ops, &hooks, &err))) {
        code = tt_report_error(&err);
        tt_mt5_connector_close(c);
    } else {
        int was_connected = 0;
        fprintf(stderr, "ticktape mt5-connector: listening on %s:%d, serving %s\n",
                a.listen.host, tt_mt5_connector_port(c), a.symbols);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        double start = tt_wall_seconds(), last = start;
        while (!g_stop && !(a.duration > 0 && tt_wall_seconds() - start >= a.duration)) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
            if (ops)
                watch_terminal(c, ops, &was_connected);
            if (a.status_every > 0 && tt_wall_seconds() - last >= a.status_every) {
                last = tt_wall_seconds();
                status(c);
            }
        }
        status(c);
        tt_ops_close(ops); /* before the connector: the server reads it */
        ops = NULL;
        tt_mt5_connector_close(c);
    }
    tt_ops_close(ops);
    memset(secret, 0, sizeof secret);
    if (w.k)
        tt_kafka_sink_close(w.k);
    pthread_mutex_destroy(&w.mu);
    tt_instruments_free(ins);
    return code;
}
