/*
 * bench_ml: the cost per bar of the model loop: the feature engine, the
 * prediction, and both together, against XGBoost's own one-row prediction.
 *
 * Input: the HistData half-year tape (scenarios/data/eurusd-2017h1) as M15
 * rows of the first 100 catalog features; a model of 200 trees of depth 6
 * (binary:logistic, eta 0.1) trained on them by ml/train.h (XGBoost's C API,
 * one thread), or the one given with --model. Measured, in microseconds per
 * bar:
 *   - features: tt_features_bar for each bar of the half-year, in order;
 *   - predict: tt_ml_model_predict (ml/forest.h) on every row;
 *   - features + predict: both, the work of the xgb strategy per bar (its
 *     signal and order calls aside);
 *   - XGBoost C API: XGBoosterPredictFromDense on one row at a time.
 * "best" is the fastest pass over all rows among --repeat passes (the code's
 * own cost when nothing else competes for the core), "mean" the average.
 *
 * usage: bench_ml [--tape DIR] [--model FILE] [--repeat R] [--json]
 * (--model FILE that does not exist: the model is trained into it and kept)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xgboost/c_api.h>

#include "core/features.h"
#include "ml/dataset.h"
#include "ml/model.h"
#include "ml/train.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile double g_sink;

typedef struct timing {
    double best, total;
    int passes;
} timing;

static void add(timing *t, double s)
{
    if (!t->passes || s < t->best)
        t->best = s;
    t->total += s;
    t->passes++;
}

static int die(const char *what, const tt_err *err)
{
    fprintf(stderr, "bench_ml: %s: %s\n", what, err ? err->msg : "");
    return 1;
}

static tt_event bar_of(const tt_ml_dataset *d, size_t i)
{
    tt_event e;
    memset(&e, 0, sizeof e);
    e.kind = TT_EV_BAR;
    e.ts = d->open_ts[i];
    e.ts_init = d->close_ts[i];
    e.u.bar.open = (tt_price)d->open[i];
    e.u.bar.high = (tt_price)d->high[i];
    e.u.bar.low = (tt_price)d->low[i];
    e.u.bar.close = (tt_price)d->close[i];
    e.u.bar.ticks = 4;
    e.u.bar.tf = (uint8_t)d->tf;
    return e;
}

/* One pass of the feature engine (and the model when m) over every bar. */
static double pass(const tt_ml_dataset *d, tt_features *f, const tt_ml_model *m, double *row)
{
    tt_features_reset(f);
    double t0 = now_s(), acc = 0;
    for (size_t i = 0; i < d->n; i++) {
        tt_event e = bar_of(d, i);
        tt_features_bar(f, &e, row, NULL);
        acc += m ? tt_ml_model_predict(m, row) : row[0];
    }
    double s = now_s() - t0;
    g_sink += acc;
    return s;
}

static double pass_predict(const tt_ml_dataset *d, const tt_ml_model *m)
{
    double t0 = now_s(), acc = 0;
    for (size_t i = 0; i < d->n; i++)
        acc += tt_ml_model_predict(m, tt_ml_dataset_row(d, i));
    double s = now_s() - t0;
    g_sink += acc;
    return s;
}

static double pass_xgboost(const tt_ml_dataset *d, BoosterHandle b, DMatrixHandle proxy, size_t n)
{
    float row[256];
    char arr[160];
    snprintf(arr, sizeof arr,
             "{\"data\":[%llu,true],\"shape\":[1,%d],\"typestr\":\"<f4\",\"version\":3}",
             (unsigned long long)(uintptr_t)row, d->width);
    const char *cfg = "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
                      "\"strict_shape\":false,\"missing\":NaN,\"cache_id\":0}";
    const bst_ulong *shape;
    bst_ulong dim;
    const float *res;
    double t0 = now_s(), acc = 0;
    for (size_t i = 0; i < n; i++) {
        const double *r = tt_ml_dataset_row(d, i);
        for (int j = 0; j < d->width; j++)
            row[j] = (float)r[j];
        if (XGBoosterPredictFromDense(b, arr, cfg, proxy, &shape, &dim, &res))
            return -1;
        acc += res[0];
    }
    double s = now_s() - t0;
    g_sink += acc;
    return s;
}

int main(int argc, char **argv)
{
    const char *tape = TT_SOURCE_DIR "/scenarios/data/eurusd-2017h1", *model = NULL;
    int repeat = 5, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tape") && i + 1 < argc)
            tape = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return fprintf(stderr, "usage: bench_ml [--tape DIR] [--model FILE] [--repeat R] "
                                   "[--json]\n"), 2;
    }
    tt_err err;
    tt_instruments *ins = tt_instruments_new();
    int cols[100];
    for (int i = 0; i < 100; i++)
        cols[i] = i;
    tt_ml_data_cfg dc = {ins, tape, 0, 0, NULL, "EURUSD", TT_TF_M15, TT_SIDE_BID, cols, 100};
    tt_ml_dataset d;
    tt_ml_spec spec;
    tt_ml_spec_init(&spec);
    const char *set[][2] = {{"timeframe", "M15"},      {"label.kind", "sign"},
                            {"label.horizon", "4"},     {"xgboost.objective", "binary:logistic"},
                            {"xgboost.max_depth", "6"}, {"xgboost.eta", "0.1"},
                            {"xgboost.rounds", "200"},  {"xgboost.tree_method", "hist"}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        tt_ml_spec_set(&spec, set[i][0], set[i][1], NULL);
    if (tt_ml_dataset_build(&dc, &d, &err) || tt_ml_dataset_label(&d, &spec.label, &err))
        return die(tape, &err);
    char path[64] = "bench_ml_model.json";
    FILE *given = model ? fopen(model, "rb") : NULL;
    int keep = model != NULL; /* --model FILE that does not exist yet: train into it */
    if (given)
        fclose(given);
    if (!given) {
        if (model)
            snprintf(path, sizeof path, "%s", model);
        tt_ml_train_opts to = {1, 0, "EURUSD", NULL, NULL, NULL};
        tt_ml_train_info info;
        double t0 = now_s();
        if (tt_ml_train(&d, &spec, &to, path, &info, &err))
            return die("train", &err);
        if (!json)
            printf("trained %zu rows x 100 features, 200 trees, depth 6 in %.1f s\n",
                   info.rows_used, now_s() - t0);
        model = path;
    }
    tt_ml_model *m;
    if (tt_ml_model_load(&m, model, &err))
        return die(model, &err);
    tt_features *f;
    if (tt_features_new(&f, TT_TF_M15, cols, 100, &err))
        return die("features", &err);
    double *row = malloc(100 * sizeof *row);
    BoosterHandle b;
    DMatrixHandle proxy;
    if (XGBoosterCreate(NULL, 0, &b) || XGBoosterLoadModel(b, model) ||
        XGBoosterSetParam(b, "nthread", "1") || XGProxyDMatrixCreate(&proxy))
        return die("xgboost", NULL);
    timing tf = {0}, tp = {0}, tb = {0}, tx = {0};
    size_t nx = d.n < 4000 ? d.n : 4000;
    for (int r = 0; r < repeat; r++) {
        add(&tf, pass(&d, f, NULL, row));
        add(&tp, pass_predict(&d, m));
        add(&tb, pass(&d, f, m, row));
        add(&tx, pass_xgboost(&d, b, proxy, nx));
    }
    double us = 1e6 / (double)d.n, usx = 1e6 / (double)nx;
    size_t nodes = m->forest.nnodes;
    if (json) {
        printf("{\"rows\":%zu,\"features\":100,\"trees\":%u,\"nodes\":%zu,"
               "\"features_us\":{\"best\":%.4f,\"mean\":%.4f},"
               "\"predict_us\":{\"best\":%.4f,\"mean\":%.4f},"
               "\"features_predict_us\":{\"best\":%.4f,\"mean\":%.4f},"
               "\"xgboost_c_api_us\":{\"best\":%.4f,\"mean\":%.4f}}\n",
               d.n, m->forest.ntrees, nodes, tf.best * us, tf.total / repeat * us, tp.best * us,
               tp.total / repeat * us, tb.best * us, tb.total / repeat * us, tx.best * usx,
               tx.total / repeat * usx);
    } else {
        printf("%zu M15 bars, model of %u trees (%zu nodes) on 100 features, %d passes\n", d.n,
               m->forest.ntrees, nodes, repeat);
        printf("%-28s %10s %10s   (us per bar)\n", "", "best", "mean");
        printf("%-28s %10.3f %10.3f\n", "features (tt_features_bar)", tf.best * us,
               tf.total / repeat * us);
        printf("%-28s %10.3f %10.3f\n", "predict (ml/forest)", tp.best * us,
               tp.total / repeat * us);
        printf("%-28s %10.3f %10.3f\n", "features + predict", tb.best * us,
               tb.total / repeat * us);
        printf("%-28s %10.3f %10.3f   (%zu rows)\n", "XGBoost C API, one row", tx.best * usx,
               tx.total / repeat * usx, nx);
    }
    XGDMatrixFree(proxy);
    XGBoosterFree(b);
    free(row);
    tt_features_free(f);
    tt_ml_model_free(m);
    tt_ml_dataset_free(&d);
    tt_instruments_free(ins);
    if (model == path && !keep) {
        remove(path);
        char meta[80];
        tt_ml_meta_path(path, meta, sizeof meta);
        remove(meta);
    }
    return 0;
}
