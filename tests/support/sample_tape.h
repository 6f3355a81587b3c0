/*
 * The tests' Dukascopy sample as a tape: the real EURUSD ticks (and, on
 * request, candles) of tests/data/dukascopy imported into a fresh directory,
 * and its removal without a shell. One copy for the backtest, external,
 * group and live tests, which each had their own.
 */
#ifndef TT_TEST_SAMPLE_TAPE_H
#define TT_TEST_SAMPLE_TAPE_H

#include <stdio.h>
#include <string.h>

#include "core/instrument.h"
#include "core/io.h"
#include "data/dukascopy.h"

/* Import EURUSD ticks in [from, to) (0, 0: the whole sample), and the M1
 * candles too when candles, into a tape at dir. Returns the ticks written,
 * or -1 after printing the import's error. */
static inline long tt_test_sample_tape(const char *dir, tt_ts from, tt_ts to, int candles)
{
    tt_instruments *ins = tt_instruments_new();
    tt_duka_import_opts o;
    memset(&o, 0, sizeof o);
    o.dir = TT_TESTDATA "/dukascopy";
    o.tape = dir;
    o.from = from;
    o.to = to;
    o.ticks = 1;
    o.candles = candles;
    o.threads = 1;
    tt_duka_import_stats st;
    tt_err err;
    int rc = tt_duka_import(&o, tt_instruments_find(ins, "EURUSD"), &st, &err);
    tt_instruments_free(ins);
    if (rc) {
        fprintf(stderr, "import: %s\n", err.msg);
        return -1;
    }
    return (long)st.ticks_written;
}

/* Remove a test's directory tree (no shell); 0 or -1. */
static inline int tt_test_remove_tree(const char *dir) { return tt_rmtree(dir) == 0 ? 0 : -1; }

#endif
