/*
 * ticktape: performance metrics of a run.
 *
 * Two plain record types describe what a run did, and everything else is
 * computed from them:
 *
 *   - tt_trade_record: one closed round trip (a position opened and closed,
 *     or the part of it that was closed), in the order trades were closed;
 *   - tt_equity_point: the account at one instant (balance, equity, margin,
 *     exposure, net position), in time order.
 *
 * The backtest (sim/backtest.h) fills arrays of both; reports/ draws them.
 * tt_metrics_compute() turns them into the figures of docs/metrics.md: total
 * return, CAGR, annualized volatility, Sharpe, Sortino, Calmar, max drawdown
 * (depth and duration), win rate, profit factor, expectancy, average win and
 * loss, trade count, time in market, commissions and swaps.
 *
 * For runs too long to keep every equity point, tt_metrics_acc computes the
 * same figures in one pass with memory that grows only with the number of
 * calendar days (for the daily returns), never with the number of points.
 * tt_metrics_compute() is that accumulator fed from arrays, so both give the
 * same bits.
 *
 * Money is integer minor units of the account currency; ratios and
 * statistics are doubles computed in a fixed order (no data-dependent
 * reordering, no parallel reduction), so the same inputs give the same bits.
 *
 * Conventions (docs/metrics.md has the formulas):
 *   - the annualised figures (CAGR, volatility, Sharpe, Sortino, Calmar) need
 *     enough data to mean anything: a span of at least min_days calendar days
 *     (30 by default) and at least min_returns daily returns (20). Below that
 *     they are NaN (n/a in text, null in JSON) and `annualized` is 0; the
 *     per-trade figures (trade_stdev, trade_sharpe, sqn) stand in;
 *   - percent: every *_pct field is the fraction next to it times 100, so
 *     that printed tables never mix the two (the research figure table names
 *     the percent fields);
 *   - returns are simple returns of equity; the daily series takes the last
 *     equity point of each UTC calendar day that has at least one point, the
 *     first day's return is against the initial balance;
 *   - annualization multiplies by sqrt(periods_per_year), 252 by default;
 *   - the risk-free rate is an annual rate, 0 by default, spread evenly over
 *     periods_per_year;
 *   - drawdown is measured on every equity point (not only day ends).
 */
#ifndef TT_METRICS_H
#define TT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"

/* One closed trade. Sign conventions: pnl is the gross result of the price
 * move (positive = profit); commission is what was paid (positive = cost);
 * swap is what was credited (negative = paid); net = pnl - commission + swap. */
typedef struct tt_trade_record {
    uint64_t id;            /* 1, 2, ... in close order */
    uint32_t symbol;        /* instrument id (tt_instruments) */
    int8_t side;            /* TT_BUY (+1, long) or TT_SELL (-1, short) */
    uint8_t close_reason;   /* enum tt_trade_close_reason */
    uint16_t reserved;
    int64_t qty;            /* closed volume, same units as tt_order_cmd.qty, > 0 */
    tt_ts open_ts;          /* fill time of the opening order */
    tt_price open_price;    /* average entry price, instrument points */
    tt_ts close_ts;         /* fill time of the closing order */
    tt_price close_price;   /* average exit price, instrument points */
    tt_money pnl;           /* gross, account minor units */
    tt_money commission;    /* paid on entry and exit for this volume */
    tt_money swap;          /* credited (negative = paid) while held */
    tt_money net;           /* pnl - commission + swap */
    uint64_t open_order;    /* client id of the opening order (0 = unknown) */
    uint64_t close_order;   /* client id of the closing order (0 = unknown) */
    tt_price mae_points;    /* max adverse excursion in points (0 = not tracked) */
    tt_price mfe_points;    /* max favourable excursion in points (0 = not tracked) */
} tt_trade_record;

enum tt_trade_close_reason {
    TT_CLOSE_SIGNAL = 0,      /* the strategy closed or reversed it */
    TT_CLOSE_STOP_LOSS = 1,
    TT_CLOSE_TAKE_PROFIT = 2,
    TT_CLOSE_STOP_OUT = 3,    /* margin stop-out */
    TT_CLOSE_RISK = 4,        /* risk gate / kill switch flattened it */
    TT_CLOSE_END = 5          /* still open at the end of the run, marked to market */
};

/* "signal", "stop_loss", "take_profit", "stop_out", "risk", "end"; "unknown" for
 * any other value. Cannot fail. */
const char *tt_trade_close_reason_name(int reason);

/* The account at one instant. */
typedef struct tt_equity_point {
    tt_ts ts;
    tt_money balance;  /* realized: initial + closed P&L - commissions + swaps */
    tt_money equity;   /* balance + unrealized P&L of open positions */
    tt_money margin;   /* margin in use */
    tt_money exposure; /* gross notional of open positions, account minor units (>= 0) */
    int64_t position;  /* net signed volume summed over symbols (tt_order_cmd.qty units) */
} tt_equity_point;

/* The minimum-data rule's defaults (see the conventions above). */
#define TT_METRICS_MIN_DAYS 30
#define TT_METRICS_MIN_RETURNS 20

typedef struct tt_metrics_opts {
    int periods_per_year; /* annualization of daily figures; 0 = 252 */
    double risk_free;     /* annual risk-free rate as a fraction (0.02 = 2%); default 0 */
    int min_days;         /* annualised figures need this span in days; 0 = 30, < 0 = none */
    int min_returns;      /* ... and this many daily returns; 0 = 20, < 0 = none */
} tt_metrics_opts;

/* The figures. Fractions are fractions (0.05 = 5%), not percent, except the
 * *_pct fields which are percent. Money is minor units. A figure that is not
 * defined for the run (Sharpe with fewer than two days, profit factor with no
 * losing trade) is NaN or +inf as stated; writers print such values as null. */
typedef struct tt_metrics {
    /* account */
    tt_money initial_balance;
    tt_money final_balance;
    tt_money final_equity;
    tt_money net_pnl;          /* final_equity - initial_balance */
    tt_money commissions;      /* sum of trade commissions (>= 0 = paid) */
    tt_money swaps;            /* sum of trade swaps (negative = paid) */
    tt_money peak_equity;
    tt_money max_drawdown;     /* deepest peak-to-trough fall of equity (>= 0) */
    double total_return;       /* final_equity / initial_balance - 1 */
    double return_pct;         /* total_return * 100 */
    double cagr;               /* (1 + total_return)^(1/years) - 1; NaN if years <= 0 or
                                * below the minimum-data rule (as the four below) */
    double cagr_pct;           /* cagr * 100 */
    double years;              /* (last ts - first ts) / 365.25 days */
    double ann_volatility;     /* sample stdev of daily returns * sqrt(ppy); NaN if < 2 days */
    double ann_volatility_pct; /* ann_volatility * 100 */
    double sharpe;             /* mean(excess daily) / stdev(daily) * sqrt(ppy); NaN if undefined */
    double sortino;            /* mean(excess daily) / downside dev * sqrt(ppy); NaN if undefined */
    double calmar;             /* cagr / max_drawdown_frac; NaN if no drawdown or no cagr */
    double max_drawdown_frac;  /* deepest fall as a fraction of the running peak */
    double max_drawdown_pct;   /* max_drawdown_frac * 100 */
    tt_ts max_dd_duration;     /* longest time below a previous peak, ns */
    tt_ts max_dd_peak_ts;      /* when the deepest drawdown's peak was */
    tt_ts max_dd_trough_ts;    /* when its trough was */
    double time_in_market;     /* fraction of [first, last] ts with a non-zero position */
    double time_in_market_pct; /* time_in_market * 100 */
    uint32_t days;             /* number of daily returns */
    uint32_t periods_per_year; /* the annualization used */
    int annualized;            /* 1: the minimum-data rule held and the annualised figures
                                * are computed; 0: they are NaN */
    int32_t min_days, min_returns; /* the rule applied (0: no minimum) */
    /* trades */
    uint64_t trades, wins, losses, long_trades, short_trades;
    double win_rate;           /* wins / trades; NaN with no trades */
    double win_rate_pct;       /* win_rate * 100 */
    tt_money gross_profit;     /* sum of net over winning trades */
    tt_money gross_loss;       /* sum of net over losing trades (<= 0) */
    double profit_factor;      /* gross_profit / -gross_loss; +inf if no loss and a profit, NaN if neither */
    double expectancy;         /* mean net per trade, minor units; NaN with no trades */
    double avg_win;            /* mean net of winners; NaN with none */
    double avg_loss;           /* mean net of losers (<= 0); NaN with none */
    tt_money largest_win, largest_loss;
    /* per trade: defined for runs of any length (they stand in for the
     * annualised figures on short runs) */
    double trade_stdev;        /* sample stdev of net per trade, minor units; NaN < 2 trades */
    double trade_sharpe;       /* expectancy / trade_stdev; NaN < 2 trades or stdev 0 */
    double sqn;                /* sqrt(trades) * trade_sharpe (system quality number) */
    tt_ts avg_hold;            /* mean close_ts - open_ts of the trades, ns; 0 with none */
    tt_ts first_ts, last_ts;   /* span of the equity curve */
    uint64_t points;           /* equity points seen */
} tt_metrics;

/* ---- one pass ---- */

typedef struct tt_metrics_acc tt_metrics_acc;

/* A new accumulator for an account starting at initial_balance (minor units,
 * > 0). opts may be NULL for the defaults. NULL on out of memory. */
tt_metrics_acc *tt_metrics_acc_new(tt_money initial_balance, const tt_metrics_opts *opts);
/* Free (NULL is allowed). Cannot fail. */
void tt_metrics_acc_free(tt_metrics_acc *a);

/* Feed one equity point. Points must come in non-decreasing ts order: an
 * earlier ts returns TT_EORDER (the point is ignored, err names both times).
 * No allocation except once per new calendar day (amortized): TT_ENOMEM when
 * that fails (the point is ignored too). TT_OK otherwise. */
int tt_metrics_acc_equity(tt_metrics_acc *a, const tt_equity_point *p, tt_err *err);

/* Feed one closed trade. Only sums and counts are kept; the per-trade
 * standard deviation is a running (Welford) one, so the same trades in the
 * same order give the same bits (the backtest feeds them in close order).
 * Cannot fail. */
void tt_metrics_acc_trade(tt_metrics_acc *a, const tt_trade_record *t);

/* Compute the figures from what was fed so far (the accumulator is left as
 * is and can be fed more). Cannot fail: undefined figures are NaN (above). */
void tt_metrics_acc_result(const tt_metrics_acc *a, tt_metrics *out);

/* The daily closes kept so far: day start ts (UTC midnight) and the last
 * equity of that day. *n receives the count; the arrays stay owned by the
 * accumulator and are valid until the next feed or free. Cannot fail. */
void tt_metrics_acc_daily(const tt_metrics_acc *a, const tt_ts **day, const tt_money **equity,
                          size_t *n);

/* ---- from arrays ---- */

/* Compute every figure from trades (any order) and equity points (ts order).
 * initial_balance must be > 0 (TT_EINVAL otherwise). opts may be NULL. With
 * no equity points, the account figures use initial_balance plus the sum of
 * the trades' net. TT_OK, or TT_EINVAL, TT_EORDER (out-of-order points, naming
 * both times) or TT_ENOMEM; *out is then not filled. */
int tt_metrics_compute(const tt_trade_record *trades, size_t ntrades,
                       const tt_equity_point *equity, size_t npoints,
                       tt_money initial_balance, const tt_metrics_opts *opts,
                       tt_metrics *out, tt_err *err);

/* ---- monthly returns (for reports) ---- */

typedef struct tt_month_return {
    int year, month;     /* 1..12 */
    double ret;          /* month-end equity / previous month-end equity - 1 */
} tt_month_return;

/* Monthly returns from the equity curve: the last point of each UTC calendar
 * month that has points, against the previous such month's close (the first
 * month against initial_balance). *out is malloc'd (free() it); *n its count.
 * TT_OK, or TT_ENOMEM or TT_EINVAL (initial_balance <= 0), *out NULL and *n 0. */
int tt_metrics_monthly(const tt_equity_point *equity, size_t npoints, tt_money initial_balance,
                       tt_month_return **out, size_t *n, tt_err *err);

#endif
