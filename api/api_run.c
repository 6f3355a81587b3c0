/*
 * ticktape API: backtests of scenarios and their results (api/ticktape_api.h).
 *
 * How this works: the same steps as `ticktape backtest` (cli/scenario_run.c):
 * load the scenario, apply the overrides, prepare the run, tt_backtest_run,
 * then build the report input with reports/report_run.h, so the summary a
 * caller reads is the `--json` line byte for byte and the reports written
 * are the command's. The handle keeps the scenario, the prepared run (its
 * instruments name the symbols) and the result until freed.
 *
 * Invariant: a run given the caller's callbacks differs from the command's
 * only by its strategy; everything else (data, venue, risk, seed, metrics)
 * comes from the scenario.
 */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "core/order.h"
#include "reports/report.h"
#include "reports/report_run.h"

#ifndef TT_VERSION
#define TT_VERSION "unknown"
#endif

struct tt_api_run {
    tt_scenario *s;
    tt_scenario_run *run;
    tt_backtest_result r;
    tt_api_callbacks cb;
    char *scen_text;
    char data[400];
    tt_report_input in;
    char *summary;
    char fp[33];
};

int tt_api_version(void) { return TT_API_VERSION; }
const char *tt_api_library_version(void) { return TT_VERSION; }

size_t tt_api_struct_size(const char *name)
{
    static const struct {
        const char *name;
        size_t size;
    } sizes[] = {
        {"quote", sizeof(tt_api_quote)},       {"bar", sizeof(tt_api_bar)},
        {"trade", sizeof(tt_trade_record)},    {"order", sizeof(tt_order_record)},
        {"equity", sizeof(tt_equity_point)},   {"err", sizeof(tt_err)},
        {"account", sizeof(tt_api_account)},   {"callbacks", sizeof(tt_api_callbacks)},
    };
    for (size_t i = 0; name && i < sizeof sizes / sizeof sizes[0]; i++)
        if (!strcmp(sizes[i].name, name))
            return sizes[i].size;
    return 0;
}

int tt_api_scenario(tt_scenario **s, const char *scenario, int is_text, const char *base_dir,
                    const char *const *overrides, int n, tt_err *err)
{
    *s = NULL;
    if (!scenario)
        return tt_err_set(err, TT_EINVAL, "no scenario given");
    int rc = is_text ? tt_scenario_parse(s, scenario, strlen(scenario), "<scenario>", base_dir,
                                         err)
                     : tt_scenario_load(s, scenario, err);
    for (int i = 0; !rc && i < n; i++)
        rc = tt_scenario_set(*s, overrides[i], err);
    if (rc) {
        tt_scenario_free(*s);
        *s = NULL;
    }
    return rc;
}

char *tt_api_text(int (*fn)(void *ctx, FILE *f), void *ctx)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    int rc = fn(ctx, f);
    if (fclose(f) || rc) {
        free(text);
        return NULL;
    }
    return text;
}

static int json_line(void *ctx, FILE *f)
{
    tt_report_json_write(ctx, f, 1);
    return ferror(f) ? TT_EIO : TT_OK;
}

void tt_api_run_free(tt_api_run *run)
{
    if (!run)
        return;
    tt_backtest_result_free(&run->r);
    if (run->run) {
        tt_scenario_release(run->run);
        free(run->run);
    }
    tt_scenario_free(run->s);
    free(run->scen_text);
    free(run->summary);
    free(run);
}

/* The summary and the report input of a finished run. */
static int collect(tt_api_run *h, tt_err *err)
{
    tt_scenario_run *run = h->run;
    tt_report_run_data(h->s, run, NULL, h->data, sizeof h->data);
    h->scen_text = tt_scenario_text(h->s);
    if (!h->scen_text)
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory (the scenario's text)",
                          tt_scenario_file(h->s));
    tt_report_run_input(&h->in, h->s, run, &h->r, &h->r.metrics, h->scen_text, h->data,
                        run->data_from ? run->data_from : h->r.first_ts,
                        run->data_to ? run->data_to : h->r.last_ts);
    h->summary = tt_api_text(json_line, &h->in);
    if (!h->summary)
        return tt_err_set(err, TT_ENOMEM, "out of memory (the summary)");
    tt_fingerprint_hex(h->r.fingerprint, h->fp);
    return TT_OK;
}

int tt_api_backtest(tt_api_run **out, const char *scenario, int is_text, const char *base_dir,
                    const char *const *overrides, int n, const tt_api_callbacks *cb, tt_err *err)
{
    *out = NULL;
    tt_api_run *h = calloc(1, sizeof *h);
    if (!h)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    int rc = tt_api_scenario(&h->s, scenario, is_text, base_dir, overrides, n, err);
    if (!rc && !(h->run = calloc(1, sizeof *h->run)))
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
    if (!rc && (rc = tt_scenario_prepare(h->s, h->run, err)) != TT_OK) {
        free(h->run);
        h->run = NULL;
    }
    if (!rc && cb) {
        h->cb = *cb;
        h->run->cfg.strategy_vtable = tt_api_callbacks_vtable();
        h->run->cfg.strategy_user = &h->cb;
    }
    if (!rc)
        rc = tt_backtest_run(&h->run->cfg, &h->r, err);
    if (!rc)
        rc = collect(h, err);
    if (rc) {
        tt_api_run_free(h);
        return rc;
    }
    *out = h;
    return TT_OK;
}

const char *tt_api_run_summary(const tt_api_run *run) { return run->summary; }
const char *tt_api_run_fingerprint(const tt_api_run *run) { return run->fp; }
int64_t tt_api_run_minor(const tt_api_run *run)
{
    return run->run->minor_per_unit > 0 ? run->run->minor_per_unit : 100;
}

const tt_trade_record *tt_api_run_trades(const tt_api_run *run, size_t *n)
{
    *n = run->r.ntrades;
    return run->r.trades;
}

const tt_order_record *tt_api_run_orders(const tt_api_run *run, size_t *n)
{
    *n = run->r.norders;
    return run->r.orders;
}

const tt_equity_point *tt_api_run_equity(const tt_api_run *run, size_t *n)
{
    *n = run->r.nequity;
    return run->r.equity;
}

const char *tt_api_run_symbol(const tt_api_run *run, uint32_t id, int *digits, int64_t *points,
                              double *volume_step)
{
    const tt_instrument *i = tt_instruments_get(run->run->instruments, id);
    if (!i)
        return NULL;
    *digits = i->digits;
    *points = i->points;
    *volume_step = i->volume_step;
    return i->symbol;
}

int tt_api_run_reports(const tt_api_run *run, const char *dir, tt_err *err)
{
    const tt_scenario_outputs *o = &run->run->outputs;
    tt_report_outputs which = {o->html, o->json, o->csv, o->hdf5};
    return tt_report_write_all(&run->in, dir, &which, err);
}

const char *tt_api_order_status(int status) { return tt_order_status_name(status); }
const char *tt_api_order_reason(int reason) { return tt_order_reason_name(reason); }
const char *tt_api_close_reason(int reason) { return tt_trade_close_reason_name(reason); }
