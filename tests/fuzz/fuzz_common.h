/*
 * Shared by the fuzz targets: a dry-run import pipeline (parse and check,
 * write nothing) over the built-in instruments, so every text importer can be
 * driven with arbitrary bytes. Built only with -DTT_FUZZ=ON (clang, libFuzzer).
 */
#ifndef TT_FUZZ_COMMON_H
#define TT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/instrument.h"
#include "data/text_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_env {
    tt_instruments *ins;
    tt_import *im;
} fuzz_env;

/* Aborts on setup failure: that is a harness bug, not a finding in the input. */
static inline void fuzz_env_open(fuzz_env *e)
{
    e->ins = tt_instruments_new();
    tt_import_opts o = {0};
    o.instruments = e->ins;
    if (!e->ins || tt_import_new(&e->im, &o, NULL))
        abort();
}

static inline void fuzz_env_close(fuzz_env *e)
{
    tt_import_close(e->im, NULL);
    tt_import_free(e->im);
    tt_instruments_free(e->ins);
}

#endif
