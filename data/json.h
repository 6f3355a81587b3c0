/*
 * ticktape: a small strict JSON reader (RFC 8259).
 *
 * The whole text is parsed at once into a flat array of nodes that point back
 * into the text: nothing is copied and numbers keep their decimal text, so a
 * price such as 1.14427 can be parsed exactly into points (tt_price_parse)
 * instead of going through a double. Strings are decoded on demand
 * (tt_json_string). Strict: no comments, no trailing commas, no leading zeros,
 * no control characters or invalid UTF-8 in strings, one value per document,
 * nesting at most TT_JSON_MAX_DEPTH deep. Errors name the line and column.
 *
 * Use:
 *     tt_json doc;
 *     if (tt_json_parse(&doc, text, len, &err)) ...;
 *     const tt_json_node *res = tt_json_get(&doc, tt_json_root(&doc), "results");
 *     for (const tt_json_node *e = tt_json_first(&doc, res); e; e = tt_json_next(&doc, e)) ...
 *     tt_json_free(&doc);
 */
#ifndef TT_JSON_H
#define TT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"

#define TT_JSON_MAX_DEPTH 64

enum tt_json_type {
    TT_JSON_NULL = 1,
    TT_JSON_FALSE,
    TT_JSON_TRUE,
    TT_JSON_NUMBER,
    TT_JSON_STRING,
    TT_JSON_ARRAY,
    TT_JSON_OBJECT
};

/* One value. Offsets index the parsed text; child links index the node array
 * (0 = none: node 0 is always the root, so it is never anyone's child). */
typedef struct tt_json_node {
    uint8_t type;      /* enum tt_json_type */
    uint32_t off, len; /* NUMBER: its text; STRING: the raw text between the quotes */
    uint32_t key_off, key_len; /* member of an OBJECT: raw key text between the quotes */
    uint32_t first;    /* ARRAY/OBJECT: first child */
    uint32_t next;     /* next sibling */
    uint32_t count;    /* ARRAY/OBJECT: number of children */
    uint32_t line;     /* 1-based line where the value starts */
} tt_json_node;

typedef struct tt_json {
    const char *text;
    size_t len;
    tt_json_node *nodes;
    uint32_t n, cap;
} tt_json;

/* Parse `len` bytes of `text` (need not be NUL-terminated; must outlive doc).
 * Returns 0, TT_EFORMAT with "line L, column C: ..." in err, TT_ENOMEM, or
 * TT_EINVAL for a text over 4 GiB.
 * On failure doc holds nothing that needs freeing (tt_json_free is still safe). */
int tt_json_parse(tt_json *doc, const char *text, size_t len, tt_err *err);

/* Release the node array. Cannot fail. */
void tt_json_free(tt_json *doc);

/* The top-level value (never NULL after a successful parse; NULL before).
 * The navigation below cannot fail: NULL means "none". */
const tt_json_node *tt_json_root(const tt_json *doc);

/* First child and next sibling of an array or object; NULL at the end. */
const tt_json_node *tt_json_first(const tt_json *doc, const tt_json_node *n);
const tt_json_node *tt_json_next(const tt_json *doc, const tt_json_node *n);

/* Member `key` of an object (first one when a key repeats; keys compare
 * byte-wise on their raw text, so escaped keys do not match). NULL when `obj`
 * is not an object or has no such member. */
const tt_json_node *tt_json_get(const tt_json *doc, const tt_json_node *obj, const char *key);

/* Decode a STRING into buf (UTF-8, NUL-terminated). TT_EINVAL when n is not a
 * string or the decoded text does not fit in bufsize (the message names the
 * line). TT_OK otherwise. The accessors below leave *out untouched on failure. */
int tt_json_string(const tt_json *doc, const tt_json_node *n, char *buf, size_t bufsize,
                   tt_err *err);

/* Copy a NUMBER's text into buf (NUL-terminated). TT_EINVAL when n is not a
 * number or it does not fit. TT_OK otherwise. */
int tt_json_number_text(const tt_json *doc, const tt_json_node *n, char *buf, size_t bufsize,
                        tt_err *err);

/* A NUMBER that is a whole number in int64 range (no fraction, no exponent).
 * TT_EINVAL otherwise (naming the line and the text). TT_OK when it is. */
int tt_json_int64(const tt_json *doc, const tt_json_node *n, int64_t *out, tt_err *err);

/* A NUMBER as a double (strtod of its text). TT_OK, or TT_EINVAL when not a number. */
int tt_json_double(const tt_json *doc, const tt_json_node *n, double *out, tt_err *err);

#endif
