/*
 * ticktape: scenario files: the YAML reader and the entries.
 *
 * How this works: libyaml's document API loads the whole file as a node tree
 * (every node carries its line); a recursive walk flattens it into entries
 * named by dotted paths, in document order. Each entry is checked against the
 * key table (scenario_keys.c) as soon as it is made, so the first unknown key
 * or bad value stops the load with the file, line and key in the message. The
 * same check runs for `--set key=value` overrides. Turning the entries into a
 * backtest is scenario_run.c.
 *
 * Scenarios are small (tens of entries): entries live in a plain array
 * searched linearly; nothing here is on a hot path.
 */
#include "scenario.h"

#include "scenario_keys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- the scenario ---- */

typedef struct entry {
    tt_scenario_entry pub;
    char *base; /* directory for relative paths ("" = current directory) */
} entry;

struct tt_scenario {
    entry *e;
    size_t n, cap;
    char *file;
    char *base_dir;
    char *name_from_file;
};

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void entry_free(entry *e)
{
    free((char *)e->pub.key);
    free((char *)e->pub.value);
    free(e->base);
}

void tt_scenario_free(tt_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        entry_free(&s->e[i]);
    free(s->e);
    free(s->file);
    free(s->base_dir);
    free(s->name_from_file);
    free(s);
}

static entry *find_entry(const tt_scenario *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->e[i].pub.key, key))
            return &s->e[i];
    return NULL;
}

/* A scenario has tens of keys; YAML aliases can multiply a small file into
 * millions of entries ("billion laughs"), so the count is capped. */
#define MAX_ENTRIES 10000

static int add_entry(tt_scenario *s, const char *key, const char *value, const char *file,
                     int line, int is_list, const char *base, tt_err *err)
{
    if (s->n >= MAX_ENTRIES)
        return tt_err_set(err, TT_EFORMAT, "%s:%d: %s: more than %d keys in one scenario", file,
                          line, key, MAX_ENTRIES);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        entry *ne = realloc(s->e, cap * sizeof *ne);
        if (!ne)
            return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
        s->e = ne;
        s->cap = cap;
    }
    entry *e = &s->e[s->n];
    memset(e, 0, sizeof *e);
    e->pub.key = xstrdup(key);
    e->pub.value = xstrdup(value);
    e->pub.file = file;
    e->pub.line = line;
    e->pub.is_list = is_list;
    e->base = xstrdup(base);
    if (!e->pub.key || !e->pub.value || !e->base) {
        entry_free(e);
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    }
    s->n++;
    return TT_OK;
}

/* ---- YAML flattening ---- */

typedef struct walker {
    tt_scenario *s;
    yaml_document_t *doc;
    tt_err *err;
    int depth;
} walker;

static int scalar_of(yaml_node_t *n, const char **v, size_t *len)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return 0;
    *v = (const char *)n->data.scalar.value;
    *len = n->data.scalar.length;
    return 1;
}

/* A list of scalars joined with ',' (or lists of them joined with ';'); 0 if
 * the list holds anything else. */
static int join_list(yaml_document_t *doc, yaml_node_t *seq, char *buf, size_t bufsize,
                     int allow_nested)
{
    size_t used = 0;
    buf[0] = '\0';
    int first = 1;
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top; it++) {
        yaml_node_t *c = yaml_document_get_node(doc, *it);
        char part[1024];
        const char *v;
        size_t len;
        if (scalar_of(c, &v, &len)) {
            if (len >= sizeof part || memchr(v, ',', len) || memchr(v, ';', len))
                return 0;
            memcpy(part, v, len);
            part[len] = '\0';
        } else if (allow_nested && c && c->type == YAML_SEQUENCE_NODE) {
            if (!join_list(doc, c, part, sizeof part, 0))
                return 0;
        } else {
            return 0;
        }
        int n = snprintf(buf + used, bufsize - used, "%s%s",
                         first ? "" : (allow_nested && c->type == YAML_SEQUENCE_NODE ? ";" : ","),
                         part);
        if (n < 0 || (size_t)n >= bufsize - used)
            return 0;
        used += (size_t)n;
        first = 0;
    }
    return 1;
}

/* Check and store one flattened scalar; a key met twice is an error. */
static int put(walker *w, const char *path, const char *value, int line, int is_list)
{
    tt_scenario *s = w->s;
    int rc = tt_scenario_key_check(path, value, s->file, line, w->err);
    if (rc != TT_OK)
        return rc;
    entry *old = find_entry(s, path);
    if (old) {
        char d[60];
        snprintf(d, sizeof d, "duplicate key (first at line %d)", old->pub.line);
        return tt_scenario_err_at(w->err, TT_EFORMAT, s->file, line, path, d);
    }
    return add_entry(s, path, value, s->file, line, is_list, s->base_dir, w->err);
}

static int walk(walker *w, yaml_node_t *n, const char *path)
{
    tt_scenario *s = w->s;
    int line = (int)n->start_mark.line + 1;
    if (++w->depth > 16) {
        return tt_scenario_err_at(w->err, TT_EFORMAT, s->file, line, path, "nested too deeply");
    }
    int rc = TT_OK;
    if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             p < n->data.mapping.pairs.top && rc == TT_OK; p++) {
            yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
            yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
            const char *ks;
            size_t klen;
            if (!scalar_of(k, &ks, &klen) || klen == 0 || memchr(ks, '.', klen) ||
                memchr(ks, '=', klen)) {
                rc = tt_scenario_err_at(
                    w->err, TT_EFORMAT, s->file, k ? (int)k->start_mark.line + 1 : line,
                    *path ? path : "(top)",
                    "keys must be plain words (no '.', '=' or nested structures)");
                break;
            }
            char sub[512];
            snprintf(sub, sizeof sub, "%s%s%.*s", path, *path ? "." : "", (int)klen, ks);
            rc = walk(w, v, sub);
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        char joined[4096];
        if (join_list(w->doc, n, joined, sizeof joined, 1)) {
            rc = put(w, path, joined, line, 1);
        } else {
            int i = 0;
            for (yaml_node_item_t *it = n->data.sequence.items.start;
                 it < n->data.sequence.items.top && rc == TT_OK; it++, i++) {
                char sub[512];
                snprintf(sub, sizeof sub, "%s.%d", path, i);
                rc = walk(w, yaml_document_get_node(w->doc, *it), sub);
            }
        }
    } else if (n->type == YAML_SCALAR_NODE) {
        if (!*path) {
            rc = tt_scenario_err_at(
                w->err, TT_EFORMAT, s->file, line, "(top)",
                "a scenario is a mapping of sections (name:, data:, account:, ...)");
        } else if (n->data.scalar.length == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                   tt_scenario_key_is_section(path)) {
            /* "strategy:" with nothing under it: an empty section, not a value */
        } else {
            rc = put(w, path, (const char *)n->data.scalar.value, line, 0);
        }
    }
    w->depth--;
    return rc;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup("");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 2);
    if (!d)
        return NULL;
    if (n == 0) {
        strcpy(d, "/");
        return d;
    }
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

/* The error of a failed yaml_parser_load: TT_ENOMEM when libyaml ran out of
 * memory, else TT_EFORMAT naming the line and the problem. */
static int yaml_error(const yaml_parser_t *p, const char *file, tt_err *err)
{
    if (p->error == YAML_MEMORY_ERROR)
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory (YAML parser)", file);
    return tt_err_set(err, TT_EFORMAT, "%s:%zu: YAML: %s%s%s", file, p->problem_mark.line + 1,
                      p->problem ? p->problem : "error", p->context ? " " : "",
                      p->context ? p->context : "");
}

int tt_scenario_parse(tt_scenario **out, const char *text, size_t len, const char *name,
                      const char *base_dir, tt_err *err)
{
    *out = NULL;
    tt_scenario *s = calloc(1, sizeof *s);
    if (!s)
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    s->file = xstrdup(name ? name : "scenario");
    s->base_dir = xstrdup(base_dir ? base_dir : "");
    if (!s->file || !s->base_dir) {
        tt_scenario_free(s);
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    }
    /* name from the file: basename without .yaml/.yml */
    const char *b = strrchr(s->file, '/');
    b = b ? b + 1 : s->file;
    s->name_from_file = xstrdup(b);
    if (!s->name_from_file) { /* not "scenario" in its place: the name reaches the outputs */
        tt_scenario_free(s);
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    }
    char *dot = strrchr(s->name_from_file, '.');
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
        *dot = '\0';

    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        tt_scenario_free(s);
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory (yaml parser)");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = TT_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = yaml_error(&parser, s->file, err);
        yaml_parser_delete(&parser);
        tt_scenario_free(s);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = tt_err_set(err, TT_EFORMAT, "%s: empty scenario (expected name:, data:, ...)",
                        s->file);
    } else if (root->type != YAML_MAPPING_NODE) {
        rc = tt_err_set(err, TT_EFORMAT,
                        "%s:%zu: a scenario is a mapping of sections (name:, data:, account:, ...)",
                        s->file, root->start_mark.line + 1);
    } else {
        walker w = {s, &doc, err, 0};
        rc = walk(&w, root, "");
    }
    yaml_document_delete(&doc);
    if (rc == TT_OK) {
        /* a second document would be silently ignored: refuse it */
        yaml_document_t doc2;
        if (yaml_parser_load(&parser, &doc2)) {
            yaml_node_t *r2 = yaml_document_get_root_node(&doc2);
            if (r2)
                rc = tt_err_set(err, TT_EFORMAT, "%s:%zu: only one YAML document per scenario",
                                s->file, r2->start_mark.line + 1);
            yaml_document_delete(&doc2);
        } else { /* what follows the document does not parse (or no memory to try) */
            rc = yaml_error(&parser, s->file, err);
        }
    }
    yaml_parser_delete(&parser);
    if (rc != TT_OK) {
        tt_scenario_free(s);
        return rc;
    }
    *out = s;
    return TT_OK;
}

int tt_scenario_load(tt_scenario **out, const char *path, tt_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot open scenario: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap > (64u << 20)) {
            free(buf);
            fclose(f);
            return tt_err_set(err, TT_EFORMAT, "%s: scenario larger than 64 MiB", path);
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int ioerr = ferror(f);
    fclose(f);
    if (!buf)
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    if (ioerr) {
        free(buf);
        return tt_err_set(err, TT_EIO, "%s: read error", path);
    }
    char *dir = dir_of(path);
    if (!dir) {
        free(buf);
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory", path);
    }
    int rc = tt_scenario_parse(out, buf, n, path, dir, err);
    free(dir);
    free(buf);
    return rc;
}

int tt_scenario_set(tt_scenario *s, const char *assignment, tt_err *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return tt_err_set(err, TT_EINVAL, "--set %s: expected key=value (e.g. venue.latency_ms=5)",
                          assignment);
    char key[512];
    size_t klen = (size_t)(eq - assignment);
    if (klen >= sizeof key)
        return tt_err_set(err, TT_EINVAL, "--set: key too long");
    memcpy(key, assignment, klen);
    key[klen] = '\0';
    const char *value = eq + 1;
    int rc = tt_scenario_key_check(key, value, "--set", 0, err);
    if (rc != TT_OK)
        return rc;
    const tt_scenario_key *k = tt_scenario_key_find(key);
    int is_list = k && k->type == TT_SK_LIST;
    entry *old = find_entry(s, key);
    if (old) {
        char *nv = xstrdup(value);
        char *nb = xstrdup("");
        if (!nv || !nb) {
            free(nv);
            free(nb);
            return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
        }
        free((char *)old->pub.value);
        free(old->base);
        old->pub.value = nv;
        old->base = nb;
        old->pub.file = "--set";
        old->pub.line = 0;
        old->pub.is_list = is_list;
        return TT_OK;
    }
    return add_entry(s, key, value, "--set", 0, is_list, "", err);
}

/* ---- reading ---- */

size_t tt_scenario_count(const tt_scenario *s) { return s->n; }

const tt_scenario_entry *tt_scenario_at(const tt_scenario *s, size_t i)
{
    return i < s->n ? &s->e[i].pub : NULL;
}

const tt_scenario_entry *tt_scenario_find(const tt_scenario *s, const char *key)
{
    entry *e = find_entry(s, key);
    return e ? &e->pub : NULL;
}

const char *tt_scenario_get(const tt_scenario *s, const char *key, const char *def)
{
    entry *e = find_entry(s, key);
    return e ? e->pub.value : def;
}

const tt_scenario_entry *tt_scenario_next(const tt_scenario *s, const char *prefix, size_t *pos)
{
    size_t plen = strlen(prefix);
    while (*pos < s->n) {
        const tt_scenario_entry *e = &s->e[(*pos)++].pub;
        if (!strncmp(e->key, prefix, plen) && e->key[plen] == '.')
            return e;
    }
    return NULL;
}

static int bad_value(const tt_scenario_entry *e, tt_err *err)
{
    return tt_scenario_err_entry(err, TT_EINVAL, e, e->key, err ? err->msg : "bad value");
}

int tt_scenario_double(const tt_scenario *s, const char *key, double def, double *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (e && tt_parse_double(e->value, out, err))
        return bad_value(e, err);
    return TT_OK;
}

int tt_scenario_int(const tt_scenario *s, const char *key, int64_t def, int64_t *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (e && tt_parse_int(e->value, out, err))
        return bad_value(e, err);
    return TT_OK;
}

int tt_scenario_bool(const tt_scenario *s, const char *key, int def, int *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (e && tt_parse_bool(e->value, out, err))
        return bad_value(e, err);
    return TT_OK;
}

int tt_scenario_ts(const tt_scenario *s, const char *key, tt_ts def, tt_ts *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (e && tt_parse_ts(e->value, out, err))
        return bad_value(e, err);
    return TT_OK;
}

int tt_scenario_money(const tt_scenario *s, const char *key, tt_money def, int64_t minor_per_unit,
                      tt_money *out, tt_err *err)
{
    const tt_scenario_entry *e = tt_scenario_find(s, key);
    *out = def;
    if (e && tt_scenario_money_parse(e->value, minor_per_unit > 0 ? minor_per_unit : 100, out))
        return tt_scenario_err_entry(err, TT_EINVAL, e, e->key,
                                     "expected an amount with no more decimals than the "
                                     "currency has");
    return TT_OK;
}

int tt_scenario_path(const tt_scenario *s, const char *key, char *buf, size_t bufsize, tt_err *err)
{
    entry *e = find_entry(s, key);
    buf[0] = '\0';
    if (!e)
        return TT_OK;
    const char *v = e->pub.value;
    int n;
    if (v[0] == '/' || !e->base[0])
        n = snprintf(buf, bufsize, "%s", v);
    else
        n = snprintf(buf, bufsize, "%s/%s", e->base, v);
    if (n < 0 || (size_t)n >= bufsize)
        return tt_scenario_err_at(err, TT_EINVAL, e->pub.file, e->pub.line, key, "path too long");
    return TT_OK;
}

const char *tt_scenario_name(const tt_scenario *s)
{
    const char *n = tt_scenario_get(s, "name", NULL);
    if (n)
        return n;
    return s->name_from_file ? s->name_from_file : "scenario";
}

const char *tt_scenario_file(const tt_scenario *s) { return s->file; }

uint64_t tt_scenario_seed(const tt_scenario *s)
{
    int64_t seed = 1; /* checked as a whole number >= 0 when read */
    tt_scenario_int(s, "seed", 1, &seed, NULL);
    return (uint64_t)seed;
}

void tt_scenario_write(const tt_scenario *s, FILE *f)
{
    for (size_t i = 0; i < s->n; i++) {
        const tt_scenario_entry *e = &s->e[i].pub;
        if (e->is_list)
            fprintf(f, "%s: [%s]\n", e->key, e->value);
        else
            fprintf(f, "%s: %s\n", e->key, e->value);
    }
}

char *tt_scenario_text(const tt_scenario *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    tt_scenario_write(s, f);
    int bad = ferror(f); /* a write the stream had no memory for: not the text */
    if (fclose(f) || bad) {
        free(text);
        return NULL;
    }
    return text;
}

int tt_scenario_each(const tt_scenario *s, const char *prefix,
                     int (*fn)(void *ctx, const char *key, const char *value, tt_err *err),
                     void *ctx, tt_err *err)
{
    size_t pos = 0, plen = strlen(prefix);
    const tt_scenario_entry *e;
    while ((e = tt_scenario_next(s, prefix, &pos)) != NULL) {
        int rc = fn(ctx, e->key + plen + 1, e->value, err);
        if (rc != TT_OK) {
            if (err) {
                if (e->line > 0)
                    tt_err_prefix(err, "%s:%d: %s: ", e->file, e->line, e->key);
                else
                    tt_err_prefix(err, "%s %s: ", e->file, e->key);
            }
            return rc;
        }
    }
    return TT_OK;
}

tt_scenario *tt_scenario_clone(const tt_scenario *s)
{
    tt_scenario *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->file = xstrdup(s->file);
    c->base_dir = xstrdup(s->base_dir);
    c->name_from_file = s->name_from_file ? xstrdup(s->name_from_file) : NULL;
    if (!c->file || !c->base_dir || (s->name_from_file && !c->name_from_file)) {
        tt_scenario_free(c);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        const entry *e = &s->e[i];
        /* entries from the file point at the file name: keep pointing at ours */
        const char *file = strcmp(e->pub.file, "--set") ? c->file : "--set";
        if (add_entry(c, e->pub.key, e->pub.value, file, e->pub.line, e->pub.is_list, e->base,
                      NULL) != TT_OK) {
            tt_scenario_free(c);
            return NULL;
        }
    }
    return c;
}

