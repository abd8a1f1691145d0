/*
 * reload.c - policyd's reload, off the event loop.
 *
 * A reload of a large config (a million local domains) takes a second or
 * more to read and index, and freeing the old one takes a while too; on the
 * loop's only thread that would stall every connection. So SIGHUP starts a
 * thread that runs daemon_reload_build() (core/daemon.c: load, check, what
 * changed, its log lines kept aside) and then writes to an eventfd. The loop,
 * between requests, takes the result with reload_collect(), which logs it all
 * as daemon_reload() does; the loop swaps the pointer and hands the old
 * config to reload_retire(), which frees it on a thread again. One thread at
 * most is at work: reload_start() says no while one is, and the loop asks
 * again once the eventfd fired. Without a thread (pthread_create failed) the
 * same work runs on the loop, as before. A failed load keeps the running
 * config, with the same lines as always.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "policyd.h"

static struct {
	int fd;
	enum { RELOAD_IDLE = 0, RELOAD_BUILDING, RELOAD_FREEING } state;
	bool threaded; /* thread is to be joined */
	pthread_t thread;
	atomic_bool done; /* the work of state is over */
	const struct daemon_info *d;
	const struct daemon_options *o;
	const struct pg_config *running; /* read by the builder; the loop keeps it */
	struct pg_config *old;           /* freed by the retiring thread */
	struct daemon_reload job;
} R = {.fd = -1};

static void reload_signal(void)
{
	uint64_t one = 1;
	ssize_t ignored;

	atomic_store(&R.done, true);
	ignored = write(R.fd, &one, sizeof one);
	(void)ignored;
}

static void *reload_build(void *arg)
{
	(void)arg;
	daemon_reload_build(R.d, R.o, R.running, &R.job);
	(void)malloc_trim(0); /* the loader's temporaries (libconfig's tree) */
	reload_signal();
	return NULL;
}

static void *reload_free(void *arg)
{
	(void)arg;
	config_free(R.old);
	R.old = NULL;
	(void)malloc_trim(0);
	reload_signal();
	return NULL;
}

static void reload_run(void *(*fn)(void *))
{
	atomic_store(&R.done, false);
	R.threaded = pthread_create(&R.thread, NULL, fn, NULL) == 0;
	if (!R.threaded)
		fn(NULL);
}

int reload_init(void)
{
	/* Memory during a reload (two configs at once) and after it: the
	 * threads share the main malloc arena, so that what one frees the other
	 * reuses, and blocks from 256 KiB up (a large config's arenas, indexes
	 * and lists) always come from mmap and go back to the system when freed;
	 * glibc would otherwise raise that threshold to 32 MiB after the first
	 * such free and keep those blocks in the heap. malloc_trim() returns the
	 * free pages left between the small blocks. */
	(void)mallopt(M_ARENA_MAX, 1);
	(void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	R.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (R.fd < 0)
		log_err("eventfd: %s", strerror(errno));
	return R.fd;
}

bool reload_start(const struct daemon_info *d, const struct daemon_options *o,
                  const struct pg_config *running)
{
	if (R.state != RELOAD_IDLE)
		return false;
	R.d = d;
	R.o = o;
	R.running = running;
	R.state = RELOAD_BUILDING;
	reload_run(reload_build);
	return true;
}

/* The thread of the current state is over: join it. */
static bool reload_over(void)
{
	if (R.state == RELOAD_IDLE || !atomic_load(&R.done))
		return false;
	if (R.threaded)
		(void)pthread_join(R.thread, NULL);
	R.threaded = false;
	return true;
}

struct pg_config *reload_collect(void)
{
	uint64_t n;
	ssize_t ignored = read(R.fd, &n, sizeof n);

	(void)ignored;
	if (!reload_over())
		return NULL;
	if (R.state == RELOAD_FREEING) {
		R.state = RELOAD_IDLE;
		return NULL;
	}
	R.state = RELOAD_IDLE;
	return daemon_reload_finish(R.d, &R.job);
}

void reload_retire(struct pg_config *old)
{
	R.old = old;
	R.state = RELOAD_FREEING;
	reload_run(reload_free);
}

void reload_shutdown(void)
{
	if (R.threaded)
		(void)pthread_join(R.thread, NULL);
	R.threaded = false;
	if (R.state == RELOAD_BUILDING) { /* built, never swapped in */
		config_free(R.job.fresh);
		log_capture_free(&R.job.load_log);
		log_capture_free(&R.job.change_log);
	}
	R.state = RELOAD_IDLE;
	if (R.fd >= 0)
		close(R.fd);
	R.fd = -1;
}
