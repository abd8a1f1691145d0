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
#include <stdint.h>
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

/* Property tests: a small generator with a fixed seed (each test sets
 * pg_prop_state), so every run draws the same cases. */
__attribute__((unused)) static uint64_t pg_prop_state;

static inline unsigned pg_prop_next(unsigned bound)
{
	pg_prop_state ^= pg_prop_state << 13;
	pg_prop_state ^= pg_prop_state >> 7;
	pg_prop_state ^= pg_prop_state << 17;
	return (unsigned)(pg_prop_state % bound);
}

/* n bytes and a NUL into dst: one draw in mix + 1 any byte 0x01-0xff, one a
 * byte that is escaped or means something ('"', '\\', space, DEL, bytes from
 * 0x80, control bytes, '<', '>', '[', ']', ':', '='), the rest letters. */
static inline void pg_prop_bytes(char *dst, size_t n, unsigned mix)
{
	static const char hard[] = "\"\\ \x7f\x80\xff\x01\t\r\n<>[]:=";

	for (size_t i = 0; i < n; i++) {
		unsigned r = pg_prop_next(mix + 1);
		if (r == 0)
			dst[i] = (char)(1 + pg_prop_next(255));
		else if (r == 1)
			dst[i] = hard[pg_prop_next(sizeof hard - 1)];
		else
			dst[i] = (char)('a' + pg_prop_next(26));
	}
	dst[n] = '\0';
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
