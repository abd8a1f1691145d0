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
#if defined(__SSE2__) && !defined(PG_NO_SIMD)
#define LOG_SSE2 1
#include <emmintrin.h>
#endif

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

static void log_write_now(int level, const char *line, size_t len)
{
	if (log_to_stderr) {
		if (log_prefix_len == 0) /* a line before log_init() */
			log_refresh_pid();
		struct iovec iov[3] = {
		    {log_prefix, log_prefix_len},
		    {(void *)(uintptr_t)line, len < PG_LOG_LINE_MAX ? len : PG_LOG_LINE_MAX},
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

static void log_capture_add(struct log_capture *c, int level, const char *line, size_t len)
{
	size_t n = len < PG_LOG_LINE_MAX - 1 ? len : PG_LOG_LINE_MAX - 1;

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
	for (size_t at = 0, n; at < c->len; at += n + 2) {
		n = strlen(c->buf + at + 1);
		log_line_n((unsigned char)c->buf[at], c->buf + at + 1, n);
	}
	log_capture_free(c);
}

void log_capture_free(struct log_capture *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

/* line is NUL-terminated, len its strlen (or at least PG_LOG_LINE_MAX: the
 * outputs take no more). */
static void log_write(int level, const char *line, size_t len)
{
	if (log_cap != NULL) {
		log_capture_add(log_cap, level, line, len);
		return;
	}
	if (log_sink != NULL)
		log_sink->line(level, line, len < PG_LOG_LINE_MAX ? len : PG_LOG_LINE_MAX);
	else
		log_write_now(level, line, len);
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
	log_write(level, buf, strnlen(buf, sizeof buf));
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
		log_write(level, line, strnlen(line, PG_LOG_LINE_MAX));
	errno = saved;
}

void log_line_n(int level, const char *line, size_t len)
{
	int saved = errno;

	if (log_enabled(level))
		log_write(level, line, len);
	errno = saved;
}

void log_at(int level, const char *fmt, ...)
{
	LOG_BODY(level, "", false);
}

/*
 * The bytes kept as they are: in a value (log_sanitise), the printable ones
 * but the space, '"' and '\\'; inside a quoted reply (log_quote_into), the
 * space too. Every other byte is written as its "\xHH" escape.
 */
enum { LOG_PLAIN_VALUE = 1, LOG_PLAIN_QUOTED = 2 };

#define B (LOG_PLAIN_VALUE | LOG_PLAIN_QUOTED)
#define Q LOG_PLAIN_QUOTED
/* clang-format off */
static const unsigned char log_plain[256] = {
    /* 0x00-0x1f: control bytes, escaped */
    [0x20] = Q, B, 0, B, B, B, B, B, B, B, B, B, B, B, B, B, /* space ! " # ... / */
    [0x30] = B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* 0 ... ? */
    [0x40] = B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* @ ... O */
    [0x50] = B, B, B, B, B, B, B, B, B, B, B, B, 0, B, B, B, /* P ... [ \ ] ^ _ */
    [0x60] = B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* ` ... o */
    [0x70] = B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, 0, /* p ... ~ DEL */
    /* 0x80-0xff: not ASCII, escaped */
};
/* clang-format on */
#undef B
#undef Q

size_t log_escape_byte(char *dst, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	dst[0] = '\\';
	dst[1] = 'x';
	dst[2] = hex[c >> 4];
	dst[3] = hex[c & 0xf];
	return 4;
}

#ifdef LOG_SSE2
/* Copy the 16 bytes at src to dst; returns a bit for each that is plain by
 * mask: above the space (quoted: from it), below DEL, not '"' or '\\', as
 * in log_plain[] (signed compares: bytes from 0x80 are below the space). */
static inline __attribute__((always_inline)) unsigned
log_copy16(char *dst, const unsigned char *src, unsigned mask)
{
	const __m128i lo = _mm_set1_epi8(mask == LOG_PLAIN_QUOTED ? 0x1f : 0x20);
	const __m128i del = _mm_set1_epi8(0x7f), quote = _mm_set1_epi8('"');
	const __m128i backslash = _mm_set1_epi8('\\');
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)src);
	__m128i in = _mm_and_si128(_mm_cmpgt_epi8(v, lo), _mm_cmplt_epi8(v, del));
	__m128i odd = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));

	_mm_storeu_si128((__m128i *)(void *)dst, v);
	return (unsigned)_mm_movemask_epi8(_mm_andnot_si128(odd, in));
}
#endif

/*
 * Copy the bytes at the start of the n at src that are plain by mask (none
 * of the n is a NUL: the caller measured src) to dst, which has room for n;
 * returns how many. The inner loop of both sanitisers: with SSE2 (every
 * x86-64 has it) 16 bytes at a time, the last ones in a block that overlaps
 * the one before; else, and for fewer than 16 bytes, one at a time.
 */
static inline __attribute__((always_inline)) size_t
log_copy_plain(char *dst, const unsigned char *src, size_t n, unsigned mask)
{
	size_t i = 0;

#ifdef LOG_SSE2
	for (; n - i >= 16; i += 16) {
		unsigned plain = log_copy16(dst + i, src + i, mask);

		if (plain != 0xffff)
			return i + (size_t)__builtin_ctz(~plain);
	}
	if (i > 0 && i < n) { /* bytes n - 16 .. i - 1 are plain, copied again */
		unsigned plain = log_copy16(dst + n - 16, src + n - 16, mask);

		return plain != 0xffff ? n - 16 + (size_t)__builtin_ctz(~plain) : n;
	}
#endif
	for (; i < n && (log_plain[src[i]] & mask) != 0; i++)
		dst[i] = (char)src[i];
	return i;
}

/* The end of a value that may not fit: the pieces up to out end by the
 * cut, the next one past it. Escape what fits in cap; a value that does not
 * fit ends at out, then "...". Returns the length. */
static size_t log_sanitise_end(char *dst, size_t cap, size_t out, const unsigned char *p, size_t n)
{
	size_t keep = out;

	for (; n > 0; n--, p++) {
		size_t piece = log_plain[*p] & LOG_PLAIN_VALUE ? 1 : 4;

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
	}
	return out;
}

size_t log_sanitise_into(char *dst, size_t cap, const char *src, size_t n)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t out = 0, cut;

	if (src == NULL)
		return 0;
	if (cap > PG_LOG_VALUE_MAX)
		cap = PG_LOG_VALUE_MAX;
	cut = cap >= 3 ? cap - 3 : 0; /* a value that does not fit keeps this much, then "..." */
	/* Each byte takes at least one of cap: past cap + 1 of them the value
	 * is cut anyway. */
	n = strnlen(src, n < cap + 1 ? n : cap + 1);
	/* This runs for every value of every logged line: runs of plain bytes,
	 * each escape between them, as long as all of it ends by the cut. */
	while (n > 0) {
		size_t run =
		    log_copy_plain(dst + out, p, n < cut - out ? n : cut - out, LOG_PLAIN_VALUE);

		out += run;
		p += run;
		n -= run;
		if (n == 0)
			break;
		if (out + 4 > cut)
			return log_sanitise_end(dst, cap, out, p, n);
		out += log_escape_byte(dst + out, *p);
		p++;
		n--;
	}
	return out;
}

char *log_sanitise(char *dst, size_t dstlen, const char *src)
{
	if (dst == NULL || dstlen == 0)
		return dst;
	dst[log_sanitise_into(dst, dstlen - 1, src, SIZE_MAX)] = '\0';
	return dst;
}

size_t log_quote_into(char *dst, size_t cap, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strnlen(src, cap), out = 0; /* no more than cap bytes can fit */

	for (;;) {
		size_t run =
		    log_copy_plain(dst + out, p, n < cap - out ? n : cap - out, LOG_PLAIN_QUOTED);

		out += run;
		p += run;
		n -= run;
		if (n == 0 || cap - out < 4)
			return out;
		out += log_escape_byte(dst + out, *p);
		p++;
		n--;
	}
}
