/*
 * ticktape demo [--out DIR] [--set key=value ...] [--json] [--scenario]
 *
 * How this works: the main job on an embedded default, with no files needed.
 * A scenario is built into the binary (DEMO_SCENARIO below): a seeded
 * synthetic EURUSD market, an SMA crossover on 15-minute bars, a realistic
 * venue (latency, random slippage, commission, swaps) and risk limits. It
 * goes through exactly the path of `ticktape backtest` (tt_backtest_scenario,
 * cli/scenario_run.c), so the demo shows the product, not a special case.
 * `--scenario` prints the embedded YAML: save it, edit it, run it with
 * `ticktape backtest`.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "sim/scenario.h"

static const char DEMO_SCENARIO[] =
    "# ticktape demo: the built-in scenario (ticktape demo --scenario prints it).\n"
    "name: demo\n"
    "description: SMA crossover on a seeded synthetic EURUSD market\n"
    "seed: 42\n"
    "data:\n"
    "  synthetic:\n"
    "    model: heston\n"
    "    symbols: [EURUSD]\n"
    "    from: 2024-01-01\n"
    "    to: 2024-03-01\n"
    "    sigma: 0.08\n"
    "    tick_rate: 1\n"
    "account: {currency: USD, balance: 10000, leverage: 100}\n"
    "venue:\n"
    "  latency_ms: 20\n"
    "  slippage: {model: random, points: 3}\n"
    "  commission: {per_lot: 7}\n"
    "risk: {max_position_lots: 2, daily_loss_pct: 5, max_drawdown_pct: 25}\n"
    "strategy:\n"
    "  name: sma_cross\n"
    "  params: {tf: M15, fast: 12, slow: 48, qty: 20, sl_pips: 40}\n";

#define MAX_SETS 64

typedef struct demo_opts {
    tt_backtest_cli run;
    const char *sets[MAX_SETS];
    int nsets;
    int scenario; /* --scenario: print the built-in scenario and exit */
} demo_opts;

#define F(field) offsetof(demo_opts, field)

static const tt_opt DEMO_OPTS[] = {
    {TT_OPT_STRING, "out", .off = F(run.out_dir), .arg = "DIR", .flags = TT_OPT_NONEMPTY,
     .def = "demo-out", .help = "where the reports go"},
    {TT_OPT_LIST, "set", .off = F(sets), .count_off = F(nsets), .max_count = MAX_SETS,
     .arg = "KEY=VALUE", .flags = TT_OPT_KEYVAL,
     .help = "override a scenario key (e.g. seed=7, strategy.params.fast=5)"},
    {TT_OPT_FLAG, "json", .off = F(run.json),
     .help = "print the summary as one JSON object on the last line"},
    {TT_OPT_FLAG, "quiet", .off = F(run.quiet),
     .help = "print nothing but errors (and the JSON line with --json)"},
    {TT_OPT_FLAG, "scenario", .off = F(scenario),
     .help = "print the built-in scenario (YAML) and exit"},
    {TT_OPT_END},
};

static int run_demo(int argc, char **argv);

const tt_cmd tt_command_demo = {
    .name = "demo",
    .summary = "run the main job on the built-in default: synthetic market, report",
    .run = run_demo,
    .opts = DEMO_OPTS,
    .size = sizeof(demo_opts),
    .about = "Run the built-in scenario: two months of a seeded synthetic EURUSD market, an SMA\n"
             "crossover on M15 bars, simulated venue with latency, slippage and commission.\n"
             "Writes report.html, summary.json, trades.csv and series.h5 and prints the figures\n"
             "and the fingerprint. No files are needed.\n",
    .epilog = "exit codes: 0 ran, 1 failed, 2 usage error\n",
};

static int run_demo(int argc, char **argv)
{
    demo_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&tt_command_demo, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    if (o.scenario) {
        fputs(DEMO_SCENARIO, stdout);
        return TT_EXIT_OK;
    }
    tt_err err;
    tt_scenario *s;
    if (tt_scenario_parse(&s, DEMO_SCENARIO, strlen(DEMO_SCENARIO), "demo (built-in)", NULL,
                          &err) != TT_OK)
        return tt_report_error(&err); /* a bug: the embedded scenario is tested */
    for (int i = 0; i < o.nsets; i++) {
        if (tt_scenario_set(s, o.sets[i], &err) != TT_OK) {
            tt_scenario_free(s);
            return tt_usage_error("demo", "%s", err.msg);
        }
    }
    int code = tt_backtest_scenario(s, &o.run);
    tt_scenario_free(s);
    return code;
}
