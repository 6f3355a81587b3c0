/*
 * The tape readers of tests/support/fault_tape.h. Streams are listed by
 * tt_tape_info_read and read one at a time (a reader over one stream keeps
 * its order; the merged order of several would hide a prefix).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fault_tape.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fingerprint.h"
#include "data/tape.h"

static int read_stream(const char *dir, const tt_stream_desc *d, tt_ft_stream *s, tt_err *err)
{
    char kind[48];
    tt_stream_desc_name(d, kind, sizeof kind);
    snprintf(s->name, sizeof s->name, "%s/%s", d->symbol, kind);
    const char *syms[2] = {d->symbol, NULL};
    tt_tape_query q = {0};
    q.symbols = syms;
    q.kinds = 1u << d->kind;
    q.tf = d->tf;
    q.side = d->side;
    tt_tape_reader *r;
    int rc = tt_tape_reader_open(&r, dir, &q, NULL, err);
    if (rc)
        return rc;
    size_t cap = 0;
    tt_event ev;
    while ((rc = tt_tape_reader_next(r, &ev, err)) == 1) {
        size_t need = 4 + TT_EVENT_ENCODED_MAX + ((ev.kind == TT_EV_BLOB || ev.kind == TT_EV_EXTERNAL)
                                                      ? ev.u.blob.len
                                                      : 0);
        if (s->len + need > cap) {
            cap = (s->len + need) * 2;
            uint8_t *b = realloc(s->bytes, cap);
            if (!b) {
                rc = tt_err_set(err, TT_ENOMEM, "out of memory reading %s", s->name);
                break;
            }
            s->bytes = b;
        }
        uint32_t n = (uint32_t)tt_event_encode(&ev, s->bytes + s->len + 4, 1);
        memcpy(s->bytes + s->len, &n, 4);
        s->len += 4 + n;
        s->events++;
    }
    tt_tape_reader_close(r);
    return rc < 0 ? rc : TT_OK;
}

int tt_ft_read(const char *dir, tt_ft_tape *t, tt_err *err)
{
    memset(t, 0, sizeof *t);
    struct stat st;
    if (stat(dir, &st) != 0)
        return TT_OK;
    tt_tape_info info;
    int rc = tt_tape_info_read(dir, &info, err);
    if (rc)
        return rc;
    t->s = calloc(info.nstreams ? info.nstreams : 1, sizeof *t->s);
    if (!t->s) {
        tt_tape_info_free(&info);
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < info.nstreams && !rc; i++, t->n++)
        rc = read_stream(dir, &info.streams[i].desc, &t->s[i], err);
    tt_tape_info_free(&info);
    if (rc)
        tt_ft_free(t);
    return rc;
}

void tt_ft_free(tt_ft_tape *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i].bytes);
    free(t->s);
    memset(t, 0, sizeof *t);
}

int tt_ft_prefix(const tt_ft_tape *part, const tt_ft_tape *whole, int exact, char *why,
                 size_t whysize)
{
    if (exact && part->n != whole->n) {
        snprintf(why, whysize, "%zu streams, not %zu", part->n, whole->n);
        return 0;
    }
    for (size_t i = 0; i < part->n; i++) {
        const tt_ft_stream *p = &part->s[i], *w = NULL;
        for (size_t j = 0; j < whole->n && !w; j++)
            if (!strcmp(whole->s[j].name, p->name))
                w = &whole->s[j];
        if (!w) {
            snprintf(why, whysize, "stream %s should not be there", p->name);
            return 0;
        }
        if (p->len > w->len || (exact && p->len != w->len) ||
            (p->len && memcmp(p->bytes, w->bytes, p->len))) {
            snprintf(why, whysize, "stream %s: %llu events are not %s the %llu expected",
                     p->name, (unsigned long long)p->events, exact ? "all of" : "a prefix of",
                     (unsigned long long)w->events);
            return 0;
        }
    }
    return 1;
}

static void collect(void *ctx, const char *line)
{
    char *why = ctx;
    if (!why[0])
        snprintf(why, 512, "%s", line);
}

int tt_ft_verify(const char *dir, char *why, size_t whysize)
{
    char first[512] = "";
    struct stat st;
    if (stat(dir, &st) != 0)
        return TT_OK;
    tt_err err;
    int rc = tt_tape_verify(dir, collect, first, NULL, &err);
    if (rc == TT_ETORN) {
        /* a writer reopening each stream cuts its torn tail away */
        tt_tape_info info;
        if (tt_tape_info_read(dir, &info, &err) == TT_OK) {
            for (uint32_t i = 0; i < info.nstreams; i++) {
                tt_tape_writer *w;
                if (tt_tape_writer_open(&w, dir, &info.streams[i].desc, NULL, &err) == TT_OK)
                    tt_tape_writer_close(w, &err);
            }
            tt_tape_info_free(&info);
        }
        first[0] = '\0';
        rc = tt_tape_verify(dir, collect, first, NULL, &err);
    }
    if (rc)
        snprintf(why, whysize, "%s (%s)", err.msg, first);
    return rc;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void tt_ft_remove(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

void tt_ft_dir(const char *root, uint64_t k, char *buf, size_t n)
{
    if (k)
        snprintf(buf, n, "%s/k%llu", root, (unsigned long long)k);
    else
        snprintf(buf, n, "%s/clean", root);
}
