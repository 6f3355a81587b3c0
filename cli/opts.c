/*
 * Parsing and checking command lines against option tables (cli/opts.h).
 *
 * One pass over argv, in order: each word is a positional (filling the ARG
 * rows in table order, then an ARGS row) or an option looked up by its long
 * name, then by its one-letter alias. Every value goes through parse_value,
 * which is also what applies the rows' defaults before argv and what
 * tt_cmd_check runs on each default, so a default in a table is checked by
 * the same code as a value typed by a user. Required options and the rules
 * between options are checked after the pass, in table order, so that the
 * first error reported is the first the help lists.
 */
#include "opts.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "core/event.h"
#include "sim/research.h"

void tt_opt_iter_init(tt_opt_iter *it, const tt_opt *table)
{
    memset(it, 0, sizeof *it);
    it->at[0] = table;
    it->depth = table ? 0 : -1;
}

const tt_opt *tt_opt_iter_next(tt_opt_iter *it, size_t *base)
{
    while (it->depth >= 0) {
        const tt_opt *o = it->at[it->depth];
        if (o->kind == TT_OPT_END) {
            it->depth--;
            continue;
        }
        it->at[it->depth]++;
        if (o->kind != TT_OPT_INCLUDE) {
            *base = it->base[it->depth];
            return o;
        }
        int d = it->depth + 1;
        if (d < (int)(sizeof it->at / sizeof it->at[0]) && o->include) {
            it->at[d] = o->include;
            it->base[d] = it->base[it->depth] + o->off;
            it->depth = d;
        }
    }
    return NULL;
}

/* "--name", or the placeholder of a positional. */
static const char *display(const tt_opt *o, char *buf, size_t n)
{
    if (o->name)
        snprintf(buf, n, "--%s", o->name);
    else
        snprintf(buf, n, "%s%s", o->arg ? o->arg : "ARG", o->kind == TT_OPT_ARGS ? "..." : "");
    return buf;
}

static int is_int_kind(int kind)
{
    return kind == TT_OPT_INT || kind == TT_OPT_UINT;
}

void tt_opt_range(const tt_opt *o, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!(o->min < o->max))
        return;
    const char *lo = o->flags & TT_OPT_MIN_OPEN ? "> " : ">= ";
    if (isinf(o->max) && !isinf(o->min))
        snprintf(buf, n, "%s%.15g", lo, o->min);
    else if (isinf(o->min))
        snprintf(buf, n, "<= %.15g", o->max);
    else if (o->flags & TT_OPT_MIN_OPEN)
        snprintf(buf, n, "> %.15g, <= %.15g", o->min, o->max);
    else
        snprintf(buf, n, "%.15g to %.15g", o->min, o->max);
}

static int in_range(const tt_opt *o, double v)
{
    if (!(o->min < o->max))
        return !isnan(v);
    if (o->flags & TT_OPT_MIN_OPEN ? !(v > o->min) : !(v >= o->min))
        return 0;
    return v <= o->max;
}

static int number_error(const tt_opt *o, const char *what, const char *v, tt_err *err)
{
    char range[96];
    tt_opt_range(o, range, sizeof range);
    return tt_err_set(err, TT_EINVAL, "%s: expected %s%s%s%s, got '%s'", what,
                      is_int_kind(o->kind) ? "a whole number" : "a number", range[0] ? " (" : "",
                      range, range[0] ? ")" : "", v);
}

static int parse_number(const tt_opt *o, char *field, const char *what, const char *v,
                        tt_err *err)
{
    if (o->kind == TT_OPT_DOUBLE) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !in_range(o, d))
            return number_error(o, what, v, err);
        *(double *)field = d;
        return TT_OK;
    }
    uint64_t u;
    if (tt_parse_u64(v, &u) || !in_range(o, (double)u) ||
        (o->kind == TT_OPT_INT && u > INT32_MAX))
        return number_error(o, what, v, err);
    if (o->kind == TT_OPT_INT)
        *(int *)field = (int)u;
    else
        *(uint64_t *)field = u;
    return TT_OK;
}

static int parse_enum(const tt_opt *o, char *field, const char *what, const char *v, tt_err *err)
{
    for (int i = 0; o->values[i]; i++) {
        int same = o->flags & TT_OPT_NOCASE ? !strcasecmp(o->values[i], v)
                                            : !strcmp(o->values[i], v);
        if (same) {
            *(int *)field = o->ivals ? o->ivals[i] : i;
            return TT_OK;
        }
    }
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (int i = 0; o->values[i] && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                 i == 0 ? "" : o->values[i + 1] ? ", " : " or ", o->values[i]);
    return tt_err_set(err, TT_EINVAL, "%s: expected %s, got '%s'", what, list, v);
}

/* One value into its field (opts is the struct the row's offsets are in). */
static int parse_value(const tt_opt *o, void *opts, const char *v, tt_err *err)
{
    char what[96];
    display(o, what, sizeof what);
    char *field = (char *)opts + o->off;
    if ((o->flags & TT_OPT_NONEMPTY) && !*v)
        return tt_err_set(err, TT_EINVAL, "%s needs a non-empty value", what);
    if ((o->flags & TT_OPT_KEYVAL) && !strchr(v, '='))
        return tt_err_set(err, TT_EINVAL, "%s: expected KEY=VALUE, got '%s'", what, v);
    switch (o->kind) {
    case TT_OPT_STRING:
    case TT_OPT_ARG:
        *(const char **)field = v;
        return TT_OK;
    case TT_OPT_LIST:
    case TT_OPT_ARGS: {
        int *count = (int *)((char *)opts + o->count_off);
        if (*count >= o->max_count)
            return tt_err_set(err, TT_EINVAL, "too many %s (at most %d)", what, o->max_count);
        ((const char **)field)[(*count)++] = v;
        return TT_OK;
    }
    case TT_OPT_INT:
    case TT_OPT_UINT:
    case TT_OPT_DOUBLE:
        return parse_number(o, field, what, v, err);
    case TT_OPT_DURATION:
        return tt_duration_parse(v, (tt_ts *)field, what, err);
    case TT_OPT_TIME: {
        tt_ts t;
        if (tt_ts_parse(v, &t))
            return tt_err_set(err, TT_EINVAL,
                              "%s: '%s' is not a time (ISO 8601: 2019-02-04, "
                              "2019-02-04T10:00:00.5Z; or an integer with a unit: "
                              "1549238400000ms)", what, v);
        if ((o->flags & TT_OPT_DAY_END) && strlen(v) == 10 && v[4] == '-' && v[7] == '-')
            t += TT_NS_PER_DAY;
        *(tt_ts *)field = t;
        return TT_OK;
    }
    case TT_OPT_TIMEFRAME:
        *(int *)field = tt_timeframe_parse(v);
        if (*(int *)field == TT_TF_NONE)
            return tt_err_set(err, TT_EINVAL, "%s: expected a timeframe (S1 M1 M5 M15 M30 H1 H4 "
                              "D1 W1 MN1, or 1m 5m 1h ...), got '%s'", what, v);
        return TT_OK;
    case TT_OPT_ENUM:
        return parse_enum(o, field, what, v, err);
    case TT_OPT_CUSTOM:
        return o->set(opts, o, v, err);
    default:
        return tt_err_set(err, TT_EINVAL, "%s: not an option with a value", what);
    }
}

static void mark_seen(tt_opts_seen *s, const tt_opt *o)
{
    for (int i = 0; i < s->n; i++)
        if (s->rows[i] == o)
            return;
    if (s->n < TT_OPTS_MAX_SEEN)
        s->rows[s->n++] = o;
}

static int seen_row(const tt_opts_seen *s, const tt_opt *o)
{
    for (int i = 0; i < s->n; i++)
        if (s->rows[i] == o)
            return 1;
    return 0;
}

int tt_opts_given(const tt_opts_seen *s, const char *name)
{
    for (int i = 0; i < s->n; i++) {
        const tt_opt *o = s->rows[i];
        if (o->name ? !strcmp(o->name, name) : o->arg && !strcmp(o->arg, name))
            return 1;
    }
    return 0;
}

/* The row called name (long name; a one-letter name also matches an alias). */
static const tt_opt *find_option(const tt_opt *table, const char *name, size_t *base)
{
    tt_opt_iter it;
    const tt_opt *o;
    tt_opt_iter_init(&it, table);
    while ((o = tt_opt_iter_next(&it, base)))
        if (o->name && !strcmp(o->name, name))
            return o;
    if (!name[0] || name[1])
        return NULL;
    tt_opt_iter_init(&it, table);
    while ((o = tt_opt_iter_next(&it, base)))
        if (o->alias == name[0])
            return o;
    return NULL;
}

const tt_opt *tt_cmd_find(const tt_cmd *cmd, const char *name, size_t *base)
{
    size_t b;
    return find_option(cmd->opts, name, base ? base : &b);
}

/* The positional row the next positional word fills. */
static const tt_opt *next_positional(const tt_opt *table, const tt_opts_seen *s, void *opts,
                                     size_t *base)
{
    tt_opt_iter it;
    const tt_opt *o;
    tt_opt_iter_init(&it, table);
    while ((o = tt_opt_iter_next(&it, base))) {
        if (o->kind == TT_OPT_ARG && !seen_row(s, o))
            return o;
        if (o->kind == TT_OPT_ARGS &&
            *(int *)((char *)opts + *base + o->count_off) < o->max_count)
            return o;
    }
    tt_opt_iter_init(&it, table); /* a full ARGS row: its own "too many" error */
    while ((o = tt_opt_iter_next(&it, base)))
        if (o->kind == TT_OPT_ARGS)
            return o;
    return NULL;
}

static int apply_defaults(const tt_cmd *cmd, void *opts, tt_err *err)
{
    tt_opt_iter it;
    size_t base;
    const tt_opt *o;
    tt_opt_iter_init(&it, cmd->opts);
    while ((o = tt_opt_iter_next(&it, &base))) {
        int rc = o->def ? parse_value(o, (char *)opts + base, o->def, err) : TT_OK;
        if (rc) {
            tt_err_prefix(err, "default of %s: ", o->name ? o->name : o->arg);
            return rc;
        }
    }
    return TT_OK;
}

/* Required options and positionals, then the rules; TT_OPTS_RUN when all hold. */
static int check_given(const tt_cmd *cmd, const tt_opts_seen *s)
{
    tt_opt_iter it;
    size_t base;
    const tt_opt *o;
    tt_opt_iter_init(&it, cmd->opts);
    while ((o = tt_opt_iter_next(&it, &base))) {
        if (!(o->flags & TT_OPT_REQUIRED) || seen_row(s, o))
            continue;
        char ph[96];
        tt_opt_placeholder(o, ph, sizeof ph);
        if (!o->name)
            return tt_usage_error(cmd->name, "missing %s (required)", ph);
        return tt_usage_error(cmd->name, "missing --%s%s%s (required)", o->name,
                              o->kind == TT_OPT_FLAG ? "" : " ", o->kind == TT_OPT_FLAG ? "" : ph);
    }
    for (const tt_opt_rule *r = cmd->rules; r && r->kind != TT_RULE_END; r++) {
        int n = 0;
        char list[256] = "";
        size_t used = 0;
        for (int i = 0; i < 4 && r->names[i]; i++) {
            n += tt_opts_given(s, r->names[i]);
            used += (size_t)snprintf(list + used, sizeof list - used, "%s--%s", i ? ", " : "",
                                     r->names[i]);
        }
        if (r->kind == TT_RULE_ONE_OF && n != 1)
            return r->msg ? tt_usage_error(cmd->name, "%s", r->msg)
                          : tt_usage_error(cmd->name, "give exactly one of %s", list);
        if (r->kind == TT_RULE_ANY_OF && n < 1)
            return r->msg ? tt_usage_error(cmd->name, "%s", r->msg)
                          : tt_usage_error(cmd->name, "give at least one of %s", list);
        if (r->kind == TT_RULE_EXCLUSIVE && n > 1)
            return r->msg ? tt_usage_error(cmd->name, "%s", r->msg)
                          : tt_usage_error(cmd->name, "%s: give at most one", list);
    }
    return TT_OPTS_RUN;
}

/* One option word (a, without its dashes in name); *i moves past a value
 * taken from the next word. TT_OPTS_RUN to go on, else an exit code. */
static int take_option(const tt_cmd *cmd, void *opts, int argc, char **argv, int *i,
                       const char *name, const char *value, tt_opts_seen *s)
{
    size_t base;
    const tt_opt *o = find_option(cmd->opts, name, &base);
    if (!o) {
        if (!strcmp(name, "help") || !strcmp(name, "h")) {
            tt_cmd_help(stdout, cmd);
            return TT_EXIT_OK;
        }
        return tt_usage_error(cmd->name, "unknown option --%s", name);
    }
    if (o->kind == TT_OPT_FLAG) {
        if (value)
            return tt_usage_error(cmd->name, "--%s takes no value (got '%s')", o->name, value);
        *(int *)((char *)opts + base + o->off) = o->flags & TT_OPT_NEGATE ? 0 : 1;
        mark_seen(s, o);
        return TT_OPTS_RUN;
    }
    if (!value) {
        if (*i + 1 >= argc) {
            char ph[96];
            tt_opt_placeholder(o, ph, sizeof ph);
            return tt_usage_error(cmd->name, "--%s needs a value (%s)", o->name, ph);
        }
        value = argv[++*i];
    }
    tt_err err;
    tt_err_clear(&err);
    if (parse_value(o, (char *)opts + base, value, &err))
        return tt_usage_error(cmd->name, "%s", err.msg);
    mark_seen(s, o);
    return TT_OPTS_RUN;
}

int tt_opts_parse(const tt_cmd *cmd, void *opts, int argc, char **argv, tt_opts_seen *seen)
{
    tt_opts_seen local;
    tt_opts_seen *s = seen ? seen : &local;
    memset(s, 0, sizeof *s);
    tt_err err;
    tt_err_clear(&err);
    if (apply_defaults(cmd, opts, &err))
        return tt_usage_error(cmd->name, "%s", err.msg); /* a bad table: tt_cmd_check finds it */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')) {
            size_t base;
            const tt_opt *o = next_positional(cmd->opts, s, opts, &base);
            if (!o)
                return tt_usage_error(cmd->name, "unexpected argument '%s'", a);
            if (parse_value(o, (char *)opts + base, a, &err))
                return tt_usage_error(cmd->name, "%s", err.msg);
            mark_seen(s, o);
            continue;
        }
        const char *n = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(n, '=');
        char name[128];
        size_t k = eq ? (size_t)(eq - n) : strlen(n);
        if (k >= sizeof name)
            k = sizeof name - 1;
        memcpy(name, n, k);
        name[k] = '\0';
        int rc = take_option(cmd, opts, argc, argv, &i, name, eq ? eq + 1 : NULL, s);
        if (rc != TT_OPTS_RUN)
            return rc;
    }
    return check_given(cmd, s);
}

/* ---- groups ---- */

const char *tt_cmd_word(const tt_cmd *cmd)
{
    const char *sp = strrchr(cmd->name, ' ');
    return sp ? sp + 1 : cmd->name;
}

int tt_cmd_run(const tt_cmd *cmd, int argc, char **argv)
{
    for (const tt_cmd *const *sub = cmd->subs; sub && *sub && argc >= 2; sub++)
        if (!strcmp(argv[1], tt_cmd_word(*sub)))
            return tt_cmd_run(*sub, argc - 1, argv + 1);
    if (cmd->run)
        return cmd->run(argc, argv);
    if (argc < 2) {
        tt_cmd_help(stderr, cmd);
        return TT_EXIT_USAGE;
    }
    if (tt_is_help(argv[1])) {
        tt_cmd_help(stdout, cmd);
        return TT_EXIT_OK;
    }
    char list[256] = "";
    size_t used = 0;
    for (const tt_cmd *const *sub = cmd->subs; sub && *sub && used < sizeof list; sub++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                 sub == cmd->subs ? "" : ", ", tt_cmd_word(*sub));
    return tt_usage_error(cmd->name, "unknown subcommand '%s' (%s)", argv[1], list);
}

/* ---- table checks ---- */

static size_t field_size(const tt_opt *o)
{
    switch (o->kind) {
    case TT_OPT_FLAG:
    case TT_OPT_INT:
    case TT_OPT_TIMEFRAME:
    case TT_OPT_ENUM:
        return sizeof(int);
    case TT_OPT_UINT:
        return sizeof(uint64_t);
    case TT_OPT_DOUBLE:
        return sizeof(double);
    case TT_OPT_DURATION:
    case TT_OPT_TIME:
        return sizeof(tt_ts);
    case TT_OPT_LIST:
    case TT_OPT_ARGS:
        return sizeof(const char *) * (size_t)o->max_count;
    case TT_OPT_STRING:
    case TT_OPT_ARG:
        return sizeof(const char *);
    default:
        return 0; /* CUSTOM: the callback knows */
    }
}

static int check_row(const tt_cmd *cmd, const tt_opt *o, size_t base, tt_err *err)
{
    char what[96];
    display(o, what, sizeof what);
    if (!o->help)
        return tt_err_set(err, TT_EINVAL, "%s %s: no help text", cmd->name, what);
    if ((o->name == NULL) != (o->kind == TT_OPT_ARG || o->kind == TT_OPT_ARGS))
        return tt_err_set(err, TT_EINVAL, "%s %s: only positionals have no name", cmd->name,
                          what);
    if (o->name && (!strcmp(o->name, "help") || !strcmp(o->name, "h") || o->alias == 'h'))
        return tt_err_set(err, TT_EINVAL, "%s %s: -h and --help are the help", cmd->name, what);
    if ((o->kind == TT_OPT_ENUM && !o->values) || (o->kind == TT_OPT_CUSTOM && !o->set) ||
        ((o->kind == TT_OPT_LIST || o->kind == TT_OPT_ARGS) && o->max_count < 1))
        return tt_err_set(err, TT_EINVAL, "%s %s: incomplete row", cmd->name, what);
    if (base + o->off + field_size(o) > cmd->size ||
        ((o->kind == TT_OPT_LIST || o->kind == TT_OPT_ARGS) &&
         base + o->count_off + sizeof(int) > cmd->size))
        return tt_err_set(err, TT_EINVAL, "%s %s: field outside the options struct", cmd->name,
                          what);
    size_t b2;
    tt_opt_iter it;
    const tt_opt *p;
    tt_opt_iter_init(&it, cmd->opts);
    while ((p = tt_opt_iter_next(&it, &b2)) && p != o)
        if ((o->name && p->name && !strcmp(o->name, p->name)) || (o->alias && o->alias == p->alias))
            return tt_err_set(err, TT_EINVAL, "%s %s: defined twice", cmd->name, what);
    return TT_OK;
}

int tt_cmd_check(const tt_cmd *cmd, tt_err *err)
{
    if (!cmd->name || !cmd->summary || (!cmd->run && !cmd->subs))
        return tt_err_set(err, TT_EINVAL, "%s: a command needs a name, a summary and a run "
                          "function or subcommands", cmd->name ? cmd->name : "?");
    tt_opt_iter it;
    size_t base;
    const tt_opt *o;
    int rows = 0;
    tt_opt_iter_init(&it, cmd->opts);
    while ((o = tt_opt_iter_next(&it, &base))) {
        if (check_row(cmd, o, base, err))
            return err->code;
        if (++rows > TT_OPTS_MAX_SEEN)
            return tt_err_set(err, TT_EINVAL, "%s: more than %d rows (tt_opts_seen holds that "
                              "many)", cmd->name, TT_OPTS_MAX_SEEN);
    }
    if (cmd->opts) {
        void *scratch = calloc(1, cmd->size ? cmd->size : 1);
        if (!scratch)
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        int rc = apply_defaults(cmd, scratch, err);
        free(scratch);
        if (rc) {
            tt_err_prefix(err, "%s: ", cmd->name);
            return rc;
        }
    }
    for (const tt_opt_rule *r = cmd->rules; r && r->kind != TT_RULE_END; r++)
        for (int i = 0; i < 4 && r->names[i]; i++)
            if (!find_option(cmd->opts, r->names[i], &base))
                return tt_err_set(err, TT_EINVAL, "%s: a rule names --%s, not an option",
                                  cmd->name, r->names[i]);
    for (const tt_cmd *const *sub = cmd->subs; sub && *sub; sub++)
        if (tt_cmd_check(*sub, err))
            return err->code;
    return TT_OK;
}
