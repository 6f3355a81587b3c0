/* libFuzzer target: the notification rules reader (live/notify.c), which reads
 * an operator's YAML file: any bytes must give a clean error or rules that
 * hold together (every route has a pattern and a URL of its type), and free
 * cleanly. Secret files are not read (read_secrets 0). */
#include <stdlib.h>
#include <string.h>

#include "live/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_notify_rules r;
    tt_err err;
    if (tt_notify_rules_parse(&r, (const char *)data, size, "fuzz", 0, &err) != TT_OK)
        return 0;
    if (r.nroutes < 1 || r.nroutes > TT_NOTIFY_ROUTES_MAX || r.queue < 1)
        abort();
    for (int i = 0; i < r.nroutes; i++) {
        const tt_notify_route *rt = &r.routes[i];
        if (!rt->nmatch || !rt->url || !rt->name[0])
            abort();
        if (rt->type == TT_NOTIFY_EMAIL && (!rt->from || !rt->nto))
            abort();
        for (int k = 0; k < rt->nmatch; k++)
            (void)tt_notify_match(rt->match[k], "risk.alert.kill_switch");
    }
    tt_notify_rules_free(&r);
    return 0;
}
