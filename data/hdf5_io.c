/*
 * HDF5 export and import (serial HDF5 C API).
 *
 * How this works. The layout (see hdf5_io.h and docs/hdf5-layout.md) must
 * satisfy two readers at once. h5py wants one dataset per column; pandas'
 * "fixed" frame format (what pandas.read_hdf loads without PyTables' table
 * metadata, which is pickled Python and cannot be written from C) wants a
 * group with attributes pandas_type="frame", ndim, nblocks, axis0 (column
 * names), axis1 (row index) and, per block, block<i>_items and
 * block<i>_values. Blocks need not be consolidated by dtype, so each column
 * is its own one-column block, and block<i>_values is an HDF5 hard link to
 * the named column dataset: one copy of the data, two names. A 1-D block is
 * read by pandas as a single column. The ts column carries
 * value_type="datetime64", so pandas shows times as datetime64[ns] while
 * h5py sees the int64 nanoseconds.
 *
 * Writing: the rows of each stream are buffered per column (BATCH rows) and
 * appended to chunked, extendible datasets, so memory stays bounded however
 * long the export. The index, column names and attributes are written when
 * the file is closed, once the row counts are known.
 *
 * Reading walks /SYMBOL/STREAM groups, checks every column has the same
 * length and reads BATCH rows at a time through hyperslabs.
 *
 * HDF5 prints its own error stack by default; every entry point turns that
 * off for its duration (and restores the previous handler) and reports
 * through tt_err instead.
 */
#include "hdf5_io.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BATCH 65536
#define CHUNK 16384
#define MAX_COLS 12

enum ctype { CT_I64, CT_F64, CT_F32, CT_U32, CT_I8 };

typedef struct colspec {
    const char *name;
    uint8_t type;
    uint8_t datetime;
} colspec;

static const colspec QUOTE_COLS[] = {
    {"ts", CT_I64, 1},         {"bid", CT_F64, 0},        {"ask", CT_F64, 0},
    {"bid_volume", CT_F32, 0}, {"ask_volume", CT_F32, 0}, {"bid_points", CT_I64, 0},
    {"ask_points", CT_I64, 0}};
static const colspec TRADE_COLS[] = {{"ts", CT_I64, 1},
                                     {"price", CT_F64, 0},
                                     {"size", CT_F64, 0},
                                     {"aggressor", CT_I8, 0},
                                     {"price_points", CT_I64, 0}};
static const colspec BAR_COLS[] = {
    {"ts", CT_I64, 1},          {"open", CT_F64, 0},        {"high", CT_F64, 0},
    {"low", CT_F64, 0},         {"close", CT_F64, 0},       {"volume", CT_F64, 0},
    {"ticks", CT_U32, 0},       {"open_points", CT_I64, 0}, {"high_points", CT_I64, 0},
    {"low_points", CT_I64, 0},  {"close_points", CT_I64, 0}};

/* The documented columns (docs/hdf5-layout.md): 7 for quotes, 5 for trades, 11 for bars. */
_Static_assert(sizeof QUOTE_COLS / sizeof QUOTE_COLS[0] == 7,
               "quote columns: docs/hdf5-layout.md");
_Static_assert(sizeof TRADE_COLS / sizeof TRADE_COLS[0] == 5,
               "trade columns: docs/hdf5-layout.md");
_Static_assert(sizeof BAR_COLS / sizeof BAR_COLS[0] == 11, "bar columns: docs/hdf5-layout.md");
/* Column buffers are ct_size() bytes a row and handed to HDF5 as the native type. */
_Static_assert(sizeof(double) == 8 && sizeof(float) == 4,
               "ct_size: the native double and float are HDF5's float64 and float32");

static size_t ct_size(int t)
{
    switch (t) {
    case CT_I64: case CT_F64: return 8;
    case CT_F32: case CT_U32: return 4;
    default: return 1;
    }
}

static hid_t ct_file_type(int t)
{
    switch (t) {
    case CT_I64: return H5T_STD_I64LE;
    case CT_F64: return H5T_IEEE_F64LE;
    case CT_F32: return H5T_IEEE_F32LE;
    case CT_U32: return H5T_STD_U32LE;
    default: return H5T_STD_I8LE;
    }
}

static hid_t ct_mem_type(int t)
{
    switch (t) {
    case CT_I64: return H5T_NATIVE_INT64;
    case CT_F64: return H5T_NATIVE_DOUBLE;
    case CT_F32: return H5T_NATIVE_FLOAT;
    case CT_U32: return H5T_NATIVE_UINT32;
    default: return H5T_NATIVE_INT8;
    }
}

static const char *side_name(int side)
{
    return side == TT_SIDE_ASK ? "ask" : side == TT_SIDE_MID ? "mid" : "bid";
}

static int side_parse(const char *s)
{
    if (!strcmp(s, "bid")) return TT_SIDE_BID;
    if (!strcmp(s, "ask")) return TT_SIDE_ASK;
    if (!strcmp(s, "mid")) return TT_SIDE_MID;
    return -1;
}

/* Silence HDF5's own error printing for the duration of one call. */
typedef struct h5quiet {
    H5E_auto2_t fn;
    void *data;
} h5quiet;

static void quiet_on(h5quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void quiet_off(const h5quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->fn, q->data);
}

static int attr_str(hid_t obj, const char *name, const char *value)
{
    size_t len = strlen(value);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len ? len : 1);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, t, len ? value : "") < 0 ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

static int attr_i64(hid_t obj, const char *name, int64_t v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, H5T_NATIVE_INT64, &v) < 0 ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

/* A fixed-length string attribute into buf; -1 when missing or not a string. */
static int attr_read_str(hid_t obj, const char *name, char *buf, size_t bufsize)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a);
    int rc = -1;
    if (H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0) {
        size_t n = H5Tget_size(t);
        if (n < bufsize) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, n);
            H5Tset_strpad(mt, H5T_STR_NULLPAD);
            memset(buf, 0, bufsize);
            if (H5Aread(a, mt, buf) >= 0)
                rc = 0;
            H5Tclose(mt);
        }
    }
    H5Tclose(t);
    H5Aclose(a);
    return rc;
}

static int attr_read_i64(hid_t obj, const char *name, int64_t *v)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    int rc = H5Aread(a, H5T_NATIVE_INT64, v) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

/* ================================================================ writer */

typedef struct h5stream {
    tt_stream_desc d;
    const tt_instrument *ins;
    char group[64];
    hid_t grp;
    const colspec *cols;
    int ncols;
    hid_t ds[MAX_COLS];
    unsigned char *buf[MAX_COLS];
    size_t n;
    uint64_t total;
} h5stream;

struct tt_hdf5_writer {
    hid_t file;
    char path[512];
    h5stream *s;
    size_t ns, cap, last;
    uint64_t ignored;
    h5quiet quiet;
};

static int h5fail(tt_hdf5_writer *w, tt_err *err, const char *what, const char *where)
{
    return tt_err_set(err, TT_EIO, "%s: HDF5 failed to %s %s", w->path, what, where);
}

int tt_hdf5_writer_open(tt_hdf5_writer **out, const char *path, tt_err *err)
{
    *out = NULL;
    tt_hdf5_writer *w = calloc(1, sizeof *w);
    if (!w)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    snprintf(w->path, sizeof w->path, "%s", path);
    quiet_on(&w->quiet);
    w->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) {
        quiet_off(&w->quiet);
        free(w);
        return tt_err_set(err, TT_EIO, "%s: cannot create the HDF5 file", path);
    }
    attr_str(w->file, "ticktape_layout", TT_HDF5_LAYOUT);
    quiet_off(&w->quiet);
    *out = w;
    return TT_OK;
}

static hid_t make_column(hid_t grp, const colspec *c)
{
    hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = CHUNK;
    hid_t sp = H5Screate_simple(1, &dims, &maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 1);
    }
    hid_t ds = H5Dcreate2(grp, c->name, ct_file_type(c->type), sp, H5P_DEFAULT, dcpl,
                          H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    if (ds >= 0 && c->datetime)
        attr_str(ds, "value_type", "datetime64");
    return ds;
}

static int open_stream(tt_hdf5_writer *w, const tt_instrument *ins, const tt_stream_desc *d,
                       h5stream **out, tt_err *err)
{
    if (w->ns == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        h5stream *v = realloc(w->s, cap * sizeof *v);
        if (!v)
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        w->s = v;
        w->cap = cap;
    }
    h5stream *s = &w->s[w->ns];
    memset(s, 0, sizeof *s);
    s->d = *d;
    s->ins = ins;
    s->grp = -1;
    if (d->kind == TT_STREAM_QUOTE) {
        s->cols = QUOTE_COLS;
        s->ncols = (int)(sizeof QUOTE_COLS / sizeof QUOTE_COLS[0]);
        snprintf(s->group, sizeof s->group, "quotes");
    } else if (d->kind == TT_STREAM_TRADE) {
        s->cols = TRADE_COLS;
        s->ncols = (int)(sizeof TRADE_COLS / sizeof TRADE_COLS[0]);
        snprintf(s->group, sizeof s->group, "trades");
    } else {
        s->cols = BAR_COLS;
        s->ncols = (int)(sizeof BAR_COLS / sizeof BAR_COLS[0]);
        snprintf(s->group, sizeof s->group, "bars_%s_%s", tt_timeframe_name(d->tf),
                 side_name(d->side));
    }
    for (int i = 0; i < s->ncols; i++)
        s->ds[i] = -1;
    hid_t sym;
    if (H5Lexists(w->file, ins->symbol, H5P_DEFAULT) > 0)
        sym = H5Gopen2(w->file, ins->symbol, H5P_DEFAULT);
    else
        sym = H5Gcreate2(w->file, ins->symbol, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (sym < 0)
        return h5fail(w, err, "create group", ins->symbol);
    s->grp = H5Gcreate2(sym, s->group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(sym);
    if (s->grp < 0)
        return h5fail(w, err, "create group", s->group);
    for (int i = 0; i < s->ncols; i++) {
        s->ds[i] = make_column(s->grp, &s->cols[i]);
        s->buf[i] = malloc(BATCH * ct_size(s->cols[i].type));
        if (s->ds[i] < 0 || !s->buf[i]) {
            w->ns++; /* so close() releases what was made */
            return h5fail(w, err, "create dataset", s->cols[i].name);
        }
    }
    w->last = w->ns++;
    *out = s;
    return TT_OK;
}

static int flush_stream(tt_hdf5_writer *w, h5stream *s, tt_err *err)
{
    if (!s->n)
        return TT_OK;
    hsize_t start = s->total, count = s->n, size = s->total + s->n;
    for (int i = 0; i < s->ncols; i++) {
        if (H5Dset_extent(s->ds[i], &size) < 0)
            return h5fail(w, err, "extend", s->cols[i].name);
        hid_t fs = H5Dget_space(s->ds[i]);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL);
        hid_t ms = H5Screate_simple(1, &count, NULL);
        herr_t rc = H5Dwrite(s->ds[i], ct_mem_type(s->cols[i].type), ms, fs, H5P_DEFAULT,
                             s->buf[i]);
        H5Sclose(ms);
        H5Sclose(fs);
        if (rc < 0)
            return h5fail(w, err, "write", s->cols[i].name);
    }
    s->total += s->n;
    s->n = 0;
    return TT_OK;
}

#define PUT(s, col, T, v) (((T *)(s)->buf[col])[(s)->n] = (T)(v))

int tt_hdf5_writer_append(tt_hdf5_writer *w, const tt_instrument *ins, const tt_event *ev,
                          tt_err *err)
{
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "%s", ins->symbol);
    if (ev->kind == TT_EV_QUOTE) {
        d.kind = TT_STREAM_QUOTE;
    } else if (ev->kind == TT_EV_TRADE) {
        d.kind = TT_STREAM_TRADE;
    } else if (ev->kind == TT_EV_BAR) {
        d.kind = TT_STREAM_BAR;
        d.tf = ev->u.bar.tf;
        d.side = ev->u.bar.side;
    } else {
        w->ignored++;
        return TT_OK;
    }
    h5stream *s = NULL;
    if (w->ns && w->s[w->last].ins == ins && w->s[w->last].d.kind == d.kind &&
        w->s[w->last].d.tf == d.tf && w->s[w->last].d.side == d.side) {
        s = &w->s[w->last];
    } else {
        for (size_t i = 0; i < w->ns && !s; i++)
            if (w->s[i].ins == ins && w->s[i].d.kind == d.kind && w->s[i].d.tf == d.tf &&
                w->s[i].d.side == d.side) {
                s = &w->s[i];
                w->last = i;
            }
    }
    int rc;
    quiet_on(&w->quiet);
    if (!s && (rc = open_stream(w, ins, &d, &s, err))) {
        quiet_off(&w->quiet);
        return rc;
    }
    PUT(s, 0, int64_t, ev->ts);
    if (d.kind == TT_STREAM_QUOTE) {
        PUT(s, 1, double, tt_price_to_double(ins, ev->u.quote.bid));
        PUT(s, 2, double, tt_price_to_double(ins, ev->u.quote.ask));
        PUT(s, 3, float, ev->u.quote.bid_vol);
        PUT(s, 4, float, ev->u.quote.ask_vol);
        PUT(s, 5, int64_t, ev->u.quote.bid);
        PUT(s, 6, int64_t, ev->u.quote.ask);
    } else if (d.kind == TT_STREAM_TRADE) {
        PUT(s, 1, double, tt_price_to_double(ins, ev->u.trade.price));
        PUT(s, 2, double, ev->u.trade.size);
        PUT(s, 3, int8_t, ev->u.trade.aggressor);
        PUT(s, 4, int64_t, ev->u.trade.price);
    } else {
        const tt_bar *b = &ev->u.bar;
        PUT(s, 1, double, tt_price_to_double(ins, b->open));
        PUT(s, 2, double, tt_price_to_double(ins, b->high));
        PUT(s, 3, double, tt_price_to_double(ins, b->low));
        PUT(s, 4, double, tt_price_to_double(ins, b->close));
        PUT(s, 5, double, b->volume);
        PUT(s, 6, uint32_t, b->ticks);
        PUT(s, 7, int64_t, b->open);
        PUT(s, 8, int64_t, b->high);
        PUT(s, 9, int64_t, b->low);
        PUT(s, 10, int64_t, b->close);
    }
    rc = TT_OK;
    if (++s->n == BATCH)
        rc = flush_stream(w, s, err);
    quiet_off(&w->quiet);
    return rc;
}

static int write_names(hid_t grp, const char *name, const char *const *names, int n)
{
    enum { W = 24 };
    char buf[MAX_COLS][W];
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < n; i++)
        snprintf(buf[i], W, "%s", names[i]);
    hsize_t dims = (hsize_t)n;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, W);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t sp = H5Screate_simple(1, &dims, NULL);
    hid_t ds = H5Dcreate2(grp, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = ds < 0 || H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ||
                     attr_str(ds, "kind", "string")
                 ? -1
                 : 0;
    if (ds >= 0)
        H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

/* The row index (0..n-1), the column names, the blocks and the attributes. */
static int finish_stream(tt_hdf5_writer *w, h5stream *s, tt_err *err)
{
    int rc = flush_stream(w, s, err);
    if (rc)
        return rc;
    hsize_t n = s->total;
    {
        colspec ax = {"axis1", CT_I64, 0};
        hid_t ds = make_column(s->grp, &ax);
        if (ds < 0 || H5Dset_extent(ds, &n) < 0) {
            if (ds >= 0)
                H5Dclose(ds);
            return h5fail(w, err, "create", "axis1");
        }
        int64_t *idx = (int64_t *)s->buf[0]; /* reuse a column buffer: it is flushed */
        for (hsize_t start = 0; start < n; start += BATCH) {
            hsize_t count = n - start < BATCH ? n - start : BATCH;
            for (hsize_t i = 0; i < count; i++)
                idx[i] = (int64_t)(start + i);
            hid_t fs = H5Dget_space(ds);
            H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL);
            hid_t ms = H5Screate_simple(1, &count, NULL);
            herr_t hr = H5Dwrite(ds, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, idx);
            H5Sclose(ms);
            H5Sclose(fs);
            if (hr < 0) {
                H5Dclose(ds);
                return h5fail(w, err, "write", "axis1");
            }
        }
        int bad = attr_str(ds, "kind", "integer");
        H5Dclose(ds);
        if (bad)
            return h5fail(w, err, "write attributes of", "axis1");
    }
    const char *names[MAX_COLS];
    for (int i = 0; i < s->ncols; i++)
        names[i] = s->cols[i].name;
    if (write_names(s->grp, "axis0", names, s->ncols))
        return h5fail(w, err, "write", "axis0");
    char key[48];
    for (int i = 0; i < s->ncols; i++) {
        snprintf(key, sizeof key, "block%d_items", i);
        if (write_names(s->grp, key, &names[i], 1))
            return h5fail(w, err, "write", key);
        snprintf(key, sizeof key, "block%d_values", i);
        if (H5Lcreate_hard(s->grp, s->cols[i].name, s->grp, key, H5P_DEFAULT, H5P_DEFAULT) < 0)
            return h5fail(w, err, "link", key);
        snprintf(key, sizeof key, "block%d_items_variety", i);
        if (attr_str(s->grp, key, "regular"))
            return h5fail(w, err, "write attribute", key);
    }
    int bad = attr_str(s->grp, "pandas_type", "frame") ||
              attr_str(s->grp, "pandas_version", "0.15.2") ||
              attr_str(s->grp, "errors", "strict") ||
              attr_str(s->grp, "axis0_variety", "regular") ||
              attr_str(s->grp, "axis1_variety", "regular") || attr_i64(s->grp, "ndim", 2) ||
              attr_i64(s->grp, "nblocks", s->ncols) ||
              attr_str(s->grp, "ticktape_symbol", s->ins->symbol) ||
              attr_str(s->grp, "ticktape_stream",
                       s->d.kind == TT_STREAM_QUOTE   ? "quotes"
                       : s->d.kind == TT_STREAM_TRADE ? "trades"
                                                      : "bars") ||
              attr_i64(s->grp, "ticktape_points", s->ins->points) ||
              attr_i64(s->grp, "ticktape_digits", s->ins->digits);
    if (!bad && s->d.kind == TT_STREAM_BAR)
        bad = attr_str(s->grp, "ticktape_timeframe", tt_timeframe_name(s->d.tf)) ||
              attr_str(s->grp, "ticktape_side", side_name(s->d.side));
    if (bad)
        return h5fail(w, err, "write attributes of", s->group);
    return TT_OK;
}

int tt_hdf5_writer_close(tt_hdf5_writer *w, uint64_t *rows, uint64_t *ignored, tt_err *err)
{
    int rc = TT_OK;
    uint64_t total = 0;
    quiet_on(&w->quiet);
    for (size_t i = 0; i < w->ns; i++) {
        h5stream *s = &w->s[i];
        if (!rc && s->grp >= 0)
            rc = finish_stream(w, s, err);
        total += s->total;
        for (int c = 0; c < s->ncols; c++) {
            if (s->ds[c] >= 0)
                H5Dclose(s->ds[c]);
            free(s->buf[c]);
        }
        if (s->grp >= 0)
            H5Gclose(s->grp);
    }
    if (H5Fclose(w->file) < 0 && !rc)
        rc = h5fail(w, err, "close", "the file");
    quiet_off(&w->quiet);
    if (rows)
        *rows = total;
    if (ignored)
        *ignored = w->ignored;
    free(w->s);
    free(w);
    return rc;
}

int tt_hdf5_export(const char *tape_dir, const tt_tape_query *q, const tt_instruments *ins,
                   const char *out_path, tt_err *err)
{
    if (!ins)
        return tt_err_set(err, TT_EINVAL, "hdf5 export: no instrument table");
    tt_tape_reader *r;
    int rc = tt_tape_reader_open(&r, tape_dir, q, ins, err);
    if (rc)
        return rc;
    tt_hdf5_writer *w;
    if ((rc = tt_hdf5_writer_open(&w, out_path, err))) {
        tt_tape_reader_close(r);
        return rc;
    }
    tt_event ev;
    int more;
    while ((more = tt_tape_reader_next(r, &ev, err)) > 0) {
        const tt_instrument *in = tt_instruments_get(ins, ev.symbol);
        if (!in) {
            rc = tt_err_set(err, TT_ENOTFOUND, "hdf5 export: event with unknown symbol id %u",
                            ev.symbol);
            break;
        }
        if ((rc = tt_hdf5_writer_append(w, in, &ev, err)))
            break;
    }
    if (more < 0)
        rc = more;
    tt_err cerr;
    int crc = tt_hdf5_writer_close(w, NULL, NULL, &cerr);
    if (!rc && crc) {
        rc = crc;
        if (err)
            *err = cerr;
    }
    uint64_t missing = tt_tape_reader_missing(r);
    if (!rc && missing)
        rc = tt_err_set(err, TT_EPARTIAL,
                        "%s: partial: the tape is damaged and %llu events are missing from the "
                        "export (%s)", tape_dir, (unsigned long long)missing,
                        tt_tape_reader_warning(r, 0) ? tt_tape_reader_warning(r, 0) : "");
    tt_tape_reader_close(r);
    return rc;
}

/* ================================================================ reader */

typedef struct rcol {
    hid_t ds;
    int type;
    void *buf;
} rcol;

static int open_rcol(hid_t grp, const char *name, int type, uint64_t *n, rcol *c)
{
    c->ds = -1;
    c->buf = NULL;
    c->type = type;
    if (H5Lexists(grp, name, H5P_DEFAULT) <= 0)
        return -1;
    c->ds = H5Dopen2(grp, name, H5P_DEFAULT);
    if (c->ds < 0)
        return -1;
    hid_t sp = H5Dget_space(c->ds);
    hsize_t dims[2] = {0, 0};
    int nd = H5Sget_simple_extent_ndims(sp);
    if (nd == 1)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    hid_t t = H5Dget_type(c->ds);
    H5T_class_t cls = H5Tget_class(t);
    H5Tclose(t);
    int want_float = type == CT_F32 || type == CT_F64;
    if (nd != 1 || (want_float ? cls != H5T_FLOAT : cls != H5T_INTEGER))
        return -2;
    if (*n == UINT64_MAX)
        *n = dims[0];
    else if (*n != dims[0])
        return -3;
    c->buf = malloc(BATCH * ct_size(type));
    return c->buf ? 0 : -4;
}

static int read_rcol(rcol *c, hsize_t start, hsize_t count)
{
    hid_t fs = H5Dget_space(c->ds);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL);
    hid_t ms = H5Screate_simple(1, &count, NULL);
    herr_t rc = H5Dread(c->ds, ct_mem_type(c->type), ms, fs, H5P_DEFAULT, c->buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

static int read_stream(const char *path, hid_t grp, const char *gpath, const tt_hdf5_visitor *v,
                       tt_err *err)
{
    char symbol[TT_SYMBOL_MAX], stream[16], tfs[8] = "", sides[8] = "";
    int64_t points = 0;
    if (attr_read_str(grp, "ticktape_symbol", symbol, sizeof symbol) ||
        attr_read_str(grp, "ticktape_stream", stream, sizeof stream) ||
        attr_read_i64(grp, "ticktape_points", &points) || points <= 0)
        return tt_err_set(err, TT_EFORMAT, "%s:%s: missing or bad attribute ticktape_symbol, "
                          "ticktape_stream or ticktape_points", path, gpath);
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "%s", symbol);
    const char *names[MAX_COLS];
    int types[MAX_COLS], nc = 0;
    if (!strcmp(stream, "quotes")) {
        d.kind = TT_STREAM_QUOTE;
        const char *nm[] = {"ts", "bid_points", "ask_points", "bid_volume", "ask_volume"};
        int ty[] = {CT_I64, CT_I64, CT_I64, CT_F32, CT_F32};
        nc = 5;
        memcpy(names, nm, sizeof nm);
        memcpy(types, ty, sizeof ty);
    } else if (!strcmp(stream, "trades")) {
        d.kind = TT_STREAM_TRADE;
        const char *nm[] = {"ts", "price_points", "size", "aggressor"};
        int ty[] = {CT_I64, CT_I64, CT_F64, CT_I8};
        nc = 4;
        memcpy(names, nm, sizeof nm);
        memcpy(types, ty, sizeof ty);
    } else if (!strcmp(stream, "bars")) {
        d.kind = TT_STREAM_BAR;
        if (attr_read_str(grp, "ticktape_timeframe", tfs, sizeof tfs) ||
            attr_read_str(grp, "ticktape_side", sides, sizeof sides))
            return tt_err_set(err, TT_EFORMAT, "%s:%s: bars without ticktape_timeframe or "
                              "ticktape_side", path, gpath);
        int tf = tt_timeframe_parse(tfs), side = side_parse(sides);
        if (tf <= TT_TF_NONE || tf >= TT_TF_COUNT || side < 0)
            return tt_err_set(err, TT_EFORMAT, "%s:%s: bad timeframe '%s' or side '%s'", path,
                              gpath, tfs, sides);
        d.tf = (uint8_t)tf;
        d.side = (uint8_t)side;
        const char *nm[] = {"ts", "open_points", "high_points", "low_points", "close_points",
                            "volume", "ticks"};
        int ty[] = {CT_I64, CT_I64, CT_I64, CT_I64, CT_I64, CT_F64, CT_U32};
        nc = 7;
        memcpy(names, nm, sizeof nm);
        memcpy(types, ty, sizeof ty);
    } else {
        return tt_err_set(err, TT_EFORMAT, "%s:%s: unknown ticktape_stream '%s'", path, gpath,
                          stream);
    }
    rcol c[MAX_COLS];
    uint64_t n = UINT64_MAX;
    int rc = TT_OK, opened = 0;
    for (int i = 0; i < nc && !rc; i++, opened++) {
        int r = open_rcol(grp, names[i], types[i], &n, &c[i]);
        if (r)
            rc = tt_err_set(err, r == -4 ? TT_ENOMEM : TT_EFORMAT, "%s:%s/%s: %s", path, gpath,
                            names[i],
                            r == -1   ? "missing dataset"
                            : r == -2 ? "not a 1-D dataset of the right type"
                            : r == -3 ? "length differs from ts"
                                      : "out of memory");
    }
    if (!rc && v->stream)
        rc = v->stream(v->ctx, symbol, &d, points, n, err);
    for (uint64_t start = 0; !rc && start < n; start += BATCH) {
        hsize_t count = n - start < BATCH ? n - start : BATCH;
        for (int i = 0; i < nc && !rc; i++)
            if (read_rcol(&c[i], start, count))
                rc = tt_err_set(err, TT_EIO, "%s:%s/%s: read failed", path, gpath, names[i]);
        for (hsize_t i = 0; !rc && i < count; i++) {
            tt_event ev;
            memset(&ev, 0, sizeof ev);
            ev.ts = ((int64_t *)c[0].buf)[i];
            if (d.kind == TT_STREAM_QUOTE) {
                ev.kind = TT_EV_QUOTE;
                ev.u.quote.bid = ((int64_t *)c[1].buf)[i];
                ev.u.quote.ask = ((int64_t *)c[2].buf)[i];
                ev.u.quote.bid_vol = ((float *)c[3].buf)[i];
                ev.u.quote.ask_vol = ((float *)c[4].buf)[i];
            } else if (d.kind == TT_STREAM_TRADE) {
                ev.kind = TT_EV_TRADE;
                ev.u.trade.price = ((int64_t *)c[1].buf)[i];
                ev.u.trade.size = ((double *)c[2].buf)[i];
                ev.u.trade.aggressor = ((int8_t *)c[3].buf)[i];
            } else {
                ev.kind = TT_EV_BAR;
                ev.u.bar.open = ((int64_t *)c[1].buf)[i];
                ev.u.bar.high = ((int64_t *)c[2].buf)[i];
                ev.u.bar.low = ((int64_t *)c[3].buf)[i];
                ev.u.bar.close = ((int64_t *)c[4].buf)[i];
                ev.u.bar.volume = ((double *)c[5].buf)[i];
                ev.u.bar.ticks = ((uint32_t *)c[6].buf)[i];
                ev.u.bar.tf = d.tf;
                ev.u.bar.side = d.side;
            }
            ev.ts_init = ev.ts;
            ev.cls = tt_event_class_of(ev.kind);
            if (v->event)
                rc = v->event(v->ctx, symbol, &ev, start + i, err);
        }
    }
    for (int i = 0; i < opened; i++) {
        if (c[i].ds >= 0)
            H5Dclose(c[i].ds);
        free(c[i].buf);
    }
    return rc;
}

/* Name of link i of group g (sorted by name), or -1. */
static int link_name(hid_t g, hsize_t i, char *buf, size_t size)
{
    ssize_t n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf, size, H5P_DEFAULT);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int is_group(hid_t parent, const char *name)
{
    H5O_info_t info;
    if (H5Oget_info_by_name(parent, name, &info, H5P_DEFAULT) < 0)
        return 0;
    return info.type == H5O_TYPE_GROUP;
}

int tt_hdf5_read(const char *path, const tt_hdf5_visitor *v, tt_err *err)
{
    h5quiet q;
    quiet_on(&q);
    int rc = TT_OK;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        quiet_off(&q);
        return tt_err_set(err, TT_EIO, "%s: cannot open as HDF5", path);
    }
    char layout[64];
    if (attr_read_str(f, "ticktape_layout", layout, sizeof layout) ||
        strcmp(layout, TT_HDF5_LAYOUT) != 0) {
        rc = tt_err_set(err, TT_EFORMAT, "%s: not in ticktape's HDF5 layout (root attribute "
                        "ticktape_layout is not '%s'; see docs/hdf5-layout.md)",
                        path, TT_HDF5_LAYOUT);
        goto out;
    }
    H5G_info_t gi;
    if (H5Gget_info(f, &gi) < 0) {
        rc = tt_err_set(err, TT_EFORMAT, "%s: cannot list the root group", path);
        goto out;
    }
    for (hsize_t i = 0; i < gi.nlinks && !rc; i++) {
        char sym[128];
        if (link_name(f, i, sym, sizeof sym) || !is_group(f, sym))
            continue;
        hid_t sg = H5Gopen2(f, sym, H5P_DEFAULT);
        H5G_info_t si;
        if (sg < 0 || H5Gget_info(sg, &si) < 0) {
            rc = tt_err_set(err, TT_EFORMAT, "%s: cannot open group /%s", path, sym);
            if (sg >= 0)
                H5Gclose(sg);
            break;
        }
        for (hsize_t j = 0; j < si.nlinks && !rc; j++) {
            char name[128], gpath[300];
            if (link_name(sg, j, name, sizeof name) || !is_group(sg, name))
                continue;
            snprintf(gpath, sizeof gpath, "/%s/%s", sym, name);
            hid_t g = H5Gopen2(sg, name, H5P_DEFAULT);
            if (g < 0) {
                rc = tt_err_set(err, TT_EFORMAT, "%s: cannot open group %s", path, gpath);
                break;
            }
            rc = read_stream(path, g, gpath, v, err);
            H5Gclose(g);
        }
        H5Gclose(sg);
    }
out:
    H5Fclose(f);
    quiet_off(&q);
    return rc;
}

/* ================================================================ import */

typedef struct import_ctx {
    tt_import *im;
    const tt_hdf5_import_opts *o;
    const char *path;
    const tt_instrument *ins; /* NULL = skip this stream */
    char where[600];
} import_ctx;

static int imp_stream(void *ctx, const char *symbol, const tt_stream_desc *d, int64_t points,
                      uint64_t rows, tt_err *err)
{
    import_ctx *c = ctx;
    char name[64];
    tt_stream_desc_name(d, name, sizeof name);
    snprintf(c->where, sizeof c->where, "%s:/%s/%s", c->path, symbol, name);
    tt_import_set_file(c->im, c->where);
    c->ins = NULL;
    if (c->o && c->o->symbols) {
        int want = 0;
        for (const char *const *s = c->o->symbols; *s; s++)
            want |= strcasecmp(*s, symbol) == 0;
        if (!want) {
            for (uint64_t i = 0; i < rows; i++)
                tt_import_count_skipped(c->im);
            return TT_OK;
        }
    }
    const tt_instrument *ins;
    int rc = tt_instruments_require(tt_import_instruments(c->im), symbol, &ins, err);
    if (rc) {
        tt_err_prefix(err, "%s: ", c->path);
        return rc;
    }
    if (ins->points != points)
        return tt_err_set(err, TT_EINVAL, "%s: %s has %lld points per unit in the file but %lld "
                          "in the instrument table: declare it with the file's points",
                          c->path, symbol, (long long)points, (long long)ins->points);
    c->ins = ins;
    return TT_OK;
}

static int imp_event(void *ctx, const char *symbol, const tt_event *ev, uint64_t row,
                     tt_err *err)
{
    (void)symbol;
    import_ctx *c = ctx;
    if (!c->ins)
        return TT_OK;
    tt_import_count_row(c->im);
    tt_event e = *ev;
    if (e.kind == TT_EV_BAR)
        return tt_import_bar(c->im, c->ins, &e, (long)row + 1, err);
    return tt_import_tick(c->im, c->ins, &e, (long)row + 1, err);
}

int tt_hdf5_import(tt_import *im, const char *path, const tt_hdf5_import_opts *o, tt_err *err)
{
    import_ctx c;
    memset(&c, 0, sizeof c);
    c.im = im;
    c.o = o;
    c.path = path;
    tt_hdf5_visitor v = {imp_stream, imp_event, &c};
    int rc = tt_hdf5_read(path, &v, err);
    return rc ? rc : tt_import_end_file(im, err);
}
