/*
 * The option tables (cli/opts.c, cli/help.c) as a unit, on a made-up command
 * that has a row of every kind: each kind parsed and stored, ranges at and
 * past their edges, unknown options, missing values, a flag given a value,
 * --opt=value, --opt value, -opt value and -o value, values that start with
 * '-', repeatable options, positionals, included tables at an offset,
 * defaults, required options and the rules between options, what the usage
 * errors say (stderr is captured), the help text (every option in it, no
 * line over 79 columns), the Markdown escaping, group dispatch, and the
 * table checks that reject a bad table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"

#define MAXN 3

typedef struct sub_opts {
    int verbose;
    const char *name;
} sub_opts;

typedef struct test_opts {
    const char *input;
    const char *files[MAXN];
    int nfiles;
    int flag, on; /* on: a NEGATE flag, 1 by default */
    const char *str, *nonempty, *kv;
    int count;
    uint64_t big;
    double ratio, open;
    tt_ts dur, from, to;
    int tf, color, mode;
    const char *tags[MAXN];
    int ntags;
    int custom;
    sub_opts sub;
    int a, b, c;
} test_opts;

static int set_custom(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    if (strcmp(value, "yes") && strcmp(value, "no"))
        return tt_err_set(err, TT_EINVAL, "--%s: yes or no, not '%s'", o->name, value);
    *(int *)tt_opt_field(opts, o) = !strcmp(value, "yes");
    return TT_OK;
}

static const tt_opt SUB_OPTS[] = {
    {TT_OPT_FLAG, "verbose", .off = offsetof(sub_opts, verbose), .help = "say more"},
    {TT_OPT_STRING, "name", .off = offsetof(sub_opts, name), .arg = "NAME", .def = "anon",
     .help = "a name from an included table"},
    {TT_OPT_END},
};

#define F(field) offsetof(test_opts, field)

static const tt_opt TEST_OPTS[] = {
    {TT_OPT_ARG, .arg = "INPUT", .off = F(input), .flags = TT_OPT_REQUIRED,
     .help = "the input"},
    {TT_OPT_ARGS, .arg = "FILE", .off = F(files), .count_off = F(nfiles), .max_count = MAXN,
     .help = "more files"},
    {TT_OPT_FLAG, "flag", .off = F(flag), .help = "a flag"},
    {TT_OPT_FLAG, "no-on", .off = F(on), .flags = TT_OPT_NEGATE, .help = "turn it off"},
    {TT_OPT_STRING, "str", .alias = 's', .off = F(str), .arg = "S", .help = "a string"},
    {TT_OPT_STRING, "nonempty", .off = F(nonempty), .flags = TT_OPT_NONEMPTY,
     .help = "a string that cannot be empty"},
    {TT_OPT_STRING, "kv", .off = F(kv), .flags = TT_OPT_KEYVAL, .help = "KEY=VALUE"},
    {TT_OPT_INT, "count", .off = F(count), .min = 1, .max = 64, .def = "4",
     .help = "an int from 1 to 64"},
    {TT_OPT_UINT, "big", .off = F(big), .help = "any whole number"},
    {TT_OPT_DOUBLE, "ratio", .off = F(ratio), .min = 0.1, .max = INFINITY,
     .help = "a double at least 0.1"},
    {TT_OPT_DOUBLE, "open", .off = F(open), .min = 0, .max = 10, .flags = TT_OPT_MIN_OPEN,
     .help = "a double in (0, 10]"},
    {TT_OPT_DURATION, "dur", .off = F(dur), .help = "a duration"},
    {TT_OPT_TIME, "from", .off = F(from), .help = "a time"},
    {TT_OPT_TIME, "to", .off = F(to), .flags = TT_OPT_DAY_END, .help = "an end time"},
    {TT_OPT_TIMEFRAME, "tf", .off = F(tf), .help = "a timeframe"},
    {TT_OPT_ENUM, "color", .off = F(color),
     .values = (const char *const[]){"red", "green", "blue", NULL}, .def = "green",
     .help = "an enum stored as its index"},
    {TT_OPT_ENUM, "mode", .off = F(mode), .values = (const char *const[]){"fast", "slow", NULL},
     .ivals = (const int[]){10, 20}, .flags = TT_OPT_NOCASE, .help = "an enum with values"},
    {TT_OPT_LIST, "tag", .alias = 't', .off = F(tags), .count_off = F(ntags), .max_count = MAXN,
     .help = "repeatable"},
    {TT_OPT_CUSTOM, "custom", .off = F(custom), .arg = "yes|no", .set = set_custom,
     .help = "a custom value"},
    {TT_OPT_INCLUDE, .include = SUB_OPTS, .off = F(sub)},
    {TT_OPT_FLAG, "a", .off = F(a), .help = "rule member a"},
    {TT_OPT_FLAG, "b", .off = F(b), .help = "rule member b"},
    {TT_OPT_FLAG, "c", .off = F(c), .help = "rule member c"},
    {TT_OPT_END},
};

static const tt_opt_rule TEST_RULES[] = {
    {TT_RULE_EXCLUSIVE, {"a", "b"}, NULL},
    {TT_RULE_EXCLUSIVE, {"a", "c"}, "--a and --c fight"},
    {TT_RULE_END},
};

static int run_nothing(int argc, char **argv)
{
    (void)argc, (void)argv;
    return 42;
}

static const tt_cmd TEST_CMD = {
    .name = "test cmd",
    .summary = "a command with every kind of option",
    .run = run_nothing,
    .opts = TEST_OPTS,
    .size = sizeof(test_opts),
    .rules = TEST_RULES,
    .about = "About the test command.\n",
    .epilog = "exit codes: none\n",
};

/* ---- running the parser on a line, stderr captured ---- */

static char g_err[4096];
static test_opts g_o;
static tt_opts_seen g_seen;
/* What the code writes on fd (1 or 2) between capture_start and capture_end
 * goes to buf (NULL: dropped); captures may nest on different fds. */
typedef struct capture {
    FILE *file;
    int saved, fd;
} capture;

static void capture_start(capture *c, int fd)
{
    fflush(stdout);
    fflush(stderr);
    c->fd = fd;
    c->file = tmpfile();
    c->saved = dup(fd);
    dup2(fileno(c->file), fd);
}

static void capture_end(capture *c, char *buf, size_t n)
{
    fflush(stdout);
    fflush(stderr);
    dup2(c->saved, c->fd);
    close(c->saved);
    rewind(c->file);
    if (buf) {
        size_t k = fread(buf, 1, n - 1, c->file);
        buf[k] = '\0';
    }
    fclose(c->file);
}

/* Parse "cmd" + the words of line (split at spaces; '' is an empty word)
 * into opts; g_err receives stderr. */
static int parse_into(const tt_cmd *cmd, void *opts, const char *line, tt_opts_seen *seen)
{
    static char buf[1024];
    char *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    argv[argc++] = "cmd";
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (!strcmp(t, "''"))
            t[0] = '\0';
        argv[argc++] = t;
    }
    argv[argc] = NULL;
    capture cap;
    capture_start(&cap, 2);
    int rc = tt_opts_parse(cmd, opts, argc, argv, seen);
    capture_end(&cap, g_err, sizeof g_err);
    return rc;
}

static int parse(const char *line)
{
    memset(&g_o, 0, sizeof g_o);
    g_o.on = 1;
    return parse_into(&TEST_CMD, &g_o, line, &g_seen);
}

static void expect_usage(const char *line, const char *text)
{
    int rc = parse(line);
    if (rc != TT_EXIT_USAGE || !strstr(g_err, text) || strncmp(g_err, "ticktape test cmd: ", 19))
        fail_msg("'%s': exit %d, stderr '%s', expected a usage error with '%s'", line, rc, g_err,
                 text);
}

static void test_kinds(void **state)
{
    (void)state;
    assert_int_equal(parse("in --flag --no-on --str x --nonempty y --kv k=v --count 5 --big 3k "
                           "--ratio 0.1 --open 10 --dur 90m --from 2019-02-04 --to 2019-02-04 "
                           "--tf 5m --color blue --mode SLOW --custom yes --verbose --name bob"),
                     TT_OPTS_RUN);
    assert_string_equal(g_o.input, "in");
    assert_int_equal(g_o.flag, 1);
    assert_int_equal(g_o.on, 0);
    assert_string_equal(g_o.str, "x");
    assert_string_equal(g_o.nonempty, "y");
    assert_string_equal(g_o.kv, "k=v");
    assert_int_equal(g_o.count, 5);
    assert_int_equal(g_o.big, 3000);
    assert_true(g_o.ratio == 0.1 && g_o.open == 10);
    assert_int_equal(g_o.dur, 90 * TT_NS_PER_MIN);
    tt_ts day;
    assert_int_equal(tt_ts_parse("2019-02-04", &day), 0);
    assert_int_equal(g_o.from, day);
    assert_int_equal(g_o.to, day + TT_NS_PER_DAY); /* a date alone ends with its day */
    assert_int_equal(g_o.tf, TT_TF_M5);
    assert_int_equal(g_o.color, 2);
    assert_int_equal(g_o.mode, 20);
    assert_int_equal(g_o.custom, 1);
    assert_int_equal(g_o.sub.verbose, 1); /* an included table, at its offset */
    assert_string_equal(g_o.sub.name, "bob");
    assert_true(tt_opts_given(&g_seen, "flag") && tt_opts_given(&g_seen, "INPUT"));
    assert_false(tt_opts_given(&g_seen, "tag"));
}

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(parse("in"), TT_OPTS_RUN);
    assert_int_equal(g_o.count, 4);
    assert_int_equal(g_o.color, 1);
    assert_string_equal(g_o.sub.name, "anon");
    assert_int_equal(g_o.on, 1);
    assert_null(g_o.str);
    assert_false(tt_opts_given(&g_seen, "count")); /* a default is not "given" */
    /* a time with a clock is not moved to the end of its day */
    assert_int_equal(parse("in --to 2019-02-04T10:00:00Z"), TT_OPTS_RUN);
    tt_ts t;
    assert_int_equal(tt_ts_parse("2019-02-04T10:00:00Z", &t), 0);
    assert_int_equal(g_o.to, t);
}

static void test_forms(void **state)
{
    (void)state;
    /* --opt=value, --opt value, -opt value, -o value, -o=value */
    assert_int_equal(parse("in --str=a"), TT_OPTS_RUN);
    assert_string_equal(g_o.str, "a");
    assert_int_equal(parse("in --str b"), TT_OPTS_RUN);
    assert_string_equal(g_o.str, "b");
    assert_int_equal(parse("in -str c"), TT_OPTS_RUN);
    assert_string_equal(g_o.str, "c");
    assert_int_equal(parse("in -s d"), TT_OPTS_RUN);
    assert_string_equal(g_o.str, "d");
    assert_int_equal(parse("in -s=e"), TT_OPTS_RUN);
    assert_string_equal(g_o.str, "e");
    /* a value is taken verbatim, even when it looks like an option */
    assert_int_equal(parse("in --str --flag"), TT_OPTS_RUN);
    assert_string_equal(g_o.str, "--flag");
    assert_int_equal(g_o.flag, 0);
    /* '=' in a value after the first is the value's */
    assert_int_equal(parse("in --kv=a=b"), TT_OPTS_RUN);
    assert_string_equal(g_o.kv, "a=b");
    /* negative numbers and "-" are positionals */
    assert_int_equal(parse("-5 - x"), TT_OPTS_RUN);
    assert_string_equal(g_o.input, "-5");
    assert_int_equal(g_o.nfiles, 2);
    assert_string_equal(g_o.files[0], "-");
    assert_string_equal(g_o.files[1], "x");
}

static void test_repeatable(void **state)
{
    (void)state;
    assert_int_equal(parse("in --tag a -t b --tag=c"), TT_OPTS_RUN);
    assert_int_equal(g_o.ntags, 3);
    assert_string_equal(g_o.tags[0], "a");
    assert_string_equal(g_o.tags[1], "b");
    assert_string_equal(g_o.tags[2], "c");
    expect_usage("in --tag a --tag b --tag c --tag d", "too many --tag (at most 3)");
    expect_usage("in f1 f2 f3 f4", "too many FILE... (at most 3)");
    /* a repeated single option: the last wins */
    assert_int_equal(parse("in --str a --str b"), TT_OPTS_RUN);
    assert_string_equal(g_o.str, "b");
}

static void test_errors(void **state)
{
    (void)state;
    expect_usage("in --nope", "unknown option --nope");
    expect_usage("in --str", "--str needs a value (S)");
    expect_usage("in --flag=1", "--flag takes no value (got '1')");
    expect_usage("in --nonempty=", "--nonempty needs a non-empty value");
    expect_usage("in --kv novalue", "--kv: expected KEY=VALUE, got 'novalue'");
    expect_usage("in --count 0", "--count: expected a whole number (1 to 64), got '0'");
    expect_usage("in --count 65", "(1 to 64), got '65'");
    expect_usage("in --count x", "got 'x'");
    assert_int_equal(parse("in --count 64"), TT_OPTS_RUN);
    assert_int_equal(parse("in --count 1"), TT_OPTS_RUN);
    expect_usage("in --big -1", "--big: expected a whole number, got '-1'");
    expect_usage("in --ratio 0.09", "--ratio: expected a number (>= 0.1), got '0.09'");
    expect_usage("in --ratio nan", "got 'nan'");
    expect_usage("in --ratio 1x", "got '1x'");
    expect_usage("in --open 0", "--open: expected a number (> 0, <= 10), got '0'");
    expect_usage("in --open 10.5", "got '10.5'");
    expect_usage("in --dur soon", "--dur");
    expect_usage("in --from yesterday", "--from: 'yesterday' is not a time");
    expect_usage("in --tf M7", "--tf: expected a timeframe");
    expect_usage("in --color pink", "--color: expected red, green or blue, got 'pink'");
    expect_usage("in --color RED", "got 'RED'"); /* case matters unless NOCASE */
    expect_usage("in --custom maybe", "--custom: yes or no, not 'maybe'");
    expect_usage("", "missing INPUT (required)");
    expect_usage("in --a --b", "--a, --b: give at most one");
    expect_usage("in --a --c", "--a and --c fight");
    assert_int_equal(parse("in --b --c"), TT_OPTS_RUN);
    /* every usage error points at the help */
    expect_usage("in --nope", "(see 'ticktape test cmd --help')");
}

/* ---- required and one-of, on a second command ---- */

typedef struct req_opts {
    const char *x, *y, *z;
} req_opts;

static const tt_opt REQ_OPTS[] = {
    {TT_OPT_STRING, "x", .off = offsetof(req_opts, x), .arg = "X", .flags = TT_OPT_REQUIRED,
     .help = "required"},
    {TT_OPT_STRING, "y", .off = offsetof(req_opts, y), .help = "one of y, z"},
    {TT_OPT_STRING, "z", .off = offsetof(req_opts, z), .help = "one of y, z"},
    {TT_OPT_END},
};

static const tt_opt_rule REQ_RULES[] = {
    {TT_RULE_ONE_OF, {"y", "z"}, NULL},
    {TT_RULE_END},
};

static const tt_cmd REQ_CMD = {
    .name = "req",
    .summary = "required options",
    .run = run_nothing,
    .opts = REQ_OPTS,
    .size = sizeof(req_opts),
    .rules = REQ_RULES,
};

static int parse_req(const char *line)
{
    req_opts o;
    memset(&o, 0, sizeof o);
    return parse_into(&REQ_CMD, &o, line, NULL);
}

static void test_required_and_one_of(void **state)
{
    (void)state;
    assert_int_equal(parse_req("--y 1"), TT_EXIT_USAGE);
    assert_non_null(strstr(g_err, "missing --x X (required)"));
    assert_int_equal(parse_req("--x 1"), TT_EXIT_USAGE);
    assert_non_null(strstr(g_err, "give exactly one of --y, --z"));
    assert_int_equal(parse_req("--x 1 --y 1 --z 2"), TT_EXIT_USAGE);
    assert_int_equal(parse_req("--x 1 --z 2"), TT_OPTS_RUN);
}

/* ---- help ---- */

static char *help_text(const tt_cmd *c)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    tt_cmd_help(f, c);
    fclose(f);
    return buf;
}

static void test_help(void **state)
{
    (void)state;
    char *h = help_text(&TEST_CMD);
    assert_true(!strncmp(h, "usage: ticktape test cmd INPUT FILE... [options]\n", 49));
    assert_non_null(strstr(h, "About the test command."));
    assert_non_null(strstr(h, "exit codes: none"));
    /* every row is in the help, included ones too, with its notes */
    tt_opt_iter it;
    size_t base;
    const tt_opt *o;
    tt_opt_iter_init(&it, TEST_CMD.opts);
    int rows = 0;
    while ((o = tt_opt_iter_next(&it, &base))) {
        char want[64];
        snprintf(want, sizeof want, "%s%s", o->name ? "--" : "", o->name ? o->name : o->arg);
        if (!strstr(h, want))
            fail_msg("help lacks %s:\n%s", want, h);
        rows++;
    }
    assert_int_equal(rows, 24);
    assert_non_null(strstr(h, "-s, --str S"));
    assert_non_null(strstr(h, "--color red|green|blue"));
    assert_non_null(strstr(h, "(1 to 64; default: 4)"));
    assert_non_null(strstr(h, "(>= 0.1)"));
    assert_non_null(strstr(h, "(> 0, <= 10)"));
    assert_non_null(strstr(h, "repeatable"));
    assert_non_null(strstr(h, "-h, --help"));
    assert_non_null(strstr(h, "Give at most one of --a and --b."));
    for (char *line = h, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        assert_non_null(end);
        if (end - line > 79)
            fail_msg("a help line of %d columns: %.*s", (int)(end - line), (int)(end - line), line);
    }
    free(h);
    /* --help and -h print it at the point they are met and succeed */
    char out[8192];
    capture cap;
    capture_start(&cap, 1);
    int rc1 = parse("--help --nope"), rc2 = parse("in -h");
    capture_end(&cap, out, sizeof out);
    assert_true(!strncmp(out, "usage: ticktape test cmd", 24));
    assert_int_equal(rc1, TT_EXIT_OK);
    assert_int_equal(rc2, TT_EXIT_OK);
    expect_usage("--nope --help", "unknown option --nope"); /* an earlier error comes first */
}

static const char *const AB[] = {"a", "b", NULL};
static const tt_opt MD_OPTS[] = {
    {TT_OPT_ENUM, "pipe", .off = 0, .values = AB,
     .help = "out/<name> with *stars*, snake_case and _edges_"},
    {TT_OPT_END},
};
static const tt_cmd MD = {.name = "md", .summary = "markdown", .run = run_nothing,
                          .opts = MD_OPTS, .size = sizeof(int),
                          .about = "> not a quote; `code_span <x>` stays\n"};

static void test_markdown(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    tt_cmd_markdown(f, &MD, 2);
    fclose(f);
    assert_non_null(strstr(buf, "## ticktape md\n"));
    assert_non_null(strstr(buf, "| `--pipe` | `a\\|b` | out/&lt;name> with \\*stars\\*, "
                                "snake_case and \\_edges\\_ |"));
    assert_non_null(strstr(buf, "&gt; not a quote; `code_span <x>` stays"));
    free(buf);
}

/* ---- groups ---- */

static const tt_cmd SUB_A = {.name = "grp alpha", .summary = "a", .run = run_nothing};
static const tt_cmd GROUP = {.name = "grp", .summary = "a group",
                             .subs = (const tt_cmd *const[]){&SUB_A, NULL}};

static void test_group(void **state)
{
    (void)state;
    char *argv[] = {"grp", "alpha", NULL};
    assert_int_equal(tt_cmd_run(&GROUP, 2, argv), 42);
    assert_string_equal(tt_cmd_word(&SUB_A), "alpha");
    char *bad[] = {"grp", "beta", NULL};
    capture cap;
    capture_start(&cap, 2);
    int rc = tt_cmd_run(&GROUP, 2, bad);
    int rc0 = tt_cmd_run(&GROUP, 1, bad);
    capture_end(&cap, g_err, sizeof g_err);
    assert_int_equal(rc, TT_EXIT_USAGE);
    assert_int_equal(rc0, TT_EXIT_USAGE);
    assert_non_null(strstr(g_err, "ticktape grp: unknown subcommand 'beta' (alpha)"));
    assert_non_null(strstr(g_err, "usage: ticktape grp alpha")); /* no word: the help */
}

/* ---- table checks ---- */

static void test_check(void **state)
{
    (void)state;
    tt_err err;
    assert_int_equal(tt_cmd_check(&TEST_CMD, &err), TT_OK);
    assert_int_equal(tt_cmd_check(&GROUP, &err), TT_OK);
    static const tt_opt BAD_DEFAULT[] = {
        {TT_OPT_INT, "n", .off = 0, .min = 1, .max = 9, .def = "10", .help = "n"}, {TT_OPT_END}};
    static const tt_opt TWICE[] = {{TT_OPT_FLAG, "n", .off = 0, .help = "n"},
                                   {TT_OPT_FLAG, "n", .off = 0, .help = "n"}, {TT_OPT_END}};
    static const tt_opt OUTSIDE[] = {{TT_OPT_UINT, "n", .off = 4, .help = "n"}, {TT_OPT_END}};
    static const tt_opt NO_HELP[] = {{TT_OPT_FLAG, "n", .off = 0}, {TT_OPT_END}};
    static const tt_opt HELP_ROW[] = {{TT_OPT_FLAG, "help", .off = 0, .help = "n"}, {TT_OPT_END}};
    static const tt_opt NO_VALUES[] = {{TT_OPT_ENUM, "n", .off = 0, .help = "n"}, {TT_OPT_END}};
    static const tt_opt_rule BAD_RULE[] = {{TT_RULE_ONE_OF, {"n", "m"}, NULL}, {TT_RULE_END}};
    static const tt_opt ONE[] = {{TT_OPT_FLAG, "n", .off = 0, .help = "n"}, {TT_OPT_END}};
    const struct {
        const tt_opt *opts;
        const tt_opt_rule *rules;
        const char *says;
    } bad[] = {
        {BAD_DEFAULT, NULL, "default of n"}, {TWICE, NULL, "defined twice"},
        {OUTSIDE, NULL, "outside"},          {NO_HELP, NULL, "no help"},
        {HELP_ROW, NULL, "are the help"},    {NO_VALUES, NULL, "incomplete"},
        {ONE, BAD_RULE, "names --m"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tt_cmd c = {.name = "bad", .summary = "bad", .run = run_nothing, .opts = bad[i].opts,
                    .size = sizeof(int), .rules = bad[i].rules};
        if (tt_cmd_check(&c, &err) != TT_EINVAL || !strstr(err.msg, bad[i].says))
            fail_msg("table %zu: '%s', expected '%s'", i, err.msg, bad[i].says);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),      cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_forms),      cmocka_unit_test(test_repeatable),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_required_and_one_of),
        cmocka_unit_test(test_help),       cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_group),      cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
