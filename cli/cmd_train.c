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
#include <stddef.h>
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
    tt_net_cli net; /* NATS authentication and TLS (net_opts.c) */
    tt_ops_cli ops; /* --notify (cli/ops_cli.c): training.completed / failed */
} train_opts;

#define F(field) offsetof(train_opts, field)

static const tt_opt TRAIN_OPTS[] = {
    {TT_OPT_ARG, .arg = "SCENARIO", .off = F(scenario), .flags = TT_OPT_REQUIRED,
     .help = "the scenario file, with an ml: section (docs/ml.md)"},
    {TT_OPT_STRING, "model", .off = F(model), .arg = "OUT.json",
     .flags = TT_OPT_REQUIRED | TT_OPT_NONEMPTY,
     .help = "where the model goes (XGBoost JSON; the sidecar is OUT.json.meta)"},
    {TT_OPT_LIST, "set", .off = F(sets), .count_off = F(nsets), .max_count = MAX_SETS,
     .arg = "KEY=VALUE", .flags = TT_OPT_KEYVAL, .help = "override a scenario key"},
    {TT_OPT_STRING, "nats", .off = F(nats), .arg = "URL", .flags = TT_OPT_NONEMPTY,
     .help = "publish training.started|progress|completed|failed.{run_id} (nats://host:port)"},
    {TT_OPT_STRING, "run-id", .off = F(run_id), .arg = "ID", .flags = TT_OPT_NONEMPTY,
     .def_text = "t<scenario tag>_<pid>", .help = "the run id of those subjects"},
    {TT_OPT_FLAG, "quiet", .off = F(quiet), .help = "print nothing but errors"},
    {TT_OPT_INCLUDE, .include = tt_net_nats_opts, .off = F(net)},
    {TT_OPT_INCLUDE, .include = tt_ops_notify_opts, .off = F(ops)},
    {TT_OPT_END},
};

static int run_train(int argc, char **argv);

const tt_cmd tt_command_train = {
    .name = "train",
    .summary = "train an XGBoost model on a scenario's ml: rows (JSON model + sidecar)",
    .run = run_train,
    .opts = TRAIN_OPTS,
    .size = sizeof(train_opts),
    .about = "Train an XGBoost model on the scenario's feature rows and labels (ml: section,\n"
             "docs/ml.md) and write it as XGBoost JSON with a sidecar OUT.json.meta (features,\n"
             "label, training window, data fingerprint, versions). Deterministic: the same\n"
             "data, parameters and seed give the same bytes.\n",
    .epilog = "exit codes: 0 trained, 1 failed, 2 usage error\n",
};

/* ---- status on NATS ---- */

static void log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ticktape train: %s\n", line);
}

typedef struct status {
    tt_js *js;
    tt_ops *ops; /* --notify */
    char run_id[TT_RUN_ID_MAX];
    double t0, last;
} status;

static void publish(status *st, const char *what, tt_buf *b)
{
    if (!st->js) {
        tt_buf_free(b);
        return;
    }
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
    int rc = tt_ops_open(&st->ops, &o->ops, "train", NULL, log_stderr, err);
    if (rc || !o->nats)
        return rc;
    tt_js_opts jo = {o->nats, 0, 0, "ticktape-train", NULL, tt_net_nats(&o->net)};
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
    if (st->ops && b.data) /* the notifier copies it: before publish frees it */
        tt_ops_event(st->ops, rc ? "training.failed" : "training.completed", (char *)b.data);
    publish(st, rc ? "failed" : "completed", &b);
    tt_js_close(st->js);
    st->js = NULL;
    tt_ops_close(st->ops); /* delivers the notification (5 s at most) */
    st->ops = NULL;
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

static int run_train(int argc, char **argv)
{
    train_opts o;
    memset(&o, 0, sizeof o);
    int prc = tt_opts_parse(&tt_command_train, &o, argc, argv, NULL);
    if (prc != TT_OPTS_RUN)
        return prc;
    if ((prc = tt_net_check(&o.net, "train")) != 0)
        return prc;
    tt_scenario *s;
    if ((prc = tt_ml_cli_scenario("train", o.scenario, o.sets, o.nsets, &s)))
        return prc;
    tt_err err;
    tt_err_clear(&err);
    status st;
    if (status_open(&st, &o, &err)) {
        tt_ops_close(st.ops);
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
