/* libFuzzer target: a completion message as a sweep reads it from
 * backtest.completed.> (tt_run_summary_from_payload): never fails, and what
 * it keeps is safe to print (no control character in the error or the run
 * id) and writes back as JSON that parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/research.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_run_summary s;
    tt_run_summary_from_payload(&s, (const char *)data, size);
    for (const char *p = s.error; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            abort();
    for (const char *p = s.run_id; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            abort();
    tt_buf b = {0};
    tt_run_summary_json(&b, &s, NULL, 0);
    tt_json_flat j;
    tt_err err;
    if (tt_json_flat_parse(&j, (const char *)b.data, b.len, "again", &err) != TT_OK)
        abort();
    tt_json_flat_free(&j);
    tt_buf_free(&b);
    return 0;
}
