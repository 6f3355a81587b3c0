/*
 * CI gates: thresholds on a run's figures and on its change against a stored
 * baseline, with a table for people and JUnit XML for CI servers.
 *
 * Gates are data (kind, figure, limit), read once from the scenario and
 * evaluated against a tt_metrics, so backtest and walk-forward share one
 * implementation: walk-forward passes its combined out-of-sample figures and
 * its efficiency. Every gate is evaluated and reported, so one CI run shows
 * everything that regressed, not only the first thing.
 *
 * An undefined figure (a Sharpe ratio over fewer than two days) is NaN and
 * fails any threshold: a gate exists to prove something, and "unknown" does
 * not prove it.
 */
#include "gates.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int add_gate(tt_gates *g, int kind, const char *figure, double limit, int line)
{
    tt_gate *n = realloc(g->gates, (g->n + 1) * sizeof *n);
    if (!n)
        return TT_ENOMEM;
    g->gates = n;
    memset(&n[g->n], 0, sizeof n[g->n]);
    n[g->n].kind = kind;
    snprintf(n[g->n].figure, sizeof n[g->n].figure, "%s", figure);
    n[g->n].limit = limit;
    n[g->n].line = line;
    g->n++;
    return TT_OK;
}

int tt_gates_read(tt_gates *g, const tt_research_doc *doc, tt_err *err)
{
    memset(g, 0, sizeof *g);
    g->minor_per_unit = 100;
    const char *file = tt_research_doc_name(doc);
    snprintf(g->file, sizeof g->file, "%s", file);
    tt_ynode sec = tt_research_doc_section(doc, "gates");
    if (!sec)
        return tt_err_set(err, TT_ENOTFOUND, "%s: the scenario has no gates: section", file);
    if (tt_ynode_type(doc, sec) != 'm')
        return tt_ynode_error(err, doc, sec, "gates: expected a mapping");
    tt_ynode change = 0;
    int rc = TT_OK;
    for (size_t i = 0; i < tt_ynode_map_size(doc, sec) && !rc; i++) {
        const char *k = tt_ynode_map_key(doc, sec, i);
        tt_ynode v = tt_ynode_map_value(doc, sec, i);
        char what[96];
        snprintf(what, sizeof what, "gates.%s", k ? k : "?");
        if (!k) {
            rc = tt_ynode_error(err, doc, v, "gates: keys must be plain text");
        } else if (!strcmp(k, "baseline")) {
            const char *p = tt_ynode_scalar(doc, v);
            if (!p || !*p)
                return tt_ynode_error(err, doc, v, "gates.baseline: expected a file name");
            const char *slash = strrchr(file, '/');
            if (p[0] == '/' || !slash)
                snprintf(g->baseline, sizeof g->baseline, "%s", p);
            else
                snprintf(g->baseline, sizeof g->baseline, "%.*s/%s", (int)(slash - file), file, p);
        } else if (!strcmp(k, "max_change_pct")) {
            change = v;
            if (tt_ynode_type(doc, v) != 'm')
                return tt_ynode_error(err, doc, v,
                                      "gates.max_change_pct: expected {figure: percent, ...}");
            for (size_t j = 0; j < tt_ynode_map_size(doc, v) && !rc; j++) {
                const char *fk = tt_ynode_map_key(doc, v, j);
                tt_ynode fv = tt_ynode_map_value(doc, v, j);
                if (fk && tt_figure_renamed(fk))
                    return tt_ynode_error(err, doc, fv,
                                          "gates.max_change_pct: '%s' is now '%s' (percent)", fk,
                                          tt_figure_renamed(fk));
                if (!fk || !tt_figure_find(fk))
                    return tt_ynode_error(err, doc, fv, "gates.max_change_pct: unknown figure '%s'",
                                          fk ? fk : "?");
                char w2[128];
                snprintf(w2, sizeof w2, "gates.max_change_pct.%s", fk);
                double lim;
                if ((rc = tt_ynode_double(doc, fv, w2, &lim, err)))
                    return rc;
                if (lim < 0)
                    return tt_ynode_error(err, doc, fv, "%s: must be >= 0", w2);
                rc = add_gate(g, TT_GATE_CHANGE, fk, lim, tt_ynode_line(doc, fv));
            }
        } else if (!strncmp(k, "min_", 4) || !strncmp(k, "max_", 4)) {
            /* "max_drawdown_pct" is itself a figure: its gate is an upper bound. */
            const char *fig = (!tt_figure_find(k + 4) && tt_figure_find(k)) ? k : k + 4;
            if (tt_figure_renamed(fig))
                return tt_ynode_error(err, doc, v, "gates: '%s' is now '%.4s%s': the figure is "
                                      "in percent", k, k, tt_figure_renamed(fig));
            if (strcmp(fig, "wfe") && !tt_figure_find(fig))
                return tt_ynode_error(err, doc, v,
                                      "gates: unknown gate '%s' (min_<figure>, max_<figure>, "
                                      "min_wfe, baseline, max_change_pct)",
                                      k);
            double lim;
            if ((rc = tt_ynode_double(doc, v, what, &lim, err)))
                return rc;
            rc = add_gate(g, k[1] == 'i' ? TT_GATE_MIN : TT_GATE_MAX, fig, lim,
                          tt_ynode_line(doc, v));
        } else {
            rc = tt_ynode_error(err, doc, v,
                                "gates: unknown gate '%s' (min_<figure>, max_<figure>, min_wfe, "
                                "baseline, max_change_pct)",
                                k);
        }
    }
    if (rc == TT_ENOMEM)
        return tt_err_set(err, TT_ENOMEM, "gates: out of memory");
    if (rc)
        return rc;
    if (change && !g->baseline[0])
        return tt_ynode_error(err, doc, change, "gates.max_change_pct: needs gates.baseline");
    return TT_OK;
}

void tt_gates_free(tt_gates *g)
{
    free(g->gates);
    memset(g, 0, sizeof *g);
}

static int read_baseline(const char *path, tt_json_flat *j, tt_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot open the gates baseline: %s", path,
                          strerror(errno));
    tt_buf b = {0};
    int rc = tt_buf_read_stream(&b, f);
    int e = errno;
    fclose(f);
    if (rc) { /* a read error is not the end of the file: no verdict on a part of it */
        tt_buf_free(&b);
        if (rc == TT_ENOMEM)
            return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
        return tt_err_set(err, TT_EIO, "%s: cannot read the gates baseline: %s", path,
                          strerror(e));
    }
    rc = tt_json_flat_parse(j, b.data ? (const char *)b.data : "", b.len, path, err);
    tt_buf_free(&b);
    return rc;
}

static void fmt_num(char *out, size_t n, double v)
{
    if (isnan(v))
        snprintf(out, n, "n/a"); /* as the text summaries print it */
    else
        snprintf(out, n, "%.6g", v);
}

/* A figure as gates see it: money in currency units. */
static double gate_value(const tt_gates *g, const tt_figure *f, const tt_metrics *m)
{
    double v = tt_figure_value(f, m);
    if (f->kind == TT_FIG_MONEY || f->kind == TT_FIG_MINOR)
        v /= (double)(g->minor_per_unit > 0 ? g->minor_per_unit : 100);
    return v;
}

int tt_gates_eval(const tt_gates *g, const tt_metrics *m, const double *wfe, tt_gate_result **resp,
                  size_t *nfail, tt_err *err)
{
    *resp = NULL;
    *nfail = 0;
    tt_json_flat base = {0};
    int have_base = 0;
    for (size_t i = 0; i < g->n; i++)
        have_base |= g->gates[i].kind == TT_GATE_CHANGE;
    if (have_base) {
        int rc = read_baseline(g->baseline, &base, err);
        if (rc)
            return rc;
    }
    tt_gate_result *res = calloc(g->n ? g->n : 1, sizeof *res);
    if (!res) {
        tt_json_flat_free(&base);
        return tt_err_set(err, TT_ENOMEM, "gates: out of memory");
    }
    int rc = TT_OK;
    for (size_t i = 0; i < g->n; i++) {
        const tt_gate *gt = &g->gates[i];
        tt_gate_result *r = &res[i];
        r->gate = *gt;
        r->baseline = r->change_pct = NAN;
        const tt_figure *f = tt_figure_find(gt->figure);
        r->value = f ? gate_value(g, f, m) : wfe ? *wfe : NAN;
        char v[32], l[32], b[32];
        fmt_num(v, sizeof v, r->value);
        fmt_num(l, sizeof l, gt->limit);
        if (gt->kind == TT_GATE_CHANGE) {
            snprintf(r->name, sizeof r->name, "max_change_pct.%s", gt->figure);
            int present = 0;
            const char *bv = tt_json_flat_get(&base, gt->figure, &present);
            char *end = NULL;
            r->baseline = bv ? strtod(bv, &end) : NAN; /* null: undefined in the baseline */
            if (!present || (end && *end)) {
                rc = tt_err_set(err, TT_EFORMAT, "%s: the baseline has no figure '%s'", g->baseline,
                                gt->figure);
                break;
            }
            fmt_num(b, sizeof b, r->baseline);
            double worse = r->value - r->baseline;
            if (f->better == TT_BETTER_HIGHER)
                worse = -worse;
            if (isnan(r->value) || isnan(r->baseline)) {
                r->verdict = isnan(r->value) && isnan(r->baseline) ? TT_GATE_PASS : TT_GATE_FAIL;
                snprintf(r->detail, sizeof r->detail, "%s %s, baseline %s", gt->figure, v, b);
                continue;
            }
            if (r->baseline != 0)
                r->change_pct = worse / fabs(r->baseline) * 100.0;
            else
                r->change_pct = worse > 0 ? INFINITY : worse < 0 ? -INFINITY : 0;
            r->verdict = r->change_pct > gt->limit ? TT_GATE_FAIL : TT_GATE_PASS;
            snprintf(r->detail, sizeof r->detail, "%s %s vs baseline %s: %.4g%% %s (limit %s%%)",
                     gt->figure, v, b, fabs(r->change_pct),
                     r->change_pct > 0 ? "worse" : "better or equal", l);
            if (r->change_pct <= 0)
                snprintf(r->detail, sizeof r->detail, "%s %s vs baseline %s: not worse", gt->figure,
                         v, b);
            continue;
        }
        if (gt->kind == TT_GATE_MAX && !strncmp(gt->figure, "max_", 4))
            snprintf(r->name, sizeof r->name, "%s", gt->figure); /* as written */
        else
            snprintf(r->name, sizeof r->name, "%s_%s", gt->kind == TT_GATE_MIN ? "min" : "max",
                     gt->figure);
        if (!f && !wfe) {
            r->verdict = TT_GATE_SKIP;
            snprintf(r->detail, sizeof r->detail, "no walk-forward efficiency in this run");
            continue;
        }
        int ok = gt->kind == TT_GATE_MIN ? r->value >= gt->limit : r->value <= gt->limit;
        r->verdict = ok ? TT_GATE_PASS : TT_GATE_FAIL; /* NaN compares false: fails */
        snprintf(r->detail, sizeof r->detail, "%s %s %s %s", gt->figure, v,
                 ok ? (gt->kind == TT_GATE_MIN ? ">=" : "<=")
                    : (gt->kind == TT_GATE_MIN ? "<" : ">"),
                 l);
    }
    tt_json_flat_free(&base);
    if (rc) {
        free(res);
        return rc;
    }
    for (size_t i = 0; i < g->n; i++)
        *nfail += res[i].verdict == TT_GATE_FAIL;
    *resp = res;
    return TT_OK;
}

static const char *verdict_name(int v)
{
    return v == TT_GATE_PASS ? "pass" : v == TT_GATE_FAIL ? "FAIL" : "skipped";
}

void tt_gates_table(FILE *f, const tt_gate_result *res, size_t n)
{
    fprintf(f, "%-28s %-8s %s\n", "gate", "verdict", "detail");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%-28s %-8s %s\n", res[i].name, verdict_name(res[i].verdict), res[i].detail);
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, f);
        }
    }
}

int tt_gates_junit(const char *path, const char *suite, const tt_gate_result *res, size_t n,
                   tt_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot write JUnit XML: %s", path, strerror(errno));
    size_t fails = 0, skips = 0;
    for (size_t i = 0; i < n; i++) {
        fails += res[i].verdict == TT_GATE_FAIL;
        skips += res[i].verdict == TT_GATE_SKIP;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    fprintf(f, "  <testsuite name=\"");
    xml_text(f, suite);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", n, fails,
            skips);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    <testcase classname=\"ticktape.gates\" name=\"");
        xml_text(f, res[i].name);
        fprintf(f, "\">");
        if (res[i].verdict == TT_GATE_FAIL) {
            fprintf(f, "\n      <failure message=\"");
            xml_text(f, res[i].detail);
            fprintf(f, "\" type=\"gate\">");
            xml_text(f, res[i].detail);
            fprintf(f, "</failure>\n    ");
        } else if (res[i].verdict == TT_GATE_SKIP) {
            fprintf(f, "\n      <skipped message=\"");
            xml_text(f, res[i].detail);
            fprintf(f, "\"/>\n    ");
        }
        fprintf(f, "</testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    int bad = ferror(f); /* a write that failed before the last flush */
    if (fclose(f) != 0 || bad)
        return tt_err_set(err, TT_EIO, "%s: write failed: %s", path, strerror(errno));
    return TT_OK;
}

int tt_baseline_write(const char *path, const tt_metrics *m, const double *wfe,
                      int64_t minor_per_unit, tt_err *err)
{
    tt_gates g = {.minor_per_unit = minor_per_unit};
    tt_buf b = {0};
    size_t n;
    const tt_figure *figs = tt_figures(&n);
    int rc = tt_buf_append(&b, "{", 1);
    for (size_t i = 0; i < n && !rc; i++) {
        rc = tt_buf_printf(&b, "%s\n  \"%s\": ", i ? "," : "", figs[i].name);
        rc = rc ? rc : tt_buf_json_double(&b, gate_value(&g, &figs[i], m));
    }
    if (!rc && wfe) {
        rc = tt_buf_append(&b, ",\n  \"wfe\": ", 10);
        rc = rc ? rc : tt_buf_json_double(&b, *wfe);
    }
    rc = rc ? rc : tt_buf_append(&b, "\n}\n", 3);
    if (rc) {
        tt_buf_free(&b);
        return tt_err_set(err, TT_ENOMEM, "baseline: out of memory");
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        tt_buf_free(&b);
        return tt_err_set(err, TT_EIO, "%s: cannot write the baseline: %s", path, strerror(errno));
    }
    size_t w = fwrite(b.data, 1, b.len, f);
    int bad = fclose(f) != 0 || w != b.len;
    tt_buf_free(&b);
    return bad ? tt_err_set(err, TT_EIO, "%s: write failed", path) : TT_OK;
}
