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
 *
 * The slots, the start of the period and the coarse time of the last count
 * live in one struct stats_store: the mapping of the state file after
 * stats_persist() (core/statefile.c), else a static stand-in. Counting is
 * the same either way: atomic adds on memory, no system call. Taking the
 * counts and logging them is not one step: a crash between the exchange and
 * the log line loses what that emit took (the instant of a stats line).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "statefile.h"
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

/* Everything that outlives the process: the payload of the state file, or
 * its stand-in in memory when there is no file. Changing it means a new
 * STATS_FILE_VERSION. */
struct stats_store {
	uint32_t nslots_max;          /* PG_STATS_SLOTS */
	uint32_t ncounters;           /* STATS_COUNT */
	_Atomic uint64_t ports;       /* stats_ports_ident() of the config in force */
	_Atomic int64_t period_start; /* the previous emit, or the start */
	_Atomic int64_t last_update;  /* coarse wall-clock second of the last count */
	atomic_int clean;             /* 1: stopped after its final stats line */
	_Atomic uint32_t nslots;      /* published slots */
	struct pg_stats_slot slots[PG_STATS_SLOTS];
	struct pg_stats_slot other;
};

#define STATS_FILE_VERSION 1

/* Cumulative counts of this process, for the metrics file (stats_totals):
 * in memory only, beside the slots (index i: S->slots[i]; PG_STATS_SLOTS:
 * the other slot). emitted[] grows by what each emit took, under
 * stats_lock; would[] counts monitor-mode objections by rule, atomically. */
struct stats_cumulative {
	unsigned long emitted[STATS_COUNT];
	_Atomic unsigned long would[PG_RULE_COUNT];
};

static struct stats_store stats_mem = {.other = {.other = true}};
static struct stats_cumulative stats_cum[PG_STATS_SLOTS + 1];
static struct stats_store *S = &stats_mem;
static struct statefile stats_file = {.fd = -1};
static bool stats_with_sessions;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

void stats_init(time_t now)
{
	pthread_mutex_lock(&stats_lock);
	atomic_store_explicit(&S->period_start, (int64_t)now, memory_order_relaxed);
	atomic_store_explicit(&S->last_update, (int64_t)now, memory_order_relaxed);
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
		if (stats_key_eq(&S->slots[i], port, label))
			return &S->slots[i];
	return NULL;
}

struct pg_stats_slot *stats_slot(unsigned port, const char *label, enum pg_role role)
{
	struct pg_stats_slot *s;
	size_t n;

	if (label == NULL || port != 0)
		label = "";
	n = atomic_load_explicit(&S->nslots, memory_order_acquire);
	s = stats_find(n, port, label);
	if (s == NULL) {
		pthread_mutex_lock(&stats_lock);
		n = atomic_load_explicit(&S->nslots, memory_order_relaxed);
		s = stats_find(n, port, label);
		if (s == NULL && n < PG_STATS_SLOTS) {
			s = &S->slots[n];
			s->port = port;
			snprintf(s->label, sizeof s->label, "%s", label);
			atomic_store_explicit(&S->nslots, (uint32_t)n + 1, memory_order_release);
		}
		pthread_mutex_unlock(&stats_lock);
		if (s == NULL)
			s = &S->other;
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

/* The coarse clock is read in user space (vDSO): no system call. The store
 * happens once a second at most, so threads do not fight over the line. */
static void stats_touch(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (atomic_load_explicit(&S->last_update, memory_order_relaxed) != (int64_t)ts.tv_sec)
		atomic_store_explicit(&S->last_update, (int64_t)ts.tv_sec, memory_order_relaxed);
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
	stats_touch();
	stats_inc(s, STATS_SESSIONS);
	stats_add_tls(s, f);
}

void stats_add_transaction(struct pg_stats_slot *s, const struct pg_facts *f, bool count_tls)
{
	stats_touch();
	stats_inc(s, STATS_TRANSACTIONS);
	if (count_tls)
		stats_add_tls(s, f);
}

void stats_add_recipient(struct pg_stats_slot *s)
{
	stats_touch();
	stats_inc(s, STATS_RECIPIENTS);
}

/* The slot's cumulative counts. */
static struct stats_cumulative *stats_cum_of(const struct pg_stats_slot *s)
{
	return &stats_cum[s->other ? PG_STATS_SLOTS : (size_t)(s - S->slots)];
}

void stats_add_verdict(struct pg_stats_slot *s, const struct pg_verdict *v)
{
	if (v->rule <= PG_RULE_NONE || v->rule >= PG_RULE_COUNT)
		return;
	stats_touch();
	stats_inc(s, (enum stats_counter)(STATS_REJECT_FIRST + v->rule - 1));
	if (v->would_reject) {
		stats_inc(s, STATS_WOULD_REJECT);
		atomic_fetch_add_explicit(&stats_cum_of(s)->would[v->rule], 1,
		                          memory_order_relaxed);
	} else if (v->action == PG_ACT_REJECT)
		stats_inc(s, STATS_REJECTED);
}

/* The slot's port as the stats line names it: the number, the label, "-"
 * (no port, no label) or "other". */
static void stats_port_word(const struct pg_stats_slot *s, char *port, size_t len)
{
	if (s->other)
		snprintf(port, len, "other");
	else if (s->port != 0)
		snprintf(port, len, "%u", s->port);
	else
		log_sanitise(port, len, s->label[0] != '\0' ? s->label : "-");
}

static const char *stats_role_word(const struct pg_stats_slot *s)
{
	return s->other ? "-"
	                : config_role_name(
	                      (enum pg_role)atomic_load_explicit(&s->role, memory_order_relaxed));
}

/* Take this slot's counts (zeroing them) and log its line if it saw traffic;
 * tail (a recovered line's fields) goes at its end. */
static bool stats_emit_slot(struct pg_stats_slot *s, long period, bool with_sessions,
                            const char *tail)
{
	unsigned long v[STATS_COUNT];
	bool any = false;
	char line[PG_LOG_LINE_MAX];
	char port[PG_MAX_LABEL * 4 + 1];
	size_t len;

	for (int i = 0; i < STATS_COUNT; i++) {
		v[i] = atomic_exchange_explicit(&s->c[i], 0, memory_order_relaxed);
		stats_cum_of(s)->emitted[i] += v[i];
		any |= v[i] != 0;
	}
	if (!any)
		return false;
	stats_port_word(s, port, sizeof port);
	const char *role = stats_role_word(s);
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
	/* A recovered line (tail set) is a warning: it is logged while the
	 * daemon starts, when only warnings reach syslog as well as stderr, and
	 * it is the count of a run that crashed. */
	log_at(tail[0] != '\0' ? LOG_WARNING : LOG_NOTICE, "%s%s", line, tail);
	return true;
}

/* Every slot's line; the caller holds stats_lock. */
static int stats_emit_all(long period, bool with_sessions, const char *tail)
{
	int lines = 0;
	size_t n = atomic_load_explicit(&S->nslots, memory_order_acquire);

	for (size_t i = 0; i < n; i++)
		lines += stats_emit_slot(&S->slots[i], period, with_sessions, tail);
	lines += stats_emit_slot(&S->other, period, with_sessions, tail);
	return lines;
}

int stats_emit(time_t now, bool with_sessions)
{
	int lines;
	long period;

	pthread_mutex_lock(&stats_lock);
	period = (long)(now - (time_t)atomic_load_explicit(&S->period_start, memory_order_relaxed));
	if (period < 0)
		period = 0;
	lines = stats_emit_all(period, with_sessions, "");
	atomic_store_explicit(&S->period_start, (int64_t)now, memory_order_relaxed);
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
		s = &S->other;
	else
		s = stats_find(atomic_load_explicit(&S->nslots, memory_order_acquire), port, label);
	if (s == NULL)
		return 0;
	return (long)atomic_load_explicit(&s->c[c], memory_order_relaxed);
}

/* a - b, or 0: the counters are read one by one while threads add, so a
 * part may be ahead of its whole for an instant. */
static unsigned long stats_minus(unsigned long a, unsigned long b)
{
	return a > b ? a - b : 0;
}

/* One slot's cumulative counts: what its emits took plus what waits. */
static void stats_total_of(const struct pg_stats_slot *s, struct stats_total *t)
{
	const struct stats_cumulative *cum = stats_cum_of(s);
	unsigned long c[STATS_COUNT];

	for (int i = 0; i < STATS_COUNT; i++)
		c[i] = cum->emitted[i] + atomic_load_explicit(&s->c[i], memory_order_relaxed);
	stats_port_word(s, t->port, sizeof t->port);
	t->role = stats_role_word(s);
	t->sessions = c[STATS_SESSIONS];
	t->transactions = c[STATS_TRANSACTIONS];
	t->recipients = c[STATS_RECIPIENTS];
	t->plaintext = c[STATS_PLAINTEXT];
	t->tls[0] = c[STATS_TLS13];
	t->tls[1] = c[STATS_TLS12];
	t->tls[2] = c[STATS_TLS11];
	t->tls[3] = c[STATS_TLS10];
	t->tls[4] = stats_minus(c[STATS_TLS],
	                        c[STATS_TLS13] + c[STATS_TLS12] + c[STATS_TLS11] + c[STATS_TLS10]);
	t->auth = c[STATS_AUTH];
	t->auth_plaintext = c[STATS_AUTH_PLAINTEXT];
	for (int r = 0; r < PG_RULE_COUNT; r++) {
		t->would[r] = r == PG_RULE_NONE
		                  ? 0
		                  : atomic_load_explicit(&cum->would[r], memory_order_relaxed);
		t->refused[r] =
		    r == PG_RULE_NONE ? 0 : stats_minus(c[STATS_REJECT_FIRST + r - 1], t->would[r]);
	}
}

size_t stats_totals(struct stats_total *out, size_t max)
{
	size_t n, k = 0;

	pthread_mutex_lock(&stats_lock);
	n = atomic_load_explicit(&S->nslots, memory_order_acquire);
	for (size_t i = 0; i < n && k < max; i++)
		stats_total_of(&S->slots[i], &out[k++]);
	if (k < max) {
		stats_total_of(&S->other, &out[k]);
		/* the other slot only once it counted something */
		if (out[k].transactions + out[k].sessions + out[k].recipients != 0)
			k++;
	}
	pthread_mutex_unlock(&stats_lock);
	return k;
}

/* Zero every slot of S (the caller holds stats_lock or is alone). */
static void stats_clear(void)
{
	memset(stats_cum, 0, sizeof stats_cum);
	for (size_t i = 0; i < PG_STATS_SLOTS; i++) {
		S->slots[i].port = 0;
		S->slots[i].label[0] = '\0';
		for (int c = 0; c < STATS_COUNT; c++)
			atomic_store_explicit(&S->slots[i].c[c], 0, memory_order_relaxed);
	}
	for (int c = 0; c < STATS_COUNT; c++)
		atomic_store_explicit(&S->other.c[c], 0, memory_order_relaxed);
	S->other.other = true;
	atomic_store_explicit(&S->nslots, 0, memory_order_release);
}

void stats_reset_all(void)
{
	pthread_mutex_lock(&stats_lock);
	if (S != &stats_mem) {
		statefile_close(&stats_file);
		S = &stats_mem;
	}
	stats_clear();
	pthread_mutex_unlock(&stats_lock);
}

/* ---- the state file ---- */

/* The configured ports (number and name), whatever their order. */
static uint64_t stats_ports_ident(const struct pg_config *cfg)
{
	uint64_t ident = cfg->nports;

	for (size_t i = 0; i < cfg->nports; i++) {
		uint64_t h = 14695981039346656037u;
		char key[PG_MAX_LABEL + 16];
		int n = snprintf(key, sizeof key, "%u/%s", cfg->ports[i].port, cfg->ports[i].name);

		for (int k = 0; k < n && k < (int)sizeof key; k++)
			h = (h ^ (unsigned char)key[k]) * 1099511628211u;
		ident += h;
	}
	return ident;
}

static bool stats_any(const struct stats_store *f, size_t n)
{
	for (size_t i = 0; i <= n; i++) {
		const struct pg_stats_slot *s = i < n ? &f->slots[i] : &f->other;
		for (int c = 0; c < STATS_COUNT; c++)
			if (atomic_load_explicit(&s->c[c], memory_order_relaxed) != 0)
				return true;
	}
	return false;
}

/* A bool of a file not yet trusted, as the byte it is (any value). */
static unsigned stats_byte(const bool *b)
{
	return *(const unsigned char *)b;
}

/* statefile_check: a payload is used only if every field is in range and,
 * when it holds counts, it was written for the ports configured now. */
static bool stats_file_check(const void *payload, char *why, size_t whylen, void *arg)
{
	const struct stats_store *f = payload;
	uint32_t n = atomic_load_explicit(&f->nslots, memory_order_relaxed);
	int clean = atomic_load_explicit(&f->clean, memory_order_relaxed);
	bool ok = f->nslots_max == PG_STATS_SLOTS && f->ncounters == STATS_COUNT &&
	          n <= PG_STATS_SLOTS && stats_byte(&f->other.other) == 1 &&
	          (clean == 0 || clean == 1);

	for (uint32_t i = 0; ok && i < n; i++) {
		const struct pg_stats_slot *s = &f->slots[i];
		int role = atomic_load_explicit(&s->role, memory_order_relaxed);

		/* port 0 with no label is the slot of sessions the MTA named no
		 * port for (logged as port=-). */
		ok = memchr(s->label, '\0', sizeof s->label) != NULL && s->port <= 65535 &&
		     stats_byte(&s->other) == 0 &&
		     (role == PG_ROLE_RELAY || role == PG_ROLE_SUBMISSION);
	}
	if (!ok) {
		snprintf(why, whylen, "corrupt counters");
		return false;
	}
	if (stats_any(f, n) &&
	    atomic_load_explicit(&f->ports, memory_order_relaxed) != *(const uint64_t *)arg) {
		snprintf(why, whylen, "its counts are for other ports than the configuration's");
		return false;
	}
	return true;
}

static void stats_time(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/* Log the counts a run left behind, as that period's lines, marked. */
static void stats_recover(void)
{
	int64_t start = atomic_load_explicit(&S->period_start, memory_order_relaxed);
	int64_t end = atomic_load_explicit(&S->last_update, memory_order_relaxed);
	char tail[128], from[32], to[32];

	if (!stats_any(S, atomic_load_explicit(&S->nslots, memory_order_relaxed)))
		return;
	if (end < start)
		end = start;
	stats_time(from, sizeof from, start);
	stats_time(to, sizeof to, end);
	snprintf(tail, sizeof tail, " recovered=1 period_start=%s period_end=%s", from, to);
	log_warnx("state file %s: the previous run ended without its final stats line; its "
	          "counts follow, marked recovered=1",
	          stats_file.path);
	stats_emit_all((long)(end - start), stats_with_sessions, tail);
}

bool stats_persist(const struct pg_config *cfg, const char *name, bool with_sessions, uid_t uid,
                   gid_t gid)
{
	uint64_t ports = stats_ports_ident(cfg);
	char file[64];

	stats_with_sessions = with_sessions;
	if (cfg->state_directory[0] == '\0') {
		log_info("state_directory is empty: counters kept in memory only");
		return false;
	}
	snprintf(file, sizeof file, "%s.stats", name);
	switch (statefile_open(&stats_file, cfg->state_directory, file, STATS_FILE_VERSION,
	                       sizeof *S, stats_file_check, &ports, uid, gid)) {
	case STATEFILE_NONE:
		return false;
	case STATEFILE_FOUND:
		S = stats_file.payload;
		stats_recover();
		break;
	case STATEFILE_NEW:
		S = stats_file.payload;
		S->nslots_max = PG_STATS_SLOTS;
		S->ncounters = STATS_COUNT;
		break;
	}
	stats_clear();
	atomic_store_explicit(&S->ports, ports, memory_order_relaxed);
	atomic_store_explicit(&S->clean, 0, memory_order_relaxed);
	return true;
}

void stats_config(const struct pg_config *cfg)
{
	atomic_store_explicit(&S->ports, stats_ports_ident(cfg), memory_order_relaxed);
}

void stats_stop(time_t now)
{
	if (S == &stats_mem)
		return;
	stats_emit(now, stats_with_sessions);
	atomic_store_explicit(&S->clean, 1, memory_order_relaxed);
	statefile_sync(&stats_file);
}

bool stats_file_clean(void)
{
	return S != &stats_mem && atomic_load_explicit(&S->clean, memory_order_relaxed) == 1;
}
