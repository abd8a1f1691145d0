/*
 * mtafacts.h - local domains, trusted networks and the origin domain read
 * from the MTA's own configuration (Postfix through postconf/postmap,
 * Sendmail from sendmail.cf), merged into a loaded config.
 *
 * Only config_load() calls mtafacts_apply(), at start, on every reload and
 * for -n; nothing here runs on the decision path. A fact that cannot be read
 * completely (a command that fails, times out or says too much, a lookup
 * table that cannot be listed) is an error naming it: never a partial list.
 * Differences between the MTA's lists and portguard's own are warned about
 * (log.h). mtafacts_check_domains() refuses a relay-role port in enforce
 * mode with no local domain known.
 */
#ifndef PG_MTAFACTS_H
#define PG_MTAFACTS_H

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "config_schema.h"

enum pg_from_mta { PG_MTA_NONE = 0, PG_MTA_POSTFIX, PG_MTA_SENDMAIL, PG_MTA_AUTO };

/* Bounds: a command's run time and output, a line of a file we read. */
#define MTAFACTS_TIMEOUT_MS  10000
#define MTAFACTS_OUTPUT_MAX  (4u << 20) /* bytes of stdout of one command */
#define MTAFACTS_STDERR_MAX  512        /* bytes of stderr quoted in an error */
#define MTAFACTS_LINE_MAX    4096       /* one line of a list file or sendmail.cf */
#define MTAFACTS_NESTING_MAX 4          /* a file or table naming another */

/* What the MTA says, before it is merged: strings as the MTA wrote them. */
struct mtafacts {
	char **domains; /* ".example.org" for subdomains */
	size_t ndomains;
	char **nets;
	size_t nnets;
	char *origin; /* NULL: unknown, or not appended */
};

void mtafacts_clear(struct mtafacts *f);

/* Run argv[0] (searched in PATH, or /usr/sbin:/usr/bin:/sbin:/bin) with
 * argv; stdout (at most max bytes, NUL-terminated) into *out. false with
 * "command: why (stderr)" in why when it cannot start, runs longer than
 * timeout_ms, writes more than max bytes or exits non-zero. */
bool mtafacts_run(char *const argv[], unsigned timeout_ms, size_t max, char **out, char *why,
                  size_t whylen);

/* The kinds of entry of a Postfix list (mydestination, mynetworks, ...). */
enum mtafacts_entry {
	MTA_ENTRY_VALUE,     /* a domain or network */
	MTA_ENTRY_FILE,      /* a path: a file of more entries */
	MTA_ENTRY_POSTMAP,   /* hash:, btree:, lmdb:, cdb:, dbm:, sdbm: listed by postmap -s */
	MTA_ENTRY_TEXTFILE,  /* texthash:, cidr:: "key value" lines, the keys */
	MTA_ENTRY_INLINE,    /* inline:{ key=value, ... }: the keys */
	MTA_ENTRY_UNLISTABLE /* anything else "type:..." (mysql:, ldap:, tcp:, static:, ...) */
};

/* Which kind entry is; the table's type ("hash") into type. "!x" is
 * unlistable (a negation portguard's lists cannot hold). */
enum mtafacts_entry mtafacts_entry_kind(const char *entry, char *type, size_t typelen);

/* Split a Postfix list value (separated by spaces, tabs, commas; "{ ... }"
 * kept whole) in place: entries into v (at most max). Returns the count or
 * -1 when there are more than max or a brace is not closed. */
int mtafacts_split(char *s, char **v, int max);

/* Parse `postconf -xh` output of the n parameters asked for: line i into
 * values[i] (pointers into out, which is changed). false when the count of
 * lines differs. */
bool mtafacts_postconf_lines(char *out, char **values, size_t n);

/* One line of sendmail.cf: Cw/CR words into f->domains, Dj and Dm into *j and *m
 * (malloc'd), Fw/FR files into files[*nfiles] (malloc'd path, with
 * optional[] set for "-o"). false with why on a line portguard cannot use
 * (a program "F|..." class). */
bool mtafacts_sendmail_line(const char *line, struct mtafacts *f, char **j, char **m, char **files,
                            bool *optional, size_t *nfiles, size_t maxfiles, char *why,
                            size_t whylen);

/* The MTA cfg->relay.from_mta names; for "auto" Postfix when
 * postfix_config_directory holds a main.cf, else Sendmail when sendmail_cf
 * exists, else -1 with why. */
int mtafacts_kind(const struct pg_config *cfg, char *why, size_t whylen);

/* Read what cfg->relay.from_mta names into f (nothing for "none"). */
bool mtafacts_read(const struct pg_config *cfg, struct mtafacts *f, char *why, size_t whylen);

/* The check of relay.postfix_config_directory and relay.sendmail_cf: an
 * absolute path that fits the field. */
config_check mtafacts_set_path;

/* After the file is read (root: its settings, for line numbers): read the
 * MTA when relay.from_mta says so, warn about differences and merge. */
bool mtafacts_apply(struct pg_config *cfg, const config_setting_t *root, char *err, size_t errlen);

/* A relay-role port in enforce mode with no local domain known at all is an
 * error ("file:line: ..." in err): it would refuse every inbound message.
 * The daemons check it at start, reload and -n (daemon.c). */
bool mtafacts_check_domains(const struct pg_config *cfg, char *err, size_t errlen);

/* On reload: one line saying what changed in the local domains and trusted
 * networks (counts and a few added and removed entries); nothing when
 * nothing changed. */
void mtafacts_log_changes(const struct pg_config *old, const struct pg_config *fresh);

#endif
