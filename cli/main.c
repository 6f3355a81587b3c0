/*
 * ticktape: the command. Parses the first word and hands the rest to the
 * subcommand. Nothing below cli/ exits the process; here is where exit codes
 * are decided.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command COMMANDS[] = {
    {"tape", tt_cmd_tape, "inspect, verify and export a tape (info, verify, export, gaps)"},
    {"bench", tt_cmd_bench, "benchmarks (bench replay)"},
    {"backtest", tt_cmd_backtest, "run a scenario file: backtest, figures, reports"},
    {"demo", tt_cmd_demo, "run the main job on the built-in default: synthetic market, report"},
    {"synth", tt_cmd_synth, "generate a synthetic market (gbm, merton, heston, regime, ou) or an option chain"},
    {"bars", tt_cmd_bars, "print OHLCV bars (S1..MN1) built from a tape's quotes"},
    {"import", tt_cmd_import, "import history into a tape (dukascopy, polygon, csv, mt5, hdf5)"},
    {"download", tt_cmd_download, "download history files (download dukascopy)"},
    {"sweep", tt_cmd_sweep, "run a scenario's parameter sweep (grid or random), locally or on NATS"},
    {"walkforward", tt_cmd_walkforward, "walk-forward analysis: optimise on train windows, test out of sample"},
    {"features", tt_cmd_features, "export the ml: feature rows and labels of a scenario (CSV, HDF5)"},
    {"train", tt_cmd_train, "train an XGBoost model on a scenario's ml: rows (JSON model + sidecar)"},
    {"worker", tt_cmd_worker, "run sweep jobs from a NATS JetStream work queue"},
    {"publish", tt_cmd_publish, "publish a tape's ticks on NATS as TickData (ticks.SYMBOL)"},
    {"paper", tt_cmd_paper, "paper trading on a live NATS/Kafka feed, journaled"},
    {"replay", tt_cmd_replay, "replay a paper session's journal: same orders, same fingerprint"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f)
{
    fprintf(f,
            "ticktape %s: a deterministic, event-sourced trading engine\n\n"
            "usage: ticktape <command> [options]   (ticktape <command> --help for details)\n\n"
            "commands:\n",
            TT_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\noptions:\n  --help       this text\n  --version    print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TT_EXIT_USAGE;
    }
    if (tt_is_help(argv[1])) {
        usage(stdout);
        return TT_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("ticktape %s\n", TT_VERSION);
        return TT_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (!strcmp(argv[1], COMMANDS[i].name))
            return COMMANDS[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "ticktape: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return TT_EXIT_USAGE;
}
