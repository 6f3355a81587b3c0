/*
 * ticktape reports: the walk-forward's fold view and JSON object
 * (wf_report.h).
 *
 * How this works: the view is computed once from the result (each fold's
 * choice in short form, why a fold chose nothing, its efficiency, the test
 * runs' events) so that the command's text, walkforward.json and the report
 * agree; the JSON is written field by field into a tt_buf with the shared
 * JSON and money formatters, a pure function of the result.
 */
#include "wf_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
/* "fast=15 slow=60": each key by its last part, unless two parameters share
 * it (then in full); walkforward.json keeps the full keys. */
static void short_params(const tt_param *p, size_t np, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < np && used < n; i++) {
        const char *k = strrchr(p[i].key, '.') ? strrchr(p[i].key, '.') + 1 : p[i].key;
        for (size_t j = 0; j < np; j++) {
            const char *o = strrchr(p[j].key, '.') ? strrchr(p[j].key, '.') + 1 : p[j].key;
            if (j != i && !strcmp(o, k))
                k = p[i].key;
        }
        used += (size_t)snprintf(buf + used, n - used, "%s%s=%s", i ? " " : "", k, p[i].value);
    }
}

/* What a fold chose: its parameters, or with an ml: section its model. */
static void chosen(const tt_wf_result *r, size_t f, const tt_sweep_plan *plan,
                   const tt_ml_wf *mw, char *buf, size_t n)
{
    tt_ml_fold_info info;
    if (!mw)
        short_params(tt_sweep_job_params(plan, r->folds[f].winner), plan->nparams, buf, n);
    else if (tt_ml_wf_fold_info(mw, f, &info, NULL))
        snprintf(buf, n, "fold-%02zu.json", f + 1);
    else
        snprintf(buf, n, "fold-%02zu.json (%lld rows)", f + 1, info.rows_used);
}

void tt_wf_view_free(tt_wf_view *v)
{
    free(v->rows), free(v->chosen), free(v->why);
    memset(v, 0, sizeof *v);
}

/* Why fold f chose nothing: every run failed, none had enough trades, or the
 * objective was n/a for all that had (a Sharpe below the minimum-data rule). */
static void why_none(const tt_wf_result *r, size_t f, const tt_wf_spec *spec, char *buf, size_t n)
{
    size_t ok = 0;
    for (size_t j = 0; j < r->njobs; j++)
        ok += r->train[f * r->njobs + j].status == TT_RUN_OK;
    if (ok == 0)
        snprintf(buf, n, "every train run failed");
    else if (r->folds[f].qualified == 0)
        snprintf(buf, n, "no train run with %llu trades or more",
                 (unsigned long long)spec->min_trades);
    else
        snprintf(buf, n, "%s is n/a for every run that qualified%s",
                 tt_wf_objective_name(spec->objective),
                 spec->objective == TT_WF_SHARPE ? " (train windows below the minimum-data rule)"
                                                 : "");
}

int tt_wf_view_build(tt_wf_view *v, const tt_wf_result *r, const tt_sweep_plan *plan,
                           const tt_wf_spec *spec, const tt_ml_wf *mw, int64_t mpu)
{
    memset(v, 0, sizeof *v);
    size_t n = r->nfolds ? r->nfolds : 1;
    v->rows = calloc(n, sizeof *v->rows);
    v->chosen = calloc(n, sizeof *v->chosen);
    v->why = calloc(n, sizeof *v->why);
    if (!v->rows || !v->chosen || !v->why) {
        tt_wf_view_free(v);
        return TT_ENOMEM;
    }
    for (size_t f = 0; f < r->nfolds; f++) {
        const tt_wf_fold *fd = &r->folds[f];
        tt_report_fold *d = &v->rows[f];
        d->train_from = fd->w.train_from;
        d->train_to = fd->w.train_to;
        d->test_from = fd->w.test_from;
        d->test_to = fd->w.test_to;
        d->qualified = fd->qualified;
        d->runs = r->njobs;
        d->efficiency = NAN;
        d->objective = NAN;
        if (!fd->has_winner) {
            why_none(r, f, spec, v->why[f], sizeof v->why[f]);
            d->why_none = v->why[f];
            continue;
        }
        chosen(r, f, plan, mw, v->chosen[f], sizeof v->chosen[f]);
        d->chosen = v->chosen[f];
        d->objective = spec->objective == TT_WF_NET_PNL ? fd->objective / (double)mpu
                                                        : fd->objective;
        d->is_net = fd->is.m.net_pnl;
        d->is_trades = fd->is.m.trades;
        if (fd->oos.status != TT_RUN_OK) {
            d->oos_status = tt_run_status_name(fd->oos.status);
            continue;
        }
        d->oos_net = fd->oos.m.net_pnl;
        d->oos_trades = fd->oos.m.trades;
        d->oos_events = fd->oos.events;
        d->oos_return_pct = fd->oos.m.return_pct;
        d->oos_max_dd_pct = fd->oos.m.max_drawdown_pct;
        v->events += fd->oos.events;
        /* as the walk-forward efficiency, over this fold alone */
        double is_rate = (double)d->is_net / ((double)(d->train_to - d->train_from) /
                                              (double)TT_NS_PER_DAY);
        double oos_rate = (double)d->oos_net / ((double)(d->test_to - d->test_from) /
                                                (double)TT_NS_PER_DAY);
        if (is_rate > 0)
            d->efficiency = oos_rate / is_rate;
    }
    return TT_OK;
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
    tt_buf_printf(b, ",\"trades\":%llu,\"events\":%llu,\"fingerprint\":\"%s\"}",
                  (unsigned long long)s->m.trades, (unsigned long long)s->events, hex);
}

/* With an ml: section, fold f's model and its training rows. */
static void json_model(tt_buf *b, const tt_ml_wf *mw, size_t f)
{
    char path[4096];
    tt_ml_fold_info info;
    tt_ml_wf_model_path(mw, f, path, sizeof path);
    tt_buf_printf(b, ",\"model\":");
    tt_buf_json_string(b, path);
    if (!tt_ml_wf_fold_info(mw, f, &info, NULL))
        tt_buf_printf(b, ",\"training\":{\"rows_used\":%lld,\"rows_total\":%lld,\"embargo\":%lld,"
                      "\"labels_to\":\"%s\",\"data_fingerprint\":\"%s\"}",
                      info.rows_used, info.rows_total, info.embargo, info.labels_to,
                      info.data_fingerprint);
}

void tt_wf_json(tt_buf *b, const char *name, const tt_wf_result *r, const tt_sweep_plan *plan,
                const tt_wf_spec *spec, const tt_ml_wf *mw, const tt_wf_view *v, int64_t mpu)
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
                      "\"test_from\":\"%s\",\"test_to\":\"%s\",\"qualified\":%zu,"
                      "\"runs\":%zu,\"efficiency\":",
                      f ? "," : "", f + 1, t[0], t[1], t[2], t[3], fd->qualified, r->njobs);
        tt_buf_json_double(b, v->rows[f].efficiency);
        if (!fd->has_winner) {
            tt_buf_printf(b, ",\"why_none\":");
            tt_buf_json_string(b, v->rows[f].why_none);
        }
        tt_buf_printf(b, ",\"params\":");
        if (fd->has_winner) {
            const tt_param *p = tt_sweep_job_params(plan, fd->winner);
            tt_buf_printf(b, "{");
            for (size_t k = 0; k < plan->nparams; k++) {
                tt_buf_printf(b, "%s", k ? "," : "");
                tt_buf_json_string(b, p[k].key);
                tt_buf_printf(b, ":");
                tt_buf_json_string(b, p[k].value);
            }
            tt_buf_printf(b, "}");
            if (mw)
                json_model(b, mw, f);
            tt_buf_printf(b, ",\"objective\":");
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
    tt_buf_printf(b, ",\"sqn\":");
    tt_buf_json_double(b, r->oos.sqn);
    tt_buf_printf(b, ",\"trades\":%llu,\"events\":%llu},\"wfe\":", (unsigned long long)r->oos.trades,
                  (unsigned long long)v->events);
    tt_buf_json_double(b, r->wfe);
    tt_buf_printf(b, ",\"is_rate_per_day\":");
    tt_buf_json_double(b, r->is_rate / (double)mpu);
    tt_buf_printf(b, ",\"oos_rate_per_day\":");
    tt_buf_json_double(b, r->oos_rate / (double)mpu);
    tt_buf_printf(b, ",\"fingerprint\":\"%s\"}", fp);
}