/*
 * The runner behind an ml: walk-forward (ml_walkforward.h). It runs in the
 * pool's child processes: a train window's run trains and writes its fold's
 * model before trading the window, and round two (the test windows) starts
 * only after round one, so every test run finds its model on disk. Which
 * round a call belongs to is told by `series` (asked for test runs only),
 * which window by its bounds.
 */
#include "ml_walkforward.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../data/json.h"
#include "../ml/model.h"
#include "../ml/train.h"
#include "ml_scenario.h"
#include "scenario.h"

static int mkdirs(const char *dir, tt_err *err)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *c = p + 1;; c++) {
        if (*c == '/' || !*c) {
            char keep = *c;
            *c = '\0';
            if (mkdir(p, 0777) && errno != EEXIST)
                return tt_err_set(err, TT_EIO, "%s: cannot create: %s", p, strerror(errno));
            if (!keep)
                break;
            *c = keep;
        }
    }
    return TT_OK;
}

int tt_ml_wf_init(tt_ml_wf *m, tt_scenario *s, const tt_wf_spec *spec, tt_ts from, tt_ts to,
                  const char *dir, tt_err *err)
{
    memset(m, 0, sizeof *m);
    m->s = s;
    int rc = tt_ml_scenario_spec(s, &m->spec, err);
    if (!rc)
        rc = tt_wf_windows(spec, spec->from ? spec->from : from, spec->to ? spec->to : to, &m->w,
                           &m->nfolds, err);
    if (!rc && snprintf(m->dir, sizeof m->dir, "%s", dir) >= (int)sizeof m->dir)
        rc = tt_err_set(err, TT_EINVAL, "%s: path too long", dir);
    if (!rc)
        rc = mkdirs(m->dir, err);
    const char *name = tt_scenario_get(s, "strategy.name", NULL);
    if (!rc && name && strcmp(name, "xgb"))
        rc = tt_err_set(err, TT_EINVAL,
                        "%s: strategy.name is %s: a walk-forward with an ml: section trades its "
                        "models with the xgb strategy",
                        tt_scenario_file(s), name);
    if (rc)
        tt_ml_wf_free(m);
    return rc;
}

void tt_ml_wf_free(tt_ml_wf *m)
{
    free(m->w);
    m->w = NULL;
    m->nfolds = 0;
}

void tt_ml_wf_model_path(const tt_ml_wf *m, size_t f, char *buf, size_t n)
{
    snprintf(buf, n, "%s/fold-%02zu.json", m->dir, f + 1);
}

int tt_ml_wf_plan(tt_sweep_plan *plan, tt_err *err)
{
    memset(plan, 0, sizeof *plan);
    plan->njobs = 1;
    plan->params = calloc(1, sizeof *plan->params);
    snprintf(plan->id_prefix, sizeof plan->id_prefix, "ml");
    return plan->params ? TT_OK : tt_err_set(err, TT_ENOMEM, "out of memory");
}

/* Train fold f's model on [from, to): purged by the labels, embargoed. */
static int train_fold(const tt_ml_wf *m, size_t f, tt_ts from, tt_ts to, const char *path,
                      tt_err *err)
{
    tt_ml_dataset d;
    char symbol[64];
    int rc = tt_ml_scenario_dataset(m->s, &m->spec, from, to, &d, symbol, sizeof symbol, err);
    tt_ml_train_info info;
    tt_ml_train_opts o = {tt_scenario_seed(m->s), tt_ml_spec_embargo(&m->spec), symbol,
                          tt_scenario_file(m->s), NULL, NULL};
    if (!rc)
        rc = tt_ml_train(&d, &m->spec, &o, path, &info, err);
    tt_ml_dataset_free(&d);
    if (rc) {
        tt_err_prefix(err, "fold %zu: ", f + 1);
        return rc;
    }
    if (info.labels_to > to || info.to > to)
        return tt_err_set(err, TT_EORDER,
                          "fold %zu: a training label reaches past the train window "
                          "(look-ahead into the test window)",
                          f + 1);
    return TT_OK;
}

static int ml_run(void *self, const tt_param *params, size_t nparams, tt_ts from, tt_ts to,
                  tt_run_summary *out, tt_run_series *series, tt_err *err)
{
    (void)params;
    (void)nparams;
    const tt_ml_wf *m = self;
    size_t f = 0;
    while (f < m->nfolds && !(series ? m->w[f].test_from == from && m->w[f].test_to == to
                                     : m->w[f].train_from == from && m->w[f].train_to == to))
        f++;
    if (f == m->nfolds)
        return tt_err_set(err, TT_EINVAL, "ml walk-forward: a run outside the folds");
    char path[4096], a[4200];
    tt_ml_wf_model_path(m, f, path, sizeof path);
    int rc = series ? TT_OK : train_fold(m, f, from, to, path, err);
    if (rc)
        return rc;
    tt_scenario *c = tt_scenario_clone(m->s);
    if (!c)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    snprintf(a, sizeof a, "strategy.params.model=%s", path);
    rc = tt_scenario_set(c, "strategy.name=xgb", err);
    if (!rc)
        rc = tt_scenario_set(c, a, err);
    if (!rc) {
        tt_research_runner r = tt_scenario_runner(c);
        rc = r.run(r.self, NULL, 0, from, to, out, series, err);
    }
    tt_scenario_free(c);
    return rc;
}

tt_research_runner tt_ml_wf_runner(tt_ml_wf *m) { return (tt_research_runner){m, ml_run}; }

int tt_ml_wf_fold_info(const tt_ml_wf *m, size_t f, tt_ml_fold_info *out, tt_err *err)
{
    memset(out, 0, sizeof *out);
    char path[4096], meta[4200];
    tt_ml_wf_model_path(m, f, path, sizeof path);
    tt_ml_meta_path(path, meta, sizeof meta);
    char *text;
    size_t len;
    int rc = tt_ml_read_file(meta, &text, &len, err);
    if (rc)
        return rc;
    tt_json doc;
    if ((rc = tt_json_parse(&doc, text, len, err))) {
        free(text);
        return rc;
    }
    const tt_json_node *root = tt_json_root(&doc), *rows = tt_json_get(&doc, root, "rows");
    const tt_json_node *win = tt_json_get(&doc, root, "window");
    int64_t used = 0, total = 0, emb = 0;
    if (tt_json_int64(&doc, tt_json_get(&doc, rows, "used"), &used, NULL) ||
        tt_json_int64(&doc, tt_json_get(&doc, rows, "total"), &total, NULL) ||
        tt_json_int64(&doc, tt_json_get(&doc, rows, "embargo"), &emb, NULL) ||
        tt_json_string(&doc, tt_json_get(&doc, win, "labels_to"), out->labels_to,
                       sizeof out->labels_to, NULL) ||
        tt_json_string(&doc, tt_json_get(&doc, root, "data_fingerprint"), out->data_fingerprint,
                       sizeof out->data_fingerprint, NULL))
        rc = tt_err_set(err, TT_EFORMAT, "%s: not a ticktape model sidecar", meta);
    out->rows_used = used;
    out->rows_total = total;
    out->embargo = emb;
    tt_json_free(&doc);
    free(text);
    return rc;
}
