/*
 * ticktape reports: what the parts of the HTML report share (not public).
 *
 * The page (report_html.c) is written top to bottom; its charts
 * (report_chart.c: equity, drawdown, price with entries and exits) and its
 * trade analyses (report_analysis.c: P&L distribution, MAE/MFE, per symbol,
 * by hour and weekday, worst drawdowns, rejected orders) are sections written
 * by the functions below. Every number is formatted with a fixed "C" format
 * and every coordinate with one decimal, so the same run gives the same bytes.
 */
#ifndef TT_REPORT_HTML_INTERNAL_H
#define TT_REPORT_HTML_INTERNAL_H

#include <stdio.h>

#include "report_internal.h"

/* ---- formatting ---- */

/* v with `decimals` and a suffix; n/a for NaN, the infinity sign for +-inf. */
void tt_html_fixed(char *buf, size_t n, double v, int decimals, const char *suffix);
/* "pos", "neg" or "" for the colour of a signed value. */
const char *tt_html_sign(double v);
/* "2019-02-04 13:05:00" and "2019-02-04". */
void tt_html_datetime(tt_ts ts, char *buf, size_t n);
void tt_html_date(tt_ts ts, char *buf, size_t n);
/* A duration: "3.2 days", "5.0 hours" or "12 min". */
void tt_html_duration(tt_ts ns, char *buf, size_t n);

/* ---- charts ---- */

/* A chart's frame: its size, padding, and the data box it maps. */
typedef struct tt_chart {
    double w, h;           /* viewBox */
    double pl, pr, pt, pb; /* padding: left (value labels), right, top, bottom (time labels) */
    tt_ts t0, t1;          /* time axis (a time chart) */
    double x0, x1;         /* or a value axis (scatter, histogram) when t0 == t1 */
    double lo, hi;         /* value axis */
    double min_step;       /* the value axis' smallest gridline step (1 for counts; 0: none) */
} tt_chart;

double tt_chart_x(const tt_chart *c, tt_ts t);
double tt_chart_xv(const tt_chart *c, double v);
double tt_chart_y(const tt_chart *c, double v);

/* Formats a value-axis label. */
typedef void (*tt_chart_label_fn)(const void *ctx, double v, double step, char *buf, size_t n);

/* A "nice" step (1, 2 or 5 times a power of ten) for about `ticks` lines. */
double tt_chart_step(double lo, double hi, int ticks);
/* Horizontal gridlines with value labels on the left. */
void tt_chart_values(FILE *f, const tt_chart *c, tt_chart_label_fn label, const void *ctx);
/* The time axis: ticks at round UTC times (minutes to years, at most about
 * eight), labelled with the time of day for intraday steps (the date shown
 * once, under the first tick and where the day changes) and with dates for
 * longer ones. */
void tt_chart_time_axis(FILE *f, const tt_chart *c);
/* Vertical lines at the report's markers (walk-forward fold boundaries),
 * each with its label. */
void tt_chart_markers(FILE *f, const tt_chart *c, const tt_report_input *in);
/* Value labels: money in currency units (ctx: the tt_report_input), percent. */
void tt_chart_money_label(const void *ctx, double v, double step, char *buf, size_t n);
void tt_chart_pct_label(const void *ctx, double v, double step, char *buf, size_t n);

/* ---- sections ----
 *
 * A section that allocates returns TT_OK or TT_ENOMEM (its output cut short:
 * the page's writer then discards the file, as a report without one of its
 * sections is not the report). */

/* Equity (with the markers), drawdown, and a price chart per traded symbol
 * with the entries and exits (report_chart.c). */
int tt_html_charts(FILE *f, const tt_report_input *in);
int tt_html_price_charts(FILE *f, const tt_report_input *in);
/* The worst drawdowns: peak, trough, recovery, depth, length. */
int tt_html_drawdowns(FILE *f, const tt_report_input *in);
/* The distribution of trade P&L and the MAE/MFE scatter. */
int tt_html_trade_charts(FILE *f, const tt_report_input *in);
/* Per-symbol table; results by hour of entry and by weekday. */
int tt_html_breakdowns(FILE *f, const tt_report_input *in);
/* Orders rejected, by reason (risk rules and the venue). */
void tt_html_rejects(FILE *f, const tt_report_input *in);
/* A walk-forward's fold table (nothing without folds). */
void tt_html_folds(FILE *f, const tt_report_input *in);

#endif
