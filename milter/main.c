/*
 * main.c - portguard-milter: start-up on core/daemon.c's shared path,
 * smfi_main, shutdown.
 *
 * Order: the shared options and -n; load the config; refuse a pid file of
 * a running process; resolve the user and group; open the libmilter socket
 * (the spec parsed by core, given to libmilter in its own spelling; unix
 * sockets via smfi_opensocket(true), which removes a stale file, under a
 * umask and effective group that make the socket owner-only and of the
 * configured group from the first instant) and set its mode and owner;
 * detach unless -f (the parent waits for the child's start-up and exits
 * with its result); write the pid file; drop privileges; warn if the
 * socket will not be removable at stop; block the signals every thread
 * must not take; "listening on"; start the signal and timer threads;
 * smfi_main(). When libmilter stops (SIGTERM, SIGINT, SIGHUP), write the
 * last stats lines and the "stopping" line, remove the socket (if still
 * ours) and the pid file. Exit codes follow sysexits(3).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "report.h"

static const struct daemon_info milter_info = {MILTER_NAME, "milter", 1};

/* The unix socket, to be removed at stop if it is still ours. */
static struct {
	char path[DAEMON_SOCK_PATH_MAX];
	dev_t dev;
	ino_t ino;
	bool warned; /* at start: it will be left behind */
} sock;

/* libmilter (8.17) binds and listens inside smfi_opensocket() and takes no
 * descriptor of ours: a unix socket is made owner-only by the umask and
 * gets the configured group from the effective gid, both from the first
 * instant; the mode and owner follow. */
static int open_unix(const struct pg_config *cfg, const struct daemon_sockspec *sp,
                     const struct daemon_creds *creds)
{
	mode_t old_umask = umask(0177 | (~(mode_t)cfg->milter_socket_mode & 0777));
	gid_t egid = getegid();
	bool regid = creds->sock_gid != (gid_t)-1 && creds->sock_gid != egid &&
	             setegid(creds->sock_gid) == 0;
	int ok = smfi_opensocket(true);
	struct stat st;
	int rc;

	if (regid && setegid(egid) != 0) {
		log_err("setegid back to %u: %s", (unsigned)egid, strerror(errno));
		return EX_OSERR;
	}
	umask(old_umask);
	if (ok != MI_SUCCESS) {
		log_err("unix:%s: libmilter cannot open the socket", sp->path);
		return EX_CANTCREAT;
	}
	if ((rc = daemon_socket_perms(sp->path, cfg->milter_socket_mode, creds)) != EX_OK) {
		(void)unlink(sp->path);
		return rc;
	}
	if (lstat(sp->path, &st) == 0) {
		snprintf(sock.path, sizeof sock.path, "%s", sp->path);
		sock.dev = st.st_dev;
		sock.ino = st.st_ino;
	}
	return EX_OK;
}

/* Open the socket, give it its mode and owner. */
static int open_socket(const struct pg_config *cfg, const char *spec,
                       const struct daemon_creds *creds)
{
	struct daemon_sockspec sp;
	char why[160], conn[DAEMON_SOCK_PATH_MAX + 16];

	if (!daemon_sockspec_parse(spec, &sp, why, sizeof why)) {
		log_err("%s: %s", spec, why);
		return EX_USAGE;
	}
	if (!daemon_sockspec_format(&sp, conn, sizeof conn) || smfi_setconn(conn) != MI_SUCCESS ||
	    smfi_register(milter_desc) != MI_SUCCESS ||
	    smfi_settimeout((int)cfg->milter_timeout) != MI_SUCCESS) {
		log_err("libmilter refused the socket %s or the filter description", spec);
		return EX_SOFTWARE;
	}
	if (sp.kind == DAEMON_SOCK_UNIX)
		return open_unix(cfg, &sp, creds);
	if (smfi_opensocket(true) != MI_SUCCESS) {
		log_err("%s: libmilter cannot open the socket", spec);
		return EX_CANTCREAT;
	}
	return EX_OK;
}

/* At stop: remove the unix socket unless another process has replaced it. */
static void remove_socket(void)
{
	if (sock.path[0] != '\0')
		(void)daemon_socket_remove(sock.path, sock.dev, sock.ino, sock.warned);
}

/* Everything between the config and smfi_main. */
static int start(const struct pg_config *cfg, const struct daemon_options *o, const char *spec)
{
	struct daemon_creds creds;
	int rc;

	if ((rc = daemon_prepare(&milter_info, o, cfg, spec != NULL && *spec != '\0', &creds)) !=
	        EX_OK ||
	    (rc = open_socket(cfg, spec, &creds)) != EX_OK)
		return rc;
	(void)stats_persist(cfg, milter_info.section, true, creds.drop ? creds.uid : (uid_t)-1,
	                    creds.gid);
	if ((rc = daemon_settle(o, cfg, &creds)) != EX_OK)
		return rc;
	if (sock.path[0] != '\0')
		sock.warned = !daemon_socket_check_removable(sock.path);
	service_block_signals();
	daemon_ready(&milter_info, o, cfg, &spec, 1);
	return EX_OK;
}

int main(int argc, char **argv)
{
	struct daemon_options o;
	struct pg_config *cfg;
	int rc;

	cfg = daemon_begin(&milter_info, argc, argv, &o, &rc);
	if (cfg == NULL)
		return rc;
	rc = start(cfg, &o, o.nlisten > 0 ? o.listen[0] : cfg->milter_listen);
	if (rc != EX_OK) {
		config_release(cfg);
		return daemon_end(&o, rc);
	}
	stats_init(time(NULL));
	snapshot_init(cfg, &milter_info, &o);
	report_config(cfg, MILTER_NAME, "starting");
	(void)metrics_start(cfg, milter_info.section, true);
	if (!service_start()) {
		metrics_stop();
		snapshot_shutdown();
		return daemon_end(&o, EX_OSERR);
	}
	rc = smfi_main();
	service_stop(); /* writes the last stats lines */
	stats_stop(time(NULL));
	metrics_stop();
	cfg = snapshot_get();
	if (cfg != NULL) {
		report_config(cfg, MILTER_NAME, "stopping");
		config_release(cfg);
	}
	snapshot_shutdown();
	remove_socket();
	return daemon_end(&o, rc == MI_SUCCESS ? EX_OK : EX_SOFTWARE);
}
