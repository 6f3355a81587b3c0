/* libFuzzer target: anything on market.external.{type}, through the decoder
 * and into an inbox (the byte budget, the 1 MiB limit, the escape of a
 * rejected message's subject). The event carries the whole payload or is
 * refused whole. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/inbox.h"
#include "live/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tt_wallclock clk;
    static tt_inbox *q;
    tt_err err;
    if (!q) {
        tt_wallclock_init(&clk);
        tt_inbox_opts o = {.capacity = 256, .bytes_max = 64 * 1024, .clock = &clk};
        if (tt_inbox_new(&q, &o, &err))
            abort();
    }
    /* the subject is the input's first line, the payload the rest */
    const uint8_t *nl = memchr(data, '\n', size < 64 ? size : 64);
    char subj[80] = "market.external.x";
    if (nl) {
        memcpy(subj, data, (size_t)(nl - data));
        subj[nl - data] = 0;
        size -= (size_t)(nl - data) + 1;
        data = nl + 1;
    }
    tt_event ev;
    if (tt_wire_external_decode(subj, data, size, &ev, &err) == TT_OK) {
        if (ev.u.blob.len != size)
            abort(); /* never cut */
        int rc = tt_inbox_push(q, &ev, ev.u.blob.data, ev.u.blob.len);
        if (rc != 1 && rc != 0 && rc != TT_EINVAL)
            abort();
    } else {
        tt_inbox_reject(q, subj, err.msg);
    }
    tt_inbox_stats st;
    tt_inbox_stats_get(q, &st);
    if (st.bytes > 64 * 1024)
        abort();
    /* drain now and then */
    if (st.capacity && (st.pushed & 63) == 0) {
        tt_source s = tt_inbox_source(q);
        tt_event out;
        while (s.next(s.self, &out, &err) == TT_SRC_EVENT)
            ;
    }
    return 0;
}
