/*
 * Walk-forward analysis: folds, per-fold optimisation, out-of-sample runs,
 * stitching, efficiency.
 *
 * Two rounds of the process pool. Round one runs every (fold, parameter set)
 * pair on its train window: nfolds * njobs independent runs, fold-major, so
 * the pool stays full across folds instead of waiting at each fold's end.
 * The winner of each fold is then picked in the parent from the summaries
 * (deterministic: best objective, ties to the lower job index, NaN never
 * wins). Round two runs each fold's winner on its test window and sends back
 * the equity series and trades too, which the parent stitches.
 *
 * Stitching chains P&L, not returns: fold k's curve is shifted so that it
 * starts where fold k-1 ended. The strategies size positions in lots, not as
 * a fraction of equity, so adding P&L is the faithful way to join them, and
 * it keeps money in exact integers.
 *
 * Each run's data source is cut to its window by the runner. The parent
 * still checks every summary's first and last input time against the window
 * it asked for, so a source that ignored the range would be caught here
 * rather than silently producing a look-ahead.
 */
#include "walkforward.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fingerprint.h"
#include "pool.h"

const char *tt_wf_objective_name(int o)
{
    switch (o) {
    case TT_WF_RETURN: return "return";
    case TT_WF_PROFIT_FACTOR: return "profit_factor";
    case TT_WF_NET_PNL: return "net_pnl";
    default: return "sharpe";
    }
}

int tt_wf_spec_read(tt_wf_spec *spec, const tt_research_doc *doc, tt_err *err)
{
    memset(spec, 0, sizeof *spec);
    tt_ynode sec = tt_research_doc_section(doc, "walkforward");
    if (!sec)
        return tt_err_set(err, TT_ENOTFOUND, "%s: the scenario has no walkforward: section",
                          tt_research_doc_name(doc));
    if (tt_ynode_type(doc, sec) != 'm')
        return tt_ynode_error(err, doc, sec, "walkforward: expected a mapping");
    int rc;
    for (size_t i = 0; i < tt_ynode_map_size(doc, sec); i++) {
        const char *k = tt_ynode_map_key(doc, sec, i);
        tt_ynode v = tt_ynode_map_value(doc, sec, i);
        const char *sv = tt_ynode_scalar(doc, v);
        char what[128];
        snprintf(what, sizeof what, "%s:%d: walkforward.%s", tt_research_doc_name(doc),
                 tt_ynode_line(doc, v), k ? k : "?");
        if (!k) {
            return tt_ynode_error(err, doc, v, "walkforward: keys must be plain text");
        } else if (!strcmp(k, "mode")) {
            if (sv && !strcmp(sv, "rolling"))
                spec->anchored = 0;
            else if (sv && !strcmp(sv, "anchored"))
                spec->anchored = 1;
            else
                return tt_ynode_error(err, doc, v,
                                      "walkforward.mode: expected rolling or anchored, got '%s'",
                                      sv ? sv : "?");
        } else if (!strcmp(k, "train") || !strcmp(k, "test") || !strcmp(k, "step")) {
            tt_ts *dst = k[1] == 'r' ? &spec->train : k[1] == 'e' ? &spec->test : &spec->step;
            if ((rc = tt_duration_parse(sv, dst, what, err)))
                return rc;
        } else if (!strcmp(k, "objective")) {
            if (sv && !strcmp(sv, "sharpe"))
                spec->objective = TT_WF_SHARPE;
            else if (sv && !strcmp(sv, "return"))
                spec->objective = TT_WF_RETURN;
            else if (sv && !strcmp(sv, "profit_factor"))
                spec->objective = TT_WF_PROFIT_FACTOR;
            else if (sv && !strcmp(sv, "net_pnl"))
                spec->objective = TT_WF_NET_PNL;
            else
                return tt_ynode_error(err, doc, v,
                                      "walkforward.objective: expected sharpe, return, "
                                      "profit_factor or net_pnl, got '%s'",
                                      sv ? sv : "?");
        } else if (!strcmp(k, "min_trades")) {
            if ((rc = tt_ynode_u64(doc, v, "walkforward.min_trades", &spec->min_trades, err)))
                return rc;
        } else if (!strcmp(k, "from") || !strcmp(k, "to")) {
            tt_ts *dst = k[0] == 'f' ? &spec->from : &spec->to;
            if (!sv || tt_ts_parse(sv, dst))
                return tt_ynode_error(err, doc, v, "walkforward.%s: expected an ISO 8601 UTC time",
                                      k);
        } else {
            return tt_ynode_error(err, doc, v,
                                  "walkforward: unknown key '%s' (mode, train, test, step, "
                                  "objective, min_trades, from, to)",
                                  k);
        }
    }
    if (!spec->train || !spec->test)
        return tt_ynode_error(err, doc, sec, "walkforward: train and test lengths are required");
    if (!spec->step)
        spec->step = spec->test;
    if (spec->from && spec->to && spec->to <= spec->from)
        return tt_ynode_error(err, doc, sec, "walkforward: 'to' must be after 'from'");
    return TT_OK;
}

int tt_wf_windows(const tt_wf_spec *spec, tt_ts from, tt_ts to, tt_wf_window **wp, size_t *n,
                  tt_err *err)
{
    *wp = NULL;
    *n = 0;
    if (spec->train <= 0 || spec->test <= 0 || spec->step <= 0 || to <= from)
        return tt_err_set(err, TT_EINVAL, "walkforward: bad lengths or data range");
    size_t cap = 0;
    for (size_t k = 0;; k++) {
        tt_wf_window w;
        tt_ts shift = (tt_ts)k * spec->step;
        w.train_from = spec->anchored ? from : from + shift;
        w.train_to = from + spec->train + shift;
        w.test_from = w.train_to;
        w.test_to = w.test_from + spec->test;
        if (w.test_to > to)
            break;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            tt_wf_window *nw = realloc(*wp, cap * sizeof *nw);
            if (!nw) {
                free(*wp);
                *wp = NULL;
                *n = 0;
                return tt_err_set(err, TT_ENOMEM, "walkforward: out of memory");
            }
            *wp = nw;
        }
        (*wp)[(*n)++] = w;
        if (*n > 100000) {
            free(*wp);
            *wp = NULL;
            *n = 0;
            return tt_err_set(err, TT_EINVAL, "walkforward: more than 100000 folds");
        }
    }
    if (*n == 0)
        return tt_err_set(err, TT_EINVAL,
                          "walkforward: no fold fits: train %.3g d + test %.3g d is longer than "
                          "the data range of %.3g d",
                          (double)spec->train / TT_NS_PER_DAY, (double)spec->test / TT_NS_PER_DAY,
                          (double)(to - from) / TT_NS_PER_DAY);
    return TT_OK;
}

/* ---- running ---- */

typedef struct wf_ctx {
    const tt_sweep_plan *plan;
    tt_research_runner runner;
    const tt_wf_window *w;
    size_t nfolds;
    const size_t *test_fold; /* round two: pool job -> fold */
    const size_t *test_job;  /* round two: pool job -> plan job */
} wf_ctx;

static int train_job(void *vctx, size_t index, tt_buf *out, tt_err *err)
{
    wf_ctx *c = vctx;
    size_t fold = index / c->plan->njobs, job = index % c->plan->njobs;
    tt_run_summary s;
    memset(&s, 0, sizeof s);
    int rc = c->runner.run(c->runner.self, tt_sweep_job_params(c->plan, job), c->plan->nparams,
                           c->w[fold].train_from, c->w[fold].train_to, &s, NULL, err);
    return rc ? rc : tt_buf_append(out, &s, sizeof s);
}

/* Train runs in groups (tt_pool_opts.group): the runs of one fold share a
 * pass over its train window. */
static int train_group(void *vctx, size_t first, size_t n, tt_buf *outs, int *rcs, tt_err *errs,
                       tt_err *err)
{
    wf_ctx *c = vctx;
    size_t nj = c->plan->njobs;
    for (size_t i = 0; i < n;) {
        size_t fold = (first + i) / nj, job = (first + i) % nj;
        size_t m = nj - job < n - i ? nj - job : n - i;
        int rc = tt_research_run_group(&c->runner, c->plan, job, m, c->w[fold].train_from,
                                       c->w[fold].train_to, outs + i, rcs + i, errs + i, err);
        if (rc)
            return rc;
        i += m;
    }
    return TT_OK;
}

static int test_job(void *vctx, size_t index, tt_buf *out, tt_err *err)
{
    wf_ctx *c = vctx;
    size_t fold = c->test_fold[index], job = c->test_job[index];
    tt_run_summary s;
    tt_run_series ser;
    memset(&s, 0, sizeof s);
    memset(&ser, 0, sizeof ser);
    int rc = c->runner.run(c->runner.self, tt_sweep_job_params(c->plan, job), c->plan->nparams,
                           c->w[fold].test_from, c->w[fold].test_to, &s, &ser, err);
    if (!rc) {
        uint64_t ne = ser.nequity, nt = ser.ntrades;
        int64_t ib = ser.initial_balance;
        rc = tt_buf_append(out, &s, sizeof s);
        rc = rc ? rc : tt_buf_append(out, &ne, sizeof ne);
        rc = rc ? rc : tt_buf_append(out, &nt, sizeof nt);
        rc = rc ? rc : tt_buf_append(out, &ib, sizeof ib);
        rc = rc ? rc : tt_buf_append(out, ser.equity, ne * sizeof *ser.equity);
        rc = rc ? rc : tt_buf_append(out, ser.trades, nt * sizeof *ser.trades);
    }
    tt_run_series_free(&ser);
    return rc;
}

/* A summary from a pool outcome; failures carry the parameters in the message. */
static void outcome_summary(const tt_pool_outcome *o, const tt_param *params, size_t np,
                            const char *window, tt_run_summary *s)
{
    if (o->status == TT_RUN_OK && o->data.len >= sizeof *s) {
        memcpy(s, o->data.data, sizeof *s);
        s->status = TT_RUN_OK;
        return;
    }
    memset(s, 0, sizeof *s);
    char ps[200];
    tt_params_format(params, np, ps, sizeof ps);
    s->status = o->status == TT_RUN_OK ? TT_RUN_FAILED : o->status;
    s->signal = o->signal;
    snprintf(s->error, sizeof s->error, "%s [%s, %s]",
             o->status == TT_RUN_OK ? "short result" : o->error, ps, window);
    s->m.sharpe = s->m.profit_factor = s->m.return_pct = NAN;
}

static double objective_of(int objective, const tt_metrics *m)
{
    switch (objective) {
    case TT_WF_RETURN: return m->return_pct;
    case TT_WF_PROFIT_FACTOR: return m->profit_factor;
    case TT_WF_NET_PNL: return (double)m->net_pnl;
    default: return m->sharpe;
    }
}

static void window_text(const tt_wf_window *w, int test, char *buf, size_t n)
{
    char a[40], b[40];
    tt_ts_format(test ? w->test_from : w->train_from, a, sizeof a, 0);
    tt_ts_format(test ? w->test_to : w->train_to, b, sizeof b, 0);
    snprintf(buf, n, "%s %s..%s", test ? "test" : "train", a, b);
}

/* The run must have read nothing outside [from, to). */
static int check_window(const tt_run_summary *s, tt_ts from, tt_ts to, const char *what,
                        tt_err *err)
{
    if (s->status != TT_RUN_OK || s->events == 0)
        return TT_OK;
    if (s->first_ts < from || s->last_ts >= to) {
        char a[40], b[40];
        tt_ts_format(s->first_ts, a, sizeof a, 0);
        tt_ts_format(s->last_ts, b, sizeof b, 0);
        return tt_err_set(err, TT_EORDER,
                          "walkforward: %s read data from %s to %s, outside its window "
                          "(look-ahead through the data source)",
                          what, a, b);
    }
    return TT_OK;
}

typedef struct tick_ctx {
    const tt_wf_opts *o;
    size_t base, total;
} tick_ctx;

static void wf_tick(void *vctx, size_t done, size_t total)
{
    (void)total;
    tick_ctx *t = vctx;
    if (t->o->on_tick)
        t->o->on_tick(t->o->ctx, t->base + done, t->total);
}

/* The state of the stitching: capacities of the result's arrays, the P&L
 * carried from the earlier folds, and whether the first balance is known. */
typedef struct stitch {
    size_t cap_e, cap_t;
    tt_money offset;
    int have_balance;
} stitch;

/* Round one: every parameter set on every train window, through the pool or
 * the caller's train_batch, each summary checked against its window. */
static int train_round(const tt_sweep_plan *plan, wf_ctx *c, const tt_wf_opts *o,
                       const tt_pool_opts *popt, tt_pool_outcome *po, tt_wf_result *out,
                       tt_err *err)
{
    const tt_wf_window *w = c->w;
    size_t nj = plan->njobs, ntrain = c->nfolds * nj;
    int rc, remote = o->train_batch != NULL;
    if (remote) {
        rc = o->train_batch(o->train_ctx, w, c->nfolds, plan, out->train, err);
        if (rc == TT_EPARTIAL) {
            fprintf(stderr, "ticktape: walkforward: %s\n", err ? err->msg : "");
            rc = TT_OK;
        }
    } else {
        tt_pool_opts tp = *popt; /* the runs of a process share a pass over their fold */
        tp.group = train_group;
        tp.group_size = tt_research_group_size(o->runs_per_process, o->jobs, ntrain);
        rc = tt_pool_run(ntrain, train_job, c, &tp, po, err);
    }
    for (size_t i = 0; !rc && i < ntrain; i++) {
        size_t f = i / nj, j = i % nj;
        char wt[96];
        window_text(&w[f], 0, wt, sizeof wt);
        if (!remote) {
            outcome_summary(&po[i], tt_sweep_job_params(plan, j), plan->nparams, wt,
                            &out->train[i]);
            tt_run_id_make(out->train[i].run_id, plan->id_prefix, (uint32_t)i);
        }
        out->train[i].index = (uint32_t)j;
        char what[160];
        snprintf(what, sizeof what, "fold %zu job %zu (%s)", f + 1, j, wt);
        rc = check_window(&out->train[i], w[f].train_from, w[f].train_to, what, err);
    }
    if (!remote)
        tt_pool_outcomes_free(po, ntrain);
    return rc;
}

/* Each fold's winner among its qualified train runs (best objective, ties to
 * the lower job index, NaN never wins). Lists the folds that have one, with
 * their winners, in tfold/tjob; returns how many. */
static size_t pick_winners(const tt_wf_spec *spec, size_t nj, tt_wf_result *out, size_t *tfold,
                           size_t *tjob)
{
    size_t ntest = 0;
    for (size_t f = 0; f < out->nfolds; f++) {
        tt_wf_fold *fd = &out->folds[f];
        double best = -INFINITY;
        for (size_t j = 0; j < nj; j++) {
            const tt_run_summary *s = &out->train[f * nj + j];
            if (s->status != TT_RUN_OK || s->m.trades < spec->min_trades)
                continue;
            fd->qualified++;
            double v = objective_of(spec->objective, &s->m);
            if (isnan(v))
                continue;
            if (!fd->has_winner || v > best) {
                fd->has_winner = 1;
                fd->winner = j;
                best = v;
            }
        }
        fd->objective = fd->has_winner ? best : NAN;
        if (fd->has_winner) {
            fd->is = out->train[f * nj + fd->winner];
            tfold[ntest] = f;
            tjob[ntest] = fd->winner;
            ntest++;
        }
    }
    return ntest;
}

/* Append one test run's series (summary, counts, initial balance, equity
 * points, trades: see test_job) to the stitched result: its equity shifted
 * to start where the previous fold ended, its trades renumbered. */
static int stitch_fold(const tt_pool_outcome *po, const char *what, stitch *sp,
                       tt_wf_result *out, tt_err *err)
{
    const uint8_t *p = po->data.data + sizeof(tt_run_summary);
    uint64_t ne, ntr;
    int64_t ib;
    memcpy(&ne, p, 8), memcpy(&ntr, p + 8, 8), memcpy(&ib, p + 16, 8);
    p += 24;
    if (po->data.len != sizeof(tt_run_summary) + 24 + ne * sizeof(tt_equity_point) +
                            ntr * sizeof(tt_trade_record))
        return tt_err_set(err, TT_EFORMAT, "walkforward: %s: malformed series", what);
    if (!sp->have_balance) {
        out->initial_balance = ib;
        sp->have_balance = 1;
    }
    if (out->nequity + ne > sp->cap_e) {
        sp->cap_e = (out->nequity + ne) * 2 + 16;
        tt_equity_point *ne2 = realloc(out->equity, sp->cap_e * sizeof *ne2);
        if (!ne2)
            return tt_err_set(err, TT_ENOMEM, "walkforward: out of memory");
        out->equity = ne2;
    }
    if (out->ntrades + ntr > sp->cap_t) {
        sp->cap_t = (out->ntrades + ntr) * 2 + 16;
        tt_trade_record *nt2 = realloc(out->trades, sp->cap_t * sizeof *nt2);
        if (!nt2)
            return tt_err_set(err, TT_ENOMEM, "walkforward: out of memory");
        out->trades = nt2;
    }
    const tt_equity_point *eq = (const tt_equity_point *)(const void *)p;
    tt_money end = ib;
    for (uint64_t k = 0; k < ne; k++) {
        tt_equity_point e;
        memcpy(&e, &eq[k], sizeof e);
        end = e.equity;
        e.equity += sp->offset - ib + out->initial_balance;
        e.balance += sp->offset - ib + out->initial_balance;
        out->equity[out->nequity++] = e;
    }
    sp->offset += end - ib;
    const uint8_t *tp = p + ne * sizeof(tt_equity_point);
    for (uint64_t k = 0; k < ntr; k++) {
        tt_trade_record tr;
        memcpy(&tr, tp + k * sizeof tr, sizeof tr);
        tr.id = out->ntrades + 1;
        out->trades[out->ntrades++] = tr;
    }
    return TT_OK;
}

/* Round two: each winner on its test window; the runs that completed are
 * stitched in fold order. *failed counts the test runs that did not. */
static int test_round(const tt_sweep_plan *plan, wf_ctx *c, size_t ntest,
                      const tt_pool_opts *popt, tt_pool_outcome *po, tt_wf_result *out,
                      size_t *failed, tt_err *err)
{
    int rc = tt_pool_run(ntest, test_job, c, popt, po, err);
    stitch sp = {0};
    for (size_t t = 0; t < ntest && !rc; t++) {
        tt_wf_fold *fd = &out->folds[c->test_fold[t]];
        char wt[96];
        window_text(&fd->w, 1, wt, sizeof wt);
        outcome_summary(&po[t], tt_sweep_job_params(plan, c->test_job[t]), plan->nparams, wt,
                        &fd->oos);
        fd->oos.index = (uint32_t)c->test_job[t];
        snprintf(fd->oos.run_id, sizeof fd->oos.run_id, "%s-oos%zu", plan->id_prefix,
                 c->test_fold[t] + 1);
        if (fd->oos.status != TT_RUN_OK) {
            (*failed)++;
            continue;
        }
        char what[160];
        snprintf(what, sizeof what, "fold %zu (%s)", c->test_fold[t] + 1, wt);
        if ((rc = check_window(&fd->oos, fd->w.test_from, fd->w.test_to, what, err)))
            break;
        rc = stitch_fold(&po[t], what, &sp, out, err);
    }
    tt_pool_outcomes_free(po, ntest);
    if (!rc && !sp.have_balance)
        out->initial_balance = 1000000;
    return rc;
}

/* The fingerprint over the folds' winners and out-of-sample fingerprints, and
 * the in- and out-of-sample profit rates that make the efficiency. */
static int fold_figures(tt_wf_result *out, tt_err *err)
{
    double is_pnl = 0, oos_pnl = 0, is_days = 0, oos_days = 0;
    tt_fp_state *fp = tt_fp_new();
    if (!fp)
        return tt_err_set(err, TT_ENOMEM, "walkforward: out of memory");
    for (size_t f = 0; f < out->nfolds; f++) {
        const tt_wf_fold *fd = &out->folds[f];
        uint64_t word = fd->has_winner ? (uint64_t)fd->winner : UINT64_MAX;
        uint8_t b[24];
        for (int i = 0; i < 8; i++) {
            b[i] = (uint8_t)(word >> (8 * i));
            b[8 + i] = (uint8_t)(fd->oos.fp.hi >> (8 * i));
            b[16 + i] = (uint8_t)(fd->oos.fp.lo >> (8 * i));
        }
        tt_fp_update(fp, b, sizeof b);
        if (!fd->has_winner || fd->oos.status != TT_RUN_OK)
            continue;
        is_pnl += (double)fd->is.m.net_pnl;
        oos_pnl += (double)fd->oos.m.net_pnl;
        is_days += (double)(fd->w.train_to - fd->w.train_from) / (double)TT_NS_PER_DAY;
        oos_days += (double)(fd->w.test_to - fd->w.test_from) / (double)TT_NS_PER_DAY;
    }
    out->fp = tt_fp_digest(fp);
    tt_fp_free(fp);
    if (is_days > 0) {
        out->is_rate = is_pnl / is_days;
        out->oos_rate = oos_pnl / oos_days;
        out->wfe = out->is_rate > 0 ? out->oos_rate / out->is_rate : NAN;
    }
    return TT_OK;
}

int tt_walkforward_run(const tt_wf_spec *spec, const tt_sweep_plan *plan, tt_research_runner runner,
                       tt_ts from, tt_ts to, const tt_wf_opts *opts, tt_wf_result *out, tt_err *err)
{
    memset(out, 0, sizeof *out);
    out->wfe = out->is_rate = out->oos_rate = NAN;
    tt_wf_opts o = opts ? *opts : (tt_wf_opts){0};
    if (spec->from)
        from = spec->from;
    if (spec->to)
        to = spec->to;
    tt_wf_window *w;
    size_t nf;
    int rc = tt_wf_windows(spec, from, to, &w, &nf, err);
    if (rc)
        return rc;
    size_t nj = plan->njobs, ntrain = nf * nj;
    out->nfolds = nf;
    out->njobs = nj;
    out->folds = calloc(nf, sizeof *out->folds);
    out->train = calloc(ntrain ? ntrain : 1, sizeof *out->train);
    tt_pool_outcome *po = calloc(ntrain ? ntrain : 1, sizeof *po);
    size_t *tfold = calloc(nf, sizeof *tfold), *tjob = calloc(nf, sizeof *tjob);
    if (!out->folds || !out->train || !po || !tfold || !tjob) {
        free(w), free(po), free(tfold), free(tjob);
        tt_wf_result_free(out);
        return tt_err_set(err, TT_ENOMEM, "walkforward: out of memory");
    }
    for (size_t f = 0; f < nf; f++)
        out->folds[f].w = w[f];
    wf_ctx c = {plan, runner, w, nf, tfold, tjob};
    tick_ctx tk = {&o, 0, ntrain + nf};
    tt_pool_opts popt = {.workers = o.jobs, .on_tick = o.on_tick ? wf_tick : NULL, .cb_ctx = &tk,
                         .runs_per_process = o.runs_per_process};

    size_t ntest = 0, failed = 0;
    rc = train_round(plan, &c, &o, &popt, po, out, err);
    if (!rc) {
        ntest = pick_winners(spec, nj, out, tfold, tjob);
        tk.base = ntrain;
        rc = test_round(plan, &c, ntest, &popt, po, out, &failed, err);
    }
    /* Stitched figures, efficiency, fingerprint. */
    if (!rc)
        rc = tt_metrics_compute(out->trades, out->ntrades, out->equity, out->nequity,
                                out->initial_balance, o.metrics, &out->oos, err);
    if (!rc)
        rc = fold_figures(out, err);
    if (!rc && failed)
        rc = tt_err_set(err, TT_EPARTIAL, "walkforward: %zu of %zu out-of-sample runs failed",
                        failed, ntest);
    free(w), free(po), free(tfold), free(tjob);
    return rc;
}

void tt_wf_result_free(tt_wf_result *r)
{
    free(r->folds);
    free(r->train);
    free(r->equity);
    free(r->trades);
    memset(r, 0, sizeof *r);
}
