/*
 * names.c - the words portguard uses in its config, logs and stats for each
 * enum, in one place. The config parser maps words to enums with the same
 * tables, so a name can never differ between what is read and what is logged.
 */
#include <string.h>

#include "config.h"

static const char *const role_names[] = {"relay", "submission"};
static const char *const mode_names[] = {"enforce", "monitor"};
static const char *const tls_mode_names[] = {"optional", "starttls", "implicit"};
static const char *const auth_mode_names[] = {"optional", "required", "forbidden"};
static const char *const rule_names[PG_RULE_COUNT] = {
    "none", "plaintext_auth", "auth_forbidden", "tls_required",
    "tls_version", "cipher", "auth_required", "relay",
};
static const char *const tls_version_names[] = {
    "none", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "unknown",
};

#define NAME_OF(table, v)                                                      \
	((unsigned)(v) < sizeof(table) / sizeof((table)[0]) ? (table)[(v)] : "?")

const char *config_role_name(enum pg_role role)
{
	return NAME_OF(role_names, role);
}

const char *config_mode_name(enum pg_mode mode)
{
	return NAME_OF(mode_names, mode);
}

const char *config_tls_mode_name(enum pg_tls_mode tls)
{
	return NAME_OF(tls_mode_names, tls);
}

const char *config_auth_mode_name(enum pg_auth_mode auth)
{
	return NAME_OF(auth_mode_names, auth);
}

const char *config_rule_name(enum pg_rule rule)
{
	return NAME_OF(rule_names, rule);
}

const char *tls_version_name(enum pg_tls_version v)
{
	return NAME_OF(tls_version_names, v);
}

/* OpenSSL's SSL_get_version() words; Sendmail and Postfix pass them through.
 * "TLSv1" is TLS 1.0; "TLSv1.0" is accepted too. */
enum pg_tls_version tls_version_parse(const char *s)
{
	static const struct {
		const char *name;
		enum pg_tls_version v;
	} known[] = {
	    {"SSLv3", PG_TLS_SSLV3},     {"TLSv1", PG_TLS_V1_0},
	    {"TLSv1.0", PG_TLS_V1_0},   {"TLSv1.1", PG_TLS_V1_1},
	    {"TLSv1.2", PG_TLS_V1_2},   {"TLSv1.3", PG_TLS_V1_3},
	};

	if (s == NULL || *s == '\0')
		return PG_TLS_NONE;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(s, known[i].name) == 0)
			return known[i].v;
	return PG_TLS_UNKNOWN;
}
