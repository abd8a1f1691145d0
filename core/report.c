/*
 * report.c - the log lines of a decision (for core/engine.c) and the start-up
 * summary, formatted in one place.
 *
 * Decision lines ("reject:" and "would-reject:" at notice, "pass:" at info),
 * the plaintext-AUTH alarm (warning), the implicit-TLS error, the unknown-port
 * warning (once per (port, label) per process, remembered in a small
 * mutex-protected table) and the startup/reload/shutdown summary. Every value
 * a client supplied goes through log_sanitise(); an absent value is "-". The
 * queue id (or NOQUEUE) comes first, then the severity word, the way Postfix
 * administrators grep. A TEMPFAIL verdict is not reported here:
 * policy_internal_error() already logged why. No allocation: stack buffers.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "report.h"
#include "version.h"

#define REPORT_VAL (PG_LOG_VALUE_MAX + 1)

/* Sanitised session values shared by the lines below. */
struct report_client {
	char qid[REPORT_VAL];
	char name[REPORT_VAL];
	char addr[REPORT_VAL];
	char port[24]; /* server port, or the entry's label */
	char client[REPORT_VAL * 2 + 32];
};

static const char *report_value(char *dst, size_t len, const char *src, const char *absent)
{
	log_sanitise(dst, len, src);
	if (dst[0] == '\0')
		snprintf(dst, len, "%s", absent);
	return dst;
}

static void report_port_word(char *dst, size_t len, const struct pg_port *port,
                             unsigned server_port)
{
	if (server_port != 0)
		snprintf(dst, len, "%u", server_port);
	else if (port->port != 0)
		snprintf(dst, len, "%u", port->port);
	else
		report_value(dst, len, port->name, "-");
}

static void report_client_fill(struct report_client *c, const struct pg_port *port,
                               const struct pg_facts *f)
{
	report_value(c->qid, sizeof c->qid, f->queue_id, "NOQUEUE");
	report_value(c->name, sizeof c->name, f->client_name, "unknown");
	report_value(c->addr, sizeof c->addr, f->client_addr, "-");
	report_port_word(c->port, sizeof c->port, port, f->server_port);
	snprintf(c->client, sizeof c->client, "%s[%s]:%u", c->name, c->addr, f->client_port);
}

/* The reply inside reply="...": spaces kept, quotes, backslashes and
 * non-printable bytes escaped as \xHH. */
static void report_quote(char *dst, size_t len, const char *src)
{
	size_t out = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
		bool plain = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
		size_t piece = plain ? 1 : 4;
		if (out + piece >= len)
			break;
		if (plain)
			dst[out++] = (char)*p;
		else
			out += log_escape_byte(dst + out, *p);
	}
	dst[out] = '\0';
}

/*
 * A bounded line builder for the decision line, which is written for every
 * reject: values are sanitised straight into the line and nothing is
 * formatted twice. A line that would not fit ends in a visible "...".
 */
struct report_line {
	char s[PG_LOG_LINE_MAX];
	size_t len;
	bool cut;
};

static void rl_mem(struct report_line *l, const char *src, size_t n)
{
	if (l->cut)
		return;
	if (n >= sizeof l->s - l->len) {
		n = sizeof l->s - 1 - l->len;
		l->cut = true;
	}
	memcpy(l->s + l->len, src, n);
	l->len += n;
	l->s[l->len] = '\0';
	if (l->cut && l->len >= 3)
		memcpy(l->s + l->len - 3, "...", 3);
}

static void rl_str(struct report_line *l, const char *src)
{
	rl_mem(l, src, strlen(src));
}

static void rl_uint(struct report_line *l, unsigned v)
{
	char d[12];
	size_t n = sizeof d;

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n > 0);
	rl_mem(l, d + n, sizeof d - n);
}

/* A client value, sanitised (capped at PG_LOG_VALUE_MAX), or absent. */
static void rl_value(struct report_line *l, const char *src, const char *absent)
{
	char v[REPORT_VAL];

	log_sanitise(v, sizeof v, src);
	rl_str(l, v[0] != '\0' ? v : absent);
}

/* The line itself, in its own frame: its 4 KiB of buffers stay off the
 * stack when nothing is logged (a milter thread then never touches them). */
__attribute__((noinline)) static void decision_line(const struct pg_port *port,
                                                    const struct pg_facts *f,
                                                    const struct pg_verdict *v, const char *tag,
                                                    int level)
{
	struct report_line l;
	char text[PG_MAX_REPLY * 4];
	bool on_tls = policy_is_tls(f);

	l.len = 0;
	l.cut = false;
	l.s[0] = '\0';
	rl_value(&l, f->queue_id, "NOQUEUE");
	rl_str(&l, ": ");
	rl_str(&l, tag);
	rl_str(&l, ": port=");
	if (f->server_port != 0)
		rl_uint(&l, f->server_port);
	else if (port->port != 0)
		rl_uint(&l, port->port);
	else
		rl_value(&l, port->name, "-");
	rl_str(&l, " role=");
	rl_str(&l, config_role_name(port->role));
	rl_str(&l, " mode=");
	rl_str(&l, config_mode_name(port->mode));
	rl_str(&l, " client=");
	rl_value(&l, f->client_name, "unknown");
	rl_str(&l, "[");
	rl_value(&l, f->client_addr, "-");
	rl_str(&l, "]:");
	rl_uint(&l, f->client_port);
	rl_str(&l, " tls=");
	rl_value(&l, on_tls ? f->tls_version : "", on_tls ? "unknown" : "none");
	rl_str(&l, " cipher=");
	rl_value(&l, on_tls ? f->cipher : "", "none");
	rl_str(&l, " bits=");
	rl_uint(&l, on_tls ? f->cipher_bits : 0);
	rl_str(&l, " sasl_method=");
	rl_value(&l, f->sasl_method, "-");
	rl_str(&l, " sasl_username=");
	rl_value(&l, f->sasl_username, "-");
	if (f->stage == PG_STAGE_RCPT) {
		char bare[PG_MAX_ADDRESS + 1];
		size_t n = strlen(f->recipient);
		const char *r = f->recipient;

		if (n >= 2 && r[0] == '<' && r[n - 1] == '>') {
			r++;
			n -= 2;
		}
		if (n > PG_MAX_ADDRESS)
			n = PG_MAX_ADDRESS; /* the sanitiser caps it visibly anyway */
		memcpy(bare, r, n);
		bare[n] = '\0';
		rl_str(&l, " rcpt=<");
		rl_value(&l, bare, "");
		rl_str(&l, ">");
	}
	rl_str(&l, " rule=");
	rl_str(&l, config_rule_name(v->rule));
	if (v->rule != PG_RULE_NONE) {
		report_quote(text, sizeof text, v->text);
		rl_str(&l, " reply=\"");
		rl_uint(&l, v->code);
		rl_str(&l, " ");
		rl_str(&l, v->esc);
		rl_str(&l, " ");
		rl_str(&l, text);
		rl_str(&l, "\"");
	}
	log_line(level, l.s);
}

void report_decision(const struct pg_port *port, const struct pg_facts *f,
                     const struct pg_verdict *v)
{
	const char *tag;
	int level;

	if (v->action == PG_ACT_TEMPFAIL)
		return;
	if (v->rule == PG_RULE_NONE) {
		tag = "pass";
		level = LOG_INFO;
	} else {
		tag = v->would_reject ? "would-reject" : "reject";
		level = LOG_NOTICE;
	}
	if (log_enabled(level))
		decision_line(port, f, v, tag, level);
}

void report_plaintext_auth(const struct pg_port *port, const struct pg_facts *f)
{
	const char *mta_fix = f->mta_auth_fix;
	struct report_client c;
	char method[REPORT_VAL], user[REPORT_VAL];

	if (!log_enabled(LOG_WARNING))
		return;
	report_client_fill(&c, port, f);
	report_value(method, sizeof method, f->sasl_method, "-");
	report_value(user, sizeof user, f->sasl_username, "-");
	log_at(
	    LOG_WARNING,
	    "%s: warning: credentials sent without TLS: sasl_username=%s sasl_method=%s client=%s "
	    "port=%s role=%s; the MTA accepted AUTH on a plaintext connection: set %s",
	    c.qid, user, method, c.client, c.port, config_role_name(port->role),
	    mta_fix != NULL && mta_fix[0] != '\0' ? mta_fix : "the MTA's TLS-only AUTH setting");
}

void report_implicit_plaintext(const struct pg_port *port, const struct pg_facts *f)
{
	struct report_client c;

	if (!log_enabled(LOG_ERR))
		return;
	report_client_fill(&c, port, f);
	log_at(
	    LOG_ERR,
	    "%s: error: port=%s is configured tls=implicit but the session has no TLS: the MTA is "
	    "not wrapping this port in TLS (Postfix: -o smtpd_tls_wrappermode=yes; Sendmail: M=s) "
	    "client=%s",
	    c.qid, c.port, c.client);
}

/* (port, label) pairs already warned about; past the table, one last warning. */
#define REPORT_SEEN_MAX 256

static struct {
	unsigned port;
	char label[PG_MAX_LABEL + 1];
} report_seen[REPORT_SEEN_MAX];
static size_t report_nseen;
static bool report_seen_full;
static pthread_mutex_t report_seen_lock = PTHREAD_MUTEX_INITIALIZER;

enum report_first { REPORT_SEEN_BEFORE, REPORT_FIRST_TIME, REPORT_TABLE_FULL };

static enum report_first report_remember(unsigned port, const char *label)
{
	enum report_first r = REPORT_FIRST_TIME;

	pthread_mutex_lock(&report_seen_lock);
	for (size_t i = 0; i < report_nseen; i++) {
		if (report_seen[i].port == port &&
		    strncmp(report_seen[i].label, label, sizeof report_seen[i].label) == 0) {
			r = REPORT_SEEN_BEFORE;
			break;
		}
	}
	if (r == REPORT_FIRST_TIME) {
		if (report_nseen < REPORT_SEEN_MAX) {
			report_seen[report_nseen].port = port;
			snprintf(report_seen[report_nseen].label, sizeof report_seen[0].label, "%s",
			         label);
			report_nseen++;
		} else if (!report_seen_full) {
			report_seen_full = true;
			r = REPORT_TABLE_FULL;
		} else {
			r = REPORT_SEEN_BEFORE;
		}
	}
	pthread_mutex_unlock(&report_seen_lock);
	return r;
}

void report_unknown_port(const struct pg_config *cfg, unsigned port, const char *label)
{
	char lab[REPORT_VAL];

	if (label == NULL)
		label = "";
	switch (report_remember(port, label)) {
	case REPORT_SEEN_BEFORE:
		return;
	case REPORT_TABLE_FULL:
		log_warnx("more than %d unknown ports; no further unknown-port warnings",
		          REPORT_SEEN_MAX);
		return;
	case REPORT_FIRST_TIME:
		break;
	}
	log_warnx("port=%u label=%s matches no entry in ports; applying default_role=%s; "
	          "add an entry to %s",
	          port, report_value(lab, sizeof lab, label, "-"),
	          config_role_name(cfg->default_role),
	          cfg->path != NULL && cfg->path[0] != '\0' ? cfg->path : "the configuration file");
}

void report_config(const struct pg_config *cfg, const char *daemon, const char *event)
{
	log_notice("%s: daemon=%s version=%s config=%s mode=%s default_role=%s", event, daemon,
	           PG_VERSION, cfg->path != NULL ? cfg->path : "-", config_mode_name(cfg->mode),
	           config_role_name(cfg->default_role));
	for (size_t i = 0; i < cfg->nports; i++) {
		const struct pg_port *p = &cfg->ports[i];
		char port[24], name[REPORT_VAL];

		if (p->port != 0)
			snprintf(port, sizeof port, "%u", p->port);
		else
			snprintf(port, sizeof port, "-");
		log_notice("port: port=%s name=%s role=%s tls=%s auth=%s min_tls=%s mode=%s", port,
		           report_value(name, sizeof name, p->name, "-"), config_role_name(p->role),
		           config_tls_mode_name(p->tls), config_auth_mode_name(p->auth),
		           tls_version_name(p->min_tls), config_mode_name(p->mode));
	}
}
