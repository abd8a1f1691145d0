/*
 * check_engine.c - core/engine.c: what happens around a decision, for both
 * front ends: the port entry and the unknown-port warning (once), the stats
 * key, the counts (transaction, recipient, objection, session), the
 * plaintext-AUTH alarm once per session, the implicit-TLS error, on_error
 * when the front end cannot send a verdict, and the decision line.
 */
#include <syslog.h>

#include "check_common.h"
#include "engine.h"

static const char config_text[] =
    "mode = \"enforce\";\n"
    "on_error = \"tempfail\";\n"
    "default_role = \"relay\";\n"
    "log = { level = \"info\"; stats_interval = 0; };\n"
    "relay = { local_domains = [ \"example.org\" ]; };\n"
    "ports = (\n"
    "  { port = 25; role = \"relay\"; },\n"
    "  { port = 587; role = \"submission\"; tls = \"starttls\"; },\n"
    "  { port = 465; role = \"submission\"; tls = \"implicit\"; },\n"
    "  { name = \"MSA\"; role = \"submission\"; }\n"
    ");\n";

static struct pg_config *cfg;

static void engine_setup(void)
{
	char err[512] = "";
	char *path = pg_write_temp(config_text);

	cfg = config_load(path, err, sizeof err);
	unlink(path);
	free(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	log_set_level(LOG_DEBUG);
	stats_reset_all();
	pg_capture_start();
}

static void engine_teardown(void)
{
	log_set_hook(NULL, NULL);
	config_free(cfg);
}

/* A plaintext client, not authenticated, at stage on server port port. */
static struct pg_facts facts(enum pg_stage stage, unsigned port)
{
	struct pg_facts f = {
	    .stage = stage,
	    .server_port = port,
	    .service_label = "",
	    .mta_auth_fix = "the fix",
	    .queue_id = "",
	    .client_name = "mx.example.net",
	    .client_addr = "192.0.2.7",
	    .client_port = 41234,
	    .tls_version = "",
	    .cipher = "",
	    .sasl_method = "",
	    .sasl_username = "",
	    .ccert_fingerprint = "",
	    .recipient = stage == PG_STAGE_RCPT ? "<user@remote.example>" : "",
	    .rcpt_mailer = "",
	    .rcpt_host = "",
	    .rcpt_addr = "",
	};
	return f;
}

static struct pg_facts with_tls(struct pg_facts f)
{
	f.tls_version = "TLSv1.3";
	f.cipher = "TLS_AES_256_GCM_SHA384";
	f.cipher_bits = 256;
	return f;
}

static struct pg_facts with_auth(struct pg_facts f)
{
	f.sasl_method = "PLAIN";
	f.sasl_username = "bob";
	return f;
}

static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

START_TEST(test_counts_per_transaction)
{
	struct engine_session s = {0};
	struct pg_verdict v;
	struct pg_facts f = with_tls(facts(PG_STAGE_RCPT, 25));

	/* policyd (not connected): TLS counted with the transaction */
	f.new_transaction = true;
	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(v.rule, PG_RULE_RELAY);
	f.new_transaction = false;
	f.recipient = "<user@example.org>";
	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);

	ck_assert_int_eq(stats_peek(25, NULL, "transactions"), 1);
	ck_assert_int_eq(stats_peek(25, NULL, "recipients"), 2);
	ck_assert_int_eq(stats_peek(25, NULL, "tls"), 1);
	ck_assert_int_eq(stats_peek(25, NULL, "TLSv1.3"), 1);
	ck_assert_int_eq(stats_peek(25, NULL, "rejected"), 1);
	ck_assert_int_eq(stats_peek(25, NULL, "reject_relay"), 1);
	ck_assert_int_eq(stats_peek(25, NULL, "sessions"), 0);
}
END_TEST

START_TEST(test_counts_per_session)
{
	struct engine_session s = {0};
	struct pg_verdict v;
	struct pg_facts f = with_tls(facts(PG_STAGE_CONNECT, 587));

	/* the milter (connected): TLS counted once, with the session */
	ck_assert_int_eq(engine_connect(cfg, &s, &f), ENGINE_PORT_KNOWN);
	ck_assert_uint_eq(s.port->port, 587);
	for (int i = 0; i < 2; i++) {
		f.stage = PG_STAGE_MAIL;
		f.new_transaction = true;
		engine_decide(cfg, &s, &f, &v);
		ck_assert_int_eq(v.rule, PG_RULE_AUTH_REQUIRED);
		f.stage = PG_STAGE_RCPT;
		f.new_transaction = false;
		engine_repeat(&s, &f);
	}
	/* the repeats decided and logged nothing */
	ck_assert_int_eq(occurrences(pg_captured_log(), "reject:"), 2);
	f.stage = PG_STAGE_OTHER;
	engine_close(&s, &f);

	ck_assert_int_eq(stats_peek(587, NULL, "sessions"), 1);
	ck_assert_int_eq(stats_peek(587, NULL, "transactions"), 2);
	ck_assert_int_eq(stats_peek(587, NULL, "recipients"), 2);
	ck_assert_int_eq(stats_peek(587, NULL, "tls"), 1);
	ck_assert_int_eq(stats_peek(587, NULL, "reject_auth_required"), 2);
}
END_TEST

/* The stats key: the entry's number, its label when it has none, and for a
 * port without an entry the number the MTA sent. */
START_TEST(test_stats_key)
{
	struct engine_session s = {0};
	struct pg_verdict v;
	struct pg_facts f = facts(PG_STAGE_MAIL, 10587);

	f.service_label = "MSA";
	f.new_transaction = true;
	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(stats_peek(0, "MSA", "transactions"), 1);
	ck_assert_int_eq(stats_peek(10587, NULL, "transactions"), 0);

	f.service_label = "";
	f.server_port = 2526;
	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(stats_peek(2526, NULL, "transactions"), 1);
}
END_TEST

START_TEST(test_unknown_port_warned_once)
{
	static const char want[] = "warning: port=2526 label=- matches no entry in ports; "
	                           "applying default_role=relay";
	struct engine_session s = {0}, s2 = {0};
	struct pg_verdict v;
	struct pg_facts f = facts(PG_STAGE_RCPT, 2526);

	for (int i = 0; i < 3; i++)
		engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(v.rule, PG_RULE_RELAY); /* default_role=relay */
	ck_assert_int_eq(engine_connect(cfg, &s2, &f), ENGINE_PORT_UNKNOWN);
	engine_decide(cfg, &s2, &f, &v);
	ck_assert_int_eq(occurrences(pg_captured_log(), want), 1);

	/* neither port nor label: left to the front end at connect */
	pg_capture_start();
	f.server_port = 0;
	s2 = (struct engine_session){0};
	ck_assert_int_eq(engine_connect(cfg, &s2, &f), ENGINE_PORT_UNNAMED);
	ck_assert_int_eq(s2.port->role, PG_ROLE_RELAY);
	engine_decide(cfg, &s2, &f, &v);
	ck_assert_ptr_null(strstr(pg_captured_log(), "matches no entry"));
}
END_TEST

START_TEST(test_alarm_once_per_session)
{
	static const char alarm[] = "credentials sent without TLS";
	struct engine_session s = {0};
	struct pg_verdict v;
	struct pg_facts f = with_auth(facts(PG_STAGE_CONNECT, 25));

	engine_connect(cfg, &s, &f);
	for (int i = 0; i < 3; i++) {
		f.stage = PG_STAGE_MAIL;
		f.new_transaction = true;
		engine_decide(cfg, &s, &f, &v);
		ck_assert_int_eq(v.rule, PG_RULE_PLAINTEXT_AUTH);
	}
	ck_assert_int_eq(occurrences(pg_captured_log(), alarm), 1);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "set the fix\n"));

	/* not connected (policyd): once per transaction */
	pg_capture_start();
	s = (struct engine_session){0};
	f.new_transaction = true;
	engine_decide(cfg, &s, &f, &v);
	f.new_transaction = false;
	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(occurrences(pg_captured_log(), alarm), 1);
	f.new_transaction = true;
	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(occurrences(pg_captured_log(), alarm), 2);
}
END_TEST

START_TEST(test_implicit_tls_error)
{
	struct engine_session s = {0};
	struct pg_verdict v;
	struct pg_facts f = facts(PG_STAGE_MAIL, 465);

	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(v.rule, PG_RULE_TLS_REQUIRED);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "error: port=465 is configured tls=implicit"));
	/* also when plaintext AUTH decides first */
	pg_capture_start();
	f = with_auth(f);
	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(v.rule, PG_RULE_PLAINTEXT_AUTH);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "configured tls=implicit"));
	/* with TLS: no error */
	pg_capture_start();
	f = with_tls(f);
	engine_decide(cfg, &s, &f, &v);
	ck_assert_ptr_null(strstr(pg_captured_log(), "configured tls=implicit"));
}
END_TEST

START_TEST(test_decision_line)
{
	struct engine_session s = {0};
	struct pg_verdict v;
	struct pg_facts f = facts(PG_STAGE_MAIL, 587);

	f.queue_id = "4ABC";
	engine_decide(cfg, &s, &f, &v);
	ck_assert_str_eq(pg_captured_log(),
	                 "4ABC: reject: port=587 role=submission mode=enforce "
	                 "client=mx.example.net[192.0.2.7]:41234 tls=none cipher=none bits=0 "
	                 "sasl_method=- sasl_username=- rule=tls_required "
	                 "reply=\"530 5.7.0 Must issue a STARTTLS command first\"\n");
	pg_capture_start();
	f = with_tls(f);
	f = with_auth(f);
	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "4ABC: pass: port=587 "));
}
END_TEST

static const char *cannot_send(const struct pg_verdict *v)
{
	return v->rule != PG_RULE_NONE ? "cannot send this" : NULL;
}

/* A verdict the front end cannot send: on_error decides, before the line. */
START_TEST(test_untellable_follows_on_error)
{
	struct engine_session s = {.untellable = cannot_send};
	struct pg_verdict v;
	struct pg_facts f = facts(PG_STAGE_MAIL, 587);

	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(v.action, PG_ACT_TEMPFAIL);
	ck_assert_uint_eq(v.code, 451);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(),
	                             "error: internal error: cannot send this; on_error=tempfail\n"));
	ck_assert_ptr_null(strstr(pg_captured_log(), "reject:"));
	/* counted as decided: the rule did fail */
	ck_assert_int_eq(stats_peek(587, NULL, "reject_tls_required"), 1);

	cfg->on_error = PG_ONERR_ACCEPT;
	pg_capture_start();
	engine_decide(cfg, &s, &f, &v);
	ck_assert_int_eq(v.action, PG_ACT_DUNNO);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "on_error=accept\n"));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "pass: port=587 "));
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
	tcase_add_test(tc, test_counts_per_transaction);
	tcase_add_test(tc, test_counts_per_session);
	tcase_add_test(tc, test_stats_key);
	tcase_add_test(tc, test_unknown_port_warned_once);
	tcase_add_test(tc, test_alarm_once_per_session);
	tcase_add_test(tc, test_implicit_tls_error);
	tcase_add_test(tc, test_decision_line);
	tcase_add_test(tc, test_untellable_follows_on_error);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(engine_suite)
