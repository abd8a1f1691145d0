/*
 * config.c - portguard.conf: the one table of every key and the words of
 * each enum, the walk that reads a file with it, and the life cycle of the
 * result (free, retain/release, port lookup, what a reload cannot apply).
 *
 * A row holds a key's dotted name, its kind (see config_schema.h), its
 * default as libconfig value text (read by the same code as the file; a
 * ports row may have one per role), its limits, its field or check, and
 * whether only a restart applies it. Key names appear as string literals
 * nowhere else. Reading a group first rejects keys that are no row of it
 * (with a suggestion), then reads the rows present, then the defaults of the
 * others, then its lists of entries (ports), which start from mode,
 * default_role and replies (SPEC's, policy.c's, at the top): no result
 * depends on the order of the rows. An entry's cipher strings are expanded by
 * policy.c once it is read; once all is, the MTA's facts are merged
 * (mtafacts.c) and relay.c indexes its lists. The first error stops the load;
 * nothing global changes.
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config_schema.h"
#include "mtafacts.h"
#include "policy.h"
#include "relay.h"

/* The words of each enum, for the config and the logs alike: a name can
 * never differ between what is read and what is logged. */
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
const struct config_word config_tls_version_words[] = {
    {"none", PG_TLS_NONE},       {"SSLv3", PG_TLS_SSLV3},
    {"TLSv1", PG_TLS_V1_0},      {"TLSv1.1", PG_TLS_V1_1},
    {"TLSv1.2", PG_TLS_V1_2},    {"TLSv1.3", PG_TLS_V1_3},
    {"unknown", PG_TLS_UNKNOWN}, {NULL, 0},
};
static const struct config_word onerr_words[] = {
    {"tempfail", PG_ONERR_TEMPFAIL}, {"accept", PG_ONERR_ACCEPT}, {NULL, 0}};
static const struct config_word facility_words[] = {
    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}, {NULL, 0},
};
static const struct config_word level_words[] = {
    {"err", LOG_ERR},   {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
    {"info", LOG_INFO}, {"debug", LOG_DEBUG},     {NULL, 0},
};
static const struct config_word from_mta_words[] = {{"none", PG_MTA_NONE},
                                                    {"postfix", PG_MTA_POSTFIX},
                                                    {"sendmail", PG_MTA_SENDMAIL},
                                                    {"auto", PG_MTA_AUTO},
                                                    {NULL, 0}};
static const struct config_word min_tls_words[] = {
    {"none", PG_TLS_NONE},
    {"TLSv1", PG_TLS_V1_0},
    {"TLSv1.0", PG_TLS_V1_0},
    {"TLSv1.1", PG_TLS_V1_1},
    {"TLSv1.2", PG_TLS_V1_2},
    {"TLSv1.3", PG_TLS_V1_3},
    {NULL, 0},
};

#define Q(s)    "\"" s "\""
#define CFG(f)  .off = offsetof(struct pg_config, f), .size = sizeof(((struct pg_config *)0)->f)
#define PORT(f) .off = offsetof(struct pg_port, f), .size = sizeof(((struct pg_port *)0)->f)
#define GROUP   .kind = K_GROUP, .def = "{ }" /* all its rows' defaults */
#define ROLE(relay, submission)                                                                    \
	.role_def = {[PG_ROLE_RELAY] = Q(relay), [PG_ROLE_SUBMISSION] = Q(submission)}

/* A reply row for each rule word: the top-level ones start from SPEC's
 * replies, a ports entry's from the top-level ones. */
#define TOP_REPLY(rule, word)  {"replies." word, K_REPLY, CFG(default_port.replies[rule])},
#define PORT_REPLY(rule, word) {"ports.replies." word, K_REPLY, PORT(replies[rule])},

/* SPEC's four entries: the ports when the file has none. */
#define DEFAULT_PORTS                                                                              \
	"( { port = 25; role = \"relay\"; }, { port = 587; role = \"submission\"; },"              \
	"  { port = 465; role = \"submission\"; tls = \"implicit\"; },"                            \
	"  { port = 2525; role = \"submission\"; } )"

/*
 * The schema. Rows without a default start as zero ("" / none), except the
 * role, mode and replies of a ports entry, which start from default_role,
 * mode and replies. The order of rows is the order of keys in messages.
 */
const struct config_key config_schema[] = {
    {"mode", K_WORD, Q("enforce"), .words = config_mode_words, CFG(mode)},
    {"on_error", K_WORD, Q("tempfail"), .words = onerr_words, CFG(on_error)},
    {"default_role", K_WORD, Q("relay"), .words = config_role_words, CFG(default_role)},
    {"replies", K_REPLIES, .def = "{ }"},
    PG_RULE_WORDS(TOP_REPLY){"log", GROUP},
    {"log.facility", K_WORD, Q("mail"), .words = facility_words, CFG(log_facility)},
    {"log.level", K_WORD, Q("notice"), .words = level_words, CFG(log_level)},
    {"log.stats_interval", K_UINT, "3600", .min = 0, .max = 604800, CFG(stats_interval),
     .hint = "seconds; 0 turns the timer off"},
    {"relay", GROUP},
    {"relay.local_domains", K_STRINGS, "[ ]", .max = PG_MAX_CONFIG_LIST,
     .check = config_add_domains},
    {"relay.local_domains_file", K_STRING, NULL, .check = config_add_domains},
    {"relay.trusted_networks", K_STRINGS, "[ " Q("127.0.0.0/8") ", " Q("::1/128") " ]",
     .max = PG_MAX_CONFIG_LIST, .check = config_add_nets},
    {"relay.trusted_networks_file", K_STRING, NULL, .check = config_add_nets},
    {"relay.trusted_client_certs", K_STRINGS, "[ ]", .max = PG_MAX_TRUSTED_CERTS,
     .check = config_add_cert},
    {"relay.authenticated_may_relay", K_BOOL, "true", CFG(relay.authenticated_may_relay)},
    {"relay.from_mta", K_WORD, Q("none"), .words = from_mta_words, CFG(relay.from_mta)},
    {"relay.postfix_config_directory", K_STRING, Q("/etc/postfix"), CFG(relay.postfix_dir),
     .check = mtafacts_set_path},
    {"relay.sendmail_cf", K_STRING, Q("/etc/mail/sendmail.cf"), CFG(relay.sendmail_cf),
     .check = mtafacts_set_path},
    {"relay.origin_domain", K_STRING, NULL, CFG(relay.origin_domain), .heap = true,
     .check = config_set_origin},
    {"user", K_STRING, Q("portguard"), .min = 1, .max = 63, CFG(user), .check = config_set_account,
     .start_only = true},
    {"group", K_STRING, Q(""), .min = 0, .max = 63, CFG(group), .check = config_set_account,
     .start_only = true},
    {"allow_root", K_BOOL, "false", CFG(allow_root), .start_only = true},
    {"state_directory", K_STRING, Q("/run/portguard"), .max = 160, CFG(state_directory),
     .check = config_set_directory, .start_only = true},
    {"metrics_file", K_STRING, Q(""), .max = 160, CFG(metrics_file), .check = config_set_directory},
    {"metrics_interval", K_UINT, "60", .min = 1, .max = 86400, CFG(metrics_interval),
     .hint = "seconds between writes of metrics_file"},
    {"policyd", GROUP},
    {"policyd.listen", K_STRINGS, "[ " Q("unix:/var/spool/postfix/portguard/policy") " ]", .min = 1,
     .max = PG_MAX_LISTEN, CFG(policyd_listen), .heap = true, .check = config_add_socket,
     .start_only = true, .hint = "socket"},
    {"policyd.socket_mode", K_OCTAL, Q("0660"), .max = 0777, CFG(policyd_socket_mode),
     .start_only = true},
    {"policyd.idle_timeout", K_UINT, "600", .min = 301, .max = 86400, CFG(policyd_idle_timeout),
     .hint = "seconds; must exceed Postfix's max_idle (300 s) or Postfix sees closed connections"},
    {"policyd.max_connections", K_UINT, "1024", .min = 1, .max = 65536,
     CFG(policyd_max_connections)},
    {"policyd.request_timeout", K_UINT, "10", .min = 1, .max = 300, CFG(policyd_request_timeout),
     .hint = "seconds from a request's first byte to its end; Postfix sends one in one write"},
    {"policyd.max_connections_per_peer", K_UINT, "0", .min = 0, .max = 65536,
     CFG(policyd_max_connections_per_peer), .hint = "from one inet client address; 0: no limit"},
    {"milter", GROUP},
    {"milter.listen", K_STRING, Q("unix:/var/spool/postfix/portguard/milter"), CFG(milter_listen),
     .heap = true, .check = config_add_socket, .start_only = true},
    {"milter.socket_mode", K_OCTAL, Q("0660"), .max = 0777, CFG(milter_socket_mode),
     .start_only = true},
    {"milter.timeout", K_UINT, "30", .min = 1, .max = 3600, CFG(milter_timeout), .start_only = true,
     .hint = "seconds"},
    {"ports", K_ENTRIES, DEFAULT_PORTS, .max = PG_MAX_PORTS},
    {"ports.port", K_UINT, NULL, .min = 1, .max = 65535, PORT(port)},
    {"ports.name", K_STRING, NULL, .max = PG_MAX_LABEL, PORT(name), .check = config_set_label},
    {"ports.role", K_WORD, NULL, .words = config_role_words, PORT(role)},
    {"ports.mode", K_WORD, NULL, .words = config_mode_words, PORT(mode)},
    {"ports.tls", K_WORD, NULL, ROLE("optional", "starttls"), .words = config_tls_words, PORT(tls)},
    {"ports.auth", K_WORD, NULL, ROLE("optional", "required"), .words = config_auth_words,
     PORT(auth)},
    {"ports.min_tls_version", K_WORD, NULL, ROLE("none", "TLSv1.2"), .words = min_tls_words,
     PORT(min_tls)},
    {"ports.ciphers", K_STRING, NULL, .check = config_keep_ciphers},
    {"ports.tls13_ciphersuites", K_STRING, NULL, .check = config_keep_suites},
    {"ports.min_cipher_bits", K_UINT, "0", .min = 0, .max = 1024, PORT(min_cipher_bits),
     .hint = "0 means no minimum"},
    {"ports.allow_plaintext_auth", K_BOOL, "false", PORT(allow_plaintext_auth)},
    {"ports.replies", K_REPLIES, .def = "{ }"},
    PG_RULE_WORDS(PORT_REPLY)};
#define NKEYS (sizeof config_schema / sizeof config_schema[0])
const size_t config_schema_count = NKEYS;

/* What each kind accepts, and how a wrong type is named. */
static const struct {
	int type;
	const char *want;
} kinds[] = {
    [K_GROUP] = {CONFIG_TYPE_GROUP, "a group { key = value; ... }"},
    [K_ENTRIES] = {CONFIG_TYPE_LIST, "a list of groups ( { ... }, { ... } )"},
    [K_REPLIES] = {CONFIG_TYPE_GROUP, "a group { rule = \"CODE ESC text\"; ... }"},
    [K_REPLY] = {CONFIG_TYPE_STRING, "a string \"CODE ESC text\""},
    [K_UINT] = {CONFIG_TYPE_INT, "an integer"},
    [K_BOOL] = {CONFIG_TYPE_BOOL, "true or false (without quotes)"},
    [K_WORD] = {CONFIG_TYPE_STRING, "a string"},
    [K_OCTAL] = {CONFIG_TYPE_STRING, "a string such as \"0660\" (quoted, octal)"},
    [K_STRING] = {CONFIG_TYPE_STRING, "a string"},
    [K_STRINGS] = {CONFIG_TYPE_ARRAY, "a list of strings [ \"...\", \"...\" ]"},
};

static pthread_mutex_t config_refs_lock = PTHREAD_MUTEX_INITIALIZER;

static bool read_value(struct config_loader *ld, const struct config_key *k,
                       const config_setting_t *s, void *obj);
static bool walk(struct config_loader *ld, const struct config_key *g, const config_setting_t *grp,
                 void *obj);

/* ---- messages ---- */

bool config_fail(struct config_loader *ld, const struct config_key *k, const config_setting_t *s,
                 const char *fmt, ...)
{
	const char *file = s != NULL ? config_setting_source_file(s) : NULL;
	unsigned line = s != NULL ? config_setting_source_line(s) : 0;
	char at[16] = "";
	size_t n;
	va_list ap;

	if (file == NULL)
		file = ld->cfg != NULL ? ld->cfg->path : "built-in defaults";
	if (line > 0)
		snprintf(at, sizeof at, "%u:", line);
	snprintf(ld->err, ld->errlen, "%s:%s %s%s", file, at, k != NULL ? k->name : "",
	         k != NULL ? ": " : "");
	n = strlen(ld->err);
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
	va_end(ap);
	return false;
}

/* libconfig's types (CONFIG_TYPE_NONE .. CONFIG_TYPE_LIST) in words. */
static const char *const type_phrase[] = {
    "nothing",  "a group { ... }", "an integer",       "an integer",     "a number with a fraction",
    "a string", "true or false",   "an array [ ... ]", "a list ( ... )",
};

static bool fail_type(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s)
{
	return config_fail(ld, k, s, "must be %s, not %s", kinds[k->kind].want,
	                   type_phrase[config_setting_type(s)]);
}

/* Append "word" to buf as a list: "a", "b", "c". */
static void list_add(char *buf, size_t len, const char *word)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s\"%s\"", used > 0 ? ", " : "", word);
}

/* ---- the rows of a group ---- */

static const char *leaf(const struct config_key *k)
{
	const char *dot = strrchr(k->name, '.');

	return dot != NULL ? dot + 1 : k->name;
}

/* Is k a row of the group row g (NULL: the top level)? */
static bool in_group(const struct config_key *k, const struct config_key *g)
{
	size_t n = g != NULL ? strlen(g->name) : 0;

	if (n > 0 && (strncmp(k->name, g->name, n) != 0 || k->name[n] != '.'))
		return false;
	return strchr(k->name + n + (n > 0), '.') == NULL;
}

/* The row of group g with the check fn or, fn NULL, the field at off. */
static const struct config_key *row_of(const struct config_key *g, config_check *fn, size_t off)
{
	for (const struct config_key *k = config_schema; k < config_schema + NKEYS; k++)
		if (in_group(k, g) && (fn != NULL ? k->check == fn : k->size > 0 && k->off == off))
			return k;
	return NULL;
}

/* Edit distance, for "did you mean" (capped: >= 3 when far apart). */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[65];

	if (la >= sizeof row / sizeof row[0] || lb >= sizeof row / sizeof row[0])
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0]++; /* row[0] = i */
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			best = up + 1 < best ? up + 1 : best;
			row[j] = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			diag = up;
		}
	}
	return row[lb];
}

/* Every key of grp must be a row of group g; else a suggestion within two
 * edits, or the list of the keys. */
static bool check_unknown(struct config_loader *ld, const struct config_key *g,
                          const config_setting_t *grp)
{
	for (int i = 0; i < config_setting_length(grp); i++) {
		const config_setting_t *c = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(c), *best = NULL;
		char where[96], allowed[512] = "";
		unsigned best_d = 3;

		for (const struct config_key *k = config_schema; k < config_schema + NKEYS; k++) {
			unsigned d;
			if (!in_group(k, g))
				continue;
			list_add(allowed, sizeof allowed, leaf(k));
			if ((d = edit_distance(name, leaf(k))) < best_d) {
				best_d = d;
				best = leaf(k);
			}
		}
		if (best_d == 0)
			continue;
		snprintf(where, sizeof where,
		         g == NULL              ? "at the top level"
		         : g->kind == K_ENTRIES ? "in a %s entry"
		                                : "in %s",
		         g != NULL ? g->name : "");
		if (best != NULL)
			return config_fail(ld, NULL, c,
			                   "unknown key \"%s\" %s; did you mean \"%s\"?", name,
			                   where, best);
		return config_fail(ld, NULL, c,
		                   "unknown key \"%s\" %s; the keys allowed here are %s", name,
		                   where, allowed);
	}
	return true;
}

/* ---- the kinds ---- */

/* Once a ports entry e (of group g) is read: its ciphers and
 * tls13_ciphersuites, expanded together by policy.c into p->ciphers; nothing
 * when neither is set. */
static bool read_ciphers(struct config_loader *ld, const struct config_key *g,
                         const config_setting_t *e, struct pg_port *p)
{
	const struct config_key *ck = row_of(g, config_keep_ciphers, 0);
	const struct config_key *sk = row_of(g, config_keep_suites, 0);
	const char *list = ld->ciphers ? config_setting_get_string(ld->ciphers) : NULL;
	const char *suites = ld->suites ? config_setting_get_string(ld->suites) : NULL;

	if (list == NULL && suites == NULL)
		return true;
	switch (policy_ciphers_expand(list, suites, &p->ciphers)) {
	case POLICY_CIPHERS_OK:
		p->restrict_ciphers = true;
		return true;
	case POLICY_CIPHERS_NO_TLS:
		return config_fail(ld, NULL, e, "OpenSSL could not create a TLS context");
	case POLICY_CIPHERS_BAD_LIST:
		return config_fail(ld, ck, ld->ciphers,
		                   "\"%s\" matches no cipher OpenSSL knows (see ciphers(1))", list);
	case POLICY_CIPHERS_BAD_SUITES:
		return config_fail(ld, sk, ld->suites,
		                   "\"%s\" matches no TLS 1.3 cipher suite OpenSSL knows (e.g. "
		                   "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256)",
		                   suites);
	case POLICY_CIPHERS_NONE:
		return config_fail(ld, ck, ld->ciphers ? ld->ciphers : e,
		                   "the cipher settings leave no cipher at all");
	default:
		return config_fail(ld, NULL, e, "out of memory");
	}
}

/* One ports entry e into p: it starts from default_role, mode and replies;
 * then its own keys; then identity and cipher checks. */
static bool read_port(struct config_loader *ld, const struct config_key *g,
                      const config_setting_t *e, struct pg_port *p, size_t index)
{
	const char *num = leaf(row_of(g, NULL, offsetof(struct pg_port, port)));
	const char *lab = leaf(row_of(g, NULL, offsetof(struct pg_port, name)));
	const struct config_key *rk = row_of(g, NULL, offsetof(struct pg_port, role));
	const config_setting_t *rs = config_setting_get_member(e, leaf(rk));

	memset(p, 0, sizeof *p);
	p->role = ld->cfg->default_role;
	p->mode = ld->cfg->mode;
	memcpy(p->replies, ld->cfg->default_port.replies, sizeof p->replies);
	ld->ciphers = ld->suites = NULL;
	/* the role first, for its errors come before those of keys it gives defaults */
	if (!check_unknown(ld, g, e) || (rs != NULL && !read_value(ld, rk, rs, p)) ||
	    !walk(ld, g, e, p))
		return false;
	/* 0 for the built-in entries, read from no file */
	p->line = config_setting_source_file(e) != NULL ? config_setting_source_line(e) : 0;
	if (p->port == 0 && p->name[0] == '\0')
		return config_fail(
		    ld, NULL, e,
		    "this ports entry has neither %s nor %s: add %s = NUMBER; and/or "
		    "%s = \"service-label\";",
		    num, lab, num, lab);
	for (const struct pg_port *q = ld->cfg->ports; q < ld->cfg->ports + index; q++) {
		if (p->port != 0 && q->port == p->port)
			return config_fail(
			    ld, NULL, config_setting_get_member(e, num),
			    "%s %u is already configured by the ports entry at line %u; "
			    "each number may appear once",
			    num, p->port, q->line);
		if (p->name[0] != '\0' && strcmp(q->name, p->name) == 0)
			return config_fail(
			    ld, NULL, config_setting_get_member(e, lab),
			    "%s \"%s\" is already used by the ports entry at line %u; "
			    "each %s may appear once",
			    lab, p->name, q->line, lab);
	}
	return read_ciphers(ld, g, e, p);
}

/* Element i of list k: the limit on the count and its type (the limit
 * first for ports, as each entry is read in turn). */
static bool elem_ok(struct config_loader *ld, const struct config_key *k, const config_setting_t *e,
                    int i)
{
	bool entries = k->kind == K_ENTRIES;
	bool typed = config_setting_type(e) == (entries ? CONFIG_TYPE_GROUP : CONFIG_TYPE_STRING);

	if (i >= k->max && (entries || typed))
		return config_fail(ld, k, e, "more than %lld entries (the limit)", k->max);
	return typed || fail_type(ld, k, e);
}

/* K_STRINGS (every element's type and the count first) and K_ENTRIES. */
static bool read_list(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s, void *obj)
{
	int n = config_setting_length(s);
	struct pg_config *cfg = obj;

	for (int i = 0; i < n && k->kind == K_STRINGS; i++)
		if (!elem_ok(ld, k, config_setting_get_elem(s, (unsigned)i), i))
			return false;
	if (n < k->min)
		return config_fail(ld, k, s, "needs at least one %s", k->hint);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (k->kind == K_ENTRIES) {
			if (!elem_ok(ld, k, e, i))
				return false;
			cfg->nports = (size_t)i + 1;
			if (!read_port(ld, k, e, &cfg->ports[i], (size_t)i))
				return false;
		} else if (!k->check(ld, k, e, config_setting_get_string(e), obj)) {
			return false;
		}
	}
	return true;
}

static bool read_value(struct config_loader *ld, const struct config_key *k,
                       const config_setting_t *s, void *obj)
{
	char *field = (char *)obj + k->off, words[512] = "", why[384];
	const struct config_word *w;
	const char *text = config_setting_get_string(s); /* NULL: not a string */
	int t = config_setting_type(s);
	long long v;

	if (t == CONFIG_TYPE_INT64)
		t = CONFIG_TYPE_INT;
	if (t == CONFIG_TYPE_LIST && k->kind == K_STRINGS)
		t = CONFIG_TYPE_ARRAY;
	if (t == CONFIG_TYPE_ARRAY && k->kind == K_ENTRIES && config_setting_length(s) == 0)
		t = CONFIG_TYPE_LIST;
	if (t != kinds[k->kind].type)
		return fail_type(ld, k, s);
	switch (k->kind) {
	case K_GROUP:
	case K_REPLIES:
		return walk(ld, k, s, obj);
	case K_REPLY: /* for the rule its key names */
		for (w = config_rule_words; strcmp(w->word, leaf(k)) != 0; w++)
			;
		return policy_reply_parse(text, (enum pg_rule)w->value,
		                          (struct pg_reply *)(void *)field, why, sizeof why) ||
		       config_fail(ld, k, s, "%s", why);
	case K_UINT:
	case K_OCTAL: /* "0660" or "660" */
		v = k->kind == K_OCTAL ? strtol(text, NULL, 8) : config_setting_get_int64(s);
		if (k->kind == K_OCTAL && (strlen(text) < 3 || strlen(text) > 4 ||
		                           text[strspn(text, "01234567")] != '\0' || v > k->max))
			return config_fail(
			    ld, k, s,
			    "\"%s\" must be an octal file mode of 3 or 4 digits up to "
			    "0777, such as \"0660\"",
			    text);
		if (v < k->min || v > k->max)
			return config_fail(ld, k, s, "%lld is out of range: use %lld..%lld%s%s%s",
			                   v, k->min, k->max, k->hint ? " (" : "",
			                   k->hint ? k->hint : "", k->hint ? ")" : "");
		*(unsigned *)(void *)field = (unsigned)v;
		return true;
	case K_BOOL:
		*(bool *)field = config_setting_get_bool(s) != 0;
		return true;
	case K_WORD:
		for (w = k->words; w->word != NULL; w++) {
			if (strcmp(w->word, text) == 0) {
				memcpy(field, &w->value, sizeof w->value);
				return true;
			}
			list_add(words, sizeof words, w->word);
		}
		return config_fail(ld, k, s, "\"%s\" is not allowed: use one of %s", text, words);
	case K_STRING:
		return k->check(ld, k, s, text, obj);
	default:
		return read_list(ld, k, s, obj);
	}
}

/* The row's default (for a ports row: its role's), read like the file. */
static bool read_default(struct config_loader *ld, const struct config_key *k, void *obj)
{
	const char *def = k->def;
	char text[512];
	config_t tmp;
	bool ok;

	if (def == NULL && k->role_def[0] != NULL)
		def = k->role_def[((struct pg_port *)obj)->role];
	if (def == NULL)
		return true;
	snprintf(text, sizeof text, "v = %s;", def);
	config_init(&tmp);
	if (config_read_string(&tmp, text) == CONFIG_TRUE)
		ok = read_value(ld, k, config_lookup(&tmp, "v"), obj);
	else
		ok = config_fail(ld, NULL, NULL, "built-in default of %s does not parse (a bug)",
		                 k->name);
	config_destroy(&tmp);
	return ok;
}

/* The rows of group g from grp (NULL: all defaults): the keys present, then
 * the defaults of the others, then lists of entries, which start from both. */
static bool walk(struct config_loader *ld, const struct config_key *g, const config_setting_t *grp,
                 void *obj)
{
	if (grp != NULL && !check_unknown(ld, g, grp))
		return false;
	for (int pass = 0; pass < 3; pass++) {
		for (const struct config_key *k = config_schema; k < config_schema + NKEYS; k++) {
			const config_setting_t *s;
			if (!in_group(k, g))
				continue;
			s = grp != NULL ? config_setting_get_member(grp, leaf(k)) : NULL;
			if (pass != (k->kind == K_ENTRIES ? 2 : s != NULL ? 0 : 1))
				continue;
			if (!(s != NULL ? read_value(ld, k, s, obj) : read_default(ld, k, obj)))
				return false;
		}
	}
	return true;
}

/* ---- public ---- */

const char *config_word_name(const struct config_word *w, int value)
{
	for (; w->word != NULL; w++)
		if (w->value == value)
			return w->word;
	return "?";
}

const char *config_rule_name(enum pg_rule rule)
{
	return rule == PG_RULE_NONE ? "none" : config_word_name(config_rule_words, (int)rule);
}

void config_port_defaults(struct pg_port *p, enum pg_role role)
{
	char err[256];
	struct config_loader ld = {.err = err, .errlen = sizeof err};

	memset(p, 0, sizeof *p);
	p->role = role;
	memcpy(p->replies, policy_default_replies, sizeof p->replies);
	for (const struct config_key *k = config_schema; k < config_schema + NKEYS; k++)
		if (k->kind == K_ENTRIES)
			walk(&ld, k, NULL, p);
}

struct pg_config *config_load(const char *path, char *err, size_t errlen)
{
	char scratch[512], *dir = NULL;
	struct config_loader ld;
	struct pg_config *cfg;
	config_t lc;
	FILE *fp;
	bool ok;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot read the configuration file: %s", path,
		         strerror(errno));
		return NULL;
	}
	fclose(fp);
	cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL || (cfg->path = strdup(path)) == NULL || (dir = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		config_free(cfg);
		return NULL;
	}
	cfg->refs = 1;
	memcpy(cfg->default_port.replies, policy_default_replies, sizeof policy_default_replies);
	ld = (struct config_loader){.cfg = cfg, .err = err, .errlen = errlen};
	config_init(&lc);
	config_set_include_dir(&lc, dirname(dir)); /* libconfig keeps a copy */
	free(dir);
	ok = config_read_file(&lc, path) == CONFIG_TRUE;
	if (!ok && config_error_type(&lc) == CONFIG_ERR_FILE_IO)
		snprintf(err, errlen, "%s: cannot read %s: %s", path,
		         config_error_file(&lc) != NULL ? config_error_file(&lc) : "the file",
		         config_error_text(&lc));
	else if (!ok)
		snprintf(err, errlen, "%s:%d: %s%s",
		         config_error_file(&lc) != NULL ? config_error_file(&lc) : path,
		         config_error_line(&lc), config_error_text(&lc),
		         strstr(config_error_text(&lc), "syntax") != NULL
		             ? " (libconfig syntax: key = value; with groups { }, lists ( ) and "
		               "arrays [ ])"
		             : "");
	else
		ok = walk(&ld, NULL, config_root_setting(&lc), cfg) &&
		     mtafacts_apply(cfg, config_root_setting(&lc), err, errlen);
	config_destroy(&lc);
	if (ok && !relay_lists_build(&cfg->relay)) {
		snprintf(err, errlen, "%s: out of memory", path);
		ok = false;
	}
	if (!ok) {
		config_free(cfg);
		return NULL;
	}
	while (cfg->policyd_nlisten < PG_MAX_LISTEN && cfg->policyd_listen[cfg->policyd_nlisten])
		cfg->policyd_nlisten++;
	/* The entry for unknown ports: default_role with the top-level mode and replies. */
	struct pg_reply top[PG_RULE_COUNT];
	memcpy(top, cfg->default_port.replies, sizeof top);
	config_port_defaults(&cfg->default_port, cfg->default_role);
	cfg->default_port.mode = cfg->mode;
	memcpy(cfg->default_port.replies, top, sizeof top);
	return cfg;
}

void config_free(struct pg_config *cfg)
{
	if (cfg == NULL)
		return;
	for (const struct config_key *k = config_schema; k < config_schema + NKEYS; k++)
		for (size_t j = 0; k->heap && j < k->size / sizeof(char *); j++)
			free(((char **)(void *)((char *)cfg + k->off))[j]);
	free(cfg->path);
	relay_lists_free(&cfg->relay);
	for (size_t i = 0; i < cfg->nports; i++)
		strset_free(&cfg->ports[i].ciphers);
	free(cfg);
}

struct pg_config *config_retain(struct pg_config *cfg)
{
	pthread_mutex_lock(&config_refs_lock);
	cfg->refs++;
	pthread_mutex_unlock(&config_refs_lock);
	return cfg;
}

void config_release(struct pg_config *cfg)
{
	if (cfg == NULL)
		return;
	pthread_mutex_lock(&config_refs_lock);
	if (--cfg->refs == 0)
		config_free(cfg);
	pthread_mutex_unlock(&config_refs_lock);
}

/* Start-only rows: a char * (or an array of them, unused ones NULL) when
 * heap, else plain bytes (numbers, flags, zero-filled char arrays). */
static bool same_value(const struct config_key *k, const struct pg_config *a,
                       const struct pg_config *b)
{
	const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;

	for (size_t i = 0; k->heap && i < k->size / sizeof(char *); i++) {
		const char *sa = ((char *const *)(const void *)pa)[i];
		const char *sb = ((char *const *)(const void *)pb)[i];
		if (sa != sb && (sa == NULL || sb == NULL || strcmp(sa, sb) != 0))
			return false;
	}
	return k->heap || memcmp(pa, pb, k->size) == 0;
}

size_t config_restart_needed(const struct pg_config *old, const struct pg_config *new,
                             bool (*ignore)(const char *key, void *arg), void *arg, char *buf,
                             size_t buflen)
{
	size_t n = 0, len = 0;

	if (buflen == 0)
		return 0;
	buf[0] = '\0';
	for (const struct config_key *k = config_schema; k < config_schema + NKEYS; k++) {
		if (!k->start_only || same_value(k, old, new) ||
		    (ignore != NULL && ignore(k->name, arg)))
			continue;
		int w = snprintf(buf + len, buflen - len, "%s%s", n++ > 0 ? ", " : "", k->name);
		if (w < 0 || (size_t)w >= buflen - len) {
			if (buflen >= 4)
				memcpy(buf + buflen - 4, "...", 4);
			break;
		}
		len += (size_t)w;
	}
	return n;
}

const struct pg_port *config_port_lookup(const struct pg_config *cfg, unsigned port,
                                         const char *label, bool *known)
{
	bool dummy;

	if (known == NULL)
		known = &dummy;
	*known = true;
	if (label != NULL && *label != '\0')
		for (size_t i = 0; i < cfg->nports; i++)
			if (strcmp(cfg->ports[i].name, label) == 0)
				return &cfg->ports[i];
	if (port != 0)
		for (size_t i = 0; i < cfg->nports; i++)
			if (cfg->ports[i].port == port)
				return &cfg->ports[i];
	*known = false;
	return &cfg->default_port;
}
