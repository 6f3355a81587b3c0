/*
 * The sweep page's choices from a hand-made 3 x 3 sweep: the default
 * ranking figure (Sharpe only when some run has one, else net P&L), the
 * heatmap cells and legend, and the stability of the best cell's
 * neighbourhood worked out by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/sweep_report.h"

/* net P&L (minor units) by (fast, slow):
 *            fast 1   2    3
 *   slow 30     600  700  800
 *   slow 20     400  900  500
 *   slow 10     100  200  300
 * The best cell is the centre (900). Ranks from the worst, u = rank / 8:
 * 100 -> 0, 200 -> 1/8, ..., 800 -> 7/8. Its eight neighbours average
 * (0 + 1 + ... + 7) / 8 / 8 = 0.4375: the top 56% of cells; 100, 200, 300
 * and 400 are in the worse half (u < 0.5). */
static const int FAST[9] = {1, 1, 1, 2, 2, 2, 3, 3, 3};
static const int SLOW[9] = {10, 20, 30, 10, 20, 30, 10, 20, 30};
static const tt_money NET[9] = {100, 400, 600, 200, 900, 700, 300, 500, 800};

static void build(tt_sweep_plan *p, tt_param *params, tt_run_summary *runs)
{
    memset(p, 0, sizeof *p);
    p->njobs = 9;
    p->nparams = 2;
    p->params = params;
    for (int i = 0; i < 9; i++) {
        snprintf(params[2 * i].key, TT_PARAM_KEY_MAX, "strategy.params.fast");
        snprintf(params[2 * i].value, TT_PARAM_VALUE_MAX, "%d", FAST[i]);
        snprintf(params[2 * i + 1].key, TT_PARAM_KEY_MAX, "strategy.params.slow");
        snprintf(params[2 * i + 1].value, TT_PARAM_VALUE_MAX, "%d", SLOW[i]);
        memset(&runs[i], 0, sizeof runs[i]);
        runs[i].status = TT_RUN_OK;
        runs[i].m.net_pnl = NET[i];
        runs[i].m.sharpe = NAN;
        runs[i].m.sqn = NAN;
        runs[i].m.profit_factor = NAN;
        runs[i].m.trades = 3;
        snprintf(runs[i].run_id, sizeof runs[i].run_id, "s-%04d", i);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return b;
}

static void test_default_figure(void **state)
{
    (void)state;
    tt_sweep_plan p;
    tt_param params[18];
    tt_run_summary runs[9];
    build(&p, params, runs);
    tt_sweep_table t = {"hand", &p, runs, {NULL, NULL}, NULL, 100};
    int fb = 0;
    assert_string_equal(tt_sweep_default_figure(&t, &fb), "net_pnl");
    assert_int_equal(fb, 1);
    assert_int_equal(tt_sweep_best(&t, NULL), 4); /* the centre, by net P&L */
    runs[2].m.sharpe = 0.4; /* one run long enough for a Sharpe ratio */
    assert_string_equal(tt_sweep_default_figure(&t, &fb), "sharpe");
    assert_int_equal(fb, 0);
    assert_int_equal(tt_sweep_best(&t, NULL), 2);
    runs[2].status = TT_RUN_FAILED; /* only completed runs count */
    assert_string_equal(tt_sweep_default_figure(&t, &fb), "net_pnl");
    t.figure = "trades"; /* a figure asked for wins */
    assert_string_equal(tt_sweep_default_figure(&t, &fb), "trades");
    assert_int_equal(fb, 0);
}

static void test_page(void **state)
{
    (void)state;
    tt_sweep_plan p;
    tt_param params[18];
    tt_run_summary runs[9];
    build(&p, params, runs);
    tt_sweep_table t = {"hand", &p, runs, {NULL, NULL}, NULL, 100};
    char dir[] = "/tmp/tt_sweep_page_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[96];
    snprintf(path, sizeof path, "%s/sweep.html", dir);
    tt_err err;
    assert_int_equal(tt_sweep_html(&t, path, &err), TT_OK);
    char *html = slurp(path);
    assert_non_null(strstr(html, "Ranked by <b>net_pnl</b>"));
    assert_non_null(strstr(html, "id=\"ranking-note\""));
    assert_non_null(strstr(html, "Best by net_pnl: run 4 (strategy.params.fast=2 "
                                 "strategy.params.slow=20) with 9.00."));
    /* the best cell framed, the legend's ends */
    assert_non_null(strstr(html, "stroke=\"#000000\" stroke-width=\"3\"/><text x=\"186\" "
                                 "y=\"61\" text-anchor=\"middle\" font-weight=\"bold\">9.00"));
    assert_non_null(strstr(html, "<text x=\"60\" y=\"34\">1.00</text><text x=\"300\" y=\"34\" "
                                 "text-anchor=\"end\">9.00</text>"));
    assert_non_null(strstr(html, "the 8 neighbours of the best cell rank on average in the top "
                                 "56% of cells; 4 of them in the worse half. An isolated peak"));
    /* undefined figures: grey cells reading n/a, and no stability to judge */
    assert_non_null(strstr(html, "<svg id=\"heatmap-sharpe\""));
    assert_non_null(strstr(html, "fill=\"#cccccc\" stroke=\"#ffffff\" stroke-width=\"1\"/>"
                                 "<text x=\"122\" y=\"91\" text-anchor=\"middle\">n/a</text>"));
    assert_null(strstr(html, "id=\"stability-sharpe\""));
    assert_null(strstr(html, "nan"));
    assert_null(strstr(html, "<script"));
    free(html);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_figure),
        cmocka_unit_test(test_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
