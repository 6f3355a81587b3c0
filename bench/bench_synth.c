/*
 * Synthetic market generation speed: ticks per second for each model, on one
 * core, generating into a buffer of events (what the engine source and
 * `ticktape synth` do). Not a test: figures go to docs/benchmarks.md.
 *
 *   bench_synth [ticks per model, default 20M] [model ...]
 *
 * Each model runs EURUSD with the default microstructure (seasonality,
 * weekends closed, rollover spread) at 50 ticks/s, long enough to produce the
 * requested number of ticks; the best of three runs is reported, timed in
 * thread CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/instrument.h"
#include "sim/synth.h"

/* Thread CPU time: on a shared, loaded machine wall time counts other
 * processes' turns; CPU time counts ours (the figure for "one core"). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run(const char *model, const char *symbols, const char *corr, uint64_t want,
               const tt_instruments *ins, double *rate, uint64_t *checksum)
{
    tt_synth_config c;
    tt_synth_config_init(&c);
    tt_err err;
    char to[64];
    if (tt_synth_config_set(&c, "model", model, &err) ||
        tt_synth_config_set(&c, "symbols", symbols, &err) ||
        tt_synth_config_set(&c, "tick_rate", "50", &err) ||
        (corr && tt_synth_config_set(&c, "corr", corr, &err))) {
        fprintf(stderr, "bench_synth: %s\n", err.msg);
        return 1;
    }
    /* 50 ticks/s per symbol over 5 open days a week: enough weeks for `want` */
    double weeks = (double)want / (50.0 * c.nsymbols * 5 * 86400.0) + 1.0;
    c.to = c.from + (tt_ts)(weeks * 7) * TT_NS_PER_DAY;
    (void)to;
    static tt_event buf[4096];
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        tt_synth *s;
        if (tt_synth_open(&s, &c, ins, &err)) {
            fprintf(stderr, "bench_synth: %s\n", err.msg);
            return 1;
        }
        uint64_t got = 0, sum = 0;
        double t0 = now_s();
        while (got < want) {
            size_t n = tt_synth_generate(s, buf, sizeof buf / sizeof buf[0]);
            if (!n)
                break;
            got += n;
            sum += (uint64_t)buf[n - 1].u.quote.bid;
        }
        double dt = now_s() - t0;
        tt_synth_close(s);
        if (got / dt > best)
            best = (double)got / dt;
        *checksum = sum;
    }
    *rate = best;
    return 0;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    uint64_t want = argc > 1 ? strtoull(argv[1], &end, 10) : 20000000ull;
    if (argc > 1 && (!*argv[1] || *end || want == 0)) {
        fprintf(stderr, "usage: bench_synth [TICKS [MODEL...]]   (default 20000000 ticks, every "
                        "model; MODEL: gbm merton heston regime ou)\n");
        return 2;
    }
    static const char *const models[] = {"gbm", "merton", "heston", "regime", "ou"};
    tt_instruments *ins = tt_instruments_new();
    if (!ins)
        return 1;
    printf("%-22s %14s\n", "model", "ticks/s");
    for (size_t i = 0; i < 5; i++) {
        if (argc > 2) {
            int found = 0;
            for (int a = 2; a < argc; a++)
                found |= !strcmp(argv[a], models[i]);
            if (!found)
                continue;
        }
        double rate;
        uint64_t sum;
        if (run(models[i], "EURUSD", NULL, want, ins, &rate, &sum))
            return 1;
        printf("%-22s %14.0f\n", models[i], rate);
    }
    if (argc <= 2) {
        double rate;
        uint64_t sum;
        if (run("gbm", "EURUSD,GBPUSD,USDJPY", "0.5", want, ins, &rate, &sum))
            return 1;
        printf("%-22s %14.0f\n", "gbm 3 symbols corr 0.5", rate);
        if (run("gbm", "EURUSD,GBPUSD,USDJPY", NULL, want, ins, &rate, &sum))
            return 1;
        printf("%-22s %14.0f\n", "gbm 3 symbols uncorr", rate);
    }
    tt_instruments_free(ins);
    return 0;
}
