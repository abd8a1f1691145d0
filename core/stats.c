/*
 * stats.c - per-port counters and the "stats:" line of SPEC.
 *
 * Slots live in a fixed array; a slot is keyed by port number, or by label
 * when the number is 0. Lookup is lock-free (the count of published slots is
 * read with acquire ordering); creating a slot takes the mutex once per new
 * port and publishes it with release ordering. Past PG_STATS_SLOTS ports,
 * further ones share a slot logged as port=other. Counters are
 * _Atomic unsigned long updated with relaxed ordering, so milter threads add
 * without a lock. stats_emit() takes each counter with an atomic exchange (no
 * count is lost or counted twice), logs one line per slot that saw traffic,
 * with period= the seconds since the previous emit (or stats_init), and
 * returns the number of lines. Adding allocates nothing; slots are never
 * freed (they survive reloads).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "stats.h"

enum stats_counter {
	STATS_SESSIONS = 0,
	STATS_TRANSACTIONS,
	STATS_RECIPIENTS,
	STATS_TLS,
	STATS_PLAINTEXT,
	STATS_TLS13,
	STATS_TLS12,
	STATS_TLS11,
	STATS_TLS10,
	STATS_AUTH,
	STATS_AUTH_PLAINTEXT,
	STATS_REJECTED,
	STATS_WOULD_REJECT,
	STATS_REJECT_FIRST, /* one per rule 1..7, in enum pg_rule order */
	STATS_COUNT = STATS_REJECT_FIRST + PG_RULE_COUNT - 1
};

/* Names as they appear in the stats line (and in stats_peek); reject_WORD
 * for each rule WORD of config.h. */
#define STATS_REJECT_NAME(rule, word) [STATS_REJECT_FIRST + (rule)-1] = "reject_" word,
/* clang-format off */
static const char *const stats_names[STATS_COUNT] = {
    "sessions",
    "transactions",
    "recipients",
    "tls",
    "plaintext",
    "TLSv1.3",
    "TLSv1.2",
    "TLSv1.1",
    "TLSv1.0",
    "auth",
    "auth_plaintext",
    "rejected",
    "would_reject",
    PG_RULE_WORDS(STATS_REJECT_NAME)
};
/* clang-format on */

_Static_assert(sizeof stats_names / sizeof stats_names[0] == STATS_COUNT, "one name per counter");

struct pg_stats_slot {
	unsigned port;
	char label[PG_MAX_LABEL + 1];
	bool other;
	atomic_int role;
	_Atomic unsigned long c[STATS_COUNT];
};

static struct pg_stats_slot stats_slots[PG_STATS_SLOTS];
static struct pg_stats_slot stats_other = {.other = true};
static atomic_size_t stats_nslots;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t stats_last_emit;

void stats_init(time_t now)
{
	pthread_mutex_lock(&stats_lock);
	stats_last_emit = now;
	pthread_mutex_unlock(&stats_lock);
}

static bool stats_key_eq(const struct pg_stats_slot *s, unsigned port, const char *label)
{
	if (port != 0)
		return s->port == port;
	return s->port == 0 && strcmp(s->label, label) == 0;
}

static struct pg_stats_slot *stats_find(size_t n, unsigned port, const char *label)
{
	for (size_t i = 0; i < n; i++)
		if (stats_key_eq(&stats_slots[i], port, label))
			return &stats_slots[i];
	return NULL;
}

struct pg_stats_slot *stats_slot(unsigned port, const char *label, enum pg_role role)
{
	struct pg_stats_slot *s;
	size_t n;

	if (label == NULL || port != 0)
		label = "";
	n = atomic_load_explicit(&stats_nslots, memory_order_acquire);
	s = stats_find(n, port, label);
	if (s == NULL) {
		pthread_mutex_lock(&stats_lock);
		n = atomic_load_explicit(&stats_nslots, memory_order_relaxed);
		s = stats_find(n, port, label);
		if (s == NULL && n < PG_STATS_SLOTS) {
			s = &stats_slots[n];
			s->port = port;
			snprintf(s->label, sizeof s->label, "%s", label);
			atomic_store_explicit(&stats_nslots, n + 1, memory_order_release);
		}
		pthread_mutex_unlock(&stats_lock);
		if (s == NULL)
			s = &stats_other;
	}
	/* The role follows the config in force (a reload may change it). */
	if (!s->other)
		atomic_store_explicit(&s->role, (int)role, memory_order_relaxed);
	return s;
}

static void stats_inc(struct pg_stats_slot *s, enum stats_counter c)
{
	atomic_fetch_add_explicit(&s->c[c], 1, memory_order_relaxed);
}

static void stats_add_tls(struct pg_stats_slot *s, const struct pg_facts *f)
{
	bool tls = policy_is_tls(f);

	stats_inc(s, tls ? STATS_TLS : STATS_PLAINTEXT);
	if (tls) {
		switch (tls_version_parse(f->tls_version)) {
		case PG_TLS_V1_3:
			stats_inc(s, STATS_TLS13);
			break;
		case PG_TLS_V1_2:
			stats_inc(s, STATS_TLS12);
			break;
		case PG_TLS_V1_1:
			stats_inc(s, STATS_TLS11);
			break;
		case PG_TLS_V1_0:
			stats_inc(s, STATS_TLS10);
			break;
		default:
			break; /* counted in tls= only */
		}
	}
	if (policy_is_authenticated(f)) {
		stats_inc(s, STATS_AUTH);
		if (!tls)
			stats_inc(s, STATS_AUTH_PLAINTEXT);
	}
}

void stats_add_session(struct pg_stats_slot *s, const struct pg_facts *f)
{
	stats_inc(s, STATS_SESSIONS);
	stats_add_tls(s, f);
}

void stats_add_transaction(struct pg_stats_slot *s, const struct pg_facts *f, bool count_tls)
{
	stats_inc(s, STATS_TRANSACTIONS);
	if (count_tls)
		stats_add_tls(s, f);
}

void stats_add_recipient(struct pg_stats_slot *s)
{
	stats_inc(s, STATS_RECIPIENTS);
}

void stats_add_verdict(struct pg_stats_slot *s, const struct pg_verdict *v)
{
	if (v->rule <= PG_RULE_NONE || v->rule >= PG_RULE_COUNT)
		return;
	stats_inc(s, (enum stats_counter)(STATS_REJECT_FIRST + v->rule - 1));
	if (v->would_reject)
		stats_inc(s, STATS_WOULD_REJECT);
	else if (v->action == PG_ACT_REJECT)
		stats_inc(s, STATS_REJECTED);
}

/* Take this slot's counts (zeroing them) and log its line if it saw traffic. */
static bool stats_emit_slot(struct pg_stats_slot *s, long period, bool with_sessions)
{
	unsigned long v[STATS_COUNT];
	bool any = false;
	char line[PG_LOG_LINE_MAX];
	char port[PG_MAX_LABEL * 4 + 1];
	size_t len;

	for (int i = 0; i < STATS_COUNT; i++) {
		v[i] = atomic_exchange_explicit(&s->c[i], 0, memory_order_relaxed);
		any |= v[i] != 0;
	}
	if (!any)
		return false;
	if (s->other)
		snprintf(port, sizeof port, "other");
	else if (s->port != 0)
		snprintf(port, sizeof port, "%u", s->port);
	else
		log_sanitise(port, sizeof port, s->label[0] != '\0' ? s->label : "-");
	const char *role = s->other ? "-"
	                            : config_role_name((enum pg_role)atomic_load_explicit(
	                                  &s->role, memory_order_relaxed));
	unsigned long tls = v[STATS_TLS], all = v[STATS_TLS] + v[STATS_PLAINTEXT];
	/* One decimal, rounded, in integers: tenths of a percent. */
	unsigned long tenths = all == 0 ? 0 : (tls * 2000 / all + 1) / 2;

	len = (size_t)snprintf(line, sizeof line, "stats: port=%s role=%s period=%ld", port, role,
	                       period);
	for (int i = 0; i < STATS_COUNT && len < sizeof line; i++) {
		if (i == STATS_SESSIONS && !with_sessions)
			continue;
		len += (size_t)snprintf(line + len, sizeof line - len, " %s=%lu", stats_names[i],
		                        v[i]);
		if (i == STATS_PLAINTEXT && len < sizeof line)
			len += (size_t)snprintf(line + len, sizeof line - len, " tls_pct=%lu.%lu",
			                        tenths / 10, tenths % 10);
	}
	log_notice("%s", line);
	return true;
}

int stats_emit(time_t now, bool with_sessions)
{
	int lines = 0;
	long period;
	size_t n;

	pthread_mutex_lock(&stats_lock);
	period = (long)(now - stats_last_emit);
	if (period < 0)
		period = 0;
	stats_last_emit = now;
	n = atomic_load_explicit(&stats_nslots, memory_order_acquire);
	for (size_t i = 0; i < n; i++)
		lines += stats_emit_slot(&stats_slots[i], period, with_sessions);
	lines += stats_emit_slot(&stats_other, period, with_sessions);
	pthread_mutex_unlock(&stats_lock);
	return lines;
}

long stats_peek(unsigned port, const char *label, const char *counter)
{
	struct pg_stats_slot *s;
	int c = -1;

	for (int i = 0; i < STATS_COUNT; i++)
		if (counter != NULL && strcmp(counter, stats_names[i]) == 0)
			c = i;
	if (c < 0)
		return -1;
	if (label == NULL || port != 0)
		label = "";
	if (port == 0 && strcmp(label, "other") == 0)
		s = &stats_other;
	else
		s = stats_find(atomic_load_explicit(&stats_nslots, memory_order_acquire), port,
		               label);
	if (s == NULL)
		return 0;
	return (long)atomic_load_explicit(&s->c[c], memory_order_relaxed);
}

void stats_reset_all(void)
{
	pthread_mutex_lock(&stats_lock);
	for (size_t i = 0; i < PG_STATS_SLOTS; i++) {
		stats_slots[i].port = 0;
		stats_slots[i].label[0] = '\0';
		for (int c = 0; c < STATS_COUNT; c++)
			atomic_store_explicit(&stats_slots[i].c[c], 0, memory_order_relaxed);
	}
	for (int c = 0; c < STATS_COUNT; c++)
		atomic_store_explicit(&stats_other.c[c], 0, memory_order_relaxed);
	atomic_store_explicit(&stats_nslots, 0, memory_order_release);
	pthread_mutex_unlock(&stats_lock);
}
