/*
 * ticktape API: sweeps and walk-forwards as JSON tables (api/ticktape_api.h).
 *
 * How this works: the local-pool paths of `ticktape sweep` and `ticktape
 * walkforward` (cli/cmd_sweep.c, cli/cmd_walkforward.c) without their
 * printing, NATS or gates: the same scenario runner, plan, pool and table
 * writers (reports/sweep_report.h, reports/wf_report.h), so a table read in
 * Python is the command's --json line. The runs fork worker processes
 * (sim/pool.h) from the caller's process; each child only runs C code.
 */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "reports/sweep_report.h"
#include "reports/wf_report.h"
#include "sim/research.h"
#include "sim/sweep.h"
#include "sim/walkforward.h"

/* What both need: the scenario with its overrides, a prepared probe (the
 * account's minor units, the data range, the metrics settings) and the
 * research document of the file. */
typedef struct research {
    tt_scenario *s;
    tt_scenario_run *probe;
    tt_research_doc *doc;
    tt_sweep_spec spec;
    tt_sweep_plan plan;
    int64_t mpu;
} research;

static void research_free(research *r)
{
    tt_sweep_plan_free(&r->plan);
    tt_sweep_spec_free(&r->spec);
    tt_research_doc_free(r->doc);
    if (r->probe) {
        tt_scenario_release(r->probe);
        free(r->probe);
    }
    tt_scenario_free(r->s);
}

static int research_open(research *r, const char *path, const char *const *overrides, int n,
                         tt_err *err)
{
    memset(r, 0, sizeof *r);
    int rc = tt_api_scenario(&r->s, path, 0, NULL, overrides, n, err);
    if (rc)
        return rc;
    if (tt_scenario_next(r->s, "ml", &(size_t){0}))
        return tt_err_set(err, TT_EINVAL, "%s: a scenario with an ml: section: run its "
                          "walk-forward with `ticktape walkforward`", path);
    r->probe = calloc(1, sizeof *r->probe);
    if (!r->probe)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    if ((rc = tt_scenario_prepare(r->s, r->probe, err)) != TT_OK) {
        free(r->probe);
        r->probe = NULL;
        return rc;
    }
    r->mpu = r->probe->minor_per_unit > 0 ? r->probe->minor_per_unit : 100;
    if ((rc = tt_research_doc_load(&r->doc, path, err)))
        return rc;
    return tt_sweep_spec_read(&r->spec, r->doc, tt_scenario_seed(r->s), err);
}

static int sweep_json(void *ctx, FILE *f) { return tt_sweep_json_write(ctx, f); }

int tt_api_sweep(const char *path, const char *const *overrides, int n, unsigned jobs,
                 char **json, tt_err *err)
{
    *json = NULL;
    research r;
    tt_run_summary *results = NULL;
    char tag[9], prefix[40];
    int rc = research_open(&r, path, overrides, n, err);
    if (!rc && !(rc = tt_research_file_tag(path, tag, err))) {
        snprintf(prefix, sizeof prefix, "s%s", tag);
        rc = tt_sweep_expand(&r.spec, prefix, &r.plan, err);
    }
    if (!rc && !(results = calloc(r.plan.njobs, sizeof *results)))
        rc = tt_err_set(err, TT_ENOMEM, "out of memory for %zu results", r.plan.njobs);
    if (!rc) {
        tt_sweep_opts so = {.jobs = jobs ? jobs : 1};
        rc = tt_sweep_run(&r.plan, tt_scenario_runner(r.s), &so, results, err);
    }
    if (!rc || rc == TT_EPARTIAL) {
        tt_sweep_table t = {tt_scenario_name(r.s), &r.plan, results,
                            {r.spec.heatmap[0][0] ? r.spec.heatmap[0] : NULL,
                             r.spec.heatmap[1][0] ? r.spec.heatmap[1] : NULL},
                            "sharpe", r.mpu};
        *json = tt_api_text(sweep_json, &t);
        if (!*json)
            rc = tt_err_set(err, TT_ENOMEM, "sweep: out of memory writing the JSON table");
    }
    free(results);
    research_free(&r);
    return rc;
}

int tt_api_walkforward(const char *path, const char *const *overrides, int n, unsigned jobs,
                       char **json, tt_err *err)
{
    *json = NULL;
    research r;
    tt_wf_spec wf;
    tt_wf_result res;
    memset(&res, 0, sizeof res);
    int rc = research_open(&r, path, overrides, n, err);
    if (!rc)
        rc = tt_wf_spec_read(&wf, r.doc, err);
    if (!rc)
        rc = tt_sweep_expand(&r.spec, "wf", &r.plan, err);
    if (!rc) {
        tt_ts from = wf.from ? wf.from : r.probe->data_from;
        tt_ts to = wf.to ? wf.to : r.probe->data_to;
        tt_wf_opts wo = {jobs ? jobs : 1, NULL, NULL, &r.probe->metrics, NULL, NULL, 0};
        rc = tt_walkforward_run(&wf, &r.plan, tt_scenario_runner(r.s), from, to, &wo, &res, err);
    }
    tt_wf_view view;
    memset(&view, 0, sizeof view);
    if ((!rc || rc == TT_EPARTIAL) && tt_wf_view_build(&view, &res, &r.plan, &wf, NULL, r.mpu))
        rc = tt_err_set(err, TT_ENOMEM, "walkforward: out of memory");
    if (!rc || rc == TT_EPARTIAL) {
        tt_buf b = {0};
        tt_wf_json(&b, tt_scenario_name(r.s), &res, &r.plan, &wf, NULL, &view, r.mpu);
        if (tt_buf_append(&b, "", 1))
            rc = tt_err_set(err, TT_ENOMEM, "walkforward: out of memory writing the JSON");
        else
            *json = (char *)b.data;
        if (!*json)
            tt_buf_free(&b);
    }
    tt_wf_view_free(&view);
    tt_wf_result_free(&res);
    research_free(&r);
    return rc;
}
