/* libFuzzer target: the research sections of a scenario (sim/sweep.c,
 * sim/walkforward.c, sim/gates.c). The input is a YAML file; its sweep: section
 * is read and expanded, its walkforward: section read and cut into folds over
 * a fixed week, its gates: section read and evaluated on empty figures.
 * Anything but a clean error (crash, leak, unbounded work) is a finding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/gates.h"
#include "sim/sweep.h"
#include "sim/walkforward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tt_research_doc *doc;
    tt_err err;
    if (tt_research_doc_parse(&doc, (const char *)data, size, "fuzz.yaml", &err))
        return 0;
    tt_sweep_spec spec;
    if (tt_sweep_spec_read(&spec, doc, 1, &err) == TT_OK) {
        tt_sweep_plan plan;
        if (tt_sweep_expand(&spec, "fuzz", &plan, &err) == TT_OK) {
            tt_buf b = {0};
            size_t last = plan.njobs - 1;
            tt_sweep_job_encode(&b, "fuzz-0001", (uint32_t)last, tt_sweep_job_params(&plan, last),
                                plan.nparams,
                                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                0, 0);
            tt_sweep_job job;
            if (tt_sweep_job_decode(&job, (const char *)b.data, b.len, &err) == TT_OK) {
                /* a sweep's own jobs always pass its own check */
                if (tt_sweep_job_check(&job, &spec, &err) != TT_OK)
                    abort();
                tt_sweep_job_free(&job);
            }
            tt_buf_free(&b);
            tt_sweep_plan_free(&plan);
        }
    }
    tt_sweep_spec_free(&spec);
    tt_wf_spec wf;
    if (tt_wf_spec_read(&wf, doc, &err) == TT_OK && wf.step >= TT_NS_PER_MIN) {
        tt_wf_window *w;
        size_t n;
        if (tt_wf_windows(&wf, 0, 7 * TT_NS_PER_DAY, &w, &n, &err) == TT_OK)
            free(w);
    }
    tt_gates g;
    if (tt_gates_read(&g, doc, &err) == TT_OK) {
        tt_metrics m;
        memset(&m, 0, sizeof m);
        m.sharpe = NAN;
        double wfe = 0.5;
        tt_gate_result *r;
        size_t nfail;
        if (tt_gates_eval(&g, &m, &wfe, &r, &nfail, &err) == TT_OK)
            free(r);
    }
    tt_gates_free(&g);
    tt_research_doc_free(doc);
    return 0;
}
