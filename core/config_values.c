/*
 * config_values.c - the values of portguard.conf that are more than a number,
 * a flag or a word: the checks named on the rows of config.c (accounts,
 * labels, sockets, local domains and networks or their files, fingerprints,
 * cipher strings, a directory). Sockets are read by daemon.c's parser, local
 * domains, networks, their files and fingerprints by relay.c's (replies and
 * cipher strings by policy.c's, through config.c), so that each spelling is
 * understood in one place.
 *
 * Inputs are strings from the config file; every check is bounded. A check
 * stores its value into the config (allocations belong to it and
 * config_free() releases them, also after a failed load) or writes
 * "file:line: key: what is wrong and what to write instead" ("path:line:
 * message" for a list file's line) and returns false; nothing here logs or
 * exits.
 */
#include <errno.h>
#include <string.h>

#include "config_schema.h"
#include "daemon.h"
#include "relay.h"

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

/* Local domains or networks into the relay's lists, by relay.c: one from a
 * list (K_STRINGS), or a file of them (K_STRING, what names one per line);
 * a bad line of the file is "path:line: message". */
static bool relay_list(struct config_loader *ld, const struct config_key *k,
                       const config_setting_t *v, const char *s, void *obj, const char *what,
                       relay_add_fn *add)
{
	struct pg_relay *relay = &((struct pg_config *)obj)->relay;
	char why[PG_MAX_ADDRESS + 160];

	if (k->kind == K_STRINGS)
		return add(relay, s, why, sizeof why) || config_fail(ld, k, v, "%s", why);
	if (*s == '\0')
		return config_fail(ld, k, v, "empty file name: remove the key or name a file");
	switch (relay_list_file_read(relay, s, what, add, ld->err, ld->errlen)) {
	case RELAY_LIST_OK:
		return true;
	case RELAY_LIST_BAD:
		return false;
	default:
		return config_fail(
		    ld, k, v,
		    "cannot read \"%s\": %s; create the file (one %s per line) or remove the key",
		    s, strerror(errno), what);
	}
}

bool config_add_domains(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *v, const char *s, void *obj)
{
	return relay_list(ld, k, v, s, obj, "domain", relay_domain_add);
}

bool config_add_nets(struct config_loader *ld, const struct config_key *k,
                     const config_setting_t *v, const char *s, void *obj)
{
	return relay_list(ld, k, v, s, obj, "network", relay_net_add);
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

/* ciphers and tls13_ciphersuites: expanded together once the entry is read
 * (config.c). */
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
