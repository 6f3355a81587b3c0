/* libFuzzer target: JSON ticks ({"symbol","bid","ask","timestamp"}) as a
 * paper session with --json-ticks reads them. An accepted tick obeys the same
 * rules as a TickData (fuzz_wire_tick.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "live/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tt_instruments *ins;
    if (!ins && !(ins = tt_instruments_new()))
        abort();
    tt_event ev;
    tt_err err;
    if (tt_wire_tick_json_decode(data, size, ins, &ev, &err) == TT_OK &&
        (ev.kind != TT_EV_QUOTE || ev.u.quote.bid <= 0 || ev.u.quote.ask < ev.u.quote.bid ||
         !isfinite(ev.u.quote.bid_vol) || ev.u.quote.bid_vol < 0 || ev.ts_init < 0))
        abort();
    if (tt_wire_tick_subject_decode("ticks.EURUSD", data, size, 1, ins, &ev, &err) == TT_OK &&
        ev.u.quote.ask < ev.u.quote.bid)
        abort();
    return 0;
}
