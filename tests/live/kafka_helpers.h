/*
 * Test helper: a Kafka cluster for the live tests. By default librdkafka's
 * built-in mock cluster (rdkafka_mock.h: in-process brokers on 127.0.0.1);
 * when the environment variable TT_KAFKA_BROKERS names a real cluster
 * ("host:port,..."), that one is used instead, and the tests print which.
 */
#ifndef TT_TEST_KAFKA_HELPERS_H
#define TT_TEST_KAFKA_HELPERS_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tt_test_kafka {
    rd_kafka_t *rk; /* owner of the mock cluster */
    rd_kafka_mock_cluster_t *mc;
    char brokers[512];
    int real;
} tt_test_kafka;

static const char *const tt_test_kafka_topics[] = {
    "tick_archive", "trading_signals_archive", "order_execution_archive",
    "risk_events_archive", "aggregate_archive", "broker_communication_log",
    "external_data_archive", NULL};

static inline int tt_test_kafka_start(tt_test_kafka *k, int nbrokers)
{
    memset(k, 0, sizeof *k);
    const char *env = getenv("TT_KAFKA_BROKERS");
    if (env && *env) {
        snprintf(k->brokers, sizeof k->brokers, "%s", env);
        k->real = 1;
        fprintf(stderr, "kafka: using the real cluster at %s (TT_KAFKA_BROKERS)\n", env);
        return 0;
    }
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "log_level", "0", errstr, sizeof errstr);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    if (!k->rk)
        return -1;
    k->mc = rd_kafka_mock_cluster_new(k->rk, nbrokers);
    if (!k->mc)
        return -1;
    snprintf(k->brokers, sizeof k->brokers, "%s", rd_kafka_mock_cluster_bootstraps(k->mc));
    for (const char *const *t = tt_test_kafka_topics; *t; t++)
        rd_kafka_mock_topic_create(k->mc, *t, 3, nbrokers < 3 ? nbrokers : 3);
    fprintf(stderr, "kafka: using librdkafka's mock cluster (%d brokers) at %s\n", nbrokers,
            k->brokers);
    return 0;
}

static inline void tt_test_kafka_stop(tt_test_kafka *k)
{
    if (k->mc)
        rd_kafka_mock_cluster_destroy(k->mc);
    if (k->rk)
        rd_kafka_destroy(k->rk);
    memset(k, 0, sizeof *k);
}

#endif
