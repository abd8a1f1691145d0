/*
 * check_policyd_session.c - portguard-policyd's request handling
 * (policyd/proto.c, policyd/session.c, policyd/reply.c) on requests built here: the reply
 * for a verdict, and the fail mode when a verdict cannot be sent in the
 * policy protocol (a path no peer can reach, so it is proven here: the
 * reply text is broken on purpose, past config validation).
 */
#include <syslog.h>

#include "check_common.h"
#include "config.h"

#include "../../policyd/proto.c"
#include "../../policyd/reply.c"
#include "../../policyd/session.c"

static const char conf_text[] = "mode = \"enforce\";\n"
                                "on_error = \"tempfail\";\n"
                                "allow_root = true;\n"
                                "relay = { local_domains = [ \"example.org\" ]; };\n"
                                "ports = (\n"
                                "  { port = 587; role = \"submission\"; tls = \"starttls\"; }\n"
                                ");\n";

/* A plaintext, unauthenticated RCPT on port 587: rule "TLS required". */
static const char plain_rcpt[] = "request=smtpd_access_policy\n"
                                 "protocol_state=RCPT\n"
                                 "client_address=192.0.2.1\n"
                                 "client_name=unknown\n"
                                 "server_port=587\n"
                                 "instance=a1.b2\n"
                                 "recipient=user@example.org\n"
                                 "\n";

static struct pg_config *load_conf(void)
{
	char err[1024] = "";
	char *path = pg_write_temp(conf_text);
	struct pg_config *cfg = config_load(path, err, sizeof err);

	unlink(path);
	free(path);
	ck_assert_msg(cfg != NULL, "%s", err);
	return cfg;
}

/* Scan, parse and handle one request; returns the reply. */
static const char *handle(const struct pg_config *cfg, const char *request)
{
	static char reply[PD_REPLY_MAX + 1];
	char buf[PG_POLICY_MAX_REQUEST], why[256] = "";
	struct proto_scan st;
	struct pd_request req;
	struct pd_session s;
	size_t reqlen = 0, n = 0, len = strlen(request);

	memcpy(buf, request, len);
	session_init(&s);
	proto_reset(&st);
	ck_assert_int_eq(proto_scan(&st, buf, len, &reqlen, why, sizeof why), PROTO_REQUEST);
	ck_assert_uint_eq(reqlen, len);
	proto_parse(buf, &st, &req);
	ck_assert_int_eq(session_handle(cfg, &s, &req, reply, &n, why, sizeof why), SESSION_REPLY);
	ck_assert_uint_le(n, PD_REPLY_MAX);
	reply[n] = '\0';
	return reply;
}

START_TEST(test_reject_reply)
{
	struct pg_config *cfg = load_conf();

	pg_capture_start();
	ck_assert_str_eq(handle(cfg, plain_rcpt),
	                 "action=530 5.7.0 Must issue a STARTTLS command first\n\n");
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "reject: port=587 role=submission"));
	log_set_hook(NULL, NULL);
	config_free(cfg);
}
END_TEST

/* The verdict's text cannot go on one "action=" line: on_error decides. */
START_TEST(test_unsendable_reply_follows_on_error)
{
	struct pg_config *cfg = load_conf();
	struct pg_port *port = &cfg->ports[0];

	snprintf(port->replies[PG_RULE_TLS_REQUIRED].text,
	         sizeof port->replies[PG_RULE_TLS_REQUIRED].text, "two\nlines");
	pg_capture_start();
	ck_assert_str_eq(
	    handle(cfg, plain_rcpt),
	    "action=DEFER_IF_PERMIT 4.3.0 Internal error in portguard, try again later\n\n");
	ck_assert_ptr_nonnull(strstr(
	    pg_captured_log(), "error: internal error: reply does not fit the policy protocol; "
	                       "on_error=tempfail\n"));
	/* the log does not claim a reject the MTA never saw */
	ck_assert_ptr_null(strstr(pg_captured_log(), "reject:"));

	cfg->on_error = PG_ONERR_ACCEPT;
	pg_capture_start();
	ck_assert_str_eq(handle(cfg, plain_rcpt), "action=DUNNO\n\n");
	ck_assert_ptr_nonnull(strstr(
	    pg_captured_log(), "error: internal error: reply does not fit the policy protocol; "
	                       "on_error=accept\n"));
	ck_assert_ptr_null(strstr(pg_captured_log(), "reject:"));
	log_set_hook(NULL, NULL);
	config_free(cfg);
}
END_TEST

/* The name hash has no collision: every attribute finds itself, and a
 * name that only shares a hash with one finds nothing. */
START_TEST(test_attr_names_find_themselves)
{
	for (int a = 0; a < PD_A_COUNT; a++) {
		const char *name = proto_attr_name((enum pd_attr)a);

		ck_assert_msg(attr_lookup(name, strlen(name)) == a, "%s", name);
	}
	ck_assert_int_eq(attr_lookup("sender", 6), -1);
	ck_assert_int_eq(attr_lookup("requesT", 7), -1);
	/* every byte of a name counts: one changed at each place of each name */
	for (int a = 0; a < PD_A_COUNT; a++) {
		const char *name = proto_attr_name((enum pd_attr)a);
		size_t len = strlen(name);
		char other[64];

		for (size_t i = 0; i < len; i++) {
			memcpy(other, name, len);
			other[i] ^= 0x20;
			ck_assert_msg(attr_lookup(other, len) == -1, "%s, byte %zu", name, i);
		}
		/* a name one byte longer or shorter, and a long one */
		memcpy(other, name, len);
		other[len] = 'x';
		ck_assert_int_eq(attr_lookup(other, len + 1), -1);
		ck_assert_int_eq(attr_lookup(name, len - 1), -1);
	}
	ck_assert_int_eq(attr_lookup("ccert_pubkey_fingerprint_and_more", 33), -1);
	ck_assert_int_eq(attr_lookup("s", 1), -1);
}
END_TEST

/* The one writer of "action=", and what it refuses to write. */
START_TEST(test_reply_write)
{
	static const struct {
		struct pg_verdict v;
		const char *want; /* NULL: untellable */
	} cases[] = {
	    {{.action = PG_ACT_DUNNO}, "action=DUNNO\n\n"},
	    {{.action = PG_ACT_REJECT, .code = 554, .esc = "5.7.1", .text = "<a@b>: Relay access denied"},
	     "action=554 5.7.1 <a@b>: Relay access denied\n\n"},
	    {{.action = PG_ACT_REJECT, .code = 450, .esc = "4.7.0", .text = "later"},
	     "action=450 4.7.0 later\n\n"},
	    {{.action = PG_ACT_TEMPFAIL, .code = 451, .esc = "4.3.0", .text = "try again"},
	     "action=DEFER_IF_PERMIT 4.3.0 try again\n\n"},
	    /* monitor mode: the text stays in the log, DUNNO goes out */
	    {{.action = PG_ACT_DUNNO, .code = 530, .esc = "5.7.0", .text = "x"}, "action=DUNNO\n\n"},
	    {{.action = PG_ACT_REJECT, .code = 399, .esc = "5.7.1", .text = "x"}, NULL},
	    {{.action = PG_ACT_REJECT, .code = 600, .esc = "5.7.1", .text = "x"}, NULL},
	    {{.action = PG_ACT_REJECT, .code = 554, .esc = "5.7 1", .text = "x"}, NULL},
	    {{.action = PG_ACT_REJECT, .code = 554, .esc = "5.7.1", .text = "a\rb"}, NULL},
	    {{.action = PG_ACT_DUNNO, .code = 554, .esc = "5.7.1", .text = "a\nb"}, NULL},
	};
	char out[PD_REPLY_MAX];

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		const char *why = reply_untellable(&cases[i].v);

		if (cases[i].want == NULL) {
			ck_assert_msg(why != NULL, "case %zu", i);
			continue;
		}
		ck_assert_msg(why == NULL, "case %zu: %s", i, why);
		size_t n = reply_write(&cases[i].v, out);
		ck_assert_uint_eq(n, strlen(cases[i].want));
		ck_assert_str_eq(out, cases[i].want);
	}
}
END_TEST

static Suite *policyd_session_suite(void)
{
	Suite *s = suite_create("policyd_session");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_reject_reply);
	tcase_add_test(tc, test_unsendable_reply_follows_on_error);
	tcase_add_test(tc, test_attr_names_find_themselves);
	tcase_add_test(tc, test_reply_write);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(policyd_session_suite)
