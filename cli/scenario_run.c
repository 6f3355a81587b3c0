/*
 * Running one scenario: the backtest, its figures, its reports and its
 * summary lines; shared by `ticktape backtest` and `ticktape demo` (which
 * runs the built-in scenario through exactly this path).
 *
 * How this works: the scenario (overrides applied) is translated into a
 * backtest configuration (tt_scenario_prepare), run (sim/backtest.h), its
 * figures computed during the run (core/metrics.h) and its reports written
 * (reports/report.h). Output: a few human lines on stdout ending with the
 * fingerprint, then the gates (cli/gates.c), and with --json the summary
 * object as the last line of stdout. A progress bar shows on stderr only
 * when it is a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/metrics.h"
#include "reports/report.h"
#include "reports/report_run.h"
#include "sim/backtest.h"
#include "sim/scenario.h"

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

void tt_cli_print_figures(const tt_report_input *in)
{
    const tt_metrics *m = in->metrics;
    char net[48], dd[48], com[48], wr[32], pf[32], sh[32], so[32], ts[32], sqn[32], rule[400];
    tt_report_money(m->net_pnl, in->minor_per_unit, net, sizeof net);
    tt_report_money(m->max_drawdown, in->minor_per_unit, dd, sizeof dd);
    tt_report_money(m->commissions, in->minor_per_unit, com, sizeof com);
    tt_report_num(m->win_rate_pct, 1, "%", wr, sizeof wr);
    tt_report_num(m->profit_factor, 3, NULL, pf, sizeof pf);
    tt_report_num(m->sharpe, 3, NULL, sh, sizeof sh);
    tt_report_num(m->sortino, 3, NULL, so, sizeof so);
    tt_report_num(m->trade_sharpe, 3, NULL, ts, sizeof ts);
    tt_report_num(m->sqn, 2, NULL, sqn, sizeof sqn);
    printf("trades       %llu (win rate %s, profit factor %s, per-trade sharpe %s, SQN %s)\n",
           (unsigned long long)m->trades, wr, pf, ts, sqn);
    printf("net P&L      %s %s (%.2f%%), commissions %s\n", net, in->currency, m->return_pct, com);
    printf("sharpe       %s   sortino %s   max drawdown %.2f%% (%s %s)\n", sh, so,
           m->max_drawdown_pct, dd, in->currency);
    tt_report_rule_text(m, rule, sizeof rule);
    if (rule[0])
        printf("note         %s\n", rule);
    char rej[600];
    tt_report_rejects_text(in->rejects, rej, sizeof rej);
    if (rej[0])
        printf("rejected     %s\n", rej);
}

static void print_human(const tt_scenario *s, const tt_report_input *in, const char *dir,
                        const tt_backtest_result *r, double secs)
{
    char fp[33];
    tt_fingerprint_hex(in->fingerprint, fp);
    printf("scenario     %s (%s)\n", tt_scenario_name(s), tt_scenario_file(s));
    printf("data         %s\n", in->data);
    printf("strategy     %s %s\n", in->strategy, in->params);
    printf("events       %llu in %.2f s (%.2f M events/s)\n", (unsigned long long)r->events,
           secs, secs > 0 ? (double)r->events / secs / 1e6 : 0.0);
    tt_cli_print_figures(in);
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
    tt_report_run_data(s, run, NULL, data, sizeof data);
    char *scen_text = tt_scenario_text(s);
    if (!scen_text) { /* a report without its scenario would say "(not given)" */
        tt_err_set(&err, TT_ENOMEM, "%s: out of memory (the scenario's text)",
                   tt_scenario_file(s));
        code = tt_report_error(&err);
        goto done;
    }
    tt_report_input in;
    tt_report_run_input(&in, s, run, &r, &m, scen_text, data,
                        run->data_from ? run->data_from : r.first_ts,
                        run->data_to ? run->data_to : r.last_ts);

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
