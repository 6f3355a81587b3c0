/*
 * ticktape reports: shared helpers and tt_report_write_all.
 *
 * How this works: each writer formats into a temporary file next to its
 * target and renames it into place only when every byte was written, so a
 * reader never sees half a report. Numbers are formatted from integers where
 * they are money (exact decimals), and with fixed printf formats where they
 * are ratios; nothing depends on the locale, the clock or the host.
 */
#include "report_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *tt_report_open_tmp(const char *path, char *tmp, size_t tmpsize, tt_err *err)
{
    int n = snprintf(tmp, tmpsize, "%s.tmp", path);
    if (n < 0 || (size_t)n >= tmpsize) {
        tt_err_set(err, TT_EINVAL, "%s: path too long", path);
        return NULL;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f)
        tt_err_set(err, TT_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    return f;
}

int tt_report_commit(FILE *f, const char *tmp, const char *path, tt_err *err)
{
    int bad = ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return tt_err_set(err, TT_EIO, "%s: write failed: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return tt_err_set(err, TT_EIO, "%s: cannot rename into place: %s", path, strerror(e));
    }
    return TT_OK;
}

void tt_report_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void tt_report_html_str(FILE *f, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*p, f);
        }
    }
}

void tt_report_json_num(FILE *f, double v)
{
    if (!isfinite(v))
        fputs("null", f);
    else
        fprintf(f, "%.12g", v);
}

void tt_report_num(double v, int decimals, const char *suffix, char *buf, size_t bufsize)
{
    if (isnan(v))
        snprintf(buf, bufsize, "n/a");
    else if (isinf(v))
        snprintf(buf, bufsize, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, bufsize, "%.*f%s", decimals, v == 0 ? 0.0 : v, suffix ? suffix : "");
}

void tt_report_ratio(double v, char *buf, size_t bufsize)
{
    if (isnan(v))
        snprintf(buf, bufsize, "n/a");
    else if (isinf(v))
        snprintf(buf, bufsize, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, bufsize, "%.6g", v == 0 ? 0.0 : v);
}

void tt_report_rule_text(const tt_metrics *m, char *buf, size_t bufsize)
{
    if (m->annualized) {
        if (bufsize)
            buf[0] = '\0';
        return;
    }
    double days = m->points ? (double)(m->last_ts - m->first_ts) / (double)TT_NS_PER_DAY : 0.0;
    snprintf(buf, bufsize,
             "annualised figures (CAGR, volatility, Sharpe, Sortino, Calmar) are n/a: the run "
             "spans %.1f days with %u daily return%s; they need at least %d days and %d daily "
             "returns (metrics.min_days, metrics.min_returns)",
             days, m->days, m->days == 1 ? "" : "s", (int)m->min_days, (int)m->min_returns);
}

/* One rejection count: a rule or a reason. */
typedef struct reject_item {
    int is_rule, code;
    uint64_t n;
} reject_item;

static size_t reject_items(const tt_reject_counts *c, reject_item *v)
{
    size_t n = 0;
    for (int i = 0; i < TT_RULE_COUNT; i++)
        if (c->rule[i])
            v[n++] = (reject_item){1, i, c->rule[i]};
    for (int i = 0; i < TT_REASON_COUNT; i++)
        if (c->reason[i])
            v[n++] = (reject_item){0, i, c->reason[i]};
    /* largest first; stable on the enum order (insertion sort) */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j].n > v[j - 1].n; j--) {
            reject_item t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n;
}

void tt_report_rejects_text(const tt_reject_counts *c, char *buf, size_t bufsize)
{
    reject_item v[TT_RULE_COUNT + TT_REASON_COUNT];
    size_t n = c ? reject_items(c, v) : 0;
    if (bufsize)
        buf[0] = '\0';
    if (n == 0)
        return;
    size_t used = (size_t)snprintf(buf, bufsize, "%llu order%s:",
                                   (unsigned long long)tt_reject_total(c),
                                   tt_reject_total(c) == 1 ? "" : "s");
    for (size_t i = 0; i < n && used < bufsize; i++)
        used += (size_t)snprintf(buf + used, bufsize - used, "%s %s%s %llu", i ? "," : "",
                                 v[i].is_rule                         ? "risk "
                                 : v[i].code == TT_REASON_INVALID ? ""
                                                                      : "venue ",
                                 v[i].is_rule ? tt_risk_rule_name(v[i].code)
                                              : tt_order_reason_name(v[i].code),
                                 (unsigned long long)v[i].n);
}

const char *tt_report_reject_meaning(int is_rule, int code)
{
    if (is_rule) {
        switch (code) {
        case TT_RULE_MAX_POSITION: return "the position would pass risk.max_position_lots";
        case TT_RULE_MAX_EXPOSURE: return "gross exposure would pass risk.max_exposure";
        case TT_RULE_MAX_ORDER_SIZE: return "the order is larger than risk.max_order_lots";
        case TT_RULE_MAX_ORDER_RATE: return "more orders a second than risk.max_orders_per_sec";
        case TT_RULE_DAILY_LOSS: return "trading halted for the day: the daily loss limit";
        case TT_RULE_MAX_DRAWDOWN: return "trading halted: risk.max_drawdown_pct reached";
        case TT_RULE_KILL_SWITCH: return "the kill switch stopped trading";
        case TT_RULE_MARGIN_CALL: return "margin level at the margin call: no new exposure";
        case TT_RULE_STOP_OUT: return "margin level at the stop-out";
        default: return "";
        }
    }
    switch (code) {
    case TT_REASON_NO_MONEY: return "not enough free margin";
    case TT_REASON_MARGIN_CALL: return "the account is below the margin-call level";
    case TT_REASON_INVALID: return "malformed: quantity, prices, type or time in force";
    case TT_REASON_NO_QUOTE: return "no quote for the symbol yet";
    case TT_REASON_NO_RATE: return "no quote to convert into the account currency";
    case TT_REASON_NO_POSITION: return "closes a position that is not open";
    case TT_REASON_HALTED: return "trading halted by a risk limit";
    case TT_REASON_FOK: return "fill-or-kill could not fill in full";
    default: return "";
    }
}

int64_t tt_report_minor(const tt_report_input *in)
{
    return in->minor_per_unit > 0 ? in->minor_per_unit : 100;
}

void tt_report_money(tt_money m, int64_t minor_per_unit, char *buf, size_t bufsize)
{
    if (minor_per_unit <= 0)
        minor_per_unit = 100;
    int digits = 0;
    for (int64_t x = minor_per_unit; x > 1; x /= 10)
        digits++;
    /* magnitude as unsigned: INT64_MIN has no positive counterpart */
    uint64_t mag = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
    uint64_t whole = mag / (uint64_t)minor_per_unit, frac = mag % (uint64_t)minor_per_unit;
    if (digits)
        snprintf(buf, bufsize, "%s%llu.%0*llu", m < 0 ? "-" : "", (unsigned long long)whole,
                 digits, (unsigned long long)frac);
    else
        snprintf(buf, bufsize, "%s%llu", m < 0 ? "-" : "", (unsigned long long)whole);
}

const char *tt_report_symbol(const tt_instruments *ins, uint32_t symbol, char *buf, size_t bufsize)
{
    const tt_instrument *i = ins ? tt_instruments_get(ins, symbol) : NULL;
    if (i)
        return i->symbol;
    snprintf(buf, bufsize, "#%u", symbol);
    return buf;
}

void tt_report_price(const tt_instruments *ins, uint32_t symbol, tt_price p, char *buf,
                     size_t bufsize)
{
    const tt_instrument *i = ins ? tt_instruments_get(ins, symbol) : NULL;
    if (!i || tt_price_format(i, p, buf, (int)bufsize) < 0)
        snprintf(buf, bufsize, "%lld", (long long)p);
}

void tt_report_lots(const tt_report_input *in, uint32_t symbol, int64_t qty, char *buf,
                    size_t bufsize)
{
    const tt_instrument *i = in->instruments ? tt_instruments_get(in->instruments, symbol) : NULL;
    double step = i && i->volume_step > 0 ? i->volume_step : 0.01;
    int d = 0;
    double s = step;
    while (d < 8 && fabs(s - floor(s + 0.5)) > 1e-9) {
        s *= 10;
        d++;
    }
    snprintf(buf, bufsize, "%.*f", d, (double)qty * step);
}

int tt_report_write_all(const tt_report_input *in, const char *dir, const tt_report_outputs *which,
                        tt_err *err)
{
    tt_report_outputs all = {1, 1, 1, 1};
    if (!which)
        which = &all;
    /* mkdir -p: every missing component, then the directory itself */
    char path[4200];
    int n = snprintf(path, sizeof path, "%s", dir);
    if (n <= 0 || (size_t)n >= sizeof path)
        return tt_err_set(err, TT_EINVAL, "%s: bad output directory name", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return tt_err_set(err, TT_EIO, "%s: cannot create the output directory: %s", path,
                              strerror(errno));
        *p = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return tt_err_set(err, TT_EIO, "%s: not a directory", dir);
    int rc = TT_OK;
    if (which->html && rc == TT_OK) {
        snprintf(path, sizeof path, "%s/report.html", dir);
        rc = tt_report_html(in, path, err);
    }
    if (which->json && rc == TT_OK) {
        snprintf(path, sizeof path, "%s/summary.json", dir);
        rc = tt_report_json(in, path, err);
    }
    if (which->csv && rc == TT_OK) {
        snprintf(path, sizeof path, "%s/trades.csv", dir);
        rc = tt_report_trades_csv(in, path, err);
    }
    if (which->hdf5 && rc == TT_OK) {
        snprintf(path, sizeof path, "%s/series.h5", dir);
        rc = tt_report_hdf5(in, path, err);
    }
    return rc;
}
