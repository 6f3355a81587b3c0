/* libFuzzer target: ticktape.Bar on bars.{SYMBOL}.{tf}. An accepted bar is a
 * bar: positive prices within range, low <= open, close <= high, a finite
 * non-negative volume. The first input byte picks the subject. */
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
    static const char *const subjects[] = {"bars.EURUSD.1m", "bars.USDJPY.H4", "bars.BTCUSD.1d",
                                           "bars.EURUSD", "bars..1m", "bars.XAUUSD.W1"};
    if (!size)
        return 0;
    const char *subj = subjects[data[0] % 6];
    tt_event ev;
    tt_err err;
    if (tt_wire_bar_decode(subj, data + 1, size - 1, ins, &ev, &err) == TT_OK) {
        const tt_bar *b = &ev.u.bar;
        if (ev.kind != TT_EV_BAR || b->low <= 0 || b->low > b->open || b->low > b->close ||
            b->high < b->open || b->high < b->close || !isfinite(b->volume) || b->volume < 0)
            abort();
    }
    return 0;
}
