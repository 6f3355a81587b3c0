/*
 * ticktape command line: the options every networked command shares, as
 * option tables (cli/opts.h) over one struct, tt_net_cli, embedded in each
 * command's options and included (TT_OPT_INCLUDE) by every command that
 * connects, so that they all take the same spelling with the same meaning
 * and the same help text:
 *
 *   tt_net_nats_opts   NATS authentication and TLS: every command that
 *                      connects to NATS (paper, live, publish, aggregate,
 *                      mt5-connector, sweep, walkforward, worker, train)
 *     --nats-user U --nats-password-file F  (or TICKTAPE_NATS_PASSWORD; a
 *                                            password never goes in argv)
 *     --nats-token-file F  --nats-nkey-file F  --nats-creds F
 *     --nats-tls-ca F  --nats-tls-cert F  --nats-tls-key F
 *   tt_net_kafka_opts  --kafka-set K=V (repeatable): every Kafka command
 *   tt_net_job_opts    --job-key F: sweep, walkforward, worker (job signing)
 *   tt_net_feed_opts   --queue-bytes B, --max-tick-age DUR: paper (a feed
 *                      into an inbox and a journal)
 *
 * A command includes the tables it takes at the offset of its tt_net_cli
 * and calls tt_net_check() once after parsing: the key file is read and the
 * combinations checked there. Secrets are read from files (or the
 * environment), never taken from the command line, and never printed.
 */
#ifndef TT_CLI_NET_OPTS_H
#define TT_CLI_NET_OPTS_H

#include <stdint.h>

#include "cli.h"
#include "opts.h"
#include "core/event.h"
#include "live/crypto.h"
#include "live/nats_conn.h"

#define TT_NET_MAX_KAFKA 64

typedef struct tt_net_cli {
    tt_nats_opts nats;     /* authentication and TLS for NATS connections */
    const char *job_key_file;
    tt_hmac_key job_key;   /* loaded by tt_net_check; len 0 = none */
    const char *kafka_conf[TT_NET_MAX_KAFKA + 1]; /* --kafka-set K=V, NULL-terminated */
    int nkafka_conf;
    tt_ts max_tick_age;    /* refuse ticks older than this at arrival (0 = no limit) */
    uint64_t queue_bytes;  /* bytes of payloads queued at most (0 = the default) */
} tt_net_cli;

extern const tt_opt tt_net_nats_opts[];
extern const tt_opt tt_net_kafka_opts[];
extern const tt_opt tt_net_job_opts[];
extern const tt_opt tt_net_feed_opts[];

/* After parsing: take the NATS password from TICKTAPE_NATS_PASSWORD when
 * --nats-user has no --nats-password-file, check the combinations, read the
 * job key file. 0, or TT_EXIT_USAGE after printing the usage error for cmd. */
int tt_net_check(tt_net_cli *o, const char *cmd);

/* A feed's memory (paper): queues hold large payloads for a while and free
 * them; a fixed mmap threshold keeps glibc from serving the next megabytes
 * from arenas it never gives back, so that the process's memory follows the
 * byte budget of --queue-bytes. Cannot fail. */
void tt_net_feed_memory(void);

/* The NATS authentication and TLS to hand to the live layer (never NULL). */
const tt_nats_opts *tt_net_nats(const tt_net_cli *o);

/* The --kafka-set settings, NULL-terminated; NULL when none were given. */
const char *const *tt_net_kafka_conf(const tt_net_cli *o);

/* The worker's default run deadline (--run-timeout). */
#define TT_NET_RUN_TIMEOUT_TEXT "10m"

#endif
