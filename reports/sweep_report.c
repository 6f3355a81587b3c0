/*
 * The result table of a sweep: CSV, JSON, HDF5, and an HTML page with a
 * heatmap.
 *
 * Every writer walks the same rows in job order and formats numbers with the
 * "C" printf formats, so the bytes depend only on the results. Files are
 * built in memory (HDF5 excepted), written to "<path>.tmp" and renamed into
 * place, so a failure never leaves a half-written table under the real name.
 *
 * The heatmap shows one figure over two parameters. When other parameters
 * vary too, several runs fall into one cell; the cell shows the best of them
 * (the question a heatmap answers is "where is the good region", and the
 * table below lists every run). Axis values are sorted numerically when they
 * are all numbers, else kept in job order. Colours run from red (worst)
 * through yellow to green (best) by rank among the defined cells (not by
 * value: one outlier would otherwise wash out the map); undefined cells are
 * grey.
 */
#include "sweep_report.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"

static int64_t mpu(const tt_sweep_table *t)
{
    return t->minor_per_unit > 0 ? t->minor_per_unit : 100;
}

static const char *figure_name(const tt_sweep_table *t)
{
    return t->figure && tt_figure_find(t->figure) ? t->figure : "sharpe";
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

static int write_file(const char *path, const tt_buf *b, tt_err *err)
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
static void fig_text(const tt_sweep_table *t, const tt_figure *f, const tt_run_summary *r,
                     char *buf, size_t n, int digits)
{
    double v = tt_figure_value(f, &r->m);
    if (f->kind == TT_FIG_MONEY) {
        tt_money m;
        memcpy(&m, (const char *)&r->m + f->offset, sizeof m);
        tt_report_money(m, mpu(t), buf, n);
    } else if (f->kind == TT_FIG_COUNT) {
        snprintf(buf, n, "%.0f", v);
    } else if (f->kind == TT_FIG_MINOR && isfinite(v)) {
        snprintf(buf, n, "%.*g", digits, v / (double)mpu(t));
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
                fig_text(t, &figs[k], r, v, sizeof v, 12);
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
    rc = write_file(path, &b, err);
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
                fig_text(t, &figs[k], r, v, sizeof v, 12);
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

void tt_sweep_json_write(const tt_sweep_table *t, FILE *f)
{
    tt_buf b = {0};
    if (json_table(t, &b) == 0)
        fwrite(b.data, 1, b.len, f);
    tt_buf_free(&b);
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
    rc = write_file(path, &b, err);
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
                    v /= (double)mpu(t);
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

/* ---- best run, heatmap, HTML ---- */

static int better(const tt_figure *f, double a, double b)
{
    return f->better == TT_BETTER_HIGHER ? a > b : a < b;
}

long tt_sweep_best(const tt_sweep_table *t, const char *figure)
{
    const tt_figure *f = tt_figure_find(figure ? figure : "sharpe");
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
        if (best < 0 || better(f, v, bv)) {
            best = (long)i;
            bv = v;
        }
    }
    return best;
}

static void html_text(tt_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': tt_buf_append(b, "&lt;", 4); break;
        case '>': tt_buf_append(b, "&gt;", 4); break;
        case '&': tt_buf_append(b, "&amp;", 5); break;
        case '"': tt_buf_append(b, "&quot;", 6); break;
        default: tt_buf_append(b, s, 1);
        }
    }
}

typedef struct axis {
    size_t k;          /* parameter position */
    const char **vals; /* distinct values */
    size_t n;
} axis;

static int num_cmp(const void *a, const void *b)
{
    double x = atof(*(const char *const *)a), y = atof(*(const char *const *)b);
    return x < y ? -1 : x > y;
}

static int is_number(const char *s)
{
    char *end;
    strtod(s, &end);
    return end != s && *end == 0;
}

static int axis_build(const tt_sweep_table *t, size_t k, axis *a)
{
    const tt_sweep_plan *p = t->plan;
    a->k = k;
    a->n = 0;
    a->vals = calloc(p->njobs ? p->njobs : 1, sizeof *a->vals);
    if (!a->vals)
        return TT_ENOMEM;
    int numeric = 1;
    for (size_t i = 0; i < p->njobs; i++) {
        const char *v = tt_sweep_job_params(p, i)[k].value;
        size_t j = 0;
        while (j < a->n && strcmp(a->vals[j], v))
            j++;
        if (j == a->n) {
            a->vals[a->n++] = v;
            numeric &= is_number(v);
        }
    }
    if (numeric)
        qsort(a->vals, a->n, sizeof *a->vals, num_cmp);
    return TT_OK;
}

static size_t axis_pos(const axis *a, const char *v)
{
    for (size_t j = 0; j < a->n; j++)
        if (!strcmp(a->vals[j], v))
            return j;
    return 0;
}

/* Red (0) -> yellow (0.5) -> green (1). */
static void colour(double u, char out[8])
{
    const int lo[3] = {215, 48, 39}, mid[3] = {254, 224, 139}, hi[3] = {26, 152, 80};
    int c[3];
    for (int i = 0; i < 3; i++) {
        double x = u < 0.5 ? lo[i] + (mid[i] - lo[i]) * (u / 0.5)
                           : mid[i] + (hi[i] - mid[i]) * ((u - 0.5) / 0.5);
        c[i] = (int)lround(x);
    }
    snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

static int heatmap_svg(const tt_sweep_table *t, const tt_figure *f, tt_buf *b)
{
    const tt_sweep_plan *p = t->plan;
    size_t kx = 0, ky = p->nparams > 1 ? 1 : 0;
    for (size_t k = 0; k < p->nparams; k++) {
        if (t->heatmap[0] && !strcmp(p->params[k].key, t->heatmap[0]))
            kx = k;
        if (t->heatmap[1] && !strcmp(p->params[k].key, t->heatmap[1]))
            ky = k;
    }
    axis ax, ay;
    if (axis_build(t, kx, &ax))
        return TT_ENOMEM;
    if (axis_build(t, ky, &ay)) {
        free(ax.vals);
        return TT_ENOMEM;
    }
    size_t cells = ax.n * ay.n;
    double *cell = malloc((cells ? cells : 1) * sizeof *cell);
    if (!cell) {
        free(ax.vals), free(ay.vals);
        return TT_ENOMEM;
    }
    for (size_t c = 0; c < cells; c++)
        cell[c] = NAN;
    for (size_t i = 0; i < p->njobs; i++) {
        if (t->runs[i].status != TT_RUN_OK)
            continue;
        double v = tt_figure_value(f, &t->runs[i].m);
        if (!isfinite(v))
            continue;
        const tt_param *pp = tt_sweep_job_params(p, i);
        size_t c = axis_pos(&ay, pp[ky].value) * ax.n + axis_pos(&ax, pp[kx].value);
        if (isnan(cell[c]) || better(f, v, cell[c]))
            cell[c] = v;
    }
    /* Colour by rank among the defined cells, so one outlier does not wash
     * out the rest of the map. */
    size_t ndef = 0;
    for (size_t c = 0; c < cells; c++)
        ndef += !isnan(cell[c]);
    const int cw = 64, ch = 30, left = 90, top = 30, bottom = 50;
    int width = left + (int)ax.n * cw + 20, height = top + (int)ay.n * ch + bottom;
    tt_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                  "font-family=\"sans-serif\" font-size=\"11\">\n", width, height);
    for (size_t y = 0; y < ay.n; y++) {
        /* Largest y value on top. */
        size_t row = ay.n - 1 - y;
        int py = top + (int)row * ch;
        tt_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, py + ch / 2 + 4);
        html_text(b, ay.vals[y]);
        tt_buf_printf(b, "</text>\n");
        for (size_t x = 0; x < ax.n; x++) {
            double v = cell[y * ax.n + x];
            char fill[8] = "#cccccc", txt[32] = "n/a";
            if (!isnan(v)) {
                size_t below = 0, equal = 0;
                for (size_t c = 0; c < cells; c++) {
                    if (isnan(cell[c]))
                        continue;
                    below += better(f, v, cell[c]);
                    equal += cell[c] == v;
                }
                /* Ties share the middle of their ranks. */
                double u = ndef > 1 ? ((double)below + ((double)equal - 1) / 2) / (double)(ndef - 1)
                                    : 0.5;
                colour(u, fill);
                if (f->kind == TT_FIG_MONEY || f->kind == TT_FIG_MINOR)
                    snprintf(txt, sizeof txt, "%.0f", v / (double)mpu(t));
                else
                    snprintf(txt, sizeof txt, "%.3g", v);
            }
            int px = left + (int)x * cw;
            tt_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                          "stroke=\"#ffffff\"/><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s"
                          "</text>\n", px, py, cw, ch, fill, px + cw / 2, py + ch / 2 + 4, txt);
        }
    }
    for (size_t x = 0; x < ax.n; x++) {
        int px = left + (int)x * cw + cw / 2;
        tt_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", px,
                      top + (int)ay.n * ch + 16);
        html_text(b, ax.vals[x]);
        tt_buf_printf(b, "</text>\n");
    }
    tt_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">",
                  left + (int)ax.n * cw / 2, top + (int)ay.n * ch + 40);
    html_text(b, p->params[kx].key);
    tt_buf_printf(b, "</text>\n<text x=\"12\" y=\"%d\" font-weight=\"bold\" "
                  "transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">",
                  top + (int)ay.n * ch / 2, top + (int)ay.n * ch / 2);
    html_text(b, p->params[ky].key);
    tt_buf_printf(b, "</text>\n</svg>\n");
    free(cell), free(ax.vals), free(ay.vals);
    return TT_OK;
}

typedef struct sort_item {
    size_t i;
    double v;
    int better_dir;
} sort_item;

static int item_cmp(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    int xn = isnan(x->v), yn = isnan(y->v);
    if (xn != yn)
        return xn - yn; /* undefined last */
    if (!xn && x->v != y->v)
        return (x->v > y->v ? -1 : 1) * x->better_dir;
    return x->i < y->i ? -1 : x->i > y->i;
}

int tt_sweep_html(const tt_sweep_table *t, const char *path, tt_err *err)
{
    const tt_sweep_plan *p = t->plan;
    const tt_figure *f = tt_figure_find(figure_name(t));
    size_t nf, ok = 0;
    const tt_figure *figs = tt_figures(&nf);
    for (size_t i = 0; i < p->njobs; i++)
        ok += t->runs[i].status == TT_RUN_OK;
    tt_buf b = {0};
    tt_buf_printf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Sweep: ");
    html_text(&b, t->name ? t->name : "");
    tt_buf_printf(&b, "</title>\n<style>body{font-family:sans-serif;margin:24px;color:#222}"
                  "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;"
                  "padding:3px 6px;text-align:right}th{background:#f4f4f4}"
                  "td.l{text-align:left;font-family:monospace}.bad{color:#b00}</style>\n"
                  "</head><body>\n<h1>Sweep: ");
    html_text(&b, t->name ? t->name : "");
    tt_buf_printf(&b, "</h1>\n<p>%zu runs, %zu completed, %zu failed or crashed.</p>\n", p->njobs,
                  ok, p->njobs - ok);
    long best = tt_sweep_best(t, f->name);
    if (best >= 0) {
        char ps[512];
        tt_params_format(tt_sweep_job_params(p, (size_t)best), p->nparams, ps, sizeof ps);
        tt_buf_printf(&b, "<p>Best %s: run %ld (", f->name, best);
        html_text(&b, ps);
        tt_buf_printf(&b, ") with %.6g.</p>\n", tt_figure_value(f, &t->runs[best].m));
    }
    tt_buf_printf(&b, "<h2>%s over two parameters (best run per cell)</h2>\n", f->name);
    int rc = p->nparams ? heatmap_svg(t, f, &b) : TT_OK;
    tt_buf_printf(&b, "<h2>Runs, by %s</h2>\n<table><tr><th>#</th><th>status</th>", f->name);
    for (size_t k = 0; k < p->nparams; k++) {
        tt_buf_printf(&b, "<th>");
        html_text(&b, p->params[k].key);
        tt_buf_printf(&b, "</th>");
    }
    for (size_t k = 0; k < nf; k++)
        tt_buf_printf(&b, "<th>%s</th>", figs[k].name);
    tt_buf_printf(&b, "<th>fingerprint / error</th></tr>\n");
    sort_item *items = malloc((p->njobs ? p->njobs : 1) * sizeof *items);
    if (!items)
        rc = TT_ENOMEM;
    for (size_t i = 0; !rc && i < p->njobs; i++)
        items[i] = (sort_item){i, t->runs[i].status == TT_RUN_OK ? tt_figure_value(f, &t->runs[i].m)
                                                                : NAN, f->better};
    if (!rc)
        qsort(items, p->njobs, sizeof *items, item_cmp);
    for (size_t n = 0; !rc && n < p->njobs; n++) {
        size_t i = items[n].i;
        const tt_run_summary *r = &t->runs[i];
        const tt_param *pp = tt_sweep_job_params(p, i);
        int good = r->status == TT_RUN_OK;
        tt_buf_printf(&b, "<tr><td>%zu</td><td%s>%s</td>", i, good ? "" : " class=\"bad\"",
                      tt_run_status_name(r->status));
        for (size_t k = 0; k < p->nparams; k++) {
            tt_buf_printf(&b, "<td>");
            html_text(&b, pp[k].value);
            tt_buf_printf(&b, "</td>");
        }
        for (size_t k = 0; k < nf; k++) {
            char v[64] = "";
            if (good)
                fig_text(t, &figs[k], r, v, sizeof v, 5);
            tt_buf_printf(&b, "<td>%s</td>", v);
        }
        char hex[33];
        tt_fingerprint_hex(r->fp, hex);
        tt_buf_printf(&b, "<td class=\"l\">");
        html_text(&b, good ? hex : r->error);
        tt_buf_printf(&b, "</td></tr>\n");
    }
    free(items);
    tt_buf_printf(&b, "</table>\n</body></html>\n");
    if (rc || !b.data) {
        tt_buf_free(&b);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    }
    rc = write_file(path, &b, err);
    tt_buf_free(&b);
    return rc;
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
