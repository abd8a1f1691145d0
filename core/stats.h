/*
 * stats.h - per-port counters and the stats line of SPEC.
 *
 * A slot per port (keyed by port number, or by label when the entry has no
 * number) holds atomic counters, so milter threads add without a lock; slot
 * creation takes a mutex once per new port. stats_emit() logs one line per
 * slot that saw traffic and resets it, so consecutive lines can be summed.
 * Slots survive config reloads. Past PG_STATS_SLOTS ports, further ones are
 * counted in a slot logged as port=other.
 *
 * With stats_persist() the counters live in a state file mapped into memory
 * (core/statefile.c), so the counts since the last line survive a crash: the
 * next start logs them as that period's lines, with " recovered=1
 * period_start=T period_end=T" at the end (UTC; the end is the last second
 * a count was added). Counting itself stays free of system calls.
 */
#ifndef PG_STATS_H
#define PG_STATS_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "policy.h"

struct pg_stats_slot;

void stats_init(time_t now);
/* Find or create the slot for this port; never NULL. */
struct pg_stats_slot *stats_slot(unsigned port, const char *label, enum pg_role role);

/* One call per session seen from its start (the milter's, through
 * engine_close()), when it closes (TLS "at any point"). */
void stats_add_session(struct pg_stats_slot *s, const struct pg_facts *f);
/* One call per transaction. count_tls: TLS, version and auth counted per
 * transaction, for a front end that cannot see sessions (policyd). */
void stats_add_transaction(struct pg_stats_slot *s, const struct pg_facts *f, bool count_tls);
void stats_add_recipient(struct pg_stats_slot *s);
/* Every decision that objected (enforced or monitor). */
void stats_add_verdict(struct pg_stats_slot *s, const struct pg_verdict *v);

/* Log one "stats:" line per slot with traffic since the last emit, reset the
 * counters, and return the number of lines written. sessions=: only when
 * with_sessions (the milter). */
int stats_emit(time_t now, bool with_sessions);

/* Test hook: read a counter by its name in the stats line ("transactions",
 * "TLSv1.3", "reject_relay", ...). Returns -1 if unknown. */
long stats_peek(unsigned port, const char *label, const char *counter);

/* A slot's counts since the process started (or stats_reset_all), for the
 * metrics file: counts already in stats lines plus those waiting for the
 * next. Taken under the lock stats_emit() holds, so a total never goes
 * down. Index of tls[]: TLSv1.3, TLSv1.2, TLSv1.1, TLSv1.0, another or
 * unknown version. refused[] (enforced, or on_error's) and would[]
 * (monitor mode) by enum pg_rule; [PG_RULE_NONE] is 0. */
#define STATS_TLS_BUCKETS 5
struct stats_total {
	char port[PG_MAX_LABEL * 4 + 1]; /* as in the stats line */
	const char *role;                /* "relay", "submission", "-" */
	unsigned long sessions, transactions, recipients, plaintext, auth, auth_plaintext;
	unsigned long tls[STATS_TLS_BUCKETS];
	unsigned long refused[PG_RULE_COUNT], would[PG_RULE_COUNT];
};

/* Fill out[] with up to max slots (ports, then "other" once it counted);
 * returns how many. */
size_t stats_totals(struct stats_total *out, size_t max);

/* Forget all slots, and the state file if one is open (tests; policyd at
 * exit). */
void stats_reset_all(void);

/* At start, single-threaded, before anything is counted: keep the counters
 * in cfg->state_directory/NAME.stats ("policyd", "milter"). Counts an
 * earlier run left there are logged first (the lines above, sessions= when
 * with_sessions), then cleared. A file that cannot be trusted is set aside
 * with a warning. A file created here is given to uid:gid ((uid_t)-1:
 * leave). false: no file (the reason logged once), counting in memory. */
bool stats_persist(const struct pg_config *cfg, const char *name, bool with_sessions, uid_t uid,
                   gid_t gid);
/* A reload: the ports the file's counts are for. */
void stats_config(const struct pg_config *cfg);
/* A clean stop, after the final stats_emit(): log any count that came in
 * since, mark the file clean and write it out. */
void stats_stop(time_t now);
/* Test hook: a file is open and marked clean. */
bool stats_file_clean(void);

#endif
