/*
 * The shared options of the networked commands (see net_opts.h): the tables,
 * their custom values and the checks after parsing. The help strings are the
 * documentation (--help and docs/cli.md), so they say what is never done
 * (a password in argv) as well as what is.
 */
#include "net_opts.h"

#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* --nats-password: refused, whatever follows (the value is not echoed). */
static int opt_no_password(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    (void)opts, (void)value;
    return tt_err_set(err, TT_EINVAL, "--%s: a password never goes on the command line; use "
                      "--nats-password-file F or TICKTAPE_NATS_PASSWORD", o->name);
}

/* --queue-bytes B: a size from 32M to 1T, K/M/G powers of 1024. */
static int opt_queue_bytes(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    char *end = NULL;
    double v = strtod(value, &end);
    double unit = (*end == 'K' || *end == 'k')   ? 1024.0
                  : (*end == 'M' || *end == 'm') ? 1048576.0
                  : (*end == 'G' || *end == 'g') ? 1073741824.0
                  : (*end == 'T' || *end == 't') ? 1099511627776.0
                                                 : 1.0;
    if (unit > 1.0)
        end++;
    if (end == value || *end || !(v * unit >= 32.0 * 1048576.0) || v * unit > 1099511627776.0)
        return tt_err_set(err, TT_EINVAL, "--%s: expected a size from 32M to 1T (K, M, G are "
                          "powers of 1024), got '%s'", o->name, value);
    *(uint64_t *)tt_opt_field(opts, o) = (uint64_t)(v * unit);
    return TT_OK;
}

#define N(field) offsetof(tt_net_cli, nats.field)
#define F(field) offsetof(tt_net_cli, field)

const tt_opt tt_net_nats_opts[] = {
    {TT_OPT_STRING, "nats-user", .off = N(user), .arg = "U", .flags = TT_OPT_NONEMPTY,
     .help = "NATS user name, with --nats-password-file F or the TICKTAPE_NATS_PASSWORD "
             "environment variable (credentials in the URL work too and are never printed)"},
    {TT_OPT_STRING, "nats-password-file", .off = N(password_file), .arg = "FILE",
     .flags = TT_OPT_NONEMPTY,
     .help = "the NATS user's password (the whole file, trailing whitespace ignored)"},
    {TT_OPT_CUSTOM, "nats-password", .arg = "P", .set = opt_no_password,
     .help = "refused: a password never goes on the command line (argv is public)"},
    {TT_OPT_STRING, "nats-token-file", .off = N(token_file), .arg = "FILE",
     .flags = TT_OPT_NONEMPTY, .help = "a NATS authentication token"},
    {TT_OPT_STRING, "nats-nkey-file", .off = N(nkey_file), .arg = "FILE",
     .flags = TT_OPT_NONEMPTY, .help = "a NATS NKey user seed (SU...)"},
    {TT_OPT_STRING, "nats-creds", .off = N(creds_file), .arg = "FILE", .flags = TT_OPT_NONEMPTY,
     .help = "a NATS JWT user credentials file (.creds)"},
    {TT_OPT_STRING, "nats-tls-ca", .off = N(tls_ca), .arg = "FILE", .flags = TT_OPT_NONEMPTY,
     .help = "TLS to NATS: trust these CA certificates (PEM); any --nats-tls-* option or a "
             "tls:// URL makes the connection TLS-only"},
    {TT_OPT_STRING, "nats-tls-cert", .off = N(tls_cert), .arg = "FILE", .flags = TT_OPT_NONEMPTY,
     .help = "TLS client certificate (PEM), with --nats-tls-key"},
    {TT_OPT_STRING, "nats-tls-key", .off = N(tls_key), .arg = "FILE", .flags = TT_OPT_NONEMPTY,
     .help = "the TLS client certificate's private key (PEM)"},
    {TT_OPT_END},
};

const tt_opt tt_net_kafka_opts[] = {
    {TT_OPT_LIST, "kafka-set", .off = F(kafka_conf), .count_off = F(nkafka_conf),
     .max_count = TT_NET_MAX_KAFKA, .arg = "K=V", .flags = TT_OPT_KEYVAL,
     .help = "a librdkafka setting, e.g. security.protocol=SASL_SSL, "
             "sasl.mechanisms=SCRAM-SHA-512, sasl.username=U, sasl.password=P, "
             "ssl.ca.location=F; repeatable (a bad key is an error naming it, never its value)"},
    {TT_OPT_END},
};

const tt_opt tt_net_job_opts[] = {
    {TT_OPT_STRING, "job-key", .off = F(job_key_file), .arg = "FILE", .flags = TT_OPT_NONEMPTY,
     .help = "sign jobs and check completions (sweep, walkforward), check jobs and sign "
             "completions (worker) with the HMAC-SHA256 key in FILE (16+ bytes, mode 600); a "
             "worker with a key refuses unsigned jobs (docs/security.md)"},
    {TT_OPT_END},
};

const tt_opt tt_net_feed_opts[] = {
    {TT_OPT_CUSTOM, "queue-bytes", .off = F(queue_bytes), .arg = "B", .set = opt_queue_bytes,
     .def_text = "256M",
     .help = "memory for queued messages (at least 32M; K, M, G are powers of 1024): the feed "
             "queue 1/16, the journal's queue 1/32, nats.c's queue of the ticks 1/4 and of each "
             "other subscription 1/64 (at least 4M), the rest for buffers in flight, so that the process grows by less than "
             "B; beyond it market data is dropped oldest first (counted), order and venue "
             "events wait"},
    {TT_OPT_DURATION, "max-tick-age", .off = F(max_tick_age), .arg = "DUR",
     .def_text = "no limit",
     .help = "refuse ticks whose exchange time is more than DUR before their arrival (no "
             "limit by default, so recorded data can be replayed); ticks more than a minute "
             "ahead are always refused"},
    {TT_OPT_END},
};

int tt_net_check(tt_net_cli *o, const char *cmd)
{
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
    o->kafka_conf[o->nkafka_conf] = NULL;
    if (o->job_key_file) {
        tt_err err;
        if (tt_hmac_key_load(&o->job_key, o->job_key_file, &err))
            return tt_usage_error(cmd, "--job-key: %s", err.msg);
    }
    return 0;
}

void tt_net_feed_memory(void)
{
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

const tt_nats_opts *tt_net_nats(const tt_net_cli *o)
{
    return &o->nats;
}

const char *const *tt_net_kafka_conf(const tt_net_cli *o)
{
    return o->nkafka_conf ? o->kafka_conf : NULL;
}
