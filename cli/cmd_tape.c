/*
 * `ticktape tape ...`: inspect, verify and export a tape.
 *
 * info and verify work from the block index and block payloads alone; export
 * streams quote ticks through the merged reader, so it runs in constant
 * memory whatever the span. Prices print as exact decimals at the
 * instrument's precision (integer arithmetic, never a double) and volumes as
 * the shortest decimal that reads back as the same float32 bits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "data/hdf5_io.h"
#include "data/tape.h"

static const char *TAPE_USAGE =
    "usage: ticktape tape <subcommand> ...\n\n"
    "  info DIR [--json]            streams, events, time ranges, bytes on disk, bytes per event\n"
    "  verify DIR                   read and check every block; exit 0 when sound\n"
    "  export DIR --symbol S [--from T] [--to T] [--format csv|jsonl|hdf5]\n"
    "         [--time-format iso|epoch-ms|epoch-ns] [-o FILE] [--instruments FILE]\n"
    "                               quote ticks (CSV: time,bid,ask,bid_volume,ask_volume)\n"
    "  gaps DIR --symbol S --timeframe M1   missing intervals outside the weekend close\n\n"
    "T is ISO 8601 (2019-02-04, 2019-02-04T10:00:00.5Z) or an integer with a unit\n"
    "(1549238400000ms, ...ns, ...s). --from is inclusive, --to exclusive.\n";

static void iso(tt_ts ts, char *buf, int n) { tt_ts_format(ts, buf, n, ts % TT_NS_PER_MS != 0); }

/* ---- info ---- */

static int tape_info(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0;
    tt_opt o;
    static const char *const flags[] = {"json", "help", "h", NULL};
    tt_opt_init(&o, argc, argv);
    while (tt_opt_next(&o, flags)) {
        if (!o.name && !dir) dir = o.value;
        else if (tt_opt_is(&o, "json")) json = 1;
        else if (tt_opt_is(&o, "help") || tt_opt_is(&o, "h")) {
            fputs("usage: ticktape tape info DIR [--json]\n", stdout);
            return TT_EXIT_OK;
        } else return tt_usage_error("tape info", "unexpected argument '%s'", o.name ? o.name : o.value);
    }
    if (!dir)
        return tt_usage_error("tape info", "missing tape directory");
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

static int tape_verify(int argc, char **argv)
{
    if (argc >= 2 && tt_is_help(argv[1])) {
        fputs("usage: ticktape tape verify DIR\n\nReads and checks every block of every segment "
              "(header and payload checksums,\ndecoding, time order). Exit 0 when sound; "
              "otherwise 1, naming each bad file and block.\n",
              stdout);
        return TT_EXIT_OK;
    }
    if (argc != 2)
        return tt_usage_error("tape verify", "expected exactly one tape directory");
    tt_err err;
    uint64_t events = 0;
    int rc = tt_tape_verify(argv[1], print_problem, NULL, &events, &err);
    if (rc) {
        fprintf(stderr, "ticktape: error: tape %s is not sound: %s\n", argv[1], err.msg);
        return TT_EXIT_FAIL;
    }
    printf("ok: %s: %llu events verified\n", argv[1], (unsigned long long)events);
    return TT_EXIT_OK;
}

/* ---- export ---- */

/* Shortest decimal that reads back as the same float32. */
static void write_float32(FILE *f, float v)
{
    if (isnan(v)) {
        fputs("nan", f);
        return;
    }
    char buf[48];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)v);
        float back = strtof(buf, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    fputs(buf, f);
}

static int tape_export(int argc, char **argv)
{
    const char *dir = NULL, *symbol = NULL, *from_s = NULL, *to_s = NULL, *out = NULL;
    const char *format = "csv", *tfmt_s = "iso", *ins_file = NULL;
    tt_opt o;
    static const char *const flags[] = {"help", "h", NULL};
    tt_opt_init(&o, argc, argv);
    while (tt_opt_next(&o, flags)) {
        if (!o.name && !dir) dir = o.value;
        else if (tt_opt_is(&o, "symbol")) symbol = o.value;
        else if (tt_opt_is(&o, "from")) from_s = o.value;
        else if (tt_opt_is(&o, "to")) to_s = o.value;
        else if (tt_opt_is(&o, "format")) format = o.value;
        else if (tt_opt_is(&o, "time-format")) tfmt_s = o.value;
        else if (tt_opt_is(&o, "o") || tt_opt_is(&o, "output")) out = o.value;
        else if (tt_opt_is(&o, "instruments")) ins_file = o.value;
        else if (tt_opt_is(&o, "help") || tt_opt_is(&o, "h")) {
            fputs(TAPE_USAGE, stdout);
            return TT_EXIT_OK;
        } else
            return tt_usage_error("tape export", "unexpected argument '%s'", o.name ? o.name : o.value);
        if (o.name && !o.value && !tt_opt_is(&o, "help"))
            return tt_usage_error("tape export", "--%s needs a value", o.name);
    }
    if (!dir || !symbol)
        return tt_usage_error("tape export", "needs a tape directory and --symbol");
    int tfmt = tt_time_format_parse(tfmt_s);
    if (tfmt < 0)
        return tt_usage_error("tape export", "unknown --time-format '%s' (iso, epoch-ms, epoch-ns)", tfmt_s);
    int fmt = !strcmp(format, "csv") ? 0 : !strcmp(format, "jsonl") ? 1 : !strcmp(format, "hdf5") ? 2 : -1;
    if (fmt < 0)
        return tt_usage_error("tape export", "unknown --format '%s' (csv, jsonl, hdf5)", format);
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    const char *syms[2] = {symbol, NULL};
    q.symbols = syms;
    q.kinds = 1u << TT_STREAM_QUOTE;
    if (from_s && tt_ts_parse(from_s, &q.from))
        return tt_usage_error("tape export", "--from: cannot read time '%s'", from_s);
    if (to_s && tt_ts_parse(to_s, &q.to))
        return tt_usage_error("tape export", "--to: cannot read time '%s'", to_s);
    tt_err err;
    tt_instruments *ins = tt_instruments_new();
    int rc = TT_EXIT_OK;
    const tt_instrument *instr;
    if (ins_file && tt_instruments_load(ins, ins_file, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }
    if (tt_instruments_require(ins, symbol, &instr, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }
    if (fmt == 2) {
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
    if (fmt == 0)
        fputs("time,bid,ask,bid_volume,ask_volume\n", f);
    tt_event ev;
    int s;
    uint64_t n = 0;
    char bid[40], ask[40];
    while ((s = tt_tape_reader_next(r, &ev, &err)) == 1) {
        tt_price_format(instr, ev.u.quote.bid, bid, sizeof bid);
        tt_price_format(instr, ev.u.quote.ask, ask, sizeof ask);
        if (fmt == 0) {
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

int tt_cmd_tape(int argc, char **argv)
{
    if (argc < 2 || tt_is_help(argv[1])) {
        fputs(TAPE_USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? TT_EXIT_USAGE : TT_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "info")) return tape_info(argc - 1, argv + 1);
    if (!strcmp(sub, "verify")) return tape_verify(argc - 1, argv + 1);
    if (!strcmp(sub, "export")) return tape_export(argc - 1, argv + 1);
    if (!strcmp(sub, "gaps")) return tt_cmd_tape_gaps(argc - 1, argv + 1);
    return tt_usage_error("tape", "unknown subcommand '%s' (info, verify, export, gaps)", sub);
}
