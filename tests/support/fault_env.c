/*
 * TICKTAPE_FAULT for `ticktape_fault`, the test build of the ticktape binary
 * (tests/support/fault.cmake: tt_fault_binary): before main runs, the
 * variable's "KINDS:K:ERRNO[:FLAG...]" (tt_fw_parse) arms the link-time
 * wrappers of fault_wrap.c, so a script test can make the k-th write, fsync,
 * rename or allocation of a real command fail. The ticktape binary that is
 * installed reads no such variable: it is not linked with this file.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fault_wrap.h"

__attribute__((constructor)) static void fault_env_arm(void)
{
    const char *text = getenv("TICKTAPE_FAULT");
    if (!text || !*text)
        return;
    unsigned spec;
    uint64_t k;
    int errnum;
    tt_err err;
    if (tt_fw_parse(text, &spec, &k, &errnum, &err)) {
        fprintf(stderr, "ticktape: TICKTAPE_FAULT: %s\n", err.msg);
        exit(2);
    }
    tt_fw_arm(spec, k, errnum);
}
