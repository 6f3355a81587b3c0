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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "data/download.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ticktape download dukascopy --symbol S --from D --to D --dir DIR [options]\n\n"
            "Downloads S's hour tick files BASE/S/YYYY/MM/DD/HHh_ticks.bi5 (MM from 00 =\n"
            "January) for the range into DIR with the same layout. Complete files are\n"
            "skipped (resume); a file is written as NAME.part and renamed when whole.\n"
            "5xx, 429 and 408 answers, timeouts and short bodies are retried with\n"
            "exponential backoff; 404 (no data for that hour) is reported as a gap.\n\n"
            "options:\n"
            "  --symbol S        symbol as in the URL (EURUSD)\n"
            "  --from D, --to D  range (ISO 8601); a date-only --to includes that day\n"
            "  --dir DIR         local root of the tree\n"
            "  --base-url URL    default %s\n"
            "  --jobs N          parallel requests (default 4)\n"
            "  --retries N       retries per file (default 5)\n"
            "  --timeout S       seconds per try (default 30)\n"
            "  --backoff-ms N    first retry delay, doubled each retry (default 500)\n"
            "  --candles         also fetch BID and ASK 1-minute candles of each day\n"
            "  --json            last line of stdout: a JSON summary\n",
            TT_DUKA_DEFAULT_BASE_URL);
}

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

static int parse_end(const char *s, int is_to, tt_ts *out)
{
    if (tt_ts_parse(s, out))
        return -1;
    if (is_to && strlen(s) == 10 && s[4] == '-' && s[7] == '-')
        *out += TT_NS_PER_DAY;
    return 0;
}

static int download_dukascopy(int argc, char **argv)
{
    static const char *const flags[] = {"json", "candles", "help", NULL};
    tt_download_opts o = {0};
    o.retries = -1;
    int json = 0, have_from = 0, have_to = 0;
    tt_opt op;
    tt_opt_init(&op, argc, argv);
    while (tt_opt_next(&op, flags)) {
        if (!op.name)
            return tt_usage_error("download dukascopy", "unexpected argument '%s'", op.value);
        if (tt_opt_is(&op, "help")) {
            usage(stdout);
            return TT_EXIT_OK;
        }
        if (tt_opt_is(&op, "json")) {
            json = 1;
            continue;
        }
        if (tt_opt_is(&op, "candles")) {
            o.candles = 1;
            continue;
        }
        if (!op.value)
            return tt_usage_error("download dukascopy", "--%s needs a value", op.name);
        uint64_t n;
        if (tt_opt_is(&op, "symbol")) o.symbol = op.value;
        else if (tt_opt_is(&op, "dir")) o.dir = op.value;
        else if (tt_opt_is(&op, "base-url")) o.base_url = op.value;
        else if (tt_opt_is(&op, "from") || tt_opt_is(&op, "to")) {
            int is_to = tt_opt_is(&op, "to");
            if (parse_end(op.value, is_to, is_to ? &o.to : &o.from))
                return tt_usage_error("download dukascopy", "--%s: '%s' is not a date or time",
                                      op.name, op.value);
            *(is_to ? &have_to : &have_from) = 1;
        } else if (tt_opt_is(&op, "jobs")) {
            if (tt_parse_u64(op.value, &n) || n < 1 || n > 64)
                return tt_usage_error("download dukascopy", "--jobs: expected 1..64");
            o.jobs = (int)n;
        } else if (tt_opt_is(&op, "retries")) {
            if (tt_parse_u64(op.value, &n) || n > 30)
                return tt_usage_error("download dukascopy", "--retries: expected 0..30");
            o.retries = (int)n;
        } else if (tt_opt_is(&op, "backoff-ms")) {
            if (tt_parse_u64(op.value, &n) || n < 1 || n > 600000)
                return tt_usage_error("download dukascopy", "--backoff-ms: expected 1..600000");
            o.backoff_ms = (long)n;
        } else if (tt_opt_is(&op, "timeout")) {
            char *end;
            double s = strtod(op.value, &end);
            if (end == op.value || *end || !(s > 0) || s > 3600)
                return tt_usage_error("download dukascopy", "--timeout: expected seconds in (0, 3600]");
            o.timeout_ms = (long)ceil(s * 1000);
        } else {
            return tt_usage_error("download dukascopy", "unknown option --%s", op.name);
        }
    }
    if (!o.symbol || !o.dir || !have_from || !have_to)
        return tt_usage_error("download dukascopy", "--symbol, --from, --to and --dir are required");
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
    int rc = tt_download_dukascopy(&o, &st, &err);
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
    if (json)
        printf("{\"symbol\":\"%s\",\"status\":\"%s\",\"files\":%" PRIu64 ",\"downloaded\":%" PRIu64
               ",\"skipped\":%" PRIu64 ",\"empty\":%" PRIu64 ",\"missing\":%" PRIu64
               ",\"gaps\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"retries\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"seconds\":%.6f}\n",
               o.symbol, rc == TT_OK ? "ok" : "partial", st.files, st.downloaded, st.skipped,
               st.empty, st.missing, st.gaps, st.failed, st.retries, st.bytes, secs);
    return code;
}

int tt_cmd_download(int argc, char **argv)
{
    if (argc < 2 || tt_is_help(argv[1])) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: ticktape download SOURCE [options]\n\nsources:\n"
                   "  dukascopy   Dukascopy bi5 tick (and candle) files\n\n"
                   "see 'ticktape download dukascopy --help'\n");
        return argc < 2 ? TT_EXIT_USAGE : TT_EXIT_OK;
    }
    if (!strcmp(argv[1], "dukascopy"))
        return download_dukascopy(argc - 1, argv + 1);
    fprintf(stderr, "ticktape download: unknown source '%s' (known: dukascopy)\n", argv[1]);
    return TT_EXIT_USAGE;
}
