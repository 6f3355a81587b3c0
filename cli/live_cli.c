/*
 * What paper and replay share: their common options (tt_live_opts), loading
 * and preparing the scenario, and the report step after the session.
 *
 * A live session (cli/cmd_paper.c) and the replay of its journal
 * (cli/cmd_replay.c) end alike: the reports of a backtest, the order-event
 * list as CSV for comparison, a few human lines ending with the fingerprint,
 * and with --json the same summary object as `backtest --json`, so a
 * session and its replay can be compared line for line.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/metrics.h"
#include "reports/report.h"
#include "reports/report_run.h"
#include "sim/scenario.h"

#define F(field) offsetof(tt_live_cli, field)

const tt_opt tt_live_opts[] = {
    {TT_OPT_LIST, "set", .off = F(sets), .count_off = F(nsets), .max_count = TT_LIVE_MAX_SETS,
     .arg = "KEY=VALUE", .flags = TT_OPT_KEYVAL,
     .help = "override a scenario key (a replay with overrides has another outcome)"},
    {TT_OPT_STRING, "out", .off = F(out_dir), .arg = "DIR",
     .def_text = "out/<scenario name>-<command>", .help = "reports directory"},
    {TT_OPT_STRING, "orders", .off = F(orders_file), .arg = "FILE",
     .help = "write the order-event list as CSV"},
    {TT_OPT_FLAG, "no-reports", .off = F(no_reports), .help = "write no report files"},
    {TT_OPT_FLAG, "json", .off = F(json),
     .help = "last line of stdout: the summary (as backtest --json)"},
    {TT_OPT_FLAG, "quiet", .off = F(quiet), .help = "no human lines on stdout"},
    {TT_OPT_END},
};

static int write_orders(const char *path, const tt_backtest_result *r, const tt_instruments *ins,
                        tt_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot write", path);
    fprintf(f, "ts,client_id,venue_id,symbol,status,reason,side,price,qty\n");
    for (size_t i = 0; i < r->norders; i++) {
        const tt_order_record *o = &r->orders[i];
        const tt_instrument *in = tt_instruments_get(ins, o->symbol);
        fprintf(f, "%lld,%llu,%llu,%s,%s,%u,%d,%lld,%lld\n", (long long)o->ts,
                (unsigned long long)o->client_id, (unsigned long long)o->venue_id,
                in ? in->symbol : "?", tt_order_status_name(o->status), o->reason, o->side,
                (long long)o->price, (long long)o->qty);
    }
    int bad = ferror(f); /* a write that failed before the last flush */
    if (fclose(f) || bad)
        return tt_err_set(err, TT_EIO, "%s: write failed", path);
    return TT_OK;
}

int tt_live_finish(tt_scenario *s, tt_scenario_run *run, tt_backtest_result *r,
                   const tt_live_cli *o, const char *mode)
{
    tt_err err;
    tt_err_clear(&err);
    tt_metrics m = r->metrics; /* exact, computed during the run */
    char data[600];
    tt_report_run_data(s, run, o->feed, data, sizeof data);
    char *scen_text = tt_scenario_text(s);
    if (!scen_text) { /* a report without its scenario would say "(not given)" */
        tt_err_set(&err, TT_ENOMEM, "%s: out of memory (the scenario's text)",
                   tt_scenario_file(s));
        return tt_report_error(&err);
    }
    tt_report_input in;
    tt_report_run_input(&in, s, run, r, &m, scen_text, data, r->first_ts, r->last_ts);
    int code = TT_EXIT_OK;
    char dir[4200] = "";
    if (!o->no_reports) {
        if (o->out_dir)
            snprintf(dir, sizeof dir, "%s", o->out_dir);
        else
            snprintf(dir, sizeof dir, "out/%s-%s", tt_scenario_name(s), mode);
        tt_report_outputs which = {run->outputs.html, run->outputs.json, run->outputs.csv,
                                   run->outputs.hdf5};
        if (tt_report_write_all(&in, dir, &which, &err) != TT_OK)
            code = tt_report_error(&err);
    }
    if (code == TT_EXIT_OK && o->orders_file &&
        write_orders(o->orders_file, r, run->instruments, &err) != TT_OK)
        code = tt_report_error(&err);
    if (!o->quiet) {
        char fp[33], net[48];
        tt_fingerprint_hex(r->fingerprint, fp);
        tt_report_money(m.net_pnl, in.minor_per_unit, net, sizeof net);
        printf("%-12s %s (%s)\n", mode, tt_scenario_name(s), tt_scenario_file(s));
        printf("data         %s\n", data);
        printf("strategy     %s %s\n", in.strategy, in.params ? in.params : "");
        printf("events       %llu\n", (unsigned long long)r->events);
        printf("orders       %llu sent, %llu fills, %llu risk rejects; %zu order events\n",
               (unsigned long long)r->orders_sent, (unsigned long long)r->fills,
               (unsigned long long)r->risk_rejects, r->norders);
        printf("trades       %llu, net P&L %s %s\n", (unsigned long long)m.trades, net,
               in.currency);
        if (dir[0])
            printf("reports      %s\n", dir);
        printf("fingerprint: %s\n", fp); /* the last line of every run */
    }
    if (o->json) {
        fflush(stdout);
        tt_report_json_write(&in, stdout, 1);
    }
    free(scen_text);
    return code;
}

/* Load the scenario, apply --set, prepare the run. */
int tt_live_prepare(const char *path, const tt_live_cli *o, const char *cmd, tt_scenario **s,
                    tt_scenario_run **run)
{
    tt_err err;
    if (tt_scenario_load(s, path, &err) != TT_OK)
        return tt_report_error(&err);
    for (int i = 0; i < o->nsets; i++) {
        if (tt_scenario_set(*s, o->sets[i], &err) != TT_OK) {
            tt_scenario_free(*s);
            return tt_usage_error(cmd, "%s", err.msg);
        }
    }
    *run = calloc(1, sizeof **run);
    if (!*run) {
        tt_scenario_free(*s);
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        return tt_report_error(&err);
    }
    if (tt_scenario_prepare(*s, *run, &err) != TT_OK) {
        free(*run);
        tt_scenario_free(*s);
        return tt_report_error(&err);
    }
    return TT_EXIT_OK;
}
