/* The subcommands of `ticktape`. One line each; see cli/main.c for the table. */
#ifndef TT_COMMANDS_H
#define TT_COMMANDS_H

int tt_cmd_tape(int argc, char **argv);
int tt_cmd_bench(int argc, char **argv);
int tt_cmd_demo(int argc, char **argv);

#endif
