/*
 * check_metrics.c - core/metrics.c: the exposition text (names, labels,
 * values), counters that stay cumulative across stats lines, the atomic
 * write (no temporary file left) and a failing write logged once.
 */
#include <sys/stat.h>
#include <syslog.h>

#include "check_common.h"
#include "metrics.h"
#include "stats.h"
#include "version.h"

static struct pg_facts facts(const char *tls, const char *sasl)
{
	struct pg_facts f = {
	    .stage = PG_STAGE_MAIL,
	    .queue_id = "",
	    .client_name = "unknown",
	    .client_addr = "192.0.2.1",
	    .tls_version = tls,
	    .cipher = tls[0] != '\0' ? "TLS_AES_256_GCM_SHA384" : "",
	    .cipher_bits = tls[0] != '\0' ? 256 : 0,
	    .sasl_method = sasl[0] != '\0' ? "PLAIN" : "",
	    .sasl_username = sasl,
	    .ccert_fingerprint = "",
	    .recipient = "",
	    .rcpt_mailer = "",
	    .rcpt_host = "",
	};
	return f;
}

static char text[65536];

/* metrics_print() into text. */
static const char *print(void)
{
	FILE *f = fmemopen(text, sizeof text, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert(metrics_print(f));
	fclose(f);
	return text;
}

static void has(const char *line)
{
	char want[512];

	snprintf(want, sizeof want, "\n%s\n", line);
	ck_assert_msg(strstr(text, want) != NULL, "no line '%s' in:\n%s", line, text);
}

static struct pg_config cfg;

static void setup(void)
{
	stats_reset_all();
	stats_init(1000);
	memset(&cfg, 0, sizeof cfg);
	cfg.metrics_interval = 60;
	ck_assert(metrics_start(&cfg, "policyd", false));
}

START_TEST(test_families_and_values)
{
	struct pg_stats_slot *s = stats_slot(587, "", PG_ROLE_SUBMISSION);
	struct pg_facts t13 = facts("TLSv1.3", "bob"), plain = facts("", "eve");
	struct pg_verdict rej = {.action = PG_ACT_REJECT, .rule = PG_RULE_PLAINTEXT_AUTH};
	struct pg_verdict would = {
	    .action = PG_ACT_DUNNO, .rule = PG_RULE_RELAY, .would_reject = true};

	stats_add_transaction(s, &t13, true);
	stats_add_transaction(s, &plain, true);
	stats_add_recipient(s);
	stats_add_verdict(s, &rej);
	stats_add_verdict(s, &would);
	metrics_reloaded(&cfg);
	metrics_reload_failed();
	metrics_reload_failed();
	print();
	has("# TYPE portguard_transactions_total counter");
	has("portguard_build_info{daemon=\"policyd\",version=\"" PG_VERSION "\"} 1");
	has("portguard_config_reloads_total{daemon=\"policyd\",result=\"success\"} 1");
	has("portguard_config_reloads_total{daemon=\"policyd\",result=\"failure\"} 2");
	has("portguard_transactions_total{daemon=\"policyd\",port=\"587\",role=\"submission\"} 2");
	has("portguard_recipients_total{daemon=\"policyd\",port=\"587\",role=\"submission\"} 1");
	has("portguard_tls_total{daemon=\"policyd\",port=\"587\",role=\"submission\",version="
	    "\"TLSv1.3\"} 1");
	has("portguard_tls_total{daemon=\"policyd\",port=\"587\",role=\"submission\",version="
	    "\"TLSv1.2\"} 0");
	has("portguard_plaintext_total{daemon=\"policyd\",port=\"587\",role=\"submission\"} 1");
	has("portguard_auth_total{daemon=\"policyd\",port=\"587\",role=\"submission\"} 2");
	has("portguard_auth_plaintext_total{daemon=\"policyd\",port=\"587\",role=\"submission\"} "
	    "1");
	has("portguard_refusals_total{daemon=\"policyd\",port=\"587\",role=\"submission\",rule="
	    "\"plaintext_auth\"} 1");
	has("portguard_refusals_total{daemon=\"policyd\",port=\"587\",role=\"submission\",rule="
	    "\"relay\"} 0");
	has("portguard_would_refusals_total{daemon=\"policyd\",port=\"587\",role=\"submission\","
	    "rule=\"relay\"} 1");
	/* policyd sees no sessions: no such family */
	ck_assert_ptr_null(strstr(text, "portguard_sessions_total"));
}
END_TEST

START_TEST(test_cumulative_across_stats_lines)
{
	struct pg_stats_slot *s = stats_slot(25, "", PG_ROLE_RELAY);
	struct pg_facts plain = facts("", "");

	stats_add_session(s, &plain);
	stats_add_transaction(s, &plain, false);
	ck_assert(metrics_start(&cfg, "milter", true)); /* with its thread */
	log_set_level(LOG_ERR); /* the stats line itself is check_stats's business */
	stats_emit(1300, true);
	log_set_level(LOG_DEBUG);
	stats_add_session(s, &plain);
	print();
	has("portguard_sessions_total{daemon=\"milter\",port=\"25\",role=\"relay\"} 2");
	has("portguard_transactions_total{daemon=\"milter\",port=\"25\",role=\"relay\"} 1");
	has("portguard_plaintext_total{daemon=\"milter\",port=\"25\",role=\"relay\"} 2");
	metrics_stop(); /* no metrics_file: the thread ends, nothing written */
}
END_TEST

START_TEST(test_atomic_write_and_failure_once)
{
	char dir[] = "/tmp/pg-metrics-XXXXXX", tmp[sizeof cfg.metrics_file + 8];
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cfg.metrics_file, sizeof cfg.metrics_file, "%s/portguard.prom", dir);
	metrics_reloaded(&cfg);
	ck_assert(metrics_write());
	ck_assert_int_eq(stat(cfg.metrics_file, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	snprintf(tmp, sizeof tmp, "%s.tmp", cfg.metrics_file);
	ck_assert_int_ne(stat(tmp, &st), 0);
	/* not due yet: one interval after the reload */
	ck_assert_int_gt(metrics_tick(), 50000);
	unlink(cfg.metrics_file);

	snprintf(cfg.metrics_file, sizeof cfg.metrics_file, "%s/gone/portguard.prom", dir);
	metrics_reloaded(&cfg);
	pg_capture_start();
	ck_assert(!metrics_write());
	ck_assert(!metrics_write());
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "metrics file "));
	ck_assert_ptr_null(strstr(strstr(pg_captured_log(), "metrics file ") + 1, "metrics file "));
	log_set_hook(NULL, NULL);
	rmdir(dir);

	cfg.metrics_file[0] = '\0';
	metrics_reloaded(&cfg);
	ck_assert_int_eq(metrics_tick(), -1);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_families_and_values);
	tcase_add_test(tc, test_cumulative_across_stats_lines);
	tcase_add_test(tc, test_atomic_write_and_failure_once);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(metrics_suite)
