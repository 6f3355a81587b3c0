/*
 * ticktape reports: the walk-forward's JSON object (wf_report.h).
 *
 * How this works: written field by field into a tt_buf, numbers through the
 * shared JSON and money formatters, so the bytes are a pure function of the
 * result (the invariant files compare them).
 */
#include "wf_report.h"

#include <stdio.h>

#include "report.h"

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
                const tt_wf_spec *spec, const tt_ml_wf *mw, int64_t mpu)
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
    tt_buf_printf(b, ",\"trades\":%llu},\"wfe\":", (unsigned long long)r->oos.trades);
    tt_buf_json_double(b, r->wfe);
    tt_buf_printf(b, ",\"is_rate_per_day\":");
    tt_buf_json_double(b, r->is_rate / (double)mpu);
    tt_buf_printf(b, ",\"oos_rate_per_day\":");
    tt_buf_json_double(b, r->oos_rate / (double)mpu);
    tt_buf_printf(b, ",\"fingerprint\":\"%s\"}", fp);
}

