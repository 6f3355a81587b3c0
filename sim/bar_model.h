/*
 * ticktape: bar models, price points from M1 bars as MetaTrader 5's Strategy
 * Tester makes them.
 *
 * Much history is bars (HistData, MT5 exports, Dukascopy candles). A bar
 * model turns each M1 bar into a few price points, sent as quotes through
 * the same venue, strategy and reports as real ticks (data.model in a
 * scenario; docs/scenarios.md):
 *
 *   real_ticks   no model: the tape's quotes (the default; nothing here);
 *   every_tick   ticks generated inside the bar along open, the nearer
 *                extreme, the other extreme, close (the path below);
 *   ohlc_m1      four points: open, the nearer extreme, the other, close;
 *   open_prices  one point, at the bar's open.
 *
 * The path of a bar. From the open the price goes first to the extreme
 * nearer to it (the high when high - open < open - low, the low when the
 * other way round; on a tie to the extreme farther from the close, so the
 * last leg is the short one: the high first when high - close >= close -
 * low), then to the other extreme, then to the close. ohlc_m1 gives these
 * four anchors; every_tick fills the three legs with ticks (below).
 *
 * Times. A bar of open time T gives n points at T + i * 60 s / n (i = 0 ..
 * n-1, nanoseconds rounded down): ohlc_m1 at 0, 15, 30 and 45 s, open_prices
 * at 0 s, every_tick spread evenly over the minute. The open is always at T.
 *
 * every_tick. n = the bar's tick count when it has one, else the length of
 * the path in points plus one (one tick per point of travel), kept within
 * 4 .. TT_BAR_MODEL_MAX_POINTS. The n - 4 ticks between the anchors are
 * shared among the three legs in proportion to their lengths (largest
 * remainder, ties to the earlier leg; a flat bar's all go to the first leg).
 * A leg from a to b with k ticks between takes k + 1 steps of random weights
 * w = 1 + (a draw in 0..3) each; the i-th tick is at a + (b - a) * W_i / W
 * (W_i the first i weights' sum, W all of them, rounded toward a), so a leg
 * moves monotonically at an uneven pace and never leaves [low, high]: the
 * bar rebuilt from its ticks is the bar. The draws come from a PCG32 stream
 * per bar (tt_rng_seed, pcg32_srandom_r) with initstate = S ^ mix(T) and
 * initseq = S, S = tt_rng_name_hash("data/every_tick/SYMBOL") ^
 * mix(scenario seed), mix = SplitMix64's finaliser: a bar's ticks depend only
 * on the scenario seed, the symbol and the bar's time, so they are the same
 * whatever range is replayed (a walk-forward fold sees the full run's ticks).
 *
 * Spreads. The bars are BID bars; a point's ask is its bid plus a spread:
 * data.spread_points for every point, or with data.spread: from_bars the
 * spread of the same field of the ask bar of the same minute (the open point
 * ask.open - bid.open, the high point ask.high - bid.high, ...; a tick
 * between two anchors takes the spread of the anchor it leaves), never below
 * 0. Generated quotes carry no volume.
 *
 * The source. tt_bar_model_src reads a symbol's M1 bars (from a bar source,
 * or built from a quote source with core/bars.h) and yields, per bar: the
 * open point, then the bar itself as TT_EV_BAR events (the "carriers": the
 * bid bar, and the ask bar when asked for), then the other points, all in
 * the symbol's time order with its own source id and seq 1, 2, ... The
 * carriers feed the bar component (tt_bars_opts.from_bars), so a strategy
 * sees the input bars themselves whatever the model, delivered when the
 * next bar's first point arrives (see docs/bars.md); the runner keeps them
 * from the strategy (tt_runner_config.skip_input_bars).
 */
#ifndef TT_SIM_BAR_MODEL_H
#define TT_SIM_BAR_MODEL_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/event.h"
#include "../core/parse.h"

enum tt_bar_model {
    TT_MODEL_REAL_TICKS = 0,
    TT_MODEL_EVERY_TICK = 1,
    TT_MODEL_OHLC_M1 = 2,
    TT_MODEL_OPEN_PRICES = 3
};

enum tt_spread_source { TT_SPREAD_FIXED = 0, TT_SPREAD_FROM_BARS = 1 };

extern const tt_enum_value tt_bar_models[];      /* real_ticks|every_tick|ohlc_m1|open_prices */
extern const tt_enum_value tt_spread_sources[];  /* fixed|from_bars */

/* "real_ticks", "every_tick", ...; "?" for an unknown value. Cannot fail. */
const char *tt_bar_model_name(int model);

#define TT_BAR_MODEL_MAX_POINTS 240 /* every_tick's most ticks in one bar */

/* One generated price point. */
typedef struct tt_bar_point {
    tt_ts ts;
    tt_price bid;
    tt_price spread; /* ask = bid + spread */
} tt_bar_point;

/* The spread of each of a bar's four prices (all equal for a fixed spread). */
typedef struct tt_bar_spreads {
    tt_price open, high, low, close;
} tt_bar_spreads;

/* The seed S of a symbol's every_tick streams (see above). Cannot fail. */
uint64_t tt_bar_model_seed(uint64_t scenario_seed, const char *symbol);

/* The points of one bid bar opening at `open` into out (room for
 * TT_BAR_MODEL_MAX_POINTS); sym_seed from tt_bar_model_seed (every_tick
 * only). Returns the count (1, 4, or 4..TT_BAR_MODEL_MAX_POINTS), or
 * TT_EINVAL for real_ticks or an unknown model. The bar must be consistent
 * (low <= open, close <= high). */
int tt_bar_model_points(int model, const tt_bar *bar, tt_ts open, const tt_bar_spreads *spreads,
                        uint64_t sym_seed, tt_bar_point *out);

/* ---- the source ---- */

typedef struct tt_bar_model_opts {
    int model;               /* enum tt_bar_model (not real_ticks) */
    uint64_t seed;           /* scenario seed */
    tt_price spread_points;  /* fixed spread (>= 0) */
    int spread_from_bars;    /* 1: spreads from the ask bars */
    uint32_t symbol;         /* instrument id stamped on the events */
    const char *symbol_name; /* for every_tick's streams and messages */
    uint16_t source;         /* source id stamped on the events (> 0) */
} tt_bar_model_opts;

typedef struct tt_bar_model_src tt_bar_model_src;

/* A model over a symbol's M1 bid bars and, with spread_from_bars, its M1 ask
 * bars (two borrowed sources of TT_EV_BAR events in time order; ask ignored
 * otherwise). Every bid bar needs an ask bar of the same open time; ask bars
 * without a bid bar are skipped. Returns 0, TT_EINVAL (real_ticks or an
 * unknown model, a negative spread, no ask source when one is needed) or
 * TT_ENOMEM; *out is NULL on failure. */
int tt_bar_model_src_new_bars(tt_bar_model_src **out, tt_source bid, tt_source ask,
                              const tt_bar_model_opts *o, tt_err *err);

/* A model over a symbol's quotes (a borrowed source in time order): M1 bars
 * are built from them as core/bars.h does (bid bars, and ask bars for
 * spread_from_bars; quotes with a side <= 0 are left out; the last bar,
 * partial, is used too). Returns as tt_bar_model_src_new_bars. */
int tt_bar_model_src_new_quotes(tt_bar_model_src **out, tt_source quotes,
                                const tt_bar_model_opts *o, tt_err *err);

/* 1: after the bid bar, the ask bar is sent as a carrier too (for bar
 * subscriptions of the ask or mid side). Set before the first event. */
void tt_bar_model_src_set_ask_carriers(tt_bar_model_src *m, int on);

/* The engine source. Its calls fail with the inner source's errors, or
 * TT_EFORMAT naming the symbol and time for an inconsistent bar (low >
 * high, open or close outside them, a price <= 0), bars less than a minute
 * apart or out of order, or a bid bar without its ask bar. Cannot fail. */
tt_source tt_bar_model_src_source(tt_bar_model_src *m);

/* Bars turned into points so far. Cannot fail. */
uint64_t tt_bar_model_src_bars(const tt_bar_model_src *m);

/* Frees the model (not the inner sources). NULL is a no-op. */
void tt_bar_model_src_free(tt_bar_model_src *m);

#endif
