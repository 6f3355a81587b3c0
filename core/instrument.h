/*
 * ticktape: instruments.
 *
 * A run's instrument table maps symbols to integer ids (the `symbol` field of
 * every tt_event) and carries the facts needed to read and value prices:
 * points per price unit, display precision, pip size, contract size, base and
 * quote currency, and the simulated venue's per-symbol rates.
 *
 * The built-in table covers the FX majors and crosses, XAUUSD, XAGUSD and
 * BTCUSD with Dukascopy's point conventions. A file can add or override
 * instruments (format in docs/instruments.md):
 *
 *   # symbol  points  digits  pip  contract  base  quote  [key=value ...]
 *   EURUSD    100000  5       10   100000    EUR   USD    swap_long=-6.2 swap_short=1.1
 *
 * Id 0 is reserved for "no instrument". Ids are assigned in table order, so the
 * same table gives the same ids in every run.
 */
#ifndef TT_INSTRUMENT_H
#define TT_INSTRUMENT_H

#include <stdint.h>

#include "error.h"
#include "event.h"

#define TT_SYMBOL_MAX 16

typedef struct tt_instrument {
    uint32_t id;
    char symbol[TT_SYMBOL_MAX];
    char base[8];
    char quote[8];
    int64_t points;       /* points per price unit: 100000 for EURUSD */
    int digits;           /* display precision (decimals): 5 for EURUSD */
    int64_t pip;          /* pip size in points: 10 for EURUSD (0.0001) */
    double contract_size; /* units of base per lot: 100000 for FX, 100 oz XAUUSD, 1 BTCUSD */
    double volume_step;   /* smallest tradable lot fraction (default 0.01) */
    double swap_long;     /* points per lot per night (MT5 "points" swap mode) */
    double swap_short;
    double margin_rate;   /* multiplier on the leverage margin (default 1) */
} tt_instrument;

typedef struct tt_instruments tt_instruments;

/* A new table holding the built-in instruments. NULL on out of memory. */
tt_instruments *tt_instruments_new(void);
/* Free (NULL is allowed). Cannot fail. */
void tt_instruments_free(tt_instruments *t);

/* Add or override instruments from a file (format above). TT_OK, or TT_EIO (cannot
 * open or read it), TT_EFORMAT (a line that is not an instrument: naming file and
 * line), or tt_instruments_put's error prefixed with file and line. The lines
 * before a bad one are kept. */
int tt_instruments_load(tt_instruments *t, const char *path, tt_err *err);

/* Add or replace one instrument; its id is kept when the symbol exists. TT_OK, or
 * TT_EINVAL (empty symbol, points <= 0 or digits outside 0..12) or TT_ENOMEM; the table is then
 * unchanged. */
int tt_instruments_put(tt_instruments *t, const tt_instrument *ins, tt_err *err);

/* Lookup by symbol (case-insensitive; "EUR/USD", "EUR-USD" and "C:EUR-USD" also match).
 * NULL when unknown. */
const tt_instrument *tt_instruments_find(const tt_instruments *t, const char *symbol);

/* Like find, but an unknown symbol is TT_ENOTFOUND with a message that says how to
 * declare it (*out NULL). */
int tt_instruments_require(const tt_instruments *t, const char *symbol,
                           const tt_instrument **out, tt_err *err);

/* By id; NULL when out of range or 0. */
const tt_instrument *tt_instruments_get(const tt_instruments *t, uint32_t id);
uint32_t tt_instruments_count(const tt_instruments *t); /* highest id; 0 for NULL */
/* 1 when two tables give every symbol the same id and the same facts (two
 * prepared scenarios each load their own table from the same file), else 0.
 * Cannot fail. */
int tt_instruments_same(const tt_instruments *a, const tt_instruments *b);

/* Price conversions; they cannot fail. format writes an exact decimal with the
 * instrument's digits and returns snprintf's result (the length it needed). */
double tt_price_to_double(const tt_instrument *ins, tt_price p);
tt_price tt_price_from_double(const tt_instrument *ins, double v); /* rounds to nearest point */
int tt_price_format(const tt_instrument *ins, tt_price p, char *buf, int bufsize);
/* Parse an exact decimal string ("1.14427") into points. TT_OK, or TT_EFORMAT (*out
 * untouched) when it is not a price, is finer than a point or beyond int64 points. */
int tt_price_parse(const tt_instrument *ins, const char *s, tt_price *out, tt_err *err);

#endif
