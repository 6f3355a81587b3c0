/*
 * The shared options of the networked commands (see net_opts.h): which
 * command takes which group, the parsing, the checks, the help text.
 */
#include "net_opts.h"

#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim/research.h"

enum { G_NATS = 1, G_JOBS = 2, G_WORKER = 4, G_KAFKA = 8, G_PUBLISH = 16, G_FEED = 32 };

/* Which groups each command takes. */
static unsigned groups_of(const char *cmd)
{
    if (!strcmp(cmd, "worker"))
        return G_NATS | G_JOBS | G_WORKER;
    if (!strcmp(cmd, "sweep") || !strcmp(cmd, "walkforward"))
        return G_NATS | G_JOBS;
    if (!strcmp(cmd, "publish"))
        return G_NATS | G_KAFKA | G_PUBLISH;
    if (!strcmp(cmd, "paper"))
        return G_NATS | G_FEED;
    return 0;
}

/* The NATS options that name a file, and where each goes. */
static const char **nats_file_opt(tt_nats_opts *n, const char *name)
{
    static const struct {
        const char *name;
        size_t off;
    } files[] = {
        {"nats-password-file", offsetof(tt_nats_opts, password_file)},
        {"nats-token-file", offsetof(tt_nats_opts, token_file)},
        {"nats-nkey-file", offsetof(tt_nats_opts, nkey_file)},
        {"nats-creds", offsetof(tt_nats_opts, creds_file)},
        {"nats-tls-ca", offsetof(tt_nats_opts, tls_ca)},
        {"nats-tls-cert", offsetof(tt_nats_opts, tls_cert)},
        {"nats-tls-key", offsetof(tt_nats_opts, tls_key)},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!strcmp(name, files[i].name))
            return (const char **)((char *)n + files[i].off);
    return NULL;
}

void tt_net_opts_init(tt_net_opts *o)
{
    memset(o, 0, sizeof *o);
}

/* A file argument: present and not empty. */
static int file_arg(const char *cmd, const tt_opt *op, const char **dst)
{
    if (!op->value || !*op->value)
        return tt_usage_error(cmd, "--%s needs a file", op->name);
    *dst = op->value;
    return 0;
}

int tt_net_opt(tt_net_opts *o, const char *cmd, const tt_opt *op)
{
    unsigned g = groups_of(cmd);
    if (!op->name)
        return -1;
    const char **file = (g & G_NATS) ? nats_file_opt(&o->nats, op->name) : NULL;
    if (file)
        return file_arg(cmd, op, file);
    if ((g & G_NATS) && tt_opt_is(op, "nats-user")) {
        if (!op->value || !*op->value)
            return tt_usage_error(cmd, "--nats-user needs a user name");
        o->nats.user = op->value;
        return 0;
    }
    if ((g & G_NATS) && tt_opt_is(op, "nats-password"))
        return tt_usage_error(cmd, "--nats-password: a password never goes on the command "
                                   "line; use --nats-password-file F or TICKTAPE_NATS_PASSWORD");
    if ((g & G_FEED) && tt_opt_is(op, "queue-bytes")) {
        char *end = NULL;
        double v = op->value ? strtod(op->value, &end) : -1;
        double unit = end && (*end == 'K' || *end == 'k') ? 1024.0
                      : end && (*end == 'M' || *end == 'm') ? 1048576.0
                      : end && (*end == 'G' || *end == 'g') ? 1073741824.0 : 1.0;
        if (end && unit > 1.0)
            end++;
        if (!op->value || !end || *end || !(v * unit >= 32.0 * 1048576.0) || v * unit > 1e12)
            return tt_usage_error(cmd, "--queue-bytes: expected a size from 32M to 1T (K, M, G "
                                       "are powers of 1024), got '%s'",
                                  op->value ? op->value : "");
        o->queue_bytes = (uint64_t)(v * unit);
        return 0;
    }
    if ((g & G_FEED) && tt_opt_is(op, "max-tick-age")) {
        tt_err err;
        if (tt_duration_parse(op->value, &o->max_tick_age, "--max-tick-age", &err))
            return tt_usage_error(cmd, "%s", err.msg);
        return 0;
    }
    if ((g & G_PUBLISH) && tt_opt_is(op, "jetstream")) {
        if (!op->value || !*op->value || strpbrk(op->value, " .*>\t"))
            return tt_usage_error(cmd, "--jetstream needs a stream name (no spaces, dots or "
                                       "wildcards)");
        o->jetstream = op->value;
        return 0;
    }
    if ((g & G_KAFKA) && tt_opt_is(op, "kafka-set")) {
        if (!op->value || !strchr(op->value, '=') || op->value[0] == '=')
            return tt_usage_error(cmd, "--kafka-set needs KEY=VALUE");
        if (o->nkafka_conf == TT_NET_MAX_KAFKA)
            return tt_usage_error(cmd, "at most %d --kafka-set", TT_NET_MAX_KAFKA);
        o->kafka_conf[o->nkafka_conf++] = op->value;
        return 0;
    }
    if ((g & G_JOBS) && tt_opt_is(op, "job-key"))
        return file_arg(cmd, op, &o->job_key_file);
    if ((g & G_WORKER) && tt_opt_is(op, "scenarios")) {
        if (!op->value || !*op->value)
            return tt_usage_error(cmd, "--scenarios needs a directory");
        if (o->nscenario_dirs == TT_NET_MAX_DIRS)
            return tt_usage_error(cmd, "at most %d --scenarios directories", TT_NET_MAX_DIRS);
        o->scenario_dirs[o->nscenario_dirs++] = op->value;
        return 0;
    }
    if ((g & G_WORKER) && tt_opt_is(op, "run-timeout")) {
        tt_err err;
        if (tt_duration_parse(op->value, &o->run_timeout, "--run-timeout", &err))
            return tt_usage_error(cmd, "%s", err.msg);
        return 0;
    }
    return -1;
}

int tt_net_opts_finish(tt_net_opts *o, const char *cmd)
{
    if (groups_of(cmd) & G_FEED) {
        /* Queues hold large payloads for a while and free them: a fixed mmap
         * threshold keeps glibc from raising it after such a free and serving
         * the next megabytes from arenas it never gives back, so that the
         * process's memory follows the byte budget of --queue-bytes. */
        mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    }
    tt_nats_opts *n = &o->nats;
    if (n->user && !n->password_file) {
        n->password = getenv("TICKTAPE_NATS_PASSWORD");
        if (!n->password || !*n->password)
            return tt_usage_error(cmd, "--nats-user needs --nats-password-file F (or the "
                                       "TICKTAPE_NATS_PASSWORD environment variable)");
    }
    if (!n->user && n->password_file)
        return tt_usage_error(cmd, "--nats-password-file needs --nats-user");
    int methods = (n->user != NULL) + (n->token_file != NULL) + (n->nkey_file != NULL) +
                  (n->creds_file != NULL);
    if (methods > 1)
        return tt_usage_error(cmd, "give one of --nats-user, --nats-token-file, "
                                   "--nats-nkey-file, --nats-creds");
    if (!n->tls_cert != !n->tls_key)
        return tt_usage_error(cmd, "--nats-tls-cert and --nats-tls-key go together");
    if (o->job_key_file) {
        tt_err err;
        if (tt_hmac_key_load(&o->job_key, o->job_key_file, &err))
            return tt_usage_error(cmd, "--job-key: %s", err.msg);
    }
    return 0;
}

void tt_net_usage(FILE *f, const char *cmd)
{
    unsigned g = groups_of(cmd);
    if (g & G_NATS)
        fputs("\nNATS authentication and TLS (docs/live.md; credentials in the URL work too,\n"
              "nats://user:pass@host, and are never printed):\n"
              "  --nats-user U           user name, with --nats-password-file F or the\n"
              "                          TICKTAPE_NATS_PASSWORD environment variable (never a\n"
              "  --nats-password-file F  password on the command line)\n"
              "  --nats-token-file F     an authentication token\n"
              "  --nats-nkey-file F      an NKey user seed (SU...)\n"
              "  --nats-creds F          a JWT user credentials file (.creds)\n"
              "  --nats-tls-ca F         TLS: trust these CA certificates (PEM); any --nats-tls-*\n"
              "                          option or a tls:// URL makes the connection TLS-only\n"
              "  --nats-tls-cert F       TLS client certificate (PEM), with --nats-tls-key F\n"
              "  --nats-tls-key F\n",
              f);
    if (g & G_FEED)
        fputs("\nmemory (docs/live.md, \"Reliability\"):\n"
              "  --queue-bytes B     memory for queued messages (default 256M; K, M, G are\n"
              "                      powers of 1024; at least 32M): the feed queue 1/16, the\n"
              "                      journal's queue 1/32, nats.c's queue of each subscription\n"
              "                      1/64 (at least 4M), the rest for buffers and copies in\n"
              "                      flight, so that the process grows by less than B; beyond\n"
              "                      it market data is dropped oldest first (counted), order\n"
              "                      and venue events wait\n",
              f);
    if (g & G_FEED)
        fputs("\nfeed validation (docs/live.md, \"Reliability\"):\n"
              "  --max-tick-age DUR  refuse ticks whose exchange time is more than DUR before\n"
              "                      their arrival (default: no limit, so recorded data can be\n"
              "                      replayed); ticks more than a minute ahead are always\n"
              "                      refused\n",
              f);
    if (g & G_PUBLISH)
        fputs("\nNATS publishing (docs/live.md):\n"
              "  --jetstream STREAM  publish the ticks into this JetStream stream (created on\n"
              "                      ticks.> if missing) with an acknowledgement for each;\n"
              "                      the summary gives the exact count not stored. Without it\n"
              "                      (core NATS) disconnects are reported with the ticks that\n"
              "                      may have been lost; either way a loss exits 3\n",
              f);
    if (g & G_KAFKA)
        fputs("\nKafka:\n"
              "  --kafka-set K=V   a librdkafka setting, e.g. security.protocol=SASL_SSL,\n"
              "                    sasl.mechanisms=SCRAM-SHA-512, sasl.username=U,\n"
              "                    sasl.password=P, ssl.ca.location=F (repeatable; a bad key\n"
              "                    is an error naming it)\n",
              f);
    if (g & G_JOBS)
        fputs("\njob signing (docs/security.md):\n"
              "  --job-key F       sign jobs and check completions (sweep), check jobs and\n"
              "                    sign completions (worker) with the HMAC-SHA256 key in F\n"
              "                    (16+ bytes, mode 600); a worker with a key refuses\n"
              "                    unsigned jobs\n",
              f);
    if (g & G_WORKER)
        fputs("\nwhat a worker runs (docs/security.md):\n"
              "  --scenarios DIR   run only scenario files (*.yaml, *.yml) found in DIR,\n"
              "                    by content hash; repeatable (default: the current\n"
              "                    directory). A job names no file and sets only the\n"
              "                    parameters its scenario's sweep: section declares\n"
              "  --run-timeout DUR kill a run still running after DUR and terminate its job\n"
              "                    (default 10m)\n",
              f);
}

const char *const *tt_net_kafka_conf(const tt_net_opts *o)
{
    return o->kafka_conf;
}

const tt_nats_opts *tt_net_nats(const tt_net_opts *o)
{
    return &o->nats;
}

int tt_net_scenario_dirs(const tt_net_opts *o, const char *const **dirs)
{
    static const char *const here[] = {"."};
    if (o->nscenario_dirs == 0) {
        *dirs = here;
        return 1;
    }
    *dirs = o->scenario_dirs;
    return o->nscenario_dirs;
}

int64_t tt_net_run_timeout_ms(const tt_net_opts *o)
{
    return (o->run_timeout ? o->run_timeout : TT_NET_RUN_TIMEOUT) / TT_NS_PER_MS;
}
