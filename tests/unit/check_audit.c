/*
 * check_audit.c - the parsers of portguard-audit: core/audit.c's (postconf
 * -xM and -xP lines, service ports, restriction lists and socket specs),
 * core/audit_sm.c's (DaemonPortOptions values, X lines) and the probe's
 * SMTP reply parser (audit/reply.c, included), with its bounds at "just
 * fits" and "one over"; the exit code's order.
 */
#include "check_common.h"
#include "audit.h"

#include "../../audit/reply.c"

START_TEST(test_service_port)
{
	static const struct {
		const char *svc;
		unsigned want;
	} cases[] = {{"smtp", 25},           {"submission", 587},    {"submissions", 465},
	             {"127.0.0.1:2525", 2525}, {"[::1]:smtp", 25},   {"127.0.0.1:14587", 14587},
	             {"nosuchservice", 0},   {"0", 0},               {"65536", 0},
	             {"1.2.3.4:", 0}};
	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++)
		ck_assert_msg(audit_service_port(cases[i].svc) == cases[i].want, "%s", cases[i].svc);
}
END_TEST

START_TEST(test_master_line)
{
	char name[96];

	ck_assert(audit_master_line("submission inet  n       -       y       -       -       "
	                            "smtpd -o syslog_name=postfix/submission",
	                            name, sizeof name));
	ck_assert_str_eq(name, "submission");
	ck_assert(audit_master_line("127.0.0.1:2525 inet n - n - - /usr/lib/postfix/sbin/smtpd", name,
	                            sizeof name));
	ck_assert_str_eq(name, "127.0.0.1:2525");
	ck_assert(!audit_master_line("pickup unix n - y 60 1 pickup", name, sizeof name));
	ck_assert(!audit_master_line("smtp inet n - y - - postscreen", name, sizeof name));
	ck_assert(!audit_master_line("smtp inet n -", name, sizeof name));
	ck_assert(!audit_master_line("", name, sizeof name));
}
END_TEST

START_TEST(test_param_line)
{
	char a[] = "submission/inet/smtpd_tls_security_level = encrypt";
	char b[] = "127.0.0.1:2525/inet/smtpd_milters =";
	char c[] = "no slash = here";
	char *svc, *param, *value;

	ck_assert(audit_param_line(a, &svc, &param, &value));
	ck_assert_str_eq(svc, "submission/inet");
	ck_assert_str_eq(param, "smtpd_tls_security_level");
	ck_assert_str_eq(value, "encrypt");
	ck_assert(audit_param_line(b, &svc, &param, &value));
	ck_assert_str_eq(svc, "127.0.0.1:2525/inet");
	ck_assert_str_eq(value, "");
	ck_assert(!audit_param_line(c, &svc, &param, &value));
}
END_TEST

START_TEST(test_find_endpoint)
{
	char action[64];
	const char *list = "permit_mynetworks, check_client_access hash:/x, check_policy_service "
	                   "{ unix:portguard/policy, default_action=DUNNO }, reject";

	ck_assert_int_eq(audit_find_endpoint(list, true, "unix:/var/spool/postfix/portguard/policy",
	                                     "/var/spool/postfix", action, sizeof action),
	                 2);
	ck_assert_str_eq(action, "DUNNO");
	ck_assert_int_eq(audit_find_endpoint("check_policy_service unix:/run/p, reject", true,
	                                     "unix:/run/p", "/q", action, sizeof action),
	                 0);
	ck_assert_str_eq(action, "");
	ck_assert_int_eq(audit_find_endpoint("check_policy_service inet:127.0.0.1:9999", true,
	                                     "inet:127.0.0.1:9999", "/q", action, sizeof action),
	                 0);
	ck_assert_int_eq(audit_find_endpoint("check_policy_service inet:127.0.0.1:9998", true,
	                                     "inet:127.0.0.1:9999", "/q", action, sizeof action),
	                 -1);
	ck_assert_int_eq(audit_find_endpoint("permit_sasl_authenticated, reject", true, "unix:/run/p",
	                                     "/q", action, sizeof action),
	                 -1);
	/* milters: the list's own spelling, libmilter's in portguard.conf */
	ck_assert_int_eq(audit_find_endpoint("inet:127.0.0.1:8891, { unix:portguard/milter, "
	                                     "default_action=accept }",
	                                     false, "unix:/var/spool/postfix/portguard/milter",
	                                     "/var/spool/postfix", action, sizeof action),
	                 1);
	ck_assert_str_eq(action, "accept");
	ck_assert(audit_same_socket("inet:127.0.0.1:8891", "inet:8891@127.0.0.1", NULL));
	ck_assert(audit_same_socket("local:/run/m", "unix:/run/m", NULL));
	ck_assert(!audit_same_socket("unix:/run/m", "unix:/run/n", NULL));
	ck_assert_int_eq(audit_find_endpoint("check_policy_service { unix:x", true, "unix:/q/x", "/q",
	                                     action, sizeof action),
	                 -1); /* an unclosed brace: nothing found, nothing read past */
}
END_TEST

START_TEST(test_sm_daemon)
{
	unsigned port;
	char name[32], flags[16];

	ck_assert(audit_sm_daemon("Port=587, Name=MSA, M=Ea", &port, name, sizeof name, flags,
	                          sizeof flags));
	ck_assert_uint_eq(port, 587);
	ck_assert_str_eq(name, "MSA");
	ck_assert_str_eq(flags, "Ea");
	ck_assert(audit_sm_daemon("Name=MTA", &port, name, sizeof name, flags, sizeof flags));
	ck_assert_uint_eq(port, 25);
	ck_assert_str_eq(flags, "");
	ck_assert(audit_sm_daemon("Port=smtps, Name=TLS, Modifiers=s", &port, name, sizeof name, flags,
	                          sizeof flags));
	ck_assert_uint_eq(port, 465);
	ck_assert_str_eq(flags, "s");
	ck_assert(!audit_sm_daemon("Port=nosuch, Name=X", &port, name, sizeof name, flags,
	                           sizeof flags));
}
END_TEST

START_TEST(test_sm_filter)
{
	char name[32], sock[64], flags[16];

	ck_assert(audit_sm_filter("Xportguard, S=unix:/run/portguard/milter, F=T, "
	                          "T=C:10s;S:10s;R:10s;E:30s",
	                          name, sizeof name, sock, sizeof sock, flags, sizeof flags));
	ck_assert_str_eq(name, "portguard");
	ck_assert_str_eq(sock, "unix:/run/portguard/milter");
	ck_assert_str_eq(flags, "T");
	ck_assert(audit_sm_filter("Xother, S=inet:8891@localhost", name, sizeof name, sock,
	                          sizeof sock, flags, sizeof flags));
	ck_assert_str_eq(flags, "");
	ck_assert(!audit_sm_filter("X", name, sizeof name, sock, sizeof sock, flags, sizeof flags));
	ck_assert(!audit_sm_filter("O X=1", name, sizeof name, sock, sizeof sock, flags,
	                           sizeof flags));
}
END_TEST

START_TEST(test_reply)
{
	struct smtp_reply r;
	char why[160];
	const char *ehlo = "250-mx.example\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n"
	                   "250-STARTTLS\r\n250 8BITMIME\r\n";

	ck_assert_int_eq(smtp_reply_parse(ehlo, strlen(ehlo), &r, why, sizeof why),
	                 (long)strlen(ehlo));
	ck_assert(r.done && r.auth && r.starttls);
	ck_assert_uint_eq(r.code, 250);
	ck_assert_str_eq(r.auth_mechs, "PLAIN LOGIN");
	/* the greeting's host name is no keyword; a part-line needs more */
	ck_assert_int_eq(smtp_reply_parse("250-STARTTLS\r\n250 x", 19, &r, why, sizeof why), 0);
	ck_assert(!r.starttls || !r.done);
	ck_assert_int_gt(smtp_reply_parse("220 ready\r\n", 11, &r, why, sizeof why), 0);
	ck_assert(!r.starttls && !r.auth);
	ck_assert_int_gt(smtp_reply_parse("354\n", 4, &r, why, sizeof why), 0);
	ck_assert_int_eq(smtp_reply_parse("hello\r\n", 7, &r, why, sizeof why), -1);
	ck_assert_int_eq(smtp_reply_parse("250-a\r\n220 b\r\n", 14, &r, why, sizeof why), -1);
}
END_TEST

/* PROBE_LINE_MAX: a line of exactly that many bytes (CRLF included) fits,
 * one more does not; so with no newline yet. PROBE_REPLY_MAX likewise. */
START_TEST(test_reply_bounds)
{
	static char buf[PROBE_REPLY_MAX + PROBE_LINE_MAX];
	struct smtp_reply r;
	char why[160];
	size_t n;

	memset(buf, 'a', sizeof buf);
	memcpy(buf, "220 ", 4);
	memcpy(buf + PROBE_LINE_MAX - 2, "\r\n", 2);
	ck_assert_int_eq(smtp_reply_parse(buf, PROBE_LINE_MAX, &r, why, sizeof why), PROBE_LINE_MAX);
	memset(buf, 'a', sizeof buf);
	memcpy(buf, "220 ", 4);
	memcpy(buf + PROBE_LINE_MAX - 1, "\r\n", 2);
	ck_assert_int_eq(smtp_reply_parse(buf, PROBE_LINE_MAX + 1, &r, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "longer than 1000"));
	memset(buf, 'a', sizeof buf); /* an endless line: no newline */
	memcpy(buf, "220-", 4);
	ck_assert_int_eq(smtp_reply_parse(buf, PROBE_LINE_MAX - 1, &r, why, sizeof why), 0);
	ck_assert_int_eq(smtp_reply_parse(buf, PROBE_LINE_MAX, &r, why, sizeof why), -1);
	/* a reply of 8192 bytes in 8-byte lines fits; one line more does not */
	for (n = 0; n + 8 <= PROBE_REPLY_MAX; n += 8)
		memcpy(buf + n, "250-xx\r\n", 8);
	memcpy(buf + n - 8, "250 xx\r\n", 8);
	ck_assert_int_eq(smtp_reply_parse(buf, n, &r, why, sizeof why), (long)n);
	memcpy(buf + n - 8, "250-xx\r\n", 8);
	memcpy(buf + n, "250 xx\r\n", 8);
	ck_assert_int_eq(smtp_reply_parse(buf, n + 8, &r, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "reply longer than 8192"));
}
END_TEST

START_TEST(test_exit_code)
{
	struct audit_report r;

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(audit_exit_code(&r), 0);
	audit_add(&r, 25, "smtp", "relay", "open_relay", AUDIT_SKIPPED, AUDIT_FRONT_BOTH, NULL, "x");
	ck_assert_int_eq(audit_exit_code(&r), 0);
	audit_add(&r, 25, "smtp", "relay", "x", AUDIT_WARNING, AUDIT_FRONT_BOTH, NULL, "x");
	ck_assert_int_eq(audit_exit_code(&r), 1);
	audit_add(&r, 25, "smtp", "relay", "x", AUDIT_UNKNOWN, AUDIT_FRONT_BOTH, NULL, "x");
	ck_assert_int_eq(audit_exit_code(&r), 3);
	audit_add(&r, 25, "smtp", "relay", "x", AUDIT_CRITICAL, AUDIT_FRONT_BOTH, "fix", "%s", "y");
	ck_assert_int_eq(audit_exit_code(&r), 2);
	ck_assert_str_eq(r.v[3].fix, "fix");
	ck_assert_str_eq(r.v[3].detail, "y");
	audit_report_free(&r);
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_service_port);
	tcase_add_test(tc, test_master_line);
	tcase_add_test(tc, test_param_line);
	tcase_add_test(tc, test_find_endpoint);
	tcase_add_test(tc, test_sm_daemon);
	tcase_add_test(tc, test_sm_filter);
	tcase_add_test(tc, test_reply);
	tcase_add_test(tc, test_reply_bounds);
	tcase_add_test(tc, test_exit_code);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(audit_suite)
