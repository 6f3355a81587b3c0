/* libFuzzer target: MetaTrader 5 ticks exports (UTF-16 or UTF-8, tab-separated) through
 * the dry-run import pipeline. (The header decides the kind; this target's seed
 * corpus holds ticks exports.) */
#include "fuzz_common.h"

#include "data/mt5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_env e;
    fuzz_env_open(&e);
    tt_mt5_opts o = {0};
    o.instrument = tt_instruments_find(e.ins, "EURUSD");
    o.utc_offset = 2 * TT_NS_PER_HOUR;
    o.tf = TT_TF_M1;
    tt_mt5_import_mem(e.im, "fuzz.csv", (const char *)data, size, &o, NULL);
    fuzz_env_close(&e);
    return 0;
}
