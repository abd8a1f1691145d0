/*
 * snapshot.c - the config every new connection starts from.
 *
 * One global pointer to an immutable, reference-counted struct pg_config.
 * A connection takes a reference at connect and drops it at close, so every
 * callback of a session sees one whole config even across reloads. The
 * mutex guards only the pointer swap and the retain (once per connection);
 * counting and freeing are config_retain()/config_release()'s job. Loading,
 * its messages and the start-only keys are core/daemon.c's daemon_reload(),
 * the same sequence as portguard-policyd's: a reload that fails keeps the
 * old config.
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "daemon.h"
#include "milter.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pg_config *snap_current;
static const struct daemon_info *snap_daemon;
static const struct daemon_options *snap_options;

void snapshot_init(struct pg_config *cfg, const struct daemon_info *d,
                   const struct daemon_options *o)
{
	snap_daemon = d;
	snap_options = o;
	pthread_mutex_lock(&snap_lock);
	snap_current = cfg;
	pthread_mutex_unlock(&snap_lock);
}

struct pg_config *snapshot_get(void)
{
	struct pg_config *cfg = NULL;

	pthread_mutex_lock(&snap_lock);
	if (snap_current != NULL)
		cfg = config_retain(snap_current);
	pthread_mutex_unlock(&snap_lock);
	return cfg;
}

bool snapshot_reload(void)
{
	struct pg_config *fresh, *old;

	/* reloads run on the signal thread only, so snap_current stays valid
	 * here without the lock: only this thread replaces it */
	fresh = daemon_reload(snap_daemon, snap_options, snap_current);
	if (fresh == NULL)
		return false;
	pthread_mutex_lock(&snap_lock);
	old = snap_current;
	snap_current = fresh;
	pthread_mutex_unlock(&snap_lock);
	if (old != NULL)
		config_release(old);
	return true;
}

void snapshot_shutdown(void)
{
	struct pg_config *old;

	pthread_mutex_lock(&snap_lock);
	old = snap_current;
	snap_current = NULL;
	pthread_mutex_unlock(&snap_lock);
	if (old != NULL)
		config_release(old);
}
