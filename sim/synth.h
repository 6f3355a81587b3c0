/*
 * ticktape: synthetic markets.
 *
 * A synthetic market generates quote ticks for one or several symbols from a
 * price model, seeded: the same configuration and seed give the same ticks bit
 * for bit, on every run and machine; another seed gives other ticks. It is an
 * engine source (core/engine.h) that produces events lazily, in time order and
 * in constant memory, so a backtest can run on a generated market without a
 * tape on disk, and `ticktape synth` writes the same events to a tape.
 *
 * Models (key `model`), on the log mid price x = ln S, in calendar time
 * (t in years of 365.25 days; with the weekend closed the weekend's move shows
 * as a gap at the Sunday open):
 *   gbm     dS/S = mu dt + sigma dW
 *   merton  GBM plus jumps: Poisson(lambda) per year, log-jump ~ N(jump_mean, jump_sigma^2);
 *           mu stays the total expected return (the drift is compensated)
 *   heston  dS/S = mu dt + sqrt(v) dW1, dv = kappa (theta - v) dt + xi sqrt(v) dW2,
 *           corr(dW1, dW2) = rho, v(0) = v0 (full-truncation Euler per tick,
 *           steps of at most five minutes across gaps)
 *   regime  GBM whose (mu, sigma) follow a continuous-time Markov chain over
 *           regimes (regime_mu, regime_sigma lists), leaving regime i at rate
 *           regime_rate[i] per year for one of the others chosen uniformly
 *           (each symbol has its own chain)
 *   ou      Ornstein-Uhlenbeck on x: dx = kappa (ln theta - x) dt + sigma dW
 *           (sampled exactly); theta is the long-run price level
 * Several symbols move together through the Cholesky factor of the `corr`
 * matrix (an invalid matrix is an error naming the problem). Without `corr`
 * each symbol draws only from its own streams, so adding a symbol leaves the
 * others' ticks unchanged.
 *
 * Microstructure: ticks arrive as one Poisson process per symbol with rate
 * `tick_rate` per second on average over the open hours, modulated by an
 * hour-of-day seasonality (quiet Asia, busy London and New York, busiest in
 * their overlap); the market closes for the weekend (Friday's rollover to
 * Sunday's) unless weekend=open. The rollover is 17:00 New York: 22:00 UTC,
 * 21:00 UTC under US daylight saving time (rollover_tz=utc: 22:00 UTC all
 * year). The spread is `spread` pips at the model's base volatility, scales
 * with the current volatility (heston, regime) by `spread_vol`, and is
 * multiplied by `rollover_spread` within `rollover_minutes` of the rollover.
 * Bid and ask are rounded to the instrument's point; timestamps to
 * `resolution`.
 *
 * Parameter keys (tt_synth_config_set, a scenario's `data.synthetic:` section,
 * `ticktape synth --param`): the key table in sim/synth_config.c, listed by
 * `ticktape backtest --keys` and documented in docs/synthetic.md (a test
 * checks the two agree). The configuration itself is in synth_config.h.
 *
 * Random streams (tt_rng_derive from the seed), per symbol: "synth/clock/<SYM>"
 * (arrivals), "synth/price/<SYM>" (diffusion shocks), "synth/jump/<SYM>",
 * "synth/var/<SYM>" (Heston), "synth/regime/<SYM>", "synth/volume/<SYM>".
 * See docs/synthetic.md.
 */
#ifndef TT_SYNTH_H
#define TT_SYNTH_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"
#include "synth_config.h"

/* ---- the generator ---- */

typedef struct tt_synth tt_synth;

/* Open a generator over cfg (copied) and an instrument table (borrowed; must
 * outlive the generator; every symbol must be in it, the error says how to
 * declare it otherwise). TT_OK, or TT_EINVAL on a bad configuration (naming
 * the key), TT_ENOTFOUND for a symbol not in the table, TT_ENOMEM; *out is
 * then NULL. */
int tt_synth_open(tt_synth **out, const tt_synth_config *cfg, const tt_instruments *instruments,
                  tt_err *err);

/* Fill up to cap quote events in time order; returns the number written (0 at
 * the end of the range, or when cap is 0). Events carry kind QUOTE, cls
 * MARKET, the symbol's id, cfg->source_id and seq counting from 1; bytes of
 * the event not used by the quote are zero. Never fails once opened. */
size_t tt_synth_generate(tt_synth *s, tt_event *buf, size_t cap);

/* The accessors below cannot fail: an index out of range gives 0 (NULL for
 * the instrument). */

/* Events generated so far. */
uint64_t tt_synth_count(const tt_synth *s);

/* The current (latent) mid price of the i-th configured symbol, in price units. */
double tt_synth_mid(const tt_synth *s, int i);

/* The current instantaneous variance of the i-th symbol's log price, per year:
 * heston v (may dip below 0 under full truncation; the model uses max(v, 0)),
 * regime the current regime's sigma^2, otherwise sigma^2. */
double tt_synth_variance(const tt_synth *s, int i);

/* The current regime (0-based) of the i-th symbol; 0 for other models. */
int tt_synth_regime(const tt_synth *s, int i);

/* The instrument of the i-th configured symbol. */
const tt_instrument *tt_synth_instrument(const tt_synth *s, int i);

void tt_synth_close(tt_synth *s); /* NULL is allowed; cannot fail */

/* ---- as an engine source ---- */

/* An engine source generating the market lazily (batches of a few hundred
 * events, constant memory). *handle receives the generator (a tt_synth *).
 * Release it exactly once: either through out->close (what an engine owner
 * that closes its source does) or with tt_synth_source_close(handle). Fails as
 * tt_synth_open (then *out and *handle are untouched); the source's next and
 * next_batch never fail. */
int tt_synth_source_open(const tt_synth_config *cfg, const tt_instruments *instruments,
                         tt_source *out, void **handle, tt_err *err);
void tt_synth_source_close(void *handle); /* cannot fail */

#endif
