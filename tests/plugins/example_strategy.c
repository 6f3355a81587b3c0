/*
 * An example strategy plugin: tick momentum.
 *
 * Build it as a shared object (tests/core/plugins.cmake does) and run it with
 * `strategy: path/to/libexample_strategy.so`. It talks to ticktape only
 * through the context (core/strategy.h's inline tt_ctx_* helpers call through
 * the host's function table), so it needs no symbol from the host binary.
 *
 * Rule: an SMA of the last `n` bids of the first symbol (core/indicators.h,
 * linked into the plugin from the static tt_core: indicators are plain
 * structs and functions with no global state); when the bid is more than
 * `move` points above the SMA, go long `qty`; more than `move` below, go
 * short; attach a stop-loss `sl` points away. One position at a time;
 * decisions pause while an order is in flight.
 *
 * Built with TT_EXAMPLE_BAD_ABI defined, it claims the next ABI version, so
 * the loader's refusal can be tested.
 */
#include <stdlib.h>

#include "core/indicators.h"
#include "core/strategy.h"

typedef struct mom {
    uint32_t sym;
    int64_t n, move, qty, sl;
    tt_sma sma;
    int inflight;
} mom;

static void mom_destroy(void *s)
{
    mom *m = s;
    tt_sma_free(&m->sma);
    free(m);
}

static int mom_create(tt_strategy_ctx *c, void **state)
{
    mom *m = calloc(1, sizeof *m);
    if (!m)
        return tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    int rc = tt_ctx_param_int(c, "n", 200, 2, 100000, &m->n);
    if (!rc)
        rc = tt_ctx_param_int(c, "move", 15, 1, 1000000, &m->move);
    if (!rc)
        rc = tt_ctx_param_int(c, "qty", 10, 1, 1000000, &m->qty);
    if (!rc)
        rc = tt_ctx_param_int(c, "sl", 0, 0, 1000000, &m->sl);
    m->sym = tt_ctx_symbol_at(c, 0);
    if (!rc && !m->sym)
        rc = tt_ctx_fail(c, TT_EINVAL, "the run has no symbol");
    tt_err err;
    if (!rc && tt_sma_init(&m->sma, (int)m->n, &err))
        rc = tt_ctx_fail(c, TT_EINVAL, err.msg);
    if (rc) {
        mom_destroy(m);
        return rc;
    }
    *state = m;
    return TT_OK;
}

static void mom_quote(void *s, tt_strategy_ctx *c, const tt_event *q)
{
    mom *m = s;
    if (q->symbol != m->sym)
        return;
    tt_price bid = q->u.quote.bid;
    double avg = tt_sma_update(&m->sma, (double)bid);
    if (!tt_sma_ready(&m->sma) || m->inflight || tt_ctx_position(c, m->sym) != 0)
        return;
    double gap = (double)bid - avg;
    int dir = gap > (double)m->move ? 1 : -gap > (double)m->move ? -1 : 0;
    if (!dir)
        return;
    tt_price sl = m->sl ? (dir > 0 ? q->u.quote.ask - m->sl : bid + m->sl) : 0;
    if (tt_ctx_market(c, m->sym, dir * m->qty, sl, 0))
        m->inflight = 1;
    tt_ctx_log(c, TT_LOG_INFO, "momentum %+d at bid %lld", dir, (long long)bid);
}

static void mom_order_event(void *s, tt_strategy_ctx *c, const tt_event *ev)
{
    mom *m = s;
    (void)c;
    int st = ev->u.order_ev.status; /* terminal states (no host symbol needed) */
    if (ev->u.order_ev.client_id && (st == TT_OS_FILLED || st == TT_OS_CANCELLED ||
                                     st == TT_OS_REJECTED || st == TT_OS_EXPIRED ||
                                     st == TT_OS_FAILED))
        m->inflight = 0;
}

static void mom_bar(void *s, tt_strategy_ctx *c, const tt_event *bar)
{
    (void)s;
    (void)c;
    (void)bar;
}

static const tt_strategy_vtable VT = {
#ifdef TT_EXAMPLE_BAD_ABI
    TT_STRATEGY_ABI_VERSION + 1,
#else
    TT_STRATEGY_ABI_VERSION,
#endif
    sizeof(tt_strategy_vtable),
    "example_momentum",
    "tick momentum: the bid against the SMA of the last n bids (example plugin)",
    "n=200 move=15 qty=10 sl=0",
    mom_create, mom_destroy, NULL, mom_quote, mom_bar, mom_order_event, NULL, NULL, NULL,
};

/* The entry point the loader looks for. */
__attribute__((visibility("default"))) const tt_strategy_vtable *tt_strategy_entry(uint32_t host_abi)
{
    (void)host_abi; /* the loader checks the versions */
    return &VT;
}
