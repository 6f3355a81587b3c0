/*
 * `ticktape import calendar FILE --tape T`: an economic calendar (Forex
 * Factory CSV) into a tape as EXTERNAL events (data/calendar.h has the
 * rules). Bad rows are named on stderr as FILE:LINE: why (the first
 * --max-errors, all counted); the summary gives the counts per impact.
 * Exit codes: 0 every row imported, 3 some rows were bad (the rest was
 * imported), 1 failure, 2 usage.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "data/calendar.h"
#include "data/csv_import.h"

typedef struct cal_cli {
    const char *file, *tape, *stream, *source;
    tt_ts offset;
    uint64_t max_errors;
    int json;
    uint64_t reported;
} cal_cli;

static int opt_offset(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    if (tt_csv_offset_parse(value, tt_opt_field(opts, o)))
        return tt_err_set(err, TT_EINVAL, "--%s: expected e.g. +08:00, got '%s'", o->name, value);
    return TT_OK;
}

#define F(field) offsetof(cal_cli, field)

static const tt_opt CAL_OPTS[] = {
    {TT_OPT_ARG, .arg = "FILE", .off = F(file), .flags = TT_OPT_REQUIRED,
     .help = "the calendar CSV (Date,Time,Currency,Event,Impact,Actual,Forecast,Previous)"},
    {TT_OPT_STRING, "tape", .off = F(tape), .arg = "DIR", .flags = TT_OPT_REQUIRED,
     .help = "tape to import into (created if needed)"},
    {TT_OPT_STRING, "stream", .off = F(stream), .arg = "NAME", .def = TT_CALENDAR_STREAM,
     .help = "the blob stream the events go to (a scenario's data.external names it)"},
    {TT_OPT_CUSTOM, "utc-offset", .off = F(offset), .arg = "OFF", .set = opt_offset,
     .def = "+08:00",
     .help = "the file's clock is UTC+OFF, all year (the Forex Factory scrape: +08:00)"},
    {TT_OPT_STRING, "source", .off = F(source), .arg = "NAME", .def = "forexfactory",
     .help = "the events' source field"},
    {TT_OPT_UINT, "max-errors", .off = F(max_errors), .arg = "N", .min = 1, .max = 1000000,
     .def = "20", .help = "list at most N bad rows (all are counted)"},
    {TT_OPT_FLAG, "json", .off = F(json), .help = "last line of stdout: the counts as JSON"},
    {TT_OPT_END},
};

static int import_calendar(int argc, char **argv);

const tt_cmd tt_command_import_calendar = {
    .name = "import calendar",
    .summary = "an economic calendar (Forex Factory CSV) as external events",
    .run = import_calendar,
    .opts = CAL_OPTS,
    .size = sizeof(cal_cli),
    .about =
        "Each row becomes an EXTERNAL event (type economic_calendar) whose payload is the\n"
        "calendar message (docs/external.md): time in UTC, currency, event, impact, and\n"
        "actual / forecast / previous with their units parsed (312K is 312000, 3.68B is\n"
        "3680000000, -0.4% is -0.4 with unit %), the text kept. Times h:mmam/pm are in the\n"
        "file's zone (--utc-offset, subtracted); All Day, Tentative, Day N and <Mon> Data\n"
        "make untimed events dated 00:00 UTC of their date. Events are written in time\n"
        "order; events already on the stream are not written again.\n",
    .epilog = "exit codes: 0 all rows imported, 3 some rows were bad (named on stderr as\n"
              "FILE:LINE; the rest was imported), 1 failure, 2 usage error\n",
};

static void report(void *ctx, const char *line)
{
    cal_cli *a = ctx;
    if (a->reported++ < a->max_errors)
        fprintf(stderr, "ticktape: bad row: %s\n", line);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void time_or_null(FILE *f, tt_ts ts, int have)
{
    char t[48];
    if (!have) {
        fputs("null", f);
        return;
    }
    tt_ts_format(ts, t, sizeof t, 0);
    fprintf(f, "\"%s\"", t);
}

static int import_calendar(int argc, char **argv)
{
    cal_cli a;
    memset(&a, 0, sizeof a);
    int rc = tt_opts_parse(&tt_command_import_calendar, &a, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    tt_calendar_import_opts o;
    memset(&o, 0, sizeof o);
    o.file = a.file;
    o.tape = a.tape;
    o.stream = a.stream;
    o.source = a.source;
    o.utc_offset_min = (int)(a.offset / TT_NS_PER_MIN);
    o.report = report;
    o.ctx = &a;
    tt_calendar_import_stats st;
    tt_err err;
    rc = tt_calendar_import(&o, &st, &err);
    if (rc && rc != TT_EPARTIAL)
        return tt_report_error(&err);
    if (a.reported > a.max_errors)
        fprintf(stderr, "ticktape: ... %" PRIu64 " more bad row(s) not listed\n",
                a.reported - a.max_errors);
    char first[48] = "-", last[48] = "-";
    if (st.events) {
        tt_ts_format(st.first, first, sizeof first, 0);
        tt_ts_format(st.last, last, sizeof last, 0);
    }
    printf("%s: %" PRIu64 " rows, %" PRIu64 " events (%" PRIu64 " untimed), %" PRIu64
           " bad row(s); %" PRIu64 " written, %" PRIu64 " already on the tape\n",
           a.file, st.rows, st.events, st.untimed, st.bad, st.written, st.present);
    printf("impact: high %" PRIu64 ", medium %" PRIu64 ", low %" PRIu64 ", non-economic %" PRIu64
           "; %" PRIu64 " figure(s) kept as text only; %s to %s\n",
           st.by_impact[TT_IMPACT_HIGH], st.by_impact[TT_IMPACT_MEDIUM],
           st.by_impact[TT_IMPACT_LOW], st.by_impact[TT_IMPACT_NONE], st.text_figures, first,
           last);
    if (a.json) {
        fputs("{\"file\":", stdout);
        json_str(stdout, a.file);
        fputs(",\"stream\":", stdout);
        json_str(stdout, a.stream);
        printf(",\"status\":\"%s\",\"rows\":%" PRIu64
               ",\"events\":%" PRIu64 ",\"untimed\":%" PRIu64 ",\"bad\":%" PRIu64
               ",\"written\":%" PRIu64 ",\"present\":%" PRIu64 ",\"high\":%" PRIu64
               ",\"medium\":%" PRIu64 ",\"low\":%" PRIu64 ",\"non_economic\":%" PRIu64
               ",\"text_figures\":%" PRIu64 ",\"first\":",
               rc ? "partial" : "ok", st.rows, st.events, st.untimed, st.bad,
               st.written, st.present, st.by_impact[TT_IMPACT_HIGH],
               st.by_impact[TT_IMPACT_MEDIUM], st.by_impact[TT_IMPACT_LOW],
               st.by_impact[TT_IMPACT_NONE], st.text_figures);
        time_or_null(stdout, st.first, st.events > 0);
        fputs(",\"last\":", stdout);
        time_or_null(stdout, st.last, st.events > 0);
        fputs("}\n", stdout);
    }
    if (rc == TT_EPARTIAL) {
        fprintf(stderr, "ticktape: error: import partial: %s\n", err.msg);
        return TT_EXIT_PARTIAL;
    }
    return TT_EXIT_OK;
}
