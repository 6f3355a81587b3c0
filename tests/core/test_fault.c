/*
 * The link-time fault wrappers (tests/support/fault_wrap.h): the k-th call
 * of the armed kinds fails with the armed errno, once or from then on; short
 * writes land half; other kinds and the disarmed wrappers go through;
 * tt_write_all reports the failure; the TICKTAPE_FAULT syntax parses and
 * names what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../support/fault_wrap.h"
#include "core/io.h"

static int tmpfile_fd(void)
{
    char path[] = "/tmp/tt_fault_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

static off_t size_of(int fd)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    return st.st_size;
}

static void test_kth_write_fails_once(void **state)
{
    (void)state;
    int fd = tmpfile_fd();
    tt_fw_arm(TT_FW_WRITE, 3, ENOSPC);
    for (int i = 1; i <= 5; i++) {
        errno = 0;
        ssize_t n = write(fd, "abcd", 4);
        if (i == 3) {
            assert_int_equal(n, -1);
            assert_int_equal(errno, ENOSPC);
        } else {
            assert_int_equal(n, 4);
        }
    }
    assert_int_equal(tt_fw_calls(), 5);
    assert_int_equal(tt_fw_fired(), 1);
    assert_int_equal(size_of(fd), 16);
    /* fsync is not armed: it goes through and is not counted */
    assert_int_equal(fsync(fd), 0);
    assert_int_equal(tt_fw_calls(), 5);
    tt_fw_disarm();
    close(fd);
}

static void test_sticky_and_kinds(void **state)
{
    (void)state;
    int fd = tmpfile_fd();
    tt_fw_arm(TT_FW_WRITE | TT_FW_FSYNC | TT_FW_STICKY, 2, EIO);
    assert_int_equal(pwrite(fd, "ab", 2, 0), 2); /* call 1 */
    assert_int_equal(fsync(fd), -1);              /* call 2: fails */
    assert_int_equal(errno, EIO);
    struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
    assert_int_equal(writev(fd, iov, 2), -1); /* and every one after */
    assert_int_equal(tt_write_all(fd, "xyz", 3), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(tt_fw_fired(), 3);
    tt_fw_disarm();
    assert_int_equal(tt_write_all(fd, "xyz", 3), 0);
    assert_int_equal(rename("/nonexistent/a", "/nonexistent/b"), -1);
    assert_int_equal(errno, ENOENT); /* disarmed: the real call's own error */
    close(fd);
}

static void test_short_write(void **state)
{
    (void)state;
    int fd = tmpfile_fd();
    tt_fw_arm(TT_FW_WRITE | TT_FW_SHORT, 1, EIO);
    struct iovec iov[2] = {{"abcdefgh", 8}, {"ijkl", 4}};
    assert_int_equal(writev(fd, iov, 2), 4); /* half of the first buffer */
    assert_int_equal(size_of(fd), 4);
    /* tt_write_all carries on after a short write: the rest lands */
    tt_fw_arm(TT_FW_WRITE | TT_FW_SHORT, 1, EIO);
    assert_int_equal(tt_write_all(fd, "0123456789", 10), 0);
    assert_int_equal(size_of(fd), 14);
    tt_fw_disarm();
    close(fd);
}

static void test_parse(void **state)
{
    (void)state;
    unsigned spec;
    uint64_t k;
    int e;
    tt_err err;
    assert_int_equal(tt_fw_parse("write:17:ENOSPC", &spec, &k, &e, &err), TT_OK);
    assert_int_equal(spec, TT_FW_WRITE);
    assert_int_equal(k, 17);
    assert_int_equal(e, ENOSPC);
    assert_int_equal(tt_fw_parse("write,fsync:3:EIO:sticky", &spec, &k, &e, &err), TT_OK);
    assert_int_equal(spec, TT_FW_WRITE | TT_FW_FSYNC | TT_FW_STICKY);
    assert_int_equal(tt_fw_parse("all:1:5:short", &spec, &k, &e, &err), TT_OK);
    assert_int_equal(spec & TT_FW_KINDS, TT_FW_WRITE | TT_FW_FSYNC | TT_FW_RENAME);
    assert_int_equal(e, 5);
    assert_int_equal(tt_fw_parse("alloc,rename:4:ENOMEM", &spec, &k, &e, &err), TT_OK);
    assert_int_equal(spec, TT_FW_ALLOC | TT_FW_RENAME);
    assert_int_equal(e, ENOMEM);
    assert_int_equal(tt_fw_parse("read:1:EIO", &spec, &k, &e, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "kinds"));
    assert_int_equal(tt_fw_parse("write:0:EIO", &spec, &k, &e, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "call number"));
    assert_int_equal(tt_fw_parse("write:2:EWHAT", &spec, &k, &e, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "EWHAT"));
    assert_int_equal(tt_fw_parse("write:2:EIO:loud", &spec, &k, &e, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "loud"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kth_write_fails_once),
        cmocka_unit_test(test_sticky_and_kinds),
        cmocka_unit_test(test_short_write),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
