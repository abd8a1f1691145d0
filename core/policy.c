/*
 * policy.c - SPEC's decision table: facts and a port entry in, a verdict out.
 *
 * Rules 1-6 apply from MAIL on (MAIL, RCPT, DATA, EOM, OTHER), never at
 * CONNECT or HELO; rule 7 (relay) only at RCPT and only on relay ports. The
 * first rule that fails decides. In monitor mode (the port entry's mode) the
 * verdict keeps rule, code and text but the action is DUNNO and would_reject
 * is set. The reply text is the port's template with %m (the port's minimum
 * TLS version), %r (the recipient, made SMTP-safe) and %% expanded, capped so
 * that "code esc text" fits PG_MAX_REPLY. The templates start as SPEC's
 * (policy_default_replies); policy_reply_parse() reads a configured one and
 * accepts only the %-sequences expanded here, so the config and the decision
 * share one grammar. Rule 5's cipher names are made here too, at load, by
 * OpenSSL (policy_ciphers_expand), in the spelling the MTA reports. The
 * decision allocates nothing, does no I/O and cannot fail;
 * policy_internal_error() is the one place the fail mode is applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "policy.h"
#include "relay.h"
#include "why.h"

bool policy_is_authenticated(const struct pg_facts *facts)
{
	return facts->sasl_username[0] != '\0' || facts->sasl_method[0] != '\0';
}

bool policy_is_tls(const struct pg_facts *facts)
{
	return facts->tls_version[0] != '\0' || facts->cipher[0] != '\0';
}

/* OpenSSL's SSL_get_version() words; Sendmail and Postfix pass them through.
 * "TLSv1" is TLS 1.0; "TLSv1.0" is accepted too. */
enum pg_tls_version tls_version_parse(const char *s)
{
	/* Read directly (twice per decision, so no strcmp loop): "SSLv3",
	 * "TLSv1", "TLSv1.0" .. "TLSv1.3". */
	if (s == NULL || *s == '\0')
		return PG_TLS_NONE;
	if (strcmp(s, "SSLv3") == 0)
		return PG_TLS_SSLV3;
	if (strncmp(s, "TLSv1", 5) != 0)
		return PG_TLS_UNKNOWN;
	if (s[5] == '\0')
		return PG_TLS_V1_0;
	if (s[5] != '.' || s[6] < '0' || s[6] > '3' || s[7] != '\0')
		return PG_TLS_UNKNOWN;
	return (enum pg_tls_version)(PG_TLS_V1_0 + (s[6] - '0'));
}

/* SPEC's replies: where the config's replies = { ... } starts. */
const struct pg_reply policy_default_replies[PG_RULE_COUNT] = {
    [PG_RULE_PLAINTEXT_AUTH] = {538, "5.7.11",
                                "Encryption required for requested authentication mechanism"},
    [PG_RULE_AUTH_FORBIDDEN] = {550, "5.7.1", "Authentication is not accepted on this port"},
    [PG_RULE_TLS_REQUIRED] = {530, "5.7.0", "Must issue a STARTTLS command first"},
    [PG_RULE_TLS_VERSION] = {530, "5.7.0", "%m or later required"},
    [PG_RULE_CIPHER] = {530, "5.7.0", "Cipher not accepted"},
    [PG_RULE_AUTH_REQUIRED] = {530, "5.7.0", "Authentication required"},
    [PG_RULE_RELAY] = {554, "5.7.1", "Relay access denied"},
};

bool policy_reply_parse(const char *s, enum pg_rule rule, struct pg_reply *out, char *why,
                        size_t whylen)
{
	static const char form[] =
	    "write \"CODE ESC text\", e.g. \"530 5.7.0 Must issue a STARTTLS command first\"";
	const char *esc = s + 4, *text;
	char d[4];
	unsigned code;
	int n = 0;

	if (strspn(s, "0123456789") != 3 || s[3] != ' ')
		return why_set(why, whylen, "must start with a 3-digit reply code and a space: %s",
		               form);
	code = (unsigned)strtoul(s, NULL, 10);
	if (code < 400 || code > 599)
		return why_set(why, whylen,
		               "the reply code %u must be 4xx (temporary) or 5xx (permanent): %s",
		               code, form);
	/* d.ddd.ddd: a class digit, then a subject and a detail of 1 to 3 digits */
	sscanf(esc, "%1[0-9].%3[0-9].%3[0-9]%n", d, d, d, &n);
	if (n == 0 || esc[n] != ' ')
		return why_set(why, whylen,
		               "the enhanced status code must look like 5.7.1 (d.ddd.ddd) and be "
		               "followed by a space and text: %s",
		               form);
	if (esc[0] != s[0])
		return why_set(
		    why, whylen,
		    "the enhanced status code %.*s must start with the reply code's first digit %c",
		    n, esc, s[0]);
	text = esc + n + 1;
	if (strlen(text) >= sizeof out->text)
		return why_set(why, whylen,
		               "the reply text is %zu characters long; the limit is %zu",
		               strlen(text), sizeof out->text - 1);
	if (*text == '\0')
		return why_set(why, whylen,
		               "the reply text after the enhanced status code is empty");
	for (const char *p = text; *p != '\0'; p++) {
		if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
			return why_set(
			    why, whylen,
			    "the reply text may contain only printable ASCII (no CR, LF, tabs "
			    "or 8-bit characters)");
		if (*p != '%')
			continue;
		if (*++p == 'r' && rule != PG_RULE_RELAY)
			return why_set(why, whylen,
			               "%%r (the recipient) is available only in the relay reply");
		if (*p != 'm' && *p != 'r' && *p != '%')
			return why_set(
			    why, whylen,
			    "unknown %%-sequence in the reply text: use %%m (minimum TLS version), "
			    "%%r (recipient, relay reply only) or %%%% (a percent sign)");
	}
	out->code = code;
	snprintf(out->esc, sizeof out->esc, "%.*s", n, esc);
	memcpy(out->text, text, strlen(text) + 1);
	return true;
}

/* Output cursor that never writes past its limit and remembers overflow. */
struct policy_buf {
	char *p;
	size_t len;
	size_t cap; /* bytes of text, not counting the NUL */
};

static void policy_put(struct policy_buf *b, char c)
{
	if (b->len < b->cap)
		b->p[b->len++] = c;
}

static void policy_puts(struct policy_buf *b, const char *s)
{
	while (*s != '\0')
		policy_put(b, *s++);
}

/* The recipient's SMTP-safe length: one pair of <> dropped. */
static const char *policy_rcpt_bare(const char *r, size_t *len)
{
	size_t n = strlen(r);

	if (n >= 2 && r[0] == '<' && r[n - 1] == '>') {
		r++;
		n -= 2;
	}
	*len = n;
	return r;
}

/* Printable ASCII except '<' and '>' (the template supplies those); every
 * other byte becomes '?'. At most max bytes; a cut ends in "...". */
static void policy_put_rcpt(struct policy_buf *b, const char *r, size_t max)
{
	size_t n;
	const char *s = policy_rcpt_bare(r, &n);
	bool cut = n > max;
	size_t take = cut ? (max >= 3 ? max - 3 : 0) : n;

	for (size_t i = 0; i < take; i++) {
		unsigned char c = (unsigned char)s[i];
		policy_put(b, (c >= 0x21 && c <= 0x7e && c != '<' && c != '>') ? (char)c : '?');
	}
	if (cut && max >= 3)
		policy_puts(b, "...");
}

/* Expand tmpl into b; rcpt_room bytes are shared by the %r occurrences. */
static void policy_expand(struct policy_buf *b, const char *tmpl, const char *min_tls,
                          const char *rcpt, size_t rcpt_room)
{
	for (const char *t = tmpl; *t != '\0'; t++) {
		if (t[0] != '%' || t[1] == '\0') {
			policy_put(b, *t);
			continue;
		}
		t++;
		switch (*t) {
		case 'm':
			policy_puts(b, min_tls);
			break;
		case 'r':
			policy_put_rcpt(b, rcpt, rcpt_room);
			break;
		case '%':
			policy_put(b, '%');
			break;
		default:
			policy_put(b, '%');
			policy_put(b, *t);
			break;
		}
	}
}

static void policy_reply(const struct pg_port *port, const struct pg_facts *facts,
                         enum pg_rule rule, struct pg_verdict *out)
{
	const struct pg_reply *r = &port->replies[rule];
	const char *min_tls = tls_version_name(port->min_tls);
	size_t nr = 0, fixed, room;
	struct policy_buf b;

	out->rule = rule;
	out->code = r->code;
	size_t el = strnlen(r->esc, sizeof out->esc - 1);
	memcpy(out->esc, r->esc, el);
	out->esc[el] = '\0';
	/* Room for the text: "code esc " is sent before it (no snprintf: this
	 * runs for every reject). */
	size_t hl = (r->code >= 100 ? 3 : r->code >= 10 ? 2 : 1) + 1 + el + 1;
	room = sizeof out->text - 1;
	if (hl < PG_MAX_REPLY - 1 && PG_MAX_REPLY - 1 - hl < room)
		room = PG_MAX_REPLY - 1 - hl;
	for (const char *t = r->text; *t != '\0'; t++) {
		if (t[0] == '%' && t[1] != '\0') {
			t++;
			nr += *t == 'r';
		}
	}
	/* With recipients, a first pass without them measures what the rest of
	 * the template needs; they share what is left. */
	size_t rcpt_room = 0;
	if (nr > 0) {
		char scratch[PG_MAX_REPLY];

		b = (struct policy_buf){scratch, 0, sizeof scratch - 1};
		policy_expand(&b, r->text, min_tls, "", 0);
		fixed = b.len;
		if (fixed < room)
			rcpt_room = (room - fixed) / nr;
	}
	b = (struct policy_buf){out->text, 0, room};
	policy_expand(&b, r->text, min_tls, facts->recipient, rcpt_room);
	out->text[b.len] = '\0';
	if (port->mode == PG_MODE_MONITOR) {
		out->action = PG_ACT_DUNNO;
		out->would_reject = true;
	} else {
		out->action = PG_ACT_REJECT;
	}
}

/* Rule 5's list of cipher names, made at load. */
static size_t count_tls13(STACK_OF(SSL_CIPHER) * sk)
{
	size_t n = 0;

	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++)
		if (strcmp(SSL_CIPHER_get_version(sk_SSL_CIPHER_value(sk, i)), "TLSv1.3") == 0)
			n++;
	return n;
}

enum policy_ciphers policy_ciphers_expand(const char *list, const char *suites,
                                          struct pg_strset *set)
{
	enum policy_ciphers res = POLICY_CIPHERS_OK;
	STACK_OF(SSL_CIPHER) *sk = NULL;
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		res = POLICY_CIPHERS_NO_TLS;
	else if (list != NULL && SSL_CTX_set_cipher_list(ctx, list) != 1)
		res = POLICY_CIPHERS_BAD_LIST;
	else if (suites != NULL && (SSL_CTX_set_ciphersuites(ctx, suites) != 1 ||
	                            count_tls13(SSL_CTX_get_ciphers(ctx)) == 0))
		res = POLICY_CIPHERS_BAD_SUITES;
	else if ((sk = SSL_CTX_get_ciphers(ctx)) == NULL || sk_SSL_CIPHER_num(sk) <= 0)
		res = POLICY_CIPHERS_NONE;
	for (int i = 0; res == POLICY_CIPHERS_OK && i < sk_SSL_CIPHER_num(sk); i++)
		if (!strset_add(set, SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i))))
			res = POLICY_CIPHERS_NO_MEMORY;
	if (res == POLICY_CIPHERS_OK)
		strset_build(set, set->items, set->count);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return res;
}

/* Rule 7: true when this recipient may not be relayed for this client. */
static bool policy_relay_denied(const struct pg_config *cfg, const struct pg_facts *facts,
                                bool authed)
{
	const struct pg_relay *relay = &cfg->relay;
	enum relay_form form = facts->rcpt_quoted ? RELAY_FORM_QUOTED : RELAY_FORM_INTERNAL;
	/* The milter's MTA-resolved address is judged by the same rules: remote
	 * when either is. No transport name can make a recipient local. */
	bool remote =
	    !relay_rcpt_is_local(relay, facts->recipient, form) ||
	    (facts->rcpt_addr[0] != '\0' && !relay_rcpt_is_local(relay, facts->rcpt_addr, form));

	if (!remote)
		return false;
	if (authed && relay->authenticated_may_relay)
		return false;
	if (relay_client_trusted(relay, facts->client_addr))
		return false;
	if (facts->ccert_fingerprint[0] != '\0' &&
	    relay_cert_trusted(relay, facts->ccert_fingerprint))
		return false;
	return true;
}

static enum pg_rule policy_first_failure(const struct pg_config *cfg, const struct pg_port *port,
                                         const struct pg_facts *facts)
{
	bool authed = policy_is_authenticated(facts);
	bool tls = policy_is_tls(facts);

	if (authed && !tls && !port->allow_plaintext_auth)
		return PG_RULE_PLAINTEXT_AUTH;
	if (authed && port->auth == PG_AUTH_FORBIDDEN)
		return PG_RULE_AUTH_FORBIDDEN;
	if (!tls && (port->tls == PG_TLS_STARTTLS || port->tls == PG_TLS_IMPLICIT))
		return PG_RULE_TLS_REQUIRED;
	if (tls && port->min_tls != PG_TLS_NONE) {
		enum pg_tls_version v = tls_version_parse(facts->tls_version);
		/* TLS up with no version reported, or one we do not know: new enough. */
		if (v != PG_TLS_NONE && v != PG_TLS_UNKNOWN && v < port->min_tls)
			return PG_RULE_TLS_VERSION;
	}
	if (tls && ((port->restrict_ciphers && !strset_contains(&port->ciphers, facts->cipher)) ||
	            facts->cipher_bits < port->min_cipher_bits))
		return PG_RULE_CIPHER;
	if (!authed && port->auth == PG_AUTH_REQUIRED)
		return PG_RULE_AUTH_REQUIRED;
	if (facts->stage == PG_STAGE_RCPT && port->role == PG_ROLE_RELAY &&
	    policy_relay_denied(cfg, facts, authed))
		return PG_RULE_RELAY;
	return PG_RULE_NONE;
}

void policy_decide(const struct pg_config *cfg, const struct pg_port *port,
                   const struct pg_facts *facts, struct pg_verdict *out)
{
	enum pg_rule rule;

	/* no objection; the fields one by one, not the 500-byte text (this
	 * runs for every decision) */
	out->action = PG_ACT_DUNNO;
	out->rule = PG_RULE_NONE;
	out->would_reject = false;
	out->code = 0;
	out->esc[0] = '\0';
	out->text[0] = '\0';
	if (facts->stage == PG_STAGE_CONNECT || facts->stage == PG_STAGE_HELO)
		return;
	rule = policy_first_failure(cfg, port, facts);
	if (rule != PG_RULE_NONE)
		policy_reply(port, facts, rule, out);
}

void policy_internal_error(const struct pg_config *cfg, const char *reason, struct pg_verdict *out)
{
	bool accept = cfg != NULL && cfg->on_error == PG_ONERR_ACCEPT;

	log_err("internal error: %s; on_error=%s", reason != NULL ? reason : "unknown",
	        accept ? "accept" : "tempfail");
	memset(out, 0, sizeof *out);
	out->rule = PG_RULE_NONE;
	if (accept) {
		out->action = PG_ACT_DUNNO;
		return;
	}
	out->action = PG_ACT_TEMPFAIL;
	out->code = 451;
	snprintf(out->esc, sizeof out->esc, "4.3.0");
	snprintf(out->text, sizeof out->text, "Internal error in portguard, try again later");
}
