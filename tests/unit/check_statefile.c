/*
 * check_statefile.c - core/statefile.c and the counters' state file of
 * core/stats.c: counts recovered after a crash (the exact recovered line),
 * a clean stop that leaves nothing to recover, and every file that must be
 * set aside (corrupt header, other version, wrong size, corrupt counters,
 * counts for other ports) or cannot be used (locked, no directory), none of
 * them fatal. A crash is simulated by stats_reset_all(), which drops the
 * mapping without marking the file clean, as a kill -9 would.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>

#include "check_common.h"
#include "config.h"
#include "statefile.h"
#include "stats.h"

static char dir[64];
static char file[96];
static struct pg_config *cfg_keep; /* expect_set_aside()'s, for a second round */

static struct pg_config *cfg_ports(const char *ports)
{
	char text[512], err[256];
	struct pg_config *cfg;

	snprintf(text, sizeof text, "state_directory = \"%s\";\nports = ( %s );\n", dir, ports);
	char *path = pg_write_temp(text);
	cfg = config_load(path, err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	unlink(path);
	free(path);
	return cfg;
}

static struct pg_config *cfg_default(void)
{
	return cfg_ports(
	    "{ port = 587; role = \"submission\"; }, { port = 25; role = \"relay\"; }");
}

/* Set-aside copies (NAME.bad.EPOCH) in dir. */
static int count_bad(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "policyd.stats.bad.", strlen("policyd.stats.bad.")) == 0;
	closedir(d);
	return n;
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/pg-statefile-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/policyd.stats", dir);
	stats_reset_all();
	log_set_level(LOG_DEBUG);
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[400];

	stats_reset_all();
	if (cfg_keep != NULL)
		config_free(cfg_keep);
	cfg_keep = NULL;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

/* Count a little on 587 and 25, as the engine would. */
static void traffic(void)
{
	struct pg_facts f = {.stage = PG_STAGE_RCPT,
	                     .tls_version = "TLSv1.3",
	                     .cipher = "TLS_AES_256_GCM_SHA384",
	                     .sasl_method = "",
	                     .sasl_username = ""};
	struct pg_verdict v = {.action = PG_ACT_REJECT, .rule = PG_RULE_RELAY};
	struct pg_stats_slot *sub = stats_slot(587, "", PG_ROLE_SUBMISSION);
	struct pg_stats_slot *relay = stats_slot(25, "", PG_ROLE_RELAY);

	stats_add_transaction(sub, &f, true);
	stats_add_recipient(sub);
	stats_add_recipient(sub);
	stats_add_transaction(relay, &f, true);
	stats_add_recipient(relay);
	stats_add_verdict(relay, &v);
}

/* Start as a daemon would: open the file, then stats_init. */
static bool start(struct pg_config *cfg, time_t t)
{
	bool ok = stats_persist(cfg, "policyd", false, (uid_t)-1, (gid_t)-1);

	stats_init(t);
	return ok;
}

START_TEST(test_recovered_line_exact)
{
	struct pg_config *cfg = cfg_default();
	char want[2048];
	/* A start in the future: the last count (now) is before it, so the
	 * period is empty and both ends are this instant, exactly. */
	const time_t t = 2000000000;

	pg_capture_start();
	ck_assert(start(cfg, t));
	ck_assert_str_eq(pg_captured_log(), "");
	traffic();
	stats_reset_all(); /* kill -9 */
	ck_assert(access(file, F_OK) == 0);

	pg_capture_start();
	ck_assert(start(cfg, 3000));
	snprintf(want, sizeof want,
	         "warning: state file %s: the previous run ended without its final stats line; "
	         "its counts follow, marked recovered=1\n"
	         "stats: port=587 role=submission period=0 transactions=1 recipients=2 tls=1 "
	         "plaintext=0 tls_pct=100.0 TLSv1.3=1 TLSv1.2=0 TLSv1.1=0 TLSv1.0=0 auth=0 "
	         "auth_plaintext=0 rejected=0 would_reject=0 reject_plaintext_auth=0 "
	         "reject_auth_forbidden=0 reject_tls_required=0 reject_tls_version=0 "
	         "reject_cipher=0 reject_auth_required=0 reject_relay=0 recovered=1 "
	         "period_start=2033-05-18T03:33:20Z period_end=2033-05-18T03:33:20Z\n"
	         "stats: port=25 role=relay period=0 transactions=1 recipients=1 tls=1 "
	         "plaintext=0 tls_pct=100.0 TLSv1.3=1 TLSv1.2=0 TLSv1.1=0 TLSv1.0=0 auth=0 "
	         "auth_plaintext=0 rejected=1 would_reject=0 reject_plaintext_auth=0 "
	         "reject_auth_forbidden=0 reject_tls_required=0 reject_tls_version=0 "
	         "reject_cipher=0 reject_auth_required=0 reject_relay=1 recovered=1 "
	         "period_start=2033-05-18T03:33:20Z period_end=2033-05-18T03:33:20Z\n",
	         file);
	ck_assert_str_eq(pg_captured_log(), want);
	/* Recovered, then cleared: the new run starts from zero. */
	ck_assert_int_eq(stats_peek(587, "", "recipients"), 0);
	ck_assert_int_eq(stats_emit(3100, false), 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_recovered_period_ends_at_last_count)
{
	struct pg_config *cfg = cfg_default();
	time_t before = time(NULL);
	char want_start[64];
	struct tm tm;

	ck_assert(start(cfg, before - 600));
	traffic();
	stats_emit(before - 300, false); /* an hourly line; the period restarts here */
	traffic();
	stats_reset_all();

	pg_capture_start();
	ck_assert(start(cfg, time(NULL)));
	time_t tt = before - 300;
	gmtime_r(&tt, &tm);
	strftime(want_start, sizeof want_start, " recovered=1 period_start=%Y-%m-%dT%H:%M:%SZ",
	         &tm);
	const char *line = strstr(pg_captured_log(), "stats: port=587 ");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, " transactions=1 recipients=2 "));
	ck_assert_ptr_nonnull(strstr(line, want_start));
	/* period= runs from the last line to the last count: 300 s, or a
	 * second more if the clock ticked while counting. */
	long period = -1;
	ck_assert_int_eq(sscanf(line, "stats: port=587 role=submission period=%ld", &period), 1);
	ck_assert(period >= 300 && period <= 300 + (long)(time(NULL) - before) + 1);
	config_free(cfg);
}
END_TEST

START_TEST(test_unnamed_port_recovered)
{
	struct pg_config *cfg = cfg_default();
	struct pg_facts f = {.stage = PG_STAGE_MAIL,
	                     .tls_version = "",
	                     .cipher = "",
	                     .sasl_method = "",
	                     .sasl_username = ""};

	ck_assert(start(cfg, 1000));
	stats_add_transaction(stats_slot(0, "", PG_ROLE_RELAY), &f, true); /* no port named */
	stats_reset_all();
	pg_capture_start();
	ck_assert(start(cfg, 2000));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "stats: port=- role=relay "));
	ck_assert_int_eq(count_bad(), 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_clean_stop_marks_clean)
{
	struct pg_config *cfg = cfg_default();

	ck_assert(start(cfg, 1000));
	ck_assert(!stats_file_clean());
	traffic();
	ck_assert_int_eq(stats_emit(1100, false), 2); /* the final lines */
	pg_capture_start();
	stats_stop(1100);
	ck_assert_str_eq(pg_captured_log(), ""); /* nothing left to log */
	ck_assert(stats_file_clean());
	stats_reset_all();

	pg_capture_start();
	ck_assert(start(cfg, 1200));
	ck_assert_str_eq(pg_captured_log(), "");
	ck_assert(!stats_file_clean()); /* running again */
	config_free(cfg);
}
END_TEST

START_TEST(test_stop_logs_late_counts)
{
	struct pg_config *cfg = cfg_default();

	ck_assert(start(cfg, 1000));
	stats_emit(1100, false);
	traffic(); /* a milter thread counted after the final emit */
	pg_capture_start();
	stats_stop(1101);
	ck_assert_ptr_nonnull(
	    strstr(pg_captured_log(), "stats: port=587 role=submission period=1 "));
	ck_assert(stats_file_clean());
	config_free(cfg);
}
END_TEST

/* Overwrite bytes of the file at off. */
static void scribble(off_t off, int byte, size_t len)
{
	char buf[65536];
	int fd = open(file, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert(len <= sizeof buf);
	memset(buf, byte, len);
	ck_assert_int_eq(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

/* A crashed run's file, then damage, then a start: set aside, fresh file. */
static void expect_set_aside(void (*damage)(void), const char *why)
{
	struct pg_config *cfg = cfg_default();
	struct stat st;

	ck_assert(start(cfg, 1000));
	traffic();
	stats_reset_all();
	damage();
	pg_capture_start();
	ck_assert(start(cfg, 2000)); /* never fatal: counting goes on in a fresh file */
	ck_assert_msg(strstr(pg_captured_log(), why) != NULL, "want \"%s\" in: %s", why,
	              pg_captured_log());
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "; set aside as "));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), ", counting starts afresh"));
	ck_assert_ptr_null(strstr(pg_captured_log(), "stats: port=")); /* never trusted */
	ck_assert_int_eq(count_bad(), 1);
	ck_assert_int_eq(stat(file, &st), 0);
	traffic();
	ck_assert_int_eq(stats_peek(587, "", "recipients"), 2);
	stats_reset_all();
	pg_capture_start();
	ck_assert(start(cfg, 3000)); /* the fresh file works: it recovers */
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "stats: port=587 "));
	traffic();
	cfg_keep = cfg;
}

/* The same on a second crash: a second copy set aside beside the first. */
static void expect_set_aside_again(void (*damage)(void), const char *why)
{
	sleep(1); /* NAME.bad.EPOCH: another second, another name */
	stats_reset_all();
	damage();
	pg_capture_start();
	ck_assert(stats_persist(cfg_keep, "policyd", false, (uid_t)-1, (gid_t)-1));
	ck_assert_msg(strstr(pg_captured_log(), why) != NULL, "want \"%s\" in: %s", why,
	              pg_captured_log());
	ck_assert_int_eq(count_bad(), 2);
	config_free(cfg_keep);
	cfg_keep = NULL;
}

static void bad_magic(void)
{
	scribble(0, 'X', 4);
}

static void bad_checksum(void)
{
	scribble(12, 0x7f, 1); /* header_size: the checksum no longer matches */
}

static void bad_counters(void)
{
	struct stat st;

	ck_assert_int_eq(stat(file, &st), 0);
	scribble(32, 0xff, (size_t)st.st_size - 32); /* every field after the header */
}

static void longer(void)
{
	int fd = open(file, O_WRONLY | O_APPEND);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
}

static void truncated(void)
{
	ck_assert_int_eq(truncate(file, 10), 0);
}

START_TEST(test_corrupt_header)
{
	expect_set_aside(bad_magic, "warning: state file ");
	expect_set_aside_again(bad_magic, "/policyd.stats: corrupt header; set aside as ");
}
END_TEST

START_TEST(test_bad_checksum)
{
	expect_set_aside(bad_checksum, ": corrupt header; ");
}
END_TEST

START_TEST(test_corrupt_counters)
{
	expect_set_aside(bad_counters, ": corrupt counters; ");
}
END_TEST

START_TEST(test_wrong_size)
{
	expect_set_aside(longer, ": wrong size (");
}
END_TEST

START_TEST(test_truncated)
{
	expect_set_aside(truncated, ": wrong size (shorter than its header); ");
}
END_TEST

START_TEST(test_other_ports)
{
	struct pg_config *a = cfg_default();
	struct pg_config *b = cfg_ports("{ port = 10025; role = \"relay\"; }");

	ck_assert(start(a, 1000));
	traffic();
	stats_reset_all();
	pg_capture_start();
	ck_assert(start(b, 2000));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(),
	                             ": its counts are for other ports than the configuration's; "
	                             "set aside as "));
	ck_assert_ptr_null(strstr(pg_captured_log(), "stats: port="));
	ck_assert_int_eq(count_bad(), 1);
	config_free(a);
	config_free(b);
}
END_TEST

START_TEST(test_ports_order_and_clean_file)
{
	struct pg_config *a = cfg_default();
	struct pg_config *swapped =
	    cfg_ports("{ port = 25; role = \"relay\"; }, { port = 587; role = \"submission\"; }");
	struct pg_config *b = cfg_ports("{ port = 10025; role = \"relay\"; }");

	/* The same ports in another order: recovered. */
	ck_assert(start(a, 1000));
	traffic();
	stats_reset_all();
	pg_capture_start();
	ck_assert(start(swapped, 2000));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "stats: port=587 "));
	/* A clean file holds nothing to trust: other ports reuse it quietly. */
	stats_stop(2000);
	stats_reset_all();
	pg_capture_start();
	ck_assert(start(b, 3000));
	ck_assert_str_eq(pg_captured_log(), "");
	ck_assert_int_eq(count_bad(), 0);
	/* A reload tells the file its new ports. */
	stats_config(a);
	traffic();
	stats_reset_all();
	pg_capture_start();
	ck_assert(start(a, 4000));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "stats: port=587 "));
	config_free(a);
	config_free(swapped);
	config_free(b);
}
END_TEST

static bool accept_all(const void *payload, char *why, size_t whylen, void *arg)
{
	(void)payload;
	(void)why;
	(void)whylen;
	(void)arg;
	return true;
}

START_TEST(test_other_version)
{
	struct statefile a, b;

	ck_assert_int_eq(statefile_open(&a, dir, "policyd.stats", 1, 100, accept_all, NULL,
	                                (uid_t)-1, (gid_t)-1),
	                 STATEFILE_NEW);
	memset(a.payload, 0x5a, 100);
	statefile_close(&a);
	ck_assert_int_eq(statefile_open(&a, dir, "policyd.stats", 1, 100, accept_all, NULL,
	                                (uid_t)-1, (gid_t)-1),
	                 STATEFILE_FOUND);
	ck_assert_int_eq(((unsigned char *)a.payload)[99], 0x5a);
	statefile_close(&a);
	pg_capture_start();
	ck_assert_int_eq(statefile_open(&b, dir, "policyd.stats", 2, 100, accept_all, NULL,
	                                (uid_t)-1, (gid_t)-1),
	                 STATEFILE_NEW);
	ck_assert_ptr_nonnull(strstr(
	    pg_captured_log(), ": from another version (format 1, this is 2); set aside as "));
	ck_assert_int_eq(((unsigned char *)b.payload)[99], 0);
	statefile_close(&b);
	pg_capture_start();
	ck_assert_int_eq(statefile_open(&b, dir, "policyd.stats", 2, 120, accept_all, NULL,
	                                (uid_t)-1, (gid_t)-1),
	                 STATEFILE_NEW);
	ck_assert_ptr_nonnull(
	    strstr(pg_captured_log(), ": wrong size (132 bytes, want 152); set aside as "));
	statefile_close(&b);
}
END_TEST

START_TEST(test_locked)
{
	struct statefile a, b;

	ck_assert_int_eq(
	    statefile_open(&a, dir, "policyd.stats", 1, 64, accept_all, NULL, (uid_t)-1, (gid_t)-1),
	    STATEFILE_NEW);
	pg_capture_start();
	ck_assert_int_eq(
	    statefile_open(&b, dir, "policyd.stats", 1, 64, accept_all, NULL, (uid_t)-1, (gid_t)-1),
	    STATEFILE_NONE);
	ck_assert_ptr_nonnull(strstr(
	    pg_captured_log(), "/policyd.stats: cannot be used (another process has it "
	                       "open: Resource temporarily unavailable); counting in memory only"));
	ck_assert_ptr_null(b.payload);
	statefile_close(&a);
}
END_TEST

START_TEST(test_unusable_directory_not_fatal)
{
	struct pg_config *cfg;
	char keep[sizeof dir];

	snprintf(keep, sizeof keep, "%s", dir);
	ck_assert_uint_lt(strlen(keep) + 9, sizeof dir);
	memcpy(dir + strlen(keep), "/missing", 9);
	cfg = cfg_default();
	snprintf(dir, sizeof dir, "%s", keep);
	pg_capture_start();
	ck_assert(!start(cfg, 1000));
	ck_assert_ptr_nonnull(strstr(
	    pg_captured_log(), "/missing/policyd.stats: cannot be used (open: No such file or "
	                       "directory); counting in memory only"));
	traffic(); /* in memory, as before */
	ck_assert_int_eq(stats_peek(587, "", "recipients"), 2);
	ck_assert(!stats_file_clean());
	config_free(cfg);
}
END_TEST

START_TEST(test_directory_key)
{
	char err[256];
	char *path = pg_write_temp("state_directory = \"run/portguard\";\n");
	struct pg_config *cfg = config_load(path, err, sizeof err);

	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(err, "must be an absolute path, or \"\""));
	unlink(path);
	free(path);
	path = pg_write_temp("state_directory = \"\";\n");
	cfg = config_load(path, err, sizeof err);
	ck_assert_ptr_nonnull(cfg);
	pg_capture_start();
	ck_assert(!stats_persist(cfg, "policyd", false, (uid_t)-1, (gid_t)-1));
	ck_assert_str_eq(pg_captured_log(),
	                 "state_directory is empty: counters kept in memory only\n");
	config_free(cfg);
	unlink(path);
	free(path);
}
END_TEST

static Suite *statefile_suite(void)
{
	Suite *s = suite_create("statefile");
	TCase *tc = tcase_create("statefile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_recovered_line_exact);
	tcase_add_test(tc, test_recovered_period_ends_at_last_count);
	tcase_add_test(tc, test_unnamed_port_recovered);
	tcase_add_test(tc, test_clean_stop_marks_clean);
	tcase_add_test(tc, test_stop_logs_late_counts);
	tcase_add_test(tc, test_corrupt_header);
	tcase_add_test(tc, test_bad_checksum);
	tcase_add_test(tc, test_corrupt_counters);
	tcase_add_test(tc, test_wrong_size);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_other_ports);
	tcase_add_test(tc, test_ports_order_and_clean_file);
	tcase_add_test(tc, test_other_version);
	tcase_add_test(tc, test_locked);
	tcase_add_test(tc, test_unusable_directory_not_fatal);
	tcase_add_test(tc, test_directory_key);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(statefile_suite)
