/*
 * ticktape: bars (OHLCV candles) built from quote ticks.
 *
 * Two pieces:
 *
 *   tt_bar_builder  one (symbol, timeframe, side): feed it quotes in time order,
 *                   it hands back each bar when that bar closes. Plain data, no
 *                   allocation, embeddable anywhere (the `ticktape bars` command,
 *                   a strategy, a benchmark).
 *   tt_bars         an engine component over a list of subscriptions
 *                   (symbol, timeframe, side): it runs one builder each, emits every
 *                   closed bar through tt_engine_emit() and re-delivers it to the
 *                   listeners registered with tt_bars_listen() (the strategy runner).
 *
 * The rules (docs/bars.md has the long form):
 *
 * Alignment. All periods are UTC and half-open [open, close). S1..H4 and D1 are
 * multiples of their length counted from 1970-01-01T00:00Z (so H4 bars open at
 * 00, 04, 08, 12, 16, 20 UTC). W1 opens on MONDAY 00:00 UTC (ISO 8601 weeks, not
 * MT5's Sunday); the ticks of an FX Sunday evening therefore belong to the week
 * that opened the Monday before. MN1 is the calendar month (opens on the 1st,
 * 00:00 UTC).
 *
 * Time of a bar event. ts = the bar's OPEN time (the CLI's `time` column, the tape's
 * bar streams and Dukascopy's candles all use the open time). ts_init = the bar's
 * nominal close time (open + length; the next month's first instant for MN1), which
 * is also the earliest moment the bar can be known. A bar covers quotes with
 * open <= ts < close.
 *
 * Prices. bid bars use quote.bid, ask bars quote.ask. mid bars use
 * mid = (bid + ask) / 2 in integer points, an odd sum rounded half to EVEN
 * (114427.5 -> 114428, 114428.5 -> 114428, 114429.5 -> 114430): the rounding is
 * monotonic, so the high of the rounded mids is the rounded high of the exact
 * mids, and it has no upward bias.
 * A quote whose chosen side is missing (price <= 0; for mid, either side) is
 * skipped and counted in `skipped`.
 *
 * Volume. The sum, in tick order, of the chosen side's tick volume: bid_vol for
 * bid bars, ask_vol for ask bars, (bid_vol + ask_vol) / 2 for mid bars, each float
 * widened to double. ticks = the number of quotes that went into the bar.
 *
 * Closing. A bar is emitted only once it is closed, and closing depends on event
 * timestamps only, never on a clock, so replay and live give the same bars:
 *   - the builder closes the bar in progress when a quote at or after its close
 *     time arrives (tt_bar_builder_update), or when told that time has reached it
 *     (tt_bar_builder_close_until);
 *   - the component does the latter on EVERY event it sees (any kind, any
 *     symbol), and by default also sets an engine timer at each open bar's close
 *     time, so a bar closes exactly at its close time even when no tick follows
 *     (timers are events ordered by timestamp like any other, replay and live alike).
 * Periods without a quote produce no bar (no flat filler bars). The last bar of
 * a finite input is partial: tt_bar_builder_flush() returns it; the component
 * emits it at the end of a run only when asked to (flush_at_stop).
 */
#ifndef TT_BARS_H
#define TT_BARS_H

#include <stdint.h>

#include "engine.h"
#include "error.h"
#include "event.h"

/* The period containing ts for a timeframe: *open <= ts < *close. Returns 0, or
 * TT_EINVAL for TT_TF_NONE or an unknown timeframe. */
int tt_bar_period(int tf, tt_ts ts, tt_ts *open, tt_ts *close);

/* The mid of a quote in points, odd sums rounded half to even (see above).
 * Cannot fail. */
tt_price tt_bar_mid(tt_price bid, tt_price ask);

/* Short names of sides: "bid", "ask", "mid" ("?" for an unknown side); parse
 * returns the side, or -1 when the name is unknown or NULL. Cannot fail otherwise. */
const char *tt_price_side_name(int side);
int tt_price_side_parse(const char *s);

/* ---- one builder ---- */

/* Plain data; fields are read-only for users (read `bar` and `open_ts` to peek at
 * the bar in progress). */
typedef struct tt_bar_builder {
    uint32_t symbol;   /* instrument id this builder accepts; 0 = any symbol */
    uint8_t tf;        /* enum tt_timeframe */
    uint8_t side;      /* enum tt_price_side */
    uint8_t active;    /* 1 while a bar is in progress */
    uint32_t bar_symbol; /* symbol of the bar in progress */
    tt_ts open_ts;     /* period of the bar in progress: [open_ts, close_ts) */
    tt_ts close_ts;
    tt_ts last_ts;     /* latest time seen (quotes and close_until): order check */
    tt_bar bar;        /* the bar in progress (valid when active) */
    uint64_t skipped;  /* quotes ignored because the chosen side was missing */
    uint64_t closed;   /* bars handed out so far (closed or flushed) */
} tt_bar_builder;

/* Set up a builder for one symbol id (0 = accept every symbol), timeframe and side.
 * Returns 0, or TT_EINVAL (err names the bad argument) for an unknown tf or side. */
int tt_bar_builder_init(tt_bar_builder *b, uint32_t symbol, int tf, int side, tt_err *err);

/* Feed one event. Quotes of the builder's symbol are aggregated; any other event
 * (other kinds, other symbols) is ignored and returns 0. When the quote falls at
 * or after the close time of the bar in progress, that bar is written to
 * *closed_out as a TT_EV_BAR event (ts = open time, ts_init = close time, symbol,
 * cls = market, seq 0) and the quote starts the next bar.
 * Returns 1 when a bar was written, 0 when not, TT_EORDER (err names both times)
 * when the quote is earlier than the bar in progress; the builder is unchanged then. */
int tt_bar_builder_update(tt_bar_builder *b, const tt_event *quote, tt_event *closed_out,
                          tt_err *err);

/* Feed one bar (ev->kind BAR) of a timeframe no longer than the builder's,
 * whose period lies inside one of the builder's periods (M1 bars into an M5,
 * H1, ... builder; the side is not checked). Bars of other symbols and other
 * kinds are ignored (0). As tt_bar_builder_update: a bar at or after the close
 * time of the bar in progress closes it into *closed_out (1) and starts the
 * next; its open, high, low and close, volume and tick count are merged into
 * the bar in progress as a quote's price is. Returns 1, 0, or TT_EORDER when
 * the bar is earlier than what the builder has seen (builder unchanged). */
int tt_bar_builder_update_bar(tt_bar_builder *b, const tt_event *bar, tt_event *closed_out,
                              tt_err *err);

/* Time has reached `now` (any event at `now`, or a timer): when the bar in progress
 * closes at or before `now`, write it to *closed_out and return 1; else return 0.
 * Cannot fail. */
int tt_bar_builder_close_until(tt_bar_builder *b, tt_ts now, tt_event *closed_out);

/* End of data: write the bar in progress, partial or not, to *closed_out and return
 * 1; return 0 when there is none. The builder is then empty and can go on. Cannot
 * fail. */
int tt_bar_builder_flush(tt_bar_builder *b, tt_event *closed_out);

/* ---- the engine component ---- */

typedef struct tt_bar_sub {
    uint32_t symbol; /* instrument id (> 0) */
    uint8_t tf;      /* enum tt_timeframe */
    uint8_t side;    /* enum tt_price_side */
} tt_bar_sub;

typedef struct tt_bars_opts {
    int no_timers;     /* 1: close bars only on the next event at or after their close
                        * time (no engine timers); default 0 = timers at close times */
    int flush_at_stop; /* 1: at the end of a run, emit each bar in progress (partial) */
    int no_emit;       /* 1: do not pass bars to tt_engine_emit (listeners only) */
    int from_bars;     /* 1: build from input TT_EV_BAR events (a bar model's carriers,
                        * sim/bar_model.h), not from quotes: a bid or ask bar feeds
                        * the subscriptions of its side, a bid bar followed by the ask
                        * bar of the same time and symbol feeds the mid ones (each
                        * price the mid of the two, rounded half to even; volume the
                        * mean; the bid bar's tick count); quotes only move time */
} tt_bars_opts;

/* Receives each closed bar: called from inside the component's on_event, before
 * the event that closed the bar is seen by components added after this one. */
typedef void (*tt_bar_listener)(void *ctx, tt_engine *e, const tt_event *bar);

typedef struct tt_bars tt_bars;

/* A component over `nsubs` subscriptions (copied). Identical subscriptions are
 * merged (each bar is delivered once); the others keep their order, which is the
 * "subscription index" below. opts may be NULL (defaults).
 * Returns 0, TT_EINVAL (err names the subscription index and field) or TT_ENOMEM. */
int tt_bars_new(tt_bars **out, const tt_bar_sub *subs, int nsubs, const tt_bars_opts *opts,
                tt_err *err);
/* Free (NULL is allowed). Cannot fail. */
void tt_bars_free(tt_bars *b);

/* Register a listener (up to 8). Returns 0, or TT_EINVAL (no tt_err) when eight
 * are registered already. */
int tt_bars_listen(tt_bars *b, tt_bar_listener fn, void *ctx);

/* The component to pass to tt_engine_add_component(). Add it BEFORE the components
 * that consume bars (strategy runner), so that a bar closed by a tick reaches
 * them before that tick does.
 *
 * Order of delivery: when an event at time T arrives, every bar closing at or before
 * T is emitted first, ordered by (close time, subscription index); then, if the event
 * is a quote (with from_bars: an input bar), it is added to its symbol's builders. So
 * consumers see bars in close time order and always before any event at or after
 * their close time.
 *
 * Cannot fail. The component's on_stop never fails; a close timer the engine's
 * queue cannot hold ends the run with TT_ENOMEM (tt_engine_timer_set). */
tt_component tt_bars_component(tt_bars *b);

/* Subscription i's builder (to peek at the bar in progress); NULL when out of range. */
const tt_bar_builder *tt_bars_builder(const tt_bars *b, int i);
/* The counters below cannot fail. */
int tt_bars_count(const tt_bars *b); /* subscriptions after merging duplicates */
/* Quotes left out because they were earlier than a bar already closed (live: a quote
 * stamped before a close time that arrives after the close timer fired). */
uint64_t tt_bars_late(const tt_bars *b);
uint64_t tt_bars_emitted(const tt_bars *b); /* bars delivered so far */

#endif
