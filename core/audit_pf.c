/*
 * audit_pf.c - the configuration audit of Postfix.
 *
 * Postfix is read with three postconf runs through mtafacts_run (time and
 * output bounded): `-xM` lists the services (each inet smtpd one is a port),
 * `-xP` their -o overrides, `-x NAME...` the effective main.cf values. A
 * service's effective setting is its override, else main.cf's. Each check
 * gives a finding per service (OK ones too, for the table), with the
 * postconf command that fixes it: `postconf -e` when the value comes from
 * main.cf, `postconf -P` when it comes from, or belongs to, the service.
 * Nothing is written to the MTA. A postconf run that fails is one UNKNOWN
 * finding quoting what postconf said.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "mtafacts.h"
#include "relay.h"

#define MAX_TOKENS 256 /* entries of one restriction or milter list */

static const char *const main_names[] = {
    "smtpd_sasl_auth_enable",   "smtpd_tls_auth_only",
    "smtpd_tls_security_level", "smtpd_tls_wrappermode",
    "smtpd_relay_restrictions", "smtpd_recipient_restrictions",
    "smtpd_milters",            "milter_default_action",
    "smtpd_policy_service_default_action", "smtpd_policy_service_policy_context",
    "milter_macro_daemon_name", "mynetworks",
    "queue_directory",
};
enum {
	P_SASL,
	P_AUTHONLY,
	P_LEVEL,
	P_WRAP,
	P_RELAY,
	P_RCPT,
	P_MILTERS,
	P_MDA,
	P_PDA,
	P_CONTEXT,
	P_MNAME,
	P_MYNET,
	P_QUEUE,
	P_N
};

bool audit_master_line(const char *line, char *name, size_t namelen)
{
	char f[8][128];
	int n = 0;
	const char *p = line;

	while (n < 8 && *(p += strspn(p, " \t")) != '\0') {
		size_t len = strcspn(p, " \t");
		snprintf(f[n++], sizeof f[0], "%.*s", (int)(len < 127 ? len : 127), p);
		p += len;
	}
	if (n < 8 || strcmp(f[1], "inet") != 0)
		return false;
	const char *cmd = strrchr(f[7], '/');
	cmd = cmd != NULL ? cmd + 1 : f[7];
	if (strcmp(cmd, "smtpd") != 0)
		return false;
	snprintf(name, namelen, "%s", f[0]);
	return true;
}

bool audit_param_line(char *line, char **svc, char **param, char **value)
{
	char *eq = strstr(line, " = "), *s1, *s2;

	if (eq == NULL) {
		size_t n = strlen(line);
		if (n >= 2 && strcmp(line + n - 2, " =") == 0)
			eq = line + n - 2;
		else
			return false;
	}
	*eq = '\0';
	*value = eq[1] == '=' && eq[2] == ' ' ? eq + 3 : eq + 2;
	if ((s1 = strchr(line, '/')) == NULL || (s2 = strchr(s1 + 1, '/')) == NULL)
		return false;
	*s2 = '\0';
	*svc = line;
	*param = s2 + 1;
	return true;
}

/* A socket spec of Postfix's or portguard's spelling, relative unix paths
 * under queue_dir. */
struct restr {
	char *name, *arg;
};

static bool takes_arg(const char *name)
{
	return strncmp(name, "check_", 6) == 0 || strncmp(name, "reject_rbl", 10) == 0 ||
	       strncmp(name, "reject_rhsbl", 12) == 0 || strncmp(name, "permit_dnswl", 12) == 0 ||
	       strncmp(name, "permit_rhswl", 12) == 0;
}

static int restr_split(char *buf, struct restr *v, int max, bool policy)
{
	char *tok[MAX_TOKENS];
	int nt = mtafacts_split(buf, tok, MAX_TOKENS), n = 0;

	if (nt < 0)
		return -1;
	for (int i = 0; i < nt && n < max; i++) {
		v[n].name = tok[i];
		v[n].arg = NULL;
		if (policy && takes_arg(tok[i]) && i + 1 < nt)
			v[n].arg = tok[++i];
		n++;
	}
	return n;
}

/* default_action=X inside "{ ... }" into action. */
static void brace_action(const char *arg, char *action, size_t len)
{
	const char *p = arg != NULL ? strstr(arg, "default_action") : NULL;

	action[0] = '\0';
	if (p == NULL || arg[0] != '{')
		return;
	p += strlen("default_action");
	p += strspn(p, " \t");
	if (*p != '=')
		return;
	p++;
	p += strspn(p, " \t");
	size_t n = strcspn(p, ",}");
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	snprintf(action, len, "%.*s", (int)n, p);
}

int audit_find_endpoint(const char *list, bool policy, const char *endpoint,
                        const char *queue_dir, char *action, size_t actionlen)
{
	struct restr v[MAX_TOKENS];
	char *buf = strdup(list);
	int n, found = -1;

	action[0] = '\0';
	if (buf == NULL || (n = restr_split(buf, v, MAX_TOKENS, policy)) < 0) {
		free(buf);
		return -1;
	}
	for (int i = 0; i < n && found < 0; i++) {
		const char *ep = policy ? v[i].arg : v[i].name;
		if (policy && strcmp(v[i].name, "check_policy_service") != 0)
			continue;
		if (ep != NULL && audit_same_socket(ep, endpoint, queue_dir)) {
			found = i;
			brace_action(ep, action, actionlen);
		}
	}
	free(buf);
	return found;
}

/* ---- Postfix ---- */

struct pf_service {
	char name[AUDIT_SERVICE_MAX];
	unsigned port;
	char *over[P_N]; /* -o overrides, malloc'd, NULL: main.cf's */
};

struct pf {
	const struct pg_config *cfg;
	const struct audit_options *o;
	struct audit_report *r;
	const char *dir;
	char *main[P_N];
	char *mainout, *masterout, *paramout;
	struct pf_service svc[AUDIT_SERVICES];
	size_t nsvc;
};

static const char *eff(const struct pf *x, const struct pf_service *s, int k)
{
	return s->over[k] != NULL ? s->over[k] : x->main[k] != NULL ? x->main[k] : "";
}

static bool is_yes(const char *v)
{
	return strcmp(v, "yes") == 0;
}

/* s with every ' made '\'' (for a single-quoted shell word). */
static void sh_quote(const char *s, char *out, size_t len)
{
	size_t u = 0;

	for (; *s != '\0' && u + 5 < len; s++) {
		if (*s == '\'') {
			memcpy(out + u, "'\\''", 4);
			u += 4;
		} else {
			out[u++] = *s;
		}
	}
	out[u] = '\0';
}

/* The postconf command that sets param to value: for the service when
 * service_only or when the service overrides it, else in main.cf. -P takes
 * no whitespace: a list is written with commas alone. */
static void fix_param(const struct pf *x, const struct pf_service *s, int k, const char *value,
                      bool service_only, char *fix, size_t len)
{
	char q[AUDIT_FIX_MAX], dir[300];
	int n;

	sh_quote(x->dir, dir, sizeof dir);
	if (s != NULL && (service_only || s->over[k] != NULL)) {
		char packed[AUDIT_FIX_MAX];
		size_t u = 0;
			int depth = 0;
		/* outside braces a run of blanks becomes one comma */
		for (const char *p = value; *p != '\0' && u + 1 < sizeof packed; p++) {
			depth += *p == '{' ? 1 : *p == '}' && depth > 0 ? -1 : 0;
			if (*p != ' ' && *p != '\t')
				packed[u++] = *p;
			else if (depth == 0 && u > 0 && packed[u - 1] != ',' && p[1] != ',' &&
			         p[1] != ' ' && p[1] != '\t')
				packed[u++] = ',';
		}
		packed[u] = '\0';
		sh_quote(packed, q, sizeof q);
		n = snprintf(fix, len, "postconf -c '%s' -P '%s/inet/%s=%s'", dir, s->name,
		             main_names[k], q);
	} else {
		sh_quote(value, q, sizeof q);
		n = snprintf(fix, len, "postconf -c '%s' -e '%s = %s'", dir, main_names[k], q);
	}
	if (n < 0 || (size_t)n >= len) /* a cut command would do harm: say so instead */
		snprintf(fix, len, "set %s (the value is too long to print here)", main_names[k]);
}

static bool pf_run(struct pf *x, const char *flag, char **names, size_t nnames, char **out)
{
	char *argv[8 + P_N] = {"postconf", "-c", (char *)x->dir, (char *)flag};
	char why[768];
	size_t a = 4;

	for (size_t i = 0; i < nnames; i++)
		argv[a++] = names[i];
	argv[a] = NULL;
	if (mtafacts_run(argv, x->o->timeout_ms, MTAFACTS_OUTPUT_MAX, out, why, sizeof why))
		return true;
	/* mtafacts_run's message starts with the whole command: name only the
	 * flag, so that what postconf said fits the finding */
	char cmd[768];
	size_t u = 0;
	const char *said = why;
	for (size_t i = 0; argv[i] != NULL && u + 1 < sizeof cmd; i++)
		u += (size_t)snprintf(cmd + u, sizeof cmd - u, "%s%s", i ? " " : "", argv[i]);
	if (u < sizeof cmd && strncmp(why, cmd, u) == 0 && why[u] == ':')
		said = why + u + 1;
	audit_add(x->r, 0, "postfix", NULL, "config", AUDIT_UNKNOWN, AUDIT_FRONT_BOTH, NULL,
	          "cannot read Postfix's configuration: postconf -c %s %s:%s", x->dir, flag, said);
	return false;
}

static int param_index(const char *name)
{
	for (int k = 0; k < P_N; k++)
		if (strcmp(main_names[k], name) == 0)
			return k;
	return -1;
}

static bool pf_read(struct pf *x)
{
	char *p, *line, *save = NULL;

	if (!pf_run(x, "-x", (char **)main_names, P_N, &x->mainout) ||
	    !pf_run(x, "-xM", NULL, 0, &x->masterout) || !pf_run(x, "-xP", NULL, 0, &x->paramout))
		return false;
	for (line = strtok_r(x->mainout, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strstr(line, " =");
		if (eq == NULL)
			continue;
		*eq = '\0';
		int k = param_index(line);
		if (k >= 0)
			x->main[k] = eq[2] == ' ' ? eq + 3 : eq + 2;
	}
	for (line = strtok_r(x->masterout, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct pf_service *s = &x->svc[x->nsvc];
		if (x->nsvc >= AUDIT_SERVICES || !audit_master_line(line, s->name, sizeof s->name))
			continue;
		s->port = audit_service_port(s->name);
		x->nsvc++;
	}
	for (p = strtok_r(x->paramout, "\n", &save); p != NULL; p = strtok_r(NULL, "\n", &save)) {
		char *svc, *param, *value;
		int k;
		if (!audit_param_line(p, &svc, &param, &value) || (k = param_index(param)) < 0)
			continue;
		char *slash = strchr(svc, '/');
		if (slash == NULL || strcmp(slash + 1, "inet") != 0)
			continue;
		*slash = '\0';
		for (size_t i = 0; i < x->nsvc; i++)
			if (strcmp(x->svc[i].name, svc) == 0 && x->svc[i].over[k] == NULL)
				x->svc[i].over[k] = value;
	}
	for (int k = 0; k < P_N; k++)
		if (x->main[k] == NULL) {
			audit_add(x->r, 0, "postfix", NULL, "config", AUDIT_UNKNOWN,
			          AUDIT_FRONT_BOTH, NULL, "postconf -c %s -x printed no %s", x->dir,
			          main_names[k]);
			return false;
		}
	return true;
}

/* The fail-open values of a policy service's default_action. */
static bool policy_fails_open(const char *a)
{
	static const char *const open[] = {"DUNNO", "OK", "PREPEND", "WARN", "INFO", "FILTER", NULL};
	for (size_t i = 0; open[i] != NULL; i++)
		if (strncasecmp(a, open[i], strlen(open[i])) == 0)
			return true;
	return false;
}

/* The list value with restriction `at` replaced by `with` (or, at < 0,
 * with `with` first; move: drop `at` and put `with` first). */
static void list_edit(const char *list, int at, bool move, const char *with, char *out, size_t len)
{
	struct restr v[MAX_TOKENS];
	char *buf = strdup(list);
	size_t u = 0;
	int n;

	out[0] = '\0';
	if (buf == NULL || (n = restr_split(buf, v, MAX_TOKENS, true)) < 0) {
		free(buf);
		return;
	}
	if (at < 0 || move)
		u += (size_t)snprintf(out + u, len - u, "%s", with);
	for (int i = 0; i < n && u + 1 < len; i++) {
		const char *sep = u > 0 ? ", " : "";
		if (i == at) {
			if (!move)
				u += (size_t)snprintf(out + u, len - u, "%s%s", sep, with);
			continue;
		}
		u += (size_t)snprintf(out + u, len - u, "%s%s%s%s", sep, v[i].name,
		                      v[i].arg != NULL ? " " : "", v[i].arg != NULL ? v[i].arg : "");
	}
	free(buf);
}

/* portguard's policy endpoint as main.cf spells it (relative to the queue
 * directory when it lies under it). */
static void policy_endpoint(const struct pf *x, char *out, size_t len)
{
	const char *l = x->cfg->policyd_nlisten > 0 ? x->cfg->policyd_listen[0] : "";
	const char *q = x->main[P_QUEUE];
	size_t nq = strlen(q);

	if (strncmp(l, "unix:", 5) == 0 && nq > 0 && strncmp(l + 5, q, nq) == 0 && l[5 + nq] == '/')
		snprintf(out, len, "unix:%s", l + 6 + nq);
	else
		snprintf(out, len, "%s", l);
}

static void pf_service(struct pf *x, struct pf_service *s)
{
	struct audit_report *r = x->r;
	bool listed;
	const char *label = eff(x, s, P_CONTEXT);
	const struct pg_port *pg = audit_match(x->cfg, s->port, label, &listed);
	if (!listed)
		pg = audit_match(x->cfg, s->port, eff(x, s, P_MNAME), &listed);
	const char *role = config_role_name(pg->role), *q = x->main[P_QUEUE];
	bool sasl = is_yes(eff(x, s, P_SASL)), wrap = is_yes(eff(x, s, P_WRAP));
	bool encrypt = strcmp(eff(x, s, P_LEVEL), "encrypt") == 0;
	char fix[AUDIT_FIX_MAX], pact[128] = "", mact[128] = "", ep[300], entry[400],
	                                   list[AUDIT_FIX_MAX];
	int pin = -1, min = -1, which = P_RELAY;
	unsigned front = 0;

	if (x->r->nsvc < AUDIT_SERVICES) {
		struct audit_service *a = &r->svc[r->nsvc++];
		a->port = s->port;
		snprintf(a->name, sizeof a->name, "%s", s->name);
		a->pg = pg;
		a->listed = listed;
		a->wrapper = wrap;
		a->sasl = sasl;
		a->encrypt = encrypt;
	}
	/* what closes an open relay: portguard and the permit_* entries for
	 * trusted and authenticated clients, then reject_unauth_destination,
	 * then the rest (a bare permit dropped) */
	if (r->nsvc > 0 && r->svc[r->nsvc - 1].port == s->port) {
		static const char *const trusted[] = {"permit_mynetworks", "permit_sasl_authenticated",
		                                      "permit_tls_clientcerts",
		                                      "permit_tls_all_clientcerts", NULL};
		char closed[AUDIT_FIX_MAX];
		size_t u = 0;
		struct restr v[MAX_TOKENS];
		char *buf = strdup(eff(x, s, P_RELAY));
		int n = buf != NULL ? restr_split(buf, v, MAX_TOKENS, true) : -1;
		for (int pass = 0; pass < 3; pass++) {
			if (pass == 2 && u + 1 < sizeof closed)
				u += (size_t)snprintf(closed + u, sizeof closed - u,
				                      "%sreject_unauth_destination", u ? ", " : "");
			for (int i = 0; i < n && u + 1 < sizeof closed; i++) {
				bool policy = strcmp(v[i].name, "check_policy_service") == 0, trust = false;
				for (size_t t = 0; trusted[t] != NULL; t++)
					trust = trust || strcmp(v[i].name, trusted[t]) == 0;
				if ((pass == 0) != policy || (pass == 1) != (trust && !policy) ||
				    strcmp(v[i].name, "permit") == 0 ||
				    strcmp(v[i].name, "reject_unauth_destination") == 0)
					continue;
				u += (size_t)snprintf(closed + u, sizeof closed - u, "%s%s%s%s",
				                      u ? ", " : "", v[i].name, v[i].arg ? " " : "",
				                      v[i].arg ? v[i].arg : "");
			}
		}
		free(buf);
		fix_param(x, s, P_RELAY, closed, false, r->svc[r->nsvc - 1].fix_relay,
		          sizeof r->svc[0].fix_relay);
	}
	/* portguard in the effective restrictions, or the milter */
	for (size_t i = 0; pin < 0 && i < x->cfg->policyd_nlisten; i++) {
		pin = audit_find_endpoint(eff(x, s, P_RELAY), true, x->cfg->policyd_listen[i], q,
		                          pact, sizeof pact);
		if (pin < 0 && (pin = audit_find_endpoint(eff(x, s, P_RCPT), true,
		                                          x->cfg->policyd_listen[i], q, pact,
		                                          sizeof pact)) >= 0)
			which = P_RCPT;
	}
	if (x->cfg->milter_listen != NULL)
		min = audit_find_endpoint(eff(x, s, P_MILTERS), false, x->cfg->milter_listen, q, mact,
		                          sizeof mact);
	front = (pin >= 0 ? AUDIT_FRONT_POLICYD : 0) | (min >= 0 ? AUDIT_FRONT_MILTER : 0);
	if (front == 0)
		front = AUDIT_FRONT_BOTH;
	policy_endpoint(x, ep, sizeof ep);
	snprintf(entry, sizeof entry, "check_policy_service { %s, default_action=DEFER_IF_PERMIT }",
	         ep);

	/* AUTH without TLS */
	if (sasl && !wrap && !encrypt && !is_yes(eff(x, s, P_AUTHONLY)) &&
	    !pg->allow_plaintext_auth) {
		fix_param(x, s, P_AUTHONLY, "yes", false, fix, sizeof fix);
		audit_add(r, s->port, s->name, role, "auth_plaintext", AUDIT_CRITICAL, front, fix,
		          "AUTH is offered and accepted without TLS (smtpd_tls_auth_only = no)");
	} else {
		audit_add(r, s->port, s->name, role, "auth_plaintext", AUDIT_OK, front, NULL,
		          sasl ? "AUTH only with TLS" : "AUTH not offered");
	}
	/* TLS as the port promises */
	if (pg->tls == PG_TLS_IMPLICIT && !wrap) {
		fix_param(x, s, P_WRAP, "yes", true, fix, sizeof fix);
		audit_add(r, s->port, s->name, role, "tls_wrapper", AUDIT_CRITICAL, front, fix,
		          "portguard says implicit TLS, but Postfix does not wrap the port "
		          "(smtpd_tls_wrappermode = no): clients talk in clear");
	} else if (pg->tls == PG_TLS_IMPLICIT) {
		audit_add(r, s->port, s->name, role, "tls_wrapper", AUDIT_OK, front, NULL,
		          "wrapped in TLS");
	} else if (pg->tls == PG_TLS_STARTTLS && pg->role == PG_ROLE_RELAY && !wrap) {
		/* A relay port: portguard refuses mail without TLS itself (rule 3),
		 * and a public MX must not require TLS of other servers (RFC 3207):
		 * Postfix need only offer STARTTLS. */
		const char *level = eff(x, s, P_LEVEL);
		if (*level == '\0' || strcmp(level, "none") == 0) {
			fix_param(x, s, P_LEVEL, "may", true, fix, sizeof fix);
			audit_add(r, s->port, s->name, role, "tls_encrypt", AUDIT_WARNING, front, fix,
			          "portguard requires STARTTLS on this relay port, but Postfix does "
			          "not offer it (smtpd_tls_security_level = %s): all mail is refused",
			          *level != '\0' ? level : "(empty)");
		} else {
			audit_add(r, s->port, s->name, role, "tls_encrypt", AUDIT_OK, front, NULL,
			          "STARTTLS offered (%s); portguard refuses mail without it", level);
		}
	} else if (pg->tls == PG_TLS_STARTTLS && !encrypt && !wrap) {
		fix_param(x, s, P_LEVEL, "encrypt", true, fix, sizeof fix);
		audit_add(r, s->port, s->name, role, "tls_encrypt", AUDIT_WARNING, front, fix,
		          "portguard says STARTTLS is required, but Postfix does not require it "
		          "(smtpd_tls_security_level = %s)",
		          eff(x, s, P_LEVEL));
	} else if (pg->tls == PG_TLS_STARTTLS) {
		audit_add(r, s->port, s->name, role, "tls_encrypt", AUDIT_OK, front, NULL,
		          "TLS required");
	}
	/* portguard asked at all, and first */
	if (pin < 0 && min < 0) {
		list_edit(eff(x, s, P_RELAY), -1, false, entry, list, sizeof list);
		fix_param(x, s, P_RELAY, list, false, fix, sizeof fix);
		audit_add(r, s->port, s->name, role, "portguard_hooked", AUDIT_CRITICAL, front, fix,
		          "portguard is in neither the service's effective smtpd_relay_restrictions "
		          "nor smtpd_recipient_restrictions, and its milter is not in smtpd_milters");
	} else if (pin > 0 && min < 0) {
		list_edit(eff(x, s, which), pin, true, entry, list, sizeof list);
		fix_param(x, s, which, list, false, fix, sizeof fix);
		audit_add(r, s->port, s->name, role, "portguard_hooked", AUDIT_WARNING, front, fix,
		          "portguard is entry %d of %s, not the first: the restrictions before it "
		          "end the list for some clients without asking it",
		          pin + 1, main_names[which]);
	} else {
		audit_add(r, s->port, s->name, role, "portguard_hooked", AUDIT_OK, front, NULL,
		          "%s", pin >= 0 ? "first in the restrictions" : "milter in smtpd_milters");
	}
	/* fail open */
	if (pin >= 0) {
		const char *a = pact[0] != '\0' ? pact : eff(x, s, P_PDA);
		if (policy_fails_open(a)) {
			if (pact[0] != '\0') {
				list_edit(eff(x, s, which), pin, false, entry, list, sizeof list);
				fix_param(x, s, which, list, false, fix, sizeof fix);
			} else {
				fix_param(x, s, P_PDA, "DEFER_IF_PERMIT", false, fix, sizeof fix);
			}
			audit_add(r, s->port, s->name, role, "fail_open", AUDIT_WARNING,
			          AUDIT_FRONT_POLICYD, fix,
			          "default_action=%s: while portguard cannot be asked, mail passes "
			          "unchecked",
			          a);
		} else {
			audit_add(r, s->port, s->name, role, "fail_open", AUDIT_OK,
			          AUDIT_FRONT_POLICYD, NULL, "policy default_action=%s", a);
		}
	}
	if (min >= 0) {
		const char *a = mact[0] != '\0' ? mact : eff(x, s, P_MDA);
		if (strcasecmp(a, "accept") == 0) {
			fix_param(x, s, P_MDA, "tempfail", false, fix, sizeof fix);
			audit_add(r, s->port, s->name, role, "fail_open", AUDIT_WARNING,
			          AUDIT_FRONT_MILTER, fix,
			          "milter default_action=accept: while portguard cannot be asked, "
			          "mail passes unchecked");
		} else {
			audit_add(r, s->port, s->name, role, "fail_open", AUDIT_OK, AUDIT_FRONT_MILTER,
			          NULL, "milter default_action=%s", a);
		}
	}
	/* AUTH where portguard forbids it */
	if (pg->auth == PG_AUTH_FORBIDDEN && sasl) {
		fix_param(x, s, P_SASL, "no", true, fix, sizeof fix);
		audit_add(r, s->port, s->name, role, "auth_offered", AUDIT_WARNING, front, fix,
		          "portguard forbids AUTH on this port, but Postfix offers it");
	} else if (pg->auth == PG_AUTH_FORBIDDEN) {
		audit_add(r, s->port, s->name, role, "auth_offered", AUDIT_OK, front, NULL,
		          "AUTH not offered");
	}
}

/* mynetworks entries wider than the options allow (loopback excepted). */
static void pf_mynetworks(struct pf *x)
{
	char *buf = strdup(x->main[P_MYNET]), *tok[MAX_TOKENS], keep[AUDIT_FIX_MAX] = "",
	     wide[512] = "", fix[AUDIT_FIX_MAX];
	int n = buf != NULL ? mtafacts_split(buf, tok, MAX_TOKENS) : -1;
	size_t uk = 0, uw = 0;

	snprintf(x->r->mynetworks, sizeof x->r->mynetworks, "%s", x->main[P_MYNET]);
	for (int i = 0; i < n; i++) {
		char type[32], plain[128];
		struct pg_net net;
		bool too_wide = false;
		const char *t = tok[i];
		if (mtafacts_entry_kind(t, type, sizeof type) == MTA_ENTRY_VALUE) {
			const char *close = t[0] == '[' ? strchr(t, ']') : NULL;
			if (close != NULL)
				snprintf(plain, sizeof plain, "%.*s%s", (int)(close - t - 1), t + 1,
				         close + 1);
			else
				snprintf(plain, sizeof plain, "%s", t);
			if (relay_net_parse(plain, &net)) {
				bool v4 = net.family == AF_INET;
				bool loop = v4 ? net.addr[0] == 127 && net.prefix >= 8
				               : (net.prefix == 128 && net.addr[15] == 1 &&
				                  memcmp(net.addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) == 0) ||
				                     (net.prefix >= 104 && net.addr[10] == 0xff &&
				                      net.addr[11] == 0xff && net.addr[12] == 127);
				too_wide = !loop && net.prefix < (v4 ? x->o->net4_prefix : x->o->net6_prefix);
			}
		}
		if (too_wide)
			uw += (size_t)snprintf(wide + uw, sizeof wide - uw, "%s%s", uw ? ", " : "", t);
		else if (uk + 1 < sizeof keep)
			uk += (size_t)snprintf(keep + uk, sizeof keep - uk, "%s%s", uk ? " " : "", t);
		if (uw >= sizeof wide)
			uw = sizeof wide - 1;
		if (uk >= sizeof keep)
			uk = sizeof keep - 1;
	}
	free(buf);
	if (uw > 0) {
		fix_param(x, NULL, P_MYNET, keep, false, fix, sizeof fix);
		audit_add(x->r, 0, "main.cf", NULL, "mynetworks", AUDIT_WARNING, AUDIT_FRONT_BOTH, fix,
		          "mynetworks holds %s, wider than /%u (IPv4) or /%u (IPv6): every client "
		          "there may relay",
		          wide, x->o->net4_prefix, x->o->net6_prefix);
	} else {
		audit_add(x->r, 0, "main.cf", NULL, "mynetworks", AUDIT_OK, AUDIT_FRONT_BOTH, NULL,
		          "no network wider than /%u or /%u", x->o->net4_prefix, x->o->net6_prefix);
	}
}

bool audit_postfix(const struct pg_config *cfg, const struct audit_options *o,
                          const char *dir, struct audit_report *r)
{
	struct pf *x = calloc(1, sizeof *x);
	bool ok;

	if (x == NULL)
		return false;
	x->cfg = cfg;
	x->o = o;
	x->r = r;
	x->dir = dir;
	ok = pf_read(x);
	if (ok && x->nsvc == 0) {
		audit_add(r, 0, "postfix", NULL, "config", AUDIT_UNKNOWN, AUDIT_FRONT_BOTH, NULL,
		          "master.cf in %s has no inet smtpd service", dir);
		ok = false;
	}
	for (size_t i = 0; ok && i < x->nsvc; i++)
		pf_service(x, &x->svc[i]);
	if (ok) {
		pf_mynetworks(x);
		audit_ports_listed(cfg, r, "Postfix");
	}
	free(x->mainout);
	free(x->masterout);
	free(x->paramout);
	free(x);
	return ok;
}
