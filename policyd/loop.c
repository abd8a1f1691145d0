/*
 * loop.c - portguard-policyd's one event loop.
 *
 * One epoll set holds the listening sockets, a signalfd (SIGHUP reload,
 * SIGUSR2 stats, SIGTERM/SIGINT stop) and every connection. Timers are the
 * epoll timeout: stats lines every stats_interval, an idle sweep that closes
 * connections quiet for idle_timeout. Each connection is one fixed-size
 * struct; its input buffer (PG_POLICY_MAX_REQUEST) and output buffer
 * (PD_OUT_SIZE) are one allocation made at its first read, so idle
 * connections cost little. Requests are answered in order; while a reply
 * cannot be written the connection is not read (backpressure).
 * Failure: bad peer input closes that connection only, with a warning that
 * names it; past max_connections a new connection is accepted and closed at
 * once (a warning at most once a minute). A failed reload keeps the running
 * config. Only start-up problems end the daemon.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "policyd.h"
#include "report.h"
#include "stats.h"

#define LOOP_MAX_EVENTS       64
#define LOOP_SWEEP_SECONDS    30 /* idle connections close within this of their timeout */
#define LOOP_CAP_WARN_SECONDS 60 /* connection-cap warning at most this often */

enum handle_kind { HANDLE_LISTENER = 0, HANDLE_SIGNAL, HANDLE_CONN };

struct handle {
	enum handle_kind kind;
};

struct listener_handle {
	struct handle h; /* first */
	struct pd_listener *l;
};

struct conn {
	struct handle h; /* first */
	int fd;
	uint32_t events; /* current epoll interest */
	struct conn *prev, *next;
	time_t last_active; /* monotonic seconds */
	/* One allocation at the first read, NULL until then: out (PD_OUT_SIZE)
	 * first, then in (PG_POLICY_MAX_REQUEST), so that a request and its
	 * reply usually share a page. */
	char *out;
	char *in;
	size_t in_len;
	size_t out_len;
	struct proto_scan scan;
	struct pd_session session;
	char peer[PD_PEER_MAX];
};

static struct {
	struct pg_config *cfg;
	const struct daemon_info *info;
	const struct daemon_options *opt;
	int ep;
	struct handle sig;
	int sigfd;
	int spare_fd; /* given up to accept (and close) when out of descriptors */
	struct listener_handle *lh;
	size_t nlh;
	struct conn *conns;
	size_t nconns;
	bool stop, reload, dump;
	time_t next_stats, next_sweep;
	/* refused connections since the last warning, per reason */
	time_t refuse_warned[2];
	unsigned long refused[2];
} L;

enum refuse_reason { REFUSE_CAP = 0, REFUSE_NOFILE = 1 };

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* ---- connections ---- */

static void conn_close(struct conn *c)
{
	close(c->fd); /* also leaves the epoll set */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		L.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	L.nconns--;
	free(c->out);
	free(c);
}

static void conn_drop(struct conn *c, const char *why)
{
	log_warnx("policy connection peer=%s fd=%d: %s; closing it without a reply", c->peer, c->fd,
	          why);
	conn_close(c);
}

static bool conn_set_events(struct conn *c, uint32_t want)
{
	struct epoll_event ev;

	if (want == c->events)
		return true;
	memset(&ev, 0, sizeof ev);
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(L.ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		log_warn("policy connection peer=%s fd=%d: epoll_ctl", c->peer, c->fd);
		conn_close(c);
		return false;
	}
	c->events = want;
	return true;
}

/* Write what is pending. False: the connection was closed. */
static bool conn_flush(struct conn *c)
{
	char *out = c->out;
	size_t off = 0;

	if (c->out_len > 0) /* before the peer can see the reply */
		c->last_active = mono_now();
	while (off < c->out_len) {
		ssize_t n = send(c->fd, out + off, c->out_len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			log_info("policy connection peer=%s fd=%d: write failed: %s; closing it",
			         c->peer, c->fd, strerror(errno));
			conn_close(c);
			return false;
		}
		off += (size_t)n;
	}
	if (off > 0) {
		memmove(out, out + off, c->out_len - off);
		c->out_len -= off;
	}
	return true;
}

/* Answer every complete request buffered, in order, as far as the output
 * buffer allows; then choose what to wait for. False: closed. */
static bool conn_process(struct conn *c)
{
	char why[160];
	char *out = c->out;

	for (;;) {
		struct pd_request req;
		size_t reqlen = 0, n = 0;
		enum proto_status ps;

		if (PD_OUT_SIZE - c->out_len < PD_REPLY_MAX) {
			if (!conn_flush(c))
				return false;
			if (PD_OUT_SIZE - c->out_len < PD_REPLY_MAX)
				break; /* the peer is not reading: wait for EPOLLOUT */
		}
		ps = proto_scan(&c->scan, c->in, c->in_len, &reqlen, why, sizeof why);
		if (ps == PROTO_MORE)
			break;
		if (ps == PROTO_ERROR) {
			conn_drop(c, why);
			return false;
		}
		proto_parse(c->in, &c->scan, &req);
		if (session_handle(L.cfg, &c->session, &req, out + c->out_len, &n, why,
		                   sizeof why) != SESSION_REPLY) {
			conn_drop(c, why);
			return false;
		}
		c->out_len += n;
		memmove(c->in, c->in + reqlen, c->in_len - reqlen);
		c->in_len -= reqlen;
		proto_reset(&c->scan);
	}
	if (!conn_flush(c))
		return false;
	/* Read only while nothing waits to be written. */
	return conn_set_events(c, c->out_len > 0 ? EPOLLOUT : EPOLLIN);
}

static void conn_readable(struct conn *c)
{
	ssize_t n;

	if (c->out == NULL) {
		c->out = malloc(PD_OUT_SIZE + PG_POLICY_MAX_REQUEST);
		c->in = c->out != NULL ? c->out + PD_OUT_SIZE : NULL;
		if (c->out == NULL) {
			log_err("policy connection peer=%s fd=%d: out of memory; closing it",
			        c->peer, c->fd);
			conn_close(c);
			return;
		}
	}
	if (c->in_len >= PG_POLICY_MAX_REQUEST) { /* proto_scan refuses this first */
		conn_drop(c, "request longer than PG_POLICY_MAX_REQUEST");
		return;
	}
	n = recv(c->fd, c->in + c->in_len, PG_POLICY_MAX_REQUEST - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			log_info("policy connection peer=%s fd=%d: read failed: %s", c->peer, c->fd,
			         strerror(errno));
		else if (c->in_len > 0)
			log_info("policy connection peer=%s fd=%d: closed by the peer in the "
			         "middle of a request",
			         c->peer, c->fd);
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	c->last_active = mono_now();
	(void)conn_process(c);
}

static void conn_event(struct conn *c, uint32_t ev)
{
	if ((ev & EPOLLOUT) != 0) {
		if (!conn_process(c))
			return;
	}
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && (c->events & EPOLLIN) != 0) {
		conn_readable(c);
		return;
	}
	if ((ev & (EPOLLHUP | EPOLLERR)) != 0)
		conn_close(c);
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof addr);
		snprintf(out, outlen, "%s:%u", addr, (unsigned)ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof addr);
		snprintf(out, outlen, "[%s]:%u", addr, (unsigned)ntohs(sin6->sin6_port));
	} else {
		snprintf(out, outlen, "unix");
	}
}

/* Descriptors the loop uses besides its connections: stdio, epoll, signalfd,
 * the spare, syslog, with room; plus one per listener. */
#define LOOP_FD_RESERVE 16

static unsigned long nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return ULONG_MAX;
	return (unsigned long)rl.rlim_cur;
}

/*
 * Make room for max_connections: raise the soft open-file limit up to the
 * hard one if needed (as at start, so also after a reload raised the cap),
 * and say so when even the hard limit is too low: past it connections are
 * refused for want of descriptors, not because of the cap.
 */
static void nofile_check(void)
{
	unsigned long need =
	    (unsigned long)L.cfg->policyd_max_connections + L.nlh + LOOP_FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= need)
		return;
	log_warnx(
	    "the open-file limit is %lu, below the %lu descriptors policyd.max_connections=%u "
	    "needs: connections past it will be refused; raise LimitNOFILE= in the unit (or "
	    "ulimit -n), or lower policyd.max_connections",
	    nofile_limit(), need, L.cfg->policyd_max_connections);
}

/* Close a connection we cannot serve; a warning at most once a minute per reason. */
static void conn_refuse(int fd, enum refuse_reason why)
{
	time_t now = mono_now();

	if (fd >= 0)
		close(fd);
	L.refused[why]++;
	if (L.refuse_warned[why] != 0 && now - L.refuse_warned[why] < LOOP_CAP_WARN_SECONDS)
		return;
	if (why == REFUSE_CAP)
		log_warnx("connection limit reached: max_connections=%u; refused %lu "
		          "connection(s) since the last warning",
		          L.cfg->policyd_max_connections, L.refused[why]);
	else
		log_warnx(
		    "out of file descriptors (open-file limit %lu) with %zu connections open; "
		    "refused %lu connection(s) since the last warning; raise LimitNOFILE= in "
		    "the unit (or ulimit -n), or lower policyd.max_connections=%u",
		    nofile_limit(), L.nconns, L.refused[why], L.cfg->policyd_max_connections);
	L.refuse_warned[why] = now;
	L.refused[why] = 0;
}

static void accept_ready(struct listener_handle *lh)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct epoll_event ev;
		struct conn *c;
		int fd;

		memset(&ss, 0, sizeof ss);
		fd = accept4(lh->l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && L.spare_fd >= 0) {
				/* Out of descriptors: take the connection and close it,
				 * so the listener does not stay readable forever. */
				close(L.spare_fd);
				fd = accept(lh->l->fd, NULL, NULL);
				conn_refuse(fd, REFUSE_NOFILE);
				L.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					return; /* nothing taken: wait for the next event */
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("%s: accept", lh->l->spec);
			return;
		}
		if (L.nconns >= L.cfg->policyd_max_connections) {
			conn_refuse(fd, REFUSE_CAP);
			continue;
		}
		c = calloc(1, sizeof *c);
		if (c == NULL) {
			log_err("%s: out of memory for a new connection", lh->l->spec);
			close(fd);
			continue;
		}
		c->h.kind = HANDLE_CONN;
		c->fd = fd;
		c->events = EPOLLIN;
		c->last_active = mono_now();
		proto_reset(&c->scan);
		session_init(&c->session);
		peer_name(&ss, c->peer, sizeof c->peer);
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(L.ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			log_warn("%s: epoll_ctl", lh->l->spec);
			close(fd);
			free(c);
			continue;
		}
		c->next = L.conns;
		if (L.conns != NULL)
			L.conns->prev = c;
		L.conns = c;
		L.nconns++;
	}
}

static void idle_sweep(time_t now)
{
	struct conn *c = L.conns, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (now - c->last_active >= (time_t)L.cfg->policyd_idle_timeout) {
			log_info("policy connection peer=%s fd=%d: idle for %us; closing it",
			         c->peer, c->fd, L.cfg->policyd_idle_timeout);
			conn_close(c);
		}
	}
}

/* ---- signals, reload, timers ---- */

static void signals_read(void)
{
	struct signalfd_siginfo si;

	while (read(L.sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGHUP:
			L.reload = true;
			break;
		case SIGUSR2:
			L.dump = true;
			break;
		case SIGTERM:
		case SIGINT:
			L.stop = true;
			break;
		default:
			break;
		}
	}
}

/* The shared reload (core/daemon.c: load, start-only keys, log level, the
 * "reloaded" lines), then what only this loop keeps: the stats timer and
 * the descriptor limit for a larger connection cap. */
static void reload(time_t now)
{
	struct pg_config *cur = daemon_reload(L.info, L.opt, L.cfg);

	if (cur == NULL)
		return;
	if (cur->stats_interval != L.cfg->stats_interval)
		L.next_stats = now + (time_t)cur->stats_interval;
	/* Nothing keeps pointers into the old config between requests. */
	bool more_conns = cur->policyd_max_connections > L.cfg->policyd_max_connections;
	config_free(L.cfg);
	L.cfg = cur;
	if (more_conns)
		nofile_check();
}

static int wait_timeout_ms(time_t now)
{
	time_t next = L.next_sweep;

	if (L.cfg->stats_interval > 0 && L.next_stats < next)
		next = L.next_stats;
	if (next <= now)
		return 0;
	if (next - now > 3600)
		return 3600 * 1000;
	return (int)(next - now) * 1000;
}

static int loop_setup(void)
{
	struct epoll_event ev;
	sigset_t set;

	L.ep = epoll_create1(EPOLL_CLOEXEC);
	if (L.ep < 0) {
		log_err("epoll_create1: %s", strerror(errno));
		return EX_OSERR;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		log_err("sigprocmask: %s", strerror(errno));
		return EX_OSERR;
	}
	signal(SIGPIPE, SIG_IGN);
	L.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (L.sigfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return EX_OSERR;
	}
	L.sig.kind = HANDLE_SIGNAL;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = &L.sig;
	if (epoll_ctl(L.ep, EPOLL_CTL_ADD, L.sigfd, &ev) != 0) {
		log_err("epoll_ctl: %s", strerror(errno));
		return EX_OSERR;
	}
	for (size_t i = 0; i < L.nlh; i++) {
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.ptr = &L.lh[i];
		if (epoll_ctl(L.ep, EPOLL_CTL_ADD, L.lh[i].l->fd, &ev) != 0) {
			log_err("epoll_ctl: %s", strerror(errno));
			return EX_OSERR;
		}
	}
	L.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	nofile_check();
	return EX_OK;
}

static void loop_teardown(void)
{
	while (L.conns != NULL)
		conn_close(L.conns);
	for (size_t i = 0; i < L.nlh; i++)
		listen_close(L.lh[i].l, true);
	free(L.lh);
	if (L.spare_fd >= 0)
		close(L.spare_fd);
	if (L.sigfd >= 0)
		close(L.sigfd);
	if (L.ep >= 0)
		close(L.ep);
}

int loop_run(struct pg_config *cfg, const struct daemon_info *info,
             const struct daemon_options *opt, struct pd_listener *listeners, size_t nlisteners)
{
	struct epoll_event events[LOOP_MAX_EVENTS];
	int rc;
	time_t now;

	memset(&L, 0, sizeof L);
	L.cfg = cfg;
	L.info = info;
	L.opt = opt;
	L.ep = L.sigfd = L.spare_fd = -1;
	L.lh = calloc(nlisteners, sizeof *L.lh);
	if (L.lh == NULL && nlisteners > 0) {
		log_err("out of memory");
		return EX_OSERR;
	}
	for (size_t i = 0; i < nlisteners; i++) {
		L.lh[i].h.kind = HANDLE_LISTENER;
		L.lh[i].l = &listeners[i];
	}
	L.nlh = nlisteners;
	rc = loop_setup();
	if (rc != EX_OK) {
		loop_teardown();
		config_free(L.cfg);
		return rc;
	}
	now = mono_now();
	L.next_stats = now + (time_t)L.cfg->stats_interval;
	L.next_sweep = now + LOOP_SWEEP_SECONDS;
	report_config(L.cfg, L.info->name, "starting");

	/* Lines logged while a pass serves its events go out together before the
	 * loop blocks again: one write or sendmmsg per pass, not one per line. */
	logbatch_start();
	while (!L.stop) {
		logbatch_flush();
		int n = epoll_wait(L.ep, events, LOOP_MAX_EVENTS, wait_timeout_ms(mono_now()));

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			rc = EX_OSERR;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct handle *h = events[i].data.ptr;

			if (h->kind == HANDLE_SIGNAL)
				signals_read();
			else if (h->kind == HANDLE_LISTENER)
				accept_ready((struct listener_handle *)h);
			else
				conn_event((struct conn *)h, events[i].events);
		}
		now = mono_now();
		if (L.reload) {
			L.reload = false;
			reload(now);
		}
		bool due = L.cfg->stats_interval > 0 && now >= L.next_stats;
		if (due)
			L.next_stats = now + (time_t)L.cfg->stats_interval;
		if (due || L.dump) {
			L.dump = false;
			stats_emit(time(NULL), false);
		}
		if (now >= L.next_sweep) {
			idle_sweep(now);
			L.next_sweep = now + LOOP_SWEEP_SECONDS;
		}
	}
	stats_emit(time(NULL), false);
	report_config(L.cfg, L.info->name, "stopping");
	logbatch_stop();
	loop_teardown();
	config_free(L.cfg);
	return rc;
}
