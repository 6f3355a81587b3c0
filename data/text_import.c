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
 */
#include "text_import.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct stream {
    tt_stream_desc desc;
    const tt_instrument *ins;
    tt_tape_writer *w;
    tt_quality *q; /* tick streams only */
    uint64_t seq;
    uint64_t written;
    uint64_t rejected; /* bars only */
    tt_ts last_ts;
    int has_last;
} stream;

struct tt_import {
    tt_import_opts o;
    tt_quality_config qc;
    stream *s;
    size_t n, cap, last;
    char file[512];
    char origin[600];
    tt_import_stats st;
    uint32_t logged;
    int closed;
};

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
    if (o->quality)
        im->qc = *o->quality;
    else
        tt_quality_config_default(&im->qc);
    strcpy(im->file, "-");
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

static int get_stream(tt_import *im, const tt_instrument *ins, const tt_stream_desc *d,
                      stream **out, tt_err *err)
{
    if (im->n && desc_eq(&im->s[im->last].desc, d)) {
        *out = &im->s[im->last];
        return TT_OK;
    }
    for (size_t i = 0; i < im->n; i++) {
        if (desc_eq(&im->s[i].desc, d)) {
            im->last = i;
            *out = &im->s[i];
            return TT_OK;
        }
    }
    if (im->closed)
        return tt_err_set(err, TT_ESTATE, "import: already closed");
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 8;
        stream *v = realloc(im->s, cap * sizeof *v);
        if (!v)
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        im->s = v;
        im->cap = cap;
    }
    stream *s = &im->s[im->n];
    memset(s, 0, sizeof *s);
    s->desc = *d;
    s->ins = ins;
    int rc;
    if (d->kind == TT_STREAM_QUOTE || d->kind == TT_STREAM_TRADE) {
        if ((rc = tt_quality_new(&s->q, &im->qc, ins, err)))
            return rc;
    }
    if (im->o.tape) {
        if ((rc = tt_tape_writer_open(&s->w, im->o.tape, d, im->o.tape_opts, err))) {
            tt_quality_free(s->q);
            return rc;
        }
        if (tt_tape_writer_repaired(s->w) && im->o.log)
            fprintf(im->o.log, "%s\n", err ? err->msg : "torn tail repaired");
    }
    im->last = im->n++;
    *out = s;
    return TT_OK;
}

static int append(tt_import *im, stream *s, tt_event *ev, tt_err *err)
{
    ev->symbol = s->ins->id;
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
    if (im->qc.quarantine) {
        /* The origin only appears in quarantine lines: without a quarantine file,
         * formatting it for every tick would be a fifth of the import's time. */
        snprintf(im->origin, sizeof im->origin, "%s:%ld", im->file, line);
        tt_quality_set_origin(s->q, im->origin);
    }
    int action = TT_QA_KEEP;
    rc = tt_quality_check(s->q, ev, &action, err);
    if (rc)
        return rc;
    if (action == TT_QA_DROP)
        return TT_OK;
    if ((rc = append(im, s, ev, err)))
        return rc;
    im->st.ticks_written++;
    return TT_OK;
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
    ev->ts_init = ev->ts;
    ev->cls = tt_event_class_of(TT_EV_BAR);
    if ((rc = append(im, s, ev, err)))
        return rc;
    im->st.bars_written++;
    return TT_OK;
}

int tt_import_close(tt_import *im, tt_err *err)
{
    int first = TT_OK;
    for (size_t i = 0; i < im->n; i++) {
        if (im->s[i].w) {
            tt_err e2;
            int rc = tt_tape_writer_close(im->s[i].w, &e2);
            im->s[i].w = NULL;
            if (rc && !first) {
                first = rc;
                if (err)
                    *err = e2;
            }
        }
    }
    im->closed = 1;
    return first;
}

void tt_import_get_stats(const tt_import *im, tt_import_stats *out)
{
    *out = im->st;
    memset(&out->quality, 0, sizeof out->quality);
    for (size_t i = 0; i < im->n; i++) {
        if (im->s[i].q) {
            tt_quality_counts c;
            tt_quality_get_counts(im->s[i].q, &c);
            tt_quality_counts_add(&out->quality, &c);
        }
    }
}

void tt_import_print(const tt_import *im, FILE *f)
{
    for (size_t i = 0; i < im->n; i++) {
        const stream *s = &im->s[i];
        char name[64], title[128];
        tt_stream_desc_name(&s->desc, name, sizeof name);
        snprintf(title, sizeof title, "%s %s", s->desc.symbol, name);
        if (s->q) {
            tt_quality_counts c;
            tt_quality_get_counts(s->q, &c);
            tt_quality_print(f, title, &c, &im->qc);
        } else {
            fprintf(f, "%s: %" PRIu64 " bars written, %" PRIu64 " rejected\n", title, s->written,
                    s->rejected);
        }
    }
    fprintf(f,
            "rows: %" PRIu64 " read, %" PRIu64 " bad, %" PRIu64 " skipped (other symbols); "
            "written: %" PRIu64 " ticks, %" PRIu64 " bars\n",
            im->st.rows, im->st.bad_rows, im->st.skipped_rows, im->st.ticks_written,
            im->st.bars_written);
}

void tt_import_print_json(const tt_import *im, FILE *f)
{
    tt_import_stats st;
    tt_import_get_stats(im, &st);
    fprintf(f,
            "{\"rows\":%" PRIu64 ",\"bad_rows\":%" PRIu64 ",\"skipped_rows\":%" PRIu64
            ",\"ticks_written\":%" PRIu64 ",\"bars_written\":%" PRIu64 ",\"quality\":",
            st.rows, st.bad_rows, st.skipped_rows, st.ticks_written, st.bars_written);
    tt_quality_print_json(f, &st.quality, &im->qc);
    fputc('}', f);
}

void tt_import_free(tt_import *im)
{
    if (!im)
        return;
    for (size_t i = 0; i < im->n; i++) {
        if (im->s[i].w)
            tt_tape_writer_close(im->s[i].w, NULL);
        tt_quality_free(im->s[i].q);
    }
    free(im->s);
    free(im);
}
