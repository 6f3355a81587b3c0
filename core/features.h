/*
 * ticktape: the feature engine and the labels of the machine-learning loop.
 *
 * Why here. The same features must reach a model in training (ticktape
 * features / train), in a backtest, in paper and in live trading, or the model
 * trades on numbers it never saw. So there is one engine, pure and streaming,
 * fed by the same closed bars in every mode: it reads no clock and no file,
 * allocates only in tt_features_new, and its row for a bar depends only on that
 * bar and the bars (and quotes) before it.
 *
 * Input. Closed bars of ONE base timeframe (the `ml: timeframe:`), in time
 * order, plus, optionally, the quotes that went into each bar (spread
 * statistics). Higher-timeframe context (M15, H1, H4, D1) is built inside the
 * engine by aggregating the closed base bars: a higher bar is used only once
 * its period has ended at or before the close of the base bar being described
 * (never the bar in progress), so a row at close T sees exactly the higher bars
 * closed by T. Aggregated bars equal bars built from the ticks (OHLC, volume
 * and tick counts add up), because the base periods nest in the higher ones;
 * a higher timeframe not longer than the base gives NaN features.
 *
 * Output. One row of doubles per bar, in the order of the selection given to
 * tt_features_new (default: every catalog feature in catalog order). A feature
 * whose history is not yet long enough is NaN (XGBoost's "missing"). Every
 * feature is scale-free (returns, ratios, oscillators, counts), so a model does
 * not depend on the price level or the instrument's points. docs/ml.md lists
 * each formula; tests/ml/features_ref.py recomputes each with pandas.
 *
 * Indicators come from core/indicators.h (one implementation each): RSI, MACD,
 * Bollinger, ATR, ADX, Stochastic, z-score, SMA, EMA, Donchian, rolling std.
 *
 * Labels (tt_labels_compute) look FORWARD by definition and are never computed
 * inside a run: they are a function of the whole bar series, used for training
 * and export only. Row t's label uses exactly bars t+1..t+h; the last h rows
 * have none (NaN).
 */
#ifndef TT_FEATURES_H
#define TT_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"

/* ---- the catalog ---- */

/* Number of features the engine knows: the default set (catalog indices
 * 0 .. tt_feature_default_count() - 1, 120 features) and after it the named
 * groups selected by name (ml.features: [default, news]). */
int tt_feature_count(void);
int tt_feature_default_count(void);
/* "default" or the group of catalog feature i ("news"); NULL out of range. */
const char *tt_feature_group(int i);
/* Name and one-line definition of catalog feature i (NULL out of range). */
const char *tt_feature_name(int i);
const char *tt_feature_help(int i);
/* Catalog index of a name, -1 when unknown. */
int tt_feature_find(const char *name);

/* ---- the engine ---- */

typedef struct tt_features tt_features;

/* An engine for closed bars of timeframe tf (S1..W1; not MN1). select: catalog
 * indices in output order (each at most once), or NULL for the default set
 * (the first tt_feature_default_count() features).
 * TT_EINVAL (names the index / timeframe), TT_ENOMEM. */
int tt_features_new(tt_features **out, int tf, const int *select, int nselect, tt_err *err);
void tt_features_free(tt_features *f);

/* Back to the state of a new engine (same timeframe, selection and schedule). */
void tt_features_reset(tt_features *f);

/* The schedule the news group reads (core/external.h; borrowed, may be NULL:
 * the news features are then NaN) and the symbol's two currencies
 * (tt_currency_code of base and quote). Only the schedule's times, currencies
 * and impacts are read: a release's figures never reach a row; a release more
 * than TT_FEATURES_NEWS_AHEAD after the bar's close is treated as not yet
 * announced. Cannot fail. */
struct tt_news;
#define TT_FEATURES_NEWS_AHEAD (7 * TT_NS_PER_DAY) /* a calendar shows the week ahead */
void tt_features_set_news(tt_features *f, const struct tt_news *news, uint32_t ccy_a,
                          uint32_t ccy_b);

int tt_features_width(const tt_features *f);           /* values per row */
int tt_features_index(const tt_features *f, int col);  /* catalog index of column col */
int tt_features_tf(const tt_features *f);

/* A quote of the bar in progress (call before the bar that contains it is
 * given to tt_features_bar). Quotes with both sides > 0 feed the spread
 * features; one-sided quotes are ignored. */
void tt_features_quote(tt_features *f, const tt_quote *q);

/* A closed bar (a TT_EV_BAR event: ts = open, ts_init = close, prices in
 * points) of the engine's timeframe: the engine advances and writes the row
 * (width values) to `row`. TT_EINVAL when the bar has another timeframe,
 * TT_EORDER when it opens before the previous bar closed (the engine is then
 * unchanged). Never allocates. */
int tt_features_bar(tt_features *f, const tt_event *bar, double *row, tt_err *err);

/* ---- labels ---- */

enum tt_label_kind {
    TT_LABEL_FORWARD_RETURN = 1, /* close[t+h] / close[t] - 1 */
    TT_LABEL_SIGN = 2,           /* +1 above dead_zone, -1 below -dead_zone, else 0 */
    TT_LABEL_TRIPLE_BARRIER = 3  /* +1 take profit first, -1 stop loss first, 0 time out */
};

typedef struct tt_label_spec {
    int kind;         /* enum tt_label_kind */
    int horizon;      /* h bars (>= 1): the label of row t uses bars t+1..t+h */
    double dead_zone; /* SIGN: |return| <= dead_zone is 0 (>= 0) */
    double tp, sl;    /* TRIPLE_BARRIER: barriers as returns from close[t] (> 0):
                       * high[t+j] >= close[t] (1 + tp) is a take profit,
                       * low[t+j] <= close[t] (1 - sl) a stop loss; both in one
                       * bar count as the stop loss (the order inside a bar is
                       * unknown, so the pessimistic one) */
} tt_label_spec;

/* "forward_return", "sign", "triple_barrier"; parse gives 0 when unknown. */
const char *tt_label_kind_name(int kind);
int tt_label_kind_parse(const char *s);

/* Check a spec: TT_EINVAL naming the field. */
int tt_label_check(const tt_label_spec *s, tt_err *err);

/* Labels of n consecutive bars (prices in any one unit); out[t] is NaN for
 * t + h >= n. TT_EINVAL for a bad spec. */
int tt_labels_compute(const tt_label_spec *s, const double *close, const double *high,
                      const double *low, size_t n, double *out, tt_err *err);

#endif
