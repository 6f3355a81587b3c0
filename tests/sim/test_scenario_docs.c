/*
 * The key tables against their documentation: every key of the scenario
 * table (sim/scenario_keys.c) has a row in the "## Keys" table of
 * docs/scenarios.md with the same type and default, every key of the
 * synthetic market's table (sim/synth_config.c) one in docs/synthetic.md,
 * and every key documented there exists in its table. A key added,
 * renamed, retyped or given another default without its documentation (or
 * the other way round) fails here, naming the key. `--keys` prints every
 * key too.
 *
 * Row format: | `key` | type | default | meaning |, one key per row; in the
 * type and default cells backticks are ignored and "\|" is a '|'.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"
#include "sim/synth_config.h"

#define MAX_ROWS 128

typedef struct doc_row {
    char key[96], type[128], def[96];
    int line, seen;
} doc_row;

typedef struct doc {
    const char *path;
    doc_row rows[MAX_ROWS];
    int n;
} doc;

/* A cell without surrounding blanks and backticks, "\|" unescaped. */
static void cell(const char *start, const char *end, char *out, size_t outsize)
{
    while (start < end && (*start == ' ' || *start == '`'))
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '`'))
        end--;
    size_t n = 0;
    for (const char *p = start; p < end && n + 1 < outsize; p++) {
        if (p[0] == '\\' && p + 1 < end && p[1] == '|')
            p++;
        out[n++] = *p;
    }
    out[n] = '\0';
}

/* The cells of a table row: split at '|' not preceded by '\'. */
static int split(const char *line, const char **starts, const char **ends, int max)
{
    int n = 0;
    const char *p = strchr(line, '|');
    while (p && n < max) {
        const char *q = p + 1;
        while (*q && !(*q == '|' && q[-1] != '\\'))
            q++;
        if (!*q)
            break;
        starts[n] = p + 1;
        ends[n] = q;
        n++;
        p = q;
    }
    return n;
}

/* The rows of the "## Keys" section of a document under the source tree. */
static void read_doc(doc *d, const char *rel)
{
    char path[1024], line[2048];
    snprintf(path, sizeof path, "%s/%s", TT_SOURCE_DIR, rel);
    d->path = rel;
    d->n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    int in_keys = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strncmp(line, "## ", 3))
            in_keys = !strncmp(line, "## Keys", 7);
        if (!in_keys || strncmp(line, "| `", 3))
            continue;
        const char *s[8], *e[8];
        int nc = split(line, s, e, 8);
        if (nc < 4)
            fail_msg("%s:%d: a key row needs key, type, default and meaning", rel, lineno);
        if (d->n == MAX_ROWS)
            fail_msg("%s: more than %d key rows", rel, MAX_ROWS);
        doc_row *r = &d->rows[d->n++];
        cell(s[0], e[0], r->key, sizeof r->key);
        cell(s[1], e[1], r->type, sizeof r->type);
        cell(s[2], e[2], r->def, sizeof r->def);
        r->line = lineno;
        r->seen = 0;
        if (strchr(r->key, ',') || strchr(r->key, ' '))
            fail_msg("%s:%d: one key per row, got '%s'", rel, lineno, r->key);
    }
    fclose(f);
    if (d->n == 0)
        fail_msg("%s: no key rows under '## Keys'", rel);
}

/* The table's key k must be documented with its type and default. */
static int check_key(doc *d, const tt_keydoc *k)
{
    for (int i = 0; i < d->n; i++) {
        doc_row *r = &d->rows[i];
        if (strcmp(r->key, k->key))
            continue;
        r->seen = 1;
        int bad = 0;
        if (strcmp(r->type, k->type)) {
            fprintf(stderr, "%s:%d: %s: documented type '%s', the table says '%s'\n", d->path,
                    r->line, k->key, r->type, k->type);
            bad = 1;
        }
        if (strcmp(r->def, k->def)) {
            fprintf(stderr, "%s:%d: %s: documented default '%s', the table says '%s'\n",
                    d->path, r->line, k->key, r->def, k->def);
            bad = 1;
        }
        return bad;
    }
    fprintf(stderr, "%s: key '%s' (%s, default %s) is not documented\n", d->path, k->key,
            k->type, k->def);
    return 1;
}

static int check_extra(const doc *d)
{
    int bad = 0;
    for (int i = 0; i < d->n; i++)
        if (!d->rows[i].seen) {
            fprintf(stderr, "%s:%d: '%s' is documented but is no key of the table\n", d->path,
                    d->rows[i].line, d->rows[i].key);
            bad = 1;
        }
    return bad;
}

static void test_scenario_keys_documented(void **state)
{
    (void)state;
    static doc d;
    read_doc(&d, "docs/scenarios.md");
    tt_keydoc k;
    int bad = 0;
    size_t n = 0;
    for (; tt_scenario_key_describe(n, &k) == TT_OK; n++)
        bad |= check_key(&d, &k);
    bad |= check_extra(&d);
    assert_true(n > 40);
    assert_int_equal(bad, 0);
}

static void test_synthetic_keys_documented(void **state)
{
    (void)state;
    static doc d;
    read_doc(&d, "docs/synthetic.md");
    tt_keydoc k;
    int bad = 0;
    size_t n = 0;
    for (; tt_synth_config_key_describe(n, &k) == TT_OK; n++)
        bad |= check_key(&d, &k);
    bad |= check_extra(&d);
    assert_true(n > 25);
    assert_int_equal(bad, 0);
}

/* `--keys` (tt_scenario_schema_write) lists every key of both tables, each
 * at the start of a line. */
static void test_listing_has_every_key(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tt_scenario_schema_write(f);
    fclose(f);
    tt_keydoc k;
    char want[160];
    for (size_t i = 0; tt_scenario_key_describe(i, &k) == TT_OK; i++) {
        snprintf(want, sizeof want, "\n%s ", k.key);
        if (i > 0 && !strstr(buf, want))
            fail_msg("--keys lacks %s", k.key);
    }
    for (size_t i = 0; tt_synth_config_key_describe(i, &k) == TT_OK; i++) {
        snprintf(want, sizeof want, "\n  data.synthetic.%s ", k.key);
        if (!strstr(buf, want))
            fail_msg("--keys lacks data.synthetic.%s", k.key);
    }
    assert_int_equal(strncmp(buf, "name ", 5), 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_keys_documented),
        cmocka_unit_test(test_synthetic_keys_documented),
        cmocka_unit_test(test_listing_has_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
