/*
 * log.h - one logging module for both daemons.
 *
 * Output goes to syslog (ident and facility set by log_init) or to stderr
 * (-e), or to a sink a daemon installs. One line per event. Every value a
 * client supplied goes through log_sanitise() before it reaches a format
 * string's argument list, or through log_sanitise_into() straight into a
 * line: control characters, spaces, quotes, backslashes and non-ASCII bytes
 * are escaped as \xHH and the result is capped at PG_LOG_VALUE_MAX with a
 * visible "...". errno is preserved by every call.
 */
#ifndef PG_LOG_H
#define PG_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "pg_limits.h"

#define PG_PRINTF(f, a) __attribute__((format(printf, f, a)))

void log_init(const char *ident, bool to_stderr, int facility);
void log_set_facility(int facility);
void log_set_level(int level); /* messages above this syslog level are dropped */
int log_get_level(void);
bool log_enabled(int level);

void log_err(const char *fmt, ...) PG_PRINTF(1, 2);   /* "error: ..." */
void log_warn(const char *fmt, ...) PG_PRINTF(1, 2);  /* "warning: ...: strerror(errno)" */
void log_warnx(const char *fmt, ...) PG_PRINTF(1, 2); /* "warning: ..." */
void log_notice(const char *fmt, ...) PG_PRINTF(1, 2);
void log_info(const char *fmt, ...) PG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) PG_PRINTF(1, 2);
/* At level, without the severity word: the caller places it, e.g. after a
 * queue id ("NOQUEUE: warning: ..."). */
void log_at(int level, const char *fmt, ...) PG_PRINTF(2, 3);

/* Log a line the caller built (no format, no severity word added); the
 * caller has sanitised every client value in it. For hot paths; log_line_n()
 * when the caller knows len, strlen(line) (line still ends in a NUL). */
void log_line(int level, const char *line);
void log_line_n(int level, const char *line, size_t len);

/*
 * A sink takes every line that passes the level instead of the default
 * output (a writev to stderr, or syslog(3)): policyd's event loop installs
 * its batch writer. line() gets the line as built (no "ident[pid]: ", no
 * newline), NUL-terminated, and len, its length (at most PG_LOG_LINE_MAX);
 * flush() is called before the destination or facility changes.
 * NULL restores the default output. Install it before lines are logged from
 * more than one thread, or not at all.
 */
struct log_sink {
	void (*line)(int level, const char *line, size_t len);
	void (*flush)(void);
};
void log_set_sink(const struct log_sink *sink);

/*
 * Lines logged on the calling thread between log_capture_start() and
 * log_capture_stop() go into c instead of any output, with their level and
 * whatever the level filter says then; log_capture_replay() later logs them
 * on the thread that owns the output (through log_line(), so the filter
 * applies at that time) and empties c. For work moved off policyd's event
 * loop, whose sink is single-threaded. A line that does not fit (out of
 * memory) is dropped. log_capture_free() empties c without logging.
 */
struct log_capture {
	char *buf; /* entries: level byte, line, NUL */
	size_t len, cap;
};
void log_capture_start(struct log_capture *c);
void log_capture_stop(void);
void log_capture_replay(struct log_capture *c);
void log_capture_free(struct log_capture *c);

/* For a sink that formats lines the way the default output does. */
#define PG_LOG_PREFIX_MAX 96 /* "ident[pid]: " */
bool log_uses_stderr(void);
int log_get_facility(void);
const char *log_line_prefix(size_t *len); /* "ident[pid]: ", not NUL-terminated */

/* Write the escape "\xHH" of byte c at dst (4 bytes, no NUL); returns 4.
 * The one escape of every sanitiser (log_sanitise, log_quote_into). */
size_t log_escape_byte(char *dst, unsigned char c);

/* Escape src into dst (always NUL-terminated). Returns dst. dstlen should be
 * at least PG_LOG_VALUE_MAX + 1. An empty or NULL src becomes "". */
char *log_sanitise(char *dst, size_t dstlen, const char *src);

/* log_sanitise() for a builder that escapes straight into its line: the
 * first n bytes of src (fewer at a NUL; SIZE_MAX for a whole string), at
 * most cap bytes (and at most PG_LOG_VALUE_MAX) at dst, no NUL written.
 * Returns the bytes written: 0 for an empty or NULL src. */
size_t log_sanitise_into(char *dst, size_t cap, const char *src, size_t n);

/* src as it stands inside a quoted reply (reply="..."): like a value, but
 * spaces are kept; at most cap bytes at dst, no NUL written, and no visible
 * cut: it stops before the first byte whose form does not fit. Returns the
 * bytes written. */
size_t log_quote_into(char *dst, size_t cap, const char *src);

/* Test hook: when set, every formatted line is also passed here. */
typedef void (*log_hook_fn)(int level, const char *line, void *arg);
void log_set_hook(log_hook_fn fn, void *arg);

#endif
