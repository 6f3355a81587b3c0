/*
 * ticktape: several feeds of the same symbols consolidated into one.
 *
 * Brokers quote the same EURUSD a little differently, at their own pace, and
 * now and then one of them goes quiet, quotes nonsense or drops off. The
 * consolidator takes every source's quotes, judges each source's health per
 * symbol and builds one merged quote stream by a policy. It is pure: no
 * clock (time is each input's ts: the event time on history, the arrival
 * stamp live), no I/O, no randomness, so the same inputs in the same order
 * give the same outputs, on history (`ticktape merge`) and live (`ticktape
 * aggregate`, whose journal replays to the same merged feed).
 *
 * Sources are numbered 0..n-1 in priority order (0 is the primary).
 *
 * Health, per source and symbol (tt_feed_state):
 *   UP        eligible;
 *   DEGRADED  eligible only while no UP source is: a quote spread wider than
 *             spread_k times the median spread of the other live sources, a
 *             tick rate below rate_ratio of theirs, or a crossed quote of its
 *             own (that quote is not used);
 *   DOWN      never eligible: stale (silent for `stale` while another source
 *             of the symbol ticks), or quarantined (its mid more than
 *             deviation_k median spreads from the consensus, the median mid
 *             of at least two other live sources: a spike; the quote is not
 *             used).
 * A source's first good quote makes it UP at once. Coming back from DEGRADED
 * or DOWN takes hysteresis: good quotes for at least `recover` of time and
 * `recover_ticks` quotes in a row; any bad quote restarts the count.
 *
 * Policies, over the eligible sources (UP ones; when none, DEGRADED ones;
 * only quotes younger than `stale`):
 *   best      the highest bid and the lowest ask, each from its source(s).
 *             When they cross (bid >= ask) the cross is reported and the
 *             merged quote is the highest-priority eligible source's own: a
 *             crossed quote is never passed on;
 *   priority  the highest-priority eligible source's quote; a change of the
 *             chosen source is a FAILOVER (to a lower priority) or a
 *             FAILBACK (to a higher one that had failed; one that shows up
 *             for the first time just takes over) event;
 *   median    the consensus: the median bid and the median ask (an even count
 *             averages the two middle ones, the bid rounded down and the ask
 *             up, so the spread never narrows).
 * A merged quote is produced only when it differs from the previous one of
 * its symbol (bid or ask): identical ticks from several sources count once.
 * Each merged quote names its sources: bid_from and ask_from are bit masks of
 * the source indexes whose bid (ask) it is.
 */
#ifndef TT_CONSOLIDATE_H
#define TT_CONSOLIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"

#define TT_CONSOL_MAX_SOURCES 16

enum tt_consol_policy { TT_POLICY_BEST = 1, TT_POLICY_PRIORITY = 2, TT_POLICY_MEDIAN = 3 };

/* "best", "priority", "median"; parse gives 0 for an unknown word. */
const char *tt_consol_policy_name(int policy);
int tt_consol_policy_parse(const char *s);

enum tt_feed_state { TT_FEED_UNSEEN = 0, TT_FEED_UP = 1, TT_FEED_DEGRADED = 2, TT_FEED_DOWN = 3 };

/* Why a source changed state. */
enum tt_feed_reason {
    TT_FEED_OK = 0,        /* first quote, or recovered after the hysteresis */
    TT_FEED_STALE = 1,     /* silent for `stale` while others ticked */
    TT_FEED_DEVIATION = 2, /* mid too far from the consensus: quarantined */
    TT_FEED_SPREAD = 3,    /* spread too wide against the others */
    TT_FEED_SLOW = 4,      /* tick rate too low against the others */
    TT_FEED_CROSSED = 5    /* its own quote crossed (bid >= ask) or not positive */
};

/* "unseen", "up", "degraded", "down" / "ok", "stale", "deviation", "spread",
 * "slow", "crossed". Never NULL ("?"). */
const char *tt_feed_state_name(int state);
const char *tt_feed_reason_name(int reason);

typedef struct tt_consol_config {
    int policy;             /* enum tt_consol_policy */
    int nsources;           /* 1..TT_CONSOL_MAX_SOURCES, in priority order */
    tt_ts stale;            /* staleness timeout; 0 = 5 s */
    tt_ts recover;          /* hysteresis time; 0 = 5 s */
    uint32_t recover_ticks; /* hysteresis quotes; 0 = 3 */
    double deviation_k;     /* quarantine beyond k median spreads; 0 = 10, < 0 = off */
    double spread_k;        /* degraded beyond k times the median spread; 0 = 5, < 0 = off */
    double rate_ratio;      /* degraded below this fraction of the median rate; 0 = off */
} tt_consol_config;

/* A merged quote. */
typedef struct tt_consol_quote {
    tt_ts ts;          /* time of the input that made it */
    tt_ts ts_init;     /* that input's own time (its exchange time live) */
    uint32_t symbol;
    tt_quote q;        /* volumes: those of the first source of each side */
    uint32_t bid_from; /* bit i: source i's bid is the merged bid */
    uint32_t ask_from;
    uint8_t crossed;   /* best: the sources crossed, this is the fallback quote */
} tt_consol_quote;

enum tt_consol_event_kind {
    TT_CONSOL_STATE = 1,    /* a source's state changed */
    TT_CONSOL_FAILOVER = 2, /* priority: a lower-priority source is chosen */
    TT_CONSOL_FAILBACK = 3, /* priority: a higher-priority source is chosen again */
    TT_CONSOL_CROSS = 4     /* best: the sources' best bid and ask crossed (once per episode) */
};

typedef struct tt_consol_event {
    tt_ts ts;
    uint32_t symbol;
    uint8_t kind;       /* enum tt_consol_event_kind */
    uint8_t source;     /* STATE: the source; FAILOVER/FAILBACK: the source chosen now */
    uint8_t from_state; /* STATE */
    uint8_t to_state;
    uint8_t reason;     /* STATE: enum tt_feed_reason; FAILOVER: why the previous one left */
    int8_t previous;    /* FAILOVER/FAILBACK: the source chosen before (-1: none) */
    double value;       /* DEVIATION: median spreads away; SPREAD: times the median spread;
                         * STALE: seconds silent; SLOW: its rate / the median rate;
                         * CROSS: bid - ask in points */
} tt_consol_event;

/* Health of one source for one symbol (a snapshot). */
typedef struct tt_feed_health {
    int state, reason;  /* current state and why */
    tt_ts since;        /* when it entered that state */
    tt_ts last;         /* its last quote's time (0: none) */
    tt_quote q;         /* its last usable quote */
    uint64_t ticks;     /* quotes received */
    uint64_t rejected;  /* quotes not used (crossed, deviating) */
    uint64_t bad;       /* quotes that broke a rule (rejected ones, too wide, ...) */
    uint64_t duplicates;/* equal to another source's quote of the last `stale` */
    uint64_t used;      /* merged quotes it contributed a side to */
    double rate;        /* quotes per second: a moving average of one-second counts */
    double spread;      /* points: a moving average of its spreads */
    double latency;     /* ns: a moving average of ts - ts_init (feed delay live) */
} tt_feed_health;

typedef struct tt_consolidator tt_consolidator;

typedef void (*tt_consol_quote_fn)(void *ctx, const tt_consol_quote *q);
typedef void (*tt_consol_event_fn)(void *ctx, const tt_consol_event *e);

/* A consolidator (cfg copied, defaults filled in). TT_EINVAL naming the
 * field (policy, nsources, a negative time), TT_ENOMEM. */
int tt_consolidator_new(tt_consolidator **out, const tt_consol_config *cfg, tt_err *err);
void tt_consolidator_free(tt_consolidator *c); /* NULL is a no-op */

/* The configuration in force (defaults filled in). */
const tt_consol_config *tt_consolidator_config(const tt_consolidator *c);

/* Where merged quotes and events go (either may be NULL). Called from inside
 * tt_consolidator_push, events of one push before its quote. */
void tt_consolidator_listen(tt_consolidator *c, tt_consol_quote_fn on_quote,
                            tt_consol_event_fn on_event, void *ctx);

/* One quote (a TT_EV_QUOTE event: ts, ts_init, symbol, quote) from source s.
 * Returns 1 when a merged quote came out, 0 when not, TT_EINVAL (s out of
 * range, not a quote), TT_EORDER (ts before the previous input's; nothing
 * changed), TT_ENOMEM. */
int tt_consolidator_push(tt_consolidator *c, int s, const tt_event *ev, tt_err *err);

#define TT_CONSOL_MAX_SET 64

/* Quotes of one time stamp from several sources (ev[i] from source src[i],
 * 1..TT_CONSOL_MAX_SET of them, at most one per source and symbol), taken as
 * simultaneous: each is judged against the others' quotes of that same time,
 * and each symbol's merged quote is built once, after all of them (history
 * has such ties; identical feeds then never cross nor judge each other
 * stale). Returns the number of merged quotes that came out, or the errors of
 * tt_consolidator_push (TT_EINVAL also for different times or a source
 * quoting a symbol twice). */
int tt_consolidator_push_set(tt_consolidator *c, int n, const int *src, const tt_event *ev,
                             tt_err *err);

/* The symbols seen so far (ids in the order first seen). */
uint32_t tt_consolidator_symbol_count(const tt_consolidator *c);
uint32_t tt_consolidator_symbol_at(const tt_consolidator *c, uint32_t i);

/* Health of source s for a symbol: TT_OK, or TT_ENOTFOUND for a symbol never
 * seen or s out of range. */
int tt_consolidator_health(const tt_consolidator *c, uint32_t symbol, int s,
                           tt_feed_health *out);

/* The source chosen last for a symbol by the priority policy (-1: none). */
int tt_consolidator_chosen(const tt_consolidator *c, uint32_t symbol);

/* One event as a JSON object (names[i]: source i's name; symbol: the symbol's
 * name), e.g. {"event":"failover","symbol":"EURUSD","time":"...","from":"ic",
 * "to":"pepper","reason":"stale","value":2.01}. Returns the length, 0 when cap
 * is too small. */
size_t tt_consol_event_json(const tt_consol_event *e, const char *const *names,
                            const char *symbol, char *buf, size_t cap);

/* The sources of a mask as names joined by '+' ("ic+pepper"). Returns the
 * length (cut to fit). */
size_t tt_consol_sources_text(uint32_t mask, const char *const *names, char *buf, size_t cap);

#endif
