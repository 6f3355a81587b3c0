/* libFuzzer target: the MT5 bridge protocol (live/mt5_proto.h). The input is
 * a byte stream as a socket would deliver it, fed to the line reader in
 * chunks whose sizes come from the input itself; every line is decoded, and
 * every frame the decoder accepts must encode and decode back to the same
 * struct (the protocol's round-trip invariant). A refused over-long line ends
 * the stream, as it ends a connection. Each line is also tried as a decimal.
 * Seeds in tests/fuzz/corpus/fuzz_mt5_proto/ (one session's frames each). */
#include <stdlib.h>
#include <string.h>

#include "live/mt5_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *line, size_t len)
{
    tt_mt5_frame f, g;
    tt_err err;
    tt_mt5_dec d;
    if (tt_mt5_dec_parse(line, len, &d) == TT_OK) {
        char b[32];
        int n = tt_mt5_dec_format(d, b);
        tt_mt5_dec e;
        if (tt_mt5_dec_parse(b, (size_t)n, &e) != TT_OK || e != d)
            abort();
    }
    if (tt_mt5_frame_decode(line, len, &f, &err) != TT_OK) {
        if (!err.msg[0])
            abort(); /* a refusal always says why */
        return;
    }
    char buf[TT_MT5_FRAME_MAX];
    size_t n;
    if (tt_mt5_frame_encode(&f, buf, sizeof buf, &n, &err) != TT_OK)
        abort();
    if (!n || buf[n - 1] != '\n' || tt_mt5_frame_decode(buf, n - 1, &g, &err) != TT_OK)
        abort();
    if (memcmp(&f, &g, sizeof f))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tt_mt5_reader r;
    tt_mt5_reader_init(&r);
    size_t at = 0, step = size ? 1u + data[0] % 97u : 1;
    while (at < size) {
        size_t n = size - at < step ? size - at : step;
        size_t took = tt_mt5_reader_push(&r, data + at, n);
        at += took;
        const char *line;
        size_t len;
        tt_err err;
        int rc;
        while ((rc = tt_mt5_reader_next(&r, &line, &len, &err)) == 1)
            check_line(line, len);
        if (rc < 0)
            return 0;
        if (!took)
            abort(); /* the reader must make room once its lines are taken */
        step = 1u + (step * 31u + 7u) % 251u;
    }
    return 0;
}
