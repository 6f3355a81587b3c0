/*
 * Sweeps: reading the sweep: section (with errors that name file and line),
 * grid order, range points, seeded random search, and running a plan through
 * the pool with a stand-in runner (same results at any --jobs, a crashing run
 * reported with its parameters while the others complete).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sim/pcg.h"
#include "sim/sweep.h"

static tt_research_doc *doc_of(const char *yaml)
{
    tt_research_doc *d = NULL;
    tt_err err;
    int rc = tt_research_doc_parse(&d, yaml, strlen(yaml), "s.yaml", &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    return d;
}

static int read_spec(const char *yaml, tt_sweep_spec *spec, tt_err *err)
{
    tt_research_doc *d = doc_of(yaml);
    int rc = tt_sweep_spec_read(spec, d, 99, err);
    tt_research_doc_free(d);
    return rc;
}

static void test_grid(void **state)
{
    (void)state;
    const char *y = "name: x\n"
                    "sweep:\n"
                    "  mode: grid\n"
                    "  params:\n"
                    "    strategy.params.fast: [5, 10, 20]\n"
                    "    strategy.params.slow: {from: 20, to: 60, step: 20}\n"
                    "    strategy.params.k: {from: 0.1, to: 0.5, step: 0.1}\n"
                    "  heatmap: [strategy.params.slow, strategy.params.fast]\n";
    tt_sweep_spec spec;
    tt_err err;
    assert_int_equal(read_spec(y, &spec, &err), 0);
    assert_int_equal(spec.naxes, 3);
    assert_int_equal(spec.axes[1].nvalues, 3); /* 20, 40, 60: both ends included */
    assert_string_equal(spec.axes[1].values[2], "60");
    /* 0.1 + 4 * 0.1 is 0.5 up to rounding: the point is kept and printed as 0.5. */
    assert_int_equal(spec.axes[2].nvalues, 5);
    assert_string_equal(spec.axes[2].values[2], "0.3");
    assert_string_equal(spec.axes[2].values[4], "0.5");
    assert_string_equal(spec.heatmap[0], "strategy.params.slow");
    tt_sweep_plan plan;
    assert_int_equal(tt_sweep_expand(&spec, "t", &plan, &err), 0);
    assert_int_equal(plan.njobs, 45);
    assert_int_equal(plan.nparams, 3);
    /* The first parameter varies slowest, the last fastest. Job 0: 5,20,0.1;
     * job 1: 5,20,0.2; job 5: 5,40,0.1; job 15: 10,20,0.1; job 44: 20,60,0.5. */
    const tt_param *p = tt_sweep_job_params(&plan, 1);
    assert_string_equal(p[0].value, "5");
    assert_string_equal(p[1].value, "20");
    assert_string_equal(p[2].value, "0.2");
    p = tt_sweep_job_params(&plan, 5);
    assert_string_equal(p[1].value, "40");
    assert_string_equal(p[2].value, "0.1");
    p = tt_sweep_job_params(&plan, 15);
    assert_string_equal(p[0].value, "10");
    assert_string_equal(p[0].key, "strategy.params.fast");
    p = tt_sweep_job_params(&plan, 44);
    assert_string_equal(p[0].value, "20");
    assert_string_equal(p[1].value, "60");
    assert_string_equal(p[2].value, "0.5");
    /* Every combination exactly once. */
    for (size_t i = 0; i < plan.njobs; i++)
        for (size_t j = i + 1; j < plan.njobs; j++) {
            const tt_param *a = tt_sweep_job_params(&plan, i), *b = tt_sweep_job_params(&plan, j);
            assert_false(!strcmp(a[0].value, b[0].value) && !strcmp(a[1].value, b[1].value) &&
                         !strcmp(a[2].value, b[2].value));
        }
    tt_sweep_plan_free(&plan);
    tt_sweep_spec_free(&spec);
}

static void test_nested(void **state)
{
    (void)state;
    /* The nested form gives the same axes as dotted keys. */
    const char *y = "sweep:\n"
                    "  params:\n"
                    "    strategy:\n"
                    "      params:\n"
                    "        fast: [5, 10]\n"
                    "        slow: {from: 20, to: 40, step: 10}\n"
                    "    venue.latency_ms: [0, 5]\n"
                    "  heatmap: [strategy.params.fast, strategy.params.slow]\n";
    tt_sweep_spec spec;
    tt_err err;
    assert_int_equal(read_spec(y, &spec, &err), 0);
    assert_int_equal(spec.naxes, 3);
    assert_string_equal(spec.axes[0].key, "strategy.params.fast");
    assert_string_equal(spec.axes[1].key, "strategy.params.slow");
    assert_int_equal(spec.axes[1].nvalues, 3);
    assert_string_equal(spec.axes[2].key, "venue.latency_ms");
    tt_sweep_spec_free(&spec);
    /* Twice, once nested and once dotted: refused. */
    assert_int_not_equal(
        read_spec("sweep:\n  params:\n    a: {b: [1]}\n    a.b: [2]\n", &spec, &err), 0);
    assert_non_null(strstr(err.msg, "'a.b' is given twice"));
    tt_sweep_spec_free(&spec);
}

static void test_random(void **state)
{
    (void)state;
    const char *y = "sweep:\n"
                    "  mode: random\n"
                    "  samples: 40\n"
                    "  seed: 7\n"
                    "  params:\n"
                    "    a: [x, y, z]\n"
                    "    b: {from: 10, to: 20, step: 5}\n"
                    "    c: {from: 1, to: 2}\n";
    tt_sweep_spec spec;
    tt_err err;
    assert_int_equal(read_spec(y, &spec, &err), 0);
    assert_int_equal(spec.seed, 7);
    tt_sweep_plan p1, p2;
    assert_int_equal(tt_sweep_expand(&spec, "r", &p1, &err), 0);
    assert_int_equal(tt_sweep_expand(&spec, "r", &p2, &err), 0);
    assert_int_equal(p1.njobs, 40);
    assert_memory_equal(p1.params, p2.params, 40 * 3 * sizeof(tt_param));
    /* The documented draw order: per sample, a (bounded 3), b (bounded 3), c (uniform). */
    tt_pcg64 g = tt_rng_derive(7, "sweep/random");
    const char *av[] = {"x", "y", "z"}, *bv[] = {"10", "15", "20"};
    int seen_a[3] = {0};
    for (size_t i = 0; i < p1.njobs; i++) {
        const tt_param *p = tt_sweep_job_params(&p1, i);
        uint64_t ka = tt_pcg64_bounded(&g, 3), kb = tt_pcg64_bounded(&g, 3);
        double u = tt_pcg64_uniform(&g);
        char cv[64];
        snprintf(cv, sizeof cv, "%.6g", 1 + u);
        assert_string_equal(p[0].value, av[ka]);
        assert_string_equal(p[1].value, bv[kb]);
        assert_string_equal(p[2].value, cv);
        seen_a[ka]++;
        double c = atof(p[2].value);
        assert_true(c >= 1 && c <= 2);
    }
    assert_true(seen_a[0] && seen_a[1] && seen_a[2]);
    tt_sweep_plan_free(&p2);
    /* Another seed, another plan. */
    spec.seed = 8;
    assert_int_equal(tt_sweep_expand(&spec, "r", &p2, &err), 0);
    assert_memory_not_equal(p1.params, p2.params, 40 * 3 * sizeof(tt_param));
    tt_sweep_plan_free(&p1);
    tt_sweep_plan_free(&p2);
    tt_sweep_spec_free(&spec);
}

static void expect_error(const char *yaml, const char *needle)
{
    tt_sweep_spec spec;
    tt_err err;
    tt_err_clear(&err);
    int rc = read_spec(yaml, &spec, &err);
    if (rc == 0 || !strstr(err.msg, needle))
        fprintf(stderr, "want '%s', got rc %d '%s'\n", needle, rc, err.msg);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err.msg, needle));
    tt_sweep_spec_free(&spec);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("a: 1\n", "no sweep: section");
    expect_error("sweep:\n  mode: grid\n  params:\n    a: []\n",
                 "s.yaml:4: sweep.params.a: the list is empty");
    expect_error("sweep:\n  params:\n    a: {from: 5, to: 1, step: 1}\n",
                 "s.yaml:3: sweep.params.a: 'to' is below 'from'");
    expect_error("sweep:\n  params:\n    a: {from: 1, to: 5}\n", "a grid range needs a step");
    expect_error("sweep:\n  params:\n    a: {from: 1, to: 5, step: 0}\n",
                 "s.yaml:3: sweep.params.a.step: must be > 0");
    expect_error("sweep:\n  params:\n    a: {from: 1, to: 5, stp: 1}\n", "unknown key 'stp'");
    expect_error("sweep:\n  mode: grid\n  sampels: 4\n  params:\n    a: [1]\n",
                 "s.yaml:3: sweep: unknown key 'sampels'");
    expect_error("sweep:\n  mode: randm\n  params:\n    a: [1]\n",
                 "s.yaml:2: sweep.mode: expected grid or random");
    expect_error("sweep:\n  mode: random\n  params:\n    a: [1]\n",
                 "random mode needs samples > 0");
    expect_error("sweep:\n  params:\n    a: [1, 2]\n  heatmap: [a, b]\n",
                 "'b' is not a swept parameter");
    expect_error("sweep:\n  params:\n    a: {from: x, to: 5, step: 1}\n",
                 "sweep.params.a.from: expected a number, got 'x'");

    /* A grid past the cap is refused before anything runs. */
    tt_sweep_spec spec;
    tt_err err;
    assert_int_equal(read_spec("sweep:\n  params:\n    a: {from: 1, to: 1000, step: 1}\n"
                               "    b: {from: 1, to: 1000, step: 1}\n",
                               &spec, &err),
                     0);
    tt_sweep_plan plan;
    assert_int_equal(tt_sweep_expand(&spec, "x", &plan, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "more than 100000 runs"));
    tt_sweep_spec_free(&spec);
}

/* ---- running with a stand-in runner ---- */

/* The fingerprint is a hash of the parameter text; net_pnl is fast*100 -
 * slow; a=crash kills the process, a=fail returns an error. */
static int stand_in(void *self, const tt_param *params, size_t n, tt_ts from, tt_ts to,
                    tt_run_summary *out, tt_run_series *series, tt_err *err)
{
    (void)self, (void)from, (void)to, (void)series;
    char text[512];
    tt_params_format(params, n, text, sizeof text);
    if (strstr(text, "fast=crash"))
        raise(SIGKILL);
    if (strstr(text, "fast=fail"))
        return tt_err_set(err, TT_EINVAL, "strategy: bad fast");
    XXH128_hash_t h = XXH3_128bits(text, strlen(text));
    out->fp.hi = h.high64;
    out->fp.lo = h.low64;
    out->events = 1000 + n;
    out->m.net_pnl = atoi(params[0].value) * 100 - atoi(params[1].value);
    out->m.sharpe = atof(params[0].value) / atof(params[1].value);
    out->m.trades = 7;
    return 0;
}

typedef struct collected {
    uint32_t order[64];
    size_t n;
} collected;

static void on_result(void *ctx, const tt_run_summary *r, const tt_param *p, size_t np)
{
    (void)p, (void)np;
    collected *c = ctx;
    c->order[c->n++] = r->index;
}

static void test_run(void **state)
{
    (void)state;
    const char *y = "sweep:\n  params:\n    fast: [2, crash, 4, fail, 8]\n    slow: [10, 30]\n";
    tt_sweep_spec spec;
    tt_err err;
    assert_int_equal(read_spec(y, &spec, &err), 0);
    tt_sweep_plan plan;
    assert_int_equal(tt_sweep_expand(&spec, "sw", &plan, &err), 0);
    assert_int_equal(plan.njobs, 10);
    tt_research_runner runner = {NULL, stand_in};
    tt_run_summary r1[10], r3[10];
    collected c = {{0}, 0};
    tt_sweep_opts o = {.jobs = 1, .on_result = on_result, .ctx = &c};
    assert_int_equal(tt_sweep_run(&plan, runner, &o, r1, &err), TT_EPARTIAL);
    assert_non_null(strstr(err.msg, "4 of 10 runs did not complete"));
    assert_int_equal(c.n, 10);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(c.order[i], i);
    o.jobs = 3;
    assert_int_equal(tt_sweep_run(&plan, runner, &o, r3, &err), TT_EPARTIAL);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(r1[i].status, r3[i].status);
        assert_int_equal(r1[i].index, i);
        assert_memory_equal(&r1[i].fp, &r3[i].fp, sizeof r1[i].fp);
        assert_string_equal(r1[i].run_id, r3[i].run_id);
    }
    /* Job 2 = fast=crash slow=10: killed; the report names its parameters. */
    assert_int_equal(r1[2].status, TT_RUN_CRASHED);
    assert_int_equal(r1[2].signal, SIGKILL);
    assert_non_null(strstr(r1[2].error, "[fast=crash slow=10]"));
    assert_int_equal(r1[6].status, TT_RUN_FAILED);
    assert_non_null(strstr(r1[6].error, "strategy: bad fast [fast=fail slow=10]"));
    /* Job 9 = fast=8 slow=30: figures came back through the pipe intact. */
    assert_int_equal(r3[9].status, TT_RUN_OK);
    assert_int_equal(r3[9].m.net_pnl, 770);
    assert_true(r3[9].m.sharpe == 8.0 / 30.0);
    assert_string_equal(r3[9].run_id, "sw-0009");
    XXH128_hash_t h = XXH3_128bits("fast=8 slow=30", 14);
    assert_true(r3[9].fp.hi == h.high64 && r3[9].fp.lo == h.low64);

    /* The JSON form round-trips every figure bit for bit. */
    tt_buf b = {0};
    r3[9].m.profit_factor = NAN;
    r3[9].m.win_rate_pct = 0.1 + 0.2;
    assert_int_equal(tt_run_summary_json(&b, &r3[9], tt_sweep_job_params(&plan, 9), 2), 0);
    tt_json_flat j;
    assert_int_equal(tt_json_flat_parse(&j, (char *)b.data, b.len, "t", &err), 0);
    assert_string_equal(tt_json_flat_get(&j, "params.fast", NULL), "8");
    tt_run_summary back;
    assert_int_equal(tt_run_summary_from_json(&back, &j, "t", &err), 0);
    assert_memory_equal(&back.fp, &r3[9].fp, sizeof back.fp);
    assert_true(back.m.win_rate_pct == 0.1 + 0.2);
    assert_true(isnan(back.m.profit_factor));
    assert_int_equal(back.m.net_pnl, 770);
    assert_string_equal(back.run_id, "sw-0009");
    tt_json_flat_free(&j);
    tt_buf_free(&b);
    tt_sweep_plan_free(&plan);
    tt_sweep_spec_free(&spec);
}

static void test_json_reader(void **state)
{
    (void)state;
    tt_json_flat j;
    tt_err err;
    const char *t = " {\"a\": {\"b\": -1.5e3, \"c\": null}, \"s\": \"q\\\"\\u00e9\", \"t\": true} ";
    assert_int_equal(tt_json_flat_parse(&j, t, strlen(t), "t", &err), 0);
    assert_string_equal(tt_json_flat_get(&j, "a.b", NULL), "-1.5e3");
    int present = 0;
    assert_null(tt_json_flat_get(&j, "a.c", &present));
    assert_int_equal(present, 1);
    assert_string_equal(tt_json_flat_get(&j, "s", NULL), "q\"\xc3\xa9");
    assert_string_equal(tt_json_flat_get(&j, "t", NULL), "true");
    tt_json_flat_free(&j);
    const char *bad[] = {"{\"a\": [1]}", "{\"a\" 1}", "{\"a\": 1",
                         "{\"a\": 1} x", "[]",        "{\"a\": nope}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tt_json_flat_parse(&j, bad[i], strlen(bad[i]), "b.json", &err),
                         TT_EFORMAT);
        assert_non_null(strstr(err.msg, "b.json: bad JSON at byte"));
    }
    tt_ts d;
    assert_int_equal(tt_duration_parse("30d", &d, "w", &err), 0);
    assert_true(d == 30 * TT_NS_PER_DAY);
    assert_int_equal(tt_duration_parse("12h", &d, "w", &err), 0);
    assert_true(d == 12 * TT_NS_PER_HOUR);
    assert_int_equal(tt_duration_parse("2w", &d, "w", &err), 0);
    assert_true(d == 14 * TT_NS_PER_DAY);
    assert_int_equal(tt_duration_parse("3y", &d, "walkforward.train", &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "walkforward.train: unknown unit in '3y'"));
    assert_int_equal(tt_duration_parse("-1d", &d, "w", &err), TT_EINVAL);
    char id[TT_RUN_ID_MAX];
    tt_run_id_make(id, "a.b c", 7);
    assert_string_equal(id, "a_b_c-0007");
}

/* Jobs on the wire: a sweep's own jobs round-trip (a walk-forward's train
 * windows are 19-digit nanosecond times) and pass the check against their
 * spec; anything that names a file or sets another key is refused, with
 * messages that quote nothing of the job. */
static void test_job_wire(void **state)
{
    (void)state;
    const char *y = "sweep:\n"
                    "  mode: random\n"
                    "  samples: 20\n"
                    "  params:\n"
                    "    strategy.params.fast: [5, 10]\n"
                    "    strategy.params.slow: {from: 20, to: 60, step: 20}\n"
                    "    strategy.params.k: {from: 0.1, to: 0.5}\n";
    tt_sweep_spec spec;
    tt_sweep_plan plan;
    tt_err err;
    assert_int_equal(read_spec(y, &spec, &err), 0);
    assert_int_equal(tt_sweep_expand(&spec, "w", &plan, &err), 0);
    const char *sid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    for (size_t i = 0; i < plan.njobs; i++) {
        tt_buf b = {0};
        assert_int_equal(tt_sweep_job_encode(&b, "w-0001", (uint32_t)i,
                                             tt_sweep_job_params(&plan, i), plan.nparams, sid,
                                             1549238400000000000LL, 1549281600000000000LL),
                         0);
        tt_sweep_job job;
        int rc = tt_sweep_job_decode(&job, (const char *)b.data, b.len, &err);
        if (rc)
            fail_msg("%s", err.msg);
        assert_int_equal(job.index, i);
        assert_int_equal(job.from, 1549238400000000000LL);
        assert_int_equal(job.to, 1549281600000000000LL);
        assert_string_equal(job.scenario, sid);
        assert_int_equal(job.nparams, 3);
        assert_int_equal(tt_sweep_job_check(&job, &spec, &err), 0);
        tt_sweep_job_free(&job);
        tt_buf_free(&b);
    }
    static const struct {
        const char *json;
        int rc;
        const char *msg;
    } bad[] = {
        /* the first format: a path and overrides */
        {"{\"run_id\":\"a\",\"index\":0,\"scenario\":\"/etc/passwd\",\"tag\":\"1234abcd\","
         "\"sets\":{\"0\":\"strategy.name=/tmp/x.so\"},\"params\":{}}",
         TT_EPERM, "unknown scenario"},
        {"{\"v\":2,\"run_id\":\"a\",\"index\":0,\"scenario\":\"%s\",\"sets\":{\"0\":\"x=1\"}}",
         TT_EPERM, "parameter not allowed"},
        {"{\"v\":2,\"run_id\":\"a b\",\"index\":0,\"scenario\":\"%s\"}", TT_EFORMAT, "run_id"},
        {"{\"v\":2,\"run_id\":\"a\",\"index\":-1,\"scenario\":\"%s\"}", TT_EFORMAT, "index"},
        {"{\"v\":2,\"run_id\":\"a\",\"index\":0,\"scenario\":\"%s\",\"from\":5,\"to\":5}",
         TT_EFORMAT, "from/to"},
        {"{\"v\":2,\"run_id\":\"a\",\"index\":0,\"scenario\":\"%s\",\"to\":99999999999999999999}",
         TT_EFORMAT, "from/to"},
        {"{\"v\":1,\"run_id\":\"a\",\"index\":0,\"scenario\":\"%s\"}", TT_EFORMAT, "field v"},
        {"{\"v\":2,\"run_id\":\"a\",\"index\":0,\"scenario\":\"%s\",\"params\":{\"k\":5}}",
         TT_EFORMAT, "params"},
        {"not json", TT_EFORMAT, "not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, bad[i].json, sid);
        tt_sweep_job job;
        assert_int_equal(tt_sweep_job_decode(&job, text, strlen(text), &err), bad[i].rc);
        assert_non_null(strstr(err.msg, bad[i].msg));
        assert_null(strstr(err.msg, "passwd"));
        assert_null(strstr(err.msg, "1234abcd"));
    }
    /* Parameters: declared keys only, values on the list, the grid or in the range. */
    static const struct {
        const char *key, *value;
        int ok;
    } params[] = {
        {"strategy.params.fast", "10", 1},   {"strategy.params.fast", "7", 0},
        {"strategy.params.slow", "40", 1},   {"strategy.params.slow", "30", 0},
        {"strategy.params.k", "0.25", 1},    {"strategy.params.k", "0.6", 0},
        {"strategy.params.k", "nan", 0},     {"strategy.params.k", "0.3x", 0},
        {"strategy.name", "/tmp/evil.so", 0}, {"data.tape", "/etc", 0},
        {"strategy.params.fast\n", "10", 0},
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        tt_sweep_job job;
        memset(&job, 0, sizeof job);
        tt_param p;
        snprintf(p.key, sizeof p.key, "%s", params[i].key);
        snprintf(p.value, sizeof p.value, "%s", params[i].value);
        job.params = &p;
        job.nparams = 1;
        int rc = tt_sweep_job_check(&job, &spec, &err);
        assert_int_equal(rc, params[i].ok ? TT_OK : TT_EPERM);
        if (!params[i].ok) {
            assert_non_null(strstr(err.msg, "parameter not allowed"));
            assert_null(strchr(err.msg, '\n'));
        }
    }
    /* A completion off the wire: control characters in its text are escaped. */
    const char *evil = "{\"index\":0,\"run_id\":\"a\\u0007b\",\"status\":\"failed\","
                       "\"fingerprint\":\"00000000000000000000000000000000\","
                       "\"error\":\"boom\\u001b[2J\\nforged line\"}";
    tt_run_summary rs;
    tt_run_summary_from_payload(&rs, evil, strlen(evil));
    assert_int_equal(rs.status, TT_RUN_FAILED);
    assert_string_equal(rs.error, "boom\\x1b[2J\\x0aforged line");
    assert_string_equal(rs.run_id, "a\\x07b");
    tt_sweep_plan_free(&plan);
    tt_sweep_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid),   cmocka_unit_test(test_nested),
        cmocka_unit_test(test_random), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_run),    cmocka_unit_test(test_json_reader),
        cmocka_unit_test(test_job_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
