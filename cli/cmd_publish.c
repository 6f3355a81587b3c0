/*
 * `ticktape publish TAPE --nats URL`: replay a tape's quotes onto NATS as the
 * seed's TickData on ticks.{SYMBOL}, what the polygon-live-collector would
 * publish; or with `--kafka BROKERS` onto the tick_archive topic (keyed by
 * symbol, idempotent producer). Used by demos, tests and the latency
 * benchmark. SIGINT/SIGTERM stop it after the current tick; what was
 * published is flushed first.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/instrument.h"
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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ticktape publish TAPE (--nats URL | --kafka BROKERS) [options]\n\n"
            "Publishes the tape's quote ticks on ticks.{SYMBOL} as TickData protobuf\n"
            "(symbol, bid, ask, volume, timestamp in ms, spread), or to the Kafka topic\n"
            "tick_archive keyed by symbol.\n\n"
            "options:\n"
            "  --nats URL          NATS server, e.g. nats://127.0.0.1:4222\n"
            "  --kafka BROKERS     Kafka bootstrap servers, e.g. 127.0.0.1:9092\n"
            "  --speed max|K       max (default), or K times real time (1 = as recorded)\n"
            "  --rate N            N ticks per second, evenly spaced (overrides --speed)\n"
            "  --symbols A,B       only these symbols (default: every quote stream)\n"
            "  --from D, --to D    time range (ISO 8601)\n"
            "  --limit N           stop after N ticks\n"
            "  --json-ticks        publish the JSON form {\"symbol\",\"bid\",\"ask\",\"timestamp\"}\n"
            "  --instruments FILE  extra instrument declarations\n"
            "  --json              last line of stdout: a JSON summary\n");
    tt_net_usage(f, "publish");
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ticktape publish: %s\n", line);
}

static void progress_cb(void *ctx, uint64_t n)
{
    tt_progress_update(ctx, n);
}

int tt_cmd_publish(int argc, char **argv)
{
    const char *tape = NULL, *url = NULL, *symbols = NULL, *from = NULL, *to = NULL;
    const char *brokers = NULL;
    const char *instruments_file = NULL;
    double speed = 0, rate = 0;
    uint64_t limit = 0;
    int json = 0, json_ticks = 0;
    static const char *const flags[] = {"json", "json-ticks", "help", "h", NULL};
    tt_net_opts net;
    tt_net_opts_init(&net);
    tt_opt o;
    tt_opt_init(&o, argc, argv);
    while (tt_opt_next(&o, flags)) {
        int bad = tt_net_opt(&net, "publish", &o);
        if (bad >= 0) {
            if (bad)
                return bad;
            continue;
        }
        if (!o.name) {
            if (tape)
                return tt_usage_error("publish", "unexpected argument '%s'", o.value);
            tape = o.value;
        } else if (tt_opt_is(&o, "help") || tt_opt_is(&o, "h")) {
            usage(stdout);
            return TT_EXIT_OK;
        } else if (tt_opt_is(&o, "json")) {
            json = 1;
        } else if (tt_opt_is(&o, "json-ticks")) {
            json_ticks = 1;
        } else if (!o.value) {
            return tt_usage_error("publish", "--%s needs a value", o.name);
        } else if (tt_opt_is(&o, "nats")) {
            url = o.value;
        } else if (tt_opt_is(&o, "kafka")) {
            brokers = o.value;
        } else if (tt_opt_is(&o, "speed")) {
            if (strcmp(o.value, "max")) {
                char *e;
                speed = strtod(o.value, &e);
                if (*e || !(speed > 0))
                    return tt_usage_error("publish", "--speed: expected max or a positive number, got '%s'", o.value);
            }
        } else if (tt_opt_is(&o, "rate")) {
            uint64_t r;
            if (tt_parse_u64(o.value, &r) || !r)
                return tt_usage_error("publish", "--rate: expected a positive count, got '%s'", o.value);
            rate = (double)r;
        } else if (tt_opt_is(&o, "limit")) {
            if (tt_parse_u64(o.value, &limit))
                return tt_usage_error("publish", "--limit: expected a count, got '%s'", o.value);
        } else if (tt_opt_is(&o, "symbols")) {
            symbols = o.value;
        } else if (tt_opt_is(&o, "from")) {
            from = o.value;
        } else if (tt_opt_is(&o, "to")) {
            to = o.value;
        } else if (tt_opt_is(&o, "instruments")) {
            instruments_file = o.value;
        } else {
            return tt_usage_error("publish", "unknown option --%s", o.name);
        }
    }
    if (!tape)
        return tt_usage_error("publish", "missing TAPE (see --help)");
    if (!url == !brokers)
        return tt_usage_error("publish", "give one target: --nats URL or --kafka BROKERS");
    if (brokers && json_ticks)
        return tt_usage_error("publish", "--json-ticks is for NATS; tick_archive holds TickData");
    int net_bad = tt_net_opts_finish(&net, "publish");
    if (net_bad)
        return net_bad;
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    if (from && tt_ts_parse(from, &q.from))
        return tt_usage_error("publish", "--from: bad time '%s'", from);
    if (to && tt_ts_parse(to, &q.to))
        return tt_usage_error("publish", "--to: bad time '%s'", to);
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
    int rc = TT_EXIT_FAIL;
    tt_instruments *ins = tt_instruments_new();
    tt_tape_reader *r = NULL;
    tt_publish_nats *pn = NULL;
    rd_kafka_t *rk = NULL;
    if (!ins) {
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        goto out;
    }
    if (instruments_file && tt_instruments_load(ins, instruments_file, &err))
        goto out;
    if (tt_tape_reader_open(&r, tape, &q, ins, &err))
        goto out;
    if (url) {
        if (tt_publish_nats_open(&pn, url, tt_net_nats(&net), net.jetstream, log_line, NULL, &err))
            goto out;
    } else if (tt_publish_kafka_open(&rk, brokers, tt_net_kafka_conf(&net), &err)) {
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
    po.speed = speed;
    po.rate = rate;
    po.limit = limit;
    po.json = json_ticks;
    po.stop = &g_stop;
    po.progress = progress_cb;
    po.ctx = &prog;
    tt_publish_stats ps;
    int prc = tt_publish_run(tt_tape_reader_source(r), &po, &ps, &err);
    tt_progress_finish(&prog);
    for (int i = 0; i < tt_tape_reader_warning_count(r); i++)
        fprintf(stderr, "ticktape: warning: %s\n", tt_tape_reader_warning(r, i));
    char line[512];
    fprintf(stderr, "%s\n", tt_publish_stats_text(&ps, g_stop, line, sizeof line));
    if (json)
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
    tt_tape_reader_close(r);
    tt_instruments_free(ins);
    return rc;
}
