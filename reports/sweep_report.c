/*
 * The result table of a sweep: CSV, JSON, HDF5 (the page is sweep_html.c).
 *
 * Every writer walks the same rows in job order and formats numbers with the
 * "C" printf formats, so the bytes depend only on the results. Files are
 * built in memory (HDF5 excepted), written to "<path>.tmp" and renamed into
 * place, so a failure never leaves a half-written table under the real name.
 *
 * The default ranking (tt_sweep_default_figure) is the Sharpe ratio when the
 * runs are long enough to have one (docs/metrics.md, the minimum-data rule),
 * else the net P&L: a ranking of two-day runs by a Sharpe ratio from two
 * daily returns would be noise sorted.
 */
#include "sweep_report_internal.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"

int64_t tt_sweep_mpu(const tt_sweep_table *t)
{
    return t->minor_per_unit > 0 ? t->minor_per_unit : 100;
}

const char *tt_sweep_default_figure(const tt_sweep_table *t, int *fallback)
{
    if (fallback)
        *fallback = 0;
    if (t->figure && tt_figure_find(t->figure))
        return t->figure;
    for (size_t i = 0; i < t->plan->njobs; i++)
        if (t->runs[i].status == TT_RUN_OK && isfinite(t->runs[i].m.sharpe))
            return "sharpe";
    if (fallback)
        *fallback = 1;
    return "net_pnl";
}

static int mkdirs(const char *dir, tt_err *err)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return tt_err_set(err, TT_EIO, "%s: cannot create: %s", p, strerror(errno));
        *c = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return tt_err_set(err, TT_EIO, "%s: cannot create: %s", p, strerror(errno));
    return TT_OK;
}

int tt_sweep_write_file(const char *path, const tt_buf *b, tt_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot write: %s", path, strerror(errno));
    size_t w = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int bad = fclose(f) != 0 || w != b->len;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return tt_err_set(err, TT_EIO, "%s: write failed: %s", path, strerror(errno));
    }
    return TT_OK;
}

/* A figure as text: money in currency units, counts whole, ratios with
 * `digits` significant digits (12 in the tables, 5 on the page); "" for
 * non-finite. */
void tt_sweep_fig_text(const tt_sweep_table *t, const tt_figure *f, const tt_run_summary *r,
                       char *buf, size_t n, int digits)
{
    double v = tt_figure_value(f, &r->m);
    if (f->kind == TT_FIG_MONEY) {
        tt_money m;
        memcpy(&m, (const char *)&r->m + f->offset, sizeof m);
        tt_report_money(m, tt_sweep_mpu(t), buf, n);
    } else if (f->kind == TT_FIG_COUNT) {
        snprintf(buf, n, "%.0f", v);
    } else if (f->kind == TT_FIG_MINOR && isfinite(v)) {
        snprintf(buf, n, "%.*g", digits, v / (double)tt_sweep_mpu(t));
    } else if (isfinite(v)) {
        snprintf(buf, n, "%.*g", digits, v);
    } else {
        buf[0] = 0;
    }
}

static int csv_field(tt_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\n\r"))
        return tt_buf_append(b, s, strlen(s));
    int rc = tt_buf_append(b, "\"", 1);
    for (const char *c = s; *c && !rc; c++)
        rc = *c == '"' ? tt_buf_append(b, "\"\"", 2) : tt_buf_append(b, c, 1);
    return rc ? rc : tt_buf_append(b, "\"", 1);
}

int tt_sweep_csv(const tt_sweep_table *t, const char *path, tt_err *err)
{
    const tt_sweep_plan *p = t->plan;
    size_t nf;
    const tt_figure *figs = tt_figures(&nf);
    tt_buf b = {0};
    int rc = tt_buf_printf(&b, "index,run_id,status");
    for (size_t k = 0; k < p->nparams && !rc; k++) {
        rc = tt_buf_append(&b, ",", 1);
        rc = rc ? rc : csv_field(&b, p->params[k].key);
    }
    rc = rc ? rc : tt_buf_printf(&b, ",fingerprint,events");
    for (size_t k = 0; k < nf && !rc; k++)
        rc = tt_buf_printf(&b, ",%s", figs[k].name);
    rc = rc ? rc : tt_buf_printf(&b, ",error\n");
    for (size_t i = 0; i < p->njobs && !rc; i++) {
        const tt_run_summary *r = &t->runs[i];
        const tt_param *pp = tt_sweep_job_params(p, i);
        char hex[33];
        tt_fingerprint_hex(r->fp, hex);
        rc = tt_buf_printf(&b, "%zu,%s,%s", i, r->run_id, tt_run_status_name(r->status));
        for (size_t k = 0; k < p->nparams && !rc; k++) {
            rc = tt_buf_append(&b, ",", 1);
            rc = rc ? rc : csv_field(&b, pp[k].value);
        }
        int ok = r->status == TT_RUN_OK;
        rc = rc ? rc : tt_buf_printf(&b, ",%s,%llu", ok ? hex : "", (unsigned long long)r->events);
        for (size_t k = 0; k < nf && !rc; k++) {
            char v[64] = "";
            if (ok)
                tt_sweep_fig_text(t, &figs[k], r, v, sizeof v, 12);
            rc = tt_buf_printf(&b, ",%s", v);
        }
        rc = rc ? rc : tt_buf_append(&b, ",", 1);
        rc = rc ? rc : csv_field(&b, ok ? "" : r->error);
        rc = rc ? rc : tt_buf_append(&b, "\n", 1);
    }
    if (rc) {
        tt_buf_free(&b);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    }
    rc = tt_sweep_write_file(path, &b, err);
    tt_buf_free(&b);
    return rc;
}

static int json_table(const tt_sweep_table *t, tt_buf *b)
{
    const tt_sweep_plan *p = t->plan;
    size_t nf;
    const tt_figure *figs = tt_figures(&nf);
    int rc = tt_buf_append(b, "{\"name\":", 8);
    rc = rc ? rc : tt_buf_json_string(b, t->name ? t->name : "");
    rc = rc ? rc : tt_buf_printf(b, ",\"runs_total\":%zu,\"params\":[", p->njobs);
    for (size_t k = 0; k < p->nparams && !rc; k++) {
        if (k)
            rc = tt_buf_append(b, ",", 1);
        rc = rc ? rc : tt_buf_json_string(b, p->params[k].key);
    }
    rc = rc ? rc : tt_buf_append(b, "],\"runs\":[", 10);
    for (size_t i = 0; i < p->njobs && !rc; i++) {
        const tt_run_summary *r = &t->runs[i];
        const tt_param *pp = tt_sweep_job_params(p, i);
        char hex[33];
        tt_fingerprint_hex(r->fp, hex);
        int ok = r->status == TT_RUN_OK;
        rc = tt_buf_printf(b, "%s{\"index\":%zu,\"run_id\":", i ? "," : "", i);
        rc = rc ? rc : tt_buf_json_string(b, r->run_id); /* escaped, wherever it came from */
        rc = rc ? rc : tt_buf_printf(b, ",\"status\":\"%s\",\"params\":{",
                                     tt_run_status_name(r->status));
        for (size_t k = 0; k < p->nparams && !rc; k++) {
            if (k)
                rc = tt_buf_append(b, ",", 1);
            rc = rc ? rc : tt_buf_json_string(b, pp[k].key);
            rc = rc ? rc : tt_buf_append(b, ":", 1);
            rc = rc ? rc : tt_buf_json_string(b, pp[k].value);
        }
        rc = rc ? rc : tt_buf_append(b, "}", 1);
        if (ok) {
            rc = rc ? rc : tt_buf_printf(b, ",\"fingerprint\":\"%s\",\"events\":%llu", hex,
                                         (unsigned long long)r->events);
            for (size_t k = 0; k < nf && !rc; k++) {
                char v[64];
                tt_sweep_fig_text(t, &figs[k], r, v, sizeof v, 12);
                rc = tt_buf_printf(b, ",\"%s\":%s", figs[k].name, v[0] ? v : "null");
            }
        } else {
            rc = rc ? rc : tt_buf_append(b, ",\"error\":", 9);
            rc = rc ? rc : tt_buf_json_string(b, r->error);
        }
        rc = rc ? rc : tt_buf_append(b, "}", 1);
    }
    return rc ? rc : tt_buf_append(b, "]}", 2);
}

int tt_sweep_json_write(const tt_sweep_table *t, FILE *f)
{
    tt_buf b = {0};
    int rc = json_table(t, &b);
    if (rc == 0)
        fwrite(b.data, 1, b.len, f);
    tt_buf_free(&b);
    return rc;
}

int tt_sweep_json(const tt_sweep_table *t, const char *path, tt_err *err)
{
    tt_buf b = {0};
    int rc = json_table(t, &b);
    rc = rc ? rc : tt_buf_append(&b, "\n", 1);
    if (rc) {
        tt_buf_free(&b);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    }
    rc = tt_sweep_write_file(path, &b, err);
    tt_buf_free(&b);
    return rc;
}

/* ---- HDF5 ---- */

typedef struct h5w {
    hid_t group;
    hid_t dcpl; /* no object timestamps: the same table gives the same bytes */
    const char *path;
    const char *failed;
} h5w;

static void h5_f64(h5w *w, const char *name, const double *v, size_t n)
{
    if (w->failed)
        return;
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(w->group, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT,
                                        w->dcpl, H5P_DEFAULT);
    if (ds < 0 || (n && H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0))
        w->failed = name;
    if (ds >= 0)
        H5Dclose(ds);
    if (sp >= 0)
        H5Sclose(sp);
}

static void h5_i64(h5w *w, const char *name, const int64_t *v, size_t n)
{
    if (w->failed)
        return;
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(w->group, name, H5T_STD_I64LE, sp, H5P_DEFAULT,
                                        w->dcpl, H5P_DEFAULT);
    if (ds < 0 || (n && H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0))
        w->failed = name;
    if (ds >= 0)
        H5Dclose(ds);
    if (sp >= 0)
        H5Sclose(sp);
}

/* Fixed-length strings: n strings of width bytes each (NUL padded). */
static void h5_str(h5w *w, const char *name, const char *v, size_t n, size_t width)
{
    if (w->failed)
        return;
    hid_t ty = H5Tcopy(H5T_C_S1);
    H5Tset_size(ty, width);
    H5Tset_strpad(ty, H5T_STR_NULLPAD);
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(w->group, name, ty, sp, H5P_DEFAULT, w->dcpl,
                                        H5P_DEFAULT);
    if (ds < 0 || (n && H5Dwrite(ds, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0))
        w->failed = name;
    if (ds >= 0)
        H5Dclose(ds);
    if (sp >= 0)
        H5Sclose(sp);
    H5Tclose(ty);
}

int tt_sweep_hdf5(const tt_sweep_table *t, const char *path, tt_err *err)
{
    const tt_sweep_plan *p = t->plan;
    size_t n = p->njobs, nf;
    const tt_figure *figs = tt_figures(&nf);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    size_t sw = 256; /* error strings are cut here */
    double *f64 = calloc(n ? n : 1, sizeof *f64);
    int64_t *i64 = calloc(n ? n : 1, sizeof *i64);
    char *str = calloc((n ? n : 1), sw);
    if (!f64 || !i64 || !str) {
        free(f64), free(i64), free(str);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    }
    h5w w = {-1, -1, path, NULL};
    hid_t file = -1, gcpl = -1;
    H5E_BEGIN_TRY
    {
        w.dcpl = H5Pcreate(H5P_DATASET_CREATE);
        gcpl = H5Pcreate(H5P_GROUP_CREATE);
        if (w.dcpl >= 0)
            H5Pset_obj_track_times(w.dcpl, 0);
        if (gcpl >= 0)
            H5Pset_obj_track_times(gcpl, 0);
        file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        if (file < 0 || w.dcpl < 0 || gcpl < 0)
            w.failed = "H5Fcreate";
        else
            w.group = H5Gcreate2(file, "runs", H5P_DEFAULT, gcpl, H5P_DEFAULT);
        if (!w.failed && w.group < 0)
            w.failed = "H5Gcreate2 runs";
        for (size_t i = 0; i < n; i++)
            i64[i] = (int64_t)i;
        h5_i64(&w, "index", i64, n);
        for (size_t i = 0; i < n; i++)
            i64[i] = (int64_t)t->runs[i].events;
        h5_i64(&w, "events", i64, n);
        memset(str, 0, n * sw);
        for (size_t i = 0; i < n; i++)
            strncpy(str + i * 64, t->runs[i].run_id, 64);
        h5_str(&w, "run_id", str, n, 64);
        for (size_t i = 0; i < n; i++)
            strncpy(str + i * 8, tt_run_status_name(t->runs[i].status), 8);
        h5_str(&w, "status", str, n, 8);
        for (size_t i = 0; i < n; i++) {
            char hex[33];
            tt_fingerprint_hex(t->runs[i].fp, hex);
            memcpy(str + i * 32, hex, 32);
        }
        h5_str(&w, "fingerprint", str, n, 32);
        memset(str, 0, n * sw);
        for (size_t i = 0; i < n; i++)
            strncpy(str + i * sw, t->runs[i].status == TT_RUN_OK ? "" : t->runs[i].error, sw);
        h5_str(&w, "error", str, n, sw);
        for (size_t k = 0; k < p->nparams; k++) {
            char name[TT_PARAM_KEY_MAX + 8];
            snprintf(name, sizeof name, "param.%s", p->params[k].key);
            memset(str, 0, n * sw);
            for (size_t i = 0; i < n; i++)
                strncpy(str + i * TT_PARAM_VALUE_MAX, tt_sweep_job_params(p, i)[k].value,
                        TT_PARAM_VALUE_MAX);
            h5_str(&w, name, str, n, TT_PARAM_VALUE_MAX);
        }
        for (size_t k = 0; k < nf; k++) {
            for (size_t i = 0; i < n; i++) {
                double v = t->runs[i].status == TT_RUN_OK ? tt_figure_value(&figs[k], &t->runs[i].m)
                                                          : NAN;
                if (figs[k].kind == TT_FIG_MONEY || figs[k].kind == TT_FIG_MINOR)
                    v /= (double)tt_sweep_mpu(t);
                f64[i] = v;
            }
            h5_f64(&w, figs[k].name, f64, n);
        }
        if (w.group >= 0)
            H5Gclose(w.group);
        if (w.dcpl >= 0)
            H5Pclose(w.dcpl);
        if (gcpl >= 0)
            H5Pclose(gcpl);
        if (file >= 0 && H5Fclose(file) < 0 && !w.failed)
            w.failed = "H5Fclose";
    }
    H5E_END_TRY;
    free(f64), free(i64), free(str);
    if (w.failed) {
        remove(tmp);
        return tt_err_set(err, TT_EIO, "%s: HDF5 write failed at %s", path, w.failed);
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return tt_err_set(err, TT_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    }
    return TT_OK;
}

/* ---- the best run ---- */

int tt_sweep_better(const tt_figure *f, double a, double b)
{
    return f->better == TT_BETTER_HIGHER ? a > b : a < b;
}

long tt_sweep_best(const tt_sweep_table *t, const char *figure)
{
    const tt_figure *f = tt_figure_find(figure ? figure : tt_sweep_default_figure(t, NULL));
    if (!f)
        return -1;
    long best = -1;
    double bv = 0;
    for (size_t i = 0; i < t->plan->njobs; i++) {
        if (t->runs[i].status != TT_RUN_OK)
            continue;
        double v = tt_figure_value(f, &t->runs[i].m);
        if (isnan(v))
            continue;
        if (best < 0 || tt_sweep_better(f, v, bv)) {
            best = (long)i;
            bv = v;
        }
    }
    return best;
}

int tt_sweep_report_write_all(const tt_sweep_table *t, const char *dir, tt_err *err)
{
    int rc = mkdirs(dir, err);
    char path[4200];
    if (!rc) {
        snprintf(path, sizeof path, "%s/sweep.csv", dir);
        rc = tt_sweep_csv(t, path, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/sweep.json", dir);
        rc = tt_sweep_json(t, path, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/sweep.h5", dir);
        rc = tt_sweep_hdf5(t, path, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/sweep.html", dir);
        rc = tt_sweep_html(t, path, err);
    }
    return rc;
}
