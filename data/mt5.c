/*
 * MetaTrader 5 export import.
 *
 * How this works: bytes pass through a small decoder that recognises the
 * byte order mark (UTF-16LE as the terminal writes, or UTF-8) and turns
 * UTF-16 code units into single bytes (anything outside ASCII becomes '?',
 * which then fails to parse as a number and is reported as a bad row; MT5's
 * numeric exports are pure ASCII). The bytes go to the shared libcsv record
 * reader with a tab delimiter. The header decides between ticks and bars and
 * maps names to positions. Ticks carry the last bid and ask forward because
 * MT5 leaves a side empty when it did not change.
 */
#include "mt5.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "csv_import.h"

enum { C_DATE, C_TIME, C_BID, C_ASK, C_LAST, C_VOLUME, C_OPEN, C_HIGH, C_LOW, C_CLOSE,
       C_TICKVOL, C_VOL, C_SPREAD, C_NCOLS };
static const char *const COLS[C_NCOLS] = {"<DATE>", "<TIME>", "<BID>", "<ASK>",
                                          "<LAST>", "<VOLUME>", "<OPEN>", "<HIGH>",
                                          "<LOW>", "<CLOSE>", "<TICKVOL>", "<VOL>",
                                          "<SPREAD>"};

enum { K_NONE = 0, K_TICKS, K_BARS };

typedef struct mt5_ctx {
    tt_import *im;
    const tt_mt5_opts *o;
    const char *name;
    int kind;
    int ncols;
    int idx[C_NCOLS];
    tt_price bid, ask;
    int have_bid, have_ask;
    /* byte decoding */
    int started;  /* BOM looked at */
    int utf16;
    int have_odd;
    unsigned char odd;
    char *dec;
    size_t dec_cap;
    tt_csv_reader *r;
} mt5_ctx;

static int header(mt5_ctx *c, const tt_csv_row *row, tt_err *err)
{
    for (int k = 0; k < C_NCOLS; k++)
        c->idx[k] = -1;
    for (int i = 0; i < row->nfields; i++)
        for (int k = 0; k < C_NCOLS; k++)
            if (strcmp(row->field[i], COLS[k]) == 0)
                c->idx[k] = i;
    c->ncols = row->nfields;
    if (c->idx[C_DATE] >= 0 && c->idx[C_BID] >= 0 && c->idx[C_ASK] >= 0)
        c->kind = K_TICKS;
    else if (c->idx[C_DATE] >= 0 && c->idx[C_OPEN] >= 0 && c->idx[C_HIGH] >= 0 &&
             c->idx[C_LOW] >= 0 && c->idx[C_CLOSE] >= 0)
        c->kind = K_BARS;
    else
        return tt_err_set(err, TT_EFORMAT,
                          "%s:%ld: not a MetaTrader 5 export: the first line must be the "
                          "header <DATE> <TIME> <BID> <ASK> ... or <DATE> <TIME> <OPEN> <HIGH> "
                          "<LOW> <CLOSE> ...",
                          c->name, row->line);
    if (c->kind == K_BARS && (c->o->tf == TT_TF_NONE || c->o->tf >= TT_TF_COUNT))
        return tt_err_set(err, TT_EINVAL, "%s: a bar export needs --timeframe (MT5 does not "
                          "write it in the file)", c->name);
    return TT_OK;
}

static const char *fld(const mt5_ctx *c, const tt_csv_row *row, int k)
{
    return c->idx[k] >= 0 ? row->field[c->idx[k]] : "";
}

/* The ask bar of a bid bar just written: each price plus <SPREAD>, which is
 * in MT5 points (10^-d, d the decimals MT5 writes the prices with),
 * converted to the instrument's points. A spread that is not a whole number
 * of the instrument's points, or negative, is a bad row (the bid bar stays). */
static int ask_bar(mt5_ctx *c, const tt_csv_row *row, tt_event *ev, tt_err *err)
{
    const tt_instrument *ins = c->o->instrument;
    const char *sp = fld(c, row, C_SPREAD), *open = fld(c, row, C_OPEN);
    const char *dot = strchr(open, '.');
    int64_t spread, scale = 1;
    for (const char *p = dot ? dot + 1 : ""; *p >= '0' && *p <= '9' && scale < INT64_C(1) << 50;
         p++)
        scale *= 10;
    if (tt_csv_int64_parse(sp, &spread) || spread < 0 || spread > INT32_MAX ||
        (spread * ins->points) % scale) {
        tt_import_bad(c->im, row->line, "bad <SPREAD> '%.20s' (a whole number of %s's points "
                      "is needed; the bid bar was kept)", sp, ins->symbol);
        return TT_OK;
    }
    tt_price d = spread * ins->points / scale;
    tt_bar *bar = &ev->u.bar;
    bar->open += d;
    bar->high += d;
    bar->low += d;
    bar->close += d;
    bar->side = TT_SIDE_ASK;
    return tt_import_bar(c->im, ins, ev, row->line, err);
}

static int mt5_row(void *ctx, const tt_csv_row *row, tt_err *err)
{
    mt5_ctx *c = ctx;
    if (row->nfields == 1 && row->len[0] == 0)
        return TT_OK;
    if (c->kind == K_NONE)
        return header(c, row, err);
    tt_import *im = c->im;
    const tt_instrument *ins = c->o->instrument;
    tt_import_count_row(im);
    if (row->nfields != c->ncols) {
        tt_import_bad(im, row->line, "expected %d tab-separated fields as in the header, "
                      "found %d", c->ncols, row->nfields);
        return TT_OK;
    }
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    if (tt_csv_datetime_parse(fld(c, row, C_DATE), fld(c, row, C_TIME), &ev.ts)) {
        tt_import_bad(im, row->line, "bad <DATE>/<TIME> '%.20s %.20s'", fld(c, row, C_DATE),
                      fld(c, row, C_TIME));
        return TT_OK;
    }
    ev.ts -= c->o->utc_offset;
    tt_err fe;
    if (c->kind == K_TICKS) {
        const char *b = fld(c, row, C_BID), *a = fld(c, row, C_ASK), *l = fld(c, row, C_LAST);
        tt_price bid = c->bid, ask = c->ask;
        if ((*b && tt_csv_price_parse(ins, b, &bid, &fe)) ||
            (*a && tt_csv_price_parse(ins, a, &ask, &fe))) {
            tt_import_bad(im, row->line, "bad price: %s", fe.msg);
            return TT_OK;
        }
        if (!*b && !*a && *l) {
            ev.kind = TT_EV_TRADE;
            if (tt_csv_price_parse(ins, l, &ev.u.trade.price, &fe)) {
                tt_import_bad(im, row->line, "bad <LAST>: %s", fe.msg);
                return TT_OK;
            }
            const char *v = fld(c, row, C_VOLUME);
            if (*v && tt_csv_volume_parse(v, &ev.u.trade.size)) {
                tt_import_bad(im, row->line, "bad <VOLUME> '%.40s'", v);
                return TT_OK;
            }
            return tt_import_tick(im, ins, &ev, row->line, err);
        }
        if ((!*b && !c->have_bid) || (!*a && !c->have_ask)) {
            tt_import_bad(im, row->line, "tick leaves %s empty and no earlier tick gave it",
                          !*b && !c->have_bid ? "<BID>" : "<ASK>");
            return TT_OK;
        }
        c->bid = bid;
        c->ask = ask;
        c->have_bid |= *b != 0;
        c->have_ask |= *a != 0;
        ev.kind = TT_EV_QUOTE;
        ev.u.quote.bid = bid;
        ev.u.quote.ask = ask;
        return tt_import_tick(im, ins, &ev, row->line, err);
    }
    ev.kind = TT_EV_BAR;
    tt_bar *bar = &ev.u.bar;
    if (tt_csv_price_parse(ins, fld(c, row, C_OPEN), &bar->open, &fe) ||
        tt_csv_price_parse(ins, fld(c, row, C_HIGH), &bar->high, &fe) ||
        tt_csv_price_parse(ins, fld(c, row, C_LOW), &bar->low, &fe) ||
        tt_csv_price_parse(ins, fld(c, row, C_CLOSE), &bar->close, &fe)) {
        tt_import_bad(im, row->line, "bad price: %s", fe.msg);
        return TT_OK;
    }
    const char *tv = fld(c, row, C_TICKVOL), *v = fld(c, row, C_VOL);
    int64_t ticks = 0;
    if ((*tv && (tt_csv_int64_parse(tv, &ticks) || ticks < 0 || ticks > UINT32_MAX)) ||
        (*v && tt_csv_volume_parse(v, &bar->volume))) {
        tt_import_bad(im, row->line, "bad <TICKVOL> or <VOL>");
        return TT_OK;
    }
    bar->ticks = (uint32_t)ticks;
    bar->tf = c->o->tf;
    bar->side = c->o->side;
    tt_import_stats before;
    tt_import_get_stats(im, &before);
    int rc = tt_import_bar(im, ins, &ev, row->line, err);
    if (rc || c->o->side != TT_SIDE_BID || !*fld(c, row, C_SPREAD))
        return rc;
    tt_import_stats after;
    tt_import_get_stats(im, &after);
    return after.bars_written > before.bars_written ? ask_bar(c, row, &ev, err) : TT_OK;
}

static void mt5_bad(void *ctx, long line, const char *why)
{
    mt5_ctx *c = ctx;
    tt_import_count_row(c->im);
    tt_import_bad(c->im, line, "%s", why);
}

/* Decode a chunk (BOM, UTF-16LE) and feed it to the record reader. */
static int feed(mt5_ctx *c, const unsigned char *p, size_t n, tt_err *err)
{
    if (!c->started) {
        /* The first chunk is at least 3 bytes unless the whole input is shorter. */
        c->started = 1;
        if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE) {
            c->utf16 = 1;
            p += 2;
            n -= 2;
        } else if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
            p += 3;
            n -= 3;
        }
    }
    if (!c->utf16)
        return tt_csv_reader_feed(c->r, (const char *)p, n, err);
    size_t need = n / 2 + 1;
    if (need > c->dec_cap) {
        char *d = realloc(c->dec, need);
        if (!d)
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        c->dec = d;
        c->dec_cap = need;
    }
    size_t o = 0, i = 0;
    if (c->have_odd && n > 0) {
        unsigned u = c->odd | (unsigned)p[0] << 8;
        c->dec[o++] = u < 0x80 ? (char)u : '?';
        c->have_odd = 0;
        i = 1;
    }
    for (; i + 1 < n; i += 2) {
        unsigned u = p[i] | (unsigned)p[i + 1] << 8;
        c->dec[o++] = u < 0x80 && u != 0 ? (char)u : '?';
    }
    if (i < n) {
        c->odd = p[i];
        c->have_odd = 1;
    }
    return tt_csv_reader_feed(c->r, c->dec, o, err);
}

static int run(tt_import *im, const char *name, const char *path, const char *buf, size_t len,
               const tt_mt5_opts *o, tt_err *err)
{
    if (!o || !o->instrument)
        return tt_err_set(err, TT_EINVAL, "%s: an MT5 export does not name its symbol: give "
                          "--symbol", name);
    mt5_ctx c;
    memset(&c, 0, sizeof c);
    c.im = im;
    c.o = o;
    c.name = name;
    tt_import_set_file(im, name);
    int rc = tt_csv_reader_new(&c.r, '\t', mt5_row, mt5_bad, &c, err);
    if (rc)
        return rc;
    int truncated = 0;
    if (path) {
        gzFile g = gzopen(path, "rb");
        if (!g) {
            rc = tt_err_set(err, TT_EIO, "%s: cannot open", path);
        } else {
            enum { CHUNK = 1 << 17 };
            unsigned char *chunk = malloc(CHUNK);
            if (!chunk)
                rc = tt_err_set(err, TT_ENOMEM, "out of memory");
            while (chunk && !rc) {
                int n = gzread(g, chunk, CHUNK);
                int z = Z_OK;
                const char *m = n <= 0 ? gzerror(g, &z) : NULL;
                if (n < 0 || (n == 0 && z != Z_OK && z != Z_STREAM_END)) {
                    size_t pl = strlen(path);
                    if (m && strncmp(m, path, pl) == 0 && m[pl] == ':' && m[pl + 1] == ' ')
                        m += pl + 2; /* zlib prefixes the path */
                    tt_import_count_row(im);
                    tt_import_bad(im, tt_csv_reader_line(c.r), "input ends here: %s (truncated "
                                  "or damaged compressed file; the rows before were imported)",
                                  m ? m : "read error");
                    truncated = 1; /* the partial last line is not a row */
                    break;
                }
                if (n == 0)
                    break;
                rc = feed(&c, chunk, (size_t)n, err);
                tt_import_progress(im, (uint64_t)gzoffset(g));
            }
            free(chunk);
            gzclose(g);
        }
    } else {
        rc = feed(&c, (const unsigned char *)buf, len, err);
    }
    if (!rc && !truncated)
        rc = tt_csv_reader_finish(c.r, err);
    if (!rc && c.kind == K_NONE)
        rc = tt_err_set(err, TT_EFORMAT, "%s: empty file (no MT5 header)", name);
    tt_csv_reader_free(c.r);
    free(c.dec);
    return rc;
}

int tt_mt5_import_file(tt_import *im, const char *path, const tt_mt5_opts *o, tt_err *err)
{
    return run(im, path, path, NULL, 0, o, err);
}

int tt_mt5_import_mem(tt_import *im, const char *name, const char *buf, size_t len,
                      const tt_mt5_opts *o, tt_err *err)
{
    return run(im, name, NULL, buf, len, o, err);
}
