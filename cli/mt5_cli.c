/*
 * What the MT5 commands share (mt5-sim, mt5-connector, live --mt5): the
 * HOST:PORT value, the account mode, and the shared secret.
 *
 * The secret is never an option value (a command line is visible to every
 * user of the machine): it comes from a file (--secret-file, like an ssh
 * key: refused when group or others may read it) or from the environment
 * variable TT_MT5_SECRET. Trailing whitespace is dropped; at least 8 bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "core/portfolio.h"

int tt_opt_hostport(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    tt_hostport *hp = tt_opt_field(opts, o);
    const char *colon = strrchr(value, ':');
    char *e;
    long port = colon ? strtol(colon + 1, &e, 10) : -1;
    if (!colon || colon == value || (size_t)(colon - value) >= sizeof hp->host || *e ||
        port < 0 || port > 65535 || !colon[1])
        return tt_err_set(err, TT_EINVAL, "--%s: expected HOST:PORT, got '%s'", o->name, value);
    memcpy(hp->host, value, (size_t)(colon - value));
    hp->host[colon - value] = 0;
    hp->port = (int)port;
    return TT_OK;
}

const char *const tt_account_modes[] = {"netting", "hedging", NULL};
const int tt_account_mode_values[] = {TT_MODE_NETTING, TT_MODE_HEDGING};

int tt_mt5_secret(const char *file, char *out, size_t cap, tt_err *err)
{
    if (!file) {
        const char *env = getenv("TT_MT5_SECRET");
        if (!env || !env[0])
            return tt_err_set(err, TT_EINVAL, "a shared secret is needed: --secret-file FILE, "
                              "or the environment variable TT_MT5_SECRET");
        snprintf(out, cap, "%s", env);
    } else {
        struct stat st;
        if (stat(file, &st))
            return tt_err_set(err, TT_EIO, "%s: cannot read the secret: %s", file,
                              strerror(errno));
        if (!S_ISREG(st.st_mode) || (st.st_mode & 077))
            return tt_err_set(err, TT_EINVAL, "%s: group or others may read it (chmod 600 %s)",
                              file, file);
        FILE *f = fopen(file, "r");
        size_t n = f ? fread(out, 1, cap - 1, f) : 0;
        if (f)
            fclose(f);
        if (!f)
            return tt_err_set(err, TT_EIO, "%s: cannot read the secret", file);
        out[n] = 0;
    }
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ' ||
                 out[n - 1] == '\t'))
        out[--n] = 0;
    if (n < 8)
        return tt_err_set(err, TT_EINVAL, "the shared secret is %zu bytes: at least 8", n);
    return TT_OK;
}

#define F(field) offsetof(tt_mt5_listen_cli, field)

const tt_opt tt_mt5_listen_opts[] = {
    {TT_OPT_STRING, "secret-file", .off = F(secret_file), .arg = "FILE",
     .def_text = "$TT_MT5_SECRET", .help = "the secret shared with the EA (mode 600)"},
    {TT_OPT_STRING, "tls-cert", .off = F(tls_cert), .arg = "FILE",
     .help = "TLS on the terminal's connection: this certificate chain (PEM; with --tls-key)"},
    {TT_OPT_STRING, "tls-key", .off = F(tls_key), .arg = "FILE",
     .help = "the certificate's private key (PEM)"},
    {TT_OPT_END},
};

int tt_mt5_listen_check(const tt_mt5_listen_cli *o, char *secret, size_t cap, tt_err *err)
{
    int rc = tt_mt5_secret(o->secret_file, secret, cap, err);
    if (rc)
        return rc;
    if (!o->tls_cert != !o->tls_key)
        return tt_err_set(err, TT_EINVAL, "%s", o->tls_cert ? "--tls-cert needs --tls-key FILE"
                                                            : "--tls-key needs --tls-cert FILE");
    if (!o->tls_key)
        return TT_OK;
    struct stat st;
    if (stat(o->tls_key, &st))
        return tt_err_set(err, TT_EIO, "%s: cannot read the key: %s", o->tls_key,
                          strerror(errno));
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077))
        return tt_err_set(err, TT_EINVAL, "%s: group or others may read it (chmod 600 %s)",
                          o->tls_key, o->tls_key);
    return TT_OK;
}
