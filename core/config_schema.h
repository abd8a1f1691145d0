/*
 * config_schema.h - the pieces of the config loader shared by its files:
 * the schema table (config_schema.c), the setter for each kind of value
 * (config_setters.c) and the walk over the file (config.c). Internal to
 * core/: nothing outside the config module includes it, except unit tests.
 */
#ifndef PG_CONFIG_SCHEMA_H
#define PG_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "config.h"
#include "config_values.h"

enum scope {
	SC_TOP = 0,
	SC_LOG,
	SC_RELAY,
	SC_POLICYD,
	SC_MILTER,
	SC_REPLIES,      /* keys: rule names (names.c) */
	SC_PORT,         /* one entry of ports = ( ... ) */
	SC_PORT_REPLIES, /* keys: rule names */
	SC_COUNT
};

enum kind {
	K_GROUP,         /* { ... } holding the keys of scope `opens` */
	K_PORTS,         /* ( { ... }, ... ) of SC_PORT entries */
	K_REPLIES,       /* { rule = "CODE ESC text"; ... } */
	K_UINT,          /* integer min..max */
	K_BOOL,          /* true / false */
	K_NAMED,         /* a word from a names.c table, stored as the enum */
	K_ROLE,          /* K_NAMED role of a port entry: read before its other keys */
	K_WORD,          /* a word from `words`, stored as int */
	K_TLS_MIN,       /* "none", "TLSv1" ... "TLSv1.3" */
	K_OCTAL,         /* "0660" */
	K_ACCOUNT,       /* user or group name, length min..max, into char[max + 1] */
	K_LABEL,         /* service label of a port entry */
	K_POLICY_LISTEN, /* [ "unix:/path", "inet:host:port" ] */
	K_MILTER_LISTEN, /* "unix:/path" | "inet:port@host" ... */
	K_DOMAINS,       /* [ "example.org", ".example.org" ] */
	K_DOMAINS_FILE,  /* path of a file with one domain per line */
	K_NETS,          /* [ "192.0.2.0/24", "2001:db8::/32" ] */
	K_CERTS,         /* [ "AB:CD:..." ] */
	K_CIPHERS,       /* OpenSSL cipher string, TLS <= 1.2 */
	K_SUITES         /* OpenSSL TLS 1.3 cipher suites */
};

struct config_word {
	const char *word;
	int value;
};

struct config_key {
	enum scope scope;
	const char *name;
	enum kind kind;
	const char *def;    /* default as libconfig value text; NULL: see kind / role */
	long long min, max; /* K_UINT range; K_ACCOUNT length */
	const struct config_word *words; /* K_WORD */
	size_t nwords;
	const char *(*name_of)(unsigned); /* K_NAMED, K_ROLE */
	unsigned nnames;
	size_t off;       /* field in struct pg_config, or struct pg_port in SC_PORT */
	enum scope opens; /* K_GROUP, K_PORTS, K_REPLIES */
	bool reload;      /* a reload applies it; false: needs a restart */
	const char *hint; /* appended to range errors */
};

extern const struct config_key config_schema[];
extern const size_t config_schema_count;

struct config_loader {
	struct pg_config *cfg;
	char *err;
	size_t errlen;
	struct pg_reply replies[PG_RULE_COUNT]; /* top-level replies, start of every port */
	struct config_domains domains;
	const config_setting_t *ciphers, *suites; /* of the port entry being read */
};

typedef bool (*config_setter)(struct config_loader *ld, const struct config_key *k,
                              const config_setting_t *s, void *obj);

/* One setter per kind, indexed by enum kind. */
extern const config_setter config_setters[];

/* The key that opens scope sc (its group), NULL for SC_TOP. */
const struct config_key *config_scope_parent(enum scope sc);
/* "log.level", "ports.replies.cipher", "mode". */
void config_key_path(enum scope sc, const char *name, char *buf, size_t len);

/* Write "file:line: message" (or "file: message") into ld->err; return false. */
bool config_fail(struct config_loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* config_fail() with the key's dotted path before why. */
bool config_fail_key(struct config_loader *ld, const struct config_key *k,
                     const config_setting_t *s, const char *why);
/* Every key of group grp must be a key of scope sc (else: unknown key). */
bool config_check_unknown(struct config_loader *ld, enum scope sc, const config_setting_t *grp);

/* In config.c: read the keys of scope sc from grp (NULL: all defaults). */
bool config_walk_keys(struct config_loader *ld, enum scope sc, const config_setting_t *grp,
                      void *obj);
/* In config.c: one ports entry e into p (index: its position). */
bool config_port_entry(struct config_loader *ld, const config_setting_t *e, struct pg_port *p,
                       size_t index);

/* The schema table, for tests and docs: key i as a dotted path ("log.level";
 * port keys as "ports.tls"), NULL past the end. */
const char *config_schema_key(size_t i, bool *reloadable);

#endif
