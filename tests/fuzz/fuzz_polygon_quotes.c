/* libFuzzer target: Polygon quote flat files (CSV) through the dry-run import pipeline. */
#include "fuzz_common.h"

#include "data/polygon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_env e;
    fuzz_env_open(&e);
    tt_polygon_opts o = {0};
    tt_polygon_quotes_mem(e.im, "fuzz.csv", (const char *)data, size, &o, NULL);
    fuzz_env_close(&e);
    return 0;
}
