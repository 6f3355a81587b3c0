/*
 * ticktape demo [--out DIR] [--set key=value ...] [--json] [--scenario]
 *
 * How this works: the main job on an embedded default, with no files needed.
 * A scenario is built into the binary (DEMO_SCENARIO below): a seeded
 * synthetic EURUSD market, an SMA crossover on 15-minute bars, a realistic
 * venue (latency, random slippage, commission, swaps) and risk limits. It
 * goes through exactly the path of `ticktape backtest` (tt_backtest_scenario),
 * so the demo shows the product, not a special case. `--scenario` prints the
 * embedded YAML: save it, edit it, run it with `ticktape backtest`.
 */
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

static void usage(FILE *f)
{
    fputs("usage: ticktape demo [--out DIR] [--set KEY=VALUE ...] [--json] [--scenario]\n\n"
          "Run the built-in scenario: two months of a seeded synthetic EURUSD market, an SMA\n"
          "crossover on M15 bars, simulated venue with latency, slippage and commission.\n"
          "Writes report.html, summary.json, trades.csv and series.h5 and prints the figures\n"
          "and the fingerprint. No files are needed.\n\n"
          "options:\n"
          "  --out DIR         where the reports go (default: demo-out)\n"
          "  --set KEY=VALUE   override a scenario key (e.g. seed=7, strategy.params.fast=5)\n"
          "  --json            print the summary as one JSON object on the last line\n"
          "  --quiet           print nothing but errors (and the JSON line with --json)\n"
          "  --scenario        print the built-in scenario (YAML) and exit\n"
          "  --help            this text\n",
          f);
}

int tt_cmd_demo(int argc, char **argv)
{
    static const char *const flags[] = {"json", "quiet", "scenario", "help", "h", NULL};
    tt_backtest_cli o = {.out_dir = "demo-out"};
    const char *sets[64];
    int nsets = 0;
    tt_opt op;
    tt_opt_init(&op, argc, argv);
    while (tt_opt_next(&op, flags)) {
        if (tt_opt_is(&op, "help") || tt_opt_is(&op, "h")) {
            usage(stdout);
            return TT_EXIT_OK;
        } else if (tt_opt_is(&op, "scenario")) {
            fputs(DEMO_SCENARIO, stdout);
            return TT_EXIT_OK;
        } else if (tt_opt_is(&op, "out")) {
            if (!op.value || !*op.value)
                return tt_usage_error("demo", "--out needs a directory");
            o.out_dir = op.value;
        } else if (tt_opt_is(&op, "set")) {
            if (!op.value)
                return tt_usage_error("demo", "--set needs KEY=VALUE");
            if (nsets == 64)
                return tt_usage_error("demo", "too many --set");
            sets[nsets++] = op.value;
        } else if (tt_opt_is(&op, "json")) {
            o.json = 1;
        } else if (tt_opt_is(&op, "quiet")) {
            o.quiet = 1;
        } else if (!op.name) {
            return tt_usage_error("demo", "unexpected argument '%s'", op.value);
        } else {
            return tt_usage_error("demo", "unknown option --%s", op.name);
        }
    }
    tt_err err;
    tt_scenario *s;
    if (tt_scenario_parse(&s, DEMO_SCENARIO, strlen(DEMO_SCENARIO), "demo (built-in)", NULL,
                          &err) != TT_OK)
        return tt_report_error(&err); /* a bug: the embedded scenario is tested */
    for (int i = 0; i < nsets; i++) {
        if (tt_scenario_set(s, sets[i], &err) != TT_OK) {
            tt_scenario_free(s);
            return tt_usage_error("demo", "%s", err.msg);
        }
    }
    int code = tt_backtest_scenario(s, &o);
    tt_scenario_free(s);
    return code;
}
