/* libFuzzer target: the JSON readers of the research tools (sim/research.c,
 * sim/sweep.c): flat objects (baselines, results), run summaries and sweep
 * jobs as received from NATS. A result written back from a parsed summary
 * must parse again. Anything but a clean error is a finding. */
#include <stdlib.h>
#include <string.h>

#include "sim/research.h"
#include "sim/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_err err;
    tt_json_flat j;
    if (tt_json_flat_parse(&j, (const char *)data, size, "fuzz", &err) == TT_OK) {
        tt_run_summary s;
        if (tt_run_summary_from_json(&s, &j, "fuzz", &err) == TT_OK) {
            tt_buf b = {0};
            tt_run_summary_json(&b, &s, NULL, 0);
            tt_json_flat again;
            if (tt_json_flat_parse(&again, (const char *)b.data, b.len, "again", &err) != TT_OK)
                abort(); /* our own output must parse */
            tt_json_flat_free(&again);
            tt_buf_free(&b);
        }
        tt_json_flat_free(&j);
    }
    tt_sweep_job job;
    if (tt_sweep_job_decode(&job, (const char *)data, size, &err) == TT_OK)
        tt_sweep_job_free(&job);
    return 0;
}
