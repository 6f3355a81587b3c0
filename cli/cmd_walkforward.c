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
 * With an ml: section (sim/ml_walkforward.h, docs/ml.md) each fold trains a
 * model on its train window instead and trades both windows with it.
 *
 * Gates (tt_cli_gates in cli/gates.c, shared with `backtest --gate`): with
 * --gate, the gates: section is evaluated on the combined out-of-sample
 * figures and the walk-forward efficiency; a failed gate prints a table and
 * exits 4; --junit writes the verdicts as JUnit XML for CI. The options are
 * those of sweep (cli/research_cli.c) plus the gates'.
 *
 * Exit codes: 0 done (and every gate passed); 4 a gate failed; 3 some runs
 * (train or test) failed; 1 every train run failed, or a failure; 2 usage
 * error.
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
#include "reports/report.h"
#include "reports/wf_report.h"
#include "sim/gates.h"
#include "sim/ml_walkforward.h"
#include "sim/research.h"
#include "sim/scenario.h"
#include "sim/sweep.h"
#include "sim/walkforward.h"

typedef struct wf_opts {
    tt_research_cli r;     /* the scenario, --jobs, --set, --out, --nats ... (cli/research_cli.c) */
    tt_cli_gate_opts gate; /* --gate, --junit, --save-baseline (cli/gates.c) */
} wf_opts;

static const tt_opt WF_OPTS[] = {
    {TT_OPT_INCLUDE, .include = tt_research_opts, .off = offsetof(wf_opts, r)},
    {TT_OPT_INCLUDE, .include = tt_gate_opts, .off = offsetof(wf_opts, gate)},
    {TT_OPT_END},
};

static int run_walkforward(int argc, char **argv);

const tt_cmd tt_command_walkforward = {
    .name = "walkforward",
    .summary = "walk-forward analysis: optimise on train windows, test out of sample",
    .run = run_walkforward,
    .opts = WF_OPTS,
    .size = sizeof(wf_opts),
    .about = "Walk-forward analysis (docs/research.md): on each train window, run every\n"
             "parameter set of the sweep: section and keep the best by the objective of\n"
             "the walkforward: section; run it on the following test window; stitch the\n"
             "out-of-sample equity. Prints each fold, the combined out-of-sample figures\n"
             "and the walk-forward efficiency; writes the out-of-sample report and\n"
             "walkforward.json. With --nats the train runs go to `ticktape worker`\n"
             "processes (the test runs stay local).\n",
    .epilog = "exit codes: 0 done, 4 a gate failed, 3 some runs failed, 1 every train run\n"
              "failed or the walk-forward could not run, 2 usage error\n",
};

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


/* The train runs that did not complete, listed; every one failed: 1 (nothing
 * was chosen, as a lone backtest of any of them would fail); some: 3. */
static int train_failures(const tt_wf_result *r, const char *scenario, int code)
{
    size_t failed = 0, n = r->nfolds * r->njobs;
    for (size_t i = 0; i < n; i++)
        if (r->train[i].status != TT_RUN_OK) {
            failed++;
            fprintf(stderr, "ticktape: train run %s %s: %s\n", r->train[i].run_id,
                    tt_run_status_name(r->train[i].status), r->train[i].error);
        }
    if (n && failed == n) {
        fprintf(stderr, "ticktape: error: %s: every train run failed (%zu of %zu)\n", scenario,
                failed, n);
        return TT_EXIT_FAIL;
    }
    if (failed && code == TT_EXIT_OK) {
        fprintf(stderr, "ticktape: %zu of %zu train runs did not complete\n", failed, n);
        return TT_EXIT_PARTIAL;
    }
    return code;
}

/* The fold table, the combined figures, where the reports are, the
 * fingerprint (the last line). */
static void print_folds(const tt_wf_result *r, const tt_wf_view *v, const tt_wf_spec *spec,
                        int64_t mpu, const char *cur, const char *dir)
{
    printf("%-4s %-16s %-16s %-16s %-24s %10s %10s %7s %10s %7s %10s\n", "fold", "train from",
           "test from", "test to", "chosen", tt_wf_objective_name(spec->objective), "IS pnl",
           "IS n", "OOS pnl", "OOS n", "efficiency");
    for (size_t f = 0; f < r->nfolds; f++) {
        const tt_report_fold *d = &v->rows[f];
        char a[24], b[24], c[24], isp[32] = "", oosp[32] = "", objs[32], eff[32];
        day(d->train_from, a, sizeof a);
        day(d->test_from, b, sizeof b);
        day(d->test_to, c, sizeof c);
        if (!d->chosen) {
            printf("%-4zu %-16s %-16s %-16s (%s)\n", f + 1, a, b, c, d->why_none);
            continue;
        }
        tt_report_money(d->is_net, mpu, isp, sizeof isp);
        if (d->oos_status)
            snprintf(oosp, sizeof oosp, "%s", d->oos_status);
        else
            tt_report_money(d->oos_net, mpu, oosp, sizeof oosp);
        tt_report_ratio(d->objective, objs, sizeof objs);
        tt_report_ratio(d->efficiency, eff, sizeof eff);
        printf("%-4zu %-16s %-16s %-16s %-24s %10s %10s %7llu %10s %7llu %10s\n", f + 1, a, b, c,
               d->chosen, objs, isp, (unsigned long long)d->is_trades, oosp,
               (unsigned long long)d->oos_trades, eff);
    }
    char net[48], dd[48], sh[32], wfe[32], sqn[32];
    tt_report_money(r->oos.net_pnl, mpu, net, sizeof net);
    tt_report_money(r->oos.max_drawdown, mpu, dd, sizeof dd);
    tt_report_num(r->oos.sharpe, 3, NULL, sh, sizeof sh);
    tt_report_num(r->oos.sqn, 2, NULL, sqn, sizeof sqn);
    tt_report_ratio(r->wfe, wfe, sizeof wfe);
    printf("out-of-sample net P&L %s %s (%.2f%%), sharpe %s, SQN %s, max drawdown %.2f%% (%s %s), "
           "%llu trades, %llu events\n", net, cur, r->oos.return_pct, sh, sqn,
           r->oos.max_drawdown_pct, dd, cur, (unsigned long long)r->oos.trades,
           (unsigned long long)v->events);
    if (isfinite(r->is_rate))
        printf("walk-forward efficiency %s (OOS %.2f / IS %.2f %s per day)\n", wfe,
               r->oos_rate / (double)mpu, r->is_rate / (double)mpu, cur);
    else
        printf("walk-forward efficiency n/a (no fold chose a parameter set)\n");
    if (dir[0])
        printf("report       %s/report.html, folds in %s/walkforward.json\n", dir, dir);
    char fp[33];
    tt_fingerprint_hex(r->fp, fp);
    printf("fingerprint: %s\n", fp); /* the last line of every run */
}


/* ---- train runs on NATS workers ---- */

typedef struct nats_train {
    const tt_research_cli *o;
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

/* The out-of-sample report (a backtest report of the stitched test windows)
 * and walkforward.json with every fold, in dir. */
static int write_reports(const char *dir, tt_scenario *s, const tt_scenario_run *probe,
                         const tt_wf_result *r, const tt_sweep_plan *plan, const tt_wf_spec *wf,
                         const tt_ml_wf *mw, const tt_wf_view *v, const char *cur, tt_err *err)
{
    int64_t mpu = probe->minor_per_unit > 0 ? probe->minor_per_unit : 100;
    char params[64], data[600];
    snprintf(params, sizeof params, "walk-forward, %zu folds", r->nfolds);
    snprintf(data, sizeof data, "the %zu test windows of %s, stitched (out of sample)",
             r->nfolds, tt_scenario_get(s, "data.tape", NULL)
                            ? tt_scenario_get(s, "data.tape", "")
                            : "a synthetic market");
    /* a dotted line at the start of each fold's test window */
    tt_report_marker *marks = calloc(r->nfolds ? r->nfolds : 1, sizeof *marks);
    char (*labels)[16] = calloc(r->nfolds ? r->nfolds : 1, sizeof *labels);
    if (!marks || !labels) {
        free(marks), free(labels);
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    for (size_t f = 0; f < r->nfolds; f++) {
        snprintf(labels[f], sizeof labels[f], "fold %zu", f + 1);
        marks[f] = (tt_report_marker){r->folds[f].w.test_from, labels[f]};
    }
    tt_report_input in = {
        .name = tt_scenario_name(s),
        .strategy = probe->cfg.strategy,
        .params = params,
        .data = data,
        .events = v->events,
        .markers = marks,
        .nmarkers = r->nfolds,
        .folds = v->rows,
        .nfolds = r->nfolds,
        .objective = tt_wf_objective_name(wf->objective),
        .wfe = r->wfe,
        .fingerprint = r->fp,
        .trades = r->trades,
        .ntrades = r->ntrades,
        .equity = r->equity,
        .nequity = r->nequity,
        .metrics = &r->oos,
        .instruments = probe->instruments,
        .currency = cur,
        .minor_per_unit = mpu,
        .from = r->nfolds ? r->folds[0].w.test_from : 0,
        .to = r->nfolds ? r->folds[r->nfolds - 1].w.test_to : 0,
    };
    tt_report_outputs which = {1, 1, 1, 1};
    int rc = tt_report_write_all(&in, dir, &which, err);
    free(marks), free(labels);
    if (rc)
        return rc;
    tt_buf b = {0};
    tt_wf_json(&b, tt_scenario_name(s), r, plan, wf, mw, v, mpu);
    tt_buf_append(&b, "\n", 1);
    char path[4300];
    snprintf(path, sizeof path, "%s/walkforward.json", dir);
    FILE *f = fopen(path, "w");
    if (!f || fwrite(b.data, 1, b.len, f) != b.len)
        rc = tt_err_set(err, TT_EIO, "%s: cannot write", path);
    if (f)
        fclose(f);
    tt_buf_free(&b);
    return rc;
}

/* Send the train runs to NATS workers: the scenario's content hash (workers
 * run only files of their --scenarios directories) and run ids unique to this
 * invocation. */
static int nats_setup(nats_train *nt, const tt_research_cli *o, tt_wf_opts *wo, tt_err *err)
{
    nt->o = o;
    int rc = tt_scenario_id_file(o->scenario, nt->scenario, err);
    if (!rc)
        rc = tt_research_file_tag(o->scenario, nt->tag, err);
    if (rc)
        return rc;
    /* Unique per invocation, so two runs on one server never mix. */
    snprintf(nt->prefix, sizeof nt->prefix, "w%s_%x%x", nt->tag, (unsigned)getpid() & 0xffff,
             (unsigned)((uint64_t)(tt_wall_seconds() * 1e6) & 0xfffff));
    wo->train_batch = nats_train_batch;
    wo->train_ctx = nt;
    return TT_OK;
}

/* An ml: section: the models go to OUT/models; every fold's model trades
 * (objective net P&L, no minimum of trades: nothing to choose). */
static int ml_setup(tt_ml_wf *mw, tt_scenario *s, const tt_research_cli *o, tt_wf_spec *wf,
                    const tt_scenario_run *probe, tt_err *err)
{
    char models[4200];
    if (o->out)
        snprintf(models, sizeof models, "%s/models", o->out);
    else
        snprintf(models, sizeof models, "out/%s-walkforward/models", tt_scenario_name(s));
    wf->objective = TT_WF_NET_PNL;
    wf->min_trades = 0;
    return tt_ml_wf_init(mw, s, wf, probe->data_from, probe->data_to, models, err);
}

static int run_walkforward(int argc, char **argv)
{
    wf_opts args;
    memset(&args, 0, sizeof args);
    int code = tt_opts_parse(&tt_command_walkforward, &args, argc, argv, NULL);
    if (code != TT_OPTS_RUN)
        return code;
    if ((code = tt_research_check(&args.r, "walkforward")) != 0)
        return code;
    const tt_research_cli *o = &args.r;
    tt_err err;
    tt_err_clear(&err);
    tt_scenario *s = NULL;
    tt_research_doc *doc = NULL;
    tt_sweep_spec spec;
    tt_sweep_plan plan;
    tt_wf_result r;
    tt_scenario_run *probe = NULL;
    tt_ml_wf mwf, *mw = NULL;
    memset(&mwf, 0, sizeof mwf);
    tt_wf_view view;
    memset(&view, 0, sizeof view);
    memset(&spec, 0, sizeof spec);
    memset(&plan, 0, sizeof plan);
    memset(&r, 0, sizeof r);
    code = TT_EXIT_OK;
    if (tt_scenario_load(&s, o->scenario, &err))
        return tt_report_error(&err);
    for (int i = 0; i < o->nsets; i++) {
        if (tt_scenario_set(s, o->sets[i], &err)) {
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
    size_t mlpos = 0;
    int ml = tt_scenario_next(s, "ml", &mlpos) != NULL;
    if (ml && o->nats) {
        code = tt_usage_error("walkforward",
                              "--nats: a walk-forward with an ml: section trains each fold's "
                              "model in the local process pool (--jobs N); workers on NATS run "
                              "parameter walk-forwards only (docs/ml.md): drop --nats");
        goto done;
    }
    if (tt_scenario_prepare(s, probe, &err) || tt_research_doc_load(&doc, o->scenario, &err) ||
        tt_wf_spec_read(&wf, doc, &err) ||
        (ml ? tt_ml_wf_plan(&plan, &err) || ml_setup(&mwf, s, o, &wf, probe, &err)
            : tt_sweep_spec_read(&spec, doc, tt_scenario_seed(s), &err) ||
                  tt_sweep_expand(&spec, "wf", &plan, &err))) {
        code = tt_report_error(&err);
        goto done;
    }
    mw = ml ? &mwf : NULL;
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
    if (!o->quiet)
        tt_progress_start(&bar, "walkforward", nwins * (plan.njobs + 1));
    tt_wf_opts wo = {(unsigned)o->jobs, bar.enabled ? on_tick : NULL, &bar, &probe->metrics,
                     NULL, NULL, o->runs_per_process};
    nats_train nt;
    memset(&nt, 0, sizeof nt);
    if (o->nats && nats_setup(&nt, o, &wo, &err)) {
        code = tt_report_error(&err);
        goto done;
    }
    double t0 = tt_wall_seconds();
    int rc = tt_walkforward_run(&wf, &plan, mw ? tt_ml_wf_runner(mw) : tt_scenario_runner(s),
                                from, to, &wo, &r, &err);
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
    code = train_failures(&r, o->scenario, code);
    if (tt_wf_view_build(&view, &r, &plan, &wf, mw, mpu)) {
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        code = tt_report_error(&err);
        goto done;
    }
    char dir[4200] = "";
    if (!o->no_reports) {
        snprintf(dir, sizeof dir, "%s", o->out ? o->out : "");
        if (!o->out)
            snprintf(dir, sizeof dir, "out/%s-walkforward", tt_scenario_name(s));
        if (write_reports(dir, s, probe, &r, &plan, &wf, mw, &view, cur, &err)) {
            code = tt_report_error(&err);
            goto done;
        }
    }
    if (!o->quiet) {
        if (mw)
            printf("walkforward  %s: %zu folds, a model trained on each train window (purged, "
                   "embargo %d bars), %s windows, in %.2f s\n",
                   tt_scenario_name(s), r.nfolds, tt_ml_spec_embargo(&mw->spec),
                   wf.anchored ? "anchored" : "rolling", secs);
        else
            printf("walkforward  %s: %zu folds x %zu parameter sets, %s windows, in %.2f s\n",
                   tt_scenario_name(s), r.nfolds, plan.njobs, wf.anchored ? "anchored" : "rolling",
                   secs);
        print_folds(&r, &view, &wf, mpu, cur, dir);
    }
    int gcode = tt_cli_gates(o->scenario, tt_scenario_name(s), &r.oos, &r.wfe, mpu, &args.gate,
                             o->quiet);
    if (gcode && code != TT_EXIT_FAIL)
        code = gcode;
    if (o->json) {
        tt_buf b = {0};
        tt_wf_json(&b, tt_scenario_name(s), &r, &plan, &wf, mw, &view, mpu);
        fflush(stdout);
        fwrite(b.data, 1, b.len, stdout);
        fputc('\n', stdout);
        tt_buf_free(&b);
    }
done:
    tt_wf_view_free(&view);
    tt_ml_wf_free(&mwf);
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
