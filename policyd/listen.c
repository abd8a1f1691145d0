/*
 * listen.c - policy sockets and privileges.
 *
 * Input: listen specs "unix:/path", "inet:host:port", "inet:[v6addr]:port",
 * the config's user, group, socket_mode and allow_root. listen_open() binds
 * one nonblocking listening socket: a unix path is replaced only if what is
 * there is a socket nobody answers on, then chmod'ed to socket_mode and
 * chown'ed to the user/group; inet sockets get SO_REUSEADDR (IPv6 ones
 * IPV6_V6ONLY). listen_drop_privileges() then becomes the configured user
 * (setgroups, setresgid, setresuid, verified) when started as root.
 * Failure: every function logs why and returns a sysexits(3) code: EX_NOUSER
 * for an unknown user or group, EX_USAGE for a bad spec, EX_CANTCREAT when a
 * unix socket cannot be made, EX_OSERR for other socket and privilege errors.
 */
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "policyd.h"

#define LISTEN_BACKLOG 256

int listen_resolve_creds(const struct pg_config *cfg, struct pd_creds *out)
{
	memset(out, 0, sizeof *out);
	out->uid = geteuid();
	out->gid = getegid();
	if (geteuid() == 0 && !cfg->allow_root) {
		struct passwd *pw;

		errno = 0;
		pw = getpwnam(cfg->user);
		if (pw == NULL) {
			log_err("user \"%s\" does not exist: create it or set user = in %s",
			        cfg->user, cfg->path != NULL ? cfg->path : "the config");
			return EX_NOUSER;
		}
		out->drop = true;
		out->chown_sockets = true;
		out->uid = pw->pw_uid;
		out->gid = pw->pw_gid;
	}
	if (cfg->group[0] != '\0') {
		struct group *gr = getgrnam(cfg->group);

		if (gr == NULL) {
			log_err("group \"%s\" does not exist", cfg->group);
			return EX_NOUSER;
		}
		out->gid = gr->gr_gid;
		out->chown_sockets = true;
	}
	return EX_OK;
}

static int listen_unix(const char *path, const struct pg_config *cfg, const struct pd_creds *creds,
                       struct pd_listener *out)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_umask;
	int fd, rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof sun.sun_path) {
		log_err("unix:%s: the path must be absolute and shorter than %zu bytes", path,
		        sizeof sun.sun_path);
		return EX_USAGE;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err("unix:%s: socket: %s", path, strerror(errno));
		return EX_OSERR;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("unix:%s exists and is not a socket; not removing it", path);
			close(fd);
			return EX_CANTCREAT;
		}
		/* A live daemon answers: do not steal its socket. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
			close(probe);
			close(fd);
			log_err("unix:%s is in use by another process", path);
			return EX_CANTCREAT;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(path) != 0) {
			log_err("unix:%s: cannot remove the stale socket: %s", path,
			        strerror(errno));
			close(fd);
			return EX_CANTCREAT;
		}
	}
	old_umask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old_umask);
	if (rc != 0) {
		log_err("unix:%s: bind: %s", path, strerror(errno));
		close(fd);
		return EX_CANTCREAT;
	}
	if (chmod(path, (mode_t)cfg->policyd_socket_mode) != 0) {
		log_err("unix:%s: chmod %04o: %s", path, cfg->policyd_socket_mode, strerror(errno));
		close(fd);
		unlink(path);
		return EX_CANTCREAT;
	}
	if (creds->chown_sockets &&
	    chown(path, creds->drop ? creds->uid : (uid_t)-1, creds->gid) != 0) {
		log_err("unix:%s: chown: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return EX_CANTCREAT;
	}
	if (listen(fd, LISTEN_BACKLOG) != 0) {
		log_err("unix:%s: listen: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return EX_OSERR;
	}
	out->fd = fd;
	out->unix_path = strdup(path);
	if (out->unix_path == NULL) {
		log_err("out of memory");
		close(fd);
		return EX_OSERR;
	}
	return EX_OK;
}

/* "host:port" or "[v6addr]:port" into host and port. */
static bool inet_split(const char *hp, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = hp, *hend;

	if (*hp == '[') {
		hend = strchr(hp, ']');
		if (hend == NULL || hend[1] != ':')
			return false;
		h = hp + 1;
		colon = hend + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL || memchr(hp, ':', (size_t)(colon - hp)) != NULL)
			return false;
		hend = colon;
	}
	if ((size_t)(hend - h) >= hostlen || strlen(colon + 1) >= portlen || colon[1] == '\0')
		return false;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	strcpy(port, colon + 1);
	for (const char *p = port; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static int listen_inet(const char *hp, struct pd_listener *out)
{
	char host[256], port[8];
	struct addrinfo hints, *res = NULL;
	int fd, one = 1, rc;

	if (!inet_split(hp, host, sizeof host, port, sizeof port)) {
		log_err("inet:%s: expected inet:host:port or inet:[address]:port", hp);
		return EX_USAGE;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] != '\0' && strcmp(host, "*") != 0 ? host : NULL, port, &hints,
	                 &res);
	if (rc != 0 || res == NULL) {
		log_err("inet:%s: %s", hp, rc != 0 ? gai_strerror(rc) : "no address");
		return EX_USAGE;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            res->ai_protocol);
	if (fd < 0) {
		log_err("inet:%s: socket: %s", hp, strerror(errno));
		freeaddrinfo(res);
		return EX_OSERR;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (res->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		log_err("inet:%s: bind: %s", hp, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return EX_OSERR;
	}
	freeaddrinfo(res);
	out->fd = fd;
	return EX_OK;
}

int listen_open(const char *spec, const struct pg_config *cfg, const struct pd_creds *creds,
                struct pd_listener *out)
{
	int rc;

	memset(out, 0, sizeof *out);
	out->fd = -1;
	if (strncmp(spec, "unix:", 5) == 0)
		rc = listen_unix(spec + 5, cfg, creds, out);
	else if (strncmp(spec, "inet:", 5) == 0)
		rc = listen_inet(spec + 5, out);
	else {
		log_err("%s: a listen socket is unix:/path or inet:host:port", spec);
		rc = EX_USAGE;
	}
	if (rc != EX_OK)
		return rc;
	out->spec = strdup(spec);
	if (out->spec == NULL) {
		log_err("out of memory");
		listen_close(out, true);
		return EX_OSERR;
	}
	return EX_OK;
}

int listen_drop_privileges(const struct pg_config *cfg, const struct pd_creds *creds)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() == 0 && cfg->allow_root) {
		log_warnx("running as root: allow_root = true in %s", cfg->path);
		return EX_OK;
	}
	if (!creds->drop)
		return EX_OK;
	if (setgroups(1, &creds->gid) != 0 || setresgid(creds->gid, creds->gid, creds->gid) != 0 ||
	    setresuid(creds->uid, creds->uid, creds->uid) != 0) {
		log_err("cannot become user \"%s\": %s", cfg->user, strerror(errno));
		return EX_OSERR;
	}
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != creds->uid ||
	    eu != creds->uid || su != creds->uid || rg != creds->gid || eg != creds->gid ||
	    sg != creds->gid) {
		log_err("cannot become user \"%s\": ids did not change", cfg->user);
		return EX_OSERR;
	}
	return EX_OK;
}

void listen_close(struct pd_listener *l, bool unlink_path)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	if (l->unix_path != NULL && unlink_path)
		(void)unlink(l->unix_path);
	free(l->unix_path);
	free(l->spec);
	l->unix_path = NULL;
	l->spec = NULL;
}
