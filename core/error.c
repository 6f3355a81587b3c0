/*
 * Error records. Deliberately tiny: a code and a message buffer owned by the
 * caller, so that errors cost nothing on the success path and carry the file,
 * block or field that went wrong on the failure path.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int tt_err_set(tt_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void tt_err_prefix(tt_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char pre[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t np = strlen(pre), no = strnlen(old, sizeof old - 1);
    if (np > sizeof err->msg - 1)
        np = sizeof err->msg - 1;
    if (np + no > sizeof err->msg - 1)
        no = sizeof err->msg - 1 - np;
    memcpy(err->msg, pre, np);
    memcpy(err->msg + np, old, no);
    err->msg[np + no] = '\0';
}

void tt_err_clear(tt_err *err)
{
    if (err) {
        err->code = TT_OK;
        err->msg[0] = '\0';
    }
}

const char *tt_status_name(int code)
{
    switch (code) {
    case TT_OK: return "OK";
    case TT_EIO: return "EIO";
    case TT_EFORMAT: return "EFORMAT";
    case TT_ECHECKSUM: return "ECHECKSUM";
    case TT_EVERSION: return "EVERSION";
    case TT_EINVAL: return "EINVAL";
    case TT_ENOMEM: return "ENOMEM";
    case TT_ENOTFOUND: return "ENOTFOUND";
    case TT_EORDER: return "EORDER";
    case TT_ETORN: return "ETORN";
    case TT_EPARTIAL: return "EPARTIAL";
    case TT_ENET: return "ENET";
    case TT_EABI: return "EABI";
    case TT_ESTATE: return "ESTATE";
    case TT_EPERM: return "EPERM";
    default: return "E?";
    }
}

char *tt_str_escape(char *out, size_t cap, const void *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = s;
    size_t o = 0;
    if (!cap)
        return out;
    for (size_t i = 0; i < n; i++) {
        unsigned c = p[i];
        char e[4];
        size_t k;
        if (c == '\\') {
            e[0] = e[1] = '\\';
            k = 2;
        } else if (c >= 0x20 && c < 0x7f) {
            e[0] = (char)c;
            k = 1;
        } else {
            e[0] = '\\', e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15];
            k = 4;
        }
        if (o + k >= cap)
            break;
        memcpy(out + o, e, k);
        o += k;
    }
    out[o] = 0;
    return out;
}
