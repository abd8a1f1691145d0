/*
 * session.c - what the milter knows about one SMTP session, and its decisions.
 *
 * Input: macro values through a getter (smfi_getsymval in the milter, a table
 * in the unit tests), the connect hostname/sockaddr and envelope arguments.
 * Output: facts for core/engine.c, which finds the port entry, decides,
 * counts and logs, and its struct pg_verdict per MAIL/RCPT. Port identity
 * comes from {daemon_port}, else the {daemon_name} label, else default_role
 * (one warning per connection naming the MTA lines to add). TLS facts are
 * captured at HELO and MAIL (Postfix sends none at EOH/EOM) and never
 * forgotten within a session; AUTH facts at MAIL. Rules 1-6 are decided at MAIL, rule 7 and the rest at RCPT.
 * Nothing here calls libmilter or allocates.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "milter.h"

static const char *getm(milter_getter get, void *arg, const char *name)
{
	const char *v = get(arg, name);

	return v != NULL ? v : "";
}

/* The address and port of the connect sockaddr; the address only when want_addr
 * (the {client_addr} macro, when valid, wins and makes inet_ntop unnecessary). */
static void sockaddr_facts(struct milter_conn *c, const struct sockaddr *sa, bool want_addr,
                           unsigned *port)
{
	*port = 0;
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		if (want_addr && inet_ntop(AF_INET, &in->sin_addr, c->client_addr,
		                           sizeof c->client_addr) == NULL)
			c->client_addr[0] = '\0';
		*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (want_addr && inet_ntop(AF_INET6, &in6->sin6_addr, c->client_addr,
		                           sizeof c->client_addr) == NULL)
			c->client_addr[0] = '\0';
		*port = ntohs(in6->sin6_port);
	}
}

static void facts_fill(const struct milter_conn *c, enum pg_stage stage, struct pg_facts *f)
{
	*f = (struct pg_facts){
	    .stage = stage,
	    .server_port = c->server_port,
	    .service_label = c->label,
	    .mta_auth_fix = "",
	    .queue_id = c->queue_id,
	    .client_name = c->client_name,
	    .client_addr = c->client_addr,
	    .client_port = c->client_port,
	    .tls_version = c->tls.version,
	    .cipher = c->tls.cipher,
	    .cipher_bits = c->tls.bits,
	    .ccert_fingerprint = c->tls.fingerprint,
	    .sasl_method = c->sasl_method,
	    .sasl_username = c->sasl_username,
	    .recipient = "",
	    .rcpt_mailer = "",
	    .rcpt_host = "",
	    .rcpt_addr = "",
	};
}

/* Which MTA: only lines that name an MTA setting need it, so the "v" macro
 * (a CONNECT macro; libmilter keeps those for the whole connection) is read
 * once, by the first decision or warning of the connection. */
static enum milter_mta conn_mta(struct milter_conn *c, milter_getter get, void *arg)
{
	if (!c->mta_known) {
		c->mta = macro_mta_kind(get(arg, "v"));
		c->mta_known = true;
	}
	return c->mta;
}

void session_connect(struct milter_conn *c, milter_getter get, void *arg, const char *hostname,
                     const struct sockaddr *hostaddr)
{
	char sname[PG_LOG_VALUE_MAX + 1], saddr[PG_LOG_VALUE_MAX + 1];
	const char *daemon_port = get(arg, "{daemon_port}");
	const char *daemon_name = get(arg, "{daemon_name}");
	unsigned sa_port;
	bool have_addr;
	struct pg_facts f;

	c->mta_known = false;
	/* Sendmail passes "[addr]" when the client has no verified name */
	if (hostname == NULL || hostname[0] == '[' ||
	    !macro_copy(c->client_name, sizeof c->client_name, hostname) ||
	    c->client_name[0] == '\0')
		macro_copy(c->client_name, sizeof c->client_name, "unknown");

	have_addr =
	    macro_client_addr(c->client_addr, sizeof c->client_addr, get(arg, "{client_addr}"));
	sockaddr_facts(c, hostaddr, !have_addr, &sa_port);
	if (!macro_port(get(arg, "{client_port}"), &c->client_port))
		c->client_port = sa_port;

	if (daemon_port != NULL && !macro_port(daemon_port, &c->server_port))
		log_warnx("ignoring {daemon_port}=%s: not a port number",
		          log_sanitise(saddr, sizeof saddr, daemon_port));
	if (daemon_name != NULL && !macro_copy(c->label, sizeof c->label, daemon_name))
		log_warnx("ignoring {daemon_name}=%s: longer than %d bytes",
		          log_sanitise(saddr, sizeof saddr, daemon_name), PG_MAX_LABEL);

	facts_fill(c, PG_STAGE_CONNECT, &f);
	if (engine_connect(c->cfg, &c->engine, &f) == ENGINE_PORT_UNNAMED)
		log_warnx("client=%s[%s]:%u: the MTA sent neither {daemon_port} nor "
		          "{daemon_name}; applying default_role=%s; add %s",
		          log_sanitise(sname, sizeof sname, c->client_name),
		          log_sanitise(saddr, sizeof saddr, c->client_addr), c->client_port,
		          config_role_name(c->cfg->default_role),
		          macro_port_fix(conn_mta(c, get, arg)));
}

/* TLS facts from the macros of this stage; absent macros keep what we had:
 * within a session TLS never goes away. Strings are copied up to their NUL:
 * the buffers are large and most sessions have nothing to copy. */
static void capture_tls(struct milter_conn *c, milter_getter get, void *arg)
{
	char version[sizeof c->tls.version], cipher[sizeof c->tls.cipher];
	const char *fp;

	if (!macro_copy(version, sizeof version, get(arg, "{tls_version}")))
		version[0] = '\0';
	if (!macro_copy(cipher, sizeof cipher, get(arg, "{cipher}")))
		cipher[0] = '\0';
	if (version[0] == '\0' && cipher[0] == '\0')
		return;
	memcpy(c->tls.version, version, strlen(version) + 1);
	memcpy(c->tls.cipher, cipher, strlen(cipher) + 1);
	(void)macro_bits(get(arg, "{cipher_bits}"), &c->tls.bits);
	/* Sendmail: {cert_fp} with CertFingerprintAlgorithm, else {cert_md5};
	 * Postfix sends no fingerprint macro. */
	fp = get(arg, "{cert_fp}");
	if (fp == NULL || *fp == '\0')
		fp = get(arg, "{cert_md5}");
	if (!macro_copy(c->tls.fingerprint, sizeof c->tls.fingerprint, fp))
		c->tls.fingerprint[0] = '\0';
}

static void capture_auth(struct milter_conn *c, milter_getter get, void *arg)
{
	char method[MILTER_MAX_SASL + 1], user[MILTER_MAX_SASL + 1];

	if (!macro_copy(method, sizeof method, get(arg, "{auth_type}")))
		macro_copy(method, sizeof method, "?");
	if (!macro_copy(user, sizeof user, get(arg, "{auth_authen}")))
		macro_copy(user, sizeof user, "?");
	if (method[0] == '\0' && user[0] == '\0')
		return;
	memcpy(c->sasl_method, method, sizeof method);
	memcpy(c->sasl_username, user, sizeof user);
}

void session_helo(struct milter_conn *c, milter_getter get, void *arg)
{
	capture_tls(c, get, arg);
}

static void capture_queue_id(struct milter_conn *c, milter_getter get, void *arg)
{
	const char *qid = get(arg, "i");

	if (qid != NULL && *qid != '\0' && !macro_copy(c->queue_id, sizeof c->queue_id, qid))
		c->queue_id[0] = '\0';
}

/* Facts for a decision at MAIL or RCPT, naming the MTA's setting for the
 * plaintext-AUTH alarm. */
static void decision_facts(struct milter_conn *c, milter_getter get, void *arg,
                           enum pg_stage stage, struct pg_facts *f)
{
	facts_fill(c, stage, f);
	f->mta_auth_fix = macro_auth_fix(conn_mta(c, get, arg));
}

void session_mail(struct milter_conn *c, milter_getter get, void *arg, struct pg_verdict *v)
{
	struct pg_facts f;

	session_end_message(c);
	c->in_transaction = true;
	capture_queue_id(c, get, arg);
	capture_tls(c, get, arg);
	capture_auth(c, get, arg);
	decision_facts(c, get, arg, PG_STAGE_MAIL, &f);
	f.new_transaction = true;
	engine_decide(c->cfg, &c->engine, &f, v);
	if (v->rule != PG_RULE_NONE || v->action != PG_ACT_DUNNO) {
		c->mail_objected = true;
		c->mail_verdict = *v;
	}
}

bool session_rcpt_address(char *dst, size_t dstlen, const char *arg)
{
	size_t len;

	if (arg == NULL)
		arg = "";
	len = strlen(arg);
	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
		arg++;
		len -= 2;
	}
	if (len >= dstlen) {
		if (dstlen > 0)
			dst[0] = '\0';
		return false;
	}
	memcpy(dst, arg, len);
	dst[len] = '\0';
	return true;
}

void session_rcpt(struct milter_conn *c, milter_getter get, void *arg, const char *rcpt,
                  struct pg_verdict *v)
{
	char addr[PG_MAX_ADDRESS + 1];
	struct pg_facts f;

	if (c->mail_objected) {
		/* Decided and logged at MAIL: in monitor mode the transaction goes
		 * on exactly as far as it would have without portguard, once. */
		facts_fill(c, PG_STAGE_RCPT, &f);
		engine_repeat(&c->engine, &f);
		*v = c->mail_verdict;
		return;
	}
	capture_queue_id(c, get, arg);
	decision_facts(c, get, arg, PG_STAGE_RCPT, &f);
	/* An address too long to copy is judged as sent: the relay check calls
	 * anything it cannot prove local remote. */
	f.recipient = session_rcpt_address(addr, sizeof addr, rcpt) ? addr : (rcpt ? rcpt : "");
	f.rcpt_quoted = true;
	f.rcpt_mailer = getm(get, arg, "{rcpt_mailer}");
	f.rcpt_host = getm(get, arg, "{rcpt_host}");
	f.rcpt_addr = getm(get, arg, "{rcpt_addr}");
	engine_decide(c->cfg, &c->engine, &f, v);
}

void session_end_message(struct milter_conn *c)
{
	c->queue_id[0] = '\0';
	c->in_transaction = false;
	c->mail_objected = false; /* mail_verdict is read only while this is set */
}

void session_close(struct milter_conn *c)
{
	char slabel[PG_LOG_VALUE_MAX + 1], sname[PG_LOG_VALUE_MAX + 1];
	char stls[PG_LOG_VALUE_MAX + 1];
	struct pg_facts f;

	if (!c->engine.connected)
		return;
	facts_fill(c, PG_STAGE_OTHER, &f);
	engine_close(&c->engine, &f);
	if (log_enabled(LOG_DEBUG))
		log_debug(
		    "session closed: port=%u label=%s client=%s[%s]:%u tls=%s", c->server_port,
		    log_sanitise(slabel, sizeof slabel, c->label[0] ? c->label : "-"),
		    log_sanitise(sname, sizeof sname, c->client_name), c->client_addr,
		    c->client_port,
		    log_sanitise(stls, sizeof stls, c->tls.version[0] ? c->tls.version : "none"));
}
