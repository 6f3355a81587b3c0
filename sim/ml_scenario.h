/*
 * ticktape: the `ml:` section of a scenario and the rows it describes.
 *
 * The glue between a scenario (sim/scenario.h) and the machine-learning layer
 * (ml/): the section's entries go through tt_ml_spec_set one by one, so an
 * error names the file, line and key like any scenario error; the data comes
 * from the scenario's own data: section (a tape range or a synthetic market),
 * opened by tt_scenario_prepare exactly as a backtest opens it. Used by
 * `ticktape features`, `ticktape train` and the walk-forward's training.
 */
#ifndef TT_SIM_ML_SCENARIO_H
#define TT_SIM_ML_SCENARIO_H

#include <stddef.h>

#include "../core/error.h"
#include "../ml/dataset.h"
#include "../ml/spec.h"

struct tt_scenario;

/* Every ml.* entry of s into spec, then tt_ml_spec_check. TT_ENOTFOUND when
 * the scenario has no ml: section. */
int tt_ml_scenario_spec(const struct tt_scenario *s, tt_ml_spec *spec, tt_err *err);

/* The release schedule the news features of cols (catalog indices) read: NULL
 * (TT_OK) when no column is a news feature; else the timed calendar events of
 * cfg's data.external streams, all of them (the release times a calendar
 * publishes ahead; the features look at most a week ahead). TT_EINVAL when
 * the scenario has no external stream, the tape's errors. Free with
 * tt_news_free. */
struct tt_news;
struct tt_backtest_config;
int tt_ml_scenario_news(const struct tt_backtest_config *cfg, const int *cols, int ncols,
                        struct tt_news **out, tt_err *err);

/* The rows of the scenario's data in [from, to) (0 = the scenario's range;
 * a synthetic market is cut to the range), with the spec's symbol (else the
 * first data symbol), timeframe, side and features, labelled with the spec's
 * label. symbol (may be NULL) receives the symbol's name. A scenario without a
 * strategy is accepted (no strategy runs). */
int tt_ml_scenario_dataset(const struct tt_scenario *s, const tt_ml_spec *spec, tt_ts from,
                           tt_ts to, tt_ml_dataset *d, char *symbol, size_t symbol_size,
                           tt_err *err);

#endif
