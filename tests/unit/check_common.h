/*
 * check_common.h - shared helpers for the Check unit tests.
 *
 * Each tests/unit/check_<module>.c defines `Suite *module_suite(void)` and
 * ends with PG_CHECK_MAIN(module_suite). Log lines are captured through
 * log_set_hook() so a test can assert on what portguard would have logged.
 */
#ifndef PG_CHECK_COMMON_H
#define PG_CHECK_COMMON_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define PG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Captured log output: every line, '\n'-separated. */
static char pg_captured[65536];

static void pg_capture_hook(int level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	size_t used = strlen(pg_captured);
	snprintf(pg_captured + used, sizeof pg_captured - used, "%s\n", line);
}

static inline void pg_capture_start(void)
{
	pg_captured[0] = '\0';
	log_set_hook(pg_capture_hook, NULL);
}

static inline const char *pg_captured_log(void)
{
	return pg_captured;
}

/* Write text to a new temporary file; returns its path (static storage per call site). */
static inline char *pg_write_temp(const char *text)
{
	char tmpl[] = "/tmp/pg-unit-XXXXXX";
	int fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	size_t len = strlen(text);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return strdup(tmpl);
}

#define PG_CHECK_MAIN(suite_fn)                                                        \
	int main(void)                                                                 \
	{                                                                              \
		log_init("portguard-test", 1, 0);                                      \
		log_set_level(7);                                                      \
		SRunner *sr = srunner_create(suite_fn());                              \
		srunner_run_all(sr, CK_NORMAL);                                        \
		int failed = srunner_ntests_failed(sr);                                \
		srunner_free(sr);                                                      \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                      \
	}

#endif
