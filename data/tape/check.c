/*
 * Checking a tape against its manifest: what readers do when they open a
 * tape, what `tape verify` does for every segment, what repair starts from.
 *
 * How it works
 * ------------
 * The manifest names every segment and its last commit (data/tape/manifest.c).
 * tt_tape_check_segment opens one segment, walks its records up to the
 * committed length (the walk checks every block header and every commit
 * record against the blocks before it: data/tape/segment.c) and compares:
 *
 *   - the file is missing: every event of it is missing;
 *   - it is shorter than the committed length, or ends inside a record: it
 *     was cut; the complete blocks before the cut are usable, the rest is
 *     named (blocks, events, time range) as missing. A cut exactly at a block
 *     boundary is found the same way: the length says more was committed;
 *   - a record is corrupt: the blocks before it are usable;
 *   - the records end where the manifest says but the last commit is not the
 *     manifest's (another file in its place: a renamed, copied or swapped
 *     segment): nothing of it is usable;
 *   - bytes after the committed length are an uncommitted tail: not part of
 *     the tape (a writer at work, or one that did not finish).
 *
 * A problem is data for the caller: a strict reader fails with its message,
 * a reader with allow_partial uses the usable blocks and counts the missing
 * events, verify reports it. Only I/O and memory failures are errors here.
 *
 * tt_tape_manifest_streams turns the manifest into the list of streams with
 * their segments, in the order that fixes source ids; tt_tape_extra_files
 * finds segment files that no manifest entry names.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void fmt_range(tt_ts a, tt_ts b, char *out, size_t n)
{
    char x[48], y[48];
    tt_ts_format(a, x, sizeof x, a % TT_NS_PER_MS != 0);
    tt_ts_format(b, y, sizeof y, b % TT_NS_PER_MS != 0);
    snprintf(out, n, "%s .. %s", x, y);
}

/* What is missing after the usable blocks of a damaged segment. */
static void describe_missing(tt_tape_seg_check *k, const tt_tape_mseg *m, const char *what)
{
    uint64_t usable = 0;
    tt_ts from = m->c.first;
    for (uint32_t i = 0; i < k->scan.nidx; i++) {
        usable += k->scan.idx[i].count;
        from = k->scan.idx[i].last;
    }
    k->missing = m->c.events > usable ? m->c.events - usable : 0;
    char range[120];
    fmt_range(from, m->c.last, range, sizeof range);
    char blocks[80];
    uint32_t lastb = m->c.blocks ? m->c.blocks - 1 : 0;
    if (k->scan.nidx >= lastb)
        snprintf(blocks, sizeof blocks, "block %u of %u is", lastb, m->c.blocks);
    else
        snprintf(blocks, sizeof blocks, "blocks %u to %u of %u are", k->scan.nidx, lastb,
                 m->c.blocks);
    snprintf(k->msg, sizeof k->msg, "%s: %s: %s missing (%llu of %llu events, %s)", k->path,
             what, blocks, (unsigned long long)k->missing, (unsigned long long)m->c.events,
             range);
}

/* Do the blocks of state c (a commit record, or the blocks as scanned) say
 * what the manifest says was committed? */
static int same_commit(const tt_tape_commit *c, const tt_tape_mseg *m)
{
    return c->blocks == m->c.blocks && c->events == m->c.events && c->chain == m->c.chain &&
           c->first == m->c.first && c->last == m->c.last;
}

/* Usable blocks must lie in the segment's month and the committed range. */
static int blocks_in_place(const tt_tape_seg_check *k, const tt_tape_mseg *m)
{
    tt_ts lo, hi;
    tt_tape_month_range(m->file, &lo, &hi);
    for (uint32_t i = 0; i < k->scan.nidx; i++) {
        const tt_tape_blk *b = &k->scan.idx[i];
        if (b->first < lo || b->last >= hi || b->first < m->c.first || b->last > m->c.last)
            return 0;
    }
    return 1;
}

/* Another file in the segment's place: nothing of it is usable. */
static void impostor(tt_tape_seg_check *k, const tt_tape_mseg *m, const char *what)
{
    k->problem = TT_EFORMAT;
    k->missing = m->c.events;
    tt_tape_scan_free(&k->scan);
    snprintf(k->msg, sizeof k->msg,
             "%s: %s what the manifest says was committed there (%u blocks, %llu events): "
             "another file in its place", k->path, what, m->c.blocks,
             (unsigned long long)m->c.events);
}

int tt_tape_check_segment(const char *dir, const tt_stream_desc *d, const tt_tape_mseg *m,
                          tt_tape_seg_check *k, tt_err *err)
{
    memset(k, 0, sizeof *k);
    snprintf(k->path, sizeof k->path, "%s/%s/%s/%s", dir, m->symbol, m->stream, m->file);
    int fd = open(k->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            return tt_err_set(err, TT_EIO, "%s: cannot open: %s", k->path, strerror(errno));
        k->problem = TT_ENOTFOUND;
        k->missing = m->c.events;
        char range[120];
        fmt_range(m->c.first, m->c.last, range, sizeof range);
        snprintf(k->msg, sizeof k->msg,
                 "%s: missing segment: the manifest lists it with %u blocks and %llu events "
                 "(%s)", k->path, m->c.blocks, (unsigned long long)m->c.events, range);
        return TT_OK;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return tt_err_set(err, TT_EIO, "%s: %s", k->path, strerror(errno));
    }
    k->dev = st.st_dev;
    k->ino = st.st_ino;
    tt_err e;
    int rc = tt_tape_seg_scan(fd, k->path, d, m->c.length, TT_SCAN_LENIENT, &k->scan, &e);
    close(fd);
    if (rc == TT_EIO || rc == TT_ENOMEM) {
        if (err)
            *err = e;
        return rc;
    }
    k->size = k->scan.size;
    k->tail = k->size > m->c.length ? k->size - m->c.length : 0;
    if (rc) {
        /* a bad segment header, another stream, another format */
        k->problem = rc;
        k->missing = m->c.events;
        snprintf(k->msg, sizeof k->msg, "%s (all %llu events of the segment are missing)", e.msg,
                 (unsigned long long)m->c.events);
        return TT_OK;
    }
    if (!blocks_in_place(k, m)) {
        impostor(k, m, "holds blocks outside");
    } else if (k->scan.bad) {
        k->problem = k->scan.bad;
        describe_missing(k, m, "a corrupt record");
        snprintf(k->msg + strlen(k->msg), sizeof k->msg - strlen(k->msg), " [%s]",
                 k->scan.bad_msg);
    } else if ((k->size < m->c.length || k->scan.torn) && same_commit(&k->scan.blocks_end, m)) {
        /* every committed block is there: only the last commit record was cut */
        k->problem = TT_ETORN;
        k->record_only = 1;
        snprintf(k->msg, sizeof k->msg,
                 "%s: cut at byte %llu, inside its last commit record (%llu bytes were "
                 "committed); every committed block is there", k->path,
                 (unsigned long long)k->size, (unsigned long long)m->c.length);
    } else if (k->size < m->c.length || k->scan.torn) {
        char what[120];
        snprintf(what, sizeof what, "cut at byte %llu, but %llu bytes were committed",
                 (unsigned long long)k->size, (unsigned long long)m->c.length);
        k->problem = TT_ETORN;
        describe_missing(k, m, what);
    } else if (k->scan.commit.length != m->c.length || !same_commit(&k->scan.commit, m)) {
        impostor(k, m, "does not hold");
    }
    return TT_OK;
}

void tt_tape_seg_check_free(tt_tape_seg_check *k)
{
    tt_tape_scan_free(&k->scan);
}

/* ---- the manifest as streams ---- */

int tt_tape_manifest_streams(const char *dir, const tt_tape_manifest *m, tt_tape_stream **out,
                             int **first)
{
    *out = NULL;
    *first = NULL;
    tt_tape_stream *v = calloc((size_t)m->n + 1, sizeof *v);
    int *f = calloc((size_t)m->n + 2, sizeof *f);
    if (!v || !f) {
        free(v);
        free(f);
        return TT_ENOMEM;
    }
    int n = 0;
    for (int i = 0; i < m->n; i++) {
        if (i && !strcmp(m->v[i].symbol, m->v[i - 1].symbol) &&
            !strcmp(m->v[i].stream, m->v[i - 1].stream))
            continue;
        size_t len = strlen(dir) + strlen(m->v[i].symbol) + strlen(m->v[i].stream) + 3;
        if (tt_stream_desc_parse(m->v[i].symbol, m->v[i].stream, &v[n].desc) ||
            !(v[n].dir = malloc(len))) {
            tt_tape_streams_free(v, n);
            free(f);
            return TT_ENOMEM;
        }
        snprintf(v[n].dir, len, "%s/%s/%s", dir, m->v[i].symbol, m->v[i].stream);
        f[n++] = i;
    }
    f[n] = m->n;
    *out = v;
    *first = f;
    return n;
}

int tt_tape_extra_files(const char *dir, const tt_tape_manifest *m,
                        void (*found)(void *ctx, const char *path, uint64_t bytes), void *ctx)
{
    tt_tape_stream *streams;
    int nst = tt_tape_streams_list(dir, &streams), count = 0;
    if (nst < 0)
        return 0;
    for (int i = 0; i < nst; i++) {
        char name[32];
        tt_stream_desc_name(&streams[i].desc, name, sizeof name);
        char **files;
        int nf = tt_tape_list_dir(streams[i].dir, SEG_EXT, &files);
        for (int j = 0; j < nf; j++) {
            int at = tt_tape_manifest_find(m, streams[i].desc.symbol, name, files[j]);
            if (at >= 0 && !strcmp(m->v[at].file, files[j]))
                continue;
            char path[4400];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", streams[i].dir, files[j]);
            count++;
            if (found)
                found(ctx, path, stat(path, &st) ? 0 : (uint64_t)st.st_size);
        }
        tt_tape_list_free(files, nf);
    }
    tt_tape_streams_free(streams, nst);
    return count;
}
