/*
 * loop.c - portguard-policyd's one event loop.
 *
 * One epoll set holds the listening sockets, a signalfd (SIGHUP reload,
 * SIGUSR2 stats, SIGTERM/SIGINT stop), reload.c's eventfd (a reload built
 * off the loop is ready) and every connection. Timers are the
 * epoll timeout, computed from the heads of two ordered lists: every
 * connection is either idle (nothing buffered either way; on the idle list,
 * oldest first) or busy (a request begun or a reply not yet written; on the
 * busy list in the order its current request began). A busy connection gets
 * request_timeout from the first byte of its request (a trickle of bytes
 * does not extend it), an idle one idle_timeout; both checks look at list
 * heads only. At max_connections, and when accept() finds no descriptor
 * left, the connection idle the longest is closed to make room; only when
 * none is idle is the newcomer refused. The clock
 * is read once per pass of the loop. Each connection is one fixed-size
 * struct; its input buffer (PG_POLICY_MAX_REQUEST) and output buffer
 * (PD_OUT_SIZE) are one allocation made at its first read, so idle
 * connections cost little. Requests are answered in order; while a reply
 * cannot be written the connection is not read (backpressure).
 * Failure: bad peer input closes that connection only, with a warning that
 * names it; past max_connections, or out of descriptors, with no idle
 * connection, a new connection is accepted and closed at once. Refusals and
 * evictions are counted and logged with their exact count, at most once a
 * minute per kind, a second after the first of a burst, and at shutdown.
 * A failed reload keeps the running config. Only start-up problems end the
 * daemon.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
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
#include "metrics.h"
#include "policyd.h"
#include "report.h"
#include "stats.h"

#define LOOP_MAX_EVENTS    64
#define LOOP_WARN_DELAY_MS 1000  /* a burst's count is logged this long after it began */
#define LOOP_WARN_EVERY_MS 60000 /* and each kind's count line at most this often */

enum handle_kind { HANDLE_LISTENER = 0, HANDLE_SIGNAL, HANDLE_CONN, HANDLE_RELOAD };

/* Refusals and evictions, each counted and logged apart. */
enum tally_kind {
	TALLY_EVICTED = 0,    /* an idle connection closed at max_connections */
	TALLY_CAP,            /* refused at max_connections, none idle */
	TALLY_NOFILE,         /* refused out of descriptors, none idle */
	TALLY_PEER,           /* refused at max_connections_per_peer */
	TALLY_NOFILE_EVICTED, /* an idle connection closed out of descriptors */
	TALLY_KINDS
};

struct handle {
	enum handle_kind kind;
};

struct listener_handle {
	struct handle h; /* first */
	struct pd_listener *l;
	bool ready; /* readable in this pass */
};

struct conn {
	struct handle h; /* first */
	int fd;
	uint32_t events; /* current epoll interest */
	/* On L.idle or L.busy (see the top of the file), oldest first. */
	struct conn *prev, *next;
	bool busy;
	struct peer *from; /* its client address's count (peers.c); NULL for unix */
	int64_t since;     /* monotonic ms: became idle, or its current request began */
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
	struct handle reloaded; /* reload.c's eventfd: a reload thread is done */
	int spare_fd;           /* given up to accept (and close) when out of descriptors */
	struct listener_handle *lh;
	size_t nlh;
	struct conn_list {
		struct conn *head, *tail;
	} idle, busy;
	size_t nconns;
	bool stop, reload, dump, reloaded_ready;
	int64_t now; /* monotonic ms, read once per pass */
	int64_t next_stats;
	/* Refusals and evictions not yet logged, per kind; when the last line
	 * of that kind went out (0: never) and when this count's first came. */
	struct {
		unsigned long count;
		int64_t logged, first;
	} tally[TALLY_KINDS];
	char peer_refused[PD_PEER_MAX]; /* the last peer refused at its own cap */
} L;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the idle and busy lists ---- */

static void list_unlink(struct conn_list *l, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

static void list_append(struct conn_list *l, struct conn *c)
{
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

/* Move c to the end of the idle (busy false) or busy list, as of now. */
static void conn_mark(struct conn *c, bool busy)
{
	list_unlink(c->busy ? &L.busy : &L.idle, c);
	c->busy = busy;
	c->since = L.now;
	list_append(busy ? &L.busy : &L.idle, c);
}

/* ---- connections ---- */

static void conn_close(struct conn *c)
{
	close(c->fd); /* also leaves the epoll set */
	peer_release(c->from);
	list_unlink(c->busy ? &L.busy : &L.idle, c);
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
 * buffer allows (sending only to make room); *answered: at least one was.
 * The replies wait in c->out for conn_settle(). False: closed. */
static bool conn_answer(struct conn *c, bool *answered)
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
		*answered = true;
	}
	return true;
}

/* Send what c->out holds, then choose what to wait for. False: closed. */
static bool conn_settle(struct conn *c, bool answered)
{
	if (!conn_flush(c))
		return false;
	/* Idle once nothing is buffered; a new request's clock starts at its
	 * first byte (here, or after one answered), never at a later one. */
	if (c->in_len == 0 && c->out_len == 0) {
		if (c->busy || answered)
			conn_mark(c, false);
	} else if (!c->busy || answered) {
		conn_mark(c, true);
	}
	/* Read only while nothing waits to be written. */
	return conn_set_events(c, c->out_len > 0 ? EPOLLOUT : EPOLLIN);
}

static bool conn_process(struct conn *c)
{
	bool answered = false;

	return conn_answer(c, &answered) && conn_settle(c, answered);
}

enum conn_fill { FILL_CLOSED = 0, FILL_NONE, FILL_DATA };

/* Read what c has waiting (FILL_DATA), nothing yet (FILL_NONE), or close it
 * at its end or on an error (FILL_CLOSED: c is gone). */
static enum conn_fill conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->out == NULL) {
		c->out = malloc(PD_OUT_SIZE + PG_POLICY_MAX_REQUEST);
		c->in = c->out != NULL ? c->out + PD_OUT_SIZE : NULL;
		if (c->out == NULL) {
			log_err("policy connection peer=%s fd=%d: out of memory; closing it",
			        c->peer, c->fd);
			conn_close(c);
			return FILL_CLOSED;
		}
	}
	if (c->in_len >= PG_POLICY_MAX_REQUEST) { /* proto_scan refuses this first */
		conn_drop(c, "request longer than PG_POLICY_MAX_REQUEST");
		return FILL_CLOSED;
	}
	n = recv(c->fd, c->in + c->in_len, PG_POLICY_MAX_REQUEST - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return FILL_NONE;
	if (n <= 0) {
		if (n < 0)
			log_info("policy connection peer=%s fd=%d: read failed: %s", c->peer, c->fd,
			         strerror(errno));
		else if (c->in_len > 0)
			log_info("policy connection peer=%s fd=%d: closed by the peer in the "
			         "middle of a request",
			         c->peer, c->fd);
		conn_close(c);
		return FILL_CLOSED;
	}
	c->in_len += (size_t)n;
	return FILL_DATA;
}

static void conn_readable(struct conn *c)
{
	if (conn_fill(c) == FILL_DATA)
		(void)conn_process(c);
}

/* An event that only asks c to read (the usual one): read it now, in the
 * first pass over the events, and answer it in the second. */
static bool conn_read_only(const struct conn *c, uint32_t ev)
{
	return (ev & EPOLLOUT) == 0 && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 &&
	       (c->events & EPOLLIN) != 0;
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
	    "needs: past it, idle connections will be closed for new ones, or new ones refused; "
	    "raise LimitNOFILE= in the unit (or ulimit -n), or lower policyd.max_connections",
	    nofile_limit(), need, L.cfg->policyd_max_connections);
}

/* Count a refusal or an eviction; tally_flush() logs the count. */
static void tally_add(enum tally_kind k)
{
	if (L.tally[k].count++ == 0)
		L.tally[k].first = L.now;
}

/* When the pending count of kind k is due to be logged: INT64_MAX if none. */
static int64_t tally_due(enum tally_kind k)
{
	int64_t due = L.tally[k].first + LOOP_WARN_DELAY_MS;

	if (L.tally[k].count == 0)
		return INT64_MAX;
	if (L.tally[k].logged != 0 && L.tally[k].logged + LOOP_WARN_EVERY_MS > due)
		due = L.tally[k].logged + LOOP_WARN_EVERY_MS;
	return due;
}

/* Log every count that is due (all of them when final): each refusal and
 * eviction is in exactly one line. */
static void tally_flush(bool final)
{
	unsigned max = L.cfg->policyd_max_connections;

	for (int k = TALLY_EVICTED; k < TALLY_KINDS; k++) {
		unsigned long n = L.tally[k].count;

		if (n == 0 || (!final && L.now < tally_due((enum tally_kind)k)))
			continue;
		if (k == TALLY_EVICTED)
			log_warnx("connection limit reached: max_connections=%u; closed %lu idle "
			          "connection(s), the longest idle first, to make room since the "
			          "last warning",
			          max, n);
		else if (k == TALLY_CAP)
			log_warnx("connection limit reached: max_connections=%u; refused %lu "
			          "connection(s) since the last warning, none being idle",
			          max, n);
		else if (k == TALLY_PEER)
			log_warnx("connection limit per peer reached: "
			          "policyd.max_connections_per_peer=%u; refused %lu connection(s) "
			          "since the last warning, the last from %s",
			          L.cfg->policyd_max_connections_per_peer, n, L.peer_refused);
		else if (k == TALLY_NOFILE_EVICTED)
			log_warnx(
			    "out of file descriptors (open-file limit %lu) with %zu connections "
			    "open; closed %lu idle connection(s), the longest idle first, to make "
			    "room since the last warning; raise LimitNOFILE= in the unit (or "
			    "ulimit -n), or lower policyd.max_connections=%u",
			    nofile_limit(), L.nconns, n, max);
		else
			log_warnx(
			    "out of file descriptors (open-file limit %lu) with %zu connections "
			    "open; refused %lu connection(s) since the last warning; raise "
			    "LimitNOFILE= in the unit (or ulimit -n), or lower "
			    "policyd.max_connections=%u",
			    nofile_limit(), L.nconns, n, max);
		L.tally[k].count = 0;
		L.tally[k].logged = L.now;
	}
}

/* accept4() found no descriptor left: take the waiting connection with the
 * spare one (which also tells whether one waits: accept fails so even with
 * none), then make room for it by closing the connection idle the longest,
 * as at the cap, whose descriptor becomes the spare; with none idle, close
 * the newcomer at once. Its descriptor, -1 when none waited, or -2 when it
 * was refused. */
static int accept_nofile(struct listener_handle *lh, struct sockaddr_storage *ss, socklen_t *sl)
{
	int fd;

	close(L.spare_fd);
	fd = accept4(lh->l->fd, (struct sockaddr *)ss, sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0 && L.idle.head != NULL) {
		conn_close(L.idle.head);
		tally_add(TALLY_NOFILE_EVICTED);
	} else if (fd >= 0) {
		close(fd);
		tally_add(TALLY_NOFILE);
		fd = -2;
	}
	L.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd;
}

static void accept_ready(struct listener_handle *lh)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct epoll_event ev;
		struct conn *c;
		unsigned char key[16];
		bool inet;
		int fd;

		memset(&ss, 0, sizeof ss);
		fd = accept4(lh->l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && L.spare_fd >= 0) {
				/* Out of descriptors: make room, or take the connection
				 * and close it, so the listener does not stay readable. */
				fd = accept_nofile(lh, &ss, &sl);
				if (fd == -1)
					return; /* nothing taken: wait for the next event */
				if (fd == -2)
					continue;
			} else {
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					log_warn("%s: accept", lh->l->spec);
				return;
			}
		}
		inet = peer_key(&ss, key);
		if (inet && L.cfg->policyd_max_connections_per_peer > 0 &&
		    peer_count(key) >= L.cfg->policyd_max_connections_per_peer) {
			close(fd);
			peer_name(&ss, L.peer_refused, sizeof L.peer_refused);
			tally_add(TALLY_PEER);
			continue;
		}
		if (L.nconns >= L.cfg->policyd_max_connections) {
			if (L.idle.head == NULL) {
				close(fd);
				tally_add(TALLY_CAP);
				continue;
			}
			conn_close(L.idle.head); /* idle the longest */
			tally_add(TALLY_EVICTED);
		}
		c = calloc(1, sizeof *c);
		if (c == NULL) {
			log_err("%s: out of memory for a new connection", lh->l->spec);
			close(fd);
			continue;
		}
		if (inet && (c->from = peer_hold(key)) == NULL) {
			log_err("%s: out of memory for a new connection", lh->l->spec);
			close(fd);
			free(c);
			continue;
		}
		c->h.kind = HANDLE_CONN;
		c->fd = fd;
		c->events = EPOLLIN;
		c->since = L.now;
		proto_reset(&c->scan);
		session_init(&c->session);
		peer_name(&ss, c->peer, sizeof c->peer);
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(L.ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			log_warn("%s: epoll_ctl", lh->l->spec);
			close(fd);
			peer_release(c->from);
			free(c);
			continue;
		}
		list_append(&L.idle, c);
		L.nconns++;
	}
}

static int64_t request_deadline(const struct conn *c)
{
	return c->since + (int64_t)L.cfg->policyd_request_timeout * 1000;
}

static int64_t idle_deadline(const struct conn *c)
{
	return c->since + (int64_t)L.cfg->policyd_idle_timeout * 1000;
}

/* Close what is past its time: both lists are oldest first, so only their
 * heads need a look. */
static void timeouts(void)
{
	while (L.busy.head != NULL && L.now >= request_deadline(L.busy.head)) {
		struct conn *c = L.busy.head;

		log_warnx("policy connection peer=%s fd=%d: request not complete %us after its "
		          "first byte (policyd.request_timeout); closing it",
		          c->peer, c->fd, L.cfg->policyd_request_timeout);
		conn_close(c);
	}
	while (L.idle.head != NULL && L.now >= idle_deadline(L.idle.head)) {
		struct conn *c = L.idle.head;

		log_info("policy connection peer=%s fd=%d: idle for %us; closing it", c->peer,
		         c->fd, L.cfg->policyd_idle_timeout);
		conn_close(c);
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
 * "reloaded" lines), built off the loop by reload.c and taken here between
 * requests, then what only this loop keeps: the stats timer and the
 * descriptor limit for a larger connection cap. */
static void reload(int64_t now)
{
	struct pg_config *cur = reload_collect(), *old = L.cfg;

	if (cur == NULL)
		return;
	if (cur->stats_interval != L.cfg->stats_interval)
		L.next_stats = now + (int64_t)cur->stats_interval * 1000;
	/* Nothing keeps pointers into the old config between requests. */
	bool more_conns = cur->policyd_max_connections > L.cfg->policyd_max_connections;
	L.cfg = cur;
	reload_retire(old);
	if (more_conns)
		nofile_check();
}

static int wait_timeout_ms(void)
{
	int64_t next = INT64_MAX;

	if (L.cfg->stats_interval > 0)
		next = L.next_stats;
	if (L.busy.head != NULL && request_deadline(L.busy.head) < next)
		next = request_deadline(L.busy.head);
	if (L.idle.head != NULL && idle_deadline(L.idle.head) < next)
		next = idle_deadline(L.idle.head);
	for (int k = TALLY_EVICTED; k < TALLY_KINDS; k++)
		if (tally_due((enum tally_kind)k) < next)
			next = tally_due((enum tally_kind)k);
	long metrics_ms = metrics_tick(); /* writes the metrics file when due */
	if (metrics_ms >= 0 && L.now + metrics_ms < next)
		next = L.now + metrics_ms;
	if (next <= L.now)
		return 0;
	if (next - L.now > 3600 * 1000)
		return 3600 * 1000;
	return (int)(next - L.now);
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
	L.reloaded.kind = HANDLE_RELOAD;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = &L.reloaded;
	int rfd = reload_init();
	if (rfd < 0)
		return EX_OSERR;
	if (epoll_ctl(L.ep, EPOLL_CTL_ADD, rfd, &ev) != 0) {
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
	if (!peers_init()) {
		log_err("out of memory");
		return EX_OSERR;
	}
	L.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	nofile_check();
	return EX_OK;
}

static void loop_teardown(void)
{
	reload_shutdown(); /* before L.cfg goes: a reload thread may read it */
	while (L.idle.head != NULL)
		conn_close(L.idle.head);
	while (L.busy.head != NULL)
		conn_close(L.busy.head);
	for (size_t i = 0; i < L.nlh; i++)
		listen_close(L.lh[i].l, true);
	free(L.lh);
	peers_free();
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
	L.now = mono_ms();
	L.next_stats = L.now + (int64_t)L.cfg->stats_interval * 1000;
	report_config(L.cfg, L.info->name, "starting");

	/* Lines logged while a pass serves its events go out together before the
	 * loop blocks again: one write or sendmmsg per pass, not one per line. */
	logbatch_start();
	while (!L.stop) {
		logbatch_flush();
		int n = epoll_wait(L.ep, events, LOOP_MAX_EVENTS, wait_timeout_ms());

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			rc = EX_OSERR;
			break;
		}
		L.now = mono_ms();
		/* Read every connection that only has something to read first, and
		 * answer them after: each read is scanned at once, and a complete
		 * request starts loading the table lines it will look up
		 * (session_prefetch()), which then arrive while the other
		 * connections are read instead of stalling the answer (the scan is
		 * not repeated: proto_scan() remembers a request it found, and an
		 * error is found again, and reported, when the request is
		 * answered). filled[i]: 0 not read yet, 1 nothing to answer (or
		 * closed), 2 read. The replies are sent last, together (sendq):
		 * the client, woken by the first, finds the others waiting (paired
		 * rounds against sending each as it is answered: median +2%
		 * decisions/s at 16 connections, +7% at 256). */
		unsigned char filled[LOOP_MAX_EVENTS] = {0};
		struct conn *sendq[LOOP_MAX_EVENTS];
		bool sendq_answered[LOOP_MAX_EVENTS];
		unsigned nsend = 0;
		for (int i = 0; i < n; i++) {
			struct handle *h = events[i].data.ptr;
			struct conn *c = (struct conn *)h;
			char why[160];
			size_t reqlen;

			if (h->kind != HANDLE_CONN || !conn_read_only(c, events[i].events))
				continue;
			filled[i] = conn_fill(c) == FILL_DATA ? 2 : 1;
			if (filled[i] == 2 && proto_scan(&c->scan, c->in, c->in_len, &reqlen, why,
			                                 sizeof why) == PROTO_REQUEST)
				session_prefetch(L.cfg, c->in, &c->scan);
		}
		/* Connections first, listeners last: making room at the cap closes
		 * another connection, which must not have an event still to come. */
		for (int i = 0; i < n; i++) {
			struct handle *h = events[i].data.ptr;

			if (filled[i] == 2) {
				struct conn *c = (struct conn *)h;
				bool answered = false;

				if (conn_answer(c, &answered)) {
					sendq[nsend] = c;
					sendq_answered[nsend++] = answered;
				}
			} else if (filled[i] == 1)
				continue;
			else if (h->kind == HANDLE_SIGNAL)
				signals_read();
			else if (h->kind == HANDLE_RELOAD)
				L.reloaded_ready = true;
			else if (h->kind == HANDLE_LISTENER)
				((struct listener_handle *)h)->ready = true;
			else
				conn_event((struct conn *)h, events[i].events);
		}
		/* Nothing above closes a connection but its own (accepting may,
		 * below): every one queued is still open. */
		for (unsigned k = 0; k < nsend; k++)
			(void)conn_settle(sendq[k], sendq_answered[k]);
		for (size_t i = 0; i < L.nlh; i++) {
			if (L.lh[i].ready) {
				L.lh[i].ready = false;
				accept_ready(&L.lh[i]);
			}
		}
		if (L.reloaded_ready) {
			L.reloaded_ready = false;
			reload(L.now);
		}
		if (L.reload && reload_start(L.info, L.opt, L.cfg))
			L.reload = false;
		bool due = L.cfg->stats_interval > 0 && L.now >= L.next_stats;
		if (due)
			L.next_stats = L.now + (int64_t)L.cfg->stats_interval * 1000;
		if (due || L.dump) {
			L.dump = false;
			stats_emit(time(NULL), false);
		}
		timeouts();
		tally_flush(false);
	}
	tally_flush(true);
	stats_emit(time(NULL), false);
	report_config(L.cfg, L.info->name, "stopping");
	logbatch_stop();
	loop_teardown();
	config_free(L.cfg);
	return rc;
}
