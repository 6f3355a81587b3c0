/* The subcommands of `ticktape`. One line each; see cli/main.c for the table. */
#ifndef TT_COMMANDS_H
#define TT_COMMANDS_H

int tt_cmd_tape(int argc, char **argv);
int tt_cmd_bench(int argc, char **argv);
int tt_cmd_demo(int argc, char **argv);
/* `synth` and `synth options` (cli/cmd_synth.c). */
int tt_cmd_synth(int argc, char **argv);
/* OHLCV bars of one symbol from the tape's quotes (cli/cmd_bars.c). */
int tt_cmd_bars(int argc, char **argv);

/* `import SOURCE ...` dispatcher and `import dukascopy` (cli/cmd_import.c). */
int tt_cmd_import(int argc, char **argv);
/* `download dukascopy ...` (cli/cmd_download.c). */
int tt_cmd_download(int argc, char **argv);

/* Text and HDF5 importers (cli/cmd_import_text.c); argv[0] is the format name. */
int tt_cmd_import_polygon(int argc, char **argv);
int tt_cmd_import_csv(int argc, char **argv);
int tt_cmd_import_mt5(int argc, char **argv);
int tt_cmd_import_hdf5(int argc, char **argv);
/* `tape gaps` (cli/cmd_tape_gaps.c); argv[0] is "gaps". */
int tt_cmd_tape_gaps(int argc, char **argv);

#endif
