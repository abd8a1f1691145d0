/*
 * config_schema.c - the one table of every key portguard.conf may hold.
 *
 * A row gives where the key lives (scope), its name, its kind (type and
 * parser, see config_setters.c), its default as libconfig value text (parsed
 * by the same code as the file), its bounds, its field, and whether a reload
 * applies it. Key names appear as string literals nowhere else; reply keys
 * are the rule names of names.c, enum words come from names.c too. Port keys
 * have no default here: an entry starts from config_port_defaults() for its
 * role, then the top-level mode and replies (see config.c).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "config_schema.h"

static const char *mode_word(unsigned v)
{
	return config_mode_name((enum pg_mode)v);
}
static const char *role_word(unsigned v)
{
	return config_role_name((enum pg_role)v);
}
static const char *tls_word(unsigned v)
{
	return config_tls_mode_name((enum pg_tls_mode)v);
}
static const char *auth_word(unsigned v)
{
	return config_auth_mode_name((enum pg_auth_mode)v);
}

static const struct config_word onerr_words[] = {
    {"tempfail", PG_ONERR_TEMPFAIL},
    {"accept", PG_ONERR_ACCEPT},
};
static const struct config_word facility_words[] = {
    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};
static const struct config_word level_words[] = {
    {"err", LOG_ERR},   {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
    {"info", LOG_INFO}, {"debug", LOG_DEBUG},
};

#define Q(s)         "\"" s "\""
#define CFG(f)       offsetof(struct pg_config, f)
#define PORT(f)      offsetof(struct pg_port, f)
#define WORDS(t)     .words = (t), .nwords = sizeof(t) / sizeof((t)[0])
#define NAMED(fn, n) .name_of = (fn), .nnames = (n)

/* The schema. Order matters within a scope: mode, default_role and replies
 * are read before ports, which start from them. Port keys have no `def`:
 * an entry starts from config_port_defaults() for its role. */
const struct config_key config_schema[] = {
    {SC_TOP, "mode", K_NAMED, Q("enforce"), NAMED(mode_word, 2), .off = CFG(mode), .reload = true},
    {SC_TOP, "on_error", K_WORD, Q("tempfail"), WORDS(onerr_words), .off = CFG(on_error),
     .reload = true},
    {SC_TOP, "default_role", K_NAMED, Q("relay"), NAMED(role_word, 2), .off = CFG(default_role),
     .reload = true},
    {SC_TOP, "replies", K_REPLIES, NULL, .opens = SC_REPLIES, .reload = true},
    {SC_TOP, "log", K_GROUP, NULL, .opens = SC_LOG, .reload = true},
    {SC_LOG, "facility", K_WORD, Q("mail"), WORDS(facility_words), .off = CFG(log_facility),
     .reload = true},
    {SC_LOG, "level", K_WORD, Q("notice"), WORDS(level_words), .off = CFG(log_level),
     .reload = true},
    {SC_LOG, "stats_interval", K_UINT, "3600", 0, 604800, .off = CFG(stats_interval),
     .reload = true, .hint = "seconds; 0 turns the timer off"},
    {SC_TOP, "relay", K_GROUP, NULL, .opens = SC_RELAY, .reload = true},
    {SC_RELAY, "local_domains", K_DOMAINS, "[ ]", .reload = true},
    {SC_RELAY, "local_domains_file", K_DOMAINS_FILE, NULL, .reload = true},
    {SC_RELAY, "trusted_networks", K_NETS, "[ " Q("127.0.0.0/8") ", " Q("::1/128") " ]",
     .reload = true},
    {SC_RELAY, "trusted_client_certs", K_CERTS, "[ ]", .reload = true},
    {SC_RELAY, "authenticated_may_relay", K_BOOL, "true", .off = CFG(relay.authenticated_may_relay),
     .reload = true},
    {SC_TOP, "user", K_ACCOUNT, Q("portguard"), 1, 63, .off = CFG(user)},
    {SC_TOP, "group", K_ACCOUNT, Q(""), 0, 63, .off = CFG(group)},
    {SC_TOP, "allow_root", K_BOOL, "false", .off = CFG(allow_root)},
    {SC_TOP, "policyd", K_GROUP, NULL, .opens = SC_POLICYD, .reload = true},
    {SC_POLICYD, "listen", K_POLICY_LISTEN, "[ " Q("unix:/var/spool/postfix/portguard/policy") " ]",
     .reload = false},
    {SC_POLICYD, "socket_mode", K_OCTAL, Q("0660"), .off = CFG(policyd_socket_mode)},
    {SC_POLICYD, "idle_timeout", K_UINT, "600", 301, 86400, .off = CFG(policyd_idle_timeout),
     .reload = true,
     .hint = "seconds; must exceed Postfix's max_idle (300 s) or Postfix sees closed connections"},
    {SC_POLICYD, "max_connections", K_UINT, "1024", 1, 65536, .off = CFG(policyd_max_connections),
     .reload = true},
    {SC_TOP, "milter", K_GROUP, NULL, .opens = SC_MILTER, .reload = true},
    {SC_MILTER, "listen", K_MILTER_LISTEN, Q("unix:/var/spool/postfix/portguard/milter"),
     .off = CFG(milter_listen)},
    {SC_MILTER, "socket_mode", K_OCTAL, Q("0660"), .off = CFG(milter_socket_mode)},
    {SC_MILTER, "timeout", K_UINT, "30", 1, 3600, .off = CFG(milter_timeout), .hint = "seconds"},
    {SC_TOP, "ports", K_PORTS, NULL, .opens = SC_PORT, .reload = true},
    {SC_PORT, "port", K_UINT, NULL, 1, 65535, .off = PORT(port), .reload = true},
    {SC_PORT, "name", K_LABEL, NULL, .off = PORT(name), .reload = true},
    {SC_PORT, "role", K_ROLE, NULL, NAMED(role_word, 2), .off = PORT(role), .reload = true},
    {SC_PORT, "mode", K_NAMED, NULL, NAMED(mode_word, 2), .off = PORT(mode), .reload = true},
    {SC_PORT, "tls", K_NAMED, NULL, NAMED(tls_word, 3), .off = PORT(tls), .reload = true},
    {SC_PORT, "auth", K_NAMED, NULL, NAMED(auth_word, 3), .off = PORT(auth), .reload = true},
    {SC_PORT, "min_tls_version", K_TLS_MIN, NULL, .off = PORT(min_tls), .reload = true},
    {SC_PORT, "ciphers", K_CIPHERS, NULL, .reload = true},
    {SC_PORT, "tls13_ciphersuites", K_SUITES, NULL, .reload = true},
    {SC_PORT, "min_cipher_bits", K_UINT, NULL, 0, 1024, .off = PORT(min_cipher_bits),
     .reload = true, .hint = "0 means no minimum"},
    {SC_PORT, "allow_plaintext_auth", K_BOOL, NULL, .off = PORT(allow_plaintext_auth),
     .reload = true},
    {SC_PORT, "replies", K_REPLIES, NULL, .opens = SC_PORT_REPLIES, .reload = true},
};
#define NKEYS (sizeof config_schema / sizeof config_schema[0])

const size_t config_schema_count = NKEYS;

const struct config_key *config_scope_parent(enum scope sc)
{
	for (size_t i = 0; i < config_schema_count; i++)
		if ((config_schema[i].kind == K_GROUP || config_schema[i].kind == K_PORTS ||
		     config_schema[i].kind == K_REPLIES) &&
		    config_schema[i].opens == sc)
			return &config_schema[i];
	return NULL;
}

void config_key_path(enum scope sc, const char *name, char *buf, size_t len)
{
	const struct config_key *parent = sc == SC_TOP ? NULL : config_scope_parent(sc);

	if (parent == NULL) {
		snprintf(buf, len, "%s", name);
		return;
	}
	config_key_path(parent->scope, parent->name, buf, len);
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, ".%s", name);
}

/* ---- reload ---- */

static char key_paths[NKEYS][96];
static pthread_once_t key_paths_once = PTHREAD_ONCE_INIT;

static void key_paths_init(void)
{
	for (size_t i = 0; i < config_schema_count; i++)
		config_key_path(config_schema[i].scope, config_schema[i].name, key_paths[i],
		                sizeof key_paths[i]);
}

static bool same_value(const struct config_key *k, const struct pg_config *a,
                       const struct pg_config *b)
{
	const char *pa = (const char *)a + k->off;
	const char *pb = (const char *)b + k->off;

	switch (k->kind) {
	case K_ACCOUNT:
		return strcmp(pa, pb) == 0;
	case K_BOOL:
		return *(const bool *)pa == *(const bool *)pb;
	case K_UINT:
	case K_OCTAL:
		return *(const unsigned *)(const void *)pa == *(const unsigned *)(const void *)pb;
	case K_MILTER_LISTEN: {
		const char *sa = *(char *const *)(const void *)pa;
		const char *sb = *(char *const *)(const void *)pb;
		return sa == sb || (sa != NULL && sb != NULL && strcmp(sa, sb) == 0);
	}
	case K_POLICY_LISTEN:
		if (a->policyd_nlisten != b->policyd_nlisten)
			return false;
		for (size_t i = 0; i < a->policyd_nlisten; i++)
			if (strcmp(a->policyd_listen[i], b->policyd_listen[i]) != 0)
				return false;
		return true;
	default:
		return true;
	}
}

size_t config_restart_needed(const struct pg_config *old, const struct pg_config *new,
                             bool (*ignore)(const char *key, void *arg), void *arg, char *buf,
                             size_t buflen)
{
	size_t n = 0, len = 0;

	if (buflen == 0)
		return 0;
	buf[0] = '\0';
	pthread_once(&key_paths_once, key_paths_init);
	for (size_t i = 0; i < config_schema_count; i++) {
		if (config_schema[i].reload || same_value(&config_schema[i], old, new))
			continue;
		if (ignore != NULL && ignore(key_paths[i], arg))
			continue;
		int w = snprintf(buf + len, buflen - len, "%s%s", n > 0 ? ", " : "", key_paths[i]);
		n++;
		if (w < 0 || (size_t)w >= buflen - len) {
			if (buflen >= 4)
				memcpy(buf + buflen - 4, "...", 4);
			break;
		}
		len += (size_t)w;
	}
	return n;
}

const char *config_schema_key(size_t i, bool *reloadable)
{
	if (i >= config_schema_count)
		return NULL;
	pthread_once(&key_paths_once, key_paths_init);
	if (reloadable != NULL)
		*reloadable = config_schema[i].reload;
	return key_paths[i];
}
