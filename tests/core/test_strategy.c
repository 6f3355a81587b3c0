/*
 * The strategy runner and the strategy API, in the core alone: a scripted
 * strategy, a minimal venue port written here (accepts, then fills market
 * orders at the touch of the last quote), the real order manager, risk gate
 * and portfolio.
 *
 * Checked: callbacks arrive (start, quote, timer, order events, stop); every
 * transition is an output in order (pending, risk decision, submitted,
 * command, then the venue's); invalid and risk-rejected orders come back to
 * the strategy as events; the kill switch (a control event) rejects new
 * orders and flattens; parameters are checked (range, unknown key, syntax);
 * the strategy's random stream is the named stream of the scenario seed; the
 * log reaches the run log; bar subscriptions are declared in create only;
 * the ABI check names both versions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/strategy.h"

#define SEC TT_NS_PER_SEC

/* ---- a minimal venue ---- */

typedef struct mini_venue {
    tt_engine *e;
    tt_quote last[64];
} mini_venue;

static void mv_attach(void *self, tt_engine *e) { ((mini_venue *)self)->e = e; }

static void mv_market(void *self, const tt_event *ev)
{
    mini_venue *v = self;
    if (ev->kind == TT_EV_QUOTE)
        v->last[ev->symbol] = ev->u.quote;
}

static void mv_send(mini_venue *v, const tt_event *cmd, int status, int64_t fill, tt_price px)
{
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = tt_engine_now(v->e);
    ev.kind = TT_EV_ORDER_EVENT;
    ev.source = 77;
    ev.symbol = cmd->symbol;
    ev.u.order_ev.client_id = cmd->u.order_cmd.client_id;
    ev.u.order_ev.venue_id = cmd->u.order_cmd.client_id;
    ev.u.order_ev.status = (uint8_t)status;
    ev.u.order_ev.side = cmd->u.order_cmd.side;
    ev.u.order_ev.fill_qty = fill;
    ev.u.order_ev.fill_price = px;
    ev.u.order_ev.reason = fill ? TT_REASON_FILL : TT_REASON_ACCEPTED;
    assert_int_equal(tt_engine_schedule(v->e, &ev, NULL), 0);
}

static int mv_command(void *self, const tt_event *cmd, tt_err *err)
{
    mini_venue *v = self;
    (void)err;
    const tt_order_cmd *c = &cmd->u.order_cmd;
    if (c->cmd != TT_CMD_SUBMIT)
        return 0;
    const tt_quote *q = &v->last[cmd->symbol];
    mv_send(v, cmd, TT_OS_ACCEPTED, 0, 0);
    mv_send(v, cmd, TT_OS_FILLED, c->qty, c->side > 0 ? q->ask : q->bid);
    return 0;
}

/* ---- a scripted strategy ---- */

typedef struct script {
    int started, stopped, quotes, timers;
    uint64_t timer_user;
    tt_event evs[64];
    int nev;
    double first_draw;
    int64_t p_int;
    int sub_late_rc;
} script;

static int sc_create(tt_strategy_ctx *c, void **state)
{
    script *s = calloc(1, sizeof *s);
    int rc = tt_ctx_param_int(c, "k", 3, 1, 10, &s->p_int);
    if (rc) {
        free(s);
        return rc;
    }
    s->first_draw = tt_rng_uniform(tt_ctx_rng(c));
    *state = s;
    return TT_OK;
}

static int sc_start(void *st, tt_strategy_ctx *c)
{
    script *s = st;
    s->started = 1;
    s->sub_late_rc = tt_ctx_subscribe_bars(c, 1, TT_TF_M1, TT_SIDE_BID);
    return 0;
}

static void sc_quote(void *st, tt_strategy_ctx *c, const tt_event *q)
{
    script *s = st;
    if (s->quotes++ == 0) /* time is known from the first event on */
        tt_ctx_timer_set(c, q->ts + 5 * SEC, 42);
}

static void sc_timer(void *st, tt_strategy_ctx *c, uint64_t id, uint64_t user)
{
    script *s = st;
    (void)id;
    s->timers++;
    s->timer_user = user;
    uint32_t eu = tt_ctx_symbol_id(c, "EURUSD");
    tt_ctx_log(c, TT_LOG_INFO, "timer %llu fired", (unsigned long long)user);
    assert_int_equal(tt_ctx_market(c, eu, 10, 0, 0), 1);   /* filled */
    assert_int_equal(tt_ctx_market(c, eu, 0, 0, 0), 2);    /* invalid: qty 0 */
    assert_int_equal(tt_ctx_market(c, eu, 1000, 0, 0), 3); /* over max_order_qty */
}

static void sc_order(void *st, tt_strategy_ctx *c, const tt_event *ev)
{
    script *s = st;
    (void)c;
    s->evs[s->nev++] = *ev;
}

static void sc_stop(void *st, tt_strategy_ctx *c)
{
    script *s = st;
    (void)c;
    s->stopped = 1;
}

static const tt_strategy_vtable SCRIPT = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "script", "test", "k=3",
    sc_create, free, sc_start, sc_quote, NULL, sc_order, sc_timer, NULL, sc_stop,
};

/* A strategy that records its first random draw and its late subscription. */
static script *g_seen; /* test-only: lets the check below read the state */
static int probe_create(tt_strategy_ctx *c, void **state)
{
    int rc = sc_create(c, state);
    g_seen = *state;
    return rc;
}
static const tt_strategy_vtable PROBE = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "probe", "test", "k=3",
    probe_create, free, sc_start, sc_quote, NULL, sc_order, sc_timer, NULL, sc_stop,
};

/* ---- the run ---- */

typedef struct run {
    tt_event in[32];
    int nin, i;
    tt_event out[128];
    int nout;
    char log[8][256];
    int nlog;
    tt_trade_record trades[8];
    int ntrades;
} run;

static int src_next(void *self, tt_event *ev, tt_err *err)
{
    run *r = self;
    (void)err;
    if (r->i == r->nin)
        return TT_SRC_END;
    *ev = r->in[r->i++];
    return TT_SRC_EVENT;
}

static int sink_write(void *self, const tt_event *ev, tt_err *err)
{
    run *r = self;
    (void)err;
    if (r->nout < 128)
        r->out[r->nout++] = *ev;
    return 0;
}

static void on_log(void *ctx, tt_ts ts, int level, const char *who, const char *msg)
{
    run *r = ctx;
    (void)ts;
    (void)level;
    if (r->nlog < 8)
        snprintf(r->log[r->nlog++], 256, "%s: %s", who, msg);
}

static void on_trade(void *ctx, const tt_trade_record *t)
{
    run *r = ctx;
    r->trades[r->ntrades++] = *t;
}

static void add_quote(run *r, tt_ts ts, uint32_t sym, tt_price bid, tt_price ask)
{
    tt_event *e = &r->in[r->nin++];
    memset(e, 0, sizeof *e);
    e->ts = e->ts_init = ts;
    e->kind = TT_EV_QUOTE;
    e->cls = TT_CLS_MARKET;
    e->source = 1;
    e->seq = (uint64_t)r->nin;
    e->symbol = sym;
    e->u.quote.bid = bid;
    e->u.quote.ask = ask;
}

static void test_runner_flow_and_kill(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    run *r = calloc(1, sizeof *r);
    tt_ts t = tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0);
    for (int k = 0; k < 8; k++)
        add_quote(r, t + k * SEC, eu, 114420 + k, 114430 + k);
    /* a kill switch at t+7.5s */
    tt_event *kill = &r->in[r->nin++];
    memset(kill, 0, sizeof *kill);
    kill->ts = kill->ts_init = t + 7 * SEC + SEC / 2;
    kill->kind = TT_EV_CONTROL;
    kill->cls = TT_CLS_CONTROL;
    kill->source = 2;
    kill->seq = 1;
    kill->u.control.op = TT_CTL_KILL;
    for (int k = 8; k < 10; k++)
        add_quote(r, t + k * SEC, eu, 114420 + k, 114430 + k);

    tt_portfolio_config pc;
    memset(&pc, 0, sizeof pc);
    memcpy(pc.currency, "USD", 4);
    pc.initial_balance = 1000000;
    tt_portfolio *pf;
    tt_err err;
    assert_int_equal(tt_portfolio_new(&pf, ins, &pc, &err), 0);
    tt_portfolio_on_trade(pf, on_trade, r);
    tt_risk_config rc = {0};
    rc.max_order_qty = 500;
    tt_risk_gate *g;
    assert_int_equal(tt_risk_gate_new(&g, &rc, &err), 0);
    tt_runner_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.strategy = &PROBE;
    cfg.params = "k=4";
    cfg.seed = 99;
    cfg.symbols = &eu;
    cfg.nsymbols = 1;
    cfg.portfolio = pf;
    cfg.risk = g;
    cfg.flatten_on_halt = 1;
    cfg.log = on_log;
    cfg.log_ctx = r;
    tt_runner *run_;
    assert_int_equal(tt_runner_new(&run_, ins, &cfg, &err), 0);

    mini_venue mv;
    memset(&mv, 0, sizeof mv);
    tt_engine *e = tt_engine_new(ins);
    tt_source src = {r, src_next, NULL};
    tt_engine_set_source(e, src);
    tt_venue vp = {&mv, mv_attach, mv_command, mv_market, NULL};
    tt_engine_set_venue(e, vp);
    tt_engine_add_component(e, tt_runner_component(run_));
    tt_sink sk = {r, sink_write, NULL, NULL};
    tt_engine_add_sink(e, sk);
    int rrc = tt_engine_run(e, &err);
    if (rrc)
        fail_msg("run: %s", err.msg);

    /* what the strategy saw: its timer, then its orders' events in queue order
     * (the venue's before the runner's own rejections at the same instant) */
    script *s = g_seen;
    assert_int_equal(s->p_int, 4);
    assert_int_equal(s->timers, 1);
    assert_int_equal(s->timer_user, 42);
    assert_int_equal(s->quotes, 10);
    assert_int_equal(s->stopped, 1);
    assert_true(s->nev >= 6);
    assert_int_equal(s->evs[0].u.order_ev.client_id, 1);
    assert_int_equal(s->evs[0].u.order_ev.status, TT_OS_ACCEPTED);
    assert_int_equal(s->evs[0].ts, t + 5 * SEC);
    assert_int_equal(s->evs[1].u.order_ev.status, TT_OS_FILLED);
    /* the timer at t+5s runs before the quote at t+5s (timers order first at
     * equal times): the touch is t+4s's ask, 114434 */
    assert_int_equal(s->evs[1].u.order_ev.fill_price, 114434);
    assert_int_equal(s->evs[2].u.order_ev.client_id, 2);
    assert_int_equal(s->evs[2].u.order_ev.status, TT_OS_REJECTED);
    assert_int_equal(s->evs[2].u.order_ev.reason, TT_REASON_INVALID);
    assert_int_equal(s->evs[3].u.order_ev.client_id, 3);
    assert_int_equal(s->evs[3].u.order_ev.status, TT_OS_REJECTED);
    assert_int_equal(s->evs[3].u.order_ev.reason, TT_REASON_RISK);
    assert_int_equal(s->evs[4].u.order_ev.client_id, 4); /* the flatten */
    assert_int_equal(s->evs[5].u.order_ev.status, TT_OS_FILLED);
    assert_int_equal(s->evs[5].ts, t + 7 * SEC + SEC / 2);
    /* outputs: order 1's trail is pending, risk approval, submitted, command */
    int k = 0;
    for (int i = 0; i < r->nout && k < 4; i++) {
        const tt_event *o = &r->out[i];
        if (o->kind == TT_EV_ORDER_EVENT && o->u.order_ev.client_id == 1 &&
            o->u.order_ev.status == TT_OS_PENDING)
            k++;
        else if (k == 1 && o->kind == TT_EV_RISK && o->u.risk.client_id == 1 && o->u.risk.approved)
            k++;
        else if (k == 2 && o->kind == TT_EV_ORDER_EVENT && o->u.order_ev.client_id == 1 &&
                 o->u.order_ev.status == TT_OS_SUBMITTED)
            k++;
        else if (k == 3 && o->kind == TT_EV_ORDER_CMD && o->u.order_cmd.client_id == 1)
            k++;
    }
    assert_int_equal(k, 4);
    /* the rejection by risk names the rule and the numbers */
    int found_risk = 0, found_kill = 0, equity = 0;
    for (int i = 0; i < r->nout; i++) {
        const tt_event *o = &r->out[i];
        if (o->kind == TT_EV_RISK && o->u.risk.client_id == 3) {
            assert_int_equal(o->u.risk.approved, 0);
            assert_int_equal(o->u.risk.rule, TT_RULE_MAX_ORDER_SIZE);
            assert_true(o->u.risk.value == 1000 && o->u.risk.limit == 500);
            found_risk = 1;
        }
        if (o->kind == TT_EV_RISK && o->u.risk.rule == TT_RULE_KILL_SWITCH) {
            assert_int_equal(o->ts, t + 7 * SEC + SEC / 2);
            found_kill = 1;
        }
        equity += o->kind == TT_EV_EQUITY;
    }
    assert_true(found_risk && found_kill);
    assert_true(equity >= 2);
    /* the kill switch flattened: order 4 sold the 10 at the bid of t+7s (114427),
     * a trade closed by risk; bought at 114434: -7 points x 10 = -70 cents */
    assert_int_equal(r->ntrades, 1);
    assert_int_equal(r->trades[0].close_reason, TT_CLOSE_RISK);
    assert_int_equal(r->trades[0].open_price, 114434);
    assert_int_equal(r->trades[0].close_price, 114427);
    assert_int_equal(r->trades[0].pnl, -70);
    assert_int_equal(tt_portfolio_count(pf), 0);
    assert_int_equal(tt_runner_risk_rejects(run_), 1); /* the big one; the invalid one is not risk's */
    /* the log */
    assert_true(r->nlog >= 2);
    assert_string_equal(r->log[0], "probe: timer 42 fired");
    int halted_logged = 0;
    for (int i = 0; i < r->nlog; i++)
        halted_logged |= strstr(r->log[i], "kill_switch") != NULL;
    assert_true(halted_logged);
    tt_engine_free(e);
    tt_runner_free(run_);
    tt_risk_gate_free(g);
    tt_portfolio_free(pf);
    tt_instruments_free(ins);
    free(r);
}

static int runner_with(const char *params, tt_err *err)
{
    tt_instruments *ins = tt_instruments_new();
    uint32_t eu = 1;
    tt_portfolio_config pc;
    memset(&pc, 0, sizeof pc);
    memcpy(pc.currency, "USD", 4);
    tt_portfolio *pf;
    assert_int_equal(tt_portfolio_new(&pf, ins, &pc, err), 0);
    tt_runner_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.strategy = &SCRIPT;
    cfg.params = params;
    cfg.symbols = &eu;
    cfg.nsymbols = 1;
    cfg.portfolio = pf;
    tt_runner *rn = NULL;
    int rc = tt_runner_new(&rn, ins, &cfg, err);
    tt_runner_free(rn);
    tt_portfolio_free(pf);
    tt_instruments_free(ins);
    return rc;
}

static void test_params(void **state)
{
    (void)state;
    tt_err err;
    assert_int_equal(runner_with("k=10", &err), 0);
    assert_int_equal(runner_with("  k=2 , ", &err), 0);
    assert_int_equal(runner_with("k=11", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "k=11"));
    assert_non_null(strstr(err.msg, "[1, 10]"));
    assert_int_equal(runner_with("k=x", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "not an integer"));
    assert_int_equal(runner_with("k=2 fast=3", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "unknown parameter 'fast'"));
    assert_non_null(strstr(err.msg, "script"));
    assert_int_equal(runner_with("k", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "key=value"));
    assert_int_equal(runner_with("k=1 k=2", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "twice"));
}

static void test_builtins_and_abi(void **state)
{
    (void)state;
    const char *names[] = {"sma_cross", "breakout", "rsi_reversion", "buy_and_hold",
                           "tick_momentum"};
    for (int i = 0; i < 5; i++) {
        const tt_strategy_vtable *vt = tt_strategy_builtin(names[i]);
        assert_non_null(vt);
        assert_ptr_equal(vt, tt_strategy_builtin_at(i));
        assert_int_equal(tt_strategy_check(vt, names[i], NULL), 0);
    }
    assert_null(tt_strategy_builtin("nope"));
    assert_null(tt_strategy_builtin_at(5));
    tt_strategy_vtable bad = SCRIPT;
    bad.abi_version = TT_STRATEGY_ABI_VERSION + 7;
    tt_err err;
    assert_int_equal(tt_strategy_check(&bad, "x.so", &err), TT_EABI);
    assert_non_null(strstr(err.msg, "x.so"));
    bad = SCRIPT;
    bad.struct_size = 8;
    assert_int_equal(tt_strategy_check(&bad, "y.so", &err), TT_EABI);
    assert_non_null(strstr(err.msg, "8 bytes"));
}

static void test_builtin_params_checked(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    uint32_t eu = 1;
    tt_portfolio_config pc;
    memset(&pc, 0, sizeof pc);
    memcpy(pc.currency, "USD", 4);
    tt_portfolio *pf;
    tt_err err;
    assert_int_equal(tt_portfolio_new(&pf, ins, &pc, &err), 0);
    tt_runner_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.symbols = &eu;
    cfg.nsymbols = 1;
    cfg.portfolio = pf;
    tt_runner *rn;
    cfg.strategy = tt_strategy_builtin("sma_cross");
    cfg.params = "fast=30 slow=10";
    assert_int_equal(tt_runner_new(&rn, ins, &cfg, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "fast must be < slow"));
    cfg.params = "tf=H7";
    assert_int_equal(tt_runner_new(&rn, ins, &cfg, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "tf"));
    cfg.params = "tf=H1 side=mid fast=5 slow=20";
    assert_int_equal(tt_runner_new(&rn, ins, &cfg, &err), 0);
    const tt_bar_sub *subs;
    assert_int_equal(tt_runner_bar_subs(rn, &subs), 1);
    assert_int_equal(subs[0].symbol, 1);
    assert_int_equal(subs[0].tf, TT_TF_H1);
    assert_int_equal(subs[0].side, TT_SIDE_MID);
    tt_runner_free(rn);
    cfg.strategy = tt_strategy_builtin("rsi_reversion");
    cfg.params = "lower=60";
    assert_int_equal(tt_runner_new(&rn, ins, &cfg, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "lower"));
    cfg.strategy = tt_strategy_builtin("breakout");
    cfg.params = "symbol=NOPE";
    assert_int_equal(tt_runner_new(&rn, ins, &cfg, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "symbol"));
    tt_portfolio_free(pf);
    tt_instruments_free(ins);
}

static void test_rng_and_late_subscription(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    uint32_t eu = 1;
    tt_portfolio_config pc;
    memset(&pc, 0, sizeof pc);
    memcpy(pc.currency, "USD", 4);
    tt_portfolio *pf;
    tt_err err;
    assert_int_equal(tt_portfolio_new(&pf, ins, &pc, &err), 0);
    tt_runner_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.strategy = &PROBE;
    cfg.seed = 2024;
    cfg.symbols = &eu;
    cfg.nsymbols = 1;
    cfg.portfolio = pf;
    tt_runner *rn;
    assert_int_equal(tt_runner_new(&rn, ins, &cfg, &err), 0);
    tt_rng ref;
    tt_rng_seed_named(&ref, 2024, "strategy");
    assert_true(g_seen->first_draw == tt_rng_uniform(&ref));
    assert_int_equal(g_seen->p_int, 3); /* the default */
    tt_engine *e = tt_engine_new(ins);
    tt_engine_add_component(e, tt_runner_component(rn));
    assert_int_equal(tt_engine_run(e, &err), 0); /* no source: start and stop */
    assert_int_equal(g_seen->started, 1);
    assert_int_equal(g_seen->stopped, 1);
    assert_int_equal(g_seen->sub_late_rc, TT_ESTATE);
    tt_engine_free(e);
    tt_runner_free(rn);
    tt_portfolio_free(pf);
    tt_instruments_free(ins);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runner_flow_and_kill),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_builtins_and_abi),
        cmocka_unit_test(test_builtin_params_checked),
        cmocka_unit_test(test_rng_and_late_subscription),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
