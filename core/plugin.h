/*
 * ticktape: strategy plugins.
 *
 * A plugin is a shared object (built like tests/plugins/example_strategy.c)
 * that exports TT_STRATEGY_ENTRY ("tt_strategy_entry"), a function that takes
 * the host's TT_STRATEGY_ABI_VERSION and returns a tt_strategy_vtable. The
 * loader opens the object with dlopen (RTLD_NOW | RTLD_LOCAL), finds the entry,
 * and checks the vtable's abi_version and struct_size against this build: a
 * mismatch is refused with TT_EABI and a message naming the file and both
 * versions. The object stays loaded until tt_plugin_close.
 */
#ifndef TT_PLUGIN_H
#define TT_PLUGIN_H

#include "error.h"
#include "strategy.h"

typedef struct tt_plugin tt_plugin;

/* Load a strategy plugin. TT_OK, or TT_ENOTFOUND (cannot open: dlerror's
 * text; or no entry symbol), TT_EABI (version or size mismatch, or the entry
 * returned NULL), TT_EINVAL (the strategy has no name), TT_ENOMEM; *out is
 * then NULL and the object unloaded. */
int tt_plugin_open(tt_plugin **out, const char *path, tt_err *err);

/* The plugin's vtable (valid until close). Cannot fail. */
const tt_strategy_vtable *tt_plugin_strategy(const tt_plugin *p);

/* Unload (NULL is allowed). Every runner using the vtable must be freed first.
 * Cannot fail. */
void tt_plugin_close(tt_plugin *p);

#endif
