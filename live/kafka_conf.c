/* librdkafka settings from the command line (see kafka_conf.h). */
#include "kafka_conf.h"

#include <stdio.h>
#include <string.h>

int tt_kafka_conf_set(rd_kafka_conf_t *c, const char *key, const char *value, tt_err *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(c, key, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
        return TT_OK;
    char shown[300];
    tt_str_escape(shown, sizeof shown, key, strlen(key));
    /* librdkafka's own message may quote the value: not repeated */
    return tt_err_set(err, TT_EINVAL, "kafka setting '%s': %s", shown,
                      strstr(errstr, "No such configuration property") ? "no such setting"
                                                                       : "value refused");
}

int tt_kafka_conf_apply(rd_kafka_conf_t *c, const char *const *kv, tt_err *err)
{
    for (; kv && *kv; kv++) {
        char key[256];
        const char *eq = strchr(*kv, '=');
        if (!eq || eq == *kv || (size_t)(eq - *kv) >= sizeof key)
            return tt_err_set(err, TT_EINVAL, "--kafka-set: expected KEY=VALUE");
        memcpy(key, *kv, (size_t)(eq - *kv));
        key[eq - *kv] = '\0';
        int rc = tt_kafka_conf_set(c, key, eq + 1, err);
        if (rc)
            return rc;
    }
    return TT_OK;
}
