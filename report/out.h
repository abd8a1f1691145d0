/*
 * out.h - portguard-report's output formats (out.c).
 */
#ifndef PG_REPORT_OUT_H
#define PG_REPORT_OUT_H

#include <stdio.h>

#include "agg.h"

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV };

void out_write(FILE *f, const struct agg *a, enum out_format fmt);

#endif
