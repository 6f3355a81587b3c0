/*
 * The tape's directory layout: where streams and segments live, and their names.
 *
 *     TAPE/<symbol>/<stream name>/<YYYY-MM>.tts
 *
 * A stream name is "quote", "trade", "blob" or "bar-<tf>-<side>"; a segment
 * holds one UTC calendar month. Everything that lists a tape lists it here, in
 * sorted order (symbol, then stream name, then month), so that source ids and
 * every walk are the same whatever order the file system returns. Nothing here
 * opens a segment (data/tape/segment.c does); a tape-level manifest would sit
 * beside these functions.
 */
#include "../tape_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------ */
/* stream descriptions                                                        */

void tt_stream_desc_name(const tt_stream_desc *d, char *buf, size_t bufsize)
{
    static const char *sides[] = {"bid", "ask", "mid"};
    switch (d->kind) {
    case TT_STREAM_QUOTE: snprintf(buf, bufsize, "quote"); break;
    case TT_STREAM_TRADE: snprintf(buf, bufsize, "trade"); break;
    case TT_STREAM_BLOB: snprintf(buf, bufsize, "blob"); break;
    case TT_STREAM_BAR:
        snprintf(buf, bufsize, "bar-%s-%s", tt_timeframe_name(d->tf), d->side < 3 ? sides[d->side] : "?");
        break;
    default: snprintf(buf, bufsize, "unknown"); break;
    }
}

int tt_stream_desc_parse(const char *symbol, const char *name, tt_stream_desc *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(symbol) >= sizeof out->symbol || !symbol[0])
        return TT_EINVAL;
    memcpy(out->symbol, symbol, strlen(symbol) + 1);
    if (!strcmp(name, "quote")) out->kind = TT_STREAM_QUOTE;
    else if (!strcmp(name, "trade")) out->kind = TT_STREAM_TRADE;
    else if (!strcmp(name, "blob")) out->kind = TT_STREAM_BLOB;
    else if (!strncmp(name, "bar-", 4)) {
        char tf[8];
        const char *dash = strchr(name + 4, '-');
        if (!dash || (size_t)(dash - (name + 4)) >= sizeof tf)
            return TT_EINVAL;
        memcpy(tf, name + 4, (size_t)(dash - (name + 4)));
        tf[dash - (name + 4)] = '\0';
        out->kind = TT_STREAM_BAR;
        out->tf = (uint8_t)tt_timeframe_parse(tf);
        if (!out->tf)
            return TT_EINVAL;
        if (!strcmp(dash + 1, "bid")) out->side = TT_SIDE_BID;
        else if (!strcmp(dash + 1, "ask")) out->side = TT_SIDE_ASK;
        else if (!strcmp(dash + 1, "mid")) out->side = TT_SIDE_MID;
        else return TT_EINVAL;
    } else
        return TT_EINVAL;
    return TT_OK;
}

/* ------------------------------------------------------------------------ */
/* folders                                                                    */

int tt_tape_mkdirs(const char *path, tt_err *err)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof tmp)
        return tt_err_set(err, TT_EINVAL, "%s: path too long", path);
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0777) && errno != EEXIST)
                return tt_err_set(err, TT_EIO, "%s: cannot create directory: %s", tmp, strerror(errno));
            tmp[i] = c;
        }
    }
    return TT_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tt_tape_list_dir(const char *dir, const char *suffix, char ***out)
{
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d)
        return -1;
    char **v = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(e->d_name);
        if (suffix) {
            size_t sl = strlen(suffix);
            if (len <= sl || strcmp(e->d_name + len - sl, suffix))
                continue;
        } else {
            char p[4096];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (stat(p, &st) || !S_ISDIR(st.st_mode))
                continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv)
                goto nomem;
            v = nv;
        }
        v[n] = strdup(e->d_name);
        if (!v[n])
            goto nomem;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, name_cmp);
    *out = v;
    return n;
nomem: /* a list with entries left out would be taken for the whole directory */
    tt_tape_list_free(v, n);
    closedir(d);
    errno = ENOMEM;
    return -1;
}

void tt_tape_list_free(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void tt_tape_streams_free(tt_tape_stream *v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i].dir);
    free(v);
}

int tt_tape_streams_list(const char *dir, tt_tape_stream **out)
{
    *out = NULL;
    char **syms;
    int nsym = tt_tape_list_dir(dir, NULL, &syms);
    if (nsym < 0)
        return errno == ENOMEM ? TT_ENOMEM : TT_EIO;
    tt_tape_stream *v = NULL;
    int n = 0, cap = 0, rc = TT_OK;
    for (int i = 0; i < nsym && !rc; i++) {
        char sdir[4096];
        snprintf(sdir, sizeof sdir, "%s/%s", dir, syms[i]);
        char **names;
        int nn = tt_tape_list_dir(sdir, NULL, &names);
        if (nn < 0) /* a symbol folder we cannot list: its streams would go missing */
            rc = errno == ENOMEM ? TT_ENOMEM : TT_EIO;
        for (int j = 0; j < nn && !rc; j++) {
            tt_stream_desc d;
            if (tt_stream_desc_parse(syms[i], names[j], &d))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                tt_tape_stream *nv = realloc(v, (size_t)cap * sizeof *v);
                if (!nv) {
                    rc = TT_ENOMEM;
                    break;
                }
                v = nv;
            }
            size_t len = strlen(sdir) + strlen(names[j]) + 2;
            v[n].desc = d;
            v[n].dir = malloc(len);
            if (!v[n].dir) {
                rc = TT_ENOMEM;
                break;
            }
            snprintf(v[n].dir, len, "%s/%s", sdir, names[j]);
            n++;
        }
        tt_tape_list_free(names, nn);
    }
    tt_tape_list_free(syms, nsym);
    if (rc) {
        tt_tape_streams_free(v, n);
        return rc;
    }
    *out = v;
    return n;
}

/* ------------------------------------------------------------------------ */
/* months                                                                     */

void tt_tape_month_key(tt_ts ts, char out[8])
{
    int y, m, d;
    tt_ts_to_civil(ts, &y, &m, &d, NULL, NULL, NULL, NULL);
    snprintf(out, 8, "%04d-%02d", y % 10000, m);
}


void tt_tape_month_range(const char *month, tt_ts *lo, tt_ts *hi)
{
    int y = atoi(month), m = atoi(month + 5);
    *lo = tt_ts_from_civil(y, m, 1, 0, 0, 0, 0);
    *hi = m == 12 ? tt_ts_from_civil(y + 1, 1, 1, 0, 0, 0, 0)
                  : tt_ts_from_civil(y, m + 1, 1, 0, 0, 0, 0);
}
