/*
 * config.h - portguard.conf: load, validate, and the immutable result.
 *
 * config_load() reads a libconfig file, walks the one schema table in config.c,
 * rejects unknown keys and bad values with "file:line: message", fills a
 * struct pg_config and returns it. Nothing changes a loaded config afterwards;
 * readers share it through config_retain()/config_release() (the milter's
 * threads) or own it outright (policyd's single event loop). A reload builds a
 * new one and swaps the pointer; a failed load leaves the caller's config alone.
 */
#ifndef PG_CONFIG_H
#define PG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "pg_limits.h"
#include "relay.h"
#include "strset.h"

enum pg_mode { PG_MODE_ENFORCE = 0, PG_MODE_MONITOR };
enum pg_on_error { PG_ONERR_TEMPFAIL = 0, PG_ONERR_ACCEPT };
enum pg_role { PG_ROLE_RELAY = 0, PG_ROLE_SUBMISSION };
enum pg_tls_mode { PG_TLS_OPTIONAL = 0, PG_TLS_STARTTLS, PG_TLS_IMPLICIT };
enum pg_auth_mode { PG_AUTH_OPTIONAL = 0, PG_AUTH_REQUIRED, PG_AUTH_FORBIDDEN };

/* TLS protocol versions, ordered so that comparison is "<". PG_TLS_NONE:
 * plaintext, or no minimum configured; PG_TLS_UNKNOWN: a version string we
 * do not know, newer than all. */
enum pg_tls_version {
	PG_TLS_NONE = 0,
	PG_TLS_SSLV3,
	PG_TLS_V1_0,
	PG_TLS_V1_1,
	PG_TLS_V1_2,
	PG_TLS_V1_3,
	PG_TLS_UNKNOWN
};

/* Decision rules, numbered 1..7 in the order of SPEC's table, each with its
 * one spelling: the config's reply key (replies.WORD), the log's rule=WORD
 * and the stats line's reject_WORD=. X(rule, "word") for each, in rule order;
 * PG_RULE_NONE (0) means "no objection". */
#define PG_RULE_WORDS(X)                                                                           \
	X(PG_RULE_PLAINTEXT_AUTH, "plaintext_auth")                                                \
	X(PG_RULE_AUTH_FORBIDDEN, "auth_forbidden")                                                \
	X(PG_RULE_TLS_REQUIRED, "tls_required")                                                    \
	X(PG_RULE_TLS_VERSION, "tls_version")                                                      \
	X(PG_RULE_CIPHER, "cipher")                                                                \
	X(PG_RULE_AUTH_REQUIRED, "auth_required")                                                  \
	X(PG_RULE_RELAY, "relay")
#define PG_RULE_ENUM(rule, word) rule,
enum pg_rule { PG_RULE_NONE = 0, PG_RULE_WORDS(PG_RULE_ENUM) PG_RULE_COUNT };

/* One SMTP reply: "538 5.7.11 text". Text may contain "%m" (configured minimum
 * TLS version) and, for the relay rule, "%r" (the sanitised recipient). */
struct pg_reply {
	unsigned code; /* 400..599 */
	char esc[16];  /* enhanced status code, first digit matches code */
	char text[256];
};

struct pg_port {
	unsigned port;               /* 0: matches by name only */
	char name[PG_MAX_LABEL + 1]; /* service label, "" none */
	enum pg_role role;
	enum pg_tls_mode tls;
	enum pg_auth_mode auth;
	enum pg_mode mode;
	enum pg_tls_version min_tls;
	unsigned min_cipher_bits;
	bool allow_plaintext_auth;
	bool restrict_ciphers;    /* ciphers or tls13_ciphersuites was set */
	struct pg_strset ciphers; /* accepted OpenSSL cipher names, expanded at load */
	struct pg_reply replies[PG_RULE_COUNT];
	unsigned line; /* config line of this entry, 0 for the default entry */
};

struct pg_config {
	char *path;
	enum pg_mode mode;
	enum pg_on_error on_error;
	enum pg_role default_role;
	int log_facility;        /* LOG_MAIL etc. */
	int log_level;           /* LOG_NOTICE etc.; LOG_INFO logs "pass" lines */
	unsigned stats_interval; /* seconds, 0 = never by timer */
	struct pg_relay relay;
	struct pg_port ports[PG_MAX_PORTS];
	size_t nports;
	struct pg_port default_port; /* applied to unknown ports, built from default_role */
	char user[64];
	char group[64]; /* socket group, "" = user's primary group */
	bool allow_root;
	char state_directory[192]; /* the counters' state files; "" = none */
	char metrics_file[192];    /* Prometheus textfile (core/metrics.c); "" = none */
	unsigned metrics_interval; /* seconds between its writes */
	/* policyd */
	char *policyd_listen[PG_MAX_LISTEN];
	size_t policyd_nlisten;
	unsigned policyd_socket_mode;
	unsigned policyd_idle_timeout; /* seconds */
	unsigned policyd_max_connections;
	unsigned policyd_request_timeout;          /* seconds from a request's first byte */
	unsigned policyd_max_connections_per_peer; /* inet; 0: no limit */
	/* milter */
	char *milter_listen;
	unsigned milter_socket_mode;
	unsigned milter_timeout; /* libmilter smfi_settimeout, seconds */
	/* reference count, used by the milter; policyd owns its config outright. */
	unsigned refs;
};

/*
 * Load and validate path. On success returns a config with refs == 1.
 * On failure returns NULL and writes "file:line: message" (or "file: message")
 * into err.
 */
struct pg_config *config_load(const char *path, char *err, size_t errlen);
void config_free(struct pg_config *cfg);

/*
 * On reload: the dotted names of every key whose value differs between old
 * and new but applies only at start (listen sockets, socket modes, user,
 * group, allow_root, milter.timeout), in schema order and separated by ", ",
 * written to buf (cut with "..." if it does not fit). ignore(key, arg), when
 * not NULL, drops keys the calling daemon does not use. Returns how many keys
 * were written; 0 leaves buf "". The caller applies the new config anyway and
 * logs that a restart is needed for those keys.
 */
size_t config_restart_needed(const struct pg_config *old, const struct pg_config *new,
                             bool (*ignore)(const char *key, void *arg), void *arg, char *buf,
                             size_t buflen);

/* Thread-safe reference counting (one mutex; count and free under it). */
struct pg_config *config_retain(struct pg_config *cfg);
void config_release(struct pg_config *cfg);

/*
 * The entry for a session: an entry whose name equals label (the sturdier
 * identity behind NAT and proxies) wins; else an entry whose port equals port;
 * else the default entry, and *known is set false. label may be NULL or "".
 */
const struct pg_port *config_port_lookup(const struct pg_config *cfg, unsigned port,
                                         const char *label, bool *known);

/* A word of the config (and of the logs) and the value it stands for. Every
 * list ends with {NULL, 0}; nothing counts a list by hand. */
struct config_word {
	const char *word;
	int value;
};

extern const struct config_word config_mode_words[], config_role_words[], config_tls_words[],
    config_auth_words[], config_rule_words[], config_tls_version_words[];

/* The word of value in list w; "?" when it has none. The names in logs and
 * stats ("submission", "starttls", "TLSv1.2", ...) are the config's words. */
const char *config_word_name(const struct config_word *w, int value);
#define config_role_name(role)      config_word_name(config_role_words, (int)(role))
#define config_mode_name(mode)      config_word_name(config_mode_words, (int)(mode))
#define config_tls_mode_name(tls)   config_word_name(config_tls_words, (int)(tls))
#define config_auth_mode_name(auth) config_word_name(config_auth_words, (int)(auth))
#define tls_version_name(v)         config_word_name(config_tls_version_words, (int)(v))
const char *config_rule_name(enum pg_rule rule); /* "none", "plaintext_auth", ..., "relay" */

/* Fill a port entry with the defaults of its role (the schema table in
 * config.c), mode enforce and SPEC's replies; port/name/line are 0/"". */
void config_port_defaults(struct pg_port *p, enum pg_role role);

#endif
