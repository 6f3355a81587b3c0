/*
 * The economic-calendar importer (calendar.h).
 *
 * How this works: the whole file is read (a year of Forex Factory is 400 KB,
 * 4,700 rows), each row is split on commas (a field in double quotes may hold
 * commas; "" is a quote inside one), checked and turned into a calendar event
 * whose message (core/external.h) is encoded at once. The events are sorted
 * by time, stably, then compared with what the tape's stream already holds
 * (time and an XXH3 of the payload) and appended through the public tape
 * writer. Nothing is written when an event would have to go before the
 * stream's end.
 */
#include "calendar.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "tape.h"

enum { C_DATE, C_TIME, C_CCY, C_EVENT, C_IMPACT, C_ACTUAL, C_FORECAST, C_PREVIOUS, C_N };

static const char *const COLS[C_N] = {"Date",   "Time",   "Currency", "Event",
                                      "Impact", "Actual", "Forecast", "Previous"};

/* ---- one row ---- */

static int parse_date(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return -1;
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1] || *y < 1970 || *y > 2200)
        return -1;
    if (*m == 2 && *d == 29 && !((*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0))
        return -1;
    return 0;
}

/* "9:30pm" -> minutes after midnight; -1 when it is not a clock time. */
static int parse_clock(const char *s)
{
    int h = 0, mi = 0, i = 0;
    if (!isdigit((unsigned char)s[i]))
        return -1;
    while (isdigit((unsigned char)s[i]) && i < 2)
        h = h * 10 + (s[i++] - '0');
    if (s[i++] != ':' || !isdigit((unsigned char)s[i]) || !isdigit((unsigned char)s[i + 1]))
        return -1;
    mi = (s[i] - '0') * 10 + (s[i + 1] - '0');
    i += 2;
    int pm;
    if (!strcasecmp(s + i, "am"))
        pm = 0;
    else if (!strcasecmp(s + i, "pm"))
        pm = 1;
    else
        return -1;
    if (h < 1 || h > 12 || mi > 59)
        return -1;
    return ((h % 12) + (pm ? 12 : 0)) * 60 + mi;
}

/* The non-times a calendar writes for events without a time of day. */
static int is_untimed(const char *s)
{
    static const char *const MONTHS[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (!strcasecmp(s, "All Day") || !strcasecmp(s, "Tentative"))
        return 1;
    if (!strncasecmp(s, "Day ", 4) && isdigit((unsigned char)s[4]) && !s[5])
        return 1;
    for (int m = 0; m < 12; m++)
        if (!strncasecmp(s, MONTHS[m], 3) && !strcasecmp(s + 3, " Data"))
            return 1;
    return 0;
}

int tt_calendar_row_parse(const char *const *f, int nf, const int cols[8], int utc_offset_min,
                          tt_calendar_event *out, tt_err *err)
{
    memset(out, 0, sizeof *out);
    for (int c = 0; c < C_N; c++)
        if (cols[c] >= nf)
            return tt_err_set(err, TT_EINVAL, "%d fields, the header has more", nf);
    const char *date = f[cols[C_DATE]], *time = f[cols[C_TIME]], *ccy = f[cols[C_CCY]];
    const char *event = f[cols[C_EVENT]], *impact = f[cols[C_IMPACT]];
    int y, m, d;
    if (parse_date(date, &y, &m, &d))
        return tt_err_set(err, TT_EINVAL, "Date: '%.20s' is not YYYY-MM-DD", date);
    int minutes = parse_clock(time);
    if (minutes >= 0) {
        out->timed = 1;
        out->time = tt_ts_from_civil(y, m, d, 0, 0, 0, 0) +
                    (int64_t)(minutes - utc_offset_min) * TT_NS_PER_MIN;
    } else if (is_untimed(time)) {
        out->timed = 0;
        out->time = tt_ts_from_civil(y, m, d, 0, 0, 0, 0);
    } else {
        return tt_err_set(err, TT_EINVAL,
                          "Time: '%.20s' is neither h:mmam/pm nor All Day, Tentative, Day N, "
                          "<Mon> Data",
                          time);
    }
    snprintf(out->time_text, sizeof out->time_text, "%s", time);
    if (!strcasecmp(ccy, "All"))
        memcpy(out->currency, TT_CURRENCY_ALL, 4);
    else if (tt_currency_code(ccy) && strlen(ccy) == 3)
        for (int i = 0; i < 4; i++)
            out->currency[i] = (char)toupper((unsigned char)ccy[i]);
    else
        return tt_err_set(err, TT_EINVAL, "Currency: '%.20s' is not a currency code", ccy);
    if (!*event)
        return tt_err_set(err, TT_EINVAL, "Event: empty");
    if (strlen(event) >= sizeof out->event)
        return tt_err_set(err, TT_EINVAL, "Event: longer than %d bytes",
                          (int)sizeof out->event - 1);
    memcpy(out->event, event, strlen(event) + 1);
    if ((out->impact = tt_impact_parse(impact)) < 0)
        return tt_err_set(err, TT_EINVAL,
                          "Impact: '%.20s' is not High, Medium, Low or Non-economic", impact);
    tt_calendar_value *figs[3] = {&out->actual, &out->forecast, &out->previous};
    for (int k = 0; k < 3; k++) {
        int c = cols[C_ACTUAL + k];
        if (c < 0)
            continue;
        if (tt_calendar_value_parse(f[c], figs[k], err)) {
            tt_err_prefix(err, "%s: ", COLS[C_ACTUAL + k]);
            return TT_EINVAL;
        }
    }
    return TT_OK;
}

/* ---- the file ---- */

#define MAX_FIELDS 16

/* Split one line (s[0..n), modified in place) into fields. Returns the count,
 * or -1 for an unterminated quote or too many fields. */
static int split_line(char *s, size_t n, char **f)
{
    int nf = 0;
    size_t i = 0;
    for (;;) {
        if (nf == MAX_FIELDS)
            return -1;
        char *w = s + i;
        f[nf++] = w;
        if (i < n && s[i] == '"') {
            i++;
            for (;;) {
                if (i >= n)
                    return -1;
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        *w++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                *w++ = s[i++];
            }
            if (i < n && s[i] != ',')
                return -1;
        } else {
            while (i < n && s[i] != ',')
                *w++ = s[i++];
        }
        int more = i < n; /* on a comma */
        *w = '\0';
        i++;
        if (!more)
            return nf;
    }
}

typedef struct cal_item {
    tt_ts ts;
    uint64_t line;
    uint64_t hash;
    char *json;
    uint32_t len;
} cal_item;

static int item_cmp(const void *a, const void *b)
{
    const cal_item *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

typedef struct cal_run {
    const tt_calendar_import_opts *o;
    tt_calendar_import_stats *st;
    cal_item *items;
    size_t n, cap;
    tt_err first_bad;
    int nheader; /* fields of the header row */
} cal_run;

static void bad_row(cal_run *r, uint64_t line, const char *why)
{
    char msg[1200];
    snprintf(msg, sizeof msg, "%s:%llu: %s", r->o->file, (unsigned long long)line, why);
    if (!r->st->bad)
        tt_err_set(&r->first_bad, TT_EINVAL, "%s", msg);
    r->st->bad++;
    if (r->o->report)
        r->o->report(r->o->ctx, msg);
}

static int header_cols(char **f, int nf, int cols[C_N], tt_err *err, const char *file)
{
    for (int c = 0; c < C_N; c++) {
        cols[c] = -1;
        for (int i = 0; i < nf; i++)
            if (!strcasecmp(f[i], COLS[c]))
                cols[c] = i;
        if (cols[c] < 0 && c < C_ACTUAL)
            return tt_err_set(err, TT_EFORMAT, "%s:1: the header has no '%s' column", file,
                              COLS[c]);
    }
    return TT_OK;
}

static int add_row(cal_run *r, char **f, int nf, const int cols[C_N], uint64_t line)
{
    tt_calendar_event ev;
    tt_err e;
    if (tt_calendar_row_parse((const char *const *)f, nf, cols, r->o->utc_offset_min, &ev, &e)) {
        bad_row(r, line, e.msg);
        return TT_OK;
    }
    snprintf(ev.source, sizeof ev.source, "%s", r->o->source ? r->o->source : "forexfactory");
    char buf[1024];
    size_t len = tt_calendar_encode(&ev, buf, sizeof buf);
    if (!len) {
        bad_row(r, line, "the event does not fit a calendar message");
        return TT_OK;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        cal_item *v = realloc(r->items, cap * sizeof *v);
        if (!v)
            return TT_ENOMEM;
        r->items = v;
        r->cap = cap;
    }
    cal_item *it = &r->items[r->n];
    if (!(it->json = malloc(len)))
        return TT_ENOMEM;
    memcpy(it->json, buf, len);
    it->len = (uint32_t)len;
    it->ts = ev.time;
    it->line = line;
    it->hash = XXH3_64bits(buf, len);
    r->n++;
    tt_calendar_import_stats *st = r->st;
    st->events++;
    st->untimed += !ev.timed;
    st->by_impact[ev.impact]++;
    const tt_calendar_value *figs[3] = {&ev.actual, &ev.forecast, &ev.previous};
    for (int k = 0; k < 3; k++)
        st->text_figures += figs[k]->text[0] && !figs[k]->has;
    return TT_OK;
}

static int parse_file(cal_run *r, char *text, size_t size, tt_err *err)
{
    int cols[C_N];
    uint64_t line = 0;
    size_t pos = 0;
    while (pos < size) {
        size_t end = pos;
        while (end < size && text[end] != '\n')
            end++;
        size_t n = end - pos;
        if (n && text[pos + n - 1] == '\r')
            n--;
        line++;
        char *f[MAX_FIELDS];
        int nf = split_line(text + pos, n, f);
        pos = end + 1;
        if (line == 1) {
            if (nf < 0)
                return tt_err_set(err, TT_EFORMAT, "%s:1: cannot read the header", r->o->file);
            int rc = header_cols(f, nf, cols, err, r->o->file);
            if (rc)
                return rc;
            r->nheader = nf;
            continue;
        }
        if (n == 0)
            continue; /* a blank line (the file's end) */
        r->st->rows++;
        if (nf < 0) {
            bad_row(r, line, "unterminated quote or more than 16 fields");
            continue;
        }
        if (nf != r->nheader) {
            char why[96];
            snprintf(why, sizeof why, "%d fields, the header has %d", nf, r->nheader);
            bad_row(r, line, why);
            continue;
        }
        int rc = add_row(r, f, nf, cols, line);
        if (rc)
            return tt_err_set(err, rc, "out of memory (calendar)");
    }
    if (line == 0)
        return tt_err_set(err, TT_EFORMAT, "%s: empty file (no header)", r->o->file);
    return TT_OK;
}

static int read_file(const char *path, char **out, size_t *size, tt_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot open", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return tt_err_set(err, TT_ENOMEM, "out of memory (reading %s)", path);
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return tt_err_set(err, TT_EIO, "%s: read error", path);
    }
    *out = buf;
    *size = n;
    return TT_OK;
}

/* Mark the items already on the tape (hash = 0 afterwards means "present"),
 * and refuse new items older than the stream's last event. */
static int match_tape(cal_run *r, const char *stream, tt_ts last, tt_err *err)
{
    const char *syms[2] = {stream, NULL};
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.symbols = syms;
    q.kinds = 1u << TT_STREAM_BLOB;
    q.from = r->items[0].ts;
    tt_tape_reader *rd;
    int rc = tt_tape_reader_open(&rd, r->o->tape, &q, NULL, err);
    if (rc)
        return rc;
    tt_event ev;
    size_t i = 0;
    while ((rc = tt_tape_reader_next(rd, &ev, err)) == 1) {
        if (ev.kind != TT_EV_EXTERNAL || !ev.u.blob.len)
            continue;
        uint64_t h = XXH3_64bits(ev.u.blob.data, ev.u.blob.len);
        while (i < r->n && r->items[i].ts < ev.ts)
            i++;
        for (size_t j = i; j < r->n && r->items[j].ts == ev.ts; j++)
            if (r->items[j].json && r->items[j].hash == h && r->items[j].len == ev.u.blob.len &&
                !memcmp(r->items[j].json, ev.u.blob.data, ev.u.blob.len)) {
                free(r->items[j].json);
                r->items[j].json = NULL; /* present */
                r->st->present++;
                break;
            }
    }
    tt_tape_reader_close(rd);
    if (rc < 0)
        return rc;
    for (size_t j = 0; j < r->n; j++)
        if (r->items[j].json && r->items[j].ts < last) {
            char t[48], l[48];
            tt_ts_format(r->items[j].ts, t, sizeof t, 0);
            tt_ts_format(last, l, sizeof l, 0);
            return tt_err_set(err, TT_EORDER,
                              "%s:%llu: an event at %s is older than the end of stream '%s' "
                              "on the tape (%s): nothing written (import older files first, "
                              "or into another stream)",
                              r->o->file, (unsigned long long)r->items[j].line, t, stream, l);
        }
    return TT_OK;
}

static int write_tape(cal_run *r, tt_err *err)
{
    const char *stream = r->o->stream ? r->o->stream : TT_CALENDAR_STREAM;
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    if (strlen(stream) >= sizeof d.symbol)
        return tt_err_set(err, TT_EINVAL, "stream name '%s' is too long", stream);
    memcpy(d.symbol, stream, strlen(stream) + 1);
    d.kind = TT_STREAM_BLOB;
    uint64_t seq = 0;
    tt_tape_info info;
    int rc = tt_tape_info_read(r->o->tape, &info, NULL);
    if (rc == TT_OK) {
        for (uint32_t i = 0; i < info.nstreams; i++) {
            const tt_stream_info *s = &info.streams[i];
            if (s->desc.kind == TT_STREAM_BLOB && !strcmp(s->desc.symbol, stream) && s->events) {
                seq = s->events;
                rc = r->n ? match_tape(r, stream, s->last, err) : TT_OK;
            }
        }
        tt_tape_info_free(&info);
        if (rc)
            return rc;
    }
    tt_tape_writer *w;
    if ((rc = tt_tape_writer_open(&w, r->o->tape, &d, NULL, err)))
        return rc;
    for (size_t i = 0; i < r->n && !rc; i++) {
        const cal_item *it = &r->items[i];
        if (!it->json)
            continue;
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.ts = ev.ts_init = it->ts;
        ev.seq = ++seq;
        ev.kind = TT_EV_EXTERNAL;
        ev.cls = TT_CLS_EXTERNAL;
        ev.u.blob.type = TT_EXT_ECONOMIC_CALENDAR;
        ev.u.blob.len = it->len;
        ev.u.blob.data = (const uint8_t *)it->json;
        tt_calendar_event c;
        if (tt_calendar_decode(it->json, it->len, &c, NULL) == TT_OK && c.actual.has)
            ev.u.blob.value = c.actual.value;
        if ((rc = tt_tape_writer_append(w, &ev, err)) == TT_OK)
            r->st->written++;
    }
    int crc = tt_tape_writer_close(w, rc ? NULL : err);
    return rc ? rc : crc;
}

int tt_calendar_import(const tt_calendar_import_opts *o, tt_calendar_import_stats *st,
                       tt_err *err)
{
    memset(st, 0, sizeof *st);
    if (!o->file)
        return tt_err_set(err, TT_EINVAL, "calendar import: no file");
    cal_run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.st = st;
    char *text = NULL;
    size_t size = 0;
    int rc = read_file(o->file, &text, &size, err);
    if (rc)
        return rc;
    rc = parse_file(&r, text, size, err);
    free(text);
    if (rc == TT_OK && r.n) {
        qsort(r.items, r.n, sizeof *r.items, item_cmp);
        st->first = r.items[0].ts;
        st->last = r.items[r.n - 1].ts;
    }
    if (rc == TT_OK && o->tape)
        rc = write_tape(&r, err);
    for (size_t i = 0; i < r.n; i++)
        free(r.items[i].json);
    free(r.items);
    if (rc == TT_OK && st->bad)
        return tt_err_set(err, TT_EPARTIAL, "%llu bad row(s), the first: %s",
                          (unsigned long long)st->bad, r.first_bad.msg);
    return rc;
}

/* ---- external streams of a tape ---- */

int tt_external_reader_open(tt_tape_reader **r, const char *tape, const char *const *streams,
                            tt_ts from, tt_ts to, tt_err *err)
{
    *r = NULL;
    tt_tape_info info;
    int rc = tt_tape_info_read(tape, &info, err);
    if (rc)
        return rc;
    for (const char *const *s = streams; *s && !rc; s++) {
        int found = 0;
        for (uint32_t i = 0; i < info.nstreams && !found; i++)
            found = info.streams[i].desc.kind == TT_STREAM_BLOB &&
                    !strcmp(info.streams[i].desc.symbol, *s);
        if (!found)
            rc = tt_err_set(err, TT_ENOTFOUND,
                            "%s: no external stream '%s' on the tape (import one with "
                            "`ticktape import calendar FILE --tape %s --stream %s`)",
                            tape, *s, tape, *s);
    }
    tt_tape_info_free(&info);
    if (rc)
        return rc;
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.symbols = streams;
    q.kinds = 1u << TT_STREAM_BLOB;
    q.from = from;
    q.to = to;
    return tt_tape_reader_open(r, tape, &q, NULL, err);
}

int tt_external_schedule_load(tt_news *news, const char *tape, const char *const *streams,
                              tt_err *err)
{
    tt_tape_reader *r;
    int rc = tt_external_reader_open(&r, tape, streams, 0, 0, err);
    if (rc)
        return rc;
    tt_event ev;
    while ((rc = tt_tape_reader_next(r, &ev, err)) == 1)
        if (tt_news_add_event(news, &ev) < 0) {
            rc = tt_err_set(err, TT_ENOMEM, "out of memory (news schedule)");
            break;
        }
    tt_tape_reader_close(r);
    return rc < 0 ? rc : TT_OK;
}
