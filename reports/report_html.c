/*
 * ticktape reports: the HTML report.
 *
 * How this works: one page, written top to bottom with fprintf: inline CSS,
 * no scripts, no external resources, so it opens offline and a browser has
 * nothing to complain about. Two charts are inline SVG:
 *
 *   equity     equity (line) and balance (thinner line) against time;
 *   drawdown   the fall of equity below its running peak, in percent, as a
 *              filled area.
 *
 * A long run has far more equity points than a chart has pixels, so the
 * series is reduced to at most CHART_BUCKETS buckets by time, keeping the
 * first, lowest, highest and last point of each bucket in time order: every
 * spike survives, and the polyline stays small. Coordinates are printed with
 * one decimal, all other numbers with fixed formats, so the same run gives
 * the same bytes.
 *
 * Tables: the figures; monthly returns (a row per year, a column per month,
 * and the year compounded); the trade list (the first MAX_TRADE_ROWS trades;
 * trades.csv has them all); the scenario as given; the fingerprint.
 */
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHART_W 960.0
#define CHART_H 260.0
#define PAD_L 78.0
#define PAD_R 12.0
#define PAD_T 12.0
#define PAD_B 28.0
#define CHART_BUCKETS 480
#define MAX_TRADE_ROWS 2000

static const char CSS[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#1b1f24;background:#f6f7f9}"
    "main{max-width:1000px;margin:0 auto;padding:20px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}"
    ".sub{color:#57606a;margin:0 0 12px}code{font-family:ui-monospace,Menlo,Consolas,monospace}"
    "section{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:12px 16px;"
    "margin:12px 0}"
    "table{border-collapse:collapse;width:100%}td,th{padding:3px 8px;text-align:right;"
    "border-bottom:1px solid #eaeef2;white-space:nowrap}th{background:#f6f8fa}"
    "td:first-child,th:first-child{text-align:left}"
    ".figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:0 24px}"
    ".figs td:last-child{font-variant-numeric:tabular-nums}"
    ".pos{color:#1a7f37}.neg{color:#cf222e}.scroll{max-height:480px;overflow:auto}"
    "svg{width:100%;height:auto;display:block}svg text{font:11px sans-serif;fill:#57606a}"
    ".grid{stroke:#eaeef2;stroke-width:1}.axis{stroke:#8c959f;stroke-width:1}"
    ".eq{fill:none;stroke:#0969da;stroke-width:1.5}.bal{fill:none;stroke:#8250df;"
    "stroke-width:1;stroke-dasharray:4 3}.dd{fill:#ffcecb;stroke:#cf222e;stroke-width:1}"
    "pre{background:#f6f8fa;padding:8px;overflow:auto;margin:0}"
    "footer{color:#57606a;font-size:12px;margin:16px 0}";

/* ---- number formatting ---- */

static void fmt_fixed(char *buf, size_t n, double v, int decimals, const char *suffix)
{
    if (!isfinite(v)) {
        snprintf(buf, n, isinf(v) ? (v > 0 ? "&#8734;" : "-&#8734;") : "n/a");
        return;
    }
    if (v == 0)
        v = 0; /* no "-0.00" */
    snprintf(buf, n, "%.*f%s", decimals, v, suffix ? suffix : "");
}

static const char *sign_class(double v)
{
    return !isfinite(v) || v == 0 ? "" : v > 0 ? "pos" : "neg";
}

static void fig_row(FILE *f, const char *label, const char *value, const char *cls)
{
    fprintf(f, "<tr><td>%s</td><td class=\"%s\">%s</td></tr>", label, cls ? cls : "", value);
}

static void fig_money(FILE *f, const tt_report_input *in, const char *label, tt_money m, int signed_)
{
    char b[48];
    tt_report_money(m, tt_report_minor(in), b, sizeof b);
    fig_row(f, label, b, signed_ ? sign_class((double)m) : "");
}

static void fig_num(FILE *f, const char *label, double v, int decimals, const char *suffix,
                    int signed_)
{
    char b[64];
    fmt_fixed(b, sizeof b, v, decimals, suffix);
    fig_row(f, label, b, signed_ ? sign_class(v) : "");
}

static void fig_duration(FILE *f, const char *label, tt_ts ns)
{
    char b[64];
    double days = (double)ns / (double)TT_NS_PER_DAY;
    if (days >= 1)
        snprintf(b, sizeof b, "%.1f days", days);
    else
        snprintf(b, sizeof b, "%.1f hours", (double)ns / (double)TT_NS_PER_HOUR);
    fig_row(f, label, b, "");
}

static void date_of(tt_ts ts, char *buf, size_t n)
{
    int y, mo, d, h, mi, s;
    int64_t ns;
    tt_ts_to_civil(ts, &y, &mo, &d, &h, &mi, &s, &ns);
    snprintf(buf, n, "%04d-%02d-%02d", y, mo, d);
}

static void datetime_of(tt_ts ts, char *buf, size_t n)
{
    int y, mo, d, h, mi, s;
    int64_t ns;
    tt_ts_to_civil(ts, &y, &mo, &d, &h, &mi, &s, &ns);
    snprintf(buf, n, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s);
}

/* ---- charts ---- */

typedef struct chart_pt {
    tt_ts ts;
    double a, b; /* equity and balance, or drawdown percent */
} chart_pt;

/* Reduce to first/min/max/last per time bucket, in time order. */
static size_t reduce(const chart_pt *in, size_t n, chart_pt *out, tt_ts t0, tt_ts t1)
{
    if (n <= CHART_BUCKETS * 4) {
        memcpy(out, in, n * sizeof *in);
        return n;
    }
    size_t m = 0, i = 0;
    double span = (double)(t1 - t0);
    while (i < n) {
        size_t bucket = span > 0 ? (size_t)((double)(in[i].ts - t0) / span * (CHART_BUCKETS - 1))
                                 : 0;
        size_t j = i, lo = i, hi = i;
        while (j < n) {
            size_t bj = span > 0 ? (size_t)((double)(in[j].ts - t0) / span * (CHART_BUCKETS - 1))
                                 : 0;
            if (bj != bucket)
                break;
            if (in[j].a < in[lo].a)
                lo = j;
            if (in[j].a > in[hi].a)
                hi = j;
            j++;
        }
        size_t idx[4] = {i, lo < hi ? lo : hi, lo < hi ? hi : lo, j - 1};
        for (int k = 0; k < 4; k++)
            if (k == 0 || idx[k] != idx[k - 1])
                out[m++] = in[idx[k]];
        i = j;
    }
    return m;
}

/* A "nice" step for about `ticks` gridlines over [lo, hi]. */
static double nice_step(double lo, double hi, int ticks)
{
    double raw = (hi - lo) / ticks;
    if (raw <= 0)
        return 1;
    double mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    double s = r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10;
    return s * mag;
}

typedef struct axes {
    tt_ts t0, t1;
    double lo, hi;
} axes;

static double px(const axes *ax, tt_ts t)
{
    double span = (double)(ax->t1 - ax->t0);
    double u = span > 0 ? (double)(t - ax->t0) / span : 0.5;
    return PAD_L + u * (CHART_W - PAD_L - PAD_R);
}

static double py(const axes *ax, double v)
{
    double span = ax->hi - ax->lo;
    double u = span > 0 ? (v - ax->lo) / span : 0.5;
    return CHART_H - PAD_B - u * (CHART_H - PAD_T - PAD_B);
}

/* Gridlines, value labels (formatted by unit), and date labels. */
static void frame(FILE *f, const axes *ax, int percent, int64_t minor)
{
    double step = nice_step(ax->lo, ax->hi, 5);
    for (double v = ceil(ax->lo / step) * step; v <= ax->hi + step * 1e-9; v += step) {
        double y = py(ax, v);
        char label[48];
        if (percent)
            snprintf(label, sizeof label, "%.*f%%", step < 1 ? 1 : 0, v == 0 ? 0.0 : v);
        else
            snprintf(label, sizeof label, "%.0f", v / (double)minor);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", PAD_L,
                y, CHART_W - PAD_R, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", PAD_L - 6, y + 4,
                label);
    }
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", PAD_L,
            CHART_H - PAD_B, CHART_W - PAD_R, CHART_H - PAD_B);
    int nlabels = 6;
    for (int i = 0; i < nlabels; i++) {
        tt_ts t = ax->t0 + (tt_ts)((double)(ax->t1 - ax->t0) * i / (nlabels - 1));
        char d[24];
        date_of(t, d, sizeof d);
        const char *anchor = i == 0 ? "start" : i == nlabels - 1 ? "end" : "middle";
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", px(ax, t),
                CHART_H - 8, anchor, d);
    }
}

static void polyline(FILE *f, const char *cls, const axes *ax, const chart_pt *p, size_t n,
                     int second)
{
    fprintf(f, "<polyline class=\"%s\" points=\"", cls);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", px(ax, p[i].ts), py(ax, second ? p[i].b : p[i].a));
    fputs("\"/>", f);
}

static void charts(FILE *f, const tt_report_input *in)
{
    size_t n = in->nequity;
    int64_t minor = tt_report_minor(in);
    if (n == 0) {
        fputs("<section id=\"equity\"><h2>Equity</h2><p>No equity points.</p>"
              "<svg id=\"equity-chart\" viewBox=\"0 0 960 40\" role=\"img\" aria-label=\"equity\">"
              "</svg></section><section id=\"drawdown\"><h2>Drawdown</h2>"
              "<svg id=\"drawdown-chart\" viewBox=\"0 0 960 40\" role=\"img\" "
              "aria-label=\"drawdown\"></svg></section>",
              f);
        return;
    }
    chart_pt *all = malloc(n * sizeof *all);
    chart_pt *red = malloc(n * sizeof *red);
    if (!all || !red) {
        free(all);
        free(red);
        fputs("<p>out of memory drawing the charts</p>", f);
        return;
    }
    tt_ts t0 = in->equity[0].ts, t1 = in->equity[n - 1].ts;
    double peak = (double)in->metrics->initial_balance;
    for (size_t i = 0; i < n; i++) {
        double eq = (double)in->equity[i].equity;
        if (eq > peak)
            peak = eq;
        all[i].ts = in->equity[i].ts;
        all[i].a = eq;
        all[i].b = (double)in->equity[i].balance;
    }
    size_t m = reduce(all, n, red, t0, t1);
    axes ax = {t0, t1, red[0].a, red[0].a};
    for (size_t i = 0; i < m; i++) {
        double lo = red[i].a < red[i].b ? red[i].a : red[i].b;
        double hi = red[i].a > red[i].b ? red[i].a : red[i].b;
        if (lo < ax.lo)
            ax.lo = lo;
        if (hi > ax.hi)
            ax.hi = hi;
    }
    double pad = (ax.hi - ax.lo) * 0.05;
    if (pad <= 0)
        pad = (double)minor;
    ax.lo -= pad;
    ax.hi += pad;
    fprintf(f, "<section id=\"equity\"><h2>Equity <small>(solid: equity, dashed: balance; %s)</small>"
               "</h2>\n",
            in->currency ? in->currency : "USD");
    fprintf(f, "<svg id=\"equity-chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
               "aria-label=\"equity curve\" xmlns=\"http://www.w3.org/2000/svg\">",
            CHART_W, CHART_H);
    frame(f, &ax, 0, minor);
    polyline(f, "bal", &ax, red, m, 1);
    polyline(f, "eq", &ax, red, m, 0);
    fputs("</svg></section>\n", f);

    /* drawdown in percent below the running peak (the peak starts at the deposit) */
    peak = (double)in->metrics->initial_balance;
    for (size_t i = 0; i < n; i++) {
        double eq = (double)in->equity[i].equity;
        if (eq > peak)
            peak = eq;
        all[i].a = peak > 0 ? -(peak - eq) / peak * 100.0 : 0;
        all[i].b = 0;
    }
    m = reduce(all, n, red, t0, t1);
    axes dx = {t0, t1, 0, 0};
    for (size_t i = 0; i < m; i++)
        if (red[i].a < dx.lo)
            dx.lo = red[i].a;
    if (dx.lo > -0.1)
        dx.lo = -0.1;
    dx.lo *= 1.05;
    fputs("<section id=\"drawdown\"><h2>Drawdown <small>(% below the running peak)</small></h2>\n",
          f);
    fprintf(f, "<svg id=\"drawdown-chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
               "aria-label=\"drawdown\" xmlns=\"http://www.w3.org/2000/svg\">",
            CHART_W, CHART_H);
    frame(f, &dx, 1, minor);
    fprintf(f, "<polygon class=\"dd\" points=\"%.1f,%.1f", px(&dx, red[0].ts), py(&dx, 0));
    for (size_t i = 0; i < m; i++)
        fprintf(f, " %.1f,%.1f", px(&dx, red[i].ts), py(&dx, red[i].a));
    fprintf(f, " %.1f,%.1f\"/>", px(&dx, red[m - 1].ts), py(&dx, 0));
    fputs("</svg></section>\n", f);
    free(all);
    free(red);
}

/* ---- tables ---- */

static void figures(FILE *f, const tt_report_input *in)
{
    const tt_metrics *m = in->metrics;
    fputs("<section id=\"figures\"><h2>Figures</h2><div class=\"figs\">", f);
    fputs("<table><tr><th colspan=\"2\">Returns</th></tr>", f);
    fig_money(f, in, "Net P&amp;L", m->net_pnl, 1);
    fig_num(f, "Total return", m->return_pct, 2, "%", 1);
    fig_num(f, "CAGR", m->cagr * 100.0, 2, "%", 1);
    fig_num(f, "Annualized volatility", m->ann_volatility * 100.0, 2, "%", 0);
    fig_num(f, "Sharpe", m->sharpe, 3, NULL, 1);
    fig_num(f, "Sortino", m->sortino, 3, NULL, 1);
    fig_num(f, "Calmar", m->calmar, 3, NULL, 1);
    fig_money(f, in, "Initial balance", m->initial_balance, 0);
    fig_money(f, in, "Final equity", m->final_equity, 0);
    fputs("</table><table><tr><th colspan=\"2\">Risk</th></tr>", f);
    fig_num(f, "Max drawdown", -m->max_drawdown_pct, 2, "%", 1);
    fig_money(f, in, "Max drawdown (money)", -m->max_drawdown, 1);
    fig_duration(f, "Longest drawdown", m->max_dd_duration);
    fig_num(f, "Time in market", m->time_in_market * 100.0, 1, "%", 0);
    fig_money(f, in, "Peak equity", m->peak_equity, 0);
    fig_money(f, in, "Commissions paid", m->commissions, 0);
    fig_money(f, in, "Swaps (credited)", m->swaps, 1);
    fig_num(f, "Days", (double)m->days, 0, NULL, 0);
    fig_num(f, "Annualization (periods/yr)", (double)m->periods_per_year, 0, NULL, 0);
    fputs("</table><table><tr><th colspan=\"2\">Trades</th></tr>", f);
    fig_num(f, "Trades", (double)m->trades, 0, NULL, 0);
    fprintf(f, "<tr><td>Long / short</td><td>%llu / %llu</td></tr>",
            (unsigned long long)m->long_trades, (unsigned long long)m->short_trades);
    fig_num(f, "Win rate", m->win_rate * 100.0, 1, "%", 0);
    fig_num(f, "Profit factor", m->profit_factor, 3, NULL, 0);
    int64_t minor = tt_report_minor(in);
    fig_num(f, "Expectancy", m->expectancy / (double)minor, 2, NULL, 1);
    fig_num(f, "Average win", m->avg_win / (double)minor, 2, NULL, 1);
    fig_num(f, "Average loss", m->avg_loss / (double)minor, 2, NULL, 1);
    fig_money(f, in, "Largest win", m->largest_win, 1);
    fig_money(f, in, "Largest loss", m->largest_loss, 1);
    fputs("</table></div></section>\n", f);
}

static void monthly(FILE *f, const tt_report_input *in)
{
    static const char *const MON[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    tt_month_return *mr = NULL;
    size_t n = 0;
    fputs("<section id=\"monthly\"><h2>Monthly returns (%)</h2>", f);
    if (tt_metrics_monthly(in->equity, in->nequity, in->metrics->initial_balance, &mr, &n, NULL) !=
            TT_OK ||
        n == 0) {
        fputs("<p>No equity points.</p></section>\n", f);
        free(mr);
        return;
    }
    fputs("<table><tr><th>Year</th>", f);
    for (int i = 0; i < 12; i++)
        fprintf(f, "<th>%s</th>", MON[i]);
    fputs("<th>Year</th></tr>\n", f);
    size_t i = 0;
    while (i < n) {
        int year = mr[i].year;
        double cells[12];
        int have[12] = {0};
        double compound = 1.0;
        for (; i < n && mr[i].year == year; i++) {
            cells[mr[i].month - 1] = mr[i].ret;
            have[mr[i].month - 1] = 1;
            compound *= 1.0 + mr[i].ret;
        }
        fprintf(f, "<tr><td>%d</td>", year);
        for (int k = 0; k < 12; k++) {
            if (!have[k]) {
                fputs("<td></td>", f);
                continue;
            }
            char b[48];
            fmt_fixed(b, sizeof b, cells[k] * 100.0, 2, NULL);
            fprintf(f, "<td class=\"%s\">%s</td>", sign_class(cells[k]), b);
        }
        char b[48];
        fmt_fixed(b, sizeof b, (compound - 1.0) * 100.0, 2, NULL);
        fprintf(f, "<td class=\"%s\"><b>%s</b></td></tr>\n", sign_class(compound - 1.0), b);
    }
    fputs("</table></section>\n", f);
    free(mr);
}

static void trades(FILE *f, const tt_report_input *in)
{
    int64_t minor = tt_report_minor(in);
    fprintf(f, "<section id=\"trades\"><h2>Trades (%zu)</h2>", in->ntrades);
    if (in->ntrades == 0) {
        fputs("<p>No closed trades.</p></section>\n", f);
        return;
    }
    if (in->ntrades > MAX_TRADE_ROWS)
        fprintf(f, "<p>The first %d of %zu trades; trades.csv has them all.</p>", MAX_TRADE_ROWS,
                in->ntrades);
    fputs("<div class=\"scroll\"><table id=\"trade-list\"><tr><th>#</th><th>Symbol</th>"
          "<th>Side</th><th>Lots</th><th>Open (UTC)</th><th>Price</th><th>Close (UTC)</th>"
          "<th>Price</th><th>Commission</th><th>Swap</th><th>Net</th><th>Exit</th></tr>\n",
          f);
    size_t n = in->ntrades < MAX_TRADE_ROWS ? in->ntrades : MAX_TRADE_ROWS;
    for (size_t i = 0; i < n; i++) {
        const tt_trade_record *t = &in->trades[i];
        char sym[32], lots[32], ot[32], ct[32], op[48], cp[48], com[48], sw[48], net[48];
        const char *s = tt_report_symbol(in->instruments, t->symbol, sym, sizeof sym);
        tt_report_lots(in, t->symbol, t->qty, lots, sizeof lots);
        datetime_of(t->open_ts, ot, sizeof ot);
        datetime_of(t->close_ts, ct, sizeof ct);
        tt_report_price(in->instruments, t->symbol, t->open_price, op, sizeof op);
        tt_report_price(in->instruments, t->symbol, t->close_price, cp, sizeof cp);
        tt_report_money(t->commission, minor, com, sizeof com);
        tt_report_money(t->swap, minor, sw, sizeof sw);
        tt_report_money(t->net, minor, net, sizeof net);
        fprintf(f,
                "<tr><td>%llu</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td><td>%s</td>"
                "</tr>\n",
                (unsigned long long)t->id, s, t->side == TT_BUY ? "buy" : "sell", lots, ot, op, ct,
                cp, com, sw, sign_class((double)t->net), net,
                tt_trade_close_reason_name(t->close_reason));
    }
    fputs("</table></div></section>\n", f);
}

int tt_report_html(const tt_report_input *in, const char *path, tt_err *err)
{
    char tmp[4200];
    FILE *f = tt_report_open_tmp(path, tmp, sizeof tmp, err);
    if (!f)
        return err ? err->code : TT_EIO;
    char fp[33];
    tt_fingerprint_hex(in->fingerprint, fp);
    const char *name = in->name ? in->name : "run";

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<link rel=\"icon\" href=\"data:,\">\n<title>ticktape: ",
          f);
    tt_report_html_str(f, name);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<h1>", CSS);
    tt_report_html_str(f, name);
    fputs("</h1>\n<p class=\"sub\">", f);
    if (in->strategy) {
        fputs("strategy <b>", f);
        tt_report_html_str(f, in->strategy);
        fputs("</b>", f);
        if (in->params && *in->params) {
            fputs(" <code>", f);
            tt_report_html_str(f, in->params);
            fputs("</code>", f);
        }
        fputs(" &middot; ", f);
    }
    if (in->data) {
        tt_report_html_str(f, in->data);
        fputs(" &middot; ", f);
    }
    if (in->model) {
        fputs("model <b>", f);
        tt_report_html_str(f, in->model);
        fputs("</b> &middot; ", f);
    }
    if (in->from || in->to) {
        char a[32] = "", b[32] = "";
        if (in->from)
            datetime_of(in->from, a, sizeof a);
        if (in->to)
            datetime_of(in->to, b, sizeof b);
        fprintf(f, "%s &ndash; %s UTC &middot; ", a, b);
    }
    fprintf(f, "%llu events &middot; fingerprint <code id=\"fingerprint\">%s</code></p>\n",
            (unsigned long long)in->events, fp);

    figures(f, in);
    charts(f, in);
    monthly(f, in);
    trades(f, in);

    fputs("<section id=\"scenario\"><h2>Scenario</h2><pre>", f);
    tt_report_html_str(f, in->scenario_text ? in->scenario_text : "(not given)\n");
    fputs("</pre></section>\n", f);
    fprintf(f,
            "<footer>ticktape report &middot; orders sent %llu, fills %llu, risk rejects %llu, "
            "stop-outs %llu &middot; fingerprint %s: the same scenario, data and binary give the "
            "same fingerprint and the same report bytes.</footer>\n",
            (unsigned long long)in->orders_sent, (unsigned long long)in->fills,
            (unsigned long long)in->risk_rejects, (unsigned long long)in->stop_outs, fp);
    fputs("</main>\n</body>\n</html>\n", f);
    return tt_report_commit(f, tmp, path, err);
}
