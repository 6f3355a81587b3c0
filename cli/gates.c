/*
 * The gates of backtest and walkforward (--gate, --junit, --save-baseline).
 *
 * After a run, tt_cli_gates saves the figures as a baseline if asked, reads
 * the scenario's gates: section (sim/gates.h), evaluates it on the run's
 * figures (and the walk-forward efficiency), prints the verdicts and writes
 * them as JUnit XML for CI. A failed gate only changes the exit code under
 * --gate (TT_EXIT_GATE); without it the verdicts are informational.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "commands.h"
#include "sim/gates.h"
#include "sim/research.h"

const tt_opt tt_gate_opts[] = {
    {TT_OPT_FLAG, "gate", .off = offsetof(tt_cli_gate_opts, gate),
     .help = "check the gates: section (docs/research.md); exit 4 if a gate fails"},
    {TT_OPT_STRING, "junit", .off = offsetof(tt_cli_gate_opts, junit), .arg = "FILE",
     .flags = TT_OPT_NONEMPTY, .help = "write the gate verdicts as JUnit XML"},
    {TT_OPT_STRING, "save-baseline", .off = offsetof(tt_cli_gate_opts, save_baseline),
     .arg = "FILE", .flags = TT_OPT_NONEMPTY,
     .help = "write the figures (of a walk-forward: the out-of-sample ones) as a gates "
             "baseline"},
    {TT_OPT_END},
};

int tt_cli_gates(const char *scenario_file, const char *suite, const tt_metrics *m,
                 const double *wfe, long long minor_per_unit, const tt_cli_gate_opts *g, int quiet)
{
    tt_err err;
    tt_err_clear(&err);
    if (g->save_baseline) {
        if (tt_baseline_write(g->save_baseline, m, wfe, minor_per_unit, &err))
            return tt_report_error(&err);
        if (!quiet)
            printf("baseline     %s\n", g->save_baseline);
    }
    if (!g->gate && !g->junit)
        return TT_EXIT_OK;
    tt_research_doc *doc;
    if (tt_research_doc_load(&doc, scenario_file, &err))
        return tt_report_error(&err);
    tt_gates gates;
    int rc = tt_gates_read(&gates, doc, &err);
    tt_research_doc_free(doc);
    if (rc)
        return tt_report_error(&err);
    gates.minor_per_unit = minor_per_unit;
    tt_gate_result *res;
    size_t nfail;
    rc = tt_gates_eval(&gates, m, wfe, &res, &nfail, &err);
    if (!rc && g->junit)
        rc = tt_gates_junit(g->junit, suite, res, gates.n, &err);
    int code = TT_EXIT_OK;
    if (rc) {
        code = tt_report_error(&err);
    } else if (nfail && g->gate) {
        fprintf(stderr, "ticktape: %zu of %zu gates failed:\n", nfail, gates.n);
        tt_gates_table(stderr, res, gates.n);
        code = TT_EXIT_GATE;
    } else if (!quiet) {
        printf("gates        %zu of %zu passed%s\n", gates.n - nfail, gates.n,
               nfail ? " (not enforced without --gate)" : "");
    }
    if (!rc && !quiet && nfail == 0 && g->gate)
        tt_gates_table(stdout, res, gates.n);
    free(res);
    tt_gates_free(&gates);
    return code;
}
