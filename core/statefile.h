/*
 * statefile.h - a small file, mapped into memory, that outlives the process.
 *
 * The file is a fixed header (magic, format version, header and payload
 * sizes, a checksum of the header) and then the caller's payload, which the
 * caller reads and writes through the mapping: a store is in the file with
 * no system call, and a process killed at any instant leaves its last store
 * there. The file is locked (flock) while open, so a second process cannot
 * share it. A file that is corrupt, of another version or size, or whose
 * payload the caller's check refuses is set aside (renamed NAME.bad.EPOCH)
 * with a warning and replaced by a fresh one. Nothing here is fatal: when
 * the file cannot be used, statefile_open() says why, once, and the caller
 * keeps its data in memory.
 */
#ifndef PG_STATEFILE_H
#define PG_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STATEFILE_PATH_MAX 256

enum statefile_state {
	STATEFILE_NONE = 0, /* not usable: the warning is logged, payload NULL */
	STATEFILE_NEW,      /* created (or replaced): the payload is all zero */
	STATEFILE_FOUND     /* an earlier run's payload, accepted by the check */
};

struct statefile {
	void *payload;
	size_t payload_size;
	int fd;
	char path[STATEFILE_PATH_MAX];
};

/* May the payload of a found file be used? false with why set if not. */
typedef bool statefile_check(const void *payload, char *why, size_t whylen, void *arg);

/* Open (or create) DIR/NAME for a payload of this version and size. uid and
 * gid: the owner to give a file created here ((uid_t)-1: leave). */
enum statefile_state statefile_open(struct statefile *sf, const char *dir, const char *name,
                                    uint32_t version, size_t payload_size, statefile_check *check,
                                    void *arg, uid_t uid, gid_t gid);
/* Write the mapping back to the file and wait for it (a clean stop). */
void statefile_sync(struct statefile *sf);
/* Unmap and close; the file stays. */
void statefile_close(struct statefile *sf);

#endif
