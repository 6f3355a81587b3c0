/*
 * ticktape: several tapes of the same symbols consolidated into one
 * (`ticktape merge`), by the same code as the live aggregator: the
 * consolidator of core/consolidate.h, with its policies and health rules,
 * where time is the event time.
 *
 * Each input tape is one source, in priority order (the first is the
 * primary), named by `names` or by the tape directory's last component. Their
 * quotes are read in time order; quotes of one time stamp go in source order
 * (priority first), so the result does not depend on anything but the tapes
 * and the settings. The output tape gets:
 *   - SYMBOL/quote: the merged quotes;
 *   - _merge/blob: the merge log, BLOB events of type TT_FEEDMERGE_LOG whose
 *     payload is one JSON object each, in time order: the health and
 *     failover events (tt_consol_event_json), and a `sources` record each time
 *     the sources of a symbol's merged quotes change, so that every merged
 *     quote's sources are on the tape: those of the latest `sources` record of
 *     its symbol at or before it, e.g.
 *     {"event":"sources","time":"...","symbol":"EURUSD","bid":"ic",
 *      "ask":"ic+pepper","crossed":false}
 *     (a cross between sources is flagged there too).
 */
#ifndef TT_FEEDMERGE_H
#define TT_FEEDMERGE_H

#include <stdint.h>

#include "../core/consolidate.h"
#include "../core/error.h"
#include "../core/instrument.h"

#define TT_FEEDMERGE_LOG 0x4D524C47u /* blob.type of the merge log ("MRLG") */
#define TT_FEEDMERGE_STREAM "_merge"

typedef struct tt_feedmerge_opts {
    const char *const *tapes;  /* input tapes, priority order */
    const char *const *names;  /* their names (NULL: the directories' last components) */
    int ntapes;                /* 1..TT_CONSOL_MAX_SOURCES */
    const char *out;           /* output tape: must hold none of the merged symbols' quotes */
    const char *const *symbols; /* NULL-ended; NULL: every quote stream of the inputs */
    tt_ts from, to;            /* [from, to); 0 = open */
    tt_consol_config cfg;      /* policy and health rules (nsources is set here) */
    const tt_instruments *ins; /* borrowed; required */
    /* Each log record (JSON) as it is written; may be NULL. */
    void (*report)(void *ctx, const char *json);
    void *ctx;
} tt_feedmerge_opts;

typedef struct tt_feedmerge_stats {
    uint64_t in[TT_CONSOL_MAX_SOURCES]; /* quotes read per source */
    uint64_t out;                       /* merged quotes written */
    uint64_t states, failovers, failbacks, crosses, provenance; /* log records */
    uint32_t nsymbols;
} tt_feedmerge_stats;

/* Merge (see above). Returns TT_OK; TT_EINVAL (no inputs, too many, an input
 * named twice, the output holding a merged symbol already), the tape's
 * errors naming the file, the consolidator's, TT_ENOMEM. After a merge that
 * went through, the consolidator is handed to done(done_ctx, c) (done may be
 * NULL) before it is freed, for the per-source figures. */
int tt_feedmerge_run(const tt_feedmerge_opts *o, tt_feedmerge_stats *st,
                     void (*done)(void *ctx, const tt_consolidator *c), void *done_ctx,
                     tt_err *err);

/* The name of a tape as a source: its directory's last component. */
void tt_feedmerge_name(const char *tape, char *buf, size_t cap);

#endif
