/*
 * The sweep's page, sweep.html: heatmaps, their legends and stability, and
 * the runs ranked.
 *
 * How this works:
 *
 *   heatmaps   one per main figure (the ranking figure first) over the two
 *              heatmap parameters. When other parameters vary too, several
 *              runs fall into one cell; the cell shows the best of them (the
 *              question a heatmap answers is "where is the good region").
 *              Axis values are sorted numerically when they are all numbers,
 *              else kept in job order. Colours run from red (worst) through
 *              yellow to green (best) by rank among the defined cells (not by
 *              value: one outlier would otherwise wash out the map); grey is
 *              n/a. One map shows at a time: radio buttons and CSS pick it, so
 *              the page stays without scripts. Each map has a legend (the
 *              colour scale with the worst and best values) and the best
 *              cell's neighbourhood: its up to eight neighbours in the grid,
 *              their values, and their average rank, because a best cell
 *              surrounded by poor ones is an accident of the grid, not a
 *              parameter choice.
 *   table      the runs ranked by the ranking figure (undefined last, ties by
 *              job order), with the parameters and the main figures only
 *              (sweep.csv has every figure), fingerprints shortened, so that
 *              it fits the page; at most MAX_ROWS rows.
 *
 * Everything is formatted with fixed formats: the same sweep gives the same
 * bytes at any --jobs.
 */
#include "sweep_report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define MAX_ROWS 1000
#define CELL_W 64
#define CELL_H 30

/* The figures with a heatmap and a table column, after the ranking figure. */
static const char *const MAIN_FIGS[] = {"sharpe", "net_pnl", "return_pct", "sqn", "profit_factor",
                                        "max_drawdown_pct", "win_rate_pct", "trades"};
#define NMAIN (sizeof MAIN_FIGS / sizeof MAIN_FIGS[0])

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

/* ---- the grid of cells ---- */

typedef struct axis {
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

static const char *axis_value(const tt_sweep_plan *p, size_t job, size_t k)
{
    return k < p->nparams ? tt_sweep_job_params(p, job)[k].value : "";
}

/* The distinct values of parameter k (k >= nparams: one empty value). */
static int axis_build(const tt_sweep_table *t, size_t k, axis *a)
{
    const tt_sweep_plan *p = t->plan;
    a->n = 0;
    a->vals = calloc(p->njobs ? p->njobs : 1, sizeof *a->vals);
    if (!a->vals)
        return TT_ENOMEM;
    int numeric = 1;
    for (size_t i = 0; i < p->njobs; i++) {
        const char *v = axis_value(p, i, k);
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

typedef struct grid {
    size_t kx, ky;  /* parameter positions (ky >= nparams: a single row) */
    axis ax, ay;
    double *cell;   /* ay.n * ax.n values, row-major; NaN = no defined run */
    size_t ndef;
    size_t best;    /* the cell of the best run, or SIZE_MAX */
} grid;

static void grid_free(grid *g)
{
    free(g->ax.vals), free(g->ay.vals), free(g->cell);
    memset(g, 0, sizeof *g);
}

static int grid_build(const tt_sweep_table *t, const tt_figure *f, grid *g)
{
    const tt_sweep_plan *p = t->plan;
    memset(g, 0, sizeof *g);
    g->ky = p->nparams > 1 ? 1 : SIZE_MAX;
    for (size_t k = 0; k < p->nparams; k++) {
        if (t->heatmap[0] && !strcmp(p->params[k].key, t->heatmap[0]))
            g->kx = k;
        if (t->heatmap[1] && !strcmp(p->params[k].key, t->heatmap[1]))
            g->ky = k;
    }
    size_t cells;
    if (axis_build(t, g->kx, &g->ax) || axis_build(t, g->ky, &g->ay) ||
        !(g->cell = malloc(((cells = g->ax.n * g->ay.n) ? cells : 1) * sizeof *g->cell))) {
        grid_free(g);
        return TT_ENOMEM;
    }
    for (size_t c = 0; c < cells; c++)
        g->cell[c] = NAN;
    long best = tt_sweep_best(t, f->name);
    g->best = SIZE_MAX;
    for (size_t i = 0; i < p->njobs; i++) {
        if (t->runs[i].status != TT_RUN_OK)
            continue;
        double v = tt_figure_value(f, &t->runs[i].m);
        if (!isfinite(v))
            continue;
        size_t c = axis_pos(&g->ay, axis_value(p, i, g->ky)) * g->ax.n +
                   axis_pos(&g->ax, axis_value(p, i, g->kx));
        if (isnan(g->cell[c]) || tt_sweep_better(f, v, g->cell[c]))
            g->cell[c] = v;
        if ((long)i == best)
            g->best = c;
    }
    for (size_t c = 0; c < cells; c++)
        g->ndef += !isnan(g->cell[c]);
    return TT_OK;
}

/* A defined cell's place on the colour scale: 0 worst, 1 best, by rank (ties
 * share the middle of their ranks). */
static double rank_u(const grid *g, const tt_figure *f, double v)
{
    size_t below = 0, equal = 0, cells = g->ax.n * g->ay.n;
    for (size_t c = 0; c < cells; c++) {
        if (isnan(g->cell[c]))
            continue;
        below += tt_sweep_better(f, v, g->cell[c]);
        equal += g->cell[c] == v;
    }
    return g->ndef > 1 ? ((double)below + ((double)equal - 1) / 2) / (double)(g->ndef - 1) : 0.5;
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

/* A cell's value as text: money in currency units, others 3 significant digits. */
static void cell_text(const tt_sweep_table *t, const tt_figure *f, double v, char *buf, size_t n)
{
    if (isnan(v)) {
        snprintf(buf, n, "n/a");
    } else if (f->kind == TT_FIG_MONEY || f->kind == TT_FIG_MINOR) {
        double u = v / (double)tt_sweep_mpu(t);
        snprintf(buf, n, fabs(u) < 1000 ? "%.2f" : "%.0f", u == 0 ? 0.0 : u);
    } else if (f->kind == TT_FIG_COUNT) {
        snprintf(buf, n, "%.0f", v);
    } else {
        snprintf(buf, n, "%.3g", v == 0 ? 0.0 : v);
    }
}

/* ---- one heatmap: the SVG, its legend, the best cell's neighbourhood ---- */

static void heatmap_svg(const tt_sweep_table *t, const tt_figure *f, const grid *g, tt_buf *b)
{
    const tt_sweep_plan *p = t->plan;
    const int left = 90, top = 12, bottom = 50;
    int width = left + (int)g->ax.n * CELL_W + 20, height = top + (int)g->ay.n * CELL_H + bottom;
    tt_buf_printf(b, "<svg id=\"heatmap-%s\" class=\"map\" xmlns=\"http://www.w3.org/2000/svg\" "
                  "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
                  "font-size=\"11\">\n",
                  f->name, width, height, width, height);
    for (size_t y = 0; y < g->ay.n; y++) {
        int py = top + (int)(g->ay.n - 1 - y) * CELL_H; /* the largest y value on top */
        tt_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6,
                      py + CELL_H / 2 + 4);
        html_text(b, g->ay.vals[y]);
        tt_buf_printf(b, "</text>\n");
        for (size_t x = 0; x < g->ax.n; x++) {
            size_t c = y * g->ax.n + x;
            char fill[8] = "#cccccc", txt[32];
            if (!isnan(g->cell[c]))
                colour(rank_u(g, f, g->cell[c]), fill);
            cell_text(t, f, g->cell[c], txt, sizeof txt);
            int px = left + (int)x * CELL_W;
            tt_buf_printf(b, "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                          "fill=\"%s\" stroke=\"%s\" stroke-width=\"%d\"/><text x=\"%d\" "
                          "y=\"%d\" text-anchor=\"middle\"%s>%s</text>\n",
                          px, py, CELL_W, CELL_H, fill, c == g->best ? "#000000" : "#ffffff",
                          c == g->best ? 3 : 1, px + CELL_W / 2, py + CELL_H / 2 + 4,
                          c == g->best ? " font-weight=\"bold\"" : "", txt);
        }
    }
    for (size_t x = 0; x < g->ax.n; x++) {
        tt_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                      left + (int)x * CELL_W + CELL_W / 2, top + (int)g->ay.n * CELL_H + 16);
        html_text(b, g->ax.vals[x]);
        tt_buf_printf(b, "</text>\n");
    }
    tt_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">",
                  left + (int)g->ax.n * CELL_W / 2, top + (int)g->ay.n * CELL_H + 40);
    html_text(b, p->nparams ? p->params[g->kx].key : "");
    tt_buf_printf(b, "</text>\n");
    if (g->ky < p->nparams) {
        int mid = top + (int)g->ay.n * CELL_H / 2;
        tt_buf_printf(b, "<text x=\"12\" y=\"%d\" font-weight=\"bold\" "
                      "transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">", mid, mid);
        html_text(b, p->params[g->ky].key);
        tt_buf_printf(b, "</text>\n");
    }
    tt_buf_printf(b, "</svg>\n");
}

/* The colour scale: worst to best by rank, with the values at both ends. */
static void legend(const tt_sweep_table *t, const tt_figure *f, const grid *g, tt_buf *b)
{
    double worst = NAN, best = NAN;
    size_t cells = g->ax.n * g->ay.n;
    for (size_t c = 0; c < cells; c++) {
        double v = g->cell[c];
        if (isnan(v))
            continue;
        if (isnan(worst) || tt_sweep_better(f, worst, v))
            worst = v;
        if (isnan(best) || tt_sweep_better(f, v, best))
            best = v;
    }
    char w[32], bb[32];
    cell_text(t, f, worst, w, sizeof w);
    cell_text(t, f, best, bb, sizeof bb);
    tt_buf_printf(b, "<svg id=\"legend-%s\" class=\"legend\" xmlns=\"http://www.w3.org/2000/svg\" "
                  "width=\"420\" height=\"44\" viewBox=\"0 0 420 44\" font-family=\"sans-serif\" "
                  "font-size=\"11\">",
                  f->name);
    for (int i = 0; i < 20; i++) {
        char fill[8];
        colour(i / 19.0, fill);
        tt_buf_printf(b, "<rect x=\"%d\" y=\"4\" width=\"12\" height=\"14\" fill=\"%s\"/>",
                      60 + i * 12, fill);
    }
    tt_buf_printf(b, "<text x=\"56\" y=\"15\" text-anchor=\"end\">worst</text>"
                  "<text x=\"304\" y=\"15\">best</text><rect x=\"344\" y=\"4\" width=\"14\" "
                  "height=\"14\" fill=\"#cccccc\"/><text x=\"362\" y=\"15\">n/a</text>"
                  "<text x=\"60\" y=\"34\">%s</text><text x=\"300\" y=\"34\" "
                  "text-anchor=\"end\">%s</text></svg>\n",
                  w, bb);
    tt_buf_printf(b, "<p class=\"sub\">Colours by rank among the %zu cells with a value (%s is "
                  "better %s); a cell shows the best run of its parameters; the black frame is "
                  "the best cell.</p>\n",
                  g->ndef, f->name, f->better == TT_BETTER_HIGHER ? "higher" : "lower");
}

/* The best cell and its up to eight neighbours, and how they rank. */
static void stability(const tt_sweep_table *t, const tt_figure *f, const grid *g, tt_buf *b)
{
    if (g->best == SIZE_MAX)
        return;
    long bx = (long)(g->best % g->ax.n), by = (long)(g->best / g->ax.n);
    tt_buf_printf(b, "<table id=\"stability-%s\" class=\"stab\"><tr><th></th>", f->name);
    for (long x = bx - 1; x <= bx + 1; x++) {
        tt_buf_printf(b, "<th>");
        if (x >= 0 && x < (long)g->ax.n)
            html_text(b, g->ax.vals[x]);
        tt_buf_printf(b, "</th>");
    }
    tt_buf_printf(b, "</tr>");
    double usum = 0;
    size_t nn = 0, nlow = 0;
    for (long y = by + 1; y >= by - 1; y--) {
        int row = y >= 0 && y < (long)g->ay.n;
        tt_buf_printf(b, "<tr><th>");
        if (row)
            html_text(b, g->ay.vals[y]);
        tt_buf_printf(b, "</th>");
        for (long x = bx - 1; x <= bx + 1; x++) {
            if (!row || x < 0 || x >= (long)g->ax.n) {
                tt_buf_printf(b, "<td></td>");
                continue;
            }
            double v = g->cell[(size_t)y * g->ax.n + (size_t)x];
            char txt[32], fill[8] = "#cccccc";
            cell_text(t, f, v, txt, sizeof txt);
            if (!isnan(v)) {
                double u = rank_u(g, f, v);
                colour(u, fill);
                if (x != bx || y != by) {
                    usum += u;
                    nn++;
                    nlow += u < 0.5;
                }
            }
            tt_buf_printf(b, "<td style=\"background:%s\"%s>%s</td>", fill,
                          x == bx && y == by ? " class=\"bestcell\"" : "", txt);
        }
        tt_buf_printf(b, "</tr>");
    }
    tt_buf_printf(b, "</table>");
    if (nn == 0) {
        tt_buf_printf(b, "<p class=\"stab-note\">The best cell has no neighbour with a value: its "
                      "stability cannot be judged.</p>\n");
        return;
    }
    double top = (1.0 - usum / (double)nn) * 100.0;
    tt_buf_printf(b, "<p class=\"stab-note\">Parameter stability: the %zu neighbours of the best "
                  "cell rank on average in the top %.0f%% of cells; %zu of them in the worse "
                  "half. %s</p>\n",
                  nn, top < 0.5 ? 1.0 : top, nlow,
                  top <= 25 ? "A stable region: the neighbours are good too."
                  : top <= 50 ? "Moderately stable."
                              : "An isolated peak: nearby parameters do much worse, so the best "
                                "cell is likely a fit to noise.");
}

static int one_map(const tt_sweep_table *t, const tt_figure *f, size_t i, tt_buf *b)
{
    grid g;
    if (grid_build(t, f, &g))
        return TT_ENOMEM;
    tt_buf_printf(b, "<div class=\"hm\" id=\"hm-%zu\"><div class=\"hmrow\"><div>", i);
    heatmap_svg(t, f, &g, b);
    legend(t, f, &g, b);
    tt_buf_printf(b, "</div><div>");
    stability(t, f, &g, b);
    tt_buf_printf(b, "</div></div></div>\n");
    grid_free(&g);
    return TT_OK;
}

/* ---- the page ---- */

/* The figures with a map and a column: the ranking figure, then MAIN_FIGS. */
static size_t shown_figures(const tt_figure *rank, const tt_figure **out)
{
    size_t n = 0;
    out[n++] = rank;
    for (size_t i = 0; i < NMAIN; i++)
        if (strcmp(MAIN_FIGS[i], rank->name))
            out[n++] = tt_figure_find(MAIN_FIGS[i]);
    return n;
}

static int heatmaps(const tt_sweep_table *t, const tt_figure **figs, size_t nfig, tt_buf *b)
{
    tt_buf_printf(b, "<section id=\"heatmap\"><h2>Heatmaps <small>(pick a figure)</small></h2>\n");
    if (!t->plan->nparams) {
        tt_buf_printf(b, "<p>No swept parameter.</p></section>\n");
        return TT_OK;
    }
    for (size_t i = 0; i < nfig; i++)
        tt_buf_printf(b, "<input type=\"radio\" name=\"fig\" id=\"fig-%zu\" class=\"pick\"%s>", i,
                      i ? "" : " checked");
    tt_buf_printf(b, "<div class=\"tabs\">");
    for (size_t i = 0; i < nfig; i++)
        tt_buf_printf(b, "<label for=\"fig-%zu\">%s</label>", i, figs[i]->name);
    tt_buf_printf(b, "</div><div class=\"maps\">\n");
    for (size_t i = 0; i < nfig; i++)
        if (one_map(t, figs[i], i, b))
            return TT_ENOMEM;
    tt_buf_printf(b, "</div></section>\n");
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

static int ranked_table(const tt_sweep_table *t, const tt_figure **figs, size_t nfig, tt_buf *b)
{
    const tt_sweep_plan *p = t->plan;
    const tt_figure *f = figs[0];
    sort_item *items = malloc((p->njobs ? p->njobs : 1) * sizeof *items);
    if (!items)
        return TT_ENOMEM;
    for (size_t i = 0; i < p->njobs; i++)
        items[i] = (sort_item){i, t->runs[i].status == TT_RUN_OK ? tt_figure_value(f, &t->runs[i].m)
                                                                : NAN, f->better};
    qsort(items, p->njobs, sizeof *items, item_cmp);
    size_t rows = p->njobs < MAX_ROWS ? p->njobs : MAX_ROWS;
    tt_buf_printf(b, "<section id=\"runs\"><h2>Runs, by %s</h2>\n", f->name);
    if (rows < p->njobs)
        tt_buf_printf(b, "<p>The first %zu of %zu runs; sweep.csv has them all.</p>", rows,
                      p->njobs);
    tt_buf_printf(b, "<table id=\"ranked\"><tr><th>rank</th><th>run</th><th>status</th>");
    for (size_t k = 0; k < p->nparams; k++) {
        tt_buf_printf(b, "<th>");
        html_text(b, strrchr(p->params[k].key, '.') ? strrchr(p->params[k].key, '.') + 1
                                                     : p->params[k].key);
        tt_buf_printf(b, "</th>");
    }
    for (size_t k = 0; k < nfig; k++) {
        /* headers may break after an underscore: the table fits the page */
        tt_buf_printf(b, "<th%s>", k ? "" : " class=\"rk\"");
        for (const char *c = figs[k]->name; *c; c++)
            tt_buf_printf(b, *c == '_' ? "_<wbr>" : "%c", *c);
        tt_buf_printf(b, "</th>");
    }
    tt_buf_printf(b, "<th>fingerprint / error</th></tr>\n");
    for (size_t n = 0; n < rows; n++) {
        size_t i = items[n].i;
        const tt_run_summary *r = &t->runs[i];
        const tt_param *pp = tt_sweep_job_params(p, i);
        int good = r->status == TT_RUN_OK;
        tt_buf_printf(b, "<tr><td>%zu</td><td>%zu</td><td%s>%s</td>", n + 1, i,
                      good ? "" : " class=\"bad\"", tt_run_status_name(r->status));
        for (size_t k = 0; k < p->nparams; k++) {
            tt_buf_printf(b, "<td>");
            html_text(b, pp[k].value);
            tt_buf_printf(b, "</td>");
        }
        for (size_t k = 0; k < nfig; k++) {
            char v[64] = "";
            if (good)
                tt_sweep_fig_text(t, figs[k], r, v, sizeof v, 5);
            tt_buf_printf(b, "<td%s>%s</td>", k ? "" : " class=\"rk\"", good && !v[0] ? "n/a" : v);
        }
        char hex[33];
        tt_fingerprint_hex(r->fp, hex);
        if (good)
            tt_buf_printf(b, "<td class=\"l\"><code title=\"%s\">%.12s</code></td></tr>\n", hex,
                          hex);
        else {
            tt_buf_printf(b, "<td class=\"l err\">");
            html_text(b, r->error);
            tt_buf_printf(b, "</td></tr>\n");
        }
    }
    tt_buf_printf(b, "</table><p class=\"sub\">Every figure of every run is in sweep.csv, "
                  "sweep.json and sweep.h5.</p></section>\n");
    free(items);
    return TT_OK;
}

static void page_head(const tt_sweep_table *t, size_t nfig, tt_buf *b)
{
    tt_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<link rel=\"icon\" href=\"data:,\"><title>Sweep: ");
    html_text(b, t->name ? t->name : "");
    tt_buf_printf(b, "</title>\n<style>body{font:14px/1.45 system-ui,sans-serif;margin:0;"
                  "color:#1b1f24;background:#f6f7f9}main{max-width:1000px;margin:0 auto;"
                  "padding:20px}section{background:#fff;border:1px solid #d8dee4;"
                  "border-radius:6px;padding:12px 16px;margin:12px 0}h1{font-size:22px}"
                  "h2{font-size:16px}.sub{color:#57606a}table{border-collapse:collapse;"
                  "font-size:12px}td,th{border-bottom:1px solid #eaeef2;padding:2px 5px;"
                  "text-align:right;white-space:nowrap}th{background:#f6f8fa;white-space:normal}"
                  "td.l{text-align:left;white-space:normal}.err{word-break:break-word}"
                  ".bad{color:#cf222e}.rk{font-weight:bold}.pick{display:none}.hm{display:none}"
                  ".tabs label{display:inline-block;padding:3px 10px;margin:0 4px 6px 0;"
                  "border:1px solid #d8dee4;border-radius:12px;cursor:pointer;font-size:12px}"
                  ".hmrow{display:flex;flex-wrap:wrap;gap:12px 24px;align-items:flex-start}"
                  "svg.map{max-width:100%%;height:auto}.stab td{width:48px;text-align:center}.hmrow>div:first-child{max-width:640px}"
                  ".stab td.bestcell{outline:3px solid #000}.stab-note{max-width:250px}"
                  ".note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;"
                  "padding:6px 10px}");
    for (size_t i = 0; i < nfig; i++)
        tt_buf_printf(b, "#fig-%zu:checked~.maps #hm-%zu{display:block}"
                      "#fig-%zu:checked~.tabs label[for=fig-%zu]{background:#0969da;"
                      "color:#fff;border-color:#0969da}",
                      i, i, i, i);
    tt_buf_printf(b, "</style>\n</head><body><main>\n<h1>Sweep: ");
    html_text(b, t->name ? t->name : "");
    tt_buf_printf(b, "</h1>\n");
}

int tt_sweep_html(const tt_sweep_table *t, const char *path, tt_err *err)
{
    const tt_sweep_plan *p = t->plan;
    int fallback;
    const tt_figure *f = tt_figure_find(tt_sweep_default_figure(t, &fallback));
    const tt_figure *figs[NMAIN + 1];
    size_t nfig = shown_figures(f, figs), ok = 0;
    for (size_t i = 0; i < p->njobs; i++)
        ok += t->runs[i].status == TT_RUN_OK;
    tt_buf b = {0};
    page_head(t, nfig, &b);
    tt_buf_printf(&b, "<p id=\"summary\">%zu runs, %zu completed, %zu failed or crashed. Ranked "
                  "by <b>%s</b>.</p>\n",
                  p->njobs, ok, p->njobs - ok, f->name);
    if (fallback)
        tt_buf_printf(&b, "<p class=\"note\" id=\"ranking-note\">Ranked by net P&amp;L: no run "
                      "has a Sharpe ratio, because the runs are shorter than the minimum-data "
                      "rule (30 days and 20 daily returns by default, docs/metrics.md). A "
                      "Sharpe ratio from a few daily returns would rank noise. Choose another "
                      "ranking with --figure (sqn, profit_factor, ...).</p>\n");
    long best = tt_sweep_best(t, f->name);
    if (best >= 0) {
        char ps[512], v[64];
        tt_params_format(tt_sweep_job_params(p, (size_t)best), p->nparams, ps, sizeof ps);
        tt_sweep_fig_text(t, f, &t->runs[best], v, sizeof v, 6);
        tt_buf_printf(&b, "<p id=\"best\">Best by %s: run %ld (", f->name, best);
        html_text(&b, ps);
        tt_buf_printf(&b, ") with %s.</p>\n", v);
    }
    int rc = heatmaps(t, figs, nfig, &b);
    rc = rc ? rc : ranked_table(t, figs, nfig, &b);
    tt_buf_printf(&b, "</main></body></html>\n");
    if (rc || !b.data) {
        tt_buf_free(&b);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    }
    rc = tt_sweep_write_file(path, &b, err);
    tt_buf_free(&b);
    return rc;
}
