/*
 * Event names and UTC time arithmetic.
 *
 * Civil-date conversion uses the days-from-civil algorithm on the proleptic
 * Gregorian calendar, so nothing here reads the TZ environment, the locale or
 * the C library's time functions: the core stays deterministic.
 */
#include "event.h"
#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *tt_event_kind_name(int kind)
{
    static const char *names[] = {"none", "quote", "trade", "bar", "external", "timer",
                                  "order_cmd", "order_event", "signal", "risk", "control",
                                  "equity", "blob"};
    return (kind >= 0 && kind < TT_EV_KIND_COUNT) ? names[kind] : "?";
}

static const char *tf_names[] = {"none", "S1", "M1", "M5", "M15", "M30",
                                 "H1", "H4", "D1", "W1", "MN1"};
static const char *tf_seed[] = {"", "1s", "1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"};

const char *tt_timeframe_name(int tf)
{
    return (tf >= 0 && tf < TT_TF_COUNT) ? tf_names[tf] : "?";
}

const char *tt_timeframe_seed_name(int tf)
{
    return (tf > 0 && tf < TT_TF_COUNT) ? tf_seed[tf] : "?";
}

int tt_timeframe_parse(const char *s)
{
    if (!s)
        return TT_TF_NONE;
    for (int i = 1; i < TT_TF_COUNT; i++) {
        if (strcasecmp(s, tf_names[i]) == 0 || strcmp(s, tf_seed[i]) == 0)
            return i;
    }
    return TT_TF_NONE;
}

int64_t tt_timeframe_ns(int tf)
{
    switch (tf) {
    case TT_TF_S1: return TT_NS_PER_SEC;
    case TT_TF_M1: return TT_NS_PER_MIN;
    case TT_TF_M5: return 5 * TT_NS_PER_MIN;
    case TT_TF_M15: return 15 * TT_NS_PER_MIN;
    case TT_TF_M30: return 30 * TT_NS_PER_MIN;
    case TT_TF_H1: return TT_NS_PER_HOUR;
    case TT_TF_H4: return 4 * TT_NS_PER_HOUR;
    case TT_TF_D1: return TT_NS_PER_DAY;
    case TT_TF_W1: return 7 * TT_NS_PER_DAY;
    default: return 0;
    }
}

const char *tt_order_status_name(int status)
{
    switch (status) {
    case TT_OS_PENDING: return "pending";
    case TT_OS_SUBMITTED: return "submitted";
    case TT_OS_ACCEPTED: return "accepted";
    case TT_OS_PARTIALLY_FILLED: return "partially_filled";
    case TT_OS_FILLED: return "filled";
    case TT_OS_CANCELLED: return "cancelled";
    case TT_OS_REJECTED: return "rejected";
    case TT_OS_EXPIRED: return "expired";
    case TT_OS_MODIFIED: return "modified";
    case TT_OS_FAILED: return "failed";
    default: return "?";
    }
}

/* Days since 1970-01-01 of a civil date (month 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

tt_ts tt_ts_from_civil(int year, int month, int day, int hour, int min, int sec, int64_t nsec)
{
    int64_t days = days_from_civil(year, month, day);
    return ((days * 24 + hour) * 60 + min) * 60 * TT_NS_PER_SEC + (int64_t)sec * TT_NS_PER_SEC +
           nsec;
}

void tt_ts_to_civil(tt_ts ts, int *year, int *month, int *day, int *hour, int *min, int *sec,
                    int64_t *nsec)
{
    int64_t days = ts / TT_NS_PER_DAY;
    int64_t rem = ts % TT_NS_PER_DAY;
    if (rem < 0) {
        rem += TT_NS_PER_DAY;
        days -= 1;
    }
    civil_from_days(days, year, month, day);
    int64_t s = rem / TT_NS_PER_SEC;
    if (hour) *hour = (int)(s / 3600);
    if (min) *min = (int)(s / 60 % 60);
    if (sec) *sec = (int)(s % 60);
    if (nsec) *nsec = rem % TT_NS_PER_SEC;
}

static int parse_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int tt_ts_parse(const char *s, tt_ts *out)
{
    if (!s || !*s)
        return TT_EINVAL;
    /* Integer with a unit suffix. */
    const char *p = s;
    if (*p == '-' || isdigit((unsigned char)*p)) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end != s && (strcmp(end, "ns") == 0 || strcmp(end, "ms") == 0 ||
                         strcmp(end, "us") == 0 || strcmp(end, "s") == 0)) {
            int64_t mul = strcmp(end, "ns") == 0 ? 1
                          : strcmp(end, "us") == 0 ? TT_NS_PER_US
                          : strcmp(end, "ms") == 0 ? TT_NS_PER_MS
                                                   : TT_NS_PER_SEC;
            int64_t ns;
            if (errno == ERANGE || __builtin_mul_overflow((int64_t)v, mul, &ns))
                return TT_EINVAL; /* outside the ns range (years 1677..2262) */
            *out = ns;
            return TT_OK;
        }
    }
    int y, mo, d, h = 0, mi = 0, se = 0;
    int64_t ns = 0;
    p = s;
    if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) || *p++ != '-' ||
        parse_digits(&p, 2, &d))
        return TT_EINVAL;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi))
            return TT_EINVAL;
        if (*p == ':') {
            p++;
            if (parse_digits(&p, 2, &se))
                return TT_EINVAL;
            if (*p == '.') {
                p++;
                int n = 0;
                while (isdigit((unsigned char)*p) && n < 9) {
                    ns = ns * 10 + (*p - '0');
                    p++;
                    n++;
                }
                if (n == 0)
                    return TT_EINVAL;
                while (n < 9) {
                    ns *= 10;
                    n++;
                }
                while (isdigit((unsigned char)*p))
                    p++;
            }
        }
    }
    if (*p == 'Z')
        p++;
    else if (strcmp(p, "+00:00") == 0)
        p += 6;
    if (*p != '\0')
        return TT_EINVAL;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 ||
        mi > 59 || se > 60)
        return TT_EINVAL; /* 2019-02-30 is not a date */
    /* int64 nanoseconds span 1677-09-21 .. 2262-04-11: stay well inside it */
    if (y < 1678 || y > 2261)
        return TT_EINVAL;
    *out = tt_ts_from_civil(y, mo, d, h, mi, se, ns);
    return TT_OK;
}

void tt_ts_format(tt_ts ts, char *buf, int bufsize, int ns_digits)
{
    int y, mo, d, h, mi, se;
    int64_t ns;
    tt_ts_to_civil(ts, &y, &mo, &d, &h, &mi, &se, &ns);
    if (ns_digits)
        snprintf(buf, (size_t)bufsize, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", y, mo, d, h, mi,
                 se, (long long)ns);
    else
        snprintf(buf, (size_t)bufsize, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", y, mo, d, h, mi,
                 se, (long long)(ns / TT_NS_PER_MS));
}
