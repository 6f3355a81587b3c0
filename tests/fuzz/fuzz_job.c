/* libFuzzer target: a job message as a worker takes it from backtest.jobs.>
 * (live/jetstream.c's batch framing, then each run's JSON through
 * tt_sweep_job_decode and tt_sweep_job_check against a sweep section). A job
 * that decodes and passes the check sets only declared parameters to values
 * the section allows; a batch's runs lie inside the message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/jetstream.h"
#include "sim/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SECTION[] = "sweep:\n"
                              "  mode: random\n"
                              "  samples: 4\n"
                              "  params:\n"
                              "    strategy.params.fast: [5, 10]\n"
                              "    strategy.params.slow: {from: 20, to: 60, step: 20}\n"
                              "    strategy.params.k: {from: 0.1, to: 0.5}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tt_sweep_spec spec;
    static int ready;
    tt_err err;
    if (!ready) {
        tt_research_doc *doc;
        if (tt_research_doc_parse(&doc, SECTION, strlen(SECTION), "fuzz.yaml", &err) ||
            tt_sweep_spec_read(&spec, doc, 1, &err))
            abort();
        tt_research_doc_free(doc);
        ready = 1;
    }
    char why[256];
    tt_js_batch_runs((const char *)data, size, why, sizeof why);
    tt_sweep_job job;
    if (tt_sweep_job_decode(&job, (const char *)data, size, &err) == TT_OK) {
        if (strlen(job.scenario) != 64 || !job.run_id[0])
            abort();
        if (tt_sweep_job_check(&job, &spec, &err) == TT_OK) {
            for (size_t i = 0; i < job.nparams; i++) {
                int known = 0;
                for (size_t a = 0; a < spec.naxes; a++)
                    known |= !strcmp(job.params[i].key, spec.axes[a].key);
                if (!known)
                    abort();
            }
        }
        tt_sweep_job_free(&job);
    }
    return 0;
}
