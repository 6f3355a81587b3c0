/*
 * ticktape reports: the charts of the HTML report (inline SVG).
 *
 *   equity     equity (line) and balance (dashed) against time, with the
 *              report's markers (walk-forward fold boundaries);
 *   drawdown   the fall of equity below its running peak, in percent;
 *   price      per traded symbol: the sampled bid (each bucket's open, low,
 *              high and close joined), entries (triangles: up for a buy, down for a
 *              sell) and exits (circles), joined by a line coloured by the
 *              trade's result.
 *
 * How this works: a long run has far more points than a chart has pixels, so
 * every series is reduced to at most CHART_BUCKETS time buckets, keeping the
 * first, lowest, highest and last point of each (every spike survives). A
 * price chart draws the markers of at most MAX_MARKERS trades: past that,
 * every k-th trade, and the chart says so. The time axis puts its ticks at
 * round UTC times (tt_chart_time_axis): times of day for an intraday chart,
 * the date written once per day, dates for longer spans. Coordinates have
 * one decimal, labels fixed formats: the same run gives the same bytes.
 */
#include "report_html_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHART_W 960.0
#define CHART_H 260.0
#define CHART_BUCKETS 480
#define MAX_MARKERS 400
#define MAX_PRICE_CHARTS 4

/* ---- the frame ---- */

double tt_chart_x(const tt_chart *c, tt_ts t)
{
    double span = (double)(c->t1 - c->t0);
    double u = span > 0 ? (double)(t - c->t0) / span : 0.5;
    return c->pl + u * (c->w - c->pl - c->pr);
}

double tt_chart_xv(const tt_chart *c, double v)
{
    double span = c->x1 - c->x0;
    double u = span > 0 ? (v - c->x0) / span : 0.5;
    return c->pl + u * (c->w - c->pl - c->pr);
}

double tt_chart_y(const tt_chart *c, double v)
{
    double span = c->hi - c->lo;
    double u = span > 0 ? (v - c->lo) / span : 0.5;
    return c->h - c->pb - u * (c->h - c->pt - c->pb);
}

double tt_chart_step(double lo, double hi, int ticks)
{
    double raw = (hi - lo) / ticks;
    if (!(raw > 0))
        return 1;
    double mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    double s = r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10;
    return s * mag;
}

void tt_chart_values(FILE *f, const tt_chart *c, tt_chart_label_fn label, const void *ctx)
{
    double step = tt_chart_step(c->lo, c->hi, 5);
    if (step < c->min_step)
        step = c->min_step;
    for (double v = ceil(c->lo / step) * step; v <= c->hi + step * 1e-9; v += step) {
        double y = tt_chart_y(c, v);
        char text[48];
        label(ctx, fabs(v) < step * 1e-9 ? 0.0 : v, step, text, sizeof text);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", c->pl,
                y, c->w - c->pr, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", c->pl - 6, y + 4,
                text);
    }
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", c->pl,
            c->h - c->pb, c->w - c->pr, c->h - c->pb);
}

void tt_chart_money_label(const void *ctx, double v, double step, char *buf, size_t n)
{
    const tt_report_input *in = ctx;
    double unit = (double)tt_report_minor(in);
    double s = step / unit;
    int dec = s >= 1 ? 0 : s >= 0.1 ? 1 : 2;
    snprintf(buf, n, "%.*f", dec, v / unit);
}

void tt_chart_pct_label(const void *ctx, double v, double step, char *buf, size_t n)
{
    (void)ctx;
    snprintf(buf, n, "%.*f%%", step < 0.1 ? 2 : step < 1 ? 1 : 0, v);
}

/* Round steps for the time axis, in seconds. */
static const int64_t TIME_STEPS[] = {
    60,     120,     300,     600,     900,      1800,     3600,     7200,      10800,
    21600,  43200,   86400,   172800,  604800,   1209600,  2592000,  7776000,   15552000,
    31536000};

void tt_chart_time_axis(FILE *f, const tt_chart *c)
{
    tt_ts span = c->t1 - c->t0;
    if (span <= 0)
        return;
    int64_t step = TIME_STEPS[sizeof TIME_STEPS / sizeof TIME_STEPS[0] - 1];
    for (size_t i = 0; i < sizeof TIME_STEPS / sizeof TIME_STEPS[0]; i++)
        if (span / (TIME_STEPS[i] * TT_NS_PER_SEC) <= 7) {
            step = TIME_STEPS[i];
            break;
        }
    tt_ts st = step * TT_NS_PER_SEC;
    tt_ts first = c->t0 / st * st;
    if (first < c->t0)
        first += st;
    int last_day = -1;
    for (tt_ts t = first; t <= c->t1; t += st) {
        int y, mo, d, h, mi, s;
        int64_t ns;
        tt_ts_to_civil(t, &y, &mo, &d, &h, &mi, &s, &ns);
        double x = tt_chart_x(c, t);
        double yb = c->h - c->pb;
        /* a label near an edge is anchored to stay inside the chart */
        const char *anchor = x > c->w - c->pr - 32 ? "end" : x < c->pl + 32 ? "start" : "middle";
        fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, yb,
                x, yb + 4);
        if (step < 86400) {
            /* the time of day; the date under it where the day changes */
            int day = y * 400 + mo * 32 + d;
            fprintf(f, "<text class=\"t\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%02d:%02d",
                    x, yb + 15, anchor, h, mi);
            if (day != last_day)
                fprintf(f, "<tspan x=\"%.1f\" dy=\"13\">%04d-%02d-%02d</tspan>", x, y, mo, d);
            fputs("</text>", f);
            last_day = day;
        } else {
            fprintf(f, "<text class=\"t\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">"
                       "%04d-%02d-%02d</text>", x, yb + 15, anchor, y, mo, d);
        }
    }
}

void tt_chart_markers(FILE *f, const tt_chart *c, const tt_report_input *in)
{
    for (size_t i = 0; i < in->nmarkers; i++) {
        tt_ts t = in->markers[i].ts;
        /* a boundary just before the first point (a window opening before
         * its first tick) is drawn at the chart's start */
        if (t < c->t0 && c->t0 - t <= (c->t1 - c->t0) / 100)
            t = c->t0;
        if (t < c->t0 || t > c->t1)
            continue;
        double x = tt_chart_x(c, t);
        fprintf(f, "<line class=\"marker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x,
                c->pt, x, c->h - c->pb);
        if (in->markers[i].label) {
            fprintf(f, "<text class=\"mlabel\" x=\"%.1f\" y=\"%.1f\">", x + 3, c->pt + 10);
            tt_report_html_str(f, in->markers[i].label);
            fputs("</text>", f);
        }
    }
}

/* ---- series reduction ---- */

typedef struct chart_pt {
    tt_ts ts;
    double a, b; /* equity and balance, or drawdown percent */
} chart_pt;

static size_t bucket_of(tt_ts t, tt_ts t0, double span)
{
    return span > 0 ? (size_t)((double)(t - t0) / span * (CHART_BUCKETS - 1)) : 0;
}

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
        size_t bucket = bucket_of(in[i].ts, t0, span);
        size_t j = i, lo = i, hi = i;
        while (j < n && bucket_of(in[j].ts, t0, span) == bucket) {
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

static void polyline(FILE *f, const char *cls, const tt_chart *c, const chart_pt *p, size_t n,
                     int second)
{
    fprintf(f, "<polyline class=\"%s\" points=\"", cls);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", tt_chart_x(c, p[i].ts),
                tt_chart_y(c, second ? p[i].b : p[i].a));
    fputs("\"/>", f);
}

static void svg_open(FILE *f, const char *id, const char *label, const tt_chart *c)
{
    fprintf(f, "<svg id=\"%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\" "
               "xmlns=\"http://www.w3.org/2000/svg\">",
            id, c->w, c->h, label);
}

static tt_chart time_chart(tt_ts t0, tt_ts t1)
{
    tt_chart c = {CHART_W, CHART_H, 78.0, 12.0, 12.0, 38.0, t0, t1, 0, 0, 0, 0, 0};
    return c;
}

/* ---- equity and drawdown ---- */

static void equity_chart(FILE *f, const tt_report_input *in, chart_pt *all, chart_pt *red)
{
    size_t n = in->nequity;
    int64_t minor = tt_report_minor(in);
    tt_ts t0 = in->equity[0].ts, t1 = in->equity[n - 1].ts;
    for (size_t i = 0; i < n; i++) {
        all[i].ts = in->equity[i].ts;
        all[i].a = (double)in->equity[i].equity;
        all[i].b = (double)in->equity[i].balance;
    }
    size_t m = reduce(all, n, red, t0, t1);
    tt_chart c = time_chart(t0, t1);
    c.lo = c.hi = red[0].a;
    for (size_t i = 0; i < m; i++) {
        c.lo = fmin(c.lo, fmin(red[i].a, red[i].b));
        c.hi = fmax(c.hi, fmax(red[i].a, red[i].b));
    }
    double pad = (c.hi - c.lo) * 0.05;
    if (pad <= 0)
        pad = (double)minor;
    c.lo -= pad;
    c.hi += pad;
    fprintf(f, "<section id=\"equity\"><h2>Equity <small>(solid: equity, dashed: balance; %s%s)"
               "</small></h2>\n",
            in->currency ? in->currency : "USD",
            in->nmarkers ? "; vertical lines: fold boundaries" : "");
    svg_open(f, "equity-chart", "equity curve", &c);
    tt_chart_values(f, &c, tt_chart_money_label, in);
    tt_chart_time_axis(f, &c);
    tt_chart_markers(f, &c, in);
    polyline(f, "bal", &c, red, m, 1);
    polyline(f, "eq", &c, red, m, 0);
    fputs("</svg></section>\n", f);
}

static void drawdown_chart(FILE *f, const tt_report_input *in, chart_pt *all, chart_pt *red)
{
    size_t n = in->nequity;
    tt_ts t0 = in->equity[0].ts, t1 = in->equity[n - 1].ts;
    /* percent below the running peak (the peak starts at the deposit) */
    double peak = (double)in->metrics->initial_balance;
    for (size_t i = 0; i < n; i++) {
        double eq = (double)in->equity[i].equity;
        if (eq > peak)
            peak = eq;
        all[i].ts = in->equity[i].ts;
        all[i].a = peak > 0 ? -(peak - eq) / peak * 100.0 : 0;
        all[i].b = 0;
    }
    size_t m = reduce(all, n, red, t0, t1);
    tt_chart c = time_chart(t0, t1);
    for (size_t i = 0; i < m; i++)
        c.lo = fmin(c.lo, red[i].a);
    if (c.lo > -0.1)
        c.lo = -0.1;
    c.lo *= 1.05;
    fputs("<section id=\"drawdown\"><h2>Drawdown <small>(% below the running peak)</small></h2>\n",
          f);
    svg_open(f, "drawdown-chart", "drawdown", &c);
    tt_chart_values(f, &c, tt_chart_pct_label, NULL);
    tt_chart_time_axis(f, &c);
    tt_chart_markers(f, &c, in);
    fprintf(f, "<polygon class=\"dd\" points=\"%.1f,%.1f", tt_chart_x(&c, red[0].ts),
            tt_chart_y(&c, 0));
    for (size_t i = 0; i < m; i++)
        fprintf(f, " %.1f,%.1f", tt_chart_x(&c, red[i].ts), tt_chart_y(&c, red[i].a));
    fprintf(f, " %.1f,%.1f\"/>", tt_chart_x(&c, red[m - 1].ts), tt_chart_y(&c, 0));
    fputs("</svg></section>\n", f);
}

int tt_html_charts(FILE *f, const tt_report_input *in)
{
    size_t n = in->nequity;
    if (n == 0) {
        fputs("<section id=\"equity\"><h2>Equity</h2><p>No equity points.</p>"
              "<svg id=\"equity-chart\" viewBox=\"0 0 960 40\" role=\"img\" aria-label=\"equity\">"
              "</svg></section><section id=\"drawdown\"><h2>Drawdown</h2>"
              "<svg id=\"drawdown-chart\" viewBox=\"0 0 960 40\" role=\"img\" "
              "aria-label=\"drawdown\"></svg></section>",
              f);
        return TT_OK;
    }
    chart_pt *all = malloc(n * sizeof *all);
    chart_pt *red = malloc(n * sizeof *red);
    int rc = all && red ? TT_OK : TT_ENOMEM;
    if (!rc) {
        equity_chart(f, in, all, red);
        drawdown_chart(f, in, all, red);
    }
    free(all);
    free(red);
    return rc;
}

/* ---- price charts ---- */

typedef struct price_ctx {
    const tt_report_input *in;
    uint32_t symbol;
} price_ctx;

static void price_label(const void *ctx, double v, double step, char *buf, size_t n)
{
    (void)step;
    const price_ctx *p = ctx;
    tt_report_price(p->in->instruments, p->symbol, (tt_price)llround(v), buf, n);
}

/* The buckets of one symbol, merged into at most CHART_BUCKETS by time. */
static size_t price_reduce(const tt_price_bucket *b, size_t n, tt_price_bucket *out)
{
    tt_ts t0 = b[0].ts;
    double span = (double)(b[n - 1].ts - t0);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && bucket_of(b[i].ts, t0, span) == bucket_of(out[m - 1].ts, t0, span)) {
            tt_price_bucket *y = &out[m - 1];
            y->high = b[i].high > y->high ? b[i].high : y->high;
            y->low = b[i].low < y->low ? b[i].low : y->low;
            y->close = b[i].close;
        } else {
            out[m++] = b[i];
        }
    }
    return m;
}

static void trade_markers(FILE *f, const tt_report_input *in, const tt_chart *c, uint32_t sym,
                          size_t ntr, size_t every)
{
    size_t k = 0;
    for (size_t i = 0; i < in->ntrades; i++) {
        const tt_trade_record *t = &in->trades[i];
        if (t->symbol != sym || (k++ % every) != 0)
            continue;
        double x0 = tt_chart_x(c, t->open_ts), y0 = tt_chart_y(c, (double)t->open_price);
        double x1 = tt_chart_x(c, t->close_ts), y1 = tt_chart_y(c, (double)t->close_price);
        char op[48], cp[48], net[48];
        tt_report_price(in->instruments, sym, t->open_price, op, sizeof op);
        tt_report_price(in->instruments, sym, t->close_price, cp, sizeof cp);
        tt_report_money(t->net, tt_report_minor(in), net, sizeof net);
        fprintf(f, "<g class=\"trade\"><title>#%llu %s %s -&gt; %s, net %s</title>",
                (unsigned long long)t->id, t->side == TT_BUY ? "buy" : "sell", op, cp, net);
        if (ntr <= MAX_MARKERS)
            fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                    t->net > 0 ? "tw" : "tl", x0, y0, x1, y1);
        if (t->side == TT_BUY)
            fprintf(f, "<path class=\"entry buy\" d=\"M%.1f %.1fl-4 7h8z\"/>", x0, y0);
        else
            fprintf(f, "<path class=\"entry sell\" d=\"M%.1f %.1fl-4 -7h8z\"/>", x0, y0);
        fprintf(f, "<circle class=\"exit\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/></g>", x1, y1);
    }
}

static void price_chart(FILE *f, const tt_report_input *in, const tt_price_bucket *b, size_t n,
                        tt_price_bucket *red)
{
    uint32_t sym = b[0].symbol;
    size_t m = price_reduce(b, n, red);
    tt_chart c = time_chart(b[0].ts, b[n - 1].ts);
    c.lo = (double)red[0].low;
    c.hi = (double)red[0].high;
    size_t ntr = 0;
    for (size_t i = 0; i < m; i++) {
        c.lo = fmin(c.lo, (double)red[i].low);
        c.hi = fmax(c.hi, (double)red[i].high);
    }
    for (size_t i = 0; i < in->ntrades; i++) {
        const tt_trade_record *t = &in->trades[i];
        if (t->symbol != sym)
            continue;
        ntr++;
        c.lo = fmin(c.lo, fmin((double)t->open_price, (double)t->close_price));
        c.hi = fmax(c.hi, fmax((double)t->open_price, (double)t->close_price));
        c.t0 = t->open_ts < c.t0 ? t->open_ts : c.t0;
        c.t1 = t->close_ts > c.t1 ? t->close_ts : c.t1;
    }
    double pad = (c.hi - c.lo) * 0.05;
    c.lo -= pad > 1 ? pad : 1;
    c.hi += pad > 1 ? pad : 1;
    size_t every = ntr > MAX_MARKERS ? (ntr + MAX_MARKERS - 1) / MAX_MARKERS : 1;
    char sbuf[32];
    const char *name = tt_report_symbol(in->instruments, sym, sbuf, sizeof sbuf);
    fputs("<h3>", f);
    tt_report_html_str(f, name);
    fprintf(f, " <small>(bid; &#9650; buy, &#9660; sell, &#9675; exit; %zu trade%s", ntr,
            ntr == 1 ? "" : "s");
    if (every > 1)
        fprintf(f, ", markers for every %zu%s trade", every,
                every % 10 == 1 && every % 100 != 11 ? "st"
                : every % 10 == 2 && every % 100 != 12 ? "nd"
                : every % 10 == 3 && every % 100 != 13 ? "rd" : "th");
    fputs(")</small></h3>\n", f);
    price_ctx pc = {in, sym};
    char id[48];
    snprintf(id, sizeof id, "price-chart-%u", sym);
    svg_open(f, id, "price with entries and exits", &c);
    tt_chart_values(f, &c, price_label, &pc);
    tt_chart_time_axis(f, &c);
    /* each bucket as a vertical stroke open, low/high (in the order that
     * leads to the close), close: every spike is drawn */
    fputs("<polyline class=\"px\" points=\"", f);
    for (size_t i = 0; i < m; i++) {
        const tt_price_bucket *b = &red[i];
        int up = b->close >= b->open;
        tt_price v[4] = {b->open, up ? b->low : b->high, up ? b->high : b->low, b->close};
        double x = tt_chart_x(&c, b->ts);
        for (int k = 0; k < 4; k++)
            if (k == 0 || v[k] != v[k - 1])
                fprintf(f, "%s%.1f,%.1f", i || k ? " " : "", x, tt_chart_y(&c, (double)v[k]));
    }
    fputs("\"/>", f);
    trade_markers(f, in, &c, sym, ntr, every);
    fputs("</svg>\n", f);
}

int tt_html_price_charts(FILE *f, const tt_report_input *in)
{
    fputs("<section id=\"price\"><h2>Price, entries and exits</h2>\n", f);
    if (!in->prices || in->nprices == 0) {
        fputs("<p>No price path was recorded for this run.</p></section>\n", f);
        return TT_OK;
    }
    tt_price_bucket *red = malloc(in->nprices * sizeof *red);
    if (!red)
        return TT_ENOMEM;
    size_t i = 0;
    int charts = 0;
    while (i < in->nprices) {
        size_t j = i;
        while (j < in->nprices && in->prices[j].symbol == in->prices[i].symbol)
            j++;
        if (charts++ < MAX_PRICE_CHARTS)
            price_chart(f, in, in->prices + i, j - i, red);
        i = j;
    }
    if (charts > MAX_PRICE_CHARTS)
        fprintf(f, "<p>The first %d of %d symbols.</p>", MAX_PRICE_CHARTS, charts);
    free(red);
    fputs("</section>\n", f);
    return TT_OK;
}
