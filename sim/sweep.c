/*
 * Parameter sweeps: reading the sweep: section, expanding it into jobs, and
 * running the jobs in a process pool.
 *
 * Values stay text. A list keeps each YAML scalar as written (so "0.5" stays
 * "0.5" and strategy code parses it the way it parses the scenario), and a
 * range prints its points from + k*step (computed from k, never accumulated,
 * so no rounding drift), integers without a decimal point and other numbers
 * with %.10g. The text is what the run receives and what the result table
 * shows, so a row of the table can be re-run exactly with --set.
 *
 * Running: the jobs go to tt_pool_run in groups of runs per process
 * (tt_research_group_size); a group's child runs them in one pass over their
 * data (the runner's run_group: tt_backtest_group_run) or, when they cannot
 * share one, one after the other, and sends each tt_run_summary back as raw
 * bytes (parent and child are the same program image, so the struct layout is
 * shared). The parent checks the size, stamps index and run id, and turns a
 * pool failure or crash into a summary whose message carries the job's
 * parameters (a crashed group's runs are run again alone by the pool first).
 */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "pcg.h"
#include "pool.h"
#include "scenario.h"

/* ---- reading ---- */

static void format_point(const tt_sweep_axis *a, uint64_t k, char *out)
{
    double v = a->from + (double)k * a->step;
    if (a->integer)
        snprintf(out, TT_PARAM_VALUE_MAX, "%lld", (long long)llround(v));
    else
        snprintf(out, TT_PARAM_VALUE_MAX, "%.10g", v);
}

static int is_whole(double v)
{
    return fabs(v) < 9.0e15 && v == floor(v);
}

static int read_axis(tt_sweep_axis *a, const tt_research_doc *doc, const char *key, tt_ynode n,
                     int random_mode, tt_err *err)
{
    memset(a, 0, sizeof *a);
    if (strlen(key) >= sizeof a->key)
        return tt_ynode_error(err, doc, n, "sweep.params: key '%s' is too long", key);
    snprintf(a->key, sizeof a->key, "%s", key);
    a->line = tt_ynode_line(doc, n);
    char what[160];
    snprintf(what, sizeof what, "sweep.params.%s", key);
    int t = tt_ynode_type(doc, n);
    if (t == 'q') {
        size_t cnt = tt_ynode_seq_size(doc, n);
        if (cnt == 0)
            return tt_ynode_error(err, doc, n, "%s: the list is empty", what);
        a->values = calloc(cnt, sizeof *a->values);
        if (!a->values)
            return tt_err_set(err, TT_ENOMEM, "sweep: out of memory");
        for (size_t i = 0; i < cnt; i++) {
            tt_ynode it = tt_ynode_seq_item(doc, n, i);
            const char *v = tt_ynode_scalar(doc, it);
            if (!v || !*v)
                return tt_ynode_error(err, doc, it, "%s: list items must be plain values", what);
            if (strlen(v) >= TT_PARAM_VALUE_MAX)
                return tt_ynode_error(err, doc, it, "%s: value '%s' is too long", what, v);
            snprintf(a->values[i], TT_PARAM_VALUE_MAX, "%s", v);
        }
        a->nvalues = cnt;
        return TT_OK;
    }
    if (t == 's') { /* a single value: a one-point axis */
        const char *v = tt_ynode_scalar(doc, n);
        if (!v || !*v || strlen(v) >= TT_PARAM_VALUE_MAX)
            return tt_ynode_error(err, doc, n, "%s: expected a list, a range or a value", what);
        a->values = calloc(1, sizeof *a->values);
        if (!a->values)
            return tt_err_set(err, TT_ENOMEM, "sweep: out of memory");
        snprintf(a->values[0], TT_PARAM_VALUE_MAX, "%s", v);
        a->nvalues = 1;
        return TT_OK;
    }
    if (t != 'm')
        return tt_ynode_error(err, doc, n, "%s: expected a list [a, b, ...] or {from, to, step}",
                              what);
    for (size_t i = 0; i < tt_ynode_map_size(doc, n); i++) {
        const char *k = tt_ynode_map_key(doc, n, i);
        if (!k || (strcmp(k, "from") && strcmp(k, "to") && strcmp(k, "step")))
            return tt_ynode_error(err, doc, tt_ynode_map_value(doc, n, i),
                                  "%s: unknown key '%s' in a range (from, to, step)", what,
                                  k ? k : "?");
    }
    a->is_range = 1;
    char w2[200];
    snprintf(w2, sizeof w2, "%s.from", what);
    int rc = tt_ynode_double(doc, tt_ynode_get(doc, n, "from"), w2, &a->from, err);
    if (rc)
        return rc;
    snprintf(w2, sizeof w2, "%s.to", what);
    rc = tt_ynode_double(doc, tt_ynode_get(doc, n, "to"), w2, &a->to, err);
    if (rc)
        return rc;
    tt_ynode sn = tt_ynode_get(doc, n, "step");
    if (sn) {
        snprintf(w2, sizeof w2, "%s.step", what);
        rc = tt_ynode_double(doc, sn, w2, &a->step, err);
        if (rc)
            return rc;
        if (a->step <= 0)
            return tt_ynode_error(err, doc, sn, "%s.step: must be > 0", what);
    } else if (!random_mode) {
        return tt_ynode_error(err, doc, n, "%s: a grid range needs a step", what);
    }
    if (a->to < a->from)
        return tt_ynode_error(err, doc, n, "%s: 'to' is below 'from'", what);
    if (a->step > 0) {
        /* A tiny tolerance so that 0.1..0.5 step 0.1 includes 0.5. */
        double span = (a->to - a->from) / a->step;
        if (span > TT_SWEEP_MAX_JOBS)
            return tt_ynode_error(err, doc, n, "%s: the range has too many points", what);
        uint64_t cnt = (uint64_t)floor(span + 1e-9) + 1;
        a->integer = is_whole(a->from) && is_whole(a->to) && is_whole(a->step);
        a->values = calloc(cnt, sizeof *a->values);
        if (!a->values)
            return tt_err_set(err, TT_ENOMEM, "sweep: out of memory");
        for (uint64_t k = 0; k < cnt; k++)
            format_point(a, k, a->values[k]);
        a->nvalues = cnt;
    }
    return TT_OK;
}

static int is_range_map(const tt_research_doc *doc, tt_ynode n)
{
    if (tt_ynode_type(doc, n) != 'm' || !tt_ynode_get(doc, n, "from"))
        return 0;
    for (size_t i = 0; i < tt_ynode_map_size(doc, n); i++) {
        const char *k = tt_ynode_map_key(doc, n, i);
        if (!k || (strcmp(k, "from") && strcmp(k, "to") && strcmp(k, "step")))
            return 0;
    }
    return 1;
}

/* Parameters may be written with dotted keys (strategy.params.fast: [..]) or
 * nested (strategy: {params: {fast: [..]}}); nested mappings are walked down
 * to their leaves (a list, a value, or a {from, to, step} range). */
static int collect_axes(tt_sweep_spec *spec, const tt_research_doc *doc, tt_ynode map,
                        const char *prefix, int depth, tt_err *err)
{
    if (depth > 8)
        return tt_ynode_error(err, doc, map, "sweep.params: nested too deeply");
    size_t np = tt_ynode_map_size(doc, map);
    for (size_t i = 0; i < np; i++) {
        const char *k = tt_ynode_map_key(doc, map, i);
        tt_ynode v = tt_ynode_map_value(doc, map, i);
        if (!k || !*k)
            return tt_ynode_error(err, doc, v, "sweep.params: keys must be plain text");
        char key[2 * TT_PARAM_KEY_MAX];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k);
        if (tt_ynode_type(doc, v) == 'm' && !is_range_map(doc, v) &&
            !tt_ynode_get(doc, v, "from")) {
            int rc = collect_axes(spec, doc, v, key, depth + 1, err);
            if (rc)
                return rc;
            continue;
        }
        for (size_t j = 0; j < spec->naxes; j++)
            if (!strcmp(spec->axes[j].key, key))
                return tt_ynode_error(err, doc, v, "sweep.params: '%s' is given twice", key);
        tt_sweep_axis *na = realloc(spec->axes, (spec->naxes + 1) * sizeof *na);
        if (!na)
            return tt_err_set(err, TT_ENOMEM, "sweep: out of memory");
        spec->axes = na;
        int rc =
            read_axis(&spec->axes[spec->naxes], doc, key, v, spec->mode == TT_SWEEP_RANDOM, err);
        spec->naxes++;
        if (rc)
            return rc;
    }
    return TT_OK;
}

int tt_sweep_spec_read(tt_sweep_spec *spec, const tt_research_doc *doc, uint64_t default_seed,
                       tt_err *err)
{
    memset(spec, 0, sizeof *spec);
    snprintf(spec->file, sizeof spec->file, "%s", tt_research_doc_name(doc));
    spec->seed = default_seed;
    tt_ynode sec = tt_research_doc_section(doc, "sweep");
    if (!sec)
        return tt_err_set(err, TT_ENOTFOUND, "%s: the scenario has no sweep: section",
                          tt_research_doc_name(doc));
    if (tt_ynode_type(doc, sec) != 'm')
        return tt_ynode_error(err, doc, sec, "sweep: expected a mapping");
    int rc;
    for (size_t i = 0; i < tt_ynode_map_size(doc, sec); i++) {
        const char *k = tt_ynode_map_key(doc, sec, i);
        tt_ynode v = tt_ynode_map_value(doc, sec, i);
        if (!k)
            return tt_ynode_error(err, doc, v, "sweep: keys must be plain text");
        if (!strcmp(k, "mode")) {
            const char *m = tt_ynode_scalar(doc, v);
            if (m && !strcmp(m, "grid"))
                spec->mode = TT_SWEEP_GRID;
            else if (m && !strcmp(m, "random"))
                spec->mode = TT_SWEEP_RANDOM;
            else
                return tt_ynode_error(err, doc, v, "sweep.mode: expected grid or random, got '%s'",
                                      m ? m : "?");
        } else if (!strcmp(k, "samples")) {
            if ((rc = tt_ynode_u64(doc, v, "sweep.samples", &spec->samples, err)))
                return rc;
        } else if (!strcmp(k, "seed")) {
            if ((rc = tt_ynode_u64(doc, v, "sweep.seed", &spec->seed, err)))
                return rc;
        } else if (!strcmp(k, "heatmap")) {
            if (tt_ynode_seq_size(doc, v) != 2)
                return tt_ynode_error(err, doc, v, "sweep.heatmap: expected two parameter keys");
            for (int h = 0; h < 2; h++) {
                const char *hk = tt_ynode_scalar(doc, tt_ynode_seq_item(doc, v, (size_t)h));
                snprintf(spec->heatmap[h], sizeof spec->heatmap[h], "%s", hk ? hk : "");
            }
        } else if (strcmp(k, "params")) {
            return tt_ynode_error(
                err, doc, v, "sweep: unknown key '%s' (mode, samples, seed, params, heatmap)", k);
        }
    }
    /* Params after mode is known: a stepless range is valid only in random mode. */
    tt_ynode params = tt_ynode_get(doc, sec, "params");
    if (!params || tt_ynode_map_size(doc, params) == 0)
        return tt_ynode_error(err, doc, params ? params : sec,
                              "sweep.params: expected a mapping of parameter keys to values");
    if ((rc = collect_axes(spec, doc, params, "", 0, err)))
        return rc;
    if (spec->mode == TT_SWEEP_RANDOM && spec->samples == 0)
        return tt_ynode_error(err, doc, sec, "sweep.samples: random mode needs samples > 0");
    for (int h = 0; h < 2; h++) {
        if (!spec->heatmap[h][0])
            continue;
        int found = 0;
        for (size_t j = 0; j < spec->naxes; j++)
            found |= !strcmp(spec->axes[j].key, spec->heatmap[h]);
        if (!found)
            return tt_ynode_error(err, doc, tt_ynode_get(doc, sec, "heatmap"),
                                  "sweep.heatmap: '%s' is not a swept parameter", spec->heatmap[h]);
    }
    return TT_OK;
}

void tt_sweep_spec_free(tt_sweep_spec *spec)
{
    for (size_t i = 0; spec->axes && i < spec->naxes; i++)
        free(spec->axes[i].values);
    free(spec->axes);
    memset(spec, 0, sizeof *spec);
}

/* ---- expansion ---- */

int tt_sweep_expand(const tt_sweep_spec *spec, const char *id_prefix, tt_sweep_plan *plan,
                    tt_err *err)
{
    memset(plan, 0, sizeof *plan);
    snprintf(plan->id_prefix, sizeof plan->id_prefix, "%s", id_prefix ? id_prefix : "sweep");
    if (spec->naxes == 0)
        return tt_err_set(err, TT_EINVAL, "%s: sweep.params is empty", spec->file);
    uint64_t njobs = 1;
    if (spec->mode == TT_SWEEP_GRID) {
        for (size_t i = 0; i < spec->naxes; i++) {
            njobs *= spec->axes[i].nvalues;
            if (njobs > TT_SWEEP_MAX_JOBS)
                return tt_err_set(
                    err, TT_EINVAL,
                    "%s: the sweep grid has more than %d runs (after sweep.params.%s)", spec->file,
                    TT_SWEEP_MAX_JOBS, spec->axes[i].key);
        }
    } else {
        if (spec->samples == 0 || spec->samples > TT_SWEEP_MAX_JOBS)
            return tt_err_set(err, TT_EINVAL, "%s: sweep.samples must be 1..%d", spec->file,
                              TT_SWEEP_MAX_JOBS);
        njobs = spec->samples;
    }
    plan->njobs = (size_t)njobs;
    plan->nparams = spec->naxes;
    plan->params = calloc(plan->njobs * plan->nparams, sizeof *plan->params);
    if (!plan->params)
        return tt_err_set(err, TT_ENOMEM, "sweep: out of memory for %zu runs", plan->njobs);
    tt_pcg64 g = tt_rng_derive(spec->seed, "sweep/random");
    for (size_t j = 0; j < plan->njobs; j++) {
        tt_param *row = plan->params + j * plan->nparams;
        /* Grid: mixed-radix digits of j, the last axis varying fastest. */
        size_t rest = j;
        for (size_t a = spec->naxes; a-- > 0;) {
            const tt_sweep_axis *ax = &spec->axes[a];
            snprintf(row[a].key, sizeof row[a].key, "%s", ax->key);
            if (spec->mode == TT_SWEEP_GRID) {
                snprintf(row[a].value, sizeof row[a].value, "%s", ax->values[rest % ax->nvalues]);
                rest /= ax->nvalues;
            }
        }
        if (spec->mode == TT_SWEEP_RANDOM) {
            /* Draw in axis order so that the stream position of each draw is fixed. */
            for (size_t a = 0; a < spec->naxes; a++) {
                const tt_sweep_axis *ax = &spec->axes[a];
                if (ax->nvalues) {
                    uint64_t k = tt_pcg64_bounded(&g, ax->nvalues);
                    snprintf(row[a].value, sizeof row[a].value, "%s", ax->values[k]);
                } else {
                    double u = tt_pcg64_uniform(&g);
                    snprintf(row[a].value, sizeof row[a].value, "%.6g",
                             ax->from + u * (ax->to - ax->from));
                }
            }
        }
    }
    return TT_OK;
}

void tt_sweep_plan_free(tt_sweep_plan *plan)
{
    free(plan->params);
    memset(plan, 0, sizeof *plan);
}

void tt_params_format(const tt_param *params, size_t n, char *buf, size_t bufsize)
{
    size_t used = 0;
    if (bufsize)
        buf[0] = 0;
    for (size_t i = 0; i < n && used + 1 < bufsize; i++) {
        int k = snprintf(buf + used, bufsize - used, "%s%s=%s", i ? " " : "", params[i].key,
                         params[i].value);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

void tt_run_series_free(tt_run_series *s)
{
    free(s->equity);
    free(s->trades);
    memset(s, 0, sizeof *s);
}

/* ---- running ---- */

typedef struct sweep_ctx {
    const tt_sweep_plan *plan;
    tt_research_runner runner;
    const tt_sweep_opts *opts;
    tt_run_summary *results;
} sweep_ctx;

static int sweep_job(void *vctx, size_t index, tt_buf *out, tt_err *err)
{
    sweep_ctx *c = vctx;
    tt_run_summary s;
    memset(&s, 0, sizeof s);
    int rc = c->runner.run(c->runner.self, tt_sweep_job_params(c->plan, index), c->plan->nparams,
                           c->opts->from, c->opts->to, &s, NULL, err);
    if (rc)
        return rc;
    return tt_buf_append(out, &s, sizeof s);
}

size_t tt_research_group_size(unsigned runs_per_process, unsigned jobs, size_t njobs)
{
    if (runs_per_process == 1)
        return 1;
    if (runs_per_process && runs_per_process != TT_POOL_KEEP)
        return runs_per_process;
    size_t j = jobs ? jobs : 1;
    return njobs ? (njobs + j - 1) / j : 1;
}

int tt_research_run_group(const tt_research_runner *runner, const tt_sweep_plan *plan,
                          size_t first, size_t n, tt_ts from, tt_ts to, tt_buf *outs, int *rcs,
                          tt_err *errs, tt_err *err)
{
    tt_run_summary *sum = calloc(n ? n : 1, sizeof *sum);
    if (!sum)
        return tt_err_set(err, TT_ENOMEM, "sweep: out of memory for a group of %zu runs", n);
    int together = n > 1 && runner->run_group &&
                   runner->run_group(runner->self, tt_sweep_job_params(plan, first),
                                     plan->nparams, n, from, to, sum, rcs, errs, err) == TT_OK;
    for (size_t i = 0; i < n; i++) {
        if (!together) {
            memset(&sum[i], 0, sizeof sum[i]);
            tt_err_clear(&errs[i]);
            rcs[i] = runner->run(runner->self, tt_sweep_job_params(plan, first + i),
                                 plan->nparams, from, to, &sum[i], NULL, &errs[i]);
        }
        if (!rcs[i] && tt_buf_append(&outs[i], &sum[i], sizeof sum[i]))
            rcs[i] = tt_err_set(&errs[i], TT_ENOMEM, "sweep: out of memory");
    }
    free(sum);
    return TT_OK;
}

static int sweep_group(void *vctx, size_t first, size_t n, tt_buf *outs, int *rcs, tt_err *errs,
                       tt_err *err)
{
    sweep_ctx *c = vctx;
    return tt_research_run_group(&c->runner, c->plan, first, n, c->opts->from, c->opts->to, outs,
                                 rcs, errs, err);
}

static void sweep_done(void *vctx, size_t index, const tt_pool_outcome *o)
{
    sweep_ctx *c = vctx;
    tt_run_summary *r = &c->results[index];
    const tt_param *params = tt_sweep_job_params(c->plan, index);
    if (o->status == TT_RUN_OK && o->data.len == sizeof *r) {
        memcpy(r, o->data.data, sizeof *r);
        r->status = TT_RUN_OK;
    } else {
        memset(r, 0, sizeof *r);
        char ps[200];
        tt_params_format(params, c->plan->nparams, ps, sizeof ps);
        r->status = o->status == TT_RUN_OK ? TT_RUN_FAILED : o->status;
        r->signal = o->signal;
        snprintf(r->error, sizeof r->error, "%s [%s]",
                 o->status == TT_RUN_OK ? "result of the wrong size" : o->error, ps);
        r->m.sharpe = r->m.sortino = r->m.calmar = r->m.profit_factor = NAN;
        r->m.win_rate = r->m.expectancy = r->m.cagr = r->m.ann_volatility = NAN;
    }
    r->index = (uint32_t)index;
    tt_run_id_make(r->run_id, c->plan->id_prefix, (uint32_t)index);
    if (c->opts->on_result)
        c->opts->on_result(c->opts->ctx, r, params, c->plan->nparams);
}

static void sweep_tick(void *vctx, size_t done, size_t total)
{
    sweep_ctx *c = vctx;
    if (c->opts->on_tick)
        c->opts->on_tick(c->opts->ctx, done, total);
}

int tt_sweep_run(const tt_sweep_plan *plan, tt_research_runner runner, const tt_sweep_opts *opts,
                 tt_run_summary *results, tt_err *err)
{
    tt_sweep_opts o = opts ? *opts : (tt_sweep_opts){0};
    if (!runner.run)
        return tt_err_set(err, TT_EINVAL, "sweep: no runner");
    sweep_ctx c = {plan, runner, &o, results};
    tt_pool_outcome *out = calloc(plan->njobs ? plan->njobs : 1, sizeof *out);
    if (!out)
        return tt_err_set(err, TT_ENOMEM, "sweep: out of memory");
    size_t group = tt_research_group_size(o.runs_per_process, o.jobs, plan->njobs);
    tt_pool_opts po = {.workers = o.jobs,
                       .runs_per_process = 1,
                       .on_done = sweep_done,
                       .on_tick = o.on_tick ? sweep_tick : NULL,
                       .tick_ms = 1000,
                       .group = sweep_group,
                       .group_size = group,
                       .cb_ctx = &c};
    int rc = tt_pool_run(plan->njobs, sweep_job, &c, &po, out, err);
    tt_pool_outcomes_free(out, plan->njobs);
    free(out);
    if (rc)
        return rc;
    size_t bad = 0;
    for (size_t i = 0; i < plan->njobs; i++)
        bad += results[i].status != TT_RUN_OK;
    if (bad)
        return tt_err_set(err, TT_EPARTIAL, "%zu of %zu runs did not complete", bad, plan->njobs);
    return TT_OK;
}

/* ---- jobs on the wire ---- */

int tt_sweep_job_encode(tt_buf *b, const char *run_id, uint32_t index, const tt_param *params,
                        size_t nparams, const char *scenario_id, tt_ts from, tt_ts to)
{
    int rc = tt_buf_printf(b, "{\"v\":%d,\"run_id\":", TT_SWEEP_JOB_VERSION);
    rc = rc ? rc : tt_buf_json_string(b, run_id);
    rc = rc ? rc : tt_buf_printf(b, ",\"index\":%u,\"scenario\":", index);
    rc = rc ? rc : tt_buf_json_string(b, scenario_id);
    rc = rc ? rc
            : tt_buf_printf(b, ",\"from\":%lld,\"to\":%lld,\"params\":{", (long long)from,
                            (long long)to);
    for (size_t k = 0; k < nparams && !rc; k++) {
        if (k)
            rc = tt_buf_append(b, ",", 1);
        rc = rc ? rc : tt_buf_json_string(b, params[k].key);
        rc = rc ? rc : tt_buf_append(b, ":", 1);
        rc = rc ? rc : tt_buf_json_string(b, params[k].value);
    }
    return rc ? rc : tt_buf_append(b, "}}", 2);
}

/* A whole number that fits an int64 (no sign, no spaces): 0 and *out, or -1. */
static int whole(const char *v, long long *out)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n > 19 || strspn(v, "0123456789") != n)
        return -1;
    errno = 0;
    *out = strtoll(v, NULL, 10);
    return errno ? -1 : 0;
}

static int token_chars(const char *v, size_t max)
{
    size_t n = strlen(v);
    return n > 0 && n < max &&
           strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* The fields of a job, checked one by one, in an order that gives the same
 * answer to every job that names a file: its scenario first. */
static int job_fields(tt_sweep_job *job, const tt_json_flat *j, tt_err *err)
{
    static const char *const top[] = {"v", "run_id", "index", "scenario", "from", "to", NULL};
    if (j->n > 6 + TT_SWEEP_JOB_MAX_PARAMS)
        return tt_err_set(err, TT_EFORMAT, "bad job message: too many fields");
    const char *sc = tt_json_flat_get(j, "scenario", NULL);
    if (!sc || strlen(sc) != 64 || strspn(sc, "0123456789abcdef") != 64)
        return tt_err_set(err, TT_EPERM, "unknown scenario");
    memcpy(job->scenario, sc, 65);
    for (size_t k = 0; k < j->n; k++) {
        const tt_json_kv *kv = &j->kv[k];
        int known = !strncmp(kv->key, "params.", 7);
        for (size_t t = 0; top[t] && !known; t++)
            known = !strcmp(kv->key, top[t]);
        if (!known) /* anything that would set something (the first format's "sets") */
            return tt_err_set(err, TT_EPERM, "parameter not allowed");
        for (size_t m = 0; m < k; m++)
            if (!strcmp(j->kv[m].key, kv->key))
                return tt_err_set(err, TT_EFORMAT, "bad job message: a key given twice");
        if (!kv->value)
            return tt_err_set(err, TT_EFORMAT, "bad job message: a null value");
    }
    const char *bad = NULL, *v = tt_json_flat_get(j, "v", NULL);
    const char *id = tt_json_flat_get(j, "run_id", NULL);
    const char *f = tt_json_flat_get(j, "from", NULL), *t = tt_json_flat_get(j, "to", NULL);
    long long n = 0, from = 0, to = 0;
    if (!v || strcmp(v, "2"))
        bad = "v (this worker reads job format 2)";
    else if (!id || !token_chars(id, sizeof job->run_id))
        bad = "run_id";
    else if (whole(tt_json_flat_get(j, "index", NULL), &n) || n >= TT_SWEEP_MAX_JOBS)
        bad = "index";
    else if ((f && whole(f, &from)) || (t && whole(t, &to)) || (from && to && from >= to))
        bad = "from/to";
    if (bad)
        return tt_err_set(err, TT_EFORMAT, "bad job message: field %s", bad);
    snprintf(job->run_id, sizeof job->run_id, "%s", id);
    job->index = (uint32_t)n;
    job->from = from;
    job->to = to;
    for (size_t k = 0; k < j->n; k++) {
        const tt_json_kv *kv = &j->kv[k];
        if (strncmp(kv->key, "params.", 7))
            continue;
        if (!kv->is_string || strlen(kv->key + 7) == 0 ||
            strlen(kv->key + 7) >= TT_PARAM_KEY_MAX || strlen(kv->value) >= TT_PARAM_VALUE_MAX)
            return tt_err_set(err, TT_EFORMAT, "bad job message: field params");
        tt_param *p = &job->params[job->nparams++];
        snprintf(p->key, sizeof p->key, "%s", kv->key + 7);
        snprintf(p->value, sizeof p->value, "%s", kv->value);
    }
    return TT_OK;
}

int tt_sweep_job_decode(tt_sweep_job *job, const char *data, size_t len, tt_err *err)
{
    memset(job, 0, sizeof *job);
    tt_json_flat j;
    int rc = tt_json_flat_parse(&j, data, len, "sweep job", err);
    if (rc)
        return rc == TT_ENOMEM ? rc : tt_err_set(err, TT_EFORMAT, "bad job message: not JSON");
    job->params = calloc(j.n ? j.n : 1, sizeof *job->params);
    rc = job->params ? job_fields(job, &j, err) : tt_err_set(err, TT_ENOMEM, "out of memory");
    tt_json_flat_free(&j);
    if (rc)
        tt_sweep_job_free(job);
    return rc;
}

void tt_sweep_job_free(tt_sweep_job *job)
{
    free(job->params);
    job->params = NULL;
    job->nparams = 0;
}

static int value_allowed(const tt_sweep_axis *a, const char *v)
{
    for (size_t i = 0; i < a->nvalues; i++)
        if (!strcmp(a->values[i], v))
            return 1;
    if (!a->is_range || a->nvalues) /* a list, or a stepped range: its points only */
        return 0;
    char *end = NULL;
    double x = strtod(v, &end);
    if (!*v || *end || !isfinite(x))
        return 0;
    /* a draw is printed with %.6g: allow its rounding at the ends */
    double slack = 1e-5 * fmax(fabs(a->from), fabs(a->to));
    return x >= a->from - slack && x <= a->to + slack;
}

int tt_sweep_job_check(const tt_sweep_job *job, const tt_sweep_spec *spec, tt_err *err)
{
    for (size_t i = 0; i < job->nparams; i++) {
        const tt_param *p = &job->params[i];
        const tt_sweep_axis *a = NULL;
        for (size_t k = 0; spec && k < spec->naxes && !a; k++)
            if (!strcmp(spec->axes[k].key, p->key))
                a = &spec->axes[k];
        if (!a || !value_allowed(a, p->value)) {
            char key[TT_PARAM_KEY_MAX];
            size_t n = 0;
            for (const char *c = p->key; *c && n < sizeof key - 1; c++)
                key[n++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
            key[n] = 0;
            return tt_err_set(err, TT_EPERM, "parameter not allowed: %s", key);
        }
    }
    return TT_OK;
}

/* ---- the scenario runner ---- */

static int window_next(void *self, tt_event *ev, tt_err *err)
{
    tt_window_src *w = self;
    for (;;) {
        int rc = w->inner.next(w->inner.self, ev, err);
        if (rc != TT_SRC_EVENT)
            return rc;
        if (w->to && ev->ts >= w->to)
            return TT_SRC_END;
        if (ev->ts >= w->from)
            return TT_SRC_EVENT;
    }
}

/* One run of the scenario with its parameters over [from, to), prepared and
 * not yet run: a clone of the scenario with the parameters set, and its
 * prepared run with the window applied. */
typedef struct one_run {
    tt_scenario *s;
    tt_scenario_run *run;
    tt_window_src win;
    tt_source wsrc;
} one_run;

static void one_free(one_run *o)
{
    if (o->run)
        tt_scenario_release(o->run);
    free(o->run);
    tt_scenario_free(o->s);
    memset(o, 0, sizeof *o);
}

static int one_prepare(one_run *o, tt_scenario *base, const tt_param *params, size_t nparams,
                       tt_ts from, tt_ts to, int series, tt_err *err)
{
    memset(o, 0, sizeof *o);
    if (!(o->s = tt_scenario_clone(base)))
        return tt_err_set(err, TT_ENOMEM, "sweep: out of memory");
    int rc = TT_OK;
    for (size_t i = 0; i < nparams && !rc; i++) {
        char a[TT_PARAM_KEY_MAX + TT_PARAM_VALUE_MAX + 2];
        snprintf(a, sizeof a, "%s=%s", params[i].key, params[i].value);
        rc = tt_scenario_set(o->s, a, err);
    }
    if (!rc && !(o->run = calloc(1, sizeof *o->run)))
        rc = tt_err_set(err, TT_ENOMEM, "sweep: out of memory");
    if (!rc && (rc = tt_scenario_prepare(o->s, o->run, err))) {
        free(o->run); /* prepare leaves nothing to release on failure */
        o->run = NULL;
    }
    if (rc) {
        one_free(o);
        return rc;
    }
    tt_backtest_config *cfg = &o->run->cfg;
    if (from || to) {
        if (cfg->source) {
            o->wsrc = tt_window_source(&o->win, *cfg->source, from, to);
            cfg->source = &o->wsrc;
        } else {
            if (from > cfg->from)
                cfg->from = from;
            if (to && (!cfg->to || to < cfg->to))
                cfg->to = to;
        }
    }
    cfg->skip_order_events = 1;
    if (series)
        cfg->equity_keep_max = 0; /* walk-forward stitches every sampled point */
    return TT_OK;
}

/* A run's summary from its result (and, when wanted, its series). */
static int one_summary(tt_backtest_result *res, tt_run_summary *out, tt_run_series *series,
                       tt_err *err)
{
    /* The series owns malloc'd arrays: a long run's trade list, mapped from
     * its temporary file, is copied (tt_backtest_result_take_trades). */
    if (series && tt_backtest_result_take_trades(res, &series->trades, &series->ntrades))
        return tt_err_set(err, TT_ENOMEM, "out of memory (the run's trades)");
    out->m = res->metrics;
    out->status = TT_RUN_OK;
    out->fp = res->fingerprint;
    out->events = res->events;
    out->first_ts = res->first_ts;
    out->last_ts = res->last_ts;
    if (series) {
        /* Hand the equity array over instead of copying it (the trades are taken above). */
        series->equity = res->equity;
        series->nequity = res->nequity;
        series->initial_balance = res->initial_balance;
        res->equity = NULL;
        res->nequity = 0;
    }
    return TT_OK;
}

static int scenario_run(void *self, const tt_param *params, size_t nparams, tt_ts from, tt_ts to,
                        tt_run_summary *out, tt_run_series *series, tt_err *err)
{
    one_run o;
    int rc = one_prepare(&o, self, params, nparams, from, to, series != NULL, err);
    if (rc)
        return rc;
    tt_backtest_result res;
    memset(&res, 0, sizeof res);
    rc = tt_backtest_run(&o.run->cfg, &res, err);
    if (!rc)
        rc = one_summary(&res, out, series, err);
    tt_backtest_result_free(&res);
    one_free(&o);
    return rc;
}

/* Runs that read a tape share one pass (tt_backtest_group_run); a synthetic
 * market, whose source each run owns, cannot: TT_EINVAL, and the caller runs
 * them one by one. */
static int scenario_run_group(void *self, const tt_param *params, size_t nparams, size_t n,
                              tt_ts from, tt_ts to, tt_run_summary *out, int *rcs, tt_err *errs,
                              tt_err *err)
{
    one_run *o = calloc(n, sizeof *o);
    const tt_backtest_config **cfgs = calloc(n, sizeof *cfgs);
    size_t *at = calloc(n, sizeof *at), ng = 0;
    tt_backtest_result *res = calloc(n, sizeof *res);
    int *grc = calloc(n, sizeof *grc);
    tt_err *gerr = calloc(n, sizeof *gerr);
    int rc = o && cfgs && at && res && grc && gerr
                 ? TT_OK
                 : tt_err_set(err, TT_ENOMEM, "sweep: out of memory for a group of %zu", n);
    for (size_t i = 0; !rc && i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        tt_err_clear(&errs[i]);
        if ((rcs[i] = one_prepare(&o[i], self, params + i * nparams, nparams, from, to, 0,
                                  &errs[i])))
            continue;
        if (o[i].run->cfg.source)
            rc = tt_err_set(err, TT_EINVAL, "sweep: a synthetic market cannot be shared");
        /* a sweep keeps no series: bound what each run of the group holds
         * (its figures are computed from every point whatever is kept) */
        o[i].run->cfg.equity_keep_max = 1024;
        cfgs[ng] = &o[i].run->cfg;
        at[ng++] = i;
    }
    if (!rc && ng)
        rc = tt_backtest_group_run(cfgs, ng, res, grc, gerr, err);
    for (size_t k = 0; !rc && k < ng; k++) {
        size_t i = at[k];
        if ((rcs[i] = grc[k]))
            errs[i] = gerr[k];
        else
            rcs[i] = one_summary(&res[k], &out[i], NULL, &errs[i]);
        tt_backtest_result_free(&res[k]);
    }
    for (size_t i = 0; o && i < n; i++)
        one_free(&o[i]);
    free(o), free(cfgs), free(at), free(res), free(grc), free(gerr);
    return rc;
}

tt_source tt_window_source(tt_window_src *w, tt_source inner, tt_ts from, tt_ts to)
{
    w->inner = inner;
    w->from = from;
    w->to = to;
    return (tt_source){w, window_next, NULL, NULL};
}

tt_research_runner tt_scenario_runner(struct tt_scenario *s)
{
    return (tt_research_runner){s, scenario_run, scenario_run_group};
}
