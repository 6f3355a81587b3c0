/*
 * `ticktape bench replay`: replay speed from the tape.
 *
 * Three timed passes over the same tape: (1) writing it (only when the tape is
 * synthetic), (2) decoding alone (tt_tape_reader_next in a loop), and (3) the
 * engine replaying it through a no-op strategy component. (3) - (2) is what
 * the engine loop itself costs per event. Each read pass runs --repeat times
 * (default 3) and the median is reported, since one pass can be disturbed by
 * whatever else the machine is doing.
 *
 * The synthetic tape is a deterministic random walk shaped like FX ticks:
 * millisecond timestamps with irregular gaps, one-to-few-point moves, a
 * spread that wanders between 2 and 20 points, and volumes drawn from a small
 * set of values, as Dukascopy's are.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "core/engine.h"
#include "core/io.h"
#include "data/tape.h"

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int write_synthetic(const char *dir, uint64_t n, tt_err *err)
{
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "EURUSD");
    d.kind = TT_STREAM_QUOTE;
    tt_tape_writer_opts opts = {0, 3, 0}; /* fast zstd level: the bench measures reading */
    tt_tape_writer *w;
    int rc = tt_tape_writer_open(&w, dir, &d, &opts, err);
    if (rc)
        return rc;
    static const float vols[] = {0.75f, 1.0f, 1.12f, 1.5f, 2.25f, 3.0f, 0.56f, 4.5f};
    uint64_t s = 42;
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_QUOTE;
    tt_ts ts = tt_ts_from_civil(2019, 1, 1, 0, 0, 0, 0);
    tt_price bid = 114427, spread = 8;
    tt_progress pr;
    tt_progress_start(&pr, "writing synthetic tape", n);
    for (uint64_t i = 0; i < n && !rc; i++) {
        uint64_t r = mix(&s);
        ts += (tt_ts)(1 + (r & 1023)) * TT_NS_PER_MS;
        bid += (tt_price)((r >> 10) % 7) - 3;
        if (((r >> 13) & 15) == 0)
            spread += ((r >> 17) & 1) ? 1 : -1;
        if (spread < 2) spread = 2;
        if (spread > 20) spread = 20;
        ev.ts = ev.ts_init = ts;
        ev.u.quote.bid = bid;
        ev.u.quote.ask = bid + spread;
        ev.u.quote.bid_vol = vols[(r >> 20) & 7];
        ev.u.quote.ask_vol = vols[(r >> 23) & 7];
        rc = tt_tape_writer_append(w, &ev, err);
        if ((i & 0xfffff) == 0)
            tt_progress_update(&pr, i);
    }
    tt_progress_finish(&pr);
    int crc = tt_tape_writer_close(w, rc ? NULL : err);
    return rc ? rc : crc;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Remove the synthetic tape's temporary folder ("" = none was made). */
static void remove_tmp(const char *tmp)
{
    if (!tmp[0])
        return;
    if (tt_rmtree(tmp) != 0) /* no shell: TMPDIR could name anything */
        fprintf(stderr, "ticktape: warning: could not remove %s\n", tmp);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A strategy that does nothing but look at the event: the floor of any replay. */
typedef struct noop {
    uint64_t sum;
} noop;

static void noop_on_event(void *self, tt_engine *e, const tt_event *ev)
{
    (void)e;
    ((noop *)self)->sum += (uint64_t)ev->u.quote.bid;
}

/* At the end, one output carrying a checksum of the bids seen and the event
 * count, so the run's fingerprint depends on the data replayed (with no
 * outputs at all, every replay would print the fingerprint of nothing). */
static int noop_on_stop(void *self, tt_engine *e, tt_err *err)
{
    (void)err;
    uint8_t bytes[16];
    uint64_t sum = ((noop *)self)->sum, n = tt_engine_events(e);
    for (int i = 0; i < 8; i++) {
        bytes[i] = (uint8_t)(sum >> (8 * i));
        bytes[8 + i] = (uint8_t)(n >> (8 * i));
    }
    tt_event out;
    memset(&out, 0, sizeof out);
    out.kind = TT_EV_BLOB;
    out.u.blob.len = sizeof bytes;
    out.u.blob.data = bytes;
    tt_engine_emit(e, &out);
    return TT_OK;
}

static int pass_decode(const char *dir, uint64_t *events, uint64_t *check, tt_err *err)
{
    tt_tape_reader *r;
    int rc = tt_tape_reader_open(&r, dir, NULL, NULL, err);
    if (rc)
        return rc;
    tt_event ev;
    uint64_t n = 0, sum = 0;
    while ((rc = tt_tape_reader_next(r, &ev, err)) == 1) {
        n++;
        sum += (uint64_t)ev.u.quote.bid;
    }
    tt_tape_reader_close(r);
    *events = n;
    *check = sum;
    return rc;
}

static int pass_engine(const char *dir, uint64_t *events, uint64_t *check, char fp[33], tt_err *err)
{
    tt_tape_reader *r;
    int rc = tt_tape_reader_open(&r, dir, NULL, NULL, err);
    if (rc)
        return rc;
    tt_instruments *ins = tt_instruments_new();
    tt_engine *e = tt_engine_new(ins);
    noop strat = {0};
    tt_engine_set_source(e, tt_tape_reader_source(r));
    tt_component c = {&strat, "noop", NULL, noop_on_event, noop_on_stop};
    tt_engine_add_component(e, c);
    rc = tt_engine_run(e, err);
    *events = tt_engine_events(e);
    *check = strat.sum;
    tt_fingerprint_hex(tt_engine_fingerprint(e), fp);
    tt_engine_free(e);
    tt_instruments_free(ins);
    tt_tape_reader_close(r);
    return rc;
}

typedef struct replay_opts {
    uint64_t ticks;
    const char *tape;
    int repeat, json;
} replay_opts;

static const tt_opt REPLAY_OPTS[] = {
    {TT_OPT_UINT, "ticks", .off = offsetof(replay_opts, ticks), .arg = "N", .min = 1,
     .max = INFINITY, .def = "50M",
     .help = "quote ticks of the synthetic tape (k/M/G suffixes allowed)"},
    {TT_OPT_STRING, "tape", .off = offsetof(replay_opts, tape), .arg = "DIR",
     .help = "replay this tape instead of a synthetic one"},
    {TT_OPT_INT, "repeat", .off = offsetof(replay_opts, repeat), .arg = "K", .min = 1,
     .max = 99, .def = "3", .help = "passes of each kind; the medians are reported"},
    {TT_OPT_FLAG, "json", .off = offsetof(replay_opts, json),
     .help = "the last line of stdout is one JSON object with events, seconds, "
             "events_per_second, bytes_per_event, decode_seconds, decode_events_per_second "
             "and engine_ns_per_event (the loop's cost over decoding alone)"},
    {TT_OPT_END},
};

static int bench_replay(int argc, char **argv);

static const tt_cmd BENCH_REPLAY = {
    .name = "bench replay",
    .summary = "replay speed from the tape: decoding alone and through the engine",
    .run = bench_replay,
    .opts = REPLAY_OPTS,
    .size = sizeof(replay_opts),
    .about = "Writes a synthetic tape of N quote ticks in a temporary folder, or takes an\n"
             "existing tape, and replays it: once decoding alone and once through the engine\n"
             "with a no-op strategy, each K times, reporting medians.\n",
    .epilog = "exit codes: 0 done, 1 failure, 2 usage error\n",
};

const tt_cmd tt_command_bench = {
    .name = "bench",
    .summary = "benchmarks (bench replay)",
    .about = "Benchmarks of the engine on this machine; each is a subcommand. Every figure\n"
             "of docs/benchmarks.md comes from one of them (make bench runs them all).\n",
    .subs = (const tt_cmd *const[]){&BENCH_REPLAY, NULL},
};

static int bench_replay(int argc, char **argv)
{
    replay_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&BENCH_REPLAY, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    uint64_t ticks = o.ticks;
    const char *tape = o.tape;
    int json = o.json, repeat = o.repeat;
    tt_err err;
    char tmp[256] = "";
    double write_s = 0;
    if (!tape) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/ticktape-bench-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmp)) {
            fprintf(stderr, "ticktape: error: cannot create a temporary folder in %s\n", tmp);
            return TT_EXIT_FAIL;
        }
        double t0 = tt_wall_seconds();
        if (write_synthetic(tmp, ticks, &err)) {
            tt_report_error(&err);
            goto fail;
        }
        write_s = tt_wall_seconds() - t0;
        tape = tmp;
    }
    tt_tape_info info;
    if (tt_tape_info_read(tape, &info, &err)) {
        tt_report_error(&err);
        goto fail;
    }
    uint64_t bytes = info.bytes, total = info.events;
    tt_tape_info_free(&info);
    double *dec = calloc((size_t)repeat, sizeof *dec), *eng = calloc((size_t)repeat, sizeof *eng);
    double *cdec = calloc((size_t)repeat, sizeof *cdec), *ceng = calloc((size_t)repeat, sizeof *ceng);
    uint64_t nd = 0, ne = 0, cd = 0, ce = 0;
    char fp[33] = "";
    for (int k = 0; k < repeat; k++) {
        if (!json)
            fprintf(stderr, "pass %d/%d...\n", k + 1, repeat);
        double c0 = cpu_seconds(), t0 = tt_wall_seconds();
        if (pass_decode(tape, &nd, &cd, &err)) {
            tt_report_error(&err);
            goto fail_free;
        }
        double c1 = cpu_seconds(), t1 = tt_wall_seconds();
        if (pass_engine(tape, &ne, &ce, fp, &err)) {
            tt_report_error(&err);
            goto fail_free;
        }
        double c2 = cpu_seconds(), t2 = tt_wall_seconds();
        dec[k] = t1 - t0;
        eng[k] = t2 - t1;
        cdec[k] = c1 - c0;
        ceng[k] = c2 - c1;
    }
    if (nd != ne || cd != ce || nd != total) {
        fprintf(stderr, "ticktape: error: passes disagree (%llu vs %llu events)\n",
                (unsigned long long)nd, (unsigned long long)ne);
        goto fail_free;
    }
    double ds = median(dec, repeat), es = median(eng, repeat);
    double cds = median(cdec, repeat), ces = median(ceng, repeat);
    double eps = (double)ne / es, deps = (double)nd / ds;
    double bpe = ne ? (double)bytes / (double)ne : 0;
    double overhead = ne ? (es - ds) * 1e9 / (double)ne : 0;
    if (json) {
        printf("{\"events\":%llu,\"seconds\":%.6f,\"events_per_second\":%.0f,\"bytes_per_event\":%.4f,"
               "\"decode_seconds\":%.6f,\"decode_events_per_second\":%.0f,\"engine_ns_per_event\":%.3f,"
               "\"cpu_seconds\":%.6f,\"decode_cpu_seconds\":%.6f,"
               "\"write_seconds\":%.3f,\"repeat\":%d,\"synthetic\":%s,\"fingerprint\":\"%s\"}\n",
               (unsigned long long)ne, es, eps, bpe, ds, deps, overhead, ces, cds, write_s, repeat,
               tmp[0] ? "true" : "false", fp);
    } else {
        printf("replay %llu events (%s), median of %d passes\n", (unsigned long long)ne,
               tmp[0] ? "synthetic" : tape, repeat);
        if (tmp[0])
            printf("  write:           %.2f s (%.1f M events/s)\n", write_s, (double)ne / write_s / 1e6);
        printf("  decode only:     %.3f s  %.1f M events/s\n", ds, deps / 1e6);
        printf("  engine replay:   %.3f s  %.1f M events/s\n", es, eps / 1e6);
        printf("  engine overhead: %.2f ns/event\n", overhead);
        printf("  cpu time:        decode %.3f s (%.1f M/s), engine %.3f s (%.1f M/s)\n", cds,
               (double)nd / cds / 1e6, ces, (double)ne / ces / 1e6);
        printf("  tape size:       %llu bytes, %.3f bytes/event\n", (unsigned long long)bytes, bpe);
        printf("fingerprint: %s\n", fp);
    }
    free(dec);
    free(eng);
    free(cdec);
    free(ceng);
    remove_tmp(tmp);
    return TT_EXIT_OK;
fail_free:
    free(dec);
    free(eng);
    free(cdec);
    free(ceng);
fail:
    remove_tmp(tmp);
    return TT_EXIT_FAIL;
}
