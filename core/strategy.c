/*
 * The strategy runner: one strategy as an engine component.
 *
 * The runner is the strategy's whole world. It owns the host side of the
 * context (every tt_strategy_host function is a static function here taking
 * the context, which is the first member of the runner), and it wires the
 * order manager, the risk gate and the strategy-side portfolio:
 *
 *   strategy ──submit──► order manager (PENDING) ──► risk gate ──► SUBMITTED
 *                                                         │            │
 *                                  REJECTED (rule, numbers)◄┘   engine ─► venue
 *   venue ──ORDER_EVENT──► order manager (lifecycle check) ──► portfolio (fills)
 *                                    └─► emitted as output ──► strategy
 *
 * Everything the runner decides is an output (tt_engine_emit): each order
 * transition, each risk decision, each equity point, so the fingerprint covers
 * the whole decision path. Transitions the runner makes itself (pending,
 * submitted, rejected by risk) are emitted at once; a rejection is also handed
 * back to the strategy as an order event, scheduled on the engine queue from
 * the runner's own source id so that the strategy never re-enters itself
 * from inside tt_ctx_submit.
 *
 * Per quote the runner does: the rollover check (one comparison), the mark of
 * the portfolio (O(open positions)), the equity-interval check (one
 * comparison) and the strategy call. No allocation.
 *
 * Parameters are parsed once into a fixed table; each read marks its key, and
 * a key never read is an error after create.
 */
#include "strategy.h"

#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TT_RUNNER_SOURCE 0xFE00u
#define MAX_PARAMS 32
#define MAX_SUBS 16
#define MAX_FLATTEN 64

typedef struct param {
    char key[32];
    char value[128];
    int used;
} param;

struct tt_runner {
    tt_strategy_ctx ctx; /* first: the strategy's context pointer is the runner */
    tt_strategy_host host;
    const tt_instruments *ins;
    tt_runner_config cfg;
    const tt_strategy_vtable *vt;
    void *state;
    tt_engine *e;
    tt_orders *orders;
    tt_portfolio *pf;
    tt_ts interval, next_equity; /* read on every event, near vt and pf */
    tt_ts next_roll; /* the portfolio's next rollover (checked without a call) */
    tt_risk_gate *risk;
    tt_rng rng;
    param params[MAX_PARAMS];
    int nparams;
    tt_bar_sub subs[MAX_SUBS];
    int nsubs;
    int creating, stopping;
    uint64_t *timers; /* live timer ids set by the strategy */
    size_t ntimers, captimers;
    uint64_t flatten[MAX_FLATTEN]; /* ids of orders sent to flatten after a halt */
    int nflatten;
    uint64_t sent, rejects;
    tt_reject_counts why; /* rejections by rule and reason */
    int failed;
    tt_err err;      /* first error met while running */
    tt_err fail_err; /* error recorded by the strategy (tt_ctx_fail) or a param read */
    char last_key[64];  /* the parameter read last in create ("" = none yet) */
    char fault_key[64]; /* last_key when fail_err was set in create: the key it concerns */
};

static tt_runner *R(tt_strategy_ctx *c) { return (tt_runner *)c; }

static void run_error(tt_runner *r, const tt_err *e)
{
    if (!r->failed) {
        r->failed = 1;
        r->err = *e;
    }
}

static void run_log(tt_runner *r, int level, const char *msg)
{
    if (r->cfg.log)
        r->cfg.log(r->cfg.log_ctx, r->e ? tt_engine_now(r->e) : 0, level, r->vt->name, msg);
}

/* ---- the registry ---- */

extern const tt_strategy_vtable tt_strategy_sma_cross;
extern const tt_strategy_vtable tt_strategy_breakout;
extern const tt_strategy_vtable tt_strategy_rsi_reversion;
extern const tt_strategy_vtable tt_strategy_buy_and_hold;
extern const tt_strategy_vtable tt_strategy_tick_momentum;

static const tt_strategy_vtable *const BUILTINS[] = {
    &tt_strategy_sma_cross, &tt_strategy_breakout, &tt_strategy_rsi_reversion,
    &tt_strategy_buy_and_hold, &tt_strategy_tick_momentum,
};
#define NBUILTINS ((int)(sizeof BUILTINS / sizeof BUILTINS[0]))

const tt_strategy_vtable *tt_strategy_builtin(const char *name)
{
    for (int i = 0; name && i < NBUILTINS; i++)
        if (!strcmp(BUILTINS[i]->name, name))
            return BUILTINS[i];
    return NULL;
}

const tt_strategy_vtable *tt_strategy_builtin_at(int i)
{
    return i >= 0 && i < NBUILTINS ? BUILTINS[i] : NULL;
}

int tt_strategy_check(const tt_strategy_vtable *vt, const char *where, tt_err *err)
{
    if (!vt)
        return tt_err_set(err, TT_EABI, "%s: no strategy vtable", where);
    if (vt->abi_version != TT_STRATEGY_ABI_VERSION)
        return tt_err_set(err, TT_EABI,
                          "%s: strategy ABI version %u, but this ticktape speaks version %u "
                          "(rebuild the plugin against this ticktape's core/strategy.h)",
                          where, vt->abi_version, TT_STRATEGY_ABI_VERSION);
    if (vt->struct_size != sizeof(tt_strategy_vtable))
        return tt_err_set(err, TT_EABI,
                          "%s: strategy vtable is %u bytes, this ticktape expects %zu "
                          "(same ABI version %u: built against a different core/strategy.h)",
                          where, vt->struct_size, sizeof(tt_strategy_vtable), vt->abi_version);
    if (!vt->name || !vt->name[0])
        return tt_err_set(err, TT_EINVAL, "%s: strategy has no name", where);
    return TT_OK;
}

/* ---- parameters ---- */

/* Split "key=value ..." into r->params. On failure *fault names the key
 * concerned ("" when the error is about the list as a whole). */
static int parse_params(tt_runner *r, const char *text, char *fault, size_t faultsize,
                        tt_err *err)
{
    const char *p = text ? text : "";
    fault[0] = '\0';
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',' && *p != '\n')
            p++;
        size_t len = (size_t)(p - start);
        const char *eq = memchr(start, '=', len);
        if (!eq || eq == start)
            return tt_err_set(err, TT_EINVAL, "strategy %s: parameter '%.*s' is not key=value",
                              r->vt->name, (int)len, start);
        size_t kl = (size_t)(eq - start), vl = len - kl - 1;
        snprintf(fault, faultsize, "%.*s", (int)kl, start);
        if (r->nparams == MAX_PARAMS)
            return tt_err_set(err, TT_EINVAL, "strategy %s: more than %d parameters",
                              r->vt->name, MAX_PARAMS);
        param *x = &r->params[r->nparams];
        if (kl >= sizeof x->key || vl >= sizeof x->value)
            return tt_err_set(err, TT_EINVAL, "strategy %s: parameter '%.*s' is too long",
                              r->vt->name, (int)len, start);
        for (int i = 0; i < r->nparams; i++)
            if (strlen(r->params[i].key) == kl && !memcmp(r->params[i].key, start, kl))
                return tt_err_set(err, TT_EINVAL, "strategy %s: parameter '%.*s' given twice",
                                  r->vt->name, (int)kl, start);
        memcpy(x->key, start, kl);
        x->key[kl] = '\0';
        memcpy(x->value, eq + 1, vl);
        x->value[vl] = '\0';
        r->nparams++;
    }
    fault[0] = '\0';
    return TT_OK;
}

/* Prefix err with where the parameter `key` (NULL: the parameters as a
 * whole) came from, when the caller said (tt_runner_config.param_origin). */
static int param_origin(const tt_runner_config *cfg, const char *key, tt_err *err)
{
    if (!cfg->param_origin || !err)
        return err ? err->code : TT_EINVAL;
    char where[1024];
    where[0] = '\0';
    cfg->param_origin(cfg->param_origin_ctx, key && *key ? key : NULL, where, sizeof where);
    if (where[0])
        tt_err_prefix(err, "%s", where);
    return err->code;
}

/* fail_err was just set while creating: remember which parameter it concerns. */
static void note_fault(tt_runner *r)
{
    if (r->creating)
        memcpy(r->fault_key, r->last_key, sizeof r->fault_key);
}

static param *find_param(tt_runner *r, const char *key)
{
    snprintf(r->last_key, sizeof r->last_key, "%s", key);
    for (int i = 0; i < r->nparams; i++)
        if (!strcmp(r->params[i].key, key)) {
            r->params[i].used = 1;
            return &r->params[i];
        }
    return NULL;
}

static int h_param_int(tt_strategy_ctx *c, const char *key, int64_t def, int64_t lo, int64_t hi,
                       int64_t *out)
{
    tt_runner *r = R(c);
    param *p = find_param(r, key);
    if (!p) {
        *out = def;
        return TT_OK;
    }
    int64_t v;
    if (tt_parse_int(p->value, &v, NULL)) {
        note_fault(r);
        return tt_err_set(&r->fail_err, TT_EINVAL,
                          "strategy %s: parameter %s=%s: not an integer", r->vt->name, key,
                          p->value);
    }
    if (v < lo || v > hi) {
        note_fault(r);
        return tt_err_set(&r->fail_err, TT_EINVAL,
                          "strategy %s: parameter %s=%lld: outside [%lld, %lld]", r->vt->name,
                          key, (long long)v, (long long)lo, (long long)hi);
    }
    *out = v;
    return TT_OK;
}

static int h_param_double(tt_strategy_ctx *c, const char *key, double def, double lo, double hi,
                          double *out)
{
    tt_runner *r = R(c);
    param *p = find_param(r, key);
    if (!p) {
        *out = def;
        return TT_OK;
    }
    double v;
    if (tt_parse_double(p->value, &v, NULL)) {
        note_fault(r);
        return tt_err_set(&r->fail_err, TT_EINVAL, "strategy %s: parameter %s=%s: not a number",
                          r->vt->name, key, p->value);
    }
    if (v < lo || v > hi) {
        note_fault(r);
        return tt_err_set(&r->fail_err, TT_EINVAL,
                          "strategy %s: parameter %s=%g: outside [%g, %g]", r->vt->name, key, v,
                          lo, hi);
    }
    *out = v;
    return TT_OK;
}

static int h_param_str(tt_strategy_ctx *c, const char *key, const char *def, const char **out)
{
    param *p = find_param(R(c), key);
    *out = p ? p->value : def;
    return TT_OK;
}

static int h_fail(tt_strategy_ctx *c, int code, const char *msg)
{
    tt_runner *r = R(c);
    note_fault(r);
    return tt_err_set(&r->fail_err, code < 0 ? code : TT_EINVAL, "strategy %s: %s", r->vt->name,
                      msg);
}

static int h_subscribe_bars(tt_strategy_ctx *c, uint32_t symbol, int tf, int side)
{
    tt_runner *r = R(c);
    if (!r->creating)
        return tt_err_set(&r->fail_err, TT_ESTATE,
                          "strategy %s: bar subscriptions are declared in create only",
                          r->vt->name);
    if (!tt_instruments_get(r->ins, symbol)) {
        note_fault(r);
        return tt_err_set(&r->fail_err, TT_EINVAL,
                          "strategy %s: bar subscription: unknown symbol id %u", r->vt->name,
                          symbol);
    }
    if (tf <= TT_TF_NONE || tf >= TT_TF_COUNT || side < TT_SIDE_BID || side > TT_SIDE_MID) {
        note_fault(r);
        return tt_err_set(&r->fail_err, TT_EINVAL,
                          "strategy %s: bar subscription: bad timeframe %d or side %d",
                          r->vt->name, tf, side);
    }
    for (int i = 0; i < r->nsubs; i++)
        if (r->subs[i].symbol == symbol && r->subs[i].tf == tf && r->subs[i].side == side)
            return TT_OK;
    if (r->nsubs == MAX_SUBS) {
        note_fault(r);
        return tt_err_set(&r->fail_err, TT_EINVAL, "strategy %s: more than %d bar subscriptions",
                          r->vt->name, MAX_SUBS);
    }
    r->subs[r->nsubs].symbol = symbol;
    r->subs[r->nsubs].tf = (uint8_t)tf;
    r->subs[r->nsubs].side = (uint8_t)side;
    r->nsubs++;
    return TT_OK;
}

/* ---- reads ---- */

static tt_ts h_now(tt_strategy_ctx *c) { return R(c)->e ? tt_engine_now(R(c)->e) : 0; }
static const tt_instrument *h_instrument(tt_strategy_ctx *c, uint32_t s)
{
    return tt_instruments_get(R(c)->ins, s);
}
static uint32_t h_symbol_id(tt_strategy_ctx *c, const char *name)
{
    const tt_instrument *i = tt_instruments_find(R(c)->ins, name);
    return i ? i->id : 0;
}
static uint32_t h_symbol_count(tt_strategy_ctx *c) { return R(c)->cfg.nsymbols; }
static uint32_t h_symbol_at(tt_strategy_ctx *c, uint32_t i)
{
    return i < R(c)->cfg.nsymbols ? R(c)->cfg.symbols[i] : 0;
}
static int h_quote(tt_strategy_ctx *c, uint32_t s, tt_quote *q)
{
    return tt_portfolio_last_quote(R(c)->pf, s, q);
}
static int64_t h_position(tt_strategy_ctx *c, uint32_t s) { return tt_portfolio_net_qty(R(c)->pf, s); }
static size_t h_position_count(tt_strategy_ctx *c) { return tt_portfolio_count(R(c)->pf); }
static const tt_position *h_position_at(tt_strategy_ctx *c, size_t i)
{
    return tt_portfolio_position(R(c)->pf, i);
}
static void h_account(tt_strategy_ctx *c, tt_account *a) { tt_portfolio_account(R(c)->pf, a); }
static const tt_order *h_order(tt_strategy_ctx *c, uint64_t id) { return tt_orders_get(R(c)->orders, id); }
static size_t h_order_count(tt_strategy_ctx *c) { return tt_orders_count(R(c)->orders); }
static const tt_order *h_order_at(tt_strategy_ctx *c, size_t i) { return tt_orders_at(R(c)->orders, i); }
static tt_rng *h_rng(tt_strategy_ctx *c) { return &R(c)->rng; }
static const tt_news *h_news(tt_strategy_ctx *c) { return R(c)->cfg.news; }
static void h_log(tt_strategy_ctx *c, int level, const char *msg) { run_log(R(c), level, msg); }

/* ---- services ---- */

static uint64_t h_timer_set(tt_strategy_ctx *c, tt_ts at, uint64_t user)
{
    tt_runner *r = R(c);
    if (!r->e || r->stopping)
        return 0;
    if (r->ntimers == r->captimers) {
        size_t cap = r->captimers ? r->captimers * 2 : 16;
        uint64_t *v = realloc(r->timers, cap * sizeof *v);
        if (!v) { /* a lost timer ends the run, as the engine's own would */
            tt_err err;
            tt_err_set(&err, TT_ENOMEM, "strategy %s: out of memory for a timer", r->vt->name);
            run_error(r, &err);
            tt_engine_fail(r->e, &err);
            return 0;
        }
        r->timers = v;
        r->captimers = cap;
    }
    uint64_t id = tt_engine_timer_set(r->e, at, user);
    if (id)
        r->timers[r->ntimers++] = id;
    return id;
}

static int take_timer(tt_runner *r, uint64_t id)
{
    for (size_t i = 0; i < r->ntimers; i++)
        if (r->timers[i] == id) {
            r->timers[i] = r->timers[--r->ntimers];
            return 1;
        }
    return 0;
}

static void h_timer_cancel(tt_strategy_ctx *c, uint64_t id)
{
    tt_runner *r = R(c);
    if (r->e && take_timer(r, id))
        tt_engine_timer_cancel(r->e, id);
}

static void h_signal(tt_strategy_ctx *c, uint32_t symbol, const tt_signal *s)
{
    tt_runner *r = R(c);
    if (!r->e)
        return;
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_SIGNAL;
    ev.symbol = symbol;
    ev.u.signal = *s;
    tt_engine_emit(r->e, &ev);
}

/* ---- orders ---- */

static void emit_order_ev(tt_runner *r, const tt_event *ev)
{
    tt_engine_emit(r->e, ev);
    if (r->cfg.on_order_event)
        r->cfg.on_order_event(r->cfg.observer_ctx, ev);
}

/* Hand one of our own transitions back to the strategy through the queue. */
static void notify_later(tt_runner *r, const tt_event *ev)
{
    tt_event n = *ev;
    n.ts = tt_engine_now(r->e);
    n.ts_init = 0;
    n.seq = 0;
    n.source = TT_RUNNER_SOURCE;
    n.cls = TT_CLS_VENUE;
    tt_err err;
    if (tt_engine_schedule(r->e, &n, &err))
        run_error(r, &err);
}

static uint64_t send_order(tt_runner *r, const tt_order_req *q, int flatten)
{
    if (!r->e || r->stopping) {
        run_log(r, TT_LOG_WARN, "order ignored: the run is not trading (before start or stopping)");
        return 0;
    }
    tt_ts now = tt_engine_now(r->e);
    tt_order_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.cmd = TT_CMD_SUBMIT;
    cmd.qty = q->qty;
    cmd.price = q->price;
    cmd.stop_price = q->stop_price;
    cmd.take_profit = q->take_profit;
    cmd.stop_loss = q->stop_loss;
    cmd.expire_ts = q->expire_ts;
    cmd.type = q->type ? q->type : TT_ORD_MARKET;
    cmd.tif = q->tif ? q->tif : TT_TIF_GTC;
    cmd.side = q->side;
    cmd.position = q->position;
    tt_event ev;
    tt_err err;
    int rc = tt_orders_create(r->orders, q->symbol, &cmd, now, &ev, &err);
    if (rc == TT_ENOMEM) {
        run_error(r, &err);
        return 0;
    }
    if (!tt_instruments_get(r->ins, q->symbol) && rc == TT_OK) {
        tt_orders_transition(r->orders, cmd.client_id, TT_OS_REJECTED, TT_REASON_INVALID, now,
                             &ev, NULL);
        rc = TT_EINVAL;
        tt_err_set(&err, TT_EINVAL, "order %llu: unknown symbol id %u",
                   (unsigned long long)cmd.client_id, q->symbol);
    }
    if (rc) { /* invalid: registered and rejected at once */
        r->why.reason[TT_REASON_INVALID]++;
        ev.symbol = q->symbol;
        run_log(r, TT_LOG_WARN, err.msg);
        emit_order_ev(r, &ev);
        notify_later(r, &ev);
        return cmd.client_id;
    }
    emit_order_ev(r, &ev); /* pending */
    if (r->risk) {
        tt_event rev;
        memset(&rev, 0, sizeof rev);
        rev.kind = TT_EV_RISK;
        rev.symbol = q->symbol;
        int ok = tt_risk_gate_check(r->risk, r->pf, q->symbol, &cmd, now, &rev.u.risk);
        tt_engine_emit(r->e, &rev);
        if (!ok) {
            char msg[256];
            snprintf(msg, sizeof msg, "order %llu rejected by risk rule %s: value %g, limit %g",
                     (unsigned long long)cmd.client_id, tt_risk_rule_name(rev.u.risk.rule),
                     rev.u.risk.value, rev.u.risk.limit);
            run_log(r, TT_LOG_WARN, msg);
            tt_orders_transition(r->orders, cmd.client_id, TT_OS_REJECTED, TT_REASON_RISK, now,
                                 &ev, NULL);
            emit_order_ev(r, &ev);
            notify_later(r, &ev);
            r->rejects++;
            if (rev.u.risk.rule < TT_RULE_COUNT)
                r->why.rule[rev.u.risk.rule]++;
            return cmd.client_id;
        }
    }
    tt_orders_transition(r->orders, cmd.client_id, TT_OS_SUBMITTED, TT_REASON_RISK_OK, now, &ev,
                         NULL);
    emit_order_ev(r, &ev);
    if (flatten && r->nflatten < MAX_FLATTEN)
        r->flatten[r->nflatten++] = cmd.client_id;
    tt_event c;
    memset(&c, 0, sizeof c);
    c.kind = TT_EV_ORDER_CMD;
    c.symbol = q->symbol;
    c.u.order_cmd = cmd;
    r->sent++;
    if (tt_engine_submit(r->e, &c, &err) < 0)
        run_error(r, &err);
    return cmd.client_id;
}

static uint64_t h_submit(tt_strategy_ctx *c, const tt_order_req *q) { return send_order(R(c), q, 0); }

static int send_cmd(tt_runner *r, const tt_order *o, int kind)
{
    tt_event c;
    memset(&c, 0, sizeof c);
    c.kind = TT_EV_ORDER_CMD;
    c.symbol = o->symbol;
    c.u.order_cmd = o->cmd;
    c.u.order_cmd.cmd = (uint8_t)kind;
    tt_err err;
    int rc = tt_engine_submit(r->e, &c, &err);
    if (rc < 0)
        run_error(r, &err);
    return rc;
}

static int h_cancel(tt_strategy_ctx *c, uint64_t id)
{
    tt_runner *r = R(c);
    const tt_order *o = tt_orders_get(r->orders, id);
    if (!o || !r->e)
        return TT_ENOTFOUND;
    return send_cmd(r, o, TT_CMD_CANCEL);
}

static int h_modify(tt_strategy_ctx *c, uint64_t id, tt_price price, tt_price stop, tt_price sl,
                    tt_price tp)
{
    tt_runner *r = R(c);
    if (!r->e || tt_orders_set_prices(r->orders, id, price, stop, sl, tp))
        return TT_ENOTFOUND;
    return send_cmd(r, tt_orders_get(r->orders, id), TT_CMD_MODIFY);
}

/* Market orders that bring a symbol (0 = every symbol) to flat. */
static int close_symbol(tt_runner *r, uint32_t symbol, int flatten)
{
    const tt_portfolio_config *pc = tt_portfolio_config_of(r->pf);
    int n = 0;
    if (pc->mode == TT_MODE_HEDGING) {
        for (size_t i = 0; i < tt_portfolio_count(r->pf); i++) {
            const tt_position *x = tt_portfolio_position(r->pf, i);
            if (symbol && x->symbol != symbol)
                continue;
            tt_order_req q = {0};
            q.symbol = x->symbol;
            q.side = (int8_t)-x->side;
            q.qty = x->qty;
            q.position = (uint32_t)x->ticket;
            send_order(r, &q, flatten);
            n++;
        }
        return n;
    }
    for (size_t i = 0; i < tt_portfolio_count(r->pf); i++) {
        const tt_position *x = tt_portfolio_position(r->pf, i);
        if (symbol && x->symbol != symbol)
            continue;
        tt_order_req q = {0};
        q.symbol = x->symbol;
        q.side = (int8_t)-x->side;
        q.qty = x->qty;
        send_order(r, &q, flatten);
        n++;
    }
    return n;
}

static int h_close(tt_strategy_ctx *c, uint32_t symbol) { return close_symbol(R(c), symbol, 0); }
static void *h_user(tt_strategy_ctx *c) { return R(c)->cfg.user; }

/* ---- construction ---- */

int tt_runner_new(tt_runner **out, const tt_instruments *instruments, const tt_runner_config *cfg,
                  tt_err *err)
{
    *out = NULL;
    int rc = tt_strategy_check(cfg->strategy, "strategy", err);
    if (rc)
        return rc;
    if (!cfg->portfolio)
        return tt_err_set(err, TT_EINVAL, "runner: no portfolio");
    tt_runner *r = calloc(1, sizeof *r);
    if (!r)
        return tt_err_set(err, TT_ENOMEM, "out of memory (runner)");
    r->ins = instruments;
    r->cfg = *cfg;
    r->vt = cfg->strategy;
    r->pf = cfg->portfolio;
    r->risk = cfg->risk;
    r->interval = cfg->equity_interval > 0 ? cfg->equity_interval : TT_NS_PER_MIN;
    r->orders = tt_orders_new();
    if (!r->orders) {
        free(r);
        return tt_err_set(err, TT_ENOMEM, "out of memory (orders)");
    }
    tt_rng_seed_named(&r->rng, cfg->seed, "strategy");
    tt_strategy_host *h = &r->host;
    h->abi_version = TT_STRATEGY_ABI_VERSION;
    h->struct_size = sizeof *h;
    h->now = h_now;
    h->instrument = h_instrument;
    h->symbol_id = h_symbol_id;
    h->symbol_count = h_symbol_count;
    h->symbol_at = h_symbol_at;
    h->quote = h_quote;
    h->position = h_position;
    h->position_count = h_position_count;
    h->position_at = h_position_at;
    h->account = h_account;
    h->order = h_order;
    h->order_count = h_order_count;
    h->order_at = h_order_at;
    h->param_int = h_param_int;
    h->param_double = h_param_double;
    h->param_str = h_param_str;
    h->subscribe_bars = h_subscribe_bars;
    h->set_error = h_fail;
    h->timer_set = h_timer_set;
    h->timer_cancel = h_timer_cancel;
    h->rng = h_rng;
    h->log = h_log;
    h->signal = h_signal;
    h->submit = h_submit;
    h->cancel = h_cancel;
    h->modify = h_modify;
    h->close = h_close;
    h->user = h_user;
    h->news = h_news;
    r->ctx.host = h;
    char fault[128];
    if ((rc = parse_params(r, cfg->params, fault, sizeof fault, err))) {
        param_origin(cfg, fault, err);
        tt_runner_free(r);
        return rc;
    }
    tt_err_clear(&r->fail_err);
    if (r->vt->create) {
        r->creating = 1;
        rc = r->vt->create(&r->ctx, &r->state);
        r->creating = 0;
        if (rc || r->fail_err.code) {
            /* create cleans up after itself when it fails; a state it returned
             * while ignoring a failed parameter read is ours to destroy */
            if (rc)
                r->state = NULL;
            tt_err e2 = r->fail_err;
            if (!e2.code)
                tt_err_set(&e2, rc, "strategy %s: create failed (%s)", r->vt->name,
                           tt_status_name(rc));
            if (err) {
                *err = e2;
                param_origin(cfg, r->fail_err.code ? r->fault_key : NULL, err);
            }
            tt_runner_free(r);
            return e2.code;
        }
    }
    for (int i = 0; i < r->nparams; i++) {
        if (!r->params[i].used) {
            char known[256];
            snprintf(known, sizeof known, "%s", r->vt->params ? r->vt->params : "none");
            rc = tt_err_set(err, TT_EINVAL,
                            "strategy %s: unknown parameter '%s' (parameters: %s)", r->vt->name,
                            r->params[i].key, known);
            param_origin(cfg, r->params[i].key, err);
            tt_runner_free(r);
            return rc;
        }
    }
    *out = r;
    return TT_OK;
}

void tt_runner_free(tt_runner *r)
{
    if (!r)
        return;
    if (r->state && r->vt->destroy)
        r->vt->destroy(r->state);
    tt_orders_free(r->orders);
    free(r->timers);
    free(r);
}

int tt_runner_bar_subs(const tt_runner *r, const tt_bar_sub **subs)
{
    *subs = r->subs;
    return r->nsubs;
}

/* ---- running ---- */

static void equity_point(tt_runner *r, tt_ts ts)
{
    tt_account a;
    tt_portfolio_account(r->pf, &a);
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_EQUITY;
    ev.ts = ts;
    ev.u.equity.balance = a.balance;
    ev.u.equity.equity = a.equity;
    ev.u.equity.margin = a.margin;
    ev.u.equity.free_margin = a.free_margin;
    tt_engine_emit(r->e, &ev);
    if (r->cfg.on_equity) {
        tt_equity_point p;
        p.ts = ts;
        p.balance = a.balance;
        p.equity = a.equity;
        p.margin = a.margin;
        p.exposure = a.exposure;
        p.position = a.net_qty;
        r->cfg.on_equity(r->cfg.observer_ctx, &p);
    }
}

static void halt_now(tt_runner *r, const tt_risk *d)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_RISK;
    ev.u.risk = *d;
    tt_engine_emit(r->e, &ev);
    char msg[200];
    snprintf(msg, sizeof msg, "trading halted by %s: value %g, limit %g",
             tt_risk_rule_name(d->rule), d->value, d->limit);
    run_log(r, TT_LOG_WARN, msg);
    if (!r->cfg.flatten_on_halt)
        return;
    for (size_t i = tt_orders_count(r->orders); i-- > 0;) {
        const tt_order *o = tt_orders_at(r->orders, i);
        if (o->status == TT_OS_ACCEPTED || o->status == TT_OS_PARTIALLY_FILLED)
            send_cmd(r, o, TT_CMD_CANCEL);
    }
    close_symbol(r, 0, 1);
}

static void risk_update(tt_runner *r, tt_ts ts)
{
    if (!r->risk)
        return;
    tt_risk d;
    if (tt_risk_gate_update(r->risk, r->pf, ts, &d) != TT_RULE_NONE)
        halt_now(r, &d);
}

static int is_flatten(tt_runner *r, uint64_t id)
{
    for (int i = 0; i < r->nflatten; i++)
        if (r->flatten[i] == id)
            return 1;
    return 0;
}

static void forget_flatten(tt_runner *r, uint64_t id)
{
    for (int i = 0; i < r->nflatten; i++)
        if (r->flatten[i] == id) {
            r->flatten[i] = r->flatten[--r->nflatten];
            return;
        }
}

static uint8_t close_reason_of(tt_runner *r, const tt_order_event *o)
{
    switch (o->reason) {
    case TT_REASON_STOP_LOSS: return TT_CLOSE_STOP_LOSS;
    case TT_REASON_TAKE_PROFIT: return TT_CLOSE_TAKE_PROFIT;
    case TT_REASON_STOP_OUT: return TT_CLOSE_STOP_OUT;
    case TT_REASON_FLATTEN: return TT_CLOSE_RISK;
    default: return is_flatten(r, o->client_id) ? TT_CLOSE_RISK : TT_CLOSE_SIGNAL;
    }
}

static void on_venue_event(tt_runner *r, const tt_event *ev)
{
    const tt_order_event *o = &ev->u.order_ev;
    tt_err err;
    /* what the order asked for, read before a terminal event forgets it */
    const tt_order *live = o->client_id ? tt_orders_get(r->orders, o->client_id) : NULL;
    tt_order_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    if (live)
        cmd = live->cmd;
    /* a refused cancel or modify (the order was already done at the venue) is
     * an answer, not a transition of the order */
    int rc = o->reason == TT_REASON_UNKNOWN_ORDER ? 0 : tt_orders_apply(r->orders, ev, &err);
    if (rc < 0) {
        run_error(r, &err);
        run_log(r, TT_LOG_ERROR, err.msg);
        return;
    }
    emit_order_ev(r, ev);
    if (o->status == TT_OS_REJECTED && o->reason < TT_REASON_COUNT)
        r->why.reason[o->reason]++;
    if (o->fill_qty > 0) {
        tt_fill f;
        memset(&f, 0, sizeof f);
        f.symbol = ev->symbol;
        f.side = o->side;
        f.qty = o->fill_qty;
        f.price = o->fill_price;
        f.commission = o->commission;
        f.order_id = o->client_id;
        f.ts = ev->ts;
        f.close_reason = close_reason_of(r, o);
        if (!o->client_id || cmd.position)
            f.position = o->client_id ? cmd.position : o->venue_id;
        f.stop_loss = cmd.stop_loss;
        f.take_profit = cmd.take_profit;
        if (tt_portfolio_fill(r->pf, &f, &err)) {
            tt_err_prefix(&err, "applying fill of order %llu: ",
                          (unsigned long long)o->client_id);
            run_error(r, &err);
            run_log(r, TT_LOG_ERROR, err.msg);
        }
        risk_update(r, ev->ts);
    }
    if (o->client_id && tt_order_status_terminal(o->status))
        forget_flatten(r, o->client_id);
}

static void runner_event_full(tt_runner *r, const tt_event *ev);

static void runner_event(void *self, tt_engine *e, const tt_event *ev)
{
    tt_runner *r = self;
    (void)e;
    /* the common tick: a quote, no rollover or equity sample due */
    if (__builtin_expect(ev->kind != TT_EV_QUOTE || ev->ts >= r->next_roll ||
                             ev->ts >= r->next_equity,
                         0)) {
        runner_event_full(r, ev);
        return;
    }
    tt_portfolio_quote(r->pf, ev->symbol, ev->u.quote.bid, ev->u.quote.ask);
    if (r->vt->on_quote)
        r->vt->on_quote(r->state, &r->ctx, ev);
}

static __attribute__((noinline)) void runner_event_full(tt_runner *r, const tt_event *ev)
{
    if (ev->ts >= r->next_roll) {
        tt_portfolio_advance(r->pf, ev->ts);
        r->next_roll = tt_portfolio_next_rollover(r->pf);
    }
    if (ev->ts >= r->next_equity) {
        equity_point(r, ev->ts); /* the state before this event */
        r->next_equity = (ev->ts / r->interval + 1) * r->interval;
        risk_update(r, ev->ts);
    }
    switch (ev->kind) {
    case TT_EV_QUOTE:
        tt_portfolio_quote(r->pf, ev->symbol, ev->u.quote.bid, ev->u.quote.ask);
        if (r->vt->on_quote)
            r->vt->on_quote(r->state, &r->ctx, ev);
        break;
    case TT_EV_BAR:
        if (r->vt->on_bar && !r->cfg.skip_input_bars)
            r->vt->on_bar(r->state, &r->ctx, ev);
        break;
    case TT_EV_ORDER_EVENT:
        if (ev->source == TT_RUNNER_SOURCE) { /* our own rejection, handed back */
            if (r->vt->on_order_event)
                r->vt->on_order_event(r->state, &r->ctx, ev);
            break;
        }
        on_venue_event(r, ev);
        if (r->vt->on_order_event)
            r->vt->on_order_event(r->state, &r->ctx, ev);
        break;
    case TT_EV_TIMER:
        if (take_timer(r, ev->u.timer.timer_id) && r->vt->on_timer)
            r->vt->on_timer(r->state, &r->ctx, ev->u.timer.timer_id, ev->u.timer.user);
        break;
    case TT_EV_EXTERNAL:
        /* a calendar event the gate did not know yet joins the blackout's
         * schedule before the strategy can react to it */
        if ((r->risk && tt_risk_gate_on_external(r->risk, ev) < 0) ||
            (r->cfg.news && tt_news_add_event(r->cfg.news, ev) < 0)) {
            tt_err err;
            tt_err_set(&err, TT_ENOMEM, "out of memory (news schedule)");
            run_error(r, &err);
        }
        if (r->vt->on_external)
            r->vt->on_external(r->state, &r->ctx, ev);
        break;
    case TT_EV_CONTROL:
        if (ev->u.control.op == TT_CTL_KILL)
            tt_runner_kill(r);
        break;
    default:
        break;
    }
}

/* The quiet path (tt_component.market_quiet): quotes before the next
 * rollover and equity sample, with no on_quote to call, only mark the
 * portfolio. */
static int runner_market_quiet(void *self, const tt_market_view *v, int n)
{
    const tt_runner *r = self;
    if (r->vt->on_quote)
        return 0;
    return tt_market_view_until(v, n, r->next_roll < r->next_equity ? r->next_roll
                                                                     : r->next_equity);
}

static void runner_market_take(void *self, const tt_market_view *v, int n)
{
    tt_portfolio_quotes(((tt_runner *)self)->pf, v->symbol, v->bid, v->ask, n);
}

void tt_runner_bar_listener(void *runner, tt_engine *e, const tt_event *bar)
{
    tt_runner *r = runner;
    (void)e;
    if (r->vt->on_bar)
        r->vt->on_bar(r->state, &r->ctx, bar);
}

static int runner_start(void *self, tt_engine *e, tt_err *err)
{
    tt_runner *r = self;
    r->e = e;
    if (r->vt->on_start) {
        tt_err_clear(&r->fail_err);
        int rc = r->vt->on_start(r->state, &r->ctx);
        if (rc) { /* an error the strategy met and handled does not stop the run */
            if (r->fail_err.code)
                *err = r->fail_err;
            else
                tt_err_set(err, rc, "strategy %s: on_start failed", r->vt->name);
            return err->code ? err->code : TT_EINVAL;
        }
    }
    return TT_OK;
}

static int runner_stop(void *self, tt_engine *e, tt_err *err)
{
    tt_runner *r = self;
    r->stopping = 1;
    if (r->vt->on_stop)
        r->vt->on_stop(r->state, &r->ctx);
    tt_ts now = tt_engine_now(e);
    /* every order ends in a terminal state: what is still working is
     * cancelled by the end of the run (no command goes to the venue) */
    while (tt_orders_count(r->orders)) {
        const tt_order *o = tt_orders_at(r->orders, 0);
        tt_event ev;
        if (tt_orders_transition(r->orders, o->cmd.client_id, TT_OS_CANCELLED, TT_REASON_END, now,
                                 &ev, NULL))
            break;
        emit_order_ev(r, &ev);
    }
    tt_portfolio_close_all(r->pf, now, TT_CLOSE_END);
    equity_point(r, now);
    if (r->failed) {
        *err = r->err;
        return r->err.code ? r->err.code : TT_ESTATE;
    }
    return TT_OK;
}

tt_component tt_runner_component(tt_runner *r)
{
    tt_component c;
    memset(&c, 0, sizeof c);
    c.self = r;
    c.name = "strategy";
    c.on_start = runner_start;
    c.on_event = runner_event;
    c.on_stop = runner_stop;
    if (!r->vt->on_quote) { /* a strategy called on every quote is never quiet */
        c.market_quiet = runner_market_quiet;
        c.market_take = runner_market_take;
    }
    return c;
}

void tt_runner_kill(tt_runner *r)
{
    if (!r->risk || tt_risk_gate_halted(r->risk, r->e ? tt_engine_now(r->e) : 0) ==
                        TT_RULE_KILL_SWITCH)
        return;
    tt_risk_gate_kill(r->risk);
    tt_risk d;
    memset(&d, 0, sizeof d);
    d.rule = TT_RULE_KILL_SWITCH;
    d.value = 1;
    if (r->e)
        halt_now(r, &d);
}

const tt_orders *tt_runner_orders(const tt_runner *r) { return r->orders; }
uint64_t tt_runner_orders_sent(const tt_runner *r) { return r->sent; }
uint64_t tt_runner_risk_rejects(const tt_runner *r) { return r->rejects; }

void tt_runner_rejects(const tt_runner *r, tt_reject_counts *out) { *out = r->why; }

uint64_t tt_reject_total(const tt_reject_counts *c)
{
    uint64_t n = 0;
    for (int i = 0; i < TT_RULE_COUNT; i++)
        n += c->rule[i];
    for (int i = 0; i < TT_REASON_COUNT; i++)
        n += c->reason[i];
    return n;
}

int tt_runner_error(const tt_runner *r, tt_err *err)
{
    if (!r->failed)
        return TT_OK;
    if (err)
        *err = r->err;
    return r->err.code ? r->err.code : TT_ESTATE;
}
