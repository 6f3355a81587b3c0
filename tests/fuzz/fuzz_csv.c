/* libFuzzer target: the generic CSV importer. The first input byte picks a column
 * mapping, delimiter and time format, so quotes, trades and bars, every time format
 * and the date+clock form are all reached; the rest is the file. */
#include "fuzz_common.h"

#include "data/csv_import.h"

static const char *const MAPS[] = {
    "time,bid,ask,bid_volume,ask_volume", "symbol,time,bid,ask",
    "date,clock,open,high,low,close,volume,ticks", "time,price,size",
    "time,open,high,low,close,skip", "skip,time,,bid,ask"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    fuzz_env e;
    fuzz_env_open(&e);
    tt_csv_opts o = {0};
    o.columns = MAPS[sel % (sizeof MAPS / sizeof MAPS[0])];
    o.delim = (sel >> 3) & 1 ? ';' : ',';
    o.time_format = (sel >> 4) % 7;
    o.header = (int)((sel >> 7) & 1) - 1 + ((sel >> 2) & 1); /* -1, 0 or 1 */
    o.instrument = tt_instruments_find(e.ins, "USDJPY");
    o.tf = TT_TF_M1;
    tt_csv_import *ci;
    if (tt_csv_import_new(&ci, e.im, &o, NULL) == 0) {
        tt_csv_import_mem(ci, (const char *)data + 1, size - 1, NULL);
        tt_csv_import_free(ci);
    }
    fuzz_env_close(&e);
    return 0;
}
