/*
 * Dataset writers. Numbers are printed so they read back exactly (%.17g for
 * doubles, %.9g for float32), which is what lets the Python oracle compare to
 * 1e-9 and the parity test compare predictions bit for bit. Writes go to a
 * temporary name and are renamed, so a reader never sees half a file.
 */
#include "export.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/features.h"

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

static void put_double(FILE *f, double v)
{
    if (isnan(v))
        fputs("nan", f);
    else
        fprintf(f, "%.17g", v);
}

static int write_csv(const tt_ml_dataset *d, FILE *f, const tt_ml_export_opts *o)
{
    fputs("time", f);
    for (int j = 0; j < d->width; j++)
        fprintf(f, ",%s", tt_feature_name(d->cols[j]));
    fputs(",label", f);
    if (o->prediction)
        fputs(",prediction", f);
    fputc('\n', f);
    char ts[48];
    for (size_t i = 0; i < d->n; i++) {
        tt_ts_format(d->open_ts[i], ts, sizeof ts, 0);
        fputs(ts, f);
        const double *r = tt_ml_dataset_row(d, i);
        for (int j = 0; j < d->width; j++) {
            fputc(',', f);
            put_double(f, r[j]);
        }
        fputc(',', f);
        put_double(f, d->label ? d->label[i] : NAN);
        if (o->prediction) {
            float p = o->prediction[i];
            if (isnan(p))
                fputs(",nan", f);
            else
                fprintf(f, ",%.9g", (double)p);
        }
        if (fputc('\n', f) == EOF)
            return -1;
    }
    return 0;
}

static int h5_string_attr(hid_t obj, const char *name, const char *value)
{
    size_t len = strlen(value);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len ? len : 1);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
    int bad = a < 0 || H5Awrite(a, t, len ? value : "") < 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    H5Tclose(t);
    return bad ? -1 : 0;
}

static hid_t h5_dataset(hid_t file, hid_t dcpl, const char *name, hid_t ftype, hid_t mtype,
                        int rank, const hsize_t *dims, const void *data)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    if (space < 0)
        return -1;
    hid_t ds = H5Dcreate2(file, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int bad = ds < 0 || (dims[0] && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0);
    H5Sclose(space);
    if (bad) {
        if (ds >= 0)
            H5Dclose(ds);
        return -1;
    }
    return ds;
}

static int write_h5(const tt_ml_dataset *d, const char *tmp, const tt_ml_export_opts *o)
{
    int bad = 0;
    char *names = NULL;
    double *label = NULL;
    H5E_BEGIN_TRY
    {
        hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        if (file < 0 || dcpl < 0) {
            bad = 1;
        } else {
            H5Pset_obj_track_times(dcpl, 0);
            hsize_t n1[1] = {d->n}, n2[2] = {d->n, (hsize_t)d->width};
            size_t len = 1;
            for (int j = 0; j < d->width; j++)
                len += strlen(tt_feature_name(d->cols[j])) + 1;
            names = calloc(1, len);
            label = malloc((d->n ? d->n : 1) * sizeof *label);
            bad = !names || !label;
            for (int j = 0; !bad && j < d->width; j++) {
                if (j)
                    strcat(names, ",");
                strcat(names, tt_feature_name(d->cols[j]));
            }
            for (size_t i = 0; !bad && i < d->n; i++)
                label[i] = d->label ? d->label[i] : NAN;
            hid_t ds[5] = {-1, -1, -1, -1, -1};
            if (!bad) {
                ds[0] = h5_dataset(file, dcpl, "time", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, n1,
                                   d->open_ts);
                ds[1] = h5_dataset(file, dcpl, "close_time", H5T_STD_I64LE, H5T_NATIVE_INT64, 1,
                                   n1, d->close_ts);
                ds[2] = h5_dataset(file, dcpl, "features", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2,
                                   n2, d->x);
                ds[3] = h5_dataset(file, dcpl, "label", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, n1,
                                   label);
                if (o->prediction)
                    ds[4] = h5_dataset(file, dcpl, "prediction", H5T_IEEE_F32LE,
                                       H5T_NATIVE_FLOAT, 1, n1, o->prediction);
                bad = ds[0] < 0 || ds[1] < 0 || ds[2] < 0 || ds[3] < 0 ||
                      (o->prediction && ds[4] < 0);
                if (!bad)
                    bad = h5_string_attr(ds[2], "names", names) ||
                          h5_string_attr(file, "symbol", o->symbol ? o->symbol : "") ||
                          h5_string_attr(file, "timeframe", tt_timeframe_name(d->tf)) ||
                          h5_string_attr(file, "label", o->label_text ? o->label_text : "");
            }
            for (int k = 0; k < 5; k++)
                if (ds[k] >= 0)
                    H5Dclose(ds[k]);
        }
        if (dcpl >= 0)
            H5Pclose(dcpl);
        if (file >= 0 && H5Fclose(file) < 0)
            bad = 1;
    }
    H5E_END_TRY;
    free(names);
    free(label);
    return bad ? -1 : 0;
}

int tt_ml_export(const tt_ml_dataset *d, const char *path, const tt_ml_export_opts *o,
                 tt_err *err)
{
    int csv = ends_with(path, ".csv");
    int h5 = ends_with(path, ".h5") || ends_with(path, ".hdf5");
    if (!csv && !h5)
        return tt_err_set(err, TT_EINVAL, "%s: the output must end in .csv, .h5 or .hdf5", path);
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return tt_err_set(err, TT_EINVAL, "%s: path too long", path);
    int bad;
    if (csv) {
        FILE *f = fopen(tmp, "w");
        if (!f)
            return tt_err_set(err, TT_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        char *buf = malloc(1 << 16);
        if (buf)
            setvbuf(f, buf, _IOFBF, 1 << 16);
        bad = write_csv(d, f, o);
        if (fclose(f))
            bad = 1;
        free(buf);
    } else {
        bad = write_h5(d, tmp, o);
    }
    if (bad) {
        remove(tmp);
        return tt_err_set(err, TT_EIO, "%s: write failed", tmp);
    }
    if (rename(tmp, path))
        return tt_err_set(err, TT_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    return TT_OK;
}
