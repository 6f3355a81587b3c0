/*
 * The model loop in C, on the real Dukascopy ticks of 4-5 February 2019
 * (scenarios/data/eurusd-2019-02): rows of M1 features, a model trained on
 * them through XGBoost's C API, and
 *   - ticktape's predictor (ml/forest.h) against XGBoost's own prediction of
 *     every row: bit for bit;
 *   - the xgb strategy in a backtest of the same ticks: one signal per closed
 *     bar, in order, each carrying exactly the prediction of that bar's row
 *     (the strategy and the dataset compute the same features), the model's
 *     id, and the same fingerprint run after run;
 *   - a model signal through the canonical encoding and back unchanged, and a
 *     signal without a model encoded as before (one direction byte);
 *   - training twice gives the same model bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "core/fingerprint.h"
#include "ml/dataset.h"
#include "ml/model.h"
#include "ml/train.h"
#include "sim/backtest.h"

#define TAPE TT_SOURCE_DIR "/scenarios/data/eurusd-2019-02"

typedef struct fixture {
    char dir[64];
    char model[128];
    tt_instruments *ins;
    tt_ml_dataset d;
    tt_ml_spec spec;
} fixture;

static int train_model(fixture *f, const char *path)
{
    tt_ml_train_opts o = {7, 0, "EURUSD", NULL, NULL, NULL};
    tt_ml_train_info info;
    tt_err err;
    int rc = tt_ml_train(&f->d, &f->spec, &o, path, &info, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    return rc;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "ml_test_XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->model, sizeof f->model, "%s/m.json", f->dir);
    f->ins = tt_instruments_new();
    tt_ml_spec_init(&f->spec);
    tt_err err;
    const char *set[][2] = {{"timeframe", "M1"},
                            {"label.kind", "sign"},
                            {"label.horizon", "5"},
                            {"xgboost.objective", "binary:logistic"},
                            {"xgboost.max_depth", "4"},
                            {"xgboost.rounds", "25"},
                            {"xgboost.subsample", "0.8"}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (tt_ml_spec_set(&f->spec, set[i][0], set[i][1], &err))
            return -1;
    tt_ml_data_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.instruments = f->ins;
    cfg.tape_dir = TAPE;
    cfg.symbol = "EURUSD";
    cfg.tf = TT_TF_M1;
    cfg.side = TT_SIDE_BID;
    if (tt_ml_dataset_build(&cfg, &f->d, &err) || tt_ml_dataset_label(&f->d, &f->spec.label, &err))
        return -1;
    if (train_model(f, f->model))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd))
        return -1;
    tt_ml_dataset_free(&f->d);
    tt_instruments_free(f->ins);
    free(f);
    return 0;
}

static void test_forest_equals_xgboost(void **state)
{
    fixture *f = *state;
    tt_ml_model *m;
    tt_err err;
    assert_int_equal(tt_ml_model_load(&m, f->model, &err), 0);
    assert_int_equal(tt_ml_model_check_columns(m, f->d.cols, f->d.width, TT_TF_M1, &err), 0);
    size_t n = f->d.n, w = (size_t)f->d.width;
    assert_true(n > 2800);
    float *x = malloc(n * w * sizeof *x);
    for (size_t i = 0; i < n * w; i++)
        x[i] = (float)f->d.x[i];
    BoosterHandle b;
    DMatrixHandle dm;
    assert_int_equal(XGBoosterCreate(NULL, 0, &b), 0);
    assert_int_equal(XGBoosterLoadModel(b, f->model), 0);
    assert_int_equal(XGDMatrixCreateFromMat(x, n, w, NAN, &dm), 0);
    bst_ulong len;
    const float *res;
    assert_int_equal(XGBoosterPredict(b, dm, 0, 0, 0, &len, &res), 0);
    assert_int_equal(len, n);
    size_t nan_rows = 0;
    for (size_t i = 0; i < n; i++) {
        float mine = tt_ml_model_predict(m, tt_ml_dataset_row(&f->d, i));
        assert_memory_equal(&mine, &res[i], sizeof mine);
        nan_rows += isnan(f->d.x[i * w + 0]);
    }
    assert_true(nan_rows > 0); /* warm-up rows with missing values were compared too */
    XGDMatrixFree(dm);
    XGBoosterFree(b);
    free(x);
    tt_ml_model_free(m);
}

typedef struct signals {
    tt_event ev[4096];
    size_t n;
} signals;

static int keep_signal(void *self, const tt_event *ev, tt_err *err)
{
    (void)err;
    signals *s = self;
    if (ev->kind == TT_EV_SIGNAL && s->n < 4096)
        s->ev[s->n++] = *ev;
    return 0;
}

static void run_xgb(fixture *f, signals *s, tt_fingerprint *fp)
{
    tt_backtest_config c;
    tt_backtest_config_default(&c);
    c.instruments = f->ins;
    c.symbols[0] = "EURUSD";
    c.tape_dir = TAPE;
    c.strategy = "xgb";
    char params[256];
    snprintf(params, sizeof params, "model=%s long_above=0.55 short_below=0.45 qty=10", f->model);
    c.params = params;
    c.sinks[0] = (tt_sink){s, keep_signal, NULL, NULL};
    c.nsinks = 1;
    tt_backtest_result r;
    tt_err err;
    s->n = 0;
    int rc = tt_backtest_run(&c, &r, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_true(r.ntrades > 10);
    *fp = r.fingerprint;
    tt_backtest_result_free(&r);
}

static void test_strategy_predicts_the_rows(void **state)
{
    fixture *f = *state;
    signals *s = calloc(1, sizeof *s), *s2 = calloc(1, sizeof *s2);
    tt_fingerprint fp, fp2;
    run_xgb(f, s, &fp);
    tt_ml_model *m;
    tt_err err;
    assert_int_equal(tt_ml_model_load(&m, f->model, &err), 0);
    uint64_t id = strtoull(m->id, NULL, 16);
    assert_int_equal(s->n, f->d.n); /* one signal per closed bar: the last bar never closes */
    for (size_t i = 0; i < s->n; i++) {
        const tt_signal *g = &s->ev[i].u.signal;
        float want = tt_ml_model_predict(m, tt_ml_dataset_row(&f->d, i));
        assert_true(g->has_model);
        assert_memory_equal(&g->prediction, &want, sizeof want);
        assert_true(g->model_id == id);
        assert_int_equal(g->direction, (double)want > 0.55 ? 1 : (double)want < 0.45 ? -1 : 0);
        assert_int_equal(s->ev[i].ts, f->d.close_ts[i]); /* emitted when the bar closed */
    }
    run_xgb(f, s2, &fp2);
    assert_memory_equal(&fp, &fp2, sizeof fp);
    tt_ml_model_free(m);
    free(s);
    free(s2);
}

static void test_signal_encoding(void **state)
{
    (void)state;
    tt_event e, back;
    memset(&e, 0, sizeof e);
    e.kind = TT_EV_SIGNAL;
    e.ts = 1549267200000000000LL;
    e.symbol = 3;
    e.u.signal.strength = -0.25;
    e.u.signal.direction = -1;
    uint8_t buf[TT_EVENT_ENCODED_MAX];
    size_t plain = tt_event_encode(&e, buf, 0);
    memset(&back, 0, sizeof back);
    assert_int_equal(tt_event_decode(buf, plain, &back), plain);
    assert_int_equal(back.u.signal.direction, -1);
    assert_false(back.u.signal.has_model);
    e.u.signal.has_model = 1;
    e.u.signal.prediction = 0.3712f;
    e.u.signal.model_id = 0x0123456789abcdefULL;
    size_t with = tt_event_encode(&e, buf, 0);
    assert_int_equal(with, plain + 12); /* the prediction and the model id */
    memset(&back, 0, sizeof back);
    assert_int_equal(tt_event_decode(buf, with, &back), with);
    assert_int_equal(back.u.signal.direction, -1);
    assert_true(back.u.signal.has_model);
    assert_true(back.u.signal.prediction == 0.3712f);
    assert_true(back.u.signal.model_id == 0x0123456789abcdefULL);
}

static void test_training_is_deterministic(void **state)
{
    fixture *f = *state;
    char again[160];
    snprintf(again, sizeof again, "%s/again.json", f->dir);
    assert_int_equal(train_model(f, again), 0);
    char *a, *b;
    size_t na, nb;
    tt_err err;
    assert_int_equal(tt_ml_read_file(f->model, &a, &na, &err), 0);
    assert_int_equal(tt_ml_read_file(again, &b, &nb, &err), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forest_equals_xgboost),
        cmocka_unit_test(test_strategy_predicts_the_rows),
        cmocka_unit_test(test_signal_encoding),
        cmocka_unit_test(test_training_is_deterministic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
