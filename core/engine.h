/*
 * engine.h - everything around a decision, written once for both front ends.
 *
 * A front end turns its MTA's protocol into struct pg_facts and calls
 * engine_decide() once per decision. The engine finds the port entry (and
 * warns once about a port no entry names), counts the transaction, the
 * recipient and the objection, asks policy_decide(), raises the
 * plaintext-AUTH alarm (once per session) and the implicit-TLS error,
 * applies on_error when the front end cannot tell its MTA the verdict, and
 * writes the decision line. The front end then only translates the verdict.
 * A new rule, counter or log line is a change here and in core, not in
 * milter/ or policyd/.
 *
 * What the engine remembers between decisions lives in a struct
 * engine_session the front end owns and zeroes when its session starts.
 */
#ifndef PG_ENGINE_H
#define PG_ENGINE_H

#include <stdbool.h>

#include "config.h"
#include "policy.h"
#include "stats.h"

/* The front end's check that it can tell its MTA a verdict: NULL when it
 * can, else why not (logged; on_error then decides). */
typedef const char *(*engine_untellable_fn)(const struct pg_verdict *v);

struct engine_session {
	/*
	 * Set by engine_connect(): one SMTP session seen from its start (the
	 * milter). Its port entry is found once, at connect; TLS and AUTH are
	 * counted per session by engine_close(). Without it (policyd, which sees
	 * requests, not sessions) each decision finds its entry, TLS is counted
	 * per transaction and a transaction is the session of the alarm.
	 */
	bool connected;
	const struct pg_port *port; /* connected: the entry, inside the session's config */
	struct pg_stats_slot *slot; /* connected: where the session's counts go */
	bool alarm_sent;            /* the plaintext-AUTH alarm was raised */
	engine_untellable_fn untellable; /* NULL: the MTA can be told any verdict */
};

enum engine_identity {
	ENGINE_PORT_KNOWN = 0, /* an entry names the port or its label */
	ENGINE_PORT_UNKNOWN,   /* none does: default_role applies; warned once per port */
	ENGINE_PORT_UNNAMED    /* the MTA sent neither port nor label: not warned here,
	                          the front end knows which MTA setting is missing */
};

/* Start a session from its CONNECT facts (server_port, service_label). The
 * config must outlive the session. */
enum engine_identity engine_connect(const struct pg_config *cfg, struct engine_session *s,
                                    const struct pg_facts *f);

/* One decision on f, into v (always set). f->new_transaction counts a
 * transaction, stage RCPT a recipient. */
void engine_decide(const struct pg_config *cfg, struct engine_session *s,
                   const struct pg_facts *f, struct pg_verdict *v);

/* A connected session's recipient that the front end answers with an
 * objection already decided in this transaction (the milter repeats MAIL's):
 * counted, not decided or logged again. */
void engine_repeat(struct engine_session *s, const struct pg_facts *f);

/* End of a connected session: its TLS and AUTH counts. */
void engine_close(struct engine_session *s, const struct pg_facts *f);

#endif
