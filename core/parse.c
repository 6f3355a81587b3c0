/*
 * Value parsers shared by every layer (see parse.h for the accepted forms).
 *
 * Each parser ignores the blanks around the value, checks that the rest of
 * the text is the value and nothing else, and only then writes *out,
 * so a failed parse never leaves half a value behind. Messages quote the text
 * as given (at most 300 bytes of it) so the user sees what was read.
 */
#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int blank(char c) { return c == ' ' || c == '\t'; }

/* The text without surrounding blanks: start and length. */
static const char *trim(const char *text, size_t *len)
{
    while (blank(*text))
        text++;
    size_t n = strlen(text);
    while (n && blank(text[n - 1]))
        n--;
    *len = n;
    return text;
}

/* A copy of the trimmed text for tt_ts_parse (which wants the value and
 * nothing else); 0 when it is empty or longer than any time. */
static int trimmed_copy(const char *text, char *buf, size_t bufsize)
{
    size_t n;
    const char *p = trim(text, &n);
    if (n == 0 || n >= bufsize)
        return 0;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 1;
}

static int bad(tt_err *err, const char *want, const char *text)
{
    return tt_err_set(err, TT_EINVAL, "expected %s, got '%.300s'", want, text);
}

int tt_parse_bool(const char *text, int *out, tt_err *err)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    size_t n;
    const char *p = trim(text, &n);
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strlen(yes[i]) == n && !strncasecmp(p, yes[i], n)) {
            *out = 1;
            return TT_OK;
        }
        if (strlen(no[i]) == n && !strncasecmp(p, no[i], n)) {
            *out = 0;
            return TT_OK;
        }
    }
    return bad(err, "true or false", text);
}

/* Whether strtod/strtoll stopped at the end of the value (blanks may follow). */
static int at_end(const char *text, const char *end)
{
    if (end == text)
        return 0;
    while (blank(*end))
        end++;
    return *end == '\0';
}

int tt_parse_double(const char *text, double *out, tt_err *err)
{
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    if (!at_end(text, end) || errno == ERANGE || !isfinite(d))
        return bad(err, "a number", text);
    *out = d;
    return TT_OK;
}

int tt_parse_int(const char *text, int64_t *out, tt_err *err)
{
    char *end;
    errno = 0;
    long long x = strtoll(text, &end, 10);
    if (!at_end(text, end) || errno == ERANGE)
        return bad(err, "an integer", text);
    *out = x;
    return TT_OK;
}

int tt_parse_ts(const char *text, tt_ts *out, tt_err *err)
{
    char buf[96];
    tt_ts t;
    if (!trimmed_copy(text, buf, sizeof buf) || tt_ts_parse(buf, &t) != TT_OK)
        return bad(err, "a UTC time such as 2019-02-04 or 2019-02-04T10:00:00Z", text);
    *out = t;
    return TT_OK;
}

size_t tt_enum_list(const tt_enum_value *values, const char *sep, char *buf, size_t bufsize)
{
    size_t used = 0;
    if (bufsize)
        buf[0] = '\0';
    for (const tt_enum_value *v = values; v->name; v++) {
        if (v->alias)
            continue;
        size_t at = used < bufsize ? used : bufsize;
        int n = snprintf(buf + at, bufsize - at, "%s%s", used ? sep : "", v->name);
        if (n > 0)
            used += (size_t)n;
    }
    return used;
}

int tt_parse_enum(const char *text, const tt_enum_value *values, int *out, tt_err *err)
{
    size_t n;
    const char *p = trim(text, &n);
    for (const tt_enum_value *v = values; v->name; v++) {
        if (strlen(v->name) == n && !strncasecmp(p, v->name, n)) {
            *out = v->value;
            return TT_OK;
        }
    }
    char names[400], want[420];
    tt_enum_list(values, "|", names, sizeof names);
    snprintf(want, sizeof want, "one of %s", names);
    return bad(err, want, text);
}

const char *tt_enum_name(const tt_enum_value *values, int value)
{
    for (const tt_enum_value *v = values; v->name; v++)
        if (!v->alias && v->value == value)
            return v->name;
    return NULL;
}
