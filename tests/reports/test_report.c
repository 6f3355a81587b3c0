/*
 * Reports from hand-made trades and equity: content of each file, stable
 * bytes across two writes, HDF5 read back by h5py (/usr/bin/python3) and
 * compared with the CSV, and failures that name the file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/report.h"

#define H TT_NS_PER_HOUR
#define D TT_NS_PER_DAY

typedef struct fixture {
    tt_instruments *ins;
    tt_trade_record tr[3];
    tt_equity_point eq[6];
    tt_metrics m;
    tt_report_input in;
    char dir[64];
} fixture;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    fx->ins = tt_instruments_new();
    const tt_instrument *eur = tt_instruments_find(fx->ins, "EURUSD");
    tt_ts t = tt_ts_from_civil(2019, 1, 30, 0, 0, 0, 0);
    /* Account 10,000.00 USD. Trade 1: long 0.10 lot 1.14427 -> 1.14527 = +10 pips
     * = 100 points * 10,000 EUR / 100000 = 10.00 USD, commission 1.40: net 8.60.
     * Trade 2: short 0.20 lot, -25.00 gross, commission 2.80, swap -0.35: net -28.15.
     * Trade 3: long 1.00 lot, +150.00, commission 14.00: net 136.00 (in February). */
    tt_trade_record tr[3] = {
        {.id = 1, .symbol = eur->id, .side = TT_BUY, .qty = 10, .open_ts = t + 9 * H,
         .open_price = 114427, .close_ts = t + 10 * H, .close_price = 114527, .pnl = 1000,
         .commission = 140, .swap = 0, .net = 860, .close_reason = TT_CLOSE_SIGNAL},
        {.id = 2, .symbol = eur->id, .side = TT_SELL, .qty = 20, .open_ts = t + D,
         .open_price = 114500, .close_ts = t + D + 5 * H, .close_price = 114625, .pnl = -2500,
         .commission = 280, .swap = -35, .net = -2815, .close_reason = TT_CLOSE_STOP_LOSS},
        {.id = 3, .symbol = eur->id, .side = TT_BUY, .qty = 100, .open_ts = t + 3 * D,
         .open_price = 114000, .close_ts = t + 3 * D + 2 * H, .close_price = 114150,
         .pnl = 15000, .commission = 1400, .swap = 0, .net = 13600,
         .close_reason = TT_CLOSE_TAKE_PROFIT},
    };
    memcpy(fx->tr, tr, sizeof tr);
    tt_equity_point eq[6] = {
        {t, 1000000, 1000000, 0, 0, 0},
        {t + 9 * H + 30 * TT_NS_PER_MIN, 1000000, 999500, 11443, 1144270, 10},
        {t + 10 * H, 1000860, 1000860, 0, 0, 0},
        {t + D + 5 * H, 998045, 998045, 0, 0, 0},
        {t + 3 * D + H, 998045, 1005000, 114000, 11400000, 100},
        {t + 3 * D + 2 * H, 1011645, 1011645, 0, 0, 0},
    };
    memcpy(fx->eq, eq, sizeof eq);
    assert_int_equal(tt_metrics_compute(fx->tr, 3, fx->eq, 6, 1000000, NULL, &fx->m, NULL), TT_OK);
    tt_report_input in = {
        .name = "hand <made> & \"quoted\"",
        .scenario_text = "name: hand\nstrategy.name: <sma_cross>\n",
        .strategy = "sma_cross",
        .params = "fast=10 slow=30",
        .data = "EURUSD quotes",
        .fingerprint = {0x0123456789abcdefULL, 0xfedcba9876543210ULL},
        .events = 266219,
        .trades = fx->tr,
        .ntrades = 3,
        .equity = fx->eq,
        .nequity = 6,
        .metrics = &fx->m,
        .instruments = fx->ins,
        .currency = "USD",
        .minor_per_unit = 100,
        .from = t,
        .to = t + 4 * D,
    };
    fx->in = in;
    strcpy(fx->dir, "/tmp/tt_report_XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", fx->dir);
    tt_instruments_free(fx->ins);
    free(fx);
    return 0;
}

static void test_files(void **state)
{
    fixture *fx = *state;
    tt_err err;
    assert_int_equal(tt_report_write_all(&fx->in, fx->dir, NULL, &err), TT_OK);
    char path[128];

    /* JSON: net P&L = 8.60 - 28.15 + 136.00 = 116.45 = final equity - 10,000.00 */
    snprintf(path, sizeof path, "%s/summary.json", fx->dir);
    char *json = slurp(path, NULL);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"fingerprint\": \"0123456789abcdeffedcba9876543210\""));
    assert_non_null(strstr(json, "\"net_pnl\": 116.45,"));
    assert_non_null(strstr(json, "\"trades\": 3,"));
    assert_non_null(strstr(json, "\"events\": 266219,"));
    assert_non_null(strstr(json, "\"commissions\": 18.20,"));
    assert_non_null(strstr(json, "\"swaps\": -0.35,"));
    assert_non_null(strstr(json, "\"name\": \"hand <made> & \\\"quoted\\\"\""));
    assert_non_null(strstr(json, "\"sharpe\": "));
    assert_non_null(strstr(json, "\"max_drawdown_pct\": "));
    assert_non_null(strstr(json, "\"return_pct\": 1.1645,"));
    free(json);

    /* one-line form: a single line, the same keys */
    char *line = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&line, &len);
    tt_report_json_write(&fx->in, mf, 1);
    fclose(mf);
    assert_int_equal(strchr(line, '\n') - line, (long)len - 1);
    assert_non_null(strstr(line, "\"net_pnl\": 116.45, "));
    free(line);

    /* CSV: header and three lines with exact prices, lots and money */
    snprintf(path, sizeof path, "%s/trades.csv", fx->dir);
    char *csv = slurp(path, NULL);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "id,symbol,side,lots,qty,open_time,open_price,"));
    assert_non_null(strstr(csv, "\n1,EURUSD,buy,0.10,10,2019-01-30T09:00:00.000Z,1.14427,"
                                "2019-01-30T10:00:00.000Z,1.14527,10.00,1.40,0.00,8.60,signal,"));
    assert_non_null(strstr(csv, "\n2,EURUSD,sell,0.20,20,"));
    assert_non_null(strstr(csv, ",-25.00,2.80,-0.35,-28.15,stop_loss,"));
    assert_non_null(strstr(csv, "\n3,EURUSD,buy,1.00,100,"));
    int lines = 0;
    for (char *p = csv; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 4);
    free(csv);

    /* HTML: charts, tables, escaping, fingerprint */
    snprintf(path, sizeof path, "%s/report.html", fx->dir);
    char *html = slurp(path, NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "<svg id=\"equity-chart\""));
    assert_non_null(strstr(html, "<svg id=\"drawdown-chart\""));
    assert_non_null(strstr(html, "<polyline class=\"eq\" points=\""));
    assert_non_null(strstr(html, "<polygon class=\"dd\" points=\""));
    assert_non_null(strstr(html, "<section id=\"monthly\">"));
    assert_non_null(strstr(html, "<td>2019</td>"));
    assert_non_null(strstr(html, "<table id=\"trade-list\">"));
    assert_non_null(strstr(html, "<td>1.14427</td>"));
    assert_non_null(strstr(html, "hand &lt;made&gt; &amp; &quot;quoted&quot;"));
    assert_non_null(strstr(html, "strategy.name: &lt;sma_cross&gt;"));
    assert_non_null(strstr(html, "0123456789abcdeffedcba9876543210"));
    assert_null(strstr(html, "<script"));
    /* self-contained: nothing to fetch (the only URL is the SVG namespace name) */
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "href=\"http"));
    assert_null(strstr(html, "nan"));
    /* the worst drawdowns, by hand from the equity above: from the 10:00 peak
     * (10,008.60) to 9,980.45 on the 31st (-28.15, -0.28%), recovered at 01:00 on
     * 2 February; from the deposit to 9,995.00 at 09:30 (-5.00, -0.05%), recovered
     * at 10:00 */
    assert_non_null(strstr(html, "<tr><td>1</td><td>2019-01-30 10:00:00</td><td>2019-01-31 "
                                 "05:00:00</td><td>2019-02-02 01:00:00</td><td class=\"neg\">"
                                 "-0.28%</td><td class=\"neg\">-28.15</td>"));
    assert_non_null(strstr(html, "<tr><td>2</td><td>2019-01-30 00:00:00</td><td>2019-01-30 "
                                 "09:30:00</td><td>2019-01-30 10:00:00</td><td class=\"neg\">"
                                 "-0.05%</td><td class=\"neg\">-5.00</td>"));
    /* per symbol: 3 trades, 2 long, 2 of 3 won, PF (8.60 + 136.00) / 28.15 = 5.137 */
    assert_non_null(strstr(html, "<td>EURUSD</td><td>3</td><td>2 / 1</td><td>66.7%</td>"
                                 "<td class=\"pos\">116.45</td><td>5.137</td>"));
    /* by entry time: 30 January 2019 was a Wednesday; trades 2 and 3 open at 00:00 */
    assert_non_null(strstr(html, "<title>Wed: 1 trade, net 8.60</title>"));
    assert_non_null(strstr(html, "<title>Thu: 1 trade, net -28.15</title>"));
    assert_non_null(strstr(html, "<title>Sat: 1 trade, net 136.00</title>"));
    assert_non_null(strstr(html, "<title>0: 2 trades, net 107.85</title>"));
    assert_non_null(strstr(html, "<title>9: 1 trade, net 8.60</title>"));
    /* exits by reason, and no price path given: said so */
    assert_non_null(strstr(html, "<tr><td>stop_loss</td><td>1</td><td>0</td>"
                                 "<td class=\"neg\">-28.15</td></tr>"));
    assert_non_null(strstr(html, "No price path was recorded"));
    /* the header's hooks are absent when not set */
    assert_null(strstr(html, "bar-model"));
    assert_null(strstr(html, "data-warning"));
    free(html);

    /* ... and shown when set: the bar model, partial data, a feed's losses */
    fx->in.bar_model = "M1 OHLC, 4 ticks a bar";
    fx->in.data_note = "partial: 2 of 40 blocks skipped";
    fx->in.drops = 7;
    assert_int_equal(tt_report_html(&fx->in, path, &err), TT_OK);
    html = slurp(path, NULL);
    assert_non_null(strstr(html, "bar model: <b id=\"bar-model\">M1 OHLC, 4 ticks a bar</b>"));
    assert_non_null(strstr(html, "<p class=\"note\" id=\"data-warning\">partial: 2 of 40 "
                                 "blocks skipped. The live feed lost data: 7 ticks dropped, "
                                 "0 messages rejected, 0 gaps"));
    free(html);
}

/* Two writes of the same input give the same bytes, every file. */
static void test_same_bytes(void **state)
{
    fixture *fx = *state;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a", fx->dir);
    snprintf(b, sizeof b, "%s/b", fx->dir);
    assert_int_equal(tt_report_write_all(&fx->in, a, NULL, NULL), TT_OK);
    sleep(1); /* any wall-clock stamp would now differ */
    assert_int_equal(tt_report_write_all(&fx->in, b, NULL, NULL), TT_OK);
    const char *files[] = {"report.html", "summary.json", "trades.csv", "series.h5"};
    for (int i = 0; i < 4; i++) {
        char pa[160], pb[160];
        size_t la, lb;
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        char *x = slurp(pa, &la), *y = slurp(pb, &lb);
        assert_non_null(x);
        assert_non_null(y);
        if (la != lb || memcmp(x, y, la))
            fail_msg("%s differs between two writes", files[i]);
        free(x);
        free(y);
    }
}

/* h5py reads the series back; the columns hold the exact integers. */
static void test_hdf5_h5py(void **state)
{
    fixture *fx = *state;
    const char *py = "/usr/bin/python3";
    if (access(py, X_OK) != 0)
        skip();
    char path[128], cmd[512];
    snprintf(path, sizeof path, "%s/series.h5", fx->dir);
    tt_err err;
    assert_int_equal(tt_report_hdf5(&fx->in, path, &err), TT_OK);
    snprintf(cmd, sizeof cmd,
             "%s -c \"import sys\ntry:\n import h5py\nexcept ImportError:\n print('SKIP'); "
             "sys.exit(0)\nf=h5py.File('%s','r')\ne=f['equity']\nt=f['trades']\n"
             "print(len(e['ts']), int(e['equity'][:].sum()), int(e['position'][:].sum()), "
             "int(e['ts'][-1]), len(t['net']), int(t['net'][:].sum()), int(t['side'][1]), "
             "int(t['close_reason'][2]), f.attrs['fingerprint'].decode(), "
             "int(f.attrs['minor_per_unit']))\"",
             py, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[512] = "";
    if (!fgets(out, sizeof out, p))
        out[0] = '\0';
    assert_int_equal(pclose(p), 0);
    if (!strncmp(out, "SKIP", 4))
        skip();
    /* equity sum: 1000000+999500+1000860+998045+1005000+1011645 = 6015050;
     * positions 10 + 100 = 110; trade nets 860 - 2815 + 13600 = 11645 */
    char want[256];
    snprintf(want, sizeof want, "6 6015050 110 %lld 3 11645 -1 2 0123456789abcdeffedcba9876543210 100\n",
             (long long)fx->eq[5].ts);
    assert_string_equal(out, want);
}

static void test_failures_name_the_file(void **state)
{
    fixture *fx = *state;
    tt_err err;
    char file[128];
    snprintf(file, sizeof file, "%s/plainfile", fx->dir);
    FILE *f = fopen(file, "w");
    fclose(f);
    /* the output "directory" is a file */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/x", file);
    assert_int_equal(tt_report_write_all(&fx->in, sub, NULL, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "plainfile/x"));
    snprintf(sub, sizeof sub, "%s/nodir/report.html", fx->dir);
    assert_int_equal(tt_report_html(&fx->in, sub, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "nodir/report.html"));
    snprintf(sub, sizeof sub, "%s/nodir/series.h5", fx->dir);
    assert_int_equal(tt_report_hdf5(&fx->in, sub, &err), TT_EIO);
    assert_non_null(strstr(err.msg, "nodir/series.h5"));
}

/* An empty run (no trades, no equity) still gives valid files. */
static void test_empty_run(void **state)
{
    fixture *fx = *state;
    tt_report_input in = fx->in;
    tt_metrics m;
    assert_int_equal(tt_metrics_compute(NULL, 0, NULL, 0, 1000000, NULL, &m, NULL), TT_OK);
    in.metrics = &m;
    in.trades = NULL;
    in.ntrades = 0;
    in.equity = NULL;
    in.nequity = 0;
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/empty", fx->dir);
    tt_err err;
    assert_int_equal(tt_report_write_all(&in, dir, NULL, &err), TT_OK);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *json = slurp(path, NULL);
    assert_non_null(strstr(json, "\"sharpe\": null"));
    assert_non_null(strstr(json, "\"trades\": 0,"));
    free(json);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = slurp(path, NULL);
    assert_non_null(strstr(html, "<svg id=\"equity-chart\""));
    assert_non_null(strstr(html, "No closed trades."));
    free(html);
}

/* Money formatting: exact decimals, negative values, other minor units. */
/* Rejected orders: counted by rule and reason in the JSON, the text line
 * (largest first) and the report's table with their meaning. */
static void test_rejects(void **state)
{
    fixture *fx = *state;
    tt_reject_counts c;
    memset(&c, 0, sizeof c);
    c.rule[TT_RULE_DAILY_LOSS] = 3;
    c.reason[TT_REASON_NO_MONEY] = 5;
    c.reason[TT_REASON_INVALID] = 1;
    fx->in.rejects = &c;
    char line[256];
    tt_report_rejects_text(&c, line, sizeof line);
    assert_string_equal(line, "9 orders: venue no_money 5, risk daily_loss 3, invalid 1");
    char *json = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&json, &len);
    tt_report_json_write(&fx->in, mf, 1);
    fclose(mf);
    assert_non_null(strstr(json, "\"rejected_orders\": 9, \"rejected_by\": {\"risk.daily_loss\": 3, "
                                 "\"order.no_money\": 5, \"order.invalid\": 1}"));
    free(json);
    char path[128];
    snprintf(path, sizeof path, "%s/report.html", fx->dir);
    assert_int_equal(tt_report_html(&fx->in, path, NULL), TT_OK);
    char *html = slurp(path, NULL);
    assert_non_null(strstr(html, "<tr><td>risk gate</td><td>daily_loss</td><td>3</td>"
                                 "<td class=\"l\">trading halted for the day"));
    assert_non_null(strstr(html, "<tr><td>venue</td><td>no_money</td><td>5</td>"
                                 "<td class=\"l\">not enough free margin</td></tr>"));
    assert_non_null(strstr(html, "<tr><td>strategy runner</td><td>invalid</td><td>1</td>"));
    assert_non_null(strstr(html, "9 orders never reached the market"));
    free(html);
    memset(&c, 0, sizeof c);
    tt_report_rejects_text(&c, line, sizeof line);
    assert_string_equal(line, "");
}

static void test_money(void **state)
{
    (void)state;
    char b[48];
    tt_report_money(-5, 100, b, sizeof b);
    assert_string_equal(b, "-0.05");
    tt_report_money(123456789, 100, b, sizeof b);
    assert_string_equal(b, "1234567.89");
    tt_report_money(-1234, 1, b, sizeof b);
    assert_string_equal(b, "-1234");
    tt_report_money(INT64_MIN, 100, b, sizeof b);
    assert_string_equal(b, "-92233720368547758.08");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hdf5_h5py, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_name_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
        cmocka_unit_test(test_money),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
