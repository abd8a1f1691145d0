/*
 * session.c - one policy request in, one "action=" reply out.
 *
 * Input: a parsed request (values borrowed from the connection's buffer),
 * the running config and the connection's transaction state. It builds the
 * facts, finds the port entry (server_port, policy_context), counts the
 * transaction (one per Postfix "instance") and the recipient, raises the
 * plaintext-AUTH and implicit-TLS alarms, asks the core for the verdict,
 * logs the decision and writes the reply with reply_write(), the one
 * function that writes "action=". portguard never answers OK.
 * Failure: a request that breaks the protocol (wrong request= value, a
 * number that is not one, an overlong instance) is SESSION_BAD_REQUEST:
 * nothing is sent and the caller closes the connection. An internal error
 * becomes the on_error reply through policy_internal_error().
 */
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "policyd.h"
#include "report.h"
#include "stats.h"

#define PD_PLAINTEXT_AUTH_FIX                                                                      \
	"smtpd_tls_auth_only=yes, or smtpd_tls_security_level=encrypt / "                          \
	"smtpd_tls_wrappermode=yes on this port (Postfix)"

/* Postfix's protocol_state names; the first letter picks the candidates. */
static enum pg_stage stage_parse(const char *s)
{
	switch (s[0]) {
	case 'C':
		return strcmp(s, "CONNECT") == 0 ? PG_STAGE_CONNECT : PG_STAGE_OTHER;
	case 'E':
		if (strcmp(s, "EHLO") == 0)
			return PG_STAGE_HELO;
		return strcmp(s, "END-OF-MESSAGE") == 0 ? PG_STAGE_EOM : PG_STAGE_OTHER;
	case 'H':
		return strcmp(s, "HELO") == 0 ? PG_STAGE_HELO : PG_STAGE_OTHER;
	case 'M':
		return strcmp(s, "MAIL") == 0 ? PG_STAGE_MAIL : PG_STAGE_OTHER;
	case 'R':
		return strcmp(s, "RCPT") == 0 ? PG_STAGE_RCPT : PG_STAGE_OTHER;
	case 'D':
		return strcmp(s, "DATA") == 0 ? PG_STAGE_DATA : PG_STAGE_OTHER;
	case 'B':
		return strcmp(s, "BDAT") == 0 ? PG_STAGE_DATA : PG_STAGE_OTHER;
	default:
		return PG_STAGE_OTHER;
	}
}

/* Decimal number up to max; "" is 0 (Postfix: "unavailable"). */
static bool number_parse(const char *s, unsigned long max, unsigned *out)
{
	unsigned long v = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < '0' || ch > '9')
			return false;
		v = v * 10 + (unsigned long)(ch - '0');
		if (v > max)
			return false;
	}
	*out = (unsigned)v;
	return true;
}

static const char *value(const struct pd_request *req, enum pd_attr a)
{
	return req->v[a] != NULL ? req->v[a] : "";
}

/*
 * The one place that writes a reply. DUNNO for no objection (also in monitor
 * mode), "<code> <esc> <text>" for a reject, DEFER_IF_PERMIT for an internal
 * error under on_error=tempfail. Returns the length, 0 if it cannot be
 * written safely.
 */
static size_t reply_write(const struct pg_verdict *v, char *out, size_t outlen)
{
	char code[3];
	const char *verb = code;
	size_t vl = sizeof code, el, tl, n;

	if (strpbrk(v->text, "\r\n") != NULL || strpbrk(v->esc, "\r\n ") != NULL)
		return 0;
	switch (v->action) {
	case PG_ACT_DUNNO: {
		static const char dunno[] = "action=DUNNO\n\n";

		if (outlen < sizeof dunno)
			return 0;
		memcpy(out, dunno, sizeof dunno);
		return sizeof dunno - 1;
	}
	case PG_ACT_REJECT:
		if (v->code < 400 || v->code > 599)
			return 0;
		code[0] = (char)('0' + v->code / 100);
		code[1] = (char)('0' + v->code / 10 % 10);
		code[2] = (char)('0' + v->code % 10);
		break;
	case PG_ACT_TEMPFAIL:
		verb = "DEFER_IF_PERMIT";
		vl = strlen(verb);
		break;
	default:
		return 0;
	}
	/* "action=<verb> <esc> <text>\n\n", built by hand: a reject is on the
	 * hot path and snprintf cost a thousand instructions here. */
	el = strlen(v->esc);
	tl = strlen(v->text);
	n = 7 + vl + 1 + el + 1 + tl + 2;
	if (n >= outlen)
		return 0;
	memcpy(out, "action=", 7);
	memcpy(out + 7, verb, vl);
	out[7 + vl] = ' ';
	memcpy(out + 8 + vl, v->esc, el);
	out[8 + vl + el] = ' ';
	memcpy(out + 9 + vl + el, v->text, tl);
	memcpy(out + 9 + vl + el + tl, "\n\n", 3);
	return n;
}

static void facts_fill(const struct pd_request *req, struct pg_facts *f)
{
	memset(f, 0, sizeof *f);
	f->stage = stage_parse(value(req, PD_A_PROTOCOL_STATE));
	f->queue_id = value(req, PD_A_QUEUE_ID);
	f->client_name = value(req, PD_A_CLIENT_NAME);
	f->client_addr = value(req, PD_A_CLIENT_ADDRESS);
	f->tls_version = value(req, PD_A_ENCRYPTION_PROTOCOL);
	f->cipher = value(req, PD_A_ENCRYPTION_CIPHER);
	f->sasl_method = value(req, PD_A_SASL_METHOD);
	f->sasl_username = value(req, PD_A_SASL_USERNAME);
	f->ccert_fingerprint = value(req, PD_A_CCERT_FINGERPRINT);
	f->recipient = f->stage == PG_STAGE_RCPT ? value(req, PD_A_RECIPIENT) : "";
	f->rcpt_mailer = "";
	f->rcpt_host = "";
	f->rcpt_addr = "";
}

/* A new Postfix instance starts a new transaction on this connection. */
static bool transaction_is_new(struct pd_session *s, const char *instance)
{
	if (s->have_instance && strcmp(s->instance, instance) == 0)
		return false;
	/* length checked by request_check() against PG_POLICY_MAX_INSTANCE */
	size_t n = strlen(instance);

	if (n >= sizeof s->instance)
		n = sizeof s->instance - 1;
	memcpy(s->instance, instance, n);
	s->instance[n] = '\0';
	s->have_instance = true;
	s->alarm_sent = false;
	return true;
}

static bool request_check(const struct pd_request *req, unsigned *server_port,
                          unsigned *client_port, unsigned *keysize, char *why, size_t whylen)
{
	const char *r = req->v[PD_A_REQUEST];

	if (r == NULL) {
		snprintf(why, whylen, "malformed request: no request= attribute");
		return false;
	}
	if (strcmp(r, "smtpd_access_policy") != 0) {
		snprintf(why, whylen, "unsupported request: request= is not smtpd_access_policy");
		return false;
	}
	if (strlen(value(req, PD_A_INSTANCE)) > PG_POLICY_MAX_INSTANCE) {
		snprintf(why, whylen, "instance longer than PG_POLICY_MAX_INSTANCE=%d bytes",
		         PG_POLICY_MAX_INSTANCE);
		return false;
	}
	if (!number_parse(value(req, PD_A_SERVER_PORT), 65535, server_port)) {
		snprintf(why, whylen, "malformed request: server_port is not a port number");
		return false;
	}
	if (!number_parse(value(req, PD_A_CLIENT_PORT), 65535, client_port)) {
		snprintf(why, whylen, "malformed request: client_port is not a port number");
		return false;
	}
	if (!number_parse(value(req, PD_A_ENCRYPTION_KEYSIZE), 1000000, keysize)) {
		snprintf(why, whylen, "malformed request: encryption_keysize is not a number");
		return false;
	}
	return true;
}

enum session_status session_handle(const struct pg_config *cfg, struct pd_session *s,
                                   const struct pd_request *req, char *out, size_t *outlen,
                                   char *why, size_t whylen)
{
	struct pg_facts f;
	struct pg_verdict v;
	const struct pg_port *port;
	struct pg_stats_slot *slot;
	const char *label;
	unsigned server_port, client_port, keysize;
	bool known = true;

	if (!request_check(req, &server_port, &client_port, &keysize, why, whylen))
		return SESSION_BAD_REQUEST;
	facts_fill(req, &f);
	f.client_port = client_port;
	f.cipher_bits = keysize;
	label = value(req, PD_A_POLICY_CONTEXT);

	port = config_port_lookup(cfg, server_port, label, &known);
	if (!known)
		report_unknown_port(cfg, server_port, label);
	if (known && port->port == 0)
		slot = stats_slot(0, port->name, port->role);
	else
		slot = stats_slot(known ? port->port : server_port, "", port->role);

	if (transaction_is_new(s, value(req, PD_A_INSTANCE)))
		stats_add_transaction(slot, &f, true);
	if (f.stage == PG_STAGE_RCPT)
		stats_add_recipient(slot);

	policy_decide(cfg, port, &f, &v);
	if (v.rule != PG_RULE_NONE)
		stats_add_verdict(slot, &v);
	if (v.rule == PG_RULE_PLAINTEXT_AUTH && !s->alarm_sent) {
		report_plaintext_auth(port, server_port, &f, PD_PLAINTEXT_AUTH_FIX);
		s->alarm_sent = true;
	}
	/* whichever rule decided (plaintext AUTH comes before "TLS required"),
	 * a plaintext session on an implicit-TLS port means the MTA is not
	 * wrapping that port */
	if (v.rule != PG_RULE_NONE && port->tls == PG_TLS_IMPLICIT && !policy_is_tls(&f))
		report_implicit_plaintext(port, server_port, &f);
	*outlen = reply_write(&v, out, PD_REPLY_MAX);
	if (*outlen == 0) {
		policy_internal_error(cfg, "reply does not fit the policy protocol", &v);
		*outlen = reply_write(&v, out, PD_REPLY_MAX);
		if (*outlen == 0) /* cannot happen: the fail mode's reply is fixed text */
			*outlen = (size_t)snprintf(
			    out, PD_REPLY_MAX, "%s",
			    cfg->on_error == PG_ONERR_ACCEPT
			        ? "action=DUNNO\n\n"
			        : "action=DEFER_IF_PERMIT 4.3.0 Internal error in portguard, "
			          "try again later\n\n");
	}
	/* After the reply is final, so the line says what the MTA was told. */
	report_decision(port, server_port, &f, &v);
	return SESSION_REPLY;
}
