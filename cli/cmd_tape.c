/*
 * `ticktape tape ...`: inspect, verify and export a tape.
 *
 * info and verify work from the block index and block payloads alone; export
 * streams quote ticks through the merged reader, so it runs in constant
 * memory whatever the span. A name that is a blob stream of the tape rather
 * than an instrument (an imported calendar) exports its events, each with its
 * payload (embedded when it is a JSON object, else as a string). Prices print as exact decimals at the
 * instrument's precision (integer arithmetic, never a double) and volumes as
 * the shortest decimal that reads back as the same float32 bits.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/decimal.h"
#include "data/hdf5_io.h"
#include "core/external.h"
#include "data/tape.h"

static void iso(tt_ts ts, char *buf, int n) { tt_ts_format(ts, buf, n, ts % TT_NS_PER_MS != 0); }

/* ---- info ---- */

typedef struct info_opts {
    const char *dir;
    int json;
} info_opts;

static const tt_opt INFO_OPTS[] = {
    {TT_OPT_ARG, .arg = "DIR", .off = offsetof(info_opts, dir), .flags = TT_OPT_REQUIRED,
     .help = "the tape directory"},
    {TT_OPT_FLAG, "json", .off = offsetof(info_opts, json),
     .help = "one JSON object: totals and a list of streams"},
    {TT_OPT_END},
};

static int tape_info(int argc, char **argv);

static const tt_cmd TAPE_INFO = {
    .name = "tape info",
    .summary = "streams, events, time ranges, bytes on disk, bytes per event",
    .run = tape_info,
    .opts = INFO_OPTS,
    .size = sizeof(info_opts),
    .about = "Reads the tape's block index (not the payloads) and prints, per stream (symbol\n"
             "and kind), the events, blocks, bytes, bytes per event and first and last event\n"
             "time, then the totals. A torn tail (an incomplete last block) is flagged.\n",
    .epilog = "exit codes: 0 read, 1 the tape cannot be read, 2 usage error\n",
};

static int tape_info(int argc, char **argv)
{
    info_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&TAPE_INFO, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    const char *dir = o.dir;
    int json = o.json;
    tt_tape_info info;
    tt_err err;
    if (tt_tape_info_read(dir, &info, &err))
        return tt_report_error(&err);
    char a[48], b[48];
    if (json) {
        iso(info.first, a, sizeof a);
        iso(info.last, b, sizeof b);
        printf("{\"tape\":\"%s\",\"events\":%llu,\"bytes\":%llu,\"bytes_per_event\":%.4f,"
               "\"first\":\"%s\",\"last\":\"%s\",\"torn\":%d,\"streams\":[",
               dir, (unsigned long long)info.events, (unsigned long long)info.bytes,
               info.events ? (double)info.bytes / (double)info.events : 0.0, a, b, info.torn);
        for (uint32_t i = 0; i < info.nstreams; i++) {
            tt_stream_info *s = &info.streams[i];
            char name[64];
            tt_stream_desc_name(&s->desc, name, sizeof name);
            iso(s->first, a, sizeof a);
            iso(s->last, b, sizeof b);
            printf("%s{\"symbol\":\"%s\",\"kind\":\"%s\",\"events\":%llu,\"blocks\":%llu,"
                   "\"segments\":%u,\"bytes\":%llu,\"bytes_per_event\":%.4f,\"first\":\"%s\","
                   "\"last\":\"%s\"",
                   i ? "," : "", s->desc.symbol, name, (unsigned long long)s->events,
                   (unsigned long long)s->blocks, s->segments, (unsigned long long)s->bytes,
                   s->events ? (double)s->bytes / (double)s->events : 0.0, a, b);
            if (s->desc.kind == TT_STREAM_BAR)
                printf(",\"timeframe\":\"%s\",\"side\":\"%s\"", tt_timeframe_name(s->desc.tf),
                       s->desc.side == TT_SIDE_BID ? "bid" : s->desc.side == TT_SIDE_ASK ? "ask" : "mid");
            putchar('}');
        }
        printf("]}\n");
    } else {
        printf("tape %s: %u stream(s), %llu events, %llu bytes (%.3f bytes/event)%s\n", dir,
               info.nstreams, (unsigned long long)info.events, (unsigned long long)info.bytes,
               info.events ? (double)info.bytes / (double)info.events : 0.0,
               info.torn ? "  [torn tail present: run 'tape verify']" : "");
        printf("%-10s %-12s %12s %8s %12s %9s  %-24s %-24s\n", "symbol", "kind", "events", "blocks",
               "bytes", "B/event", "first", "last");
        for (uint32_t i = 0; i < info.nstreams; i++) {
            tt_stream_info *s = &info.streams[i];
            char name[64];
            tt_stream_desc_name(&s->desc, name, sizeof name);
            iso(s->first, a, sizeof a);
            iso(s->last, b, sizeof b);
            printf("%-10s %-12s %12llu %8llu %12llu %9.3f  %-24s %-24s\n", s->desc.symbol, name,
                   (unsigned long long)s->events, (unsigned long long)s->blocks,
                   (unsigned long long)s->bytes,
                   s->events ? (double)s->bytes / (double)s->events : 0.0, a, b);
        }
    }
    tt_tape_info_free(&info);
    return TT_EXIT_OK;
}

/* ---- verify ---- */

static void print_problem(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ticktape: tape verify: %s\n", line);
}

typedef struct verify_opts {
    const char *dir;
} verify_opts;

static const tt_opt VERIFY_OPTS[] = {
    {TT_OPT_ARG, .arg = "DIR", .off = offsetof(verify_opts, dir), .flags = TT_OPT_REQUIRED,
     .help = "the tape directory"},
    {TT_OPT_END},
};

static int tape_verify(int argc, char **argv);

static const tt_cmd TAPE_VERIFY = {
    .name = "tape verify",
    .summary = "read and check every block; exit 0 when sound",
    .run = tape_verify,
    .opts = VERIFY_OPTS,
    .size = sizeof(verify_opts),
    .about = "Reads and checks every block of every segment (header and payload checksums,\n"
             "decoding, time order).\n",
    .epilog = "exit codes: 0 sound; 1 not, naming each bad file and block; 2 usage error\n",
};

static int tape_verify(int argc, char **argv)
{
    verify_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&TAPE_VERIFY, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    const char *dir = o.dir;
    tt_err err;
    uint64_t events = 0;
    rc = tt_tape_verify(dir, print_problem, NULL, &events, &err);
    if (rc) {
        fprintf(stderr, "ticktape: error: tape %s is not sound: %s\n", dir, err.msg);
        return TT_EXIT_FAIL;
    }
    printf("ok: %s: %llu events verified\n", dir, (unsigned long long)events);
    return TT_EXIT_OK;
}

/* ---- export ---- */

/* Shortest decimal that reads back as the same float32 (core/decimal.h). */
static void write_float32(FILE *f, float v)
{
    char buf[48];
    tt_float32_format(v, buf, sizeof buf);
    fputs(buf, f);
}

typedef struct export_opts {
    const char *dir, *symbol, *out, *ins_file;
    tt_ts from, to;
    int format; /* EXPORT_CSV, EXPORT_JSONL, EXPORT_HDF5 */
    int tfmt;   /* TT_TIME_* */
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
    {TT_OPT_END},
};

static int tape_export(int argc, char **argv);

static const tt_cmd TAPE_EXPORT = {
    .name = "tape export",
    .summary = "one symbol's quote ticks (or a blob stream's events) as CSV, JSON lines or HDF5",
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
              "exit codes: 0 exported, 1 failure, 2 usage error\n",
};

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

/* The events of a blob stream: time, type, value, payload. */
static int export_blob(const export_opts *o, FILE *f)
{
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    const char *syms[2] = {o->symbol, NULL};
    q.symbols = syms;
    q.kinds = 1u << TT_STREAM_BLOB;
    q.from = o->from;
    q.to = o->to;
    tt_err err;
    tt_tape_reader *r;
    if (tt_tape_reader_open(&r, o->dir, &q, NULL, &err))
        return tt_report_error(&err);
    int csv = o->format == EXPORT_CSV, s;
    if (csv)
        fputs("time,kind,type,value,payload\n", f);
    tt_event ev;
    while ((s = tt_tape_reader_next(r, &ev, &err)) == 1) {
        int has_blob = ev.kind == TT_EV_BLOB || ev.kind == TT_EV_EXTERNAL;
        const char *type = ev.kind == TT_EV_EXTERNAL ? tt_external_type_name(ev.u.blob.type) : "";
        if (csv) {
            tt_time_format_write(f, ev.ts, o->tfmt);
            fprintf(f, ",%s,%s,%.17g,", tt_event_kind_name(ev.kind), type,
                    has_blob ? ev.u.blob.value : 0.0);
        } else {
            fputs("{\"time\":", f);
            if (o->tfmt == TT_TIME_ISO) fputc('"', f);
            tt_time_format_write(f, ev.ts, o->tfmt);
            if (o->tfmt == TT_TIME_ISO) fputc('"', f);
            fprintf(f, ",\"kind\":\"%s\",\"type\":\"%s\",\"value\":%.17g,\"payload\":",
                    tt_event_kind_name(ev.kind), type, has_blob ? ev.u.blob.value : 0.0);
        }
        if (has_blob && ev.u.blob.len)
            write_payload(f, ev.u.blob.data, ev.u.blob.len, csv);
        else
            fputs(csv ? "" : "null", f);
        fputs(csv ? "\n" : "}\n", f);
    }
    for (int i = 0; i < tt_tape_reader_warning_count(r); i++)
        fprintf(stderr, "ticktape: warning: %s\n", tt_tape_reader_warning(r, i));
    tt_tape_reader_close(r);
    return s < 0 ? tt_report_error(&err) : TT_EXIT_OK;
}

static int tape_export(int argc, char **argv)
{
    export_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&TAPE_EXPORT, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    const char *dir = o.dir, *symbol = o.symbol, *out = o.out, *ins_file = o.ins_file;
    int fmt = o.format, tfmt = o.tfmt;
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    const char *syms[2] = {symbol, NULL};
    q.symbols = syms;
    q.kinds = 1u << TT_STREAM_QUOTE;
    q.from = o.from;
    q.to = o.to;
    tt_err err;
    tt_instruments *ins = tt_instruments_new();
    rc = TT_EXIT_OK;
    const tt_instrument *instr;
    if (ins_file && tt_instruments_load(ins, ins_file, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }
    if (fmt != EXPORT_HDF5 && !tt_instruments_find(ins, symbol) && is_blob_stream(dir, symbol)) {
        FILE *bf = out ? fopen(out, "w") : stdout;
        if (!bf) {
            tt_err_set(&err, TT_EIO, "%s: cannot create", out);
            rc = tt_report_error(&err);
            goto done;
        }
        rc = export_blob(&o, bf);
        if ((bf != stdout && fclose(bf)) || (bf == stdout && fflush(stdout)))
            rc = TT_EXIT_FAIL;
        goto done;
    }
    if (tt_instruments_require(ins, symbol, &instr, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }
    if (fmt == EXPORT_HDF5) {
        if (!out) {
            rc = tt_usage_error("tape export", "--format hdf5 needs -o FILE.h5");
            goto done;
        }
        q.kinds |= 1u << TT_STREAM_BAR;
        if (tt_hdf5_export(dir, &q, ins, out, &err))
            rc = tt_report_error(&err);
        goto done;
    }
    tt_tape_reader *r;
    if (tt_tape_reader_open(&r, dir, &q, ins, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }
    FILE *f = stdout;
    if (out && !(f = fopen(out, "w"))) {
        tt_err_set(&err, TT_EIO, "%s: cannot create", out);
        tt_tape_reader_close(r);
        rc = tt_report_error(&err);
        goto done;
    }
    tt_tape_info info;
    uint64_t total = 0;
    if (!tt_tape_info_read(dir, &info, NULL)) {
        for (uint32_t i = 0; i < info.nstreams; i++)
            if (info.streams[i].desc.kind == TT_STREAM_QUOTE &&
                tt_instruments_find(ins, info.streams[i].desc.symbol) == instr)
                total += info.streams[i].events;
        tt_tape_info_free(&info);
    }
    tt_progress pr;
    tt_progress_start(&pr, "export", total);
    if (fmt == EXPORT_CSV)
        fputs("time,bid,ask,bid_volume,ask_volume\n", f);
    tt_event ev;
    int s;
    uint64_t n = 0;
    char bid[40], ask[40];
    while ((s = tt_tape_reader_next(r, &ev, &err)) == 1) {
        tt_price_format(instr, ev.u.quote.bid, bid, sizeof bid);
        tt_price_format(instr, ev.u.quote.ask, ask, sizeof ask);
        if (fmt == EXPORT_CSV) {
            tt_time_format_write(f, ev.ts, tfmt);
            fprintf(f, ",%s,%s,", bid, ask);
            write_float32(f, ev.u.quote.bid_vol);
            fputc(',', f);
            write_float32(f, ev.u.quote.ask_vol);
            fputc('\n', f);
        } else {
            fputs("{\"time\":", f);
            if (tfmt == TT_TIME_ISO) fputc('"', f);
            tt_time_format_write(f, ev.ts, tfmt);
            if (tfmt == TT_TIME_ISO) fputc('"', f);
            fprintf(f, ",\"symbol\":\"%s\",\"bid\":%s,\"ask\":%s,\"bid_volume\":", instr->symbol, bid, ask);
            if (isnan(ev.u.quote.bid_vol)) fputs("null", f); else write_float32(f, ev.u.quote.bid_vol);
            fputs(",\"ask_volume\":", f);
            if (isnan(ev.u.quote.ask_vol)) fputs("null", f); else write_float32(f, ev.u.quote.ask_vol);
            fputs("}\n", f);
        }
        if ((++n & 0xffff) == 0)
            tt_progress_update(&pr, n);
    }
    tt_progress_finish(&pr);
    for (int i = 0; i < tt_tape_reader_warning_count(r); i++)
        fprintf(stderr, "ticktape: warning: %s\n", tt_tape_reader_warning(r, i));
    if (s < 0)
        rc = tt_report_error(&err);
    if (f != stdout && fclose(f)) {
        tt_err_set(&err, TT_EIO, "%s: write failed", out);
        rc = tt_report_error(&err);
    } else if (f == stdout && fflush(stdout)) {
        rc = TT_EXIT_FAIL;
    }
    tt_tape_reader_close(r);
done:
    tt_instruments_free(ins);
    return rc;
}

const tt_cmd tt_command_tape = {
    .name = "tape",
    .summary = "inspect, verify and export a tape (info, verify, export, gaps)",
    .about = "Look into a tape (docs/tape-format.md): what it holds, whether every block\n"
             "is sound, its ticks as text, and where its data has gaps.\n",
    .subs = (const tt_cmd *const[]){&TAPE_INFO, &TAPE_VERIFY, &TAPE_EXPORT, &tt_command_tape_gaps,
                                    NULL},
    .epilog = "T is ISO 8601 (2019-02-04, 2019-02-04T10:00:00.5Z) or an integer with a unit\n"
              "(1549238400000ms, ...ns, ...s). --from is inclusive, --to exclusive.\n",
};
