/*
 * ticktape reports: the HDF5 series file.
 *
 * How this works: one group per table, one 1-D dataset per column (int64,
 * little-endian), so pandas, h5py or MATLAB read any column without knowing a
 * compound layout:
 *
 *   /equity/{ts, balance, equity, margin, exposure, position}
 *   /trades/{id, symbol, side, qty, open_ts, open_price, close_ts,
 *            close_price, pnl, commission, swap, net, close_reason}
 *   attributes on /: name, fingerprint, currency, minor_per_unit, events
 *
 * Times are UTC ns, prices instrument points, money minor units: the exact
 * integers of the run. Object modification times are switched off (HDF5 would
 * otherwise stamp the wall clock into the file), so the same run gives the
 * same bytes. HDF5's own error printing is silenced inside H5E_BEGIN_TRY; a
 * failing call is reported by name in err.
 */
#include "report_internal.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct h5w {
    hid_t file, dcpl, gcpl;
    const char *path;
    tt_err *err;
    int rc;
} h5w;

static int fail(h5w *w, const char *what)
{
    if (w->rc == TT_OK)
        w->rc = tt_err_set(w->err, TT_EIO, "%s: HDF5: %s failed", w->path, what);
    return w->rc;
}

static void column(h5w *w, hid_t group, const char *name, const int64_t *v, size_t n)
{
    if (w->rc != TT_OK)
        return;
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    if (space < 0) {
        fail(w, "H5Screate_simple");
        return;
    }
    hid_t ds = H5Dcreate2(group, name, H5T_STD_I64LE, space, H5P_DEFAULT, w->dcpl, H5P_DEFAULT);
    if (ds < 0) {
        fail(w, name);
    } else {
        if (n && H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
            fail(w, name);
        H5Dclose(ds);
    }
    H5Sclose(space);
}

static void attr_str(h5w *w, const char *name, const char *value)
{
    if (w->rc != TT_OK)
        return;
    size_t len = strlen(value ? value : "");
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len ? len : 1);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(w->file, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, len ? value : "") < 0)
        fail(w, name);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    H5Tclose(t);
}

static void attr_i64(h5w *w, const char *name, int64_t value)
{
    if (w->rc != TT_OK)
        return;
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(w->file, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, H5T_NATIVE_INT64, &value) < 0)
        fail(w, name);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
}

/* Gather one int64 field of n records (stride bytes apart) and write it. */
static void field(h5w *w, hid_t g, const char *name, const void *base, size_t stride, size_t off,
                  size_t size, size_t n, int64_t *scratch)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)base + i * stride + off;
        if (size == 8) {
            int64_t v;
            memcpy(&v, p, 8);
            scratch[i] = v;
        } else if (size == 4) {
            uint32_t v;
            memcpy(&v, p, 4);
            scratch[i] = v;
        } else {
            scratch[i] = *(const int8_t *)p;
        }
    }
    column(w, g, name, scratch, n);
}

#define FIELD(g, name, arr, type, member, n, scratch)                                           \
    field(&w, g, name, arr, sizeof(type), offsetof(type, member), sizeof(((type *)0)->member), \
          n, scratch)

int tt_report_hdf5(const tt_report_input *in, const char *path, tt_err *err)
{
    h5w w = {.path = path, .err = err, .rc = TT_OK};
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    size_t nmax = in->nequity > in->ntrades ? in->nequity : in->ntrades;
    int64_t *scratch = malloc((nmax ? nmax : 1) * sizeof *scratch);
    if (!scratch)
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);

    H5E_BEGIN_TRY
    {
        hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
        w.file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
        H5Pclose(fcpl);
        w.dcpl = H5Pcreate(H5P_DATASET_CREATE);
        w.gcpl = H5Pcreate(H5P_GROUP_CREATE);
        if (w.file < 0) {
            fail(&w, "H5Fcreate");
        } else {
            H5Pset_obj_track_times(w.dcpl, 0);
            H5Pset_obj_track_times(w.gcpl, 0);
            char fp[33];
            tt_fingerprint_hex(in->fingerprint, fp);
            attr_str(&w, "name", in->name ? in->name : "");
            attr_str(&w, "fingerprint", fp);
            attr_str(&w, "currency", in->currency ? in->currency : "USD");
            attr_i64(&w, "minor_per_unit", tt_report_minor(in));
            attr_i64(&w, "events", (int64_t)in->events);

            hid_t g = H5Gcreate2(w.file, "equity", H5P_DEFAULT, w.gcpl, H5P_DEFAULT);
            if (g < 0) {
                fail(&w, "H5Gcreate2 equity");
            } else {
                size_t n = in->nequity;
                const tt_equity_point *e = in->equity;
                FIELD(g, "ts", e, tt_equity_point, ts, n, scratch);
                FIELD(g, "balance", e, tt_equity_point, balance, n, scratch);
                FIELD(g, "equity", e, tt_equity_point, equity, n, scratch);
                FIELD(g, "margin", e, tt_equity_point, margin, n, scratch);
                FIELD(g, "exposure", e, tt_equity_point, exposure, n, scratch);
                FIELD(g, "position", e, tt_equity_point, position, n, scratch);
                H5Gclose(g);
            }
            g = H5Gcreate2(w.file, "trades", H5P_DEFAULT, w.gcpl, H5P_DEFAULT);
            if (g < 0) {
                fail(&w, "H5Gcreate2 trades");
            } else {
                size_t n = in->ntrades;
                const tt_trade_record *t = in->trades;
                FIELD(g, "id", t, tt_trade_record, id, n, scratch);
                FIELD(g, "symbol", t, tt_trade_record, symbol, n, scratch);
                FIELD(g, "side", t, tt_trade_record, side, n, scratch);
                FIELD(g, "qty", t, tt_trade_record, qty, n, scratch);
                FIELD(g, "open_ts", t, tt_trade_record, open_ts, n, scratch);
                FIELD(g, "open_price", t, tt_trade_record, open_price, n, scratch);
                FIELD(g, "close_ts", t, tt_trade_record, close_ts, n, scratch);
                FIELD(g, "close_price", t, tt_trade_record, close_price, n, scratch);
                FIELD(g, "pnl", t, tt_trade_record, pnl, n, scratch);
                FIELD(g, "commission", t, tt_trade_record, commission, n, scratch);
                FIELD(g, "swap", t, tt_trade_record, swap, n, scratch);
                FIELD(g, "net", t, tt_trade_record, net, n, scratch);
                FIELD(g, "close_reason", t, tt_trade_record, close_reason, n, scratch);
                H5Gclose(g);
            }
            if (H5Fclose(w.file) < 0)
                fail(&w, "H5Fclose");
        }
        H5Pclose(w.dcpl);
        H5Pclose(w.gcpl);
    }
    H5E_END_TRY;
    free(scratch);
    if (w.rc != TT_OK) {
        unlink(tmp);
        return w.rc;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return tt_err_set(err, TT_EIO, "%s: cannot rename into place", path);
    }
    return TT_OK;
}
