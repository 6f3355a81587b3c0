/* The subcommands of `ticktape`. One line each; see cli/main.c for the table. */
#ifndef TT_COMMANDS_H
#define TT_COMMANDS_H

int tt_cmd_tape(int argc, char **argv);
int tt_cmd_bench(int argc, char **argv);
int tt_cmd_demo(int argc, char **argv);
/* `synth` and `synth options` (cli/cmd_synth.c). */
int tt_cmd_synth(int argc, char **argv);
/* Live feeds (cli/cmd_publish.c, cmd_paper.c, cmd_replay.c). */
int tt_cmd_publish(int argc, char **argv);
int tt_cmd_paper(int argc, char **argv);
int tt_cmd_replay(int argc, char **argv);
/* Shared by paper and replay (cli/cmd_paper.c): options, preparing the
 * scenario, and the report/summary step (the same JSON line as backtest). */
#define TT_LIVE_MAX_SETS 32
typedef struct tt_live_cli {
    const char *out_dir;     /* --out (NULL: out/<name>-<mode>) */
    const char *orders_file; /* --orders FILE: the order-event list as CSV */
    const char *feed;        /* one line describing the input */
    const char *sets[TT_LIVE_MAX_SETS]; /* --set KEY=VALUE */
    int nsets;
    int json, quiet, no_reports;
} tt_live_cli;
struct tt_opt;
struct tt_scenario;
struct tt_scenario_run;
struct tt_backtest_result;
int tt_live_cli_option(tt_live_cli *o, const char *cmd, const struct tt_opt *op);
int tt_live_prepare(const char *path, const tt_live_cli *o, const char *cmd,
                    struct tt_scenario **s, struct tt_scenario_run **run);
int tt_live_finish(struct tt_scenario *s, struct tt_scenario_run *run,
                   struct tt_backtest_result *r, const tt_live_cli *o, const char *mode);
/* OHLCV bars of one symbol from the tape's quotes (cli/cmd_bars.c). */
int tt_cmd_bars(int argc, char **argv);

/* `import SOURCE ...` dispatcher and `import dukascopy` (cli/cmd_import.c). */
int tt_cmd_import(int argc, char **argv);
/* `download dukascopy ...` (cli/cmd_download.c). */
int tt_cmd_download(int argc, char **argv);

/* Text and HDF5 importers (cli/cmd_import_text.c); argv[0] is the format name. */
int tt_cmd_import_polygon(int argc, char **argv);
int tt_cmd_import_csv(int argc, char **argv);
int tt_cmd_import_mt5(int argc, char **argv);
int tt_cmd_import_hdf5(int argc, char **argv);
/* `tape gaps` (cli/cmd_tape_gaps.c); argv[0] is "gaps". */
int tt_cmd_tape_gaps(int argc, char **argv);

/* `backtest SCENARIO` (cli/cmd_backtest.c). tt_backtest_scenario runs a loaded
 * scenario (overrides applied), writes its reports and prints its summary;
 * `demo` (cli/cmd_demo.c) uses it on the built-in scenario. Returns an exit code. */
int tt_cmd_backtest(int argc, char **argv);
/* --gate / --junit / --save-baseline of backtest and walkforward. */
typedef struct tt_cli_gate_opts {
    int gate;                  /* --gate: enforce the gates: section (exit 4 on failure) */
    const char *junit;         /* --junit FILE */
    const char *save_baseline; /* --save-baseline FILE */
} tt_cli_gate_opts;
struct tt_scenario;
typedef struct tt_backtest_cli {
    const char *out_dir; /* --out (NULL: outputs.dir, else out/<name>) */
    int json;            /* last stdout line: the JSON summary */
    int quiet;           /* no human lines */
    int no_reports;      /* write no files */
    tt_cli_gate_opts gate; /* --gate, --junit, --save-baseline (cli/cmd_walkforward.c) */
} tt_backtest_cli;
int tt_backtest_scenario(struct tt_scenario *s, const tt_backtest_cli *o);

/* Research tools (docs/research.md): `sweep` (cli/cmd_sweep.c), `walkforward`
 * (cli/cmd_walkforward.c), `worker` (cli/cmd_worker.c). */
int tt_cmd_sweep(int argc, char **argv);
int tt_cmd_walkforward(int argc, char **argv);
int tt_cmd_worker(int argc, char **argv);
/* Machine learning (docs/ml.md): `features` (cli/cmd_features.c), `train`
 * (cli/cmd_train.c). */
int tt_cmd_features(int argc, char **argv);
int tt_cmd_train(int argc, char **argv);
struct tt_metrics;
/* Save the baseline, evaluate the scenario's gates on m (wfe NULL when the run
 * is not a walk-forward; money in currency units of minor_per_unit), print the
 * failures, write JUnit XML. Returns an exit code: 0, 4 when a gate failed
 * under --gate, 1 on errors (missing section or baseline). */
int tt_cli_gates(const char *scenario_file, const char *suite, const struct tt_metrics *m,
                 const double *wfe, long long minor_per_unit, const tt_cli_gate_opts *g,
                 int quiet);

#endif
