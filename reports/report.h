/*
 * ticktape: the reports of a run.
 *
 * From what a run produced (closed trades, the sampled equity series, the
 * figures of core/metrics.h, the fingerprint and the scenario text) this
 * module writes:
 *
 *   report.html   one self-contained page (no scripts, no network, inline CSS):
 *                 the figures, an equity/balance chart and a drawdown chart as
 *                 inline SVG, a monthly returns table, the trade list, the
 *                 scenario and the fingerprint;
 *   summary.json  the figures as one JSON object (the same object that
 *                 `ticktape backtest --json` prints as its last line);
 *   trades.csv    every closed trade, one per line;
 *   series.h5     HDF5: the equity and position series and the trades as
 *                 column datasets (layout in docs/reports.md).
 *
 * Every file is a pure function of its input: no wall clock, no host name, no
 * locale (numbers are formatted by hand or with the "C" printf formats), HDF5
 * written without object timestamps. The same run gives the same bytes, which
 * the determinism tests compare.
 *
 * Output is buffered and written through a temporary file renamed into place,
 * so a failed write never leaves half a report under the final name.
 */
#ifndef TT_REPORT_H
#define TT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/error.h"
#include "../core/fingerprint.h"
#include "../core/instrument.h"
#include "../core/metrics.h"

/* What a report shows. Everything is borrowed for the duration of the call. */
typedef struct tt_report_input {
    const char *name;                   /* run / scenario name */
    const char *scenario_text;          /* the scenario as "key: value" lines (may be NULL) */
    const char *strategy;               /* strategy name (may be NULL) */
    const char *params;                 /* its parameters "k=v ..." (may be NULL) */
    const char *data;                   /* a one-line description of the data (may be NULL) */
    const char *model;                  /* the bar model (data.model); NULL: real ticks,
                                         * and then the reports do not mention it */
    tt_fingerprint fingerprint;
    uint64_t events;                    /* input events processed */
    const tt_trade_record *trades;      /* closed trades, close order */
    size_t ntrades;
    const tt_equity_point *equity;      /* equity series, time order */
    size_t nequity;
    const tt_metrics *metrics;          /* figures (required) */
    const tt_instruments *instruments;  /* symbol names and price digits (may be NULL) */
    const char *currency;               /* account currency ("USD") */
    int64_t minor_per_unit;             /* minor units per currency unit (0 = 100) */
    tt_ts from, to;                     /* data range (0 = unknown) */
    uint64_t orders_sent, fills, risk_rejects, stop_outs; /* venue counters (optional) */
} tt_report_input;

/* Which files tt_report_write_all writes. */
typedef struct tt_report_outputs {
    int html, json, csv, hdf5;
} tt_report_outputs;

/* Write report.html, summary.json, trades.csv and series.h5 (those enabled)
 * into dir (created with its parents when missing). Errors name the file. */
int tt_report_write_all(const tt_report_input *in, const char *dir, const tt_report_outputs *which,
                        tt_err *err);

/* The HTML report to path. TT_EIO naming the path. */
int tt_report_html(const tt_report_input *in, const char *path, tt_err *err);

/* The JSON summary: to f, as one line when one_line, else one key per line.
 * Keys (at least): name, fingerprint, events, trades, net_pnl, return_pct,
 * sharpe, sortino, calmar, max_drawdown_pct, ... (docs/reports.md lists them).
 * Money is in currency units with the currency's decimals; non-finite
 * figures are null. */
void tt_report_json_write(const tt_report_input *in, FILE *f, int one_line);
/* The same to a file. TT_EIO naming the path. */
int tt_report_json(const tt_report_input *in, const char *path, tt_err *err);

/* The trades as CSV (header line first). TT_EIO naming the path. */
int tt_report_trades_csv(const tt_report_input *in, const char *path, tt_err *err);

/* The HDF5 series file. TT_EIO naming the path and the HDF5 call that failed. */
int tt_report_hdf5(const tt_report_input *in, const char *path, tt_err *err);

/* Helpers shared by the writers (and usable by other outputs). */

/* Money as a decimal in currency units with the currency's decimals ("-12.34"). */
void tt_report_money(tt_money m, int64_t minor_per_unit, char *buf, size_t bufsize);
/* A price of a symbol with its instrument's digits (raw points when unknown). */
void tt_report_price(const tt_instruments *ins, uint32_t symbol, tt_price p, char *buf,
                     size_t bufsize);
/* The symbol name of an id ("#7" when unknown). */
const char *tt_report_symbol(const tt_instruments *ins, uint32_t symbol, char *buf, size_t bufsize);

#endif
