/*
 * Polygon.io import: quote flat files and aggregate bars.
 *
 * How this works: the quote files are read by the shared libcsv record reader
 * (data/csv_import.h); the header row is mapped to column positions once and
 * every later row is parsed in place. The ticker of the previous row is
 * remembered with its instrument, because flat files group rows by ticker and
 * a lookup per row would be wasted work. Aggregates are small (one response
 * holds at most 50,000 bars), so the whole JSON is parsed with the strict
 * reader in data/json.h; numbers keep their text, so prices are exact.
 */
#include "polygon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>


#include "csv_import.h"
#include "json.h"

enum { P_TICKER, P_BID, P_ASK, P_TS, P_NCOLS };

typedef struct quotes_ctx {
    tt_import *im;
    const tt_polygon_opts *o;
    const char *name;
    int idx[P_NCOLS];
    int ncols;
    int have_header;
    char last_ticker[64];
    const tt_instrument *last_ins; /* NULL with last_ticker set = skipped ticker */
    int last_valid;
} quotes_ctx;

static int selected(const tt_polygon_opts *o, const tt_instrument *ins)
{
    if (!o || !o->symbols)
        return 1;
    for (const char *const *s = o->symbols; *s; s++)
        if (strcasecmp(*s, ins->symbol) == 0)
            return 1;
    return 0;
}

static int quotes_header(quotes_ctx *c, const tt_csv_row *row, tt_err *err)
{
    static const char *const names[P_NCOLS] = {"ticker", "bid_price", "ask_price",
                                               "participant_timestamp"};
    for (int k = 0; k < P_NCOLS; k++)
        c->idx[k] = -1;
    for (int i = 0; i < row->nfields; i++)
        for (int k = 0; k < P_NCOLS; k++)
            if (strcmp(row->field[i], names[k]) == 0)
                c->idx[k] = i;
    for (int k = 0; k < P_NCOLS; k++)
        if (c->idx[k] < 0)
            return tt_err_set(err, TT_EFORMAT,
                              "%s:%ld: header has no '%s' column (a Polygon quotes flat file "
                              "starts with ticker,ask_exchange,ask_price,bid_exchange,bid_price,"
                              "participant_timestamp)",
                              c->name, row->line, names[k]);
    c->ncols = row->nfields;
    c->have_header = 1;
    return TT_OK;
}

static int quotes_row(void *ctx, const tt_csv_row *row, tt_err *err)
{
    quotes_ctx *c = ctx;
    if (row->nfields == 1 && row->len[0] == 0)
        return TT_OK;
    if (!c->have_header)
        return quotes_header(c, row, err);
    tt_import_count_row(c->im);
    if (row->nfields != c->ncols) {
        tt_import_bad(c->im, row->line, "expected %d fields as in the header, found %d",
                      c->ncols, row->nfields);
        return TT_OK;
    }
    const char *ticker = row->field[c->idx[P_TICKER]];
    const tt_instrument *ins;
    if (c->last_valid && strcmp(ticker, c->last_ticker) == 0) {
        ins = c->last_ins;
    } else {
        if (row->len[c->idx[P_TICKER]] >= sizeof c->last_ticker) {
            tt_import_bad(c->im, row->line, "ticker too long");
            return TT_OK;
        }
        const tt_instruments *t = tt_import_instruments(c->im);
        if (c->o && c->o->symbols) {
            ins = tt_instruments_find(t, ticker);
            if (ins && !selected(c->o, ins))
                ins = NULL;
        } else {
            int rc = tt_instruments_require(t, ticker, &ins, err);
            if (rc) {
                tt_err_prefix(err, "%s:%ld: ", c->name, row->line);
                return rc;
            }
        }
        snprintf(c->last_ticker, sizeof c->last_ticker, "%s", ticker);
        c->last_ins = ins;
        c->last_valid = 1;
    }
    if (!ins) {
        tt_import_count_skipped(c->im);
        return TT_OK;
    }
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_QUOTE;
    int64_t ts;
    if (tt_csv_int64_parse(row->field[c->idx[P_TS]], &ts) || ts < 0) {
        tt_import_bad(c->im, row->line, "bad participant_timestamp '%.40s'",
                      row->field[c->idx[P_TS]]);
        return TT_OK;
    }
    ev.ts = ts;
    tt_err fe;
    if (tt_csv_price_parse(ins, row->field[c->idx[P_BID]], &ev.u.quote.bid, &fe) ||
        tt_csv_price_parse(ins, row->field[c->idx[P_ASK]], &ev.u.quote.ask, &fe)) {
        tt_import_bad(c->im, row->line, "bad price: %s", fe.msg);
        return TT_OK;
    }
    return tt_import_tick(c->im, ins, &ev, row->line, err);
}

static void quotes_bad(void *ctx, long line, const char *why)
{
    quotes_ctx *c = ctx;
    tt_import_count_row(c->im);
    tt_import_bad(c->im, line, "%s", why);
}

static void quotes_progress(void *ctx, uint64_t bytes)
{
    tt_import_progress(ctx, bytes);
}

static int quotes_run(tt_import *im, const char *name, const char *path, const char *buf,
                      size_t len, const tt_polygon_opts *o, tt_err *err)
{
    quotes_ctx c;
    memset(&c, 0, sizeof c);
    c.im = im;
    c.o = o;
    c.name = name;
    tt_import_set_file(im, name);
    tt_csv_reader *r;
    int rc = tt_csv_reader_new(&r, ',', quotes_row, quotes_bad, &c, err);
    if (rc)
        return rc;
    if (path) {
        tt_csv_reader_set_progress(r, quotes_progress, im);
        rc = tt_csv_reader_feed_file(r, path, err);
    } else {
        rc = tt_csv_reader_feed(r, buf, len, err);
        if (!rc)
            rc = tt_csv_reader_finish(r, err);
    }
    if (rc == TT_EPARTIAL) {
        tt_import_count_row(im);
        tt_import_bad(im, tt_csv_reader_line(r), "input ends here: %s (truncated or damaged "
                      "compressed file; the rows before were imported)",
                      err ? err->msg : "read error");
        rc = TT_OK;
    }
    if (!rc && !c.have_header)
        rc = tt_err_set(err, TT_EFORMAT, "%s: no CSV header row: a Polygon quotes flat file "
                        "starts with ticker,ask_exchange,ask_price,bid_exchange,bid_price,"
                        "participant_timestamp (aggregates are .json: --kind aggs)", name);
    tt_csv_reader_free(r);
    return rc;
}

int tt_polygon_quotes_file(tt_import *im, const char *path, const tt_polygon_opts *o,
                           tt_err *err)
{
    return quotes_run(im, path, path, NULL, 0, o, err);
}

int tt_polygon_quotes_mem(tt_import *im, const char *name, const char *buf, size_t len,
                          const tt_polygon_opts *o, tt_err *err)
{
    return quotes_run(im, name, NULL, buf, len, o, err);
}

/* ---------------------------------------------------------------- aggregates */

static int json_price(const tt_json *doc, const tt_json_node *n, const tt_instrument *ins,
                      tt_price *out, tt_err *err)
{
    char txt[48];
    if (!n)
        return tt_err_set(err, TT_EFORMAT, "missing");
    if (tt_json_number_text(doc, n, txt, sizeof txt, err))
        return TT_EFORMAT;
    if (strpbrk(txt, "eE")) {
        /* Exponent notation is not decimal text; such a price must still be a
         * whole number of points, or it is refused rather than rounded. */
        double v = strtod(txt, NULL);
        if (!(fabs(v * (double)ins->points) < 9e18))
            return tt_err_set(err, TT_EFORMAT, "%s is out of range", txt);
        tt_price p = tt_price_from_double(ins, v);
        if (tt_price_to_double(ins, p) != v)
            return tt_err_set(err, TT_EFORMAT, "%s is not a whole number of points", txt);
        *out = p;
        return TT_OK;
    }
    return tt_csv_price_parse(ins, txt, out, err);
}

static int aggs_run(tt_import *im, const char *name, const char *buf, size_t len,
                    const tt_polygon_opts *o, tt_err *err)
{
    if (!o || o->tf == TT_TF_NONE || o->tf >= TT_TF_COUNT)
        return tt_err_set(err, TT_EINVAL, "Polygon aggregates need a timeframe (--timeframe)");
    tt_import_set_file(im, name);
    tt_json doc;
    int rc = tt_json_parse(&doc, buf, len, err);
    if (rc) {
        tt_err_prefix(err, "%s: ", name);
        return rc;
    }
    const tt_json_node *root = tt_json_root(&doc);
    const tt_instrument *ins = o->instrument;
    const tt_json_node *status = tt_json_get(&doc, root, "status");
    char sbuf[256];
    if (status && !tt_json_string(&doc, status, sbuf, sizeof sbuf, NULL) &&
        strcmp(sbuf, "ERROR") == 0) {
        const tt_json_node *e = tt_json_get(&doc, root, "error");
        if (!e || tt_json_string(&doc, e, sbuf, sizeof sbuf, NULL))
            strcpy(sbuf, "(no message)");
        rc = tt_err_set(err, TT_EFORMAT, "%s: the response is an error: %s", name, sbuf);
        goto out;
    }
    const tt_json_node *tk = tt_json_get(&doc, root, "ticker");
    if (tk) {
        char ticker[64];
        if ((rc = tt_json_string(&doc, tk, ticker, sizeof ticker, err))) {
            tt_err_prefix(err, "%s: \"ticker\": ", name);
            goto out;
        }
        const tt_instrument *named;
        if ((rc = tt_instruments_require(tt_import_instruments(im), ticker, &named, err))) {
            tt_err_prefix(err, "%s: ", name);
            goto out;
        }
        if (ins && ins->id != named->id) {
            rc = tt_err_set(err, TT_EINVAL, "%s: the file is for %s, not %s", name,
                            named->symbol, ins->symbol);
            goto out;
        }
        ins = named;
    }
    if (!ins) {
        rc = tt_err_set(err, TT_EINVAL, "%s: no \"ticker\" in the response: name the "
                        "instrument with --symbol", name);
        goto out;
    }
    const tt_json_node *res = tt_json_get(&doc, root, "results");
    if (!res) {
        /* An empty range: Polygon leaves results out when resultsCount is 0. */
        const tt_json_node *cnt = tt_json_get(&doc, root, "resultsCount");
        int64_t n;
        if (cnt && !tt_json_int64(&doc, cnt, &n, NULL) && n == 0)
            goto out;
        rc = tt_err_set(err, TT_EFORMAT, "%s: no \"results\" array (is this a v2 aggregates "
                        "response?)", name);
        goto out;
    }
    if (res->type != TT_JSON_ARRAY) {
        rc = tt_err_set(err, TT_EFORMAT, "%s:%u: \"results\" is not an array", name, res->line);
        goto out;
    }
    long i = 0;
    for (const tt_json_node *r = tt_json_first(&doc, res); r; r = tt_json_next(&doc, r), i++) {
        tt_import_count_row(im);
        long line = (long)r->line;
        if (r->type != TT_JSON_OBJECT) {
            tt_import_bad(im, line, "results[%ld] is not an object", i);
            continue;
        }
        tt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = TT_EV_BAR;
        tt_bar *b = &ev.u.bar;
        tt_err fe;
        int64_t t;
        const char *key = "t";
        if (tt_json_int64(&doc, tt_json_get(&doc, r, "t"), &t, &fe) || t < 0 ||
            t > INT64_MAX / TT_NS_PER_MS)
            goto bad;
        ev.ts = t * TT_NS_PER_MS;
        key = "o";
        if (json_price(&doc, tt_json_get(&doc, r, "o"), ins, &b->open, &fe))
            goto bad;
        key = "h";
        if (json_price(&doc, tt_json_get(&doc, r, "h"), ins, &b->high, &fe))
            goto bad;
        key = "l";
        if (json_price(&doc, tt_json_get(&doc, r, "l"), ins, &b->low, &fe))
            goto bad;
        key = "c";
        if (json_price(&doc, tt_json_get(&doc, r, "c"), ins, &b->close, &fe))
            goto bad;
        key = "v";
        const tt_json_node *v = tt_json_get(&doc, r, "v");
        if (v && (tt_json_double(&doc, v, &b->volume, &fe) || !(b->volume >= 0)))
            goto bad;
        key = "n";
        const tt_json_node *n = tt_json_get(&doc, r, "n");
        int64_t nt = 0;
        if (n && (tt_json_int64(&doc, n, &nt, &fe) || nt < 0 || nt > UINT32_MAX))
            goto bad;
        b->ticks = (uint32_t)nt;
        b->tf = o->tf;
        b->side = o->side;
        if ((rc = tt_import_bar(im, ins, &ev, line, err)))
            goto out;
        continue;
    bad:
        tt_import_bad(im, line, "results[%ld].%s: %s", i, key,
                      tt_json_get(&doc, r, key) ? "not a valid value" : "missing");
    }
out:
    tt_json_free(&doc);
    return rc;
}

int tt_read_whole_file(const char *path, size_t max, char **out, size_t *len, tt_err *err)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return tt_err_set(err, TT_EIO, "%s: cannot open", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    int rc = TT_OK;
    while (buf) {
        if (n == cap) {
            if (cap >= max) {
                rc = tt_err_set(err, TT_EINVAL, "%s: larger than %zu bytes", path, max);
                break;
            }
            cap *= 2;
            char *b = realloc(buf, cap + 1);
            if (!b) { /* not the end of the file: say so rather than return a part */
                rc = tt_err_set(err, TT_ENOMEM, "%s: out of memory (%zu bytes)", path, cap + 1);
                break;
            }
            buf = b;
        }
        size_t want = cap - n;
        if (want > (1u << 30))
            want = 1u << 30;
        int got = gzread(g, buf + n, (unsigned)want);
        if (got < 0) {
            int z;
            rc = tt_err_set(err, TT_EFORMAT, "%s: %s", path, gzerror(g, &z));
            break;
        }
        if (got == 0) {
            int z;
            const char *m = gzerror(g, &z);
            if (z != Z_OK && z != Z_STREAM_END)
                rc = tt_err_set(err, TT_EFORMAT, "%s: %s (truncated?)", path, m);
            break;
        }
        n += (size_t)got;
    }
    gzclose(g);
    if (!buf)
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TT_OK;
}

int tt_polygon_aggs_file(tt_import *im, const char *path, const tt_polygon_opts *o, tt_err *err)
{
    char *buf;
    size_t len;
    int rc = tt_read_whole_file(path, (size_t)1 << 30, &buf, &len, err);
    if (rc)
        return rc;
    rc = aggs_run(im, path, buf, len, o, err);
    free(buf);
    return rc;
}

int tt_polygon_aggs_mem(tt_import *im, const char *name, const char *buf, size_t len,
                        const tt_polygon_opts *o, tt_err *err)
{
    return aggs_run(im, name, buf, len, o, err);
}
