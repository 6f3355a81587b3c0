/*
 * ticktape: value parsers shared by every layer.
 *
 * Scenario keys, synthetic-market keys, strategy parameters, data-quality
 * settings and command-line options all read numbers, booleans and words
 * from text. One parser per kind of value serves them all, so a value means
 * the same thing wherever it is written and its error reads the same:
 *
 *     expected a number, got 'fast'
 *     expected true or false, got 'maybe'
 *     expected one of none|fixed|random, got 'gaussian'
 *
 * The message names the value, not where it came from: the caller knows the
 * file, line and key and prefixes them (tt_err_prefix), so the core needs no
 * notion of files.
 *
 * Rules (documented for users in docs/scenarios.md):
 *   - the whole text must be the value; blanks (space, tab) around it are
 *     ignored; an empty text is not a value;
 *   - numbers: decimal, optional sign and exponent (strtod); not infinite,
 *     not NaN, not out of double range;
 *   - integers: decimal, optional sign, within int64;
 *   - booleans: true/false, yes/no, on/off, 1/0, in any letter case (the union
 *     of what the scenario reader and the synthetic market accepted before);
 *   - enum words: compared ignoring ASCII letter case; a table may hold
 *     aliases, accepted but left out of listings and messages.
 *
 * Every parser returns TT_OK and writes *out, or returns TT_EINVAL, leaves
 * *out untouched and fills err (which may be NULL).
 */
#ifndef TT_PARSE_H
#define TT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"

/* true/false, yes/no, on/off, 1/0 (any case) -> 1/0. TT_EINVAL otherwise. */
int tt_parse_bool(const char *text, int *out, tt_err *err);

/* A finite double. TT_EINVAL for anything else (text after the number, inf,
 * nan, overflow or underflow). */
int tt_parse_double(const char *text, double *out, tt_err *err);

/* A decimal int64. TT_EINVAL for anything else (text after the number, out
 * of range). */
int tt_parse_int(const char *text, int64_t *out, tt_err *err);

/* A UTC time as tt_ts_parse reads it (ISO 8601 or an integer with ns, us, ms
 * or s). TT_EINVAL for anything else or a time int64 nanoseconds cannot hold. */
int tt_parse_ts(const char *text, tt_ts *out, tt_err *err);

/* One word of an enumeration. A table is an array ended by a {NULL, 0}
 * row; rows with alias = 1 are accepted but not listed. */
typedef struct tt_enum_value {
    const char *name;
    int value;
    int alias;
} tt_enum_value;

/* The value of the word in values (ASCII case ignored). TT_EINVAL, with a
 * message listing the words, when it is not one of them. */
int tt_parse_enum(const char *text, const tt_enum_value *values, int *out, tt_err *err);

/* The listed words joined with sep ("none|fixed|random") into buf (always
 * terminated, truncated if short). Returns the length it needed. */
size_t tt_enum_list(const tt_enum_value *values, const char *sep, char *buf, size_t bufsize);

/* The listed name of a value (the first non-alias row with it); NULL when no
 * row has it. */
const char *tt_enum_name(const tt_enum_value *values, int value);

/* How a key of a key table is documented: its `--keys` line and its row in
 * the docs (a test checks the docs against the tables). */
typedef struct tt_keydoc {
    char key[96];     /* dotted key, "venue.latency_ms"; a section ends in ".*" */
    char type[128];   /* "number in [0, 3.6e+06]", "none|fixed|random", ... */
    char def[96];     /* the default as documented; "-" when there is none */
    const char *help; /* one line */
} tt_keydoc;

#endif
