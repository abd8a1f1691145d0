/*
 * fakeclock.c - test-only LD_PRELOAD shim: moves CLOCK_MONOTONIC forward.
 *
 * portguard-policyd's idle timeout must exceed 300 s, too long to wait for
 * in a test. This shim adds the number of seconds written in the file named
 * by PG_FAKECLOCK_FILE (re-read on every call; missing file = 0) to
 * CLOCK_MONOTONIC, so the test can age connections instantly. The daemon
 * itself knows nothing about it. Built and used only by tests/policy/run.sh.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_gettime(clockid_t id, struct timespec *ts)
{
	long rc = syscall(SYS_clock_gettime, id, ts);
	const char *path = getenv("PG_FAKECLOCK_FILE");

	if (rc == 0 && id == CLOCK_MONOTONIC && path != NULL) {
		FILE *f = fopen(path, "r");
		long offset = 0;

		if (f != NULL) {
			if (fscanf(f, "%ld", &offset) != 1)
				offset = 0;
			fclose(f);
		}
		ts->tv_sec += offset;
	}
	return (int)rc;
}
