/*
 * Training through the C API (train.h) and the sidecar writer (model.h).
 *
 * The booster gets nthread=1, verbosity=0, the seed, then the scenario's
 * parameters in file order; an unknown or bad value makes XGBoost fail at the
 * first boosting round, and its message is passed on. Files are written to a
 * temporary name and renamed, model first, sidecar second.
 */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>
#include <xxhash.h>

#include "../core/bars.h"
#include "model.h"

#ifndef TT_VERSION
#define TT_VERSION "unknown"
#endif

void tt_ml_xgboost_version(char *buf, size_t n)
{
    int a = 0, b = 0, c = 0;
    XGBoostVersion(&a, &b, &c);
    snprintf(buf, n, "%d.%d.%d", a, b, c);
}

static const char *objective_of(const tt_ml_spec *s)
{
    for (int i = 0; i < s->nxgb; i++)
        if (!strcmp(s->xgb[i].key, "objective"))
            return s->xgb[i].value;
    return "reg:squarederror"; /* XGBoost's default */
}

static int is_binary(const char *obj)
{
    return !strncmp(obj, "binary:", 7) || !strcmp(obj, "reg:logistic");
}

static int write_file(const char *path, const void *data, size_t len, tt_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    int bad = fwrite(data, 1, len, f) != len;
    if (fclose(f) || bad) {
        remove(tmp);
        return tt_err_set(err, TT_EIO, "%s: write failed", tmp);
    }
    if (rename(tmp, path))
        return tt_err_set(err, TT_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    return TT_OK;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static int write_meta(const char *path, const tt_ml_dataset *d, const tt_ml_spec *spec,
                      const tt_ml_train_opts *o, const tt_ml_train_info *info, uint64_t model_hash,
                      uint64_t seed, tt_err *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    char xv[32], a[40], b[40], c[40], fp[33], lt[160];
    tt_ml_xgboost_version(xv, sizeof xv);
    fprintf(f, "{\n  \"format\": \"ticktape-model-meta\",\n  \"version\": 1,\n"
               "  \"ticktape\": \"%s\",\n  \"xgboost\": \"%s\",\n  \"model_xxh3\": \"%016llx\",\n"
               "  \"symbol\": ",
            TT_VERSION, xv, (unsigned long long)model_hash);
    json_str(f, o->symbol ? o->symbol : "");
    fprintf(f, ",\n  \"timeframe\": \"%s\",\n  \"side\": \"%s\",\n  \"features\": [",
            tt_timeframe_name(d->tf), tt_price_side_name(d->side));
    for (int j = 0; j < d->width; j++)
        fprintf(f, "%s\"%s\"", j ? ", " : "", tt_feature_name(d->cols[j]));
    const tt_label_spec *l = &spec->label;
    tt_ml_label_text(l, lt, sizeof lt);
    fprintf(f, "],\n  \"label\": {\"kind\": \"%s\", \"horizon\": %d, \"dead_zone\": %.17g, "
               "\"tp\": %.17g, \"sl\": %.17g},\n  \"label_text\": ",
            tt_label_kind_name(l->kind), l->horizon, l->dead_zone, l->tp, l->sl);
    json_str(f, lt);
    const char *obj = objective_of(spec);
    fprintf(f, ",\n  \"target\": \"%s\",\n  \"objective\": \"%s\",\n  \"rounds\": %d,\n"
               "  \"seed\": %llu,\n  \"params\": {",
            is_binary(obj) ? "1 when label > 0, 0 when label < 0; rows labelled 0 left out"
                           : "the label",
            obj, spec->rounds, (unsigned long long)seed);
    for (int i = 0; i < spec->nxgb; i++) {
        fprintf(f, "%s\"%s\": ", i ? ", " : "", spec->xgb[i].key);
        json_str(f, spec->xgb[i].value);
    }
    tt_ts_format(info->from, a, sizeof a, 0);
    tt_ts_format(info->to, b, sizeof b, 0);
    tt_ts_format(info->labels_to, c, sizeof c, 0);
    tt_fingerprint_hex(info->data_fp, fp);
    fprintf(f, "},\n  \"rows\": {\"total\": %zu, \"used\": %zu, \"embargo\": %d},\n"
               "  \"window\": {\"from\": \"%s\", \"to\": \"%s\", \"labels_to\": \"%s\"},\n"
               "  \"data_fingerprint\": \"%s\",\n  \"scenario\": ",
            info->rows_total, info->rows_used, o->embargo, a, b, c, fp);
    json_str(f, o->scenario ? o->scenario : "");
    fputs("\n}\n", f);
    if (fclose(f)) {
        free(text);
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    char mpath[4200];
    tt_ml_meta_path(path, mpath, sizeof mpath);
    int rc = write_file(mpath, text, len, err);
    free(text);
    return rc;
}

/* The rows to learn from and their targets. */
static int select_rows(const tt_ml_dataset *d, const tt_ml_spec *spec, int embargo, size_t **rows,
                       size_t *n, tt_err *err)
{
    size_t labelled = 0;
    while (labelled < d->n && !isnan(d->label[labelled]))
        labelled++;
    size_t end = labelled > (size_t)embargo ? labelled - (size_t)embargo : 0;
    *n = 0;
    *rows = malloc((end ? end : 1) * sizeof **rows);
    if (!*rows)
        return tt_err_set(err, TT_ENOMEM, "train: out of memory");
    int binary = is_binary(objective_of(spec));
    size_t k = 0;
    for (size_t i = 0; i < end; i++)
        if (!isnan(d->label[i]) && (!binary || d->label[i] != 0))
            (*rows)[k++] = i;
    *n = k;
    return TT_OK;
}

static int xgb_fail(tt_err *err, const char *what)
{
    return tt_err_set(err, TT_EFORMAT, "train: %s: %s", what, XGBGetLastError());
}

/* Booster over dm with the spec's parameters. */
static int booster_new(BoosterHandle *b, DMatrixHandle dm, const tt_ml_spec *spec, uint64_t seed,
                       tt_err *err)
{
    if (XGBoosterCreate(&dm, 1, b))
        return xgb_fail(err, "booster");
    char sd[32];
    snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
    if (XGBoosterSetParam(*b, "nthread", "1") || XGBoosterSetParam(*b, "verbosity", "0") ||
        XGBoosterSetParam(*b, "seed", sd))
        return xgb_fail(err, "parameters");
    for (int i = 0; i < spec->nxgb; i++)
        if (XGBoosterSetParam(*b, spec->xgb[i].key, spec->xgb[i].value))
            return tt_err_set(err, TT_EINVAL, "train: ml.xgboost.%s=%s: %s", spec->xgb[i].key,
                              spec->xgb[i].value, XGBGetLastError());
    return TT_OK;
}

static int boost(BoosterHandle b, DMatrixHandle dm, const tt_ml_spec *spec,
                 const tt_ml_train_opts *o, tt_ml_train_info *info, tt_err *err)
{
    const char *evname = "train";
    for (int r = 0; r < spec->rounds; r++) {
        if (XGBoosterUpdateOneIter(b, r, dm))
            return tt_err_set(err, TT_EINVAL, "train: round %d: %s", r + 1, XGBGetLastError());
        if (o->on_round || r == spec->rounds - 1) {
            const char *ev = "";
            if (XGBoosterEvalOneIter(b, r, &dm, &evname, 1, &ev))
                return xgb_fail(err, "evaluation");
            snprintf(info->eval, sizeof info->eval, "%s", ev);
            if (o->on_round)
                o->on_round(o->ctx, r + 1, spec->rounds, ev);
        }
    }
    return TT_OK;
}

int tt_ml_train(const tt_ml_dataset *d, const tt_ml_spec *spec, const tt_ml_train_opts *o,
                const char *model_path, tt_ml_train_info *info, tt_err *err)
{
    memset(info, 0, sizeof *info);
    info->positive_share = NAN;
    if (!d->label)
        return tt_err_set(err, TT_EINVAL, "train: the rows have no labels");
    size_t *rows = NULL, n = 0;
    int rc = select_rows(d, spec, o->embargo, &rows, &n, err);
    if (rc)
        return rc;
    info->rows_total = d->n;
    info->rows_used = n;
    float *x = NULL, *y = NULL;
    DMatrixHandle dm = NULL;
    BoosterHandle b = NULL;
    const char **names = NULL;
    if (n < 10) {
        rc = tt_err_set(err, TT_EINVAL,
                        "train: %zu rows to learn from (of %zu): too few (more data, a shorter "
                        "label horizon or a smaller embargo)",
                        n, d->n);
        goto done;
    }
    x = malloc(n * (size_t)d->width * sizeof *x);
    y = malloc(n * sizeof *y);
    names = malloc((size_t)d->width * sizeof *names);
    if (!x || !y || !names) {
        rc = tt_err_set(err, TT_ENOMEM, "train: out of memory for %zu rows", n);
        goto done;
    }
    int binary = is_binary(objective_of(spec));
    size_t pos = 0;
    for (size_t k = 0; k < n; k++) {
        const double *r = tt_ml_dataset_row(d, rows[k]);
        for (int j = 0; j < d->width; j++)
            x[k * (size_t)d->width + (size_t)j] = (float)r[j];
        double l = d->label[rows[k]];
        y[k] = binary ? (l > 0 ? 1.0f : 0.0f) : (float)l;
        pos += binary && l > 0;
    }
    if (binary) {
        info->positive_share = (double)pos / (double)n;
        if (pos == 0 || pos == n) {
            rc = tt_err_set(err, TT_EINVAL, "train: every training row has the same class (%s)",
                            pos ? "label > 0" : "label < 0");
            goto done;
        }
    }
    for (int j = 0; j < d->width; j++)
        names[j] = tt_feature_name(d->cols[j]);
    if (XGDMatrixCreateFromMat(x, n, (bst_ulong)d->width, NAN, &dm) ||
        XGDMatrixSetFloatInfo(dm, "label", y, n) ||
        XGDMatrixSetStrFeatureInfo(dm, "feature_name", names, (bst_ulong)d->width)) {
        rc = xgb_fail(err, "data");
        goto done;
    }
    uint64_t seed = o->seed & 0x7fffffff;
    for (int i = 0; i < spec->nxgb; i++)
        if (!strcmp(spec->xgb[i].key, "seed"))
            seed = strtoull(spec->xgb[i].value, NULL, 10);
    if ((rc = booster_new(&b, dm, spec, seed, err)))
        goto done;
    /* the names go into the model too, as Python's xgboost.train puts them */
    if (XGBoosterSetStrFeatureInfo(b, "feature_name", names, (bst_ulong)d->width)) {
        rc = xgb_fail(err, "feature names");
        goto done;
    }
    if ((rc = boost(b, dm, spec, o, info, err)))
        goto done;
    bst_ulong len;
    const char *buf;
    if (XGBoosterSaveModelToBuffer(b, "{\"format\": \"json\"}", &len, &buf)) {
        rc = xgb_fail(err, "saving");
        goto done;
    }
    size_t last = rows[n - 1];
    info->from = d->open_ts[rows[0]];
    info->to = d->close_ts[last];
    info->labels_to = d->close_ts[last + (size_t)spec->label.horizon];
    info->data_fp = tt_ml_dataset_fingerprint(d, rows, n);
    uint64_t h = XXH3_64bits(buf, len);
    rc = write_file(model_path, buf, len, err);
    if (!rc)
        rc = write_meta(model_path, d, spec, o, info, h, seed, err);
done:
    if (b)
        XGBoosterFree(b);
    if (dm)
        XGDMatrixFree(dm);
    free(x);
    free(y);
    free(names);
    free(rows);
    return rc;
}
