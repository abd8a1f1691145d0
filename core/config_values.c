/*
 * config_values.c - the values of portguard.conf that are more than a number,
 * a flag or a word: the checks named on the rows of config.c (accounts,
 * labels, sockets, local domains and their file, networks, fingerprints,
 * cipher strings), reply strings, octal modes, cipher expansion and the
 * "did you mean" distance.
 *
 * Inputs are strings from the config file (or the local domains file); every
 * check is bounded. A check stores its value into the config (allocations
 * belong to it and config_free() releases them, also after a failed load) or
 * writes "file:line: key: what is wrong and what to write instead" and
 * returns false; nothing here logs or exits.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config_schema.h"
#include "relay.h"

/* A line of the local domains file: a domain plus room for a comment. */
enum { DOMAIN_FILE_LINE_MAX = 4 * (PG_MAX_DOMAIN + 1) };

static __attribute__((format(printf, 3, 4))) bool why_set(char *why, size_t whylen, const char *fmt,
                                                          ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return false;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Decimal port 1..65535 in s[0..n). */
static bool port_ok(const char *s, size_t n)
{
	unsigned long v = 0;

	if (!all_digits(s, n) || n > 5)
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	return v >= 1 && v <= 65535;
}

/* Host name or IPv4 address: letters, digits, '-', '.', not empty. */
static bool hostname_ok(const char *s, size_t n)
{
	if (n == 0 || n > PG_MAX_DOMAIN)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return false;
	}
	return true;
}

static bool ipv6_ok(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[16];

	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

static bool unix_path_ok(const char *path, char *why, size_t whylen)
{
	struct sockaddr_un sun;

	if (path[0] != '/')
		return why_set(why, whylen, "the socket path must be absolute (start with /)");
	if (strlen(path) >= sizeof sun.sun_path)
		return why_set(why, whylen, "the socket path is longer than %zu bytes",
		               sizeof sun.sun_path - 1);
	return true;
}

/* policyd: unix:/absolute/path, inet:host:port, inet:[v6addr]:port. */
static bool policy_socket_ok(const char *s, char *why, size_t whylen)
{
	static const char usage[] =
	    "use unix:/absolute/path, inet:host:port or inet:[ipv6-address]:port";

	if (strncmp(s, "unix:", 5) == 0)
		return unix_path_ok(s + 5, why, whylen);
	if (strncmp(s, "inet:", 5) == 0) {
		const char *h = s + 5;
		const char *colon;
		if (*h == '[') {
			const char *close = strchr(h, ']');
			if (close == NULL || close[1] != ':' ||
			    !ipv6_ok(h + 1, (size_t)(close - h - 1)))
				return why_set(why, whylen, "bad IPv6 address in brackets: %s",
				               usage);
			colon = close + 1;
		} else {
			colon = strrchr(h, ':');
			if (colon == NULL || !hostname_ok(h, (size_t)(colon - h)))
				return why_set(why, whylen, "bad or missing host: %s", usage);
		}
		if (!port_ok(colon + 1, strlen(colon + 1)))
			return why_set(why, whylen, "the port must be 1..65535: %s", usage);
		return true;
	}
	return why_set(why, whylen, "unknown socket type: %s", usage);
}

/* milter (libmilter): unix:/path, local:/path, inet:port[@host], inet6:port[@host]. */
static bool milter_socket_ok(const char *s, char *why, size_t whylen)
{
	static const char usage[] =
	    "use unix:/path, local:/path, inet:port@host or inet6:port@host";
	bool v6 = strncmp(s, "inet6:", 6) == 0;

	if (strncmp(s, "unix:", 5) == 0)
		return unix_path_ok(s + 5, why, whylen);
	if (strncmp(s, "local:", 6) == 0)
		return unix_path_ok(s + 6, why, whylen);
	if (v6 || strncmp(s, "inet:", 5) == 0) {
		const char *p = s + (v6 ? 6 : 5);
		const char *at = strchr(p, '@');
		size_t plen = at != NULL ? (size_t)(at - p) : strlen(p);
		if (!port_ok(p, plen))
			return why_set(why, whylen, "the port must be 1..65535: %s", usage);
		if (at != NULL) {
			const char *h = at + 1;
			size_t hlen = strlen(h);
			bool ok = hostname_ok(h, hlen) ||
			          (v6 && (ipv6_ok(h, hlen) ||
			                  (hlen > 2 && h[0] == '[' && h[hlen - 1] == ']' &&
			                   ipv6_ok(h + 1, hlen - 2))));
			if (!ok)
				return why_set(why, whylen, "bad host after '@': %s", usage);
		}
		return true;
	}
	return why_set(why, whylen, "unknown socket type: %s", usage);
}

bool config_parse_octal_mode(const char *s, unsigned *out, char *why, size_t whylen)
{
	size_t n = strlen(s);
	unsigned long v = strtoul(s, NULL, 8);

	if (n < 3 || n > 4 || strspn(s, "01234567") != n || v > 0777)
		return why_set(why, whylen,
		               "must be an octal file mode of 3 or 4 digits up to 0777, "
		               "such as \"0660\"");
	*out = (unsigned)v;
	return true;
}

/* ---- replies ---- */

static bool reply_text_ok(const char *t, enum pg_rule rule, char *why, size_t whylen)
{
	if (*t == '\0')
		return why_set(why, whylen,
		               "the reply text after the enhanced status code is empty");
	for (const char *p = t; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < ' ' || c > '~')
			return why_set(
			    why, whylen,
			    "the reply text may contain only printable ASCII (no CR, LF, tabs "
			    "or 8-bit characters)");
		if (c != '%')
			continue;
		p++;
		if (*p == 'm' || *p == '%')
			continue;
		if (*p == 'r' && rule == PG_RULE_RELAY)
			continue;
		if (*p == 'r')
			return why_set(why, whylen,
			               "%%r (the recipient) is available only in the relay reply");
		return why_set(
		    why, whylen,
		    "unknown %%-sequence in the reply text: use %%m (minimum TLS version), "
		    "%%r (recipient, relay reply only) or %%%% (a percent sign)");
	}
	return true;
}

bool config_parse_reply(const char *s, enum pg_rule rule, struct pg_reply *out, char *why,
                        size_t whylen)
{
	static const char form[] =
	    "write \"CODE ESC text\", e.g. \"530 5.7.0 Must issue a STARTTLS command first\"";
	struct pg_reply r;
	const char *p = s;
	size_t n;

	memset(&r, 0, sizeof r);
	if (!all_digits(p, 3) || p[3] != ' ')
		return why_set(why, whylen, "must start with a 3-digit reply code and a space: %s",
		               form);
	r.code = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	if (r.code < 400 || r.code > 599)
		return why_set(why, whylen,
		               "the reply code %u must be 4xx (temporary) or 5xx (permanent): %s",
		               r.code, form);
	p += 4;
	/* class.subject.detail: d.ddd.ddd */
	n = strcspn(p, " ");
	{
		const char *dot1 = memchr(p, '.', n);
		const char *dot2 =
		    dot1 != NULL ? memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - p)) : NULL;
		size_t l2 = dot2 != NULL ? (size_t)(dot2 - dot1 - 1) : 0;
		size_t l3 = dot2 != NULL ? n - (size_t)(dot2 + 1 - p) : 0;
		if (dot1 != p + 1 || dot2 == NULL || !all_digits(p, 1) ||
		    !all_digits(dot1 + 1, l2) || l2 > 3 || !all_digits(dot2 + 1, l3) || l3 > 3 ||
		    p[n] != ' ')
			return why_set(why, whylen,
			               "the enhanced status code must look like 5.7.1 (d.ddd.ddd) "
			               "and be followed "
			               "by a space and text: %s",
			               form);
	}
	if (p[0] != s[0])
		return why_set(
		    why, whylen,
		    "the enhanced status code %.*s must start with the reply code's first digit %c",
		    (int)n, p, s[0]);
	memcpy(r.esc, p, n);
	r.esc[n] = '\0';
	p += n + 1;
	if (strlen(p) >= sizeof r.text)
		return why_set(why, whylen,
		               "the reply text is %zu characters long; the limit is %zu", strlen(p),
		               sizeof r.text - 1);
	if (!reply_text_ok(p, rule, why, whylen))
		return false;
	memcpy(r.text, p, strlen(p) + 1);
	*out = r;
	return true;
}

/* ---- local domains ---- */

/* Room for entry n of *v (entries of size bytes), growing by doubling. */
static bool grow(void *v, size_t n, size_t size)
{
	void **p = v;
	void *grown;

	if (n < 16 ? n > 0 : (n & (n - 1)) != 0)
		return true; /* room left: n is not 0, 16, 32, 64 ... */
	if ((grown = realloc(*p, (n < 16 ? 16 : 2 * n) * size)) == NULL)
		return false;
	*p = grown;
	return true;
}

static bool ip_literal_ok(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char addr[16];

	if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof buf)
		return false;
	memcpy(buf, s + 1, n - 2);
	buf[n - 2] = '\0';
	if (strncmp(buf, "ipv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, addr) == 1;
	return inet_pton(AF_INET, buf, addr) == 1;
}

/* One local domain into relay->domains or (".example.org") relay->parents,
 * case-folded, one trailing dot removed; "[192.0.2.1]" / "[IPv6:...]" exact.
 * config_load() sorts the sets once all are in. */
static bool domain_add(struct pg_relay *relay, const char *s, char *why, size_t whylen)
{
	char buf[PG_MAX_DOMAIN + 3];
	size_t n = strlen(s);
	bool parent = false;
	char *p = buf;
	struct pg_strset *set;

	if (relay->domains.count + relay->parents.count >= PG_MAX_LOCAL_DOMAINS)
		return why_set(why, whylen, "more than %d local domains", PG_MAX_LOCAL_DOMAINS);
	if (n > PG_MAX_DOMAIN + 2)
		return why_set(why, whylen, "the domain is longer than %d characters",
		               PG_MAX_DOMAIN);
	for (size_t i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	if (buf[0] == '[') {
		if (!ip_literal_ok(buf, n))
			return why_set(why, whylen,
			               "bad address literal \"%s\": write [192.0.2.1] or "
			               "[IPv6:2001:db8::1]",
			               s);
	} else {
		if (*p == '.') {
			parent = true;
			p++;
		}
		n = strlen(p);
		if (n > 0 && p[n - 1] == '.')
			p[--n] = '\0';
		if (n == 0)
			return why_set(why, whylen, "empty domain");
		if (n > PG_MAX_DOMAIN)
			return why_set(why, whylen, "the domain is longer than %d characters",
			               PG_MAX_DOMAIN);
		size_t label = 0;
		for (size_t i = 0; i <= n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == '.' || c == '\0') {
				if (label == 0)
					return why_set(why, whylen, "empty label in domain \"%s\"",
					               s);
				label = 0;
				continue;
			}
			if (!isalnum(c) && c != '-' && c != '_')
				return why_set(why, whylen,
				               "bad character in domain \"%s\": use letters, "
				               "digits, '-' and '.' "
				               "(a leading dot means \"subdomains of\")",
				               s);
			if (++label > 63)
				return why_set(
				    why, whylen,
				    "a label of domain \"%s\" is longer than 63 characters", s);
		}
	}
	set = parent ? &relay->parents : &relay->domains;
	if (!grow(&set->items, set->count, sizeof *set->items) ||
	    (set->items[set->count] = strdup(p)) == NULL)
		return why_set(why, whylen, "out of memory");
	set->count++;
	return true;
}

/* Read one line into buf (bounded). Returns 1 on a line, 0 at EOF, -1 too long,
 * -2 on a NUL byte. */
static int read_line(FILE *fp, char *buf, size_t len)
{
	size_t n = 0;
	int c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0')
			return -2;
		if (n + 1 >= len)
			return -1;
		buf[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 1;
}

/* One domain per line, '#' comments. false: why holds strerror() (*bad_line
 * false) or "path:line: message" (*bad_line true). */
static bool domains_read_file(struct pg_relay *relay, const char *path, bool *bad_line, char *why,
                              size_t whylen)
{
	char line[DOMAIN_FILE_LINE_MAX], reason[DOMAIN_FILE_LINE_MAX + 64] = "";
	unsigned lineno = 0;
	FILE *fp = fopen(path, "r");
	bool ok;
	int rc;

	*bad_line = false;
	if (fp == NULL)
		return why_set(why, whylen, "%s", strerror(errno));
	while (reason[0] == '\0' && (rc = read_line(fp, line, sizeof line)) != 0) {
		char *p = line, *end;
		lineno++;
		*strchrnul(p, '#') = '\0';
		p += strspn(p, " \t\r\f\v");
		for (end = p + strlen(p); end > p && isspace((unsigned char)end[-1]);)
			*--end = '\0';
		if (rc < 0)
			snprintf(reason, sizeof reason, "%s",
			         rc == -1 ? "line too long (one domain per line)"
			                  : "NUL byte in line");
		else if (strpbrk(p, " \t") != NULL)
			snprintf(reason, sizeof reason, "\"%s\": one domain per line", p);
		else if (*p != '\0')
			domain_add(relay, p, reason, sizeof reason);
	}
	*bad_line = reason[0] != '\0';
	ok = !*bad_line && !ferror(fp);
	if (*bad_line)
		why_set(why, whylen, "%s:%u: %s", path, lineno, reason);
	else if (!ok)
		why_set(why, whylen, "%s", strerror(errno));
	fclose(fp);
	return ok;
}

/* ---- ciphers ---- */

static size_t count_tls13(STACK_OF(SSL_CIPHER) * sk)
{
	size_t n = 0;

	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++)
		if (strcmp(SSL_CIPHER_get_version(sk_SSL_CIPHER_value(sk, i)), "TLSv1.3") == 0)
			n++;
	return n;
}

enum config_cipher_result config_expand_ciphers(const char *list, const char *suites,
                                                struct pg_strset *out, char *why, size_t whylen)
{
	enum config_cipher_result rc = CONFIG_CIPHERS_FAILED;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(SSL_CIPHER) *sk = NULL;

	memset(out, 0, sizeof *out);
	if (ctx == NULL) {
		why_set(why, whylen, "OpenSSL could not create a TLS context");
	} else if (list != NULL && SSL_CTX_set_cipher_list(ctx, list) != 1) {
		why_set(why, whylen, "\"%s\" matches no cipher OpenSSL knows (see ciphers(1))",
		        list);
		rc = CONFIG_CIPHERS_BAD_LIST;
	} else if (suites != NULL && (SSL_CTX_set_ciphersuites(ctx, suites) != 1 ||
	                              count_tls13(SSL_CTX_get_ciphers(ctx)) == 0)) {
		why_set(why, whylen,
		        "\"%s\" matches no TLS 1.3 cipher suite OpenSSL knows (e.g. "
		        "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256)",
		        suites);
		rc = CONFIG_CIPHERS_BAD_SUITES;
	} else if ((sk = SSL_CTX_get_ciphers(ctx)) == NULL || sk_SSL_CIPHER_num(sk) <= 0) {
		why_set(why, whylen, "the cipher settings leave no cipher at all");
		rc = CONFIG_CIPHERS_BAD_LIST;
	} else {
		rc = CONFIG_CIPHERS_OK;
		for (int i = 0; i < sk_SSL_CIPHER_num(sk) && rc == CONFIG_CIPHERS_OK; i++)
			if (!grow(&out->items, out->count, sizeof *out->items) ||
			    (out->items[out->count++] =
			         strdup(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)))) == NULL)
				rc = CONFIG_CIPHERS_FAILED;
		if (rc != CONFIG_CIPHERS_OK)
			why_set(why, whylen, "out of memory");
	}
	if (rc == CONFIG_CIPHERS_OK)
		strset_build(out, out->items, out->count);
	else
		strset_free(out);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

unsigned config_edit_distance(const char *a, const char *b)
{
	enum { MAXLEN = 64 };
	unsigned row[MAXLEN + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > MAXLEN || lb > MAXLEN)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* ---- the checks named on the rows of config.c ---- */

bool config_set_account(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *v, const char *s, void *obj)
{
	size_t n = strlen(s);

	if ((long long)n < k->min || (long long)n > k->max)
		return config_fail_key(ld, k, v, "must be %lld..%lld characters long", k->min,
		                       k->max);
	if (s[0] == '-')
		return config_fail_key(ld, k, v, "\"%s\": must not start with '-'", s);
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return config_fail_key(
		    ld, k, v, "\"%s\": may contain only letters, digits, '.', '_' and '-'", s);
	memcpy((char *)obj + k->off, s, n + 1);
	return true;
}

bool config_set_label(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *v, const char *s, void *obj)
{
	size_t n = strlen(s);

	if (n == 0)
		return config_fail_key(ld, k, v,
		                       "\"\": must not be empty (leave the key out instead)");
	if ((long long)n > k->max)
		return config_fail_key(
		    ld, k, v, "\"%s\": is %zu characters long; the limit is %lld", s, n, k->max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return config_fail_key(
			    ld, k, v,
			    "\"%s\": may contain only printable ASCII characters without "
			    "spaces",
			    s);
	memcpy((char *)obj + k->off, s, n + 1);
	return true;
}

bool config_set_milter_socket(struct config_loader *ld, const struct config_key *k,
                              const config_setting_t *v, const char *s, void *obj)
{
	char why[320];
	char **field = (char **)(void *)((char *)obj + k->off);

	if (!milter_socket_ok(s, why, sizeof why))
		return config_fail_key(ld, k, v, "\"%s\": %s", s, why);
	if ((*field = strdup(s)) == NULL)
		return config_fail(ld, v, "out of memory");
	return true;
}

bool config_add_policy_socket(struct config_loader *ld, const struct config_key *k,
                              const config_setting_t *v, const char *s, void *obj)
{
	struct pg_config *cfg = obj;
	char why[320];

	if (!policy_socket_ok(s, why, sizeof why))
		return config_fail_key(ld, k, v, "\"%s\": %s", s, why);
	for (size_t j = 0; j < cfg->policyd_nlisten; j++)
		if (strcmp(cfg->policyd_listen[j], s) == 0)
			return config_fail_key(ld, k, v, "the same socket is listed twice");
	if ((cfg->policyd_listen[cfg->policyd_nlisten] = strdup(s)) == NULL)
		return config_fail(ld, v, "out of memory");
	cfg->policyd_nlisten++;
	return true;
}

bool config_add_domain(struct config_loader *ld, const struct config_key *k,
                       const config_setting_t *v, const char *s, void *obj)
{
	char why[384];

	if (domain_add(&((struct pg_config *)obj)->relay, s, why, sizeof why))
		return true;
	return config_fail_key(ld, k, v, "%s", why);
}

bool config_read_domains_file(struct config_loader *ld, const struct config_key *k,
                              const config_setting_t *v, const char *s, void *obj)
{
	char why[512];
	bool bad_line;

	if (*s == '\0')
		return config_fail_key(ld, k, v, "empty file name: remove the key or name a file");
	if (domains_read_file(&((struct pg_config *)obj)->relay, s, &bad_line, why, sizeof why))
		return true;
	if (!bad_line)
		return config_fail_key(
		    ld, k, v,
		    "cannot read \"%s\": %s; create the file (one domain per line) or "
		    "remove the key",
		    s, why);
	snprintf(ld->err, ld->errlen, "%s", why);
	return false;
}

bool config_add_net(struct config_loader *ld, const struct config_key *k, const config_setting_t *v,
                    const char *s, void *obj)
{
	struct pg_relay *relay = &((struct pg_config *)obj)->relay;

	if (!grow(&relay->nets, relay->nnets, sizeof *relay->nets))
		return config_fail(ld, v, "out of memory");
	if (!relay_net_parse(s, &relay->nets[relay->nnets]))
		return config_fail_key(ld, k, v,
		                       "\"%s\" is not an address or network: write 192.0.2.0/24, "
		                       "2001:db8::/32 or a single address",
		                       s);
	relay->nnets++;
	return true;
}

bool config_add_cert(struct config_loader *ld, const struct config_key *k,
                     const config_setting_t *v, const char *s, void *obj)
{
	struct pg_strset *certs = &((struct pg_config *)obj)->relay.certs;
	char fp[PG_MAX_FINGERPRINT + 1];

	if (!relay_fingerprint_normalise(s, fp, sizeof fp))
		return config_fail_key(
		    ld, k, v,
		    "\"%.160s\" is not a fingerprint: write the certificate's SHA-256 "
		    "fingerprint in hex, with or without ':' (as Postfix or Sendmail "
		    "log it)",
		    s);
	if (!grow(&certs->items, certs->count, sizeof *certs->items) ||
	    (certs->items[certs->count] = strdup(fp)) == NULL)
		return config_fail(ld, v, "out of memory");
	certs->count++;
	return true;
}

/* ciphers and tls13_ciphersuites: expanded together once the entry is read. */
bool config_keep_ciphers(struct config_loader *ld, const struct config_key *k,
                         const config_setting_t *v, const char *s, void *obj)
{
	(void)k, (void)s, (void)obj;
	ld->ciphers = v;
	return true;
}

bool config_keep_suites(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *v, const char *s, void *obj)
{
	(void)k, (void)s, (void)obj;
	ld->suites = v;
	return true;
}

/* An absolute directory, or "" for none. */
bool config_set_directory(struct config_loader *ld, const struct config_key *k,
                          const config_setting_t *v, const char *s, void *obj)
{
	size_t n = strlen(s);

	if ((long long)n > k->max)
		return config_fail_key(
		    ld, k, v, "\"%s\": is %zu characters long; the limit is %lld", s, n, k->max);
	if (n > 0 && s[0] != '/')
		return config_fail_key(ld, k, v, "\"%s\": must be an absolute path, or \"\"", s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] == 0x7f)
			return config_fail_key(ld, k, v, "must not contain control characters");
	memcpy((char *)obj + k->off, s, n + 1);
	return true;
}
