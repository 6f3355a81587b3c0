/*
 * Delimited-text import: the libcsv record reader, field parsers and the
 * generic CSV importer.
 *
 * How the reader works: libcsv parses a byte stream and calls back once per
 * field and once per record, but it knows nothing of lines. The reader feeds
 * it one line at a time (cut at '\n' inside whatever chunk arrives), so the
 * line being fed when a record's first field completes is that record's line.
 * libcsv keeps its state between calls, so a record split across chunks
 * still works; a record may not span lines, though (none of the formats
 * read here has multi-line fields, and an unclosed quote would otherwise
 * swallow the rest of the file). In strict mode libcsv stops at a
 * malformed line; the reader reports that line, re-initialises the parser and skips to the next
 * line, so one bad line costs one line. Field bytes go into one arena that is
 * reused for every record: no allocation per row once it has grown.
 *
 * Times and numbers are parsed by hand with range and overflow checks (no
 * strtol surprises, no locale), and prices go through tt_price_parse from
 * their decimal text, never through a double.
 */
#include "csv_import.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---------------------------------------------------------------- reader */

struct tt_csv_reader {
    struct csv_parser p;
    unsigned char delim;
    tt_csv_row_fn row_fn;
    tt_csv_bad_fn bad_fn;
    void *ctx;
    char *arena;
    size_t alen, acap;
    size_t off[TT_CSV_MAX_FIELDS];
    size_t flen[TT_CSV_MAX_FIELDS];
    int nf, too_many;
    long line;     /* line being fed */
    long row_line; /* line of the current record's first field */
    int skip_line; /* after a syntax error: drop bytes up to the next '\n' */
    int oom;
    int stop_rc;
    tt_err *err;
    void (*progress)(void *ctx, uint64_t bytes);
    void *progress_ctx;
};

/* Only the space character is padding: a tab may be the delimiter (MT5), and
 * libcsv's default would swallow empty tab-separated fields. */
static int space_only(unsigned char c)
{
    return c == ' ';
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static int reader_init_parser(tt_csv_reader *r)
{
    if (csv_init(&r->p, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0)
        return TT_ENOMEM;
    csv_set_delim(&r->p, r->delim);
    csv_set_space_func(&r->p, r->delim == ' ' ? no_space : space_only);
    return TT_OK;
}

static void on_field(void *data, size_t len, void *ctx)
{
    tt_csv_reader *r = ctx;
    if (r->nf == 0)
        r->row_line = r->line;
    if (r->nf >= TT_CSV_MAX_FIELDS) {
        r->too_many = 1;
        return;
    }
    if (r->alen + len + 1 > r->acap) {
        size_t cap = r->acap ? r->acap : 1024;
        while (cap < r->alen + len + 1)
            cap *= 2;
        char *a = realloc(r->arena, cap);
        if (!a) {
            r->oom = 1;
            return;
        }
        r->arena = a;
        r->acap = cap;
    }
    if (len)
        memcpy(r->arena + r->alen, data, len);
    r->arena[r->alen + len] = '\0';
    r->off[r->nf] = r->alen;
    r->flen[r->nf] = len;
    r->alen += len + 1;
    r->nf++;
}

static void on_row(int c, void *ctx)
{
    (void)c;
    tt_csv_reader *r = ctx;
    if (r->nf == 0)
        r->row_line = r->line;
    if (!r->stop_rc && !r->oom) {
        tt_csv_row row;
        row.nfields = r->nf;
        row.line = r->row_line;
        row.too_many = r->too_many;
        for (int i = 0; i < r->nf; i++) {
            row.field[i] = r->arena + r->off[i];
            row.len[i] = r->flen[i];
        }
        int rc = r->row_fn(r->ctx, &row, r->err);
        if (rc)
            r->stop_rc = rc;
    }
    r->nf = 0;
    r->alen = 0;
    r->too_many = 0;
}

int tt_csv_reader_new(tt_csv_reader **out, unsigned char delim, tt_csv_row_fn row,
                      tt_csv_bad_fn bad, void *ctx, tt_err *err)
{
    tt_csv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    r->delim = delim ? delim : ',';
    r->row_fn = row;
    r->bad_fn = bad;
    r->ctx = ctx;
    r->line = 1;
    if (reader_init_parser(r)) {
        free(r);
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    *out = r;
    return TT_OK;
}

static void reader_reset_after_error(tt_csv_reader *r, const char *why)
{
    if (r->bad_fn)
        r->bad_fn(r->ctx, r->line, why);
    csv_free(&r->p);
    reader_init_parser(r); /* csv_init allocates nothing: it cannot fail */
    r->nf = 0;
    r->alen = 0;
    r->too_many = 0;
}

int tt_csv_reader_feed(tt_csv_reader *r, const char *buf, size_t len, tt_err *err)
{
    r->err = err;
    size_t pos = 0;
    while (pos < len && !r->stop_rc && !r->oom) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) + 1 : len;
        if (r->skip_line) {
            if (nl) {
                r->skip_line = 0;
                r->line++;
            }
            pos = end;
            continue;
        }
        size_t seg = end - pos;
        size_t done = csv_parse(&r->p, buf + pos, seg, on_field, on_row, r);
        if (done != seg && !r->oom && !r->stop_rc) {
            char why[128];
            snprintf(why, sizeof why, "malformed CSV (%s)", csv_strerror(csv_error(&r->p)));
            reader_reset_after_error(r, why);
            if (!nl)
                r->skip_line = 1;
        } else if (nl && r->p.pstate != 0 && !r->oom && !r->stop_rc) {
            /* A quote left open at the end of a line. No format read here has
             * fields spanning lines, and letting libcsv go on would swallow
             * the rest of the file into one field: report the line instead.
             * (pstate 0 is libcsv's ROW_NOT_BEGUN; the struct is public.) */
            reader_reset_after_error(r, "malformed CSV (a quoted field is not closed on its "
                                        "line)");
        }
        if (nl)
            r->line++;
        pos = end;
    }
    if (r->oom)
        return tt_err_set(err, TT_ENOMEM, "out of memory reading line %ld", r->line);
    return r->stop_rc;
}

int tt_csv_reader_finish(tt_csv_reader *r, tt_err *err)
{
    r->err = err;
    if (!r->stop_rc && !r->oom && !r->skip_line) {
        if (csv_fini(&r->p, on_field, on_row, r) != 0)
            reader_reset_after_error(r, "unterminated quoted field at end of input");
    }
    if (r->oom)
        return tt_err_set(err, TT_ENOMEM, "out of memory reading line %ld", r->line);
    return r->stop_rc;
}

void tt_csv_reader_set_progress(tt_csv_reader *r, void (*fn)(void *ctx, uint64_t bytes),
                                void *ctx)
{
    r->progress = fn;
    r->progress_ctx = ctx;
}

/* Forwards the reader's progress to an import pipeline. */
static void import_progress(void *ctx, uint64_t bytes)
{
    tt_import_progress(ctx, bytes);
}

/* zlib's message for a failed read, without the path it prefixes. */
static const char *gz_reason(gzFile g, const char *path, int *zerr)
{
    const char *m = gzerror(g, zerr);
    size_t n = strlen(path);
    if (m && strncmp(m, path, n) == 0 && m[n] == ':' && m[n + 1] == ' ')
        m += n + 2;
    return m && *m ? m : "read error";
}

long tt_csv_reader_line(const tt_csv_reader *r)
{
    return r->line;
}

int tt_csv_reader_feed_file(tt_csv_reader *r, const char *path, tt_err *err)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return tt_err_set(err, TT_EIO, "%s: cannot open", path);
    gzbuffer(g, 1 << 17);
    enum { CHUNK = 1 << 18 };
    char *buf = malloc(CHUNK);
    if (!buf) {
        gzclose(g);
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    int rc = TT_OK;
    for (;;) {
        int n = gzread(g, buf, CHUNK);
        if (n < 0) {
            int zerr;
            rc = tt_err_set(err, TT_EPARTIAL, "%s", gz_reason(g, path, &zerr));
            break;
        }
        if (n == 0) {
            int zerr;
            const char *m = gz_reason(g, path, &zerr);
            if (zerr != Z_OK && zerr != Z_STREAM_END) {
                rc = tt_err_set(err, TT_EPARTIAL, "%s", m);
                break;
            }
            rc = tt_csv_reader_finish(r, err);
            break;
        }
        if ((rc = tt_csv_reader_feed(r, buf, (size_t)n, err)))
            break;
        if (r->progress)
            r->progress(r->progress_ctx, (uint64_t)gzoffset(g));
    }
    free(buf);
    gzclose(g);
    return rc;
}

void tt_csv_reader_free(tt_csv_reader *r)
{
    if (!r)
        return;
    csv_free(&r->p);
    free(r->arena);
    free(r);
}

/* ---------------------------------------------------------------- fields */

int tt_csv_time_format_parse(const char *s)
{
    static const char *const names[] = {"auto", "iso", "epoch-s", "epoch-ms", "epoch-us",
                                        "epoch-ns", "histdata"};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static int parse_date(const char **p, int *y, int *mo, int *d)
{
    if (digits(p, 4, y))
        return -1;
    char sep = **p;
    if (sep == '-' || sep == '.' || sep == '/') {
        (*p)++;
        if (digits(p, 2, mo) || **p != sep)
            return -1;
        (*p)++;
        if (digits(p, 2, d))
            return -1;
    } else if (digits(p, 2, mo) || digits(p, 2, d)) {
        return -1;
    }
    if (*y < 1900 || *y > 2200 || *mo < 1 || *mo > 12 || *d < 1 || *d > days_in_month(*y, *mo))
        return -1;
    return 0;
}

/* "HH:MM[:SS[.f...]]" or "HHMMSS[f...]" (HistData writes milliseconds with no dot). */
static int parse_clock(const char **p, int *h, int *mi, int *se, int64_t *ns)
{
    *se = 0;
    *ns = 0;
    if (digits(p, 2, h))
        return -1;
    int compact = **p != ':';
    if (!compact)
        (*p)++;
    if (digits(p, 2, mi))
        return -1;
    int frac_needs_dot = 1;
    if (compact) {
        if (digits(p, 2, se))
            return -1;
        frac_needs_dot = 0;
    } else if (**p == ':') {
        (*p)++;
        if (digits(p, 2, se))
            return -1;
    } else {
        frac_needs_dot = -1; /* HH:MM: no fraction */
    }
    if (frac_needs_dot >= 0) {
        if (frac_needs_dot && (**p == '.' || **p == ','))
            (*p)++;
        else if (frac_needs_dot)
            goto done;
        int n = 0;
        while (**p >= '0' && **p <= '9') {
            if (n == 9)
                return -1;
            *ns = *ns * 10 + (**p - '0');
            (*p)++;
            n++;
        }
        if (frac_needs_dot && n == 0)
            return -1;
        while (n > 0 && n < 9) {
            *ns *= 10;
            n++;
        }
    }
done:
    if (*h > 23 || *mi > 59 || *se > 59)
        return -1;
    return 0;
}

static int parse_utc_suffix(const char *p)
{
    if (*p == 'Z')
        p++;
    else if (strcmp(p, "+00:00") == 0)
        p += 6;
    return *p == '\0' ? 0 : -1;
}

int tt_csv_datetime_parse(const char *date, const char *clock, tt_ts *out)
{
    if (!date)
        return TT_EFORMAT;
    const char *p = date;
    int y, mo, d, h = 0, mi = 0, se = 0;
    int64_t ns = 0;
    if (parse_date(&p, &y, &mo, &d))
        return TT_EFORMAT;
    if (clock && *clock) {
        if (*p)
            return TT_EFORMAT;
        p = clock;
        if (parse_clock(&p, &h, &mi, &se, &ns) || parse_utc_suffix(p))
            return TT_EFORMAT;
    } else if (*p == 'T' || *p == ' ') {
        p++;
        if (parse_clock(&p, &h, &mi, &se, &ns) || parse_utc_suffix(p))
            return TT_EFORMAT;
    } else if (parse_utc_suffix(p)) {
        return TT_EFORMAT;
    }
    *out = tt_ts_from_civil(y, mo, d, h, mi, se, ns);
    return TT_OK;
}

int tt_csv_int64_parse(const char *s, int64_t *out)
{
    const char *p = s;
    int neg = *p == '-';
    if (neg || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return TT_EFORMAT;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return TT_EFORMAT;
        v = v * 10 + (uint64_t)(*p++ - '0');
    }
    if (*p || v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return TT_EFORMAT;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return TT_OK;
}

int tt_csv_time_parse(const char *s, int format, tt_ts *out)
{
    if (format == TT_CSVT_AUTO) {
        size_t n = 0;
        while (s[n] >= '0' && s[n] <= '9')
            n++;
        if (s[n] != '\0' || n == 8)
            format = TT_CSVT_ISO;
        else if (n <= 10)
            format = TT_CSVT_EPOCH_S;
        else if (n <= 13)
            format = TT_CSVT_EPOCH_MS;
        else if (n <= 16)
            format = TT_CSVT_EPOCH_US;
        else
            format = TT_CSVT_EPOCH_NS;
    }
    int64_t mul;
    switch (format) {
    case TT_CSVT_ISO:
    case TT_CSVT_HISTDATA:
        return tt_csv_datetime_parse(s, NULL, out);
    case TT_CSVT_EPOCH_S: mul = TT_NS_PER_SEC; break;
    case TT_CSVT_EPOCH_MS: mul = TT_NS_PER_MS; break;
    case TT_CSVT_EPOCH_US: mul = TT_NS_PER_US; break;
    case TT_CSVT_EPOCH_NS: mul = 1; break;
    default: return TT_EINVAL;
    }
    int64_t v;
    if (tt_csv_int64_parse(s, &v) || v < 0)
        return TT_EFORMAT;
    if (v > INT64_MAX / mul)
        return TT_EFORMAT;
    *out = v * mul;
    return TT_OK;
}

int tt_csv_price_parse(const tt_instrument *ins, const char *s, tt_price *out, tt_err *err)
{
    /* tt_price_parse accumulates in int64: bound the integer digits so that
     * digits + log10(points) stays below 18 and nothing can overflow. */
    int pdig = 0;
    for (int64_t q = ins->points; q >= 10; q /= 10)
        pdig++;
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    int n = 0;
    while (p[n] >= '0' && p[n] <= '9')
        n++;
    if (n + pdig > 17 || strlen(s) > 40)
        return tt_err_set(err, TT_EFORMAT, "price '%.40s' out of range", s);
    return tt_price_parse(ins, s, out, err);
}

int tt_csv_volume_parse(const char *s, double *out)
{
    if (!((*s >= '0' && *s <= '9') || *s == '.'))
        return TT_EFORMAT;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < 0)
        return TT_EFORMAT;
    *out = v;
    return TT_OK;
}

int tt_csv_offset_parse(const char *s, tt_ts *out)
{
    const char *p = s;
    int neg = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    int h = 0, m = 0, n = 0;
    while (p[n] >= '0' && p[n] <= '9')
        n++;
    if (n == 1 || n == 2) {
        digits(&p, n, &h);
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &m))
                return TT_EINVAL;
        }
    } else if (n == 4) {
        digits(&p, 2, &h);
        digits(&p, 2, &m);
    } else {
        return TT_EINVAL;
    }
    if (*p || h > 14 || m > 59)
        return TT_EINVAL;
    tt_ts v = (tt_ts)h * TT_NS_PER_HOUR + (tt_ts)m * TT_NS_PER_MIN;
    *out = neg ? -v : v;
    return TT_OK;
}

/* ---------------------------------------------------------------- generic CSV */

enum col_role {
    COL_SKIP = 0, COL_TIME, COL_DATE, COL_CLOCK, COL_SYMBOL,
    COL_BID, COL_ASK, COL_BID_VOL, COL_ASK_VOL,
    COL_PRICE, COL_SIZE,
    COL_OPEN, COL_HIGH, COL_LOW, COL_CLOSE, COL_VOLUME, COL_TICKS,
    COL_NROLES
};

static const char *const ROLE_NAMES[COL_NROLES] = {
    "skip", "time", "date", "clock", "symbol", "bid", "ask", "bid_volume", "ask_volume",
    "price", "size", "open", "high", "low", "close", "volume", "ticks"};

enum { MODE_QUOTE = 1, MODE_TRADE = 2, MODE_BAR = 3 };

struct tt_csv_import {
    tt_import *im;
    tt_csv_opts o;
    int ncols;
    int idx[COL_NROLES]; /* column of each role, -1 when absent */
    int mode;
    int header_pending;
    char last_sym[TT_SYMBOL_MAX * 2];
    const tt_instrument *last_ins;
};

int tt_csv_import_new(tt_csv_import **out, tt_import *im, const tt_csv_opts *o, tt_err *err)
{
    *out = NULL;
    if (!o->columns || !*o->columns)
        return tt_err_set(err, TT_EINVAL, "--columns is required (e.g. time,bid,ask)");
    tt_csv_import *ci = calloc(1, sizeof *ci);
    if (!ci)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    ci->im = im;
    ci->o = *o;
    ci->o.columns = NULL; /* not kept: the caller's string */
    if (!ci->o.delim)
        ci->o.delim = ',';
    for (int i = 0; i < COL_NROLES; i++)
        ci->idx[i] = -1;
    const char *p = o->columns;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int role = -1;
        if (n == 0)
            role = COL_SKIP;
        for (int r = 0; r < COL_NROLES && role < 0; r++)
            if (strlen(ROLE_NAMES[r]) == n && strncmp(p, ROLE_NAMES[r], n) == 0)
                role = r;
        if (role < 0) {
            free(ci);
            return tt_err_set(err, TT_EINVAL,
                              "--columns: unknown column '%.*s' (known: time date clock symbol "
                              "bid ask bid_volume ask_volume price size open high low close "
                              "volume ticks skip)",
                              (int)n, p);
        }
        if (ci->ncols >= TT_CSV_MAX_FIELDS) {
            free(ci);
            return tt_err_set(err, TT_EINVAL, "--columns: more than %d columns",
                              TT_CSV_MAX_FIELDS);
        }
        if (role != COL_SKIP) {
            if (ci->idx[role] >= 0) {
                free(ci);
                return tt_err_set(err, TT_EINVAL, "--columns: '%s' given twice",
                                  ROLE_NAMES[role]);
            }
            ci->idx[role] = ci->ncols;
        }
        ci->ncols++;
        if (!e)
            break;
        p = e + 1;
    }
    const int *x = ci->idx;
    const char *why = NULL;
    if (x[COL_BID] >= 0 && x[COL_ASK] >= 0)
        ci->mode = MODE_QUOTE;
    else if (x[COL_OPEN] >= 0 && x[COL_HIGH] >= 0 && x[COL_LOW] >= 0 && x[COL_CLOSE] >= 0)
        ci->mode = MODE_BAR;
    else if (x[COL_PRICE] >= 0)
        ci->mode = MODE_TRADE;
    else
        why = "--columns must hold bid,ask (quotes), open,high,low,close (bars) or price (trades)";
    if (!why && x[COL_TIME] < 0 && x[COL_DATE] < 0)
        why = "--columns must hold time, or date (and clock)";
    if (!why && x[COL_TIME] >= 0 && x[COL_DATE] >= 0)
        why = "--columns: give time, or date and clock, not both";
    if (!why && x[COL_SYMBOL] < 0 && !o->instrument)
        why = "no symbol column: name the instrument with --symbol";
    if (!why && ci->mode == MODE_BAR && (o->tf == TT_TF_NONE || o->tf >= TT_TF_COUNT))
        why = "bars need a timeframe (--timeframe M1 ...)";
    if (why) {
        free(ci);
        return tt_err_set(err, TT_EINVAL, "%s", why);
    }
    if (!ci->o.has_offset && ci->o.time_format == TT_CSVT_HISTDATA) {
        /* HistData.com stamps in EST with no daylight saving: UTC-5 all year. */
        ci->o.utc_offset = -5 * TT_NS_PER_HOUR;
    }
    ci->header_pending = o->header != 0;
    *out = ci;
    return TT_OK;
}

static const char *field(const tt_csv_row *row, const tt_csv_import *ci, int role)
{
    int i = ci->idx[role];
    return i >= 0 ? row->field[i] : NULL;
}

static int row_time(const tt_csv_import *ci, const tt_csv_row *row, tt_ts *ts)
{
    int rc = ci->idx[COL_TIME] >= 0
                 ? tt_csv_time_parse(field(row, ci, COL_TIME), ci->o.time_format, ts)
                 : tt_csv_datetime_parse(field(row, ci, COL_DATE), field(row, ci, COL_CLOCK), ts);
    if (rc)
        return rc;
    *ts -= ci->o.utc_offset;
    return TT_OK;
}

/* Auto-detection: a header names columns, so none of its fields starts like a
 * number. A first row with digits is data, and if it is malformed it is
 * reported as a bad row rather than skipped as a "header". */
static int looks_like_header(const tt_csv_row *row)
{
    for (int i = 0; i < row->nfields; i++) {
        const char *f = row->field[i];
        if (*f == '-' || *f == '+' || *f == '.')
            f++;
        if (*f >= '0' && *f <= '9')
            return 0;
    }
    return 1;
}

static int csv_row(void *ctx, const tt_csv_row *row, tt_err *err)
{
    tt_csv_import *ci = ctx;
    tt_import *im = ci->im;
    if (row->nfields == 1 && row->len[0] == 0)
        return TT_OK; /* a blank line */
    if (ci->header_pending) {
        ci->header_pending = 0;
        if (ci->o.header == 1 || looks_like_header(row))
            return TT_OK; /* header row: not data */
    }
    tt_import_count_row(im);
    if (row->nfields != ci->ncols || row->too_many) {
        tt_import_bad(im, row->line, "expected %d fields (--columns), found %d%s", ci->ncols,
                      row->nfields, row->too_many ? "+" : "");
        return TT_OK;
    }
    const tt_instrument *ins = ci->o.instrument;
    if (ci->idx[COL_SYMBOL] >= 0) {
        const char *sym = field(row, ci, COL_SYMBOL);
        if (ci->last_ins && strcmp(sym, ci->last_sym) == 0) {
            ins = ci->last_ins;
        } else {
            int rc = tt_instruments_require(tt_import_instruments(im), sym, &ins, err);
            if (rc) {
                tt_err_prefix(err, "line %ld: ", row->line);
                return rc;
            }
            snprintf(ci->last_sym, sizeof ci->last_sym, "%s", sym);
            ci->last_ins = ins;
        }
    }
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    if (row_time(ci, row, &ev.ts)) {
        tt_import_bad(im, row->line, "bad time '%.40s'",
                      ci->idx[COL_TIME] >= 0 ? field(row, ci, COL_TIME) : field(row, ci, COL_DATE));
        return TT_OK;
    }
    tt_err fe;
    if (ci->mode == MODE_QUOTE) {
        ev.kind = TT_EV_QUOTE;
        if (tt_csv_price_parse(ins, field(row, ci, COL_BID), &ev.u.quote.bid, &fe) ||
            tt_csv_price_parse(ins, field(row, ci, COL_ASK), &ev.u.quote.ask, &fe)) {
            tt_import_bad(im, row->line, "bad price: %s", fe.msg);
            return TT_OK;
        }
        double bv = 0, av = 0;
        const char *b = field(row, ci, COL_BID_VOL), *a = field(row, ci, COL_ASK_VOL);
        if ((b && *b && tt_csv_volume_parse(b, &bv)) || (a && *a && tt_csv_volume_parse(a, &av))) {
            tt_import_bad(im, row->line, "bad volume");
            return TT_OK;
        }
        /* The decimal text of a float32 volume converts back to the same float. */
        ev.u.quote.bid_vol = b && *b ? strtof(b, NULL) : 0.0f;
        ev.u.quote.ask_vol = a && *a ? strtof(a, NULL) : 0.0f;
        return tt_import_tick(im, ins, &ev, row->line, err);
    }
    if (ci->mode == MODE_TRADE) {
        ev.kind = TT_EV_TRADE;
        if (tt_csv_price_parse(ins, field(row, ci, COL_PRICE), &ev.u.trade.price, &fe)) {
            tt_import_bad(im, row->line, "bad price: %s", fe.msg);
            return TT_OK;
        }
        const char *sz = field(row, ci, COL_SIZE);
        if (sz && *sz && tt_csv_volume_parse(sz, &ev.u.trade.size)) {
            tt_import_bad(im, row->line, "bad size '%.40s'", sz);
            return TT_OK;
        }
        return tt_import_tick(im, ins, &ev, row->line, err);
    }
    ev.kind = TT_EV_BAR;
    tt_bar *bar = &ev.u.bar;
    if (tt_csv_price_parse(ins, field(row, ci, COL_OPEN), &bar->open, &fe) ||
        tt_csv_price_parse(ins, field(row, ci, COL_HIGH), &bar->high, &fe) ||
        tt_csv_price_parse(ins, field(row, ci, COL_LOW), &bar->low, &fe) ||
        tt_csv_price_parse(ins, field(row, ci, COL_CLOSE), &bar->close, &fe)) {
        tt_import_bad(im, row->line, "bad price: %s", fe.msg);
        return TT_OK;
    }
    const char *v = field(row, ci, COL_VOLUME), *t = field(row, ci, COL_TICKS);
    int64_t ticks = 0;
    if ((v && *v && tt_csv_volume_parse(v, &bar->volume)) ||
        (t && *t && (tt_csv_int64_parse(t, &ticks) || ticks < 0 || ticks > UINT32_MAX))) {
        tt_import_bad(im, row->line, "bad volume or tick count");
        return TT_OK;
    }
    bar->ticks = (uint32_t)ticks;
    bar->tf = ci->o.tf;
    bar->side = ci->o.side;
    return tt_import_bar(im, ins, &ev, row->line, err);
}

static void csv_bad(void *ctx, long line, const char *why)
{
    tt_csv_import *ci = ctx;
    tt_import_count_row(ci->im);
    tt_import_bad(ci->im, line, "%s", why);
}

int tt_csv_import_file(tt_csv_import *ci, const char *path, tt_err *err)
{
    tt_csv_reader *r;
    int rc = tt_csv_reader_new(&r, ci->o.delim, csv_row, csv_bad, ci, err);
    if (rc)
        return rc;
    tt_import_set_file(ci->im, path);
    tt_csv_reader_set_progress(r, import_progress, ci->im);
    ci->header_pending = ci->o.header != 0;
    rc = tt_csv_reader_feed_file(r, path, err);
    if (rc == TT_EPARTIAL) {
        /* A damaged compressed stream: what came before is imported; count it. */
        tt_import_count_row(ci->im);
        tt_import_bad(ci->im, tt_csv_reader_line(r), "input ends here: %s (truncated or "
                      "damaged compressed file; the rows before were imported)",
                      err ? err->msg : "read error");
        rc = TT_OK;
    }
    tt_csv_reader_free(r);
    return rc;
}

int tt_csv_import_mem(tt_csv_import *ci, const char *buf, size_t len, tt_err *err)
{
    tt_csv_reader *r;
    int rc = tt_csv_reader_new(&r, ci->o.delim, csv_row, csv_bad, ci, err);
    if (rc)
        return rc;
    ci->header_pending = ci->o.header != 0;
    rc = tt_csv_reader_feed(r, buf, len, err);
    if (!rc)
        rc = tt_csv_reader_finish(r, err);
    tt_csv_reader_free(r);
    return rc;
}

void tt_csv_import_free(tt_csv_import *ci)
{
    free(ci);
}
