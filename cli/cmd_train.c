/*
 * ticktape train SCENARIO --model OUT.json [--set K=V ...] [--nats URL] [--run-id ID]
 *
 * How this works: the scenario's rows (sim/ml_scenario.h: data, ml.timeframe,
 * ml.features, ml.label) train an XGBoost model with the ml.xgboost
 * parameters (ml/train.h); the model is written in XGBoost's JSON format with
 * its sidecar OUT.json.meta (ml/model.h). With --nats, the seed's training
 * status goes to training.started / progress / completed / failed.{run_id}
 * as JSON (the connection of live/jetstream.h, plain publishes).
 *
 * Exit codes: 0 trained; 1 failure; 2 usage error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "live/jetstream.h"
#include "ml/train.h"
#include "sim/ml_scenario.h"
#include "sim/research.h"
#include "sim/scenario.h"

#define MAX_SETS 64

typedef struct train_opts {
    const char *scenario, *model, *nats, *run_id;
    const char *sets[MAX_SETS];
    int nsets, quiet;
} train_opts;

static const char *const FLAGS[] = {"quiet", "help", "h", NULL};

static void usage(FILE *f)
{
    fputs("usage: ticktape train SCENARIO.yaml --model OUT.json [options]\n\n"
          "Train an XGBoost model on the scenario's feature rows and labels (ml: section,\n"
          "docs/ml.md) and write it as XGBoost JSON with a sidecar OUT.json.meta (features,\n"
          "label, training window, data fingerprint, versions). Deterministic: the same\n"
          "data, parameters and seed give the same bytes.\n\n"
          "options:\n"
          "  --model FILE      where the model goes (XGBoost JSON)\n"
          "  --set KEY=VALUE   override a scenario key (repeatable)\n"
          "  --nats URL        publish training.started|progress|completed|failed.{run_id}\n"
          "  --run-id ID       the run id of those subjects (default: t<scenario tag>_<pid>)\n"
          "  --quiet           print nothing but errors\n"
          "  --help            this text\n\n"
          "exit codes: 0 trained, 1 failed, 2 usage error\n",
          f);
}

static int parse_option(train_opts *o, const tt_opt *op)
{
    if (!op->name) {
        if (o->scenario)
            return tt_usage_error("train", "one scenario at a time");
        o->scenario = op->value;
    } else if (tt_opt_is(op, "model") && op->value) {
        o->model = op->value;
    } else if (tt_opt_is(op, "nats") && op->value) {
        o->nats = op->value;
    } else if (tt_opt_is(op, "run-id") && op->value) {
        o->run_id = op->value;
    } else if (tt_opt_is(op, "set") && op->value) {
        if (o->nsets == MAX_SETS)
            return tt_usage_error("train", "too many --set (at most %d)", MAX_SETS);
        o->sets[o->nsets++] = op->value;
    } else if (tt_opt_is(op, "quiet")) {
        o->quiet = 1;
    } else {
        return tt_usage_error("train", "unknown option --%s%s", op->name,
                              op->value ? "" : " (or a missing value)");
    }
    return 0;
}

/* ---- status on NATS ---- */

typedef struct status {
    tt_js *js;
    char run_id[TT_RUN_ID_MAX];
    double t0, last;
} status;

static void publish(status *st, const char *what, tt_buf *b)
{
    if (!st->js)
        return;
    char subject[128];
    snprintf(subject, sizeof subject, "training.%s.%s", what, st->run_id);
    tt_err err;
    if (tt_js_publish(st->js, subject, b->data, b->len, &err))
        fprintf(stderr, "ticktape: train: %s\n", err.msg);
    tt_buf_free(b);
}

static void on_round(void *ctx, int round, int rounds, const char *eval)
{
    status *st = ctx;
    double now = tt_wall_seconds();
    /* about once a second, and the last round */
    if (!st->js || (round < rounds && now - st->last < 1.0))
        return;
    st->last = now;
    tt_buf b = {0};
    tt_buf_printf(&b, "{\"run_id\":");
    tt_buf_json_string(&b, st->run_id);
    tt_buf_printf(&b, ",\"round\":%d,\"rounds\":%d,\"eval\":", round, rounds);
    tt_buf_json_string(&b, eval);
    tt_buf_printf(&b, ",\"elapsed_s\":%.3f}", now - st->t0);
    publish(st, "progress", &b);
}

static int status_open(status *st, const train_opts *o, tt_err *err)
{
    memset(st, 0, sizeof *st);
    st->t0 = st->last = tt_wall_seconds();
    if (o->run_id) {
        snprintf(st->run_id, sizeof st->run_id, "%s", o->run_id);
    } else {
        char tag[9] = "00000000";
        tt_research_file_tag(o->scenario, tag, NULL);
        snprintf(st->run_id, sizeof st->run_id, "t%s_%x", tag, (unsigned)getpid());
    }
    for (char *p = st->run_id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            *p = '_';
    if (!o->nats)
        return TT_OK;
    tt_js_opts jo = {o->nats, 0, 0, "ticktape-train"};
    return tt_js_connect(&st->js, &jo, err);
}

static void status_done(status *st, int rc, const tt_err *err, const train_opts *o,
                        const tt_ml_train_info *info)
{
    tt_buf b = {0};
    tt_buf_printf(&b, "{\"run_id\":");
    tt_buf_json_string(&b, st->run_id);
    if (rc) {
        tt_buf_printf(&b, ",\"error\":");
        tt_buf_json_string(&b, err->msg);
    } else {
        char fp[33];
        tt_fingerprint_hex(info->data_fp, fp);
        tt_buf_printf(&b, ",\"model\":");
        tt_buf_json_string(&b, o->model);
        tt_buf_printf(&b, ",\"rows\":%zu,\"data_fingerprint\":\"%s\",\"eval\":", info->rows_used,
                      fp);
        tt_buf_json_string(&b, info->eval);
    }
    tt_buf_printf(&b, ",\"elapsed_s\":%.3f}", tt_wall_seconds() - st->t0);
    publish(st, rc ? "failed" : "completed", &b);
    tt_js_close(st->js);
    st->js = NULL;
}

/* ---- the command ---- */

static int train(tt_scenario *s, const train_opts *o, status *st, tt_ml_train_info *info,
                 tt_err *err)
{
    tt_ml_spec spec;
    tt_ml_dataset d;
    char symbol[64] = "";
    int rc = tt_ml_scenario_spec(s, &spec, err);
    if (!rc)
        rc = tt_ml_scenario_dataset(s, &spec, 0, 0, &d, symbol, sizeof symbol, err);
    else
        memset(&d, 0, sizeof d);
    if (!rc && st->js) {
        tt_buf b = {0};
        tt_buf_printf(&b, "{\"run_id\":");
        tt_buf_json_string(&b, st->run_id);
        tt_buf_printf(&b, ",\"scenario\":");
        tt_buf_json_string(&b, o->scenario);
        tt_buf_printf(&b, ",\"model\":");
        tt_buf_json_string(&b, o->model);
        tt_buf_printf(&b, ",\"rows\":%zu,\"features\":%d,\"rounds\":%d}", d.n, d.width,
                      spec.rounds);
        publish(st, "started", &b);
    }
    /* ml.embargo applies here only when given (the walk-forward's default is the horizon) */
    tt_ml_train_opts to = {tt_scenario_seed(s), spec.embargo > 0 ? spec.embargo : 0, symbol,
                           o->scenario, on_round, st};
    if (!rc)
        rc = tt_ml_train(&d, &spec, &to, o->model, info, err);
    if (!rc && !o->quiet) {
        char a[40], b[40], fp[33];
        tt_ts_format(info->from, a, sizeof a, 0);
        tt_ts_format(info->to, b, sizeof b, 0);
        tt_fingerprint_hex(info->data_fp, fp);
        printf("train        %s: %zu of %zu rows x %d features (%s %s), %d rounds, in %.2f s\n"
               "window       %s .. %s\n"
               "data         fingerprint %s\n"
               "eval         %s\n"
               "model        %s (+ .meta)\n",
               tt_scenario_name(s), info->rows_used, info->rows_total, d.width, symbol,
               tt_timeframe_name(spec.tf), spec.rounds, tt_wall_seconds() - st->t0, a, b, fp,
               info->eval, o->model);
        if (!isnan(info->positive_share))
            printf("classes      %.1f%% of the rows labelled up\n", 100 * info->positive_share);
    }
    tt_ml_dataset_free(&d);
    return rc;
}

int tt_cmd_train(int argc, char **argv)
{
    train_opts o;
    memset(&o, 0, sizeof o);
    tt_opt op;
    tt_opt_init(&op, argc, argv);
    while (tt_opt_next(&op, FLAGS)) {
        if (tt_opt_is(&op, "help") || tt_opt_is(&op, "h")) {
            usage(stdout);
            return TT_EXIT_OK;
        }
        int rc = parse_option(&o, &op);
        if (rc)
            return rc;
    }
    if (!o.scenario)
        return tt_usage_error("train", "missing the scenario file");
    if (!o.model)
        return tt_usage_error("train", "missing --model OUT.json");
    tt_err err;
    tt_err_clear(&err);
    tt_scenario *s;
    if (tt_scenario_load(&s, o.scenario, &err))
        return tt_report_error(&err);
    for (int i = 0; i < o.nsets; i++)
        if (tt_scenario_set(s, o.sets[i], &err)) {
            tt_scenario_free(s);
            return tt_usage_error("train", "%s", err.msg);
        }
    status st;
    if (status_open(&st, &o, &err)) {
        tt_scenario_free(s);
        return tt_report_error(&err);
    }
    tt_ml_train_info info;
    memset(&info, 0, sizeof info);
    int rc = train(s, &o, &st, &info, &err);
    status_done(&st, rc, &err, &o, &info);
    tt_scenario_free(s);
    return rc ? tt_report_error(&err) : TT_EXIT_OK;
}
