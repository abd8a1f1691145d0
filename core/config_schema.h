/*
 * config_schema.h - the inside of the config module: the schema table
 * and the word lists (config.c) and the checks of single values
 * (config_values.c). Nothing outside core/config*.c includes it, except
 * mtafacts.c (a check of its own) and the config unit test.
 */
#ifndef PG_CONFIG_SCHEMA_H
#define PG_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "config.h"

/* The generic kinds of value. A row's limits (min, max) bound the integer,
 * the string's length or the list's entries. */
enum config_kind {
	K_GROUP,   /* { ... } holding the rows named "<this row>.<key>" */
	K_ENTRIES, /* ( { ... }, ... ): at most max entries of those rows (ports) */
	K_REPLIES, /* a group of K_REPLY rows, one per rule word */
	K_REPLY,   /* "CODE ESC text" for the rule the key names */
	K_UINT,    /* integer min..max */
	K_BOOL,    /* true / false */
	K_WORD,    /* a word of `words`, stored as int */
	K_OCTAL,   /* file mode "0660" */
	K_STRING,  /* a string, given to `check` */
	K_STRINGS, /* [ "...", ... ]: min..max strings, each given to `check` */
};

struct config_loader;
struct config_key;

/* Checks and stores one string value s (the setting v), into obj (struct
 * pg_config, or struct pg_port for a ports row); on error config_fail(). */
typedef bool config_check(struct config_loader *ld, const struct config_key *k,
                          const config_setting_t *v, const char *s, void *obj);

struct config_key {
	const char *name; /* dotted path: "log.level"; a ports entry's keys: "ports.tls" */
	enum config_kind kind;
	const char *def;         /* default as libconfig value text, NULL: see role_def / unset */
	const char *role_def[2]; /* ports rows: default for each enum pg_role */
	long long min, max;      /* bounds of the integer, length or count */
	const struct config_word *words; /* K_WORD */
	size_t off, size;                /* the field, in struct pg_config or struct pg_port */
	bool heap;                       /* the field is a malloc'd char * (or an array of them) */
	config_check *check;             /* K_STRING, K_STRINGS */
	bool start_only;                 /* a reload does not apply it: needs a restart */
	const char *hint;                /* appended to range errors */
};

extern const struct config_key config_schema[];
extern const size_t config_schema_count;

struct config_loader {
	struct pg_config *cfg;
	char *err;
	size_t errlen;
	const config_setting_t *ciphers, *suites; /* of the ports entry being read */
};

/* Write "file:line: key: message" (without "key: " when k is NULL; "file:
 * message" when s has no line) into ld->err; return false. */
bool config_fail(struct config_loader *ld, const struct config_key *k, const config_setting_t *s,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The checks named on the rows (config_values.c). */
config_check config_set_account, config_set_label, config_add_socket, config_add_domains,
    config_add_nets, config_add_cert, config_keep_ciphers, config_keep_suites, config_set_origin,
    config_set_directory;

#endif
