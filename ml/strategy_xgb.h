/*
 * ticktape ml: the model as a strategy, `strategy: {name: xgb, params: {...}}`.
 *
 * Why it lives in ml/ and not with the built-ins of core/strategies.c: it has
 * to read the model file and check it against XGBoost's C API (ml/model.h),
 * and core reads no files and links libc, libm and xxhash only. It is
 * written exactly like a built-in, through the strategy context alone, and
 * its two halves are the pure pieces: the feature engine of core/features.h
 * (the same one `ticktape features` and `train` use) and the predictor of
 * ml/forest.h. sim/backtest.c resolves the name through tt_ml_strategy, so
 * backtests, walk-forward, paper and live runs (all tt_backtest_run) get it.
 *
 * Per closed bar of (symbol, timeframe, side): the row of the model's
 * features, the prediction p, a TT_EV_SIGNAL output carrying p and the model
 * id (published as a TradingSignal with its ModelPrediction on
 * signals.{SYMBOL}), then the position target: long when p > long_above,
 * short when p < short_below (short=1), otherwise flat (or kept, hold=1).
 * Quotes of the symbol feed the spread features between bars.
 */
#ifndef TT_ML_STRATEGY_XGB_H
#define TT_ML_STRATEGY_XGB_H

#include "../core/strategy.h"

extern const tt_strategy_vtable tt_strategy_xgb;

/* The ml layer's strategy of that name ("xgb"), NULL when unknown. */
const tt_strategy_vtable *tt_ml_strategy(const char *name);

#endif
