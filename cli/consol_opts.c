/*
 * The consolidation options of `merge` and `aggregate`: the policy and the
 * health rules of core/consolidate.h, one table over a tt_consol_config so
 * the two commands take and document them alike (the same code runs behind
 * both). Durations take a unit (0.5s, 2s, 1m). Zero switches a k rule off:
 * tt_consol_cli_finish turns the command line's 0 into the config's "off".
 * Also what both do with their other options: comma lists, the instruments.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/consolidate.h"
#include "core/instrument.h"

#define C(field) offsetof(tt_consol_config, field)

static const int POLICY_IVALS[] = {TT_POLICY_BEST, TT_POLICY_PRIORITY, TT_POLICY_MEDIAN};

const tt_opt tt_consol_opts[] = {
    {TT_OPT_ENUM, "policy", .off = C(policy),
     .values = (const char *const[]){"best", "priority", "median", NULL}, .ivals = POLICY_IVALS,
     .def = "priority", .flags = TT_OPT_NOCASE,
     .help = "best bid and ask across sources, the first healthy source in priority order "
             "(failover), or the median (consensus)"},
    {TT_OPT_DURATION, "stale", .off = C(stale), .arg = "T", .def = "5s",
     .help = "a source silent this long while another ticks is down (stale)"},
    {TT_OPT_DURATION, "recover", .off = C(recover), .arg = "T", .def = "5s",
     .help = "hysteresis: a source comes back after good quotes for this long ..."},
    {TT_OPT_INT, "recover-ticks", .off = C(recover_ticks), .arg = "N", .min = 1, .max = 1e6,
     .def = "3", .help = "... and at least N good quotes in a row"},
    {TT_OPT_DOUBLE, "deviation", .off = C(deviation_k), .arg = "K", .min = 0, .max = 1e6,
     .def = "10",
     .help = "quarantine a source whose mid is more than K median spreads from the consensus "
             "of at least two others (0 = off)"},
    {TT_OPT_DOUBLE, "spread-k", .off = C(spread_k), .arg = "K", .min = 0, .max = 1e6, .def = "5",
     .help = "degrade a source whose spread is over K times the median of the others (0 = off)"},
    {TT_OPT_DOUBLE, "rate-ratio", .off = C(rate_ratio), .arg = "R", .min = 0, .max = 0.999,
     .def = "0",
     .help = "degrade a source quoting at less than R times the others' median rate (0 = off)"},
    {TT_OPT_END},
};

int tt_consol_cli_list(const char *text, char *buf, size_t cap, const char **out, int max)
{
    int n = 0;
    snprintf(buf, cap, "%s", text ? text : "");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < max;
         t = strtok_r(NULL, ",", &save))
        out[n++] = t;
    out[n] = NULL;
    return n;
}

tt_instruments *tt_consol_cli_instruments(const char *file)
{
    tt_err err;
    tt_instruments *ins = tt_instruments_new();
    if (!ins)
        tt_err_set(&err, TT_ENOMEM, "out of memory");
    if (!ins || (file && tt_instruments_load(ins, file, &err))) {
        tt_instruments_free(ins);
        tt_report_error(&err);
        return NULL;
    }
    return ins;
}

void tt_consol_cli_finish(tt_consol_config *cfg)
{
    if (cfg->deviation_k == 0)
        cfg->deviation_k = -1;
    if (cfg->spread_k == 0)
        cfg->spread_k = -1;
}
