/*
 * The data-quality options of every importer: --quality KEY=VALUE (a rule
 * setting of data/quality.h, repeatable) and --quarantine FILE. One table
 * over a tt_quality_config, included by `import dukascopy` and by the text
 * and HDF5 importers, so they take and document the settings alike; the
 * settings themselves are listed after the options (tt_quality_config_help).
 */
#include <stddef.h>

#include "commands.h"
#include "data/quality.h"

static int opt_quality(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    int rc = tt_quality_config_set(tt_opt_field(opts, o), value, err);
    if (rc) {
        tt_err_prefix(err, "--%s: ", o->name);
        return rc;
    }
    return TT_OK;
}

const tt_opt tt_quality_opts[] = {
    {TT_OPT_CUSTOM, "quality", .off = 0, .arg = "KEY=VALUE", .set = opt_quality,
     .help = "data-quality rule setting, repeatable (quality settings: see below)"},
    {TT_OPT_STRING, "quarantine", .off = offsetof(tt_quality_config, quarantine), .arg = "FILE",
     .help = "write every dropped or repaired tick to FILE (CSV)"},
    {TT_OPT_END},
};
