/*
 * report.h - the log lines of portguard, formatted in one place: core/engine.c
 * writes those of a decision, the daemons the start-up summary.
 *
 * report_decision(): "reject:", "would-reject:" or (log level info) "pass:"
 * with port, role, client, TLS, SASL, rule and reply; report_plaintext_auth():
 * the alarm that names the exposed user and the missing MTA setting;
 * report_unknown_port(): once per unknown port per process; report_config():
 * startup and reload summary. All client values are sanitised here.
 */
#ifndef PG_REPORT_H
#define PG_REPORT_H

#include "config.h"
#include "policy.h"

/* The port is named by f->server_port, else by the entry's number or label. */
void report_decision(const struct pg_port *port, const struct pg_facts *f,
                     const struct pg_verdict *v);

/* Names f->mta_auth_fix, the setting that would have prevented it, e.g.
 * "smtpd_tls_auth_only=yes (Postfix)". */
void report_plaintext_auth(const struct pg_port *port, const struct pg_facts *f);

/* Error line when a port configured tls="implicit" has a plaintext session. */
void report_implicit_plaintext(const struct pg_port *port, const struct pg_facts *f);

/* Warn once per (port, label) for which no entry exists. */
void report_unknown_port(const struct pg_config *cfg, unsigned port, const char *label);

/* event: "starting", "reloaded", "stopping". */
void report_config(const struct pg_config *cfg, const char *daemon, const char *event);

#endif
