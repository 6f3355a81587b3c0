/*
 * `ticktape download dukascopy ...`: fetch Dukascopy bi5 files into a local
 * tree with data/download.c. Retries, gaps and failures are printed on stderr
 * as they happen; a progress bar with an ETA is shown when stderr is a
 * terminal; the command ends with a summary (and --json, a JSON line).
 * Exit codes: 0 every file complete (or absent on the server: a gap),
 * 3 some files failed after their retries, 1 failure, 2 usage.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "data/download.h"

typedef struct dctx {
    tt_progress prog;
} dctx;

static void on_report(void *ctx, const char *line)
{
    dctx *c = ctx;
    if (c->prog.enabled)
        fputc('\n', stderr);
    fprintf(stderr, "ticktape: %s\n", line);
}

static void on_progress(void *ctx, uint64_t settled, uint64_t total, uint64_t bytes)
{
    (void)bytes;
    dctx *c = ctx;
    c->prog.total = total;
    tt_progress_update(&c->prog, settled);
}

typedef struct download_cli {
    tt_download_opts o; /* symbol, dir, base_url, range, jobs, retries, candles */
    double timeout;     /* seconds */
    int backoff_ms;
    int json;
} download_cli;

#define F(field) offsetof(download_cli, field)

static const tt_opt DUKA_OPTS[] = {
    {TT_OPT_STRING, "symbol", .off = F(o.symbol), .arg = "S", .flags = TT_OPT_REQUIRED,
     .help = "symbol as in the URL (EURUSD)"},
    {TT_OPT_TIME, "from", .off = F(o.from), .arg = "D", .flags = TT_OPT_REQUIRED,
     .help = "start of the range (ISO 8601)"},
    {TT_OPT_TIME, "to", .off = F(o.to), .arg = "D", .flags = TT_OPT_REQUIRED | TT_OPT_DAY_END,
     .help = "end of the range; a date alone includes that day"},
    {TT_OPT_STRING, "dir", .off = F(o.dir), .arg = "DIR", .flags = TT_OPT_REQUIRED,
     .help = "local root of the tree"},
    {TT_OPT_STRING, "base-url", .off = F(o.base_url), .arg = "URL",
     .def_text = TT_DUKA_DEFAULT_BASE_URL, .help = "the server's tree"},
    {TT_OPT_INT, "jobs", .off = F(o.jobs), .arg = "N", .min = 1, .max = 64, .def = "4",
     .help = "parallel requests"},
    {TT_OPT_INT, "retries", .off = F(o.retries), .arg = "N", .min = 0, .max = 30, .def = "5",
     .help = "retries per file"},
    {TT_OPT_DOUBLE, "timeout", .off = F(timeout), .arg = "S", .min = 0, .max = 3600,
     .flags = TT_OPT_MIN_OPEN, .def = "30", .help = "seconds per try"},
    {TT_OPT_INT, "backoff-ms", .off = F(backoff_ms), .arg = "N", .min = 1, .max = 600000,
     .def = "500", .help = "first retry delay in milliseconds, doubled each retry"},
    {TT_OPT_FLAG, "candles", .off = F(o.candles),
     .help = "also fetch BID and ASK 1-minute candles of each day"},
    {TT_OPT_FLAG, "json", .off = F(json), .help = "last line of stdout: a JSON summary"},
    {TT_OPT_END},
};

static int download_dukascopy(int argc, char **argv);

static const tt_cmd DOWNLOAD_DUKASCOPY = {
    .name = "download dukascopy",
    .summary = "Dukascopy bi5 tick (and candle) files",
    .run = download_dukascopy,
    .opts = DUKA_OPTS,
    .size = sizeof(download_cli),
    .about = "Downloads S's hour tick files BASE/S/YYYY/MM/DD/HHh_ticks.bi5 (MM from 00 =\n"
             "January) for the range into DIR with the same layout. Complete files are\n"
             "skipped (resume); a file is written as NAME.part and renamed when whole.\n"
             "5xx, 429 and 408 answers, timeouts and short bodies are retried with\n"
             "exponential backoff; 404 (no data for that hour) is reported as a gap.\n",
    .epilog = "exit codes: 0 every file complete (or absent on the server: a gap), 3 some\n"
              "files failed after their retries, 1 failure, 2 usage error\n",
};

const tt_cmd tt_command_download = {
    .name = "download",
    .summary = "download history files (download dukascopy)",
    .about = "Download history files from a data vendor into a local tree, to import\n"
             "into a tape next (docs/data-dukascopy.md); each vendor is a subcommand.\n",
    .subs = (const tt_cmd *const[]){&DOWNLOAD_DUKASCOPY, NULL},
};

static int download_dukascopy(int argc, char **argv)
{
    download_cli a;
    memset(&a, 0, sizeof a);
    int rc = tt_opts_parse(&DOWNLOAD_DUKASCOPY, &a, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    tt_download_opts o = a.o;
    o.timeout_ms = (long)ceil(a.timeout * 1000);
    o.backoff_ms = a.backoff_ms;
    if (o.to <= o.from)
        return tt_usage_error("download dukascopy", "--to must be after --from");

    dctx ctx = {0};
    o.report = on_report;
    o.progress = on_progress;
    o.ctx = &ctx;
    tt_progress_start(&ctx.prog, "download", 0);
    tt_download_stats st;
    tt_err err = {0};
    double t0 = tt_wall_seconds();
    rc = tt_download_dukascopy(&o, &st, &err);
    double secs = tt_wall_seconds() - t0;
    tt_progress_finish(&ctx.prog);
    int code = TT_EXIT_OK;
    if (rc == TT_EPARTIAL) {
        fprintf(stderr, "ticktape: error: download partial: %s\n", err.msg);
        code = TT_EXIT_PARTIAL;
    } else if (rc) {
        return tt_report_error(&err);
    }
    printf("%s: %" PRIu64 " files: %" PRIu64 " downloaded, %" PRIu64 " already complete, %" PRIu64
           " empty, %" PRIu64 " not on the server (%" PRIu64 " gap(s)), %" PRIu64 " failed; %" PRIu64
           " retries, %" PRIu64 " bytes in %.2f s\n",
           o.symbol, st.files, st.downloaded, st.skipped, st.empty, st.missing, st.gaps, st.failed,
           st.retries, st.bytes, secs);
    if (a.json)
        printf("{\"symbol\":\"%s\",\"status\":\"%s\",\"files\":%" PRIu64 ",\"downloaded\":%" PRIu64
               ",\"skipped\":%" PRIu64 ",\"empty\":%" PRIu64 ",\"missing\":%" PRIu64
               ",\"gaps\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"retries\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"seconds\":%.6f}\n",
               o.symbol, rc == TT_OK ? "ok" : "partial", st.files, st.downloaded, st.skipped,
               st.empty, st.missing, st.gaps, st.failed, st.retries, st.bytes, secs);
    return code;
}
