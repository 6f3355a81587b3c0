/*
 * The Dukascopy import driver at library level, on a synthetic tree built in
 * a temporary directory (hand-made LZMA-alone files, hand-worked expectations):
 *   - resuming an import that stopped in the middle of a millisecond (three
 *     ticks share one ms; the tape holds the first two) appends exactly the
 *     rest, whatever the thread count;
 *   - gap lines and the partial status through the report callback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dukascopy.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void write_bi5(const char *path, const uint8_t *raw, size_t n)
{
    lzma_options_lzma opt;
    assert_false(lzma_lzma_preset(&opt, 6));
    lzma_stream s = LZMA_STREAM_INIT;
    assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
    size_t cap = n * 2 + 1024;
    uint8_t *out = malloc(cap);
    s.next_in = raw;
    s.avail_in = n;
    s.next_out = out;
    s.avail_out = cap;
    assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(out, 1, (size_t)s.total_out, f), (size_t)s.total_out);
    fclose(f);
    lzma_end(&s);
    free(out);
}

static void mkdirs(const char *path)
{
    char b[1024];
    snprintf(b, sizeof b, "%s", path);
    for (char *p = b + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(b, 0777);
            *p = '/';
        }
    mkdir(b, 0777);
}

typedef struct lines {
    char text[16][256];
    int n;
} lines;

static void collect(void *ctx, const char *line)
{
    lines *l = ctx;
    if (l->n < 16)
        snprintf(l->text[l->n++], sizeof l->text[0], "%s", line);
}

/* Hour 10 of 2019-02-04 (tree month 01): 6 ticks; ticks 2, 3, 4 share ms 500
 * with different prices. Hour 11 has 2 ticks, hour 12 has no file (a gap),
 * hour 13 is a 0-byte file. */
static const uint32_t MS10[6] = {100, 200, 500, 500, 500, 900};

static void build_tree(const char *root)
{
    char d[1024], p[1100];
    snprintf(d, sizeof d, "%s/EURUSD/2019/01/04", root);
    mkdirs(d);
    uint8_t raw[6 * 20];
    for (int i = 0; i < 6; i++) {
        uint8_t *r = raw + 20 * i;
        put_be32(r, MS10[i]);
        put_be32(r + 4, 114500 + (uint32_t)i * 3 + 2);
        put_be32(r + 8, 114500 + (uint32_t)i * 3);
        put_be32(r + 12, 0x3f800000u); /* 1.0f */
        put_be32(r + 16, 0x40000000u); /* 2.0f */
    }
    snprintf(p, sizeof p, "%s/10h_ticks.bi5", d);
    write_bi5(p, raw, sizeof raw);
    snprintf(p, sizeof p, "%s/11h_ticks.bi5", d);
    write_bi5(p, raw, 40);
    snprintf(p, sizeof p, "%s/13h_ticks.bi5", d);
    fclose(fopen(p, "wb"));
}

static uint64_t read_all(const char *tape, tt_event *out, size_t cap)
{
    tt_tape_reader *r;
    tt_err err;
    tt_tape_query q = {0};
    assert_int_equal(tt_tape_reader_open(&r, tape, &q, NULL, &err), TT_OK);
    uint64_t n = 0;
    tt_event ev;
    int rc;
    while ((rc = tt_tape_reader_next(r, &ev, &err)) == 1) {
        if (n < cap)
            out[n] = ev;
        n++;
    }
    assert_int_equal(rc, 0);
    tt_tape_reader_close(r);
    return n;
}

static void test_resume_mid_millisecond(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        char root[] = "/tmp/tt_bi5_import_XXXXXX";
        assert_non_null(mkdtemp(root));
        build_tree(root);
        char tape[1100];
        snprintf(tape, sizeof tape, "%s/tape", root);
        tt_instruments *tab = tt_instruments_new();
        const tt_instrument *ins;
        tt_err err;
        assert_int_equal(tt_instruments_require(tab, "EURUSD", &ins, &err), TT_OK);

        /* An "interrupted" import: the tape holds ticks 0..3 of hour 10, i.e. two of
         * the three ticks at ms 500. Written straight from the decoder. */
        tt_stream_desc desc = {0};
        snprintf(desc.symbol, sizeof desc.symbol, "EURUSD");
        desc.kind = TT_STREAM_QUOTE;
        tt_tape_writer *w;
        assert_int_equal(tt_tape_writer_open(&w, tape, &desc, NULL, &err), TT_OK);
        char p[1200];
        snprintf(p, sizeof p, "%s/EURUSD/2019/01/04/10h_ticks.bi5", root);
        FILE *f = fopen(p, "rb");
        uint8_t fb[4096];
        size_t fl = fread(fb, 1, sizeof fb, f);
        fclose(f);
        tt_bi5_buf buf = {0};
        tt_ts h10 = tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0);
        assert_int_equal(tt_bi5_decode_ticks(fb, fl, h10, ins->id, 0, &buf, &err), TT_OK);
        for (int i = 0; i < 4; i++)
            assert_int_equal(tt_tape_writer_append(w, &buf.ev[i], &err), TT_OK);
        assert_int_equal(tt_tape_writer_close(w, &err), TT_OK);

        lines rep = {0};
        tt_duka_import_opts o = {0};
        o.dir = root;
        o.tape = tape;
        o.ticks = 1;
        o.threads = threads;
        o.from = tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0);
        o.to = tt_ts_from_civil(2019, 2, 4, 14, 0, 0, 0);
        o.report = collect;
        o.ctx = &rep;
        tt_duka_import_stats st;
        assert_int_equal(tt_duka_import(&o, ins, &st, &err), TT_OK);
        /* 8 ticks read (6 + 2); 4 present; 2 + 2 appended. */
        assert_int_equal(st.ticks_read, 8);
        assert_int_equal(st.ticks_present, 4);
        assert_int_equal(st.ticks_written, 4);
        assert_int_equal(st.hours, 4);
        assert_int_equal(st.files, 3);
        assert_int_equal(st.files_empty, 1);
        assert_int_equal(st.hours_missing, 1);
        assert_int_equal(st.gaps, 1);
        int saw_gap = 0, saw_present = 0;
        for (int i = 0; i < rep.n; i++) {
            saw_gap |= strstr(rep.text[i], "gap: EURUSD 2019-02-04T12:00Z .. 2019-02-04T12:00Z: 1 hour") != NULL;
            saw_present |= strstr(rep.text[i], "4 tick(s)") != NULL;
        }
        assert_true(saw_gap);
        assert_true(saw_present);

        tt_event ev[16];
        assert_int_equal(read_all(tape, ev, 16), 8);
        for (int i = 0; i < 6; i++) {
            assert_int_equal(ev[i].ts, h10 + (tt_ts)MS10[i] * TT_NS_PER_MS);
            assert_int_equal(ev[i].u.quote.bid, 114500 + i * 3); /* each tick once, in order */
        }
        assert_int_equal(ev[6].ts, h10 + TT_NS_PER_HOUR + 100 * TT_NS_PER_MS);

        /* A corrupt file makes the import partial, names the file, keeps the rest. */
        snprintf(p, sizeof p, "%s/EURUSD/2019/01/04/15h_ticks.bi5", root);
        f = fopen(p, "wb");
        fputs("definitely not lzma", f);
        fclose(f);
        o.to = tt_ts_from_civil(2019, 2, 4, 16, 0, 0, 0);
        rep.n = 0;
        assert_int_equal(tt_duka_import(&o, ins, &st, &err), TT_EPARTIAL);
        assert_non_null(strstr(err.msg, "15h_ticks.bi5"));
        assert_int_equal(st.files_bad, 1);
        assert_int_equal(st.ticks_present, 8);
        assert_int_equal(st.ticks_written, 0);

        tt_bi5_buf_free(&buf);
        tt_instruments_free(tab);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_mid_millisecond),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
