/*
 * The strict JSON reader.
 *
 * How this works: one recursive-descent pass over the text appends a node per
 * value to a growable array (so the whole document costs one allocation that
 * doubles, never one per value). A container's children are linked through
 * `next`; while a container is being filled the parser remembers its last
 * child so appending is O(1). Recursion depth is bounded by TT_JSON_MAX_DEPTH,
 * so hostile input cannot exhaust the stack. Scalars are validated but not
 * converted: numbers keep their text (exact decimal prices), strings are
 * decoded only when asked.
 */
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    tt_json *doc;
    const char *s;
    size_t pos, len;
    uint32_t line;
    size_t line_start;
    tt_err *err;
} parser;

static int fail(parser *p, const char *what)
{
    return tt_err_set(p->err, TT_EFORMAT, "line %u, column %zu: %s", p->line,
                      p->pos - p->line_start + 1, what);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == '\n') {
            p->line++;
            p->line_start = p->pos + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        p->pos++;
    }
}

static int new_node(parser *p, uint8_t type, uint32_t *idx)
{
    tt_json *d = p->doc;
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 64;
        if (cap <= d->cap)
            return tt_err_set(p->err, TT_ENOMEM, "JSON document too large");
        tt_json_node *v = realloc(d->nodes, (size_t)cap * sizeof *v);
        if (!v)
            return tt_err_set(p->err, TT_ENOMEM, "out of memory parsing JSON");
        d->nodes = v;
        d->cap = cap;
    }
    *idx = d->n++;
    tt_json_node *n = &d->nodes[*idx];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->off = (uint32_t)p->pos;
    n->line = p->line;
    return TT_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(const char *s, size_t avail, unsigned *out)
{
    if (avail < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 0;
}

/* Length of a valid UTF-8 sequence starting at s (1..4), or 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static int utf8_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    int n;
    unsigned cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (avail < (size_t)n)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Validate a string starting at the opening quote; leaves pos after the closing one. */
static int scan_string(parser *p, uint32_t *off, uint32_t *len)
{
    p->pos++; /* opening quote */
    *off = (uint32_t)p->pos;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            *len = (uint32_t)(p->pos - *off);
            p->pos++;
            return TT_OK;
        }
        if (c < 0x20)
            return fail(p, "control character in string");
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                return fail(p, "unterminated string");
            char e = p->s[p->pos + 1];
            if (e == 'u') {
                unsigned u;
                if (read_hex4(p->s + p->pos + 2, p->len - p->pos - 2, &u))
                    return fail(p, "bad \\u escape");
                p->pos += 6;
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return fail(p, "lone low surrogate in \\u escape");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    unsigned lo;
                    if (p->pos + 1 >= p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                        read_hex4(p->s + p->pos + 2, p->len - p->pos - 2, &lo) || lo < 0xDC00 ||
                        lo > 0xDFFF)
                        return fail(p, "high surrogate without a low surrogate");
                    p->pos += 6;
                }
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return fail(p, "bad escape in string");
            p->pos += 2;
            continue;
        }
        int n = utf8_len((const unsigned char *)p->s + p->pos, p->len - p->pos);
        if (!n)
            return fail(p, "invalid UTF-8 in string");
        p->pos += (size_t)n;
    }
    return fail(p, "unterminated string");
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int scan_number(parser *p)
{
    size_t i = p->pos;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len || !is_digit(p->s[i]))
        return fail(p, "bad number");
    if (p->s[i] == '0') {
        i++;
        if (i < p->len && is_digit(p->s[i]))
            return fail(p, "leading zero in number");
    } else {
        while (i < p->len && is_digit(p->s[i]))
            i++;
    }
    if (i < p->len && p->s[i] == '.') {
        i++;
        if (i >= p->len || !is_digit(p->s[i]))
            return fail(p, "digit expected after decimal point");
        while (i < p->len && is_digit(p->s[i]))
            i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (i >= p->len || !is_digit(p->s[i]))
            return fail(p, "digit expected in exponent");
        while (i < p->len && is_digit(p->s[i]))
            i++;
    }
    p->pos = i;
    return TT_OK;
}

static int parse_value(parser *p, int depth, uint32_t *out);

static int parse_container(parser *p, int depth, uint32_t idx, int is_object)
{
    char close = is_object ? '}' : ']';
    p->pos++; /* opening bracket */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return TT_OK;
    }
    uint32_t last = 0;
    for (;;) {
        uint32_t koff = 0, klen = 0;
        if (is_object) {
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return fail(p, "object key (a string) expected");
            int rc = scan_string(p, &koff, &klen);
            if (rc)
                return rc;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return fail(p, "':' expected after object key");
            p->pos++;
            skip_ws(p);
        }
        uint32_t child;
        int rc = parse_value(p, depth + 1, &child);
        if (rc)
            return rc;
        /* nodes may have moved: index, never hold pointers across parse_value */
        tt_json_node *c = &p->doc->nodes[child];
        c->key_off = koff;
        c->key_len = klen;
        if (last)
            p->doc->nodes[last].next = child;
        else
            p->doc->nodes[idx].first = child;
        last = child;
        p->doc->nodes[idx].count++;
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, is_object ? "unterminated object" : "unterminated array");
        if (p->s[p->pos] == ',') {
            p->pos++;
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == close)
                return fail(p, "trailing comma");
            continue;
        }
        if (p->s[p->pos] == close) {
            p->pos++;
            return TT_OK;
        }
        return fail(p, is_object ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static int literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, "unexpected character");
    p->pos += n;
    return TT_OK;
}

static int parse_value(parser *p, int depth, uint32_t *out)
{
    if (depth > TT_JSON_MAX_DEPTH)
        return fail(p, "nesting too deep");
    if (p->pos >= p->len)
        return fail(p, "value expected");
    char c = p->s[p->pos];
    int rc;
    switch (c) {
    case '{':
    case '[':
        if ((rc = new_node(p, c == '{' ? TT_JSON_OBJECT : TT_JSON_ARRAY, out)))
            return rc;
        return parse_container(p, depth, *out, c == '{');
    case '"': {
        if ((rc = new_node(p, TT_JSON_STRING, out)))
            return rc;
        uint32_t off, len;
        if ((rc = scan_string(p, &off, &len)))
            return rc;
        p->doc->nodes[*out].off = off;
        p->doc->nodes[*out].len = len;
        return TT_OK;
    }
    case 't':
        if ((rc = new_node(p, TT_JSON_TRUE, out)))
            return rc;
        return literal(p, "true");
    case 'f':
        if ((rc = new_node(p, TT_JSON_FALSE, out)))
            return rc;
        return literal(p, "false");
    case 'n':
        if ((rc = new_node(p, TT_JSON_NULL, out)))
            return rc;
        return literal(p, "null");
    default:
        if (c == '-' || is_digit(c)) {
            if ((rc = new_node(p, TT_JSON_NUMBER, out)))
                return rc;
            size_t start = p->pos;
            if ((rc = scan_number(p)))
                return rc;
            p->doc->nodes[*out].len = (uint32_t)(p->pos - start);
            return TT_OK;
        }
        return fail(p, "unexpected character");
    }
}

int tt_json_parse(tt_json *doc, const char *text, size_t len, tt_err *err)
{
    memset(doc, 0, sizeof *doc);
    if (len >= UINT32_MAX)
        return tt_err_set(err, TT_EINVAL, "JSON text larger than 4 GiB");
    doc->text = text;
    doc->len = len;
    parser p = {doc, text, 0, len, 1, 0, err};
    /* A UTF-8 byte order mark is tolerated: some tools write one. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3;
    skip_ws(&p);
    uint32_t root;
    int rc = parse_value(&p, 0, &root);
    if (!rc) {
        skip_ws(&p);
        if (p.pos != p.len)
            rc = fail(&p, "text after the JSON value");
    }
    if (rc) {
        tt_json_free(doc);
        return rc;
    }
    return TT_OK;
}

void tt_json_free(tt_json *doc)
{
    free(doc->nodes);
    doc->nodes = NULL;
    doc->n = doc->cap = 0;
}

const tt_json_node *tt_json_root(const tt_json *doc)
{
    return doc->n ? &doc->nodes[0] : NULL;
}

const tt_json_node *tt_json_first(const tt_json *doc, const tt_json_node *n)
{
    if (!n || (n->type != TT_JSON_ARRAY && n->type != TT_JSON_OBJECT) || !n->first)
        return NULL;
    return &doc->nodes[n->first];
}

const tt_json_node *tt_json_next(const tt_json *doc, const tt_json_node *n)
{
    return n && n->next ? &doc->nodes[n->next] : NULL;
}

const tt_json_node *tt_json_get(const tt_json *doc, const tt_json_node *obj, const char *key)
{
    if (!obj || obj->type != TT_JSON_OBJECT)
        return NULL;
    size_t kl = strlen(key);
    for (const tt_json_node *c = tt_json_first(doc, obj); c; c = tt_json_next(doc, c))
        if (c->key_len == kl && memcmp(doc->text + c->key_off, key, kl) == 0)
            return c;
    return NULL;
}

static int put_utf8(char *buf, size_t bufsize, size_t *o, unsigned cp)
{
    char tmp[4];
    size_t n;
    if (cp < 0x80) { tmp[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { tmp[0] = (char)(0xC0 | (cp >> 6)); tmp[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12)); tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18)); tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    if (*o + n >= bufsize)
        return -1;
    memcpy(buf + *o, tmp, n);
    *o += n;
    return 0;
}

int tt_json_string(const tt_json *doc, const tt_json_node *n, char *buf, size_t bufsize,
                   tt_err *err)
{
    if (!n || n->type != TT_JSON_STRING || bufsize == 0)
        return tt_err_set(err, TT_EINVAL, "line %u: string expected", n ? n->line : 0);
    const char *s = doc->text + n->off;
    size_t o = 0;
    /* The text was validated by the parser, so escapes are well formed here. */
    for (uint32_t i = 0; i < n->len;) {
        unsigned cp;
        if (s[i] != '\\') {
            cp = (unsigned char)s[i++];
            if (o + 1 >= bufsize)
                goto toolong;
            buf[o++] = (char)cp;
            continue;
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u': {
            read_hex4(s + i, 4, &cp);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                read_hex4(s + i + 2, 4, &lo);
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            break;
        }
        default: cp = (unsigned char)e; break;
        }
        if (put_utf8(buf, bufsize, &o, cp))
            goto toolong;
    }
    buf[o] = '\0';
    return TT_OK;
toolong:
    buf[0] = '\0';
    return tt_err_set(err, TT_EINVAL, "line %u: string longer than %zu bytes", n->line,
                      bufsize - 1);
}

int tt_json_number_text(const tt_json *doc, const tt_json_node *n, char *buf, size_t bufsize,
                        tt_err *err)
{
    if (!n || n->type != TT_JSON_NUMBER)
        return tt_err_set(err, TT_EINVAL, "line %u: number expected", n ? n->line : 0);
    if (n->len >= bufsize)
        return tt_err_set(err, TT_EINVAL, "line %u: number text longer than %zu characters",
                          n->line, bufsize - 1);
    memcpy(buf, doc->text + n->off, n->len);
    buf[n->len] = '\0';
    return TT_OK;
}

int tt_json_int64(const tt_json *doc, const tt_json_node *n, int64_t *out, tt_err *err)
{
    char buf[32];
    if (tt_json_number_text(doc, n, buf, sizeof buf, err))
        return TT_EINVAL;
    if (strpbrk(buf, ".eE"))
        return tt_err_set(err, TT_EINVAL, "line %u: whole number expected, got %s", n->line, buf);
    errno = 0;
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end)
        return tt_err_set(err, TT_EINVAL, "line %u: %s is out of range", n->line, buf);
    *out = v;
    return TT_OK;
}

int tt_json_double(const tt_json *doc, const tt_json_node *n, double *out, tt_err *err)
{
    char buf[64];
    if (tt_json_number_text(doc, n, buf, sizeof buf, err))
        return TT_EINVAL;
    *out = strtod(buf, NULL);
    return TT_OK;
}
