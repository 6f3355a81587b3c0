/*
 * Scenario to dataset: read the ml: section, prepare the scenario's data as a
 * backtest would, build the rows, label them. A synthetic market is a source
 * that cannot be queried by time, so it is cut to [from, to) by the research
 * runs' window source (sim/sweep.h).
 */
#include "ml_scenario.h"

#include <stdlib.h>
#include <string.h>

#include "../core/external.h"
#include "../data/calendar.h"
#include "scenario.h"
#include "sweep.h"

static int set_one(void *ctx, const char *key, const char *value, tt_err *err)
{
    return tt_ml_spec_set(ctx, key, value, err);
}

int tt_ml_scenario_spec(const tt_scenario *s, tt_ml_spec *spec, tt_err *err)
{
    tt_ml_spec_init(spec);
    size_t pos = 0;
    if (!tt_scenario_next(s, "ml", &pos))
        return tt_err_set(err, TT_ENOTFOUND, "%s: the scenario has no ml: section (docs/ml.md)",
                          tt_scenario_file(s));
    int rc = tt_scenario_each(s, "ml", set_one, spec, err);
    if (rc)
        return rc;
    if ((rc = tt_ml_spec_check(spec, err)))
        tt_err_prefix(err, "%s: ", tt_scenario_file(s));
    return rc;
}

int tt_ml_scenario_news(const tt_backtest_config *cfg, const int *cols, int ncols,
                        tt_news **out, tt_err *err)
{
    *out = NULL;
    int need = 0;
    for (int i = 0; i < ncols; i++)
        need |= cols[i] >= tt_feature_default_count();
    if (!need)
        return TT_OK;
    if (!cfg->tape_dir || !cfg->external[0])
        return tt_err_set(err, TT_EINVAL,
                          "ml.features: the news features need the release schedule: a "
                          "calendar on the tape, listed in data.external (docs/external.md)");
    int rc = tt_news_new(out, err);
    if (!rc && (rc = tt_external_schedule_load(*out, cfg->tape_dir, cfg->external, err))) {
        tt_err_prefix(err, "ml.features: ");
        tt_news_free(*out);
        *out = NULL;
    }
    return rc;
}

int tt_ml_scenario_dataset(const tt_scenario *s, const tt_ml_spec *spec, tt_ts from, tt_ts to,
                           tt_ml_dataset *d, char *symbol, size_t symbol_size, tt_err *err)
{
    memset(d, 0, sizeof *d);
    tt_scenario *c = tt_scenario_clone(s);
    tt_scenario_run *run = calloc(1, sizeof *run);
    int rc = TT_OK;
    if (!c || !run)
        rc = tt_err_set(err, TT_ENOMEM, "ml: out of memory");
    /* No strategy runs here; a scenario made for features and training alone
     * need not name one. */
    if (!rc && !tt_scenario_find(c, "strategy.name"))
        rc = tt_scenario_set(c, "strategy.name=buy_and_hold", err);
    if (!rc && (rc = tt_scenario_prepare(c, run, err))) {
        free(run);
        run = NULL;
    }
    if (rc) {
        free(run);
        tt_scenario_free(c);
        return rc;
    }
    int idx[TT_ML_MAX_FEATURES];
    int n = tt_ml_spec_feature_list(spec, idx);
    tt_ml_data_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.instruments = run->instruments;
    cfg.symbol = spec->symbol[0] ? spec->symbol : run->cfg.symbols[0];
    cfg.tf = spec->tf;
    cfg.side = spec->side;
    cfg.features = idx;
    cfg.nfeatures = n;
    tt_window_src win;
    tt_source wsrc;
    if (run->cfg.source) {
        wsrc = tt_window_source(&win, *run->cfg.source, from, to);
        cfg.source = &wsrc;
    } else {
        cfg.tape_dir = run->cfg.tape_dir;
        cfg.from = from > run->cfg.from ? from : run->cfg.from;
        cfg.to = to && (!run->cfg.to || to < run->cfg.to) ? to : run->cfg.to;
    }
    if (symbol)
        snprintf(symbol, symbol_size, "%s", cfg.symbol ? cfg.symbol : "");
    tt_news *news = NULL;
    rc = tt_ml_scenario_news(&run->cfg, idx, n, &news, err);
    cfg.news = news;
    if (!rc)
        rc = tt_ml_dataset_build(&cfg, d, err);
    tt_news_free(news);
    if (!rc)
        rc = tt_ml_dataset_label(d, &spec->label, err);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(c);
    return rc;
}
