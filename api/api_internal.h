/*
 * ticktape API: what the parts of api/ share (not installed).
 *
 * One way to get a scenario from a caller (a file, or text with a base
 * directory, then "key=value" overrides), and the strategy vtable that turns
 * the caller's callbacks (tt_api_callbacks) into a strategy.
 */
#ifndef TT_API_INTERNAL_H
#define TT_API_INTERNAL_H

#include <stdio.h>

#include "sim/scenario.h"
#include "ticktape_api.h"

/* Load (is_text 0) or parse (1) a scenario, then apply the n overrides as
 * --set does. TT_OK with *s set, or the loader's or tt_scenario_set's error
 * (*s NULL). */
int tt_api_scenario(tt_scenario **s, const char *scenario, int is_text, const char *base_dir,
                    const char *const *overrides, int n, tt_err *err);

/* The strategy that calls a tt_api_callbacks (given as the run's
 * strategy_user, tt_ctx_user). Cannot fail. */
const tt_strategy_vtable *tt_api_callbacks_vtable(void);

/* The text written to a memory stream by fn(ctx, f), malloc'd (NULL on out
 * of memory or when fn fails). */
char *tt_api_text(int (*fn)(void *ctx, FILE *f), void *ctx);

#endif
