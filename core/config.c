/*
 * config.c - portguard.conf: load (walk the schema table over the file),
 * and the life cycle of the immutable result: free, retain/release, port
 * lookup.
 *
 * Loading walks the table scope by scope: first every key present in the
 * file must be a row of that scope (else "unknown key", with a suggestion),
 * then each row is read from the file or takes its default. The first error
 * stops the load and is reported as "file:line: message"; nothing global
 * changes, so a failed reload leaves the caller's config in use.
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_schema.h"

/* Ports when the file has no `ports`: SPEC's four entries. */
static const struct {
	unsigned port;
	enum pg_role role;
	enum pg_tls_mode tls;
} default_ports[] = {
    {25, PG_ROLE_RELAY, PG_TLS_OPTIONAL},
    {587, PG_ROLE_SUBMISSION, PG_TLS_STARTTLS},
    {465, PG_ROLE_SUBMISSION, PG_TLS_IMPLICIT},
    {2525, PG_ROLE_SUBMISSION, PG_TLS_STARTTLS},
};

static pthread_mutex_t config_refs_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- defaults and the walk ---- */

static void port_start(const struct config_loader *ld, struct pg_port *p, enum pg_role role)
{
	config_port_defaults(p, role);
	p->mode = ld->cfg->mode;
	memcpy(p->replies, ld->replies, sizeof p->replies);
}

static bool apply_default(struct config_loader *ld, const struct config_key *k, void *obj)
{
	struct pg_config *cfg = ld->cfg;
	char text[256];
	config_t tmp;
	bool ok;

	if (k->def == NULL) {
		if (k->kind == K_GROUP)
			return config_walk_keys(ld, k->opens, NULL, obj);
		if (k->kind == K_PORTS) {
			for (size_t i = 0; i < sizeof default_ports / sizeof default_ports[0];
			     i++) {
				struct pg_port *p = &cfg->ports[cfg->nports++];
				port_start(ld, p, default_ports[i].role);
				p->port = default_ports[i].port;
				p->tls = default_ports[i].tls;
			}
		}
		return true; /* replies: SPEC's; port keys: the role's */
	}
	snprintf(text, sizeof text, "v = %s;", k->def);
	config_init(&tmp);
	if (config_read_string(&tmp, text) != CONFIG_TRUE) {
		config_destroy(&tmp);
		return config_fail(ld, NULL, "built-in default of %s does not parse (a bug)",
		                   k->name);
	}
	ok = config_setters[k->kind](ld, k, config_lookup(&tmp, "v"), obj);
	config_destroy(&tmp);
	return ok;
}

bool config_walk_keys(struct config_loader *ld, enum scope sc, const config_setting_t *grp,
                      void *obj)
{
	if (grp != NULL && !config_check_unknown(ld, sc, grp))
		return false;
	for (size_t i = 0; i < config_schema_count; i++) {
		const struct config_key *k = &config_schema[i];
		const config_setting_t *s;
		if (k->scope != sc || k->kind == K_ROLE)
			continue;
		s = grp != NULL ? config_setting_get_member(grp, k->name) : NULL;
		if (!(s != NULL ? config_setters[k->kind](ld, k, s, obj)
		                : apply_default(ld, k, obj)))
			return false;
	}
	return true;
}

/* The port-entry row of a kind, or (kind K_UINT) of the field at off. */
static const struct config_key *port_key(enum kind kind, size_t off)
{
	for (size_t i = 0; i < config_schema_count; i++) {
		const struct config_key *k = &config_schema[i];
		if (k->scope == SC_PORT && k->kind == kind && (kind != K_UINT || k->off == off))
			return k;
	}
	return NULL;
}

/* One ports entry: role first (its defaults), then the global mode and
 * replies, then the entry's own keys; then identity and cipher checks. */
bool config_port_entry(struct config_loader *ld, const config_setting_t *e, struct pg_port *p,
                       size_t index)
{
	const struct config_key *number = port_key(K_UINT, offsetof(struct pg_port, port));
	const struct config_key *label = port_key(K_LABEL, 0);
	const struct config_key *rk = port_key(K_ROLE, 0);
	const config_setting_t *rs = config_setting_get_member(e, rk->name);
	struct pg_port tmp;
	enum pg_role role = ld->cfg->default_role;
	char why[512];

	if (!config_check_unknown(ld, SC_PORT, e))
		return false;
	if (rs != NULL) {
		if (!config_setters[K_ROLE](ld, rk, rs, &tmp))
			return false;
		role = tmp.role;
	}
	port_start(ld, p, role);
	ld->ciphers = ld->suites = NULL;
	if (!config_walk_keys(ld, SC_PORT, e, p))
		return false;
	p->line = config_setting_source_line(e);
	if (p->port == 0 && p->name[0] == '\0')
		return config_fail(
		    ld, e,
		    "this ports entry has neither %s nor %s: add %s = NUMBER; and/or "
		    "%s = \"service-label\";",
		    number->name, label->name, number->name, label->name);
	for (size_t i = 0; i < index; i++) {
		const struct pg_port *q = &ld->cfg->ports[i];
		if (p->port != 0 && q->port == p->port)
			return config_fail(
			    ld, config_setting_get_member(e, number->name),
			    "%s %u is already configured by the ports entry at line %u; each "
			    "number may appear once",
			    number->name, p->port, q->line);
		if (p->name[0] != '\0' && strcmp(q->name, p->name) == 0)
			return config_fail(
			    ld, config_setting_get_member(e, label->name),
			    "%s \"%s\" is already used by the ports entry at line %u; each %s "
			    "may appear once",
			    label->name, p->name, q->line, label->name);
	}
	if (ld->ciphers == NULL && ld->suites == NULL)
		return true;
	switch (config_expand_ciphers(ld->ciphers ? config_setting_get_string(ld->ciphers) : NULL,
	                              ld->suites ? config_setting_get_string(ld->suites) : NULL,
	                              &p->ciphers, why, sizeof why)) {
	case CONFIG_CIPHERS_OK:
		p->restrict_ciphers = true;
		return true;
	case CONFIG_CIPHERS_BAD_LIST:
		return config_fail_key(ld, port_key(K_CIPHERS, 0), ld->ciphers ? ld->ciphers : e,
		                       why);
	case CONFIG_CIPHERS_BAD_SUITES:
		return config_fail_key(ld, port_key(K_SUITES, 0), ld->suites, why);
	default:
		return config_fail(ld, e, "%s", why);
	}
}

/* ---- public ---- */

struct pg_config *config_load(const char *path, char *err, size_t errlen)
{
	char scratch[512];
	struct config_loader ld;
	struct pg_config *cfg;
	config_t lc;
	bool read, ok;
	FILE *fp;

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
	if (cfg == NULL || (cfg->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(cfg);
		return NULL;
	}
	cfg->refs = 1;
	memset(&ld, 0, sizeof ld);
	ld.cfg = cfg;
	ld.err = err;
	ld.errlen = errlen;
	for (unsigned r = 0; r < PG_RULE_COUNT; r++)
		ld.replies[r] = *config_default_reply((enum pg_rule)r);

	config_init(&lc);
	{
		char *dir = strdup(path);
		if (dir != NULL)
			config_set_include_dir(&lc, dirname(dir));
		free(dir);
	}
	read = config_read_file(&lc, path) == CONFIG_TRUE;
	if (!read && config_error_type(&lc) == CONFIG_ERR_FILE_IO) {
		snprintf(err, errlen, "%s: cannot read %s: %s", path,
		         config_error_file(&lc) != NULL ? config_error_file(&lc) : "the file",
		         config_error_text(&lc));
		ok = false;
	} else if (!read) {
		const char *text = config_error_text(&lc);
		snprintf(err, errlen, "%s:%d: %s%s",
		         config_error_file(&lc) != NULL ? config_error_file(&lc) : path,
		         config_error_line(&lc), text,
		         strstr(text, "syntax") != NULL
		             ? " (libconfig syntax: key = value; with groups { }, lists ( ) and "
		               "arrays [ ])"
		             : "");
		ok = false;
	} else {
		ok = config_walk_keys(&ld, SC_TOP, config_root_setting(&lc), cfg);
	}
	if (ok) {
		config_domains_build(&ld.domains, &cfg->relay.domains, &cfg->relay.parents);
		port_start(&ld, &cfg->default_port, cfg->default_role);
	}
	config_domains_free(&ld.domains);
	config_destroy(&lc);
	if (!ok) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void config_free(struct pg_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	strset_free(&cfg->relay.domains);
	strset_free(&cfg->relay.parents);
	strset_free(&cfg->relay.certs);
	free(cfg->relay.nets);
	for (size_t i = 0; i < cfg->nports; i++)
		strset_free(&cfg->ports[i].ciphers);
	strset_free(&cfg->default_port.ciphers);
	for (size_t i = 0; i < cfg->policyd_nlisten; i++)
		free(cfg->policyd_listen[i]);
	free(cfg->milter_listen);
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
