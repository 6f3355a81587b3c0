/*
 * What a tape holds, stream by stream, for the fault-injection tests: after a
 * run that failed, each stream must be a prefix of what the run writes when
 * nothing fails (only whole blocks reach the disk, none twice), and after a
 * clean run over it, the same. Events are compared in their canonical
 * encoding (tt_event_encode, blob bytes included), so every field counts.
 *
 * Call these with faults disarmed: they allocate and read.
 */
#ifndef TT_FAULT_TAPE_H
#define TT_FAULT_TAPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct tt_ft_stream {
    char name[96]; /* "SYMBOL/quote", "SYMBOL/bar-M1-bid", ... */
    uint8_t *bytes; /* the events: u32 length, then the canonical encoding, each */
    size_t len;
    uint64_t events;
} tt_ft_stream;

typedef struct tt_ft_tape {
    tt_ft_stream *s;
    size_t n;
} tt_ft_tape;

/* Read every stream of the tape at dir (no directory: an empty tape). TT_OK or
 * the tape's error. */
int tt_ft_read(const char *dir, tt_ft_tape *t, tt_err *err);
void tt_ft_free(tt_ft_tape *t);

/* 1 when every stream of part is a prefix of the same stream of whole (equal
 * when exact); else 0 with why filled. */
int tt_ft_prefix(const tt_ft_tape *part, const tt_ft_tape *whole, int exact, char *why,
                 size_t whysize);

/* tt_tape_verify, and when it finds a torn tail, the repair a writer makes on
 * reopening (every stream opened and closed again) and a second verify. TT_OK
 * when the tape is sound (a missing directory counts as sound), else the
 * verify's error with why filled. */
int tt_ft_verify(const char *dir, char *why, size_t whysize);

/* rm -rf dir (a scratch tape). */
void tt_ft_remove(const char *dir);

/* The scratch directory of run k under root: root/clean for the clean run
 * (k = 0), else root/k<k>. */
void tt_ft_dir(const char *root, uint64_t k, char *buf, size_t n);

#endif
