/*
 * ticktape: the command. Parses the first word and hands the rest to the
 * command (cli/opts.h: tt_cmd_run picks a subcommand when there is one).
 * Nothing below cli/ exits the process; here is where exit codes are
 * decided.
 *
 * `ticktape help [COMMAND [SUBCOMMAND]]` prints the help of any command;
 * `ticktape help --markdown` prints docs/cli.md, generated from the same
 * option tables after checking them (tt_cmd_check), so a table that would
 * parse or document wrongly fails the docs test instead of shipping.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const tt_cmd *const COMMANDS[] = {
    &tt_command_tape,    &tt_command_bench,       &tt_command_backtest, &tt_command_demo,
    &tt_command_synth,   &tt_command_bars,        &tt_command_import,   &tt_command_download,
    &tt_command_sweep,   &tt_command_walkforward, &tt_command_worker,   &tt_command_publish,
    &tt_command_paper,   &tt_command_replay,      &tt_command_features, &tt_command_train,
    &tt_command_live,    &tt_command_mt5_sim,     &tt_command_mt5_connector,
    &tt_command_merge,   &tt_command_aggregate,
    NULL,
};

static void usage(FILE *f)
{
    fprintf(f,
            "ticktape %s: a deterministic, event-sourced trading engine\n\n"
            "usage: ticktape <command> [options]   (ticktape <command> --help for details)\n\n"
            "commands:\n",
            TT_VERSION);
    tt_cmds_list(f, COMMANDS);
    fprintf(f, "\noptions:\n  --help       this text\n  --version    print the version\n"
               "\nEvery command and option: docs/cli.md (ticktape help --markdown).\n");
}

static const tt_cmd *find(const tt_cmd *const *list, const char *word)
{
    for (; list && *list; list++)
        if (!strcmp(tt_cmd_word(*list), word))
            return *list;
    return NULL;
}

/* ticktape help [--markdown | COMMAND [SUBCOMMAND]] */
static int help(int argc, char **argv)
{
    if (argc < 2 || tt_is_help(argv[1])) {
        usage(stdout);
        return TT_EXIT_OK;
    }
    if (!strcmp(argv[1], "--markdown")) {
        tt_err err;
        for (const tt_cmd *const *c = COMMANDS; *c; c++)
            if (tt_cmd_check(*c, &err)) {
                fprintf(stderr, "ticktape: error: option table: %s\n", err.msg);
                return TT_EXIT_FAIL;
            }
        tt_cmds_markdown(stdout, COMMANDS);
        return fflush(stdout) ? TT_EXIT_FAIL : TT_EXIT_OK;
    }
    const tt_cmd *cmd = find(COMMANDS, argv[1]);
    for (int i = 2; cmd && i < argc; i++)
        cmd = find(cmd->subs, argv[i]);
    if (!cmd)
        return tt_usage_error("help", "no command '%s'", argv[argc > 2 ? 2 : 1]);
    tt_cmd_help(stdout, cmd);
    return TT_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TT_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "help"))
        return help(argc - 1, argv + 1);
    if (tt_is_help(argv[1])) {
        usage(stdout);
        return TT_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("ticktape %s\n", TT_VERSION);
        return TT_EXIT_OK;
    }
    const tt_cmd *cmd = find(COMMANDS, argv[1]);
    if (cmd)
        return tt_cmd_run(cmd, argc - 1, argv + 1);
    fprintf(stderr, "ticktape: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return TT_EXIT_USAGE;
}
