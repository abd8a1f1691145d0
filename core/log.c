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
 * impossible state). The test hook sees every line that is written.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
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

static void log_write(int level, const char *line)
{
	if (log_to_stderr) {
		if (log_prefix_len == 0) /* a line before log_init() */
			log_refresh_pid();
		struct iovec iov[3] = {
		    {log_prefix, log_prefix_len},
		    {(void *)(uintptr_t)line, strnlen(line, PG_LOG_LINE_MAX)},
		    {(void *)(uintptr_t)"\n", 1},
		};
		/* One system call per line, so threads do not interleave within a line. */
		ssize_t ignored = writev(STDERR_FILENO, iov, 3);
		(void)ignored;
	} else {
		syslog(level, "%s", line);
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
	exit(EX_OSERR);
}

void fatalx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_CRIT, "fatal: ", saved, false, fmt, ap);
	va_end(ap);
	exit(EX_SOFTWARE);
}

static bool log_byte_is_plain(unsigned char c)
{
	return c >= 0x21 && c < 0x7f && c != '"' && c != '\\';
}

char *log_sanitise(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t cap, need = 0, out = 0;
	const unsigned char *p;

	if (dst == NULL || dstlen == 0)
		return dst;
	dst[0] = '\0';
	if (src == NULL)
		return dst;
	cap = dstlen - 1;
	if (cap > PG_LOG_VALUE_MAX)
		cap = PG_LOG_VALUE_MAX;
	for (p = (const unsigned char *)src; *p != '\0' && need <= cap; p++)
		need += log_byte_is_plain(*p) ? 1 : 4;
	/* Whole value fits: no marker. Otherwise leave room for "...". */
	size_t limit = (need <= cap && *p == '\0') ? cap : (cap >= 3 ? cap - 3 : 0);
	for (p = (const unsigned char *)src; *p != '\0'; p++) {
		size_t piece = log_byte_is_plain(*p) ? 1 : 4;
		if (out + piece > limit)
			break;
		if (piece == 1) {
			dst[out++] = (char)*p;
		} else {
			dst[out++] = '\\';
			dst[out++] = 'x';
			dst[out++] = hex[*p >> 4];
			dst[out++] = hex[*p & 0xf];
		}
	}
	if (*p != '\0' && cap >= 3) {
		memcpy(dst + out, "...", 3);
		out += 3;
	}
	dst[out] = '\0';
	return dst;
}
