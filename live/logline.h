/*
 * One formatted line to a log callback (the `void (*log)(void *ctx, const
 * char *line)` that live modules take in their options), so each module
 * need not format its own. Lines are cut at 1,199 bytes; a NULL callback
 * formats nothing.
 */
#ifndef TT_LIVE_LOGLINE_H
#define TT_LIVE_LOGLINE_H

#include <stdarg.h>

typedef void (*tt_logline_fn)(void *ctx, const char *line);

void tt_logline(tt_logline_fn log, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tt_logline_v(tt_logline_fn log, void *ctx, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
