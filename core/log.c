/*
 * log.c - the one logging module (OpenSMTPD's API, Postfix's severity words).
 *
 * Each call formats one line into a stack buffer of PG_LOG_LINE_MAX bytes (no
 * allocation); a longer line is cut and ends in "...". Lines go to syslog with
 * the ident and facility of log_init(), or to stderr as "ident[pid]: line".
 * The level words are part of the text, the Postfix way: "warning: ",
 * "error: ", "fatal: "; notice, info and debug lines carry none. Lines above
 * the configured level (default LOG_NOTICE) are dropped before formatting.
 * errno is preserved by every call. fatal() appends strerror(errno) and exits
 * with EX_OSERR (a system call failed); fatalx() exits with EX_SOFTWARE (an
 * impossible state). The test hook sees every line that is written. A
 * single-threaded event loop may batch its lines (log_batch_start, below).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char log_ident[64] = "portguard";
static bool log_to_stderr = true;
static int log_facility = LOG_MAIL;
static atomic_int log_level = LOG_NOTICE;
static log_hook_fn log_hook;
static void *log_hook_arg;

/* The "ident[pid]: " prefix of stderr lines, built once (getpid() is a
 * system call, and formatting each line twice doubled the cost of a log
 * line) and rebuilt in the child after fork()/daemon() and on log_init(). */
static char log_prefix[sizeof log_ident + 32];
static size_t log_prefix_len;

static void log_refresh_pid(void)
{
	char digits[24];
	size_t nd = 0, len = strlen(log_ident);
	unsigned long pid = (unsigned long)getpid();

	do {
		digits[nd++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid != 0 && nd < sizeof digits);
	memcpy(log_prefix, log_ident, len);
	log_prefix[len++] = '[';
	while (nd > 0)
		log_prefix[len++] = digits[--nd];
	memcpy(log_prefix + len, "]: ", 3);
	log_prefix_len = len + 3;
}

static void log_register_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, log_refresh_pid);
}

void log_init(const char *ident, bool to_stderr, int facility)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int saved = errno;

	(void)pthread_once(&once, log_register_atfork);
	log_flush();
	if (ident != NULL)
		snprintf(log_ident, sizeof log_ident, "%s", ident);
	log_refresh_pid();
	log_to_stderr = to_stderr;
	log_facility = facility;
	if (!to_stderr)
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	errno = saved;
}

void log_set_facility(int facility)
{
	int saved = errno;

	if (facility == log_facility)
		return;
	log_flush();
	log_facility = facility;
	if (!log_to_stderr) {
		closelog();
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	}
	errno = saved;
}

void log_set_level(int level)
{
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

bool log_enabled(int level)
{
	return level <= log_get_level();
}

void log_set_hook(log_hook_fn fn, void *arg)
{
	log_hook_arg = arg;
	log_hook = fn;
}

static const char *log_level_word(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "fatal: ";
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

/* Mark a cut line: its last three bytes become "...". */
static void log_mark_cut(char *buf, size_t buflen)
{
	size_t len = strlen(buf);

	if (buflen >= 4 && len >= 3)
		memcpy(buf + len - 3, "...", 3);
}

/*
 * Batching (log_batch_start). Entries are stored as they will be sent: for
 * stderr "ident[pid]: line\n" back to back, so the whole buffer is one
 * write(2); for syslog the datagram syslog(3) would send, "<pri>Mmm dd
 * hh:mm:ss ident[pid]: line", each an iovec of one sendmmsg(2). The socket
 * is our own connection to the local syslog socket, opened at the first
 * flush; when it cannot be opened or a send fails for good, the remaining
 * lines go through syslog(3) one by one, which has its own fallbacks.
 */
enum {
	LOG_BATCH_STDERR_MAX = PIPE_BUF, /* one write, atomic on a pipe */
	LOG_BATCH_BYTES = 16384,
	LOG_BATCH_LINES = 64,
	LOG_SYSLOG_HEADER_MAX = 40, /* "<191>Mmm dd hh:mm:ss " */
};

static bool log_batching;
static char log_batch_buf[LOG_BATCH_BYTES];
static size_t log_batch_len;
static struct {
	uint16_t off;  /* where the entry starts in log_batch_buf */
	uint16_t body; /* where its line starts (after the header, syslog only) */
	uint16_t len;  /* bytes of the whole entry */
	int level;
} log_batch_ent[LOG_BATCH_LINES];
static unsigned log_batch_n;
static char log_syslog_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = "/dev/log";
static int log_syslog_fd = -1;
static bool log_syslog_failed; /* our socket could not be opened: use syslog(3) */
static time_t log_stamp_time = -1;
static char log_stamp[24];
static size_t log_stamp_len;

_Static_assert(LOG_BATCH_BYTES <= UINT16_MAX, "batch offsets are 16-bit");
_Static_assert(LOG_BATCH_STDERR_MAX >= PG_LOG_LINE_MAX + sizeof log_prefix + 1,
               "a stderr line fits an empty batch");
_Static_assert(LOG_BATCH_BYTES >= PG_LOG_LINE_MAX + LOG_SYSLOG_HEADER_MAX + sizeof log_prefix,
               "a syslog datagram fits an empty batch");

static void log_write_now(int level, const char *line)
{
	if (log_to_stderr) {
		if (log_prefix_len == 0) /* a line before log_init() */
			log_refresh_pid();
		struct iovec iov[3] = {
		    {log_prefix, log_prefix_len},
		    {(void *)(uintptr_t)line, strnlen(line, PG_LOG_LINE_MAX)},
		    {(void *)(uintptr_t) "\n", 1},
		};
		/* One system call per line, so threads do not interleave within a line. */
		ssize_t ignored = writev(STDERR_FILENO, iov, 3);
		(void)ignored;
	} else {
		syslog(level, "%s", line);
	}
}

static bool log_syslog_open(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (log_syslog_fd >= 0)
		return true;
	if (log_syslog_failed)
		return false;
	memcpy(sun.sun_path, log_syslog_path, sizeof sun.sun_path);
	log_syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (log_syslog_fd >= 0 && connect(log_syslog_fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		return true;
	if (log_syslog_fd >= 0)
		close(log_syslog_fd);
	log_syslog_fd = -1;
	log_syslog_failed = true; /* a stream socket or none: syslog(3) knows what to do */
	return false;
}

static void log_syslog_close(void)
{
	if (log_syslog_fd >= 0)
		close(log_syslog_fd);
	log_syslog_fd = -1;
}

/* Send entries [from, log_batch_n) as datagrams; the rest through syslog(3). */
static void log_flush_syslog(void)
{
	struct mmsghdr msg[LOG_BATCH_LINES];
	struct iovec iov[LOG_BATCH_LINES];
	unsigned done = 0;
	bool retried = false;

	memset(msg, 0, sizeof msg);
	for (unsigned i = 0; i < log_batch_n; i++) {
		iov[i].iov_base = log_batch_buf + log_batch_ent[i].off;
		iov[i].iov_len = log_batch_ent[i].len;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	while (done < log_batch_n && log_syslog_open()) {
		int n = sendmmsg(log_syslog_fd, msg + done, log_batch_n - done, MSG_NOSIGNAL);

		if (n > 0) {
			done += (unsigned)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* The syslog daemon restarted (ECONNREFUSED, ENOTCONN): reconnect once. */
		log_syslog_close();
		if (retried)
			break;
		retried = true;
	}
	for (unsigned i = done; i < log_batch_n; i++) {
		size_t skip = log_batch_ent[i].body - log_batch_ent[i].off;

		syslog(log_batch_ent[i].level, "%.*s", (int)(log_batch_ent[i].len - skip),
		       log_batch_buf + log_batch_ent[i].body);
	}
}

void log_flush(void)
{
	int saved = errno;

	if (log_batch_n > 0) {
		if (log_to_stderr) {
			ssize_t ignored = write(STDERR_FILENO, log_batch_buf, log_batch_len);
			(void)ignored;
		} else {
			log_flush_syslog();
		}
	}
	log_batch_n = 0;
	log_batch_len = 0;
	errno = saved;
}

void log_batch_start(void)
{
	log_batching = true;
}

void log_batch_stop(void)
{
	log_flush();
	log_batching = false;
	log_syslog_close();
	log_syslog_failed = false;
}

void log_set_syslog_path(const char *path)
{
	log_flush();
	log_syslog_close();
	log_syslog_failed = false;
	snprintf(log_syslog_path, sizeof log_syslog_path, "%s", path);
}

/* "Mmm dd hh:mm:ss ", as syslog(3) writes it, formatted once a second. */
static void log_stamp_refresh(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now == log_stamp_time)
		return;
	log_stamp_time = now;
	log_stamp_len = 0;
	if (localtime_r(&now, &tm) != NULL)
		log_stamp_len = strftime(log_stamp, sizeof log_stamp, "%b %e %H:%M:%S ", &tm);
}

static void log_batch_add(int level, const char *line)
{
	size_t len = strnlen(line, PG_LOG_LINE_MAX), cap, need, hdr = 0;
	char *p;

	if (log_prefix_len == 0)
		log_refresh_pid();
	if (log_to_stderr) {
		cap = LOG_BATCH_STDERR_MAX;
		need = log_prefix_len + len + 1;
	} else {
		cap = sizeof log_batch_buf;
		log_stamp_refresh();
		hdr = LOG_SYSLOG_HEADER_MAX; /* an upper bound until formatted */
		need = hdr + log_prefix_len + len + 1;
	}
	if (log_batch_n == LOG_BATCH_LINES || log_batch_len + need > cap)
		log_flush();
	p = log_batch_buf + log_batch_len;
	if (!log_to_stderr) {
		int h = snprintf(p, LOG_SYSLOG_HEADER_MAX, "<%d>%.*s", log_facility | level,
		                 (int)log_stamp_len, log_stamp);
		hdr = h > 0 && h < LOG_SYSLOG_HEADER_MAX ? (size_t)h : 0;
	}
	memcpy(p + hdr, log_prefix, log_prefix_len);
	memcpy(p + hdr + log_prefix_len, line, len);
	need = hdr + log_prefix_len + len;
	if (log_to_stderr)
		p[need++] = '\n';
	log_batch_ent[log_batch_n].off = (uint16_t)log_batch_len;
	log_batch_ent[log_batch_n].body = (uint16_t)(log_batch_len + hdr + log_prefix_len);
	log_batch_ent[log_batch_n].len = (uint16_t)need;
	log_batch_ent[log_batch_n].level = level;
	log_batch_n++;
	log_batch_len += need;
}

static void log_write(int level, const char *line)
{
	if (!log_batching) {
		log_write_now(level, line);
	} else {
		log_batch_add(level, line);
		if (level <= LOG_ERR)
			log_flush();
	}
	if (log_hook != NULL)
		log_hook(level, line, log_hook_arg);
}

/* prefix: severity word or ""; with_errno: append ": strerror(saved)". */
static void log_vformat(int level, const char *prefix, int saved, bool with_errno, const char *fmt,
                        va_list ap)
{
	char buf[PG_LOG_LINE_MAX];
	size_t plen = strlen(prefix);
	bool cut = false;

	memcpy(buf, prefix, plen + 1);
	int n = vsnprintf(buf + plen, sizeof buf - plen, fmt, ap);
	if (n < 0) {
		snprintf(buf + plen, sizeof buf - plen, "(unformattable log message)");
	} else if ((size_t)n >= sizeof buf - plen) {
		cut = true;
	}
	if (with_errno && !cut) {
		size_t len = strlen(buf);
		int m = snprintf(buf + len, sizeof buf - len, ": %s", strerror(saved));
		if (m < 0 || (size_t)m >= sizeof buf - len)
			cut = true;
	}
	if (cut)
		log_mark_cut(buf, sizeof buf);
	log_write(level, buf);
}

static void log_vmsg(int level, const char *prefix, bool with_errno, const char *fmt, va_list ap)
{
	int saved = errno;

	if (log_enabled(level))
		log_vformat(level, prefix, saved, with_errno, fmt, ap);
	errno = saved;
}

#define LOG_BODY(level, prefix, with_errno)                                                        \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vmsg((level), (prefix), (with_errno), fmt, ap);                                \
		va_end(ap);                                                                        \
	} while (0)

void log_err(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, "error: ", false);
}

void log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning: ", true);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning: ", false);
}

void log_notice(const char *fmt, ...)
{
	LOG_BODY(LOG_NOTICE, "", false);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, "", false);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_DEBUG, "", false);
}

void log_line(int level, const char *line)
{
	int saved = errno;

	if (log_enabled(level))
		log_write(level, line);
	errno = saved;
}

void log_msg(int level, const char *fmt, ...)
{
	LOG_BODY(level, log_level_word(level), false);
}

void log_at(int level, const char *fmt, ...)
{
	LOG_BODY(level, "", false);
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_CRIT, "fatal: ", saved, true, fmt, ap);
	va_end(ap);
	log_flush();
	exit(EX_OSERR);
}

void fatalx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_CRIT, "fatal: ", saved, false, fmt, ap);
	va_end(ap);
	log_flush();
	exit(EX_SOFTWARE);
}

static bool log_byte_is_plain(unsigned char c)
{
	return c >= 0x21 && c < 0x7f && c != '"' && c != '\\';
}

size_t log_escape_byte(char *dst, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	dst[0] = '\\';
	dst[1] = 'x';
	dst[2] = hex[c >> 4];
	dst[3] = hex[c & 0xf];
	return 4;
}

char *log_sanitise(char *dst, size_t dstlen, const char *src)
{
	size_t cap, cut, out = 0, keep = 0;
	const unsigned char *p;

	if (dst == NULL || dstlen == 0)
		return dst;
	dst[0] = '\0';
	if (src == NULL)
		return dst;
	cap = dstlen - 1;
	if (cap > PG_LOG_VALUE_MAX)
		cap = PG_LOG_VALUE_MAX;
	cut = cap >= 3 ? cap - 3 : 0; /* a value that does not fit keeps this much, then "..." */
	/* One pass (this runs for every value of every logged line): escape
	 * into dst; keep remembers where a cut value would end. */
	for (p = (const unsigned char *)src; *p != '\0'; p++) {
		size_t piece = log_byte_is_plain(*p) ? 1 : 4;

		if (out + piece > cap) {
			out = keep;
			if (cap >= 3) {
				memcpy(dst + out, "...", 3);
				out += 3;
			}
			break;
		}
		if (piece == 1)
			dst[out++] = (char)*p;
		else
			out += log_escape_byte(dst + out, *p);
		if (out <= cut)
			keep = out;
	}
	dst[out] = '\0';
	return dst;
}
