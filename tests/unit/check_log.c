/*
 * check_log.c - core/log.c: severity words, level filter, errno, the
 * sanitiser's escaping and caps, visible truncation, and the sink interface
 * (policyd's batch writer is proven in check_logbatch.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "check_common.h"

START_TEST(test_sanitise_table)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
	    {"bob", "bob"},
	    {"", ""},
	    {"a b", "a\\x20b"},
	    {"x\r\ny", "x\\x0d\\x0ay"},
	    {"q\"s\\", "q\\x22s\\x5c"},
	    {"\x7f\xff\x01", "\\x7f\\xff\\x01"},
	    {"user@example.org", "user@example.org"},
	    {"a=b[c]:1", "a=b[c]:1"},
	};
	char got[PG_LOG_VALUE_MAX + 1];

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++)
		ck_assert_str_eq(log_sanitise(got, sizeof got, cases[i].in), cases[i].want);
	ck_assert_str_eq(log_sanitise(got, sizeof got, NULL), "");
}
END_TEST

START_TEST(test_sanitise_cap_plain)
{
	char in[PG_LOG_VALUE_MAX + 2];
	char got[PG_LOG_VALUE_MAX + 1];

	/* Just fits: exactly PG_LOG_VALUE_MAX bytes, no marker. */
	memset(in, 'a', PG_LOG_VALUE_MAX);
	in[PG_LOG_VALUE_MAX] = '\0';
	log_sanitise(got, sizeof got, in);
	ck_assert_uint_eq(strlen(got), PG_LOG_VALUE_MAX);
	ck_assert_str_eq(got, in);
	/* One over: cut to PG_LOG_VALUE_MAX with a visible "...". */
	in[PG_LOG_VALUE_MAX] = 'a';
	in[PG_LOG_VALUE_MAX + 1] = '\0';
	log_sanitise(got, sizeof got, in);
	ck_assert_uint_eq(strlen(got), PG_LOG_VALUE_MAX);
	ck_assert_str_eq(got + PG_LOG_VALUE_MAX - 3, "...");
	ck_assert_int_eq(got[PG_LOG_VALUE_MAX - 4], 'a');
}
END_TEST

START_TEST(test_sanitise_never_splits_escape)
{
	char in[PG_LOG_VALUE_MAX];
	char got[PG_LOG_VALUE_MAX + 1];
	size_t n = PG_LOG_VALUE_MAX / 4; /* escapes that exactly fill the cap */

	memset(in, '\n', n);
	in[n] = '\0';
	log_sanitise(got, sizeof got, in);
	ck_assert_uint_eq(strlen(got), PG_LOG_VALUE_MAX);
	ck_assert_ptr_null(strstr(got, "..."));
	in[n] = '\n';
	in[n + 1] = '\0';
	log_sanitise(got, sizeof got, in);
	size_t len = strlen(got);
	ck_assert_uint_le(len, PG_LOG_VALUE_MAX);
	ck_assert_str_eq(got + len - 3, "...");
	/* Everything before the marker is whole escapes. */
	ck_assert_uint_eq((len - 3) % 4, 0);
	for (size_t i = 0; i + 3 < len; i += 4)
		ck_assert_int_eq(strncmp(got + i, "\\x0a", 4), 0);
}
END_TEST

START_TEST(test_sanitise_small_buffer)
{
	char got[10];

	log_sanitise(got, sizeof got, "abcdefghijklmnop");
	ck_assert_str_eq(got, "abcdef...");
	log_sanitise(got, sizeof got, "abcdefghi");
	ck_assert_str_eq(got, "abcdefghi");
	log_sanitise(got, sizeof got, "ab\ncdefgh");
	ck_assert_str_eq(got, "ab\\x0a...");
}
END_TEST

/* Each byte alone: kept or escaped, in a value and inside a quoted reply. */
START_TEST(test_every_byte_plain_or_escaped)
{
	for (unsigned c = 1; c < 256; c++) {
		char in[2] = {(char)c, '\0'};
		char got[8], want[8];
		bool printable = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';

		snprintf(want, sizeof want, printable && c != ' ' ? "%c" : "\\x%02x", c);
		ck_assert_str_eq(log_sanitise(got, sizeof got, in), want);
		snprintf(want, sizeof want, printable ? "%c" : "\\x%02x", c);
		memset(got, '#', sizeof got);
		size_t n = log_quote_into(got, sizeof got, in);
		ck_assert_uint_eq(n, strlen(want));
		ck_assert_int_eq(memcmp(got, want, n), 0);
		ck_assert_int_eq(got[n], '#'); /* no NUL */
	}
}
END_TEST

START_TEST(test_sanitise_into)
{
	char got[PG_LOG_VALUE_MAX + 16];

	memset(got, '#', sizeof got);
	/* n bytes, or up to the NUL; no NUL written */
	ck_assert_uint_eq(log_sanitise_into(got, PG_LOG_VALUE_MAX, "<a b>", 4), 7);
	ck_assert_int_eq(memcmp(got, "<a\\x20b#", 8), 0);
	ck_assert_uint_eq(log_sanitise_into(got, PG_LOG_VALUE_MAX, "ab\0cd", 5), 2);
	ck_assert_uint_eq(log_sanitise_into(got, PG_LOG_VALUE_MAX, "abc", SIZE_MAX), 3);
	ck_assert_uint_eq(log_sanitise_into(got, PG_LOG_VALUE_MAX, "abc", 0), 0);
	ck_assert_uint_eq(log_sanitise_into(got, PG_LOG_VALUE_MAX, "", SIZE_MAX), 0);
	ck_assert_uint_eq(log_sanitise_into(got, PG_LOG_VALUE_MAX, NULL, SIZE_MAX), 0);
	/* the cap, and never past PG_LOG_VALUE_MAX however large cap is */
	ck_assert_uint_eq(log_sanitise_into(got, 5, "abcdefgh", SIZE_MAX), 5);
	ck_assert_int_eq(memcmp(got, "ab...", 5), 0);
	char in[PG_LOG_VALUE_MAX + 2];
	memset(in, 'v', sizeof in - 1);
	in[sizeof in - 1] = '\0';
	memset(got, '#', sizeof got);
	ck_assert_uint_eq(log_sanitise_into(got, sizeof got, in, SIZE_MAX), PG_LOG_VALUE_MAX);
	ck_assert_int_eq(memcmp(got + PG_LOG_VALUE_MAX - 3, "...#", 4), 0);
	/* n ends the value before the byte that would not fit: no cut */
	ck_assert_uint_eq(log_sanitise_into(got, sizeof got, in, PG_LOG_VALUE_MAX),
	                  PG_LOG_VALUE_MAX);
	ck_assert_int_eq(got[PG_LOG_VALUE_MAX - 1], 'v');
}
END_TEST

START_TEST(test_quote_into_stops_before_what_does_not_fit)
{
	char got[16];

	memset(got, '#', sizeof got);
	ck_assert_uint_eq(log_quote_into(got, 5, "a \"b\" c"), 2); /* spaces kept */
	ck_assert_int_eq(memcmp(got, "a #", 3), 0);
	ck_assert_uint_eq(log_quote_into(got, 7, "a \"b\" c"), 7); /* "a \x22b": just fits */
	ck_assert_uint_eq(log_quote_into(got, 10, "a \"b\" c"),
	                  7); /* the next escape is one over */
	ck_assert_uint_eq(log_quote_into(got, 11, "a \"b\" c"), 11);
	ck_assert_int_eq(memcmp(got, "a \\x22b\\x22#", 12), 0);
	ck_assert_uint_eq(log_quote_into(got, 0, "a"), 0);
	ck_assert_uint_eq(log_quote_into(got, sizeof got, ""), 0);
}
END_TEST

/* The sanitiser as it was first written (one byte at a time, a cut point
 * remembered on every byte): the reference the faster one must match. */
static char *ref_sanitise(char *dst, size_t dstlen, const char *src)
{
	size_t cap, cut, out = 0, keep = 0;

	if (dst == NULL || dstlen == 0)
		return dst;
	dst[0] = '\0';
	if (src == NULL)
		return dst;
	cap = dstlen - 1;
	if (cap > PG_LOG_VALUE_MAX)
		cap = PG_LOG_VALUE_MAX;
	cut = cap >= 3 ? cap - 3 : 0;
	for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
		bool plain = *p >= 0x21 && *p < 0x7f && *p != '"' && *p != '\\';
		size_t piece = plain ? 1 : 4;

		if (out + piece > cap) {
			out = keep;
			if (cap >= 3) {
				memcpy(dst + out, "...", 3);
				out += 3;
			}
			break;
		}
		if (plain)
			dst[out++] = (char)*p;
		else
			out += (size_t)sprintf(dst + out, "\\x%02x", *p);
		if (out <= cut)
			keep = out;
	}
	dst[out] = '\0';
	return dst;
}

/* log_sanitise against the reference: random values of every length around
 * the cap (raw and escaped), into buffers of every size up to past the cap;
 * nothing written past the buffer. */
START_TEST(test_sanitise_matches_reference)
{
	char in[4 * PG_LOG_VALUE_MAX + 16];
	char got[PG_LOG_VALUE_MAX + 64], want[PG_LOG_VALUE_MAX + 64];

	pg_prop_state = 0x9e3779b97f4a7c15u;
	for (unsigned round = 0; round < 40000; round++) {
		size_t n = pg_prop_next(4) == 0 ? pg_prop_next(sizeof in)
		                             : PG_LOG_VALUE_MAX / 4 + pg_prop_next(PG_LOG_VALUE_MAX);
		size_t dstlen =
		    pg_prop_next(8) == 0 ? pg_prop_next(sizeof got + 1) : PG_LOG_VALUE_MAX + 1;

		if (pg_prop_next(16) == 0)
			dstlen = PG_LOG_VALUE_MAX + pg_prop_next(4);
		pg_prop_bytes(in, n, pg_prop_next(40));
		memset(got, '#', sizeof got);
		memset(want, '#', sizeof want);
		ck_assert_ptr_eq(log_sanitise(got, dstlen, in), got);
		ref_sanitise(want, dstlen, in);
		size_t past = dstlen;

		while (past < sizeof got && got[past] == '#')
			past++;
		/* (Check's asserts are system calls: only on a difference.) */
		if (past != sizeof got || (dstlen > 0 && strcmp(got, want) != 0))
			ck_abort_msg("round %u: %zu bytes into %zu: got \"%.*s\" want \"%s\"",
			             round, n, dstlen, (int)dstlen, got, dstlen > 0 ? want : "");
	}
	/* Every escaped length from one under to one over the cap, the last
	 * piece plain or an escape. */
	for (size_t plain = 0; plain <= PG_LOG_VALUE_MAX + 1; plain++) {
		for (size_t esc = 0; esc <= 3; esc++) {
			memset(in, 'p', plain);
			memset(in + plain, '\n', esc);
			in[plain + esc] = '\0';
			log_sanitise(got, PG_LOG_VALUE_MAX + 1, in);
			ref_sanitise(want, PG_LOG_VALUE_MAX + 1, in);
			if (strcmp(got, want) != 0)
				ck_assert_str_eq(got, want);
			memset(in, '\n', esc);
			memset(in + esc, 'p', plain);
			log_sanitise(got, PG_LOG_VALUE_MAX + 1, in);
			ref_sanitise(want, PG_LOG_VALUE_MAX + 1, in);
			if (strcmp(got, want) != 0)
				ck_assert_str_eq(got, want);
		}
	}
}
END_TEST

START_TEST(test_severity_words)
{
	pg_capture_start();
	log_err("e %d", 1);
	log_warnx("w %s", "x");
	log_notice("n");
	log_info("i");
	log_debug("d");
	log_at(LOG_WARNING, "NOQUEUE: warning: q");
	ck_assert_str_eq(pg_captured_log(), "error: e 1\nwarning: w x\nn\ni\nd\n"
	                                    "NOQUEUE: warning: q\n");
	log_set_hook(NULL, NULL);
}
END_TEST

START_TEST(test_level_filter)
{
	log_set_level(LOG_NOTICE);
	ck_assert(log_enabled(LOG_NOTICE));
	ck_assert(!log_enabled(LOG_INFO));
	pg_capture_start();
	log_info("dropped");
	log_debug("dropped");
	log_notice("kept");
	log_warnx("kept too");
	ck_assert_str_eq(pg_captured_log(), "kept\nwarning: kept too\n");
	log_set_level(LOG_ERR);
	ck_assert_int_eq(log_get_level(), LOG_ERR);
	pg_capture_start();
	log_warnx("dropped");
	log_err("kept");
	ck_assert_str_eq(pg_captured_log(), "error: kept\n");
	log_set_level(LOG_DEBUG);
	log_set_hook(NULL, NULL);
}
END_TEST

START_TEST(test_errno_preserved_and_appended)
{
	pg_capture_start();
	errno = ENOENT;
	log_warn("open %s", "f");
	ck_assert_int_eq(errno, ENOENT);
	log_notice("n");
	ck_assert_int_eq(errno, ENOENT);
	log_set_level(LOG_ERR);
	log_debug("filtered");
	ck_assert_int_eq(errno, ENOENT);
	log_set_level(LOG_DEBUG);
	char want[256];
	snprintf(want, sizeof want, "warning: open f: %s\nn\n", strerror(ENOENT));
	ck_assert_str_eq(pg_captured_log(), want);
	log_set_hook(NULL, NULL);
}
END_TEST

static char last_line[PG_LOG_LINE_MAX + 16];
static int last_level;

static void keep_last(int level, const char *line, void *arg)
{
	(void)arg;
	last_level = level;
	snprintf(last_line, sizeof last_line, "%s", line);
}

START_TEST(test_long_line_cut_visibly)
{
	static char big[PG_LOG_LINE_MAX * 2];

	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_set_hook(keep_last, NULL);
	log_warnx("%s", big);
	ck_assert_int_eq(last_level, LOG_WARNING);
	ck_assert_uint_eq(strlen(last_line), PG_LOG_LINE_MAX - 1);
	ck_assert_int_eq(strncmp(last_line, "warning: zzz", 12), 0);
	ck_assert_str_eq(last_line + PG_LOG_LINE_MAX - 4, "...");
	/* Just fits: no marker. */
	size_t room = PG_LOG_LINE_MAX - 1 - strlen("warning: ");
	big[room] = '\0';
	log_warnx("%s", big);
	ck_assert_uint_eq(strlen(last_line), PG_LOG_LINE_MAX - 1);
	ck_assert_int_eq(last_line[PG_LOG_LINE_MAX - 2], 'z');
	log_set_hook(NULL, NULL);
}
END_TEST

/* A sink of the test: what it was given, and how often it was flushed. */
static char sink_got[1024];
static int sink_flushes;

static void sink_line(int level, const char *line, size_t len)
{
	size_t used = strlen(sink_got);

	ck_assert_uint_eq(len, strlen(line));
	snprintf(sink_got + used, sizeof sink_got - used, "%d %s\n", level, line);
}

static void sink_flush(void)
{
	sink_flushes++;
}

START_TEST(test_sink_takes_lines)
{
	static const struct log_sink sink = {sink_line, sink_flush};
	size_t plen;
	char want[64];

	log_init("pgtest", true, LOG_MAIL);
	log_set_level(LOG_INFO);
	sink_got[0] = '\0';
	sink_flushes = 0;
	pg_capture_start();
	log_set_sink(&sink);
	log_notice("one");
	log_warnx("two");
	log_debug("filtered");
	log_line(LOG_NOTICE, "three");
	log_line_n(LOG_INFO, "four", 4);
	log_line_n(LOG_DEBUG, "filtered", 8);
	ck_assert_str_eq(sink_got, "5 one\n4 warning: two\n5 three\n6 four\n");
	ck_assert_str_eq(pg_captured_log(), "one\nwarning: two\nthree\nfour\n"); /* the hook too */
	/* the sink sends what it holds before the facility changes */
	log_set_facility(LOG_LOCAL3);
	ck_assert_int_eq(sink_flushes, 1);
	ck_assert_int_eq(log_get_facility(), LOG_LOCAL3);
	log_set_facility(LOG_LOCAL3);
	ck_assert_int_eq(sink_flushes, 1);
	ck_assert(log_uses_stderr());
	snprintf(want, sizeof want, "pgtest[%ld]: ", (long)getpid());
	const char *prefix = log_line_prefix(&plen);
	ck_assert_uint_eq(plen, strlen(want));
	ck_assert_int_eq(memcmp(prefix, want, plen), 0);
	log_set_sink(NULL);
	log_notice("five");
	ck_assert_ptr_null(strstr(sink_got, "five"));
	log_set_hook(NULL, NULL);
}
END_TEST

/* A thread's captured lines reach no output until replayed elsewhere,
 * then in order, through the level filter in force at the replay. */
static void *capture_thread(void *arg)
{
	log_capture_start(arg);
	log_warnx("from the thread");
	log_debug("below the level now");
	log_notice("a notice %d", 2);
	log_capture_stop();
	return NULL;
}

START_TEST(test_capture_replay)
{
	struct log_capture c = {0};
	pthread_t t;

	log_set_level(LOG_WARNING);
	pg_capture_start();
	ck_assert_int_eq(pthread_create(&t, NULL, capture_thread, &c), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	log_notice("not captured, filtered");
	ck_assert_str_eq(pg_captured_log(), "");
	log_set_level(LOG_NOTICE);
	log_capture_replay(&c);
	ck_assert_str_eq(pg_captured_log(), "warning: from the thread\na notice 2\n");
	ck_assert_ptr_null(c.buf);
	log_capture_replay(&c); /* empty now */
	ck_assert_str_eq(pg_captured_log(), "warning: from the thread\na notice 2\n");
	log_capture_start(&c);
	log_err("dropped by log_capture_free");
	log_capture_stop();
	log_capture_free(&c);
	ck_assert_str_eq(pg_captured_log(), "warning: from the thread\na notice 2\n");
	log_set_level(LOG_DEBUG);
	log_set_hook(NULL, NULL);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sanitise_table);
	tcase_add_test(tc, test_sanitise_cap_plain);
	tcase_add_test(tc, test_sanitise_never_splits_escape);
	tcase_add_test(tc, test_sanitise_small_buffer);
	tcase_add_test(tc, test_sanitise_matches_reference);
	tcase_add_test(tc, test_every_byte_plain_or_escaped);
	tcase_add_test(tc, test_sanitise_into);
	tcase_add_test(tc, test_quote_into_stops_before_what_does_not_fit);
	tcase_add_test(tc, test_severity_words);
	tcase_add_test(tc, test_level_filter);
	tcase_add_test(tc, test_errno_preserved_and_appended);
	tcase_add_test(tc, test_long_line_cut_visibly);
	tcase_add_test(tc, test_sink_takes_lines);
	tcase_add_test(tc, test_capture_replay);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(log_suite)
