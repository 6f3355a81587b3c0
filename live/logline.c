/*
 * One formatted line to a log callback (see logline.h).
 */
#include "logline.h"

#include <stdio.h>

void tt_logline_v(tt_logline_fn log, void *ctx, const char *fmt, va_list ap)
{
    if (!log)
        return;
    char line[1200];
    vsnprintf(line, sizeof line, fmt, ap);
    log(ctx, line);
}

void tt_logline(tt_logline_fn log, void *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tt_logline_v(log, ctx, fmt, ap);
    va_end(ap);
}
