/*
 * bench_import: Dukascopy import speed and tape size on the real EURUSD sample.
 *
 * Measured, each the best of --repeat runs:
 *   1. bi5 decode: liblzma (tt_bi5_decode_ticks) over every tick file held in
 *      memory, one core (thread CPU time): the reference "how fast does
 *      liblzma decode the bi5".
 *   2. import: tt_duka_import of the tree into a fresh tape with 1 decoder
 *      thread and with 2 (files decoded on both cores while the calling thread
 *      runs the quality filter and appends in time order).
 *   3. tape size: bytes of the quote stream per tick, against the bi5 files'.
 *   4. tape decode: a tt_tape_reader over the quote stream, one core (thread
 *      CPU time); and its ratio to (1): the target is at least 15x.
 * The import is timed in wall time (ticks/s) and in process CPU time.
 *
 * usage: bench_import DUKASCOPY_DIR [--symbol EURUSD] [--repeat R] [--work DIR] [--json]
 * (DUKASCOPY_DIR holds SYMBOL/YYYY/MM/DD/HHh_ticks.bi5: tests/data/dukascopy)
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/io.h"
#include "data/dukascopy.h"
#include "data/tape.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall time; and CPU time of this thread / of the whole process. The machine
 * the figures come from is shared, so one-core stages are timed in thread CPU
 * time (what the stage costs, whatever else runs), and the import in both. */
static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }
static double thread_cpu_s(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }
static double proc_cpu_s(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

typedef struct file {
    uint8_t *data;
    size_t len;
    tt_ts hour;
} file;

static void rm_rf(const char *path)
{
    if (tt_rmtree(path) != 0) /* no shell */
        fprintf(stderr, "bench_import: could not remove %s\n", path);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *symbol = "EURUSD", *work = NULL;
    int repeat = 5, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--symbol") && i + 1 < argc) symbol = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--work") && i + 1 < argc) work = argv[++i];
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else {
            fprintf(stderr, "usage: bench_import DUKASCOPY_DIR [--symbol S] [--repeat R] "
                            "[--work DIR] [--json]\n");
            return 2;
        }
    }
    if (!dir) {
        fprintf(stderr, "usage: bench_import DUKASCOPY_DIR [--symbol S] [--repeat R] [--json]\n");
        return 2;
    }
    if (repeat < 1)
        repeat = 1;
    char tmpl[] = "/tmp/tt_bench_import_XXXXXX";
    if (!work) {
        work = mkdtemp(tmpl);
        if (!work) {
            perror("mkdtemp");
            return 1;
        }
    }
    tt_instruments *tab = tt_instruments_new();
    const tt_instrument *ins;
    tt_err err;
    if (tt_instruments_require(tab, symbol, &ins, &err)) {
        fprintf(stderr, "bench_import: %s\n", err.msg);
        return 1;
    }

    /* The hours of the tree: a first import (untimed) finds the range and the files. */
    char tape[4096];
    snprintf(tape, sizeof tape, "%s/tape-scan", work);
    tt_duka_import_opts o = {0};
    o.dir = dir;
    o.tape = tape;
    o.ticks = 1;
    o.threads = 1;
    tt_duka_import_stats st;
    if (tt_duka_import(&o, ins, &st, &err)) {
        fprintf(stderr, "bench_import: %s\n", err.msg);
        return 1;
    }
    tt_stream_info qs = {0};
    tt_tape_info info;
    if (tt_tape_info_read(tape, &info, &err)) {
        fprintf(stderr, "bench_import: %s\n", err.msg);
        return 1;
    }
    for (uint32_t i = 0; i < info.nstreams; i++)
        if (info.streams[i].desc.kind == TT_STREAM_QUOTE)
            qs = info.streams[i];
    tt_tape_info_free(&info);
    const uint64_t nticks = st.ticks_written;

    /* Load every tick file of the range into memory. */
    file *files = calloc((size_t)(st.hours + 1), sizeof *files);
    size_t nf = 0;
    uint64_t bi5_bytes = 0;
    for (tt_ts h = qs.first - qs.first % TT_NS_PER_HOUR; h <= qs.last; h += TT_NS_PER_HOUR) {
        char rel[256], path[4400];
        tt_duka_tick_path(rel, sizeof rel, ins->symbol, h);
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        struct stat sb;
        fstat(fileno(f), &sb);
        files[nf].len = (size_t)sb.st_size;
        files[nf].data = malloc(files[nf].len + 1);
        files[nf].hour = h;
        if (fread(files[nf].data, 1, files[nf].len, f) != files[nf].len) {
            fclose(f);
            continue;
        }
        fclose(f);
        bi5_bytes += files[nf].len;
        nf++;
    }

    /* 1. liblzma decode of the bi5 files, one core. */
    tt_bi5_buf buf = {0};
    double best_lzma = 1e30;
    uint64_t decoded = 0;
    for (int r = 0; r < repeat; r++) {
        decoded = 0;
        double t0 = thread_cpu_s();
        for (size_t i = 0; i < nf; i++) {
            if (tt_bi5_decode_ticks(files[i].data, files[i].len, files[i].hour, 1, 0, &buf, &err)) {
                fprintf(stderr, "bench_import: %s\n", err.msg);
                return 1;
            }
            decoded += buf.ev_len;
        }
        double dt = thread_cpu_s() - t0;
        if (dt < best_lzma)
            best_lzma = dt;
    }

    /* 2. import at 1 and 2 decoder threads. */
    double best_imp[2] = {1e30, 1e30}, best_cpu[2] = {1e30, 1e30};
    for (int th = 1; th <= 2; th++) {
        for (int r = 0; r < repeat; r++) {
            snprintf(tape, sizeof tape, "%s/tape-%d-%d", work, th, r);
            o.tape = tape;
            o.threads = th;
            o.candles = 0;
            double t0 = now_s(), c0 = proc_cpu_s();
            if (tt_duka_import(&o, ins, &st, &err)) {
                fprintf(stderr, "bench_import: %s\n", err.msg);
                return 1;
            }
            double dt = now_s() - t0, dc = proc_cpu_s() - c0;
            if (dt < best_imp[th - 1])
                best_imp[th - 1] = dt;
            if (dc < best_cpu[th - 1])
                best_cpu[th - 1] = dc;
            if (r > 0)
                rm_rf(tape);
        }
    }

    /* 4. tape decode, one core. */
    snprintf(tape, sizeof tape, "%s/tape-1-0", work);
    double best_tape = 1e30;
    uint64_t read = 0;
    /* A pass takes a few ms: each measurement is 10 passes (open, read all, close). */
    const int passes = 10;
    for (int r = 0; r < repeat; r++) {
        double t0 = thread_cpu_s();
        uint64_t chk = 0;
        for (int pass = 0; pass < passes; pass++) {
            tt_tape_query q = {0};
            const char *syms[2] = {ins->symbol, NULL};
            q.symbols = syms;
            tt_tape_reader *rd;
            if (tt_tape_reader_open(&rd, tape, &q, NULL, &err)) {
                fprintf(stderr, "bench_import: %s\n", err.msg);
                return 1;
            }
            tt_event ev;
            int rc;
            read = 0;
            while ((rc = tt_tape_reader_next(rd, &ev, &err)) == 1) {
                read++;
                chk += (uint64_t)ev.u.quote.bid;
            }
            tt_tape_reader_close(rd);
            if (rc < 0) {
                fprintf(stderr, "bench_import: %s\n", err.msg);
                return 1;
            }
        }
        double dt = (thread_cpu_s() - t0) / passes;
        if (chk == 0)
            fprintf(stderr, "bench_import: no prices read\n");
        if (dt < best_tape)
            best_tape = dt;
    }

    double bpt_tape = nticks ? (double)qs.bytes / (double)nticks : 0;
    double bpt_bi5 = nticks ? (double)bi5_bytes / (double)nticks : 0;
    double lzma_rate = (double)decoded / best_lzma, tape_rate = (double)read / best_tape;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_import: %s, %zu bi5 files, %" PRIu64 " ticks, %ld CPU(s), best of %d\n",
           ins->symbol, nf, nticks, cpus, repeat);
    printf("  %-34s %12.0f ticks/s  (%.3f s CPU)\n", "bi5 decode (liblzma, 1 core)", lzma_rate,
           best_lzma);
    printf("  %-34s %12.0f ticks/s  (%.3f s wall, %.3f s CPU)\n", "import, 1 decoder thread",
           (double)nticks / best_imp[0], best_imp[0], best_cpu[0]);
    printf("  %-34s %12.0f ticks/s  (%.3f s wall, %.3f s CPU)\n", "import, 2 decoder threads",
           (double)nticks / best_imp[1], best_imp[1], best_cpu[1]);
    printf("  %-34s %12.0f ticks/s  (%.3f s CPU)  = %.1fx liblzma (target >= 15x)\n",
           "tape decode (1 core)", tape_rate, best_tape, tape_rate / lzma_rate);
    printf("  %-34s %12" PRIu64 " bytes    %.3f bytes/tick (target <= 2.5)\n", "tape quote stream",
           qs.bytes, bpt_tape);
    printf("  %-34s %12" PRIu64 " bytes    %.3f bytes/tick\n", "bi5 files", bi5_bytes, bpt_bi5);
    if (json)
        printf("{\"symbol\":\"%s\",\"files\":%zu,\"ticks\":%" PRIu64 ",\"cpus\":%ld,"
               "\"lzma_ticks_per_s\":%.0f,\"import_1t_ticks_per_s\":%.0f,"
               "\"import_2t_ticks_per_s\":%.0f,\"import_1t_cpu_s\":%.4f,\"import_2t_cpu_s\":%.4f,"
               "\"tape_ticks_per_s\":%.0f,\"tape_vs_lzma\":%.2f,"
               "\"tape_bytes\":%" PRIu64 ",\"tape_bytes_per_tick\":%.4f,\"bi5_bytes\":%" PRIu64
               ",\"bi5_bytes_per_tick\":%.4f}\n",
               ins->symbol, nf, nticks, cpus, lzma_rate, (double)nticks / best_imp[0],
               (double)nticks / best_imp[1], best_cpu[0], best_cpu[1], tape_rate,
               tape_rate / lzma_rate, qs.bytes, bpt_tape,
               bi5_bytes, bpt_bi5);
    for (size_t i = 0; i < nf; i++)
        free(files[i].data);
    free(files);
    tt_bi5_buf_free(&buf);
    tt_instruments_free(tab);
    if (work == tmpl || !strncmp(work, "/tmp/tt_bench_import_", 21))
        rm_rf(work);
    return 0;
}
