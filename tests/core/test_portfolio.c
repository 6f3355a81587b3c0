/*
 * The portfolio: positions, realized P&L, swaps, the New York rollover clock.
 * Numbers are worked by hand in the comments. EURUSD: 100000 points per
 * unit, qty 1 = 0.01 lot = 1000 EUR, so 1 point on qty q is q cents.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/portfolio.h"

typedef struct trades {
    tt_trade_record v[16];
    int n;
} trades;

static void on_trade(void *ctx, const tt_trade_record *t)
{
    trades *x = ctx;
    x->v[x->n++] = *t;
}

static tt_portfolio *mk(tt_instruments *ins, int mode, trades *tr)
{
    tt_portfolio_config c;
    memset(&c, 0, sizeof c);
    memcpy(c.currency, "USD", 4);
    c.initial_balance = 1000000;
    c.mode = (uint8_t)mode;
    c.swaps = 1;
    tt_portfolio *p;
    tt_err err;
    assert_int_equal(tt_portfolio_new(&p, ins, &c, &err), 0);
    tt_portfolio_on_trade(p, on_trade, tr);
    return p;
}

static tt_fill fill(uint32_t sym, int side, int64_t qty, tt_price px, uint64_t id, tt_ts ts)
{
    tt_fill f;
    memset(&f, 0, sizeof f);
    f.symbol = sym;
    f.side = (int8_t)side;
    f.qty = qty;
    f.price = px;
    f.order_id = id;
    f.ts = ts;
    return f;
}

static void test_netting_average_and_partial_close(void **state)
{
    (void)state;
    /* buy 10 at 114430 and 30 at 114470: cost 1,144,300 + 3,434,100 = 4,578,400,
     * average 114460. Sell 20 at 114500: P&L = 114500*20 - 4578400*20/40
     * = 2,290,000 - 2,289,200 = 800 point-qty = 800 cents. The entry
     * commissions (40 + 120) are shared pro rata: 80 to the trade, plus the
     * exit's 30. Balance 1,000,000 - 160 - 30 + 800 = 1,000,610. */
    tt_instruments *ins = tt_instruments_new();
    trades tr = {0};
    tt_portfolio *p = mk(ins, TT_MODE_NETTING, &tr);
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    tt_err err;
    tt_portfolio_quote(p, eu, 114420, 114430);
    tt_fill f = fill(eu, TT_BUY, 10, 114430, 1, 100);
    f.commission = 40;
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    f = fill(eu, TT_BUY, 30, 114470, 2, 200);
    f.commission = 120;
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    assert_int_equal(tt_portfolio_count(p), 1);
    assert_int_equal(tt_portfolio_net_qty(p, eu), 40);
    f = fill(eu, TT_SELL, 20, 114500, 3, 300);
    f.commission = 30;
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    assert_int_equal(tr.n, 1);
    assert_int_equal(tr.v[0].pnl, 800);
    assert_int_equal(tr.v[0].open_price, 114460);
    assert_int_equal(tr.v[0].close_price, 114500);
    assert_int_equal(tr.v[0].qty, 20);
    assert_int_equal(tr.v[0].commission, 80 + 30);
    assert_int_equal(tr.v[0].net, 800 - 110);
    assert_int_equal(tr.v[0].open_order, 1);
    assert_int_equal(tr.v[0].close_order, 3);
    assert_int_equal(tr.v[0].open_ts, 100);
    assert_int_equal(tt_portfolio_balance(p), 1000610);
    assert_int_equal(tt_portfolio_net_qty(p, eu), 20);
    /* unrealized of the 20 left at bid 114420: 114420*20 - 2,289,200 = -800 */
    assert_int_equal(tt_portfolio_equity(p), 1000610 - 800);
    tt_portfolio_free(p);
    tt_instruments_free(ins);
}

static void test_hedging_tickets(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    trades tr = {0};
    tt_portfolio *p = mk(ins, TT_MODE_HEDGING, &tr);
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    tt_err err;
    tt_portfolio_quote(p, eu, 114420, 114430);
    tt_fill f = fill(eu, TT_BUY, 100, 114430, 1, 1);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    f = fill(eu, TT_SELL, 100, 114420, 2, 2);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    assert_int_equal(tt_portfolio_count(p), 2); /* long and short side by side */
    assert_int_equal(tt_portfolio_net_qty(p, eu), 0);
    /* closing more than the ticket holds, or an unknown ticket, changes nothing */
    f = fill(eu, TT_SELL, 150, 114420, 3, 3);
    f.position = 1;
    assert_int_equal(tt_portfolio_fill(p, &f, &err), TT_ENOTFOUND);
    f.position = 9;
    assert_int_equal(tt_portfolio_fill(p, &f, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "9"));
    /* close the short (ticket 2) by buying at 114400: +20 points x 1 lot = 2000 */
    f = fill(eu, TT_BUY, 100, 114400, 4, 4);
    f.position = 2;
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    assert_int_equal(tr.n, 1);
    assert_int_equal(tr.v[0].side, TT_SELL);
    assert_int_equal(tr.v[0].pnl, 2000);
    assert_int_equal(tt_portfolio_count(p), 1);
    assert_int_equal(tt_portfolio_position(p, 0)->ticket, 1);
    /* end of run: the long closes at the bid 114420: -10 points = -1000 */
    tt_portfolio_close_all(p, 5, TT_CLOSE_END);
    assert_int_equal(tr.n, 2);
    assert_int_equal(tr.v[1].pnl, -1000);
    assert_int_equal(tr.v[1].close_reason, TT_CLOSE_END);
    assert_int_equal(tt_portfolio_balance(p), 1000000 + 2000 - 1000);
    tt_portfolio_free(p);
    tt_instruments_free(ins);
}

static void test_conversion_needs_a_quote(void **state)
{
    (void)state;
    /* USDJPY P&L is in JPY: without a USDJPY quote there is no rate. With
     * USDJPY 110.000/110.010 (mid 110.005), 1000 JPY = 9.0905 USD = 909 cents. */
    tt_instruments *ins = tt_instruments_new();
    trades tr = {0};
    tt_portfolio *p = mk(ins, TT_MODE_NETTING, &tr);
    uint32_t uj = tt_instruments_find(ins, "USDJPY")->id;
    tt_err err;
    tt_fill f = fill(uj, TT_BUY, 100, 110010, 1, 1);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), TT_ESTATE);
    assert_non_null(strstr(err.msg, "JPY"));
    assert_int_equal(tt_portfolio_count(p), 0);
    tt_money m;
    assert_int_equal(tt_portfolio_convert(p, "JPY", 1000, &m, &err), TT_ESTATE);
    tt_portfolio_quote(p, uj, 110000, 110010);
    assert_int_equal(tt_portfolio_convert(p, "JPY", 1000, &m, &err), 0);
    assert_int_equal(m, 909);
    assert_int_equal(tt_portfolio_convert(p, "XYZ", 1, &m, &err), TT_ESTATE);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    /* margin of 1 lot USDJPY at leverage 100: 100,000 USD / 100 = 1,000.00 USD
     * (notional 11,000,500 JPY at the mid, /100, converted at the mid) */
    tt_account a;
    tt_portfolio_account(p, &a);
    assert_int_equal(a.margin, 100000);
    tt_portfolio_free(p);
    tt_instruments_free(ins);
}

static void test_ny_dst_and_rollover_clock(void **state)
{
    (void)state;
    /* US DST 2019: from Sunday 10 March 07:00 UTC (2:00 EST) to Sunday
     * 3 November 06:00 UTC (2:00 EDT). */
    assert_false(tt_ny_dst(tt_ts_from_civil(2019, 3, 10, 6, 59, 59, 0)));
    assert_true(tt_ny_dst(tt_ts_from_civil(2019, 3, 10, 7, 0, 0, 0)));
    assert_true(tt_ny_dst(tt_ts_from_civil(2019, 11, 3, 5, 59, 59, 0)));
    assert_false(tt_ny_dst(tt_ts_from_civil(2019, 11, 3, 6, 0, 0, 0)));
    /* 2020: second Sunday of March is the 8th, first Sunday of November the 1st */
    assert_false(tt_ny_dst(tt_ts_from_civil(2020, 3, 8, 6, 0, 0, 0)));
    assert_true(tt_ny_dst(tt_ts_from_civil(2020, 3, 8, 7, 0, 0, 0)));
    assert_false(tt_ny_dst(tt_ts_from_civil(2020, 11, 1, 6, 0, 0, 0)));
    int m;
    /* Friday 8 Feb 2019 23:00 UTC -> Monday 11 Feb 22:00 UTC (EST), x1 */
    assert_int_equal(tt_rollover_next(tt_ts_from_civil(2019, 2, 8, 23, 0, 0, 0), &m),
                     tt_ts_from_civil(2019, 2, 11, 22, 0, 0, 0));
    assert_int_equal(m, 1);
    /* exactly at Tuesday's rollover -> the next one, Wednesday, x3 */
    assert_int_equal(tt_rollover_next(tt_ts_from_civil(2019, 2, 5, 22, 0, 0, 0), &m),
                     tt_ts_from_civil(2019, 2, 6, 22, 0, 0, 0));
    assert_int_equal(m, 3);
    /* Friday 8 March (EST) 22:00; Monday 11 March (EDT) 21:00 */
    assert_int_equal(tt_rollover_next(tt_ts_from_civil(2019, 3, 8, 12, 0, 0, 0), NULL),
                     tt_ts_from_civil(2019, 3, 8, 22, 0, 0, 0));
    assert_int_equal(tt_rollover_next(tt_ts_from_civil(2019, 3, 9, 12, 0, 0, 0), NULL),
                     tt_ts_from_civil(2019, 3, 11, 21, 0, 0, 0));
    /* Friday 1 November (EDT) 21:00; Monday 4 November (EST) 22:00 */
    assert_int_equal(tt_rollover_next(tt_ts_from_civil(2019, 11, 1, 12, 0, 0, 0), NULL),
                     tt_ts_from_civil(2019, 11, 1, 21, 0, 0, 0));
    assert_int_equal(tt_rollover_next(tt_ts_from_civil(2019, 11, 2, 12, 0, 0, 0), NULL),
                     tt_ts_from_civil(2019, 11, 4, 22, 0, 0, 0));
    /* the trading day of Tuesday 03:00 UTC began Monday 17:00 New York */
    assert_int_equal(tt_trading_day_start(tt_ts_from_civil(2019, 2, 5, 3, 0, 0, 0)),
                     tt_ts_from_civil(2019, 2, 4, 22, 0, 0, 0));
    assert_int_equal(tt_trading_day_start(tt_ts_from_civil(2019, 7, 5, 21, 0, 0, 0)),
                     tt_ts_from_civil(2019, 7, 5, 21, 0, 0, 0));
}

static void test_swaps_over_a_week(void **state)
{
    (void)state;
    /* long 1 lot EURUSD, swap_long -1.0 point per lot per night, opened Monday
     * 4 Feb 2019 12:00 UTC. By Saturday: Mon, Tue, Wed (x3), Thu, Fri = 7
     * nights = -7 points x 1 lot = -7.00 USD = -700 cents. A short of 1 lot
     * opened Friday 8 Feb 23:00 (after Friday's rollover) pays nothing by Monday
     * 11 Feb 21:59. */
    tt_instruments *ins = tt_instruments_new();
    tt_instrument x = *tt_instruments_find(ins, "EURUSD");
    x.swap_long = -1.0;
    x.swap_short = 0.5;
    assert_int_equal(tt_instruments_put(ins, &x, NULL), 0);
    trades tr = {0};
    tt_portfolio *p = mk(ins, TT_MODE_HEDGING, &tr);
    tt_err err;
    tt_ts mon = tt_ts_from_civil(2019, 2, 4, 12, 0, 0, 0);
    tt_portfolio_advance(p, mon);
    tt_portfolio_quote(p, x.id, 114420, 114430);
    tt_fill f = fill(x.id, TT_BUY, 100, 114430, 1, mon);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    assert_int_equal(tt_portfolio_advance(p, tt_ts_from_civil(2019, 2, 9, 0, 0, 0, 0)), -700);
    tt_ts fri = tt_ts_from_civil(2019, 2, 8, 23, 0, 0, 0);
    f = fill(x.id, TT_SELL, 100, 114420, 2, fri);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    assert_int_equal(tt_portfolio_advance(p, tt_ts_from_civil(2019, 2, 11, 21, 59, 0, 0)), 0);
    /* Monday 22:00: long -1.00, short +0.50 */
    assert_int_equal(tt_portfolio_advance(p, tt_ts_from_civil(2019, 2, 11, 22, 0, 0, 0)), -50);
    tt_account a;
    tt_portfolio_account(p, &a);
    assert_int_equal(a.swaps, -750);
    assert_int_equal(a.balance, 1000000 - 750);
    /* the swap follows the position into its trade record */
    f = fill(x.id, TT_SELL, 100, 114420, 3, fri);
    f.position = 1;
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    assert_int_equal(tr.v[0].swap, -800);
    tt_portfolio_free(p);
    tt_instruments_free(ins);
}

static void test_margin_guard_is_conservative(void **state)
{
    (void)state;
    /* Property: whenever the screen says "safe" (0), the exact margin level is
     * above the threshold. A random walk of EURUSD and GBPUSD quotes against a
     * hedged book (long EURUSD, short GBPUSD, long GBPUSD) sized so the level
     * wanders around 100%: the screen must also say "check" (1) sometimes, and
     * skip the full computation most of the time. */
    tt_instruments *ins = tt_instruments_new();
    trades tr = {0};
    tt_portfolio_config c;
    memset(&c, 0, sizeof c);
    memcpy(c.currency, "USD", 4);
    c.initial_balance = 300000; /* 3,000.00 USD */
    c.mode = TT_MODE_HEDGING;
    tt_portfolio *p;
    tt_err err;
    assert_int_equal(tt_portfolio_new(&p, ins, &c, &err), 0);
    tt_portfolio_on_trade(p, on_trade, &tr);
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    uint32_t gu = tt_instruments_find(ins, "GBPUSD")->id;
    tt_price e = 114420, g = 130000;
    tt_portfolio_quote(p, eu, e, e + 10);
    tt_portfolio_quote(p, gu, g, g + 12);
    tt_fill f = fill(eu, TT_BUY, 150, e + 10, 1, 1);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    f = fill(gu, TT_SELL, 60, g, 2, 2);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    f = fill(gu, TT_BUY, 20, g + 12, 3, 3);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    uint64_t s = 12345;
    int checks = 0, safe = 0, below = 0;
    for (int i = 0; i < 200000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        int step = (int)((s >> 33) % 21) - 10; /* -10 .. +10 points */
        uint32_t sym = (s >> 60) & 1 ? eu : gu;
        if (sym == eu) {
            /* a drift of about 1,250 points down, then back up */
            e += step + (i % 80 ? 0 : i < 100000 ? -2 : 2);
            tt_portfolio_quote(p, eu, e, e + 10 + (int)((s >> 20) % 5));
        } else {
            g += step;
            tt_portfolio_quote(p, gu, g, g + 12 + (int)((s >> 24) % 5));
        }
        tt_account a;
        tt_portfolio_account(p, &a);
        if (tt_portfolio_margin_screen(p, sym, 100.0)) {
            checks++;
            below += a.margin_level <= 100.0;
        } else {
            safe++;
            assert_true(a.margin_level > 100.0);
        }
    }
    print_message("margin guard: %d full checks (%d at or below 100%%), %d skipped\n", checks,
                  below, safe);
    assert_true(checks > 0 && below > 0);
    assert_true(safe > checks); /* the box saves most full checks */
    tt_portfolio_free(p);
    tt_instruments_free(ins);
}

/* ---- excursions (MAE / MFE) against the per-quote rule ---- */

/* A reference position: the rule applied on every quote (the excursion in
 * points x qty, bid * qty - cost long, cost - ask * qty short, its minimum and
 * maximum since the entry; a netting grow restarts them; a partial close
 * leaves the rest its share, rounded toward zero). */
typedef struct refpos {
    uint64_t ticket;
    uint32_t sym;
    int side;
    int64_t qty, cost, worst, best;
} refpos;

static int64_t ref_share(int64_t amount, int64_t q, int64_t n)
{
    __extension__ __int128 t = (__int128)amount * q;
    return (int64_t)(t / n);
}

static void ref_quote(refpos *r, int n, uint32_t sym, tt_price bid, tt_price ask)
{
    for (int i = 0; i < n; i++) {
        if (!r[i].qty || r[i].sym != sym)
            continue;
        int64_t m = r[i].side > 0 ? bid * r[i].qty - r[i].cost : r[i].cost - ask * r[i].qty;
        if (m < r[i].worst)
            r[i].worst = m;
        if (m > r[i].best)
            r[i].best = m;
    }
}

/* Closing q of r: the expected trade excursions, then the rest's share. */
static void ref_close(refpos *r, int64_t q, tt_price *mae, tt_price *mfe)
{
    *mae = -r->worst / r->qty;
    *mfe = r->best / r->qty;
    if (q < r->qty) {
        r->worst = ref_share(r->worst, r->qty - q, r->qty);
        r->best = ref_share(r->best, r->qty - q, r->qty);
        r->cost -= ref_share(r->cost, q, r->qty);
    } else {
        r->cost = 0;
    }
    r->qty -= q;
}

typedef struct walk {
    uint64_t s;
    tt_price mid[8];
} walk;

/* The next quote of a symbol: a random walk, spread 5..14 points. */
static void walk_next(walk *w, uint32_t sym, tt_price *bid, tt_price *ask)
{
    w->s = w->s * 6364136223846793005ULL + 1442695040888963407ULL;
    int64_t step = (int64_t)((w->s >> 33) % 41) - 20;
    w->mid[sym % 8] += step;
    int64_t spread = 5 + (int64_t)((w->s >> 20) % 10);
    *bid = w->mid[sym % 8] - spread / 2;
    *ask = *bid + spread;
}

static void quotes(tt_portfolio *p, walk *w, refpos *r, int nr, uint32_t sym, int n,
                   tt_price *bid, tt_price *ask)
{
    for (int i = 0; i < n; i++) {
        walk_next(w, sym, bid, ask);
        tt_portfolio_quote(p, sym, *bid, *ask);
        ref_quote(r, nr, sym, *bid, *ask);
    }
}

static void test_excursions_netting(void **state)
{
    (void)state;
    /* Quotes go by between the fills (the portfolio folds them in lazily,
     * at the next fill): every trade's mae/mfe must equal the reference's. */
    tt_instruments *ins = tt_instruments_new();
    trades tr = {0};
    tt_portfolio *p = mk(ins, TT_MODE_NETTING, &tr);
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    tt_err err;
    walk w = {.s = 7};
    for (int i = 0; i < 8; i++)
        w.mid[i] = 114400;
    refpos r;
    memset(&r, 0, sizeof r);
    tt_price bid, ask, mae[4], mfe[4];
    quotes(p, &w, &r, 1, eu, 50, &bid, &ask);
    tt_fill f = fill(eu, TT_BUY, 10, ask, 1, 100); /* open long 10 */
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    r = (refpos){.ticket = 1, .sym = eu, .side = 1, .qty = 10, .cost = ask * 10};
    quotes(p, &w, &r, 1, eu, 50, &bid, &ask);
    f = fill(eu, TT_BUY, 30, ask, 2, 200); /* grow to 40: excursions restart */
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    r.qty += 30;
    r.cost += ask * 30;
    r.worst = r.best = 0;
    quotes(p, &w, &r, 1, eu, 50, &bid, &ask);
    f = fill(eu, TT_SELL, 15, bid, 3, 300); /* partial close */
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    ref_close(&r, 15, &mae[0], &mfe[0]);
    quotes(p, &w, &r, 1, eu, 50, &bid, &ask);
    f = fill(eu, TT_SELL, 45, bid, 4, 400); /* close 25, reverse: short 20 */
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    ref_close(&r, 25, &mae[1], &mfe[1]);
    r = (refpos){.ticket = 4, .sym = eu, .side = -1, .qty = 20, .cost = bid * 20};
    quotes(p, &w, &r, 1, eu, 50, &bid, &ask);
    tt_portfolio_close_all(p, 500, TT_CLOSE_END);
    ref_close(&r, 20, &mae[2], &mfe[2]);
    assert_int_equal(tr.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tr.v[i].mae_points, mae[i]);
        assert_int_equal(tr.v[i].mfe_points, mfe[i]);
    }
    assert_true(mae[0] > 0 || mfe[0] > 0); /* the walk did move */
    tt_portfolio_free(p);
    tt_instruments_free(ins);
}

static void test_excursions_hedging(void **state)
{
    (void)state;
    /* Two EURUSD positions opened at different times (each from its own
     * entry) and a GBPUSD one, quotes of both symbols interleaved; a fill
     * on one symbol must not disturb the other's excursions. */
    tt_instruments *ins = tt_instruments_new();
    trades tr = {0};
    tt_portfolio *p = mk(ins, TT_MODE_HEDGING, &tr);
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    uint32_t gu = tt_instruments_find(ins, "GBPUSD")->id;
    tt_err err;
    walk w = {.s = 11};
    for (int i = 0; i < 8; i++)
        w.mid[i] = i == (int)(gu % 8) ? 130500 : 114400;
    refpos r[3];
    memset(r, 0, sizeof r);
    tt_price eb, ea, gb, ga, mae[3], mfe[3];
    quotes(p, &w, r, 3, eu, 5, &eb, &ea);
    quotes(p, &w, r, 3, gu, 5, &gb, &ga);
    tt_fill f = fill(eu, TT_BUY, 10, ea, 1, 100);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    r[0] = (refpos){.ticket = 1, .sym = eu, .side = 1, .qty = 10, .cost = ea * 10};
    for (int k = 0; k < 20; k++) {
        quotes(p, &w, r, 3, eu, 3, &eb, &ea);
        quotes(p, &w, r, 3, gu, 2, &gb, &ga);
    }
    f = fill(eu, TT_SELL, 7, eb, 2, 200); /* a second EURUSD position, short */
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    r[1] = (refpos){.ticket = 2, .sym = eu, .side = -1, .qty = 7, .cost = eb * 7};
    f = fill(gu, TT_SELL, 5, gb, 3, 210);
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    r[2] = (refpos){.ticket = 3, .sym = gu, .side = -1, .qty = 5, .cost = gb * 5};
    assert_int_equal(tt_portfolio_net_qty(p, eu), 10 - 7);
    assert_int_equal(tt_portfolio_net_qty(p, gu), -5);
    for (int k = 0; k < 20; k++) {
        quotes(p, &w, r, 3, gu, 3, &gb, &ga);
        quotes(p, &w, r, 3, eu, 2, &eb, &ea);
    }
    f = fill(eu, TT_SELL, 10, eb, 4, 300); /* close ticket 1 */
    f.position = 1;
    assert_int_equal(tt_portfolio_fill(p, &f, &err), 0);
    ref_close(&r[0], 10, &mae[0], &mfe[0]);
    assert_int_equal(tt_portfolio_net_qty(p, eu), -7);
    for (int k = 0; k < 20; k++) {
        quotes(p, &w, r, 3, eu, 2, &eb, &ea);
        quotes(p, &w, r, 3, gu, 2, &gb, &ga);
    }
    tt_portfolio_close_all(p, 400, TT_CLOSE_END); /* last opened first */
    ref_close(&r[2], 5, &mae[1], &mfe[1]);
    ref_close(&r[1], 7, &mae[2], &mfe[2]);
    assert_int_equal(tr.n, 3);
    assert_int_equal(tr.v[0].open_order, 1);
    assert_int_equal(tr.v[1].open_order, 3);
    assert_int_equal(tr.v[2].open_order, 2);
    assert_int_equal(tt_portfolio_net_qty(p, eu), 0);
    assert_int_equal(tt_portfolio_net_qty(p, gu), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tr.v[i].mae_points, mae[i]);
        assert_int_equal(tr.v[i].mfe_points, mfe[i]);
    }
    tt_portfolio_free(p);
    tt_instruments_free(ins);
}

static void test_bad_config(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    tt_portfolio_config c;
    memset(&c, 0, sizeof c);
    memcpy(c.currency, "DOLLAR", 7);
    tt_portfolio *p;
    tt_err err;
    assert_int_equal(tt_portfolio_new(&p, ins, &c, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "currency"));
    memcpy(c.currency, "USD", 4);
    c.initial_balance = -5;
    assert_int_equal(tt_portfolio_new(&p, ins, &c, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "initial_balance"));
    tt_instruments_free(ins);
}

/* Amounts become minor units rounded half away from zero, exactly as llround
 * does (the portfolio rounds without calling it): halves, values next to
 * them, negatives, and numbers too large for a fraction. */
static void test_rounding_is_llround(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    trades tr = {0};
    tt_portfolio *p = mk(ins, TT_MODE_NETTING, &tr);
    uint64_t s = 77;
    for (int i = 0; i < 200000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double x;
        switch (i % 5) {
        case 0: /* k + 0.5 cents, exactly */
            x = ((double)(int64_t)(s >> 40) - 8e6 + 0.5) / 100.0;
            break;
        case 1: /* next to a half */
            x = nextafter(((double)(int64_t)(s >> 44) + 0.5) / 100.0, (s & 1) ? 1e300 : -1e300);
            break;
        case 2: /* any double of any magnitude */
            memcpy(&x, &s, sizeof x);
            if (!isfinite(x) || fabs(x) > 1e17)
                x = (double)(int64_t)s / 1e4;
            break;
        case 3: /* beyond 2^52 minor units */
            x = ((double)(s >> 11) + 0.5) * ((s & 1) ? 1.0 : -1.0);
            break;
        default:
            x = -((double)(s >> 20) / 1024.0);
        }
        tt_money m;
        tt_err err;
        assert_int_equal(tt_portfolio_convert(p, "USD", x, &m, &err), 0);
        if (m != (tt_money)llround(x * 100.0))
            fail_msg("%.17g USD: %lld cents, llround gives %lld", x, (long long)m,
                     (long long)llround(x * 100.0));
    }
    tt_portfolio_free(p);
    tt_instruments_free(ins);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netting_average_and_partial_close),
        cmocka_unit_test(test_hedging_tickets),
        cmocka_unit_test(test_conversion_needs_a_quote),
        cmocka_unit_test(test_rounding_is_llround),
        cmocka_unit_test(test_ny_dst_and_rollover_clock),
        cmocka_unit_test(test_swaps_over_a_week),
        cmocka_unit_test(test_margin_guard_is_conservative),
        cmocka_unit_test(test_excursions_netting),
        cmocka_unit_test(test_excursions_hedging),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
