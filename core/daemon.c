/*
 * daemon.c - one start-up path for portguard-policyd and portguard-milter.
 *
 * Inputs: the command line (-c -f -e -n -p -P -V -h, --help, --version),
 * the config's user, group, allow_root and socket mode. Outputs: options,
 * a loaded config, credentials, a pid file, a detached process that has
 * become the configured user (initgroups, setresgid, setresuid, and a check
 * that root cannot be regained). Until daemon_ready() every logged line goes
 * to stderr, and warnings and errors also to syslog unless -e, so a failed
 * start is seen on the terminal and in the mail log alike.
 * Failure: each step logs one line that names what failed and returns a
 * sysexits(3) code: EX_USAGE command line, EX_CONFIG configuration,
 * EX_NOUSER unknown user or group, EX_CANTCREAT a socket file or pid file
 * that cannot be made, EX_OSERR system calls (fork, privilege drop).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "audit.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "mtafacts.h"
#include "report.h"
#include "stats.h"
#include "version.h"
#include "why.h"

#ifndef PG_SYSCONFDIR
#define PG_SYSCONFDIR "/etc"
#endif
#define DAEMON_DEFAULT_CONFIG PG_SYSCONFDIR "/portguard/portguard.conf"

_Static_assert(DAEMON_SOCK_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path),
               "DAEMON_SOCK_PATH_MAX is sun_path's size");

static const char sockspec_usage[] =
    "use unix:/path, inet:port@host, inet6:port@host, inet:host:port or inet:[address]:port";

/* ---- command line ---- */

void daemon_usage(const struct daemon_info *d, FILE *to)
{
	fprintf(to,
	        "usage: %s [-fenVh] [-c FILE] [-p SPEC]... [-P FILE]\n"
	        "  -c FILE        configuration file (default %s)\n"
	        "  -f             stay in the foreground\n"
	        "  -e             log to stderr instead of syslog\n"
	        "  -n             check the configuration and exit\n"
	        "  -p SPEC        listen on SPEC instead of the configured socket: unix:/path,\n"
	        "                 inet:port@host, inet6:port@host, inet:host:port or\n"
	        "                 inet:[address]:port (portguard-policyd takes up to %d,\n"
	        "                 portguard-milter one)\n"
	        "  -P FILE        write the process id to FILE, remove it at exit\n"
	        "  -V, --version  print the version and exit\n"
	        "  -h, --help     print this help and exit\n",
	        d->name, DAEMON_DEFAULT_CONFIG, PG_MAX_LISTEN);
}

static int usage_error(const struct daemon_info *d, FILE *err, const char *fmt, ...)
    PG_PRINTF(3, 4);
static int usage_error(const struct daemon_info *d, FILE *err, const char *fmt, ...)
{
	va_list ap;

	fprintf(err, "%s: ", d->name);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	daemon_usage(d, err);
	return EX_USAGE;
}

void daemon_options_free(struct daemon_options *o)
{
	free(o->config_path);
	o->config_path = NULL;
}

int daemon_options_parse(const struct daemon_info *d, int argc, char **argv,
                         struct daemon_options *o, FILE *out, FILE *err, bool *done)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = DAEMON_DEFAULT_CONFIG;
	char why[160];
	int ch;

	memset(o, 0, sizeof *o);
	*done = false;
	optind = 0; /* glibc: a full reset, so the parser can run more than once */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:fenp:P:Vh", longopts, NULL)) != -1) {
		struct daemon_sockspec sp;

		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'e':
			o->to_stderr = true;
			break;
		case 'n':
			o->check_only = true;
			break;
		case 'p':
			if (o->nlisten >= d->max_listen)
				return usage_error(d, err, "at most %zu -p option%s", d->max_listen,
				                   d->max_listen == 1 ? "" : "s");
			if (!daemon_sockspec_parse(optarg, &sp, why, sizeof why))
				return usage_error(d, err, "-p %s: %s", optarg, why);
			o->listen[o->nlisten++] = optarg;
			break;
		case 'P':
			if (optarg[0] != '/')
				return usage_error(
				    d, err, "-P %s: the pid file must be an absolute path", optarg);
			o->pid_file = optarg;
			break;
		case 'V':
			fprintf(out, "%s %s\n", d->name, PG_VERSION);
			*done = true;
			return EX_OK;
		case 'h':
			daemon_usage(d, out);
			*done = true;
			return EX_OK;
		case ':':
			return usage_error(d, err, "option -%c needs a value", optopt);
		default:
			if (optopt != 0)
				return usage_error(d, err, "unknown option -%c", optopt);
			return usage_error(d, err, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(d, err, "unexpected argument \"%s\"", argv[optind]);
	/* A reload rereads the file after detaching changed to "/". */
	o->config_path = realpath(config, NULL);
	if (o->config_path == NULL)
		o->config_path = strdup(config);
	if (o->config_path == NULL) {
		fprintf(err, "%s: out of memory\n", d->name);
		return EX_OSERR;
	}
	return EX_OK;
}

/* ---- start-up logging ---- */

/* Until daemon_ready(): a copy of warnings and errors for syslog. */
static void startup_to_syslog(int level, const char *line, void *arg)
{
	(void)arg;
	if (level <= LOG_WARNING)
		syslog(level, "%s", line);
}

static void startup_logging(const struct daemon_info *d, const struct daemon_options *o,
                            int facility)
{
	log_init(d->name, true, facility);
	if (!o->to_stderr && !o->check_only) {
		openlog(d->name, LOG_PID, facility);
		log_set_hook(startup_to_syslog, NULL);
	} else {
		log_set_hook(NULL, NULL);
	}
}

/* ---- the configuration ---- */

struct pg_config *daemon_config_load(const struct daemon_info *d, const struct daemon_options *o,
                                     int *rc)
{
	struct pg_config *cfg;
	char err[512];

	startup_logging(d, o, LOG_MAIL);
	err[0] = '\0';
	cfg = config_load(o->config_path, err, sizeof err);
	if (cfg != NULL && !mtafacts_check_domains(cfg, err, sizeof err)) {
		config_free(cfg);
		cfg = NULL;
	}
	if (cfg == NULL) {
		if (o->check_only)
			fprintf(stderr, "%s\n", err);
		else
			log_err("%s", err);
		*rc = EX_CONFIG;
		return NULL;
	}
	if (o->check_only) {
		struct daemon_creds c;

		/* The user and group a start would need (the user only as root). */
		*rc = daemon_creds_resolve(cfg, &c, err, sizeof err);
		if (*rc != EX_OK)
			fprintf(stderr, "%s\n", err);
		else
			printf("%s: configuration OK: %s\n", d->name, o->config_path);
		config_free(cfg);
		return NULL;
	}
	startup_logging(d, o, cfg->log_facility);
	log_set_level(cfg->log_level);
	audit_log_own(cfg, d->section);
	*rc = EX_OK;
	return cfg;
}

struct pg_config *daemon_begin(const struct daemon_info *d, int argc, char **argv,
                               struct daemon_options *o, int *rc)
{
	struct pg_config *cfg = NULL;
	bool done;

	*rc = daemon_options_parse(d, argc, argv, o, stdout, stderr, &done);
	if (*rc == EX_OK && !done)
		cfg = daemon_config_load(d, o, rc);
	if (cfg == NULL)
		daemon_options_free(o);
	return cfg;
}

int daemon_end(struct daemon_options *o, int rc)
{
	daemon_pidfile_remove();
	daemon_options_free(o);
	return rc;
}

/* ---- socket specs ---- */

/* 1..65535, digits only. */
static bool port_parse(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = v;
	return true;
}

/* A host name or IPv4 literal (letters, digits, '.', '-', '_'), or "*"
 * for every address; an IPv6 literal when v6. Copied into out. */
static bool host_parse(const char *s, size_t n, bool v6, char *out)
{
	if (n > DAEMON_SOCK_HOST_MAX)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	if (strcmp(out, "*") == 0) {
		out[0] = '\0';
		return true;
	}
	if (v6) {
		unsigned char a[16];
		if (inet_pton(AF_INET6, out, a) == 1)
			return true;
	}
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '.' && c != '-' && c != '_')
			return false;
	}
	return true;
}

static bool sockspec_unix(const char *path, struct daemon_sockspec *out, char *why, size_t whylen)
{
	size_t n = strlen(path);

	if (path[0] != '/')
		return why_set(why, whylen, "the socket path must be absolute (start with /)");
	if (n >= sizeof out->path)
		return why_set(why, whylen, "the socket path is longer than %zu bytes",
		               sizeof out->path - 1);
	out->kind = DAEMON_SOCK_UNIX;
	memcpy(out->path, path, n + 1);
	return true;
}

/* After "inet:" or "inet6:". */
static bool sockspec_inet(const char *p, bool v6, struct daemon_sockspec *out, char *why,
                          size_t whylen)
{
	const char *at = strchr(p, '@'), *colon, *h, *hend;

	out->kind = v6 ? DAEMON_SOCK_INET6 : DAEMON_SOCK_INET;
	/* libmilter: port[@host]; a word without '@' or ':' is a host missing its port */
	if (at != NULL || strspn(p, "0123456789") == strlen(p)) {
		size_t plen = at != NULL ? (size_t)(at - p) : strlen(p);
		if (!port_parse(p, plen, &out->port))
			return why_set(why, whylen, "the port must be 1..65535");
		if (at == NULL)
			return true;
		h = at + 1;
		hend = h + strlen(h);
		if (v6 && *h == '[' && hend > h + 1 && hend[-1] == ']') {
			h++;
			hend--;
		}
		if (!host_parse(h, (size_t)(hend - h), v6, out->host))
			return why_set(why, whylen, "bad host after '@'");
		return true;
	}
	if (*p == '[') { /* [v6address]:port */
		hend = strchr(p, ']');
		if (hend == NULL || hend[1] != ':' ||
		    !host_parse(p + 1, (size_t)(hend - p - 1), true, out->host) ||
		    out->host[0] == '\0')
			return why_set(why, whylen, "bad IPv6 address in brackets");
		out->kind = DAEMON_SOCK_INET6;
		colon = hend + 1;
	} else { /* host:port */
		if (v6)
			return why_set(why, whylen, "inet6 takes port@host");
		colon = strrchr(p, ':');
		if (colon == NULL ||
		    (colon != p && !host_parse(p, (size_t)(colon - p), false, out->host)))
			return why_set(why, whylen, "bad or missing host");
	}
	if (!port_parse(colon + 1, strlen(colon + 1), &out->port))
		return why_set(why, whylen, "the port must be 1..65535");
	return true;
}

bool daemon_sockspec_check(const char *s, struct daemon_sockspec *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	if (strncmp(s, "unix:", 5) == 0)
		return sockspec_unix(s + 5, out, why, whylen);
	if (strncmp(s, "local:", 6) == 0)
		return sockspec_unix(s + 6, out, why, whylen);
	if (strncmp(s, "inet:", 5) == 0)
		return sockspec_inet(s + 5, false, out, why, whylen);
	if (strncmp(s, "inet6:", 6) == 0)
		return sockspec_inet(s + 6, true, out, why, whylen);
	return why_set(why, whylen, "unknown socket type");
}

bool daemon_sockspec_parse(const char *s, struct daemon_sockspec *out, char *why, size_t whylen)
{
	char reason[64];

	if (daemon_sockspec_check(s, out, reason, sizeof reason))
		return true;
	return why_set(why, whylen, "%s: %s", reason, sockspec_usage);
}

bool daemon_sockspec_format(const struct daemon_sockspec *sp, char *buf, size_t buflen)
{
	int n;

	if (sp->kind == DAEMON_SOCK_UNIX)
		n = snprintf(buf, buflen, "unix:%s", sp->path);
	else
		n = snprintf(buf, buflen, "%s:%u%s%s",
		             sp->kind == DAEMON_SOCK_INET6 ? "inet6" : "inet", sp->port,
		             sp->host[0] != '\0' ? "@" : "", sp->host);
	return n >= 0 && (size_t)n < buflen;
}

/* ---- privileges ---- */

static const char *cfg_file(const struct pg_config *cfg)
{
	return cfg->path != NULL && cfg->path[0] != '\0' ? cfg->path : "the configuration file";
}

int daemon_creds_resolve(const struct pg_config *cfg, struct daemon_creds *out, char *why,
                         size_t whylen)
{
	memset(out, 0, sizeof *out);
	out->uid = out->sock_uid = (uid_t)-1;
	out->gid = out->sock_gid = (gid_t)-1;
	snprintf(out->user, sizeof out->user, "%s", cfg->user);
	if (geteuid() == 0 && !cfg->allow_root) {
		struct passwd *pw = getpwnam(cfg->user);

		if (pw == NULL) {
			why_set(why, whylen,
			        "user \"%s\" does not exist: create it or set user in %s",
			        cfg->user, cfg_file(cfg));
			return EX_NOUSER;
		}
		if (pw->pw_uid == 0) {
			why_set(why, whylen,
			        "user \"%s\" is root: set allow_root = true in %s to keep root",
			        cfg->user, cfg_file(cfg));
			return EX_CONFIG;
		}
		out->drop = true;
		out->uid = out->sock_uid = pw->pw_uid;
		out->gid = out->sock_gid = pw->pw_gid;
	}
	if (cfg->group[0] != '\0') {
		struct group *gr = getgrnam(cfg->group);

		if (gr == NULL) {
			why_set(why, whylen,
			        "group \"%s\" does not exist: create it or set group in %s",
			        cfg->group, cfg_file(cfg));
			return EX_NOUSER;
		}
		out->sock_gid = gr->gr_gid;
	}
	return EX_OK;
}

int daemon_socket_perms(const char *path, unsigned mode, const struct daemon_creds *c)
{
	if (chmod(path, (mode_t)mode) != 0) {
		log_err("unix:%s: chmod %04o: %s", path, mode, strerror(errno));
		return EX_CANTCREAT;
	}
	if ((c->sock_uid != (uid_t)-1 || c->sock_gid != (gid_t)-1) &&
	    chown(path, c->sock_uid, c->sock_gid) != 0) {
		log_err("unix:%s: chown: %s", path, strerror(errno));
		return EX_CANTCREAT;
	}
	return EX_OK;
}

bool daemon_socket_removable(const char *path, char *why, size_t whylen)
{
	char dir[DAEMON_SOCK_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 0 : (size_t)(slash - path);
	struct stat ds, ss;
	uid_t me = geteuid();

	if (slash == NULL || n >= sizeof dir)
		snprintf(dir, sizeof dir, "%s", slash == NULL ? "." : path);
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(n == 0 ? 1 : n), path);
	if (access(dir, W_OK | X_OK) != 0) {
		why_set(why, whylen, "its directory %s is not writable by uid %u: %s", dir,
		        (unsigned)me, strerror(errno));
		return false;
	}
	if (stat(dir, &ds) == 0 && (ds.st_mode & S_ISVTX) != 0 && ds.st_uid != me &&
	    lstat(path, &ss) == 0 && ss.st_uid != me) {
		why_set(
		    why, whylen,
		    "its directory %s is sticky and neither it nor the socket belongs to uid %u",
		    dir, (unsigned)me);
		return false;
	}
	return true;
}

bool daemon_socket_check_removable(const char *path)
{
	char why[DAEMON_SOCK_PATH_MAX + 160];

	if (daemon_socket_removable(path, why, sizeof why))
		return true;
	log_warnx("unix:%s will be left behind at stop: %s; remove it after a stop, or "
	          "let the daemon's user write to that directory",
	          path, why);
	return false;
}

bool daemon_socket_remove(const char *path, dev_t dev, ino_t ino, bool warned)
{
	struct stat st;

	if (lstat(path, &st) != 0 || st.st_dev != dev || st.st_ino != ino)
		return false; /* gone, or another process's now */
	if (unlink(path) == 0)
		return true;
	if (!warned)
		log_warnx("unix:%s: cannot remove the socket at stop: %s", path, strerror(errno));
	return false;
}

static int drop_failed(const struct daemon_creds *c, const char *step)
{
	log_err("cannot drop privileges to user \"%s\": %s: %s", c->user, step, strerror(errno));
	return EX_OSERR;
}

int daemon_drop(const struct pg_config *cfg, const struct daemon_creds *c)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() == 0 && !c->drop) {
		log_warnx("running as root: allow_root = true in %s", cfg_file(cfg));
		return EX_OK;
	}
	if (!c->drop)
		return EX_OK;
	if (initgroups(c->user, c->gid) != 0)
		return drop_failed(c, "initgroups");
	if (setresgid(c->gid, c->gid, c->gid) != 0)
		return drop_failed(c, "setresgid");
	if (setresuid(c->uid, c->uid, c->uid) != 0)
		return drop_failed(c, "setresuid");
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != c->uid ||
	    eu != c->uid || su != c->uid || rg != c->gid || eg != c->gid || sg != c->gid) {
		errno = EPERM;
		return drop_failed(c, "the ids did not change");
	}
	if (setuid(0) == 0 || seteuid(0) == 0 || (c->gid != 0 && setgid(0) == 0)) {
		errno = EPERM;
		return drop_failed(c, "root could be regained");
	}
	log_info("running as user %s (uid %u, gid %u)", c->user, (unsigned)c->uid,
	         (unsigned)c->gid);
	return EX_OK;
}

/* ---- detaching and the pid file ---- */

static int ready_fd = -1;   /* the write end the waiting parent reads */
static int pidfile_fd = -1; /* kept open to empty the file if it cannot be removed */
static char *pidfile_path;

/* The pid in path when it names a running process, else 0. */
static pid_t pidfile_live(const char *path)
{
	char buf[32];
	ssize_t n;
	long v;
	char *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || v <= 0 || v == getpid())
		return 0;
	if (kill((pid_t)v, 0) == 0 || errno == EPERM)
		return (pid_t)v;
	return 0;
}

int daemon_pidfile_check(const char *path)
{
	pid_t pid;

	if (path == NULL)
		return EX_OK;
	pid = pidfile_live(path);
	if (pid != 0) {
		log_err("pid file %s: process %ld is running; not starting a second one", path,
		        (long)pid);
		return EX_CANTCREAT;
	}
	return EX_OK;
}

int daemon_pidfile_write(const char *path)
{
	char buf[32];
	int n, fd, rc;

	if (path == NULL)
		return EX_OK;
	if ((rc = daemon_pidfile_check(path)) != EX_OK)
		return rc;
	(void)unlink(path); /* stale: replace it, never write through a link */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("pid file %s: %s", path, strerror(errno));
		return EX_CANTCREAT;
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		log_err("pid file %s: write: %s", path, strerror(errno));
		close(fd);
		(void)unlink(path);
		return EX_CANTCREAT;
	}
	pidfile_path = strdup(path);
	if (pidfile_path == NULL) {
		log_err("out of memory");
		close(fd);
		(void)unlink(path);
		return EX_OSERR;
	}
	pidfile_fd = fd;
	return EX_OK;
}

void daemon_pidfile_remove(void)
{
	if (pidfile_path == NULL)
		return;
	/* Started as root in a directory only root may change: empty it, so
	 * that it is stale for the next start and for the init script. */
	if (unlink(pidfile_path) != 0 && pidfile_fd >= 0 && ftruncate(pidfile_fd, 0) != 0)
		log_warn("pid file %s: cannot remove or empty it", pidfile_path);
	if (pidfile_fd >= 0)
		close(pidfile_fd);
	pidfile_fd = -1;
	free(pidfile_path);
	pidfile_path = NULL;
}

/* The parent: wait for the child's "ready" byte or its exit. */
static _Noreturn void detach_wait(pid_t child, int fd)
{
	char b;
	ssize_t n;
	int st;

	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(EX_OK);
	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			_exit(EX_OSERR);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : EX_SOFTWARE);
}

int daemon_detach(const struct daemon_options *o)
{
	int fds[2];
	pid_t pid;

	if (o->foreground)
		return EX_OK;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_err("cannot detach: pipe: %s", strerror(errno));
		return EX_OSERR;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_err("cannot detach: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return EX_OSERR;
	}
	if (pid > 0) {
		close(fds[1]);
		detach_wait(pid, fds[0]);
	}
	close(fds[0]);
	ready_fd = fds[1];
	if (setsid() < 0) {
		log_err("cannot detach: setsid: %s", strerror(errno));
		return EX_OSERR;
	}
	return EX_OK;
}

void daemon_ready(const struct daemon_info *d, const struct daemon_options *o,
                  const struct pg_config *cfg, const char *const *specs, size_t nspecs)
{
	log_set_hook(NULL, NULL);
	if (ready_fd >= 0) {
		int fd;

		if (chdir("/") != 0)
			log_warn("chdir /");
		if (!o->to_stderr && (fd = open("/dev/null", O_RDWR)) >= 0) {
			(void)dup2(fd, STDIN_FILENO);
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
	}
	log_init(d->name, o->to_stderr, cfg->log_facility);
	for (size_t i = 0; i < nspecs; i++)
		log_notice("listening on %s", specs[i]);
	if (ready_fd >= 0) {
		ssize_t ignored = write(ready_fd, "", 1);
		(void)ignored;
		close(ready_fd);
		ready_fd = -1;
	}
}

/* ---- the steps around binding ---- */

int daemon_prepare(const struct daemon_info *d, const struct daemon_options *o,
                   const struct pg_config *cfg, size_t nspecs, struct daemon_creds *creds)
{
	char why[512];
	int rc;

	if (nspecs == 0) {
		log_err("no listen socket: set %s.listen in %s or use -p", d->section,
		        o->config_path);
		return EX_CONFIG;
	}
	if ((rc = daemon_pidfile_check(o->pid_file)) != EX_OK)
		return rc;
	if ((rc = daemon_creds_resolve(cfg, creds, why, sizeof why)) != EX_OK)
		log_err("%s", why);
	return rc;
}

int daemon_settle(const struct daemon_options *o, const struct pg_config *cfg,
                  const struct daemon_creds *creds)
{
	int rc;

	if ((rc = daemon_detach(o)) != EX_OK || (rc = daemon_pidfile_write(o->pid_file)) != EX_OK)
		return rc;
	return daemon_drop(cfg, creds);
}

/* ---- reload ---- */

struct reload_ctx {
	const struct daemon_info *d;
	const struct daemon_options *o;
};

/* Start-only keys this daemon does not use: the other daemon's section, and
 * its own listen key when -p names the sockets. */
static bool restart_key_ignored(const char *key, void *arg)
{
	const struct reload_ctx *x = arg;
	size_t n = strlen(x->d->section);
	bool own = strncmp(key, x->d->section, n) == 0 && key[n] == '.';

	if (own)
		return x->o->nlisten > 0 && strcmp(key + n + 1, "listen") == 0;
	return strncmp(key, "policyd.", 8) == 0 || strncmp(key, "milter.", 7) == 0;
}

void daemon_reload_build(const struct daemon_info *d, const struct daemon_options *o,
                         const struct pg_config *running, struct daemon_reload *r)
{
	struct reload_ctx x = {d, o};

	memset(r, 0, sizeof *r);
	log_capture_start(&r->load_log);
	r->fresh = config_load(o->config_path, r->err, sizeof r->err);
	if (r->fresh != NULL && !mtafacts_check_domains(r->fresh, r->err, sizeof r->err)) {
		config_free(r->fresh);
		r->fresh = NULL;
	}
	log_capture_stop();
	if (r->fresh == NULL)
		return;
	config_restart_needed(running, r->fresh, restart_key_ignored, &x, r->keys, sizeof r->keys);
	log_capture_start(&r->change_log);
	mtafacts_log_changes(running, r->fresh);
	log_capture_stop();
	log_capture_start(&r->audit_log); /* postconf runs here, off the loop */
	audit_log_own(r->fresh, d->section);
	log_capture_stop();
}

struct pg_config *daemon_reload_finish(const struct daemon_info *d, struct daemon_reload *r)
{
	log_capture_replay(&r->load_log);
	if (r->fresh == NULL) {
		log_err("reload failed: %s; keeping the running configuration", r->err);
		log_capture_free(&r->change_log);
		log_capture_free(&r->audit_log);
		metrics_reload_failed();
		return NULL;
	}
	if (r->keys[0] != '\0')
		log_warnx("reload: changed, but applied only at the next restart: %s; keeping the "
		          "running values (and the open sockets)",
		          r->keys);
	log_set_facility(r->fresh->log_facility);
	log_set_level(r->fresh->log_level);
	log_capture_replay(&r->change_log);
	report_config(r->fresh, d->name, "reloaded");
	log_capture_replay(&r->audit_log);
	stats_config(r->fresh);
	metrics_reloaded(r->fresh);
	return r->fresh;
}

struct pg_config *daemon_reload(const struct daemon_info *d, const struct daemon_options *o,
                                const struct pg_config *running)
{
	struct daemon_reload r;

	daemon_reload_build(d, o, running, &r);
	return daemon_reload_finish(d, &r);
}
