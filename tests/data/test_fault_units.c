/*
 * Single failures the fault loops found, pinned down one at a time with the
 * link-time wrappers (tests/support/fault_wrap.h):
 *   - a fill that opens a position with no room for it changes nothing (the
 *     commission used to be charged before the position failed to open);
 *   - a whole file read that runs out of memory part way is TT_ENOMEM (it
 *     used to return the part read so far as the whole file).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/fault_wrap.h"
#include "core/portfolio.h"
#include "data/polygon.h"

static void test_fill_without_room(void **state)
{
    (void)state;
    tt_instruments *ins = tt_instruments_new();
    uint32_t eu = tt_instruments_find(ins, "EURUSD")->id;
    tt_portfolio_config c = {.currency = "USD", .initial_balance = 1000000};
    tt_portfolio *p;
    tt_err err;
    assert_int_equal(tt_portfolio_new(&p, ins, &c, &err), TT_OK);
    tt_portfolio_quote(p, eu, 114420, 114430);
    tt_fill f = {.symbol = eu, .side = TT_BUY, .qty = 10, .price = 114430, .commission = 40,
                 .order_id = 1, .ts = 100};
    /* the first position of the account allocates the positions' array */
    tt_fw_arm(TT_FW_ALLOC, 1, ENOMEM);
    int rc = tt_portfolio_fill(p, &f, &err);
    uint64_t fired = tt_fw_fired();
    tt_fw_disarm();
    assert_int_equal(fired, 1);
    assert_int_equal(rc, TT_ENOMEM);
    assert_non_null(strstr(err.msg, "out of memory"));
    tt_account a;
    tt_portfolio_account(p, &a);
    assert_int_equal(a.balance, 1000000); /* no commission charged */
    assert_int_equal(a.commissions, 0);
    assert_int_equal(tt_portfolio_count(p), 0);
    assert_int_equal(tt_portfolio_net_qty(p, eu), 0);
    /* the same fill with memory goes through as if nothing had happened */
    assert_int_equal(tt_portfolio_fill(p, &f, &err), TT_OK);
    tt_portfolio_account(p, &a);
    assert_int_equal(a.balance, 1000000 - 40);
    assert_int_equal(tt_portfolio_net_qty(p, eu), 10);
    tt_portfolio_free(p);
    tt_instruments_free(ins);
}

static void test_whole_file_without_room(void **state)
{
    (void)state;
    char path[] = "/tmp/tt_fault_whole_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static char block[1 << 16];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 3; i++) /* 192 KiB: the buffer (64 KiB first) grows twice */
        assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
    close(fd);
    char *text = NULL;
    size_t len = 0;
    tt_err err;
    /* the first growth fails (allocation 2: gzopen's own memory is libz's) */
    tt_fw_arm(TT_FW_ALLOC, 2, ENOMEM);
    int rc = tt_read_whole_file(path, (size_t)1 << 20, &text, &len, &err);
    uint64_t fired = tt_fw_fired();
    tt_fw_disarm();
    assert_int_equal(fired, 1);
    assert_int_equal(rc, TT_ENOMEM);
    assert_null(text);
    assert_non_null(strstr(err.msg, "out of memory"));
    assert_int_equal(tt_read_whole_file(path, (size_t)1 << 20, &text, &len, &err), TT_OK);
    assert_int_equal(len, 3 * sizeof block);
    free(text);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_without_room),
        cmocka_unit_test(test_whole_file_without_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
