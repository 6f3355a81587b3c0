/*
 * The commands of `ticktape` and what several of them share.
 *
 * Each command is a tt_command_<name> (cli/opts.h: option table, help, run
 * function) defined in cli/cmd_<name>.c; cli/main.c lists the top-level ones.
 * Pieces used by more than one command live in files of their own, each with
 * its option table: the data-quality options of the importers
 * (cli/quality_opts.c), the gates (cli/gates.c), running a scenario and writing
 * its reports (cli/scenario_run.c, backtest and demo), the live session's
 * options and report step (cli/live_cli.c, paper and replay), and the options
 * of the research runs (cli/research_cli.c, sweep and walkforward).
 */
#ifndef TT_COMMANDS_H
#define TT_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/event.h"
#include "net_opts.h"
#include "opts.h"

/* ---- the commands ---- */

extern const tt_cmd tt_command_tape;        /* info, verify, export (cmd_tape.c), gaps */
extern const tt_cmd tt_command_tape_gaps;   /* cmd_tape_gaps.c */
extern const tt_cmd tt_command_tape_export; /* cmd_tape_export.c */
extern const tt_cmd tt_command_bench;       /* bench replay (cmd_bench.c) */
extern const tt_cmd tt_command_backtest;
extern const tt_cmd tt_command_demo;
extern const tt_cmd tt_command_synth;       /* synth and synth options (cmd_synth.c) */
extern const tt_cmd tt_command_bars;
extern const tt_cmd tt_command_import;      /* the sources, and import dukascopy (cmd_import.c) */
extern const tt_cmd tt_command_import_polygon; /* cmd_import_text.c */
extern const tt_cmd tt_command_import_csv;
extern const tt_cmd tt_command_import_mt5;
extern const tt_cmd tt_command_import_hdf5;
extern const tt_cmd tt_command_import_calendar; /* cmd_import_calendar.c */
extern const tt_cmd tt_command_download;    /* download dukascopy (cmd_download.c) */
extern const tt_cmd tt_command_sweep;
extern const tt_cmd tt_command_walkforward;
extern const tt_cmd tt_command_features;    /* ml: rows and labels (cmd_features.c) */
extern const tt_cmd tt_command_train;       /* ml: XGBoost model (cmd_train.c) */
struct tt_scenario;
/* features and train: load the scenario and apply the --set overrides; 0, or
 * the exit code after the error was printed (cli/cmd_features.c). */
int tt_ml_cli_scenario(const char *cmd, const char *path, const char *const *sets, int nsets,
                       struct tt_scenario **out);
extern const tt_cmd tt_command_worker;
extern const tt_cmd tt_command_publish;
extern const tt_cmd tt_command_paper;
extern const tt_cmd tt_command_replay;
extern const tt_cmd tt_command_live;          /* cmd_live.c */
extern const tt_cmd tt_command_mt5_sim;       /* cmd_mt5_sim.c */
extern const tt_cmd tt_command_mt5_connector; /* cmd_mt5_connector.c */

extern const tt_cmd tt_command_merge;       /* merge tapes of several sources (cmd_merge.c) */
extern const tt_cmd tt_command_aggregate;   /* live: several feeds into one (cmd_aggregate.c) */

/* ---- merge and aggregate: policy and health rules (cli/consol_opts.c) ---- */

struct tt_consol_config;
/* --policy, --stale, --recover, --recover-ticks, --deviation, --spread-k,
 * --rate-ratio over a tt_consol_config. */
extern const tt_opt tt_consol_opts[];
/* After parsing: a k rule given as 0 is off. */
void tt_consol_cli_finish(struct tt_consol_config *cfg);
/* "a,b,c" into out (NULL-ended, at most max words; the words live in buf).
 * Returns the count. */
int tt_consol_cli_list(const char *text, char *buf, size_t cap, const char **out, int max);
struct tt_instruments;
/* The built-in instruments plus FILE (may be NULL); NULL after printing the
 * error. */
struct tt_instruments *tt_consol_cli_instruments(const char *file);

/* ---- importers (cli/quality_opts.c) ---- */

/* --quality KEY=VALUE and --quarantine FILE over a tt_quality_config. */
extern const tt_opt tt_quality_opts[];

/* How an import writes its tape: --wait, --replace. */
typedef struct tt_cli_write_opts {
    int wait;    /* another process writes the tape: wait for it */
    int replace; /* events that conflict with the tape's replace them */
} tt_cli_write_opts;
extern const tt_opt tt_write_opts[];

/* ---- gates: backtest and walkforward (cli/gates.c) ---- */

/* --gate / --junit / --save-baseline (tt_gate_opts). */
typedef struct tt_cli_gate_opts {
    int gate;                  /* --gate: enforce the gates: section (exit 4 on failure) */
    const char *junit;         /* --junit FILE */
    const char *save_baseline; /* --save-baseline FILE */
} tt_cli_gate_opts;
extern const tt_opt tt_gate_opts[];

struct tt_metrics;
/* Save the baseline, evaluate the scenario's gates on m (wfe NULL when the run
 * is not a walk-forward; money in currency units of minor_per_unit), print the
 * failures, write JUnit XML. Returns an exit code: 0, TT_EXIT_GATE when a gate
 * failed under --gate, TT_EXIT_FAIL on errors (missing section or baseline). */
int tt_cli_gates(const char *scenario_file, const char *suite, const struct tt_metrics *m,
                 const double *wfe, long long minor_per_unit, const tt_cli_gate_opts *g,
                 int quiet);

/* ---- running one scenario: backtest and demo (cli/scenario_run.c) ---- */

struct tt_scenario;
typedef struct tt_backtest_cli {
    const char *out_dir; /* --out (NULL: outputs.dir, else out/<name>) */
    int json;            /* last stdout line: the JSON summary */
    int quiet;           /* no human lines */
    int no_reports;      /* write no files */
    tt_cli_gate_opts gate; /* --gate, --junit, --save-baseline */
} tt_backtest_cli;
/* Run a loaded scenario (overrides applied), write its reports, print its
 * summary; returns an exit code. */
int tt_backtest_scenario(struct tt_scenario *s, const tt_backtest_cli *o);

struct tt_report_input;
/* The figure lines of a run's text summary (trades, net P&L, Sharpe and
 * drawdown, why annualised figures are n/a, rejected orders by reason), as
 * backtest, demo, paper and replay print them. */
void tt_cli_print_figures(const struct tt_report_input *in);

/* ---- live sessions: paper and replay (cli/live_cli.c) ---- */

#define TT_LIVE_MAX_SETS 32

/* What a live feed lost in a session (paper): shown in its summaries. */
typedef struct tt_live_losses {
    int live;          /* 1: a live session (replay has nothing to lose: 0) */
    uint64_t arrived;  /* messages the feed delivered */
    uint64_t drops;    /* market data dropped: the inbox's drop policy and nats.c's */
    uint64_t rejects;  /* messages that could not be decoded */
    uint64_t gaps;     /* disconnections (data published meanwhile is missing) */
} tt_live_losses;

typedef struct tt_live_cli {
    const char *out_dir;     /* --out (NULL: out/<name>-<mode>) */
    const char *orders_file; /* --orders FILE: the order-event list as CSV */
    const char *feed;        /* one line describing the input */
    const char *sets[TT_LIVE_MAX_SETS]; /* --set KEY=VALUE */
    int nsets;
    int json, quiet, no_reports;
    tt_live_losses losses; /* set by paper before tt_live_finish */
    int allow_drops;       /* paper --allow-drops: dropped data does not make exit 3 */
} tt_live_cli;
extern const tt_opt tt_live_opts[];

struct tt_scenario_run;
struct tt_backtest_result;
/* Load the scenario, apply --set, prepare the run; an exit code. */
int tt_live_prepare(const char *path, const tt_live_cli *o, const char *cmd,
                    struct tt_scenario **s, struct tt_scenario_run **run);
/* Reports, the order list, the human lines and the JSON summary (as
 * backtest's, with drops, rejects and gaps for a live session) of a finished
 * session; an exit code: 3 when a live session dropped market data (unless
 * allow_drops). */
int tt_live_finish(struct tt_scenario *s, struct tt_scenario_run *run,
                   struct tt_backtest_result *r, const tt_live_cli *o, const char *mode);

/* The feature publisher of a paper or live session (cli/ml_live.c): the ml:
 * section's rows, published, and the xgb model's rows for its signals; *out
 * NULL when the scenario has neither. The ml: section's and the model's errors. */
struct tt_features_pub;
int tt_live_features(const struct tt_scenario *s, const struct tt_scenario_run *run, int json,
                     struct tt_features_pub **out, tt_err *err);

/* ---- the MT5 commands: mt5-sim, mt5-connector, live (cli/mt5_cli.c) ---- */

typedef struct tt_hostport {
    char host[256];
    int port;
} tt_hostport;
/* A TT_OPT_CUSTOM setter: HOST:PORT into a tt_hostport field. */
int tt_opt_hostport(void *opts, const tt_opt *o, const char *value, tt_err *err);
/* --account netting|hedging: the words and the TT_MODE_* values (an ENUM row). */
extern const char *const tt_account_modes[];
extern const int tt_account_mode_values[];
/* The shared secret from file (NULL: the environment's TT_MT5_SECRET) into
 * out; TT_EINVAL / TT_EIO naming the file, never the secret. */
int tt_mt5_secret(const char *file, char *out, size_t cap, tt_err *err);
/* What the terminal's listener needs (live, mt5-connector): --secret-file,
 * --tls-cert, --tls-key (a TT_OPT_INCLUDE table). */
typedef struct tt_mt5_listen_cli {
    const char *secret_file, *tls_cert, *tls_key;
} tt_mt5_listen_cli;
extern const tt_opt tt_mt5_listen_opts[];
/* The secret into out (tt_mt5_secret); --tls-cert and --tls-key both or
 * neither, the key readable by its owner only (as the secret). TT_EINVAL /
 * TT_EIO naming the option or the file. */
int tt_mt5_listen_check(const tt_mt5_listen_cli *o, char *secret, size_t cap, tt_err *err);

/* The session record in a journal directory (DIR/session.txt): the
 * scenario's canonical text and its XXH3-128, and every --set in order.
 * Written by paper; an exit-code-free error (TT_EIO naming the file). */
int tt_live_session_write(const char *dir, const char *scenario, const tt_live_cli *o,
                          tt_err *err);
/* Replay's check against it: the scenario's hash and the overrides must be
 * those of the session; a difference fails (TT_EXIT_FAIL) naming the keys
 * that differ and both override lists, unless force (then a warning). A
 * journal without a record (older ticktape) is replayed with a warning.
 * Returns an exit code. */
int tt_live_session_check(const char *dir, const char *scenario, const tt_live_cli *o,
                          int force);

/* ---- research runs: sweep and walkforward (cli/research_cli.c) ---- */

#define TT_RESEARCH_MAX_SETS 256
typedef struct tt_research_cli {
    const char *scenario;
    const char *sets[TT_RESEARCH_MAX_SETS]; /* --set KEY=VALUE */
    int nsets;
    uint64_t jobs;             /* --jobs: local runs at a time */
    unsigned runs_per_process; /* runs per process (tt_research_group_size); 0 = not given:
                                * a process's whole share, as TT_POOL_KEEP (--runs-per-process 0) */
    const char *out;
    const char *nats;          /* --nats URL: runs on workers */
    tt_ts ack_wait, timeout;   /* 0 = the queue's defaults */
    uint64_t runs_per_job;     /* 0 = 1 (the default); UINT64_MAX = auto */
    int json, quiet, no_reports;
    int allow_partial;         /* --allow-partial: data.allow_partial=true for every run */
    tt_net_cli net;            /* NATS authentication and TLS, --job-key (cli/net_opts.h) */
} tt_research_cli;
extern const tt_opt tt_research_opts[];
/* After parsing: --set is refused with --nats (a job carries only the
 * sweep's parameters), and the network options are checked (tt_net_check).
 * 0, or TT_EXIT_USAGE after printing the usage error. */
int tt_research_check(tt_research_cli *o, const char *cmd);

/* After parsing: --allow-partial becomes the override data.allow_partial=true
 * (so it travels with every run, to workers too). Cannot fail. */
void tt_research_cli_ready(tt_research_cli *o);

struct tt_run_summary;
/* The "partial" line of a research command (runs on a damaged tape, with
 * --allow-partial); returns how many runs were partial. */
int tt_research_partial(const struct tt_run_summary *runs, size_t n, int quiet);

/* --runs-per-process N (an unsigned field): N runs per runner process,
 * 0 = keep it until a run crashes it (TT_POOL_KEEP, sim/pool.h). */
int tt_opt_runs_per_process(void *opts, const tt_opt *o, const char *value, tt_err *err);
/* Runs per job message for nruns runs: what --runs-per-job chose (0 = not
 * given: 1; UINT64_MAX = auto, tt_js_runs_per_job_auto). */
size_t tt_runs_per_job(uint64_t chosen, size_t nruns);

/* ---- operating a session: status server and notifications (cli/ops_cli.c) ---- */

typedef struct tt_ops_cli {
    tt_hostport http;          /* --http HOST:PORT (host "" = not given) */
    const char *token_file;    /* --http-token-file */
    const char *cert, *key;    /* --http-cert, --http-key */
    const char *notify;        /* --notify RULES */
} tt_ops_cli;
extern const tt_opt tt_ops_opts[];
/* --notify alone (a command that ends, such as train: no status server). */
extern const tt_opt tt_ops_notify_opts[];

/* What the engine's recorder needs (NULL for a command without an engine). */
struct tt_instruments;
typedef struct tt_ops_engine {
    const struct tt_instruments *ins;
    int64_t minor_per_unit;
    const char *currency;
} tt_ops_engine;

/* The command's side, called on server threads (must be thread-safe). */
struct tt_status_info;
typedef struct tt_ops_hooks {
    void (*info)(void *ctx, struct tt_status_info *out); /* may be NULL */
    int (*kill)(void *ctx);                              /* POST /api/kill; NULL = none */
    void (*log)(void *ctx, const char *line);            /* may be NULL */
    void *ctx;
} tt_ops_hooks;

typedef struct tt_ops tt_ops;
struct tt_backtest;
/* Usage checks of the options (an exit code: TT_EXIT_OK or TT_EXIT_USAGE). */
int tt_ops_check(const tt_ops_cli *o, const char *cmd);
/* Read the token and TLS files, load the rules and start the notifier,
 * build the recorder (eng may be NULL). *ops stays NULL when neither --http
 * nor --notify was given. 0 or an error naming the file. */
int tt_ops_open(tt_ops **ops, const tt_ops_cli *o, const char *mode, const tt_ops_engine *eng,
                void (*log)(void *, const char *), tt_err *err);
/* Add the recorder to the run (no-op without one). */
int tt_ops_attach(tt_ops *ops, struct tt_backtest *bt, tt_err *err);
/* Start the status server (no-op without --http); prints its URL on stderr. */
int tt_ops_serve(tt_ops *ops, const tt_ops_hooks *h, tt_err *err);
/* The info callbacks' common parts: an inbox as a source and a queue; and
 * counters or gauges of the command's own (names with the ticktape_ prefix). */
struct tt_inbox_stats;
void tt_ops_info_inbox(struct tt_status_info *in, const char *source,
                       const struct tt_inbox_stats *st, uint32_t queued, uint64_t feed_dropped);
typedef struct tt_ops_metric {
    const char *name, *help;
    int counter; /* 1 counter, 0 gauge */
} tt_ops_metric;
void tt_ops_info_metrics(struct tt_status_info *in, const tt_ops_metric *m, const double *values,
                         int n);
/* An event from outside the engine (disconnect, reconnect, job done): to
 * the event stream and the notifier. NULL ops: no-op. */
void tt_ops_event(tt_ops *ops, const char *subject, const char *json);
/* Stop the server, deliver pending notifications (5 s at most), free. */
void tt_ops_close(tt_ops *ops);

#endif
