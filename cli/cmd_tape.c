#include "cli.h"
#include "commands.h"
int tt_cmd_tape(int argc, char **argv)
{
    (void)argc; (void)argv;
    return TT_EXIT_FAIL; /* being written */
}
