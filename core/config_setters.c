/*
 * config_setters.c - one setter per kind of config value, and the messages.
 *
 * A setter gets the schema row, the libconfig setting (from the file, or a
 * built-in default) and the object the row's field lives in (struct
 * pg_config, or struct pg_port for port keys). It checks type, syntax and
 * bounds, stores the value, or writes "file:line: key: what is wrong and
 * what to write instead" and returns false. Allocations it makes belong to
 * the config and are freed by config_free(), also after a failed load.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_schema.h"
#include "relay.h"

_Static_assert(sizeof(enum pg_mode) == sizeof(int) && sizeof(enum pg_role) == sizeof(int) &&
                   sizeof(enum pg_tls_mode) == sizeof(int) &&
                   sizeof(enum pg_auth_mode) == sizeof(int) &&
                   sizeof(enum pg_on_error) == sizeof(int) &&
                   sizeof(enum pg_tls_version) == sizeof(int),
               "enum fields are stored as int");

bool config_fail(struct config_loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s != NULL ? config_setting_source_file(s) : NULL;
	unsigned line = s != NULL ? config_setting_source_line(s) : 0;
	int n;
	va_list ap;

	if (file == NULL)
		file = ld->cfg->path;
	if (line > 0)
		n = snprintf(ld->err, ld->errlen, "%s:%u: ", file, line);
	else
		n = snprintf(ld->err, ld->errlen, "%s: ", file);
	if (n < 0 || (size_t)n >= ld->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/* config_fail() with the key's dotted path in front of the reason. */
bool config_fail_key(struct config_loader *ld, const struct config_key *k,
                     const config_setting_t *s, const char *why)
{
	char path[96];

	config_key_path(k->scope, k->name, path, sizeof path);
	return config_fail(ld, s, "%s: %s", path, why);
}

static const char *type_phrase(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number with a fraction";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	default:
		return "nothing";
	}
}

static bool fail_type(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s, const char *want)
{
	char why[160];

	snprintf(why, sizeof why, "must be %s, not %s", want, type_phrase(config_setting_type(s)));
	return config_fail_key(ld, k, s, why);
}

/* "use one of "a", "b", "c"" into buf. */
static void list_words(const char *const *w, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int r = snprintf(buf + used, len - used, "%s\"%s\"", i > 0 ? ", " : "", w[i]);
		if (r < 0)
			return;
		used += (size_t)r;
	}
}

static bool fail_word(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s, const char *const *w, size_t n)
{
	char words[256], why[384];

	list_words(w, n, words, sizeof words);
	snprintf(why, sizeof why, "\"%s\" is not allowed: use one of %s",
	         config_setting_get_string(s), words);
	return config_fail_key(ld, k, s, why);
}

static bool is_reply_scope(enum scope sc)
{
	return sc == SC_REPLIES || sc == SC_PORT_REPLIES;
}

/* Names allowed in scope sc, into names[] (at most max); returns the count. */
static size_t scope_names(enum scope sc, const char **names, size_t max)
{
	size_t n = 0;

	if (is_reply_scope(sc)) {
		for (unsigned r = PG_RULE_NONE + 1; r < PG_RULE_COUNT && n < max; r++)
			names[n++] = config_rule_name((enum pg_rule)r);
		return n;
	}
	for (size_t i = 0; i < config_schema_count && n < max; i++)
		if (config_schema[i].scope == sc)
			names[n++] = config_schema[i].name;
	return n;
}

bool config_check_unknown(struct config_loader *ld, enum scope sc, const config_setting_t *grp)
{
	const char *names[config_schema_count + PG_RULE_COUNT];
	size_t n = scope_names(sc, names, sizeof names / sizeof names[0]);
	char where[96];

	if (sc == SC_TOP)
		snprintf(where, sizeof where, "at the top level");
	else if (sc == SC_PORT)
		snprintf(where, sizeof where, "in a ports entry");
	else {
		const struct config_key *parent = config_scope_parent(sc);
		char path[80];
		config_key_path(parent->scope, parent->name, path, sizeof path);
		snprintf(where, sizeof where, "in %s", path);
	}
	for (int i = 0; i < config_setting_length(grp); i++) {
		const config_setting_t *c = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(c);
		const char *best = NULL;
		unsigned best_d = 3;
		size_t j;

		for (j = 0; j < n; j++)
			if (strcmp(names[j], name) == 0)
				break;
		if (j < n)
			continue;
		for (j = 0; j < n; j++) {
			unsigned d = config_edit_distance(name, names[j]);
			if (d < best_d) {
				best_d = d;
				best = names[j];
			}
		}
		if (best != NULL)
			return config_fail(ld, c, "unknown key \"%s\" %s; did you mean \"%s\"?",
			                   name, where, best);
		char allowed[512];
		list_words(names, n, allowed, sizeof allowed);
		return config_fail(ld, c, "unknown key \"%s\" %s; the keys allowed here are %s",
		                   name, where, allowed);
	}
	return true;
}

/* ---- setters, one per kind ---- */

static void store_int(void *obj, size_t off, int v)
{
	memcpy((char *)obj + off, &v, sizeof v);
}

static bool set_group(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s, void *obj)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail_type(ld, k, s, "a group { key = value; ... }");
	return config_walk_keys(ld, k->opens, s, obj);
}

static bool set_uint(struct config_loader *ld, const struct config_key *k,
                     const config_setting_t *s, void *obj)
{
	long long v;
	char why[256];

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail_type(ld, k, s, "an integer");
	v = config_setting_get_int64(s);
	if (v < k->min || v > k->max) {
		snprintf(why, sizeof why, "%lld is out of range: use %lld..%lld%s%s", v, k->min,
		         k->max, k->hint != NULL ? " (" : "", k->hint != NULL ? k->hint : "");
		if (k->hint != NULL)
			strncat(why, ")", sizeof why - strlen(why) - 1);
		return config_fail_key(ld, k, s, why);
	}
	*(unsigned *)(void *)((char *)obj + k->off) = (unsigned)v;
	return true;
}

static bool set_bool(struct config_loader *ld, const struct config_key *k,
                     const config_setting_t *s, void *obj)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail_type(ld, k, s, "true or false (without quotes)");
	*(bool *)((char *)obj + k->off) = config_setting_get_bool(s) != 0;
	return true;
}

static bool set_named(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s, void *obj)
{
	const char *words[8];
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(ld, k, s, "a string");
	v = config_setting_get_string(s);
	for (unsigned i = 0; i < k->nnames && i < 8; i++) {
		words[i] = k->name_of(i);
		if (strcmp(words[i], v) == 0) {
			store_int(obj, k->off, (int)i);
			return true;
		}
	}
	return fail_word(ld, k, s, words, k->nnames);
}

static bool set_word(struct config_loader *ld, const struct config_key *k,
                     const config_setting_t *s, void *obj)
{
	const char *words[16];
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(ld, k, s, "a string");
	v = config_setting_get_string(s);
	for (size_t i = 0; i < k->nwords && i < 16; i++) {
		words[i] = k->words[i].word;
		if (strcmp(words[i], v) == 0) {
			store_int(obj, k->off, k->words[i].value);
			return true;
		}
	}
	return fail_word(ld, k, s, words, k->nwords);
}

static bool set_tls_min(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *s, void *obj)
{
	const char *words[] = {tls_version_name(PG_TLS_NONE),
	                       tls_version_name(PG_TLS_V1_0),
	                       "TLSv1.0",
	                       tls_version_name(PG_TLS_V1_1),
	                       tls_version_name(PG_TLS_V1_2),
	                       tls_version_name(PG_TLS_V1_3)};
	enum pg_tls_version v;
	const char *str;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(ld, k, s, "a string");
	str = config_setting_get_string(s);
	v = strcmp(str, words[0]) == 0 ? PG_TLS_NONE : tls_version_parse(str);
	if ((v < PG_TLS_V1_0 || v > PG_TLS_V1_3) && v != PG_TLS_NONE)
		return fail_word(ld, k, s, words, sizeof words / sizeof words[0]);
	if (v == PG_TLS_NONE && *str == '\0')
		return fail_word(ld, k, s, words, sizeof words / sizeof words[0]);
	store_int(obj, k->off, (int)v);
	return true;
}

static bool want_string(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(ld, k, s, "a string");
	return true;
}

/* A check from config_values.c applied to a string value. */
static bool check_string(struct config_loader *ld, const struct config_key *k,
                         const config_setting_t *s, bool (*check)(const char *, char *, size_t))
{
	char why[320], msg[512];
	const char *v = config_setting_get_string(s);

	if (check(v, why, sizeof why))
		return true;
	snprintf(msg, sizeof msg, "\"%s\": %s", v, why);
	return config_fail_key(ld, k, s, msg);
}

static bool set_octal(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s, void *obj)
{
	char why[160], msg[256];

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(ld, k, s, "a string such as \"0660\" (quoted, octal)");
	if (!config_parse_octal_mode(config_setting_get_string(s),
	                             (unsigned *)(void *)((char *)obj + k->off), why, sizeof why)) {
		snprintf(msg, sizeof msg, "\"%s\" %s", config_setting_get_string(s), why);
		return config_fail_key(ld, k, s, msg);
	}
	return true;
}

static bool set_account(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *s, void *obj)
{
	const char *v;
	size_t n;
	char why[128];

	if (!want_string(ld, k, s))
		return false;
	v = config_setting_get_string(s);
	n = strlen(v);
	if ((long long)n < k->min || (long long)n > k->max) {
		snprintf(why, sizeof why, "must be %lld..%lld characters long", k->min, k->max);
		return config_fail_key(ld, k, s, why);
	}
	if (!check_string(ld, k, s, config_check_account))
		return false;
	memcpy((char *)obj + k->off, v, n + 1);
	return true;
}

static bool set_label(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s, void *obj)
{
	struct pg_port *p = obj;

	if (!want_string(ld, k, s) || !check_string(ld, k, s, config_check_label))
		return false;
	snprintf(p->name, sizeof p->name, "%s", config_setting_get_string(s));
	return true;
}

/* An array or list of strings of at most max entries. */
static bool want_strings(struct config_loader *ld, const struct config_key *k,
                         const config_setting_t *s, size_t max)
{
	int t = config_setting_type(s);
	int n;
	char why[128];

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fail_type(ld, k, s, "a list of strings [ \"...\", \"...\" ]");
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail_type(ld, k, e, "a list of strings [ \"...\", \"...\" ]");
		if ((size_t)i >= max) {
			snprintf(why, sizeof why, "more than %zu entries (the limit)", max);
			return config_fail_key(ld, k, e, why);
		}
	}
	return true;
}

static bool set_policy_listen(struct config_loader *ld, const struct config_key *k,
                              const config_setting_t *s, void *obj)
{
	struct pg_config *cfg = obj;

	if (!want_strings(ld, k, s, PG_MAX_LISTEN))
		return false;
	if (config_setting_length(s) == 0)
		return config_fail_key(ld, k, s, "needs at least one socket");
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (!check_string(ld, k, e, config_check_policy_socket))
			return false;
		for (size_t j = 0; j < cfg->policyd_nlisten; j++)
			if (strcmp(cfg->policyd_listen[j], v) == 0)
				return config_fail_key(ld, k, e, "the same socket is listed twice");
		if ((cfg->policyd_listen[cfg->policyd_nlisten] = strdup(v)) == NULL)
			return config_fail(ld, e, "out of memory");
		cfg->policyd_nlisten++;
	}
	return true;
}

static bool set_milter_listen(struct config_loader *ld, const struct config_key *k,
                              const config_setting_t *s, void *obj)
{
	char **field = (char **)(void *)((char *)obj + k->off);

	if (!want_string(ld, k, s) || !check_string(ld, k, s, config_check_milter_socket))
		return false;
	if ((*field = strdup(config_setting_get_string(s))) == NULL)
		return config_fail(ld, s, "out of memory");
	return true;
}

static bool set_domains(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *s, void *obj)
{
	char why[384];

	(void)obj;
	if (!want_strings(ld, k, s, PG_MAX_LOCAL_DOMAINS))
		return false;
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (!config_domains_add(&ld->domains, config_setting_get_string(e), why,
		                        sizeof why))
			return config_fail_key(ld, k, e, why);
	}
	return true;
}

static bool set_domains_file(struct config_loader *ld, const struct config_key *k,
                             const config_setting_t *s, void *obj)
{
	char why[512], msg[768];
	const char *path;

	(void)obj;
	if (!want_string(ld, k, s))
		return false;
	path = config_setting_get_string(s);
	if (*path == '\0')
		return config_fail_key(ld, k, s, "empty file name: remove the key or name a file");
	switch (config_domains_read_file(&ld->domains, path, why, sizeof why)) {
	case CONFIG_FILE_OK:
		return true;
	case CONFIG_FILE_CANNOT_OPEN:
		snprintf(msg, sizeof msg,
		         "cannot read \"%s\": %s; create the file (one domain per line) or remove "
		         "the key",
		         path, why);
		return config_fail_key(ld, k, s, msg);
	case CONFIG_FILE_BAD_LINE:
	default:
		snprintf(ld->err, ld->errlen, "%s", why);
		return false;
	}
}

static bool set_nets(struct config_loader *ld, const struct config_key *k,
                     const config_setting_t *s, void *obj)
{
	struct pg_relay *relay = &((struct pg_config *)obj)->relay;
	int n;
	char why[256];

	if (!want_strings(ld, k, s, PG_MAX_TRUSTED_NETS))
		return false;
	n = config_setting_length(s);
	if (n == 0)
		return true;
	if ((relay->nets = calloc((size_t)n, sizeof *relay->nets)) == NULL)
		return config_fail(ld, s, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (!relay_net_parse(v, &relay->nets[i])) {
			snprintf(why, sizeof why,
			         "\"%s\" is not an address or network: write 192.0.2.0/24, "
			         "2001:db8::/32 or "
			         "a single address",
			         v);
			return config_fail_key(ld, k, e, why);
		}
		relay->nnets++;
	}
	return true;
}

static bool set_certs(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s, void *obj)
{
	struct pg_relay *relay = &((struct pg_config *)obj)->relay;
	char fp[PG_MAX_FINGERPRINT + 1];
	char why[320];
	char **items;
	size_t n = 0;

	if (!want_strings(ld, k, s, PG_MAX_TRUSTED_CERTS))
		return false;
	if (config_setting_length(s) == 0)
		return true;
	if ((items = calloc((size_t)config_setting_length(s), sizeof *items)) == NULL)
		return config_fail(ld, s, "out of memory");
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (!relay_fingerprint_normalise(v, fp, sizeof fp)) {
			snprintf(why, sizeof why,
			         "\"%.160s\" is not a fingerprint: write the certificate's SHA-256 "
			         "fingerprint in hex, with or without ':' (as Postfix or Sendmail "
			         "log it)",
			         v);
			config_fail_key(ld, k, e, why);
			goto bad;
		}
		if ((items[n] = strdup(fp)) == NULL) {
			config_fail(ld, e, "out of memory");
			goto bad;
		}
		n++;
	}
	strset_build(&relay->certs, items, n);
	return true;
bad:
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
	return false;
}

static bool set_ciphers(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *s, void *obj)
{
	(void)obj;
	if (!want_string(ld, k, s))
		return false;
	if (k->kind == K_SUITES)
		ld->suites = s;
	else
		ld->ciphers = s;
	return true;
}

static bool set_replies(struct config_loader *ld, const struct config_key *k,
                        const config_setting_t *s, void *obj)
{
	struct pg_reply *replies =
	    k->scope == SC_PORT ? ((struct pg_port *)obj)->replies : ld->replies;
	char why[384], path[96];

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail_type(ld, k, s, "a group { rule = \"CODE ESC text\"; ... }");
	if (!config_check_unknown(ld, k->opens, s))
		return false;
	for (unsigned r = PG_RULE_NONE + 1; r < PG_RULE_COUNT; r++) {
		const char *name = config_rule_name((enum pg_rule)r);
		const config_setting_t *e = config_setting_get_member(s, name);
		if (e == NULL)
			continue;
		config_key_path(k->opens, name, path, sizeof path);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return config_fail(ld, e, "%s: must be a string \"CODE ESC text\", not %s",
			                   path, type_phrase(config_setting_type(e)));
		if (!config_parse_reply(config_setting_get_string(e), (enum pg_rule)r, &replies[r],
		                        why, sizeof why))
			return config_fail(ld, e, "%s: %s", path, why);
	}
	return true;
}

static bool set_ports(struct config_loader *ld, const struct config_key *k,
                      const config_setting_t *s, void *obj)
{
	struct pg_config *cfg = obj;
	int t = config_setting_type(s);
	int n;
	char why[128];

	if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
		return fail_type(ld, k, s, "a list of groups ( { ... }, { ... } )");
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (i >= PG_MAX_PORTS) {
			snprintf(why, sizeof why, "more than %d entries (the limit)", PG_MAX_PORTS);
			return config_fail_key(ld, k, e, why);
		}
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return fail_type(ld, k, e, "a list of groups ( { ... }, { ... } )");
		cfg->nports = (size_t)i + 1;
		if (!config_port_entry(ld, e, &cfg->ports[i], (size_t)i))
			return false;
	}
	return true;
}

const config_setter config_setters[] = {
    [K_GROUP] = set_group,
    [K_PORTS] = set_ports,
    [K_REPLIES] = set_replies,
    [K_UINT] = set_uint,
    [K_BOOL] = set_bool,
    [K_NAMED] = set_named,
    [K_ROLE] = set_named,
    [K_WORD] = set_word,
    [K_TLS_MIN] = set_tls_min,
    [K_OCTAL] = set_octal,
    [K_ACCOUNT] = set_account,
    [K_LABEL] = set_label,
    [K_POLICY_LISTEN] = set_policy_listen,
    [K_MILTER_LISTEN] = set_milter_listen,
    [K_DOMAINS] = set_domains,
    [K_DOMAINS_FILE] = set_domains_file,
    [K_NETS] = set_nets,
    [K_CERTS] = set_certs,
    [K_CIPHERS] = set_ciphers,
    [K_SUITES] = set_ciphers,
};
