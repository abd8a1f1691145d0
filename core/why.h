/*
 * why.h - how a check says what is wrong: why_set() writes the reason into
 * the caller's buffer and returns false, so that a check can end with
 * "return why_set(...)". relay.c's and policy.c's parsers, the MTA's facts,
 * the daemons' socket specs and the audit word their reasons with it; the
 * config's checks put "file:line: key: " before them (config_fail()).
 */
#ifndef PG_WHY_H
#define PG_WHY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

static inline __attribute__((format(printf, 3, 4))) bool why_set(char *why, size_t whylen,
                                                                 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return false;
}

#endif
