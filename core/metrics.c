/*
 * ticktape: performance metrics.
 *
 * How this works: everything goes through one accumulator. Each equity point
 * updates, in O(1), the running peak and drawdown (depth in money and as a
 * fraction of the peak, and how long the curve has been under water), the
 * time spent with a position, and the close of the current UTC calendar day.
 * Day closes are the only thing kept per period: one entry per calendar day
 * with points, so memory grows with days, not with points (ten years is
 * about 3,650 entries). Trades only add to sums and counts.
 *
 * tt_metrics_acc_result() then makes two passes over the daily closes, in
 * index order: the first for the mean, the second for the squared deviations
 * (the two-pass form is what numpy and pandas do, and it does not lose
 * precision the way a running sum of squares does). The summation order is
 * fixed, so the result is the same bits on every run.
 *
 * The peak starts at the initial balance: an account that loses from its
 * first point is in drawdown from its deposit.
 *
 * The minimum-data rule (metrics.h) is applied last: the annualised figures
 * are computed as always, then set to NaN when the span or the number of
 * daily returns is short of the rule, so a figure is either what the formula
 * gives or undefined, never a number from two data points.
 */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct tt_metrics_acc {
    tt_money initial;
    int ppy;
    double risk_free;
    int32_t min_days, min_returns; /* 0 = no minimum */

    /* equity curve */
    uint64_t points;
    tt_ts first_ts, last_ts;
    tt_money last_balance, last_equity;
    int last_in_market;
    tt_ts in_market_ns;

    /* drawdown */
    tt_money peak;
    tt_ts peak_ts;
    int under_water;
    tt_money max_dd;
    double max_dd_frac;
    tt_ts max_dd_peak_ts, max_dd_trough_ts;
    tt_ts max_dd_duration;

    /* daily closes */
    tt_ts *day;
    tt_money *day_eq;
    int64_t last_day_index;
    size_t ndays, cap;

    /* trades */
    uint64_t trades, wins, losses, longs, shorts;
    tt_money net_sum, gross_profit, gross_loss, commissions, swaps;
    tt_money largest_win, largest_loss;
    double trade_mean, trade_m2; /* Welford's running mean and sum of squared deviations */
    double hold_ns;              /* sum of holding times */
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

const char *tt_trade_close_reason_name(int reason)
{
    switch (reason) {
    case TT_CLOSE_SIGNAL: return "signal";
    case TT_CLOSE_STOP_LOSS: return "stop_loss";
    case TT_CLOSE_TAKE_PROFIT: return "take_profit";
    case TT_CLOSE_STOP_OUT: return "stop_out";
    case TT_CLOSE_RISK: return "risk";
    case TT_CLOSE_END: return "end";
    default: return "unknown";
    }
}

tt_metrics_acc *tt_metrics_acc_new(tt_money initial_balance, const tt_metrics_opts *opts)
{
    tt_metrics_acc *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->initial = initial_balance;
    a->ppy = (opts && opts->periods_per_year > 0) ? opts->periods_per_year : 252;
    a->risk_free = opts ? opts->risk_free : 0.0;
    int md = opts ? opts->min_days : 0, mr = opts ? opts->min_returns : 0;
    a->min_days = md == 0 ? TT_METRICS_MIN_DAYS : md < 0 ? 0 : md;
    a->min_returns = mr == 0 ? TT_METRICS_MIN_RETURNS : mr < 0 ? 0 : mr;
    a->peak = initial_balance;
    a->last_balance = initial_balance;
    a->last_equity = initial_balance;
    return a;
}

void tt_metrics_acc_free(tt_metrics_acc *a)
{
    if (!a)
        return;
    free(a->day);
    free(a->day_eq);
    free(a);
}

static int push_day(tt_metrics_acc *a, tt_ts day_start, tt_money eq)
{
    if (a->ndays == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        tt_ts *d = realloc(a->day, cap * sizeof *d);
        if (!d)
            return TT_ENOMEM;
        a->day = d;
        tt_money *e = realloc(a->day_eq, cap * sizeof *e);
        if (!e)
            return TT_ENOMEM;
        a->day_eq = e;
        a->cap = cap;
    }
    a->day[a->ndays] = day_start;
    a->day_eq[a->ndays] = eq;
    a->ndays++;
    return TT_OK;
}

int tt_metrics_acc_equity(tt_metrics_acc *a, const tt_equity_point *p, tt_err *err)
{
    if (a->points > 0 && p->ts < a->last_ts) {
        char t0[40], t1[40];
        tt_ts_format(a->last_ts, t0, sizeof t0, 1);
        tt_ts_format(p->ts, t1, sizeof t1, 1);
        return tt_err_set(err, TT_EORDER, "metrics: equity point %s comes after %s (time order)",
                          t1, t0);
    }
    int64_t di = floor_div(p->ts, TT_NS_PER_DAY);
    if (a->points == 0 || di != a->last_day_index) {
        if (push_day(a, di * TT_NS_PER_DAY, p->equity) != TT_OK)
            return tt_err_set(err, TT_ENOMEM, "metrics: out of memory for daily closes");
        a->last_day_index = di;
    } else {
        a->day_eq[a->ndays - 1] = p->equity;
    }

    if (a->points == 0) {
        a->first_ts = p->ts;
        a->peak_ts = p->ts;
    } else if (a->last_in_market) {
        a->in_market_ns += p->ts - a->last_ts;
    }
    a->points++;
    a->last_ts = p->ts;
    a->last_balance = p->balance;
    a->last_equity = p->equity;
    a->last_in_market = p->position != 0 || p->exposure != 0;

    if (p->equity >= a->peak) {
        if (a->under_water) {
            tt_ts dur = p->ts - a->peak_ts;
            if (dur > a->max_dd_duration)
                a->max_dd_duration = dur;
            a->under_water = 0;
        }
        a->peak = p->equity;
        a->peak_ts = p->ts;
    } else {
        a->under_water = 1;
        tt_money dd = a->peak - p->equity;
        if (dd > a->max_dd)
            a->max_dd = dd;
        double frac = a->peak > 0 ? (double)dd / (double)a->peak : 1.0;
        if (frac > a->max_dd_frac) {
            a->max_dd_frac = frac;
            a->max_dd_peak_ts = a->peak_ts;
            a->max_dd_trough_ts = p->ts;
        }
    }
    return TT_OK;
}

void tt_metrics_acc_trade(tt_metrics_acc *a, const tt_trade_record *t)
{
    a->trades++;
    if (t->side == TT_BUY)
        a->longs++;
    else
        a->shorts++;
    a->net_sum += t->net;
    double d = (double)t->net - a->trade_mean;
    a->trade_mean += d / (double)a->trades;
    a->trade_m2 += d * ((double)t->net - a->trade_mean);
    a->hold_ns += (double)(t->close_ts - t->open_ts);
    a->commissions += t->commission;
    a->swaps += t->swap;
    if (t->net > 0) {
        a->wins++;
        a->gross_profit += t->net;
        if (t->net > a->largest_win)
            a->largest_win = t->net;
    } else if (t->net < 0) {
        a->losses++;
        a->gross_loss += t->net;
        if (t->net < a->largest_loss)
            a->largest_loss = t->net;
    }
}

void tt_metrics_acc_daily(const tt_metrics_acc *a, const tt_ts **day, const tt_money **equity,
                          size_t *n)
{
    *day = a->day;
    *equity = a->day_eq;
    *n = a->ndays;
}

void tt_metrics_acc_result(const tt_metrics_acc *a, tt_metrics *m)
{
    memset(m, 0, sizeof *m);
    const double nan = NAN;
    m->initial_balance = a->initial;
    m->periods_per_year = (uint32_t)a->ppy;
    m->points = a->points;
    if (a->points > 0) {
        m->final_balance = a->last_balance;
        m->final_equity = a->last_equity;
        m->first_ts = a->first_ts;
        m->last_ts = a->last_ts;
    } else {
        m->final_balance = a->initial + a->net_sum;
        m->final_equity = m->final_balance;
    }
    m->net_pnl = m->final_equity - a->initial;
    m->commissions = a->commissions;
    m->swaps = a->swaps;
    m->peak_equity = a->peak;
    m->max_drawdown = a->max_dd;
    m->max_drawdown_frac = a->max_dd_frac;
    m->max_drawdown_pct = a->max_dd_frac * 100.0;
    m->max_dd_peak_ts = a->max_dd_peak_ts;
    m->max_dd_trough_ts = a->max_dd_trough_ts;
    m->max_dd_duration = a->max_dd_duration;
    if (a->under_water && a->last_ts - a->peak_ts > m->max_dd_duration)
        m->max_dd_duration = a->last_ts - a->peak_ts;

    m->total_return = a->initial > 0 ? (double)m->final_equity / (double)a->initial - 1.0 : nan;
    m->return_pct = m->total_return * 100.0;
    tt_ts span = a->points > 0 ? a->last_ts - a->first_ts : 0;
    m->years = (double)span / (365.25 * (double)TT_NS_PER_DAY);
    if (m->years > 0 && a->initial > 0)
        m->cagr = m->final_equity > 0 ? pow((double)m->final_equity / (double)a->initial,
                                            1.0 / m->years) - 1.0
                                      : -1.0;
    else
        m->cagr = nan;
    m->calmar = (m->max_drawdown_frac > 0 && !isnan(m->cagr)) ? m->cagr / m->max_drawdown_frac
                                                               : nan;
    m->time_in_market = span > 0 ? (double)a->in_market_ns / (double)span : 0.0;

    /* daily returns: two passes in index order */
    size_t n = a->ndays;
    m->days = (uint32_t)n;
    double rf = a->risk_free / (double)a->ppy;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double prev = i == 0 ? (double)a->initial : (double)a->day_eq[i - 1];
        double r = (double)a->day_eq[i] / prev - 1.0;
        sum += r;
    }
    m->ann_volatility = m->sharpe = m->sortino = nan;
    if (n >= 2 && a->initial > 0) {
        double mean = sum / (double)n;
        double ss = 0.0, down = 0.0;
        for (size_t i = 0; i < n; i++) {
            double prev = i == 0 ? (double)a->initial : (double)a->day_eq[i - 1];
            double r = (double)a->day_eq[i] / prev - 1.0;
            double d = r - mean;
            ss += d * d;
            double e = r - rf;
            if (e < 0)
                down += e * e;
        }
        double sd = sqrt(ss / (double)(n - 1));
        double dd = sqrt(down / (double)n);
        double ann = sqrt((double)a->ppy);
        double mean_ex = mean - rf;
        m->ann_volatility = sd * ann;
        if (sd > 0)
            m->sharpe = mean_ex / sd * ann;
        if (dd > 0)
            m->sortino = mean_ex / dd * ann;
    }

    m->trades = a->trades;
    m->wins = a->wins;
    m->losses = a->losses;
    m->long_trades = a->longs;
    m->short_trades = a->shorts;
    m->gross_profit = a->gross_profit;
    m->gross_loss = a->gross_loss;
    m->largest_win = a->largest_win;
    m->largest_loss = a->largest_loss;
    m->win_rate = a->trades ? (double)a->wins / (double)a->trades : nan;
    m->expectancy = a->trades ? (double)a->net_sum / (double)a->trades : nan;
    m->avg_win = a->wins ? (double)a->gross_profit / (double)a->wins : nan;
    m->avg_loss = a->losses ? (double)a->gross_loss / (double)a->losses : nan;
    if (a->gross_loss < 0)
        m->profit_factor = (double)a->gross_profit / (double)-a->gross_loss;
    else
        m->profit_factor = a->gross_profit > 0 ? INFINITY : nan;
    m->trade_stdev = m->trade_sharpe = m->sqn = nan;
    if (a->trades >= 2) {
        m->trade_stdev = sqrt(a->trade_m2 / (double)(a->trades - 1));
        if (m->trade_stdev > 0) {
            m->trade_sharpe = m->expectancy / m->trade_stdev;
            m->sqn = sqrt((double)a->trades) * m->trade_sharpe;
        }
    }
    m->avg_hold = a->trades ? (tt_ts)(a->hold_ns / (double)a->trades) : 0;

    /* the minimum-data rule, then the percent forms */
    m->min_days = a->min_days;
    m->min_returns = a->min_returns;
    m->annualized = (double)span >= (double)a->min_days * (double)TT_NS_PER_DAY &&
                    n >= (size_t)a->min_returns;
    if (!m->annualized)
        m->cagr = m->ann_volatility = m->sharpe = m->sortino = m->calmar = nan;
    m->cagr_pct = m->cagr * 100.0;
    m->ann_volatility_pct = m->ann_volatility * 100.0;
    m->win_rate_pct = m->win_rate * 100.0;
    m->time_in_market_pct = m->time_in_market * 100.0;
}

int tt_metrics_compute(const tt_trade_record *trades, size_t ntrades,
                       const tt_equity_point *equity, size_t npoints,
                       tt_money initial_balance, const tt_metrics_opts *opts,
                       tt_metrics *out, tt_err *err)
{
    if (initial_balance <= 0)
        return tt_err_set(err, TT_EINVAL, "metrics: initial balance must be > 0 (got %lld)",
                          (long long)initial_balance);
    tt_metrics_acc *a = tt_metrics_acc_new(initial_balance, opts);
    if (!a)
        return tt_err_set(err, TT_ENOMEM, "metrics: out of memory");
    for (size_t i = 0; i < npoints; i++) {
        int rc = tt_metrics_acc_equity(a, &equity[i], err);
        if (rc < 0) {
            tt_metrics_acc_free(a);
            return rc;
        }
    }
    for (size_t i = 0; i < ntrades; i++)
        tt_metrics_acc_trade(a, &trades[i]);
    tt_metrics_acc_result(a, out);
    tt_metrics_acc_free(a);
    return TT_OK;
}

int tt_metrics_monthly(const tt_equity_point *equity, size_t npoints, tt_money initial_balance,
                       tt_month_return **out, size_t *n, tt_err *err)
{
    *out = NULL;
    *n = 0;
    if (initial_balance <= 0)
        return tt_err_set(err, TT_EINVAL, "metrics: initial balance must be > 0 (got %lld)",
                          (long long)initial_balance);
    size_t cap = 0, cnt = 0;
    tt_month_return *v = NULL;
    tt_money prev_close = initial_balance, close = 0;
    int cur_key = -1;
    for (size_t i = 0; i <= npoints; i++) {
        int key = -1, y = 0, mo = 0;
        if (i < npoints) {
            int d, h, mi, s;
            int64_t ns;
            tt_ts_to_civil(equity[i].ts, &y, &mo, &d, &h, &mi, &s, &ns);
            key = y * 12 + (mo - 1);
        }
        if (cur_key >= 0 && key != cur_key) {
            if (cnt == cap) {
                cap = cap ? cap * 2 : 16;
                tt_month_return *nv = realloc(v, cap * sizeof *nv);
                if (!nv) {
                    free(v);
                    return tt_err_set(err, TT_ENOMEM, "metrics: out of memory");
                }
                v = nv;
            }
            v[cnt].year = cur_key / 12;
            v[cnt].month = cur_key % 12 + 1;
            v[cnt].ret = (double)close / (double)prev_close - 1.0;
            cnt++;
            prev_close = close;
        }
        if (i < npoints) {
            cur_key = key;
            close = equity[i].equity;
        }
    }
    *out = v;
    *n = cnt;
    return TT_OK;
}
