/* The strict JSON reader: accepted and refused documents, accessors, error positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "data/json.h"

static int parse(const char *s, tt_json *doc, tt_err *err)
{
    return tt_json_parse(doc, s, strlen(s), err);
}

static void test_accessors(void **state)
{
    (void)state;
    const char *s = "{\"ticker\":\"C:EURUSD\",\"results\":[\n"
                    " {\"t\":1549274400000,\"o\":1.14452,\"n\":-3,\"e\":1e-3},\n"
                    " {\"t\":0,\"o\":0.5}],\"ok\":true,\"x\":null,\"s\":\"a\\u00e9\\ud83d\\ude00\\n\"}";
    tt_json doc;
    tt_err err;
    assert_int_equal(parse(s, &doc, &err), 0);
    const tt_json_node *root = tt_json_root(&doc);
    assert_int_equal(root->type, TT_JSON_OBJECT);
    assert_int_equal(root->count, 5);
    char buf[64];
    assert_int_equal(tt_json_string(&doc, tt_json_get(&doc, root, "ticker"), buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "C:EURUSD");
    /* escapes decode to UTF-8: U+00E9 = C3 A9, U+1F600 = F0 9F 98 80 */
    assert_int_equal(tt_json_string(&doc, tt_json_get(&doc, root, "s"), buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "a\xC3\xA9\xF0\x9F\x98\x80\n");
    /* too small a buffer is an error, not a truncation */
    assert_int_equal(tt_json_string(&doc, tt_json_get(&doc, root, "s"), buf, 4, &err), TT_EINVAL);
    const tt_json_node *res = tt_json_get(&doc, root, "results");
    assert_int_equal(res->type, TT_JSON_ARRAY);
    assert_int_equal(res->count, 2);
    const tt_json_node *r0 = tt_json_first(&doc, res);
    assert_int_equal(r0->line, 2);
    int64_t t;
    assert_int_equal(tt_json_int64(&doc, tt_json_get(&doc, r0, "t"), &t, &err), 0);
    assert_true(t == 1549274400000LL);
    assert_int_equal(tt_json_int64(&doc, tt_json_get(&doc, r0, "n"), &t, &err), 0);
    assert_true(t == -3);
    /* numbers keep their text: the price is exact */
    assert_int_equal(tt_json_number_text(&doc, tt_json_get(&doc, r0, "o"), buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "1.14452");
    /* a fraction or exponent is not an int64 */
    assert_int_equal(tt_json_int64(&doc, tt_json_get(&doc, r0, "o"), &t, &err), TT_EINVAL);
    assert_int_equal(tt_json_int64(&doc, tt_json_get(&doc, r0, "e"), &t, &err), TT_EINVAL);
    double d;
    assert_int_equal(tt_json_double(&doc, tt_json_get(&doc, r0, "e"), &d, &err), 0);
    assert_true(d == 1e-3);
    const tt_json_node *r1 = tt_json_next(&doc, r0);
    assert_non_null(r1);
    assert_null(tt_json_next(&doc, r1));
    assert_null(tt_json_get(&doc, r1, "missing"));
    assert_int_equal(tt_json_get(&doc, root, "ok")->type, TT_JSON_TRUE);
    assert_int_equal(tt_json_get(&doc, root, "x")->type, TT_JSON_NULL);
    assert_null(tt_json_get(&doc, res, "t")); /* not an object */
    tt_json_free(&doc);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "   ", "{", "[1,]", "{\"a\":1,}", "[01]", "[1.]", "[.5]", "[1e]", "[-]", "[+1]",
        "{a:1}", "{\"a\" 1}", "[\"tab\there\"]", "[\"bad \\x escape\"]", "[\"\\ud800\"]",
        "[\"\\udc00\"]", "[\"\\u12\"]", "[tru]", "[nul]", "[1] [2]", "[\"\xC3\x28\"]",
        "[\"\xE0\x80\xAF\"]", /* overlong */ "[\"\xED\xA0\x80\"]", /* surrogate in UTF-8 */
        "/* c */ 1", "[NaN]", "[Infinity]", "\"unterminated",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tt_json doc;
        tt_err err;
        int rc = parse(bad[i], &doc, &err);
        if (rc != TT_EFORMAT)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(strstr(err.msg, "line 1, column"));
        tt_json_free(&doc); /* safe after a failed parse */
    }
}

static void test_accepted(void **state)
{
    (void)state;
    static const char *const good[] = {
        "0", "-0", "1.5e+10", "\"\"", "[]", "{}", " [ 1 , [ ] , { } ] ", "\xEF\xBB\xBF{}",
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[\"caf\xC3\xA9 \xF0\x9F\x98\x80\"]", "true", "null",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        tt_json doc;
        tt_err err;
        if (parse(good[i], &doc, &err))
            fail_msg("refused %s: %s", good[i], err.msg);
        tt_json_free(&doc);
    }
}

static void test_depth_and_position(void **state)
{
    (void)state;
    char deep[200];
    memset(deep, '[', sizeof deep);
    tt_json doc;
    tt_err err;
    /* 200 nested arrays exceed the limit of 64: refused, no stack exhaustion */
    assert_int_equal(tt_json_parse(&doc, deep, sizeof deep, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "nesting too deep"));
    /* the error position counts lines and columns: line 3, column 5 is the stray 'x' */
    assert_int_equal(parse("{\n \"a\": 1,\n \"b\"x}", &doc, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "line 3, column 5"));
    /* the length bounds the text: a NUL-free prefix of a longer buffer parses */
    assert_int_equal(tt_json_parse(&doc, "[1]garbage", 3, &err), 0);
    tt_json_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_depth_and_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
