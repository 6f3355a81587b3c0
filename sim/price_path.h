/*
 * ticktape: the price path of a run's symbols, in a bounded number of
 * buckets, for the report's price chart.
 *
 * The backtest samples each traded symbol's bid whenever it samples equity
 * (once per metrics.equity_interval of event time). A chart needs a few
 * hundred points, a year of minutes is half a million, so the samples go
 * into OHLC buckets of one width per symbol: while there is room every sample
 * opens its own bucket; when the buckets reach the cap, the width doubles and
 * neighbours merge (first open, highest high, lowest low, last close), until
 * at most half the cap is used. Memory is fixed (cap buckets a symbol)
 * whatever the span, and the extremes of the samples are never lost.
 *
 * Invariants: buckets of a symbol are in time order; a bucket's ts is its
 * first sample's; merging depends only on the samples, so the same run gives
 * the same buckets.
 */
#ifndef TT_SIM_PRICE_PATH_H
#define TT_SIM_PRICE_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"

/* One bucket of a symbol's sampled bids (instrument points). */
typedef struct tt_price_bucket {
    tt_ts ts;        /* the first sample's time */
    uint32_t symbol; /* instrument id */
    uint32_t samples;
    tt_price open, high, low, close;
} tt_price_bucket;

typedef struct tt_price_path tt_price_path;

/* A path for nsymbols symbols (slots 0..nsymbols-1) of at most cap buckets
 * each (cap >= 4; 0 = 4096). Returns 0 with *out set, or TT_ENOMEM. */
int tt_price_path_new(tt_price_path **out, size_t nsymbols, size_t cap, tt_err *err);

/* A sample of slot k (symbol id `symbol`) at ts, in non-decreasing ts order
 * per slot (an earlier ts is folded into the last bucket). Cannot fail: the
 * buckets were allocated up front. */
void tt_price_path_add(tt_price_path *p, size_t k, uint32_t symbol, tt_ts ts, tt_price bid);

/* Every slot's buckets, slot after slot, as one heap array (*out, to free;
 * NULL when empty) of *n. Returns 0 or TT_ENOMEM. The path is unchanged. */
int tt_price_path_collect(const tt_price_path *p, tt_price_bucket **out, size_t *n, tt_err *err);

/* NULL is a no-op. */
void tt_price_path_free(tt_price_path *p);

#endif
