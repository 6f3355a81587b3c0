/*
 * ticktape: streaming technical indicators.
 *
 * Each indicator is a small plain struct with
 *     tt_<ind>_init(x, params..., err)   allocate its window (once) and reset;
 *                                        0, TT_EINVAL (bad parameter, named) or TT_ENOMEM
 *     tt_<ind>_update(x, inputs...)      one new observation, O(1); returns the main value
 *     tt_<ind>_value(x) (and accessors)  the current value(s)
 *     tt_<ind>_ready(x)                  1 once the warm-up is over
 *     tt_<ind>_free(x)                   release the window (safe on a zeroed struct)
 * Updates never allocate. Values read before ready are NAN unless stated. Only
 * init can fail (TT_ENOMEM only for those that keep a window: SMA, WMA, rolling
 * std, z-score, Bollinger, Stochastic, Donchian); update, the accessors, ready
 * and free cannot.
 *
 * Inputs are doubles. Prices may be passed in points (a tt_price converted to
 * double is exact below 2^53) or in price units: every indicator here is
 * scale-equivariant (RSI, Stochastic, ADX are scale-free), so both give the same
 * result up to the scale.
 *
 * Definitions (docs/indicators.md writes out the formulas; each one is checked
 * against pandas to 1e-9 in tests/core/test_indicators.c):
 *   SMA(n)         rolling mean of the last n values; ready after n.
 *   EMA(n)         alpha = 2/(n+1), e_0 = x_0 (seeded with the first value),
 *                  e_t = e_{t-1} + alpha (x_t - e_{t-1}); pandas ewm(span=n, adjust=False).
 *                  Defined from the first value; ready after n values.
 *   WMA(n)         weights 1..n, the newest value weighs n; ready after n.
 *   rolling std(n, ddof)  sqrt(sum (x - mean)^2 / (n - ddof)); ddof 1 = sample (pandas'
 *                  default), 0 = population; ready after n.
 *   z-score(n, ddof)  (x_t - mean_n) / std_n, the current value included in the
 *                  window; 0 when std is 0.
 *   Bollinger(n, k)  middle = SMA(n), upper/lower = middle +- k * POPULATION std
 *                  (ddof 0, as John Bollinger and TA-Lib define it).
 *   RSI(n)         Wilder: gains/losses of x_t - x_{t-1}; the first averages are the
 *                  simple means of the first n gains/losses, then
 *                  avg_t = avg_{t-1} + (g_t - avg_{t-1}) / n. RSI = 100 - 100/(1 + G/L);
 *                  100 when L = 0 < G, 50 when both are 0. Ready after n + 1 values.
 *   ATR(n)         Wilder: TR_t = max(h - l, |h - c_{t-1}|, |l - c_{t-1}|) from the second
 *                  bar on; ATR = mean of the first n TRs, then Wilder smoothing (as RSI).
 *                  Ready after n + 1 bars (TA-Lib's convention).
 *   MACD(f, s, g)  macd = EMA_f - EMA_s, signal = EMA_g(macd), hist = macd - signal, all
 *                  EMAs as above (seeded with their first input), so defined from the
 *                  first value like EMA; ready after s + g - 1.
 *   Stochastic(n, smooth, d)  raw %K = 100 (c - LL_n) / (HH_n - LL_n) over the last n
 *                  bars' lows and highs (50 when HH = LL); %K = SMA_smooth(raw %K)
 *                  (smooth 1 = fast stochastic); %D = SMA_d(%K).
 *   ADX(n)         Wilder: +DM = up if up > down and up > 0 (up = h - h_{t-1},
 *                  down = l_{t-1} - l), -DM symmetric; TR as ATR; TR, +DM, -DM smoothed
 *                  like ATR (seeded by the mean of the first n, from the second bar);
 *                  +DI = 100 sm(+DM)/sm(TR), -DI likewise; DX = 100 |+DI - -DI| / (+DI + -DI)
 *                  (0 when both are 0); ADX = mean of the first n DX, then Wilder smoothing.
 *                  DIs ready after n + 1 bars, ADX after 2n bars (TA-Lib's convention).
 *   Donchian(n)    upper = highest high, lower = lowest low of the last n bars (the
 *                  current one included), middle = (upper + lower) / 2.
 *   VWAP(anchor)   sum(price * volume) / sum(volume) since the start of the anchor
 *                  period containing the observation (anchor D1 = UTC day, any
 *                  timeframe of core/bars.h); anchor TT_TF_NONE = cumulative since the
 *                  first observation. Not ready (NAN) until the period has volume > 0.
 *
 * Numerical drift. Rolling sums are updated incrementally (add the new value,
 * subtract the one leaving the window) and, every n updates, re-summed from the
 * ring buffer with Neumaier compensation, so rounding error never accumulates over
 * more than one window on runs of any length. That costs O(n) once per n updates:
 * O(1) amortized. The rolling variance sums deviations from a shift (the window
 * mean at the last re-sum) to avoid the cancellation of sum(x^2) - sum(x)^2/n;
 * a window of n equal values has variance exactly 0 and mean exactly that value
 * (as in pandas), so a z-score over a flat stretch is 0, never rounding noise.
 * Rolling max/min use van Herk / Gil-Werman blocks (two comparisons per update
 * plus one O(n) suffix pass per n updates: O(1) amortized, branch-free, exact).
 * VWAP sums use Neumaier compensation.
 */
#ifndef TT_INDICATORS_H
#define TT_INDICATORS_H

#include <stdint.h>

#include "error.h"
#include "event.h"

/* ---- building blocks (fields private) ---- */

/* The last n values, oldest first at `pos` once full. */
typedef struct tt_window {
    double *v;
    int n, count, pos;
} tt_window;

/* Rolling max or min of the last n values (van Herk / Gil-Werman blocks). */
typedef struct tt_rollext {
    double *buf;  /* the current block of n values (sign-adjusted) */
    double *suf;  /* suffix maxima of the previous block */
    double run;   /* prefix maximum of the current block */
    double cur;   /* the latest result */
    double sign;  /* +1 for max, -1 for min (min(x) = -max(-x), exact) */
    int n, pos;
    int64_t t;    /* values seen */
} tt_rollext;

/* ---- SMA ---- */
typedef struct tt_sma {
    tt_window w;
    double sum;
    int since_resum;
} tt_sma;
int tt_sma_init(tt_sma *s, int n, tt_err *err);
double tt_sma_update(tt_sma *s, double x);
double tt_sma_value(const tt_sma *s);
int tt_sma_ready(const tt_sma *s);
void tt_sma_free(tt_sma *s);

/* ---- EMA ---- */
typedef struct tt_ema {
    double alpha, value;
    int n;
    int64_t count;
} tt_ema;
int tt_ema_init(tt_ema *s, int n, tt_err *err); /* alpha = 2/(n+1) */
/* Any smoothing factor 0 < alpha <= 1 (Wilder: 1/n); ready after `warmup` values. */
int tt_ema_init_alpha(tt_ema *s, double alpha, int warmup, tt_err *err);
double tt_ema_update(tt_ema *s, double x);
double tt_ema_value(const tt_ema *s); /* NAN before the first value */
int tt_ema_ready(const tt_ema *s);
void tt_ema_free(tt_ema *s); /* nothing to release; for symmetry */

/* ---- WMA ---- */
typedef struct tt_wma {
    tt_window w;
    double sum, wsum;
    int since_resum;
} tt_wma;
int tt_wma_init(tt_wma *s, int n, tt_err *err);
double tt_wma_update(tt_wma *s, double x);
double tt_wma_value(const tt_wma *s);
int tt_wma_ready(const tt_wma *s);
void tt_wma_free(tt_wma *s);

/* ---- rolling standard deviation ---- */
typedef struct tt_rstd {
    tt_window w;
    double shift, s1, s2; /* sums of (x - shift) and (x - shift)^2 over the window */
    double last;          /* the latest value, and how many times in a row it came: */
    int64_t same;         /* a window of equal values has variance exactly 0 */
    double mean, var, sd; /* as of the latest update (NAN before ready) */
    int ddof, since_resum;
} tt_rstd;
int tt_rstd_init(tt_rstd *s, int n, int ddof, tt_err *err); /* ddof 0 or 1, n > ddof */
double tt_rstd_update(tt_rstd *s, double x);                 /* returns the std */
double tt_rstd_value(const tt_rstd *s);
double tt_rstd_mean(const tt_rstd *s);
double tt_rstd_var(const tt_rstd *s);
int tt_rstd_ready(const tt_rstd *s);
void tt_rstd_free(tt_rstd *s);

/* ---- rolling z-score ---- */
typedef struct tt_zscore {
    tt_rstd s;
    double z;
} tt_zscore;
int tt_zscore_init(tt_zscore *z, int n, int ddof, tt_err *err);
double tt_zscore_update(tt_zscore *z, double x);
double tt_zscore_value(const tt_zscore *z);
int tt_zscore_ready(const tt_zscore *z);
void tt_zscore_free(tt_zscore *z);

/* ---- Bollinger bands ---- */
typedef struct tt_bbands {
    tt_rstd s;
    double k;
} tt_bbands;
int tt_bbands_init(tt_bbands *b, int n, double k, tt_err *err);
double tt_bbands_update(tt_bbands *b, double x); /* returns the middle band */
double tt_bbands_middle(const tt_bbands *b);
double tt_bbands_upper(const tt_bbands *b);
double tt_bbands_lower(const tt_bbands *b);
int tt_bbands_ready(const tt_bbands *b);
void tt_bbands_free(tt_bbands *b);

/* ---- RSI (Wilder) ---- */
typedef struct tt_rsi {
    int n;
    int64_t count; /* values seen */
    double prev, avg_gain, avg_loss, value;
} tt_rsi;
int tt_rsi_init(tt_rsi *s, int n, tt_err *err);
double tt_rsi_update(tt_rsi *s, double x);
double tt_rsi_value(const tt_rsi *s);
int tt_rsi_ready(const tt_rsi *s);
void tt_rsi_free(tt_rsi *s);

/* ---- ATR (Wilder) ---- */
typedef struct tt_atr {
    int n;
    int64_t count; /* bars seen */
    double prev_close, atr;
} tt_atr;
int tt_atr_init(tt_atr *s, int n, tt_err *err);
double tt_atr_update(tt_atr *s, double high, double low, double close);
double tt_atr_value(const tt_atr *s);
int tt_atr_ready(const tt_atr *s);
void tt_atr_free(tt_atr *s);

/* ---- MACD ---- */
typedef struct tt_macd {
    tt_ema fast, slow, signal;
    int64_t count;
    int warmup;
    double macd;
} tt_macd;
int tt_macd_init(tt_macd *m, int fast, int slow, int signal, tt_err *err); /* 12, 26, 9 */
double tt_macd_update(tt_macd *m, double x); /* returns the MACD line */
double tt_macd_value(const tt_macd *m);
double tt_macd_signal(const tt_macd *m);
double tt_macd_hist(const tt_macd *m);
int tt_macd_ready(const tt_macd *m);
void tt_macd_free(tt_macd *m);

/* ---- Stochastic oscillator ---- */
typedef struct tt_stoch {
    tt_rollext hh, ll;
    tt_sma ksm, d;
    double raw;
} tt_stoch;
int tt_stoch_init(tt_stoch *s, int n, int smooth, int d, tt_err *err); /* 14, 1 or 3, 3 */
double tt_stoch_update(tt_stoch *s, double high, double low, double close); /* returns %K */
double tt_stoch_k(const tt_stoch *s);
double tt_stoch_d(const tt_stoch *s);
int tt_stoch_ready(const tt_stoch *s); /* %D defined */
void tt_stoch_free(tt_stoch *s);

/* ---- ADX (Wilder) ---- */
typedef struct tt_adx {
    int n;
    int64_t count; /* bars seen */
    double prev_high, prev_low, prev_close;
    double tr, pdm, mdm;  /* Wilder averages (sums while seeding) */
    double dx_sum, adx, pdi, mdi;
} tt_adx;
int tt_adx_init(tt_adx *s, int n, tt_err *err);
double tt_adx_update(tt_adx *s, double high, double low, double close); /* returns ADX */
double tt_adx_value(const tt_adx *s);
double tt_adx_plus_di(const tt_adx *s);
double tt_adx_minus_di(const tt_adx *s);
int tt_adx_ready(const tt_adx *s);
void tt_adx_free(tt_adx *s);

/* ---- Donchian channel ---- */
typedef struct tt_donchian {
    tt_rollext hh, ll;
} tt_donchian;
int tt_donchian_init(tt_donchian *s, int n, tt_err *err);
double tt_donchian_update(tt_donchian *s, double high, double low); /* returns the middle */
double tt_donchian_upper(const tt_donchian *s);
double tt_donchian_lower(const tt_donchian *s);
double tt_donchian_middle(const tt_donchian *s);
int tt_donchian_ready(const tt_donchian *s);
void tt_donchian_free(tt_donchian *s);

/* ---- VWAP ---- */
typedef struct tt_vwap {
    int anchor; /* enum tt_timeframe, TT_TF_NONE = cumulative */
    tt_ts period_close;
    double pv, pv_c, vol, vol_c; /* Neumaier sums and their compensations */
    double value;
} tt_vwap;
int tt_vwap_init(tt_vwap *s, int anchor_tf, tt_err *err);
/* ts: the observation's time (for anchored VWAP; a bar's open time for bars), in
 * non-decreasing order. price: e.g. a bar's typical price (h + l + c) / 3. */
double tt_vwap_update(tt_vwap *s, tt_ts ts, double price, double volume);
double tt_vwap_value(const tt_vwap *s);
int tt_vwap_ready(const tt_vwap *s);
void tt_vwap_free(tt_vwap *s);

#endif
