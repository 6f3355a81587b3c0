/*
 * A backtest, assembled: the one place that knows every piece.
 *
 * Construction order matters and is fixed: the venue is set first (its
 * attach() makes it the first component, so order arrivals are handled before
 * anything else at the same instant), then the bar builder (bars reach the
 * strategy before the tick that closed them), then the strategy runner, then
 * the caller's components. Sinks see every output in emission order.
 *
 * Results are collected through the runner's observers into growable arrays
 * (trades, sampled equity, order events). Nothing else grows with the span:
 * the tape reader merges lazily, the venue and the books hold only open
 * orders and positions.
 *
 * Closed trades: up to trades_keep_max in a heap array. The trade after that
 * moves the list to an unlinked temporary file ($TMPDIR, else /tmp): the
 * array is written out and freed, and every later trade goes through a
 * fixed buffer of SPILL_BUF records. At the end the buffer is flushed and the
 * file mapped read-only, so result.trades is the whole list in close order
 * either way; its pages are clean page cache, not the process's heap. The
 * mapping keeps the file alive; tt_backtest_result_free unmaps it and the
 * kernel frees the file. The metrics accumulator takes every trade as it
 * closes, before and after the switch, so the figures do not depend on it.
 *
 * Conversion symbols: when the data comes from a tape, every pair that could
 * convert a traded symbol's quote currency into the account currency (direct,
 * inverse, or through USD) is added to the query if the tape holds it, so P&L
 * in JPY or GBP can be valued without the caller listing USDJPY or GBPUSD.
 */
#include "backtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/io.h"
#include "../core/plugin.h"
#include "../data/tape.h"

/* Trades per write to the spill file (60 KiB). */
#define SPILL_BUF 512

typedef struct collect {
    tt_trade_record *trades; /* in memory (before spilling) */
    size_t ntrades, captrades; /* ntrades: every trade so far, in memory or spilled */
    size_t keep_trades;   /* trades kept in memory before spilling; 0: no limit */
    int spill_fd;         /* the spill file (unlinked), -1 before spilling */
    tt_trade_record *spill_buf;
    size_t nspill_buf;
    int spill_error;
    tt_err spill_err;
    char spill_path[512];
    size_t trades_map_len; /* after trades_finish: the mapping's length, 0 = heap */
    tt_equity_point *equity;
    uint8_t *pinned;      /* per kept point: a day's last point or the final one */
    size_t nequity, capequity, cappinned;
    size_t keep_max;      /* 0: keep every sampled point */
    uint64_t sampled, stride;
    tt_equity_point last_pt; /* the latest sampled point, kept or not */
    int have_last, last_kept;
    tt_metrics_acc *acc;
    int acc_error;
    tt_err acc_err;
    tt_order_record *orders;
    size_t norders, caporders;
    int keep_orders;
    int oom;
    tt_ts first, last;
    uint64_t count, every;
    tt_source inner; /* the data source, wrapped */
    const tt_backtest_config *cfg;
    tt_engine *e;
} collect;

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    void *p = realloc(*v, c * elem);
    if (!p)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

/* The run cannot keep its trades: record why and stop the engine (the run
 * fails with this error; the trades collected are dropped, never partial). */
static void spill_fail(collect *c, const char *what, int e)
{
    tt_err_set(&c->spill_err, TT_EIO,
               "trades: more than %zu closed trades (the in-memory limit), and %s %s: %s "
               "(set TMPDIR to a writable directory, or raise metrics.trades_in_memory)",
               c->keep_trades, what, c->spill_path, strerror(e));
    c->spill_error = 1;
    if (c->e)
        tt_engine_stop(c->e);
}

/* Move the list to a new unlinked temporary file: the kept trades are
 * written out and their array freed. */
static int spill_start(collect *c)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0])
        dir = "/tmp";
    int n = snprintf(c->spill_path, sizeof c->spill_path, "%s/ticktape-trades-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof c->spill_path) {
        snprintf(c->spill_path, sizeof c->spill_path, "%.400s...", dir);
        spill_fail(c, "cannot create a temporary file in", ENAMETOOLONG);
        return -1;
    }
    int fd = mkstemp(c->spill_path);
    if (fd < 0) {
        int e = errno;
        snprintf(c->spill_path, sizeof c->spill_path, "%s", dir);
        spill_fail(c, "cannot create a temporary file in", e);
        return -1;
    }
    unlink(c->spill_path);
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    c->spill_fd = fd;
    if (!(c->spill_buf = malloc(SPILL_BUF * sizeof *c->spill_buf))) {
        c->oom = 1;
        return -1;
    }
    if (tt_write_all(fd, c->trades, c->ntrades * sizeof *c->trades)) {
        spill_fail(c, "cannot write the temporary file", errno);
        return -1;
    }
    free(c->trades);
    c->trades = NULL;
    c->captrades = 0;
    return 0;
}

static int spill_flush(collect *c)
{
    if (tt_write_all(c->spill_fd, c->spill_buf, c->nspill_buf * sizeof *c->spill_buf)) {
        spill_fail(c, "cannot write the temporary file", errno);
        return -1;
    }
    c->nspill_buf = 0;
    return 0;
}

static void on_trade(void *ctx, const tt_trade_record *t)
{
    collect *c = ctx;
    if (c->spill_error || c->oom)
        return;
    if (c->spill_fd < 0 && (!c->keep_trades || c->ntrades < c->keep_trades)) {
        if (grow((void **)&c->trades, &c->captrades, c->ntrades, sizeof *c->trades)) {
            c->oom = 1;
            return;
        }
        c->trades[c->ntrades] = *t;
    } else {
        if (c->spill_fd < 0 && spill_start(c))
            return;
        c->spill_buf[c->nspill_buf++] = *t;
        if (c->nspill_buf == SPILL_BUF && spill_flush(c))
            return;
    }
    c->ntrades++;
    if (c->acc)
        tt_metrics_acc_trade(c->acc, t);
}

/* End of the run: a spilled list is flushed and mapped, so that `trades`
 * points at every trade in close order. On any failure the trades are
 * dropped (and the error kept in spill_err). */
static void trades_finish(collect *c)
{
    if (c->spill_fd < 0) {
        if (c->spill_error) { /* the file could not be created */
            free(c->trades);
            c->trades = NULL;
            c->ntrades = 0;
        }
        return;
    }
    if (!c->spill_error && !c->oom && c->nspill_buf)
        spill_flush(c);
    if (!c->spill_error && !c->oom) {
        size_t len = c->ntrades * sizeof *c->trades;
        void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, c->spill_fd, 0);
        if (m == MAP_FAILED) {
            spill_fail(c, "cannot map the temporary file", errno);
        } else {
            free(c->trades);
            c->trades = m;
            c->trades_map_len = len;
        }
    }
    close(c->spill_fd);
    c->spill_fd = -1;
    free(c->spill_buf);
    c->spill_buf = NULL;
    if (!c->trades_map_len) {
        free(c->trades);
        c->trades = NULL;
        c->ntrades = 0;
    }
}

/* Thin the kept series: every pinned point stays, every other unpinned one
 * goes, and later samples are kept half as often. */
static void equity_compact(collect *c)
{
    size_t k = 0;
    int keep = 1;
    for (size_t i = 0; i < c->nequity; i++) {
        if (c->pinned[i] || keep) {
            c->equity[k] = c->equity[i];
            c->pinned[k++] = c->pinned[i];
        }
        if (!c->pinned[i])
            keep = !keep;
    }
    c->nequity = k;
    c->stride *= 2;
}

static void equity_append(collect *c, const tt_equity_point *p, uint8_t pin)
{
    if (c->keep_max && c->nequity >= c->keep_max) {
        size_t before = c->nequity;
        equity_compact(c);
        if (c->nequity == before && !pin)
            return; /* everything kept is pinned (one per day): drop this sample */
    }
    if (grow((void **)&c->equity, &c->capequity, c->nequity, sizeof *c->equity) ||
        grow((void **)&c->pinned, &c->cappinned, c->nequity, sizeof *c->pinned)) {
        c->oom = 1;
        return;
    }
    c->equity[c->nequity] = *p;
    c->pinned[c->nequity++] = pin;
}

static void equity_feed(collect *c, const tt_equity_point *p)
{
    if (c->acc && !c->acc_error && tt_metrics_acc_equity(c->acc, p, &c->acc_err))
        c->acc_error = 1;
}

/* The latest sample is final: feed it to the metrics, and make sure it is
 * kept (pinned) when it closes a day or the run. */
static void equity_settle(collect *c, int closes)
{
    equity_feed(c, &c->last_pt);
    if (!closes)
        return;
    if (c->last_kept)
        c->pinned[c->nequity - 1] = 1;
    else
        equity_append(c, &c->last_pt, 1);
    c->last_kept = 1;
}

static void on_equity(void *ctx, const tt_equity_point *p)
{
    collect *c = ctx;
    /* the end-of-run point may share a ts with the last sample: keep the later state */
    if (c->have_last && c->last_pt.ts == p->ts) {
        c->last_pt = *p;
        if (c->last_kept)
            c->equity[c->nequity - 1] = *p;
        return;
    }
    if (c->have_last)
        equity_settle(c, p->ts / TT_NS_PER_DAY != c->last_pt.ts / TT_NS_PER_DAY);
    c->last_pt = *p;
    c->have_last = 1;
    c->last_kept = 0;
    if (c->sampled++ % c->stride == 0) {
        equity_append(c, p, 0);
        c->last_kept = !c->oom;
    }
}

static void on_order(void *ctx, const tt_event *ev)
{
    collect *c = ctx;
    if (!c->keep_orders)
        return;
    if (grow((void **)&c->orders, &c->caporders, c->norders, sizeof *c->orders)) {
        c->oom = 1;
        return;
    }
    const tt_order_event *o = &ev->u.order_ev;
    tt_order_record *r = &c->orders[c->norders++];
    memset(r, 0, sizeof *r);
    r->ts = ev->ts ? ev->ts : tt_engine_now(c->e);
    r->client_id = o->client_id;
    r->venue_id = o->venue_id;
    r->symbol = ev->symbol;
    r->status = o->status;
    r->reason = o->reason;
    r->side = o->side;
    r->price = o->fill_qty ? o->fill_price : 0;
    r->qty = o->fill_qty ? o->fill_qty : o->leaves_qty;
}

/* Wraps the data source: counts the input events (the result's `events`, the
 * span first/last) and calls the progress callback. */
static int counting_next(void *self, tt_event *ev, tt_err *err)
{
    collect *c = self;
    int s = c->inner.next(c->inner.self, ev, err);
    if (s != TT_SRC_EVENT)
        return s;
    if (!c->count)
        c->first = ev->ts;
    c->last = ev->ts;
    c->count++;
    if (c->cfg->progress && c->count % c->every == 0)
        c->cfg->progress(c->cfg->progress_ctx, c->count, ev->ts);
    return s;
}

/* The batch form of counting_next: the replay fast path stays a fast path
 * when the data source has one. */
static int counting_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    collect *c = self;
    int s = c->inner.next_batch(c->inner.self, buf, cap, count, err);
    if (s != TT_SRC_EVENT)
        return s;
    if (!c->count)
        c->first = buf[0].ts;
    c->last = buf[*count - 1].ts;
    uint64_t before = c->count;
    c->count += (uint64_t)*count;
    if (c->cfg->progress && before / c->every != c->count / c->every)
        c->cfg->progress(c->cfg->progress_ctx, c->count, c->last);
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
    memset(r, 0, sizeof *r);
}

static int is_plugin_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 3 && !strcmp(s + n - 3, ".so"));
}

/* Add `sym` to the query list when the tape holds quotes for it and it is not there yet. */
static void add_if_on_tape(const tt_tape_info *info, const char **list, int *n, int max,
                           const char *sym)
{
    for (int i = 0; i < *n; i++)
        if (!strcasecmp(list[i], sym))
            return;
    for (uint32_t i = 0; i < info->nstreams && *n < max; i++) {
        if (info->streams[i].desc.kind == TT_STREAM_QUOTE &&
            !strcasecmp(info->streams[i].desc.symbol, sym)) {
            list[(*n)++] = info->streams[i].desc.symbol;
            return;
        }
    }
}

static void conversion_symbols(const tt_instruments *ins, const tt_tape_info *info,
                               const char *acct, const char **list, int *n, int max, int ntraded)
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
                add_if_on_tape(info, list, n, max, s);
            }
        }
    }
}

int tt_backtest_run(const tt_backtest_config *cfg, tt_backtest_result *out, tt_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = TT_OK;
    tt_instruments *own_ins = NULL;
    const tt_instruments *ins = cfg->instruments;
    tt_tape_reader *reader = NULL;
    tt_tape_info info;
    int have_info = 0;
    tt_sim_venue *venue = NULL;
    tt_portfolio *pf = NULL;
    tt_risk_gate *risk = NULL;
    tt_plugin *plugin = NULL;
    tt_runner *runner = NULL;
    tt_bars *bars = NULL;
    tt_engine *e = NULL;
    collect col;
    memset(&col, 0, sizeof col);
    col.cfg = cfg;
    col.keep_orders = !cfg->skip_order_events;
    col.keep_max = cfg->equity_keep_max;
    col.keep_trades = cfg->trades_keep_max;
    col.spill_fd = -1;
    col.stride = 1;
    if (cfg->venue.account.initial_balance > 0 &&
        !(col.acc = tt_metrics_acc_new(cfg->venue.account.initial_balance, &cfg->metrics))) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory (metrics)");
        goto done;
    }
    uint32_t ids[TT_BACKTEST_MAX_SYMBOLS];
    uint32_t nids = 0;

    if (!ins) {
        if (!(own_ins = tt_instruments_new()))
            return tt_err_set(err, TT_ENOMEM, "out of memory (instruments)");
        if (cfg->instruments_file && (rc = tt_instruments_load(own_ins, cfg->instruments_file, err)))
            goto done;
        ins = own_ins;
    }
    for (int i = 0; i < TT_BACKTEST_MAX_SYMBOLS && cfg->symbols[i]; i++) {
        const tt_instrument *x;
        if ((rc = tt_instruments_require(ins, cfg->symbols[i], &x, err))) {
            tt_err_prefix(err, "symbols[%d]: ", i);
            goto done;
        }
        ids[nids++] = x->id;
    }
    if (!nids) {
        rc = tt_err_set(err, TT_EINVAL, "symbols: at least one symbol is needed");
        goto done;
    }

    /* data */
    tt_source src;
    if (cfg->source) {
        src = *cfg->source;
    } else if (cfg->tape_dir) {
        const char *list[TT_BACKTEST_MAX_SYMBOLS * 4 + 1];
        int n = 0;
        for (uint32_t i = 0; i < nids; i++)
            list[n++] = tt_instruments_get(ins, ids[i])->symbol;
        if ((rc = tt_tape_info_read(cfg->tape_dir, &info, err)))
            goto done;
        have_info = 1;
        conversion_symbols(ins, &info, cfg->venue.account.currency, list, &n,
                           TT_BACKTEST_MAX_SYMBOLS * 4, (int)nids);
        list[n] = NULL;
        tt_tape_query q;
        memset(&q, 0, sizeof q);
        q.symbols = list;
        q.kinds = 1u << TT_STREAM_QUOTE;
        q.from = cfg->from;
        q.to = cfg->to;
        if ((rc = tt_tape_reader_open(&reader, cfg->tape_dir, &q, ins, err))) {
            tt_err_prefix(err, "data: ");
            goto done;
        }
        src = tt_tape_reader_source(reader);
    } else {
        rc = tt_err_set(err, TT_EINVAL, "data: neither a tape directory nor a source is given");
        goto done;
    }

    /* venue, account, risk */
    if ((rc = tt_sim_venue_new(&venue, ins, &cfg->venue, err)) ||
        (rc = tt_portfolio_new(&pf, ins, &cfg->venue.account, err)) ||
        (rc = tt_risk_gate_new(&risk, &cfg->risk, err)))
        goto done;
    tt_portfolio_on_trade(pf, on_trade, &col);

    /* strategy: given directly, a plugin path, or a built-in name */
    const tt_strategy_vtable *vt = cfg->strategy_vtable;
    if (!vt && (!cfg->strategy || !cfg->strategy[0])) {
        rc = tt_err_set(err, TT_EINVAL, "strategy: no strategy name or plugin path");
        goto done;
    }
    if (!vt && is_plugin_path(cfg->strategy)) {
        if ((rc = tt_plugin_open(&plugin, cfg->strategy, err)))
            goto done;
        vt = tt_plugin_strategy(plugin);
    }
    if (!vt && !(vt = tt_strategy_builtin(cfg->strategy))) {
        char names[200] = "";
        for (int i = 0; tt_strategy_builtin_at(i); i++) {
            strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
            strncat(names, tt_strategy_builtin_at(i)->name, sizeof names - strlen(names) - 1);
        }
        rc = tt_err_set(err, TT_ENOTFOUND,
                        "strategy: unknown strategy '%s' (built-in: %s; or a plugin path)",
                        cfg->strategy, names);
        goto done;
    }
    tt_runner_config rcfg;
    memset(&rcfg, 0, sizeof rcfg);
    rcfg.strategy = vt;
    rcfg.params = cfg->params;
    rcfg.param_origin = cfg->param_origin;
    rcfg.param_origin_ctx = cfg->param_origin_ctx;
    rcfg.seed = cfg->seed;
    rcfg.symbols = ids;
    rcfg.nsymbols = nids;
    rcfg.portfolio = pf;
    rcfg.risk = risk;
    rcfg.equity_interval = cfg->equity_interval;
    rcfg.flatten_on_halt = cfg->flatten_on_halt;
    rcfg.on_equity = on_equity;
    rcfg.on_order_event = on_order;
    rcfg.observer_ctx = &col;
    rcfg.log = cfg->log;
    rcfg.log_ctx = cfg->log_ctx;
    if ((rc = tt_runner_new(&runner, ins, &rcfg, err)))
        goto done;

    /* bars: the strategy's subscriptions, then the config's */
    tt_bar_sub subs[TT_BACKTEST_MAX_BARS + 16];
    const tt_bar_sub *ss;
    int ns = tt_runner_bar_subs(runner, &ss), nsub = 0;
    for (int i = 0; i < ns; i++)
        subs[nsub++] = ss[i];
    for (int i = 0; i < cfg->nbars && i < TT_BACKTEST_MAX_BARS; i++)
        subs[nsub++] = cfg->bars[i];
    if (nsub) {
        tt_bars_opts bo;
        memset(&bo, 0, sizeof bo);
        if ((rc = tt_bars_new(&bars, subs, nsub, &bo, err)))
            goto done;
        tt_bars_listen(bars, tt_runner_bar_listener, runner);
    }

    /* the engine */
    if (!(e = tt_engine_new(ins))) {
        rc = tt_err_set(err, TT_ENOMEM, "out of memory (engine)");
        goto done;
    }
    col.e = e;
    col.inner = src;
    col.every = cfg->progress_every ? cfg->progress_every : 1000000;
    tt_source counted = {&col, counting_next, NULL, src.next_batch ? counting_batch : NULL};
    tt_engine_set_source(e, counted);
    tt_engine_set_venue(e, tt_sim_venue_port(venue));
    if (bars)
        tt_engine_add_component(e, tt_bars_component(bars));
    tt_engine_add_component(e, tt_runner_component(runner));
    for (int i = 0; i < cfg->ncomponents; i++)
        if (tt_engine_add_component(e, cfg->components[i])) {
            rc = tt_err_set(err, TT_EINVAL, "components[%d]: too many components", i);
            goto done;
        }
    for (int i = 0; i < cfg->nsinks; i++)
        if (tt_engine_add_sink(e, cfg->sinks[i])) {
            rc = tt_err_set(err, TT_EINVAL, "sinks[%d]: too many sinks", i);
            goto done;
        }

    rc = tt_engine_run(e, err);
    if (col.have_last)
        equity_settle(&col, 1);
    trades_finish(&col);
    if (!rc && col.oom)
        rc = tt_err_set(err, TT_ENOMEM, "out of memory collecting results");
    if (!rc && col.spill_error) {
        if (err)
            *err = col.spill_err;
        rc = col.spill_err.code;
    }
    if (!rc && col.acc_error) {
        *err = col.acc_err;
        rc = col.acc_err.code;
    }
    if (col.acc)
        tt_metrics_acc_result(col.acc, &out->metrics);
    out->equity_sampled = col.sampled;

    out->fingerprint = tt_engine_fingerprint(e);
    out->events = col.count;
    out->outputs = tt_engine_outputs(e);
    out->initial_balance = cfg->venue.account.initial_balance;
    out->final_balance = tt_portfolio_balance(pf);
    out->final_equity = tt_portfolio_equity(pf);
    out->commissions = tt_sim_venue_commissions(venue);
    out->swaps = tt_sim_venue_swaps(venue);
    out->orders_sent = tt_runner_orders_sent(runner);
    out->risk_rejects = tt_runner_risk_rejects(runner);
    out->fills = tt_sim_venue_fills(venue);
    out->stop_outs = tt_sim_venue_stop_outs(venue);
    out->first_ts = col.first;
    out->last_ts = col.last;

done:
    out->trades = col.trades;
    out->ntrades = col.ntrades;
    out->trades_map_len = col.trades_map_len;
    out->equity = col.equity;
    out->nequity = col.nequity;
    free(col.pinned);
    tt_metrics_acc_free(col.acc);
    out->orders = col.orders;
    out->norders = col.norders;
    tt_engine_free(e);
    tt_bars_free(bars);
    tt_runner_free(runner);
    tt_plugin_close(plugin);
    tt_risk_gate_free(risk);
    tt_portfolio_free(pf);
    tt_sim_venue_free(venue);
    if (reader)
        tt_tape_reader_close(reader);
    if (have_info)
        tt_tape_info_free(&info);
    tt_instruments_free(own_ins);
    return rc;
}
