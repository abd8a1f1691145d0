/*
 * check_milter_glue.c - the milter's glue without an MTA: macro parsing
 * (IPv6: prefix, ports, cipher bits, which MTA), the verdict -> SMFIS_* and
 * reply mapping (with '%' doubling), and session.c driven by a macro table:
 * port identity, the missing-macros warning, TLS kept from HELO, MAIL-stage
 * and RCPT-stage decisions, monitor mode, and the alarm once per session.
 * The milter sources are compiled in here (they need no libmilter symbols).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <syslog.h>

#include "check_common.h"

#include "../../milter/macros.c"
#include "../../milter/reply.c"
#include "../../milter/session.c"

/* ---- macros.c ------------------------------------------------------------ */

START_TEST(test_client_addr)
{
	static const struct {
		const char *in;
		bool want_ok;
		const char *want;
	} cases[] = {
	    {"192.0.2.7", true, "192.0.2.7"},
	    {"IPv6:2001:db8::1", true, "2001:db8::1"},
	    {"ipv6:::1", true, "::1"},
	    {"2001:db8::2", true, "2001:db8::2"},
	    {"IPv6:192.0.2.7", false, ""},
	    {"[192.0.2.7]", false, ""},
	    {"IPv6:", false, ""},
	    {"localhost", false, ""},
	    {"", false, ""},
	    {NULL, false, ""},
	};
	char got[MILTER_MAX_ADDR + 1];

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		bool got_ok = macro_client_addr(got, sizeof got, cases[i].in);
		ck_assert_msg(got_ok == cases[i].want_ok, "case %zu", i);
		ck_assert_str_eq(got, cases[i].want);
	}
	/* just fits / one over */
	char small[sizeof "192.0.2.7"];
	ck_assert(macro_client_addr(small, sizeof small, "192.0.2.7"));
	ck_assert(!macro_client_addr(small, sizeof small - 1, "192.0.2.7"));
}
END_TEST

START_TEST(test_port_and_bits)
{
	static const struct {
		const char *in;
		bool want_port_ok;
		unsigned want_port;
		bool want_bits_ok;
		unsigned want_bits;
	} cases[] = {
	    {"587", true, 587, true, 587},
	    {"1", true, 1, true, 1},
	    {"65535", true, 65535, true, 65535},
	    {"65536", false, 0, false, 0},
	    {"0", false, 0, true, 0},
	    {"256", true, 256, true, 256},
	    {"+25", false, 0, false, 0},
	    {" 25", false, 0, false, 0},
	    {"25x", false, 0, false, 0},
	    {"-1", false, 0, false, 0},
	    {"", false, 0, false, 0},
	    {NULL, false, 0, false, 0},
	    {"99999999999999999999", false, 0, false, 0},
	};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		unsigned got = 77;
		ck_assert_msg(macro_port(cases[i].in, &got) == cases[i].want_port_ok, "port %zu",
		              i);
		ck_assert_uint_eq(got, cases[i].want_port);
		got = 77;
		ck_assert_msg(macro_bits(cases[i].in, &got) == cases[i].want_bits_ok, "bits %zu",
		              i);
		ck_assert_uint_eq(got, cases[i].want_bits);
	}
}
END_TEST

START_TEST(test_mta_kind_and_fixes)
{
	ck_assert_int_eq(macro_mta_kind("Postfix 3.7.11"), MILTER_MTA_POSTFIX);
	ck_assert_int_eq(macro_mta_kind("8.17.1.9"), MILTER_MTA_SENDMAIL);
	ck_assert_int_eq(macro_mta_kind(""), MILTER_MTA_UNKNOWN);
	ck_assert_int_eq(macro_mta_kind(NULL), MILTER_MTA_UNKNOWN);
	ck_assert_int_eq(macro_mta_kind("Exim"), MILTER_MTA_UNKNOWN);

	ck_assert_str_eq(macro_auth_fix(MILTER_MTA_POSTFIX), "smtpd_tls_auth_only=yes (Postfix)");
	ck_assert_ptr_nonnull(strstr(macro_auth_fix(MILTER_MTA_SENDMAIL),
	                             "AuthOptions=p via define(`confAUTH_OPTIONS', `p')"));
	ck_assert_ptr_nonnull(
	    strstr(macro_auth_fix(MILTER_MTA_UNKNOWN), "smtpd_tls_auth_only=yes"));
	ck_assert_ptr_nonnull(strstr(macro_auth_fix(MILTER_MTA_UNKNOWN), "AuthOptions=p"));
	ck_assert_ptr_nonnull(
	    strstr(macro_port_fix(MILTER_MTA_UNKNOWN),
	           "milter_connect_macros = j {daemon_name} {daemon_addr} {daemon_port} v _"));
	ck_assert_ptr_nonnull(strstr(
	    macro_port_fix(MILTER_MTA_UNKNOWN),
	    "define(`confMILTER_MACROS_CONNECT', confMILTER_MACROS_CONNECT`, {daemon_port}')"));
	ck_assert_ptr_null(strstr(macro_port_fix(MILTER_MTA_POSTFIX), "confMILTER"));
}
END_TEST

/* ---- reply.c ------------------------------------------------------------- */

START_TEST(test_reply_escape)
{
	char got[16];

	ck_assert(reply_escape(got, sizeof got, "100% sure"));
	ck_assert_str_eq(got, "100%% sure");
	ck_assert(reply_escape(got, sizeof got, "%%"));
	ck_assert_str_eq(got, "%%%%");
	ck_assert(reply_escape(got, sizeof got, "a\r\nb\tc"));
	ck_assert_str_eq(got, "abc");
	/* just fits: 15 bytes + NUL; one over fails and leaves "" */
	ck_assert(reply_escape(got, sizeof got, "123456789012345"));
	ck_assert(!reply_escape(got, sizeof got, "1234567890123456"));
	ck_assert_str_eq(got, "");
	ck_assert(reply_escape(got, sizeof got, "1234567890123%"));
	ck_assert(!reply_escape(got, sizeof got, "12345678901234%"));
}
END_TEST

static struct pg_verdict verdict(enum pg_action a, enum pg_rule rule, bool would, unsigned code,
                                 const char *esc, const char *text)
{
	struct pg_verdict v;

	memset(&v, 0, sizeof v);
	v.action = a;
	v.rule = rule;
	v.would_reject = would;
	v.code = code;
	snprintf(v.esc, sizeof v.esc, "%s", esc);
	snprintf(v.text, sizeof v.text, "%s", text);
	return v;
}

START_TEST(test_reply_plan)
{
	static const struct {
		enum pg_action action;
		enum pg_rule rule;
		bool would;
		unsigned code;
		const char *esc, *text;
		sfsistat want_status;
		bool want_set;
		const char *want_rcode, *want_xcode, *want_text;
	} cases[] = {
	    {PG_ACT_DUNNO, PG_RULE_NONE, false, 0, "", "", SMFIS_CONTINUE, false, "", "", ""},
	    {PG_ACT_REJECT, PG_RULE_PLAINTEXT_AUTH, false, 538, "5.7.11",
	     "Encryption required for requested authentication mechanism", SMFIS_REJECT, true,
	     "538", "5.7.11", "Encryption required for requested authentication mechanism"},
	    {PG_ACT_REJECT, PG_RULE_RELAY, false, 554, "5.7.1", "<a%b@x>: Relay access denied",
	     SMFIS_REJECT, true, "554", "5.7.1", "<a%%b@x>: Relay access denied"},
	    /* monitor mode: would reject, but the MTA is told to continue */
	    {PG_ACT_DUNNO, PG_RULE_TLS_REQUIRED, true, 530, "5.7.0",
	     "Must issue a STARTTLS command first", SMFIS_CONTINUE, false, "", "", ""},
	    /* fail mode tempfail */
	    {PG_ACT_TEMPFAIL, PG_RULE_NONE, false, 451, "4.3.0",
	     "Internal error in portguard, try again later", SMFIS_TEMPFAIL, true, "451", "4.3.0",
	     "Internal error in portguard, try again later"},
	    /* a configured 4xx reply for a rule: TEMPFAIL, or libmilter drops it */
	    {PG_ACT_REJECT, PG_RULE_AUTH_REQUIRED, false, 450, "4.7.0", "later", SMFIS_TEMPFAIL,
	     true, "450", "4.7.0", "later"},
	    /* an enhanced code of the wrong class is left out */
	    {PG_ACT_REJECT, PG_RULE_CIPHER, false, 530, "4.7.0", "x", SMFIS_REJECT, true, "530", "",
	     "x"},
	    /* no usable code: still refuse, with the MTA's generic reply */
	    {PG_ACT_REJECT, PG_RULE_CIPHER, false, 0, "", "", SMFIS_REJECT, false, "", "", ""},
	    {PG_ACT_TEMPFAIL, PG_RULE_NONE, false, 0, "", "", SMFIS_TEMPFAIL, false, "", "", ""},
	};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		struct pg_verdict v = verdict(cases[i].action, cases[i].rule, cases[i].would,
		                              cases[i].code, cases[i].esc, cases[i].text);
		struct milter_reply got;
		reply_plan(&v, &got);
		ck_assert_msg(got.status == cases[i].want_status, "case %zu status %d", i,
		              (int)got.status);
		ck_assert_msg(got.status != SMFIS_ACCEPT, "case %zu", i);
		ck_assert_msg(got.set == cases[i].want_set, "case %zu set", i);
		ck_assert_str_eq(got.rcode, cases[i].want_rcode);
		ck_assert_str_eq(got.xcode, cases[i].want_xcode);
		ck_assert_str_eq(got.text, cases[i].want_text);
	}
}
END_TEST

/* ---- session.c ----------------------------------------------------------- */

struct macro_table {
	const char *names[32];
	const char *values[32];
	size_t n;
};

static const char *table_get(void *arg, const char *name)
{
	const struct macro_table *t = arg;

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->names[i], name) == 0)
			return t->values[i];
	return NULL;
}

static void table_set(struct macro_table *t, const char *name, const char *value)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->names[i], name) == 0) {
			t->values[i] = value;
			return;
		}
	ck_assert_uint_lt(t->n, PG_ARRAY_LEN(t->names));
	t->names[t->n] = name;
	t->values[t->n++] = value;
}

static const char config_text[] =
    "mode = \"enforce\";\n"
    "default_role = \"relay\";\n"
    "log = { level = \"info\"; stats_interval = 0; };\n"
    "relay = { local_domains = [ \"example.org\" ]; trusted_networks = [ \"10.0.0.0/8\" ]; };\n"
    "ports = (\n"
    "  { port = 25; role = \"relay\"; },\n"
    "  { port = 587; role = \"submission\"; tls = \"starttls\"; },\n"
    "  { port = 465; role = \"submission\"; tls = \"implicit\"; },\n"
    "  { name = \"MSA\"; role = \"submission\"; },\n"
    "  { port = 2525; role = \"submission\"; mode = \"monitor\"; }\n"
    ");\n";

static struct pg_config *cfg;
static char *cfg_path;

static void session_setup(void)
{
	char err[512];

	cfg_path = pg_write_temp(config_text);
	cfg = config_load(cfg_path, err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	log_set_level(LOG_DEBUG);
	stats_reset_all();
	pg_capture_start();
}

static void session_teardown(void)
{
	log_set_hook(NULL, NULL);
	config_release(cfg);
	unlink(cfg_path);
	free(cfg_path);
}

static void conn_start(struct milter_conn *c, struct macro_table *t, const char *port,
                       const char *name, const char *addr)
{
	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	memset(t, 0, sizeof *t);
	if (port != NULL)
		table_set(t, "{daemon_port}", port);
	if (name != NULL)
		table_set(t, "{daemon_name}", name);
	if (addr != NULL)
		table_set(t, "{client_addr}", addr);
	table_set(t, "{client_port}", "40000");
	session_connect(c, table_get, t, "client.example.net", NULL);
}

START_TEST(test_identity)
{
	struct milter_conn c;
	struct macro_table t;

	conn_start(&c, &t, "587", "ORIGINATING", "192.0.2.9");
	ck_assert_uint_eq(c.server_port, 587);
	ck_assert_uint_eq(c.engine.port->port, 587);
	ck_assert_str_eq(c.client_addr, "192.0.2.9");
	ck_assert_uint_eq(c.client_port, 40000);
	ck_assert_str_eq(c.client_name, "client.example.net");
	ck_assert_str_eq(pg_captured_log(), "");

	/* Sendmail passes "[addr]" as the host name of a client without a
	 * verified name: logged as unknown[addr], as Postfix does */
	session_connect(&c, table_get, &t, "[192.0.2.9]", NULL);
	ck_assert_str_eq(c.client_name, "unknown");

	/* a label wins (core's rule); here {daemon_name}=MSA on an unlisted port */
	conn_start(&c, &t, "10587", "MSA", "IPv6:2001:db8::5");
	ck_assert_str_eq(c.engine.port->name, "MSA");
	ck_assert_str_eq(c.client_addr, "2001:db8::5");

	/* unknown numbered port: default_role and the core's once-per-port warning */
	pg_capture_start();
	conn_start(&c, &t, "2526", NULL, "192.0.2.9");
	ck_assert_int_eq(c.engine.port->role, PG_ROLE_RELAY);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "port=2526"));

	/* neither macro: one warning per connection naming the lines to add */
	for (int i = 0; i < 2; i++) {
		pg_capture_start();
		conn_start(&c, &t, NULL, NULL, "192.0.2.9");
		ck_assert_int_eq(c.engine.port->role, PG_ROLE_RELAY);
		ck_assert_ptr_nonnull(strstr(pg_captured_log(), "neither {daemon_port} nor "
		                                                "{daemon_name}"));
		ck_assert_ptr_nonnull(strstr(pg_captured_log(), "{daemon_port} v _"));
		ck_assert_ptr_nonnull(strstr(pg_captured_log(), "confMILTER_MACROS_CONNECT"));
	}

	/* garbage port and an unparsable address: the sockaddr is used */
	struct sockaddr_in6 sa;
	memset(&sa, 0, sizeof sa);
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(41000);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::77", &sa.sin6_addr), 1);
	memset(&c, 0, sizeof c);
	c.cfg = cfg;
	memset(&t, 0, sizeof t);
	table_set(&t, "{daemon_port}", "587x");
	table_set(&t, "{daemon_name}", "MTA");
	table_set(&t, "{client_addr}", "not-an-address");
	session_connect(&c, table_get, &t, "", (const struct sockaddr *)&sa);
	ck_assert_uint_eq(c.server_port, 0);
	ck_assert_str_eq(c.client_addr, "2001:db8::77");
	ck_assert_uint_eq(c.client_port, 41000);
	ck_assert_str_eq(c.client_name, "unknown");
}
END_TEST

START_TEST(test_mail_stage_rules)
{
	struct milter_conn c;
	struct macro_table t;
	struct pg_verdict v;

	/* 587 plaintext, not authenticated: rule 3 at MAIL */
	conn_start(&c, &t, "587", NULL, "192.0.2.9");
	session_helo(&c, table_get, &t);
	table_set(&t, "i", "4ABC");
	session_mail(&c, table_get, &t, &v);
	ck_assert_int_eq(v.rule, PG_RULE_TLS_REQUIRED);
	ck_assert_uint_eq(v.code, 530);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "4ABC: reject: port=587"));

	/* TLS seen at HELO, MAIL macros without TLS: still TLS; authenticated: pass */
	pg_capture_start();
	conn_start(&c, &t, "587", NULL, "192.0.2.9");
	table_set(&t, "{tls_version}", "TLSv1.3");
	table_set(&t, "{cipher}", "TLS_AES_256_GCM_SHA384");
	table_set(&t, "{cipher_bits}", "256");
	session_helo(&c, table_get, &t);
	struct macro_table mail;
	memset(&mail, 0, sizeof mail);
	table_set(&mail, "{auth_type}", "PLAIN");
	table_set(&mail, "{auth_authen}", "bob");
	session_mail(&c, table_get, &mail, &v);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);
	ck_assert_int_eq(v.action, PG_ACT_DUNNO);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "pass: port=587"));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "bits=256"));

	/* old TLS: rule 4 */
	conn_start(&c, &t, "587", NULL, "192.0.2.9");
	table_set(&t, "{tls_version}", "TLSv1.1");
	table_set(&t, "{cipher}", "AES128-SHA");
	table_set(&t, "{cipher_bits}", "128");
	session_helo(&c, table_get, &t);
	session_mail(&c, table_get, &mail, &v);
	ck_assert_int_eq(v.rule, PG_RULE_TLS_VERSION);
	ck_assert_str_eq(v.text, "TLSv1.2 or later required");

	/* AUTH without TLS: rule 1, the alarm once per session */
	pg_capture_start();
	conn_start(&c, &t, "25", NULL, "192.0.2.9");
	table_set(&t, "v", "8.17.1.9");
	session_mail(&c, table_get, &mail, &v);
	ck_assert_int_eq(v.rule, PG_RULE_PLAINTEXT_AUTH);
	session_mail(&c, table_get, &mail, &v);
	ck_assert_int_eq(v.rule, PG_RULE_PLAINTEXT_AUTH);
	const char *log = pg_captured_log();
	const char *first = strstr(log, "credentials sent without TLS");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_null(strstr(first + 1, "credentials sent without TLS"));
	ck_assert_ptr_nonnull(strstr(log, "sasl_username=bob"));

	/* implicit-TLS port without TLS: rule 3 and the error line */
	pg_capture_start();
	conn_start(&c, &t, "465", NULL, "192.0.2.9");
	session_mail(&c, table_get, &t, &v);
	ck_assert_int_eq(v.rule, PG_RULE_TLS_REQUIRED);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "configured tls=implicit"));

	/* ... also when plaintext AUTH (rule 1) decides first */
	pg_capture_start();
	conn_start(&c, &t, "465", NULL, "192.0.2.9");
	session_mail(&c, table_get, &mail, &v);
	ck_assert_int_eq(v.rule, PG_RULE_PLAINTEXT_AUTH);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "configured tls=implicit"));
}
END_TEST

START_TEST(test_rcpt_stage_and_monitor)
{
	struct milter_conn c;
	struct macro_table t;
	struct pg_verdict v;

	/* 25, untrusted, not authenticated: local recipient ok, remote refused */
	conn_start(&c, &t, "25", NULL, "192.0.2.9");
	session_mail(&c, table_get, &t, &v);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);
	session_rcpt(&c, table_get, &t, "<user@example.org>", &v);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);
	session_rcpt(&c, table_get, &t, "<user@remote.example>", &v);
	ck_assert_int_eq(v.rule, PG_RULE_RELAY);
	ck_assert_uint_eq(v.code, 554);
	ck_assert_str_eq(v.text, "Relay access denied");
	/* the resolved address may make it remote ... */
	table_set(&t, "{rcpt_mailer}", "smtp");
	table_set(&t, "{rcpt_host}", "mx.remote.example");
	table_set(&t, "{rcpt_addr}", "user@remote.example");
	session_rcpt(&c, table_get, &t, "<user@example.org>", &v);
	ck_assert_int_eq(v.rule, PG_RULE_RELAY);
	/* ... but a listed domain the MTA forwards (a gateway) stays local */
	table_set(&t, "{rcpt_addr}", "user@example.org");
	session_rcpt(&c, table_get, &t, "<user@example.org>", &v);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);
	/* the recipient is judged as the client wrote it (quoted form) */
	session_rcpt(&c, table_get, &t, "<\"first last\"@example.org>", &v);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);
	session_rcpt(&c, table_get, &t, "<first last@example.org>", &v);
	ck_assert_int_eq(v.rule, PG_RULE_RELAY);
	/* an unqualified recipient the MTA resolved to its (not local) origin
	 * leaves, whatever its transport is called */
	table_set(&t, "{rcpt_mailer}", "outbound");
	table_set(&t, "{rcpt_addr}", "relaytest@mx.remote.example");
	session_rcpt(&c, table_get, &t, "<relaytest>", &v);
	ck_assert_int_eq(v.rule, PG_RULE_RELAY);
	table_set(&t, "{rcpt_addr}", "user@example.org");

	/* trusted network: relays */
	conn_start(&c, &t, "25", NULL, "10.1.2.3");
	session_mail(&c, table_get, &t, &v);
	session_rcpt(&c, table_get, &t, "<user@remote.example>", &v);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);

	/* monitor port: would-reject once at MAIL, RCPTs continue without new lines */
	pg_capture_start();
	conn_start(&c, &t, "2525", NULL, "192.0.2.9");
	session_mail(&c, table_get, &t, &v);
	ck_assert_int_eq(v.rule, PG_RULE_TLS_REQUIRED);
	ck_assert(v.would_reject);
	ck_assert_int_eq(v.action, PG_ACT_DUNNO);
	session_rcpt(&c, table_get, &t, "<a@remote.example>", &v);
	ck_assert_int_eq(v.action, PG_ACT_DUNNO);
	session_rcpt(&c, table_get, &t, "<b@remote.example>", &v);
	ck_assert_int_eq(v.action, PG_ACT_DUNNO);
	const char *log = pg_captured_log();
	const char *first = strstr(log, "would-reject:");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_null(strstr(first + 1, "would-reject:"));
	ck_assert_int_eq(stats_peek(2525, NULL, "would_reject"), 1);
	ck_assert_int_eq(stats_peek(2525, NULL, "recipients"), 2);

	/* a new transaction decides afresh */
	session_end_message(&c);
	ck_assert(!c.mail_objected);
}
END_TEST

START_TEST(test_session_stats)
{
	struct milter_conn c;
	struct macro_table t;
	struct pg_verdict v;

	/* STARTTLS upgrade: plaintext EHLO, then TLS EHLO: a TLS session */
	conn_start(&c, &t, "587", NULL, "192.0.2.9");
	session_helo(&c, table_get, &t);
	table_set(&t, "{tls_version}", "TLSv1.2");
	table_set(&t, "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384");
	table_set(&t, "{cipher_bits}", "256");
	session_helo(&c, table_get, &t);
	session_close(&c);
	/* plaintext session, closed before MAIL */
	conn_start(&c, &t, "587", NULL, "192.0.2.9");
	session_close(&c);
	/* authenticated without TLS */
	conn_start(&c, &t, "587", NULL, "192.0.2.9");
	table_set(&t, "{auth_type}", "LOGIN");
	table_set(&t, "{auth_authen}", "eve");
	session_mail(&c, table_get, &t, &v);
	session_close(&c);

	ck_assert_int_eq(stats_peek(587, NULL, "sessions"), 3);
	ck_assert_int_eq(stats_peek(587, NULL, "tls"), 1);
	ck_assert_int_eq(stats_peek(587, NULL, "TLSv1.2"), 1);
	ck_assert_int_eq(stats_peek(587, NULL, "plaintext"), 2);
	ck_assert_int_eq(stats_peek(587, NULL, "auth"), 1);
	ck_assert_int_eq(stats_peek(587, NULL, "auth_plaintext"), 1);
	ck_assert_int_eq(stats_peek(587, NULL, "transactions"), 1);
	ck_assert_int_eq(stats_peek(587, NULL, "reject_plaintext_auth"), 1);
}
END_TEST

/* n copies of c, in one of a few static buffers (several live at once). */
static const char *repeat(char c, size_t n)
{
	static char bufs[8][PG_MAX_ADDRESS + 8];
	static unsigned next;
	char *b = bufs[next++ % PG_ARRAY_LEN(bufs)];

	ck_assert_uint_lt(n, sizeof bufs[0]);
	memset(b, c, n);
	b[n] = '\0';
	return b;
}

/* Every bound on a copied macro, at "just fits" and "one over": one over is
 * treated as absent (never cut short), with a warning where SPEC asks. */
START_TEST(test_macro_limits)
{
	struct milter_conn c;
	struct macro_table t;
	struct pg_verdict v;

	/* {daemon_name}: PG_MAX_LABEL */
	conn_start(&c, &t, "587", repeat('L', PG_MAX_LABEL), "192.0.2.9");
	ck_assert_str_eq(c.label, repeat('L', PG_MAX_LABEL));
	pg_capture_start();
	conn_start(&c, &t, "587", repeat('L', PG_MAX_LABEL + 1), "192.0.2.9");
	ck_assert_str_eq(c.label, "");
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "longer than 63 bytes"));
	ck_assert_uint_eq(c.engine.port->port, 587);

	/* the client's host name: MILTER_MAX_HOSTNAME, else "unknown" */
	memset(&c, 0, sizeof c);
	c.cfg = cfg;
	session_connect(&c, table_get, &t, repeat('h', MILTER_MAX_HOSTNAME), NULL);
	ck_assert_str_eq(c.client_name, repeat('h', MILTER_MAX_HOSTNAME));
	session_connect(&c, table_get, &t, repeat('h', MILTER_MAX_HOSTNAME + 1), NULL);
	ck_assert_str_eq(c.client_name, "unknown");

	/* TLS facts: PG_MAX_TLS_VERSION, PG_MAX_CIPHER, the fingerprint */
	conn_start(&c, &t, "587", NULL, "192.0.2.9");
	table_set(&t, "{tls_version}", repeat('V', PG_MAX_TLS_VERSION));
	table_set(&t, "{cipher}", repeat('C', PG_MAX_CIPHER));
	table_set(&t, "{cert_fp}", repeat('F', PG_MAX_FINGERPRINT * 3));
	session_helo(&c, table_get, &t);
	ck_assert_str_eq(c.tls.version, repeat('V', PG_MAX_TLS_VERSION));
	ck_assert_str_eq(c.tls.cipher, repeat('C', PG_MAX_CIPHER));
	ck_assert_str_eq(c.tls.fingerprint, repeat('F', PG_MAX_FINGERPRINT * 3));
	conn_start(&c, &t, "587", NULL, "192.0.2.9");
	table_set(&t, "{tls_version}", repeat('V', PG_MAX_TLS_VERSION + 1));
	table_set(&t, "{cipher}", repeat('C', PG_MAX_CIPHER + 1));
	session_helo(&c, table_get, &t);
	ck_assert_str_eq(c.tls.version, "");
	ck_assert_str_eq(c.tls.cipher, "");
	table_set(&t, "{tls_version}", "TLSv1.3");
	table_set(&t, "{cipher}", "TLS_AES_256_GCM_SHA384");
	table_set(&t, "{cert_fp}", repeat('F', PG_MAX_FINGERPRINT * 3 + 1));
	session_helo(&c, table_get, &t);
	ck_assert_str_eq(c.tls.version, "TLSv1.3");
	ck_assert_str_eq(c.tls.fingerprint, "");

	/* SASL: MILTER_MAX_SASL; one over is "?", still authenticated */
	conn_start(&c, &t, "25", NULL, "192.0.2.9");
	table_set(&t, "{auth_type}", repeat('M', MILTER_MAX_SASL));
	table_set(&t, "{auth_authen}", repeat('u', MILTER_MAX_SASL));
	session_mail(&c, table_get, &t, &v);
	ck_assert_str_eq(c.sasl_method, repeat('M', MILTER_MAX_SASL));
	ck_assert_str_eq(c.sasl_username, repeat('u', MILTER_MAX_SASL));
	table_set(&t, "{auth_type}", repeat('M', MILTER_MAX_SASL + 1));
	table_set(&t, "{auth_authen}", repeat('u', MILTER_MAX_SASL + 1));
	session_mail(&c, table_get, &t, &v);
	ck_assert_str_eq(c.sasl_method, "?");
	ck_assert_str_eq(c.sasl_username, "?");
	ck_assert_int_eq(v.rule, PG_RULE_PLAINTEXT_AUTH);

	/* the queue id: MILTER_MAX_QUEUE_ID, else NOQUEUE */
	conn_start(&c, &t, "25", NULL, "192.0.2.9");
	table_set(&t, "i", repeat('Q', MILTER_MAX_QUEUE_ID));
	session_mail(&c, table_get, &t, &v);
	ck_assert_str_eq(c.queue_id, repeat('Q', MILTER_MAX_QUEUE_ID));
	pg_capture_start();
	table_set(&t, "i", repeat('Q', MILTER_MAX_QUEUE_ID + 1));
	session_mail(&c, table_get, &t, &v);
	ck_assert_str_eq(c.queue_id, "");
	ck_assert_int_eq(strncmp(pg_captured_log(), "NOQUEUE: pass:", 14), 0);

	/* a recipient: PG_MAX_ADDRESS inside the brackets; one over is judged
	 * as sent, so it is never made local by a cut */
	char rcpt[PG_MAX_ADDRESS + 8];
	snprintf(rcpt, sizeof rcpt, "<%s@example.org>", repeat('r', PG_MAX_ADDRESS - 12));
	session_rcpt(&c, table_get, &t, rcpt, &v);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);
	snprintf(rcpt, sizeof rcpt, "<%s@example.org>", repeat('r', PG_MAX_ADDRESS - 11));
	session_rcpt(&c, table_get, &t, rcpt, &v);
	ck_assert_int_eq(v.rule, PG_RULE_RELAY);
}
END_TEST

START_TEST(test_rcpt_address)
{
	char got[8];

	ck_assert(session_rcpt_address(got, sizeof got, "<a@b.c>"));
	ck_assert_str_eq(got, "a@b.c");
	ck_assert(session_rcpt_address(got, sizeof got, "postmas"));
	ck_assert_str_eq(got, "postmas");
	ck_assert(session_rcpt_address(got, sizeof got, "<1234567>"));
	ck_assert(!session_rcpt_address(got, sizeof got, "<12345678>"));
	ck_assert(session_rcpt_address(got, sizeof got, "<>"));
	ck_assert_str_eq(got, "");
}
END_TEST

static Suite *milter_glue_suite(void)
{
	Suite *s = suite_create("milter_glue");
	TCase *tc = tcase_create("macros_reply");

	tcase_add_test(tc, test_client_addr);
	tcase_add_test(tc, test_port_and_bits);
	tcase_add_test(tc, test_mta_kind_and_fixes);
	tcase_add_test(tc, test_reply_escape);
	tcase_add_test(tc, test_reply_plan);
	tcase_add_test(tc, test_rcpt_address);
	suite_add_tcase(s, tc);

	tc = tcase_create("session");
	tcase_add_checked_fixture(tc, session_setup, session_teardown);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_mail_stage_rules);
	tcase_add_test(tc, test_rcpt_stage_and_monitor);
	tcase_add_test(tc, test_session_stats);
	tcase_add_test(tc, test_macro_limits);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(milter_glue_suite)
