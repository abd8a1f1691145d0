/*
 * listen.c - policy sockets.
 *
 * Input: a listen spec (parsed by core/daemon.c: unix:/path, inet:port@host,
 * inet6:port@host, inet:host:port, inet:[v6addr]:port), the config's
 * socket_mode and the credentials daemon_creds_resolve() found.
 * listen_open() binds one nonblocking listening socket: a unix path is
 * replaced only if what is there is a socket nobody answers on, then gets
 * its mode and owner from daemon_socket_perms(); inet sockets get
 * SO_REUSEADDR (IPv6 ones IPV6_V6ONLY). The privilege drop is core's.
 * listen_close() removes a unix socket only while it is still the file
 * bound (its device and inode), never one another process put there.
 * Failure: every function logs why and returns a sysexits(3) code:
 * EX_USAGE for a bad spec, EX_CANTCREAT when a unix socket cannot be made
 * or given its mode and owner, EX_OSERR for other socket errors.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "policyd.h"

#define LISTEN_BACKLOG 256

static int listen_unix(const char *path, const struct pg_config *cfg,
                       const struct daemon_creds *creds, struct pd_listener *out)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_umask;
	int fd, rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
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
	rc = daemon_socket_perms(path, cfg->policyd_socket_mode, creds);
	if (rc != EX_OK) {
		close(fd);
		unlink(path);
		return rc;
	}
	if (listen(fd, LISTEN_BACKLOG) != 0) {
		log_err("unix:%s: listen: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return EX_OSERR;
	}
	if (lstat(path, &st) != 0) {
		log_err("unix:%s: gone right after bind: %s", path, strerror(errno));
		close(fd);
		return EX_CANTCREAT;
	}
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->fd = fd;
	out->unix_path = strdup(path);
	if (out->unix_path == NULL) {
		log_err("out of memory");
		close(fd);
		return EX_OSERR;
	}
	return EX_OK;
}

static int listen_inet(const char *spec, const struct daemon_sockspec *sp, struct pd_listener *out)
{
	char port[8];
	struct addrinfo hints, *res = NULL;
	int fd, one = 1, rc;

	snprintf(port, sizeof port, "%u", sp->port);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = sp->kind == DAEMON_SOCK_INET6 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(sp->host[0] != '\0' ? sp->host : NULL, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		log_err("%s: %s", spec, rc != 0 ? gai_strerror(rc) : "no address");
		return EX_USAGE;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            res->ai_protocol);
	if (fd < 0) {
		log_err("%s: socket: %s", spec, strerror(errno));
		freeaddrinfo(res);
		return EX_OSERR;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (res->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		log_err("%s: bind: %s", spec, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return EX_OSERR;
	}
	freeaddrinfo(res);
	out->fd = fd;
	return EX_OK;
}

int listen_open(const char *spec, const struct pg_config *cfg, const struct daemon_creds *creds,
                struct pd_listener *out)
{
	struct daemon_sockspec sp;
	char why[160];
	int rc;

	memset(out, 0, sizeof *out);
	out->fd = -1;
	if (!daemon_sockspec_parse(spec, &sp, why, sizeof why)) {
		log_err("%s: %s", spec, why);
		return EX_USAGE;
	}
	if (sp.kind == DAEMON_SOCK_UNIX)
		rc = listen_unix(sp.path, cfg, creds, out);
	else
		rc = listen_inet(spec, &sp, out);
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

void listen_close(struct pd_listener *l, bool unlink_path)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	if (l->unix_path != NULL && unlink_path)
		(void)daemon_socket_remove(l->unix_path, l->dev, l->ino, l->warned);
	free(l->unix_path);
	free(l->spec);
	l->unix_path = NULL;
	l->spec = NULL;
}
