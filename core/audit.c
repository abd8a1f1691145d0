/*
 * audit.c - the configuration audit: the findings model, what both MTAs
 * share (ports and their portguard entries, socket specs), the choice of
 * MTA, and the daemons' start and reload warnings (audit_log_own).
 * Postfix is read in audit_pf.c, Sendmail in audit_sm.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "daemon.h"
#include "log.h"
#include "mtafacts.h"

void audit_options_default(struct audit_options *o)
{
	memset(o, 0, sizeof *o);
	o->mta = PG_MTA_AUTO;
	o->net4_prefix = 24;
	o->net6_prefix = 64;
	o->timeout_ms = AUDIT_TIMEOUT_MS;
}

const char *audit_status_name(enum audit_status st)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN", "SKIPPED"};
	return (unsigned)st < 5 ? names[st] : "UNKNOWN";
}

bool audit_add(struct audit_report *r, unsigned port, const char *service, const char *role,
               const char *check, enum audit_status st, unsigned front, const char *fix,
               const char *fmt, ...)
{
	struct audit_finding *grown = realloc(r->v, (r->n + 1) * sizeof *grown), *f;
	va_list ap;

	if (grown == NULL)
		return false;
	r->v = grown;
	f = &r->v[r->n++];
	memset(f, 0, sizeof *f);
	f->port = port;
	snprintf(f->service, sizeof f->service, "%s", service != NULL ? service : "-");
	snprintf(f->role, sizeof f->role, "%s", role != NULL ? role : "-");
	snprintf(f->check, sizeof f->check, "%s", check);
	f->status = st;
	f->front = front;
	snprintf(f->fix, sizeof f->fix, "%s", fix != NULL ? fix : "");
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof f->detail, fmt, ap);
	va_end(ap);
	return true;
}

void audit_report_free(struct audit_report *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

int audit_exit_code(const struct audit_report *r)
{
	bool seen[5] = {false};

	for (size_t i = 0; i < r->n; i++)
		if ((unsigned)r->v[i].status < 5)
			seen[r->v[i].status] = true;
	if (seen[AUDIT_CRITICAL])
		return 2;
	if (seen[AUDIT_UNKNOWN])
		return 3;
	return seen[AUDIT_WARNING] ? 1 : 0;
}

/* ---- parsers ---- */

unsigned audit_service_port(const char *service)
{
	const char *p = strrchr(service, ':');
	const char *name = p != NULL ? p + 1 : service;
	char *end;
	unsigned long v;

	if (*name == '\0')
		return 0;
	v = strtoul(name, &end, 10);
	if (*end == '\0' && isdigit((unsigned char)name[0]))
		return v > 0 && v < 65536 ? (unsigned)v : 0;
	struct servent *se = getservbyname(name, "tcp");
	if (se != NULL)
		return ntohs((uint16_t)se->s_port);
	static const struct {
		const char *name;
		unsigned port;
	} known[] = {{"smtp", 25}, {"submission", 587}, {"submissions", 465}, {"smtps", 465}};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(name, known[i].name) == 0)
			return known[i].port;
	return 0;
}

static bool socket_norm(const char *s, const char *queue_dir, struct daemon_sockspec *sp)
{
	char buf[512], why[128];

	s += strspn(s, " \t{");
	snprintf(buf, sizeof buf, "%s", s);
	buf[strcspn(buf, " \t,}")] = '\0';
	if ((strncmp(buf, "unix:", 5) == 0 || strncmp(buf, "local:", 6) == 0) &&
	    strchr(buf, ':')[1] != '/' && queue_dir != NULL) {
		char abs[512];
		snprintf(abs, sizeof abs, "unix:%s/%s", queue_dir, strchr(buf, ':') + 1);
		snprintf(buf, sizeof buf, "%s", abs);
	}
	return daemon_sockspec_check(buf, sp, why, sizeof why);
}

bool audit_same_socket(const char *a, const char *b, const char *queue_dir)
{
	struct daemon_sockspec x, y;

	if (!socket_norm(a, queue_dir, &x) || !socket_norm(b, queue_dir, &y) || x.kind != y.kind)
		return false;
	if (x.port != 0 || y.port != 0)
		return x.port == y.port &&
		       (x.host[0] == '\0' || y.host[0] == '\0' || strcmp(x.host, y.host) == 0);
	return strcmp(x.path, y.path) == 0;
}

/* Restrictions of a list: a name and its argument ("check_policy_service"
 * and "{ unix:x, default_action=DUNNO }"), as pointers into buf. */
/* ---- shared by both MTAs ---- */

const struct pg_port *audit_match(const struct pg_config *cfg, unsigned port, const char *label,
                                  bool *listed)
{
	return config_port_lookup(cfg, port, label, listed);
}

/* A port the MTA listens on that portguard.conf lacks, and an entry of
 * portguard.conf no service listens on. */
void audit_ports_listed(const struct pg_config *cfg, struct audit_report *r, const char *mta)
{
	for (size_t i = 0; i < r->nsvc; i++) {
		const struct audit_service *s = &r->svc[i];
		const char *role = config_role_name(s->pg->role);
		char fix[AUDIT_FIX_MAX];
		if (s->listed) {
			audit_add(r, s->port, s->name, role, "port_listed", AUDIT_OK, AUDIT_FRONT_BOTH,
			          NULL, "in portguard.conf");
			continue;
		}
		const char *tls = s->wrapper ? "implicit" : "starttls";
		if (s->encrypt || s->wrapper)
			snprintf(fix, sizeof fix,
			         "%s: add to ports: { port = %u; role = \"submission\"; tls = "
			         "\"%s\"; },",
			         cfg->path, s->port, tls);
		else
			snprintf(fix, sizeof fix, "%s: add to ports: { port = %u; role = \"relay\"; },",
			         cfg->path, s->port);
		audit_add(r, s->port, s->name, role, "port_listed", AUDIT_WARNING, AUDIT_FRONT_BOTH,
		          fix, "%s listens on port %u, portguard.conf has no entry for it (default "
		               "role %s applies)",
		          mta, s->port, role);
	}
	for (size_t k = 0; k < cfg->nports; k++) {
		const struct pg_port *p = &cfg->ports[k];
		bool seen = false;
		char fix[AUDIT_FIX_MAX];
		for (size_t i = 0; i < r->nsvc && !seen; i++)
			seen = r->svc[i].pg == p;
		if (seen || p->port == 0)
			continue;
		snprintf(fix, sizeof fix, "%s:%u: remove this port entry (port %u), or make %s listen "
		                          "on the port",
		         cfg->path, p->line, p->port, mta);
		audit_add(r, p->port, "-", config_role_name(p->role), "port_listed", AUDIT_WARNING,
		          AUDIT_FRONT_BOTH, fix, "portguard.conf lists port %u, %s listens on no such port",
		          p->port, mta);
	}
}

bool audit_config(const struct pg_config *cfg, const struct audit_options *o,
                  struct audit_report *r)
{
	const char *dir = o->postfix_dir != NULL ? o->postfix_dir : cfg->relay.postfix_dir;
	const char *cf = o->sendmail_cf != NULL ? o->sendmail_cf : cfg->relay.sendmail_cf;
	int mta = o->mta;
	char main_cf[300];

	memset(r, 0, sizeof *r);
	if (mta == PG_MTA_AUTO && cfg->relay.from_mta != PG_MTA_NONE)
		mta = cfg->relay.from_mta;
	if (mta == PG_MTA_AUTO || mta == PG_MTA_NONE) {
		snprintf(main_cf, sizeof main_cf, "%s/main.cf", dir);
		mta = access(main_cf, F_OK) == 0 ? PG_MTA_POSTFIX
		      : access(cf, F_OK) == 0    ? PG_MTA_SENDMAIL
		                                 : PG_MTA_NONE;
	}
	r->mta = mta;
	snprintf(r->postfix_dir, sizeof r->postfix_dir, "%s", dir);
	snprintf(r->sendmail_cf, sizeof r->sendmail_cf, "%s", cf);
	if (mta == PG_MTA_POSTFIX)
		return audit_postfix(cfg, o, dir, r);
	if (mta == PG_MTA_SENDMAIL)
		return audit_sendmail(cfg, cf, r);
	audit_add(r, 0, "-", NULL, "config", AUDIT_UNKNOWN, AUDIT_FRONT_BOTH, NULL,
	          "found neither Postfix (%s/main.cf) nor Sendmail (%s)", dir, cf);
	return false;
}

void audit_log_own(const struct pg_config *cfg, const char *section)
{
	struct audit_options o;
	struct audit_report *r = calloc(1, sizeof *r);
	unsigned front = strcmp(section, "milter") == 0 ? AUDIT_FRONT_MILTER : AUDIT_FRONT_POLICYD;

	if (r == NULL || cfg->relay.from_mta == PG_MTA_NONE) {
		free(r);
		return;
	}
	audit_options_default(&o);
	audit_config(cfg, &o, r);
	for (size_t i = 0; i < r->n; i++) {
		const struct audit_finding *f = &r->v[i];
		if (f->status == AUDIT_CRITICAL && (f->front & front) != 0)
			log_warnx("audit: port=%u service=%s check=%s: %s; fix: %s", f->port,
			          f->service, f->check, f->detail, f->fix);
	}
	audit_report_free(r);
	free(r);
}
