/*
 * report.c - the log lines both front ends write (stub; being filled in).
 */
#include "report.h"

void report_decision(const struct pg_port *port, unsigned server_port,
    const struct pg_facts *f, const struct pg_verdict *v)
{
	(void)port;
	(void)server_port;
	(void)f;
	(void)v;
}

void report_plaintext_auth(const struct pg_port *port, unsigned server_port,
    const struct pg_facts *f, const char *mta_fix)
{
	(void)port;
	(void)server_port;
	(void)f;
	(void)mta_fix;
}

void report_implicit_plaintext(const struct pg_port *port, unsigned server_port,
    const struct pg_facts *f)
{
	(void)port;
	(void)server_port;
	(void)f;
}

void report_unknown_port(const struct pg_config *cfg, unsigned port, const char *label)
{
	(void)cfg;
	(void)port;
	(void)label;
}

void report_config(const struct pg_config *cfg, const char *daemon, const char *event)
{
	(void)cfg;
	(void)daemon;
	(void)event;
}
