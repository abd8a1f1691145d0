/*
 * stats.c - per-port counters (stub; being filled in).
 */
#include "stats.h"

struct pg_stats_slot {
	unsigned port;
};

static struct pg_stats_slot stats_dummy;

void stats_init(time_t now)
{
	(void)now;
}

struct pg_stats_slot *stats_slot(unsigned port, const char *label, enum pg_role role)
{
	(void)port;
	(void)label;
	(void)role;
	return &stats_dummy;
}

void stats_add_session(struct pg_stats_slot *s, const struct pg_facts *f)
{
	(void)s;
	(void)f;
}

void stats_add_transaction(struct pg_stats_slot *s, const struct pg_facts *f, bool count_tls)
{
	(void)s;
	(void)f;
	(void)count_tls;
}

void stats_add_recipient(struct pg_stats_slot *s)
{
	(void)s;
}

void stats_add_verdict(struct pg_stats_slot *s, const struct pg_verdict *v)
{
	(void)s;
	(void)v;
}

int stats_emit(time_t now, bool with_sessions)
{
	(void)now;
	(void)with_sessions;
	return 0;
}

long stats_peek(unsigned port, const char *label, const char *counter)
{
	(void)port;
	(void)label;
	(void)counter;
	return -1;
}

void stats_reset_all(void)
{
}
