/*
 * ticktape live: wire conversions between tt_event and the messages on NATS
 * and Kafka.
 *
 * Inputs:
 *   - the seed's TickData protobuf (proto/tick_data.proto) on ticks.{SYMBOL}
 *     and on the Kafka topic tick_archive; or, when configured, the JSON
 *     object {"symbol","bid","ask","timestamp"} (timestamp in ms);
 *   - ticktape.Bar (proto/ticktape.proto) on bars.{SYMBOL}.{tf};
 *   - anything on market.external.{type}: kept as an EXTERNAL event whose
 *     payload is the message bytes and whose blob.type names the type.
 * A TickData becomes a QUOTE: prices are rounded to the instrument's points
 * (1.14427 -> 114427), timestamp (ms) goes to ts_init as ns, and volume (an
 * integer count in the seed) becomes bid_vol = ask_vol = volume / 1e6, the
 * Dukascopy convention of volumes in millions. The inverse (encode) writes
 * volume = llround(bid_vol * 1e6) and spread = ask - bid.
 *
 * Outputs (engine events to subjects and payloads; one table serves NATS and
 * Kafka so the two never disagree):
 *   SIGNAL               signals.{SYMBOL}            aitrading.trading.TradingSignal
 *   RISK approved        signals.approved.{SYMBOL}   ticktape.RiskDecision
 *   RISK rejected        signals.rejected.{SYMBOL}   ticktape.RiskDecision
 *   ORDER_CMD            orders.pending.{SYMBOL}     ticktape.OrderCommand
 *   ORDER_EVENT          orders.{status}.{SYMBOL}    ticktape.OrderEvent
 *                        (status: submitted filled cancelled failed, and
 *                        accepted rejected expired modified as themselves)
 *   BAR                  bars.{SYMBOL}.{tf}          ticktape.Bar
 *   a feature row        features.{SYMBOL}.{tf}      ticktape.FeatureRow (not an
 *                        engine event: live/features_pub.h publishes it; Kafka
 *                        ml_features_archive)
 *   RISK rejected by a halting or venue rule (kill_switch, max_drawdown,
 *   daily_loss, margin_call, stop_out): also risk.alert.{rule}, and for
 *   max_drawdown / daily_loss also performance.alert.drawdown_limit /
 *   performance.alert.daily_loss_limit (the seed's alert kinds)
 *   CONTROL kill switch  risk.alert.kill_switch      ticktape.Control
 *   EQUITY               not published on NATS; archived on Kafka
 * Kafka topics: signals and risk decisions -> trading_signals_archive, risk
 * decisions also -> risk_events_archive, order commands and order events ->
 * order_execution_archive and broker_communication_log (what was said to and
 * heard from the venue), bars -> aggregate_archive; an EXTERNAL input a
 * session archives -> external_data_archive (its bytes as received, keyed by
 * the external type).
 *
 * No function here allocates: decoding unpacks into a stack arena and
 * encoding packs into the caller's buffer. All are thread-safe.
 */
#ifndef TT_WIRE_H
#define TT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/external.h"
#include "../core/instrument.h"

#define TT_WIRE_SUBJECT_MAX 96
#define TT_WIRE_MSG_MAX 512 /* largest encoded output message */

/* External-event types carried in blob.type (from market.external.{type}):
 * enum tt_external_type, core/external.h. */

/* TickData protobuf -> QUOTE. ts is left 0 (the inbox stamps it); ts_init is
 * the message's timestamp in ns (0 when absent). Fails with TT_EFORMAT (bad
 * protobuf, missing/unknown symbol, bid or ask not a positive finite number)
 * naming the field. */
int tt_wire_tick_decode(const void *data, size_t len, const tt_instruments *ins, tt_event *ev,
                        tt_err *err);

/* The same for a Kafka message keyed by symbol: when the TickData carries no
 * symbol, the key (key_len bytes, may be NULL) names it. */
int tt_wire_tick_decode_keyed(const void *data, size_t len, const void *key, size_t key_len,
                              const tt_instruments *ins, tt_event *ev, tt_err *err);

/* What a decoder refuses (each a TT_EFORMAT naming the field; the sources
 * count and log it with the subject):
 *   - a price below one point or above 1e6 price units (TT_WIRE_PRICE_MAX
 *     in wire.c: above every traded rate, so a bid a million times the
 *     market is out), not finite;
 *   - a crossed quote (ask below bid); a locked one (bid == ask) is taken;
 *   - a volume that is negative, not finite, or above 1e15;
 *   - a bar whose low is above its open or close, or whose high is below
 *     them, or a bar price out of the same range (in points too);
 *   - ticks.{SYMBOL} (or ticks.{SOURCE}.{SYMBOL}) whose payload names another instrument
 *     (tt_wire_tick_subject_decode);
 *   - with tt_wire_check_time: an exchange time too far from arrival. */

/* A tick from subject "ticks.{SYMBOL}" or "ticks.{SOURCE}.{SYMBOL}": decoded (JSON when json is set and
 * the payload starts with '{', else TickData) and refused when the subject's
 * symbol is not the payload's instrument. */
int tt_wire_tick_subject_decode(const char *subject, const void *data, size_t len, int json,
                                const tt_instruments *ins, tt_event *ev, tt_err *err);

/* The event's exchange time (ts_init) against its arrival time now: refused
 * when more than future ns ahead, or (past > 0) more than past ns behind. A
 * message without a time passes. */
int tt_wire_check_time(const tt_event *ev, tt_ts now, tt_ts past, tt_ts future, tt_err *err);

/* The default for how far ahead of its arrival a tick's time may be. */
#define TT_WIRE_TICK_AHEAD (60 * TT_NS_PER_SEC)

/* The JSON form {"symbol":"EURUSD","bid":1.1,"ask":1.2,"timestamp":1549238400000}
 * (other keys ignored) -> QUOTE, with the same rules. */
int tt_wire_tick_json_decode(const void *data, size_t len, const tt_instruments *ins,
                             tt_event *ev, tt_err *err);

/* QUOTE -> TickData bytes in buf. Returns the length, or 0 when cap is too
 * small or ev is not a quote of a known instrument. Timestamp = ev->ts in ms. */
size_t tt_wire_tick_encode(const tt_instruments *ins, const tt_event *ev, uint8_t *buf,
                           size_t cap);

/* ticktape.Bar on bars.{SYMBOL}.{tf} -> BAR. The subject names symbol and
 * timeframe when the message does not. TT_OK, or TT_EFORMAT naming the subject
 * or field (bad subject, unknown instrument, bad protobuf, timeframe or side,
 * prices that are not a bar). */
int tt_wire_bar_decode(const char *subject, const void *data, size_t len,
                       const tt_instruments *ins, tt_event *ev, tt_err *err);

/* market.external.{type} -> EXTERNAL (payload not copied: the caller passes the
 * bytes along with the event). value = the JSON key "value" when present, else 0.
 * TT_OK, or TT_EFORMAT when the subject is not market.external.{type}. */
int tt_wire_external_decode(const char *subject, const void *data, size_t len, tt_event *ev,
                            tt_err *err);

/* The NATS subjects of an output event: fills up to max subjects and returns
 * how many (0: not published). The output functions below cannot fail
 * otherwise: 0 or NULL means "no wire form". */
#define TT_WIRE_MAX_SUBJECTS 3
int tt_wire_output_subjects(const tt_instruments *ins, const tt_event *ev,
                            char (*subj)[TT_WIRE_SUBJECT_MAX], int max);
/* The Kafka topics of an output event (NULL-terminated list in topics, at most
 * max - 1 entries); returns how many. */
int tt_wire_output_topics(const tt_event *ev, const char **topics, int max);
/* Name of the protobuf message tt_wire_output_encode writes for ev ("ticktape.Bar"...);
 * NULL for a kind without one. */
const char *tt_wire_output_type(const tt_event *ev);
/* Returns the encoded length (0 when ev has no wire form or cap is too small). */
size_t tt_wire_output_encode(const tt_instruments *ins, const tt_event *ev, uint8_t *buf,
                             size_t cap);

/* The JSON form of an output (for consumers that do not speak protobuf; NATS
 * sink option `json`): one flat object per event with "symbol", the event's
 * fields under the protobuf message's field names, prices as exact decimals
 * in the instrument's digits (string-free numbers), and "timestamp" in ms,
 * e.g. {"symbol":"EURUSD","client_id":7,"venue_id":1007,"status":"filled",
 * "side":"sell","type":"market","fill_quantity":100000,"fill_price":1.14431,
 * "leaves_quantity":0,"commission_minor":700,"reason":3,"timestamp":1549267200123}.
 * Returns the length written (no NUL counted), 0 when ev has no wire form or
 * cap is too small. */
size_t tt_wire_output_json(const tt_instruments *ins, const tt_event *ev, char *buf, size_t cap);

/* ---- the machine-learning outputs (live/wire_features.c) ---- */

/* At most this many values go into a FeatureRow or a ModelPrediction's
 * features (ml/spec.h's TT_ML_MAX_FEATURES): a message stays under 16 KiB. */
#define TT_WIRE_FEATURES_MAX 256
#define TT_WIRE_FEATURES_TOPIC "ml_features_archive"
#define TT_WIRE_FEATURES_MSG_MAX 16384 /* largest FeatureRow / signal with features, either form */

/* The row of one closed bar (all borrowed). */
typedef struct tt_wire_features {
    const char *symbol;
    int tf, side;            /* enum tt_timeframe, enum tt_price_side */
    tt_ts open_ts, close_ts; /* the bar's period */
    const int *cols;         /* catalog index of each value (core/features.h) */
    const double *values;
    int n;                   /* values (cut to TT_WIRE_FEATURES_MAX) */
} tt_wire_features;

/* features.{SYMBOL}.{tf} (tf as bars.* names it: 15m, 1h, ..., else M15-style)
 * into subj; cannot fail (cut to cap). */
void tt_wire_features_subject(const char *symbol, int tf, char *subj, size_t cap);

/* ticktape.FeatureRow bytes / its JSON form {"symbol","timeframe","side",
 * "open_time","close_time" (ISO 8601 UTC, ms), "timestamp" (close, ms),
 * "features":{"ret_1":..,...} in column order, NaN as null, doubles with 17
 * significant digits (they read back exactly)}. The length, or 0 when cap is
 * too small. */
size_t tt_wire_features_encode(const tt_wire_features *r, uint8_t *buf, size_t cap);
size_t tt_wire_features_json(const tt_wire_features *r, char *buf, size_t cap);

/* A SIGNAL as tt_wire_output_encode / _json write it, with a model's signal
 * carrying the feature row its prediction was made from in
 * ModelPrediction.features (features may be NULL: sent empty; at most
 * TT_WIRE_FEATURES_MAX values; JSON: NaN as null). */
size_t tt_wire_signal_encode(const tt_instruments *ins, const tt_event *ev, const double *features,
                             int nfeatures, uint8_t *buf, size_t cap);
size_t tt_wire_signal_json(const tt_instruments *ins, const tt_event *ev, const double *features,
                           int nfeatures, char *buf, size_t cap);

/* "[v,v,...]" (17 significant digits, null for NaN and infinities) into buf;
 * returns the length, or cap when it does not fit. */
size_t tt_wire_json_doubles(const double *v, int n, char *buf, size_t cap);

/* Decoders of the output payloads (for tests and consumers in C). They fill
 * the payload fields of ev for the given kind; header fields are left alone.
 * TT_OK, or TT_EFORMAT when the bytes are not the message. */
int tt_wire_order_event_decode(const void *data, size_t len, tt_event *ev, tt_err *err);
int tt_wire_order_cmd_decode(const void *data, size_t len, tt_event *ev, tt_err *err);

#endif
