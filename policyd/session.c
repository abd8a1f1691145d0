/*
 * session.c - one policy request in, one "action=" reply out.
 *
 * Input: a parsed request (values borrowed from the connection's buffer),
 * the running config and the connection's state. It checks the request,
 * turns it into facts (the port from server_port and policy_context; a new
 * Postfix "instance" starts a transaction), hands them to engine_decide(),
 * which does the counting, alarms and log lines, and writes the verdict with
 * reply_write(). Failure: a request that breaks the protocol (wrong request=
 * value, a number that is not one, an overlong instance) is
 * SESSION_BAD_REQUEST: nothing is sent and the caller closes the connection.
 * A verdict the protocol cannot carry becomes the on_error reply in the
 * engine (reply_untellable()).
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "relay.h"
#include "policyd.h"

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

static void facts_fill(const struct pd_request *req, struct pg_facts *f)
{
	*f = (struct pg_facts){
	    .stage = stage_parse(value(req, PD_A_PROTOCOL_STATE)),
	    .service_label = value(req, PD_A_POLICY_CONTEXT),
	    .mta_auth_fix = PD_PLAINTEXT_AUTH_FIX,
	    .queue_id = value(req, PD_A_QUEUE_ID),
	    .client_name = value(req, PD_A_CLIENT_NAME),
	    .client_addr = value(req, PD_A_CLIENT_ADDRESS),
	    .tls_version = value(req, PD_A_ENCRYPTION_PROTOCOL),
	    .cipher = value(req, PD_A_ENCRYPTION_CIPHER),
	    .sasl_method = value(req, PD_A_SASL_METHOD),
	    .sasl_username = value(req, PD_A_SASL_USERNAME),
	    .ccert_fingerprint = value(req, PD_A_CCERT_FINGERPRINT),
	    .recipient = "",
	    .rcpt_mailer = "",
	    .rcpt_host = "",
	    .rcpt_addr = "",
	};
	if (f->stage == PG_STAGE_RCPT)
		f->recipient = value(req, PD_A_RECIPIENT);
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

void session_prefetch(const struct pg_config *cfg, const char *buf, const struct proto_scan *st)
{
	size_t at = st->val_off[PD_A_RECIPIENT], end = st->val_end[PD_A_RECIPIENT];

	if (cfg->relay.large && st->done != 0 && end != 0)
		relay_prefetch(&cfg->relay, buf + at, end - at);
}

void session_init(struct pd_session *s)
{
	*s = (struct pd_session){.engine.untellable = reply_untellable};
}

enum session_status session_handle(const struct pg_config *cfg, struct pd_session *s,
                                   const struct pd_request *req, char *out, size_t *outlen,
                                   char *why, size_t whylen)
{
	struct pg_facts f;
	struct pg_verdict v;
	unsigned server_port, client_port, keysize;

	if (!request_check(req, &server_port, &client_port, &keysize, why, whylen))
		return SESSION_BAD_REQUEST;
	facts_fill(req, &f);
	f.server_port = server_port;
	f.client_port = client_port;
	f.cipher_bits = keysize;
	f.new_transaction = transaction_is_new(s, value(req, PD_A_INSTANCE));
	engine_decide(cfg, &s->engine, &f, &v);
	*outlen = reply_write(&v, out);
	return SESSION_REPLY;
}
