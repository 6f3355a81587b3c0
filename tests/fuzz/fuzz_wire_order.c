/* libFuzzer target: the order messages of the MT5 bus (live/mt5_bus.c), as
 * they arrive from NATS: an OrderCommand on orders.submitted.{SYMBOL} (the
 * connector's input, from any engine session) and an OrderEvent on
 * broker.*.{SYMBOL} (the NATS venue's input). The first input byte picks the
 * decoder. Beyond "no crash, no UB": an accepted message is a fixed point of
 * encode and decode (nothing the decoder keeps is lost or changed by the
 * engine's own encoder), and its JSON form (what a session publishes with
 * --publish-json) is one line with no control character, whatever the
 * enum values the wire carried. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const tt_instruments *ins, const tt_event *ev)
{
    char buf[4096];
    size_t n = tt_wire_output_json(ins, ev, buf, sizeof buf);
    if (!n || n >= sizeof buf || strlen(buf) != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tt_instruments *ins;
    if (!ins && !(ins = tt_instruments_new()))
        abort();
    if (!size)
        return 0;
    int cmd = data[0] & 1;
    tt_event ev, again;
    memset(&ev, 0, sizeof ev);
    memset(&again, 0, sizeof again);
    tt_err err;
    int rc = cmd ? tt_wire_order_cmd_decode(data + 1, size - 1, &ev, &err)
                 : tt_wire_order_event_decode(data + 1, size - 1, &ev, &err);
    if (rc)
        return 0;
    if (ev.kind != (cmd ? TT_EV_ORDER_CMD : TT_EV_ORDER_EVENT))
        abort();
    const tt_instrument *in = tt_instruments_find(ins, "EURUSD");
    if (!in)
        abort();
    ev.symbol = in->id;
    /* 0 bytes is a message too: proto3 writes nothing for fields at their
     * defaults (a message of unknown fields only decodes to that) */
    uint8_t buf[TT_WIRE_MSG_MAX];
    size_t n = tt_wire_output_encode(ins, &ev, buf, sizeof buf);
    rc = cmd ? tt_wire_order_cmd_decode(buf, n, &again, &err)
             : tt_wire_order_event_decode(buf, n, &again, &err);
    again.symbol = ev.symbol;
    if (rc || (cmd ? memcmp(&again.u.order_cmd, &ev.u.order_cmd, sizeof ev.u.order_cmd)
                   : memcmp(&again.u.order_ev, &ev.u.order_ev, sizeof ev.u.order_ev)))
        abort();
    check_json(ins, &ev);
    return 0;
}
