/*
 * report.c - the log lines of a decision (for core/engine.c) and the start-up
 * summary, formatted in one place.
 *
 * Decision lines ("reject:" and "would-reject:" at notice, "pass:" at info),
 * the plaintext-AUTH alarm (warning), the implicit-TLS error, the unknown-port
 * warning (once per (port, label) per process, remembered in a small
 * mutex-protected table) and the startup/reload/shutdown summary. Every value
 * a client supplied goes through log_sanitise() (the decision line's, through
 * log_sanitise_into()); an absent value is "-". The
 * queue id (or NOQUEUE) comes first, then the severity word, the way Postfix
 * administrators grep. A TEMPFAIL verdict is not reported here:
 * policy_internal_error() already logged why. No allocation: stack buffers.
 */
#include <pthread.h>
#include <stdint.h>
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

/*
 * The decision line, written for every reject, built in one pass: values
 * are escaped straight into it (log_sanitise_into), literals carry their
 * length from compile time, the NUL is written once. Each piece checks once
 * that the line is not full; no piece checks byte by byte, because the buffer
 * has room past PG_LOG_LINE_MAX for the longest piece that is not cut to the
 * line (an escaped value; a number is 10 bytes, the quote at most 3 over).
 * A line of PG_LOG_LINE_MAX bytes or more is cut at the end: its first
 * PG_LOG_LINE_MAX - 4 bytes, then "...".
 */
struct report_line {
	char s[PG_LOG_LINE_MAX + PG_LOG_VALUE_MAX];
	size_t len;
};

_Static_assert(PG_LOG_VALUE_MAX >= 10, "a number fits the room past the line");

static void rl_mem(struct report_line *l, const char *src, size_t n)
{
	if (l->len >= PG_LOG_LINE_MAX)
		return;
	if (n > PG_LOG_LINE_MAX - l->len)
		n = PG_LOG_LINE_MAX - l->len; /* enough to cut the line */
	memcpy(l->s + l->len, src, n);
	l->len += n;
}

/* A string literal: its length is known at compile time, so it is copied
 * whole (a few moves) into the room past the line. */
#define rl_lit(l, lit)                                                                             \
	do {                                                                                       \
		_Static_assert(sizeof(lit) - 1 <= PG_LOG_VALUE_MAX, "a literal fits the room");    \
		if ((l)->len < PG_LOG_LINE_MAX) {                                                  \
			memcpy((l)->s + (l)->len, "" lit, sizeof(lit) - 1);                        \
			(l)->len += sizeof(lit) - 1;                                               \
		}                                                                                  \
	} while (0)

static void rl_str(struct report_line *l, const char *src)
{
	rl_mem(l, src, strlen(src));
}

/* Decimal, written from the last digit back, two digits at a time. */
static void rl_uint(struct report_line *l, unsigned v)
{
	static const unsigned tens[] = {10,      100,      1000,      10000,     100000,
	                                1000000, 10000000, 100000000, 1000000000};
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
	                            "25262728293031323334353637383940414243444546474849"
	                            "50515253545556575859606162636465666768697071727374"
	                            "75767778798081828384858687888990919293949596979899";
	size_t n = 1;
	char *d;

	if (l->len >= PG_LOG_LINE_MAX)
		return;
	while (n <= sizeof tens / sizeof tens[0] && v >= tens[n - 1])
		n++;
	l->len += n;
	d = l->s + l->len;
	for (; v >= 100; v /= 100) {
		d -= 2;
		memcpy(d, pairs + v % 100 * 2, 2);
	}
	if (v >= 10)
		memcpy(d - 2, pairs + v * 2, 2);
	else
		d[-1] = (char)('0' + v);
}

/* A client value: n bytes of src or up to its NUL, sanitised (capped at
 * PG_LOG_VALUE_MAX), or the word absent (of absent_len bytes) when empty. */
static inline void rl_value_n(struct report_line *l, const char *src, size_t n, const char *absent,
                              size_t absent_len)
{
	if (src == NULL || src[0] == '\0' || n == 0)
		rl_mem(l, absent, absent_len);
	else if (l->len < PG_LOG_LINE_MAX)
		l->len += log_sanitise_into(l->s + l->len, PG_LOG_VALUE_MAX, src, n);
}

/* A value that is a whole string; absent is a literal. */
#define rl_value(l, src, absent) rl_value_n((l), (src), SIZE_MAX, "" absent, sizeof(absent) - 1)

/* The reply text inside reply="...": a quote that does not fit ends past
 * PG_LOG_LINE_MAX, so the line is cut. */
static void rl_quote(struct report_line *l, const char *text)
{
	if (l->len >= PG_LOG_LINE_MAX)
		return;
	l->len += log_quote_into(l->s + l->len, PG_LOG_LINE_MAX - l->len + 3, text);
}

/* The line itself, in its own frame: its 2 KiB buffer stays off the stack
 * when nothing is logged (a milter thread then never touches it). */
__attribute__((noinline)) static void decision_line(const struct pg_port *port,
                                                    const struct pg_facts *f,
                                                    const struct pg_verdict *v, const char *tag,
                                                    int level)
{
	struct report_line l;
	bool on_tls = policy_is_tls(f);

	l.len = 0;
	rl_value(&l, f->queue_id, "NOQUEUE");
	rl_lit(&l, ": ");
	rl_str(&l, tag);
	rl_lit(&l, ": port=");
	if (f->server_port != 0)
		rl_uint(&l, f->server_port);
	else if (port->port != 0)
		rl_uint(&l, port->port);
	else
		rl_value(&l, port->name, "-");
	rl_lit(&l, " role=");
	rl_str(&l, config_role_name(port->role));
	rl_lit(&l, " mode=");
	rl_str(&l, config_mode_name(port->mode));
	rl_lit(&l, " client=");
	rl_value(&l, f->client_name, "unknown");
	rl_lit(&l, "[");
	rl_value(&l, f->client_addr, "-");
	rl_lit(&l, "]:");
	rl_uint(&l, f->client_port);
	if (on_tls) {
		rl_lit(&l, " tls=");
		rl_value(&l, f->tls_version, "unknown");
		rl_lit(&l, " cipher=");
		rl_value(&l, f->cipher, "none");
		rl_lit(&l, " bits=");
		rl_uint(&l, f->cipher_bits);
	} else {
		rl_lit(&l, " tls=none cipher=none bits=0");
	}
	rl_lit(&l, " sasl_method=");
	rl_value(&l, f->sasl_method, "-");
	rl_lit(&l, " sasl_username=");
	rl_value(&l, f->sasl_username, "-");
	if (f->stage == PG_STAGE_RCPT) {
		const char *r = f->recipient;
		size_t n = strlen(r);

		if (n >= 2 && r[0] == '<' && r[n - 1] == '>') {
			r++;
			n -= 2;
		}
		rl_lit(&l, " rcpt=<");
		rl_value_n(&l, r, n, "", 0);
		rl_lit(&l, ">");
	}
	rl_lit(&l, " rule=");
	rl_str(&l, config_rule_name(v->rule));
	if (v->rule != PG_RULE_NONE) {
		rl_lit(&l, " reply=\"");
		rl_uint(&l, v->code);
		rl_lit(&l, " ");
		rl_str(&l, v->esc);
		rl_lit(&l, " ");
		rl_quote(&l, v->text);
		rl_lit(&l, "\"");
	}
	if (l.len >= PG_LOG_LINE_MAX) {
		l.len = PG_LOG_LINE_MAX - 1;
		memcpy(l.s + l.len - 3, "...", 3);
	}
	l.s[l.len] = '\0';
	log_line_n(level, l.s, l.len);
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
