/*
 * ticktape backtest SCENARIO [--set key=value ...] [--out DIR] [--json]
 *
 * How this works: load the scenario (sim/scenario.h), apply the --set
 * overrides in order, translate it into a backtest configuration, run it
 * (sim/backtest.h), compute the figures (core/metrics.h) and write the
 * reports (reports/report.h). `ticktape demo` runs the same path on a
 * built-in scenario (tt_backtest_scenario below).
 *
 * Output: a few human lines on stdout (figures and where the report is); with
 * --json the last line of stdout is one JSON object (the summary.json object
 * on one line). A progress bar shows on stderr only when it is a terminal.
 *
 * Exit codes: 0 ran; 1 the run or a scenario file failed (the message names
 * the file, line and key); 2 a usage error (unknown option, bad --set).
 *
 * Adding options: extend backtest_opts, the FLAGS list (options without a
 * value) and parse_option(); everything after parsing receives the struct.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/metrics.h"
#include "reports/report.h"
#include "sim/backtest.h"
#include "sim/scenario.h"

#define MAX_SETS 256

typedef struct backtest_opts {
    const char *scenario;
    const char *sets[MAX_SETS];
    int nsets;
    tt_backtest_cli run;
    int keys; /* --keys: list the scenario keys and exit */
} backtest_opts;

static const char *const FLAGS[] = {"json", "quiet", "keys", "no-reports", "gate", "help", "h", NULL};

static void usage(FILE *f)
{
    fputs("usage: ticktape backtest SCENARIO.yaml [options]\n\n"
          "Run one backtest described by a scenario file (docs/scenarios.md) and write its\n"
          "reports: report.html, summary.json, trades.csv, series.h5 (docs/reports.md).\n\n"
          "options:\n"
          "  --set KEY=VALUE   override a scenario key (dotted: venue.latency_ms=5,\n"
          "                    strategy.params.fast=12); repeatable, applied in order\n"
          "  --out DIR         where the reports go (default: outputs.dir of the scenario,\n"
          "                    else out/<scenario name>)\n"
          "  --json            print the summary as one JSON object on the last line\n"
          "  --quiet           print nothing but errors (and the JSON line with --json)\n"
          "  --no-reports      do not write report files\n"
          "  --keys            list every scenario key with its type and meaning\n"
          "  --gate            check the gates: section (docs/research.md); exit 4 if one fails\n"
          "  --junit FILE      write the gate verdicts as JUnit XML\n"
          "  --save-baseline FILE  write the figures as a gates baseline\n"
          "  --help            this text\n\n"
          "exit codes: 0 ran, 1 failed (scenario error, data error), 2 usage error\n",
          f);
}

/* One option; returns 0, or an exit code to stop with. */
static int parse_option(backtest_opts *o, const tt_opt *op)
{
    if (!op->name) {
        if (o->scenario)
            return tt_usage_error("backtest", "one scenario at a time (got '%s' and '%s')",
                                  o->scenario, op->value);
        o->scenario = op->value;
    } else if (tt_opt_is(op, "set")) {
        if (!op->value)
            return tt_usage_error("backtest", "--set needs KEY=VALUE");
        if (o->nsets == MAX_SETS)
            return tt_usage_error("backtest", "too many --set (at most %d)", MAX_SETS);
        o->sets[o->nsets++] = op->value;
    } else if (tt_opt_is(op, "out")) {
        if (!op->value || !*op->value)
            return tt_usage_error("backtest", "--out needs a directory");
        o->run.out_dir = op->value;
    } else if (tt_opt_is(op, "json")) {
        o->run.json = 1;
    } else if (tt_opt_is(op, "quiet")) {
        o->run.quiet = 1;
    } else if (tt_opt_is(op, "no-reports")) {
        o->run.no_reports = 1;
    } else if (tt_opt_is(op, "keys")) {
        o->keys = 1;
    } else if (tt_opt_is(op, "gate")) {
        o->run.gate.gate = 1;
    } else if ((tt_opt_is(op, "junit") || tt_opt_is(op, "save-baseline")) && op->value) {
        *(tt_opt_is(op, "junit") ? &o->run.gate.junit : &o->run.gate.save_baseline) = op->value;
    } else {
        return tt_usage_error("backtest", "unknown option --%s", op->name);
    }
    return 0;
}

/* ---- running a scenario (shared with `ticktape demo`) ---- */

typedef struct progress_ctx {
    tt_progress bar;
    tt_ts from;
} progress_ctx;

static void on_progress(void *ctx, uint64_t events, tt_ts now)
{
    progress_ctx *p = ctx;
    (void)events;
    if (now > p->from)
        tt_progress_update(&p->bar, (uint64_t)((now - p->from) / TT_NS_PER_SEC));
}

static void describe_data(const tt_scenario *s, const tt_scenario_run *run, char *buf, size_t n)
{
    char syms[256] = "";
    size_t used = 0;
    for (int i = 0; run->cfg.symbols[i] && used < sizeof syms; i++)
        used += (size_t)snprintf(syms + used, sizeof syms - used, "%s%s", i ? "," : "",
                                 run->cfg.symbols[i]);
    if (run->synthetic)
        snprintf(buf, n, "synthetic %s market: %s",
                 tt_scenario_get(s, "data.synthetic.model", "gbm"), syms);
    else
        snprintf(buf, n, "tape %s: %s", tt_scenario_get(s, "data.tape", "?"), syms);
}

/* out/<name>, the name reduced to [A-Za-z0-9._-] so that it stays one
 * directory under out/ whatever the scenario calls itself. */
static void default_dir(const char *name, char *buf, size_t n)
{
    int len = snprintf(buf, n, "out/");
    for (const char *p = name; *p && (size_t)len + 1 < n; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || (c == '.' && p != name);
        buf[len++] = ok ? c : '_';
    }
    buf[len] = '\0';
}

static void print_human(const tt_scenario *s, const tt_report_input *in, const char *dir,
                        const tt_backtest_result *r, double secs)
{
    const tt_metrics *m = in->metrics;
    char net[48], dd[48], fp[33], com[48];
    tt_report_money(m->net_pnl, in->minor_per_unit, net, sizeof net);
    tt_report_money(m->max_drawdown, in->minor_per_unit, dd, sizeof dd);
    tt_report_money(m->commissions, in->minor_per_unit, com, sizeof com);
    tt_fingerprint_hex(in->fingerprint, fp);
    printf("scenario     %s (%s)\n", tt_scenario_name(s), tt_scenario_file(s));
    printf("data         %s\n", in->data);
    printf("strategy     %s %s\n", in->strategy, in->params);
    printf("events       %llu in %.2f s (%.2f M events/s)\n", (unsigned long long)r->events,
           secs, secs > 0 ? (double)r->events / secs / 1e6 : 0.0);
    printf("trades       %llu (win rate %.1f%%, profit factor %.3f)\n",
           (unsigned long long)m->trades, isnan(m->win_rate) ? 0.0 : m->win_rate * 100.0,
           m->profit_factor);
    printf("net P&L      %s %s (%.2f%%), commissions %s\n", net, in->currency, m->return_pct, com);
    printf("sharpe       %.3f   sortino %.3f   max drawdown %.2f%% (%s %s)\n", m->sharpe,
           m->sortino, m->max_drawdown_pct, dd, in->currency);
    if (dir)
        printf("report       %s/report.html\n", dir);
    printf("fingerprint: %s\n", fp); /* the last line of every run */
}

int tt_backtest_scenario(tt_scenario *s, const tt_backtest_cli *o)
{
    tt_err err;
    tt_err_clear(&err);
    tt_scenario_run *run = calloc(1, sizeof *run);
    if (!run) {
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        return tt_report_error(&err);
    }
    if (tt_scenario_prepare(s, run, &err) != TT_OK) {
        free(run);
        return tt_report_error(&err);
    }
    progress_ctx prog;
    tt_ts span = run->data_to > run->data_from ? run->data_to - run->data_from : 0;
    prog.from = run->data_from;
    tt_progress_start(&prog.bar, "backtest", (uint64_t)(span / TT_NS_PER_SEC));
    if (prog.bar.enabled && span > 0 && !o->quiet) {
        run->cfg.progress = on_progress;
        run->cfg.progress_ctx = &prog;
        run->cfg.progress_every = 200000;
    }
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    double t0 = tt_wall_seconds();
    int rc = tt_backtest_run(&run->cfg, &r, &err);
    double secs = tt_wall_seconds() - t0;
    if (run->cfg.progress)
        tt_progress_finish(&prog.bar);
    int code = TT_EXIT_OK;
    if (rc != TT_OK) {
        code = tt_report_error(&err);
        goto done;
    }
    if (r.events == 0)
        fprintf(stderr, "ticktape: warning: %s: no market data in the range replayed "
                        "(check data.from/data.to, data.symbols and the tape)\n",
                tt_scenario_file(s));

    /* exact figures over every sampled point, whatever the kept series holds */
    tt_metrics m = r.metrics;

    char data[400];
    describe_data(s, run, data, sizeof data);
    char *scen_text = tt_scenario_text(s);
    tt_report_input in = {
        .name = tt_scenario_name(s),
        .scenario_text = scen_text,
        .strategy = run->cfg.strategy,
        .params = run->cfg.params,
        .data = data,
        .fingerprint = r.fingerprint,
        .events = r.events,
        .trades = r.trades,
        .ntrades = r.ntrades,
        .equity = r.equity,
        .nequity = r.nequity,
        .metrics = &m,
        .instruments = run->instruments,
        .currency = run->cfg.venue.account.currency[0] ? run->cfg.venue.account.currency : "USD",
        .minor_per_unit = run->minor_per_unit,
        .from = run->data_from ? run->data_from : r.first_ts,
        .to = run->data_to ? run->data_to : r.last_ts,
        .orders_sent = r.orders_sent,
        .fills = r.fills,
        .risk_rejects = r.risk_rejects,
        .stop_outs = r.stop_outs,
    };

    char dir[4200] = "";
    if (!o->no_reports) {
        if (o->out_dir)
            snprintf(dir, sizeof dir, "%s", o->out_dir);
        else if (run->outputs.dir[0])
            snprintf(dir, sizeof dir, "%s", run->outputs.dir);
        else
            default_dir(tt_scenario_name(s), dir, sizeof dir);
        tt_report_outputs which = {run->outputs.html, run->outputs.json, run->outputs.csv,
                                   run->outputs.hdf5};
        if (tt_report_write_all(&in, dir, &which, &err) != TT_OK) {
            code = tt_report_error(&err);
            free(scen_text);
            goto done;
        }
    }
    if (!o->quiet)
        print_human(s, &in, dir[0] && run->outputs.html ? dir : NULL, &r, secs);
    if (!o->quiet && dir[0] && !run->outputs.html)
        printf("reports      %s\n", dir);
    /* Gates before the JSON line, which must stay the last line of stdout. */
    code = tt_cli_gates(tt_scenario_file(s), tt_scenario_name(s), &m, NULL, run->minor_per_unit,
                        &o->gate, o->quiet);
    if (o->json) {
        fflush(stdout);
        tt_report_json_write(&in, stdout, 1);
    }
    free(scen_text);
done:
    tt_backtest_result_free(&r);
    tt_scenario_release(run);
    free(run);
    return code;
}

int tt_cmd_backtest(int argc, char **argv)
{
    backtest_opts o;
    memset(&o, 0, sizeof o);
    tt_opt op;
    tt_opt_init(&op, argc, argv);
    while (tt_opt_next(&op, FLAGS)) {
        if (tt_opt_is(&op, "help") || tt_opt_is(&op, "h")) {
            usage(stdout);
            return TT_EXIT_OK;
        }
        int rc = parse_option(&o, &op);
        if (rc)
            return rc;
    }
    if (o.keys) {
        tt_scenario_schema_write(stdout);
        return TT_EXIT_OK;
    }
    if (!o.scenario)
        return tt_usage_error("backtest", "missing the scenario file");

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
