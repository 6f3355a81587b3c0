/* libFuzzer target: Dukascopy bi5 tick files (LZMA-alone + 20-byte records) through
 * the pure decoder of data/dukascopy.h. */
#include <stddef.h>
#include <stdint.h>

#include "data/dukascopy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_bi5_buf b = {0};
    tt_bi5_decode_ticks(data, size, 1549274400LL * TT_NS_PER_SEC, 1, 0, &b, NULL);
    tt_bi5_buf_free(&b);
    return 0;
}
