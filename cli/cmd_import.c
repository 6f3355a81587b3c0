/*
 * `ticktape import SOURCE ...`: the import dispatcher and `import dukascopy`.
 *
 * The first word after `import` picks the source (tt_command_import's
 * subcommands); polygon, csv, mt5 and hdf5 live in cli/cmd_import_text.c, calendar in
 * cli/cmd_import_calendar.c. `import dukascopy`
 * wires data/dukascopy.c to the command line: it resolves the instrument
 * (built-in table plus --instruments FILE), the quality policy (--quality
 * KEY=VALUE, --quarantine FILE), prints gaps and bad files on stderr as they
 * are found, and ends with a summary and the table of quality counts per rule.
 * Exit codes: 0 all imported, 3 partial (some files bad: named on stderr),
 * 1 failure, 2 usage.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/instrument.h"
#include "data/dukascopy.h"
#include "data/quality.h"

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

typedef struct duka_cli {
    const char *symbol, *ifile;
    tt_duka_import_opts o; /* dir, tape, range, threads, ticks, candles */
    tt_quality_config qc;
    int json, quiet;
} duka_cli;

#define F(field) offsetof(duka_cli, field)

static const tt_opt DUKA_OPTS[] = {
    {TT_OPT_STRING, "symbol", .off = F(symbol), .arg = "S", .flags = TT_OPT_REQUIRED,
     .help = "instrument (built-in: FX majors and crosses, XAUUSD, XAGUSD, BTCUSD; others "
             "need --instruments)"},
    {TT_OPT_STRING, "dir", .off = F(o.dir), .arg = "DIR", .flags = TT_OPT_REQUIRED,
     .help = "root of the Dukascopy tree (holds S/)"},
    {TT_OPT_STRING, "tape", .off = F(o.tape), .arg = "TAPE", .flags = TT_OPT_REQUIRED,
     .help = "tape directory (created if needed; streams are appended)"},
    {TT_OPT_TIME, "from", .off = F(o.from), .arg = "D", .def_text = "the tree's first day",
     .help = "start of the range (ISO 8601)"},
    {TT_OPT_TIME, "to", .off = F(o.to), .arg = "D", .flags = TT_OPT_DAY_END,
     .def_text = "the tree's last day", .help = "end of the range; a date alone includes that day"},
    {TT_OPT_STRING, "instruments", .off = F(ifile), .arg = "FILE",
     .help = "extra instrument declarations (docs/instruments.md)"},
    {TT_OPT_INT, "threads", .off = F(o.threads), .arg = "N", .min = 1, .max = 64,
     .def_text = "CPUs - 1, at least 1",
     .help = "decoder threads (the calling thread appends to the tape)"},
    {TT_OPT_FLAG, "no-candles", .off = F(o.candles), .flags = TT_OPT_NEGATE,
     .help = "ticks only"},
    {TT_OPT_FLAG, "no-ticks", .off = F(o.ticks), .flags = TT_OPT_NEGATE,
     .help = "candles only"},
    {TT_OPT_INCLUDE, .include = tt_quality_opts, .off = F(qc)},
    {TT_OPT_FLAG, "json", .off = F(json), .help = "last line of stdout: a JSON summary"},
    {TT_OPT_FLAG, "quiet", .off = F(quiet), .help = "no gap lines on stderr (still counted)"},
    {TT_OPT_END},
};

static const tt_opt_rule DUKA_RULES[] = {
    {TT_RULE_EXCLUSIVE, {"no-ticks", "no-candles"},
     "--no-ticks and --no-candles leave nothing to do"},
    {TT_RULE_END},
};

static int import_dukascopy(int argc, char **argv);

static const tt_cmd IMPORT_DUKASCOPY = {
    .name = "import dukascopy",
    .summary = "a local tree of Dukascopy .bi5 files (ticks and candles)",
    .run = import_dukascopy,
    .opts = DUKA_OPTS,
    .size = sizeof(duka_cli),
    .rules = DUKA_RULES,
    .about = "Imports DIR/S/YYYY/MM/DD/HHh_ticks.bi5 (MM from 00 = January) as quote ticks and\n"
             "the candle files found ({BID,ASK}_candles_min_1, _hour_1, _day_1) as bars.\n"
             "0-byte hours are hours without ticks; missing hours are reported as gaps; a\n"
             "corrupt or truncated file is named, skipped, and the exit code is 3 (partial).\n",
    .epilog = "exit codes: 0 all imported, 3 partial (some files bad: named on stderr),\n"
              "1 failure, 2 usage error\n",
    .more = tt_quality_config_help,
};

const tt_cmd tt_command_import = {
    .name = "import",
    .summary = "import history into a tape (dukascopy, polygon, csv, mt5, hdf5, calendar)",
    .about = "Import history into a tape (docs/tape-format.md): each source is a\n"
             "subcommand with its own options (docs/data-import.md, docs/data-dukascopy.md).\n"
             "Imports check the data as they go (docs/data-quality.md).\n",
    .subs = (const tt_cmd *const[]){&IMPORT_DUKASCOPY, &tt_command_import_polygon,
                                    &tt_command_import_csv, &tt_command_import_mt5,
                                    &tt_command_import_hdf5, &tt_command_import_calendar, NULL},
};

static int import_dukascopy(int argc, char **argv)
{
    duka_cli a;
    memset(&a, 0, sizeof a);
    tt_quality_config_default(&a.qc);
    a.o.ticks = 1;
    a.o.candles = 1;
    int rc = tt_opts_parse(&IMPORT_DUKASCOPY, &a, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    const char *symbol = a.symbol, *ifile = a.ifile;
    tt_duka_import_opts o = a.o;
    int json = a.json;
    duka_ctx ctx = {0};
    ctx.quiet = a.quiet;
    tt_err err = {0};

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

    o.quality = &a.qc;
    o.report = duka_report;
    o.progress = duka_progress;
    o.ctx = &ctx;
    tt_progress_start(&ctx.prog, "import", 0);
    tt_duka_import_stats st;
    double t0 = tt_wall_seconds();
    rc = tt_duka_import(&o, ins, &st, &err);
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
        tt_quality_print(out, title, &st.quality, &a.qc);
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
            tt_quality_print_json(out, &st.quality, &a.qc);
            fputs("}\n", out);
        }
    }
    tt_instruments_free(ins_table);
    return exit_code;
}
