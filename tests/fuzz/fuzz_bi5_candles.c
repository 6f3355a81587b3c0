/* libFuzzer target: Dukascopy bi5 candle files (LZMA-alone + 24-byte records) through
 * the pure decoder of data/dukascopy.h. */
#include <stddef.h>
#include <stdint.h>

#include "data/dukascopy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_bi5_buf b = {0};
    tt_bi5_decode_candles(data, size, 1549238400LL * TT_NS_PER_SEC, TT_TF_M1, TT_SIDE_BID, 1, 0,
                          &b, NULL);
    tt_bi5_buf_free(&b);
    return 0;
}
