/*
 * ticktape: external events (economic calendar, news) and the schedule of
 * the ones that matter to trading.
 *
 * An external event is a TT_EV_EXTERNAL tt_event whose blob carries the
 * message bytes (blob.type says what kind, blob.value the headline number).
 * The same bytes travel everywhere: on the tape (imported calendars, written
 * by data/calendar.h), on NATS (market.external.{type}), on Kafka
 * (external_data_archive) and in a live session's journal, so a strategy sees
 * the same event in a backtest and live.
 *
 * Economic calendar events are a flat JSON object (ticktape's calendar
 * message, docs/external.md), one key per field, e.g.
 *
 *   {"time":"2019-01-04T13:30:00Z","timed":true,"currency":"USD",
 *    "event":"Non-Farm Employment Change","impact":"high","value":312000,
 *    "actual":312000,"actual_unit":"K","actual_text":"312K",
 *    "forecast":179000,"forecast_unit":"K","forecast_text":"179K",
 *    "previous":176000,"previous_unit":"K","previous_text":"176K"}
 *
 * Numbers are in plain units: 312K is 312000, 3.68B is 3680000000, a
 * percentage keeps its number (-0.4% is -0.4 with unit "%"). The text as the
 * source wrote it is kept beside the number. `value` is the headline number
 * (the actual), the key live/wire.c already reads for every external type.
 * tt_calendar_decode reads such an object (keys in any order, unknown keys
 * ignored) so a strategy need not parse JSON; tt_calendar_encode writes it.
 *
 * The schedule (tt_news). A risk rule that keeps a strategy out of the market
 * from N minutes BEFORE a high-impact release needs the release times ahead
 * of time, as a trader reads them off the week's calendar. tt_news is that
 * list: (time, currency, impact) of timed events, sorted, without the
 * released figures (so nothing of the future leaks through it). The backtest
 * loads it from the scenario's external streams at the start; a running
 * session adds every calendar event it receives. Lookups are binary searches.
 *
 * Pure code: no clock, no I/O, no global state.
 */
#ifndef TT_EXTERNAL_H
#define TT_EXTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"

/* External-event types carried in blob.type (market.external.{type}). */
enum tt_external_type {
    TT_EXT_OTHER = 0,
    TT_EXT_ECONOMIC_CALENDAR = 1,
    TT_EXT_FRED_INDICATORS = 2,
    TT_EXT_COMMODITY_PRICES = 3
};

/* "economic_calendar", "fred_indicators", "commodity_prices", "other"; the
 * NATS subject's last word. Never NULL. */
const char *tt_external_type_name(uint32_t type);

/* Importance of a calendar event, ordered: a rule at "medium" also covers
 * "high". Forex Factory's "Non-economic" is TT_IMPACT_NONE. */
enum tt_impact { TT_IMPACT_NONE = 0, TT_IMPACT_LOW = 1, TT_IMPACT_MEDIUM = 2, TT_IMPACT_HIGH = 3 };

/* "non-economic", "low", "medium", "high". Never NULL ("?" out of range). */
const char *tt_impact_name(int impact);
/* The impact of a word (any letter case; "none" and "non-economic" are
 * TT_IMPACT_NONE); -1 when it is none of them. */
int tt_impact_parse(const char *s);

/* One figure of a release (actual, forecast or previous). */
typedef struct tt_calendar_value {
    int has;       /* 1: value holds a number */
    double value;  /* in plain units: 312K -> 312000; 1.5% -> 1.5 */
    char unit[4];  /* "", "K", "M", "B", "T", "%" */
    char text[32]; /* as written by the source ("312K", "0-0-9"); "" when absent */
} tt_calendar_value;

#define TT_CALENDAR_EVENT_MAX 96
#define TT_CURRENCY_ALL "ALL" /* an event for every currency (G20 meetings) */

typedef struct tt_calendar_event {
    tt_ts time;       /* release time, UTC ns; untimed events: 00:00 UTC of their date */
    int timed;        /* 0: the source gave no time of day (All Day, Tentative, ...) */
    char currency[4]; /* "USD", or TT_CURRENCY_ALL */
    int impact;       /* enum tt_impact */
    char event[TT_CALENDAR_EVENT_MAX];
    tt_calendar_value actual, forecast, previous;
    char time_text[16]; /* the source's time of day as written ("9:30pm", "All Day") */
    char source[24];    /* who published it ("forexfactory") */
} tt_calendar_event;

/* Read one figure as written by a calendar: a decimal number with an
 * optional unit suffix K (1e3), M (1e6), B (1e9), T (1e12) or %, parsed
 * exactly as decimal (3.68B is 3680000000); or one of the text forms that
 * carry no single number: a vote count "0-0-9", "Pass", "Reject"; or an
 * auction result "yield|cover" ("2.34|2.6": the number is the yield). An
 * empty text is an absent figure. Fills *out (text always kept, cut at 31
 * bytes). TT_OK, or TT_EINVAL with a message for anything else. */
int tt_calendar_value_parse(const char *text, tt_calendar_value *out, tt_err *err);

/* The calendar message (JSON, see above) of ev into buf. Returns the length
 * (no NUL counted; buf is NUL-terminated), or 0 when cap is too small. Keys
 * in a fixed order, figures omitted when absent; strings escaped. */
size_t tt_calendar_encode(const tt_calendar_event *ev, char *buf, size_t cap);

/* Parse a calendar message. Keys may come in any order; unknown keys are
 * ignored; `time` (ISO 8601 or a number of ms) and `currency` are required,
 * `impact` defaults to none, `timed` to true. TT_OK, or TT_EFORMAT naming
 * the key or the byte offset. */
int tt_calendar_decode(const void *data, size_t len, tt_calendar_event *out, tt_err *err);

/* The same from an event: TT_EINVAL when ev is not an EXTERNAL event of type
 * TT_EXT_ECONOMIC_CALENDAR with a payload. */
int tt_calendar_from_event(const tt_event *ev, tt_calendar_event *out, tt_err *err);

/* A currency as a 24-bit code ("USD" -> 'U'<<16 | 'S'<<8 | 'D', letters made
 * upper case); 0 for anything that is not three letters. ALL has its own code. */
uint32_t tt_currency_code(const char *ccy);

/* ---- the schedule ---- */

typedef struct tt_news tt_news;

typedef struct tt_news_item {
    tt_ts ts;
    uint32_t currency; /* tt_currency_code */
    uint8_t impact;
} tt_news_item;

/* An empty schedule. TT_ENOMEM. */
int tt_news_new(tt_news **out, tt_err *err);
void tt_news_free(tt_news *n); /* NULL is a no-op */

/* Add an item, keeping the list sorted by time; an item equal to one already
 * there (time, currency, impact) is not added twice. Returns 1 added, 0
 * already there or not usable (no currency), TT_ENOMEM. Amortized O(1) when
 * items come in time order. */
int tt_news_add(tt_news *n, tt_ts ts, uint32_t currency, int impact);

/* Add a calendar event's (time, currency, impact) when it is timed (an
 * untimed event has no instant to keep away from). Returns as tt_news_add, or
 * 0 for an event that is not a calendar event or cannot be read. */
int tt_news_add_event(tt_news *n, const tt_event *ev);

size_t tt_news_count(const tt_news *n);
const tt_news_item *tt_news_at(const tt_news *n, size_t i);

/* The event of impact >= min_impact concerning currency a or b (or every
 * currency: ALL) nearest to `now` inside [now - after, now + before], i.e.
 * "now" is at most `before` ahead of it or `after` behind it. Returns 1 and
 * sets *at to its time, or 0 when there is none. */
int tt_news_window(const tt_news *n, tt_ts now, tt_ts before, tt_ts after, uint32_t a, uint32_t b,
                   int min_impact, tt_ts *at);

/* The first such event after now (strictly), or the last at or before now:
 * 1 and *at, or 0 when there is none. For the distance features. */
int tt_news_next(const tt_news *n, tt_ts now, uint32_t a, uint32_t b, int min_impact, tt_ts *at);
int tt_news_prev(const tt_news *n, tt_ts now, uint32_t a, uint32_t b, int min_impact, tt_ts *at);

#endif
