/*
 * ticktape backtest SCENARIO [--set key=value ...] [--out DIR] [--json]
 *
 * How this works: load the scenario (sim/scenario.h), apply the --set
 * overrides in order, then run it, compute the figures and write the reports
 * with tt_backtest_scenario (cli/scenario_run.c, shared with `ticktape
 * demo`). The options are the table below (cli/opts.h): it parses them,
 * checks them, and writes `--help` and docs/cli.md.
 *
 * Output: a few human lines on stdout (figures and where the report is); with
 * --json the last line of stdout is one JSON object (the summary.json object
 * on one line). A progress bar shows on stderr only when it is a terminal.
 *
 * Exit codes: 0 ran; 1 the run or a scenario file failed (the message names
 * the file, line and key); 2 a usage error (unknown option, bad --set);
 * 4 a gate failed under --gate.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "sim/scenario.h"

#define MAX_SETS 256

typedef struct backtest_opts {
    const char *scenario;
    const char *sets[MAX_SETS];
    int nsets;
    tt_backtest_cli run;
    int keys; /* --keys, --help-keys: list the scenario keys and exit */
} backtest_opts;

#define F(field) offsetof(backtest_opts, field)

static const tt_opt BACKTEST_OPTS[] = {
    {TT_OPT_ARG, .arg = "SCENARIO", .off = F(scenario),
     .help = "the scenario file, YAML (docs/scenarios.md)"},
    {TT_OPT_LIST, "set", .off = F(sets), .count_off = F(nsets), .max_count = MAX_SETS,
     .arg = "KEY=VALUE", .flags = TT_OPT_KEYVAL,
     .help = "override a scenario key (dotted: venue.latency_ms=5, strategy.params.fast=12), "
             "applied in order"},
    {TT_OPT_STRING, "out", .off = F(run.out_dir), .arg = "DIR", .flags = TT_OPT_NONEMPTY,
     .def_text = "outputs.dir of the scenario, else out/<scenario name>",
     .help = "where the reports go"},
    {TT_OPT_FLAG, "json", .off = F(run.json),
     .help = "print the summary as one JSON object on the last line"},
    {TT_OPT_FLAG, "quiet", .off = F(run.quiet),
     .help = "print nothing but errors (and the JSON line with --json)"},
    {TT_OPT_FLAG, "no-reports", .off = F(run.no_reports), .help = "do not write report files"},
    {TT_OPT_FLAG, "keys", .off = F(keys),
     .help = "list every scenario key with its type and meaning, and exit"},
    {TT_OPT_FLAG, "help-keys", .off = F(keys), .help = "the same as --keys"},
    {TT_OPT_INCLUDE, .include = tt_gate_opts, .off = F(run.gate)},
    {TT_OPT_END},
};

static int run_backtest(int argc, char **argv);

const tt_cmd tt_command_backtest = {
    .name = "backtest",
    .summary = "run a scenario file: backtest, figures, reports",
    .run = run_backtest,
    .opts = BACKTEST_OPTS,
    .size = sizeof(backtest_opts),
    .about = "Run one backtest described by a scenario file (docs/scenarios.md) and write its\n"
             "reports: report.html, summary.json, trades.csv, series.h5 (docs/reports.md).\n",
    .epilog = "exit codes: 0 ran, 1 failed (scenario error, data error), 2 usage error,\n"
              "4 a gate failed (with --gate)\n",
};

static int run_backtest(int argc, char **argv)
{
    backtest_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&tt_command_backtest, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    if (o.keys) {
        tt_scenario_schema_write(stdout);
        return TT_EXIT_OK;
    }
    if (!o.scenario)
        return tt_usage_error("backtest", "missing SCENARIO (required)");

    tt_err err;
    tt_scenario *s;
    if (tt_scenario_load(&s, o.scenario, &err) != TT_OK)
        return tt_report_error(&err);
    for (int i = 0; i < o.nsets; i++) {
        if (tt_scenario_set(s, o.sets[i], &err) != TT_OK) {
            tt_scenario_free(s);
            return tt_usage_error("backtest", "%s", err.msg);
        }
    }
    int code = tt_backtest_scenario(s, &o.run);
    tt_scenario_free(s);
    return code;
}
