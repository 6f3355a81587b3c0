/* libFuzzer target: strategy parameters ("key=value ...") as a scenario gives
 * them, through the runner's parser and each built-in strategy's reads. The
 * first byte picks the strategy; the rest is the parameter text. Any input
 * must either build a runner or fail with a message, never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strategy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const tt_strategy_vtable *vt = tt_strategy_builtin_at(data[0] % 4);
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    tt_instruments *ins = tt_instruments_new();
    tt_portfolio_config pc;
    memset(&pc, 0, sizeof pc);
    memcpy(pc.currency, "USD", 4);
    tt_portfolio *pf = NULL;
    uint32_t sym = 1;
    if (ins && tt_portfolio_new(&pf, ins, &pc, NULL) == 0) {
        tt_runner_config c;
        memset(&c, 0, sizeof c);
        c.strategy = vt;
        c.params = text;
        c.symbols = &sym;
        c.nsymbols = 1;
        c.portfolio = pf;
        tt_runner *r = NULL;
        tt_err err;
        if (tt_runner_new(&r, ins, &c, &err) == 0)
            tt_runner_free(r);
        else if (!err.msg[0])
            abort(); /* a failure must say why */
    }
    tt_portfolio_free(pf);
    tt_instruments_free(ins);
    free(text);
    return 0;
}
