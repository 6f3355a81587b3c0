/*
 * A strategy plugin for the sweep tests: it does nothing, unless its
 * parameter crash=1, in which case it dies of SIGSEGV on the 1000th quote
 * (mid-run, the way a buggy strategy would). A sweep over crash=[0, 1]
 * must report the crashed run with its parameters and complete the others.
 */
#include <signal.h>
#include <stdlib.h>

#include "core/strategy.h"

typedef struct crash {
    int64_t crash;
    int64_t quotes;
} crash;

static int crash_create(tt_strategy_ctx *c, void **state)
{
    crash *k = calloc(1, sizeof *k);
    if (!k)
        return tt_ctx_fail(c, TT_ENOMEM, "out of memory");
    int64_t dummy;
    int rc = tt_ctx_param_int(c, "crash", 0, 0, 1, &k->crash);
    if (!rc) /* a second, swept parameter so the run's table has two */
        rc = tt_ctx_param_int(c, "n", 1, 0, 1000000, &dummy);
    if (rc) {
        free(k);
        return rc;
    }
    *state = k;
    return TT_OK;
}

static void crash_quote(void *s, tt_strategy_ctx *c, const tt_event *q)
{
    (void)c, (void)q;
    crash *k = s;
    if (k->crash && ++k->quotes == 1000)
        raise(SIGSEGV);
}

static const tt_strategy_vtable VT = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "crash_test",
    "crashes on purpose when crash=1 (tests)", "crash=0 n=1",
    crash_create, free, NULL, crash_quote, NULL, NULL, NULL, NULL, NULL,
};

__attribute__((visibility("default"))) const tt_strategy_vtable *tt_strategy_entry(uint32_t host_abi)
{
    (void)host_abi;
    return &VT;
}
