/*
 * check_log.c - core/log.c: severity words, level filter, errno, the
 * sanitiser's escaping and caps, visible truncation, fatal exit codes, and
 * batching (stderr through a pipe, syslog datagrams to a socket of the test).
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <sysexits.h>

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

START_TEST(test_severity_words)
{
	pg_capture_start();
	log_err("e %d", 1);
	log_warnx("w %s", "x");
	log_notice("n");
	log_info("i");
	log_debug("d");
	log_msg(LOG_WARNING, "m");
	log_msg(LOG_NOTICE, "mn");
	log_at(LOG_WARNING, "NOQUEUE: warning: q");
	ck_assert_str_eq(pg_captured_log(), "error: e 1\nwarning: w x\nn\ni\nd\nwarning: m\nmn\n"
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

START_TEST(test_fatal_exits_oserr)
{
	errno = EACCES;
	fatal("cannot bind");
}
END_TEST

START_TEST(test_fatalx_exits_software)
{
	fatalx("impossible state");
}
END_TEST

/* ---- batching (each test runs in its own process: Check forks) ---- */

/* stderr becomes the write end of a non-blocking pipe; returns the read end. */
static int stderr_to_pipe(void)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);
	close(p[1]);
	return p[0];
}

/* What is in the pipe now (may be ""). */
static const char *pipe_drain(int fd)
{
	static char buf[1 << 17];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

START_TEST(test_batch_stderr_waits_for_flush)
{
	int fd = stderr_to_pipe();
	char want[256];

	log_init("pgtest", true, LOG_MAIL);
	log_set_level(LOG_INFO);
	log_batch_start();
	log_notice("one");
	log_warnx("two %d", 2);
	log_debug("filtered");
	ck_assert_str_eq(pipe_drain(fd), ""); /* held until the loop flushes */
	log_flush();
	snprintf(want, sizeof want, "pgtest[%ld]: one\npgtest[%ld]: warning: two 2\n",
	         (long)getpid(), (long)getpid());
	ck_assert_str_eq(pipe_drain(fd), want);
	log_flush(); /* nothing pending: writes nothing */
	ck_assert_str_eq(pipe_drain(fd), "");
	log_batch_stop();
	log_notice("direct");
	snprintf(want, sizeof want, "pgtest[%ld]: direct\n", (long)getpid());
	ck_assert_str_eq(pipe_drain(fd), want);
}
END_TEST

START_TEST(test_batch_error_goes_at_once_in_order)
{
	int fd = stderr_to_pipe();
	char want[256];

	log_init("pgtest", true, LOG_MAIL);
	log_batch_start();
	log_notice("before");
	log_err("broken");
	snprintf(want, sizeof want, "pgtest[%ld]: before\npgtest[%ld]: error: broken\n",
	         (long)getpid(), (long)getpid());
	ck_assert_str_eq(pipe_drain(fd), want);
	log_batch_stop();
}
END_TEST

/* A full batch goes out on its own, in whole lines, before the flush; the
 * hook sees every line when it is logged. */
START_TEST(test_batch_full_goes_out_in_whole_lines)
{
	int fd = stderr_to_pipe();
	char line[128];
	const char *got;
	size_t early;

	log_init("pgtest", true, LOG_MAIL);
	pg_capture_start();
	log_batch_start();
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	for (int i = 0; i < 200; i++)
		log_notice("%03d %s", i, line);
	ck_assert_uint_eq(strlen(pg_captured_log()), 200 * (4 + sizeof line));
	got = pipe_drain(fd);
	early = strlen(got);
	ck_assert_uint_gt(early, 0);
	ck_assert_int_eq(got[early - 1], '\n');
	char *first = strdup(got);
	log_batch_stop();
	got = pipe_drain(fd);
	/* Together: all 200 lines, in order, nothing lost or repeated. */
	size_t plen = strlen(first) + strlen(got);
	char *all = malloc(plen + 1);
	ck_assert_ptr_nonnull(all);
	snprintf(all, plen + 1, "%s%s", first, got);
	char *p = all;
	for (int i = 0; i < 200; i++) {
		char head[32];
		snprintf(head, sizeof head, "pgtest[%ld]: %03d ", (long)getpid(), i);
		ck_assert_int_eq(strncmp(p, head, strlen(head)), 0);
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
	}
	ck_assert_str_eq(p, "");
	free(first);
	free(all);
	log_set_hook(NULL, NULL);
}
END_TEST

/* A datagram socket standing in for /dev/log. */
static int syslog_sink(char *path, size_t pathlen)
{
	static char dir[] = "/tmp/pg-logtest.XXXXXX";
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, pathlen, "%s/log", dir);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void syslog_sink_remove(const char *path, int fd)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	close(fd);
	unlink(path);
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

/* The next datagram, or "" when there is none. */
static const char *sink_recv(int fd)
{
	static char buf[PG_LOG_LINE_MAX + 128];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void assert_syslog_datagram(const char *got, int pri, const char *text)
{
	char pat[512];
	regex_t re;

	/* what syslog(3) sends: "<pri>Mmm dd hh:mm:ss ident[pid]: text" */
	snprintf(pat, sizeof pat,
	         "^<%d>[A-Z][a-z][a-z] [ 123][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] "
	         "pgtest\\[%ld\\]: %s$",
	         pri, (long)getpid(), text);
	ck_assert_int_eq(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, got, 0, NULL, 0) == 0, "datagram '%s' does not match '%s'", got,
	              pat);
	regfree(&re);
}

START_TEST(test_batch_syslog_datagrams)
{
	char path[108];
	int fd = syslog_sink(path, sizeof path);

	log_init("pgtest", false, LOG_MAIL);
	log_set_syslog_path(path);
	log_set_level(LOG_INFO);
	log_batch_start();
	log_notice("first");
	log_warnx("second");
	log_info("third");
	ck_assert_str_eq(sink_recv(fd), "");
	log_flush();
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_NOTICE, "first");
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_WARNING, "warning: second");
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_INFO, "third");
	ck_assert_str_eq(sink_recv(fd), "");
	/* An error is sent at once; facility changes apply to the next line. */
	log_set_facility(LOG_LOCAL3);
	log_err("now");
	assert_syslog_datagram(sink_recv(fd), LOG_LOCAL3 | LOG_ERR, "error: now");
	log_batch_stop();
	syslog_sink_remove(path, fd);
}
END_TEST

/* The syslog daemon restarts (its socket is a new one at the same path):
 * the next flush reconnects and nothing is lost. */
START_TEST(test_batch_syslog_reconnects)
{
	char path[108];
	int fd = syslog_sink(path, sizeof path);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	log_init("pgtest", false, LOG_MAIL);
	log_set_syslog_path(path);
	log_batch_start();
	log_notice("before");
	log_flush();
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_NOTICE, "before");
	close(fd);
	unlink(path);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	log_notice("after");
	log_notice("restart");
	log_flush();
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_NOTICE, "after");
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_NOTICE, "restart");
	log_batch_stop();
	syslog_sink_remove(path, fd);
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
	tcase_add_test(tc, test_severity_words);
	tcase_add_test(tc, test_level_filter);
	tcase_add_test(tc, test_errno_preserved_and_appended);
	tcase_add_test(tc, test_long_line_cut_visibly);
	tcase_add_test(tc, test_batch_stderr_waits_for_flush);
	tcase_add_test(tc, test_batch_error_goes_at_once_in_order);
	tcase_add_test(tc, test_batch_full_goes_out_in_whole_lines);
	tcase_add_test(tc, test_batch_syslog_datagrams);
	tcase_add_test(tc, test_batch_syslog_reconnects);
	tcase_add_exit_test(tc, test_fatal_exits_oserr, EX_OSERR);
	tcase_add_exit_test(tc, test_fatalx_exits_software, EX_SOFTWARE);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(log_suite)
