/*
 * ticktape walkforward SCENARIO [--jobs N] [--json] [--gate] [--junit FILE]
 *
 * How this works: the scenario's walkforward: section gives the folds and the
 * objective, its sweep: section the parameter sets to choose from
 * (sim/walkforward.h). Every (fold, parameter set) pair runs on its train
 * window in a bounded pool of processes, the winner of each fold runs on the
 * following test window, and the out-of-sample equity is stitched. The
 * stitched run is written as a normal backtest report (reports/report.h) in
 * --out, plus walkforward.json with every fold.
 *
 * Gates (tt_cli_gates, shared with `backtest --gate`): with --gate, the
 * gates: section is evaluated on the combined out-of-sample figures and the
 * walk-forward efficiency; a failed gate prints a table and exits 4; --junit
 * writes the verdicts as JUnit XML for CI.
 *
 * Exit codes: 0 done (and every gate passed); 4 a gate failed; 3 some runs
 * failed; 1 failure; 2 usage error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "live/jetstream.h"
#include "live/job_runner.h"
#include "net_opts.h"
#include "reports/report.h"
#include "sim/gates.h"
#include "sim/research.h"
#include "sim/scenario.h"
#include "sim/sweep.h"
#include "sim/walkforward.h"

#define MAX_SETS 256

/* ---- gates, shared with `backtest --gate` ---- */

int tt_cli_gates(const char *scenario_file, const char *suite, const tt_metrics *m,
                 const double *wfe, long long minor_per_unit, const tt_cli_gate_opts *g, int quiet)
{
    tt_err err;
    tt_err_clear(&err);
    if (g->save_baseline) {
        if (tt_baseline_write(g->save_baseline, m, wfe, minor_per_unit, &err))
            return tt_report_error(&err);
        if (!quiet)
            printf("baseline     %s\n", g->save_baseline);
    }
    if (!g->gate && !g->junit)
        return TT_EXIT_OK;
    tt_research_doc *doc;
    if (tt_research_doc_load(&doc, scenario_file, &err))
        return tt_report_error(&err);
    tt_gates gates;
    int rc = tt_gates_read(&gates, doc, &err);
    tt_research_doc_free(doc);
    if (rc)
        return tt_report_error(&err);
    gates.minor_per_unit = minor_per_unit;
    tt_gate_result *res;
    size_t nfail;
    rc = tt_gates_eval(&gates, m, wfe, &res, &nfail, &err);
    if (!rc && g->junit)
        rc = tt_gates_junit(g->junit, suite, res, gates.n, &err);
    int code = TT_EXIT_OK;
    if (rc) {
        code = tt_report_error(&err);
    } else if (nfail && g->gate) {
        fprintf(stderr, "ticktape: %zu of %zu gates failed:\n", nfail, gates.n);
        tt_gates_table(stderr, res, gates.n);
        code = TT_EXIT_GATE;
    } else if (!quiet) {
        printf("gates        %zu of %zu passed%s\n", gates.n - nfail, gates.n,
               nfail ? " (not enforced without --gate)" : "");
    }
    if (!rc && !quiet && nfail == 0 && g->gate)
        tt_gates_table(stdout, res, gates.n);
    free(res);
    tt_gates_free(&gates);
    return code;
}

/* ---- the command ---- */

typedef struct wf_opts {
    const char *scenario;
    const char *sets[MAX_SETS];
    int nsets;
    uint64_t jobs;
    int json, quiet, no_reports;
    const char *out;
    tt_cli_gate_opts gate;
    const char *nats;
    tt_ts ack_wait, timeout;
    uint64_t runs_per_job; /* 0 = 1 (the default); UINT64_MAX = auto (tt_js_runs_per_job_auto) */
    unsigned runs_per_process; /* local runs (tt_pool_opts); 1 = a fresh process per run */
    tt_net_opts net;
} wf_opts;

static const char *const FLAGS[] = {"json", "quiet", "no-reports", "gate", "help", "h", NULL};

static void usage(FILE *f)
{
    fputs("usage: ticktape walkforward SCENARIO.yaml [options]\n\n"
          "Walk-forward analysis (docs/research.md): on each train window, run every\n"
          "parameter set of the sweep: section and keep the best by the objective of\n"
          "the walkforward: section; run it on the following test window; stitch the\n"
          "out-of-sample equity. Prints each fold, the combined out-of-sample figures\n"
          "and the walk-forward efficiency; writes the out-of-sample report.\n\n"
          "options:\n"
          "  --jobs N              runs at a time, each in its own process (default 1)\n"
          "  --runs-per-process N  local runs: N per process, one after the other\n"
          "                        (default 1: a fresh process per run; 0: keep it)\n"
          "  --set KEY=VALUE       override a scenario key; repeatable\n"
          "  --out DIR             where the reports go (default out/<name>-walkforward)\n"
          "  --gate                check the gates: section; exit 4 if a gate fails\n"
          "  --junit FILE          write the gate verdicts as JUnit XML\n"
          "  --save-baseline FILE  write the out-of-sample figures as a gates baseline\n"
          "  --nats URL            run the train runs on `ticktape worker` processes through\n"
          "                        NATS JetStream (the test runs stay local)\n"
          "  --ack-wait DUR        with --nats: redeliver after a silent worker (default 30s)\n"
          "  --timeout DUR         with --nats: give up without a new result (default 10m)\n"
          "  --runs-per-job K      with --nats: K train runs per job message (default 1;\n"
          "                        auto: train runs/16, from 1 to 8)\n"
          "  --json                print the result as one JSON object on the last line\n"
          "  --quiet               print nothing but errors (and the JSON line)\n"
          "  --no-reports          write no report files\n"
          "  --help                this text\n\n"
          "exit codes: 0 done, 4 a gate failed, 3 some runs failed, 1 failure, 2 usage\n",
          f);
    tt_net_usage(f, "walkforward");
}

static int parse_option(wf_opts *o, const tt_opt *op)
{
    int net = tt_net_opt(&o->net, "walkforward", op);
    if (net >= 0)
        return net;
    if (!op->name) {
        if (o->scenario)
            return tt_usage_error("walkforward", "one scenario at a time");
        o->scenario = op->value;
    } else if (tt_opt_is(op, "set")) {
        if (!op->value || !strchr(op->value, '='))
            return tt_usage_error("walkforward", "--set needs KEY=VALUE");
        if (o->nsets == MAX_SETS)
            return tt_usage_error("walkforward", "too many --set");
        o->sets[o->nsets++] = op->value;
    } else if (tt_opt_is(op, "jobs")) {
        if (!op->value || tt_parse_u64(op->value, &o->jobs) || o->jobs == 0 || o->jobs > 4096)
            return tt_usage_error("walkforward", "--jobs needs a number from 1 to 4096");
    } else if (tt_opt_is(op, "runs-per-process")) {
        return tt_parse_runs_per_process("walkforward", op->value, &o->runs_per_process);
    } else if (tt_opt_is(op, "out")) {
        if (!op->value || !*op->value)
            return tt_usage_error("walkforward", "--out needs a directory");
        o->out = op->value;
    } else if (tt_opt_is(op, "junit")) {
        if (!op->value || !*op->value)
            return tt_usage_error("walkforward", "--junit needs a file name");
        o->gate.junit = op->value;
    } else if (tt_opt_is(op, "save-baseline")) {
        if (!op->value || !*op->value)
            return tt_usage_error("walkforward", "--save-baseline needs a file name");
        o->gate.save_baseline = op->value;
    } else if (tt_opt_is(op, "nats")) {
        if (!op->value || !*op->value)
            return tt_usage_error("walkforward", "--nats needs a URL (nats://127.0.0.1:4222)");
        o->nats = op->value;
    } else if (tt_opt_is(op, "runs-per-job")) {
        return tt_parse_runs_per_job("walkforward", op->value, &o->runs_per_job);
    } else if (tt_opt_is(op, "ack-wait") || tt_opt_is(op, "timeout")) {
        tt_err e;
        if (tt_duration_parse(op->value, tt_opt_is(op, "ack-wait") ? &o->ack_wait : &o->timeout,
                              tt_opt_is(op, "ack-wait") ? "--ack-wait" : "--timeout", &e))
            return tt_usage_error("walkforward", "%s", e.msg);
    } else if (tt_opt_is(op, "gate")) {
        o->gate.gate = 1;
    } else if (tt_opt_is(op, "json")) {
        o->json = 1;
    } else if (tt_opt_is(op, "quiet")) {
        o->quiet = 1;
    } else if (tt_opt_is(op, "no-reports")) {
        o->no_reports = 1;
    } else {
        return tt_usage_error("walkforward", "unknown option --%s", op->name);
    }
    return 0;
}

static void on_tick(void *ctx, size_t done, size_t total)
{
    (void)total;
    tt_progress *bar = ctx;
    tt_progress_update(bar, done);
}

static void day(tt_ts ts, char *buf, size_t n)
{
    char full[40];
    tt_ts_format(ts, full, sizeof full, 0);
    /* "2019-02-04T12:00:00.000Z" -> "2019-02-04 12:00" */
    snprintf(buf, n, "%.10s %.5s", full, full + 11);
}

static void print_folds(const tt_wf_result *r, const tt_sweep_plan *plan, const tt_wf_spec *spec,
                        int64_t mpu, const char *cur)
{
    printf("%-4s %-16s %-16s %-16s %-36s %10s %10s %7s %10s %7s\n", "fold", "train from",
           "test from", "test to", "chosen", tt_wf_objective_name(spec->objective), "IS pnl",
           "IS n", "OOS pnl", "OOS n");
    for (size_t f = 0; f < r->nfolds; f++) {
        const tt_wf_fold *fd = &r->folds[f];
        char a[24], b[24], c[24], ps[256] = "(no run qualified)", isp[32] = "", oosp[32] = "";
        day(fd->w.train_from, a, sizeof a);
        day(fd->w.test_from, b, sizeof b);
        day(fd->w.test_to, c, sizeof c);
        if (fd->has_winner) {
            tt_params_format(tt_sweep_job_params(plan, fd->winner), plan->nparams, ps, sizeof ps);
            tt_report_money(fd->is.m.net_pnl, mpu, isp, sizeof isp);
            if (fd->oos.status == TT_RUN_OK)
                tt_report_money(fd->oos.m.net_pnl, mpu, oosp, sizeof oosp);
            else
                snprintf(oosp, sizeof oosp, "%s", tt_run_status_name(fd->oos.status));
        }
        double obj = spec->objective == TT_WF_NET_PNL ? fd->objective / (double)mpu
                                                       : fd->objective;
        printf("%-4zu %-16s %-16s %-16s %-36s %10.4g %10s %7llu %10s %7llu\n", f + 1, a, b, c, ps,
               obj, isp, (unsigned long long)fd->is.m.trades, oosp,
               (unsigned long long)fd->oos.m.trades);
    }
    char net[48], dd[48];
    tt_report_money(r->oos.net_pnl, mpu, net, sizeof net);
    tt_report_money(r->oos.max_drawdown, mpu, dd, sizeof dd);
    printf("out-of-sample net P&L %s %s (%.2f%%), sharpe %.3f, max drawdown %.2f%% (%s %s), "
           "%llu trades\n", net, cur, r->oos.return_pct, r->oos.sharpe, r->oos.max_drawdown_pct, dd,
           cur, (unsigned long long)r->oos.trades);
    printf("walk-forward efficiency %.3f (OOS %.2f / IS %.2f %s per day)\n", r->wfe,
           r->oos_rate / (double)mpu, r->is_rate / (double)mpu, cur);
}

static void json_summary(tt_buf *b, const tt_run_summary *s, int64_t mpu)
{
    tt_buf_printf(b, "{\"status\":\"%s\",\"net_pnl\":", tt_run_status_name(s->status));
    char v[48];
    tt_report_money(s->m.net_pnl, mpu, v, sizeof v);
    tt_buf_printf(b, "%s,\"sharpe\":", v);
    tt_buf_json_double(b, s->m.sharpe);
    tt_buf_printf(b, ",\"return_pct\":");
    tt_buf_json_double(b, s->m.return_pct);
    tt_buf_printf(b, ",\"profit_factor\":");
    tt_buf_json_double(b, s->m.profit_factor);
    tt_buf_printf(b, ",\"max_drawdown_pct\":");
    tt_buf_json_double(b, s->m.max_drawdown_pct);
    char hex[33];
    tt_fingerprint_hex(s->fp, hex);
    tt_buf_printf(b, ",\"trades\":%llu,\"fingerprint\":\"%s\"}", (unsigned long long)s->m.trades,
                  hex);
}

static void json_result(tt_buf *b, const char *name, const tt_wf_result *r,
                        const tt_sweep_plan *plan, const tt_wf_spec *spec, int64_t mpu)
{
    char fp[33];
    tt_fingerprint_hex(r->fp, fp);
    tt_buf_printf(b, "{\"name\":");
    tt_buf_json_string(b, name);
    tt_buf_printf(b, ",\"mode\":\"%s\",\"objective\":\"%s\",\"min_trades\":%llu,\"folds\":[",
                  spec->anchored ? "anchored" : "rolling", tt_wf_objective_name(spec->objective),
                  (unsigned long long)spec->min_trades);
    for (size_t f = 0; f < r->nfolds; f++) {
        const tt_wf_fold *fd = &r->folds[f];
        char t[4][40];
        tt_ts_format(fd->w.train_from, t[0], sizeof t[0], 0);
        tt_ts_format(fd->w.train_to, t[1], sizeof t[1], 0);
        tt_ts_format(fd->w.test_from, t[2], sizeof t[2], 0);
        tt_ts_format(fd->w.test_to, t[3], sizeof t[3], 0);
        tt_buf_printf(b, "%s{\"fold\":%zu,\"train_from\":\"%s\",\"train_to\":\"%s\","
                      "\"test_from\":\"%s\",\"test_to\":\"%s\",\"qualified\":%zu,\"params\":",
                      f ? "," : "", f + 1, t[0], t[1], t[2], t[3], fd->qualified);
        if (fd->has_winner) {
            const tt_param *p = tt_sweep_job_params(plan, fd->winner);
            tt_buf_printf(b, "{");
            for (size_t k = 0; k < plan->nparams; k++) {
                tt_buf_printf(b, "%s", k ? "," : "");
                tt_buf_json_string(b, p[k].key);
                tt_buf_printf(b, ":");
                tt_buf_json_string(b, p[k].value);
            }
            tt_buf_printf(b, "},\"objective\":");
            tt_buf_json_double(b, spec->objective == TT_WF_NET_PNL ? fd->objective / (double)mpu
                                                                   : fd->objective);
            tt_buf_printf(b, ",\"in_sample\":");
            json_summary(b, &fd->is, mpu);
            tt_buf_printf(b, ",\"out_of_sample\":");
            json_summary(b, &fd->oos, mpu);
        } else {
            tt_buf_printf(b, "null");
        }
        tt_buf_printf(b, "}");
    }
    char net[48];
    tt_report_money(r->oos.net_pnl, mpu, net, sizeof net);
    tt_buf_printf(b, "],\"oos\":{\"net_pnl\":%s,\"return_pct\":", net);
    tt_buf_json_double(b, r->oos.return_pct);
    tt_buf_printf(b, ",\"sharpe\":");
    tt_buf_json_double(b, r->oos.sharpe);
    tt_buf_printf(b, ",\"max_drawdown_pct\":");
    tt_buf_json_double(b, r->oos.max_drawdown_pct);
    tt_buf_printf(b, ",\"profit_factor\":");
    tt_buf_json_double(b, r->oos.profit_factor);
    tt_buf_printf(b, ",\"trades\":%llu},\"wfe\":", (unsigned long long)r->oos.trades);
    tt_buf_json_double(b, r->wfe);
    tt_buf_printf(b, ",\"is_rate_per_day\":");
    tt_buf_json_double(b, r->is_rate / (double)mpu);
    tt_buf_printf(b, ",\"oos_rate_per_day\":");
    tt_buf_json_double(b, r->oos_rate / (double)mpu);
    tt_buf_printf(b, ",\"fingerprint\":\"%s\"}", fp);
}

/* ---- train runs on NATS workers ---- */

typedef struct nats_train {
    const wf_opts *o;
    char scenario[TT_SHA256_HEX]; /* the file's SHA-256: workers find it by its bytes */
    char tag[9];
    char prefix[40];
    tt_run_summary *out;
    const tt_sweep_plan *plan;
} nats_train;

static void on_train_result(void *ctx, size_t index, const char *payload, size_t len)
{
    nats_train *t = ctx;
    tt_run_summary *r = &t->out[index];
    tt_run_summary_from_payload(r, payload, len);
    tt_run_id_make(r->run_id, t->prefix, (uint32_t)index);
    if (r->status != TT_RUN_OK)
        fprintf(stderr, "ticktape: train run %s %s: %s\n", r->run_id,
                tt_run_status_name(r->status), r->error);
}

static int nats_train_batch(void *ctx, const tt_wf_window *w, size_t nfolds,
                            const tt_sweep_plan *plan, tt_run_summary *out, tt_err *err)
{
    nats_train *t = ctx;
    size_t n = nfolds * plan->njobs;
    t->out = out;
    t->plan = plan;
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].status = TT_RUN_PENDING;
        tt_run_id_make(out[i].run_id, t->prefix, (uint32_t)i);
        snprintf(out[i].error, sizeof out[i].error, "no result from any worker");
    }
    tt_js *js;
    tt_js_opts jo = {t->o->nats, t->o->ack_wait / TT_NS_PER_MS, 0, "ticktape-walkforward",
                     &t->o->net.job_key, tt_net_nats(&t->o->net)};
    int rc = tt_js_connect(&js, &jo, err);
    if (rc)
        return rc;
    tt_buf *payloads = calloc(n, sizeof *payloads);
    const char **ids = calloc(n, sizeof *ids);
    if (!payloads || !ids)
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        size_t f = i / plan->njobs, j = i % plan->njobs;
        ids[i] = out[i].run_id;
        if (tt_sweep_job_encode(&payloads[i], ids[i], (uint32_t)j, tt_sweep_job_params(plan, j),
                                plan->nparams, t->scenario, w[f].train_from, w[f].train_to))
            rc = tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    if (!rc) {
        tt_js_sweep_opts so = {t->o->timeout / TT_NS_PER_MS, on_train_result, NULL, t, NULL,
                               tt_runs_per_job(t->o->runs_per_job, n)};
        rc = tt_js_sweep(js, n, ids, payloads, &so, NULL, err);
    }
    for (size_t i = 0; payloads && i < n; i++)
        tt_buf_free(&payloads[i]);
    free(payloads);
    free(ids);
    tt_js_close(js);
    return rc;
}

int tt_cmd_walkforward(int argc, char **argv)
{
    wf_opts o;
    memset(&o, 0, sizeof o);
    o.jobs = 1;
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
    if (!o.scenario)
        return tt_usage_error("walkforward", "missing the scenario file");
    if (o.nats && o.nsets) /* a job sets only the sweep's parameters (docs/security.md) */
        return tt_usage_error("walkforward", "--set does not travel to workers: with --nats, "
                                             "put it in the scenario file");
    int net_bad = tt_net_opts_finish(&o.net, "walkforward");
    if (net_bad)
        return net_bad;
    tt_err err;
    tt_err_clear(&err);
    tt_scenario *s = NULL;
    tt_research_doc *doc = NULL;
    tt_sweep_spec spec;
    tt_sweep_plan plan;
    tt_wf_result r;
    tt_scenario_run *probe = NULL;
    memset(&spec, 0, sizeof spec);
    memset(&plan, 0, sizeof plan);
    memset(&r, 0, sizeof r);
    int code = TT_EXIT_OK;
    if (tt_scenario_load(&s, o.scenario, &err))
        return tt_report_error(&err);
    for (int i = 0; i < o.nsets; i++) {
        if (tt_scenario_set(s, o.sets[i], &err)) {
            tt_scenario_free(s);
            return tt_usage_error("walkforward", "%s", err.msg);
        }
    }
    tt_wf_spec wf;
    probe = calloc(1, sizeof *probe);
    if (!probe) {
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        code = tt_report_error(&err);
        goto done;
    }
    if (tt_scenario_prepare(s, probe, &err) || tt_research_doc_load(&doc, o.scenario, &err) ||
        tt_wf_spec_read(&wf, doc, &err) ||
        tt_sweep_spec_read(&spec, doc, tt_scenario_seed(s), &err) ||
        tt_sweep_expand(&spec, "wf", &plan, &err)) {
        code = tt_report_error(&err);
        goto done;
    }
    int64_t mpu = probe->minor_per_unit > 0 ? probe->minor_per_unit : 100;
    const char *cur = probe->cfg.venue.account.currency[0] ? probe->cfg.venue.account.currency
                                                           : "USD";
    tt_progress bar;
    memset(&bar, 0, sizeof bar);
    tt_wf_window *wins;
    size_t nwins;
    tt_ts from = wf.from ? wf.from : probe->data_from, to = wf.to ? wf.to : probe->data_to;
    if (tt_wf_windows(&wf, from, to, &wins, &nwins, &err)) {
        code = tt_report_error(&err);
        goto done;
    }
    free(wins);
    if (!o.quiet)
        tt_progress_start(&bar, "walkforward", nwins * (plan.njobs + 1));
    tt_wf_opts wo = {(unsigned)o.jobs, bar.enabled ? on_tick : NULL, &bar, &probe->metrics,
                     NULL, NULL, o.runs_per_process};
    nats_train nt;
    memset(&nt, 0, sizeof nt);
    if (o.nats) {
        nt.o = &o;
        if (tt_scenario_id_file(o.scenario, nt.scenario, &err) ||
            tt_research_file_tag(o.scenario, nt.tag, &err)) {
            code = tt_report_error(&err);
            goto done;
        }
        /* Unique per invocation, so two runs on one server never mix. */
        snprintf(nt.prefix, sizeof nt.prefix, "w%s_%x%x", nt.tag, (unsigned)getpid() & 0xffff,
                 (unsigned)((uint64_t)(tt_wall_seconds() * 1e6) & 0xfffff));
        wo.train_batch = nats_train_batch;
        wo.train_ctx = &nt;
    }
    double t0 = tt_wall_seconds();
    int rc = tt_walkforward_run(&wf, &plan, tt_scenario_runner(s), from, to, &wo, &r, &err);
    double secs = tt_wall_seconds() - t0;
    if (bar.enabled)
        tt_progress_finish(&bar);
    if (rc == TT_EPARTIAL) {
        fprintf(stderr, "ticktape: %s\n", err.msg);
        code = TT_EXIT_PARTIAL;
    } else if (rc) {
        code = tt_report_error(&err);
        goto done;
    }
    for (size_t i = 0; i < r.nfolds * r.njobs; i++)
        if (r.train[i].status != TT_RUN_OK)
            fprintf(stderr, "ticktape: train run %s %s: %s\n", r.train[i].run_id,
                    tt_run_status_name(r.train[i].status), r.train[i].error);
    char dir[4200] = "";
    if (!o.no_reports) {
        snprintf(dir, sizeof dir, "%s", o.out ? o.out : "");
        if (!o.out)
            snprintf(dir, sizeof dir, "out/%s-walkforward", tt_scenario_name(s));
        char params[64];
        snprintf(params, sizeof params, "walk-forward, %zu folds", r.nfolds);
        tt_report_input in = {
            .name = tt_scenario_name(s),
            .strategy = probe->cfg.strategy,
            .params = params,
            .data = "stitched out-of-sample test windows",
            .fingerprint = r.fp,
            .trades = r.trades,
            .ntrades = r.ntrades,
            .equity = r.equity,
            .nequity = r.nequity,
            .metrics = &r.oos,
            .instruments = probe->instruments,
            .currency = cur,
            .minor_per_unit = mpu,
            .from = r.nfolds ? r.folds[0].w.test_from : 0,
            .to = r.nfolds ? r.folds[r.nfolds - 1].w.test_to : 0,
        };
        tt_report_outputs which = {1, 1, 1, 1};
        if (tt_report_write_all(&in, dir, &which, &err)) {
            code = tt_report_error(&err);
            goto done;
        }
        tt_buf b = {0};
        json_result(&b, tt_scenario_name(s), &r, &plan, &wf, mpu);
        tt_buf_append(&b, "\n", 1);
        char path[4300];
        snprintf(path, sizeof path, "%s/walkforward.json", dir);
        FILE *f = fopen(path, "w");
        if (!f || fwrite(b.data, 1, b.len, f) != b.len) {
            tt_err_set(&err, TT_EIO, "%s: cannot write", path);
            code = tt_report_error(&err);
        }
        if (f)
            fclose(f);
        tt_buf_free(&b);
        if (code == TT_EXIT_FAIL)
            goto done;
    }
    if (!o.quiet) {
        printf("walkforward  %s: %zu folds x %zu parameter sets, %s windows, in %.2f s\n",
               tt_scenario_name(s), r.nfolds, plan.njobs, wf.anchored ? "anchored" : "rolling",
               secs);
        print_folds(&r, &plan, &wf, mpu, cur);
        if (dir[0])
            printf("report       %s/report.html, folds in %s/walkforward.json\n", dir, dir);
        char fp[33];
        tt_fingerprint_hex(r.fp, fp);
        printf("fingerprint: %s\n", fp); /* the last line of every run */
    }
    int gcode = tt_cli_gates(o.scenario, tt_scenario_name(s), &r.oos, &r.wfe, mpu, &o.gate,
                             o.quiet);
    if (gcode)
        code = gcode;
    if (o.json) {
        tt_buf b = {0};
        json_result(&b, tt_scenario_name(s), &r, &plan, &wf, mpu);
        fflush(stdout);
        fwrite(b.data, 1, b.len, stdout);
        fputc('\n', stdout);
        tt_buf_free(&b);
    }
done:
    tt_wf_result_free(&r);
    if (probe) {
        tt_scenario_release(probe);
        free(probe);
    }
    tt_sweep_plan_free(&plan);
    tt_sweep_spec_free(&spec);
    tt_research_doc_free(doc);
    tt_scenario_free(s);
    return code;
}
