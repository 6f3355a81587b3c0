/*
 * ticktape: the few cryptographic primitives the bus needs (OpenSSL's
 * libcrypto): SHA-256 of a scenario file's bytes (a worker finds a job's
 * scenario by this content hash, never by a path from the message), and
 * HMAC-SHA256 signatures of job and completion messages with a shared key
 * (sweep --job-key, worker --job-key).
 *
 * A key file is the secret's bytes (trailing whitespace ignored, at least 16
 * bytes). Like ssh, a key file that group or others may read is refused: a
 * key everybody can read authenticates nobody.
 */
#ifndef TT_CRYPTO_H
#define TT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"

#define TT_SHA256_HEX 65 /* 64 hex digits and a NUL */

/* Lower-case hex SHA-256 of len bytes. */
void tt_sha256_hex(const void *data, size_t len, char out[TT_SHA256_HEX]);

typedef struct tt_hmac_key {
    uint8_t key[256];
    size_t len; /* 0: no key (nothing is signed, nothing is checked) */
} tt_hmac_key;

/* Load a key file (see above). TT_EIO (cannot read), TT_EPERM (readable by
 * group or others, or not a regular file), TT_EINVAL (fewer than 16 bytes or
 * more than 256); the message names the file, never its content. */
int tt_hmac_key_load(tt_hmac_key *k, const char *path, tt_err *err);

/* The signature of a message: "v1 " and the hex HMAC-SHA256 over the subject,
 * a NUL and the payload (so a signed job cannot be replayed on another run
 * id's subject). out holds at least TT_HMAC_SIG_MAX bytes. */
#define TT_HMAC_SIG_MAX 68
void tt_hmac_sign(const tt_hmac_key *k, const char *subject, const void *data, size_t len,
                  char out[TT_HMAC_SIG_MAX]);
/* 1 when sig (may be NULL) is the signature of the message, in constant time. */
int tt_hmac_verify(const tt_hmac_key *k, const char *subject, const void *data, size_t len,
                   const char *sig);

/* The header that carries a signature on NATS messages. */
#define TT_HMAC_HEADER "Tt-Sig"

#endif
