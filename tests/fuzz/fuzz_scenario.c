/* libFuzzer target: the scenario parser (sim/scenario.c). The input is a YAML
 * file; when it loads, the cross-key checks, the canonical dump, a clone and a
 * --set override built from the first key run too. Anything but a clean error
 * (crash, leak, unbounded work through YAML aliases) is a finding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_scenario *s;
    tt_err err;
    if (tt_scenario_parse(&s, (const char *)data, size, "fuzz.yaml", "/nonexistent", &err) != TT_OK)
        return 0;
    tt_scenario_check(s, &err);
    FILE *f = fopen("/dev/null", "w");
    if (f) {
        tt_scenario_write(s, f);
        fclose(f);
    }
    tt_scenario *c = tt_scenario_clone(s);
    const tt_scenario_entry *e = tt_scenario_at(s, 0);
    if (c && e) {
        char set[256];
        snprintf(set, sizeof set, "%s=%s", e->key, e->value);
        tt_scenario_set(c, set, &err);
        double d;
        tt_scenario_double(c, e->key, 0, &d, &err);
    }
    tt_scenario_free(c);
    tt_scenario_free(s);
    return 0;
}
