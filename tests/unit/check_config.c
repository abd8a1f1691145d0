/*
 * check_config.c - core/config*.c: portguard.conf defaults, the shipped
 * sample, every class of error with its exact file:line, the limits of
 * core/pg_limits.h at "fits" and "one over", cipher expansion, local domains,
 * port lookup, reference counting and what a reload cannot apply; the
 * schema table itself: one row per key, every default and word list pinned,
 * every bound at "just fits" and "one over".
 *
 * Run from the repository's top directory (tests/run.sh does): the sample
 * config and the man page are read as conf/portguard.conf and
 * man/portguard.conf.5.
 */
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>

#include "check_common.h"
#include "config.h"
#include "config_schema.h"
#include "policy.h"
#include "mtafacts.h"
#include "relay.h"
#include "stats.h"

static const char sample_path[] = "conf/portguard.conf";
static const char man_path[] = "man/portguard.conf.5";

/* Load text from a temp file; the temp file is removed afterwards. On
 * failure err holds the message with the temp path replaced by "F". */
static struct pg_config *load_text(const char *text, char *err, size_t errlen)
{
	char *path = pg_write_temp(text);
	char raw[2048];
	struct pg_config *cfg = config_load(path, raw, sizeof raw);
	size_t plen = strlen(path);

	if (cfg == NULL) {
		if (strncmp(raw, path, plen) == 0)
			snprintf(err, errlen, "F%s", raw + plen);
		else
			snprintf(err, errlen, "%s", raw);
	}
	unlink(path);
	free(path);
	return cfg;
}

/* A growing text buffer for generated configs. */
struct text {
	char *s;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = (t->len + (size_t)n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		ck_assert_ptr_nonnull(t->s);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- defaults ---- */

static void assert_defaults(const struct pg_config *cfg)
{
	static const struct {
		unsigned port;
		enum pg_role role;
		enum pg_tls_mode tls;
		enum pg_auth_mode auth;
		enum pg_tls_version min_tls;
	} want_ports[] = {
	    {25, PG_ROLE_RELAY, PG_TLS_OPTIONAL, PG_AUTH_OPTIONAL, PG_TLS_NONE},
	    {587, PG_ROLE_SUBMISSION, PG_TLS_STARTTLS, PG_AUTH_REQUIRED, PG_TLS_V1_2},
	    {465, PG_ROLE_SUBMISSION, PG_TLS_IMPLICIT, PG_AUTH_REQUIRED, PG_TLS_V1_2},
	    {2525, PG_ROLE_SUBMISSION, PG_TLS_STARTTLS, PG_AUTH_REQUIRED, PG_TLS_V1_2},
	};

	ck_assert_int_eq(cfg->mode, PG_MODE_ENFORCE);
	ck_assert_int_eq(cfg->on_error, PG_ONERR_TEMPFAIL);
	ck_assert_int_eq(cfg->default_role, PG_ROLE_RELAY);
	ck_assert_int_eq(cfg->log_facility, LOG_MAIL);
	ck_assert_int_eq(cfg->log_level, LOG_NOTICE);
	ck_assert_uint_eq(cfg->stats_interval, 3600);
	ck_assert(cfg->relay.authenticated_may_relay);
	ck_assert_uint_eq(cfg->relay.domains.count, 0);
	ck_assert_uint_eq(cfg->relay.parents.count, 0);
	ck_assert_uint_eq(cfg->relay.certs.count, 0);
	ck_assert_uint_eq(cfg->relay.nnets, 2);
	ck_assert_int_eq(cfg->relay.nets[0].family, AF_INET);
	ck_assert_uint_eq(cfg->relay.nets[0].prefix, 8);
	ck_assert_int_eq(cfg->relay.nets[1].family, AF_INET6);
	ck_assert_uint_eq(cfg->relay.nets[1].prefix, 128);
	ck_assert_str_eq(cfg->user, "portguard");
	ck_assert_str_eq(cfg->group, "");
	ck_assert(!cfg->allow_root);
	ck_assert_uint_eq(cfg->policyd_nlisten, 1);
	ck_assert_str_eq(cfg->policyd_listen[0], "unix:/var/spool/postfix/portguard/policy");
	ck_assert_uint_eq(cfg->policyd_socket_mode, 0660);
	ck_assert_uint_eq(cfg->policyd_idle_timeout, 600);
	ck_assert_uint_eq(cfg->policyd_max_connections, 1024);
	ck_assert_uint_eq(cfg->policyd_request_timeout, 10);
	ck_assert_uint_eq(cfg->policyd_max_connections_per_peer, 0);
	ck_assert_str_eq(cfg->milter_listen, "unix:/var/spool/postfix/portguard/milter");
	ck_assert_uint_eq(cfg->milter_socket_mode, 0660);
	ck_assert_uint_eq(cfg->milter_timeout, 30);
	ck_assert_uint_eq(cfg->refs, 1);

	ck_assert_uint_eq(cfg->nports, PG_ARRAY_LEN(want_ports));
	for (size_t i = 0; i < PG_ARRAY_LEN(want_ports); i++) {
		const struct pg_port *got = &cfg->ports[i];
		ck_assert_uint_eq(got->port, want_ports[i].port);
		ck_assert_str_eq(got->name, "");
		ck_assert_int_eq(got->role, want_ports[i].role);
		ck_assert_int_eq(got->tls, want_ports[i].tls);
		ck_assert_int_eq(got->auth, want_ports[i].auth);
		ck_assert_int_eq(got->min_tls, want_ports[i].min_tls);
		ck_assert_int_eq(got->mode, PG_MODE_ENFORCE);
		ck_assert(!got->allow_plaintext_auth);
		ck_assert(!got->restrict_ciphers);
		ck_assert_uint_eq(got->min_cipher_bits, 0);
		for (unsigned r = 1; r < PG_RULE_COUNT; r++) {
			const struct pg_reply *want = &policy_default_replies[r];
			ck_assert_uint_eq(got->replies[r].code, want->code);
			ck_assert_str_eq(got->replies[r].esc, want->esc);
			ck_assert_str_eq(got->replies[r].text, want->text);
		}
	}
	ck_assert_int_eq(cfg->default_port.role, PG_ROLE_RELAY);
	ck_assert_uint_eq(cfg->default_port.port, 0);
	ck_assert_uint_eq(cfg->default_port.line, 0);
}

START_TEST(test_empty_file_gives_defaults)
{
	char err[1024] = "";
	struct pg_config *cfg = load_text("", err, sizeof err);

	ck_assert_msg(cfg != NULL, "%s", err);
	assert_defaults(cfg);
	ck_assert_uint_eq(cfg->ports[0].line, 0);
	config_free(cfg);
}
END_TEST

static char *read_whole(const char *path)
{
	static char buf[65536];
	FILE *fp = fopen(path, "r");
	size_t n;

	ck_assert_msg(fp != NULL, "%s missing", path);
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return strdup(buf);
}

/* The sample takes its facts from Postfix (a stock host's domains are
 * accepted on first start): with that and its empty trusted_networks put
 * back to the defaults, it is the defaults. */
START_TEST(test_sample_loads_and_equals_defaults)
{
	static const char *const from[] = {"  from_mta = \"auto\";\n",
	                                   "  trusted_networks = [ ];\n"};
	static const char *const to[] = {
	    "  from_mta = \"none\";\n", "  trusted_networks = [ \"127.0.0.0/8\", \"::1/128\" ];\n"};
	char err[1024] = "", *text = read_whole(sample_path);
	struct text t = {0};
	const char *p = text;

	for (size_t i = 0; i < PG_ARRAY_LEN(from); i++) {
		const char *at = strstr(p, from[i]);
		ck_assert_msg(at != NULL, "%s: no line %s", sample_path, from[i]);
		text_add(&t, "%.*s%s", (int)(at - p), p, to[i]);
		p = at + strlen(from[i]);
	}
	text_add(&t, "%s", p);
	free(text);
	struct pg_config *cfg = load_text(t.s, err, sizeof err);
	free(t.s);

	ck_assert_msg(cfg != NULL, "%s", err);
	assert_defaults(cfg);
	for (size_t i = 0; i < cfg->nports; i++)
		ck_assert_uint_gt(cfg->ports[i].line, 0);
	config_free(cfg);
}
END_TEST

/* Every key of the schema is in the sample and in the man page. */
START_TEST(test_every_key_documented)
{
	char err[256];
	FILE *fp;
	static char sample[65536], man[131072];
	size_t n;

	fp = fopen(sample_path, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(sample, 1, sizeof sample - 1, fp);
	sample[n] = '\0';
	fclose(fp);
	fp = fopen(man_path, "r");
	ck_assert_msg(fp != NULL, "%s missing", man_path);
	n = fread(man, 1, sizeof man - 1, fp);
	man[n] = '\0';
	fclose(fp);
	for (size_t i = 0; i < config_schema_count; i++) {
		const char *path = config_schema[i].name;
		const char *leaf = strrchr(path, '.') != NULL ? strrchr(path, '.') + 1 : path;
		snprintf(err, sizeof err, ".B %s\n", leaf);
		ck_assert_msg(strstr(sample, leaf) != NULL, "%s not in %s", path, sample_path);
		ck_assert_msg(strstr(man, err) != NULL, "%s has no \".B %s\" line in %s", path,
		              leaf, man_path);
	}
	for (unsigned r = 1; r < PG_RULE_COUNT; r++) {
		const char *name = config_rule_name((enum pg_rule)r);
		ck_assert_msg(strstr(sample, name) != NULL, "reply %s not in the sample", name);
		ck_assert_msg(strstr(man, name) != NULL, "reply %s not in the man page", name);
	}
}
END_TEST

/* ---- the schema table itself ---- */

static const struct config_key *row(const char *name)
{
	for (size_t i = 0; i < config_schema_count; i++)
		if (strcmp(config_schema[i].name, name) == 0)
			return &config_schema[i];
	ck_abort_msg("no row %s", name);
	return NULL;
}

/* Rows without a default text, and what they start from. */
static const char *const unset_keys[] = {
    "relay.local_domains_file", /* no file */
    /* no file */
    "relay.trusted_networks_file",
    "relay.origin_domain",      /* unknown: only postmaster is a local unqualified rcpt */
    "ports.port",               /* 0: matches by name only */
    "ports.name",               /* "": matches by number only */
    "ports.role",               /* default_role */
    "ports.mode",               /* mode */
    "ports.ciphers",            /* OpenSSL's default, no restriction */
    "ports.tls13_ciphersuites", /* OpenSSL's default, no restriction */
};

START_TEST(test_schema_rows)
{
	for (size_t i = 0; i < config_schema_count; i++) {
		const struct config_key *k = &config_schema[i];
		const char *dot = strrchr(k->name, '.');
		bool unset = false;

		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(config_schema[j].name, k->name) != 0, "%s twice",
			              k->name);
		for (size_t j = 0; j < PG_ARRAY_LEN(unset_keys); j++)
			unset |= strcmp(unset_keys[j], k->name) == 0;
		/* a reply starts from SPEC's (top level) or the top level's (ports) */
		unset |= k->kind == K_REPLY;
		/* a default: one text, or one per role, or a listed start */
		ck_assert_msg((k->def != NULL) + (k->role_def[0] != NULL) + unset == 1,
		              "%s: def, role_def or unset, exactly one", k->name);
		ck_assert_msg((k->role_def[0] != NULL) == (k->role_def[1] != NULL), "%s", k->name);
		/* its group is a row, of a kind that holds keys */
		if (dot != NULL) {
			char parent[64];
			snprintf(parent, sizeof parent, "%.*s", (int)(dot - k->name), k->name);
			ck_assert_msg(row(parent)->kind == K_GROUP ||
			                  row(parent)->kind == K_ENTRIES ||
			                  (row(parent)->kind == K_REPLIES && k->kind == K_REPLY),
			              "%s", k->name);
		}
		/* the field fits the kind */
		switch (k->kind) {
		case K_UINT:
		case K_WORD:
		case K_OCTAL:
			ck_assert_msg(k->size == sizeof(int), "%s", k->name);
			break;
		case K_BOOL:
			ck_assert_msg(k->size == sizeof(bool), "%s", k->name);
			break;
		case K_REPLY:
			ck_assert_msg(k->size == sizeof(struct pg_reply), "%s", k->name);
			break;
		case K_STRING:
		case K_STRINGS:
			ck_assert_msg(k->check != NULL, "%s", k->name);
			break;
		default:
			break;
		}
		ck_assert_msg((k->kind == K_WORD) == (k->words != NULL), "%s", k->name);
		if (k->start_only)
			ck_assert_msg(k->size > 0, "%s: a restart-only key needs a field", k->name);
		if (k->kind == K_UINT)
			ck_assert_msg(k->min <= k->max, "%s", k->name);
	}
}
END_TEST

/* Every key's default, as the table writes it: a change here is a change of
 * behaviour and of conf/portguard.conf and portguard.conf(5). */
START_TEST(test_schema_defaults)
{
	static const struct {
		const char *key, *want, *want_relay, *want_submission;
	} cases[] = {
	    {"mode", "\"enforce\"", NULL, NULL},
	    {"on_error", "\"tempfail\"", NULL, NULL},
	    {"default_role", "\"relay\"", NULL, NULL},
	    {"replies", "{ }", NULL, NULL},
	    {"log", "{ }", NULL, NULL},
	    {"log.facility", "\"mail\"", NULL, NULL},
	    {"log.level", "\"notice\"", NULL, NULL},
	    {"log.stats_interval", "3600", NULL, NULL},
	    {"relay", "{ }", NULL, NULL},
	    {"relay.local_domains", "[ ]", NULL, NULL},
	    {"relay.local_domains_file", NULL, NULL, NULL},
	    {"relay.trusted_networks", "[ \"127.0.0.0/8\", \"::1/128\" ]", NULL, NULL},
	    {"relay.trusted_networks_file", NULL, NULL, NULL},
	    {"relay.trusted_client_certs", "[ ]", NULL, NULL},
	    {"relay.authenticated_may_relay", "true", NULL, NULL},
	    {"relay.origin_domain", NULL, NULL, NULL},
	    {"relay.from_mta", "\"none\"", NULL, NULL},
	    {"relay.postfix_config_directory", "\"/etc/postfix\"", NULL, NULL},
	    {"relay.sendmail_cf", "\"/etc/mail/sendmail.cf\"", NULL, NULL},
	    {"user", "\"portguard\"", NULL, NULL},
	    {"group", "\"\"", NULL, NULL},
	    {"allow_root", "false", NULL, NULL},
	    {"state_directory", "\"/run/portguard\"", NULL, NULL},
	    {"metrics_file", "\"\"", NULL, NULL},
	    {"metrics_interval", "60", NULL, NULL},
	    {"policyd", "{ }", NULL, NULL},
	    {"policyd.listen", "[ \"unix:/var/spool/postfix/portguard/policy\" ]", NULL, NULL},
	    {"policyd.socket_mode", "\"0660\"", NULL, NULL},
	    {"policyd.idle_timeout", "600", NULL, NULL},
	    {"policyd.max_connections", "1024", NULL, NULL},
	    {"policyd.request_timeout", "10", NULL, NULL},
	    {"policyd.max_connections_per_peer", "0", NULL, NULL},
	    {"milter", "{ }", NULL, NULL},
	    {"milter.listen", "\"unix:/var/spool/postfix/portguard/milter\"", NULL, NULL},
	    {"milter.socket_mode", "\"0660\"", NULL, NULL},
	    {"milter.timeout", "30", NULL, NULL},
	    {"ports",
	     "( { port = 25; role = \"relay\"; }, { port = 587; role = \"submission\"; },"
	     "  { port = 465; role = \"submission\"; tls = \"implicit\"; },"
	     "  { port = 2525; role = \"submission\"; } )",
	     NULL, NULL},
	    {"ports.port", NULL, NULL, NULL},
	    {"ports.name", NULL, NULL, NULL},
	    {"ports.role", NULL, NULL, NULL},
	    {"ports.mode", NULL, NULL, NULL},
	    {"ports.tls", NULL, "\"optional\"", "\"starttls\""},
	    {"ports.auth", NULL, "\"optional\"", "\"required\""},
	    {"ports.min_tls_version", NULL, "\"none\"", "\"TLSv1.2\""},
	    {"ports.ciphers", NULL, NULL, NULL},
	    {"ports.tls13_ciphersuites", NULL, NULL, NULL},
	    {"ports.min_cipher_bits", "0", NULL, NULL},
	    {"ports.allow_plaintext_auth", "false", NULL, NULL},
	    {"ports.replies", "{ }", NULL, NULL},
	};

	/* and a reply row for each rule, in each replies group, on its rule's field */
	ck_assert_uint_eq(PG_ARRAY_LEN(cases) + 2 * (PG_RULE_COUNT - 1), config_schema_count);
	for (unsigned r = 1; r < PG_RULE_COUNT; r++) {
		char key[64];
		const struct config_key *k;
		snprintf(key, sizeof key, "replies.%s", config_rule_name((enum pg_rule)r));
		k = row(key);
		ck_assert_msg(k->kind == K_REPLY && k->def == NULL && k->role_def[0] == NULL, "%s",
		              key);
		ck_assert_uint_eq(k->off, offsetof(struct pg_config, default_port.replies[r]));
		snprintf(key, sizeof key, "ports.replies.%s", config_rule_name((enum pg_rule)r));
		k = row(key);
		ck_assert_msg(k->kind == K_REPLY && k->def == NULL && k->role_def[0] == NULL, "%s",
		              key);
		ck_assert_uint_eq(k->off, offsetof(struct pg_port, replies[r]));
	}
	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		const struct config_key *k = row(cases[i].key);
		const char *got[] = {k->def, k->role_def[PG_ROLE_RELAY],
		                     k->role_def[PG_ROLE_SUBMISSION]};
		const char *want[] = {cases[i].want, cases[i].want_relay, cases[i].want_submission};
		for (size_t j = 0; j < 3; j++)
			ck_assert_msg(got[j] == want[j] || (got[j] != NULL && want[j] != NULL &&
			                                    strcmp(got[j], want[j]) == 0),
			              "%s: default %zu is %s, want %s", cases[i].key, j,
			              got[j] ? got[j] : "(none)", want[j] ? want[j] : "(none)");
	}
}
END_TEST

/* The effect of the per-role defaults, whichever order the file has. */
START_TEST(test_role_defaults)
{
	static const char text[] = "ports = (\n"
	                           "  { tls = \"optional\"; port = 1; },\n"
	                           "  { port = 2; role = \"relay\"; },\n"
	                           "  { min_cipher_bits = 1; role = \"submission\"; port = 3; },\n"
	                           "  { auth = \"forbidden\"; role = \"relay\"; name = \"x\"; }\n"
	                           ");\n"
	                           "replies = { relay = \"550 5.7.1 no\"; };\n"
	                           "default_role = \"submission\";\n"
	                           "mode = \"monitor\";\n";
	static const struct {
		enum pg_role role;
		enum pg_tls_mode tls;
		enum pg_auth_mode auth;
		enum pg_tls_version min_tls;
	} want[] = {
	    {PG_ROLE_SUBMISSION, PG_TLS_OPTIONAL, PG_AUTH_REQUIRED, PG_TLS_V1_2},
	    {PG_ROLE_RELAY, PG_TLS_OPTIONAL, PG_AUTH_OPTIONAL, PG_TLS_NONE},
	    {PG_ROLE_SUBMISSION, PG_TLS_STARTTLS, PG_AUTH_REQUIRED, PG_TLS_V1_2},
	    {PG_ROLE_RELAY, PG_TLS_OPTIONAL, PG_AUTH_FORBIDDEN, PG_TLS_NONE},
	};
	char err[1024] = "";
	struct pg_config *cfg = load_text(text, err, sizeof err);

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->nports, PG_ARRAY_LEN(want));
	for (size_t i = 0; i < PG_ARRAY_LEN(want); i++) {
		const struct pg_port *got = &cfg->ports[i];
		struct pg_port def;
		ck_assert_int_eq(got->role, want[i].role);
		ck_assert_int_eq(got->tls, want[i].tls);
		ck_assert_int_eq(got->auth, want[i].auth);
		ck_assert_int_eq(got->min_tls, want[i].min_tls);
		ck_assert_int_eq(got->mode, PG_MODE_MONITOR);
		ck_assert_uint_eq(got->replies[PG_RULE_RELAY].code, 550);
		ck_assert_uint_eq(got->min_cipher_bits, i == 2 ? 1 : 0);
		ck_assert(!got->allow_plaintext_auth && !got->restrict_ciphers);
		/* config_port_defaults() gives the same role defaults */
		config_port_defaults(&def, want[i].role);
		ck_assert_int_eq(def.role, want[i].role);
		ck_assert_int_eq(def.mode, PG_MODE_ENFORCE);
		ck_assert_int_eq(def.auth, i == 3 ? PG_AUTH_OPTIONAL : want[i].auth);
		ck_assert_int_eq(def.tls, i == 0 ? PG_TLS_STARTTLS : want[i].tls);
		ck_assert_int_eq(def.min_tls, want[i].min_tls);
		ck_assert_uint_eq(def.port, 0);
		ck_assert_str_eq(def.name, "");
		ck_assert(!def.allow_plaintext_auth && !def.restrict_ciphers);
		ck_assert_uint_eq(def.min_cipher_bits, 0);
		for (unsigned r = 0; r < PG_RULE_COUNT; r++)
			ck_assert_mem_eq(&def.replies[r], &policy_default_replies[r],
			                 sizeof def.replies[r]);
	}
	ck_assert_int_eq(cfg->default_port.role, PG_ROLE_SUBMISSION);
	ck_assert_int_eq(cfg->default_port.tls, PG_TLS_STARTTLS);
	ck_assert_int_eq(cfg->default_port.mode, PG_MODE_MONITOR);
	ck_assert_uint_eq(cfg->default_port.replies[PG_RULE_RELAY].code, 550);
	config_free(cfg);
}
END_TEST

/* A config that sets key (a row's dotted name) to value; *entry: the key is
 * in a ports entry. */
static void key_text(struct text *t, const char *key, const char *value, bool *entry)
{
	const char *dot = strchr(key, '.');

	*entry = strncmp(key, "ports.", 6) == 0;
	if (dot == NULL)
		text_add(t, "%s = %s;\n", key, value);
	else if (!*entry)
		text_add(t, "%.*s = { %s = %s; };\n", (int)(dot - key), key, dot + 1, value);
	else if (strcmp(key, "ports.port") == 0)
		text_add(t, "ports = ( { port = %s; } );\n", value);
	else
		text_add(t, "ports = ( { port = 10; %s = %s; } );\n", dot + 1, value);
}

/* Every word list, in order, with its values; each word loads as its value. */
START_TEST(test_word_lists)
{
	static const struct {
		const char *key;
		const char *words[12];
		int values[12];
	} cases[] = {
	    {"mode", {"enforce", "monitor"}, {PG_MODE_ENFORCE, PG_MODE_MONITOR}},
	    {"on_error", {"tempfail", "accept"}, {PG_ONERR_TEMPFAIL, PG_ONERR_ACCEPT}},
	    {"default_role", {"relay", "submission"}, {PG_ROLE_RELAY, PG_ROLE_SUBMISSION}},
	    {"log.facility",
	     {"mail", "daemon", "user", "local0", "local1", "local2", "local3", "local4", "local5",
	      "local6", "local7"},
	     {LOG_MAIL, LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
	      LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7}},
	    {"log.level",
	     {"err", "warning", "notice", "info", "debug"},
	     {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG}},
	    {"relay.from_mta",
	     {"none", "postfix", "sendmail", "auto"},
	     {PG_MTA_NONE, PG_MTA_POSTFIX, PG_MTA_SENDMAIL, PG_MTA_AUTO}},
	    {"ports.role", {"relay", "submission"}, {PG_ROLE_RELAY, PG_ROLE_SUBMISSION}},
	    {"ports.mode", {"enforce", "monitor"}, {PG_MODE_ENFORCE, PG_MODE_MONITOR}},
	    {"ports.tls",
	     {"optional", "starttls", "implicit"},
	     {PG_TLS_OPTIONAL, PG_TLS_STARTTLS, PG_TLS_IMPLICIT}},
	    {"ports.auth",
	     {"optional", "required", "forbidden"},
	     {PG_AUTH_OPTIONAL, PG_AUTH_REQUIRED, PG_AUTH_FORBIDDEN}},
	    {"ports.min_tls_version",
	     {"none", "TLSv1", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"},
	     {PG_TLS_NONE, PG_TLS_V1_0, PG_TLS_V1_0, PG_TLS_V1_1, PG_TLS_V1_2, PG_TLS_V1_3}},
	};
	size_t nword_rows = 0;
	char mta_dir[] = "/tmp/pg-mta-XXXXXX", mta_cf[64], mta_main[64];
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(mta_dir));
	snprintf(mta_cf, sizeof mta_cf, "%s/sendmail.cf", mta_dir);
	snprintf(mta_main, sizeof mta_main, "%s/main.cf", mta_dir);
	ck_assert_ptr_nonnull(fp = fopen(mta_cf, "w"));
	fputs("Cwexample.org\n", fp);
	fclose(fp);
	ck_assert_ptr_nonnull(fp = fopen(mta_main, "w"));
	fputs("mydestination = example.org\nmyorigin = example.org\n", fp);
	fclose(fp);

	for (size_t i = 0; i < config_schema_count; i++)
		nword_rows += config_schema[i].kind == K_WORD;
	ck_assert_uint_eq(nword_rows, PG_ARRAY_LEN(cases));
	for (size_t c = 0; c < PG_ARRAY_LEN(cases); c++) {
		const struct config_key *k = row(cases[c].key);
		size_t n = 0;
		for (; k->words[n].word != NULL; n++) {
			ck_assert_msg(cases[c].words[n] != NULL, "%s: extra word %s", k->name,
			              k->words[n].word);
			ck_assert_str_eq(k->words[n].word, cases[c].words[n]);
			ck_assert_int_eq(k->words[n].value, cases[c].values[n]);
		}
		ck_assert_msg(cases[c].words[n] == NULL, "%s: missing %s", k->name,
		              cases[c].words[n]);
		for (size_t w = 0; w < n; w++) {
			struct text t = {0};
			char err[1024] = "", value[32];
			bool entry;
			int got;
			snprintf(value, sizeof value, "\"%s\"", cases[c].words[w]);
			key_text(&t, k->name, value, &entry);
			if (strcmp(k->name, "relay.from_mta") == 0) { /* an MTA with one domain */
				t.len = 0;
				text_add(&t,
				         "relay = { from_mta = %s; sendmail_cf = \"%s\"; "
				         "postfix_config_directory = \"%s\"; };\n",
				         value, mta_cf, mta_dir);
			}
			struct pg_config *cfg = load_text(t.s, err, sizeof err);
			ck_assert_msg(cfg != NULL, "%s: %s", t.s, err);
			memcpy(&got,
			       (char *)(entry ? (void *)&cfg->ports[0] : (void *)cfg) + k->off,
			       sizeof got);
			ck_assert_msg(got == cases[c].values[w], "%s", t.s);
			config_free(cfg);
			free(t.s);
		}
	}
	unlink(mta_cf);
	unlink(mta_main);
	rmdir(mta_dir);
	/* the names in logs are the words of the config */
	for (int v = 0; config_role_words[v].word != NULL; v++)
		ck_assert_str_eq(config_role_name((enum pg_role)v), config_role_words[v].word);
	ck_assert_str_eq(config_mode_name(PG_MODE_MONITOR), "monitor");
	ck_assert_str_eq(config_tls_mode_name(PG_TLS_IMPLICIT), "implicit");
	ck_assert_str_eq(config_auth_mode_name(PG_AUTH_FORBIDDEN), "forbidden");
	ck_assert_str_eq(config_role_name((enum pg_role)7), "?");
}
END_TEST

/* Each rule's word: the reply key, the log's rule= and the stats counter. */
START_TEST(test_rule_words)
{
	static const char *const want[PG_RULE_COUNT] = {
	    "none",        "plaintext_auth", "auth_forbidden", "tls_required",
	    "tls_version", "cipher",         "auth_required",  "relay",
	};

	for (unsigned r = 0; r < PG_RULE_COUNT; r++) {
		char counter[64];
		ck_assert_str_eq(config_rule_name((enum pg_rule)r), want[r]);
		if (r == PG_RULE_NONE)
			continue;
		snprintf(counter, sizeof counter, "reject_%s", want[r]);
		ck_assert_msg(stats_peek(25, NULL, counter) >= 0, "no stats counter %s", counter);
	}
	ck_assert_int_eq(stats_peek(25, NULL, "reject_none"), -1);
}
END_TEST

/* Every integer bound: min and max fit, one below and one above do not. */
START_TEST(test_bounds_integers)
{
	size_t nrows = 0;

	for (size_t i = 0; i < config_schema_count; i++) {
		const struct config_key *k = &config_schema[i];
		if (k->kind != K_UINT)
			continue;
		nrows++;
		for (int edge = 0; edge < 4; edge++) {
			long long v = edge == 0   ? k->min
			              : edge == 1 ? k->max
			              : edge == 2 ? k->min - 1
			                          : k->max + 1;
			struct text t = {0};
			char value[32], err[1024] = "", want[128];
			bool entry;
			snprintf(value, sizeof value, "%lld", v);
			key_text(&t, k->name, value, &entry);
			struct pg_config *cfg = load_text(t.s, err, sizeof err);
			if (edge < 2) {
				unsigned got;
				ck_assert_msg(cfg != NULL, "%s: %s", t.s, err);
				memcpy(&got,
				       (char *)(entry ? (void *)&cfg->ports[0] : (void *)cfg) +
				           k->off,
				       sizeof got);
				ck_assert_msg(got == (unsigned)v, "%s", t.s);
				config_free(cfg);
			} else {
				ck_assert_msg(cfg == NULL, "%s loaded", t.s);
				snprintf(want, sizeof want,
				         "%s: %lld is out of range: use %lld..%lld", k->name, v,
				         k->min, k->max);
				ck_assert_msg(strstr(err, want) != NULL, "got %s, want %s", err,
				              want);
			}
			free(t.s);
		}
	}
	ck_assert_uint_eq(nrows, 9);
}
END_TEST

/* String lengths: user and group (max 63, user at least 1), labels. */
START_TEST(test_bounds_lengths)
{
	static const struct {
		const char *key;
		size_t len;
		bool want_ok;
		const char *want_msg;
	} cases[] = {
	    {"user", 0, false, "user: must be 1..63 characters long"},
	    {"user", 1, true, NULL},
	    {"user", 63, true, NULL},
	    {"user", 64, false, "user: must be 1..63 characters long"},
	    {"group", 0, true, NULL},
	    {"group", 63, true, NULL},
	    {"group", 64, false, "group: must be 0..63 characters long"},
	    {"ports.name", 63, true, NULL},
	    {"ports.name", 64, false, "characters long; the limit is 63"},
	};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		struct text t = {0};
		char *s = repeat('a', cases[i].len), value[80], err[1024] = "";
		bool entry;
		snprintf(value, sizeof value, "\"%s\"", s);
		key_text(&t, cases[i].key, value, &entry);
		struct pg_config *cfg = load_text(t.s, err, sizeof err);
		if (cases[i].want_ok) {
			ck_assert_msg(cfg != NULL, "%s: %s", t.s, err);
			ck_assert_str_eq(entry                               ? cfg->ports[0].name
			                 : strcmp(cases[i].key, "user") == 0 ? cfg->user
			                                                     : cfg->group,
			                 s);
			config_free(cfg);
		} else {
			ck_assert_msg(cfg == NULL, "%s loaded", t.s);
			ck_assert_msg(strstr(err, cases[i].want_msg) != NULL, "%s", err);
		}
		free(s);
		free(t.s);
	}
}
END_TEST

/* Every list with a limit: max entries fit, one more does not. */
START_TEST(test_bounds_counts)
{
	static const struct {
		const char *key, *elem;
	} cases[] = {
	    {"relay.local_domains", "\"d%d.test\""},
	    {"relay.trusted_networks", "\"10.%d.%d.%d\""},
	    {"relay.trusted_client_certs", "\"%064x\""},
	    {"policyd.listen", "\"inet:127.0.0.1:2%04d\""},
	    {"ports", "{ port = 1%04d; }"},
	};
	size_t nrows = 0;

	for (size_t i = 0; i < config_schema_count; i++)
		nrows +=
		    (config_schema[i].kind == K_STRINGS || config_schema[i].kind == K_ENTRIES) &&
		    config_schema[i].max > 0;
	ck_assert_uint_eq(nrows, PG_ARRAY_LEN(cases));
	for (size_t c = 0; c < PG_ARRAY_LEN(cases); c++) {
		const struct config_key *k = row(cases[c].key);
		for (int extra = 0; extra <= 1; extra++) {
			struct text t = {0}, v = {0};
			char want[128], err[2048] = "";
			bool entry;
			text_add(&v, "%s", k->kind == K_ENTRIES ? "(" : "[");
			for (long long i = 0; i < k->max + extra; i++) {
				text_add(&v, "%s", i > 0 ? ",\n" : " ");
				if (strstr(cases[c].elem, "%d.%d") != NULL)
					text_add(&v, cases[c].elem, (int)i >> 16,
					         (int)(i >> 8) & 255, (int)i & 255);
				else
					text_add(&v, cases[c].elem, (int)i);
			}
			text_add(&v, " %s", k->kind == K_ENTRIES ? ")" : "]");
			key_text(&t, k->name, v.s, &entry);
			struct pg_config *cfg = load_text(t.s, err, sizeof err);
			if (extra == 0) {
				ck_assert_msg(cfg != NULL, "%s: %s", k->name, err);
				config_free(cfg);
			} else {
				snprintf(want, sizeof want,
				         "F:%lld: %s: more than %lld entries (the limit)",
				         k->max + 1, k->name, k->max);
				ck_assert_msg(cfg == NULL, "%s: loaded", k->name);
				ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
				              "got %s, want %s", err, want);
			}
			free(v.s);
			free(t.s);
		}
	}
}
END_TEST

/* ---- errors, each at its exact line ---- */

static const struct {
	const char *name;
	const char *text;
	unsigned want_line;
	const char *want_msg;
} error_cases[] = {
    {"syntax", "mode = \"enforce\";\nlog = {\n  level = ;\n};\n", 3, "syntax error"},
    {"duplicate key", "log = {\n  level = \"info\";\n  level = \"err\";\n};\n", 3,
     "duplicate setting"},
    {"unknown top", "mode = \"enforce\";\nmdoe = \"monitor\";\n", 2,
     "unknown key \"mdoe\" at the top level; did you mean \"mode\"?"},
    {"unknown far", "\n\nxyzzy = 1;\n", 3, "the keys allowed here are \"mode\""},
    {"unknown log", "log = {\n  levle = \"info\";\n};\n", 2,
     "unknown key \"levle\" in log; did you mean \"level\"?"},
    {"unknown relay", "relay = {\n  trusted_network = [ ];\n};\n", 2,
     "in relay; did you mean \"trusted_networks\"?"},
    {"unknown policyd", "policyd = {\n\n  idle_timout = 900;\n};\n", 3,
     "in policyd; did you mean \"idle_timeout\"?"},
    {"unknown milter", "milter = {\n  listen = \"inet:9999@localhost\";\n  timeot = 5;\n};\n", 3,
     "in milter; did you mean \"timeout\"?"},
    {"unknown replies", "replies = {\n  tls_requried = \"530 5.7.0 TLS!\";\n};\n", 2,
     "in replies; did you mean \"tls_required\"?"},
    {"unknown port key",
     "ports = (\n  { port = 587; role = \"submission\";\n"
     "    min_tls_verison = \"TLSv1.3\"; }\n);\n",
     3, "unknown key \"min_tls_verison\" in a ports entry; did you mean \"min_tls_version\"?"},
    {"unknown port replies",
     "ports = (\n  { port = 25;\n    replies = {\n      relay_denied = \"554 5.7.1 no\";\n"
     "    };\n  }\n);\n",
     4, "unknown key \"relay_denied\" in ports.replies"},
    {"not a group", "log = \"mail\";\n", 1, "log: must be a group"},
    {"int as string", "log = {\n  stats_interval = \"10\";\n};\n", 2,
     "log.stats_interval: must be an integer, not a string"},
    {"bool as string", "allow_root = \"yes\";\n", 1, "allow_root: must be true or false"},
    {"float", "milter = { timeout = 1.5; };\n", 1, "milter.timeout: must be an integer"},
    {"range stats", "log = { stats_interval = 604801; };\n", 1, "use 0..604800"},
    {"idle 300", "policyd = {\n  idle_timeout = 300;\n};\n", 2,
     "policyd.idle_timeout: 300 is out of range: use 301..86400"},
    {"max conn 0", "policyd = { max_connections = 0; };\n", 1, "policyd.max_connections: 0"},
    {"request timeout 0", "policyd = { request_timeout = 0; };\n", 1,
     "policyd.request_timeout: 0 is out of range: use 1..300 (seconds from a request's first byte"},
    {"request timeout 301", "policyd = { request_timeout = 301; };\n", 1,
     "policyd.request_timeout: 301 is out of range: use 1..300"},
    {"per peer 65537", "policyd = { max_connections_per_peer = 65537; };\n", 1,
     "policyd.max_connections_per_peer: 65537 is out of range: use 0..65536 (from one inet"},
    {"bad mode", "mode = \"enfroce\";\n", 1,
     "mode: \"enfroce\" is not allowed: use one of \"enforce\", \"monitor\""},
    {"bad on_error", "on_error = \"reject\";\n", 1, "\"tempfail\", \"accept\""},
    {"bad role", "default_role = \"mx\";\n", 1, "\"relay\", \"submission\""},
    {"bad facility", "log = { facility = \"mail2\"; };\n", 1, "\"local7\""},
    {"bad level", "log = { level = \"warn\"; };\n", 1,
     "\"err\", \"warning\", \"notice\", \"info\", \"debug\""},
    {"bad tls", "ports = (\n  { port = 587; tls = \"startls\"; }\n);\n", 2,
     "ports.tls: \"startls\" is not allowed: use one of \"optional\", \"starttls\", "
     "\"implicit\""},
    {"bad auth", "ports = (\n  { port = 587; auth = \"yes\"; }\n);\n", 2, "\"forbidden\""},
    {"bad min_tls", "ports = (\n  { port = 587; min_tls_version = \"SSLv3\"; }\n);\n", 2,
     "\"none\", \"TLSv1\", \"TLSv1.0\", \"TLSv1.1\", \"TLSv1.2\", \"TLSv1.3\""},
    {"bad min_tls new", "ports = (\n  { port = 587;\n    min_tls_version = \"TLSv1.4\"; }\n);\n", 3,
     "ports.min_tls_version"},
    {"duplicate port", "ports = (\n  { port = 587; },\n  { port = 25; },\n  { port = 587; }\n);\n",
     4, "port 587 is already configured by the ports entry at line 2"},
    {"duplicate name",
     "ports = (\n  { name = \"msa\"; },\n  {\n    port = 25;\n    name = \"msa\"; }\n);\n", 5,
     "name \"msa\" is already used by the ports entry at line 2"},
    {"no port no name", "ports = (\n  { port = 25; },\n  { role = \"submission\"; }\n);\n", 3,
     "neither port nor name"},
    {"port 0", "ports = (\n  { port = 0; }\n);\n", 2,
     "ports.port: 0 is out of range: use 1..65535"},
    {"port 65536", "ports = (\n  { port = 65536; }\n);\n", 2, "1..65535"},
    {"ports not list", "ports = {\n  port = 25;\n};\n", 1, "ports: must be a list of groups"},
    {"ports entry not group", "ports = (\n  { port = 25; },\n  \"587\" );\n", 3,
     "must be a list of groups"},
    {"label empty", "ports = (\n  { name = \"\"; }\n);\n", 2, "must not be empty"},
    {"label space", "ports = (\n  { name = \"my msa\"; }\n);\n", 2, "without spaces"},
    {"policyd relative", "policyd = {\n  listen = [ \"unix:portguard/policy\" ];\n};\n", 2,
     "policyd.listen: \"unix:portguard/policy\": the socket path must be absolute"},
    {"policyd no port",
     "policyd = {\n  listen = [\n    \"unix:/run/a\",\n    \"inet:localhost\" ];\n};\n", 4,
     "bad or missing host"},
    {"policyd bad port", "policyd = { listen = [ \"inet:127.0.0.1:99999\" ]; };\n", 1,
     "the port must be 1..65535"},
    {"policyd bad v6", "policyd = { listen = [ \"inet:[::g]:10040\" ]; };\n", 1,
     "bad IPv6 address"},
    {"policyd tcp", "policyd = { listen = [ \"tcp:10040\" ]; };\n", 1, "unknown socket type"},
    {"policyd twice",
     "policyd = { listen = [\n\"inet:127.0.0.1:10040\",\n\"inet:127.0.0.1:10040\" ]; };\n", 3,
     "listed twice"},
    {"policyd empty", "policyd = { listen = [ ]; };\n", 1, "at least one socket"},
    {"policyd string", "policyd = { listen = \"unix:/run/p\"; };\n", 1, "a list of strings"},
    {"milter relative", "milter = {\n  listen = \"unix:run/m\";\n};\n", 2, "must be absolute"},
    {"milter bad port", "milter = { listen = \"inet:99999@127.0.0.1\"; };\n", 1,
     "the port must be 1..65535: use unix:/path, local:/path, inet:port@host"},
    {"milter host no port", "milter = {\n  listen = \"inet:localhost\"; };\n", 2,
     "milter.listen: \"inet:localhost\": bad or missing host: use unix:/path, local:/path, "
     "inet:port@host, inet6:port@host, inet:host:port or inet:[ipv6-address]:port"},
    {"policyd twice spelled two ways",
     "policyd = { listen = [\n\"inet:127.0.0.1:10040\",\n\"inet:10040@127.0.0.1\" ]; };\n", 3,
     "policyd.listen: the same socket is listed twice"},
    {"policyd unix and local", "policyd = { listen = [ \"unix:/run/p\", \"local:/run/p\" ]; };\n",
     1, "listed twice"},
    {"milter bad host", "milter = { listen = \"inet6:9999@::g\"; };\n", 1, "bad host after '@'"},
    {"octal digits", "policyd = {\n  socket_mode = \"0968\";\n};\n", 2,
     "policyd.socket_mode: \"0968\" must be an octal file mode"},
    {"octal int", "milter = { socket_mode = 0660; };\n", 1, "(quoted, octal)"},
    {"octal setuid", "milter = { socket_mode = \"4755\"; };\n", 1, "up to 0777"},
    {"user empty", "user = \"\";\n", 1, "user: must be 1..63 characters long"},
    {"user bad", "user = \"port guard\";\n", 1, "may contain only letters"},
    {"group dash", "group = \"-mail\";\n", 1, "must not start with '-'"},
    {"reply code", "replies = {\n  cipher = \"630 5.7.0 Weak\";\n};\n", 2,
     "replies.cipher: the reply code 630 must be 4xx"},
    {"reply 2xx", "replies = { cipher = \"250 2.0.0 fine\"; };\n", 1, "must be 4xx"},
    {"reply short code", "replies = { cipher = \"53 5.7.0 x\"; };\n", 1, "3-digit reply code"},
    {"reply esc class", "replies = { cipher = \"530 4.7.0 Weak\"; };\n", 1,
     "must start with the reply code's first digit 5"},
    {"reply esc form", "replies = { cipher = \"530 5.7 Weak\"; };\n", 1, "d.ddd.ddd"},
    {"reply esc long", "replies = { cipher = \"530 5.7000.0 Weak\"; };\n", 1, "d.ddd.ddd"},
    {"reply no text", "replies = { cipher = \"530 5.7.0\"; };\n", 1, "d.ddd.ddd"},
    {"reply empty text", "replies = { cipher = \"530 5.7.0 \"; };\n", 1, "text"},
    {"reply crlf", "replies = { cipher = \"530 5.7.0 Weak\\r\\n250 ok\"; };\n", 1,
     "printable ASCII"},
    {"reply 8bit",
     "replies = { cipher = \"530 5.7.0 Schw\xc3\xa4"
     "che\"; };\n",
     1, "printable ASCII"},
    {"reply %r not relay", "replies = { cipher = \"530 5.7.0 <%r> weak\"; };\n", 1,
     "only in the relay reply"},
    {"reply %x", "replies = { tls_version = \"530 5.7.0 %x\"; };\n", 1, "%m"},
    {"reply int", "replies = { cipher = 530; };\n", 1, "replies.cipher: must be a string"},
    {"port reply",
     "ports = (\n  { port = 587;\n    replies = { auth_required = \"999 x\"; };\n  }\n);\n", 3,
     "ports.replies.auth_required: the reply code 999"},
    {"domain space",
     "relay = {\n  local_domains = [\n    \"example.org\",\n    \"exa mple.org\" ];\n};\n", 4,
     "relay.local_domains: bad character in domain \"exa mple.org\""},
    {"domain empty label", "relay = { local_domains = [ \"a..b\" ]; };\n", 1, "empty label"},
    {"domain dot", "relay = { local_domains = [ \".\" ]; };\n", 1, "empty domain"},
    {"domain literal", "relay = { local_domains = [ \"[999.1.1.1]\" ]; };\n", 1,
     "bad address literal"},
    {"domain int", "relay = { local_domains = [ 1, 2 ]; };\n", 1, "a list of strings"},
    {"domains file missing",
     "relay = {\n  local_domains_file = \"/nonexistent/portguard-domains\";\n};\n", 2,
     "relay.local_domains_file: cannot read \"/nonexistent/portguard-domains\": No such file"},
    {"net prefix",
     "relay = {\n  trusted_networks = [ \"10.0.0.0/8\",\n    \"10.0.0.0/33\" ];\n};\n", 3,
     "relay.trusted_networks: \"10.0.0.0/33\" is not an address or network"},
    {"net word", "relay = { trusted_networks = [ \"localhost\" ]; };\n", 1, "not an address"},
    {"cert", "relay = {\n  trusted_client_certs = [ \"xyz\" ];\n};\n", 2,
     "relay.trusted_client_certs: \"xyz\" is not a fingerprint"},
    {"cert short", "relay = { trusted_client_certs = [ \"AB:CD\" ]; };\n", 1, "not a fingerprint"},
    {"ciphers", "ports = (\n  { port = 587;\n    ciphers = \"NOSUCHCIPHER\"; }\n);\n", 3,
     "ports.ciphers: \"NOSUCHCIPHER\" matches no cipher"},
    {"suites",
     "ports = (\n  { port = 587;\n    ciphers = \"HIGH\";\n"
     "    tls13_ciphersuites = \"TLS_NOSUCH\"; }\n);\n",
     4, "ports.tls13_ciphersuites: \"TLS_NOSUCH\" matches no TLS 1.3 cipher suite"},
    {"ciphers int", "ports = (\n  { port = 587; ciphers = 1; }\n);\n", 2, "must be a string"},
    {"cipher bits", "ports = (\n  { port = 587; min_cipher_bits = 2048; }\n);\n", 2, "0..1024"},
    /* the whole wording of messages pinned above only in part */
    {"syntax hint", "log = {\n  level = ;\n};\n", 2,
     "syntax error (libconfig syntax: key = value; with groups { }, lists ( ) and arrays [ ])"},
    {"group as string", "log = \"mail\";\n", 1,
     "log: must be a group { key = value; ... }, not a string"},
    {"label empty whole", "ports = (\n  { name = \"\"; }\n);\n", 2,
     "ports.name: \"\": must not be empty (leave the key out instead)"},
    {"label space whole", "ports = ( { name = \"my msa\"; } );\n", 1,
     "ports.name: \"my msa\": may contain only printable ASCII characters without spaces"},
    {"reply empty text whole", "replies = { cipher = \"530 5.7.0 \"; };\n", 1,
     "replies.cipher: the reply text after the enhanced status code is empty"},
    {"reply esc form whole", "replies = { cipher = \"530 5.7 Weak\"; };\n", 1,
     "replies.cipher: the enhanced status code must look like 5.7.1 (d.ddd.ddd) and be "
     "followed by a space and text: write \"CODE ESC text\", e.g. \"530 5.7.0 Must issue a "
     "STARTTLS command first\""},
    {"reply esc class whole", "replies = { cipher = \"530 4.7.10 Weak\"; };\n", 1,
     "replies.cipher: the enhanced status code 4.7.10 must start with the reply code's first "
     "digit 5"},
    {"reply code whole", "replies = { cipher = \"53x 5.7.0 Weak\"; };\n", 1,
     "replies.cipher: must start with a 3-digit reply code and a space: write"},
    {"reply esc 4 digits", "replies = { cipher = \"530 5.7.1000 Weak\"; };\n", 1, "d.ddd.ddd"},
    {"reply esc no detail", "replies = { cipher = \"530 5.7. Weak\"; };\n", 1, "d.ddd.ddd"},
    {"reply esc 2-digit class", "replies = { cipher = \"530 55.7.0 Weak\"; };\n", 1, "d.ddd.ddd"},
    {"reply crlf whole", "replies = { cipher = \"530 5.7.0 a\\tb\"; };\n", 1,
     "replies.cipher: the reply text may contain only printable ASCII (no CR, LF, tabs or "
     "8-bit characters)"},
    {"reply %r whole", "replies = { cipher = \"530 5.7.0 <%r>\"; };\n", 1,
     "replies.cipher: %r (the recipient) is available only in the relay reply"},
    {"reply % at end", "replies = { relay = \"554 5.7.1 100%\"; };\n", 1,
     "replies.relay: unknown %-sequence in the reply text: use %m (minimum TLS version), %r "
     "(recipient, relay reply only) or %% (a percent sign)"},
    {"state_directory relative", "state_directory = \"run/pg\";\n", 1,
     "state_directory: \"run/pg\": must be an absolute path, or \"\""},
    {"state_directory control", "state_directory = \"/run/p\\tg\";\n", 1,
     "state_directory: must not contain control characters"},
    {"state_directory 161",
     "state_directory = \"/ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "dddd\";\n",
     1, "characters long; the limit is 160"},
    {"user dash whole", "user = \"-x\";\n", 1, "user: \"-x\": must not start with '-'"},
    {"user chars whole", "user = \"a b\";\n", 1,
     "user: \"a b\": may contain only letters, digits, '.', '_' and '-'"},
    /* two mistakes: the role is read first; entries are read in turn */
    {"role first", "ports = (\n  { port = 0;\n    role = \"mx\"; }\n);\n", 3,
     "ports.role: \"mx\" is not allowed"},
    {"entry before later element", "ports = (\n  { port = 0; },\n  \"587\" );\n", 2,
     "ports.port: 0 is out of range"},
};

START_TEST(test_error_at_line)
{
	char err[2048] = "";
	char want_prefix[32];
	struct pg_config *cfg = load_text(error_cases[_i].text, err, sizeof err);

	ck_assert_msg(cfg == NULL, "%s: loaded, want an error", error_cases[_i].name);
	snprintf(want_prefix, sizeof want_prefix, "F:%u: ", error_cases[_i].want_line);
	ck_assert_msg(strncmp(err, want_prefix, strlen(want_prefix)) == 0,
	              "%s: got \"%s\", want prefix \"%s\"", error_cases[_i].name, err, want_prefix);
	ck_assert_msg(strstr(err, error_cases[_i].want_msg) != NULL,
	              "%s: got \"%s\", want it to contain \"%s\"", error_cases[_i].name, err,
	              error_cases[_i].want_msg);
}
END_TEST

START_TEST(test_missing_file)
{
	char err[1024] = "";

	ck_assert_ptr_null(config_load("/nonexistent/portguard.conf", err, sizeof err));
	ck_assert_str_eq(err, "/nonexistent/portguard.conf: cannot read the configuration file: "
	                      "No such file or directory");
}
END_TEST

/* Values that must load (edges of the ranges and syntaxes). */
static const struct {
	const char *name;
	const char *text;
} good_cases[] = {
    {"idle 301", "policyd = { idle_timeout = 301; };"},
    {"stats 0", "log = { stats_interval = 0; };"},
    {"port 1 and 65535", "ports = ( { port = 1; }, { port = 65535; } );"},
    {"no ports", "ports = ( );"},
    {"v6 inet", "policyd = { listen = [ \"inet:[::1]:10040\", \"inet:127.0.0.1:10041\", "
                "\"inet:localhost:10042\", \"unix:/run/p\" ]; };"},
    {"milter inet", "milter = { listen = \"inet:9999@127.0.0.1\"; };"},
    {"milter inet no host", "milter = { listen = \"inet:9999\"; };"},
    {"milter inet6", "milter = { listen = \"inet6:9999@[::1]\"; };"},
    {"milter local", "milter = { listen = \"local:/run/m.sock\"; };"},
    /* both daemons read every spelling, as with -p */
    {"milter host:port", "milter = { listen = \"inet:127.0.0.1:9999\"; };"},
    {"milter [v6]:port", "milter = { listen = \"inet:[::1]:9999\"; };"},
    {"policyd libmilter spellings",
     "policyd = { listen = [ \"inet:10040@127.0.0.1\", \"inet6:10041@[::1]\", "
     "\"local:/run/p\" ]; };"},
    {"octal 3 digits", "milter = { socket_mode = \"600\"; };"},
    {"reply 4xx", "replies = { cipher = \"454 4.7.0 Try a better cipher, 100%% sure\"; };"},
    {"reply esc 3 digits",
     "replies = { plaintext_auth = \"538 5.7.11 x\"; relay = \"550 5.7.1 <%r> no\"; };"},
    {"name only", "ports = ( { name = \"msa\"; role = \"submission\"; } );"},
    {"port and name", "ports = ( { port = 587; name = \"submission/inet\"; } );"},
    {"min tls none", "ports = ( { port = 587; min_tls_version = \"none\"; } );"},
    {"min tls 1.0", "ports = ( { port = 587; min_tls_version = \"TLSv1.0\"; } );"},
    {"empty lists", "relay = { local_domains = [ ]; trusted_networks = [ ]; "
                    "trusted_client_certs = [ ]; };"},
    {"cert forms", "relay = { trusted_client_certs = [ "
                   "\"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\", "
                   "\"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\" ]; };"},
    {"facility local7", "log = { facility = \"local7\"; level = \"debug\"; };"},
    {"group", "group = \"postfix\"; user = \"pg_user-1.x\";"},
    {"state_directory 160",
     "state_directory = \"/ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "ddd\";"},
};

START_TEST(test_good_values)
{
	char err[2048] = "";
	struct pg_config *cfg = load_text(good_cases[_i].text, err, sizeof err);

	ck_assert_msg(cfg != NULL, "%s: %s", good_cases[_i].name, err);
	config_free(cfg);
}
END_TEST

/* The sockets are kept as written, counted, and read by daemon.c's parser. */
START_TEST(test_listen_kept)
{
	char err[2048] = "";
	struct pg_config *cfg = load_text(
	    "policyd = { listen = [ \"inet:10040@127.0.0.1\", \"unix:/run/p\", "
	    "\"inet:[::1]:10041\" ]; };\nmilter = { listen = \"inet:127.0.0.1:9999\"; };\n",
	    err, sizeof err);

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->policyd_nlisten, 3);
	ck_assert_str_eq(cfg->policyd_listen[0], "inet:10040@127.0.0.1");
	ck_assert_str_eq(cfg->policyd_listen[2], "inet:[::1]:10041");
	ck_assert_ptr_null(cfg->policyd_listen[3]);
	ck_assert_str_eq(cfg->milter_listen, "inet:127.0.0.1:9999");
	config_free(cfg);
}
END_TEST

/* ---- local domains ---- */

/* relay.origin_domain: unset by default, normalised like a local domain. */
START_TEST(test_origin_domain)
{
	char err[1024] = "";
	struct pg_config *cfg = load_text("", err, sizeof err);

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_ptr_null(cfg->relay.origin_domain);
	config_free(cfg);
	cfg = load_text("relay = { origin_domain = \"MX.Example.ORG.\"; };\n", err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->relay.origin_domain, "mx.example.org");
	config_free(cfg);
	cfg = load_text("relay = { origin_domain = \".example.org\"; };\n", err, sizeof err);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err, "relay.origin_domain") && strstr(err, "leading dot"), "%s", err);
	cfg = load_text("relay = { origin_domain = \"exa mple.org\"; };\n", err, sizeof err);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err, "bad character"), "%s", err);
}
END_TEST

START_TEST(test_local_domains)
{
	char err[2048] = "";
	char *file = pg_write_temp("# local domains\n\nMail.Test.   # trailing comment\n"
	                           "  .Sub.Test\n[192.0.2.1]\n");
	struct text t = {0};
	struct pg_config *cfg;

	text_add(&t,
	         "relay = {\n  local_domains = [ \"Example.ORG.\", \".example.NET\", "
	         "\"[IPv6:2001:DB8::1]\", \"example.org\" ];\n  local_domains_file = \"%s\";\n};\n",
	         file);
	cfg = load_text(t.s, err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	static const char *const want_exact[] = {"example.org", "[ipv6:2001:db8::1]", "mail.test",
	                                         "[192.0.2.1]"};
	static const char *const want_parents[] = {"example.net", "sub.test"};
	ck_assert_uint_eq(cfg->relay.domains.count, PG_ARRAY_LEN(want_exact));
	for (size_t i = 0; i < PG_ARRAY_LEN(want_exact); i++)
		ck_assert_msg(strset_contains(&cfg->relay.domains, want_exact[i]), "%s",
		              want_exact[i]);
	ck_assert_uint_eq(cfg->relay.parents.count, PG_ARRAY_LEN(want_parents));
	for (size_t i = 0; i < PG_ARRAY_LEN(want_parents); i++)
		ck_assert(strset_contains(&cfg->relay.parents, want_parents[i]));
	config_free(cfg);
	unlink(file);
	free(file);
	free(t.s);
}
END_TEST

START_TEST(test_local_domains_file_error_line)
{
	char err[2048] = "";
	char want[512];
	char *file = pg_write_temp("example.org\n# two\nbad..domain\nok.test\n");
	struct text t = {0};

	text_add(&t, "relay = {\n  local_domains_file = \"%s\";\n};\n", file);
	ck_assert_ptr_null(load_text(t.s, err, sizeof err));
	snprintf(want, sizeof want, "%s:3: empty label in domain \"bad..domain\"", file);
	ck_assert_str_eq(err, want);
	unlink(file);
	free(file);
	free(t.s);

	file = pg_write_temp("a.test\nb.test c.test\n");
	t = (struct text){0};
	text_add(&t, "relay = { local_domains_file = \"%s\"; };\n", file);
	ck_assert_ptr_null(load_text(t.s, err, sizeof err));
	snprintf(want, sizeof want, "%s:2: \"b.test c.test\": one domain per line", file);
	ck_assert_str_eq(err, want);
	unlink(file);
	free(file);
	free(t.s);
}
END_TEST

/* The file's own limits and refusals, each at its line: a line of 1023
 * bytes fits, 1024 does not; a NUL byte; an empty file name. */
START_TEST(test_local_domains_file_lines)
{
	static const struct {
		size_t comment;   /* bytes of "#xxx..." on line 2 */
		bool nul;         /* line 2 is "a\0b" instead */
		const char *want; /* NULL: loads */
	} cases[] = {
	    {1023, false, NULL},
	    {1024, false, ":2: line too long (one domain per line)"},
	    {0, true, ":2: NUL byte in line"},
	};
	char err[2048], want[512], tmpl[] = "/tmp/pg-unit-XXXXXX";
	struct text t = {0};
	int fd = mkstemp(tmpl);

	ck_assert_int_ge(fd, 0);
	close(fd);
	text_add(&t, "relay = { local_domains_file = \"%s\"; };\n", tmpl);
	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		FILE *fp = fopen(tmpl, "w");
		struct pg_config *cfg;
		ck_assert_ptr_nonnull(fp);
		fputs("a.test\n", fp);
		if (cases[i].nul)
			fwrite("a\0b\n", 1, 4, fp);
		for (size_t j = 0; j < cases[i].comment; j++)
			fputc(j == 0 ? '#' : 'x', fp);
		fputs("\nb.test\n", fp);
		fclose(fp);
		err[0] = '\0';
		cfg = load_text(t.s, err, sizeof err);
		if (cases[i].want == NULL) {
			ck_assert_msg(cfg != NULL, "%zu: %s", i, err);
			ck_assert(strset_contains(&cfg->relay.domains, "b.test"));
			config_free(cfg);
			continue;
		}
		ck_assert_ptr_null(cfg);
		snprintf(want, sizeof want, "%s%s", tmpl, cases[i].want);
		ck_assert_str_eq(err, want);
	}
	unlink(tmpl);
	free(t.s);
	ck_assert_ptr_null(
	    load_text("relay = {\n local_domains_file = \"\"; };\n", err, sizeof err));
	ck_assert_str_eq(err, "F:2: relay.local_domains_file: empty file name: remove the key or "
	                      "name a file");
}
END_TEST

/* ---- limits: fits, and one over ---- */

static void limit_case(const char *what, const struct text *t, bool want_ok, const char *want_msg)
{
	char err[2048] = "";
	struct pg_config *cfg = load_text(t->s, err, sizeof err);

	if (want_ok) {
		ck_assert_msg(cfg != NULL, "%s: %s", what, err);
		config_free(cfg);
		return;
	}
	ck_assert_msg(cfg == NULL, "%s: loaded, want an error", what);
	ck_assert_msg(strstr(err, want_msg) != NULL, "%s: got \"%s\", want \"%s\"", what, err,
	              want_msg);
}

START_TEST(test_limit_ports)
{
	for (int extra = 0; extra <= 1; extra++) {
		struct text t = {0};
		char want[64];
		text_add(&t, "ports = (\n");
		for (int i = 0; i < PG_MAX_PORTS + extra; i++)
			text_add(&t, "  { port = %d; }%s\n", 10000 + i,
			         i + 1 < PG_MAX_PORTS + extra ? "," : "");
		text_add(&t, ");\n");
		/* entry N is on line N + 1 */
		snprintf(want, sizeof want, "F:%d: ports: more than %d entries", PG_MAX_PORTS + 2,
		         PG_MAX_PORTS);
		limit_case("ports", &t, extra == 0, want);
		free(t.s);
	}
}
END_TEST

START_TEST(test_limit_listen)
{
	for (int extra = 0; extra <= 1; extra++) {
		struct text t = {0};
		text_add(&t, "policyd = { listen = [");
		for (int i = 0; i < PG_MAX_LISTEN + extra; i++)
			text_add(&t, "%s\"inet:127.0.0.1:%d\"", i ? ", " : " ", 20000 + i);
		text_add(&t, " ]; };\n");
		limit_case("listen", &t, extra == 0, "policyd.listen: more than 16 entries");
		free(t.s);
	}
}
END_TEST

START_TEST(test_limit_label)
{
	for (int extra = 0; extra <= 1; extra++) {
		struct text t = {0};
		char *label = repeat('l', PG_MAX_LABEL + (size_t)extra);
		text_add(&t, "ports = ( { name = \"%s\"; } );\n", label);
		limit_case("label", &t, extra == 0, "characters long; the limit is 63");
		if (extra == 0) {
			char err[256];
			struct pg_config *cfg = load_text(t.s, err, sizeof err);
			ck_assert_str_eq(cfg->ports[0].name, label);
			config_free(cfg);
		}
		free(label);
		free(t.s);
	}
}
END_TEST

START_TEST(test_limit_reply_text)
{
	const size_t max = sizeof(((struct pg_reply *)0)->text) - 1;

	for (int extra = 0; extra <= 1; extra++) {
		struct text t = {0};
		char *text = repeat('x', max + (size_t)extra);
		text_add(&t, "replies = { relay = \"554 5.7.1 %s\"; };\n", text);
		limit_case("reply", &t, extra == 0,
		           "the reply text is 256 characters long; the limit is 255");
		free(text);
		free(t.s);
	}
}
END_TEST

START_TEST(test_limit_domain)
{
	for (int extra = 0; extra <= 1; extra++) {
		struct text t = {0};
		/* 63 + 1 + 63 + 1 + 63 + 1 + 63 = 255 characters */
		char *label = repeat('d', 63);
		text_add(&t, "relay = { local_domains = [ \"%s.%s.%s.%s%s\" ]; };\n", label, label,
		         label, label, extra ? "d" : "");
		limit_case("domain", &t, extra == 0, "longer than 255 characters");
		free(label);
		free(t.s);
	}
}
END_TEST

START_TEST(test_limit_trusted_nets)
{
	for (int extra = 0; extra <= 1; extra++) {
		FILE *fp;
		char tmpl[] = "/tmp/pg-unit-XXXXXX", want[80];
		int fd = mkstemp(tmpl);
		struct text t = {0};
		ck_assert_int_ge(fd, 0);
		fp = fdopen(fd, "w");
		/* one from the list, the rest from the file, IPv4 and IPv6 mixed:
		 * every eighth an IPv6 /64 */
		for (int i = 1; i < PG_MAX_TRUSTED_NETS + extra; i++)
			if (i % 8 == 7)
				fprintf(fp, "2001:db8:%x:%x::/64\n", i >> 16, i & 0xffff);
			else
				fprintf(fp, "10.%d.%d.%d\n", i >> 16, (i >> 8) & 0xff, i & 0xff);
		fclose(fp);
		text_add(&t,
		         "relay = { trusted_networks = [ \"10.0.0.0\" ]; trusted_networks_file = "
		         "\"%s\"; };\n",
		         tmpl);
		snprintf(want, sizeof want, "more than %d trusted networks", PG_MAX_TRUSTED_NETS);
		limit_case("nets", &t, extra == 0, want);
		unlink(tmpl);
		free(t.s);
	}
}
END_TEST

/* trusted_networks_file: one network per line, '#' comments, a bad line
 * named by file and line, the networks used alongside the list's. */
START_TEST(test_nets_file)
{
	char *file = pg_write_temp("# ours\n192.0.2.0/24\n\n  2001:db8::/32  # v6\n"),
	     *bad = pg_write_temp("192.0.2.0/24\n192.0.2.0/33\n"), conf[256], err[2048] = "",
	     want[300];
	struct pg_config *cfg;

	snprintf(conf, sizeof conf, "relay = { trusted_networks_file = \"%s\"; };\n", file);
	cfg = load_text(conf, err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->relay.nnets, 2 + 2); /* the default two and the file's two */
	ck_assert(relay_client_trusted(&cfg->relay, "192.0.2.77"));
	ck_assert(relay_client_trusted(&cfg->relay, "2001:db8:5::1"));
	ck_assert(relay_client_trusted(&cfg->relay, "127.0.0.1"));
	ck_assert(!relay_client_trusted(&cfg->relay, "198.51.100.1"));
	config_free(cfg);
	snprintf(conf, sizeof conf, "relay = { trusted_networks_file = \"%s\"; };\n", bad);
	ck_assert_ptr_null(load_text(conf, err, sizeof err));
	snprintf(want, sizeof want, "%s:2: \"192.0.2.0/33\" is not an address or network", bad);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	snprintf(conf, sizeof conf,
	         "relay = {\n  trusted_networks_file = \"/nonexistent/nets\";\n};\n");
	ck_assert_ptr_null(load_text(conf, err, sizeof err));
	ck_assert_msg(strstr(err, "F:2: relay.trusted_networks_file: cannot read "
	                          "\"/nonexistent/nets\": No such file or directory; create the "
	                          "file (one network per line) or remove the key") != NULL,
	              "%s", err);
	unlink(file);
	unlink(bad);
	free(file);
	free(bad);
}
END_TEST

START_TEST(test_limit_trusted_certs)
{
	for (int extra = 0; extra <= 1; extra++) {
		struct text t = {0};
		text_add(&t, "relay = { trusted_client_certs = [");
		for (int i = 0; i < PG_MAX_TRUSTED_CERTS + extra; i++)
			text_add(&t, "%s\"%064x\"", i ? ",\n" : " ", i);
		char want[80];
		text_add(&t, " ]; };\n");
		snprintf(want, sizeof want, "relay.trusted_client_certs: more than %d entries",
		         PG_MAX_TRUSTED_CERTS);
		limit_case("certs", &t, extra == 0, want);
		free(t.s);
	}
}
END_TEST

START_TEST(test_limit_local_domains)
{
	for (int extra = 0; extra <= 1; extra++) {
		FILE *fp;
		char tmpl[] = "/tmp/pg-unit-XXXXXX";
		int fd = mkstemp(tmpl);
		struct text t = {0};
		ck_assert_int_ge(fd, 0);
		fp = fdopen(fd, "w");
		/* one from the list, the rest from the file */
		for (int i = 1; i < PG_MAX_LOCAL_DOMAINS + extra; i++)
			fprintf(fp, "d%d.test\n", i);
		fclose(fp);
		text_add(
		    &t,
		    "relay = { local_domains = [ \"d0.test\" ]; local_domains_file = \"%s\"; };\n",
		    tmpl);
		char want[80];
		snprintf(want, sizeof want, "more than %d local domains", PG_MAX_LOCAL_DOMAINS);
		limit_case("local domains", &t, extra == 0, want);
		unlink(tmpl);
		free(t.s);
	}
}
END_TEST

/* ---- ports: inheritance, ciphers, lookup ---- */

START_TEST(test_port_inheritance)
{
	static const char text[] =
	    "mode = \"monitor\";\n"
	    "default_role = \"submission\";\n"
	    "replies = { cipher = \"454 4.7.0 Cipher too weak\"; tls_version = \"530 5.7.0 Need "
	    "%m\"; };\n"
	    "ports = (\n"
	    "  { port = 25; role = \"relay\"; mode = \"enforce\"; auth = \"forbidden\";\n"
	    "    replies = { cipher = \"554 5.7.0 Weak cipher on 25\"; }; },\n"
	    "  { port = 10587; min_cipher_bits = 128; allow_plaintext_auth = true; }\n"
	    ");\n";
	char err[1024] = "";
	struct pg_config *cfg = load_text(text, err, sizeof err);
	const struct pg_port *mx, *sub;

	ck_assert_msg(cfg != NULL, "%s", err);
	mx = &cfg->ports[0];
	sub = &cfg->ports[1];
	ck_assert_int_eq(mx->role, PG_ROLE_RELAY);
	ck_assert_int_eq(mx->mode, PG_MODE_ENFORCE);
	ck_assert_int_eq(mx->auth, PG_AUTH_FORBIDDEN);
	ck_assert_uint_eq(mx->replies[PG_RULE_CIPHER].code, 554);
	ck_assert_str_eq(mx->replies[PG_RULE_CIPHER].text, "Weak cipher on 25");
	ck_assert_str_eq(mx->replies[PG_RULE_TLS_VERSION].text, "Need %m");
	ck_assert_str_eq(mx->replies[PG_RULE_RELAY].text, "Relay access denied");
	ck_assert_uint_eq(mx->line, 5);
	/* no role: default_role; no mode: the global mode */
	ck_assert_int_eq(sub->role, PG_ROLE_SUBMISSION);
	ck_assert_int_eq(sub->mode, PG_MODE_MONITOR);
	ck_assert_int_eq(sub->tls, PG_TLS_STARTTLS);
	ck_assert_int_eq(sub->auth, PG_AUTH_REQUIRED);
	ck_assert_int_eq(sub->min_tls, PG_TLS_V1_2);
	ck_assert_uint_eq(sub->min_cipher_bits, 128);
	ck_assert(sub->allow_plaintext_auth);
	ck_assert_uint_eq(sub->replies[PG_RULE_CIPHER].code, 454);
	ck_assert_str_eq(sub->replies[PG_RULE_CIPHER].esc, "4.7.0");
	/* the default entry: default_role with the global mode and replies */
	ck_assert_int_eq(cfg->default_port.role, PG_ROLE_SUBMISSION);
	ck_assert_int_eq(cfg->default_port.mode, PG_MODE_MONITOR);
	ck_assert_str_eq(cfg->default_port.replies[PG_RULE_CIPHER].text, "Cipher too weak");
	config_free(cfg);
}
END_TEST

START_TEST(test_cipher_expansion)
{
	static const struct {
		const char *name;
		const char *keys;
		const char *const want_in[3];
		const char *const want_out[3];
	} cases[] = {
	    {"ECDHE+AESGCM",
	     "ciphers = \"ECDHE+AESGCM\";",
	     {"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
	      "TLS_AES_256_GCM_SHA384"},
	     {"AES256-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-RSA-CHACHA20-POLY1305"}},
	    {"TLS 1.3 only",
	     "tls13_ciphersuites = \"TLS_AES_128_GCM_SHA256\";",
	     {"TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES256-GCM-SHA384", NULL},
	     {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", NULL}},
	    {"both",
	     "ciphers = \"ECDHE-RSA-AES256-GCM-SHA384\"; "
	     "tls13_ciphersuites = \"TLS_AES_256_GCM_SHA384\";",
	     {"ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384", NULL},
	     {"ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256", NULL}},
	};

	for (size_t c = 0; c < PG_ARRAY_LEN(cases); c++) {
		struct text t = {0};
		char err[1024] = "";
		struct pg_config *cfg;
		text_add(&t, "ports = ( { port = 587; %s }, { port = 25; } );\n", cases[c].keys);
		cfg = load_text(t.s, err, sizeof err);
		ck_assert_msg(cfg != NULL, "%s: %s", cases[c].name, err);
		ck_assert(cfg->ports[0].restrict_ciphers);
		ck_assert(!cfg->ports[1].restrict_ciphers);
		ck_assert_uint_eq(cfg->ports[1].ciphers.count, 0);
		for (size_t i = 0; i < 3 && cases[c].want_in[i] != NULL; i++)
			ck_assert_msg(strset_contains(&cfg->ports[0].ciphers, cases[c].want_in[i]),
			              "%s: want %s", cases[c].name, cases[c].want_in[i]);
		for (size_t i = 0; i < 3 && cases[c].want_out[i] != NULL; i++)
			ck_assert_msg(
			    !strset_contains(&cfg->ports[0].ciphers, cases[c].want_out[i]),
			    "%s: do not want %s", cases[c].name, cases[c].want_out[i]);
		config_free(cfg);
		free(t.s);
	}
}
END_TEST

START_TEST(test_port_lookup)
{
	static const char text[] =
	    "ports = (\n"
	    "  { port = 25; },\n"
	    "  { port = 587; name = \"submission\"; role = \"submission\"; },\n"
	    "  { name = \"msa\"; role = \"submission\"; tls = \"implicit\"; },\n"
	    "  { port = 2525; role = \"submission\"; }\n"
	    ");\n";
	static const struct {
		unsigned port;
		const char *label;
		unsigned want_line; /* 0: the default entry */
		bool want_known;
	} cases[] = {
	    {25, NULL, 2, true},           {587, "", 3, true},       {0, "submission", 3, true},
	    {0, "msa", 4, true},           {25, "msa", 4, true}, /* the label wins over the number
	                                                          */
	    {2525, "submission", 3, true}, {2525, "smtpd", 5, true}, /* unknown label: the number
	                                                                decides */
	    {10025, NULL, 0, false},       {0, "nosuch", 0, false},  {0, NULL, 0, false},
	};
	char err[1024] = "";
	struct pg_config *cfg = load_text(text, err, sizeof err);

	ck_assert_msg(cfg != NULL, "%s", err);
	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		bool got_known = !cases[i].want_known;
		const struct pg_port *got =
		    config_port_lookup(cfg, cases[i].port, cases[i].label, &got_known);
		ck_assert_msg(got->line == cases[i].want_line, "case %zu: got line %u, want %u", i,
		              got->line, cases[i].want_line);
		ck_assert_msg(got_known == cases[i].want_known, "case %zu: known", i);
		if (!cases[i].want_known)
			ck_assert_ptr_eq(got, &cfg->default_port);
	}
	ck_assert_ptr_eq(config_port_lookup(cfg, 10025, NULL, NULL), &cfg->default_port);
	config_free(cfg);
}
END_TEST

/* ---- life cycle ---- */

START_TEST(test_retain_release)
{
	char err[256];
	struct pg_config *cfg = load_text("", err, sizeof err);

	ck_assert_uint_eq(cfg->refs, 1);
	ck_assert_ptr_eq(config_retain(cfg), cfg);
	ck_assert_ptr_eq(config_retain(cfg), cfg);
	ck_assert_uint_eq(cfg->refs, 3);
	config_release(cfg);
	config_release(cfg);
	ck_assert_uint_eq(cfg->refs, 1);
	config_release(cfg); /* frees: the sanitizer reports a leak or double free */
	config_release(NULL);
}
END_TEST

static bool ignore_milter_keys(const char *key, void *arg)
{
	(void)arg;
	return strncmp(key, "milter.", 7) == 0;
}

START_TEST(test_restart_needed)
{
	static const struct {
		const char *text;
		const char *want; /* NULL: the reload applies everything */
	} cases[] = {
	    {"", NULL},
	    {"mode = \"monitor\"; log = { level = \"info\"; facility = \"local3\"; };", NULL},
	    {"policyd = { idle_timeout = 900; max_connections = 10; };", NULL},
	    {"ports = ( { port = 25; } ); relay = { local_domains = [ \"a.test\" ]; };", NULL},
	    {"policyd = { listen = [ \"unix:/run/pg/policy\" ]; };", "policyd.listen"},
	    {"policyd = { socket_mode = \"0666\"; };", "policyd.socket_mode"},
	    {"milter = { listen = \"inet:9999@127.0.0.1\"; };", "milter.listen"},
	    {"milter = { socket_mode = \"0600\"; };", "milter.socket_mode"},
	    {"milter = { timeout = 60; };", "milter.timeout"},
	    {"user = \"nobody\";", "user"},
	    {"group = \"postfix\";", "group"},
	    {"allow_root = true;", "allow_root"},
	};
	char err[1024] = "";
	char got[256];
	struct pg_config *old = load_text("", err, sizeof err);

	ck_assert_ptr_nonnull(old);
	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		struct pg_config *new = load_text(cases[i].text, err, sizeof err);
		ck_assert_msg(new != NULL, "%s", err);
		size_t n = config_restart_needed(old, new, NULL, NULL, got, sizeof got);
		if (cases[i].want == NULL)
			ck_assert_msg(n == 0 && got[0] == '\0', "case %zu: got %s", i, got);
		else
			ck_assert_msg(n == 1 && strcmp(got, cases[i].want) == 0,
			              "case %zu: got %zu: %s, want %s", i, n, got, cases[i].want);
		config_free(new);
	}

	/* Several at once: every one named, in schema order; ignored ones left out. */
	struct pg_config *many = load_text("user = \"nobody\"; group = \"postfix\";\n"
	                                   "policyd = { socket_mode = \"0666\"; };\n"
	                                   "milter = { timeout = 60; };\n",
	                                   err, sizeof err);
	ck_assert_msg(many != NULL, "%s", err);
	ck_assert_uint_eq(config_restart_needed(old, many, NULL, NULL, got, sizeof got), 4);
	ck_assert_str_eq(got, "user, group, policyd.socket_mode, milter.timeout");
	ck_assert_uint_eq(
	    config_restart_needed(old, many, ignore_milter_keys, NULL, got, sizeof got), 3);
	ck_assert_str_eq(got, "user, group, policyd.socket_mode");
	/* A buffer too small is cut visibly, never overrun. */
	char tiny[12];
	ck_assert_uint_ge(config_restart_needed(old, many, NULL, NULL, tiny, sizeof tiny), 2);
	ck_assert_str_eq(tiny, "user, gr...");
	config_free(many);
	config_free(old);
}
END_TEST

/* The version names Postfix and Sendmail report, and near misses. */
START_TEST(test_tls_version_parse)
{
	static const struct {
		const char *in;
		enum pg_tls_version want;
	} cases[] = {
	    {NULL, PG_TLS_NONE},          {"", PG_TLS_NONE},
	    {"SSLv3", PG_TLS_SSLV3},      {"TLSv1", PG_TLS_V1_0},
	    {"TLSv1.0", PG_TLS_V1_0},     {"TLSv1.1", PG_TLS_V1_1},
	    {"TLSv1.2", PG_TLS_V1_2},     {"TLSv1.3", PG_TLS_V1_3},
	    {"TLSv1.4", PG_TLS_UNKNOWN},  {"TLSv1.", PG_TLS_UNKNOWN},
	    {"TLSv1.22", PG_TLS_UNKNOWN}, {"TLSv12", PG_TLS_UNKNOWN},
	    {"tlsv1.2", PG_TLS_UNKNOWN},  {"SSLv2", PG_TLS_UNKNOWN},
	    {"SSLv3x", PG_TLS_UNKNOWN},   {"TLSv1.2 ", PG_TLS_UNKNOWN},
	    {"TLSv", PG_TLS_UNKNOWN},     {"TLS", PG_TLS_UNKNOWN},
	};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++)
		ck_assert_msg(tls_version_parse(cases[i].in) == cases[i].want,
		              "tls_version_parse(\"%s\")",
		              cases[i].in != NULL ? cases[i].in : "(null)");
	/* every name printed parses back to its version */
	for (int v = PG_TLS_SSLV3; v <= PG_TLS_V1_3; v++)
		ck_assert_int_eq(tls_version_parse(tls_version_name((enum pg_tls_version)v)), v);
}
END_TEST

START_TEST(test_include_relative)
{
	char dir[] = "/tmp/pg-unit-dir-XXXXXX";
	char main_path[256], inc_path[256], err[1024] = "";
	FILE *fp;
	struct pg_config *cfg;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(main_path, sizeof main_path, "%s/portguard.conf", dir);
	snprintf(inc_path, sizeof inc_path, "%s/ports.conf", dir);
	fp = fopen(inc_path, "w");
	fputs("ports = (\n  { port = 587; tls = \"bogus\"; }\n);\n", fp);
	fclose(fp);
	fp = fopen(main_path, "w");
	fputs("mode = \"monitor\";\n@include \"ports.conf\"\n", fp);
	fclose(fp);
	ck_assert_ptr_null(config_load(main_path, err, sizeof err));
	/* the error names the included file and its line */
	ck_assert_msg(strstr(err, "ports.conf:2: ports.tls: \"bogus\"") != NULL, "%s", err);
	fp = fopen(inc_path, "w");
	fputs("ports = ( { port = 587; } );\n", fp);
	fclose(fp);
	cfg = config_load(main_path, err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->nports, 1);
	config_free(cfg);
	unlink(inc_path);
	unlink(main_path);
	rmdir(dir);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty_file_gives_defaults);
	tcase_add_test(tc, test_sample_loads_and_equals_defaults);
	tcase_add_test(tc, test_every_key_documented);
	tcase_add_test(tc, test_schema_rows);
	tcase_add_test(tc, test_schema_defaults);
	tcase_add_test(tc, test_role_defaults);
	tcase_add_test(tc, test_word_lists);
	tcase_add_test(tc, test_rule_words);
	tcase_add_test(tc, test_bounds_integers);
	tcase_add_test(tc, test_bounds_lengths);
	tcase_add_test(tc, test_bounds_counts);
	tcase_add_loop_test(tc, test_error_at_line, 0, (int)PG_ARRAY_LEN(error_cases));
	tcase_add_test(tc, test_missing_file);
	tcase_add_loop_test(tc, test_good_values, 0, (int)PG_ARRAY_LEN(good_cases));
	tcase_add_test(tc, test_listen_kept);
	tcase_add_test(tc, test_local_domains);
	tcase_add_test(tc, test_origin_domain);
	tcase_add_test(tc, test_local_domains_file_error_line);
	tcase_add_test(tc, test_local_domains_file_lines);
	tcase_add_test(tc, test_limit_ports);
	tcase_add_test(tc, test_limit_listen);
	tcase_add_test(tc, test_limit_label);
	tcase_add_test(tc, test_limit_reply_text);
	tcase_add_test(tc, test_limit_domain);
	tcase_add_test(tc, test_limit_trusted_nets);
	tcase_add_test(tc, test_nets_file);
	tcase_add_test(tc, test_limit_trusted_certs);
	tcase_add_test(tc, test_limit_local_domains);
	tcase_add_test(tc, test_port_inheritance);
	tcase_add_test(tc, test_cipher_expansion);
	tcase_add_test(tc, test_port_lookup);
	tcase_add_test(tc, test_retain_release);
	tcase_add_test(tc, test_restart_needed);
	tcase_add_test(tc, test_include_relative);
	tcase_add_test(tc, test_tls_version_parse);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(config_suite)
