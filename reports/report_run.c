/*
 * ticktape reports: the report input of one scenario run (report_run.h).
 *
 * How this works: plain copying of pointers and counters; the only text made
 * here is the data line, from the scenario's data keys and the run's symbols.
 */
#include "report_run.h"

#include <stdio.h>
#include <string.h>

#include "../sim/bar_model.h"

/* A bar model's spread, as the reports say it. */
static const char *spread_text(const tt_scenario_run *run, char *buf, size_t n)
{
    if (run->cfg.spread_from_bars)
        return "from the ask bars";
    snprintf(buf, n, "%lld points", (long long)run->cfg.spread_points);
    return buf;
}

void tt_report_run_data(const tt_scenario *s, const tt_scenario_run *run, const char *feed,
                        char *buf, size_t bufsize)
{
    char syms[256] = "", sp[40];
    size_t used = 0;
    for (int i = 0; run->cfg.symbols[i] && used < sizeof syms; i++)
        used += (size_t)snprintf(syms + used, sizeof syms - used, "%s%s", i ? "," : "",
                                 run->cfg.symbols[i]);
    if (feed)
        snprintf(buf, bufsize, "%s: %s", feed, syms);
    else if (run->synthetic)
        snprintf(buf, bufsize, "synthetic %s market: %s",
                 tt_scenario_get(s, "data.synthetic.model", "gbm"), syms);
    else if (run->cfg.model)
        snprintf(buf, bufsize, "tape %s: %s, M1 bars as %s, spread %s",
                 tt_scenario_get(s, "data.tape", "?"), syms, tt_bar_model_name(run->cfg.model),
                 spread_text(run, sp, sizeof sp));
    else
        snprintf(buf, bufsize, "tape %s: %s", tt_scenario_get(s, "data.tape", "?"), syms);
}

void tt_report_run_input(tt_report_input *in, const tt_scenario *s, const tt_scenario_run *run,
                         const tt_backtest_result *r, const tt_metrics *m,
                         const char *scenario_text, const char *data, tt_ts from, tt_ts to)
{
    memset(in, 0, sizeof *in);
    in->name = tt_scenario_name(s);
    in->scenario_text = scenario_text;
    in->strategy = run->cfg.strategy;
    in->params = run->cfg.params;
    in->data = data;
    in->bar_model = run->cfg.model ? tt_bar_model_name(run->cfg.model) : NULL;
    in->fingerprint = r->fingerprint;
    in->events = r->events;
    in->trades = r->trades;
    in->ntrades = r->ntrades;
    in->equity = r->equity;
    in->nequity = r->nequity;
    in->metrics = m;
    in->instruments = run->instruments;
    in->currency = run->cfg.venue.account.currency[0] ? run->cfg.venue.account.currency : "USD";
    in->minor_per_unit = run->minor_per_unit;
    in->from = from;
    in->to = to;
    in->orders_sent = r->orders_sent;
    in->fills = r->fills;
    in->risk_rejects = r->risk_rejects;
    in->stop_outs = r->stop_outs;
    in->prices = r->prices;
    in->nprices = r->nprices;
    in->rejects = &r->rejects;
}
