/*
 * Strategy plugins: dlopen, find the entry point, check the ABI.
 *
 * The entry point is a function rather than an exported data symbol so a
 * plugin can see the host's ABI version and refuse (return NULL) or adapt.
 * The vtable's own abi_version and struct_size are then checked with the same
 * rule as built-ins (tt_strategy_check), so a plugin built against another
 * core/strategy.h fails loudly at load time, never with a crash mid-run.
 * RTLD_LOCAL keeps a plugin's symbols from leaking into the next plugin.
 */
#include "plugin.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

struct tt_plugin {
    void *handle;
    const tt_strategy_vtable *vt;
};

int tt_plugin_open(tt_plugin **out, const char *path, tt_err *err)
{
    *out = NULL;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return tt_err_set(err, TT_ENOTFOUND, "plugin %s: cannot load: %s", path,
                          why ? why : "unknown dlopen error");
    }
    dlerror();
    void *sym = dlsym(h, TT_STRATEGY_ENTRY);
    if (!sym) {
        dlclose(h);
        return tt_err_set(err, TT_ENOTFOUND,
                          "plugin %s: no '%s' symbol: not a ticktape strategy plugin", path,
                          TT_STRATEGY_ENTRY);
    }
    tt_strategy_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer, POSIX-style */
    const tt_strategy_vtable *vt = entry(TT_STRATEGY_ABI_VERSION);
    if (!vt) {
        dlclose(h);
        return tt_err_set(err, TT_EABI,
                          "plugin %s: refuses this host (ticktape strategy ABI version %u)", path,
                          TT_STRATEGY_ABI_VERSION);
    }
    int rc = tt_strategy_check(vt, path, err);
    if (rc) {
        dlclose(h);
        return rc;
    }
    tt_plugin *p = calloc(1, sizeof *p);
    if (!p) {
        dlclose(h);
        return tt_err_set(err, TT_ENOMEM, "out of memory (plugin)");
    }
    p->handle = h;
    p->vt = vt;
    *out = p;
    return TT_OK;
}

const tt_strategy_vtable *tt_plugin_strategy(const tt_plugin *p) { return p->vt; }

void tt_plugin_close(tt_plugin *p)
{
    if (!p)
        return;
    dlclose(p->handle);
    free(p);
}
