/*
 * ticktape command line: the options every networked command shares, in one
 * place (parsing, checks and help text), so that paper, publish, sweep,
 * walkforward and worker take the same spelling with the same meaning.
 *
 *   NATS authentication and TLS (every command that connects to NATS):
 *     --nats-user U --nats-password-file F   (or TICKTAPE_NATS_PASSWORD; never
 *                                             a password in argv)
 *     --nats-token-file F  --nats-nkey-file F  --nats-creds F
 *     --nats-tls-ca F  --nats-tls-cert F  --nats-tls-key F
 *   jobs (sweep, walkforward, worker):  --job-key F
 *   worker:                             --scenarios DIR (repeatable), --run-timeout DUR
 *   Kafka (publish; paper has its own): --kafka-set K=V (repeatable)
 *   publish:                            --jetstream STREAM
 *   paper:                              --max-tick-age DUR, --queue-bytes B
 *
 * A command calls tt_net_opt() for each option its own parser does not know,
 * tt_net_opts_finish() once after parsing (files are read and checked there),
 * and tt_net_usage() at the end of its help text. Secrets are read from
 * files (or the environment), never taken from the command line, and never
 * printed.
 */
#ifndef TT_CLI_NET_OPTS_H
#define TT_CLI_NET_OPTS_H

#include <stdio.h>

#include "cli.h"
#include "core/event.h"
#include "live/crypto.h"
#include "live/nats_conn.h"

#define TT_NET_MAX_DIRS 16
#define TT_NET_MAX_KAFKA 64

typedef struct tt_net_opts {
    tt_nats_opts nats;   /* authentication and TLS for NATS connections */
    const char *job_key_file;
    tt_hmac_key job_key; /* loaded by tt_net_opts_finish; len 0 = none */
    const char *scenario_dirs[TT_NET_MAX_DIRS];
    int nscenario_dirs;  /* 0: the current directory */
    tt_ts run_timeout;   /* worker: 0 = the default, TT_NET_RUN_TIMEOUT */
    const char *jetstream; /* publish: the stream to publish ticks into (NULL: core NATS) */
    tt_ts max_tick_age;    /* paper: refuse ticks older than this at arrival (0 = no limit) */
    uint64_t queue_bytes;  /* paper: bytes of payloads queued at most (0 = the default) */
    const char *kafka_conf[TT_NET_MAX_KAFKA + 1]; /* --kafka-set K=V, NULL-terminated */
    int nkafka_conf;
} tt_net_opts;

/* The worker's default run deadline. */
#define TT_NET_RUN_TIMEOUT (10 * 60 * TT_NS_PER_SEC)

void tt_net_opts_init(tt_net_opts *o);

/* One option of command cmd: -1 when it is not one of these (or not one
 * that cmd takes), 0 when it was taken, TT_EXIT_USAGE after printing a usage
 * error. */
int tt_net_opt(tt_net_opts *o, const char *cmd, const tt_opt *op);

/* After parsing: read the key file, take the NATS password from
 * TICKTAPE_NATS_PASSWORD when --nats-user has no --nats-password-file, check
 * combinations. 0 or TT_EXIT_USAGE (printed). */
int tt_net_opts_finish(tt_net_opts *o, const char *cmd);

/* The help text of the options cmd takes. */
void tt_net_usage(FILE *f, const char *cmd);

/* The NATS authentication and TLS to hand to the live layer (never NULL). */
const tt_nats_opts *tt_net_nats(const tt_net_opts *o);

/* The --kafka-set settings, NULL-terminated (never NULL). */
const char *const *tt_net_kafka_conf(const tt_net_opts *o);

/* The worker's scenario directories (the current directory when none was
 * given) and the run deadline in ms. */
int tt_net_scenario_dirs(const tt_net_opts *o, const char *const **dirs);
int64_t tt_net_run_timeout_ms(const tt_net_opts *o);

#endif
