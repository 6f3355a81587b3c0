/*
 * ticktape import polygon|csv|mt5|hdf5: the text and HDF5 importers.
 * (Stubs: the importers land shortly.)
 */
#include <stdio.h>

#include "cli.h"
#include "commands.h"

static int not_yet(const char *what)
{
    fprintf(stderr, "ticktape: error: import %s is not implemented yet\n", what);
    return TT_EXIT_FAIL;
}

int tt_cmd_import_polygon(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return not_yet("polygon");
}

int tt_cmd_import_csv(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return not_yet("csv");
}

int tt_cmd_import_mt5(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return not_yet("mt5");
}

int tt_cmd_import_hdf5(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return not_yet("hdf5");
}
