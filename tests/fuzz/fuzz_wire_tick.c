/* libFuzzer target: TickData protobuf as it arrives on ticks.{SYMBOL} (and
 * keyed, from Kafka), through the validating decoder of live/wire.h. A tick
 * it accepts must be one the engine can take: a known instrument, prices of
 * at least one point with bid <= ask, finite non-negative volumes, and it
 * must survive its own encoding unchanged. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "live/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const tt_instruments *ins, const tt_event *ev)
{
    if (ev->kind != TT_EV_QUOTE || !tt_instruments_get(ins, ev->symbol) || ev->u.quote.bid <= 0 ||
        ev->u.quote.ask < ev->u.quote.bid || !isfinite(ev->u.quote.bid_vol) ||
        ev->u.quote.bid_vol < 0)
        abort();
    uint8_t buf[TT_WIRE_MSG_MAX];
    tt_event in = *ev, again;
    in.ts = ev->ts_init; /* the encoder writes ts in ms */
    size_t n = tt_wire_tick_encode(ins, &in, buf, sizeof buf);
    tt_err err;
    if (!n || tt_wire_tick_decode(buf, n, ins, &again, &err) != TT_OK ||
        again.u.quote.bid != ev->u.quote.bid || again.u.quote.ask != ev->u.quote.ask ||
        again.symbol != ev->symbol)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tt_instruments *ins;
    if (!ins && !(ins = tt_instruments_new()))
        abort();
    tt_event ev;
    tt_err err;
    if (tt_wire_tick_subject_decode("ticks.EURUSD", data, size, 0, ins, &ev, &err) == TT_OK)
        check(ins, &ev);
    if (tt_wire_tick_decode_keyed(data, size, "USDJPY", 6, ins, &ev, &err) == TT_OK)
        check(ins, &ev);
    return 0;
}
