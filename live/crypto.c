/*
 * SHA-256 and HMAC-SHA256 through OpenSSL's libcrypto (one-shot EVP calls;
 * nothing is kept between calls, so several threads may sign at once).
 */
#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/io.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

void tt_sha256_hex(const void *data, size_t len, char out[TT_SHA256_HEX])
{
    uint8_t md[32];
    unsigned n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    hex(md, 32, out);
}

int tt_hmac_key_load(tt_hmac_key *k, const char *path, tt_err *err)
{
    memset(k, 0, sizeof *k);
    struct stat st;
    if (stat(path, &st))
        return tt_err_set(err, TT_EIO, "key file %s: cannot open", path);
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return tt_err_set(err, TT_EPERM,
                          "key file %s: group or others may read it (chmod 600 %s)", path, path);
    char *buf = NULL;
    size_t n = 0;
    int rc = tt_read_file_capped(path, 4096, &buf, &n, err);
    if (rc)
        return rc;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
                 buf[n - 1] == '\t'))
        n--;
    if (n < 16 || n > sizeof k->key) {
        OPENSSL_cleanse(buf, n);
        free(buf);
        return tt_err_set(err, TT_EINVAL, "key file %s: a key is 16 to %zu bytes, not %zu", path,
                          sizeof k->key, n);
    }
    memcpy(k->key, buf, n);
    k->len = n;
    OPENSSL_cleanse(buf, n);
    free(buf);
    return TT_OK;
}

/* HMAC over subject || NUL || payload (copied into one buffer). -1 when out
 * of memory. */
static int mac(const tt_hmac_key *k, const char *subject, const void *data, size_t len,
               uint8_t md[32])
{
    unsigned n = 0;
    size_t sl = strlen(subject) + 1;
    uint8_t *msg = malloc(sl + len + 1);
    if (!msg)
        return -1;
    memcpy(msg, subject, sl);
    if (len)
        memcpy(msg + sl, data, len);
    int ok = HMAC(EVP_sha256(), k->key, (int)k->len, msg, sl + len, md, &n) != NULL;
    free(msg);
    return ok ? 0 : -1;
}

void tt_hmac_sign(const tt_hmac_key *k, const char *subject, const void *data, size_t len,
                  char out[TT_HMAC_SIG_MAX])
{
    uint8_t md[32];
    memcpy(out, "v1 ", 3);
    if (mac(k, subject, data, len, md)) { /* never equal to a hex signature */
        memset(out + 3, 'x', 64);
        out[67] = 0;
        return;
    }
    hex(md, 32, out + 3);
}

int tt_hmac_verify(const tt_hmac_key *k, const char *subject, const void *data, size_t len,
                   const char *sig)
{
    if (!sig || strlen(sig) != TT_HMAC_SIG_MAX - 1)
        return 0;
    char want[TT_HMAC_SIG_MAX];
    tt_hmac_sign(k, subject, data, len, want);
    return want[3] != 'x' && CRYPTO_memcmp(want, sig, TT_HMAC_SIG_MAX - 1) == 0;
}
