/*
 * `ticktape merge TAPE... --policy P --tape OUT`: several tapes of the same
 * symbols (one per broker or feed, in priority order) consolidated into one,
 * by the live aggregator's code and health rules with the event time as the
 * clock (data/feedmerge.h). Prints each failover, fail-back and cross as it is
 * found (--quiet: none; --log-states: every state change too), then a table
 * per symbol and source. Exit codes: 0 merged, 1 failure, 2 usage.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/consolidate.h"
#include "core/instrument.h"
#include "data/feedmerge.h"

#define MAX_SYMBOLS 64

typedef struct merge_cli {
    const char *tapes[TT_CONSOL_MAX_SOURCES];
    int ntapes;
    const char *out, *names, *symbols, *ins_file;
    tt_ts from, to;
    tt_consol_config cfg;
    int json, quiet, log_states;
} merge_cli;

#define F(field) offsetof(merge_cli, field)

static const tt_opt MERGE_OPTS[] = {
    {TT_OPT_ARGS, .arg = "TAPE", .off = F(tapes), .count_off = F(ntapes),
     .max_count = TT_CONSOL_MAX_SOURCES, .flags = TT_OPT_REQUIRED,
     .help = "the sources' tapes, in priority order (the first is the primary)"},
    {TT_OPT_STRING, "tape", .off = F(out), .arg = "OUT", .flags = TT_OPT_REQUIRED,
     .help = "the merged tape (new, or without these symbols)"},
    {TT_OPT_STRING, "names", .off = F(names), .arg = "A,B",
     .def_text = "the tapes' folder names", .help = "the sources' names, in the tapes' order"},
    {TT_OPT_STRING, "symbols", .off = F(symbols), .arg = "A,B",
     .def_text = "every quote stream", .help = "only these symbols"},
    {TT_OPT_TIME, "from", .off = F(from), .help = "start of the range (inclusive)"},
    {TT_OPT_TIME, "to", .off = F(to), .help = "end of the range (exclusive)"},
    {TT_OPT_INCLUDE, .include = tt_consol_opts, .off = F(cfg)},
    {TT_OPT_STRING, "instruments", .off = F(ins_file), .arg = "FILE",
     .help = "extra instrument declarations (docs/instruments.md)"},
    {TT_OPT_FLAG, "log-states", .off = F(log_states),
     .help = "print every source state change too (not only failovers and crosses)"},
    {TT_OPT_FLAG, "quiet", .off = F(quiet), .help = "print no event lines"},
    {TT_OPT_FLAG, "json", .off = F(json), .help = "last line of stdout: a JSON summary"},
    {TT_OPT_END},
};

static int run_merge(int argc, char **argv);

const tt_cmd tt_command_merge = {
    .name = "merge",
    .summary = "consolidate tapes of several sources into one (best, priority, median)",
    .run = run_merge,
    .opts = MERGE_OPTS,
    .size = sizeof(merge_cli),
    .about =
        "Reads the tapes' quotes in time order (one time stamp: priority order) through the\n"
        "consolidator of `ticktape aggregate`, with the same health rules and the event time as\n"
        "the clock, and writes the merged quotes to OUT/SYMBOL/quote and the merge log to\n"
        "OUT/_merge/blob: state changes, failovers, fail-backs, crosses, and a `sources` record\n"
        "whenever the sources of a symbol's merged quotes change (docs/sources.md). Export the\n"
        "log with `ticktape tape export OUT --symbol _merge --format jsonl`.\n",
    .epilog = "exit codes: 0 merged, 1 failure, 2 usage error\n",
};

static void report(void *ctx, const char *json)
{
    const merge_cli *a = ctx;
    if (a->quiet)
        return;
    if (!a->log_states && (strstr(json, "\"event\":\"state\"") || strstr(json, "\"sources\"")))
        return;
    fprintf(stderr, "%s\n", json);
}

typedef struct summary {
    const merge_cli *a;
    const tt_instruments *ins;
    const char *const *names;
} summary;

/* The per-symbol, per-source table (and its JSON form). */
static void print_table(void *ctx, const tt_consolidator *c)
{
    summary *s = ctx;
    int n = s->a->ntapes;
    printf("%-10s %-12s %-9s %10s %9s %9s %10s %9s %10s\n", "symbol", "source", "state",
           "quotes", "rejected", "bad", "duplicate", "used", "spread");
    for (uint32_t i = 0; i < tt_consolidator_symbol_count(c); i++) {
        uint32_t id = tt_consolidator_symbol_at(c, i);
        const tt_instrument *in = tt_instruments_get(s->ins, id);
        for (int k = 0; k < n; k++) {
            tt_feed_health h;
            if (tt_consolidator_health(c, id, k, &h))
                continue;
            printf("%-10s %-12s %-9s %10" PRIu64 " %9" PRIu64 " %9" PRIu64 " %10" PRIu64
                   " %9" PRIu64 " %10.2f\n",
                   in ? in->symbol : "?", s->names[k], tt_feed_state_name(h.state), h.ticks,
                   h.rejected, h.bad, h.duplicates, h.used, h.spread);
        }
    }
}

static int run_merge(int argc, char **argv)
{
    merge_cli a;
    memset(&a, 0, sizeof a);
    int rc = tt_opts_parse(&tt_command_merge, &a, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    tt_consol_cli_finish(&a.cfg);
    char namebuf[1024], symbuf[1024];
    const char *names[TT_CONSOL_MAX_SOURCES + 1] = {NULL}, *syms[MAX_SYMBOLS + 1] = {NULL};
    int nn = tt_consol_cli_list(a.names, namebuf, sizeof namebuf, names, TT_CONSOL_MAX_SOURCES);
    if (a.names && nn != a.ntapes)
        return tt_usage_error("merge", "--names gives %d names for %d tapes", nn, a.ntapes);
    tt_consol_cli_list(a.symbols, symbuf, sizeof symbuf, syms, MAX_SYMBOLS);
    tt_err err;
    tt_instruments *ins = tt_consol_cli_instruments(a.ins_file);
    if (!ins)
        return TT_EXIT_FAIL;
    tt_feedmerge_opts o;
    memset(&o, 0, sizeof o);
    o.tapes = a.tapes;
    o.ntapes = a.ntapes;
    o.names = a.names ? names : NULL;
    o.out = a.out;
    o.symbols = a.symbols ? syms : NULL;
    o.from = a.from;
    o.to = a.to;
    o.cfg = a.cfg;
    o.ins = ins;
    o.report = report;
    o.ctx = &a;
    char defnames[TT_CONSOL_MAX_SOURCES][64];
    const char *shown[TT_CONSOL_MAX_SOURCES];
    for (int k = 0; k < a.ntapes; k++) {
        tt_feedmerge_name(a.tapes[k], defnames[k], sizeof defnames[k]);
        shown[k] = a.names ? names[k] : defnames[k];
    }
    tt_feedmerge_stats st;
    summary sum = {&a, ins, shown};
    double t0 = tt_wall_seconds();
    /* the table is printed while the consolidator is still there */
    rc = tt_feedmerge_run(&o, &st, a.quiet && a.json ? NULL : print_table, &sum, &err);
    double secs = tt_wall_seconds() - t0;
    if (rc) {
        tt_instruments_free(ins);
        return tt_report_error(&err);
    }
    uint64_t in = 0;
    for (int k = 0; k < a.ntapes; k++)
        in += st.in[k];
    printf("merged %d source(s), %u symbol(s): %" PRIu64 " quotes in, %" PRIu64
           " out (policy %s); %" PRIu64 " state changes, %" PRIu64 " failovers, %" PRIu64
           " fail-backs, %" PRIu64 " crosses; %.3f s\n",
           a.ntapes, st.nsymbols, in, st.out, tt_consol_policy_name(a.cfg.policy), st.states,
           st.failovers, st.failbacks, st.crosses, secs);
    if (a.json) {
        printf("{\"sources\":%d,\"symbols\":%u,\"in\":[", a.ntapes, st.nsymbols);
        for (int k = 0; k < a.ntapes; k++)
            printf("%s%" PRIu64, k ? "," : "", st.in[k]);
        printf("],\"out\":%" PRIu64 ",\"states\":%" PRIu64 ",\"failovers\":%" PRIu64
               ",\"failbacks\":%" PRIu64 ",\"crosses\":%" PRIu64 ",\"provenance\":%" PRIu64
               ",\"policy\":\"%s\",\"seconds\":%.6f}\n",
               st.out, st.states, st.failovers, st.failbacks, st.crosses, st.provenance,
               tt_consol_policy_name(a.cfg.policy), secs);
    }
    tt_instruments_free(ins);
    return TT_EXIT_OK;
}
