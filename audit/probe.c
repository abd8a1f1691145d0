/*
 * probe.c - the wire: every port the configuration names, at one address.
 *
 * Per port: connect (implicit TLS first where the port is wrapped), the
 * greeting, EHLO (AUTH must not be offered before TLS), STARTTLS where the
 * port promises it, the certificate's expiry, on relay ports a relay
 * attempt from the probe's own address (skipped when that address is
 * trusted), and on a port with a minimum TLS version a second session whose
 * handshake is capped below it. The probe never sends a message: at most
 * MAIL and RCPT, then RSET and QUIT.
 *
 * The socket is non-blocking; every connect, read, write and handshake
 * waits in poll() for what is left of its time limit, and every reply is
 * bounded in bytes (reply.c). A server that stalls, floods or speaks
 * something else gives an UNKNOWN finding for that port, in bounded time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "audit.h"
#include "mtafacts.h"
#include "relay.h"

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char buf[PROBE_REPLY_MAX + 1];
	size_t len;
	unsigned timeout_ms;
	char local[INET6_ADDRSTRLEN];
	char why[256];
	char version[32];
	long days; /* until the certificate expires */
	bool have_cert;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events until deadline: true when ready. */
static bool io_wait(struct conn *c, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd pf = {c->fd, events, 0};
		if (left <= 0)
			return false;
		int n = poll(&pf, 1, (int)left);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

static void conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->ctx = NULL;
	c->fd = -1;
}

static bool conn_open(struct conn *c, const struct probe_options *o, unsigned port)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char ps[8];
	long long deadline = now_ms() + o->timeout_ms;
	int err = 0;
	socklen_t el = sizeof err;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->timeout_ms = o->timeout_ms;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	snprintf(ps, sizeof ps, "%u", port);
	if (getaddrinfo(o->addr, ps, &hints, &ai) != 0 || ai == NULL) {
		snprintf(c->why, sizeof c->why, "\"%s\" is not an IP address", o->addr);
		return false;
	}
	c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(c->why, sizeof c->why, "socket: %s", strerror(errno));
		freeaddrinfo(ai);
		return false;
	}
	if (o->from != NULL) {
		struct addrinfo *bi = NULL;
		hints.ai_family = ai->ai_family;
		if (getaddrinfo(o->from, NULL, &hints, &bi) != 0 || bi == NULL ||
		    bind(c->fd, bi->ai_addr, bi->ai_addrlen) != 0) {
			snprintf(c->why, sizeof c->why, "cannot probe from %s: %s", o->from,
			         bi == NULL ? "not an address of this family" : strerror(errno));
			if (bi != NULL)
				freeaddrinfo(bi);
			freeaddrinfo(ai);
			conn_close(c);
			return false;
		}
		freeaddrinfo(bi);
	}
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		snprintf(c->why, sizeof c->why, "connect to %s port %u: %s", o->addr, port,
		         strerror(errno));
		freeaddrinfo(ai);
		conn_close(c);
		return false;
	}
	freeaddrinfo(ai);
	if (!io_wait(c, POLLOUT, deadline)) {
		snprintf(c->why, sizeof c->why, "connect to %s port %u: no answer within %u ms",
		         o->addr, port, o->timeout_ms);
		conn_close(c);
		return false;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
		snprintf(c->why, sizeof c->why, "connect to %s port %u: %s", o->addr, port,
		         strerror(err));
		conn_close(c);
		return false;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, c->local, sizeof c->local, NULL, 0,
		            NI_NUMERICHOST);
	return true;
}

/* One read or write through TLS or not: >0 bytes, 0 try again, -1 end. */
static ssize_t conn_io(struct conn *c, bool wr, char *buf, size_t len, long long deadline)
{
	if (c->ssl == NULL) {
		if (!io_wait(c, wr ? POLLOUT : POLLIN, deadline))
			return -2;
		ssize_t n = wr ? write(c->fd, buf, len) : read(c->fd, buf, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return n == 0 ? -1 : n;
	}
	int n = wr ? SSL_write(c->ssl, buf, (int)len) : SSL_read(c->ssl, buf, (int)len);
	if (n > 0)
		return n;
	int e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return io_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) ? 0 : -2;
	return -1;
}

/* Read one reply into r: true, or false with c->why. */
static bool conn_reply(struct conn *c, struct smtp_reply *r)
{
	long long deadline = now_ms() + c->timeout_ms;
	char why[160];

	for (;;) {
		long used = smtp_reply_parse(c->buf, c->len, r, why, sizeof why);
		if (used < 0) {
			snprintf(c->why, sizeof c->why, "%s", why);
			return false;
		}
		if (used > 0) {
			memmove(c->buf, c->buf + used, c->len - (size_t)used);
			c->len -= (size_t)used;
			return true;
		}
		if (c->len >= PROBE_REPLY_MAX) {
			snprintf(c->why, sizeof c->why, "a reply longer than %d bytes",
			         PROBE_REPLY_MAX);
			return false;
		}
		ssize_t n = conn_io(c, false, c->buf + c->len, PROBE_REPLY_MAX - c->len, deadline);
		if (n == -2 || (n == 0 && now_ms() >= deadline)) {
			snprintf(c->why, sizeof c->why, "no complete reply within %u ms",
			         c->timeout_ms);
			return false;
		}
		if (n < 0) {
			snprintf(c->why, sizeof c->why, "the server closed the connection");
			return false;
		}
		c->len += (size_t)n;
	}
}

/* Send "line\r\n" and read the reply. */
static bool conn_cmd(struct conn *c, const char *line, struct smtp_reply *r)
{
	char out[600];
	int len = snprintf(out, sizeof out, "%s\r\n", line);
	long long deadline = now_ms() + c->timeout_ms;

	for (int off = 0; off < len;) {
		ssize_t n = conn_io(c, true, out + off, (size_t)(len - off), deadline);
		if (n < 0) {
			snprintf(c->why, sizeof c->why, "cannot send %.20s", line);
			return false;
		}
		off += (int)n;
	}
	if (!conn_reply(c, r)) {
		char tmp[sizeof c->why];
		snprintf(tmp, sizeof tmp, "after %.20s: %.200s", line, c->why);
		snprintf(c->why, sizeof c->why, "%s", tmp);
		return false;
	}
	return true;
}

static int ossl_version(enum pg_tls_version v)
{
	switch (v) {
	case PG_TLS_V1_0:
		return TLS1_VERSION;
	case PG_TLS_V1_1:
		return TLS1_1_VERSION;
	case PG_TLS_V1_2:
		return TLS1_2_VERSION;
	case PG_TLS_V1_3:
		return TLS1_3_VERSION;
	default:
		return 0;
	}
}

/* The handshake, versions min..max (0: OpenSSL's own), at security level 0
 * so that old versions can be offered at all. */
static bool conn_tls(struct conn *c, int min, int max)
{
	long long deadline = now_ms() + c->timeout_ms;

	c->len = 0; /* nothing read before the handshake counts after it */
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (SSL_CTX_set_security_level(c->ctx, 0),
	     SSL_CTX_set_cipher_list(c->ctx, "ALL:@SECLEVEL=0") != 1) ||
	    (min != 0 && SSL_CTX_set_min_proto_version(c->ctx, min) != 1) ||
	    (max != 0 && SSL_CTX_set_max_proto_version(c->ctx, max) != 1) ||
	    (c->ssl = SSL_new(c->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		snprintf(c->why, sizeof c->why, "cannot set up TLS");
		return false;
	}
	SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
	for (;;) {
		ERR_clear_error();
		int n = SSL_connect(c->ssl);
		if (n == 1)
			break;
		int e = SSL_get_error(c->ssl, n);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    io_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
			continue;
		unsigned long le = ERR_peek_error();
		char es[160] = "";
		if (le != 0)
			ERR_error_string_n(le, es, sizeof es);
		snprintf(c->why, sizeof c->why, "TLS handshake failed%s%s",
		         e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? " (timed out)" : "",
		         es[0] ? ": " : "");
		snprintf(c->why + strlen(c->why), sizeof c->why - strlen(c->why), "%s", es);
		ERR_clear_error();
		return false;
	}
	snprintf(c->version, sizeof c->version, "%s", SSL_get_version(c->ssl));
	X509 *cert = SSL_get1_peer_certificate(c->ssl);
	if (cert != NULL) {
		int days = 0, secs = 0;
		if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert))) {
			c->days = days - (secs < 0 || days < 0 ? 1 : 0);
			if (days == 0 && secs < 0)
				c->days = -1;
			c->have_cert = true;
		}
		X509_free(cert);
	}
	return true;
}

static void quit(struct conn *c)
{
	struct smtp_reply r;

	if (conn_cmd(c, "RSET", &r))
		conn_cmd(c, "QUIT", &r);
	conn_close(c);
}

/* The probe's address trusted by the MTA (mynetworks) or by portguard. */
static bool trusted(const struct pg_config *cfg, const struct audit_report *rep, const char *addr)
{
	char buf[sizeof rep->mynetworks], *tok[256];
	int n;
	struct pg_relay tmp;
	struct pg_net nets[256];
	size_t nn = 0;

	if (relay_client_trusted(&cfg->relay, addr))
		return true;
	snprintf(buf, sizeof buf, "%s", rep->mynetworks);
	n = mtafacts_split(buf, tok, 256);
	for (int i = 0; i < n; i++) {
		char plain[128], type[32];
		const char *t = tok[i], *close = t[0] == '[' ? strchr(t, ']') : NULL;
		if (mtafacts_entry_kind(t, type, sizeof type) != MTA_ENTRY_VALUE)
			continue;
		if (close != NULL)
			snprintf(plain, sizeof plain, "%.*s%s", (int)(close - t - 1), t + 1, close + 1);
		else
			snprintf(plain, sizeof plain, "%s", t);
		if (relay_net_parse(plain, &nets[nn]))
			nn++;
	}
	memset(&tmp, 0, sizeof tmp);
	tmp.nets = nets;
	tmp.nnets = nn;
	return nn > 0 && relay_client_trusted(&tmp, addr);
}

struct ctx {
	const struct pg_config *cfg;
	const struct probe_options *o;
	struct audit_report *r;
	const struct audit_service *s;
	const char *role;
};

#define ADD(c, check, st, fix, ...)                                                                \
	audit_add((c)->r, (c)->s->port, (c)->s->name, (c)->role, check, st, AUDIT_FRONT_BOTH, fix, \
	          __VA_ARGS__)

/* The fix of a wire finding: the service's setting (Postfix -P, or the
 * sendmail.cf line). */
static void wire_fix(const struct ctx *x, const char *postfix, const char *sendmail, char *out,
                     size_t len)
{
	if (x->r->mta == PG_MTA_POSTFIX)
		snprintf(out, len, "postconf -c '%s' -P %s", x->r->postfix_dir, postfix);
	else
		snprintf(out, len, "%s: %s", x->r->sendmail_cf, sendmail);
	for (char *p = out; (p = strstr(p, "SVC")) != NULL;) {
		char rest[AUDIT_FIX_MAX];
		snprintf(rest, sizeof rest, "%s%s", x->s->name, p + 3);
		snprintf(p, len - (size_t)(p - out), "%s", rest);
		p += strlen(x->s->name);
	}
}

static void check_cert(struct ctx *x, const struct conn *c)
{
	if (!c->have_cert)
		return;
	if (c->days < 0)
		ADD(x, "cert_expiry", AUDIT_CRITICAL, "renew the server certificate",
		    "the certificate has expired");
	else if (c->days < (long)x->o->cert_days)
		ADD(x, "cert_expiry", AUDIT_WARNING, "renew the server certificate",
		    "the certificate expires in %ld days (under %u)", c->days, x->o->cert_days);
	else
		ADD(x, "cert_expiry", AUDIT_OK, NULL, "the certificate expires in %ld days", c->days);
}

static void relay_attempt(struct ctx *x, struct conn *c)
{
	struct smtp_reply r;
	char line[300];

	if (trusted(x->cfg, x->r, c->local)) {
		ADD(x, "open_relay", AUDIT_SKIPPED, NULL,
		    "not tried: the probe's address %s is trusted (probe from an untrusted one)",
		    c->local);
		return;
	}
	if (!conn_cmd(c, "MAIL FROM:<>", &r)) {
		ADD(x, "open_relay", AUDIT_UNKNOWN, NULL, "%s", c->why);
		return;
	}
	if (r.code / 100 != 2) {
		ADD(x, "open_relay", AUDIT_OK, NULL, "MAIL refused from %s: %u %s", c->local, r.code,
		    r.text);
		return;
	}
	snprintf(line, sizeof line, "RCPT TO:<%s>", x->o->rcpt);
	if (!conn_cmd(c, line, &r)) {
		ADD(x, "open_relay", AUDIT_UNKNOWN, NULL, "%s", c->why);
	} else if (r.code / 100 == 2) {
		ADD(x, "open_relay", AUDIT_CRITICAL, x->s->fix_relay[0] ? x->s->fix_relay : NULL,
		    "relaying to <%s> accepted from %s without AUTH", x->o->rcpt, c->local);
	} else {
		ADD(x, "open_relay", AUDIT_OK, NULL, "relaying from %s refused: %u %s", c->local,
		    r.code, r.text);
	}
}

/* Greeting, EHLO: false with an UNKNOWN finding. */
static bool hello(struct ctx *x, struct conn *c, struct smtp_reply *r, bool greet)
{
	if (greet && !conn_reply(c, r)) {
		ADD(x, "connect", AUDIT_UNKNOWN, NULL, "greeting: %s", c->why);
		return false;
	}
	if (greet && r->code != 220) {
		ADD(x, "connect", AUDIT_UNKNOWN, NULL, "greeting: %u %s", r->code, r->text);
		return false;
	}
	if (!conn_cmd(c, "EHLO portguard-audit.invalid", r) || r->code != 250) {
		if (c->why[0] == '\0')
			snprintf(c->why, sizeof c->why, "EHLO: %u %.200s", r->code, r->text);
		ADD(x, "connect", AUDIT_UNKNOWN, NULL, "%s", c->why);
		return false;
	}
	return true;
}

/* A session capped below the port's minimum TLS version. */
static void old_tls(struct ctx *x, bool implicit)
{
	enum pg_tls_version min = x->s->pg->min_tls;
	struct conn c;
	struct smtp_reply r;
	char fix[AUDIT_FIX_MAX], want[16];

	if (min <= PG_TLS_V1_0 || min > PG_TLS_V1_3 || !conn_open(&c, x->o, x->s->port))
		return;
	snprintf(want, sizeof want, "%s", tls_version_name(min));
	snprintf(fix, sizeof fix, "'SVC/inet/smtpd_tls_protocols=>=%s' "
	                          "'SVC/inet/smtpd_tls_mandatory_protocols=>=%s'",
	         want, want);
	char post[AUDIT_FIX_MAX];
	snprintf(post, sizeof post, "%s", fix);
	wire_fix(x, post,
	         "O ServerSSLOptions=+SSL_OP_NO_SSLv2 +SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 "
	         "+SSL_OP_NO_TLSv1_1",
	         fix, sizeof fix);
	/* TLSv1 alone first (the oldest the probe offers), then anything below
	 * the minimum: the oldest version the MTA accepts is the one named */
	int cap = ossl_version((enum pg_tls_version)(min - 1));
	bool up = false;
	for (int try = 0; try < 2 && !up; try++) {
		int max = try == 0 ? TLS1_VERSION : cap;
		if (try == 1 && (cap == TLS1_VERSION || !conn_open(&c, x->o, x->s->port)))
			break;
		if (implicit) {
			up = conn_tls(&c, TLS1_VERSION, max);
		} else {
			up = conn_reply(&c, &r) && r.code == 220 &&
			     conn_cmd(&c, "EHLO portguard-audit.invalid", &r) && r.starttls &&
			     conn_cmd(&c, "STARTTLS", &r) && r.code == 220 &&
			     conn_tls(&c, TLS1_VERSION, max);
		}
		if (!up)
			conn_close(&c);
	}
	if (!up) {
		ADD(x, "tls_version", AUDIT_OK, NULL, "a handshake below %s is refused", want);
		return;
	}
	bool refused = true;
	char said[300] = "";
	if ((!implicit || (conn_reply(&c, &r) && r.code == 220)) &&
	    conn_cmd(&c, "EHLO portguard-audit.invalid", &r) && conn_cmd(&c, "MAIL FROM:<>", &r)) {
		snprintf(said, sizeof said, "MAIL: %u %s", r.code, r.text);
		/* not bare <postmaster>: Postfix accepts it before any restriction */
		char rcpt[INET6_ADDRSTRLEN + 40];
		snprintf(rcpt, sizeof rcpt, "RCPT TO:<postmaster@[%s%s]>",
		         strchr(x->o->addr, ':') != NULL ? "IPv6:" : "", x->o->addr);
		if (r.code / 100 == 2 && conn_cmd(&c, rcpt, &r)) {
			snprintf(said, sizeof said, "RCPT: %u %s", r.code, r.text);
			refused = r.code / 100 != 2;
		}
	}
	if (refused)
		ADD(x, "tls_version", AUDIT_WARNING, fix,
		    "the MTA accepts a %s handshake (minimum %s); the mail is then refused (%s)",
		    c.version, want, said[0] ? said : c.why);
	else
		ADD(x, "tls_version", AUDIT_CRITICAL, fix,
		    "the MTA accepts a %s handshake (minimum %s) and then the mail (%s)", c.version,
		    want, said);
	quit(&c);
}

static void probe_service(struct ctx *x)
{
	const struct pg_port *pg = x->s->pg;
	bool implicit = x->s->wrapper || pg->tls == PG_TLS_IMPLICIT, tls = false;
	struct conn c;
	struct smtp_reply r;
	char fix[AUDIT_FIX_MAX];

	if (!conn_open(&c, x->o, x->s->port)) {
		ADD(x, "connect", AUDIT_UNKNOWN, NULL, "%s", c.why);
		return;
	}
	if (implicit) {
		if (!conn_tls(&c, 0, 0)) {
			wire_fix(x, "'SVC/inet/smtpd_tls_wrappermode=yes'", "add M=s to the port's "
			                                                    "DaemonPortOptions",
			         fix, sizeof fix);
			ADD(x, "implicit_tls", AUDIT_CRITICAL, fix, "%s", c.why);
			conn_close(&c);
			return;
		}
		ADD(x, "implicit_tls", AUDIT_OK, NULL, "%s at connect", c.version);
		tls = true;
	}
	if (!hello(x, &c, &r, true)) {
		conn_close(&c);
		return;
	}
	if (!tls) {
		if (r.auth && !pg->allow_plaintext_auth) {
			wire_fix(x, "'SVC/inet/smtpd_tls_auth_only=yes'", "O AuthOptions=p,y", fix,
			         sizeof fix);
			ADD(x, "auth_before_tls", AUDIT_CRITICAL, fix,
			    "EHLO before TLS offers AUTH %s: passwords can cross in clear", r.auth_mechs);
		} else {
			ADD(x, "auth_before_tls", AUDIT_OK, NULL, "no AUTH before TLS");
		}
		if (pg->tls == PG_TLS_STARTTLS && !r.starttls) {
			wire_fix(x, "'SVC/inet/smtpd_tls_security_level=encrypt'",
			         "define confSERVER_CERT and confSERVER_KEY", fix, sizeof fix);
			ADD(x, "starttls", AUDIT_CRITICAL, fix, "STARTTLS is not offered");
		}
		if (r.starttls) {
			if (!conn_cmd(&c, "STARTTLS", &r) || r.code != 220 || !conn_tls(&c, 0, 0)) {
				if (c.why[0] == '\0')
					snprintf(c.why, sizeof c.why, "STARTTLS: %u %.200s", r.code, r.text);
				ADD(x, "starttls", pg->tls == PG_TLS_STARTTLS ? AUDIT_CRITICAL
				                                              : AUDIT_WARNING,
				    NULL, "%s", c.why);
				conn_close(&c);
				return;
			}
			ADD(x, "starttls", AUDIT_OK, NULL, "%s after STARTTLS", c.version);
			tls = true;
			if (!hello(x, &c, &r, false)) {
				conn_close(&c);
				return;
			}
		}
	}
	if (tls)
		check_cert(x, &c);
	if (pg->role == PG_ROLE_RELAY)
		relay_attempt(x, &c);
	quit(&c);
	if (tls)
		old_tls(x, implicit);
}

void audit_probe(const struct pg_config *cfg, const struct probe_options *o,
                 struct audit_report *r)
{
	size_t n = r->nsvc;

	for (size_t i = 0; i < n; i++) {
		struct ctx x = {cfg, o, r, &r->svc[i], config_role_name(r->svc[i].pg->role)};
		probe_service(&x);
	}
}
