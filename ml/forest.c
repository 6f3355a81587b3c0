/*
 * XGBoost JSON model -> flat node arrays, and the tree walk (forest.h).
 *
 * The JSON schema is XGBoost's own (doc/model.schema in its sources):
 * learner.learner_model_param.{base_score, num_feature, num_class},
 * learner.objective.name, learner.gradient_booster.{name, model.trees[]},
 * each tree with left_children, right_children, split_indices,
 * split_conditions (the leaf value for leaves), default_left, split_type.
 * Nodes of all trees go into one array (tree k's nodes offset by the nodes
 * before it), so the walk is one loop over an array of 16-byte nodes.
 */
#include "forest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../data/json.h"

#define FEATURE_MASK 0x1ffu
#define DEFAULT_LEFT 0x200u
#define OFFSET_SHIFT 10
#define MAX_OFFSET ((1u << 22) - 1)

static const tt_json_node *path_get(const tt_json *doc, const tt_json_node *n, const char *a,
                                    const char *b, const char *c)
{
    const char *keys[3] = {a, b, c};
    for (int i = 0; i < 3 && keys[i] && n; i++)
        n = tt_json_get(doc, n, keys[i]);
    return n;
}

static int fmt_err(tt_err *err, const char *what, const char *msg)
{
    return tt_err_set(err, TT_EFORMAT, "%s: %s", what, msg);
}

/* A JSON number or a string holding one ("5E-1" for base_score). */
static int number_of(const tt_json *doc, const tt_json_node *n, double *out)
{
    char buf[64];
    if (!n)
        return -1;
    if (n->type == TT_JSON_NUMBER)
        return tt_json_number_text(doc, n, buf, sizeof buf, NULL) ? -1 : (*out = strtod(buf, NULL), 0);
    if (n->type == TT_JSON_STRING && !tt_json_string(doc, n, buf, sizeof buf, NULL)) {
        char *end;
        *out = strtod(buf, &end);
        return end == buf || *end ? -1 : 0;
    }
    return -1;
}

/* Float text as XGBoost wrote it (shortest round-trip of a float32). */
static float float_of(const tt_json *doc, const tt_json_node *n)
{
    char buf[64];
    if (n->type != TT_JSON_NUMBER || tt_json_number_text(doc, n, buf, sizeof buf, NULL))
        return NAN;
    return strtof(buf, NULL);
}

static int parse_tree(const tt_json *doc, const tt_json_node *t, tt_forest *f, size_t base,
                      size_t *count, const char *what, tt_err *err)
{
    const tt_json_node *l = tt_json_get(doc, t, "left_children");
    const tt_json_node *r = tt_json_get(doc, t, "right_children");
    const tt_json_node *si = tt_json_get(doc, t, "split_indices");
    const tt_json_node *sc = tt_json_get(doc, t, "split_conditions");
    const tt_json_node *dl = tt_json_get(doc, t, "default_left");
    const tt_json_node *st = tt_json_get(doc, t, "split_type");
    if (!l || !r || !si || !sc || !dl || l->type != TT_JSON_ARRAY)
        return fmt_err(err, what, "a tree without left_children, right_children, "
                                  "split_indices, split_conditions, default_left");
    uint32_t n = l->count;
    if (r->count != n || si->count != n || sc->count != n || dl->count != n ||
        (st && st->count != n) || n == 0)
        return fmt_err(err, what, "a tree whose node arrays differ in length");
    *count = n;
    if (!f->nodes)
        return TT_OK; /* first pass: counting */
    const tt_json_node *a = tt_json_first(doc, l), *b = tt_json_first(doc, r);
    const tt_json_node *c = tt_json_first(doc, si), *d = tt_json_first(doc, sc);
    const tt_json_node *e = tt_json_first(doc, dl), *g = st ? tt_json_first(doc, st) : NULL;
    for (uint32_t i = 0; i < n; i++) {
        int64_t li, ri, fi, ti = 0;
        if (tt_json_int64(doc, a, &li, NULL) || tt_json_int64(doc, b, &ri, NULL) ||
            tt_json_int64(doc, c, &fi, NULL) || (g && tt_json_int64(doc, g, &ti, NULL)))
            return fmt_err(err, what, "a tree node that is not numbers");
        if (ti != 0)
            return fmt_err(err, what, "categorical splits are not supported");
        int64_t dv = 0;
        if (e->type == TT_JSON_TRUE)
            dv = 1;
        else if (e->type != TT_JSON_FALSE && tt_json_int64(doc, e, &dv, NULL))
            return fmt_err(err, what, "default_left is not 0/1");
        tt_forest_node *x = &f->nodes[base + i];
        int leaf = li < 0;
        if (!leaf && (li >= n || ri < 0 || ri >= n || fi < 0 || (uint64_t)fi >= f->nfeatures))
            return fmt_err(err, what, "a tree node pointing outside its tree or its features");
        if (!leaf && (ri != li + 1 || li <= (int64_t)i || (uint64_t)(li - (int64_t)i) > MAX_OFFSET))
            return fmt_err(err, what, "a tree whose children are not allocated as XGBoost does "
                                      "(right = left + 1, after their parent)");
        x->meta = leaf ? 0
                       : (uint32_t)fi | (dv ? DEFAULT_LEFT : 0) |
                             ((uint32_t)(li - (int64_t)i) << OFFSET_SHIFT);
        x->value = float_of(doc, d);
        a = tt_json_next(doc, a), b = tt_json_next(doc, b), c = tt_json_next(doc, c);
        d = tt_json_next(doc, d), e = tt_json_next(doc, e), g = g ? tt_json_next(doc, g) : NULL;
    }
    return TT_OK;
}

static int parse_header(const tt_json *doc, const tt_json_node *learner, tt_forest *f,
                        const char *what, tt_err *err)
{
    const tt_json_node *mp = tt_json_get(doc, learner, "learner_model_param");
    double bs, nf, nc = 0;
    if (number_of(doc, tt_json_get(doc, mp, "base_score"), &bs) ||
        number_of(doc, tt_json_get(doc, mp, "num_feature"), &nf))
        return fmt_err(err, what, "no learner_model_param base_score / num_feature "
                                  "(not an XGBoost JSON model?)");
    number_of(doc, tt_json_get(doc, mp, "num_class"), &nc);
    if (nc > 1)
        return fmt_err(err, what, "multi-class models are not supported (one output per row)");
    if (!(nf >= 1 && nf <= TT_FOREST_MAX_FEATURES))
        return fmt_err(err, what, "num_feature out of range (1 .. 512)");
    f->nfeatures = (uint32_t)nf;
    const tt_json_node *on = path_get(doc, learner, "objective", "name", NULL);
    if (!on || tt_json_string(doc, on, f->objective, sizeof f->objective, NULL))
        return fmt_err(err, what, "no objective name");
    float base = (float)bs;
    if (!strcmp(f->objective, "binary:logistic") || !strcmp(f->objective, "reg:logistic")) {
        f->transform = TT_FOREST_SIGMOID;
        f->base_margin = -logf(1.0f / base - 1.0f);
    } else if (!strcmp(f->objective, "reg:squarederror") ||
               !strcmp(f->objective, "reg:pseudohubererror") ||
               !strcmp(f->objective, "reg:absoluteerror") ||
               !strcmp(f->objective, "binary:logitraw")) {
        f->transform = TT_FOREST_IDENTITY;
        f->base_margin = base;
    } else {
        return tt_err_set(err, TT_EFORMAT, "%s: objective %s is not supported", what,
                          f->objective);
    }
    const tt_json_node *names = tt_json_get(doc, learner, "feature_names");
    if (names && names->type == TT_JSON_ARRAY && names->count == f->nfeatures) {
        f->names = malloc((size_t)names->count * 128 + 1);
        if (!f->names)
            return tt_err_set(err, TT_ENOMEM, "%s: out of memory", what);
        size_t used = 0;
        for (const tt_json_node *x = tt_json_first(doc, names); x; x = tt_json_next(doc, x)) {
            if (tt_json_string(doc, x, f->names + used, 127, NULL))
                return fmt_err(err, what, "a feature name that is not a short string");
            used += strlen(f->names + used);
            f->names[used++] = '\n';
        }
        f->names[used ? used - 1 : 0] = '\0';
        f->nnames = names->count;
    }
    return TT_OK;
}

int tt_forest_parse(tt_forest *f, const char *json, size_t len, const char *what, tt_err *err)
{
    memset(f, 0, sizeof *f);
    tt_json doc;
    int rc = tt_json_parse(&doc, json, len, err);
    if (rc) {
        tt_err_prefix(err, "%s: ", what);
        return rc == TT_ENOMEM ? rc : TT_EFORMAT;
    }
    const tt_json_node *learner = tt_json_get(&doc, tt_json_root(&doc), "learner");
    const tt_json_node *gb = tt_json_get(&doc, learner, "gradient_booster");
    const tt_json_node *gname = tt_json_get(&doc, gb, "name");
    char gbn[32] = "";
    const tt_json_node *trees = path_get(&doc, gb, "model", "trees", NULL);
    if (!learner || !gname || tt_json_string(&doc, gname, gbn, sizeof gbn, NULL) ||
        strcmp(gbn, "gbtree") || !trees || trees->type != TT_JSON_ARRAY) {
        rc = fmt_err(err, what, strcmp(gbn, "dart") ? "not an XGBoost gbtree JSON model"
                                                    : "dart boosters are not supported");
        goto done;
    }
    if ((rc = parse_header(&doc, learner, f, what, err)))
        goto done;
    const tt_json_node *info = path_get(&doc, gb, "model", "tree_info", NULL);
    for (const tt_json_node *x = info ? tt_json_first(&doc, info) : NULL; x;
         x = tt_json_next(&doc, x)) {
        int64_t g;
        if (tt_json_int64(&doc, x, &g, NULL) || g != 0) {
            rc = fmt_err(err, what, "trees of more than one output group");
            goto done;
        }
    }
    /* two passes: count the nodes, then fill them */
    for (int pass = 0; pass < 2 && !rc; pass++) {
        size_t total = 0;
        uint32_t k = 0;
        for (const tt_json_node *t = tt_json_first(&doc, trees); t && !rc;
             t = tt_json_next(&doc, t), k++) {
            size_t n = 0;
            if (pass)
                f->roots[k] = (uint32_t)total;
            rc = parse_tree(&doc, t, f, total, &n, what, err);
            total += n;
        }
        if (!pass && !rc) {
            f->ntrees = k;
            f->nnodes = total;
            f->nodes = malloc((total ? total : 1) * sizeof *f->nodes);
            f->roots = malloc((k ? k : 1) * sizeof *f->roots);
            if (!f->nodes || !f->roots)
                rc = tt_err_set(err, TT_ENOMEM, "%s: out of memory", what);
        }
    }
done:
    tt_json_free(&doc);
    if (rc)
        tt_forest_free(f);
    return rc;
}

void tt_forest_free(tt_forest *f)
{
    free(f->nodes);
    free(f->roots);
    free(f->names);
    memset(f, 0, sizeof *f);
}

const char *tt_forest_name(const tt_forest *f, uint32_t i)
{
    if (!f->names || i >= f->nnames)
        return NULL;
    const char *p = f->names;
    for (uint32_t k = 0; k < i; k++)
        p = strchr(p, '\n') + 1;
    return p;
}

/* Trees walked side by side: LANES independent chains of loads, so the
 * CPU overlaps their latencies, each step branch-free (a leaf has offset 0
 * and stays put). The leaves are then added in tree order, so the float sum
 * is XGBoost's. */
#define LANES 8

float tt_forest_margin(const tt_forest *f, const float *x)
{
    const tt_forest_node *nodes = f->nodes;
    float m = f->base_margin;
    for (uint32_t t0 = 0; t0 < f->ntrees; t0 += LANES) {
        uint32_t k = f->ntrees - t0 < LANES ? f->ntrees - t0 : LANES;
        const tt_forest_node *n[LANES];
        for (uint32_t j = 0; j < k; j++)
            n[j] = &nodes[f->roots[t0 + j]];
        for (uint32_t moving = 1; moving;) {
            moving = 0;
            for (uint32_t j = 0; j < k; j++) {
                uint32_t meta = n[j]->meta, off = meta >> OFFSET_SHIFT;
                float v = x[meta & FEATURE_MASK];
                /* NaN (missing) compares false: right, unless it defaults left */
                uint32_t left = (v < n[j]->value) | ((v != v) & (meta >> 9));
                n[j] += off + ((left ^ 1u) & (off != 0));
                moving |= off;
            }
        }
        for (uint32_t j = 0; j < k; j++)
            m += n[j]->value;
    }
    return m;
}

float tt_forest_predict(const tt_forest *f, const float *x)
{
    float m = tt_forest_margin(f, x);
    if (f->transform != TT_FOREST_SIGMOID)
        return m;
    float z = -m < 88.7f ? -m : 88.7f;
    float denom = expf(z) + 1.0f + 1e-16f;
    return 1.0f / denom;
}
