/*
 * `ticktape tape export`: one symbol's quote ticks, or (--quarantine) the
 * ticks its imports set aside, or a blob stream's events.
 *
 * Quotes stream through the merged reader, so the export runs in constant
 * memory whatever the span. Prices print as exact decimals at the
 * instrument's precision (integer arithmetic, never a double) and volumes as
 * the shortest decimal that reads back as the same float32 bits. The
 * quarantine stream holds records (data/quality.h: the rule, the action,
 * where the tick came from, the tick as it was received); they print with the
 * same formatting, a tick per line. A name that is a blob stream of the tape
 * rather than an instrument (an imported calendar) exports its events, each
 * with its payload (embedded when it is a JSON object, else as a string). A
 * damaged tape is an error unless --allow-partial (then exit 3, and said).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/decimal.h"
#include "core/external.h"
#include "data/hdf5_io.h"
#include "data/quality.h"
#include "data/tape.h"

/* Shortest decimal that reads back as the same float32 (core/decimal.h);
 * "nan" for NaN (JSON: null). */
static void write_float32(FILE *f, float v, int json)
{
    if (isnan(v)) {
        fputs(json ? "null" : "nan", f);
        return;
    }
    char buf[48];
    tt_float32_format(v, buf, sizeof buf);
    if (json && isinf(v))
        snprintf(buf, sizeof buf, "\"%s\"", v > 0 ? "inf" : "-inf");
    fputs(buf, f);
}

typedef struct export_opts {
    const char *dir, *symbol, *out, *ins_file;
    tt_ts from, to;
    int format; /* EXPORT_CSV, EXPORT_JSONL, EXPORT_HDF5 */
    int tfmt;   /* TT_TIME_* */
    int allow_partial, quarantine;
} export_opts;

enum { EXPORT_CSV, EXPORT_JSONL, EXPORT_HDF5 };

#define F(field) offsetof(export_opts, field)

static const tt_opt EXPORT_OPTS[] = {
    {TT_OPT_ARG, .arg = "DIR", .off = F(dir), .flags = TT_OPT_REQUIRED,
     .help = "the tape directory"},
    {TT_OPT_STRING, "symbol", .off = F(symbol), .arg = "S", .flags = TT_OPT_REQUIRED,
     .help = "the instrument whose quote ticks are exported, or a blob stream (calendar)"},
    {TT_OPT_TIME, "from", .off = F(from), .help = "start of the range (inclusive)"},
    {TT_OPT_TIME, "to", .off = F(to), .help = "end of the range (exclusive)"},
    {TT_OPT_ENUM, "format", .off = F(format), .values = (const char *const[]){"csv", "jsonl",
     "hdf5", NULL}, .def = "csv",
     .help = "CSV (time,bid,ask,bid_volume,ask_volume), JSON lines, or HDF5 (ticks and bars; "
             "docs/hdf5-layout.md; needs -o)"},
    {TT_OPT_ENUM, "time-format", .off = F(tfmt), .values = tt_time_format_names, .def = "iso",
     .help = "how times are written"},
    {TT_OPT_STRING, "output", .alias = 'o', .off = F(out), .arg = "FILE",
     .def_text = "stdout", .help = "write to FILE"},
    {TT_OPT_STRING, "instruments", .off = F(ins_file), .arg = "FILE",
     .help = "extra instrument declarations (docs/instruments.md)"},
    {TT_OPT_FLAG, "quarantine", .off = F(quarantine),
     .help = "the ticks imports set aside instead (suspect prices, duplicates, ...; CSV "
             "rule,action,origin,time,bid,ask,bid_volume,ask_volume; docs/data-quality.md)"},
    {TT_OPT_FLAG, "allow-partial", .off = F(allow_partial), .help = TT_ALLOW_PARTIAL_HELP},
    {TT_OPT_END},
};

static int tape_export(int argc, char **argv);

const tt_cmd tt_command_tape_export = {
    .name = "tape export",
    .summary = "one symbol's quote ticks (its quarantined ticks, a blob stream's events) as CSV, "
               "JSON lines or HDF5",
    .run = tape_export,
    .opts = EXPORT_OPTS,
    .size = sizeof(export_opts),
    .about = "Streams the symbol's quote ticks through the merged reader, in constant memory\n"
             "whatever the span. Prices print as exact decimals at the instrument's precision;\n"
             "volumes as the shortest decimal that reads back as the same float32.\n"
             "A blob stream (an imported calendar: --symbol calendar) exports its events:\n"
             "time, kind, type, value and the payload (JSON lines embed a JSON payload).\n",
    .epilog = "T is ISO 8601 (2019-02-04, 2019-02-04T10:00:00.5Z) or an integer with a unit\n"
              "(1549238400000ms, ...ns, ...s).\n\n"
              "exit codes: 0 exported, 3 --allow-partial on a damaged tape (what is left\n"
              "exported), 1 failure (a damaged tape, a symbol not on it), 2 usage error\n",
};

/* One quote: CSV fields, or a JSON object's members, after the time. */
static void write_quote(FILE *f, const tt_instrument *instr, const tt_event *ev, int jsonl)
{
    char bid[40], ask[40];
    tt_price_format(instr, ev->u.quote.bid, bid, sizeof bid);
    tt_price_format(instr, ev->u.quote.ask, ask, sizeof ask);
    fprintf(f, jsonl ? ",\"bid\":%s,\"ask\":%s,\"bid_volume\":" : ",%s,%s,", bid, ask);
    write_float32(f, ev->u.quote.bid_vol, jsonl);
    fputs(jsonl ? ",\"ask_volume\":" : ",", f);
    write_float32(f, ev->u.quote.ask_vol, jsonl);
}

static void write_time(FILE *f, tt_ts ts, int tfmt, int jsonl)
{
    int quoted = jsonl && tfmt == TT_TIME_ISO;
    if (quoted)
        fputc('"', f);
    tt_time_format_write(f, ts, tfmt);
    if (quoted)
        fputc('"', f);
}

/* The quote events of r, to f. *n gets the count. */
static int export_quotes(tt_tape_reader *r, FILE *f, const tt_instrument *instr, int fmt,
                         int tfmt, uint64_t total, uint64_t *n, tt_err *err)
{
    tt_progress pr;
    tt_progress_start(&pr, "export", total);
    if (fmt == EXPORT_CSV)
        fputs("time,bid,ask,bid_volume,ask_volume\n", f);
    tt_event ev;
    int s;
    *n = 0;
    while ((s = tt_tape_reader_next(r, &ev, err)) == 1) {
        if (fmt == EXPORT_CSV) {
            tt_time_format_write(f, ev.ts, tfmt);
        } else {
            fputs("{\"time\":", f);
            write_time(f, ev.ts, tfmt, 1);
            fprintf(f, ",\"symbol\":\"%s\"", instr->symbol);
        }
        write_quote(f, instr, &ev, fmt != EXPORT_CSV);
        fputs(fmt == EXPORT_CSV ? "\n" : "}\n", f);
        if ((++*n & 0xffff) == 0)
            tt_progress_update(&pr, *n);
    }
    tt_progress_finish(&pr);
    return s;
}

/* The quarantine records of r, to f, one tick per line. */
static int export_quarantine(tt_tape_reader *r, FILE *f, const tt_instrument *instr, int fmt,
                             int tfmt, uint64_t *n, tt_err *err)
{
    if (fmt == EXPORT_CSV)
        fputs("rule,action,origin,time,bid,ask,bid_volume,ask_volume\n", f);
    tt_event rec, ev;
    int s, rule, action;
    char origin[260];
    *n = 0;
    while ((s = tt_tape_reader_next(r, &rec, err)) == 1) {
        if ((s = tt_quality_record_read(&rec, &rule, &action, origin, sizeof origin, &ev, err)))
            return s;
        const char *rn = tt_quality_rule_name(rule), *an = action == 2 ? "drop" : "repair";
        if (fmt == EXPORT_CSV) {
            fprintf(f, "%s,%s,\"", rn, an);
            for (const char *p = origin; *p; p++)
                fprintf(f, *p == '"' ? "\"\"" : "%c", *p);
            fputs("\",", f);
            tt_time_format_write(f, ev.ts, tfmt);
        } else {
            fprintf(f, "{\"rule\":\"%s\",\"action\":\"%s\",\"origin\":\"", rn, an);
            for (const char *p = origin; *p; p++)
                fprintf(f, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
            fputs("\",\"time\":", f);
            write_time(f, ev.ts, tfmt, 1);
        }
        if (ev.kind == TT_EV_QUOTE) {
            write_quote(f, instr, &ev, fmt != EXPORT_CSV);
        } else {
            char px[40];
            tt_price_format(instr, ev.u.trade.price, px, sizeof px);
            fprintf(f, fmt == EXPORT_CSV ? ",%s,,%.17g," : ",\"price\":%s,\"size\":%.17g", px,
                    ev.u.trade.size);
        }
        fputs(fmt == EXPORT_CSV ? "\n" : "}\n", f);
        ++*n;
    }
    return s;
}

/* A payload that looks like one JSON object is embedded as it is. */
static int json_object_like(const uint8_t *p, uint32_t n)
{
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\n'))
        n--;
    return n >= 2 && p[0] == '{' && p[n - 1] == '}' && !memchr(p, '\n', n);
}

static void write_payload(FILE *f, const uint8_t *p, uint32_t n, int csv)
{
    if (!csv && json_object_like(p, n)) {
        fwrite(p, 1, n, f);
        return;
    }
    fputc('"', f);
    for (uint32_t i = 0; i < n; i++) {
        unsigned c = p[i];
        if (csv)
            c == '"' ? (void)fputs("\"\"", f) : (void)fputc((int)c, f);
        else if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc((int)c, f);
    }
    fputc('"', f);
}

/* 1 when the tape has a blob stream of that name (and no quote stream). */
static int is_blob_stream(const char *dir, const char *name)
{
    tt_tape_info info;
    int blob = 0, quote = 0;
    if (tt_tape_info_read(dir, &info, NULL))
        return 0;
    for (uint32_t i = 0; i < info.nstreams; i++) {
        if (strcmp(info.streams[i].desc.symbol, name))
            continue;
        blob |= info.streams[i].desc.kind == TT_STREAM_BLOB;
        quote |= info.streams[i].desc.kind == TT_STREAM_QUOTE;
    }
    tt_tape_info_free(&info);
    return blob && !quote;
}

/* The events of a blob stream (r), to f: time, kind, type, value, payload. */
static int export_blob(tt_tape_reader *r, FILE *f, int fmt, int tfmt, uint64_t *n, tt_err *err)
{
    int csv = fmt == EXPORT_CSV, s;
    if (csv)
        fputs("time,kind,type,value,payload\n", f);
    tt_event ev;
    *n = 0;
    while ((s = tt_tape_reader_next(r, &ev, err)) == 1) {
        int has_blob = ev.kind == TT_EV_BLOB || ev.kind == TT_EV_EXTERNAL;
        const char *type = ev.kind == TT_EV_EXTERNAL ? tt_external_type_name(ev.u.blob.type) : "";
        double value = has_blob ? ev.u.blob.value : 0.0;
        if (csv) {
            tt_time_format_write(f, ev.ts, tfmt);
            fprintf(f, ",%s,%s,%.17g,", tt_event_kind_name(ev.kind), type, value);
        } else {
            fputs("{\"time\":", f);
            write_time(f, ev.ts, tfmt, 1);
            fprintf(f, ",\"kind\":\"%s\",\"type\":\"%s\",\"value\":%.17g,\"payload\":",
                    tt_event_kind_name(ev.kind), type, value);
        }
        if (has_blob && ev.u.blob.len)
            write_payload(f, ev.u.blob.data, ev.u.blob.len, csv);
        else
            fputs(csv ? "" : "null", f);
        fputs(csv ? "\n" : "}\n", f);
        ++*n;
    }
    return s;
}

/* The quote events of the symbol on the tape (for the progress bar); for
 * --quarantine, whether it has a quarantine stream (-1 when not). */
static int64_t symbol_events(const char *dir, const tt_instruments *ins,
                             const tt_instrument *instr, int kind)
{
    tt_tape_info info;
    int64_t total = -1;
    if (!tt_tape_info_read(dir, &info, NULL)) {
        for (uint32_t i = 0; i < info.nstreams; i++)
            if (info.streams[i].desc.kind == kind &&
                tt_instruments_find(ins, info.streams[i].desc.symbol) == instr)
                total = (total < 0 ? 0 : total) + (int64_t)info.streams[i].events;
        tt_tape_info_free(&info);
    }
    return total;
}

static int export_hdf5(const export_opts *o, tt_tape_query *q, const tt_instruments *ins)
{
    tt_err err;
    if (!o->out)
        return tt_usage_error("tape export", "--format hdf5 needs -o FILE.h5");
    q->kinds |= 1u << TT_STREAM_BAR;
    int rc = tt_hdf5_export(o->dir, q, ins, o->out, &err);
    if (rc == TT_EPARTIAL) {
        fprintf(stderr, "ticktape: warning: %s\n", err.msg);
        return TT_EXIT_PARTIAL;
    }
    return rc ? tt_report_error(&err) : TT_EXIT_OK;
}

static int tape_export(int argc, char **argv)
{
    export_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&tt_command_tape_export, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    const char *syms[2] = {o.symbol, NULL};
    q.symbols = syms;
    q.kinds = 1u << (o.quarantine ? TT_STREAM_QUARANTINE : TT_STREAM_QUOTE);
    q.from = o.from;
    q.to = o.to;
    q.allow_partial = o.allow_partial;
    tt_err err;
    tt_instruments *ins = tt_instruments_new();
    const tt_instrument *instr;
    tt_tape_reader *r = NULL;
    FILE *f = stdout;
    uint64_t n = 0;
    int blob = 0;
    if (o.ins_file && tt_instruments_load(ins, o.ins_file, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }
    if (o.format != EXPORT_HDF5 && !o.quarantine && !tt_instruments_find(ins, o.symbol) &&
        is_blob_stream(o.dir, o.symbol)) {
        blob = 1;
        instr = NULL;
        q.kinds = 1u << TT_STREAM_BLOB;
    } else if (tt_instruments_require(ins, o.symbol, &instr, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }
    if (o.format == EXPORT_HDF5) {
        rc = o.quarantine ? tt_usage_error("tape export", "--quarantine exports CSV or JSON lines")
                          : export_hdf5(&o, &q, ins);
        goto done;
    }
    int kind = o.quarantine ? TT_STREAM_QUARANTINE : TT_STREAM_QUOTE;
    int64_t total = blob ? 0 : symbol_events(o.dir, ins, instr, kind);
    if (o.quarantine && total < 0 && symbol_events(o.dir, ins, instr, TT_STREAM_QUOTE) >= 0) {
        /* the symbol is on the tape and nothing of it was ever set aside */
        fputs(o.format == EXPORT_CSV ? "rule,action,origin,time,bid,ask,bid_volume,ask_volume\n"
                                     : "", stdout);
        fprintf(stderr, "ticktape: %s: nothing quarantined\n", instr->symbol);
        rc = TT_EXIT_OK;
        goto done;
    }
    if (tt_tape_reader_open(&r, o.dir, &q, blob ? NULL : ins, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }
    if (o.out && !(f = fopen(o.out, "w"))) {
        tt_err_set(&err, TT_EIO, "%s: cannot create", o.out);
        rc = tt_report_error(&err);
        goto done;
    }
    int s = blob         ? export_blob(r, f, o.format, o.tfmt, &n, &err)
            : o.quarantine ? export_quarantine(r, f, instr, o.format, o.tfmt, &n, &err)
                           : export_quotes(r, f, instr, o.format, o.tfmt,
                                           total > 0 ? (uint64_t)total : 0, &n, &err);
    rc = tt_reader_finish(r, n);
    if (s < 0)
        rc = tt_report_error(&err);
    if (f != stdout && fclose(f)) {
        tt_err_set(&err, TT_EIO, "%s: write failed", o.out);
        rc = tt_report_error(&err);
    } else if (f == stdout && fflush(stdout)) {
        rc = TT_EXIT_FAIL;
    }
done:
    tt_tape_reader_close(r);
    tt_instruments_free(ins);
    return rc;
}
