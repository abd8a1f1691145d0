/*
 * check_policy.c - core/policy.c: SPEC's decision table row by row, at every
 * stage, in enforce and monitor mode, with per-port overrides, rule order,
 * reply expansion (%m, %r, %%), hostile recipients and the fail mode; the
 * reply templates and cipher names it is given at load.
 */
#include <syslog.h>

#include "check_common.h"
#include "nettable.h"
#include "policy.h"
#include "relay.h"

/* clang-format off */
#define FP_TRUSTED "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
#define FP_OTHER "00:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
/* clang-format on */

static struct pg_config *cfg;

static void set_from(struct pg_strset *set, const char *const *items, size_t n)
{
	char **v = calloc(n + 1, sizeof *v);
	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n; i++)
		v[i] = strdup(items[i]);
	strset_build(set, v, n);
}

static void policy_setup(void)
{
	static const char *const domains[] = {"example.org"};
	static const char *const parents[] = {"example.org"};
	static const char *const nets[] = {"127.0.0.0/8", "::1/128"};
	char fp[PG_MAX_FINGERPRINT + 1];

	cfg = calloc(1, sizeof *cfg);
	ck_assert_ptr_nonnull(cfg);
	cfg->on_error = PG_ONERR_TEMPFAIL;
	set_from(&cfg->relay.domains, domains, 1);
	set_from(&cfg->relay.parents, parents, 1);
	ck_assert(relay_fingerprint_normalise(FP_TRUSTED, fp, sizeof fp));
	const char *certs[] = {fp};
	set_from(&cfg->relay.certs, certs, 1);
	cfg->relay.nets = calloc(2, sizeof *cfg->relay.nets);
	for (size_t i = 0; i < 2; i++)
		ck_assert(relay_net_parse(nets[i], &cfg->relay.nets[i]));
	cfg->relay.nnets = 2;
	ck_assert(relay_nets_build(&cfg->relay));
	cfg->relay.authenticated_may_relay = true;
	log_set_level(LOG_DEBUG);
}

static void policy_teardown(void)
{
	strset_free(&cfg->relay.domains);
	strset_free(&cfg->relay.parents);
	strset_free(&cfg->relay.certs);
	free(cfg->relay.nets);
	nettable_free(cfg->relay.nettab);
	free(cfg);
	log_set_hook(NULL, NULL);
}

enum port_kind { RELAY25, SUB587, IMPL465 };

enum override {
	OV_NONE = 0,
	OV_ALLOW_PT_AUTH = 1 << 0,
	OV_AUTH_FORBIDDEN = 1 << 1,
	OV_MIN_TLS_NONE = 1 << 2,
	OV_CIPHERS = 1 << 3,
	OV_MIN_BITS_256 = 1 << 4,
	OV_NO_AUTH_RELAY = 1 << 5,
	OV_MIN_TLS_13 = 1 << 6,
};

static const char *const allowed_ciphers[] = {"ECDHE-RSA-AES256-GCM-SHA384",
                                              "TLS_AES_256_GCM_SHA384"};

static void make_port(struct pg_port *p, enum port_kind kind, unsigned ov)
{
	config_port_defaults(p, kind == RELAY25 ? PG_ROLE_RELAY : PG_ROLE_SUBMISSION);
	p->port = kind == RELAY25 ? 25 : kind == SUB587 ? 587 : 465;
	if (kind == IMPL465)
		p->tls = PG_TLS_IMPLICIT;
	if (ov & OV_ALLOW_PT_AUTH)
		p->allow_plaintext_auth = true;
	if (ov & OV_AUTH_FORBIDDEN)
		p->auth = PG_AUTH_FORBIDDEN;
	if (ov & OV_MIN_TLS_NONE)
		p->min_tls = PG_TLS_NONE;
	if (ov & OV_MIN_TLS_13)
		p->min_tls = PG_TLS_V1_3;
	if (ov & OV_CIPHERS) {
		p->restrict_ciphers = true;
		set_from(&p->ciphers, allowed_ciphers, PG_ARRAY_LEN(allowed_ciphers));
	}
	if (ov & OV_MIN_BITS_256)
		p->min_cipher_bits = 256;
	cfg->relay.authenticated_may_relay = !(ov & OV_NO_AUTH_RELAY);
}

struct row {
	const char *name;
	enum port_kind port;
	unsigned ov;
	const char *tls;    /* "" plaintext */
	const char *cipher; /* NULL: a default for the TLS state */
	unsigned bits;
	const char *user; /* "" not authenticated */
	const char *addr;
	const char *fp;
	const char *rcpt;
	const char *mailer;
	enum pg_rule want_rule;
};

#define T13 "TLSv1.3"
/* clang-format off */
static const struct row rows[] = {
    /* submission 587 (STARTTLS, auth required, min TLSv1.2) */
    {"sub plaintext anonymous", SUB587, 0, "", NULL, 0, "", "192.0.2.1", "", "a@remote.net", "", PG_RULE_TLS_REQUIRED},
    {"sub plaintext AUTH: rule 1 before 3", SUB587, 0, "", NULL, 0, "bob", "192.0.2.1", "", "a@remote.net", "", PG_RULE_PLAINTEXT_AUTH},
    {"sub plaintext AUTH allowed: rule 3", SUB587, OV_ALLOW_PT_AUTH, "", NULL, 0, "bob", "192.0.2.1", "", "a@remote.net", "", PG_RULE_TLS_REQUIRED},
    {"sub TLS anonymous", SUB587, 0, T13, NULL, 256, "", "192.0.2.1", "", "a@remote.net", "", PG_RULE_AUTH_REQUIRED},
    {"sub TLS authenticated", SUB587, 0, T13, NULL, 256, "bob", "192.0.2.1", "", "a@remote.net", "", PG_RULE_NONE},
    {"sub TLSv1.2 just fits", SUB587, 0, "TLSv1.2", NULL, 256, "bob", "192.0.2.1", "", "a@remote.net", "", PG_RULE_NONE},
    {"sub TLSv1.1 too old", SUB587, 0, "TLSv1.1", NULL, 256, "bob", "192.0.2.1", "", "a@remote.net", "", PG_RULE_TLS_VERSION},
    {"sub TLSv1 anonymous: rule 4 before 6", SUB587, 0, "TLSv1", NULL, 256, "", "192.0.2.1", "", "a@remote.net", "", PG_RULE_TLS_VERSION},
    {"sub SSLv3", SUB587, 0, "SSLv3", NULL, 256, "bob", "192.0.2.1", "", "", "", PG_RULE_TLS_VERSION},
    {"sub unknown newer version", SUB587, 0, "TLSv1.4", NULL, 256, "bob", "192.0.2.1", "", "", "", PG_RULE_NONE},
    {"sub TLS up, no version reported", SUB587, 0, "", "TLS_AES_256_GCM_SHA384", 256, "bob", "192.0.2.1", "", "", "", PG_RULE_NONE},
    {"sub min_tls none", SUB587, OV_MIN_TLS_NONE, "TLSv1", NULL, 128, "bob", "192.0.2.1", "", "", "", PG_RULE_NONE},
    {"sub min TLSv1.3, 1.2 offered", SUB587, OV_MIN_TLS_13, "TLSv1.2", NULL, 256, "bob", "192.0.2.1", "", "", "", PG_RULE_TLS_VERSION},
    {"sub cipher outside set", SUB587, OV_CIPHERS, T13, "TLS_AES_128_GCM_SHA256", 128, "bob", "192.0.2.1", "", "", "", PG_RULE_CIPHER},
    {"sub cipher in set", SUB587, OV_CIPHERS, T13, "TLS_AES_256_GCM_SHA384", 256, "bob", "192.0.2.1", "", "", "", PG_RULE_NONE},
    {"sub cipher outside set, anonymous: rule 5 before 6", SUB587, OV_CIPHERS, T13, "AES128-SHA", 128, "", "192.0.2.1", "", "", "", PG_RULE_CIPHER},
    {"sub bits below min", SUB587, OV_MIN_BITS_256, T13, NULL, 128, "bob", "192.0.2.1", "", "", "", PG_RULE_CIPHER},
    {"sub bits at min", SUB587, OV_MIN_BITS_256, T13, NULL, 256, "bob", "192.0.2.1", "", "", "", PG_RULE_NONE},
    {"sub auth forbidden", SUB587, OV_AUTH_FORBIDDEN, T13, NULL, 256, "bob", "192.0.2.1", "", "", "", PG_RULE_AUTH_FORBIDDEN},
    {"sub is not a relay port", SUB587, 0, T13, NULL, 256, "bob", "203.0.113.5", "", "x@remote.net", "smtp", PG_RULE_NONE},
    /* submission 465 (implicit TLS) */
    {"implicit plaintext", IMPL465, 0, "", NULL, 0, "", "192.0.2.1", "", "", "", PG_RULE_TLS_REQUIRED},
    {"implicit plaintext AUTH", IMPL465, 0, "", NULL, 0, "bob", "192.0.2.1", "", "", "", PG_RULE_PLAINTEXT_AUTH},
    {"implicit TLS authenticated", IMPL465, 0, T13, NULL, 256, "bob", "192.0.2.1", "", "", "", PG_RULE_NONE},
    /* relay 25 (TLS optional, auth optional, no minimum) */
    {"relay plaintext local rcpt", RELAY25, 0, "", NULL, 0, "", "203.0.113.5", "", "a@example.org", "", PG_RULE_NONE},
    {"relay plaintext subdomain rcpt", RELAY25, 0, "", NULL, 0, "", "203.0.113.5", "", "<a@mx.example.org>", "", PG_RULE_NONE},
    {"relay plaintext remote rcpt", RELAY25, 0, "", NULL, 0, "", "203.0.113.5", "", "a@remote.net", "", PG_RULE_RELAY},
    {"relay TLS remote rcpt", RELAY25, 0, T13, NULL, 256, "", "203.0.113.5", "", "a@remote.net", "", PG_RULE_RELAY},
    {"relay plaintext AUTH", RELAY25, 0, "", NULL, 0, "bob", "203.0.113.5", "", "a@remote.net", "", PG_RULE_PLAINTEXT_AUTH},
    {"relay plaintext AUTH allowed may relay", RELAY25, OV_ALLOW_PT_AUTH, "", NULL, 0, "bob", "203.0.113.5", "", "a@remote.net", "", PG_RULE_NONE},
    {"relay TLS authenticated remote", RELAY25, 0, T13, NULL, 256, "bob", "203.0.113.5", "", "a@remote.net", "", PG_RULE_NONE},
    {"relay authenticated, may not relay", RELAY25, OV_NO_AUTH_RELAY, T13, NULL, 256, "bob", "203.0.113.5", "", "a@remote.net", "", PG_RULE_RELAY},
    {"relay auth forbidden", RELAY25, OV_AUTH_FORBIDDEN, T13, NULL, 256, "bob", "203.0.113.5", "", "a@example.org", "", PG_RULE_AUTH_FORBIDDEN},
    {"relay auth forbidden, plaintext: rule 1 first", RELAY25, OV_AUTH_FORBIDDEN, "", NULL, 0, "bob", "203.0.113.5", "", "a@example.org", "", PG_RULE_PLAINTEXT_AUTH},
    {"relay trusted network", RELAY25, 0, "", NULL, 0, "", "127.0.0.1", "", "a@remote.net", "", PG_RULE_NONE},
    {"relay trusted IPv6", RELAY25, 0, "", NULL, 0, "", "::1", "", "a@remote.net", "", PG_RULE_NONE},
    {"relay trusted mapped IPv4", RELAY25, 0, "", NULL, 0, "", "::ffff:127.0.0.2", "", "a@remote.net", "", PG_RULE_NONE},
    {"relay trusted cert", RELAY25, 0, T13, NULL, 256, "", "203.0.113.5", FP_TRUSTED, "a@remote.net", "", PG_RULE_NONE},
    {"relay untrusted cert", RELAY25, 0, T13, NULL, 256, "", "203.0.113.5", FP_OTHER, "a@remote.net", "", PG_RULE_RELAY},
    {"relay gateway: listed domain forwarded by esmtp stays local", RELAY25, 0, "", NULL, 0, "", "203.0.113.5", "", "a@example.org", "esmtp", PG_RULE_NONE},
    {"relay resolved local never makes remote local", RELAY25, 0, "", NULL, 0, "", "203.0.113.5", "", "a@remote.net", "local", PG_RULE_RELAY},
    {"relay routed address", RELAY25, 0, "", NULL, 0, "", "203.0.113.5", "", "a@remote.net@example.org", "", PG_RULE_RELAY},
    {"relay percent hack", RELAY25, 0, "", NULL, 0, "", "203.0.113.5", "", "a%remote.net@example.org", "", PG_RULE_RELAY},
    {"relay postmaster", RELAY25, 0, "", NULL, 0, "", "203.0.113.5", "", "postmaster", "", PG_RULE_NONE},
    {"relay old TLS, no minimum", RELAY25, 0, "TLSv1", NULL, 128, "", "203.0.113.5", "", "a@example.org", "", PG_RULE_NONE},
    {"relay cipher outside set", RELAY25, OV_CIPHERS, "TLSv1.2", "AES128-SHA", 128, "", "203.0.113.5", "", "a@example.org", "", PG_RULE_CIPHER},
    {"relay cipher set ignored on plaintext", RELAY25, OV_CIPHERS | OV_MIN_BITS_256, "", NULL, 0, "", "203.0.113.5", "", "a@example.org", "", PG_RULE_NONE},
};
/* clang-format on */

static struct pg_facts row_facts(const struct row *r, enum pg_stage stage)
{
	bool tls = r->tls[0] != '\0' || r->cipher != NULL;
	struct pg_facts f = {
	    .stage = stage,
	    .queue_id = "",
	    .client_name = "unknown",
	    .client_addr = r->addr,
	    .client_port = 50000,
	    .tls_version = r->tls,
	    .cipher = r->cipher != NULL ? r->cipher
	              : tls             ? "TLS_AES_256_GCM_SHA384"
	                                : "",
	    .cipher_bits = r->bits,
	    .sasl_method = r->user[0] != '\0' ? "PLAIN" : "",
	    .sasl_username = r->user,
	    .ccert_fingerprint = r->fp,
	    .recipient = stage == PG_STAGE_RCPT ? r->rcpt : "",
	    .rcpt_mailer = stage == PG_STAGE_RCPT ? r->mailer : "",
	    .rcpt_host = "",
	    /* an MTA that resolved the recipient to itself */
	    .rcpt_addr = stage == PG_STAGE_RCPT && r->mailer[0] != '\0' ? r->rcpt : "",
	};
	return f;
}

static const char *const stage_names[] = {"CONNECT", "HELO", "MAIL", "RCPT",
                                          "DATA",    "EOM",  "OTHER"};

START_TEST(test_decision_table)
{
	size_t checked = 0;

	for (size_t i = 0; i < PG_ARRAY_LEN(rows); i++) {
		const struct row *r = &rows[i];
		for (int mode = PG_MODE_ENFORCE; mode <= PG_MODE_MONITOR; mode++) {
			for (int st = PG_STAGE_CONNECT; st <= PG_STAGE_OTHER; st++) {
				struct pg_port port;
				struct pg_verdict got;
				enum pg_rule want = r->want_rule;

				if (st == PG_STAGE_CONNECT || st == PG_STAGE_HELO)
					want = PG_RULE_NONE;
				if (want == PG_RULE_RELAY && st != PG_STAGE_RCPT)
					want = PG_RULE_NONE;
				make_port(&port, r->port, r->ov);
				port.mode = (enum pg_mode)mode;
				struct pg_facts f = row_facts(r, (enum pg_stage)st);
				policy_decide(cfg, &port, &f, &got);
				ck_assert_msg(got.rule == want,
				              "%s at %s (%s): want rule %s, got %s", r->name,
				              stage_names[st], config_mode_name((enum pg_mode)mode),
				              config_rule_name(want), config_rule_name(got.rule));
				const struct pg_reply *dr = &policy_default_replies[want];
				if (want == PG_RULE_NONE) {
					ck_assert_int_eq(got.action, PG_ACT_DUNNO);
					ck_assert(!got.would_reject);
				} else if (mode == PG_MODE_MONITOR) {
					ck_assert_int_eq(got.action, PG_ACT_DUNNO);
					ck_assert(got.would_reject);
				} else {
					ck_assert_int_eq(got.action, PG_ACT_REJECT);
					ck_assert(!got.would_reject);
				}
				if (want != PG_RULE_NONE) {
					ck_assert_uint_eq(got.code, dr->code);
					ck_assert_str_eq(got.esc, dr->esc);
					ck_assert_uint_gt(strlen(got.text), 0);
				}
				strset_free(&port.ciphers);
				checked++;
			}
		}
	}
	ck_assert_uint_eq(checked, PG_ARRAY_LEN(rows) * 2 * 7);
}
END_TEST

static struct pg_verdict decide_row(const char *name, enum pg_stage stage, struct pg_port *port)
{
	struct pg_verdict v;

	for (size_t i = 0; i < PG_ARRAY_LEN(rows); i++) {
		if (strcmp(rows[i].name, name) == 0) {
			struct pg_facts f = row_facts(&rows[i], stage);
			make_port(port, rows[i].port, rows[i].ov);
			policy_decide(cfg, port, &f, &v);
			return v;
		}
	}
	ck_abort_msg("no row %s", name);
	return v;
}

/* Rule 7's recipient, in the form each daemon gets it. The milter's
 * (quoted form, Q): {rcpt_addr} is judged like the recipient (remote when
 * either is); no transport name makes a recipient local or remote, so an
 * unqualified recipient resolved to a domain that is not local is remote
 * whatever the transport is called. The policy daemon's (Postfix's dequoted
 * form, D): issue 10's three local forms pass, the classic tricks do not. */
START_TEST(test_relay_recipient)
{
	static const struct {
		const char *rcpt;
		char form;
		const char *mailer, *rcpt_addr;
		enum pg_rule want_rule;
	} cases[] = {
	    {"a@example.org", 'Q', "esmtp", "a@remote.net", PG_RULE_RELAY}, /* rewritten away */
	    {"a@example.org", 'Q', "esmtp", "a@example.org", PG_RULE_NONE}, /* gateway */
	    {"a@example.org", 'Q', "local", "a@remote.net", PG_RULE_RELAY}, /* either is remote */
	    {"a@example.org", 'Q', "local", "a", PG_RULE_RELAY},            /* origin unknown */
	    {"a@remote.net", 'Q', "local", "a@example.org", PG_RULE_RELAY}, /* never made local */
	    {"a@remote.net", 'Q', "", "", PG_RULE_RELAY},
	    {"a@example.org", 'Q', "", "", PG_RULE_NONE}, /* nothing resolved */
	    {"relaytest", 'Q', "outbound", "relaytest@mx.remote.net", PG_RULE_RELAY},
	    {"relaytest", 'Q', "local", "relaytest@example.org", PG_RULE_RELAY},
	    {"\"relay test\"", 'Q', "outbound", "\"relay test\"@mx.remote.net", PG_RULE_RELAY},
	    {"postmaster", 'Q', "local", "postmaster@example.org", PG_RULE_NONE},
	    {"\"first last\"@example.org", 'Q', "local", "\"first last\"@example.org",
	     PG_RULE_NONE},
	    {"first last@example.org", 'Q', "local", "", PG_RULE_RELAY},
	    {"first last@example.org", 'D', "", "", PG_RULE_NONE},
	    {"user\"x@example.org", 'D', "", "", PG_RULE_NONE},
	    {"a(b)c,d:e;f@example.org", 'D', "", "", PG_RULE_NONE},
	    {"u@remote.net@example.org", 'D', "", "", PG_RULE_RELAY},
	    {"u%remote.net@example.org", 'D', "", "", PG_RULE_RELAY},
	    {"remote.net!u@example.org", 'D', "", "", PG_RULE_RELAY},
	    {"relaytest", 'D', "", "", PG_RULE_RELAY},
	    {"Postmaster", 'D', "", "", PG_RULE_NONE},
	};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		struct pg_port port;
		struct pg_verdict got;
		struct pg_facts f = {
		    .stage = PG_STAGE_RCPT,
		    .queue_id = "",
		    .client_name = "unknown",
		    .client_addr = "203.0.113.5",
		    .tls_version = "",
		    .cipher = "",
		    .sasl_method = "",
		    .sasl_username = "",
		    .ccert_fingerprint = "",
		    .recipient = cases[i].rcpt,
		    .rcpt_quoted = cases[i].form == 'Q',
		    .rcpt_mailer = cases[i].mailer,
		    .rcpt_host = "",
		    .rcpt_addr = cases[i].rcpt_addr,
		};

		config_port_defaults(&port, PG_ROLE_RELAY);
		policy_decide(cfg, &port, &f, &got);
		ck_assert_msg(got.rule == cases[i].want_rule, "'%s' (%c): got_rule %s want_rule %s",
		              cases[i].rcpt, cases[i].form, config_rule_name(got.rule),
		              config_rule_name(cases[i].want_rule));
	}
}
END_TEST

START_TEST(test_default_texts)
{
	struct pg_port p;
	struct pg_verdict v;

	v = decide_row("sub plaintext anonymous", PG_STAGE_RCPT, &p);
	ck_assert_str_eq(v.text, "Must issue a STARTTLS command first");
	v = decide_row("sub plaintext AUTH: rule 1 before 3", PG_STAGE_MAIL, &p);
	ck_assert_uint_eq(v.code, 538);
	ck_assert_str_eq(v.esc, "5.7.11");
	ck_assert_str_eq(v.text, "Encryption required for requested authentication mechanism");
	v = decide_row("sub TLSv1.1 too old", PG_STAGE_MAIL, &p);
	ck_assert_str_eq(v.text, "TLSv1.2 or later required");
	v = decide_row("sub min TLSv1.3, 1.2 offered", PG_STAGE_MAIL, &p);
	ck_assert_str_eq(v.text, "TLSv1.3 or later required");
	v = decide_row("relay plaintext remote rcpt", PG_STAGE_RCPT, &p);
	ck_assert_uint_eq(v.code, 554);
	ck_assert_str_eq(v.text, "Relay access denied");
	v = decide_row("relay auth forbidden", PG_STAGE_RCPT, &p);
	ck_assert_str_eq(v.text, "Authentication is not accepted on this port");
}
END_TEST

/* Each rule's default reply, as sent: code, enhanced status and text written
 * out here (not read from the table they come from), so that changing one
 * in core fails this test. */
START_TEST(test_default_replies_pinned)
{
	static const struct {
		const char *row;
		enum pg_stage stage;
		enum pg_rule want_rule;
		unsigned want_code;
		const char *want_esc, *want_text, *want_template;
	} cases[] = {
	    {"sub plaintext AUTH: rule 1 before 3", PG_STAGE_MAIL, PG_RULE_PLAINTEXT_AUTH, 538,
	     "5.7.11", "Encryption required for requested authentication mechanism",
	     "Encryption required for requested authentication mechanism"},
	    {"sub auth forbidden", PG_STAGE_MAIL, PG_RULE_AUTH_FORBIDDEN, 550, "5.7.1",
	     "Authentication is not accepted on this port",
	     "Authentication is not accepted on this port"},
	    {"sub plaintext anonymous", PG_STAGE_RCPT, PG_RULE_TLS_REQUIRED, 530, "5.7.0",
	     "Must issue a STARTTLS command first", "Must issue a STARTTLS command first"},
	    {"sub TLSv1.1 too old", PG_STAGE_MAIL, PG_RULE_TLS_VERSION, 530, "5.7.0",
	     "TLSv1.2 or later required", "%m or later required"},
	    {"sub cipher outside set", PG_STAGE_MAIL, PG_RULE_CIPHER, 530, "5.7.0",
	     "Cipher not accepted", "Cipher not accepted"},
	    {"sub TLS anonymous", PG_STAGE_MAIL, PG_RULE_AUTH_REQUIRED, 530, "5.7.0",
	     "Authentication required", "Authentication required"},
	    {"relay plaintext remote rcpt", PG_STAGE_RCPT, PG_RULE_RELAY, 554, "5.7.1",
	     "Relay access denied", "Relay access denied"},
	};
	bool seen[PG_RULE_COUNT] = {false};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		struct pg_port p;
		struct pg_verdict got = decide_row(cases[i].row, cases[i].stage, &p);
		const struct pg_reply *dr = &policy_default_replies[cases[i].want_rule];

		ck_assert_msg(got.rule == cases[i].want_rule, "%s: got_rule %s", cases[i].row,
		              config_rule_name(got.rule));
		ck_assert_uint_eq(got.code, cases[i].want_code);
		ck_assert_str_eq(got.esc, cases[i].want_esc);
		ck_assert_str_eq(got.text, cases[i].want_text);
		ck_assert_uint_eq(dr->code, cases[i].want_code);
		ck_assert_str_eq(dr->esc, cases[i].want_esc);
		ck_assert_str_eq(dr->text, cases[i].want_template);
		seen[cases[i].want_rule] = true;
		strset_free(&p.ciphers);
	}
	for (int r = PG_RULE_NONE + 1; r < PG_RULE_COUNT; r++)
		ck_assert_msg(seen[r], "rule %s has no pinned reply",
		              config_rule_name((enum pg_rule)r));
}
END_TEST

static struct pg_verdict relay_reject(const char *rcpt, const char *tmpl)
{
	struct pg_port p;
	struct pg_verdict v;
	struct pg_facts f = row_facts(&rows[0], PG_STAGE_RCPT);

	make_port(&p, RELAY25, 0);
	if (tmpl != NULL)
		snprintf(p.replies[PG_RULE_RELAY].text, sizeof p.replies[0].text, "%s", tmpl);
	f.client_addr = "203.0.113.5";
	f.recipient = rcpt;
	policy_decide(cfg, &p, &f, &v);
	ck_assert_int_eq(v.rule, PG_RULE_RELAY);
	return v;
}

START_TEST(test_expansion)
{
	struct pg_verdict v;

	/* The default names no recipient: the MTA's own line does (SPEC rule 7). */
	v = relay_reject("<a@remote.net>", NULL);
	ck_assert_str_eq(v.text, "Relay access denied");
	v = relay_reject("<a@remote.net>", "<%r>: Relay access denied");
	ck_assert_str_eq(v.text, "<a@remote.net>: Relay access denied");
	v = relay_reject("a@remote.net", "100%% sure: %r, again %r; min %m; odd %x %");
	ck_assert_str_eq(v.text, "100% sure: a@remote.net, again a@remote.net; min none; odd %x %");
	/* Hostile recipient: CR/LF, spaces, angle brackets and 8-bit bytes. */
	v = relay_reject("a\r\nb c<d>\xff@remote.net", "<%r>: Relay access denied");
	ck_assert_str_eq(v.text, "<a??b?c?d??@remote.net>: Relay access denied");
}
END_TEST

START_TEST(test_long_recipient_fits_reply)
{
	char rcpt[1001];
	struct pg_verdict v;

	memset(rcpt, 'x', 988);
	memcpy(rcpt + 988, "@remote.net", 12);
	ck_assert_uint_eq(strlen(rcpt), 999);
	v = relay_reject(rcpt, "<%r>: Relay access denied");
	char line[PG_MAX_REPLY * 2];
	snprintf(line, sizeof line, "%u %s %s", v.code, v.esc, v.text);
	ck_assert_uint_eq(strlen(line), PG_MAX_REPLY - 1);
	/* The template's own text survives the cut; the recipient shows "...". */
	ck_assert_ptr_nonnull(strstr(v.text, "xxx...>: Relay access denied"));
	ck_assert_int_eq(v.text[0], '<');
	for (const char *p = v.text; *p != '\0'; p++)
		ck_assert(*p >= 0x20 && *p < 0x7f);
	/* Two %r share the room. */
	v = relay_reject(rcpt, "%r %r");
	snprintf(line, sizeof line, "%u %s %s", v.code, v.esc, v.text);
	ck_assert_uint_le(strlen(line), PG_MAX_REPLY - 1);
	ck_assert_ptr_nonnull(strstr(v.text, "... x"));
}
END_TEST

START_TEST(test_custom_reply_per_port)
{
	struct pg_port p;
	struct pg_verdict v;
	struct pg_facts f = row_facts(&rows[0], PG_STAGE_MAIL);

	make_port(&p, SUB587, 0);
	p.replies[PG_RULE_TLS_REQUIRED] = (struct pg_reply){421, "4.7.0", "Use port %m TLS"};
	policy_decide(cfg, &p, &f, &v);
	ck_assert_uint_eq(v.code, 421);
	ck_assert_str_eq(v.esc, "4.7.0");
	ck_assert_str_eq(v.text, "Use port TLSv1.2 TLS");
}
END_TEST

START_TEST(test_helpers)
{
	struct pg_facts f = row_facts(&rows[0], PG_STAGE_MAIL);

	ck_assert(!policy_is_authenticated(&f));
	ck_assert(!policy_is_tls(&f));
	f.sasl_method = "LOGIN";
	ck_assert(policy_is_authenticated(&f));
	f.sasl_method = "";
	f.sasl_username = "x";
	ck_assert(policy_is_authenticated(&f));
	f.tls_version = "TLSv1.2";
	ck_assert(policy_is_tls(&f));
}
END_TEST

START_TEST(test_internal_error_modes)
{
	struct pg_verdict v;

	pg_capture_start();
	policy_internal_error(cfg, "out of memory", &v);
	ck_assert_int_eq(v.action, PG_ACT_TEMPFAIL);
	ck_assert_int_eq(v.rule, PG_RULE_NONE);
	ck_assert_uint_eq(v.code, 451);
	ck_assert_str_eq(v.esc, "4.3.0");
	ck_assert_str_eq(v.text, "Internal error in portguard, try again later");
	cfg->on_error = PG_ONERR_ACCEPT;
	policy_internal_error(cfg, "unexpected state", &v);
	ck_assert_int_eq(v.action, PG_ACT_DUNNO);
	ck_assert(!v.would_reject);
	ck_assert_str_eq(pg_captured_log(),
	                 "error: internal error: out of memory; on_error=tempfail\n"
	                 "error: internal error: unexpected state; on_error=accept\n");
}
END_TEST

/* The reply templates policy_reply_parse() accepts are the ones the
 * expansion understands: %m, %% everywhere, %r in the relay reply only. */
START_TEST(test_reply_parse)
{
	static const struct {
		const char *in;
		enum pg_rule rule;
		bool want_ok;
		const char *want; /* the text, or the reason's words */
	} cases[] = {
	    {"530 5.7.0 %m or later required", PG_RULE_TLS_VERSION, true, "%m or later required"},
	    {"554 5.7.1 <%r>: 100%% refused", PG_RULE_RELAY, true, "<%r>: 100%% refused"},
	    {"554 5.7.1 <%r> refused", PG_RULE_CIPHER, false,
	     "%r (the recipient) is available only in the relay reply"},
	    {"530 5.7.0 50%x", PG_RULE_CIPHER, false, "unknown %-sequence in the reply text"},
	    {"530 4.7.0 text", PG_RULE_CIPHER, false,
	     "must start with the reply code's first digit"},
	    {"200 2.0.0 ok", PG_RULE_CIPHER, false, "must be 4xx (temporary) or 5xx (permanent)"},
	};
	struct pg_reply got;
	char why[512];

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		bool ok;
		why[0] = '\0';
		ok = policy_reply_parse(cases[i].in, cases[i].rule, &got, why, sizeof why);
		ck_assert_msg(ok == cases[i].want_ok, "%s: got %d (%s)", cases[i].in, ok, why);
		if (ok)
			ck_assert_str_eq(got.text, cases[i].want);
		else
			ck_assert_msg(strstr(why, cases[i].want) != NULL, "%s: why \"%s\"",
			              cases[i].in, why);
	}
}
END_TEST

/* Rule 5's names: OpenSSL's, for the cipher string and the TLS 1.3 suites. */
START_TEST(test_ciphers_expand)
{
	static const struct {
		const char *list, *suites;
		enum policy_ciphers want;
		const char *want_in, *want_out; /* a name in the set, one not in it */
	} cases[] = {
	    {NULL, "TLS_AES_128_GCM_SHA256", POLICY_CIPHERS_OK, "TLS_AES_128_GCM_SHA256",
	     "TLS_AES_256_GCM_SHA384"},
	    {"ECDHE-RSA-AES256-GCM-SHA384", NULL, POLICY_CIPHERS_OK, "ECDHE-RSA-AES256-GCM-SHA384",
	     "ECDHE-RSA-AES128-GCM-SHA256"},
	    {"NO-SUCH-CIPHER", NULL, POLICY_CIPHERS_BAD_LIST, NULL, NULL},
	    {NULL, "TLS_NO_SUCH_SUITE", POLICY_CIPHERS_BAD_SUITES, NULL, NULL},
	};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		struct pg_strset set = {0};
		enum policy_ciphers got =
		    policy_ciphers_expand(cases[i].list, cases[i].suites, &set);
		ck_assert_msg(got == cases[i].want, "case %zu: got %d", i, got);
		if (cases[i].want_in != NULL) {
			ck_assert(strset_contains(&set, cases[i].want_in));
			ck_assert(!strset_contains(&set, cases[i].want_out));
		}
		strset_free(&set);
	}
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, policy_setup, policy_teardown);
	tcase_add_test(tc, test_decision_table);
	tcase_add_test(tc, test_relay_recipient);
	tcase_add_test(tc, test_default_texts);
	tcase_add_test(tc, test_default_replies_pinned);
	tcase_add_test(tc, test_expansion);
	tcase_add_test(tc, test_long_recipient_fits_reply);
	tcase_add_test(tc, test_custom_reply_per_port);
	tcase_add_test(tc, test_helpers);
	tcase_add_test(tc, test_internal_error_modes);
	tcase_add_test(tc, test_reply_parse);
	tcase_add_test(tc, test_ciphers_expand);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(policy_suite)
