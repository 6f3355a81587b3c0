/*
 * `ticktape import SOURCE ...`: the import dispatcher and `import dukascopy`.
 *
 * The first word after `import` picks the source; polygon, csv, mt5 and hdf5
 * live in their own file (tt_cmd_import_polygon etc.). `import dukascopy`
 * wires data/dukascopy.c to the command line: it resolves the instrument
 * (built-in table plus --instruments FILE), the quality policy (--quality
 * KEY=VALUE, --quarantine FILE), prints gaps and bad files on stderr as they
 * are found, and ends with a summary and the table of quality counts per rule.
 * Exit codes: 0 all imported, 3 partial (some files bad: named on stderr),
 * 1 failure, 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/instrument.h"
#include "data/dukascopy.h"
#include "data/quality.h"

static void import_usage(FILE *f)
{
    fprintf(f, "usage: ticktape import SOURCE [options]\n\n"
               "sources:\n"
               "  dukascopy   a local tree of Dukascopy .bi5 files (ticks and candles)\n"
               "  polygon     Polygon.io flat files and aggregates\n"
               "  csv         generic CSV ticks or bars\n"
               "  mt5         MetaTrader 5 exported ticks or bars\n"
               "  hdf5        HDF5 tick or bar tables\n\n"
               "see 'ticktape import SOURCE --help'\n");
}

static void duka_usage(FILE *f)
{
    fprintf(f,
            "usage: ticktape import dukascopy --symbol S --dir DIR --tape TAPE [options]\n\n"
            "Imports DIR/S/YYYY/MM/DD/HHh_ticks.bi5 (MM from 00 = January) as quote ticks and\n"
            "the candle files found ({BID,ASK}_candles_min_1, _hour_1, _day_1) as bars.\n"
            "0-byte hours are hours without ticks; missing hours are reported as gaps; a\n"
            "corrupt or truncated file is named, skipped, and the exit code is 3 (partial).\n\n"
            "options:\n"
            "  --symbol S          instrument (built-in: FX majors and crosses, XAUUSD,\n"
            "                      XAGUSD, BTCUSD; others need --instruments)\n"
            "  --dir DIR           root of the Dukascopy tree (holds S/)\n"
            "  --tape TAPE         tape directory (created if needed; streams are appended)\n"
            "  --from D, --to D    time range (ISO 8601); a date-only --to includes that day;\n"
            "                      a missing end is the tree's: by default every day of the\n"
            "                      tree that has tick files\n"
            "  --instruments FILE  extra instrument declarations (docs/instruments.md)\n"
            "  --threads N         decoder threads (default: CPUs - 1, at least 1; the\n"
            "                      calling thread appends to the tape)\n"
            "  --no-candles        ticks only\n"
            "  --no-ticks          candles only\n"
            "  --quality K=V       data-quality setting (repeatable), see below\n"
            "  --quarantine FILE   write every dropped or repaired tick to FILE (CSV)\n"
            "  --json              last line of stdout: a JSON summary\n"
            "  --quiet             no gap lines on stderr (still counted)\n\n"
            "%s",
            tt_quality_config_help());
}

/* ---- shared by import sources: a date-only --to includes its day ---- */
static int parse_range_end(const char *s, int is_to, tt_ts *out)
{
    if (tt_ts_parse(s, out))
        return -1;
    if (is_to && strlen(s) == 10 && s[4] == '-' && s[7] == '-')
        *out += TT_NS_PER_DAY;
    return 0;
}

typedef struct duka_ctx {
    tt_progress prog;
    int quiet;
    uint64_t lines;
} duka_ctx;

static void duka_report(void *ctx, const char *line)
{
    duka_ctx *c = ctx;
    if (c->quiet && !strncmp(line, "gap:", 4))
        return;
    if (c->prog.enabled)
        fputc('\n', stderr);
    fprintf(stderr, "ticktape: %s\n", line);
    c->lines++;
}

static void duka_progress(void *ctx, uint64_t done, uint64_t total)
{
    duka_ctx *c = ctx;
    c->prog.total = total;
    tt_progress_update(&c->prog, done);
}

static int import_dukascopy(int argc, char **argv)
{
    static const char *const flags[] = {"json", "quiet", "no-candles", "no-ticks", "help", NULL};
    const char *symbol = NULL, *dir = NULL, *tape = NULL, *ifile = NULL;
    tt_quality_config qc;
    tt_quality_config_default(&qc);
    tt_duka_import_opts o = {0};
    o.ticks = 1;
    o.candles = 1;
    int json = 0;
    duka_ctx ctx = {0};
    tt_err err = {0};
    tt_opt op;
    tt_opt_init(&op, argc, argv);
    while (tt_opt_next(&op, flags)) {
        if (!op.name)
            return tt_usage_error("import dukascopy", "unexpected argument '%s'", op.value);
        if (tt_opt_is(&op, "help")) {
            duka_usage(stdout);
            return TT_EXIT_OK;
        }
        int needs = !(tt_opt_is(&op, "json") || tt_opt_is(&op, "quiet") ||
                      tt_opt_is(&op, "no-candles") || tt_opt_is(&op, "no-ticks"));
        if (needs && !op.value)
            return tt_usage_error("import dukascopy", "--%s needs a value", op.name);
        if (tt_opt_is(&op, "symbol")) symbol = op.value;
        else if (tt_opt_is(&op, "dir")) dir = op.value;
        else if (tt_opt_is(&op, "tape")) tape = op.value;
        else if (tt_opt_is(&op, "instruments")) ifile = op.value;
        else if (tt_opt_is(&op, "json")) json = 1;
        else if (tt_opt_is(&op, "quiet")) ctx.quiet = 1;
        else if (tt_opt_is(&op, "no-candles")) o.candles = 0;
        else if (tt_opt_is(&op, "no-ticks")) o.ticks = 0;
        else if (tt_opt_is(&op, "quarantine")) qc.quarantine = op.value;
        else if (tt_opt_is(&op, "from") || tt_opt_is(&op, "to")) {
            int is_to = tt_opt_is(&op, "to");
            if (parse_range_end(op.value, is_to, is_to ? &o.to : &o.from))
                return tt_usage_error("import dukascopy", "--%s: '%s' is not a date or time",
                                      op.name, op.value);
        } else if (tt_opt_is(&op, "threads")) {
            uint64_t n;
            if (tt_parse_u64(op.value, &n) || n < 1 || n > 64)
                return tt_usage_error("import dukascopy", "--threads: expected 1..64");
            o.threads = (int)n;
        } else if (tt_opt_is(&op, "quality")) {
            if (tt_quality_config_set(&qc, op.value, &err))
                return tt_usage_error("import dukascopy", "%s", err.msg);
        } else {
            return tt_usage_error("import dukascopy", "unknown option --%s", op.name);
        }
    }
    if (!symbol || !dir || !tape)
        return tt_usage_error("import dukascopy", "--symbol, --dir and --tape are required");
    if (!o.ticks && !o.candles)
        return tt_usage_error("import dukascopy", "--no-ticks and --no-candles leave nothing to do");

    tt_instruments *ins_table = tt_instruments_new();
    if (!ins_table) {
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        return tt_report_error(&err);
    }
    const tt_instrument *ins = NULL;
    if ((ifile && tt_instruments_load(ins_table, ifile, &err)) ||
        tt_instruments_require(ins_table, symbol, &ins, &err)) {
        tt_instruments_free(ins_table);
        return tt_report_error(&err);
    }

    o.dir = dir;
    o.tape = tape;
    o.quality = &qc;
    o.report = duka_report;
    o.progress = duka_progress;
    o.ctx = &ctx;
    tt_progress_start(&ctx.prog, "import", 0);
    tt_duka_import_stats st;
    double t0 = tt_wall_seconds();
    int rc = tt_duka_import(&o, ins, &st, &err);
    double secs = tt_wall_seconds() - t0;
    tt_progress_finish(&ctx.prog);

    int exit_code = TT_EXIT_OK;
    if (rc == TT_EPARTIAL) {
        fprintf(stderr, "ticktape: error: import partial: %s\n", err.msg);
        exit_code = TT_EXIT_PARTIAL;
    } else if (rc) {
        tt_report_error(&err);
        exit_code = TT_EXIT_FAIL;
    }
    if (rc == TT_OK || rc == TT_EPARTIAL) {
        FILE *out = stdout;
        fprintf(out,
                "%s: %" PRIu64 " hours, %" PRIu64 " tick files (%" PRIu64 " empty), %" PRIu64
                " missing in %" PRIu64 " gap(s), %" PRIu64 " bad file(s)\n",
                ins->symbol, st.hours, st.files, st.files_empty, st.hours_missing, st.gaps,
                st.files_bad);
        fprintf(out,
                "%" PRIu64 " ticks read, %" PRIu64 " written, %" PRIu64 " already on the tape; %" PRIu64
                " candle file(s), %" PRIu64 " bars written, %" PRIu64 " already on the tape; %.3f s "
                "(%.0f ticks/s)\n",
                st.ticks_read, st.ticks_written, st.ticks_present, st.candle_files, st.bars_written,
                st.bars_present, secs,
                secs > 0 ? (double)st.ticks_read / secs : 0.0);
        char title[64];
        snprintf(title, sizeof title, "%s quotes", ins->symbol);
        tt_quality_print(out, title, &st.quality, &qc);
        if (json) {
            fprintf(out,
                    "{\"symbol\":\"%s\",\"status\":\"%s\",\"hours\":%" PRIu64 ",\"files\":%" PRIu64
                    ",\"files_empty\":%" PRIu64 ",\"hours_missing\":%" PRIu64 ",\"gaps\":%" PRIu64
                    ",\"files_bad\":%" PRIu64 ",\"bytes_in\":%" PRIu64 ",\"ticks_read\":%" PRIu64
                    ",\"ticks_written\":%" PRIu64 ",\"ticks_present\":%" PRIu64
                    ",\"candle_files\":%" PRIu64 ",\"bars_written\":%" PRIu64
                    ",\"bars_present\":%" PRIu64 ",\"seconds\":%.6f,\"decode_seconds\":%.6f,"
                    "\"quality\":",
                    ins->symbol, rc == TT_OK ? "ok" : "partial", st.hours, st.files,
                    st.files_empty, st.hours_missing, st.gaps, st.files_bad, st.bytes_in,
                    st.ticks_read, st.ticks_written, st.ticks_present, st.candle_files,
                    st.bars_written, st.bars_present, secs,
                    st.decode_seconds);
            tt_quality_print_json(out, &st.quality, &qc);
            fputs("}\n", out);
        }
    }
    tt_instruments_free(ins_table);
    return exit_code;
}

int tt_cmd_import(int argc, char **argv)
{
    if (argc < 2) {
        import_usage(stderr);
        return TT_EXIT_USAGE;
    }
    const char *src = argv[1];
    if (tt_is_help(src)) {
        import_usage(stdout);
        return TT_EXIT_OK;
    }
    if (!strcmp(src, "dukascopy"))
        return import_dukascopy(argc - 1, argv + 1);
    if (!strcmp(src, "polygon"))
        return tt_cmd_import_polygon(argc - 1, argv + 1);
    if (!strcmp(src, "csv"))
        return tt_cmd_import_csv(argc - 1, argv + 1);
    if (!strcmp(src, "mt5"))
        return tt_cmd_import_mt5(argc - 1, argv + 1);
    if (!strcmp(src, "hdf5"))
        return tt_cmd_import_hdf5(argc - 1, argv + 1);
    fprintf(stderr, "ticktape import: unknown source '%s'\n\n", src);
    import_usage(stderr);
    return TT_EXIT_USAGE;
}
