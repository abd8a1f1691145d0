/*
 * engine.c - one decision and everything around it, for both front ends.
 *
 * Port identity: config_port_lookup() on the facts' server port and label;
 * a port with no entry gets default_role and report_unknown_port()'s warning
 * (once per port per process). The stats slot is keyed by the entry's
 * number, or its label when it has none; for a port with no entry, by the
 * number the MTA sent. Then, in this order: the transaction and recipient
 * counts, policy_decide(), the objection count, the plaintext-AUTH alarm
 * (once per session), the implicit-TLS error (whichever rule decided:
 * plaintext AUTH comes before "TLS required", and both mean the MTA is not
 * wrapping that port), the front end's check that it can send the verdict
 * (on_error through policy_internal_error() if not), and last the decision
 * line, so that it says what the MTA was told. Nothing here allocates or
 * fails; the counters are atomic and the rest is per session, so milter
 * threads call it concurrently.
 */
#include "engine.h"
#include "report.h"

/* The entry and stats slot for the facts' port; false when no entry names it. */
static bool engine_identify(const struct pg_config *cfg, const struct pg_facts *f,
                            const struct pg_port **port, struct pg_stats_slot **slot)
{
	bool known;
	const struct pg_port *p = config_port_lookup(cfg, f->server_port, f->service_label, &known);

	if (known && p->port == 0)
		*slot = stats_slot(0, p->name, p->role);
	else
		*slot = stats_slot(known ? p->port : f->server_port, "", p->role);
	*port = p;
	return known;
}

static bool engine_named(const struct pg_facts *f)
{
	return f->server_port != 0 || (f->service_label != NULL && f->service_label[0] != '\0');
}

enum engine_identity engine_connect(const struct pg_config *cfg, struct engine_session *s,
                                    const struct pg_facts *f)
{
	s->connected = true;
	if (engine_identify(cfg, f, &s->port, &s->slot))
		return ENGINE_PORT_KNOWN;
	if (!engine_named(f))
		return ENGINE_PORT_UNNAMED;
	report_unknown_port(cfg, f->server_port, f->service_label);
	return ENGINE_PORT_UNKNOWN;
}

void engine_decide(const struct pg_config *cfg, struct engine_session *s,
                   const struct pg_facts *f, struct pg_verdict *v)
{
	const struct pg_port *port = s->port;
	struct pg_stats_slot *slot = s->slot;
	const char *why;

	if (!s->connected) {
		if (!engine_identify(cfg, f, &port, &slot))
			report_unknown_port(cfg, f->server_port, f->service_label);
		if (f->new_transaction)
			s->alarm_sent = false;
	}
	if (f->new_transaction)
		stats_add_transaction(slot, f, !s->connected);
	if (f->stage == PG_STAGE_RCPT)
		stats_add_recipient(slot);

	policy_decide(cfg, port, f, v);
	if (v->rule != PG_RULE_NONE)
		stats_add_verdict(slot, v);
	if (v->rule == PG_RULE_PLAINTEXT_AUTH && !s->alarm_sent) {
		report_plaintext_auth(port, f);
		s->alarm_sent = true;
	}
	if (v->rule != PG_RULE_NONE && port->tls == PG_TLS_IMPLICIT && !policy_is_tls(f))
		report_implicit_plaintext(port, f);
	if (s->untellable != NULL && (why = s->untellable(v)) != NULL)
		policy_internal_error(cfg, why, v);
	report_decision(port, f, v);
}

void engine_repeat(struct engine_session *s, const struct pg_facts *f)
{
	if (s->connected && f->stage == PG_STAGE_RCPT)
		stats_add_recipient(s->slot);
}

void engine_close(struct engine_session *s, const struct pg_facts *f)
{
	if (s->connected)
		stats_add_session(s->slot, f);
}
