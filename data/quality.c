/*
 * Data-quality rules (see data/quality.h for the rules, policies, defaults).
 *
 * How this works: the filter keeps the last kept tick (the reference for
 * order, spike and non-positive repair), the previous spiking tick (to accept
 * a level shift), and a small ring of the distinct prices kept at the current
 * timestamp (for duplicates: Dukascopy and Polygon send several ticks in one
 * millisecond, and a duplicate need not be adjacent to its twin). The ring is
 * fixed-size: past TT_QUALITY_SAME_TS distinct ticks at one time, the oldest
 * are forgotten, which can only let a duplicate through (counted as kept),
 * never drop a good tick.
 *
 * The band rule keeps a ring of the last TT_QUALITY_BAND prices seen (bids and
 * asks apart) and their medians, refreshed every TT_QUALITY_BAND / 2 ticks:
 * one outlier in the ring cannot move a median, and a real level shift moves
 * it after half a ring of ticks at the new level.
 *
 * Rules run in enum order on a working copy of the tick; each hit is counted
 * under its rule; the final action is the strongest one asked for. Dropped and
 * repaired ticks go to the quarantine file and to the sink (the importers'
 * quarantine stream on the tape) as they were received.
 */
#include "quality.h"
#include "../core/fingerprint.h"

#include "../core/parse.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TT_QUALITY_SAME_TS 32
#define TT_QUALITY_BAND 32      /* prices in the band rule's window */
#define TT_QUALITY_BAND_MIN 8   /* the band rule checks once the window holds this many */

static const char *const RULE_NAMES[TT_QR_COUNT] = {"nonpositive", "crossed", "duplicate",
                                                    "order",       "spike",   "spread",
                                                    "volume",      "band"};
static const char *const POLICY_NAMES[3] = {"flag", "drop", "repair"};

/* Bit mask of allowed policies per rule. */
#define P(x) (1u << (x))
static const unsigned ALLOWED[TT_QR_COUNT] = {
    [TT_QR_NONPOSITIVE] = P(TT_QP_FLAG) | P(TT_QP_DROP) | P(TT_QP_REPAIR),
    [TT_QR_CROSSED] = P(TT_QP_FLAG) | P(TT_QP_DROP) | P(TT_QP_REPAIR),
    [TT_QR_DUPLICATE] = P(TT_QP_FLAG) | P(TT_QP_DROP),
    [TT_QR_ORDER] = P(TT_QP_DROP) | P(TT_QP_REPAIR),
    [TT_QR_SPIKE] = P(TT_QP_FLAG) | P(TT_QP_DROP),
    [TT_QR_SPREAD] = P(TT_QP_FLAG) | P(TT_QP_DROP),
    [TT_QR_VOLUME] = P(TT_QP_FLAG) | P(TT_QP_DROP),
    [TT_QR_BAND] = P(TT_QP_FLAG) | P(TT_QP_DROP),
};
#undef P

typedef struct same_ts {
    tt_price a, b; /* quote: bid, ask; trade: price, size bits */
} same_ts;

struct tt_quality {
    tt_quality_config cfg;
    tt_price max_spread; /* resolved, points */
    const tt_instrument *ins;
    FILE *qf;
    char origin[256];
    tt_quality_counts n;

    int have_last;
    tt_ts last_ts;
    tt_price last_bid, last_ask; /* last kept tick (trade: price in both) */
    tt_ts ref_ts;
    tt_price ref_px; /* spike reference */
    int have_spiker;
    tt_price spiker_px; /* the previous tick when it spiked */

    same_ts ring[TT_QUALITY_SAME_TS];
    int ring_n, ring_head;

    tt_price band[2][TT_QUALITY_BAND]; /* last prices seen: bids, asks */
    int band_n, band_head;
    uint64_t band_seen;
    tt_price median[2];

    tt_quality_sink sink;
    void *sink_ctx;
};

const char *tt_quality_rule_name(int rule)
{
    return rule >= 0 && rule < TT_QR_COUNT ? RULE_NAMES[rule] : "?";
}

const char *tt_quality_policy_name(int policy)
{
    return policy >= 0 && policy <= TT_QP_REPAIR ? POLICY_NAMES[policy] : "?";
}

void tt_quality_config_default(tt_quality_config *c)
{
    memset(c, 0, sizeof *c);
    c->policy[TT_QR_NONPOSITIVE] = TT_QP_DROP;
    c->policy[TT_QR_CROSSED] = TT_QP_FLAG;
    c->policy[TT_QR_DUPLICATE] = TT_QP_DROP;
    c->policy[TT_QR_ORDER] = TT_QP_DROP;
    c->policy[TT_QR_SPIKE] = TT_QP_FLAG;
    c->policy[TT_QR_SPREAD] = TT_QP_FLAG;
    c->policy[TT_QR_VOLUME] = TT_QP_DROP;
    c->policy[TT_QR_BAND] = TT_QP_DROP;
    c->spike_pct = 0.02;
    c->band_pct = 0.20;
    c->max_spread_pips = 5.0;
    c->max_spread = 0;
    c->spike_gap_ns = TT_NS_PER_HOUR;
    c->quarantine = NULL;
}

const char *tt_quality_config_help(void)
{
    return "  data quality (--quality KEY=VALUE, repeatable; docs/data-quality.md):\n"
           "    nonpositive=flag|drop|repair  bid/ask/price <= 0        (default drop)\n"
           "    crossed=flag|drop|repair  bid >= ask                    (default flag)\n"
           "    duplicate=flag|drop       same time and prices          (default drop)\n"
           "    order=drop|repair         earlier than the last tick    (default drop)\n"
           "    spike=flag|drop           jump over spike-pct           (default flag)\n"
           "    spread=flag|drop          ask - bid over the maximum    (default flag)\n"
           "    volume=flag|drop          NaN, infinite or negative volume (default drop)\n"
           "    band=flag|drop            bid or ask over band-pct from the median of the\n"
           "                              last 32 prices seen           (default drop)\n"
           "    spike-pct=P               spike threshold in percent    (default 2)\n"
           "    max-spread-pips=N         spread threshold in pips      (default 5)\n"
           "    max-spread=N              spread threshold in points    (overrides pips)\n"
           "    spike-gap=S               seconds of silence that reset the spike\n"
           "                              reference                     (default 3600)\n"
           "    band-pct=P                band rule threshold in percent (default 20)\n"
           "  suspect prices (nonpositive, volume, band) are quarantined by default: kept\n"
           "  off the quote stream, written to the tape's quarantine stream (tape export\n"
           "  --quarantine), counted, and the exit code is 3; --keep-suspect keeps them.\n";
}

/* A number >= 0 (the shared parser: whole text, finite). */
static int parse_double(const char *s, double *out)
{
    double v;
    if (tt_parse_double(s, &v, NULL) != TT_OK || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int check_policies(const tt_quality_config *c, tt_err *err)
{
    for (int r = 0; r < TT_QR_COUNT; r++) {
        unsigned p = c->policy[r];
        if (p > TT_QP_REPAIR || !(ALLOWED[r] & (1u << p))) {
            char allowed[64] = "";
            for (int k = 0; k <= TT_QP_REPAIR; k++)
                if (ALLOWED[r] & (1u << k)) {
                    if (allowed[0])
                        strcat(allowed, "|");
                    strcat(allowed, POLICY_NAMES[k]);
                }
            return tt_err_set(err, TT_EINVAL, "quality rule '%s': policy '%s' is not allowed (use %s)",
                              RULE_NAMES[r], tt_quality_policy_name((int)p), allowed);
        }
    }
    if (!(c->spike_pct > 0))
        return tt_err_set(err, TT_EINVAL, "quality: spike-pct must be > 0");
    if (c->band_pct < 0)
        return tt_err_set(err, TT_EINVAL, "quality: band-pct must be > 0");
    return TT_OK;
}

int tt_quality_config_set(tt_quality_config *c, const char *kv, tt_err *err)
{
    const char *eq = kv ? strchr(kv, '=') : NULL;
    if (!eq || eq == kv || !eq[1])
        return tt_err_set(err, TT_EINVAL, "quality setting '%s': expected KEY=VALUE (e.g. spike=drop)",
                          kv ? kv : "");
    size_t k = (size_t)(eq - kv);
    const char *v = eq + 1;
    for (int r = 0; r < TT_QR_COUNT; r++) {
        if (strlen(RULE_NAMES[r]) == k && !strncmp(kv, RULE_NAMES[r], k)) {
            int p = -1;
            for (int i = 0; i <= TT_QP_REPAIR; i++)
                if (!strcmp(v, POLICY_NAMES[i]))
                    p = i;
            if (p < 0)
                return tt_err_set(err, TT_EINVAL,
                                  "quality setting '%s': policy must be flag, drop or repair", kv);
            tt_quality_config t = *c;
            t.policy[r] = (uint8_t)p;
            int rc = check_policies(&t, err);
            if (rc)
                return rc;
            *c = t;
            return TT_OK;
        }
    }
    double d;
    if (parse_double(v, &d))
        return tt_err_set(err, TT_EINVAL, "quality setting '%s': '%s' is not a non-negative number",
                          kv, v);
    if (k == 9 && !strncmp(kv, "spike-pct", k)) {
        if (d <= 0)
            return tt_err_set(err, TT_EINVAL, "quality setting '%s': must be > 0", kv);
        c->spike_pct = d / 100.0;
    } else if (k == 15 && !strncmp(kv, "max-spread-pips", k)) {
        c->max_spread_pips = d;
        c->max_spread = 0;
    } else if (k == 10 && !strncmp(kv, "max-spread", k)) {
        c->max_spread = (tt_price)llround(d);
    } else if (k == 9 && !strncmp(kv, "spike-gap", k)) {
        c->spike_gap_ns = (tt_ts)llround(d * 1e9);
    } else if (k == 8 && !strncmp(kv, "band-pct", k)) {
        if (d <= 0)
            return tt_err_set(err, TT_EINVAL, "quality setting '%s': must be > 0", kv);
        c->band_pct = d / 100.0;
    } else {
        return tt_err_set(err, TT_EINVAL,
                          "unknown quality setting '%.*s' (known: nonpositive crossed duplicate order "
                          "spike spread volume band spike-pct max-spread-pips max-spread spike-gap "
                          "band-pct)", (int)k, kv);
    }
    return TT_OK;
}

int tt_quality_new(tt_quality **out, const tt_quality_config *c, const tt_instrument *ins,
                   tt_err *err)
{
    *out = NULL;
    tt_quality_config def;
    if (!c) {
        tt_quality_config_default(&def);
        c = &def;
    }
    int rc = check_policies(c, err);
    if (rc)
        return rc;
    tt_quality *q = calloc(1, sizeof *q);
    if (!q)
        return tt_err_set(err, TT_ENOMEM, "quality: out of memory");
    q->cfg = *c;
    if (!(q->cfg.band_pct > 0))
        q->cfg.band_pct = 0.20; /* a config not from tt_quality_config_default */
    if (c->keep_suspect) /* kept and counted, not quarantined */
        q->cfg.policy[TT_QR_NONPOSITIVE] = q->cfg.policy[TT_QR_VOLUME] =
            q->cfg.policy[TT_QR_BAND] = TT_QP_FLAG;
    q->ins = ins;
    if (c->max_spread > 0)
        q->max_spread = c->max_spread;
    else if (ins && ins->pip > 0)
        q->max_spread = (tt_price)llround(c->max_spread_pips * (double)ins->pip);
    else
        q->max_spread = 0; /* unknown pip and no point threshold: spread rule off */
    if (c->quarantine) {
        q->qf = fopen(c->quarantine, "a");
        if (!q->qf) {
            int e = errno;
            free(q);
            return tt_err_set(err, TT_EIO, "%s: cannot open quarantine file: %s", c->quarantine,
                              strerror(e));
        }
        q->cfg.quarantine = NULL; /* the caller's string is not kept */
        /* One write() per line in append mode: filters of several streams may
         * share one quarantine file without splitting each other's lines. */
        setvbuf(q->qf, NULL, _IOLBF, 0);
        fseek(q->qf, 0, SEEK_END);
        if (ftell(q->qf) == 0)
            fputs("rule,action,origin,symbol,kind,time_ns,bid_or_price,ask_or_size,bid_vol,ask_vol\n",
                  q->qf);
        if (ferror(q->qf)) { /* the header line went out at once (line buffered) */
            int e = errno;
            fclose(q->qf);
            free(q);
            return tt_err_set(err, TT_EIO, "%s: cannot write quarantine file: %s", c->quarantine,
                              strerror(e));
        }
    }
    *out = q;
    return TT_OK;
}

void tt_quality_free(tt_quality *q)
{
    if (!q)
        return;
    if (q->qf)
        fclose(q->qf);
    free(q);
}

void tt_quality_set_sink(tt_quality *q, tt_quality_sink fn, void *ctx)
{
    q->sink = fn;
    q->sink_ctx = ctx;
}

void tt_quality_set_origin(tt_quality *q, const char *origin)
{
    snprintf(q->origin, sizeof q->origin, "%s", origin ? origin : "");
}

static void fmt_px(const tt_quality *q, tt_price p, char *buf, int n)
{
    if (q->ins)
        tt_price_format(q->ins, p, buf, n);
    else
        snprintf(buf, (size_t)n, "%" PRId64, p);
}

/* The original tick to the sink, and one CSV line to the quarantine file;
 * origin is quoted (it may hold commas). */
static int quarantine(tt_quality *q, const tt_event *orig, int rule, int action, tt_err *err)
{
    if (q->sink) {
        int rc = q->sink(q->sink_ctx, rule, action, q->origin, orig, err);
        if (rc)
            return rc;
    }
    if (!q->qf)
        return TT_OK;
    char a[48], b[48];
    const char *sym = q->ins ? q->ins->symbol : "";
    fprintf(q->qf, "%s,%s,\"", RULE_NAMES[rule], action == TT_QA_DROP ? "drop" : "repair");
    for (const char *s = q->origin; *s; s++) {
        if (*s == '"')
            fputc('"', q->qf);
        fputc(*s, q->qf);
    }
    if (orig->kind == TT_EV_QUOTE) {
        fmt_px(q, orig->u.quote.bid, a, sizeof a);
        fmt_px(q, orig->u.quote.ask, b, sizeof b);
        fprintf(q->qf, "\",%s,quote,%" PRId64 ",%s,%s,%.9g,%.9g\n", sym, orig->ts, a, b,
                (double)orig->u.quote.bid_vol, (double)orig->u.quote.ask_vol);
    } else {
        fmt_px(q, orig->u.trade.price, a, sizeof a);
        fprintf(q->qf, "\",%s,trade,%" PRId64 ",%s,%.17g,,\n", sym, orig->ts, a, orig->u.trade.size);
    }
    if (ferror(q->qf))
        return tt_err_set(err, TT_EIO, "quarantine file: write failed");
    return TT_OK;
}

static void ring_reset(tt_quality *q)
{
    q->ring_n = 0;
    q->ring_head = 0;
}

static int ring_has(const tt_quality *q, tt_price a, tt_price b)
{
    for (int i = 0; i < q->ring_n; i++)
        if (q->ring[i].a == a && q->ring[i].b == b)
            return 1;
    return 0;
}

static void ring_put(tt_quality *q, tt_price a, tt_price b)
{
    if (ring_has(q, a, b))
        return;
    q->ring[q->ring_head] = (same_ts){a, b};
    q->ring_head = (q->ring_head + 1) % TT_QUALITY_SAME_TS;
    if (q->ring_n < TT_QUALITY_SAME_TS)
        q->ring_n++;
}

static int stronger(int a, int b)
{
    return a > b ? a : b; /* KEEP < REPAIRED < DROP */
}

/* Is |px - ref| / ref over the threshold? Integer points, computed in double:
 * the threshold is a ratio and prices are far below 2^53. */
static int is_jump(tt_price px, tt_price ref, double pct)
{
    if (ref <= 0)
        return 0;
    double d = fabs((double)px - (double)ref) / (double)ref;
    return d > pct;
}

/* One tick being checked: the working copy, what each rule found and asked. */
typedef struct qcheck {
    tt_event w;
    int is_quote;
    int hit[TT_QR_COUNT];
    int act[TT_QR_COUNT];
    tt_price ka, kb; /* duplicate key: quote bid, ask; trade price, size bits */
    int spiked;
} qcheck;

/* A rule tripped: counted, and what its policy asks (repair is the rule's own). */
static void trip(const tt_quality *q, qcheck *k, int rule)
{
    k->hit[rule] = 1;
    if (q->cfg.policy[rule] == TT_QP_DROP)
        k->act[rule] = TT_QA_DROP;
}

#define BID(k) ((k)->is_quote ? (k)->w.u.quote.bid : (k)->w.u.trade.price)
#define ASK(k) ((k)->is_quote ? (k)->w.u.quote.ask : (k)->w.u.trade.price)

/* nonpositive and crossed */
static void check_prices(tt_quality *q, qcheck *k)
{
    tt_event *w = &k->w;
    if (BID(k) <= 0 || ASK(k) <= 0) {
        trip(q, k, TT_QR_NONPOSITIVE);
        if (q->cfg.policy[TT_QR_NONPOSITIVE] == TT_QP_REPAIR) {
            if (!q->have_last) {
                k->act[TT_QR_NONPOSITIVE] = TT_QA_DROP; /* nothing to repair from */
            } else if (k->is_quote) {
                if (w->u.quote.bid <= 0)
                    w->u.quote.bid = q->last_bid;
                if (w->u.quote.ask <= 0)
                    w->u.quote.ask = q->last_ask;
                k->act[TT_QR_NONPOSITIVE] = TT_QA_REPAIRED;
            } else {
                w->u.trade.price = q->last_bid;
                k->act[TT_QR_NONPOSITIVE] = TT_QA_REPAIRED;
            }
        }
    }
    if (!k->is_quote || w->u.quote.bid < w->u.quote.ask || k->act[TT_QR_NONPOSITIVE] == TT_QA_DROP)
        return;
    k->hit[TT_QR_CROSSED] = 1;
    int p = q->cfg.policy[TT_QR_CROSSED];
    if (p == TT_QP_DROP) {
        k->act[TT_QR_CROSSED] = TT_QA_DROP;
    } else if (p == TT_QP_REPAIR && w->u.quote.bid > w->u.quote.ask) {
        tt_price t = w->u.quote.bid;
        w->u.quote.bid = w->u.quote.ask;
        w->u.quote.ask = t;
        float tv = w->u.quote.bid_vol;
        w->u.quote.bid_vol = w->u.quote.ask_vol;
        w->u.quote.ask_vol = tv;
        k->act[TT_QR_CROSSED] = TT_QA_REPAIRED;
    }
}

/* order (before duplicate: a tick earlier than the last is not compared with
 * the ring), then duplicate: same time and prices as a tick kept at this time */
static void check_time(tt_quality *q, qcheck *k)
{
    tt_event *w = &k->w;
    if (q->have_last && w->ts < q->last_ts) {
        k->hit[TT_QR_ORDER] = 1;
        if (q->cfg.policy[TT_QR_ORDER] == TT_QP_REPAIR) {
            w->ts = q->last_ts;
            w->ts_init = q->last_ts > w->ts_init ? q->last_ts : w->ts_init;
            k->act[TT_QR_ORDER] = TT_QA_REPAIRED;
        } else {
            k->act[TT_QR_ORDER] = TT_QA_DROP;
        }
    }
    k->ka = BID(k);
    if (k->is_quote)
        k->kb = w->u.quote.ask;
    else
        memcpy(&k->kb, &w->u.trade.size, sizeof k->kb);
    if (q->have_last && w->ts == q->last_ts && ring_has(q, k->ka, k->kb))
        trip(q, k, TT_QR_DUPLICATE);
}

/* The median of n prices (n <= TT_QUALITY_BAND). */
static tt_price median_of(const tt_price *v, int n)
{
    tt_price t[TT_QUALITY_BAND];
    memcpy(t, v, (size_t)n * sizeof *t);
    for (int i = 1; i < n; i++) /* insertion sort: n is small */
        for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
            tt_price x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[(n - 1) / 2];
}

/* spike (against the last kept tick; a silence over spike_gap resets it),
 * spread, and band (against the medians of the last prices seen) */
static void check_moves(tt_quality *q, qcheck *k)
{
    tt_event *w = &k->w;
    if (q->have_last && w->ts - q->ref_ts <= q->cfg.spike_gap_ns && BID(k) > 0 &&
        is_jump(BID(k), q->ref_px, q->cfg.spike_pct)) {
        /* a level shift is confirmed by a second tick: accepted (the first was counted) */
        if (!q->have_spiker || is_jump(BID(k), q->spiker_px, q->cfg.spike_pct)) {
            k->spiked = 1;
            trip(q, k, TT_QR_SPIKE);
        }
    }
    if (k->is_quote && q->max_spread > 0 && w->u.quote.ask - w->u.quote.bid > q->max_spread)
        trip(q, k, TT_QR_SPREAD);
    if (BID(k) <= 0 || ASK(k) <= 0)
        return;
    if (q->band_n >= TT_QUALITY_BAND_MIN &&
        (is_jump(BID(k), q->median[0], q->cfg.band_pct) ||
         is_jump(ASK(k), q->median[1], q->cfg.band_pct)))
        trip(q, k, TT_QR_BAND);
    /* every price seen goes into the window, suspect or not */
    q->band[0][q->band_head] = BID(k);
    q->band[1][q->band_head] = ASK(k);
    q->band_head = (q->band_head + 1) % TT_QUALITY_BAND;
    if (q->band_n < TT_QUALITY_BAND)
        q->band_n++;
    if (q->band_n == TT_QUALITY_BAND_MIN || ++q->band_seen % (TT_QUALITY_BAND / 2) == 0) {
        q->median[0] = median_of(q->band[0], q->band_n);
        q->median[1] = median_of(q->band[1], q->band_n);
    }
}

/* volume: NaN, infinite or negative volumes (quotes) or size (trades) */
static void check_volume(tt_quality *q, qcheck *k)
{
    const tt_event *w = &k->w;
    int bad = k->is_quote ? !isfinite(w->u.quote.bid_vol) || !isfinite(w->u.quote.ask_vol) ||
                                w->u.quote.bid_vol < 0 || w->u.quote.ask_vol < 0
                          : !isfinite(w->u.trade.size) || w->u.trade.size < 0;
    if (bad)
        trip(q, k, TT_QR_VOLUME);
}
#undef BID
#undef ASK

/* Count what the rules found, settle the action, remember a kept tick. */
static int settle(tt_quality *q, qcheck *k, const tt_event *orig, tt_event *ev, int *action,
                  tt_err *err)
{
    int act = TT_QA_KEEP, first_rule = -1;
    for (int r = 0; r < TT_QR_COUNT; r++) {
        if (!k->hit[r])
            continue;
        q->n.hits[r]++;
        if (k->act[r] > act) {
            act = stronger(act, k->act[r]);
            first_rule = r;
        }
    }
    if (act != TT_QA_KEEP && first_rule >= 0) {
        /* The rule that decided the action is charged with it. */
        if (act == TT_QA_DROP)
            q->n.rule_dropped[first_rule]++;
        else
            for (int r = 0; r < TT_QR_COUNT; r++)
                if (k->act[r] == TT_QA_REPAIRED)
                    q->n.rule_repaired[r]++;
    }
    /* Remember the spiking tick (a level-shift candidate) whatever its fate. */
    tt_price px = k->is_quote ? k->w.u.quote.bid : k->w.u.trade.price;
    q->have_spiker = k->spiked;
    if (k->spiked)
        q->spiker_px = px;
    *action = act;
    if (act == TT_QA_DROP) {
        q->n.dropped++;
        if (tt_quality_rule_suspect(first_rule))
            q->n.suspect++;
        return quarantine(q, orig, first_rule, act, err);
    }
    int rc = TT_OK;
    if (act == TT_QA_REPAIRED) {
        q->n.repaired++;
        int r0 = 0;
        while (r0 < TT_QR_COUNT && k->act[r0] != TT_QA_REPAIRED)
            r0++;
        rc = quarantine(q, orig, r0 < TT_QR_COUNT ? r0 : 0, act, err);
        *ev = k->w;
    }
    q->n.kept++;
    if (!q->have_last || k->w.ts != q->last_ts)
        ring_reset(q);
    ring_put(q, k->ka, k->kb);
    q->have_last = 1;
    q->last_ts = k->w.ts;
    q->last_bid = k->is_quote ? k->w.u.quote.bid : k->w.u.trade.price;
    q->last_ask = k->is_quote ? k->w.u.quote.ask : k->w.u.trade.price;
    if (!k->spiked) {
        /* A flagged spike is kept but does not move the reference, so the
         * tick that returns to the old level is not a second spike; a real
         * level shift moves it on its second tick (see have_spiker). */
        q->ref_px = px;
        q->ref_ts = k->w.ts;
    }
    return rc;
}

int tt_quality_check(tt_quality *q, tt_event *ev, int *action, tt_err *err)
{
    *action = TT_QA_KEEP;
    if (ev->kind != TT_EV_QUOTE && ev->kind != TT_EV_TRADE)
        return TT_OK;
    const tt_event orig = *ev;
    qcheck k;
    memset(&k, 0, sizeof k);
    k.w = *ev;
    k.is_quote = ev->kind == TT_EV_QUOTE;
    q->n.seen++;
    check_prices(q, &k);
    check_time(q, &k);
    check_moves(q, &k);
    check_volume(q, &k);
    return settle(q, &k, &orig, ev, action, err);
}

int tt_quality_rule_suspect(int rule)
{
    return rule == TT_QR_NONPOSITIVE || rule == TT_QR_VOLUME || rule == TT_QR_BAND;
}

uint64_t tt_quality_lost(const tt_quality_counts *c)
{
    return c->rule_dropped[TT_QR_NONPOSITIVE] + c->rule_dropped[TT_QR_ORDER] +
           c->rule_dropped[TT_QR_VOLUME] + c->rule_dropped[TT_QR_BAND];
}

void tt_quality_get_counts(const tt_quality *q, tt_quality_counts *out)
{
    *out = q->n;
}

void tt_quality_counts_add(tt_quality_counts *a, const tt_quality_counts *b)
{
    a->seen += b->seen;
    a->kept += b->kept;
    a->repaired += b->repaired;
    a->dropped += b->dropped;
    a->suspect += b->suspect;
    for (int r = 0; r < TT_QR_COUNT; r++) {
        a->hits[r] += b->hits[r];
        a->rule_dropped[r] += b->rule_dropped[r];
        a->rule_repaired[r] += b->rule_repaired[r];
    }
}

void tt_quality_print(FILE *f, const char *title, const tt_quality_counts *c,
                      const tt_quality_config *policies)
{
    fprintf(f, "data quality%s%s: %" PRIu64 " ticks checked, %" PRIu64 " kept (%" PRIu64
               " repaired), %" PRIu64 " dropped (%" PRIu64 " suspect)\n",
            title ? ", " : "", title ? title : "", c->seen, c->kept, c->repaired, c->dropped,
            c->suspect);
    if (policies)
        fprintf(f, "  %-12s %-7s %12s %12s %12s\n", "rule", "policy", "hits", "dropped", "repaired");
    else
        fprintf(f, "  %-12s %12s %12s %12s\n", "rule", "hits", "dropped", "repaired");
    for (int r = 0; r < TT_QR_COUNT; r++) {
        if (policies)
            fprintf(f, "  %-12s %-7s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", RULE_NAMES[r],
                    tt_quality_policy_name(policies->policy[r]), c->hits[r], c->rule_dropped[r],
                    c->rule_repaired[r]);
        else
            fprintf(f, "  %-12s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", RULE_NAMES[r],
                    c->hits[r], c->rule_dropped[r], c->rule_repaired[r]);
    }
}

void tt_quality_print_json(FILE *f, const tt_quality_counts *c, const tt_quality_config *policies)
{
    fprintf(f, "{\"seen\":%" PRIu64 ",\"kept\":%" PRIu64 ",\"repaired\":%" PRIu64
               ",\"dropped\":%" PRIu64 ",\"suspect\":%" PRIu64 ",\"rules\":{",
            c->seen, c->kept, c->repaired, c->dropped, c->suspect);
    for (int r = 0; r < TT_QR_COUNT; r++) {
        fprintf(f, "%s\"%s\":{\"hits\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"repaired\":%" PRIu64,
                r ? "," : "", RULE_NAMES[r], c->hits[r], c->rule_dropped[r], c->rule_repaired[r]);
        if (policies)
            fprintf(f, ",\"policy\":\"%s\"", tt_quality_policy_name(policies->policy[r]));
        fputc('}', f);
    }
    fputs("}}", f);
}

/* ---- quarantine records ---- */

enum { QREC_VERSION = 1 }; /* byte 0; then rule, action, origin length, origin, the tick */

void tt_quality_record(int rule, int action, const char *origin, const tt_event *orig,
                       tt_ts stamp, uint8_t *buf, tt_event *out)
{
    size_t on = origin ? strnlen(origin, 255) : 0;
    buf[0] = QREC_VERSION;
    buf[1] = (uint8_t)rule;
    buf[2] = (uint8_t)action;
    buf[3] = (uint8_t)on;
    memcpy(buf + 4, origin ? origin : "", on);
    size_t n = 4 + on + tt_event_encode(orig, buf + 4 + on, 0);
    memset(out, 0, sizeof *out);
    out->ts = out->ts_init = stamp;
    out->kind = TT_EV_BLOB;
    out->cls = tt_event_class_of(TT_EV_BLOB);
    out->u.blob.type = TT_QUARANTINE_BLOB;
    out->u.blob.len = (uint32_t)n;
    out->u.blob.data = buf;
}

int tt_quality_record_read(const tt_event *rec, int *rule, int *action, char *origin,
                           size_t origin_n, tt_event *orig, tt_err *err)
{
    const uint8_t *p = rec->u.blob.data;
    size_t len = rec->u.blob.len;
    if (rec->kind != TT_EV_BLOB || rec->u.blob.type != TT_QUARANTINE_BLOB || len < 4 ||
        p[0] != QREC_VERSION || p[1] >= TT_QR_COUNT || 4u + p[3] > len)
        return tt_err_set(err, TT_EFORMAT, "not a quarantine record");
    *rule = p[1];
    *action = p[2];
    snprintf(origin, origin_n, "%.*s", (int)p[3], (const char *)p + 4);
    if (!tt_event_decode(p + 4 + p[3], len - 4 - p[3], orig))
        return tt_err_set(err, TT_EFORMAT, "quarantine record: the tick does not decode");
    return TT_OK;
}
