/*
 * The `ml:` section, one entry at a time (see spec.h). Values are checked as
 * they arrive so that the caller can put the file and line on the error; the
 * rules between keys (a timeframe and a label are needed) are checked by
 * tt_ml_spec_check once the section is complete.
 */
#include "spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/bars.h"

const char *const tt_ml_xgb_keys[] = {
    "objective", "max_depth", "eta", "learning_rate", "subsample", "colsample_bytree",
    "colsample_bylevel", "colsample_bynode", "min_child_weight", "lambda", "reg_lambda",
    "alpha", "reg_alpha", "gamma", "min_split_loss", "seed", "tree_method", "max_bin",
    "base_score", "scale_pos_weight", "max_delta_step", "grow_policy", "max_leaves",
    "eval_metric", NULL,
};

/* Objectives whose single output the built-in predictor reproduces bit for bit
 * (ml/forest.h); multi-class and ranking objectives are refused. */
static const char *const OBJECTIVES[] = {
    "reg:squarederror", "reg:pseudohubererror", "reg:absoluteerror", "reg:logistic",
    "binary:logistic", "binary:logitraw", NULL,
};

void tt_ml_spec_init(tt_ml_spec *s)
{
    memset(s, 0, sizeof *s);
    s->tf = TT_TF_NONE;
    s->side = TT_SIDE_BID;
    s->embargo = -1;
    s->rounds = 100;
}

static int parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x))
        return -1;
    *out = x;
    return 0;
}

/* Add catalog feature k to the list. */
static int add_feature(tt_ml_spec *s, int k, tt_err *err)
{
    for (int i = 0; i < s->nfeatures; i++)
        if (s->features[i] == k)
            return tt_err_set(err, TT_EINVAL, "'%s' listed twice", tt_feature_name(k));
    if (s->nfeatures == TT_ML_MAX_FEATURES)
        return tt_err_set(err, TT_EINVAL, "more than %d features", TT_ML_MAX_FEATURES);
    s->features[s->nfeatures++] = k;
    return TT_OK;
}

/* "default", or a ','-separated list of catalog names and group names
 * (default, news: every feature of the group, in catalog order). */
static int set_features(tt_ml_spec *s, const char *v, tt_err *err)
{
    if (!strcmp(v, "default")) {
        s->nfeatures = 0;
        return TT_OK;
    }
    s->nfeatures = 0;
    const char *p = v;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char name[64];
        if (n == 0 || n >= sizeof name)
            return tt_err_set(err, TT_EINVAL, "an empty or too long name in '%s'", v);
        memcpy(name, p, n);
        name[n] = '\0';
        int k = tt_feature_find(name), rc = TT_OK, group = 0;
        for (int i = 0; i < tt_feature_count() && !rc; i++)
            if (!strcmp(tt_feature_group(i), name)) {
                group = 1;
                rc = add_feature(s, i, err);
            }
        if (rc)
            return rc;
        if (!group && k < 0)
            return tt_err_set(err, TT_EINVAL,
                              "unknown feature '%s' (ticktape features --list names "
                              "all %d, and the groups default and news)",
                              name, tt_feature_count());
        if (!group && (rc = add_feature(s, k, err)))
            return rc;
        p = e ? e + 1 : p + n;
    }
    if (!s->nfeatures)
        return tt_err_set(err, TT_EINVAL, "'default' or a list of feature names");
    return TT_OK;
}

static int set_label(tt_ml_spec *s, const char *k, const char *v, tt_err *err)
{
    long n;
    double d;
    if (!strcmp(k, "kind")) {
        if (!(s->label.kind = tt_label_kind_parse(v)))
            return tt_err_set(err, TT_EINVAL,
                              "expected forward_return, sign or triple_barrier, got '%s'", v);
    } else if (!strcmp(k, "horizon")) {
        if (parse_int(v, 1, 1000000, &n))
            return tt_err_set(err, TT_EINVAL, "expected a number of bars 1 .. 1000000, got '%s'",
                              v);
        s->label.horizon = (int)n;
    } else if (!strcmp(k, "dead_zone") || !strcmp(k, "tp") || !strcmp(k, "sl")) {
        if (parse_double(v, &d) || d < 0 || (k[0] != 'd' && d == 0))
            return tt_err_set(err, TT_EINVAL, "expected a return (%s), got '%s'",
                              k[0] == 'd' ? ">= 0, e.g. 0.0002" : "> 0, e.g. 0.002", v);
        *(k[0] == 'd' ? &s->label.dead_zone : k[0] == 't' ? &s->label.tp : &s->label.sl) = d;
    } else {
        return tt_err_set(err, TT_EINVAL, "unknown key (label: kind, horizon, dead_zone, tp, sl)");
    }
    return TT_OK;
}

static int set_xgb(tt_ml_spec *s, const char *k, const char *v, tt_err *err)
{
    long n;
    if (!strcmp(k, "rounds")) {
        if (parse_int(v, 1, 100000, &n))
            return tt_err_set(err, TT_EINVAL, "expected boosting rounds 1 .. 100000, got '%s'", v);
        s->rounds = (int)n;
        return TT_OK;
    }
    int known = 0;
    for (int i = 0; tt_ml_xgb_keys[i] && !known; i++)
        known = !strcmp(tt_ml_xgb_keys[i], k);
    if (!known) {
        if (!strcmp(k, "nthread"))
            return tt_err_set(err, TT_EINVAL,
                              "training always uses one thread (deterministic models)");
        char list[512] = "rounds";
        for (int i = 0; tt_ml_xgb_keys[i]; i++) {
            strncat(list, ", ", sizeof list - strlen(list) - 1);
            strncat(list, tt_ml_xgb_keys[i], sizeof list - strlen(list) - 1);
        }
        return tt_err_set(err, TT_EINVAL, "unknown XGBoost key (known: %s)", list);
    }
    if (!strcmp(k, "objective")) {
        int ok = 0;
        for (int i = 0; OBJECTIVES[i] && !ok; i++)
            ok = !strcmp(OBJECTIVES[i], v);
        if (!ok)
            return tt_err_set(err, TT_EINVAL,
                              "objective '%s' is not supported (one output per row: "
                              "reg:squarederror, reg:pseudohubererror, reg:absoluteerror, "
                              "reg:logistic, binary:logistic, binary:logitraw)",
                              v);
    }
    if (!strcmp(k, "seed")) {
        if (parse_int(v, 0, 2147483647L, &n))
            return tt_err_set(err, TT_EINVAL, "expected a seed 0 .. 2147483647, got '%s'", v);
        s->has_seed = 1;
    }
    if (strlen(v) >= sizeof s->xgb[0].value || strlen(k) >= sizeof s->xgb[0].key)
        return tt_err_set(err, TT_EINVAL, "value too long");
    for (int i = 0; i < s->nxgb; i++)
        if (!strcmp(s->xgb[i].key, k)) {
            snprintf(s->xgb[i].value, sizeof s->xgb[i].value, "%s", v);
            return TT_OK;
        }
    if (s->nxgb == TT_ML_MAX_XGB)
        return tt_err_set(err, TT_EINVAL, "more than %d XGBoost parameters", TT_ML_MAX_XGB);
    snprintf(s->xgb[s->nxgb].key, sizeof s->xgb[0].key, "%s", k);
    snprintf(s->xgb[s->nxgb].value, sizeof s->xgb[0].value, "%s", v);
    s->nxgb++;
    return TT_OK;
}

int tt_ml_spec_set(tt_ml_spec *s, const char *key, const char *value, tt_err *err)
{
    const char *v = value ? value : "";
    long n;
    if (!strcmp(key, "timeframe")) {
        int tf = tt_timeframe_parse(v);
        if (tf == TT_TF_NONE || tt_timeframe_ns(tf) <= 0)
            return tt_err_set(err, TT_EINVAL, "expected a fixed-length timeframe (S1 .. W1), "
                                              "got '%s'", v);
        s->tf = tf;
    } else if (!strcmp(key, "side")) {
        if ((s->side = tt_price_side_parse(v)) < 0)
            return tt_err_set(err, TT_EINVAL, "expected bid, ask or mid, got '%s'", v);
    } else if (!strcmp(key, "symbol")) {
        if (!*v || strlen(v) >= sizeof s->symbol)
            return tt_err_set(err, TT_EINVAL, "expected a symbol, got '%s'", v);
        snprintf(s->symbol, sizeof s->symbol, "%s", v);
    } else if (!strcmp(key, "features")) {
        return set_features(s, v, err);
    } else if (!strncmp(key, "label.", 6)) {
        return set_label(s, key + 6, v, err);
    } else if (!strcmp(key, "embargo")) {
        if (parse_int(v, 0, 1000000, &n))
            return tt_err_set(err, TT_EINVAL, "expected a number of bars >= 0, got '%s'", v);
        s->embargo = (int)n;
    } else if (!strncmp(key, "xgboost.", 8)) {
        return set_xgb(s, key + 8, v, err);
    } else {
        return tt_err_set(err, TT_EINVAL,
                          "unknown key (ml: timeframe, symbol, side, features, label.*, embargo, "
                          "xgboost.*)");
    }
    return TT_OK;
}

int tt_ml_spec_check(const tt_ml_spec *s, tt_err *err)
{
    if (s->tf == TT_TF_NONE)
        return tt_err_set(err, TT_EINVAL, "ml.timeframe: required (the bars rows are built on)");
    if (!s->label.kind)
        return tt_err_set(err, TT_EINVAL,
                          "ml.label.kind: required (forward_return, sign or triple_barrier)");
    if (!s->label.horizon)
        return tt_err_set(err, TT_EINVAL, "ml.label.horizon: required (bars)");
    int rc = tt_label_check(&s->label, err);
    if (rc)
        tt_err_prefix(err, "ml.");
    return rc;
}

int tt_ml_spec_feature_list(const tt_ml_spec *s, int *idx)
{
    if (s->nfeatures) {
        memcpy(idx, s->features, (size_t)s->nfeatures * sizeof *idx);
        return s->nfeatures;
    }
    int n = tt_feature_default_count();
    for (int i = 0; i < n; i++)
        idx[i] = i;
    return n;
}

int tt_ml_spec_embargo(const tt_ml_spec *s)
{
    return s->embargo >= 0 ? s->embargo : s->label.horizon;
}

void tt_ml_label_text(const tt_label_spec *l, char *buf, size_t n)
{
    switch (l->kind) {
    case TT_LABEL_SIGN:
        snprintf(buf, n, "sign(horizon=%d, dead_zone=%.15g)", l->horizon, l->dead_zone);
        break;
    case TT_LABEL_TRIPLE_BARRIER:
        snprintf(buf, n, "triple_barrier(horizon=%d, tp=%.15g, sl=%.15g)", l->horizon, l->tp,
                 l->sl);
        break;
    default:
        snprintf(buf, n, "%s(horizon=%d)", tt_label_kind_name(l->kind), l->horizon);
        break;
    }
}
