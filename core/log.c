/*
 * log.c - the one logging module (OpenSMTPD's API, Postfix's severity words).
 *
 * Each call formats one line into a stack buffer of PG_LOG_LINE_MAX bytes (no
 * allocation); a longer line is cut and ends in "...". Lines go to syslog with
 * the ident and facility of log_init(), or to stderr as "ident[pid]: line",
 * one system call each; or, when a daemon installed a sink (policyd's batch
 * writer, policyd/logbatch.c), to the sink. The level words are part of the
 * text, the Postfix way: "warning: ", "error: "; notice, info and debug lines
 * carry none. Lines above the configured level (default LOG_NOTICE) are
 * dropped before formatting. errno is preserved by every call. The test hook
 * sees every line that is written. No sockets here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static char log_ident[64] = "portguard";
static bool log_to_stderr = true;
static int log_facility = LOG_MAIL;
static atomic_int log_level = LOG_NOTICE;
static log_hook_fn log_hook;
static void *log_hook_arg;
static const struct log_sink *log_sink;
static _Thread_local struct log_capture *log_cap; /* this thread's lines go here */

/* The "ident[pid]: " prefix of stderr lines, built once (getpid() is a
 * system call, and formatting each line twice doubled the cost of a log
 * line) and rebuilt in the child after fork()/daemon() and on log_init(). */
static char log_prefix[PG_LOG_PREFIX_MAX];

_Static_assert(sizeof log_ident + 24 + 3 <= PG_LOG_PREFIX_MAX, "ident, pid and \"[]: \" fit");
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
	if (log_sink != NULL)
		log_sink->flush();
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
	if (log_sink != NULL)
		log_sink->flush();
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

/* Mark a cut line: its last three bytes become "...". */
static void log_mark_cut(char *buf, size_t buflen)
{
	size_t len = strlen(buf);

	if (buflen >= 4 && len >= 3)
		memcpy(buf + len - 3, "...", 3);
}

void log_set_sink(const struct log_sink *sink)
{
	log_sink = sink;
}

bool log_uses_stderr(void)
{
	return log_to_stderr;
}

int log_get_facility(void)
{
	return log_facility;
}

const char *log_line_prefix(size_t *len)
{
	if (log_prefix_len == 0) /* a line before log_init() */
		log_refresh_pid();
	*len = log_prefix_len;
	return log_prefix;
}

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

void log_capture_start(struct log_capture *c)
{
	log_cap = c;
}

void log_capture_stop(void)
{
	log_cap = NULL;
}

static void log_capture_add(struct log_capture *c, int level, const char *line)
{
	size_t n = strnlen(line, PG_LOG_LINE_MAX - 1);

	if (c->len + n + 2 > c->cap) {
		size_t cap = (c->len + n + 2) * 2;
		char *grown = realloc(c->buf, cap);
		if (grown == NULL)
			return;
		c->buf = grown;
		c->cap = cap;
	}
	c->buf[c->len++] = (char)level;
	memcpy(c->buf + c->len, line, n);
	c->buf[c->len + n] = '\0';
	c->len += n + 1;
}

void log_capture_replay(struct log_capture *c)
{
	for (size_t at = 0; at < c->len; at += strlen(c->buf + at + 1) + 2)
		log_line((unsigned char)c->buf[at], c->buf + at + 1);
	log_capture_free(c);
}

void log_capture_free(struct log_capture *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static void log_write(int level, const char *line)
{
	if (log_cap != NULL) {
		log_capture_add(log_cap, level, line);
		return;
	}
	if (log_sink != NULL)
		log_sink->line(level, line);
	else
		log_write_now(level, line);
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

	if (log_enabled(level) || log_cap != NULL)
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

void log_at(int level, const char *fmt, ...)
{
	LOG_BODY(level, "", false);
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
