/*
 * Dukascopy bi5 decoding and import (see data/dukascopy.h for the format).
 *
 * How this works.
 *
 * Decoding is two pure steps over a buffer: liblzma's "LZMA alone" decoder
 * inflates the file into a reusable byte buffer (sized from the header's
 * uncompressed length when it gives one), then fixed-size big-endian records
 * become tt_events. Any defect (corrupt stream, truncated stream, a partial
 * record at the end, a time offset outside the file's period, trailing bytes)
 * is an error with the record or byte offset; nothing is guessed.
 *
 * The import walks the hours of the range in time order. Each hour is a tick
 * file, a 0-byte file (no ticks: normal on weekends) or no file (a gap,
 * reported as runs of consecutive hours). Files are read and decoded by a
 * small pool of threads into a ring of W slots, one slot per file: worker k
 * takes the next file only while it is fewer than W files ahead of the
 * appender, so memory is bounded by W decoded files. The calling thread
 * consumes the slots strictly in file order, runs each tick through the
 * quality filter and appends to the tape: the tape is identical at every
 * thread count. A bad file is reported by name and skipped; the import goes
 * on and returns TT_EPARTIAL at the end.
 *
 * Candle files (M1 per day, H1 per month, D1 per year; BID and ASK) go to
 * their own bar streams after the ticks, file by file in period order.
 */
#include "dukascopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lzma.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- decoding ---- */

void tt_bi5_buf_free(tt_bi5_buf *b)
{
    free(b->raw);
    free(b->ev);
    memset(b, 0, sizeof *b);
}

static int reserve_raw(tt_bi5_buf *b, size_t need, tt_err *err)
{
    if (need <= b->raw_cap)
        return TT_OK;
    if (need > TT_BI5_MAX_RAW) /* a bad file, not a lack of memory */
        return tt_err_set(err, TT_EFORMAT, "decompressed size over the %zu MiB limit",
                          TT_BI5_MAX_RAW >> 20);
    size_t cap = b->raw_cap ? b->raw_cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > TT_BI5_MAX_RAW)
        cap = TT_BI5_MAX_RAW;
    uint8_t *p = realloc(b->raw, cap);
    if (!p)
        return tt_err_set(err, TT_ENOMEM, "out of memory (%zu bytes)", cap);
    b->raw = p;
    b->raw_cap = cap;
    return TT_OK;
}

static int reserve_ev(tt_bi5_buf *b, size_t n, tt_err *err)
{
    if (n <= b->ev_cap)
        return TT_OK;
    size_t cap = b->ev_cap ? b->ev_cap : 256;
    while (cap < n)
        cap *= 2;
    tt_event *p = realloc(b->ev, cap * sizeof *p);
    if (!p)
        return tt_err_set(err, TT_ENOMEM, "out of memory (%zu events)", cap);
    b->ev = p;
    b->ev_cap = cap;
    return TT_OK;
}

int tt_bi5_decompress(const uint8_t *data, size_t len, tt_bi5_buf *b, tt_err *err)
{
    b->raw_len = 0;
    if (len == 0)
        return TT_OK;
    if (len < 13)
        return tt_err_set(err, TT_EFORMAT, "truncated LZMA header (%zu bytes, need 13)", len);
    /* Header: 1 byte properties, 4 bytes dictionary size, 8 bytes LE uncompressed size
     * (all ones = unknown, then an end marker closes the stream). */
    uint64_t usize = 0;
    for (int i = 0; i < 8; i++)
        usize |= (uint64_t)data[5 + i] << (8 * i);
    size_t guess = len * 4;
    if (usize != UINT64_MAX) {
        if (usize > TT_BI5_MAX_RAW)
            return tt_err_set(err, TT_EFORMAT,
                              "LZMA header claims %" PRIu64 " bytes uncompressed (limit %zu MiB)",
                              usize, TT_BI5_MAX_RAW >> 20);
        guess = (size_t)usize;
    }
    int rc = reserve_raw(b, guess ? guess : 1, err);
    if (rc)
        return rc;

    lzma_stream s = LZMA_STREAM_INIT;
    /* The memory limit bounds the dictionary a hostile header can ask for. */
    lzma_ret r = lzma_alone_decoder(&s, (uint64_t)64 << 20);
    if (r != LZMA_OK)
        return tt_err_set(err, TT_ENOMEM, "out of memory (lzma_alone_decoder: code %d)", (int)r);
    s.next_in = data;
    s.avail_in = len;
    s.next_out = b->raw;
    s.avail_out = b->raw_cap;
    for (;;) {
        r = lzma_code(&s, LZMA_FINISH);
        if (r == LZMA_STREAM_END)
            break;
        if (r == LZMA_OK && s.avail_out == 0) {
            size_t used = b->raw_cap;
            if ((rc = reserve_raw(b, used + 1, err)) != TT_OK) {
                lzma_end(&s);
                return rc;
            }
            s.next_out = b->raw + used;
            s.avail_out = b->raw_cap - used;
            continue;
        }
        if (r == LZMA_OK)
            continue;
        size_t at = len - s.avail_in;
        lzma_end(&s);
        switch (r) {
        case LZMA_BUF_ERROR:
            return tt_err_set(err, TT_EFORMAT,
                              "truncated LZMA stream: input ends at byte %zu before the data does",
                              len);
        case LZMA_MEMLIMIT_ERROR:
            return tt_err_set(err, TT_EFORMAT, "LZMA header asks for too much memory");
        case LZMA_MEM_ERROR: /* an allocation failed: not the file's fault */
            return tt_err_set(err, TT_ENOMEM, "out of memory (LZMA decoder)");
        case LZMA_FORMAT_ERROR:
            return tt_err_set(err, TT_EFORMAT, "not an LZMA-alone stream (bad header)");
        case LZMA_OPTIONS_ERROR:
            return tt_err_set(err, TT_EFORMAT, "unsupported LZMA options in the header");
        default:
            return tt_err_set(err, TT_EFORMAT, "corrupt LZMA data near byte %zu of %zu (code %d)",
                              at, len, (int)r);
        }
    }
    b->raw_len = (size_t)s.total_out;
    size_t rest = s.avail_in;
    lzma_end(&s);
    if (rest)
        return tt_err_set(err, TT_EFORMAT, "%zu trailing bytes after the LZMA stream", rest);
    return TT_OK;
}

/* Record layouts (docs/data-dukascopy.md): big-endian fields of 4 bytes each,
 * at these offsets; a volume is a float32, taken bit for bit. */
enum { TICK_MS = 0, TICK_ASK = 4, TICK_BID = 8, TICK_ASK_VOL = 12, TICK_BID_VOL = 16 };
enum {
    CANDLE_S = 0,
    CANDLE_OPEN = 4,
    CANDLE_CLOSE = 8,
    CANDLE_LOW = 12,
    CANDLE_HIGH = 16,
    CANDLE_VOL = 20
};
_Static_assert(TT_BI5_TICK_BYTES == 20 && TICK_BID_VOL + 4 == TT_BI5_TICK_BYTES,
               "a bi5 tick record is 20 bytes, five 4-byte fields (docs/data-dukascopy.md)");
_Static_assert(TT_BI5_CANDLE_BYTES == 24 && CANDLE_VOL + 4 == TT_BI5_CANDLE_BYTES,
               "a bi5 candle record is 24 bytes, six 4-byte fields (docs/data-dukascopy.md)");
_Static_assert(sizeof(float) == 4, "bi5 volumes are float32, copied bit for bit into a float");

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline float be_f32(const uint8_t *p)
{
    uint32_t u = be32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int tt_bi5_decode_ticks(const uint8_t *data, size_t len, tt_ts hour_start, uint32_t symbol,
                        uint64_t seq0, tt_bi5_buf *b, tt_err *err)
{
    b->ev_len = 0;
    int rc = tt_bi5_decompress(data, len, b, err);
    if (rc)
        return rc;
    if (b->raw_len % TT_BI5_TICK_BYTES)
        return tt_err_set(err, TT_EFORMAT,
                          "%zu decompressed bytes is not a whole number of 20-byte tick records "
                          "(truncated record %zu)",
                          b->raw_len, b->raw_len / TT_BI5_TICK_BYTES);
    size_t n = b->raw_len / TT_BI5_TICK_BYTES;
    if ((rc = reserve_ev(b, n, err)) != TT_OK)
        return rc;
    const uint8_t *p = b->raw;
    for (size_t i = 0; i < n; i++, p += TT_BI5_TICK_BYTES) {
        uint32_t ms = be32(p + TICK_MS);
        if (ms >= 3600000u)
            return tt_err_set(err, TT_EFORMAT,
                              "tick record %zu: time offset %" PRIu32 " ms is past the hour", i, ms);
        tt_event *e = &b->ev[i];
        memset(e, 0, sizeof *e);
        e->ts = e->ts_init = hour_start + (tt_ts)ms * TT_NS_PER_MS;
        e->seq = seq0 + i;
        e->symbol = symbol;
        e->kind = TT_EV_QUOTE;
        e->cls = TT_CLS_MARKET;
        e->u.quote.ask = (tt_price)be32(p + TICK_ASK);
        e->u.quote.bid = (tt_price)be32(p + TICK_BID);
        e->u.quote.ask_vol = be_f32(p + TICK_ASK_VOL);
        e->u.quote.bid_vol = be_f32(p + TICK_BID_VOL);
    }
    b->ev_len = n;
    return TT_OK;
}

/* Length of the period a candle file covers, for the offset bound. */
static int64_t period_limit_s(uint8_t tf)
{
    switch (tf) {
    case TT_TF_M1: return 86400;             /* a day */
    case TT_TF_H1: return 31 * 86400;        /* a month */
    case TT_TF_D1: return 366 * 86400;       /* a year */
    default: return 366 * 86400;
    }
}

int tt_bi5_decode_candles(const uint8_t *data, size_t len, tt_ts period_start, uint8_t tf,
                          uint8_t side, uint32_t symbol, uint64_t seq0, tt_bi5_buf *b,
                          tt_err *err)
{
    b->ev_len = 0;
    int rc = tt_bi5_decompress(data, len, b, err);
    if (rc)
        return rc;
    if (b->raw_len % TT_BI5_CANDLE_BYTES)
        return tt_err_set(err, TT_EFORMAT,
                          "%zu decompressed bytes is not a whole number of 24-byte candle records "
                          "(truncated record %zu)",
                          b->raw_len, b->raw_len / TT_BI5_CANDLE_BYTES);
    size_t n = b->raw_len / TT_BI5_CANDLE_BYTES;
    if ((rc = reserve_ev(b, n, err)) != TT_OK)
        return rc;
    const int64_t limit = period_limit_s(tf);
    const uint8_t *p = b->raw;
    for (size_t i = 0; i < n; i++, p += TT_BI5_CANDLE_BYTES) {
        uint32_t sec = be32(p + CANDLE_S);
        tt_price o = be32(p + CANDLE_OPEN), c = be32(p + CANDLE_CLOSE), l = be32(p + CANDLE_LOW),
                 h = be32(p + CANDLE_HIGH);
        if ((int64_t)sec >= limit)
            return tt_err_set(err, TT_EFORMAT,
                              "candle record %zu: time offset %" PRIu32 " s is past the file's period",
                              i, sec);
        if (l > h || o < l || o > h || c < l || c > h)
            return tt_err_set(err, TT_EFORMAT,
                              "candle record %zu: open %" PRId64 " close %" PRId64 " outside low %" PRId64
                              " .. high %" PRId64,
                              i, o, c, l, h);
        tt_event *e = &b->ev[i];
        memset(e, 0, sizeof *e);
        e->ts = e->ts_init = period_start + (tt_ts)sec * TT_NS_PER_SEC;
        e->seq = seq0 + i;
        e->symbol = symbol;
        e->kind = TT_EV_BAR;
        e->cls = TT_CLS_MARKET;
        e->u.bar.open = o;
        e->u.bar.high = h;
        e->u.bar.low = l;
        e->u.bar.close = c;
        e->u.bar.volume = (double)be_f32(p + CANDLE_VOL);
        e->u.bar.ticks = 0;
        e->u.bar.tf = tf;
        e->u.bar.side = side;
    }
    b->ev_len = n;
    return TT_OK;
}

/* ---- paths ---- */

int tt_duka_tick_path(char *buf, size_t n, const char *symbol, tt_ts hour)
{
    int y, mo, d, h;
    tt_ts_to_civil(hour, &y, &mo, &d, &h, NULL, NULL, NULL);
    return snprintf(buf, n, "%s/%04d/%02d/%02d/%02dh_ticks.bi5", symbol, y, mo - 1, d, h);
}

int tt_duka_candle_path(char *buf, size_t n, const char *symbol, int tf, int side, tt_ts t,
                        tt_ts *period_start)
{
    const char *sd = side == TT_SIDE_BID ? "BID" : side == TT_SIDE_ASK ? "ASK" : NULL;
    if (!sd)
        return TT_EINVAL;
    int y, mo, d;
    tt_ts_to_civil(t, &y, &mo, &d, NULL, NULL, NULL, NULL);
    switch (tf) {
    case TT_TF_M1:
        *period_start = tt_ts_from_civil(y, mo, d, 0, 0, 0, 0);
        snprintf(buf, n, "%s/%04d/%02d/%02d/%s_candles_min_1.bi5", symbol, y, mo - 1, d, sd);
        return TT_OK;
    case TT_TF_H1:
        *period_start = tt_ts_from_civil(y, mo, 1, 0, 0, 0, 0);
        snprintf(buf, n, "%s/%04d/%02d/%s_candles_hour_1.bi5", symbol, y, mo - 1, sd);
        return TT_OK;
    case TT_TF_D1:
        *period_start = tt_ts_from_civil(y, 1, 1, 0, 0, 0, 0);
        snprintf(buf, n, "%s/%04d/%s_candles_day_1.bi5", symbol, y, sd);
        return TT_OK;
    default:
        return TT_EINVAL;
    }
}

/* ---- files ---- */

/* Read a whole file into *buf (grown as needed). -1 with errno when it cannot be read. */
static int read_file(const char *path, uint8_t **buf, size_t *cap, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    size_t want = (size_t)st.st_size;
    if (want + 1 > *cap) {
        uint8_t *p = realloc(*buf, want + 1);
        if (!p) {
            close(fd);
            errno = ENOMEM;
            return -1;
        }
        *buf = p;
        *cap = want + 1;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, *buf + got, want - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break; /* shrank under us: decode what is there, the decoder will complain */
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return 0;
}

/* The error of a failed read_file: TT_ENOMEM for the buffer, else TT_EIO. */
static int read_error(tt_err *err, const char *path)
{
    int e = errno;
    if (e == ENOMEM)
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory reading it", path);
    return tt_err_set(err, TT_EIO, "%s: cannot read: %s", path, strerror(e));
}

/* A decoding failure that stops the import rather than skip the file: an
 * allocation failed (the file is not at fault, and a stream cannot take the
 * file's ticks later once later ones are on the tape). */
static int stops_import(int rc)
{
    return rc == TT_ENOMEM;
}

/* ---- the import ---- */

enum { HOUR_MISSING = 0, HOUR_EMPTY = 1, HOUR_FILE = 2 };

typedef struct job {
    tt_ts hour;
    uint8_t state; /* HOUR_* */
} job;

typedef struct slot {
    tt_bi5_buf dec;
    uint8_t *file;
    size_t file_cap, file_len;
    long job;       /* index of the job in this slot, -1 when free */
    int done;       /* decoded (or failed) */
    int rc;
    tt_err err;
    double seconds; /* time spent decoding */
} slot;

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const tt_duka_import_opts *o;
    const tt_instrument *ins;
    job *jobs;
    long *files;   /* indices into jobs of the hours that have a non-empty file */
    long nfiles;
    long next;     /* next file (index into files) to claim */
    long consumed; /* files consumed by the appender */
    int stop;
    slot *slots;
    int nslots;
    pthread_t tid[64];
    int started; /* decoder threads running */
} pool;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void decode_one(pool *p, slot *s, long fi)
{
    const job *j = &p->jobs[p->files[fi]];
    char rel[256], path[4096];
    tt_duka_tick_path(rel, sizeof rel, p->ins->symbol, j->hour);
    snprintf(path, sizeof path, "%s/%s", p->o->dir, rel);
    tt_err_clear(&s->err);
    double t0 = now_s();
    if (read_file(path, &s->file, &s->file_cap, &s->file_len)) {
        s->rc = read_error(&s->err, path);
    } else {
        s->rc = tt_bi5_decode_ticks(s->file, s->file_len, j->hour, p->ins->id, 0, &s->dec, &s->err);
        if (s->rc)
            tt_err_prefix(&s->err, "%s: ", path);
    }
    s->seconds = now_s() - t0;
}

static void *worker(void *arg)
{
    pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->next < p->nfiles && p->next >= p->consumed + p->nslots)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop || p->next >= p->nfiles)
            break;
        long fi = p->next++;
        slot *s = &p->slots[fi % p->nslots];
        s->job = fi;
        s->done = 0;
        pthread_mutex_unlock(&p->mu);
        decode_one(p, s, fi);
        pthread_mutex_lock(&p->mu);
        s->done = 1;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void report(const tt_duka_import_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report(const tt_duka_import_opts *o, const char *fmt, ...)
{
    if (!o->report)
        return;
    char line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->report(o->ctx, line);
}

static void fmt_hour(tt_ts t, char *buf, int n)
{
    int y, mo, d, h;
    tt_ts_to_civil(t, &y, &mo, &d, &h, NULL, NULL, NULL);
    snprintf(buf, (size_t)n, "%04d-%02d-%02dT%02d:00Z", y, mo, d, h);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The smallest and largest numeric subdirectory name of `path` within [lo, hi]
 * (the years of a symbol's tree). 0 when there is none. */
static int scan_numeric(const char *path, int lo, int hi, int *min, int *max)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end || v < lo || v > hi)
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (!is_dir(sub))
            continue;
        if (!found || v < *min)
            *min = (int)v;
        if (!found || v > *max)
            *max = (int)v;
        found = 1;
    }
    closedir(d);
    return found;
}

/* Does a day directory hold at least one tick file? */
static int day_has_ticks(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        found = n > 10 && !strcmp(de->d_name + n - 10, "_ticks.bi5");
    }
    closedir(d);
    return found;
}

/* First and last day of the tree that hold tick files: [*from, *to). 0 when none. */
static int scan_tick_range(const char *root, tt_ts *from, tt_ts *to)
{
    int y0, y1, found = 0;
    tt_ts lo = 0, hi = 0;
    if (!scan_numeric(root, 1970, 9999, &y0, &y1))
        return 0;
    for (int y = y0; y <= y1; y++) {
        for (int m = 0; m < 12; m++) {
            for (int d = 1; d <= 31; d++) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%04d/%02d/%02d", root, y, m, d);
                if (!day_has_ticks(path))
                    continue;
                tt_ts t = tt_ts_from_civil(y, m + 1, d, 0, 0, 0, 0);
                if (!found || t < lo)
                    lo = t;
                if (!found || t + TT_NS_PER_DAY > hi)
                    hi = t + TT_NS_PER_DAY;
                found = 1;
            }
        }
    }
    *from = lo;
    *to = hi;
    return found;
}

/* A tape writer of the import: merging (what the tape holds is counted, not
 * written twice; earlier data is merged in), conflicts reported. */
static int open_writer(const tt_duka_import_opts *o, tt_tape *tape, const tt_stream_desc *d,
                       tt_tape_writer **w, tt_err *err)
{
    tt_tape_writer_opts wo = {0};
    if (o->tape_opts)
        wo = *o->tape_opts;
    wo.merge = 1;
    wo.replace = o->replace;
    wo.report = o->report;
    wo.report_ctx = o->ctx;
    if (!wo.commit_blocks)
        wo.commit_blocks = TT_IMPORT_COMMIT_BLOCKS;
    return tt_tape_writer_open_in(w, tape, d, &wo, err);
}

/* Close an import's writer; its counts into *ws. The first error wins. */
static int close_writer(tt_tape_writer *w, tt_tape_writer_stats *ws, int rc, tt_err *err)
{
    if (!w)
        return rc;
    if (rc == TT_OK)
        rc = tt_tape_writer_flush(w, err); /* the last merge and commit */
    tt_tape_writer_stats_get(w, ws);
    tt_err e2;
    int rc2 = tt_tape_writer_close(w, &e2);
    if (rc == TT_OK && rc2) {
        rc = rc2;
        *err = e2;
    }
    return rc;
}

/* The quality filter's sink: quarantined ticks to the symbol's quarantine
 * stream, stamped so that the stream's times never go back. */
typedef struct qsink {
    const tt_duka_import_opts *o;
    tt_tape *tape;
    const tt_instrument *ins;
    tt_tape_writer *w;
    tt_ts stamp;
} qsink;

static int to_quarantine(void *ctx, int rule, int action, const char *origin,
                         const tt_event *orig, tt_err *err)
{
    qsink *s = ctx;
    if (!s->w) {
        tt_stream_desc d = {0};
        snprintf(d.symbol, sizeof d.symbol, "%s", s->ins->symbol);
        d.kind = TT_STREAM_QUARANTINE;
        int rc = open_writer(s->o, s->tape, &d, &s->w, err);
        if (rc)
            return rc;
        s->stamp = orig->ts;
    }
    if (orig->ts > s->stamp)
        s->stamp = orig->ts;
    uint8_t buf[TT_QUARANTINE_RECORD_MAX];
    tt_event rec;
    tt_quality_record(rule, action, origin, orig, s->stamp, buf, &rec);
    return tt_tape_writer_append(s->w, &rec, err);
}

/* Classify each hour of the range: a tick file (listed in files), an empty
 * file or none; counts the files and bytes in st. */
static long plan_hours(const tt_duka_import_opts *o, const tt_instrument *ins, tt_ts from, long nh,
                       job *jobs, long *files, tt_duka_import_stats *st)
{
    long nfiles = 0;
    st->hours += (uint64_t)nh;
    for (long i = 0; i < nh; i++) {
        jobs[i].hour = from + (tt_ts)i * TT_NS_PER_HOUR;
        char rel[256], path[4096];
        tt_duka_tick_path(rel, sizeof rel, ins->symbol, jobs[i].hour);
        snprintf(path, sizeof path, "%s/%s", o->dir, rel);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            jobs[i].state = HOUR_MISSING;
        } else if (sb.st_size == 0) {
            jobs[i].state = HOUR_EMPTY;
            st->files++;
            st->files_empty++;
        } else {
            jobs[i].state = HOUR_FILE;
            st->files++;
            st->bytes_in += (uint64_t)sb.st_size;
            files[nfiles++] = i;
        }
    }
    return nfiles;
}

/* Gaps: runs of missing hours, reported in time order. */
static void report_gaps(const tt_duka_import_opts *o, const tt_instrument *ins, const job *jobs,
                        long nh, tt_duka_import_stats *st)
{
    for (long i = 0; i < nh;) {
        if (jobs[i].state != HOUR_MISSING) {
            i++;
            continue;
        }
        long k = i;
        while (k < nh && jobs[k].state == HOUR_MISSING)
            k++;
        char a[32], b[32];
        fmt_hour(jobs[i].hour, a, sizeof a);
        fmt_hour(jobs[k - 1].hour, b, sizeof b);
        report(o, "gap: %s %s .. %s: %ld hour%s without a tick file", ins->symbol, a, b, k - i,
               k - i == 1 ? "" : "s");
        st->gaps++;
        st->hours_missing += (uint64_t)(k - i);
        i = k;
    }
}

/* Where the decoded ticks go: the quality filter (its quarantined ticks to
 * the quarantine stream), then the quote stream's merging writer, which
 * counts what the tape holds already instead of writing it twice. */
typedef struct tick_out {
    tt_quality *q;
    tt_tape_writer *w; /* NULL when there is no file to import */
    qsink qs;
    uint64_t seq;
} tick_out;

/* The filter, and, when there are files to import, the quote stream's writer. */
static int tick_out_open(tick_out *t, const tt_duka_import_opts *o, tt_tape *tape,
                         const tt_instrument *ins, long nfiles, tt_err *err)
{
    memset(t, 0, sizeof *t);
    t->qs = (qsink){o, tape, ins, NULL, 0};
    tt_stream_desc desc = {0};
    snprintf(desc.symbol, sizeof desc.symbol, "%s", ins->symbol);
    desc.kind = TT_STREAM_QUOTE;
    int rc = tt_quality_new(&t->q, o->quality, ins, err);
    if (rc == TT_OK)
        tt_quality_set_sink(t->q, to_quarantine, &t->qs);
    if (rc == TT_OK && nfiles > 0)
        rc = open_writer(o, tape, &desc, &t->w, err);
    if (rc) {
        tt_quality_free(t->q);
        t->q = NULL;
    }
    return rc;
}

/* Close the writers (the last merge and commit; their errors count only when
 * rc is still 0), add their and the filter's counts to st. Returns the
 * import's code. */
static int tick_out_close(tick_out *t, const tt_duka_import_opts *o, const tt_instrument *ins,
                          int rc, tt_duka_import_stats *st, tt_err *err)
{
    tt_tape_writer_stats ws = {0};
    rc = close_writer(t->qs.w, &ws, rc, err);
    st->ticks_quarantined += ws.added + ws.duplicates;
    memset(&ws, 0, sizeof ws);
    rc = close_writer(t->w, &ws, rc, err);
    st->ticks_written += ws.added;
    st->ticks_present += ws.duplicates;
    st->ticks_conflicts += ws.conflicts;
    st->ticks_replaced += ws.replaced;
    if (ws.duplicates)
        report(o, "%s: %" PRIu64 " tick(s) were on the tape already (not written twice)",
               ins->symbol, ws.duplicates);
    tt_quality_counts c;
    tt_quality_get_counts(t->q, &c);
    tt_quality_counts_add(&st->quality, &c);
    tt_quality_free(t->q);
    return rc;
}

/* One decoded file's ticks through the filter to the tape, numbered in file order. */
static int tick_out_file(tick_out *t, const char *rel, tt_bi5_buf *dec, tt_duka_import_stats *st,
                         tt_err *err)
{
    int rc = TT_OK;
    tt_quality_set_origin(t->q, rel);
    st->ticks_read += dec->ev_len;
    for (size_t i = 0; i < dec->ev_len; i++) {
        tt_event *e = &dec->ev[i];
        e->seq = t->seq++;
        int action;
        if ((rc = tt_quality_check(t->q, e, &action, err)) != TT_OK)
            break;
        if (action == TT_QA_DROP)
            continue;
        if ((rc = tt_tape_writer_append(t->w, e, err)) != TT_OK) {
            tt_err_prefix(err, "%s: ", rel);
            break;
        }
    }
    return rc;
}

/* Start the decoders: o->threads, or one per CPU but one, which the appending
 * thread needs to itself (it runs the quality filter and the tape's block
 * compression, the larger share of the work: measured in docs/benchmarks.md);
 * never more than there are files. Sets p->started. */
static int pool_start(pool *p, const tt_duka_import_opts *o, const tt_instrument *ins, job *jobs,
                      long *files, long nfiles, tt_err *err)
{
    int nthreads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > 64)
        nthreads = 64;
    if (nthreads > nfiles)
        nthreads = nfiles > 0 ? (int)nfiles : 1;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->o = o;
    p->ins = ins;
    p->jobs = jobs;
    p->files = files;
    p->nfiles = nfiles;
    p->nslots = nthreads * 4;
    p->slots = calloc((size_t)p->nslots, sizeof *p->slots);
    if (!p->slots)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    for (int i = 0; i < nthreads && nfiles > 0; i++) {
        if (pthread_create(&p->tid[i], NULL, worker, p) != 0)
            break;
        p->started++;
    }
    if (nfiles > 0 && p->started == 0)
        return tt_err_set(err, TT_ENOMEM, "cannot start decoder threads");
    return TT_OK;
}

/* Stop the decoders, join them and free the slots. */
static void pool_stop(pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->tid[i], NULL);
    for (int i = 0; p->slots && i < p->nslots; i++) {
        tt_bi5_buf_free(&p->slots[i].dec);
        free(p->slots[i].file);
    }
    free(p->slots);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

/* Wait for file fi's slot to be decoded. */
static slot *pool_take(pool *p, long fi)
{
    slot *s = &p->slots[fi % p->nslots];
    pthread_mutex_lock(&p->mu);
    while (!(s->job == fi && s->done))
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return s;
}

/* Hand file fi's slot back to the decoders. */
static void pool_release(pool *p, slot *s, long fi)
{
    pthread_mutex_lock(&p->mu);
    s->job = -1;
    p->consumed = fi + 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static int import_ticks(const tt_duka_import_opts *o, tt_tape *tape, const tt_instrument *ins,
                        tt_ts from, tt_ts to, tt_duka_import_stats *st, char *first_bad,
                        size_t first_bad_n, tt_err *err)
{
    long nh = (long)((to - from) / TT_NS_PER_HOUR);
    job *jobs = calloc((size_t)(nh > 0 ? nh : 1), sizeof *jobs);
    long *files = calloc((size_t)(nh > 0 ? nh : 1), sizeof *files);
    if (!jobs || !files) {
        free(jobs);
        free(files);
        return tt_err_set(err, TT_ENOMEM, "out of memory (%ld hours)", nh);
    }
    long nfiles = plan_hours(o, ins, from, nh, jobs, files, st);
    report_gaps(o, ins, jobs, nh, st);

    tick_out t;
    int rc = tick_out_open(&t, o, tape, ins, nfiles, err);
    if (rc) {
        free(jobs);
        free(files);
        return rc;
    }
    pool p;
    rc = pool_start(&p, o, ins, jobs, files, nfiles, err);
    for (long fi = 0; rc == TT_OK && fi < nfiles; fi++) {
        slot *s = pool_take(&p, fi);
        st->decode_seconds += s->seconds;
        if (stops_import(s->rc)) {
            rc = s->rc;
            if (err)
                *err = s->err;
        } else if (s->rc) {
            st->files_bad++;
            report(o, "error: %s", s->err.msg);
            if (!first_bad[0])
                snprintf(first_bad, first_bad_n, "%s", s->err.msg);
        } else {
            char rel[256];
            tt_duka_tick_path(rel, sizeof rel, ins->symbol, jobs[files[fi]].hour);
            rc = tick_out_file(&t, rel, &s->dec, st, err);
        }
        pool_release(&p, s, fi);
        if (o->progress)
            o->progress(o->ctx, (uint64_t)fi + 1, (uint64_t)nfiles);
    }
    pool_stop(&p);
    rc = tick_out_close(&t, o, ins, rc, st, err);
    free(jobs);
    free(files);
    return rc;
}

/* One candle file to import. */
typedef struct cfile {
    char rel[256];
    tt_ts start;
} cfile;

static int import_candle_stream(const tt_duka_import_opts *o, tt_tape *tape,
                                const tt_instrument *ins, int tf, int side, tt_ts from, tt_ts to,
                                int filter,
                                tt_duka_import_stats *st, char *first_bad, size_t first_bad_n,
                                tt_err *err)
{
    /* The periods overlapping [from, to), in order. */
    tt_ts t = from;
    tt_bi5_buf dec = {0};
    uint8_t *file = NULL;
    size_t cap = 0, len = 0;
    tt_tape_writer *w = NULL;
    int rc = TT_OK;
    tt_ts last_ts = TT_TS_MIN;
    while (rc == TT_OK && t < to) {
        cfile cf;
        if (tt_duka_candle_path(cf.rel, sizeof cf.rel, ins->symbol, tf, side, t, &cf.start))
            break;
        int y, mo, dd;
        tt_ts_to_civil(cf.start, &y, &mo, &dd, NULL, NULL, NULL, NULL);
        tt_ts next = tf == TT_TF_M1   ? cf.start + TT_NS_PER_DAY
                     : tf == TT_TF_H1 ? tt_ts_from_civil(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1,
                                                         1, 0, 0, 0, 0)
                                      : tt_ts_from_civil(y + 1, 1, 1, 0, 0, 0, 0);
        t = next;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", o->dir, cf.rel);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue; /* candle files are optional: absent is not a gap */
        tt_err fe;
        int frc;
        if (read_file(path, &file, &cap, &len))
            frc = read_error(&fe, path);
        else if ((frc = tt_bi5_decode_candles(file, len, cf.start, (uint8_t)tf, (uint8_t)side,
                                              ins->id, 0, &dec, &fe)) != TT_OK)
            tt_err_prefix(&fe, "%s: ", path);
        if (stops_import(frc)) {
            rc = frc;
            if (err)
                *err = fe;
            break;
        }
        if (frc) {
            st->files_bad++;
            report(o, "error: %s", fe.msg);
            if (!first_bad[0])
                snprintf(first_bad, first_bad_n, "%s", fe.msg);
            continue;
        }
        st->candle_files++;
        st->bytes_in += len;
        if (!w && dec.ev_len) {
            tt_stream_desc desc = {0};
            snprintf(desc.symbol, sizeof desc.symbol, "%s", ins->symbol);
            desc.kind = TT_STREAM_BAR;
            desc.tf = (uint8_t)tf;
            desc.side = (uint8_t)side;
            if ((rc = open_writer(o, tape, &desc, &w, err)) != TT_OK)
                break;
        }
        size_t skipped = 0;
        for (size_t i = 0; i < dec.ev_len; i++) {
            tt_event *e = &dec.ev[i];
            if (filter && (e->ts < from || e->ts >= to))
                continue;
            if (e->ts <= last_ts) {
                skipped++; /* a bar at or before the previous one: the stream cannot hold it */
                continue;
            }
            if ((rc = tt_tape_writer_append(w, e, err)) != TT_OK) {
                tt_err_prefix(err, "%s: ", path);
                break;
            }
            last_ts = e->ts;
        }
        if (skipped) {
            st->files_bad++;
            report(o, "error: %s: %zu candle(s) not after the previous one were skipped", path,
                   skipped);
            if (!first_bad[0])
                snprintf(first_bad, first_bad_n, "%s: %zu candle(s) out of order", path, skipped);
        }
    }
    tt_tape_writer_stats ws = {0};
    rc = close_writer(w, &ws, rc, err);
    st->bars_written += ws.added;
    st->bars_present += ws.duplicates;
    st->bars_conflicts += ws.conflicts;
    tt_bi5_buf_free(&dec);
    free(file);
    return rc;
}

/* Years, months with candle files (used when no range is given). */
static int scan_candle_range(const char *root, tt_ts *from, tt_ts *to)
{
    int y0, y1;
    if (!scan_numeric(root, 1970, 9999, &y0, &y1))
        return 0;
    *from = tt_ts_from_civil(y0, 1, 1, 0, 0, 0, 0);
    *to = tt_ts_from_civil(y1 + 1, 1, 1, 0, 0, 0, 0);
    return 1;
}

int tt_duka_import(const tt_duka_import_opts *o, const tt_instrument *ins,
                   tt_duka_import_stats *st, tt_err *err)
{
    memset(st, 0, sizeof *st);
    if (!o || !o->dir || !o->tape || !ins)
        return tt_err_set(err, TT_EINVAL, "dukascopy import: dir, tape and instrument are required");
    if (!is_dir(o->dir))
        return tt_err_set(err, TT_ENOTFOUND, "%s: no such directory", o->dir);
    char root[4096];
    snprintf(root, sizeof root, "%s/%s", o->dir, ins->symbol);
    if (!is_dir(root))
        return tt_err_set(err, TT_ENOTFOUND,
                          "%s: no such directory (the tree must hold SYMBOL/YYYY/MM/DD/HHh_ticks.bi5)",
                          root);
    tt_ts from = o->from, to = o->to;
    int ranged = !(from == 0 && to == 0);
    if (ranged && (from == 0 || to == 0)) {
        /* One end given: the other is the tree's (tick days, else candle years). */
        tt_ts f, t;
        if (!scan_tick_range(root, &f, &t) && !scan_candle_range(root, &f, &t))
            f = t = 0;
        if (from == 0)
            from = f;
        if (to == 0)
            to = t;
    }
    if (ranged && to <= from)
        return tt_err_set(err, TT_EINVAL, "dukascopy import: empty time range (--to must be after --from)");
    char first_bad[1024] = "";
    tt_tape *tape;
    tt_tape_open_opts to_ = {o->command ? o->command : "import dukascopy", o->wait, 1, o->report,
                             o->ctx};
    int rc = tt_tape_open(&tape, o->tape, &to_, err);
    if (rc)
        return rc;
    if (o->ticks) {
        tt_ts f = from, t = to;
        if (!ranged && !scan_tick_range(root, &f, &t))
            f = t = 0; /* no tick files at all */
        /* whole hours covering the range */
        f -= ((f % TT_NS_PER_HOUR) + TT_NS_PER_HOUR) % TT_NS_PER_HOUR;
        if (t % TT_NS_PER_HOUR)
            t += TT_NS_PER_HOUR - ((t % TT_NS_PER_HOUR) + TT_NS_PER_HOUR) % TT_NS_PER_HOUR;
        if (t > f)
            rc = import_ticks(o, tape, ins, f, t, st, first_bad, sizeof first_bad, err);
    }
    if (rc == TT_OK && o->candles) {
        tt_ts f = from, t = to;
        int have = ranged || scan_candle_range(root, &f, &t);
        static const int TFS[3] = {TT_TF_D1, TT_TF_H1, TT_TF_M1};
        for (int i = 0; have && rc == TT_OK && i < 3; i++)
            for (int side = TT_SIDE_BID; rc == TT_OK && side <= TT_SIDE_ASK; side++)
                rc = import_candle_stream(o, tape, ins, TFS[i], side, f, t, ranged, st,
                                          first_bad, sizeof first_bad, err);
    }
    tt_err e2;
    if (tt_tape_close(tape, &e2) && rc == TT_OK) {
        rc = e2.code;
        *err = e2;
    }
    if (rc)
        return rc;
    if (st->files_bad)
        return tt_err_set(err, TT_EPARTIAL, "%" PRIu64 " file(s) could not be imported (first: %s)",
                          st->files_bad, first_bad);
    uint64_t lost = tt_quality_lost(&st->quality);
    if (lost)
        return tt_err_set(err, TT_EPARTIAL,
                          "%" PRIu64 " tick(s) were quarantined as suspect prices or out of order "
                          "(counted in the quality table; 'ticktape tape export --quarantine' "
                          "lists them; --keep-suspect keeps suspect prices)", lost);
    if (!o->replace && (st->ticks_conflicts || st->bars_conflicts))
        return tt_err_set(err, TT_EPARTIAL,
                          "%" PRIu64 " tick(s) and %" PRIu64 " bar(s) conflicted with the tape "
                          "and were not written: the tape's were kept (--replace writes them)",
                          st->ticks_conflicts, st->bars_conflicts);
    return TT_OK;
}
