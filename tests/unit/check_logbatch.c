/*
 * check_logbatch.c - policyd/logbatch.c, the event loop's log sink: lines
 * held until the flush, errors at once and in order, a full batch sent in
 * whole lines, syslog datagrams as syslog(3) sends them, and a reconnect
 * when the syslog daemon restarts. Each test runs in its own process (Check
 * forks), since stderr is redirected.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>

#include "check_common.h"

#include "../../policyd/logbatch.c"

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
	logbatch_start();
	log_notice("one");
	log_warnx("two %d", 2);
	log_debug("filtered");
	ck_assert_str_eq(pipe_drain(fd), ""); /* held until the loop flushes */
	logbatch_flush();
	snprintf(want, sizeof want, "pgtest[%ld]: one\npgtest[%ld]: warning: two 2\n",
	         (long)getpid(), (long)getpid());
	ck_assert_str_eq(pipe_drain(fd), want);
	logbatch_flush(); /* nothing pending: writes nothing */
	ck_assert_str_eq(pipe_drain(fd), "");
	logbatch_stop();
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
	logbatch_start();
	log_notice("before");
	log_err("broken");
	snprintf(want, sizeof want, "pgtest[%ld]: before\npgtest[%ld]: error: broken\n",
	         (long)getpid(), (long)getpid());
	ck_assert_str_eq(pipe_drain(fd), want);
	logbatch_stop();
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
	logbatch_start();
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
	logbatch_stop();
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
	logbatch_set_syslog_path(path);
	log_set_level(LOG_INFO);
	logbatch_start();
	log_notice("first");
	log_warnx("second");
	log_info("third");
	ck_assert_str_eq(sink_recv(fd), "");
	logbatch_flush();
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_NOTICE, "first");
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_WARNING, "warning: second");
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_INFO, "third");
	ck_assert_str_eq(sink_recv(fd), "");
	/* An error is sent at once; facility changes apply to the next line. */
	log_set_facility(LOG_LOCAL3);
	log_err("now");
	assert_syslog_datagram(sink_recv(fd), LOG_LOCAL3 | LOG_ERR, "error: now");
	logbatch_stop();
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
	logbatch_set_syslog_path(path);
	logbatch_start();
	log_notice("before");
	logbatch_flush();
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
	logbatch_flush();
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_NOTICE, "after");
	assert_syslog_datagram(sink_recv(fd), LOG_MAIL | LOG_NOTICE, "restart");
	logbatch_stop();
	syslog_sink_remove(path, fd);
}
END_TEST

/* The syslog header is what snprintf("<%d>%.*s") made of it, for every
 * facility and level and for numbers that are neither. */
START_TEST(test_syslog_header_as_printf)
{
	static const int odd[] = {-1, -10, -1000, 1000, 12345, INT_MIN, INT_MAX};
	char got[LB_SYSLOG_HEADER_MAX], want[LB_SYSLOG_HEADER_MAX];

	lb_stamp_refresh();
	ck_assert_uint_gt(lb_stamp_len, 0);
	for (int pri = -1; pri <= 1000 + (int)PG_ARRAY_LEN(odd); pri++) {
		int p = pri <= 1000 ? pri : odd[pri - 1001];
		int w = snprintf(want, sizeof want, "<%d>%.*s", p, (int)lb_stamp_len, lb_stamp);
		size_t n = lb_syslog_header(got, p);

		ck_assert_int_gt(w, 0);
		if (n != (size_t)w || memcmp(got, want, n) != 0)
			ck_abort_msg("pri %d: got \"%.*s\" want \"%s\"", p, (int)n, got, want);
	}
}
END_TEST

static Suite *logbatch_suite(void)
{
	Suite *s = suite_create("logbatch");
	TCase *tc = tcase_create("policyd");

	tcase_add_test(tc, test_batch_stderr_waits_for_flush);
	tcase_add_test(tc, test_batch_error_goes_at_once_in_order);
	tcase_add_test(tc, test_batch_full_goes_out_in_whole_lines);
	tcase_add_test(tc, test_batch_syslog_datagrams);
	tcase_add_test(tc, test_batch_syslog_reconnects);
	tcase_add_test(tc, test_syslog_header_as_printf);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(logbatch_suite)
