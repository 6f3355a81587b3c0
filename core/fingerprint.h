/*
 * ticktape: the run fingerprint.
 *
 * XXH3-128 over a canonical byte encoding of the ordered outputs of a run. The
 * encoding (tt_event_encode) writes each field explicitly in little-endian
 * order, so padding bytes and unused union members never leak into the hash
 * and the fingerprint is the same on every machine. The state encodes into a
 * buffer that is hashed a few kilobytes at a time (the same hash: XXH3's
 * stream does not depend on how it is cut); tt_fp_digest can be called at
 * any point and does not change what the stream hashes next.
 */
#ifndef TT_FINGERPRINT_H
#define TT_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct tt_fingerprint {
    uint64_t hi, lo;
} tt_fingerprint;

typedef struct tt_fp_state tt_fp_state; /* opaque XXH3 state */

/* A new state; NULL on out of memory. The rest cannot fail (free takes NULL). */
tt_fp_state *tt_fp_new(void);
void tt_fp_free(tt_fp_state *s);
void tt_fp_reset(tt_fp_state *s);
void tt_fp_update(tt_fp_state *s, const void *data, size_t len);
void tt_fp_update_event(tt_fp_state *s, const tt_event *ev);
/* The same for ev with these header fields in place of its own: what
 * tt_fp_update_event of a copy so stamped would hash. */
void tt_fp_update_stamped(tt_fp_state *s, const tt_event *ev, tt_ts ts, tt_ts ts_init,
                          uint64_t seq, uint8_t cls);
tt_fingerprint tt_fp_digest(const tt_fp_state *s);

/* 32 lowercase hex digits plus NUL. Cannot fail. */
void tt_fingerprint_hex(tt_fingerprint fp, char out[33]);

/* Canonical encoding of an event (header fields + the payload of its kind).
 * Returns the number of bytes written (at most TT_EVENT_ENCODED_MAX, plus the
 * blob bytes when kind is BLOB/EXTERNAL and include_blob is set: then buf must
 * have room for TT_EVENT_ENCODED_MAX + len). Cannot fail: an unknown kind
 * encodes its header alone. */
#define TT_EVENT_ENCODED_MAX 128
size_t tt_event_encode(const tt_event *ev, uint8_t *buf, int include_blob);

/* Inverse of tt_event_encode with include_blob set: reads one event from
 * buf[0..len). Blob bytes are not copied: ev->u.blob.data points into buf.
 * Returns the bytes consumed, or 0 when the bytes are not a valid event. */
size_t tt_event_decode(const uint8_t *buf, size_t len, tt_event *ev);

#endif
