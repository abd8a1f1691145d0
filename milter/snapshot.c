/*
 * snapshot.c - the config every new connection starts from.
 *
 * One global pointer to an immutable, reference-counted struct pg_config.
 * A connection takes a reference at connect and drops it at close, so every
 * callback of a session sees one whole config even across reloads. The
 * mutex guards only the pointer swap and the retain (once per connection);
 * counting and freeing are config_retain()/config_release()'s job. A reload
 * that fails to load keeps the old config and logs "file:line: message".
 * Keys that apply only at start (socket, mode, user, timeout) keep their
 * running value until a restart; the reload says so.
 */
#include <pthread.h>
#include <stddef.h>

#include "log.h"
#include "milter.h"
#include "report.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pg_config *snap_current;

void snapshot_init(struct pg_config *cfg)
{
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

bool snapshot_reload(const char *path)
{
	char err[512];
	struct pg_config *fresh, *old;
	const char *restart_key;

	fresh = config_load(path, err, sizeof err);
	if (fresh == NULL) {
		log_err("reload failed, keeping the running configuration: %s", err);
		return false;
	}
	log_set_facility(fresh->log_facility);
	log_set_level(fresh->log_level);
	pthread_mutex_lock(&snap_lock);
	old = snap_current;
	snap_current = fresh;
	pthread_mutex_unlock(&snap_lock);
	/* reloads run on the signal thread only, so old stays valid until released */
	restart_key = old != NULL ? config_restart_needed(old, fresh) : NULL;
	if (restart_key != NULL)
		log_warnx("reload: %s changed, which takes effect only at the next restart; "
		          "keeping the running value (and the open socket)",
		          restart_key);
	report_config(fresh, MILTER_NAME, "reloaded");
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
