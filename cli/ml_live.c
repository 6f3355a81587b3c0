/*
 * The feature rows of a paper or live session (live/features_pub.h), from
 * the scenario: the `ml:` section's stream (symbol, timeframe, side,
 * features), published; and the xgb strategy's model, whose signals carry
 * their row (published too when there is no ml: section). The model's
 * stream is found as the strategy finds it (its parameters, else the
 * model's sidecar, else the first symbol and bid), so the rows are the ones
 * its predictions were made from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/bars.h"
#include "live/features_pub.h"
#include "ml/model.h"
#include "sim/ml_scenario.h"
#include "sim/scenario.h"

/* The value of key in a strategy's "key=value ..." text (the runner's syntax). */
static int param_of(const char *params, const char *key, char *buf, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = params ? params : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',' && *p != '\n')
            p++;
        if ((size_t)(p - start) > kl && !memcmp(start, key, kl) && start[kl] == '=') {
            snprintf(buf, cap, "%.*s", (int)(p - start - (ptrdiff_t)kl - 1), start + kl + 1);
            return 1;
        }
    }
    return 0;
}

/* The xgb strategy's stream; *m is the loaded model (the caller frees it). */
static int model_stream(const tt_scenario_run *run, tt_ml_model **m, tt_features_stream *st,
                        tt_err *err)
{
    const tt_backtest_config *cfg = &run->cfg;
    char path[4096], v[64];
    if (!param_of(cfg->params, "model", path, sizeof path))
        return tt_err_set(err, TT_EINVAL, "strategy xgb: parameter model: the model file is "
                          "needed");
    int rc = tt_ml_model_load(m, path, err);
    if (rc)
        return rc;
    const tt_ml_model *x = *m;
    const char *sym = param_of(cfg->params, "symbol", v, sizeof v) ? v
                      : x->symbol[0]                               ? x->symbol
                                                                   : cfg->symbols[0];
    const tt_instrument *in = tt_instruments_find(run->instruments, sym);
    st->symbol = in ? in->id : 0;
    st->tf = param_of(cfg->params, "tf", v, sizeof v) ? tt_timeframe_parse(v) : x->tf;
    st->side = param_of(cfg->params, "side", v, sizeof v) ? tt_price_side_parse(v)
               : x->has_meta                              ? x->side
                                                          : TT_SIDE_BID;
    st->cols = x->cols;
    st->ncols = x->ncols;
    st->model_id = strtoull(x->id, NULL, 16);
    return TT_OK; /* a bad symbol, tf or side: the strategy itself says so first */
}

int tt_live_features(const tt_scenario *s, const tt_scenario_run *run, int json,
                     tt_features_pub **out, tt_err *err)
{
    *out = NULL;
    tt_features_stream st[2];
    memset(st, 0, sizeof st);
    int n = 0, rc;
    tt_ml_spec spec;
    int idx[TT_ML_MAX_FEATURES];
    rc = tt_ml_scenario_spec(s, &spec, err);
    if (rc == TT_OK) {
        const char *sym = spec.symbol[0] ? spec.symbol : run->cfg.symbols[0];
        const tt_instrument *in = tt_instruments_find(run->instruments, sym);
        st[0].symbol = in ? in->id : 0;
        if (!in)
            return tt_err_set(err, TT_EINVAL, "ml.symbol: '%s' is not a symbol of the run", sym);
        st[0].tf = spec.tf;
        st[0].side = spec.side;
        st[0].ncols = tt_ml_spec_feature_list(&spec, idx);
        st[0].cols = idx;
        st[0].publish = 1;
        n = 1;
    } else if (rc != TT_ENOTFOUND) {
        return rc;
    }
    rc = TT_OK; /* no ml: section: the model's rows alone, if any */
    tt_ml_model *m = NULL;
    const char *strategy = run->cfg.strategy ? run->cfg.strategy : "";
    if (!strcmp(strategy, "xgb")) {
        if ((rc = model_stream(run, &m, &st[n], err)))
            return rc;
        const tt_features_stream *a = &st[0], *b = &st[n];
        if (n && a->symbol == b->symbol && a->tf == b->tf && a->side == b->side &&
            a->ncols == b->ncols && !memcmp(a->cols, b->cols, (size_t)a->ncols * sizeof *a->cols))
            st[0].model_id = b->model_id; /* one stream serves both */
        else if (b->symbol && b->tf > TT_TF_NONE && b->side >= 0) {
            st[n].publish = n == 0; /* published when there is no ml: section */
            n++;
        }
    }
    if (n) {
        tt_features_pub_opts po = {.ins = run->instruments, .streams = st, .nstreams = n,
                                   .tape_dir = run->cfg.tape_dir,
                                   .external = run->cfg.external, .json = json};
        rc = tt_features_pub_new(out, &po, err);
    }
    tt_ml_model_free(m);
    return rc;
}
