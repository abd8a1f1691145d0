/*
 * main.c - portguard-policyd's start-up, on core/daemon.c's shared path.
 *
 * Order: the shared options and -n; load the config; refuse a pid file of a
 * running process; resolve the user and group; bind every listen socket
 * (the -p list replaces policyd.listen); detach unless -f (the parent waits
 * for the child's start-up and exits with its result); write the pid file;
 * drop privileges; warn about unix sockets it will not be able to remove at
 * stop; log "listening on" per socket and hand over to the
 * event loop. Start-up problems are logged (stderr, and syslog unless -e)
 * and end the process with a sysexits(3) code (see core/daemon.h).
 */
#include <signal.h>
#include <sysexits.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "policyd.h"
#include "stats.h"

static const struct daemon_info pd_info = {PD_NAME, "policyd", PG_MAX_LISTEN};

/* The loop's signals (loop.c takes them with a signalfd), blocked before
 * "listening on" so that a signal sent once that line is out is never
 * fatal. */
static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Everything between the config and the loop; *nopen sockets are bound. */
static int start(const struct pg_config *cfg, const struct daemon_options *o,
                 struct pd_listener *ls, size_t *nopen)
{
	const char *const *specs =
	    o->nlisten > 0 ? o->listen : (const char *const *)cfg->policyd_listen;
	size_t nspecs = o->nlisten > 0 ? o->nlisten : cfg->policyd_nlisten;
	struct daemon_creds creds;
	int rc;

	if ((rc = daemon_prepare(&pd_info, o, cfg, nspecs, &creds)) != EX_OK)
		return rc;
	for (size_t i = 0; i < nspecs; i++) {
		if ((rc = listen_open(specs[i], cfg, &creds, &ls[i])) != EX_OK)
			return rc;
		(*nopen)++;
	}
	(void)stats_persist(cfg, pd_info.section, false, creds.drop ? creds.uid : (uid_t)-1,
	                    creds.gid);
	if ((rc = daemon_settle(o, cfg, &creds)) != EX_OK)
		return rc;
	for (size_t i = 0; i < nspecs; i++)
		if (ls[i].unix_path != NULL)
			ls[i].warned = !daemon_socket_check_removable(ls[i].unix_path);
	block_signals();
	daemon_ready(&pd_info, o, cfg, specs, nspecs);
	return EX_OK;
}

int main(int argc, char **argv)
{
	struct daemon_options o;
	struct pd_listener listeners[PG_MAX_LISTEN];
	struct pg_config *cfg;
	size_t nopen = 0;
	int rc;

	cfg = daemon_begin(&pd_info, argc, argv, &o, &rc);
	if (cfg == NULL)
		return rc;
	rc = start(cfg, &o, listeners, &nopen);
	if (rc != EX_OK) {
		for (size_t i = 0; i < nopen; i++)
			listen_close(&listeners[i], true);
		config_free(cfg);
		return daemon_end(&o, rc);
	}
	stats_init(time(NULL));
	(void)metrics_start(cfg, pd_info.section, false);
	rc = loop_run(cfg, &pd_info, &o, listeners, nopen);
	stats_stop(time(NULL));
	metrics_stop();
	stats_reset_all();
	return daemon_end(&o, rc);
}
