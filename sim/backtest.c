/*
 * A backtest, assembled: the one place that knows every piece.
 *
 * A builder (tt_backtest) holds the configuration and the slots a caller may
 * fill: venue, clock, extra sources, sinks and components. Nothing is built
 * until tt_backtest_exec, which assembles in a fixed order, so errors come in
 * the same order whatever was set: the metrics accumulator, the instruments
 * and symbols, the data, the venue (the simulated one unless a venue was
 * set), the strategy's portfolio and risk gate, the strategy and its runner,
 * the bar builder, the engine. In the engine the venue sees every event
 * before any component (its port's hooks; matching a tick before the strategy
 * reacts to it), then the bar builder (bars reach the strategy before the
 * tick that closed them), the strategy runner and the caller's components.
 * Sinks see every output in emission order.
 *
 * The run talks to its venue through the port alone (core/engine.h): fills
 * reach the strategy's portfolio as order events, margin calls and stop-outs
 * come as risk outputs and order events, and the result's commission, swap,
 * fill and stop-out totals come from the port's totals(). So a venue built
 * outside sim/ (a live connector) takes the simulated venue's place with
 * tt_backtest_set_venue and nothing else changes.
 *
 * Results are collected through the runner's observers: closed trades in a
 * trade log (sim/trade_log.h: memory, then a temporary file), sampled equity
 * in a thinned series (sim/equity_series.h), order events in a growable
 * array; every trade and sampled point also goes into a metrics accumulator
 * during the run, so the figures do not depend on what is kept. A collector
 * that fails (out of memory, a file that cannot be written) stops the run
 * with its error (tt_engine_fail). Nothing else grows with the span: the tape
 * reader merges lazily, the venue and the books hold only open orders and
 * positions.
 *
 * Conversion symbols: when the data comes from a tape, every pair that could
 * convert a traded symbol's quote currency into the account currency (direct,
 * inverse, or through USD) is added to the query if the tape holds it, so P&L
 * in JPY or GBP can be valued without the caller listing USDJPY or GBPUSD.
 */
#include "backtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "../core/merge.h"
#include "../core/plugin.h"
#include "../data/calendar.h"
#include "../data/tape.h"
#include "bar_model.h"
#include "../ml/strategy_xgb.h"
#include "equity_series.h"
#include "price_path.h"
#include "trade_log.h"

#define MAX_SINKS 16      /* the engine's limit */
#define MAX_COMPONENTS 24 /* the engine's 32, less the bar builder, the runner and room */

typedef struct run run;

struct tt_backtest {
    tt_backtest_config cfg;
    tt_venue venue;      /* set by tt_backtest_set_venue; command NULL: the simulated venue */
    tt_clock clock;      /* now NULL: simulated time */
    tt_source sources[TT_BACKTEST_MAX_SOURCES];
    int nsources;
    tt_sink sinks[MAX_SINKS]; /* the configuration's, then those added */
    int nsinks;
    tt_component comps[MAX_COMPONENTS];
    int ncomps;
    int executed; /* started (tt_backtest_start or _exec) */
    run *r;       /* the execution between tt_backtest_start and _finish */
    int built;    /* every piece of r was built */
    int begun;    /* and its engine begun (tt_engine_begin) */
    int advanced; /* tt_backtest_advance was called */
    int finished; /* tt_backtest_finish was called */
    int rc;       /* the run's result so far (start, advance) */
};

/* One execution: every piece, the collectors and the input count. */
struct run {
    const tt_backtest *bt;
    const tt_backtest_config *cfg;
    tt_instruments *own_ins;
    const tt_instruments *ins;
    uint32_t ids[TT_BACKTEST_MAX_SYMBOLS];
    uint32_t nids;
    tt_tape_reader *reader;
    tt_tape_reader *ext_reader; /* cfg.external, merged with the quotes */
    tt_tape_info info;
    int have_info;
    tt_merge *merge;
    tt_merge *ext_merge; /* the data and cfg.external */
    /* a bar model: per symbol its model and the readers under it (bid, ask) */
    tt_bar_model_src *models[TT_MERGE_MAX];
    tt_tape_reader *mreaders[2 * TT_MERGE_MAX];
    int nmodels, nmreaders;
    tt_source data;     /* the data source, before counting */
    tt_sim_venue *sim;  /* the default venue, when none was set */
    tt_venue venue;
    tt_portfolio *pf;
    tt_risk_gate *risk;
    tt_news *news;      /* the release schedule strategies read (tt_ctx_news) */
    tt_plugin *plugin;
    tt_runner *runner;
    tt_bars *bars;
    tt_engine *e;
    /* collectors */
    tt_metrics_acc *acc;
    tt_trade_log *trades;
    tt_equity_series *equity;
    tt_price_path *prices; /* the traded symbols' bids at each equity sample */
    tt_order_record *orders;
    size_t norders, caporders;
    /* input count (the result's events and span) and progress */
    tt_ts first, last;
    uint64_t count, every;
    /* in a group (tt_backtest_group_run): the data is the group's, read once
     * and fed to this run's engine; want_ask: a bar model's ask carriers */
    int grouped, want_ask;
};

/* ---- collectors: the runner's observers ---- */

static void on_trade(void *ctx, const tt_trade_record *t)
{
    run *r = ctx;
    tt_err err;
    if (tt_trade_log_add(r->trades, t, &err)) {
        tt_engine_fail(r->e, &err);
        return;
    }
    if (r->acc)
        tt_metrics_acc_trade(r->acc, t);
}

static void on_equity(void *ctx, const tt_equity_point *p)
{
    run *r = ctx;
    tt_err err;
    if (tt_equity_series_add(r->equity, p, &err))
        tt_engine_fail(r->e, &err);
    for (uint32_t k = 0; r->prices && k < r->nids; k++) {
        tt_quote q;
        if (tt_portfolio_last_quote(r->pf, r->ids[k], &q) == 1)
            tt_price_path_add(r->prices, k, r->ids[k], p->ts, q.bid);
    }
}

static void on_order(void *ctx, const tt_event *ev)
{
    run *r = ctx;
    if (r->cfg->skip_order_events)
        return;
    if (r->norders == r->caporders) {
        size_t cap = r->caporders ? r->caporders * 2 : 256;
        tt_order_record *v = realloc(r->orders, cap * sizeof *v);
        if (!v) {
            tt_err err;
            tt_err_set(&err, TT_ENOMEM, "out of memory collecting results (order events)");
            tt_engine_fail(r->e, &err);
            return;
        }
        r->orders = v;
        r->caporders = cap;
    }
    const tt_order_event *o = &ev->u.order_ev;
    tt_order_record *x = &r->orders[r->norders++];
    memset(x, 0, sizeof *x);
    x->ts = ev->ts ? ev->ts : tt_engine_now(r->e);
    x->client_id = o->client_id;
    x->venue_id = o->venue_id;
    x->symbol = ev->symbol;
    x->status = o->status;
    x->reason = o->reason;
    x->side = o->side;
    x->price = o->fill_qty ? o->fill_price : 0;
    x->qty = o->fill_qty ? o->fill_qty : o->leaves_qty;
}

/* Wraps the data source: counts the input events (the result's `events`, the
 * span first/last) and calls the progress callback. */
static int counting_next(void *self, tt_event *ev, tt_err *err)
{
    run *r = self;
    int s = r->data.next(r->data.self, ev, err);
    if (s != TT_SRC_EVENT)
        return s;
    if (!r->count)
        r->first = ev->ts;
    r->last = ev->ts;
    r->count++;
    if (r->cfg->progress && r->count % r->every == 0)
        r->cfg->progress(r->cfg->progress_ctx, r->count, ev->ts);
    return s;
}

/* The batch form of counting_next: the replay fast path stays a fast path
 * when the data source has one. */
static int counting_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    run *r = self;
    int s = r->data.next_batch(r->data.self, buf, cap, count, err);
    if (s != TT_SRC_EVENT)
        return s;
    if (!r->count)
        r->first = buf[0].ts;
    r->last = buf[*count - 1].ts;
    uint64_t before = r->count;
    r->count += (uint64_t)*count;
    if (r->cfg->progress && before / r->every != r->count / r->every)
        r->cfg->progress(r->cfg->progress_ctx, r->count, r->last);
    return s;
}

void tt_backtest_config_default(tt_backtest_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    tt_venue_config_default(&cfg->venue);
    cfg->flatten_on_halt = 1;
    cfg->equity_interval = TT_NS_PER_MIN;
    cfg->trades_keep_max = TT_BACKTEST_TRADES_KEEP;
}

int tt_backtest_result_take_trades(tt_backtest_result *r, tt_trade_record **trades, size_t *n)
{
    tt_trade_record *t = r->trades;
    if (r->trades_map_len) {
        if (!(t = malloc(r->trades_map_len)))
            return TT_ENOMEM;
        memcpy(t, r->trades, r->trades_map_len);
        munmap(r->trades, r->trades_map_len);
        r->trades_map_len = 0;
    }
    *trades = t;
    *n = r->ntrades;
    r->trades = NULL;
    r->ntrades = 0;
    return TT_OK;
}

void tt_backtest_result_free(tt_backtest_result *r)
{
    if (!r)
        return;
    if (r->trades_map_len)
        munmap(r->trades, r->trades_map_len);
    else
        free(r->trades);
    free(r->equity);
    free(r->orders);
    free(r->prices);
    memset(r, 0, sizeof *r);
}

static int is_plugin_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 3 && !strcmp(s + n - 3, ".so"));
}

/* The tape's stream of sym of that kind (bars: M1 of that side), or NULL. */
static const tt_stream_info *tape_stream(const tt_tape_info *info, const char *sym, int kind,
                                         int side)
{
    for (uint32_t i = 0; i < info->nstreams; i++) {
        const tt_stream_desc *d = &info->streams[i].desc;
        if (d->kind == kind && !strcasecmp(d->symbol, sym) &&
            (kind != TT_STREAM_BAR || (d->tf == TT_TF_M1 && d->side == side)))
            return &info->streams[i];
    }
    return NULL;
}

/* Add `sym` to the query list when the tape holds quotes for it (or, for a
 * bar model, M1 bid bars) and it is not there yet. */
static void add_if_on_tape(const tt_tape_info *info, const char **list, int *n, int max,
                           const char *sym, int bars)
{
    for (int i = 0; i < *n; i++)
        if (!strcasecmp(list[i], sym))
            return;
    const tt_stream_info *st = tape_stream(info, sym, TT_STREAM_QUOTE, 0);
    if (!st && bars)
        st = tape_stream(info, sym, TT_STREAM_BAR, TT_SIDE_BID);
    if (st && *n < max)
        list[(*n)++] = st->desc.symbol;
}

static void conversion_symbols(const tt_instruments *ins, const tt_tape_info *info,
                               const char *acct, const char **list, int *n, int max, int ntraded,
                               int bars)
{
    const char *ccys[3];
    for (int k = 0; k < ntraded; k++) {
        const tt_instrument *x = tt_instruments_find(ins, list[k]);
        if (!x)
            continue;
        ccys[0] = x->quote;
        ccys[1] = "USD";
        ccys[2] = NULL;
        for (int j = 0; ccys[j]; j++) {
            const char *c = ccys[j];
            if (!strcasecmp(c, acct))
                continue;
            char s[TT_SYMBOL_MAX];
            const char *pairs[4][2] = {{c, acct}, {acct, c}, {c, "USD"}, {"USD", c}};
            for (int p = 0; p < 4; p++) {
                if (!strcasecmp(pairs[p][0], pairs[p][1]))
                    continue;
                snprintf(s, sizeof s, "%s%s", pairs[p][0], pairs[p][1]);
                add_if_on_tape(info, list, n, max, s, bars);
            }
        }
    }
}


/* ---- assembly, one step per piece ---- */

static int build_collectors(run *r, tt_err *err)
{
    const tt_backtest_config *cfg = r->cfg;
    if (cfg->venue.account.initial_balance > 0 &&
        !(r->acc = tt_metrics_acc_new(cfg->venue.account.initial_balance, &cfg->metrics)))
        return tt_err_set(err, TT_ENOMEM, "out of memory (metrics)");
    int rc;
    if ((rc = tt_trade_log_new(&r->trades, cfg->trades_keep_max, err)) ||
        (rc = tt_equity_series_new(&r->equity, cfg->equity_keep_max, r->acc, err)))
        return rc;
    return TT_OK;
}

static int build_symbols(run *r, tt_err *err)
{
    const tt_backtest_config *cfg = r->cfg;
    int rc;
    r->ins = cfg->instruments;
    if (!r->ins) {
        if (!(r->own_ins = tt_instruments_new()))
            return tt_err_set(err, TT_ENOMEM, "out of memory (instruments)");
        if (cfg->instruments_file &&
            (rc = tt_instruments_load(r->own_ins, cfg->instruments_file, err)))
            return rc;
        r->ins = r->own_ins;
    }
    for (int i = 0; i < TT_BACKTEST_MAX_SYMBOLS && cfg->symbols[i]; i++) {
        const tt_instrument *x;
        if ((rc = tt_instruments_require(r->ins, cfg->symbols[i], &x, err))) {
            tt_err_prefix(err, "symbols[%d]: ", i);
            return rc;
        }
        r->ids[r->nids++] = x->id;
    }
    if (!r->nids)
        return tt_err_set(err, TT_EINVAL, "symbols: at least one symbol is needed");
    return tt_price_path_new(&r->prices, r->nids, 0, err);
}

/* A reader of one symbol's stream over [from, to): quotes, or M1 bars of a side. */
static int open_one(run *r, const char *sym, int kind, int side, tt_source *out, tt_err *err)
{
    const char *list[2] = {sym, NULL};
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.symbols = list;
    q.kinds = 1u << kind;
    q.tf = kind == TT_STREAM_BAR ? TT_TF_M1 : 0;
    q.side = (uint8_t)side;
    q.from = r->cfg->from;
    q.to = r->cfg->to;
    tt_tape_reader **rd = &r->mreaders[r->nmreaders];
    int rc = tt_tape_reader_open(rd, r->cfg->tape_dir, &q, r->ins, err);
    if (rc) {
        tt_err_prefix(err, "data: ");
        return rc;
    }
    r->nmreaders++;
    *out = tt_tape_reader_source(*rd);
    return TT_OK;
}

/* A bar model over one symbol: its M1 bid bars (and ask bars for
 * spread_from_bars) when the tape has them, else bars built from its quotes. */
static int open_model(run *r, const char *sym, tt_err *err)
{
    const tt_backtest_config *cfg = r->cfg;
    const tt_instrument *ins;
    int rc;
    if (r->nmodels == TT_MERGE_MAX)
        return tt_err_set(err, TT_EINVAL, "data.model: more than %d symbols (with conversion "
                          "pairs)", TT_MERGE_MAX);
    if ((rc = tt_instruments_require(r->ins, sym, &ins, err)))
        return rc;
    tt_bar_model_opts o = {cfg->model, cfg->seed, cfg->spread_points, cfg->spread_from_bars,
                           ins->id, ins->symbol, (uint16_t)(r->nmodels + 1)};
    tt_bar_model_src **m = &r->models[r->nmodels];
    tt_source bid, ask = {0};
    if (tape_stream(&r->info, sym, TT_STREAM_BAR, TT_SIDE_BID)) {
        if (cfg->spread_from_bars && !tape_stream(&r->info, sym, TT_STREAM_BAR, TT_SIDE_ASK))
            return tt_err_set(err, TT_ENOTFOUND, "data.spread from_bars: the tape %s has M1 bid "
                              "bars of %s but no M1 ask bars (bar-M1-ask)", cfg->tape_dir, sym);
        if ((rc = open_one(r, sym, TT_STREAM_BAR, TT_SIDE_BID, &bid, err)) ||
            (cfg->spread_from_bars &&
             (rc = open_one(r, sym, TT_STREAM_BAR, TT_SIDE_ASK, &ask, err))) ||
            (rc = tt_bar_model_src_new_bars(m, bid, ask, &o, err)))
            return rc;
    } else if (tape_stream(&r->info, sym, TT_STREAM_QUOTE, 0)) {
        if ((rc = open_one(r, sym, TT_STREAM_QUOTE, 0, &bid, err)) ||
            (rc = tt_bar_model_src_new_quotes(m, bid, &o, err)))
            return rc;
    } else {
        return tt_err_set(err, TT_ENOTFOUND, "data.model %s: the tape %s has neither M1 bid "
                          "bars (bar-M1-bid) nor quotes of %s", tt_bar_model_name(cfg->model),
                          cfg->tape_dir, sym);
    }
    r->nmodels++;
    return TT_OK;
}

/* The bar models of the symbols in list, merged in time order when several. */
static int open_models(run *r, const char **list, int n, tt_err *err)
{
    tt_source srcs[TT_MERGE_MAX];
    int rc;
    for (int i = 0; i < n; i++)
        if ((rc = open_model(r, list[i], err)))
            return rc;
    for (int i = 0; i < r->nmodels; i++)
        srcs[i] = tt_bar_model_src_source(r->models[i]);
    if (r->nmodels == 1) {
        r->data = srcs[0];
        return TT_OK;
    }
    if ((rc = tt_merge_new(&r->merge, srcs, r->nmodels, err))) {
        tt_err_prefix(err, "data: ");
        return rc;
    }
    r->data = tt_merge_source(r->merge);
    return TT_OK;
}

/* A tape over [from, to): the traded symbols plus the conversion pairs it holds. */
static int open_tape(run *r, tt_err *err)
{
    const tt_backtest_config *cfg = r->cfg;
    const char *list[TT_BACKTEST_MAX_SYMBOLS * 4 + 1];
    int n = 0, rc;
    for (uint32_t i = 0; i < r->nids; i++)
        list[n++] = tt_instruments_get(r->ins, r->ids[i])->symbol;
    if ((rc = tt_tape_info_read(cfg->tape_dir, &r->info, err)))
        return rc;
    r->have_info = 1;
    conversion_symbols(r->ins, &r->info, cfg->venue.account.currency, list, &n,
                       TT_BACKTEST_MAX_SYMBOLS * 4, (int)r->nids, cfg->model != 0);
    list[n] = NULL;
    if (cfg->model) {
        if ((rc = open_models(r, list, n, err)))
            return rc;
    } else {
        tt_tape_query q;
        memset(&q, 0, sizeof q);
        q.symbols = list;
        q.kinds = 1u << TT_STREAM_QUOTE;
        q.from = cfg->from;
        q.to = cfg->to;
        if ((rc = tt_tape_reader_open(&r->reader, cfg->tape_dir, &q, r->ins, err))) {
            tt_err_prefix(err, "data: ");
            return rc;
        }
        r->data = tt_tape_reader_source(r->reader);
    }
    if (!cfg->external[0])
        return TT_OK;
    if ((rc = tt_external_reader_open(&r->ext_reader, cfg->tape_dir, cfg->external, cfg->from,
                                      cfg->to, err))) {
        tt_err_prefix(err, "data.external: ");
        return rc;
    }
    /* one event at a time from the external reader: a payload points into
     * the reader's block and must stay valid until the engine has it */
    tt_source both[2] = {r->data, tt_tape_reader_source(r->ext_reader)};
    both[1].next_batch = NULL;
    if ((rc = tt_merge_new(&r->ext_merge, both, 2, err)))
        return rc;
    r->data = tt_merge_source(r->ext_merge);
    return TT_OK;
}

/* The data: the sources added (merged when several), else the configuration's. */
static int build_data(run *r, tt_err *err)
{
    const tt_backtest *bt = r->bt;
    if (r->grouped)
        return TT_OK;
    if (r->cfg->model && (bt->nsources || r->cfg->source || !r->cfg->tape_dir))
        return tt_err_set(err, TT_EINVAL, "data.model %s: a bar model reads a tape (data.tape), "
                          "not another source", tt_bar_model_name(r->cfg->model));
    if (bt->nsources == 1) {
        r->data = bt->sources[0];
    } else if (bt->nsources > 1) {
        int rc = tt_merge_new(&r->merge, bt->sources, bt->nsources, err);
        if (rc) {
            tt_err_prefix(err, "data: ");
            return rc;
        }
        r->data = tt_merge_source(r->merge);
    } else if (r->cfg->source) {
        r->data = *r->cfg->source;
    } else if (r->cfg->tape_dir) {
        return open_tape(r, err);
    } else {
        return tt_err_set(err, TT_EINVAL, "data: neither a tape directory nor a source is given");
    }
    return TT_OK;
}

/* The venue (set, or the simulated one), the strategy's account, the risk gate. */
static int build_account(run *r, tt_err *err)
{
    const tt_backtest_config *cfg = r->cfg;
    int rc;
    if (r->bt->venue.command) {
        r->venue = r->bt->venue;
    } else {
        if ((rc = tt_sim_venue_new(&r->sim, r->ins, &cfg->venue, err)))
            return rc;
        r->venue = tt_sim_venue_port(r->sim);
    }
    if ((rc = tt_portfolio_new(&r->pf, r->ins, &cfg->venue.account, err)) ||
        (rc = tt_risk_gate_new(&r->risk, &cfg->risk, err)))
        return rc;
    tt_news *news = tt_risk_gate_news(r->risk);
    if (news && cfg->tape_dir && cfg->external[0] &&
        (rc = tt_external_schedule_load(news, cfg->tape_dir, cfg->external, err))) {
        tt_err_prefix(err, "risk.news_blackout: ");
        return rc;
    }
    /* the strategies' schedule (the news features): the streams' timed events
     * now, every calendar event received while the run goes */
    if ((rc = tt_news_new(&r->news, err)) ||
        (cfg->tape_dir && cfg->external[0] &&
         (rc = tt_external_schedule_load(r->news, cfg->tape_dir, cfg->external, err)))) {
        tt_err_prefix(err, "data.external: ");
        return rc;
    }
    tt_portfolio_on_trade(r->pf, on_trade, r);
    return TT_OK;
}

/* The strategy: given directly, a plugin path, or a built-in name. */
static int find_strategy(run *r, const tt_strategy_vtable **out, tt_err *err)
{
    const tt_backtest_config *cfg = r->cfg;
    const tt_strategy_vtable *vt = cfg->strategy_vtable;
    int rc;
    if (!vt && (!cfg->strategy || !cfg->strategy[0]))
        return tt_err_set(err, TT_EINVAL, "strategy: no strategy name or plugin path");
    if (!vt && is_plugin_path(cfg->strategy)) {
        if ((rc = tt_plugin_open(&r->plugin, cfg->strategy, err)))
            return rc;
        vt = tt_plugin_strategy(r->plugin);
    }
    if (!vt && !(vt = tt_strategy_builtin(cfg->strategy)) && !(vt = tt_ml_strategy(cfg->strategy))) {
        char names[200] = "";
        for (int i = 0; tt_strategy_builtin_at(i); i++) {
            strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
            strncat(names, tt_strategy_builtin_at(i)->name, sizeof names - strlen(names) - 1);
        }
        strncat(names, ", xgb", sizeof names - strlen(names) - 1);
        return tt_err_set(err, TT_ENOTFOUND,
                          "strategy: unknown strategy '%s' (built-in: %s; or a plugin path)",
                          cfg->strategy, names);
    }
    *out = vt;
    return TT_OK;
}

/* A bar model's bar component: built from the input bars (M1 and longer
 * only), closing on the next event; ask carriers when a subscription wants
 * the ask or mid side. */
static int model_bars(run *r, const tt_bar_sub *subs, int nsub, tt_bars_opts *bo, tt_err *err)
{
    int ask = 0;
    for (int i = 0; i < nsub; i++) {
        if (subs[i].tf < TT_TF_M1)
            return tt_err_set(err, TT_EINVAL, "data.model %s: the bars come from M1 bars, so a "
                              "%s bar subscription cannot be served (M1 or longer)",
                              tt_bar_model_name(r->cfg->model), tt_timeframe_name(subs[i].tf));
        ask |= subs[i].side != TT_SIDE_BID;
    }
    for (int i = 0; i < r->nmodels; i++)
        tt_bar_model_src_set_ask_carriers(r->models[i], ask);
    r->want_ask = ask;
    bo->from_bars = 1;
    bo->no_timers = 1;
    return TT_OK;
}

/* The runner, then the bars: the strategy's subscriptions, then the config's. */
static int build_strategy(run *r, tt_err *err)
{
    const tt_backtest_config *cfg = r->cfg;
    const tt_strategy_vtable *vt = NULL;
    int rc;
    if ((rc = find_strategy(r, &vt, err)))
        return rc;
    tt_runner_config rcfg;
    memset(&rcfg, 0, sizeof rcfg);
    rcfg.strategy = vt;
    rcfg.params = cfg->params;
    rcfg.param_origin = cfg->param_origin;
    rcfg.param_origin_ctx = cfg->param_origin_ctx;
    rcfg.seed = cfg->seed;
    rcfg.symbols = r->ids;
    rcfg.nsymbols = r->nids;
    rcfg.portfolio = r->pf;
    rcfg.risk = r->risk;
    rcfg.news = r->news;
    rcfg.equity_interval = cfg->equity_interval;
    rcfg.flatten_on_halt = cfg->flatten_on_halt;
    rcfg.skip_input_bars = cfg->model != 0;
    rcfg.on_equity = on_equity;
    rcfg.on_order_event = on_order;
    rcfg.observer_ctx = r;
    rcfg.log = cfg->log;
    rcfg.log_ctx = cfg->log_ctx;
    rcfg.user = cfg->strategy_user;
    if ((rc = tt_runner_new(&r->runner, r->ins, &rcfg, err)))
        return rc;
    tt_bar_sub subs[TT_BACKTEST_MAX_BARS + 16];
    const tt_bar_sub *ss;
    int ns = tt_runner_bar_subs(r->runner, &ss), nsub = 0;
    for (int i = 0; i < ns; i++)
        subs[nsub++] = ss[i];
    for (int i = 0; i < cfg->nbars && i < TT_BACKTEST_MAX_BARS; i++)
        subs[nsub++] = cfg->bars[i];
    if (nsub) {
        tt_bars_opts bo;
        memset(&bo, 0, sizeof bo);
        if (cfg->model && (rc = model_bars(r, subs, nsub, &bo, err)))
            return rc;
        if ((rc = tt_bars_new(&r->bars, subs, nsub, &bo, err)))
            return rc;
        tt_bars_listen(r->bars, tt_runner_bar_listener, r->runner);
    }
    return TT_OK;
}

/* The engine: the counted source, the clock, the venue (which sees every
 * event first), the bar builder, the runner, the components, the sinks. */
static int build_engine(run *r, tt_err *err)
{
    const tt_backtest *bt = r->bt;
    if (!(r->e = tt_engine_new(r->ins)))
        return tt_err_set(err, TT_ENOMEM, "out of memory (engine)");
    r->every = r->cfg->progress_every ? r->cfg->progress_every : 1000000;
    tt_source counted = {r, counting_next, NULL, r->data.next_batch ? counting_batch : NULL};
    if (!r->grouped) /* a group feeds the engine itself */
        tt_engine_set_source(r->e, counted);
    if (bt->clock.now)
        tt_engine_set_clock(r->e, bt->clock);
    tt_engine_set_venue(r->e, r->venue);
    if (r->bars)
        tt_engine_add_component(r->e, tt_bars_component(r->bars));
    tt_engine_add_component(r->e, tt_runner_component(r->runner));
    for (int i = 0; i < bt->ncomps; i++)
        if (tt_engine_add_component(r->e, bt->comps[i]))
            return tt_err_set(err, TT_EINVAL, "components[%d]: too many components", i);
    for (int i = 0; i < bt->nsinks; i++)
        if (tt_engine_add_sink(r->e, bt->sinks[i]))
            return tt_err_set(err, TT_EINVAL, "sinks[%d]: too many sinks", i);
    return TT_OK;
}

/* After the run: what the engine, the venue and the books say. */
static void collect_figures(run *r, tt_backtest_result *out)
{
    if (r->acc)
        tt_metrics_acc_result(r->acc, &out->metrics);
    out->equity_sampled = tt_equity_series_sampled(r->equity);
    out->fingerprint = tt_engine_fingerprint(r->e);
    out->events = r->count;
    out->outputs = tt_engine_outputs(r->e);
    out->initial_balance = r->cfg->venue.account.initial_balance;
    out->final_balance = tt_portfolio_balance(r->pf);
    out->final_equity = tt_portfolio_equity(r->pf);
    tt_venue_totals vt;
    memset(&vt, 0, sizeof vt);
    if (r->venue.totals)
        r->venue.totals(r->venue.self, &vt);
    out->commissions = vt.commissions;
    out->swaps = vt.swaps;
    out->fills = vt.fills;
    out->stop_outs = vt.stop_outs;
    out->orders_sent = tt_runner_orders_sent(r->runner);
    out->risk_rejects = tt_runner_risk_rejects(r->runner);
    tt_runner_rejects(r->runner, &out->rejects);
    out->first_ts = r->first;
    out->last_ts = r->last;
}

/* The lists collected (whatever happened) into *out; rc is the run's result
 * so far, and a list that fails to finish becomes it when rc is 0. */
static int collect_lists(run *r, int rc, tt_backtest_result *out, tt_err *err)
{
    tt_err lerr;
    if (r->equity && tt_equity_series_finish(r->equity, &out->equity, &out->nequity, &lerr) &&
        !rc) {
        rc = lerr.code;
        if (err)
            *err = lerr;
    }
    if (r->trades && tt_trade_log_finish(r->trades, &out->trades, &out->ntrades,
                                         &out->trades_map_len, &lerr) &&
        !rc) {
        rc = lerr.code;
        if (err)
            *err = lerr;
    }
    out->orders = r->orders;
    out->norders = r->norders;
    r->orders = NULL;
    if (tt_price_path_collect(r->prices, &out->prices, &out->nprices, &lerr) && !rc) {
        rc = lerr.code;
        if (err)
            *err = lerr;
    }
    return rc;
}

static void run_free(run *r)
{
    tt_engine_free(r->e);
    tt_bars_free(r->bars);
    tt_runner_free(r->runner);
    tt_plugin_close(r->plugin);
    tt_risk_gate_free(r->risk);
    tt_news_free(r->news);
    tt_portfolio_free(r->pf);
    tt_sim_venue_free(r->sim);
    tt_merge_free(r->ext_merge);
    tt_merge_free(r->merge);
    for (int i = 0; i < r->nmodels; i++)
        tt_bar_model_src_free(r->models[i]);
    for (int i = 0; i < r->nmreaders; i++)
        tt_tape_reader_close(r->mreaders[i]);
    if (r->reader)
        tt_tape_reader_close(r->reader);
    tt_tape_reader_close(r->ext_reader);
    if (r->have_info)
        tt_tape_info_free(&r->info);
    tt_instruments_free(r->own_ins);
    tt_trade_log_free(r->trades);
    tt_equity_series_free(r->equity);
    tt_price_path_free(r->prices);
    tt_metrics_acc_free(r->acc);
    free(r->orders);
}

/* ---- the builder ---- */

int tt_backtest_open(tt_backtest **out, const tt_backtest_config *cfg, tt_err *err)
{
    *out = NULL;
    if (cfg->nsinks < 0 || cfg->nsinks > TT_BACKTEST_MAX_SINKS)
        return tt_err_set(err, TT_EINVAL, "sinks: %d (0..%d)", cfg->nsinks,
                          TT_BACKTEST_MAX_SINKS);
    if (cfg->ncomponents < 0 || cfg->ncomponents > TT_BACKTEST_MAX_SINKS)
        return tt_err_set(err, TT_EINVAL, "components: %d (0..%d)", cfg->ncomponents,
                          TT_BACKTEST_MAX_SINKS);
    tt_backtest *bt = calloc(1, sizeof *bt);
    if (!bt)
        return tt_err_set(err, TT_ENOMEM, "out of memory (backtest)");
    bt->cfg = *cfg;
    memcpy(bt->sinks, cfg->sinks, (size_t)cfg->nsinks * sizeof *bt->sinks);
    bt->nsinks = cfg->nsinks;
    memcpy(bt->comps, cfg->components, (size_t)cfg->ncomponents * sizeof *bt->comps);
    bt->ncomps = cfg->ncomponents;
    *out = bt;
    return TT_OK;
}

void tt_backtest_close(tt_backtest *bt)
{
    if (!bt)
        return;
    if (bt->r) { /* started and never finished: end the run, drop what it collected */
        tt_backtest_result dropped;
        tt_backtest_finish(bt, &dropped, NULL);
        tt_backtest_result_free(&dropped);
    }
    free(bt);
}

static int check_open(const tt_backtest *bt, const char *what, tt_err *err)
{
    if (bt->executed)
        return tt_err_set(err, TT_ESTATE, "backtest: %s after the run", what);
    return TT_OK;
}

int tt_backtest_set_venue(tt_backtest *bt, tt_venue venue, tt_err *err)
{
    int rc = check_open(bt, "set_venue", err);
    if (rc)
        return rc;
    if (!venue.command)
        return tt_err_set(err, TT_EINVAL, "backtest: a venue without command()");
    bt->venue = venue;
    return TT_OK;
}

int tt_backtest_set_clock(tt_backtest *bt, tt_clock clock, tt_err *err)
{
    int rc = check_open(bt, "set_clock", err);
    if (rc)
        return rc;
    bt->clock = clock;
    return TT_OK;
}

int tt_backtest_add_source(tt_backtest *bt, tt_source src, tt_err *err)
{
    int rc = check_open(bt, "add_source", err);
    if (rc)
        return rc;
    if (!src.next && !src.next_batch)
        return tt_err_set(err, TT_EINVAL, "backtest: a source without next()");
    if (bt->nsources == TT_BACKTEST_MAX_SOURCES)
        return tt_err_set(err, TT_EINVAL, "backtest: more than %d sources",
                          TT_BACKTEST_MAX_SOURCES);
    bt->sources[bt->nsources++] = src;
    return TT_OK;
}

int tt_backtest_add_sink(tt_backtest *bt, tt_sink sink, tt_err *err)
{
    int rc = check_open(bt, "add_sink", err);
    if (rc)
        return rc;
    if (!sink.write)
        return tt_err_set(err, TT_EINVAL, "backtest: a sink without write()");
    if (bt->nsinks == MAX_SINKS)
        return tt_err_set(err, TT_EINVAL, "backtest: more than %d sinks", MAX_SINKS);
    bt->sinks[bt->nsinks++] = sink;
    return TT_OK;
}

int tt_backtest_add_component(tt_backtest *bt, tt_component c, tt_err *err)
{
    int rc = check_open(bt, "add_component", err);
    if (rc)
        return rc;
    if (bt->ncomps == MAX_COMPONENTS)
        return tt_err_set(err, TT_EINVAL, "backtest: more than %d components", MAX_COMPONENTS);
    bt->comps[bt->ncomps++] = c;
    return TT_OK;
}

/* Every piece of a run, in the fixed order (the data only when not in a
 * group). 1 when all were built, else 0 with *rc the error. */
static int run_build(run *r, int *rc, tt_err *err)
{
    return !(*rc = build_collectors(r, err)) && !(*rc = build_symbols(r, err)) &&
           !(*rc = build_data(r, err)) && !(*rc = build_account(r, err)) &&
           !(*rc = build_strategy(r, err)) && !(*rc = build_engine(r, err));
}

/* What the run produced into *out, then free it. */
static int run_collect(run *r, int built, int rc, tt_backtest_result *out, tt_err *err)
{
    rc = collect_lists(r, rc, out, err); /* the final equity point reaches the metrics here */
    if (built)
        collect_figures(r, out);
    run_free(r);
    return rc;
}

int tt_backtest_start(tt_backtest *bt, tt_err *err)
{
    int rc = check_open(bt, "start", err);
    if (rc)
        return rc;
    bt->executed = 1;
    run *r = calloc(1, sizeof *r);
    if (!r)
        return bt->rc = tt_err_set(err, TT_ENOMEM, "out of memory (backtest)");
    bt->r = r;
    r->bt = bt;
    r->cfg = &bt->cfg;
    bt->built = run_build(r, &rc, err);
    if (bt->built)
        bt->begun = (rc = tt_engine_begin(r->e, err)) == TT_OK;
    return bt->rc = rc;
}

int tt_backtest_advance(tt_backtest *bt, tt_err *err)
{
    if (!bt->begun || (bt->advanced && bt->rc != TT_ENGINE_PAUSED))
        return tt_err_set(err, TT_ESTATE, "backtest: advance %s",
                          bt->begun ? "after the run is over" : "without a started run");
    bt->advanced = 1;
    return bt->rc = tt_engine_advance(bt->r->e, err);
}

void tt_backtest_pause(tt_backtest *bt)
{
    if (bt->r && bt->r->e)
        tt_engine_pause(bt->r->e);
}

int tt_backtest_finish(tt_backtest *bt, tt_backtest_result *out, tt_err *err)
{
    memset(out, 0, sizeof *out);
    run *r = bt->r;
    if (!r) { /* never started, finished already, or no memory for the run */
        int rc = bt->executed && !bt->finished && bt->rc < 0
                     ? bt->rc
                     : tt_err_set(err, TT_ESTATE, "backtest: finish without a started run");
        bt->finished = 1;
        return rc;
    }
    bt->finished = 1;
    int rc = bt->rc;
    if (bt->begun)
        rc = tt_engine_finish(r->e, rc, err);
    bt->begun = 0;
    rc = run_collect(r, bt->built, rc, out, err);
    free(r);
    bt->r = NULL;
    return rc;
}

int tt_backtest_exec(tt_backtest *bt, tt_backtest_result *out, tt_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_open(bt, "exec", err);
    if (rc)
        return rc;
    if (tt_backtest_start(bt, err) == TT_OK)
        while (tt_backtest_advance(bt, err) == TT_ENGINE_PAUSED)
            ; /* a pause asked for during a whole run changes nothing */
    return tt_backtest_finish(bt, out, err);
}

/* ---- groups: several runs over one pass of the data ---- */

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Two instrument tables that give every symbol the same id and facts (each
 * prepared scenario has its own table, loaded from the same file). */
static int same_instruments(const tt_instruments *a, const tt_instruments *b)
{
    if (a == b)
        return 1;
    if (!a || !b || tt_instruments_count(a) != tt_instruments_count(b))
        return 0;
    for (uint32_t id = 1; id <= tt_instruments_count(a); id++) {
        const tt_instrument *x = tt_instruments_get(a, id), *y = tt_instruments_get(b, id);
        if (!x || !y) {
            if (x != y)
                return 0;
            continue;
        }
        if (strcmp(x->symbol, y->symbol) || strcmp(x->base, y->base) ||
            strcmp(x->quote, y->quote) || x->points != y->points || x->digits != y->digits ||
            x->pip != y->pip || x->contract_size != y->contract_size ||
            x->volume_step != y->volume_step || x->swap_long != y->swap_long ||
            x->swap_short != y->swap_short || x->margin_rate != y->margin_rate)
            return 0;
    }
    return 1;
}

/* The fields that decide what data a run reads (and the conversion pairs it
 * adds to a tape query: the account currency). */
static int same_data(const tt_backtest_config *a, const tt_backtest_config *b)
{
    if (!same_str(a->tape_dir, b->tape_dir) || a->source != b->source || a->from != b->from ||
        a->to != b->to || a->model != b->model || a->spread_points != b->spread_points ||
        a->spread_from_bars != b->spread_from_bars ||
        !same_instruments(a->instruments, b->instruments) ||
        !same_str(a->instruments_file, b->instruments_file) ||
        strcmp(a->venue.account.currency, b->venue.account.currency))
        return 0;
    for (int i = 0; i < TT_BACKTEST_MAX_SYMBOLS; i++) {
        if (!same_str(a->symbols[i], b->symbols[i]))
            return 0;
        if (!a->symbols[i])
            break;
    }
    return 1;
}

/* The group's pass. The data is read as a run alone reads it, 64 events a
 * batch (a run that stops has read, and counts, the batches it was handed,
 * as alone), GROUP_BATCHES batches at a time; each run then takes all of
 * them before the next run does, so its state stays in cache a while.
 * Returns 0 at the data's end, or its error (err) once the batches read
 * before it were fed. */
#define GROUP_BATCHES 16

static int group_read(run *data, tt_event *buf, int *counts, int *nb, tt_err *err)
{
    *nb = 0;
    for (int b = 0; b < GROUP_BATCHES; b++) {
        int got = 1, s;
        tt_err_clear(err);
        tt_event *at = buf + b * 64;
        if (data->data.next_batch)
            s = data->data.next_batch(data->data.self, at, 64, &got, err);
        else
            s = data->data.next(data->data.self, at, err);
        if (s < 0)
            return s;
        if (s == TT_SRC_END)
            return TT_OK;
        if (s != TT_SRC_EVENT || got < 1 || got > 64)
            return tt_err_set(err, TT_ESTATE, "data: a group's source returned status %d (%d "
                              "events): a replay source is needed", s, got);
        counts[(*nb)++] = got;
    }
    return TT_OK;
}

/* The quiet path's columns of each batch, built once for every run. */
typedef struct group_views {
    tt_market_view v[GROUP_BATCHES];
    tt_ts ts[GROUP_BATCHES][64];
    tt_price bid[GROUP_BATCHES][64], ask[GROUP_BATCHES][64];
    float bv[GROUP_BATCHES][64], av[GROUP_BATCHES][64];
} group_views;

static int group_pass(run *data, run *rs, int *live, size_t n, tt_err *err)
{
    tt_event *buf = malloc(GROUP_BATCHES * 64 * sizeof *buf);
    group_views *gv = malloc(sizeof *gv);
    if (!buf || !gv) {
        free(buf);
        free(gv);
        return tt_err_set(err, TT_ENOMEM, "out of memory (group)");
    }
    const tt_backtest_config *cfg0 = rs[0].cfg;
    uint64_t total = 0, every = cfg0->progress_every ? cfg0->progress_every : 1000000;
    int counts[GROUP_BATCHES], nb, rc = TT_OK;
    /* the batches read before a data error are fed first, as alone */
    while (!rc && ((rc = group_read(data, buf, counts, &nb, err)), nb)) {
        for (int b = 0; b < nb; b++)
            if (!tt_market_view_build(buf + b * 64, counts[b], &gv->v[b], gv->ts[b], gv->bid[b],
                                      gv->ask[b], gv->bv[b], gv->av[b]))
                gv->v[b].symbol = 0; /* not one symbol's quotes: nothing quiet */
        for (size_t i = 0; i < n; i++) {
            run *r = &rs[i];
            for (int b = 0; live[i] && b < nb; b++) {
                const tt_event *at = buf + b * 64;
                if (!r->count)
                    r->first = at[0].ts;
                r->last = at[counts[b] - 1].ts;
                r->count += (uint64_t)counts[b];
                if (tt_engine_feed_view(r->e, at, counts[b], &gv->v[b]))
                    live[i] = 0; /* stopped: it reads no more, as alone */
            }
        }
        for (int b = 0; cfg0->progress && b < nb; b++) {
            if (total / every != (total + (uint64_t)counts[b]) / every)
                cfg0->progress(cfg0->progress_ctx, total + (uint64_t)counts[b],
                               buf[b * 64 + counts[b] - 1].ts);
            total += (uint64_t)counts[b];
        }
    }
    free(buf);
    free(gv);
    return rc;
}

int tt_backtest_group_run(const tt_backtest_config *const *cfgs, size_t n,
                          tt_backtest_result *out, int *rcs, tt_err *errs, tt_err *err)
{
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        rcs[i] = TT_OK;
        tt_err_clear(&errs[i]);
    }
    if (n == 0)
        return TT_OK;
    /* an external event's payload points into its reader's block, which the
     * pass's read-ahead would overwrite: such runs go alone */
    if (cfgs[0]->external[0])
        return tt_err_set(err, TT_EINVAL, "backtest group: external streams (data.external) "
                          "are not shared: run them apart");
    for (size_t i = 1; i < n; i++)
        if (!same_data(cfgs[0], cfgs[i]))
            return tt_err_set(err, TT_EINVAL, "backtest group: run %zu reads other data than "
                              "run 0 (tape, source, range, symbols, model or currency)", i);
    tt_backtest *dbt = NULL, **bts = calloc(n, sizeof *bts);
    run *rs = calloc(n, sizeof *rs), data;
    int *live = calloc(n, sizeof *live), *built = calloc(n, sizeof *built);
    memset(&data, 0, sizeof data);
    int rc = bts && rs && live && built ? tt_backtest_open(&dbt, cfgs[0], err)
                                        : tt_err_set(err, TT_ENOMEM, "out of memory (group)");
    /* the data, once: the first run's symbols and source */
    if (!rc) {
        bts[0] = dbt;
        data.bt = dbt;
        data.cfg = &dbt->cfg;
        if (!(rc = build_symbols(&data, err)))
            rc = build_data(&data, err);
    }
    for (size_t i = 0; !rc && i < n; i++) {
        run *r = &rs[i];
        if (!bts[i] && (rcs[i] = tt_backtest_open(&bts[i], cfgs[i], &errs[i])))
            continue;
        bts[i]->executed = 1;
        r->bt = bts[i];
        r->cfg = &bts[i]->cfg;
        r->grouped = 1;
        built[i] = run_build(r, &rcs[i], &errs[i]);
    }
    /* a bar model sends ask bars for ask or mid subscriptions: runs that
     * differ there would see other events than alone */
    int ask = -1;
    for (size_t i = 0; !rc && i < n; i++) {
        if (!built[i] || ask == rs[i].want_ask)
            continue;
        if (ask >= 0)
            rc = tt_err_set(err, TT_EINVAL, "backtest group: under a bar model the runs' bar "
                            "sides differ (bid against ask or mid): run them apart");
        ask = rs[i].want_ask;
    }
    for (int k = 0; !rc && ask > 0 && k < data.nmodels; k++)
        tt_bar_model_src_set_ask_carriers(data.models[k], 1);
    for (size_t i = 0; !rc && i < n; i++)
        live[i] = built[i] && !(rcs[i] = tt_engine_begin(rs[i].e, &errs[i]));
    if (!rc) {
        tt_err serr;
        int src = group_pass(&data, rs, live, n, &serr);
        for (size_t i = 0; i < n; i++) {
            if (!built[i])
                continue;
            if (src && live[i]) /* the data's error ends it, as it would alone */
                tt_engine_fail(rs[i].e, &serr);
            if (!rcs[i])
                rcs[i] = tt_engine_end(rs[i].e, &errs[i]);
        }
    }
    for (size_t i = 0; i < n && rs; i++) {
        if (rs[i].cfg)
            rcs[i] = run_collect(&rs[i], built[i], rcs[i], &out[i], &errs[i]);
        if (rc) /* no run ran */
            tt_backtest_result_free(&out[i]);
        if (bts[i] != dbt)
            tt_backtest_close(bts[i]);
    }
    run_free(&data);
    tt_backtest_close(dbt);
    free(bts);
    free(rs);
    free(live);
    free(built);
    return rc;
}

int tt_backtest_run(const tt_backtest_config *cfg, tt_backtest_result *out, tt_err *err)
{
    tt_backtest *bt;
    memset(out, 0, sizeof *out);
    int rc = tt_backtest_open(&bt, cfg, err);
    if (rc)
        return rc;
    rc = tt_backtest_exec(bt, out, err);
    tt_backtest_close(bt);
    return rc;
}
