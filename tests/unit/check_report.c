/*
 * check_report.c - core/report.c: the exact log lines both front ends write,
 * sanitising of client values, "pass" only at info, unknown port once.
 */
#include <stdbool.h>
#include <stdint.h>
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

/*
 * The decision line as it was first built (each value sanitised into a
 * temporary, then copied in; a cut check and a NUL on every piece): the
 * reference the faster builder must match byte for byte. log_sanitise()
 * itself is proven against its own reference in check_log.c.
 */
struct ref_line {
	char s[PG_LOG_LINE_MAX];
	size_t len;
	bool cut;
};

static void ref_mem(struct ref_line *l, const char *src, size_t n)
{
	if (l->cut)
		return;
	if (n >= sizeof l->s - l->len) {
		n = sizeof l->s - 1 - l->len;
		l->cut = true;
	}
	memcpy(l->s + l->len, src, n);
	l->len += n;
	l->s[l->len] = '\0';
	if (l->cut && l->len >= 3)
		memcpy(l->s + l->len - 3, "...", 3);
}

static void ref_str(struct ref_line *l, const char *src)
{
	ref_mem(l, src, strlen(src));
}

static void ref_uint(struct ref_line *l, unsigned v)
{
	char d[16];

	snprintf(d, sizeof d, "%u", v);
	ref_str(l, d);
}

static void ref_value(struct ref_line *l, const char *src, const char *absent)
{
	char v[PG_LOG_VALUE_MAX + 1];

	log_sanitise(v, sizeof v, src);
	ref_str(l, v[0] != '\0' ? v : absent);
}

static void ref_quote(char *dst, size_t len, const char *src)
{
	size_t out = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
		bool plain = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
		size_t piece = plain ? 1 : 4;
		if (out + piece >= len)
			break;
		if (plain)
			dst[out++] = (char)*p;
		else
			out += (size_t)snprintf(dst + out, len - out, "\\x%02x", *p);
	}
	dst[out] = '\0';
}

static void ref_decision_line(struct ref_line *l, const struct pg_port *port,
                              const struct pg_facts *f, const struct pg_verdict *v)
{
	char text[PG_MAX_REPLY * 4];
	bool on_tls = policy_is_tls(f);

	l->len = 0;
	l->cut = false;
	l->s[0] = '\0';
	ref_value(l, f->queue_id, "NOQUEUE");
	ref_str(l, ": ");
	ref_str(l, v->rule == PG_RULE_NONE ? "pass" : v->would_reject ? "would-reject" : "reject");
	ref_str(l, ": port=");
	if (f->server_port != 0)
		ref_uint(l, f->server_port);
	else if (port->port != 0)
		ref_uint(l, port->port);
	else
		ref_value(l, port->name, "-");
	ref_str(l, " role=");
	ref_str(l, config_role_name(port->role));
	ref_str(l, " mode=");
	ref_str(l, config_mode_name(port->mode));
	ref_str(l, " client=");
	ref_value(l, f->client_name, "unknown");
	ref_str(l, "[");
	ref_value(l, f->client_addr, "-");
	ref_str(l, "]:");
	ref_uint(l, f->client_port);
	ref_str(l, " tls=");
	ref_value(l, on_tls ? f->tls_version : "", on_tls ? "unknown" : "none");
	ref_str(l, " cipher=");
	ref_value(l, on_tls ? f->cipher : "", "none");
	ref_str(l, " bits=");
	ref_uint(l, on_tls ? f->cipher_bits : 0);
	ref_str(l, " sasl_method=");
	ref_value(l, f->sasl_method, "-");
	ref_str(l, " sasl_username=");
	ref_value(l, f->sasl_username, "-");
	if (f->stage == PG_STAGE_RCPT) {
		char bare[PG_MAX_ADDRESS + 1];
		size_t n = strlen(f->recipient);
		const char *r = f->recipient;

		if (n >= 2 && r[0] == '<' && r[n - 1] == '>') {
			r++;
			n -= 2;
		}
		if (n > PG_MAX_ADDRESS)
			n = PG_MAX_ADDRESS;
		memcpy(bare, r, n);
		bare[n] = '\0';
		ref_str(l, " rcpt=<");
		ref_value(l, bare, "");
		ref_str(l, ">");
	}
	ref_str(l, " rule=");
	ref_str(l, config_rule_name(v->rule));
	if (v->rule != PG_RULE_NONE) {
		ref_quote(text, sizeof text, v->text);
		ref_str(l, " reply=\"");
		ref_uint(l, v->code);
		ref_str(l, " ");
		ref_str(l, v->esc);
		ref_str(l, " ");
		ref_str(l, text);
		ref_str(l, "\"");
	}
}

/* The lines of the property tests go nowhere but to the hook. */
static void prop_sink_line(int level, const char *line, size_t len)
{
	(void)level;
	if (len != strlen(line))
		ck_abort_msg("the sink was given %zu for a line of %zu bytes", len, strlen(line));
}

static void prop_sink_flush(void)
{
}

static const struct log_sink prop_sink = {prop_sink_line, prop_sink_flush};

/* The last line logged, as the sink would get it. */
static char prop_got[PG_LOG_LINE_MAX + 64];
static int prop_level;
static unsigned prop_lines;

static void prop_hook(int level, const char *line, void *arg)
{
	(void)arg;
	prop_level = level;
	prop_lines++;
	snprintf(prop_got, sizeof prop_got, "%s", line);
}

/* A value of n bytes, its mix of bytes drawn first. */
static void prop_bytes(char *dst, size_t n)
{
	pg_prop_bytes(dst, n, pg_prop_next(40));
}

/* A length that is often near one of the caps: the value cap raw and fully
 * escaped, the address cap, or short. */
static size_t prop_len(size_t max)
{
	static const size_t near[] = {
	    0, 1, PG_LOG_VALUE_MAX / 4, PG_LOG_VALUE_MAX - 3, PG_LOG_VALUE_MAX, PG_MAX_ADDRESS};
	size_t n;

	switch (pg_prop_next(3)) {
	case 0:
		n = pg_prop_next(24);
		break;
	case 1:
		n = near[pg_prop_next(PG_ARRAY_LEN(near))] + pg_prop_next(5);
		n = n >= 2 ? n - 2 : n;
		break;
	default:
		n = pg_prop_next((unsigned)max + 1);
		break;
	}
	return n < max ? n : max;
}

#define PROP_VALUE_MAX 700

/* Compare one decision with the reference; a message names what differs. */
static void prop_compare(const struct pg_port *port, const struct pg_facts *f,
                         const struct pg_verdict *v, unsigned round)
{
	struct ref_line want;
	unsigned before = prop_lines;

	ref_decision_line(&want, port, f, v);
	prop_got[0] = '\0';
	report_decision(port, f, v);
	if (v->action == PG_ACT_TEMPFAIL) {
		if (prop_lines != before)
			ck_abort_msg("round %u: a tempfail verdict was logged", round);
		return;
	}
	if (prop_lines != before + 1 || strcmp(prop_got, want.s) != 0 ||
	    prop_level != (v->rule == PG_RULE_NONE ? LOG_INFO : LOG_NOTICE))
		ck_abort_msg("round %u:\n got  %s\n want %s", round, prop_got, want.s);
}

/* report_decision against the reference over random facts and verdicts:
 * values with every byte, near each cap, absent; lines that end anywhere
 * around PG_LOG_LINE_MAX. */
START_TEST(test_decision_line_matches_reference)
{
	static char values[9][PROP_VALUE_MAX + 1];
	struct pg_port port;
	unsigned cut = 0;

	log_set_level(LOG_DEBUG);
	log_set_hook(prop_hook, NULL);
	log_set_sink(&prop_sink);
	pg_prop_state = 0x2545f4914f6cdd1du;
	for (unsigned round = 0; round < 20000; round++) {
		struct pg_facts f = base_facts();
		struct pg_verdict v = {.rule = (enum pg_rule)pg_prop_next(PG_RULE_COUNT)};
		const char **slot[] = {&f.queue_id,      &f.client_name, &f.client_addr,
		                       &f.tls_version,   &f.cipher,      &f.sasl_method,
		                       &f.sasl_username, &f.recipient};

		config_port_defaults(&port, (enum pg_role)pg_prop_next(2));
		port.mode = (enum pg_mode)pg_prop_next(2);
		port.port = pg_prop_next(2) ? 0 : pg_prop_next(70000);
		prop_bytes(port.name, prop_len(sizeof port.name - 1));
		for (size_t i = 0; i < PG_ARRAY_LEN(slot); i++) {
			prop_bytes(values[i], prop_len(PROP_VALUE_MAX));
			*slot[i] = values[i];
			if (i != 3 && i != 4 && i != 7 && pg_prop_next(30) == 0)
				*slot[i] = NULL; /* absent, the way log_sanitise() takes it */
		}
		if (pg_prop_next(3) == 0) { /* a recipient in <...>, or nearly */
			size_t n = strlen(values[7]);
			values[7][0] = '<';
			if (n > 1 && pg_prop_next(4) != 0)
				values[7][n - 1] = '>';
		}
		if (pg_prop_next(4) == 0) /* plaintext */
			f.tls_version = f.cipher = "";
		f.stage = pg_prop_next(3) == 0 ? PG_STAGE_MAIL : PG_STAGE_RCPT;
		f.server_port = pg_prop_next(2) ? 0 : pg_prop_next(70000);
		f.client_port = pg_prop_next(2) ? pg_prop_next(65536) : (unsigned)pg_prop_state;
		f.cipher_bits = pg_prop_next(2) ? pg_prop_next(512) : (unsigned)(pg_prop_state >> 7);
		v.action = pg_prop_next(20) == 0 ? PG_ACT_TEMPFAIL : PG_ACT_REJECT;
		v.would_reject = pg_prop_next(2);
		v.code = pg_prop_next(2) ? 400 + pg_prop_next(200) : (unsigned)(pg_prop_state >> 3);
		prop_bytes(v.esc, pg_prop_next(sizeof v.esc));
		prop_bytes(v.text, prop_len(sizeof v.text - 1));
		prop_compare(&port, &f, &v, round);
		cut += strlen(prop_got) == PG_LOG_LINE_MAX - 1;
	}
	ck_assert_uint_gt(cut, 100); /* the cap was reached, not only approached */
	log_set_sink(NULL);
	log_set_hook(NULL, NULL);
}
END_TEST

/* Every end of a line around PG_LOG_LINE_MAX: long values, then a reply (or
 * a recipient) one byte longer each time, ending in a plain byte or an escape. */
START_TEST(test_decision_line_cap_sweep)
{
	static char big[PG_LOG_VALUE_MAX + 1], rcpt[PG_MAX_ADDRESS + 1];
	struct pg_facts f = base_facts();
	struct pg_verdict v = reject(PG_RULE_RELAY, 554, "5.7.1", "");
	unsigned fits = 0, over = 0;

	log_set_level(LOG_DEBUG);
	log_set_hook(prop_hook, NULL);
	log_set_sink(&prop_sink);
	memset(big, 'v', PG_LOG_VALUE_MAX);
	f.queue_id = f.client_name = f.client_addr = f.tls_version = f.cipher = big;
	f.sasl_method = f.sasl_username = big;
	for (unsigned tail = 0; tail < 2; tail++) {
		for (size_t k = 0; k + 1 < sizeof v.text; k++) {
			memset(v.text, 't', k);
			v.text[k] = tail ? '\n' : 't';
			v.text[k + 1] = '\0';
			f.recipient = "<r@example.org>";
			prop_compare(&sub, &f, &v, (unsigned)k);
			fits += strlen(prop_got) == PG_LOG_LINE_MAX - 1 &&
			        prop_got[PG_LOG_LINE_MAX - 2] != '.';
			over += strcmp(prop_got + PG_LOG_LINE_MAX - 4, "...") == 0;
		}
	}
	ck_assert_uint_eq(fits, 2); /* "just fits": 2047 bytes and no "...", once per tail */
	ck_assert_uint_gt(over, 100);
	/* The cut inside the recipient and the words after it (a pass line). */
	v.rule = PG_RULE_NONE;
	v.action = PG_ACT_DUNNO;
	for (size_t k = 0; k < PG_MAX_ADDRESS; k++) {
		memset(rcpt, k % 3 ? 'r' : '"', k);
		rcpt[k] = '\0';
		f.recipient = rcpt;
		prop_compare(&sub, &f, &v, (unsigned)k);
	}
	log_set_sink(NULL);
	log_set_hook(NULL, NULL);
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
	tcase_set_timeout(tc, 30); /* the property tests, under the sanitizers */
	tcase_add_test(tc, test_reject_line);
	tcase_add_test(tc, test_would_reject_line_with_rcpt);
	tcase_add_test(tc, test_pass_only_at_info);
	tcase_add_test(tc, test_hostile_values_stay_on_one_line);
	tcase_add_test(tc, test_plaintext_auth_alarm);
	tcase_add_test(tc, test_implicit_plaintext_error);
	tcase_add_test(tc, test_port_word_falls_back_to_label);
	tcase_add_test(tc, test_decision_line_matches_reference);
	tcase_add_test(tc, test_decision_line_cap_sweep);
	tcase_add_test(tc, test_unknown_port_once);
	tcase_add_test(tc, test_unknown_port_table_full);
	tcase_add_test(tc, test_config_summary);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(report_suite)
