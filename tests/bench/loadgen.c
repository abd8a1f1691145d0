/*
 * loadgen.c - load generator and memory probe for Postfix policy servers.
 *
 * Usage:
 *   loadgen -s SOCKET [-c CONNS] [-d SECS] [-w SECS] [-n MAXREQ] [-P PID] [-S SEED]
 *       Load: keeps CONNS persistent connections busy, one request in flight
 *       per connection (as Postfix's smtpd waits for each reply), for SECS
 *       seconds after a warm-up, or until MAXREQ replies (the latency array is
 *       preallocated for MAXREQ). Prints one line of key=value pairs:
 *       decisions/s, p50/p99/max latency (microseconds), dunno/reject counts,
 *       client CPU %, and with -P the server's CPU % and CPU ns per decision.
 *   loadgen -s SOCKET -M -c CONNS -P PID
 *       Memory: opens CONNS connections that send nothing, waits until the
 *       server holds them, reads its VmRSS; then sends one request on each,
 *       reads every reply, lets them idle and reads VmRSS again.
 *   loadgen -s SOCKET -1
 *       Probe: one request, one well-formed reply, exit 0 (readiness check).
 *   loadgen -s SOCKET -K [-c CONNS] [-r RATE] [-d SECS]
 *       Soak (tests/bench/soak.sh): RATE requests a second in all over CONNS
 *       connections, each request's right answer known (relay attempts and
 *       submission without TLS must be refused), every reply checked;
 *       connections the server closes are opened again; SIGUSR1/SIGUSR2 mark
 *       a window in which the server is killed and restarted, so that what
 *       fails in it is counted apart. Prints one line of counts.
 *   loadgen -s SOCKET -F -c CONNS [-d SECS]
 *       Flood: holds CONNS connections, half trickling a request that never
 *       ends, half idle, reopening each one the server closes, until SIGTERM.
 *   -L DOMAINS:NETS (with load)
 *       Large tables (tests/bench/large.sh): relay requests (port 25, no
 *       SASL) whose recipient is customerI.example, half of them listed (I
 *       below DOMAINS) and half not, from a client in trusted network I (I
 *       below NETS; network I is 10.I/32, or 2001:db8:I/64 for every fourth,
 *       as large.sh writes them) or outside all of them, half and half. The
 *       same mix against a small table (-L 1:1) differs only in table size.
 *
 * Requests are realistic and varied (every attribute Postfix 3.7 sends at
 * RCPT, ports 25/587/465/2525, TLS 1.3/1.2/older/plaintext, SASL, client
 * certificates, local/remote/odd recipients, a new instance every 1-4
 * requests), formatted into a pool before timing: the timed path only
 * writes, reads and reads the clock. Each connection walks the pool from its
 * own offset, so the requests of one instance stay on one connection.
 *
 * Exit: 0 ok; 1 usage; 2 the server misbehaved (refused, closed, bad reply)
 * or a system call failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pg_limits.h"

enum {
	LG_POOL_REQUESTS = 4096,   /* requests formatted before timing */
	LG_REPLY_MAX = 1024,       /* "action=" + PG_MAX_REPLY + "\n\n" fits */
	LG_DEFAULT_CONNS = 16,
	LG_DEFAULT_MAXREQ = 4000000,
	LG_MAX_EVENTS = 1024,
};

enum lg_mode { LG_MODE_LOAD, LG_MODE_MEMORY, LG_MODE_PROBE, LG_MODE_SOAK, LG_MODE_FLOOD };

/* ---- small helpers ---------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static unsigned rnd(unsigned n) /* 0 .. n-1 */
{
	return (unsigned)(rng() % n);
}

static bool chance(unsigned percent)
{
	return rnd(100) < percent;
}

/* -L: listed domains and networks, 0 = the usual mix */
static unsigned large_domains, large_nets;

static const char *pick(const char *const *v, size_t n)
{
	return v[rnd((unsigned)n)];
}
#define PICK(arr) pick((arr), sizeof(arr) / sizeof((arr)[0]))

/* ---- the request pool ------------------------------------------------- */

struct pool {
	char *text;     /* all requests, back to back */
	size_t used, cap;
	size_t off[LG_POOL_REQUESTS];
	size_t len[LG_POOL_REQUESTS];
	size_t count;
	/* Soak mode only: what each request must get, and its port. */
	unsigned char expect[LG_POOL_REQUESTS];
	unsigned short port[LG_POOL_REQUESTS];
};

static void pool_add(struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pool_add(struct pool *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p->text + p->used, p->cap - p->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= p->cap - p->used)
		die("request pool overflow");
	p->used += (size_t)n;
}

/* The facts of one SMTP session/transaction; each recipient is one request. */
struct session {
	unsigned port;
	char client_addr[64], client_name[96], helo[96];
	unsigned client_port;
	const char *server_addr;
	const char *proto, *cipher;
	unsigned bits;
	const char *sasl_method;
	char sasl_user[64];
	char ccert_fp[100], ccert_subject[96], ccert_issuer[64];
	char sender[128];
	char queue_id[16];
	char instance[48];
	unsigned long size;
	const char *context;
};

static const char *const words[] = {"mail", "mx", "smtp", "out", "relay", "host", "gw",
    "edge", "node", "srv", "alpha", "beta", "gamma", "delta", "mta", "post"};
static const char *const remote_domains[] = {"gmail.com", "example.com", "yahoo.co.uk",
    "outlook.com", "mailbox.test", "corp.example", "web.de", "posteo.de", "fastmail.fm"};
static const char *const local_domains[] = {"example.org", "example.net", "lists.example.org",
    "EXAMPLE.ORG", "example.org.", "dept.example.org"};
static const char *const users[] = {"alice", "bob", "carol", "dave", "erin", "frank",
    "postmaster", "info", "sales", "noreply", "john.doe", "j_smith", "support+tag"};

static void random_ipv4(char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", 11 + rnd(180), rnd(256), rnd(256), 1 + rnd(254));
}

static void random_ipv6(char *buf, size_t n)
{
	snprintf(buf, n, "2001:db8:%x:%x::%x", rnd(0x10000), rnd(0x10000), 1 + rnd(0xfffe));
}

static void random_hostname(char *buf, size_t n, const char *domain)
{
	snprintf(buf, n, "%s%u.%s", PICK(words), rnd(100), domain);
}

static void session_tls(struct session *s, unsigned pct13, unsigned pct12, unsigned pct_old)
{
	static const char *const c13[] = {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
	    "TLS_CHACHA20_POLY1305_SHA256"};
	static const unsigned b13[] = {256, 128, 256};
	static const char *const c12[] = {"ECDHE-RSA-AES256-GCM-SHA384",
	    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
	    "ECDHE-RSA-AES256-SHA384", "AES128-SHA"};
	static const unsigned b12[] = {256, 128, 256, 256, 128};
	static const char *const old[] = {"TLSv1", "TLSv1.1"};
	unsigned r = rnd(100);
	if (r < pct13) {
		unsigned i = rnd(3);
		s->proto = "TLSv1.3";
		s->cipher = c13[i];
		s->bits = b13[i];
	} else if (r < pct13 + pct12) {
		unsigned i = rnd(5);
		s->proto = "TLSv1.2";
		s->cipher = c12[i];
		s->bits = b12[i];
	} else if (r < pct13 + pct12 + pct_old) {
		s->proto = PICK(old);
		s->cipher = "ECDHE-RSA-AES256-SHA";
		s->bits = 256;
	} else {
		s->proto = "";
		s->cipher = "";
		s->bits = 0;
	}
}

static void session_auth(struct session *s, unsigned pct)
{
	static const char *const methods[] = {"PLAIN", "LOGIN", "PLAIN", "CRAM-MD5"};
	if (chance(pct)) {
		s->sasl_method = PICK(methods);
		snprintf(s->sasl_user, sizeof s->sasl_user, "%s%s%s", PICK(users),
		    chance(50) ? "@" : "", chance(50) ? "example.org" : "");
	} else {
		s->sasl_method = "";
		s->sasl_user[0] = '\0';
	}
}

static void session_new(struct session *s)
{
	static const unsigned ports[] = {25, 587, 465, 2525};
	unsigned r = rnd(100);
	s->port = ports[r < 50 ? 0 : r < 80 ? 1 : r < 95 ? 2 : 3];
	if (chance(12))
		random_ipv6(s->client_addr, sizeof s->client_addr);
	else
		random_ipv4(s->client_addr, sizeof s->client_addr);
	if (chance(30))
		snprintf(s->client_name, sizeof s->client_name, "unknown");
	else
		random_hostname(s->client_name, sizeof s->client_name, PICK(remote_domains));
	random_hostname(s->helo, sizeof s->helo, PICK(remote_domains));
	s->client_port = 1024 + rnd(64000);
	s->server_addr = strchr(s->client_addr, ':') ? "2001:db8::25" : "192.0.2.25";
	s->context = "";
	if (s->port == 25) {
		session_tls(s, 55, 25, 2);
		session_auth(s, 2);
	} else if (s->port == 465) {
		session_tls(s, 70, 27, 1); /* 2%: wrapper mode missing: plaintext on 465 */
		session_auth(s, 96);
	} else {
		/* 587/2525: mostly TLS + auth; a few plaintext, no-auth, plaintext-auth */
		session_tls(s, 65, 28, 2);
		session_auth(s, 94);
		if (s->port == 587 && chance(30))
			s->context = "submission";
	}
	s->ccert_fp[0] = s->ccert_subject[0] = s->ccert_issuer[0] = '\0';
	if (s->proto[0] != '\0' && chance(5)) {
		int o = 0;
		for (int i = 0; i < 32; i++)
			o += snprintf(s->ccert_fp + o, sizeof s->ccert_fp - (size_t)o, "%s%02X",
			    i ? ":" : "", rnd(256));
		if (chance(50)) {
			snprintf(s->ccert_subject, sizeof s->ccert_subject, "%s", s->client_name);
			snprintf(s->ccert_issuer, sizeof s->ccert_issuer, "Example CA %u", rnd(4));
		}
	}
	if (chance(5))
		s->sender[0] = '\0'; /* null sender */
	else
		snprintf(s->sender, sizeof s->sender, "%s@%s", PICK(users),
		    s->sasl_method[0] != '\0' ? "example.org" : PICK(remote_domains));
	snprintf(s->queue_id, sizeof s->queue_id, "%05X%05X", rnd(0x100000), rnd(0x100000));
	snprintf(s->instance, sizeof s->instance, "%x.%08x.%05x.%u", 1000 + rnd(60000),
	    0x66000000u + rnd(0x1000000), rnd(1000000), rnd(8));
	s->size = chance(20) ? 0 : 500 + rnd(2000000);
}

/* -L: a client in network i (see the top of the file) or outside them all. */
static void large_client(struct session *s)
{
	unsigned i = rnd(large_nets);
	bool in = chance(50);

	s->port = 25;
	s->sasl_method = "";
	s->sasl_user[0] = '\0';
	s->ccert_fp[0] = '\0';
	if (i % 4 == 3)
		snprintf(s->client_addr, sizeof s->client_addr, "2001:%s:%x:%x::%x",
		    in ? "db8" : "db9", i >> 16, i & 0xffff, 1 + rnd(0xfffe));
	else if (in)
		snprintf(s->client_addr, sizeof s->client_addr, "10.%u.%u.%u", i >> 16,
		    (i >> 8) & 0xff, i & 0xff);
	else
		random_ipv4(s->client_addr, sizeof s->client_addr);
	s->server_addr = strchr(s->client_addr, ':') ? "2001:db8::25" : "192.0.2.25";
}

static void random_recipient(char *buf, size_t n, const struct session *s)
{
	unsigned r = rnd(100);
	if (large_domains > 0) {
		snprintf(buf, n, "%s@customer%u.example", PICK(users),
		    chance(50) ? rnd(large_domains) : large_domains + rnd(large_domains));
		return;
	}
	/* relay port: mostly local; submission: mostly remote (outbound mail). */
	bool local = s->port == 25 ? r < 85 : r < 30;
	if (chance(2)) {
		static const char *const odd[] = {"\"u@remote.test\"@example.org",
		    "user%remote.test@example.org", "remote.test!user@example.org",
		    "@a.test:user@example.org", "postmaster", "user@[192.0.2.1]",
		    "\"quoted user\"@example.org", "user@sub.dept.example.org"};
		snprintf(buf, n, "%s", PICK(odd));
	} else {
		snprintf(buf, n, "%s@%s", PICK(users),
		    local ? PICK(local_domains) : PICK(remote_domains));
	}
}

static void pool_request(struct pool *p, const struct session *s, const char *rcpt)
{
	if (p->count >= LG_POOL_REQUESTS)
		die("request pool full");
	p->off[p->count] = p->used;
	pool_add(p,
	    "request=smtpd_access_policy\n"
	    "protocol_state=RCPT\n"
	    "protocol_name=%s\n"
	    "client_address=%s\n"
	    "client_name=%s\n"
	    "client_port=%u\n"
	    "reverse_client_name=%s\n"
	    "server_address=%s\n"
	    "server_port=%u\n"
	    "helo_name=%s\n"
	    "sender=%s\n"
	    "recipient=%s\n"
	    "recipient_count=0\n"
	    "queue_id=%s\n"
	    "instance=%s\n"
	    "size=%lu\n"
	    "etrn_domain=\n"
	    "stress=\n"
	    "sasl_method=%s\n"
	    "sasl_username=%s\n"
	    "sasl_sender=\n"
	    "ccert_subject=%s\n"
	    "ccert_issuer=%s\n"
	    "ccert_fingerprint=%s\n"
	    "ccert_pubkey_fingerprint=\n"
	    "encryption_protocol=%s\n"
	    "encryption_cipher=%s\n"
	    "encryption_keysize=%u\n"
	    "policy_context=%s\n"
	    "\n",
	    chance(97) ? "ESMTP" : "SMTP", s->client_addr, s->client_name, s->client_port,
	    s->client_name, s->server_addr, s->port, s->helo, s->sender, rcpt, s->queue_id,
	    s->instance, s->size, s->sasl_method, s->sasl_user, s->ccert_subject,
	    s->ccert_issuer, s->ccert_fp, s->proto, s->cipher, s->bits, s->context);
	p->len[p->count] = p->used - p->off[p->count];
	if (p->len[p->count] > PG_POLICY_MAX_REQUEST)
		die("generated request over PG_POLICY_MAX_REQUEST");
	p->count++;
}

static void pool_build(struct pool *p)
{
	p->cap = (size_t)LG_POOL_REQUESTS * 1200;
	p->text = malloc(p->cap);
	if (p->text == NULL)
		die("out of memory");
	p->used = 0;
	p->count = 0;
	struct session s;
	while (p->count < LG_POOL_REQUESTS) {
		session_new(&s);
		if (large_nets > 0)
			large_client(&s);
		unsigned nrcpt = 1 + rnd(4);
		for (unsigned i = 0; i < nrcpt && p->count < LG_POOL_REQUESTS; i++) {
			char rcpt[160];
			random_recipient(rcpt, sizeof rcpt, &s);
			pool_request(p, &s, rcpt);
		}
	}
}

/* ---- connections ------------------------------------------------------ */

struct lconn {
	int fd;
	size_t next;      /* pool index of the next request */
	const char *wp;   /* unsent part of the current request */
	size_t wleft;
	size_t rlen;
	uint64_t t0;      /* when the current request was written */
	bool busy;        /* a request is in flight */
	char rbuf[LG_REPLY_MAX];
};

static const char *sock_path(const char *spec)
{
	return strncmp(spec, "unix:", 5) == 0 ? spec + 5 : spec;
}

/* One connect to the unix socket at path: the descriptor (blocking), or -1
 * with errno set. */
static int connect_once(const char *path)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		die("socket path too long: %s", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		return fd;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Connect, retrying while the server is not there yet (bounded by wait_ns). */
static int connect_unix(const char *path, uint64_t wait_ns)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + wait_ns;
	for (;;) {
		int fd = connect_once(path);
		if (fd >= 0)
			return fd;
		int e = errno;
		if ((e != ENOENT && e != ECONNREFUSED && e != EAGAIN) ||
		    now_ns(CLOCK_MONOTONIC) >= deadline)
			die("connect %s: %s", path, strerror(e));
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));
}

struct run {
	int ep;
	struct pool *pool;
	struct lconn *conns;
	unsigned nconns;
	/* results */
	uint32_t *lat;      /* latency in ns, saturating */
	size_t nlat, maxlat;
	bool recording;
	unsigned long dunno, reject, inflight;
};

static void conn_want(struct run *r, struct lconn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};
	if (epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

/* Write what the socket takes; switch to EPOLLOUT on a short write. */
static void conn_flush(struct run *r, struct lconn *c)
{
	while (c->wleft > 0) {
		ssize_t w = write(c->fd, c->wp, c->wleft);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				conn_want(r, c, EPOLLOUT);
				return;
			}
			die("write: %s (server closed the connection?)", strerror(errno));
		}
		c->wp += w;
		c->wleft -= (size_t)w;
	}
}

static void conn_send(struct run *r, struct lconn *c, uint64_t t)
{
	size_t i = c->next;
	c->next = (i + 1) % r->pool->count;
	c->wp = r->pool->text + r->pool->off[i];
	c->wleft = r->pool->len[i];
	c->rlen = 0;
	c->t0 = t;
	c->busy = true;
	r->inflight++;
	conn_flush(r, c);
}

/* Check one complete reply: "action=...\n\n", nothing else. */
static void reply_check(struct run *r, const struct lconn *c)
{
	if (c->rlen < 10 || memcmp(c->rbuf, "action=", 7) != 0)
		die("bad reply: %.*s", (int)c->rlen, c->rbuf);
	const char *blank = memmem(c->rbuf, c->rlen, "\n\n", 2);
	if (blank != c->rbuf + c->rlen - 2)
		die("reply not one line + blank line: %.*s", (int)c->rlen, c->rbuf);
	if (c->rlen == 14 && memcmp(c->rbuf, "action=DUNNO\n\n", 14) == 0)
		r->dunno++;
	else
		r->reject++;
}

/* Read; returns true when a full reply has arrived. */
static bool conn_read(struct lconn *c)
{
	ssize_t n = read(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
	if (n == 0)
		die("server closed a connection");
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return false;
		die("read: %s", strerror(errno));
	}
	c->rlen += (size_t)n;
	if (c->rlen >= 2 && c->rbuf[c->rlen - 1] == '\n' && c->rbuf[c->rlen - 2] == '\n')
		return true;
	if (c->rlen == sizeof c->rbuf)
		die("reply longer than %d bytes", LG_REPLY_MAX);
	return false;
}

static void run_open(struct run *r, const char *path, unsigned nconns, uint64_t wait_ns)
{
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->ep < 0)
		die("epoll_create1: %s", strerror(errno));
	r->nconns = nconns;
	r->conns = calloc(nconns, sizeof *r->conns);
	if (r->conns == NULL)
		die("out of memory");
	for (unsigned i = 0; i < nconns; i++) {
		struct lconn *c = &r->conns[i];
		c->fd = connect_unix(path, i == 0 ? wait_ns : 1000000000u);
		set_nonblock(c->fd);
		c->next = r->pool ? (size_t)i * r->pool->count / nconns : 0;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl: %s", strerror(errno));
	}
}

static void run_close(struct run *r)
{
	for (unsigned i = 0; i < r->nconns; i++)
		close(r->conns[i].fd);
	close(r->ep);
	free(r->conns);
	free(r->lat);
	if (r->pool != NULL)
		free(r->pool->text);
}

/*
 * Drive the connections until the clock passes end_ns or maxlat replies are
 * recorded (keep_going false: stop sending, wait for the replies in flight).
 */
static void run_loop(struct run *r, uint64_t end_ns, bool keep_going)
{
	struct epoll_event ev[LG_MAX_EVENTS];
	for (;;) {
		uint64_t t = now_ns(CLOCK_MONOTONIC);
		if (keep_going && (t >= end_ns || (r->recording && r->nlat >= r->maxlat)))
			return;
		if (!keep_going && (r->inflight == 0 || t >= end_ns))
			return;
		int n = epoll_wait(r->ep, ev, LG_MAX_EVENTS, 50);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++) {
			struct lconn *c = ev[i].data.ptr;
			if (ev[i].events & EPOLLOUT) {
				conn_flush(r, c);
				if (c->wleft == 0)
					conn_want(r, c, EPOLLIN);
				continue;
			}
			if (!c->busy) {
				char junk[64];
				ssize_t k = read(c->fd, junk, sizeof junk);
				die("%s", k == 0 ? "server closed an idle connection"
				                 : "server sent data nobody asked for");
			}
			if (!conn_read(c))
				continue;
			uint64_t t1 = now_ns(CLOCK_MONOTONIC);
			reply_check(r, c);
			c->busy = false;
			r->inflight--;
			if (r->recording && r->nlat < r->maxlat) {
				uint64_t d = t1 - c->t0;
				r->lat[r->nlat++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
			}
			if (keep_going)
				conn_send(r, c, t1);
		}
	}
}

/* ---- the server's CPU and memory, from /proc ---------------------------- */

/* CPU time of every thread of pid, in ns (schedstat), or 0 if unknown. */
static uint64_t proc_cpu_ns(pid_t pid)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%ld/task", (long)pid);
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	uint64_t sum = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[320];
		snprintf(path, sizeof path, "%s/%.24s/schedstat", dir, e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		unsigned long long ns;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

/* A "Key:   123 kB" line of /proc/pid/status, in KiB; 0 if absent. */
static unsigned long proc_status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die("cannot read %s: %s", path, strerror(errno));
	unsigned long v = 0;
	size_t klen = strlen(key);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtoul(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static unsigned proc_nfds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	DIR *d = opendir(path);
	if (d == NULL)
		die("cannot read %s: %s", path, strerror(errno));
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ---- modes ------------------------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static double pct_us(const uint32_t *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i] / 1000.0;
}

static int mode_load(const char *path, unsigned nconns, double secs, double warm,
    size_t maxreq, pid_t pid, uint64_t wait_ns)
{
	static struct pool pool;
	pool_build(&pool);
	struct run r;
	memset(&r, 0, sizeof r);
	r.pool = &pool;
	r.maxlat = maxreq;
	r.lat = malloc(maxreq * sizeof *r.lat);
	if (r.lat == NULL)
		die("out of memory for %zu latencies", maxreq);
	memset(r.lat, 0, maxreq * sizeof *r.lat); /* fault the pages in before timing */
	run_open(&r, path, nconns, wait_ns);

	uint64_t t = now_ns(CLOCK_MONOTONIC);
	for (unsigned i = 0; i < nconns; i++)
		conn_send(&r, &r.conns[i], t);
	run_loop(&r, t + (uint64_t)(warm * 1e9), true);

	r.recording = true;
	r.dunno = r.reject = 0;
	uint64_t cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	uint64_t scpu0 = pid > 0 ? proc_cpu_ns(pid) : 0;
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	run_loop(&r, t0 + (uint64_t)(secs * 1e9), true);
	uint64_t t1 = now_ns(CLOCK_MONOTONIC);
	uint64_t scpu1 = pid > 0 ? proc_cpu_ns(pid) : 0;
	uint64_t cpu1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	r.recording = false;
	run_loop(&r, t1 + 2000000000u, false); /* let the replies in flight arrive */
	if (r.inflight != 0)
		die("%lu replies still missing 2 s after the end", r.inflight);

	double el = (double)(t1 - t0) / 1e9;
	qsort(r.lat, r.nlat, sizeof *r.lat, cmp_u32);
	printf("conns=%u requests=%zu secs=%.3f rps=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f "
	       "dunno=%lu reject=%lu client_cpu_pct=%.1f",
	    nconns, r.nlat, el, (double)r.nlat / el, pct_us(r.lat, r.nlat, 0.50),
	    pct_us(r.lat, r.nlat, 0.99), pct_us(r.lat, r.nlat, 1.0), r.dunno, r.reject,
	    100.0 * (double)(cpu1 - cpu0) / 1e9 / el);
	if (pid > 0 && scpu1 > scpu0)
		printf(" server_cpu_pct=%.1f server_ns_per_req=%.0f",
		    100.0 * (double)(scpu1 - scpu0) / 1e9 / el,
		    r.nlat ? (double)(scpu1 - scpu0) / (double)r.nlat : 0.0);
	printf("\n");
	run_close(&r);
	return 0;
}

/* Wait (bounded) until the server holds at least want descriptors. */
static unsigned wait_fds(pid_t pid, unsigned want)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + 5000000000u;
	unsigned n;
	while ((n = proc_nfds(pid)) < want && now_ns(CLOCK_MONOTONIC) < deadline) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return n;
}

/* RSS after the server has had a moment with nothing to do (bounded). */
static unsigned long settled_rss(pid_t pid)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL); /* nothing to poll for: give the loop one idle turn */
	return proc_status_kib(pid, "VmRSS");
}

static int mode_memory(const char *path, unsigned nconns, pid_t pid, uint64_t wait_ns)
{
	if (pid <= 0)
		die("memory mode needs -P PID");
	static struct pool pool;
	pool_build(&pool);
	unsigned long base = proc_status_kib(pid, "VmRSS");
	unsigned fds0 = proc_nfds(pid);

	struct run r;
	memset(&r, 0, sizeof r);
	r.pool = &pool;
	run_open(&r, path, nconns, wait_ns);
	unsigned held = wait_fds(pid, fds0 + nconns) - fds0;
	unsigned long idle = settled_rss(pid);

	uint64_t t = now_ns(CLOCK_MONOTONIC);
	for (unsigned i = 0; i < nconns; i++)
		conn_send(&r, &r.conns[i], t);
	run_loop(&r, t + 10000000000u, false);
	if (r.inflight != 0)
		die("%lu of %u connections got no reply within 10 s", r.inflight, nconns);
	unsigned long used = settled_rss(pid);
	unsigned still = proc_nfds(pid) - fds0;
	printf("conns=%u held_idle=%u held_after=%u rss_base_kib=%lu rss_idle_kib=%lu "
	       "rss_after_request_kib=%lu hwm_kib=%lu dunno=%lu reject=%lu\n",
	    nconns, held, still, base, idle, used, proc_status_kib(pid, "VmHWM"), r.dunno,
	    r.reject);
	run_close(&r);
	return 0;
}

static int mode_probe(const char *path, uint64_t wait_ns)
{
	static struct pool pool;
	pool_build(&pool);
	struct run r;
	memset(&r, 0, sizeof r);
	r.pool = &pool;
	run_open(&r, path, 1, wait_ns);
	uint64_t t = now_ns(CLOCK_MONOTONIC);
	conn_send(&r, &r.conns[0], t);
	run_loop(&r, t + 5000000000u, false);
	if (r.inflight != 0)
		die("no reply within 5 s");
	run_close(&r);
	return 0;
}

/* ---- soak: a steady rate of requests whose answer is known ------------- */

enum soak_expect { SOAK_ALLOW = 0, SOAK_REFUSE_RELAY, SOAK_REFUSE_PLAINTEXT };

/* Requests whose right answer follows from SPEC and tests/bench/conf.sh:
 * 20% relay attempts (port 25, an untrusted client, no AUTH, a remote
 * recipient: rule 7), 20% submission without TLS (port 587, AUTH, no TLS:
 * rule 1), 60% allowed (port 25 to a local domain, with or without TLS;
 * port 587 over TLS 1.3 with AUTH to anyone). */
static void soak_pool_build(struct pool *p)
{
	p->cap = (size_t)LG_POOL_REQUESTS * 1200;
	p->text = malloc(p->cap);
	if (p->text == NULL)
		die("out of memory");
	p->used = 0;
	p->count = 0;
	while (p->count < LG_POOL_REQUESTS) {
		struct session s;
		char rcpt[160];
		unsigned r = rnd(100);
		enum soak_expect e = r < 20 ? SOAK_REFUSE_RELAY
		                   : r < 40 ? SOAK_REFUSE_PLAINTEXT : SOAK_ALLOW;

		session_new(&s);
		/* TEST-NET ranges: never in trusted_networks. */
		snprintf(s.client_addr, sizeof s.client_addr, "%s.%u",
		    chance(50) ? "198.51.100" : "203.0.113", 1 + rnd(254));
		s.server_addr = "192.0.2.25";
		s.context = "";
		s.ccert_fp[0] = s.ccert_subject[0] = s.ccert_issuer[0] = '\0';
		if (e == SOAK_REFUSE_PLAINTEXT || (e == SOAK_ALLOW && chance(50))) {
			s.port = 587;
			session_tls(&s, e == SOAK_ALLOW ? 100 : 0, 0, 0);
			s.sasl_method = "PLAIN";
			snprintf(s.sasl_user, sizeof s.sasl_user, "%s", PICK(users));
			snprintf(s.sender, sizeof s.sender, "%s@example.org", s.sasl_user);
			snprintf(rcpt, sizeof rcpt, "%s@%s", PICK(users), PICK(remote_domains));
		} else {
			s.port = 25;
			session_tls(&s, 50, 20, 0);
			s.sasl_method = "";
			s.sasl_user[0] = '\0';
			snprintf(rcpt, sizeof rcpt, "%s@%s", PICK(users),
			    e == SOAK_ALLOW ? "example.org" : PICK(remote_domains));
		}
		p->expect[p->count] = (unsigned char)e;
		p->port[p->count] = (unsigned short)s.port;
		pool_request(p, &s, rcpt);
	}
}

/* SIGUSR1: a kill window opens (the server is about to die); SIGUSR2: it
 * closes (the server answers again), after a grace period. */
static volatile sig_atomic_t soak_win_open, soak_win_close;

static void soak_signal(int sig)
{
	if (sig == SIGUSR1)
		soak_win_open = 1;
	else
		soak_win_close = 1;
}

struct sconn {
	int fd;
	bool busy, retry;   /* a request in flight; resend cur (it was not answered) */
	size_t cur;         /* pool index of the request in flight or to resend */
	size_t rlen;
	uint64_t next_send; /* when this connection sends next */
	uint64_t reconnect_at;
	char rbuf[LG_REPLY_MAX];
};

struct soak {
	struct pool *pool;
	int ep;
	bool in_window;
	uint64_t window_end; /* 0: open until SIGUSR2 */
	unsigned long sent, answered, accepted_ok, refused_ok, wrongly_accepted,
	    wrongly_refused, tempfail, bad_reply, port25, port587, windows,
	    refused_in_window, lost_in_window, closed_idle_in_window, evicted_idle,
	    retried, connect_failed_other, unanswered_at_end;
};

static void soak_connect(struct soak *k, struct sconn *c, const char *path, uint64_t now)
{
	int fd = connect_once(path);
	if (fd < 0) {
		if (k->in_window)
			k->refused_in_window++;
		else
			k->connect_failed_other++;
		c->reconnect_at = now + 20000000u;
		return;
	}
	set_nonblock(fd);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	if (epoll_ctl(k->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	c->fd = fd;
	c->rlen = 0;
	if (c->next_send < now)
		c->next_send = now;
}

/* The server closed or reset c. In a kill window a request in flight is
 * lost (the dead server may have counted it); outside one the server closed
 * c while it was idle (made room at the cap) before reading the request, so
 * it is sent again on a new connection, as Postfix's policy client does. */
static void soak_dead(struct soak *k, struct sconn *c, uint64_t now)
{
	close(c->fd);
	c->fd = -1;
	c->reconnect_at = now;
	if (!c->busy) {
		if (k->in_window)
			k->closed_idle_in_window++;
		else
			k->evicted_idle++;
		return;
	}
	c->busy = false;
	if (k->in_window) {
		k->lost_in_window++;
	} else {
		k->retried++;
		c->retry = true;
	}
}

static void soak_send(struct soak *k, struct sconn *c, uint64_t now)
{
	if (!c->retry)
		c->cur = (c->cur + 1) % k->pool->count;
	c->retry = false;
	const char *p = k->pool->text + k->pool->off[c->cur];
	size_t left = k->pool->len[c->cur];
	c->busy = true;
	c->rlen = 0;
	k->sent++;
	while (left > 0) {
		ssize_t w = write(c->fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) { /* EPIPE, ECONNRESET: gone; EAGAIN cannot happen with one in flight */
			soak_dead(k, c, now);
			return;
		}
		p += w;
		left -= (size_t)w;
	}
}

static void soak_reply(struct soak *k, struct sconn *c)
{
	unsigned char e = k->pool->expect[c->cur];
	bool dunno = c->rlen == 14 && memcmp(c->rbuf, "action=DUNNO\n\n", 14) == 0;
	bool refused = c->rlen > 10 && memcmp(c->rbuf, "action=5", 8) == 0;

	c->busy = false;
	k->answered++;
	if (k->pool->port[c->cur] == 25)
		k->port25++;
	else
		k->port587++;
	if (dunno && e == SOAK_ALLOW)
		k->accepted_ok++;
	else if (dunno)
		k->wrongly_accepted++;
	else if (refused && e != SOAK_ALLOW)
		k->refused_ok++;
	else if (refused)
		k->wrongly_refused++;
	else if (c->rlen > 10 && (memcmp(c->rbuf, "action=4", 8) == 0 ||
	                          memcmp(c->rbuf, "action=DEFER", 12) == 0))
		k->tempfail++;
	else
		k->bad_reply++;
}

static void soak_readable(struct soak *k, struct sconn *c, uint64_t now)
{
	ssize_t n = read(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || !c->busy) { /* closed, reset, or data nobody asked for */
		if (n > 0)
			k->bad_reply++;
		soak_dead(k, c, now);
		return;
	}
	c->rlen += (size_t)n;
	if (c->rlen >= 2 && c->rbuf[c->rlen - 1] == '\n' && c->rbuf[c->rlen - 2] == '\n')
		soak_reply(k, c);
	else if (c->rlen == sizeof c->rbuf) {
		k->bad_reply++;
		c->busy = false;
		soak_dead(k, c, now);
	}
}

static void soak_window(struct soak *k, uint64_t now)
{
	if (soak_win_open) {
		soak_win_open = 0;
		k->in_window = true;
		k->window_end = 0;
		k->windows++;
	}
	if (soak_win_close) {
		soak_win_close = 0;
		k->window_end = now + 500000000u; /* the server is back: half a second's grace */
	}
	if (k->in_window && k->window_end != 0 && now >= k->window_end)
		k->in_window = false;
}

/*
 * CONNS connections send RATE requests a second in all (each waits for its
 * reply, as smtpd does) for SECS seconds, reconnecting whenever the server
 * closes one; then one line of counts (see tests/bench/soak.sh).
 */
static int mode_soak(const char *path, unsigned nconns, double rate, double secs)
{
	static struct pool pool;
	struct soak k;
	memset(&k, 0, sizeof k);
	soak_pool_build(&pool);
	k.pool = &pool;
	k.ep = epoll_create1(EPOLL_CLOEXEC);
	if (k.ep < 0)
		die("epoll_create1: %s", strerror(errno));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = soak_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);

	struct sconn *cs = calloc(nconns, sizeof *cs);
	if (cs == NULL)
		die("out of memory");
	uint64_t interval = (uint64_t)(1e9 * nconns / rate);
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)(secs * 1e9);
	for (unsigned i = 0; i < nconns; i++) {
		cs[i].fd = -1;
		cs[i].cur = (size_t)i * pool.count / nconns;
		cs[i].next_send = t0 + interval * i / nconns; /* spread evenly */
	}
	struct epoll_event ev[LG_MAX_EVENTS];
	for (;;) {
		uint64_t now = now_ns(CLOCK_MONOTONIC), wake = now + 50000000u;
		bool ending = now >= end;
		unsigned inflight = 0;
		soak_window(&k, now);
		for (unsigned i = 0; i < nconns; i++) {
			struct sconn *c = &cs[i];
			if (c->fd < 0 && !ending && now >= c->reconnect_at)
				soak_connect(&k, c, path, now);
			if (c->fd >= 0 && !c->busy && !ending && now >= c->next_send) {
				/* Steady: the next slot, not a burst to catch up. */
				c->next_send += interval;
				if (c->next_send < now)
					c->next_send = now + interval;
				soak_send(&k, c, now);
			}
			inflight += c->busy;
			uint64_t w = c->fd < 0 ? c->reconnect_at : c->busy ? wake : c->next_send;
			if (w < wake)
				wake = w;
		}
		if (ending && (inflight == 0 || now >= end + 2000000000u)) {
			k.unanswered_at_end = inflight;
			break;
		}
		int timeout = wake > now ? (int)((wake - now) / 1000000u) : 0;
		int n = epoll_wait(k.ep, ev, LG_MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		now = now_ns(CLOCK_MONOTONIC);
		soak_window(&k, now);
		for (int i = 0; i < n; i++)
			soak_readable(&k, ev[i].data.ptr, now);
	}
	double el = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	printf("conns=%u secs=%.1f sent=%lu answered=%lu rps=%.0f accepted_ok=%lu refused_ok=%lu "
	       "wrongly_accepted=%lu wrongly_refused=%lu tempfail=%lu bad_reply=%lu port25=%lu "
	       "port587=%lu windows=%lu refused_in_window=%lu lost_in_window=%lu "
	       "closed_idle_in_window=%lu evicted_idle=%lu retried=%lu connect_failed_other=%lu "
	       "unanswered_at_end=%lu\n",
	    nconns, el, k.sent, k.answered, (double)k.answered / el, k.accepted_ok, k.refused_ok,
	    k.wrongly_accepted, k.wrongly_refused, k.tempfail, k.bad_reply, k.port25, k.port587,
	    k.windows, k.refused_in_window, k.lost_in_window, k.closed_idle_in_window,
	    k.evicted_idle, k.retried, k.connect_failed_other, k.unanswered_at_end);
	for (unsigned i = 0; i < nconns; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	free(cs);
	free(pool.text);
	close(k.ep);
	return 0;
}

/* ---- flood: hold connections by trickling and by idling ---------------- */

static volatile sig_atomic_t flood_stop;

static void flood_signal(int sig)
{
	(void)sig;
	flood_stop = 1;
}

/*
 * Keep CONNS connections open for SECS seconds (or until SIGTERM): the
 * even ones trickle a request one byte a second and never finish it (a
 * slowloris), the odd ones send nothing. One the server closes is opened
 * again after 200 ms. Prints what the server closed.
 */
static int mode_flood(const char *path, unsigned nconns, double secs)
{
	static struct pool pool;
	pool_build(&pool);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = flood_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	struct fconn {
		int fd;
		size_t sent;
		uint64_t at; /* next byte, or the reconnect */
	} *fs = calloc(nconns, sizeof *fs);
	if (fs == NULL)
		die("out of memory");
	unsigned long connects = 0, connect_failed = 0, closed_trickling = 0, closed_idle = 0;
	unsigned held = 0, held_max = 0;
	uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)(secs * 1e9);
	for (unsigned i = 0; i < nconns; i++)
		fs[i].fd = -1;
	while (!flood_stop && now_ns(CLOCK_MONOTONIC) < end) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		for (unsigned i = 0; i < nconns; i++) {
			struct fconn *f = &fs[i];
			if (f->fd < 0 && now >= f->at) {
				int fd = connect_once(path);
				if (fd < 0) {
					connect_failed++;
					f->at = now + 200000000u;
					continue;
				}
				set_nonblock(fd);
				struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
					die("epoll_ctl: %s", strerror(errno));
				f->fd = fd;
				f->sent = 0;
				f->at = now;
				connects++;
				held++;
			}
			/* All but the blank line that would end the request. */
			size_t len = pool.len[i % pool.count] - 1;
			if (f->fd >= 0 && i % 2 == 0 && f->sent < len && now >= f->at) {
				if (write(f->fd, pool.text + pool.off[i % pool.count] + f->sent, 1) == 1)
					f->sent++;
				f->at = now + 1000000000u;
			}
		}
		if (held > held_max)
			held_max = held;
		struct epoll_event ev[LG_MAX_EVENTS];
		int n = epoll_wait(ep, ev, LG_MAX_EVENTS, 100);
		for (int i = 0; i < n; i++) {
			struct fconn *f = &fs[ev[i].data.u32];
			char junk[64];
			ssize_t r = read(f->fd, junk, sizeof junk);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (f->sent > 0)
				closed_trickling++;
			else
				closed_idle++;
			close(f->fd);
			f->fd = -1;
			f->at = now_ns(CLOCK_MONOTONIC) + 200000000u;
			held--;
		}
	}
	printf("conns=%u held_max=%u connects=%lu connect_failed=%lu closed_trickling=%lu "
	       "closed_idle=%lu\n",
	    nconns, held_max, connects, connect_failed, closed_trickling, closed_idle);
	for (unsigned i = 0; i < nconns; i++)
		if (fs[i].fd >= 0)
			close(fs[i].fd);
	free(fs);
	free(pool.text);
	close(ep);
	return 0;
}

static void raise_nofile(unsigned need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need + 16)
		die("RLIMIT_NOFILE %lu is too low for %u connections",
		    (unsigned long)rl.rlim_cur, need);
}

static void usage(void)
{
	fprintf(stderr,
	    "usage: loadgen -s SOCKET [-c CONNS] [-d SECS] [-w SECS] [-n MAXREQ] [-P PID] "
	    "[-S SEED] [-T WAITSECS] [-L DOMAINS:NETS]\n"
	    "       loadgen -s SOCKET -M -c CONNS -P PID\n"
	    "       loadgen -s SOCKET -1\n"
	    "       loadgen -s SOCKET -K [-c CONNS] [-r RATE] [-d SECS] [-S SEED]\n"
	    "       loadgen -s SOCKET -F -c CONNS [-d SECS]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	const char *spec = NULL;
	unsigned nconns = LG_DEFAULT_CONNS;
	double secs = 2.0, warm = 0.3, waitsecs = 5.0, rate = 500;
	size_t maxreq = LG_DEFAULT_MAXREQ;
	pid_t pid = 0;
	enum lg_mode mode = LG_MODE_LOAD;
	int opt;
	while ((opt = getopt(argc, argv, "s:c:d:w:n:P:S:T:r:L:M1KF")) != -1) {
		switch (opt) {
		case 's': spec = optarg; break;
		case 'c': nconns = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': secs = strtod(optarg, NULL); break;
		case 'w': warm = strtod(optarg, NULL); break;
		case 'n': maxreq = strtoul(optarg, NULL, 10); break;
		case 'P': pid = (pid_t)strtol(optarg, NULL, 10); break;
		case 'S': rng_state = strtoull(optarg, NULL, 10) | 1u; break;
		case 'T': waitsecs = strtod(optarg, NULL); break;
		case 'L':
			if (sscanf(optarg, "%u:%u", &large_domains, &large_nets) != 2 ||
			    large_domains == 0 || large_nets == 0)
				usage();
			break;
		case 'M': mode = LG_MODE_MEMORY; break;
		case '1': mode = LG_MODE_PROBE; break;
		case 'K': mode = LG_MODE_SOAK; break;
		case 'F': mode = LG_MODE_FLOOD; break;
		case 'r': rate = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (spec == NULL || optind != argc || nconns == 0 || nconns > 100000 || secs <= 0 ||
	    secs > 86400 || warm < 0 || !(rate > 0) || rate > 1e6 || warm > 60 || maxreq == 0 || waitsecs < 0 || waitsecs > 600)
		usage();
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(nconns);
	uint64_t wait_ns = (uint64_t)(waitsecs * 1e9);
	const char *path = sock_path(spec);
	switch (mode) {
	case LG_MODE_MEMORY: return mode_memory(path, nconns, pid, wait_ns);
	case LG_MODE_PROBE: return mode_probe(path, wait_ns);
	case LG_MODE_SOAK: return mode_soak(path, nconns, rate, secs);
	case LG_MODE_FLOOD: return mode_flood(path, nconns, secs);
	case LG_MODE_LOAD: break;
	}
	return mode_load(path, nconns, secs, warm, maxreq, pid, wait_ns);
}
