/*
 * ticktape tape gaps: list missing intervals of a stream outside the weekend close.
 * (Stub: lands shortly.)
 */
#include <stdio.h>

#include "cli.h"
#include "commands.h"

int tt_cmd_tape_gaps(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ticktape: error: tape gaps is not implemented yet\n");
    return TT_EXIT_FAIL;
}
