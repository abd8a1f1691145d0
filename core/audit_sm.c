/*
 * audit_sm.c - the configuration audit of a sendmail.cf.
 *
 * Reads the file once, lines bounded by MTAFACTS_LINE_MAX: the "V" line (a
 * file without one is not a sendmail.cf), every O DaemonPortOptions (a
 * port, its Name= and M= flags), O AuthOptions, O InputMailFilters and the
 * X (milter) lines. Each finding's fix is the sendmail.cf line to write, in
 * the form "FILE: LINE" (the line of the same option, or the same filter,
 * is replaced; the .mc spelling is in the man page). Unreadable or not a
 * sendmail.cf: one UNKNOWN finding.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "mtafacts.h"
#include "why.h"

#define SM_FILTERS 16

struct sm_port {
	unsigned port;
	char name[AUDIT_SERVICE_MAX];
	char flags[32];
	char value[512]; /* the DaemonPortOptions value as written */
};

struct sm_filter {
	char name[64], sock[256], flags[16];
	char line[512];
};

/* src into dst when it fits: truncation is an error, never a cut. */
static bool take(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

static void trim(char *s)
{
	size_t n = strlen(s), a = strspn(s, " \t");

	while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	memmove(s, s + a, n - a);
	s[n - a] = '\0';
}

bool audit_sm_daemon(const char *value, unsigned *port, char *name, size_t namelen, char *flags,
                     size_t flagslen)
{
	char buf[512], *save = NULL;

	*port = 25;
	snprintf(name, namelen, "%s", "");
	snprintf(flags, flagslen, "%s", "");
	if (strlen(value) >= sizeof buf)
		return false;
	snprintf(buf, sizeof buf, "%s", value);
	for (char *it = strtok_r(buf, ",", &save); it != NULL; it = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(it, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		trim(it);
		trim(eq + 1);
		if (strcmp(it, "Port") == 0 || strcmp(it, "P") == 0) {
			if ((*port = audit_service_port(eq + 1)) == 0)
				return false;
		} else if (strcmp(it, "Name") == 0 || strcmp(it, "N") == 0) {
			snprintf(name, namelen, "%s", eq + 1);
		} else if (strcmp(it, "M") == 0 || strcmp(it, "Modifiers") == 0) {
			snprintf(flags, flagslen, "%s", eq + 1);
		}
	}
	return true;
}

bool audit_sm_filter(const char *line, char *name, size_t namelen, char *sock, size_t socklen,
                     char *flags, size_t flagslen)
{
	char buf[512], *save = NULL, *it;

	if (line[0] != 'X' || strlen(line) >= sizeof buf)
		return false;
	snprintf(buf, sizeof buf, "%s", line + 1);
	snprintf(sock, socklen, "%s", "");
	snprintf(flags, flagslen, "%s", "");
	if ((it = strtok_r(buf, ",", &save)) == NULL)
		return false;
	trim(it);
	if (*it == '\0')
		return false;
	snprintf(name, namelen, "%s", it);
	while ((it = strtok_r(NULL, ",", &save)) != NULL) {
		trim(it);
		if (strncmp(it, "S=", 2) == 0)
			snprintf(sock, socklen, "%s", it + 2);
		else if (strncmp(it, "F=", 2) == 0)
			snprintf(flags, flagslen, "%s", it + 2);
	}
	return true;
}

/* value with its M= flags replaced by flags. */
static void with_flags(const char *value, const char *flags, char *out, size_t len)
{
	char buf[512], *save = NULL;
	size_t u = 0;
	bool done = false;

	snprintf(buf, sizeof buf, "%s", value);
	out[0] = '\0';
	for (char *it = strtok_r(buf, ",", &save); it != NULL && u + 1 < len;
	     it = strtok_r(NULL, ",", &save)) {
		trim(it);
		if (strncmp(it, "M=", 2) == 0 || strncmp(it, "Modifiers=", 10) == 0) {
			u += (size_t)snprintf(out + u, len - u, "%sM=%s", u ? ", " : "", flags);
			done = true;
		} else {
			u += (size_t)snprintf(out + u, len - u, "%s%s", u ? ", " : "", it);
		}
	}
	if (!done && u + 1 < len)
		snprintf(out + u, len - u, "%sM=%s", u ? ", " : "", flags);
}

/* The fix of a port: its DaemonPortOptions line with flag f added to M=. */
static void flag_fix(const char *cf, const struct sm_port *p, char f, char *fix, size_t len)
{
	char flags[40], v[600];

	snprintf(flags, sizeof flags, "%s%c", p->flags, f);
	with_flags(p->value, flags, v, sizeof v);
	snprintf(fix, len, "%s: O DaemonPortOptions=%s", cf, v);
}

struct sm {
	struct sm_port ports[AUDIT_SERVICES];
	size_t nports;
	struct sm_filter filters[SM_FILTERS];
	size_t nfilters;
	char auth[128], input[512];
	bool version;
};

static bool sm_read(const char *cf, struct sm *s, char *why, size_t whylen)
{
	char line[MTAFACTS_LINE_MAX + 2];
	unsigned lineno = 0;
	FILE *fp = fopen(cf, "r");

	if (fp == NULL)
		return why_set(why, whylen, "cannot read \"%s\": %s", cf, strerror(errno));
	while (fgets(line, sizeof line, fp) != NULL) {
		size_t n = strlen(line);
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(fp)) {
			fclose(fp);
			return why_set(why, whylen, "%s:%u: line longer than %d bytes", cf, lineno,
			               MTAFACTS_LINE_MAX);
		}
		if (line[0] == 'V' && line[1] >= '0' && line[1] <= '9')
			s->version = true;
		if (strncmp(line, "O DaemonPortOptions=", 20) == 0 && s->nports < AUDIT_SERVICES) {
			struct sm_port *p = &s->ports[s->nports];
			if (!take(p->value, sizeof p->value, line + 20) ||
			    !audit_sm_daemon(p->value, &p->port, p->name, sizeof p->name, p->flags,
			                     sizeof p->flags)) {
				fclose(fp);
				return why_set(why, whylen,
				               "%s:%u: a DaemonPortOptions line portguard "
				               "cannot read",
				               cf, lineno);
			}
			s->nports++;
		} else if (strncmp(line, "O AuthOptions=", 14) == 0 ||
		           strncmp(line, "O InputMailFilters=", 19) == 0) {
			bool auth = line[2] == 'A';
			if (!(auth ? take(s->auth, sizeof s->auth, line + 14)
			           : take(s->input, sizeof s->input, line + 19))) {
				fclose(fp);
				return why_set(why, whylen,
				               "%s:%u: the value is longer than "
				               "portguard-audit reads",
				               cf, lineno);
			}
		} else if (line[0] == 'X' && s->nfilters < SM_FILTERS) {
			struct sm_filter *f = &s->filters[s->nfilters];
			if (audit_sm_filter(line, f->name, sizeof f->name, f->sock, sizeof f->sock,
			                    f->flags, sizeof f->flags)) {
				snprintf(f->line, sizeof f->line, "%s", line);
				s->nfilters++;
			}
		}
	}
	fclose(fp);
	if (!s->version)
		return why_set(why, whylen, "\"%s\" is not a sendmail.cf (no V line)", cf);
	if (s->nports == 0) { /* sendmail's default: port 25, Name=MTA */
		s->ports[0].port = 25;
		snprintf(s->ports[0].name, sizeof s->ports[0].name, "MTA");
		snprintf(s->ports[0].value, sizeof s->ports[0].value, "Port=25, Name=MTA");
		s->nports = 1;
	}
	return true;
}

/* name is a word of the comma-separated list. */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p != '\0';) {
		p += strspn(p, " ,\t");
		size_t len = strcspn(p, " ,\t");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len;
	}
	return false;
}

bool audit_sendmail(const struct pg_config *cfg, const char *cf, struct audit_report *r)
{
	struct sm *s = calloc(1, sizeof *s);
	const struct sm_filter *pgf = NULL;
	char why[512], fix[AUDIT_FIX_MAX];

	if (s == NULL)
		return false;
	if (!sm_read(cf, s, why, sizeof why)) {
		audit_add(r, 0, "sendmail", NULL, "config", AUDIT_UNKNOWN, AUDIT_FRONT_MILTER, NULL,
		          "cannot read Sendmail's configuration: %s", why);
		free(s);
		return false;
	}
	for (size_t i = 0; i < s->nfilters && pgf == NULL; i++)
		if (cfg->milter_listen != NULL &&
		    audit_same_socket(s->filters[i].sock, cfg->milter_listen, NULL))
			pgf = &s->filters[i];
	bool plain_ok = strchr(s->auth, 'p') != NULL;
	for (size_t i = 0; i < s->nports; i++) {
		const struct sm_port *p = &s->ports[i];
		bool listed;
		const struct pg_port *pg = audit_match(cfg, p->port, p->name, &listed);
		const char *role = config_role_name(pg->role), *name = p->name[0] ? p->name : "-";
		bool wrap = strchr(p->flags, 's') != NULL, noauth = strchr(p->flags, 'A') != NULL;
		const unsigned fr = AUDIT_FRONT_MILTER;
		if (r->nsvc < AUDIT_SERVICES) {
			struct audit_service *a = &r->svc[r->nsvc++];
			a->port = p->port;
			snprintf(a->name, sizeof a->name, "%s", name);
			a->pg = pg;
			a->listed = listed;
			a->wrapper = wrap;
			a->sasl = !noauth;
			a->encrypt = strchr(p->flags, 'a') != NULL;
		}
		if (!noauth && !wrap && !plain_ok && !pg->allow_plaintext_auth) {
			snprintf(fix, sizeof fix, "%s: O AuthOptions=%s%sp", cf, s->auth,
			         s->auth[0] ? "," : "");
			audit_add(r, p->port, name, role, "auth_plaintext", AUDIT_CRITICAL, fr, fix,
			          "AuthOptions=%s lacks p: AUTH PLAIN/LOGIN is offered without TLS "
			          "(sendmail.mc: define(`confAUTH_OPTIONS', `p,y'))",
			          s->auth);
		} else {
			audit_add(r, p->port, name, role, "auth_plaintext", AUDIT_OK, fr, NULL,
			          noauth ? "AUTH not offered (M=A)" : "AUTH only with TLS");
		}
		if (pg->tls == PG_TLS_IMPLICIT && !wrap) {
			flag_fix(cf, p, 's', fix, sizeof fix);
			audit_add(
			    r, p->port, name, role, "tls_wrapper", AUDIT_CRITICAL, fr, fix,
			    "portguard says implicit TLS, but the port lacks M=s: clients talk "
			    "in clear");
		} else if (pg->tls == PG_TLS_IMPLICIT) {
			audit_add(r, p->port, name, role, "tls_wrapper", AUDIT_OK, fr, NULL,
			          "wrapped in TLS (M=s)");
		} else if (pg->tls == PG_TLS_STARTTLS && pg->role == PG_ROLE_RELAY && !wrap) {
			/* M=a would refuse mail from other servers; portguard refuses
			 * mail without TLS itself, and --probe checks STARTTLS is offered */
			audit_add(r, p->port, name, role, "tls_encrypt", AUDIT_OK, fr, NULL,
			          "a relay port: portguard refuses mail without TLS (rule 3); "
			          "--probe checks that STARTTLS is offered");
		} else if (pg->tls == PG_TLS_STARTTLS && !wrap && strchr(p->flags, 'a') == NULL) {
			flag_fix(cf, p, 'a', fix, sizeof fix);
			audit_add(r, p->port, name, role, "tls_encrypt", AUDIT_WARNING, fr, fix,
			          "portguard says STARTTLS is required, but the port takes mail "
			          "without AUTH (no M=a), so without TLS");
		} else if (pg->tls == PG_TLS_STARTTLS) {
			audit_add(r, p->port, name, role, "tls_encrypt", AUDIT_OK, fr, NULL,
			          "mail only after AUTH (M=a), AUTH only with TLS");
		}
		if (pg->auth == PG_AUTH_FORBIDDEN && !noauth) {
			flag_fix(cf, p, 'A', fix, sizeof fix);
			audit_add(r, p->port, name, role, "auth_offered", AUDIT_WARNING, fr, fix,
			          "portguard forbids AUTH on this port, but Sendmail offers it (no "
			          "M=A)");
		} else if (pg->auth == PG_AUTH_FORBIDDEN) {
			audit_add(r, p->port, name, role, "auth_offered", AUDIT_OK, fr, NULL,
			          "AUTH not offered (M=A)");
		}
	}
	/* the milter: defined, used, failing closed */
	const char *sock = cfg->milter_listen != NULL ? cfg->milter_listen : "";
	if (pgf == NULL) {
		snprintf(fix, sizeof fix, "%s: Xportguard, S=%s, F=T, T=C:10s;S:10s;R:10s;E:30s",
		         cf, sock);
		audit_add(r, 0, "sendmail.cf", NULL, "portguard_hooked", AUDIT_CRITICAL,
		          AUDIT_FRONT_MILTER, fix,
		          "no X (milter) line names portguard's socket %s: no port is checked",
		          sock);
	} else if (!in_list(s->input, pgf->name)) {
		snprintf(fix, sizeof fix, "%s: O InputMailFilters=%s%s%s", cf, s->input,
		         s->input[0] ? "," : "", pgf->name);
		audit_add(
		    r, 0, "sendmail.cf", NULL, "portguard_hooked", AUDIT_CRITICAL,
		    AUDIT_FRONT_MILTER, fix,
		    "the milter %s is defined but not in InputMailFilters: Sendmail never asks "
		    "it",
		    pgf->name);
	} else {
		audit_add(r, 0, "sendmail.cf", NULL, "portguard_hooked", AUDIT_OK,
		          AUDIT_FRONT_MILTER, NULL, "milter %s in InputMailFilters", pgf->name);
	}
	if (pgf != NULL && strchr(pgf->flags, 'T') == NULL && strchr(pgf->flags, 'R') == NULL) {
		char line[600];
		size_t u =
		    (size_t)snprintf(line, sizeof line, "X%s, S=%s, F=T", pgf->name, pgf->sock);
		const char *t = strstr(pgf->line, "T=");
		if (t != NULL && u < sizeof line)
			snprintf(line + u, sizeof line - u, ", %s", t);
		snprintf(fix, sizeof fix, "%s: %s", cf, line);
		audit_add(r, 0, "sendmail.cf", NULL, "fail_open", AUDIT_WARNING, AUDIT_FRONT_MILTER,
		          fix,
		          "the milter %s has no F=T (or F=R): while portguard cannot be asked, "
		          "mail passes unchecked",
		          pgf->name);
	} else if (pgf != NULL) {
		audit_add(r, 0, "sendmail.cf", NULL, "fail_open", AUDIT_OK, AUDIT_FRONT_MILTER,
		          NULL, "F=%s", pgf->flags);
	}
	audit_ports_listed(cfg, r, "Sendmail");
	free(s);
	return true;
}
