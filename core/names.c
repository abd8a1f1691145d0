/*
 * names.c - the words portguard uses in its config, logs and stats for each
 * enum, in one kind of list (struct config_word, ended by {NULL}). The config
 * reads words with the same lists, so a name can never differ between what is
 * read and what is logged. Rule words come from PG_RULE_WORDS in config.h,
 * which the stats line uses too.
 */
#include <string.h>

#include "config_schema.h"

const struct config_word config_mode_words[] = {
    {"enforce", PG_MODE_ENFORCE}, {"monitor", PG_MODE_MONITOR}, {NULL, 0}};
const struct config_word config_role_words[] = {
    {"relay", PG_ROLE_RELAY}, {"submission", PG_ROLE_SUBMISSION}, {NULL, 0}};
const struct config_word config_tls_words[] = {{"optional", PG_TLS_OPTIONAL},
                                               {"starttls", PG_TLS_STARTTLS},
                                               {"implicit", PG_TLS_IMPLICIT},
                                               {NULL, 0}};
const struct config_word config_auth_words[] = {{"optional", PG_AUTH_OPTIONAL},
                                                {"required", PG_AUTH_REQUIRED},
                                                {"forbidden", PG_AUTH_FORBIDDEN},
                                                {NULL, 0}};
#define RULE_WORD(rule, word) {word, rule},
const struct config_word config_rule_words[] = {PG_RULE_WORDS(RULE_WORD){NULL, 0}};
static const struct config_word tls_version_words[] = {
    {"none", PG_TLS_NONE},       {"SSLv3", PG_TLS_SSLV3},
    {"TLSv1", PG_TLS_V1_0},      {"TLSv1.1", PG_TLS_V1_1},
    {"TLSv1.2", PG_TLS_V1_2},    {"TLSv1.3", PG_TLS_V1_3},
    {"unknown", PG_TLS_UNKNOWN}, {NULL, 0},
};

const char *config_word_name(const struct config_word *w, int value)
{
	for (; w->word != NULL; w++)
		if (w->value == value)
			return w->word;
	return "?";
}

const char *config_role_name(enum pg_role role)
{
	return config_word_name(config_role_words, (int)role);
}

const char *config_mode_name(enum pg_mode mode)
{
	return config_word_name(config_mode_words, (int)mode);
}

const char *config_tls_mode_name(enum pg_tls_mode tls)
{
	return config_word_name(config_tls_words, (int)tls);
}

const char *config_auth_mode_name(enum pg_auth_mode auth)
{
	return config_word_name(config_auth_words, (int)auth);
}

const char *config_rule_name(enum pg_rule rule)
{
	return rule == PG_RULE_NONE ? "none" : config_word_name(config_rule_words, (int)rule);
}

const char *tls_version_name(enum pg_tls_version v)
{
	return config_word_name(tls_version_words, (int)v);
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
	if (s[5] != '.' || s[6] < '0' || s[6] > '3' || s[7] != '\0')
		return PG_TLS_UNKNOWN;
	return (enum pg_tls_version)(PG_TLS_V1_0 + (s[6] - '0'));
}
