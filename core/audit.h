/*
 * audit.h - does the MTA keep the promise portguard is configured for?
 * Findings from the MTA's configuration: Postfix (postconf -xM, -xP and the
 * effective main.cf values, audit_pf.c) and Sendmail (sendmail.cf's
 * DaemonPortOptions, AuthOptions, InputMailFilters and X lines,
 * audit_sm.c), each with a severity and the exact line to change.
 *
 * Used by portguard-audit(8) (audit/, which adds the wire) and by both
 * daemons at start and reload (audit_log_own: one warning per CRITICAL
 * finding that concerns the daemon's own front end). Reading the MTA goes
 * through mtafacts_run (bounded in time and bytes); a configuration that
 * cannot be read is one UNKNOWN finding, never a partial answer.
 */
#ifndef PG_AUDIT_H
#define PG_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Ordered by weight for the exit code: see audit_exit_code(). */
enum audit_status { AUDIT_OK = 0, AUDIT_WARNING, AUDIT_CRITICAL, AUDIT_UNKNOWN, AUDIT_SKIPPED };

/* Which front end a finding concerns (a bit mask). */
enum { AUDIT_FRONT_POLICYD = 1, AUDIT_FRONT_MILTER = 2, AUDIT_FRONT_BOTH = 3 };

#define AUDIT_SERVICE_MAX 96
#define AUDIT_DETAIL_MAX  512
#define AUDIT_FIX_MAX     1024
#define AUDIT_SERVICES    PG_MAX_PORTS /* listening services audited */
#define AUDIT_TIMEOUT_MS  10000        /* one postconf run: as mtafacts */

struct audit_finding {
	unsigned port; /* 0: not about one port */
	char service[AUDIT_SERVICE_MAX];
	char role[16];  /* "submission", "relay", "-" */
	char check[24]; /* "auth_plaintext", ... (man/portguard-audit.8) */
	enum audit_status status;
	unsigned front;
	char detail[AUDIT_DETAIL_MAX];
	char fix[AUDIT_FIX_MAX]; /* "" when nothing is to change */
};

/* A port the MTA listens on, as the configuration says: what the wire is
 * then held to. */
struct audit_service {
	unsigned port;
	char name[AUDIT_SERVICE_MAX]; /* master.cf service / DaemonPortOptions Name= */
	const struct pg_port *pg;     /* portguard's entry (the default one if none) */
	bool listed;                  /* pg is an entry of portguard.conf */
	bool wrapper;                 /* the MTA wraps it in TLS */
	bool sasl;                    /* the MTA offers AUTH there */
	bool encrypt;                 /* the MTA requires TLS (or AUTH, Sendmail M=a) */
	char fix_relay[AUDIT_FIX_MAX / 2]; /* what closes an open relay there */
};

struct audit_report {
	struct audit_finding *v;
	size_t n;
	struct audit_service svc[AUDIT_SERVICES];
	size_t nsvc;
	int mta;                /* enum pg_from_mta: PG_MTA_POSTFIX or PG_MTA_SENDMAIL */
	char mynetworks[4096];  /* Postfix: its value, for the probe's "trusted?" */
	char postfix_dir[256];  /* postconf -c */
	char sendmail_cf[256];
};

/* Settings of the configuration audit (portguard-audit's options). */
struct audit_options {
	const char *postfix_dir; /* NULL: cfg->relay.postfix_dir */
	const char *sendmail_cf; /* NULL: cfg->relay.sendmail_cf */
	int mta;                 /* PG_MTA_AUTO: as cfg->relay.from_mta says, else auto */
	unsigned net4_prefix;    /* mynetworks wider than this IPv4 prefix: a finding */
	unsigned net6_prefix;
	unsigned timeout_ms; /* one postconf run */
};

void audit_options_default(struct audit_options *o);

/* Append a finding; false only when out of memory. */
bool audit_add(struct audit_report *r, unsigned port, const char *service, const char *role,
               const char *check, enum audit_status st, unsigned front, const char *fix,
               const char *fmt, ...) __attribute__((format(printf, 9, 10)));

/* The configuration audit of the MTA o (or cfg) names into r (zeroed
 * first). false when nothing could be read: r then holds one UNKNOWN. */
bool audit_config(const struct pg_config *cfg, const struct audit_options *o,
                  struct audit_report *r);
void audit_report_free(struct audit_report *r);

/* The plugin exit code: 2 any CRITICAL, else 3 any UNKNOWN, else 1 any
 * WARNING, else 0. SKIPPED counts as nothing. */
int audit_exit_code(const struct audit_report *r);
const char *audit_status_name(enum audit_status st);

/* Start and reload of a daemon (section "policyd" or "milter"): one
 * warning per CRITICAL configuration finding concerning that front end.
 * Never fails; the MTA is read once, with a short time limit. */
void audit_log_own(const struct pg_config *cfg, const char *section);

/* ---- the parsers (unit-tested) ---- */

/* "submission", "127.0.0.1:2525", "[::1]:smtp" -> the port; 0 unknown. */
unsigned audit_service_port(const char *service);

/* One `postconf -xM` line: the service name and whether it is an inet
 * smtpd service. */
bool audit_master_line(const char *line, char *name, size_t namelen);

/* One `postconf -xP` line "svc/inet/param = value": pointers into line
 * (changed). false for another shape. */
bool audit_param_line(char *line, char **svc, char **param, char **value);

/* The entry of a restriction list value that names the socket spec
 * `endpoint` (a check_policy_service, or a milter list entry): its index
 * (0 = first), or -1. default_action (when the entry carries one, else "")
 * into action. queue_dir resolves relative unix: paths. */
int audit_find_endpoint(const char *list, bool policy, const char *endpoint,
                        const char *queue_dir, char *action, size_t actionlen);

/* One DaemonPortOptions value of sendmail.cf ("Port=587, Name=MSA, M=Ea"):
 * the port (25 when not given), Name= and the M= flags. */
bool audit_sm_daemon(const char *value, unsigned *port, char *name, size_t namelen, char *flags,
                     size_t flagslen);

/* An X line of sendmail.cf ("Xportguard, S=unix:/x, F=T, ..."): its name,
 * S= and F= values. */
bool audit_sm_filter(const char *line, char *name, size_t namelen, char *sock, size_t socklen,
                     char *flags, size_t flagslen);

/* The configuration audit of Postfix's configuration directory dir
 * (audit_pf.c). */
bool audit_postfix(const struct pg_config *cfg, const struct audit_options *o, const char *dir,
                   struct audit_report *r);

/* The configuration audit of a sendmail.cf (audit_sm.c). */
bool audit_sendmail(const struct pg_config *cfg, const char *cf, struct audit_report *r);

/* Helpers shared by audit.c and audit_sm.c. */
const struct pg_port *audit_match(const struct pg_config *cfg, unsigned port, const char *label,
                                  bool *listed);
void audit_ports_listed(const struct pg_config *cfg, struct audit_report *r, const char *mta);
bool audit_same_socket(const char *a, const char *b, const char *queue_dir);

#endif
