/* Shared helpers for subcommands: usage errors, numbers, progress bar, time formats. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tt_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ticktape %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'ticktape %s --help')\n", cmd);
    va_end(ap);
    return TT_EXIT_USAGE;
}

int tt_report_error(const tt_err *err)
{
    fprintf(stderr, "ticktape: error: %s\n", err->msg[0] ? err->msg : tt_status_name(err->code));
    return TT_EXIT_FAIL;
}

int tt_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    if (*end == 'k' || *end == 'K') v *= 1e3, end++;
    else if (*end == 'M' || *end == 'm') v *= 1e6, end++;
    else if (*end == 'G' || *end == 'g') v *= 1e9, end++;
    if (*end)
        return -1;
    *out = (uint64_t)(v + 0.5);
    return 0;
}

int tt_is_help(const char *arg)
{
    return arg && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0);
}

double tt_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tt_progress_start(tt_progress *p, const char *label, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->enabled = isatty(STDERR_FILENO);
    p->label = label;
    p->total = total;
    p->start = p->last = tt_wall_seconds();
}

void tt_progress_update(tt_progress *p, uint64_t done)
{
    p->done = done;
    if (!p->enabled)
        return;
    double now = tt_wall_seconds();
    if (now - p->last < 0.1 && done < p->total)
        return;
    p->last = now;
    double el = now - p->start;
    if (p->total) {
        double f = (double)done / (double)p->total;
        if (f > 1) f = 1;
        int w = 30, k = (int)(f * w);
        double eta = f > 0 ? el * (1 - f) / f : 0;
        fprintf(stderr, "\r%s [", p->label);
        for (int i = 0; i < w; i++)
            fputc(i < k ? '#' : '.', stderr);
        fprintf(stderr, "] %5.1f%%  %llu/%llu  ETA %4.0fs ", f * 100, (unsigned long long)done,
                (unsigned long long)p->total, eta);
    } else {
        fprintf(stderr, "\r%s %llu  %.1fs ", p->label, (unsigned long long)done, el);
    }
    fflush(stderr);
}

void tt_progress_finish(tt_progress *p)
{
    if (!p->enabled)
        return;
    p->last = 0;
    tt_progress_update(p, p->total ? p->total : p->done);
    fputc('\n', stderr);
}

const char *const tt_time_format_names[] = {"iso", "epoch-ms", "epoch-ns", NULL};

void tt_time_format_write(FILE *f, tt_ts ts, int fmt)
{
    if (fmt == TT_TIME_EPOCH_MS) {
        if (ts % TT_NS_PER_MS)
            fprintf(f, "%lld.%06lld", (long long)(ts / TT_NS_PER_MS),
                    (long long)(ts % TT_NS_PER_MS));
        else
            fprintf(f, "%lld", (long long)(ts / TT_NS_PER_MS));
    } else if (fmt == TT_TIME_EPOCH_NS) {
        fprintf(f, "%lld", (long long)ts);
    } else {
        char buf[48];
        tt_ts_format(ts, buf, sizeof buf, ts % TT_NS_PER_MS != 0);
        fputs(buf, f);
    }
}
