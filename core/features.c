/*
 * The feature engine: one streaming pass over closed bars, O(1) per bar.
 *
 * Every catalog feature is computed on every bar into a fixed array (`full`),
 * then the selection is copied out: computing the 120 values costs well under
 * a microsecond and keeps one code path whatever the selection. State is a set
 * of core/indicators.h structs plus a ring of the last 128 closes (lags up to
 * 100) and four higher-timeframe aggregators; all of it is allocated in
 * tt_features_new, so a bar allocates nothing.
 *
 * Conventions for 0/0 (so that rows stay finite on flat data, and the pandas
 * reference can state them): positions inside a range (%b, Donchian, close in
 * the bar's range) are 0.5 when the range is empty; ratios of a value to its
 * own average (volatility, ticks, spread, volume, bar range) are 1 when the
 * average is 0; wick/body ratios and the efficiency ratio are 0 when the
 * range / path is 0. Everything else is NaN until its window is full.
 *
 * Invariant: a row written for the bar closing at T depends on the bars that
 * closed at or before T and on the quotes before T, nothing else; the higher
 * timeframes only ever use bars whose period ended by T.
 */
#include "features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bars.h"
#include "external.h"
#include "indicators.h"

/* ---- the catalog ---- */

enum {
    F_RET_1, F_RET_2, F_RET_3, F_RET_5, F_RET_10, F_RET_20, F_RET_50, F_RET_100,
    F_LRET_1, F_LRET_2, F_LRET_3, F_LRET_5, F_LRET_10, F_LRET_20, F_LRET_50, F_LRET_100,
    F_VOL_5, F_VOL_10, F_VOL_20, F_VOL_50, F_VOL_100, F_VOL_PARK_20, F_VOL_GK_20,
    F_VOL_RATIO_5_50, F_VOL_RATIO_20_100,
    F_RSI_7, F_RSI_14, F_RSI_28,
    F_MACD, F_MACD_SIGNAL, F_MACD_HIST,
    F_BB_PCTB_20, F_BB_WIDTH_20, F_BB_PCTB_50,
    F_ATR_7, F_ATR_14, F_ATR_28,
    F_ADX_14, F_PDI_14, F_MDI_14,
    F_STOCH_K_14, F_STOCH_D_14, F_STOCH_K_5, F_STOCH_D_5,
    F_Z_CLOSE_20, F_Z_CLOSE_50, F_Z_CLOSE_100, F_Z_LRET_20,
    F_DIST_SMA_10, F_DIST_SMA_20, F_DIST_SMA_50, F_DIST_SMA_100,
    F_DIST_EMA_10, F_DIST_EMA_20, F_DIST_EMA_50, F_DIST_EMA_100,
    F_SMA_RATIO_10_50, F_SMA_RATIO_20_100,
    F_DON_POS_20, F_DON_POS_50, F_DON_WIDTH_20,
    F_BODY_RATIO, F_UPPER_WICK, F_LOWER_WICK, F_RANGE_REL, F_CLOSE_POS, F_GAP_REL, F_BODY_REL,
    F_RANGE_RATIO_20,
    F_UP_FRAC_10, F_UP_FRAC_20, F_EFF_10, F_EFF_20,
    F_TICKS, F_TICKS_RATIO_20, F_SPREAD_REL, F_SPREAD_MAX_REL, F_SPREAD_RATIO_20,
    F_VOLUME_RATIO_20,
    F_HOUR_SIN, F_HOUR_COS, F_DOW_SIN, F_DOW_COS,
    F_SESS_SYDNEY, F_SESS_TOKYO, F_SESS_LONDON, F_SESS_NEWYORK, F_SESS_LDN_NY,
    F_HTF, /* first of NHTF blocks of HTF_W features */
};

#define NHTF 4
#define HTF_W 8
#define NDEFAULT (F_HTF + NHTF * HTF_W) /* the default set: the first NDEFAULT */

/* The news group (not in the default set: adding columns to it would change
 * every exported table and model): distances from the bar's close to the
 * scheduled high- and medium-impact releases of the symbol's currencies. */
enum { F_NEWS_HIGH_NEXT = NDEFAULT, F_NEWS_HIGH_PREV, F_NEWS_MED_NEXT, F_NEWS_MED_PREV, NFEAT };


typedef struct feat_def {
    const char *name, *help;
} feat_def;

static const feat_def BASE[F_HTF] = {
    {"ret_1", "close / close 1 bar back - 1"},
    {"ret_2", "close / close 2 bars back - 1"},
    {"ret_3", "close / close 3 bars back - 1"},
    {"ret_5", "close / close 5 bars back - 1"},
    {"ret_10", "close / close 10 bars back - 1"},
    {"ret_20", "close / close 20 bars back - 1"},
    {"ret_50", "close / close 50 bars back - 1"},
    {"ret_100", "close / close 100 bars back - 1"},
    {"logret_1", "ln(close / close 1 bar back)"},
    {"logret_2", "ln(close / close 2 bars back)"},
    {"logret_3", "ln(close / close 3 bars back)"},
    {"logret_5", "ln(close / close 5 bars back)"},
    {"logret_10", "ln(close / close 10 bars back)"},
    {"logret_20", "ln(close / close 20 bars back)"},
    {"logret_50", "ln(close / close 50 bars back)"},
    {"logret_100", "ln(close / close 100 bars back)"},
    {"vol_5", "sample std (ddof 1) of the last 5 logret_1"},
    {"vol_10", "sample std of the last 10 logret_1"},
    {"vol_20", "sample std of the last 20 logret_1"},
    {"vol_50", "sample std of the last 50 logret_1"},
    {"vol_100", "sample std of the last 100 logret_1"},
    {"vol_park_20", "Parkinson: sqrt(mean_20(ln(high/low)^2) / (4 ln 2))"},
    {"vol_gk_20", "Garman-Klass: sqrt(mean_20(ln(h/l)^2 / 2 - (2 ln 2 - 1) ln(c/o)^2))"},
    {"vol_ratio_5_50", "vol_5 / vol_50 (1 when vol_50 is 0)"},
    {"vol_ratio_20_100", "vol_20 / vol_100 (1 when vol_100 is 0)"},
    {"rsi_7", "Wilder RSI(7) of closes, 0..100"},
    {"rsi_14", "Wilder RSI(14) of closes"},
    {"rsi_28", "Wilder RSI(28) of closes"},
    {"macd_rel", "MACD(12, 26) line / close"},
    {"macd_signal_rel", "MACD signal (9) / close"},
    {"macd_hist_rel", "MACD histogram / close"},
    {"bb_pctb_20", "Bollinger(20, 2) %b: (close - lower) / (upper - lower), 0.5 when flat"},
    {"bb_width_20", "Bollinger(20, 2) (upper - lower) / middle"},
    {"bb_pctb_50", "Bollinger(50, 2) %b"},
    {"atr_7_rel", "Wilder ATR(7) / close"},
    {"atr_14_rel", "Wilder ATR(14) / close"},
    {"atr_28_rel", "Wilder ATR(28) / close"},
    {"adx_14", "Wilder ADX(14)"},
    {"plus_di_14", "+DI(14)"},
    {"minus_di_14", "-DI(14)"},
    {"stoch_k_14", "slow stochastic %K(14, 3)"},
    {"stoch_d_14", "slow stochastic %D(14, 3, 3)"},
    {"stoch_k_5", "fast stochastic %K(5)"},
    {"stoch_d_5", "fast stochastic %D(5, 1, 3)"},
    {"zscore_close_20", "(close - mean_20) / sample std_20 of closes (0 when flat)"},
    {"zscore_close_50", "z-score of the close over 50 bars"},
    {"zscore_close_100", "z-score of the close over 100 bars"},
    {"zscore_logret_20", "z-score of logret_1 over 20 bars"},
    {"dist_sma_10", "close / SMA(10) - 1"},
    {"dist_sma_20", "close / SMA(20) - 1"},
    {"dist_sma_50", "close / SMA(50) - 1"},
    {"dist_sma_100", "close / SMA(100) - 1"},
    {"dist_ema_10", "close / EMA(10) - 1 (after 10 bars)"},
    {"dist_ema_20", "close / EMA(20) - 1"},
    {"dist_ema_50", "close / EMA(50) - 1"},
    {"dist_ema_100", "close / EMA(100) - 1"},
    {"sma_ratio_10_50", "SMA(10) / SMA(50) - 1"},
    {"sma_ratio_20_100", "SMA(20) / SMA(100) - 1"},
    {"donchian_pos_20", "(close - lowest low_20) / (highest high_20 - lowest low_20), 0.5 when flat"},
    {"donchian_pos_50", "the same over 50 bars"},
    {"donchian_width_20", "(highest high_20 - lowest low_20) / close"},
    {"body_ratio", "(close - open) / (high - low), 0 when high = low"},
    {"upper_wick_ratio", "(high - max(open, close)) / (high - low), 0 when high = low"},
    {"lower_wick_ratio", "(min(open, close) - low) / (high - low), 0 when high = low"},
    {"range_rel", "(high - low) / close"},
    {"close_pos", "(close - low) / (high - low), 0.5 when high = low"},
    {"gap_rel", "open / previous close - 1"},
    {"body_rel", "close / open - 1"},
    {"range_ratio_20", "range_rel / mean_20(range_rel) (1 when the mean is 0)"},
    {"up_frac_10", "share of the last 10 bars that closed above the previous close"},
    {"up_frac_20", "the same over 20 bars"},
    {"efficiency_10", "|close - close 10 back| / sum of the last 10 |close changes| (0 when 0)"},
    {"efficiency_20", "the same over 20 bars"},
    {"ticks", "quotes in the bar"},
    {"ticks_ratio_20", "ticks / mean_20(ticks) (1 when the mean is 0)"},
    {"spread_rel", "mean (ask - bid) of the bar's two-sided quotes / close (carried from the "
                   "last bar that had one)"},
    {"spread_max_rel", "largest (ask - bid) of the bar's quotes / close (carried likewise)"},
    {"spread_ratio_20", "mean spread / mean_20(mean spread) (1 when the mean is 0)"},
    {"volume_ratio_20", "volume / mean_20(volume) (1 when the mean is 0)"},
    {"hour_sin", "sin(2 pi * time of day of the bar's open / 24 h), UTC"},
    {"hour_cos", "cos(2 pi * time of day / 24 h)"},
    {"dow_sin", "sin(2 pi * weekday / 7), Monday = 0, UTC"},
    {"dow_cos", "cos(2 pi * weekday / 7)"},
    {"session_sydney", "1 when the bar opens in 21:00-06:00 UTC"},
    {"session_tokyo", "1 when the bar opens in 00:00-09:00 UTC"},
    {"session_london", "1 when the bar opens in 07:00-16:00 UTC"},
    {"session_newyork", "1 when the bar opens in 12:00-21:00 UTC"},
    {"session_london_newyork", "1 when the bar opens in 12:00-16:00 UTC (both open)"},
};

static const feat_def NEWS[NFEAT - NDEFAULT] = {
    {"news_high_next_min", "minutes from the bar's close to the next scheduled high-impact "
                           "release of the symbol's currencies (NaN: none known)"},
    {"news_high_prev_min", "minutes from the last scheduled high-impact release at or before "
                           "the bar's close to it (NaN: none)"},
    {"news_medium_next_min", "the same as news_high_next_min for medium or high impact"},
    {"news_medium_prev_min", "the same as news_high_prev_min for medium or high impact"},
};

static const int HTF_TF[NHTF] = {TT_TF_M15, TT_TF_H1, TT_TF_H4, TT_TF_D1};
static const char *const HTF_HELP[HTF_W] = {
    "last closed higher bar's close / the one before - 1",
    "last closed higher close / the close 4 higher bars back - 1",
    "RSI(14) of the closed higher bars",
    "ATR(14) of the closed higher bars / their last close",
    "close / SMA(20) of the closed higher closes - 1",
    "(close - lower) / (upper - lower) of Bollinger(20, 2) on the closed higher closes",
    "ADX(14) of the closed higher bars",
    "(close - low) / (high - low) of the last closed higher bar, 0.5 when flat",
};

/* HTF feature k: the prefix of its timeframe and one of the HTF_W suffixes. */
static const char *htf_name(int k)
{
    static const char *const names[NHTF * HTF_W] = {
        "m15_ret_1", "m15_ret_4", "m15_rsi_14", "m15_atr_14_rel", "m15_dist_sma_20",
        "m15_bb_pctb_20", "m15_adx_14", "m15_range_pos",
        "h1_ret_1", "h1_ret_4", "h1_rsi_14", "h1_atr_14_rel", "h1_dist_sma_20",
        "h1_bb_pctb_20", "h1_adx_14", "h1_range_pos",
        "h4_ret_1", "h4_ret_4", "h4_rsi_14", "h4_atr_14_rel", "h4_dist_sma_20",
        "h4_bb_pctb_20", "h4_adx_14", "h4_range_pos",
        "d1_ret_1", "d1_ret_4", "d1_rsi_14", "d1_atr_14_rel", "d1_dist_sma_20",
        "d1_bb_pctb_20", "d1_adx_14", "d1_range_pos",
    };
    return names[k];
}

int tt_feature_count(void) { return NFEAT; }
int tt_feature_default_count(void) { return NDEFAULT; }

const char *tt_feature_group(int i)
{
    return i < 0 || i >= NFEAT ? NULL : i < NDEFAULT ? "default" : "news";
}

const char *tt_feature_name(int i)
{
    if (i < 0 || i >= NFEAT)
        return NULL;
    if (i >= NDEFAULT)
        return NEWS[i - NDEFAULT].name;
    return i < F_HTF ? BASE[i].name : htf_name(i - F_HTF);
}

const char *tt_feature_help(int i)
{
    if (i < 0 || i >= NFEAT)
        return NULL;
    if (i >= NDEFAULT)
        return NEWS[i - NDEFAULT].help;
    return i < F_HTF ? BASE[i].help : HTF_HELP[(i - F_HTF) % HTF_W];
}

int tt_feature_find(const char *name)
{
    for (int i = 0; name && i < NFEAT; i++)
        if (!strcmp(tt_feature_name(i), name))
            return i;
    return -1;
}

/* ---- state ---- */

#define LAGS 128 /* ring of closes: lags up to 100 */

typedef struct htf {
    int tf, valid;
    int active;
    tt_ts open_ts, close_ts;
    double o, h, l, c;            /* the higher bar in progress (from closed base bars) */
    int64_t nclosed;
    double closes[5];             /* last closed higher closes, newest at [0] */
    double last_h, last_l;
    tt_rsi rsi;
    tt_atr atr;
    tt_bbands bb;
    tt_adx adx;
} htf;

struct tt_features {
    int tf;
    int width;
    int *sel;
    int64_t nbars;
    tt_ts last_close;
    double closes[LAGS];
    double prev_close;
    /* quote statistics of the bar in progress, and the last bar's */
    double q_sum, q_max;
    uint64_t q_n;
    double spread_mean, spread_max; /* carried forward; NaN before the first */
    tt_rstd vol[5];                 /* 5 10 20 50 100 of logret_1 */
    tt_zscore z_lret;
    tt_sma park, gk;
    tt_rsi rsi[3];
    tt_macd macd;
    tt_bbands bb20, bb50;
    tt_atr atr[3];
    tt_adx adx;
    tt_stoch st14, st5;
    tt_zscore zc[3];
    tt_sma sma[4];
    tt_ema ema[4];
    tt_donchian don20, don50;
    tt_sma range20, ticks20, spread20, volume20;
    tt_sma up10, up20, path10, path20;
    htf h[NHTF];
    const tt_news *news;            /* the release schedule (borrowed; NULL: NaN) */
    uint32_t ccy_a, ccy_b;          /* the symbol's currencies (tt_currency_code) */
    double full[NFEAT];
};

static const int LAG_OF[8] = {1, 2, 3, 5, 10, 20, 50, 100};
static const int VOL_N[5] = {5, 10, 20, 50, 100};
static const int RSI_N[3] = {7, 14, 28};
static const int ATR_N[3] = {7, 14, 28};
static const int ZC_N[3] = {20, 50, 100};
static const int MA_N[4] = {10, 20, 50, 100};

static void free_state(tt_features *f)
{
    for (int i = 0; i < 5; i++)
        tt_rstd_free(&f->vol[i]);
    tt_zscore_free(&f->z_lret);
    tt_sma_free(&f->park);
    tt_sma_free(&f->gk);
    tt_bbands_free(&f->bb20);
    tt_bbands_free(&f->bb50);
    tt_stoch_free(&f->st14);
    tt_stoch_free(&f->st5);
    for (int i = 0; i < 3; i++)
        tt_zscore_free(&f->zc[i]);
    for (int i = 0; i < 4; i++)
        tt_sma_free(&f->sma[i]);
    tt_donchian_free(&f->don20);
    tt_donchian_free(&f->don50);
    tt_sma_free(&f->range20);
    tt_sma_free(&f->ticks20);
    tt_sma_free(&f->spread20);
    tt_sma_free(&f->volume20);
    tt_sma_free(&f->up10);
    tt_sma_free(&f->up20);
    tt_sma_free(&f->path10);
    tt_sma_free(&f->path20);
    for (int k = 0; k < NHTF; k++)
        tt_bbands_free(&f->h[k].bb);
}

/* (Re)build every indicator. Windows are freed first, so this serves reset. */
static int init_state(tt_features *f, tt_err *err)
{
    free_state(f);
    int tf = f->tf, width = f->width, *sel = f->sel;
    const tt_news *news = f->news;
    uint32_t ccy_a = f->ccy_a, ccy_b = f->ccy_b;
    memset(f, 0, sizeof *f);
    f->tf = tf;
    f->width = width;
    f->sel = sel;
    f->news = news;
    f->ccy_a = ccy_a;
    f->ccy_b = ccy_b;
    f->last_close = TT_TS_MIN;
    f->spread_mean = f->spread_max = NAN;
    int rc = 0;
    for (int i = 0; i < 5 && !rc; i++)
        rc = tt_rstd_init(&f->vol[i], VOL_N[i], 1, err);
    for (int i = 0; i < 3 && !rc; i++)
        rc = tt_rsi_init(&f->rsi[i], RSI_N[i], err);
    for (int i = 0; i < 3 && !rc; i++)
        rc = tt_atr_init(&f->atr[i], ATR_N[i], err);
    for (int i = 0; i < 3 && !rc; i++)
        rc = tt_zscore_init(&f->zc[i], ZC_N[i], 1, err);
    for (int i = 0; i < 4 && !rc; i++)
        rc = tt_sma_init(&f->sma[i], MA_N[i], err);
    for (int i = 0; i < 4 && !rc; i++)
        rc = tt_ema_init(&f->ema[i], MA_N[i], err);
    if (!rc)
        rc = tt_zscore_init(&f->z_lret, 20, 1, err);
    if (!rc)
        rc = tt_sma_init(&f->park, 20, err);
    if (!rc)
        rc = tt_sma_init(&f->gk, 20, err);
    if (!rc)
        rc = tt_macd_init(&f->macd, 12, 26, 9, err);
    if (!rc)
        rc = tt_bbands_init(&f->bb20, 20, 2.0, err);
    if (!rc)
        rc = tt_bbands_init(&f->bb50, 50, 2.0, err);
    if (!rc)
        rc = tt_adx_init(&f->adx, 14, err);
    if (!rc)
        rc = tt_stoch_init(&f->st14, 14, 3, 3, err);
    if (!rc)
        rc = tt_stoch_init(&f->st5, 5, 1, 3, err);
    if (!rc)
        rc = tt_donchian_init(&f->don20, 20, err);
    if (!rc)
        rc = tt_donchian_init(&f->don50, 50, err);
    tt_sma *s20[] = {&f->range20, &f->ticks20, &f->spread20, &f->volume20, &f->up20, &f->path20};
    for (size_t i = 0; i < sizeof s20 / sizeof s20[0] && !rc; i++)
        rc = tt_sma_init(s20[i], 20, err);
    if (!rc)
        rc = tt_sma_init(&f->up10, 10, err);
    if (!rc)
        rc = tt_sma_init(&f->path10, 10, err);
    int64_t base_len = tt_timeframe_ns(tf);
    for (int k = 0; k < NHTF && !rc; k++) {
        htf *h = &f->h[k];
        h->tf = HTF_TF[k];
        h->valid = base_len > 0 && tt_timeframe_ns(h->tf) > base_len;
        rc = tt_rsi_init(&h->rsi, 14, err);
        if (!rc)
            rc = tt_atr_init(&h->atr, 14, err);
        if (!rc)
            rc = tt_bbands_init(&h->bb, 20, 2.0, err);
        if (!rc)
            rc = tt_adx_init(&h->adx, 14, err);
    }
    if (rc)
        tt_err_prefix(err, "features: ");
    return rc;
}

int tt_features_new(tt_features **out, int tf, const int *select, int nselect, tt_err *err)
{
    *out = NULL;
    if (tf <= TT_TF_NONE || tf >= TT_TF_COUNT || tt_timeframe_ns(tf) <= 0)
        return tt_err_set(err, TT_EINVAL,
                          "features: timeframe %d: needs a fixed-length timeframe (S1 .. W1)", tf);
    if (select && nselect <= 0)
        return tt_err_set(err, TT_EINVAL, "features: an empty feature list");
    int n = select ? nselect : NDEFAULT;
    tt_features *f = calloc(1, sizeof *f);
    int *sel = f ? malloc((size_t)n * sizeof *sel) : NULL;
    if (!f || !sel) {
        free(f);
        free(sel);
        return tt_err_set(err, TT_ENOMEM, "features: out of memory");
    }
    for (int i = 0; i < n; i++) {
        int k = select ? select[i] : i;
        if (k < 0 || k >= NFEAT) {
            free(f);
            free(sel);
            return tt_err_set(err, TT_EINVAL, "features: column %d: no catalog feature %d", i, k);
        }
        for (int j = 0; j < i; j++)
            if (sel[j] == k) {
                free(f);
                free(sel);
                return tt_err_set(err, TT_EINVAL, "features: '%s' is listed twice",
                                  tt_feature_name(k));
            }
        sel[i] = k;
    }
    f->tf = tf;
    f->width = n;
    f->sel = sel;
    int rc = init_state(f, err);
    if (rc) {
        tt_features_free(f);
        return rc;
    }
    *out = f;
    return TT_OK;
}

void tt_features_free(tt_features *f)
{
    if (!f)
        return;
    free_state(f);
    free(f->sel);
    free(f);
}

void tt_features_reset(tt_features *f) { init_state(f, NULL); }

void tt_features_set_news(tt_features *f, const tt_news *news, uint32_t ccy_a, uint32_t ccy_b)
{
    f->news = news;
    f->ccy_a = ccy_a;
    f->ccy_b = ccy_b;
}

int tt_features_width(const tt_features *f) { return f->width; }
int tt_features_tf(const tt_features *f) { return f->tf; }

int tt_features_index(const tt_features *f, int col)
{
    return col >= 0 && col < f->width ? f->sel[col] : -1;
}

void tt_features_quote(tt_features *f, const tt_quote *q)
{
    if (q->bid <= 0 || q->ask <= 0)
        return;
    double s = (double)(q->ask - q->bid);
    f->q_sum += s;
    if (f->q_n == 0 || s > f->q_max)
        f->q_max = s;
    f->q_n++;
}

/* ---- small helpers ---- */

static double ratio_or(double a, double b, double if_zero)
{
    if (isnan(a) || isnan(b))
        return NAN;
    return b == 0 ? if_zero : a / b;
}

/* (x - lo) / (hi - lo), 0.5 when hi == lo; NaN when anything is undefined. */
static double position(double x, double lo, double hi)
{
    if (isnan(lo) || isnan(hi) || isnan(x))
        return NAN;
    return hi > lo ? (x - lo) / (hi - lo) : 0.5;
}

static int64_t floor_div64(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- higher timeframes ---- */

static void htf_close(htf *h)
{
    tt_rsi_update(&h->rsi, h->c);
    tt_atr_update(&h->atr, h->h, h->l, h->c);
    tt_bbands_update(&h->bb, h->c);
    tt_adx_update(&h->adx, h->h, h->l, h->c);
    memmove(h->closes + 1, h->closes, 4 * sizeof h->closes[0]);
    h->closes[0] = h->c;
    h->last_h = h->h;
    h->last_l = h->l;
    h->nclosed++;
    h->active = 0;
}

/* Fold a closed base bar [open, close) into the higher bar it lies in, closing
 * the previous higher bar first when the base bar starts after it ended, and
 * this one when the base bar completes its period. */
static void htf_add(htf *h, tt_ts open, tt_ts close, double o, double hi, double lo, double c)
{
    if (h->active && open >= h->close_ts)
        htf_close(h);
    if (!h->active) {
        tt_bar_period(h->tf, open, &h->open_ts, &h->close_ts);
        h->active = 1;
        h->o = o;
        h->h = hi;
        h->l = lo;
    } else {
        h->h = hi > h->h ? hi : h->h;
        h->l = lo < h->l ? lo : h->l;
    }
    h->c = c;
    if (close >= h->close_ts)
        htf_close(h);
}

static void htf_row(const htf *h, double c, double *out)
{
    for (int i = 0; i < HTF_W; i++)
        out[i] = NAN;
    if (!h->valid || h->nclosed == 0)
        return;
    const double *cl = h->closes;
    out[0] = h->nclosed >= 2 ? cl[0] / cl[1] - 1 : NAN;
    out[1] = h->nclosed >= 5 ? cl[0] / cl[4] - 1 : NAN;
    out[2] = tt_rsi_value(&h->rsi);
    out[3] = tt_atr_value(&h->atr) / cl[0];
    out[4] = c / tt_bbands_middle(&h->bb) - 1;
    out[5] = position(c, tt_bbands_lower(&h->bb), tt_bbands_upper(&h->bb));
    out[6] = tt_adx_value(&h->adx);
    out[7] = position(c, h->last_l, h->last_h);
}

/* ---- one bar ---- */

/* Price-path features: returns, volatility, oscillators, averages. */
static void bar_prices(tt_features *f, double o, double hi, double lo, double c, double *x)
{
    int64_t t = f->nbars; /* bars before this one */
    f->closes[t % LAGS] = c;
    for (int i = 0; i < 8; i++) {
        int k = LAG_OF[i];
        double past = t >= k ? f->closes[(t - k) % LAGS] : NAN;
        x[F_RET_1 + i] = c / past - 1;
        x[F_LRET_1 + i] = log(c / past);
    }
    double lr = x[F_LRET_1];
    if (t >= 1) {
        for (int i = 0; i < 5; i++)
            tt_rstd_update(&f->vol[i], lr);
        tt_zscore_update(&f->z_lret, lr);
        double up = c > f->prev_close ? 1.0 : 0.0, path = fabs(c - f->prev_close);
        tt_sma_update(&f->up10, up);
        tt_sma_update(&f->up20, up);
        tt_sma_update(&f->path10, path);
        tt_sma_update(&f->path20, path);
    }
    for (int i = 0; i < 5; i++)
        x[F_VOL_5 + i] = tt_rstd_value(&f->vol[i]);
    double hl = log(hi / lo), co = log(c / o);
    tt_sma_update(&f->park, hl * hl);
    tt_sma_update(&f->gk, 0.5 * hl * hl - (2.0 * log(2.0) - 1.0) * co * co);
    x[F_VOL_PARK_20] = sqrt(tt_sma_value(&f->park) / (4.0 * log(2.0)));
    x[F_VOL_GK_20] = sqrt(tt_sma_value(&f->gk));
    x[F_VOL_RATIO_5_50] = ratio_or(x[F_VOL_5], x[F_VOL_50], 1.0);
    x[F_VOL_RATIO_20_100] = ratio_or(x[F_VOL_20], x[F_VOL_100], 1.0);
    x[F_Z_LRET_20] = tt_zscore_value(&f->z_lret);
    for (int i = 0; i < 3; i++) {
        x[F_RSI_7 + i] = tt_rsi_update(&f->rsi[i], c);
        x[F_ATR_7 + i] = tt_atr_update(&f->atr[i], hi, lo, c) / c;
        x[F_Z_CLOSE_20 + i] = tt_zscore_update(&f->zc[i], c);
    }
    tt_macd_update(&f->macd, c);
    int mr = tt_macd_ready(&f->macd);
    x[F_MACD] = mr ? tt_macd_value(&f->macd) / c : NAN;
    x[F_MACD_SIGNAL] = mr ? tt_macd_signal(&f->macd) / c : NAN;
    x[F_MACD_HIST] = mr ? tt_macd_hist(&f->macd) / c : NAN;
    tt_bbands_update(&f->bb20, c);
    tt_bbands_update(&f->bb50, c);
    x[F_BB_PCTB_20] = position(c, tt_bbands_lower(&f->bb20), tt_bbands_upper(&f->bb20));
    x[F_BB_WIDTH_20] = (tt_bbands_upper(&f->bb20) - tt_bbands_lower(&f->bb20)) /
                       tt_bbands_middle(&f->bb20);
    x[F_BB_PCTB_50] = position(c, tt_bbands_lower(&f->bb50), tt_bbands_upper(&f->bb50));
    x[F_ADX_14] = tt_adx_update(&f->adx, hi, lo, c);
    x[F_PDI_14] = tt_adx_plus_di(&f->adx);
    x[F_MDI_14] = tt_adx_minus_di(&f->adx);
    tt_stoch_update(&f->st14, hi, lo, c);
    tt_stoch_update(&f->st5, hi, lo, c);
    x[F_STOCH_K_14] = tt_stoch_k(&f->st14);
    x[F_STOCH_D_14] = tt_stoch_d(&f->st14);
    x[F_STOCH_K_5] = tt_stoch_k(&f->st5);
    x[F_STOCH_D_5] = tt_stoch_d(&f->st5);
    double sma[4];
    for (int i = 0; i < 4; i++) {
        sma[i] = tt_sma_update(&f->sma[i], c);
        double e = tt_ema_update(&f->ema[i], c);
        x[F_DIST_SMA_10 + i] = c / sma[i] - 1;
        x[F_DIST_EMA_10 + i] = tt_ema_ready(&f->ema[i]) ? c / e - 1 : NAN;
    }
    x[F_SMA_RATIO_10_50] = sma[0] / sma[2] - 1;
    x[F_SMA_RATIO_20_100] = sma[1] / sma[3] - 1;
    tt_donchian_update(&f->don20, hi, lo);
    tt_donchian_update(&f->don50, hi, lo);
    x[F_DON_POS_20] = position(c, tt_donchian_lower(&f->don20), tt_donchian_upper(&f->don20));
    x[F_DON_POS_50] = position(c, tt_donchian_lower(&f->don50), tt_donchian_upper(&f->don50));
    x[F_DON_WIDTH_20] = (tt_donchian_upper(&f->don20) - tt_donchian_lower(&f->don20)) / c;
    x[F_UP_FRAC_10] = tt_sma_value(&f->up10);
    x[F_UP_FRAC_20] = tt_sma_value(&f->up20);
    double p10 = t >= 10 ? f->closes[(t - 10) % LAGS] : NAN;
    double p20 = t >= 20 ? f->closes[(t - 20) % LAGS] : NAN;
    x[F_EFF_10] = ratio_or(fabs(c - p10), 10.0 * tt_sma_value(&f->path10), 0.0);
    x[F_EFF_20] = ratio_or(fabs(c - p20), 20.0 * tt_sma_value(&f->path20), 0.0);
}

/* The bar's own shape, activity and time. */
static void bar_shape(tt_features *f, const tt_event *bar, double o, double hi, double lo,
                      double c, double *x)
{
    double range = hi - lo;
    x[F_BODY_RATIO] = range > 0 ? (c - o) / range : 0;
    x[F_UPPER_WICK] = range > 0 ? (hi - (o > c ? o : c)) / range : 0;
    x[F_LOWER_WICK] = range > 0 ? ((o < c ? o : c) - lo) / range : 0;
    x[F_RANGE_REL] = range / c;
    x[F_CLOSE_POS] = position(c, lo, hi);
    x[F_GAP_REL] = f->nbars ? o / f->prev_close - 1 : NAN;
    x[F_BODY_REL] = c / o - 1;
    x[F_RANGE_RATIO_20] = ratio_or(x[F_RANGE_REL], tt_sma_update(&f->range20, x[F_RANGE_REL]), 1);
    double ticks = (double)bar->u.bar.ticks, vol = bar->u.bar.volume;
    x[F_TICKS] = ticks;
    x[F_TICKS_RATIO_20] = ratio_or(ticks, tt_sma_update(&f->ticks20, ticks), 1.0);
    x[F_VOLUME_RATIO_20] = ratio_or(vol, tt_sma_update(&f->volume20, vol), 1.0);
    if (f->q_n) {
        f->spread_mean = f->q_sum / (double)f->q_n;
        f->spread_max = f->q_max;
    }
    f->q_sum = f->q_max = 0;
    f->q_n = 0;
    x[F_SPREAD_REL] = f->spread_mean / c;
    x[F_SPREAD_MAX_REL] = f->spread_max / c;
    x[F_SPREAD_RATIO_20] = isnan(f->spread_mean)
                               ? NAN
                               : ratio_or(f->spread_mean,
                                          tt_sma_update(&f->spread20, f->spread_mean), 1.0);
    tt_ts day = floor_div64(bar->ts, TT_NS_PER_DAY);
    tt_ts in_day = bar->ts - day * TT_NS_PER_DAY;
    double frac = (double)in_day / (double)TT_NS_PER_DAY;
    int dow = (int)((day + 3) % 7 + 7) % 7; /* 1970-01-01 was a Thursday (3, Monday = 0) */
    x[F_HOUR_SIN] = sin(2.0 * M_PI * frac);
    x[F_HOUR_COS] = cos(2.0 * M_PI * frac);
    x[F_DOW_SIN] = sin(2.0 * M_PI * dow / 7.0);
    x[F_DOW_COS] = cos(2.0 * M_PI * dow / 7.0);
    int hour = (int)(in_day / TT_NS_PER_HOUR);
    x[F_SESS_SYDNEY] = hour >= 21 || hour < 6;
    x[F_SESS_TOKYO] = hour < 9;
    x[F_SESS_LONDON] = hour >= 7 && hour < 16;
    x[F_SESS_NEWYORK] = hour >= 12 && hour < 21;
    x[F_SESS_LDN_NY] = hour >= 12 && hour < 16;
}

/* The news group at the bar's close T: only the schedule's (time, currency,
 * impact) enter, never a released figure; an event at T counts as past; a
 * release more than TT_FEATURES_NEWS_AHEAD ahead is not known yet (NaN). */
static void news_row(const tt_features *f, tt_ts close_ts, double *x)
{
    static const int IMPACT[2] = {TT_IMPACT_HIGH, TT_IMPACT_MEDIUM};
    for (int k = 0; k < 2; k++) {
        tt_ts at;
        double *nx = x + F_NEWS_HIGH_NEXT + 2 * k;
        nx[0] = nx[1] = NAN;
        if (!f->news)
            continue;
        if (tt_news_next(f->news, close_ts, f->ccy_a, f->ccy_b, IMPACT[k], &at) &&
            at - close_ts <= TT_FEATURES_NEWS_AHEAD)
            nx[0] = (double)(at - close_ts) / (double)TT_NS_PER_MIN;
        if (tt_news_prev(f->news, close_ts, f->ccy_a, f->ccy_b, IMPACT[k], &at))
            nx[1] = (double)(close_ts - at) / (double)TT_NS_PER_MIN;
    }
}

int tt_features_bar(tt_features *f, const tt_event *bar, double *row, tt_err *err)
{
    if (bar->kind != TT_EV_BAR || bar->u.bar.tf != f->tf)
        return tt_err_set(err, TT_EINVAL, "features: a %s bar given to a %s feature engine",
                          bar->kind == TT_EV_BAR ? tt_timeframe_name(bar->u.bar.tf) : "non-bar",
                          tt_timeframe_name(f->tf));
    if (bar->ts < f->last_close)
        return tt_err_set(err, TT_EORDER,
                          "features: bar opening at %lld ns is before the previous close %lld ns",
                          (long long)bar->ts, (long long)f->last_close);
    double o = (double)bar->u.bar.open, hi = (double)bar->u.bar.high;
    double lo = (double)bar->u.bar.low, c = (double)bar->u.bar.close;
    tt_ts close_ts = bar->ts_init > bar->ts ? bar->ts_init : bar->ts + tt_timeframe_ns(f->tf);
    double *x = f->full;
    bar_prices(f, o, hi, lo, c, x);
    bar_shape(f, bar, o, hi, lo, c, x);
    for (int k = 0; k < NHTF; k++) {
        if (f->h[k].valid)
            htf_add(&f->h[k], bar->ts, close_ts, o, hi, lo, c);
        htf_row(&f->h[k], c, x + F_HTF + k * HTF_W);
    }
    news_row(f, close_ts, x);
    f->prev_close = c;
    f->nbars++;
    f->last_close = close_ts;
    for (int i = 0; i < f->width; i++)
        row[i] = x[f->sel[i]];
    return TT_OK;
}

/* ---- labels ---- */

const char *tt_label_kind_name(int kind)
{
    switch (kind) {
    case TT_LABEL_FORWARD_RETURN: return "forward_return";
    case TT_LABEL_SIGN: return "sign";
    case TT_LABEL_TRIPLE_BARRIER: return "triple_barrier";
    default: return "?";
    }
}

int tt_label_kind_parse(const char *s)
{
    for (int k = TT_LABEL_FORWARD_RETURN; s && k <= TT_LABEL_TRIPLE_BARRIER; k++)
        if (!strcmp(s, tt_label_kind_name(k)))
            return k;
    return 0;
}

int tt_label_check(const tt_label_spec *s, tt_err *err)
{
    if (s->kind < TT_LABEL_FORWARD_RETURN || s->kind > TT_LABEL_TRIPLE_BARRIER)
        return tt_err_set(err, TT_EINVAL,
                          "label.kind: forward_return, sign or triple_barrier (got %d)", s->kind);
    if (s->horizon < 1 || s->horizon > 1000000)
        return tt_err_set(err, TT_EINVAL, "label.horizon: 1 .. 1000000 bars, got %d", s->horizon);
    if (s->kind == TT_LABEL_SIGN && !(s->dead_zone >= 0 && isfinite(s->dead_zone)))
        return tt_err_set(err, TT_EINVAL, "label.dead_zone: a return >= 0, got %g", s->dead_zone);
    if (s->kind == TT_LABEL_TRIPLE_BARRIER &&
        !(s->tp > 0 && s->sl > 0 && isfinite(s->tp) && isfinite(s->sl)))
        return tt_err_set(err, TT_EINVAL, "label.tp and label.sl: returns > 0, got %g and %g",
                          s->tp, s->sl);
    return TT_OK;
}

static double barrier(const tt_label_spec *s, const double *high, const double *low, size_t t,
                      double c)
{
    double up = c * (1.0 + s->tp), dn = c * (1.0 - s->sl);
    for (size_t j = t + 1; j <= t + (size_t)s->horizon; j++) {
        if (low[j] <= dn)
            return -1.0; /* also when the take profit was touched in the same bar */
        if (high[j] >= up)
            return 1.0;
    }
    return 0.0;
}

int tt_labels_compute(const tt_label_spec *s, const double *close, const double *high,
                      const double *low, size_t n, double *out, tt_err *err)
{
    int rc = tt_label_check(s, err);
    if (rc)
        return rc;
    size_t h = (size_t)s->horizon;
    for (size_t t = 0; t < n; t++) {
        if (t + h >= n) {
            out[t] = NAN;
            continue;
        }
        double r = close[t + h] / close[t] - 1;
        switch (s->kind) {
        case TT_LABEL_FORWARD_RETURN: out[t] = r; break;
        case TT_LABEL_SIGN: out[t] = r > s->dead_zone ? 1.0 : r < -s->dead_zone ? -1.0 : 0.0; break;
        default: out[t] = barrier(s, high, low, t, close[t]); break;
        }
    }
    return TT_OK;
}
