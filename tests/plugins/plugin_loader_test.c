/*
 * Strategy plugins: load the example plugin and run it in a backtest over a
 * hand-made quote stream; refuse the build that claims another ABI version,
 * and a shared object that is not a plugin, with messages that say why.
 * A shared object that does not export the entry point is refused without
 * being loaded: its constructor (tests/live/evil_plugin.c writes a marker
 * file) never runs. FIFOs, devices and files writable by everyone are
 * refused without blocking.
 *
 * usage: plugin_loader_test GOOD.so BADABI.so EVIL.so WORKDIR
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/plugin.h"
#include "sim/backtest.h"

static const char *good_path, *bad_path, *evil_path, *work_dir;

typedef struct wave {
    tt_ts t;
    uint64_t i, n;
    uint32_t sym;
} wave;

/* A zigzag: 400 ticks up 1 point each, 400 down, repeated; spread 10 points. */
static int wave_next(void *self, tt_event *ev, tt_err *err)
{
    wave *w = self;
    (void)err;
    if (w->i == w->n)
        return TT_SRC_END;
    memset(ev, 0, sizeof *ev);
    uint64_t k = w->i % 800;
    tt_price bid = 114000 + (tt_price)(k < 400 ? k : 800 - k);
    ev->ts = ev->ts_init = w->t + (tt_ts)w->i * TT_NS_PER_SEC;
    ev->kind = TT_EV_QUOTE;
    ev->cls = TT_CLS_MARKET;
    ev->source = 1;
    ev->seq = ++w->i;
    ev->symbol = w->sym;
    ev->u.quote.bid = bid;
    ev->u.quote.ask = bid + 10;
    return TT_SRC_EVENT;
}

static void test_load_and_run(void **state)
{
    (void)state;
    tt_plugin *p;
    tt_err err;
    int rc = tt_plugin_open(&p, good_path, &err);
    if (rc)
        fail_msg("open: %s", err.msg);
    const tt_strategy_vtable *vt = tt_plugin_strategy(p);
    assert_string_equal(vt->name, "example_momentum");
    assert_int_equal(vt->abi_version, TT_STRATEGY_ABI_VERSION);
    tt_plugin_close(p);

    tt_instruments *ins = tt_instruments_new();
    wave w = {tt_ts_from_civil(2019, 2, 4, 10, 0, 0, 0), 0, 4000,
              tt_instruments_find(ins, "EURUSD")->id};
    tt_source src = {&w, wave_next, NULL};
    tt_backtest_config c;
    tt_backtest_config_default(&c);
    c.instruments = ins;
    c.symbols[0] = "EURUSD";
    c.source = &src;
    c.strategy = good_path;
    c.params = "n=50 move=20 qty=10 sl=30"; /* on the ramp the bid leads its SMA by 24.5 */
    tt_backtest_result r;
    rc = tt_backtest_run(&c, &r, &err);
    if (rc)
        fail_msg("backtest: %s", err.msg);
    assert_int_equal(r.events, 4000);
    assert_true(r.fills >= 2);
    assert_true(r.ntrades >= 1);
    /* the zigzag turns after 400 ticks: the attached 30-point stop-loss closes
     * the first position */
    assert_int_equal(r.trades[0].close_reason, TT_CLOSE_STOP_LOSS);
    /* entered at the ask, stop 30 below it, reached by the bid one point at a time */
    assert_int_equal(r.trades[0].close_price - r.trades[0].open_price, -30);
    tt_backtest_result_free(&r);
    /* a parameter the plugin does not know is refused */
    w.i = 0;
    c.params = "n=50 bogus=1";
    assert_int_equal(tt_backtest_run(&c, &r, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "bogus"));
    assert_non_null(strstr(err.msg, "example_momentum"));
    tt_backtest_result_free(&r);
    tt_instruments_free(ins);
}

static void test_abi_mismatch(void **state)
{
    (void)state;
    tt_plugin *p;
    tt_err err;
    assert_int_equal(tt_plugin_open(&p, bad_path, &err), TT_EABI);
    char want[64], got[64];
    snprintf(want, sizeof want, "version %u", TT_STRATEGY_ABI_VERSION + 1);
    snprintf(got, sizeof got, "speaks version %u", TT_STRATEGY_ABI_VERSION);
    assert_non_null(strstr(err.msg, want));
    assert_non_null(strstr(err.msg, got));
    assert_non_null(strstr(err.msg, bad_path));
}

static void test_not_a_plugin(void **state)
{
    (void)state;
    tt_plugin *p;
    tt_err err;
    assert_int_equal(tt_plugin_open(&p, "/nonexistent/x.so", &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/x.so"));
    /* a bare name is a file in the current directory, never a library search */
    assert_int_equal(tt_plugin_open(&p, "libm.so.6", &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "./libm.so.6"));
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Any .so without the entry point (the audit's exploit payload): refused
 * before dlopen, so its constructor never runs. */
static void test_constructor_never_runs(void **state)
{
    (void)state;
    char mark[4096];
    snprintf(mark, sizeof mark, "%s/plugin-pwned", work_dir);
    unlink(mark);
    setenv("TT_EVIL_MARK", mark, 1);
    tt_plugin *p = NULL;
    tt_err err;
    assert_int_equal(tt_plugin_open(&p, evil_path, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "tt_strategy_entry"));
    assert_non_null(strstr(err.msg, "not loaded"));
    assert_false(file_exists(mark));
    /* a system library is not loaded either */
    const char *libm = "/lib/x86_64-linux-gnu/libm.so.6";
    if (file_exists(libm))
        assert_int_equal(tt_plugin_open(&p, libm, &err), TT_ENOTFOUND);
    unsetenv("TT_EVIL_MARK");
}

/* Not regular files, or files anybody could have replaced: refused at once. */
static void test_untrusted_files(void **state)
{
    (void)state;
    tt_plugin *p = NULL;
    tt_err err;
    char fifo[4096], copy[4096];
    snprintf(fifo, sizeof fifo, "%s/plugin-fifo.so", work_dir);
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(tt_plugin_open(&p, fifo, &err), TT_EPERM); /* returns: no blocking open */
    assert_non_null(strstr(err.msg, "not a regular file"));
    unlink(fifo);
    assert_int_equal(tt_plugin_open(&p, "/dev/zero", &err), TT_EPERM);
    /* a copy of the good plugin, writable by everyone */
    snprintf(copy, sizeof copy, "%s/plugin-open.so", work_dir);
    FILE *in = fopen(good_path, "rb"), *out = fopen(copy, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    assert_int_equal(chmod(copy, 0666), 0);
    assert_int_equal(tt_plugin_open(&p, copy, &err), TT_EPERM);
    assert_non_null(strstr(err.msg, "writable by everyone"));
    assert_int_equal(chmod(copy, 0644), 0);
    assert_int_equal(tt_plugin_open(&p, copy, &err), TT_OK);
    tt_plugin_close(p);
    unlink(copy);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s GOOD.so BADABI.so EVIL.so WORKDIR\n", argv[0]);
        return 2;
    }
    good_path = argv[1];
    bad_path = argv[2];
    evil_path = argv[3];
    work_dir = argv[4];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_run),
        cmocka_unit_test(test_abi_mismatch),
        cmocka_unit_test(test_not_a_plugin),
        cmocka_unit_test(test_constructor_never_runs),
        cmocka_unit_test(test_untrusted_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
