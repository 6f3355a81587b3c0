/*
 * ticktape tape gaps TAPE --symbol S [--timeframe M1]: list the intervals in
 * which a stream has no event, outside the FX weekend close (data/gaps.h).
 *
 * The stream's events are read through the tape reader (one symbol, one
 * kind), their times fed to the gap finder, and each gap printed as one line
 * "FROM  TO  LENGTH" (UTC, [FROM, TO) missing). --json ends stdout with one
 * object holding the list.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/instrument.h"
#include "data/gaps.h"
#include "data/tape.h"

typedef struct gaps_out {
    int json;
    uint64_t n;
    FILE *f;
} gaps_out;

static void fmt_len(tt_ts d, char *buf, size_t n)
{
    int64_t s = (int64_t)(d / TT_NS_PER_SEC);
    if (s >= 86400)
        snprintf(buf, n, "%" PRId64 "d%02" PRId64 "h%02" PRId64 "m", s / 86400, s / 3600 % 24,
                 s / 60 % 60);
    else if (s >= 3600)
        snprintf(buf, n, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
    else if (s >= 60)
        snprintf(buf, n, "%" PRId64 "m%s", s / 60, s % 60 ? "+" : "");
    else
        snprintf(buf, n, "%" PRId64 "s", s);
}

static void on_gap(void *ctx, const tt_gap *g)
{
    gaps_out *o = ctx;
    char a[40], b[40], len[32];
    tt_ts_format(g->from, a, sizeof a, 0);
    tt_ts_format(g->to, b, sizeof b, 0);
    if (o->json) {
        fprintf(o->f, "%s{\"from\":\"%s\",\"to\":\"%s\",\"seconds\":%" PRId64 "}",
                o->n ? "," : "", a, b, (int64_t)((g->to - g->from) / TT_NS_PER_SEC));
    } else {
        fmt_len(g->to - g->from, len, sizeof len);
        fprintf(o->f, "%s  %s  %s\n", a, b, len);
    }
    o->n++;
}

/* "90s", "5m", "2h", "1d" or a timeframe name ("M5"). */
static int parse_duration(const char *s, tt_ts *out)
{
    int tf = tt_timeframe_parse(s);
    if (tf > TT_TF_NONE && tf < TT_TF_COUNT && tt_timeframe_ns(tf) > 0) {
        *out = tt_timeframe_ns(tf);
        return 0;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0 || v > 1000000)
        return -1;
    int64_t mul = !strcmp(end, "s") ? TT_NS_PER_SEC
                  : !strcmp(end, "m") ? TT_NS_PER_MIN
                  : !strcmp(end, "h") ? TT_NS_PER_HOUR
                  : !strcmp(end, "d") ? TT_NS_PER_DAY
                                      : 0;
    if (!mul)
        return -1;
    *out = (tt_ts)v * mul;
    return 0;
}

typedef struct gaps_opts {
    const char *tape, *symbol, *stream;
    int tf, weekend, json;
    tt_ts from, to, min_gap;
} gaps_opts;

static int opt_timeframe(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    int tf = tt_timeframe_parse(value);
    if (tf <= TT_TF_NONE || tf >= TT_TF_COUNT || tt_timeframe_ns(tf) <= 0)
        return tt_err_set(err, TT_EINVAL, "--%s: expected S1 M1 M5 M15 M30 H1 H4 D1 W1, got '%s'",
                          o->name, value);
    *(int *)tt_opt_field(opts, o) = tf;
    return TT_OK;
}

static int opt_min_gap(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    if (parse_duration(value, tt_opt_field(opts, o)))
        return tt_err_set(err, TT_EINVAL, "--%s: expected a length such as 90s, 5m, 2h, M5, "
                          "got '%s'", o->name, value);
    return TT_OK;
}

static int opt_weekend(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    int w = tt_weekend_parse(value);
    if (w < 0)
        return tt_err_set(err, TT_EINVAL, "--%s: expected ny, utc22 or none, got '%s'", o->name,
                          value);
    *(int *)tt_opt_field(opts, o) = w;
    return TT_OK;
}

#define F(field) offsetof(gaps_opts, field)

static const tt_opt GAPS_OPTS[] = {
    {TT_OPT_ARG, .arg = "TAPE", .off = F(tape), .flags = TT_OPT_REQUIRED,
     .help = "the tape directory"},
    {TT_OPT_STRING, "symbol", .off = F(symbol), .arg = "S", .flags = TT_OPT_REQUIRED,
     .help = "the instrument"},
    {TT_OPT_CUSTOM, "timeframe", .off = F(tf), .arg = "TF", .set = opt_timeframe, .def = "M1",
     .help = "slot length: a slot with no event is missing"},
    {TT_OPT_STRING, "stream", .off = F(stream), .arg = "NAME", .def = "quote",
     .help = "quote, trade, or a bar stream such as bar-M1-bid"},
    {TT_OPT_TIME, "from", .off = F(from), .def_text = "the first event",
     .help = "start of the range to check"},
    {TT_OPT_TIME, "to", .off = F(to), .def_text = "the last event",
     .help = "end of the range to check"},
    {TT_OPT_CUSTOM, "min-gap", .off = F(min_gap), .arg = "D", .set = opt_min_gap,
     .def_text = "one timeframe",
     .help = "report gaps at least this long (90s, 5m, 2h, 1d, or a timeframe: M5)"},
    {TT_OPT_CUSTOM, "weekend", .off = F(weekend), .arg = "ny|utc22|none", .set = opt_weekend,
     .def = "ny",
     .help = "the weekend close: New York's (Fri-Sun 17:00), fixed Fri 22:00-Sun 22:00 UTC, "
             "or none"},
    {TT_OPT_FLAG, "json", .off = F(json),
     .help = "last line of stdout: {\"gaps\":[...],\"count\":N,...}"},
    {TT_OPT_END},
};

static int run_gaps(int argc, char **argv);

const tt_cmd tt_command_tape_gaps = {
    .name = "tape gaps",
    .summary = "missing intervals of a stream outside the weekend close",
    .run = run_gaps,
    .opts = GAPS_OPTS,
    .size = sizeof(gaps_opts),
    .about = "List the intervals where a stream has no event, outside the FX weekend close\n"
             "(Friday 17:00 to Sunday 17:00 New York time: 22:00 UTC in winter, 21:00 UTC\n"
             "under US daylight saving). Each line: FROM TO LENGTH, UTC, [FROM, TO) missing.\n",
    .epilog = "exit codes: 0 listed, 1 the tape cannot be read, 2 usage error\n",
};

static int run_gaps(int argc, char **argv)
{
    gaps_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&tt_command_tape_gaps, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    const char *tape = o.tape, *symbol = o.symbol, *stream = o.stream;
    int tf = o.tf, weekend = o.weekend, json = o.json;
    tt_ts from = o.from, to = o.to, min_gap = o.min_gap;
    tt_stream_desc d;
    if (tt_stream_desc_parse(symbol, stream, &d))
        return tt_usage_error("tape gaps", "--stream: unknown stream '%s'", stream);
    if (from && to && to <= from)
        return tt_usage_error("tape gaps", "--to must be after --from");

    tt_instruments *ins = tt_instruments_new();
    if (!ins) {
        fprintf(stderr, "ticktape: error: out of memory\n");
        return TT_EXIT_FAIL;
    }
    const char *syms[2] = {symbol, NULL};
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.symbols = syms;
    q.kinds = 1u << d.kind;
    q.tf = d.tf;
    q.side = d.side;
    q.from = from;
    q.to = to;
    tt_err err;
    tt_tape_reader *r;
    /* Ids are only for display here: with no instrument table any symbol works. */
    if (tt_tape_reader_open(&r, tape, &q, NULL, &err)) {
        tt_instruments_free(ins);
        return tt_report_error(&err);
    }
    gaps_out out = {json, 0, stdout};
    tt_gaps g;
    tt_gaps_init(&g, tt_timeframe_ns(tf), min_gap, weekend, from, to, on_gap, &out);
    if (json)
        fputs("{\"gaps\":[", stdout);
    tt_event ev;
    uint64_t events = 0;
    tt_ts first = 0, last = 0;
    while ((rc = tt_tape_reader_next(r, &ev, &err)) > 0) {
        if (!events)
            first = ev.ts;
        last = ev.ts;
        events++;
        tt_gaps_add(&g, ev.ts);
    }
    tt_tape_reader_close(r);
    tt_instruments_free(ins);
    if (rc < 0) {
        if (json)
            fputs("]}\n", stdout);
        return tt_report_error(&err);
    }
    tt_gaps_finish(&g);
    char a[40] = "", b[40] = "", len[32];
    if (events) {
        tt_ts_format(first, a, sizeof a, 0);
        tt_ts_format(last, b, sizeof b, 0);
    }
    fmt_len(g.total, len, sizeof len);
    if (json) {
        fprintf(stdout,
                "],\"count\":%" PRIu64 ",\"missing_seconds\":%" PRId64 ",\"events\":%" PRIu64
                ",\"first\":\"%s\",\"last\":\"%s\",\"timeframe\":\"%s\",\"weekend\":\"%s\"}\n",
                g.count, (int64_t)(g.total / TT_NS_PER_SEC), events, a, b, tt_timeframe_name(tf),
                weekend == TT_WEEKEND_NEWYORK ? "ny" : weekend == TT_WEEKEND_UTC22 ? "utc22"
                                                                                   : "none");
    } else {
        fprintf(stdout, "%" PRIu64 " gap%s, %s missing (%s slots; %" PRIu64 " events from %s to %s; "
                "weekend close excluded: %s)\n",
                g.count, g.count == 1 ? "" : "s", len, tt_timeframe_name(tf), events,
                events ? a : "-", events ? b : "-",
                weekend == TT_WEEKEND_NEWYORK ? "Fri-Sun 17:00 New York"
                : weekend == TT_WEEKEND_UTC22 ? "Fri-Sun 22:00 UTC"
                                              : "no");
    }
    return TT_EXIT_OK;
}
