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
#include "../core/strategy.h"
#include "../sim/price_path.h"

/* A vertical line on the report's time charts (a walk-forward fold boundary). */
typedef struct tt_report_marker {
    tt_ts ts;
    const char *label; /* short: "fold 2" */
} tt_report_marker;

/* One walk-forward fold, for the report's fold table (strings borrowed). */
typedef struct tt_report_fold {
    tt_ts train_from, train_to, test_from, test_to;
    const char *chosen;      /* the parameters (or the model) chosen; NULL: none */
    const char *why_none;    /* when chosen is NULL: why no train run qualified */
    const char *oos_status;  /* NULL: the test run completed; else "failed", "crashed" */
    size_t qualified, runs;  /* train runs that qualified, and all of them */
    double objective;        /* the winner's objective (money in currency units) */
    tt_money is_net, oos_net;
    uint64_t is_trades, oos_trades, oos_events;
    double oos_return_pct, oos_max_dd_pct;
    double efficiency;       /* (OOS net / test days) / (IS net / train days); NaN when
                              * the in-sample net is not positive or nothing ran */
} tt_report_fold;

/* What a report shows. Everything is borrowed for the duration of the call. */
typedef struct tt_report_input {
    const char *name;                   /* run / scenario name */
    const char *scenario_text;          /* the scenario as "key: value" lines (may be NULL) */
    const char *strategy;               /* strategy name (may be NULL) */
    const char *params;                 /* its parameters "k=v ..." (may be NULL) */
    const char *data;                   /* a one-line description of the data (may be NULL) */
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
    /* The price path of the traded symbols (the backtest result's, may be
     * NULL): the price chart with entries and exits. */
    const tt_price_bucket *prices;
    size_t nprices;
    /* Vertical lines on the equity and drawdown charts (may be NULL). */
    const tt_report_marker *markers;
    size_t nmarkers;
    /* Header lines about the data, each shown only when set:
     *   bar_model  how prices inside a bar were modelled, when the run was
     *              fed bars (data.model; NULL: real ticks, and then neither
     *              the page nor summary.json's "model" mentions it);
     *   data_note  partial or dropped data, one line ("partial: ...");
     *   drops, feed_rejects, gaps  what a live feed lost (paper). */
    const char *bar_model;
    const char *data_note;
    int live;            /* a live session: the JSON has drops, rejects and gaps */
    uint64_t drops, feed_rejects, gaps;
    /* Orders rejected by risk rule and by reason (may be NULL: none shown). */
    const tt_reject_counts *rejects;
    /* A walk-forward's folds (nfolds > 0: the fold table), its objective's
     * name and its efficiency (NaN: undefined). */
    const tt_report_fold *folds;
    size_t nfolds;
    const char *objective;
    double wfe;
} tt_report_input;

/* Which files tt_report_write_all writes. */
typedef struct tt_report_outputs {
    int html, json, csv, hdf5;
} tt_report_outputs;

/* Write report.html, summary.json, trades.csv and series.h5 (those enabled)
 * into dir (created with its parents when missing). TT_OK, or the first
 * error, naming the directory or the file: TT_EINVAL (a path too long),
 * TT_EIO (cannot create the directory or write a file), TT_ENOMEM. The files
 * written before it stay. */
int tt_report_write_all(const tt_report_input *in, const char *dir, const tt_report_outputs *which,
                        tt_err *err);

/* The HTML report to path. TT_OK, or TT_EIO naming the path (create, write,
 * rename), TT_EINVAL (path too long), TT_ENOMEM (the charts); nothing is left
 * under path or its temporary name on failure. */
int tt_report_html(const tt_report_input *in, const char *path, tt_err *err);

/* The JSON summary: to f, as one line when one_line, else one key per line.
 * Keys (at least): name, fingerprint, events, trades, net_pnl, return_pct,
 * sharpe, sortino, calmar, max_drawdown_pct, ... (docs/reports.md lists them).
 * Money is in currency units with the currency's decimals; non-finite
 * figures are null. Allocates nothing; a write error stays in f's error flag. */
void tt_report_json_write(const tt_report_input *in, FILE *f, int one_line);
/* The same to a file. As tt_report_html but never TT_ENOMEM. */
int tt_report_json(const tt_report_input *in, const char *path, tt_err *err);

/* The trades as CSV (header line first). As tt_report_html but never TT_ENOMEM. */
int tt_report_trades_csv(const tt_report_input *in, const char *path, tt_err *err);

/* The HDF5 series file. TT_OK, or TT_EIO naming the path and the HDF5 call that
 * failed, TT_ENOMEM; nothing is left under path on failure. */
int tt_report_hdf5(const tt_report_input *in, const char *path, tt_err *err);

/* Helpers shared by the writers (and usable by other outputs); they cannot fail
 * (cut to bufsize). */

/* Money as a decimal in currency units with the currency's decimals ("-12.34"). */
void tt_report_money(tt_money m, int64_t minor_per_unit, char *buf, size_t bufsize);
/* A price of a symbol with its instrument's digits (raw points when unknown). */
void tt_report_price(const tt_instruments *ins, uint32_t symbol, tt_price p, char *buf,
                     size_t bufsize);
/* A figure as text: "n/a" when NaN (undefined), "inf" / "-inf" when infinite,
 * else printf("%.*f") and the suffix. The one spelling of an undefined figure
 * in every text output (JSON writes null). Cannot fail. */
void tt_report_num(double v, int decimals, const char *suffix, char *buf, size_t bufsize);
/* When the minimum-data rule left the annualised figures undefined
 * (!m->annualized), one sentence that says so and why ("annualised figures
 * (CAGR, volatility, Sharpe, Sortino, Calmar) are n/a: the run spans 2.0
 * days with 2 daily returns; they need at least 30 days and 20 daily
 * returns"); "" otherwise. Cannot fail. */
void tt_report_rule_text(const tt_metrics *m, char *buf, size_t bufsize);
/* The rejected orders as one line, by count, largest first (ties in rule then
 * reason order): "121 orders: risk daily_loss 100, risk max_position 18,
 * venue no_money 3"; "" when none. Cannot fail. */
void tt_report_rejects_text(const tt_reject_counts *c, char *buf, size_t bufsize);
/* What a risk rule (is_rule) or an order reason means, in a few words ("" when
 * there is nothing to add). Cannot fail. */
const char *tt_report_reject_meaning(int is_rule, int code);
/* A ratio the way gates print it: "%.6g", "n/a" for NaN, "inf". The
 * walk-forward's text, report and gate table agree on it. Cannot fail. */
void tt_report_ratio(double v, char *buf, size_t bufsize);
/* The symbol name of an id ("#7" when unknown). */
const char *tt_report_symbol(const tt_instruments *ins, uint32_t symbol, char *buf, size_t bufsize);

#endif
