/*
 * Tape tests: lossless round trips on random and edge values, seeking, the
 * k-way merge, a crash's tail at every byte offset of the block being written,
 * flipped bits, unknown format versions, ordering errors and month segments.
 * What a damaged tape does (cuts, missing and extra segments, write faults,
 * two writers, back-fills): tests/data/test_tape_integrity.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/fingerprint.h"
#include "data/tape.h"

static char *make_tmpdir(void)
{
    char *t = strdup("/tmp/tt_tape_XXXXXX");
    assert_non_null(mkdtemp(t));
    return t;
}

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    /* splitmix64: test data only */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static tt_stream_desc quote_desc(const char *sym)
{
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "%s", sym);
    d.kind = TT_STREAM_QUOTE;
    return d;
}

static tt_event quote(tt_ts ts, tt_price bid, tt_price ask, float bv, float av)
{
    tt_event e;
    memset(&e, 0, sizeof e);
    e.ts = e.ts_init = ts;
    e.kind = TT_EV_QUOTE;
    e.u.quote.bid = bid;
    e.u.quote.ask = ask;
    e.u.quote.bid_vol = bv;
    e.u.quote.ask_vol = av;
    return e;
}

static void write_quotes(const char *dir, const char *sym, const tt_event *v, size_t n,
                         uint32_t block_events)
{
    tt_stream_desc d = quote_desc(sym);
    tt_tape_writer_opts o = {block_events, 0, 0};
    tt_tape_writer *w;
    tt_err err;
    assert_int_equal(tt_tape_writer_open(&w, dir, &d, &o, &err), TT_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tt_tape_writer_append(w, &v[i], &err), TT_OK);
    assert_int_equal(tt_tape_writer_close(w, &err), TT_OK);
}

static size_t read_all(const char *dir, const tt_tape_query *q, tt_event *out, size_t cap,
                       int *rc_out, tt_err *err)
{
    tt_tape_reader *r;
    size_t n = 0;
    int rc = tt_tape_reader_open(&r, dir, q, NULL, err);
    if (rc) {
        *rc_out = rc;
        return 0;
    }
    tt_event ev;
    while ((rc = tt_tape_reader_next(r, &ev, err)) == 1) {
        if (n < cap)
            out[n] = ev;
        n++;
    }
    *rc_out = rc;
    tt_tape_reader_close(r);
    return n;
}

static void assert_quote_equal(const tt_event *a, const tt_event *b)
{
    assert_int_equal(a->ts, b->ts);
    assert_int_equal(a->u.quote.bid, b->u.quote.bid);
    assert_int_equal(a->u.quote.ask, b->u.quote.ask);
    assert_memory_equal(&a->u.quote.bid_vol, &b->u.quote.bid_vol, 4);
    assert_memory_equal(&a->u.quote.ask_vol, &b->u.quote.ask_vol, 4);
}

/* Random walks plus every edge: equal timestamps, zero/huge/negative deltas,
 * extreme prices, volumes with arbitrary bit patterns (NaN, -0, denormals). */
static void test_roundtrip_edges(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    enum { N = 20000 };
    tt_event *v = calloc(N, sizeof *v), *back = calloc(N, sizeof *back);
    tt_ts ts = tt_ts_from_civil(2019, 2, 4, 0, 0, 0, 0);
    tt_price bid = 114427;
    for (int i = 0; i < N; i++) {
        uint64_t r = rnd();
        switch (r % 9) {
        case 0: break;                                   /* equal timestamp */
        case 1: ts += 1; break;                          /* 1 ns */
        case 2: ts += (int64_t)(rnd() % 4000000000000ll); break; /* up to ~66 min */
        default: ts += (int64_t)(rnd() % 1000) * TT_NS_PER_MS; break;
        }
        int64_t step = (int64_t)(rnd() % 21) - 10;
        if (i % 1000 == 500) step = -(int64_t)(rnd() % 1000000000000ll); /* huge negative */
        if (i % 1000 == 700) step = (int64_t)(rnd() % 1000000000000ll);  /* huge positive */
        bid += step;
        tt_price b = bid, ask = bid + (tt_price)(rnd() % 30);
        /* extreme prices, without disturbing the walk (no signed overflow) */
        if (i == 100) { b = INT64_MAX - 5; ask = INT64_MAX; }
        if (i == 101) { b = INT64_MIN; ask = INT64_MIN + 7; }
        if (i == 102) { b = 0; ask = 0; }
        if (i == 103) { b = -50; ask = -49; }
        float bv, av;
        uint32_t bits = (uint32_t)rnd();
        memcpy(&bv, &bits, 4);
        av = (float)(rnd() % 100) / 4.0f;
        if (i % 7 == 0) av = NAN;
        if (i % 11 == 0) bv = -0.0f;
        v[i] = quote(ts, b, ask, bv, av);
    }
    write_quotes(dir, "EURUSD", v, N, 1000);
    int rc;
    tt_err err;
    size_t n = read_all(dir, NULL, back, N, &rc, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++)
        assert_quote_equal(&v[i], &back[i]);
    /* the ordering fields are filled: one source, increasing seq */
    for (int i = 1; i < N; i++)
        assert_true(back[i].seq > back[i - 1].seq);
    uint64_t events = 0;
    assert_int_equal(tt_tape_verify(dir, NULL, NULL, &events, &err), TT_OK);
    assert_int_equal(events, N);
    free(v);
    free(back);
    rm_rf(dir);
    free(dir);
}

/* Repetitive real-like volumes go through the dictionary, and still round trip. */
static void test_roundtrip_dictionary_volumes(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    enum { N = 9000 };
    static const float vols[] = {0.75f, 1.0f, 1.12f, 2.25f, 0.56f, 3.0f};
    tt_event *v = calloc(N, sizeof *v), *back = calloc(N, sizeof *back);
    tt_ts ts = 1549238400000ll * TT_NS_PER_MS;
    for (int i = 0; i < N; i++) {
        ts += (int64_t)(1 + rnd() % 900) * TT_NS_PER_MS;
        v[i] = quote(ts, 114400 + (tt_price)(rnd() % 50), 114460 + (tt_price)(rnd() % 50),
                     vols[rnd() % 6], vols[rnd() % 6]);
    }
    write_quotes(dir, "EURUSD", v, N, 4096);
    int rc;
    tt_err err;
    assert_int_equal(read_all(dir, NULL, back, N, &rc, &err), N);
    assert_int_equal(rc, 0);
    for (int i = 0; i < N; i++)
        assert_quote_equal(&v[i], &back[i]);
    free(v);
    free(back);
    rm_rf(dir);
    free(dir);
}

static void test_bars_trades_blobs_roundtrip(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    tt_err err;
    /* bars */
    tt_stream_desc bd;
    memset(&bd, 0, sizeof bd);
    snprintf(bd.symbol, sizeof bd.symbol, "EURUSD");
    bd.kind = TT_STREAM_BAR;
    bd.tf = TT_TF_M1;
    bd.side = TT_SIDE_BID;
    tt_tape_writer *w;
    assert_int_equal(tt_tape_writer_open(&w, dir, &bd, NULL, &err), TT_OK);
    tt_event bars[300];
    for (int i = 0; i < 300; i++) {
        tt_event *e = &bars[i];
        memset(e, 0, sizeof *e);
        e->kind = TT_EV_BAR;
        e->ts = e->ts_init = 1549238400000000000ll + i * TT_NS_PER_MIN;
        e->u.bar.open = 114400 + i;
        e->u.bar.high = e->u.bar.open + (i % 13);
        e->u.bar.low = e->u.bar.open - (i % 7);
        e->u.bar.close = e->u.bar.low + (i % 5);
        e->u.bar.volume = 12.5 * i + 0.1;
        e->u.bar.ticks = (uint32_t)(i * 3);
        e->u.bar.tf = TT_TF_M1;
        e->u.bar.side = TT_SIDE_BID;
        assert_int_equal(tt_tape_writer_append(w, e, &err), TT_OK);
    }
    assert_int_equal(tt_tape_writer_close(w, &err), TT_OK);
    /* a journal: any kind of event, blobs included */
    tt_stream_desc jd;
    memset(&jd, 0, sizeof jd);
    snprintf(jd.symbol, sizeof jd.symbol, "_journal");
    jd.kind = TT_STREAM_BLOB;
    assert_int_equal(tt_tape_writer_open(&w, dir, &jd, NULL, &err), TT_OK);
    static const uint8_t payload[] = {0x0a, 0x06, 'E', 'U', 'R', 'U', 'S', 'D', 0x11};
    tt_event j[4];
    memset(j, 0, sizeof j);
    j[0] = quote(1549238400000000000ll, 114427, 114430, 1.5f, 0.75f);
    j[0].ts_init = j[0].ts + 1234;
    j[0].source = 7;
    j[0].seq = 99;
    j[0].symbol = 3;
    j[1].kind = TT_EV_BLOB;
    j[1].ts = j[1].ts_init = 1549238400000000001ll;
    j[1].u.blob.type = 42;
    j[1].u.blob.len = sizeof payload;
    j[1].u.blob.data = payload;
    j[2].kind = TT_EV_ORDER_EVENT;
    j[2].ts = j[2].ts_init = 1549238400000000002ll;
    j[2].u.order_ev.client_id = 5;
    j[2].u.order_ev.fill_price = 114431;
    j[2].u.order_ev.status = TT_OS_FILLED;
    j[2].u.order_ev.side = TT_BUY;
    j[3].kind = TT_EV_CONTROL;
    j[3].ts = j[3].ts_init = 1549238400000000002ll;
    j[3].u.control.op = TT_CTL_GAP_BEGIN;
    for (int i = 0; i < 4; i++)
        assert_int_equal(tt_tape_writer_append(w, &j[i], &err), TT_OK);
    assert_int_equal(tt_tape_writer_close(w, &err), TT_OK);

    tt_tape_query q = {NULL, 1u << TT_STREAM_BAR, 0, 0, 0, 0};
    tt_event back[400];
    int rc;
    assert_int_equal(read_all(dir, &q, back, 400, &rc, &err), 300);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(back[i].ts, bars[i].ts);
        assert_memory_equal(&back[i].u.bar, &bars[i].u.bar, offsetof(tt_bar, ticks) + 6);
    }
    q.kinds = 1u << TT_STREAM_BLOB;
    tt_tape_reader *r;
    assert_int_equal(tt_tape_reader_open(&r, dir, &q, NULL, &err), TT_OK);
    for (int i = 0; i < 4; i++) {
        tt_event ev;
        assert_int_equal(tt_tape_reader_next(r, &ev, &err), 1);
        uint8_t a[256], b[256];
        size_t na = tt_event_encode(&j[i], a, 1), nb = tt_event_encode(&ev, b, 1);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na); /* every field, blob bytes included */
    }
    tt_tape_reader_close(r);
    assert_int_equal(tt_tape_verify(dir, NULL, NULL, NULL, &err), TT_OK);
    rm_rf(dir);
    free(dir);
}

/* Seeking by time returns exactly the events in [from, to). */
static void test_seek(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    enum { N = 50000 };
    tt_event *v = calloc(N, sizeof *v), *back = calloc(N, sizeof *back);
    tt_ts t0 = tt_ts_from_civil(2019, 1, 30, 0, 0, 0, 0); /* crosses into February */
    for (int i = 0; i < N; i++)
        v[i] = quote(t0 + (tt_ts)i * 10 * TT_NS_PER_SEC, 100000 + i, 100010 + i, 1.0f, 1.0f);
    write_quotes(dir, "EURUSD", v, N, 777);
    for (int trial = 0; trial < 25; trial++) {
        int a = (int)(rnd() % N), b = (int)(rnd() % N);
        if (a > b) { int t = a; a = b; b = t; }
        tt_tape_query q = {NULL, 0, 0, 0, v[a].ts, v[b].ts};
        int rc;
        tt_err err;
        size_t n = read_all(dir, &q, back, N, &rc, &err);
        assert_int_equal(rc, 0);
        assert_int_equal(n, (size_t)(b - a));
        if (n) {
            assert_quote_equal(&back[0], &v[a]);
            assert_quote_equal(&back[n - 1], &v[b - 1]);
        }
    }
    /* seq does not depend on where reading started */
    tt_tape_query all = {NULL, 0, 0, 0, 0, 0}, mid = {NULL, 0, 0, 0, v[30000].ts, 0};
    tt_event one;
    int rc;
    tt_err err;
    read_all(dir, &all, back, N, &rc, &err);
    uint64_t seq_all = back[30000].seq;
    read_all(dir, &mid, &one, 1, &rc, &err);
    assert_int_equal(one.seq, seq_all);
    free(v);
    free(back);
    rm_rf(dir);
    free(dir);
}

/* Three streams merge into one time order; ties broken by source (stream order). */
static void test_merge(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    const char *syms[] = {"EURUSD", "GBPUSD", "USDJPY"};
    enum { N = 5000 };
    tt_event *v = calloc(N, sizeof *v);
    for (int s = 0; s < 3; s++) {
        tt_ts ts = 1549238400000000000ll;
        for (int i = 0; i < N; i++) {
            ts += (tt_ts)(rnd() % 4) * TT_NS_PER_MS; /* many equal timestamps across streams */
            v[i] = quote(ts, 1000 + s, 1001 + s, 1.0f, 1.0f);
        }
        write_quotes(dir, syms[s], v, N, 512);
    }
    tt_event *back = calloc(3 * N, sizeof *back);
    int rc;
    tt_err err;
    size_t n = read_all(dir, NULL, back, 3 * N, &rc, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 3 * N);
    int count[4] = {0};
    for (size_t i = 0; i < n; i++) {
        if (i)
            assert_true(tt_event_cmp(&back[i - 1], &back[i]) < 0);
        count[back[i].source]++;
        assert_int_equal(back[i].u.quote.bid, 1000 + back[i].source - 1);
    }
    assert_int_equal(count[1], N);
    assert_int_equal(count[3], N);
    /* a symbol filter reads one stream */
    const char *only[] = {"GBP/USD", NULL};
    tt_tape_query q = {only, 0, 0, 0, 0, 0};
    assert_int_equal(read_all(dir, &q, back, 3 * N, &rc, &err), N);
    free(v);
    free(back);
    rm_rf(dir);
    free(dir);
}

static char *only_segment(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s/EURUSD/quote/*.tts", dir);
    FILE *p = popen(cmd, "r");
    char *line = calloc(1, 4096);
    assert_non_null(fgets(line, 4096, p));
    pclose(p);
    line[strcspn(line, "\n")] = '\0';
    return line;
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* A crash in the middle of writing a block: the file holds the committed
 * blocks and then a prefix of the block being written (and of its commit
 * record), while the manifest still names the last commit. At every byte
 * offset of that tail, readers read exactly the committed blocks and say
 * that bytes after the last commit were not read; verify reports them; a
 * writer reopening the stream cuts them and appends after the commit. */
static void test_torn_tail_every_offset(void **state)
{
    (void)state;
    char *dir = make_tmpdir(), *full = make_tmpdir();
    enum { B = 100, N = 3 * B };
    tt_event v[N];
    for (int i = 0; i < N; i++)
        v[i] = quote(1549238400000000000ll + i * TT_NS_PER_SEC, 114000 + i % 17, 114020, 1.0f, 2.0f);
    write_quotes(dir, "EURUSD", v, 2 * B, B);   /* committed: two blocks */
    write_quotes(full, "EURUSD", v, 3 * B, B);  /* the bytes a third block would add */
    char *seg = only_segment(dir), *fseg = only_segment(full);
    off_t two_blocks = file_size(seg), three = file_size(fseg);
    assert_true(three > two_blocks);
    char cmd[9000];
    tt_event back[N];
    for (off_t cut = two_blocks + 1; cut < three; cut++) {
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", fseg, seg);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(truncate(seg, cut), 0);
        tt_tape_reader *r;
        tt_err err;
        assert_int_equal(tt_tape_reader_open(&r, dir, NULL, NULL, &err), TT_OK);
        size_t n = 0;
        int rc;
        tt_event ev;
        while ((rc = tt_tape_reader_next(r, &ev, &err)) == 1)
            back[n++] = ev;
        assert_int_equal(rc, 0);
        assert_int_equal(n, 2 * B);
        assert_int_equal(tt_tape_reader_missing(r), 0);
        assert_int_equal(tt_tape_reader_warning_count(r), 1);
        assert_non_null(strstr(tt_tape_reader_warning(r, 0), "after the last commit"));
        tt_tape_reader_close(r);
        /* verify reports it, naming the file */
        tt_err verr;
        assert_int_equal(tt_tape_verify(dir, NULL, NULL, NULL, &verr), TT_ETORN);
        assert_non_null(strstr(verr.msg, ".tts"));
    }
    /* a writer reopening the stream cuts the tail and appends after the commit */
    write_quotes(dir, "EURUSD", v + 2 * B, B, B);
    int rc;
    tt_err err;
    assert_int_equal(read_all(dir, NULL, back, N, &rc, &err), N);
    for (int i = 0; i < N; i++)
        assert_quote_equal(&back[i], &v[i]);
    assert_int_equal(tt_tape_verify(dir, NULL, NULL, NULL, &err), TT_OK);
    free(seg);
    free(fseg);
    rm_rf(dir);
    rm_rf(full);
    free(dir);
    free(full);
}

/* A flipped bit anywhere past the segment header is an error naming the file and block. */
static void test_bit_flip(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    enum { N = 1000 };
    tt_event v[N];
    for (int i = 0; i < N; i++)
        v[i] = quote(1549238400000000000ll + i * TT_NS_PER_MS, 114000 + i % 9, 114020, 1.0f, 2.0f);
    write_quotes(dir, "EURUSD", v, N, 250);
    char *seg = only_segment(dir);
    off_t size = file_size(seg);
    uint8_t *orig = malloc((size_t)size);
    int fd = open(seg, O_RDWR);
    assert_int_equal(pread(fd, orig, (size_t)size, 0), size);
    int detected_reader = 0, detected_verify = 0, trials = 0;
    for (off_t off = 64; off < size; off += 7) {
        uint8_t b = orig[off] ^ (uint8_t)(1u << (off % 8));
        assert_int_equal(pwrite(fd, &b, 1, off), 1);
        trials++;
        tt_err err;
        tt_err_clear(&err);
        tt_tape_reader *r;
        int rc = tt_tape_reader_open(&r, dir, NULL, NULL, &err);
        if (rc == 0) {
            tt_event ev;
            while ((rc = tt_tape_reader_next(r, &ev, &err)) == 1)
                ;
            tt_tape_reader_close(r);
        }
        if (rc < 0) {
            detected_reader++;
            assert_non_null(strstr(err.msg, ".tts"));
            assert_non_null(strstr(err.msg, "block"));
        }
        if (tt_tape_verify(dir, NULL, NULL, NULL, &err) != TT_OK) {
            detected_verify++;
            assert_non_null(strstr(err.msg, "block"));
        }
        assert_int_equal(pwrite(fd, &orig[off], 1, off), 1);
    }
    close(fd);
    /* every single flip is caught (header checksums + payload checksums) */
    assert_int_equal(detected_reader, trials);
    assert_int_equal(detected_verify, trials);
    free(orig);
    free(seg);
    rm_rf(dir);
    free(dir);
}

static void test_unknown_version(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    tt_event v = quote(1549238400000000000ll, 1, 2, 0, 0);
    write_quotes(dir, "EURUSD", &v, 1, 0);
    char *seg = only_segment(dir);
    int fd = open(seg, O_RDWR);
    uint8_t h[64];
    assert_int_equal(pread(fd, h, 64, 0), 64);
    h[8] = 99; /* version 99, with a valid header checksum */
    uint64_t sum = XXH64(h, 56, 0);
    for (int i = 0; i < 8; i++)
        h[56 + i] = (uint8_t)(sum >> (8 * i));
    assert_int_equal(pwrite(fd, h, 64, 0), 64);
    close(fd);
    tt_tape_reader *r;
    tt_err err;
    int rc = tt_tape_reader_open(&r, dir, NULL, NULL, &err);
    if (rc == 0) {
        tt_event ev;
        rc = tt_tape_reader_next(r, &ev, &err);
        tt_tape_reader_close(r);
    }
    assert_int_equal(rc, TT_EVERSION);
    assert_non_null(strstr(err.msg, "version 99 is not supported"));
    assert_non_null(strstr(err.msg, ".tts"));
    assert_int_equal(tt_tape_verify(dir, NULL, NULL, NULL, &err), TT_EVERSION);
    free(seg);
    rm_rf(dir);
    free(dir);
}

static void test_order_and_months(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    tt_stream_desc d = quote_desc("EURUSD");
    tt_tape_writer *w;
    tt_err err;
    assert_int_equal(tt_tape_writer_open(&w, dir, &d, NULL, &err), TT_OK);
    tt_ts jan = tt_ts_from_civil(2019, 1, 31, 23, 59, 59, 0);
    tt_ts feb = tt_ts_from_civil(2019, 2, 1, 0, 0, 0, 0);
    tt_ts mar = tt_ts_from_civil(2019, 3, 1, 0, 0, 0, 0);
    tt_event a = quote(jan, 1, 2, 0, 0), b = quote(feb, 3, 4, 0, 0), c = quote(mar, 5, 6, 0, 0);
    assert_int_equal(tt_tape_writer_append(w, &a, &err), TT_OK);
    assert_int_equal(tt_tape_writer_append(w, &b, &err), TT_OK);
    assert_int_equal(tt_tape_writer_append(w, &a, &err), TT_EORDER);
    assert_non_null(strstr(err.msg, "earlier than the last"));
    assert_int_equal(tt_tape_writer_append(w, &c, &err), TT_OK);
    assert_int_equal(tt_tape_writer_close(w, &err), TT_OK);
    /* reopening continues after the last event; earlier is still refused */
    assert_int_equal(tt_tape_writer_open(&w, dir, &d, NULL, &err), TT_OK);
    assert_int_equal(tt_tape_writer_append(w, &b, &err), TT_EORDER);
    assert_int_equal(tt_tape_writer_close(w, &err), TT_OK);
    tt_tape_info info;
    assert_int_equal(tt_tape_info_read(dir, &info, &err), TT_OK);
    assert_int_equal(info.nstreams, 1);
    assert_int_equal(info.streams[0].segments, 3);
    assert_int_equal(info.events, 3);
    assert_int_equal(info.first, jan);
    assert_int_equal(info.last, mar);
    tt_tape_info_free(&info);
    tt_event back[3];
    int rc;
    assert_int_equal(read_all(dir, NULL, back, 3, &rc, &err), 3);
    assert_int_equal(back[0].ts, jan);
    assert_int_equal(back[2].ts, mar);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_edges),
        cmocka_unit_test(test_roundtrip_dictionary_volumes),
        cmocka_unit_test(test_bars_trades_blobs_roundtrip),
        cmocka_unit_test(test_seek),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_torn_tail_every_offset),
        cmocka_unit_test(test_bit_flip),
        cmocka_unit_test(test_unknown_version),
        cmocka_unit_test(test_order_and_months),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
