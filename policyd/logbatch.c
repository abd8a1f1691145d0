/*
 * logbatch.c - policyd's log sink: the lines of one pass of the event loop,
 * sent together.
 *
 * Between logbatch_start() and logbatch_stop() every line (formatted and
 * filtered by core/log.c as always) is collected and logbatch_flush(),
 * which the loop calls before it blocks, sends them together: one write(2)
 * to stderr (at most PIPE_BUF bytes, so it stays atomic on a pipe), or one
 * sendmmsg(2) of syslog datagrams to the local syslog socket, each datagram
 * what syslog(3) would have sent: "<pri>Mmm dd hh:mm:ss ident[pid]: line".
 * Error and worse lines go out at once, so an error is never delayed or
 * lost in a crash. The socket is our own connection, opened at the first
 * flush; when it cannot be opened or a send fails for good, the remaining
 * lines go through syslog(3) one by one, which has its own fallbacks.
 * Single-threaded: only policyd's loop uses it (the milter cannot: it is
 * not linked into portguard-milter).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "policyd.h"

enum {
	LB_STDERR_MAX = PIPE_BUF, /* one write, atomic on a pipe */
	LB_BYTES = 16384,
	LB_LINES = 64,
	LB_SYSLOG_HEADER_MAX = 40, /* "<191>Mmm dd hh:mm:ss " */
};

static char lb_buf[LB_BYTES];
static size_t lb_len;
static struct {
	uint16_t off;  /* where the entry starts in lb_buf */
	uint16_t body; /* where its line starts (after the header, syslog only) */
	uint16_t len;  /* bytes of the whole entry */
	int level;
} lb_ent[LB_LINES];
static unsigned lb_n;
static bool lb_stderr; /* the pending entries are stderr lines */
static char lb_syslog_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = "/dev/log";
static int lb_fd = -1;
static bool lb_syslog_failed; /* our socket could not be opened: use syslog(3) */
static time_t lb_stamp_time = -1;
static char lb_stamp[24];
static size_t lb_stamp_len;

_Static_assert(LB_BYTES <= UINT16_MAX, "batch offsets are 16-bit");
_Static_assert(LB_STDERR_MAX >= PG_LOG_LINE_MAX + PG_LOG_PREFIX_MAX + 1,
               "a stderr line fits an empty batch");
_Static_assert(LB_BYTES >= PG_LOG_LINE_MAX + LB_SYSLOG_HEADER_MAX + PG_LOG_PREFIX_MAX,
               "a syslog datagram fits an empty batch");

static bool lb_syslog_open(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (lb_fd >= 0)
		return true;
	if (lb_syslog_failed)
		return false;
	memcpy(sun.sun_path, lb_syslog_path, sizeof sun.sun_path);
	lb_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (lb_fd >= 0 && connect(lb_fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		return true;
	if (lb_fd >= 0)
		close(lb_fd);
	lb_fd = -1;
	lb_syslog_failed = true; /* a stream socket or none: syslog(3) knows what to do */
	return false;
}

static void lb_syslog_close(void)
{
	if (lb_fd >= 0)
		close(lb_fd);
	lb_fd = -1;
}

/* Send the entries as datagrams; what cannot be sent through syslog(3). */
static void lb_flush_syslog(void)
{
	struct mmsghdr msg[LB_LINES];
	struct iovec iov[LB_LINES];
	unsigned done = 0;
	bool retried = false;

	memset(msg, 0, sizeof msg);
	for (unsigned i = 0; i < lb_n; i++) {
		iov[i].iov_base = lb_buf + lb_ent[i].off;
		iov[i].iov_len = lb_ent[i].len;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	while (done < lb_n && lb_syslog_open()) {
		int n = sendmmsg(lb_fd, msg + done, lb_n - done, MSG_NOSIGNAL);

		if (n > 0) {
			done += (unsigned)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* The syslog daemon restarted (ECONNREFUSED, ENOTCONN): reconnect once. */
		lb_syslog_close();
		if (retried)
			break;
		retried = true;
	}
	for (unsigned i = done; i < lb_n; i++) {
		size_t skip = lb_ent[i].body - lb_ent[i].off;

		syslog(lb_ent[i].level, "%.*s", (int)(lb_ent[i].len - skip), lb_buf + lb_ent[i].body);
	}
}

void logbatch_flush(void)
{
	int saved = errno;

	if (lb_n > 0) {
		if (lb_stderr) {
			ssize_t ignored = write(STDERR_FILENO, lb_buf, lb_len);
			(void)ignored;
		} else {
			lb_flush_syslog();
		}
	}
	lb_n = 0;
	lb_len = 0;
	errno = saved;
}

/* "Mmm dd hh:mm:ss ", as syslog(3) writes it, formatted once a second. */
static void lb_stamp_refresh(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now == lb_stamp_time)
		return;
	lb_stamp_time = now;
	lb_stamp_len = 0;
	if (localtime_r(&now, &tm) != NULL)
		lb_stamp_len = strftime(lb_stamp, sizeof lb_stamp, "%b %e %H:%M:%S ", &tm);
}

/* "<pri>Mmm dd hh:mm:ss " at p (room for LB_SYSLOG_HEADER_MAX bytes), as
 * syslog(3) writes it; returns its length. The digits by hand: snprintf()
 * was most of the cost of a line. */
static size_t lb_syslog_header(char *p, int pri)
{
	size_t n = 0;

	if (pri < 0 || pri > 999) { /* no facility and level: what printf makes of it */
		int h =
		    snprintf(p, LB_SYSLOG_HEADER_MAX, "<%d>%.*s", pri, (int)lb_stamp_len, lb_stamp);
		return h > 0 && h < LB_SYSLOG_HEADER_MAX ? (size_t)h : 0;
	}
	p[n++] = '<';
	if (pri >= 100)
		p[n++] = (char)('0' + pri / 100);
	if (pri >= 10)
		p[n++] = (char)('0' + pri / 10 % 10);
	p[n++] = (char)('0' + pri % 10);
	p[n++] = '>';
	memcpy(p + n, lb_stamp, lb_stamp_len);
	return n + lb_stamp_len;
}

_Static_assert(LB_SYSLOG_HEADER_MAX >= sizeof "<999>" - 1 + sizeof lb_stamp - 1,
               "the header fits its room");

static void lb_add(int level, const char *line, size_t len)
{
	size_t plen, cap, need, hdr = 0;
	const char *prefix = log_line_prefix(&plen);
	bool to_stderr = log_uses_stderr();
	char *p;

	if (to_stderr) {
		cap = LB_STDERR_MAX;
		need = plen + len + 1;
	} else {
		cap = sizeof lb_buf;
		lb_stamp_refresh();
		hdr = LB_SYSLOG_HEADER_MAX; /* an upper bound until formatted */
		need = hdr + plen + len + 1;
	}
	if (lb_n == LB_LINES || lb_len + need > cap || (lb_n > 0 && to_stderr != lb_stderr))
		logbatch_flush();
	lb_stderr = to_stderr;
	p = lb_buf + lb_len;
	if (!to_stderr)
		hdr = lb_syslog_header(p, log_get_facility() | level);
	memcpy(p + hdr, prefix, plen);
	memcpy(p + hdr + plen, line, len);
	need = hdr + plen + len;
	if (to_stderr)
		p[need++] = '\n';
	lb_ent[lb_n].off = (uint16_t)lb_len;
	lb_ent[lb_n].body = (uint16_t)(lb_len + hdr + plen);
	lb_ent[lb_n].len = (uint16_t)need;
	lb_ent[lb_n].level = level;
	lb_n++;
	lb_len += need;
}

static void lb_line(int level, const char *line, size_t len)
{
	lb_add(level, line, len);
	if (level <= LOG_ERR)
		logbatch_flush();
}

static const struct log_sink lb_sink = {lb_line, logbatch_flush};

void logbatch_start(void)
{
	log_set_sink(&lb_sink);
}

void logbatch_stop(void)
{
	logbatch_flush();
	log_set_sink(NULL);
	lb_syslog_close();
	lb_syslog_failed = false;
}

void logbatch_set_syslog_path(const char *path)
{
	logbatch_flush();
	lb_syslog_close();
	lb_syslog_failed = false;
	snprintf(lb_syslog_path, sizeof lb_syslog_path, "%s", path);
}
