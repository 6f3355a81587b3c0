/*
 * The import pipeline shared by the text and HDF5 importers.
 *
 * How this works: streams live in a small array (an import touches a handful
 * of symbols), found by a linear search that first tries the stream used last,
 * so the per-row cost is a comparison. Each tick stream owns a tt_quality
 * filter; every stream owns a tape writer (none in a dry run). Bars are not
 * quotes, so the quality rules do not apply to them; instead a bar must be a
 * consistent OHLC and strictly later than the previous bar of its stream,
 * otherwise it is a bad row. No allocation per row: messages are formatted
 * into fixed buffers.
 *
 * Rows out of time order are sorted, not dropped: each stream's rows wait in
 * a buffer of up to sort_rows rows (default TT_IMPORT_SORT_ROWS; 112 bytes a
 * row, allocated as it fills). Rows that come in order cost a copy; when the
 * buffer is full, it is sorted by time (rows of one time keep their order)
 * if need be and its older half goes on to the quality filter and the tape.
 * So a file that fits the buffer is sorted whatever its order, and a longer
 * one whose rows are out of place by less than half the buffer is sorted
 * too; a row earlier than one that has already gone on fails the import,
 * naming its file and line. The buffers are emptied at the end of each file
 * (tt_import_end_file) and each writer flushed, so files may come in any
 * order: the tape writers merge each file's rows into what the tape holds.
 */
#include "text_import.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A row waiting in a stream's sort buffer: arrival numbers keep the order of
 * rows with one time. */
typedef struct pending {
    tt_event ev;
    long line;
    uint64_t arrival;
} pending;

typedef struct stream {
    tt_stream_desc desc;
    const tt_instrument *ins;
    tt_tape_writer *w;
    tt_tape_writer_stats ws; /* the writer's, when it was closed */
    tt_quality *q; /* tick streams only */
    uint64_t seq;
    uint64_t written;
    uint64_t rejected; /* bars only */
    tt_ts last_ts;
    int has_last;
    /* the sort buffer */
    pending *buf;
    size_t nbuf, capbuf;
    uint64_t arrivals;
    int sorted;     /* the buffer is in time order */
    tt_ts out_ts;   /* time of the last row that went on */
    int has_out;
} stream;

struct tt_import {
    tt_import_opts o;
    tt_tape *tape;
    tt_quality_config qc;
    stream **s;
    size_t n, cap, last;
    char file[512];
    char origin[600];
    long line; /* of the row going through the quality filter */
    tt_import_stats st;
    uint32_t logged;
    int closed;
};

/* Lines from the tape: conflicts, what recovery dropped. */
static void writer_report(void *ctx, const char *line)
{
    tt_import *im = ctx;
    if (im->o.log)
        fprintf(im->o.log, "%s\n", line);
}

int tt_import_new(tt_import **out, const tt_import_opts *o, tt_err *err)
{
    *out = NULL;
    if (!o || !o->instruments)
        return tt_err_set(err, TT_EINVAL, "import: no instrument table");
    tt_import *im = calloc(1, sizeof *im);
    if (!im)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    im->o = *o;
    if (!im->o.max_logged)
        im->o.max_logged = 20;
    if (!im->o.sort_rows)
        im->o.sort_rows = TT_IMPORT_SORT_ROWS;
    if (im->o.sort_rows < 2)
        im->o.sort_rows = 2;
    if (o->quality)
        im->qc = *o->quality;
    else
        tt_quality_config_default(&im->qc);
    strcpy(im->file, "-");
    if (o->tape) {
        tt_tape_open_opts to = {o->command ? o->command : "import", o->wait, 1, writer_report,
                                im};
        int rc = tt_tape_open(&im->tape, o->tape, &to, err);
        if (rc) {
            free(im);
            return rc;
        }
    }
    *out = im;
    return TT_OK;
}

const tt_instruments *tt_import_instruments(const tt_import *im)
{
    return im->o.instruments;
}

void tt_import_set_file(tt_import *im, const char *file)
{
    snprintf(im->file, sizeof im->file, "%s", file ? file : "-");
}

void tt_import_progress(tt_import *im, uint64_t file_bytes)
{
    if (im->o.progress)
        im->o.progress(im->o.progress_ctx, file_bytes);
}

void tt_import_count_row(tt_import *im)
{
    im->st.rows++;
}

void tt_import_count_skipped(tt_import *im)
{
    im->st.skipped_rows++;
}

void tt_import_bad(tt_import *im, long line, const char *fmt, ...)
{
    im->st.bad_rows++;
    if (!im->o.log)
        return;
    if (im->logged < im->o.max_logged) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(im->o.log, "%s:%ld: %s\n", im->file, line, msg);
    } else if (im->logged == im->o.max_logged) {
        fprintf(im->o.log, "%s: more bad rows follow; only the first %u are listed "
                "(all are counted in the summary)\n", im->file, im->o.max_logged);
    }
    im->logged++;
}

static int desc_eq(const tt_stream_desc *a, const tt_stream_desc *b)
{
    return a->kind == b->kind && a->tf == b->tf && a->side == b->side &&
           strcmp(a->symbol, b->symbol) == 0;
}

static int to_quarantine(void *ctx, int rule, int action, const char *origin,
                         const tt_event *orig, tt_err *err);

static int get_stream(tt_import *im, const tt_instrument *ins, const tt_stream_desc *d,
                      stream **out, tt_err *err)
{
    if (im->n && desc_eq(&im->s[im->last]->desc, d)) {
        *out = im->s[im->last];
        return TT_OK;
    }
    for (size_t i = 0; i < im->n; i++) {
        if (desc_eq(&im->s[i]->desc, d)) {
            im->last = i;
            *out = im->s[i];
            return TT_OK;
        }
    }
    if (im->closed)
        return tt_err_set(err, TT_ESTATE, "import: already closed");
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 8;
        stream **v = realloc(im->s, cap * sizeof *v);
        if (!v)
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        im->s = v;
        im->cap = cap;
    }
    /* one allocation per stream: a stream stays where it is while others are
     * added (a quality filter's sink adds a quarantine stream mid-tick) */
    stream *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    s->desc = *d;
    s->ins = ins;
    int rc;
    if (d->kind == TT_STREAM_QUOTE || d->kind == TT_STREAM_TRADE) {
        if ((rc = tt_quality_new(&s->q, &im->qc, ins, err))) {
            free(s);
            return rc;
        }
        tt_quality_set_sink(s->q, to_quarantine, im);
    }
    if (im->tape) {
        tt_tape_writer_opts wo = {0};
        if (im->o.tape_opts)
            wo = *im->o.tape_opts;
        wo.merge = 1;
        wo.replace = im->o.replace;
        wo.report = writer_report;
        wo.report_ctx = im;
        if (!wo.commit_blocks)
            wo.commit_blocks = TT_IMPORT_COMMIT_BLOCKS;
        if ((rc = tt_tape_writer_open_in(&s->w, im->tape, d, &wo, err))) {
            tt_quality_free(s->q);
            free(s);
            return rc;
        }
    }
    im->s[im->n] = s;
    im->last = im->n++;
    *out = s;
    return TT_OK;
}

static int append(tt_import *im, stream *s, tt_event *ev, tt_err *err);

/* The quality filters' sink: quarantined ticks to their symbol's quarantine
 * stream (from the filter's own stream: ev->symbol names the instrument),
 * stamped so that the stream's times never go back. */
static int to_quarantine(void *ctx, int rule, int action, const char *origin,
                         const tt_event *orig, tt_err *err)
{
    tt_import *im = ctx;
    (void)origin; /* the filter's origin is only kept with a quarantine file */
    const tt_instrument *ins = tt_instruments_get(im->o.instruments, orig->symbol);
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "%s", ins ? ins->symbol : "?");
    d.kind = TT_STREAM_QUARANTINE;
    stream *s;
    int rc = get_stream(im, ins, &d, &s, err);
    if (rc)
        return rc;
    s->last_ts = s->has_last && s->last_ts > orig->ts ? s->last_ts : orig->ts;
    char where[600];
    snprintf(where, sizeof where, "%s:%ld", im->file, im->line);
    uint8_t buf[TT_QUARANTINE_RECORD_MAX];
    tt_event rec;
    tt_quality_record(rule, action, where, orig, s->last_ts, buf, &rec);
    rc = append(im, s, &rec, err);
    im->st.quarantined += !rc;
    return rc;
}

static int append(tt_import *im, stream *s, tt_event *ev, tt_err *err)
{
    ev->symbol = s->ins ? s->ins->id : 0;
    ev->seq = s->seq++;
    if (s->w) {
        int rc = tt_tape_writer_append(s->w, ev, err);
        if (rc) {
            char name[64];
            tt_stream_desc_name(&s->desc, name, sizeof name);
            tt_err_prefix(err, "%s %s: ", s->desc.symbol, name);
            return rc;
        }
    }
    s->written++;
    s->last_ts = ev->ts;
    s->has_last = 1;
    (void)im;
    return TT_OK;
}

/* A tick in time order: the quality filter, then the tape. */
static int emit_tick(tt_import *im, stream *s, tt_event *ev, long line, tt_err *err)
{
    if (im->qc.quarantine) {
        /* The origin only appears in quarantine lines: without a quarantine file,
         * formatting it for every tick would be a fifth of the import's time. */
        snprintf(im->origin, sizeof im->origin, "%s:%ld", im->file, line);
        tt_quality_set_origin(s->q, im->origin);
    }
    int action = TT_QA_KEEP;
    im->line = line;
    int rc = tt_quality_check(s->q, ev, &action, err);
    if (rc)
        return rc;
    if (action == TT_QA_DROP)
        return TT_OK;
    if ((rc = append(im, s, ev, err)))
        return rc;
    im->st.ticks_written++;
    return TT_OK;
}

/* A bar in time order: checked, then the tape. */
static int emit_bar(tt_import *im, stream *s, tt_event *ev, long line, tt_err *err)
{
    const tt_bar *b = &ev->u.bar;
    const char *why = NULL;
    if (b->low <= 0)
        why = "non-positive price";
    else if (b->low > b->high)
        why = "low above high";
    else if (b->open < b->low || b->open > b->high)
        why = "open outside [low, high]";
    else if (b->close < b->low || b->close > b->high)
        why = "close outside [low, high]";
    else if (s->has_last && ev->ts <= s->last_ts)
        why = ev->ts == s->last_ts ? "duplicate bar time" : "bar earlier than the previous bar";
    if (why) {
        s->rejected++;
        char t[40];
        tt_ts_format(ev->ts, t, sizeof t, 0);
        tt_import_bad(im, line, "bar at %s rejected: %s", t, why);
        return TT_OK;
    }
    int rc = append(im, s, ev, err);
    if (!rc)
        im->st.bars_written++;
    return rc;
}

static int pending_cmp(const void *a, const void *b)
{
    const pending *x = a, *y = b;
    if (x->ev.ts != y->ev.ts)
        return x->ev.ts < y->ev.ts ? -1 : 1;
    return x->arrival < y->arrival ? -1 : x->arrival > y->arrival;
}

/* Send the k oldest rows of the stream's buffer on, in time order. */
static int sort_emit(tt_import *im, stream *s, size_t k, tt_err *err)
{
    if (!s->sorted && s->nbuf > 1)
        qsort(s->buf, s->nbuf, sizeof *s->buf, pending_cmp);
    s->sorted = 1;
    int rc = TT_OK;
    size_t i = 0;
    for (; i < k && !rc; i++) {
        pending *p = &s->buf[i];
        rc = s->desc.kind == TT_STREAM_BAR ? emit_bar(im, s, &p->ev, p->line, err)
                                           : emit_tick(im, s, &p->ev, p->line, err);
        s->out_ts = p->ev.ts;
        s->has_out = 1;
    }
    if (s->nbuf > i)
        memmove(s->buf, s->buf + i, (s->nbuf - i) * sizeof *s->buf);
    s->nbuf -= i;
    return rc;
}

/* A row into the stream's sort buffer (its older half goes on when full). */
static int sort_push(tt_import *im, stream *s, const tt_event *ev, long line, tt_err *err)
{
    if (s->has_out && ev->ts < s->out_ts) {
        char a[48], b[48];
        tt_ts_format(ev->ts, a, sizeof a, ev->ts % TT_NS_PER_MS != 0);
        tt_ts_format(s->out_ts, b, sizeof b, s->out_ts % TT_NS_PER_MS != 0);
        return tt_err_set(err, TT_EORDER,
                          "%s:%ld: a row at %s is earlier than rows already imported (up to %s): "
                          "the file is out of time order by more than the sort buffer holds "
                          "(%zu rows; --sort-buffer N, or sort the file first)",
                          im->file, line, a, b, im->o.sort_rows);
    }
    if (s->nbuf == s->capbuf) {
        size_t cap = s->capbuf ? s->capbuf * 2 : 1024;
        if (cap > im->o.sort_rows)
            cap = im->o.sort_rows;
        pending *nb = realloc(s->buf, cap * sizeof *nb);
        if (!nb)
            return tt_err_set(err, TT_ENOMEM, "out of memory for the sort buffer (%zu rows)",
                              cap);
        s->buf = nb;
        s->capbuf = cap;
    }
    if (s->nbuf == 0)
        s->sorted = 1;
    else if (ev->ts < s->buf[s->nbuf - 1].ev.ts)
        s->sorted = 0;
    pending *p = &s->buf[s->nbuf++];
    p->ev = *ev;
    p->line = line;
    p->arrival = s->arrivals++;
    if (s->nbuf < im->o.sort_rows)
        return TT_OK;
    return sort_emit(im, s, s->nbuf / 2, err);
}

int tt_import_tick(tt_import *im, const tt_instrument *ins, tt_event *ev, long line,
                   tt_err *err)
{
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "%s", ins->symbol);
    d.kind = ev->kind == TT_EV_TRADE ? TT_STREAM_TRADE : TT_STREAM_QUOTE;
    stream *s;
    int rc = get_stream(im, ins, &d, &s, err);
    if (rc)
        return rc;
    ev->ts_init = ev->ts;
    ev->cls = tt_event_class_of(ev->kind);
    ev->symbol = ins->id;
    return sort_push(im, s, ev, line, err);
}

int tt_import_bar(tt_import *im, const tt_instrument *ins, tt_event *ev, long line, tt_err *err)
{
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "%s", ins->symbol);
    d.kind = TT_STREAM_BAR;
    d.tf = ev->u.bar.tf;
    d.side = ev->u.bar.side;
    stream *s;
    int rc = get_stream(im, ins, &d, &s, err);
    if (rc)
        return rc;
    ev->ts_init = ev->ts;
    ev->cls = tt_event_class_of(TT_EV_BAR);
    return sort_push(im, s, ev, line, err);
}

int tt_import_end_file(tt_import *im, tt_err *err)
{
    int rc = TT_OK;
    for (size_t i = 0; i < im->n && !rc; i++) {
        stream *s = im->s[i];
        rc = sort_emit(im, s, s->nbuf, err);
        s->has_out = 0; /* the next file starts a new run */
        s->has_last = 0;
        if (!rc && s->w)
            rc = tt_tape_writer_flush(s->w, err);
    }
    return rc;
}

int tt_import_close(tt_import *im, tt_err *err)
{
    int first = im->closed ? TT_OK : tt_import_end_file(im, err);
    for (size_t i = 0; i < im->n; i++) {
        stream *s = im->s[i];
        if (!s->w)
            continue;
        tt_err e2;
        int rc = tt_tape_writer_flush(s->w, &e2); /* the last merge and commit */
        tt_tape_writer_stats_get(s->w, &s->ws);
        int rc2 = tt_tape_writer_close(s->w, rc ? NULL : &e2);
        s->w = NULL;
        if (!rc)
            rc = rc2;
        if (rc && !first) {
            first = rc;
            if (err)
                *err = e2;
        }
    }
    tt_err e3;
    if (im->tape && tt_tape_close(im->tape, &e3) && !first) {
        first = e3.code;
        if (err)
            *err = e3;
    }
    im->tape = NULL;
    im->closed = 1;
    return first;
}

void tt_import_get_stats(const tt_import *im, tt_import_stats *out)
{
    *out = im->st;
    memset(&out->quality, 0, sizeof out->quality);
    for (size_t i = 0; i < im->n; i++) {
        const stream *s = im->s[i];
        if (im->closed && im->o.tape) {
            /* what the tape got: new events, not the ones it held */
            if (s->desc.kind == TT_STREAM_BAR)
                out->bars_written -= s->written - s->ws.added;
            else if (s->desc.kind != TT_STREAM_QUARANTINE)
                out->ticks_written -= s->written - s->ws.added;
            out->present += s->ws.duplicates;
            out->conflicts += s->ws.conflicts;
        }
        if (im->s[i]->q) {
            tt_quality_counts c;
            tt_quality_get_counts(im->s[i]->q, &c);
            tt_quality_counts_add(&out->quality, &c);
        }
    }
}

void tt_import_print(const tt_import *im, FILE *f)
{
    for (size_t i = 0; i < im->n; i++) {
        const stream *s = im->s[i];
        char name[64], title[128];
        tt_stream_desc_name(&s->desc, name, sizeof name);
        snprintf(title, sizeof title, "%s %s", s->desc.symbol, name);
        if (s->q) {
            tt_quality_counts c;
            tt_quality_get_counts(s->q, &c);
            tt_quality_print(f, title, &c, &im->qc);
        } else if (s->desc.kind == TT_STREAM_QUARANTINE) {
            fprintf(f, "%s: %" PRIu64 " tick(s) quarantined (ticktape tape export --symbol %s "
                    "--quarantine)\n", title, s->written, s->desc.symbol);
        } else {
            fprintf(f, "%s: %" PRIu64 " bars written, %" PRIu64 " rejected\n", title,
                    im->closed && im->o.tape ? s->ws.added : s->written, s->rejected);
        }
    }
    tt_import_stats st;
    tt_import_get_stats(im, &st);
    fprintf(f,
            "rows: %" PRIu64 " read, %" PRIu64 " bad, %" PRIu64 " skipped (other symbols); "
            "written: %" PRIu64 " ticks, %" PRIu64 " bars; %" PRIu64 " already on the tape, %"
            PRIu64 " conflict(s)\n",
            st.rows, st.bad_rows, st.skipped_rows, st.ticks_written, st.bars_written, st.present,
            st.conflicts);
}

void tt_import_print_json(const tt_import *im, FILE *f)
{
    tt_import_stats st;
    tt_import_get_stats(im, &st);
    fprintf(f,
            "{\"rows\":%" PRIu64 ",\"bad_rows\":%" PRIu64 ",\"skipped_rows\":%" PRIu64
            ",\"ticks_written\":%" PRIu64 ",\"bars_written\":%" PRIu64 ",\"present\":%" PRIu64
            ",\"conflicts\":%" PRIu64 ",\"quarantined\":%" PRIu64 ",\"quality\":",
            st.rows, st.bad_rows, st.skipped_rows, st.ticks_written, st.bars_written, st.present,
            st.conflicts, st.quarantined);
    tt_quality_print_json(f, &st.quality, &im->qc);
    fputc('}', f);
}

void tt_import_free(tt_import *im)
{
    if (!im)
        return;
    for (size_t i = 0; i < im->n; i++) {
        if (im->s[i]->w)
            tt_tape_writer_close(im->s[i]->w, NULL);
        tt_quality_free(im->s[i]->q);
        free(im->s[i]->buf);
        free(im->s[i]);
    }
    tt_tape_close(im->tape, NULL);
    free(im->s);
    free(im);
}
