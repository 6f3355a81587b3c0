/*
 * The tape's manifest: the list of segments and what each has committed.
 *
 * How it works
 * ------------
 * TAPE/MANIFEST is a small text file (docs/tape-format.md, "Manifest"):
 *
 *     ticktape tape manifest 2
 *     segment EURUSD/quote/2019-02.tts 927704 34 266219 1549238400994000000 ... 9f3c...
 *     end 1 5be0...
 *
 * one line per segment (its path, committed length, blocks, events, first
 * and last time, chain: the fields of its last commit record), then a line
 * with the count and an XXH64 of every byte before it, so that a damaged
 * manifest is refused rather than believed. It is never edited in place: a
 * writer writes MANIFEST.tmp, fsyncs it (when durable), renames it over
 * MANIFEST and fsyncs the directory, so a reader sees the old list or the
 * new one, whole.
 *
 * In memory the list is kept sorted by symbol, stream name, month: the order
 * that fixes a reader's source ids, the same as the sorted directory walk of
 * format 1. One segment per (symbol, stream, month); a rewritten month has a
 * new file name (2019-02.1.tts, data/tape/rewrite.c) and replaces its entry.
 */
#include "../tape_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>


#define MAN_HEADER "ticktape tape manifest 2\n"
#define MAN_MAX_BYTES (64u << 20)

void tt_tape_manifest_free(tt_tape_manifest *m)
{
    free(m->v);
    memset(m, 0, sizeof *m);
}

static int mseg_cmp(const tt_tape_mseg *a, const tt_tape_mseg *b)
{
    int c = strcmp(a->symbol, b->symbol);
    if (!c)
        c = strcmp(a->stream, b->stream);
    if (!c)
        c = strncmp(a->file, b->file, 7);
    return c;
}

int tt_tape_manifest_find(const tt_tape_manifest *m, const char *symbol, const char *stream,
                          const char *month)
{
    tt_tape_mseg key;
    memset(&key, 0, sizeof key);
    snprintf(key.symbol, sizeof key.symbol, "%s", symbol);
    snprintf(key.stream, sizeof key.stream, "%s", stream);
    snprintf(key.file, sizeof key.file, "%.7s", month);
    int lo = 0, hi = m->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = mseg_cmp(&m->v[mid], &key);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int tt_tape_manifest_put(tt_tape_manifest *m, const tt_tape_mseg *s)
{
    int lo = 0, hi = m->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = mseg_cmp(&m->v[mid], s);
        if (c == 0) {
            m->v[mid] = *s;
            return TT_OK;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 16;
        tt_tape_mseg *nv = realloc(m->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return TT_ENOMEM;
        m->v = nv;
        m->cap = cap;
    }
    memmove(m->v + lo + 1, m->v + lo, (size_t)(m->n - lo) * sizeof *m->v);
    m->v[lo] = *s;
    m->n++;
    return TT_OK;
}

void tt_tape_manifest_remove(tt_tape_manifest *m, int i)
{
    if (i < 0 || i >= m->n)
        return;
    memmove(m->v + i, m->v + i + 1, (size_t)(m->n - i - 1) * sizeof *m->v);
    m->n--;
}

int tt_tape_segment_name_ok(const char *file)
{
    /* YYYY-MM.tts or YYYY-MM.G.tts */
    size_t n = strlen(file);
    if (n < 11 || n >= TT_TAPE_FILE_MAX || strcmp(file + n - 4, SEG_EXT))
        return 0;
    for (int i = 0; i < 7; i++)
        if (i == 4 ? file[i] != '-' : (file[i] < '0' || file[i] > '9'))
            return 0;
    if (n == 11)
        return 1;
    if (file[7] != '.' || n < 13)
        return 0;
    for (size_t i = 8; i < n - 4; i++)
        if (file[i] < '0' || file[i] > '9')
            return 0;
    return 1;
}

/* One "segment ..." line (without the newline) into *s. 0, or -1. */
static int parse_segment(const char *line, tt_tape_mseg *s)
{
    char path[256], chain[24];
    unsigned long long len, events, chainv;
    unsigned blocks;
    long long first, last;
    int used = 0;
    memset(s, 0, sizeof *s);
    if (sscanf(line, "segment %255s %llu %u %llu %lld %lld %20s%n", path, &len, &blocks, &events,
               &first, &last, chain, &used) != 7 || line[used] != '\0')
        return -1;
    char *end;
    if (strlen(chain) != 16 || (chainv = strtoull(chain, &end, 16), *end))
        return -1;
    char *a = strchr(path, '/'), *b = a ? strchr(a + 1, '/') : NULL;
    if (!a || !b || strchr(b + 1, '/'))
        return -1;
    *a = *b = '\0';
    tt_stream_desc d;
    if (tt_stream_desc_parse(path, a + 1, &d) || strlen(a + 1) >= sizeof s->stream ||
        !tt_tape_segment_name_ok(b + 1))
        return -1;
    snprintf(s->symbol, sizeof s->symbol, "%s", path);
    snprintf(s->stream, sizeof s->stream, "%s", a + 1);
    snprintf(s->file, sizeof s->file, "%s", b + 1);
    s->c.length = len;
    s->c.blocks = blocks;
    s->c.events = events;
    s->c.first = first;
    s->c.last = last;
    s->c.chain = chainv;
    if (len < SEG_HDR_SIZE + CMT_SIZE || first > last)
        return -1;
    return 0;
}

static int manifest_parse(const char *path, char *text, size_t n, tt_tape_manifest *m,
                          tt_err *err)
{
    size_t hl = strlen(MAN_HEADER);
    if (n < hl || memcmp(text, MAN_HEADER, hl))
        return tt_err_set(err, TT_EFORMAT, "%s: not a ticktape manifest (format 2)", path);
    size_t at = hl;
    int lineno = 1;
    for (;;) {
        char *nl = memchr(text + at, '\n', n - at);
        lineno++;
        if (!nl)
            return tt_err_set(err, TT_EFORMAT, "%s: line %d: cut short (no end line)", path,
                              lineno);
        *nl = '\0';
        const char *line = text + at;
        if (!strncmp(line, "end ", 4)) {
            int count;
            char sum[24];
            int used = 0;
            if (sscanf(line, "end %d %20s%n", &count, sum, &used) != 2 || line[used] ||
                strtoull(sum, NULL, 16) != XXH64(text, at, 0) || strlen(sum) != 16)
                return tt_err_set(err, TT_ECHECKSUM, "%s: line %d: checksum mismatch", path,
                                  lineno);
            if (count != m->n || (size_t)(nl + 1 - text) != n)
                return tt_err_set(err, TT_EFORMAT, "%s: line %d: %d segments listed, %d read",
                                  path, lineno, count, m->n);
            return TT_OK;
        }
        tt_tape_mseg s;
        if (parse_segment(line, &s))
            return tt_err_set(err, TT_EFORMAT, "%s: line %d: malformed segment line", path,
                              lineno);
        if (tt_tape_manifest_find(m, s.symbol, s.stream, s.file) >= 0)
            return tt_err_set(err, TT_EFORMAT, "%s: line %d: a second segment for %s/%s %.7s",
                              path, lineno, s.symbol, s.stream, s.file);
        if (tt_tape_manifest_put(m, &s))
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        *nl = '\n';
        at = (size_t)(nl + 1 - text);
    }
}

int tt_tape_manifest_read(const char *dir, tt_tape_manifest *m, tt_err *err)
{
    memset(m, 0, sizeof *m);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, TAPE_MANIFEST);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT
                   ? tt_err_set(err, TT_ENOTFOUND, "%s: no manifest", dir)
                   : tt_err_set(err, TT_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    char *text = NULL;
    int rc = TT_OK;
    if (fstat(fd, &st) || st.st_size > (off_t)MAN_MAX_BYTES)
        rc = tt_err_set(err, TT_EFORMAT, "%s: unreadable or too large", path);
    else if (!(text = malloc((size_t)st.st_size + 1)))
        rc = tt_err_set(err, TT_ENOMEM, "out of memory");
    else if (pread(fd, text, (size_t)st.st_size, 0) != (ssize_t)st.st_size)
        rc = tt_err_set(err, TT_EIO, "%s: read failed: %s", path, strerror(errno));
    else
        rc = manifest_parse(path, text, (size_t)st.st_size, m, err);
    close(fd);
    free(text);
    if (rc)
        tt_tape_manifest_free(m);
    return rc;
}

/* Write all of buf to a new file at path (fsync'd when durable). */
static int write_file(const char *path, const char *buf, size_t n, int durable, tt_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot create: %s", path, strerror(errno));
    size_t at = 0;
    while (at < n) {
        ssize_t k = write(fd, buf + at, n - at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : ENOSPC;
            close(fd);
            return tt_err_set(err, TT_EIO, "%s: write failed: %s", path, strerror(e));
        }
        at += (size_t)k;
    }
    if (durable && fsync(fd)) {
        int e = errno;
        close(fd);
        return tt_err_set(err, TT_EIO, "%s: fsync: %s", path, strerror(e));
    }
    if (close(fd))
        return tt_err_set(err, TT_EIO, "%s: close: %s", path, strerror(errno));
    return TT_OK;
}

int tt_tape_fsync_dir(const char *dir, tt_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return tt_err_set(err, TT_EIO, "%s: cannot open: %s", dir, strerror(errno));
    int rc = fsync(fd) ? tt_err_set(err, TT_EIO, "%s: fsync: %s", dir, strerror(errno))
                                : TT_OK;
    close(fd);
    return rc;
}

int tt_tape_manifest_write(const char *dir, const tt_tape_manifest *m, int durable, tt_err *err)
{
    size_t cap = 64 + (size_t)m->n * 200, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    n += (size_t)snprintf(buf, cap, "%s", MAN_HEADER);
    for (int i = 0; i < m->n; i++) {
        const tt_tape_mseg *s = &m->v[i];
        n += (size_t)snprintf(buf + n, cap - n,
                              "segment %s/%s/%s %" PRIu64 " %u %" PRIu64 " %lld %lld %016" PRIx64
                              "\n",
                              s->symbol, s->stream, s->file, s->c.length, s->c.blocks,
                              s->c.events, (long long)s->c.first, (long long)s->c.last,
                              s->c.chain);
    }
    n += (size_t)snprintf(buf + n, cap - n, "end %d %016" PRIx64 "\n", m->n, XXH64(buf, n, 0));
    char tmp[4200], path[4200];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, TAPE_MANIFEST);
    snprintf(path, sizeof path, "%s/%s", dir, TAPE_MANIFEST);
    int rc = write_file(tmp, buf, n, durable, err);
    free(buf);
    if (rc)
        return rc;
    if (rename(tmp, path))
        return tt_err_set(err, TT_EIO, "%s: cannot rename into place: %s", tmp, strerror(errno));
    return durable ? tt_tape_fsync_dir(dir, err) : TT_OK;
}
