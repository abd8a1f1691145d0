/*
 * ports.c - which port a log line's service is: Postfix's syslog name
 * (postfix/submission, from master.cf's -o syslog_name of an inet smtpd
 * service, $service_name expanded) or a Sendmail daemon name (MTA), through
 * the map (master.cf, then --port-map, which wins), else the name's last
 * part as a service name or number (getservbyname), plain "postfix" being
 * 25. Resolved names are cached: getservbyname() reads a file. Fixed
 * tables (AGG_PORTMAP names); a name past the table is refused.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "agg.h"

static struct {
	char name[AGG_KEY_MAX];
	char port[AGG_KEY_MAX];
} portmap[AGG_PORTMAP];
static unsigned nportmap;

/* The names resolved so far (getservbyname reads a file): a small cache
 * in front of port_resolve(), replaced round-robin when full. */
#define PORT_CACHE 32
static struct {
	bool postfix;
	char name[AGG_KEY_MAX];
	char port[AGG_KEY_MAX];
} port_cache[PORT_CACHE];
static unsigned port_cache_n, port_cache_next;

/* A service name or number as a port number, else the name itself. */
static void port_word(char *dst, const char *svc)
{
	struct servent *se;
	const char *p = svc;

	while (*p >= '0' && *p <= '9')
		p++;
	if (*svc != '\0' && *p == '\0') {
		snprintf(dst, AGG_KEY_MAX, "%s", svc);
		return;
	}
	se = getservbyname(svc, "tcp");
	if (se != NULL)
		snprintf(dst, AGG_KEY_MAX, "%d", ntohs((unsigned short)se->s_port));
	else
		snprintf(dst, AGG_KEY_MAX, "%s", svc);
}

bool agg_portmap_add(const char *name, size_t n, const char *port)
{
	struct rp_str s = {name, n};

	port_cache_n = 0;

	for (unsigned i = 0; i < nportmap; i++)
		if (key_eq(portmap[i].name, s)) {
			port_word(portmap[i].port, port);
			return true;
		}
	if (nportmap == AGG_PORTMAP)
		return false;
	key_copy(portmap[nportmap].name, s);
	port_word(portmap[nportmap].port, port);
	nportmap++;
	return true;
}

static const char *portmap_find(struct rp_str s)
{
	for (unsigned i = 0; i < nportmap; i++)
		if (key_eq(portmap[i].name, s))
			return portmap[i].port;
	return NULL;
}

/* One master.cf entry (continuation lines joined): an inet smtpd service
 * maps its syslog_name to its port. */
static void master_entry(char *e)
{
	char *f[8], *save = NULL, *tok, *svc, *colon;
	char name[AGG_KEY_MAX] = "postfix";
	int nf = 0;

	for (tok = strtok_r(e, " \t", &save); tok != NULL && nf < 8; tok = strtok_r(NULL, " \t", &save))
		f[nf++] = tok;
	if (nf < 8 || strcmp(f[1], "inet") != 0 || strcmp(f[7], "smtpd") != 0)
		return;
	svc = f[0];
	colon = strrchr(svc, ':');
	for (; tok != NULL; tok = strtok_r(NULL, " \t{}", &save)) {
		const char *v = NULL;
		if (strncmp(tok, "syslog_name=", 12) == 0)
			v = tok + 12;
		else if (strcmp(tok, "syslog_name") == 0) {
			tok = strtok_r(NULL, " \t{}=", &save);
			v = tok;
		}
		if (v != NULL) {
			const char *d = strstr(v, "$service_name");
			const char *b = strstr(v, "${service_name}");
			if (b != NULL)
				snprintf(name, sizeof name, "%.*s%s%s", (int)(b - v), v, svc, b + 15);
			else if (d != NULL)
				snprintf(name, sizeof name, "%.*s%s%s", (int)(d - v), v, svc, d + 13);
			else
				snprintf(name, sizeof name, "%s", v);
		}
		if (tok == NULL)
			break;
	}
	agg_portmap_add(name, strlen(name), colon != NULL ? colon + 1 : svc);
}

bool agg_portmap_master_cf(const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char line[1024], entry[4096] = "";

	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return false;
	}
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#')
			continue;
		if (line[0] == ' ' || line[0] == '\t') {
			size_t used = strlen(entry);
			snprintf(entry + used, sizeof entry - used, " %s", line);
			continue;
		}
		if (entry[0] != '\0')
			master_entry(entry);
		snprintf(entry, sizeof entry, "%s", line);
	}
	if (entry[0] != '\0')
		master_entry(entry);
	fclose(fp);
	return true;
}

static void port_resolve(char *dst, struct rp_str name, bool postfix);

/* Postfix's syslog name (postfix/submission) or a Sendmail daemon name as a
 * port: the map, else its last part as a service name or number. */
void ports_of(char *dst, struct rp_str name, bool postfix)
{
	unsigned k;

	for (k = 0; k < port_cache_n; k++)
		if (port_cache[k].postfix == postfix && key_eq(port_cache[k].name, name)) {
			memcpy(dst, port_cache[k].port, AGG_KEY_MAX);
			return;
		}
	port_resolve(dst, name, postfix);
	if (port_cache_n < PORT_CACHE)
		k = port_cache_n++;
	else
		k = port_cache_next++ % PORT_CACHE;
	port_cache[k].postfix = postfix;
	key_copy(port_cache[k].name, name);
	memcpy(port_cache[k].port, dst, AGG_KEY_MAX);
}

static void port_resolve(char *dst, struct rp_str name, bool postfix)
{
	const char *p = portmap_find(name);
	char last[AGG_KEY_MAX];

	if (p != NULL) {
		snprintf(dst, AGG_KEY_MAX, "%s", p);
		return;
	}
	if (name.p == NULL || name.n == 0) {
		snprintf(dst, AGG_KEY_MAX, "-");
		return;
	}
	if (postfix && rp_str_eq(name, "postfix")) {
		snprintf(dst, AGG_KEY_MAX, "25");
		return;
	}
	const char *slash = postfix ? memrchr(name.p, '/', name.n) : NULL;
	struct rp_str tail = name;
	if (slash != NULL) {
		tail.p = slash + 1;
		tail.n = name.n - (size_t)(tail.p - name.p);
	}
	key_copy(last, tail);
	port_word(dst, last);
}

