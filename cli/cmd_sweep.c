/*
 * ticktape sweep SCENARIO [--jobs N] [--json] [--nats URL] ... (docs/cli.md)
 *
 * How this works: the scenario is loaded (sim/scenario.h) with its --set
 * overrides, its sweep: section is expanded into jobs (sim/sweep.h), and the
 * jobs run either locally in a bounded pool of processes (sim/pool.h, one
 * fresh process per run) or, with --nats, on `ticktape worker` processes
 * through a JetStream work queue (live/jetstream.h). Either way the results
 * come back as one summary per job, kept in job order, so the table, the
 * fingerprints and every output file are the same at any --jobs and on any
 * number of workers.
 *
 * Output: the result table as sweep.csv, sweep.json, sweep.h5 and a summary
 * page sweep.html with a heatmap (reports/sweep_report.h) in --out (default
 * out/<scenario name>-sweep); a few human lines on stdout (best runs, runs
 * that failed with their parameters); with --json the last stdout line is
 * the table as one JSON object.
 *
 * Exit codes: 0 every run completed; 3 some runs failed or crashed (each is
 * reported with its parameters, the others completed); 1 every run failed
 * (as a lone backtest of any of them would), or the sweep could not run
 * (scenario error, NATS unreachable); 2 usage error.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "live/jetstream.h"
#include "live/job_runner.h"
#include "reports/sweep_report.h"
#include "sim/research.h"
#include "sim/scenario.h"
#include "sim/sweep.h"

typedef struct sweep_opts {
    tt_research_cli r; /* the scenario, --jobs, --set, --out, --nats ... (cli/research_cli.c) */
    const char *figure;
} sweep_opts;

static int opt_figure(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    if (tt_figure_renamed(value))
        return tt_err_set(err, TT_EINVAL, "--%s: '%s' is now '%s' (percent)", o->name, value,
                          tt_figure_renamed(value));
    if (!tt_figure_find(value))
        return tt_err_set(err, TT_EINVAL, "--%s: unknown figure '%s' (sharpe, net_pnl, "
                          "return_pct, sqn, profit_factor, max_drawdown_pct, ...)", o->name,
                          value);
    *(const char **)tt_opt_field(opts, o) = value;
    return TT_OK;
}

static const tt_opt SWEEP_OPTS[] = {
    {TT_OPT_INCLUDE, .include = tt_research_opts, .off = offsetof(sweep_opts, r)},
    {TT_OPT_CUSTOM, "figure", .off = offsetof(sweep_opts, figure), .arg = "NAME",
     .set = opt_figure,
     .def_text = "sharpe, or net_pnl when the runs are too short for a Sharpe ratio",
     .help = "figure for the ranking and the first heatmap (docs/metrics.md)"},
    {TT_OPT_END},
};

static int run_sweep(int argc, char **argv);

const tt_cmd tt_command_sweep = {
    .name = "sweep",
    .summary = "run a scenario's parameter sweep (grid or random), locally or on NATS",
    .run = run_sweep,
    .opts = SWEEP_OPTS,
    .size = sizeof(sweep_opts),
    .about = "Run the parameter sweep of a scenario's sweep: section (a grid, or a seeded\n"
             "random search; docs/research.md) and write the result table: sweep.csv,\n"
             "sweep.json, sweep.h5 and sweep.html (a heatmap over two parameters).\n"
             "With --nats the runs go to `ticktape worker` processes through a JetStream\n"
             "work queue instead of a local pool of processes.\n",
    .epilog = "Every run is independent: --jobs 1, --jobs N and any number of workers give\n"
              "the same fingerprints. A run that fails or crashes is reported with its\n"
              "parameters and the sweep goes on.\n\n"
              "exit codes: 0 all runs completed, 3 some failed or crashed, 1 every run\n"
              "failed or the sweep could not run, 2 usage error\n",
};

/* ---- progress and results ---- */

typedef struct run_state {
    tt_progress bar;
    size_t done;
    int quiet;
    tt_run_summary *results;
    const tt_sweep_plan *plan;
} run_state;

static void report_bad(const tt_run_summary *r)
{
    fprintf(stderr, "ticktape: run %u %s: %s\n", r->index, tt_run_status_name(r->status),
            r->error);
}

static void on_result(void *ctx, const tt_run_summary *r, const tt_param *p, size_t np)
{
    (void)p, (void)np;
    run_state *st = ctx;
    st->done++;
    if (r->status != TT_RUN_OK)
        report_bad(r);
    if (st->bar.enabled)
        tt_progress_update(&st->bar, st->done);
}

static void on_tick(void *ctx, size_t done, size_t total)
{
    (void)total;
    run_state *st = ctx;
    if (st->bar.enabled && done > st->done)
        tt_progress_update(&st->bar, done);
}

/* A NATS completion, by job index: parsed into the job's summary. */
static void on_nats_result(void *ctx, size_t index, const char *payload, size_t len)
{
    run_state *st = ctx;
    tt_run_summary *r = &st->results[index];
    tt_run_summary_from_payload(r, payload, len);
    r->index = (uint32_t)index;
    tt_run_id_make(r->run_id, st->plan->id_prefix, (uint32_t)index);
    if (r->status != TT_RUN_OK) {
        char ps[200], msg[sizeof r->error];
        tt_params_format(tt_sweep_job_params(st->plan, index), st->plan->nparams, ps, sizeof ps);
        snprintf(msg, sizeof msg, "%s [%s]", r->error, ps);
        snprintf(r->error, sizeof r->error, "%s", msg);
    }
    on_result(ctx, r, NULL, 0);
}

/* ---- the command ---- */

/* Set on SIGINT/SIGTERM during a NATS sweep: stop waiting, take the
 * unfinished jobs off the queue, report what came back. */
static volatile int interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int run_nats(const tt_research_cli *o, const tt_sweep_plan *plan, run_state *st,
                    tt_err *err)
{
    char sid[TT_SHA256_HEX]; /* workers find the scenario by its bytes' hash */
    int rc = tt_scenario_id_file(o->scenario, sid, err);
    if (rc)
        return rc;
    tt_js *js;
    tt_js_opts jo = {o->nats, o->ack_wait ? o->ack_wait / TT_NS_PER_MS : 0, 0, "ticktape-sweep",
                     &o->net.job_key, tt_net_nats(&o->net)};
    rc = tt_js_connect(&js, &jo, err);
    if (rc)
        return rc;
    tt_buf *payloads = calloc(plan->njobs, sizeof *payloads);
    char (*ids)[TT_RUN_ID_MAX] = calloc(plan->njobs, sizeof *ids);
    const char **idp = calloc(plan->njobs, sizeof *idp);
    if (!payloads || !ids || !idp)
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < plan->njobs; i++) {
        tt_run_id_make(ids[i], plan->id_prefix, (uint32_t)i);
        idp[i] = ids[i];
        if (tt_sweep_job_encode(&payloads[i], ids[i], (uint32_t)i, tt_sweep_job_params(plan, i),
                                plan->nparams, sid, 0, 0))
            rc = tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    size_t dups = 0, forged = 0;
    if (!rc) {
        tt_js_sweep_opts so = {o->timeout ? o->timeout / TT_NS_PER_MS : 0, on_nats_result,
                               on_tick, st, &interrupted,
                               tt_runs_per_job(o->runs_per_job, plan->njobs), &forged};
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_interrupt;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        rc = tt_js_sweep(js, plan->njobs, idp, payloads, &so, &dups, err);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    if (!o->quiet && dups)
        fprintf(stderr, "ticktape: %zu duplicate completion(s) ignored (each run counts once)\n",
                dups);
    if (forged) /* always: somebody publishes results they should not */
        fprintf(stderr, "ticktape: %zu forged completion(s) ignored (unsigned or badly signed)\n",
                forged);
    for (size_t i = 0; payloads && i < plan->njobs; i++)
        tt_buf_free(&payloads[i]);
    free(payloads), free(ids), free(idp);
    tt_js_close(js);
    /* Every result came back, but a run that failed on a worker is a partial
     * success, as in a local sweep (exit 3; 1 when every run failed). */
    size_t bad = 0;
    for (size_t i = 0; !rc && i < plan->njobs; i++)
        bad += st->results[i].status != TT_RUN_OK;
    if (bad)
        rc = tt_err_set(err, TT_EPARTIAL, "%zu of %zu runs did not complete", bad, plan->njobs);
    return rc;
}

static void print_human(const tt_sweep_table *t, const char *dir, double secs, const char *where)
{
    int fallback;
    const char *fig = tt_sweep_default_figure(t, &fallback);
    const tt_sweep_plan *p = t->plan;
    size_t ok = 0;
    for (size_t i = 0; i < p->njobs; i++)
        ok += t->runs[i].status == TT_RUN_OK;
    printf("sweep        %s: %zu runs (%zu completed, %zu failed) in %.2f s, %s\n", t->name,
           p->njobs, ok, p->njobs - ok, secs, where);
    /* The five best by the figure. */
    const tt_figure *f = tt_figure_find(fig);
    char *used = calloc(p->njobs ? p->njobs : 1, 1);
    for (int rank = 0; used && rank < 5; rank++) {
        long best = -1;
        double bv = 0;
        for (size_t i = 0; i < p->njobs; i++) {
            if (used[i] || t->runs[i].status != TT_RUN_OK)
                continue;
            double v = tt_figure_value(f, &t->runs[i].m);
            if (isnan(v))
                continue;
            int better = f->better == TT_BETTER_HIGHER ? v > bv : v < bv;
            if (best < 0 || better) {
                best = (long)i;
                bv = v;
            }
        }
        if (best < 0)
            break;
        used[best] = 1;
        char ps[400], hex[33];
        tt_params_format(tt_sweep_job_params(p, (size_t)best), p->nparams, ps, sizeof ps);
        tt_fingerprint_hex(t->runs[best].fp, hex);
        if (rank == 0 && fallback)
            printf("best by %s (no run has a Sharpe ratio: the runs are shorter than the "
                   "minimum-data rule, docs/metrics.md):\n", fig);
        else if (rank == 0)
            printf("best by %s:\n", fig);
        /* Money in currency units, as in the table. */
        double shown = f->kind == TT_FIG_MONEY || f->kind == TT_FIG_MINOR
                           ? bv / (double)(t->minor_per_unit > 0 ? t->minor_per_unit : 100)
                           : bv;
        printf("  %2d. %-12.6g run %-4ld %s  (%llu trades, fp %.12s)\n", rank + 1, shown, best,
               ps, (unsigned long long)t->runs[best].m.trades, hex);
    }
    free(used);
    if (dir)
        printf("table        %s/sweep.csv (.json .h5), summary %s/sweep.html\n", dir, dir);
    /* The sweep's own fingerprint: XXH3-128 over every run's fingerprint and
     * status in job order, so it is the same at any --jobs or with workers. */
    tt_fp_state *fs = tt_fp_new();
    if (fs) {
        for (size_t i = 0; i < p->njobs; i++) {
            uint8_t rec[17];
            for (int k = 0; k < 8; k++) {
                rec[k] = (uint8_t)(t->runs[i].fp.hi >> (8 * k));
                rec[8 + k] = (uint8_t)(t->runs[i].fp.lo >> (8 * k));
            }
            rec[16] = (uint8_t)t->runs[i].status;
            tt_fp_update(fs, rec, sizeof rec);
        }
        char hex[33];
        tt_fingerprint_hex(tt_fp_digest(fs), hex);
        tt_fp_free(fs);
        printf("fingerprint: %s\n", hex); /* the last line of every run */
    }
}

static int run_sweep(int argc, char **argv)
{
    sweep_opts so;
    memset(&so, 0, sizeof so);
    int code = tt_opts_parse(&tt_command_sweep, &so, argc, argv, NULL);
    if (code != TT_OPTS_RUN)
        return code;
    if ((code = tt_research_check(&so.r, "sweep")) != 0)
        return code;
    const tt_research_cli *o = &so.r;
    tt_err err;
    tt_err_clear(&err);
    tt_scenario *s = NULL;
    tt_research_doc *doc = NULL;
    tt_sweep_spec spec;
    tt_sweep_plan plan;
    memset(&spec, 0, sizeof spec);
    memset(&plan, 0, sizeof plan);
    tt_run_summary *results = NULL;
    code = TT_EXIT_OK;
    if (tt_scenario_load(&s, o->scenario, &err))
        return tt_report_error(&err);
    for (int i = 0; i < o->nsets; i++) {
        if (tt_scenario_set(s, o->sets[i], &err)) {
            tt_scenario_free(s);
            return tt_usage_error("sweep", "%s", err.msg);
        }
    }
    /* Prepare once here: a bad scenario fails before any process starts, and
     * the account currency's minor units format the table's money. */
    int64_t minor = 100;
    tt_scenario_run *probe = calloc(1, sizeof *probe);
    if (!probe || tt_scenario_prepare(s, probe, &err)) {
        if (!probe)
            tt_err_set(&err, TT_ENOMEM, "out of memory");
        free(probe);
        code = tt_report_error(&err);
        goto done;
    }
    minor = probe->minor_per_unit > 0 ? probe->minor_per_unit : 100;
    tt_scenario_release(probe);
    free(probe);
    char tag[9];
    if (tt_research_doc_load(&doc, o->scenario, &err) ||
        tt_sweep_spec_read(&spec, doc, tt_scenario_seed(s), &err) ||
        tt_research_file_tag(o->scenario, tag, &err)) {
        code = tt_report_error(&err);
        goto done;
    }
    /* Run ids: the scenario's tag; over NATS also this invocation's, so that
     * two sweeps on one server never mix their results. */
    char prefix[40];
    if (o->nats)
        snprintf(prefix, sizeof prefix, "s%s_%x%x", tag, (unsigned)getpid() & 0xffff,
                 (unsigned)((uint64_t)(tt_wall_seconds() * 1e6) & 0xfffff));
    else
        snprintf(prefix, sizeof prefix, "s%s", tag);
    if (tt_sweep_expand(&spec, prefix, &plan, &err)) {
        code = tt_report_error(&err);
        goto done;
    }
    results = calloc(plan.njobs, sizeof *results);
    if (!results) {
        tt_err_set(&err, TT_ENOMEM, "out of memory for %zu results", plan.njobs);
        code = tt_report_error(&err);
        goto done;
    }
    run_state st;
    memset(&st, 0, sizeof st);
    st.quiet = o->quiet;
    st.results = results;
    st.plan = &plan;
    if (!o->quiet)
        tt_progress_start(&st.bar, "sweep", plan.njobs);
    double t0 = tt_wall_seconds();
    int rc;
    char where[TT_URL_SHOWN_MAX + 32];
    if (o->nats) {
        for (size_t i = 0; i < plan.njobs; i++) {
            results[i].status = TT_RUN_PENDING;
            results[i].index = (uint32_t)i;
            tt_run_id_make(results[i].run_id, plan.id_prefix, (uint32_t)i);
            snprintf(results[i].error, sizeof results[i].error, "no result from any worker");
        }
        rc = run_nats(o, &plan, &st, &err);
        char shown[TT_URL_SHOWN_MAX];
        snprintf(where, sizeof where, "on NATS workers (%s)",
                 tt_url_redact(o->nats, shown, sizeof shown));
    } else {
        tt_sweep_opts so = {.jobs = (unsigned)o->jobs, .on_result = on_result, .on_tick = on_tick,
                            .ctx = &st, .runs_per_process = o->runs_per_process};
        rc = tt_sweep_run(&plan, tt_scenario_runner(s), &so, results, &err);
        snprintf(where, sizeof where, "%llu job%s", (unsigned long long)o->jobs,
                 o->jobs == 1 ? "" : "s");
    }
    double secs = tt_wall_seconds() - t0;
    if (st.bar.enabled)
        tt_progress_finish(&st.bar);
    if (rc == TT_EPARTIAL) {
        /* some runs failed: 3; every run failed: 1, as for a lone backtest */
        size_t ok = 0;
        for (size_t i = 0; i < plan.njobs; i++)
            ok += results[i].status == TT_RUN_OK;
        if (ok == 0) {
            fprintf(stderr, "ticktape: error: %s: every run failed (%zu of %zu)\n", o->scenario,
                    plan.njobs, plan.njobs);
            code = TT_EXIT_FAIL;
        } else {
            fprintf(stderr, "ticktape: %s\n", err.msg);
            code = TT_EXIT_PARTIAL;
        }
    } else if (rc) {
        code = tt_report_error(&err);
        goto done;
    }
    tt_sweep_table t = {tt_scenario_name(s), &plan, results,
                        {spec.heatmap[0][0] ? spec.heatmap[0] : NULL,
                         spec.heatmap[1][0] ? spec.heatmap[1] : NULL},
                        so.figure, minor};
    char dir[4200] = "";
    if (!o->no_reports) {
        if (o->out)
            snprintf(dir, sizeof dir, "%s", o->out);
        else
            snprintf(dir, sizeof dir, "out/%s-sweep", tt_scenario_name(s));
        if (tt_sweep_report_write_all(&t, dir, &err)) {
            code = tt_report_error(&err);
            goto done;
        }
    }
    if (!o->quiet)
        print_human(&t, dir[0] ? dir : NULL, secs, where);
    if (o->json) {
        fflush(stdout);
        if (tt_sweep_json_write(&t, stdout)) {
            tt_err_set(&err, TT_ENOMEM, "sweep: out of memory writing the JSON table");
            code = tt_report_error(&err);
            goto done;
        }
        fputc('\n', stdout);
    }
done:
    free(results);
    tt_sweep_plan_free(&plan);
    tt_sweep_spec_free(&spec);
    tt_research_doc_free(doc);
    tt_scenario_free(s);
    return code;
}
