/* libFuzzer target: Polygon v2 aggregates JSON (and so the strict JSON reader) through
 * the dry-run import pipeline. */
#include "fuzz_common.h"

#include "data/json.h"
#include "data/polygon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_env e;
    fuzz_env_open(&e);
    tt_polygon_opts o = {0};
    o.tf = TT_TF_M1;
    o.instrument = tt_instruments_find(e.ins, "EURUSD");
    tt_polygon_aggs_mem(e.im, "fuzz.json", (const char *)data, size, &o, NULL);
    fuzz_env_close(&e);
    /* The reader on its own, with every accessor on every node. */
    tt_json doc;
    if (tt_json_parse(&doc, (const char *)data, size, NULL) == 0) {
        char buf[64];
        int64_t i;
        double d;
        for (uint32_t k = 0; k < doc.n; k++) {
            const tt_json_node *n = &doc.nodes[k];
            tt_json_string(&doc, n, buf, sizeof buf, NULL);
            tt_json_number_text(&doc, n, buf, sizeof buf, NULL);
            tt_json_int64(&doc, n, &i, NULL);
            tt_json_double(&doc, n, &d, NULL);
            tt_json_get(&doc, n, "t");
        }
        tt_json_free(&doc);
    }
    return 0;
}
