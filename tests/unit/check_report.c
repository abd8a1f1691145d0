/*
 * check_report.c - core/report.c: the exact log lines both front ends write,
 * sanitising of client values, "pass" only at info, unknown port once.
 */
#include <syslog.h>

#include "check_common.h"
#include "report.h"
#include "version.h"

static struct pg_port sub, relay_port;

static struct pg_facts base_facts(void)
{
	struct pg_facts f = {
	    .stage = PG_STAGE_RCPT,
	    .server_port = 587,
	    .service_label = "",
	    .mta_auth_fix = "",
	    .queue_id = "",
	    .client_name = "mx.example.net",
	    .client_addr = "192.0.2.7",
	    .client_port = 41234,
	    .tls_version = "",
	    .cipher = "",
	    .cipher_bits = 0,
	    .sasl_method = "",
	    .sasl_username = "",
	    .ccert_fingerprint = "",
	    .recipient = "alice@example.org",
	    .rcpt_mailer = "",
	    .rcpt_host = "",
	};
	return f;
}

static void report_setup(void)
{
	config_port_defaults(&sub, PG_ROLE_SUBMISSION);
	sub.port = 587;
	snprintf(sub.name, sizeof sub.name, "submission");
	config_port_defaults(&relay_port, PG_ROLE_RELAY);
	relay_port.port = 25;
	log_set_level(LOG_NOTICE);
	pg_capture_start();
}

static void report_teardown(void)
{
	log_set_hook(NULL, NULL);
	log_set_level(LOG_DEBUG);
}

static struct pg_verdict reject(enum pg_rule rule, unsigned code, const char *esc, const char *text)
{
	struct pg_verdict v = {.action = PG_ACT_REJECT, .rule = rule, .code = code};
	snprintf(v.esc, sizeof v.esc, "%s", esc);
	snprintf(v.text, sizeof v.text, "%s", text);
	return v;
}

START_TEST(test_reject_line)
{
	struct pg_facts f = base_facts();
	struct pg_verdict v =
	    reject(PG_RULE_TLS_REQUIRED, 530, "5.7.0", "Must issue a STARTTLS command first");

	f.stage = PG_STAGE_MAIL;
	report_decision(&sub, &f, &v);
	ck_assert_str_eq(
	    pg_captured_log(),
	    "NOQUEUE: reject: port=587 role=submission mode=enforce "
	    "client=mx.example.net[192.0.2.7]:41234 tls=none cipher=none bits=0 sasl_method=- "
	    "sasl_username=- rule=tls_required reply=\"530 5.7.0 Must issue a STARTTLS command "
	    "first\"\n");
}
END_TEST

START_TEST(test_would_reject_line_with_rcpt)
{
	struct pg_facts f = base_facts();
	struct pg_verdict v =
	    reject(PG_RULE_RELAY, 554, "5.7.1", "<bob@remote.net>: Relay access denied");

	v.action = PG_ACT_DUNNO;
	v.would_reject = true;
	relay_port.mode = PG_MODE_MONITOR;
	f.queue_id = "4XyZ1n2abc";
	f.tls_version = "TLSv1.3";
	f.cipher = "TLS_AES_256_GCM_SHA384";
	f.cipher_bits = 256;
	f.recipient = "<bob@remote.net>";
	f.server_port = 25;
	report_decision(&relay_port, &f, &v);
	ck_assert_str_eq(
	    pg_captured_log(),
	    "4XyZ1n2abc: would-reject: port=25 role=relay mode=monitor "
	    "client=mx.example.net[192.0.2.7]:41234 tls=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 "
	    "bits=256 sasl_method=- sasl_username=- rcpt=<bob@remote.net> rule=relay "
	    "reply=\"554 5.7.1 <bob@remote.net>: Relay access denied\"\n");
}
END_TEST

START_TEST(test_pass_only_at_info)
{
	struct pg_facts f = base_facts();
	struct pg_verdict v = {.action = PG_ACT_DUNNO, .rule = PG_RULE_NONE};

	f.tls_version = "TLSv1.2";
	f.cipher = "ECDHE-RSA-AES256-GCM-SHA384";
	f.cipher_bits = 256;
	f.sasl_method = "PLAIN";
	f.sasl_username = "bob";
	report_decision(&sub, &f, &v);
	ck_assert_str_eq(pg_captured_log(), "");
	log_set_level(LOG_INFO);
	report_decision(&sub, &f, &v);
	ck_assert_str_eq(
	    pg_captured_log(),
	    "NOQUEUE: pass: port=587 role=submission mode=enforce "
	    "client=mx.example.net[192.0.2.7]:41234 tls=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 "
	    "bits=256 sasl_method=PLAIN sasl_username=bob rcpt=<alice@example.org> rule=none\n");
	/* A tempfail verdict is logged by policy_internal_error, not here. */
	pg_capture_start();
	struct pg_verdict t = {.action = PG_ACT_TEMPFAIL, .code = 451};
	report_decision(&sub, &f, &t);
	ck_assert_str_eq(pg_captured_log(), "");
}
END_TEST

START_TEST(test_hostile_values_stay_on_one_line)
{
	struct pg_facts f = base_facts();
	struct pg_verdict v = reject(PG_RULE_PLAINTEXT_AUTH, 538, "5.7.11",
	                             "Encryption required for requested authentication mechanism");

	f.stage = PG_STAGE_MAIL;
	f.sasl_method = "LOGIN";
	f.sasl_username = "bob\r\nNOQUEUE: pass: x y\"z";
	f.client_name = "evil name";
	report_decision(&sub, &f, &v);
	const char *log = pg_captured_log();
	ck_assert_str_eq(
	    log,
	    "NOQUEUE: reject: port=587 role=submission mode=enforce "
	    "client=evil\\x20name[192.0.2.7]:41234 tls=none cipher=none bits=0 sasl_method=LOGIN "
	    "sasl_username=bob\\x0d\\x0aNOQUEUE:\\x20pass:\\x20x\\x20y\\x22z rule=plaintext_auth "
	    "reply=\"538 5.7.11 Encryption required for requested authentication mechanism\"\n");
	/* A 1000-byte username is capped visibly; still one line. */
	char big[1001];
	memset(big, 'u', 1000);
	big[1000] = '\0';
	f.sasl_username = big;
	pg_capture_start();
	report_decision(&sub, &f, &v);
	log = pg_captured_log();
	ck_assert_ptr_eq(strchr(log, '\n'), log + strlen(log) - 1);
	char want[PG_LOG_VALUE_MAX + 32];
	snprintf(want, sizeof want, "sasl_username=%.*s... rule=", PG_LOG_VALUE_MAX - 3, big);
	ck_assert_ptr_nonnull(strstr(log, want));
	/* A quote in the reply text cannot end reply="..." early. */
	pg_capture_start();
	v = reject(PG_RULE_RELAY, 554, "5.7.1", "<\"a b\"@x>: Relay access denied");
	f.server_port = 25;
	report_decision(&relay_port, &f, &v);
	ck_assert_ptr_nonnull(strstr(
	    pg_captured_log(), "reply=\"554 5.7.1 <\\x22a b\\x22@x>: Relay access denied\"\n"));
}
END_TEST

START_TEST(test_plaintext_auth_alarm)
{
	struct pg_facts f = base_facts();

	f.queue_id = "";
	f.sasl_method = "PLAIN";
	f.sasl_username = "bob smith";
	f.mta_auth_fix = "smtpd_tls_auth_only=yes (Postfix)";
	report_plaintext_auth(&sub, &f);
	ck_assert_str_eq(
	    pg_captured_log(),
	    "NOQUEUE: warning: credentials sent without TLS: sasl_username=bob\\x20smith "
	    "sasl_method=PLAIN client=mx.example.net[192.0.2.7]:41234 port=587 role=submission; "
	    "the MTA accepted AUTH on a plaintext connection: set smtpd_tls_auth_only=yes "
	    "(Postfix)\n");
}
END_TEST

START_TEST(test_implicit_plaintext_error)
{
	struct pg_facts f = base_facts();
	struct pg_port smtps = sub;

	smtps.port = 465;
	smtps.tls = PG_TLS_IMPLICIT;
	f.queue_id = "ABC123";
	f.server_port = 465;
	report_implicit_plaintext(&smtps, &f);
	ck_assert_str_eq(
	    pg_captured_log(),
	    "ABC123: error: port=465 is configured tls=implicit but the session has no TLS: the "
	    "MTA is not wrapping this port in TLS (Postfix: -o smtpd_tls_wrappermode=yes; "
	    "Sendmail: M=s) client=mx.example.net[192.0.2.7]:41234\n");
}
END_TEST

START_TEST(test_port_word_falls_back_to_label)
{
	struct pg_facts f = base_facts();
	struct pg_port labelled;
	struct pg_verdict v =
	    reject(PG_RULE_AUTH_REQUIRED, 530, "5.7.0", "Authentication required");

	config_port_defaults(&labelled, PG_ROLE_SUBMISSION);
	snprintf(labelled.name, sizeof labelled.name, "msa");
	f.stage = PG_STAGE_MAIL;
	f.server_port = 0;
	report_decision(&labelled, &f, &v);
	ck_assert_int_eq(
	    strncmp(pg_captured_log(), "NOQUEUE: reject: port=msa role=submission ", 42), 0);
}
END_TEST

static struct pg_config *make_config(void)
{
	struct pg_config *cfg = calloc(1, sizeof *cfg);
	ck_assert_ptr_nonnull(cfg);
	cfg->path = strdup("conf/portguard.conf");
	cfg->mode = PG_MODE_ENFORCE;
	cfg->default_role = PG_ROLE_RELAY;
	config_port_defaults(&cfg->ports[0], PG_ROLE_RELAY);
	cfg->ports[0].port = 25;
	config_port_defaults(&cfg->ports[1], PG_ROLE_SUBMISSION);
	cfg->ports[1].port = 587;
	snprintf(cfg->ports[1].name, sizeof cfg->ports[1].name, "submission");
	config_port_defaults(&cfg->ports[2], PG_ROLE_SUBMISSION);
	snprintf(cfg->ports[2].name, sizeof cfg->ports[2].name, "smtps");
	cfg->ports[2].tls = PG_TLS_IMPLICIT;
	cfg->ports[2].mode = PG_MODE_MONITOR;
	cfg->nports = 3;
	return cfg;
}

static void free_config(struct pg_config *cfg)
{
	free(cfg->path);
	free(cfg);
}

START_TEST(test_unknown_port_once)
{
	struct pg_config *cfg = make_config();

	report_unknown_port(cfg, 2526, "");
	report_unknown_port(cfg, 2526, NULL);
	report_unknown_port(cfg, 2526, "");
	report_unknown_port(cfg, 2526, "odd label");
	report_unknown_port(cfg, 2527, "");
	report_unknown_port(cfg, 2526, "odd label");
	ck_assert_str_eq(
	    pg_captured_log(),
	    "warning: port=2526 label=- matches no entry in ports; applying default_role=relay; "
	    "add an entry to conf/portguard.conf\n"
	    "warning: port=2526 label=odd\\x20label matches no entry in ports; applying "
	    "default_role=relay; add an entry to conf/portguard.conf\n"
	    "warning: port=2527 label=- matches no entry in ports; applying default_role=relay; "
	    "add an entry to conf/portguard.conf\n");
	free_config(cfg);
}
END_TEST

START_TEST(test_unknown_port_table_full)
{
	struct pg_config *cfg = make_config();

	for (unsigned p = 30000; p < 30000 + 300; p++)
		report_unknown_port(cfg, p, "");
	const char *log = pg_captured_log();
	size_t lines = 0;
	for (const char *s = log; *s != '\0'; s++)
		lines += *s == '\n';
	ck_assert_uint_eq(lines, 257);
	ck_assert_ptr_nonnull(strstr(
	    log, "warning: more than 256 unknown ports; no further unknown-port warnings\n"));
	free_config(cfg);
}
END_TEST

START_TEST(test_config_summary)
{
	struct pg_config *cfg = make_config();

	report_config(cfg, "portguard-policyd", "starting");
	ck_assert_str_eq(
	    pg_captured_log(),
	    "starting: daemon=portguard-policyd version=" PG_VERSION
	    " config=conf/portguard.conf mode=enforce default_role=relay\n"
	    "port: port=25 name=- role=relay tls=optional auth=optional min_tls=none mode=enforce\n"
	    "port: port=587 name=submission role=submission tls=starttls auth=required "
	    "min_tls=TLSv1.2 mode=enforce\n"
	    "port: port=- name=smtps role=submission tls=implicit auth=required min_tls=TLSv1.2 "
	    "mode=monitor\n");
	free_config(cfg);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, report_setup, report_teardown);
	tcase_add_test(tc, test_reject_line);
	tcase_add_test(tc, test_would_reject_line_with_rcpt);
	tcase_add_test(tc, test_pass_only_at_info);
	tcase_add_test(tc, test_hostile_values_stay_on_one_line);
	tcase_add_test(tc, test_plaintext_auth_alarm);
	tcase_add_test(tc, test_implicit_plaintext_error);
	tcase_add_test(tc, test_port_word_falls_back_to_label);
	tcase_add_test(tc, test_unknown_port_once);
	tcase_add_test(tc, test_unknown_port_table_full);
	tcase_add_test(tc, test_config_summary);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(report_suite)
