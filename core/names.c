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
    "none",        "plaintext_auth", "auth_forbidden", "tls_required",
    "tls_version", "cipher",         "auth_required",  "relay",
};
static const char *const tls_version_names[] = {
    "none", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "unknown",
};

#define NAME_OF(table, v) ((unsigned)(v) < sizeof(table) / sizeof((table)[0]) ? (table)[(v)] : "?")

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
	if (s[5] != '.' || s[6] == '\0' || s[7] != '\0')
		return PG_TLS_UNKNOWN;
	switch (s[6]) {
	case '0':
		return PG_TLS_V1_0;
	case '1':
		return PG_TLS_V1_1;
	case '2':
		return PG_TLS_V1_2;
	case '3':
		return PG_TLS_V1_3;
	default:
		return PG_TLS_UNKNOWN;
	}
}

static const struct pg_reply default_replies[PG_RULE_COUNT] = {
    [PG_RULE_NONE] = {0, "", ""},
    [PG_RULE_PLAINTEXT_AUTH] = {538, "5.7.11",
                                "Encryption required for requested authentication mechanism"},
    [PG_RULE_AUTH_FORBIDDEN] = {550, "5.7.1", "Authentication is not accepted on this port"},
    [PG_RULE_TLS_REQUIRED] = {530, "5.7.0", "Must issue a STARTTLS command first"},
    [PG_RULE_TLS_VERSION] = {530, "5.7.0", "%m or later required"},
    [PG_RULE_CIPHER] = {530, "5.7.0", "Cipher not accepted"},
    [PG_RULE_AUTH_REQUIRED] = {530, "5.7.0", "Authentication required"},
    [PG_RULE_RELAY] = {554, "5.7.1", "<%r>: Relay access denied"},
};

const struct pg_reply *config_default_reply(enum pg_rule rule)
{
	if ((unsigned)rule >= PG_RULE_COUNT)
		rule = PG_RULE_NONE;
	return &default_replies[rule];
}

void config_port_defaults(struct pg_port *p, enum pg_role role)
{
	memset(p, 0, sizeof *p);
	p->role = role;
	p->mode = PG_MODE_ENFORCE;
	if (role == PG_ROLE_SUBMISSION) {
		p->tls = PG_TLS_STARTTLS;
		p->auth = PG_AUTH_REQUIRED;
		p->min_tls = PG_TLS_V1_2;
	} else {
		p->tls = PG_TLS_OPTIONAL;
		p->auth = PG_AUTH_OPTIONAL;
		p->min_tls = PG_TLS_NONE;
	}
	for (unsigned r = 0; r < PG_RULE_COUNT; r++)
		p->replies[r] = default_replies[r];
}
