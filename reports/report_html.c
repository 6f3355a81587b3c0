/*
 * ticktape reports: the HTML report, the page.
 *
 * How this works: one page, written top to bottom with fprintf: inline CSS,
 * no scripts, no external resources, so it opens offline and a browser has
 * nothing to complain about. In order:
 *
 *   header       name, strategy and parameters, the data (and the bar model,
 *                partial or dropped data when there was any), the range, the
 *                event count, the fingerprint;
 *   figures      returns, risk, trades (and why annualised figures are n/a
 *                on a short run);
 *   charts       equity, drawdown (report_chart.c), the worst drawdowns
 *                (report_analysis.c), price with entries and exits;
 *   tables       monthly returns; the trade analyses (report_analysis.c);
 *                rejected orders; the trade list (the first MAX_TRADE_ROWS
 *                trades; trades.csv has them all), sized to fit the page;
 *   the scenario as given, and the fingerprint.
 *
 * Numbers have fixed formats and coordinates one decimal, so the same run
 * gives the same bytes.
 */
#include "report_html_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    ".figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:0 24px;"
    "align-items:start}"
    ".figs td:last-child{font-variant-numeric:tabular-nums}"
    ".pos{color:#1a7f37}.neg{color:#cf222e}.scroll{max-height:480px;overflow:auto}"
    "svg{width:100%;height:auto;display:block}svg text{font:11px sans-serif;fill:#57606a}"
    ".grid{stroke:#eaeef2;stroke-width:1}.axis,.tick{stroke:#8c959f;stroke-width:1}"
    ".eq{fill:none;stroke:#0969da;stroke-width:1.5}.bal{fill:none;stroke:#8250df;"
    "stroke-width:1;stroke-dasharray:4 3}.dd{fill:#ffcecb;stroke:#cf222e;stroke-width:1}"
    ".marker{stroke:#9a6700;stroke-width:1;stroke-dasharray:2 3}svg .mlabel{fill:#9a6700}"
    ".px{fill:none;stroke:#0969da;stroke-width:1}"
    ".entry.buy{fill:#1a7f37}.entry.sell{fill:#cf222e}.exit{fill:#fff;stroke:#24292f;"
    "stroke-width:1}.tw{stroke:#1a7f37;stroke-width:1}.tl{stroke:#cf222e;stroke-width:1}"
    ".hw{fill:#4ac26b}.hl{fill:#ff8182}.mean{stroke:#24292f;stroke-dasharray:4 3}"
    ".dw{fill:#1a7f37;fill-opacity:.6}.dl{fill:#cf222e;fill-opacity:.6}svg .cap{fill:#24292f}"
    "svg .n{fill:#8c959f;font-size:9px}h3{font-size:14px;margin:14px 0 6px}"
    ".pair{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-start}.pair figure{margin:0}"
    "figcaption{color:#57606a;font-size:12px}"
    "#trade-list,#fold-list{font-size:12px}#trade-list td,#trade-list th,#fold-list td,"
    "#fold-list th{padding:2px 5px}#trade-list td.w{white-space:normal}"
    "#fold-list td,#fold-list th{white-space:normal}.nw{white-space:nowrap}td.l{text-align:left;white-space:normal}"
    "pre{background:#f6f8fa;padding:8px;overflow:auto;margin:0}"
    "footer{color:#57606a;font-size:12px;margin:16px 0}"
    ".note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px;"
    "margin:8px 0 0}";

/* ---- formatting (report_html_internal.h) ---- */

void tt_html_fixed(char *buf, size_t n, double v, int decimals, const char *suffix)
{
    if (!isfinite(v)) {
        snprintf(buf, n, isinf(v) ? (v > 0 ? "&#8734;" : "-&#8734;") : "n/a");
        return;
    }
    if (v == 0)
        v = 0; /* no "-0.00" */
    snprintf(buf, n, "%.*f%s", decimals, v, suffix ? suffix : "");
}

const char *tt_html_sign(double v)
{
    return !isfinite(v) || v == 0 ? "" : v > 0 ? "pos" : "neg";
}

void tt_html_date(tt_ts ts, char *buf, size_t n)
{
    int y, mo, d, h, mi, s;
    int64_t ns;
    tt_ts_to_civil(ts, &y, &mo, &d, &h, &mi, &s, &ns);
    snprintf(buf, n, "%04d-%02d-%02d", y, mo, d);
}

void tt_html_datetime(tt_ts ts, char *buf, size_t n)
{
    int y, mo, d, h, mi, s;
    int64_t ns;
    tt_ts_to_civil(ts, &y, &mo, &d, &h, &mi, &s, &ns);
    snprintf(buf, n, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s);
}

void tt_html_duration(tt_ts ns, char *buf, size_t n)
{
    double days = (double)ns / (double)TT_NS_PER_DAY;
    if (days >= 1)
        snprintf(buf, n, "%.1f days", days);
    else if (ns >= TT_NS_PER_HOUR)
        snprintf(buf, n, "%.1f hours", (double)ns / (double)TT_NS_PER_HOUR);
    else
        snprintf(buf, n, "%.0f min", (double)ns / (double)TT_NS_PER_MIN);
}

static void fig_row(FILE *f, const char *label, const char *value, const char *cls)
{
    fprintf(f, "<tr><td>%s</td><td class=\"%s\">%s</td></tr>", label, cls ? cls : "", value);
}

static void fig_money(FILE *f, const tt_report_input *in, const char *label, tt_money m, int signed_)
{
    char b[48];
    tt_report_money(m, tt_report_minor(in), b, sizeof b);
    fig_row(f, label, b, signed_ ? tt_html_sign((double)m) : "");
}

static void fig_num(FILE *f, const char *label, double v, int decimals, const char *suffix,
                    int signed_)
{
    char b[64];
    tt_html_fixed(b, sizeof b, v, decimals, suffix);
    fig_row(f, label, b, signed_ ? tt_html_sign(v) : "");
}

static void fig_duration(FILE *f, const char *label, tt_ts ns)
{
    char b[64];
    tt_html_duration(ns, b, sizeof b);
    fig_row(f, label, b, "");
}

/* ---- tables ---- */

static void figures(FILE *f, const tt_report_input *in)
{
    const tt_metrics *m = in->metrics;
    fputs("<section id=\"figures\"><h2>Figures</h2><div class=\"figs\">", f);
    fputs("<table><tr><th colspan=\"2\">Returns</th></tr>", f);
    fig_money(f, in, "Net P&amp;L", m->net_pnl, 1);
    fig_num(f, "Total return", m->return_pct, 2, "%", 1);
    fig_num(f, "CAGR", m->cagr_pct, 2, "%", 1);
    fig_num(f, "Annualized volatility", m->ann_volatility_pct, 2, "%", 0);
    fig_num(f, "Sharpe", m->sharpe, 3, NULL, 1);
    fig_num(f, "Sortino", m->sortino, 3, NULL, 1);
    fig_num(f, "Calmar", m->calmar, 3, NULL, 1);
    fig_money(f, in, "Initial balance", m->initial_balance, 0);
    fig_money(f, in, "Final equity", m->final_equity, 0);
    fputs("</table><table><tr><th colspan=\"2\">Risk</th></tr>", f);
    fig_num(f, "Max drawdown", -m->max_drawdown_pct, 2, "%", 1);
    fig_money(f, in, "Max drawdown (money)", -m->max_drawdown, 1);
    fig_duration(f, "Longest drawdown", m->max_dd_duration);
    fig_num(f, "Time in market", m->time_in_market_pct, 1, "%", 0);
    fig_money(f, in, "Peak equity", m->peak_equity, 0);
    fig_money(f, in, "Commissions paid", m->commissions, 0);
    fig_money(f, in, "Swaps (credited)", m->swaps, 1);
    fig_num(f, "Days", (double)m->days, 0, NULL, 0);
    fig_num(f, "Annualization (periods/yr)", (double)m->periods_per_year, 0, NULL, 0);
    fputs("</table><table><tr><th colspan=\"2\">Trades</th></tr>", f);
    fig_num(f, "Trades", (double)m->trades, 0, NULL, 0);
    fprintf(f, "<tr><td>Long / short</td><td>%llu / %llu</td></tr>",
            (unsigned long long)m->long_trades, (unsigned long long)m->short_trades);
    fig_num(f, "Win rate", m->win_rate_pct, 1, "%", 0);
    fig_num(f, "Profit factor", m->profit_factor, 3, NULL, 0);
    int64_t minor = tt_report_minor(in);
    fig_num(f, "Expectancy", m->expectancy / (double)minor, 2, NULL, 1);
    fig_num(f, "Average win", m->avg_win / (double)minor, 2, NULL, 1);
    fig_num(f, "Average loss", m->avg_loss / (double)minor, 2, NULL, 1);
    fig_money(f, in, "Largest win", m->largest_win, 1);
    fig_money(f, in, "Largest loss", m->largest_loss, 1);
    fig_num(f, "Trade P&amp;L stdev", m->trade_stdev / (double)minor, 2, NULL, 0);
    fig_num(f, "Per-trade Sharpe", m->trade_sharpe, 3, NULL, 1);
    fig_num(f, "SQN", m->sqn, 2, NULL, 1);
    fig_duration(f, "Average hold", m->avg_hold);
    fputs("</table></div>", f);
    char rule[400];
    tt_report_rule_text(m, rule, sizeof rule);
    if (rule[0]) {
        /* the figures above read n/a: say why, and what stands in */
        fputs("<p id=\"short-run\" class=\"note\">", f);
        rule[0] = (char)(rule[0] - 'a' + 'A');
        tt_report_html_str(f, rule);
        fputs(". Per-trade figures stand in for them: the per-trade Sharpe (mean net P&amp;L "
              "of a trade over its standard deviation) and the SQN (the same times the square "
              "root of the number of trades), which need two trades, not a calendar.</p>",
              f);
    }
    fputs("</section>\n", f);
}

/* The monthly returns table. TT_OK, or TT_ENOMEM (the section is cut short:
 * the caller discards the file). */
static int monthly(FILE *f, const tt_report_input *in)
{
    static const char *const MON[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    tt_month_return *mr = NULL;
    size_t n = 0;
    fputs("<section id=\"monthly\"><h2>Monthly returns (%)</h2>", f);
    int rc = tt_metrics_monthly(in->equity, in->nequity, in->metrics->initial_balance, &mr, &n,
                                NULL);
    if (rc == TT_ENOMEM)
        return rc;
    if (rc != TT_OK || n == 0) { /* TT_EINVAL: no deposit to measure returns against */
        fputs("<p>No equity points.</p></section>\n", f);
        free(mr);
        return TT_OK;
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
            tt_html_fixed(b, sizeof b, cells[k] * 100.0, 2, NULL);
            fprintf(f, "<td class=\"%s\">%s</td>", tt_html_sign(cells[k]), b);
        }
        char b[48];
        tt_html_fixed(b, sizeof b, (compound - 1.0) * 100.0, 2, NULL);
        fprintf(f, "<td class=\"%s\"><b>%s</b></td></tr>\n", tt_html_sign(compound - 1.0), b);
    }
    fputs("</table></section>\n", f);
    free(mr);
    return TT_OK;
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
    /* compact: a smaller font, and the times may wrap between date and time,
     * so that the table fits the page instead of scrolling sideways */
    fputs("<div class=\"scroll\"><table id=\"trade-list\"><tr><th>#</th><th>Symbol</th>"
          "<th>Side</th><th>Lots</th><th>Open (UTC)</th><th>Price</th><th>Close (UTC)</th>"
          "<th>Price</th><th>Comm.</th><th>Swap</th><th>Net</th><th>Exit</th></tr>\n",
          f);
    size_t n = in->ntrades < MAX_TRADE_ROWS ? in->ntrades : MAX_TRADE_ROWS;
    for (size_t i = 0; i < n; i++) {
        const tt_trade_record *t = &in->trades[i];
        char sym[32], lots[32], ot[32], ct[32], op[48], cp[48], com[48], sw[48], net[48];
        const char *s = tt_report_symbol(in->instruments, t->symbol, sym, sizeof sym);
        tt_report_lots(in, t->symbol, t->qty, lots, sizeof lots);
        tt_html_datetime(t->open_ts, ot, sizeof ot);
        tt_html_datetime(t->close_ts, ct, sizeof ct);
        tt_report_price(in->instruments, t->symbol, t->open_price, op, sizeof op);
        tt_report_price(in->instruments, t->symbol, t->close_price, cp, sizeof cp);
        tt_report_money(t->commission, minor, com, sizeof com);
        tt_report_money(t->swap, minor, sw, sizeof sw);
        tt_report_money(t->net, minor, net, sizeof net);
        fprintf(f,
                "<tr><td>%llu</td><td>%s</td><td>%s</td><td>%s</td><td class=\"w\">%s</td>"
                "<td>%s</td><td class=\"w\">%s</td><td>%s</td><td>%s</td><td>%s</td>"
                "<td class=\"%s\">%s</td><td>%s</td></tr>\n",
                (unsigned long long)t->id, s, t->side == TT_BUY ? "buy" : "sell", lots, ot, op, ct,
                cp, com, sw, tt_html_sign((double)t->net), net,
                tt_trade_close_reason_name(t->close_reason));
    }
    fputs("</table></div></section>\n", f);
}

/* What ran on what: strategy, data, bar model, range, events, fingerprint;
 * then, in a note, anything the run did not see (partial data, a live feed's
 * losses). */
static void header(FILE *f, const tt_report_input *in, const char *fp)
{
    fputs("<p class=\"sub\">", f);
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
    if (in->from || in->to) {
        char a[32] = "", b[32] = "";
        if (in->from)
            tt_html_datetime(in->from, a, sizeof a);
        if (in->to)
            tt_html_datetime(in->to, b, sizeof b);
        fprintf(f, "%s &ndash; %s UTC &middot; ", a, b);
    }
    fprintf(f, "%llu events &middot; fingerprint <code id=\"fingerprint\">%s</code></p>\n",
            (unsigned long long)in->events, fp);
    fputs("<p class=\"sub\" id=\"data\">data: <b>", f);
    tt_report_html_str(f, in->data ? in->data : "(not given)");
    fputs("</b>", f);
    if (in->bar_model) {
        fputs(" &middot; bar model: <b id=\"bar-model\">", f);
        tt_report_html_str(f, in->bar_model);
        fputs("</b>", f);
    }
    fputs("</p>\n", f);
    if (in->data_note || in->drops || in->feed_rejects || in->gaps) {
        fputs("<p class=\"note\" id=\"data-warning\">", f);
        if (in->data_note) {
            tt_report_html_str(f, in->data_note);
            fputs(". ", f);
        }
        if (in->drops || in->feed_rejects || in->gaps)
            fprintf(f, "The live feed lost data: %llu tick%s dropped, %llu message%s rejected, "
                       "%llu gap%s; the figures are those of what the session saw.",
                    (unsigned long long)in->drops, in->drops == 1 ? "" : "s",
                    (unsigned long long)in->feed_rejects, in->feed_rejects == 1 ? "" : "s",
                    (unsigned long long)in->gaps, in->gaps == 1 ? "" : "s");
        fputs("</p>\n", f);
    }
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
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<h1 id=\"top\">", CSS);
    tt_report_html_str(f, name);
    fputs("</h1>\n", f);
    header(f, in, fp);
    figures(f, in);
    /* the sections that allocate: a report without one of them is not the
     * report, so an allocation failure fails the whole file */
    int rc = tt_html_charts(f, in);
    if (!rc)
        tt_html_folds(f, in);
    if (rc || tt_html_drawdowns(f, in) || tt_html_price_charts(f, in) || monthly(f, in) ||
        tt_html_trade_charts(f, in) || tt_html_breakdowns(f, in)) {
        fclose(f);
        unlink(tmp);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory drawing the report's charts or "
                                          "tables", path);
    }
    tt_html_rejects(f, in);
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
