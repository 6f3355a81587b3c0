/*
 * ticktape: data-quality rules applied to every imported tick.
 *
 * One tt_quality filter watches ONE stream (one symbol, quotes or trades) and
 * sees its ticks in the order the importer will append them. For each tick,
 * tt_quality_check() runs every rule, counts what it found and returns what
 * to do with the tick: keep it (possibly flagged), keep a repaired copy, or
 * drop it. Every importer (Dukascopy, Polygon, CSV, MT5, HDF5, live input)
 * runs every tick through it. At the end, tt_quality_print() writes the table
 * of counts per rule. Nothing is dropped silently: every drop and every repair
 * is counted, and with a quarantine file (tt_quality_config.quarantine) the
 * original tick is also written there as one CSV line naming the rule, the
 * action and where the tick came from (tt_quality_set_origin).
 *
 * The rules, their policies and their defaults (docs/data-quality.md):
 *
 *   rule        what it detects                                  default  allowed
 *   ----------  -----------------------------------------------  -------  ----------------
 *   nonpositive bid <= 0 or ask <= 0 (trade: price <= 0)          drop     drop, repair
 *   crossed     bid >= ask (crossed, or locked when equal)        flag     flag, drop, repair
 *   duplicate   same time and same prices as a tick already       drop     flag, drop
 *               kept at that time (quotes: bid and ask; trades:
 *               price and size)
 *   order       time earlier than the last kept tick              drop     drop, repair
 *   spike       |bid - ref bid| / ref bid > spike_pct (default    flag     flag, drop
 *               2%; trades use the price); ref: see below
 *   spread      ask - bid > max_spread points (default 5 pips     flag     flag, drop
 *               of the instrument; quotes only)
 *
 * What "repair" means, rule by rule (a policy a rule does not allow is a
 * configuration error, never silently replaced):
 *   nonpositive: the bad side takes the previous kept tick's price on that
 *                side; with no previous tick the tick is dropped (counted as
 *                dropped, not repaired).
 *   crossed:     a crossed quote (bid > ask) gets its sides swapped; a locked
 *                quote (bid == ask) has nothing to swap and is kept as flagged.
 *   order:       an append-only stream cannot take a tick earlier than its
 *                last one, so "flag" is impossible; repair re-stamps the tick
 *                with the last kept time (the original time goes to the
 *                quarantine file). No reordering window: sources that are
 *                not in time order should be sorted before import.
 *   duplicate, spike, spread: no repair (there is no right value to invent).
 *
 * Rules are checked in the order of enum tt_quality_rule; a repaired tick is
 * checked by the later rules in its repaired form. A tick may trip several
 * rules: each rule counts it, and the strongest action wins (drop > repair >
 * keep). The spike reference is the last kept tick that was not itself a
 * spike (so a flash spike and its return count once, not twice). A level
 * shift is accepted: a tick that is a spike against the reference but within
 * the threshold of the previous (itself spiking) tick is not a spike and
 * becomes the reference (the shift counts as one spike, on its first tick).
 * A silence longer than spike_gap_ns (default 1 hour: weekends, holidays)
 * since the reference turns the spike check off for the next tick.
 *
 * Memory: a filter holds a fixed-size window of the ticks kept at the current
 * timestamp (for duplicates); no allocation per tick.
 */
#ifndef TT_QUALITY_H
#define TT_QUALITY_H

#include <stdint.h>
#include <stdio.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"

enum tt_quality_rule {
    TT_QR_NONPOSITIVE = 0,
    TT_QR_CROSSED = 1,
    TT_QR_DUPLICATE = 2,
    TT_QR_ORDER = 3,
    TT_QR_SPIKE = 4,
    TT_QR_SPREAD = 5,
    TT_QR_COUNT
};

enum tt_quality_policy {
    TT_QP_FLAG = 0,   /* count it, keep the tick unchanged */
    TT_QP_DROP = 1,   /* count it, drop the tick (and quarantine it) */
    TT_QP_REPAIR = 2  /* count it, keep a repaired tick (original quarantined) */
};

/* What the importer does with the tick after tt_quality_check(). */
enum tt_quality_action {
    TT_QA_KEEP = 0,     /* append it (it may have been flagged) */
    TT_QA_REPAIRED = 1, /* append it: the event was changed in place */
    TT_QA_DROP = 2      /* do not append it */
};

typedef struct tt_quality_config {
    uint8_t policy[TT_QR_COUNT]; /* enum tt_quality_policy per rule */
    double spike_pct;            /* spike threshold as a fraction: 0.02 = 2% */
    double max_spread_pips;      /* spread threshold in pips of the instrument (default 5) */
    tt_price max_spread;         /* spread threshold in points; > 0 overrides max_spread_pips */
    tt_ts spike_gap_ns;          /* a gap longer than this resets the spike reference (1 h) */
    const char *quarantine;      /* CSV file for dropped and repaired ticks; NULL = none */
} tt_quality_config;

/* Fill *c with the defaults documented above. Cannot fail. */
void tt_quality_config_default(tt_quality_config *c);

/* Apply one setting from the command line, "KEY=VALUE":
 *   nonpositive|crossed|duplicate|order|spike|spread = flag|drop|repair
 *   spike-pct=2 (percent), max-spread-pips=5, max-spread=50 (points),
 *   spike-gap=3600 (seconds)
 * TT_EINVAL with a message naming the key and the allowed values when the key
 * is unknown, the value bad, or the policy not allowed for that rule (*c is
 * then unchanged). TT_OK otherwise. */
int tt_quality_config_set(tt_quality_config *c, const char *kv, tt_err *err);

/* Text for --help: one line per setting, with defaults. Cannot fail. */
const char *tt_quality_config_help(void);

/* Names: "duplicate", ... and "flag", "drop", "repair"; "?" when unknown. Cannot fail. */
const char *tt_quality_rule_name(int rule);
const char *tt_quality_policy_name(int policy);

typedef struct tt_quality tt_quality;

/* A new filter for one stream of `ins` (used for the pip size and to print
 * prices in the quarantine file; may be NULL: spread threshold then needs
 * max_spread in points and prices are written as integers). The config is
 * copied. Opens (appends to) the quarantine file when set. TT_OK, or TT_EINVAL
 * on a bad config, TT_ENOMEM, TT_EIO when the quarantine file cannot be opened
 * or its header line written; *q is then NULL. */
int tt_quality_new(tt_quality **q, const tt_quality_config *c, const tt_instrument *ins,
                   tt_err *err);

/* Close the quarantine file; free (NULL is allowed). Cannot fail: the lines
 * were written as they came (tt_quality_check reports a failed one). */
void tt_quality_free(tt_quality *q);

/* Name the origin of the next ticks (a file name, "file:line", a topic...),
 * written in quarantine lines. The string is copied (truncated to 255 bytes).
 * Cannot fail. */
void tt_quality_set_origin(tt_quality *q, const char *origin);

/* Check one tick (TT_EV_QUOTE or TT_EV_TRADE; other kinds are kept untouched
 * and not counted) in append order. May change *ev in place (repair). Sets
 * *action to an enum tt_quality_action. Returns TT_OK, or TT_EIO when the
 * quarantine line cannot be written (the action is still valid). */
int tt_quality_check(tt_quality *q, tt_event *ev, int *action, tt_err *err);

/* Counts. seen = ticks checked; for each rule: hits (ticks that tripped it),
 * and what happened to them because of it. */
typedef struct tt_quality_counts {
    uint64_t seen, kept, repaired, dropped;
    uint64_t hits[TT_QR_COUNT];
    uint64_t rule_dropped[TT_QR_COUNT];
    uint64_t rule_repaired[TT_QR_COUNT];
} tt_quality_counts;

/* The counts so far. Cannot fail. */
void tt_quality_get_counts(const tt_quality *q, tt_quality_counts *out);

/* Add b into a (for a total over several symbols). Cannot fail. */
void tt_quality_counts_add(tt_quality_counts *a, const tt_quality_counts *b);

/* Print the end-of-import table: one row per rule (rule, policy, hits,
 * dropped, repaired), then totals. `title` names the stream ("EURUSD quotes").
 * `policies` may be NULL (the column is then left out). Returns nothing: a write
 * error stays in f's error flag (ferror) for the caller. */
void tt_quality_print(FILE *f, const char *title, const tt_quality_counts *c,
                      const tt_quality_config *policies);

/* The counts as one JSON object (no newline), for --json outputs:
 * {"seen":N,"kept":N,"repaired":N,"dropped":N,"rules":{"duplicate":{"hits":N,
 * "dropped":N,"repaired":N,"policy":"drop"},...}}. A write error stays in f's
 * error flag, as for tt_quality_print. */
void tt_quality_print_json(FILE *f, const tt_quality_counts *c, const tt_quality_config *policies);

#endif
