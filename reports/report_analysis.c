/*
 * ticktape reports: the trade analyses of the HTML report, after the MT5
 * Strategy Tester's report and a quantstats tearsheet.
 *
 *   drawdowns    the five deepest drawdowns of the equity series: peak,
 *                trough, recovery (or "not recovered"), depth, length;
 *   distribution a histogram of the trades' net P&L (bins: the square root
 *                of the count, 5 to 40), with zero and the mean marked, and
 *                the trades by exit (signal, stop loss, take profit, ...);
 *   MAE / MFE    each trade's net P&L against its maximum adverse and
 *                favourable excursion (points): winners green, losers red;
 *   per symbol   trades, long/short, win rate, net, profit factor, average
 *                trade, commissions, average hold, for each symbol;
 *   by hour and weekday  net P&L and trade count by the UTC hour and the
 *                weekday of the entry;
 *   rejects      the orders rejected, by the risk gate's rule and by the
 *                reason of the venue (or the runner) with what each means;
 *   folds        a walk-forward's folds: windows, the choice, in- and
 *                out-of-sample figures, efficiency.
 *
 * How this works: each section is one pass over the trades (or the equity
 * series) in their order, with fixed-size accumulators; a scatter of more
 * than MAX_DOTS trades draws every k-th one and says so. Drawdowns are read
 * from the kept equity series (on a run long enough to be thinned, their
 * dates are those of the kept points; the headline figure stays exact).
 */
#include "report_html_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DOTS 3000
#define WORST_DRAWDOWNS 5

/* ---- worst drawdowns ---- */

typedef struct dd_episode {
    tt_ts peak_ts, trough_ts, end_ts;
    tt_money peak, trough;
    double frac;
    int recovered;
} dd_episode;

/* Keep the WORST_DRAWDOWNS deepest (ties: the earlier one first). */
static void dd_keep(dd_episode *top, int *n, const dd_episode *e)
{
    int pos = *n;
    while (pos > 0 && e->frac > top[pos - 1].frac)
        pos--;
    if (pos >= WORST_DRAWDOWNS)
        return;
    int last = *n < WORST_DRAWDOWNS ? *n : WORST_DRAWDOWNS - 1;
    memmove(&top[pos + 1], &top[pos], (size_t)(last - pos) * sizeof *top);
    top[pos] = *e;
    if (*n < WORST_DRAWDOWNS)
        (*n)++;
}

int tt_html_drawdowns(FILE *f, const tt_report_input *in)
{
    fputs("<section id=\"drawdowns\"><h2>Worst drawdowns</h2>", f);
    dd_episode top[WORST_DRAWDOWNS], cur;
    int ntop = 0, open = 0;
    tt_money peak = in->metrics->initial_balance;
    tt_ts peak_ts = in->nequity ? in->equity[0].ts : 0;
    memset(&cur, 0, sizeof cur);
    for (size_t i = 0; i < in->nequity; i++) {
        const tt_equity_point *p = &in->equity[i];
        if (p->equity >= peak) {
            if (open) {
                cur.end_ts = p->ts;
                cur.recovered = 1;
                dd_keep(top, &ntop, &cur);
                open = 0;
            }
            peak = p->equity;
            peak_ts = p->ts;
            continue;
        }
        if (!open) {
            open = 1;
            cur = (dd_episode){peak_ts, p->ts, p->ts, peak, p->equity, 0, 0};
        }
        if (p->equity < cur.trough) {
            cur.trough = p->equity;
            cur.trough_ts = p->ts;
        }
        cur.frac = peak > 0 ? (double)(peak - cur.trough) / (double)peak : 1.0;
    }
    if (open) {
        cur.end_ts = in->equity[in->nequity - 1].ts;
        dd_keep(top, &ntop, &cur);
    }
    if (ntop == 0) {
        fputs("<p>Equity never fell below a previous peak.</p></section>\n", f);
        return TT_OK;
    }
    fputs("<table id=\"drawdown-list\"><tr><th>#</th><th>Peak (UTC)</th><th>Trough</th>"
          "<th>Recovered</th><th>Depth</th><th>Money</th><th>Peak to trough</th>"
          "<th>Length</th></tr>\n",
          f);
    for (int i = 0; i < ntop; i++) {
        const dd_episode *e = &top[i];
        char a[32], b[32], c[32], depth[32], money[48], fall[32], len[32];
        tt_html_datetime(e->peak_ts, a, sizeof a);
        tt_html_datetime(e->trough_ts, b, sizeof b);
        if (e->recovered)
            tt_html_datetime(e->end_ts, c, sizeof c);
        else
            snprintf(c, sizeof c, "not recovered");
        tt_html_fixed(depth, sizeof depth, -e->frac * 100.0, 2, "%");
        tt_report_money(e->trough - e->peak, tt_report_minor(in), money, sizeof money);
        tt_html_duration(e->trough_ts - e->peak_ts, fall, sizeof fall);
        tt_html_duration(e->end_ts - e->peak_ts, len, sizeof len);
        fprintf(f, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td class=\"neg\">%s</td>"
                   "<td class=\"neg\">%s</td><td>%s</td><td>%s%s</td></tr>\n",
                i + 1, a, b, c, depth, money, fall, len, e->recovered ? "" : " so far");
    }
    fputs("</table></section>\n", f);
    return TT_OK;
}

/* ---- the distribution of trade P&L ---- */

/* Value labels along the bottom of a value-axis chart. */
static void x_values(FILE *f, const tt_chart *c, tt_chart_label_fn label, const void *ctx)
{
    double step = tt_chart_step(c->x0, c->x1, 6);
    for (double v = ceil(c->x0 / step) * step; v <= c->x1 + step * 1e-9; v += step) {
        char text[48];
        label(ctx, fabs(v) < step * 1e-9 ? 0.0 : v, step, text, sizeof text);
        double x = tt_chart_xv(c, v);
        fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                   "<text class=\"t\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                x, c->h - c->pb, x, c->h - c->pb + 4, x, c->h - c->pb + 15, text);
    }
}

static void count_label(const void *ctx, double v, double step, char *buf, size_t n)
{
    (void)ctx;
    (void)step;
    snprintf(buf, n, "%.0f", v);
}

static void points_label(const void *ctx, double v, double step, char *buf, size_t n)
{
    (void)ctx;
    (void)step;
    snprintf(buf, n, "%.0f", v);
}

static void histogram(FILE *f, const tt_report_input *in)
{
    size_t n = in->ntrades;
    double lo = (double)in->trades[0].net, hi = lo, sum = 0;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, (double)in->trades[i].net);
        hi = fmax(hi, (double)in->trades[i].net);
        sum += (double)in->trades[i].net;
    }
    if (hi <= lo) {
        lo -= 1;
        hi += 1;
    }
    int nb = (int)ceil(sqrt((double)n));
    nb = nb < 5 ? 5 : nb > 40 ? 40 : nb;
    size_t count[40] = {0}, top = 1;
    double w = (hi - lo) / nb;
    for (size_t i = 0; i < n; i++) {
        int b = (int)(((double)in->trades[i].net - lo) / w);
        count[b >= nb ? nb - 1 : b < 0 ? 0 : b]++;
    }
    for (int b = 0; b < nb; b++)
        top = count[b] > top ? count[b] : top;
    tt_chart c = {470, 260, 44, 12, 12, 30, 0, 0, lo, hi, 0, (double)top * 1.08, 1};
    fputs("<figure style=\"flex:470 1 0\"><figcaption>Net P&amp;L per trade (bars: trades; "
          "dashed: the mean)</figcaption><svg id=\"pnl-hist\" viewBox=\"0 0 470 260\" role=\"img\" "
          "aria-label=\"distribution of trade P&amp;L\" xmlns=\"http://www.w3.org/2000/svg\">",
          f);
    tt_chart_values(f, &c, count_label, NULL);
    x_values(f, &c, tt_chart_money_label, in);
    for (int b = 0; b < nb; b++) {
        double x0 = tt_chart_xv(&c, lo + w * b), x1 = tt_chart_xv(&c, lo + w * (b + 1));
        double y = tt_chart_y(&c, (double)count[b]);
        char a[48], z[48];
        tt_report_money((tt_money)llround(lo + w * b), tt_report_minor(in), a, sizeof a);
        tt_report_money((tt_money)llround(lo + w * (b + 1)), tt_report_minor(in), z, sizeof z);
        fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                   "<title>%s to %s: %zu trade%s</title></rect>",
                lo + w * (b + 0.5) >= 0 ? "hw" : "hl", x0 + 0.5, y, fmax(x1 - x0 - 1, 0.5),
                tt_chart_y(&c, 0) - y, a, z, count[b], count[b] == 1 ? "" : "s");
    }
    double mean = sum / (double)n;
    if (lo <= 0 && hi >= 0)
        fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                tt_chart_xv(&c, 0), c.pt, tt_chart_xv(&c, 0), c.h - c.pb);
    fprintf(f, "<line class=\"mean\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
            tt_chart_xv(&c, mean), c.pt, tt_chart_xv(&c, mean), c.h - c.pb);
    fputs("</svg></figure>\n", f);
}

/* ---- MAE and MFE against the result ---- */

static void scatter_panel(FILE *f, const tt_report_input *in, double dx, int mfe, size_t every)
{
    tt_money ylo = 0, yhi = 0;
    tt_price xhi = 1;
    for (size_t i = 0; i < in->ntrades; i++) {
        const tt_trade_record *t = &in->trades[i];
        ylo = t->net < ylo ? t->net : ylo;
        yhi = t->net > yhi ? t->net : yhi;
        tt_price x = mfe ? t->mfe_points : t->mae_points;
        xhi = x > xhi ? x : xhi;
    }
    double pad = (double)(yhi - ylo) * 0.05 + 1;
    tt_chart c = {470, 280, 60, 10, 22, 30, 0, 0, 0, (double)xhi * 1.05,
                  (double)ylo - pad, (double)yhi + pad, 0};
    fprintf(f, "<g transform=\"translate(%.0f 0)\"><text class=\"cap\" x=\"%.1f\" y=\"14\">"
               "net P&amp;L (%s) against %s (points)</text>",
            dx, c.pl, in->currency ? in->currency : "USD",
            mfe ? "MFE, the best excursion" : "MAE, the worst excursion");
    tt_chart_values(f, &c, tt_chart_money_label, in);
    x_values(f, &c, points_label, NULL);
    for (size_t i = 0; i < in->ntrades; i += every) {
        const tt_trade_record *t = &in->trades[i];
        tt_price x = mfe ? t->mfe_points : t->mae_points;
        fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>",
                t->net > 0 ? "dw" : "dl", tt_chart_xv(&c, (double)x),
                tt_chart_y(&c, (double)t->net));
    }
    fputs("</g>", f);
}

/* Trades and net P&L by how they were closed. */
static void exit_reasons(FILE *f, const tt_report_input *in)
{
    uint64_t n[TT_CLOSE_END + 1] = {0}, wins[TT_CLOSE_END + 1] = {0};
    tt_money net[TT_CLOSE_END + 1] = {0};
    for (size_t i = 0; i < in->ntrades; i++) {
        int r = in->trades[i].close_reason <= TT_CLOSE_END ? in->trades[i].close_reason : 0;
        n[r]++;
        wins[r] += in->trades[i].net > 0;
        net[r] += in->trades[i].net;
    }
    fputs("<div style=\"flex:430 1 0\"><table id=\"exit-reasons\"><tr><th>Exit</th>"
          "<th>Trades</th><th>Won</th><th>Net P&amp;L</th></tr>",
          f);
    for (int r = 0; r <= TT_CLOSE_END; r++) {
        if (!n[r])
            continue;
        char money[48];
        tt_report_money(net[r], tt_report_minor(in), money, sizeof money);
        fprintf(f, "<tr><td>%s</td><td>%llu</td><td>%llu</td><td class=\"%s\">%s</td></tr>",
                tt_trade_close_reason_name(r), (unsigned long long)n[r],
                (unsigned long long)wins[r], tt_html_sign((double)net[r]), money);
    }
    fputs("</table></div>", f);
}

int tt_html_trade_charts(FILE *f, const tt_report_input *in)
{
    fputs("<section id=\"distribution\"><h2>Trade results</h2>", f);
    if (in->ntrades == 0) {
        fputs("<p>No closed trades.</p></section>\n", f);
        return TT_OK;
    }
    fputs("<div class=\"pair\">", f);
    histogram(f, in);
    exit_reasons(f, in);
    size_t every = in->ntrades > MAX_DOTS ? (in->ntrades + MAX_DOTS - 1) / MAX_DOTS : 1;
    fputs("</div><h3 id=\"mae-mfe\">Maximum adverse and favourable excursion</h3>"
          "<svg id=\"mae-mfe-chart\" viewBox=\"0 0 960 280\" role=\"img\" aria-label=\"MAE and "
          "MFE against net P&amp;L\" xmlns=\"http://www.w3.org/2000/svg\">",
          f);
    scatter_panel(f, in, 0, 0, every);
    scatter_panel(f, in, 490, 1, every);
    fputs("</svg>", f);
    if (every > 1)
        fprintf(f, "<p class=\"sub\">Every %zu-th of %zu trades is drawn.</p>", every,
                in->ntrades);
    fputs("<p class=\"sub\">Green: winners, red: losers and flat trades. A loser far right on "
          "the MFE side was in profit first; winners far right on the MAE side survived a deep "
          "adverse move.</p></section>\n",
          f);
    return TT_OK;
}

/* ---- per symbol, by hour, by weekday ---- */

typedef struct sym_acc {
    uint32_t symbol;
    uint64_t trades, wins, longs;
    tt_money net, profit, loss, commission;
    double hold_ns;
} sym_acc;

static int per_symbol(FILE *f, const tt_report_input *in)
{
    sym_acc *v = calloc(in->ntrades, sizeof *v);
    if (!v)
        return TT_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < in->ntrades; i++) {
        const tt_trade_record *t = &in->trades[i];
        size_t k = 0;
        while (k < n && v[k].symbol != t->symbol)
            k++;
        if (k == n)
            v[n++].symbol = t->symbol;
        sym_acc *a = &v[k];
        a->trades++;
        a->wins += t->net > 0;
        a->longs += t->side == TT_BUY;
        a->net += t->net;
        a->profit += t->net > 0 ? t->net : 0;
        a->loss += t->net < 0 ? t->net : 0;
        a->commission += t->commission;
        a->hold_ns += (double)(t->close_ts - t->open_ts);
    }
    int64_t minor = tt_report_minor(in);
    fputs("<h3>By symbol</h3><table id=\"per-symbol\"><tr><th>Symbol</th><th>Trades</th>"
          "<th>Long / short</th><th>Win rate</th><th>Net P&amp;L</th><th>Profit factor</th>"
          "<th>Average trade</th><th>Commissions</th><th>Average hold</th></tr>\n",
          f);
    for (size_t k = 0; k < n; k++) {
        const sym_acc *a = &v[k];
        char sb[32], net[48], com[48], wr[32], pf[32], avg[32], hold[32];
        const char *s = tt_report_symbol(in->instruments, a->symbol, sb, sizeof sb);
        tt_report_money(a->net, minor, net, sizeof net);
        tt_report_money(a->commission, minor, com, sizeof com);
        tt_html_fixed(wr, sizeof wr, (double)a->wins / (double)a->trades * 100.0, 1, "%");
        tt_html_fixed(pf, sizeof pf,
                      a->loss < 0 ? (double)a->profit / (double)-a->loss
                      : a->profit > 0 ? INFINITY : NAN,
                      3, NULL);
        tt_html_fixed(avg, sizeof avg, (double)a->net / (double)a->trades / (double)minor, 2,
                      NULL);
        tt_html_duration((tt_ts)(a->hold_ns / (double)a->trades), hold, sizeof hold);
        fputs("<tr><td>", f);
        tt_report_html_str(f, s);
        fprintf(f, "</td><td>%llu</td><td>%llu / %llu</td><td>%s</td><td class=\"%s\">%s</td>"
                   "<td>%s</td><td class=\"%s\">%s</td><td>%s</td><td>%s</td></tr>\n",
                (unsigned long long)a->trades, (unsigned long long)a->longs,
                (unsigned long long)(a->trades - a->longs), wr, tt_html_sign((double)a->net), net,
                pf, tt_html_sign((double)a->net), avg, com, hold);
    }
    fputs("</table>\n", f);
    free(v);
    return TT_OK;
}

/* Net P&L and trade count per bucket as bars around a zero line. */
static void bucket_bars(FILE *f, const tt_report_input *in, const char *id, const char *caption,
                        const char *const *names, int nb, const tt_money *net,
                        const uint64_t *count)
{
    double lo = 0, hi = 0;
    for (int b = 0; b < nb; b++) {
        lo = fmin(lo, (double)net[b]);
        hi = fmax(hi, (double)net[b]);
    }
    if (hi <= lo)
        hi = lo + (double)tt_report_minor(in);
    double pad = (hi - lo) * 0.08;
    tt_chart c = {nb > 7 ? 620.0 : 330.0, 240, 60, 8, 10, 40, 0, 0, 0, nb, lo - pad, hi + pad, 0};
    /* figures share the row in proportion to their widths: one scale for both */
    fprintf(f, "<figure style=\"flex:%.0f 1 0\"><figcaption>%s</figcaption><svg id=\"%s\" "
               "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\" "
               "xmlns=\"http://www.w3.org/2000/svg\">",
            c.w, caption, id, c.w, c.h, caption);
    tt_chart_values(f, &c, tt_chart_money_label, in);
    double y0 = tt_chart_y(&c, 0);
    for (int b = 0; b < nb; b++) {
        double x0 = tt_chart_xv(&c, b), x1 = tt_chart_xv(&c, b + 1);
        double y = tt_chart_y(&c, (double)net[b]);
        char money[48];
        tt_report_money(net[b], tt_report_minor(in), money, sizeof money);
        if (count[b])
            fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                   "<title>%s: %llu trade%s, net %s</title></rect>",
                net[b] >= 0 ? "hw" : "hl", x0 + 1, fmin(y, y0), fmax(x1 - x0 - 2, 0.5),
                fmax(fabs(y0 - y), 0.5), names[b], (unsigned long long)count[b],
                count[b] == 1 ? "" : "s", money);
        fprintf(f, "<text class=\"t\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>"
                   "<text class=\"n\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%llu</text>",
                (x0 + x1) / 2, c.h - c.pb + 14, names[b], (x0 + x1) / 2, c.h - c.pb + 27,
                (unsigned long long)count[b]);
    }
    fputs("</svg></figure>", f);
}

static void by_time(FILE *f, const tt_report_input *in)
{
    static const char *const HOURS[24] = {"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",
                                          "8",  "9",  "10", "11", "12", "13", "14", "15",
                                          "16", "17", "18", "19", "20", "21", "22", "23"};
    static const char *const DAYS[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    tt_money hnet[24] = {0}, dnet[7] = {0};
    uint64_t hcount[24] = {0}, dcount[7] = {0};
    for (size_t i = 0; i < in->ntrades; i++) {
        const tt_trade_record *t = &in->trades[i];
        tt_ts day = t->open_ts / TT_NS_PER_DAY - (t->open_ts % TT_NS_PER_DAY < 0);
        int h = (int)((t->open_ts - day * TT_NS_PER_DAY) / TT_NS_PER_HOUR);
        int wd = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
        hnet[h] += t->net;
        hcount[h]++;
        dnet[wd] += t->net;
        dcount[wd]++;
    }
    fputs("<h3>By the time of entry <small>(UTC; bars: net P&amp;L, numbers: trades)</small>"
          "</h3><div class=\"pair\">",
          f);
    bucket_bars(f, in, "by-hour", "by hour of entry", HOURS, 24, hnet, hcount);
    bucket_bars(f, in, "by-weekday", "by weekday of entry", DAYS, 7, dnet, dcount);
    fputs("</div>\n", f);
}

int tt_html_breakdowns(FILE *f, const tt_report_input *in)
{
    fputs("<section id=\"breakdowns\"><h2>Breakdowns</h2>", f);
    if (in->ntrades == 0) {
        fputs("<p>No closed trades.</p></section>\n", f);
        return TT_OK;
    }
    if (per_symbol(f, in))
        return TT_ENOMEM;
    by_time(f, in);
    fputs("</section>\n", f);
    return TT_OK;
}

/* ---- rejected orders ---- */

void tt_html_rejects(FILE *f, const tt_report_input *in)
{
    const tt_reject_counts *c = in->rejects;
    uint64_t total = c ? tt_reject_total(c) : 0;
    fputs("<section id=\"rejects\"><h2>Rejected orders</h2>", f);
    if (total == 0) {
        fputs("<p>No order was rejected.</p></section>\n", f);
        return;
    }
    fprintf(f, "<p>%llu order%s never reached the market. A strategy that shows few trades "
               "may have been stopped here rather than by its signals.</p>",
            (unsigned long long)total, total == 1 ? "" : "s");
    fputs("<table id=\"reject-list\"><tr><th>By</th><th>Reason</th><th>Orders</th>"
          "<th>Meaning</th></tr>\n",
          f);
    for (int pass = 0; pass < 2; pass++) {
        int n = pass ? TT_REASON_COUNT : TT_RULE_COUNT;
        for (int i = 0; i < n; i++) {
            uint64_t k = pass ? c->reason[i] : c->rule[i];
            if (!k)
                continue;
            fprintf(f, "<tr><td>%s</td><td>%s</td><td>%llu</td><td class=\"l\">%s</td></tr>\n",
                    pass ? (i == TT_REASON_INVALID ? "strategy runner" : "venue") : "risk gate",
                    pass ? tt_order_reason_name(i) : tt_risk_rule_name(i), (unsigned long long)k,
                    tt_report_reject_meaning(!pass, i));
        }
    }
    fputs("</table></section>\n", f);
}

/* ---- walk-forward folds ---- */

static void window_cell(FILE *f, tt_ts from, tt_ts to)
{
    char a[32], b[32];
    tt_html_datetime(from, a, sizeof a);
    tt_html_datetime(to, b, sizeof b);
    /* "02-04 00:00": the year is in the header; both lines fit a narrow cell */
    fprintf(f, "<td><span class=\"nw\">%.11s &ndash;</span><br><span class=\"nw\">%.11s</span>"
               "</td>", a + 5, b + 5);
}

void tt_html_folds(FILE *f, const tt_report_input *in)
{
    if (!in->folds || in->nfolds == 0)
        return;
    int64_t minor = tt_report_minor(in);
    char wfe[32];
    tt_report_ratio(in->wfe, wfe, sizeof wfe);
    fprintf(f, "<section id=\"folds\"><h2>Walk-forward folds (%zu)</h2>"
               "<p>Each fold runs every parameter set on its train window, keeps the best by "
               "<b>%s</b> among those that qualified, and runs it alone on the test window "
               "that follows; the equity above is the test windows stitched, the dotted lines "
               "their starts. Efficiency: the out-of-sample net P&amp;L per day over the "
               "in-sample one. Walk-forward efficiency over all folds: <b id=\"wfe\">%s</b>."
               "</p>",
            in->nfolds, in->objective ? in->objective : "the objective", wfe);
    fputs("<div class=\"scroll\"><table id=\"fold-list\"><tr><th>Fold</th><th>Train (UTC)</th>"
          "<th>Test</th><th>Chosen</th><th>Qualified</th><th>Objective</th><th>IS net</th>"
          "<th>IS trades</th><th>OOS net</th><th>OOS trades</th><th>OOS return</th>"
          "<th>OOS max DD</th><th>Efficiency</th></tr>\n",
          f);
    for (size_t i = 0; i < in->nfolds; i++) {
        const tt_report_fold *d = &in->folds[i];
        fprintf(f, "<tr><td>%zu</td>", i + 1);
        window_cell(f, d->train_from, d->train_to);
        window_cell(f, d->test_from, d->test_to);
        fputs("<td class=\"l\">", f);
        tt_report_html_str(f, d->chosen ? d->chosen : d->why_none ? d->why_none : "none");
        fprintf(f, "</td><td>%zu / %zu</td>", d->qualified, d->runs);
        if (!d->chosen) {
            fputs("<td colspan=\"8\" class=\"l\">flat: no test run</td></tr>\n", f);
            continue;
        }
        char obj[32], isn[48], oosn[48], ret[32], dd[32], eff[32];
        tt_report_ratio(d->objective, obj, sizeof obj);
        tt_report_money(d->is_net, minor, isn, sizeof isn);
        tt_report_money(d->oos_net, minor, oosn, sizeof oosn);
        tt_html_fixed(ret, sizeof ret, d->oos_return_pct, 2, "%");
        tt_html_fixed(dd, sizeof dd, -d->oos_max_dd_pct, 2, "%");
        tt_report_ratio(d->efficiency, eff, sizeof eff);
        fprintf(f, "<td>%s</td><td class=\"%s\">%s</td><td>%llu</td>", obj,
                tt_html_sign((double)d->is_net), isn, (unsigned long long)d->is_trades);
        if (d->oos_status)
            fprintf(f, "<td colspan=\"4\" class=\"neg\">test run %s</td>", d->oos_status);
        else
            fprintf(f, "<td class=\"%s\">%s</td><td>%llu</td><td class=\"%s\">%s</td>"
                       "<td class=\"neg\">%s</td>",
                    tt_html_sign((double)d->oos_net), oosn, (unsigned long long)d->oos_trades,
                    tt_html_sign(d->oos_return_pct), ret, dd);
        fprintf(f, "<td class=\"eff\">%s</td></tr>\n", eff);
    }
    fputs("</table></div></section>\n", f);
}
