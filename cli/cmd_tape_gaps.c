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

int tt_cmd_tape_gaps(int argc, char **argv)
{
    static const char usage[] =
        "usage: ticktape tape gaps TAPE --symbol S [options]\n\n"
        "List the intervals where a stream has no event, outside the FX weekend close\n"
        "(Friday 17:00 to Sunday 17:00 New York time: 22:00 UTC in winter, 21:00 UTC\n"
        "under US daylight saving). Each line: FROM TO LENGTH, UTC, [FROM, TO) missing.\n\n"
        "  --symbol S          the instrument (required)\n"
        "  --timeframe TF      slot length: a slot with no event is missing (default M1)\n"
        "  --stream NAME       quote (default), trade, or a bar stream such as bar-M1-bid\n"
        "  --from T, --to T    range to check (ISO 8601); default: first to last event\n"
        "  --min-gap D         report gaps at least this long (90s, 5m, 2h, M5; default:\n"
        "                      one timeframe)\n"
        "  --weekend W         ny (default), utc22 (fixed Fri 22:00-Sun 22:00 UTC), none\n"
        "  --json              last line of stdout: {\"gaps\":[...],\"count\":N,...}\n";
    static const char *const flags[] = {"json", "help", NULL};
    const char *tape = NULL, *symbol = NULL, *stream = "quote";
    int tf = TT_TF_M1, weekend = TT_WEEKEND_NEWYORK, json = 0;
    tt_ts from = 0, to = 0, min_gap = 0;
    tt_opt o;
    tt_opt_init(&o, argc, argv);
    while (tt_opt_next(&o, flags)) {
        if (!o.name) {
            if (tape)
                return tt_usage_error("tape gaps", "one tape directory only");
            tape = o.value;
        } else if (tt_opt_is(&o, "help")) {
            fputs(usage, stdout);
            return TT_EXIT_OK;
        } else if (tt_opt_is(&o, "json")) {
            json = 1;
        } else if (!o.value) {
            return tt_usage_error("tape gaps", "unknown option --%s or missing value", o.name);
        } else if (tt_opt_is(&o, "symbol")) {
            symbol = o.value;
        } else if (tt_opt_is(&o, "stream")) {
            stream = o.value;
        } else if (tt_opt_is(&o, "timeframe")) {
            tf = tt_timeframe_parse(o.value);
            if (tf <= TT_TF_NONE || tf >= TT_TF_COUNT || tt_timeframe_ns(tf) <= 0)
                return tt_usage_error("tape gaps", "--timeframe: S1 M1 M5 M15 M30 H1 H4 D1 W1");
        } else if (tt_opt_is(&o, "from") || tt_opt_is(&o, "to")) {
            tt_ts t;
            if (tt_ts_parse(o.value, &t))
                return tt_usage_error("tape gaps", "--%s: not a time: '%s'", o.name, o.value);
            *(tt_opt_is(&o, "from") ? &from : &to) = t;
        } else if (tt_opt_is(&o, "min-gap")) {
            if (parse_duration(o.value, &min_gap))
                return tt_usage_error("tape gaps", "--min-gap: e.g. 90s, 5m, 2h, M5");
        } else if (tt_opt_is(&o, "weekend")) {
            weekend = tt_weekend_parse(o.value);
            if (weekend < 0)
                return tt_usage_error("tape gaps", "--weekend: ny, utc22 or none");
        } else {
            return tt_usage_error("tape gaps", "unknown option --%s", o.name);
        }
    }
    if (!tape)
        return tt_usage_error("tape gaps", "no tape directory given (--help for usage)");
    if (!symbol)
        return tt_usage_error("tape gaps", "--symbol is required");
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
    int rc;
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
