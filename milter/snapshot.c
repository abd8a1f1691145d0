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
#include <string.h>

#include "log.h"
#include "milter.h"
#include "report.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pg_config *snap_current;
static bool snap_listen_from_cmdline;

void snapshot_init(struct pg_config *cfg, bool listen_from_cmdline)
{
	snap_listen_from_cmdline = listen_from_cmdline;
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

/* Start-only keys the milter does not use: the policy daemon's, and
 * milter.listen when -p names the socket. */
static bool restart_key_ignored(const char *key, void *arg)
{
	(void)arg;
	return strncmp(key, "policyd.", 8) == 0 ||
	       (snap_listen_from_cmdline && strcmp(key, "milter.listen") == 0);
}

bool snapshot_reload(const char *path)
{
	char err[512];
	struct pg_config *fresh, *old;
	char restart_keys[256];

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
	if (old != NULL && config_restart_needed(old, fresh, restart_key_ignored, NULL,
	                                         restart_keys, sizeof restart_keys) > 0)
		log_warnx("reload: changed, but applied only at the next restart: %s; keeping the "
		          "running values (and the open socket)",
		          restart_keys);
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
