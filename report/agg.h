/*
 * agg.h - portguard-report's tables: what the lines add up to.
 *
 * Every table is a fixed array sized below (bounded memory whatever the
 * input); a table that is full counts what it could not hold in its
 * overflow counter, which the output prints. The tables are filled by
 * agg_line() and read by out.c.
 */
#ifndef PG_REPORT_AGG_H
#define PG_REPORT_AGG_H

#include <string.h>

#include "parse.h"

#define AGG_KEY_MAX 48     /* a host, a port name, a user, an address */
#define AGG_HOSTS 256      /* distinct hosts */
#define AGG_ROWS 8192      /* (host, port, period) rows */
#define AGG_SESSIONS 16384 /* MTA sessions open at once */
#define AGG_USERS 1024     /* users seen authenticating without TLS */
#define AGG_USER_CLIENTS 4 /* client addresses listed per user */
#define AGG_RELAY 2048     /* (port, client) relay refusals */
#define AGG_OWNERS 4096    /* (session, rule) -> the portguard daemon that reported it */
#define AGG_DAEMONS 64     /* (host, portguard daemon) */
#define AGG_LOST 256       /* lost windows listed */
#define AGG_PORTMAP 256    /* name -> port entries */

enum agg_by { AGG_BY_NONE = 0, AGG_BY_HOUR, AGG_BY_DAY };

struct agg_opts {
	long long since, until; /* [since, until); 0: open */
	const char *host;       /* only this host (NULL: all) */
	unsigned progs;         /* bit (1 << enum rp_prog) per program read; 0: all */
	enum agg_by by;
};

enum agg_counter {
	C_SESSIONS,
	C_TLS,
	C_TLS13,
	C_TLS12,
	C_TLS11,
	C_TLS10,
	C_TLS_OTHER,
	C_AUTH,
	C_AUTH_FAILED,
	C_AUTH_NOTLS,
	C_TRANSACTIONS,
	C_RECIPIENTS,
	C_REFUSED,
	C_WOULD,
	C_ALARMS,
	C_REFUSED_RULE,                  /* + rule (1..7) */
	C_WOULD_RULE = C_REFUSED_RULE + RP_RULES, /* + rule */
	C_N = C_WOULD_RULE + RP_RULES
};

extern const char *const agg_counter_names[C_N];

struct agg_row {
	bool used;
	unsigned host;
	char port[AGG_KEY_MAX];
	long long bucket;
	unsigned long c[C_N];
};

struct agg_user {
	char user[AGG_KEY_MAX];
	unsigned long count;
	long long first, last;
	char clients[AGG_USER_CLIENTS][AGG_KEY_MAX];
	unsigned nclients;
	bool more_clients;
};

struct agg_relay {
	unsigned host;
	char port[AGG_KEY_MAX];
	char client[AGG_KEY_MAX];
	unsigned long count;
};

enum agg_lost_kind { LOST_RESTART, LOST_RECOVERED };

struct agg_lost {
	unsigned host;
	enum rp_prog prog;
	enum agg_lost_kind kind;
	long long from, to;
};

struct agg {
	struct agg_opts o;
	char hosts[AGG_HOSTS][AGG_KEY_MAX];
	unsigned nhosts;
	struct agg_row rows[AGG_ROWS];
	unsigned nrows;
	struct agg_user users[AGG_USERS];
	unsigned nusers;
	struct agg_relay relay[AGG_RELAY];
	unsigned nrelay;
	struct agg_lost lost[AGG_LOST];
	unsigned nlost;
	unsigned long lines, used, stats_lines, recovered_lines;
	long long first_t, last_t;
	/* what a full table could not hold */
	unsigned long over_hosts, over_rows, over_sessions, over_users, over_relay, over_lost;
};

/* name -> port (report/ports.c), from master.cf, the built-in names and
 * --port-map; ports_of() names the port of Postfix's syslog name
 * (postfix/submission) or of a Sendmail daemon name. */
bool agg_portmap_add(const char *name, size_t n, const char *port);
bool agg_portmap_master_cf(const char *path, char *err, size_t errlen);
void ports_of(char *dst, struct rp_str name, bool postfix);

/* A key of the tables: a copy cut at AGG_KEY_MAX - 1 bytes, and its compare. */
static inline void key_copy(char *dst, struct rp_str s)
{
	size_t n = s.n < AGG_KEY_MAX - 1 ? s.n : AGG_KEY_MAX - 1;

	if (s.p == NULL)
		n = 0;
	if (n > 0)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static inline bool key_eq(const char *key, struct rp_str s)
{
	size_t n = s.n < AGG_KEY_MAX - 1 ? s.n : AGG_KEY_MAX - 1;

	return key[n] == '\0' && (n == 0 || memcmp(key, s.p, n) == 0);
}

void agg_init(struct agg *a, const struct agg_opts *o);
void agg_line(struct agg *a, const struct rp_line *l);
/* The end of the input: sessions still open are counted as they stand. */
void agg_finish(struct agg *a);

#endif
