/*
 * ticktape reports: helpers shared by the report writers (not public).
 */
#ifndef TT_REPORT_INTERNAL_H
#define TT_REPORT_INTERNAL_H

#include <stdio.h>

#include "report.h"

/* Open "<path>.tmp" for writing; NULL with err set (TT_EIO naming path). */
FILE *tt_report_open_tmp(const char *path, char *tmp, size_t tmpsize, tt_err *err);
/* Close f and rename the temporary into place; on any failure remove the
 * temporary and return TT_EIO naming path. */
int tt_report_commit(FILE *f, const char *tmp, const char *path, tt_err *err);

/* Write s with JSON string escaping, quotes included. */
void tt_report_json_str(FILE *f, const char *s);
/* Write s with HTML escaping (&, <, >, "). */
void tt_report_html_str(FILE *f, const char *s);
/* A double as JSON: %.12g (12 significant digits, stable and readable), or null when not finite. */
void tt_report_json_num(FILE *f, double v);
/* Minor units per unit, defaulted. */
int64_t tt_report_minor(const tt_report_input *in);
/* Decimals of a lot step (0.01 -> 2) and qty as lots text. */
void tt_report_lots(const tt_report_input *in, uint32_t symbol, int64_t qty, char *buf,
                    size_t bufsize);

#endif
