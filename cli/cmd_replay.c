/*
 * `ticktape replay JOURNAL --scenario SCENARIO [--json]`: run a scenario with
 * a paper session's journal as the data source and the simulated clock. The
 * journal holds every input with the stamps the live engine used (including
 * the gap marks and the final STOP), so the orders, fills and fingerprint come
 * out as they did live; `--json` prints the same summary object as the paper
 * session, and `--orders FILE` the order-event list, for comparison.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "live/journal.h"
#include "sim/scenario.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ticktape replay JOURNAL --scenario SCENARIO [options]\n\n"
            "Replays a paper session's journal (ticktape paper --journal JOURNAL) through the\n"
            "scenario: same inputs, same stamps, so the same orders, fills and fingerprint.\n\n"
            "options:\n"
            "  --scenario FILE     the scenario the session ran (required)\n"
            "  --set KEY=VALUE     override a scenario key (repeatable; changes the outcome)\n"
            "  --out DIR           reports directory (default out/<name>-replay)\n"
            "  --orders FILE       write the order-event list as CSV\n"
            "  --no-reports        write no report files\n"
            "  --json              last line of stdout: the summary (as backtest --json)\n"
            "  --quiet             no human lines on stdout\n");
}

int tt_cmd_replay(int argc, char **argv)
{
    static const char *const flags[] = {"json", "quiet", "no-reports", "help", "h", NULL};
    tt_live_cli o;
    memset(&o, 0, sizeof o);
    const char *journal = NULL, *scenario = NULL;
    tt_opt op;
    tt_opt_init(&op, argc, argv);
    while (tt_opt_next(&op, flags)) {
        if (!op.name) {
            if (journal)
                return tt_usage_error("replay", "unexpected argument '%s'", op.value);
            journal = op.value;
            continue;
        }
        if (tt_opt_is(&op, "help") || tt_opt_is(&op, "h")) {
            usage(stdout);
            return TT_EXIT_OK;
        }
        int c = tt_live_cli_option(&o, "replay", &op);
        if (c < 0)
            return -c;
        if (c)
            continue;
        if (tt_opt_is(&op, "scenario")) {
            if (!op.value)
                return tt_usage_error("replay", "--scenario needs a value");
            scenario = op.value;
        } else {
            return tt_usage_error("replay", "unknown option --%s", op.name);
        }
    }
    if (!journal)
        return tt_usage_error("replay", "missing the JOURNAL directory (see --help)");
    if (!scenario)
        return tt_usage_error("replay", "missing --scenario FILE");
    tt_scenario *s;
    tt_scenario_run *run;
    int code = tt_live_prepare(scenario, &o, "replay", &s, &run);
    if (code)
        return code;
    tt_err err;
    tt_err_clear(&err);
    tt_journal_reader *jr = NULL;
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    if (tt_journal_reader_open(&jr, journal, run->instruments, &err) != TT_OK) {
        code = tt_report_error(&err);
        goto out;
    }
    tt_source src = tt_journal_reader_source(jr);
    run->cfg.source = &src;
    run->cfg.tape_dir = NULL;
    run->cfg.from = run->cfg.to = 0;
    char feed[4200];
    snprintf(feed, sizeof feed, "journal %s", journal);
    o.feed = feed;
    if (tt_backtest_run(&run->cfg, &r, &err) != TT_OK) {
        code = tt_report_error(&err);
        goto out;
    }
    for (int i = 0; i < tt_journal_reader_warning_count(jr); i++)
        fprintf(stderr, "ticktape: warning: %s\n", tt_journal_reader_warning(jr, i));
    code = tt_live_finish(s, run, &r, &o, "replay");
out:
    tt_backtest_result_free(&r);
    tt_journal_reader_close(jr);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    return code;
}
