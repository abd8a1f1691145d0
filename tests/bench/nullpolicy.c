/*
 * nullpolicy.c - the "null" policy server: the ceiling for portguard-policyd.
 *
 * Usage: nullpolicy [-m max_connections] [-l every] unix:/path | /path
 *
 * Listens on a unix socket, serves every connection from one epoll loop (the
 * same model as portguard-policyd, so the comparison is fair), reads each
 * request up to the blank line (bounded by PG_POLICY_MAX_REQUEST) and answers
 * "action=DUNNO\n\n" without parsing anything. A request over the bound, or a
 * peer that closes, ends that connection only. SIGTERM/SIGINT: unlink the
 * socket and exit 0. Start-up errors exit 1 with a message on stderr.
 *
 * -l EVERY: the null server that also logs, as a server that refuses must
 * (SPEC: one line per refusal). After every EVERY-th answer it adds a copy of
 * decision_line below (289 bytes, the mean length of portguard-policyd's
 * reject lines in tests/bench/large.sh's mix) to a batch written to stderr
 * before the loop waits again, PIPE_BUF bytes at most per write(2): what
 * policyd's logbatch does with the lines of one pass. What this costs is the part of the gap to
 * the null server that no parsing or deciding, however fast, can close.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pg_limits.h"

enum { NULL_MAX_EVENTS = 256, NULL_DEFAULT_MAX_CONN = 1100 };

static const char reply[] = "action=DUNNO\n\n";

/* One client connection; allocated at accept, freed at close (like a real server). */
struct conn {
	int fd;
	size_t len;  /* bytes held in buf */
	size_t scan; /* bytes of buf already searched for the blank line */
	char buf[PG_POLICY_MAX_REQUEST];
};

static volatile sig_atomic_t stop_requested;

/* -l: a reject line as portguard-policyd writes it for large.sh's mix */
static const char decision_line[] =
    "portguard-policyd[4242]: A7BE4C0CBD: reject: port=25 role=relay mode=enforce "
    "client=mta8.example.net[80.246.82.8]:45214 tls=TLSv1.2 cipher=TLS_AES_256_GCM_SHA384 "
    "bits=256 sasl_method=- sasl_username=- rcpt=<mallory@customer1151757.example> rule=relay "
    "reply=\"554 5.7.1 Relay access denied\"\n";
static unsigned log_every; /* 0: no lines */
static unsigned log_count;
static char log_buf[PIPE_BUF];
static size_t log_len;

static void log_flush(void)
{
	if (log_len > 0 && write(STDERR_FILENO, log_buf, log_len) < 0 && errno != EAGAIN) {
		perror("nullpolicy: write to stderr");
		exit(1);
	}
	log_len = 0;
}

static void log_answered(void)
{
	if (log_every == 0 || ++log_count < log_every)
		return;
	log_count = 0;
	if (log_len + sizeof decision_line - 1 > sizeof log_buf)
		log_flush();
	memcpy(log_buf + log_len, decision_line, sizeof decision_line - 1);
	log_len += sizeof decision_line - 1;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void conn_close(int ep, struct conn *c, unsigned *nconn)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	(*nconn)--;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false; /* EAGAIN: peer not reading; a policy client always reads */
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/*
 * Read what is there; answer every complete request. Returns false when the
 * connection must be closed (EOF, error, request over the bound).
 */
static bool conn_readable(struct conn *c)
{
	ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
	if (r == 0)
		return false;
	if (r < 0)
		return errno == EAGAIN || errno == EINTR;
	c->len += (size_t)r;
	for (;;) {
		/* A blank line is "\n\n"; start one byte back so a split pair is found.
		 * memchr, as a minimal real server would: the ceiling stays honest. */
		size_t from = c->scan > 0 ? c->scan - 1 : 0;
		char *end = NULL;
		char *p = c->buf + from, *lim = c->buf + c->len;
		while (p < lim && (p = memchr(p, '\n', (size_t)(lim - p))) != NULL) {
			if (p + 1 < lim && p[1] == '\n') {
				end = p + 2;
				break;
			}
			p++;
		}
		if (end == NULL) {
			c->scan = c->len;
			return c->len < sizeof c->buf;
		}
		if (!write_all(c->fd, reply, sizeof reply - 1))
			return false;
		log_answered();
		size_t used = (size_t)(end - c->buf);
		memmove(c->buf, end, c->len - used);
		c->len -= used;
		c->scan = 0;
		if (c->len == 0)
			return true;
	}
}

static int listen_unix(const char *spec)
{
	const char *path = strncmp(spec, "unix:", 5) == 0 ? spec + 5 : spec;
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "nullpolicy: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("nullpolicy: socket");
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, SOMAXCONN) < 0) {
		fprintf(stderr, "nullpolicy: bind/listen %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	unsigned max_conn = NULL_DEFAULT_MAX_CONN;
	int opt;
	while ((opt = getopt(argc, argv, "m:l:")) != -1) {
		if (opt == 'm') {
			max_conn = (unsigned)strtoul(optarg, NULL, 10);
		} else if (opt == 'l') {
			log_every = (unsigned)strtoul(optarg, NULL, 10);
		} else {
			fprintf(stderr,
			        "usage: nullpolicy [-m max_connections] [-l every] unix:/path\n");
			return 1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: nullpolicy [-m max_connections] [-l every] unix:/path\n");
		return 1;
	}
	const char *spec = argv[optind];
	const char *path = strncmp(spec, "unix:", 5) == 0 ? spec + 5 : spec;

	raise_nofile();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Stop signals are blocked except inside epoll_pwait, so one arriving
	 * between the flag check and the wait cannot be lost. */
	sigset_t stopsigs, waitmask;
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigprocmask(SIG_BLOCK, &stopsigs, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	int lfd = listen_unix(spec);
	if (lfd < 0)
		return 1;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("nullpolicy: epoll_create1");
		return 1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

	unsigned nconn = 0;
	struct epoll_event events[NULL_MAX_EVENTS];
	while (!stop_requested) {
		log_flush(); /* the lines of the last pass, before waiting */
		int n = epoll_pwait(ep, events, NULL_MAX_EVENTS, -1, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("nullpolicy: epoll_pwait");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;
			if (c != NULL) {
				if (!conn_readable(c))
					conn_close(ep, c, &nconn);
				continue;
			}
			for (;;) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				if (nconn >= max_conn) {
					close(fd);
					continue;
				}
				struct conn *nc = malloc(sizeof *nc);
				if (nc == NULL) {
					close(fd);
					continue;
				}
				nc->fd = fd;
				nc->len = 0;
				nc->scan = 0;
				struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0) {
					close(fd);
					free(nc);
					continue;
				}
				nconn++;
			}
		}
	}
	unlink(path);
	return 0;
}
