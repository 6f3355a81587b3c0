/*
 * NATS connection options shared by every command (see nats_conn.h).
 *
 * nats.c does the authentication and TLS itself; this file reads the
 * secrets from their files, checks the combinations, derives an NKey's
 * public key from its seed (nats.c wants both), and redacts URLs for
 * printing. Secrets live in stack buffers that are wiped before returning.
 */
#include "nats_conn.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/io.h"

/* Read a secret file into buf (trailing whitespace cut). */
static int read_secret(const char *what, const char *path, char *buf, size_t cap, tt_err *err)
{
    char *text = NULL;
    size_t n = 0;
    int rc = tt_read_file_capped(path, cap - 1, &text, &n, err);
    if (rc) {
        tt_err_prefix(err, "%s: ", what);
        return rc;
    }
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
                 text[n - 1] == '\t'))
        n--;
    memcpy(buf, text, n);
    buf[n] = 0;
    OPENSSL_cleanse(text, n);
    free(text);
    if (!n)
        return tt_err_set(err, TT_EINVAL, "%s %s: empty", what, path);
    return TT_OK;
}

/* ---- NKeys: base32 (RFC 4648, no padding) with a CRC-16/XMODEM tail ---- */

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

static size_t b32_decode(const char *s, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; *s; s++) {
        const char *c = strchr(B32, *s);
        if (!c || !*s)
            return 0;
        acc = (acc << 5) | (uint32_t)(c - B32);
        bits += 5;
        if (bits >= 8) {
            if (n == cap)
                return 0;
            out[n++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return n;
}

static void b32_encode(const uint8_t *p, size_t n, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = B32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits)
        out[o++] = B32[(acc << (5 - bits)) & 31];
    out[o] = 0;
}

int tt_nkey_public(const char *seed, char out[57], tt_err *err)
{
    enum { PREFIX_SEED = 18 << 3, PREFIX_USER = 20 << 3 };
    uint8_t raw[40], pub[35];
    size_t n = b32_decode(seed, raw, sizeof raw);
    int ok = n == 36 && (raw[0] & 248) == PREFIX_SEED &&
             (((raw[0] & 7) << 5) | ((raw[1] & 248) >> 3)) == PREFIX_USER &&
             crc16(raw, 34) == (uint16_t)(raw[34] | raw[35] << 8);
    EVP_PKEY *k = ok ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 2, 32) : NULL;
    size_t pl = 32;
    ok = k && EVP_PKEY_get_raw_public_key(k, pub + 1, &pl) == 1 && pl == 32;
    EVP_PKEY_free(k);
    OPENSSL_cleanse(raw, sizeof raw);
    if (!ok)
        return tt_err_set(err, TT_EINVAL, "not an NKey user seed (SU...)");
    pub[0] = PREFIX_USER;
    uint16_t c = crc16(pub, 33);
    pub[33] = (uint8_t)(c & 0xff);
    pub[34] = (uint8_t)(c >> 8);
    b32_encode(pub, 35, out);
    return TT_OK;
}

/* ---- options ---- */

static int nats_refused(tt_err *err, natsStatus s, const char *what, const char *file)
{
    const char *last = nats_GetLastError(NULL);
    return tt_err_set(err, TT_ENET, "nats: %s%s%s: %s%s%s", what, file ? " " : "",
                      file ? file : "", natsStatus_GetText(s), last && *last ? ": " : "",
                      last && *last ? last : "");
}

static int set_auth(natsOptions *no, const tt_nats_opts *a, tt_err *err)
{
    int methods = (a->user != NULL) + (a->token_file != NULL) + (a->nkey_file != NULL) +
                  (a->creds_file != NULL);
    if (methods > 1)
        return tt_err_set(err, TT_EINVAL, "nats: give one of user/password, token, NKey or "
                                          "creds, not %d", methods);
    if ((a->password || a->password_file) && !a->user)
        return tt_err_set(err, TT_EINVAL, "nats: a password needs a user");
    char secret[4096];
    natsStatus s = NATS_OK;
    int rc = TT_OK;
    if (a->user) {
        if (a->password)
            snprintf(secret, sizeof secret, "%s", a->password);
        else if (!a->password_file)
            return tt_err_set(err, TT_EINVAL, "nats: user %s has no password (a password file, "
                                              "or TICKTAPE_NATS_PASSWORD)", a->user);
        else
            rc = read_secret("password file", a->password_file, secret, sizeof secret, err);
        if (!rc && (s = natsOptions_SetUserInfo(no, a->user, secret)) != NATS_OK)
            rc = nats_refused(err, s, "user", NULL);
    } else if (a->token_file) {
        rc = read_secret("token file", a->token_file, secret, sizeof secret, err);
        if (!rc && (s = natsOptions_SetToken(no, secret)) != NATS_OK)
            rc = nats_refused(err, s, "token", NULL);
    } else if (a->nkey_file) {
        char pub[57];
        rc = read_secret("NKey seed file", a->nkey_file, secret, sizeof secret, err);
        if (!rc && (rc = tt_nkey_public(secret, pub, err)))
            tt_err_prefix(err, "NKey seed file %s: ", a->nkey_file);
        if (!rc && (s = natsOptions_SetNKeyFromSeed(no, pub, a->nkey_file)) != NATS_OK)
            rc = nats_refused(err, s, "NKey seed file", a->nkey_file);
    } else if (a->creds_file) {
        /* read once ourselves: the same checks (regular file, size) as any secret */
        rc = read_secret("creds file", a->creds_file, secret, sizeof secret, err);
        if (!rc && (s = natsOptions_SetUserCredentialsFromFiles(no, a->creds_file, NULL)) !=
                       NATS_OK)
            rc = nats_refused(err, s, "creds file", a->creds_file);
    }
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
}

static int set_tls(natsOptions *no, const char *url, const tt_nats_opts *a, tt_err *err)
{
    if (!!a->tls_cert != !!a->tls_key)
        return tt_err_set(err, TT_EINVAL, "nats: a TLS client certificate needs its key, and "
                                          "the key its certificate");
    int tls = a->tls_ca || a->tls_cert || !strncmp(url, "tls://", 6);
    if (!tls)
        return TT_OK;
    natsStatus s = natsOptions_SetSecure(no, true);
    if (s != NATS_OK)
        return nats_refused(err, s, "TLS", NULL);
    if (a->tls_ca && (s = natsOptions_LoadCATrustedCertificates(no, a->tls_ca)) != NATS_OK)
        return nats_refused(err, s, "TLS CA file", a->tls_ca);
    if (a->tls_cert &&
        (s = natsOptions_LoadCertificatesChain(no, a->tls_cert, a->tls_key)) != NATS_OK)
        return nats_refused(err, s, "TLS certificate", a->tls_cert);
    return TT_OK;
}

int tt_nats_options_new(natsOptions **out, const char *url, const tt_nats_opts *auth,
                        tt_err *err)
{
    *out = NULL;
    natsOptions *no = NULL;
    natsStatus s = natsOptions_Create(&no);
    if (s == NATS_OK)
        s = natsOptions_SetURL(no, url);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(no, 5000);
    if (s != NATS_OK) {
        char shown[TT_URL_SHOWN_MAX];
        natsOptions_Destroy(no);
        return tt_err_set(err, TT_ENET, "nats %s: options: %s",
                          tt_url_redact(url, shown, sizeof shown), natsStatus_GetText(s));
    }
    int rc = auth ? set_auth(no, auth, err) : TT_OK;
    if (!rc && auth)
        rc = set_tls(no, url, auth, err);
    if (rc) {
        natsOptions_Destroy(no);
        return rc;
    }
    *out = no;
    return TT_OK;
}

int tt_nats_connect(natsConnection **nc, const char *url, const tt_nats_opts *auth,
                    const char *name, tt_err *err)
{
    *nc = NULL;
    natsOptions *no;
    int rc = tt_nats_options_new(&no, url, auth, err);
    if (rc)
        return rc;
    natsStatus s = name ? natsOptions_SetName(no, name) : NATS_OK;
    if (s == NATS_OK)
        s = natsConnection_Connect(nc, no);
    natsOptions_Destroy(no);
    if (s != NATS_OK) {
        char shown[TT_URL_SHOWN_MAX];
        const char *last = nats_GetLastError(NULL);
        return tt_err_set(err, TT_ENET, "nats %s: connect: %s%s%s",
                          tt_url_redact(url, shown, sizeof shown), natsStatus_GetText(s),
                          last && *last ? ": " : "", last && *last ? last : "");
    }
    return TT_OK;
}

const char *tt_url_redact(const char *url, char *out, size_t cap)
{
    size_t o = 0;
    if (!cap)
        return out;
    const char *p = url ? url : "";
    while (*p && o + 1 < cap) {
        /* one URL of the list: up to the next comma */
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *scheme = strstr(p, "://");
        const char *host = scheme && scheme < end ? scheme + 3 : p;
        const char *at = NULL;
        for (const char *c = host; c < end && *c != '/'; c++)
            if (*c == '@')
                at = c; /* the last '@' ends the user info */
        const char *colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
        char piece[1024];
        int k;
        if (at && colon)
            k = snprintf(piece, sizeof piece, "%.*s%.*s:***%.*s", (int)(host - p), p,
                         (int)(colon - host), host, (int)(end - at), at);
        else if (at)
            k = snprintf(piece, sizeof piece, "%.*s***%.*s", (int)(host - p), p,
                         (int)(end - at), at);
        else
            k = snprintf(piece, sizeof piece, "%.*s", (int)(end - p), p);
        for (int i = 0; i < k && i < (int)sizeof piece - 1 && o + 1 < cap; i++)
            out[o++] = piece[i];
        p = end;
        if (*p == ',' && o + 1 < cap)
            out[o++] = *p++;
    }
    out[o] = 0;
    return out;
}
