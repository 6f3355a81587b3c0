/*
 * The options every importer shares: the data-quality settings, --quality
 * KEY=VALUE (a rule setting of data/quality.h, repeatable) and --quarantine
 * FILE, one table over a tt_quality_config; and how the tape is written,
 * --wait and --replace, one table over a tt_cli_write_opts. Both are included
 * by `import dukascopy` and by the text and HDF5 importers, so they take and
 * document the settings alike; the quality settings themselves are listed
 * after the options (tt_quality_config_help).
 */
#include <stddef.h>

#include "cli.h"
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
     .help = "also write every dropped or repaired tick to FILE (CSV; the tape's quarantine "
             "stream always has them: tape export --quarantine)"},
    {TT_OPT_FLAG, "keep-suspect", .off = offsetof(tt_quality_config, keep_suspect),
     .help = "keep suspect prices (nonpositive, volume, band) on the tape, flagged and counted, "
             "instead of quarantining them"},
    {TT_OPT_END},
};

const tt_opt tt_write_opts[] = {
    {TT_OPT_FLAG, "wait", .off = offsetof(tt_cli_write_opts, wait),
     .help = TT_WAIT_HELP},
    {TT_OPT_FLAG, "replace", .off = offsetof(tt_cli_write_opts, replace),
     .help = "ticks or bars at a time the tape holds other values for replace the tape's "
             "(default: the tape's are kept; either way they are counted and reported)"},
    {TT_OPT_END},
};
