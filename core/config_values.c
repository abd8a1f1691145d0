/*
 * config_values.c - the values of portguard.conf that are more than a number,
 * a flag or a word: the checks named on the rows of config.c (accounts,
 * labels, sockets, local domains and their file, networks, fingerprints,
 * cipher strings, a directory) and cipher expansion. Sockets are read by
 * daemon.c's parser, replies by policy.c's and local domains, networks and
 * fingerprints by relay.c's, so that each spelling is understood in one place.
 *
 * Inputs are strings from the config file (or the local domains file); every
 * check is bounded. A check stores its value into the config (allocations
 * belong to it and config_free() releases them, also after a failed load) or
 * writes "file:line: key: what is wrong and what to write instead" and
 * returns false; nothing here logs or exits.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config_schema.h"
#include "daemon.h"
#include "relay.h"

/* A line of the local domains file: a domain plus room for a comment. */
enum { DOMAIN_FILE_LINE_MAX = 4 * (PG_MAX_DOMAIN + 1) };

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

/* One local domain, normalised by relay.c, into relay->domains or (a
 * leading dot) relay->parents. */
static bool domain_add(struct pg_relay *relay, const char *s, char *why, size_t whylen)
{
	char d[RELAY_DOMAIN_BUF];
	bool parent;

	if (relay->domains.count + relay->parents.count >= PG_MAX_LOCAL_DOMAINS)
		return why_set(why, whylen, "more than %d local domains", PG_MAX_LOCAL_DOMAINS);
	if (!relay_domain_normalise(s, d, &parent, why, whylen))
		return false;
	if (!strset_add(parent ? &relay->parents : &relay->domains, d))
		return why_set(why, whylen, "out of memory");
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

/* ---- ciphers ---- */

static size_t count_tls13(STACK_OF(SSL_CIPHER) * sk)
{
	size_t n = 0;

	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++)
		if (strcmp(SSL_CIPHER_get_version(sk_SSL_CIPHER_value(sk, i)), "TLSv1.3") == 0)
			n++;
	return n;
}

bool config_expand_ciphers(struct config_loader *ld, const struct config_key *ck,
                           const struct config_key *sk_key, const config_setting_t *e,
                           struct pg_port *p)
{
	const char *list = ld->ciphers ? config_setting_get_string(ld->ciphers) : NULL;
	const char *suites = ld->suites ? config_setting_get_string(ld->suites) : NULL;
	SSL_CTX *ctx;
	STACK_OF(SSL_CIPHER) *sk = NULL;
	bool ok = false;

	if (list == NULL && suites == NULL)
		return true;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		config_fail(ld, NULL, e, "OpenSSL could not create a TLS context");
	else if (list != NULL && SSL_CTX_set_cipher_list(ctx, list) != 1)
		config_fail(ld, ck, ld->ciphers,
		            "\"%s\" matches no cipher OpenSSL knows (see ciphers(1))", list);
	else if (suites != NULL && (SSL_CTX_set_ciphersuites(ctx, suites) != 1 ||
	                            count_tls13(SSL_CTX_get_ciphers(ctx)) == 0))
		config_fail(ld, sk_key, ld->suites,
		            "\"%s\" matches no TLS 1.3 cipher suite OpenSSL knows (e.g. "
		            "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256)",
		            suites);
	else if ((sk = SSL_CTX_get_ciphers(ctx)) == NULL || sk_SSL_CIPHER_num(sk) <= 0)
		config_fail(ld, ck, ld->ciphers ? ld->ciphers : e,
		            "the cipher settings leave no cipher at all");
	else
		ok = true;
	for (int i = 0; ok && i < sk_SSL_CIPHER_num(sk); i++)
		if (!strset_add(&p->ciphers, SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i))))
			ok = config_fail(ld, NULL, e, "out of memory");
	if (ok)
		strset_build(&p->ciphers, p->ciphers.items, p->ciphers.count);
	p->restrict_ciphers = ok;
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* ---- the checks named on the rows of config.c ---- */

/* Is s at most the row's max characters long? */
static bool fits(struct config_loader *ld, const struct config_key *k, const config_setting_t *v,
                 const char *s)
{
	if ((long long)strlen(s) > k->max)
		return config_fail(ld, k, v, "\"%s\": is %zu characters long; the limit is %lld", s,
		                   strlen(s), k->max);
	return true;
}

bool config_set_account(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *v, const char *s, void *obj)
{
	size_t n = strlen(s);

	if ((long long)n < k->min || (long long)n > k->max)
		return config_fail(ld, k, v, "must be %lld..%lld characters long", k->min, k->max);
	if (s[0] == '-')
		return config_fail(ld, k, v, "\"%s\": must not start with '-'", s);
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return config_fail(ld, k, v,
		                   "\"%s\": may contain only letters, digits, '.', '_' and '-'", s);
	memcpy((char *)obj + k->off, s, n + 1);
	return true;
}

bool config_set_label(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *v, const char *s, void *obj)
{
	if (*s == '\0')
		return config_fail(ld, k, v, "\"\": must not be empty (leave the key out instead)");
	if (!fits(ld, k, v, s))
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p > '~')
			return config_fail(
			    ld, k, v,
			    "\"%s\": may contain only printable ASCII characters without "
			    "spaces",
			    s);
	memcpy((char *)obj + k->off, s, strlen(s) + 1);
	return true;
}

/* An absolute directory, or "" for none. */
bool config_set_directory(struct config_loader *ld, const struct config_key *k,
                          const config_setting_t *v, const char *s, void *obj)
{
	if (!fits(ld, k, v, s))
		return false;
	if (*s != '\0' && *s != '/')
		return config_fail(ld, k, v, "\"%s\": must be an absolute path, or \"\"", s);
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f)
			return config_fail(ld, k, v, "must not contain control characters");
	memcpy((char *)obj + k->off, s, strlen(s) + 1);
	return true;
}
/* Sockets, read by daemon.c's parser (the one -p uses); a list names each
 * socket once, however spelled. */
bool config_add_socket(struct config_loader *ld, const struct config_key *k,
                       const config_setting_t *v, const char *s, void *obj)
{
	static const char usage[] = "use unix:/path, local:/path, inet:port@host, "
	                            "inet6:port@host, inet:host:port or inet:[ipv6-address]:port";
	char **slot = (char **)(void *)((char *)obj + k->off);
	char why[64], want[DAEMON_SOCK_PATH_MAX + 16], got[sizeof want];
	struct daemon_sockspec sp;

	if (!daemon_sockspec_check(s, &sp, why, sizeof why))
		return config_fail(ld, k, v, "\"%s\": %s: %s", s, why, usage);
	daemon_sockspec_format(&sp, want, sizeof want);
	for (; k->kind == K_STRINGS && *slot != NULL; slot++) {
		daemon_sockspec_check(*slot, &sp, why, sizeof why);
		daemon_sockspec_format(&sp, got, sizeof got);
		if (strcmp(got, want) == 0)
			return config_fail(ld, k, v, "the same socket is listed twice");
	}
	if ((*slot = strdup(s)) == NULL)
		return config_fail(ld, NULL, v, "out of memory");
	return true;
}

bool config_add_domain(struct config_loader *ld, const struct config_key *k,
                       const config_setting_t *v, const char *s, void *obj)
{
	char why[384];

	if (domain_add(&((struct pg_config *)obj)->relay, s, why, sizeof why))
		return true;
	return config_fail(ld, k, v, "%s", why);
}

/* relay.origin_domain: one domain, normalised like a local domain. */
bool config_set_origin(struct config_loader *ld, const struct config_key *k,
                       const config_setting_t *v, const char *s, void *obj)
{
	char d[RELAY_DOMAIN_BUF], why[384];
	bool parent;
	const char **slot = (const char **)(void *)((char *)obj + k->off);

	if (!relay_domain_normalise(s, d, &parent, why, sizeof why))
		return config_fail(ld, k, v, "%s", why);
	if (parent)
		return config_fail(ld, k, v, "\"%s\": one domain, without a leading dot", s);
	if ((*slot = strdup(d)) == NULL)
		return config_fail(ld, NULL, v, "out of memory");
	return true;
}

#define LIST_UNREADABLE                                                                            \
	"cannot read \"%s\": %s; create the file (one %s per line) or remove the key"

/* One domain or network per line, '#' comments, each through add(); a bad
 * line is "path:line: message". */
static bool read_list_file(struct config_loader *ld, const struct config_key *k,
                           const config_setting_t *v, const char *s, void *obj, const char *what,
                           bool (*add)(struct pg_relay *, const char *, char *, size_t))
{
	char line[DOMAIN_FILE_LINE_MAX], why[DOMAIN_FILE_LINE_MAX + 64] = "";
	unsigned lineno = 0;
	FILE *fp;
	bool ok;
	int rc;

	if (*s == '\0')
		return config_fail(ld, k, v, "empty file name: remove the key or name a file");
	if ((fp = fopen(s, "r")) == NULL)
		return config_fail(ld, k, v, LIST_UNREADABLE, s, strerror(errno), what);
	while (why[0] == '\0' && (rc = read_line(fp, line, sizeof line)) != 0) {
		char *p = line + strspn(line, " \t\r\f\v"), *end;
		lineno++;
		*strchrnul(p, '#') = '\0';
		for (end = p + strlen(p); end > p && isspace((unsigned char)end[-1]);)
			*--end = '\0';
		if (rc < 0)
			why_set(why, sizeof why, "%s%s%s",
			        rc == -1 ? "line too long (one " : "NUL byte in line",
			        rc == -1 ? what : "", rc == -1 ? " per line)" : "");
		else if (strpbrk(p, " \t") != NULL)
			why_set(why, sizeof why, "\"%s\": one %s per line", p, what);
		else if (*p != '\0')
			add(&((struct pg_config *)obj)->relay, p, why, sizeof why);
	}
	ok = why[0] == '\0' && !ferror(fp);
	if (why[0] != '\0')
		snprintf(ld->err, ld->errlen, "%s:%u: %s", s, lineno, why);
	else if (!ok)
		config_fail(ld, k, v, LIST_UNREADABLE, s, strerror(errno), what);
	fclose(fp);
	return ok;
}

bool config_read_domains_file(struct config_loader *ld, const struct config_key *k,
                              const config_setting_t *v, const char *s, void *obj)
{
	return read_list_file(ld, k, v, s, obj, "domain", domain_add);
}

#define NET_BAD                                                                                    \
	"\"%.200s\" is not an address or network: write 192.0.2.0/24, 2001:db8::/32 or a "         \
	"single address"

/* One network into relay->nets, within PG_MAX_TRUSTED_NETS in all. */
static bool net_add(struct pg_relay *relay, const char *s, char *why, size_t whylen)
{
	if (relay->nnets >= PG_MAX_TRUSTED_NETS)
		return why_set(why, whylen, "more than %d trusted networks", PG_MAX_TRUSTED_NETS);
	if (!grow(&relay->nets, relay->nnets, sizeof *relay->nets))
		return why_set(why, whylen, "out of memory");
	if (!relay_net_parse(s, &relay->nets[relay->nnets]))
		return why_set(why, whylen, NET_BAD, s);
	relay->nnets++;
	return true;
}

bool config_read_nets_file(struct config_loader *ld, const struct config_key *k,
                           const config_setting_t *v, const char *s, void *obj)
{
	return read_list_file(ld, k, v, s, obj, "network", net_add);
}

bool config_add_net(struct config_loader *ld, const struct config_key *k, const config_setting_t *v,
                    const char *s, void *obj)
{
	char why[PG_MAX_ADDRESS + 160];

	if (net_add(&((struct pg_config *)obj)->relay, s, why, sizeof why))
		return true;
	return config_fail(ld, k, v, "%s", why);
}

bool config_add_cert(struct config_loader *ld, const struct config_key *k,
                     const config_setting_t *v, const char *s, void *obj)
{
	struct pg_strset *certs = &((struct pg_config *)obj)->relay.certs;
	char fp[PG_MAX_FINGERPRINT + 1];

	if (!relay_fingerprint_normalise(s, fp, sizeof fp))
		return config_fail(
		    ld, k, v,
		    "\"%.160s\" is not a fingerprint: write the certificate's SHA-256 "
		    "fingerprint in hex, with or without ':' (as Postfix or Sendmail "
		    "log it)",
		    s);
	if (!strset_add(certs, fp))
		return config_fail(ld, NULL, v, "out of memory");
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
