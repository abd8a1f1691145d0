/*
 * privs.c - socket permissions and the privilege drop, after the socket is open.
 *
 * Started as root: chown the unix socket to the configured user (group:
 * the configured socket group, else the user's primary group), chmod it to
 * milter.socket_mode, then setgroups/setresgid/setresuid to that user and
 * check that root cannot be regained. A user or group that does not exist is
 * an error that says so (EX_NOUSER). Staying root needs allow_root = true and
 * is logged as a warning. Started as another user: stay that user; only the
 * mode and (if configured) the group of the socket change. Every failed step
 * is fatal for start-up; the return value is a sysexits(3) code.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "milter.h"

const char *privs_unix_path(const char *spec)
{
	if (spec == NULL)
		return NULL;
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (strchr(spec, ':') == NULL) /* libmilter: no prefix means a unix socket */
		return spec;
	return NULL;
}

static int socket_group(const struct pg_config *cfg, gid_t fallback, gid_t *out)
{
	struct group *gr;

	*out = fallback;
	if (cfg->group[0] == '\0')
		return 0;
	gr = getgrnam(cfg->group);
	if (gr == NULL) {
		log_err("group %s does not exist: create it or change group in %s", cfg->group,
		        cfg->path);
		return EX_NOUSER;
	}
	*out = gr->gr_gid;
	return 0;
}

static int socket_perms(const struct pg_config *cfg, const char *path, uid_t uid, gid_t gid)
{
	if (path == NULL)
		return 0;
	if (chown(path, uid, gid) != 0) {
		log_err("chown %s: %s", path, strerror(errno));
		return EX_NOPERM;
	}
	if (chmod(path, (mode_t)cfg->milter_socket_mode) != 0) {
		log_err("chmod %s to %04o: %s", path, cfg->milter_socket_mode, strerror(errno));
		return EX_NOPERM;
	}
	return 0;
}

int privs_socket_and_drop(const struct pg_config *cfg, const char *socket_path)
{
	struct passwd *pw;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid, sock_gid;
	int rc;

	if (geteuid() != 0) {
		if ((rc = socket_group(cfg, (gid_t)-1, &sock_gid)) != 0)
			return rc;
		return socket_perms(cfg, socket_path, (uid_t)-1, sock_gid);
	}
	if (cfg->allow_root) {
		log_warnx("running as root: allow_root = true in %s", cfg->path);
		if ((rc = socket_group(cfg, 0, &sock_gid)) != 0)
			return rc;
		return socket_perms(cfg, socket_path, 0, sock_gid);
	}
	pw = getpwnam(cfg->user);
	if (pw == NULL) {
		log_err("user %s does not exist: create it, or set user in %s", cfg->user,
		        cfg->path);
		return EX_NOUSER;
	}
	if (pw->pw_uid == 0) {
		log_err("user %s is root: set allow_root = true in %s to keep root", cfg->user,
		        cfg->path);
		return EX_CONFIG;
	}
	if ((rc = socket_group(cfg, pw->pw_gid, &sock_gid)) != 0)
		return rc;
	if ((rc = socket_perms(cfg, socket_path, pw->pw_uid, sock_gid)) != 0)
		return rc;
	if (setgroups(1, &pw->pw_gid) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		log_err("cannot drop privileges to %s: %s", cfg->user, strerror(errno));
		return EX_OSERR;
	}
	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0 ||
	    ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid || rgid != pw->pw_gid ||
	    egid != pw->pw_gid || sgid != pw->pw_gid || setuid(0) == 0) {
		log_err("privilege drop to %s did not hold", cfg->user);
		return EX_OSERR;
	}
	log_info("running as user %s (uid %u)", cfg->user, (unsigned)pw->pw_uid);
	return 0;
}
