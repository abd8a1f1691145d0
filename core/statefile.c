/*
 * statefile.c - a small file, mapped into memory, that outlives the process.
 *
 * Opening: an existing DIR/NAME must be a regular file with one link, owned
 * by us or by the user we hand files to; it is locked (flock, kept for as
 * long as the descriptor is open, across the fork of detaching), its header
 * read and checked (magic, checksum, header size, version, payload size
 * against the file size), then mapped and its payload given to the caller's
 * check. Any refusal renames it NAME.bad.EPOCH with a warning and a fresh
 * file takes its place. A fresh file is created with O_EXCL, given to the
 * user, its blocks reserved (posix_fallocate: a store through the mapping
 * can then never meet a full file system, which would be a SIGBUS) and its
 * header written. Failures: one warning naming the file and the reason,
 * STATEFILE_NONE, and the caller counts in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "statefile.h"

#define STATEFILE_MAGIC "PGSTATE"

/* Written once, when the file is made; the payload follows at header_size. */
struct statefile_header {
	char magic[8];         /* STATEFILE_MAGIC, NUL-padded */
	uint32_t version;      /* the payload's format */
	uint32_t header_size;  /* sizeof (struct statefile_header) */
	uint64_t payload_size; /* bytes after the header */
	uint32_t reserved;
	uint32_t checksum; /* FNV-1a of the bytes above */
};

static uint32_t header_sum(const struct statefile_header *h)
{
	const unsigned char *p = (const unsigned char *)h;
	uint32_t sum = 2166136261u;

	for (size_t i = 0; i < offsetof(struct statefile_header, checksum); i++)
		sum = (sum ^ p[i]) * 16777619u;
	return sum;
}

static size_t file_size(const struct statefile *sf)
{
	return sizeof(struct statefile_header) + sf->payload_size;
}

static void close_fd(struct statefile *sf)
{
	if (sf->fd >= 0)
		(void)close(sf->fd);
	sf->fd = -1;
}

static enum statefile_state unusable(struct statefile *sf, const char *why, int err)
{
	log_warnx("state file %s: cannot be used (%s%s%s); counting in memory only", sf->path, why,
	          err != 0 ? ": " : "", err != 0 ? strerror(err) : "");
	close_fd(sf);
	return STATEFILE_NONE;
}

/* A file just created that cannot be used: remove it again. */
static enum statefile_state discard(struct statefile *sf, const char *why, int err)
{
	(void)unlink(sf->path);
	return unusable(sf, why, err);
}

/* Rename the file out of the way; false (logged) if that failed too. */
static bool set_aside(struct statefile *sf, const char *why)
{
	char to[STATEFILE_PATH_MAX + 32];

	snprintf(to, sizeof to, "%s.bad.%lld", sf->path, (long long)time(NULL));
	if (rename(sf->path, to) != 0) {
		unusable(sf, "it is unusable and cannot be renamed", errno);
		return false;
	}
	log_warnx("state file %s: %s; set aside as %s, counting starts afresh", sf->path, why, to);
	close_fd(sf);
	return true;
}

static bool map(struct statefile *sf)
{
	void *p = mmap(NULL, file_size(sf), PROT_READ | PROT_WRITE, MAP_SHARED, sf->fd, 0);

	if (p == MAP_FAILED)
		return false;
	sf->payload = (char *)p + sizeof(struct statefile_header);
	return true;
}

/* Lock it, or say that another process holds it. */
static bool lock(struct statefile *sf)
{
	if (flock(sf->fd, LOCK_EX | LOCK_NB) == 0)
		return true;
	unusable(sf, errno == EWOULDBLOCK ? "another process has it open" : "flock", errno);
	return false;
}

static enum statefile_state create(struct statefile *sf, uint32_t version, uid_t uid, gid_t gid)
{
	struct statefile_header h = {.magic = STATEFILE_MAGIC,
	                             .version = version,
	                             .header_size = sizeof h,
	                             .payload_size = sf->payload_size};
	int err;

	h.checksum = header_sum(&h);
	sf->fd = open(sf->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sf->fd < 0)
		return unusable(sf, "open", errno);
	if (!lock(sf))
		return STATEFILE_NONE;
	if (uid != (uid_t)-1 && fchown(sf->fd, uid, gid) != 0)
		return discard(sf, "chown", errno);
	if ((err = posix_fallocate(sf->fd, 0, (off_t)file_size(sf))) != 0)
		return discard(sf, "reserving its space", err);
	if (pwrite(sf->fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
		return discard(sf, "write", errno);
	if (!map(sf))
		return discard(sf, "mmap", errno);
	return STATEFILE_NEW;
}

/* NULL: the header fits this version and size; else why not. */
static const char *header_fault(const struct statefile_header *h, uint32_t version, off_t size,
                                size_t want, char *buf, size_t buflen)
{
	if (memcmp(h->magic, STATEFILE_MAGIC, sizeof h->magic) != 0 ||
	    h->checksum != header_sum(h) || h->header_size != sizeof *h)
		return "corrupt header";
	if (h->version != version) {
		snprintf(buf, buflen, "from another version (format %u, this is %u)", h->version,
		         version);
		return buf;
	}
	if (h->payload_size != want - sizeof *h || (size_t)size != want) {
		snprintf(buf, buflen, "wrong size (%lld bytes, want %zu)", (long long)size, want);
		return buf;
	}
	return NULL;
}

/* An existing file: FOUND, NEW (set aside and replaced), or NONE. */
static enum statefile_state reuse(struct statefile *sf, uint32_t version, statefile_check *check,
                                  void *arg, uid_t uid, gid_t gid)
{
	struct statefile_header h;
	struct stat st;
	char buf[160];
	const char *fault;

	if (!lock(sf))
		return STATEFILE_NONE;
	if (fstat(sf->fd, &st) != 0)
		return unusable(sf, "fstat", errno);
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (st.st_uid != geteuid() && (uid == (uid_t)-1 || st.st_uid != uid)))
		return unusable(sf, "not a regular file of ours with one link", 0);
	if (st.st_size < (off_t)sizeof h || pread(sf->fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
		fault = "wrong size (shorter than its header)";
	else
		fault = header_fault(&h, version, st.st_size, file_size(sf), buf, sizeof buf);
	if (fault == NULL) {
		if (!map(sf))
			return unusable(sf, "mmap", errno);
		if (check(sf->payload, buf, sizeof buf, arg))
			return STATEFILE_FOUND;
		(void)munmap((char *)sf->payload - sizeof h, file_size(sf));
		sf->payload = NULL;
		fault = buf;
	}
	if (!set_aside(sf, fault))
		return STATEFILE_NONE;
	return create(sf, version, uid, gid);
}

enum statefile_state statefile_open(struct statefile *sf, const char *dir, const char *name,
                                    uint32_t version, size_t payload_size, statefile_check *check,
                                    void *arg, uid_t uid, gid_t gid)
{
	int n = snprintf(sf->path, sizeof sf->path, "%s/%s", dir, name);

	sf->payload = NULL;
	sf->payload_size = payload_size;
	sf->fd = -1;
	if (n < 0 || (size_t)n >= sizeof sf->path)
		return unusable(sf, "path too long", 0);
	sf->fd = open(sf->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (sf->fd >= 0)
		return reuse(sf, version, check, arg, uid, gid);
	if (errno != ENOENT)
		return unusable(sf, "open", errno);
	return create(sf, version, uid, gid);
}

void statefile_sync(struct statefile *sf)
{
	if (sf->payload != NULL)
		(void)msync((char *)sf->payload - sizeof(struct statefile_header), file_size(sf),
		            MS_SYNC);
}

void statefile_close(struct statefile *sf)
{
	if (sf->payload != NULL)
		(void)munmap((char *)sf->payload - sizeof(struct statefile_header), file_size(sf));
	sf->payload = NULL;
	close_fd(sf);
}
