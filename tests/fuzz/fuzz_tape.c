/*
 * Fuzz target for the tape reader: the input is a segment file. Its first
 * byte picks the stream (quote, M1 bid bars, journal blobs, trades), the rest
 * is written as the stream's only segment, without a manifest. The reader
 * reads it (a format 1 segment is read as an old tape; format 2 without a
 * manifest is refused), then tape upgrade (format 1) or tape repair (format
 * 2: the manifest rebuilt from its commit records) write a manifest, and the
 * merged reader reads it to the end, strictly and with allow_partial, and
 * tape verify walks it. Any outcome is fine except a crash, a sanitizer
 * report or a hang: a broken segment must be an error naming the file and
 * block, or a warning.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/tape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *STREAMS[] = {"EURUSD/quote", "EURUSD/bar-M1-bid", "_journal/blob", "EURUSD/trade"};

/* The four stream folders exist once; each input replaces the one segment. */
static char root[64];

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/tt_fuzz_tape_%d", (int)getpid());
    char p[256];
    mkdir(root, 0777);
    snprintf(p, sizeof p, "%s/EURUSD", root);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/_journal", root);
    mkdir(p, 0777);
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", root, STREAMS[i]);
        mkdir(p, 0777);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root[0])
        setup();
    if (size < 1)
        return 0;
    char path[320];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s/2019-02.tts", root, STREAMS[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s/2019-02.tts.upgrade", root, STREAMS[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/MANIFEST", root);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s/2019-02.tts", root, STREAMS[data[0] % 4]);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);

    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.kinds = (1u << TT_STREAM_QUOTE) | (1u << TT_STREAM_BAR) | (1u << TT_STREAM_BLOB) |
              (1u << TT_STREAM_TRADE);
    tt_err err;
    tt_tape_reader *r;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1 && tt_tape_upgrade(root, NULL, NULL, NULL, &err) != TT_OK)
            tt_tape_repair(root, NULL, NULL, NULL, &err);
        q.allow_partial = pass == 2;
        if (tt_tape_reader_open(&r, root, &q, NULL, &err) == TT_OK) {
            tt_event ev;
            while (tt_tape_reader_next(r, &ev, &err) == 1)
                ;
            tt_tape_reader_close(r);
        }
    }
    uint64_t events;
    tt_tape_verify(root, NULL, NULL, &events, &err);
    tt_tape_info info;
    if (tt_tape_info_read(root, &info, &err) == TT_OK)
        tt_tape_info_free(&info);
    return 0;
}
