/*
 * Loading a model: the file, its sidecar, the flat predictor, and the guard
 * that compares the predictor with XGBoost's own on probe rows (model.h).
 *
 * Probe rows: for each feature the split values the trees use on it are
 * collected; row r takes, per feature, one of them (chosen by a splitmix64
 * stream seeded by r), nudged one float step down, kept, or nudged up, or
 * NaN one time in eight. So every probe lands on both sides of real splits,
 * including exactly on them, and through default (missing) branches.
 */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xgboost/c_api.h>
#include <xxhash.h>

#include "../core/bars.h"
#include "../core/io.h"
#include "../data/json.h"

#define PROBES 96

void tt_ml_meta_path(const char *model, char *buf, size_t n) { snprintf(buf, n, "%s.meta", model); }

int tt_ml_read_file(const char *path, char **data, size_t *len, tt_err *err)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return tt_err_set(err, errno == ENOENT ? TT_ENOTFOUND : TT_EIO, "%s: cannot open: %s",
                          path, strerror(errno));
    struct stat st;
    char *buf = NULL;
    int rc = fstat(fd, &st) ? tt_err_set(err, TT_EIO, "%s: %s", path, strerror(errno)) : TT_OK;
    if (!rc && !(buf = malloc((size_t)st.st_size + 1)))
        rc = tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    if (!rc && tt_read_all(fd, buf, (size_t)st.st_size))
        rc = tt_err_set(err, TT_EIO, "%s: read error", path);
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[st.st_size] = '\0';
    *data = buf;
    *len = (size_t)st.st_size;
    return TT_OK;
}

/* ---- the sidecar ---- */

static int meta_str(const tt_json *doc, const tt_json_node *obj, const char *key, char *buf,
                    size_t n)
{
    const tt_json_node *v = tt_json_get(doc, obj, key);
    return v ? tt_json_string(doc, v, buf, n, NULL) : -1;
}

static int meta_read(tt_ml_model *m, const char *text, size_t len, const char *path, tt_err *err)
{
    tt_json doc;
    int rc = tt_json_parse(&doc, text, len, err);
    if (rc) {
        tt_err_prefix(err, "%s: ", path);
        return rc;
    }
    const tt_json_node *root = tt_json_root(&doc);
    char buf[128], fmt[64] = "";
    meta_str(&doc, root, "format", fmt, sizeof fmt);
    const tt_json_node *feats = tt_json_get(&doc, root, "features");
    if (strcmp(fmt, "ticktape-model-meta") || !feats || feats->type != TT_JSON_ARRAY) {
        rc = tt_err_set(err, TT_EFORMAT, "%s: not a ticktape model sidecar", path);
        goto done;
    }
    if (!meta_str(&doc, root, "model_xxh3", buf, sizeof buf) && strcmp(buf, m->id)) {
        rc = tt_err_set(err, TT_EFORMAT,
                        "%s: belongs to another model file (model_xxh3 %s, %s has %s)", path, buf,
                        m->path, m->id);
        goto done;
    }
    m->ncols = 0;
    for (const tt_json_node *x = tt_json_first(&doc, feats); x && !rc; x = tt_json_next(&doc, x)) {
        if (tt_json_string(&doc, x, buf, sizeof buf, NULL) || m->ncols == TT_ML_MAX_FEATURES) {
            rc = tt_err_set(err, TT_EFORMAT, "%s: features: not a list of names", path);
            break;
        }
        int k = tt_feature_find(buf);
        if (k < 0)
            rc = tt_err_set(err, TT_EINVAL,
                            "%s: feature '%s' is not a feature of this ticktape (%d known, "
                            "`ticktape features --list`)",
                            path, buf, tt_feature_count());
        m->cols[m->ncols++] = k;
    }
    if (!rc && !meta_str(&doc, root, "timeframe", buf, sizeof buf))
        m->tf = tt_timeframe_parse(buf);
    if (!rc && !meta_str(&doc, root, "side", buf, sizeof buf))
        m->side = tt_price_side_parse(buf) < 0 ? TT_SIDE_BID : tt_price_side_parse(buf);
    if (!rc)
        meta_str(&doc, root, "symbol", m->symbol, sizeof m->symbol);
    const tt_json_node *lab = tt_json_get(&doc, root, "label");
    if (!rc && lab) {
        int64_t h = 0;
        double v;
        if (!meta_str(&doc, lab, "kind", buf, sizeof buf))
            m->label.kind = tt_label_kind_parse(buf);
        if (tt_json_get(&doc, lab, "horizon") &&
            !tt_json_int64(&doc, tt_json_get(&doc, lab, "horizon"), &h, NULL))
            m->label.horizon = (int)h;
        if (!tt_json_double(&doc, tt_json_get(&doc, lab, "dead_zone"), &v, NULL))
            m->label.dead_zone = v;
        if (!tt_json_double(&doc, tt_json_get(&doc, lab, "tp"), &v, NULL))
            m->label.tp = v;
        if (!tt_json_double(&doc, tt_json_get(&doc, lab, "sl"), &v, NULL))
            m->label.sl = v;
    }
    m->has_meta = !rc;
done:
    tt_json_free(&doc);
    return rc;
}

/* Feature columns from the model's own feature_names (no sidecar), or a check
 * that the sidecar's agree with them. */
static int names_from_model(tt_ml_model *m, tt_err *err)
{
    const tt_forest *f = &m->forest;
    if (!m->has_meta) {
        if (!f->names)
            return tt_err_set(err, TT_EINVAL,
                              "%s: no sidecar (%s.meta) and no feature names in the model: "
                              "train it with feature names (Python: DMatrix(..., "
                              "feature_names=[...]) or a pandas DataFrame)",
                              m->path, m->path);
        if (f->nnames > TT_ML_MAX_FEATURES)
            return tt_err_set(err, TT_EINVAL, "%s: more than %d features", m->path,
                              TT_ML_MAX_FEATURES);
        for (uint32_t i = 0; i < f->nnames; i++) {
            const char *n = tt_forest_name(f, i);
            size_t len = strcspn(n, "\n");
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)len, n);
            if ((m->cols[i] = tt_feature_find(name)) < 0)
                return tt_err_set(err, TT_EINVAL,
                                  "%s: model feature %u '%s' is not a ticktape feature "
                                  "(`ticktape features --list`)",
                                  m->path, i, name);
        }
        m->ncols = (int)f->nnames;
    } else if (f->names) {
        for (uint32_t i = 0; i < f->nnames && (int)i < m->ncols; i++) {
            const char *n = tt_forest_name(f, i);
            size_t len = strcspn(n, "\n");
            const char *want = tt_feature_name(m->cols[i]);
            if (strlen(want) != len || strncmp(want, n, len))
                return tt_err_set(err, TT_EINVAL,
                                  "%s: the model's feature %u is '%.*s' but its sidecar says '%s'",
                                  m->path, i, (int)len, n, want);
        }
    }
    if ((uint32_t)m->ncols != f->nfeatures)
        return tt_err_set(err, TT_EINVAL, "%s: the model has %u features, its names list %d",
                          m->path, f->nfeatures, m->ncols);
    return TT_OK;
}

/* ---- the guard: ticktape's predictor against XGBoost's C API ---- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Probe rows into rows (PROBES x nfeatures). TT_ENOMEM when the split lists
 * cannot be allocated. */
static int probe_rows(const tt_forest *f, float *rows)
{
    uint32_t nf = f->nfeatures;
    size_t *first = calloc((size_t)nf + 1, sizeof *first);
    float *vals = malloc((f->nnodes ? f->nnodes : 1) * sizeof *vals);
    if (!first || !vals) {
        free(first);
        free(vals);
        return TT_ENOMEM;
    }
    /* the split values of each feature, grouped (a counting sort) */
    for (size_t i = 0; i < f->nnodes; i++)
        if (f->nodes[i].meta >> 10)
            first[(f->nodes[i].meta & (TT_FOREST_MAX_FEATURES - 1)) + 1]++;
    for (uint32_t j = 0; j < nf; j++)
        first[j + 1] += first[j];
    size_t *fill = calloc((size_t)nf, sizeof *fill);
    if (!fill) {
        free(first);
        free(vals);
        return TT_ENOMEM;
    }
    for (size_t i = 0; i < f->nnodes; i++)
        if (f->nodes[i].meta >> 10) {
            uint32_t j = f->nodes[i].meta & (TT_FOREST_MAX_FEATURES - 1);
            vals[first[j] + fill[j]++] = f->nodes[i].value;
        }
    for (uint32_t r = 0; r < PROBES; r++) {
        uint64_t s = r * 0x5851f42d4c957f2dULL + 1;
        for (uint32_t j = 0; j < nf; j++) {
            uint64_t z = splitmix(&s);
            float v = (float)((double)(z >> 11) / 9007199254740992.0 * 2.0 - 1.0);
            size_t n = first[j + 1] - first[j];
            if ((z & 7) == 0) {
                v = NAN;
            } else if (n) {
                float sv = vals[first[j] + splitmix(&s) % n];
                int how = (int)((z >> 3) % 3);
                v = how == 0 ? nextafterf(sv, -INFINITY) : how == 1 ? sv : nextafterf(sv, INFINITY);
            }
            rows[(size_t)r * nf + j] = v;
        }
    }
    free(first);
    free(vals);
    free(fill);
    return TT_OK;
}

static int guard(const tt_ml_model *m, const char *bytes, size_t len, tt_err *err)
{
    const tt_forest *f = &m->forest;
    BoosterHandle b = NULL;
    DMatrixHandle proxy = NULL;
    float *rows = malloc((size_t)PROBES * f->nfeatures * sizeof *rows);
    int rc = TT_OK;
    bst_ulong nf = 0;
    if (!rows)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    if (XGBoosterCreate(NULL, 0, &b) || XGBoosterLoadModelFromBuffer(b, bytes, len) ||
        XGBoosterSetParam(b, "nthread", "1") || XGBoosterGetNumFeature(b, &nf) ||
        XGProxyDMatrixCreate(&proxy)) {
        rc = tt_err_set(err, TT_EFORMAT, "%s: XGBoost cannot load it: %s", m->path,
                        XGBGetLastError());
        goto done;
    }
    if (nf != f->nfeatures) {
        rc = tt_err_set(err, TT_EFORMAT, "%s: XGBoost reads %llu features, ticktape %u", m->path,
                        (unsigned long long)nf, f->nfeatures);
        goto done;
    }
    if (probe_rows(f, rows)) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
        goto done;
    }
    char arr[160];
    snprintf(arr, sizeof arr,
             "{\"data\":[%llu,true],\"shape\":[%d,%u],\"typestr\":\"<f4\",\"version\":3}",
             (unsigned long long)(uintptr_t)rows, PROBES, f->nfeatures);
    const char *cfg = "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
                      "\"strict_shape\":false,\"missing\":NaN,\"cache_id\":0}";
    const bst_ulong *shape;
    bst_ulong dim;
    const float *res;
    if (XGBoosterPredictFromDense(b, arr, cfg, proxy, &shape, &dim, &res)) {
        rc = tt_err_set(err, TT_EFORMAT, "%s: XGBoost cannot predict: %s", m->path,
                        XGBGetLastError());
        goto done;
    }
    for (int r = 0; r < PROBES; r++) {
        float mine = tt_forest_predict(f, rows + (size_t)r * f->nfeatures);
        if (memcmp(&mine, &res[r], sizeof mine)) {
            rc = tt_err_set(err, TT_EFORMAT,
                            "%s: ticktape's predictor gives %.9g, XGBoost %.9g on probe row %d: "
                            "a model feature ticktape does not reproduce (objective %s)",
                            m->path, (double)mine, (double)res[r], r, f->objective);
            break;
        }
    }
done:
    if (proxy)
        XGDMatrixFree(proxy);
    if (b)
        XGBoosterFree(b);
    free(rows);
    return rc;
}

int tt_ml_model_load(tt_ml_model **out, const char *path, tt_err *err)
{
    *out = NULL;
    tt_ml_model *m = calloc(1, sizeof *m);
    if (!m)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    m->tf = TT_TF_NONE;
    snprintf(m->path, sizeof m->path, "%s", path);
    char *bytes = NULL, *meta = NULL;
    size_t len = 0, mlen = 0;
    int rc = tt_ml_read_file(path, &bytes, &len, err);
    if (!rc) {
        snprintf(m->id, sizeof m->id, "%016llx", (unsigned long long)XXH3_64bits(bytes, len));
        rc = tt_forest_parse(&m->forest, bytes, len, path, err);
    }
    char mpath[1100];
    tt_ml_meta_path(path, mpath, sizeof mpath);
    if (!rc) {
        int mr = tt_ml_read_file(mpath, &meta, &mlen, err);
        if (mr == TT_OK)
            rc = meta_read(m, meta, mlen, mpath, err);
        else if (mr != TT_ENOTFOUND)
            rc = mr;
    }
    if (!rc)
        rc = names_from_model(m, err);
    if (!rc)
        rc = guard(m, bytes, len, err);
    free(bytes);
    free(meta);
    if (rc) {
        tt_ml_model_free(m);
        return rc;
    }
    *out = m;
    return TT_OK;
}

void tt_ml_model_free(tt_ml_model *m)
{
    if (!m)
        return;
    tt_forest_free(&m->forest);
    free(m);
}

int tt_ml_model_check_columns(const tt_ml_model *m, const int *cols, int n, int tf, tt_err *err)
{
    for (int i = 0; i < n || i < m->ncols; i++) {
        const char *want = i < m->ncols ? tt_feature_name(m->cols[i]) : "(nothing)";
        const char *have = i < n ? tt_feature_name(cols[i]) : "(nothing)";
        if (i >= n || i >= m->ncols || cols[i] != m->cols[i])
            return tt_err_set(err, TT_EINVAL,
                              "%s: features do not match: the model's column %d is '%s', here it "
                              "is '%s' (the model has %d features, here %d; train it again on "
                              "these features, or set ml.features to the model's list)",
                              m->path, i, want, have, m->ncols, n);
    }
    if (m->tf != TT_TF_NONE && tf != TT_TF_NONE && m->tf != tf)
        return tt_err_set(err, TT_EINVAL,
                          "%s: the model was trained on %s bars, here the bars are %s", m->path,
                          tt_timeframe_name(m->tf), tt_timeframe_name(tf));
    return TT_OK;
}

float tt_ml_model_predict(const tt_ml_model *m, const double *row)
{
    float x[TT_ML_MAX_FEATURES];
    for (int i = 0; i < m->ncols; i++)
        x[i] = (float)row[i];
    return tt_forest_predict(&m->forest, x);
}
