/*
 * parse.h - portguard-report's line parsers: the syslog header (traditional
 * and RFC 3339 timestamps, host, tag, pid) and the message of each program
 * the report reads (Postfix smtpd, Sendmail, portguard's two daemons).
 *
 * Everything here is a pure function over the bytes of one line: no
 * allocation, no global state except the caller's struct rp_clock. Strings
 * in the results point into the line (struct rp_str, not NUL-terminated).
 */
#ifndef PG_REPORT_PARSE_H
#define PG_REPORT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

struct rp_str {
	const char *p;
	size_t n;
};

/* TLS versions as the report counts them. */
enum rp_tls { RP_TLS_NONE = 0, RP_TLS13, RP_TLS12, RP_TLS11, RP_TLS10, RP_TLS_OTHER, RP_TLS_N };

/* portguard's rules, numbered as config.h's enum pg_rule (1..7); 0 = the
 * plaintext-AUTH alarm line, which is no refusal. */
#define RP_RULES 8

enum rp_prog { RP_PROG_OTHER = 0, RP_PROG_POSTFIX, RP_PROG_SENDMAIL, RP_PROG_POLICYD, RP_PROG_MILTER };

/* Year inference for traditional timestamps: the year of the first line is
 * the reference's (or the one before, when that puts the line more than a
 * day after the reference); a month lower than the previous line's is a new
 * year. Conversions to seconds are cached per hour (mktime once an hour). */
struct rp_clock {
	long long ref; /* seconds: now, or a file's mtime */
	int year;      /* 0 until the first traditional line */
	int last_mon;
	char last[16]; /* the previous traditional stamp, "Mmm dd hh:mm:ss" */
	long long last_t;
	long long hour_key, hour_t;
};

struct rp_line {
	long long t; /* seconds since the epoch */
	struct rp_str host, tag, msg;
	long pid;
	enum rp_prog prog;
	struct rp_str service; /* Postfix: the syslog name before "/smtpd" */
};

enum rp_event_kind {
	RP_EV_NONE = 0,
	RP_EV_PF_CONNECT,
	RP_EV_PF_TLS,
	RP_EV_PF_SASL_USER,
	RP_EV_PF_AUTH_FAIL,
	RP_EV_PF_DISCONNECT,
	RP_EV_SM_TLS,
	RP_EV_SM_AUTH,
	RP_EV_SM_AUTH_FAIL,
	RP_EV_SM_FROM,
	RP_EV_SM_END, /* "did not issue MAIL", "lost input channel" */
	RP_EV_PG_DECISION,
	RP_EV_PG_ALARM,
	RP_EV_PG_STATS,
	RP_EV_PG_START,
	RP_EV_PG_STOP
};

/* A count of Postfix's disconnect line: "name=ok" or "name=ok/tried". */
struct rp_count {
	unsigned ok, tried;
};

struct rp_event {
	enum rp_event_kind kind;
	struct rp_str client; /* the client's address */
	struct rp_str user, port, daemon, rcpt;
	enum rp_tls tls;
	struct rp_count starttls, auth, mail, rcpt_n;
	unsigned client_port, nrcpts;
	int rule; /* 1..7 for a decision; 0 for the alarm */
	bool would, recovered, refusal;
	long long period_start, period_end;
};

/* "Dec  2 04:00:00" or RFC 3339 at the start of s; the seconds in *t and the
 * length of the stamp (0: neither form). */
size_t rp_time_parse(struct rp_clock *c, const char *s, size_t n, long long *t);

/* A date on the command line: RFC 3339, "YYYY-MM-DD[ HH:MM[:SS]]" (local),
 * a traditional stamp, "today" or "yesterday". false if none. */
bool rp_time_arg(const char *s, long long now, long long *t);

/* The header of one line (without its newline); false if it has none. For
 * a program the report does not read (prog RP_PROG_OTHER), time, pid and
 * msg are left empty (and the clock does not see the line). */
bool rp_line_parse(struct rp_clock *c, const char *s, size_t n, struct rp_line *l);

/* The event of a line's message (RP_EV_NONE for lines the report ignores). */
void rp_event_parse(const struct rp_line *l, struct rp_event *e);

enum rp_tls rp_tls_parse(struct rp_str v);
const char *rp_tls_name(enum rp_tls v);
const char *rp_rule_name(int rule); /* 1..7; 0 is "alarm" */

bool rp_str_eq(struct rp_str a, const char *b);

#endif
