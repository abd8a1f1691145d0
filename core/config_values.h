/*
 * config_values.h - syntax checks for single config values (core/config.c's
 * helpers): reply strings, socket specs, octal modes, account names, service
 * labels, local domains (and their file) and OpenSSL cipher expansion.
 *
 * Each check takes the value and, on failure, writes into why[] a message
 * without a location ("must be ..."); the loader adds "file:line: key".
 * Only the domains file reader writes a full "file:line: message" itself,
 * because the line is in that file.
 */
#ifndef PG_CONFIG_VALUES_H
#define PG_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* "CODE ESC text" for rule (PG_RULE_RELAY alone may use %r). */
bool config_parse_reply(const char *s, enum pg_rule rule, struct pg_reply *out, char *why,
                        size_t whylen);

/* policyd: unix:/absolute/path, inet:host:port, inet:[v6addr]:port. */
bool config_check_policy_socket(const char *s, char *why, size_t whylen);

/* milter (libmilter): unix:/path, local:/path, inet:port[@host], inet6:port[@host]. */
bool config_check_milter_socket(const char *s, char *why, size_t whylen);

/* "0660" or "660": at most 0777. */
bool config_parse_octal_mode(const char *s, unsigned *out, char *why, size_t whylen);

/* A user or group name: letters, digits, '.', '_', '-', not starting with '-'. */
bool config_check_account(const char *s, char *why, size_t whylen);

/* A service label: 1..PG_MAX_LABEL printable ASCII characters, no spaces. */
bool config_check_label(const char *s, char *why, size_t whylen);

/* Local domains collected from relay.local_domains and local_domains_file. */
struct config_domains {
	char **exact;
	size_t nexact, capexact;
	char **parents;
	size_t nparents, capparents;
};

/* Normalise and add one entry (case-folded, one trailing dot removed; a
 * leading dot adds a parent; "[192.0.2.1]" / "[IPv6:2001:db8::1]" exact). */
bool config_domains_add(struct config_domains *d, const char *s, char *why, size_t whylen);

enum config_file_result {
	CONFIG_FILE_OK = 0,
	CONFIG_FILE_CANNOT_OPEN, /* why holds strerror() */
	CONFIG_FILE_BAD_LINE     /* why holds "path:line: message" */
};

/* One domain per line, '#' starts a comment, blank lines skipped. */
enum config_file_result config_domains_read_file(struct config_domains *d, const char *path,
                                                 char *why, size_t whylen);

/* Move the collected domains into two string sets (d is emptied). */
void config_domains_build(struct config_domains *d, struct pg_strset *exact,
                          struct pg_strset *parents);
void config_domains_free(struct config_domains *d);

enum config_cipher_result {
	CONFIG_CIPHERS_OK = 0,
	CONFIG_CIPHERS_BAD_LIST,   /* "ciphers" matched nothing */
	CONFIG_CIPHERS_BAD_SUITES, /* "tls13_ciphersuites" matched nothing */
	CONFIG_CIPHERS_FAILED      /* OpenSSL or memory failure */
};

/* Expand an OpenSSL cipher string (TLS <= 1.2, NULL: OpenSSL's default) and
 * TLS 1.3 suites (NULL: OpenSSL's default) into the set of cipher names
 * OpenSSL would offer. */
enum config_cipher_result config_expand_ciphers(const char *list, const char *suites,
                                                struct pg_strset *out, char *why, size_t whylen);

/* Edit distance, for "did you mean" (capped: returns >= 3 when far apart). */
unsigned config_edit_distance(const char *a, const char *b);

#endif
