/*
 * policy.h - the decision: facts in, verdict out.
 *
 * policy_decide() runs SPEC's rules 1-7 in order against one port entry and the
 * facts a front end gathered; the first rule that fails decides. It allocates
 * nothing, does no I/O and cannot fail. Monitor mode is applied here: the
 * verdict keeps the rule and reply but says "would reject". Front ends
 * translate the verdict to their protocol in exactly one place each. At
 * load, the config takes the rules' replies from here (SPEC's, and
 * policy_reply_parse() for its own) and rule 5's cipher names
 * (policy_ciphers_expand()).
 */
#ifndef PG_POLICY_H
#define PG_POLICY_H

#include <stdbool.h>

#include "config.h"

enum pg_stage {
	PG_STAGE_CONNECT = 0,
	PG_STAGE_HELO,
	PG_STAGE_MAIL,
	PG_STAGE_RCPT,
	PG_STAGE_DATA,
	PG_STAGE_EOM,
	PG_STAGE_OTHER /* VRFY, ETRN, ... */
};

/* Everything is borrowed from the caller; strings are never NULL ("" = absent). */
struct pg_facts {
	enum pg_stage stage;
	bool new_transaction;      /* the first decision of a transaction (see engine.h) */
	unsigned server_port;      /* the MTA's port this session came in on; 0 when not sent */
	const char *service_label; /* policy_context or {daemon_name}: names a port entry */
	const char *mta_auth_fix;  /* the MTA setting that refuses AUTH without TLS */
	const char *queue_id;      /* "" -> logged as NOQUEUE */
	const char *client_name;   /* "unknown" when unverified */
	const char *client_addr;   /* textual, without an "IPv6:" prefix */
	unsigned client_port;
	const char *tls_version; /* "" on plaintext */
	const char *cipher;      /* "" on plaintext */
	unsigned cipher_bits;    /* 0 on plaintext */
	const char *sasl_method; /* "" when not authenticated */
	const char *sasl_username;
	const char *ccert_fingerprint; /* as the MTA prints it, "" when none */
	const char *recipient;         /* RCPT stage; "" otherwise */
	bool rcpt_quoted;              /* recipient and rcpt_addr as the client wrote them
	                                  (milter); false: Postfix's dequoted form (policyd) */
	const char *rcpt_mailer;       /* milter only: resolved transport, "" unknown; unused */
	const char *rcpt_host;         /* milter only */
	const char *rcpt_addr;         /* milter only: the MTA's resolved address, "" unknown */
};

enum pg_action {
	PG_ACT_DUNNO = 0, /* no objection: policy DUNNO, milter SMFIS_CONTINUE */
	PG_ACT_REJECT,    /* reply carries a 5xx or 4xx code */
	PG_ACT_TEMPFAIL   /* internal error under on_error=tempfail */
};

struct pg_verdict {
	enum pg_action action; /* what the MTA is told (DUNNO in monitor mode) */
	enum pg_rule rule;     /* the rule that failed, PG_RULE_NONE if none */
	bool would_reject;     /* monitor mode: rule failed but action is DUNNO */
	unsigned code;         /* reply code when rule != NONE or action == TEMPFAIL */
	char esc[16];
	char text[PG_MAX_REPLY]; /* reply text, placeholders expanded, safe to send */
};

/* SPEC's reply for each rule (code, enhanced code, text with %m/%r): where
 * the config's replies start. */
extern const struct pg_reply policy_default_replies[PG_RULE_COUNT];

/* A rule's reply as the config writes it, "CODE ESC text", into out: a 4xx
 * or 5xx code, an enhanced status code starting with the same digit, and
 * printable text in which %m, %% and (rule PG_RULE_RELAY alone) %r are the
 * only %-sequences, the ones policy_decide() expands. false with the reason
 * in why. */
bool policy_reply_parse(const char *s, enum pg_rule rule, struct pg_reply *out, char *why,
                        size_t whylen);

/* What policy_ciphers_expand() found wrong. */
enum policy_ciphers {
	POLICY_CIPHERS_OK = 0,
	POLICY_CIPHERS_NO_TLS,     /* OpenSSL could not create a TLS context */
	POLICY_CIPHERS_BAD_LIST,   /* list matches no cipher */
	POLICY_CIPHERS_BAD_SUITES, /* suites match no TLS 1.3 suite */
	POLICY_CIPHERS_NONE,       /* together they leave no cipher */
	POLICY_CIPHERS_NO_MEMORY
};

/* Rule 5's list, made once at load: the names of the ciphers OpenSSL would
 * offer for the cipher string list (TLS 1.2 and older) and the TLS 1.3
 * suites, each OpenSSL's default when NULL, added to set and indexed. They
 * are OpenSSL's names, the ones the MTA reports for a session's cipher. */
enum policy_ciphers policy_ciphers_expand(const char *list, const char *suites,
                                          struct pg_strset *set);

void policy_decide(const struct pg_config *cfg, const struct pg_port *port,
                   const struct pg_facts *facts, struct pg_verdict *out);

/*
 * The fail mode, applied by one helper: an internal error becomes a 4xx
 * tempfail (on_error = "tempfail") or no objection (on_error = "accept").
 * reason is logged.
 */
void policy_internal_error(const struct pg_config *cfg, const char *reason, struct pg_verdict *out);

/* A session's TLS version as the MTA names it (OpenSSL's words: "TLSv1.2";
 * "TLSv1.0" too): "" or NULL -> PG_TLS_NONE; a word we do not know ->
 * PG_TLS_UNKNOWN. */
enum pg_tls_version tls_version_parse(const char *s);

/* True when the session authenticated (sasl_username or sasl_method set). */
bool policy_is_authenticated(const struct pg_facts *facts);
bool policy_is_tls(const struct pg_facts *facts);

#endif
