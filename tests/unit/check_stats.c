/*
 * check_stats.c - core/stats.c: counts, the exact stats line, reset on emit,
 * period, tls_pct, concurrency, and the port=other overflow slot.
 */
#include <pthread.h>
#include <syslog.h>

#include "check_common.h"
#include "stats.h"

static struct pg_facts facts(const char *tls, const char *sasl)
{
	struct pg_facts f = {
	    .stage = PG_STAGE_MAIL,
	    .queue_id = "",
	    .client_name = "unknown",
	    .client_addr = "192.0.2.1",
	    .client_port = 40000,
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

static void stats_setup(void)
{
	stats_reset_all();
	stats_init(1000);
	log_set_level(LOG_DEBUG);
}

START_TEST(test_counts_and_line)
{
	struct pg_stats_slot *s = stats_slot(587, "", PG_ROLE_SUBMISSION);
	struct pg_facts f13 = facts("TLSv1.3", "bob");
	struct pg_facts f12 = facts("TLSv1.2", "");
	struct pg_facts fpl = facts("", "eve");
	struct pg_verdict v = {.action = PG_ACT_REJECT, .rule = PG_RULE_PLAINTEXT_AUTH};

	ck_assert_ptr_eq(stats_slot(587, "submission", PG_ROLE_SUBMISSION), s);
	stats_add_transaction(s, &f13, true);
	stats_add_transaction(s, &f13, true);
	stats_add_transaction(s, &f12, true);
	stats_add_transaction(s, &fpl, true);
	stats_add_recipient(s);
	stats_add_recipient(s);
	stats_add_verdict(s, &v);
	v.rule = PG_RULE_AUTH_REQUIRED;
	v.action = PG_ACT_DUNNO;
	v.would_reject = true;
	stats_add_verdict(s, &v);
	struct pg_verdict none = {.action = PG_ACT_DUNNO, .rule = PG_RULE_NONE};
	stats_add_verdict(s, &none);

	ck_assert_int_eq(stats_peek(587, "", "transactions"), 4);
	ck_assert_int_eq(stats_peek(587, "", "TLSv1.3"), 2);
	ck_assert_int_eq(stats_peek(587, "", "auth_plaintext"), 1);
	ck_assert_int_eq(stats_peek(587, "", "reject_auth_required"), 1);
	ck_assert_int_eq(stats_peek(587, "", "no_such_counter"), -1);
	ck_assert_int_eq(stats_peek(2525, "", "transactions"), 0);

	pg_capture_start();
	ck_assert_int_eq(stats_emit(1300, false), 1);
	ck_assert_str_eq(
	    pg_captured_log(),
	    "stats: port=587 role=submission period=300 transactions=4 recipients=2 tls=3 "
	    "plaintext=1 tls_pct=75.0 TLSv1.3=2 TLSv1.2=1 TLSv1.1=0 TLSv1.0=0 auth=3 "
	    "auth_plaintext=1 rejected=1 would_reject=1 reject_plaintext_auth=1 "
	    "reject_auth_forbidden=0 reject_tls_required=0 reject_tls_version=0 reject_cipher=0 "
	    "reject_auth_required=1 reject_relay=0\n");
	/* Emit reset the counters: nothing to say now. */
	ck_assert_int_eq(stats_peek(587, "", "transactions"), 0);
	pg_capture_start();
	ck_assert_int_eq(stats_emit(1400, false), 0);
	ck_assert_str_eq(pg_captured_log(), "");
	log_set_hook(NULL, NULL);
}
END_TEST

START_TEST(test_milter_sessions_and_period)
{
	struct pg_stats_slot *s = stats_slot(25, NULL, PG_ROLE_RELAY);
	struct pg_facts f10 = facts("TLSv1", "");
	struct pg_facts fold = facts("SSLv3", "");
	struct pg_facts fpl = facts("", "");

	stats_add_session(s, &f10);
	stats_add_session(s, &fold);
	stats_add_session(s, &fpl);
	stats_add_transaction(s, &f10, false);
	ck_assert_int_eq(stats_emit(1100, true), 1);
	pg_capture_start();
	stats_add_session(s, &fpl);
	ck_assert_int_eq(stats_emit(1160, true), 1);
	ck_assert_str_eq(
	    pg_captured_log(),
	    "stats: port=25 role=relay period=60 sessions=1 transactions=0 recipients=0 tls=0 "
	    "plaintext=1 tls_pct=0.0 TLSv1.3=0 TLSv1.2=0 TLSv1.1=0 TLSv1.0=0 auth=0 "
	    "auth_plaintext=0 rejected=0 would_reject=0 reject_plaintext_auth=0 "
	    "reject_auth_forbidden=0 reject_tls_required=0 reject_tls_version=0 reject_cipher=0 "
	    "reject_auth_required=0 reject_relay=0\n");
	log_set_hook(NULL, NULL);
}
END_TEST

START_TEST(test_tls_versions_and_pct)
{
	struct pg_stats_slot *s = stats_slot(25, NULL, PG_ROLE_RELAY);
	struct pg_facts f10 = facts("TLSv1", "");
	struct pg_facts f11 = facts("TLSv1.1", "");
	struct pg_facts fold = facts("SSLv3", "");
	struct pg_facts fnew = facts("TLSv1.4", "");
	struct pg_facts fpl = facts("", "");

	stats_add_session(s, &f10);
	stats_add_session(s, &f11);
	stats_add_session(s, &fold);
	stats_add_session(s, &fnew);
	for (int i = 0; i < 36; i++)
		stats_add_session(s, &fpl);
	/* The milter passes count_tls=false: transactions do not count TLS. */
	stats_add_transaction(s, &f10, false);
	ck_assert_int_eq(stats_peek(25, "", "tls"), 4);
	ck_assert_int_eq(stats_peek(25, "", "TLSv1.0"), 1);
	ck_assert_int_eq(stats_peek(25, "", "TLSv1.1"), 1);
	ck_assert_int_eq(stats_peek(25, "", "plaintext"), 36);
	pg_capture_start();
	stats_emit(2000, true);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), " tls=4 plaintext=36 tls_pct=10.0 "));
	ck_assert_ptr_nonnull(
	    strstr(pg_captured_log(), " period=1000 sessions=40 transactions=1 "));
	/* 2 of 3: 66.666... rounds to 66.7. */
	struct pg_facts f13 = facts("TLSv1.3", "");
	stats_add_transaction(s, &f13, true);
	stats_add_transaction(s, &f13, true);
	stats_add_transaction(s, &fpl, true);
	pg_capture_start();
	stats_emit(2000, false);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), " tls_pct=66.7 "));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), " period=0 transactions=3 "));
	log_set_hook(NULL, NULL);
}
END_TEST

START_TEST(test_label_slot)
{
	struct pg_stats_slot *a = stats_slot(0, "submission", PG_ROLE_SUBMISSION);
	struct pg_stats_slot *b = stats_slot(0, "msa", PG_ROLE_SUBMISSION);

	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(stats_slot(0, "submission", PG_ROLE_SUBMISSION), a);
	stats_add_recipient(a);
	pg_capture_start();
	ck_assert_int_eq(stats_emit(1010, false), 1);
	ck_assert_int_eq(strncmp(pg_captured_log(),
	                         "stats: port=submission role=submission period=10 transactions=0 ",
	                         64),
	                 0);
	log_set_hook(NULL, NULL);
}
END_TEST

struct adder {
	struct pg_stats_slot *slot;
	struct pg_facts f;
};

static void *add_many(void *arg)
{
	struct adder *a = arg;
	for (int i = 0; i < 100000; i++) {
		stats_add_transaction(a->slot, &a->f, true);
		stats_add_recipient(stats_slot(465, "", PG_ROLE_SUBMISSION));
	}
	return NULL;
}

START_TEST(test_concurrent_adds_are_exact)
{
	pthread_t t[4];
	struct adder a = {stats_slot(465, "", PG_ROLE_SUBMISSION), facts("TLSv1.3", "bob")};

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, add_many, &a), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(stats_peek(465, "", "transactions"), 400000);
	ck_assert_int_eq(stats_peek(465, "", "recipients"), 400000);
	ck_assert_int_eq(stats_peek(465, "", "TLSv1.3"), 400000);
	ck_assert_int_eq(stats_peek(465, "", "auth"), 400000);
}
END_TEST

START_TEST(test_overflow_is_other)
{
	struct pg_stats_slot *first = NULL;

	for (unsigned p = 1; p <= PG_STATS_SLOTS; p++) {
		struct pg_stats_slot *s = stats_slot(10000 + p, "", PG_ROLE_RELAY);
		if (first == NULL)
			first = s;
		stats_add_recipient(s);
	}
	struct pg_stats_slot *o1 = stats_slot(20001, "", PG_ROLE_RELAY);
	struct pg_stats_slot *o2 = stats_slot(20002, "", PG_ROLE_SUBMISSION);
	ck_assert_ptr_eq(o1, o2);
	ck_assert_ptr_eq(stats_slot(10001, "", PG_ROLE_RELAY), first);
	stats_add_recipient(o1);
	stats_add_recipient(o2);
	ck_assert_int_eq(stats_peek(0, "other", "recipients"), 2);
	pg_capture_start();
	ck_assert_int_eq(stats_emit(1001, false), PG_STATS_SLOTS + 1);
	ck_assert_ptr_nonnull(strstr(
	    pg_captured_log(), "stats: port=other role=- period=1 transactions=0 recipients=2 "));
	log_set_hook(NULL, NULL);
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, stats_setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_counts_and_line);
	tcase_add_test(tc, test_milter_sessions_and_period);
	tcase_add_test(tc, test_tls_versions_and_pct);
	tcase_add_test(tc, test_label_slot);
	tcase_add_test(tc, test_concurrent_adds_are_exact);
	tcase_add_test(tc, test_overflow_is_other);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(stats_suite)
