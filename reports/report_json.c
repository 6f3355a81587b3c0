/*
 * ticktape reports: the JSON summary.
 *
 * How this works: one flat object, keys in a fixed order. Money is printed
 * from its integer minor units as an exact decimal in currency units; ratios
 * with %.12g (twelve significant digits: far past what a figure means, short
 * enough to read); undefined figures (NaN, inf) as null.
 * The same writer serves summary.json (one key per line) and the last line of
 * `ticktape backtest --json` (one line), so the two never disagree.
 *
 * Units (docs/reports.md): every key ending in _pct is percent (5 = 5%);
 * money keys are currency units; sharpe, sortino, calmar, profit_factor,
 * trade_sharpe and sqn are plain ratios; durations say their unit in the key
 * (_days, _hours). The annualised figures are null below the minimum-data
 * rule (annualized false; min_days and min_returns state the rule).
 */
#include "report_internal.h"

#include <math.h>
#include <string.h>

typedef struct jw {
    FILE *f;
    int one_line;
    int n;
} jw;

static void key(jw *w, const char *k)
{
    fputs(w->n++ ? (w->one_line ? ", " : ",\n  ") : (w->one_line ? "{" : "{\n  "), w->f);
    tt_report_json_str(w->f, k);
    fputs(": ", w->f);
}

static void kstr(jw *w, const char *k, const char *v)
{
    key(w, k);
    if (v)
        tt_report_json_str(w->f, v);
    else
        fputs("null", w->f);
}

static void knum(jw *w, const char *k, double v)
{
    key(w, k);
    tt_report_json_num(w->f, v);
}

static void kint(jw *w, const char *k, uint64_t v)
{
    key(w, k);
    fprintf(w->f, "%llu", (unsigned long long)v);
}

static void kbool(jw *w, const char *k, int v)
{
    key(w, k);
    fputs(v ? "true" : "false", w->f);
}

static void kmoney(jw *w, const char *k, tt_money m, int64_t minor)
{
    char buf[48];
    tt_report_money(m, minor, buf, sizeof buf);
    key(w, k);
    fputs(buf, w->f);
}

static void kts(jw *w, const char *k, tt_ts ts)
{
    if (!ts) {
        kstr(w, k, NULL);
        return;
    }
    char buf[48];
    tt_ts_format(ts, buf, sizeof buf, 0);
    kstr(w, k, buf);
}

/* "rejected_orders": total, "rejected_by": {"risk.<rule>": n, "order.<reason>": n}
 * (the non-zero ones, in enum order). */
static void rejects(jw *w, const tt_reject_counts *c)
{
    tt_reject_counts none;
    if (!c) {
        memset(&none, 0, sizeof none);
        c = &none;
    }
    kint(w, "rejected_orders", tt_reject_total(c));
    key(w, "rejected_by");
    fputc('{', w->f);
    int n = 0;
    for (int i = 0; i < TT_RULE_COUNT; i++)
        if (c->rule[i])
            fprintf(w->f, "%s\"risk.%s\": %llu", n++ ? ", " : "", tt_risk_rule_name(i),
                    (unsigned long long)c->rule[i]);
    for (int i = 0; i < TT_REASON_COUNT; i++)
        if (c->reason[i])
            fprintf(w->f, "%s\"order.%s\": %llu", n++ ? ", " : "", tt_order_reason_name(i),
                    (unsigned long long)c->reason[i]);
    fputc('}', w->f);
}

void tt_report_json_write(const tt_report_input *in, FILE *f, int one_line)
{
    const tt_metrics *m = in->metrics;
    int64_t minor = tt_report_minor(in);
    jw w = {f, one_line, 0};
    char fp[33];
    tt_fingerprint_hex(in->fingerprint, fp);
    kstr(&w, "name", in->name);
    kstr(&w, "fingerprint", fp);
    kint(&w, "events", in->events);
    kint(&w, "trades", m->trades);
    kmoney(&w, "net_pnl", m->net_pnl, minor);
    knum(&w, "return_pct", m->return_pct);
    knum(&w, "sharpe", m->sharpe);
    knum(&w, "sortino", m->sortino);
    knum(&w, "calmar", m->calmar);
    knum(&w, "cagr_pct", m->cagr_pct);
    knum(&w, "ann_volatility_pct", m->ann_volatility_pct);
    knum(&w, "max_drawdown_pct", m->max_drawdown_pct);
    kmoney(&w, "max_drawdown", m->max_drawdown, minor);
    knum(&w, "max_drawdown_days", (double)m->max_dd_duration / (double)TT_NS_PER_DAY);
    knum(&w, "win_rate_pct", m->win_rate_pct);
    knum(&w, "profit_factor", m->profit_factor);
    knum(&w, "expectancy", m->expectancy / (double)minor);
    knum(&w, "avg_win", m->avg_win / (double)minor);
    knum(&w, "avg_loss", m->avg_loss / (double)minor);
    kmoney(&w, "largest_win", m->largest_win, minor);
    kmoney(&w, "largest_loss", m->largest_loss, minor);
    kint(&w, "wins", m->wins);
    kint(&w, "losses", m->losses);
    kint(&w, "long_trades", m->long_trades);
    kint(&w, "short_trades", m->short_trades);
    kmoney(&w, "gross_profit", m->gross_profit, minor);
    kmoney(&w, "gross_loss", m->gross_loss, minor);
    knum(&w, "time_in_market_pct", m->time_in_market_pct);
    kmoney(&w, "commissions", m->commissions, minor);
    kmoney(&w, "swaps", m->swaps, minor);
    kstr(&w, "currency", in->currency ? in->currency : "USD");
    kmoney(&w, "initial_balance", m->initial_balance, minor);
    kmoney(&w, "final_balance", m->final_balance, minor);
    kmoney(&w, "final_equity", m->final_equity, minor);
    kmoney(&w, "peak_equity", m->peak_equity, minor);
    knum(&w, "trade_stdev", m->trade_stdev / (double)minor);
    knum(&w, "trade_sharpe", m->trade_sharpe);
    knum(&w, "sqn", m->sqn);
    knum(&w, "avg_hold_hours", (double)m->avg_hold / (double)TT_NS_PER_HOUR);
    kint(&w, "days", m->days);
    kint(&w, "periods_per_year", m->periods_per_year);
    kbool(&w, "annualized", m->annualized);
    kint(&w, "min_days", (uint64_t)m->min_days);
    kint(&w, "min_returns", (uint64_t)m->min_returns);
    kint(&w, "equity_points", in->nequity);
    kint(&w, "orders_sent", in->orders_sent);
    kint(&w, "fills", in->fills);
    kint(&w, "risk_rejects", in->risk_rejects);
    rejects(&w, in->rejects);
    kint(&w, "stop_outs", in->stop_outs);
    if (in->live) { /* what the live feed lost (paper) */
        kint(&w, "drops", in->drops);
        kint(&w, "rejects", in->feed_rejects);
        kint(&w, "gaps", in->gaps);
    }
    kstr(&w, "strategy", in->strategy);
    kstr(&w, "params", in->params);
    kstr(&w, "data", in->data);
    if (in->bar_model)
        kstr(&w, "model", in->bar_model);
    kts(&w, "from", in->from);
    kts(&w, "to", in->to);
    kts(&w, "first_ts", m->first_ts);
    kts(&w, "last_ts", m->last_ts);
    fputs(one_line ? "}\n" : "\n}\n", f);
}

int tt_report_json(const tt_report_input *in, const char *path, tt_err *err)
{
    char tmp[4200];
    FILE *f = tt_report_open_tmp(path, tmp, sizeof tmp, err);
    if (!f)
        return err ? err->code : TT_EIO;
    tt_report_json_write(in, f, 0);
    return tt_report_commit(f, tmp, path, err);
}
