/*
 * A strategy plugin for the run deadline test: with hang=1 it never returns
 * from its first quote (a strategy stuck in a loop, or a run waiting on a
 * pipe nobody writes). A worker must kill the run after --run-timeout and
 * terminate its job instead of keeping it alive forever.
 */
#include <unistd.h>

#include "core/strategy.h"

static int hang_create(tt_strategy_ctx *c, void **state)
{
    static int64_t hang;
    int rc = tt_ctx_param_int(c, "hang", 0, 0, 1, &hang);
    *state = &hang;
    return rc;
}

static void hang_free(void *s)
{
    (void)s;
}

static void hang_quote(void *s, tt_strategy_ctx *c, const tt_event *q)
{
    (void)c, (void)q;
    while (*(int64_t *)s)
        pause();
}

static const tt_strategy_vtable VT = {
    TT_STRATEGY_ABI_VERSION, sizeof(tt_strategy_vtable), "hang_test",
    "never returns from its first quote when hang=1 (tests)", "hang=0",
    hang_create, hang_free, NULL, hang_quote, NULL, NULL, NULL, NULL, NULL,
};

__attribute__((visibility("default"))) const tt_strategy_vtable *tt_strategy_entry(uint32_t host_abi)
{
    (void)host_abi;
    return &VT;
}
