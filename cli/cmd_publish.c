/*
 * `ticktape publish TAPE --nats URL`: replay a tape's quotes onto NATS as the
 * seed's TickData on ticks.{SYMBOL}, what the polygon-live-collector would
 * publish; or with `--kafka BROKERS` onto the tick_archive topic (keyed by
 * symbol, idempotent producer). Used by demos, tests and the latency
 * benchmark. SIGINT/SIGTERM stop it after the current tick; what was
 * published is flushed first.
 */
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/instrument.h"
#include "core/merge.h"
#include "data/calendar.h"
#include "data/tape.h"
#include "live/nats_conn.h"
#include "live/publish.h"
#include "net_opts.h"

static volatile int g_stop; /* set by the signal handler: the CLI owns the process */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct publish_opts {
    const char *tape, *url, *brokers, *symbols, *instruments_file, *source;
    const char *external[TT_MERGE_MAX];
    int nexternal;
    tt_ts from, to;
    double speed;   /* 0 = max */
    uint64_t rate;  /* ticks per second, 0 = by --speed */
    uint64_t limit; /* 0 = all */
    int json, json_ticks;
    const char *jetstream; /* the stream to publish ticks into (NULL: core NATS) */
    tt_net_cli net;        /* NATS authentication and TLS, --kafka-set (net_opts.c) */
} publish_opts;

/* --speed max|K: 0 for max. */
static int opt_speed(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    double *speed = tt_opt_field(opts, o);
    if (!strcmp(value, "max")) {
        *speed = 0;
        return TT_OK;
    }
    char *e;
    *speed = strtod(value, &e);
    if (e == value || *e || !(*speed > 0))
        return tt_err_set(err, TT_EINVAL, "--%s: expected max or a positive number, got '%s'",
                          o->name, value);
    return TT_OK;
}

/* --jetstream STREAM: a stream name (no spaces, dots or wildcards). */
static int opt_stream(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    if (!*value || strpbrk(value, " .*>\t"))
        return tt_err_set(err, TT_EINVAL, "--%s needs a stream name (no spaces, dots or "
                          "wildcards)", o->name);
    *(const char **)tt_opt_field(opts, o) = value;
    return TT_OK;
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ticktape publish: %s\n", line);
}

#define F(field) offsetof(publish_opts, field)

static const tt_opt PUBLISH_OPTS[] = {
    {TT_OPT_ARG, .arg = "TAPE", .off = F(tape), .flags = TT_OPT_REQUIRED,
     .help = "the tape whose quote ticks are published"},
    {TT_OPT_STRING, "nats", .off = F(url), .arg = "URL",
     .help = "NATS server, e.g. nats://127.0.0.1:4222"},
    {TT_OPT_STRING, "kafka", .off = F(brokers), .arg = "BROKERS",
     .help = "Kafka bootstrap servers, e.g. 127.0.0.1:9092"},
    {TT_OPT_CUSTOM, "speed", .off = F(speed), .arg = "max|K", .set = opt_speed, .def = "max",
     .help = "max, or K times real time (1 = as recorded)"},
    {TT_OPT_UINT, "rate", .off = F(rate), .arg = "N", .min = 1, .max = INFINITY,
     .help = "N ticks per second, evenly spaced (overrides --speed)"},
    {TT_OPT_STRING, "symbols", .off = F(symbols), .arg = "A,B",
     .def_text = "every quote stream", .help = "only these symbols"},
    {TT_OPT_TIME, "from", .off = F(from), .help = "start of the range (inclusive)"},
    {TT_OPT_TIME, "to", .off = F(to), .help = "end of the range (exclusive)"},
    {TT_OPT_UINT, "limit", .off = F(limit), .arg = "N", .help = "stop after N ticks"},
    {TT_OPT_STRING, "source", .off = F(source), .arg = "NAME",
     .help = "publish on ticks.NAME.{SYMBOL}: one feed of several for `ticktape aggregate`"},
    {TT_OPT_LIST, "external", .off = F(external), .count_off = F(nexternal), .max_count = 8,
     .arg = "STREAM",
     .help = "also the events of this blob stream (an imported calendar) on "
             "market.external.{type} (Kafka: external_data_archive); repeatable"},
    {TT_OPT_FLAG, "json-ticks", .off = F(json_ticks),
     .help = "publish the JSON form {\"symbol\",\"bid\",\"ask\",\"timestamp\"}"},
    {TT_OPT_STRING, "instruments", .off = F(instruments_file), .arg = "FILE",
     .help = "extra instrument declarations (docs/instruments.md)"},
    {TT_OPT_FLAG, "json", .off = F(json), .help = "last line of stdout: a JSON summary"},
    {TT_OPT_CUSTOM, "jetstream", .off = F(jetstream), .arg = "STREAM", .set = opt_stream,
     .help = "publish the ticks into this JetStream stream (created on ticks.> if missing) with "
             "an acknowledgement for each; the summary gives the exact count not stored. "
             "Without it (core NATS) disconnects are reported with the ticks that may have been "
             "lost; either way a loss exits 3"},
    {TT_OPT_INCLUDE, .include = tt_net_nats_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_net_kafka_opts, .off = F(net)},
    {TT_OPT_END},
};

static const tt_opt_rule PUBLISH_RULES[] = {
    {TT_RULE_ONE_OF, {"nats", "kafka"}, "give one target: --nats URL or --kafka BROKERS"},
    {TT_RULE_EXCLUSIVE, {"kafka", "json-ticks"},
     "--json-ticks is for NATS; tick_archive holds TickData"},
    {TT_RULE_EXCLUSIVE, {"kafka", "source"}, "--source names a NATS subject (ticks.NAME.SYMBOL)"},
    {TT_RULE_EXCLUSIVE, {"kafka", "jetstream"}, "--jetstream is for NATS"},
    {TT_RULE_END},
};

static int run_publish(int argc, char **argv);

const tt_cmd tt_command_publish = {
    .name = "publish",
    .summary = "publish a tape's ticks on NATS as TickData (ticks.SYMBOL)",
    .run = run_publish,
    .opts = PUBLISH_OPTS,
    .size = sizeof(publish_opts),
    .rules = PUBLISH_RULES,
    .about = "Publishes the tape's quote ticks on ticks.{SYMBOL} as TickData protobuf\n"
             "(symbol, bid, ask, volume, timestamp in ms, spread), or to the Kafka topic\n"
             "tick_archive keyed by symbol (idempotent producer). With --source NAME the\n"
             "subject is ticks.NAME.{SYMBOL} (one of several feeds an aggregator merges). With\n"
             "--external STREAM the stream's events go out in time order with the ticks, their\n"
             "bytes on market.external.{type} (Kafka: external_data_archive, keyed by type).\n"
             "SIGINT or SIGTERM stop it after the current tick; what was published is flushed\n"
             "first.\n",
    .epilog = "exit codes: 0 published, 3 published but some ticks may be lost (NATS\n"
              "disconnects, JetStream ticks not stored), 1 failure (Kafka: ticks not\n"
              "delivered), 2 usage error\n",
};

static void progress_cb(void *ctx, uint64_t n)
{
    tt_progress_update(ctx, n);
}

static int run_publish(int argc, char **argv)
{
    publish_opts a;
    memset(&a, 0, sizeof a);
    int rc = tt_opts_parse(&tt_command_publish, &a, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    if ((rc = tt_net_check(&a.net, "publish")) != 0)
        return rc;
    const char *tape = a.tape, *url = a.url, *symbols = a.symbols;
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.from = a.from;
    q.to = a.to;
    char symbuf[1024];
    const char *symlist[65] = {NULL};
    if (symbols) {
        snprintf(symbuf, sizeof symbuf, "%s", symbols);
        int n = 0;
        for (char *save = NULL, *t = strtok_r(symbuf, ",", &save); t && n < 64;
             t = strtok_r(NULL, ",", &save))
            symlist[n++] = t;
        q.symbols = symlist;
    }
    q.kinds = 1u << TT_STREAM_QUOTE;

    tt_err err;
    tt_err_clear(&err);
    rc = TT_EXIT_FAIL;
    tt_instruments *ins = tt_instruments_new();
    tt_tape_reader *r = NULL, *xr = NULL;
    tt_merge *merge = NULL;
    tt_publish_nats *pn = NULL;
    rd_kafka_t *rk = NULL;
    if (!ins) {
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        goto out;
    }
    if (a.instruments_file && tt_instruments_load(ins, a.instruments_file, &err))
        goto out;
    if (tt_tape_reader_open(&r, tape, &q, ins, &err))
        goto out;
    tt_source src = tt_tape_reader_source(r);
    if (a.nexternal) {
        a.external[a.nexternal] = NULL;
        if (tt_external_reader_open(&xr, tape, a.external, a.from, a.to, &err))
            goto out;
        tt_source both[2] = {src, tt_tape_reader_source(xr)};
        both[1].next_batch = NULL; /* a payload lives until the reader's next call */
        if (tt_merge_new(&merge, both, 2, &err))
            goto out;
        src = tt_merge_source(merge);
    }
    if (url) {
        if (tt_publish_nats_open(&pn, url, tt_net_nats(&a.net), a.jetstream, log_line, NULL,
                                 &err))
            goto out;
    } else if (tt_publish_kafka_open(&rk, a.brokers, tt_net_kafka_conf(&a.net), &err)) {
        rc = err.code == TT_EINVAL ? TT_EXIT_USAGE : TT_EXIT_FAIL;
        goto out;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    tt_progress prog;
    tt_progress_start(&prog, "publish", 0);
    tt_publish_opts po;
    memset(&po, 0, sizeof po);
    po.pn = pn;
    po.rk = rk;
    po.ins = ins;
    po.speed = a.speed;
    po.rate = (double)a.rate;
    po.limit = a.limit;
    po.json = a.json_ticks;
    po.source = a.source;
    po.stop = &g_stop;
    po.progress = progress_cb;
    po.ctx = &prog;
    tt_publish_stats ps;
    int prc = tt_publish_run(src, &po, &ps, &err);
    tt_progress_finish(&prog);
    for (int i = 0; i < tt_tape_reader_warning_count(r); i++)
        fprintf(stderr, "ticktape: warning: %s\n", tt_tape_reader_warning(r, i));
    char line[512];
    fprintf(stderr, "%s\n", tt_publish_stats_text(&ps, g_stop, line, sizeof line));
    if (a.json)
        printf("%s\n", tt_publish_stats_json(&ps, g_stop, prc, line, sizeof line));
    if (prc == TT_EPARTIAL) { /* published, but some may be lost: reported below */
        rc = TT_EXIT_PARTIAL;
        goto out;
    }
    if (prc)
        goto out;
    rc = TT_EXIT_OK;
out:
    if (rc == TT_EXIT_USAGE)
        tt_usage_error("publish", "%s", err.msg);
    else if (rc != TT_EXIT_OK)
        tt_report_error(&err);
    tt_publish_nats_close(pn);
    tt_publish_kafka_close(rk);
    tt_merge_free(merge);
    tt_tape_reader_close(xr);
    tt_tape_reader_close(r);
    tt_instruments_free(ins);
    return rc;
}
