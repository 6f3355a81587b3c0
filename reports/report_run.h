/*
 * ticktape: the report input of one scenario run.
 *
 * Why. Every way of running a scenario (`ticktape backtest` and `demo`,
 * `paper` and `replay`, the Python API of api/) writes the same reports and
 * the same summary object from the same pieces: the scenario, its prepared
 * run (sim/scenario.h) and the backtest's result. Building the
 * tt_report_input in one place keeps the summary a run prints on the command
 * line and the one Python reads identical, key for key.
 *
 * Everything is borrowed: the input points into s, run, r, m and the
 * caller's strings, which must outlive it.
 */
#ifndef TT_REPORT_RUN_H
#define TT_REPORT_RUN_H

#include <stddef.h>

#include "../sim/backtest.h"
#include "../sim/scenario.h"
#include "report.h"

/* The one-line description of a run's data: "tape DIR: EURUSD,GBPUSD" (with
 * a bar model: ", M1 bars as MODEL, spread ..."), "synthetic heston market:
 * EURUSD", or with a feed ("live nats://..",
 * "journal DIR") "FEED: EURUSD". Cut to bufsize; cannot fail. */
void tt_report_run_data(const tt_scenario *s, const tt_scenario_run *run, const char *feed,
                        char *buf, size_t bufsize);

/* Fill *in for the run: name, strategy, parameters, fingerprint, events,
 * bar model, trades, equity, price path, venue counters, rejections by rule and account
 * currency from s, run and r (what a live feed lost is the caller's); the
 * figures m (normally &r->metrics, or a copy), the scenario's text (may be
 * NULL), the data line (tt_report_run_data) and the range [from, to) as
 * given. Cannot fail. */
void tt_report_run_input(tt_report_input *in, const tt_scenario *s, const tt_scenario_run *run,
                         const tt_backtest_result *r, const tt_metrics *m,
                         const char *scenario_text, const char *data, tt_ts from, tt_ts to);

#endif
