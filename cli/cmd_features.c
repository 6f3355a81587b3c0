/*
 * ticktape features SCENARIO --out FILE.csv|FILE.h5 [--model MODEL] [--set K=V ...]
 * ticktape features --list
 *
 * How this works: the scenario's ml: section (sim/ml_scenario.h) names the bar
 * timeframe, the features and the label; its data: section the quotes. The
 * rows are built by the same feature engine a strategy runs (core/features.h)
 * and written by ml/export.h. With --model, each row also gets the model's
 * prediction from ticktape's own inference (ml/model.h), the number the xgb
 * strategy would act on at that bar.
 *
 * Exit codes: 0 written; 1 failure (scenario, data, model); 2 usage error.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/features.h"
#include "ml/export.h"
#include "ml/model.h"
#include "sim/ml_scenario.h"
#include "sim/scenario.h"

#define MAX_SETS 64

typedef struct features_opts {
    const char *scenario, *out, *model;
    const char *sets[MAX_SETS];
    int nsets, list, quiet;
} features_opts;

#define F(field) offsetof(features_opts, field)

static const tt_opt FEATURES_OPTS[] = {
    {TT_OPT_ARG, .arg = "SCENARIO", .off = F(scenario),
     .help = "the scenario file, with an ml: section (docs/ml.md)"},
    {TT_OPT_STRING, "out", .off = F(out), .arg = "FILE", .flags = TT_OPT_NONEMPTY,
     .help = "where the rows go: .csv, or .h5/.hdf5 (h5py: /time, /features, /label)"},
    {TT_OPT_STRING, "model", .off = F(model), .arg = "MODEL", .flags = TT_OPT_NONEMPTY,
     .help = "add a `prediction` column: the model's output for each row (XGBoost JSON; its "
             "features must be the scenario's)"},
    {TT_OPT_LIST, "set", .off = F(sets), .count_off = F(nsets), .max_count = MAX_SETS,
     .arg = "KEY=VALUE", .flags = TT_OPT_KEYVAL, .help = "override a scenario key"},
    {TT_OPT_FLAG, "list", .off = F(list),
     .help = "print every feature the engine knows, with its definition"},
    {TT_OPT_FLAG, "quiet", .off = F(quiet), .help = "print nothing but errors"},
    {TT_OPT_END},
};

static int run_features(int argc, char **argv);

const tt_cmd tt_command_features = {
    .name = "features",
    .summary = "export the ml: feature rows and labels of a scenario (CSV, HDF5)",
    .run = run_features,
    .opts = FEATURES_OPTS,
    .size = sizeof(features_opts),
    .about = "Write one row per closed bar of the scenario's ml.timeframe: the bar's open\n"
             "time, every feature of ml.features in order, the ml.label (docs/ml.md). The\n"
             "rows come from the feature engine the xgb strategy runs.\n",
    .epilog = "exit codes: 0 written, 1 failed, 2 usage error\n",
};

int tt_ml_cli_scenario(const char *cmd, const char *path, const char *const *sets, int nsets,
                       tt_scenario **out)
{
    tt_err err;
    tt_err_clear(&err);
    if (tt_scenario_load(out, path, &err))
        return tt_report_error(&err);
    for (int i = 0; i < nsets; i++)
        if (tt_scenario_set(*out, sets[i], &err)) {
            tt_scenario_free(*out);
            *out = NULL;
            return tt_usage_error(cmd, "%s", err.msg);
        }
    return TT_EXIT_OK;
}

static void list_features(void)
{
    for (int i = 0; i < tt_feature_count(); i++) { /* the default set, then the groups */
        const char *g = tt_feature_group(i);
        printf("%-24s %s", tt_feature_name(i), tt_feature_help(i));
        printf(strcmp(g, "default") ? " [group %s]\n" : "\n", g);
    }
}


/* The model's prediction for every row (NaN features are missing values, as
 * in XGBoost), after checking that its features are these columns. */
static int predict_rows(const char *path, const tt_ml_dataset *d, const tt_ml_spec *spec,
                        float **out, tt_err *err)
{
    tt_ml_model *m;
    int rc = tt_ml_model_load(&m, path, err);
    if (rc)
        return rc;
    if ((rc = tt_ml_model_check_columns(m, d->cols, d->width, spec->tf, err))) {
        tt_ml_model_free(m);
        return rc;
    }
    float *p = malloc((d->n ? d->n : 1) * sizeof *p);
    if (!p) {
        tt_ml_model_free(m);
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < d->n; i++)
        p[i] = tt_ml_model_predict(m, tt_ml_dataset_row(d, i));
    tt_ml_model_free(m);
    *out = p;
    return TT_OK;
}

static int run_features(int argc, char **argv)
{
    features_opts o;
    memset(&o, 0, sizeof o);
    int prc = tt_opts_parse(&tt_command_features, &o, argc, argv, NULL);
    if (prc != TT_OPTS_RUN)
        return prc;
    if (o.list) {
        list_features();
        return TT_EXIT_OK;
    }
    if (!o.scenario)
        return tt_usage_error("features", "missing the scenario file");
    if (!o.out)
        return tt_usage_error("features", "missing --out FILE.csv|FILE.h5");
    tt_scenario *s;
    if ((prc = tt_ml_cli_scenario("features", o.scenario, o.sets, o.nsets, &s)))
        return prc;
    tt_err err;
    tt_err_clear(&err);
    tt_ml_spec spec;
    tt_ml_dataset d;
    memset(&d, 0, sizeof d);
    float *pred = NULL;
    char symbol[64] = "", label[160];
    double t0 = tt_wall_seconds();
    int rc = tt_ml_scenario_spec(s, &spec, &err);
    if (!rc)
        rc = tt_ml_scenario_dataset(s, &spec, 0, 0, &d, symbol, sizeof symbol, &err);
    if (!rc && o.model)
        rc = predict_rows(o.model, &d, &spec, &pred, &err);
    tt_ml_label_text(&spec.label, label, sizeof label);
    tt_ml_export_opts eo = {pred, symbol, label};
    if (!rc)
        rc = tt_ml_export(&d, o.out, &eo, &err);
    int code = rc ? tt_report_error(&err) : TT_EXIT_OK;
    if (!rc && !o.quiet)
        printf("features     %zu rows x %d features of %s %s bars (%llu quotes), label %s%s, "
               "in %.2f s\nwritten      %s\n",
               d.n, d.width, symbol, tt_timeframe_name(spec.tf), (unsigned long long)d.quotes,
               label, pred ? ", prediction" : "", tt_wall_seconds() - t0, o.out);
    free(pred);
    tt_ml_dataset_free(&d);
    tt_scenario_free(s);
    return code;
}
