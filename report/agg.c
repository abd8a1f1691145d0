/*
 * agg.c - portguard-report's tables (see agg.h): lines in, counts out.
 *
 * Sessions come from the MTA's own lines, because neither portguard daemon
 * sees every session: Postfix's smtpd process (host, pid) holds one session
 * from "connect from" to "disconnect from", whose counters (starttls=,
 * auth=, mail=, rcpt=) say what happened; a Sendmail session (host, pid) is
 * counted at its first "from=" line or at "did not issue MAIL" / "lost input
 * channel", which name its daemon. Refusals, would-refusals and alarms come
 * from portguard's lines; when both daemons report on the same session and
 * rule (client address and port), only the first daemon to do so is counted,
 * so running the policy daemon and the milter together never counts twice.
 * portguard's stats lines are not summed (that would count twice too); they
 * mark the windows whose counts were lost: a daemon that starts again
 * without its "stopping:" line since its last start, and recovered lines.
 *
 * No allocation: every table is a fixed array; a full table counts what it
 * dropped (agg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg.h"

const char *const agg_counter_names[C_N] = {
    [C_SESSIONS] = "sessions",
    [C_TLS] = "tls",
    [C_TLS13] = "TLSv1.3",
    [C_TLS12] = "TLSv1.2",
    [C_TLS11] = "TLSv1.1",
    [C_TLS10] = "TLSv1.0",
    [C_TLS_OTHER] = "tls_other",
    [C_AUTH] = "auth",
    [C_AUTH_FAILED] = "auth_failed",
    [C_AUTH_NOTLS] = "auth_without_tls",
    [C_TRANSACTIONS] = "transactions",
    [C_RECIPIENTS] = "recipients",
    [C_REFUSED] = "refused",
    [C_WOULD] = "would_refuse",
    [C_ALARMS] = "alarms",
    [C_REFUSED_RULE + 0] = "refused_none",
    [C_REFUSED_RULE + 1] = "refused_plaintext_auth",
    [C_REFUSED_RULE + 2] = "refused_auth_forbidden",
    [C_REFUSED_RULE + 3] = "refused_tls_required",
    [C_REFUSED_RULE + 4] = "refused_tls_version",
    [C_REFUSED_RULE + 5] = "refused_cipher",
    [C_REFUSED_RULE + 6] = "refused_auth_required",
    [C_REFUSED_RULE + 7] = "refused_relay",
    [C_WOULD_RULE + 0] = "would_none",
    [C_WOULD_RULE + 1] = "would_plaintext_auth",
    [C_WOULD_RULE + 2] = "would_auth_forbidden",
    [C_WOULD_RULE + 3] = "would_tls_required",
    [C_WOULD_RULE + 4] = "would_tls_version",
    [C_WOULD_RULE + 5] = "would_cipher",
    [C_WOULD_RULE + 6] = "would_auth_required",
    [C_WOULD_RULE + 7] = "would_relay",
};

/* ------------------------------------------------------------ helpers */

static unsigned long long mix(unsigned long long h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

/* ------------------------------------------------------------ rows */

static long long day_start, day_end; /* the local day of the last bucket */

static long long bucket_of(const struct agg *a, long long t)
{
	if (a->o.by == AGG_BY_HOUR)
		return t - (t % 3600 + 3600) % 3600;
	if (a->o.by == AGG_BY_NONE)
		return 0;
	if (t < day_start || t >= day_end) {
		time_t tt = (time_t)t;
		struct tm tm;
		localtime_r(&tt, &tm);
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		day_start = (long long)mktime(&tm);
		tm.tm_mday++;
		tm.tm_isdst = -1;
		day_end = (long long)mktime(&tm);
	}
	return day_start;
}

static unsigned host_id(struct agg *a, struct rp_str h)
{
	static unsigned last;

	if (last < a->nhosts && key_eq(a->hosts[last], h))
		return last; /* a log is mostly one host */
	for (unsigned i = 0; i < a->nhosts; i++)
		if (key_eq(a->hosts[i], h))
			return last = i;
	if (a->nhosts == AGG_HOSTS) {
		a->over_hosts++;
		return AGG_HOSTS - 1;
	}
	key_copy(a->hosts[a->nhosts], h);
	return a->nhosts++;
}

/* Port words are short: a loop beats a call to strcmp() here. */
static bool same_word(const char *x, const char *y)
{
	while (*x != '\0' && *x == *y) {
		x++;
		y++;
	}
	return *x == *y;
}

static struct agg_row *row(struct agg *a, unsigned host, const char *port, long long t)
{
	static struct agg_row spill; /* past the table: counted nowhere, said */
	static struct agg_row *last; /* most lines hit the row of the line before */
	long long b = bucket_of(a, t);

	if (last != NULL && last->used && last->host == host && last->bucket == b &&
	    same_word(last->port, port))
		return last;
	unsigned long long h = mix(mix(mix(14695981039346656037ull, &host, sizeof host), port,
	                               strlen(port)),
	                           &b, sizeof b);

	for (unsigned i = 0, k = (unsigned)h % AGG_ROWS; i < AGG_ROWS; i++, k = (k + 1) % AGG_ROWS) {
		struct agg_row *r = &a->rows[k];
		if (!r->used) {
			if (a->nrows >= AGG_ROWS * 3 / 4)
				break;
			r->used = true;
			r->host = host;
			r->bucket = b;
			snprintf(r->port, sizeof r->port, "%s", port);
			a->nrows++;
			return last = r;
		}
		if (r->host == host && r->bucket == b && same_word(r->port, port))
			return last = r;
	}
	a->over_rows++;
	memset(&spill, 0, sizeof spill);
	return &spill;
}

/* ------------------------------------------------------------ lists */

/* users[] in the order first seen; user_index finds one by name (open
 * addressing, index + 1, 0 = empty; twice the table, so never full). */
static unsigned short user_index[AGG_USERS * 2];
static unsigned user_hash[AGG_USERS * 2]; /* the name's hash, compared first */

static void user_add(struct agg *a, const char *user, const char *client, long long t)
{
	struct agg_user *u = NULL;
	unsigned long long h = mix(14695981039346656037ull, user, strlen(user));
	unsigned k = (unsigned)(h % (AGG_USERS * 2));

	for (; user_index[k] != 0; k = (k + 1) % (AGG_USERS * 2))
		if (user_hash[k] == (unsigned)h && strcmp(a->users[user_index[k] - 1].user, user) == 0) {
			u = &a->users[user_index[k] - 1];
			break;
		}
	if (u == NULL) {
		if (a->nusers == AGG_USERS) {
			a->over_users++;
			return;
		}
		u = &a->users[a->nusers++];
		user_index[k] = (unsigned short)a->nusers;
		user_hash[k] = (unsigned)h;
		snprintf(u->user, sizeof u->user, "%s", user);
		u->first = t;
	}
	u->count++;
	u->last = t;
	for (unsigned i = 0; i < u->nclients; i++)
		if (strcmp(u->clients[i], client) == 0)
			return;
	if (u->nclients < AGG_USER_CLIENTS)
		snprintf(u->clients[u->nclients++], AGG_KEY_MAX, "%s", client);
	else
		u->more_clients = true;
}

/* relay[] found by (host, port, client): open addressing like user_index. */
static unsigned short relay_index[AGG_RELAY * 2];
static unsigned relay_hash[AGG_RELAY * 2];

static void relay_add(struct agg *a, unsigned host, const char *port, struct rp_str client)
{
	unsigned long long h = mix(mix(mix(14695981039346656037ull, &host, sizeof host), port,
	                               strlen(port)),
	                           client.p, client.n);
	unsigned k = (unsigned)(h % (AGG_RELAY * 2));

	for (; relay_index[k] != 0; k = (k + 1) % (AGG_RELAY * 2)) {
		struct agg_relay *r = &a->relay[relay_index[k] - 1];
		if (relay_hash[k] == (unsigned)h && r->host == host && same_word(r->port, port) &&
		    key_eq(r->client, client)) {
			r->count++;
			return;
		}
	}
	if (a->nrelay == AGG_RELAY) {
		a->over_relay++;
		return;
	}
	struct agg_relay *r = &a->relay[a->nrelay++];
	relay_index[k] = (unsigned short)a->nrelay;
	relay_hash[k] = (unsigned)h;
	r->host = host;
	snprintf(r->port, sizeof r->port, "%s", port);
	key_copy(r->client, client);
	r->count = 1;
}

static void lost_add(struct agg *a, unsigned host, enum rp_prog prog, enum agg_lost_kind kind,
                     long long from, long long to)
{
	for (unsigned i = a->nlost; i-- > 0;) {
		struct agg_lost *l = &a->lost[i];
		if (l->host == host && l->prog == prog && l->kind == kind && l->from == from &&
		    l->to == to)
			return; /* one recovered line per port, one window */
	}
	if (a->nlost == AGG_LOST) {
		a->over_lost++;
		return;
	}
	a->lost[a->nlost++] = (struct agg_lost){host, prog, kind, from, to};
}

/* ------------------------------------------------------------ sessions */

struct session {
	bool used, counted, auth, auth_failed;
	enum rp_prog prog;
	enum rp_tls tls;
	unsigned host;
	unsigned pos; /* its position in the table */
	long pid;
	long long t;
	char port[AGG_KEY_MAX];
	char client[AGG_KEY_MAX];
	char user[AGG_KEY_MAX];
};

#define SESSION_PROBE 8
/* The table (by hash of host and pid) holds per position a tag of the key
 * (0: free), the time the session began (for eviction) and the index of
 * its slot in the pool. A probe reads only these compact arrays; a new
 * session takes the slot freed last (a stack), which is still in the cache:
 * a fresh slot per session was a cache miss per session. */
static unsigned long long session_tags[AGG_SESSIONS];
static long long session_since[AGG_SESSIONS];
static unsigned short session_slot[AGG_SESSIONS];
static struct session pool[AGG_SESSIONS];
static unsigned short free_stack[AGG_SESSIONS];
static unsigned nfree;

static unsigned long long session_tag(unsigned host, long pid, enum rp_prog prog)
{
	return (((unsigned long long)pid << 24) ^ ((unsigned long long)host << 4) ^ prog) | 1ull << 63;
}

static void session_free(struct session *s)
{
	s->used = false;
	if (s >= pool && s < pool + AGG_SESSIONS) {
		session_tags[s->pos] = 0;
		free_stack[nfree++] = (unsigned short)(s - pool);
	}
}

/* Empty the slot for a new session of the same key (its table position stays). */
static void session_reset(struct session *s, long long t)
{
	struct session keep = *s;

	memset(s, 0, sizeof *s);
	s->used = true;
	s->host = keep.host;
	s->pid = keep.pid;
	s->prog = keep.prog;
	s->pos = keep.pos;
	s->t = t;
}

static void session_count(struct agg *a, struct session *s, long long t)
{
	struct agg_row *r = row(a, s->host, s->port[0] != '\0' ? s->port : "-", t);

	r->c[C_SESSIONS]++;
	if (s->tls != RP_TLS_NONE) {
		r->c[C_TLS]++;
		r->c[C_TLS13 + s->tls - RP_TLS13]++;
	}
	if (s->auth) {
		r->c[C_AUTH]++;
		if (s->tls == RP_TLS_NONE) {
			r->c[C_AUTH_NOTLS]++;
			user_add(a, s->user[0] != '\0' ? s->user : "-", s->client, t);
		}
	} else if (s->auth_failed) {
		r->c[C_AUTH_FAILED]++;
	}
	s->counted = true;
}

static struct session *session_get(struct agg *a, unsigned host, long pid, enum rp_prog prog,
                                   long long t, bool create)
{
	unsigned long long h = ((unsigned long long)pid * 0x9e3779b97f4a7c15ull) ^ host;
	unsigned base = (unsigned)((h >> 20) % AGG_SESSIONS), fpos = AGG_SESSIONS, opos = AGG_SESSIONS;
	unsigned long long tag = session_tag(host, pid, prog);

	for (unsigned i = 0; i < SESSION_PROBE; i++) {
		unsigned k = (base + i) % AGG_SESSIONS;
		if (session_tags[k] == 0) {
			if (fpos == AGG_SESSIONS)
				fpos = k;
			continue;
		}
		if (session_tags[k] == tag) {
			struct session *s = &pool[session_slot[k]];
			if (s->host == host && s->pid == pid && s->prog == prog)
				return s;
		}
		if (opos == AGG_SESSIONS || session_since[k] < session_since[opos])
			opos = k;
	}
	if (!create)
		return NULL;
	if (fpos == AGG_SESSIONS) {
		/* Evicted: counted as it stands. */
		struct session *old = &pool[session_slot[opos]];
		a->over_sessions++;
		if (!old->counted)
			session_count(a, old, old->t);
		session_free(old);
		fpos = opos;
	}
	unsigned idx = free_stack[--nfree];
	struct session *s = &pool[idx];
	memset(s, 0, sizeof *s);
	s->used = true;
	s->host = host;
	s->pid = pid;
	s->prog = prog;
	s->t = t;
	s->pos = fpos;
	session_tags[fpos] = tag;
	session_since[fpos] = t;
	session_slot[fpos] = (unsigned short)idx;
	return s;
}

static void postfix_line(struct agg *a, unsigned host, const struct rp_line *l,
                         const struct rp_event *e)
{
	struct session *s;

	switch (e->kind) {
	case RP_EV_PF_CONNECT:
		s = session_get(a, host, l->pid, RP_PROG_POSTFIX, l->t, true);
		if (s->client[0] != '\0') { /* a stale one: its disconnect was lost */
			if (!s->counted)
				session_count(a, s, s->t);
			session_reset(s, l->t);
		}
		s->t = l->t;
		key_copy(s->client, e->client);
		ports_of(s->port, l->service, true);
		return;
	case RP_EV_PF_TLS:
	case RP_EV_PF_SASL_USER:
	case RP_EV_PF_AUTH_FAIL:
		s = session_get(a, host, l->pid, RP_PROG_POSTFIX, l->t, false);
		if (s == NULL)
			return;
		if (e->kind == RP_EV_PF_TLS)
			s->tls = e->tls;
		else if (e->kind == RP_EV_PF_SASL_USER)
			key_copy(s->user, e->user);
		else
			s->auth_failed = true;
		return;
	case RP_EV_PF_DISCONNECT: {
		struct session tmp = {0};
		s = session_get(a, host, l->pid, RP_PROG_POSTFIX, l->t, false);
		if (s == NULL) { /* connected before the input began */
			s = &tmp;
			s->host = host;
			key_copy(s->client, e->client);
			ports_of(s->port, l->service, true);
		}
		if (s->tls == RP_TLS_NONE && e->starttls.ok > 0)
			s->tls = RP_TLS_OTHER;
		s->auth = e->auth.ok > 0;
		s->auth_failed = s->auth_failed || e->auth.tried > e->auth.ok;
		session_count(a, s, l->t);
		struct agg_row *r = row(a, host, s->port, l->t);
		r->c[C_TRANSACTIONS] += e->mail.ok;
		r->c[C_RECIPIENTS] += e->rcpt_n.ok;
		session_free(s);
		return;
	}
	default:
		return;
	}
}

static void sendmail_line(struct agg *a, unsigned host, const struct rp_line *l,
                          const struct rp_event *e)
{
	struct session *s = session_get(a, host, l->pid, RP_PROG_SENDMAIL, l->t, true);

	if (s->counted && (e->kind == RP_EV_SM_TLS || e->kind == RP_EV_SM_AUTH)) {
		/* the pid serves a new session */
		session_reset(s, l->t);
	}
	if (s->client[0] == '\0')
		key_copy(s->client, e->client);
	switch (e->kind) {
	case RP_EV_SM_TLS:
		s->tls = e->tls;
		break;
	case RP_EV_SM_AUTH:
		s->auth = true;
		key_copy(s->user, e->user);
		break;
	case RP_EV_SM_AUTH_FAIL:
		s->auth_failed = true;
		break;
	case RP_EV_SM_FROM:
	case RP_EV_SM_END:
		ports_of(s->port, e->daemon, false);
		if (!s->counted)
			session_count(a, s, l->t);
		if (e->kind == RP_EV_SM_FROM) {
			struct agg_row *r = row(a, host, s->port, l->t);
			r->c[C_TRANSACTIONS]++;
			r->c[C_RECIPIENTS] += e->nrcpts;
		} else {
			session_free(s);
		}
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------ portguard */

static struct {
	unsigned long long key;
	enum rp_prog prog;
} owners[AGG_OWNERS];

/* The first portguard daemon to report on (session, rule) owns it. */
static bool owned_by(unsigned host, const struct rp_event *e, enum rp_prog prog)
{
	unsigned long long k = mix(14695981039346656037ull, &host, sizeof host);

	k = mix(k, e->client.p, e->client.n);
	k = mix(k, &e->client_port, sizeof e->client_port);
	k = mix(k, &e->rule, sizeof e->rule) | 1;
	unsigned i = (unsigned)(k % AGG_OWNERS);
	if (owners[i].key != k) {
		owners[i].key = k;
		owners[i].prog = prog;
	}
	return owners[i].prog == prog;
}

static struct {
	unsigned host;
	enum rp_prog prog;
	bool running;
	long long since; /* the last stats line, or the start */
} daemons[AGG_DAEMONS];
static unsigned ndaemons;

static unsigned daemon_of(unsigned host, enum rp_prog prog)
{
	for (unsigned i = 0; i < ndaemons; i++)
		if (daemons[i].host == host && daemons[i].prog == prog)
			return i;
	if (ndaemons == AGG_DAEMONS)
		return AGG_DAEMONS - 1;
	daemons[ndaemons].host = host;
	daemons[ndaemons].prog = prog;
	return ndaemons++;
}

static void portguard_line(struct agg *a, unsigned host, const struct rp_line *l,
                           const struct rp_event *e)
{
	char port[AGG_KEY_MAX];
	unsigned d;

	switch (e->kind) {
	case RP_EV_PG_DECISION:
	case RP_EV_PG_ALARM: {
		if (!owned_by(host, e, l->prog))
			return;
		key_copy(port, e->port);
		struct agg_row *r = row(a, host, port[0] != '\0' ? port : "-", l->t);
		if (e->kind == RP_EV_PG_ALARM) {
			r->c[C_ALARMS]++;
		} else if (e->would) {
			r->c[C_WOULD]++;
			r->c[C_WOULD_RULE + e->rule]++;
		} else {
			r->c[C_REFUSED]++;
			r->c[C_REFUSED_RULE + e->rule]++;
		}
		if (e->rule == 7)
			relay_add(a, host, port, e->client);
		return;
	}
	case RP_EV_PG_STATS:
		d = daemon_of(host, l->prog);
		a->stats_lines++;
		if (e->recovered) {
			a->recovered_lines++;
			lost_add(a, host, l->prog, LOST_RECOVERED, e->period_start, e->period_end);
		} else {
			daemons[d].since = l->t;
		}
		return;
	case RP_EV_PG_START:
		d = daemon_of(host, l->prog);
		if (daemons[d].running)
			lost_add(a, host, l->prog, LOST_RESTART, daemons[d].since, l->t);
		daemons[d].running = true;
		daemons[d].since = l->t;
		return;
	case RP_EV_PG_STOP:
		d = daemon_of(host, l->prog);
		daemons[d].running = false;
		return;
	default:
		return;
	}
}

/* ------------------------------------------------------------ entry */

void agg_init(struct agg *a, const struct agg_opts *o)
{
	memset(a, 0, sizeof *a);
	a->o = *o;
	memset(pool, 0, sizeof pool);
	memset(session_tags, 0, sizeof session_tags);
	for (nfree = 0; nfree < AGG_SESSIONS; nfree++)
		free_stack[nfree] = (unsigned short)(AGG_SESSIONS - 1 - nfree);
	memset(owners, 0, sizeof owners);
	memset(user_index, 0, sizeof user_index);
	memset(relay_index, 0, sizeof relay_index);
	ndaemons = 0;
	day_start = day_end = 0;
}

void agg_line(struct agg *a, const struct rp_line *l)
{
	struct rp_event e;
	unsigned host;

	a->lines++;
	if (l->prog == RP_PROG_OTHER || (a->o.progs != 0 && !(a->o.progs & (1u << l->prog))))
		return;
	if ((a->o.since != 0 && l->t < a->o.since) || (a->o.until != 0 && l->t >= a->o.until))
		return;
	if (a->o.host != NULL && !rp_str_eq(l->host, a->o.host))
		return;
	rp_event_parse(l, &e);
	if (e.kind == RP_EV_NONE)
		return;
	a->used++;
	if (a->first_t == 0 || l->t < a->first_t)
		a->first_t = l->t;
	if (l->t > a->last_t)
		a->last_t = l->t;
	host = host_id(a, l->host);
	switch (l->prog) {
	case RP_PROG_POSTFIX:
		postfix_line(a, host, l, &e);
		break;
	case RP_PROG_SENDMAIL:
		sendmail_line(a, host, l, &e);
		break;
	default:
		portguard_line(a, host, l, &e);
		break;
	}
}

void agg_finish(struct agg *a)
{
	for (unsigned i = 0; i < AGG_SESSIONS; i++) {
		struct session *s = &pool[i];
		if (!s->used)
			continue;
		if (!s->counted)
			session_count(a, s, s->t);
		session_free(s);
	}
}
