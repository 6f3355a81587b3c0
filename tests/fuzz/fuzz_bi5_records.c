/* libFuzzer target: the bi5 record parsers past the LZMA layer. Fuzzing the
 * compressed bytes directly almost never gets through the LZMA decoder, so
 * the input is compressed first (LZMA-alone, as Dukascopy's files are) and
 * the decoders see valid streams of arbitrary records: 20-byte ticks and
 * 24-byte candles, time offsets past the period, inverted candles, odd
 * lengths. */
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>

#include "data/dukascopy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    lzma_options_lzma opt;
    if (lzma_lzma_preset(&opt, 0))
        abort();
    opt.dict_size = LZMA_DICT_SIZE_MIN; /* 4 KiB: setup stays cheap; inputs are small */
    opt.mf = LZMA_MF_HC3;
    /* one stream for the whole run: liblzma reuses its encoder's memory */
    static lzma_stream st = LZMA_STREAM_INIT;
    if (lzma_alone_encoder(&st, &opt) != LZMA_OK)
        abort();
    size_t cap = size + size / 2 + 1024, n = 0;
    uint8_t *z = malloc(cap);
    st.next_in = data;
    st.avail_in = size;
    st.next_out = z;
    st.avail_out = cap;
    lzma_ret r = lzma_code(&st, LZMA_FINISH);
    n = cap - st.avail_out;
    if (r != LZMA_STREAM_END)
        abort();
    tt_bi5_buf b = {0};
    tt_err err;
    if (tt_bi5_decompress(z, n, &b, &err) != TT_OK || b.raw_len != size)
        abort(); /* our own stream must come back whole */
    tt_bi5_decode_ticks(z, n, 1549274400LL * TT_NS_PER_SEC, 1, 0, &b, &err);
    tt_bi5_decode_candles(z, n, 1549238400LL * TT_NS_PER_SEC, TT_TF_M1, TT_SIDE_BID, 1, 0, &b,
                          &err);
    tt_bi5_buf_free(&b);
    free(z);
    return 0;
}
