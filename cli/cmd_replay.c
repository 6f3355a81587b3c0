/*
 * `ticktape replay JOURNAL --scenario SCENARIO [--json]`: run a scenario with
 * a paper or live session's journal as the data source and the simulated
 * clock. The journal holds every input with the stamps the live engine used
 * (including the gap marks and the final STOP), so the orders, fills and
 * fingerprint come out as they did live; `--json` prints the same summary
 * object as the session, and `--orders FILE` the order-event list, for
 * comparison. A paper session's venue was the simulated one, which the replay
 * runs again; a live session's (live/trading.h, known by its first input)
 * was a broker, whose recorded responses are in the journal: the replay's
 * venue then only takes the commands (tt_mt5_replay_port). Before it runs,
 * the scenario and the overrides are checked against the session record in
 * the journal (cli/live_cli.c): another scenario or other --set would
 * silently give another fingerprint, so they are refused unless --force.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "live/journal.h"
#include "live/mt5_venue.h"
#include "live/trading.h"
#include "sim/scenario.h"

typedef struct replay_opts {
    const char *journal, *scenario;
    tt_live_cli live; /* --set, --out, --orders, --json ... (cli/live_cli.c) */
    int force;
} replay_opts;

static const tt_opt REPLAY_OPTS[] = {
    {TT_OPT_ARG, .arg = "JOURNAL", .off = offsetof(replay_opts, journal),
     .flags = TT_OPT_REQUIRED, .help = "the session's journal directory (paper or live --journal)"},
    {TT_OPT_STRING, "scenario", .off = offsetof(replay_opts, scenario), .arg = "FILE",
     .flags = TT_OPT_REQUIRED, .help = "the scenario the session ran"},
    {TT_OPT_FLAG, "force", .off = offsetof(replay_opts, force),
     .help = "replay even when the scenario or the overrides differ from the session's "
             "(the outcome will differ)"},
    {TT_OPT_INCLUDE, .include = tt_live_opts, .off = offsetof(replay_opts, live)},
    {TT_OPT_END},
};

static int run_replay(int argc, char **argv);

const tt_cmd tt_command_replay = {
    .name = "replay",
    .summary = "replay a paper or live session's journal: same orders, same fingerprint",
    .run = run_replay,
    .opts = REPLAY_OPTS,
    .size = sizeof(replay_opts),
    .about = "Replays a paper or live session's journal (ticktape paper/live --journal JOURNAL)\n"
             "through the scenario: same inputs, same stamps, so the same orders, fills and\n"
             "fingerprint. A live journal's recorded broker responses play the venue's part.\n"
             "The journal records the scenario the session ran (its content, hashed) and\n"
             "every --set: a replay with another scenario or other overrides is refused,\n"
             "naming what differs, unless --force.\n",
    .epilog = "exit codes: 0 replayed, 1 failure (journal or scenario error, a scenario or\n"
              "overrides that differ from the session's), 2 usage error\n",
};

static int run_replay(int argc, char **argv)
{
    replay_opts a;
    memset(&a, 0, sizeof a);
    int code = tt_opts_parse(&tt_command_replay, &a, argc, argv, NULL);
    if (code != TT_OPTS_RUN)
        return code;
    tt_live_cli *o = &a.live;
    const char *journal = a.journal;
    tt_scenario *s;
    tt_scenario_run *run;
    code = tt_live_prepare(a.scenario, o, "replay", &s, &run);
    if (code)
        return code;
    if ((code = tt_live_session_check(journal, a.scenario, o, a.force)) != TT_EXIT_OK) {
        tt_scenario_release(run);
        free(run);
        tt_scenario_free(s);
        return code;
    }
    tt_err err;
    tt_err_clear(&err);
    tt_journal_reader *jr = NULL;
    tt_backtest_result r;
    memset(&r, 0, sizeof r);
    int live = 0;
    tt_backtest *bt = NULL;
    if (tt_trading_journal_is_live(journal, run->instruments, &live, &err) != TT_OK ||
        tt_journal_reader_open(&jr, journal, run->instruments, &err) != TT_OK) {
        code = tt_report_error(&err);
        goto out;
    }
    tt_source src = tt_journal_reader_source(jr);
    run->cfg.source = &src;
    run->cfg.tape_dir = NULL;
    run->cfg.from = run->cfg.to = 0;
    char feed[4200];
    snprintf(feed, sizeof feed, "%s journal %s", live ? "live" : "paper", journal);
    o->feed = feed;
    if (tt_backtest_open(&bt, &run->cfg, &err) != TT_OK ||
        (live && tt_backtest_set_venue(bt, tt_mt5_replay_port(), &err) != TT_OK) ||
        tt_backtest_exec(bt, &r, &err) != TT_OK) {
        code = tt_report_error(&err);
        goto out;
    }
    for (int i = 0; i < tt_journal_reader_warning_count(jr); i++)
        fprintf(stderr, "ticktape: warning: %s\n", tt_journal_reader_warning(jr, i));
    code = tt_live_finish(s, run, &r, o, "replay");
out:
    tt_backtest_close(bt);
    tt_backtest_result_free(&r);
    tt_journal_reader_close(jr);
    tt_scenario_release(run);
    free(run);
    tt_scenario_free(s);
    return code;
}
