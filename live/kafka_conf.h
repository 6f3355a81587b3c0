/*
 * ticktape live: librdkafka settings from the command line (--kafka-set
 * K=V), applied the same way by every Kafka client (the paper feed and
 * archive, publish). Settings carry secrets (sasl.password, ssl.key.password),
 * so a refusal names the key and why, never the value.
 */
#ifndef TT_KAFKA_CONF_H
#define TT_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>

#include "../core/error.h"

/* Apply "key=value" settings (NULL-terminated list, may be NULL). TT_EINVAL
 * "kafka setting 'KEY': no such setting" (or "value refused by librdkafka"),
 * or "--kafka-set: expected KEY=VALUE". */
int tt_kafka_conf_apply(rd_kafka_conf_t *c, const char *const *kv, tt_err *err);

/* One setting. */
int tt_kafka_conf_set(rd_kafka_conf_t *c, const char *key, const char *value, tt_err *err);

#endif
