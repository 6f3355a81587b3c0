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
 * Rules run in enum order on a working copy of the tick; each hit is counted
 * under its rule; the final action is the strongest one asked for. Dropped and
 * repaired ticks go to the quarantine file as they were received.
 */
#include "quality.h"

#include "../core/parse.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TT_QUALITY_SAME_TS 32

static const char *const RULE_NAMES[TT_QR_COUNT] = {"nonpositive", "crossed", "duplicate",
                                                    "order",       "spike",   "spread"};
static const char *const POLICY_NAMES[3] = {"flag", "drop", "repair"};

/* Bit mask of allowed policies per rule. */
#define P(x) (1u << (x))
static const unsigned ALLOWED[TT_QR_COUNT] = {
    [TT_QR_NONPOSITIVE] = P(TT_QP_DROP) | P(TT_QP_REPAIR),
    [TT_QR_CROSSED] = P(TT_QP_FLAG) | P(TT_QP_DROP) | P(TT_QP_REPAIR),
    [TT_QR_DUPLICATE] = P(TT_QP_FLAG) | P(TT_QP_DROP),
    [TT_QR_ORDER] = P(TT_QP_DROP) | P(TT_QP_REPAIR),
    [TT_QR_SPIKE] = P(TT_QP_FLAG) | P(TT_QP_DROP),
    [TT_QR_SPREAD] = P(TT_QP_FLAG) | P(TT_QP_DROP),
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
    c->spike_pct = 0.02;
    c->max_spread_pips = 5.0;
    c->max_spread = 0;
    c->spike_gap_ns = TT_NS_PER_HOUR;
    c->quarantine = NULL;
}

const char *tt_quality_config_help(void)
{
    return "  data quality (--quality KEY=VALUE, repeatable; docs/data-quality.md):\n"
           "    nonpositive=drop|repair   bid/ask/price <= 0            (default drop)\n"
           "    crossed=flag|drop|repair  bid >= ask                    (default flag)\n"
           "    duplicate=flag|drop       same time and prices          (default drop)\n"
           "    order=drop|repair         earlier than the last tick    (default drop)\n"
           "    spike=flag|drop           jump over spike-pct           (default flag)\n"
           "    spread=flag|drop          ask - bid over the maximum    (default flag)\n"
           "    spike-pct=P               spike threshold in percent    (default 2)\n"
           "    max-spread-pips=N         spread threshold in pips      (default 5)\n"
           "    max-spread=N              spread threshold in points    (overrides pips)\n"
           "    spike-gap=S               seconds of silence that reset the spike\n"
           "                              reference                     (default 3600)\n";
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
    } else {
        return tt_err_set(err, TT_EINVAL,
                          "unknown quality setting '%.*s' (known: nonpositive crossed duplicate order "
                          "spike spread spike-pct max-spread-pips max-spread spike-gap)",
                          (int)k, kv);
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

/* One CSV line for the original tick; origin is quoted (it may hold commas). */
static int quarantine(tt_quality *q, const tt_event *orig, int rule, int action, tt_err *err)
{
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

/* What the rules found for one tick: which rules hit, the action each asks for. */
typedef struct verdict {
    int hit[TT_QR_COUNT];
    int act[TT_QR_COUNT];
    int spiked; /* the spike rule hit: the tick is a level-shift candidate */
} verdict;

/* A quote's bid and ask; a trade's price stands for both. */
static tt_price tick_bid(const tt_event *w)
{
    return w->kind == TT_EV_QUOTE ? w->u.quote.bid : w->u.trade.price;
}

static tt_price tick_ask(const tt_event *w)
{
    return w->kind == TT_EV_QUOTE ? w->u.quote.ask : w->u.trade.price;
}

/* nonpositive: repaired from the last kept tick when asked and there is one, else dropped */
static void rule_nonpositive(const tt_quality *q, tt_event *w, verdict *v)
{
    if (tick_bid(w) > 0 && tick_ask(w) > 0)
        return;
    v->hit[TT_QR_NONPOSITIVE] = 1;
    if (q->cfg.policy[TT_QR_NONPOSITIVE] == TT_QP_REPAIR && q->have_last) {
        if (w->kind == TT_EV_QUOTE) {
            if (w->u.quote.bid <= 0)
                w->u.quote.bid = q->last_bid;
            if (w->u.quote.ask <= 0)
                w->u.quote.ask = q->last_ask;
        } else {
            w->u.trade.price = q->last_bid;
        }
        v->act[TT_QR_NONPOSITIVE] = TT_QA_REPAIRED;
    } else {
        v->act[TT_QR_NONPOSITIVE] = TT_QA_DROP;
    }
}

/* crossed / locked quotes; a repair swaps the sides (a locked quote stays as it is) */
static void rule_crossed(const tt_quality *q, tt_event *w, verdict *v)
{
    if (w->kind != TT_EV_QUOTE || w->u.quote.bid < w->u.quote.ask ||
        v->act[TT_QR_NONPOSITIVE] == TT_QA_DROP)
        return;
    v->hit[TT_QR_CROSSED] = 1;
    int p = q->cfg.policy[TT_QR_CROSSED];
    if (p == TT_QP_DROP) {
        v->act[TT_QR_CROSSED] = TT_QA_DROP;
    } else if (p == TT_QP_REPAIR && w->u.quote.bid > w->u.quote.ask) {
        tt_price t = w->u.quote.bid;
        w->u.quote.bid = w->u.quote.ask;
        w->u.quote.ask = t;
        float tv = w->u.quote.bid_vol;
        w->u.quote.bid_vol = w->u.quote.ask_vol;
        w->u.quote.ask_vol = tv;
        v->act[TT_QR_CROSSED] = TT_QA_REPAIRED;
    }
}

/* order, before duplicate: a tick earlier than the last is not compared with the ring */
static void rule_order(const tt_quality *q, tt_event *w, verdict *v)
{
    if (!q->have_last || w->ts >= q->last_ts)
        return;
    v->hit[TT_QR_ORDER] = 1;
    if (q->cfg.policy[TT_QR_ORDER] == TT_QP_REPAIR) {
        w->ts = q->last_ts;
        w->ts_init = q->last_ts > w->ts_init ? q->last_ts : w->ts_init;
        v->act[TT_QR_ORDER] = TT_QA_REPAIRED;
    } else {
        v->act[TT_QR_ORDER] = TT_QA_DROP;
    }
}

/* What makes two ticks at one time the same: bid and ask, or price and size bits. */
static void duplicate_key(const tt_event *w, tt_price *ka, tt_price *kb)
{
    *ka = tick_bid(w);
    if (w->kind == TT_EV_QUOTE)
        *kb = w->u.quote.ask;
    else
        memcpy(kb, &w->u.trade.size, sizeof *kb);
}

/* duplicate: same time and prices as a tick kept at this time */
static void rule_duplicate(const tt_quality *q, const tt_event *w, tt_price ka, tt_price kb,
                           verdict *v)
{
    if (!q->have_last || w->ts != q->last_ts || !ring_has(q, ka, kb))
        return;
    v->hit[TT_QR_DUPLICATE] = 1;
    if (q->cfg.policy[TT_QR_DUPLICATE] == TT_QP_DROP)
        v->act[TT_QR_DUPLICATE] = TT_QA_DROP;
}

/* spike, against the last kept tick; a silence over spike_gap resets it */
static void rule_spike(const tt_quality *q, const tt_event *w, verdict *v)
{
    tt_price px = tick_bid(w);
    if (!q->have_last || w->ts - q->ref_ts > q->cfg.spike_gap_ns || px <= 0 ||
        !is_jump(px, q->ref_px, q->cfg.spike_pct))
        return;
    if (q->have_spiker && !is_jump(px, q->spiker_px, q->cfg.spike_pct))
        return; /* level shift confirmed by a second tick: accept, the first one was counted */
    v->spiked = 1;
    v->hit[TT_QR_SPIKE] = 1;
    if (q->cfg.policy[TT_QR_SPIKE] == TT_QP_DROP)
        v->act[TT_QR_SPIKE] = TT_QA_DROP;
}

static void rule_spread(const tt_quality *q, const tt_event *w, verdict *v)
{
    if (w->kind != TT_EV_QUOTE || q->max_spread <= 0 ||
        w->u.quote.ask - w->u.quote.bid <= q->max_spread)
        return;
    v->hit[TT_QR_SPREAD] = 1;
    if (q->cfg.policy[TT_QR_SPREAD] == TT_QP_DROP)
        v->act[TT_QR_SPREAD] = TT_QA_DROP;
}

/* Count the hits and return the strongest action asked for. The rule that
 * decided it is charged with it (*first_rule; -1 when none): for a repair,
 * every rule that repaired. */
static int tally(tt_quality *q, const verdict *v, int *first_rule)
{
    int act = TT_QA_KEEP;
    *first_rule = -1;
    for (int r = 0; r < TT_QR_COUNT; r++) {
        if (!v->hit[r])
            continue;
        q->n.hits[r]++;
        if (v->act[r] > act) {
            act = stronger(act, v->act[r]);
            *first_rule = r;
        }
    }
    if (act != TT_QA_KEEP && *first_rule >= 0) {
        if (act == TT_QA_DROP)
            q->n.rule_dropped[*first_rule]++;
        else
            for (int r = 0; r < TT_QR_COUNT; r++)
                if (v->act[r] == TT_QA_REPAIRED)
                    q->n.rule_repaired[r]++;
    }
    return act;
}

/* A kept (possibly repaired) tick becomes the reference of the next ones. */
static void keep_tick(tt_quality *q, const tt_event *w, tt_price ka, tt_price kb, int spiked)
{
    q->n.kept++;
    if (!q->have_last || w->ts != q->last_ts)
        ring_reset(q);
    ring_put(q, ka, kb);
    q->have_last = 1;
    q->last_ts = w->ts;
    q->last_bid = tick_bid(w);
    q->last_ask = tick_ask(w);
    if (!spiked) {
        /* A flagged spike is kept but does not move the reference, so the
         * tick that returns to the old level is not a second spike; a real
         * level shift moves it on its second tick (see have_spiker). */
        q->ref_px = tick_bid(w);
        q->ref_ts = w->ts;
    }
}

int tt_quality_check(tt_quality *q, tt_event *ev, int *action, tt_err *err)
{
    *action = TT_QA_KEEP;
    if (ev->kind != TT_EV_QUOTE && ev->kind != TT_EV_TRADE)
        return TT_OK;
    const tt_event orig = *ev;
    tt_event w = *ev;
    verdict v;
    memset(&v, 0, sizeof v);
    q->n.seen++;

    /* The rules in enum order, on the working copy: a repair is seen by the next rule. */
    rule_nonpositive(q, &w, &v);
    rule_crossed(q, &w, &v);
    rule_order(q, &w, &v);
    tt_price ka, kb;
    duplicate_key(&w, &ka, &kb);
    rule_duplicate(q, &w, ka, kb, &v);
    rule_spike(q, &w, &v);
    rule_spread(q, &w, &v);

    int first_rule;
    int act = tally(q, &v, &first_rule);

    /* Remember the spiking tick (a level-shift candidate) whatever its fate. */
    if (v.spiked) {
        q->have_spiker = 1;
        q->spiker_px = tick_bid(&w);
    } else {
        q->have_spiker = 0;
    }

    int rc = TT_OK;
    if (act == TT_QA_DROP) {
        q->n.dropped++;
        rc = quarantine(q, &orig, first_rule, act, err);
    } else {
        if (act == TT_QA_REPAIRED) {
            q->n.repaired++;
            int r0 = 0;
            while (r0 < TT_QR_COUNT && v.act[r0] != TT_QA_REPAIRED)
                r0++;
            rc = quarantine(q, &orig, r0 < TT_QR_COUNT ? r0 : 0, act, err);
            *ev = w;
        }
        keep_tick(q, &w, ka, kb, v.spiked);
    }
    *action = act;
    return rc;
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
               " repaired), %" PRIu64 " dropped\n",
            title ? ", " : "", title ? title : "", c->seen, c->kept, c->repaired, c->dropped);
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
               ",\"dropped\":%" PRIu64 ",\"rules\":{",
            c->seen, c->kept, c->repaired, c->dropped);
    for (int r = 0; r < TT_QR_COUNT; r++) {
        fprintf(f, "%s\"%s\":{\"hits\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"repaired\":%" PRIu64,
                r ? "," : "", RULE_NAMES[r], c->hits[r], c->rule_dropped[r], c->rule_repaired[r]);
        if (policies)
            fprintf(f, ",\"policy\":\"%s\"", tt_quality_policy_name(policies->policy[r]));
        fputc('}', f);
    }
    fputs("}}", f);
}
